//! Time is injected so that tests can drive the engine with a fake clock.

use jiff::Timestamp;

/// The source of "now" for everything that decides by time (UTC).
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Milliseconds since the Unix epoch, the unit every store uses for times.
pub fn epoch_ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

/// The inverse of [`epoch_ms`]; out-of-range values clamp to the representable range.
pub fn from_epoch_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 { Timestamp::MIN } else { Timestamp::MAX })
}

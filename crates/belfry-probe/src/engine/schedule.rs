//! When each monitor runs: on its interval, at a stable per-monitor phase so that a start or a
//! reload never fires every monitor at once, and the same phase after a restart.

use std::collections::VecDeque;
use std::time::Duration;

use jiff::Timestamp;

/// A stable offset in `[0, interval)` derived from the monitor id (FNV-1a).
pub fn phase_offset(id: &str, interval: Duration) -> Duration {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let interval_ms = interval.as_millis().max(1) as u64;
    Duration::from_millis(hash % interval_ms)
}

/// The first slot of the monitor's grid (`k × interval + offset` since the epoch) at or after `now`.
pub fn next_slot(id: &str, interval: Duration, now: Timestamp) -> Timestamp {
    let interval_ms = interval.as_millis().max(1) as i64;
    let offset_ms = phase_offset(id, interval).as_millis() as i64;
    let now_ms = now.as_millisecond();
    let k = (now_ms - offset_ms).div_euclid(interval_ms);
    let mut slot = k * interval_ms + offset_ms;
    if slot < now_ms {
        slot += interval_ms;
    }
    Timestamp::from_millisecond(slot).unwrap_or(now)
}

/// The slot after `due`; when the engine fell behind by more than one interval it skips ahead
/// to the next future slot rather than running a burst of missed checks.
pub fn following_slot(id: &str, interval: Duration, due: Timestamp, now: Timestamp) -> Timestamp {
    let next = due.checked_add(interval).unwrap_or(due);
    if next > now { next } else { next_slot(id, interval, now) }
}

/// A rolling window of recent schedule lags (ms), for `/readyz` and the benchmark.
#[derive(Debug, Default)]
pub struct LagWindow {
    samples: VecDeque<u64>,
}

const LAG_SAMPLES: usize = 4096;

impl LagWindow {
    pub fn record(&mut self, lag_ms: u64) {
        if self.samples.len() == LAG_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(lag_ms);
    }

    /// The `q` quantile (0.0–1.0) of the window, 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.samples.is_empty() {
            return 0;
        }
        let mut sorted: Vec<u64> = self.samples.iter().copied().collect();
        sorted.sort_unstable();
        let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted[rank.min(sorted.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_aligned_and_spread() {
        let interval = Duration::from_secs(10);
        let now = Timestamp::from_second(1_000_000).unwrap();
        let a = next_slot("api", interval, now);
        assert!(a >= now && a < now + interval);
        // The same monitor gets the same grid whatever the time we ask from.
        let later = next_slot("api", interval, a + Duration::from_millis(1));
        assert_eq!(later, a + interval);
        // Different monitors spread across the interval.
        let offsets: std::collections::HashSet<_> =
            (0..100).map(|i| phase_offset(&format!("m{i}"), interval)).collect();
        assert!(offsets.len() > 90);
    }

    #[test]
    fn falling_behind_skips_to_the_next_future_slot() {
        let interval = Duration::from_secs(10);
        let due = next_slot("x", interval, Timestamp::from_second(0).unwrap());
        assert_eq!(following_slot("x", interval, due, due), due + interval);
        let late = due + Duration::from_secs(35);
        let next = following_slot("x", interval, due, late);
        assert!(next > late && next <= late + interval);
    }

    #[test]
    fn lag_quantiles() {
        let mut w = LagWindow::default();
        assert_eq!(w.quantile(0.99), 0);
        for i in 1..=100 {
            w.record(i);
        }
        assert_eq!(w.quantile(0.5), 51);
        assert_eq!(w.quantile(0.99), 99);
    }
}

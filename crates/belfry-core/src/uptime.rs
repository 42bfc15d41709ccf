//! Uptime maths from recorded down periods (principle P8: durations come from data).

use std::time::Duration;

use jiff::Timestamp;

use crate::store::DownPeriod;

/// Time spent down within `[from, to)`.
pub fn downtime(periods: &[DownPeriod], from: Timestamp, to: Timestamp) -> Duration {
    let mut total = Duration::ZERO;
    for p in periods {
        let start = p.start.max(from);
        let end = p.end.unwrap_or(to).min(to);
        if end > start {
            total += end.duration_since(start).try_into().unwrap_or(Duration::ZERO);
        }
    }
    total
}

/// Fraction of `[from, to)` not spent down, in `0.0..=1.0`; `None` for an empty range.
pub fn uptime_ratio(periods: &[DownPeriod], from: Timestamp, to: Timestamp) -> Option<f64> {
    let span: Duration = to.duration_since(from).try_into().ok()?;
    if span.is_zero() {
        return None;
    }
    let down = downtime(periods, from, to);
    Some(1.0 - down.as_secs_f64() / span.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn clips_periods_to_the_range_and_counts_open_ones_until_the_end() {
        let periods =
            [DownPeriod { start: ts(0), end: Some(ts(100)) }, DownPeriod { start: ts(900), end: None }];
        assert_eq!(downtime(&periods, ts(50), ts(1000)), Duration::from_secs(150));
        let ratio = uptime_ratio(&periods, ts(0), ts(1000)).unwrap();
        assert!((ratio - 0.8).abs() < 1e-9);
        assert_eq!(uptime_ratio(&periods, ts(5), ts(5)), None);
    }
}

//! Rollup bucket maths shared by the backends: UTC-aligned buckets in epoch ms, which source
//! feeds which resolution, and the downtime of a bucket.
//!
//! Percentiles are nearest-rank: the p95 of `n` values is the smallest value whose rank
//! (1-based, ascending) is at least `ceil(0.95 * n)`. Minute p95s come from raw durations.
//! Hour p95s are the checks-weighted nearest-rank 95th percentile of the minute p95s, and day
//! p95s the same over the hour p95s: an approximation (a percentile of percentiles), exact
//! when every bucket holds a single check. Counts, min, max and averages stay exact because
//! rows keep sums.

use std::collections::HashMap;

use belfry_core::clock::from_epoch_ms;
use belfry_core::store::{DownPeriod, Resolution};
use belfry_core::uptime::downtime;

use crate::codec::RollupRow;

/// Bucket length in milliseconds.
pub(crate) fn bucket_ms(res: Resolution) -> i64 {
    res.seconds() * 1000
}

/// Start of the bucket holding `ms` (UTC-aligned: epoch time has no leap seconds).
pub(crate) fn floor(ms: i64, res: Resolution) -> i64 {
    ms.div_euclid(bucket_ms(res)) * bucket_ms(res)
}

/// The resolution a resolution's rollups are built from; `None` for raw results.
pub(crate) fn source(res: Resolution) -> Option<Resolution> {
    match res {
        Resolution::Minute => None,
        Resolution::Hour => Some(Resolution::Minute),
        Resolution::Day => Some(Resolution::Hour),
    }
}

/// How many buckets one compaction step covers: bounds the rows one step reads and the time
/// its write transaction holds the lock, while letting a catch-up after downtime proceed in
/// few steps.
pub(crate) fn step_buckets(res: Resolution) -> i64 {
    match res {
        Resolution::Minute => 10,
        Resolution::Hour => 1,
        Resolution::Day => 1,
    }
}

/// How long rollups of a resolution are kept after they are built; `None` forever.
pub(crate) fn retention_ms(res: Resolution) -> Option<i64> {
    match res {
        Resolution::Minute => Some(48 * 3600 * 1000),
        Resolution::Hour => Some(90 * 86_400 * 1000),
        Resolution::Day => None,
    }
}

/// Fills in `downtime_s` (rounded to the nearest second) from each monitor's down periods.
/// Rows exist only for buckets with checks: a bucket without results has no row.
pub(crate) fn add_downtime(
    rows: &mut [RollupRow],
    res: Resolution,
    periods: &HashMap<String, Vec<DownPeriod>>,
) {
    for row in rows {
        let Some(periods) = periods.get(&row.monitor) else { continue };
        let from = from_epoch_ms(row.start);
        let to = from_epoch_ms(row.start + bucket_ms(res));
        row.downtime_s = downtime(periods, from, to).as_secs_f64().round() as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_align_to_utc() {
        let ms = 1_700_000_123_456;
        assert_eq!(floor(ms, Resolution::Minute) % 60_000, 0);
        assert_eq!(floor(ms, Resolution::Day), 1_699_920_000_000);
        assert_eq!(floor(-1, Resolution::Minute), -60_000);
    }

    #[test]
    fn downtime_is_clipped_to_the_bucket() {
        let mut rows = vec![RollupRow {
            monitor: "a".into(),
            start: 60_000,
            checks: 1,
            failures: 1,
            downtime_s: 0,
            latency_min_ms: 1,
            latency_max_ms: 1,
            latency_sum_ms: 1,
            latency_p95_ms: 1,
        }];
        let periods =
            HashMap::from([("a".to_owned(), vec![DownPeriod { start: from_epoch_ms(90_400), end: None }])]);
        add_downtime(&mut rows, Resolution::Minute, &periods);
        assert_eq!(rows[0].downtime_s, 30, "29.6 s rounds to 30");
    }
}

//! Statements both backends run verbatim. Placeholders are `$N`, which PostgreSQL requires and
//! sqlx's SQLite driver reads as `?N`; sums are cast to BIGINT because PostgreSQL widens
//! `SUM(bigint)` to NUMERIC (the cast changes nothing on SQLite).

/// The columns of `results` and `latest_results` a `codec::ResultRow` holds, in its order.
pub(crate) const RESULT_COLUMNS: &str =
    "monitor, region, at, ok, degraded, inconclusive, duration_ms, status, error, extra";

/// The columns of `transitions` a `codec::TransitionRow` holds, in its order.
pub(crate) const TRANSITION_COLUMNS: &str =
    "monitor, from_state, to_state, at, flapping, reason, results, counts_downtime";

/// The tail of an insert into `latest_results` that keeps the newest result per key: an
/// older result (a late write, another node's slower batch) never replaces a newer one.
pub(crate) const LATEST_ON_CONFLICT: &str = " ON CONFLICT (monitor, region) DO UPDATE SET at = excluded.at, \
     ok = excluded.ok, degraded = excluded.degraded, inconclusive = excluded.inconclusive, \
     duration_ms = excluded.duration_ms, status = excluded.status, error = excluded.error, \
     extra = excluded.extra WHERE excluded.at >= latest_results.at";

pub(crate) const STATES_ON_CONFLICT: &str = " ON CONFLICT (monitor) DO UPDATE SET state = excluded.state";

/// The tail of an insert into `rollups`: a rebuilt bucket replaces the stored one.
pub(crate) const ROLLUPS_ON_CONFLICT: &str = " ON CONFLICT (monitor, resolution, start) DO UPDATE SET \
     checks = excluded.checks, failures = excluded.failures, downtime_s = excluded.downtime_s, \
     latency_min_ms = excluded.latency_min_ms, latency_max_ms = excluded.latency_max_ms, \
     latency_sum_ms = excluded.latency_sum_ms, latency_p95_ms = excluded.latency_p95_ms";

pub(crate) const LATEST_RESULTS: &str = "SELECT monitor, region, at, ok, degraded, inconclusive, duration_ms, \
     status, error, extra FROM latest_results ORDER BY monitor, region";

/// `$1` monitor, `$2` since (epoch ms), `$3` limit.
pub(crate) const RESULTS_OF_MONITOR: &str = "SELECT monitor, region, at, ok, degraded, inconclusive, \
     duration_ms, status, error, extra FROM results WHERE monitor = $1 AND at >= $2 \
     ORDER BY at DESC, id DESC LIMIT $3";

/// `$1` before (epoch ms), `$2` chunk size.
pub(crate) const PRUNE_RESULTS: &str =
    "DELETE FROM results WHERE id IN (SELECT id FROM results WHERE at < $1 LIMIT $2)";

// Two statements rather than `$3 IS NULL OR monitor = $3`, which would keep SQLite from using
// the (monitor, at) index.
/// `$1` since, `$2` limit, `$3` monitor.
pub(crate) const TRANSITIONS_OF_MONITOR: &str = "SELECT monitor, from_state, to_state, at, flapping, reason, \
     results, counts_downtime FROM transitions WHERE monitor = $3 AND at >= $1 \
     ORDER BY at DESC, id DESC LIMIT $2";
/// `$1` since, `$2` limit.
pub(crate) const TRANSITIONS_ALL: &str = "SELECT monitor, from_state, to_state, at, flapping, reason, \
     results, counts_downtime FROM transitions WHERE at >= $1 ORDER BY at DESC, id DESC LIMIT $2";

/// A monitor's last transition before `$2` (which tells whether it was down then) and every
/// later one, oldest first: `(to_state, at, counts_downtime)`.
pub(crate) const DOWN_PERIOD_STEPS: &str = "SELECT to_state, at, counts_downtime FROM transitions \
     WHERE monitor = $1 AND (at >= $2 OR id = (SELECT id FROM transitions WHERE monitor = $1 AND at < $2 \
     ORDER BY at DESC, id DESC LIMIT 1)) ORDER BY at, id";

/// Every monitor's transitions in `[$1, $2)` plus its last one before:
/// `(monitor, to_state, at, counts_downtime)`.
pub(crate) const DOWN_PERIOD_STEPS_BETWEEN: &str = "\
SELECT monitor, to_state, at, counts_downtime FROM ( \
  SELECT monitor, to_state, at, counts_downtime, id FROM transitions WHERE at >= $1 AND at < $2 \
  UNION ALL \
  SELECT monitor, to_state, at, counts_downtime, id FROM ( \
    SELECT monitor, to_state, at, counts_downtime, id, \
           ROW_NUMBER() OVER (PARTITION BY monitor ORDER BY at DESC, id DESC) AS rn \
    FROM transitions WHERE at < $1 \
  ) AS before_window WHERE rn = 1 \
) AS steps ORDER BY monitor, at, id";

/// The time of a monitor's first transition at or after `$2`: `(at)`. It ends a counted
/// stretch that is still open before `$2` (a transition into counted `maintenance` is never
/// followed by another one).
pub(crate) const COUNTED_STRETCH_END: &str =
    "SELECT at FROM transitions WHERE monitor = $1 AND at >= $2 ORDER BY at, id LIMIT 1";

/// The regions of monitor `$1` with a conclusive result in `[$from, $to)`: one `EXISTS` probe
/// of the `(monitor, at)` index per region the monitor ever reported from (which
/// `latest_results` lists; it is written with every result). A region that reports stops the
/// probe at its first reading, so the cost follows how soon each region reported, not the
/// range; only a region silent for the whole range walks it. (A `(monitor, region, at)` index
/// would bound that too, but costs every result write: +14 MiB peak RSS in the 20,000-monitor
/// bench, for a feature few monitors use.)
macro_rules! regions_reporting_in {
    ($from:literal, $to:literal) => {
        concat!(
            "SELECT l.region FROM latest_results AS l WHERE l.monitor = $1 AND EXISTS ( \
             SELECT 1 FROM results AS r WHERE r.monitor = $1 AND r.region = l.region \
             AND NOT r.inconclusive AND r.at >= ",
            $from,
            " AND r.at < ",
            $to,
            ")"
        )
    };
}

/// The regions of a monitor's conclusive results in a whole counted maintenance stretch
/// `[$2, $3)` (`$3` `i64::MAX` while it is open: the regions that reported so far): the regions
/// that vote on any part of it. `(region)`. A few index probes, however long the stretch.
pub(crate) const COUNTED_VOTERS: &str = regions_reporting_in!("$2", "$3");

/// A monitor's conclusive results in `[$2, $3)`, part of a counted maintenance stretch
/// `[$4, $5)`, plus what held when the part began: the last result before `$2` of every region
/// that reported in the whole stretch (as `COUNTED_VOTERS`), and the monitor's last one before
/// `$2` whatever its region. Oldest first: `(region, at, ok)`. The part walks the `(monitor,
/// at)` index; everything else walks it backwards from `$2` to the region's newest earlier
/// reading (`LIMIT 1`), a few rows while the regions report in turn.
pub(crate) const COUNTED_RESULTS: &str = concat!(
    "SELECT region, at, ok FROM results WHERE monitor = $1 AND NOT inconclusive AND at >= $2 AND at < $3 \
     UNION ALL \
     SELECT region, at, ok FROM results WHERE id IN ( \
       SELECT (SELECT p.id FROM results AS p WHERE p.monitor = $1 AND p.region = v.region \
               AND NOT p.inconclusive AND p.at < $2 ORDER BY p.at DESC, p.id DESC LIMIT 1) \
       FROM (",
    regions_reporting_in!("$4", "$5"),
    ") AS v \
       UNION \
       SELECT id FROM ( \
         SELECT id FROM results WHERE monitor = $1 AND NOT inconclusive AND at < $2 \
         ORDER BY at DESC, id DESC LIMIT 1 \
       ) AS last_before \
     ) \
     ORDER BY at, region"
);

pub(crate) const POLICY_STATES: &str = "SELECT monitor, state FROM policy_states ORDER BY monitor";

/// Minute aggregates from raw results in `[$1, $2)`, buckets of `$3` ms. The p95 is the
/// smallest duration whose ascending rank `rn` reaches 95 % of the bucket's `n`.
/// Inconclusive results count as checks but never as failures.
pub(crate) const AGGREGATE_RESULTS: &str = "\
SELECT monitor, bucket, COUNT(*), \
       CAST(SUM(CASE WHEN NOT ok AND NOT inconclusive THEN 1 ELSE 0 END) AS BIGINT), \
       MIN(duration_ms), MAX(duration_ms), CAST(SUM(duration_ms) AS BIGINT), \
       MIN(CASE WHEN rn * 100 >= n * 95 THEN duration_ms END) \
FROM ( \
  SELECT monitor, (at / $3) * $3 AS bucket, ok, inconclusive, duration_ms, \
         ROW_NUMBER() OVER (PARTITION BY monitor, at / $3 ORDER BY duration_ms) AS rn, \
         COUNT(*) OVER (PARTITION BY monitor, at / $3) AS n \
  FROM results WHERE at >= $1 AND at < $2 \
) AS r GROUP BY monitor, bucket ORDER BY monitor, bucket";

/// Coarser aggregates from finer rollups (resolution `$4`) in `[$1, $2)`, buckets of `$3` ms.
/// The p95 is the checks-weighted nearest-rank 95th percentile of the finer p95s.
pub(crate) const AGGREGATE_ROLLUPS: &str = "\
SELECT monitor, bucket, CAST(SUM(checks) AS BIGINT), CAST(SUM(failures) AS BIGINT), \
       MIN(latency_min_ms), MAX(latency_max_ms), CAST(SUM(latency_sum_ms) AS BIGINT), \
       MIN(CASE WHEN cum * 100 >= n * 95 THEN latency_p95_ms END) \
FROM ( \
  SELECT monitor, (start / $3) * $3 AS bucket, checks, failures, \
         latency_min_ms, latency_max_ms, latency_sum_ms, latency_p95_ms, \
         SUM(checks) OVER (PARTITION BY monitor, start / $3 ORDER BY latency_p95_ms \
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum, \
         SUM(checks) OVER (PARTITION BY monitor, start / $3) AS n \
  FROM rollups WHERE resolution = $4 AND start >= $1 AND start < $2 AND checks > 0 \
) AS m GROUP BY monitor, bucket ORDER BY monitor, bucket";

/// The first time anything was recorded: `(MIN(results.at), MIN(transitions.at))`.
pub(crate) const EARLIEST_DATA: &str =
    "SELECT (SELECT MIN(at) FROM results), (SELECT MIN(at) FROM transitions)";

pub(crate) const WATERMARK: &str = "SELECT built_until FROM rollup_watermarks WHERE resolution = $1";

/// Moves a watermark forward only.
pub(crate) const ADVANCE_WATERMARK: &str = "INSERT INTO rollup_watermarks (resolution, built_until) \
     VALUES ($1, $2) ON CONFLICT (resolution) DO UPDATE SET built_until = excluded.built_until \
     WHERE excluded.built_until > rollup_watermarks.built_until";

/// `$1` monitor, `$2` resolution, `[$3, $4)` bucket starts.
pub(crate) const ROLLUPS_OF_MONITOR: &str = "SELECT start, checks, failures, downtime_s, latency_min_ms, \
     latency_max_ms, latency_sum_ms, latency_p95_ms FROM rollups WHERE monitor = $1 AND resolution = $2 \
     AND start >= $3 AND start < $4 ORDER BY start";

pub(crate) const INSERT_TOKEN: &str =
    "INSERT INTO tokens (id, scope, hash, created_at) VALUES ($1, $2, $3, $4)";
pub(crate) const TOKEN_BY_HASH: &str = "SELECT id, scope, hash, created_at FROM tokens WHERE hash = $1";
pub(crate) const TOKENS: &str = "SELECT id, scope, hash, created_at FROM tokens ORDER BY created_at, id";
pub(crate) const DELETE_TOKEN: &str = "DELETE FROM tokens WHERE id = $1";

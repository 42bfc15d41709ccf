//! Down periods as uptime counts them: a monitor's `down` stretches (from its transitions),
//! and, where windows that count downtime held it in `maintenance` (a transition into it with
//! `counts_downtime`), the time its checks failed there (`periods::failing`). Results are read
//! only for such counted stretches, so the common case costs the one transitions query.
//!
//! A counted stretch is judged by the regions that reported anywhere in it, whatever range is
//! asked about, so the failing time of a day and of its minutes agree once it has closed. While
//! it is open its voters are the regions that reported in it so far (up to the read), so a part
//! read early may be judged by fewer regions than the same part read after the stretch closed.
//!
//! The cost of a read follows the range asked, not the stretch: the voters are one `EXISTS`
//! probe per region of the monitor (`sql::COUNTED_VOTERS`, stopping at the region's first
//! reading), what held when the part began one short backward walk per voter, and only the
//! part's own results are read (`sql::COUNTED_RESULTS`). A compaction step over a minute range
//! in a 48-hour stretch reads that range's rows plus a few index probes, not the stretch twice
//! over (a region silent for a whole stretch is the exception: its probe walks the stretch).

use std::collections::{BTreeSet, HashMap};

use super::Pool;
use belfry_core::clock::{epoch_ms, from_epoch_ms};
use belfry_core::monitor::MonitorId;
use belfry_core::store::{DownPeriod, StoreError};
use jiff::Timestamp;

use super::error::db;
use crate::periods::{self, Reading, Step};
use crate::sql;

/// A monitor's down periods still open at or after `since`, oldest first (the failing time of
/// counted stretches from `since` on).
pub(super) async fn of_monitor(
    pool: &Pool,
    monitor: &MonitorId,
    since: Timestamp,
) -> Result<Vec<DownPeriod>, StoreError> {
    let rows = sqlx::query_as(sql::DOWN_PERIOD_STEPS)
        .bind(monitor.as_str())
        .bind(epoch_ms(since))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    let all = with_counted(pool, monitor.as_str(), periods::steps(rows)?, since, None).await?;
    Ok(periods::overlapping(all, since))
}

/// Every monitor's down periods that may overlap `[from, to)`, keyed by monitor id (the
/// failing time of counted stretches only as far as it lies in the range).
pub(super) async fn between(
    pool: &Pool,
    from: i64,
    to: i64,
) -> Result<HashMap<String, Vec<DownPeriod>>, StoreError> {
    let rows = sqlx::query_as(sql::DOWN_PERIOD_STEPS_BETWEEN)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    let mut out = HashMap::new();
    for (monitor, steps) in periods::steps_by_monitor(rows)? {
        let periods =
            with_counted(pool, &monitor, steps, from_epoch_ms(from), Some(from_epoch_ms(to))).await?;
        out.insert(monitor, periods);
    }
    Ok(out)
}

/// The down periods of `steps` (a monitor's transitions from before `from` to `to`, or on
/// when `to` is `None`), with the failing time of their counted stretches inside `[from, to)`
/// added from the results, oldest first.
async fn with_counted(
    pool: &Pool,
    monitor: &str,
    steps: Vec<Step>,
    from: Timestamp,
    to: Option<Timestamp>,
) -> Result<Vec<DownPeriod>, StoreError> {
    let mut all = periods::from_transitions(steps.iter().map(|s| (s.to, s.at)));
    for mut whole in periods::counted_stretches(&steps) {
        let Some(part) = whole.within(from, to) else { continue };
        // Open as far as `steps` go, which is only to `to`: its end is read.
        if let (None, Some(to)) = (whole.end, to) {
            whole.end = sqlx::query_scalar(sql::COUNTED_STRETCH_END)
                .bind(monitor)
                .bind(epoch_ms(to))
                .fetch_optional(pool)
                .await
                .map_err(db)?
                .map(from_epoch_ms);
        }
        let (whole_start, whole_end) = (epoch_ms(whole.start), whole.end.map_or(i64::MAX, epoch_ms));
        let voters: BTreeSet<String> = sqlx::query_scalar::<_, String>(sql::COUNTED_VOTERS)
            .bind(monitor)
            .bind(whole_start)
            .bind(whole_end)
            .fetch_all(pool)
            .await
            .map_err(db)?
            .into_iter()
            .collect();
        let rows: Vec<(String, i64, bool)> = sqlx::query_as(sql::COUNTED_RESULTS)
            .bind(monitor)
            .bind(epoch_ms(part.start))
            .bind(part.end.map_or(i64::MAX, epoch_ms))
            .bind(whole_start)
            .bind(whole_end)
            .fetch_all(pool)
            .await
            .map_err(db)?;
        let readings: Vec<Reading> =
            rows.into_iter().map(|(region, at, ok)| (region, from_epoch_ms(at), ok)).collect();
        all.extend(periods::failing(&part, &voters, &readings));
    }
    all.sort_by_key(|p| p.start);
    Ok(all)
}

//! Down periods as uptime counts them: a monitor's `down` stretches (from its transitions),
//! and, where maintenance windows count downtime (spans the desk records per monitor, see
//! `belfry_core::maintenance::merge_counted`), the time its checks failed while it was in
//! `maintenance`.

use std::collections::HashMap;

use super::Pool;
use belfry_core::clock::{epoch_ms, from_epoch_ms};
use belfry_core::maintenance::{COUNTED_CURSOR_PREFIX, Window, counted_cursor, decode_spans};
use belfry_core::monitor::MonitorId;
use belfry_core::store::{DownPeriod, StoreError};
use jiff::Timestamp;

use super::error::db;
use crate::periods::{self, Step};
use crate::sql;

/// A monitor's down periods still open at or after `since`, oldest first.
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
    let spans: Vec<Window> = super::cursors::get(pool, &counted_cursor(monitor))
        .await?
        .map(|raw| decode_spans(&raw))
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.end > since)
        .collect();
    let all = with_counted(pool, monitor.as_str(), periods::steps(rows)?, &spans, None).await?;
    Ok(periods::overlapping(all, since))
}

/// Every monitor's down periods that may overlap `[from, to)`, keyed by monitor id.
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
    let steps = periods::steps_by_monitor(rows)?;
    // The prefix holds no LIKE wildcard (`%`, `_`).
    let cursors: Vec<(String, String)> = sqlx::query_as(sql::COUNTED_SPANS)
        .bind(format!("{COUNTED_CURSOR_PREFIX}%"))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    let mut spans: HashMap<String, Vec<Window>> = HashMap::new();
    for (name, raw) in cursors {
        let Some(monitor) = name.strip_prefix(COUNTED_CURSOR_PREFIX) else { continue };
        let overlapping: Vec<Window> = decode_spans(&raw)
            .into_iter()
            .filter(|s| epoch_ms(s.end) > from && epoch_ms(s.start) < to)
            .collect();
        if !overlapping.is_empty() {
            spans.insert(monitor.to_owned(), overlapping);
        }
    }
    let mut out = HashMap::with_capacity(steps.len());
    for (monitor, steps) in steps {
        let counted = spans.get(&monitor).map(Vec::as_slice).unwrap_or_default();
        let periods = with_counted(pool, &monitor, steps, counted, Some(to)).await?;
        out.insert(monitor, periods);
    }
    Ok(out)
}

/// The down periods of `steps`, with the failing time of the counted maintenance stretches
/// added from the results (read up to `until` epoch ms while a stretch is still open), oldest
/// first.
async fn with_counted(
    pool: &Pool,
    monitor: &str,
    steps: Vec<Step>,
    spans: &[Window],
    until: Option<i64>,
) -> Result<Vec<DownPeriod>, StoreError> {
    let mut all = periods::from_transitions(steps.iter().copied());
    for stretch in periods::counted_stretches(&steps, spans) {
        let upper = if stretch.closed { epoch_ms(stretch.limit) } else { until.unwrap_or(i64::MAX) };
        let rows: Vec<(i64, bool)> = sqlx::query_as(sql::COUNTED_RESULTS)
            .bind(monitor)
            .bind(epoch_ms(stretch.start))
            .bind(upper)
            .fetch_all(pool)
            .await
            .map_err(db)?;
        all.extend(periods::failing(&stretch, rows.into_iter().map(|(at, ok)| (from_epoch_ms(at), ok))));
    }
    all.sort_by_key(|p| p.start);
    Ok(all)
}

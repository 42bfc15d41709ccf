//! State transitions with their evidence, and the down periods derived from them.

use std::collections::HashMap;

use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::policy::Transition;
use belfry_core::store::{DownPeriod, StoreError};
use jiff::Timestamp;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::downtime;
use super::error::db;
use crate::codec::{self, TransitionColumns, TransitionRow};
use crate::sql;

/// Rows per multi-row INSERT (8 parameters each).
const ROWS_PER_INSERT: usize = 200;

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    transitions: &[Transition],
) -> Result<(), StoreError> {
    for chunk in transitions.chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(TransitionRow::encode).collect::<Result<Vec<_>, _>>()?;
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("INSERT INTO transitions ({}) ", sql::TRANSITION_COLUMNS));
        qb.push_values(rows, |mut b, r| {
            b.push_bind(r.monitor)
                .push_bind(r.from_state)
                .push_bind(r.to_state)
                .push_bind(r.at)
                .push_bind(r.flapping)
                .push_bind(r.reason)
                .push_bind(r.results)
                .push_bind(r.counts_downtime);
        });
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

pub(super) async fn list(
    pool: &SqlitePool,
    monitor: Option<&MonitorId>,
    since: Option<Timestamp>,
    limit: u32,
) -> Result<Vec<Transition>, StoreError> {
    let since = since.map_or(i64::MIN, epoch_ms);
    let limit = i64::from(limit);
    let query = match monitor {
        Some(monitor) => {
            sqlx::query_as(sql::TRANSITIONS_OF_MONITOR).bind(since).bind(limit).bind(monitor.as_str())
        }
        None => sqlx::query_as(sql::TRANSITIONS_ALL).bind(since).bind(limit),
    };
    let rows: Vec<TransitionColumns> = query.fetch_all(pool).await.map_err(db)?;
    codec::decode_transitions(rows)
}

/// A monitor's down periods still open at or after `since`, oldest first (with the failing
/// time counted inside maintenance windows that count downtime).
pub(super) async fn down_periods(
    pool: &SqlitePool,
    monitor: &MonitorId,
    since: Timestamp,
) -> Result<Vec<DownPeriod>, StoreError> {
    downtime::of_monitor(pool, monitor, since).await
}

/// Every monitor's down periods that may overlap `[from, to)`, keyed by monitor id.
pub(super) async fn down_periods_between(
    pool: &SqlitePool,
    from: i64,
    to: i64,
) -> Result<HashMap<String, Vec<DownPeriod>>, StoreError> {
    downtime::between(pool, from, to).await
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use super::*;

    /// Counted stretches are read through the `(monitor, at)` index only — a per-region probe
    /// for the voters and the last reading before the part asked, a range for the part itself —
    /// and nothing scans `results` (a per-region index was measured at +14 MiB peak RSS in the
    /// 20,000-monitor bench, for a feature few monitors use).
    #[tokio::test]
    async fn counted_reads_use_the_monitor_time_index_and_never_scan_results() {
        let dir = tempfile::TempDir::new().unwrap();
        let url = format!("sqlite://{}/belfry.db?mode=rwc", dir.path().display());
        let store = SqliteStore::open(&url, 1).await.unwrap();
        for statement in [sql::COUNTED_VOTERS, sql::COUNTED_RESULTS] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {statement}")))
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            let details: Vec<&str> = plan.iter().map(|(.., detail)| detail.as_str()).collect();
            let reads_results =
                details.iter().filter(|d| d.contains("results_monitor_at (monitor=?")).count();
            assert!(reads_results >= 1, "{details:?}");
            assert!(
                !details.iter().any(|d| d.starts_with("SCAN ") && *d != "SCAN last_before"),
                "{details:?}"
            );
        }
        store.close().await;
    }
}

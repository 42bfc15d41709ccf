//! State transitions with their evidence, and the down periods derived from them.

use std::collections::HashMap;

use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::policy::Transition;
use belfry_core::store::{DownPeriod, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, PgPool};

use super::downtime;
use super::error::db;
use crate::codec::{self, TransitionColumns, TransitionRow};
use crate::sql;

/// Inserts `transitions` as column arrays, inside the caller's transaction.
pub(super) async fn insert(conn: &mut PgConnection, transitions: &[Transition]) -> Result<(), StoreError> {
    if transitions.is_empty() {
        return Ok(());
    }
    let rows = transitions.iter().map(TransitionRow::encode).collect::<Result<Vec<_>, _>>()?;
    let mut columns: (Vec<_>, Vec<_>, Vec<_>, Vec<_>, Vec<_>, Vec<_>, Vec<_>, Vec<_>) = Default::default();
    for r in rows {
        columns.0.push(r.monitor);
        columns.1.push(r.from_state);
        columns.2.push(r.to_state);
        columns.3.push(r.at);
        columns.4.push(r.flapping);
        columns.5.push(r.reason);
        columns.6.push(r.results);
        columns.7.push(r.counts_downtime);
    }
    let statement = format!(
        "INSERT INTO transitions ({}) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], \
         $4::int8[], $5::bool[], $6::text[], $7::text[], $8::bool[])",
        sql::TRANSITION_COLUMNS
    );
    sqlx::query(AssertSqlSafe(statement))
        .bind(columns.0)
        .bind(columns.1)
        .bind(columns.2)
        .bind(columns.3)
        .bind(columns.4)
        .bind(columns.5)
        .bind(columns.6)
        .bind(columns.7)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn list(
    pool: &PgPool,
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
    pool: &PgPool,
    monitor: &MonitorId,
    since: Timestamp,
) -> Result<Vec<DownPeriod>, StoreError> {
    downtime::of_monitor(pool, monitor, since).await
}

/// Every monitor's down periods that may overlap `[from, to)`, keyed by monitor id.
pub(super) async fn down_periods_between(
    pool: &PgPool,
    from: i64,
    to: i64,
) -> Result<HashMap<String, Vec<DownPeriod>>, StoreError> {
    downtime::between(pool, from, to).await
}

//! Raw check results: batched inserts, the latest-per-(monitor, region) table, reads, pruning.

use belfry_core::check::CheckResult;
use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::store::StoreError;
use jiff::Timestamp;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::error::db;
use crate::codec::{self, ResultColumns, ResultRow};
use crate::{batch, sql};

/// Rows per multi-row INSERT: 10 parameters each, well under SQLite's variable limit, and few
/// enough statement shapes that the prepared-statement cache keeps them.
const ROWS_PER_INSERT: usize = 200;
/// Rows deleted per statement when pruning, so no single statement holds the write lock long.
const PRUNE_CHUNK: i64 = 5_000;

/// One multi-row INSERT into `table` (`results` or `latest_results`), without its tail.
fn insert_rows(table: &str, rows: Vec<ResultRow>) -> QueryBuilder<Sqlite> {
    let mut qb = QueryBuilder::new(format!("INSERT INTO {table} ({}) ", sql::RESULT_COLUMNS));
    qb.push_values(rows, |mut b, r| {
        b.push_bind(r.monitor)
            .push_bind(r.region)
            .push_bind(r.at)
            .push_bind(r.ok)
            .push_bind(r.degraded)
            .push_bind(r.inconclusive)
            .push_bind(r.duration_ms)
            .push_bind(r.status)
            .push_bind(r.error)
            .push_bind(r.extra);
    });
    qb
}

/// Appends `results` to the `results` table. Rows are encoded chunk by chunk inside the
/// caller's transaction, so an encoding failure rolls back what was already inserted.
pub(super) async fn insert(conn: &mut SqliteConnection, results: &[CheckResult]) -> Result<(), StoreError> {
    for chunk in results.chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(ResultRow::encode).collect::<Result<Vec<_>, _>>()?;
        insert_rows("results", rows).build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

/// Upserts the newest of `results` per (monitor, region) into `latest_results`, never
/// replacing a newer stored row.
pub(super) async fn upsert_latest(
    conn: &mut SqliteConnection,
    results: &[CheckResult],
) -> Result<(), StoreError> {
    for chunk in batch::newest_per_key(results).chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(|r| ResultRow::encode(r)).collect::<Result<Vec<_>, _>>()?;
        let mut qb = insert_rows("latest_results", rows);
        qb.push(sql::LATEST_ON_CONFLICT);
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

pub(super) async fn latest(pool: &SqlitePool) -> Result<Vec<CheckResult>, StoreError> {
    let rows: Vec<ResultColumns> = sqlx::query_as(sql::LATEST_RESULTS).fetch_all(pool).await.map_err(db)?;
    codec::decode_results(rows)
}

pub(super) async fn of_monitor(
    pool: &SqlitePool,
    monitor: &MonitorId,
    since: Option<Timestamp>,
    limit: u32,
) -> Result<Vec<CheckResult>, StoreError> {
    let rows: Vec<ResultColumns> = sqlx::query_as(sql::RESULTS_OF_MONITOR)
        .bind(monitor.as_str())
        .bind(since.map_or(i64::MIN, epoch_ms))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    codec::decode_results(rows)
}

/// Deletes results with `at < before` in chunks (each its own short transaction).
pub(super) async fn prune(pool: &SqlitePool, before: Timestamp) -> Result<u64, StoreError> {
    let before = epoch_ms(before);
    let mut deleted = 0;
    loop {
        let done = sqlx::query(sql::PRUNE_RESULTS)
            .bind(before)
            .bind(PRUNE_CHUNK)
            .execute(pool)
            .await
            .map_err(db)?
            .rows_affected();
        deleted += done;
        if done < PRUNE_CHUNK as u64 {
            return Ok(deleted);
        }
    }
}

//! Raw check results: each batch inserted as column arrays (`UNNEST`, one statement per
//! chunk whatever its size), the latest-per-(monitor, region) table, reads, pruning.

use belfry_core::check::CheckResult;
use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::store::StoreError;
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, PgPool};

use super::error::db;
use crate::codec::{self, ResultColumns, ResultRow};
use crate::{batch, sql};

/// Rows per statement: bounds the memory of one statement, not its parameter count.
const ROWS_PER_INSERT: usize = 2_000;
/// Rows deleted per statement when pruning, so no statement holds its locks long.
const PRUNE_CHUNK: i64 = 5_000;

/// `SELECT` of one row per array element, in `sql::RESULT_COLUMNS` order.
const UNNEST: &str = " SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::bool[], $5::bool[], \
     $6::bool[], $7::int8[], $8::int4[], $9::text[], $10::text[])";

/// Result rows as one array per column.
#[derive(Default)]
struct Arrays {
    monitor: Vec<String>,
    region: Vec<String>,
    at: Vec<i64>,
    ok: Vec<bool>,
    degraded: Vec<bool>,
    inconclusive: Vec<bool>,
    duration_ms: Vec<i64>,
    status: Vec<Option<i32>>,
    error: Vec<Option<String>>,
    extra: Vec<String>,
}

impl Arrays {
    fn encode<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Result<Self, StoreError> {
        let mut a = Self::default();
        for r in results {
            let row = ResultRow::encode(r)?;
            a.monitor.push(row.monitor);
            a.region.push(row.region);
            a.at.push(row.at);
            a.ok.push(row.ok);
            a.degraded.push(row.degraded);
            a.inconclusive.push(row.inconclusive);
            a.duration_ms.push(row.duration_ms);
            a.status.push(row.status);
            a.error.push(row.error);
            a.extra.push(row.extra);
        }
        Ok(a)
    }

    /// Inserts the rows into `table`, with `tail` (an `ON CONFLICT` clause or nothing).
    async fn insert(self, conn: &mut PgConnection, table: &str, tail: &str) -> Result<(), StoreError> {
        let statement = format!("INSERT INTO {table} ({}){UNNEST}{tail}", sql::RESULT_COLUMNS);
        sqlx::query(AssertSqlSafe(statement))
            .bind(self.monitor)
            .bind(self.region)
            .bind(self.at)
            .bind(self.ok)
            .bind(self.degraded)
            .bind(self.inconclusive)
            .bind(self.duration_ms)
            .bind(self.status)
            .bind(self.error)
            .bind(self.extra)
            .execute(conn)
            .await
            .map_err(db)?;
        Ok(())
    }
}

/// Appends `results` to the `results` table, inside the caller's transaction.
pub(super) async fn insert(conn: &mut PgConnection, results: &[CheckResult]) -> Result<(), StoreError> {
    for chunk in results.chunks(ROWS_PER_INSERT) {
        Arrays::encode(chunk)?.insert(conn, "results", "").await?;
    }
    Ok(())
}

/// Upserts the newest of `results` per (monitor, region) into `latest_results`, never
/// replacing a newer stored row (also when another node wrote it).
pub(super) async fn upsert_latest(
    conn: &mut PgConnection,
    results: &[CheckResult],
) -> Result<(), StoreError> {
    for chunk in batch::newest_per_key(results).chunks(ROWS_PER_INSERT) {
        Arrays::encode(chunk.iter().copied())?
            .insert(conn, "latest_results", sql::LATEST_ON_CONFLICT)
            .await?;
    }
    Ok(())
}

pub(super) async fn latest(pool: &PgPool) -> Result<Vec<CheckResult>, StoreError> {
    let rows: Vec<ResultColumns> = sqlx::query_as(sql::LATEST_RESULTS).fetch_all(pool).await.map_err(db)?;
    codec::decode_results(rows)
}

pub(super) async fn of_monitor(
    pool: &PgPool,
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
pub(super) async fn prune(pool: &PgPool, before: Timestamp) -> Result<u64, StoreError> {
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

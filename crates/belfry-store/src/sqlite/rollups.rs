//! Rollups on SQLite: the table operations compaction runs on (`crate::compaction`), reads.

use std::collections::HashMap;

use async_trait::async_trait;
use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::store::{DownPeriod, Resolution, Rollup, StoreError};
use jiff::Timestamp;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::error::db;
use super::transitions;
use crate::codec::{self, AggregateColumns, RollupRow, StoredRollupColumns, resolution_str};
use crate::compaction::RollupTables;
use crate::rollup::{self, bucket_ms};
use crate::sql;

/// Rows per multi-row upsert (10 parameters each).
const ROWS_PER_INSERT: usize = 200;

#[async_trait]
impl RollupTables for SqlitePool {
    async fn watermark(&self, res: Resolution) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(sql::WATERMARK).bind(resolution_str(res)).fetch_optional(self).await.map_err(db)
    }

    async fn earliest_data(&self) -> Result<Option<i64>, StoreError> {
        let (results, transitions): (Option<i64>, Option<i64>) =
            sqlx::query_as(sql::EARLIEST_DATA).fetch_one(self).await.map_err(db)?;
        Ok(results.into_iter().chain(transitions).min())
    }

    async fn aggregate(&self, res: Resolution, from: i64, to: i64) -> Result<Vec<RollupRow>, StoreError> {
        let query = match rollup::source(res) {
            None => sqlx::query_as(sql::AGGREGATE_RESULTS).bind(from).bind(to).bind(bucket_ms(res)),
            Some(source) => sqlx::query_as(sql::AGGREGATE_ROLLUPS)
                .bind(from)
                .bind(to)
                .bind(bucket_ms(res))
                .bind(resolution_str(source)),
        };
        let rows: Vec<AggregateColumns> = query.fetch_all(self).await.map_err(db)?;
        Ok(rows.into_iter().map(RollupRow::from).collect())
    }

    async fn down_periods_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<HashMap<String, Vec<DownPeriod>>, StoreError> {
        transitions::down_periods_between(self, from, to).await
    }

    async fn save(&self, res: Resolution, rows: &[RollupRow], built_until: i64) -> Result<i64, StoreError> {
        let resolution = resolution_str(res);
        // IMMEDIATE takes the write lock first, so the watermark read below cannot go stale.
        let mut tx = self.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
        let mark: Option<i64> =
            sqlx::query_scalar(sql::WATERMARK).bind(resolution).fetch_optional(&mut *tx).await.map_err(db)?;
        if let Some(mark) = mark.filter(|m| *m >= built_until) {
            return Ok(mark);
        }
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO rollups (monitor, resolution, start, checks, failures, downtime_s, \
                 latency_min_ms, latency_max_ms, latency_sum_ms, latency_p95_ms) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.monitor.as_str())
                    .push_bind(resolution)
                    .push_bind(r.start)
                    .push_bind(r.checks)
                    .push_bind(r.failures)
                    .push_bind(r.downtime_s)
                    .push_bind(r.latency_min_ms)
                    .push_bind(r.latency_max_ms)
                    .push_bind(r.latency_sum_ms)
                    .push_bind(r.latency_p95_ms);
            });
            qb.push(sql::ROLLUPS_ON_CONFLICT);
            qb.build().execute(&mut *tx).await.map_err(db)?;
        }
        sqlx::query(sql::ADVANCE_WATERMARK)
            .bind(resolution)
            .bind(built_until)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(built_until)
    }

    async fn delete_before(&self, res: Resolution, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM rollups WHERE rowid IN \
             (SELECT rowid FROM rollups WHERE resolution = $1 AND start < $2 LIMIT $3)",
        )
        .bind(resolution_str(res))
        .bind(cutoff)
        .bind(limit)
        .execute(self)
        .await
        .map_err(db)?
        .rows_affected())
    }
}

pub(super) async fn list(
    pool: &SqlitePool,
    monitor: &MonitorId,
    res: Resolution,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<Rollup>, StoreError> {
    let rows: Vec<StoredRollupColumns> = sqlx::query_as(sql::ROLLUPS_OF_MONITOR)
        .bind(monitor.as_str())
        .bind(resolution_str(res))
        .bind(epoch_ms(since))
        .bind(epoch_ms(until))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    codec::decode_rollups(monitor, res, rows)
}

//! Rollups on PostgreSQL: the table operations compaction runs on (`crate::compaction`), reads.
//! Nodes compacting at once take turns per resolution (a transaction-scoped advisory lock)
//! and skip a step another node has already saved.

use std::collections::HashMap;

use async_trait::async_trait;
use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::store::{DownPeriod, Resolution, Rollup, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::PgPool;

use super::error::db;
use super::transitions;
use crate::codec::{self, AggregateColumns, RollupRow, StoredRollupColumns, resolution_str};
use crate::compaction::RollupTables;
use crate::rollup::{self, bucket_ms};
use crate::sql;

/// Advisory lock keys of the compaction of each resolution ("belfry" and the bucket seconds).
fn lock_key(res: Resolution) -> i64 {
    0x6265_6c66_7279_0000 + res.seconds()
}

#[async_trait]
impl RollupTables for PgPool {
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
        let mut tx = self.begin().await.map_err(db)?;
        // Held until commit; the watermark read after it sees what the previous holder saved.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock_key(res))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let mark: Option<i64> =
            sqlx::query_scalar(sql::WATERMARK).bind(resolution).fetch_optional(&mut *tx).await.map_err(db)?;
        if let Some(mark) = mark.filter(|m| *m >= built_until) {
            return Ok(mark);
        }
        if !rows.is_empty() {
            let mut c: (Vec<&str>, Vec<i64>, [Vec<i64>; 7]) = Default::default();
            for r in rows {
                c.0.push(&r.monitor);
                c.1.push(r.start);
                let values = [
                    r.checks,
                    r.failures,
                    r.downtime_s,
                    r.latency_min_ms,
                    r.latency_max_ms,
                    r.latency_sum_ms,
                    r.latency_p95_ms,
                ];
                for (column, value) in c.2.iter_mut().zip(values) {
                    column.push(value);
                }
            }
            let [checks, failures, downtime, min, max, sum, p95] = c.2;
            let statement = format!(
                "INSERT INTO rollups (monitor, resolution, start, checks, failures, downtime_s, \
                 latency_min_ms, latency_max_ms, latency_sum_ms, latency_p95_ms) \
                 SELECT m, $2, s, c, f, d, lmin, lmax, lsum, lp95 FROM UNNEST($1::text[], $3::int8[], \
                 $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[]) \
                 AS u(m, s, c, f, d, lmin, lmax, lsum, lp95){}",
                sql::ROLLUPS_ON_CONFLICT
            );
            sqlx::query(AssertSqlSafe(statement))
                .bind(c.0)
                .bind(resolution)
                .bind(c.1)
                .bind(checks)
                .bind(failures)
                .bind(downtime)
                .bind(min)
                .bind(max)
                .bind(sum)
                .bind(p95)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
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
            "DELETE FROM rollups WHERE ctid = ANY(ARRAY( \
             SELECT ctid FROM rollups WHERE resolution = $1 AND start < $2 LIMIT $3))",
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
    pool: &PgPool,
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

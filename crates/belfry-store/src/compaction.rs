//! Compaction and rollup retention, written once over the few table operations each backend
//! provides ([`RollupTables`]). See `crate::rollup` for the bucket maths and the percentile
//! approximation.
//!
//! Progress is a watermark per resolution, moved in the same transaction as the rows it
//! covers, so a crash either keeps both or redoes the step. Several processes may compact at
//! once (PostgreSQL with several nodes): a step whose watermark another process has already
//! passed is not written again, and the loop continues from the watermark it finds.

use std::collections::HashMap;

use async_trait::async_trait;
use belfry_core::clock::epoch_ms;
use belfry_core::store::{DownPeriod, Resolution, StoreError};
use jiff::Timestamp;

use crate::codec::{RollupRow, resolution_str};
use crate::rollup::{self, bucket_ms};

pub(crate) const RESOLUTIONS: [Resolution; 3] = [Resolution::Minute, Resolution::Hour, Resolution::Day];
/// Rollup rows deleted per statement when pruning.
pub(crate) const PRUNE_CHUNK: i64 = 5_000;

/// The table operations compaction needs from a backend. Times are epoch ms.
#[async_trait]
pub(crate) trait RollupTables: Sync {
    /// Every bucket of `res` starting before this is built; `None` before the first build.
    async fn watermark(&self, res: Resolution) -> Result<Option<i64>, StoreError>;

    /// The first time anything was recorded (`sql::EARLIEST_DATA`).
    async fn earliest_data(&self) -> Result<Option<i64>, StoreError>;

    /// Aggregates of the buckets of `res` in `[from, to)`, read from the source of `res`
    /// (`sql::AGGREGATE_RESULTS` or `sql::AGGREGATE_ROLLUPS`), downtime still zero.
    async fn aggregate(&self, res: Resolution, from: i64, to: i64) -> Result<Vec<RollupRow>, StoreError>;

    /// Every monitor's down periods that may overlap `[from, to)`.
    async fn down_periods_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<HashMap<String, Vec<DownPeriod>>, StoreError>;

    /// In one transaction: unless the watermark of `res` has already reached `built_until`
    /// (another process built the step), upserts `rows` and advances it. Returns the
    /// watermark after.
    async fn save(&self, res: Resolution, rows: &[RollupRow], built_until: i64) -> Result<i64, StoreError>;

    /// Deletes at most `limit` rollups of `res` starting before `cutoff`; returns how many.
    async fn delete_before(&self, res: Resolution, cutoff: i64, limit: i64) -> Result<u64, StoreError>;
}

/// Builds every not-yet-built bucket that closed before `now`, resolution by resolution
/// (finest first, since coarser ones read it), a bounded step at a time.
pub(crate) async fn compact(tables: &impl RollupTables, now: Timestamp) -> Result<(), StoreError> {
    let now = epoch_ms(now);
    for res in RESOLUTIONS {
        // A bucket [s, s + len) has closed when s + len <= now, i.e. s < floor(now).
        let target = rollup::floor(now, res);
        let mut built = match tables.watermark(res).await? {
            Some(mark) => mark,
            None => match tables.earliest_data().await? {
                Some(first) => rollup::floor(first, res).min(target),
                None => continue,
            },
        };
        let start = built;
        while built < target {
            let end = (built + rollup::step_buckets(res) * bucket_ms(res)).min(target);
            let mut rows = tables.aggregate(res, built, end).await?;
            if !rows.is_empty() {
                let periods = tables.down_periods_between(built, end).await?;
                rollup::add_downtime(&mut rows, res, &periods);
            }
            // Empty steps (a catch-up over a quiet stretch) only move the watermark at the end.
            built = if !rows.is_empty() || end == target {
                tables.save(res, &rows, end).await?.max(end)
            } else {
                end
            };
        }
        if built > start {
            tracing::debug!(resolution = resolution_str(res), from = start, until = built, "rollups built");
        }
    }
    Ok(())
}

/// Deletes minute and hour rollups past their retention, counted back from how far
/// compaction has got (so injected time governs it), and never before the coarser
/// resolution built from them has consumed them.
pub(crate) async fn prune(tables: &impl RollupTables) -> Result<u64, StoreError> {
    let mut deleted = 0;
    for pair in RESOLUTIONS.windows(2) {
        let (res, coarser) = (pair[0], pair[1]);
        let (Some(built), Some(consumed)) = (tables.watermark(res).await?, tables.watermark(coarser).await?)
        else {
            continue;
        };
        let Some(keep) = rollup::retention_ms(res) else { continue };
        let cutoff = (built - keep).min(consumed);
        loop {
            let done = tables.delete_before(res, cutoff, PRUNE_CHUNK).await?;
            deleted += done;
            if done < PRUNE_CHUNK as u64 {
                break;
            }
        }
    }
    if deleted > 0 {
        tracing::debug!(deleted, "old rollups pruned");
    }
    Ok(deleted)
}

//! `SqliteStore`: the `Store` port over one SQLite file.

use async_trait::async_trait;
use belfry_core::auth::ApiToken;
use belfry_core::check::CheckResult;
use belfry_core::monitor::MonitorId;
use belfry_core::policy::{PolicyState, Transition};
use belfry_core::store::{Batch, DownPeriod, PoolStats, Resolution, Rollup, Store, StoreError};
use jiff::Timestamp;
use sqlx::SqlitePool;

use super::error::db;
use super::{connect, results, rollups, states, tokens, transitions};
use crate::compaction;

/// The SQLite implementation of [`Store`]. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database at `url` (`sqlite://path/to/file.db`), creating the file and its
    /// parent directories if missing, with at most `max_connections` pooled connections, and
    /// runs the embedded migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<SqliteStore, StoreError> {
        Ok(Self { pool: connect::connect(url, max_connections).await? })
    }

    /// Closes every pooled connection (checkpointing the WAL); later calls fail `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn write(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // IMMEDIATE takes the write lock up front (waiting up to busy_timeout), so the
        // transaction cannot fail half-way on a lock upgrade.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
        results::insert(&mut tx, &batch.results).await?;
        results::upsert_latest(&mut tx, &batch.results).await?;
        transitions::insert(&mut tx, &batch.transitions).await?;
        states::upsert(&mut tx, &batch.states).await?;
        tx.commit().await.map_err(db)
    }

    async fn policy_states(&self) -> Result<Vec<(MonitorId, PolicyState)>, StoreError> {
        states::all(&self.pool).await
    }

    async fn latest_results(&self) -> Result<Vec<CheckResult>, StoreError> {
        results::latest(&self.pool).await
    }

    async fn results(
        &self,
        monitor: &MonitorId,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<CheckResult>, StoreError> {
        results::of_monitor(&self.pool, monitor, since, limit).await
    }

    async fn transitions(
        &self,
        monitor: Option<&MonitorId>,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Transition>, StoreError> {
        transitions::list(&self.pool, monitor, since, limit).await
    }

    async fn down_periods(
        &self,
        monitor: &MonitorId,
        since: Timestamp,
    ) -> Result<Vec<DownPeriod>, StoreError> {
        transitions::down_periods(&self.pool, monitor, since).await
    }

    async fn rollups(
        &self,
        monitor: &MonitorId,
        resolution: Resolution,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Rollup>, StoreError> {
        rollups::list(&self.pool, monitor, resolution, since, until).await
    }

    async fn compact(&self, now: Timestamp) -> Result<(), StoreError> {
        compaction::compact(&self.pool, now).await
    }

    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError> {
        let deleted = results::prune(&self.pool, before).await?;
        compaction::prune(&self.pool).await?;
        Ok(deleted)
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        tokens::insert(&self.pool, token).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        tokens::by_hash(&self.pool, hash).await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        tokens::all(&self.pool).await
    }

    async fn delete_token(&self, id: &str) -> Result<bool, StoreError> {
        tokens::delete(&self.pool, id).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db)?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }
}

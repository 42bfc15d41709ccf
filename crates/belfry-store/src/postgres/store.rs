//! `PgStore`: the `Store` port over a PostgreSQL database.

use std::time::Duration;

use async_trait::async_trait;
use belfry_core::auth::ApiToken;
use belfry_core::check::CheckResult;
use belfry_core::coordination::Change;
use belfry_core::monitor::MonitorId;
use belfry_core::policy::{PolicyState, Transition};
use belfry_core::store::{Batch, DownPeriod, PoolStats, Resolution, Rollup, Store, StoreError};
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{ConnectOptions, Connection};

use super::connect::{self, ACQUIRE_TIMEOUT};
use super::error::db;
use super::{changes, results, rollups, states, tokens, transitions};
use crate::compaction;

/// How long [`Store::ping`] waits before it reports the store unavailable: well under the
/// time `/readyz` gives it, so the answer says why.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// The PostgreSQL implementation of [`Store`]. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct PgStore {
    pub(super) pool: PgPool,
    pub(super) options: PgConnectOptions,
    /// `user@host:port/db`, for messages.
    target: String,
}

/// Names the database without its password (the connect options hold it).
impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("target", &self.target).field("pool", &self.pool_stats()).finish()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db`; the database must
    /// exist) with at most `max_connections` pooled connections and runs the embedded
    /// migrations. Fails `Unavailable` when PostgreSQL cannot be reached.
    pub async fn open(url: &str, max_connections: u32) -> Result<PgStore, StoreError> {
        let options = connect::options(url)?;
        let target = connect::describe(&options);
        let pool = connect::connect(options.clone(), max_connections).await?;
        Ok(Self { pool, options, target })
    }

    /// This node's part in sharing the database with other nodes (`node` names it in
    /// notifications; any unique text).
    pub fn coordination(&self, node: &str) -> super::PgCoordination {
        super::PgCoordination::new(self.options.clone(), self.pool.clone(), node.to_owned())
    }

    /// Closes every pooled connection; later calls fail `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A pool timeout with room left in the pool means PostgreSQL did not accept a new
    /// connection in time (down, restarting, or at its own `max_connections`), not that our
    /// connections were all busy.
    pub(super) fn settle<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        result.map_err(|e| match e {
            StoreError::PoolExhausted if self.pool.size() < self.pool.options().get_max_connections() => {
                StoreError::Unavailable(format!(
                    "PostgreSQL at {} accepted no connection within {} s",
                    self.target,
                    ACQUIRE_TIMEOUT.as_secs()
                ))
            }
            other => other,
        })
    }

    /// Why the pool could not answer a ping in time: one direct connection attempt (only
    /// while the pool has room, so the bound holds) tells a refusal from a busy pool.
    async fn diagnose(&self) -> StoreError {
        if self.pool.size() >= self.pool.options().get_max_connections() {
            return StoreError::PoolExhausted;
        }
        match tokio::time::timeout(PING_TIMEOUT, self.options.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                StoreError::PoolExhausted
            }
            Ok(Err(e)) => match db(e) {
                StoreError::Unavailable(why) => {
                    StoreError::Unavailable(format!("PostgreSQL at {}: {why}", self.target))
                }
                other => other,
            },
            Err(_) => StoreError::Unavailable(format!(
                "PostgreSQL at {} did not answer within {} ms",
                self.target,
                PING_TIMEOUT.as_millis()
            )),
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn write(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let work = async {
            let mut tx = self.pool.begin().await.map_err(db)?;
            results::insert(&mut tx, &batch.results).await?;
            results::upsert_latest(&mut tx, &batch.results).await?;
            transitions::insert(&mut tx, &batch.transitions).await?;
            states::upsert(&mut tx, &batch.states).await?;
            if !batch.transitions.is_empty() {
                // Other nodes show the new states at once (sent at commit).
                changes::notify(&mut *tx, "", &Change::Page).await?;
            }
            tx.commit().await.map_err(db)
        };
        self.settle(work.await)
    }

    async fn policy_states(&self) -> Result<Vec<(MonitorId, PolicyState)>, StoreError> {
        self.settle(states::all(&self.pool).await)
    }

    async fn latest_results(&self) -> Result<Vec<CheckResult>, StoreError> {
        self.settle(results::latest(&self.pool).await)
    }

    async fn results(
        &self,
        monitor: &MonitorId,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<CheckResult>, StoreError> {
        self.settle(results::of_monitor(&self.pool, monitor, since, limit).await)
    }

    async fn transitions(
        &self,
        monitor: Option<&MonitorId>,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Transition>, StoreError> {
        self.settle(transitions::list(&self.pool, monitor, since, limit).await)
    }

    async fn down_periods(
        &self,
        monitor: &MonitorId,
        since: Timestamp,
    ) -> Result<Vec<DownPeriod>, StoreError> {
        self.settle(transitions::down_periods(&self.pool, monitor, since).await)
    }

    async fn rollups(
        &self,
        monitor: &MonitorId,
        resolution: Resolution,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Rollup>, StoreError> {
        self.settle(rollups::list(&self.pool, monitor, resolution, since, until).await)
    }

    async fn compact(&self, now: Timestamp) -> Result<(), StoreError> {
        self.settle(compaction::compact(&self.pool, now).await)
    }

    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError> {
        let deleted = self.settle(results::prune(&self.pool, before).await)?;
        self.settle(compaction::prune(&self.pool).await)?;
        Ok(deleted)
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.settle(tokens::insert(&self.pool, token).await)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        self.settle(tokens::by_hash(&self.pool, hash).await)
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.settle(tokens::all(&self.pool).await)
    }

    async fn delete_token(&self, id: &str) -> Result<bool, StoreError> {
        self.settle(tokens::delete(&self.pool, id).await)
    }

    /// Fails within about a second when PostgreSQL is down, saying why.
    async fn ping(&self) -> Result<(), StoreError> {
        match tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(&self.pool)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(sqlx::Error::PoolTimedOut)) | Err(_) => Err(self.diagnose().await),
            Ok(Err(e)) => self.settle(Err(db(e))),
        }
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }
}

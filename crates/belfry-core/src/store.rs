//! The storage port. Implementations live in `belfry-store` (SQLite now, PostgreSQL later);
//! nothing here names a database.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::auth::ApiToken;
use crate::check::CheckResult;
use crate::monitor::MonitorId;
use crate::policy::{PolicyState, Transition};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or refused the connection.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Every pooled connection is busy; retry later.
    #[error("store busy: connection pool exhausted")]
    PoolExhausted,
    /// Stored data could not be read back (a bug or a foreign write).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Someone else saved the same object first; reload and retry.
    #[error("changed concurrently: {0}")]
    Conflict(String),
    #[error("store error: {0}")]
    Other(String),
}

/// What one engine step decided, written in one transaction: the results, the transitions
/// they caused and the policy memory after them.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub results: Vec<CheckResult>,
    pub transitions: Vec<Transition>,
    pub states: Vec<(MonitorId, PolicyState)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.results.is_empty() && self.transitions.is_empty() && self.states.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Minute,
    Hour,
    Day,
}

impl Resolution {
    /// Bucket length in seconds (days are UTC days).
    pub fn seconds(self) -> i64 {
        match self {
            Self::Minute => 60,
            Self::Hour => 3600,
            Self::Day => 86_400,
        }
    }
}

/// Aggregates of one monitor over one bucket `[start, start + resolution)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub monitor: MonitorId,
    pub resolution: Resolution,
    pub start: Timestamp,
    pub checks: u32,
    pub failures: u32,
    /// Seconds of the bucket the monitor spent `down` (from recorded transitions).
    pub downtime_s: u32,
    pub latency_min_ms: u64,
    pub latency_avg_ms: f64,
    pub latency_max_ms: u64,
    pub latency_p95_ms: u64,
}

/// A stretch of time a monitor was `down`; `end` is `None` while it still is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownPeriod {
    pub start: Timestamp,
    pub end: Option<Timestamp>,
}

/// Connection pool use, for `/metrics` and `/readyz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Writes results, transitions and policy states atomically.
    async fn write(&self, batch: &Batch) -> Result<(), StoreError>;

    /// Every monitor's persisted policy memory, to resume after a restart.
    async fn policy_states(&self) -> Result<Vec<(MonitorId, PolicyState)>, StoreError>;

    /// The newest result of every monitor (one per monitor and region).
    async fn latest_results(&self) -> Result<Vec<CheckResult>, StoreError>;

    /// A monitor's results, newest first, at or after `since`, at most `limit`.
    async fn results(
        &self,
        monitor: &MonitorId,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<CheckResult>, StoreError>;

    /// Transitions, newest first; all monitors when `monitor` is `None`.
    async fn transitions(
        &self,
        monitor: Option<&MonitorId>,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Transition>, StoreError>;

    /// Periods a monitor was down that overlap `[since, now]`, oldest first.
    async fn down_periods(
        &self,
        monitor: &MonitorId,
        since: Timestamp,
    ) -> Result<Vec<DownPeriod>, StoreError>;

    /// Rollups of a monitor with `since <= start < until`, oldest first.
    async fn rollups(
        &self,
        monitor: &MonitorId,
        resolution: Resolution,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Rollup>, StoreError>;

    /// Builds the rollups of every bucket that closed before `now`. Idempotent.
    async fn compact(&self, now: Timestamp) -> Result<(), StoreError>;

    /// Deletes raw results older than `before`; returns how many.
    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError>;

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError>;

    /// The token whose secret hashes to `hash` (see [`crate::auth::hash_secret`]).
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError>;

    /// Every token (hashes only), oldest first.
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes a token; `false` when there was none.
    async fn delete_token(&self, id: &str) -> Result<bool, StoreError>;

    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;

    fn pool_stats(&self) -> PoolStats;
}

/// Which incidents to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only incidents still open (not resolved, not postmortem).
    pub unresolved_only: bool,
    /// Include unpublished drafts (staff views only).
    pub include_drafts: bool,
    /// Only incidents created at or after this time.
    pub since: Option<Timestamp>,
    /// Only the automatic incidents of this monitor.
    pub auto_monitor: Option<MonitorId>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// Incidents, their timelines and maintenance windows. Aggregates are saved whole with
/// optimistic concurrency: `save_*` fails with [`StoreError::Conflict`] when the stored
/// version is not `expected_version`, and stores the aggregate with `version + 1`.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Saves the incident (insert when `expected_version` is 0 and it does not exist) and appends
    /// `timeline` in the same transaction. Returns the stored version.
    async fn save_incident(
        &self,
        incident: &crate::incident::Incident,
        expected_version: u64,
        timeline: &[crate::incident::TimelineEntry],
    ) -> Result<u64, StoreError>;

    async fn incident(&self, id: &str) -> Result<Option<crate::incident::Incident>, StoreError>;

    /// Newest first.
    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<crate::incident::Incident>, StoreError>;

    /// Oldest first.
    async fn timeline(&self, incident: &str) -> Result<Vec<crate::incident::TimelineEntry>, StoreError>;

    /// Appends entries without touching the incident (alerts, acknowledgements, notes).
    async fn append_timeline(&self, entries: &[crate::incident::TimelineEntry]) -> Result<(), StoreError>;

    /// Insert (when `expected_version` is 0) or update a maintenance window. Returns the stored version.
    async fn save_maintenance(
        &self,
        maintenance: &crate::maintenance::Maintenance,
        expected_version: u64,
    ) -> Result<u64, StoreError>;

    async fn maintenance(&self, id: &str) -> Result<Option<crate::maintenance::Maintenance>, StoreError>;

    /// Every window whose last possible end is at or after `since` (recurring ones always), by start.
    async fn maintenances(
        &self,
        since: Timestamp,
    ) -> Result<Vec<crate::maintenance::Maintenance>, StoreError>;

    async fn delete_maintenance(&self, id: &str) -> Result<bool, StoreError>;

    /// A named progress marker of a background worker (e.g. which transitions incident
    /// automation has handled), as an opaque string.
    async fn cursor(&self, name: &str) -> Result<Option<String>, StoreError>;

    async fn set_cursor(&self, name: &str, value: &str) -> Result<(), StoreError>;
}

/// Alerts and the notification outbox.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// One routing step, atomically: opens `opened` alerts, saves `changed` alerts (optimistic,
    /// by their `version`), queues `deliveries` (a delivery whose idempotency key exists is
    /// skipped) and sets the cursor `name` to `value`.
    async fn route(
        &self,
        opened: &[crate::alert::Alert],
        changed: &[crate::alert::Alert],
        deliveries: &[crate::alert::Delivery],
        cursor: Option<(&str, &str)>,
    ) -> Result<(), StoreError>;

    async fn alert(&self, id: &str) -> Result<Option<crate::alert::Alert>, StoreError>;

    /// Alerts not resolved yet, acknowledged or not, oldest first: what the dispatcher works
    /// on at every step (an acknowledged alert stops paging, yet still resolves — telling the
    /// channels it paged — when its subject recovers). Indexed: resolved alerts, never pruned,
    /// cost nothing here.
    async fn unresolved_alerts(&self) -> Result<Vec<crate::alert::Alert>, StoreError>;

    /// Alerts neither acknowledged nor resolved (still paging), oldest first.
    async fn active_alerts(&self) -> Result<Vec<crate::alert::Alert>, StoreError> {
        let mut alerts = self.unresolved_alerts().await?;
        alerts.retain(crate::alert::Alert::is_active);
        Ok(alerts)
    }

    /// Pending deliveries due at `now`, oldest first, at most `limit`.
    async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<crate::alert::Delivery>, StoreError>;

    /// Stores a delivery's new attempt count, status, error and next attempt.
    async fn save_delivery(&self, delivery: &crate::alert::Delivery) -> Result<(), StoreError>;

    /// Deliveries by status (all when `None`), newest first.
    async fn deliveries(
        &self,
        status: Option<crate::alert::DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<crate::alert::Delivery>, StoreError>;
}

/// Status page subscribers (see [`crate::subscriber`]).
#[async_trait]
pub trait SubscriberStore: Send + Sync {
    /// Adds a subscriber; `false` (and nothing stored) when one with the same address
    /// ([`crate::subscriber::SubscriberKind::key`]) exists.
    async fn add_subscriber(&self, subscriber: &crate::subscriber::Subscriber) -> Result<bool, StoreError>;

    async fn subscriber(&self, id: &str) -> Result<Option<crate::subscriber::Subscriber>, StoreError>;

    /// The subscriber whose token hashes to `token_hash` (see [`crate::subscriber::hash_token`]).
    async fn subscriber_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<crate::subscriber::Subscriber>, StoreError>;

    /// Marks the subscriber confirmed at `at` (kept when it already was); `false` when missing.
    async fn confirm_subscriber(&self, id: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// `false` when there was no such subscriber.
    async fn delete_subscriber(&self, id: &str) -> Result<bool, StoreError>;

    /// Confirmed subscribers interested in `components` (see
    /// [`crate::subscriber::Subscriber::wants`]), oldest first.
    async fn confirmed_subscribers(
        &self,
        components: &[MonitorId],
    ) -> Result<Vec<crate::subscriber::Subscriber>, StoreError>;

    /// Every subscriber, confirmed or not, oldest first (the console's list).
    async fn all_subscribers(&self) -> Result<Vec<crate::subscriber::Subscriber>, StoreError>;
}

/// Console users, their sessions, the audit log and the vault of sealed secrets (see
/// [`crate::access`] and [`crate::vault`]).
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Inserts or replaces the user with `user.id`; [`StoreError::Conflict`] when another user
    /// already has the name.
    async fn save_user(&self, user: &crate::access::User) -> Result<(), StoreError>;

    async fn user(&self, id: &str) -> Result<Option<crate::access::User>, StoreError>;

    async fn user_by_name(&self, name: &str) -> Result<Option<crate::access::User>, StoreError>;

    /// Every user, by name.
    async fn users(&self) -> Result<Vec<crate::access::User>, StoreError>;

    /// Deletes the user and its sessions; `false` when there was none.
    async fn delete_user(&self, id: &str) -> Result<bool, StoreError>;

    async fn insert_session(&self, session: &crate::access::Session) -> Result<(), StoreError>;

    /// The session whose cookie secret hashes to `hash`, expired or not.
    async fn session(&self, hash: &str) -> Result<Option<crate::access::Session>, StoreError>;

    /// `false` when there was none.
    async fn delete_session(&self, hash: &str) -> Result<bool, StoreError>;

    /// Ends every session of a user ("log out everywhere"); how many there were.
    async fn delete_sessions_of(&self, user_id: &str) -> Result<u64, StoreError>;

    /// Drops sessions expired before `now`; how many.
    async fn prune_sessions(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// Appends an entry (its `id` is ignored and assigned); returns the id.
    async fn append_audit(&self, entry: &crate::access::AuditEntry) -> Result<i64, StoreError>;

    /// Entries newest first, with ids below `before` when given, at most `limit`.
    async fn audit(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::access::AuditEntry>, StoreError>;

    /// A sealed value ([`crate::vault::MasterKey::seal`]) by name.
    async fn vault_get(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Inserts or replaces a sealed value.
    async fn vault_put(&self, name: &str, sealed: &str) -> Result<(), StoreError>;

    /// `false` when there was none.
    async fn vault_delete(&self, name: &str) -> Result<bool, StoreError>;

    /// Every entry whose name starts with `prefix` (all for `""`), by name.
    async fn vault_list(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Replaces the values of the given entries in one transaction (key rotation: either every
    /// value is under the new key or none is).
    async fn vault_replace(&self, entries: &[(String, String)]) -> Result<(), StoreError>;
}

/// Every storage role in one object, as the wiring hands it around.
pub trait Storage: Store + IncidentStore + AlertStore + SubscriberStore + AdminStore {}

impl<T: Store + IncidentStore + AlertStore + SubscriberStore + AdminStore> Storage for T {}

/// Where a worker is in the stream of transitions (`at` in epoch ms, then monitor id), so it
/// handles each transition once, in order, across restarts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TransitionCursor {
    pub at_ms: i64,
    pub monitor: String,
}

impl TransitionCursor {
    /// A cursor before everything recorded after `at`.
    pub fn at(at: Timestamp) -> Self {
        Self { at_ms: at.as_millisecond(), monitor: String::new() }
    }

    pub fn of(t: &Transition) -> Self {
        Self { at_ms: t.at.as_millisecond(), monitor: t.monitor.to_string() }
    }

    pub fn encode(&self) -> String {
        format!("{}:{}", self.at_ms, self.monitor)
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (ms, monitor) = raw.split_once(':')?;
        Some(Self { at_ms: ms.parse().ok()?, monitor: monitor.to_owned() })
    }

    /// On a first start, makes the worker `name` begin with transitions from `now` on (history
    /// before it is not turned into alerts or incidents). Call before the engine runs, so no
    /// transition falls between the engine's start and the worker's first step.
    pub async fn start_if_new(
        store: &dyn IncidentStore,
        name: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if store.cursor(name).await?.is_none() {
            store.set_cursor(name, &Self::at(now).encode()).await?;
        }
        Ok(())
    }

    /// The transitions after this cursor, oldest first.
    pub async fn pending(&self, store: &dyn Store) -> Result<Vec<Transition>, StoreError> {
        let since = Timestamp::from_millisecond(self.at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut pending = store.transitions(None, Some(since), 100_000).await?;
        pending.retain(|t| Self::of(t) > *self);
        pending.sort_by_key(Self::of);
        Ok(pending)
    }
}

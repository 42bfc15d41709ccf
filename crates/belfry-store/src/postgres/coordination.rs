//! Several nodes on one PostgreSQL database share the monitors by session advisory locks, held
//! on one dedicated connection per node:
//!
//! - `(MEMBERS, 0)`, shared: every live node holds it, so `pg_locks` counts the nodes;
//! - `(BUCKETS, b)` for each bucket `b` a node runs;
//! - `(DESK, 0)`: the one node running the desk.
//!
//! A node that dies (or whose connection ends) loses its locks at once, with no lease to wait
//! out; the server notices a silent peer through TCP keepalives set on the session. A bucket is
//! taken only after it has been seen free for [`TAKEOVER_GRACE`], so that a node that was
//! cut off from the database (and kept checking, as it must) can re-lock its buckets first;
//! a node's very first step may take free buckets at once.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use belfry_core::coordination::{self, BUCKETS, Change, ChangeListener, Coordination, Share};
use belfry_core::store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::{ConnectOptions, Row};

use super::changes::{self, PgChangeListener};
use super::error::db;

/// Advisory lock namespaces (the first key of the two-key form): "Belf" + 1, 2, 3.
const MEMBERS: i32 = 0x4265_6c01;
const DESK: i32 = 0x4265_6c02;
const BUCKET_LOCKS: i32 = 0x4265_6c03;

/// How long a bucket must have been free before a node takes it over.
pub const TAKEOVER_GRACE: Duration = Duration::from_secs(3);
/// A balancing step that takes longer gives up, and the node drops its lock connection.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);

/// The advisory locks of this database: (namespace, key, backend pid).
const LOCKS: &str = "SELECT classid::int8 AS ns, objid::int8 AS key, pid FROM pg_locks \
     WHERE locktype = 'advisory' AND granted AND objsubid = 2 \
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
       AND classid::int8 IN ($1, $2, $3)";
const TRY_LOCK_BUCKETS: &str = "SELECT b FROM unnest($1::int4[]) AS b WHERE pg_try_advisory_lock($2, b)";
const UNLOCK_BUCKETS: &str = "SELECT pg_advisory_unlock($2, b) FROM unnest($1::int4[]) AS b";
/// The server drops a silent node's session (and its locks) after about 5 + 2 × 3 seconds.
const KEEPALIVES: &str = "SELECT set_config('tcp_keepalives_idle', '5', false), \
     set_config('tcp_keepalives_interval', '2', false), set_config('tcp_keepalives_count', '3', false)";

/// A node's part in sharing one PostgreSQL database (see the module docs).
pub struct PgCoordination {
    options: PgConnectOptions,
    pool: PgPool,
    node: String,
    session: tokio::sync::Mutex<Session>,
}

#[derive(Default)]
struct Session {
    conn: Option<PgConnection>,
    held: BTreeSet<u32>,
    desk: bool,
    /// Buckets held when the connection was lost, re-locked first when it is back.
    lost: BTreeSet<u32>,
    /// When each bucket was first seen free (since then, without a break).
    free_since: HashMap<u32, Instant>,
    /// No step has succeeded yet.
    fresh: bool,
}

impl PgCoordination {
    pub(super) fn new(options: PgConnectOptions, pool: PgPool, node: String) -> Self {
        let session = Session { fresh: true, ..Session::default() };
        Self { options, pool, node, session: tokio::sync::Mutex::new(session) }
    }

    /// Rotates the order in which this node reaches for free buckets.
    fn seed(&self) -> u32 {
        self.node.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % BUCKETS
    }

    async fn step(&self, s: &mut Session, busy: &BTreeSet<u32>) -> Result<Share, StoreError> {
        if s.conn.is_none() {
            let mut conn = self.options.connect().await.map_err(db)?;
            sqlx::query(KEEPALIVES).execute(&mut conn).await.map_err(db)?;
            sqlx::query("SELECT pg_advisory_lock_shared($1, 0)")
                .bind(MEMBERS)
                .execute(&mut conn)
                .await
                .map_err(db)?;
            let lost: Vec<i32> = s.lost.iter().map(|b| *b as i32).collect();
            let back = try_lock(&mut conn, &lost).await?;
            if back.len() < lost.len() {
                tracing::info!(
                    kept = back.len(),
                    gone = lost.len() - back.len(),
                    "coordination connection back; buckets taken over meanwhile are left to their new node"
                );
            }
            s.held = back;
            s.lost.clear();
            s.conn = Some(conn);
        }
        let conn = s.conn.as_mut().expect("connected above");
        let rows = sqlx::query(LOCKS)
            .bind(i64::from(MEMBERS))
            .bind(i64::from(DESK))
            .bind(i64::from(BUCKET_LOCKS))
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        let mut members = BTreeSet::new();
        let mut taken = BTreeSet::new();
        for row in rows {
            let (ns, key, pid): (i64, i64, i32) = (
                row.try_get("ns").map_err(db)?,
                row.try_get("key").map_err(db)?,
                row.try_get("pid").map_err(db)?,
            );
            if ns == i64::from(MEMBERS) {
                members.insert(pid);
            } else if ns == i64::from(BUCKET_LOCKS) {
                taken.insert(key as u32);
            }
        }
        let now = Instant::now();
        s.free_since.retain(|b, _| !taken.contains(b));
        for b in (0..BUCKETS).filter(|b| !taken.contains(b)) {
            s.free_since.entry(b).or_insert(now);
        }
        let claimable: BTreeSet<u32> = s
            .free_since
            .iter()
            .filter(|(_, since)| s.fresh || now.duration_since(**since) >= TAKEOVER_GRACE)
            .map(|(b, _)| *b)
            .collect();
        let busy: BTreeSet<u32> = busy.intersection(&s.held).copied().collect();
        let plan = coordination::plan(&s.held, &claimable, members.len().max(1), &busy, self.seed());
        if !plan.take.is_empty() {
            let want: Vec<i32> = plan.take.iter().map(|b| *b as i32).collect();
            let got = try_lock(conn, &want).await?;
            for b in &got {
                s.free_since.remove(b);
            }
            s.held.extend(got);
        }
        if !plan.release.is_empty() {
            let give: Vec<i32> = plan.release.iter().map(|b| *b as i32).collect();
            sqlx::query(UNLOCK_BUCKETS)
                .bind(&give)
                .bind(BUCKET_LOCKS)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            for b in &plan.release {
                s.held.remove(b);
            }
        }
        if !s.desk {
            s.desk = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, 0)")
                .bind(DESK)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
        }
        s.fresh = false;
        Ok(Share { buckets: Some(s.held.clone()), desk: s.desk, nodes: members.len().max(1) })
    }
}

async fn try_lock(conn: &mut PgConnection, buckets: &[i32]) -> Result<BTreeSet<u32>, StoreError> {
    if buckets.is_empty() {
        return Ok(BTreeSet::new());
    }
    let got: Vec<i32> = sqlx::query_scalar(TRY_LOCK_BUCKETS)
        .bind(buckets)
        .bind(BUCKET_LOCKS)
        .fetch_all(conn)
        .await
        .map_err(db)?;
    Ok(got.into_iter().map(|b| b as u32).collect())
}

#[async_trait]
impl Coordination for PgCoordination {
    async fn balance(&self, busy: &BTreeSet<u32>) -> Result<Share, StoreError> {
        let mut s = self.session.lock().await;
        let outcome = match tokio::time::timeout(STEP_TIMEOUT, self.step(&mut s, busy)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(StoreError::Unavailable(format!(
                "the coordination step took longer than {} s",
                STEP_TIMEOUT.as_secs()
            ))),
        };
        if outcome.is_err() {
            // Dropping the connection ends the session: whatever it still holds is freed.
            s.conn = None;
            let held = std::mem::take(&mut s.held);
            s.lost.extend(held);
            s.desk = false;
            s.free_since.clear();
        }
        outcome
    }

    async fn announce(&self, change: &Change) -> Result<(), StoreError> {
        changes::notify(&self.pool, &self.node, change).await
    }

    async fn listen(&self) -> Result<Box<dyn ChangeListener>, StoreError> {
        Ok(Box::new(PgChangeListener::open(self.options.clone(), self.node.clone()).await?))
    }
}

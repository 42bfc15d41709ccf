//! The PostgreSQL backend: a bounded, reconnecting sqlx pool to a database several Belfry
//! nodes may share.

/// The pool the queries in `backend_shared/` (compiled once per backend) run on.
type Pool = sqlx::PgPool;

// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/access.rs"]
mod access;
mod admin;
mod alerts;
mod changes;
mod connect;
mod coordination;
// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/cursors.rs"]
mod cursors;
// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/downtime.rs"]
mod downtime;
mod error;
mod incidents;
// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/maintenances.rs"]
mod maintenances;
mod results;
mod rollups;
mod states;
mod store;
mod subscribers;
// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/tokens.rs"]
mod tokens;
mod transitions;
// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/vault.rs"]
mod vault;

pub use coordination::{PgCoordination, TAKEOVER_GRACE};
pub use store::PgStore;

/// A write transaction for the queries in `backend_shared/` (READ COMMITTED, as every other
/// write here).
async fn begin_write(
    pool: &Pool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, belfry_core::store::StoreError> {
    pool.begin().await.map_err(error::db)
}

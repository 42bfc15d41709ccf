//! The SQLite backend: one database file in WAL mode behind a bounded sqlx pool.

/// The pool the queries in `backend_shared/` (compiled once per backend) run on.
type Pool = sqlx::SqlitePool;

// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/access.rs"]
mod access;
mod admin;
mod alerts;
mod connect;
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

pub use store::SqliteStore;

/// A write transaction for the queries in `backend_shared/`. IMMEDIATE takes the write lock
/// up front (waiting up to busy_timeout), so the transaction cannot fail half-way on a lock
/// upgrade.
async fn begin_write(
    pool: &Pool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, belfry_core::store::StoreError> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(error::db)
}

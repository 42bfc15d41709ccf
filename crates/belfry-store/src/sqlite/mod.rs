//! The SQLite backend: one database file in WAL mode behind a bounded sqlx pool.

/// The pool the queries in `backend_shared/` (compiled once per backend) run on.
type Pool = sqlx::SqlitePool;

mod alerts;
mod connect;
// Compiled once per backend on purpose (against this backend's `Pool`).
#[allow(clippy::duplicate_mod)]
#[path = "../backend_shared/cursors.rs"]
mod cursors;
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

pub use store::SqliteStore;

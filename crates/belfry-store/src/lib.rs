//! Belfry storage: implementations of the `belfry_core::Store`, `IncidentStore`, `AlertStore`,
//! `SubscriberStore` and `AdminStore` ports.
//!
//! Two backends, `sqlite` (embedded, the default) and `postgres` (several nodes); the pieces
//! that do not depend on the backend (column codecs, portable SQL, down periods, rollup maths
//! and the compaction driver) live beside them and are shared. Query modules whose text is the
//! same for both backends live once in `backend_shared/` and are compiled into each backend
//! against its own `Pool` type.

mod admin_codec;
mod admin_sql;
mod alert_codec;
mod alert_sql;
mod batch;
mod codec;
mod compaction;
mod error;
mod incident_codec;
mod incident_sql;
mod periods;
pub mod postgres;
mod rollup;
mod sql;
pub mod sqlite;
mod subscriber_codec;
mod subscriber_sql;

pub use postgres::{PgCoordination, PgStore};
pub use sqlite::SqliteStore;

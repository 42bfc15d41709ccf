//! The backend-neutral half of translating sqlx errors to `StoreError`: pool, I/O and decode
//! failures mean the same on every backend; each backend maps its own server error codes.

use belfry_core::store::StoreError;
use sqlx::error::{DatabaseError, ErrorKind};

/// What a server-reported error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The database cannot serve now (down, full, refusing connections): retry later.
    Unavailable,
    /// The stored data itself is damaged.
    Corrupt,
}

/// Translates `err`, asking `classify` about errors the database itself reported (`None`
/// for codes with no special meaning, which become `Other`).
pub(crate) fn translate(
    err: sqlx::Error,
    classify: impl FnOnce(&dyn DatabaseError) -> Option<Class>,
) -> StoreError {
    match err {
        sqlx::Error::PoolTimedOut => StoreError::PoolExhausted,
        sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Configuration(_)
        | sqlx::Error::BeginFailed => StoreError::Unavailable(err.to_string()),
        sqlx::Error::Decode(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => StoreError::Corrupt(err.to_string()),
        sqlx::Error::Database(ref e) => {
            if e.kind() == ErrorKind::UniqueViolation {
                return StoreError::Other(format!("already exists: {e}"));
            }
            match classify(e.as_ref()) {
                Some(Class::Unavailable) => StoreError::Unavailable(err.to_string()),
                Some(Class::Corrupt) => StoreError::Corrupt(err.to_string()),
                None => StoreError::Other(err.to_string()),
            }
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// Whether the database itself refused `err` on a constraint of `kind` (before
/// [`translate`], for callers that give a violation its own meaning).
pub(crate) fn violates(err: &sqlx::Error, kind: ErrorKind) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.kind() == kind)
}

/// Translates a migration failure, running statement errors through `db`.
pub(crate) fn migrate(err: sqlx::migrate::MigrateError, db: fn(sqlx::Error) -> StoreError) -> StoreError {
    match err {
        sqlx::migrate::MigrateError::Execute(e) => db(e),
        other => StoreError::Other(format!("migration: {other}")),
    }
}

//! sqlx errors translated to `StoreError` at the boundary, with PostgreSQL's SQLSTATE codes
//! (https://www.postgresql.org/docs/current/errcodes-appendix.html).

use belfry_core::store::StoreError;
use sqlx::error::DatabaseError;

use crate::error::Class;

pub(super) fn db(err: sqlx::Error) -> StoreError {
    crate::error::translate(err, classify)
}

pub(super) fn migrate(err: sqlx::migrate::MigrateError) -> StoreError {
    crate::error::migrate(err, db)
}

/// Errors that go away when the server does (restart, failover, load), as `Unavailable`, so
/// callers keep their data and retry; damaged data as `Corrupt`.
fn classify(e: &dyn DatabaseError) -> Option<Class> {
    let code = e.code()?;
    let unavailable = code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources: 53300 too many connections, disk full
        || code.starts_with("57P") // admin shutdown, crash shutdown, cannot connect now
        || matches!(
            code.as_ref(),
            "3D000" // the database does not exist (yet, or any more)
                | "28000" | "28P01" // authentication refused
                | "25006" // read-only transaction: connected to a standby after a failover
                | "40001" | "40P01" // serialization failure, deadlock: retry
        )
        // ALTER DATABASE … ALLOW_CONNECTIONS false
        || (code == "55000" && e.message().contains("not currently accepting connections"));
    if unavailable {
        Some(Class::Unavailable)
    } else if matches!(code.as_ref(), "XX001" | "XX002") {
        Some(Class::Corrupt)
    } else {
        None
    }
}

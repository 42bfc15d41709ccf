//! Opening the pool and bringing the schema up to date.

use std::str::FromStr;
use std::time::Duration;

use belfry_core::store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::error;

/// How long a caller waits for a pooled connection (or for PostgreSQL to accept a new one)
/// before the call fails and the caller keeps its data for later.
pub(super) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// Idle connections are closed after this, so a quiet node gives its slots back.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Parses `url` (`postgres://user[:password]@host[:port]/db`).
pub(super) fn options(url: &str) -> Result<PgConnectOptions, StoreError> {
    if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
        return Err(StoreError::Unavailable("not a postgres url (postgres://user@host/db)".into()));
    }
    // The error names the part that is wrong; the URL itself may hold a password.
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad postgres url: {e}")))?;
    Ok(options.application_name("belfry"))
}

/// `user@host:port/db`, for messages (never the password).
pub(super) fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username())
    )
}

/// A pool of at most `max_connections`, opened lazily and re-opened after PostgreSQL restarts
/// (every idle connection is tested before it is handed out), with the migrations run.
/// Several nodes may run them at once: sqlx serialises them with an advisory lock.
pub(super) async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, StoreError> {
    let target = describe(&options);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .min_connections(0)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(true)
        .idle_timeout(Some(IDLE_TIMEOUT))
        .connect_lazy_with(options);
    MIGRATOR.run(&pool).await.map_err(|e| match error::migrate(e) {
        StoreError::PoolExhausted => StoreError::Unavailable(format!(
            "PostgreSQL at {target} accepted no connection within {} s",
            ACQUIRE_TIMEOUT.as_secs()
        )),
        StoreError::Unavailable(why) => StoreError::Unavailable(format!("PostgreSQL at {target}: {why}")),
        other => other,
    })?;
    Ok(pool)
}

//! Opening the database: file creation, pragmas, the pool and embedded migrations.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use belfry_core::store::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::error;

/// How long a writer waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a pooled connection before `PoolExhausted`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens (creating if missing) the database at `url` (`sqlite://path/to/file.db`, relative to
/// the working directory, or `sqlite:///absolute/path.db`) and brings its schema up to date.
pub(super) async fn connect(url: &str, max_connections: u32) -> Result<SqlitePool, StoreError> {
    if !url.starts_with("sqlite:") {
        return Err(StoreError::Unavailable(format!("not a sqlite url: {url:?}")));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad sqlite url {url:?}: {e}")))?
        .create_if_missing(true)
        // WAL with synchronous=NORMAL: a committed transaction survives a crash of the process
        // (`kill -9`); only an OS crash or power loss may lose the last commits.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(error::db)?;
    MIGRATOR.run(&pool).await.map_err(error::migrate)?;
    Ok(pool)
}

fn create_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))
}

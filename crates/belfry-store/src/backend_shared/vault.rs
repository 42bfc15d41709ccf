//! The vault: sealed secrets by name, kept exactly as given (sealing is the caller's).

use super::Pool;
use belfry_core::clock::epoch_ms;
use belfry_core::store::StoreError;
use jiff::Timestamp;

use super::error::db;
use crate::admin_sql as sql;

pub(super) async fn get(pool: &Pool, name: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar(sql::VAULT_GET).bind(name).fetch_optional(pool).await.map_err(db)
}

pub(super) async fn put(pool: &Pool, name: &str, sealed: &str) -> Result<(), StoreError> {
    sqlx::query(sql::VAULT_PUT)
        .bind(name)
        .bind(sealed)
        .bind(epoch_ms(Timestamp::now()))
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

/// Whether the entry existed.
pub(super) async fn delete(pool: &Pool, name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(sql::VAULT_DELETE).bind(name).execute(pool).await.map_err(db)?;
    Ok(done.rows_affected() > 0)
}

/// Entries whose name starts with `prefix`, by name.
pub(super) async fn list(pool: &Pool, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
    sqlx::query_as(sql::VAULT_LIST).bind(prefix).fetch_all(pool).await.map_err(db)
}

/// Inserts or replaces every entry in one transaction: readers see all the new values or none.
pub(super) async fn replace(pool: &Pool, entries: &[(String, String)]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let now = epoch_ms(Timestamp::now());
    let mut tx = super::begin_write(pool).await?;
    for (name, sealed) in entries {
        sqlx::query(sql::VAULT_PUT).bind(name).bind(sealed).bind(now).execute(&mut *tx).await.map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

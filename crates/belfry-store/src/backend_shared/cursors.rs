//! Named progress markers of background workers.

use super::Pool;
use belfry_core::store::StoreError;

use super::error::db;
use crate::incident_sql as sql;

pub(super) async fn get(pool: &Pool, name: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar(sql::CURSOR).bind(name).fetch_optional(pool).await.map_err(db)
}

pub(super) async fn set(pool: &Pool, name: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(sql::SET_CURSOR).bind(name).bind(value).execute(pool).await.map_err(db)?;
    Ok(())
}

//! API tokens, looked up by the hash of their secret.

use super::Pool;
use belfry_core::auth::ApiToken;
use belfry_core::store::StoreError;

use super::error::db;
use crate::{codec, sql};

pub(super) async fn insert(pool: &Pool, token: &ApiToken) -> Result<(), StoreError> {
    let (id, scope, hash, created_at) = codec::encode_token(token);
    sqlx::query(sql::INSERT_TOKEN)
        .bind(id)
        .bind(scope)
        .bind(hash)
        .bind(created_at)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn by_hash(pool: &Pool, hash: &str) -> Result<Option<ApiToken>, StoreError> {
    let row: Option<(String, String, String, i64)> =
        sqlx::query_as(sql::TOKEN_BY_HASH).bind(hash).fetch_optional(pool).await.map_err(db)?;
    row.map(|(id, scope, hash, created_at)| codec::decode_token(id, &scope, hash, created_at)).transpose()
}

pub(super) async fn all(pool: &Pool) -> Result<Vec<ApiToken>, StoreError> {
    let rows: Vec<(String, String, String, i64)> =
        sqlx::query_as(sql::TOKENS).fetch_all(pool).await.map_err(db)?;
    rows.into_iter()
        .map(|(id, scope, hash, created_at)| codec::decode_token(id, &scope, hash, created_at))
        .collect()
}

pub(super) async fn delete(pool: &Pool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(sql::DELETE_TOKEN).bind(id).execute(pool).await.map_err(db)?;
    Ok(done.rows_affected() > 0)
}

//! API tokens, looked up by the hash of their secret.

use super::Pool;
use belfry_core::auth::ApiToken;
use belfry_core::store::StoreError;

use super::error::db;
use crate::{codec, sql};

/// A `tokens` row as fetched: `(id, scope, hash, created_at)`.
type TokenRow = (String, String, String, i64);

fn decode((id, scope, hash, created_at): TokenRow) -> Result<ApiToken, StoreError> {
    codec::decode_token(id, &scope, hash, created_at)
}

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
    let row: Option<TokenRow> =
        sqlx::query_as(sql::TOKEN_BY_HASH).bind(hash).fetch_optional(pool).await.map_err(db)?;
    row.map(decode).transpose()
}

pub(super) async fn all(pool: &Pool) -> Result<Vec<ApiToken>, StoreError> {
    let rows: Vec<TokenRow> = sqlx::query_as(sql::TOKENS).fetch_all(pool).await.map_err(db)?;
    rows.into_iter().map(decode).collect()
}

pub(super) async fn delete(pool: &Pool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(sql::DELETE_TOKEN).bind(id).execute(pool).await.map_err(db)?;
    Ok(done.rows_affected() > 0)
}

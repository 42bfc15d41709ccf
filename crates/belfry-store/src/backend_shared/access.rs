//! Console users, their sessions and the audit log.

use super::Pool;
use belfry_core::access::{AuditEntry, Session, User};
use belfry_core::clock::epoch_ms;
use belfry_core::store::StoreError;
use jiff::Timestamp;
use sqlx::error::ErrorKind;

use super::error::db;
use crate::admin_codec::{self as codec, AuditRow, SessionRow, UserRow};
use crate::admin_sql as sql;
use crate::error::violates;

/// Inserts or replaces the user with `user.id`; `Conflict` when another user has the name.
/// One statement: two saves racing for one name serialise on the unique index, and the later
/// one fails.
pub(super) async fn save_user(pool: &Pool, user: &User) -> Result<(), StoreError> {
    let (id, name, role, password_hash, totp, created_at) = codec::encode_user(user);
    sqlx::query(sql::SAVE_USER)
        .bind(id)
        .bind(name)
        .bind(role)
        .bind(password_hash)
        .bind(totp)
        .bind(created_at)
        .execute(pool)
        .await
        .map_err(|e| {
            if violates(&e, ErrorKind::UniqueViolation) { codec::name_taken(&user.name) } else { db(e) }
        })?;
    Ok(())
}

pub(super) async fn user(pool: &Pool, id: &str) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> =
        sqlx::query_as(sql::USER_BY_ID).bind(id).fetch_optional(pool).await.map_err(db)?;
    row.map(codec::decode_user).transpose()
}

pub(super) async fn user_by_name(pool: &Pool, name: &str) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> =
        sqlx::query_as(sql::USER_BY_NAME).bind(name).fetch_optional(pool).await.map_err(db)?;
    row.map(codec::decode_user).transpose()
}

pub(super) async fn users(pool: &Pool) -> Result<Vec<User>, StoreError> {
    let rows: Vec<UserRow> = sqlx::query_as(sql::USERS).fetch_all(pool).await.map_err(db)?;
    codec::decode_users(rows)
}

/// Deletes the user and its sessions in one transaction; whether the user existed.
pub(super) async fn delete_user(pool: &Pool, id: &str) -> Result<bool, StoreError> {
    let mut tx = super::begin_write(pool).await?;
    sqlx::query(sql::DELETE_SESSIONS_OF).bind(id).execute(&mut *tx).await.map_err(db)?;
    let done = sqlx::query(sql::DELETE_USER).bind(id).execute(&mut *tx).await.map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(done.rows_affected() > 0)
}

/// Fails (`Other`) when the user does not exist: the foreign key refuses the row.
pub(super) async fn insert_session(pool: &Pool, session: &Session) -> Result<(), StoreError> {
    let (hash, user_id, csrf, created_at, expires_at) = codec::encode_session(session);
    sqlx::query(sql::INSERT_SESSION)
        .bind(hash)
        .bind(user_id)
        .bind(csrf)
        .bind(created_at)
        .bind(expires_at)
        .execute(pool)
        .await
        .map_err(|e| {
            if violates(&e, ErrorKind::ForeignKeyViolation) {
                codec::unknown_user(&session.user_id)
            } else {
                db(e)
            }
        })?;
    Ok(())
}

pub(super) async fn session(pool: &Pool, hash: &str) -> Result<Option<Session>, StoreError> {
    let row: Option<SessionRow> =
        sqlx::query_as(sql::SESSION_BY_HASH).bind(hash).fetch_optional(pool).await.map_err(db)?;
    Ok(row.map(codec::decode_session))
}

/// Whether the session existed.
pub(super) async fn delete_session(pool: &Pool, hash: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(sql::DELETE_SESSION).bind(hash).execute(pool).await.map_err(db)?;
    Ok(done.rows_affected() > 0)
}

/// How many sessions the user had.
pub(super) async fn delete_sessions_of(pool: &Pool, user_id: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(sql::DELETE_SESSIONS_OF).bind(user_id).execute(pool).await.map_err(db)?;
    Ok(done.rows_affected())
}

/// How many sessions expired before `now`.
pub(super) async fn prune_sessions(pool: &Pool, now: Timestamp) -> Result<u64, StoreError> {
    let done = sqlx::query(sql::PRUNE_SESSIONS).bind(epoch_ms(now)).execute(pool).await.map_err(db)?;
    Ok(done.rows_affected())
}

/// Appends the entry (its `id` ignored); the id the database assigned.
pub(super) async fn append_audit(pool: &Pool, entry: &AuditEntry) -> Result<i64, StoreError> {
    let (at, actor, action, object, before, after) = codec::encode_audit(entry)?;
    sqlx::query_scalar(sql::INSERT_AUDIT)
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(object)
        .bind(before)
        .bind(after)
        .fetch_one(pool)
        .await
        .map_err(db)
}

/// Newest first, ids below `before` when given, at most `limit`.
pub(super) async fn audit(
    pool: &Pool,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows: Vec<AuditRow> = sqlx::query_as(sql::AUDIT)
        .bind(codec::audit_before(before))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    codec::decode_audit(rows)
}

//! Column values of users, sessions and audit entries, shared by every backend. See
//! `migrations/*/0005_admin.sql`. Times are epoch ms (below the millisecond is not kept);
//! password hashes and sealed vault values are stored exactly as given.

use belfry_core::access::{AuditEntry, Role, Session, User};
use belfry_core::clock::{epoch_ms, from_epoch_ms};
use belfry_core::store::StoreError;

use crate::codec::corrupt;

/// A `users` row as fetched and written: `(id, name, role, password_hash, totp, created_at)`.
pub(crate) type UserRow = (String, String, String, String, bool, i64);

pub(crate) fn encode_user(u: &User) -> UserRow {
    (
        u.id.clone(),
        u.name.clone(),
        u.role.as_str().to_owned(),
        u.password_hash.clone(),
        u.totp,
        epoch_ms(u.created_at),
    )
}

pub(crate) fn decode_user(
    (id, name, role, password_hash, totp, created_at): UserRow,
) -> Result<User, StoreError> {
    let role = Role::parse(&role).ok_or_else(|| corrupt("user role", &role))?;
    Ok(User { id, name, role, password_hash, totp, created_at: from_epoch_ms(created_at) })
}

pub(crate) fn decode_users(rows: Vec<UserRow>) -> Result<Vec<User>, StoreError> {
    rows.into_iter().map(decode_user).collect()
}

/// The `Conflict` of a save whose name another user has.
pub(crate) fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("user name {name:?} is taken by another user"))
}

/// A `sessions` row: `(hash, user_id, csrf, created_at, expires_at)`.
pub(crate) type SessionRow = (String, String, String, i64, i64);

pub(crate) fn encode_session(s: &Session) -> SessionRow {
    (s.hash.clone(), s.user_id.clone(), s.csrf.clone(), epoch_ms(s.created_at), epoch_ms(s.expires_at))
}

pub(crate) fn decode_session((hash, user_id, csrf, created_at, expires_at): SessionRow) -> Session {
    Session {
        hash,
        user_id,
        csrf,
        created_at: from_epoch_ms(created_at),
        expires_at: from_epoch_ms(expires_at),
    }
}

/// The error of a session whose user does not exist (the foreign key refused it).
pub(crate) fn unknown_user(user_id: &str) -> StoreError {
    StoreError::Other(format!("session of unknown user {user_id:?}"))
}

/// An `audit` row without its id: `(at, actor, action, object, before_json, after_json)`.
pub(crate) type NewAuditRow = (i64, String, String, String, Option<String>, Option<String>);

/// An `audit` row as fetched: the id, then a [`NewAuditRow`].
pub(crate) type AuditRow = (i64, i64, String, String, String, Option<String>, Option<String>);

pub(crate) fn encode_audit(e: &AuditEntry) -> Result<NewAuditRow, StoreError> {
    Ok((
        epoch_ms(e.at),
        e.actor.clone(),
        e.action.clone(),
        e.object.clone(),
        e.before.as_ref().map(to_json).transpose()?,
        e.after.as_ref().map(to_json).transpose()?,
    ))
}

pub(crate) fn decode_audit(rows: Vec<AuditRow>) -> Result<Vec<AuditEntry>, StoreError> {
    rows.into_iter()
        .map(|(id, at, actor, action, object, before, after)| {
            Ok(AuditEntry {
                id,
                at: from_epoch_ms(at),
                actor,
                action,
                object,
                before: before.as_deref().map(from_json).transpose()?,
                after: after.as_deref().map(from_json).transpose()?,
            })
        })
        .collect()
}

/// The id bound of an audit page: ids below `before`, or every id.
pub(crate) fn audit_before(before: Option<i64>) -> i64 {
    before.unwrap_or(i64::MAX)
}

fn to_json(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(format!("audit json: {e}")))
}

fn from_json(raw: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(raw).map_err(|e| corrupt("audit json", e))
}

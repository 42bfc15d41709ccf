//! `AdminStore` for SQLite: users, sessions and the audit log in `access`, sealed secrets in
//! `vault` (both shared with PostgreSQL).

use async_trait::async_trait;
use belfry_core::access::{AuditEntry, Session, User};
use belfry_core::store::{AdminStore, StoreError};
use jiff::Timestamp;

use super::{SqliteStore, access, vault};

#[async_trait]
impl AdminStore for SqliteStore {
    async fn save_user(&self, user: &User) -> Result<(), StoreError> {
        access::save_user(&self.pool, user).await
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        access::user(&self.pool, id).await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        access::user_by_name(&self.pool, name).await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        access::users(&self.pool).await
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        access::delete_user(&self.pool, id).await
    }

    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        access::insert_session(&self.pool, session).await
    }

    async fn session(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        access::session(&self.pool, hash).await
    }

    async fn delete_session(&self, hash: &str) -> Result<bool, StoreError> {
        access::delete_session(&self.pool, hash).await
    }

    async fn delete_sessions_of(&self, user_id: &str) -> Result<u64, StoreError> {
        access::delete_sessions_of(&self.pool, user_id).await
    }

    async fn prune_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        access::prune_sessions(&self.pool, now).await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<i64, StoreError> {
        access::append_audit(&self.pool, entry).await
    }

    async fn audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        access::audit(&self.pool, before, limit).await
    }

    async fn vault_get(&self, name: &str) -> Result<Option<String>, StoreError> {
        vault::get(&self.pool, name).await
    }

    async fn vault_put(&self, name: &str, sealed: &str) -> Result<(), StoreError> {
        vault::put(&self.pool, name, sealed).await
    }

    async fn vault_delete(&self, name: &str) -> Result<bool, StoreError> {
        vault::delete(&self.pool, name).await
    }

    async fn vault_list(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        vault::list(&self.pool, prefix).await
    }

    async fn vault_replace(&self, entries: &[(String, String)]) -> Result<(), StoreError> {
        vault::replace(&self.pool, entries).await
    }
}

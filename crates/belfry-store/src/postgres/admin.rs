//! `AdminStore` for PostgreSQL: users, sessions and the audit log in `access`, sealed secrets
//! in `vault` (both shared with SQLite). Every call goes through `settle`, so a server that
//! accepts no connection reads as `Unavailable`, not as a busy pool.

use async_trait::async_trait;
use belfry_core::access::{AuditEntry, Session, User};
use belfry_core::store::{AdminStore, StoreError};
use jiff::Timestamp;

use super::{PgStore, access, vault};

/// Vault entries holding the console's configuration objects: every node reloads when one
/// changes.
const CONSOLE_OBJECTS: &str = belfry_core::ConsoleObject::VAULT_PREFIX;

impl PgStore {
    async fn tell_if_config(&self, name: &str) {
        if name.starts_with(CONSOLE_OBJECTS) {
            self.tell(belfry_core::coordination::Change::Config).await;
        }
    }
}

#[async_trait]
impl AdminStore for PgStore {
    async fn save_user(&self, user: &User) -> Result<(), StoreError> {
        self.settle(access::save_user(&self.pool, user).await)
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.settle(access::user(&self.pool, id).await)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.settle(access::user_by_name(&self.pool, name).await)
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.settle(access::users(&self.pool).await)
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        self.settle(access::delete_user(&self.pool, id).await)
    }

    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        self.settle(access::insert_session(&self.pool, session).await)
    }

    async fn session(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        self.settle(access::session(&self.pool, hash).await)
    }

    async fn delete_session(&self, hash: &str) -> Result<bool, StoreError> {
        self.settle(access::delete_session(&self.pool, hash).await)
    }

    async fn delete_sessions_of(&self, user_id: &str) -> Result<u64, StoreError> {
        self.settle(access::delete_sessions_of(&self.pool, user_id).await)
    }

    async fn prune_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.settle(access::prune_sessions(&self.pool, now).await)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<i64, StoreError> {
        self.settle(access::append_audit(&self.pool, entry).await)
    }

    async fn audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.settle(access::audit(&self.pool, before, limit).await)
    }

    async fn vault_get(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.settle(vault::get(&self.pool, name).await)
    }

    async fn vault_put(&self, name: &str, sealed: &str) -> Result<(), StoreError> {
        self.settle(vault::put(&self.pool, name, sealed).await)?;
        self.tell_if_config(name).await;
        Ok(())
    }

    async fn vault_delete(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = self.settle(vault::delete(&self.pool, name).await)?;
        if deleted {
            self.tell_if_config(name).await;
        }
        Ok(deleted)
    }

    async fn vault_list(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.settle(vault::list(&self.pool, prefix).await)
    }

    async fn vault_replace(&self, entries: &[(String, String)]) -> Result<(), StoreError> {
        self.settle(vault::replace(&self.pool, entries).await)?;
        if let Some((name, _)) = entries.iter().find(|(name, _)| name.starts_with(CONSOLE_OBJECTS)) {
            self.tell_if_config(name).await;
        }
        Ok(())
    }
}

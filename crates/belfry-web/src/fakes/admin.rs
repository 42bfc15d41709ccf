//! The in-memory `AdminStore`, like the real ones: a name belongs to one user (`Conflict`
//! otherwise), a session needs its user, deleting a user deletes its sessions, audit ids
//! increase, and a vault replace is all or nothing. Hashes and sealed values are kept as given.

use async_trait::async_trait;
use belfry_core::StoreError;
use belfry_core::access::{AuditEntry, Session, User};
use belfry_core::store::AdminStore;
use jiff::Timestamp;

use super::FakeStore;

#[async_trait]
impl AdminStore for FakeStore {
    async fn save_user(&self, user: &User) -> Result<(), StoreError> {
        self.check()?;
        let mut users = self.users.lock().unwrap();
        if users.iter().any(|u| u.name == user.name && u.id != user.id) {
            return Err(StoreError::Conflict(format!("user name {:?} is taken by another user", user.name)));
        }
        match users.iter_mut().find(|u| u.id == user.id) {
            Some(stored) => *stored = user.clone(),
            None => users.push(user.clone()),
        }
        Ok(())
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.check_reachable()?;
        Ok(self.users.lock().unwrap().iter().find(|u| u.id == id).cloned())
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.check_reachable()?;
        Ok(self.users.lock().unwrap().iter().find(|u| u.name == name).cloned())
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.check()?;
        let mut out = self.users.lock().unwrap().clone();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        self.check()?;
        let mut users = self.users.lock().unwrap();
        let before = users.len();
        users.retain(|u| u.id != id);
        if users.len() == before {
            return Ok(false);
        }
        self.sessions.lock().unwrap().retain(|_, s| s.user_id != id);
        Ok(true)
    }

    async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        self.check()?;
        // The users lock is held while inserting, so a session never outlives its user.
        let users = self.users.lock().unwrap();
        if !users.iter().any(|u| u.id == session.user_id) {
            return Err(StoreError::Other(format!("session of unknown user {:?}", session.user_id)));
        }
        let mut sessions = self.sessions.lock().unwrap();
        if sessions.contains_key(&session.hash) {
            return Err(StoreError::Other("already exists: session hash".to_owned()));
        }
        sessions.insert(session.hash.clone(), session.clone());
        Ok(())
    }

    async fn session(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        self.check_reachable()?;
        Ok(self.sessions.lock().unwrap().get(hash).cloned())
    }

    async fn delete_session(&self, hash: &str) -> Result<bool, StoreError> {
        self.check()?;
        Ok(self.sessions.lock().unwrap().remove(hash).is_some())
    }

    async fn delete_sessions_of(&self, user_id: &str) -> Result<u64, StoreError> {
        self.check()?;
        let mut sessions = self.sessions.lock().unwrap();
        let before = sessions.len();
        sessions.retain(|_, s| s.user_id != user_id);
        Ok((before - sessions.len()) as u64)
    }

    async fn prune_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.check()?;
        let mut sessions = self.sessions.lock().unwrap();
        let before = sessions.len();
        sessions.retain(|_, s| s.expires_at >= now);
        Ok((before - sessions.len()) as u64)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<i64, StoreError> {
        self.check()?;
        let mut log = self.audit_log.lock().unwrap();
        let id = log.last().map_or(1, |e| e.id + 1);
        log.push(AuditEntry { id, ..entry.clone() });
        Ok(id)
    }

    async fn audit(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.check()?;
        let log = self.audit_log.lock().unwrap();
        Ok(log
            .iter()
            .rev()
            .filter(|e| before.is_none_or(|b| e.id < b))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn vault_get(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.check()?;
        Ok(self.vault.lock().unwrap().get(name).cloned())
    }

    async fn vault_put(&self, name: &str, sealed: &str) -> Result<(), StoreError> {
        self.check()?;
        self.vault.lock().unwrap().insert(name.to_owned(), sealed.to_owned());
        Ok(())
    }

    async fn vault_delete(&self, name: &str) -> Result<bool, StoreError> {
        self.check()?;
        Ok(self.vault.lock().unwrap().remove(name).is_some())
    }

    async fn vault_list(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.check()?;
        let vault = self.vault.lock().unwrap();
        Ok(vault
            .range(prefix.to_owned()..)
            .take_while(|(name, _)| name.starts_with(prefix))
            .map(|(name, sealed)| (name.clone(), sealed.clone()))
            .collect())
    }

    /// One lock for every entry: readers see all the new values or none.
    async fn vault_replace(&self, entries: &[(String, String)]) -> Result<(), StoreError> {
        self.check()?;
        let mut vault = self.vault.lock().unwrap();
        for (name, sealed) in entries {
            vault.insert(name.clone(), sealed.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use belfry_core::access::Role;

    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn user(id: &str, name: &str) -> User {
        User {
            id: id.into(),
            name: name.into(),
            role: Role::Editor,
            password_hash: "$argon2id$fake".into(),
            totp: false,
            created_at: at(0),
        }
    }

    fn session(hash: &str, user_id: &str, expires: i64) -> Session {
        Session {
            hash: hash.into(),
            user_id: user_id.into(),
            csrf: "c".into(),
            created_at: at(0),
            expires_at: at(expires),
        }
    }

    #[tokio::test]
    async fn the_fake_admin_store_keeps_the_contract() {
        let store = FakeStore::default();
        store.save_user(&user("u1", "bob")).await.unwrap();
        store.save_user(&user("u2", "alice")).await.unwrap();
        assert!(matches!(store.save_user(&user("u3", "bob")).await, Err(StoreError::Conflict(_))));
        let names: Vec<_> = store.users().await.unwrap().into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["alice", "bob"]);

        store.insert_session(&session("h1", "u1", 10)).await.unwrap();
        store.insert_session(&session("h2", "u1", 20)).await.unwrap();
        store.insert_session(&session("h3", "u2", 30)).await.unwrap();
        assert!(store.insert_session(&session("h4", "ghost", 30)).await.is_err());
        assert_eq!(store.prune_sessions(at(10)).await.unwrap(), 0);
        assert_eq!(store.prune_sessions(at(11)).await.unwrap(), 1);
        assert!(store.delete_user("u1").await.unwrap());
        assert_eq!(store.session("h2").await.unwrap(), None);
        assert_eq!(store.delete_sessions_of("u2").await.unwrap(), 1);

        let entry = AuditEntry {
            id: 0,
            at: at(1),
            actor: "cli".into(),
            action: "user.create".into(),
            object: "user:u1".into(),
            before: None,
            after: None,
        };
        let ids = [
            store.append_audit(&entry).await.unwrap(),
            store.append_audit(&entry).await.unwrap(),
            store.append_audit(&entry).await.unwrap(),
        ];
        let page: Vec<_> = store.audit(Some(ids[2]), 5).await.unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(page, [ids[1], ids[0]]);

        for name in ["totp:b", "totp:a", "totpx", "smtp"] {
            store.vault_put(name, "v1:x").await.unwrap();
        }
        store.vault_replace(&[("totp:a".into(), "v2:a".into())]).await.unwrap();
        let listed = store.vault_list("totp:").await.unwrap();
        assert_eq!(
            listed,
            [("totp:a".to_owned(), "v2:a".to_owned()), ("totp:b".to_owned(), "v1:x".to_owned())]
        );
        assert_eq!(store.vault_list("").await.unwrap().len(), 4);
    }
}

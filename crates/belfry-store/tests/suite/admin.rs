//! The admin store story: drives the whole `AdminStore` port (users, sessions, the audit log and
//! the vault) against any backend. Every backend's test calls [`admin_story`] with a fresh,
//! empty store; [`refused_statements_roll_back`] checks the transactions against a database
//! the caller has made refuse one statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use belfry_core::access::{AuditEntry, Role, Session, User, hash_password, verify_password};
use belfry_core::store::{AdminStore, Storage, StoreError};
use belfry_core::vault::{MasterKey, rotate};
use serde_json::json;

use super::data::t;

pub fn user(uid: &str, name: &str, role: Role) -> User {
    User {
        id: uid.to_owned(),
        name: name.to_owned(),
        role,
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${uid}"),
        totp: false,
        created_at: t(100),
    }
}

pub fn session(hash: &str, user_id: &str, expires_at: i64) -> Session {
    Session {
        hash: hash.to_owned(),
        user_id: user_id.to_owned(),
        csrf: format!("csrf-{hash}"),
        created_at: t(1_000),
        expires_at: t(expires_at),
    }
}

fn entry(
    at: i64,
    action: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditEntry {
    AuditEntry {
        // Ignored by the store, which assigns its own.
        id: 999,
        at: t(at),
        actor: "user:alice".into(),
        action: action.into(),
        object: format!("monitor:{action}"),
        before,
        after,
    }
}

pub async fn admin_story(store: Arc<dyn Storage>) {
    let admin: &dyn AdminStore = store.as_ref();
    empty_store(admin).await;
    users_round_trip(admin).await;
    duplicate_names_conflict(admin).await;
    sessions(admin).await;
    deleting_a_user_deletes_its_sessions(admin).await;
    audit_log(admin).await;
    vault(admin).await;
    vault_replace_is_seen_all_at_once(store.clone()).await;
    stored_as_given(admin).await;
}

async fn empty_store(store: &dyn AdminStore) {
    assert_eq!(store.user("nope").await.unwrap(), None);
    assert_eq!(store.user_by_name("nope").await.unwrap(), None);
    assert!(store.users().await.unwrap().is_empty());
    assert!(!store.delete_user("nope").await.unwrap());
    assert_eq!(store.session("nope").await.unwrap(), None);
    assert!(!store.delete_session("nope").await.unwrap());
    assert_eq!(store.delete_sessions_of("nope").await.unwrap(), 0);
    assert_eq!(store.prune_sessions(t(1_000_000)).await.unwrap(), 0);
    assert!(store.audit(None, 10).await.unwrap().is_empty());
    assert_eq!(store.vault_get("nope").await.unwrap(), None);
    assert!(!store.vault_delete("nope").await.unwrap());
    assert!(store.vault_list("").await.unwrap().is_empty());
    store.vault_replace(&[]).await.unwrap();
}

/// Users read back by id and by name, list by name, and a save replaces the user with its id.
async fn users_round_trip(store: &dyn AdminStore) {
    let alice = user("u1", "alice", Role::Admin);
    let mut bob = user("u2", "bob", Role::Viewer);
    bob.totp = true;
    let upper = user("u3", "Carol", Role::Editor);
    for u in [&bob, &alice, &upper] {
        store.save_user(u).await.unwrap();
    }
    assert_eq!(store.user("u1").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.user("u2").await.unwrap(), Some(bob.clone()));
    assert_eq!(store.user_by_name("bob").await.unwrap(), Some(bob.clone()));
    assert_eq!(store.user_by_name("BOB").await.unwrap(), None, "names are exact");
    assert_eq!(store.user_by_name("u2").await.unwrap(), None, "by name, not id");
    // By name, in byte order (upper case first) on every backend.
    assert_eq!(store.users().await.unwrap(), vec![upper.clone(), alice.clone(), bob.clone()]);

    // Saving again replaces: new role, new hash, a second factor, a new name.
    let mut bob2 = User {
        name: "robert".into(),
        role: Role::Editor,
        password_hash: "$argon2id$v=19$new".into(),
        totp: false,
        ..bob.clone()
    };
    store.save_user(&bob2).await.unwrap();
    assert_eq!(store.user("u2").await.unwrap(), Some(bob2.clone()));
    assert_eq!(store.user_by_name("bob").await.unwrap(), None);
    assert_eq!(store.user_by_name("robert").await.unwrap(), Some(bob2.clone()));
    assert_eq!(store.users().await.unwrap().len(), 3);
    // The freed name can be taken by someone else.
    let other_bob = user("u4", "bob", Role::Viewer);
    store.save_user(&other_bob).await.unwrap();
    assert_eq!(store.user_by_name("bob").await.unwrap(), Some(other_bob));
    // Saving unchanged is fine (the user's own name is no conflict).
    bob2.totp = true;
    store.save_user(&bob2).await.unwrap();
    store.save_user(&bob2).await.unwrap();
    assert_eq!(store.user("u2").await.unwrap(), Some(bob2));
}

/// A name another user has is a `Conflict`, on insert and on rename, and changes nothing.
async fn duplicate_names_conflict(store: &dyn AdminStore) {
    let before = store.users().await.unwrap();
    let twin = user("u9", "alice", Role::Admin);
    let err = store.save_user(&twin).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(ref m) if m.contains("alice")), "{err:?}");
    assert_eq!(store.user("u9").await.unwrap(), None);

    let mut renamed = store.user("u2").await.unwrap().unwrap();
    renamed.name = "alice".into();
    renamed.role = Role::Admin;
    let err = store.save_user(&renamed).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.users().await.unwrap(), before, "nothing changed");
    assert_eq!(store.user_by_name("alice").await.unwrap().unwrap().id, "u1");
}

async fn sessions(store: &dyn AdminStore) {
    let a1 = session("h-a1", "u1", 2_000);
    let a2 = session("h-a2", "u1", 5_000);
    let b1 = session("h-b1", "u2", 3_000);
    for s in [&a1, &a2, &b1] {
        store.insert_session(s).await.unwrap();
    }
    assert_eq!(store.session("h-a1").await.unwrap(), Some(a1.clone()));
    assert_eq!(store.session("h-b1").await.unwrap(), Some(b1.clone()));
    assert!(store.insert_session(&session("h-a1", "u2", 9_000)).await.is_err(), "hashes are unique");
    assert_eq!(store.session("h-a1").await.unwrap(), Some(a1.clone()));

    // Expired sessions are still returned (the caller decides); pruning drops those expired
    // strictly before `now`.
    assert_eq!(store.session("h-a1").await.unwrap().unwrap().expires_at, t(2_000));
    assert_eq!(store.prune_sessions(t(2_000)).await.unwrap(), 0, "expiring at now is not expired before it");
    assert_eq!(store.prune_sessions(t(3_001)).await.unwrap(), 2);
    assert_eq!(store.session("h-a1").await.unwrap(), None);
    assert_eq!(store.session("h-b1").await.unwrap(), None);
    assert_eq!(store.session("h-a2").await.unwrap(), Some(a2.clone()));
    assert_eq!(store.prune_sessions(t(3_001)).await.unwrap(), 0);

    assert!(store.delete_session("h-a2").await.unwrap());
    assert!(!store.delete_session("h-a2").await.unwrap());
    assert_eq!(store.session("h-a2").await.unwrap(), None);

    // Log out everywhere: only that user's sessions, counted.
    for i in 0..3 {
        store.insert_session(&session(&format!("h-a{i}"), "u1", 9_000)).await.unwrap();
    }
    store.insert_session(&session("h-b2", "u2", 9_000)).await.unwrap();
    assert_eq!(store.delete_sessions_of("u1").await.unwrap(), 3);
    assert_eq!(store.delete_sessions_of("u1").await.unwrap(), 0);
    assert_eq!(store.session("h-a0").await.unwrap(), None);
    assert!(store.session("h-b2").await.unwrap().is_some());
    assert!(store.delete_session("h-b2").await.unwrap());

    // A session needs its user.
    assert!(store.insert_session(&session("h-ghost", "ghost", 9_000)).await.is_err());
    assert_eq!(store.session("h-ghost").await.unwrap(), None);
}

async fn deleting_a_user_deletes_its_sessions(store: &dyn AdminStore) {
    let dora = user("u5", "dora", Role::Editor);
    store.save_user(&dora).await.unwrap();
    store.insert_session(&session("h-d1", "u5", 9_000)).await.unwrap();
    store.insert_session(&session("h-d2", "u5", 9_000)).await.unwrap();
    store.insert_session(&session("h-keep", "u1", 9_000)).await.unwrap();

    assert!(store.delete_user("u5").await.unwrap());
    assert!(!store.delete_user("u5").await.unwrap());
    assert_eq!(store.user("u5").await.unwrap(), None);
    assert_eq!(store.user_by_name("dora").await.unwrap(), None);
    assert_eq!(store.session("h-d1").await.unwrap(), None);
    assert_eq!(store.session("h-d2").await.unwrap(), None);
    assert_eq!(store.delete_sessions_of("u5").await.unwrap(), 0);
    assert!(store.session("h-keep").await.unwrap().is_some(), "other users' sessions stay");
    // The name is free again, and a new user with the old id starts without sessions.
    store.save_user(&dora).await.unwrap();
    assert_eq!(store.delete_sessions_of("u5").await.unwrap(), 0);
    assert!(store.delete_user("u5").await.unwrap());
}

/// Ids assigned increasing; listed newest first, paged by id.
async fn audit_log(store: &dyn AdminStore) {
    let nested = json!({"id": "api", "interval": 30, "ratio": 0.1 + 0.2, "tags": ["a", "b"], "smtp": {"password": "[redacted]"}});
    let entries = vec![
        entry(10, "monitor.create", None, Some(nested.clone())),
        entry(20, "monitor.update", Some(nested.clone()), Some(json!({"id": "api", "interval": 60}))),
        entry(20, "monitor.delete", Some(json!({"id": "api"})), None),
        entry(30, "user.login", None, None),
        // JSON `null` is a value, not a missing one.
        entry(40, "settings.update", Some(serde_json::Value::Null), Some(json!("é ✓ \"quoted\"\n"))),
    ];
    let mut ids = vec![];
    for e in &entries {
        ids.push(store.append_audit(e).await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "increasing ids: {ids:?}");
    let stored: Vec<AuditEntry> =
        entries.iter().zip(&ids).map(|(e, id)| AuditEntry { id: *id, ..e.clone() }).rev().collect();

    assert_eq!(store.audit(None, 10).await.unwrap(), stored, "newest first, read back exactly");
    assert_eq!(store.audit(None, 2).await.unwrap(), stored[..2]);
    assert_eq!(store.audit(Some(ids[3]), 2).await.unwrap(), stored[2..4]);
    assert_eq!(store.audit(Some(ids[1]), 2).await.unwrap(), stored[4..]);
    assert!(store.audit(Some(ids[0]), 10).await.unwrap().is_empty());
    assert!(store.audit(None, 0).await.unwrap().is_empty(), "at most `limit`");
    // Walking the pages visits every entry once.
    let mut walked = vec![];
    let mut before = None;
    loop {
        let page = store.audit(before, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        walked.extend(page);
    }
    assert_eq!(walked, stored);
    // Appending more puts it on top.
    let later = store.append_audit(&entry(50, "user.logout", None, None)).await.unwrap();
    assert!(later > ids[4]);
    assert_eq!(store.audit(None, 1).await.unwrap()[0].id, later);
}

async fn vault(store: &dyn AdminStore) {
    let names = ["totp:u1", "totp:u2", "smtp:password", "totpx", "t%p:x", "t_tp:y", "TOTP:u3"];
    for name in names {
        store.vault_put(name, &format!("v1:{name}")).await.unwrap();
    }
    assert_eq!(store.vault_get("totp:u1").await.unwrap(), Some("v1:totp:u1".into()));
    store.vault_put("totp:u1", "v1:replaced").await.unwrap();
    assert_eq!(store.vault_get("totp:u1").await.unwrap(), Some("v1:replaced".into()));

    let listed = |prefix: &'static str| async move {
        store.vault_list(prefix).await.unwrap().into_iter().map(|(n, _)| n).collect::<Vec<_>>()
    };
    // By name, byte order; the prefix is literal and case-sensitive.
    assert_eq!(
        listed("").await,
        ["TOTP:u3", "smtp:password", "t%p:x", "t_tp:y", "totp:u1", "totp:u2", "totpx"]
    );
    assert_eq!(listed("totp:").await, ["totp:u1", "totp:u2"]);
    assert_eq!(listed("totp").await, ["totp:u1", "totp:u2", "totpx"]);
    assert_eq!(listed("t%").await, ["t%p:x"]);
    assert_eq!(listed("t_").await, ["t_tp:y"]);
    assert!(listed("tot%").await.is_empty());
    assert!(listed("totp:u1x").await.is_empty());
    assert_eq!(listed("totp:u1").await, ["totp:u1"]);
    assert_eq!(
        store.vault_list("totp:").await.unwrap(),
        vec![("totp:u1".into(), "v1:replaced".into()), ("totp:u2".into(), "v1:totp:u2".into())]
    );

    assert!(store.vault_delete("totpx").await.unwrap());
    assert!(!store.vault_delete("totpx").await.unwrap());
    assert_eq!(store.vault_get("totpx").await.unwrap(), None);
    assert_eq!(listed("totp").await, ["totp:u1", "totp:u2"]);

    // Replace sets every given entry (inserting missing ones) and leaves the others alone.
    store
        .vault_replace(&[("totp:u1".into(), "v2:a".into()), ("totp:u9".into(), "v2:new".into())])
        .await
        .unwrap();
    assert_eq!(store.vault_get("totp:u1").await.unwrap(), Some("v2:a".into()));
    assert_eq!(store.vault_get("totp:u9").await.unwrap(), Some("v2:new".into()));
    assert_eq!(store.vault_get("totp:u2").await.unwrap(), Some("v1:totp:u2".into()));
    for name in ["totp:u1", "totp:u2", "totp:u9", "smtp:password", "t%p:x", "t_tp:y", "TOTP:u3"] {
        assert!(store.vault_delete(name).await.unwrap(), "{name}");
    }
    assert!(store.vault_list("").await.unwrap().is_empty());
}

/// Rotation-sized replaces while another caller lists the vault: every listing shows all old
/// values or all new ones, never a mix.
async fn vault_replace_is_seen_all_at_once(store: Arc<dyn Storage>) {
    const N: usize = 120;
    let generation = |g: usize| -> Vec<(String, String)> {
        (0..N).map(|i| (format!("rot:{i:03}"), format!("v1:gen{g}:{i}"))).collect()
    };
    store.vault_replace(&generation(0)).await.unwrap();
    assert_eq!(store.vault_list("rot:").await.unwrap(), generation(0));

    for g in 1..=4 {
        let done = AtomicBool::new(false);
        let writer = async {
            store.vault_replace(&generation(g)).await.unwrap();
            done.store(true, Ordering::SeqCst);
        };
        let reader = async {
            while !done.load(Ordering::SeqCst) {
                let list = store.vault_list("rot:").await.unwrap();
                assert_eq!(list.len(), N);
                assert!(
                    list == generation(g - 1) || list == generation(g),
                    "generation {g}: a mixed listing: {:?} … {:?}",
                    list[0],
                    list[N - 1]
                );
                tokio::task::yield_now().await;
            }
        };
        tokio::join!(writer, reader);
        assert_eq!(store.vault_list("rot:").await.unwrap(), generation(g));
    }
    for (name, _) in generation(0) {
        store.vault_delete(&name).await.unwrap();
    }
}

/// The store does no cryptography: hashes and sealed values are kept byte for byte, whatever
/// they look like, and a key rotation through the store leaves every value opening under the
/// new key only.
async fn stored_as_given(store: &dyn AdminStore) {
    let hash = hash_password("correct horse battery staple").unwrap();
    let mut eve = User { password_hash: hash.clone(), totp: true, ..user("u7", "eve", Role::Viewer) };
    store.save_user(&eve).await.unwrap();
    let back = store.user_by_name("eve").await.unwrap().unwrap();
    assert_eq!(back.password_hash, hash);
    assert!(verify_password("correct horse battery staple", &back.password_hash));
    eve.password_hash = "not a PHC string at all ✓".into();
    store.save_user(&eve).await.unwrap();
    assert_eq!(store.user("u7").await.unwrap().unwrap().password_hash, "not a PHC string at all ✓");

    let old = MasterKey::generate().unwrap();
    let sealed = old.seal(&eve.totp_vault_name(), b"seed").unwrap();
    store.vault_put(&eve.totp_vault_name(), &sealed).await.unwrap();
    assert_eq!(store.vault_get("totp:u7").await.unwrap(), Some(sealed.clone()));
    store.vault_put("plain", "anything at all, even \"quotes\"\n and ünïcode").await.unwrap();
    assert_eq!(
        store.vault_get("plain").await.unwrap().unwrap(),
        "anything at all, even \"quotes\"\n and ünïcode"
    );
    store.vault_delete("plain").await.unwrap();

    for i in 0..5 {
        let name = format!("secret:{i}");
        store.vault_put(&name, &old.seal(&name, format!("plain {i}").as_bytes()).unwrap()).await.unwrap();
    }
    let new = MasterKey::generate().unwrap();
    assert_eq!(rotate(store, &old, &new).await.unwrap(), 6);
    for (name, sealed) in store.vault_list("").await.unwrap() {
        assert!(old.open(&name, &sealed).is_err(), "{name} still under the old key");
        new.open(&name, &sealed).unwrap();
    }
    assert_eq!(
        new.open("secret:3", &store.vault_get("secret:3").await.unwrap().unwrap()).unwrap(),
        b"plain 3"
    );
}

/// The caller has made the database refuse (1) writing a vault value `refused` and (2)
/// deleting the user named `undeletable`. A replace that reaches the refused value changes
/// nothing, and a refused user deletion keeps the user's sessions.
pub async fn refused_statements_roll_back(store: &dyn AdminStore) {
    let before: Vec<(String, String)> = (0..10).map(|i| (format!("k:{i}"), format!("old{i}"))).collect();
    store.vault_replace(&before).await.unwrap();
    let mut after: Vec<(String, String)> = (0..10).map(|i| (format!("k:{i}"), format!("new{i}"))).collect();
    after.push(("k:z".into(), "refused".into()));
    assert!(store.vault_replace(&after).await.is_err());
    assert_eq!(store.vault_list("k:").await.unwrap(), before, "all or nothing");
    assert!(store.vault_put("k:z", "refused").await.is_err());

    let stuck = user("u-stuck", "undeletable", Role::Viewer);
    store.save_user(&stuck).await.unwrap();
    store.insert_session(&session("h-stuck", "u-stuck", 9_000)).await.unwrap();
    assert!(store.delete_user("u-stuck").await.is_err());
    assert_eq!(store.user("u-stuck").await.unwrap(), Some(stuck));
    assert!(store.session("h-stuck").await.unwrap().is_some(), "the sessions' deletion was rolled back");
}

/// After the caller lifted the refusals, the same changes go through.
pub async fn refused_statements_accepted(store: &dyn AdminStore) {
    let after: Vec<(String, String)> = (0..10).map(|i| (format!("k:{i}"), format!("new{i}"))).collect();
    store.vault_replace(&after).await.unwrap();
    assert_eq!(store.vault_list("k:").await.unwrap(), after);
    assert!(store.delete_user("u-stuck").await.unwrap());
    assert_eq!(store.session("h-stuck").await.unwrap(), None);
}

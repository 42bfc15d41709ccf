//! `belfry user add`: console users from the command line (the first admin, password resets).

use belfry_core::access::{AuditEntry, Role, User};
use belfry_core::store::Storage;
use belfry_core::{Clock, SystemClock};

pub struct Added {
    pub created: bool,
    /// Set when no password was given: shown once, never stored.
    pub generated_password: Option<String>,
}

/// Adds `name` with `role`, or resets an existing user's role and password (ending its
/// sessions). Without a password, a random one is generated.
pub async fn add(
    store: &dyn Storage,
    name: &str,
    role: Role,
    password: Option<String>,
) -> anyhow::Result<Added> {
    let (password, generated_password) = match password {
        Some(p) => (p, None),
        None => {
            let p = belfry_core::auth::random_hex(12)?;
            (p.clone(), Some(p))
        }
    };
    let now = SystemClock.now();
    let fresh = User::new(name, role, &password, now)?;
    let existing = store.user_by_name(&fresh.name).await?;
    let created = existing.is_none();
    let user = match existing {
        Some(user) => {
            store.delete_sessions_of(&user.id).await?;
            User { role, password_hash: fresh.password_hash, ..user }
        }
        None => fresh,
    };
    store.save_user(&user).await?;
    let after = serde_json::json!({"name": user.name, "role": role.as_str()});
    store
        .append_audit(&AuditEntry {
            id: 0,
            at: now,
            actor: "cli".to_owned(),
            action: if created { "user.create" } else { "user.reset" }.to_owned(),
            object: format!("user:{}", user.name),
            before: None,
            after: Some(after),
        })
        .await?;
    Ok(Added { created, generated_password })
}

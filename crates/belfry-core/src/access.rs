//! People and what they did: console users with roles, their sessions, the audit log, and the
//! password and second-factor checks. Secrets (TOTP seeds) live sealed in the vault
//! ([`crate::vault`]); this module never sees the master key.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::auth::Scope;

mod password;
mod totp;

pub use password::{PasswordError, hash_password, verify_password};
pub use totp::{TotpSeed, totp_code_ok};

/// What a console user may do. Each role maps onto the API token scope of the same power, so
/// one access check serves sessions and tokens alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// The token scope with the same rights: viewers read, editors write, admins administer.
    pub fn scope(self) -> Scope {
        match self {
            Self::Viewer => Scope::Read,
            Self::Editor => Scope::Write,
            Self::Admin => Scope::Admin,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    /// Login name, unique.
    pub name: String,
    pub role: Role,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    /// A second factor is enrolled: its seed is in the vault under [`User::totp_vault_name`].
    pub totp: bool,
    pub created_at: Timestamp,
}

/// Why a user could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NewUserError {
    #[error("the user name must be 1 to 64 characters without spaces")]
    BadName,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Random(#[from] crate::auth::NoRandomness),
}

impl User {
    /// A new user (fresh id, hashed password, no second factor); the name is trimmed and checked.
    pub fn new(name: &str, role: Role, password: &str, now: Timestamp) -> Result<Self, NewUserError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(NewUserError::BadName);
        }
        Ok(Self {
            id: crate::auth::random_hex(8)?,
            name: name.to_owned(),
            role,
            password_hash: hash_password(password)?,
            totp: false,
            created_at: now,
        })
    }

    /// The vault entry holding this user's TOTP seed.
    pub fn totp_vault_name(&self) -> String {
        format!("totp:{}", self.id)
    }
}

/// A logged-in browser. The cookie carries a random secret; the store keeps its SHA-256 only
/// ([`crate::auth::hash_secret`]), so a read of the database cannot hijack a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hex SHA-256 of the cookie secret.
    pub hash: String,
    pub user_id: String,
    /// The token every form of this session must echo (CSRF).
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// One change, as the audit log keeps it: who, what, when, before and after (secrets redacted
/// by the writer, see [`redact`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Assigned by the store, increasing; 0 before it is stored.
    pub id: i64,
    pub at: Timestamp,
    /// `user:alice`, `token:<id>` or `cli`.
    pub actor: String,
    /// e.g. `monitor.create`, `incident.update`, `user.login`.
    pub action: String,
    /// e.g. `monitor:api-http`.
    pub object: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Keys whose values are secrets wherever they appear in an object.
const SECRET_KEYS: &[&str] =
    &["password", "secret", "token", "bot_token", "routing_key", "api_key", "totp", "webhook_url", "headers"];

/// `value` with every secret-looking field replaced by `"[redacted]"`, for the audit log.
pub fn redact(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let secret = SECRET_KEYS.contains(&k.as_str()) && !v.is_null();
                    (k.clone(), if secret { Value::from("[redacted]") } else { redact(v) })
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_onto_scopes_of_the_same_power() {
        assert_eq!(Role::Viewer.scope(), Scope::Read);
        assert_eq!(Role::Editor.scope(), Scope::Write);
        assert_eq!(Role::Admin.scope(), Scope::Admin);
        assert_eq!(Role::parse("editor"), Some(Role::Editor));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn a_new_user_has_a_checked_name_and_a_hashed_password() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let user = User::new(" alice ", Role::Editor, "long enough password", now).unwrap();
        assert_eq!((user.name.as_str(), user.role, user.totp), ("alice", Role::Editor, false));
        assert!(verify_password("long enough password", &user.password_hash));
        for bad in ["", "two words", &"x".repeat(65)] {
            assert!(
                matches!(
                    User::new(bad, Role::Viewer, "long enough password", now),
                    Err(NewUserError::BadName)
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(User::new("bob", Role::Viewer, "short", now), Err(NewUserError::Password(_))));
    }

    #[test]
    fn redact_hides_nested_secrets_and_keeps_the_rest() {
        let v = serde_json::json!({"id": "mail", "smtp": {"host": "h", "password": "p"}, "list": [{"token": "t"}]});
        let r = redact(&v);
        assert_eq!(r["smtp"]["password"], "[redacted]");
        assert_eq!(r["smtp"]["host"], "h");
        assert_eq!(r["list"][0]["token"], "[redacted]");
        assert!(!r.to_string().contains("\"p\""));
    }
}

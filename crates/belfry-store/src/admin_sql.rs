//! Statements of the admin store (users, sessions, audit log, vault) that both backends run
//! verbatim (`$N` placeholders, as in `crate::sql`). Column lists follow the row types of
//! `crate::admin_codec`.

/// `$1`..`$6`: a `UserRow`. Replaces the user with the same id; a name taken by another user
/// fails on the `UNIQUE` constraint (a `Conflict`).
pub(crate) const SAVE_USER: &str = "INSERT INTO users (id, name, role, password_hash, totp, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
     role = excluded.role, password_hash = excluded.password_hash, totp = excluded.totp, \
     created_at = excluded.created_at";

pub(crate) const USER_BY_ID: &str =
    "SELECT id, name, role, password_hash, totp, created_at FROM users WHERE id = $1";

pub(crate) const USER_BY_NAME: &str =
    "SELECT id, name, role, password_hash, totp, created_at FROM users WHERE name = $1";

/// By name (byte order: the PostgreSQL column is `COLLATE "C"`).
pub(crate) const USERS: &str =
    "SELECT id, name, role, password_hash, totp, created_at FROM users ORDER BY name";

pub(crate) const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

/// `$1`..`$5`: a `SessionRow`.
pub(crate) const INSERT_SESSION: &str =
    "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

pub(crate) const SESSION_BY_HASH: &str =
    "SELECT hash, user_id, csrf, created_at, expires_at FROM sessions WHERE hash = $1";

pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE hash = $1";

pub(crate) const DELETE_SESSIONS_OF: &str = "DELETE FROM sessions WHERE user_id = $1";

/// `$1` now (epoch ms): sessions that expired before it.
pub(crate) const PRUNE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at < $1";

/// `$1`..`$6`: an `AuditRow` without its id; returns the assigned id.
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit (at, actor, action, object, before_json, \
     after_json) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// `$1` ids below this, `$2` limit. Newest (highest id) first.
pub(crate) const AUDIT: &str = "SELECT id, at, actor, action, object, before_json, after_json \
     FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2";

pub(crate) const VAULT_GET: &str = "SELECT sealed FROM vault WHERE name = $1";

/// `$1` name, `$2` sealed value, `$3` now (epoch ms).
pub(crate) const VAULT_PUT: &str = "INSERT INTO vault (name, sealed, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at";

pub(crate) const VAULT_DELETE: &str = "DELETE FROM vault WHERE name = $1";

// `substr` rather than `LIKE`: SQLite's LIKE ignores ASCII case and both would need `%` and
// `_` escaped. The vault holds a few entries per user, so a scan is fine.
/// `$1` prefix (`''` for every entry). By name (byte order, as `USERS`).
pub(crate) const VAULT_LIST: &str =
    "SELECT name, sealed FROM vault WHERE substr(name, 1, length($1)) = $1 ORDER BY name";

//! Statements of the subscriber store that both backends run verbatim (`$N` placeholders, as
//! in `crate::sql`). Column lists follow `crate::subscriber_codec::SubscriberRow`.

/// `$1`..`$6`: a `SubscriberRow`. Inserts nothing when the id, address or token exists.
pub(crate) const INSERT_SUBSCRIBER: &str = "INSERT INTO subscribers (id, address_key, token_hash, \
     confirmed_at, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

pub(crate) const SUBSCRIBER_BY_ID: &str = "SELECT doc FROM subscribers WHERE id = $1";

pub(crate) const SUBSCRIBER_BY_TOKEN: &str = "SELECT doc FROM subscribers WHERE token_hash = $1";

/// `$1` id, `$2` confirmed at (epoch ms), `$3` doc. Only an unconfirmed subscriber changes.
pub(crate) const CONFIRM_SUBSCRIBER: &str =
    "UPDATE subscribers SET confirmed_at = $2, doc = $3 WHERE id = $1 AND confirmed_at IS NULL";

pub(crate) const DELETE_SUBSCRIBER: &str = "DELETE FROM subscribers WHERE id = $1";

/// Oldest first; equal times by id.
pub(crate) const CONFIRMED_SUBSCRIBERS: &str =
    "SELECT doc FROM subscribers WHERE confirmed_at IS NOT NULL ORDER BY created_at, id";

/// Oldest first; equal times by id.
pub(crate) const ALL_SUBSCRIBERS: &str = "SELECT doc FROM subscribers ORDER BY created_at, id";

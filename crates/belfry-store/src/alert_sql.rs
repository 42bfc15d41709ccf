//! Statements of the alert store that both backends run verbatim (`$N` placeholders, as in
//! `crate::sql`). Column lists follow the row structs of `crate::alert_codec`; cursors use
//! `crate::incident_sql::SET_CURSOR`.

/// `$1`..`$8`: an `AlertRow`. Inserts nothing when the id exists (a `Conflict`).
pub(crate) const INSERT_ALERT: &str = "INSERT INTO alerts (id, subject, active, next_at, opened_at, \
     version, doc, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";

/// `$1`..`$8`: an `AlertRow`; `$9` the expected (stored) version. Updates nothing when the
/// stored version differs or the alert is missing (a `Conflict`).
pub(crate) const UPDATE_ALERT: &str = "UPDATE alerts SET subject = $2, active = $3, next_at = $4, \
     opened_at = $5, version = $6, doc = $7, resolved_at = $8 WHERE id = $1 AND version = $9";

pub(crate) const ALERT_BY_ID: &str = "SELECT version, doc FROM alerts WHERE id = $1";

/// Alerts not resolved yet (active or acknowledged), oldest first; equal times by id. Read
/// through the partial index over unresolved rows (migrations/*/0007_alerts_resolved.sql), so
/// resolved alerts, however many, are never touched.
pub(crate) const UNRESOLVED_ALERTS: &str =
    "SELECT version, doc FROM alerts WHERE resolved_at IS NULL ORDER BY opened_at, id";

/// `$1`..`$9`: a `DeliveryRow`. A delivery whose idempotency key is queued already is skipped:
/// a retried routing step never queues a notification twice.
pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO deliveries (id, idempotency_key, alert, channel, \
     status, next_attempt_at, created_at, attempts, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (idempotency_key) DO NOTHING";

/// `$1` the pending status, `$2` now (epoch ms), `$3` limit. Oldest due first; equal times by id.
pub(crate) const DUE_DELIVERIES: &str = "SELECT doc FROM deliveries WHERE status = $1 \
     AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3";

/// `$1` id, `$2` status, `$3` next attempt (epoch ms), `$4` attempts, `$5` doc.
pub(crate) const SAVE_DELIVERY: &str = "UPDATE deliveries SET status = $2, next_attempt_at = $3, \
     attempts = $4, doc = $5 WHERE id = $1";

/// `$1` status (NULL for any), `$2` limit. Newest first; equal times by id, descending.
pub(crate) const LIST_DELIVERIES: &str = "SELECT doc FROM deliveries WHERE ($1 IS NULL OR status = $1) \
     ORDER BY created_at DESC, id DESC LIMIT $2";

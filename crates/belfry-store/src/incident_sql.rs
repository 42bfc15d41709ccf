//! Statements of the incident store that both backends run verbatim (`$N` placeholders, as in
//! `crate::sql`). Column lists follow the row structs of `crate::incident_codec`.

/// `$1`..`$9`: an `IncidentRow`. Inserts nothing when the id exists (a `Conflict`).
pub(crate) const INSERT_INCIDENT: &str = "INSERT INTO incidents (id, status, published, auto_monitor, \
     created_at, updated_at, resolved_at, version, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (id) DO NOTHING";

/// `$1`..`$9`: an `IncidentRow`; `$10` the expected (stored) version. Updates nothing when
/// the stored version differs (a `Conflict`).
pub(crate) const UPDATE_INCIDENT: &str = "UPDATE incidents SET status = $2, published = $3, \
     auto_monitor = $4, created_at = $5, updated_at = $6, resolved_at = $7, version = $8, doc = $9 \
     WHERE id = $1 AND version = $10";

pub(crate) const INCIDENT_BY_ID: &str = "SELECT version, doc FROM incidents WHERE id = $1";

// One statement with optional filters rather than one per combination: the table holds
// hundreds to a few thousand rows and every filter reads columns, never the doc.
/// `$1` unresolved only, `$2` include drafts, `$3` created at or after (epoch ms),
/// `$4` auto monitor (NULL for any), `$5` limit. The open statuses are those of
/// `IncidentStatus::is_open`. Newest first; equal times by id, descending.
pub(crate) const LIST_INCIDENTS: &str = "SELECT version, doc FROM incidents \
     WHERE (NOT $1 OR status NOT IN ('resolved', 'postmortem')) AND ($2 OR published) \
     AND created_at >= $3 AND ($4 IS NULL OR auto_monitor = $4) \
     ORDER BY created_at DESC, id DESC LIMIT $5";

/// `$1`..`$7`: a `TimelineRow`.
pub(crate) const INSERT_TIMELINE: &str = "INSERT INTO incident_timeline (incident, at, sub_ms_ns, kind, \
     author, text, data) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Oldest first; entries of the same time in the order they were appended.
pub(crate) const TIMELINE: &str = "SELECT incident, at, sub_ms_ns, kind, author, text, data \
     FROM incident_timeline WHERE incident = $1 ORDER BY at, sub_ms_ns, id";

/// `$1`..`$6`: a `MaintenanceRow`. Inserts nothing when the id exists (a `Conflict`).
pub(crate) const INSERT_MAINTENANCE: &str = "INSERT INTO maintenances (id, starts_at, ends_at, recurring, \
     version, doc) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING";

/// `$1`..`$6`: a `MaintenanceRow`; `$7` the expected (stored) version.
pub(crate) const UPDATE_MAINTENANCE: &str = "UPDATE maintenances SET starts_at = $2, ends_at = $3, \
     recurring = $4, version = $5, doc = $6 WHERE id = $1 AND version = $7";

pub(crate) const MAINTENANCE_BY_ID: &str = "SELECT version, doc FROM maintenances WHERE id = $1";

/// `$1` since (epoch ms): recurring windows, and one-off windows ending at or after it.
pub(crate) const LIST_MAINTENANCES: &str = "SELECT version, doc FROM maintenances \
     WHERE recurring OR ends_at >= $1 ORDER BY starts_at, id";

pub(crate) const DELETE_MAINTENANCE: &str = "DELETE FROM maintenances WHERE id = $1";

pub(crate) const CURSOR: &str = "SELECT value FROM cursors WHERE name = $1";

pub(crate) const SET_CURSOR: &str = "INSERT INTO cursors (name, value) VALUES ($1, $2) \
     ON CONFLICT (name) DO UPDATE SET value = excluded.value";

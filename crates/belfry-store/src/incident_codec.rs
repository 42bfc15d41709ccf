//! Column values of incidents, timeline entries and maintenance windows, shared by every
//! backend: an aggregate is its serde JSON (`doc`) plus copies of the fields lists filter on;
//! a timeline entry is one row. See `migrations/*/0002_incidents.sql`.

use belfry_core::clock::{epoch_ms, from_epoch_ms};
use belfry_core::incident::{Incident, TimelineEntry, TimelineKind};
use belfry_core::maintenance::Maintenance;
use belfry_core::store::StoreError;
use jiff::Timestamp;

use crate::codec::{corrupt, to_i64};

/// Incidents listed when the filter's `limit` is 0.
pub(crate) const DEFAULT_LIST_LIMIT: u32 = 50;
/// The most incidents one list returns, whatever the filter asks.
pub(crate) const MAX_LIST_LIMIT: u32 = 1000;

/// The `LIMIT` of an incident list: 0 means [`DEFAULT_LIST_LIMIT`], larger values are capped.
pub(crate) fn list_limit(limit: u32) -> i64 {
    let limit = if limit == 0 { DEFAULT_LIST_LIMIT } else { limit.min(MAX_LIST_LIMIT) };
    i64::from(limit)
}

/// The version a save stores: `expected + 1`, as the BIGINT it is written as.
pub(crate) fn next_version(expected: u64) -> Result<u64, StoreError> {
    let next = expected.checked_add(1).ok_or_else(|| StoreError::Other("version overflow".to_owned()))?;
    to_i64("version", next)?;
    Ok(next)
}

/// The `Conflict` of a save that found `what` (e.g. `incident "i1"`) not at `expected`
/// (an insert, when `expected` is 0, that found it already there).
pub(crate) fn conflict(what: &str, expected: u64) -> StoreError {
    if expected == 0 {
        StoreError::Conflict(format!("{what} already exists"))
    } else {
        StoreError::Conflict(format!("{what} is missing or not at version {expected}"))
    }
}

/// A time as the BIGINT epoch-ms column and the nanoseconds below it.
fn split_time(at: Timestamp) -> (i64, i64) {
    let ms = epoch_ms(at);
    // At most 999_999: the cast cannot truncate.
    let sub_ms_ns = (at.as_nanosecond() - i128::from(ms) * 1_000_000) as i64;
    (ms, sub_ms_ns)
}

fn join_time(ms: i64, sub_ms_ns: i64) -> Result<Timestamp, StoreError> {
    if sub_ms_ns == 0 {
        return Ok(from_epoch_ms(ms));
    }
    Timestamp::from_nanosecond(i128::from(ms) * 1_000_000 + i128::from(sub_ms_ns))
        .map_err(|e| corrupt("timeline time", e))
}

fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(format!("{what}: {e}")))
}

/// A stored aggregate as every read fetches it: `(version, doc)`.
pub(crate) type DocColumns = (i64, String);

/// The columns of one `incidents` row, in schema order.
#[derive(Debug)]
pub(crate) struct IncidentRow {
    pub id: String,
    pub status: &'static str,
    pub published: bool,
    pub auto_monitor: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub version: i64,
    pub doc: String,
}

impl IncidentRow {
    /// The row of `incident` saved as `version` (which the doc carries too).
    pub fn encode(incident: &Incident, version: u64) -> Result<Self, StoreError> {
        let stored = Incident { version, ..incident.clone() };
        Ok(Self {
            id: incident.id.clone(),
            status: incident.status.as_str(),
            published: incident.published,
            auto_monitor: incident.auto.as_ref().map(|a| a.monitor.as_str().to_owned()),
            created_at: epoch_ms(incident.created_at),
            updated_at: epoch_ms(incident.updated_at),
            resolved_at: incident.resolved_at.map(epoch_ms),
            version: to_i64("version", version)?,
            doc: to_json("incident json", &stored)?,
        })
    }
}

/// An incident from its fetched `(version, doc)`; the column's version is authoritative.
pub(crate) fn decode_incident((version, doc): DocColumns) -> Result<Incident, StoreError> {
    let mut incident: Incident = serde_json::from_str(&doc).map_err(|e| corrupt("incident json", e))?;
    incident.version = u64::try_from(version).map_err(|_| corrupt("incident version", version))?;
    Ok(incident)
}

pub(crate) fn decode_incidents(rows: Vec<DocColumns>) -> Result<Vec<Incident>, StoreError> {
    rows.into_iter().map(decode_incident).collect()
}

/// The columns of one `incident_timeline` row (without its id), in schema order.
#[derive(Debug)]
pub(crate) struct TimelineRow {
    pub incident: String,
    pub at: i64,
    pub sub_ms_ns: i64,
    pub kind: &'static str,
    pub author: Option<String>,
    pub text: String,
    pub data: String,
}

/// A timeline row as fetched, in `TimelineRow` order.
pub(crate) type TimelineColumns = (String, i64, i64, String, Option<String>, String, String);

impl TimelineRow {
    pub fn encode(entry: &TimelineEntry) -> Result<Self, StoreError> {
        let (at, sub_ms_ns) = split_time(entry.at);
        Ok(Self {
            incident: entry.incident.clone(),
            at,
            sub_ms_ns,
            kind: entry.kind.as_str(),
            author: entry.author.clone(),
            text: entry.text.clone(),
            data: to_json("timeline data", &entry.data)?,
        })
    }
}

pub(crate) fn decode_timeline(rows: Vec<TimelineColumns>) -> Result<Vec<TimelineEntry>, StoreError> {
    rows.into_iter()
        .map(|(incident, at, sub_ms_ns, kind, author, text, data)| {
            Ok(TimelineEntry {
                incident,
                at: join_time(at, sub_ms_ns)?,
                kind: timeline_kind(&kind)?,
                text,
                author,
                data: serde_json::from_str(&data).map_err(|e| corrupt("timeline data json", e))?,
            })
        })
        .collect()
}

fn timeline_kind(raw: &str) -> Result<TimelineKind, StoreError> {
    // The serde name is `as_str()` (both snake_case); core has no `parse` for this enum.
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| corrupt("timeline kind", raw))
}

/// The columns of one `maintenances` row, in schema order.
#[derive(Debug)]
pub(crate) struct MaintenanceRow {
    pub id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub recurring: bool,
    pub version: i64,
    pub doc: String,
}

impl MaintenanceRow {
    /// The row of `maintenance` saved as `version` (which the doc carries too).
    pub fn encode(maintenance: &Maintenance, version: u64) -> Result<Self, StoreError> {
        let stored = Maintenance { version, ..maintenance.clone() };
        Ok(Self {
            id: maintenance.id.clone(),
            starts_at: epoch_ms(maintenance.starts_at),
            ends_at: epoch_ms(maintenance.ends_at),
            recurring: maintenance.rrule.is_some(),
            version: to_i64("version", version)?,
            doc: to_json("maintenance json", &stored)?,
        })
    }
}

/// A window from its fetched `(version, doc)`; the column's version is authoritative.
pub(crate) fn decode_maintenance((version, doc): DocColumns) -> Result<Maintenance, StoreError> {
    let mut m: Maintenance = serde_json::from_str(&doc).map_err(|e| corrupt("maintenance json", e))?;
    m.version = u64::try_from(version).map_err(|_| corrupt("maintenance version", version))?;
    Ok(m)
}

pub(crate) fn decode_maintenances(rows: Vec<DocColumns>) -> Result<Vec<Maintenance>, StoreError> {
    rows.into_iter().map(decode_maintenance).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_limit_defaults_and_caps() {
        assert_eq!(list_limit(0), 50);
        assert_eq!(list_limit(7), 7);
        assert_eq!(list_limit(u32::MAX), 1000);
    }

    #[test]
    fn versions_stay_within_a_bigint() {
        assert_eq!(next_version(0).unwrap(), 1);
        assert!(next_version(i64::MAX as u64).is_err());
        assert!(next_version(u64::MAX).is_err());
    }

    #[test]
    fn times_split_and_join_exactly() {
        for raw in
            ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123456789Z", "1969-12-31T23:59:59.999999999Z"]
        {
            let at: Timestamp = raw.parse().unwrap();
            let (ms, ns) = split_time(at);
            assert!(ns.abs() < 1_000_000, "{raw}: {ns}");
            assert_eq!(join_time(ms, ns).unwrap(), at, "{raw}");
        }
    }

    #[test]
    fn every_timeline_kind_reads_back() {
        use TimelineKind as K;
        for kind in [
            K::Opened,
            K::Update,
            K::UpdateEdited,
            K::StatusChanged,
            K::ComponentChanged,
            K::ImpactChanged,
            K::Published,
            K::Postmortem,
            K::Monitor,
            K::AlertSent,
            K::Acknowledged,
            K::Escalated,
            K::Maintenance,
            K::Note,
        ] {
            assert_eq!(timeline_kind(kind.as_str()).unwrap(), kind);
        }
        assert!(timeline_kind("nope").is_err());
    }
}

//! Column values of alerts and outbox deliveries, shared by every backend: an aggregate is its
//! serde JSON (`doc`) plus copies of the fields queries filter and sort on. See
//! `migrations/*/0003_alerts.sql` and `migrations/*/0007_alerts_resolved.sql`.
//!
//! Versions work as for incidents (`crate::incident_codec`): every save of an alert stores
//! `alert.version + 1`, in the column and in the doc. An opened alert (version 0) is stored as
//! version 1; a changed alert is updated only while the stored version is still its `version`.

use belfry_core::alert::{Alert, Delivery, DeliveryStatus};
use belfry_core::clock::epoch_ms;
use belfry_core::store::StoreError;

use crate::codec::{corrupt, to_i64};
use crate::incident_codec::{DocColumns, next_version};

fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(format!("{what}: {e}")))
}

/// The columns of one `alerts` row, in schema order.
#[derive(Debug)]
pub(crate) struct AlertRow {
    pub id: String,
    pub subject: String,
    pub active: bool,
    pub next_at: Option<i64>,
    pub opened_at: i64,
    pub version: i64,
    pub doc: String,
    /// NULL while unresolved (acknowledged or not): what the unresolved alerts are read by.
    pub resolved_at: Option<i64>,
}

impl AlertRow {
    /// The row of `alert` saved as `version` (which the doc carries too).
    pub fn encode(alert: &Alert, version: u64) -> Result<Self, StoreError> {
        let stored = Alert { version, ..alert.clone() };
        Ok(Self {
            id: alert.id.clone(),
            subject: alert.subject.clone(),
            active: alert.is_active(),
            next_at: alert.next_at.map(epoch_ms),
            opened_at: epoch_ms(alert.opened_at),
            version: to_i64("version", version)?,
            doc: to_json("alert json", &stored)?,
            resolved_at: alert.resolved_at.map(epoch_ms),
        })
    }
}

/// An alert from its fetched `(version, doc)`; the column's version is authoritative.
pub(crate) fn decode_alert((version, doc): DocColumns) -> Result<Alert, StoreError> {
    let mut alert: Alert = serde_json::from_str(&doc).map_err(|e| corrupt("alert json", e))?;
    alert.version = u64::try_from(version).map_err(|_| corrupt("alert version", version))?;
    Ok(alert)
}

pub(crate) fn decode_alerts(rows: Vec<DocColumns>) -> Result<Vec<Alert>, StoreError> {
    rows.into_iter().map(decode_alert).collect()
}

/// The columns of one `deliveries` row, in schema order.
#[derive(Debug)]
pub(crate) struct DeliveryRow {
    pub id: String,
    pub idempotency_key: String,
    pub alert: Option<String>,
    pub channel: String,
    pub status: &'static str,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub attempts: i64,
    pub doc: String,
}

impl DeliveryRow {
    pub fn encode(delivery: &Delivery) -> Result<Self, StoreError> {
        Ok(Self {
            id: delivery.id.clone(),
            idempotency_key: delivery.idempotency_key.clone(),
            alert: delivery.alert.clone(),
            channel: delivery.channel.clone(),
            status: delivery.status.as_str(),
            next_attempt_at: epoch_ms(delivery.next_attempt_at),
            created_at: epoch_ms(delivery.created_at),
            attempts: i64::from(delivery.attempts),
            doc: to_json("delivery json", delivery)?,
        })
    }
}

/// The status `due_deliveries` selects, as its column holds it.
pub(crate) fn pending() -> &'static str {
    DeliveryStatus::Pending.as_str()
}

/// The status column a delivery list filters on (`None`: any).
pub(crate) fn status_filter(status: Option<DeliveryStatus>) -> Option<&'static str> {
    status.map(DeliveryStatus::as_str)
}

/// A delivery from its fetched doc (the columns are copies of its fields).
pub(crate) fn decode_delivery(doc: &str) -> Result<Delivery, StoreError> {
    serde_json::from_str(doc).map_err(|e| corrupt("delivery json", e))
}

pub(crate) fn decode_deliveries(rows: Vec<(String,)>) -> Result<Vec<Delivery>, StoreError> {
    rows.into_iter().map(|(doc,)| decode_delivery(&doc)).collect()
}

/// The rows one `route` call writes, encoded before its transaction begins.
#[derive(Debug)]
pub(crate) struct Routing {
    pub opened: Vec<AlertRow>,
    /// Each with the version the stored row must still have.
    pub changed: Vec<(AlertRow, i64)>,
    pub deliveries: Vec<DeliveryRow>,
    pub cursor: Option<(String, String)>,
}

impl Routing {
    pub fn encode(
        opened: &[Alert],
        changed: &[Alert],
        deliveries: &[Delivery],
        cursor: Option<(&str, &str)>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            opened: opened
                .iter()
                .map(|a| AlertRow::encode(a, next_version(a.version)?))
                .collect::<Result<_, _>>()?,
            changed: changed
                .iter()
                .map(|a| Ok((AlertRow::encode(a, next_version(a.version)?)?, to_i64("version", a.version)?)))
                .collect::<Result<_, StoreError>>()?,
            deliveries: deliveries.iter().map(DeliveryRow::encode).collect::<Result<_, _>>()?,
            cursor: cursor.map(|(name, value)| (name.to_owned(), value.to_owned())),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.opened.is_empty()
            && self.changed.is_empty()
            && self.deliveries.is_empty()
            && self.cursor.is_none()
    }
}

/// The `Conflict` of an opened alert whose id exists.
pub(crate) fn exists(id: &str) -> StoreError {
    StoreError::Conflict(format!("alert {id:?} already exists"))
}

/// The `Conflict` of a changed alert not stored at `expected`.
pub(crate) fn stale(id: &str, expected: i64) -> StoreError {
    StoreError::Conflict(format!("alert {id:?} is missing or not at version {expected}"))
}

/// The error of saving a delivery that was never queued.
pub(crate) fn missing_delivery(id: &str) -> StoreError {
    StoreError::Conflict(format!("delivery {id:?} is missing"))
}

/// Alerts as stored before migration 0007 added `resolved_at`, for the backfill test of each
/// backend.
#[cfg(test)]
pub(crate) mod legacy {
    use belfry_core::alert::{Alert, Escalation, EscalationStep, Event, EventKind};
    use jiff::{SignedDuration, Timestamp};

    /// The last migration before `resolved_at`.
    pub(crate) const BEFORE: i64 = 6;

    /// An insert with the columns of 0003 only.
    pub(crate) const INSERT: &str = "INSERT INTO alerts (id, subject, active, next_at, opened_at, \
         version, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)";

    pub(crate) fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(1_800_000_000_000 + ms).unwrap()
    }

    /// A copy of the legacy alert `like` named `id` whose reason holds `reason` (a NUL, to
    /// check the backfill reads and writes such docs).
    pub(crate) fn with_reason(alerts: &[Alert], like: &str, id: &str, reason: &str) -> Alert {
        let mut alert = alerts.iter().find(|a| a.id == like).expect("a legacy alert").clone();
        alert.id = id.into();
        alert.event.reason = Some(reason.into());
        alert
    }

    /// Stores `$alerts` (legacy [`Alert`]s) into `$pool` with the columns of 0003 only.
    macro_rules! insert {
        ($pool:expr, $alerts:expr) => {
            for alert in $alerts {
                let r = $crate::alert_codec::AlertRow::encode(&alert, 1).unwrap();
                sqlx::query($crate::alert_codec::legacy::INSERT)
                    .bind(r.id)
                    .bind(r.subject)
                    .bind(r.active)
                    .bind(r.next_at)
                    .bind(r.opened_at)
                    .bind(r.version)
                    .bind(r.doc)
                    .execute($pool)
                    .await
                    .unwrap();
            }
        };
    }
    pub(crate) use insert;

    /// Active, acknowledged, resolved and acknowledged-then-resolved, oldest first; resolved
    /// ones at a time with nanoseconds (the doc keeps them, the column whole milliseconds).
    pub(crate) fn alerts() -> Vec<Alert> {
        let escalation = Escalation {
            id: "ops".into(),
            repeat: 1,
            steps: vec![EscalationStep { after: std::time::Duration::ZERO, notify: vec!["hook".into()] }],
            round: None,
            renotify: None,
        };
        let open = |id: &str, ms: i64| {
            let event = Event {
                kind: EventKind::Down,
                at: at(ms),
                monitor: None,
                component: None,
                incident: Some(id.into()),
                title: "Down".into(),
                reason: None,
                failing_conditions: vec![],
                tags: vec![],
            };
            let mut alert = Alert::open(id.into(), &escalation, event, at(ms));
            alert.take_due(&escalation, at(ms));
            alert
        };
        let later = at(5_000) + SignedDuration::new(0, 123_456_789);
        let active = open("active", 1);
        let mut acknowledged = open("acknowledged", 2);
        assert!(acknowledged.acknowledge("alice", at(3)));
        let mut resolved = open("resolved", 3);
        assert!(resolved.resolve(later));
        let mut both = open("both", 4);
        assert!(both.acknowledge("alice", at(5)) && both.resolve(later));
        vec![active, acknowledged, resolved, both]
    }

    /// `(id, resolved_at, version)` of every row once 0007 ran over [`alerts`] (stored as
    /// version 1), by id: the resolved ones from their doc; the one acknowledged and never
    /// resolved (done, before 0007) resolved when it was acknowledged, saved once more.
    pub(crate) fn backfilled() -> Vec<(String, Option<i64>, i64)> {
        let ms = |t| Some(belfry_core::clock::epoch_ms(t));
        let mut rows: Vec<_> = alerts()
            .into_iter()
            .map(|a| match (a.resolved_at, a.acknowledged_at) {
                (Some(_), _) => (a.id, ms(at(5_123)), 1),
                (None, Some(acknowledged)) => (a.id, ms(acknowledged), 2),
                (None, None) => (a.id, None, 1),
            })
            .collect();
        rows.sort();
        rows
    }

    /// Checks the acknowledged alert of [`alerts`] as read back after 0007: resolved in its
    /// doc too (when acknowledged), the acknowledgement kept.
    pub(crate) fn check_acknowledged(stored: Option<Alert>) {
        let stored = stored.expect("the acknowledged alert");
        assert_eq!(stored.resolved_at, Some(at(3)), "{stored:#?}");
        assert_eq!((stored.acknowledged_at, stored.acknowledged_by.as_deref()), (Some(at(3)), Some("alice")));
        assert_eq!((stored.version, stored.next_at), (2, None));
    }
}

#[cfg(test)]
mod tests {
    use belfry_core::alert::{Escalation, EscalationStep, Event, EventKind};
    use jiff::Timestamp;

    use super::*;

    fn alert() -> Alert {
        let at: Timestamp = "2024-01-01T00:00:00.123456789Z".parse().unwrap();
        let escalation = Escalation {
            id: "ops".into(),
            repeat: 1,
            steps: vec![EscalationStep { after: std::time::Duration::ZERO, notify: vec!["hook".into()] }],
            round: None,
            renotify: None,
        };
        let event = Event {
            kind: EventKind::Down,
            at,
            monitor: None,
            component: None,
            incident: Some("i1".into()),
            title: "Down".into(),
            reason: None,
            failing_conditions: vec![],
            tags: vec![],
        };
        Alert::open("a1".into(), &escalation, event, at)
    }

    #[test]
    fn alert_columns_copy_the_doc_and_every_save_moves_the_version_on() {
        let mut a = alert();
        let routing = Routing::encode(&[a.clone()], &[], &[], None).unwrap();
        let row = &routing.opened[0];
        assert_eq!((row.active, row.next_at, row.version), (true, Some(epoch_ms(a.opened_at)), 1));
        assert_eq!(row.resolved_at, None);
        assert_eq!(row.subject, "incident:i1");
        let read = decode_alert((row.version, row.doc.clone())).unwrap();
        assert_eq!(read, Alert { version: 1, ..a.clone() });

        a.version = 1;
        assert!(a.acknowledge("alice", a.opened_at));
        let routing = Routing::encode(&[], &[a.clone()], &[], Some(("c", "1"))).unwrap();
        let (row, expected) = &routing.changed[0];
        assert_eq!((row.active, row.next_at, row.version, *expected), (false, None, 2, 1));
        assert_eq!(row.resolved_at, None, "acknowledged, still unresolved");
        a.version = 2;
        assert!(a.resolve(a.opened_at));
        let routing = Routing::encode(&[], &[a.clone()], &[], None).unwrap();
        assert_eq!(routing.changed[0].0.resolved_at, Some(epoch_ms(a.opened_at)));
        assert!(!routing.is_empty());
        assert!(Routing::encode(&[], &[], &[], None).unwrap().is_empty());

        a.version = i64::MAX as u64;
        assert!(Routing::encode(&[], &[a], &[], None).is_err(), "beyond a BIGINT");
    }

    #[test]
    fn statuses_are_stored_as_their_names() {
        assert_eq!(pending(), "pending");
        assert_eq!(status_filter(None), None);
        for s in [DeliveryStatus::Pending, DeliveryStatus::Sent, DeliveryStatus::Dead] {
            assert_eq!(DeliveryStatus::parse(status_filter(Some(s)).unwrap()), Some(s));
        }
    }

    #[test]
    fn corrupt_docs_are_reported() {
        assert!(matches!(decode_alert((1, "{".into())), Err(StoreError::Corrupt(_))));
        let doc = AlertRow::encode(&alert(), 1).unwrap().doc;
        assert!(matches!(decode_alert((-1, doc)), Err(StoreError::Corrupt(_))));
        assert!(matches!(decode_delivery("[]"), Err(StoreError::Corrupt(_))));
    }
}

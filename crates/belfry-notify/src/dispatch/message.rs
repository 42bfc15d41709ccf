//! Builds the channel-independent message of one notification of an alert.

use belfry_core::Catalog;
use belfry_core::alert::{Alert, Delivery, EventKind};
use belfry_core::channel::{Message, MessageSubject, Severity};
use jiff::Timestamp;

/// Links that go into messages.
pub(super) struct Links {
    pub public_url: Option<String>,
    /// The signed acknowledge token for this alert, if it can be acknowledged.
    pub ack_token: Option<String>,
}

/// The message for `alert` to `channel`; `key` makes it unique (`<alert>:<n>:<channel>`).
pub(super) fn build(
    alert: &Alert,
    catalog: &Catalog,
    key: String,
    resolution: bool,
    links: &Links,
) -> Message {
    let event = &alert.event;
    let monitor = event.monitor.as_ref().and_then(|id| catalog.monitor(id.as_str()));
    let component = event.component.as_ref().and_then(|id| catalog.component(id.as_str()));
    let severity = match (resolution, event.kind) {
        (true, _) | (_, EventKind::Up) => Severity::Resolved,
        (_, EventKind::Down | EventKind::HeartbeatMissed) => Severity::Critical,
        (_, EventKind::Degraded | EventKind::CertificateExpiring | EventKind::ProbeMissing) => {
            Severity::Warning
        }
        _ => Severity::Info,
    };
    let summary = match (resolution, &event.reason) {
        (true, _) => format!("{} — resolved.", event.title),
        (false, Some(reason)) => format!("{}: {reason}", event.title),
        (false, None) => event.title.clone(),
    };
    let base = links.public_url.as_deref().map(|u| u.trim_end_matches('/'));
    Message {
        idempotency_key: key,
        event: if resolution { EventKind::Up } else { event.kind },
        severity,
        title: monitor.map_or_else(|| event.title.clone(), |m| m.name.clone()),
        summary,
        monitor: monitor.map(|m| MessageSubject { id: m.id.clone(), name: m.name.clone() }),
        component: component.map(|c| MessageSubject { id: c.id.clone(), name: c.name.clone() }),
        failing_conditions: if resolution { vec![] } else { event.failing_conditions.clone() },
        since: Some(event.at),
        incident_url: event.incident.as_ref().and_then(|i| base.map(|b| format!("{b}/incidents/{i}"))),
        ack_url: match (&links.ack_token, base, resolution || !alert.is_active()) {
            (Some(token), Some(b), false) => Some(format!("{b}/ack/{token}")),
            _ => None,
        },
        unsubscribe_url: None,
        dedup_key: format!("belfry-{}", alert.id),
        page_time_zone: catalog.page.time_zone.clone(),
    }
}

/// A pending outbox row for `message` to `channel`.
pub(super) fn delivery(alert: &Alert, channel: &str, message: Message, now: Timestamp) -> Delivery {
    let id = format!("{}-{}", alert.id, short_hash(&message.idempotency_key));
    Delivery::queued(id, Some(alert.id.clone()), channel, message, now)
}

/// 8 hex characters of FNV-1a: a readable, stable suffix for delivery ids.
fn short_hash(text: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

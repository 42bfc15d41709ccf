//! The messages and clients the tests send with.

use belfry_core::MonitorId;
use belfry_core::channel::{ChannelKind, ChannelSpec, Message, MessageEvent, MessageSubject, Severity};
use belfry_notify::{HttpClient, Notifier};

/// A monitor outage with everything filled in, and characters every format must escape.
pub fn down() -> Message {
    Message {
        idempotency_key: "dlv-0001".into(),
        event: MessageEvent::Down,
        severity: Severity::Critical,
        title: "Internal API".into(),
        summary: "3 of 3 checks failed within 5m <from eu & us>.".into(),
        monitor: Some(MessageSubject {
            id: MonitorId::parse("api-http").unwrap(),
            name: "Internal API".into(),
        }),
        component: Some(MessageSubject { id: MonitorId::parse("api").unwrap(), name: "API".into() }),
        failing_conditions: vec!["[STATUS] (503) == 200".into(), "[RESPONSE_TIME] (2100) < 1000".into()],
        since: Some("2024-06-01T11:00:00Z".parse().unwrap()),
        incident_url: Some("https://status.acme.test/incidents/in-42".into()),
        ack_url: Some("https://status.acme.test/ack/a1?sig=xyz&exp=99".into()),
        unsubscribe_url: None,
        dedup_key: "alert-api-http-1717239600".into(),
        page_time_zone: "America/New_York".into(),
    }
}

/// The recovery of the same alert.
pub fn up() -> Message {
    Message {
        idempotency_key: "dlv-0002".into(),
        event: MessageEvent::Up,
        severity: Severity::Resolved,
        summary: "Checks pass again.".into(),
        failing_conditions: vec![],
        ..down()
    }
}

pub fn http() -> HttpClient {
    HttpClient::new().unwrap()
}

pub fn notifier(kind: ChannelKind) -> Box<dyn Notifier> {
    notifier_with(kind, &http())
}

pub fn notifier_with(kind: ChannelKind, http: &HttpClient) -> Box<dyn Notifier> {
    belfry_notify::build(&ChannelSpec { id: MonitorId::parse("test-channel").unwrap(), kind }, http)
}

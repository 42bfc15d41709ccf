//! The message a channel delivers: what happened, to what, since when, and where to act.
//! Built once per delivery by the alerting domain, stored in the outbox, rendered per channel.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::monitor::MonitorId;

/// What happened; selects the default template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageEvent {
    Down,
    Up,
    Degraded,
    CertificateExpiring,
    HeartbeatMissed,
    IncidentCreated,
    IncidentUpdated,
    IncidentResolved,
    MaintenanceScheduled,
    MaintenanceStarted,
    /// The double opt-in request sent to a new status page subscriber.
    SubscriptionConfirm,
    /// A "send test" from the admin console or CLI.
    Test,
    /// A remote probe stopped reporting (never an outage of the monitors it runs).
    ProbeMissing,
}

impl MessageEvent {
    pub const ALL: [Self; 13] = [
        Self::Down,
        Self::Up,
        Self::Degraded,
        Self::CertificateExpiring,
        Self::HeartbeatMissed,
        Self::IncidentCreated,
        Self::IncidentUpdated,
        Self::IncidentResolved,
        Self::MaintenanceScheduled,
        Self::MaintenanceStarted,
        Self::SubscriptionConfirm,
        Self::Test,
        Self::ProbeMissing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Down => "down",
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::CertificateExpiring => "certificate_expiring",
            Self::HeartbeatMissed => "heartbeat_missed",
            Self::IncidentCreated => "incident_created",
            Self::IncidentUpdated => "incident_updated",
            Self::IncidentResolved => "incident_resolved",
            Self::MaintenanceScheduled => "maintenance_scheduled",
            Self::MaintenanceStarted => "maintenance_started",
            Self::SubscriptionConfirm => "subscription_confirm",
            Self::Test => "test",
            Self::ProbeMissing => "probe_missing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == raw)
    }
}

/// How loud: maps to PagerDuty/Opsgenie/ntfy priorities and chat colours.
/// `Resolved` closes the alert with the same `dedup_key` where the receiver supports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
    Resolved,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Info => "info",
            Self::Resolved => "resolved",
        }
    }
}

/// A monitor or component named in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSubject {
    pub id: MonitorId,
    pub name: String,
}

/// One notification, channel-independent. Plain text throughout: every channel escapes for
/// its own format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Unique per delivery attempt series: the same key on every retry of one delivery
    /// (`Idempotency-Key` header, mail `Message-ID`).
    pub idempotency_key: String,
    pub event: MessageEvent,
    pub severity: Severity,
    /// What the message is about, e.g. the monitor or incident name; the renderer adds the
    /// event wording ("Down: Internal API").
    pub title: String,
    /// One or a few sentences of plain text.
    pub summary: String,
    pub monitor: Option<MessageSubject>,
    pub component: Option<MessageSubject>,
    /// Failing conditions as resolved, e.g. `[STATUS] (503) == 200`.
    pub failing_conditions: Vec<String>,
    /// When the state began (UTC instant; shown in the page time zone and UTC).
    pub since: Option<Timestamp>,
    /// Absolute URL of the incident, if one is open.
    pub incident_url: Option<String>,
    /// Absolute, signed URL that acknowledges the alert.
    pub ack_url: Option<String>,
    /// Absolute URL that ends a status page subscription (subscriber messages only).
    #[serde(default)]
    pub unsubscribe_url: Option<String>,
    /// Stable for one alert across its trigger and resolve (PagerDuty `dedup_key`,
    /// Opsgenie `alias`).
    pub dedup_key: String,
    /// IANA zone times are shown in, e.g. `America/New_York` (the page's zone).
    pub page_time_zone: String,
}

impl Message {
    /// The message of a channel's "send test": names the status page when `page_url` is given;
    /// `now` makes the keys unique per test, so receivers that drop repeats still show it.
    pub fn test(channel_id: &MonitorId, page_url: Option<&str>, now: Timestamp) -> Self {
        let ms = now.as_millisecond();
        let reach = format!(
            "If you can read this, Belfry can reach you through the channel \"{channel_id}\". No action is needed."
        );
        Self {
            idempotency_key: format!("test-{channel_id}-{ms}"),
            event: MessageEvent::Test,
            severity: Severity::Info,
            title: format!("Belfry channel {channel_id}"),
            summary: match page_url {
                Some(url) => format!("{reach} Status page: {url}"),
                None => reach,
            },
            monitor: None,
            component: None,
            failing_conditions: Vec::new(),
            since: Some(now),
            incident_url: None,
            ack_url: None,
            unsubscribe_url: None,
            dedup_key: format!("belfry-test-{channel_id}-{ms}"),
            page_time_zone: "UTC".to_owned(),
        }
    }

    /// Whether this message closes its alert (`severity: resolved`).
    pub fn is_resolution(&self) -> bool {
        self.severity == Severity::Resolved
    }
}

//! The machine timeline of an incident: every fact in UTC, as it was recorded.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Opened,
    Update,
    UpdateEdited,
    StatusChanged,
    ComponentChanged,
    ImpactChanged,
    Published,
    Postmortem,
    /// A monitor changed state (with the failing results in `data`).
    Monitor,
    AlertSent,
    Acknowledged,
    Escalated,
    Maintenance,
    /// A human note.
    Note,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Update => "update",
            Self::UpdateEdited => "update_edited",
            Self::StatusChanged => "status_changed",
            Self::ComponentChanged => "component_changed",
            Self::ImpactChanged => "impact_changed",
            Self::Published => "published",
            Self::Postmortem => "postmortem",
            Self::Monitor => "monitor",
            Self::AlertSent => "alert_sent",
            Self::Acknowledged => "acknowledged",
            Self::Escalated => "escalated",
            Self::Maintenance => "maintenance",
            Self::Note => "note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub incident: String,
    /// When it happened (UTC, machine time).
    pub at: Timestamp,
    pub kind: TimelineKind,
    pub text: String,
    /// Who did it; `None` for what Belfry itself recorded.
    pub author: Option<String>,
    /// Structured facts (e.g. the failing check results of a monitor transition).
    #[serde(default)]
    pub data: serde_json::Value,
}

impl TimelineEntry {
    /// An entry by `author` (`"belfry"` or empty means the machine).
    pub fn new(incident: &str, at: Timestamp, kind: TimelineKind, text: String, author: &str) -> Self {
        let author = match author {
            "" | "belfry" => None,
            who => Some(who.to_owned()),
        };
        Self { incident: incident.to_owned(), at, kind, text, author, data: serde_json::Value::Null }
    }

    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }
}

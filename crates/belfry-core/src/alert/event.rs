//! Events that alert rules route: monitor transitions, certificate warnings, incidents and
//! maintenance.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::check::CheckSpec;
use crate::monitor::{MonitorId, MonitorSpec};
use crate::policy::Transition;

/// What happened: the same closed set the channels render.
pub type EventKind = crate::channel::MessageEvent;

impl EventKind {
    /// The kinds a config pattern names: an exact kind, or a prefix wildcard like `incident_*`.
    pub fn matching(pattern: &str) -> Vec<Self> {
        Self::ALL.into_iter().filter(|k| super::wildcard(pattern, k.as_str())).collect()
    }

    /// Whether an alert for this kind keeps paging until acknowledged (problems do; notices of
    /// recovery or of incident updates are sent once).
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Self::Down
                | Self::Degraded
                | Self::CertificateExpiring
                | Self::HeartbeatMissed
                | Self::ProbeMissing
        )
    }
}

/// Something that happened, with what a person needs to act on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub at: Timestamp,
    pub monitor: Option<MonitorId>,
    pub component: Option<MonitorId>,
    pub incident: Option<String>,
    /// A short human title, e.g. "Internal API is down".
    pub title: String,
    /// Why: the check's error or failing conditions.
    pub reason: Option<String>,
    pub failing_conditions: Vec<String>,
    /// The tags of the monitors the event is about, which rules' `tags` select on: a monitor's
    /// event (transition, certificate) carries its monitor's tags; an incident's event carries
    /// the tags of its automatic monitor and of every monitor of its affected components, so a
    /// rule for `tags: [db]` hears of incidents that touch a db monitor. An event about no
    /// tagged monitor (an incident on no component) carries none and never matches a rule
    /// with `tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Event {
    /// The event a monitor transition raises, if it is public (`suspected` raises none).
    pub fn from_transition(t: &Transition, spec: &MonitorSpec) -> Option<Self> {
        let kind = match t.event()? {
            "down" if matches!(spec.check, CheckSpec::Heartbeat(_)) => EventKind::HeartbeatMissed,
            "down" => EventKind::Down,
            "up" => EventKind::Up,
            "degraded" => EventKind::Degraded,
            _ => return None,
        };
        let verb = match kind {
            EventKind::Down => "is down",
            EventKind::HeartbeatMissed => "missed its heartbeat",
            EventKind::Degraded => "is degraded",
            _ => "is up again",
        };
        let failing_conditions = t
            .results
            .last()
            .map(|r| r.conditions.iter().filter(|c| !c.ok).map(|c| c.resolved.clone()).collect())
            .unwrap_or_default();
        Some(Self {
            kind,
            at: t.at,
            monitor: Some(spec.id.clone()),
            component: spec.component.clone(),
            incident: None,
            title: format!("{} {verb}", spec.name),
            reason: t.reason.clone(),
            failing_conditions,
            tags: spec.tags.clone(),
        })
    }

    /// What a problem alert is about; the matching recovery resolves alerts with the same subject.
    pub fn subject(&self) -> String {
        match (&self.monitor, &self.incident) {
            (Some(m), _) => format!("monitor:{m}"),
            (None, Some(i)) => format!("incident:{i}"),
            (None, None) => format!("event:{}", self.kind.as_str()),
        }
    }
}

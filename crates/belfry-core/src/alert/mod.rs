//! Alerting rules (principle P1: paging stops when a human acknowledged it): which events
//! page whom, and the escalation ladder that repeats until someone acknowledges or the problem
//! resolves. An alert is done when it is resolved: an acknowledged one waits for its problem's
//! recovery (or renewal), which the channels it paged hear. Pure rules; the dispatcher in
//! `belfry-notify` runs them against the clock.

pub mod ack;
mod escalation;
mod event;
mod outbox;

use serde::{Deserialize, Serialize};

pub use escalation::{Alert, Backoff, DueStep, Escalation, EscalationStep, Renotify};
pub use event::{Event, EventKind};
pub use outbox::{Delivery, DeliveryStatus, Outcome, RetryPolicy};

use crate::monitor::MonitorId;

/// `alerts:` — an event that matches starts its own escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRule {
    /// Monitor id patterns (`*` wildcard); empty matches every monitor.
    pub monitors: Vec<String>,
    /// Component ids; empty matches every component.
    pub components: Vec<MonitorId>,
    /// Event kinds; empty matches `down` and `up`.
    pub events: Vec<EventKind>,
    /// Monitor tags; the rule takes an event that carries at least one of them (see
    /// [`Event::tags`]: an incident carries the tags of the monitors it is about). Empty matches
    /// every event, tagged or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The escalation policy id.
    pub escalation: String,
}

impl AlertRule {
    pub fn matches(&self, event: &Event) -> bool {
        let kind_ok = if self.events.is_empty() {
            matches!(event.kind, EventKind::Down | EventKind::Up)
        } else {
            // A missed heartbeat is an outage: rules for `down` take it too.
            self.events.contains(&event.kind)
                || (event.kind == EventKind::HeartbeatMissed && self.events.contains(&EventKind::Down))
        };
        // `*` also takes events about no monitor (incidents opened by a person).
        let monitor_ok = self.monitors.is_empty()
            || self.monitors.iter().any(|p| p == "*")
            || event.monitor.as_ref().is_some_and(|m| self.monitors.iter().any(|p| wildcard(p, m.as_str())));
        let component_ok = self.components.is_empty()
            || event.component.as_ref().is_some_and(|c| self.components.contains(c));
        let tags_ok = self.tags.is_empty() || event.tags.iter().any(|t| self.tags.contains(t));
        kind_ok && monitor_ok && component_ok && tags_ok
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// How long before a certificate expires `certificate_expiring` warns, unless the config says
/// otherwise (`alerting.certificate_warning`).
pub const DEFAULT_CERTIFICATE_WARNING: std::time::Duration = std::time::Duration::from_secs(14 * 86_400);

/// `channels`, `escalations` and `alerts` of the config, as the dispatcher uses them.
#[derive(Debug, Clone)]
pub struct Alerting {
    pub channels: Vec<crate::channel::ChannelSpec>,
    pub escalations: Vec<Escalation>,
    pub rules: Vec<AlertRule>,
    /// `subscribers:`; `None` when the page takes no subscriptions.
    pub subscribers: Option<crate::subscriber::SubscriberSettings>,
    /// `alerting.certificate_warning`: a certificate expiring within this is warned about.
    pub certificate_warning: std::time::Duration,
}

impl Default for Alerting {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            escalations: Vec::new(),
            rules: Vec::new(),
            subscribers: None,
            certificate_warning: DEFAULT_CERTIFICATE_WARNING,
        }
    }
}

impl Alerting {
    pub fn escalation(&self, id: &str) -> Option<&Escalation> {
        self.escalations.iter().find(|e| e.id == id)
    }
}

#[cfg(test)]
mod tests;

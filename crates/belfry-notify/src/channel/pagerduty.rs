//! `kind: pagerduty`: Events API v2. A message triggers an alert under its `dedup_key`; a
//! resolution (`severity: resolved`) resolves it.

use async_trait::async_trait;
use belfry_core::channel::{Message, PagerDutySettings, Severity};
use serde_json::{Value, json};

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::escape::truncate;
use crate::render::render;

pub struct PagerDuty {
    settings: PagerDutySettings,
    http: HttpClient,
}

impl PagerDuty {
    pub fn new(settings: PagerDutySettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// The event for a message.
pub fn body(routing_key: &str, message: &Message) -> Value {
    let key = truncate(&message.dedup_key, 255);
    if message.is_resolution() {
        return json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": key});
    }
    let r = render(message);
    let severity = match message.severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info | Severity::Resolved => "info",
    };
    let source = message.monitor.as_ref().or(message.component.as_ref()).map_or("belfry", |s| s.id.as_str());
    let mut details = json!({
        "event": message.event.as_str(),
        "summary": message.summary,
        "failing_conditions": message.failing_conditions,
    });
    for fact in &r.facts {
        details[fact.label.to_lowercase().replace(' ', "_")] = json!(fact.value);
    }
    let mut payload = json!({
        "summary": truncate(&r.title, 1024),
        "source": source,
        "severity": severity,
        "class": message.event.as_str(),
        "custom_details": details,
    });
    if let Some(since) = message.since {
        payload["timestamp"] = json!(since.to_string());
    }
    if let Some(component) = &message.component {
        payload["component"] = json!(component.name);
    }
    let mut links = Vec::new();
    if let Some(url) = &r.ack_url {
        links.push(json!({"href": url, "text": "Acknowledge in Belfry"}));
    }
    if let Some(url) = &r.incident_url {
        links.push(json!({"href": url, "text": "Incident"}));
    }
    let mut event = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": payload,
        "client": "Belfry",
        "links": links,
    });
    if let Some(url) = r.incident_url.as_ref().or(r.ack_url.as_ref()) {
        event["client_url"] = json!(url);
    }
    event
}

#[async_trait]
impl Notifier for PagerDuty {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let key = self.settings.routing_key.expose();
        let request = self.http.post(&self.settings.events_url).json(&body(key, message));
        self.http.send(request, &[key]).await
    }
}

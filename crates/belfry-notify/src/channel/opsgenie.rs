//! `kind: opsgenie`: Alert API v2. A message creates an alert whose `alias` is the dedup key
//! (Opsgenie folds repeats into it); a resolution closes it by alias.

use async_trait::async_trait;
use belfry_core::channel::{Message, OpsgenieSettings, Severity};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::{Value, json};

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::escape::truncate;
use crate::render::render;

pub struct Opsgenie {
    settings: OpsgenieSettings,
    http: HttpClient,
}

impl Opsgenie {
    pub fn new(settings: OpsgenieSettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// Opsgenie limits `alias` to 512 characters.
fn alias(message: &Message) -> String {
    truncate(&message.dedup_key, 512)
}

/// The body of `POST /v2/alerts` (create).
pub fn create_body(message: &Message) -> Value {
    let r = render(message);
    let priority = match message.severity {
        Severity::Critical => "P1",
        Severity::Warning => "P3",
        Severity::Info | Severity::Resolved => "P5",
    };
    let mut details = serde_json::Map::new();
    details.insert("event".into(), json!(message.event.as_str()));
    for fact in &r.facts {
        details.insert(fact.label.to_lowercase().replace(' ', "_"), json!(truncate(&fact.value, 8000)));
    }
    if let Some(url) = &r.incident_url {
        details.insert("incident_url".into(), json!(url));
    }
    if let Some(url) = &r.ack_url {
        details.insert("ack_url".into(), json!(url));
    }
    let mut body = json!({
        "message": truncate(&r.title, 130),
        "alias": alias(message),
        "description": truncate(&r.text, 15000),
        "source": "Belfry",
        "priority": priority,
        "tags": ["belfry", message.event.as_str()],
        "details": details,
    });
    if let Some(subject) = message.monitor.as_ref().or(message.component.as_ref()) {
        body["entity"] = json!(truncate(&subject.name, 512));
    }
    body
}

/// The body of `POST /v2/alerts/{alias}/close?identifierType=alias`.
pub fn close_body(message: &Message) -> Value {
    json!({"source": "Belfry", "note": truncate(&render(message).text, 25000)})
}

#[async_trait]
impl Notifier for Opsgenie {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let key = self.settings.api_key.expose();
        let mut url = Url::parse(&self.settings.api_url)
            .map_err(|e| NotifyError::Permanent(format!("api_url is not a URL: {e}")))?;
        let body = {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| NotifyError::Permanent("api_url cannot have a path".into()))?;
            path.pop_if_empty().extend(["v2", "alerts"]);
            if message.is_resolution() {
                path.extend([alias(message).as_str(), "close"]);
                close_body(message)
            } else {
                create_body(message)
            }
        };
        if message.is_resolution() {
            url.query_pairs_mut().append_pair("identifierType", "alias");
        }
        let mut auth = HeaderValue::from_str(&format!("GenieKey {key}"))
            .map_err(|_| NotifyError::Permanent("api_key is not a valid header value".into()))?;
        auth.set_sensitive(true);
        let request = self.http.post(url.as_str()).header(AUTHORIZATION, auth).json(&body);
        self.http.send(request, &[key]).await
    }
}

//! `kind: ntfy`: a plain-text publish to `{server}/{topic}` with ntfy's headers.

use async_trait::async_trait;
use belfry_core::channel::{Message, NtfySettings, Severity};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::escape::header_value;
use crate::render::render;

pub struct Ntfy {
    settings: NtfySettings,
    http: HttpClient,
}

impl Ntfy {
    pub fn new(settings: NtfySettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// 1 (min) to 5 (max): the configured one, else from the severity.
pub fn priority(settings: &NtfySettings, severity: Severity) -> u8 {
    settings.priority.unwrap_or(match severity {
        Severity::Critical => 5,
        Severity::Warning => 4,
        Severity::Info | Severity::Resolved => 3,
    })
}

/// The ntfy headers for a message (without `Authorization`).
pub fn headers(settings: &NtfySettings, message: &Message) -> Vec<(&'static str, String)> {
    let r = render(message);
    let emoji = match message.severity {
        Severity::Critical => "rotating_light",
        Severity::Warning => "warning",
        Severity::Info => "information_source",
        Severity::Resolved => "white_check_mark",
    };
    let mut out = vec![
        ("Title", header_value(&r.title)),
        ("Priority", priority(settings, message.severity).to_string()),
        ("Tags", format!("{emoji},{}", message.event.as_str())),
    ];
    if let Some(url) = r.incident_url.as_deref().or(r.ack_url.as_deref()) {
        out.push(("Click", url.to_owned()));
    }
    let mut actions = Vec::new();
    if let Some(url) = &r.ack_url {
        actions.push(format!("view, Acknowledge, {}, clear=true", quoted(url)));
    }
    if let Some(url) = &r.incident_url {
        actions.push(format!("view, Incident, {}", quoted(url)));
    }
    if !actions.is_empty() {
        out.push(("Actions", actions.join("; ")));
    }
    out
}

/// ntfy's action syntax separates with `,` and `;`; a value holding either is quoted.
fn quoted(value: &str) -> String {
    if value.contains([',', ';']) { format!("\"{value}\"") } else { value.to_owned() }
}

#[async_trait]
impl Notifier for Ntfy {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let url = format!("{}/{}", self.settings.server.trim_end_matches('/'), self.settings.topic);
        let mut map = HeaderMap::new();
        map.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        for (name, value) in headers(&self.settings, message) {
            let value = HeaderValue::from_str(&value)
                .map_err(|_| NotifyError::Permanent(format!("cannot send {name} header {value:?}")))?;
            map.insert(name, value);
        }
        let token = self.settings.token.as_ref().map(|t| t.expose());
        if let Some(token) = token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| NotifyError::Permanent("token is not a valid header value".into()))?;
            value.set_sensitive(true);
            map.insert(AUTHORIZATION, value);
        }
        let request = self.http.post(&url).headers(map).body(render(message).text);
        self.http.send(request, &token.into_iter().collect::<Vec<_>>()).await
    }
}

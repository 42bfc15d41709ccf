//! `kind: webhook`: a JSON POST signed as DESIGN.md §3 fixes it:
//! `Belfry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

use async_trait::async_trait;
use belfry_core::channel::{Message, WebhookSettings};
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use sha2::Sha256;

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::render;

pub struct Webhook {
    settings: WebhookSettings,
    http: HttpClient,
}

impl Webhook {
    pub fn new(settings: WebhookSettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// The `Belfry-Signature` value for `body` sent at `t` (unix seconds).
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The JSON document a webhook receives (its `event` names the kind; times are RFC 3339 UTC).
pub fn body(message: &Message) -> serde_json::Value {
    let rendered = render(message);
    let mut body = json!({
        "id": message.idempotency_key,
        "event": message.event.as_str(),
        "severity": message.severity.as_str(),
        "title": rendered.title,
        "summary": message.summary,
        "text": rendered.text,
        "monitor": message.monitor,
        "component": message.component,
        "failing_conditions": message.failing_conditions,
        "since": message.since.map(|t| t.to_string()),
        "incident_url": message.incident_url,
        "ack_url": message.ack_url,
        "dedup_key": message.dedup_key,
    });
    // Only subscriber messages carry one; alert receivers keep the body they always had.
    if let Some(url) = &rendered.unsubscribe_url {
        body["unsubscribe_url"] = json!(url);
    }
    body
}

#[async_trait]
impl Notifier for Webhook {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let secret = self.settings.secret.as_ref().map(|s| s.expose());
        // Custom header values are often credentials too (`Authorization: …`).
        let mut secrets: Vec<&str> = self.settings.headers.iter().map(|(_, v)| v.as_str()).collect();
        secrets.extend(secret);
        secrets.extend(crate::http::url_secrets(&self.settings.url).into_iter().skip(3)); // a `?token=…`

        let mut headers = HeaderMap::new();
        for (name, value) in &self.settings.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| NotifyError::Permanent(format!("invalid header name {name:?}")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| NotifyError::Permanent(format!("invalid value for header {name}")))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let body = serde_json::to_vec(&body(message)).expect("JSON values serialize");
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("idempotency-key", header(&message.idempotency_key)?);
        headers.insert("belfry-event", HeaderValue::from_static(message.event.as_str()));
        if let Some(secret) = secret {
            let t = jiff::Timestamp::now().as_second();
            headers.insert("belfry-signature", header(&signature(secret, t, &body))?);
        }
        let request = self.http.post(&self.settings.url).headers(headers).body(body);
        self.http.send(request, &secrets).await
    }
}

fn header(value: &str) -> Result<HeaderValue, NotifyError> {
    HeaderValue::from_str(value)
        .map_err(|_| NotifyError::Permanent(format!("{value:?} is not a valid header value")))
}

//! `kind: discord`: a webhook execution with one embed; mentions are disabled.

use async_trait::async_trait;
use belfry_core::channel::{ChatWebhookSettings, Message};
use serde_json::{Value, json};

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::escape::{escape_markdown, truncate};
use crate::render::render;

pub struct Discord {
    settings: ChatWebhookSettings,
    http: HttpClient,
}

impl Discord {
    pub fn new(settings: ChatWebhookSettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// The JSON body Discord receives.
pub fn body(message: &Message) -> Value {
    let r = render(message);
    let mut description = format!("**{}**", escape_markdown(&r.headline));
    if !message.summary.trim().is_empty() && message.summary.trim() != r.headline {
        description.push('\n');
        description.push_str(&escape_markdown(message.summary.trim()));
    }
    let mut fields: Vec<Value> = r
        .facts
        .iter()
        .map(
            |f| json!({"name": f.label, "value": truncate(&escape_markdown(&f.value), 1024), "inline": true}),
        )
        .collect();
    if !message.failing_conditions.is_empty() {
        // Inside a code span nothing is markdown; a backtick would end it, so it is swapped.
        let lines: Vec<String> =
            message.failing_conditions.iter().map(|c| format!("`{}`", c.replace('`', "'"))).collect();
        fields.push(json!({"name": "Failing conditions", "value": truncate(&lines.join("\n"), 1024), "inline": false}));
    }
    let mut links = Vec::new();
    if let Some(url) = &r.ack_url {
        links.push(format!("[Acknowledge]({url})"));
    }
    if let Some(url) = &r.incident_url {
        links.push(format!("[View incident]({url})"));
    }
    if !links.is_empty() {
        fields.push(json!({"name": "Links", "value": links.join(" · "), "inline": false}));
    }
    let color = u32::from_str_radix(r.color.trim_start_matches('#'), 16).unwrap_or(0);
    let mut embed = json!({
        "title": truncate(&r.title, 256),
        "description": truncate(&description, 4096),
        "color": color,
        "fields": fields,
        "footer": {"text": "Belfry"},
    });
    if let Some(url) = &r.incident_url {
        embed["url"] = json!(url);
    }
    if let Some(since) = message.since {
        embed["timestamp"] = json!(since.to_string());
    }
    json!({
        "content": truncate(&escape_markdown(&r.title), 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

#[async_trait]
impl Notifier for Discord {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let url = self.settings.webhook_url.expose();
        let request = self.http.post(url).json(&body(message));
        self.http.send(request, &crate::http::url_secrets(url)).await
    }
}

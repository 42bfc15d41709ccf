//! `kind: slack`: an incoming webhook with Block Kit `blocks` and a plain `text` fallback.

use async_trait::async_trait;
use belfry_core::channel::{ChatWebhookSettings, Message, Severity};
use serde_json::{Value, json};

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::escape::{escape_slack, truncate};
use crate::render::render;

pub struct Slack {
    settings: ChatWebhookSettings,
    http: HttpClient,
}

impl Slack {
    pub fn new(settings: ChatWebhookSettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// The JSON body Slack receives.
pub fn body(message: &Message) -> Value {
    let r = render(message);
    let mut lead = format!("*{}*", escape_slack(&r.headline));
    if !message.summary.trim().is_empty() && message.summary.trim() != r.headline {
        lead.push('\n');
        lead.push_str(&escape_slack(message.summary.trim()));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&r.title, 150), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&lead, 3000)}}),
    ];
    if !r.facts.is_empty() {
        let fields: Vec<Value> = r
            .facts
            .iter()
            .take(10)
            .map(|f| json!({"type": "mrkdwn", "text": format!("*{}*\n{}", f.label, escape_slack(&f.value))}))
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    if !message.failing_conditions.is_empty() {
        let lines: Vec<String> =
            message.failing_conditions.iter().map(|c| format!("• `{}`", escape_slack(c))).collect();
        let text = format!("*Failing conditions*\n{}", lines.join("\n"));
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}}));
    }
    let mut buttons = Vec::new();
    if let Some(url) = &r.ack_url {
        let style = if message.severity == Severity::Resolved { "primary" } else { "danger" };
        buttons.push(json!({"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"},
                            "url": url, "style": style, "action_id": "belfry_ack"}));
    }
    if let Some(url) = &r.incident_url {
        buttons.push(json!({"type": "button", "text": {"type": "plain_text", "text": "View incident"},
                            "url": url, "action_id": "belfry_incident"}));
    }
    if !buttons.is_empty() {
        blocks.push(json!({"type": "actions", "elements": buttons}));
    }
    json!({"text": escape_slack(&r.title), "blocks": blocks})
}

#[async_trait]
impl Notifier for Slack {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let url = self.settings.webhook_url.expose();
        let request = self.http.post(url).json(&body(message));
        self.http.send(request, &crate::http::url_secrets(url)).await
    }
}

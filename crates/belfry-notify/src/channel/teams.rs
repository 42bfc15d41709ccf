//! `kind: teams`: a Microsoft Teams webhook (Workflows or incoming webhook) carrying one
//! Adaptive Card.

use async_trait::async_trait;
use belfry_core::channel::{ChatWebhookSettings, Message, Severity};
use serde_json::{Value, json};

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::escape::truncate;
use crate::render::render;

pub struct Teams {
    settings: ChatWebhookSettings,
    http: HttpClient,
}

impl Teams {
    pub fn new(settings: ChatWebhookSettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// The JSON body Teams receives: a `message` with one Adaptive Card 1.4 attachment.
pub fn body(message: &Message) -> Value {
    let r = render(message);
    let color = match message.severity {
        Severity::Critical => "Attention",
        Severity::Warning => "Warning",
        Severity::Info => "Accent",
        Severity::Resolved => "Good",
    };
    let mut card_body = vec![
        json!({"type": "TextBlock", "text": r.title, "size": "Large", "weight": "Bolder", "color": color, "wrap": true}),
        json!({"type": "TextBlock", "text": r.headline, "weight": "Bolder", "wrap": true}),
    ];
    if !message.summary.trim().is_empty() && message.summary.trim() != r.headline {
        card_body
            .push(json!({"type": "TextBlock", "text": truncate(message.summary.trim(), 4000), "wrap": true}));
    }
    if !r.facts.is_empty() {
        let facts: Vec<Value> = r.facts.iter().map(|f| json!({"title": f.label, "value": f.value})).collect();
        card_body.push(json!({"type": "FactSet", "facts": facts}));
    }
    if !message.failing_conditions.is_empty() {
        card_body.push(
            json!({"type": "TextBlock", "text": "Failing conditions", "weight": "Bolder", "wrap": true}),
        );
        for condition in &message.failing_conditions {
            card_body.push(json!({"type": "TextBlock", "text": condition, "fontType": "Monospace", "wrap": true, "spacing": "None"}));
        }
    }
    let mut actions = Vec::new();
    if let Some(url) = &r.ack_url {
        actions.push(json!({"type": "Action.OpenUrl", "title": "Acknowledge", "url": url}));
    }
    if let Some(url) = &r.incident_url {
        actions.push(json!({"type": "Action.OpenUrl", "title": "View incident", "url": url}));
    }
    json!({
        "type": "message",
        "summary": r.title,
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": card_body,
                "actions": actions,
            },
        }],
    })
}

#[async_trait]
impl Notifier for Teams {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let url = self.settings.webhook_url.expose();
        let request = self.http.post(url).json(&body(message));
        self.http.send(request, &crate::http::url_secrets(url)).await
    }
}

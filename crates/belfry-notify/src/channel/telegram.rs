//! `kind: telegram`: Bot API `sendMessage` with `parse_mode: HTML`.

use std::fmt::Write as _;

use async_trait::async_trait;
use belfry_core::channel::{Message, TelegramSettings};
use serde_json::{Value, json};

use crate::error::NotifyError;
use crate::http::HttpClient;
use crate::notifier::Notifier;
use crate::render::escape::truncate;
use crate::render::{escape_html, render};

pub struct Telegram {
    settings: TelegramSettings,
    http: HttpClient,
}

impl Telegram {
    pub fn new(settings: TelegramSettings, http: HttpClient) -> Self {
        Self { settings, http }
    }
}

/// The message text in Telegram's HTML subset (`<b>`, `<code>`, `<a>`), within its
/// 4096-character limit: each part is cut on its own so no tag is ever cut.
pub fn html_text(message: &Message) -> String {
    let r = render(message);
    let e = escape_html;
    let mut out = format!("<b>{}</b>\n{}\n", e(&truncate(&r.title, 200)), e(&truncate(&r.headline, 300)));
    if !message.summary.trim().is_empty() && message.summary.trim() != r.headline {
        let _ = writeln!(out, "{}", e(&truncate(message.summary.trim(), 1500)));
    }
    if !r.facts.is_empty() {
        out.push('\n');
        for fact in &r.facts {
            let _ = writeln!(out, "<b>{}:</b> {}", e(fact.label), e(&truncate(&fact.value, 200)));
        }
    }
    if !message.failing_conditions.is_empty() {
        out.push_str("\n<b>Failing conditions:</b>\n");
        for condition in message.failing_conditions.iter().take(10) {
            let _ = writeln!(out, "• <code>{}</code>", e(&truncate(condition, 150)));
        }
    }
    let mut links = Vec::new();
    if let Some(url) = &r.ack_url {
        links.push(format!("<a href=\"{}\">Acknowledge</a>", e(url)));
    }
    if let Some(url) = &r.incident_url {
        links.push(format!("<a href=\"{}\">View incident</a>", e(url)));
    }
    if !links.is_empty() {
        let _ = writeln!(out, "\n{}", links.join(" | "));
    }
    out
}

/// The JSON body of `sendMessage`.
pub fn body(chat_id: &str, message: &Message) -> Value {
    json!({
        "chat_id": chat_id,
        "text": html_text(message),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": true},
    })
}

#[async_trait]
impl Notifier for Telegram {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let token = self.settings.bot_token.expose();
        let url = format!("{}/bot{token}/sendMessage", self.settings.api_url.trim_end_matches('/'));
        let request = self.http.post(&url).json(&body(&self.settings.chat_id, message));
        self.http.send(request, &[token]).await
    }
}

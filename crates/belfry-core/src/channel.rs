//! Notification channels (`channels:` in the config): where alerts go and how to reach them.
//! Only data and validation live here; the transports are in `belfry-notify`.
//! Every credential is a [`Secret`], so no `Debug` or log line can show it.

use std::fmt;

use crate::monitor::MonitorId;

mod message;

pub use message::{Message, MessageEvent, MessageSubject, Severity};

/// A channel identifier: the same validated form as monitor ids (1–64 of `a-z0-9-_.`).
pub type ChannelId = MonitorId;

/// A credential (token, password, signing key, or a URL that is itself the credential).
/// `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A validated channel definition, as built from the config or the API.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSpec {
    pub id: ChannelId,
    pub kind: ChannelKind,
}

/// The closed set of channel kinds, each with its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelKind {
    Email(EmailSettings),
    Webhook(WebhookSettings),
    Slack(ChatWebhookSettings),
    Discord(ChatWebhookSettings),
    Teams(ChatWebhookSettings),
    Telegram(TelegramSettings),
    Ntfy(NtfySettings),
    PagerDuty(PagerDutySettings),
    Opsgenie(OpsgenieSettings),
}

impl ChannelKind {
    /// The `kind:` value in the config.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::Webhook(_) => "webhook",
            Self::Slack(_) => "slack",
            Self::Discord(_) => "discord",
            Self::Teams(_) => "teams",
            Self::Telegram(_) => "telegram",
            Self::Ntfy(_) => "ntfy",
            Self::PagerDuty(_) => "pagerduty",
            Self::Opsgenie(_) => "opsgenie",
        }
    }

    /// Every `kind:` value, for "expected one of" messages.
    pub const NAMES: [&'static str; 9] =
        ["email", "webhook", "slack", "discord", "teams", "telegram", "ntfy", "pagerduty", "opsgenie"];

    /// Checks the settings; each problem as `(key path below the channel, message)`, e.g.
    /// `("smtp.port", "must be 1 to 65535")`. Empty when the settings are usable.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errors = Problems::default();
        match self {
            Self::Email(s) => {
                if s.to.is_empty() {
                    errors.push("to", "needs at least one address");
                }
                for (i, to) in s.to.iter().enumerate() {
                    errors.address(&format!("to[{i}]"), to);
                }
                errors.address("from", &s.from);
                if s.smtp.host.trim().is_empty() {
                    errors.push("smtp.host", "must not be empty");
                }
                if s.smtp.port == 0 {
                    errors.push("smtp.port", "must be 1 to 65535");
                }
                if s.smtp.password.is_some() && s.smtp.username.is_none() {
                    errors.push("smtp.password", "is set without smtp.username");
                }
            }
            Self::Webhook(s) => {
                errors.url("url", &s.url);
                for (i, (name, value)) in s.headers.iter().enumerate() {
                    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
                    if name.is_empty() || !name.chars().all(token) {
                        errors.push(&format!("headers[{i}]"), "is not a valid header name");
                    }
                    if value.chars().any(|c| c.is_control() && c != '\t') {
                        errors.push(&format!("headers[{i}]"), "value must not contain control characters");
                    }
                }
            }
            Self::Slack(s) | Self::Discord(s) | Self::Teams(s) => {
                errors.url("webhook_url", s.webhook_url.expose())
            }
            Self::Telegram(s) => {
                if s.bot_token.expose().is_empty() || s.bot_token.expose().contains(['/', '?', '#', ' ']) {
                    errors.push("bot_token", "must be a Telegram bot token (digits:letters)");
                }
                if s.chat_id.trim().is_empty() {
                    errors.push("chat_id", "must not be empty");
                }
                errors.url("api_url", &s.api_url);
            }
            Self::Ntfy(s) => {
                errors.url("server", &s.server);
                let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
                if s.topic.is_empty() || s.topic.len() > 64 || !s.topic.chars().all(ok) {
                    errors.push("topic", "must be 1 to 64 characters of a-z, A-Z, 0-9, '-' and '_'");
                }
                if s.priority.is_some_and(|p| !(1..=5).contains(&p)) {
                    errors.push("priority", "must be 1 (min) to 5 (max)");
                }
            }
            Self::PagerDuty(s) => {
                if s.routing_key.expose().trim().is_empty() {
                    errors.push("routing_key", "must not be empty");
                }
                errors.url("events_url", &s.events_url);
            }
            Self::Opsgenie(s) => {
                if s.api_key.expose().trim().is_empty() {
                    errors.push("api_key", "must not be empty");
                }
                errors.url("api_url", &s.api_url);
            }
        }
        errors.0
    }
}

#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn push(&mut self, path: &str, message: &str) {
        self.0.push((path.to_owned(), message.to_owned()));
    }

    fn url(&mut self, path: &str, url: &str) {
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        match rest {
            Some(rest)
                if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) => {}
            _ => self.push(path, "must be an absolute http:// or https:// URL"),
        }
    }

    fn address(&mut self, path: &str, address: &str) {
        // The mailer parses fully; this catches the typical slip early, at validate time.
        let bare = address.rsplit_once('<').map_or(address, |(_, b)| b.trim_end_matches('>')).trim();
        match bare.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !bare.contains(' ') => {}
            _ => self.push(path, "must be an email address like oncall@example.com"),
        }
    }
}

/// `kind: email`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailSettings {
    /// Recipients, `addr@host` or `Name <addr@host>`.
    pub to: Vec<String>,
    pub from: String,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Authenticate (PLAIN/LOGIN) when set.
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// How the SMTP connection is secured (`smtp.tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// `none`: plain text (a local relay only).
    None,
    /// `starttls`: plain connect, then STARTTLS is required (usually port 587).
    #[default]
    StartTls,
    /// `tls`: TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

impl SmtpTls {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        }
    }
}

/// `kind: webhook`: a signed JSON POST.
#[derive(Clone, PartialEq)]
pub struct WebhookSettings {
    pub url: String,
    /// HMAC-SHA256 key for the `Belfry-Signature` header; unsigned when absent.
    pub secret: Option<Secret>,
    /// Extra request headers, sent as given.
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are often credentials (`Authorization`), so only names are shown.
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("WebhookSettings")
            .field("url", &redact_url(&self.url))
            .field("secret", &self.secret)
            .field("headers", &names)
            .finish()
    }
}

/// `kind: slack | discord | teams`: an incoming-webhook URL, which is itself the credential.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatWebhookSettings {
    pub webhook_url: Secret,
}

/// `kind: telegram`.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramSettings {
    pub bot_token: Secret,
    /// A numeric chat id or `@channelusername`.
    pub chat_id: String,
    /// Base URL of the Bot API, [`TelegramSettings::DEFAULT_API_URL`] unless testing.
    pub api_url: String,
}

impl TelegramSettings {
    pub const DEFAULT_API_URL: &'static str = "https://api.telegram.org";

    pub fn new(bot_token: impl Into<Secret>, chat_id: impl Into<String>) -> Self {
        Self {
            bot_token: bot_token.into(),
            chat_id: chat_id.into(),
            api_url: Self::DEFAULT_API_URL.to_owned(),
        }
    }
}

/// `kind: ntfy`.
#[derive(Debug, Clone, PartialEq)]
pub struct NtfySettings {
    /// Base URL of the ntfy server, [`NtfySettings::DEFAULT_SERVER`] by default.
    pub server: String,
    pub topic: String,
    /// Access token, sent as `Authorization: Bearer`.
    pub token: Option<Secret>,
    /// 1 (min) to 5 (max); by default derived from the message severity.
    pub priority: Option<u8>,
}

impl NtfySettings {
    pub const DEFAULT_SERVER: &'static str = "https://ntfy.sh";

    pub fn new(topic: impl Into<String>) -> Self {
        Self { server: Self::DEFAULT_SERVER.to_owned(), topic: topic.into(), token: None, priority: None }
    }
}

/// `kind: pagerduty` (Events API v2).
#[derive(Debug, Clone, PartialEq)]
pub struct PagerDutySettings {
    /// The integration's routing key.
    pub routing_key: Secret,
    pub events_url: String,
}

impl PagerDutySettings {
    pub const DEFAULT_EVENTS_URL: &'static str = "https://events.pagerduty.com/v2/enqueue";

    pub fn new(routing_key: impl Into<Secret>) -> Self {
        Self { routing_key: routing_key.into(), events_url: Self::DEFAULT_EVENTS_URL.to_owned() }
    }
}

/// `kind: opsgenie` (Alert API v2).
#[derive(Debug, Clone, PartialEq)]
pub struct OpsgenieSettings {
    pub api_key: Secret,
    /// `https://api.opsgenie.com`, or `https://api.eu.opsgenie.com` for EU accounts.
    pub api_url: String,
}

impl OpsgenieSettings {
    pub const DEFAULT_API_URL: &'static str = "https://api.opsgenie.com";

    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self { api_key: api_key.into(), api_url: Self::DEFAULT_API_URL.to_owned() }
    }
}

/// A URL with any `user:password@` and query string replaced by `***`, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.find(['/', '?', '#']).map_or((rest, ""), |i| rest.split_at(i));
    let authority =
        authority.rsplit_once('@').map_or(authority.to_owned(), |(_, host)| format!("***@{host}"));
    let path = path.split_once(['?', '#']).map_or(path.to_owned(), |(p, _)| format!("{p}?***"));
    if scheme.is_empty() { format!("{authority}{path}") } else { format!("{scheme}://{authority}{path}") }
}

#[cfg(test)]
mod tests;

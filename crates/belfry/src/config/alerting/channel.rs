//! `channels:`: each `{id, kind, …}` with the keys of its kind. The rules a channel's settings
//! must meet live in [`ChannelKind::validate`] (shared with the API); here the YAML is read into
//! settings and each problem `validate` finds is placed at the key it names.

use std::collections::HashMap;

use belfry_core::channel::{
    ChannelKind, ChannelSpec, ChatWebhookSettings, EmailSettings, NtfySettings, OpsgenieSettings,
    PagerDutySettings, Secret, SmtpSettings, SmtpTls, TelegramSettings, WebhookSettings,
};
use serde_saphyr::Location;

use super::super::check::{Ctx, Fields, join};
use super::super::monitor::condition_column;
use super::super::node::{Node, Sp};
use super::env;

const COMMON_KEYS: &[&str] = &["id", "kind"];
const EMAIL_KEYS: &[&str] = &["to", "from", "smtp"];
const SMTP_KEYS: &[&str] = &["host", "port", "tls", "username", "password"];
const WEBHOOK_KEYS: &[&str] = &["url", "secret", "headers"];
const CHAT_KEYS: &[&str] = &["webhook_url"];
const TELEGRAM_KEYS: &[&str] = &["bot_token", "chat_id", "api_url"];
const NTFY_KEYS: &[&str] = &["server", "topic", "token", "priority"];
const PAGERDUTY_KEYS: &[&str] = &["routing_key", "events_url"];
const OPSGENIE_KEYS: &[&str] = &["api_key", "api_url"];
const SMTP_TLS: &[&str] = &["none", "starttls", "tls"];
/// ntfy's priority names, 1 to 5.
const NTFY_PRIORITIES: &[&str] = &["min", "low", "default", "high", "max", "urgent"];

/// The keys only channels of `kind` may have.
fn keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "email" => EMAIL_KEYS,
        "webhook" => WEBHOOK_KEYS,
        "slack" | "discord" | "teams" => CHAT_KEYS,
        "telegram" => TELEGRAM_KEYS,
        "ntfy" => NTFY_KEYS,
        "pagerduty" => PAGERDUTY_KEYS,
        "opsgenie" => OPSGENIE_KEYS,
        _ => &[],
    }
}

/// Every channel; each id as written (valid or not) is added to `declared`.
pub(super) fn channels(ctx: &mut Ctx<'_>, node: &Sp, declared: &mut Vec<String>) -> Vec<ChannelSpec> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (i, item) in ctx.seq(node, "channels").unwrap_or_default().iter().enumerate() {
        if let Some(spec) = channel(ctx, item, &format!("channels[{i}]"), &mut seen, declared) {
            out.push(spec);
        }
    }
    out
}

fn channel(
    ctx: &mut Ctx<'_>,
    node: &Sp,
    path: &str,
    seen: &mut HashMap<String, u64>,
    declared: &mut Vec<String>,
) -> Option<ChannelSpec> {
    let f = ctx.map_open(node, path)?;
    let before = ctx.errors.len();
    let kind = match f.value("kind") {
        None => {
            ctx.missing(&f, "kind");
            None
        }
        Some(v) => ctx.choice(v, &f.path_of("kind"), "channel kind", &ChannelKind::NAMES),
    };
    check_keys(ctx, &f, kind);
    let id = super::section_id(ctx, &f, "channel", seen, declared);
    // Values that fail to read are replaced by placeholders, so `validate` still checks the
    // rest; its problems at (or around) a key already reported are dropped.
    let settings = match kind? {
        "email" => ChannelKind::Email(email(ctx, &f)),
        "webhook" => ChannelKind::Webhook(webhook(ctx, &f)),
        "slack" => ChannelKind::Slack(chat(ctx, &f)),
        "discord" => ChannelKind::Discord(chat(ctx, &f)),
        "teams" => ChannelKind::Teams(chat(ctx, &f)),
        "telegram" => ChannelKind::Telegram(telegram(ctx, &f)),
        "ntfy" => ChannelKind::Ntfy(ntfy(ctx, &f)),
        "pagerduty" => ChannelKind::PagerDuty(pagerduty(ctx, &f)),
        _ => ChannelKind::Opsgenie(opsgenie(ctx, &f)),
    };
    let reported: Vec<String> =
        ctx.errors[before..].iter().map(|e| e.path.clone()).filter(|p| *p != f.path).collect();
    for (sub, message) in settings.validate() {
        let Some((at, key_path)) = locate(&f, &sub) else { continue };
        if !reported.iter().any(|r| overlaps(r, &key_path)) {
            ctx.error_at(at, &key_path, message);
        }
    }
    if ctx.errors.len() != before {
        return None;
    }
    Some(ChannelSpec { id: id?, kind: settings })
}

/// Whether one key path is the other or inside it.
fn overlaps(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    within(a, b) || within(b, a)
}

/// Every key must be common or belong to the channel's kind.
fn check_keys(ctx: &mut Ctx<'_>, f: &Fields<'_>, kind: Option<&str>) {
    for key in f.keys() {
        let name = key.value.as_str();
        if COMMON_KEYS.contains(&name) || kind.is_some_and(|k| keys(k).contains(&name)) {
            continue;
        }
        let owned = ChannelKind::NAMES.iter().any(|k| keys(k).contains(&name));
        match kind {
            Some(kind) if owned => {
                let article = if matches!(kind, "email" | "ntfy" | "opsgenie") { "an" } else { "a" };
                let message = format!("`{name}` is not a key of {article} {kind} channel");
                ctx.error_at(key.referenced, &f.path_of(name), message);
            }
            // Without a valid kind, keys of any kind are let through (the kind is reported).
            None if owned => {}
            Some(kind) => {
                let known: Vec<&str> = COMMON_KEYS.iter().chain(keys(kind)).copied().collect();
                ctx.unknown_key(key, &f.path, &known);
            }
            None => {
                let known: Vec<&str> = COMMON_KEYS
                    .iter()
                    .chain(ChannelKind::NAMES.iter().flat_map(|k| keys(k)))
                    .copied()
                    .collect();
                ctx.unknown_key(key, &f.path, &known);
            }
        }
    }
}

/// Where a problem `validate` reports at `sub` (like `smtp.port`, `to[1]`, `headers[0]`) is in
/// the file, and its full key path. `None` when a key on the way is absent: a required key
/// was reported missing, and defaults are valid.
fn locate(f: &Fields<'_>, sub: &str) -> Option<(Location, String)> {
    let mut node = Some(f.node);
    let mut at = f.node.referenced;
    let mut path = f.path.clone();
    for part in sub.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !key.is_empty() {
            path = join(&path, key);
            let found = match node.map(|n| &n.value) {
                Some(Node::Map(entries)) => entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v),
                _ => None,
            };
            let value = found.filter(|v| !matches!(v.value, Node::Null))?;
            at = value.referenced;
            node = Some(value);
        }
        let Some(i) = index else { continue };
        match node.map(|n| &n.value) {
            Some(Node::Seq(items)) => {
                path = format!("{path}[{i}]");
                node = items.get(i);
                if let Some(n) = node {
                    at = n.referenced;
                }
            }
            // A mapping (`headers`): its `i`-th key, named in the path.
            Some(Node::Map(entries)) => match entries.get(i) {
                Some((k, v)) => {
                    path = join(&path, &k.value);
                    at = k.referenced;
                    node = Some(v);
                }
                None => {
                    path = format!("{path}[{i}]");
                    node = None;
                }
            },
            // One string standing for a list of one (`to: a@b.test`).
            Some(_) if i == 0 => {}
            _ => {
                path = format!("{path}[{i}]");
                node = None;
            }
        }
    }
    Some((at, path))
}

/// A required key's value, or the error that it is missing.
fn required<'n>(ctx: &mut Ctx<'_>, f: &Fields<'n>, key: &str) -> Option<&'n Sp> {
    let value = f.value(key);
    if value.is_none() {
        ctx.missing(f, key);
    }
    value
}

/// A credential: a string in which `${NAME}` is replaced by the environment variable `NAME`.
/// A missing variable is reported at the reference's column.
fn secret(ctx: &mut Ctx<'_>, node: &Sp, path: &str) -> Option<Secret> {
    let raw = ctx.string(node, path)?;
    match env::expand(&raw, ctx.env) {
        Ok(value) if value.trim().is_empty() => {
            let message = if raw.contains("${") {
                "must not be empty (the environment variable it names is empty)"
            } else {
                "must not be empty"
            };
            ctx.error(node, path, message);
            None
        }
        Ok(value) => Some(Secret::new(value)),
        Err(problems) => {
            for problem in problems {
                let column = condition_column(ctx.src, node, problem.index + 1);
                ctx.error_line_col(node.defined.line(), column, path, problem.message);
            }
            None
        }
    }
}

fn required_secret(ctx: &mut Ctx<'_>, f: &Fields<'_>, key: &str) -> Secret {
    required(ctx, f, key).and_then(|v| secret(ctx, v, &f.path_of(key))).unwrap_or_default()
}

fn optional_secret(ctx: &mut Ctx<'_>, f: &Fields<'_>, key: &str) -> Option<Secret> {
    f.value(key).and_then(|v| secret(ctx, v, &f.path_of(key)))
}

fn required_string(ctx: &mut Ctx<'_>, f: &Fields<'_>, key: &str) -> String {
    required(ctx, f, key).and_then(|v| ctx.string(v, &f.path_of(key))).unwrap_or_default()
}

/// A URL with a default. Base URLs (`trim`) lose a trailing `/`, so paths can be appended.
fn url(ctx: &mut Ctx<'_>, f: &Fields<'_>, key: &str, default: &str, trim: bool) -> String {
    let Some(v) = f.value(key) else { return default.to_owned() };
    let url = ctx.string(v, &f.path_of(key)).unwrap_or_default();
    let trimmed = url.trim_end_matches('/');
    if trim && trimmed.contains("://") && !trimmed.ends_with("://") { trimmed.to_owned() } else { url }
}

fn email(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> EmailSettings {
    let to = required(ctx, f, "to")
        .and_then(|v| super::names(ctx, v, &f.path_of("to")))
        .map(|list| list.into_iter().map(|(address, _, _)| address).collect())
        .unwrap_or_default();
    let from = required_string(ctx, f, "from");
    let smtp_node = required(ctx, f, "smtp");
    let smtp = smtp(ctx, smtp_node, &f.path_of("smtp"));
    EmailSettings { to, from, smtp }
}

fn smtp(ctx: &mut Ctx<'_>, node: Option<&Sp>, path: &str) -> SmtpSettings {
    let mut smtp = SmtpSettings {
        host: String::new(),
        port: 587,
        tls: SmtpTls::StartTls,
        username: None,
        password: None,
    };
    let Some(f) = node.and_then(|node| ctx.map(node, path, SMTP_KEYS)) else { return smtp };
    smtp.host = required_string(ctx, &f, "host");
    if let Some(v) = f.value("tls") {
        let tls = ctx.choice(v, &f.path_of("tls"), "smtp tls mode", SMTP_TLS).and_then(SmtpTls::parse);
        smtp.tls = tls.unwrap_or_default();
    }
    smtp.port = match smtp.tls {
        SmtpTls::Tls => 465,
        SmtpTls::None => 25,
        SmtpTls::StartTls => 587,
    };
    if let Some(v) = f.value("port")
        && let Some(port) = ctx.int(v, &f.path_of("port"), 1..=65535)
    {
        smtp.port = port as u16;
    }
    smtp.username = f.value("username").and_then(|v| ctx.text(v, &f.path_of("username")));
    smtp.password = optional_secret(ctx, &f, "password");
    smtp
}

fn webhook(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> WebhookSettings {
    let url = required_string(ctx, f, "url");
    let secret = optional_secret(ctx, f, "secret");
    let mut headers = Vec::new();
    if let Some(v) = f.value("headers")
        && let Some(hf) = ctx.map_open(v, &f.path_of("headers"))
    {
        let before = ctx.errors.len();
        for key in hf.keys() {
            let path = hf.path_of(&key.value);
            if let Some(value) = hf.get(&key.value).and_then(|val| ctx.string(val, &path)) {
                headers.push((key.value.clone(), value));
            }
        }
        // All or none: `validate` names headers by their place in the list.
        if ctx.errors.len() != before {
            headers.clear();
        }
    }
    WebhookSettings { url, secret, headers }
}

fn chat(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> ChatWebhookSettings {
    ChatWebhookSettings { webhook_url: required_secret(ctx, f, "webhook_url") }
}

fn telegram(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> TelegramSettings {
    let bot_token = required_secret(ctx, f, "bot_token");
    let chat_id = required_string(ctx, f, "chat_id");
    let api_url = url(ctx, f, "api_url", TelegramSettings::DEFAULT_API_URL, true);
    TelegramSettings { bot_token, chat_id, api_url }
}

fn ntfy(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> NtfySettings {
    let server = url(ctx, f, "server", NtfySettings::DEFAULT_SERVER, true);
    let topic = required_string(ctx, f, "topic");
    let token = optional_secret(ctx, f, "token");
    let priority = f.value("priority").and_then(|v| {
        let path = f.path_of("priority");
        if matches!(v.value, Node::Str(_)) {
            let name = ctx.choice(v, &path, "ntfy priority", NTFY_PRIORITIES)?;
            let level = NTFY_PRIORITIES.iter().position(|p| *p == name).map_or(5, |i| i + 1);
            Some(level.min(5) as u8)
        } else {
            // The range (1 to 5) is checked by `validate`.
            ctx.int(v, &path, 0..=255).map(|n| n as u8)
        }
    });
    NtfySettings { server, topic, token, priority }
}

fn pagerduty(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> PagerDutySettings {
    let routing_key = required_secret(ctx, f, "routing_key");
    let events_url = url(ctx, f, "events_url", PagerDutySettings::DEFAULT_EVENTS_URL, false);
    PagerDutySettings { routing_key, events_url }
}

fn opsgenie(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> OpsgenieSettings {
    let api_key = required_secret(ctx, f, "api_key");
    let api_url = url(ctx, f, "api_url", OpsgenieSettings::DEFAULT_API_URL, true);
    OpsgenieSettings { api_key, api_url }
}

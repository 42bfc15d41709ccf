//! `subscribers:` — status page subscriptions. The email channel named here lends its SMTP
//! settings and `from`; each subscriber is the recipient.
//!
//! ```yaml
//! subscribers: {email_channel: ops-mail, webhooks: true, rate_limit: 5/h}
//! ```

use belfry_core::channel::{ChannelKind, ChannelSpec};
use belfry_core::subscriber::SubscriberSettings;

use super::super::check::Ctx;
use super::super::node::{Node, Sp};
use super::unknown_ref;

const KEYS: &[&str] = &["email_channel", "webhooks", "rate_limit"];

/// `declared`: channel ids as written; `channels`: the valid ones, with their kinds.
pub(super) fn subscribers(
    ctx: &mut Ctx<'_>,
    node: &Sp,
    declared: &[String],
    channels: &[ChannelSpec],
) -> Option<SubscriberSettings> {
    let path = "subscribers";
    let f = ctx.map(node, path, KEYS)?;
    let before = ctx.errors.len();
    let email_channel = match f.value("email_channel") {
        None => {
            ctx.missing(&f, "email_channel");
            None
        }
        Some(v) => {
            let key_path = f.path_of("email_channel");
            ctx.text(v, &key_path).and_then(|raw| {
                match channels.iter().find(|c| c.id.as_str() == raw) {
                    Some(ChannelSpec { kind: ChannelKind::Email(_), id }) => Some(id.clone()),
                    Some(c) => {
                        let kind = c.kind.name();
                        ctx.error(
                            v,
                            &key_path,
                            format!("channel `{raw}` is a {kind} channel; subscribers need an email channel"),
                        );
                        None
                    }
                    // Declared but invalid: already reported where it is declared.
                    None if declared.contains(&raw) => None,
                    None => {
                        ctx.error(v, &key_path, unknown_ref("channel", "channels", &raw, declared));
                        None
                    }
                }
            })
        }
    };
    let webhooks = f.value("webhooks").map_or(Some(true), |v| ctx.bool(v, &f.path_of("webhooks")));
    let rate_limit = match f.value("rate_limit") {
        None => Some(SubscriberSettings::DEFAULT_RATE_LIMIT),
        Some(v) => rate_limit(ctx, v, &f.path_of("rate_limit")),
    };
    if ctx.errors.len() != before {
        return None;
    }
    Some(SubscriberSettings {
        email_channel: email_channel?,
        webhooks: webhooks?,
        rate_limit_per_hour: rate_limit?,
    })
}

/// `N/h` (or a bare `N`): requests per hour per address and per client, 1 to 1000.
fn rate_limit(ctx: &mut Ctx<'_>, node: &Sp, path: &str) -> Option<u32> {
    let parsed = match &node.value {
        Node::UInt(n) => Some(*n),
        Node::Str(s) => s.trim().strip_suffix("/h").and_then(|n| n.trim().parse::<u64>().ok()),
        _ => None,
    };
    match parsed.filter(|n| (1..=1000).contains(n)) {
        Some(n) => Some(n as u32),
        None => {
            ctx.error(node, path, "must be a rate like `5/h` (1 to 1000 requests per hour)");
            None
        }
    }
}

//! `channels`, `escalations`, `alerts` and `subscribers` (DESIGN.md §3, principle P1): where alerts go, the
//! ladder that repeats until someone acknowledges, and which events start it. Channels are read
//! by [`channel`]; every reference between the sections (a step's channel, a rule's escalation,
//! monitor or component) is checked here, so a typo cannot silently page nobody.
//!
//! ```yaml
//! channels:
//!   - {id: ops-hook, kind: webhook, url: "https://hooks.acme.test/belfry", secret: "${HOOK_SECRET}"}
//! escalations:
//!   - {id: default, repeat: 2, steps: [{after: 0s, notify: [ops-hook]}, {after: 10m, notify: [ops-hook]}]}
//! alerts:
//!   - {monitors: ["*"], events: [down, up], escalation: default}
//! alerting: {certificate_warning: 14d}
//! ```

mod channel;
mod env;
mod subscribers;

use std::collections::HashMap;
use std::time::Duration;

use belfry_core::MonitorId;
use belfry_core::alert::{
    AlertRule, Alerting, Backoff, Escalation, EscalationStep, EventKind, Renotify, wildcard,
};
use belfry_core::monitor::check_tag;

use super::check::{Ctx, Fields};
use super::duration::format_duration;
use super::error::did_you_mean;
use super::node::{Node, Sp};

const ESCALATION_KEYS: &[&str] = &["id", "repeat", "round", "steps", "renotify"];
const STEP_KEYS: &[&str] = &["after", "notify"];
const RENOTIFY_KEYS: &[&str] = &["every", "backoff", "max"];
const BACKOFFS: &[&str] = &["none", "linear", "exponential"];
const ALERT_KEYS: &[&str] = &["monitors", "components", "tags", "events", "escalation"];
const ALERTING_KEYS: &[&str] = &["certificate_warning"];

/// The shortest `alerting.certificate_warning`: less would warn too late to renew.
const MIN_CERTIFICATE_WARNING: Duration = Duration::from_secs(3600);

/// The shortest re-notification interval: a typo like `every: 1s` must not page every second.
const MIN_RENOTIFY: Duration = Duration::from_secs(60);
const DEFAULT_RENOTIFY_MAX: Duration = Duration::from_secs(86_400);

/// Ids declared elsewhere in the file, as written (valid or not), in file order.
pub(super) struct Known<'a> {
    pub monitors: &'a [String],
    pub components: &'a [String],
    /// Every tag the monitors carry, each once.
    pub tags: &'a [String],
}

/// Reads the alerting sections of the top-level mapping `top`.
pub(super) fn alerting(ctx: &mut Ctx<'_>, top: &Fields<'_>, known: &Known<'_>) -> Alerting {
    let mut alerting = Alerting::default();
    if let Some(node) = top.value("alerting")
        && let Some(f) = ctx.map(node, "alerting", ALERTING_KEYS)
        && let Some(v) = f.value("certificate_warning")
        && let Some(window) = ctx.duration(v, &f.path_of("certificate_warning"), MIN_CERTIFICATE_WARNING)
    {
        alerting.certificate_warning = window;
    }
    let mut channel_ids = ctx.outside_channels.clone();
    if let Some(node) = top.value("channels") {
        alerting.channels = channel::channels(ctx, node, &mut channel_ids);
    }
    let mut escalation_ids = Vec::new();
    if let Some(node) = top.value("escalations") {
        alerting.escalations = escalations(ctx, node, &channel_ids, &mut escalation_ids);
    }
    if let Some(node) = top.value("alerts") {
        alerting.rules = alerts(ctx, node, known, &escalation_ids);
    }
    if let Some(node) = top.value("subscribers") {
        alerting.subscribers = subscribers::subscribers(ctx, node, &channel_ids, &alerting.channels);
    }
    alerting
}

/// `channels:` on its own (the console's document).
pub(super) fn channel_list(
    ctx: &mut Ctx<'_>,
    node: &Sp,
    declared: &mut Vec<String>,
) -> Vec<belfry_core::channel::ChannelSpec> {
    channel::channels(ctx, node, declared)
}

/// A list of strings, or one string standing for a list of one: each item with its node and
/// key path. `None` (error recorded) when it is neither or an item is not a string.
fn names<'n>(ctx: &mut Ctx<'_>, node: &'n Sp, path: &str) -> Option<Vec<(String, &'n Sp, String)>> {
    if let Node::Str(_) = node.value {
        return ctx.text(node, path).map(|s| vec![(s, node, path.to_owned())]);
    }
    let Node::Seq(items) = &node.value else {
        let found = node.value.describe();
        ctx.error(node, path, format!("expected a list, found {found}"));
        return None;
    };
    let before = ctx.errors.len();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        if let Some(s) = ctx.text(item, &item_path) {
            out.push((s, item, item_path));
        }
    }
    (ctx.errors.len() == before).then_some(out)
}

/// [`names`] that must not be empty: an empty list is ambiguous (everything? nothing?).
fn non_empty_names<'n>(
    ctx: &mut Ctx<'_>,
    node: &'n Sp,
    path: &str,
    empty: &str,
) -> Option<Vec<(String, &'n Sp, String)>> {
    let list = names(ctx, node, path)?;
    if list.is_empty() {
        ctx.error(node, path, empty);
        return None;
    }
    Some(list)
}

/// "unknown channel `x`" with a suggestion, or the declared ids when none is near.
fn unknown_ref(what: &str, section: &str, raw: &str, known: &[String]) -> String {
    let ids: Vec<&str> = known.iter().map(String::as_str).collect();
    let head = format!("unknown {what} `{raw}`");
    not_known(&head, raw, &ids, &format!("no `{section}` are declared"), &format!("declared {section}"))
}

/// `head` followed by the known name nearest `raw`, or else by the known names (the first ten)
/// after `listed`, or `none` when there are none.
fn not_known(head: &str, raw: &str, known: &[&str], none: &str, listed: &str) -> String {
    match did_you_mean(raw, known) {
        Some(near) => format!("{head}; did you mean `{near}`?"),
        None if known.is_empty() => format!("{head}: {none}"),
        None if known.len() > 10 => {
            format!("{head}; {listed}: {}, … ({} in all)", known[..10].join(", "), known.len())
        }
        None => format!("{head}; {listed}: {}", known.join(", ")),
    }
}

/// An `id` that is valid, unique within its section (`what`), and recorded in `declared` as
/// written, so references to a bad id are not reported a second time.
fn section_id(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    what: &str,
    seen: &mut HashMap<String, u64>,
    declared: &mut Vec<String>,
) -> Option<MonitorId> {
    let Some(v) = f.value("id") else {
        ctx.missing(f, "id");
        return None;
    };
    let path = f.path_of("id");
    let raw = ctx.string(v, &path)?;
    if let Some(line) = seen.get(&raw) {
        ctx.error(v, &path, format!("duplicate {what} id `{raw}` (first defined on line {line})"));
        return None;
    }
    seen.insert(raw.clone(), v.referenced.line());
    declared.push(raw.clone());
    MonitorId::parse(&raw).map_err(|message| ctx.error(v, &path, format!("invalid id: {message}"))).ok()
}

fn escalations(
    ctx: &mut Ctx<'_>,
    node: &Sp,
    channels: &[String],
    declared: &mut Vec<String>,
) -> Vec<Escalation> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (i, item) in ctx.seq(node, "escalations").unwrap_or_default().iter().enumerate() {
        let path = format!("escalations[{i}]");
        let Some(f) = ctx.map(item, &path, ESCALATION_KEYS) else { continue };
        let before = ctx.errors.len();
        let id = section_id(ctx, &f, "escalation", &mut seen, declared);
        let repeat = f.value("repeat").map_or(Some(1), |v| ctx.int(v, &f.path_of("repeat"), 1..=100));
        let steps = match f.value("steps") {
            None => {
                ctx.missing(&f, "steps");
                None
            }
            Some(v) => steps(ctx, v, &f.path_of("steps"), channels),
        };
        let round = f.value("round").and_then(|v| {
            let path = f.path_of("round");
            let round = ctx.duration(v, &path, Duration::from_secs(1))?;
            let last = steps.as_ref().and_then(|s: &Vec<EscalationStep>| s.last()).map(|s| s.after);
            match last {
                Some(last) if round <= last => {
                    let message = format!(
                        "{} must be longer than the last step's `after` ({}), or the next round would start before this one ends",
                        format_duration(round),
                        format_duration(last)
                    );
                    ctx.error(v, &path, message);
                    None
                }
                _ => Some(round),
            }
        });
        let renotify = f.value("renotify").and_then(|v| renotify(ctx, v, &f.path_of("renotify")));
        if ctx.errors.len() != before {
            continue;
        }
        if let (Some(id), Some(repeat), Some(steps)) = (id, repeat, steps) {
            out.push(Escalation { id: id.to_string(), repeat: repeat as u32, steps, round, renotify });
        }
    }
    out
}

/// At least one step, each `{after, notify}`, in non-decreasing order of `after`.
fn steps(ctx: &mut Ctx<'_>, node: &Sp, path: &str, channels: &[String]) -> Option<Vec<EscalationStep>> {
    let items = ctx.seq(node, path)?;
    if items.is_empty() {
        ctx.error(node, path, "needs at least one step, like {after: 0s, notify: [oncall]}");
        return None;
    }
    let before = ctx.errors.len();
    let mut out = Vec::new();
    let mut previous: Option<Duration> = None;
    for (i, item) in items.iter().enumerate() {
        let step_path = format!("{path}[{i}]");
        let Some(f) = ctx.map(item, &step_path, STEP_KEYS) else { continue };
        let after = match f.value("after") {
            None => Some(Duration::ZERO),
            Some(v) => {
                let after_path = f.path_of("after");
                ctx.duration(v, &after_path, Duration::ZERO).filter(|after| match previous {
                    Some(prev) if *after < prev => {
                        let message = format!(
                            "{} is earlier than the previous step's `after` ({}): steps run in order, each `after` counted from the alert's start",
                            format_duration(*after),
                            format_duration(prev)
                        );
                        ctx.error(v, &after_path, message);
                        false
                    }
                    _ => true,
                })
            }
        };
        if let Some(after) = after {
            previous = Some(after);
        }
        let notify = match f.value("notify") {
            None => {
                ctx.missing(&f, "notify");
                None
            }
            Some(v) => {
                let notify_path = f.path_of("notify");
                non_empty_names(ctx, v, &notify_path, "needs at least one channel id").map(|list| {
                    let mut ids = Vec::new();
                    for (raw, item, item_path) in list {
                        if !channels.contains(&raw) {
                            ctx.error(item, &item_path, unknown_ref("channel", "channels", &raw, channels));
                        } else if !ids.contains(&raw) {
                            ids.push(raw);
                        }
                    }
                    ids
                })
            }
        };
        if let (Some(after), Some(notify)) = (after, notify) {
            out.push(EscalationStep { after, notify });
        }
    }
    (ctx.errors.len() == before).then_some(out)
}

fn renotify(ctx: &mut Ctx<'_>, node: &Sp, path: &str) -> Option<Renotify> {
    let f = ctx.map(node, path, RENOTIFY_KEYS)?;
    let before = ctx.errors.len();
    let every = match f.value("every") {
        None => {
            ctx.missing(&f, "every");
            None
        }
        Some(v) => ctx.duration(v, &f.path_of("every"), MIN_RENOTIFY),
    };
    let backoff = f.value("backoff").map_or(Some(Backoff::None), |v| {
        ctx.choice(v, &f.path_of("backoff"), "backoff", BACKOFFS).map(|b| match b {
            "linear" => Backoff::Linear,
            "exponential" => Backoff::Exponential,
            _ => Backoff::None,
        })
    });
    let max = match f.value("max") {
        None => every.map(|every| every.max(DEFAULT_RENOTIFY_MAX)),
        Some(v) => {
            let max_path = f.path_of("max");
            ctx.duration(v, &max_path, MIN_RENOTIFY).filter(|max| match every {
                Some(every) if *max < every => {
                    let message = format!(
                        "{} is shorter than `every` ({}): `max` caps the growing interval",
                        format_duration(*max),
                        format_duration(every)
                    );
                    ctx.error(v, &max_path, message);
                    false
                }
                _ => true,
            })
        }
    };
    if ctx.errors.len() != before {
        return None;
    }
    Some(Renotify { every: every?, backoff: backoff?, max: max? })
}

/// The event kinds a rule may name: every kind but the console's "send test".
fn event_names() -> Vec<&'static str> {
    EventKind::ALL
        .into_iter()
        .filter(|k| !matches!(k, EventKind::Test | EventKind::SubscriptionConfirm))
        .map(EventKind::as_str)
        .collect()
}

fn alerts(ctx: &mut Ctx<'_>, node: &Sp, known: &Known<'_>, escalations: &[String]) -> Vec<AlertRule> {
    let mut out = Vec::new();
    for (i, item) in ctx.seq(node, "alerts").unwrap_or_default().iter().enumerate() {
        let path = format!("alerts[{i}]");
        let Some(f) = ctx.map(item, &path, ALERT_KEYS) else { continue };
        let before = ctx.errors.len();
        let monitors = f
            .value("monitors")
            .map_or_else(Vec::new, |v| monitor_patterns(ctx, v, &f.path_of("monitors"), known.monitors));
        let mut components = Vec::new();
        if let Some(v) = f.value("components") {
            let empty = "needs at least one component id; leave the key out to match every component";
            for (_, item, item_path) in
                non_empty_names(ctx, v, &f.path_of("components"), empty).unwrap_or_default()
            {
                if let Some(id) = super::monitor::component_ref(ctx, item, &item_path, known.components)
                    && !components.contains(&id)
                {
                    components.push(id);
                }
            }
        }
        let tags =
            f.value("tags").map_or_else(Vec::new, |v| tag_filter(ctx, v, &f.path_of("tags"), known.tags));
        let events = f
            .value("events")
            .map_or_else(|| vec![EventKind::Down, EventKind::Up], |v| events(ctx, v, &f.path_of("events")));
        let escalation = match f.value("escalation") {
            None => {
                ctx.missing(&f, "escalation");
                None
            }
            Some(v) => {
                let esc_path = f.path_of("escalation");
                ctx.text(v, &esc_path).filter(|raw| {
                    let ok = escalations.contains(raw);
                    if !ok {
                        ctx.error(v, &esc_path, unknown_ref("escalation", "escalations", raw, escalations));
                    }
                    ok
                })
            }
        };
        if let (Some(escalation), true) = (escalation, ctx.errors.len() == before) {
            out.push(AlertRule { monitors, components, events, tags, escalation });
        }
    }
    out
}

/// Monitor id patterns. A pattern must match a declared monitor: a rule for a mistyped id
/// would never fire, and nobody would be paged (P1). `*` alone matches every monitor.
fn monitor_patterns(ctx: &mut Ctx<'_>, node: &Sp, path: &str, monitors: &[String]) -> Vec<String> {
    let empty =
        "needs at least one monitor id or pattern; leave the key out (or write \"*\") to match every monitor";
    let mut out = Vec::new();
    for (raw, item, item_path) in non_empty_names(ctx, node, path, empty).unwrap_or_default() {
        let problem = if raw == "*" {
            None
        } else if !raw.contains('*') {
            (!monitors.contains(&raw)).then(|| unknown_ref("monitor", "monitors", &raw, monitors))
        } else {
            let matches_one = monitors.iter().any(|m| wildcard(&raw, m));
            (!matches_one).then(|| format!("pattern `{raw}` matches no monitor"))
        };
        if let Some(message) = problem {
            ctx.error(item, &item_path, message);
            continue;
        }
        if !out.contains(&raw) {
            out.push(raw);
        }
    }
    out
}

/// Monitor tags. Each must be carried by a declared monitor: a rule for a mistyped tag would
/// never fire, and nobody would be paged (P1).
fn tag_filter(ctx: &mut Ctx<'_>, node: &Sp, path: &str, tags: &[String]) -> Vec<String> {
    let empty = "needs at least one tag; leave the key out to match every monitor, tagged or not";
    let mut out = Vec::new();
    for (raw, item, item_path) in non_empty_names(ctx, node, path, empty).unwrap_or_default() {
        // A tag a monitor declares was checked there (one error for a bad one, not two).
        let problem = match check_tag(&raw) {
            _ if tags.contains(&raw) => None,
            Err(message) => Some(format!("invalid tag: {message}")),
            Ok(()) => Some(unknown_tag(&raw, tags)),
        };
        if let Some(message) = problem {
            ctx.error(item, &item_path, message);
        } else if !out.contains(&raw) {
            out.push(raw);
        }
    }
    out
}

/// "no monitor has tag `x`" with a suggestion, or the (valid) tags in use when none is near.
fn unknown_tag(raw: &str, tags: &[String]) -> String {
    let known: Vec<&str> = tags.iter().map(String::as_str).filter(|t| check_tag(t).is_ok()).collect();
    not_known(&format!("no monitor has tag `{raw}`"), raw, &known, "no monitor has `tags`", "tags in use")
}

/// Event kinds, exact or with a `*` wildcard (`incident_*`).
fn events(ctx: &mut Ctx<'_>, node: &Sp, path: &str) -> Vec<EventKind> {
    let allowed = event_names();
    let empty = "needs at least one event kind; leave the key out for [down, up]";
    let mut out = Vec::new();
    for (raw, item, item_path) in non_empty_names(ctx, node, path, empty).unwrap_or_default() {
        let kinds: Vec<EventKind> = if raw.contains('*') {
            EventKind::matching(&raw)
                .into_iter()
                .filter(|k| !matches!(k, EventKind::Test | EventKind::SubscriptionConfirm))
                .collect()
        } else {
            EventKind::parse(&raw)
                .filter(|k| !matches!(k, EventKind::Test | EventKind::SubscriptionConfirm))
                .into_iter()
                .collect()
        };
        if kinds.is_empty() {
            let message = match did_you_mean(&raw, &allowed) {
                Some(near) => format!("unknown event kind `{raw}`; did you mean `{near}`?"),
                None if raw.contains('*') => format!("pattern `{raw}` matches no event kind"),
                None => {
                    let list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
                    format!(
                        "unknown event kind `{raw}`; expected one of {list}, or a pattern like `incident_*`"
                    )
                }
            };
            ctx.error(item, &item_path, message);
            continue;
        }
        for kind in kinds {
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
    }
    out
}

//! `monitors:`: the keys every monitor has, its decision policy and its conditions. The keys of
//! each check kind are read by [`super::kind`].

use std::collections::HashMap;
use std::time::Duration;

use belfry_core::check::{CheckKind, CheckSpec};
use belfry_core::component::OutageImpact;
use belfry_core::incident::auto::AutoIncident;
use belfry_core::monitor::{MAX_TAGS, check_tag};
use belfry_core::policy::{FailurePolicy, FlapPolicy, Policy, RecoveryPolicy};
use belfry_core::{Condition, MonitorId, MonitorSpec};

use super::check::{Ctx, Fields};
use super::duration::format_duration;
use super::error::did_you_mean;
use super::kind;
use super::node::{Node, Sp, quote_at, source_offset_of};

const COMMON_KEYS: &[&str] = &[
    "id",
    "name",
    "kind",
    "component",
    "interval",
    "timeout",
    "conditions",
    "degraded_when",
    "failure",
    "recovery",
    "flapping",
    "impact",
    "paused",
    "incident",
    "depends_on",
    "tags",
    "regions",
    "quorum",
];
const KINDS: &[&str] = &["http", "tcp", "dns", "tls", "icmp", "heartbeat"];
const IMPACTS: &[&str] = &["major_outage", "partial_outage", "degraded_performance"];

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Monitor ids and heartbeat tokens already taken, with the line that took them.
#[derive(Default)]
pub(super) struct Taken {
    ids: HashMap<String, u64>,
    /// Every monitor id as written (valid or not), in file order.
    declared: Vec<String>,
    /// Every tag as written (valid or not), each once, in file order.
    tags: Vec<String>,
    pub tokens: HashMap<String, (String, u64)>,
}

/// `inherited`: the `incident:` policy of each component that sets one. Every monitor id as
/// written, valid or not, is added to `declared`, and every tag to `declared_tags`, so a rule
/// naming a bad monitor or tag gets one error.
pub(super) fn monitors(
    ctx: &mut Ctx<'_>,
    node: &Sp,
    components: &[String],
    inherited: &HashMap<String, AutoIncident>,
    declared: &mut Vec<String>,
    declared_tags: &mut Vec<String>,
) -> Vec<MonitorSpec> {
    let mut taken = Taken::default();
    let mut out = Vec::new();
    for (i, item) in ctx.seq(node, "monitors").unwrap_or_default().iter().enumerate() {
        if let Some(spec) = monitor(ctx, item, &format!("monitors[{i}]"), components, inherited, &mut taken) {
            out.push(spec);
        }
    }
    declared.append(&mut taken.declared);
    declared_tags.append(&mut taken.tags);
    super::depends::resolve(ctx, node, &mut out);
    out
}

fn monitor(
    ctx: &mut Ctx<'_>,
    node: &Sp,
    path: &str,
    components: &[String],
    inherited: &HashMap<String, AutoIncident>,
    taken: &mut Taken,
) -> Option<MonitorSpec> {
    let f = ctx.map_open(node, path)?;
    let before = ctx.errors.len();
    let kind = match f.value("kind") {
        None => {
            ctx.missing(&f, "kind");
            None
        }
        Some(v) => ctx.choice(v, &f.path_of("kind"), "monitor kind", KINDS).map(|k| match k {
            "http" => CheckKind::Http,
            "tcp" => CheckKind::Tcp,
            "dns" => CheckKind::Dns,
            "tls" => CheckKind::Tls,
            "icmp" => CheckKind::Icmp,
            _ => CheckKind::Heartbeat,
        }),
    };
    check_keys(ctx, &f, kind);

    let id = monitor_id(ctx, &f, taken);
    let name = f.value("name").and_then(|v| ctx.text(v, &f.path_of("name")));
    let component =
        f.value("component").and_then(|v| component_ref(ctx, v, &f.path_of("component"), components));
    let interval = f
        .value("interval")
        .map_or(Some(DEFAULT_INTERVAL), |v| ctx.duration(v, &f.path_of("interval"), Duration::from_secs(1)));
    let timeout = f
        .value("timeout")
        .map_or(Some(DEFAULT_TIMEOUT), |v| ctx.duration(v, &f.path_of("timeout"), Duration::from_millis(1)));
    let conditions = f.value("conditions").map(|v| condition_list(ctx, v, &f.path_of("conditions")));
    let degraded_when = f
        .value("degraded_when")
        .map_or_else(Vec::new, |v| condition_list(ctx, v, &f.path_of("degraded_when")));
    let policy = policy(ctx, &f, interval.unwrap_or(DEFAULT_INTERVAL), kind);
    let impact = f.value("impact").map_or(Some(OutageImpact::MajorOutage), |v| {
        ctx.choice(v, &f.path_of("impact"), "impact", IMPACTS).map(|i| match i {
            "partial_outage" => OutageImpact::PartialOutage,
            "degraded_performance" => OutageImpact::DegradedPerformance,
            _ => OutageImpact::MajorOutage,
        })
    });
    let paused = f.value("paused").map_or(Some(false), |v| ctx.bool(v, &f.path_of("paused")));
    let tags =
        f.value("tags").map_or(Some(Vec::new()), |v| tag_list(ctx, v, &f.path_of("tags"), &mut taken.tags));
    // Absent: the component's policy; `off` turns it off even where the component has one.
    let incident = match f.value("incident") {
        Some(v) => super::incident::auto_incident(ctx, v, &f.path_of("incident")),
        None => Some(component.as_ref().and_then(|c| inherited.get(c.as_str()).copied())),
    };
    let regions = super::regions::regions(ctx, &f, kind);
    let mut check = kind.and_then(|k| kind::check(ctx, &f, k, taken, id.as_ref()));

    let (shorthand, replaces_default) = match kind {
        Some(CheckKind::Http) => kind::shorthand::conditions(ctx, &f),
        _ => (Vec::new(), false),
    };
    let mut conditions = match conditions {
        Some(given) => given,
        None if replaces_default => Vec::new(),
        None => default_conditions(ctx, &f, kind),
    };
    conditions.extend(shorthand);
    // A dns check judges each server on its own with the monitor's conditions.
    if let Some(CheckSpec::Dns(dns)) = &mut check {
        dns.server_conditions = conditions.clone();
    }
    if ctx.errors.len() != before {
        return None;
    }
    let id = id?;
    Some(MonitorSpec {
        name: name.unwrap_or_else(|| id.to_string()),
        id,
        component,
        check: check?,
        interval: interval?,
        timeout: timeout?,
        conditions,
        degraded_when,
        policy: policy?,
        impact: impact?,
        paused: paused?,
        incident: incident?,
        depends_on: Vec::new(),
        tags: tags?,
        regions: regions?,
    })
}

/// `tags: [db, payments]`: at most [`MAX_TAGS`], each valid by [`check_tag`], repeats dropped.
/// Every tag as written goes to `declared`.
fn tag_list(ctx: &mut Ctx<'_>, node: &Sp, path: &str, declared: &mut Vec<String>) -> Option<Vec<String>> {
    let items = ctx.seq(node, path)?;
    let before = ctx.errors.len();
    if items.len() > MAX_TAGS {
        ctx.error(node, path, format!("{} tags are too many: a monitor has at most {MAX_TAGS}", items.len()));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(raw) = ctx.string(item, &item_path) else { continue };
        if !declared.contains(&raw) {
            declared.push(raw.clone());
        }
        match check_tag(&raw) {
            Err(message) => ctx.error(item, &item_path, format!("invalid tag: {message}")),
            Ok(()) if !out.contains(&raw) => out.push(raw),
            Ok(()) => {}
        }
    }
    (ctx.errors.len() == before).then_some(out)
}

/// Every key must be common or belong to the monitor's kind.
fn check_keys(ctx: &mut Ctx<'_>, f: &Fields<'_>, kind: Option<CheckKind>) {
    let all_kinds = kind::ALL;
    for key in f.keys() {
        let name = key.value.as_str();
        if COMMON_KEYS.contains(&name) || kind.is_some_and(|k| kind::keys(k).contains(&name)) {
            continue;
        }
        let owner = all_kinds.into_iter().find(|k| kind::keys(*k).contains(&name));
        match (kind, owner) {
            (Some(kind), Some(owner)) if owner != kind => {
                let article = if matches!(kind, CheckKind::Http | CheckKind::Icmp) { "an" } else { "a" };
                let message = format!("`{name}` is not a key of {article} {} monitor", kind.as_str());
                ctx.error_at(key.referenced, &f.path_of(name), message);
            }
            (_, Some(_)) => {}
            (Some(kind), None) => {
                let known: Vec<&str> = COMMON_KEYS.iter().chain(kind::keys(kind)).copied().collect();
                ctx.unknown_key(key, &f.path, &known);
            }
            (None, None) => {
                let known: Vec<&str> = COMMON_KEYS
                    .iter()
                    .chain(all_kinds.iter().flat_map(|k| kind::keys(*k)))
                    .copied()
                    .collect();
                ctx.unknown_key(key, &f.path, &known);
            }
        }
    }
}

fn monitor_id(ctx: &mut Ctx<'_>, f: &Fields<'_>, taken: &mut Taken) -> Option<MonitorId> {
    let Some(v) = f.value("id") else {
        ctx.missing(f, "id");
        return None;
    };
    let path = f.path_of("id");
    let raw = ctx.string(v, &path)?;
    if let Some(line) = taken.ids.get(&raw) {
        ctx.error(v, &path, format!("duplicate monitor id `{raw}` (first defined on line {line})"));
        return None;
    }
    taken.ids.insert(raw.clone(), v.referenced.line());
    taken.declared.push(raw.clone());
    MonitorId::parse(&raw).map_err(|message| ctx.error(v, &path, format!("invalid id: {message}"))).ok()
}

pub(super) fn component_ref(
    ctx: &mut Ctx<'_>,
    v: &Sp,
    path: &str,
    components: &[String],
) -> Option<MonitorId> {
    let raw = ctx.string(v, path)?;
    if !components.contains(&raw) {
        let known: Vec<&str> = components.iter().map(String::as_str).collect();
        let message = match did_you_mean(&raw, &known) {
            Some(near) => format!("unknown component `{raw}`; did you mean `{near}`?"),
            None if known.is_empty() => format!("unknown component `{raw}`: no `components` are declared"),
            None => format!("unknown component `{raw}`; declared components: {}", known.join(", ")),
        };
        ctx.error(v, path, message);
        return None;
    }
    // A declared but invalid id was already reported where it is declared.
    MonitorId::parse(&raw).ok()
}

/// `[STATUS] < 400` for http, `[CONNECTED] == true` for tcp and icmp, an answer with records
/// for dns (so NODATA fails too), an unexpired certificate for tls, nothing for heartbeats.
fn default_conditions(ctx: &mut Ctx<'_>, f: &Fields<'_>, kind: Option<CheckKind>) -> Vec<Condition> {
    let sources: &[&str] = match kind {
        Some(CheckKind::Http) => &["[STATUS] < 400"],
        Some(CheckKind::Tcp | CheckKind::Icmp) => &["[CONNECTED] == true"],
        Some(CheckKind::Dns) => &["[DNS_RCODE] == NOERROR", "len([BODY]) > 0"],
        Some(CheckKind::Tls) => &["[CERTIFICATE_EXPIRATION] > 0"],
        Some(CheckKind::Heartbeat) | None => return Vec::new(),
    };
    let mut out = Vec::new();
    for source in sources {
        match Condition::parse(source) {
            Ok(c) => out.push(c),
            Err(e) => {
                let path = f.path_of("conditions");
                ctx.error(
                    f.node,
                    &path,
                    format!("internal error: default condition {source:?} rejected: {}", e.message),
                );
            }
        }
    }
    out
}

/// A list of conditions; a condition's error points at its column inside the file.
fn condition_list(ctx: &mut Ctx<'_>, node: &Sp, path: &str) -> Vec<Condition> {
    let mut out = Vec::new();
    for (i, item) in ctx.seq(node, path).unwrap_or_default().iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(source) = ctx.text(item, &item_path) else { continue };
        match Condition::parse(&source) {
            Ok(c) => out.push(c),
            Err(e) => {
                let column = condition_column(ctx.src, item, e.column);
                ctx.error_line_col(
                    item.defined.line(),
                    column,
                    &item_path,
                    format!("invalid condition: {}", e.message),
                );
            }
        }
    }
    out
}

/// The file column of a condition's (1-based) `column`: the scalar's column, plus one for an
/// opening quote, plus the characters before it (escapes counted as written).
pub(super) fn condition_column(src: &str, item: &Sp, column: usize) -> u64 {
    let at = item.defined;
    let start = at.span().byte_offset().and_then(|b| usize::try_from(b).ok());
    let offset = start
        .and_then(|b| src.get(b..))
        .and_then(|rest| source_offset_of(rest, quote_at(src, at), column.saturating_sub(1)));
    at.column().max(1) + offset.unwrap_or(0) as u64
}

fn policy(ctx: &mut Ctx<'_>, f: &Fields<'_>, interval: Duration, kind: Option<CheckKind>) -> Option<Policy> {
    let before = ctx.errors.len();
    let mut policy = kind.map_or_else(Policy::default, Policy::for_kind);
    let defaults = policy;
    if let Some(v) = f.value("failure")
        && let Some(ff) = ctx.map(v, &f.path_of("failure"), &["threshold", "within"])
    {
        let threshold = ff.value("threshold").map_or(Some(u64::from(defaults.failure.threshold)), |v| {
            ctx.int(v, &ff.path_of("threshold"), 1..=1000)
        });
        let within =
            ff.value("within").and_then(|v| ctx.duration(v, &ff.path_of("within"), Duration::from_secs(1)));
        if let (Some(n), Some(w), Some(v)) = (threshold, within, ff.value("within")) {
            let span = interval.saturating_mul(n as u32 - 1);
            if w < span {
                let message = format!(
                    "{} is too short for {n} failures {} apart: it must be at least {}",
                    format_duration(w),
                    format_duration(interval),
                    format_duration(span)
                );
                ctx.error(v, &ff.path_of("within"), message);
            }
        }
        policy.failure =
            FailurePolicy { threshold: threshold.map_or(defaults.failure.threshold, |n| n as u32), within };
    }
    if let Some(v) = f.value("recovery")
        && let Some(rf) = ctx.map(v, &f.path_of("recovery"), &["threshold"])
    {
        let threshold = rf.value("threshold").map_or(Some(u64::from(defaults.recovery.threshold)), |v| {
            ctx.int(v, &rf.path_of("threshold"), 1..=1000)
        });
        policy.recovery =
            RecoveryPolicy { threshold: threshold.map_or(defaults.recovery.threshold, |n| n as u32) };
    }
    if let Some(v) = f.value("flapping") {
        policy.flapping = flapping(ctx, v, &f.path_of("flapping"));
    }
    (ctx.errors.len() == before).then_some(policy)
}

/// `flapping: false` turns damping off; `true` or a mapping keeps it on.
fn flapping(ctx: &mut Ctx<'_>, v: &Sp, path: &str) -> Option<FlapPolicy> {
    let mut flap = FlapPolicy { changes: 6, within: Duration::from_secs(3600) };
    match &v.value {
        Node::Bool(false) => return None,
        Node::Bool(true) => return Some(flap),
        Node::Map(_) => {}
        other => {
            ctx.error(v, path, format!("expected a mapping or false, found {}", other.describe()));
            return None;
        }
    }
    let ff = ctx.map(v, path, &["changes", "within"])?;
    if let Some(n) = ff.value("changes").and_then(|n| ctx.int(n, &ff.path_of("changes"), 1..=1000)) {
        flap.changes = n as u32;
    }
    if let Some(w) =
        ff.value("within").and_then(|w| ctx.duration(w, &ff.path_of("within"), Duration::from_secs(1)))
    {
        flap.within = w;
    }
    Some(flap)
}

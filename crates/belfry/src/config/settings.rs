//! The top of the config: `page`, `storage`, `connectivity`, `components`; `monitors` are read
//! by [`super::monitor`], and `channels`, `escalations` and `alerts` by [`super::alerting`].

use std::collections::HashMap;
use std::time::Duration;

use belfry_core::catalog::ConnectivityGuard;
use belfry_core::{Catalog, Component, MonitorId, PageSettings};

use super::check::Ctx;
use super::node::{Node, Sp};

/// Everything `belfry serve` needs from the config file.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub catalog: Catalog,
    pub storage: StorageSettings,
}

/// `storage:` in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// `sqlite://path` or `postgres://…`; `None` means the CLI's data directory default.
    pub url: Option<String>,
    /// How long raw check results are kept (rollups outlive them).
    pub retention: Duration,
    /// Upper bound of the store's connection pool.
    pub max_connections: u32,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self { url: None, retention: Duration::from_secs(14 * 86_400), max_connections: 8 }
    }
}

const TOP_KEYS: &[&str] = &[
    "page",
    "storage",
    "connectivity",
    "components",
    "monitors",
    "channels",
    "escalations",
    "alerts",
    "subscribers",
    "alerting",
];
const PAGE_KEYS: &[&str] = &["title", "description", "time_zone", "public_url", "logo_url"];
const STORAGE_KEYS: &[&str] = &["url", "retention", "max_connections"];
const CONNECTIVITY_KEYS: &[&str] = &["targets", "timeout"];
const COMPONENT_KEYS: &[&str] = &["id", "name", "description", "group", "incident"];

/// Reads and validates the whole document; problems are left in `ctx.errors`.
pub(super) fn settings(ctx: &mut Ctx<'_>, root: &Sp) -> Settings {
    let mut settings = Settings::default();
    if matches!(root.value, Node::Null) {
        return settings; // an empty file: every default, no monitors
    }
    let Some(top) = ctx.map_open(root, "") else { return settings };
    for key in top.keys() {
        // `x-…` keys are free for the user, e.g. to hold YAML anchors shared by monitors.
        if !TOP_KEYS.contains(&key.value.as_str()) && !key.value.starts_with("x-") {
            ctx.unknown_key(key, "", TOP_KEYS);
        }
    }
    if let Some(node) = top.value("page") {
        settings.catalog.page = page(ctx, node);
    }
    if let Some(node) = top.value("storage") {
        settings.storage = storage(ctx, node);
    }
    if let Some(node) = top.value("connectivity") {
        settings.catalog.connectivity = connectivity(ctx, node);
    }
    // Ids as written, valid or not, so a monitor naming a bad component gets one error, not two.
    let mut declared = Vec::new();
    if let Some(node) = top.value("components") {
        settings.catalog.components = components(ctx, node, &mut declared);
    }
    let (mut monitor_ids, mut tags) = (Vec::new(), Vec::new());
    if let Some(node) = top.value("monitors") {
        let inherited = settings
            .catalog
            .components
            .iter()
            .filter_map(|c| Some((c.id.to_string(), c.incident?)))
            .collect();
        settings.catalog.monitors =
            super::monitor::monitors(ctx, node, &declared, &inherited, &mut monitor_ids, &mut tags)
                .into_iter()
                .map(std::sync::Arc::new)
                .collect();
    }
    let known = super::alerting::Known { monitors: &monitor_ids, components: &declared, tags: &tags };
    settings.catalog.alerting = super::alerting::alerting(ctx, &top, &known);
    settings
}

/// The console's document (only `monitors` and `channels`), read against the config file's
/// settings: it may use their components but may not reuse their monitor or channel ids.
pub(super) fn console(ctx: &mut Ctx<'_>, root: &Sp, base: &Settings) -> Settings {
    let mut added = Settings::default();
    let Some(top) = ctx.map(root, "", &["monitors", "channels"]) else { return added };
    if let Some(node) = top.value("monitors") {
        let components: Vec<String> = base.catalog.components.iter().map(|c| c.id.to_string()).collect();
        let inherited =
            base.catalog.components.iter().filter_map(|c| Some((c.id.to_string(), c.incident?))).collect();
        let (mut ids, mut tags) = (Vec::new(), Vec::new());
        added.catalog.monitors =
            super::monitor::monitors(ctx, node, &components, &inherited, &mut ids, &mut tags)
                .into_iter()
                .map(std::sync::Arc::new)
                .collect();
    }
    if let Some(node) = top.value("channels") {
        added.catalog.alerting.channels = super::alerting::channel_list(ctx, node, &mut Vec::new());
    }
    added
}

fn page(ctx: &mut Ctx<'_>, node: &Sp) -> PageSettings {
    let mut page = PageSettings::default();
    let Some(f) = ctx.map(node, "page", PAGE_KEYS) else { return page };
    if let Some(v) = f.value("title") {
        page.title = ctx.text(v, &f.path_of("title")).unwrap_or(page.title);
    }
    if let Some(v) = f.value("description") {
        page.description = ctx.string(v, &f.path_of("description"));
    }
    if let Some(v) = f.value("time_zone") {
        let path = f.path_of("time_zone");
        if let Some(name) = ctx.text(v, &path) {
            match jiff::tz::TimeZone::get(&name) {
                Ok(_) => page.time_zone = name,
                Err(_) => ctx.error(
                    v,
                    &path,
                    format!("unknown time zone {name:?}; use an IANA name like Europe/Berlin or UTC"),
                ),
            }
        }
    }
    if let Some(v) = f.value("public_url") {
        page.public_url =
            ctx.http_url(v, &f.path_of("public_url")).map(|u| u.trim_end_matches('/').to_owned());
    }
    if let Some(v) = f.value("logo_url") {
        let path = f.path_of("logo_url");
        page.logo_url = match &v.value {
            Node::Str(s) if s.starts_with('/') => Some(s.clone()),
            _ => ctx.http_url(v, &path),
        };
    }
    page
}

pub(super) fn storage(ctx: &mut Ctx<'_>, node: &Sp) -> StorageSettings {
    let mut storage = StorageSettings::default();
    let Some(f) = ctx.map(node, "storage", STORAGE_KEYS) else { return storage };
    if let Some(v) = f.value("url") {
        let path = f.path_of("url");
        if let Some(url) = ctx.text(v, &path) {
            let known = ["sqlite:", "postgres://", "postgresql://"].iter().any(|p| url.starts_with(p));
            if known {
                storage.url = Some(url);
            } else {
                ctx.error(
                    v,
                    &path,
                    "unsupported storage URL: expected sqlite://PATH or postgres://USER@HOST/DB",
                );
            }
        }
    }
    if let Some(v) = f.value("retention") {
        let min = Duration::from_secs(60);
        storage.retention = ctx.duration(v, &f.path_of("retention"), min).unwrap_or(storage.retention);
    }
    if let Some(v) = f.value("max_connections") {
        let n = ctx.int(v, &f.path_of("max_connections"), 1..=1000);
        storage.max_connections = n.map_or(storage.max_connections, |n| n as u32);
    }
    storage
}

fn connectivity(ctx: &mut Ctx<'_>, node: &Sp) -> Option<ConnectivityGuard> {
    let f = ctx.map(node, "connectivity", CONNECTIVITY_KEYS)?;
    let before = ctx.errors.len();
    let mut targets = Vec::new();
    match f.value("targets") {
        None => ctx.missing(&f, "targets"),
        Some(list) => {
            let path = f.path_of("targets");
            for (i, item) in ctx.seq(list, &path).unwrap_or_default().iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                let Some(target) = ctx.text(item, &item_path) else { continue };
                if host_port(&target) {
                    targets.push(target);
                } else {
                    ctx.error(item, &item_path, format!("{target:?} is not HOST:PORT (like 1.1.1.1:53)"));
                }
            }
            if targets.is_empty() && ctx.errors.len() == before {
                ctx.error(list, &path, "needs at least one HOST:PORT target");
            }
        }
    }
    let timeout = match f.value("timeout") {
        Some(v) => ctx.duration(v, &f.path_of("timeout"), Duration::from_millis(1)),
        None => Some(Duration::from_secs(5)),
    };
    (ctx.errors.len() == before).then(|| ConnectivityGuard { targets, timeout: timeout.unwrap_or_default() })
}

/// `host:port` or `[v6]:port`, with a port from 1 to 65535.
fn host_port(raw: &str) -> bool {
    let Some((host, port)) = raw.rsplit_once(':') else { return false };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => !host.is_empty() && !host.contains([':', '/', ' ']),
    };
    host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
}

fn components(ctx: &mut Ctx<'_>, node: &Sp, declared: &mut Vec<String>) -> Vec<Component> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (i, item) in ctx.seq(node, "components").unwrap_or_default().iter().enumerate() {
        let path = format!("components[{i}]");
        let Some(f) = ctx.map(item, &path, COMPONENT_KEYS) else { continue };
        let before = ctx.errors.len();
        let mut id = None;
        match f.value("id") {
            None => ctx.missing(&f, "id"),
            Some(v) => {
                let id_path = f.path_of("id");
                if let Some(raw) = ctx.string(v, &id_path) {
                    if let Some(line) = seen.get(&raw) {
                        ctx.error(
                            v,
                            &id_path,
                            format!("duplicate component id `{raw}` (first defined on line {line})"),
                        );
                    } else {
                        seen.insert(raw.clone(), v.referenced.line());
                        declared.push(raw.clone());
                    }
                    match MonitorId::parse(&raw) {
                        Ok(parsed) => id = Some(parsed),
                        Err(message) => ctx.error(v, &id_path, format!("invalid id: {message}")),
                    }
                }
            }
        }
        let name = f.value("name").and_then(|v| ctx.text(v, &f.path_of("name")));
        let description = f.value("description").and_then(|v| ctx.string(v, &f.path_of("description")));
        let group = f.value("group").and_then(|v| ctx.text(v, &f.path_of("group")));
        let incident = f
            .value("incident")
            .map_or(Some(None), |v| super::incident::auto_incident(ctx, v, &f.path_of("incident")))
            .flatten();
        if let (Some(id), true) = (id, ctx.errors.len() == before) {
            let name = name.unwrap_or_else(|| id.to_string());
            out.push(Component { id, name, description, group, incident });
        }
    }
    out
}

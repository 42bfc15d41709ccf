//! `depends_on: [monitor ids]`: while a parent is down, its children's outages are grouped
//! under the parent's alert instead of each paging on its own. Checked after every monitor is
//! known: unknown ids (with did-you-mean), a monitor depending on itself, and cycles (which
//! would silence every monitor in them) are errors.

use std::collections::HashMap;

use belfry_core::{MonitorId, MonitorSpec};

use super::check::Ctx;
use super::error::did_you_mean;
use super::node::{Node, Sp};

/// Reads `depends_on` of every monitor item and stores it in the parsed specs.
pub(super) fn resolve(ctx: &mut Ctx<'_>, node: &Sp, specs: &mut [MonitorSpec]) {
    let Node::Seq(items) = &node.value else { return };
    let known: Vec<String> = specs.iter().map(|m| m.id.to_string()).collect();
    let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut parsed: HashMap<String, Vec<MonitorId>> = HashMap::new();
    let mut at: HashMap<String, (Sp, String)> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let Node::Map(entries) = &item.value else { continue };
        let id = entries.iter().find(|(k, _)| k.value == "id").and_then(|(_, v)| match &v.value {
            Node::Str(s) => Some(s.clone()),
            _ => None,
        });
        let Some((_, deps)) = entries.iter().find(|(k, _)| k.value == "depends_on") else { continue };
        let path = format!("monitors[{i}].depends_on");
        let Some(list) = ctx.seq(deps, &path) else { continue };
        let mut out = vec![];
        for (j, entry) in list.iter().enumerate() {
            let entry_path = format!("{path}[{j}]");
            let Some(raw) = ctx.string(entry, &entry_path) else { continue };
            if id.as_deref() == Some(raw.as_str()) {
                ctx.error(entry, &entry_path, "a monitor cannot depend on itself");
            } else if !known.contains(&raw) {
                let message = match did_you_mean(&raw, &known_refs) {
                    Some(near) => format!("unknown monitor `{raw}`; did you mean `{near}`?"),
                    None => format!("unknown monitor `{raw}`"),
                };
                ctx.error(entry, &entry_path, message);
            } else if let Ok(parent) = MonitorId::parse(&raw) {
                out.push(parent);
            }
        }
        if let Some(id) = id {
            at.insert(id.clone(), (deps.clone(), path));
            parsed.insert(id, out);
        }
    }
    for (id, (node, path)) in &at {
        if let Some(cycle) = cycle_from(id, &parsed) {
            ctx.error(
                node,
                path,
                format!("dependency cycle {}: while all are down none would alert", cycle.join(" → ")),
            );
        }
    }
    for spec in specs.iter_mut() {
        if let Some(deps) = parsed.remove(spec.id.as_str()) {
            spec.depends_on = deps;
        }
    }
}

/// The cycle through `start`, if following dependencies leads back to it.
fn cycle_from(start: &str, deps: &HashMap<String, Vec<MonitorId>>) -> Option<Vec<String>> {
    fn walk(at: &str, start: &str, deps: &HashMap<String, Vec<MonitorId>>, path: &mut Vec<String>) -> bool {
        if path.len() > deps.len() {
            return false;
        }
        for next in deps.get(at).into_iter().flatten() {
            path.push(next.to_string());
            if next.as_str() == start
                || (!path[..path.len() - 1].contains(&next.to_string())
                    && walk(next.as_str(), start, deps, path))
            {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.to_owned()];
    walk(start, start, deps, &mut path).then_some(path)
}

//! `incident:` on a monitor or a component: open incidents automatically when it goes down.
//!
//! ```yaml
//! incident: auto                          # publish at once, resolve after 10m up
//! incident: draft                         # a private draft for a human to publish
//! incident: {mode: auto, resolve_after: 30m}
//! incident: {mode: auto, resolve_after: never}   # stay in `monitoring` until a human resolves
//! ```

use std::time::Duration;

use belfry_core::incident::auto::AutoIncident;

use super::check::Ctx;
use super::node::{Node, Sp};

const MODES: &[&str] = &["auto", "draft"];

/// `Some(None)` for `incident: off`/`false`; `None` when the value is invalid (error recorded).
pub(super) fn auto_incident(ctx: &mut Ctx<'_>, node: &Sp, path: &str) -> Option<Option<AutoIncident>> {
    let mut policy = AutoIncident::default();
    match &node.value {
        Node::Bool(false) => return Some(None),
        Node::Str(s) if s == "off" => return Some(None),
        Node::Str(_) => {
            policy.publish = ctx.choice(node, path, "incident mode", MODES)? == "auto";
            return Some(Some(policy));
        }
        Node::Map(_) => {}
        other => {
            ctx.error(
                node,
                path,
                format!("expected auto, draft, off or a mapping, found {}", other.describe()),
            );
            return None;
        }
    }
    let before = ctx.errors.len();
    let f = ctx.map(node, path, &["mode", "resolve_after"])?;
    if let Some(v) = f.value("mode") {
        policy.publish = ctx.choice(v, &f.path_of("mode"), "incident mode", MODES) == Some("auto");
    }
    if let Some(v) = f.value("resolve_after") {
        policy.resolve_after = match &v.value {
            Node::Str(s) if s == "never" => None,
            _ => ctx.duration(v, &f.path_of("resolve_after"), Duration::from_secs(1)),
        };
    }
    (ctx.errors.len() == before).then_some(Some(policy))
}

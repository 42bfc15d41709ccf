//! `regions: [eu, us, ap]` and `quorum: 2` of a monitor: which remote probes check it (`local`
//! is the server itself) and how many regions must agree that it is down.

use belfry_core::check::CheckKind;
use belfry_core::region::{MAX_REGIONS, RegionSet, check_region, default_quorum};

use super::check::{Ctx, Fields};

/// `Some(None)`: no `regions` (the server checks the monitor itself); `None`: an error was
/// reported.
pub(super) fn regions(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    kind: Option<CheckKind>,
) -> Option<Option<RegionSet>> {
    let Some(node) = f.value("regions") else {
        if let Some(q) = f.value("quorum") {
            ctx.error(q, &f.path_of("quorum"), "`quorum` needs `regions`: the regions that must agree");
            return None;
        }
        return Some(None);
    };
    let path = f.path_of("regions");
    let items = ctx.seq(node, &path)?;
    let before = ctx.errors.len();
    if kind == Some(CheckKind::Heartbeat) {
        ctx.error(
            node,
            &path,
            "a heartbeat monitor is pushed to the server; it cannot be checked from regions",
        );
    }
    if items.is_empty() {
        ctx.error(node, &path, "list at least one region (`local` is the server itself)");
    }
    if items.len() > MAX_REGIONS {
        let message = format!("{} regions are too many: a monitor has at most {MAX_REGIONS}", items.len());
        ctx.error(node, &path, message);
    }
    let mut names: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(raw) = ctx.string(item, &item_path) else { continue };
        if let Err(message) = check_region(&raw) {
            ctx.error(item, &item_path, format!("invalid region: {message}"));
        } else if names.contains(&raw) {
            ctx.error(item, &item_path, format!("region `{raw}` is listed twice"));
        } else {
            names.push(raw);
        }
    }
    let quorum = match f.value("quorum") {
        None => default_quorum(names.len()),
        Some(q) => {
            let q_path = f.path_of("quorum");
            let n = ctx.int(q, &q_path, 1..=MAX_REGIONS as u64)? as usize;
            if n > names.len() && ctx.errors.len() == before {
                let listed = names.len();
                ctx.error(
                    q,
                    &q_path,
                    format!("quorum {n} is more than the {listed} regions listed in `regions`"),
                );
            }
            n
        }
    };
    (ctx.errors.len() == before).then_some(Some(RegionSet { names, quorum }))
}

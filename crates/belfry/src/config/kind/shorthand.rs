//! The `http` shorthand keys, expanded to conditions so simple monitors need no condition
//! syntax: `expect_status: 200` → `[STATUS] == 200`, `expect_status: [200, 204]` →
//! `[STATUS] == any(200, 204)`, `expect_body_contains: ok` → `[BODY] == pat(*ok*)`,
//! `expect_body_not_contains: error` → `[BODY] != pat(*error*)`.

use belfry_core::Condition;

use super::super::check::{Ctx, Fields};
use super::super::node::Node;

/// The shorthand conditions of an http monitor, and whether `expect_status` was given (then the
/// default `[STATUS] < 400` does not apply).
pub(in crate::config) fn conditions(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> (Vec<Condition>, bool) {
    let mut sources = Vec::new();
    let mut has_status = false;
    if let Some(v) = f.value("expect_status") {
        let path = f.path_of("expect_status");
        let codes: Vec<u64> = match &v.value {
            Node::Seq(items) if items.is_empty() => {
                ctx.error(v, &path, "must list at least one status code");
                Vec::new()
            }
            Node::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| ctx.int(item, &format!("{path}[{i}]"), 100..=599))
                .collect(),
            _ => ctx.int(v, &path, 100..=599).into_iter().collect(),
        };
        has_status = true;
        match codes.as_slice() {
            [] => {}
            [one] => sources.push(format!("[STATUS] == {one}")),
            many => {
                let list: Vec<String> = many.iter().map(u64::to_string).collect();
                sources.push(format!("[STATUS] == any({})", list.join(", ")));
            }
        }
    }
    for (key, op) in [("expect_body_contains", "=="), ("expect_body_not_contains", "!=")] {
        if let Some(v) = f.value(key)
            && let Some(text) = ctx.text(v, &f.path_of(key))
        {
            sources.push(format!("[BODY] {op} pat(*{}*)", escape(&text)));
        }
    }
    let mut out = Vec::new();
    for source in sources {
        match Condition::parse(&source) {
            Ok(c) => out.push(c),
            Err(e) => {
                let message =
                    format!("internal error: shorthand condition {source:?} rejected: {}", e.message);
                ctx.error(f.node, &f.path, message);
            }
        }
    }
    (out, has_status)
}

/// `text` as a literal inside `pat(...)`: the wildcard characters are escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

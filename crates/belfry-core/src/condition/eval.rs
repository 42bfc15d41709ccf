//! Evaluating a parsed condition against what a check saw, worded like Gatus:
//! `[STATUS] (503) == 200`, `[BODY].data.name (INVALID) == john`.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};

use serde_json::Value;

use super::ast::{Expr, Func, Op, Operand, Placeholder, Segment, Side, Term};
use super::number::{self, Num};
use crate::check::Observation;

/// Characters of a value shown in `resolved` at most (a whole body would bloat every result).
const MAX_SHOWN_CHARS: usize = 200;
/// Gatus cuts the value compared with `pat(...)` at 25 characters.
const MAX_SHOWN_AGAINST_PATTERN: usize = 25;
/// Comparisons at most in one evaluation once `[*]` expands (nested wildcards multiply).
const MAX_COMPARISONS: usize = 10_000;
/// Failing elements of a `[*]` condition named in `resolved` at most.
const MAX_FAILURES_SHOWN: usize = 10;

pub(super) struct Verdict {
    pub ok: bool,
    pub resolved: String,
}

pub(super) fn evaluate(expr: &Expr, obs: &Observation) -> Verdict {
    let ctx = Ctx { obs, json: OnceCell::new(), budget: Cell::new(MAX_COMPARISONS) };
    ctx.expr(expr)
}

/// What one side resolved to; `Invalid` when a `[BODY]` path does not lead to a value.
enum Resolved {
    Value(String),
    Invalid,
}

struct Ctx<'a> {
    obs: &'a Observation,
    /// The body parsed as JSON, once, on first use; `None` when it is not JSON.
    json: OnceCell<Option<Value>>,
    budget: Cell<usize>,
}

impl Ctx<'_> {
    fn body(&self) -> &str {
        self.obs.body.as_deref().unwrap_or("").trim()
    }

    fn json(&self) -> Option<&Value> {
        // serde_json limits nesting (128 levels), so hostile bodies cannot overflow the stack.
        self.json.get_or_init(|| serde_json::from_str(self.obs.body.as_deref()?).ok()).as_ref()
    }

    /// The value at `path`; `None` when the body is not JSON, the path leads nowhere or to `null`.
    fn lookup(&self, path: &[Segment]) -> Option<&Value> {
        let mut current = self.json()?;
        for segment in path {
            current = match (segment, current) {
                (Segment::Key(key), Value::Object(map)) => map.get(key)?,
                (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        (!current.is_null()).then_some(current)
    }

    fn expr(&self, expr: &Expr) -> Verdict {
        match expr.first_wildcard() {
            Some((side, prefix)) => self.wildcard(expr, side, prefix),
            None => self.compare(expr),
        }
    }

    /// As Gatus: the condition must hold for every element; no elements fails it; only the
    /// failing elements are reported.
    fn wildcard(&self, expr: &Expr, side: Side, prefix: &[Segment]) -> Verdict {
        let count = match self.lookup(prefix) {
            Some(Value::Array(items)) if !items.is_empty() => items.len(),
            _ => return Verdict { ok: false, resolved: format!("{} (no elements matched)", expr.text()) },
        };
        let (mut failures, mut failed) = (Vec::new(), 0usize);
        for i in 0..count {
            if self.budget.get() == 0 {
                return Verdict {
                    ok: false,
                    resolved: format!("{} (too many elements to check)", expr.text()),
                };
            }
            let verdict = self.expr(&expr.with_index(side, i));
            if !verdict.ok {
                failed += 1;
                if failures.len() < MAX_FAILURES_SHOWN {
                    failures.push(verdict.resolved);
                }
            }
        }
        if failed == 0 {
            return Verdict { ok: true, resolved: format!("{} ({count} elements)", expr.text()) };
        }
        let mut resolved = failures.join("; ");
        if failed > failures.len() {
            resolved.push_str(&format!("; and {} more", failed - failures.len()));
        }
        Verdict { ok: false, resolved }
    }

    fn compare(&self, expr: &Expr) -> Verdict {
        self.budget.set(self.budget.get().saturating_sub(1));
        let left = self.resolve(&expr.left);
        let right = self.resolve(&expr.right);
        if expr.op.is_ordering() { ordering(expr, &left, &right) } else { equality(expr, &left, &right) }
    }

    fn resolve(&self, operand: &Operand) -> Resolved {
        match &operand.term {
            Term::Placeholder { func, placeholder } => self.placeholder(*func, placeholder),
            Term::Pattern(_) | Term::Any(_) | Term::Literal => Resolved::Value(operand.text.clone()),
        }
    }

    fn placeholder(&self, func: Option<Func>, placeholder: &Placeholder) -> Resolved {
        let obs = self.obs;
        let text = match placeholder {
            Placeholder::Body(path) if !path.is_empty() => {
                let found = self.lookup(path);
                return match (func, found) {
                    (Some(Func::Has), found) => Resolved::Value(found.is_some().to_string()),
                    (_, None) => Resolved::Invalid,
                    (Some(Func::Len), Some(value)) => Resolved::Value(json_len(value).to_string()),
                    (None, Some(value)) => Resolved::Value(json_text(value)),
                };
            }
            Placeholder::Body(_) if func == Some(Func::Len) => {
                // A JSON array counts its elements; anything else counts characters.
                let len = match self.json() {
                    Some(Value::Array(items)) => items.len(),
                    _ => self.body().chars().count(),
                };
                return Resolved::Value(len.to_string());
            }
            Placeholder::Body(_) => self.body().to_owned(),
            Placeholder::Status => obs.status.unwrap_or(0).to_string(),
            Placeholder::ResponseTime => obs.duration_ms.to_string(),
            Placeholder::Connected => obs.connected.to_string(),
            Placeholder::Ip => obs.ip.clone().unwrap_or_default(),
            Placeholder::CertificateExpiration => {
                let millis = obs.certificate_expiration.map_or(0, |d| d.as_millis());
                i64::try_from(millis).unwrap_or(i64::MAX).to_string()
            }
            Placeholder::DnsRcode => obs.dns_rcode.clone().unwrap_or_default(),
        };
        Resolved::Value(match func {
            None => text,
            Some(Func::Has) => (!text.is_empty()).to_string(),
            Some(Func::Len) => text.chars().count().to_string(),
        })
    }
}

/// A JSON value as text: strings raw (no quotes), numbers and booleans as in JSON, arrays and
/// objects as minified JSON.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `len()` of a JSON value, as Gatus: elements of an array, characters of anything else as text
/// (an object counts the characters of its minified JSON).
fn json_len(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len(),
        Value::String(s) => s.chars().count(),
        other => other.to_string().chars().count(),
    }
}

fn equality(expr: &Expr, left: &Resolved, right: &Resolved) -> Verdict {
    let ok = match (left, right) {
        (Resolved::Value(l), Resolved::Value(r)) => {
            is_equal(&expr.left.term, l, &expr.right.term, r) == (expr.op == Op::Eq)
        }
        // A path that leads nowhere fails the condition, whatever the operator.
        _ => false,
    };
    let resolved = format!(
        "{} {} {}",
        shown(&expr.left, left, limit_against(&expr.right.term)),
        expr.op.as_str(),
        shown(&expr.right, right, limit_against(&expr.left.term)),
    );
    Verdict { ok, resolved }
}

/// Gatus's equality: `pat()` matches, `any()` lists options, integers compare by value
/// (`0x1 == 1`), anything else compares as text.
fn is_equal(left_term: &Term, left: &str, right_term: &Term, right: &str) -> bool {
    match (left_term, right_term) {
        (Term::Pattern(glob), other) | (other, Term::Pattern(glob)) if !matches!(other, Term::Pattern(_)) => {
            let subject = if matches!(left_term, Term::Pattern(_)) { right } else { left };
            return glob.matches(subject);
        }
        (Term::Any(options), other) | (other, Term::Any(options)) if !matches!(other, Term::Any(_)) => {
            let subject = if matches!(left_term, Term::Any(_)) { right } else { left };
            return options.iter().any(|option| option == subject);
        }
        _ => {}
    }
    match (number::parse_int(left), number::parse_int(right)) {
        (Some(a), Some(b)) => a == b,
        _ => left == right,
    }
}

fn limit_against(other: &Term) -> usize {
    if matches!(other, Term::Pattern(_)) { MAX_SHOWN_AGAINST_PATTERN } else { MAX_SHOWN_CHARS }
}

/// `text (value)` when the value differs from the text, `text (INVALID)` when there is none.
fn shown(operand: &Operand, resolved: &Resolved, limit: usize) -> String {
    match resolved {
        Resolved::Invalid => format!("{} (INVALID)", operand.text),
        Resolved::Value(value) if *value == operand.text => operand.text.clone(),
        Resolved::Value(value) => format!("{} ({})", operand.text, truncate(value, limit)),
    }
}

fn truncate(s: &str, max_chars: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => Cow::Owned(format!("{}...(truncated)", &s[..cut])),
        None => Cow::Borrowed(s),
    }
}

fn ordering(expr: &Expr, left: &Resolved, right: &Resolved) -> Verdict {
    let (l, r) = (as_number(left), as_number(right));
    let ok = match (l, r) {
        (Some(l), Some(r)) => l.cmp(r).is_some_and(|o| match expr.op {
            Op::Lt => o.is_lt(),
            Op::Le => o.is_le(),
            Op::Gt => o.is_gt(),
            Op::Ge => o.is_ge(),
            Op::Eq | Op::Ne => false,
        }),
        // Not a number: the condition fails (Gatus would read it as 0).
        _ => false,
    };
    let resolved = format!(
        "{} {} {}",
        shown_number(&expr.left, left, l),
        expr.op.as_str(),
        shown_number(&expr.right, right, r)
    );
    Verdict { ok, resolved }
}

fn as_number(resolved: &Resolved) -> Option<Num> {
    match resolved {
        Resolved::Value(value) => Num::parse(value),
        Resolved::Invalid => None,
    }
}

/// As Gatus shows numbers: durations for `[CERTIFICATE_EXPIRATION]` and duration literals
/// (`48h`), integers otherwise (`0x10 (16)`); a side that is not a number shows `(INVALID)`.
fn shown_number(operand: &Operand, resolved: &Resolved, num: Option<Num>) -> String {
    let (Some(num), Resolved::Value(raw)) = (num, resolved) else {
        return format!("{} (INVALID)", operand.text);
    };
    let is_certificate = matches!(
        operand.term,
        Term::Placeholder { func: None, placeholder: Placeholder::CertificateExpiration }
    );
    let value = if is_certificate || number::is_duration_literal(&operand.text) {
        number::format_duration(num.as_millis())
    } else {
        match num {
            Num::Int(i) => i.to_string(),
            Num::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => (f as i64).to_string(),
            Num::Float(_) => raw.clone(),
        }
    };
    if value == operand.text {
        operand.text.clone()
    } else {
        format!("{} ({})", operand.text, truncate(&value, MAX_SHOWN_CHARS))
    }
}

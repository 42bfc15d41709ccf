//! Typed reads from the positioned tree. Each read that fails records a positioned error and
//! returns `None`, so validation carries on and every problem in the file is reported.

use std::ops::RangeInclusive;
use std::time::Duration;

use serde_saphyr::{Location, Spanned};

use super::duration::parse_duration;
use super::error::{ConfigError, did_you_mean};
use super::node::{Node, Sp, plain_scalar_text};

/// Looks up an environment variable for `${NAME}` references in secret values.
pub(super) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Collects errors for one file.
pub(super) struct Ctx<'a> {
    pub file: &'a str,
    pub src: &'a str,
    pub errors: Vec<ConfigError>,
    /// The process environment, or a fixed one in tests.
    pub env: EnvLookup<'a>,
    /// Channel ids made outside the file (API, console) that escalations may name.
    pub outside_channels: Vec<String>,
}

/// A mapping's entries, with the key path it sits at.
pub(super) struct Fields<'n> {
    pub path: String,
    pub node: &'n Sp,
    entries: &'n [(Spanned<String>, Sp)],
}

/// `parent.key`, or `key` at the top.
pub(super) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

impl<'n> Fields<'n> {
    /// The value of `key` (the first, if repeated; repeats are reported by [`Ctx::map`]).
    pub fn get(&self, key: &str) -> Option<&'n Sp> {
        self.entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    /// The value of `key` unless it is absent or `null` (`key:` with nothing after it).
    pub fn value(&self, key: &str) -> Option<&'n Sp> {
        self.get(key).filter(|v| !matches!(v.value, Node::Null))
    }

    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &'n Spanned<String>> + 'n {
        self.entries.iter().map(|(k, _)| k)
    }
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str, src: &'a str, env: EnvLookup<'a>) -> Self {
        Self { file, src, errors: Vec::new(), env, outside_channels: Vec::new() }
    }

    pub fn error_at(&mut self, at: Location, path: &str, message: impl Into<String>) {
        self.error_line_col(at.line(), at.column(), path, message);
    }

    pub fn error_line_col(&mut self, line: u64, column: u64, path: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.to_owned(),
            line: line.max(1),
            column: column.max(1),
            path: path.to_owned(),
            message: message.into(),
        });
    }

    pub fn error(&mut self, node: &Sp, path: &str, message: impl Into<String>) {
        self.error_at(node.referenced, path, message);
    }

    fn expected(&mut self, node: &Sp, path: &str, what: &str) {
        let found = node.value.describe();
        self.error(node, path, format!("expected {what}, found {found}"));
    }

    /// Reads a mapping and reports repeated keys and keys not in `known`.
    pub fn map<'n>(&mut self, node: &'n Sp, path: &str, known: &[&str]) -> Option<Fields<'n>> {
        let fields = self.map_open(node, path)?;
        for key in fields.keys() {
            if !known.contains(&key.value.as_str()) {
                self.unknown_key(key, &fields.path, known);
            }
        }
        Some(fields)
    }

    /// Reads a mapping and reports repeated keys; the caller checks which keys are allowed.
    pub fn map_open<'n>(&mut self, node: &'n Sp, path: &str) -> Option<Fields<'n>> {
        let Node::Map(entries) = &node.value else {
            self.expected(node, path, "a mapping");
            return None;
        };
        for (i, (key, _)) in entries.iter().enumerate() {
            if let Some((first, _)) = entries[..i].iter().find(|(k, _)| k.value == key.value) {
                let line = first.referenced.line();
                self.error_at(
                    key.referenced,
                    &join(path, &key.value),
                    format!("repeated key (first set on line {line})"),
                );
            }
        }
        Some(Fields { path: path.to_owned(), node, entries })
    }

    pub fn unknown_key(&mut self, key: &Spanned<String>, parent: &str, known: &[&str]) {
        let message = match did_you_mean(&key.value, known) {
            Some(near) => format!("unknown key `{}`; did you mean `{near}`?", key.value),
            None => format!("unknown key `{}`", key.value),
        };
        self.error_at(key.referenced, &join(parent, &key.value), message);
    }

    /// Reports `key` as missing from the mapping `fields`, at the mapping's position.
    pub fn missing(&mut self, fields: &Fields<'_>, key: &str) {
        let at = fields.node.referenced;
        let path = fields.path.clone();
        self.error_at(at, &path, format!("missing required key `{key}`"));
    }

    pub fn seq<'n>(&mut self, node: &'n Sp, path: &str) -> Option<&'n [Sp]> {
        match &node.value {
            Node::Seq(items) => Some(items),
            _ => {
                self.expected(node, path, "a list");
                None
            }
        }
    }

    /// A scalar read as text: strings as they are, and numbers or booleans as written.
    pub fn string(&mut self, node: &Sp, path: &str) -> Option<String> {
        match &node.value {
            Node::Str(s) => Some(s.clone()),
            Node::Bool(_) | Node::Int(_) | Node::UInt(_) | Node::Float(_) => Some(
                plain_scalar_text(self.src, node.defined)
                    .map_or_else(|| scalar_fallback(&node.value), str::to_owned),
            ),
            _ => {
                self.expected(node, path, "a string");
                None
            }
        }
    }

    /// A string with at least one non-blank character.
    pub fn text(&mut self, node: &Sp, path: &str) -> Option<String> {
        let s = self.string(node, path)?;
        if s.trim().is_empty() {
            self.error(node, path, "must not be empty");
            return None;
        }
        Some(s)
    }

    pub fn bool(&mut self, node: &Sp, path: &str) -> Option<bool> {
        match node.value {
            Node::Bool(b) => Some(b),
            _ => {
                self.expected(node, path, "true or false");
                None
            }
        }
    }

    /// An integer within `range`.
    pub fn int(&mut self, node: &Sp, path: &str, range: RangeInclusive<u64>) -> Option<u64> {
        let value = match node.value {
            Node::UInt(n) => Some(n),
            Node::Int(n) => u64::try_from(n).ok(),
            _ => {
                self.expected(node, path, "an integer");
                return None;
            }
        };
        match value.filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                let (lo, hi) = (range.start(), range.end());
                let written = self.string(node, path).unwrap_or_default();
                self.error(node, path, format!("{written} is out of range: must be between {lo} and {hi}"));
                None
            }
        }
    }

    /// A duration (`30s`, `5m`, `1h30m`) of at least `min`.
    pub fn duration(&mut self, node: &Sp, path: &str, min: Duration) -> Option<Duration> {
        let raw = match &node.value {
            Node::Str(s) => s.clone(),
            Node::UInt(n) => {
                self.error(node, path, format!("duration {n} needs a unit, like {n}s"));
                return None;
            }
            _ => {
                self.expected(node, path, "a duration like 30s, 5m or 1h");
                return None;
            }
        };
        match parse_duration(&raw) {
            Ok(d) if d < min => {
                let least = if min == Duration::from_millis(1) {
                    "must be more than 0s".to_owned()
                } else {
                    format!("must be at least {}", super::duration::format_duration(min))
                };
                self.error(node, path, least);
                None
            }
            Ok(d) => Some(d),
            Err(message) => {
                self.error(node, path, message);
                None
            }
        }
    }
}

fn scalar_fallback(node: &Node) -> String {
    match node {
        Node::Bool(b) => b.to_string(),
        Node::Int(n) => n.to_string(),
        Node::UInt(n) => n.to_string(),
        Node::Float(f) => f.to_string(),
        _ => String::new(),
    }
}

impl Ctx<'_> {
    /// An absolute `http://` or `https://` URL with a host.
    pub fn http_url(&mut self, node: &Sp, path: &str) -> Option<String> {
        let raw = self.text(node, path)?;
        let ok = raw.parse::<http::Uri>().ok().is_some_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some_and(|h| !h.is_empty())
        });
        if !ok {
            self.error(node, path, format!("{raw:?} is not an absolute http:// or https:// URL"));
            return None;
        }
        Some(raw)
    }

    /// One of `allowed`, with a suggestion when the value is a near miss.
    pub fn choice<'k>(&mut self, node: &Sp, path: &str, what: &str, allowed: &[&'k str]) -> Option<&'k str> {
        let raw = self.string(node, path)?;
        if let Some(found) = allowed.iter().find(|a| **a == raw) {
            return Some(found);
        }
        let list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
        let message = match did_you_mean(&raw, allowed) {
            Some(near) => format!("unknown {what} `{raw}`; did you mean `{near}`?"),
            None => format!("unknown {what} `{raw}`; expected one of {list}"),
        };
        self.error(node, path, message);
        None
    }
}

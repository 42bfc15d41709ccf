//! A positioned YAML tree: serde-saphyr parses the text, and every node (and every mapping key)
//! keeps the line and column it came from, so validation can point at the offending spot and
//! report every problem instead of stopping at the first one.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

/// A node with its position (`referenced`: where it is used; `defined`: where an alias points).
pub(super) type Sp = Spanned<Node>;

#[derive(Debug, Clone)]
pub(super) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Sp>),
    /// Entries in file order; repeated keys are kept so the validator can report them.
    Map(Vec<(Spanned<String>, Sp)>),
}

impl Node {
    /// How the node is described in "expected X, found Y" messages.
    pub(super) fn describe(&self) -> &'static str {
        match self {
            Self::Null => "nothing",
            Self::Bool(_) => "a boolean",
            Self::Int(_) | Self::UInt(_) => "an integer",
            Self::Float(_) => "a number",
            Self::Str(_) => "a string",
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Sp>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Sp>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A YAML error serde-saphyr stopped at: 1-based line and column, and its message.
pub(super) struct SyntaxError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Parses one YAML document into a positioned tree. YAML 1.2 booleans only (`yes` stays a
/// string); repeated keys are passed through so they are reported with the other errors.
pub(super) fn parse(text: &str) -> Result<Sp, SyntaxError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
    };
    serde_saphyr::from_str_with_options::<Sp>(text, options).map_err(|err| {
        let (line, column) = err.location().map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        let render = serde_saphyr::render_options! {
            formatter: &serde_saphyr::UserMessageFormatter,
            snippets: serde_saphyr::SnippetMode::Off,
        };
        let rendered = err.render_with_options(render);
        // The renderer appends the position, which our own prefix already carries.
        let suffix = format!(" at line {line}, column {column}");
        let message = rendered.strip_suffix(&suffix).unwrap_or(&rendered).to_owned();
        SyntaxError { line, column, message }
    })
}

/// The text of a plain scalar that YAML typed as a number or boolean, taken from the source so
/// that `name: 007` stays `007`. Falls back to `None` when the source does not hold it there.
pub(super) fn plain_scalar_text(src: &str, at: Location) -> Option<&str> {
    let start = usize::try_from(at.span().byte_offset()?).ok()?;
    let rest = src.get(start..)?;
    let end = rest.find(|c: char| c.is_whitespace() || ",]}#".contains(c)).unwrap_or(rest.len());
    let text = &rest[..end];
    (!text.is_empty() && !text.starts_with(['"', '\'', '!', '&', '*'])).then_some(text)
}

/// Which quote opens the scalar at `at`, if any.
pub(super) fn quote_at(src: &str, at: Location) -> Option<char> {
    let start = usize::try_from(at.span().byte_offset()?).ok()?;
    src.get(start..)?.chars().next().filter(|c| *c == '"' || *c == '\'')
}

/// Character offset, from the scalar's first source character (its opening quote if quoted),
/// of the `index`-th (0-based) character of the scalar's value. Escapes (`\"`, `''`, `\u00e9`)
/// take more source characters than value characters. Returns `None` when the value does not
/// sit on the scalar's first line (a folded or multi-line scalar).
pub(super) fn source_offset_of(src_from_scalar: &str, quote: Option<char>, index: usize) -> Option<usize> {
    let line = src_from_scalar.lines().next().unwrap_or("");
    let chars: Vec<char> = line.chars().collect();
    let mut raw = usize::from(quote.is_some());
    let mut decoded = 0;
    while decoded < index {
        let c = *chars.get(raw)?;
        let width = match quote {
            Some('\'') if c == '\'' => match chars.get(raw + 1) {
                Some('\'') => 2,
                _ => return None,
            },
            Some('"') if c == '"' => return None,
            Some('"') if c == '\\' => match chars.get(raw + 1)? {
                'x' => 4,
                'u' => 6,
                'U' => 10,
                _ => 2,
            },
            _ => 1,
        };
        raw += width;
        decoded += 1;
    }
    (raw <= chars.len()).then_some(raw)
}

//! The parsed form of a condition: `<operand> <op> <operand>`.

use super::glob::Glob;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// `<`, `<=`, `>`, `>=`: both sides are read as numbers.
    pub(super) fn is_ordering(self) -> bool {
        !matches!(self, Self::Eq | Self::Ne)
    }
}

/// A function wrapping a placeholder: `len([BODY].items)`, `has([BODY].errors)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    Len,
    Has,
}

/// One step of a `[BODY]` JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// `.name`
    Key(String),
    /// `[3]`
    Index(usize),
    /// `[*]`: every element of the array (the condition must hold for each).
    Wildcard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Placeholder {
    Status,
    ResponseTime,
    /// `[BODY]` followed by a JSON path (empty: the whole body as text).
    Body(Vec<Segment>),
    Connected,
    Ip,
    CertificateExpiration,
    DnsRcode,
}

/// Placeholders as Gatus spells them (matched case-insensitively, as Gatus does).
pub(super) const PLACEHOLDER_NAMES: &[&str] =
    &["STATUS", "RESPONSE_TIME", "BODY", "CONNECTED", "IP", "CERTIFICATE_EXPIRATION", "DNS_RCODE"];

/// Gatus placeholders that Belfry's checks do not observe: rejected with a clear message.
pub(super) const UNSUPPORTED_PLACEHOLDERS: &[&str] = &["DOMAIN_EXPIRATION", "HEADER", "CONTEXT"];

impl Placeholder {
    /// `name` is upper-case, without brackets.
    pub(super) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "STATUS" => Self::Status,
            "RESPONSE_TIME" => Self::ResponseTime,
            "BODY" => Self::Body(Vec::new()),
            "CONNECTED" => Self::Connected,
            "IP" => Self::Ip,
            "CERTIFICATE_EXPIRATION" => Self::CertificateExpiration,
            "DNS_RCODE" => Self::DnsRcode,
            _ => return None,
        })
    }
}

/// What an operand is, once parsed.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Term {
    Placeholder {
        func: Option<Func>,
        placeholder: Placeholder,
    },
    /// `pat(...)`: equal when the other side matches the wildcard pattern.
    Pattern(Glob),
    /// `any(a, b, c)`: equal when the other side is one of the options (trimmed).
    Any(Vec<String>),
    /// Anything else, compared as written.
    Literal,
}

/// One side of a condition: its text as written (trimmed) and its meaning.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Operand {
    pub text: String,
    pub term: Term,
}

impl Operand {
    fn body_path(&self) -> Option<&[Segment]> {
        match &self.term {
            Term::Placeholder { placeholder: Placeholder::Body(path), .. } => Some(path),
            _ => None,
        }
    }

    /// The path before this operand's first `[*]`, if it has one.
    fn wildcard_prefix(&self) -> Option<&[Segment]> {
        let path = self.body_path()?;
        let at = path.iter().position(|s| *s == Segment::Wildcard)?;
        Some(&path[..at])
    }

    /// This operand with its first `[*]` replaced by `[index]`, in the path and in the text.
    fn with_index(&self, index: usize) -> Self {
        let mut out = self.clone();
        if let Term::Placeholder { placeholder: Placeholder::Body(path), .. } = &mut out.term
            && let Some(seg) = path.iter_mut().find(|s| **s == Segment::Wildcard)
        {
            *seg = Segment::Index(index);
            out.text = self.text.replacen("[*]", &format!("[{index}]"), 1);
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Expr {
    pub left: Operand,
    pub op: Op,
    pub right: Operand,
}

impl Expr {
    /// The first `[*]` of the condition (left side first) and the array path before it.
    pub(super) fn first_wildcard(&self) -> Option<(Side, &[Segment])> {
        if let Some(prefix) = self.left.wildcard_prefix() {
            return Some((Side::Left, prefix));
        }
        self.right.wildcard_prefix().map(|prefix| (Side::Right, prefix))
    }

    pub(super) fn with_index(&self, side: Side, index: usize) -> Self {
        let mut out = self.clone();
        match side {
            Side::Left => out.left = self.left.with_index(index),
            Side::Right => out.right = self.right.with_index(index),
        }
        out
    }

    /// The condition as `left op right`, with single spaces.
    pub(super) fn text(&self) -> String {
        format!("{} {} {}", self.left.text, self.op.as_str(), self.right.text)
    }
}

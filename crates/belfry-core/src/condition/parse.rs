//! A hand-written parser for `<left> <op> <right>`.
//!
//! The left side is a placeholder (`[BODY].a[0]`), a function (`len(...)`, `has(...)`, and, as
//! Gatus allows, `pat(...)`/`any(...)`) or a literal up to the operator. The right side is the
//! rest of the text, trimmed: a placeholder or function when it starts like one, else a literal
//! taken as written. Positions are indexes into the characters of the source.

use super::ConditionError;
use super::ast::{
    Expr, Func, Op, Operand, PLACEHOLDER_NAMES, Placeholder, Segment, Side, Term, UNSUPPORTED_PLACEHOLDERS,
};
use super::glob::Glob;

pub(super) fn parse(source: &str) -> Result<Expr, ConditionError> {
    Parser { chars: source.chars().collect(), pos: 0 }.condition()
}

/// An error at character index `at` (shown 1-based).
fn err(at: usize, message: impl Into<String>) -> ConditionError {
    ConditionError { column: at + 1, message: message.into() }
}

/// How the text at the current position starts.
enum Start {
    /// `[NAME]`
    Placeholder,
    /// `[NAME` not followed by `]`
    UnclosedBracket,
    /// `name(`
    Function,
    Literal,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_operator_char(c: char) -> bool {
    matches!(c, '=' | '<' | '>' | '!')
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn peek(&self) -> Option<char> {
        self.at(self.pos)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars.get(from..to).unwrap_or_default().iter().collect()
    }

    fn condition(mut self) -> Result<Expr, ConditionError> {
        self.skip_ws();
        if self.peek().is_none() {
            return Err(err(self.pos, "empty condition; expected e.g. `[STATUS] == 200`"));
        }
        let left_at = self.pos;
        let left = self.left_operand()?;
        self.skip_ws();
        let op = self.operator()?;
        self.skip_ws();
        let right_at = self.pos;
        let right = self.right_operand(op)?;
        if op.is_ordering() {
            for (operand, at) in [(&left, left_at), (&right, right_at)] {
                let name = match operand.term {
                    Term::Pattern(_) => "pat",
                    Term::Any(_) => "any",
                    _ => continue,
                };
                return Err(err(at, format!("{name}() only works with == and !=, not {}", op.as_str())));
            }
        }
        Ok(Expr { left, op, right })
    }

    fn classify(&self) -> Start {
        match self.peek() {
            Some('[') => {
                let name_len = self.chars[self.pos + 1..].iter().take_while(|&&c| is_name_char(c)).count();
                match self.at(self.pos + 1 + name_len) {
                    _ if name_len == 0 => Start::Literal,
                    Some(']') => Start::Placeholder,
                    None => Start::UnclosedBracket,
                    Some(c) if c.is_whitespace() || is_operator_char(c) || matches!(c, '.' | '[' | ')') => {
                        Start::UnclosedBracket
                    }
                    Some(_) => Start::Literal,
                }
            }
            Some(c) if is_name_char(c) => {
                let len = self.chars[self.pos..]
                    .iter()
                    .take_while(|&&c| is_name_char(c) || c.is_ascii_digit())
                    .count();
                if self.at(self.pos + len) == Some('(') { Start::Function } else { Start::Literal }
            }
            _ => Start::Literal,
        }
    }

    fn left_operand(&mut self) -> Result<Operand, ConditionError> {
        let start = self.pos;
        let term = match self.classify() {
            Start::Placeholder => Term::Placeholder { func: None, placeholder: self.placeholder()? },
            Start::UnclosedBracket => return Err(err(start, "unclosed '['")),
            Start::Function => self.function(Side::Left)?,
            Start::Literal => {
                while let Some(c) = self.peek() {
                    if matches!(c, '=' | '<' | '>') || (c == '!' && self.at(self.pos + 1) == Some('=')) {
                        break;
                    }
                    self.pos += 1;
                }
                if self.text(start, self.pos).trim().is_empty() {
                    return Err(err(start, "missing left-hand side; expected e.g. `[STATUS] == 200`"));
                }
                Term::Literal
            }
        };
        Ok(Operand { text: self.text(start, self.pos).trim_end().to_owned(), term })
    }

    fn operator(&mut self) -> Result<Op, ConditionError> {
        let at = self.pos;
        let (op, len) = match (self.peek(), self.at(at + 1)) {
            (Some('='), Some('=')) => (Op::Eq, 2),
            (Some('!'), Some('=')) => (Op::Ne, 2),
            (Some('<'), Some('=')) => (Op::Le, 2),
            (Some('>'), Some('=')) => (Op::Ge, 2),
            (Some('<'), _) => (Op::Lt, 1),
            (Some('>'), _) => (Op::Gt, 1),
            (Some('='), Some(c @ ('<' | '>'))) => {
                return Err(err(at, format!("'={c}' is not an operator; use '{c}='")));
            }
            (Some('='), _) => return Err(err(at, "'=' is not an operator; use '=='")),
            (Some(c @ (']' | ')')), _) => return Err(err(at, format!("unmatched '{c}'"))),
            (None, _) => return Err(err(at, "missing operator: expected ==, !=, <, <=, > or >=")),
            (Some(c), _) => {
                return Err(err(at, format!("expected an operator (==, !=, <, <=, >, >=), found '{c}'")));
            }
        };
        self.pos += len;
        Ok(op)
    }

    fn right_operand(&mut self, op: Op) -> Result<Operand, ConditionError> {
        let start = self.pos;
        let end = self.chars.len() - self.chars.iter().rev().take_while(|c| c.is_whitespace()).count();
        if start >= end {
            return Err(err(self.chars.len(), format!("missing value after '{}'", op.as_str())));
        }
        let first = self.chars[start];
        let second = self.at(start + 1);
        let stray_operator = first == '='
            || (first == '!' && second == Some('='))
            || (matches!(first, '<' | '>') && second.is_none_or(|c| c.is_whitespace() || c == '='));
        if stray_operator {
            return Err(err(start, format!("unexpected '{first}' after '{}'", op.as_str())));
        }
        let term = match self.classify() {
            Start::Placeholder => Term::Placeholder { func: None, placeholder: self.placeholder()? },
            Start::UnclosedBracket => return Err(err(start, "unclosed '['")),
            Start::Function => self.function(Side::Right)?,
            Start::Literal => {
                self.pos = end;
                Term::Literal
            }
        };
        let operand_end = self.pos;
        self.skip_ws();
        if let Some(c) = self.peek() {
            let what = self.text(start, operand_end);
            return Err(err(self.pos, format!("unexpected '{c}' after {what}")));
        }
        Ok(Operand { text: self.text(start, end), term })
    }

    /// `[NAME]` and, for `[BODY]`, its path. The caller checked that `[NAME]` is there.
    fn placeholder(&mut self) -> Result<Placeholder, ConditionError> {
        let open = self.pos;
        let name_len = self.chars[open + 1..].iter().take_while(|&&c| is_name_char(c)).count();
        let written = self.text(open + 1, open + 1 + name_len);
        self.pos = open + name_len + 2;
        let name = written.to_ascii_uppercase();
        if UNSUPPORTED_PLACEHOLDERS.contains(&name.as_str()) {
            return Err(err(open, format!("[{name}] is a Gatus placeholder that Belfry does not support")));
        }
        let Some(mut placeholder) = Placeholder::from_name(&name) else {
            let hint = match closest(&name, PLACEHOLDER_NAMES) {
                Some(known) => format!("did you mean [{known}]?"),
                None => format!("expected one of [{}]", PLACEHOLDER_NAMES.join("], [")),
            };
            return Err(err(open, format!("unknown placeholder [{written}]; {hint}")));
        };
        if let Placeholder::Body(path) = &mut placeholder {
            *path = self.body_path()?;
        } else if let Some(c @ ('.' | '[')) = self.peek() {
            return Err(err(self.pos, format!("unexpected '{c}': only [BODY] takes a path, not [{name}]")));
        }
        Ok(placeholder)
    }

    fn ends_key(&self, c: char) -> bool {
        c.is_whitespace()
            || matches!(c, '.' | '[' | ']' | '(' | ')' | '=' | '<' | '>')
            || (c == '!' && self.at(self.pos + 1) == Some('='))
    }

    fn body_path(&mut self) -> Result<Vec<Segment>, ConditionError> {
        let mut path = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    if self.peek() == Some('[') {
                        continue; // `[BODY].[0]`, which Gatus accepts
                    }
                    let start = self.pos;
                    while self.peek().is_some_and(|c| !self.ends_key(c)) {
                        self.pos += 1;
                    }
                    if start == self.pos {
                        return Err(err(start, "expected a key name after '.'"));
                    }
                    path.push(Segment::Key(self.text(start, self.pos)));
                }
                Some('[') => path.push(self.index()?),
                _ => return Ok(path),
            }
        }
    }

    /// `[3]` or `[*]`.
    fn index(&mut self) -> Result<Segment, ConditionError> {
        let open = self.pos;
        let start = open + 1;
        self.pos = start;
        while self.peek().is_some_and(|c| {
            c != ']' && !c.is_whitespace() && !matches!(c, '[' | '(' | ')' | '=' | '<' | '>')
        }) {
            self.pos += 1;
        }
        if self.peek() != Some(']') {
            return Err(err(open, "unclosed '[' in [BODY] path"));
        }
        let content = self.text(start, self.pos);
        self.pos += 1;
        if content == "*" {
            return Ok(Segment::Wildcard);
        }
        if content.is_empty() || !content.bytes().all(|b| b.is_ascii_digit()) {
            let at = if content.is_empty() { open } else { start };
            return Err(err(at, format!("bad index [{content}]: expected a number such as [0], or [*]")));
        }
        content.parse().map(Segment::Index).map_err(|_| err(start, format!("index {content} is too large")))
    }

    /// `len(...)`, `has(...)`, `pat(...)`, `any(...)`. The caller checked that `name(` is there.
    fn function(&mut self, side: Side) -> Result<Term, ConditionError> {
        let name_at = self.pos;
        let name_len = self.chars[name_at..].iter().take_while(|&&c| c != '(').count();
        let name = self.text(name_at, name_at + name_len);
        let open = name_at + name_len;
        self.pos = open + 1;
        let unclosed = || err(open, format!("unclosed '(' of {name}()"));
        match name.as_str() {
            "len" | "has" => {
                let func = if name == "len" { Func::Len } else { Func::Has };
                self.skip_ws();
                let placeholder = match self.classify() {
                    Start::Placeholder => self.placeholder()?,
                    Start::UnclosedBracket => return Err(err(self.pos, "unclosed '['")),
                    _ => {
                        let msg = format!("{name}() takes a placeholder, e.g. {name}([BODY].items)");
                        return Err(err(self.pos, msg));
                    }
                };
                self.skip_ws();
                match self.peek() {
                    Some(')') => self.pos += 1,
                    None => return Err(unclosed()),
                    Some(c) if is_operator_char(c) => return Err(unclosed()),
                    Some(c) => {
                        return Err(err(self.pos, format!("unexpected '{c}' in {name}(); expected ')'")));
                    }
                }
                Ok(Term::Placeholder { func: Some(func), placeholder })
            }
            "pat" | "any" => {
                let close = match side {
                    Side::Left => self.matching_paren(open).ok_or_else(unclosed)?,
                    // As in Gatus, the argument runs to the last ')' of the condition, so a
                    // pattern may hold unbalanced parentheses.
                    Side::Right => {
                        let last = self.chars.iter().rposition(|c| !c.is_whitespace()).unwrap_or(open);
                        if last > open && self.chars[last] == ')' {
                            last
                        } else {
                            let close = self.matching_paren(open).ok_or_else(unclosed)?;
                            let what = self.text(name_at, close + 1);
                            let extra = close
                                + 1
                                + self.chars[close + 1..].iter().take_while(|c| c.is_whitespace()).count();
                            return Err(err(extra, format!("unexpected text after {what}")));
                        }
                    }
                };
                let inner = self.text(open + 1, close);
                self.pos = close + 1;
                if name == "pat" {
                    Glob::parse(&inner)
                        .map(Term::Pattern)
                        .map_err(|(offset, msg)| err(open + 1 + offset, msg))
                } else if inner.trim().is_empty() {
                    Err(err(open, "any() needs at least one value, e.g. any(200, 201)"))
                } else {
                    Ok(Term::Any(inner.split(',').map(|s| s.trim().to_owned()).collect()))
                }
            }
            "age" => Err(err(name_at, "age() is a Gatus function that Belfry does not support")),
            _ => {
                const FUNCTIONS: &[&str] = &["len", "has", "pat", "any"];
                let hint = match closest(&name.to_ascii_lowercase(), FUNCTIONS) {
                    Some(known) => format!("did you mean {known}()?"),
                    None => "expected len(), has(), pat() or any()".to_owned(),
                };
                Err(err(name_at, format!("unknown function {name}(); {hint}")))
            }
        }
    }

    /// The `)` closing the `(` at `open`, counting nested parentheses.
    fn matching_paren(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, &c) in self.chars.iter().enumerate().skip(open) {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// The candidate nearest to `name` (edit distance with transpositions), if near enough to be a typo.
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if name.len() > 64 {
        return None; // not a typo, and the distance table would be large
    }
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|&(d, c)| d <= (c.len() / 3).max(2))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

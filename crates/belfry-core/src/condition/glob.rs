//! The wildcard patterns of `pat(...)`, with Go `filepath.Match` syntax as Gatus uses it:
//! `*` (any run of characters), `?` (one character), `[a-z]`, `[^0-9]`, `\*` (a literal `*`).
//! Unlike `filepath.Match`, `*` also crosses `/` (Gatus strips `/` to get the same effect).

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Star,
    AnyChar,
    Char(char),
    Class { negated: bool, ranges: Vec<(char, char)> },
}

impl Item {
    /// Whether this single-character item matches `c` (`Star` never does here).
    fn matches_one(&self, c: char) -> bool {
        match self {
            Self::Star => false,
            Self::AnyChar => true,
            Self::Char(x) => *x == c,
            Self::Class { negated, ranges } => ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated,
        }
    }
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Glob {
    items: Vec<Item>,
}

/// Why a pattern is malformed: the 0-based character offset in the pattern, and a message.
pub(super) type GlobError = (usize, String);

impl Glob {
    pub(super) fn parse(pattern: &str) -> Result<Self, GlobError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => {
                    if items.last() != Some(&Item::Star) {
                        items.push(Item::Star);
                    }
                    i += 1;
                }
                '?' => {
                    items.push(Item::AnyChar);
                    i += 1;
                }
                '\\' => {
                    let c = *chars.get(i + 1).ok_or((i, "pattern ends with a lone '\\'".to_owned()))?;
                    items.push(Item::Char(c));
                    i += 2;
                }
                '[' => {
                    let (item, next) = parse_class(&chars, i)?;
                    items.push(item);
                    i = next;
                }
                c => {
                    items.push(Item::Char(c));
                    i += 1;
                }
            }
        }
        Ok(Self { items })
    }

    /// Whether the whole of `text` matches. Linear in practice, `O(len(text) × len(pattern))` at worst.
    pub(super) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let items = &self.items;
        let (mut t, mut p) = (0, 0);
        // Where to resume after the last `*`: (item after it, text position it has absorbed up to).
        let mut resume: Option<(usize, usize)> = None;
        while t < text.len() {
            if p < items.len() && items[p] == Item::Star {
                resume = Some((p + 1, t));
                p += 1;
            } else if p < items.len() && items[p].matches_one(text[t]) {
                p += 1;
                t += 1;
            } else if let Some((after_star, absorbed)) = resume {
                resume = Some((after_star, absorbed + 1));
                p = after_star;
                t = absorbed + 1;
            } else {
                return false;
            }
        }
        items[p..].iter().all(|item| *item == Item::Star)
    }
}

/// `[` [`^`] ranges `]` starting at `open`; returns the item and the index after `]`.
fn parse_class(chars: &[char], open: usize) -> Result<(Item, usize), GlobError> {
    let unclosed = || (open, "unclosed '[' in pattern".to_owned());
    let mut i = open + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        match chars.get(i) {
            None => return Err(unclosed()),
            Some(']') if !ranges.is_empty() => return Ok((Item::Class { negated, ranges }, i + 1)),
            Some(_) => {}
        }
        let lo_at = i;
        let (lo, next) = class_char(chars, i).ok_or_else(unclosed)?.map_err(|m| (i, m))?;
        i = next;
        let mut hi = lo;
        if chars.get(i) == Some(&'-') {
            let (c, next) = class_char(chars, i + 1).ok_or_else(unclosed)?.map_err(|m| (i + 1, m))?;
            hi = c;
            i = next;
        }
        if hi < lo {
            return Err((lo_at, format!("empty range '{lo}-{hi}' in pattern")));
        }
        ranges.push((lo, hi));
    }
}

/// One character of a class at `i` (with `\` escapes); `None` at the end of the pattern.
fn class_char(chars: &[char], i: usize) -> Option<Result<(char, usize), String>> {
    match *chars.get(i)? {
        '-' | ']' => Some(Err(format!("unexpected '{}' in pattern class", chars[i]))),
        '\\' => chars.get(i + 1).map(|&c| Ok((c, i + 2))),
        c => Some(Ok((c, i + 1))),
    }
}

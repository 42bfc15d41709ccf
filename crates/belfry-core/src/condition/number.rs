//! Numbers and durations written the way Gatus (Go) reads them: `0x1F`, `0o17`, `1_000`,
//! `123.4`, `48h`, `1h30m`, `250ms`.

/// A value read as a number for `<`, `<=`, `>`, `>=`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Num {
    Int(i64),
    /// Always finite.
    Float(f64),
}

impl Num {
    /// Reads `text` as Gatus does: a Go duration (as milliseconds), else a Go integer, else a
    /// float. `None` when it is none of these (or not finite).
    pub(super) fn parse(text: &str) -> Option<Self> {
        if let Some(nanos) = parse_duration_nanos(text) {
            return Some(Self::Int(nanos / 1_000_000));
        }
        if let Some(i) = parse_int(text) {
            return Some(Self::Int(i));
        }
        parse_float(text).map(Self::Float)
    }

    pub(super) fn cmp(self, other: Self) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    /// Whole milliseconds, for showing the value as a duration.
    pub(super) fn as_millis(self) -> i64 {
        match self {
            Self::Int(i) => i,
            // `as` saturates, and a float here is finite.
            Self::Float(f) => f as i64,
        }
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b` prefixes, a leading `0` for
/// octal, `_` between digits.
pub(super) fn parse_int(s: &str) -> Option<i64> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    if unsigned.contains('_') && !underscores_ok(unsigned) {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let magnitude = u64::from_str_radix(&digits, radix).ok()?;
    if negative {
        if magnitude == 1 << 63 { Some(i64::MIN) } else { i64::try_from(magnitude).ok().map(|m| -m) }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's rule: each `_` sits between two digits (a base prefix counts as a digit).
fn underscores_ok(unsigned: &str) -> bool {
    let bytes = unsigned.as_bytes();
    let lower = |b: u8| b.to_ascii_lowercase();
    let (mut i, mut hex, mut last_was_digit, mut last_was_underscore) = (0, false, false, false);
    if bytes.len() >= 2 && bytes[0] == b'0' && matches!(lower(bytes[1]), b'b' | b'o' | b'x') {
        i = 2;
        hex = lower(bytes[1]) == b'x';
        last_was_digit = true;
    }
    for &b in &bytes[i..] {
        if b.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&lower(b))) {
            (last_was_digit, last_was_underscore) = (true, false);
        } else if b == b'_' {
            if !last_was_digit {
                return false;
            }
            (last_was_digit, last_was_underscore) = (false, true);
        } else {
            if last_was_underscore {
                return false;
            }
            (last_was_digit, last_was_underscore) = (false, false);
        }
    }
    !last_was_underscore
}

/// A finite decimal float (`123.4`, `1e3`, `.5`); no `inf`/`nan`, no underscores.
pub(super) fn parse_float(s: &str) -> Option<f64> {
    if !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `time.ParseDuration` (`1h30m`, `1.5s`, `-250ms`, `0`), in nanoseconds.
pub(super) fn parse_duration_nanos(s: &str) -> Option<i64> {
    let (negative, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    const LIMIT: u128 = 1 << 63;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = after.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u128 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
        let mut value = whole.checked_mul(scale)?;
        if !frac_part.is_empty() {
            let frac: f64 = format!("0.{frac_part}").parse().ok()?;
            value += (frac * scale as f64) as u128;
        }
        total = total.checked_add(value).filter(|&t| t <= LIMIT)?;
        rest = after;
    }
    if negative {
        Some(if total == LIMIT { i64::MIN } else { -(total as i64) })
    } else {
        i64::try_from(total).ok()
    }
}

/// Whether `text` is a duration with a unit (`48h`, not a bare `0`).
pub(super) fn is_duration_literal(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_alphabetic()) && parse_duration_nanos(text).is_some()
}

/// Milliseconds as Gatus shows durations: whole seconds, zero components dropped at the end
/// (`336h`, `1h30m`, `1h0m15s`, `45s`, `0s`).
pub(super) fn format_duration(millis: i64) -> String {
    let secs = (millis / 1000).unsigned_abs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let sign = if millis < 0 { "-" } else { "" };
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = sign.to_owned();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 || (h > 0 && s > 0) {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

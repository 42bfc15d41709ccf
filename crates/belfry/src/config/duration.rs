//! Durations as written in the config: `250ms`, `30s`, `5m`, `1h`, `14d`, `1h30m`.

use std::time::Duration;

/// Parses a duration: one or more `<integer><unit>` parts with no spaces, where the unit is
/// `ms`, `s`, `m`, `h` or `d` (a day is 24 hours). `1h30m` is 90 minutes; `0s` is zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let expected = || {
        format!(
            "invalid duration {s:?}: expected a number and a unit (ms, s, m, h, d), like 30s, 5m or 1h30m"
        )
    };
    if s.is_empty() {
        return Err(expected());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(expected());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| format!("duration {s:?} is too long"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let millis_per_unit: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" if rest.is_empty() && total.is_zero() && digits == s.len() => {
                return Err(format!("duration {s:?} needs a unit, like {s}s"));
            }
            _ => return Err(expected()),
        };
        rest = &rest[unit_len..];
        let millis =
            number.checked_mul(millis_per_unit).ok_or_else(|| format!("duration {s:?} is too long"))?;
        total = total
            .checked_add(Duration::from_millis(millis))
            .ok_or_else(|| format!("duration {s:?} is too long"))?;
    }
    Ok(total)
}

/// Writes a duration the way the config spells it (`1h30m`, `250ms`, `0s`).
pub(super) fn format_duration(d: Duration) -> String {
    let mut millis = d.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if millis >= size {
            out.push_str(&format!("{}{unit}", millis / size));
            millis %= size;
        }
    }
    out
}

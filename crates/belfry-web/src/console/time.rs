//! Times as the console shows them and reads them back: in the page's zone, to the second,
//! with the abbreviation in force (which also tells apart the two hours a clock change repeats).

use jiff::Timestamp;
use jiff::tz::{AmbiguousOffset, TimeZone};

use crate::html::in_zone;

/// The format of [`when`], which [`parse_local`] reads back.
const WHEN_FORMAT: &str = "%Y-%m-%d %H:%M:%S %Z";

/// In the page's zone `tz`, to the second, with the abbreviation in force then:
/// `2026-11-22 10:04:05 EST`.
pub(super) fn when(tz: &TimeZone, at: Timestamp) -> String {
    in_zone(tz, at, WHEN_FORMAT)
}

/// A time typed in the page's zone `tz`: `2024-06-01 07:30[:00]` with an optional
/// abbreviation (`EDT`) that picks the hour a clock change repeats, or an RFC 3339 instant
/// with an offset. A time the clocks skipped, or a repeated one without its abbreviation, is
/// an error saying so (in words for the person who typed it). Surrounding whitespace is
/// ignored.
pub(super) fn parse_local(text: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a time is needed.".to_owned());
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let (civil, abbreviation) = match text.rsplit_once(' ') {
        Some((rest, last)) if !last.contains(':') => (rest.trim(), Some(last).filter(|a| !a.is_empty())),
        _ => (text, None),
    };
    let Ok(civil) = civil.parse::<jiff::civil::DateTime>() else {
        return Err(format!("{text:?} is not a time like YYYY-MM-DD HH:MM:SS with the zone's abbreviation."));
    };
    let candidates: Vec<Timestamp> = match tz.to_ambiguous_timestamp(civil).offset() {
        AmbiguousOffset::Unambiguous { offset } => vec![offset],
        AmbiguousOffset::Gap { .. } => vec![],
        AmbiguousOffset::Fold { before, after } => vec![before, after],
    }
    .into_iter()
    .filter_map(|offset| offset.to_timestamp(civil).ok())
    .collect();
    let abbreviation_of = |at: &Timestamp| in_zone(tz, *at, "%Z");
    let choices = || candidates.iter().map(abbreviation_of).collect::<Vec<_>>().join(" or ");
    let matching: Vec<&Timestamp> = candidates
        .iter()
        .filter(|at| abbreviation.is_none_or(|abbr| abbreviation_of(at).eq_ignore_ascii_case(abbr)))
        .collect();
    match (matching.as_slice(), candidates.len()) {
        ([at], _) => Ok(**at),
        (_, 0) => Err(format!("{text:?} does not exist in this time zone (the clocks skipped it).")),
        ([], _) => Err(format!("{text:?}: the zone is on {} at that time.", choices())),
        _ => Err(format!("{text:?} happens twice (the clocks went back): add {} to say which.", choices())),
    }
}

#[cfg(test)]
mod tests;

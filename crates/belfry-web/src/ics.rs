//! `GET /maintenance.ics`: the maintenance windows as an RFC 5545 calendar, one VEVENT per
//! window. One-off windows are in UTC. A recurring window repeats in its own zone (a weekly
//! 02:00 stays 02:00 across daylight saving), so it is written with `TZID` and a VTIMEZONE
//! generated from the zone's transitions; in a zone without transitions, in UTC. Served from
//! the site cache with the windows the page holds (those that ended in the last 90 days).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use belfry_core::Catalog;
use belfry_core::maintenance::Maintenance;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// Zone transitions described around a recurring window: a year before its first occurrence
/// to three years after it (or after now, whichever is later).
const ZONE_BEFORE: SignedDuration = SignedDuration::from_hours(24 * 366);
const ZONE_AFTER: SignedDuration = SignedDuration::from_hours(24 * 366 * 3);
/// Octets per content line before folding (RFC 5545 §3.1).
const LINE_OCTETS: usize = 75;

/// The calendar text, CRLF line ends, long lines folded.
pub(crate) fn render(catalog: &Catalog, windows: &[Maintenance], now: Timestamp) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Belfry//Maintenance//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", text(&format!("{} maintenance", catalog.page.title))),
    ];
    let host = uid_host(catalog.page.public_url.as_deref());
    // Zone name → the span of time its VTIMEZONE must describe.
    let mut zones: BTreeMap<&str, (TimeZone, Timestamp, Timestamp)> = BTreeMap::new();
    let mut events = Vec::new();
    for m in windows {
        events.push("BEGIN:VEVENT".to_owned());
        events.push(format!("UID:{}@{host}", token(&m.id)));
        events.push(format!("DTSTAMP:{}", utc(now)));
        events.push(format!("CREATED:{}", utc(m.created_at)));
        events.push(format!("LAST-MODIFIED:{}", utc(m.updated_at)));
        let zone = m
            .rrule
            .as_ref()
            .and_then(|_| TimeZone::get(&m.time_zone).ok())
            .filter(|tz| has_transitions(tz, m));
        match zone {
            Some(tz) => {
                let name = m.time_zone.as_str();
                events.push(format!("DTSTART;TZID={name}:{}", local(&tz, m.starts_at)));
                events.push(format!("DTEND;TZID={name}:{}", local(&tz, m.ends_at)));
                let from = m.starts_at.checked_sub(ZONE_BEFORE).unwrap_or(m.starts_at);
                let to = m.starts_at.max(now).checked_add(ZONE_AFTER).unwrap_or(Timestamp::MAX);
                let span = zones.entry(name).or_insert((tz, from, to));
                span.1 = span.1.min(from);
                span.2 = span.2.max(to);
            }
            None => {
                events.push(format!("DTSTART:{}", utc(m.starts_at)));
                events.push(format!("DTEND:{}", utc(m.ends_at)));
            }
        }
        if let Some(rule) = &m.rrule {
            let rule: String =
                rule.trim().trim_start_matches("RRULE:").chars().filter(|c| !c.is_control()).collect();
            events.push(format!("RRULE:{rule}"));
        }
        events.push(format!("SUMMARY:{}", text(&m.name)));
        let names: Vec<String> = m
            .components
            .iter()
            .map(|c| catalog.component(c.as_str()).map_or_else(|| c.to_string(), |x| x.name.clone()))
            .collect();
        let mut description = m.description.trim().to_owned();
        if !names.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            let _ = write!(description, "Affected: {}", names.join(", "));
        }
        events.push(format!("DESCRIPTION:{}", text(&description)));
        events.push("STATUS:CONFIRMED".to_owned());
        events.push("TRANSP:OPAQUE".to_owned());
        events.push("END:VEVENT".to_owned());
    }
    for (name, (tz, from, to)) in &zones {
        lines.extend(vtimezone(name, tz, *from, *to));
    }
    lines.extend(events);
    lines.push("END:VCALENDAR".to_owned());
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}

/// Whether the zone changes offset at any time from the window's first occurrence on.
fn has_transitions(tz: &TimeZone, m: &Maintenance) -> bool {
    tz.following(m.starts_at.checked_sub(ZONE_BEFORE).unwrap_or(m.starts_at)).next().is_some()
}

/// A VTIMEZONE with one observance per transition in `[from, to]`, plus the one in force at
/// `from`.
fn vtimezone(name: &str, tz: &TimeZone, from: Timestamp, to: Timestamp) -> Vec<String> {
    let mut out = vec!["BEGIN:VTIMEZONE".to_owned(), format!("TZID:{name}")];
    let first = tz.preceding(from).next();
    let rest = tz.following(from).take_while(|t| t.timestamp() <= to);
    for t in first.into_iter().chain(rest) {
        let at = t.timestamp();
        let before = tz.to_offset(at.checked_sub(SignedDuration::from_secs(1)).unwrap_or(at));
        let kind = if t.dst().is_dst() { "DAYLIGHT" } else { "STANDARD" };
        out.push(format!("BEGIN:{kind}"));
        out.push(format!("DTSTART:{}", before.to_datetime(at).strftime("%Y%m%dT%H%M%S")));
        out.push(format!("TZOFFSETFROM:{}", offset(before)));
        out.push(format!("TZOFFSETTO:{}", offset(t.offset())));
        if !t.abbreviation().is_empty() {
            out.push(format!("TZNAME:{}", text(t.abbreviation())));
        }
        out.push(format!("END:{kind}"));
    }
    out.push("END:VTIMEZONE".to_owned());
    out
}

/// `-0500`, `+0530`, `+054500` (seconds only when present).
fn offset(o: Offset) -> String {
    let secs = o.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, (abs % 3600) / 60, abs % 60);
    if s == 0 { format!("{sign}{h:02}{m:02}") } else { format!("{sign}{h:02}{m:02}{s:02}") }
}

fn utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn local(tz: &TimeZone, at: Timestamp) -> String {
    at.to_zoned(tz.clone()).strftime("%Y%m%dT%H%M%S").to_string()
}

/// RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped, other controls dropped.
fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let normalized = raw.replace("\r\n", "\n");
    for c in normalized.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Ids are ours, but keep UIDs to safe characters whatever a store hands back.
fn token(raw: &str) -> String {
    raw.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect()
}

/// The host of the public URL, for globally unique UIDs; `belfry` without one.
fn uid_host(public_url: Option<&str>) -> String {
    let host = public_url
        .map(|u| u.split_once("://").map_or(u, |(_, rest)| rest))
        .map(|rest| rest.split(['/', ':', '?', '#']).next().unwrap_or(""))
        .map(token)
        .unwrap_or_default();
    if host.is_empty() { "belfry".to_owned() } else { host }
}

/// Appends `line` folded at 75 octets (never inside a UTF-8 sequence), each piece ended by CRLF.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests;

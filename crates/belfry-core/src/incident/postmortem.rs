//! Postmortems: a structured document per incident, pre-filled from the machine timeline, with
//! its impact computed from recorded data (principle P8), exported as Markdown or JSON.

use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::{Incident, TimelineEntry, TimelineKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemRow {
    pub at: Timestamp,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectiveAction {
    pub description: String,
    pub owner: String,
    pub due: Option<Date>,
    #[serde(default)]
    pub done: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postmortem {
    pub summary: String,
    /// The impact in people's words; the measured facts are computed, not typed.
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub timeline: Vec<PostmortemRow>,
    #[serde(default)]
    pub contributing_factors: Vec<String>,
    #[serde(default)]
    pub stabilization_steps: Vec<String>,
    #[serde(default)]
    pub corrective_actions: Vec<CorrectiveAction>,
    /// The facts as measured when the document was last saved: what the public page shows
    /// (it is rebuilt from precomputed state, and raw check results are pruned later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<PostmortemFacts>,
    pub published_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

impl Postmortem {
    /// A draft whose timeline is the incident's machine timeline (UTC facts), ready to edit.
    pub fn prefilled(incident: &Incident, timeline: &[TimelineEntry]) -> Self {
        let rows = timeline
            .iter()
            .filter(|e| !matches!(e.kind, TimelineKind::UpdateEdited | TimelineKind::Postmortem))
            .map(|e| PostmortemRow { at: e.at, text: e.text.clone() })
            .collect();
        Self {
            summary: incident.updates.last().map(|u| u.body.clone()).unwrap_or_default(),
            timeline: rows,
            ..Self::default()
        }
    }
}

/// What the recorded data says about an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemFacts {
    pub started_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// From start to resolution (or to `now` while open), in seconds.
    pub duration_s: u64,
    /// Time the incident's monitors were recorded `down` within the incident, in seconds.
    pub monitored_downtime_s: u64,
    /// `(component id, name)`.
    pub affected_components: Vec<(String, String)>,
    pub checks_failed: u64,
    pub regions: Vec<String>,
}

/// `1 h 7 min`, `12 min`, `45 s`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, min, _) => format!("{min} min"),
        (h, 0, _) => format!("{h} h"),
        (h, min, _) => format!("{h} h {min} min"),
    }
}

/// A time in `tz` with its abbreviation, e.g. `2026-03-03 14:05 EST`.
pub fn local_time(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// The postmortem as Markdown, times in the page's time zone (one zone per document).
pub fn render_markdown(
    incident: &Incident,
    pm: &Postmortem,
    facts: &PostmortemFacts,
    tz: &TimeZone,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Postmortem: {}\n", incident.name);
    let _ = writeln!(
        md,
        "- Incident: `{}` ({}, impact {})",
        incident.id,
        incident.status.as_str(),
        incident.impact.as_str()
    );
    let _ = writeln!(md, "- Started: {}", local_time(facts.started_at, tz));
    match facts.resolved_at {
        Some(at) => {
            let _ = writeln!(md, "- Resolved: {}", local_time(at, tz));
        }
        None => md.push_str("- Resolved: not yet\n"),
    }
    let _ = writeln!(md, "- Duration: {}", human_duration(Duration::from_secs(facts.duration_s)));
    if facts.monitored_downtime_s > 0 {
        let _ = writeln!(
            md,
            "- Down according to monitoring: {}",
            human_duration(Duration::from_secs(facts.monitored_downtime_s))
        );
    }
    md.push_str("\n## Summary\n\n");
    let _ = writeln!(md, "{}\n", pm.summary.trim());
    md.push_str("## Impact\n\n");
    if !pm.impact.trim().is_empty() {
        let _ = writeln!(md, "{}\n", pm.impact.trim());
    }
    let components: Vec<&str> = facts.affected_components.iter().map(|(_, name)| name.as_str()).collect();
    let _ = writeln!(
        md,
        "- Affected components: {}",
        if components.is_empty() { "none recorded".to_owned() } else { components.join(", ") }
    );
    let _ = writeln!(md, "- Failed checks: {}", facts.checks_failed);
    if !facts.regions.is_empty() {
        let _ = writeln!(md, "- Regions: {}", facts.regions.join(", "));
    }
    let times: Vec<Timestamp> = pm.timeline.iter().map(|r| r.at).collect();
    let _ = writeln!(md, "\n## Timeline ({})\n", tz_label(tz, &times, facts.started_at));
    md.push_str("| Time | Event |\n|---|---|\n");
    for row in &pm.timeline {
        // Each row with the abbreviation in force at its instant: a timeline that crosses a
        // daylight-saving change shows both (EST rows, then EDT rows), never one mislabel.
        let time = row.at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S %Z").to_string();
        let _ = writeln!(md, "| {time} | {} |", table_cell(&row.text));
    }
    list_section(&mut md, "Contributing factors", &pm.contributing_factors);
    list_section(&mut md, "Stabilization steps", &pm.stabilization_steps);
    md.push_str("\n## Corrective actions\n\n");
    if pm.corrective_actions.is_empty() {
        md.push_str("None recorded.\n");
    } else {
        md.push_str("| Action | Owner | Due | Done |\n|---|---|---|---|\n");
        for a in &pm.corrective_actions {
            let due = a.due.map(|d| d.to_string()).unwrap_or_else(|| "—".to_owned());
            let _ = writeln!(
                md,
                "| {} | {} | {due} | {} |",
                table_cell(&a.description),
                table_cell(&a.owner),
                if a.done { "yes" } else { "no" }
            );
        }
    }
    md
}

fn list_section(md: &mut String, title: &str, items: &[String]) {
    let _ = writeln!(md, "\n## {title}\n");
    if items.is_empty() {
        md.push_str("None recorded.\n");
    }
    for item in items {
        let _ = writeln!(md, "- {}", item.trim());
    }
}

/// The zone's name and every abbreviation the rows at `times` use, in order of first use:
/// `America/New_York, EST`, or `America/New_York, EST / EDT` across a daylight-saving change
/// (`fallback`'s when there are no rows).
fn tz_label(tz: &TimeZone, times: &[Timestamp], fallback: Timestamp) -> String {
    let mut abbreviations: Vec<String> = Vec::new();
    for at in times.iter().copied().chain(times.is_empty().then_some(fallback)) {
        let abbr = at.to_zoned(tz.clone()).strftime("%Z").to_string();
        if !abbreviations.contains(&abbr) {
            abbreviations.push(abbr);
        }
    }
    let abbreviations = abbreviations.join(" / ");
    match tz.iana_name() {
        Some(name) if name != abbreviations => format!("{name}, {abbreviations}"),
        _ => abbreviations,
    }
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{AffectedComponents, Impact, IncidentStatus, NewUpdate};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn timeline_rows_across_a_daylight_saving_change_carry_their_own_abbreviation() {
        let first = NewUpdate {
            id: "u1".into(),
            status: IncidentStatus::Investigating,
            body: "Forms are slow".into(),
            author: "alice".into(),
            notify: true,
            components: AffectedComponents::new(),
            impact: None,
            display_at: None,
        };
        // New York moves from EST to EDT at 2026-03-08 02:00 local (07:00 UTC).
        let (incident, _) = Incident::open(
            "inc1".into(),
            "Forms slow".into(),
            Impact::Major,
            first,
            None,
            true,
            ts("2026-03-08T06:30:00Z"),
        )
        .unwrap();
        let pm = Postmortem {
            summary: "Slow forms".into(),
            timeline: vec![
                PostmortemRow { at: ts("2026-03-08T06:30:00Z"), text: "Opened".into() },
                PostmortemRow { at: ts("2026-03-08T07:30:05Z"), text: "Fixed".into() },
            ],
            ..Postmortem::default()
        };
        let facts = PostmortemFacts {
            started_at: incident.started_at,
            resolved_at: None,
            duration_s: 3605,
            monitored_downtime_s: 0,
            affected_components: vec![],
            checks_failed: 0,
            regions: vec![],
        };
        let tz = TimeZone::get("America/New_York").unwrap();
        let md = render_markdown(&incident, &pm, &facts, &tz);
        assert!(md.contains("## Timeline (America/New_York, EST / EDT)"), "{md}");
        assert!(md.contains("| 2026-03-08 01:30:00 EST | Opened |"), "{md}");
        assert!(md.contains("| 2026-03-08 03:30:05 EDT | Fixed |"), "{md}");

        let empty = Postmortem { summary: "x".into(), ..Postmortem::default() };
        let md = render_markdown(&incident, &empty, &facts, &tz);
        assert!(md.contains("## Timeline (America/New_York, EST)"), "no rows: the start's zone: {md}");
        let md = render_markdown(&incident, &pm, &facts, &TimeZone::UTC);
        assert!(md.contains("## Timeline (UTC)"), "{md}");
    }
}

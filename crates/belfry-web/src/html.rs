//! The public HTML pages, server-rendered with askama (compile-time templates that escape by
//! default; only sanitized Markdown and our own SVG are marked `safe`). They work without
//! JavaScript; a small embedded script adds live updates (SSE) and reader-local times.

mod svg;
mod views;

use askama::Template;
use belfry_core::ComponentStatus;
use belfry_core::incident::{Impact, IncidentStatus};
use belfry_core::status::Indicator;

pub(crate) use views::{component_page, history_page, in_zone, incident_page, index_page, not_found_page};

/// The stylesheet, inlined into every page (no CDN, no extra request, works in the export).
const CSS: &str = include_str!("../assets/page.css");
/// Live updates and local times; inert without `data-live` on `<body>`.
const JS: &str = include_str!("../assets/live.js");

/// `Investigating`, `Resolved`…
pub(crate) fn incident_status_label(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Investigating => "Investigating",
        IncidentStatus::Identified => "Identified",
        IncidentStatus::Monitoring => "Monitoring",
        IncidentStatus::Resolved => "Resolved",
        IncidentStatus::Postmortem => "Postmortem",
    }
}

fn impact_label(impact: Impact) -> &'static str {
    match impact {
        Impact::None => "No impact",
        Impact::Minor => "Minor",
        Impact::Major => "Major",
        Impact::Critical => "Critical",
    }
}

fn status_class(status: ComponentStatus) -> &'static str {
    status.as_str()
}

fn indicator_class(indicator: Indicator) -> &'static str {
    match indicator {
        Indicator::None => "none",
        Indicator::Minor => "minor",
        Indicator::Major => "major",
        Indicator::Critical => "critical",
    }
}

/// Renders a template; askama fails only on a formatting error of our own values.
fn render(template: &impl Template) -> Vec<u8> {
    template
        .render()
        .unwrap_or_else(|e| format!("<!doctype html><title>error</title><p>{e}</p>"))
        .into_bytes()
}

#[cfg(test)]
mod tests;

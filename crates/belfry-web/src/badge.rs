//! Shields-style SVG badges: `/badge/{component}.svg` (status) and
//! `/badge/{component}/uptime.svg?days=N` (uptime over the last N days, 1..=90). Text widths
//! are estimated from Verdana 11 px advance widths, close enough for labels this short.

use belfry_core::ComponentStatus;

use crate::xml::escape;

/// A two-part badge: grey label on the left, coloured message on the right.
pub(crate) fn render(label: &str, message: &str, colour: &str) -> Vec<u8> {
    let lw = text_width(label) + 10;
    let mw = text_width(message) + 10;
    let total = lw + mw;
    let (label, message) = (escape(label), escape(message));
    let colour = escape(colour);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{label}: {message}"><title>{label}: {message}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{colour}"/><rect width="{total}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="15" fill="#010101" fill-opacity=".3">{label}</text><text x="{lx}" y="14">{label}</text><text x="{mx}" y="15" fill="#010101" fill-opacity=".3">{message}</text><text x="{mx}" y="14">{message}</text></g></svg>"##,
        lx = lw / 2,
        mx = lw + mw / 2,
    )
    .into_bytes()
}

/// The status badge of a component.
pub(crate) fn status(name: &str, status: ComponentStatus) -> Vec<u8> {
    render(name, label(status), colour(status))
}

/// The uptime badge: `99.95 %` over `days`, or `no data`.
pub(crate) fn uptime(days: i64, ratio: Option<(f64, bool)>) -> Vec<u8> {
    let label = format!("uptime {days}d");
    match ratio {
        None => render(&label, "no data", "#9f9f9f"),
        Some((ratio, had_down)) => {
            let colour = match ratio {
                r if r >= 0.999 => "#2e7d32",
                r if r >= 0.99 => "#9a6700",
                _ => "#c62828",
            };
            render(&label, &crate::site::percent(ratio, had_down), colour)
        }
    }
}

/// What people call each status.
pub(crate) fn label(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "Operational",
        ComponentStatus::DegradedPerformance => "Degraded Performance",
        ComponentStatus::PartialOutage => "Partial Outage",
        ComponentStatus::MajorOutage => "Major Outage",
        ComponentStatus::UnderMaintenance => "Under Maintenance",
    }
}

/// Badge colours, dark enough for white text (WCAG AA).
fn colour(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "#2e7d32",
        ComponentStatus::DegradedPerformance => "#9a6700",
        ComponentStatus::PartialOutage => "#b45309",
        ComponentStatus::MajorOutage => "#c62828",
        ComponentStatus::UnderMaintenance => "#1f5fbf",
    }
}

/// Estimated width in pixels of `text` in Verdana 11 px.
fn text_width(text: &str) -> usize {
    let tenths: usize = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 35,
            'f' | 't' | 'r' | ' ' | '(' | ')' | '[' | ']' | '-' => 50,
            'm' | 'w' | 'M' | 'W' | '%' => 105,
            c if c.is_ascii_uppercase() => 78,
            c if c.is_ascii_digit() => 70,
            _ => 68,
        })
        .sum();
    tenths.div_ceil(10)
}

#[cfg(test)]
mod tests;

//! Inline SVG drawn on the server: the 90-day uptime bar (a `<rect>` per day, or per run of
//! identical healthy days, each with a `<title>` that is both tooltip and accessible text)
//! and the response-time line chart.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::site::DayCell;
use crate::xml::escape;

/// Distance between two days' cells and the gap between them, in viewBox units (`live.js`
/// draws runs of days with the same numbers).
const CELL: usize = 5;
const GAP: usize = 1;
const BAR_HEIGHT: usize = 34;
const CHART_WIDTH: f64 = 600.0;
const CHART_HEIGHT: f64 = 80.0;

/// The uptime bar, oldest day left, today right. A run of consecutive days without downtime
/// and of the same level (all up, or all without data) is one wider cell titled with its
/// range (`Dec 5 – Mar 2: 0 min down, 100 %`) and carrying `data-day` (its first UTC day) and
/// `data-days`: that says everything the single days would, in a fraction of the bytes, and
/// the page script draws it as one cell per day again ([`CELL`] apart, each with its own
/// title). Days with downtime are always cells of their own.
pub(super) fn bar(name: &str, cells: &[DayCell], summary: &str) -> String {
    let width = cells.len() * CELL;
    let mut out = String::with_capacity(512 + cells.len() * 16);
    let _ = write!(
        out,
        r#"<svg class="bar" viewBox="0 0 {width} {BAR_HEIGHT}" preserveAspectRatio="none" role="img" aria-label="{}"><title>{}</title>"#,
        escape(&format!("{name}: {summary} over {} days", cells.len())),
        escape(&format!("{name}: {summary}")),
    );
    let mut i = 0;
    while i < cells.len() {
        let cell = &cells[i];
        let run = if cell.healthy() {
            cells[i..].iter().take_while(|c| c.healthy() && c.level() == cell.level()).count()
        } else {
            1
        };
        let class = cell.level().class();
        let x = i * CELL;
        if run < 2 {
            let _ = write!(
                out,
                r#"<rect class="day {class}" x="{x}" width="{}" height="{BAR_HEIGHT}" rx="1"><title>{}</title></rect>"#,
                CELL - GAP,
                escape(&cell.title())
            );
        } else {
            let last = &cells[i + run - 1];
            let _ = write!(
                out,
                r#"<rect class="day {class}" x="{x}" width="{}" height="{BAR_HEIGHT}" rx="1" data-day="{}" data-days="{run}"><title>{}</title></rect>"#,
                run * CELL - GAP,
                cell.date,
                escape(&format!("{} – {}: {}", cell.day(), last.day(), cell.detail()))
            );
        }
        i += run;
    }
    out.push_str("</svg>");
    out
}

/// Mean response time per hour as a line; `None` without data.
pub(super) fn chart(series: &[(Timestamp, f64)], tz: &TimeZone) -> Option<String> {
    let (first, last) = (series.first()?, series.last()?);
    let max = series.iter().map(|(_, v)| *v).fold(1.0_f64, f64::max) * 1.15;
    let span = (last.0.as_second() - first.0.as_second()).max(1) as f64;
    let x = |at: Timestamp| (at.as_second() - first.0.as_second()) as f64 / span * CHART_WIDTH;
    let y = |v: f64| CHART_HEIGHT - v / max * CHART_HEIGHT;
    // Whole viewBox units: the chart is 600 × 80 units drawn at most ~900 × 80 px.
    let points: Vec<String> = series.iter().map(|(at, v)| format!("{:.0},{:.0}", x(*at), y(*v))).collect();
    let avg = series.iter().map(|(_, v)| v).sum::<f64>() / series.len() as f64;
    let peak = series.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let label = format!("Response time, hourly mean: average {avg:.0} ms, highest {peak:.0} ms");
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" preserveAspectRatio="none" role="img" aria-label="{0}"><title>{0}</title>"#,
        escape(&label)
    );
    let _ = write!(out, r#"<polyline class="line" fill="none" points="{}"/>"#, points.join(" "));
    for (at, v) in series {
        let when = at.to_zoned(tz.clone()).strftime("%b %-d %H:%M %Z").to_string();
        let _ = write!(
            out,
            r#"<circle cx="{:.0}" cy="{:.0}" r="2"><title>{}</title></circle>"#,
            x(*at),
            y(*v),
            escape(&format!("{when}: {v:.0} ms"))
        );
    }
    out.push_str("</svg>");
    Some(out)
}

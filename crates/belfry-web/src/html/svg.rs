//! Inline SVG drawn on the server: the 90-day uptime bar (one `<rect>` per day, each with a
//! `<title>` that is both tooltip and accessible text) and the response-time line chart.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::site::DayCell;
use crate::xml::escape;

const CELL: usize = 5;
const GAP: usize = 1;
const BAR_HEIGHT: usize = 34;
const CHART_WIDTH: f64 = 600.0;
const CHART_HEIGHT: f64 = 80.0;

/// The uptime bar, oldest day left, today right.
pub(super) fn bar(name: &str, cells: &[DayCell], summary: &str) -> String {
    let width = cells.len() * CELL;
    let mut out = String::with_capacity(cells.len() * 90);
    let _ = write!(
        out,
        r#"<svg class="bar" viewBox="0 0 {width} {BAR_HEIGHT}" preserveAspectRatio="none" role="img" aria-label="{}"><title>{}</title>"#,
        escape(&format!("{name}: {summary} over {} days", cells.len())),
        escape(&format!("{name}: {summary}")),
    );
    for (i, cell) in cells.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect class="day {}" x="{}" y="0" width="{}" height="{BAR_HEIGHT}" rx="1"><title>{}</title></rect>"#,
            cell.level().class(),
            i * CELL,
            CELL - GAP,
            escape(&cell.title())
        );
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
    let points: Vec<String> = series.iter().map(|(at, v)| format!("{:.1},{:.1}", x(*at), y(*v))).collect();
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
            r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="2"><title>{}</title></circle>"#,
            x(*at),
            y(*v),
            escape(&format!("{when}: {v:.0} ms"))
        );
    }
    out.push_str("</svg>");
    Some(out)
}

//! Day cells of the 90-day uptime bars and the response-time series, per component, from
//! day/hour rollups (P8: shown numbers come from recorded data). A component's day is as bad
//! as its worst monitor's.

use belfry_core::MonitorSpec;
use belfry_core::uptime::downtime;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::model::{DAYS, Model, day_start};

/// One day of a component's bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DayCell {
    /// The UTC day.
    pub date: Date,
    /// Seconds the worst monitor was down that day.
    pub down_s: u64,
    /// Seconds of the day that have passed (86 400 but for today).
    pub span_s: u64,
    /// Any monitor has data for the day.
    pub data: bool,
}

/// How a cell is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    NoData,
    Up,
    /// Down less than 30 minutes.
    Minor,
    /// Down less than 4 hours.
    Partial,
    Major,
}

impl Level {
    pub fn class(self) -> &'static str {
        match self {
            Self::NoData => "none",
            Self::Up => "up",
            Self::Minor => "minor",
            Self::Partial => "partial",
            Self::Major => "major",
        }
    }
}

impl DayCell {
    pub fn level(&self) -> Level {
        match (self.data, self.down_s) {
            (false, 0) => Level::NoData,
            (_, 0) => Level::Up,
            (_, d) if d < 30 * 60 => Level::Minor,
            (_, d) if d < 4 * 3600 => Level::Partial,
            _ => Level::Major,
        }
    }

    /// `Mar 3: 12 min down, 99.17 %`; `Mar 3: no data`.
    pub fn title(&self) -> String {
        format!("{}: {}", self.day(), self.detail())
    }

    /// `Mar 3`.
    pub fn day(&self) -> String {
        self.date.strftime("%b %-d").to_string()
    }

    /// What the title says after the day: `12 min down, 99.17 %`; `no data`.
    pub fn detail(&self) -> String {
        if self.level() == Level::NoData {
            return "no data".to_owned();
        }
        let ratio = if self.span_s == 0 { 1.0 } else { 1.0 - self.down_s as f64 / self.span_s as f64 };
        format!("{} down, {}", minutes(self.down_s), percent(ratio.max(0.0), self.down_s > 0))
    }

    /// A day without downtime: its title differs from its neighbours' only by the date.
    pub fn healthy(&self) -> bool {
        self.down_s == 0
    }
}

/// `0 min`, `12 min`, `1 h 7 min`; under a minute of downtime still reads `1 min`.
pub(crate) fn minutes(secs: u64) -> String {
    let mins = if secs > 0 { secs.div_ceil(60) } else { 0 };
    if mins < 60 { format!("{mins} min") } else { format!("{} h {} min", mins / 60, mins % 60) }
}

/// `99.17 %`; never `100 %` when there was downtime, `100 %` without it.
pub(crate) fn percent(ratio: f64, had_down: bool) -> String {
    let value = (ratio * 10_000.0).round() / 100.0;
    if !had_down {
        return "100 %".to_owned();
    }
    format!("{:.2} %", value.min(99.99))
}

/// The fraction of the cells' time that was up; `None` without any data.
pub(crate) fn uptime(cells: &[DayCell]) -> Option<(f64, bool)> {
    let (down, span) =
        cells.iter().filter(|c| c.data).fold((0u64, 0u64), |(d, s), c| (d + c.down_s, s + c.span_s));
    (span > 0).then(|| (1.0 - down as f64 / span as f64, down > 0))
}

impl Model {
    /// The monitors behind a component, or behind every child of a group.
    pub fn monitors_for(&self, id: &str) -> Vec<&MonitorSpec> {
        let catalog = &self.page.catalog;
        let children: Vec<String> = match self.page.snapshot.component(id) {
            Some(view) if view.group => view.components.clone().unwrap_or_default(),
            _ => vec![id.to_owned()],
        };
        children
            .iter()
            .filter_map(|c| catalog.component(c))
            .flat_map(|c| catalog.monitors_of(&c.id).collect::<Vec<_>>())
            .collect()
    }

    /// The last `days` days (≤ 90) of a component, oldest first, today last.
    pub fn days_of(&self, id: &str, days: i64) -> Vec<DayCell> {
        let monitors = self.monitors_for(id);
        let now = self.page.now;
        let today = day_start(now);
        let days = days.clamp(1, DAYS);
        (0..days)
            .map(|back| {
                let start =
                    today.checked_sub(SignedDuration::from_hours(24 * (days - 1 - back))).unwrap_or(today);
                let date = start.to_zoned(TimeZone::UTC).date();
                if start == today {
                    let down = monitors
                        .iter()
                        .map(|m| downtime(&self.today_down(&m.id), today, now).as_secs())
                        .max()
                        .unwrap_or(0);
                    let data = monitors.iter().any(|m| self.live.contains_key(&m.id));
                    let span = now.duration_since(today).as_secs().max(0) as u64;
                    return DayCell { date, down_s: down, span_s: span.max(1), data };
                }
                let rows: Vec<_> = monitors
                    .iter()
                    .filter_map(|m| self.stats.monitors.get(&m.id))
                    .filter_map(|s| s.days.binary_search_by_key(&start, |r| r.start).ok().map(|i| &s.days[i]))
                    .collect();
                DayCell {
                    date,
                    down_s: rows.iter().map(|r| u64::from(r.downtime_s)).max().unwrap_or(0).min(86_400),
                    span_s: 86_400,
                    data: rows.iter().any(|r| r.checks > 0 || r.downtime_s > 0),
                }
            })
            .collect()
    }

    /// Mean response time per closed hour over the chart's range (the mean of the component's
    /// monitors), oldest first.
    pub fn latency_of(&self, id: &str) -> Vec<(Timestamp, f64)> {
        let monitors = self.monitors_for(id);
        let mut hours: std::collections::BTreeMap<Timestamp, (f64, u32)> = Default::default();
        for m in &monitors {
            let Some(stats) = self.stats.monitors.get(&m.id) else { continue };
            for r in stats.hours.iter().filter(|r| r.checks > 0) {
                let entry = hours.entry(r.start).or_default();
                entry.0 += r.latency_avg_ms;
                entry.1 += 1;
            }
        }
        hours.into_iter().map(|(at, (sum, n))| (at, sum / f64::from(n))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(down_s: u64, span_s: u64, data: bool) -> DayCell {
        DayCell { date: "2024-03-03".parse().unwrap(), down_s, span_s, data }
    }

    #[test]
    fn titles_read_like_people_write_them() {
        assert_eq!(cell(720, 86_400, true).title(), "Mar 3: 12 min down, 99.17 %");
        assert_eq!(cell(0, 86_400, true).title(), "Mar 3: 0 min down, 100 %");
        assert_eq!(cell(0, 86_400, false).title(), "Mar 3: no data");
        assert_eq!(cell(4020, 86_400, true).title(), "Mar 3: 1 h 7 min down, 95.35 %");
        // Two seconds down is not "100 %".
        assert_eq!(cell(2, 86_400, true).title(), "Mar 3: 1 min down, 99.99 %");
    }

    #[test]
    fn levels_follow_downtime() {
        assert_eq!(cell(0, 86_400, false).level(), Level::NoData);
        assert_eq!(cell(0, 86_400, true).level(), Level::Up);
        assert_eq!(cell(60, 86_400, true).level(), Level::Minor);
        assert_eq!(cell(3600, 86_400, true).level(), Level::Partial);
        assert_eq!(cell(5 * 3600, 86_400, true).level(), Level::Major);
        // Downtime recorded without check counts is still shown.
        assert_eq!(cell(60, 86_400, false).level(), Level::Minor);
    }

    #[test]
    fn uptime_counts_only_days_with_data() {
        let cells = [cell(864, 86_400, true), cell(0, 86_400, false), cell(0, 86_400, true)];
        let (ratio, down) = uptime(&cells).unwrap();
        assert!((ratio - 0.995).abs() < 1e-9);
        assert!(down);
        assert_eq!(uptime(&[cell(0, 86_400, false)]), None);
    }
}

//! Everything one rebuild of the public site reads, loaded once: the page (catalog, live
//! snapshot, open incidents, maintenance windows), the published incidents for history and
//! feeds, and the recorded check data behind the uptime bars and charts.

use std::collections::HashMap;
use std::sync::Arc;

use belfry_core::incident::Incident;
use belfry_core::store::{DownPeriod, IncidentFilter, Resolution, Rollup};
use belfry_core::{CheckResult, LiveState, MonitorId, MonitorState};
use jiff::{SignedDuration, Timestamp};

use crate::error::ApiError;
use crate::page::Page;
use crate::state::WebState;

/// Days the uptime bars cover (today included).
pub(crate) const DAYS: i64 = 90;
/// Hours the response-time chart covers.
pub(crate) const CHART_HOURS: i64 = 24;
/// Published incidents kept for history, permalinks and feeds.
const HISTORY_LIMIT: u32 = 500;
const DAY: SignedDuration = SignedDuration::from_hours(24);

/// Recorded check data of every monitor, as of `loaded_at`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub loaded_at: Option<Timestamp>,
    /// Start of the UTC day these were loaded on.
    pub today: Option<Timestamp>,
    pub monitors: HashMap<MonitorId, MonitorStats>,
    /// The newest result of every monitor in every region, by monitor (see [`Stats::latest_of`]).
    pub latest: Vec<CheckResult>,
}

#[derive(Debug, Default)]
pub(crate) struct MonitorStats {
    /// Day rollups of the closed days in range (at most 89 rows).
    pub days: Vec<Rollup>,
    /// Down periods overlapping today.
    pub today_down: Vec<DownPeriod>,
    /// Hour rollups of the chart's range.
    pub hours: Vec<Rollup>,
}

impl Stats {
    /// Reads the rollups (≤ 90 day rows and 24 hour rows per monitor), today's down periods
    /// and the latest results.
    pub async fn load(state: &WebState, monitors: &[MonitorId], now: Timestamp) -> Result<Self, ApiError> {
        let today = day_start(now);
        let first_day = today.checked_sub(DAY * (DAYS as i32 - 1)).unwrap_or(today);
        let chart_from = now.checked_sub(SignedDuration::from_hours(CHART_HOURS)).unwrap_or(now);
        let mut out = Self { loaded_at: Some(now), today: Some(today), ..Self::default() };
        for id in monitors {
            let mut days = state.store.rollups(id, Resolution::Day, first_day, today).await?;
            days.sort_by_key(|r| r.start); // looked up by day with a binary search
            let today_down = state.store.down_periods(id, today).await?;
            let hours = state.store.rollups(id, Resolution::Hour, chart_from, now).await?;
            out.monitors.insert(id.clone(), MonitorStats { days, today_down, hours });
        }
        out.latest = state.store.latest_results().await?;
        out.latest.sort_by(|a, b| a.monitor.cmp(&b.monitor));
        Ok(out)
    }

    /// The newest result of `monitor` in each region (`latest` is sorted by monitor, so this is
    /// a binary search: every component page of a rebuild asks for its monitors).
    pub fn latest_of(&self, monitor: &MonitorId) -> &[CheckResult] {
        let from = self.latest.partition_point(|r| r.monitor < *monitor);
        let to = from + self.latest[from..].partition_point(|r| r.monitor == *monitor);
        &self.latest[from..to]
    }

    /// Whether these are too old to show next to live state.
    pub fn stale(&self, now: Timestamp, ttl: SignedDuration) -> bool {
        match (self.loaded_at, self.today) {
            (Some(at), Some(today)) => today != day_start(now) || now.duration_since(at) >= ttl || now < at,
            _ => true,
        }
    }
}

/// 00:00 UTC of the day `at` is in (rollup days are UTC days).
pub(crate) fn day_start(at: Timestamp) -> Timestamp {
    let secs = at.as_second().div_euclid(86_400) * 86_400;
    Timestamp::from_second(secs).unwrap_or(at)
}

/// What one rebuild renders from.
pub(crate) struct Model {
    pub page: Page,
    /// Published incidents, newest first.
    pub recent: Vec<Incident>,
    pub stats: Arc<Stats>,
    pub live: HashMap<MonitorId, LiveState>,
}

impl Model {
    pub async fn load(state: &WebState, stats: Arc<Stats>) -> Result<Self, ApiError> {
        let page = Page::load(state).await?;
        let filter = IncidentFilter { include_drafts: false, limit: HISTORY_LIMIT, ..Default::default() };
        let recent = state.incidents.incidents(&filter).await?.into_iter().filter(|i| i.published).collect();
        let live = state.runtime.states().into_iter().map(|s| (s.monitor.clone(), s)).collect();
        Ok(Self { page, recent, stats, live })
    }

    /// The monitors the stats cover: those that drive a component.
    pub fn stats_monitors(state: &WebState) -> Vec<MonitorId> {
        let catalog = state.runtime.catalog();
        catalog.monitors.iter().filter(|m| m.component.is_some()).map(|m| m.id.clone()).collect()
    }

    /// Down periods of a monitor overlapping today, including an outage the live state shows
    /// that began after the stats were read.
    pub fn today_down(&self, monitor: &MonitorId) -> Vec<DownPeriod> {
        let mut periods = self.stats.monitors.get(monitor).map(|s| s.today_down.clone()).unwrap_or_default();
        if let Some(live) = self.live.get(monitor)
            && live.state == MonitorState::Down
            && !periods.iter().any(|p| p.end.is_none())
        {
            periods.push(DownPeriod { start: live.since, end: None });
        }
        periods
    }

    /// When something time-driven next changes what the page shows: a maintenance window
    /// starting or ending.
    pub fn next_boundary(&self) -> Option<Timestamp> {
        let now = self.page.now;
        self.page
            .maintenances
            .iter()
            .flat_map(|m| {
                let current = m.current_window(now).map(|w| w.end);
                let next = m.next_window(now).map(|w| w.start);
                [current, next]
            })
            .flatten()
            .filter(|t| *t > now)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use belfry_core::{MonitorId, Observation};

    use super::*;

    #[test]
    fn latest_of_finds_each_monitors_results_in_the_sorted_list() {
        let id = |raw: &str| MonitorId::parse(raw).unwrap();
        let result = |monitor: &str, region: &str| {
            CheckResult::judge(id(monitor), region, Timestamp::UNIX_EPOCH, &Observation::default(), &[], &[])
        };
        let mut stats = Stats {
            latest: vec![result("web", "eu"), result("api", "eu"), result("web", "us"), result("db", "eu")],
            ..Stats::default()
        };
        stats.latest.sort_by(|a, b| a.monitor.cmp(&b.monitor));
        let regions = |m: &str| stats.latest_of(&id(m)).iter().map(|r| r.region.clone()).collect::<Vec<_>>();
        assert_eq!(regions("web"), ["eu", "us"]);
        assert_eq!(regions("api"), ["eu"]);
        assert!(regions("cache").is_empty());
        assert!(regions("zzz").is_empty());
    }
}

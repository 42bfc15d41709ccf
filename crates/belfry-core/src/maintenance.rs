//! Scheduled maintenance: windows (one-off or recurring by an RFC 5545 RRULE) during which
//! components are `under_maintenance` and their monitors' outages are not alerts.
//!
//! Checks keep running in a window and their results are recorded. Whether the time a check
//! failed counts against uptime is the window's `count_downtime`: the monitor's transition into
//! `maintenance` says so (`Transition::counts_downtime`) and the store derives the failing time
//! from the results while it stays there.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::monitor::MonitorId;

/// Statuspage maintenance status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStatus {
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

impl MaintenanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::InProgress => "in_progress",
            Self::Verifying => "verifying",
            Self::Completed => "completed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Scheduled, Self::InProgress, Self::Verifying, Self::Completed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// One occurrence: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Window {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// A status set by hand for one occurrence (`verifying`, or `completed` early).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualStatus {
    pub status: MaintenanceStatus,
    /// The start of the occurrence it applies to.
    pub occurrence: Timestamp,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    pub id: String,
    pub name: String,
    /// Markdown.
    pub description: String,
    pub components: Vec<MonitorId>,
    /// The first occurrence.
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// RFC 5545 recurrence rule (without `RRULE:`), e.g. `FREQ=WEEKLY;BYDAY=SU;COUNT=8`.
    pub rrule: Option<String>,
    /// IANA zone the rule's local times repeat in (a weekly 02:00 stays 02:00 across DST).
    pub time_zone: String,
    /// Count downtime during the window against uptime (default: not counted).
    #[serde(default)]
    pub count_downtime: bool,
    pub manual: Option<ManualStatus>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub version: u64,
}

/// Occurrences examined at most when expanding a rule (a daily rule covers 27 years).
const MAX_OCCURRENCES: usize = 10_000;

impl Maintenance {
    pub fn duration(&self) -> Duration {
        self.ends_at.duration_since(self.starts_at).try_into().unwrap_or(Duration::ZERO)
    }

    /// Checks the window and the rule; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.ends_at <= self.starts_at {
            return Err("ends_at must be after starts_at".to_owned());
        }
        TimeZone::get(&self.time_zone).map_err(|_| format!("unknown time zone {:?}", self.time_zone))?;
        if let Some(rule) = &self.rrule {
            self.rule_set(rule).map_err(|e| format!("invalid rrule: {e}"))?;
        }
        Ok(())
    }

    fn rule_set(&self, rule: &str) -> Result<rrule::RRuleSet, String> {
        let rule = rule.trim().trim_start_matches("RRULE:");
        let tz = TimeZone::get(&self.time_zone).map_err(|e| e.to_string())?;
        let local = self.starts_at.to_zoned(tz).strftime("%Y%m%dT%H%M%S").to_string();
        format!("DTSTART;TZID={}:{local}\nRRULE:{rule}", self.time_zone)
            .parse::<rrule::RRuleSet>()
            .map_err(|e| e.to_string())
    }

    /// Occurrences overlapping `[from, to)`, oldest first.
    pub fn windows(&self, from: Timestamp, to: Timestamp) -> Vec<Window> {
        let length = self.ends_at.duration_since(self.starts_at);
        let Some(rule) = &self.rrule else {
            let w = Window { start: self.starts_at, end: self.ends_at };
            return if w.end > from && w.start < to { vec![w] } else { vec![] };
        };
        let Ok(set) = self.rule_set(rule) else { return vec![] };
        let mut out = vec![];
        for start in set.into_iter().take(MAX_OCCURRENCES) {
            let Ok(start) = Timestamp::from_second(start.timestamp()) else { break };
            if start >= to {
                break;
            }
            let end = start.checked_add(length).unwrap_or(Timestamp::MAX);
            if end > from {
                out.push(Window { start, end });
            }
        }
        out
    }

    /// The occurrence containing `now`, if any.
    pub fn current_window(&self, now: Timestamp) -> Option<Window> {
        self.windows(now, now.checked_add(Duration::from_millis(1)).unwrap_or(now))
            .into_iter()
            .find(|w| w.contains(now))
    }

    /// The next occurrence starting after `now`.
    pub fn next_window(&self, now: Timestamp) -> Option<Window> {
        let horizon = now.checked_add(jiff::SignedDuration::from_hours(24 * 800)).unwrap_or(Timestamp::MAX);
        self.windows(now, horizon).into_iter().find(|w| w.start > now)
    }

    /// Status at `now`: by the clock, unless set by hand for the current occurrence.
    pub fn status_at(&self, now: Timestamp) -> MaintenanceStatus {
        let current = self.current_window(now);
        if let (Some(manual), Some(w)) = (self.manual, current)
            && manual.occurrence == w.start
        {
            return manual.status;
        }
        if current.is_some() {
            return MaintenanceStatus::InProgress;
        }
        if self.next_window(now).is_some() {
            MaintenanceStatus::Scheduled
        } else {
            MaintenanceStatus::Completed
        }
    }

    /// Whether components are under maintenance at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        matches!(self.status_at(now), MaintenanceStatus::InProgress | MaintenanceStatus::Verifying)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn window(rrule: Option<&str>) -> Maintenance {
        Maintenance {
            id: "m1".into(),
            name: "DB upgrade".into(),
            description: String::new(),
            components: vec![MonitorId::parse("db").unwrap()],
            starts_at: ts("2026-03-01T07:00:00Z"),
            ends_at: ts("2026-03-01T08:00:00Z"),
            rrule: rrule.map(str::to_owned),
            time_zone: "America/New_York".into(),
            count_downtime: false,
            manual: None,
            created_at: ts("2026-02-01T00:00:00Z"),
            updated_at: ts("2026-02-01T00:00:00Z"),
            version: 0,
        }
    }

    #[test]
    fn one_off_window_moves_through_its_statuses_by_the_clock() {
        let m = window(None);
        assert_eq!(m.status_at(ts("2026-03-01T06:59:59Z")), MaintenanceStatus::Scheduled);
        assert_eq!(m.status_at(ts("2026-03-01T07:00:00Z")), MaintenanceStatus::InProgress);
        assert!(m.is_active(ts("2026-03-01T07:30:00Z")));
        assert_eq!(m.status_at(ts("2026-03-01T08:00:00Z")), MaintenanceStatus::Completed);
        assert!(!m.is_active(ts("2026-03-01T08:00:00Z")));
    }

    #[test]
    fn a_hand_set_status_applies_to_its_occurrence_only() {
        let mut m = window(Some("FREQ=DAILY;COUNT=3"));
        let now = ts("2026-03-01T07:30:00Z");
        m.manual =
            Some(ManualStatus { status: MaintenanceStatus::Verifying, occurrence: m.starts_at, at: now });
        assert_eq!(m.status_at(now), MaintenanceStatus::Verifying);
        assert!(m.is_active(now));
        assert_eq!(m.status_at(ts("2026-03-02T07:30:00Z")), MaintenanceStatus::InProgress);
    }

    #[test]
    fn weekly_rule_keeps_local_time_across_daylight_saving() {
        // 03:00 New York every Sunday; DST starts 2026-03-08.
        let m = window(Some("FREQ=WEEKLY;BYDAY=SU;COUNT=3"));
        let m =
            Maintenance { starts_at: ts("2026-03-01T08:00:00Z"), ends_at: ts("2026-03-01T09:00:00Z"), ..m };
        let all = m.windows(ts("2026-01-01T00:00:00Z"), ts("2027-01-01T00:00:00Z"));
        let starts: Vec<String> = all.iter().map(|w| w.start.to_string()).collect();
        assert_eq!(starts, ["2026-03-01T08:00:00Z", "2026-03-08T07:00:00Z", "2026-03-15T07:00:00Z"]);
        assert_eq!(m.status_at(ts("2026-03-08T07:30:00Z")), MaintenanceStatus::InProgress);
        assert_eq!(m.status_at(ts("2026-03-10T00:00:00Z")), MaintenanceStatus::Scheduled);
        assert_eq!(m.status_at(ts("2026-04-01T00:00:00Z")), MaintenanceStatus::Completed);
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(window(Some("FREQ=DAILY")).validate().is_ok());
        assert!(window(Some("FREQ=SOMETIMES")).validate().unwrap_err().starts_with("invalid rrule"));
        let mut bad = window(None);
        bad.ends_at = bad.starts_at;
        assert_eq!(bad.validate().unwrap_err(), "ends_at must be after starts_at");
    }
}

//! The page-wide status line (`status.indicator` and its description), as Statuspage words it.

use serde::Serialize;

use crate::component::ComponentStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    None,
    Minor,
    Major,
    Critical,
}

/// The overall indicator and description for a set of component statuses.
pub fn overall(statuses: impl IntoIterator<Item = ComponentStatus>) -> (Indicator, &'static str) {
    let mut worst = ComponentStatus::Operational;
    let mut maintenance = false;
    for status in statuses {
        match status {
            ComponentStatus::UnderMaintenance => maintenance = true,
            other => worst = worst.max(other),
        }
    }
    if maintenance && worst == ComponentStatus::Operational {
        worst = ComponentStatus::UnderMaintenance;
    }
    match worst {
        ComponentStatus::Operational => (Indicator::None, "All Systems Operational"),
        ComponentStatus::DegradedPerformance => (Indicator::Minor, "Partially Degraded Service"),
        ComponentStatus::PartialOutage => (Indicator::Major, "Partial System Outage"),
        ComponentStatus::MajorOutage => (Indicator::Critical, "Major System Outage"),
        ComponentStatus::UnderMaintenance => (Indicator::None, "Service Under Maintenance"),
    }
}

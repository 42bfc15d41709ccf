//! Components are what customers see; their status derives from their monitors.

use serde::{Deserialize, Serialize};

use crate::monitor::MonitorId;
use crate::policy::MonitorState;

#[derive(Debug, Clone)]
pub struct Component {
    pub id: MonitorId,
    pub name: String,
    pub description: Option<String>,
    /// Display group name; components of one group are listed together.
    pub group: Option<String>,
    /// Incident automation for the monitors of this component that set none of their own.
    pub incident: Option<crate::incident::auto::AutoIncident>,
}

/// Statuspage component status, ordered from best to worst (maintenance sorts last as it
/// overrides everything while a window is open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    UnderMaintenance,
}

impl ComponentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::DegradedPerformance => "degraded_performance",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
            Self::UnderMaintenance => "under_maintenance",
        }
    }
}

/// The component status a monitor's outage sets (`impact:` on a monitor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageImpact {
    #[default]
    MajorOutage,
    PartialOutage,
    DegradedPerformance,
}

impl From<OutageImpact> for ComponentStatus {
    fn from(impact: OutageImpact) -> Self {
        match impact {
            OutageImpact::MajorOutage => Self::MajorOutage,
            OutageImpact::PartialOutage => Self::PartialOutage,
            OutageImpact::DegradedPerformance => Self::DegradedPerformance,
        }
    }
}

/// The status a component shows given its monitors' states and impacts: the worst of them.
/// `suspected` never changes public status (P3); a component with no monitors is operational.
pub fn derive_status(monitors: impl IntoIterator<Item = (MonitorState, OutageImpact)>) -> ComponentStatus {
    let mut all_maintenance = true;
    let mut any = false;
    let mut worst = ComponentStatus::Operational;
    for (state, impact) in monitors {
        any = true;
        let status = match state {
            MonitorState::Down => impact.into(),
            MonitorState::Degraded => ComponentStatus::DegradedPerformance,
            MonitorState::Up | MonitorState::Suspected | MonitorState::Paused => ComponentStatus::Operational,
            MonitorState::Maintenance => continue,
        };
        all_maintenance = false;
        worst = worst.max(status);
    }
    if any && all_maintenance { ComponentStatus::UnderMaintenance } else { worst }
}

/// A component's public status from everything that holds it: its monitors (`derive_status`),
/// the statuses open incidents set for it, and whether a maintenance window covers it now.
/// During maintenance the component shows `under_maintenance` unless an incident declares
/// something worse than degraded; otherwise the worst status wins.
pub fn public_status(
    from_monitors: ComponentStatus,
    from_incidents: impl IntoIterator<Item = ComponentStatus>,
    in_maintenance: bool,
) -> ComponentStatus {
    let incident = from_incidents
        .into_iter()
        .filter(|s| *s != ComponentStatus::UnderMaintenance)
        .max()
        .unwrap_or(ComponentStatus::Operational);
    if in_maintenance {
        return if incident >= ComponentStatus::PartialOutage {
            incident
        } else {
            ComponentStatus::UnderMaintenance
        };
    }
    match from_monitors {
        // Monitors all in maintenance but no window open (e.g. ended a moment ago): trust the rest.
        ComponentStatus::UnderMaintenance => incident,
        monitors => monitors.max(incident),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspected_never_changes_public_status() {
        let s = derive_status([(MonitorState::Suspected, OutageImpact::MajorOutage)]);
        assert_eq!(s, ComponentStatus::Operational);
    }

    #[test]
    fn worst_monitor_wins_with_its_declared_impact() {
        let s = derive_status([
            (MonitorState::Up, OutageImpact::MajorOutage),
            (MonitorState::Down, OutageImpact::PartialOutage),
            (MonitorState::Degraded, OutageImpact::MajorOutage),
        ]);
        assert_eq!(s, ComponentStatus::PartialOutage);
    }

    #[test]
    fn maintenance_only_when_every_monitor_is_in_it() {
        let only = derive_status([(MonitorState::Maintenance, OutageImpact::MajorOutage)]);
        assert_eq!(only, ComponentStatus::UnderMaintenance);
        let mixed = derive_status([
            (MonitorState::Maintenance, OutageImpact::MajorOutage),
            (MonitorState::Down, OutageImpact::MajorOutage),
        ]);
        assert_eq!(mixed, ComponentStatus::MajorOutage);
        assert_eq!(derive_status([]), ComponentStatus::Operational);
    }

    #[test]
    fn incidents_and_maintenance_combine_with_monitors() {
        use ComponentStatus::*;
        assert_eq!(public_status(Operational, [PartialOutage], false), PartialOutage);
        assert_eq!(public_status(MajorOutage, [DegradedPerformance], false), MajorOutage);
        assert_eq!(public_status(Operational, [], true), UnderMaintenance);
        assert_eq!(public_status(UnderMaintenance, [DegradedPerformance], true), UnderMaintenance);
        assert_eq!(public_status(UnderMaintenance, [MajorOutage], true), MajorOutage);
        assert_eq!(public_status(UnderMaintenance, [], false), Operational);
    }
}

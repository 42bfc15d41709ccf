//! What a monitor is: identity, what to check, how often, and how to decide.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::check::CheckSpec;
use crate::component::OutageImpact;
use crate::condition::Condition;
use crate::policy::Policy;

/// A monitor or component identifier: 1–64 characters of `a-z`, `0-9`, `-`, `_`, `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MonitorId(String);

impl MonitorId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
        if raw.is_empty() || raw.len() > 64 {
            return Err("must be 1 to 64 characters".into());
        }
        if !raw.chars().all(ok_char) {
            return Err(format!("{raw:?} may only contain a-z, 0-9, '-', '_' and '.'"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MonitorId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MonitorId> for String {
    fn from(id: MonitorId) -> Self {
        id.0
    }
}

impl fmt::Display for MonitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated monitor definition, as built from the config.
#[derive(Debug, Clone)]
pub struct MonitorSpec {
    pub id: MonitorId,
    pub name: String,
    /// The component whose public status this monitor drives, if any.
    pub component: Option<MonitorId>,
    pub check: CheckSpec,
    pub interval: Duration,
    pub timeout: Duration,
    /// All must hold for a check to pass.
    pub conditions: Vec<Condition>,
    /// If any holds on a passing check, the monitor is `degraded` (`degraded_performance`).
    pub degraded_when: Vec<Condition>,
    pub policy: Policy,
    /// The component status this monitor's outage sets.
    pub impact: OutageImpact,
    /// A paused monitor is not checked.
    pub paused: bool,
    /// Open an incident automatically when it goes down (`incident: auto|draft`).
    pub incident: Option<crate::incident::auto::AutoIncident>,
    /// Monitors this one depends on: while one of them is down, this one's outage is grouped
    /// under that alert instead of paging on its own.
    pub depends_on: Vec<MonitorId>,
    /// Free labels (`tags: [db, payments]`, each valid by [`check_tag`]) that alert rules
    /// select monitors by; in config order, each once.
    pub tags: Vec<String>,
    /// `regions: [eu, us]` and `quorum`: checked by the remote probes of those regions (and by
    /// the server when `local` is one of them), down only when a quorum of regions agree.
    /// `None`: checked by the server alone, as region `local`.
    pub regions: Option<crate::region::RegionSet>,
}

/// The most tags one monitor may carry.
pub const MAX_TAGS: usize = 20;

/// A tag is 1–64 characters of `a-z`, `0-9`, `-`, `_`, `:` (so `team:payments` works).
pub fn check_tag(raw: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_:".contains(c);
    if raw.is_empty() || raw.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if !raw.chars().all(ok_char) {
        return Err(format!("{raw:?} may only contain a-z, 0-9, '-', '_' and ':'"));
    }
    Ok(())
}

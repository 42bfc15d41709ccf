//! Remote probes (`belfry probe --region eu`): what they fetch (the monitors assigned to their
//! region), what they push (batches of check results), and the port through which the web
//! layer hands both to the running engine.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::check::{CheckResult, CheckSpec};
use crate::condition::Condition;
use crate::monitor::{MonitorId, MonitorSpec};
use crate::policy::MonitorState;
use crate::region::LOCAL;

/// How often a probe polls when it does not say (seconds-level; the CLI default).
pub const DEFAULT_POLL: Duration = Duration::from_secs(10);

/// A probe that has not reported for more than this many poll intervals is missing.
pub const MISSING_AFTER_POLLS: u32 = 3;

/// The most results one batch may carry.
pub const MAX_BATCH: usize = 5000;

/// What a probe needs to run one monitor: its check, schedule and conditions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeMonitor {
    pub id: MonitorId,
    pub name: String,
    pub check: CheckSpec,
    /// Milliseconds between checks.
    pub interval_ms: u64,
    /// Milliseconds one check may take.
    pub timeout_ms: u64,
    pub conditions: Vec<Condition>,
    pub degraded_when: Vec<Condition>,
}

impl ProbeMonitor {
    pub fn of(spec: &MonitorSpec) -> Self {
        Self {
            id: spec.id.clone(),
            name: spec.name.clone(),
            check: spec.check.clone(),
            interval_ms: millis(spec.interval),
            timeout_ms: millis(spec.timeout),
            conditions: spec.conditions.clone(),
            degraded_when: spec.degraded_when.clone(),
        }
    }

    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.max(1000))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `GET /api/v1/probe/assignments?region=eu`: the monitors of one region.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assignments {
    pub region: String,
    /// Changes whenever the assigned monitors change (also sent as the `ETag`).
    pub version: String,
    pub monitors: Vec<ProbeMonitor>,
}

impl Assignments {
    /// The unpaused monitors that list `region` among their `regions`.
    pub fn of(catalog: &Catalog, region: &str) -> Self {
        let monitors: Vec<ProbeMonitor> = catalog
            .monitors
            .iter()
            .filter(|m| !m.paused && m.regions.as_ref().is_some_and(|r| r.contains(region)))
            .map(|m| ProbeMonitor::of(m))
            .collect();
        let digest = Sha256::digest(serde_json::to_vec(&monitors).unwrap_or_default());
        let version = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Self { region: region.to_owned(), version, monitors }
    }
}

/// `POST /api/v1/probe/results`: results of one region's probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultBatch {
    pub region: String,
    /// How often the probe polls, in milliseconds; it is missing after
    /// [`MISSING_AFTER_POLLS`] of them without a report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
    pub results: Vec<CheckResult>,
}

/// Why a batch was refused; nothing of it was taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error("region `{LOCAL}` is the server itself; a remote probe needs another name")]
    LocalRegion,
    #[error("a result of region `{found}` in a batch of region `{batch}`")]
    WrongRegion { batch: String, found: String },
    #[error("monitor `{monitor}` is not assigned to region `{region}`")]
    NotAssigned { monitor: MonitorId, region: String },
    #[error("{0} results are too many for one batch (at most {MAX_BATCH})")]
    TooMany(usize),
}

/// Checks a batch against the catalog: one region, not `local`, each monitor assigned to it.
pub fn validate_batch(catalog: &Catalog, region: &str, results: &[CheckResult]) -> Result<(), IngestError> {
    if region == LOCAL {
        return Err(IngestError::LocalRegion);
    }
    if results.len() > MAX_BATCH {
        return Err(IngestError::TooMany(results.len()));
    }
    for r in results {
        if r.region != region {
            return Err(IngestError::WrongRegion { batch: region.to_owned(), found: r.region.clone() });
        }
        let assigned = catalog
            .monitor(r.monitor.as_str())
            .and_then(|m| m.regions.as_ref())
            .is_some_and(|set| set.contains(region));
        if !assigned {
            return Err(IngestError::NotAssigned { monitor: r.monitor.clone(), region: region.to_owned() });
        }
    }
    Ok(())
}

/// What the server knows of one region's probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeStatus {
    pub region: String,
    /// Its last poll or push (UTC); `None` if it has not reported since the server started.
    pub last_seen: Option<Timestamp>,
    /// Since when the server expects it (its start, or when a monitor first named the region).
    pub expected_since: Timestamp,
    /// Its poll interval in milliseconds, as it last said.
    pub poll_interval_ms: u64,
    pub missing: bool,
}

/// Whether a probe last seen at `last_seen` (or never, expected since `expected_since`) and
/// polling every `poll` is missing at `now`: more than [`MISSING_AFTER_POLLS`] polls silent.
pub fn is_missing(
    last_seen: Option<Timestamp>,
    expected_since: Timestamp,
    poll: Duration,
    now: Timestamp,
) -> bool {
    let from = last_seen.unwrap_or(expected_since);
    let silent: Duration = now.duration_since(from).try_into().unwrap_or(Duration::ZERO);
    silent > poll.saturating_mul(MISSING_AFTER_POLLS)
}

/// One region's view of a regional monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionView {
    pub region: String,
    /// The region's own policy state (`up` until its first result).
    pub state: MonitorState,
    /// Its results stopped arriving: it has no say in the monitor's state.
    pub stale: bool,
    pub last_result: Option<CheckResult>,
}

/// The engine side of remote probes, as the web layer and the alert dispatcher use it.
pub trait ProbeHub: Send + Sync {
    /// Notes that the probe of `region` is alive and polls every `poll`.
    fn seen(&self, region: &str, poll: Duration);

    /// Takes a batch of `region`'s results (validated first with [`validate_batch`]); they are
    /// judged and written with the next flush. Returns how many were taken.
    fn ingest(&self, region: &str, results: Vec<CheckResult>) -> Result<usize, IngestError>;

    /// Every remote region some monitor names, with its probe's status.
    fn probes(&self) -> Vec<ProbeStatus>;

    /// The per-region view of a regional monitor (empty for other monitors).
    fn regions(&self, monitor: &MonitorId) -> Vec<RegionView>;
}

#[cfg(test)]
mod tests;

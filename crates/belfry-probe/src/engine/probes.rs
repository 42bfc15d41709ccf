//! The engine as the hub of remote probes: their batches of results join the engine's own
//! (judged and written with the next flush), and their last reports are kept to tell when one
//! goes missing.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use belfry_core::probe::{
    DEFAULT_POLL, IngestError, ProbeHub, ProbeStatus, RegionView, is_missing, validate_batch,
};
use belfry_core::region::LOCAL;
use belfry_core::{CheckResult, MonitorId};
use jiff::Timestamp;

use super::Engine;

/// What the engine knows of remote probes (in memory: after a restart every probe gets a
/// fresh grace period from the start).
#[derive(Debug, Default)]
pub(super) struct Registry {
    /// The last report of each region's probe and the poll interval it gave.
    seen: HashMap<String, (Timestamp, Duration)>,
    /// When each region was first expected (a monitor named it).
    expected: HashMap<String, Timestamp>,
}

impl Engine {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.probes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ProbeHub for Engine {
    fn seen(&self, region: &str, poll: Duration) {
        let now = self.clock.now();
        self.registry().seen.insert(region.to_owned(), (now, poll.max(Duration::from_secs(1))));
    }

    fn ingest(&self, region: &str, results: Vec<CheckResult>) -> Result<usize, IngestError> {
        validate_batch(&self.catalog(), region, &results)?;
        let taken = results.len();
        for result in results {
            let _ = self.results_tx.send(result);
        }
        Ok(taken)
    }

    fn probes(&self) -> Vec<ProbeStatus> {
        let now = self.clock.now();
        let catalog = self.catalog();
        let regions: BTreeSet<&str> = catalog
            .monitors
            .iter()
            .filter_map(|m| m.regions.as_ref())
            .flat_map(|set| set.names.iter().map(String::as_str))
            .filter(|name| *name != LOCAL)
            .collect();
        let mut registry = self.registry();
        regions
            .into_iter()
            .map(|region| {
                let expected_since = *registry.expected.entry(region.to_owned()).or_insert(now);
                let seen = registry.seen.get(region).copied();
                let poll = seen.map_or(DEFAULT_POLL, |(_, poll)| poll);
                let last_seen = seen.map(|(at, _)| at);
                ProbeStatus {
                    region: region.to_owned(),
                    last_seen,
                    expected_since,
                    poll_interval_ms: u64::try_from(poll.as_millis()).unwrap_or(u64::MAX),
                    missing: is_missing(last_seen, expected_since, poll, now),
                }
            })
            .collect()
    }

    fn regions(&self, monitor: &MonitorId) -> Vec<RegionView> {
        let now = self.clock.now();
        self.lock().slots.get(monitor).map(|slot| super::regional::views(slot, now)).unwrap_or_default()
    }
}

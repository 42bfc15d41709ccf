//! A fake of the engine's remote-probe hub: records what it is given.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use belfry_core::probe::{IngestError, ProbeHub, ProbeStatus, RegionView, validate_batch};
use belfry_core::{Catalog, CheckResult, MonitorId};

#[derive(Default)]
pub struct FakeProbes {
    /// The catalog batches are validated against (set by the runtime on each use).
    pub catalog: Mutex<Arc<Catalog>>,
    /// Every `seen`: region and poll interval.
    pub seen: Mutex<Vec<(String, Duration)>>,
    /// Every result taken, in order.
    pub ingested: Mutex<Vec<CheckResult>>,
    pub statuses: Mutex<Vec<ProbeStatus>>,
    pub regions: Mutex<HashMap<MonitorId, Vec<RegionView>>>,
}

impl ProbeHub for FakeProbes {
    fn seen(&self, region: &str, poll: Duration) {
        self.seen.lock().unwrap().push((region.to_owned(), poll));
    }

    fn ingest(&self, region: &str, results: Vec<CheckResult>) -> Result<usize, IngestError> {
        validate_batch(&self.catalog.lock().unwrap(), region, &results)?;
        let n = results.len();
        self.ingested.lock().unwrap().extend(results);
        Ok(n)
    }

    fn probes(&self) -> Vec<ProbeStatus> {
        self.statuses.lock().unwrap().clone()
    }

    fn regions(&self, monitor: &MonitorId) -> Vec<RegionView> {
        self.regions.lock().unwrap().get(monitor).cloned().unwrap_or_default()
    }
}

//! In-memory `Store`, scriptable `Runtime` and a fixed `Clock`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use belfry_core::auth::ApiToken;
use belfry_core::check::CheckSpec;
use belfry_core::incident::{Incident, TimelineEntry};
use belfry_core::maintenance::Maintenance;
use belfry_core::runtime::{PushError, Readiness};
use belfry_core::store::{Batch, DownPeriod, PoolStats, Resolution, Rollup};
use belfry_core::{
    Catalog, CheckResult, Clock, ConsoleObject, LiveState, MonitorId, MonitorState, PolicyState, Runtime,
    Section, Store, StoreError, Transition,
};
use jiff::Timestamp;

#[derive(Default)]
pub struct FakeStore {
    pub results: Mutex<Vec<CheckResult>>,
    pub transitions: Mutex<Vec<Transition>>,
    pub down: Mutex<HashMap<MonitorId, Vec<DownPeriod>>>,
    pub tokens: Mutex<Vec<ApiToken>>,
    /// When set, every call fails with `Unavailable(<this>)`.
    pub failing: Mutex<Option<String>>,
    /// When set, every call but token, session and user lookups (what authenticating a
    /// request needs) and pings fails with `Unavailable(<this>)`.
    pub failing_data: Mutex<Option<String>>,
    pub incidents: Mutex<HashMap<String, Incident>>,
    /// Every timeline entry, in the order appended.
    pub timeline: Mutex<Vec<TimelineEntry>>,
    pub maintenances: Mutex<HashMap<String, Maintenance>>,
    pub cursors: Mutex<HashMap<String, String>>,
    /// Alerts by id, as `AlertStore::route` saved them.
    pub alerts: Mutex<HashMap<String, belfry_core::alert::Alert>>,
    /// The outbox, in the order queued.
    pub deliveries: Mutex<Vec<belfry_core::alert::Delivery>>,
    /// Rollups served by `rollups` (any resolution), as a compacting store would have them.
    pub rollups: Mutex<Vec<Rollup>>,
    /// How many times `rollups` was called.
    pub rollup_reads: Mutex<u32>,
    /// The next this-many saves (incident or maintenance) fail with `Conflict`, as if someone
    /// else saved first.
    pub conflicts: Mutex<u32>,
    /// Status page subscribers, in the order added.
    pub subscribers: Mutex<Vec<belfry_core::subscriber::Subscriber>>,
    /// Console users, in the order first saved.
    pub users: Mutex<Vec<belfry_core::access::User>>,
    /// Sessions by hash.
    pub sessions: Mutex<HashMap<String, belfry_core::access::Session>>,
    /// The audit log, oldest first, with the ids `AdminStore::append_audit` assigned.
    pub audit_log: Mutex<Vec<belfry_core::access::AuditEntry>>,
    /// Sealed vault values by name (a `BTreeMap`: listed by name, as the real stores do).
    pub vault: Mutex<std::collections::BTreeMap<String, String>>,
}

impl FakeStore {
    pub(super) fn check(&self) -> Result<(), StoreError> {
        self.check_reachable()?;
        match self.failing_data.lock().unwrap().clone() {
            Some(why) => Err(StoreError::Unavailable(why)),
            None => Ok(()),
        }
    }

    pub(super) fn check_reachable(&self) -> Result<(), StoreError> {
        match self.failing.lock().unwrap().clone() {
            Some(why) => Err(StoreError::Unavailable(why)),
            None => Ok(()),
        }
    }

    pub fn fail(&self, why: &str) {
        *self.failing.lock().unwrap() = Some(why.to_owned());
    }
}

#[async_trait]
impl Store for FakeStore {
    async fn write(&self, batch: &Batch) -> Result<(), StoreError> {
        self.check()?;
        self.results.lock().unwrap().extend(batch.results.iter().cloned());
        self.transitions.lock().unwrap().extend(batch.transitions.iter().cloned());
        Ok(())
    }

    async fn policy_states(&self) -> Result<Vec<(MonitorId, PolicyState)>, StoreError> {
        self.check().map(|()| Vec::new())
    }

    async fn latest_results(&self) -> Result<Vec<CheckResult>, StoreError> {
        self.check()?;
        let mut newest: HashMap<(MonitorId, String), CheckResult> = HashMap::new();
        for r in self.results.lock().unwrap().iter() {
            let key = (r.monitor.clone(), r.region.clone());
            if newest.get(&key).is_none_or(|n| n.at < r.at) {
                newest.insert(key, r.clone());
            }
        }
        Ok(newest.into_values().collect())
    }

    async fn results(
        &self,
        monitor: &MonitorId,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<CheckResult>, StoreError> {
        self.check()?;
        let mut out: Vec<CheckResult> = self
            .results
            .lock()
            .unwrap()
            .iter()
            .filter(|r| &r.monitor == monitor && since.is_none_or(|s| r.at >= s))
            .cloned()
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.at));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn transitions(
        &self,
        monitor: Option<&MonitorId>,
        since: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Transition>, StoreError> {
        self.check()?;
        let mut out: Vec<Transition> = self
            .transitions
            .lock()
            .unwrap()
            .iter()
            .filter(|t| monitor.is_none_or(|m| &t.monitor == m) && since.is_none_or(|s| t.at >= s))
            .cloned()
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.at));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn down_periods(
        &self,
        monitor: &MonitorId,
        since: Timestamp,
    ) -> Result<Vec<DownPeriod>, StoreError> {
        self.check()?;
        let down = self.down.lock().unwrap();
        let periods = down.get(monitor).map(Vec::as_slice).unwrap_or_default();
        Ok(periods.iter().filter(|p| p.end.is_none_or(|e| e >= since)).copied().collect())
    }

    async fn rollups(
        &self,
        monitor: &MonitorId,
        resolution: Resolution,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Rollup>, StoreError> {
        self.check()?;
        *self.rollup_reads.lock().unwrap() += 1;
        let mut out: Vec<Rollup> = self
            .rollups
            .lock()
            .unwrap()
            .iter()
            .filter(|r| {
                &r.monitor == monitor && r.resolution == resolution && r.start >= since && r.start < until
            })
            .cloned()
            .collect();
        out.sort_by_key(|r| r.start);
        Ok(out)
    }

    async fn compact(&self, _now: Timestamp) -> Result<(), StoreError> {
        self.check()
    }

    async fn prune(&self, _before: Timestamp) -> Result<u64, StoreError> {
        self.check().map(|()| 0)
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.check()?;
        self.tokens.lock().unwrap().push(token.clone());
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        self.check_reachable()?;
        Ok(self.tokens.lock().unwrap().iter().find(|t| t.hash == hash).cloned())
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.check()?;
        Ok(self.tokens.lock().unwrap().clone())
    }

    async fn delete_token(&self, id: &str) -> Result<bool, StoreError> {
        self.check()?;
        let mut tokens = self.tokens.lock().unwrap();
        let before = tokens.len();
        tokens.retain(|t| t.id != id);
        Ok(tokens.len() < before)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.check_reachable()
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats { size: 2, idle: 1, max: 8 }
    }
}

pub struct FakeRuntime {
    pub catalog: Mutex<Arc<Catalog>>,
    pub states: Mutex<Vec<LiveState>>,
    /// Every push received: token and down message.
    pub pushes: Mutex<Vec<(String, Option<String>)>>,
    /// What the next reload returns.
    pub reload_errors: Mutex<Option<Vec<String>>>,
    pub reloads: Mutex<u32>,
    pub readiness: Mutex<Readiness>,
    /// Console-made objects, in the order first put.
    pub console_objects: Mutex<Vec<ConsoleObject>>,
    /// What the next `put_console_object` returns (nothing changes on errors).
    pub console_errors: Mutex<Option<Vec<String>>>,
    /// Every monitor `run_now` was asked to check, in order.
    pub runs: Mutex<Vec<MonitorId>>,
    /// What `run_now` returns per monitor; a configured monitor without one gets a passing
    /// result at [`super::now`], an unknown one `None`.
    pub run_results: Mutex<HashMap<MonitorId, CheckResult>>,
    /// The remote-probe hub.
    pub probes: Arc<super::FakeProbes>,
}

impl FakeRuntime {
    pub fn set_state(&self, monitor: &str, state: MonitorState, since: Timestamp) {
        let mut states = self.states.lock().unwrap();
        let live = states.iter_mut().find(|s| s.monitor.as_str() == monitor).expect("known monitor");
        live.state = state;
        live.since = since;
    }
}

#[async_trait]
impl Runtime for FakeRuntime {
    fn probes(&self) -> Arc<dyn belfry_core::probe::ProbeHub> {
        *self.probes.catalog.lock().unwrap() = self.catalog();
        self.probes.clone()
    }

    fn catalog(&self) -> Arc<Catalog> {
        self.catalog.lock().unwrap().clone()
    }

    /// The fake engine never holds unwritten transitions.
    async fn unwritten_transitions(&self) -> Vec<belfry_core::Transition> {
        vec![]
    }

    fn states(&self) -> Vec<LiveState> {
        self.states.lock().unwrap().clone()
    }

    fn push(&self, token: &str, down: Option<String>) -> Result<MonitorId, PushError> {
        let catalog = self.catalog();
        let monitor = catalog
            .monitors
            .iter()
            .find(|m| matches!(&m.check, CheckSpec::Heartbeat(h) if h.token == token))
            .ok_or(PushError::UnknownToken)?;
        if monitor.paused {
            return Err(PushError::Paused);
        }
        self.pushes.lock().unwrap().push((token.to_owned(), down));
        Ok(monitor.id.clone())
    }

    async fn reload(&self) -> Result<(), Vec<String>> {
        *self.reloads.lock().unwrap() += 1;
        match self.reload_errors.lock().unwrap().clone() {
            Some(errors) => Err(errors),
            None => Ok(()),
        }
    }

    fn readiness(&self) -> Readiness {
        self.readiness.lock().unwrap().clone()
    }

    async fn console_objects(&self) -> Result<Vec<ConsoleObject>, String> {
        Ok(self.console_objects.lock().unwrap().clone())
    }

    async fn put_console_object(
        &self,
        section: Section,
        id: &str,
        yaml: Option<String>,
    ) -> Result<(), Vec<String>> {
        if let Some(errors) = self.console_errors.lock().unwrap().take() {
            return Err(errors);
        }
        let mut objects = self.console_objects.lock().unwrap();
        let at = objects.iter().position(|o| o.section == section && o.id == id);
        match (at, yaml) {
            (Some(i), Some(yaml)) => objects[i].yaml = yaml,
            (None, Some(yaml)) => objects.push(ConsoleObject { section, id: id.to_owned(), yaml }),
            (Some(i), None) => {
                objects.remove(i);
            }
            (None, None) => {}
        }
        Ok(())
    }

    async fn set_component_order(&self, order: Vec<String>) -> Result<(), String> {
        let mut catalog = (*self.catalog()).clone();
        catalog.order_components(&order);
        *self.catalog.lock().unwrap() = Arc::new(catalog);
        Ok(())
    }

    async fn run_now(&self, monitor: &MonitorId) -> Option<CheckResult> {
        self.runs.lock().unwrap().push(monitor.clone());
        if let Some(result) = self.run_results.lock().unwrap().get(monitor) {
            return Some(result.clone());
        }
        self.catalog().monitors.iter().any(|m| &m.id == monitor).then(|| CheckResult {
            monitor: monitor.clone(),
            region: "local".to_owned(),
            at: super::now(),
            ok: true,
            degraded: false,
            inconclusive: false,
            duration_ms: 42,
            phases: Default::default(),
            status: Some(200),
            ip: None,
            error: None,
            conditions: vec![],
            values: Default::default(),
        })
    }

    fn render_metrics(&self) -> String {
        "# TYPE belfry_checks_total counter\nbelfry_checks_total 42\n".to_owned()
    }
}

/// A clock that stands still until a test moves it.
pub struct FakeClock(pub Mutex<Timestamp>);

impl FakeClock {
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap() = at;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// The in-memory `AlertStore`, like the real one: all or nothing per routing step, every save
/// of an alert one version on, a delivery whose idempotency key is queued already skipped.
#[async_trait]
impl belfry_core::store::AlertStore for FakeStore {
    async fn route(
        &self,
        opened: &[belfry_core::alert::Alert],
        changed: &[belfry_core::alert::Alert],
        deliveries: &[belfry_core::alert::Delivery],
        cursor: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        use belfry_core::alert::Alert;
        self.check()?;
        let mut alerts = self.alerts.lock().unwrap();
        let mut next = alerts.clone();
        for a in opened {
            if next.contains_key(&a.id) {
                return Err(StoreError::Conflict(format!("alert {:?} already exists", a.id)));
            }
            next.insert(a.id.clone(), Alert { version: a.version + 1, ..a.clone() });
        }
        for a in changed {
            if next.get(&a.id).is_none_or(|stored| stored.version != a.version) {
                let what = format!("alert {:?} is missing or not at version {}", a.id, a.version);
                return Err(StoreError::Conflict(what));
            }
            next.insert(a.id.clone(), Alert { version: a.version + 1, ..a.clone() });
        }
        *alerts = next;
        let mut queued = self.deliveries.lock().unwrap();
        for d in deliveries {
            if !queued.iter().any(|q| q.idempotency_key == d.idempotency_key) {
                queued.push(d.clone());
            }
        }
        if let Some((name, value)) = cursor {
            self.cursors.lock().unwrap().insert(name.to_owned(), value.to_owned());
        }
        Ok(())
    }

    async fn alert(&self, id: &str) -> Result<Option<belfry_core::alert::Alert>, StoreError> {
        self.check()?;
        Ok(self.alerts.lock().unwrap().get(id).cloned())
    }

    async fn unresolved_alerts(&self) -> Result<Vec<belfry_core::alert::Alert>, StoreError> {
        self.check()?;
        let alerts = self.alerts.lock().unwrap();
        let mut out: Vec<_> = alerts.values().filter(|a| a.resolved_at.is_none()).cloned().collect();
        out.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
        Ok(out)
    }

    async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<belfry_core::alert::Delivery>, StoreError> {
        self.check()?;
        let mut out: Vec<_> = self
            .deliveries
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.status == belfry_core::alert::DeliveryStatus::Pending && d.next_attempt_at <= now)
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        out.truncate(list_limit(limit));
        Ok(out)
    }

    async fn save_delivery(&self, delivery: &belfry_core::alert::Delivery) -> Result<(), StoreError> {
        self.check()?;
        let mut queued = self.deliveries.lock().unwrap();
        let stored = queued
            .iter_mut()
            .find(|d| d.id == delivery.id)
            .ok_or_else(|| StoreError::Conflict(format!("delivery {:?} is missing", delivery.id)))?;
        *stored = delivery.clone();
        Ok(())
    }

    async fn deliveries(
        &self,
        status: Option<belfry_core::alert::DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<belfry_core::alert::Delivery>, StoreError> {
        self.check()?;
        let mut out: Vec<_> = self
            .deliveries
            .lock()
            .unwrap()
            .iter()
            .filter(|d| status.is_none_or(|s| d.status == s))
            .cloned()
            .collect();
        out.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        out.truncate(list_limit(limit));
        Ok(out)
    }
}

/// A list's length as the stores cut it: 0 means 50, at most 1000.
fn list_limit(limit: u32) -> usize {
    if limit == 0 { 50 } else { limit.min(1000) as usize }
}

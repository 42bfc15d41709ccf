//! The engine: schedules checks, feeds results through the decision policy, and writes each
//! step's results, transitions and policy memory to the store in one batch.
//!
//! Two ways to drive it: [`Engine::run`] (real time, spawned tasks, a writer flushing every
//! 100 ms) and [`Engine::tick`] (tests: run whatever is due at `now` to completion, then flush).

mod guard;
mod heartbeat;
pub mod metrics;
mod ownership;
mod probes;
mod regional;
mod schedule;
mod slot;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use belfry_core::runtime::PushError;
use belfry_core::store::Batch;
use belfry_core::{
    Catalog, CheckResult, CheckSpec, Clock, LiveState, MonitorId, MonitorSpec, Observation, Store,
    StoreError, Transition,
};
use jiff::Timestamp;
use tokio::sync::{Notify, Semaphore, broadcast, mpsc};

pub use heartbeat::human as human_duration;
pub use schedule::{next_slot, phase_offset};

use crate::check::Checkers;
use guard::Guard;
use schedule::LagWindow;
use slot::Slot;

/// Results held in memory at most while the store cannot be written; older ones are dropped
/// (and counted), transitions never are.
const MAX_BUFFERED_RESULTS: usize = 200_000;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Region name recorded on results (`local` for the server itself).
    pub region: String,
    /// Checks running at once, at most.
    pub concurrency: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { region: "local".to_owned(), concurrency: 1024 }
    }
}

pub struct Engine {
    config: EngineConfig,
    checkers: Checkers,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
    limit: Arc<Semaphore>,
    guard: Arc<Guard>,
    results_tx: mpsc::UnboundedSender<CheckResult>,
    results_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<CheckResult>>,
    /// What could not be written yet (store down); written first on the next flush.
    unwritten: tokio::sync::Mutex<Batch>,
    events: broadcast::Sender<Transition>,
    lag: Arc<Mutex<LagWindow>>,
    running: AtomicBool,
    /// Signalled whenever checks finish and their monitors become idle (for `run_now`).
    idle: Notify,
    /// Remote probes' last reports (see [`probes`]).
    probes: Mutex<probes::Registry>,
}

struct Inner {
    catalog: Arc<Catalog>,
    slots: HashMap<MonitorId, Slot>,
    /// Transitions decided outside results (pause, resume), written with the next flush.
    forced: Vec<Transition>,
    /// The monitors this node runs when several share the work; `None`: all of them.
    owned: Option<Arc<std::collections::HashSet<MonitorId>>>,
}

/// One check to run now.
struct Job {
    spec: Arc<MonitorSpec>,
    due: Timestamp,
    /// The catalog in force when it was taken (for the connectivity guard), without locking
    /// the engine again on the check's path.
    catalog: Arc<Catalog>,
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        catalog: Arc<Catalog>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        checkers: Checkers,
    ) -> Arc<Self> {
        let (results_tx, results_rx) = mpsc::unbounded_channel();
        let limit = Arc::new(Semaphore::new(config.concurrency.max(1)));
        let engine = Arc::new(Self {
            config,
            checkers,
            store,
            clock,
            inner: Mutex::new(Inner {
                catalog: Arc::new(Catalog::default()),
                slots: HashMap::new(),
                forced: vec![],
                owned: None,
            }),
            limit,
            guard: Arc::default(),
            results_tx,
            results_rx: tokio::sync::Mutex::new(results_rx),
            unwritten: tokio::sync::Mutex::new(Batch::default()),
            events: broadcast::channel(1024).0,
            lag: Arc::default(),
            running: AtomicBool::new(false),
            idle: Notify::new(),
            probes: Mutex::default(),
        });
        engine.apply(catalog);
        engine
    }

    /// Restores each monitor's persisted policy memory (call once, before running).
    pub async fn resume(&self) -> Result<(), StoreError> {
        let persisted = self.store.policy_states().await?;
        let mut inner = self.lock();
        for (id, state) in persisted {
            if let Some(slot) = inner.slots.get_mut(&id)
                && !slot.spec.paused
            {
                slot.policy = state;
            }
        }
        Ok(())
    }

    /// Puts a new catalog in force: new monitors start, removed ones stop, changed ones keep
    /// their state (and their phase, unless the interval changed).
    pub fn apply(&self, catalog: Arc<Catalog>) {
        let now = self.clock.now();
        let mut inner = self.lock();
        let mut slots = std::mem::take(&mut inner.slots);
        let mut forced = vec![];
        for spec in &catalog.monitors {
            let spec = spec.clone();
            let slot = match slots.remove(&spec.id) {
                Some(mut slot) => {
                    forced.extend(slot.respec(spec, now));
                    slot
                }
                None => {
                    let mut slot = Slot::new(spec, now);
                    forced.extend(slot.apply_pause(now));
                    slot
                }
            };
            inner.slots.insert(slot.spec.id.clone(), slot);
        }
        inner.catalog = catalog;
        let forced = ownership::only_owned(&inner.owned, forced);
        inner.forced.extend(forced);
    }

    /// Puts exactly the keys of `held` in `maintenance` (their outages are not decided while a
    /// window is open) and releases the others. The value says whether the windows holding the
    /// monitor count its failing time as downtime; a monitor already held whose flag changes
    /// gets a `maintenance` → `maintenance` transition carrying the new one. The transitions are
    /// written with the next flush.
    pub fn set_maintenance(&self, held: &HashMap<MonitorId, bool>) {
        let now = self.clock.now();
        let mut inner = self.lock();
        let mut forced = vec![];
        for slot in inner.slots.values_mut() {
            forced.extend(slot.set_maintenance(held.get(&slot.spec.id).copied(), now));
        }
        let forced = ownership::only_owned(&inner.owned, forced);
        inner.forced.extend(forced);
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.lock().catalog.clone()
    }

    pub fn states(&self) -> Vec<LiveState> {
        let inner = self.lock();
        let mut states: Vec<LiveState> =
            inner.slots.values().map(|s| LiveState::of(s.spec.id.clone(), &s.policy)).collect();
        states.sort_by(|a, b| a.monitor.cmp(&b.monitor));
        states
    }

    /// Every transition as it is decided (after it is written).
    pub fn subscribe(&self) -> broadcast::Receiver<Transition> {
        self.events.subscribe()
    }

    /// Transitions decided but not written yet (the store is unavailable), oldest first; the
    /// alert dispatcher pages from these directly while it cannot read the store.
    pub async fn unwritten_transitions(&self) -> Vec<Transition> {
        self.unwritten.lock().await.transitions.clone()
    }

    /// p99 of recent schedule lag.
    pub fn schedule_lag(&self) -> Duration {
        Duration::from_millis(self.lag.lock().unwrap_or_else(|e| e.into_inner()).quantile(0.99))
    }

    /// Schedule lag quantile `q` in milliseconds over the recent window.
    pub fn schedule_lag_quantile_ms(&self, q: f64) -> u64 {
        self.lag.lock().unwrap_or_else(|e| e.into_inner()).quantile(q)
    }

    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// A heartbeat ping; the resulting check result is written with the next flush.
    pub fn push(&self, token: &str, down: Option<String>) -> Result<MonitorId, PushError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let slot = inner
            .slots
            .values_mut()
            .find(|s| s.heartbeat_token() == Some(token))
            .ok_or(PushError::UnknownToken)?;
        if slot.spec.paused {
            return Err(PushError::Paused);
        }
        let result = slot.ping(&self.config.region, now, down);
        let id = slot.spec.id.clone();
        // Another node runs it: the ping is remembered (for when this node takes it over) and
        // judged there.
        let owned = ownership::owns(&inner.owned, &id);
        drop(inner);
        if owned {
            let _ = self.results_tx.send(result);
        }
        Ok(id)
    }

    /// Runs a monitor's check once, now, outside its schedule; the result is shown, not judged
    /// by the policy. `None` for an unknown monitor or a heartbeat (it has nothing to run).
    ///
    /// A monitor is never checked twice at once: while its scheduled check is in flight this
    /// waits for it to finish, and the scheduler skips the monitor while this one runs.
    pub async fn run_now(&self, id: &MonitorId) -> Option<CheckResult> {
        let job = loop {
            // Registered before looking, so a check finishing in between is not missed.
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            {
                let mut inner = self.lock();
                let catalog = inner.catalog.clone();
                let slot = inner.slots.get_mut(id)?;
                if matches!(slot.spec.check, CheckSpec::Heartbeat(_)) {
                    return None;
                }
                if !slot.running {
                    slot.running = true;
                    break Job { spec: slot.spec.clone(), due: self.clock.now(), catalog };
                }
            }
            idle.await;
        };
        // Clears `running` however this ends (also when the caller gives up and drops it).
        let _running = RunningMark { engine: self, id };
        Some(self.check(job).await)
    }

    /// Runs every check due at `now` to completion and flushes: the deterministic step tests use.
    pub async fn tick(&self, now: Timestamp) -> Result<Vec<Transition>, StoreError> {
        let jobs = self.take_due(now);
        let mut set = tokio::task::JoinSet::new();
        for job in jobs {
            let fut = self.check(job);
            set.spawn(fut);
        }
        // A check that panics still yields a (failed) result: see `check`.
        while let Some(done) = set.join_next().await {
            if let Ok(result) = done {
                let _ = self.results_tx.send(result);
            }
        }
        self.flush().await
    }

    /// Observes every queued result, writes one batch (with anything left unwritten before), and
    /// publishes the transitions once they are durable.
    pub async fn flush(&self) -> Result<Vec<Transition>, StoreError> {
        let mut results = Vec::new();
        {
            let mut rx = self.results_rx.lock().await;
            while let Ok(r) = rx.try_recv() {
                results.push(r);
            }
        }
        let fresh = self.observe(results);
        let mut unwritten = self.unwritten.lock().await;
        merge(&mut unwritten, fresh);
        if unwritten.is_empty() {
            return Ok(vec![]);
        }
        match self.store.write(&unwritten).await {
            Ok(()) => {
                let done = std::mem::take(&mut *unwritten);
                ::metrics::gauge!(metrics::WRITE_BUFFER_RESULTS).set(0.0);
                for t in &done.transitions {
                    let _ = self.events.send(t.clone());
                }
                Ok(done.transitions)
            }
            Err(e) => {
                ::metrics::counter!(metrics::STORE_WRITE_ERRORS_TOTAL).increment(1);
                let overflow = unwritten.results.len().saturating_sub(MAX_BUFFERED_RESULTS);
                if overflow > 0 {
                    unwritten.results.drain(..overflow);
                    ::metrics::counter!(metrics::RESULTS_DROPPED_TOTAL).increment(overflow as u64);
                }
                ::metrics::gauge!(metrics::WRITE_BUFFER_RESULTS).set(unwritten.results.len() as f64);
                Err(e)
            }
        }
    }

    /// Runs in real time until `shutdown` completes, then flushes what is left.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()> + Send) {
        self.running.store(true, Ordering::Relaxed);
        let writer = {
            let engine = self.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if let Err(e) = engine.flush().await {
                        tracing::error!(error = %e, "writing check results failed; keeping them in memory to retry");
                    }
                }
            })
        };
        tokio::pin!(shutdown);
        loop {
            let now = self.clock.now();
            for job in self.take_due(now) {
                let fut = self.check(job);
                let tx = self.results_tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(fut.await);
                });
            }
            let wait = self.until_next_due(self.clock.now()).min(Duration::from_millis(100));
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.running.store(false, Ordering::Relaxed);
        writer.abort();
        if let Err(e) = self.flush().await {
            tracing::error!(error = %e, "final flush of check results failed");
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks every due, idle monitor as running and returns its job. Heartbeat expiry is
    /// evaluated right here (it needs no I/O) and queued as a result.
    fn take_due(&self, now: Timestamp) -> Vec<Job> {
        let mut inner = self.lock();
        let catalog = inner.catalog.clone();
        let owned = inner.owned.clone();
        let mut jobs = vec![];
        for slot in inner.slots.values_mut() {
            if slot.spec.paused
                || slot.running
                || slot.next_due > now
                || !ownership::owns(&owned, &slot.spec.id)
            {
                continue;
            }
            let due = slot.next_due;
            slot.next_due = schedule::following_slot(slot.spec.id.as_str(), slot.spec.interval, due, now);
            if let CheckSpec::Heartbeat(_) = slot.spec.check {
                let result = slot.heartbeat_expiry(&self.config.region, now);
                let _ = self.results_tx.send(result);
                continue;
            }
            slot.running = true;
            jobs.push(Job { spec: slot.spec.clone(), due, catalog: catalog.clone() });
        }
        jobs
    }

    fn until_next_due(&self, now: Timestamp) -> Duration {
        let inner = self.lock();
        inner
            .slots
            .values()
            .filter(|s| !s.spec.paused && !s.running && ownership::owns(&inner.owned, &s.spec.id))
            .map(|s| s.next_due.duration_since(now).try_into().unwrap_or(Duration::ZERO))
            .min()
            .unwrap_or(Duration::from_secs(1))
    }

    /// One check, as a `'static` future so it can be spawned. It always yields a result: a
    /// check that panics becomes a failed one (so its monitor is not left `running` forever).
    fn check(&self, job: Job) -> impl Future<Output = CheckResult> + Send + 'static + use<> {
        let id = job.spec.id.clone();
        contained(self.attempt(job), id, self.config.region.clone(), self.clock.clone())
    }

    fn attempt(&self, job: Job) -> impl Future<Output = CheckResult> + Send + 'static + use<> {
        let limit = self.limit.clone();
        let checkers = self.checkers.clone();
        let clock = self.clock.clone();
        let region = self.config.region.clone();
        let guard = self.guard.clone();
        let lag = self.lag.clone();
        async move {
            let _permit = limit.acquire_owned().await.ok();
            let _in_flight = InFlight::start();
            let started = clock.now();
            let lag_ms = started.duration_since(job.due).as_millis().max(0) as u64;
            lag.lock().unwrap_or_else(|e| e.into_inner()).record(lag_ms);
            ::metrics::histogram!(metrics::SCHEDULE_LAG_SECONDS).record(lag_ms as f64 / 1000.0);
            let spec = &job.spec;
            let obs = checkers.run(&spec.check, spec.timeout).await;
            let mut result = CheckResult::judge(
                spec.id.clone(),
                &region,
                started,
                &obs,
                &spec.conditions,
                &spec.degraded_when,
            );
            if !result.ok
                && let Some(g) = &job.catalog.connectivity
                && !guard.connected(g, clock.now()).await
            {
                result.inconclusive = true;
            }
            let id = spec.id.to_string();
            let outcome = if result.inconclusive {
                "inconclusive"
            } else if result.ok {
                "ok"
            } else {
                "fail"
            };
            ::metrics::counter!(metrics::CHECKS_TOTAL, "monitor" => id, "result" => outcome).increment(1);
            // Per check kind, not per monitor: 20,000 monitors × 13 histogram series would make
            // every scrape tens of megabytes; per-monitor latency is in the API and rollups.
            ::metrics::histogram!(metrics::CHECK_DURATION_SECONDS, "kind" => spec.check.kind().as_str())
                .record(result.duration_ms as f64 / 1000.0);
            ::metrics::gauge!(metrics::CHECK_LAST_DURATION_SECONDS, "monitor" => spec.id.to_string())
                .set(result.duration_ms as f64 / 1000.0);
            result
        }
    }
}

impl Engine {
    /// Runs results through their monitors' policies, in arrival order.
    fn observe(&self, results: Vec<CheckResult>) -> Batch {
        let mut inner = self.lock();
        let now = self.clock.now();
        let mut batch = Batch { transitions: std::mem::take(&mut inner.forced), ..Batch::default() };
        let mut changed: Vec<MonitorId> = batch.transitions.iter().map(|t| t.monitor.clone()).collect();
        let mut idle = false;
        for result in results {
            if let Some(slot) = inner.slots.get_mut(&result.monitor) {
                // A remote probe's result says nothing about the engine's own check in flight.
                let own = result.region == self.config.region;
                if own && !matches!(slot.spec.check, CheckSpec::Heartbeat(_)) {
                    slot.running = false;
                    idle = true;
                }
                if let Some(t) = slot.observe(&result, now) {
                    tracing::info!(monitor.id = %t.monitor, from = %t.from, to = %t.to, reason = t.reason.as_deref().unwrap_or(""), "monitor state changed");
                    // `maintenance` → `maintenance` (what the holding windows count changed) is
                    // no change of state.
                    if t.from != t.to {
                        ::metrics::counter!(metrics::TRANSITIONS_TOTAL, "to" => t.to.as_str()).increment(1);
                    }
                    batch.transitions.push(t);
                }
                let up = if slot.policy.state == belfry_core::MonitorState::Down { 0.0 } else { 1.0 };
                ::metrics::gauge!(metrics::MONITOR_UP, "monitor" => result.monitor.to_string()).set(up);
                if slot.dirty {
                    changed.push(result.monitor.clone());
                }
            }
            batch.results.push(result);
        }
        changed.sort();
        changed.dedup();
        for id in changed {
            if let Some(slot) = inner.slots.get_mut(&id) {
                slot.dirty = false;
                batch.states.push((id, slot.policy.clone()));
            }
        }
        drop(inner);
        if idle {
            self.idle.notify_waiters();
        }
        batch
    }
}

/// Appends `fresh` to what is waiting to be written; a monitor's newer policy state replaces its older.
fn merge(into: &mut Batch, fresh: Batch) {
    into.results.extend(fresh.results);
    into.transitions.extend(fresh.transitions);
    if !fresh.states.is_empty() {
        let newer: std::collections::HashSet<&MonitorId> = fresh.states.iter().map(|(id, _)| id).collect();
        into.states.retain(|(id, _)| !newer.contains(id));
        into.states.extend(fresh.states);
    }
}

/// Clears a monitor's `running` mark when a "run now" check ends, however it ends.
struct RunningMark<'a> {
    engine: &'a Engine,
    id: &'a MonitorId,
}

impl Drop for RunningMark<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.engine.lock().slots.get_mut(self.id) {
            slot.running = false;
        }
        self.engine.idle.notify_waiters();
    }
}

/// Counts one check in [`metrics::CHECKS_IN_FLIGHT`] while it lives.
struct InFlight;

impl InFlight {
    fn start() -> Self {
        ::metrics::gauge!(metrics::CHECKS_IN_FLIGHT).increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        ::metrics::gauge!(metrics::CHECKS_IN_FLIGHT).decrement(1.0);
    }
}

/// Runs a check's `attempt` (see [`Engine::check`]) so that it always yields a result: one
/// that panics becomes a failed result of `monitor` in `region`, at `clock`'s time of the crash,
/// and is logged and counted as a failed check.
async fn contained(
    attempt: impl Future<Output = CheckResult>,
    monitor: MonitorId,
    region: String,
    clock: Arc<dyn Clock>,
) -> CheckResult {
    // `attempt` owns everything it touches, and a panic discards it whole.
    match futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(attempt)).await {
        Ok(result) => result,
        Err(payload) => {
            let panic = panic_message(payload.as_ref());
            tracing::error!(monitor.id = %monitor, panic = %panic, "a check panicked; recorded as failed");
            ::metrics::counter!(metrics::CHECKS_TOTAL, "monitor" => monitor.to_string(), "result" => "fail")
                .increment(1);
            crashed(monitor, &region, clock.now(), &panic)
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// The failed result of a check that panicked.
fn crashed(monitor: MonitorId, region: &str, at: Timestamp, panic: &str) -> CheckResult {
    let obs = Observation { error: Some(format!("the check crashed: {panic}")), ..Observation::default() };
    CheckResult::judge(monitor, region, at, &obs, &[], &[])
}

#[cfg(test)]
mod tests;

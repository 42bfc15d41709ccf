//! Incident automation: follows the durable transitions (with a stored cursor, so a restart
//! neither loses nor repeats one) and opens, updates and resolves automatic incidents by the
//! rules in `belfry_core::incident::auto`. Every transition is also written on the timeline of
//! each other open incident about the monitor (one a person opened on its component).
//! A transition whose writes landed but whose cursor did not is handled again without writing
//! anything twice: the entry already on a timeline says it was done. Timelines are read for
//! that only when it can have happened (see [`Finished`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use belfry_core::incident::Incident;
use belfry_core::incident::auto::{self, AutoIncident, AutoStep};
use belfry_core::store::{IncidentFilter, IncidentStore, Storage, TransitionCursor};
use belfry_core::{MonitorId, MonitorSpec, Runtime, StoreError, Transition};
use belfry_probe::Engine;
use jiff::Timestamp;

/// The store cursor of the transitions this worker has handled.
pub const CURSOR: &str = "incident_automation";
/// Saves retried when someone else changed the incident at the same moment.
const CONFLICT_RETRIES: usize = 3;

pub struct Automation {
    storage: Arc<dyn Storage>,
    engine: Arc<Engine>,
    /// Where monitor states are read when several nodes share the work (every node's
    /// monitors, not only this engine's).
    runtime: Option<Arc<dyn Runtime>>,
    finished: Finished,
}

impl Automation {
    pub fn new(storage: Arc<dyn Storage>, engine: Arc<Engine>) -> Self {
        Self { storage, engine, runtime: None, finished: Finished::default() }
    }

    /// Reads monitor states from `runtime` rather than from the engine alone.
    pub fn with_states_of(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Forgets where this worker's last step left the cursor, so the next step reads timelines
    /// before writing its first transition. Called while this node does not hold the desk:
    /// another node may then write a transition and fail before moving the cursor, leaving it
    /// where this worker's mark says nothing can be written.
    pub fn forget_progress(&self) {
        self.finished.forget();
    }

    /// Handles every transition recorded since the last step, then resolves automatic
    /// incidents whose monitor has been up long enough. Returns how many transitions it handled
    /// plus how many incidents it resolved (0: nothing changed).
    pub async fn step(&self, now: Timestamp) -> Result<usize, StoreError> {
        let stored = self.storage.cursor(CURSOR).await?;
        let maybe_written = self.finished.maybe_written(stored.as_deref());
        let Some(cursor) = stored.as_deref().and_then(TransitionCursor::decode) else {
            // First start: history before now is not turned into incidents.
            let start = TransitionCursor::at(now).encode();
            self.storage.set_cursor(CURSOR, &start).await?;
            self.finished.at(start);
            return Ok(0);
        };
        let mut left = stored.unwrap_or_default();
        let pending = cursor.pending(self.storage.as_ref()).await?;
        // Read once per step and kept current as the rules save, so a mass outage does not read
        // every open incident again for each of its transitions.
        let mut open = Open::load(self.storage.as_ref()).await?;
        let catalog = self.engine.catalog();
        for (n, t) in pending.iter().enumerate() {
            left = TransitionCursor::of(t).encode();
            // `maintenance` → `maintenance`: only what the holding windows count changed.
            if t.from == t.to {
                self.storage.set_cursor(CURSOR, &left).await?;
                continue;
            }
            let spec = catalog.monitor(t.monitor.as_str());
            let component = spec.and_then(|s| s.component.as_ref());
            // The incident store has no write that also moves the cursor, so a step that failed
            // between its writes and the cursor may have written this transition already. Only
            // the first one after the cursor (a step stops at its first failure), and only when
            // the last step did not finish here (see `Finished`).
            let recorded = if n == 0 && maybe_written {
                self.recorded(t, &open, component).await?
            } else {
                HashSet::new()
            };
            let written = match spec.and_then(|s| Some((s, s.incident?))) {
                Some((spec, policy)) => self.on_transition(&policy, spec, t, &mut open, &recorded).await?,
                None => None,
            };
            self.record_elsewhere(t, component, &open, written.as_deref(), &recorded).await?;
            self.storage.set_cursor(CURSOR, &left).await?;
        }
        self.finished.at(left);
        let resolved = self.resolve_quiet(now, open.incidents).await?;
        Ok(pending.len() + resolved)
    }

    /// The open incidents about `t`'s monitor whose timeline has `t` already.
    async fn recorded(
        &self,
        t: &Transition,
        open: &Open,
        component: Option<&MonitorId>,
    ) -> Result<HashSet<String>, StoreError> {
        let mut recorded = HashSet::new();
        for incident in open.about(&t.monitor, component) {
            if self.storage.timeline(&incident.id).await?.iter().any(|e| auto::records(e, t)) {
                recorded.insert(incident.id.clone());
            }
        }
        Ok(recorded)
    }

    /// Applies the automatic-incident rules; returns the incident whose timeline got the
    /// transition (now or in an earlier, interrupted step: `recorded`), if any.
    async fn on_transition(
        &self,
        policy: &AutoIncident,
        spec: &MonitorSpec,
        t: &Transition,
        open: &mut Open,
        recorded: &HashSet<String>,
    ) -> Result<Option<String>, StoreError> {
        for _ in 0..CONFLICT_RETRIES {
            let current = open.automatic(self.storage.as_ref(), &spec.id).await?;
            if let Some(done) = current.as_ref().filter(|i| recorded.contains(&i.id)) {
                return Ok(Some(done.id.clone()));
            }
            let version = current.as_ref().map_or(0, |i| i.version);
            let (incident, timeline, expected) = match auto::on_transition(
                policy,
                spec,
                t,
                current,
                &mut crate::ids::new_id,
            ) {
                AutoStep::Open(incident, timeline) => {
                    tracing::info!(incident.id = %incident.id, monitor.id = %spec.id, "automatic incident opened");
                    (incident, timeline, 0)
                }
                AutoStep::Save(incident, timeline) => (incident, timeline, version),
                AutoStep::Nothing => return Ok(None),
            };
            match self.storage.save_incident(&incident, expected, &timeline).await {
                Ok(stored) => {
                    let id = incident.id.clone();
                    open.keep(Incident { version: stored, ..incident });
                    return Ok(Some(id));
                }
                // Changed by a person since the step read it: read it again.
                Err(StoreError::Conflict(_)) => {
                    let fresh = self.storage.incident(&incident.id).await?;
                    open.replace(&incident.id, fresh);
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(format!("automatic incident of {} kept changing", spec.id)))
    }

    /// Writes the transition on every open incident about its monitor (see
    /// [`auto::is_about`]) but `done`, the one the automatic rules already wrote it on, and
    /// those that have it already (`recorded`).
    async fn record_elsewhere(
        &self,
        t: &Transition,
        component: Option<&MonitorId>,
        open: &Open,
        done: Option<&str>,
        recorded: &HashSet<String>,
    ) -> Result<(), StoreError> {
        let entries: Vec<_> = open
            .about(&t.monitor, component)
            .filter(|i| Some(i.id.as_str()) != done && !recorded.contains(&i.id))
            .map(|i| auto::transition_entry(&i.id, t))
            .collect();
        if entries.is_empty() { Ok(()) } else { self.storage.append_timeline(&entries).await }
    }

    async fn resolve_quiet(&self, now: Timestamp, open: Vec<Incident>) -> Result<usize, StoreError> {
        if open.iter().all(|i| i.auto.is_none()) {
            return Ok(0);
        }
        let mut resolved = 0;
        let catalog = self.engine.catalog();
        let states = match &self.runtime {
            Some(runtime) => runtime.states(),
            None => self.engine.states(),
        };
        for mut incident in open {
            let Some(source) = incident.auto.clone() else { continue };
            let Some(spec) = catalog.monitor(source.monitor.as_str()) else { continue };
            let Some(policy) = spec.incident else { continue };
            let Some(live) = states.iter().find(|s| s.monitor == source.monitor) else { continue };
            let version = incident.version;
            if let Some(timeline) = auto::on_tick(
                &policy,
                spec,
                &mut incident,
                live.state,
                live.since,
                now,
                &mut crate::ids::new_id,
            ) {
                match self.storage.save_incident(&incident, version, &timeline).await {
                    // Changed by a person meanwhile: look again on the next step.
                    Err(StoreError::Conflict(_)) => {}
                    other => {
                        other?;
                        resolved += 1;
                        tracing::info!(incident.id = %incident.id, "automatic incident resolved");
                    }
                }
            }
        }
        Ok(resolved)
    }
}

/// Where this worker's last step left the cursor, if that step handled all its transitions:
/// then a step starting there finds nothing of its first transition written, and need not read
/// timelines to know. Any other start may follow a step that stopped between its writes and the
/// cursor: the first step after process start, one after a step that failed or was dropped
/// (each step forgets the mark until it finishes), one after another node held the desk (it may
/// have stopped so, leaving the cursor at the mark), or one after the cursor moved otherwise.
#[derive(Default)]
struct Finished(Mutex<Option<String>>);

impl Finished {
    /// Whether a step starting at the cursor `stored` may find its first transition written
    /// already. Forgets the mark until [`Finished::at`] says the step finished.
    fn maybe_written(&self, stored: Option<&str>) -> bool {
        let left = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        left.is_none() || left.as_deref() != stored
    }

    /// The step handled all its transitions and left the cursor at `cursor`.
    fn at(&self, cursor: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(cursor);
    }

    /// Someone else may have moved the cursor or written past it since (see
    /// [`Automation::forget_progress`]).
    fn forget(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The open incidents (drafts included) as one step knows them: read once, then kept current
/// with what the step saves.
struct Open {
    /// Newest first, as the store lists them.
    incidents: Vec<Incident>,
    /// Whether `incidents` is every open incident (the store lists at most a limit).
    complete: bool,
}

impl Open {
    async fn load(store: &dyn IncidentStore) -> Result<Self, StoreError> {
        let filter = auto::open_incidents();
        let incidents = store.incidents(&filter).await?;
        Ok(Self { complete: incidents.len() < filter.limit as usize, incidents })
    }

    /// The open incidents a monitor's facts belong on (see [`auto::is_about`]).
    fn about<'a>(
        &'a self,
        monitor: &'a MonitorId,
        component: Option<&'a MonitorId>,
    ) -> impl Iterator<Item = &'a Incident> {
        self.incidents.iter().filter(move |i| auto::is_about(i, monitor, component))
    }

    /// The monitor's automatic incident still open, if any; asked of the store only when the
    /// list stopped at its limit (hundreds of open incidents).
    async fn automatic(
        &mut self,
        store: &dyn IncidentStore,
        monitor: &MonitorId,
    ) -> Result<Option<Incident>, StoreError> {
        let of_monitor = |i: &&Incident| i.auto.as_ref().is_some_and(|a| &a.monitor == monitor);
        if let Some(known) = self.incidents.iter().find(of_monitor) {
            return Ok(Some(known.clone()));
        }
        if self.complete {
            return Ok(None);
        }
        let filter = IncidentFilter {
            unresolved_only: true,
            include_drafts: true,
            auto_monitor: Some(monitor.clone()),
            limit: 1,
            ..IncidentFilter::default()
        };
        let found = store.incidents(&filter).await?.into_iter().next();
        if let Some(incident) = &found {
            self.keep(incident.clone());
        }
        Ok(found)
    }

    /// Takes in `incident` as saved: replaces the known one, adds a new one, drops a closed one.
    fn keep(&mut self, incident: Incident) {
        let id = incident.id.clone();
        self.replace(&id, Some(incident));
    }

    /// Replaces the incident `id` with `now` (`None`: gone), keeping only open ones.
    fn replace(&mut self, id: &str, now: Option<Incident>) {
        let at = self.incidents.iter().position(|i| i.id == id);
        match (at, now.filter(Incident::is_open)) {
            (Some(at), Some(incident)) => self.incidents[at] = incident,
            (Some(at), None) => {
                self.incidents.remove(at);
            }
            (None, Some(incident)) => self.incidents.insert(0, incident),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Finished;

    #[test]
    fn timelines_are_read_unless_the_last_step_finished_where_this_one_starts() {
        let finished = Finished::default();
        assert!(finished.maybe_written(Some("c1")), "first step after process start");

        finished.at("c1".to_owned());
        assert!(!finished.maybe_written(Some("c1")), "the last step finished here");
        assert!(finished.maybe_written(Some("c1")), "that step did not finish (failed or dropped)");

        finished.at("c2".to_owned());
        assert!(finished.maybe_written(Some("c1")), "the cursor was moved since");
        finished.at("c2".to_owned());
        assert!(finished.maybe_written(None), "the cursor was removed since");

        finished.at("c3".to_owned());
        finished.forget();
        assert!(finished.maybe_written(Some("c3")), "another node held the desk since");
    }
}

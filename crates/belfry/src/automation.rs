//! Incident automation: follows the durable transitions (with a stored cursor, so a restart
//! neither loses nor repeats one) and opens, updates and resolves automatic incidents by the
//! rules in `belfry_core::incident::auto`. Every transition is also written on the timeline of
//! each other open incident about the monitor (one a person opened on its component).

use std::sync::Arc;

use belfry_core::incident::Incident;
use belfry_core::incident::auto::{self, AutoIncident, AutoStep};
use belfry_core::store::{IncidentFilter, Storage, TransitionCursor};
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
}

impl Automation {
    pub fn new(storage: Arc<dyn Storage>, engine: Arc<Engine>) -> Self {
        Self { storage, engine, runtime: None }
    }

    /// Reads monitor states from `runtime` rather than from the engine alone.
    pub fn with_states_of(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Handles every transition recorded since the last step, then resolves automatic
    /// incidents whose monitor has been up long enough. Returns how many transitions it handled
    /// plus how many incidents it resolved (0: nothing changed).
    pub async fn step(&self, now: Timestamp) -> Result<usize, StoreError> {
        let Some(cursor) = self.storage.cursor(CURSOR).await?.as_deref().and_then(TransitionCursor::decode)
        else {
            // First start: history before now is not turned into incidents.
            self.storage.set_cursor(CURSOR, &TransitionCursor::at(now).encode()).await?;
            return Ok(0);
        };
        let pending = cursor.pending(self.storage.as_ref()).await?;
        let catalog = self.engine.catalog();
        for t in &pending {
            let spec = catalog.monitor(t.monitor.as_str());
            let written = match spec.and_then(|s| Some((s, s.incident?))) {
                Some((spec, policy)) => self.on_transition(&policy, spec, t).await?,
                None => None,
            };
            let component = spec.and_then(|s| s.component.as_ref());
            self.record_elsewhere(t, component, written.as_deref()).await?;
            self.storage.set_cursor(CURSOR, &TransitionCursor::of(t).encode()).await?;
        }
        let resolved = self.resolve_quiet(now).await?;
        Ok(pending.len() + resolved)
    }

    async fn open_incident(&self, spec: &MonitorSpec) -> Result<Option<Incident>, StoreError> {
        let filter = IncidentFilter {
            unresolved_only: true,
            include_drafts: true,
            auto_monitor: Some(spec.id.clone()),
            limit: 1,
            ..IncidentFilter::default()
        };
        Ok(self.storage.incidents(&filter).await?.into_iter().next())
    }

    /// Applies the automatic-incident rules; returns the incident whose timeline got the
    /// transition, if any.
    async fn on_transition(
        &self,
        policy: &AutoIncident,
        spec: &MonitorSpec,
        t: &Transition,
    ) -> Result<Option<String>, StoreError> {
        for _ in 0..CONFLICT_RETRIES {
            let open = self.open_incident(spec).await?;
            let version = open.as_ref().map_or(0, |i| i.version);
            let (saved, id) = match auto::on_transition(policy, spec, t, open, &mut crate::ids::new_id) {
                AutoStep::Open(incident, timeline) => {
                    tracing::info!(incident.id = %incident.id, monitor.id = %spec.id, "automatic incident opened");
                    (self.storage.save_incident(&incident, 0, &timeline).await, incident.id)
                }
                AutoStep::Save(incident, timeline) => {
                    (self.storage.save_incident(&incident, version, &timeline).await, incident.id)
                }
                AutoStep::Nothing => return Ok(None),
            };
            match saved {
                Err(StoreError::Conflict(_)) => continue,
                other => return other.map(|_| Some(id)),
            }
        }
        Err(StoreError::Conflict(format!("automatic incident of {} kept changing", spec.id)))
    }

    /// Writes the transition on every open incident about its monitor (see
    /// [`auto::is_about`]) but `done`, the one the automatic rules already wrote it on.
    async fn record_elsewhere(
        &self,
        t: &Transition,
        component: Option<&MonitorId>,
        done: Option<&str>,
    ) -> Result<(), StoreError> {
        let entries: Vec<_> = auto::incidents_about(self.storage.as_ref(), &t.monitor, component)
            .await?
            .iter()
            .filter(|i| Some(i.id.as_str()) != done)
            .map(|i| auto::transition_entry(&i.id, t))
            .collect();
        if entries.is_empty() { Ok(()) } else { self.storage.append_timeline(&entries).await }
    }

    async fn resolve_quiet(&self, now: Timestamp) -> Result<usize, StoreError> {
        let filter = IncidentFilter {
            unresolved_only: true,
            include_drafts: true,
            limit: 1000,
            ..IncidentFilter::default()
        };
        let open = self.storage.incidents(&filter).await?;
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

//! Several nodes sharing the monitors: the engine runs only the monitors it owns. Every node
//! keeps every monitor's slot (so a reload, a ping or a maintenance window reaches all of
//! them), but only an owned monitor is scheduled and has its forced transitions written.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use belfry_core::{MonitorId, Transition};
use jiff::SignedDuration;

use super::{Engine, schedule};

/// Whether `id` is this node's to run.
pub(super) fn owns(owned: &Option<Arc<HashSet<MonitorId>>>, id: &MonitorId) -> bool {
    owned.as_ref().is_none_or(|set| set.contains(id))
}

/// The transitions of owned monitors: another node writes those of its own.
pub(super) fn only_owned(
    owned: &Option<Arc<HashSet<MonitorId>>>,
    mut forced: Vec<Transition>,
) -> Vec<Transition> {
    forced.retain(|t| owns(owned, &t.monitor));
    forced
}

impl Engine {
    /// Runs only `owned` monitors from now on (`None`: every monitor, the default). A monitor
    /// newly owned resumes from the policy memory its previous node persisted, and first runs
    /// at its next slot strictly after now: the previous node may have run the current slot,
    /// and a check never runs twice in one interval.
    pub async fn set_owned(&self, owned: Option<HashSet<MonitorId>>) {
        let owned = owned.map(Arc::new);
        let taken_over: Vec<MonitorId> = {
            let inner = self.lock();
            inner.slots.keys().filter(|id| owns(&owned, id) && !owns(&inner.owned, id)).cloned().collect()
        };
        let persisted: HashMap<MonitorId, belfry_core::PolicyState> = if taken_over.is_empty() {
            HashMap::new()
        } else {
            match self.store.policy_states().await {
                Ok(states) => states.into_iter().collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the policy memory of monitors taken over failed; they start from this node's");
                    HashMap::new()
                }
            }
        };
        let after = self.clock.now().checked_add(SignedDuration::from_millis(1)).unwrap_or(self.clock.now());
        let mut inner = self.lock();
        for id in &taken_over {
            if let Some(slot) = inner.slots.get_mut(id) {
                if !slot.spec.paused
                    && let Some(state) = persisted.get(id)
                {
                    slot.policy = state.clone();
                }
                slot.next_due = schedule::next_slot(id.as_str(), slot.spec.interval, after);
            }
        }
        inner.owned = owned;
    }

    /// Whether this node runs a monitor, as the engine stands now: one lock for the questions
    /// about every monitor (readers ask per request).
    pub fn ownership(&self) -> impl Fn(&MonitorId) -> bool + use<> {
        let owned = self.lock().owned.clone();
        move |monitor| owns(&owned, monitor)
    }

    /// Monitors with a check in flight now.
    pub fn in_flight(&self) -> HashSet<MonitorId> {
        self.lock().slots.values().filter(|s| s.running).map(|s| s.spec.id.clone()).collect()
    }
}

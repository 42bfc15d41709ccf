//! Regional monitors in the engine: each region's results go through that region's own
//! policy, and the monitor's state is the quorum over the regions' states
//! ([`belfry_core::region::combine`]). Only the monitor's state makes transitions.

use std::time::Duration;

use belfry_core::policy::failure_reason;
use belfry_core::probe::RegionView;
use belfry_core::region::{combine, stale_after};
use belfry_core::{CheckResult, MonitorSpec, MonitorState, PolicyState, Transition};
use jiff::Timestamp;

use super::schedule::next_slot;
use super::slot::Slot;

/// One region of a regional monitor.
pub(super) struct RegionSlot {
    pub policy: PolicyState,
    /// Its newest conclusive result.
    pub last: Option<CheckResult>,
}

/// When the engine first runs a monitor: on its grid, or never for a regional monitor whose
/// regions do not include `local` (remote probes run it).
pub(super) fn first_due(spec: &MonitorSpec, now: Timestamp) -> Timestamp {
    match &spec.regions {
        Some(set) if !set.runs_locally() => Timestamp::MAX,
        _ => next_slot(spec.id.as_str(), spec.interval, now),
    }
}

/// Whether a region's newest result is recent enough for it to vote at `now`.
fn fresh(region: &RegionSlot, stale: Duration, now: Timestamp) -> bool {
    region.last.as_ref().is_some_and(|r| {
        let age: Duration = now.duration_since(r.at).try_into().unwrap_or(Duration::ZERO);
        age <= stale
    })
}

/// Feeds one region's result through its region's policy, then decides the monitor's state.
/// A result of a region the monitor does not list, or an inconclusive one, changes nothing.
pub(super) fn observe(slot: &mut Slot, result: &CheckResult, now: Timestamp) -> Option<Transition> {
    let spec = slot.spec.clone();
    let set = spec.regions.as_ref()?;
    if !set.contains(&result.region) || result.inconclusive {
        return None;
    }
    // A new region starts from the monitor's state, so a resumed outage is not undone by the
    // first results of regions that were just re-created.
    let start = if slot.policy.state == MonitorState::Down { MonitorState::Down } else { MonitorState::Up };
    let region = slot
        .regions
        .entry(result.region.clone())
        .or_insert_with(|| RegionSlot { policy: PolicyState::new(start, result.at), last: None });
    if let Some(t) = region.policy.observe(&spec.policy, result, &[]) {
        tracing::debug!(monitor.id = %spec.id, region = %result.region, from = %t.from, to = %t.to, "region state changed");
    }
    region.last = Some(result.clone());

    let stale = stale_after(spec.interval, spec.timeout);
    let votes: Vec<Option<MonitorState>> = set
        .names
        .iter()
        .map(|name| slot.regions.get(name).filter(|r| fresh(r, stale, now)).map(|r| r.policy.state))
        .collect();
    let to = combine(&votes, set.quorum, slot.policy.state);
    let reason = (to == MonitorState::Down).then(|| {
        let down: Vec<&str> = set
            .names
            .iter()
            .zip(&votes)
            .filter(|(_, v)| **v == Some(MonitorState::Down))
            .map(|(n, _)| n.as_str())
            .collect();
        let why = slot
            .recent
            .iter()
            .rev()
            .find(|r| !r.ok)
            .map(|r| format!(": {}", failure_reason(r)))
            .unwrap_or_default();
        format!(
            "down in {} of {} regions ({}; quorum {}){why}",
            down.len(),
            set.names.len(),
            down.join(", "),
            set.quorum
        )
    });
    let at = result.at.max(slot.policy.since);
    slot.policy.decide(&spec.id, to, at, reason, &slot.recent)
}

/// The per-region view of a regional monitor at `now`, in config order.
pub(super) fn views(slot: &Slot, now: Timestamp) -> Vec<RegionView> {
    let Some(set) = &slot.spec.regions else { return vec![] };
    let stale = stale_after(slot.spec.interval, slot.spec.timeout);
    set.names
        .iter()
        .map(|name| match slot.regions.get(name) {
            Some(r) => RegionView {
                region: name.clone(),
                state: r.policy.state,
                stale: !fresh(r, stale, now),
                last_result: r.last.clone(),
            },
            None => {
                RegionView { region: name.clone(), state: MonitorState::Up, stale: true, last_result: None }
            }
        })
        .collect()
}

//! One monitor's place in the engine: its spec, policy memory, schedule and evidence.

use std::collections::BTreeMap;
use std::sync::Arc;

use belfry_core::{CheckResult, CheckSpec, MonitorSpec, MonitorState, PolicyState, Transition};
use jiff::Timestamp;

use super::heartbeat::{self, Ping};
use super::regional::{self, RegionSlot};

/// Results kept as evidence for the next transition, at most.
const EVIDENCE: usize = 5;

pub(super) struct Slot {
    pub spec: Arc<MonitorSpec>,
    pub policy: PolicyState,
    pub next_due: Timestamp,
    /// A check of this monitor is in flight; it is never run twice at once.
    pub running: bool,
    /// The policy memory changed in a way worth persisting.
    pub dirty: bool,
    /// Recent results while the monitor is not plainly healthy (empty when up and passing).
    pub recent: Vec<CheckResult>,
    ping: Option<Ping>,
    watching_since: Timestamp,
    /// Each region's own policy memory and newest result (monitors with `regions` only).
    pub regions: BTreeMap<String, RegionSlot>,
}

impl Slot {
    pub fn new(spec: Arc<MonitorSpec>, now: Timestamp) -> Self {
        let next_due = regional::first_due(&spec, now);
        Self {
            spec,
            policy: PolicyState::new(MonitorState::Up, now),
            next_due,
            running: false,
            dirty: false,
            recent: vec![],
            ping: None,
            watching_since: now,
            regions: BTreeMap::new(),
        }
    }

    /// Takes a changed spec on reload; returns a transition if paused/unpaused.
    pub fn respec(&mut self, spec: Arc<MonitorSpec>, now: Timestamp) -> Option<Transition> {
        let runs_locally = |s: &MonitorSpec| s.regions.as_ref().is_none_or(|r| r.runs_locally());
        if spec.interval != self.spec.interval || runs_locally(&spec) != runs_locally(&self.spec) {
            self.next_due = regional::first_due(&spec, now);
        }
        if let Some(set) = &spec.regions {
            self.regions.retain(|name, _| set.contains(name));
        } else {
            self.regions.clear();
        }
        self.spec = spec;
        self.apply_pause(now)
    }

    /// Moves in or out of `paused` to match the spec.
    pub fn apply_pause(&mut self, now: Timestamp) -> Option<Transition> {
        let to = match (self.spec.paused, self.policy.state == MonitorState::Paused) {
            (true, false) => MonitorState::Paused,
            (false, true) => MonitorState::Up,
            _ => return None,
        };
        self.dirty = true;
        self.recent.clear();
        self.regions.clear();
        if to == MonitorState::Up {
            self.watching_since = now;
        }
        self.policy.force(&self.spec.id, to, now)
    }

    /// Moves in or out of `maintenance` (`hold`: held by windows that count its failing time as
    /// downtime or not; `None`: released), or changes what the holding windows count; a paused
    /// monitor stays paused.
    pub fn set_maintenance(&mut self, hold: Option<bool>, now: Timestamp) -> Option<Transition> {
        if self.policy.state == MonitorState::Paused {
            return None;
        }
        let transition = match hold {
            Some(counts_downtime) => self.policy.hold(&self.spec.id, counts_downtime, now)?,
            None if self.policy.state == MonitorState::Maintenance => {
                self.policy.force(&self.spec.id, MonitorState::Up, now)?
            }
            None => return None,
        };
        self.dirty = true;
        self.recent = Vec::new();
        self.regions.clear();
        Some(transition)
    }

    pub fn heartbeat_token(&self) -> Option<&str> {
        match &self.spec.check {
            CheckSpec::Heartbeat(h) => Some(h.token.as_str()),
            _ => None,
        }
    }

    /// Records a ping and returns the result it makes.
    pub fn ping(&mut self, region: &str, now: Timestamp, down: Option<String>) -> CheckResult {
        let ping = Ping { at: now, down };
        let obs = heartbeat::observe_ping(&ping);
        self.ping = Some(ping);
        self.judge(region, now, &obs)
    }

    /// The periodic "is it still in time" result of a heartbeat monitor.
    pub fn heartbeat_expiry(&self, region: &str, now: Timestamp) -> CheckResult {
        let CheckSpec::Heartbeat(spec) = &self.spec.check else {
            unreachable!("heartbeat_expiry is only called for heartbeat monitors")
        };
        // Pings are not persisted: after a restart the pinger gets one full period.
        let obs = heartbeat::observe_expiry(spec, self.ping.as_ref(), self.watching_since, now);
        self.judge(region, now, &obs)
    }

    fn judge(&self, region: &str, now: Timestamp, obs: &belfry_core::Observation) -> CheckResult {
        CheckResult::judge(
            self.spec.id.clone(),
            region,
            now,
            obs,
            &self.spec.conditions,
            &self.spec.degraded_when,
        )
    }

    /// Feeds a finished result through the policy: its own, or for a regional monitor its
    /// region's and then the quorum over the regions (`now`: which regions are still fresh).
    pub fn observe(&mut self, result: &CheckResult, now: Timestamp) -> Option<Transition> {
        let was_unsettled = !self.recent.is_empty();
        // Evidence is only kept while something is going on: a healthy monitor holds none.
        if was_unsettled || !result.ok || self.policy.state != MonitorState::Up || self.policy.flapping {
            self.recent.push(result.clone());
            if self.recent.len() > EVIDENCE {
                self.recent.remove(0);
            }
        }
        let transition = if self.spec.regions.is_some() {
            regional::observe(self, result, now)
        } else {
            self.policy.observe(&self.spec.policy, result, &self.recent)
        };
        self.dirty |= transition.is_some() || !result.ok || was_unsettled;
        if result.ok && self.policy.state == MonitorState::Up && !self.policy.flapping {
            self.recent = Vec::new();
        }
        transition
    }
}

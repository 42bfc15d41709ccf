//! The decision policy (principle P3): a single failed check is only `suspected`; a monitor is
//! `down` after N failures (within a window, or consecutively) and `up` again after M successes.
//! A monitor that changes state too often is `flapping` and holds its worse state until stable.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::check::CheckResult;
use crate::monitor::MonitorId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorState {
    Up,
    /// Passing, but a `degraded_when` condition holds.
    Degraded,
    /// Failing, below the failure threshold; never public.
    Suspected,
    Down,
    Paused,
    Maintenance,
}

impl MonitorState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Suspected => "suspected",
            Self::Down => "down",
            Self::Paused => "paused",
            Self::Maintenance => "maintenance",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Up, Self::Degraded, Self::Suspected, Self::Down, Self::Paused, Self::Maintenance]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// How bad the state is as the public sees it (`suspected` shows as up).
    fn severity(self) -> u8 {
        match self {
            Self::Up | Self::Suspected | Self::Paused | Self::Maintenance => 0,
            Self::Degraded => 1,
            Self::Down => 2,
        }
    }
}

impl fmt::Display for MonitorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `failure: {threshold: N, within: W}`; without `within`, N consecutive failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailurePolicy {
    pub threshold: u32,
    pub within: Option<Duration>,
}

/// `recovery: {threshold: M}`: M consecutive successes bring a down monitor up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryPolicy {
    pub threshold: u32,
}

/// More than `changes` public state changes within `within` mark a monitor flapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlapPolicy {
    pub changes: u32,
    pub within: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub failure: FailurePolicy,
    pub recovery: RecoveryPolicy,
    pub flapping: Option<FlapPolicy>,
}

impl Policy {
    /// The default policy of a check kind. A heartbeat's deadline already includes its grace,
    /// so one missed deadline is an outage and one good ping a recovery.
    pub fn for_kind(kind: crate::check::CheckKind) -> Self {
        match kind {
            crate::check::CheckKind::Heartbeat => Self {
                failure: FailurePolicy { threshold: 1, within: None },
                recovery: RecoveryPolicy { threshold: 1 },
                ..Self::default()
            },
            _ => Self::default(),
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            failure: FailurePolicy { threshold: 3, within: None },
            recovery: RecoveryPolicy { threshold: 2 },
            flapping: Some(FlapPolicy { changes: 6, within: Duration::from_secs(3600) }),
        }
    }
}

/// A change of a monitor's state, recorded durably with the results that caused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub monitor: MonitorId,
    pub from: MonitorState,
    pub to: MonitorState,
    pub at: Timestamp,
    /// The monitor is flapping (set when this change started or continued the flapping).
    pub flapping: bool,
    /// Only on a change into `maintenance` (from another state, or `maintenance` →
    /// `maintenance` when it changes): the windows holding the monitor count the time its
    /// checks fail as downtime (`count_downtime`), until its next transition.
    #[serde(default)]
    pub counts_downtime: bool,
    /// Human words for why, e.g. the failing check's error or condition.
    pub reason: Option<String>,
    /// The recent results that led to this change, newest last.
    pub results: Vec<CheckResult>,
}

impl Transition {
    /// The event kind alert routing and incidents react to, if this change is public
    /// (`maintenance` → `maintenance`, a change of `counts_downtime` only, is not).
    pub fn event(&self) -> Option<&'static str> {
        match (self.from.severity(), self.to) {
            (_, MonitorState::Down) => Some("down"),
            (2, MonitorState::Up | MonitorState::Degraded) => Some("up"),
            (0, MonitorState::Degraded) => Some("degraded"),
            (1, MonitorState::Up) => Some("up"),
            _ => None,
        }
    }
}

/// The policy's memory for one monitor; persisted so a restart resumes where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyState {
    pub state: MonitorState,
    /// When `state` began.
    pub since: Timestamp,
    pub flapping: bool,
    /// In `maintenance`: the windows holding the monitor count its failing time as downtime.
    #[serde(default)]
    pub counts_downtime: bool,
    failures: VecDeque<Timestamp>,
    consecutive_failures: u32,
    consecutive_successes: u32,
    /// Times of recent public state changes, for flap detection.
    changes: VecDeque<Timestamp>,
    /// What the policy would say without flap damping, and since when.
    raw: MonitorState,
    raw_since: Timestamp,
}

/// How many results a transition keeps as its evidence.
const EVIDENCE: usize = 5;

impl PolicyState {
    pub fn new(state: MonitorState, since: Timestamp) -> Self {
        Self {
            state,
            since,
            flapping: false,
            counts_downtime: false,
            failures: VecDeque::new(),
            consecutive_failures: 0,
            consecutive_successes: 0,
            changes: VecDeque::new(),
            raw: state,
            raw_since: since,
        }
    }

    /// Puts the monitor in an externally decided state (`paused`, `maintenance`, or back to `up`
    /// when those end). Counters restart so an old failure cannot trip the threshold later.
    pub fn force(&mut self, monitor: &MonitorId, to: MonitorState, at: Timestamp) -> Option<Transition> {
        if self.state == to {
            return None;
        }
        let from = self.state;
        *self = Self::new(to, at);
        Some(Transition {
            monitor: monitor.clone(),
            from,
            to,
            at,
            flapping: false,
            counts_downtime: false,
            reason: None,
            results: vec![],
        })
    }

    /// Puts the monitor in `maintenance` held by windows that count its failing time as
    /// downtime or not (`counts_downtime`). Already in `maintenance` with the other flag, the
    /// change is a `maintenance` → `maintenance` transition carrying the new flag (no event,
    /// see [`Transition::event`]); the policy memory and `since` stay as they are.
    pub fn hold(&mut self, monitor: &MonitorId, counts_downtime: bool, at: Timestamp) -> Option<Transition> {
        let mut transition = if self.state == MonitorState::Maintenance {
            if self.counts_downtime == counts_downtime {
                return None;
            }
            Transition {
                monitor: monitor.clone(),
                from: MonitorState::Maintenance,
                to: MonitorState::Maintenance,
                at,
                flapping: false,
                counts_downtime: false,
                reason: None,
                results: vec![],
            }
        } else {
            self.force(monitor, MonitorState::Maintenance, at)?
        };
        self.counts_downtime = counts_downtime;
        transition.counts_downtime = counts_downtime;
        Some(transition)
    }

    /// Puts the monitor in a state decided from outside its own counting: a regional monitor's
    /// quorum over its regions' states ([`crate::region::combine`]). `paused` and
    /// `maintenance` hold; `recent` (oldest first) becomes the transition's evidence.
    pub fn decide(
        &mut self,
        monitor: &MonitorId,
        to: MonitorState,
        at: Timestamp,
        reason: Option<String>,
        recent: &[CheckResult],
    ) -> Option<Transition> {
        if to == self.state || matches!(self.state, MonitorState::Paused | MonitorState::Maintenance) {
            return None;
        }
        let from = self.state;
        self.state = to;
        self.since = at;
        self.raw = to;
        self.raw_since = at;
        let start = recent.len().saturating_sub(EVIDENCE);
        Some(Transition {
            monitor: monitor.clone(),
            from,
            to,
            at,
            flapping: false,
            counts_downtime: false,
            reason,
            results: recent[start..].to_vec(),
        })
    }

    /// Feeds one result through the policy. `recent` holds this monitor's latest results
    /// (oldest first, ending with `result`) and is copied into a transition as its evidence.
    pub fn observe(
        &mut self,
        policy: &Policy,
        result: &CheckResult,
        recent: &[CheckResult],
    ) -> Option<Transition> {
        if result.inconclusive || matches!(self.state, MonitorState::Paused | MonitorState::Maintenance) {
            return None;
        }
        let now = result.at;
        let target = self.undamped_target(policy, result);
        if target != self.raw {
            self.raw = target;
            self.raw_since = now;
        }
        let to = match policy.flapping {
            Some(flap) if self.flapping => {
                if elapsed(self.raw_since, now) >= flap.within {
                    self.flapping = false;
                    self.changes.clear();
                    target
                } else if target.severity() >= self.state.severity() {
                    target
                } else {
                    self.state
                }
            }
            _ => target,
        };
        if to == self.state {
            return None;
        }
        let from = self.state;
        if from.severity() != to.severity() {
            self.note_public_change(policy, now);
        }
        self.state = to;
        self.since = now;
        let reason = (!result.ok).then(|| failure_reason(result));
        let start = recent.len().saturating_sub(EVIDENCE);
        Some(Transition {
            monitor: result.monitor.clone(),
            from,
            to,
            at: now,
            flapping: self.flapping,
            counts_downtime: false,
            reason,
            results: recent[start..].to_vec(),
        })
    }

    fn undamped_target(&mut self, policy: &Policy, result: &CheckResult) -> MonitorState {
        let now = result.at;
        if !result.ok {
            self.consecutive_successes = 0;
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.failures.push_back(now);
            let count = match policy.failure.within {
                Some(window) => {
                    while self.failures.front().is_some_and(|&t| elapsed(t, now) > window) {
                        self.failures.pop_front();
                    }
                    self.failures.len() as u32
                }
                None => {
                    // Only the count matters without a window; keep the queue short.
                    while self.failures.len() > policy.failure.threshold as usize {
                        self.failures.pop_front();
                    }
                    self.consecutive_failures
                }
            };
            return if count >= policy.failure.threshold || self.raw == MonitorState::Down {
                MonitorState::Down
            } else {
                MonitorState::Suspected
            };
        }
        self.consecutive_failures = 0;
        self.consecutive_successes = self.consecutive_successes.saturating_add(1);
        if policy.failure.within.is_none() {
            self.failures.clear();
        }
        let healthy = if result.degraded { MonitorState::Degraded } else { MonitorState::Up };
        if self.raw != MonitorState::Down {
            return healthy;
        }
        if self.consecutive_successes >= policy.recovery.threshold {
            self.failures.clear();
            healthy
        } else {
            MonitorState::Down
        }
    }

    fn note_public_change(&mut self, policy: &Policy, now: Timestamp) {
        let Some(flap) = policy.flapping else { return };
        self.changes.push_back(now);
        while self.changes.front().is_some_and(|&t| elapsed(t, now) > flap.within) {
            self.changes.pop_front();
        }
        if self.changes.len() as u32 > flap.changes {
            self.flapping = true;
        }
    }
}

fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    let d: SignedDuration = to.duration_since(from);
    d.try_into().unwrap_or(Duration::ZERO)
}

/// The check's error, or else its failed conditions in Gatus wording.
pub fn failure_reason(result: &CheckResult) -> String {
    if let Some(error) = &result.error {
        return error.clone();
    }
    let failed: Vec<&str> = result.conditions.iter().filter(|c| !c.ok).map(|c| c.resolved.as_str()).collect();
    if failed.is_empty() { "check failed".to_owned() } else { failed.join("; ") }
}

#[cfg(test)]
mod tests;

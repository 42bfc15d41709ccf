//! Escalation: steps run in order with `after` counted from the alert's start; the ladder runs
//! `repeat` times, then optionally re-notifies the last step's channels at an interval with
//! backoff — until someone acknowledges or the problem resolves. An acknowledged alert stops
//! paging but stays unresolved until its problem resolves (the channels it paged hear that).

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Event;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationStep {
    /// Counted from the alert's start.
    pub after: Duration,
    /// Channel ids.
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    None,
    Linear,
    Exponential,
}

/// Re-notification after the ladder's rounds: every `every`, growing by `backoff`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renotify {
    pub every: Duration,
    pub backoff: Backoff,
    pub max: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub id: String,
    /// Rounds of the ladder (at least 1).
    pub repeat: u32,
    /// Ordered by `after`; at least one.
    pub steps: Vec<EscalationStep>,
    /// Length of one round; by default the last step's `after` plus the last gap between steps
    /// (10 minutes for a single step).
    pub round: Option<Duration>,
    pub renotify: Option<Renotify>,
}

const DEFAULT_ROUND: Duration = Duration::from_secs(600);

impl Escalation {
    /// The length of one round of the ladder.
    pub fn round_length(&self) -> Duration {
        if let Some(round) = self.round {
            return round.max(Duration::from_secs(1));
        }
        let n = self.steps.len();
        let last = self.steps.last().map_or(Duration::ZERO, |s| s.after);
        let gap = if n >= 2 { last.saturating_sub(self.steps[n - 2].after) } else { Duration::ZERO };
        let gap = if gap.is_zero() { DEFAULT_ROUND } else { gap };
        last + gap
    }

    /// The `n`-th scheduled notification (0-based): its offset from the alert's start, the
    /// round and step, and the channels. `None` once the schedule is exhausted.
    pub fn nth(&self, n: u32) -> Option<DueStep> {
        let per_round = self.steps.len() as u32;
        if per_round == 0 {
            return None;
        }
        let rounds = self.repeat.max(1);
        let round = n / per_round;
        if round < rounds {
            let step = (n % per_round) as usize;
            let offset = self.round_length() * round + self.steps[step].after;
            return Some(DueStep {
                index: n,
                round,
                step,
                offset,
                channels: self.steps[step].notify.clone(),
            });
        }
        let renotify = self.renotify?;
        let k = n - rounds * per_round + 1; // 1-based re-notification number
        let last = self.steps.last()?;
        let mut offset = self.round_length() * (rounds - 1) + last.after;
        let mut interval = renotify.every.max(Duration::from_secs(1));
        for j in 1..=k {
            interval = match renotify.backoff {
                Backoff::None => renotify.every,
                Backoff::Linear => renotify.every * j,
                Backoff::Exponential if j == 1 => renotify.every,
                Backoff::Exponential => interval.saturating_mul(2),
            }
            .min(renotify.max.max(renotify.every));
            offset += interval;
            if j > 10_000 {
                break; // keeps a pathological schedule finite
            }
        }
        Some(DueStep { index: n, round, step: self.steps.len() - 1, offset, channels: last.notify.clone() })
    }
}

/// A notification the schedule says is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueStep {
    /// Position in the schedule (part of each delivery's idempotency key).
    pub index: u32,
    pub round: u32,
    pub step: usize,
    /// From the alert's start.
    pub offset: Duration,
    pub channels: Vec<String>,
}

/// One escalation in progress for one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    /// What it is about (see [`Event::subject`]); a recovery of the subject resolves it.
    pub subject: String,
    pub escalation: String,
    pub event: Event,
    pub opened_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<Timestamp>,
    /// Scheduled notifications already handed to the outbox.
    pub fired: u32,
    /// When the next one is due; `None` when nothing more will be sent.
    pub next_at: Option<Timestamp>,
    #[serde(default)]
    pub version: u64,
}

impl Alert {
    /// A new alert; problems escalate, one-off notices send their first step only.
    pub fn open(id: String, escalation: &Escalation, event: Event, now: Timestamp) -> Self {
        let first = escalation.nth(0).map(|d| add(now, d.offset));
        Self {
            id,
            subject: event.subject(),
            escalation: escalation.id.clone(),
            event,
            opened_at: now,
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            fired: 0,
            next_at: first,
            version: 0,
        }
    }

    pub fn is_active(&self) -> bool {
        self.acknowledged_at.is_none() && self.resolved_at.is_none()
    }

    /// A notice (not a problem) that went out and has nothing more due, yet is still active:
    /// stored before notices resolved once sent ([`Alert::take_due`] resolves them now). The
    /// dispatcher resolves such leftovers.
    pub fn is_spent_notice(&self) -> bool {
        !self.event.kind.is_problem() && self.fired > 0 && self.next_at.is_none() && self.is_active()
    }

    /// A notice (not a problem) that will send nothing more, yet is not resolved: spent (see
    /// [`Alert::is_spent_notice`]), or acknowledged before its (delayed) step went out, which
    /// stops it for good. Nothing else would ever resolve it; the dispatcher does, silently.
    pub fn is_finished_notice(&self) -> bool {
        self.is_spent_notice()
            || (!self.event.kind.is_problem() && self.acknowledged_at.is_some() && self.resolved_at.is_none())
    }

    /// Every notification due by `now`, in order; advances the alert past them.
    pub fn take_due(&mut self, escalation: &Escalation, now: Timestamp) -> Vec<DueStep> {
        let mut due = vec![];
        while self.is_active() {
            let Some(step) = escalation.nth(self.fired) else {
                self.next_at = None;
                break;
            };
            // Notices (recoveries, incident updates) go out once: one pass of the first step.
            if !self.event.kind.is_problem() && self.fired > 0 {
                self.next_at = None;
                break;
            }
            let at = add(self.opened_at, step.offset);
            if at > now {
                self.next_at = Some(at);
                break;
            }
            self.fired += 1;
            due.push(step);
            if due.len() >= 1000 {
                break;
            }
        }
        // A notice that went out is done: it leaves the active alerts (read by every
        // escalation tick) instead of piling up there forever.
        if !self.event.kind.is_problem() && self.fired > 0 && self.is_active() {
            self.resolved_at = Some(now);
        }
        if !self.is_active() {
            self.next_at = None;
        }
        due
    }

    /// Returns false when it was already acknowledged or resolved.
    pub fn acknowledge(&mut self, by: &str, now: Timestamp) -> bool {
        if !self.is_active() {
            return false;
        }
        self.acknowledged_at = Some(now);
        self.acknowledged_by = Some(by.to_owned());
        self.next_at = None;
        true
    }

    /// Returns false when it was already resolved.
    pub fn resolve(&mut self, now: Timestamp) -> bool {
        if self.resolved_at.is_some() {
            return false;
        }
        self.resolved_at = Some(now);
        self.next_at = None;
        true
    }
}

fn add(at: Timestamp, d: Duration) -> Timestamp {
    at.checked_add(d).unwrap_or(Timestamp::MAX)
}

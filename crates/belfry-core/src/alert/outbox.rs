//! The durable outbox: one row per message to one channel, retried with backoff until sent or
//! given up (dead letters are listed on `/api/v1/deliveries`).

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Dead].into_iter().find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    /// The alert it belongs to, if any (a "send test" has none).
    pub alert: Option<String>,
    pub channel: String,
    pub message: Message,
    /// Unique: the same notification is never queued twice (`<alert>:<schedule index>:<channel>`).
    pub idempotency_key: String,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub status: DeliveryStatus,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
}

/// How a send attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Worth retrying (timeout, 5xx, 429, connection refused).
    Transient(String),
    /// Retrying cannot help (4xx, bad settings).
    Permanent(String),
}

/// Retry policy: exponential backoff from `first` doubling up to `max`, with ±20 % jitter,
/// until the delivery is older than `give_up_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            max: Duration::from_secs(600),
            give_up_after: Duration::from_secs(86_400),
        }
    }
}

impl Delivery {
    /// A new outbox row for `message` to `channel`, due at once; its idempotency key is the
    /// message's.
    pub fn queued(
        id: String,
        alert: Option<String>,
        channel: &str,
        message: Message,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            alert,
            channel: channel.to_owned(),
            idempotency_key: message.idempotency_key.clone(),
            message,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            status: DeliveryStatus::Pending,
            last_error: None,
            sent_at: None,
        }
    }

    /// Applies an attempt's outcome. `jitter` in `[0, 1)` spreads retries of many deliveries.
    pub fn record(&mut self, outcome: Outcome, policy: &RetryPolicy, now: Timestamp, jitter: f64) {
        self.attempts = self.attempts.saturating_add(1);
        match outcome {
            Outcome::Sent => {
                self.status = DeliveryStatus::Sent;
                self.sent_at = Some(now);
                self.last_error = None;
            }
            Outcome::Permanent(error) => {
                self.status = DeliveryStatus::Dead;
                self.last_error = Some(error);
            }
            Outcome::Transient(error) => {
                let age: Duration = now.duration_since(self.created_at).try_into().unwrap_or(Duration::ZERO);
                self.last_error = Some(error);
                if age >= policy.give_up_after {
                    self.status = DeliveryStatus::Dead;
                    return;
                }
                let exp = self.attempts.saturating_sub(1).min(20);
                let base = policy.first.saturating_mul(1u32 << exp).min(policy.max);
                let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
                let wait = base.mul_f64(factor);
                self.next_attempt_at = now.checked_add(wait).unwrap_or(Timestamp::MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{MessageEvent, Severity};

    fn delivery() -> Delivery {
        Delivery {
            id: "d1".into(),
            alert: Some("a1".into()),
            channel: "ops-hook".into(),
            message: Message {
                idempotency_key: "a1:0:ops-hook".into(),
                event: MessageEvent::Down,
                severity: Severity::Critical,
                title: "Internal API".into(),
                summary: "down".into(),
                monitor: None,
                component: None,
                failing_conditions: vec![],
                since: None,
                incident_url: None,
                ack_url: None,
                unsubscribe_url: None,
                dedup_key: "a1".into(),
                page_time_zone: "UTC".into(),
            },
            idempotency_key: "a1:0:ops-hook".into(),
            created_at: Timestamp::from_second(0).unwrap(),
            attempts: 0,
            next_attempt_at: Timestamp::from_second(0).unwrap(),
            status: DeliveryStatus::Pending,
            last_error: None,
            sent_at: None,
        }
    }

    #[test]
    fn transient_failures_back_off_then_give_up() {
        let policy = RetryPolicy::default();
        let mut d = delivery();
        let t = |s| Timestamp::from_second(s).unwrap();
        d.record(Outcome::Transient("HTTP 503".into()), &policy, t(0), 0.5);
        assert_eq!(d.next_attempt_at, t(5));
        d.record(Outcome::Transient("HTTP 503".into()), &policy, t(5), 0.5);
        assert_eq!(d.next_attempt_at, t(15));
        d.record(Outcome::Transient("HTTP 503".into()), &policy, t(15), 0.0);
        assert_eq!(d.next_attempt_at, t(15 + 16), "20 s minus 20 % jitter");
        assert_eq!(d.status, DeliveryStatus::Pending);
        d.record(Outcome::Sent, &policy, t(40), 0.5);
        assert_eq!((d.status, d.attempts, d.sent_at), (DeliveryStatus::Sent, 4, Some(t(40))));

        let mut old = delivery();
        old.record(Outcome::Transient("timeout".into()), &policy, t(86_400), 0.5);
        assert_eq!(old.status, DeliveryStatus::Dead);
        let mut bad = delivery();
        bad.record(Outcome::Permanent("HTTP 400".into()), &policy, t(1), 0.5);
        assert_eq!((bad.status, bad.last_error.as_deref()), (DeliveryStatus::Dead, Some("HTTP 400")));
    }
}

//! The emergency path: while the store is unavailable (refused connections, pool exhausted)
//! the normal path cannot read transitions nor write the outbox, yet a database outage is
//! often the very incident a team must hear about. So a failed step pages, directly and without
//! the outbox, from the transitions the engine decided but could not write: one notification per
//! (transition, matching rule, channel of the escalation's first step), built exactly as the
//! normal path would build it (same idempotency key), minus the acknowledge link (it could not
//! be verified without the store).
//!
//! What was sent is remembered in memory by idempotency key; a failed send is retried at the
//! next failed step. Once the store is back and the normal path routes the same transitions,
//! the outbox rows with those keys are stored as already sent (visible in the deliveries list)
//! instead of being delivered again; the alerts open and escalate normally from their next step.
//! The memory is bounded and lost on restart (then the normal path pages once more).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use belfry_core::Catalog;
use belfry_core::alert::{Alert, Delivery, Outcome};
use jiff::Timestamp;

use super::Dispatcher;
use super::working::Working;
use crate::NotifyError;

/// Direct sends per failed step, at most.
pub(super) const MAX_PER_STEP: usize = 100;
/// Direct sends remembered, at most; beyond it nothing more is sent directly.
const MAX_REMEMBERED: usize = 10_000;
/// A direct send not matched by the normal path within this long is forgotten.
const REMEMBER_FOR: Duration = Duration::from_secs(7 * 86_400);
/// What direct messages say instead of an acknowledge link.
const NOTE: &str = "Sent directly while Belfry's store is unreachable: acknowledge in the console \
                    once the store is back.";

#[derive(Default)]
pub(super) struct Memory {
    /// The unresolved alerts as last read from the store (resolutions are built from them);
    /// shared, not copied, at every step.
    unresolved: Arc<Vec<Alert>>,
    /// Idempotency keys sent directly → when.
    sent: HashMap<String, Timestamp>,
}

impl Dispatcher {
    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.direct.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps the unresolved alerts as stored by the step for the emergency path.
    pub(super) fn remember_unresolved(&self, unresolved: Arc<Vec<Alert>>) {
        self.memory().unresolved = unresolved;
    }

    /// Stores the deliveries already sent directly as sent (at the direct send's time) instead
    /// of queuing them again; returns their keys, to forget once this is durable.
    pub(super) fn sent_directly(&self, deliveries: &mut [Delivery], now: Timestamp) -> Vec<String> {
        let memory = self.memory();
        if memory.sent.is_empty() {
            return vec![];
        }
        let mut keys = vec![];
        for d in deliveries.iter_mut() {
            let Some(&at) = memory.sent.get(&d.idempotency_key) else { continue };
            d.record(Outcome::Sent, &self.config.retry, at.min(now), 0.0);
            tracing::info!(channel.id = %d.channel, delivery.id = %d.id, "already sent directly while the store was unavailable; not sent again");
            keys.push(d.idempotency_key.clone());
        }
        keys
    }

    /// Forgets direct sends the outbox now records (and any too old to be matched).
    pub(super) fn forget_direct(&self, keys: &[String]) {
        let mut memory = self.memory();
        for key in keys {
            memory.sent.remove(key);
        }
        if let Some(oldest) = memory.sent.values().max().and_then(|n| n.checked_sub(REMEMBER_FOR).ok()) {
            memory.sent.retain(|_, at| *at >= oldest);
        }
    }

    /// Pages the engine's unwritten transitions directly (see the module docs). Never fails:
    /// what cannot be sent now is tried again at the next failed step.
    pub(super) async fn send_direct(&self, catalog: &Arc<Catalog>, now: Timestamp) {
        let transitions = self.runtime.unwritten_transitions().await;
        if transitions.is_empty() {
            return;
        }
        let (unresolved, sent): (Arc<Vec<Alert>>, HashSet<String>) = {
            let memory = self.memory();
            if memory.sent.len() >= MAX_REMEMBERED {
                tracing::warn!(
                    remembered = memory.sent.len(),
                    "store unavailable: too many direct notifications already; none more until it is back"
                );
                return;
            }
            (memory.unresolved.clone(), memory.sent.keys().cloned().collect())
        };
        let down = super::down_monitors(&self.runtime.states());
        let mut working = Working::new(&unresolved);
        let mut due = vec![];
        for t in &transitions {
            let mut out = vec![];
            // Grouped under a down parent: no page of its own (the note waits for the store).
            if self.decide(catalog, t, &down, &mut working, &mut out, now).is_some() {
                continue;
            }
            due.extend(out.into_iter().filter(|d| first_step(d) && !sent.contains(&d.idempotency_key)));
        }
        if due.is_empty() {
            return;
        }
        let pending = due.len();
        due.truncate(MAX_PER_STEP);
        tracing::warn!(
            transitions = transitions.len(),
            notifications = due.len(),
            left_for_later = pending - due.len(),
            "store unavailable: sending notifications directly from memory"
        );
        let mut sends = tokio::task::JoinSet::new();
        for d in due {
            let Some(notifier) = self.notifier(catalog, &d.channel) else {
                tracing::warn!(channel.id = %d.channel, "store unavailable: channel not configured; not sent directly");
                continue;
            };
            let mut message = d.message;
            message.ack_url = None;
            message.summary = format!("{} ({NOTE})", message.summary);
            let timeout = self.config.send_timeout;
            sends.spawn(async move {
                let result = match tokio::time::timeout(timeout, notifier.send(&message)).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(NotifyError::Transient(e) | NotifyError::Permanent(e))) => Err(e),
                    Err(_) => Err(format!("no answer within {timeout:?}")),
                };
                (message.idempotency_key, d.channel, result)
            });
        }
        while let Some(done) = sends.join_next().await {
            let Ok((key, channel, result)) = done else { continue };
            match result {
                Ok(()) => {
                    tracing::warn!(channel.id = %channel, "store unavailable: notification sent directly");
                    self.memory().sent.insert(key, now);
                }
                Err(e) => {
                    tracing::warn!(channel.id = %channel, error = %e, "store unavailable: direct notification failed; will retry")
                }
            }
        }
    }
}

/// A notification of the escalation's first step, or a resolution (`<alert>:0:<channel>`,
/// `<alert>:resolved:<channel>`).
fn first_step(d: &Delivery) -> bool {
    let Some(alert) = d.alert.as_deref() else { return false };
    let rest = d.idempotency_key.strip_prefix(alert).and_then(|r| r.strip_prefix(':'));
    rest.and_then(|r| r.split_once(':')).is_some_and(|(step, _)| step == "0" || step == "resolved")
}

#[cfg(test)]
mod tests {
    use super::*;
    use belfry_core::alert::EventKind;
    use belfry_core::channel::{Message, Severity};

    fn delivery(key: &str) -> Delivery {
        let message = Message {
            idempotency_key: key.to_owned(),
            event: EventKind::Down,
            severity: Severity::Critical,
            title: "t".to_owned(),
            summary: "s".to_owned(),
            monitor: None,
            component: None,
            failing_conditions: vec![],
            since: None,
            incident_url: None,
            ack_url: None,
            unsubscribe_url: None,
            dedup_key: "d".to_owned(),
            page_time_zone: "UTC".to_owned(),
        };
        Delivery::queued(
            "id".to_owned(),
            Some("down-monitor-api-1-0".to_owned()),
            "ops",
            message,
            Timestamp::UNIX_EPOCH,
        )
    }

    #[test]
    fn only_first_steps_and_resolutions_go_out_directly() {
        assert!(first_step(&delivery("down-monitor-api-1-0:0:ops")));
        assert!(first_step(&delivery("down-monitor-api-1-0:resolved:ops")));
        assert!(!first_step(&delivery("down-monitor-api-1-0:1:backup")));
        assert!(!first_step(&delivery("other:0:ops")));
    }
}

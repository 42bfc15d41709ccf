//! The alert dispatcher: routes new transitions to alerts by the rules, escalates active alerts
//! on the clock, warns ahead of certificate expiry, resolves (silently) the alerts nothing else
//! ever would (see [`settle`]), tells status page subscribers about incidents and maintenance,
//! and delivers the outbox with retries.
//! Every step is durable: routing and escalation write alerts, queued deliveries and the
//! transition cursor in one transaction, so a crash repeats nothing and loses nothing.
//! [`Dispatcher::drain_once`] is the single step; the server calls it every second.
//! While the store is unavailable, a failed step pages from the engine's unwritten transitions
//! directly (see [`direct`]).

mod certificates;
mod direct;
mod incidents;
mod message;
mod probes;
mod settle;
mod subscribers;
mod working;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use belfry_core::alert::{Alert, Delivery, DueStep, Event, EventKind, Outcome, RetryPolicy, ack};
use belfry_core::incident::{TimelineEntry, TimelineKind, auto};
use belfry_core::store::{IncidentFilter, Storage, TransitionCursor};
use belfry_core::{Catalog, MonitorId, MonitorState, Runtime, StoreError};
use jiff::Timestamp;

use crate::{HttpClient, Notifier, NotifyError, build};
use message::Links;
use working::Working;

pub use settle::GRACE as UNCHECKED_GRACE;

/// The store cursor of the transitions the dispatcher has routed.
pub const CURSOR: &str = "alerting";

#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Secret key of acknowledge links.
    pub ack_key: Vec<u8>,
    /// How long an acknowledge link works.
    pub ack_ttl: Duration,
    pub retry: RetryPolicy,
    /// One send attempt gives up after this.
    pub send_timeout: Duration,
    /// Deliveries attempted per step, at most.
    pub batch: u32,
}

impl DispatcherConfig {
    pub fn new(ack_key: Vec<u8>) -> Self {
        Self {
            ack_key,
            ack_ttl: Duration::from_secs(7 * 86_400),
            retry: RetryPolicy::default(),
            send_timeout: Duration::from_secs(15),
            batch: 100,
        }
    }
}

/// What one step did (for logs and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    pub alerts_opened: usize,
    pub queued: usize,
    pub sent: usize,
    pub failed: usize,
}

/// The stages of a step that work on the unresolved alerts (see `Dispatcher::alert_stages`).
#[derive(Debug, Clone, Copy)]
enum Stage {
    Settle,
    Route,
    Escalate,
    Certificates,
    Probes,
}

impl Stage {
    const ALL: [Self; 5] = [Self::Settle, Self::Route, Self::Escalate, Self::Certificates, Self::Probes];
}

/// The notifiers built for one catalog, by channel id.
type NotifierCache = (Arc<Catalog>, HashMap<String, Arc<dyn Notifier>>);

pub struct Dispatcher {
    storage: Arc<dyn Storage>,
    runtime: Arc<dyn Runtime>,
    http: HttpClient,
    config: DispatcherConfig,
    /// Notifiers built for the catalog they came from (rebuilt when the config is reloaded).
    notifiers: Mutex<Option<NotifierCache>>,
    /// What the emergency path needs and has done while the store is unavailable.
    direct: Mutex<direct::Memory>,
    /// Certificate warnings known to exist (see `certificates`).
    certificates: Mutex<certificates::Memory>,
    /// Since when alerts' monitors have gone unchecked (see `settle`).
    unchecked: Mutex<settle::Unchecked>,
}

impl Dispatcher {
    pub fn new(
        storage: Arc<dyn Storage>,
        runtime: Arc<dyn Runtime>,
        http: HttpClient,
        config: DispatcherConfig,
    ) -> Self {
        Self {
            storage,
            runtime,
            http,
            config,
            notifiers: Mutex::new(None),
            direct: Mutex::default(),
            certificates: Mutex::default(),
            unchecked: Mutex::default(),
        }
    }

    /// One full step at `now`. When it fails because the store is unavailable, the transitions
    /// the engine could not write yet are paged directly (first escalation step only).
    pub async fn drain_once(&self, now: Timestamp) -> Result<DrainReport, StoreError> {
        let catalog = self.runtime.catalog();
        let mut report = DrainReport::default();
        self.unchecked.lock().unwrap_or_else(|e| e.into_inner()).begin();
        match self.step(&catalog, now, &mut report).await {
            Ok(()) => Ok(report),
            Err(e @ (StoreError::Unavailable(_) | StoreError::PoolExhausted)) => {
                self.send_direct(&catalog, now).await;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    async fn step(
        &self,
        catalog: &Arc<Catalog>,
        now: Timestamp,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        // Read once per step (indexed: resolved alerts are not read); each stage leaves it as
        // stored for the next (see `stored`).
        let mut unresolved = self.storage.unresolved_alerts().await?;
        let alerts = self.alert_stages(catalog, now, &mut unresolved, report).await;
        // What the emergency path resolves from while the store is away (moved, not copied).
        self.remember_unresolved(Arc::new(unresolved));
        alerts?;
        self.incident_events(catalog, now, report).await?;
        report.queued += subscribers::announce(self.storage.as_ref(), catalog, now).await?;
        self.deliver(catalog, now, report).await
    }

    /// The stages that work on the unresolved alerts, in order. A person's write between the
    /// step's read and a stage's write (an acknowledgement: the stored version moved on) fails
    /// that write whole with a `Conflict`; the stage then runs once more on the unresolved
    /// alerts read again. Should that conflict too, the stage waits for the next step and the
    /// step goes on with the next stage: each stage's work is its own, so one that keeps
    /// conflicting does not hold up the others (escalation, certificate warnings, probes).
    async fn alert_stages(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        for stage in Stage::ALL {
            match self.stage(stage, catalog, now, unresolved, report).await {
                Err(StoreError::Conflict(why)) => {
                    tracing::info!(?stage, reason = %why, "alerts changed meanwhile; read again and retried");
                    *unresolved = self.storage.unresolved_alerts().await?;
                    match self.stage(stage, catalog, now, unresolved, report).await {
                        Err(StoreError::Conflict(why)) => {
                            tracing::warn!(?stage, reason = %why, "alerts changed again meanwhile; this stage is left for the next step");
                            // What the failed write left unknown (versions) is read again.
                            *unresolved = self.storage.unresolved_alerts().await?;
                        }
                        again => again?,
                    }
                }
                done => done?,
            }
        }
        Ok(())
    }

    async fn stage(
        &self,
        stage: Stage,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        match stage {
            Stage::Settle => self.settle(catalog, now, unresolved).await,
            Stage::Route => self.route(catalog, now, unresolved, report).await,
            Stage::Escalate => self.escalate(catalog, now, unresolved, report).await,
            Stage::Certificates => self.certificates(catalog, now, unresolved, report).await,
            Stage::Probes => self.probes(catalog, now, unresolved, report).await,
        }
    }

    fn links(&self, catalog: &Catalog, alert: &Alert, now: Timestamp) -> Links {
        let expires = now.checked_add(self.config.ack_ttl).unwrap_or(Timestamp::MAX);
        Links {
            public_url: catalog.page.public_url.clone(),
            ack_token: Some(ack::sign(&self.config.ack_key, &alert.id, expires)),
        }
    }

    fn queue(
        &self,
        catalog: &Catalog,
        alert: &Alert,
        steps: &[DueStep],
        now: Timestamp,
        out: &mut Vec<Delivery>,
    ) {
        let links = self.links(catalog, alert, now);
        for step in steps {
            for channel in &step.channels {
                let key = format!("{}:{}:{channel}", alert.id, step.index);
                let message = message::build(alert, catalog, key, false, &links);
                out.push(message::delivery(alert, channel, message, now));
            }
        }
    }

    /// New transitions → events → alerts by the rules; recoveries resolve the unresolved
    /// alerts of their subject, acknowledged or not. `unresolved` is left as stored after.
    async fn route(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        let Some(cursor) = self.storage.cursor(CURSOR).await?.as_deref().and_then(TransitionCursor::decode)
        else {
            // First start: alerts begin with what happens from now on.
            self.storage.set_cursor(CURSOR, &TransitionCursor::at(now).encode()).await?;
            return Ok(());
        };
        let pending = cursor.pending(self.storage.as_ref()).await?;
        let Some(last) = pending.last() else { return Ok(()) };
        let mut working = Working::new(unresolved);
        let mut deliveries = vec![];
        let mut grouped = vec![];
        let down = down_monitors(&self.runtime.states());
        for t in &pending {
            grouped.extend(self.decide(catalog, t, &down, &mut working, &mut deliveries, now));
        }
        // Channels already paged directly while the store was away are not paged again.
        let direct = self.sent_directly(&mut deliveries, now);
        let (opened, changed) = working.into_writes();
        let position = TransitionCursor::of(last).encode();
        self.write_alerts(unresolved, (&opened, &changed, &deliveries), Some((CURSOR, &position)), report)
            .await?;
        self.forget_direct(&direct);
        // After the write, so a routing write retried (see `alert_stages`) notes nothing twice;
        // a note that then fails to be written is lost (the cursor moved past its transition).
        for (child, parent, event) in &grouped {
            self.note_grouped(child, parent, event).await?;
        }
        self.record_on_incidents(Fact::sent(&deliveries)).await
    }

    /// Routes one transition: resolutions and new alerts into `deliveries`. Returns the child,
    /// its parent and the event when the outage is grouped under a down parent (one of `down`)
    /// instead.
    fn decide(
        &self,
        catalog: &Catalog,
        t: &belfry_core::Transition,
        down: &HashSet<MonitorId>,
        working: &mut Working,
        deliveries: &mut Vec<Delivery>,
        now: Timestamp,
    ) -> Option<(String, String, Event)> {
        let spec = catalog.monitor(t.monitor.as_str())?;
        let event = Event::from_transition(t, spec)?;
        let told = if event.kind.is_problem() {
            HashSet::new()
        } else {
            resolve_subject(catalog, &event, working, deliveries, now)
        };
        // One host outage must not page thirty times: a child of a down parent is grouped
        // under the parent's alert.
        let down_parent = spec.depends_on.iter().find(|p| down.contains(*p));
        if let (Some(parent), true) = (down_parent, event.kind.is_problem()) {
            return Some((spec.id.to_string(), parent.to_string(), event));
        }
        let before = deliveries.len();
        self.open_alerts(catalog, &event, working, deliveries, now);
        // A channel just told "resolved" does not also get the rule's own `up` notice.
        if !told.is_empty() {
            let fresh = deliveries.split_off(before);
            deliveries.extend(fresh.into_iter().filter(|d| !told.contains(&d.channel)));
        }
        None
    }

    /// Puts facts about monitors (alerts sent, escalations) on the timeline of every open
    /// incident about the monitor: its automatic incident and those a person opened on its
    /// component (principle P6: the postmortem timeline comes from recorded facts, alerts
    /// included).
    async fn record_on_incidents(&self, facts: Vec<Fact>) -> Result<(), StoreError> {
        if facts.is_empty() {
            return Ok(());
        }
        let open = self.storage.incidents(&auto::open_incidents()).await?;
        let entries: Vec<TimelineEntry> = facts
            .iter()
            .flat_map(|f| {
                open.iter().filter(|i| auto::is_about(i, &f.monitor, f.component.as_ref())).map(|i| {
                    TimelineEntry::new(&i.id, f.at, f.kind, f.text.clone(), "belfry")
                        .with_data(f.data.clone())
                })
            })
            .collect();
        if entries.is_empty() { Ok(()) } else { self.storage.append_timeline(&entries).await }
    }

    /// Records on the parent's open incident (if any) that a child's outage was grouped under it.
    async fn note_grouped(&self, child: &str, parent: &str, event: &Event) -> Result<(), StoreError> {
        tracing::info!(monitor.id = %child, parent, "outage grouped under the parent's alert");
        let filter = IncidentFilter {
            unresolved_only: true,
            include_drafts: true,
            auto_monitor: MonitorId::parse(parent).ok(),
            limit: 1,
            ..IncidentFilter::default()
        };
        if let Some(incident) = self.storage.incidents(&filter).await?.into_iter().next() {
            let text = format!("{child} went down while {parent} is down: grouped under {parent}'s alert");
            let entry = TimelineEntry::new(&incident.id, event.at, TimelineKind::Monitor, text, "belfry");
            self.storage.append_timeline(&[entry]).await?;
        }
        Ok(())
    }

    fn open_alerts(
        &self,
        catalog: &Catalog,
        event: &Event,
        working: &mut Working,
        deliveries: &mut Vec<Delivery>,
        now: Timestamp,
    ) {
        for (i, rule) in catalog.alerting.rules.iter().enumerate() {
            if !rule.matches(event) {
                continue;
            }
            let Some(escalation) = catalog.alerting.escalation(&rule.escalation) else { continue };
            // Deterministic: the same event routed again (after a crash) is the same alert.
            let id = format!(
                "{}-{}-{}-{i}",
                event.kind.as_str(),
                event.subject().replace(':', "-"),
                event.at.as_millisecond()
            );
            if working.contains(&id) {
                continue;
            }
            let mut alert = Alert::open(id, escalation, event.clone(), event.at);
            let due = alert.take_due(escalation, now);
            self.queue(catalog, &alert, &due, now, deliveries);
            working.open(alert);
        }
    }

    /// Active (unacknowledged) alerts whose next step is due; held while their monitor is in
    /// maintenance. `unresolved` is left as stored after.
    async fn escalate(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        let due_now = |a: &&Alert| a.is_active() && a.next_at.is_some_and(|at| at <= now);
        if !unresolved.iter().any(|a| due_now(&a)) {
            return Ok(());
        }
        let in_maintenance: HashSet<MonitorId> = self
            .runtime
            .states()
            .into_iter()
            .filter(|s| s.state == MonitorState::Maintenance)
            .map(|s| s.monitor)
            .collect();
        let mut changed = vec![];
        let mut deliveries = vec![];
        let mut facts = vec![];
        for alert in unresolved.iter().filter(due_now) {
            if alert.event.monitor.as_ref().is_some_and(|m| in_maintenance.contains(m)) {
                continue;
            }
            let Some(escalation) = catalog.alerting.escalation(&alert.escalation) else { continue };
            let mut alert = alert.clone();
            let due = alert.take_due(escalation, now);
            self.queue(catalog, &alert, &due, now, &mut deliveries);
            // The first step is the alert itself; every later one escalates it.
            facts.extend(
                due.iter()
                    .filter(|step| step.index > 0)
                    .filter_map(|step| Fact::escalated(&alert, step, now)),
            );
            changed.push(alert);
        }
        if changed.is_empty() {
            return Ok(());
        }
        self.write_alerts(unresolved, (&[], &changed, &deliveries), None, report).await?;
        facts.extend(Fact::sent(&deliveries));
        self.record_on_incidents(facts).await
    }

    /// Incident created/updated/resolved events for the rules that ask for them.
    async fn incident_events(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        let (mut opened, position) = incidents::events(self.storage.as_ref(), catalog, now).await?;
        let mut deliveries = vec![];
        for alert in &mut opened {
            let Some(escalation) = catalog.alerting.escalation(&alert.escalation).cloned() else { continue };
            let due = alert.take_due(&escalation, now);
            self.queue(catalog, alert, &due, now, &mut deliveries);
        }
        report.alerts_opened += opened.len();
        report.queued += deliveries.len();
        self.storage.route(&opened, &[], &deliveries, Some((incidents::CURSOR, &position))).await
    }

    fn notifier(&self, catalog: &Arc<Catalog>, channel: &str) -> Option<Arc<dyn Notifier>> {
        let mut cache = self.notifiers.lock().unwrap_or_else(|e| e.into_inner());
        let stale = cache.as_ref().is_none_or(|(built_for, _)| !Arc::ptr_eq(built_for, catalog));
        if stale {
            let built = catalog
                .alerting
                .channels
                .iter()
                .map(|spec| (spec.id.to_string(), Arc::from(build(spec, &self.http))))
                .collect();
            *cache = Some((catalog.clone(), built));
        }
        cache.as_ref().and_then(|(_, map)| map.get(channel).cloned())
    }

    /// Sends what is due in the outbox; each outcome is stored before the next send.
    async fn deliver(
        &self,
        catalog: &Arc<Catalog>,
        now: Timestamp,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        for mut delivery in self.storage.due_deliveries(now, self.config.batch).await? {
            let notifier = match belfry_core::subscriber::subscriber_of_channel(&delivery.channel) {
                Some(id) => match self.storage.subscriber(id).await? {
                    None => Err("the subscriber has unsubscribed".to_owned()),
                    Some(s) => subscribers::notifier(catalog, &self.http, &s, &delivery.message),
                },
                None => self
                    .notifier(catalog, &delivery.channel)
                    .ok_or_else(|| format!("channel `{}` is not configured", delivery.channel)),
            };
            let outcome = match notifier {
                Err(why) => Outcome::Permanent(why),
                Ok(notifier) => {
                    match tokio::time::timeout(self.config.send_timeout, notifier.send(&delivery.message))
                        .await
                    {
                        Ok(Ok(())) => Outcome::Sent,
                        Ok(Err(NotifyError::Transient(e))) => Outcome::Transient(e),
                        Ok(Err(NotifyError::Permanent(e))) => Outcome::Permanent(e),
                        Err(_) => {
                            Outcome::Transient(format!("no answer within {:?}", self.config.send_timeout))
                        }
                    }
                }
            };
            match &outcome {
                Outcome::Sent => report.sent += 1,
                Outcome::Transient(e) | Outcome::Permanent(e) => {
                    report.failed += 1;
                    tracing::warn!(channel.id = %delivery.channel, error = %e, attempt = delivery.attempts + 1, "notification not delivered");
                }
            }
            delivery.record(outcome, &self.config.retry, now, jitter(&delivery.id, delivery.attempts));
            self.storage.save_delivery(&delivery).await?;
        }
        Ok(())
    }
}

/// A fact about a monitor for the timelines of the open incidents about it.
struct Fact {
    monitor: MonitorId,
    component: Option<MonitorId>,
    at: Timestamp,
    kind: TimelineKind,
    text: String,
    data: serde_json::Value,
}

impl Fact {
    /// "Alert sent" for each delivery about a monitor.
    fn sent(deliveries: &[Delivery]) -> Vec<Self> {
        deliveries
            .iter()
            .filter_map(|d| {
                let monitor = d.message.monitor.as_ref()?;
                let what = if d.message.is_resolution() { "Resolution sent" } else { "Alert sent" };
                Some(Self {
                    monitor: monitor.id.clone(),
                    component: d.message.component.as_ref().map(|c| c.id.clone()),
                    at: d.created_at,
                    kind: TimelineKind::AlertSent,
                    text: format!("{what} to {} ({})", d.channel, d.message.event.as_str()),
                    data: serde_json::json!({"delivery": d.id, "alert": d.alert, "channel": d.channel}),
                })
            })
            .collect()
    }

    /// An escalation step beyond the first that fired for an alert about a monitor.
    fn escalated(alert: &Alert, step: &DueStep, now: Timestamp) -> Option<Self> {
        let monitor = alert.event.monitor.clone()?;
        Some(Self {
            monitor,
            component: alert.event.component.clone(),
            at: now,
            kind: TimelineKind::Escalated,
            text: format!(
                "Alert escalated (round {}, step {}) to {}: {}",
                step.round + 1,
                step.step + 1,
                step.channels.join(", "),
                alert.event.title
            ),
            data: serde_json::json!({
                "alert": alert.id,
                "index": step.index,
                "round": step.round,
                "step": step.step,
                "channels": step.channels,
            }),
        })
    }
}

impl Dispatcher {
    /// Writes what an alert stage opened and changed, with its deliveries (and its cursor, for
    /// a stage that follows one), in one transaction; counts them in `report` and leaves
    /// `unresolved` as stored. A stage with nothing to write and no cursor writes nothing.
    async fn write_alerts(
        &self,
        unresolved: &mut Vec<Alert>,
        (opened, changed, deliveries): (&[Alert], &[Alert], &[Delivery]),
        cursor: Option<(&str, &str)>,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        if cursor.is_none() && opened.is_empty() && changed.is_empty() && deliveries.is_empty() {
            return Ok(());
        }
        self.storage.route(opened, changed, deliveries, cursor).await?;
        report.alerts_opened += opened.len();
        report.queued += deliveries.len();
        stored(unresolved, opened, changed);
        Ok(())
    }
}

/// Brings `unresolved` (the unresolved alerts as read at the start of the step) up to date
/// with a routing step just stored: `opened` and `changed` as stored (every save increments the
/// version), the resolved ones gone. One pass over `unresolved`, whatever was written.
fn stored(unresolved: &mut Vec<Alert>, opened: &[Alert], changed: &[Alert]) {
    if opened.is_empty() && changed.is_empty() {
        return;
    }
    let mut written: HashMap<&str, &Alert> =
        opened.iter().chain(changed).map(|a| (a.id.as_str(), a)).collect();
    let saved = |alert: &Alert| Alert { version: alert.version + 1, ..alert.clone() };
    for slot in unresolved.iter_mut() {
        if let Some(alert) = written.remove(slot.id.as_str()) {
            *slot = saved(alert);
        }
    }
    for alert in opened.iter().chain(changed) {
        if written.remove(alert.id.as_str()).is_some() {
            unresolved.push(saved(alert));
        }
    }
    unresolved.retain(|a| a.resolved_at.is_none());
}

/// The monitors `states` shows down.
fn down_monitors(states: &[belfry_core::LiveState]) -> HashSet<MonitorId> {
    states.iter().filter(|s| s.state == MonitorState::Down).map(|s| s.monitor.clone()).collect()
}

/// A recovery resolves the unresolved problem alerts of its subject — acknowledged ones too:
/// acknowledging stops the paging, not the incident the channels opened — and tells the
/// channels that were paged (so PagerDuty and Opsgenie close their incident); returns those
/// channels.
fn resolve_subject(
    catalog: &Catalog,
    event: &Event,
    working: &mut Working,
    deliveries: &mut Vec<Delivery>,
    now: Timestamp,
) -> HashSet<String> {
    let mut told = HashSet::new();
    working.change_subject(&event.subject(), |alert| {
        // A certificate warning is about the certificate, not the monitor's outage: only a
        // renewal resolves it (see `certificates`; alerts stored before certificates had their
        // own subject share the monitor's).
        let resolvable = alert.event.kind.is_problem() && alert.event.kind != EventKind::CertificateExpiring;
        if !resolvable || !alert.resolve(event.at) {
            return false;
        }
        told.extend(tell_resolved(catalog, alert, now, deliveries));
        true
    });
    told
}

/// A deterministic spread in `[0, 1)` per delivery and attempt (no global RNG needed).
fn jitter(id: &str, attempt: u32) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(attempt);
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 10_000) as f64 / 10_000.0
}

/// Tells every channel `alert` paged so far that it is resolved (so PagerDuty and Opsgenie
/// close their incident); returns those channels.
fn tell_resolved(
    catalog: &Catalog,
    alert: &Alert,
    now: Timestamp,
    deliveries: &mut Vec<Delivery>,
) -> HashSet<String> {
    let Some(escalation) = catalog.alerting.escalation(&alert.escalation) else { return HashSet::new() };
    let notified: HashSet<String> =
        (0..alert.fired).filter_map(|n| escalation.nth(n)).flat_map(|s| s.channels).collect();
    let links = Links { public_url: None, ack_token: None };
    for channel in &notified {
        let key = format!("{}:resolved:{channel}", alert.id);
        let message = message::build(alert, catalog, key, true, &links);
        deliveries.push(message::delivery(alert, channel, message, now));
    }
    notified
}

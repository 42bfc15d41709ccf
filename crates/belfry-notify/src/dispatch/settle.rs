//! Unresolved alerts that nothing would ever resolve, resolved at every step so the unresolved
//! set (read at every step) stays bounded:
//! - a notice that will send nothing more ([`Alert::is_finished_notice`]): acknowledged before
//!   its delayed step went out, or sent and stored active before notices resolved once sent;
//! - an alert about a monitor nobody checks any more: gone from the config (its recovery or
//!   renewal will never be seen; certificate warnings included) or paused (nothing will be seen
//!   until it is resumed, and then a new outage is a new alert; a certificate warning is kept,
//!   as the resumed monitor's certificate warns and resolves as usual) — only once it has been
//!   so at every step of this node for [`GRACE`], and a monitor gone from this node's config
//!   only when no node stored a result of it for as long;
//! - a `probe_missing` alert of a region no monitor names any more (the probe is no longer
//!   expected, so it will never be seen coming back).
//!
//! The grace covers what one node's config does not show: nodes with different config files
//! (one may lack a monitor the others still check, during a rolling change say), and a monitor
//! removed or paused by mistake and put back — its engine then resumes its stored state with
//! no new transition, so a settled alert would never page again. It is kept in memory: a
//! restart, a step that did not get as far as settling, and a time this node did not hold the
//! desk (see [`Dispatcher::forget_unchecked`]) start it again.
//!
//! They are resolved silently: removing or pausing a monitor, dropping a region and
//! acknowledging are a person's decisions, and none of them is news to the channels. A
//! "resolved" message would claim a recovery nobody saw; the channels that were paged about such
//! an alert (a PagerDuty incident, say) are closed there by the person, as after an
//! acknowledgement, which tells no channel either.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use belfry_core::alert::{Alert, EventKind};
use belfry_core::{Catalog, MonitorId, MonitorState, StoreError};
use jiff::Timestamp;

use super::{Dispatcher, probes, stored};

/// How long an alert's monitor must have gone unchecked (gone from the config, or paused) at
/// every step before the alert is resolved for it.
pub const GRACE: Duration = Duration::from_secs(15 * 60);

/// Why nothing would ever resolve an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    FinishedNotice,
    /// Its monitor is not in this node's config.
    Gone,
    /// Its monitor is paused.
    Paused,
    ProbeGone,
}

impl Why {
    fn as_str(self) -> &'static str {
        match self {
            Self::FinishedNotice => "a notice with nothing more to send",
            Self::Gone => "its monitor is no longer configured",
            Self::Paused => "its monitor is paused",
            Self::ProbeGone => "its region's probe is no longer expected",
        }
    }

    /// Whether it holds only while the monitor goes unchecked (settled after [`GRACE`]).
    fn is_unchecked(self) -> bool {
        matches!(self, Self::Gone | Self::Paused)
    }
}

/// Why nothing would ever resolve `alert`, if so. `monitors`: whether each configured monitor
/// is paused (its live state), by id; `probes`: the subjects of the probes expected now
/// (`None`: not asked, as no unresolved alert is about a probe).
fn stranded(alert: &Alert, monitors: &HashMap<&str, bool>, probes: Option<&HashSet<String>>) -> Option<Why> {
    if alert.is_finished_notice() {
        return Some(Why::FinishedNotice);
    }
    if let Some(monitor) = &alert.event.monitor {
        match monitors.get(monitor.as_str()) {
            None => return Some(Why::Gone),
            // A certificate warning is about the certificate: once resumed, the monitor's
            // results renew or keep it (see `certificates`).
            Some(true) if alert.event.kind != EventKind::CertificateExpiring => return Some(Why::Paused),
            Some(_) => {}
        }
    }
    let gone = probes.is_some_and(|expected| !expected.contains(&alert.subject));
    (alert.event.kind == EventKind::ProbeMissing && gone).then_some(Why::ProbeGone)
}

/// Since when each monitor of an unresolved alert has been unchecked at every step of this
/// node (see the module docs).
#[derive(Debug, Default)]
pub(super) struct Unchecked {
    since: HashMap<MonitorId, Timestamp>,
    /// Steps begun, and the last one that got as far as settling: a step in between that did
    /// not saw nothing, so what was unchecked before may have been checked meanwhile.
    begun: u64,
    looked: u64,
}

impl Unchecked {
    /// A step begins.
    pub(super) fn begin(&mut self) {
        self.begun += 1;
    }

    /// Nothing known holds any more.
    pub(super) fn forget(&mut self) {
        self.since.clear();
    }

    /// Takes in the monitors unchecked at `now` (the others are forgotten); returns since when
    /// each has been.
    fn observe(&mut self, unchecked: &HashSet<&MonitorId>, now: Timestamp) -> HashMap<MonitorId, Timestamp> {
        if self.looked + 1 < self.begun {
            self.since.clear();
        }
        self.looked = self.begun;
        self.since.retain(|monitor, _| unchecked.contains(monitor));
        for monitor in unchecked {
            if !self.since.contains_key(*monitor) {
                tracing::info!(monitor.id = %monitor, grace = ?GRACE, "an alert's monitor is not checked here; its alerts are resolved if it stays so");
                self.since.insert((*monitor).clone(), now);
            }
        }
        self.since.clone()
    }

    /// `monitor` was seen checked at `now`.
    fn checked(&mut self, monitor: &MonitorId, now: Timestamp) {
        if let Some(since) = self.since.get_mut(monitor) {
            *since = now;
        }
    }
}

impl Dispatcher {
    /// Forgets since when alerts' monitors have gone unchecked, so none is settled before a
    /// whole [`GRACE`] of this node's steps saw it unchecked again. For while this node does not
    /// hold the desk (its steps do not run, so they see nothing).
    pub fn forget_unchecked(&self) {
        self.unchecked().forget();
    }

    fn unchecked(&self) -> std::sync::MutexGuard<'_, Unchecked> {
        self.unchecked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves, without telling any channel, the unresolved alerts nothing else would ever
    /// resolve (see the module docs). `unresolved` is left as stored after.
    pub(super) async fn settle(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        if unresolved.is_empty() {
            self.unchecked().observe(&HashSet::new(), now);
            return Ok(());
        }
        // Only the monitors the alerts name are looked at (a handful, against 20,000 in the
        // catalog): whether each is configured here and whether it is paused.
        let named: HashSet<&MonitorId> = unresolved.iter().filter_map(|a| a.event.monitor.as_ref()).collect();
        let paused: HashSet<MonitorId> = if named.is_empty() {
            HashSet::new()
        } else {
            let states = self.runtime.states().into_iter();
            states
                .filter(|s| s.state == MonitorState::Paused && named.contains(&s.monitor))
                .map(|s| s.monitor)
                .collect()
        };
        let monitors: HashMap<&str, bool> = catalog
            .monitors
            .iter()
            .filter(|m| named.contains(&m.id))
            .map(|m| (m.id.as_str(), paused.contains(&m.id)))
            .collect();
        let expected: Option<HashSet<String>> = unresolved
            .iter()
            .any(|a| a.event.kind == EventKind::ProbeMissing)
            .then(|| self.runtime.probes().probes().iter().map(|s| probes::subject(&s.region)).collect());
        let stranded: Vec<(&Alert, Why)> =
            unresolved.iter().filter_map(|a| Some((a, stranded(a, &monitors, expected.as_ref())?))).collect();
        let unchecked: HashSet<&MonitorId> = stranded
            .iter()
            .filter(|(_, why)| why.is_unchecked())
            .filter_map(|(a, _)| a.event.monitor.as_ref())
            .collect();
        let since = self.unchecked().observe(&unchecked, now);
        let due = |monitor: &MonitorId| {
            since.get(monitor).and_then(|at| at.checked_add(GRACE).ok()).is_some_and(|at| at <= now)
        };
        // A monitor gone from this node's config may still be checked by another node's: its
        // results say so (one read per monitor, only when it is due, which is rare).
        let mut checked_elsewhere = HashSet::new();
        let gone_due: HashSet<&MonitorId> = stranded
            .iter()
            .filter(|(_, why)| *why == Why::Gone)
            .filter_map(|(a, _)| a.event.monitor.as_ref())
            .filter(|m| due(m))
            .collect();
        for monitor in gone_due {
            let window = now.checked_sub(GRACE).unwrap_or(Timestamp::MIN);
            if !self.storage.results(monitor, Some(window), 1).await?.is_empty() {
                tracing::info!(monitor.id = %monitor, "an alert's monitor is not configured here but still checked; its alerts are kept");
                self.unchecked().checked(monitor, now);
                checked_elsewhere.insert(monitor.clone());
            }
        }
        let mut changed = vec![];
        for (alert, why) in stranded {
            let settle = match (why, alert.event.monitor.as_ref()) {
                (Why::Gone, Some(m)) => due(m) && !checked_elsewhere.contains(m),
                (Why::Paused, Some(m)) => due(m),
                (Why::Gone | Why::Paused, None) => false,
                (Why::FinishedNotice | Why::ProbeGone, _) => true,
            };
            if !settle {
                continue;
            }
            tracing::info!(alert.id = %alert.id, reason = why.as_str(), "alert resolved without telling the channels");
            let mut alert = alert.clone();
            alert.resolve(now);
            changed.push(alert);
        }
        if changed.is_empty() {
            return Ok(());
        }
        self.storage.route(&[], &changed, &[], None).await?;
        stored(unresolved, &[], &changed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use belfry_core::MonitorId;
    use belfry_core::alert::{Escalation, EscalationStep, Event};

    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn alert(kind: EventKind, monitor: Option<&str>) -> Alert {
        let escalation = Escalation {
            id: "ops".into(),
            repeat: 1,
            steps: vec![EscalationStep {
                after: std::time::Duration::from_secs(300),
                notify: vec!["hook".into()],
            }],
            round: None,
            renotify: None,
        };
        let event = Event {
            kind,
            at: at(0),
            monitor: monitor.map(|m| MonitorId::parse(m).unwrap()),
            component: None,
            incident: None,
            title: "t".into(),
            reason: None,
            failing_conditions: vec![],
            tags: vec![],
        };
        Alert::open("a".into(), &escalation, event, at(0))
    }

    #[test]
    fn only_alerts_nothing_would_resolve_are_stranded() {
        let monitors = HashMap::from([("api", false), ("old", true)]);
        let down = alert(EventKind::Down, Some("api"));
        assert_eq!(stranded(&down, &monitors, None), None, "its recovery will resolve it");
        let mut acknowledged = down.clone();
        assert!(acknowledged.acknowledge("alice", at(1)));
        assert_eq!(stranded(&acknowledged, &monitors, None), None, "acknowledged: its recovery still will");
        let removed = alert(EventKind::Down, Some("gone"));
        assert_eq!(stranded(&removed, &monitors, None), Some(Why::Gone));
        let warning = alert(EventKind::CertificateExpiring, Some("gone"));
        assert_eq!(stranded(&warning, &monitors, None), Some(Why::Gone));
        let paused = alert(EventKind::Down, Some("old"));
        assert_eq!(stranded(&paused, &monitors, None), Some(Why::Paused));
        let paused_warning = alert(EventKind::CertificateExpiring, Some("old"));
        assert_eq!(stranded(&paused_warning, &monitors, None), None, "resumed, its certificate tells");

        let mut notice = alert(EventKind::Up, Some("api"));
        assert_eq!(stranded(&notice, &monitors, None), None, "its delayed step is still to go out");
        assert!(notice.acknowledge("alice", at(1)));
        assert_eq!(stranded(&notice, &monitors, None), Some(Why::FinishedNotice));
        let mut incident = alert(EventKind::IncidentCreated, None);
        assert!(incident.acknowledge("alice", at(1)));
        assert_eq!(stranded(&incident, &monitors, None), Some(Why::FinishedNotice));

        let mut probe = alert(EventKind::ProbeMissing, None);
        probe.subject = probes::subject("eu");
        let expected = HashSet::from([probes::subject("eu")]);
        assert_eq!(stranded(&probe, &monitors, Some(&expected)), None, "its probe may come back");
        assert_eq!(stranded(&probe, &monitors, None), None);
        assert!(probe.acknowledge("alice", at(1)));
        let others = HashSet::from([probes::subject("us")]);
        assert_eq!(stranded(&probe, &monitors, Some(&others)), Some(Why::ProbeGone));
        assert_eq!(stranded(&probe, &monitors, Some(&HashSet::new())), Some(Why::ProbeGone));
    }

    #[test]
    fn a_monitor_counts_as_unchecked_since_the_first_of_the_unbroken_steps_that_saw_it_so() {
        let (api, web) = (MonitorId::parse("api").unwrap(), MonitorId::parse("web").unwrap());
        let mut memory = Unchecked::default();
        fn step(
            memory: &mut Unchecked,
            unchecked: &[&MonitorId],
            now: Timestamp,
        ) -> HashMap<MonitorId, Timestamp> {
            memory.begin();
            memory.observe(&unchecked.iter().copied().collect(), now)
        }
        assert_eq!(step(&mut memory, &[&api], at(0)), HashMap::from([(api.clone(), at(0))]));
        let both = step(&mut memory, &[&api, &web], at(10));
        assert_eq!(both, HashMap::from([(api.clone(), at(0)), (web.clone(), at(10))]));
        // Configured again for one step: it starts over.
        assert_eq!(step(&mut memory, &[&web], at(20)), HashMap::from([(web.clone(), at(10))]));
        assert_eq!(step(&mut memory, &[&api, &web], at(30))[&api], at(30));

        // A retried stage looks again within its step.
        assert_eq!(memory.observe(&HashSet::from([&api, &web]), at(31))[&api], at(30));
        // A step that did not get as far as settling saw nothing.
        memory.begin();
        assert_eq!(step(&mut memory, &[&api], at(50)), HashMap::from([(api.clone(), at(50))]));
        // Another node held the desk.
        memory.forget();
        assert_eq!(step(&mut memory, &[&api], at(60)), HashMap::from([(api.clone(), at(60))]));
        // Still checked elsewhere.
        memory.checked(&api, at(70));
        assert_eq!(step(&mut memory, &[&api], at(80)), HashMap::from([(api, at(70))]));
    }
}

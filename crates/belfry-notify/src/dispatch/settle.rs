//! Unresolved alerts that nothing would ever resolve, resolved at every step so the unresolved
//! set (read at every step) stays bounded:
//! - a notice that will send nothing more ([`Alert::is_finished_notice`]): acknowledged before
//!   its delayed step went out, or sent and stored active before notices resolved once sent;
//! - an alert about a monitor no longer in the config (its recovery or renewal will never be
//!   seen) or paused (it is not checked: nothing will be seen until it is resumed, and then a
//!   new outage is a new alert) — certificate warnings included;
//! - a `probe_missing` alert of a region no monitor names any more (the probe is no longer
//!   expected, so it will never be seen coming back).
//!
//! They are resolved silently: removing or pausing a monitor, dropping a region and
//! acknowledging are a person's decisions, and none of them is news to the channels. A
//! "resolved" message would claim a recovery nobody saw; the channels that were paged about such
//! an alert (a PagerDuty incident, say) are closed there by the person, as after an
//! acknowledgement, which tells no channel either.

use std::collections::{HashMap, HashSet};

use belfry_core::alert::{Alert, EventKind};
use belfry_core::{Catalog, StoreError};
use jiff::Timestamp;

use super::{Dispatcher, probes, stored};

/// Why nothing would ever resolve `alert`, if so. `monitors`: whether each configured monitor
/// is paused, by id; `probes`: the subjects of the probes expected now (`None`: not asked, as
/// no unresolved alert is about a probe).
fn stranded(
    alert: &Alert,
    monitors: &HashMap<&str, bool>,
    probes: Option<&HashSet<String>>,
) -> Option<&'static str> {
    if alert.is_finished_notice() {
        return Some("a notice with nothing more to send");
    }
    if let Some(monitor) = &alert.event.monitor {
        match monitors.get(monitor.as_str()) {
            None => return Some("its monitor is no longer configured"),
            Some(true) => return Some("its monitor is paused"),
            Some(false) => {}
        }
    }
    let gone = probes.is_some_and(|expected| !expected.contains(&alert.subject));
    (alert.event.kind == EventKind::ProbeMissing && gone)
        .then_some("its region's probe is no longer expected")
}

impl Dispatcher {
    /// Resolves, without telling any channel, the unresolved alerts nothing else would ever
    /// resolve (see the module docs). `unresolved` is left as stored after.
    pub(super) async fn settle(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        if unresolved.is_empty() {
            return Ok(());
        }
        let monitors: HashMap<&str, bool> =
            catalog.monitors.iter().map(|m| (m.id.as_str(), m.paused)).collect();
        let expected: Option<HashSet<String>> = unresolved
            .iter()
            .any(|a| a.event.kind == EventKind::ProbeMissing)
            .then(|| self.runtime.probes().probes().iter().map(|s| probes::subject(&s.region)).collect());
        let mut changed = vec![];
        for alert in unresolved.iter() {
            let Some(why) = stranded(alert, &monitors, expected.as_ref()) else { continue };
            tracing::info!(alert.id = %alert.id, reason = why, "alert resolved without telling the channels");
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
        assert_eq!(stranded(&removed, &monitors, None), Some("its monitor is no longer configured"));
        let warning = alert(EventKind::CertificateExpiring, Some("gone"));
        assert_eq!(stranded(&warning, &monitors, None), Some("its monitor is no longer configured"));
        let paused = alert(EventKind::Down, Some("old"));
        assert_eq!(stranded(&paused, &monitors, None), Some("its monitor is paused"));

        let mut notice = alert(EventKind::Up, Some("api"));
        assert_eq!(stranded(&notice, &monitors, None), None, "its delayed step is still to go out");
        assert!(notice.acknowledge("alice", at(1)));
        assert_eq!(stranded(&notice, &monitors, None), Some("a notice with nothing more to send"));
        let mut incident = alert(EventKind::IncidentCreated, None);
        assert!(incident.acknowledge("alice", at(1)));
        assert_eq!(stranded(&incident, &monitors, None), Some("a notice with nothing more to send"));

        let mut probe = alert(EventKind::ProbeMissing, None);
        probe.subject = probes::subject("eu");
        let expected = HashSet::from([probes::subject("eu")]);
        assert_eq!(stranded(&probe, &monitors, Some(&expected)), None, "its probe may come back");
        assert_eq!(stranded(&probe, &monitors, None), None);
        assert!(probe.acknowledge("alice", at(1)));
        let others = HashSet::from([probes::subject("us")]);
        assert_eq!(
            stranded(&probe, &monitors, Some(&others)),
            Some("its region's probe is no longer expected")
        );
        assert_eq!(
            stranded(&probe, &monitors, Some(&HashSet::new())),
            Some("its region's probe is no longer expected")
        );
    }
}

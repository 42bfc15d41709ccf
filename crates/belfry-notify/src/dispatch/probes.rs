//! `probe_missing`: a remote probe that stopped reporting is its own alert, about the probe
//! (subject `probe:<region>`), never about the monitors it ran. It resolves when the probe
//! reports again.

use std::collections::HashSet;

use belfry_core::Catalog;
use belfry_core::alert::{Alert, Event, EventKind};
use belfry_core::probe::ProbeStatus;
use belfry_core::{StoreError, alert::Delivery};
use jiff::Timestamp;

use super::{Dispatcher, DrainReport, tell_resolved};

/// What a `probe_missing` alert is about.
pub(super) fn subject(region: &str) -> String {
    format!("probe:{region}")
}

fn event(status: &ProbeStatus) -> Event {
    let since = status.last_seen.unwrap_or(status.expected_since);
    let reason = match status.last_seen {
        Some(at) => format!("no report since {at}; the monitors it runs keep their state"),
        None => {
            format!("no report since the server started ({since}); the monitors it runs keep their state")
        }
    };
    Event {
        kind: EventKind::ProbeMissing,
        at: since,
        monitor: None,
        component: None,
        incident: None,
        title: format!("Probe of region {} stopped reporting", status.region),
        reason: Some(reason),
        failing_conditions: vec![],
        tags: vec![],
    }
}

impl Dispatcher {
    /// Opens one alert per rule for each probe gone missing, and resolves those of probes
    /// that came back, acknowledged or not (telling the channels that were paged). `unresolved`
    /// (the step's unresolved alerts) is left as stored after. Alerts of probes no longer
    /// expected are resolved by `settle`.
    pub(super) async fn probes(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        let statuses = self.runtime.probes().probes();
        if statuses.is_empty() {
            return Ok(());
        }
        let wanted = catalog.alerting.rules.iter().any(|r| r.events.contains(&EventKind::ProbeMissing));
        let back: HashSet<String> =
            statuses.iter().filter(|s| !s.missing).map(|s| subject(&s.region)).collect();
        let mut opened = vec![];
        let mut changed = vec![];
        let mut deliveries: Vec<Delivery> = vec![];
        let known: HashSet<&str> = unresolved.iter().map(|a| a.id.as_str()).collect();
        for status in statuses.iter().filter(|s| s.missing && wanted) {
            let event = event(status);
            for (i, rule) in catalog.alerting.rules.iter().enumerate() {
                if !rule.matches(&event) {
                    continue;
                }
                let Some(escalation) = catalog.alerting.escalation(&rule.escalation) else { continue };
                let id = format!("probe_missing-{}-{}-{i}", status.region, event.at.as_second());
                // Unresolved (the usual case while it is missing), or resolved already.
                if known.contains(id.as_str()) || self.storage.alert(&id).await?.is_some() {
                    continue;
                }
                tracing::warn!(region = %status.region, "remote probe stopped reporting");
                let mut alert = Alert::open(id, escalation, event.clone(), now);
                alert.subject = subject(&status.region);
                let due = alert.take_due(escalation, now);
                self.queue(catalog, &alert, &due, now, &mut deliveries);
                opened.push(alert);
            }
        }
        if !back.is_empty() {
            let came_back = |a: &&Alert| a.event.kind == EventKind::ProbeMissing && back.contains(&a.subject);
            for mut alert in unresolved.iter().filter(came_back).cloned() {
                if !alert.resolve(now) {
                    continue;
                }
                tracing::info!(subject = %alert.subject, "remote probe reports again");
                tell_resolved(catalog, &alert, now, &mut deliveries);
                changed.push(alert);
            }
        }
        self.write_alerts(unresolved, (&opened, &changed, &deliveries), None, report).await
    }
}

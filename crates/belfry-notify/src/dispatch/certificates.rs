//! `certificate_expiring`: a certificate that expires within `alerting.certificate_warning` is
//! warned about once per certificate and escalation. The alert is about the certificate
//! (subject `certificate:<monitor>:<not after>`), not about the monitor: the monitor's recovery
//! does not resolve it, a renewal does — once the monitor's latest results show certificates
//! and none of them is the one warned about still within the window.

use std::collections::HashSet;
use std::time::Duration;

use belfry_core::alert::{Alert, Event, EventKind};
use belfry_core::{Catalog, CheckResult, MonitorId, StoreError};
use jiff::Timestamp;

use super::{Dispatcher, DrainReport, Fact, tell_resolved};

/// What a certificate alert is about: one certificate (by its expiry) of one monitor.
fn subject(monitor: &MonitorId, not_after: Timestamp) -> String {
    format!("certificate:{monitor}:{}", not_after.as_second())
}

/// The expiry of the certificate `result` recorded, if it recorded one.
fn not_after(result: &CheckResult) -> Option<Timestamp> {
    result.values.get("certificate")?["not_after"].as_str()?.parse().ok()
}

fn time_left(not_after: Timestamp, now: Timestamp) -> Duration {
    not_after.duration_since(now).try_into().unwrap_or(Duration::ZERO)
}

/// What the latest results say about certificates at `now`.
#[derive(Debug, Default)]
struct Survey {
    /// Certificates within the warning window, each once, in result order.
    expiring: Vec<(MonitorId, Timestamp)>,
    /// Monitors whose latest results show a certificate at all.
    showing: HashSet<MonitorId>,
}

impl Survey {
    fn of<'r>(
        certificates: impl IntoIterator<Item = (&'r MonitorId, Timestamp)>,
        now: Timestamp,
        window: Duration,
    ) -> Self {
        let mut survey = Self::default();
        for (monitor, not_after) in certificates {
            survey.showing.insert(monitor.clone());
            let warned = (monitor.clone(), not_after);
            if time_left(not_after, now) <= window && !survey.expiring.contains(&warned) {
                survey.expiring.push(warned);
            }
        }
        survey
    }

    /// Whether the certificate `alert` warned about is gone: its monitor shows certificates
    /// now, and none of them is that one within the window. A monitor that shows none (its
    /// checks fail before the handshake) tells nothing, so the alert stays.
    fn renewed(&self, alert: &Alert) -> bool {
        let Some(monitor) = &alert.event.monitor else { return false };
        self.showing.contains(monitor)
            && !self.expiring.iter().any(|(m, not_after)| alert.subject == subject(m, *not_after))
    }
}

impl Dispatcher {
    /// Warns once per certificate and escalation within the window; resolves the warnings of
    /// renewed certificates (telling the channels that were paged).
    pub(super) async fn certificates(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        let wanted =
            catalog.alerting.rules.iter().any(|r| r.events.contains(&EventKind::CertificateExpiring));
        let warnings: Vec<Alert> = self
            .storage
            .active_alerts()
            .await?
            .into_iter()
            .filter(|a| a.event.kind == EventKind::CertificateExpiring)
            .collect();
        if !wanted && warnings.is_empty() {
            return Ok(());
        }
        let results = self.storage.latest_results().await?;
        let survey = Survey::of(
            results.iter().filter_map(|r| Some((&r.monitor, not_after(r)?))),
            now,
            catalog.alerting.certificate_warning,
        );
        let mut opened: Vec<Alert> = vec![];
        let mut changed = vec![];
        let mut deliveries = vec![];
        for (monitor, not_after) in survey.expiring.iter().filter(|_| wanted) {
            let Some(spec) = catalog.monitor(monitor.as_str()) else { continue };
            let days = time_left(*not_after, now).as_secs() / 86_400;
            let event = Event {
                kind: EventKind::CertificateExpiring,
                at: now,
                monitor: Some(spec.id.clone()),
                component: spec.component.clone(),
                incident: None,
                title: format!("{}: TLS certificate expires in {days} days", spec.name),
                reason: Some(format!("the certificate is valid until {not_after}")),
                failing_conditions: vec![],
                tags: spec.tags.clone(),
            };
            for rule in catalog.alerting.rules.iter().filter(|r| r.matches(&event)) {
                let Some(escalation) = catalog.alerting.escalation(&rule.escalation) else { continue };
                // By the escalation, not the rule's position: reordering rules sends nothing
                // again, and two rules with the same escalation page its people once.
                let id = format!("cert-{}-{}-{}", spec.id, not_after.as_second(), escalation.id);
                if opened.iter().any(|a| a.id == id) || self.storage.alert(&id).await?.is_some() {
                    continue;
                }
                let mut alert = Alert::open(id, escalation, event.clone(), now);
                alert.subject = subject(&spec.id, *not_after);
                let due = alert.take_due(escalation, now);
                self.queue(catalog, &alert, &due, now, &mut deliveries);
                opened.push(alert);
            }
        }
        for mut alert in warnings.into_iter().filter(|a| survey.renewed(a)) {
            if alert.resolve(now) {
                tracing::info!(alert.id = %alert.id, "the certificate was renewed");
                tell_resolved(catalog, &alert, now, &mut deliveries);
                changed.push(alert);
            }
        }
        if opened.is_empty() && changed.is_empty() {
            return Ok(());
        }
        report.alerts_opened += opened.len();
        report.queued += deliveries.len();
        match self.storage.route(&opened, &changed, &deliveries, None).await {
            // Acknowledged meanwhile: the next step sees the new state.
            Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
            Ok(()) => self.record_on_incidents(Fact::sent(&deliveries)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use belfry_core::alert::{Escalation, EscalationStep};

    use super::*;

    const DAY: i64 = 86_400;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn id(raw: &str) -> MonitorId {
        MonitorId::parse(raw).unwrap()
    }

    fn window() -> Duration {
        Duration::from_secs(14 * DAY as u64)
    }

    /// The alert `certificates` opens for `monitor`'s certificate expiring at `not_after`.
    fn warning(monitor: &str, not_after: Timestamp) -> Alert {
        let escalation = Escalation {
            id: "certs".into(),
            repeat: 1,
            steps: vec![EscalationStep { after: Duration::ZERO, notify: vec!["hook".into()] }],
            round: None,
            renotify: None,
        };
        let event = Event {
            kind: EventKind::CertificateExpiring,
            at: at(0),
            monitor: Some(id(monitor)),
            component: None,
            incident: None,
            title: "Website: TLS certificate expires in 5 days".into(),
            reason: None,
            failing_conditions: vec![],
            tags: vec![],
        };
        let mut alert = Alert::open("a".into(), &escalation, event, at(0));
        alert.subject = subject(&id(monitor), not_after);
        alert
    }

    #[test]
    fn only_certificates_within_the_window_are_expiring_each_once() {
        let (site, api) = (id("site"), id("api"));
        let soon = at(5 * DAY);
        let seen = [(&site, soon), (&site, soon), (&api, at(90 * DAY)), (&site, at(14 * DAY))];
        let survey = Survey::of(seen, at(0), window());
        assert_eq!(survey.expiring, [(site.clone(), soon), (site.clone(), at(14 * DAY))]);
        assert_eq!(survey.showing, HashSet::from([site, api]));
        let configured = Survey::of([(&id("site"), soon)], at(0), Duration::from_secs(3 * DAY as u64));
        assert!(configured.expiring.is_empty(), "a shorter window does not warn 5 days ahead");
    }

    #[test]
    fn a_warning_resolves_when_its_certificate_is_no_longer_shown_within_the_window() {
        let site = id("site");
        let soon = at(5 * DAY);
        let alert = warning("site", soon);
        assert!(!Survey::of([(&site, soon)], at(0), window()).renewed(&alert), "still the same certificate");
        assert!(Survey::of([(&site, at(90 * DAY))], at(0), window()).renewed(&alert), "renewed");
        assert!(Survey::of([(&site, at(10 * DAY))], at(0), window()).renewed(&alert), "another certificate");
        assert!(
            !Survey::of([(&site, at(90 * DAY)), (&site, soon)], at(0), window()).renewed(&alert),
            "one region still sees the old certificate"
        );
        assert!(
            !Survey::of([(&id("api"), at(90 * DAY))], at(0), window()).renewed(&alert),
            "no news of site"
        );
        assert!(!Survey::default().renewed(&alert), "no certificate shown: the handshake failed");
    }

    #[test]
    fn the_expiry_is_read_from_the_recorded_certificate() {
        let result = |values: serde_json::Value| CheckResult {
            monitor: id("site"),
            region: "local".into(),
            at: at(0),
            ok: true,
            degraded: false,
            inconclusive: false,
            duration_ms: 1,
            phases: Default::default(),
            status: None,
            ip: None,
            error: None,
            conditions: vec![],
            values: serde_json::from_value(values).unwrap(),
        };
        let recorded = result(serde_json::json!({"certificate": {"not_after": "2027-01-15T08:00:00Z"}}));
        assert_eq!(not_after(&recorded), Some("2027-01-15T08:00:00Z".parse().unwrap()));
        assert_eq!(not_after(&result(serde_json::json!({}))), None);
        assert_eq!(not_after(&result(serde_json::json!({"certificate": {"not_after": "soon"}}))), None);
    }
}

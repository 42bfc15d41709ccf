//! `certificate_expiring`: a certificate that expires within `alerting.certificate_warning` is
//! warned about once per certificate and escalation. The alert is about the certificate
//! (subject `certificate:<monitor>:<not after>`), not about the monitor: the monitor's recovery
//! does not resolve it, a renewal does — once the monitor's latest results show certificates
//! and none of them is the one warned about still within the window. Acknowledged warnings
//! resolve the same way.
//!
//! Alerts stored before warnings had their own subject (subject `monitor:<id>`, id ending in the
//! rule's index rather than the escalation) are recognised by their kind, monitor and the
//! expiry in their id, so they are neither resolved nor warned about again while their
//! certificate is still the one seen. Such an id is only taken for an escalation's warning
//! when the stored alert names that escalation; and the id of a warning for an escalation whose
//! id is all digits is marked (`~`), so it is never the id of an old warning.

use std::collections::HashSet;
use std::time::Duration;

use belfry_core::alert::{Alert, Event, EventKind};
use belfry_core::{Catalog, CheckResult, MonitorId, StoreError};
use jiff::Timestamp;

use super::{Dispatcher, DrainReport, Fact, tell_resolved};

/// Every certificate alert's id starts with this.
const ID_PREFIX: &str = "cert-";

/// What a certificate alert is about: one certificate (by its expiry) of one monitor.
fn subject(monitor: &MonitorId, not_after: Timestamp) -> String {
    format!("certificate:{monitor}:{}", not_after.as_second())
}

/// The id of the warning about a certificate for one escalation (or, in alerts stored before,
/// one rule's index).
fn alert_id(monitor: &MonitorId, not_after: Timestamp, by: &str) -> String {
    format!("{ID_PREFIX}{monitor}-{}-{by}", not_after.as_second())
}

/// What the id of a warning for `escalation` ends in: its id, marked with a `~` (never in a
/// config id) when it is all digits, so it cannot be the id of a warning stored before, which
/// ends in a rule's index.
fn by_escalation(escalation: &str) -> String {
    if escalation.bytes().all(|b| b.is_ascii_digit()) {
        format!("{escalation}~")
    } else {
        escalation.to_owned()
    }
}

/// The certificate a warning is about, read from its id (the same in both forms of it).
fn warned(alert: &Alert) -> Option<(&MonitorId, Timestamp)> {
    if alert.event.kind != EventKind::CertificateExpiring {
        return None;
    }
    let monitor = alert.event.monitor.as_ref()?;
    let rest = alert.id.strip_prefix(ID_PREFIX)?.strip_prefix(monitor.as_str())?.strip_prefix('-')?;
    let (seconds, _) = rest.split_once('-')?;
    Some((monitor, Timestamp::from_second(seconds.parse().ok()?).ok()?))
}

/// The expiry of the certificate `result` recorded, if it recorded one, in whole seconds (as
/// certificates and alert ids hold it).
fn not_after(result: &CheckResult) -> Option<Timestamp> {
    let at: Timestamp = result.values.get("certificate")?["not_after"].as_str()?.parse().ok()?;
    Timestamp::from_second(at.as_second()).ok()
}

fn time_left(not_after: Timestamp, now: Timestamp) -> Duration {
    not_after.duration_since(now).try_into().unwrap_or(Duration::ZERO)
}

/// Warnings known to exist in the store (resolved ones included: a warning is never sent twice),
/// by certificate and escalation, so a certificate still expiring is not looked up at every step.
#[derive(Debug, Default)]
pub(super) struct Memory {
    warned: HashSet<(MonitorId, Timestamp, String)>,
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
        let Some((monitor, not_after)) = warned(alert) else { return false };
        self.showing.contains(monitor) && !self.expiring.iter().any(|(m, n)| m == monitor && *n == not_after)
    }
}

/// The certificates and escalations `warnings` (unresolved) are about, as
/// `(monitor, not after, escalation)`: what is not warned about again.
fn covered(warnings: &[&Alert]) -> HashSet<(MonitorId, Timestamp, String)> {
    warnings
        .iter()
        .filter_map(|a| {
            warned(a).map(|(monitor, not_after)| (monitor.clone(), not_after, a.escalation.clone()))
        })
        .collect()
}

impl Dispatcher {
    /// Warns once per certificate and escalation within the window; resolves the warnings of
    /// renewed certificates, acknowledged or not (telling the channels that were paged).
    /// `unresolved` (the step's unresolved alerts) is left as stored after.
    pub(super) async fn certificates(
        &self,
        catalog: &Catalog,
        now: Timestamp,
        unresolved: &mut Vec<Alert>,
        report: &mut DrainReport,
    ) -> Result<(), StoreError> {
        let wanted =
            catalog.alerting.rules.iter().any(|r| r.events.contains(&EventKind::CertificateExpiring));
        // What the warnings below and the renewals are checked against.
        let warnings: Vec<&Alert> = unresolved.iter().filter(|a| warned(a).is_some()).collect();
        if !wanted && warnings.is_empty() {
            return Ok(());
        }
        let results = self.storage.latest_results().await?;
        let survey = Survey::of(
            results.iter().filter_map(|r| Some((&r.monitor, not_after(r)?))),
            now,
            catalog.alerting.certificate_warning,
        );
        let covered = covered(&warnings);
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
            for (i, rule) in catalog.alerting.rules.iter().enumerate().filter(|(_, r)| r.matches(&event)) {
                let Some(escalation) = catalog.alerting.escalation(&rule.escalation) else { continue };
                // By the escalation, not the rule's position: reordering rules sends nothing
                // again, and two rules with the same escalation page its people once.
                let id = alert_id(&spec.id, *not_after, &by_escalation(&escalation.id));
                let key = (spec.id.clone(), *not_after, escalation.id.clone());
                if opened.iter().any(|a| a.id == id) || covered.contains(&key) {
                    continue;
                }
                // Stored before: without the `~` mark, or (before warnings had their own
                // subject) ending in this rule's index; either is only this escalation's
                // warning if it says so.
                let before = [
                    id.clone(),
                    alert_id(&spec.id, *not_after, &escalation.id),
                    alert_id(&spec.id, *not_after, &i.to_string()),
                ];
                if self.warned_before(key, &before).await? {
                    continue;
                }
                let mut alert = Alert::open(id, escalation, event.clone(), now);
                alert.subject = subject(&spec.id, *not_after);
                let due = alert.take_due(escalation, now);
                self.queue(catalog, &alert, &due, now, &mut deliveries);
                opened.push(alert);
            }
        }
        for mut alert in warnings.into_iter().filter(|a| survey.renewed(a)).cloned() {
            if alert.resolve(now) {
                tracing::info!(alert.id = %alert.id, "the certificate was renewed");
                tell_resolved(catalog, &alert, now, &mut deliveries);
                changed.push(alert);
            }
        }
        if opened.is_empty() && changed.is_empty() {
            return Ok(());
        }
        self.write_alerts(unresolved, (&opened, &changed, &deliveries), None, report).await?;
        self.remember_warned(&opened);
        self.record_on_incidents(Fact::sent(&deliveries)).await
    }

    fn remember_warned(&self, opened: &[Alert]) {
        let mut memory = self.certificates.lock().unwrap_or_else(|e| e.into_inner());
        for alert in opened {
            if let Some((monitor, not_after)) = warned(alert) {
                memory.warned.insert((monitor.clone(), not_after, alert.escalation.clone()));
            }
        }
    }

    /// Whether a warning about the certificate for the escalation (`key`: monitor, not after,
    /// escalation) exists though none is unresolved: resolved (the certificate came back after a
    /// renewal, or its alert was settled) or, stored before warnings had their own subject,
    /// resolved by the monitor's recovery. Looked up by `ids` once, then remembered; an alert
    /// found counts only if it is that escalation's (an id ending in a rule's index may be
    /// another escalation's old warning).
    async fn warned_before(
        &self,
        key: (MonitorId, Timestamp, String),
        ids: &[String],
    ) -> Result<bool, StoreError> {
        if self.certificates.lock().unwrap_or_else(|e| e.into_inner()).warned.contains(&key) {
            return Ok(true);
        }
        let mut looked_up = HashSet::new();
        for id in ids.iter().filter(|id| looked_up.insert(id.as_str())) {
            if self.storage.alert(id).await?.is_some_and(|a| a.escalation == key.2) {
                self.certificates.lock().unwrap_or_else(|e| e.into_inner()).warned.insert(key);
                return Ok(true);
            }
        }
        Ok(false)
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
        let mut alert = Alert::open(alert_id(&id(monitor), not_after, "certs"), &escalation, event, at(0));
        alert.subject = subject(&id(monitor), not_after);
        alert
    }

    /// The same warning as stored before warnings had their own subject: about the monitor,
    /// with the rule's index at the end of its id.
    fn legacy(monitor: &str, not_after: Timestamp, rule: usize) -> Alert {
        let mut alert = warning(monitor, not_after);
        alert.id = format!("cert-{monitor}-{}-{rule}", not_after.as_second());
        alert.subject = format!("monitor:{monitor}");
        alert
    }

    #[test]
    fn the_certificate_is_read_from_the_id_of_both_forms_of_warning() {
        let soon = at(5 * DAY);
        let site = id("site-a-b");
        assert_eq!(warned(&warning("site-a-b", soon)), Some((&site, soon)));
        assert_eq!(warned(&legacy("site-a-b", soon, 3)), Some((&site, soon)));
        let mut other = warning("site-a-b", soon);
        other.event.monitor = Some(id("site-a"));
        assert_eq!(warned(&other), None, "the id is of another monitor");
        let mut down = legacy("site-a-b", soon, 0);
        down.event.kind = EventKind::Down;
        assert_eq!(warned(&down), None, "not a certificate warning");
    }

    #[test]
    fn a_legacy_warning_stays_and_covers_its_certificate_while_that_is_still_seen() {
        let site = id("site");
        let soon = at(5 * DAY);
        let old = legacy("site", soon, 0);
        let still = Survey::of([(&site, soon)], at(0), window());
        assert!(!still.renewed(&old), "the certificate warned about is still the one seen");
        assert!(Survey::of([(&site, at(90 * DAY))], at(0), window()).renewed(&old), "renewed");
        let covered = covered(&[&old]);
        let covers = |monitor: &MonitorId, not_after, escalation: &str| {
            covered.contains(&(monitor.clone(), not_after, escalation.to_owned()))
        };
        assert!(covers(&site, soon, "certs"), "not warned about again");
        assert!(!covers(&site, at(6 * DAY), "certs"), "another certificate");
        assert!(!covers(&site, soon, "others"), "another escalation's people");
        assert!(!covers(&id("api"), soon, "certs"));
    }

    #[test]
    fn a_warning_for_an_escalation_named_by_digits_never_has_the_id_of_an_old_warning() {
        let soon = at(5 * DAY);
        let site = id("site");
        assert_eq!(alert_id(&site, soon, &by_escalation("certs")), alert_id(&site, soon, "certs"));
        let numbered = alert_id(&site, soon, &by_escalation("0"));
        assert_ne!(numbered, legacy("site", soon, 0).id, "the old warning of rule 0");
        let mut alert = warning("site", soon);
        alert.id = numbered;
        assert_eq!(warned(&alert), Some((&site, soon)), "its certificate is read from it all the same");
        assert_eq!(by_escalation("0-1"), "0-1");
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
        let fraction = result(serde_json::json!({"certificate": {"not_after": "2027-01-15T08:00:00.25Z"}}));
        assert_eq!(not_after(&fraction), Some("2027-01-15T08:00:00Z".parse().unwrap()), "whole seconds");
        assert_eq!(not_after(&result(serde_json::json!({}))), None);
        assert_eq!(not_after(&result(serde_json::json!({"certificate": {"not_after": "soon"}}))), None);
    }
}

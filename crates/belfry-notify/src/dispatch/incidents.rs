//! Incident events for alert rules (`incident_created`, `incident_updated`,
//! `incident_resolved`): each published incident update since the cursor becomes an event, and
//! every matching rule sends it once through its escalation's first step.

use std::collections::BTreeSet;

use belfry_core::alert::{Alert, Event, EventKind};
use belfry_core::incident::{Incident, IncidentStatus};
use belfry_core::store::{IncidentFilter, Storage};
use belfry_core::{Catalog, StoreError};
use jiff::{SignedDuration, Timestamp};

/// The store cursor of this step: up to when it looked (epoch ms).
pub(super) const CURSOR: &str = "alerting_incidents";
/// Each look starts again this long before the cursor, so an update saved during the previous
/// look is not missed; alert ids are deterministic, so nothing is sent twice.
const OVERLAP: SignedDuration = SignedDuration::from_secs(60);

/// The incident events since the last look that some rule wants, as new alerts.
pub(super) async fn events(
    storage: &dyn Storage,
    catalog: &Catalog,
    now: Timestamp,
) -> Result<(Vec<Alert>, String), StoreError> {
    let position = now.as_millisecond().to_string();
    let wanted = |k: EventKind| catalog.alerting.rules.iter().any(|r| r.events.contains(&k));
    if ![EventKind::IncidentCreated, EventKind::IncidentUpdated, EventKind::IncidentResolved]
        .into_iter()
        .any(wanted)
    {
        return Ok((vec![], position));
    }
    // First look: the last moments only (what happened since the server started).
    let since = storage.cursor(CURSOR).await?.and_then(|raw| raw.parse::<i64>().ok());
    let since = since.and_then(|ms| Timestamp::from_millisecond(ms).ok()).unwrap_or(now);
    let since = since.checked_sub(OVERLAP).unwrap_or(now);
    let filter = IncidentFilter { limit: 200, ..IncidentFilter::default() };
    let mut alerts = vec![];
    for incident in storage.incidents(&filter).await?.into_iter().filter(|i| i.published) {
        for (n, update) in incident.updates.iter().enumerate() {
            if update.created_at <= since || update.created_at > now {
                continue;
            }
            let event = event(&incident, n, catalog);
            for (i, rule) in catalog.alerting.rules.iter().enumerate() {
                let Some(escalation) = catalog.alerting.escalation(&rule.escalation) else { continue };
                let id = format!("incident-{}-{}-{i}", incident.id, update.id);
                if !rule.matches(&event) || storage.alert(&id).await?.is_some() {
                    continue;
                }
                alerts.push(Alert::open(id, escalation, event.clone(), update.created_at));
            }
        }
    }
    Ok((alerts, position))
}

fn event(incident: &Incident, n: usize, catalog: &Catalog) -> Event {
    let update = &incident.updates[n];
    let kind = match update.status {
        IncidentStatus::Resolved | IncidentStatus::Postmortem => EventKind::IncidentResolved,
        _ if n == 0 => EventKind::IncidentCreated,
        _ => EventKind::IncidentUpdated,
    };
    Event {
        kind,
        at: update.created_at,
        monitor: incident.auto.as_ref().map(|a| a.monitor.clone()),
        component: incident.components.keys().next().cloned(),
        incident: Some(incident.id.clone()),
        title: incident.name.clone(),
        reason: Some(format!("{}: {}", update.status.as_str(), update.body.trim())),
        failing_conditions: vec![],
        tags: tags(incident, catalog),
    }
}

/// What an incident is about for rules' `tags`: the tags of its automatic monitor and of every
/// monitor of every component it affects (ever, so its resolution reaches the same rules as its
/// opening), each once and sorted. An incident on no component carries none.
fn tags(incident: &Incident, catalog: &Catalog) -> Vec<String> {
    let auto = incident.auto.as_ref().and_then(|a| catalog.monitor(a.monitor.as_str()));
    let of_components = incident.components.keys().flat_map(|c| catalog.monitors_of(c));
    let tags: BTreeSet<&String> = auto.into_iter().chain(of_components).flat_map(|m| &m.tags).collect();
    tags.into_iter().cloned().collect()
}

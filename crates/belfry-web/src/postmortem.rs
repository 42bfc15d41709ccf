//! Postmortems over HTTP (`/api/v1/incidents/{id}/postmortem`) and for the CLI
//! (`belfry postmortem ID`, through [`postmortem_export`]): the document, pre-filled from the
//! machine timeline when none is saved, and the facts measured from recorded data (P8).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use belfry_core::incident::{
    CorrectiveAction, Incident, Postmortem, PostmortemFacts, PostmortemRow, render_markdown,
};
use belfry_core::store::IncidentStore;
use belfry_core::{Catalog, MonitorId, Store, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::incidents::{incident_error, load_incident, mutate};
use crate::snapshot::page_tz;
use crate::state::WebState;

/// Results read at most per monitor when counting failed checks.
const RESULTS_LIMIT: u32 = 50_000;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no incident with id {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A postmortem ready to write out.
#[derive(Debug, Clone)]
pub struct PostmortemExport {
    /// Markdown, times in the page's zone.
    pub markdown: String,
    /// `{"incident": {…}, "time_zone", "postmortem": {…}, "facts": {…}}`, times in UTC.
    pub json: serde_json::Value,
}

/// The postmortem of `incident_id` as Markdown and JSON: the saved document, or one pre-filled
/// from the timeline; facts as published, else measured up to `now`. Zone and
/// component names come from `catalog`.
pub async fn postmortem_export(
    store: &dyn Store,
    incidents: &dyn IncidentStore,
    catalog: &Catalog,
    incident_id: &str,
    now: Timestamp,
) -> Result<PostmortemExport, ExportError> {
    let incident = incidents
        .incident(incident_id)
        .await?
        .ok_or_else(|| ExportError::NotFound(incident_id.to_owned()))?;
    let (postmortem, _) = document(incidents, &incident).await?;
    let facts = facts_of(store, catalog, &incident, &postmortem, now).await?;
    let markdown = render_markdown(&incident, &postmortem, &facts, &page_tz(catalog));
    let json = serde_json::json!({
        "incident": {
            "id": incident.id,
            "name": incident.name,
            "status": incident.status,
            "impact": incident.impact,
            "started_at": incident.started_at,
            "resolved_at": incident.resolved_at,
        },
        "time_zone": catalog.page.time_zone,
        "postmortem": postmortem,
        "facts": facts,
    });
    Ok(PostmortemExport { markdown, json })
}

/// The saved document, or a draft pre-filled from the machine timeline; `true` when saved.
pub(crate) async fn document(
    incidents: &dyn IncidentStore,
    incident: &Incident,
) -> Result<(Postmortem, bool), StoreError> {
    match &incident.postmortem {
        Some(saved) => Ok((saved.clone(), true)),
        None => Ok((Postmortem::prefilled(incident, &incidents.timeline(&incident.id).await?), false)),
    }
}

/// The facts a postmortem states: once published, those measured when it was last saved (what
/// its public page shows; they outlive the pruning of raw results), else measured now.
async fn facts_of(
    store: &dyn Store,
    catalog: &Catalog,
    incident: &Incident,
    postmortem: &Postmortem,
    now: Timestamp,
) -> Result<PostmortemFacts, StoreError> {
    match (&postmortem.facts, postmortem.published_at) {
        (Some(stored), Some(_)) => Ok(stored.clone()),
        _ => facts(store, catalog, incident, now).await,
    }
}

/// What the recorded data says: duration, downtime of the incident's monitors within it, the
/// failed checks and their regions, the affected components.
pub async fn facts(
    store: &dyn Store,
    catalog: &Catalog,
    incident: &Incident,
    now: Timestamp,
) -> Result<PostmortemFacts, StoreError> {
    let start = incident.started_at;
    let end = incident.resolved_at.unwrap_or(now).max(start);
    let mut components: Vec<MonitorId> = incident.components.keys().cloned().collect();
    let mut monitors: Vec<MonitorId> = Vec::new();
    if let Some(auto) = &incident.auto {
        monitors.push(auto.monitor.clone());
        if let Some(c) = catalog.monitor(auto.monitor.as_str()).and_then(|m| m.component.clone())
            && !components.contains(&c)
        {
            components.push(c);
        }
    } else {
        for c in &components {
            monitors.extend(catalog.monitors_of(c).map(|m| m.id.clone()));
        }
    }
    monitors.dedup();

    let mut periods: Vec<(Timestamp, Timestamp)> = Vec::new();
    let mut checks_failed = 0u64;
    let mut regions = BTreeSet::new();
    for monitor in &monitors {
        for p in store.down_periods(monitor, start).await? {
            let (from, to) = (p.start.max(start), p.end.unwrap_or(end).min(end));
            if from < to {
                periods.push((from, to));
            }
        }
        for r in store.results(monitor, Some(start), RESULTS_LIMIT).await? {
            if r.at <= end && !r.ok && !r.inconclusive {
                checks_failed += 1;
                regions.insert(r.region);
            }
        }
    }
    Ok(PostmortemFacts {
        started_at: start,
        resolved_at: incident.resolved_at,
        duration_s: seconds(start, end),
        monitored_downtime_s: union_seconds(periods),
        affected_components: components
            .iter()
            .map(|c| {
                let name = catalog.component(c.as_str()).map_or_else(|| c.to_string(), |x| x.name.clone());
                (c.to_string(), name)
            })
            .collect(),
        checks_failed,
        regions: regions.into_iter().collect(),
    })
}

fn seconds(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from(to.duration_since(from).as_secs()).unwrap_or(0)
}

/// Total length of the union of intervals (overlapping downtime of two monitors counts once).
fn union_seconds(mut periods: Vec<(Timestamp, Timestamp)>) -> u64 {
    periods.sort();
    let mut total = 0;
    let mut current: Option<(Timestamp, Timestamp)> = None;
    for (from, to) in periods {
        current = match current {
            Some((a, b)) if from <= b => Some((a, b.max(to))),
            Some((a, b)) => {
                total += seconds(a, b);
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    total + current.map_or(0, |(a, b)| seconds(a, b))
}

/// `PUT /api/v1/incidents/{id}/postmortem`. Also built by the admin console, which records
/// it (serialized) in the audit log.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutPostmortem {
    pub(crate) summary: String,
    #[serde(default)]
    pub(crate) impact: String,
    #[serde(default)]
    pub(crate) timeline: Vec<RowIn>,
    #[serde(default)]
    pub(crate) contributing_factors: Vec<String>,
    #[serde(default)]
    pub(crate) stabilization_steps: Vec<String>,
    #[serde(default)]
    pub(crate) corrective_actions: Vec<ActionIn>,
    /// Publish it on the incident page (moves a resolved incident to `postmortem`).
    #[serde(default)]
    pub(crate) publish: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RowIn {
    pub(crate) at: Timestamp,
    pub(crate) text: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionIn {
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) owner: String,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) due: Option<Date>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) done: bool,
}

#[derive(Serialize)]
pub(crate) struct PostmortemView {
    incident_id: String,
    /// `false`: a draft pre-filled from the timeline, not stored yet.
    saved: bool,
    published: bool,
    time_zone: String,
    postmortem: Postmortem,
    facts: PostmortemFacts,
    markdown: String,
}

async fn view(state: &WebState, incident: &Incident) -> Result<Json<PostmortemView>, ApiError> {
    let catalog = state.runtime.catalog();
    let (postmortem, saved) = document(state.incidents.as_ref(), incident).await?;
    let facts = facts_of(state.store.as_ref(), &catalog, incident, &postmortem, state.clock.now()).await?;
    let markdown = render_markdown(incident, &postmortem, &facts, &page_tz(&catalog));
    Ok(Json(PostmortemView {
        incident_id: incident.id.clone(),
        saved,
        published: postmortem.published_at.is_some(),
        time_zone: catalog.page.time_zone.clone(),
        postmortem,
        facts,
        markdown,
    }))
}

/// `GET /api/v1/incidents/{id}/postmortem`
pub(crate) async fn get(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PostmortemView>, ApiError> {
    let incident = load_incident(&state, &id).await?;
    view(&state, &incident).await
}

/// `PUT /api/v1/incidents/{id}/postmortem`: saves the document; `publish` needs a resolved
/// incident (422 otherwise). A published postmortem stays published.
pub(crate) async fn put(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    actor: Actor,
    ApiJson(req): ApiJson<PutPostmortem>,
) -> Result<Json<PostmortemView>, ApiError> {
    if req.summary.trim().is_empty() {
        return Err(ApiError::InvalidInput("summary must not be empty".to_owned()));
    }
    if req.corrective_actions.iter().any(|a| a.description.trim().is_empty()) {
        return Err(ApiError::InvalidInput("every corrective action needs a description".to_owned()));
    }
    let document = Postmortem {
        summary: req.summary,
        impact: req.impact,
        timeline: req.timeline.into_iter().map(|r| PostmortemRow { at: r.at, text: r.text }).collect(),
        contributing_factors: req.contributing_factors,
        stabilization_steps: req.stabilization_steps,
        corrective_actions: req
            .corrective_actions
            .into_iter()
            .map(|a| CorrectiveAction {
                description: a.description,
                owner: a.owner,
                due: a.due,
                done: a.done,
            })
            .collect(),
        facts: None,
        published_at: None,
        updated_at: None,
    };
    // Measured now, kept with the document: the public page shows them without reading the
    // store at every rebuild, and they outlive the pruning of raw check results.
    let measured = {
        let incident = load_incident(&state, &id).await?;
        facts(state.store.as_ref(), &state.runtime.catalog(), &incident, state.clock.now()).await?
    };
    let who = actor.label.clone();
    let incident = mutate(&state, &id, |incident, now| {
        let mut doc = document.clone();
        doc.facts = Some(measured.clone());
        doc.published_at = incident.postmortem.as_ref().and_then(|p| p.published_at);
        let publish = req.publish || (doc.published_at.is_some() && incident.resolved_at.is_some());
        let entry = incident.set_postmortem(doc, publish, &who, now).map_err(|e| {
            if req.publish {
                ApiError::InvalidInput("only a resolved incident can publish its postmortem".to_owned())
            } else {
                incident_error(e)
            }
        })?;
        Ok(vec![entry])
    })
    .await?;
    view(&state, &incident).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn overlapping_downtime_counts_once() {
        let periods = vec![
            (ts("2024-06-01T10:00:00Z"), ts("2024-06-01T10:30:00Z")),
            (ts("2024-06-01T10:20:00Z"), ts("2024-06-01T11:00:00Z")),
            (ts("2024-06-01T12:00:00Z"), ts("2024-06-01T12:01:00Z")),
        ];
        assert_eq!(union_seconds(periods), 3600 + 60);
        assert_eq!(union_seconds(Vec::new()), 0);
    }
}

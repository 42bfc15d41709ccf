//! `/api/v1/incidents…`: open, update, edit and publish incidents, read their machine timeline
//! and add notes. Incidents are shown in Statuspage's shape plus staff-only keys. Every change
//! is load → domain method → `save_incident` with the loaded version; a concurrent change is
//! retried once from a fresh load, then answered 409.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use belfry_core::incident::{
    AffectedComponents, Impact, Incident, IncidentError, IncidentStatus, NewUpdate, TimelineEntry,
    TimelineKind,
};
use belfry_core::store::IncidentFilter;
use belfry_core::{Catalog, ComponentStatus, MonitorId, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::new_id;
use crate::page::Page;
use crate::shapes::IncidentDoc;
use crate::state::WebState;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 1000;
/// A display time may be this far ahead of the clock (clock skew); further is a mistake.
const FUTURE_SLACK: SignedDuration = SignedDuration::from_mins(5);

fn yes() -> bool {
    true
}

/// `POST /api/v1/incidents`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateIncident {
    name: String,
    status: IncidentStatus,
    impact: Impact,
    body: String,
    #[serde(default)]
    components: BTreeMap<MonitorId, ComponentStatus>,
    /// `false` opens a draft, visible to staff only until published.
    #[serde(default = "yes")]
    published: bool,
    #[serde(default = "yes")]
    notify: bool,
    display_at: Option<Timestamp>,
}

/// `POST /api/v1/incidents/{id}/updates`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PostUpdate {
    status: IncidentStatus,
    body: String,
    #[serde(default)]
    components: BTreeMap<MonitorId, ComponentStatus>,
    impact: Option<Impact>,
    #[serde(default = "yes")]
    notify: bool,
    display_at: Option<Timestamp>,
}

/// `PATCH /api/v1/incidents/{id}/updates/{update_id}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EditUpdate {
    body: Option<String>,
    display_at: Option<Timestamp>,
}

/// `POST /api/v1/incidents/{id}/notes`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewNote {
    text: String,
}

/// `?unresolved=true|false&limit=1..1000`
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    unresolved: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct IncidentList {
    incidents: Vec<IncidentDoc>,
}

#[derive(Serialize)]
pub(crate) struct Timeline {
    incident_id: String,
    time_zone: String,
    /// Oldest first.
    entries: Vec<EntryView>,
}

/// A timeline entry: `at` in UTC as recorded, `local` in the page's zone with its abbreviation.
#[derive(Serialize)]
pub(crate) struct EntryView {
    at: Timestamp,
    local: String,
    kind: TimelineKind,
    text: String,
    author: Option<String>,
    data: serde_json::Value,
}

pub(crate) fn incident_error(err: IncidentError) -> ApiError {
    match err {
        IncidentError::NoSuchUpdate(_) => ApiError::NotFound(err.to_string()),
        IncidentError::PostmortemNotReady | IncidentError::EmptyName => {
            ApiError::InvalidInput(err.to_string())
        }
    }
}

/// Components an incident may set: configured ones, with a status maintenance does not own.
fn check_components(
    catalog: &Catalog,
    components: BTreeMap<MonitorId, ComponentStatus>,
) -> Result<AffectedComponents, ApiError> {
    for (id, status) in &components {
        if catalog.component(id.as_str()).is_none() {
            return Err(ApiError::InvalidInput(format!("unknown component {:?}", id.as_str())));
        }
        if *status == ComponentStatus::UnderMaintenance {
            return Err(ApiError::InvalidInput(format!(
                "component {:?}: under_maintenance is set by maintenance windows, not incidents",
                id.as_str()
            )));
        }
    }
    Ok(components)
}

fn check_display_at(at: Option<Timestamp>, now: Timestamp) -> Result<(), ApiError> {
    match at {
        Some(at) if at > now.checked_add(FUTURE_SLACK).unwrap_or(Timestamp::MAX) => {
            Err(ApiError::InvalidInput("display_at must not be in the future".to_owned()))
        }
        _ => Ok(()),
    }
}

fn check_body(body: &str) -> Result<(), ApiError> {
    if body.trim().is_empty() {
        return Err(ApiError::InvalidInput("body must not be empty".to_owned()));
    }
    Ok(())
}

pub(crate) async fn load_incident(state: &WebState, id: &str) -> Result<Incident, ApiError> {
    state
        .incidents
        .incident(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no incident with id {id:?}")))
}

/// Applies `change` to the stored incident and saves it with the loaded version; on a
/// concurrent change, once more from a fresh load, then 409. An unchanged incident is not saved.
pub(crate) async fn mutate<F>(state: &WebState, id: &str, change: F) -> Result<Incident, ApiError>
where
    F: Fn(&mut Incident, Timestamp) -> Result<Vec<TimelineEntry>, ApiError>,
{
    let mut retried = false;
    loop {
        let loaded = load_incident(state, id).await?;
        let mut incident = loaded.clone();
        let timeline = change(&mut incident, state.clock.now())?;
        if incident == loaded && timeline.is_empty() {
            return Ok(loaded);
        }
        match state.incidents.save_incident(&incident, loaded.version, &timeline).await {
            Ok(version) => {
                incident.version = version;
                return Ok(incident);
            }
            Err(StoreError::Conflict(why)) if retried => {
                return Err(ApiError::Conflict(format!(
                    "incident {id:?} was changed by someone else at the same time; reload and retry ({why})"
                )));
            }
            Err(StoreError::Conflict(_)) => retried = true,
            Err(other) => return Err(other.into()),
        }
    }
}

async fn staff_doc(state: &WebState, incident: &Incident) -> Result<Json<IncidentDoc>, ApiError> {
    let page = Page::load(state).await?;
    Ok(Json(page.incident_doc(incident, true)))
}

/// `POST /api/v1/incidents` → 201 with the incident.
pub(crate) async fn create(
    State(state): State<WebState>,
    actor: Actor,
    ApiJson(req): ApiJson<CreateIncident>,
) -> Result<(StatusCode, Json<IncidentDoc>), ApiError> {
    let now = state.clock.now();
    if req.status == IncidentStatus::Postmortem {
        return Err(ApiError::InvalidInput(
            "a new incident cannot start as `postmortem`; resolve it and PUT its postmortem".to_owned(),
        ));
    }
    check_body(&req.body)?;
    check_display_at(req.display_at, now)?;
    let components = check_components(&state.runtime.catalog(), req.components)?;
    let first = NewUpdate {
        id: new_id()?,
        status: req.status,
        body: req.body,
        author: actor.label.clone(),
        notify: req.notify,
        components,
        impact: None,
        display_at: req.display_at,
    };
    let name = req.name.trim().to_owned();
    let (mut incident, timeline) =
        Incident::open(new_id()?, name, req.impact, first, None, req.published, now)
            .map_err(incident_error)?;
    incident.version = state.incidents.save_incident(&incident, 0, &timeline).await.map_err(|e| match e {
        StoreError::Conflict(why) => ApiError::Conflict(format!("an incident with this id exists: {why}")),
        other => other.into(),
    })?;
    tracing::info!(incident.id = %incident.id, published = incident.published, "incident opened");
    Ok((StatusCode::CREATED, staff_doc(&state, &incident).await?))
}

/// `GET /api/v1/incidents?unresolved=&limit=`: newest first, drafts included.
pub(crate) async fn list(
    State(state): State<WebState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<IncidentList>, ApiError> {
    let unresolved_only = match query.unresolved.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::InvalidQuery(format!("unresolved must be true or false (got {other:?})")));
        }
    };
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::InvalidQuery(format!(
                    "limit must be an integer from 1 to {MAX_LIMIT} (got {raw:?})"
                )));
            }
        },
    };
    let filter = IncidentFilter { unresolved_only, include_drafts: true, limit, ..Default::default() };
    let incidents = state.incidents.incidents(&filter).await?;
    let page = Page::load(&state).await?;
    Ok(Json(IncidentList { incidents: incidents.iter().map(|i| page.incident_doc(i, true)).collect() }))
}

/// `GET /api/v1/incidents/{id}`
pub(crate) async fn detail(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IncidentDoc>, ApiError> {
    let incident = load_incident(&state, &id).await?;
    staff_doc(&state, &incident).await
}

/// `POST /api/v1/incidents/{id}/updates` → 201 with the incident.
pub(crate) async fn post_update(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    actor: Actor,
    ApiJson(req): ApiJson<PostUpdate>,
) -> Result<(StatusCode, Json<IncidentDoc>), ApiError> {
    check_body(&req.body)?;
    check_display_at(req.display_at, state.clock.now())?;
    let components = check_components(&state.runtime.catalog(), req.components)?;
    let update = NewUpdate {
        id: new_id()?,
        status: req.status,
        body: req.body,
        author: actor.label.clone(),
        notify: req.notify,
        components,
        impact: req.impact,
        display_at: req.display_at,
    };
    let incident = mutate(&state, &id, |incident, now| {
        incident.post_update(update.clone(), now).map_err(incident_error)
    })
    .await?;
    Ok((StatusCode::CREATED, staff_doc(&state, &incident).await?))
}

/// `PATCH /api/v1/incidents/{id}/updates/{update_id}`: new text and/or display time; the
/// previous version is kept in the update's `edits`.
pub(crate) async fn edit_update(
    State(state): State<WebState>,
    ApiPath((id, update_id)): ApiPath<(String, String)>,
    actor: Actor,
    ApiJson(req): ApiJson<EditUpdate>,
) -> Result<Json<IncidentDoc>, ApiError> {
    if req.body.is_none() && req.display_at.is_none() {
        return Err(ApiError::InvalidInput("nothing to change: give body and/or display_at".to_owned()));
    }
    if let Some(body) = &req.body {
        check_body(body)?;
    }
    check_display_at(req.display_at, state.clock.now())?;
    let who = actor.label.clone();
    let incident = mutate(&state, &id, |incident, now| {
        let entry = incident
            .edit_update(&update_id, req.body.clone(), req.display_at, &who, now)
            .map_err(incident_error)?;
        Ok(vec![entry])
    })
    .await?;
    staff_doc(&state, &incident).await
}

/// `POST /api/v1/incidents/{id}/publish`: makes a draft public (a no-op when it is).
pub(crate) async fn publish(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    actor: Actor,
) -> Result<Json<IncidentDoc>, ApiError> {
    let who = actor.label.clone();
    let incident =
        mutate(&state, &id, |incident, now| Ok(incident.publish(&who, now).into_iter().collect())).await?;
    staff_doc(&state, &incident).await
}

/// `GET /api/v1/incidents/{id}/timeline`: the machine timeline, oldest first.
pub(crate) async fn timeline(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Timeline>, ApiError> {
    load_incident(&state, &id).await?;
    let entries = state.incidents.timeline(&id).await?;
    let catalog = state.runtime.catalog();
    let tz = crate::snapshot::page_tz(&catalog);
    let entries = entries.into_iter().map(|e| entry_view(e, &tz)).collect();
    Ok(Json(Timeline { incident_id: id, time_zone: catalog.page.time_zone.clone(), entries }))
}

fn entry_view(e: TimelineEntry, tz: &jiff::tz::TimeZone) -> EntryView {
    EntryView {
        local: e.at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
        at: e.at,
        kind: e.kind,
        text: e.text,
        author: e.author,
        data: e.data,
    }
}

/// `POST /api/v1/incidents/{id}/notes` → 201 with the entry.
pub(crate) async fn add_note(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    actor: Actor,
    ApiJson(req): ApiJson<NewNote>,
) -> Result<(StatusCode, Json<EntryView>), ApiError> {
    let text = req.text.trim();
    if text.is_empty() {
        return Err(ApiError::InvalidInput("text must not be empty".to_owned()));
    }
    load_incident(&state, &id).await?;
    let entry =
        TimelineEntry::new(&id, state.clock.now(), TimelineKind::Note, text.to_owned(), &actor.label.clone());
    state.incidents.append_timeline(std::slice::from_ref(&entry)).await?;
    let tz = crate::snapshot::page_tz(&state.runtime.catalog());
    Ok((StatusCode::CREATED, Json(entry_view(entry, &tz))))
}

#[cfg(test)]
mod tests;

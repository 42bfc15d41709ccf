//! `/api/v1/maintenances…`: scheduled maintenance windows, one-off or recurring (RRULE). The
//! clock moves them `scheduled → in_progress → completed`; `verifying` (or an early
//! `completed`) is set by hand for the occurrence under way.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use belfry_core::maintenance::{Maintenance, MaintenanceStatus, ManualStatus};
use belfry_core::{Catalog, MonitorId, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::ids::new_id;
use crate::page::Page;
use crate::shapes::MaintenanceDoc;
use crate::state::WebState;

/// Windows listed by default: those ending no earlier than this long ago.
const DEFAULT_HISTORY: SignedDuration = SignedDuration::from_hours(24 * 90);

/// `POST /api/v1/maintenances`. Also built by the admin console, which records it
/// (serialized) in the audit log.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateMaintenance {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: String,
    pub(crate) components: Vec<MonitorId>,
    pub(crate) starts_at: Timestamp,
    pub(crate) ends_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rrule: Option<String>,
    /// IANA zone the rule repeats in; the page's zone by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) count_downtime: bool,
}

/// `PATCH /api/v1/maintenances/{id}`: any field, and/or a status for the current occurrence.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchMaintenance {
    name: Option<String>,
    description: Option<String>,
    components: Option<Vec<MonitorId>>,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
    /// `null` removes the rule; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    rrule: Option<Option<String>>,
    time_zone: Option<String>,
    count_downtime: Option<bool>,
    status: Option<MaintenanceStatus>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `?since=<RFC 3339>`: windows ending at or after it (default: 90 days ago).
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    since: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct MaintenanceList {
    maintenances: Vec<MaintenanceDoc>,
}

fn check(m: &Maintenance, catalog: &Catalog) -> Result<(), ApiError> {
    if m.name.trim().is_empty() {
        return Err(ApiError::InvalidInput("name must not be empty".to_owned()));
    }
    if m.rrule.as_deref().is_some_and(|r| r.chars().any(char::is_control)) {
        return Err(ApiError::InvalidInput("invalid rrule: control characters are not allowed".to_owned()));
    }
    if let Some(unknown) = m.components.iter().find(|c| catalog.component(c.as_str()).is_none()) {
        return Err(ApiError::InvalidInput(format!("unknown component {:?}", unknown.as_str())));
    }
    m.validate().map_err(ApiError::InvalidInput)
}

async fn load(state: &WebState, id: &str) -> Result<Maintenance, ApiError> {
    state
        .incidents
        .maintenance(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no maintenance with id {id:?}")))
}

async fn staff_doc(state: &WebState, m: &Maintenance) -> Result<Json<MaintenanceDoc>, ApiError> {
    Ok(Json(Page::load(state).await?.maintenance_doc(m, true)))
}

/// `POST /api/v1/maintenances` → 201 with the window.
pub(crate) async fn create(
    State(state): State<WebState>,
    ApiJson(req): ApiJson<CreateMaintenance>,
) -> Result<(StatusCode, Json<MaintenanceDoc>), ApiError> {
    let now = state.clock.now();
    let catalog = state.runtime.catalog();
    let mut m = Maintenance {
        id: new_id()?,
        name: req.name.trim().to_owned(),
        description: req.description,
        components: req.components,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        rrule: req.rrule.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()),
        time_zone: req.time_zone.unwrap_or_else(|| catalog.page.time_zone.clone()),
        count_downtime: req.count_downtime,
        manual: None,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    m.components.sort();
    m.components.dedup();
    check(&m, &catalog)?;
    m.version = state.incidents.save_maintenance(&m, 0).await.map_err(|e| match e {
        StoreError::Conflict(why) => ApiError::Conflict(format!("a maintenance with this id exists: {why}")),
        other => other.into(),
    })?;
    tracing::info!(maintenance.id = %m.id, "maintenance scheduled");
    Ok((StatusCode::CREATED, staff_doc(&state, &m).await?))
}

/// `GET /api/v1/maintenances?since=`
pub(crate) async fn list(
    State(state): State<WebState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<MaintenanceList>, ApiError> {
    let since = match query.since.as_deref() {
        None => state.clock.now().checked_sub(DEFAULT_HISTORY).unwrap_or(Timestamp::MIN),
        Some(raw) => raw.parse::<Timestamp>().map_err(|_| {
            ApiError::InvalidQuery(format!(
                "since must be an RFC 3339 timestamp with an offset (got {raw:?})"
            ))
        })?,
    };
    let windows = state.incidents.maintenances(since).await?;
    let page = Page::load(&state).await?;
    Ok(Json(MaintenanceList {
        maintenances: windows.iter().map(|m| page.maintenance_doc(m, true)).collect(),
    }))
}

/// `GET /api/v1/maintenances/{id}`
pub(crate) async fn detail(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MaintenanceDoc>, ApiError> {
    let m = load(&state, &id).await?;
    staff_doc(&state, &m).await
}

/// Applies a patch at `now`; the status applies to the occurrence under way (422 when none is).
fn apply(m: &mut Maintenance, patch: &PatchMaintenance, now: Timestamp) -> Result<(), ApiError> {
    if let Some(name) = &patch.name {
        m.name = name.trim().to_owned();
    }
    if let Some(description) = &patch.description {
        m.description.clone_from(description);
    }
    if let Some(components) = &patch.components {
        m.components.clone_from(components);
        m.components.sort();
        m.components.dedup();
    }
    if let Some(at) = patch.starts_at {
        m.starts_at = at;
    }
    if let Some(at) = patch.ends_at {
        m.ends_at = at;
    }
    if let Some(rule) = &patch.rrule {
        m.rrule = rule.as_ref().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    }
    if let Some(zone) = &patch.time_zone {
        m.time_zone.clone_from(zone);
    }
    if let Some(count) = patch.count_downtime {
        m.count_downtime = count;
    }
    if let Some(status) = patch.status {
        if status == MaintenanceStatus::Scheduled {
            return Err(ApiError::InvalidInput(
                "`scheduled` follows from the times; set in_progress, verifying or completed".to_owned(),
            ));
        }
        let Some(window) = m.current_window(now) else {
            return Err(ApiError::InvalidInput(
                "no occurrence of this maintenance is under way; a status can be set only during one"
                    .to_owned(),
            ));
        };
        m.manual = Some(ManualStatus { status, occurrence: window.start, at: now });
    }
    m.updated_at = now;
    Ok(())
}

/// `PATCH /api/v1/maintenances/{id}`: saved with the loaded version; a concurrent change is
/// retried once from a fresh load, then 409.
pub(crate) async fn patch(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<PatchMaintenance>,
) -> Result<Json<MaintenanceDoc>, ApiError> {
    let catalog = state.runtime.catalog();
    let mut retried = false;
    loop {
        let loaded = load(&state, &id).await?;
        let mut m = loaded.clone();
        apply(&mut m, &req, state.clock.now())?;
        check(&m, &catalog)?;
        match state.incidents.save_maintenance(&m, loaded.version).await {
            Ok(version) => {
                m.version = version;
                return staff_doc(&state, &m).await;
            }
            Err(StoreError::Conflict(why)) if retried => {
                return Err(ApiError::Conflict(format!(
                    "maintenance {id:?} was changed by someone else at the same time; reload and retry ({why})"
                )));
            }
            Err(StoreError::Conflict(_)) => retried = true,
            Err(other) => return Err(other.into()),
        }
    }
}

/// `DELETE /api/v1/maintenances/{id}` → 204.
pub(crate) async fn delete(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state.incidents.delete_maintenance(&id).await? {
        tracing::info!(maintenance.id = %id, "maintenance deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no maintenance with id {id:?}")))
    }
}

#[cfg(test)]
mod tests;

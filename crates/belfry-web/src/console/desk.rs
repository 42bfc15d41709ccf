//! Console pages for maintenance windows and postmortems. Both go through the API's handlers,
//! so the console validates exactly as the API does.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use belfry_core::access::Role;
use serde_json::{Value, json};

use super::{Nav, field, render, when};
use crate::auth::{Actor, audit};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::WebState;

/// Windows shown: those ending after this long ago.
const SHOWN_HISTORY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

struct WindowRow {
    id: String,
    name: String,
    components: String,
    starts: String,
    ends: String,
    rrule: String,
}

#[derive(Template)]
#[template(path = "console/maintenances.html")]
struct MaintenancesTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    can_edit: bool,
    windows: Vec<WindowRow>,
    components: Vec<(String, String)>,
}

async fn maintenances_page(
    state: &WebState,
    actor: &Actor,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, ApiError> {
    let since = state.clock.now().checked_sub(SHOWN_HISTORY).unwrap_or(jiff::Timestamp::MIN);
    let windows = state
        .incidents
        .maintenances(since)
        .await?
        .into_iter()
        .map(|m| WindowRow {
            id: m.id.clone(),
            name: m.name.clone(),
            components: m.components.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            starts: when(m.starts_at),
            ends: when(m.ends_at),
            rrule: m.rrule.clone().unwrap_or_default(),
        })
        .collect();
    let components =
        state.runtime.catalog().components.iter().map(|c| (c.id.to_string(), c.name.clone())).collect();
    Ok(render(
        status,
        &MaintenancesTpl {
            title: "Maintenance".to_owned(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            can_edit: actor.at_least(Role::Editor),
            windows,
            components,
        },
    ))
}

/// `GET /admin/maintenances`
pub(crate) async fn maintenances(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    maintenances_page(&state, &actor, StatusCode::OK, vec![]).await
}

/// `POST /admin/maintenances`: the API's create, from the form.
pub(crate) async fn create_maintenance(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let components: Vec<&str> =
        fields.iter().filter(|(k, _)| k == "component").map(|(_, v)| v.as_str()).collect();
    let mut request = json!({
        "name": field(&fields, "name"),
        "description": field(&fields, "description"),
        "components": components,
        "starts_at": field(&fields, "starts_at").trim(),
        "ends_at": field(&fields, "ends_at").trim(),
    });
    let rrule = field(&fields, "rrule").trim();
    if !rrule.is_empty() {
        request["rrule"] = json!(rrule);
    }
    let req = match serde_json::from_value(request.clone()) {
        Ok(req) => req,
        Err(e) => {
            return maintenances_page(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, vec![e.to_string()])
                .await;
        }
    };
    match crate::maintenances::create(State(state.clone()), ApiJson(req)).await {
        Ok(_) => {
            audit(&state, &actor.label, "maintenance.create", "maintenance", None, Some(request)).await;
            Ok(Redirect::to("/admin/maintenances").into_response())
        }
        Err(e) if e.status().is_client_error() => {
            maintenances_page(&state, &actor, e.status(), vec![e.to_string()]).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /admin/maintenances/{id}/delete`
pub(crate) async fn delete_maintenance(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let before = state
        .incidents
        .maintenance(&id)
        .await?
        .map(|m| json!({"name": m.name, "starts_at": m.starts_at, "ends_at": m.ends_at}));
    crate::maintenances::delete(State(state.clone()), ApiPath(id.clone())).await?;
    audit(&state, &actor.label, "maintenance.delete", &format!("maintenance:{id}"), before, None).await;
    Ok(Redirect::to("/admin/maintenances").into_response())
}

#[derive(Template)]
#[template(path = "console/postmortem.html")]
struct PostmortemTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    id: String,
    saved: bool,
    published: bool,
    summary: String,
    impact: String,
    contributing: String,
    stabilization: String,
    actions: String,
    timeline_json: String,
    timeline: Vec<(String, String)>,
}

async fn postmortem_page(
    state: &WebState,
    actor: &Actor,
    id: &str,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, ApiError> {
    let incident = crate::incidents::load_incident(state, id).await?;
    let (doc, saved) = crate::postmortem::document(state.incidents.as_ref(), &incident).await?;
    let actions = doc
        .corrective_actions
        .iter()
        .map(|a| {
            let due = a.due.map(|d| d.to_string()).unwrap_or_default();
            format!("{} | {} | {due}", a.description, a.owner)
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(render(
        status,
        &PostmortemTpl {
            title: format!("Postmortem: {}", incident.name),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            id: incident.id.clone(),
            saved,
            published: doc.published_at.is_some(),
            summary: doc.summary.clone(),
            impact: doc.impact.clone(),
            contributing: doc.contributing_factors.join("\n"),
            stabilization: doc.stabilization_steps.join("\n"),
            actions,
            timeline_json: serde_json::to_string(&doc.timeline).unwrap_or_else(|_| "[]".to_owned()),
            timeline: doc.timeline.iter().map(|r| (when(r.at), r.text.clone())).collect(),
        },
    ))
}

/// `GET /admin/incidents/{id}/postmortem`: the editor, pre-filled from the recorded timeline.
pub(crate) async fn postmortem(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    postmortem_page(&state, &actor, &id, StatusCode::OK, vec![]).await
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// `POST /admin/incidents/{id}/postmortem`: the API's save, from the editor.
pub(crate) async fn save_postmortem(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let timeline: Value = serde_json::from_str(field(&fields, "timeline_json")).unwrap_or_else(|_| json!([]));
    let actions: Vec<Value> = lines(field(&fields, "corrective_actions"))
        .iter()
        .map(|l| {
            let mut parts = l.split('|').map(str::trim);
            let description = parts.next().unwrap_or_default();
            let owner = parts.next().unwrap_or_default();
            let mut action = json!({"description": description, "owner": owner});
            if let Some(due) = parts.next().filter(|d| !d.is_empty()) {
                action["due"] = json!(due);
            }
            action
        })
        .collect();
    let request = json!({
        "summary": field(&fields, "summary"),
        "impact": field(&fields, "impact"),
        "timeline": timeline,
        "contributing_factors": lines(field(&fields, "contributing_factors")),
        "stabilization_steps": lines(field(&fields, "stabilization_steps")),
        "corrective_actions": actions,
        "publish": field(&fields, "publish") == "1",
    });
    let req = match serde_json::from_value(request.clone()) {
        Ok(req) => req,
        Err(e) => {
            return postmortem_page(
                &state,
                &actor,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![e.to_string()],
            )
            .await;
        }
    };
    match crate::postmortem::put(State(state.clone()), ApiPath(id.clone()), actor.clone(), ApiJson(req)).await
    {
        Ok(_) => {
            audit(&state, &actor.label, "postmortem.save", &format!("incident:{id}"), None, Some(request))
                .await;
            Ok(Redirect::to(&format!("/admin/incidents/{}/postmortem", super::url_encode(&id)))
                .into_response())
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            postmortem_page(&state, &actor, &id, e.status(), vec![e.to_string()]).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "console/layout.html")]
struct LayoutTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    can_edit: bool,
    /// id, name, group, monitors
    components: Vec<(String, String, String, usize)>,
}

/// `GET /admin/components`: the page's components in order, with ↑/↓ to reorder them.
pub(crate) async fn components(State(state): State<WebState>, actor: Actor) -> Response {
    layout_page(&state, &actor, StatusCode::OK, vec![])
}

fn layout_page(state: &WebState, actor: &Actor, status: StatusCode, errors: Vec<String>) -> Response {
    let catalog = state.runtime.catalog();
    let components = catalog
        .components
        .iter()
        .map(|c| {
            let monitors = catalog.monitors_of(&c.id).count();
            (c.id.to_string(), c.name.clone(), c.group.clone().unwrap_or_default(), monitors)
        })
        .collect();
    render(
        status,
        &LayoutTpl {
            title: "Components".to_owned(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            can_edit: actor.at_least(Role::Editor),
            components,
        },
    )
}

/// `POST /admin/components/{id}/move` with `dir=up|down`: swaps it with its neighbour.
pub(crate) async fn move_component(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let mut order: Vec<String> =
        state.runtime.catalog().components.iter().map(|c| c.id.to_string()).collect();
    let Some(at) = order.iter().position(|c| *c == id) else {
        return Err(ApiError::NotFound(format!("no component {id:?}")));
    };
    let to = match field(&fields, "dir") {
        "up" if at > 0 => at - 1,
        "down" if at + 1 < order.len() => at + 1,
        "up" | "down" => return Ok(Redirect::to("/admin/components").into_response()),
        _ => {
            return Ok(layout_page(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["dir must be up or down".to_owned()],
            ));
        }
    };
    let before = json!(order.clone());
    order.swap(at, to);
    if let Err(e) = state.runtime.set_component_order(order.clone()).await {
        tracing::error!(error = %e, "saving the component order failed");
        return Err(ApiError::Status(StatusCode::SERVICE_UNAVAILABLE));
    }
    audit(&state, &actor.label, "components.order", "components", Some(before), Some(json!(order))).await;
    Ok(Redirect::to("/admin/components").into_response())
}

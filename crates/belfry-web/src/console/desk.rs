//! Console pages for maintenance windows and the order of components. Windows go through the
//! API's handlers, so the console validates exactly as the API does.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use belfry_core::MonitorId;
use belfry_core::access::Role;
use jiff::tz::TimeZone;
use serde_json::json;

use super::{Nav, field, page_zone, parse_local, render, when};
use crate::auth::{Actor, audit};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::maintenances::CreateMaintenance;
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

/// The scheduling form: empty, or as typed (a rejected form shows it again with the reasons).
#[derive(Debug, Clone, Default)]
struct WindowForm {
    name: String,
    description: String,
    /// Component ids ticked.
    components: Vec<String>,
    /// In the page's zone, as [`parse_local`] reads them.
    starts_at: String,
    ends_at: String,
    rrule: String,
}

impl WindowForm {
    /// The form as posted; the line breaks browsers send (CRLF) as `\n`.
    fn typed(fields: &[(String, String)]) -> Self {
        Self {
            name: field(fields, "name").to_owned(),
            description: field(fields, "description").replace("\r\n", "\n"),
            components: fields.iter().filter(|(k, _)| k == "component").map(|(_, v)| v.clone()).collect(),
            starts_at: field(fields, "starts_at").trim().to_owned(),
            ends_at: field(fields, "ends_at").trim().to_owned(),
            rrule: field(fields, "rrule").trim().to_owned(),
        }
    }

    /// The API's create request, its times read in the page's zone `tz` (sent as UTC instants);
    /// every time that cannot be read is an error naming its field, then the first component
    /// id that is not one.
    fn request(&self, tz: &TimeZone) -> Result<CreateMaintenance, Vec<String>> {
        let (starts, ends) = (parse_local(&self.starts_at, tz), parse_local(&self.ends_at, tz));
        let (starts, ends) = match (starts, ends) {
            (Ok(starts), Ok(ends)) => (starts, ends),
            (starts, ends) => {
                let starts = starts.err().map(|why| format!("Starts: {why}"));
                let ends = ends.err().map(|why| format!("Ends: {why}"));
                return Err(starts.into_iter().chain(ends).collect());
            }
        };
        let components = self.components.iter().map(|c| MonitorId::parse(c)).collect::<Result<_, _>>();
        Ok(CreateMaintenance {
            name: self.name.clone(),
            description: self.description.clone(),
            components: components.map_err(|why| vec![why])?,
            starts_at: starts,
            ends_at: ends,
            rrule: Some(self.rrule.clone()).filter(|r| !r.is_empty()),
            time_zone: None,
            count_downtime: false,
        })
    }
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
    /// id, name, ticked in the form
    components: Vec<(String, String, bool)>,
    /// `America/New_York`: the zone the times are shown and typed in.
    zone: String,
    /// Now, as a time is written in the form.
    example: String,
    form: WindowForm,
}

async fn maintenances_page(
    state: &WebState,
    actor: &Actor,
    status: StatusCode,
    errors: Vec<String>,
    form: WindowForm,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let since = now.checked_sub(SHOWN_HISTORY).unwrap_or(jiff::Timestamp::MIN);
    let tz = page_zone(state);
    let windows = state
        .incidents
        .maintenances(since)
        .await?
        .into_iter()
        .map(|m| WindowRow {
            id: m.id.clone(),
            name: m.name.clone(),
            components: m.components.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            starts: when(&tz, m.starts_at),
            ends: when(&tz, m.ends_at),
            rrule: m.rrule.clone().unwrap_or_default(),
        })
        .collect();
    let catalog = state.runtime.catalog();
    let components = catalog
        .components
        .iter()
        .map(|c| {
            let id = c.id.to_string();
            let ticked = form.components.contains(&id);
            (id, c.name.clone(), ticked)
        })
        .collect();
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
            zone: catalog.page.time_zone.clone(),
            example: when(&tz, now),
            form,
        },
    ))
}

/// `GET /admin/maintenances`
pub(crate) async fn maintenances(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    maintenances_page(&state, &actor, StatusCode::OK, vec![], WindowForm::default()).await
}

/// `POST /admin/maintenances`: the API's create, from the form, its times typed in the page's
/// zone. A rejected form (422, or the API's 4xx) shows what was typed with every reason.
pub(crate) async fn create_maintenance(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let typed = WindowForm::typed(&fields);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let req = match typed.request(&page_zone(&state)) {
        Ok(req) => req,
        Err(errors) => return maintenances_page(&state, &actor, unprocessable, errors, typed).await,
    };
    let request = serde_json::to_value(&req).ok();
    match crate::maintenances::create(State(state.clone()), ApiJson(req)).await {
        Ok(_) => {
            audit(&state, &actor.label, "maintenance.create", "maintenance", None, request).await;
            Ok(Redirect::to("/admin/maintenances").into_response())
        }
        Err(e) if e.status().is_client_error() => {
            maintenances_page(&state, &actor, e.status(), vec![e.to_string()], typed).await
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

//! Console pages for maintenance windows and postmortems. Both go through the API's handlers,
//! so the console validates exactly as the API does.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeMap;

use belfry_core::access::Role;
use belfry_core::incident::{Postmortem, PostmortemRow};
use jiff::Timestamp;
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde_json::{Value, json};

use super::{Nav, field, page_zone, render, when};
use crate::auth::{Actor, audit};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::html::in_zone;
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

/// One timeline row of the editor, as shown or as typed.
#[derive(Debug, Clone, Default)]
struct RowForm {
    /// In the page's zone with its abbreviation ([`when`]).
    at: String,
    text: String,
    /// The recorded instant (RFC 3339, UTC) the row was shown with; empty for a new row. An
    /// unchanged time keeps it exactly (sub-seconds, and the right hour of a repeated one).
    was: String,
}

impl RowForm {
    /// Lines its text box shows (an event can be a multi-line update).
    fn lines(&self) -> usize {
        self.text.lines().count().max(1)
    }
}

/// What the editor holds: the saved document, or what was just typed (so a rejected save
/// shows it again with the reason, and nothing typed is lost).
#[derive(Debug, Clone, Default)]
struct PostmortemForm {
    summary: String,
    impact: String,
    contributing: String,
    stabilization: String,
    actions: String,
    publish: bool,
    rows: Vec<RowForm>,
}

impl PostmortemForm {
    fn of(doc: &Postmortem, tz: &TimeZone) -> Self {
        let actions = doc
            .corrective_actions
            .iter()
            .map(|a| {
                let due = a.due.map(|d| d.to_string()).unwrap_or_default();
                let line = format!("{} | {} | {due}", a.description, a.owner);
                if a.done { format!("{line} | done") } else { line }
            })
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            summary: doc.summary.clone(),
            impact: doc.impact.clone(),
            contributing: doc.contributing_factors.join("\n"),
            stabilization: doc.stabilization_steps.join("\n"),
            actions,
            publish: doc.published_at.is_some(),
            rows: doc
                .timeline
                .iter()
                .map(|r| RowForm { at: when(tz, r.at), text: r.text.clone(), was: r.at.to_string() })
                .collect(),
        }
    }

    /// The form as posted: `timeline.{i}.at|text|was` rows in index order; the line breaks
    /// browsers send (CRLF) as `\n`.
    fn typed(fields: &[(String, String)]) -> Self {
        let text = |name: &str| field(fields, name).replace("\r\n", "\n");
        let mut rows: BTreeMap<usize, RowForm> = BTreeMap::new();
        for (key, value) in fields {
            let Some((index, part)) = key.strip_prefix("timeline.").and_then(|k| k.split_once('.')) else {
                continue;
            };
            let Ok(index) = index.parse::<usize>() else { continue };
            let row = rows.entry(index).or_default();
            match part {
                "at" => row.at = value.clone(),
                "text" => row.text = value.replace("\r\n", "\n"),
                "was" => row.was = value.clone(),
                _ => {}
            }
        }
        Self {
            summary: text("summary"),
            impact: text("impact"),
            contributing: text("contributing_factors"),
            stabilization: text("stabilization_steps"),
            actions: text("corrective_actions"),
            publish: text("publish") == "1",
            rows: rows.into_values().collect(),
        }
    }

    /// The rows to save, in time order; a row with empty text is deleted. Every row that
    /// cannot be read is an error naming it.
    fn timeline(&self, tz: &TimeZone) -> Result<Vec<PostmortemRow>, Vec<String>> {
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for (n, row) in self.rows.iter().enumerate().map(|(i, r)| (i + 1, r)) {
            let (at, text) = (row.at.trim(), row.text.trim());
            if text.is_empty() {
                continue;
            }
            let kept = row.was.parse::<Timestamp>().ok().filter(|was| when(tz, *was) == at);
            match kept.map_or_else(|| parse_local(at, tz), Ok) {
                Ok(at) => rows.push(PostmortemRow { at, text: text.to_owned() }),
                Err(why) => errors.push(format!("Timeline row {n}: {why}")),
            }
        }
        rows.sort_by_key(|r| r.at);
        if errors.is_empty() { Ok(rows) } else { Err(errors) }
    }

    /// `description | owner | YYYY-MM-DD | done` per line, as the API takes them.
    fn actions(&self) -> Result<Vec<Value>, Vec<String>> {
        let mut actions = Vec::new();
        let mut errors = Vec::new();
        for (n, line) in lines(&self.actions).iter().enumerate().map(|(i, l)| (i + 1, l)) {
            let mut parts = line.split('|').map(str::trim);
            let description = parts.next().unwrap_or_default();
            let owner = parts.next().unwrap_or_default();
            let mut action = json!({"description": description, "owner": owner});
            if let Some(due) = parts.next().filter(|d| !d.is_empty()) {
                match due.parse::<jiff::civil::Date>() {
                    Ok(date) => action["due"] = json!(date),
                    Err(_) => errors.push(format!(
                        "Corrective action {n}: the due date {due:?} is not a date like 2026-03-15."
                    )),
                }
            }
            match parts.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("" | "open" | "no") => {}
                Some("done" | "yes" | "x") => action["done"] = json!(true),
                Some(other) => errors.push(format!(
                    "Corrective action {n}: the last column is {other:?}; write done, or leave it out."
                )),
            }
            actions.push(action);
        }
        if errors.is_empty() { Ok(actions) } else { Err(errors) }
    }
}

/// A time typed in the page's zone: `2024-06-01 07:30[:00]` with an optional abbreviation
/// (`EDT`) that picks the hour a clock change repeats, or an RFC 3339 instant with an offset.
pub(super) fn parse_local(text: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    if text.is_empty() {
        return Err("a time is needed.".to_owned());
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let (civil, abbreviation) = match text.rsplit_once(' ') {
        Some((rest, last)) if !last.contains(':') => (rest.trim(), Some(last)),
        _ => (text, None),
    };
    let Ok(civil) = civil.parse::<jiff::civil::DateTime>() else {
        return Err(format!("{text:?} is not a time like YYYY-MM-DD HH:MM:SS with the zone's abbreviation."));
    };
    let candidates: Vec<Timestamp> = match tz.to_ambiguous_timestamp(civil).offset() {
        AmbiguousOffset::Unambiguous { offset } => vec![offset],
        AmbiguousOffset::Gap { .. } => vec![],
        AmbiguousOffset::Fold { before, after } => vec![before, after],
    }
    .into_iter()
    .filter_map(|offset| offset.to_timestamp(civil).ok())
    .collect();
    let abbreviation_of = |at: &Timestamp| in_zone(tz, *at, "%Z");
    let choices = || candidates.iter().map(abbreviation_of).collect::<Vec<_>>().join(" or ");
    let matching: Vec<&Timestamp> = candidates
        .iter()
        .filter(|at| abbreviation.is_none_or(|abbr| abbreviation_of(at).eq_ignore_ascii_case(abbr)))
        .collect();
    match (matching.as_slice(), candidates.len()) {
        ([at], _) => Ok(**at),
        (_, 0) => Err(format!("{text:?} does not exist in this time zone (the clocks skipped it).")),
        ([], _) => Err(format!("{text:?}: the zone is on {} at that time.", choices())),
        _ => Err(format!("{text:?} happens twice (the clocks went back): add {} to say which.", choices())),
    }
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
    /// `America/New_York`
    zone: String,
    /// Now, as a time is written in the form.
    example: String,
    form: PostmortemForm,
}

async fn postmortem_page(
    state: &WebState,
    actor: &Actor,
    id: &str,
    status: StatusCode,
    errors: Vec<String>,
    typed: Option<PostmortemForm>,
) -> Result<Response, ApiError> {
    let incident = crate::incidents::load_incident(state, id).await?;
    let (doc, saved) = crate::postmortem::document(state.incidents.as_ref(), &incident).await?;
    let tz = page_zone(state);
    let mut form = typed.unwrap_or_else(|| PostmortemForm::of(&doc, &tz));
    // Always one blank row at the end: filling it in adds a row, without JavaScript.
    if form.rows.last().is_none_or(|r| !r.text.trim().is_empty() || !r.at.trim().is_empty()) {
        form.rows.push(RowForm::default());
    }
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
            zone: state.runtime.catalog().page.time_zone.clone(),
            example: when(&tz, state.clock.now()),
            form,
        },
    ))
}

/// `GET /admin/incidents/{id}/postmortem`: the editor, pre-filled from the recorded timeline.
pub(crate) async fn postmortem(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    postmortem_page(&state, &actor, &id, StatusCode::OK, vec![], None).await
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// `POST /admin/incidents/{id}/postmortem`: the API's save, from the editor. A rejected save
/// (422, or the API's 4xx) shows the form as typed with every reason.
pub(crate) async fn save_postmortem(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let typed = PostmortemForm::typed(&fields);
    let tz = page_zone(&state);
    let (timeline, actions) = match (typed.timeline(&tz), typed.actions()) {
        (Ok(timeline), Ok(actions)) => (timeline, actions),
        (timeline, actions) => {
            let errors = [timeline.err(), actions.err()].into_iter().flatten().flatten().collect();
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return postmortem_page(&state, &actor, &id, status, errors, Some(typed)).await;
        }
    };
    let request = json!({
        "summary": typed.summary,
        "impact": typed.impact,
        "timeline": timeline,
        "contributing_factors": lines(&typed.contributing),
        "stabilization_steps": lines(&typed.stabilization),
        "corrective_actions": actions,
        "publish": typed.publish,
    });
    let req = match serde_json::from_value(request.clone()) {
        Ok(req) => req,
        Err(e) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return postmortem_page(&state, &actor, &id, status, vec![e.to_string()], Some(typed)).await;
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
            postmortem_page(&state, &actor, &id, e.status(), vec![e.to_string()], Some(typed)).await
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

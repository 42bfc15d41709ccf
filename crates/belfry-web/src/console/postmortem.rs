//! The postmortem editor: the document as a form that works without JavaScript, its timeline
//! in the page's zone. Saving goes through the API's handler, so it validates as the API does.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeMap;

use belfry_core::incident::Postmortem;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Nav, field, page_zone, parse_local, render, when};
use crate::auth::{Actor, audit};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::postmortem::{ActionIn, PutPostmortem, RowIn};
use crate::state::WebState;

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
    fn timeline(&self, tz: &TimeZone) -> Result<Vec<RowIn>, Vec<String>> {
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for (n, row) in self.rows.iter().enumerate().map(|(i, r)| (i + 1, r)) {
            let (at, text) = (row.at.trim(), row.text.trim());
            if text.is_empty() {
                continue;
            }
            let kept = row.was.parse::<Timestamp>().ok().filter(|was| when(tz, *was) == at);
            match kept.map_or_else(|| parse_local(at, tz), Ok) {
                Ok(at) => rows.push(RowIn { at, text: text.to_owned() }),
                Err(why) => errors.push(format!("Timeline row {n}: {why}")),
            }
        }
        rows.sort_by_key(|r| r.at);
        if errors.is_empty() { Ok(rows) } else { Err(errors) }
    }

    /// `description | owner | YYYY-MM-DD | done` per line, as the API takes them.
    fn actions(&self) -> Result<Vec<ActionIn>, Vec<String>> {
        let mut actions = Vec::new();
        let mut errors = Vec::new();
        for (n, line) in lines(&self.actions).iter().enumerate().map(|(i, l)| (i + 1, l)) {
            let mut parts = line.split('|').map(str::trim);
            let description = parts.next().unwrap_or_default().to_owned();
            let owner = parts.next().unwrap_or_default().to_owned();
            let mut action = ActionIn { description, owner, due: None, done: false };
            if let Some(due) = parts.next().filter(|d| !d.is_empty()) {
                match due.parse::<jiff::civil::Date>() {
                    Ok(date) => action.due = Some(date),
                    Err(_) => errors.push(format!(
                        "Corrective action {n}: the due date {due:?} is not a date like 2026-03-15."
                    )),
                }
            }
            match parts.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("" | "open" | "no") => {}
                Some("done" | "yes" | "x") => action.done = true,
                Some(other) => errors.push(format!(
                    "Corrective action {n}: the last column is {other:?}; write done, or leave it out."
                )),
            }
            actions.push(action);
        }
        if errors.is_empty() { Ok(actions) } else { Err(errors) }
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
    let req = PutPostmortem {
        summary: typed.summary.clone(),
        impact: typed.impact.clone(),
        timeline,
        contributing_factors: lines(&typed.contributing),
        stabilization_steps: lines(&typed.stabilization),
        corrective_actions: actions,
        publish: typed.publish,
    };
    let request = serde_json::to_value(&req).ok();
    match crate::postmortem::put(State(state.clone()), ApiPath(id.clone()), actor.clone(), ApiJson(req)).await
    {
        Ok(_) => {
            audit(&state, &actor.label, "postmortem.save", &format!("incident:{id}"), None, request).await;
            Ok(Redirect::to(&format!("/admin/incidents/{}/postmortem", super::url_encode(&id)))
                .into_response())
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            postmortem_page(&state, &actor, &id, e.status(), vec![e.to_string()], Some(typed)).await
        }
        Err(e) => Err(e),
    }
}

//! Console pages for monitors, incidents and channels.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use belfry_core::access::Role;
use belfry_core::store::IncidentFilter;
use belfry_core::{CheckResult, CheckSpec, ConsoleObject, MonitorId, Section};
use serde_json::{Map, Value, json};

use super::{Nav, field, page_zone, render, when, without_csrf};
use crate::auth::{Actor, audit};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::WebState;

const KINDS: &[&str] = &["http", "tcp"];
const STATUSES: &[&str] = &["investigating", "identified", "monitoring", "resolved"];
const IMPACTS: &[&str] = &["none", "minor", "major", "critical"];
const COMPONENT_STATUSES: &[&str] =
    &["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"];
/// Sparklines are drawn from this many recent results.
const SPARK_POINTS: u32 = 30;

fn kind_of(check: &CheckSpec) -> &'static str {
    check.kind().as_str()
}

fn secs(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) && s > 0 {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// An inline SVG polyline of response times, oldest to newest (failed checks as red dots).
fn sparkline(results: &[CheckResult]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let (w, h) = (120.0, 24.0);
    let max = results.iter().map(|r| r.duration_ms).max().unwrap_or(1).max(1) as f64;
    let step = if results.len() > 1 { w / (results.len() - 1) as f64 } else { 0.0 };
    let points: Vec<String> = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!("{:.1},{:.1}", i as f64 * step, h - 2.0 - (r.duration_ms as f64 / max) * (h - 4.0))
        })
        .collect();
    let fails: String = results
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.ok)
        .map(|(i, _)| {
            format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"#d1242f\"/>", i as f64 * step, h - 3.0)
        })
        .collect();
    let last = results.last().map_or(0, |r| r.duration_ms);
    format!(
        "<svg width=\"120\" height=\"24\" viewBox=\"0 0 120 24\" role=\"img\" aria-label=\"last {n} response times, latest {last} ms\"><polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" points=\"{}\"/>{fails}</svg>",
        points.join(" "),
        n = results.len()
    )
}

struct MonitorRow {
    id: String,
    name: String,
    kind: &'static str,
    state: String,
    last: String,
    sparkline: String,
    origin: &'static str,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    can_edit: bool,
    monitors: Vec<MonitorRow>,
}

/// `GET /admin`: every monitor with its state, last check and a sparkline.
pub(crate) async fn dashboard(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    let catalog = state.runtime.catalog();
    let states = state.runtime.states();
    let by_monitor = belfry_core::LiveState::by_monitor(&states);
    let console = state.console_ids(Section::Monitors).await?;
    let tz = page_zone(&state);
    let mut monitors = vec![];
    for spec in &catalog.monitors {
        let live = by_monitor.get(&spec.id).copied();
        let label = if spec.paused {
            "paused".to_owned()
        } else {
            live.map_or("up".to_owned(), |s| s.state.to_string())
        };
        let mut recent = state.store.results(&spec.id, None, SPARK_POINTS).await?;
        recent.reverse();
        let last = recent.last().map_or_else(
            || "not yet".to_owned(),
            |r| {
                format!(
                    "{} · {}",
                    when(&tz, r.at),
                    if r.ok { "ok" } else { r.error.as_deref().unwrap_or("failed") }
                )
            },
        );
        monitors.push(MonitorRow {
            id: spec.id.to_string(),
            name: spec.name.clone(),
            kind: kind_of(&spec.check),
            state: label,
            last,
            sparkline: sparkline(&recent),
            origin: if console.contains(spec.id.as_str()) { "console" } else { "config file" },
        });
    }
    Ok(render(
        StatusCode::OK,
        &DashboardTpl {
            title: "Monitors".to_owned(),
            nav: Nav::of(&actor),
            errors: vec![],
            can_edit: actor.at_least(Role::Editor),
            monitors,
        },
    ))
}

#[derive(Default)]
struct MonitorForm {
    /// Changing a console monitor: its YAML is in `yaml`.
    editing: bool,
    id: String,
    name: String,
    kind: String,
    target: String,
    interval: String,
    component: String,
    conditions: String,
    yaml: String,
}

#[derive(Template)]
#[template(path = "console/monitor_form.html")]
struct MonitorFormTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    form: MonitorForm,
    kinds: &'static [&'static str],
    components: Vec<(String, String)>,
}

fn components(state: &WebState) -> Vec<(String, String)> {
    state.runtime.catalog().components.iter().map(|c| (c.id.to_string(), c.name.clone())).collect()
}

fn monitor_form(
    state: &WebState,
    actor: &Actor,
    status: StatusCode,
    form: MonitorForm,
    errors: Vec<String>,
) -> Response {
    render(
        status,
        &MonitorFormTpl {
            title: if form.editing { format!("Edit {}", form.id) } else { "New monitor".to_owned() },
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            form,
            kinds: KINDS,
            components: components(state),
        },
    )
}

/// `GET /admin/monitors/new`
pub(crate) async fn new_monitor(State(state): State<WebState>, actor: Actor) -> Response {
    let form = MonitorForm { kind: "http".to_owned(), interval: "30s".to_owned(), ..MonitorForm::default() };
    monitor_form(&state, &actor, StatusCode::OK, form, vec![])
}

/// The monitor the form describes, as a config entry (JSON is YAML).
fn monitor_entry(form: &MonitorForm) -> Result<(String, String), Vec<String>> {
    if form.id.trim().is_empty() {
        return Err(vec!["the monitor needs an id".to_owned()]);
    }
    if !form.yaml.trim().is_empty() {
        // The config loader reads the entry and checks its `id` is this one.
        return Ok((form.id.trim().to_owned(), form.yaml.clone()));
    }
    let mut entry = Map::new();
    entry.insert("id".into(), json!(form.id.trim()));
    if !form.name.trim().is_empty() {
        entry.insert("name".into(), json!(form.name.trim()));
    }
    entry.insert("kind".into(), json!(form.kind));
    match form.kind.as_str() {
        "tcp" => {
            let (host, port) = form.target.trim().rsplit_once(':').unwrap_or((form.target.trim(), ""));
            entry.insert("host".into(), json!(host));
            match port.parse::<u16>() {
                Ok(p) => entry.insert("port".into(), json!(p)),
                Err(_) => return Err(vec!["a tcp monitor's target is host:port".to_owned()]),
            };
        }
        _ => {
            entry.insert("url".into(), json!(form.target.trim()));
        }
    }
    if !form.interval.trim().is_empty() {
        entry.insert("interval".into(), json!(form.interval.trim()));
    }
    if !form.component.is_empty() {
        entry.insert("component".into(), json!(form.component));
    }
    let conditions: Vec<&str> = form.conditions.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if !conditions.is_empty() {
        entry.insert("conditions".into(), json!(conditions));
    }
    Ok((form.id.trim().to_owned(), Value::Object(entry).to_string()))
}

/// `POST /admin/monitors`: validated with the config file, then in force at once.
pub(crate) async fn create_monitor(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields = without_csrf(fields);
    let form = MonitorForm {
        editing: false,
        id: field(&fields, "id").to_owned(),
        name: field(&fields, "name").to_owned(),
        kind: field(&fields, "kind").to_owned(),
        target: field(&fields, "target").to_owned(),
        interval: field(&fields, "interval").to_owned(),
        component: field(&fields, "component").to_owned(),
        conditions: field(&fields, "conditions").to_owned(),
        yaml: field(&fields, "yaml").to_owned(),
    };
    let (id, yaml) = match monitor_entry(&form) {
        Ok(entry) => entry,
        Err(errors) => return monitor_form(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, form, errors),
    };
    if state.runtime.catalog().monitor(&id).is_some()
        && !state.console_ids(Section::Monitors).await.is_ok_and(|c| c.contains(&id))
    {
        let errors = vec![format!("monitor `{id}` is defined in the configuration file")];
        return monitor_form(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    }
    if let Err(errors) = state.runtime.put_console_object(Section::Monitors, &id, Some(yaml.clone())).await {
        return monitor_form(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    }
    audit(&state, &actor.label, "monitor.save", &format!("monitor:{id}"), None, yaml_value(&yaml)).await;
    Redirect::to(&format!("/admin/monitors/{}", super::url_encode(&id))).into_response()
}

fn yaml_value(yaml: &str) -> Option<Value> {
    let v = serde_json::from_str::<Value>(yaml).unwrap_or_else(|_| Value::String(yaml.to_owned()));
    Some(belfry_core::access::redact(&v))
}

struct ResultRow {
    at: String,
    ok: bool,
    duration_ms: u64,
    error: String,
}

struct RunView {
    ok: bool,
    duration_ms: u64,
    error: String,
    phases: Vec<(&'static str, String)>,
    conditions: Vec<(String, bool, String)>,
}

impl RunView {
    fn of(r: &CheckResult) -> Self {
        let p = &r.phases;
        let phases = [
            ("dns", p.dns_ms),
            ("connect", p.connect_ms),
            ("tls", p.tls_ms),
            ("first byte", p.first_byte_ms),
            ("total", p.total_ms),
        ]
        .into_iter()
        .filter_map(|(n, v)| Some((n, format!("{:.1}", v?))))
        .collect();
        Self {
            ok: r.ok,
            duration_ms: r.duration_ms,
            error: r.error.clone().unwrap_or_default(),
            phases,
            conditions: r
                .conditions
                .iter()
                .map(|c| (c.condition.clone(), c.ok, c.resolved.clone()))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/monitor.html")]
struct MonitorTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    can_edit: bool,
    id: String,
    state: String,
    kind: &'static str,
    interval: String,
    component: Option<String>,
    console: bool,
    paused: bool,
    run: Option<RunView>,
    results: Vec<ResultRow>,
    /// region, state, silent, last result
    regions: Vec<(String, String, bool, String)>,
    quorum: u32,
}

async fn monitor_page(
    state: &WebState,
    actor: &Actor,
    id: &str,
    run: Option<RunView>,
    errors: Vec<String>,
) -> Result<Response, ApiError> {
    let catalog = state.runtime.catalog();
    let spec = catalog.monitor(id).ok_or_else(|| ApiError::NotFound(format!("no monitor {id:?}")))?;
    let live = state.runtime.states().into_iter().find(|s| s.monitor == spec.id);
    let label =
        if spec.paused { "paused".to_owned() } else { live.map_or("up".to_owned(), |s| s.state.to_string()) };
    let tz = page_zone(state);
    let results = state
        .store
        .results(&spec.id, None, 20)
        .await?
        .iter()
        .map(|r| ResultRow {
            at: when(&tz, r.at),
            ok: r.ok,
            duration_ms: r.duration_ms,
            error: r.error.clone().unwrap_or_default(),
        })
        .collect();
    let console = state.console_ids(Section::Monitors).await?.contains(id);
    let regions = match &spec.regions {
        Some(_) => state
            .runtime
            .probes()
            .regions(&spec.id)
            .into_iter()
            .map(|v| {
                let last = v.last_result.as_ref().map_or_else(
                    || "none yet".to_owned(),
                    |r| {
                        format!(
                            "{} · {}",
                            when(&tz, r.at),
                            if r.ok { "ok" } else { r.error.as_deref().unwrap_or("failed") }
                        )
                    },
                );
                (v.region, v.state.to_string(), v.stale, last)
            })
            .collect(),
        None => vec![],
    };
    let quorum = spec.regions.as_ref().map_or(0, |r| r.quorum as u32);
    Ok(render(
        if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &MonitorTpl {
            title: spec.name.clone(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            can_edit: actor.at_least(Role::Editor),
            id: spec.id.to_string(),
            state: label,
            kind: kind_of(&spec.check),
            interval: secs(spec.interval),
            component: spec.component.as_ref().map(ToString::to_string),
            console,
            paused: spec.paused,
            run,
            results,
            regions,
            quorum,
        },
    ))
}

/// `GET /admin/monitors/{id}`
pub(crate) async fn monitor(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    monitor_page(&state, &actor, &id, None, vec![]).await
}

/// `POST /admin/monitors/{id}/run`: runs the check now and shows the full result.
pub(crate) async fn run_monitor(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let monitor = MonitorId::parse(&id).map_err(|e| ApiError::InvalidPath(e.to_string()))?;
    match state.runtime.run_now(&monitor).await {
        Some(result) => monitor_page(&state, &actor, &id, Some(RunView::of(&result)), vec![]).await,
        None => {
            monitor_page(
                &state,
                &actor,
                &id,
                None,
                vec!["this monitor has no check to run now (a heartbeat waits for pings)".to_owned()],
            )
            .await
        }
    }
}

/// The console-made monitor `id`, if it is one (monitors of the config file are not).
async fn console_monitor(state: &WebState, id: &str) -> Result<Option<ConsoleObject>, ApiError> {
    Ok(state.console_objects(Section::Monitors).await?.into_iter().find(|o| o.id == id))
}

/// Re-saves a console monitor with `paused` set or cleared.
async fn set_paused(state: &WebState, actor: &Actor, id: &str, paused: bool) -> Result<Response, ApiError> {
    let Some(object) = console_monitor(state, id).await? else {
        return monitor_page(
            state,
            actor,
            id,
            None,
            vec!["only monitors made in the console can be changed here".to_owned()],
        )
        .await;
    };
    let Ok(Value::Object(mut entry)) = serde_json::from_str::<Value>(&object.yaml) else {
        return monitor_page(
            state,
            actor,
            id,
            None,
            vec!["this monitor was written as YAML; edit it as YAML".to_owned()],
        )
        .await;
    };
    let before = Value::Object(entry.clone());
    entry.insert("paused".into(), json!(paused));
    let after = Value::Object(entry);
    if let Err(errors) =
        state.runtime.put_console_object(Section::Monitors, id, Some(after.to_string())).await
    {
        return monitor_page(state, actor, id, None, errors).await;
    }
    let action = if paused { "monitor.pause" } else { "monitor.resume" };
    audit(
        state,
        &actor.label,
        action,
        &format!("monitor:{id}"),
        Some(belfry_core::access::redact(&before)),
        Some(belfry_core::access::redact(&after)),
    )
    .await;
    Ok(Redirect::to(&format!("/admin/monitors/{}", super::url_encode(id))).into_response())
}

/// `GET /admin/monitors/{id}/edit` (console monitors only): the form with its entry as YAML.
pub(crate) async fn edit_monitor(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let Some(object) = console_monitor(&state, &id).await? else {
        let error = "only monitors made in the console can be changed here".to_owned();
        return monitor_page(&state, &actor, &id, None, vec![error]).await;
    };
    let yaml = serde_json::from_str::<Value>(&object.yaml)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(object.yaml);
    let form = MonitorForm { editing: true, id, kind: "http".to_owned(), yaml, ..MonitorForm::default() };
    Ok(monitor_form(&state, &actor, StatusCode::OK, form, vec![]))
}

/// `POST /admin/monitors/{id}/pause`
pub(crate) async fn pause_monitor(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    set_paused(&state, &actor, &id, true).await
}

/// `POST /admin/monitors/{id}/resume`
pub(crate) async fn resume_monitor(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    set_paused(&state, &actor, &id, false).await
}

/// `POST /admin/monitors/{id}/delete` (console monitors only).
pub(crate) async fn delete_monitor(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let Some(object) = console_monitor(&state, &id).await? else {
        return monitor_page(
            &state,
            &actor,
            &id,
            None,
            vec!["only monitors made in the console can be deleted here".to_owned()],
        )
        .await;
    };
    if let Err(errors) = state.runtime.put_console_object(Section::Monitors, &id, None).await {
        return monitor_page(&state, &actor, &id, None, errors).await;
    }
    audit(&state, &actor.label, "monitor.delete", &format!("monitor:{id}"), yaml_value(&object.yaml), None)
        .await;
    Ok(Redirect::to("/admin").into_response())
}

struct IncidentRow {
    id: String,
    name: String,
    status: &'static str,
    impact: &'static str,
    created: String,
    published: bool,
}

#[derive(Template)]
#[template(path = "console/incidents.html")]
struct IncidentsTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    can_edit: bool,
    incidents: Vec<IncidentRow>,
    statuses: &'static [&'static str],
    impacts: &'static [&'static str],
    components: Vec<(String, String)>,
    component_statuses: &'static [&'static str],
}

async fn incidents_page(
    state: &WebState,
    actor: &Actor,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, ApiError> {
    let filter = IncidentFilter { include_drafts: true, limit: 100, ..IncidentFilter::default() };
    let tz = page_zone(state);
    let incidents = state
        .incidents
        .incidents(&filter)
        .await?
        .into_iter()
        .map(|i| IncidentRow {
            id: i.id.clone(),
            name: i.name.clone(),
            status: i.status.as_str(),
            impact: i.impact.as_str(),
            created: when(&tz, i.created_at),
            published: i.published,
        })
        .collect();
    Ok(render(
        status,
        &IncidentsTpl {
            title: "Incidents".to_owned(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            can_edit: actor.at_least(Role::Editor),
            incidents,
            statuses: STATUSES,
            impacts: IMPACTS,
            components: components(state),
            component_statuses: COMPONENT_STATUSES,
        },
    ))
}

/// `GET /admin/incidents`
pub(crate) async fn incidents(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    incidents_page(&state, &actor, StatusCode::OK, vec![]).await
}

/// `component.<id>=<status>` fields as the API's `components` map.
fn component_fields(fields: &[(String, String)]) -> Value {
    let map: Map<String, Value> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("component.")?.to_owned(), v)))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, json!(v)))
        .collect();
    Value::Object(map)
}

/// The API's request type from console form values (the API validates it the same way).
fn api_request<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Vec<String>> {
    serde_json::from_value(value).map_err(|e| vec![e.to_string()])
}

/// `POST /admin/incidents`: the API's create, from a form.
pub(crate) async fn create_incident(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let request = json!({
        "name": field(&fields, "name"),
        "status": field(&fields, "status"),
        "impact": field(&fields, "impact"),
        "body": field(&fields, "body"),
        "components": component_fields(&fields),
    });
    let req = match api_request(request.clone()) {
        Ok(req) => req,
        Err(errors) => return incidents_page(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, errors).await,
    };
    match crate::incidents::create(State(state.clone()), actor.clone(), ApiJson(req)).await {
        Ok((_, doc)) => {
            let id = doc.0.id.clone();
            audit(&state, &actor.label, "incident.create", &format!("incident:{id}"), None, Some(request))
                .await;
            Ok(Redirect::to(&format!("/admin/incidents/{}", super::url_encode(&id))).into_response())
        }
        Err(e) if e.status().is_client_error() => {
            incidents_page(&state, &actor, e.status(), vec![e.to_string()]).await
        }
        Err(e) => Err(e),
    }
}

struct UpdateRow {
    status: &'static str,
    at: String,
    author: String,
    html: String,
}

#[derive(Template)]
#[template(path = "console/incident.html")]
struct IncidentTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    can_edit: bool,
    id: String,
    status: &'static str,
    impact: &'static str,
    updates: Vec<UpdateRow>,
    statuses: &'static [&'static str],
    components: Vec<(String, String)>,
    component_statuses: &'static [&'static str],
}

async fn incident_page(
    state: &WebState,
    actor: &Actor,
    id: &str,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, ApiError> {
    let incident = crate::incidents::load_incident(state, id).await?;
    let tz = page_zone(state);
    let updates = incident
        .updates
        .iter()
        .rev()
        .map(|u| UpdateRow {
            status: u.status.as_str(),
            at: when(&tz, u.display_at),
            author: u.author.clone(),
            html: crate::markdown::to_safe_html(&u.body),
        })
        .collect();
    Ok(render(
        status,
        &IncidentTpl {
            title: incident.name.clone(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            can_edit: actor.at_least(Role::Editor),
            id: incident.id.clone(),
            status: incident.status.as_str(),
            impact: incident.impact.as_str(),
            updates,
            statuses: STATUSES,
            components: components(state),
            component_statuses: COMPONENT_STATUSES,
        },
    ))
}

/// `GET /admin/incidents/{id}`
pub(crate) async fn incident(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    incident_page(&state, &actor, &id, StatusCode::OK, vec![]).await
}

/// `POST /admin/incidents/{id}/updates`: the API's update, from the composer.
pub(crate) async fn post_update(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let request = json!({
        "status": field(&fields, "status"),
        "body": field(&fields, "body"),
        "components": component_fields(&fields),
    });
    let req = match api_request(request.clone()) {
        Ok(req) => req,
        Err(errors) => {
            return incident_page(&state, &actor, &id, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
        }
    };
    match crate::incidents::post_update(
        State(state.clone()),
        ApiPath(id.clone()),
        actor.clone(),
        ApiJson(req),
    )
    .await
    {
        Ok(_) => {
            audit(&state, &actor.label, "incident.update", &format!("incident:{id}"), None, Some(request))
                .await;
            Ok(Redirect::to(&format!("/admin/incidents/{}", super::url_encode(&id))).into_response())
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            incident_page(&state, &actor, &id, e.status(), vec![e.to_string()]).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "console/channels.html")]
struct ChannelsTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    can_edit: bool,
    is_admin: bool,
    channels: Vec<(String, &'static str, &'static str)>,
    /// id, steps, rounds
    escalations: Vec<(String, String, u32)>,
    /// events, monitors, components, tags, policy
    rules: Vec<(String, String, String, String, String)>,
    entry: String,
}

async fn channels_page(
    state: &WebState,
    actor: &Actor,
    status: StatusCode,
    errors: Vec<String>,
    entry: String,
) -> Result<Response, ApiError> {
    let console = state.console_ids(Section::Channels).await?;
    let channels = state
        .runtime
        .catalog()
        .alerting
        .channels
        .iter()
        .map(|c| {
            let origin = if console.contains(c.id.as_str()) { "console" } else { "config file" };
            (c.id.to_string(), c.kind.name(), origin)
        })
        .collect();
    let catalog = state.runtime.catalog();
    let escalations = catalog
        .alerting
        .escalations
        .iter()
        .map(|e| {
            let steps = e
                .steps
                .iter()
                .map(|s| format!("after {}: {}", secs(s.after), s.notify.join(", ")))
                .collect::<Vec<_>>()
                .join("; ");
            (e.id.clone(), steps, e.repeat)
        })
        .collect();
    let list = |items: Vec<String>| if items.is_empty() { "any".to_owned() } else { items.join(", ") };
    let rules = catalog
        .alerting
        .rules
        .iter()
        .map(|r| {
            let events = if r.events.is_empty() {
                "down, up".to_owned()
            } else {
                r.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
            };
            (
                events,
                list(r.monitors.clone()),
                list(r.components.iter().map(ToString::to_string).collect()),
                list(r.tags.clone()),
                r.escalation.clone(),
            )
        })
        .collect();
    Ok(render(
        status,
        &ChannelsTpl {
            title: "Channels".to_owned(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            can_edit: actor.at_least(Role::Editor),
            is_admin: actor.role() == Some(Role::Admin),
            channels,
            escalations,
            rules,
            entry,
        },
    ))
}

/// `GET /admin/channels`
pub(crate) async fn channels(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    channels_page(&state, &actor, StatusCode::OK, vec![], String::new()).await
}

/// `POST /admin/channels/{id}/test`: queues a test message (the API's send test).
pub(crate) async fn channel_test(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let _queued = crate::channels::send_test(State(state.clone()), ApiPath(id.clone())).await?;
    audit(&state, &actor.label, "channel.test", &format!("channel:{id}"), None, None).await;
    channels_page(
        &state,
        &actor,
        StatusCode::OK,
        vec![format!("A test message to {id} is queued; see the deliveries.")],
        String::new(),
    )
    .await
}

/// `POST /admin/channels`: the API's create, from the form's JSON entry.
pub(crate) async fn create_channel(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let text = field(&fields, "entry").to_owned();
    let entry: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return channels_page(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![format!("not JSON: {e}")],
                text,
            )
            .await;
        }
    };
    match crate::channels::create(State(state.clone()), ApiJson(entry.clone())).await {
        Ok(_) => {
            let id = entry.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            audit(
                &state,
                &actor.label,
                "channel.create",
                &format!("channel:{id}"),
                None,
                Some(belfry_core::access::redact(&entry)),
            )
            .await;
            Ok(Redirect::to("/admin/channels").into_response())
        }
        Err(ApiError::InvalidConfig(errors)) => {
            channels_page(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, errors, text).await
        }
        Err(e) if e.status().is_client_error() => {
            channels_page(&state, &actor, e.status(), vec![e.to_string()], text).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /admin/channels/{id}/delete` (console channels only).
pub(crate) async fn delete_channel(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    match crate::channels::delete(State(state.clone()), ApiPath(id.clone())).await {
        Ok(_) => {
            audit(&state, &actor.label, "channel.delete", &format!("channel:{id}"), None, None).await;
            Ok(Redirect::to("/admin/channels").into_response())
        }
        Err(ApiError::InvalidConfig(errors)) => {
            channels_page(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, errors, String::new()).await
        }
        Err(e) if e.status().is_client_error() => {
            channels_page(&state, &actor, e.status(), vec![e.to_string()], String::new()).await
        }
        Err(e) => Err(e),
    }
}

struct AlertRow {
    id: String,
    subject: String,
    opened: String,
    fired: u32,
    acked: String,
}

#[derive(Template)]
#[template(path = "console/alerts.html")]
struct AlertsTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    can_edit: bool,
    alerts: Vec<AlertRow>,
}

/// `GET /admin/alerts`: alerts still paging, each with an acknowledge button.
pub(crate) async fn alerts(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    let tz = page_zone(&state);
    let alerts = state
        .alerts
        .active_alerts()
        .await?
        .into_iter()
        .map(|a| AlertRow {
            id: a.id.clone(),
            subject: a.subject.clone(),
            opened: when(&tz, a.opened_at),
            fired: a.fired,
            acked: match (&a.acknowledged_by, a.acknowledged_at) {
                (Some(by), Some(at)) => format!("{by} at {}", when(&tz, at)),
                _ => String::new(),
            },
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &AlertsTpl {
            title: "Alerts".to_owned(),
            nav: Nav::of(&actor),
            errors: vec![],
            csrf: actor.csrf().to_owned(),
            can_edit: actor.at_least(Role::Editor),
            alerts,
        },
    ))
}

/// `POST /admin/alerts/{id}/ack`: stops the escalation, as the link in the message would.
pub(crate) async fn ack_alert(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let alert =
        state.alerts.alert(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no alert {id:?}")))?;
    crate::alerts::acknowledge(&state, alert, &actor.label).await?;
    audit(&state, &actor.label, "alert.ack", &format!("alert:{id}"), None, None).await;
    Ok(Redirect::to("/admin/alerts").into_response())
}

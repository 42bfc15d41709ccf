//! The route table — every route, its handler and who may call it — and the router built from
//! it. The table is the single source: the router is made from it and nothing else, so the
//! table's access column always describes what the router enforces.

use std::sync::LazyLock;
use std::time::Duration;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Extension, Router};
use belfry_core::access::Role;
use belfry_core::auth::Scope;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Guard, require_role, require_scope};
use crate::changes::ChangeFeed;
use crate::console::{self, LoginLimits};
use crate::error::ApiError;
use crate::site::Site;
use crate::state::WebState;
use crate::subscribers::{self, SubscribeLimits};
use crate::{
    admin, alerts, channels, health, incidents, maintenances, monitors, openapi, postmortem, probe, public,
    push, sse,
};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// A bearer token (or a console session with the CSRF header) whose scope allows this one
    /// (see [`Scope::allows`]).
    Scope(Scope),
    /// A console page: a session of at least this role; forms must carry its CSRF token.
    Role(Role),
}

/// Largest request body accepted, in bytes.
const BODY_LIMIT: usize = 1024 * 1024;
/// A request still unanswered after this gets a 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Routes under this prefix are the public Statuspage API, readable from any origin.
pub(crate) const CORS_PREFIX: &str = "/api/v2/";

struct Route {
    method: Method,
    path: &'static str,
    access: Access,
    /// Binds the handler to the method filter made from `method`.
    handler: fn(MethodFilter) -> MethodRouter<WebState>,
}

const READ: Access = Access::Scope(Scope::Read);
const PROBE: Access = Access::Scope(Scope::Probe);
const WRITE: Access = Access::Scope(Scope::Write);
const ADMIN: Access = Access::Scope(Scope::Admin);
const VIEWER_PAGE: Access = Access::Role(Role::Viewer);
const EDITOR_PAGE: Access = Access::Role(Role::Editor);
const ADMIN_PAGE: Access = Access::Role(Role::Admin);

#[rustfmt::skip]
static ROUTES: &[Route] = &[
    Route { method: Method::GET, path: "/healthz", access: Access::Public, handler: |f| on(f, health::healthz) },
    Route { method: Method::GET, path: "/readyz", access: Access::Public, handler: |f| on(f, health::readyz) },
    Route { method: Method::GET, path: "/metrics", access: Access::Public, handler: |f| on(f, health::metrics) },
    Route { method: Method::GET, path: "/api/v1/openapi.json", access: Access::Public, handler: |f| on(f, openapi::document) },
    Route { method: Method::GET, path: "/api/v2/status.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v2/summary.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v2/components.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v2/incidents.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v2/incidents/unresolved.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v2/scheduled-maintenances.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v2/scheduled-maintenances/upcoming.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v2/scheduled-maintenances/active.json", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/history", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/incidents/{id}", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/components/{id}", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/history.atom", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/history.rss", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/badge/{component}", access: Access::Public, handler: |f| on(f, public::status_badge) },
    Route { method: Method::GET, path: "/badge/{component}/uptime.svg", access: Access::Public, handler: |f| on(f, public::uptime_badge) },
    Route { method: Method::GET, path: "/api/v1/stream", access: Access::Public, handler: |f| on(f, sse::stream) },
    Route { method: Method::GET, path: "/maintenance.ics", access: Access::Public, handler: |f| on(f, public::cached) },
    Route { method: Method::GET, path: "/api/v1/monitors", access: READ, handler: |f| on(f, monitors::list) },
    Route { method: Method::GET, path: "/api/v1/monitors/{id}", access: READ, handler: |f| on(f, monitors::detail) },
    Route { method: Method::GET, path: "/api/v1/monitors/{id}/results", access: READ, handler: |f| on(f, monitors::results) },
    Route { method: Method::GET, path: "/api/v1/monitors/{id}/transitions", access: READ, handler: |f| on(f, monitors::transitions) },
    Route { method: Method::GET, path: "/api/v1/push/{token}", access: Access::Public, handler: |f| on(f, push::push) },
    Route { method: Method::POST, path: "/api/v1/push/{token}", access: Access::Public, handler: |f| on(f, push::push) },
    Route { method: Method::GET, path: "/api/v1/probe/assignments", access: PROBE, handler: |f| on(f, probe::assignments) },
    Route { method: Method::POST, path: "/api/v1/probe/results", access: PROBE, handler: |f| on(f, probe::results) },
    Route { method: Method::GET, path: "/api/v1/probes", access: READ, handler: |f| on(f, probe::list) },
    Route { method: Method::POST, path: "/api/v1/incidents", access: WRITE, handler: |f| on(f, incidents::create) },
    Route { method: Method::GET, path: "/api/v1/incidents", access: READ, handler: |f| on(f, incidents::list) },
    Route { method: Method::GET, path: "/api/v1/incidents/{id}", access: READ, handler: |f| on(f, incidents::detail) },
    Route { method: Method::POST, path: "/api/v1/incidents/{id}/updates", access: WRITE, handler: |f| on(f, incidents::post_update) },
    Route { method: Method::PATCH, path: "/api/v1/incidents/{id}/updates/{update_id}", access: WRITE, handler: |f| on(f, incidents::edit_update) },
    Route { method: Method::POST, path: "/api/v1/incidents/{id}/publish", access: WRITE, handler: |f| on(f, incidents::publish) },
    Route { method: Method::GET, path: "/api/v1/incidents/{id}/timeline", access: READ, handler: |f| on(f, incidents::timeline) },
    Route { method: Method::POST, path: "/api/v1/incidents/{id}/notes", access: WRITE, handler: |f| on(f, incidents::add_note) },
    Route { method: Method::GET, path: "/api/v1/incidents/{id}/postmortem", access: READ, handler: |f| on(f, postmortem::get) },
    Route { method: Method::PUT, path: "/api/v1/incidents/{id}/postmortem", access: WRITE, handler: |f| on(f, postmortem::put) },
    Route { method: Method::POST, path: "/api/v1/maintenances", access: WRITE, handler: |f| on(f, maintenances::create) },
    Route { method: Method::GET, path: "/api/v1/maintenances", access: READ, handler: |f| on(f, maintenances::list) },
    Route { method: Method::GET, path: "/api/v1/maintenances/{id}", access: READ, handler: |f| on(f, maintenances::detail) },
    Route { method: Method::PATCH, path: "/api/v1/maintenances/{id}", access: WRITE, handler: |f| on(f, maintenances::patch) },
    Route { method: Method::DELETE, path: "/api/v1/maintenances/{id}", access: WRITE, handler: |f| on(f, maintenances::delete) },
    Route { method: Method::POST, path: "/api/v1/reload", access: ADMIN, handler: |f| on(f, admin::reload) },
    Route { method: Method::GET, path: "/api/v1/alerts", access: READ, handler: |f| on(f, alerts::list) },
    Route { method: Method::POST, path: "/api/v1/alerts/{id}/ack", access: WRITE, handler: |f| on(f, alerts::ack_api) },
    Route { method: Method::GET, path: "/api/v1/deliveries", access: READ, handler: |f| on(f, alerts::deliveries) },
    Route { method: Method::GET, path: "/api/v1/channels", access: READ, handler: |f| on(f, channels::list) },
    Route { method: Method::POST, path: "/api/v1/channels", access: ADMIN, handler: |f| on(f, channels::create) },
    Route { method: Method::PUT, path: "/api/v1/channels/{id}", access: ADMIN, handler: |f| on(f, channels::replace) },
    Route { method: Method::DELETE, path: "/api/v1/channels/{id}", access: ADMIN, handler: |f| on(f, channels::delete) },
    Route { method: Method::POST, path: "/api/v1/channels/{id}/test", access: WRITE, handler: |f| on(f, channels::send_test) },
    Route { method: Method::GET, path: "/ack/{token}", access: Access::Public, handler: |f| on(f, alerts::ack_page) },
    Route { method: Method::POST, path: "/ack/{token}", access: Access::Public, handler: |f| on(f, alerts::ack_confirm) },
    Route { method: Method::POST, path: "/subscribe", access: Access::Public, handler: |f| on(f, subscribers::subscribe) },
    Route { method: Method::GET, path: "/subscribe/confirm/{token}", access: Access::Public, handler: |f| on(f, subscribers::confirm) },
    Route { method: Method::GET, path: "/unsubscribe/{token}", access: Access::Public, handler: |f| on(f, subscribers::unsubscribe_page) },
    Route { method: Method::POST, path: "/unsubscribe/{token}", access: Access::Public, handler: |f| on(f, subscribers::unsubscribe) },
    Route { method: Method::GET, path: "/admin/login", access: Access::Public, handler: |f| on(f, console::login_page) },
    Route { method: Method::POST, path: "/admin/login", access: Access::Public, handler: |f| on(f, console::login) },
    Route { method: Method::POST, path: "/admin/logout", access: VIEWER_PAGE, handler: |f| on(f, console::logout) },
    Route { method: Method::POST, path: "/admin/logout/everywhere", access: VIEWER_PAGE, handler: |f| on(f, console::logout_everywhere) },
    Route { method: Method::GET, path: "/admin", access: VIEWER_PAGE, handler: |f| on(f, console::dashboard) },
    Route { method: Method::GET, path: "/admin/monitors/new", access: EDITOR_PAGE, handler: |f| on(f, console::new_monitor) },
    Route { method: Method::POST, path: "/admin/monitors", access: EDITOR_PAGE, handler: |f| on(f, console::create_monitor) },
    Route { method: Method::GET, path: "/admin/monitors/{id}", access: VIEWER_PAGE, handler: |f| on(f, console::monitor) },
    Route { method: Method::GET, path: "/admin/monitors/{id}/edit", access: EDITOR_PAGE, handler: |f| on(f, console::edit_monitor) },
    Route { method: Method::POST, path: "/admin/monitors/{id}/run", access: EDITOR_PAGE, handler: |f| on(f, console::run_monitor) },
    Route { method: Method::POST, path: "/admin/monitors/{id}/pause", access: EDITOR_PAGE, handler: |f| on(f, console::pause_monitor) },
    Route { method: Method::POST, path: "/admin/monitors/{id}/resume", access: EDITOR_PAGE, handler: |f| on(f, console::resume_monitor) },
    Route { method: Method::POST, path: "/admin/monitors/{id}/delete", access: EDITOR_PAGE, handler: |f| on(f, console::delete_monitor) },
    Route { method: Method::GET, path: "/admin/incidents", access: VIEWER_PAGE, handler: |f| on(f, console::incidents) },
    Route { method: Method::POST, path: "/admin/incidents", access: EDITOR_PAGE, handler: |f| on(f, console::create_incident) },
    Route { method: Method::GET, path: "/admin/incidents/{id}", access: VIEWER_PAGE, handler: |f| on(f, console::incident) },
    Route { method: Method::POST, path: "/admin/incidents/{id}/updates", access: EDITOR_PAGE, handler: |f| on(f, console::post_update) },
    Route { method: Method::GET, path: "/admin/channels", access: VIEWER_PAGE, handler: |f| on(f, console::channels) },
    Route { method: Method::POST, path: "/admin/channels/{id}/test", access: EDITOR_PAGE, handler: |f| on(f, console::channel_test) },
    Route { method: Method::POST, path: "/admin/channels", access: ADMIN_PAGE, handler: |f| on(f, console::create_channel) },
    Route { method: Method::POST, path: "/admin/channels/{id}/delete", access: ADMIN_PAGE, handler: |f| on(f, console::delete_channel) },
    Route { method: Method::GET, path: "/admin/components", access: VIEWER_PAGE, handler: |f| on(f, console::components) },
    Route { method: Method::POST, path: "/admin/components/{id}/move", access: EDITOR_PAGE, handler: |f| on(f, console::move_component) },
    Route { method: Method::GET, path: "/admin/maintenances", access: VIEWER_PAGE, handler: |f| on(f, console::maintenances) },
    Route { method: Method::POST, path: "/admin/maintenances", access: EDITOR_PAGE, handler: |f| on(f, console::create_maintenance) },
    Route { method: Method::POST, path: "/admin/maintenances/{id}/delete", access: EDITOR_PAGE, handler: |f| on(f, console::delete_maintenance) },
    Route { method: Method::GET, path: "/admin/incidents/{id}/postmortem", access: VIEWER_PAGE, handler: |f| on(f, console::postmortem) },
    Route { method: Method::POST, path: "/admin/incidents/{id}/postmortem", access: EDITOR_PAGE, handler: |f| on(f, console::save_postmortem) },
    Route { method: Method::GET, path: "/admin/alerts", access: VIEWER_PAGE, handler: |f| on(f, console::alerts) },
    Route { method: Method::POST, path: "/admin/alerts/{id}/ack", access: EDITOR_PAGE, handler: |f| on(f, console::ack_alert) },
    Route { method: Method::GET, path: "/admin/users", access: ADMIN_PAGE, handler: |f| on(f, console::users) },
    Route { method: Method::POST, path: "/admin/users", access: ADMIN_PAGE, handler: |f| on(f, console::create_user) },
    Route { method: Method::POST, path: "/admin/users/{id}/delete", access: ADMIN_PAGE, handler: |f| on(f, console::delete_user) },
    Route { method: Method::POST, path: "/admin/tokens", access: ADMIN_PAGE, handler: |f| on(f, console::create_token) },
    Route { method: Method::POST, path: "/admin/tokens/{id}/delete", access: ADMIN_PAGE, handler: |f| on(f, console::delete_token) },
    Route { method: Method::GET, path: "/admin/subscribers", access: ADMIN_PAGE, handler: |f| on(f, console::subscribers) },
    Route { method: Method::POST, path: "/admin/subscribers/{id}/delete", access: ADMIN_PAGE, handler: |f| on(f, console::delete_subscriber) },
    Route { method: Method::GET, path: "/admin/settings", access: ADMIN_PAGE, handler: |f| on(f, console::settings) },
    Route { method: Method::GET, path: "/admin/audit", access: ADMIN_PAGE, handler: |f| on(f, console::audit_log) },
    Route { method: Method::GET, path: "/admin/account", access: VIEWER_PAGE, handler: |f| on(f, console::account) },
    Route { method: Method::POST, path: "/admin/account/totp", access: VIEWER_PAGE, handler: |f| on(f, console::totp_start) },
    Route { method: Method::POST, path: "/admin/account/totp/confirm", access: VIEWER_PAGE, handler: |f| on(f, console::totp_confirm) },
];

impl Route {
    /// A write by staff (write or admin tokens, editor or admin sessions): incidents,
    /// maintenance, console objects, reloads. The writer waits until the public site shows it.
    /// Everything else reaches the site another way or not at all: heartbeat pushes and probe
    /// results through the engine's transitions; subscriptions, logins and acknowledgements
    /// change nothing the page shows.
    fn changes_site(&self) -> bool {
        let staff = matches!(
            self.access,
            Access::Scope(Scope::Write | Scope::Admin) | Access::Role(Role::Editor | Role::Admin)
        );
        staff && !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }
}

static TABLE: LazyLock<Vec<(Method, &'static str, Access)>> =
    LazyLock::new(|| ROUTES.iter().map(|r| (r.method.clone(), r.path, r.access)).collect());

/// Every route of [`router`]: method, path (axum syntax, `{param}`) and who may call it.
pub fn route_table() -> &'static [(Method, &'static str, Access)] {
    &TABLE
}

/// The complete application: every route of [`route_table`] with its access check, JSON
/// errors for unknown paths (404) and methods (405), a 1 MiB body limit, a 30 s timeout and
/// request tracing. The public site is cached and rebuilt after the router's own writes and
/// every 10 s; use [`router_with`] to let other changes (engine transitions) reach it.
pub fn router(state: WebState) -> Router {
    router_with(state, ChangeFeed::new())
}

/// [`router`] whose public-site cache also rebuilds whenever `changes` is notified.
pub fn router_with(state: WebState, changes: ChangeFeed) -> Router {
    let site = Site::new(state.clone(), changes);
    // Routes of one path share a method router; each method carries its own access check.
    let mut paths: Vec<(&'static str, MethodRouter<WebState>)> = Vec::new();
    for route in ROUTES {
        let filter = MethodFilter::try_from(route.method.clone())
            .unwrap_or_else(|e| panic!("route table: {} {}: {e}", route.method, route.path));
        let mut method_router = (route.handler)(filter);
        match route.access {
            Access::Public => {}
            Access::Scope(scope) => {
                let guard = Guard { web: state.clone(), scope };
                method_router = method_router.route_layer(from_fn_with_state(guard, require_scope));
            }
            Access::Role(role) => {
                let guard = Guard { web: state.clone(), scope: role.scope() };
                method_router = method_router.route_layer(from_fn_with_state(guard, require_role));
            }
        }
        if route.changes_site() {
            method_router = method_router.route_layer(from_fn_with_state(site.clone(), show_writes));
        }
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(method_router),
            None => paths.push((route.path, method_router)),
        }
    }

    let mut app = Router::new();
    for (path, method_router) in paths {
        let mut method_router = method_router.fallback(method_not_allowed);
        if path.starts_with(CORS_PREFIX) {
            // Outside the method filter so a CORS preflight (OPTIONS) is answered too.
            method_router = method_router.layer(open_cors());
        }
        app = app.route(path, method_router);
    }
    let app = app
        .fallback(route_not_found)
        .layer(Extension(site.clone()))
        .layer(Extension(Arc::new(SubscribeLimits::default())))
        .layer(Extension(Arc::new(LoginLimits::default())))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(map_response(json_errors));
    // A layer on a router wraps each route, and each request clones its route's whole stack:
    // GETs of cached documents (nearly all traffic) are answered in front of the router instead,
    // by a layer around it that clones only the router's handle.
    Router::new()
        .fallback_service(app)
        .layer(from_fn_with_state(site, public::serve_cached))
        .layer(TraceLayer::new_for_http())
}

/// After a successful write of a route that [changes the site](Route::changes_site), marks the
/// public site stale and answers once the rebuild that includes the write is out: the writer's
/// next read shows it.
async fn show_writes(State(site): State<Arc<Site>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status().is_success() {
        site.changed_and_wait().await;
    }
    response
}

fn open_cors() -> CorsLayer {
    CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
}

async fn route_not_found() -> ApiError {
    ApiError::RouteNotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Middleware (body limit, timeout) answer errors in plain text or with no body; give them
/// the API's JSON error shape, keeping their status and headers.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type.is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html")) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let replacement = ApiError::Status(status).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, replacement.into_body())
}

#[cfg(test)]
mod tests;

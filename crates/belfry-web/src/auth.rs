//! Who is calling. The API takes a bearer token (`Authorization: Bearer <secret>`, hashed and
//! looked up) or a console session cookie (then unsafe methods must echo the session's CSRF
//! token in `X-CSRF-Token`). The route table says which scope or role each route needs;
//! [`require_scope`] and [`require_role`] enforce it and leave the [`Actor`] in the request.

use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use belfry_core::StoreError;
use belfry_core::access::{AuditEntry, Role, Session, User, redact};
use belfry_core::auth::{ApiToken, Scope, hash_secret};

use crate::error::ApiError;
use crate::state::WebState;

/// The cookie holding a console session's secret.
pub(crate) const SESSION_COOKIE: &str = "belfry_session";
/// The form field every console form carries.
pub(crate) const CSRF_FIELD: &str = "_csrf";
/// The header an API call made with a session cookie carries.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// Console form bodies are read whole for the CSRF check, up to this size.
const FORM_LIMIT: usize = 1024 * 1024;

/// Who made this request: a token or a logged-in user.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `token:<id>` or `user:<name>`, as the audit log and incident timelines record it.
    pub label: String,
    pub scope: Scope,
    /// Set for console sessions.
    pub user: Option<User>,
    pub session: Option<Session>,
}

impl Actor {
    fn token(token: ApiToken) -> Self {
        Self { label: format!("token:{}", token.id), scope: token.scope, user: None, session: None }
    }

    fn user(user: User, session: Session) -> Self {
        Self {
            label: format!("user:{}", user.name),
            scope: user.role.scope(),
            user: Some(user),
            session: Some(session),
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    /// A console user of at least `role` (what the page offers them; the route table enforces).
    pub fn at_least(&self, role: Role) -> bool {
        self.role().is_some_and(|r| r >= role)
    }

    /// The CSRF token forms of this session must carry (empty for tokens).
    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf.as_str())
    }
}

/// As an extractor: the actor the access middleware found, or authenticates on its own.
impl<S> FromRequestParts<S> for Actor
where
    WebState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(actor.clone());
        }
        let web = WebState::from_ref(state);
        authenticate(&web, &parts.method, &parts.headers).await
    }
}

/// The state of one route's access check.
#[derive(Clone)]
pub(crate) struct Guard {
    pub web: WebState,
    pub scope: Scope,
}

/// API route middleware: 401 without credentials, 403 when they do not cover the route's
/// scope (or a session's unsafe call lacks its CSRF header). Successful writes are audited.
pub(crate) async fn require_scope(
    State(guard): State<Guard>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let actor = authenticate(&guard.web, req.method(), req.headers()).await?;
    if !actor.scope.allows(guard.scope) {
        return Err(ApiError::Forbidden { needed: guard.scope });
    }
    // Probe result batches are data, not changes: they are not audited.
    let write = !is_safe(req.method()) && guard.scope != Scope::Probe;
    let what = write.then(|| format!("{} {}", req.method(), req.uri().path()));
    let (req, body) = if write { buffer(req).await? } else { (req, None) };
    let mut req = req;
    req.extensions_mut().insert(actor.clone());
    let response = next.run(req).await;
    if let Some(what) = what
        && response.status().is_success()
    {
        let after =
            body.and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()).map(|v| redact(&v));
        audit(&guard.web, &actor.label, "api.write", &what, None, after).await;
    }
    Ok(response)
}

/// Console route middleware: no session → the login page; a role below the route's → 403;
/// an unsafe method without the session's `_csrf` form field → 403.
pub(crate) async fn require_role(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let session = match session_actor(&guard.web, req.headers()).await {
        Ok(Some(actor)) => actor,
        Ok(None) => {
            if is_safe(req.method()) {
                let next_path = req.uri().path_and_query().map_or("/admin", |p| p.as_str()).to_owned();
                return Redirect::to(&format!(
                    "/admin/login?next={}",
                    crate::console::url_encode(&next_path)
                ))
                .into_response();
            }
            return crate::console::error_page(StatusCode::UNAUTHORIZED, "Please log in again.");
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    if !session.scope.allows(guard.scope) {
        return crate::console::error_page(
            StatusCode::FORBIDDEN,
            &format!("Your role ({}) may not do this.", session.role().map_or("none", Role::as_str)),
        );
    }
    if !is_safe(req.method()) {
        let (rebuilt, body) = match buffer(req).await {
            Ok(parts) => parts,
            Err(e) => return e.into_response(),
        };
        let fields: Vec<(String, String)> =
            body.as_deref().and_then(|b| serde_urlencoded::from_bytes(b).ok()).unwrap_or_default();
        let sent = fields.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str());
        if !sent.is_some_and(|t| constant_time_eq(t.as_bytes(), session.csrf().as_bytes())) {
            return crate::console::error_page(
                StatusCode::FORBIDDEN,
                "The form expired or did not come from this console. Reload the page and try again.",
            );
        }
        req = rebuilt;
    }
    req.extensions_mut().insert(session);
    next.run(req).await
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The request with its body read into memory (and put back), for checks that need it.
async fn buffer(req: Request) -> Result<(Request, Option<bytes::Bytes>), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| ApiError::Status(StatusCode::PAYLOAD_TOO_LARGE))?;
    Ok((Request::from_parts(parts, Body::from(bytes.clone())), Some(bytes)))
}

async fn authenticate(web: &WebState, method: &Method, headers: &HeaderMap) -> Result<Actor, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let Some(secret) = value.to_str().ok().and_then(bearer_secret) else {
            return Err(ApiError::Unauthorized { invalid_token: true });
        };
        return match web.store.token_by_hash(&hash_secret(secret)).await? {
            Some(token) => Ok(Actor::token(token)),
            None => Err(ApiError::Unauthorized { invalid_token: true }),
        };
    }
    match session_actor(web, headers).await? {
        Some(actor) => {
            if !is_safe(method) {
                let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
                if !constant_time_eq(sent.as_bytes(), actor.csrf().as_bytes()) {
                    return Err(ApiError::CsrfRejected);
                }
            }
            Ok(actor)
        }
        None => Err(ApiError::Unauthorized { invalid_token: false }),
    }
}

/// The logged-in user of the session cookie, if it names a live session.
pub(crate) async fn session_actor(web: &WebState, headers: &HeaderMap) -> Result<Option<Actor>, StoreError> {
    let Some(secret) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let Some(session) = web.admin.session(&hash_secret(&secret)).await? else { return Ok(None) };
    if session.expires_at <= web.clock.now() {
        return Ok(None);
    }
    let Some(user) = web.admin.user(&session.user_id).await? else { return Ok(None) };
    Ok(Some(Actor::user(user, session)))
}

/// The value of cookie `name` in the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Equal without an early exit, so timing does not tell how much of a token matched; an empty
/// expected token (no session) never matches.
pub(crate) fn constant_time_eq(sent: &[u8], expected: &[u8]) -> bool {
    !expected.is_empty() && constant_time_eq::constant_time_eq(sent, expected)
}

/// Records a change; a failure to record is logged, never shown to the user as a failed change.
pub(crate) async fn audit(
    web: &WebState,
    actor: &str,
    action: &str,
    object: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) {
    let entry = AuditEntry {
        id: 0,
        at: web.clock.now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        object: object.to_owned(),
        before,
        after,
    };
    if let Err(e) = web.admin.append_audit(&entry).await {
        tracing::error!(error = %e, action, object, "writing the audit log failed");
    }
}

/// The secret of a `Bearer` credential; the scheme is case-insensitive (RFC 7235).
fn bearer_secret(value: &str) -> Option<&str> {
    let (scheme, secret) = value.trim().split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

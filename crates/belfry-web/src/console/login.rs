//! Logging in and out. The login form is protected against cross-site posts by a double
//! submit (a random value in a cookie scoped to the login path and in the form); failed
//! attempts are limited per client address and per name; a wrong name and a wrong password
//! get the same answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use belfry_core::access::{Session, totp_code_ok, verify_password};
use belfry_core::auth::hash_secret;
use std::sync::Arc;

use super::{Nav, field, render};
use crate::auth::{Actor, SESSION_COOKIE, audit, constant_time_eq, cookie, session_actor};
use crate::state::WebState;

const LOGIN_COOKIE: &str = "belfry_login";
/// A session lasts this long from login.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed per client address, and per name, within [`WINDOW`].
const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// A hash checked when the name is unknown, so both failures take the same time.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    belfry_core::access::hash_password("not a password of anyone").unwrap_or_default()
});

/// Recent failed logins, by client address and by name.
#[derive(Default)]
pub(crate) struct LoginLimits {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimits {
    fn blocked(&self, keys: &[String]) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        keys.iter().any(|k| {
            let list = map.entry(k.clone()).or_default();
            list.retain(|t| now.duration_since(*t) < WINDOW);
            list.len() >= MAX_FAILURES
        })
    }

    fn failed(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            map.entry(k.clone()).or_default().push(Instant::now());
        }
        if map.len() > 100_000 {
            map.clear(); // bounded memory under a flood of names; the limit restarts
        }
    }

    fn succeeded(&self, name_key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(name_key);
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    next: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// Only console paths: never an open redirect.
fn safe_next(next: &str) -> String {
    if next.starts_with("/admin") && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/admin".to_owned()
    }
}

fn random_hex(bytes: usize) -> Option<String> {
    belfry_core::auth::random_hex(bytes).ok()
}

/// `Secure` when the page is served over TLS (its public URL, or the proxy says so).
fn secure(state: &WebState, headers: &HeaderMap) -> &'static str {
    let https_url =
        state.runtime.catalog().page.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let proxied =
        headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    if https_url || proxied { "; Secure" } else { "" }
}

fn login_form(
    state: &WebState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    errors: Vec<String>,
) -> Response {
    let Some(csrf) = random_hex(16) else {
        return super::error_page(StatusCode::SERVICE_UNAVAILABLE, "No randomness available.");
    };
    let mut response = render(
        status,
        &LoginTpl {
            title: "Log in".to_owned(),
            nav: None,
            errors,
            csrf: csrf.clone(),
            next: safe_next(next),
        },
    );
    let cookie = format!(
        "{LOGIN_COOKIE}={csrf}; Path=/admin/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        secure(state, headers)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /admin/login`
pub(crate) async fn login_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = q.next.unwrap_or_default();
    if let Ok(Some(_)) = session_actor(&state, &headers).await {
        return Redirect::to(&safe_next(&next)).into_response();
    }
    login_form(&state, &headers, StatusCode::OK, &next, vec![])
}

/// `POST /admin/login`
pub(crate) async fn login(
    State(state): State<WebState>,
    Extension(limits): Extension<Arc<LoginLimits>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let next = field(&fields, "next").to_owned();
    let sent = field(&fields, crate::auth::CSRF_FIELD);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return login_form(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            vec!["The login form expired; please try again.".to_owned()],
        );
    }
    let name = field(&fields, "name").trim().to_owned();
    let password = field(&fields, "password");
    let ip_key = format!("ip:{}", connect.map_or_else(|| "unknown".to_owned(), |c| c.0.0.ip().to_string()));
    let name_key = format!("name:{}", name.to_lowercase());
    let keys = [ip_key, name_key.clone()];
    if limits.blocked(&keys) {
        return login_form(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            vec!["Too many failed attempts; wait 15 minutes and try again.".to_owned()],
        );
    }
    let user = match state.admin.user_by_name(&name).await {
        Ok(u) => u,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let password_ok = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            let _ = verify_password(password, &DUMMY_HASH);
            false
        }
    };
    let now = state.clock.now();
    let second_factor_ok = match &user {
        Some(u) if password_ok && u.totp => match state.vault.get(&u.totp_vault_name()).await {
            Ok(Some(seed)) => {
                totp_code_ok(&belfry_core::access::TotpSeed::from_bytes(seed), field(&fields, "code"), now)
            }
            _ => false,
        },
        _ => true,
    };
    let Some(user) = user.filter(|_| password_ok && second_factor_ok) else {
        limits.failed(&keys);
        audit(&state, &format!("user:{name}"), "user.login_failed", &format!("user:{name}"), None, None)
            .await;
        return login_form(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            vec!["Wrong name, password or code.".to_owned()],
        );
    };
    limits.succeeded(&name_key);
    let (Some(secret), Some(csrf)) = (random_hex(32), random_hex(16)) else {
        return super::error_page(StatusCode::SERVICE_UNAVAILABLE, "No randomness available.");
    };
    let ttl = jiff::SignedDuration::try_from(SESSION_TTL).unwrap_or_default();
    let session = Session {
        hash: hash_secret(&secret),
        user_id: user.id.clone(),
        csrf,
        created_at: now,
        expires_at: now.checked_add(ttl).unwrap_or(now),
    };
    if let Err(e) = state.admin.insert_session(&session).await {
        return crate::error::ApiError::from(e).into_response();
    }
    audit(&state, &format!("user:{}", user.name), "user.login", &format!("user:{}", user.name), None, None)
        .await;
    let mut response = Redirect::to(&safe_next(&next)).into_response();
    let set = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        secure(&state, &headers)
    );
    for value in [set, format!("{LOGIN_COOKIE}=; Path=/admin/login; Max-Age=0")] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

fn logged_out() -> Response {
    let mut response = Redirect::to("/admin/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("belfry_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

/// `POST /admin/logout`: ends this session.
pub(crate) async fn logout(State(state): State<WebState>, actor: Actor) -> Response {
    if let Some(session) = &actor.session {
        let _ = state.admin.delete_session(&session.hash).await;
    }
    logged_out()
}

/// `POST /admin/logout/everywhere`: ends every session of this user.
pub(crate) async fn logout_everywhere(State(state): State<WebState>, actor: Actor) -> Response {
    if let Some(user) = &actor.user {
        let _ = state.admin.delete_sessions_of(&user.id).await;
        audit(&state, &actor.label, "user.logout_everywhere", &actor.label, None, None).await;
    }
    logged_out()
}

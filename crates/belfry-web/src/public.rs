//! Handlers of the public, cached documents: each answers from the current site's
//! precomputed bytes, never building anything itself (P5).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::ApiError;
use crate::routes::CORS_PREFIX;
use crate::site::{Built, NOT_FOUND_PATH, Site};

// What the router's CORS layer adds to a GET under `CORS_PREFIX` (readable from any origin).
const ANY_ORIGIN: HeaderValue = HeaderValue::from_static("*");
const CORS_VARY: HeaderValue =
    HeaderValue::from_static("origin, access-control-request-method, access-control-request-headers");

/// Any document of the site, by request path.
pub(crate) async fn cached(Extension(site): Extension<Arc<Site>>, request: Request) -> Response {
    match site.current().await {
        Ok(built) => answer(&built, request.uri().path(), request.headers()),
        Err(e) => e.into_response(),
    }
}

/// Middleware in front of the router: a GET of a document the current build holds is answered
/// from its bytes at once, as [`cached`] would answer it behind the router, without the
/// per-request work of routing and of the middleware meant for API calls (body limit, timeout,
/// write tracking, error shaping). Everything else, and every request before the first build
/// is out, goes on to the router.
pub(crate) async fn serve_cached(State(site): State<Arc<Site>>, request: Request, next: Next) -> Response {
    if request.method() == Method::GET
        && let Some(built) = site.ready()
        && let Some(entry) = built.public_doc(request.uri().path())
    {
        let mut response = entry.respond(request.headers());
        if request.uri().path().starts_with(CORS_PREFIX) {
            let headers = response.headers_mut();
            headers.append(header::VARY, CORS_VARY);
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN);
        }
        return response;
    }
    next.run(request).await
}

fn answer(built: &Built, path: &str, headers: &HeaderMap) -> Response {
    match built.docs.get(path) {
        Some(entry) => entry.respond(headers),
        None => not_found(built, headers),
    }
}

/// The HTML 404 page (the JSON error would be no use to a person following a stale link).
fn not_found(built: &Built, headers: &HeaderMap) -> Response {
    let Some(entry) = built.docs.get(NOT_FOUND_PATH) else {
        return ApiError::NotFound("no such page".to_owned()).into_response();
    };
    let mut plain = HeaderMap::new();
    if let Some(accept) = headers.get(header::ACCEPT_ENCODING) {
        plain.insert(header::ACCEPT_ENCODING, accept.clone());
    }
    let mut response = entry.respond(&plain);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().remove(header::ETAG);
    response
}

/// `GET /badge/{component}.svg`: the path parameter carries the `.svg`.
pub(crate) async fn status_badge(
    Extension(site): Extension<Arc<Site>>,
    Path(component): Path<String>,
    headers: HeaderMap,
) -> Response {
    let built = match site.current().await {
        Ok(built) => built,
        Err(e) => return e.into_response(),
    };
    if !component.ends_with(".svg") {
        return not_found(&built, &headers);
    }
    answer(&built, &format!("/badge/{component}"), &headers)
}

#[derive(Deserialize)]
pub(crate) struct UptimeQuery {
    days: Option<String>,
}

/// Days an uptime badge covers when the query names none.
const DEFAULT_DAYS: i64 = 30;

/// `GET /badge/{component}/uptime.svg?days=30` (1..=90).
pub(crate) async fn uptime_badge(
    Extension(site): Extension<Arc<Site>>,
    Path(component): Path<String>,
    Query(query): Query<UptimeQuery>,
    headers: HeaderMap,
) -> Response {
    let days = match query.days.as_deref().map(str::parse::<i64>) {
        None => DEFAULT_DAYS,
        Some(Ok(d)) if (1..=90).contains(&d) => d,
        _ => {
            return ApiError::InvalidQuery("days must be a whole number from 1 to 90".to_owned())
                .into_response();
        }
    };
    let built = match site.current().await {
        Ok(built) => built,
        Err(e) => return e.into_response(),
    };
    match built.uptime_badge(&component, days) {
        Some(entry) => entry.respond(&headers),
        None => not_found(&built, &headers),
    }
}

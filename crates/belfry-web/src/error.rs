//! The one error type of the HTTP layer. Every failure a handler, extractor or middleware
//! reports becomes `{"error": {"code", "message"}}` with a 4xx status for bad input and a 503
//! when the store cannot answer. A 500 would be a bug.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use belfry_core::StoreError;
use belfry_core::auth::Scope;
use serde::Serialize;

/// The OS random source failed (tokens, secrets): the service cannot serve this now.
impl From<belfry_core::auth::NoRandomness> for ApiError {
    fn from(_: belfry_core::auth::NoRandomness) -> Self {
        Self::Status(StatusCode::SERVICE_UNAVAILABLE)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is missing, malformed or out of range.
    #[error("{0}")]
    InvalidQuery(String),
    /// A path segment (e.g. a monitor id) is malformed.
    #[error("{0}")]
    InvalidPath(String),
    /// The request body is not the JSON this route takes; carries the rejection's 4xx status.
    #[error("{message}")]
    InvalidJson { status: StatusCode, message: String },
    /// No usable bearer token; `invalid_token` when one was sent but is not known.
    #[error("a bearer token is required")]
    Unauthorized { invalid_token: bool },
    /// The token is valid but its scope does not cover this route.
    #[error("this route needs a token of scope `{}`", needed.as_str())]
    Forbidden { needed: Scope },
    /// The addressed thing (monitor, push token…) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// No route has this path.
    #[error("no such route")]
    RouteNotFound,
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    /// Well-formed input that makes no sense here (unknown component, empty name, a window
    /// ending before it starts…).
    #[error("{0}")]
    InvalidInput(String),
    /// Someone else changed the same object at the same time, twice in a row; reload and retry.
    #[error("{0}")]
    Conflict(String),
    /// A session's unsafe request came without its CSRF token (header `X-CSRF-Token` for the
    /// API, form field `_csrf` for console forms).
    #[error("missing or wrong CSRF token; reload the page and try again")]
    CsrfRejected,
    /// The heartbeat monitor behind a push token is paused.
    #[error("the heartbeat monitor is paused")]
    MonitorPaused,
    /// A reload found errors; the running configuration stays in force.
    #[error("the configuration is invalid; the running one stays in force")]
    InvalidConfig(Vec<String>),
    /// The store could not answer; retrying later may work.
    #[error("the store is unavailable, retry later")]
    Store(#[from] StoreError),
    /// A status produced by a middleware (body limit, timeout) with no more specific meaning.
    #[error("{}", .0.canonical_reason().unwrap_or("error"))]
    Status(StatusCode),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidQuery(_) | Self::InvalidPath(_) => StatusCode::BAD_REQUEST,
            Self::InvalidJson { status, .. } => *status,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::InvalidInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) | Self::MonitorPaused => StatusCode::CONFLICT,
            Self::InvalidConfig(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Status(status) => *status,
        }
    }

    /// The stable machine-readable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidQuery(_) => "invalid_query",
            Self::InvalidPath(_) => "invalid_path",
            Self::InvalidJson { .. } => "invalid_json",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::CsrfRejected => "csrf_rejected",
            Self::NotFound(_) => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidInput(_) => "invalid_input",
            Self::Conflict(_) => "conflict",
            Self::MonitorPaused => "monitor_paused",
            Self::InvalidConfig(_) => "invalid_config",
            Self::Store(_) => "store_unavailable",
            Self::Status(status) => status_code_name(*status),
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a [String]>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Store(err) = &self {
            // Logged here, once, with the cause; the client only learns it is temporary.
            tracing::warn!(error = %err, "store error while serving a request");
        }
        let details = match &self {
            Self::InvalidConfig(errors) => Some(errors.as_slice()),
            _ => None,
        };
        let body = Envelope { error: Body { code: self.code(), message: self.to_string(), details } };
        let mut response = (self.status(), Json(body)).into_response();
        let challenge = match &self {
            Self::Unauthorized { invalid_token: false } => Some("Bearer".to_owned()),
            Self::Unauthorized { invalid_token: true } => Some(r#"Bearer error="invalid_token""#.to_owned()),
            Self::Forbidden { needed } => {
                Some(format!(r#"Bearer error="insufficient_scope", scope="{}""#, needed.as_str()))
            }
            _ => None,
        };
        if let Some(value) = challenge.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// `413 Payload Too Large` → `payload_too_large`, for statuses set by middleware.
fn status_code_name(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_client_error() => "bad_request",
        _ => "internal_error",
    }
}

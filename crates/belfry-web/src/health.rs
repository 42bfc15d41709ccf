//! Belfry's own health (P2): `/healthz` (the process answers), `/readyz` (it can do its job)
//! and `/metrics` (Prometheus text).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use belfry_core::store::PoolStats;
use serde::Serialize;

use crate::state::WebState;

/// Schedule lag above this means checks run late enough that results can no longer be trusted.
const MAX_SCHEDULE_LAG: Duration = Duration::from_secs(5);
/// A store that takes longer than this to answer a ping is not ready.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 `ok` as long as the process serves requests.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    /// `ok`, or why the store did not answer.
    store: String,
    scheduler_running: bool,
    /// Recent p99 lag between when checks were due and when they started, in milliseconds.
    schedule_lag_ms: u64,
    pool: PoolStats,
}

/// `GET /readyz`: 200 when the store answers, the scheduler runs and its lag is under 5 s;
/// 503 otherwise, with the same body saying which part is not ready.
pub(crate) async fn readyz(State(state): State<WebState>) -> Response {
    let store = match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(err)) => err.to_string(),
        Err(_) => format!("no answer within {} ms", PING_TIMEOUT.as_millis()),
    };
    let runtime = state.runtime.readiness();
    let ready = store == "ok" && runtime.scheduler_running && runtime.schedule_lag <= MAX_SCHEDULE_LAG;
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        store,
        scheduler_running: runtime.scheduler_running,
        schedule_lag_ms: u64::try_from(runtime.schedule_lag.as_millis()).unwrap_or(u64::MAX),
        pool: state.store.pool_stats(),
    };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /metrics`: the Prometheus text exposition format 0.0.4.
pub(crate) async fn metrics(State(state): State<WebState>) -> Response {
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4");
    ([(header::CONTENT_TYPE, content_type)], state.runtime.render_metrics()).into_response()
}

#[cfg(test)]
mod tests;

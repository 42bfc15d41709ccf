//! Remote probes (`belfry probe`, token scope `probe`): `GET /api/v1/probe/assignments` gives a
//! region its monitors (with an `ETag`, so polling is cheap), `POST /api/v1/probe/results`
//! takes a batch of its results. `GET /api/v1/probes` (scope `read`) shows each probe's status.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use belfry_core::probe::{Assignments, DEFAULT_POLL, ProbeStatus, ResultBatch};
use belfry_core::region::check_region;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::WebState;

/// Poll intervals a probe may announce, in milliseconds.
const POLL_RANGE_MS: std::ops::RangeInclusive<u64> = 1000..=3_600_000;

/// `?region=eu&poll_interval_ms=10000`
#[derive(Debug, Deserialize)]
pub(crate) struct AssignmentQuery {
    region: Option<String>,
    poll_interval_ms: Option<u64>,
}

#[derive(Serialize)]
pub(crate) struct Accepted {
    accepted: usize,
}

#[derive(Serialize)]
pub(crate) struct ProbeList {
    probes: Vec<ProbeStatus>,
}

fn poll(ms: Option<u64>) -> Result<Duration, String> {
    match ms {
        None => Ok(DEFAULT_POLL),
        Some(ms) if POLL_RANGE_MS.contains(&ms) => Ok(Duration::from_millis(ms)),
        Some(ms) => Err(format!(
            "poll_interval_ms must be from {} to {} (got {ms})",
            POLL_RANGE_MS.start(),
            POLL_RANGE_MS.end()
        )),
    }
}

/// `GET /api/v1/probe/assignments?region=eu`: 304 when `If-None-Match` holds the current version.
pub(crate) async fn assignments(
    State(state): State<WebState>,
    ApiQuery(query): ApiQuery<AssignmentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let region = query.region.ok_or_else(|| ApiError::InvalidQuery("region is required".to_owned()))?;
    check_region(&region).map_err(|e| ApiError::InvalidQuery(format!("invalid region: {e}")))?;
    let poll = poll(query.poll_interval_ms).map_err(ApiError::InvalidQuery)?;
    let hub = state.runtime.probes();
    hub.seen(&region, poll);
    let assignments = Assignments::of(&state.runtime.catalog(), &region);
    let etag = format!("\"{}\"", assignments.version);
    let etag_value =
        HeaderValue::from_str(&etag).map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    Ok(([(header::ETAG, etag_value)], Json(assignments)).into_response())
}

/// `POST /api/v1/probe/results`: 202 with how many were taken, or 422 and none taken.
pub(crate) async fn results(
    State(state): State<WebState>,
    ApiJson(batch): ApiJson<ResultBatch>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    check_region(&batch.region).map_err(|e| ApiError::InvalidInput(format!("invalid region: {e}")))?;
    let poll = poll(batch.poll_interval_ms).map_err(ApiError::InvalidInput)?;
    let hub = state.runtime.probes();
    hub.seen(&batch.region, poll);
    let accepted =
        hub.ingest(&batch.region, batch.results).map_err(|e| ApiError::InvalidInput(e.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted })))
}

/// `GET /api/v1/probes`: every remote region some monitor names, with its probe's status.
pub(crate) async fn list(State(state): State<WebState>) -> Json<ProbeList> {
    Json(ProbeList { probes: state.runtime.probes().probes() })
}

#[cfg(test)]
mod tests;

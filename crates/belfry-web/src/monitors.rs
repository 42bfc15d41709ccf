//! `/api/v1/monitors…`: monitors with their live state, recorded results and transitions.
//! These reveal internal URLs and errors, so every route here needs a `read` token.

use axum::Json;
use axum::extract::State;
use belfry_core::check::{Phases, Values};
use belfry_core::monitor::MonitorSpec;
use belfry_core::uptime::uptime_ratio;
use belfry_core::{CheckResult, ConditionResult, LiveState, MonitorId, MonitorState, Transition};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::WebState;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Serialize)]
pub(crate) struct MonitorList {
    monitors: Vec<MonitorSummary>,
}

#[derive(Serialize)]
struct MonitorSummary {
    id: MonitorId,
    name: String,
    kind: &'static str,
    component: Option<MonitorId>,
    /// The monitor's `tags`, in config order; `[]` when it has none.
    tags: Vec<String>,
    /// `null` only while the engine has not reported the monitor yet (e.g. just reloaded).
    state: Option<MonitorState>,
    since: Option<Timestamp>,
    flapping: bool,
}

impl MonitorSummary {
    fn new(spec: &MonitorSpec, live: Option<&LiveState>) -> Self {
        Self {
            id: spec.id.clone(),
            name: spec.name.clone(),
            kind: spec.check.kind().as_str(),
            component: spec.component.clone(),
            tags: spec.tags.clone(),
            state: live.map(|l| l.state),
            since: live.map(|l| l.since),
            flapping: live.is_some_and(|l| l.flapping),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct MonitorDetail {
    #[serde(flatten)]
    summary: MonitorSummary,
    interval_s: u64,
    last_result: Option<ResultView>,
    uptime: Uptime,
    /// Monitors with `regions` only: each region's own state and newest result (principle P8).
    #[serde(skip_serializing_if = "Option::is_none")]
    regions: Option<Vec<RegionEntry>>,
    /// Monitors with `regions` only: how many regions must see it down.
    #[serde(skip_serializing_if = "Option::is_none")]
    quorum: Option<usize>,
}

/// One region of a regional monitor.
#[derive(Serialize)]
struct RegionEntry {
    region: String,
    state: MonitorState,
    /// Its results stopped arriving (its probe is gone): it has no say in `state`.
    stale: bool,
    last_result: Option<ResultView>,
}

/// Percent of each window not spent down, 4 decimals; `null` for an empty window.
#[derive(Serialize)]
struct Uptime {
    #[serde(rename = "24h")]
    day: Option<f64>,
    #[serde(rename = "7d")]
    week: Option<f64>,
    #[serde(rename = "30d")]
    month: Option<f64>,
    #[serde(rename = "90d")]
    quarter: Option<f64>,
}

/// A check result as the API shows it: every key always present (`null` when absent).
#[derive(Serialize)]
struct ResultView {
    monitor: MonitorId,
    region: String,
    at: Timestamp,
    ok: bool,
    degraded: bool,
    inconclusive: bool,
    duration_ms: u64,
    phases: Phases,
    status: Option<u16>,
    ip: Option<String>,
    error: Option<String>,
    conditions: Vec<ConditionResult>,
    values: Values,
}

impl From<CheckResult> for ResultView {
    fn from(r: CheckResult) -> Self {
        Self {
            monitor: r.monitor,
            region: r.region,
            at: r.at,
            ok: r.ok,
            degraded: r.degraded,
            inconclusive: r.inconclusive,
            duration_ms: r.duration_ms,
            phases: r.phases,
            status: r.status,
            ip: r.ip,
            error: r.error,
            conditions: r.conditions,
            values: r.values,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct ResultList {
    results: Vec<ResultView>,
}

#[derive(Serialize)]
struct TransitionView {
    monitor: MonitorId,
    from: MonitorState,
    to: MonitorState,
    at: Timestamp,
    /// `down`, `up` or `degraded` when the change is public, else `null`.
    event: Option<&'static str>,
    flapping: bool,
    /// Into (or within) `maintenance`: whether the windows holding the monitor count its failing
    /// time as downtime (`count_downtime`). A `maintenance` → `maintenance` transition is a change
    /// of this flag alone. Always `false` for other states.
    counts_downtime: bool,
    reason: Option<String>,
    /// The results that led to the change, oldest first.
    results: Vec<ResultView>,
}

impl From<Transition> for TransitionView {
    fn from(t: Transition) -> Self {
        Self {
            event: t.event(),
            monitor: t.monitor,
            from: t.from,
            to: t.to,
            at: t.at,
            flapping: t.flapping,
            counts_downtime: t.counts_downtime,
            reason: t.reason,
            results: t.results.into_iter().map(ResultView::from).collect(),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct TransitionList {
    transitions: Vec<TransitionView>,
}

/// `?since=<RFC 3339>&limit=<1..=1000>`, both optional.
#[derive(Debug, Deserialize)]
pub(crate) struct Window {
    since: Option<String>,
    limit: Option<String>,
}

impl Window {
    fn since(&self) -> Result<Option<Timestamp>, ApiError> {
        let Some(raw) = self.since.as_deref() else { return Ok(None) };
        let invalid = || {
            ApiError::InvalidQuery(format!(
                "since must be an RFC 3339 timestamp with an offset, e.g. 2024-05-01T00:00:00Z (got {raw:?})"
            ))
        };
        match raw.parse::<Timestamp>() {
            Ok(at) => Ok(Some(at)),
            // An unencoded `+02:00` offset arrives as ` 02:00`.
            Err(_) => match raw.rsplit_once(' ') {
                Some((head, tail)) => format!("{head}+{tail}").parse().map(Some).map_err(|_| invalid()),
                None => Err(invalid()),
            },
        }
    }

    fn limit(&self) -> Result<u32, ApiError> {
        let Some(raw) = self.limit.as_deref() else { return Ok(DEFAULT_LIMIT) };
        match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::InvalidQuery(format!(
                "limit must be an integer from 1 to {MAX_LIMIT} (got {raw:?})"
            ))),
        }
    }
}

/// The configured monitor named by the path, or 400 for a malformed id, 404 for an unknown one.
fn monitor(state: &WebState, raw: &str) -> Result<MonitorSpec, ApiError> {
    let id = MonitorId::parse(raw).map_err(|e| ApiError::InvalidPath(format!("invalid monitor id: {e}")))?;
    state
        .runtime
        .catalog()
        .monitor(id.as_str())
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("no monitor with id {id:?}")))
}

/// `GET /api/v1/monitors`
pub(crate) async fn list(State(state): State<WebState>) -> Json<MonitorList> {
    let catalog = state.runtime.catalog();
    let states = state.runtime.states();
    let live = LiveState::by_monitor(&states);
    let monitors =
        catalog.monitors.iter().map(|m| MonitorSummary::new(m, live.get(&m.id).copied())).collect();
    Json(MonitorList { monitors })
}

/// `GET /api/v1/monitors/{id}`
pub(crate) async fn detail(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MonitorDetail>, ApiError> {
    let spec = monitor(&state, &id)?;
    let live = state.runtime.states().into_iter().find(|s| s.monitor == spec.id);
    let now = state.clock.now();
    let last = state.store.results(&spec.id, None, 1).await?.into_iter().next();
    let quarter_start = ago(now, 90);
    // One read covers every window: periods overlapping the longest also cover the shorter ones.
    let periods = state.store.down_periods(&spec.id, quarter_start).await?;
    let percent = |from: Timestamp| uptime_ratio(&periods, from, now).map(|r| (r * 1e6).round() / 1e4);
    let uptime = Uptime {
        day: percent(ago(now, 1)),
        week: percent(ago(now, 7)),
        month: percent(ago(now, 30)),
        quarter: percent(quarter_start),
    };
    let regions = spec.regions.as_ref().map(|_| {
        let views = state.runtime.probes().regions(&spec.id);
        views
            .into_iter()
            .map(|v| RegionEntry {
                region: v.region,
                state: v.state,
                stale: v.stale,
                last_result: v.last_result.map(ResultView::from),
            })
            .collect()
    });
    Ok(Json(MonitorDetail {
        summary: MonitorSummary::new(&spec, live.as_ref()),
        interval_s: spec.interval.as_secs(),
        last_result: last.map(ResultView::from),
        uptime,
        regions,
        quorum: spec.regions.as_ref().map(|r| r.quorum),
    }))
}

/// `GET /api/v1/monitors/{id}/results?since=&limit=`, newest first.
pub(crate) async fn results(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Json<ResultList>, ApiError> {
    let (since, limit) = (window.since()?, window.limit()?);
    let spec = monitor(&state, &id)?;
    let results = state.store.results(&spec.id, since, limit).await?;
    Ok(Json(ResultList { results: results.into_iter().map(ResultView::from).collect() }))
}

/// `GET /api/v1/monitors/{id}/transitions?since=&limit=`, newest first.
pub(crate) async fn transitions(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Json<TransitionList>, ApiError> {
    let (since, limit) = (window.since()?, window.limit()?);
    let spec = monitor(&state, &id)?;
    let transitions = state.store.transitions(Some(&spec.id), since, limit).await?;
    Ok(Json(TransitionList { transitions: transitions.into_iter().map(TransitionView::from).collect() }))
}

/// `days` whole days before `now`.
fn ago(now: Timestamp, days: i64) -> Timestamp {
    now.checked_sub(SignedDuration::from_hours(24 * days)).unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests;

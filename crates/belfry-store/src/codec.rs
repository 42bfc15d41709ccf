//! Conversions between domain values and the column values every backend stores: times as
//! epoch milliseconds, ids and enums as text, structured leftovers as JSON.

use belfry_core::auth::{ApiToken, Scope};
use belfry_core::check::{CheckResult, ConditionResult, Phases, Values};
use belfry_core::clock::{epoch_ms, from_epoch_ms};
use belfry_core::monitor::MonitorId;
use belfry_core::policy::{MonitorState, PolicyState, Transition};
use belfry_core::store::{Resolution, Rollup, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

pub(crate) fn monitor_id(raw: &str) -> Result<MonitorId, StoreError> {
    MonitorId::parse(raw).map_err(|e| corrupt("monitor id", e))
}

pub(crate) fn state(raw: &str) -> Result<MonitorState, StoreError> {
    MonitorState::parse(raw).ok_or_else(|| corrupt("monitor state", raw))
}

pub(crate) fn resolution_str(res: Resolution) -> &'static str {
    match res {
        Resolution::Minute => "minute",
        Resolution::Hour => "hour",
        Resolution::Day => "day",
    }
}

/// A `u64` count or duration as a signed BIGINT; values beyond `i64::MAX` are refused rather
/// than wrapped.
pub(crate) fn to_i64(what: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Other(format!("{what} {value} does not fit a BIGINT")))
}

fn to_u64(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(what, value))
}

fn to_u32(what: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

/// What of a `CheckResult` has no column of its own.
#[derive(Serialize, Deserialize)]
struct ResultExtra {
    #[serde(default)]
    phases: Phases,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    conditions: Vec<ConditionResult>,
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    values: Values,
    /// Nanoseconds of `at` below the millisecond kept in the `at` column, so a result reads
    /// back exactly as written.
    #[serde(default, skip_serializing_if = "is_zero")]
    sub_ms_ns: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// The columns of one row of `results` (and `latest_results`), in schema order.
#[derive(Debug)]
pub(crate) struct ResultRow {
    pub monitor: String,
    pub region: String,
    pub at: i64,
    pub ok: bool,
    pub degraded: bool,
    pub inconclusive: bool,
    pub duration_ms: i64,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub extra: String,
}

/// A `results` or `latest_results` row as fetched, in `sql::RESULT_COLUMNS` order.
pub(crate) type ResultColumns =
    (String, String, i64, bool, bool, bool, i64, Option<i32>, Option<String>, String);

impl From<ResultColumns> for ResultRow {
    fn from(
        (monitor, region, at, ok, degraded, inconclusive, duration_ms, status, error, extra): ResultColumns,
    ) -> Self {
        Self { monitor, region, at, ok, degraded, inconclusive, duration_ms, status, error, extra }
    }
}

/// Decodes fetched result rows.
pub(crate) fn decode_results(rows: Vec<ResultColumns>) -> Result<Vec<CheckResult>, StoreError> {
    rows.into_iter().map(|r| ResultRow::from(r).decode()).collect()
}

impl ResultRow {
    pub fn encode(r: &CheckResult) -> Result<Self, StoreError> {
        let at = epoch_ms(r.at);
        let sub_ms_ns = (r.at.as_nanosecond() - i128::from(at) * 1_000_000) as i64;
        let extra = ResultExtra {
            phases: r.phases.clone(),
            ip: r.ip.clone(),
            conditions: r.conditions.clone(),
            values: r.values.clone(),
            sub_ms_ns,
        };
        Ok(Self {
            monitor: r.monitor.as_str().to_owned(),
            region: r.region.clone(),
            at,
            ok: r.ok,
            degraded: r.degraded,
            inconclusive: r.inconclusive,
            duration_ms: to_i64("duration_ms", r.duration_ms)?,
            status: r.status.map(i32::from),
            error: r.error.clone(),
            extra: serde_json::to_string(&extra).map_err(|e| StoreError::Other(e.to_string()))?,
        })
    }

    pub fn decode(self) -> Result<CheckResult, StoreError> {
        let extra: ResultExtra =
            serde_json::from_str(&self.extra).map_err(|e| corrupt("result extra json", e))?;
        let at = if extra.sub_ms_ns == 0 {
            from_epoch_ms(self.at)
        } else {
            let ns = i128::from(self.at) * 1_000_000 + i128::from(extra.sub_ms_ns);
            Timestamp::from_nanosecond(ns).map_err(|e| corrupt("result time", e))?
        };
        Ok(CheckResult {
            monitor: monitor_id(&self.monitor)?,
            region: self.region,
            at,
            ok: self.ok,
            degraded: self.degraded,
            inconclusive: self.inconclusive,
            duration_ms: to_u64("duration_ms", self.duration_ms)?,
            phases: extra.phases,
            status: self.status.map(|s| u16::try_from(s).map_err(|_| corrupt("status", s))).transpose()?,
            ip: extra.ip,
            error: self.error,
            conditions: extra.conditions,
            values: extra.values,
        })
    }
}

/// The columns of one row of `transitions` (without its id).
#[derive(Debug)]
pub(crate) struct TransitionRow {
    pub monitor: String,
    pub from_state: String,
    pub to_state: String,
    pub at: i64,
    pub flapping: bool,
    pub reason: Option<String>,
    pub results: String,
    pub counts_downtime: bool,
}

/// A `transitions` row as fetched, in `sql::TRANSITION_COLUMNS` order.
pub(crate) type TransitionColumns = (String, String, String, i64, bool, Option<String>, String, bool);

/// Decodes fetched transition rows.
pub(crate) fn decode_transitions(rows: Vec<TransitionColumns>) -> Result<Vec<Transition>, StoreError> {
    rows.into_iter()
        .map(|(monitor, from_state, to_state, at, flapping, reason, results, counts_downtime)| {
            TransitionRow { monitor, from_state, to_state, at, flapping, reason, results, counts_downtime }
                .decode()
        })
        .collect()
}

impl TransitionRow {
    pub fn encode(t: &Transition) -> Result<Self, StoreError> {
        Ok(Self {
            monitor: t.monitor.as_str().to_owned(),
            from_state: t.from.as_str().to_owned(),
            to_state: t.to.as_str().to_owned(),
            at: epoch_ms(t.at),
            flapping: t.flapping,
            reason: t.reason.clone(),
            results: serde_json::to_string(&t.results).map_err(|e| StoreError::Other(e.to_string()))?,
            counts_downtime: t.counts_downtime,
        })
    }

    pub fn decode(self) -> Result<Transition, StoreError> {
        Ok(Transition {
            monitor: monitor_id(&self.monitor)?,
            from: state(&self.from_state)?,
            to: state(&self.to_state)?,
            at: from_epoch_ms(self.at),
            flapping: self.flapping,
            counts_downtime: self.counts_downtime,
            reason: self.reason,
            results: serde_json::from_str(&self.results)
                .map_err(|e| corrupt("transition evidence json", e))?,
        })
    }
}

pub(crate) fn encode_policy_state(s: &PolicyState) -> Result<String, StoreError> {
    serde_json::to_string(s).map_err(|e| StoreError::Other(e.to_string()))
}

pub(crate) fn decode_policy_state(monitor: &str, json: &str) -> Result<(MonitorId, PolicyState), StoreError> {
    let state = serde_json::from_str(json).map_err(|e| corrupt("policy state json", e))?;
    Ok((monitor_id(monitor)?, state))
}

/// One row of `rollups`: sums rather than averages, so coarser buckets stay exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RollupRow {
    pub monitor: String,
    /// Bucket start, epoch ms.
    pub start: i64,
    pub checks: i64,
    pub failures: i64,
    pub downtime_s: i64,
    pub latency_min_ms: i64,
    pub latency_max_ms: i64,
    pub latency_sum_ms: i64,
    pub latency_p95_ms: i64,
}

/// An aggregate as `sql::AGGREGATE_RESULTS` and `sql::AGGREGATE_ROLLUPS` return it: monitor,
/// bucket start, checks, failures, latency min, max, sum, p95.
pub(crate) type AggregateColumns = (String, i64, i64, i64, i64, i64, i64, i64);

/// A stored rollup as `sql::ROLLUPS_OF_MONITOR` returns it: start, checks, failures,
/// downtime, latency min, max, sum, p95.
pub(crate) type StoredRollupColumns = (i64, i64, i64, i64, i64, i64, i64, i64);

impl From<AggregateColumns> for RollupRow {
    /// Downtime is not an aggregate of rows; it is filled in from transitions afterwards.
    fn from((monitor, start, checks, failures, min, max, sum, p95): AggregateColumns) -> Self {
        Self {
            monitor,
            start,
            checks,
            failures,
            downtime_s: 0,
            latency_min_ms: min,
            latency_max_ms: max,
            latency_sum_ms: sum,
            latency_p95_ms: p95,
        }
    }
}

/// Decodes a monitor's fetched rollups.
pub(crate) fn decode_rollups(
    monitor: &MonitorId,
    resolution: Resolution,
    rows: Vec<StoredRollupColumns>,
) -> Result<Vec<Rollup>, StoreError> {
    rows.into_iter()
        .map(|(start, checks, failures, downtime_s, min, max, sum, p95)| {
            RollupRow {
                monitor: monitor.as_str().to_owned(),
                start,
                checks,
                failures,
                downtime_s,
                latency_min_ms: min,
                latency_max_ms: max,
                latency_sum_ms: sum,
                latency_p95_ms: p95,
            }
            .decode(resolution)
        })
        .collect()
}

impl RollupRow {
    pub fn decode(self, resolution: Resolution) -> Result<Rollup, StoreError> {
        let checks = to_u32("rollup checks", self.checks)?;
        let avg = if checks == 0 { 0.0 } else { self.latency_sum_ms as f64 / f64::from(checks) };
        Ok(Rollup {
            monitor: monitor_id(&self.monitor)?,
            resolution,
            start: from_epoch_ms(self.start),
            checks,
            failures: to_u32("rollup failures", self.failures)?,
            downtime_s: to_u32("rollup downtime_s", self.downtime_s)?,
            latency_min_ms: to_u64("rollup latency_min_ms", self.latency_min_ms)?,
            latency_avg_ms: avg,
            latency_max_ms: to_u64("rollup latency_max_ms", self.latency_max_ms)?,
            latency_p95_ms: to_u64("rollup latency_p95_ms", self.latency_p95_ms)?,
        })
    }
}

pub(crate) fn encode_token(t: &ApiToken) -> (String, &'static str, String, i64) {
    (t.id.clone(), t.scope.as_str(), t.hash.clone(), epoch_ms(t.created_at))
}

pub(crate) fn decode_token(
    id: String,
    scope: &str,
    hash: String,
    created_at: i64,
) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id,
        scope: Scope::parse(scope).ok_or_else(|| corrupt("token scope", scope))?,
        hash,
        created_at: from_epoch_ms(created_at),
    })
}

//! Builders for the conformance story: fixed times and hand-made results.

use belfry_core::check::{CheckResult, ConditionResult, Phases};
use belfry_core::monitor::MonitorId;
use belfry_core::policy::{MonitorState, Transition};
use jiff::{SignedDuration, Timestamp};

/// 2024-01-01T00:00:00Z, the start of a UTC day: every story time is an offset from it.
pub fn base() -> Timestamp {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

/// `base() + secs`.
pub fn t(secs: i64) -> Timestamp {
    base() + SignedDuration::from_secs(secs)
}

/// `base() + ms` milliseconds.
pub fn t_ms(ms: i64) -> Timestamp {
    base() + SignedDuration::from_millis(ms)
}

pub fn id(raw: &str) -> MonitorId {
    MonitorId::parse(raw).unwrap()
}

/// A plain result; failing ones carry an error.
pub fn result(monitor: &str, at: Timestamp, ok: bool, duration_ms: u64) -> CheckResult {
    CheckResult {
        monitor: id(monitor),
        region: "local".into(),
        at,
        ok,
        degraded: false,
        inconclusive: false,
        duration_ms,
        phases: Phases::default(),
        status: Some(if ok { 200 } else { 503 }),
        ip: None,
        error: (!ok).then(|| "HTTP 503".to_owned()),
        conditions: vec![],
        values: Default::default(),
    }
}

/// A result using every field, with a time that is not a whole millisecond.
pub fn rich_result(monitor: &str, region: &str, at: Timestamp) -> CheckResult {
    CheckResult {
        monitor: id(monitor),
        region: region.into(),
        at: at + SignedDuration::from_nanos(123_456),
        ok: true,
        degraded: true,
        inconclusive: false,
        duration_ms: 87,
        phases: Phases {
            dns_ms: Some(1.25),
            connect_ms: Some(0.1 + 0.2),
            tls_ms: None,
            first_byte_ms: Some(42.000_000_1),
            total_ms: Some(87.3),
        },
        status: Some(200),
        ip: Some("192.0.2.7".into()),
        error: None,
        conditions: vec![
            ConditionResult {
                condition: "[STATUS] == 200".into(),
                ok: true,
                resolved: "[STATUS] (200) == 200".into(),
            },
            ConditionResult {
                condition: "[RESPONSE_TIME] < 50".into(),
                ok: false,
                resolved: "[RESPONSE_TIME] (87) < 50".into(),
            },
        ],
        values: [("certificate".to_owned(), serde_json::json!({"issuer": "CN=Test CA", "days_left": 12}))]
            .into_iter()
            .collect(),
    }
}

pub fn transition(monitor: &str, from: MonitorState, to: MonitorState, at: Timestamp) -> Transition {
    Transition {
        monitor: id(monitor),
        from,
        to,
        at,
        flapping: false,
        counts_downtime: false,
        reason: None,
        results: vec![],
    }
}

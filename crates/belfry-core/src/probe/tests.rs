use std::sync::Arc;

use super::*;
use crate::check::{HttpCheck, TcpCheck};
use crate::component::OutageImpact;
use crate::policy::Policy;
use crate::region::RegionSet;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s).unwrap()
}

fn spec(id: &str, regions: Option<&[&str]>, paused: bool) -> Arc<MonitorSpec> {
    Arc::new(MonitorSpec {
        id: MonitorId::parse(id).unwrap(),
        name: format!("{id} monitor"),
        component: None,
        check: CheckSpec::Tcp(TcpCheck { host: "127.0.0.1".into(), port: 1, send: None, expect: None }),
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        conditions: vec![Condition::parse("[CONNECTED] == true").unwrap()],
        degraded_when: vec![],
        policy: Policy::default(),
        impact: OutageImpact::MajorOutage,
        paused,
        incident: None,
        depends_on: vec![],
        tags: vec![],
        regions: regions.map(|r| RegionSet { names: r.iter().map(|s| s.to_string()).collect(), quorum: 1 }),
    })
}

fn catalog() -> Catalog {
    Catalog {
        monitors: vec![
            spec("eu-us", Some(&["eu", "us"]), false),
            spec("us-only", Some(&["us"]), false),
            spec("paused", Some(&["eu"]), true),
            spec("plain", None, false),
        ],
        ..Catalog::default()
    }
}

fn result(monitor: &str, region: &str) -> CheckResult {
    CheckResult {
        monitor: MonitorId::parse(monitor).unwrap(),
        region: region.into(),
        at: at(0),
        ok: true,
        degraded: false,
        inconclusive: false,
        duration_ms: 1,
        phases: Default::default(),
        status: None,
        ip: None,
        error: None,
        conditions: vec![],
        values: Default::default(),
    }
}

#[test]
fn a_region_is_assigned_its_unpaused_monitors_and_the_version_follows_them() {
    let catalog = catalog();
    let eu = Assignments::of(&catalog, "eu");
    let ids: Vec<&str> = eu.monitors.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["eu-us"]);
    let us = Assignments::of(&catalog, "us");
    assert_eq!(us.monitors.len(), 2);
    assert_ne!(eu.version, us.version);
    assert_eq!(Assignments::of(&catalog, "eu").version, eu.version, "stable");
    assert!(Assignments::of(&catalog, "ap").monitors.is_empty());
}

#[test]
fn an_assignment_travels_as_json_and_comes_back_runnable() {
    let mut m = ProbeMonitor::of(&spec("eu-us", Some(&["eu"]), false));
    m.check = CheckSpec::Http(HttpCheck {
        url: "http://example.test/health".into(),
        method: "GET".into(),
        headers: vec![("X-Key".into(), "v".into())],
        body: None,
        follow_redirects: true,
        max_redirects: 5,
        verify_tls: true,
        max_body_bytes: 1024,
    });
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["check"]["kind"], "http");
    assert_eq!(json["conditions"][0], "[CONNECTED] == true");
    assert_eq!(json["interval_ms"], 30_000);
    let back: ProbeMonitor = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
    let mut bad = json;
    bad["conditions"][0] = "[STATUS] ==".into();
    assert!(serde_json::from_value::<ProbeMonitor>(bad).is_err(), "a condition is parsed again");
}

#[test]
fn a_batch_must_hold_only_its_regions_assigned_monitors() {
    let catalog = catalog();
    assert_eq!(validate_batch(&catalog, "eu", &[result("eu-us", "eu")]), Ok(()));
    assert_eq!(validate_batch(&catalog, "eu", &[]), Ok(()));
    assert_eq!(validate_batch(&catalog, "local", &[]), Err(IngestError::LocalRegion));
    assert!(matches!(
        validate_batch(&catalog, "eu", &[result("eu-us", "us")]),
        Err(IngestError::WrongRegion { .. })
    ));
    for monitor in ["us-only", "plain", "nope"] {
        assert!(
            matches!(
                validate_batch(&catalog, "eu", &[result(monitor, "eu")]),
                Err(IngestError::NotAssigned { .. })
            ),
            "{monitor}"
        );
    }
}

#[test]
fn a_probe_is_missing_after_three_silent_polls() {
    let poll = Duration::from_secs(10);
    assert!(!is_missing(Some(at(0)), at(-100), poll, at(30)));
    assert!(is_missing(Some(at(0)), at(-100), poll, at(31)));
    assert!(!is_missing(None, at(0), poll, at(30)), "a probe never seen gets the same grace");
    assert!(is_missing(None, at(0), poll, at(31)));
}

use belfry_core::auth::Scope;
use belfry_core::check::Phases;
use belfry_core::store::DownPeriod;
use belfry_core::{CheckResult, ConditionResult, MonitorState, Transition};
use serde_json::{Value, json};

use crate::fakes::*;

fn result(monitor: &str, minutes: i64, ok: bool) -> CheckResult {
    CheckResult {
        monitor: id(monitor),
        region: "local".to_owned(),
        at: minutes_ago(minutes),
        ok,
        degraded: false,
        inconclusive: false,
        duration_ms: 87,
        phases: Phases { connect_ms: Some(1.5), total_ms: Some(87.0), ..Phases::default() },
        status: Some(if ok { 200 } else { 503 }),
        ip: Some("10.0.0.1".to_owned()),
        error: None,
        conditions: vec![ConditionResult {
            condition: "[STATUS] == 200".to_owned(),
            ok,
            resolved: format!("[STATUS] ({}) == 200", if ok { 200 } else { 503 }),
        }],
        values: Default::default(),
    }
}

fn seed_results(world: &World) {
    let mut results = world.store.results.lock().unwrap();
    for minutes in (1..=10).rev() {
        results.push(result("api-http", minutes, minutes != 1));
    }
    results.push(result("web-http", 3, true));
}

#[tokio::test]
async fn list_shows_every_monitor_with_its_live_state() {
    let world = World::new();
    world.runtime.set_state("db-tcp", MonitorState::Suspected, minutes_ago(2));
    let reply = world.get_as("/api/v1/monitors", Scope::Read).await;
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    let monitors = doc["monitors"].as_array().unwrap();
    assert_eq!(monitors.len(), 4);
    assert_eq!(
        monitors[1],
        json!({"id": "db-tcp", "name": "db-tcp monitor", "kind": "tcp", "component": "db",
               "tags": ["db", "team:payments"], "state": "suspected", "since": "2024-06-01T11:58:00Z",
               "flapping": false})
    );
    assert_eq!(monitors[0]["tags"], json!([]), "an untagged monitor has an empty list");
    assert_eq!(monitors[3]["kind"], "heartbeat");
    assert_eq!(monitors[3]["component"], Value::Null);
}

#[tokio::test]
async fn detail_has_the_last_result_with_failed_conditions_and_uptime() {
    let world = World::new();
    seed_results(&world);
    world.runtime.set_state("api-http", MonitorState::Down, minutes_ago(30));
    // Down from 60 to 30 minutes ago: 1800 s of downtime in every window.
    world
        .store
        .down
        .lock()
        .unwrap()
        .insert(id("api-http"), vec![DownPeriod { start: minutes_ago(60), end: Some(minutes_ago(30)) }]);
    let reply = world.get_as("/api/v1/monitors/api-http", Scope::Read).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let doc = reply.json();
    assert_eq!(
        Reply::keys(&doc),
        [
            "component",
            "flapping",
            "id",
            "interval_s",
            "kind",
            "last_result",
            "name",
            "since",
            "state",
            "tags",
            "uptime"
        ]
    );
    assert_eq!(doc["state"], "down");
    assert_eq!(doc["tags"], json!([]));
    assert_eq!(doc["interval_s"], 30);
    let last = &doc["last_result"];
    assert_eq!(last["at"], "2024-06-01T11:59:00Z");
    assert_eq!(last["ok"], false);
    assert_eq!(last["status"], 503);
    assert_eq!(last["error"], Value::Null);
    assert_eq!(last["duration_ms"], 87);
    assert_eq!(last["region"], "local");
    assert_eq!(last["degraded"], false);
    assert_eq!(last["phases"], json!({"connect_ms": 1.5, "total_ms": 87.0}));
    assert_eq!(
        last["conditions"],
        json!([{"condition": "[STATUS] == 200", "ok": false, "resolved": "[STATUS] (503) == 200"}])
    );
    assert_eq!(doc["uptime"], json!({"24h": 97.9167, "7d": 99.7024, "30d": 99.9306, "90d": 99.9769}));
}

#[tokio::test]
async fn detail_without_results_or_downtime() {
    let world = World::new();
    let doc = world.get_as("/api/v1/monitors/backup", Scope::Read).await.json();
    assert_eq!(doc["last_result"], Value::Null);
    assert_eq!(doc["uptime"], json!({"24h": 100.0, "7d": 100.0, "30d": 100.0, "90d": 100.0}));
}

#[tokio::test]
async fn detail_shows_the_monitors_tags() {
    let world = World::new();
    let doc = world.get_as("/api/v1/monitors/db-tcp", Scope::Read).await.json();
    assert_eq!(doc["tags"], json!(["db", "team:payments"]));
}

#[tokio::test]
async fn unknown_and_malformed_monitor_ids() {
    let world = World::new();
    let reply = world.get_as("/api/v1/monitors/nope", Scope::Read).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), "not_found");
    let reply = world.get_as("/api/v1/monitors/Bad%20Id!/results", Scope::Read).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "invalid_path");
    let reply = world.get_as("/api/v1/monitors/nope/transitions", Scope::Read).await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn results_are_newest_first_within_since_and_limit() {
    let world = World::new();
    seed_results(&world);
    let doc = world.get_as("/api/v1/monitors/api-http/results", Scope::Read).await.json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    assert_eq!(results[0]["at"], "2024-06-01T11:59:00Z");
    assert_eq!(results[9]["at"], "2024-06-01T11:50:00Z");

    let doc = world.get_as("/api/v1/monitors/api-http/results?limit=3", Scope::Read).await.json();
    assert_eq!(doc["results"].as_array().unwrap().len(), 3);

    // 07:55 in New York is 11:55 UTC; the offset's `+`/`-` survives, even unencoded.
    for since in ["2024-06-01T07:55:00-04:00", "2024-06-01T13:55:00+02:00", "2024-06-01T11:55:00Z"] {
        let path = format!("/api/v1/monitors/api-http/results?since={since}&limit=1000");
        let reply = world.get_as(&path, Scope::Read).await;
        assert_eq!(reply.status, 200, "{since}: {}", reply.text());
        assert_eq!(reply.json()["results"].as_array().unwrap().len(), 5, "{since}");
    }
}

#[tokio::test]
async fn bad_since_and_limit_are_400_json() {
    let world = World::new();
    for query in
        ["limit=0", "limit=5000", "limit=-1", "limit=ten", "since=garbage", "since=2024-13-01T00:00:00Z"]
    {
        for route in ["results", "transitions"] {
            let reply =
                world.get_as(&format!("/api/v1/monitors/api-http/{route}?{query}"), Scope::Read).await;
            assert_eq!(reply.status, 400, "{route}?{query}");
            assert_eq!(reply.error_code(), "invalid_query", "{route}?{query}");
        }
    }
    // Repeating a parameter is a query the extractor rejects; it still gets the JSON shape.
    let reply = world.get_as("/api/v1/monitors/api-http/results?limit=1&limit=2", Scope::Read).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "invalid_query");
}

#[tokio::test]
async fn transitions_are_listed_with_their_evidence() {
    let world = World::new();
    world.store.transitions.lock().unwrap().extend([
        Transition {
            monitor: id("api-http"),
            from: MonitorState::Up,
            to: MonitorState::Suspected,
            at: minutes_ago(20),
            flapping: false,
            counts_downtime: false,
            reason: Some("[STATUS] (503) == 200".to_owned()),
            results: vec![result("api-http", 20, false)],
        },
        Transition {
            monitor: id("api-http"),
            from: MonitorState::Suspected,
            to: MonitorState::Down,
            at: minutes_ago(10),
            flapping: false,
            counts_downtime: false,
            reason: Some("[STATUS] (503) == 200".to_owned()),
            results: vec![result("api-http", 20, false), result("api-http", 10, false)],
        },
    ]);
    let doc = world.get_as("/api/v1/monitors/api-http/transitions", Scope::Read).await.json();
    let transitions = doc["transitions"].as_array().unwrap();
    assert_eq!(transitions.len(), 2);
    assert_eq!(transitions[0]["to"], "down");
    assert_eq!(transitions[0]["event"], "down");
    assert_eq!(transitions[0]["results"].as_array().unwrap().len(), 2);
    assert_eq!(transitions[1]["to"], "suspected");
    assert_eq!(transitions[1]["event"], Value::Null);

    let doc = world.get_as("/api/v1/monitors/api-http/transitions?limit=1", Scope::Read).await.json();
    assert_eq!(doc["transitions"].as_array().unwrap().len(), 1);
}

/// A `maintenance` → `maintenance` transition is a change of what the holding windows count:
/// the list says which way.
#[tokio::test]
async fn transitions_say_whether_maintenance_counts_downtime() {
    let world = World::new();
    let hold = |from, counts_downtime, minutes| Transition {
        monitor: id("api-http"),
        from,
        to: MonitorState::Maintenance,
        at: minutes_ago(minutes),
        flapping: false,
        counts_downtime,
        reason: None,
        results: vec![],
    };
    world
        .store
        .transitions
        .lock()
        .unwrap()
        .extend([hold(MonitorState::Up, false, 30), hold(MonitorState::Maintenance, true, 20)]);
    let doc = world.get_as("/api/v1/monitors/api-http/transitions", Scope::Read).await.json();
    let transitions = doc["transitions"].as_array().unwrap();
    let seen: Vec<_> = transitions.iter().map(|t| (&t["from"], &t["to"], &t["counts_downtime"])).collect();
    assert_eq!(
        seen,
        [
            (&json!("maintenance"), &json!("maintenance"), &json!(true)),
            (&json!("up"), &json!("maintenance"), &json!(false)),
        ]
    );
    assert_eq!(transitions[0]["event"], Value::Null);
}

#[tokio::test]
async fn store_errors_are_503_not_500() {
    let world = World::new();
    *world.store.failing_data.lock().unwrap() = Some("pool timed out".to_owned());
    for route in ["", "/results", "/transitions"] {
        let reply = world.get_as(&format!("/api/v1/monitors/api-http{route}"), Scope::Read).await;
        assert_eq!(reply.status, 503, "{route}");
        assert_eq!(reply.error_code(), "store_unavailable");
        assert!(!reply.text().contains("pool timed out"), "internals leak: {}", reply.text());
    }
    // Token lookups fail the same way.
    world.store.fail("connection refused");
    let reply = world.get_as("/api/v1/monitors", Scope::Read).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.error_code(), "store_unavailable");
}

use std::sync::Arc;

use axum::http::{Method, Request, header};
use belfry_core::auth::Scope;
use belfry_core::probe::RegionView;
use belfry_core::region::RegionSet;
use belfry_core::{MonitorSpec, MonitorState};
use serde_json::json;

use crate::fakes::*;

/// The fixture world with `api-http` checked from `eu` and `us` (quorum 2).
fn regional_world() -> World {
    let world = World::new();
    let mut catalog = catalog();
    let api = catalog.monitors[0].as_ref().clone();
    let regions = RegionSet { names: vec!["eu".into(), "us".into()], quorum: 2 };
    catalog.monitors[0] = Arc::new(MonitorSpec { regions: Some(regions), ..api });
    *world.runtime.catalog.lock().unwrap() = Arc::new(catalog);
    world
}

fn result(monitor: &str, region: &str) -> serde_json::Value {
    json!({"monitor": monitor, "region": region, "at": now(), "ok": false, "duration_ms": 3, "error": "connection refused"})
}

#[tokio::test]
async fn a_region_gets_its_monitors_with_an_etag_and_a_304_when_unchanged() {
    let world = regional_world();
    let reply = world.get_as("/api/v1/probe/assignments?region=eu&poll_interval_ms=5000", Scope::Probe).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["region"], "eu");
    let ids: Vec<&str> =
        body["monitors"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["api-http"]);
    assert_eq!(body["monitors"][0]["check"]["url"], "http://10.0.0.1/health");
    let etag = reply.header(header::ETAG).unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", body["version"].as_str().unwrap()));
    let seen = world.runtime.probes.seen.lock().unwrap().clone();
    assert_eq!(seen, [("eu".to_owned(), std::time::Duration::from_secs(5))]);

    let again = Request::get("/api/v1/probe/assignments?region=eu")
        .header(header::AUTHORIZATION, format!("Bearer {}", secret(Scope::Probe)))
        .header(header::IF_NONE_MATCH, &etag)
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = world.send(again).await;
    assert_eq!(reply.status, 304);
    assert!(reply.body.is_empty());

    let other = world.get_as("/api/v1/probe/assignments?region=ap", Scope::Probe).await;
    assert_eq!(other.json()["monitors"], json!([]));
    assert_ne!(other.header(header::ETAG), Some(etag.as_str()));
}

#[tokio::test]
async fn a_bad_region_or_poll_interval_is_400() {
    let world = regional_world();
    for query in ["", "?region=EU", "?region=eu&poll_interval_ms=5", "?region=eu&poll_interval_ms=x"] {
        let reply = world.get_as(&format!("/api/v1/probe/assignments{query}"), Scope::Probe).await;
        assert_eq!((reply.status.as_u16(), reply.error_code()), (400, "invalid_query".to_owned()), "{query}");
    }
    let reply = world.get_as("/api/v1/probe/assignments?region=eu", Scope::Read).await;
    assert_eq!(reply.status, 403, "a read token is not a probe");
}

#[tokio::test]
async fn results_of_the_batch_region_are_taken_and_others_are_422() {
    let world = regional_world();
    let post = |body: serde_json::Value| {
        let world = &world;
        async move { world.send_json(Method::POST, "/api/v1/probe/results", Scope::Probe, &body).await }
    };
    let reply =
        post(json!({"region": "eu", "poll_interval_ms": 2000, "results": [result("api-http", "eu")]})).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(reply.json(), json!({"accepted": 1}));
    assert_eq!(world.runtime.probes.ingested.lock().unwrap().len(), 1);

    let refused = [
        json!({"region": "eu", "results": [result("api-http", "us")]}),
        json!({"region": "eu", "results": [result("web-http", "eu")]}),
        json!({"region": "ap", "results": [result("api-http", "ap")]}),
        json!({"region": "local", "results": []}),
        json!({"region": "Eu", "results": []}),
        json!({"region": "eu", "poll_interval_ms": 1, "results": []}),
    ];
    for body in refused {
        let reply = post(body.clone()).await;
        assert_eq!((reply.status.as_u16(), reply.error_code()), (422, "invalid_input".to_owned()), "{body}");
    }
    assert_eq!(world.runtime.probes.ingested.lock().unwrap().len(), 1, "nothing of a refused batch is taken");
    let malformed = post(json!({"region": "eu", "results": [{"monitor": "api-http"}]})).await;
    assert_eq!(malformed.error_code(), "invalid_json");
}

#[tokio::test]
async fn the_monitor_api_shows_each_region_of_a_regional_monitor() {
    let world = regional_world();
    let last = serde_json::from_value(result("api-http", "eu")).unwrap();
    world.runtime.probes.regions.lock().unwrap().insert(
        id("api-http"),
        vec![
            RegionView {
                region: "eu".into(),
                state: MonitorState::Down,
                stale: false,
                last_result: Some(last),
            },
            RegionView { region: "us".into(), state: MonitorState::Up, stale: true, last_result: None },
        ],
    );
    let body = world.get_as("/api/v1/monitors/api-http", Scope::Read).await.json();
    assert_eq!(body["quorum"], 2);
    assert_eq!(body["regions"][0]["region"], "eu");
    assert_eq!(body["regions"][0]["state"], "down");
    assert_eq!(body["regions"][0]["last_result"]["error"], "connection refused");
    assert_eq!(
        body["regions"][1],
        json!({"region": "us", "state": "up", "stale": true, "last_result": null})
    );
    let plain = world.get_as("/api/v1/monitors/web-http", Scope::Read).await.json();
    assert!(plain.get("regions").is_none() && plain.get("quorum").is_none());
}

use std::time::Duration;

use axum::http::header;
use serde_json::json;

use crate::fakes::*;

#[tokio::test]
async fn healthz_is_plain_ok() {
    let world = World::new();
    let reply = world.get("/healthz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "ok");
}

#[tokio::test]
async fn readyz_is_ready_when_everything_answers() {
    let world = World::new();
    let reply = world.get("/readyz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"status": "ready", "store": "ok", "scheduler_running": true, "schedule_lag_ms": 12,
               "pool": {"size": 2, "idle": 1, "max": 8}})
    );
}

#[tokio::test]
async fn readyz_is_503_when_the_store_ping_fails() {
    let world = World::new();
    world.store.fail("connection refused");
    let reply = world.get("/readyz").await;
    assert_eq!(reply.status, 503);
    let doc = reply.json();
    assert_eq!(doc["status"], "not_ready");
    assert_eq!(doc["store"], "store unavailable: connection refused");
    assert_eq!(doc["scheduler_running"], true);
}

#[tokio::test]
async fn readyz_is_503_when_the_scheduler_stops_or_lags() {
    let world = World::new();
    world.runtime.readiness.lock().unwrap().scheduler_running = false;
    assert_eq!(world.get("/readyz").await.status, 503);

    world.runtime.readiness.lock().unwrap().scheduler_running = true;
    world.runtime.readiness.lock().unwrap().schedule_lag = Duration::from_millis(5001);
    let reply = world.get("/readyz").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["schedule_lag_ms"], 5001);

    world.runtime.readiness.lock().unwrap().schedule_lag = Duration::from_secs(5);
    assert_eq!(world.get("/readyz").await.status, 200);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let world = World::new();
    let reply = world.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header(header::CONTENT_TYPE), Some("text/plain; version=0.0.4"));
    assert!(reply.text().contains("belfry_checks_total 42"));
}

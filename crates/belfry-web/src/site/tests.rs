use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use belfry_core::MonitorState;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use super::{MIN_GAP, Site};
use crate::changes::ChangeFeed;
use crate::fakes::*;
use crate::router_with;

/// Waits until the site has been quiet (no rebuild) for a few gaps; returns the count.
async fn settled(site: &std::sync::Arc<Site>) -> u64 {
    let mut last = site.rebuilds();
    loop {
        tokio::time::sleep(MIN_GAP * 3).await;
        let now = site.rebuilds();
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn a_burst_of_a_thousand_changes_causes_one_or_two_rebuilds() {
    let world = World::with_fixtures();
    let site = Site::new(world.state.clone(), ChangeFeed::new());
    site.current().await.unwrap();
    let before = settled(&site).await;
    for _ in 0..1000 {
        site.feed().notify();
    }
    let after = settled(&site).await;
    let rebuilds = after - before;
    println!("1,000 notify() in a burst: {rebuilds} rebuild(s)");
    assert!((1..=2).contains(&rebuilds), "{rebuilds} rebuilds for one burst");
    let built = site.current().await.unwrap();
    assert_eq!(built.generation, 1000, "the last build includes every change");
}

#[tokio::test]
async fn a_thousand_changes_per_second_rebuild_at_most_once_per_gap() {
    let world = World::with_fixtures();
    let site = Site::new(world.state.clone(), ChangeFeed::new());
    site.current().await.unwrap();
    let before = settled(&site).await;
    let start = Instant::now();
    for i in 0..1000u32 {
        site.feed().notify();
        // 1,000 changes spread over one second.
        tokio::time::sleep_until((start + Duration::from_millis(u64::from(i))).into()).await;
    }
    let elapsed = start.elapsed();
    let rebuilds = settled(&site).await - before;
    let bound = (elapsed.as_millis() as u64).div_ceil(MIN_GAP.as_millis() as u64) + 2;
    println!("1,000 notify() over {elapsed:?}: {rebuilds} rebuild(s) (bound {bound})");
    assert!(rebuilds <= bound, "{rebuilds} rebuilds in {elapsed:?}");
    assert!(rebuilds >= 2, "changes during a second show up during it: {rebuilds}");
}

#[tokio::test]
async fn requests_never_rebuild() {
    let world = World::with_fixtures();
    let feed = ChangeFeed::new();
    let app = router_with(world.state.clone(), feed);
    send_via(&app, request(axum::http::Method::GET, "/", None)).await;
    let reads = *world.store.rollup_reads.lock().unwrap();
    for _ in 0..200 {
        for path in ["/", "/api/v2/summary.json", "/history", "/history.rss"] {
            assert_eq!(send_via(&app, request(axum::http::Method::GET, path, None)).await.status, 200);
        }
    }
    assert_eq!(*world.store.rollup_reads.lock().unwrap(), reads, "800 requests read nothing from the store");
}

#[tokio::test]
async fn an_engine_change_reaches_the_cached_page_within_a_second() {
    let world = World::new();
    let feed = ChangeFeed::new();
    let app = router_with(world.state.clone(), feed.clone());
    let before = send_via(&app, request(axum::http::Method::GET, "/api/v2/status.json", None)).await.json();
    assert_eq!(before["status"]["indicator"], "none");
    world.runtime.set_state("api-http", MonitorState::Down, minutes_ago(1));
    feed.notify();
    let start = Instant::now();
    loop {
        let doc = send_via(&app, request(axum::http::Method::GET, "/api/v2/status.json", None)).await.json();
        if doc["status"]["indicator"] != "none" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "still {doc}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let html = send_via(&app, request(axum::http::Method::GET, "/", None)).await.text();
    assert!(html.contains("Major System Outage"));
}

#[tokio::test]
async fn a_write_through_the_api_is_on_the_page_when_the_write_returns() {
    let world = World::new();
    let app = router_with(world.state.clone(), ChangeFeed::new());
    assert!(
        !send_via(&app, request(axum::http::Method::GET, "/", None)).await.text().contains("Login failures")
    );
    let body =
        json!({"name": "Login failures", "status": "investigating", "impact": "major", "body": "Looking"});
    let created = send_via(
        &app,
        json_request(
            axum::http::Method::POST,
            "/api/v1/incidents",
            Some(&secret(belfry_core::auth::Scope::Write)),
            &body,
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let page = send_via(&app, request(axum::http::Method::GET, "/", None)).await.text();
    assert!(page.contains("Login failures"), "the very next read shows the write");
    let unresolved =
        send_via(&app, request(axum::http::Method::GET, "/api/v2/incidents/unresolved.json", None))
            .await
            .json();
    assert_eq!(unresolved["incidents"][0]["name"], "Login failures");
}

#[tokio::test]
async fn the_stream_says_retry_and_hello_then_pushes_changes() {
    let world = World::new();
    let feed = ChangeFeed::new();
    let app = router_with(world.state.clone(), feed.clone());
    let response =
        app.clone().oneshot(Request::get("/api/v1/stream").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let mut next_event = async || -> String {
        let mut text = String::new();
        while !text.contains("\n\n") {
            let frame =
                tokio::time::timeout(Duration::from_secs(2), body.frame()).await.expect("an event in time");
            let frame = frame.expect("stream open").unwrap();
            if let Ok(data) = frame.into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
        text
    };
    let hello = next_event().await;
    assert!(hello.contains("event: hello"), "{hello}");
    assert!(hello.contains("retry: 1000"), "{hello}");
    world.runtime.set_state("web-http", MonitorState::Down, minutes_ago(1));
    feed.notify();
    let change = next_event().await;
    assert!(change.contains("event: change"), "{change}");
    assert!(change.contains(r#""indicator":"critical""#), "{change}");
}

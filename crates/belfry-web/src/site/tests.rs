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

#[tokio::test]
async fn cached_gets_answered_in_front_of_the_router_match_the_routed_answers() {
    use axum::http::{HeaderValue, Method, header};
    let world = World::with_fixtures();
    let app = router_with(world.state.clone(), ChangeFeed::new());
    // The first request waits for the first build behind the router; later ones take the front.
    assert_eq!(send_via(&app, request(Method::GET, "/", None)).await.status, 200);
    let site = Site::new(world.state.clone(), ChangeFeed::new());
    let built = site.current().await.unwrap();
    let mut paths: Vec<&String> = built.docs.keys().filter(|p| built.public_doc(p).is_some()).collect();
    paths.sort();
    assert!(paths.len() > 20, "{paths:?}");
    for path in paths {
        for accept in [None, Some("gzip"), Some("br, gzip")] {
            let make = || {
                let mut req = request(Method::GET, path, None);
                if let Some(a) = accept {
                    req.headers_mut().insert(header::ACCEPT_ENCODING, HeaderValue::from_static(a));
                }
                req
            };
            let front = send_via(&app, make()).await;
            // A fresh router has no build yet: its answer comes from the route's handler.
            let mut routed = world.send(make()).await;
            // The router states the length; hyper does the same for the front's bodies on the wire.
            routed.headers.remove(header::CONTENT_LENGTH);
            assert_eq!(front.status, 200, "{path}");
            assert_eq!(front.status, routed.status, "{path}");
            assert_eq!(front.headers, routed.headers, "{path} {accept:?}");
            assert_eq!(front.body, routed.body, "{path} {accept:?}");
            if path.starts_with("/api/v2/") {
                assert_eq!(front.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"), "{path}");
            }
            let mut again = make();
            let etag = front.headers[header::ETAG].clone();
            again.headers_mut().insert(header::IF_NONE_MATCH, etag);
            assert_eq!(send_via(&app, again).await.status, 304, "{path}");
        }
    }
    // The 404 page is a document of the build but not a route: a GET of its key is a 404.
    assert_eq!(send_via(&app, request(Method::GET, super::NOT_FOUND_PATH, None)).await.status, 404);
}

#[tokio::test]
async fn every_cached_document_is_a_public_get_route_of_the_table() {
    let world = World::with_fixtures();
    let site = Site::new(world.state.clone(), ChangeFeed::new());
    let built = site.current().await.unwrap();
    let matches = |pattern: &str, path: &str| {
        let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
        p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| a == b || (a.starts_with('{') && !b.is_empty()))
    };
    for path in built.docs.keys().filter(|p| built.public_doc(p).is_some()) {
        let route = crate::route_table().iter().find(|(method, pattern, access)| {
            *method == axum::http::Method::GET && *access == crate::Access::Public && matches(pattern, path)
        });
        assert!(route.is_some(), "{path} is served from the cache but is no public GET route");
    }
}

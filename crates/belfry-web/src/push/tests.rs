use axum::http::Method;

use crate::fakes::*;

#[tokio::test]
async fn a_ping_by_get_or_post_reaches_the_runtime() {
    let world = World::new();
    let reply = world.get("/api/v1/push/push-secret").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"ok": true, "monitor": "backup"}));
    let reply = world.send(request(Method::POST, "/api/v1/push/push-secret?status=up", None)).await;
    assert_eq!(reply.status, 200);
    let reply =
        world.send(request(Method::POST, "/api/v1/push/push-secret?status=down&msg=disk%20full", None)).await;
    assert_eq!(reply.status, 200);
    let reply = world.get("/api/v1/push/push-secret?status=down").await;
    assert_eq!(reply.status, 200);
    let pushes = world.runtime.pushes.lock().unwrap().clone();
    assert_eq!(
        pushes,
        [
            (PUSH_TOKEN.to_owned(), None),
            (PUSH_TOKEN.to_owned(), None),
            (PUSH_TOKEN.to_owned(), Some("disk full".to_owned())),
            (PUSH_TOKEN.to_owned(), Some("the pinger reported down".to_owned())),
        ]
    );
}

#[tokio::test]
async fn unknown_tokens_all_get_the_same_404() {
    let world = World::new();
    let first = world.get("/api/v1/push/guess-one").await;
    let second = world.send(request(Method::POST, "/api/v1/push/another-guess-entirely", None)).await;
    assert_eq!(first.status, 404);
    assert_eq!(first.error_code(), "not_found");
    assert_eq!(first.body, second.body);
    assert!(!first.text().contains("guess"));
    assert!(world.runtime.pushes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_status_other_than_up_or_down_is_400() {
    let world = World::new();
    let reply = world.get("/api/v1/push/push-secret?status=sideways").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "invalid_query");
    assert!(world.runtime.pushes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_paused_heartbeat_is_409_and_long_messages_are_cut() {
    let world = World::new();
    let long = "x".repeat(5000);
    let reply = world.get(&format!("/api/v1/push/push-secret?status=down&msg={long}")).await;
    assert_eq!(reply.status, 200);
    let pushes = world.runtime.pushes.lock().unwrap().clone();
    assert_eq!(pushes[0].1.as_ref().map(String::len), Some(1024));

    {
        let mut catalog = (*world.runtime.catalog.lock().unwrap()).as_ref().clone();
        catalog.monitors.iter_mut().for_each(|m| std::sync::Arc::make_mut(m).paused = true);
        *world.runtime.catalog.lock().unwrap() = std::sync::Arc::new(catalog);
    }
    let reply = world.get("/api/v1/push/push-secret").await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.error_code(), "monitor_paused");
}

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::fakes::*;
use crate::router;

fn form(body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/subscribe")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn subscribe_json(body: serde_json::Value) -> Request<Body> {
    json_request(Method::POST, "/subscribe", None, &body)
}

#[tokio::test]
async fn new_and_existing_addresses_get_the_same_answer_and_only_new_ones_a_request() {
    let world = World::with_fixtures();
    let app = router(world.state.clone());
    let new = send_via(&app, form("email=new%40example.test&components=api")).await;
    let existing = send_via(&app, form("email=FAN%40example.test")).await;
    assert_eq!(new.status, StatusCode::ACCEPTED, "{}", new.text());
    assert_eq!((existing.status, existing.text()), (new.status, new.text()));
    let again = send_via(&app, subscribe_json(json!({"email": "new@example.test"}))).await;
    let other = send_via(&app, subscribe_json(json!({"email": "other@example.test"}))).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!((other.status, other.text()), (again.status, again.text()));

    let subs = world.store.subscribers.lock().unwrap().clone();
    let added: Vec<_> = subs.iter().filter(|s| s.id != FIXTURE_SUBSCRIBER).collect();
    assert_eq!(added.len(), 2, "{subs:?}");
    assert!(added.iter().all(|s| s.confirmed_at.is_none() && s.token.len() == 64));
    assert_eq!(added[0].components, vec![id("api")]);
    let deliveries = world.store.deliveries.lock().unwrap().clone();
    let channels: Vec<_> = deliveries.iter().map(|d| d.channel.clone()).collect();
    assert_eq!(
        channels,
        added.iter().map(|s| s.channel()).collect::<Vec<_>>(),
        "one request per new address"
    );
    let confirm = &deliveries[0].message;
    assert_eq!(confirm.event, belfry_core::channel::MessageEvent::SubscriptionConfirm);
    assert!(
        confirm.summary.contains(&format!("/subscribe/confirm/{}", added[0].token)),
        "{}",
        confirm.summary
    );
    assert!(
        confirm.unsubscribe_url.as_deref().unwrap().ends_with(&format!("/unsubscribe/{}", added[0].token))
    );
}

#[tokio::test]
async fn invalid_requests_are_refused_before_anything_is_stored() {
    let world = World::with_fixtures();
    let app = router(world.state.clone());
    for body in [
        json!({"email": "not-an-address"}),
        json!({"email": "a@example.test", "webhook": "https://x.test/"}),
        json!({}),
        json!({"webhook": "ftp://x.test/"}),
        json!({"email": "a@example.test", "components": ["nope"]}),
    ] {
        let reply = send_via(&app, subscribe_json(body.clone())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.text());
    }
    assert_eq!(world.store.subscribers.lock().unwrap().len(), 1);
    assert!(world.store.deliveries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn requests_are_rate_limited_per_address_and_refill_over_time() {
    let world = World::with_fixtures();
    let app = router(world.state.clone());
    for _ in 0..5 {
        let reply = send_via(&app, form("email=fan%40example.test")).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    let limited = send_via(&app, form("email=fan%40example.test")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.text());
    // The client (here: one unknown IP) is limited too, whatever address it tries next.
    let other = send_via(&app, form("email=someone%40example.test")).await;
    assert_eq!(other.status, StatusCode::TOO_MANY_REQUESTS);
    world.clock.set(now().checked_add(jiff::SignedDuration::from_mins(13)).unwrap());
    let later = send_via(&app, form("email=fan%40example.test")).await;
    assert_eq!(later.status, StatusCode::ACCEPTED, "one token back after 12 minutes");
}

#[tokio::test]
async fn the_link_confirms_and_unsubscribing_needs_a_post() {
    let world = World::with_fixtures();
    let app = router(world.state.clone());
    send_via(&app, form("email=new%40example.test")).await;
    let token = world.store.subscribers.lock().unwrap()[1].token.clone();
    assert!(world.store.subscribers.lock().unwrap()[1].confirmed_at.is_none());

    let bad = send_via(&app, request(Method::GET, "/subscribe/confirm/forged", None)).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    let ok = send_via(&app, request(Method::GET, &format!("/subscribe/confirm/{token}"), None)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(ok.text().contains("Subscription confirmed"));
    assert_eq!(world.store.subscribers.lock().unwrap()[1].confirmed_at, Some(now()));

    let page = send_via(&app, request(Method::GET, &format!("/unsubscribe/{token}"), None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("<form method=\"post\">"));
    assert_eq!(world.store.subscribers.lock().unwrap().len(), 2, "a GET changes nothing");
    let done = send_via(&app, request(Method::POST, &format!("/unsubscribe/{token}"), None)).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.text().contains("Unsubscribed"));
    assert_eq!(world.store.subscribers.lock().unwrap().len(), 1);
    let again = send_via(&app, request(Method::POST, &format!("/unsubscribe/{token}"), None)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[test]
fn form_bodies_are_percent_decoded() {
    let pairs = super::form_pairs(b"email=a%2Bb%40x.test&components=api%2Cweb&x=%zz+y");
    assert_eq!(pairs[0], ("email".to_owned(), "a+b@x.test".to_owned()));
    assert_eq!(pairs[1].1, "api,web");
    assert_eq!(pairs[2].1, "%zz y");
}

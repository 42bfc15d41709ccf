use axum::http::{Method, StatusCode};
use belfry_core::auth::Scope;

use crate::fakes::*;

#[tokio::test]
async fn a_link_shows_a_confirm_page_and_only_a_post_acknowledges() {
    let world = World::with_fixtures();
    let token = fixture_ack_token();
    let page = world.get(&format!("/ack/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("<form method=\"post\">"), "{}", page.text());
    assert!(page.text().contains("Internal API is down"));
    assert!(world.store.alerts.lock().unwrap()[FIXTURE_ALERT].is_active(), "a GET changes nothing");

    let done = world.send(request(Method::POST, &format!("/ack/{token}"), None)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("Escalation stopped"));
    let alert = world.store.alerts.lock().unwrap()[FIXTURE_ALERT].clone();
    assert_eq!(alert.acknowledged_by.as_deref(), Some("link"));
    let again = world.get(&format!("/ack/{token}")).await;
    assert!(again.text().contains("Already acknowledged by link"), "{}", again.text());
}

#[tokio::test]
async fn forged_and_expired_links_are_refused() {
    let world = World::with_fixtures();
    let forged = fixture_ack_token().replace(FIXTURE_ALERT, "alr0fixture1");
    let reply = world.send(request(Method::POST, &format!("/ack/{forged}"), None)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let expired = belfry_core::alert::ack::sign(
        FIXTURE_ACK_KEY.as_bytes(),
        FIXTURE_ALERT,
        jiff::Timestamp::from_second(1).unwrap(),
    );
    let reply = world.send(request(Method::POST, &format!("/ack/{expired}"), None)).await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert!(world.store.alerts.lock().unwrap()[FIXTURE_ALERT].is_active());
}

#[tokio::test]
async fn the_api_acknowledges_with_the_tokens_identity_and_lists_the_outbox() {
    let world = World::with_fixtures();
    let reply = world
        .send(request(
            Method::POST,
            &format!("/api/v1/alerts/{FIXTURE_ALERT}/ack"),
            Some(&secret(Scope::Write)),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.json()["acknowledged_by"].as_str().unwrap().starts_with("token:"));
    let bad =
        world.send(request(Method::GET, "/api/v1/deliveries?status=lost", Some(&secret(Scope::Read)))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let list =
        world.send(request(Method::GET, "/api/v1/deliveries?status=dead", Some(&secret(Scope::Read)))).await;
    assert_eq!(list.status, StatusCode::OK);
}

#[tokio::test]
async fn channels_are_listed_without_secrets_and_a_test_is_queued() {
    let world = World::with_fixtures();
    let list = world.send(request(Method::GET, "/api/v1/channels", Some(&secret(Scope::Read)))).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["channels"][0]["kind"], "webhook");
    assert!(!list.text().contains("whsec") && !list.text().contains("hooks.example.test"), "{}", list.text());
    let queued = world
        .send(request(
            Method::POST,
            &format!("/api/v1/channels/{FIXTURE_CHANNEL}/test"),
            Some(&secret(Scope::Write)),
        ))
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text());
    let deliveries = world.store.deliveries.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].channel, FIXTURE_CHANNEL);
    let missing =
        world.send(request(Method::POST, "/api/v1/channels/nope/test", Some(&secret(Scope::Write)))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

use axum::http::{Method, StatusCode};
use belfry_core::Section;
use belfry_core::auth::Scope;
use serde_json::json;

use crate::fakes::*;

#[tokio::test]
async fn a_channel_made_through_the_api_is_validated_stored_and_listed_without_secrets() {
    let world = World::with_fixtures();
    let entry = json!({"id": "pager", "kind": "webhook", "url": "https://hooks.example.test/p", "secret": "whsec-very-secret"});
    let reply = world.send_json(Method::POST, "/api/v1/channels", Scope::Admin, &entry).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json(), json!({"id": "pager", "kind": "webhook", "origin": "api"}));
    let stored = world.runtime.console_objects.lock().unwrap().clone();
    let object = stored.iter().find(|o| o.id == "pager").expect("stored as a console object");
    assert_eq!(object.section, Section::Channels);
    assert!(object.yaml.contains("whsec-very-secret"), "kept whole (sealed by the vault)");

    let list = world.send(request(Method::GET, "/api/v1/channels", Some(&secret(Scope::Read)))).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text().contains("whsec"), "{}", list.text());
    let origins: Vec<_> = list.json()["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].clone(), c["origin"].clone()))
        .collect();
    assert!(origins.contains(&(json!(FIXTURE_CHANNEL), json!("config"))), "{origins:?}");

    let again = world.send_json(Method::POST, "/api/v1/channels", Scope::Admin, &entry).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "POST does not replace: {}", again.text());
}

#[tokio::test]
async fn config_channels_are_read_only_and_bad_entries_get_json_errors() {
    let world = World::with_fixtures();
    let config_id = json!({"id": FIXTURE_CHANNEL, "kind": "webhook", "url": "https://x.example.test/"});
    let reply = world.send_json(Method::POST, "/api/v1/channels", Scope::Admin, &config_id).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::CONFLICT, "conflict"));
    let path = format!("/api/v1/channels/{FIXTURE_CHANNEL}");
    let reply = world.send_json(Method::PUT, &path, Scope::Admin, &config_id).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = world.send(request(Method::DELETE, &path, Some(&secret(Scope::Admin)))).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);

    let reply =
        world.send_json(Method::POST, "/api/v1/channels", Scope::Admin, &json!({"kind": "webhook"})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "no id: {}", reply.text());
    let reply = world
        .send_json(Method::POST, "/api/v1/channels", Scope::Admin, &json!(["not", "an", "object"]))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = json!({"id": "other", "kind": "webhook", "url": "https://x.example.test/"});
    let reply = world
        .send_json(Method::PUT, &format!("/api/v1/channels/{FIXTURE_API_CHANNEL}"), Scope::Admin, &other)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "id must match the path");

    *world.runtime.console_errors.lock().unwrap() =
        Some(vec!["console:channels/bad:1:1: url: expected an http(s) URL".to_owned()]);
    let bad = json!({"id": "bad", "kind": "webhook", "url": "ftp://x"});
    let reply = world.send_json(Method::POST, "/api/v1/channels", Scope::Admin, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text().contains("expected an http(s) URL"), "{}", reply.text());
    assert!(!world.runtime.console_objects.lock().unwrap().iter().any(|o| o.id == "bad"), "nothing stored");

    let reply =
        world.send(request(Method::DELETE, "/api/v1/channels/nope", Some(&secret(Scope::Admin)))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = world
        .send(request(
            Method::DELETE,
            &format!("/api/v1/channels/{FIXTURE_API_CHANNEL}"),
            Some(&secret(Scope::Admin)),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(world.runtime.console_objects.lock().unwrap().is_empty());
}

use axum::http::{Method, header};
use belfry_core::auth::Scope;
use serde_json::json;

use crate::fakes::*;

async fn reload(world: &World, scope: Option<Scope>) -> Reply {
    let secret = scope.map(secret);
    world.send(request(Method::POST, "/api/v1/reload", secret.as_deref())).await
}

#[tokio::test]
async fn reload_needs_an_admin_token() {
    let world = World::new();
    let reply = reload(&world, None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header(header::WWW_AUTHENTICATE), Some("Bearer"));
    assert_eq!(reply.error_code(), "unauthorized");

    let reply = world.send(request(Method::POST, "/api/v1/reload", Some("not-a-token"))).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header(header::WWW_AUTHENTICATE), Some(r#"Bearer error="invalid_token""#));

    for scope in [Scope::Read, Scope::Write, Scope::Probe] {
        let reply = reload(&world, Some(scope)).await;
        assert_eq!(reply.status, 403, "{scope:?}");
        assert_eq!(reply.error_code(), "forbidden");
    }
    assert_eq!(*world.runtime.reloads.lock().unwrap(), 0);

    let reply = reload(&world, Some(Scope::Admin)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"reloaded": true}));
    assert_eq!(*world.runtime.reloads.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_failing_reload_is_422_with_every_error() {
    let world = World::new();
    let errors = vec![
        "belfry.yaml:3:5: monitors[0].interval: invalid duration".to_owned(),
        "belfry.yaml:9:1: monitors[1].id: duplicate id \"api\"".to_owned(),
    ];
    *world.runtime.reload_errors.lock().unwrap() = Some(errors.clone());
    let reply = reload(&world, Some(Scope::Admin)).await;
    assert_eq!(reply.status, 422);
    let doc = reply.json();
    assert_eq!(doc["error"]["code"], "invalid_config");
    assert!(doc["error"]["message"].is_string());
    assert_eq!(doc["error"]["details"], json!(errors));
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let world = World::new();
    let req = axum::http::Request::post("/api/v1/reload")
        .header(header::AUTHORIZATION, format!("bearer  {}", secret(Scope::Admin)))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(world.send(req).await.status, 200);
    let req = axum::http::Request::post("/api/v1/reload")
        .header(header::AUTHORIZATION, format!("Basic {}", secret(Scope::Admin)))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(world.send(req).await.status, 401);
}

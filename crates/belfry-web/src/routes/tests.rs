use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use belfry_core::access::{Role, Session, User};
use belfry_core::auth::{Scope, hash_secret};
use belfry_core::store::AdminStore;
use serde_json::{Value, json};

use super::{Access, route_table};
use crate::fakes::*;

const SCOPES: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Admin, Scope::Probe];

/// A concrete request path for a table path: parameters filled with fixture values.
fn concrete(path: &str) -> String {
    let id = if path.starts_with("/api/v1/incidents/")
        || path.starts_with("/incidents/")
        || path.starts_with("/admin/incidents/")
    {
        FIXTURE_INCIDENT
    } else if path.starts_with("/api/v1/maintenances/") || path.starts_with("/admin/maintenances/") {
        FIXTURE_MAINTENANCE
    } else if path.starts_with("/components/") || path.starts_with("/admin/components/") {
        "api"
    } else if path.starts_with("/api/v1/alerts/") || path.starts_with("/admin/alerts/") {
        FIXTURE_ALERT
    } else if path == "/api/v1/channels/{id}" || path == "/admin/channels/{id}/delete" {
        FIXTURE_API_CHANNEL
    } else if path.starts_with("/api/v1/channels/") || path.starts_with("/admin/channels/") {
        FIXTURE_CHANNEL
    } else {
        "api-http"
    };
    let component = if path.ends_with("/uptime.svg") { "api" } else { "api.svg" };
    if path == "/admin/subscribers/{id}/delete" {
        return path.replace("{id}", FIXTURE_SUBSCRIBER);
    }
    if path == "/admin/tokens/{id}/delete" {
        return path.replace("{id}", "tok-read");
    }
    let token = if path.starts_with("/ack/") {
        fixture_ack_token()
    } else if path.starts_with("/subscribe/") || path.starts_with("/unsubscribe/") {
        FIXTURE_SUBSCRIBER_TOKEN.to_owned()
    } else {
        PUSH_TOKEN.to_owned()
    };
    if path == "/api/v1/probe/assignments" {
        return format!("{path}?region=eu");
    }
    path.replace("{id}", id)
        .replace("{update_id}", FIXTURE_UPDATE)
        .replace("{token}", &token)
        .replace("{component}", component)
}

/// A valid body for the routes that take one.
fn sample_body(method: &Method, path: &str) -> Option<Value> {
    let body = match (method.as_str(), path) {
        ("POST", "/api/v1/incidents") => {
            json!({"name": "API errors", "status": "investigating", "impact": "minor", "body": "Looking"})
        }
        ("POST", "/api/v1/incidents/{id}/updates") => json!({"status": "identified", "body": "Found it"}),
        ("PATCH", "/api/v1/incidents/{id}/updates/{update_id}") => json!({"body": "Edited"}),
        ("POST", "/api/v1/incidents/{id}/notes") => json!({"text": "A note"}),
        ("PUT", "/api/v1/incidents/{id}/postmortem") => json!({"summary": "What happened"}),
        ("POST", "/api/v1/maintenances") => json!({
            "name": "DB upgrade", "components": ["db"],
            "starts_at": "2024-06-02T00:00:00Z", "ends_at": "2024-06-02T01:00:00Z"
        }),
        ("PATCH", "/api/v1/maintenances/{id}") => json!({"name": "Renamed"}),
        ("POST", "/api/v1/probe/results") => json!({"region": "eu", "results": []}),
        ("POST", "/subscribe") => json!({"email": "new@example.test"}),
        ("POST", "/api/v1/channels") => {
            json!({"id": "new-hook", "kind": "webhook", "url": "https://hooks.example.test/new"})
        }
        ("PUT", "/api/v1/channels/{id}") => {
            json!({"id": FIXTURE_API_CHANNEL, "kind": "webhook", "url": "https://hooks.example.test/changed"})
        }
        _ => return None,
    };
    Some(body)
}

/// The request a table entry gets in these tests: its sample body, if any, and a bearer.
fn route_request(method: &Method, path: &str, bearer: Option<&str>) -> Request<Body> {
    match sample_body(method, path) {
        Some(body) => json_request(method.clone(), &concrete(path), bearer, &body),
        None => request(method.clone(), &concrete(path), bearer),
    }
}

/// The router answered from a route, not from its unknown-path or unknown-method fallback.
fn assert_routed(reply: &Reply, what: &str) {
    assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{what}: {}", reply.text());
    if reply.status == StatusCode::NOT_FOUND {
        assert_ne!(reply.error_code(), "route_not_found", "{what} is not routed");
    }
}

/// A user of `role` with a live session in `world`; returns the cookie secret and CSRF token.
async fn logged_in(world: &World, role: Role) -> (String, String) {
    let id = format!("u-{}", role.as_str());
    let user = User {
        id: id.clone(),
        name: role.as_str().to_owned(),
        role,
        password_hash: "unused".to_owned(),
        totp: false,
        created_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    };
    world.store.save_user(&user).await.unwrap();
    let secret = format!("session-{}", role.as_str());
    let csrf = format!("csrf-{}", role.as_str());
    let now = world.state.clock.now();
    let session = Session {
        hash: hash_secret(&secret),
        user_id: id,
        csrf: csrf.clone(),
        created_at: now,
        expires_at: now.checked_add(jiff::SignedDuration::from_hours(1)).unwrap(),
    };
    world.store.insert_session(&session).await.unwrap();
    (secret, csrf)
}

/// A valid console form for the routes that take one (the CSRF field is added separately).
fn sample_form(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path) {
        ("POST", "/admin/monitors") => "id=web-2&kind=http&target=http%3A%2F%2F127.0.0.1%3A1%2F&interval=30s",
        ("POST", "/admin/incidents") => "name=Slow&status=investigating&impact=minor&body=Looking",
        ("POST", "/admin/incidents/{id}/updates") => "status=identified&body=Found",
        ("POST", "/admin/users") => "name=newbie&role=viewer&password=long+enough+password",
        ("POST", "/admin/tokens") => "scope=read",
        ("POST", "/admin/components/{id}/move") => "dir=down",
        ("POST", "/admin/maintenances") => {
            "name=DB&component=api&starts_at=2030-01-01T00%3A00%3A00Z&ends_at=2030-01-01T01%3A00%3A00Z"
        }
        ("POST", "/admin/incidents/{id}/postmortem") => "summary=What+happened&timeline_json=%5B%5D",
        ("POST", "/admin/channels") => {
            "entry=%7B%22id%22%3A%22c2%22%2C%22kind%22%3A%22webhook%22%2C%22url%22%3A%22https%3A%2F%2Fh.example.test%2F%22%7D"
        }
        ("POST", "/admin/account/totp/confirm") => "code=000000",
        _ => "",
    }
}

/// A console request: session cookie, and for posts the form with `csrf` (when given).
fn console_request(method: &Method, path: &str, session: Option<&str>, csrf: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method.clone()).uri(concrete(path));
    if let Some(secret) = session {
        builder = builder.header(header::COOKIE, format!("belfry_session={secret}"));
    }
    if method == Method::POST {
        let mut form = sample_form(method, path).to_owned();
        if let Some(token) = csrf {
            form = if form.is_empty() { format!("_csrf={token}") } else { format!("{form}&_csrf={token}") };
        }
        builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        return builder.body(Body::from(form)).unwrap();
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn every_console_page_needs_a_session_of_its_role_and_forms_their_csrf_token() {
    for (method, path, access) in route_table() {
        let Access::Role(needed) = access else { continue };
        let what = format!("{method} {path}");
        let world = World::with_fixtures();
        let anonymous = world.send(console_request(method, path, None, None)).await;
        if *method == Method::GET {
            assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{what} anonymous goes to the login page");
            assert!(anonymous.header(header::LOCATION).unwrap().starts_with("/admin/login?next="), "{what}");
        } else {
            assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{what} anonymous");
        }
        let forged = world.send(console_request(method, path, Some("not-a-session"), None)).await;
        assert!(!forged.status.is_success(), "{what} with an unknown session");
        for role in Role::ALL {
            let world = World::with_fixtures();
            let (session, csrf) = logged_in(&world, role).await;
            let reply = world.send(console_request(method, path, Some(&session), Some(&csrf))).await;
            if role >= *needed {
                // Allowed: the page answers (a 422 "only console monitors…" is an answer too).
                assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::METHOD_NOT_ALLOWED]
                        .contains(&reply.status)
                        && !reply.status.is_server_error(),
                    "{what} as {role:?}: {} {}",
                    reply.status,
                    reply.text()
                );
                assert_routed(&reply, &what);
                if *method == Method::POST && !path.starts_with("/admin/logout") {
                    let world = World::with_fixtures();
                    let (session, _) = logged_in(&world, role).await;
                    let without = world.send(console_request(method, path, Some(&session), None)).await;
                    assert_eq!(
                        without.status,
                        StatusCode::FORBIDDEN,
                        "{what} as {role:?} without CSRF token"
                    );
                    let wrong =
                        world.send(console_request(method, path, Some(&session), Some("csrf-guess"))).await;
                    assert_eq!(
                        wrong.status,
                        StatusCode::FORBIDDEN,
                        "{what} as {role:?} with a wrong CSRF token"
                    );
                }
            } else {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what} as {role:?}");
            }
        }
    }
}

#[tokio::test]
async fn api_writes_with_a_session_need_the_csrf_header_and_the_role() {
    let world = World::with_fixtures();
    let (session, csrf) = logged_in(&world, Role::Editor).await;
    let body = json!({"name": "API errors", "status": "investigating", "impact": "minor", "body": "Looking"});
    let post = |csrf: Option<&str>| {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/incidents")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, format!("belfry_session={session}"));
        if let Some(t) = csrf {
            b = b.header("x-csrf-token", t);
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    let refused = world.send(post(None)).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::FORBIDDEN, "csrf_rejected".to_owned()));
    assert_eq!(world.send(post(Some(&csrf))).await.status, StatusCode::CREATED);
    let get = Request::get("/api/v1/monitors")
        .header(header::COOKIE, format!("belfry_session={session}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(world.send(get).await.status, StatusCode::OK, "reads need no CSRF token");
    let (viewer, viewer_csrf) = logged_in(&world, Role::Viewer).await;
    let reload = Request::post("/api/v1/reload")
        .header(header::COOKIE, format!("belfry_session={viewer}"))
        .header("x-csrf-token", viewer_csrf)
        .body(Body::empty())
        .unwrap();
    assert_eq!(world.send(reload).await.status, StatusCode::FORBIDDEN, "a viewer may not reload");
}

#[tokio::test]
async fn every_route_enforces_the_access_its_table_entry_declares() {
    for (method, path, access) in route_table() {
        // A fresh world per route, so a route that deletes cannot break the next one.
        let world = World::with_fixtures();
        let what = format!("{method} {path}");
        let anonymous = world.send(route_request(method, path, None)).await;
        match access {
            Access::Role(_) => {} // console pages: see the test above
            Access::Public if path.starts_with("/admin/login") => {
                // The login page answers; a post without its login cookie is refused, not routed away.
                assert_routed(&anonymous, &what);
            }
            Access::Public => {
                assert!(
                    anonymous.status.is_success(),
                    "{what} answers without a token: {}",
                    anonymous.status
                );
                assert_routed(&anonymous, &what);
            }
            Access::Scope(needed) => {
                assert_eq!(anonymous.status, 401, "{what} without a token");
                assert_eq!(anonymous.error_code(), "unauthorized", "{what}");
                assert_eq!(anonymous.header(header::WWW_AUTHENTICATE), Some("Bearer"), "{what}");
                let unknown = world.send(route_request(method, path, Some("wrong"))).await;
                assert_eq!(unknown.status, 401, "{what} with an unknown token");
                for scope in SCOPES {
                    let world = World::with_fixtures();
                    let reply = world.send(route_request(method, path, Some(&secret(scope)))).await;
                    if scope.allows(*needed) {
                        assert!(
                            reply.status.is_success(),
                            "{what} as {scope:?}: {} {}",
                            reply.status,
                            reply.text()
                        );
                        assert_routed(&reply, &what);
                    } else {
                        assert_eq!(reply.status, 403, "{what} as {scope:?}");
                        assert_eq!(reply.error_code(), "forbidden", "{what} as {scope:?}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn the_table_holds_every_contract_route_once() {
    let table = route_table();
    let contract = [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /api/v2/status.json",
        "GET /api/v2/summary.json",
        "GET /api/v2/components.json",
        "GET /api/v2/incidents.json",
        "GET /api/v2/incidents/unresolved.json",
        "GET /api/v2/scheduled-maintenances.json",
        "GET /api/v2/scheduled-maintenances/upcoming.json",
        "GET /api/v2/scheduled-maintenances/active.json",
        "GET /api/v1/monitors",
        "GET /api/v1/monitors/{id}",
        "GET /api/v1/monitors/{id}/results",
        "GET /api/v1/monitors/{id}/transitions",
        "GET /api/v1/push/{token}",
        "POST /api/v1/push/{token}",
        "GET /api/v1/probe/assignments",
        "POST /api/v1/probe/results",
        "GET /api/v1/probes",
        "POST /api/v1/reload",
        "GET /maintenance.ics",
        "GET /",
        "GET /history",
        "GET /incidents/{id}",
        "GET /components/{id}",
        "GET /history.atom",
        "GET /history.rss",
        "GET /badge/{component}",
        "GET /badge/{component}/uptime.svg",
        "GET /api/v1/stream",
        "POST /api/v1/incidents",
        "GET /api/v1/incidents",
        "GET /api/v1/incidents/{id}",
        "POST /api/v1/incidents/{id}/updates",
        "PATCH /api/v1/incidents/{id}/updates/{update_id}",
        "POST /api/v1/incidents/{id}/publish",
        "GET /api/v1/incidents/{id}/timeline",
        "POST /api/v1/incidents/{id}/notes",
        "GET /api/v1/incidents/{id}/postmortem",
        "PUT /api/v1/incidents/{id}/postmortem",
        "POST /api/v1/maintenances",
        "GET /api/v1/maintenances",
        "GET /api/v1/maintenances/{id}",
        "PATCH /api/v1/maintenances/{id}",
        "DELETE /api/v1/maintenances/{id}",
        "GET /api/v1/alerts",
        "POST /api/v1/alerts/{id}/ack",
        "GET /api/v1/deliveries",
        "GET /api/v1/channels",
        "GET /api/v1/openapi.json",
        "POST /api/v1/channels/{id}/test",
        "GET /ack/{token}",
        "POST /ack/{token}",
        "POST /subscribe",
        "GET /subscribe/confirm/{token}",
        "GET /unsubscribe/{token}",
        "POST /unsubscribe/{token}",
        "POST /api/v1/channels",
        "PUT /api/v1/channels/{id}",
        "DELETE /api/v1/channels/{id}",
        "GET /admin/login",
        "POST /admin/login",
        "POST /admin/logout",
        "POST /admin/logout/everywhere",
        "GET /admin",
        "GET /admin/monitors/new",
        "POST /admin/monitors",
        "GET /admin/monitors/{id}",
        "GET /admin/monitors/{id}/edit",
        "POST /admin/monitors/{id}/run",
        "POST /admin/monitors/{id}/pause",
        "POST /admin/monitors/{id}/resume",
        "POST /admin/monitors/{id}/delete",
        "GET /admin/incidents",
        "POST /admin/incidents",
        "GET /admin/incidents/{id}",
        "POST /admin/incidents/{id}/updates",
        "GET /admin/channels",
        "POST /admin/channels/{id}/test",
        "POST /admin/channels",
        "POST /admin/channels/{id}/delete",
        "GET /admin/components",
        "POST /admin/components/{id}/move",
        "GET /admin/maintenances",
        "POST /admin/maintenances",
        "POST /admin/maintenances/{id}/delete",
        "GET /admin/incidents/{id}/postmortem",
        "POST /admin/incidents/{id}/postmortem",
        "GET /admin/alerts",
        "POST /admin/alerts/{id}/ack",
        "GET /admin/users",
        "POST /admin/users",
        "POST /admin/users/{id}/delete",
        "POST /admin/tokens",
        "POST /admin/tokens/{id}/delete",
        "GET /admin/subscribers",
        "POST /admin/subscribers/{id}/delete",
        "GET /admin/settings",
        "GET /admin/audit",
        "GET /admin/account",
        "POST /admin/account/totp",
        "POST /admin/account/totp/confirm",
    ];
    let listed: Vec<String> = table.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    for route in contract {
        assert_eq!(listed.iter().filter(|l| *l == route).count(), 1, "{route}");
    }
    assert_eq!(listed.len(), contract.len(), "a route was added: add it to the contract list");
    for (_, path, access) in table {
        let page = !path.starts_with("/api/") && !["/metrics", "/readyz"].contains(path);
        let console = path.starts_with("/admin") && !path.starts_with("/admin/login");
        if console {
            assert!(matches!(access, Access::Role(_)), "{path}: console pages need a session");
        } else if page
            || path.starts_with("/api/v2/")
            || path.starts_with("/api/v1/push/")
            || *path == "/api/v1/stream"
        {
            assert_eq!(*access, Access::Public, "{path}");
        }
        if path.starts_with("/api/v1/incidents") || path.starts_with("/api/v1/maintenances") {
            assert_ne!(*access, Access::Public, "{path}: incidents and maintenance need a token");
        }
    }
}

#[tokio::test]
async fn a_listed_path_answers_only_its_listed_methods() {
    // The router is built from the table alone; this checks it from the outside too: every
    // other method on a listed path is a JSON 405 naming the allowed ones.
    let world = World::new();
    let all = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];
    for (_, path, _) in route_table() {
        let listed: Vec<&Method> =
            route_table().iter().filter(|(_, p, _)| p == path).map(|(m, _, _)| m).collect();
        for method in all.iter().filter(|m| !listed.contains(m)) {
            let reply =
                world.send(request(method.clone(), &concrete(path), Some(&secret(Scope::Admin)))).await;
            assert_eq!(reply.status, 405, "{method} {path}");
            assert_eq!(reply.error_code(), "method_not_allowed", "{method} {path}");
            let allow = reply.header(header::ALLOW).unwrap_or_default().to_owned();
            for m in &listed {
                assert!(allow.contains(m.as_str()), "{method} {path}: Allow {allow:?}");
            }
        }
    }
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let world = World::new();
    for path in ["/api/v1/nope", "/api/v2/nope.json", "/api/v3/anything", "/nope"] {
        let reply = world.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.error_code(), "route_not_found", "{path}");
        assert_eq!(reply.header(header::CONTENT_TYPE), Some("application/json"));
    }
}

#[tokio::test]
async fn head_answers_like_get() {
    let world = World::new();
    let reply = world.send(request(Method::HEAD, "/api/v2/summary.json", None)).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
}

#[tokio::test]
async fn bodies_over_one_mebibyte_get_a_json_413() {
    let world = World::new();
    let big = vec![b'x'; 1024 * 1024 + 1];
    let req = Request::post(format!("/api/v1/push/{PUSH_TOKEN}"))
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .unwrap();
    let reply = world.send(req).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.error_code(), "payload_too_large");
    assert_eq!(reply.header(header::CONTENT_TYPE), Some("application/json"));
}

#[tokio::test]
async fn middleware_errors_without_a_body_become_json() {
    // What the timeout layer answers after 30 s: a bare 503.
    let bare = axum::response::Response::builder().status(503).body(Body::empty()).unwrap();
    let converted = super::json_errors(bare).await;
    assert_eq!(converted.status(), 503);
    assert_eq!(converted.headers()[header::CONTENT_TYPE], "application/json");
    let body = http_body_util::BodyExt::collect(converted.into_body()).await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "service_unavailable");
}

#[test]
fn staff_writes_wait_for_the_site_and_nothing_else_does() {
    let changes = |method: Method, path: &str| {
        super::ROUTES
            .iter()
            .find(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is not a route"))
            .changes_site()
    };
    for (method, path) in [
        (Method::POST, "/api/v1/incidents"),
        (Method::PATCH, "/api/v1/maintenances/{id}"),
        (Method::POST, "/api/v1/reload"),
        (Method::POST, "/admin/incidents/{id}/updates"),
        (Method::POST, "/admin/monitors"),
    ] {
        assert!(changes(method.clone(), path), "{method} {path}");
    }
    for (method, path) in [
        (Method::GET, "/api/v1/incidents"),
        (Method::POST, "/api/v1/push/{token}"),
        (Method::POST, "/api/v1/probe/results"),
        (Method::POST, "/subscribe"),
        (Method::POST, "/admin/login"),
        (Method::POST, "/ack/{token}"),
        (Method::POST, "/admin/logout"),
    ] {
        assert!(!changes(method.clone(), path), "{method} {path}");
    }
}

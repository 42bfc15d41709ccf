use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use belfry_core::access::{Role, TotpSeed, User, hash_password};
use belfry_core::store::AdminStore;

use crate::fakes::*;

const PASSWORD: &str = "a long enough password";

async fn add_user(world: &World, name: &str, role: Role) -> User {
    let user = User {
        id: format!("id-{name}"),
        name: name.to_owned(),
        role,
        password_hash: hash_password(PASSWORD).unwrap(),
        totp: false,
        created_at: now(),
    };
    world.store.save_user(&user).await.unwrap();
    user
}

fn cookie_of(reply: &Reply, name: &str) -> Option<String> {
    reply.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let pair = v.split(';').next()?;
        let (n, value) = pair.split_once('=')?;
        (n == name && !value.is_empty()).then(|| value.to_owned())
    })
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    html[at..].split('"').next().unwrap().to_owned()
}

fn form(path: &str, cookies: &str, body: String) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn get(path: &str, cookies: &str) -> Request<Body> {
    Request::get(path).header(header::COOKIE, cookies).body(Body::empty()).unwrap()
}

/// Posts the login form (with its double-submit cookie); the reply.
async fn try_login(world: &World, name: &str, password: &str, code: &str, next: &str) -> Reply {
    try_login_via(&world.app(), name, password, code, next).await
}

/// [`try_login`] through one router (whose login limits persist between calls).
async fn try_login_via(app: &axum::Router, name: &str, password: &str, code: &str, next: &str) -> Reply {
    let page = send_via(app, get("/admin/login", "")).await;
    assert_eq!(page.status, StatusCode::OK);
    let login = cookie_of(&page, "belfry_login").unwrap();
    let body = format!(
        "_csrf={}&name={name}&password={}&code={code}&next={}",
        csrf_of(&page.text()),
        crate::console::url_encode(password),
        crate::console::url_encode(next)
    );
    send_via(app, form("/admin/login", &format!("belfry_login={login}"), body)).await
}

#[tokio::test]
async fn login_sets_a_private_session_cookie_and_logout_everywhere_ends_every_session() {
    let world = World::with_fixtures();
    add_user(&world, "alice", Role::Editor).await;
    let first = try_login(&world, "alice", PASSWORD, "", "/admin/incidents").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    assert_eq!(first.header(header::LOCATION), Some("/admin/incidents"));
    let set = first
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session_cookie = set.iter().find(|c| c.starts_with("belfry_session=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session_cookie.contains(attribute), "{session_cookie}");
    }
    assert!(session_cookie.contains("Secure"), "the page's public URL is https: {session_cookie}");
    let one = format!("belfry_session={}", cookie_of(&first, "belfry_session").unwrap());
    let two = format!(
        "belfry_session={}",
        cookie_of(&try_login(&world, "alice", PASSWORD, "", "/admin").await, "belfry_session").unwrap()
    );
    assert_eq!(world.send(get("/admin", &one)).await.status, StatusCode::OK);

    let page = world.send(get("/admin/account", &one)).await;
    let out =
        world.send(form("/admin/logout/everywhere", &one, format!("_csrf={}", csrf_of(&page.text())))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    for session in [&one, &two] {
        assert_eq!(world.send(get("/admin", session)).await.status, StatusCode::SEE_OTHER, "ended");
    }
}

#[tokio::test]
async fn wrong_passwords_and_names_get_one_answer_and_are_limited() {
    let world = World::with_fixtures();
    add_user(&world, "alice", Role::Admin).await;
    let app = world.app();
    let unknown = try_login_via(&app, "mallory", PASSWORD, "", "/admin").await;
    let wrong = try_login_via(&app, "alice", "not the password", "", "/admin").await;
    assert_eq!((unknown.status, wrong.status), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert!(
        unknown.text().contains("Wrong name, password or code.")
            && wrong.text().contains("Wrong name, password or code.")
    );
    for _ in 0..4 {
        try_login_via(&app, "alice", "still wrong", "", "/admin").await;
    }
    let blocked = try_login_via(&app, "alice", PASSWORD, "", "/admin").await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");

    // The form's double-submit token: a login posted from elsewhere is refused.
    let forged =
        world.send(form("/admin/login", "", format!("_csrf=x&name=alice&password={PASSWORD}"))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn next_never_leaves_the_console() {
    let world = World::with_fixtures();
    add_user(&world, "alice", Role::Viewer).await;
    for next in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/status"] {
        let reply = try_login(&world, "alice", PASSWORD, "", next).await;
        assert_eq!(reply.header(header::LOCATION), Some("/admin"), "{next}");
    }
}

#[tokio::test]
async fn a_second_factor_is_enrolled_with_a_code_and_then_required() {
    let world = World::with_fixtures();
    let user = add_user(&world, "alice", Role::Viewer).await;
    let session = format!(
        "belfry_session={}",
        cookie_of(&try_login(&world, "alice", PASSWORD, "", "/admin").await, "belfry_session").unwrap()
    );
    let account = world.send(get("/admin/account", &session)).await;
    let csrf = csrf_of(&account.text());
    let started = world.send(form("/admin/account/totp", &session, format!("_csrf={csrf}"))).await;
    assert_eq!(started.status, StatusCode::OK);
    let html = started.text();
    let at = html.find("id=\"totp-secret\">").unwrap() + 17;
    let base32 = html[at..].split('<').next().unwrap().to_owned();
    let sealed =
        world.store.vault.lock().unwrap().get(&format!("totp_pending:{}", user.id)).cloned().unwrap();
    assert!(!sealed.contains(&base32), "the pending seed is sealed");
    let seed = TotpSeed::from_bytes(
        fixture_master_key().open(&format!("totp_pending:{}", user.id), &sealed).unwrap(),
    );
    assert_eq!(seed.base32(), base32);

    let wrong =
        world.send(form("/admin/account/totp/confirm", &session, format!("_csrf={csrf}&code=000000"))).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = seed.code_at(now());
    let done =
        world.send(form("/admin/account/totp/confirm", &session, format!("_csrf={csrf}&code={code}"))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert!(world.store.user(&user.id).await.unwrap().unwrap().totp);

    assert_eq!(
        try_login(&world, "alice", PASSWORD, "", "/admin").await.status,
        StatusCode::UNAUTHORIZED,
        "code needed"
    );
    assert_eq!(
        try_login(&world, "alice", PASSWORD, "123456", "/admin").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(try_login(&world, "alice", PASSWORD, &code, "/admin").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_bad_console_monitor_shows_the_validators_errors_and_changes_nothing() {
    let world = World::with_fixtures();
    add_user(&world, "ed", Role::Editor).await;
    let session = format!(
        "belfry_session={}",
        cookie_of(&try_login(&world, "ed", PASSWORD, "", "/admin").await, "belfry_session").unwrap()
    );
    let page = world.send(get("/admin/monitors/new", &session)).await;
    let csrf = csrf_of(&page.text());
    *world.runtime.console_errors.lock().unwrap() =
        Some(vec!["console:monitors/web-2:1:1: url: expected an http(s) URL <b>".to_owned()]);
    let reply = world
        .send(form(
            "/admin/monitors",
            &session,
            format!("_csrf={csrf}&id=web-2&kind=http&target=ftp%3A%2F%2Fx&interval=30s"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = reply.text();
    assert!(
        html.contains("expected an http(s) URL &#60;b&#62;")
            || html.contains("expected an http(s) URL &lt;b&gt;"),
        "escaped: {html}"
    );
    assert!(html.contains("value=\"web-2\""), "the form keeps what was typed");
    assert!(world.runtime.console_objects.lock().unwrap().iter().all(|o| o.id != "web-2"));
    let config_id = world
        .send(form(
            "/admin/monitors",
            &session,
            format!("_csrf={csrf}&id=api-http&kind=http&target=http%3A%2F%2Fx%2F"),
        ))
        .await;
    assert_eq!(config_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(config_id.text().contains("defined in the configuration file"));
}

#[tokio::test]
async fn api_writes_are_audited_with_secrets_redacted_and_probe_batches_are_not() {
    use belfry_core::auth::Scope;
    use serde_json::json;
    let world = World::with_fixtures();
    let channel = json!({"id": "pager", "kind": "webhook", "url": "https://hooks.example.test/p", "secret": "whsec-hidden"});
    let reply = world.send_json(Method::POST, "/api/v1/channels", Scope::Admin, &channel).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let log = world.store.audit_log.lock().unwrap().clone();
    let entry = log.iter().find(|e| e.object == "POST /api/v1/channels").expect("the write is audited");
    assert_eq!((entry.actor.as_str(), entry.action.as_str()), ("token:tok-admin", "api.write"));
    let after = entry.after.as_ref().unwrap().to_string();
    assert!(after.contains("pager") && !after.contains("whsec-hidden"), "{after}");

    let batch = json!({"region": "eu", "results": []});
    let reply = world.send_json(Method::POST, "/api/v1/probe/results", Scope::Probe, &batch).await;
    assert!(reply.status.is_success(), "{}", reply.text());
    let log = world.store.audit_log.lock().unwrap().clone();
    assert!(log.iter().all(|e| !e.object.contains("/probe/")), "{log:?}");
}

#[tokio::test]
async fn a_regional_monitors_page_shows_each_region_and_who_has_no_vote() {
    use belfry_core::probe::RegionView;
    use belfry_core::region::RegionSet;
    use belfry_core::{MonitorSpec, MonitorState};
    use std::sync::Arc;
    let world = World::new();
    let mut catalog = (**world.runtime.catalog.lock().unwrap()).clone();
    let api = catalog.monitors[0].as_ref().clone();
    let id = api.id.clone();
    let regions = RegionSet { names: vec!["eu".into(), "us".into()], quorum: 2 };
    catalog.monitors[0] = Arc::new(MonitorSpec { regions: Some(regions), ..api });
    *world.runtime.catalog.lock().unwrap() = Arc::new(catalog);
    world.runtime.probes.regions.lock().unwrap().insert(
        id.clone(),
        vec![
            RegionView { region: "eu".into(), state: MonitorState::Down, stale: false, last_result: None },
            RegionView { region: "us".into(), state: MonitorState::Up, stale: true, last_result: None },
        ],
    );
    add_user(&world, "vi", Role::Viewer).await;
    let session = format!(
        "belfry_session={}",
        cookie_of(&try_login(&world, "vi", PASSWORD, "", "/admin").await, "belfry_session").unwrap()
    );
    let page = world.send(get(&format!("/admin/monitors/{id}"), &session)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("down when 2 agree"), "{html}");
    assert!(html.contains("<td>eu</td><td class=\"state-down\">down"), "{html}");
    assert!(html.contains("silent: no vote"), "{html}");
}

#[tokio::test]
async fn an_editor_reorders_components_and_the_public_api_follows() {
    let world = World::with_fixtures();
    add_user(&world, "ed", Role::Editor).await;
    let session = format!(
        "belfry_session={}",
        cookie_of(&try_login(&world, "ed", PASSWORD, "", "/admin").await, "belfry_session").unwrap()
    );
    let order = |world: &World| {
        world.runtime.catalog.lock().unwrap().components.iter().map(|c| c.id.to_string()).collect::<Vec<_>>()
    };
    let before = order(&world);
    assert!(before.len() >= 2, "{before:?}");
    let page = world.send(get("/admin/components", &session)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.text());
    let second = before[1].clone();
    let moved = world
        .send(form(&format!("/admin/components/{second}/move"), &session, format!("_csrf={csrf}&dir=up")))
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text());
    let after = order(&world);
    assert_eq!((after[0].as_str(), after[1].as_str()), (before[1].as_str(), before[0].as_str()));
    let public = world.send(get("/api/v2/components.json", "")).await.json();
    let ids: Vec<String> = public["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["group"] == false)
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.iter().position(|i| *i == after[0]) < ids.iter().position(|i| *i == after[1]),
        "the public API lists {} before {}: {ids:?}",
        after[0],
        after[1]
    );
    let top = world
        .send(form(&format!("/admin/components/{second}/move"), &session, format!("_csrf={csrf}&dir=up")))
        .await;
    assert_eq!(top.status, StatusCode::SEE_OTHER, "already first: nothing to do");
    assert_eq!(order(&world), after);
    let bad = world
        .send(form(
            &format!("/admin/components/{second}/move"),
            &session,
            format!("_csrf={csrf}&dir=sideways"),
        ))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(world.store.audit_log.lock().unwrap().iter().any(|e| e.action == "components.order"));
}

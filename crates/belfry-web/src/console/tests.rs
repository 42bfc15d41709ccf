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

/// The `timeline.N.*` fields of the postmortem editor, as a browser would post them.
fn timeline_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |v: &str| {
        v.replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    };
    html.split("name=\"timeline.")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap();
            let tag = &rest[..rest.find('>').unwrap()];
            let value = match tag.split(" value=\"").nth(1) {
                Some(v) => v.split('"').next().unwrap(),
                None => rest[tag.len() + 1..].split("</textarea>").next().unwrap(),
            };
            (format!("timeline.{name}"), unescape(value))
        })
        .collect()
}

fn encode(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", crate::console::url_encode(k), crate::console::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn the_postmortem_editor_edits_adds_and_deletes_timeline_rows_without_javascript() {
    use serde_json::json;
    let world = World::with_fixtures();
    let resolved = world
        .post(
            &format!("/api/v1/incidents/{FIXTURE_INCIDENT}/updates"),
            json!({"status": "resolved", "body": "Fixed"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::CREATED, "{}", resolved.text());
    add_user(&world, "ed", Role::Editor).await;
    let session = format!(
        "belfry_session={}",
        cookie_of(&try_login(&world, "ed", PASSWORD, "", "/admin").await, "belfry_session").unwrap()
    );
    let path = format!("/admin/incidents/{FIXTURE_INCIDENT}/postmortem");
    let page = world.send(get(&path, &session)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(!html.contains("timeline_json") && !html.contains("<script"), "{html}");
    // Pre-filled from the recorded timeline, in the page's zone with its abbreviation.
    assert!(html.contains("value=\"2024-06-01 07:30:00 EDT\""), "{html}");
    let mut fields = timeline_fields(&html);
    let rows = fields.len() / 3;
    assert!(rows >= 3, "{fields:?}");
    let value = |fields: &[(String, String)], name: &str| {
        fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap()
    };
    assert_eq!(value(&fields, &format!("timeline.{}.text", rows - 1)), "", "a blank row to add one");
    assert_eq!(value(&fields, &format!("timeline.{}.at", rows - 1)), "");
    let deleted = value(&fields, "timeline.1.text");
    for (name, new) in [
        ("timeline.0.text".to_owned(), "Errors first seen <by monitoring>".to_owned()),
        ("timeline.1.text".to_owned(), String::new()),
        (format!("timeline.{}.at", rows - 1), "2024-06-01 07:45 edt".to_owned()),
        (format!("timeline.{}.text", rows - 1), "Rolled back \"v2\" & watched\r\nfor ten minutes".to_owned()),
    ] {
        fields.iter_mut().find(|(k, _)| *k == name).unwrap().1 = new;
    }
    let csrf = csrf_of(&html);
    let base = format!(
        "_csrf={csrf}&summary=A+bad+deploy&corrective_actions={}&publish=1",
        crate::console::url_encode("Add a canary | dana | 2024-07-01\nWrite a runbook | | | done")
    );

    // A time that cannot be read: 422, the reason, and everything typed is still there.
    let mut bad = fields.clone();
    bad.iter_mut().find(|(k, _)| *k == format!("timeline.{}.at", rows - 1)).unwrap().1 = "soon-ish".into();
    let rejected = world.send(form(&path, &session, format!("{base}&{}", encode(&bad)))).await;
    assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = rejected.text();
    assert!(html.contains(&format!("Timeline row {rows}: &#34;soon-ish&#34; is not a time")), "{html}");
    assert!(html.contains("value=\"soon-ish\"") && html.contains(">A bad deploy</textarea>"), "{html}");
    assert!(html.contains(">Errors first seen &#60;by monitoring&#62;</textarea>"), "{html}");
    assert!(world.store.incidents.lock().unwrap()[FIXTURE_INCIDENT].postmortem.is_none(), "nothing saved");

    let saved = world.send(form(&path, &session, format!("{base}&{}", encode(&fields)))).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let doc = world.store.incidents.lock().unwrap()[FIXTURE_INCIDENT].postmortem.clone().unwrap();
    let texts: Vec<&str> = doc.timeline.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts.len(), rows - 1, "one deleted, one added: {texts:?}");
    assert!(!texts.contains(&deleted.as_str()), "{deleted} deleted: {texts:?}");
    assert_eq!(doc.timeline[0].at, minutes_ago(30), "an unchanged time keeps its recorded instant");
    let added = doc.timeline.iter().find(|r| r.text == "Rolled back \"v2\" & watched\nfor ten minutes");
    let added = added.expect("the added row, its line break kept");
    assert_eq!(added.at, "2024-06-01T11:45:00Z".parse::<jiff::Timestamp>().unwrap());
    assert!(doc.timeline.windows(2).all(|w| w[0].at <= w[1].at), "in time order: {texts:?}");
    assert!(doc.corrective_actions[1].done, "the done column is kept");
    let log = world.store.audit_log.lock().unwrap().clone();
    let entry = log.iter().find(|e| e.action == "postmortem.save").expect("the save is audited");
    assert_eq!(
        entry.after.as_ref().unwrap()["corrective_actions"],
        json!([
            {"description": "Add a canary", "owner": "dana", "due": "2024-07-01"},
            {"description": "Write a runbook", "owner": "", "done": true},
        ]),
        "the request as the API reads it, defaults left out"
    );

    // The published postmortem shows the edited and the added row, escaped, in the page's zone.
    let public = world.send(get(&format!("/incidents/{FIXTURE_INCIDENT}"), "")).await.text();
    assert!(
        public.contains(
            "data-local>Jun 1, 2024 07:30 EDT</time></td><td>Errors first seen &#60;by monitoring&#62;</td>"
        ),
        "{public}"
    );
    assert!(
        public.contains(
            "data-local>Jun 1, 2024 07:45 EDT</time></td><td>Rolled back &#34;v2&#34; &#38; watched\nfor ten minutes</td>"
        ),
        "{public}"
    );
    // The editor shows the saved document again.
    let again = world.send(get(&path, &session)).await.text();
    assert!(again.contains("value=\"2024-06-01 07:45:00 EDT\""), "{again}");
    assert!(again.contains("Write a runbook |  |  | done"), "{again}");
}

#[tokio::test]
async fn the_maintenance_form_reads_times_in_the_page_zone_and_shows_a_rejected_form_again() {
    let world = World::with_fixtures();
    add_user(&world, "ed", Role::Editor).await;
    let session = format!(
        "belfry_session={}",
        cookie_of(&try_login(&world, "ed", PASSWORD, "", "/admin").await, "belfry_session").unwrap()
    );
    let page = world.send(get("/admin/maintenances", &session)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<label for=\"starts_at\">Starts (America/New_York)</label>"), "{html}");
    assert!(html.contains("placeholder=\"2024-06-01 08:00:00 EDT\""), "now, as a time is typed: {html}");
    let csrf = csrf_of(&html);
    let windows = || world.store.maintenances.lock().unwrap().len();
    let before = windows();
    let post = |starts: &str, ends: &str| {
        let body = format!(
            "_csrf={csrf}&name=DB+upgrade&description=Line+one%0D%0Aline+two&component=db&starts_at={}&ends_at={}",
            crate::console::url_encode(starts),
            crate::console::url_encode(ends)
        );
        world.send(form("/admin/maintenances", &session, body))
    };

    // 01:30 happens twice on 2024-11-03 in New York; 02:30 never happens on 2024-03-10.
    let rejected = post("2024-11-03 01:30", "2024-03-10 02:30").await;
    assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = rejected.text();
    assert!(html.contains("Starts: &#34;2024-11-03 01:30&#34; happens twice"), "{html}");
    assert!(html.contains("add EDT or EST to say which"), "{html}");
    assert!(html.contains("Ends: &#34;2024-03-10 02:30&#34; does not exist in this time zone"), "{html}");
    assert!(
        html.contains("value=\"2024-11-03 01:30\"") && html.contains("value=\"2024-03-10 02:30\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"DB upgrade\"") && html.contains(">Line one\nline two</textarea>"),
        "{html}"
    );
    assert!(html.contains("value=\"db\" checked>") && html.contains("value=\"api\">"), "{html}");
    assert_eq!(windows(), before, "nothing saved");

    // What the API rejects (the end before the start) shows the form again too.
    let rejected = post("2024-11-03 01:30 EST", "2024-11-03 01:00 EST").await;
    assert!(rejected.status.is_client_error(), "{}", rejected.status);
    assert!(rejected.text().contains("value=\"2024-11-03 01:00 EST\""), "{}", rejected.text());
    assert_eq!(windows(), before, "nothing saved");

    // A component id that is not one (a browser posts only those offered): 422 and why.
    let body = format!(
        "_csrf={csrf}&name=DB+upgrade&component=db&component=Not+Me&starts_at=2024-11-03T06%3A30%3A00Z&ends_at=2024-11-03T08%3A00%3A00Z"
    );
    let rejected = world.send(form("/admin/maintenances", &session, body)).await;
    assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(rejected.text().contains("&#34;Not Me&#34; may only contain a-z"), "{}", rejected.text());
    assert_eq!(windows(), before, "nothing saved");

    // The abbreviation picks the second 01:30; an RFC 3339 time is read as written.
    let saved = post("2024-11-03 01:30 est", "2024-11-03T08:00:00Z").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let window = world
        .store
        .maintenances
        .lock()
        .unwrap()
        .values()
        // Not the fixture's window of the same name (the map's order is random).
        .find(|m| m.name == "DB upgrade" && m.id != FIXTURE_MAINTENANCE)
        .cloned()
        .expect("the window");
    assert_eq!(window.starts_at, "2024-11-03T06:30:00Z".parse::<jiff::Timestamp>().unwrap());
    assert_eq!(window.ends_at, "2024-11-03T08:00:00Z".parse::<jiff::Timestamp>().unwrap());
    assert_eq!(window.description, "Line one\nline two");
    let log = world.store.audit_log.lock().unwrap().clone();
    let entry = log.iter().find(|e| e.action == "maintenance.create").expect("the create is audited");
    assert_eq!(
        entry.after,
        Some(serde_json::json!({
            "name": "DB upgrade",
            "description": "Line one\nline two",
            "components": ["db"],
            "starts_at": "2024-11-03T06:30:00Z",
            "ends_at": "2024-11-03T08:00:00Z",
        }))
    );
    let listed = world.send(get("/admin/maintenances", &session)).await.text();
    assert!(listed.contains("<td>2024-11-03 01:30:00 EST</td><td>2024-11-03 03:00:00 EST</td>"), "{listed}");
}

use axum::body::Body;
use axum::http::{Method, Request, header};
use belfry_core::auth::Scope;
use belfry_core::store::DownPeriod;
use belfry_core::{CheckResult, Clock, MonitorState};
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::fakes::*;

const STATUSPAGE_INCIDENT_KEYS: [&str; 13] = [
    "components",
    "created_at",
    "id",
    "impact",
    "incident_updates",
    "monitoring_at",
    "name",
    "page_id",
    "resolved_at",
    "shortlink",
    "started_at",
    "status",
    "updated_at",
];
const STATUSPAGE_UPDATE_KEYS: [&str; 11] = [
    "affected_components",
    "body",
    "created_at",
    "custom_tweet",
    "deliver_notifications",
    "display_at",
    "id",
    "incident_id",
    "status",
    "tweet_id",
    "updated_at",
];

fn advance(world: &World, minutes: i64) {
    world.clock.set(world.clock.now() + SignedDuration::from_mins(minutes));
}

async fn open(world: &World, body: Value) -> Value {
    let reply = world.post("/api/v1/incidents", body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

async fn update(world: &World, id: &str, body: Value) -> Value {
    let reply = world.post(&format!("/api/v1/incidents/{id}/updates"), body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

/// `/api/v2/summary.json`, `incidents.json` and `unresolved.json` at once.
async fn public(world: &World) -> (Value, Value, Value) {
    (
        world.get("/api/v2/summary.json").await.json(),
        world.get("/api/v2/incidents.json").await.json(),
        world.get("/api/v2/incidents/unresolved.json").await.json(),
    )
}

fn status_of<'a>(doc: &'a Value, component: &str) -> &'a str {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == component)
        .unwrap_or_else(|| panic!("{component} in {doc}"))["status"]
        .as_str()
        .unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect()
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    keys.sort();
    keys.dedup();
    keys
}

#[tokio::test]
async fn the_full_lifecycle_through_the_api_with_public_json_at_each_step() {
    let world = World::new();

    // Investigating: the incident sets `api` to partial outage.
    let created = open(
        &world,
        json!({"name": "Forms are slow", "status": "investigating", "impact": "major",
               "body": "We are investigating slow forms.", "components": {"api": "partial_outage"}}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 12);
    for key in STATUSPAGE_INCIDENT_KEYS {
        assert!(created.get(key).is_some(), "v1 incident lacks {key}: {created}");
    }
    assert_eq!(created["status"], "investigating");
    assert_eq!(created["published"], true);
    assert_eq!(created["auto"], Value::Null);
    assert_eq!(created["started_at"], "2024-06-01T08:00:00-04:00");
    assert_eq!(created["shortlink"], format!("https://status.acme.test/incidents/{id}"));
    let first = &created["incident_updates"][0];
    assert_eq!(first["author"], "token:tok-write");
    assert_eq!(first["body_html"], "<p>We are investigating slow forms.</p>\n");
    assert_eq!(
        first["affected_components"],
        json!([{"code": "api", "name": "Internal API", "old_status": "operational", "new_status": "partial_outage"}])
    );
    assert_eq!(created["components"][0]["id"], "api");
    assert_eq!(created["components"][0]["status"], "partial_outage");

    let (summary, all, unresolved) = public(&world).await;
    assert_eq!(status_of(&summary, "api"), "partial_outage");
    assert_eq!(status_of(&summary, "platform"), "partial_outage");
    assert_eq!(status_of(&summary, "web"), "operational");
    assert_eq!(summary["status"], json!({"indicator": "major", "description": "Partial System Outage"}));
    assert_eq!(ids(&summary["incidents"]), [id.as_str()]);
    assert_eq!(ids(&all["incidents"]), [id.as_str()]);
    assert_eq!(ids(&unresolved["incidents"]), [id.as_str()]);
    let public_incident = &summary["incidents"][0];
    assert_eq!(
        Reply::keys(public_incident),
        sorted(&STATUSPAGE_INCIDENT_KEYS),
        "v2 has exactly Statuspage's keys"
    );
    assert_eq!(
        Reply::keys(&public_incident["incident_updates"][0]),
        sorted(&STATUSPAGE_UPDATE_KEYS),
        "v2 updates have exactly Statuspage's keys"
    );

    // Identified.
    advance(&world, 10);
    let identified =
        update(&world, &id, json!({"status": "identified", "body": "A database pool is exhausted."})).await;
    assert_eq!(identified["status"], "identified");
    assert_eq!(identified["incident_updates"][0]["status"], "identified", "newest first");
    assert_eq!(identified["incident_updates"][0]["affected_components"], Value::Null);
    let (summary, _, _) = public(&world).await;
    assert_eq!(status_of(&summary, "api"), "partial_outage");
    assert_eq!(summary["incidents"][0]["status"], "identified");

    // A further update worsens it.
    advance(&world, 10);
    let worse = update(
        &world,
        &id,
        json!({"status": "identified", "body": "Still working on it.", "impact": "critical",
               "components": {"api": "major_outage"}, "notify": false}),
    )
    .await;
    assert_eq!(worse["impact"], "critical");
    assert_eq!(worse["incident_updates"][0]["deliver_notifications"], false);
    assert_eq!(worse["incident_updates"][0]["affected_components"][0]["old_status"], "partial_outage");
    let (summary, _, _) = public(&world).await;
    assert_eq!(status_of(&summary, "api"), "major_outage");
    assert_eq!(summary["status"], json!({"indicator": "critical", "description": "Major System Outage"}));

    // Monitoring: the component improves, the incident is still open and still declares its impact.
    advance(&world, 10);
    let monitoring = update(
        &world,
        &id,
        json!({"status": "monitoring", "body": "A fix is deployed.", "components": {"api": "degraded_performance"}}),
    )
    .await;
    assert_eq!(monitoring["monitoring_at"], "2024-06-01T08:30:00-04:00");
    let (summary, _, unresolved) = public(&world).await;
    assert_eq!(status_of(&summary, "api"), "degraded_performance");
    assert_eq!(summary["status"]["indicator"], "critical");
    assert_eq!(ids(&unresolved["incidents"]), [id.as_str()]);

    // Resolved: the component is restored and the incident leaves the unresolved lists.
    advance(&world, 10);
    let resolved = update(&world, &id, json!({"status": "resolved", "body": "All good."})).await;
    assert_eq!(resolved["resolved_at"], "2024-06-01T08:40:00-04:00");
    let (summary, all, unresolved) = public(&world).await;
    assert_eq!(status_of(&summary, "api"), "operational");
    assert_eq!(status_of(&summary, "platform"), "operational");
    assert_eq!(summary["status"], json!({"indicator": "none", "description": "All Systems Operational"}));
    assert_eq!(summary["incidents"], json!([]));
    assert_eq!(unresolved["incidents"], json!([]));
    assert_eq!(all["incidents"][0]["status"], "resolved");
    assert_eq!(all["incidents"][0]["incident_updates"].as_array().unwrap().len(), 5);
    let statuses: Vec<&str> = all["incidents"][0]["incident_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["resolved", "monitoring", "identified", "identified", "investigating"]);

    // Postmortem: measured facts, then the published document moves the incident to `postmortem`.
    world
        .store
        .down
        .lock()
        .unwrap()
        .insert(id_of("api-http"), vec![DownPeriod { start: minutes_ago(-5), end: Some(minutes_ago(-35)) }]);
    for (minute, region, ok) in [(-6, "eu", false), (-10, "us", false), (-20, "eu", false), (-45, "eu", true)]
    {
        world.store.results.lock().unwrap().push(result("api-http", minute, region, ok));
    }
    let draft = world.get_as(&format!("/api/v1/incidents/{id}/postmortem"), Scope::Read).await;
    assert_eq!(draft.status, 200, "{}", draft.text());
    let draft = draft.json();
    assert_eq!(draft["saved"], false);
    assert_eq!(draft["facts"]["duration_s"], 40 * 60);
    assert_eq!(draft["facts"]["monitored_downtime_s"], 30 * 60);
    assert_eq!(draft["facts"]["checks_failed"], 3);
    assert_eq!(draft["facts"]["regions"], json!(["eu", "us"]));
    assert_eq!(draft["facts"]["affected_components"], json!([["api", "Internal API"]]));
    assert!(!draft["postmortem"]["timeline"].as_array().unwrap().is_empty(), "pre-filled from the timeline");
    let markdown = draft["markdown"].as_str().unwrap();
    assert!(markdown.contains("# Postmortem: Forms are slow"), "{markdown}");
    assert!(markdown.contains("Down according to monitoring: 30 min"), "{markdown}");
    assert!(markdown.contains("EDT"), "page zone in the markdown: {markdown}");

    advance(&world, 60);
    let saved = world
        .send_json(
            Method::PUT,
            &format!("/api/v1/incidents/{id}/postmortem"),
            Scope::Write,
            &json!({
                "summary": "A pool limit was too low.",
                "impact": "Forms were slow for 40 minutes.",
                "timeline": [{"at": "2024-06-01T12:00:00Z", "text": "Alert fired"}],
                "contributing_factors": ["Pool limit of 10"],
                "stabilization_steps": ["Raised the limit"],
                "corrective_actions": [{"description": "Alert on pool saturation", "owner": "ops", "due": "2024-07-01", "done": false}],
                "publish": true
            }),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let saved = saved.json();
    assert_eq!(saved["saved"], true);
    assert_eq!(saved["published"], true);
    assert_eq!(saved["postmortem"]["corrective_actions"][0]["due"], "2024-07-01");
    let (summary, all, _) = public(&world).await;
    assert_eq!(all["incidents"][0]["status"], "postmortem");
    assert_eq!(summary["status"]["indicator"], "none");
    let detail = world.get_as(&format!("/api/v1/incidents/{id}"), Scope::Read).await.json();
    assert_eq!(detail["postmortem_published"], true);
    assert_eq!(detail["status"], "postmortem");

    // Published, the document keeps the facts measured when it was saved: raw results pruned
    // later do not change what it says.
    world.store.results.lock().unwrap().clear();
    let later = world.get_as(&format!("/api/v1/incidents/{id}/postmortem"), Scope::Read).await.json();
    assert_eq!(later["facts"]["checks_failed"], 3, "{later}");
    assert_eq!(later["facts"]["regions"], json!(["eu", "us"]));
}

fn id_of(raw: &str) -> belfry_core::MonitorId {
    belfry_core::MonitorId::parse(raw).unwrap()
}

/// A result `minutes_from_now` after the fixed now (negative: before).
fn result(monitor: &str, minutes_from_now: i64, region: &str, ok: bool) -> CheckResult {
    CheckResult {
        monitor: id_of(monitor),
        region: region.to_owned(),
        at: minutes_ago(-minutes_from_now.abs()),
        ok,
        degraded: false,
        inconclusive: false,
        duration_ms: 12,
        phases: Default::default(),
        status: Some(if ok { 200 } else { 503 }),
        ip: None,
        error: None,
        conditions: Vec::new(),
        values: Default::default(),
    }
}

#[tokio::test]
async fn resolving_restores_a_component_only_when_nothing_else_holds_it() {
    let world = World::new();
    let first = open(
        &world,
        json!({"name": "A", "status": "investigating", "impact": "minor", "body": "a",
               "components": {"api": "degraded_performance", "web": "major_outage"}}),
    )
    .await;
    let second = open(
        &world,
        json!({"name": "B", "status": "identified", "impact": "minor", "body": "b",
               "components": {"api": "partial_outage"}}),
    )
    .await;
    let (summary, _, unresolved) = public(&world).await;
    assert_eq!(status_of(&summary, "api"), "partial_outage", "the worst hold wins");
    assert_eq!(ids(&unresolved["incidents"]).len(), 2);

    // The web monitor goes down too: resolving the incident leaves what the monitor says.
    world.runtime.set_state("web-http", MonitorState::Down, minutes_ago(1));
    update(&world, second["id"].as_str().unwrap(), json!({"status": "resolved", "body": "ok"})).await;
    update(&world, first["id"].as_str().unwrap(), json!({"status": "resolved", "body": "ok"})).await;
    let (summary, _, _) = public(&world).await;
    assert_eq!(status_of(&summary, "api"), "operational");
    assert_eq!(status_of(&summary, "web"), "major_outage", "the monitor still holds it");
}

#[tokio::test]
async fn drafts_stay_off_the_public_page_until_published() {
    let world = World::new();
    let draft = open(
        &world,
        json!({"name": "Maybe", "status": "investigating", "impact": "critical", "body": "Checking",
               "components": {"web": "major_outage"}, "published": false}),
    )
    .await;
    let id = draft["id"].as_str().unwrap();
    assert_eq!(draft["published"], false);
    let (summary, all, unresolved) = public(&world).await;
    assert_eq!(status_of(&summary, "web"), "operational");
    assert_eq!(summary["status"]["indicator"], "none");
    assert_eq!(summary["incidents"], json!([]));
    assert_eq!(all["incidents"], json!([]));
    assert_eq!(unresolved["incidents"], json!([]));
    // Staff see it.
    let listed = world.get_as("/api/v1/incidents?unresolved=true", Scope::Read).await.json();
    assert_eq!(ids(&listed["incidents"]), [id]);

    let published = world.post(&format!("/api/v1/incidents/{id}/publish"), json!(null)).await;
    assert_eq!(published.status, 200, "{}", published.text());
    assert_eq!(published.json()["published"], true);
    let (summary, _, unresolved) = public(&world).await;
    assert_eq!(status_of(&summary, "web"), "major_outage");
    assert_eq!(summary["status"]["indicator"], "critical");
    assert_eq!(ids(&unresolved["incidents"]), [id]);
    let timeline = world.get_as(&format!("/api/v1/incidents/{id}/timeline"), Scope::Read).await.json();
    let kinds: Vec<&str> =
        timeline["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"published"), "{kinds:?}");
}

#[tokio::test]
async fn a_back_dated_edit_keeps_the_previous_version_and_moves_the_start() {
    let world = World::new();
    let created = open(
        &world,
        json!({"name": "X", "status": "investigating", "impact": "minor", "body": "First text"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let update_id = created["incident_updates"][0]["id"].as_str().unwrap();
    advance(&world, 5);
    let reply = world
        .send_json(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}/updates/{update_id}"),
            Scope::Write,
            &json!({"body": "Corrected text", "display_at": "2024-06-01T11:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let edited = reply.json();
    let u = &edited["incident_updates"][0];
    assert_eq!(u["body"], "Corrected text");
    assert_eq!(u["display_at"], "2024-06-01T07:00:00-04:00");
    assert_eq!(u["created_at"], "2024-06-01T08:00:00-04:00", "the posting time stays");
    assert_eq!(u["updated_at"], "2024-06-01T08:05:00-04:00");
    assert_eq!(u["edits"][0]["previous_body"], "First text");
    assert_eq!(u["edits"][0]["author"], "token:tok-write");
    assert_eq!(edited["started_at"], "2024-06-01T07:00:00-04:00");

    let timeline = world.get_as(&format!("/api/v1/incidents/{id}/timeline"), Scope::Read).await.json();
    let last = timeline["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "update_edited");
    assert_eq!(last["author"], "token:tok-write");
    assert_eq!(last["at"], "2024-06-01T12:05:00Z", "timelines are UTC");
    assert_eq!(last["local"], "2024-06-01 08:05:00 EDT");

    let missing = world
        .send_json(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}/updates/nope"),
            Scope::Write,
            &json!({"body": "x"}),
        )
        .await;
    assert_eq!(missing.status, 404);
    let empty = world
        .send_json(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}/updates/{update_id}"),
            Scope::Write,
            &json!({}),
        )
        .await;
    assert_eq!(empty.status, 422);
}

#[tokio::test]
async fn xss_in_markdown_is_neutralised_in_body_html() {
    let world = World::new();
    let body = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3)) **bold**\n\n<a href=\"javascript:alert(4)\" onclick=\"alert(5)\">x</a>";
    let created =
        open(&world, json!({"name": "XSS", "status": "investigating", "impact": "none", "body": body})).await;
    let html = created["incident_updates"][0]["body_html"].as_str().unwrap().to_ascii_lowercase();
    for bad in ["<script", "onerror", "onclick", "javascript:"] {
        assert!(!html.contains(bad), "{bad} survived: {html}");
    }
    assert!(html.contains("<strong>bold</strong>"), "{html}");
}

#[tokio::test]
async fn notes_join_the_timeline() {
    let world = World::with_fixtures();
    let path = format!("/api/v1/incidents/{FIXTURE_INCIDENT}/notes");
    let reply = world.post(&path, json!({"text": "Called the vendor"})).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["kind"], "note");
    assert_eq!(world.post(&path, json!({"text": "  "})).await.status, 422);
    assert_eq!(world.post("/api/v1/incidents/nope/notes", json!({"text": "x"})).await.status, 404);
    let timeline =
        world.get_as(&format!("/api/v1/incidents/{FIXTURE_INCIDENT}/timeline"), Scope::Read).await.json();
    let entries = timeline["entries"].as_array().unwrap();
    assert_eq!(timeline["time_zone"], "America/New_York");
    assert_eq!(entries[0]["kind"], "opened");
    assert_eq!(entries.last().unwrap()["text"], "Called the vendor");
}

#[tokio::test]
async fn bad_inputs_are_4xx_json() {
    let world = World::with_fixtures();
    let base = json!({"name": "X", "status": "investigating", "impact": "minor", "body": "b"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (with("components", json!({"nope": "major_outage"})), 422, "invalid_input"),
        (with("components", json!({"api": "under_maintenance"})), 422, "invalid_input"),
        (with("components", json!({"api": "broken"})), 422, "invalid_json"),
        (with("components", json!({"Not An Id!": "major_outage"})), 422, "invalid_json"),
        (with("status", json!("postmortem")), 422, "invalid_input"),
        (with("status", json!("exploded")), 422, "invalid_json"),
        (with("impact", json!("huge")), 422, "invalid_json"),
        (with("name", json!("   ")), 422, "invalid_input"),
        (with("body", json!("")), 422, "invalid_input"),
        (with("display_at", json!("yesterday")), 422, "invalid_json"),
        (with("display_at", json!("2030-01-01T00:00:00Z")), 422, "invalid_input"),
        (with("surprise", json!(true)), 422, "invalid_json"),
        (json!({"name": "X"}), 422, "invalid_json"),
    ];
    for (body, status, code) in cases {
        let reply = world.post("/api/v1/incidents", body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text());
        assert_eq!(reply.error_code(), code, "{body}");
    }

    let malformed = Request::post("/api/v1/incidents")
        .header(header::AUTHORIZATION, format!("Bearer {}", secret(Scope::Write)))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let reply = world.send(malformed).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "invalid_json");

    let updates = format!("/api/v1/incidents/{FIXTURE_INCIDENT}/updates");
    assert_eq!(world.post(&updates, json!({"status": "identified"})).await.status, 422);
    assert_eq!(
        world
            .post("/api/v1/incidents/nope/updates", json!({"status": "identified", "body": "b"}))
            .await
            .status,
        404
    );
    let early = world.post(&updates, json!({"status": "postmortem", "body": "b"})).await;
    assert_eq!((early.status.as_u16(), early.error_code().as_str()), (422, "invalid_input"));

    let publish_open = world
        .send_json(
            Method::PUT,
            &format!("/api/v1/incidents/{FIXTURE_INCIDENT}/postmortem"),
            Scope::Write,
            &json!({"summary": "s", "publish": true}),
        )
        .await;
    assert_eq!(publish_open.status, 422, "an unresolved incident cannot publish a postmortem");
    assert_eq!(world.get_as("/api/v1/incidents?limit=0", Scope::Read).await.status, 400);
    assert_eq!(world.get_as("/api/v1/incidents?unresolved=maybe", Scope::Read).await.status, 400);
    assert_eq!(world.get_as("/api/v1/incidents/nope", Scope::Read).await.error_code(), "not_found");
}

#[tokio::test]
async fn a_concurrent_change_is_retried_once_then_409() {
    let world = World::with_fixtures();
    let path = format!("/api/v1/incidents/{FIXTURE_INCIDENT}/updates");
    *world.store.conflicts.lock().unwrap() = 1;
    let reply = world.post(&path, json!({"status": "identified", "body": "retried"})).await;
    assert_eq!(reply.status, 201, "one conflict is retried: {}", reply.text());
    assert_eq!(reply.json()["version"], 2);

    *world.store.conflicts.lock().unwrap() = 2;
    let reply = world.post(&path, json!({"status": "monitoring", "body": "conflicted"})).await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.error_code(), "conflict");
    let stored = world.get_as(&format!("/api/v1/incidents/{FIXTURE_INCIDENT}"), Scope::Read).await.json();
    assert_eq!(stored["status"], "identified", "nothing was saved");
}

#[tokio::test]
async fn store_errors_are_503() {
    let world = World::with_fixtures();
    *world.store.failing_data.lock().unwrap() = Some("disk full".to_owned());
    let reply = world.get_as("/api/v1/incidents", Scope::Read).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.error_code(), "store_unavailable");
    let reply = world.get("/api/v2/summary.json").await;
    assert_eq!(reply.status, 503);
}

use axum::http::Method;
use belfry_core::Clock;
use belfry_core::auth::Scope;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::fakes::*;

fn at(raw: &str) -> Timestamp {
    raw.parse().unwrap()
}

async fn create(world: &World, body: Value) -> Value {
    let reply = world.post("/api/v1/maintenances", body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

async fn patch(world: &World, id: &str, body: Value) -> Reply {
    world.send_json(Method::PATCH, &format!("/api/v1/maintenances/{id}"), Scope::Write, &body).await
}

fn status_of<'a>(doc: &'a Value, component: &str) -> &'a str {
    doc["components"].as_array().unwrap().iter().find(|c| c["id"] == component).unwrap()["status"]
        .as_str()
        .unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect()
}

/// summary, upcoming and active.
async fn public(world: &World) -> (Value, Value, Value) {
    (
        world.get("/api/v2/summary.json").await.json(),
        world.get("/api/v2/scheduled-maintenances/upcoming.json").await.json()["scheduled_maintenances"]
            .clone(),
        world.get("/api/v2/scheduled-maintenances/active.json").await.json()["scheduled_maintenances"]
            .clone(),
    )
}

#[tokio::test]
async fn a_window_moves_components_to_maintenance_only_while_it_is_open() {
    let world = World::new();
    let created = create(
        &world,
        json!({"name": "Database upgrade", "description": "Upgrading to **16**.", "components": ["db"],
               "starts_at": "2024-06-01T13:00:00Z", "ends_at": "2024-06-01T14:00:00Z"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["status"], "scheduled");
    assert_eq!(created["impact"], "maintenance");
    assert_eq!(created["scheduled_for"], "2024-06-01T09:00:00-04:00");
    assert_eq!(created["scheduled_until"], "2024-06-01T10:00:00-04:00");
    assert_eq!(created["time_zone"], "America/New_York", "the page's zone by default");
    assert_eq!(created["description_html"], "<p>Upgrading to <strong>16</strong>.</p>\n");
    assert_eq!(created["incident_updates"][0]["status"], "scheduled");

    // Before: scheduled, nothing under maintenance.
    let (summary, upcoming, active) = public(&world).await;
    assert_eq!(status_of(&summary, "db"), "operational");
    assert_eq!(ids(&upcoming), [id.as_str()]);
    assert_eq!(active, json!([]));
    assert_eq!(ids(&summary["scheduled_maintenances"]), [id.as_str()]);
    assert_eq!(summary["status"]["description"], "All Systems Operational");
    let public_doc = &upcoming[0];
    for key in ["scheduled_for", "scheduled_until", "incident_updates", "shortlink", "page_id", "components"]
    {
        assert!(public_doc.get(key).is_some(), "{key} missing from {public_doc}");
    }
    assert!(public_doc.get("description").is_none(), "no staff keys in v2");

    // Inside: in progress, the component under maintenance, the page says so.
    world.clock.set(at("2024-06-01T13:30:00Z"));
    let (summary, upcoming, active) = public(&world).await;
    assert_eq!(status_of(&summary, "db"), "under_maintenance");
    assert_eq!(status_of(&summary, "platform"), "operational", "api is not under maintenance");
    assert_eq!(summary["status"], json!({"indicator": "none", "description": "Service Under Maintenance"}));
    assert_eq!(upcoming, json!([]));
    assert_eq!(ids(&active), [id.as_str()]);
    assert_eq!(active[0]["status"], "in_progress");
    let newest = &active[0]["incident_updates"][0];
    assert_eq!(newest["status"], "in_progress");
    assert_eq!(newest["affected_components"][0]["new_status"], "under_maintenance");

    // Verifying by hand: still active.
    let reply = patch(&world, &id, json!({"status": "verifying"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["status"], "verifying");
    let (summary, _, active) = public(&world).await;
    assert_eq!(active[0]["status"], "verifying");
    assert_eq!(status_of(&summary, "db"), "under_maintenance");

    // An incident declaring an outage during the window shows through it.
    let incident = world
        .post(
            "/api/v1/incidents",
            json!({"name": "DB down", "status": "investigating", "impact": "major", "body": "b",
                   "components": {"db": "major_outage"}}),
        )
        .await;
    assert_eq!(incident.status, 201);
    assert_eq!(status_of(&world.get("/api/v2/components.json").await.json(), "db"), "major_outage");
    let incident_id = incident.json()["id"].as_str().unwrap().to_owned();
    world
        .post(
            &format!("/api/v1/incidents/{incident_id}/updates"),
            json!({"status": "resolved", "body": "ok"}),
        )
        .await;

    // After: completed, the component back, listed only among all maintenances.
    world.clock.set(at("2024-06-01T14:00:00Z"));
    let (summary, upcoming, active) = public(&world).await;
    assert_eq!(status_of(&summary, "db"), "operational");
    assert_eq!(summary["scheduled_maintenances"], json!([]));
    assert_eq!((upcoming, active), (json!([]), json!([])));
    let all = world.get("/api/v2/scheduled-maintenances.json").await.json();
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed");
    assert_eq!(all["scheduled_maintenances"][0]["resolved_at"], "2024-06-01T10:00:00-04:00");

    let late = patch(&world, &id, json!({"status": "verifying"})).await;
    assert_eq!(late.status, 422, "no occurrence under way");
    assert_eq!(late.error_code(), "invalid_input");
}

#[tokio::test]
async fn a_recurring_window_shows_its_current_or_next_occurrence() {
    let world = World::new();
    let created = create(
        &world,
        json!({"name": "Nightly", "components": ["web"], "rrule": "FREQ=DAILY;COUNT=3",
               "starts_at": "2024-06-01T11:00:00Z", "ends_at": "2024-06-01T13:00:00Z", "time_zone": "UTC"}),
    )
    .await;
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["rrule"], "FREQ=DAILY;COUNT=3");
    world.clock.set(at("2024-06-01T14:00:00Z"));
    let (summary, upcoming, _) = public(&world).await;
    assert_eq!(status_of(&summary, "web"), "operational");
    assert_eq!(upcoming[0]["scheduled_for"], "2024-06-02T07:00:00-04:00");
    world.clock.set(at("2024-06-03T12:00:00Z"));
    assert_eq!(status_of(&world.get("/api/v2/components.json").await.json(), "web"), "under_maintenance");
    world.clock.set(at("2024-06-04T12:00:00Z"));
    let all = world.get("/api/v2/scheduled-maintenances.json").await.json();
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed");
    assert_eq!(all["scheduled_maintenances"][0]["scheduled_for"], "2024-06-03T07:00:00-04:00");
}

#[tokio::test]
async fn read_update_and_delete() {
    let world = World::with_fixtures();
    let path = format!("/api/v1/maintenances/{FIXTURE_MAINTENANCE}");
    let list = world.get_as("/api/v1/maintenances", Scope::Read).await;
    assert_eq!(list.status, 200);
    assert_eq!(ids(&list.json()["maintenances"]), [FIXTURE_MAINTENANCE]);
    let one = world.get_as(&path, Scope::Read).await.json();
    assert_eq!(one["name"], "DB upgrade");
    assert_eq!(one["component_ids"], json!(["db"]));

    let renamed = patch(
        &world,
        FIXTURE_MAINTENANCE,
        json!({"name": "Bigger upgrade", "components": ["db", "api"], "rrule": "FREQ=WEEKLY;COUNT=2"}),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let renamed = renamed.json();
    assert_eq!(renamed["name"], "Bigger upgrade");
    assert_eq!(renamed["component_ids"], json!(["api", "db"]));
    assert_eq!(renamed["version"], 2);
    let cleared = patch(&world, FIXTURE_MAINTENANCE, json!({"rrule": null})).await.json();
    assert_eq!(cleared["rrule"], Value::Null);

    *world.store.conflicts.lock().unwrap() = 2;
    let conflict = patch(&world, FIXTURE_MAINTENANCE, json!({"name": "x"})).await;
    assert_eq!(conflict.status, 409);

    let deleted = world.send(request(Method::DELETE, &path, Some(&secret(Scope::Write)))).await;
    assert_eq!(deleted.status, 204);
    let again = world.send(request(Method::DELETE, &path, Some(&secret(Scope::Write)))).await;
    assert_eq!(again.status, 404);
    assert_eq!(world.get_as(&path, Scope::Read).await.status, 404);
}

#[tokio::test]
async fn bad_windows_are_422() {
    let world = World::with_fixtures();
    let base = json!({"name": "W", "components": ["db"],
                      "starts_at": "2024-06-02T00:00:00Z", "ends_at": "2024-06-02T01:00:00Z"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (with("components", json!(["nope"])), "invalid_input"),
        (with("ends_at", json!("2024-06-01T00:00:00Z")), "invalid_input"),
        (with("rrule", json!("FREQ=SOMETIMES")), "invalid_input"),
        (with("rrule", json!("FREQ=DAILY\r\nX-INJECTED:1")), "invalid_input"),
        (with("time_zone", json!("Mars/Olympus")), "invalid_input"),
        (with("name", json!(" ")), "invalid_input"),
        (with("starts_at", json!("soon")), "invalid_json"),
        (with("colour", json!("red")), "invalid_json"),
    ];
    for (body, code) in cases {
        let reply = world.post("/api/v1/maintenances", body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.error_code(), code, "{body}");
    }
    let scheduled = patch(&world, FIXTURE_MAINTENANCE, json!({"status": "scheduled"})).await;
    assert_eq!(scheduled.status, 422);
    assert_eq!(patch(&world, "nope", json!({"name": "x"})).await.status, 404);
    assert_eq!(world.get_as("/api/v1/maintenances?since=later", Scope::Read).await.status, 400);
    assert!(world.clock.now() < at("2024-06-02T02:00:00Z"));
}

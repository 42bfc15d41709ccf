use axum::http::header;
use belfry_core::MonitorState;
use serde_json::{Value, json};

use crate::fakes::*;

const PAGE_KEYS: [&str; 5] = ["id", "name", "time_zone", "updated_at", "url"];
const COMPONENT_KEYS: [&str; 13] = [
    "created_at",
    "description",
    "group",
    "group_id",
    "id",
    "name",
    "only_show_if_degraded",
    "page_id",
    "position",
    "showcase",
    "start_date",
    "status",
    "updated_at",
];

fn component<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["components"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id}"))
}

fn assert_page(doc: &Value) {
    assert_eq!(Reply::keys(&doc["page"]), PAGE_KEYS);
    assert_eq!(doc["page"]["id"], "acme-status");
    assert_eq!(doc["page"]["name"], "Acme Status");
    assert_eq!(doc["page"]["url"], "https://status.acme.test");
    assert_eq!(doc["page"]["time_zone"], "America/New_York");
    // The newest state change (an hour before 12:00 UTC), in the page's zone with its offset.
    assert_eq!(doc["page"]["updated_at"], "2024-06-01T07:00:00-04:00");
}

#[tokio::test]
async fn status_json_has_page_and_indicator() {
    let world = World::new();
    let reply = world.get("/api/v2/status.json").await;
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert_eq!(Reply::keys(&doc), ["page", "status"]);
    assert_page(&doc);
    assert_eq!(doc["status"], json!({"indicator": "none", "description": "All Systems Operational"}));
}

#[tokio::test]
async fn summary_json_has_every_statuspage_key() {
    let world = World::new();
    let doc = world.get("/api/v2/summary.json").await.json();
    assert_eq!(Reply::keys(&doc), ["components", "incidents", "page", "scheduled_maintenances", "status"]);
    assert_page(&doc);
    assert_eq!(doc["incidents"], json!([]));
    assert_eq!(doc["scheduled_maintenances"], json!([]));
    assert_eq!(doc["status"]["indicator"], "none");
    let ids: Vec<&str> =
        doc["components"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    // The group sits where its first member is, followed by its children; then the rest.
    assert_eq!(ids, ["platform", "api", "db", "web", "docs"]);
}

#[tokio::test]
async fn components_json_lists_groups_with_their_children() {
    let world = World::new();
    let doc = world.get("/api/v2/components.json").await.json();
    assert_eq!(Reply::keys(&doc), ["components", "page"]);

    let api = component(&doc, "api");
    assert_eq!(Reply::keys(api), COMPONENT_KEYS);
    assert_eq!(api["name"], "Internal API");
    assert_eq!(api["status"], "operational");
    assert_eq!(api["group"], false);
    assert_eq!(api["group_id"], "platform");
    assert_eq!(api["page_id"], "acme-status");
    assert_eq!(api["position"], 1);
    assert_eq!(api["description"], Value::Null);
    assert_eq!(api["start_date"], Value::Null);
    assert_eq!(api["only_show_if_degraded"], false);
    assert_eq!(api["updated_at"], "2024-06-01T07:00:00-04:00");
    assert_eq!(component(&doc, "db")["position"], 2);

    let group = component(&doc, "platform");
    let mut keys = COMPONENT_KEYS.map(str::to_owned).to_vec();
    keys.push("components".to_owned());
    keys.sort();
    assert_eq!(Reply::keys(group), keys);
    assert_eq!(group["group"], true);
    assert_eq!(group["group_id"], Value::Null);
    assert_eq!(group["name"], "Platform");
    assert_eq!(group["components"], json!(["api", "db"]));
    assert_eq!(group["position"], 1);

    let web = component(&doc, "web");
    assert_eq!(web["group_id"], Value::Null);
    assert_eq!(web["position"], 2);
    assert!(web.get("components").is_none());
    // A component without monitors is operational and as fresh as the page.
    assert_eq!(component(&doc, "docs")["status"], "operational");
}

#[tokio::test]
async fn a_down_monitor_sets_its_declared_impact_and_the_indicator() {
    let world = World::new();
    world.runtime.set_state("db-tcp", MonitorState::Down, minutes_ago(5));
    let doc = world.get("/api/v2/summary.json").await.json();
    assert_eq!(component(&doc, "db")["status"], "partial_outage");
    assert_eq!(component(&doc, "db")["updated_at"], "2024-06-01T07:55:00-04:00");
    assert_eq!(component(&doc, "platform")["status"], "partial_outage");
    assert_eq!(component(&doc, "api")["status"], "operational");
    assert_eq!(doc["status"], json!({"indicator": "major", "description": "Partial System Outage"}));
    assert_eq!(doc["page"]["updated_at"], "2024-06-01T07:55:00-04:00");

    world.runtime.set_state("web-http", MonitorState::Down, minutes_ago(1));
    let doc = world.get("/api/v2/status.json").await.json();
    assert_eq!(doc["status"]["indicator"], "critical");
}

#[tokio::test]
async fn a_suspected_monitor_leaves_its_component_operational() {
    let world = World::new();
    world.runtime.set_state("api-http", MonitorState::Suspected, minutes_ago(1));
    let doc = world.get("/api/v2/summary.json").await.json();
    assert_eq!(component(&doc, "api")["status"], "operational");
    assert_eq!(component(&doc, "platform")["status"], "operational");
    assert_eq!(doc["status"]["indicator"], "none");
}

#[tokio::test]
async fn degraded_and_maintenance_use_statuspage_enums() {
    let world = World::with_fixtures();
    world.store.incidents.lock().unwrap().clear();
    world.runtime.set_state("web-http", MonitorState::Degraded, minutes_ago(2));
    world.runtime.set_state("api-http", MonitorState::Maintenance, minutes_ago(2));
    let doc = world.get("/api/v2/components.json").await.json();
    assert_eq!(component(&doc, "web")["status"], "degraded_performance");
    // Monitors in maintenance without an open window (it just ended): what the rest says.
    assert_eq!(component(&doc, "api")["status"], "operational");

    // Inside the fixture window on `db`.
    world.clock.set("2024-06-02T02:30:00Z".parse().unwrap());
    let doc = world.get("/api/v2/summary.json").await.json();
    assert_eq!(component(&doc, "db")["status"], "under_maintenance");
    // One child in maintenance, the other fine: the group is not under maintenance.
    assert_eq!(component(&doc, "platform")["status"], "operational");
    assert_eq!(doc["status"], json!({"indicator": "minor", "description": "Partially Degraded Service"}));
    assert_eq!(doc["scheduled_maintenances"][0]["id"], FIXTURE_MAINTENANCE);
}

#[tokio::test]
async fn an_incident_declares_its_impact_even_when_components_look_fine() {
    let world = World::with_fixtures();
    // The fixture incident (impact major) holds `api` at partial outage; without the hold the
    // indicator still follows the declared impact.
    let doc = world.get("/api/v2/status.json").await.json();
    assert_eq!(doc["status"], json!({"indicator": "major", "description": "Partial System Outage"}));
    world.store.incidents.lock().unwrap().values_mut().for_each(|i| i.components.clear());
    let doc = world.get("/api/v2/status.json").await.json();
    assert_eq!(doc["status"], json!({"indicator": "major", "description": "Major Service Outage"}));
    let summary = world.get("/api/v2/summary.json").await.json();
    assert_eq!(component(&summary, "api")["status"], "operational");
    assert_eq!(summary["incidents"][0]["id"], FIXTURE_INCIDENT);
    assert_eq!(summary["incidents"][0]["components"], json!([]));
}

#[tokio::test]
async fn incident_and_maintenance_lists_have_their_wrappers() {
    let world = World::new();
    for (path, key) in [
        ("/api/v2/incidents.json", "incidents"),
        ("/api/v2/incidents/unresolved.json", "incidents"),
        ("/api/v2/scheduled-maintenances.json", "scheduled_maintenances"),
        ("/api/v2/scheduled-maintenances/upcoming.json", "scheduled_maintenances"),
        ("/api/v2/scheduled-maintenances/active.json", "scheduled_maintenances"),
    ] {
        let reply = world.get(path).await;
        assert_eq!(reply.status, 200, "{path}");
        let doc = reply.json();
        let mut expected = vec!["page", key];
        expected.sort();
        assert_eq!(Reply::keys(&doc), expected, "{path}");
        assert_page(&doc);
        assert_eq!(doc[key], json!([]), "{path}");
    }
}

#[tokio::test]
async fn v2_is_readable_from_any_origin_and_never_cached_stale() {
    let world = World::new();
    let req = axum::http::Request::get("/api/v2/summary.json")
        .header(header::ORIGIN, "https://widget.example")
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = world.send(req).await;
    assert_eq!(reply.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("public, no-cache"));
    assert_eq!(reply.header(header::CONTENT_TYPE), Some("application/json"));

    let preflight = axum::http::Request::options("/api/v2/status.json")
        .header(header::ORIGIN, "https://widget.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = world.send(preflight).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

#[tokio::test]
async fn the_page_id_is_a_stable_slug_and_an_unknown_zone_falls_back_to_utc() {
    let world = World::new();
    {
        let mut catalog = (*world.runtime.catalog.lock().unwrap()).as_ref().clone();
        catalog.page.title = "  Ünïcode & Co. Status!! ".to_owned();
        catalog.page.time_zone = "Mars/Olympus_Mons".to_owned();
        catalog.page.public_url = None;
        *world.runtime.catalog.lock().unwrap() = std::sync::Arc::new(catalog);
    }
    let doc = world.get("/api/v2/status.json").await.json();
    assert_eq!(doc["page"]["id"], "n-code-co-status");
    assert_eq!(doc["page"]["url"], "");
    assert_eq!(doc["page"]["updated_at"], "2024-06-01T11:00:00+00:00");
}

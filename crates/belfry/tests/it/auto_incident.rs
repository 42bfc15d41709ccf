//! Automatic incidents through the real binary in real time: a monitor going down opens one,
//! a flap attaches to it, recovery is timed from the records and the quiet period resolves it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{monitor_state, token};
use crate::support::{Server, Target, eventually, get_json, send_json, write};

/// Generous: each wait is a few one-second checks plus the desk's one-second step.
const LIMIT: Duration = Duration::from_secs(60);

fn config(target: &Target, incident: &str) -> String {
    format!(
        r#"
page: {{title: Acme Status, time_zone: America/New_York}}
components: [{{id: api, name: Internal API}}]
monitors:
  - {{id: api-http, name: Internal API, kind: http, component: api, url: "{}", interval: 1s,
     timeout: 2s, failure: {{threshold: 2}}, recovery: {{threshold: 2}}, impact: major_outage,
     incident: {incident}}}
"#,
        target.url("/health")
    )
}

/// A server on `config`, with a read token made before it starts; and the config's path.
fn start(dir: &std::path::Path, config: &str) -> (Server, String, String) {
    let cfg = write(dir, "belfry.yaml", config);
    let read = token(dir, &cfg, "read");
    (Server::start(dir, &["--config", &cfg, "--data", "data"]), read, cfg)
}

/// `GET /api/v1/incidents` (staff: drafts included), newest first.
async fn staff_incidents(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = get_json(&server.url("/api/v1/incidents"), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body["incidents"].as_array().unwrap().clone()
}

/// The public list at `path` (`/api/v2/incidents.json` or `…/unresolved.json`).
async fn public_incidents(server: &Server, path: &str) -> Vec<Value> {
    let (status, body) = get_json(&server.url(path), None).await;
    assert_eq!(status, 200, "{body}");
    body["incidents"].as_array().unwrap().clone()
}

/// Waits until the public list at `path` shows exactly the incidents `ids` with `status` (the
/// public JSON is rebuilt just after the desk's change), and returns it.
async fn public_showing(server: &Server, path: &str, ids: &[&str], status: &str) -> Vec<Value> {
    eventually(&format!("{path} showing {ids:?} {status}"), LIMIT, || async {
        let listed = public_incidents(server, path).await;
        let shown: Vec<&str> = listed.iter().filter_map(|i| i["id"].as_str()).collect();
        (shown == ids && listed.iter().all(|i| i["status"] == status)).then_some(listed)
    })
    .await
}

/// Waits until the only incident has `status`, and returns it.
async fn only_incident_with(server: &Server, token: &str, status: &str) -> Value {
    eventually(&format!("the incident {status}"), LIMIT, || async {
        let all = staff_incidents(server, token).await;
        assert!(all.len() <= 1, "one incident only: {all:#?}");
        all.into_iter().next().filter(|i| i["status"] == status)
    })
    .await
}

async fn wait_state(server: &Server, token: &str, state: &str) {
    eventually(&format!("api-http {state}"), LIMIT, || async {
        (monitor_state(server, token, "api-http").await.0 == state).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_monitor_going_down_opens_one_incident_that_flaps_recover_and_resolve() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (server, read, _) = start(dir.path(), &config(&target, "{mode: auto, resolve_after: 8s}"));
    wait_state(&server, &read, "up").await;
    assert!(staff_incidents(&server, &read).await.is_empty());

    // Down: an incident opens, public at once and holding the component.
    target.set_status(503);
    let opened = only_incident_with(&server, &read, "investigating").await;
    let id = opened["id"].as_str().unwrap().to_owned();
    assert_eq!(opened["name"], "Internal API went down");
    assert_eq!(opened["published"], true);
    assert_eq!(opened["impact"], "critical", "a major outage is critical");
    for path in ["/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"] {
        let listed = public_showing(&server, path, &[&id], "investigating").await;
        let components: Vec<&Value> =
            listed[0]["components"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
        assert_eq!(components, ["api"], "{path}");
    }

    // Up (two passing checks): monitoring. Down again before the quiet period: the same
    // incident goes back to investigating.
    target.set_status(200);
    only_incident_with(&server, &read, "monitoring").await;
    target.set_status(503);
    let flapped = only_incident_with(&server, &read, "investigating").await;
    assert_eq!(flapped["id"], id.as_str(), "the flap attached to the open incident");
    let bodies: Vec<&str> =
        flapped["incident_updates"].as_array().unwrap().iter().map(|u| u["body"].as_str().unwrap()).collect();
    assert!(bodies.iter().any(|b| b.starts_with("Internal API went down again")), "{bodies:#?}");

    // Up for good: monitoring, then resolved once up for the quiet period.
    target.set_status(200);
    let resolved = only_incident_with(&server, &read, "resolved").await;
    assert_eq!(resolved["id"], id.as_str());
    public_showing(&server, "/api/v2/incidents/unresolved.json", &[], "resolved").await;
    public_showing(&server, "/api/v2/incidents.json", &[&id], "resolved").await;

    // The timeline: every transition of the monitor with its failing results, and the
    // recovery timed from the records.
    let (status, timeline) =
        get_json(&server.url(&format!("/api/v1/incidents/{id}/timeline")), Some(&read)).await;
    assert_eq!(status, 200, "{timeline}");
    let entries = timeline["entries"].as_array().unwrap();
    let monitor: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "monitor").collect();
    let moves: Vec<&str> = monitor.iter().map(|e| e["data"]["to"].as_str().unwrap()).collect();
    assert_eq!(moves, ["down", "up", "suspected", "down", "up"], "{timeline:#}");
    for down in monitor.iter().filter(|e| e["data"]["to"] == "down") {
        let text = down["text"].as_str().unwrap();
        assert!(text.starts_with("Monitor api-http ") && text.contains("(503)"), "{text}");
        let results = down["data"]["results"].as_array().unwrap();
        assert!(!results.is_empty() && results.iter().any(|r| r["ok"] == false), "{down:#}");
    }
    let recovered: Vec<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "update")
        .filter_map(|e| e["text"].as_str())
        .filter(|t| t.contains("recovered after"))
        .collect();
    assert_eq!(recovered.len(), 2, "one per recovery: {timeline:#}");
    for text in recovered {
        let after = text.split("recovered after ").nth(1).unwrap();
        assert!(after.starts_with(|c: char| c.is_ascii_digit()), "a computed duration: {text}");
        assert!(after.contains(" according to monitoring"), "{text}");
    }
    let times: Vec<jiff::Timestamp> =
        entries.iter().map(|e| e["at"].as_str().unwrap().parse().unwrap()).collect();
    assert!(times.is_sorted(), "in time order: {timeline:#}");
}

#[tokio::test]
async fn a_draft_incident_stays_off_the_public_lists() {
    let target = Target::start().await;
    target.set_status(503);
    let dir = tempfile::tempdir().unwrap();
    let (server, read, cfg) = start(dir.path(), &config(&target, "draft"));
    let write_token = token(dir.path(), &cfg, "write");
    let draft = eventually("a draft incident", LIMIT, || async {
        staff_incidents(&server, &read).await.into_iter().next()
    })
    .await;
    assert_eq!(draft["name"], "Internal API went down");
    assert_eq!(draft["published"], false);
    assert_eq!(draft["status"], "investigating");

    // An incident posted after the draft: once the public lists show it, they were built
    // with the draft in the store, and still leave it out.
    let manual =
        json!({"name": "Slow logins", "status": "investigating", "impact": "minor", "body": "Looking."});
    let (code, posted) =
        send_json("POST", &server.url("/api/v1/incidents"), Some(&write_token), &manual).await;
    assert_eq!(code, 201, "{posted}");
    let posted = posted["id"].as_str().unwrap();
    for path in ["/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"] {
        public_showing(&server, path, &[posted], "investigating").await;
    }
    assert_eq!(staff_incidents(&server, &read).await.len(), 2, "staff see both");
}

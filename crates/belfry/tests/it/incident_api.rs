//! The incident lifecycle through the real binary's API, as an on-call person drives it.

use serde_json::{Value, json};

use crate::support::{Server, get_json, send_json, write};

fn token(dir: &std::path::Path, config: &str, scope: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", scope, "--config", config, "--data", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

const CONFIG: &str = r#"
page: {title: Acme Status, time_zone: America/New_York}
components:
  - {id: forms, name: Patient forms, group: Platform}
  - {id: video, name: Telehealth video, group: Platform}
"#;

async fn component(server: &Server, id: &str) -> String {
    let (_, body) = get_json(&server.url("/api/v2/components.json"), None).await;
    body["components"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn indicator(server: &Server) -> String {
    let (_, body) = get_json(&server.url("/api/v2/status.json"), None).await;
    body["status"]["indicator"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn investigating_to_postmortem_with_statuspage_json_at_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", CONFIG);
    let write_token = token(dir.path(), &cfg, "write");
    let read_token = token(dir.path(), &cfg, "read");
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let incidents = server.url("/api/v1/incidents");

    let open = json!({
        "name": "Patient forms not loading",
        "status": "investigating",
        "impact": "major",
        "body": "Forms fail to load. <script>alert(1)</script> [x](javascript:alert(2))",
        "components": {"forms": "major_outage"}
    });
    assert_eq!(send_json("POST", &incidents, None, &open).await.0, 401, "writes need a token");
    assert_eq!(
        send_json("POST", &incidents, Some(&read_token), &open).await.0,
        403,
        "a read token cannot write"
    );
    let (status, incident) = send_json("POST", &incidents, Some(&write_token), &open).await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap().to_owned();
    assert_eq!(incident["status"], "investigating");
    assert_eq!(component(&server, "forms").await, "major_outage");
    assert_eq!(indicator(&server).await, "critical", "a major outage of a component is critical");
    let (_, unresolved) = get_json(&server.url("/api/v2/incidents/unresolved.json"), None).await;
    assert_eq!(unresolved["incidents"][0]["id"], id.as_str());

    let (_, detail) = get_json(&server.url(&format!("/api/v1/incidents/{id}")), Some(&read_token)).await;
    let html = detail["incident_updates"][0]["body_html"].as_str().unwrap();
    assert!(!html.contains("<script") && !html.contains("javascript:"), "{html}");

    let updates = server.url(&format!("/api/v1/incidents/{id}/updates"));
    let steps: [(&str, Value); 4] = [
        ("identified", json!({"forms": "partial_outage"})),
        ("monitoring", json!({"forms": "operational"})),
        ("resolved", json!({})),
        ("investigating", json!({"video": "degraded_performance"})),
    ];
    let expected = [("partial_outage", "major"), ("operational", "major"), ("operational", "none")];
    for (i, (status, components)) in steps.iter().take(3).enumerate() {
        let body = json!({"status": status, "body": format!("Now {status}."), "components": components});
        let (code, reply) = send_json("POST", &updates, Some(&write_token), &body).await;
        assert_eq!(code, 201, "{reply}");
        assert_eq!(reply["status"], *status);
        assert_eq!(component(&server, "forms").await, expected[i].0, "after {status}");
        assert_eq!(indicator(&server).await, expected[i].1, "after {status}");
    }
    let (_, all) = get_json(&server.url("/api/v2/incidents.json"), None).await;
    let listed = &all["incidents"][0];
    assert_eq!(listed["status"], "resolved");
    assert_eq!(listed["incident_updates"].as_array().unwrap().len(), 4);
    assert!(
        listed["resolved_at"].as_str().unwrap().ends_with("-05:00")
            || listed["resolved_at"].as_str().unwrap().ends_with("-04:00")
    );
    let (_, unresolved) = get_json(&server.url("/api/v2/incidents/unresolved.json"), None).await;
    assert_eq!(unresolved["incidents"].as_array().unwrap().len(), 0);

    let postmortem = json!({
        "summary": "A database index was missing after a migration.",
        "impact": "Patients could not open intake forms.",
        "timeline": [],
        "contributing_factors": ["Migration dropped an index"],
        "stabilization_steps": ["Recreated the index"],
        "corrective_actions": [{"description": "Check indexes in CI", "owner": "dana", "due": "2027-01-31", "done": false}],
        "publish": true
    });
    let url = server.url(&format!("/api/v1/incidents/{id}/postmortem"));
    let (code, reply) = send_json("PUT", &url, Some(&write_token), &postmortem).await;
    assert_eq!(code, 200, "{reply}");
    let (_, detail) = get_json(&server.url(&format!("/api/v1/incidents/{id}")), Some(&read_token)).await;
    assert_eq!(detail["status"], "postmortem");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["postmortem", &id, "--config", &cfg, "--data", "data"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("# Postmortem: Patient forms not loading"), "{md}");
    assert!(md.contains("| Check indexes in CI | dana | 2027-01-31 | no |"), "{md}");
    assert!(md.contains("America/New_York, E"), "one declared zone with its abbreviation: {md}");

    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["postmortem", "nope", "--config", &cfg, "--data", "data"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

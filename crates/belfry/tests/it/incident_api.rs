//! The incident lifecycle through the real binary's API, as an on-call person drives it.

use serde_json::{Value, json};

use crate::binary::token;
use crate::support::{Server, get_json, send_json, write};

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

/// What the public Statuspage JSON should say after a step.
struct Public {
    status: &'static str,
    impact: &'static str,
    forms: &'static str,
    indicator: &'static str,
    updates: usize,
}

/// Checks `/api/v2/incidents.json`, `/api/v2/incidents/unresolved.json` (listing the incident
/// while it is open), `/api/v2/components.json` and `/api/v2/status.json` against `expected`.
async fn assert_public(server: &Server, id: &str, step: &str, expected: &Public) {
    let (_, all) = get_json(&server.url("/api/v2/incidents.json"), None).await;
    let listed = &all["incidents"][0];
    assert_eq!(listed["id"], id, "{step}: {all}");
    assert_eq!(listed["status"], expected.status, "{step}: incidents.json");
    assert_eq!(listed["impact"], expected.impact, "{step}: incidents.json");
    assert_eq!(listed["incident_updates"].as_array().unwrap().len(), expected.updates, "{step}");
    let (_, unresolved) = get_json(&server.url("/api/v2/incidents/unresolved.json"), None).await;
    let open: Vec<(&str, &str)> = unresolved["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    let still_open = !matches!(expected.status, "resolved" | "postmortem");
    let want: Vec<(&str, &str)> = if still_open { vec![(id, expected.status)] } else { vec![] };
    assert_eq!(open, want, "{step}: incidents/unresolved.json");
    assert_eq!(component(server, "forms").await, expected.forms, "{step}: components.json");
    assert_eq!(indicator(server).await, expected.indicator, "{step}: status.json");
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
    let opened = Public {
        status: "investigating",
        impact: "major",
        forms: "major_outage",
        indicator: "critical", // a major outage of a component is critical
        updates: 1,
    };
    assert_public(&server, &id, "opened", &opened).await;

    let (_, detail) = get_json(&server.url(&format!("/api/v1/incidents/{id}")), Some(&read_token)).await;
    let html = detail["incident_updates"][0]["body_html"].as_str().unwrap();
    assert!(!html.contains("<script") && !html.contains("javascript:"), "{html}");

    // Each update: what is posted, then what the public JSON says.
    let updates = server.url(&format!("/api/v1/incidents/{id}/updates"));
    let steps = [
        (
            json!({"status": "identified", "components": {"forms": "partial_outage"}}),
            Public {
                status: "identified",
                impact: "major",
                forms: "partial_outage",
                indicator: "major",
                updates: 2,
            },
        ),
        // A plain update: same status, lower impact and a better component status.
        (
            json!({"status": "identified", "impact": "minor", "components": {"forms": "degraded_performance"}}),
            Public {
                status: "identified",
                impact: "minor",
                forms: "degraded_performance",
                indicator: "minor",
                updates: 3,
            },
        ),
        (
            json!({"status": "monitoring", "components": {"forms": "operational"}}),
            Public {
                status: "monitoring",
                impact: "minor",
                forms: "operational",
                indicator: "minor",
                updates: 4,
            },
        ),
        (
            json!({"status": "resolved"}),
            Public {
                status: "resolved",
                impact: "minor",
                forms: "operational",
                indicator: "none",
                updates: 5,
            },
        ),
    ];
    for (i, (mut body, expected)) in steps.into_iter().enumerate() {
        body["body"] = Value::from(format!("Step {i}: {}.", expected.status));
        let (code, reply) = send_json("POST", &updates, Some(&write_token), &body).await;
        assert_eq!(code, 201, "{reply}");
        assert_eq!(reply["status"], expected.status);
        assert_public(&server, &id, &format!("step {i} ({body})"), &expected).await;
    }
    let (_, all) = get_json(&server.url("/api/v2/incidents.json"), None).await;
    let resolved_at = all["incidents"][0]["resolved_at"].as_str().unwrap();
    assert!(resolved_at.ends_with("-05:00") || resolved_at.ends_with("-04:00"), "{resolved_at}");

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
    let published =
        Public { status: "postmortem", impact: "minor", forms: "operational", indicator: "none", updates: 5 };
    assert_public(&server, &id, "postmortem published", &published).await;

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

//! Channels made through the API, end to end: validated, sealed in the store (the secret is not
//! in the database file), usable by the config file's escalations after a reload, kept across
//! a restart, and refused when an escalation still uses them.

use std::time::Duration;

use serde_json::json;

use crate::support::{Receiver, Server, Target, eventually, get_json, request, send_json, write};

const LIMIT: Duration = Duration::from_secs(20);
const SECRET: &str = "whsec-sealed-in-the-vault";

fn token(dir: &std::path::Path, cfg: &str, scope: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", scope, "--config", cfg, "--data", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn an_api_channel_pages_through_a_config_escalation_and_survives_a_restart() {
    let target = Target::start().await;
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let monitors = format!(
        "page: {{title: Acme, public_url: \"http://status.acme.test\"}}\nmonitors:\n  - {{id: api-http, kind: http, url: \"{}\", interval: 1s, failure: {{threshold: 1}}}}\n",
        target.url("/health")
    );
    let cfg = write(dir.path(), "belfry.yaml", &monitors);
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let admin = token(dir.path(), &cfg, "admin");
    let write_token = token(dir.path(), &cfg, "write");

    let entry = json!({"id": "pager", "kind": "webhook", "url": receiver.url("/hook"), "secret": SECRET});
    let (status, body) = send_json("POST", &server.url("/api/v1/channels"), Some(&write_token), &entry).await;
    assert_eq!(status, 403, "channels hold secrets: admin only: {body}");
    let bad = json!({"id": "pager", "kind": "webhook", "url": "ftp://nope"});
    let (status, body) = send_json("POST", &server.url("/api/v1/channels"), Some(&admin), &bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_config", "{body}");
    let (status, body) = send_json("POST", &server.url("/api/v1/channels"), Some(&admin), &entry).await;
    assert_eq!(status, 201, "{body}");
    let (_, list) = get_json(&server.url("/api/v1/channels"), Some(&admin)).await;
    assert_eq!(list["channels"], json!([{"id": "pager", "kind": "webhook", "origin": "api"}]));

    // The config file's escalation may name it once it exists.
    let with_alerts = format!(
        "{monitors}escalations:\n  - {{id: default, steps: [{{after: 0m, notify: [pager]}}]}}\nalerts:\n  - {{monitors: [\"*\"], events: [down, up], escalation: default}}\n"
    );
    write(dir.path(), "belfry.yaml", &with_alerts);
    let (status, body) = request("POST", &server.url("/api/v1/reload"), Some(&admin)).await;
    assert_eq!(status, 200, "{body}");
    target.set_status(503);
    eventually("the down alert reached the API channel", LIMIT, || async {
        receiver.bodies().iter().any(|b| b["event"] == "down").then_some(())
    })
    .await;

    // In use by an escalation: deleting it would break the config, so it is refused.
    let (status, body) = request("DELETE", &server.url("/api/v1/channels/pager"), Some(&admin)).await;
    assert_eq!(status, 422, "{body}");

    let db = [
        std::fs::read(dir.path().join("data/belfry.db")).unwrap_or_default(),
        std::fs::read(dir.path().join("data/belfry.db-wal")).unwrap_or_default(),
    ]
    .concat();
    assert!(!db.is_empty());
    assert!(
        !db.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the webhook secret is readable in the database"
    );

    drop(server);
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let (_, list) = get_json(&server.url("/api/v1/channels"), Some(&admin)).await;
    assert_eq!(list["channels"][0]["id"], "pager", "kept across the restart: {list}");
    let sent = receiver.bodies().len();
    let (status, _) = request("POST", &server.url("/api/v1/channels/pager/test"), Some(&admin)).await;
    assert_eq!(status, 202);
    eventually("the test message", LIMIT, || async { (receiver.bodies().len() > sent).then_some(()) }).await;
}

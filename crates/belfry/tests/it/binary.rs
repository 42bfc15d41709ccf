//! The real `belfry` binary: serve, validate, token, reload, kill -9 and restart.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Server, Target, eventually, get_json, request, request_text, write};

const LIMIT: Duration = Duration::from_secs(30);

fn config(target: &Target) -> String {
    format!(
        r#"
page: {{title: Acme Status, time_zone: America/New_York}}
components:
  - {{id: api, name: Internal API, group: Platform}}
  - {{id: forms, name: Patient forms, group: Platform}}
monitors:
  - id: api-http
    name: Internal API
    kind: http
    component: api
    url: {}
    interval: 1s
    timeout: 2s
    conditions: ["[STATUS] == 200", "[BODY].status == ok"]
    failure: {{threshold: 2}}
    recovery: {{threshold: 1}}
  - {{id: forms-tcp, kind: tcp, component: forms, host: 127.0.0.1, port: {}, interval: 1s, impact: partial_outage}}
"#,
        target.url("/health"),
        target.addr.port()
    )
}

/// The monitor's live `state` and its whole `GET /api/v1/monitors/{id}` document.
pub async fn monitor_state(server: &Server, token: &str, id: &str) -> (String, Value) {
    let (status, body) = get_json(&server.url(&format!("/api/v1/monitors/{id}")), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    (body["state"].as_str().unwrap_or_default().to_owned(), body)
}

/// The monitor's document once it is `down` and its newest result (read from the store, which
/// may run one write behind the live state) is the failed one.
pub async fn down_with_its_result(server: &Server, token: &str, id: &str) -> Value {
    eventually(&format!("{id} down with its failed result"), LIMIT, || async {
        let (state, body) = monitor_state(server, token, id).await;
        (state == "down" && body["last_result"]["ok"] == false).then_some(body)
    })
    .await
}

/// A new API token of `scope`, made with `belfry token create` on the server's data.
pub fn token(dir: &std::path::Path, config: &str, scope: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", scope, "--config", config, "--data", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let secret = stdout.trim().to_owned();
    assert_eq!(stdout.lines().count(), 1, "the token alone on stdout: {stdout:?}");
    secret
}

#[tokio::test]
async fn serve_detects_an_outage_by_policy_and_reports_why() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&target));
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let read = token(dir.path(), &cfg, "read");

    assert_eq!(request_text("GET", &server.url("/healthz"), None).await.0, 200);
    eventually("ready", LIMIT, || async {
        (get_json(&server.url("/readyz"), None).await.0 == 200).then_some(())
    })
    .await;
    eventually("first check", LIMIT, || async {
        let (state, body) = monitor_state(&server, &read, "api-http").await;
        (state == "up" && body["last_result"]["ok"] == true).then_some(())
    })
    .await;

    let (_, summary) = get_json(&server.url("/api/v2/summary.json"), None).await;
    assert_eq!(summary["status"]["indicator"], "none");
    assert_eq!(summary["page"]["name"], "Acme Status");

    target.set_status(503);
    let body = eventually("down", LIMIT, || async {
        let (state, body) = monitor_state(&server, &read, "api-http").await;
        (state == "down").then_some(body)
    })
    .await;
    let conditions = body["last_result"]["conditions"].as_array().unwrap();
    assert_eq!(conditions[0]["condition"], "[STATUS] == 200");
    assert_eq!(conditions[0]["ok"], false);
    assert_eq!(conditions[0]["resolved"], "[STATUS] (503) == 200");

    // The public documents are precomputed: they follow the engine within a rebuild (~ms).
    let api = eventually("the outage on the public page", LIMIT, || async {
        let (_, components) = get_json(&server.url("/api/v2/components.json"), None).await;
        let api = components["components"].as_array()?.iter().find(|c| c["id"] == "api")?.clone();
        (api["status"] == "major_outage").then_some(api)
    })
    .await;
    assert_eq!(api["status"], "major_outage");
    let (_, status) = get_json(&server.url("/api/v2/status.json"), None).await;
    assert_eq!(status["status"]["indicator"], "critical");

    target.set_status(200);
    eventually("recovered", LIMIT, || async {
        (monitor_state(&server, &read, "api-http").await.0 == "up").then_some(())
    })
    .await;
    let (code, results) =
        get_json(&server.url("/api/v1/monitors/api-http/results?limit=500"), Some(&read)).await;
    assert_eq!(code, 200);
    let results = results["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ok"] == false) && results.iter().any(|r| r["ok"] == true));

    let (_, metrics) = request_text("GET", &server.url("/metrics"), None).await;
    assert!(metrics.contains("belfry_checks_total"), "{metrics}");
    assert!(metrics.contains("belfry_schedule_lag_seconds"), "{metrics}");
    assert!(!server.logs().contains(&read), "secrets never in logs");
}

#[tokio::test]
async fn api_rejects_bad_input_with_json_errors() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&target));
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let read = token(dir.path(), &cfg, "read");
    for (url, token, want) in [
        ("/api/v1/monitors/api-http", None, 401),
        ("/api/v1/monitors/api-http", Some("not-a-token"), 401),
        ("/api/v1/monitors/nope", Some(read.as_str()), 404),
        ("/api/v1/monitors/api-http/results?limit=0", Some(read.as_str()), 400),
        ("/api/v1/monitors/api-http/results?since=yesterday", Some(read.as_str()), 400),
        ("/api/v1/no-such-route", Some(read.as_str()), 404),
        ("/api/v1/push/unknown-token-xxxxxxxx", None, 404),
    ] {
        let (status, body) = get_json(&server.url(url), token).await;
        assert_eq!(status, want, "{url}: {body}");
        assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "{url}: {body}");
    }
    let (status, _) = request("POST", &server.url("/api/v1/reload"), Some(&read)).await;
    assert_eq!(status, 403, "a read token cannot reload");
    let (status, doc) = get_json(&server.url("/api/v1/openapi.json"), None).await;
    assert_eq!((status, doc["openapi"].as_str()), (200, Some("3.1.0")));
    assert_eq!(doc["paths"]["/api/v1/incidents"]["post"]["security"][0]["bearer"][0], "write");
}

#[tokio::test]
async fn reload_keeps_the_running_config_when_the_new_one_is_bad() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&target));
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let admin = token(dir.path(), &cfg, "admin");
    let read = token(dir.path(), &cfg, "read");

    write(
        dir.path(),
        "belfry.yaml",
        "monitors:\n  - {id: x, kind: http, url: 'http://127.0.0.1:1/', intervall: 5s}\n",
    );
    let (status, body) = request("POST", &server.url("/api/v1/reload"), Some(&admin)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("intervall"), "{body}");
    server.signal("HUP");
    eventually("SIGHUP rejection logged", LIMIT, || async {
        (server.logs().matches("configuration rejected").count() >= 2).then_some(())
    })
    .await;
    let (_, list) = get_json(&server.url("/api/v1/monitors"), Some(&read)).await;
    assert_eq!(list["monitors"].as_array().unwrap().len(), 2, "old config still in force: {list}");

    let mut next = config(&target);
    next.push_str("  - {id: extra-tcp, kind: tcp, host: 127.0.0.1, port: 1, interval: 1s}\n");
    write(dir.path(), "belfry.yaml", &next);
    server.signal("HUP");
    eventually("SIGHUP reload applied", LIMIT, || async {
        let (_, list) = get_json(&server.url("/api/v1/monitors"), Some(&read)).await;
        (list["monitors"].as_array().map(Vec::len) == Some(3)).then_some(())
    })
    .await;

    // `storage:` cannot change under a running node: the rest applies, the change is said.
    assert!(!server.logs().contains("takes effect at the next start"));
    write(dir.path(), "belfry.yaml", &format!("storage: {{retention: 2d}}\n{next}"));
    let (status, body) = request("POST", &server.url("/api/v1/reload"), Some(&admin)).await;
    assert_eq!(status, 200, "{body}");
    eventually("the storage change logged", LIMIT, || async {
        server.logs().contains("takes effect at the next start").then_some(())
    })
    .await;
}

#[tokio::test]
async fn kill_9_loses_no_transition_and_the_schedule_resumes() {
    let target = Target::start().await;
    target.set_status(500);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&target));
    let read = token(dir.path(), &cfg, "read");
    let mut server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    // The live state may run ahead of the store by one write batch; wait for the transition to
    // be committed (the transitions API reads the store), then kill.
    let transitions = server.url("/api/v1/monitors/api-http/transitions");
    eventually("down committed", LIMIT, || async {
        let (_, list) = get_json(&transitions, Some(&read)).await;
        list.to_string().contains("\"to\":\"down\"").then_some(())
    })
    .await;
    server.kill();

    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let (state, _) = monitor_state(&server, &read, "api-http").await;
    assert_eq!(state, "down", "the committed transition survived kill -9");
    let (_, transitions) = get_json(&server.url("/api/v1/monitors/api-http/transitions"), Some(&read)).await;
    assert!(transitions.to_string().contains("\"to\":\"down\""), "{transitions}");
    let hits = target.hits();
    eventually("checks resume", LIMIT, || async { (target.hits() > hits + 1).then_some(()) }).await;
}

#[tokio::test]
async fn default_serve_runs_the_built_in_example_offline() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert!(dir.path().join("belfry-data").join("belfry.db").exists());
    let (status, summary) = get_json(&server.url("/api/v2/summary.json"), None).await;
    assert_eq!(status, 200);
    assert!(!summary["components"].as_array().unwrap().is_empty(), "{summary}");
    eventually("example monitors all operational", LIMIT, || async {
        let (_, summary) = get_json(&server.url("/api/v2/components.json"), None).await;
        let comps = summary["components"].as_array()?.clone();
        comps.iter().all(|c| c["status"] == "operational").then_some(())
    })
    .await;
}

#[test]
fn validate_reports_every_error_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.yaml",
        "monitors:\n  - id: a\n    kind: http\n    url: http://127.0.0.1:1/\n    intervall: 5s\n    conditions: [\"[STATSU] == 200\"]\n  - id: b\n    kind: tcp\n    host: x\n    port: 1\n    interval: 5 minutes\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_belfry")).args(["validate", &bad]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    for line in &lines {
        assert!(line.starts_with(&format!("{bad}:")), "{line}");
        let mut parts = line[bad.len() + 1..].splitn(3, ':');
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "line number in {line}");
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "column in {line}");
    }
    assert!(stderr.contains("monitors[0].intervall") && stderr.contains("did you mean"), "{stderr}");
    assert!(stderr.contains("monitors[0].conditions[0]"), "{stderr}");
    assert!(stderr.contains("monitors[1].interval"), "{stderr}");

    let good =
        write(dir.path(), "good.yaml", "monitors:\n  - {id: a, kind: tcp, host: 127.0.0.1, port: 1}\n");
    let out = Command::new(env!("CARGO_BIN_EXE_belfry")).args(["validate", &good]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn serve_refuses_an_invalid_config_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "belfry.yaml", "page: {title: x, time_zone: Mars/Olympus}\n");
    let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["serve", "--config", &bad, "--listen", "127.0.0.1:0", "--data", "data"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("page.time_zone"), "{stderr}");
}

#[tokio::test]
async fn heartbeat_pushes_through_the_real_server_report_down_and_up() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "belfry.yaml",
        "monitors:\n  - {id: backup, kind: heartbeat, token: \"nightly-backup-0123456789\", expect_every: 1h, interval: 1s}\n",
    );
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let read = token(dir.path(), &cfg, "read");
    let push = |q: &str| server.url(&format!("/api/v1/push/nightly-backup-0123456789{q}"));
    let (status, body) = request("POST", &push("?status=down&msg=disk%20full"), None).await;
    assert_eq!((status, body["monitor"].as_str()), (200, Some("backup")), "{body}");
    let body = down_with_its_result(&server, &read, "backup").await;
    assert_eq!(body["last_result"]["error"], "reported down: disk full");
    assert_eq!(request("GET", &push(""), None).await.0, 200);
    eventually("up after a good ping", LIMIT, || async {
        (monitor_state(&server, &read, "backup").await.0 == "up").then_some(())
    })
    .await;
    assert_eq!(request("GET", &push("?status=sideways"), None).await.0, 400);
    assert_eq!(request("GET", &server.url("/api/v1/push/not-a-token-0123456789"), None).await.0, 404);
}

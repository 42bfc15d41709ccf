//! What the real `belfry` binary reports as real local targets fail: down only by the policy,
//! up after the recovery threshold, blips never public, heartbeats expiring, and every way a
//! check can fail (garbage, refused, slow, TLS, oversized) as a failed check with a reason.
//! What depends on seeing a state that lasts a check or two (suspected never public, a blip
//! flipping back) is also stepped through on a fake clock, read through the real web layer.
//! Also the engine's no-overlap rule for "run now", on the real store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use belfry::service::Service;
use belfry::settings::ConfigSource;
use belfry_core::{MonitorId, MonitorState};
use belfry_web::WebState;
use http_body_util::BodyExt;
use jiff::Timestamp;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::binary::{down_with_its_result, monitor_state, token};
use crate::engine::{Rig, rig};
use crate::support::{
    Server, Target, closed_port, eventually, get_json, request, request_text, test_vault, write,
};

const LIMIT: Duration = Duration::from_secs(30);
const ID: &str = "api-http";

/// One http monitor on `url`, checked every second: down after 3 failures, up after 2 passes.
fn policy_config(url: &str) -> String {
    format!(
        r#"
page: {{title: Acme Status, time_zone: UTC}}
components:
  - {{id: api, name: Internal API}}
monitors:
  - id: {ID}
    kind: http
    component: api
    url: {url}
    interval: 1s
    timeout: 2s
    conditions: ["[STATUS] == 200"]
    failure: {{threshold: 3}}
    recovery: {{threshold: 2}}
"#
    )
}

/// The real server on `yaml`, with a read token.
fn serve(dir: &std::path::Path, yaml: &str) -> (Server, String) {
    let cfg = write(dir, "belfry.yaml", yaml);
    let server = Server::start(dir, &["--config", &cfg, "--data", "data"]);
    let read = token(dir, &cfg, "read");
    (server, read)
}

async fn state_is(server: &Server, read: &str, id: &str, want: &str) {
    eventually(&format!("{id} {want}"), LIMIT, || async {
        (monitor_state(server, read, id).await.0 == want).then_some(())
    })
    .await;
}

/// The public status of component `id` in `/api/v2/components.json`.
async fn public_status(server: &Server, id: &str) -> String {
    let (code, doc) = get_json(&server.url("/api/v2/components.json"), None).await;
    assert_eq!(code, 200, "{doc}");
    let component = doc["components"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    component["status"].as_str().unwrap().to_owned()
}

/// The monitor's recorded results, newest first.
async fn results(server: &Server, read: &str, id: &str) -> Vec<Value> {
    let url = server.url(&format!("/api/v1/monitors/{id}/results?limit=1000"));
    let (code, body) = get_json(&url, Some(read)).await;
    assert_eq!(code, 200, "{body}");
    body["results"].as_array().unwrap().clone()
}

/// The monitor's committed transitions, newest first.
async fn transitions(server: &Server, read: &str, id: &str) -> Vec<Value> {
    let url = server.url(&format!("/api/v1/monitors/{id}/transitions?limit=1000"));
    let (code, body) = get_json(&url, Some(read)).await;
    assert_eq!(code, 200, "{body}");
    body["transitions"].as_array().unwrap().clone()
}

/// The (oldest) transition of monitor `id` to `to`, once it is committed.
async fn committed(server: &Server, read: &str, id: &str, to: &str) -> Value {
    eventually(&format!("the transition of {id} to {to} committed"), LIMIT, || async {
        transitions(server, read, id).await.into_iter().rev().find(|t| t["to"] == to)
    })
    .await
}

fn at(v: &Value) -> Timestamp {
    v["at"].as_str().unwrap().parse().unwrap()
}

/// Result `r` started by `t`, a transition's time (the start of the result that decided it,
/// kept to the millisecond).
fn by(r: &Value, t: Timestamp) -> bool {
    at(r).as_millisecond() <= t.as_millisecond()
}

/// Waits for the monitor's first passing check.
async fn first_pass(server: &Server, read: &str, id: &str) {
    eventually(&format!("{id} up and passing"), LIMIT, || async {
        let (state, body) = monitor_state(server, read, id).await;
        (state == "up" && body["last_result"]["ok"] == true).then_some(())
    })
    .await;
}

async fn healthy(server: &Server) {
    assert_eq!(request_text("GET", &server.url("/healthz"), None).await.0, 200, "{}", server.logs());
}

#[tokio::test]
async fn an_outage_is_suspected_first_down_by_the_threshold_and_up_by_the_recovery_threshold() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (server, read) = serve(dir.path(), &policy_config(&target.url("/health")));
    first_pass(&server, &read, ID).await;

    target.set_status(503);
    state_is(&server, &read, ID, "down").await;
    // Read after the fact from what was committed (the suspected stretch lasts about two
    // seconds, too short to be sure of seeing it live; the rig tests below step through it).
    let suspected = committed(&server, &read, ID, "suspected").await;
    let down = committed(&server, &read, ID, "down").await;
    assert_eq!((&suspected["from"], &suspected["event"]), (&"up".into(), &Value::Null), "{suspected}");
    assert_eq!((&down["from"], &down["event"]), (&"suspected".into(), &"down".into()), "{down}");
    let down_at = at(&down);
    assert!(at(&suspected) < down_at, "suspected before down: {suspected} {down}");
    let all = results(&server, &read, ID).await;
    let failures_by = |t: Timestamp| all.iter().filter(|r| r["ok"] == false && by(r, t)).count();
    assert_eq!(failures_by(at(&suspected)), 1, "suspected at the first failure: {all:?}");
    assert_eq!(failures_by(down_at), 3, "down at the third failed check, not before: {all:?}");
    let evidence = down["results"].as_array().unwrap();
    assert!(evidence.iter().filter(|r| r["ok"] == false).count() >= 3, "{down}");
    assert_eq!(down["reason"], "[STATUS] (503) == 200");
    eventually("the outage on the public page", LIMIT, || async {
        (public_status(&server, "api").await == "major_outage").then_some(())
    })
    .await;

    target.set_status(200);
    state_is(&server, &read, ID, "up").await;
    let up_at = at(&committed(&server, &read, ID, "up").await);
    let all = results(&server, &read, ID).await;
    let passes = all.iter().filter(|r| r["ok"] == true && !by(r, down_at) && by(r, up_at)).count();
    assert_eq!(passes, 2, "up at the second passing check, not before: {all:?}");
    eventually("operational again", LIMIT, || async {
        (public_status(&server, "api").await == "operational").then_some(())
    })
    .await;
    healthy(&server).await;
}

/// Polls the public documents until stopped; returns every component status and page
/// indicator it saw.
struct PublicWatch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<(String, String)>>,
}

impl PublicWatch {
    fn start(base: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut seen = vec![];
            while !stopped.load(Ordering::Relaxed) {
                let (_, components) = get_json(&format!("{base}/api/v2/components.json"), None).await;
                for c in components["components"].as_array().unwrap() {
                    seen.push((c["id"].to_string(), c["status"].to_string()));
                }
                let (_, summary) = get_json(&format!("{base}/api/v2/summary.json"), None).await;
                seen.push(("summary".to_owned(), summary["status"]["indicator"].to_string()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        });
        Self { stop, task }
    }

    async fn stop(self) -> Vec<(String, String)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap()
    }
}

/// An HTTP target on 127.0.0.1 answering 200, except 503 to the next `n` requests after
/// [`BlipTarget::fail_next`]: a blip of an exact number of checks, however late a test looks.
struct BlipTarget {
    addr: SocketAddr,
    failing: Arc<AtomicU32>,
}

impl BlipTarget {
    async fn start() -> Self {
        let failing = Arc::new(AtomicU32::new(0));
        let left = failing.clone();
        let app = axum::Router::new().fallback(move || {
            let left = left.clone();
            async move {
                let fail =
                    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                if fail { axum::http::StatusCode::SERVICE_UNAVAILABLE } else { axum::http::StatusCode::OK }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, failing }
    }

    fn url(&self) -> String {
        format!("http://{}/health", self.addr)
    }

    fn fail_next(&self, n: u32) {
        self.failing.store(n, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_blip_shorter_than_the_threshold_never_changes_the_public_status() {
    let target = BlipTarget::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (server, read) = serve(dir.path(), &policy_config(&target.url()));
    first_pass(&server, &read, ID).await;
    let watch = PublicWatch::start(server.base.clone());

    // Exactly two failed checks (the threshold is three), then passing ones, still watched.
    target.fail_next(2);
    let all = eventually("the blip and two passing checks after it", LIMIT, || async {
        let all = results(&server, &read, ID).await; // newest first
        let newest_failure = all.iter().position(|r| r["ok"] == false)?;
        (newest_failure >= 2).then_some(all)
    })
    .await;
    assert_eq!(all.iter().filter(|r| r["ok"] == false).count(), 2, "{all:?}");
    state_is(&server, &read, ID, "up").await;

    let seen = watch.stop().await;
    assert!(seen.len() > 10, "the public page was watched throughout: {seen:?}");
    let changed: Vec<_> =
        seen.iter().filter(|(_, status)| status != "\"operational\"" && status != "\"none\"").collect();
    assert!(changed.is_empty(), "the blip reached the public page: {changed:?}");
    let all = transitions(&server, &read, ID).await;
    let path: Vec<(&str, &str)> =
        all.iter().rev().map(|t| (t["from"].as_str().unwrap(), t["to"].as_str().unwrap())).collect();
    assert_eq!(path, [("up", "suspected"), ("suspected", "up")], "{all:?}");
    assert!(all.iter().all(|t| t["event"].is_null()), "no public event: {all:?}");
    healthy(&server).await;
}

// --- the same policy on a fake clock, read through the real web layer --------------------

const SECOND: Duration = Duration::from_secs(1);

/// What the public documents say at the rig's instant, served by the real router over its
/// engine and store: component `api`'s status and the page's indicator.
async fn public_now(rig: &Rig) -> (String, String) {
    let runtime = Arc::new(Service::new(
        rig.engine.clone(),
        rig.storage.clone(),
        ConfigSource::Example("127.0.0.1:1".parse().unwrap()),
        test_vault(&rig.storage),
    ));
    let state = WebState {
        store: rig.storage.clone(),
        incidents: rig.storage.clone(),
        alerts: rig.storage.clone(),
        subscribers: rig.storage.clone(),
        admin: rig.storage.clone(),
        vault: test_vault(&rig.storage),
        runtime,
        clock: rig.clock.clone(),
    };
    let app = belfry_web::router(state);
    let read = |path: &'static str| {
        let app = app.clone();
        async move {
            let reply = app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(reply.status(), 200, "{path}");
            let body = reply.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&body).unwrap()
        }
    };
    let components = read("/api/v2/components.json").await;
    let api = components["components"].as_array().unwrap().iter().find(|c| c["id"] == "api").unwrap();
    let summary = read("/api/v2/summary.json").await;
    (api["status"].as_str().unwrap().to_owned(), summary["status"]["indicator"].as_str().unwrap().to_owned())
}

fn operational() -> (String, String) {
    ("operational".to_owned(), "none".to_owned())
}

#[tokio::test]
async fn on_a_fake_clock_suspected_is_never_public_and_down_comes_at_the_third_failure() {
    use MonitorState::*;
    let target = Target::start().await;
    let rig = rig(&policy_config(&target.url("/health"))).await;
    assert_eq!(rig.step(ID, SECOND).await, Up);
    assert_eq!(public_now(&rig).await, operational());

    target.set_status(503);
    for failures in 1..=2 {
        assert_eq!(rig.step(ID, SECOND).await, Suspected, "after {failures} failed checks");
        assert_eq!(public_now(&rig).await, operational(), "suspected is not public ({failures} failures)");
    }
    assert_eq!(rig.step(ID, SECOND).await, Down, "down at the third failed check");
    assert_eq!(public_now(&rig).await.0, "major_outage");

    target.set_status(200);
    assert_eq!(rig.step(ID, SECOND).await, Down, "one pass is not recovery");
    assert_eq!(public_now(&rig).await.0, "major_outage");
    assert_eq!(rig.step(ID, SECOND).await, Up, "up at the second pass");
    assert_eq!(public_now(&rig).await, operational());

    let id = MonitorId::parse(ID).unwrap();
    let committed = rig.store.transitions(Some(&id), None, 100).await.unwrap();
    let path: Vec<_> = committed.iter().rev().map(|t| (t.from, t.to, t.event())).collect();
    assert_eq!(path, [(Up, Suspected, None), (Suspected, Down, Some("down")), (Down, Up, Some("up"))]);
    let down = &committed[1];
    assert_eq!(down.results.iter().filter(|r| !r.ok).count(), 3, "{down:?}");
}

#[tokio::test]
async fn on_a_fake_clock_a_blip_flips_back_at_the_first_pass_and_is_never_public() {
    use MonitorState::*;
    let target = Target::start().await;
    let rig = rig(&policy_config(&target.url("/health"))).await;
    assert_eq!(rig.step(ID, SECOND).await, Up);
    for _ in 0..3 {
        target.set_status(503);
        for _ in 0..2 {
            assert_eq!(rig.step(ID, SECOND).await, Suspected);
            assert_eq!(public_now(&rig).await, operational());
        }
        target.set_status(200);
        assert_eq!(rig.step(ID, SECOND).await, Up, "back at the first passing check");
        assert_eq!(public_now(&rig).await, operational());
    }
    let id = MonitorId::parse(ID).unwrap();
    let committed = rig.store.transitions(Some(&id), None, 100).await.unwrap();
    assert_eq!(committed.len(), 6, "{committed:?}");
    assert!(committed.iter().all(|t| t.to != Down && t.event().is_none()), "{committed:?}");
}

#[tokio::test]
async fn a_heartbeat_without_pings_expires_and_a_push_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"
components: [{id: jobs, name: Nightly jobs}]
monitors:
  - {id: backup, kind: heartbeat, component: jobs, token: "nightly-backup-0123456789", expect_every: 1s, grace: 1s, interval: 1s}
"#;
    let (server, read) = serve(dir.path(), yaml);

    let body = down_with_its_result(&server, &read, "backup").await;
    let error = body["last_result"]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("no ping yet for ") && error.ends_with("(expected every 1s + 1s grace)"),
        "{body}"
    );
    eventually("the missed heartbeat on the public page", LIMIT, || async {
        (public_status(&server, "jobs").await == "major_outage").then_some(())
    })
    .await;

    let (code, body) = request("GET", &server.url("/api/v1/push/nightly-backup-0123456789"), None).await;
    assert_eq!(code, 200, "{body}");
    state_is(&server, &read, "backup", "up").await;
    eventually("operational after the push", LIMIT, || async {
        (public_status(&server, "jobs").await == "operational").then_some(())
    })
    .await;

    // No further push: it expires again, now counting from the last ping.
    let body = down_with_its_result(&server, &read, "backup").await;
    let error = body["last_result"]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("no ping for "), "{body}");
    healthy(&server).await;
}

/// A TCP server on 127.0.0.1 that answers anything with an SSH banner.
async fn garbage_target() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await;
                let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n").await;
            });
        }
    });
    addr
}

/// An HTTPS server on 127.0.0.1 with a self-signed certificate for `127.0.0.1` (blocking
/// rustls on its own threads).
fn self_signed_target() -> SocketAddr {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().self_signed(&key).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key.into())
            .unwrap();
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let connection = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut request = [0u8; 1024];
                if tls.read(&mut request).is_ok() {
                    let _ =
                        tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn every_failure_mode_is_a_failed_check_with_a_reason_and_the_server_keeps_serving() {
    let garbage = garbage_target().await;
    let closed = closed_port();
    let slow = Target::start().await;
    slow.set_delay(Duration::from_secs(5));
    let tls = self_signed_target();
    let big = Target::start().await; // answers a 15-byte JSON body
    let yaml = format!(
        r#"
monitors:
  - {{id: garbage, kind: http, url: "http://{garbage}/", interval: 1s, timeout: 2s}}
  - {{id: refused, kind: http, url: "http://127.0.0.1:{closed}/", interval: 1s, timeout: 2s}}
  - {{id: slow, kind: http, url: "{slow}", interval: 1s, timeout: 500ms}}
  - {{id: self-signed, kind: http, url: "https://{tls}/", interval: 1s, timeout: 2s}}
  - {{id: oversized, kind: http, url: "{big}", interval: 1s, timeout: 2s, max_body_bytes: 10}}
"#,
        slow = slow.url("/slow"),
        big = big.url("/big"),
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut server, read) = serve(dir.path(), &yaml);

    for (id, reason) in [
        ("garbage", "invalid HTTP response: ".to_owned()),
        ("refused", format!("connection refused (127.0.0.1:{closed})")),
        ("slow", "timed out after 500ms during response headers".to_owned()),
        ("self-signed", "TLS handshake failed: invalid peer certificate: UnknownIssuer".to_owned()),
        ("oversized", "response body larger than max_body_bytes (10 bytes)".to_owned()),
    ] {
        let last = eventually(&format!("a result for {id}"), LIMIT, || async {
            let (_, body) = monitor_state(&server, &read, id).await;
            let last = body["last_result"].clone();
            (!last.is_null()).then_some(last)
        })
        .await;
        assert_eq!(last["ok"], false, "{id}: {last}");
        let error = last["error"].as_str().unwrap_or_default();
        assert!(error.contains(&reason), "{id}: want {reason:?} in {last}");
        healthy(&server).await;
    }
    // Failing checks keep being run and judged: each goes down by the default policy.
    for id in ["garbage", "refused", "slow", "self-signed", "oversized"] {
        state_is(&server, &read, id, "down").await;
    }
    healthy(&server).await;
    assert!(server.child.try_wait().unwrap().is_none(), "the server is still running");
    assert!(!server.logs().contains("panicked"), "{}", server.logs());
}

// --- "run now" never overlaps a scheduled check (the engine on the real store) ------------

fn engine_config(url: &str) -> String {
    format!(
        r#"
monitors:
  - id: {ID}
    kind: http
    url: {url}
    interval: 10s
    timeout: 5s
    conditions: ["[STATUS] == 200"]
"#
    )
}

const TEN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn run_now_waits_for_the_scheduled_check_in_flight() {
    let target = Target::start().await;
    let rig = rig(&engine_config(&target.url("/health"))).await;
    let id = MonitorId::parse(ID).unwrap();
    target.set_status(503);
    target.set_delay(Duration::from_secs(1));
    let engine = rig.engine.clone();
    let now = rig.clock.advance(TEN);
    let scheduled = tokio::spawn(async move { engine.tick(now).await.unwrap() });
    eventually("the scheduled check at the target", LIMIT, || async { (target.hits() == 1).then_some(()) })
        .await;
    // Only requests from now on pass, and at once.
    target.set_status(200);
    target.set_delay(Duration::ZERO);

    let result = rig.engine.run_now(&id).await.unwrap();

    assert!(result.ok, "{result:?}");
    assert_eq!(target.hits(), 2);
    assert_eq!(
        rig.state(ID),
        MonitorState::Suspected,
        "the scheduled (failing) check was judged before run now started, and run now is not judged"
    );
    scheduled.await.unwrap();
}

#[tokio::test]
async fn the_schedule_skips_a_monitor_while_run_now_checks_it() {
    let target = Target::start().await;
    let rig = rig(&engine_config(&target.url("/health"))).await;
    let id = MonitorId::parse(ID).unwrap();
    target.set_delay(Duration::from_secs(1));
    let engine = rig.engine.clone();
    let manual = tokio::spawn(async move { engine.run_now(&id).await.unwrap() });
    eventually("run now at the target", LIMIT, || async { (target.hits() == 1).then_some(()) }).await;
    target.set_delay(Duration::ZERO);

    let now = rig.clock.advance(TEN);
    rig.engine.tick(now).await.unwrap();
    assert_eq!(target.hits(), 1, "the due check was not started while run now was in flight");

    assert!(manual.await.unwrap().ok);
    rig.engine.tick(now).await.unwrap();
    assert_eq!(target.hits(), 2, "the skipped check runs once run now is done");
}

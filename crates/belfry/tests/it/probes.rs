//! Remote probes and quorum (issue 8): the engine decides a regional monitor from its regions'
//! states; the real `belfry serve` with three real `belfry probe` processes, each region with
//! its own target (`--resolve`), declares an outage only when two of three regions agree, and a
//! probe that stops reporting is a `probe_missing` alert, never an outage.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use belfry_core::probe::ProbeHub;
use belfry_core::{CheckResult, MonitorId, MonitorState};
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::engine::rig;
use crate::support::{Receiver, Server, Target, closed_port, eventually, get_json, request_text, write};

const TEN: Duration = Duration::from_secs(10);

fn result(monitor: &str, region: &str, at: Timestamp, ok: bool) -> CheckResult {
    let error = (!ok).then_some("connection refused (127.0.0.2:80)");
    serde_json::from_value(json!({
        "monitor": monitor, "region": region, "at": at, "ok": ok, "duration_ms": 5, "error": error,
    }))
    .unwrap()
}

/// Advances the clock one interval, takes one result from each `(region, ok)`, flushes, and
/// returns the monitor's state.
async fn round(rig: &crate::engine::Rig, reports: &[(&str, bool)]) -> MonitorState {
    let now = rig.clock.advance(TEN);
    for (region, ok) in reports {
        rig.engine.ingest(region, vec![result("api", region, now, *ok)]).unwrap();
    }
    rig.engine.tick(now).await.unwrap();
    rig.state("api")
}

#[tokio::test]
async fn the_engine_decides_a_regional_monitor_by_quorum_and_silent_regions_have_no_say() {
    let target = Target::start().await;
    let yaml = format!(
        "monitors:\n  - {{id: api, kind: http, url: \"{}\", interval: 10s, timeout: 2s, regions: [eu, us, ap], quorum: 2, failure: {{threshold: 2}}}}\n",
        target.url("/")
    );
    let rig = rig(&yaml).await;
    let all_ok = [("eu", true), ("us", true), ("ap", true)];
    assert_eq!(round(&rig, &all_ok).await, MonitorState::Up);
    assert_eq!(target.hits(), 0, "the server does not run a monitor whose regions leave out `local`");

    // One region cut off: its own state goes down, the monitor's never does.
    for _ in 0..4 {
        let state = round(&rig, &[("eu", false), ("us", true), ("ap", true)]).await;
        assert_eq!(state, MonitorState::Suspected);
    }
    let id = MonitorId::parse("api").unwrap();
    let views = rig.engine.regions(&id);
    assert_eq!(
        views.iter().map(|v| (v.region.as_str(), v.state, v.stale)).collect::<Vec<_>>(),
        [("eu", MonitorState::Down, false), ("us", MonitorState::Up, false), ("ap", MonitorState::Up, false)]
    );

    // A second region: the quorum is reached.
    assert_eq!(round(&rig, &[("eu", false), ("us", false), ("ap", true)]).await, MonitorState::Suspected);
    assert_eq!(round(&rig, &[("eu", false), ("us", false), ("ap", true)]).await, MonitorState::Down);
    let down = rig.store.transitions(Some(&id), None, 1).await.unwrap().remove(0);
    assert_eq!(down.to, MonitorState::Down);
    let reason = down.reason.unwrap();
    assert!(reason.starts_with("down in 2 of 3 regions (eu, us; quorum 2): connection refused"), "{reason}");

    // The down regions' probes go silent: the outage is held, not ended by silence.
    for _ in 0..5 {
        assert_eq!(round(&rig, &[("ap", true)]).await, MonitorState::Down);
    }
    assert!(rig.engine.regions(&id).iter().filter(|v| v.stale).count() == 2);
    // They come back healthy: up again after the recovery threshold.
    assert_eq!(round(&rig, &all_ok).await, MonitorState::Down);
    assert_eq!(round(&rig, &all_ok).await, MonitorState::Up);

    // A batch with another region's result, or a monitor not assigned, is refused whole.
    let now = rig.clock.advance(TEN);
    assert!(rig.engine.ingest("eu", vec![result("api", "us", now, true)]).is_err());
    assert!(rig.engine.ingest("sa", vec![result("api", "sa", now, true)]).is_err());
    assert!(rig.engine.ingest("local", vec![]).is_err());
}

#[tokio::test]
async fn a_probe_is_missing_after_three_silent_polls() {
    let rig =
        rig("monitors:\n  - {id: api, kind: tcp, host: 127.0.0.1, port: 1, regions: [local, eu]}\n").await;
    let statuses = rig.engine.probes();
    assert_eq!(statuses.len(), 1, "`local` is the server, not a probe");
    assert!(!statuses[0].missing && statuses[0].last_seen.is_none());
    rig.engine.seen("eu", Duration::from_secs(5));
    rig.clock.advance(Duration::from_secs(15));
    assert!(!rig.engine.probes()[0].missing);
    rig.clock.advance(Duration::from_secs(1));
    assert!(rig.engine.probes()[0].missing);
    rig.engine.seen("eu", Duration::from_secs(5));
    assert!(!rig.engine.probes()[0].missing);
}

/// An HTTP target on one loopback address that a test can cut off (connection refused) and
/// bring back.
struct RegionTarget {
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl RegionTarget {
    async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(|| async { "ok" });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, server: Some(server) })
    }

    /// Three targets on 127.0.0.2, .3 and .4, all on one port.
    async fn three() -> [Self; 3] {
        for _ in 0..20 {
            let first = Self::bind("127.0.0.2:0".parse().unwrap()).await.unwrap();
            let port = first.addr.port();
            let (Ok(second), Ok(third)) = (
                Self::bind(SocketAddr::from(([127, 0, 0, 3], port))).await,
                Self::bind(SocketAddr::from(([127, 0, 0, 4], port))).await,
            ) else {
                continue;
            };
            return [first, second, third];
        }
        panic!("no port free on 127.0.0.2-4");
    }

    async fn cut(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    async fn restore(&mut self) {
        *self = Self::bind(self.addr).await.unwrap();
    }
}

/// A real `belfry` process (a probe, or a server on a fixed port); killed when dropped.
struct Process(Child);

impl Process {
    fn probe(dir: &Path, server: &str, token: &str, region: &str, target_ip: &str) -> Self {
        let log = std::fs::File::create(dir.join(format!("probe-{region}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_belfry"))
            .args(["probe", "--server", server, "--region", region, "--interval", "1s"])
            .args(["--resolve", &format!("target.belfry.test={target_ip}")])
            .env("BELFRY_TOKEN", token)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("belfry probe starts");
        Self(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn token(dir: &Path, config: &str, scope: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", scope, "--config", config, "--data", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn monitor(server: &Server, read: &str) -> Value {
    let (status, body) = get_json(&server.url("/api/v1/monitors/api"), Some(read)).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn region<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["regions"].as_array().unwrap().iter().find(|r| r["region"] == name).unwrap()
}

async fn down_transitions(server: &Server, read: &str) -> usize {
    let (_, body) = get_json(&server.url("/api/v1/monitors/api/transitions"), Some(read)).await;
    body["transitions"].as_array().unwrap().iter().filter(|t| t["to"] == "down").count()
}

fn logs(dir: &Path, server: &Server) -> String {
    let mut out = format!("server:\n{}\n", server.logs());
    for region in ["eu", "us", "ap"] {
        let log = std::fs::read_to_string(dir.join(format!("probe-{region}.log"))).unwrap_or_default();
        out.push_str(&format!("probe {region}:\n{log}\n"));
    }
    out
}

#[tokio::test]
async fn three_real_probes_with_quorum_two_one_region_cut_off_is_no_outage_two_are() {
    let [mut eu_target, mut us_target, _ap_target] = RegionTarget::three().await;
    let hook = Receiver::start().await;
    let port = eu_target.addr.port();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
components: [{{id: api, name: API}}]
monitors:
  - {{id: api, kind: http, component: api, url: "http://target.belfry.test:{port}/health", interval: 1s, timeout: 1s,
     regions: [eu, us, ap], quorum: 2, failure: {{threshold: 2}}, recovery: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up, probe_missing], escalation: default}}
"#,
        hook.url("/hook")
    );
    let cfg = write(dir.path(), "belfry.yaml", &config);
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let read = token(dir.path(), &cfg, "read");
    let probe_token = token(dir.path(), &cfg, "probe");
    let _eu = Process::probe(dir.path(), &server.base, &probe_token, "eu", "127.0.0.2");
    let _us = Process::probe(dir.path(), &server.base, &probe_token, "us", "127.0.0.3");
    let mut ap = Process::probe(dir.path(), &server.base, &probe_token, "ap", "127.0.0.4");
    let limit = Duration::from_secs(20);

    let all_fresh = |body: &Value| {
        body["regions"].as_array().is_some_and(|r| {
            r.len() == 3
                && r.iter()
                    .all(|r| r["stale"] == false && r["state"] == "up" && r["last_result"]["ok"] == true)
        })
    };
    eventually("three regions reporting up", limit, || async {
        let body = monitor(&server, &read).await;
        (all_fresh(&body) && body["state"] == "up").then_some(())
    })
    .await;

    // One region cut off (its probe's target unreachable): no outage.
    eu_target.cut().await;
    let body = eventually("eu down in its own region", limit, || async {
        let body = monitor(&server, &read).await;
        (region(&body, "eu")["state"] == "down").then_some(body)
    })
    .await;
    let error = region(&body, "eu")["last_result"]["error"].as_str().unwrap_or_default().to_owned();
    assert!(error.contains("connection refused"), "{error}");
    for _ in 0..30 {
        let body = monitor(&server, &read).await;
        assert_ne!(
            body["state"],
            "down",
            "one region of three is not an outage: {body}\n{}",
            logs(dir.path(), &server)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(down_transitions(&server, &read).await, 0);

    // Two regions: an outage, with the regions named.
    us_target.cut().await;
    eventually("down by quorum", limit, || async {
        (monitor(&server, &read).await["state"] == "down").then_some(())
    })
    .await;
    let (_, body) = get_json(&server.url("/api/v1/monitors/api/transitions?limit=1"), Some(&read)).await;
    let reason = body["transitions"][0]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(reason.starts_with("down in 2 of 3 regions (eu, us; quorum 2)"), "{reason}");
    assert_eq!(region(&monitor(&server, &read).await, "ap")["state"], "up");

    // Both come back: up again.
    eu_target.restore().await;
    us_target.restore().await;
    eventually("up again", limit, || async {
        (monitor(&server, &read).await["state"] == "up").then_some(())
    })
    .await;

    // A probe stops reporting: a probe_missing alert, and no outage of its monitors.
    ap.kill();
    let alert = eventually("a probe_missing webhook", limit, || async {
        hook.bodies().into_iter().find(|b| b["event"] == "probe_missing")
    })
    .await;
    assert!(alert.to_string().contains("region ap"), "{alert}");
    let (status, probes) = get_json(&server.url("/api/v1/probes"), Some(&read)).await;
    assert_eq!(status, 200);
    let ap_status =
        probes["probes"].as_array().unwrap().iter().find(|p| p["region"] == "ap").unwrap().clone();
    assert_eq!(ap_status["missing"], true, "{probes}");
    eventually("ap stale", limit, || async {
        let body = monitor(&server, &read).await;
        (region(&body, "ap")["stale"] == true).then_some(())
    })
    .await;
    let body = monitor(&server, &read).await;
    assert_eq!(body["state"], "up", "a missing probe is not an outage: {body}");
    assert_eq!(down_transitions(&server, &read).await, 1, "only the quorum outage");
}

/// `belfry serve` on a fixed loopback port (so a restart is found at the same address).
fn serve_on(dir: &Path, config: &str, port: u16) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["serve", "--config", config, "--data", "data", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env_remove("BELFRY_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("belfry serve starts");
    Process(child)
}

#[tokio::test]
async fn a_probe_buffers_results_while_the_server_is_unreachable_and_delivers_them_after() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "monitors:\n  - {{id: api, kind: http, url: \"{}\", interval: 1s, timeout: 1s, regions: [eu], quorum: 1}}\n",
        target.url("/health")
    );
    let cfg = write(dir.path(), "belfry.yaml", &config);
    let read = token(dir.path(), &cfg, "read");
    let probe_token = token(dir.path(), &cfg, "probe");
    let port = closed_port();
    let base = format!("http://127.0.0.1:{port}");
    let url = |path: &str| format!("{base}{path}");
    let limit = Duration::from_secs(20);
    let ready = || async {
        let up = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok();
        (up && request_text("GET", &url("/readyz"), None).await.0 == 200).then_some(())
    };

    let mut server = serve_on(dir.path(), &cfg, port);
    eventually("the server", limit, ready).await;
    let _eu = Process::probe(dir.path(), &base, &probe_token, "eu", "127.0.0.1");
    eventually("results from eu", limit, || async {
        let (_, body) = get_json(&url("/api/v1/monitors/api"), Some(&read)).await;
        (body["regions"][0]["stale"] == false).then_some(())
    })
    .await;

    server.kill();
    let down_from = Timestamp::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let down_until = Timestamp::now();
    let mut server = serve_on(dir.path(), &cfg, port);
    eventually("the server again", limit, ready).await;

    let during = |results: &Value| {
        results["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["region"] == "eu")
            .filter_map(|r| r["at"].as_str()?.parse::<Timestamp>().ok())
            .filter(|at| *at > down_from && *at < down_until)
            .count()
    };
    let since = down_from.to_string();
    let count = eventually("the results checked while the server was down", limit, || async {
        let (_, body) =
            get_json(&url(&format!("/api/v1/monitors/api/results?since={since}&limit=100")), Some(&read))
                .await;
        let n = during(&body);
        (n >= 3).then_some(n)
    })
    .await;
    assert!(count <= 5, "about one a second: {count}");
    server.kill();
}

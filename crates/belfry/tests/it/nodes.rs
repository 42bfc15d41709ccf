//! Several nodes on one PostgreSQL database (issue 8): two real `belfry serve` processes split
//! the monitors with no check run twice in an interval, a page change made on one node shows
//! on the other (LISTEN/NOTIFY), the states of monitors run elsewhere are shown, and when one
//! node is killed its monitors move to the survivor within twice the lease. Plus the engine's
//! part, step by step: a monitor taken over resumes its state and waits for its next slot.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use belfry_core::{MonitorId, MonitorState};
use serde_json::json;

use crate::engine::rig;
use crate::postgres::TestDb;
use crate::support::{Server, Target, eventually, get_json, request_text, send_json, write};

/// Monitors that answer 200, each on its own path, checked every `INTERVAL`.
const MONITORS: usize = 12;
const INTERVAL: Duration = Duration::from_secs(2);
/// The documented bound: a killed node's monitors run elsewhere within twice this.
const LEASE: Duration = Duration::from_secs(10);

/// Each request's path (without the leading `/`) and arrival time.
type Hits = Arc<Mutex<Vec<(String, Instant)>>>;

/// An HTTP server recording when each path was hit; `/fail` answers 503.
struct HitLog {
    addr: SocketAddr,
    hits: Hits,
}

impl HitLog {
    async fn start() -> Self {
        let hits: Hits = Arc::default();
        let app = Router::new().fallback(record).with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, hits }
    }

    /// Hit times of each monitor path at or after `since`.
    fn since(&self, since: Instant) -> BTreeMap<String, Vec<Instant>> {
        let mut by_path: BTreeMap<String, Vec<Instant>> = BTreeMap::new();
        for (path, at) in self.hits.lock().unwrap().iter().filter(|(_, at)| *at >= since) {
            by_path.entry(path.clone()).or_default().push(*at);
        }
        by_path
    }
}

async fn record(State(hits): State<Hits>, uri: Uri) -> StatusCode {
    let path = uri.path().trim_start_matches('/').to_owned();
    let status = if path == "fail" { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    hits.lock().unwrap().push((path, Instant::now()));
    status
}

fn config(db: &TestDb, target: &HitLog) -> String {
    let mut yaml = format!(
        "storage: {{url: \"{}\", max_connections: 4}}\n\
         components: [{{id: api, name: API}}, {{id: broken, name: Broken}}]\n\
         monitors:\n\
         \x20 - {{id: bad, kind: http, component: broken, url: \"http://{}/fail\", interval: 1s, timeout: 1s, \
         failure: {{threshold: 1}}}}\n",
        db.url(),
        target.addr
    );
    for i in 0..MONITORS {
        yaml.push_str(&format!(
            "  - {{id: m{i:02}, kind: http, url: \"http://{}/m{i:02}\", interval: {}s, timeout: 1s}}\n",
            target.addr,
            INTERVAL.as_secs()
        ));
    }
    yaml
}

/// The metrics of a node: `belfry_checks_total` summed per monitor, and the plain gauges.
async fn metrics(server: &Server) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
    let (_, text) = request_text("GET", &server.url("/metrics"), None).await;
    let (mut checks, mut gauges) = (BTreeMap::new(), BTreeMap::new());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        if let Some(labels) = series.strip_prefix("belfry_checks_total{") {
            let monitor = labels.split("monitor=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
            *checks.entry(monitor.to_owned()).or_insert(0.0) += value;
        } else if !series.contains('{') {
            gauges.insert(series.to_owned(), value);
        }
    }
    (checks, gauges)
}

/// Monitors whose check count grew between two snapshots.
fn checked(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeSet<String> {
    after.iter().filter(|(m, n)| before.get(*m).is_none_or(|b| *n > b)).map(|(m, _)| m.clone()).collect()
}

/// Fails if a monitor was checked twice within one interval (two nodes share a phase grid, so
/// a double run shows as two hits close together), naming the offenders.
fn assert_never_twice_in_an_interval(hits: &BTreeMap<String, Vec<Instant>>) {
    let half = INTERVAL / 2;
    for (path, times) in hits.iter().filter(|(p, _)| p.starts_with('m')) {
        for pair in times.windows(2) {
            let gap = pair[1].duration_since(pair[0]);
            assert!(gap >= half, "{path} was checked twice {gap:?} apart (interval {INTERVAL:?})");
        }
    }
}

fn token(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", "write"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn component_status(server: &Server, id: &str) -> Option<String> {
    let (_, summary) = get_json(&server.url("/api/v2/summary.json"), None).await;
    let components = summary["components"].as_array()?;
    Some(components.iter().find(|c| c["id"] == id)?["status"].as_str()?.to_owned())
}

#[tokio::test]
async fn two_nodes_share_the_monitors_and_a_killed_nodes_move_to_the_survivor() {
    let db = TestDb::create("nodes");
    let target = HitLog::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&db, &target));
    // Every node must open the same vault: one master key for both.
    let key = write(dir.path(), "master.key", &"5a".repeat(32));
    let node = |data: &'static str| ["--config", cfg.as_str(), "--data", data, "--key-file", key.as_str()];
    let write_token = token(dir.path(), &node("a"));
    let mut a = Server::start(dir.path(), &node("a"));
    let b = Server::start(dir.path(), &node("b"));

    // Two live nodes: each settles on half of the 64 buckets.
    let settled = |server: &Server| {
        let url = server.url("/metrics");
        move || {
            let url = url.clone();
            async move {
                let (_, text) = request_text("GET", &url, None).await;
                text.lines().any(|l| l == "belfry_node_buckets 32").then_some(())
            }
        }
    };
    eventually("node a holds half the buckets", Duration::from_secs(60), settled(&a)).await;
    eventually("node b holds half the buckets", Duration::from_secs(60), settled(&b)).await;

    // Several intervals of both nodes at work.
    let start = Instant::now();
    let (a_before, b_before) = (metrics(&a).await.0, metrics(&b).await.0);
    tokio::time::sleep(INTERVAL * 4).await;
    let ((a_after, a_gauges), (b_after, b_gauges)) = (metrics(&a).await, metrics(&b).await);
    let (by_a, by_b) = (checked(&a_before, &a_after), checked(&b_before, &b_after));
    assert!(!by_a.is_empty() && !by_b.is_empty(), "both nodes run monitors: a {by_a:?}, b {by_b:?}");
    assert!(by_a.is_disjoint(&by_b), "no monitor runs on both: a {by_a:?}, b {by_b:?}");
    assert_eq!(by_a.len() + by_b.len(), MONITORS + 1, "every monitor runs: a {by_a:?}, b {by_b:?}");
    assert_eq!(
        a_gauges.get("belfry_node_desk").copied().unwrap_or(0.0)
            + b_gauges.get("belfry_node_desk").copied().unwrap_or(0.0),
        1.0,
        "exactly one desk"
    );
    let hits = target.since(start);
    assert_eq!(hits.keys().filter(|p| p.starts_with('m')).count(), MONITORS, "{hits:?}");
    assert_never_twice_in_an_interval(&hits);

    // Whichever node runs the failing monitor, both pages show its component down.
    for server in [&a, &b] {
        eventually("the failing monitor's component down on both nodes", Duration::from_secs(20), || async {
            (component_status(server, "broken").await.as_deref() == Some("major_outage")).then_some(())
        })
        .await;
    }

    // An incident posted on a shows on b's page at once (NOTIFY), not at its 10 s refresh.
    let incident = json!({"name": "Shared database test", "status": "investigating", "impact": "minor",
        "body": "Checking", "components": {"api": "degraded_performance"}});
    let (status, body) = send_json("POST", &a.url("/api/v1/incidents"), Some(&write_token), &incident).await;
    assert_eq!(status, 201, "{body}");
    let posted = Instant::now();
    eventually("the incident on node b's page", Duration::from_secs(6), || async {
        let (_, summary) = get_json(&b.url("/api/v2/summary.json"), None).await;
        summary["incidents"].as_array()?.iter().any(|i| i["name"] == "Shared database test").then_some(())
    })
    .await;
    let shown_after = posted.elapsed();

    // kill -9 a: within twice the lease every monitor is being checked again, by b alone.
    a.kill();
    let killed = Instant::now();
    // A check a had in flight may still land just after the kill.
    let after_kill = killed + Duration::from_millis(1500);
    eventually("every monitor checked by the survivor", LEASE * 2, || async {
        let hits = target.since(after_kill);
        (hits.keys().filter(|p| p.starts_with('m')).count() == MONITORS).then_some(())
    })
    .await;
    let moved_after = killed.elapsed();
    let (_, gauges) = metrics(&b).await;
    assert_eq!(gauges.get("belfry_node_buckets").copied(), Some(64.0), "{gauges:?}");
    assert_eq!(gauges.get("belfry_node_desk").copied(), Some(1.0), "{gauges:?}");
    tokio::time::sleep(INTERVAL * 3).await;
    assert_never_twice_in_an_interval(&target.since(start));
    assert_eq!(component_status(&b, "broken").await.as_deref(), Some("major_outage"));
    eprintln!("incident shown on the other node after {shown_after:?}; monitors moved after {moved_after:?}");
}

/// The engine's part: a node runs only what it owns; a monitor taken over from another node
/// resumes the state that node persisted and first runs at its next slot, not at once.
#[tokio::test]
async fn a_monitor_taken_over_resumes_its_state_and_waits_for_its_next_slot() {
    let target = Target::start().await;
    let yaml = format!(
        "monitors:\n  - {{id: mine, kind: http, url: \"{url}\", interval: 10s, failure: {{threshold: 1}}}}\n  \
         - {{id: theirs, kind: http, url: \"{url}\", interval: 10s, failure: {{threshold: 1}}}}\n",
        url = target.url("/health")
    );
    let here = rig(&yaml).await;
    let id = |s: &str| MonitorId::parse(s).unwrap();
    here.engine.set_owned(Some(HashSet::from([id("mine")]))).await;
    let ten = Duration::from_secs(10);
    for _ in 0..3 {
        here.engine.tick(here.clock.advance(ten)).await.unwrap();
    }
    assert_eq!(here.store.results(&id("mine"), None, 10).await.unwrap().len(), 3);
    assert!(here.store.results(&id("theirs"), None, 10).await.unwrap().is_empty(), "not ours: never run");

    // Another node (an engine on the same store) ran `theirs` and saw it fail.
    let there = belfry_probe::Engine::new(
        belfry_probe::EngineConfig::default(),
        here.engine.catalog(),
        here.store.clone(),
        here.clock.clone(),
        belfry_probe::Checkers::new(),
    );
    there.set_owned(Some(HashSet::from([id("theirs")]))).await;
    target.set_status(503);
    there.tick(here.clock.advance(ten)).await.unwrap();
    assert_eq!(there.states().iter().find(|s| s.monitor == id("theirs")).unwrap().state, MonitorState::Down);
    let runs = here.store.results(&id("theirs"), None, 10).await.unwrap().len();

    // It moves here: the state comes along, and the slot the other node just ran is not rerun.
    there.set_owned(Some(HashSet::new())).await;
    here.engine.set_owned(Some(HashSet::from([id("mine"), id("theirs")]))).await;
    assert_eq!(here.state("theirs"), MonitorState::Down, "the persisted state is resumed");
    here.engine.tick(here.clock.advance(Duration::ZERO)).await.unwrap();
    assert_eq!(
        here.store.results(&id("theirs"), None, 10).await.unwrap().len(),
        runs,
        "not run again at once"
    );
    here.engine.tick(here.clock.advance(ten)).await.unwrap();
    assert_eq!(
        here.store.results(&id("theirs"), None, 10).await.unwrap().len(),
        runs + 1,
        "run at its next slot"
    );
}

/// A heartbeat pinged at a node that does not run it: the ping is not judged there (its owner,
/// told over LISTEN/NOTIFY, judges it), but it is remembered, so the monitor does not go down
/// when this node takes it over.
#[tokio::test]
async fn a_ping_at_another_node_is_remembered_not_judged_there() {
    let yaml = r#"
monitors:
  - {id: nightly, kind: heartbeat, token: "0123456789abcdef-token", expect_every: 60s, grace: 30s,
     interval: 10s, failure: {threshold: 1}, recovery: {threshold: 1}}
"#;
    let here = rig(yaml).await;
    let id = MonitorId::parse("nightly").unwrap();
    here.engine.set_owned(Some(HashSet::new())).await;
    here.clock.advance(Duration::from_secs(80));
    assert_eq!(here.engine.push("0123456789abcdef-token", None).unwrap(), id);
    here.engine.flush().await.unwrap();
    assert!(here.store.results(&id, None, 10).await.unwrap().is_empty(), "not judged here");

    // Taken over: 120 s after the start is late for a monitor never pinged, in time for the
    // ping 40 s ago.
    here.engine.set_owned(Some(HashSet::from([id.clone()]))).await;
    here.engine.tick(here.clock.advance(Duration::from_secs(40))).await.unwrap();
    assert_eq!(here.store.results(&id, None, 10).await.unwrap().len(), 1, "run once taken over");
    assert_eq!(here.state("nightly"), MonitorState::Up, "the remembered ping counts");
}

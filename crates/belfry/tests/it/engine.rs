//! The engine driven step by step on a fake clock, with the real SQLite store and real targets.

use std::sync::Arc;
use std::time::Duration;

use belfry::config;
use belfry_core::component::derive_status;
use belfry_core::store::Storage;
use belfry_core::{Clock, ComponentStatus, MonitorId, MonitorState, Store};
use belfry_probe::{Checkers, Engine, EngineConfig};

use crate::support::{FakeClock, Target, closed_port};

pub struct Rig {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    pub storage: Arc<dyn Storage>,
    pub clock: Arc<FakeClock>,
    pub _dir: tempfile::TempDir,
}

pub async fn rig(yaml: &str) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    rig_in(dir, yaml).await
}

pub async fn rig_in(dir: tempfile::TempDir, yaml: &str) -> Rig {
    let url = format!("sqlite://{}", dir.path().join("belfry.db").display());
    let storage = belfry::app::open_store(&url, 4).await.unwrap();
    let store: Arc<dyn Store> = storage.clone();
    let (engine, clock) = engine_on(store.clone(), yaml).await;
    Rig { engine, store, storage, clock, _dir: dir }
}

/// An engine over `store` running the monitors of `yaml` on a fake clock, resumed from the
/// store.
pub async fn engine_on(store: Arc<dyn Store>, yaml: &str) -> (Arc<Engine>, Arc<FakeClock>) {
    let settings = config::load_str("test.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let clock = FakeClock::at(1_800_000_000);
    let engine = Engine::new(
        EngineConfig::default(),
        Arc::new(settings.catalog),
        store,
        clock.clone(),
        Checkers::new(),
    );
    engine.resume().await.unwrap();
    (engine, clock)
}

impl Rig {
    /// Advances one interval and runs what is due; returns the monitor's state after.
    pub async fn step(&self, id: &str, interval: Duration) -> MonitorState {
        let now = self.clock.advance(interval);
        self.engine.tick(now).await.unwrap();
        self.state(id)
    }

    pub fn state(&self, id: &str) -> MonitorState {
        self.engine.states().into_iter().find(|s| s.monitor.as_str() == id).unwrap().state
    }

    pub fn component_status(&self, component: &str) -> ComponentStatus {
        let catalog = self.engine.catalog();
        let states = self.engine.states();
        let id = MonitorId::parse(component).unwrap();
        derive_status(
            catalog
                .monitors_of(&id)
                .map(|m| (states.iter().find(|s| s.monitor == m.id).unwrap().state, m.impact)),
        )
    }
}

fn http_monitor(url: &str, extra: &str) -> String {
    format!(
        r#"
components: [{{id: api, name: API}}]
monitors:
  - id: api-http
    kind: http
    component: api
    url: {url}
    interval: 10s
    timeout: 2s
    conditions: ["[STATUS] == 200"]
    failure: {{threshold: 3}}
    recovery: {{threshold: 2}}
{extra}"#
    )
}

const TEN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn down_only_by_policy_and_up_after_recovery_threshold() {
    let target = Target::start().await;
    let rig = rig(&http_monitor(&target.url("/health"), "")).await;
    use MonitorState::*;
    assert_eq!(rig.step("api-http", TEN).await, Up);
    target.set_status(503);
    assert_eq!(rig.step("api-http", TEN).await, Suspected);
    assert_eq!(rig.component_status("api"), ComponentStatus::Operational, "suspected is not public");
    assert_eq!(rig.step("api-http", TEN).await, Suspected);
    assert_eq!(rig.step("api-http", TEN).await, Down);
    assert_eq!(rig.component_status("api"), ComponentStatus::MajorOutage);
    target.set_status(200);
    assert_eq!(rig.step("api-http", TEN).await, Down, "one success is not recovery");
    assert_eq!(rig.step("api-http", TEN).await, Up);
    assert_eq!(rig.component_status("api"), ComponentStatus::Operational);

    // Every transition is durable, with its evidence and the failed condition worded like Gatus.
    let id = MonitorId::parse("api-http").unwrap();
    let transitions = rig.store.transitions(Some(&id), None, 100).await.unwrap();
    let path: Vec<_> = transitions.iter().rev().map(|t| (t.from, t.to)).collect();
    assert_eq!(path, [(Up, Suspected), (Suspected, Down), (Down, Up)]);
    let down = &transitions[1];
    assert_eq!(down.event(), Some("down"));
    assert_eq!(down.reason.as_deref(), Some("[STATUS] (503) == 200"));
    assert_eq!(down.results.len(), 3);
    assert!(down.results.iter().all(|r| !r.ok && r.status == Some(503)));
    let results = rig.store.results(&id, None, 100).await.unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(target.hits(), 6);
}

#[tokio::test]
async fn a_blip_shorter_than_the_threshold_never_changes_public_status() {
    let target = Target::start().await;
    let rig = rig(&http_monitor(&target.url("/"), "")).await;
    for round in 0..5 {
        target.set_status(if round % 2 == 0 { 500 } else { 200 });
        for _ in 0..2 {
            rig.step("api-http", TEN).await;
            assert_eq!(rig.component_status("api"), ComponentStatus::Operational);
            assert_ne!(rig.state("api-http"), MonitorState::Down);
        }
    }
    let id = MonitorId::parse("api-http").unwrap();
    let transitions = rig.store.transitions(Some(&id), None, 100).await.unwrap();
    assert!(transitions.iter().all(|t| t.event().is_none()), "no public event: {transitions:?}");
}

#[tokio::test]
async fn failures_within_a_window_count_even_between_successes() {
    let target = Target::start().await;
    let yaml = http_monitor(&target.url("/"), "")
        .replace("failure: {threshold: 3}", "failure: {threshold: 3, within: 5m}");
    let rig = rig(&yaml).await;
    use MonitorState::*;
    let mut seen = vec![];
    for status in [500, 200, 500, 200, 500] {
        target.set_status(status);
        seen.push(rig.step("api-http", Duration::from_secs(60)).await);
    }
    assert_eq!(seen, [Suspected, Up, Suspected, Up, Down]);
}

#[tokio::test]
async fn refused_timeout_and_degraded_are_reported_with_reasons() {
    let slow = Target::start().await;
    slow.set_delay(Duration::from_secs(5));
    let fast = Target::start().await;
    let yaml = format!(
        r#"
monitors:
  - {{id: refused, kind: http, url: "http://127.0.0.1:{}/", interval: 10s, failure: {{threshold: 1}}}}
  - {{id: slow, kind: http, url: "{}", interval: 10s, timeout: 500ms, failure: {{threshold: 1}}}}
  - {{id: tcp-refused, kind: tcp, host: 127.0.0.1, port: {}, interval: 10s, failure: {{threshold: 1}}}}
  - id: degraded
    kind: http
    url: "{}"
    interval: 10s
    degraded_when: ["[RESPONSE_TIME] >= 0"]
"#,
        closed_port(),
        slow.url("/"),
        closed_port(),
        fast.url("/")
    );
    let rig = rig(&yaml).await;
    let now = rig.clock.advance(TEN);
    rig.engine.tick(now).await.unwrap();
    for id in ["refused", "slow", "tcp-refused"] {
        assert_eq!(rig.state(id), MonitorState::Down, "{id}");
    }
    assert_eq!(rig.state("degraded"), MonitorState::Degraded);
    let reason = |id: &str| {
        let store = rig.store.clone();
        let id = MonitorId::parse(id).unwrap();
        async move { store.results(&id, None, 1).await.unwrap()[0].error.clone().unwrap_or_default() }
    };
    assert!(reason("refused").await.contains("connection refused"), "{}", reason("refused").await);
    assert!(reason("slow").await.contains("timed out"), "{}", reason("slow").await);
    assert!(reason("tcp-refused").await.contains("connection refused"));
}

#[tokio::test]
async fn heartbeats_expire_and_pings_bring_them_back() {
    let yaml = r#"
components: [{id: backup, name: Backups}]
monitors:
  - {id: nightly, kind: heartbeat, component: backup, token: "0123456789abcdef-token", expect_every: 60s, grace: 30s,
     interval: 10s, failure: {threshold: 1}, recovery: {threshold: 1}}
"#;
    let rig = rig(yaml).await;
    let step = Duration::from_secs(30);
    assert_eq!(rig.step("nightly", step).await, MonitorState::Up);
    assert_eq!(rig.step("nightly", step).await, MonitorState::Up);
    assert_eq!(
        rig.step("nightly", step).await,
        MonitorState::Up,
        "90 s = expect_every + grace is still in time"
    );
    assert_eq!(rig.step("nightly", step).await, MonitorState::Down);
    assert_eq!(rig.component_status("backup"), ComponentStatus::MajorOutage);

    assert_eq!(rig.engine.push("0123456789abcdef-token", None).unwrap().as_str(), "nightly");
    rig.engine.flush().await.unwrap();
    assert_eq!(rig.state("nightly"), MonitorState::Up);
    assert!(rig.engine.push("wrong-token", None).is_err());

    // A pinger reporting itself down fails until it reports healthy again.
    rig.engine.push("0123456789abcdef-token", Some("disk full".into())).unwrap();
    rig.engine.flush().await.unwrap();
    assert_eq!(rig.state("nightly"), MonitorState::Down);
    assert_eq!(rig.step("nightly", Duration::from_secs(10)).await, MonitorState::Down);
    let id = MonitorId::parse("nightly").unwrap();
    let last = rig.store.results(&id, None, 1).await.unwrap().remove(0);
    assert_eq!(last.error.as_deref(), Some("reported down: disk full"));
}

#[tokio::test]
async fn a_failed_connectivity_guard_makes_failures_inconclusive() {
    let yaml = format!(
        r#"
connectivity: {{targets: ["127.0.0.1:{}"], timeout: 1s}}
monitors:
  - {{id: far, kind: tcp, host: 127.0.0.1, port: {}, interval: 10s, failure: {{threshold: 1}}}}
"#,
        closed_port(),
        closed_port()
    );
    let rig = rig(&yaml).await;
    for _ in 0..3 {
        assert_eq!(rig.step("far", TEN).await, MonitorState::Up);
    }
    let id = MonitorId::parse("far").unwrap();
    let results = rig.store.results(&id, None, 10).await.unwrap();
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r.inconclusive && !r.ok));
}

#[tokio::test]
async fn policy_memory_and_schedule_survive_a_restart() {
    let target = Target::start().await;
    target.set_status(503);
    let yaml = http_monitor(&target.url("/"), "");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let first = rig_in(dir, &yaml).await;
    first.step("api-http", TEN).await;
    first.step("api-http", TEN).await;
    assert_eq!(first.state("api-http"), MonitorState::Suspected);
    let Rig { _dir: dir, clock, .. } = first;
    assert_eq!(dir.path(), path);

    // A new engine on the same data resumes the failure count: one more failure is the third.
    let second = rig_in(dir, &yaml).await;
    second.clock.advance(clock.now().duration_since(second.clock.now()).try_into().unwrap());
    assert_eq!(second.step("api-http", TEN).await, MonitorState::Down);
}

#[tokio::test]
async fn paused_monitors_are_not_checked_and_reload_resumes_them() {
    let target = Target::start().await;
    let yaml = http_monitor(&target.url("/"), "    paused: true\n");
    let rig = rig(&yaml).await;
    assert_eq!(rig.step("api-http", TEN).await, MonitorState::Paused);
    assert_eq!(target.hits(), 0);
    let unpaused = config::load_str("t.yaml", &http_monitor(&target.url("/"), "")).unwrap();
    rig.engine.apply(Arc::new(unpaused.catalog));
    assert_eq!(rig.step("api-http", TEN).await, MonitorState::Up);
    assert_eq!(target.hits(), 1);
}

//! PostgreSQL under the engine and the server (P2): while the database is unreachable the
//! engine keeps deciding states from memory and `/readyz` says why it is not ready; once the
//! database is back, buffered results and transitions are written and readiness returns,
//! without restarting Belfry. Needs PostgreSQL on 127.0.0.1:5432 (`psql` drives it).

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use belfry_core::{MonitorId, MonitorState};
use belfry_probe::Engine;

use belfry::service::Service;
use belfry::settings::ConfigSource;
use belfry_core::Clock;
use belfry_core::alert::DeliveryStatus;
use belfry_core::store::Storage;
use belfry_notify::dispatch::{Dispatcher, DispatcherConfig};

use crate::engine::engine_on;
use crate::support::{FakeClock, Receiver, Server, Target, eventually, get_json, test_vault, write};

/// A database of its own, dropped with this.
pub struct TestDb {
    admin: String,
    name: String,
}

fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql])
        .output()
        .map_err(|e| format!("cannot run psql (scripts/test installs postgresql-client): {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl TestDb {
    pub fn create(tag: &str) -> Self {
        let candidates = match std::env::var("BELFRY_TEST_POSTGRES_URL") {
            Ok(url) => vec![url],
            Err(_) => ["postgres", "root"].map(|u| format!("postgres://{u}@127.0.0.1:5432/test")).to_vec(),
        };
        let mut errors = vec![];
        for admin in candidates {
            match psql(&admin, "SELECT 1") {
                Ok(_) => {
                    let name = format!("belfry_it_{tag}_{}", std::process::id());
                    psql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
                    psql(&admin, &format!("CREATE DATABASE {name}")).unwrap();
                    return Self { admin, name };
                }
                Err(e) => errors.push(format!("{admin}: {}", e.trim())),
            }
        }
        panic!(
            "PostgreSQL is required (127.0.0.1:5432, database `test`, trust auth; or set \
             BELFRY_TEST_POSTGRES_URL) and could not be reached:\n  {}",
            errors.join("\n  ")
        )
    }

    pub fn url(&self) -> String {
        let (base, _) = self.admin.rsplit_once('/').unwrap();
        format!("{base}/{}", self.name)
    }

    /// Refuses new connections and ends the open ones (what a restart looks like to clients),
    /// or accepts connections again.
    fn set_reachable(&self, reachable: bool) {
        psql(&self.admin, &format!("ALTER DATABASE {} ALLOW_CONNECTIONS {reachable}", self.name)).unwrap();
        if !reachable {
            let kill = format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}'",
                self.name
            );
            psql(&self.admin, &kill).unwrap();
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = psql(&self.admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

#[tokio::test]
async fn the_engine_keeps_deciding_while_postgres_is_away_and_writes_everything_after() {
    let db = TestDb::create("engine");
    let target = Target::start().await;
    let yaml = format!(
        "monitors:\n  - {{id: api-http, kind: http, url: \"{}\", interval: 10s, timeout: 2s, \
         failure: {{threshold: 3}}, recovery: {{threshold: 2}}}}\n",
        target.url("/health")
    );
    let store = belfry::app::open_store(&db.url(), 2).await.unwrap();
    let (engine, clock) = engine_on(store.clone(), &yaml).await;
    let state = || engine.states()[0].state;
    let ten = Duration::from_secs(10);

    engine.tick(clock.advance(ten)).await.unwrap();
    assert_eq!(state(), MonitorState::Up);

    db.set_reachable(false);
    target.set_status(503);
    let mut seen = vec![];
    for _ in 0..3 {
        let err = engine.tick(clock.advance(ten)).await.unwrap_err();
        assert!(matches!(err, belfry_core::StoreError::Unavailable(_)), "{err:?}");
        seen.push(state());
    }
    assert_eq!(seen, [MonitorState::Suspected, MonitorState::Suspected, MonitorState::Down]);
    assert!(store.ping().await.is_err());

    db.set_reachable(true);
    target.set_status(200);
    let written = engine.tick(clock.advance(ten)).await.unwrap();
    assert_eq!(written.len(), 2, "the buffered transitions are written with the next batch: {written:?}");
    let id = MonitorId::parse("api-http").unwrap();
    let path: Vec<_> =
        store.transitions(Some(&id), None, 10).await.unwrap().iter().rev().map(|t| (t.from, t.to)).collect();
    use MonitorState::*;
    assert_eq!(path, [(Up, Suspected), (Suspected, Down)]);
    assert_eq!(store.results(&id, None, 100).await.unwrap().len(), 5, "no result lost");
    let persisted = store.policy_states().await.unwrap();
    assert_eq!(persisted[0].1.state, Down, "one success is not recovery");
}

#[tokio::test]
async fn readyz_reports_postgres_away_and_back_without_a_restart() {
    let db = TestDb::create("readyz");
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "belfry.yaml",
        &format!("storage: {{url: \"{}\", max_connections: 3}}\nmonitors: []\n", db.url()),
    );
    let server = Server::start(dir.path(), &["--config", &config]);
    let ready = |want: u16| {
        let url = server.url("/readyz");
        move || {
            let url = url.clone();
            async move {
                let (status, body) = get_json(&url, None).await;
                (status == want).then_some(body)
            }
        }
    };
    eventually("ready on PostgreSQL", Duration::from_secs(10), ready(200)).await;

    db.set_reachable(false);
    let body = eventually("not ready while PostgreSQL is away", Duration::from_secs(10), ready(503)).await;
    let why = body["store"].as_str().unwrap_or_default();
    assert!(why.contains("not currently accepting connections"), "{body}\n{}", server.logs());

    db.set_reachable(true);
    eventually("ready again", Duration::from_secs(10), ready(200)).await;
}

/// Alerting over a PostgreSQL database of its own: a monitor paging `first` at once and
/// `backup` ten minutes on, for down and up.
struct DirectRig {
    db: TestDb,
    target: Target,
    first: Receiver,
    backup: Receiver,
    store: Arc<dyn Storage>,
    clock: Arc<FakeClock>,
    engine: Arc<Engine>,
    dispatch: Dispatcher,
}

async fn direct_rig(tag: &str) -> DirectRig {
    let db = TestDb::create(tag);
    let target = Target::start().await;
    let (first, backup) = (Receiver::start().await, Receiver::start().await);
    let yaml = format!(
        r#"
page: {{title: Acme Status, public_url: "http://status.acme.test"}}
monitors:
  - {{id: api-http, name: Internal API, kind: http, url: "{}", interval: 10s, timeout: 2s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
  - {{id: backup-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}, {{after: 10m, notify: [backup-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up], escalation: default}}
"#,
        target.url("/health"),
        first.url("/hook"),
        backup.url("/hook")
    );
    let store = belfry::app::open_store(&db.url(), 2).await.unwrap();
    let (engine, clock) = engine_on(store.clone(), &yaml).await;
    let runtime = Arc::new(Service::new(
        engine.clone(),
        store.clone(),
        ConfigSource::Example("127.0.0.1:1".parse().unwrap()),
        test_vault(&store),
    ));
    let http = belfry_notify::HttpClient::new().unwrap();
    let dispatch =
        Dispatcher::new(store.clone(), runtime, http, DispatcherConfig::new(b"test-ack-key".to_vec()));
    DirectRig { db, target, first, backup, store, clock, engine, dispatch }
}

/// Issue 8: a database outage is often the incident itself, so while PostgreSQL refuses
/// connections the dispatcher pages directly from the engine's unwritten transitions (first
/// escalation step only); once it is back the alert is stored, the first step is not sent
/// again, and the escalation goes on from its next step.
#[tokio::test]
async fn alerts_go_out_from_memory_while_postgres_is_away_and_are_not_repeated_after() {
    let DirectRig { db, target, first, backup, store, clock, engine, dispatch } = direct_rig("direct").await;
    let ten = Duration::from_secs(10);
    engine.tick(clock.advance(ten)).await.unwrap();
    dispatch.drain_once(clock.now()).await.unwrap(); // starts following transitions
    assert_eq!(engine.states()[0].state, MonitorState::Up);

    db.set_reachable(false);
    target.set_status(503);
    assert!(engine.tick(clock.advance(ten)).await.is_err());
    assert_eq!(engine.states()[0].state, MonitorState::Down);
    for _ in 0..3 {
        let err = dispatch.drain_once(clock.now()).await.unwrap_err();
        assert!(
            matches!(err, belfry_core::StoreError::Unavailable(_) | belfry_core::StoreError::PoolExhausted),
            "{err:?}"
        );
        clock.advance(Duration::from_secs(1));
    }
    let bodies = first.bodies();
    assert_eq!(bodies.len(), 1, "one direct page while the store is away: {bodies:?}");
    assert_eq!(bodies[0]["event"], "down");
    assert!(bodies[0]["summary"].as_str().unwrap().contains("store is unreachable"), "{}", bodies[0]);
    assert!(bodies[0]["ack_url"].is_null(), "no acknowledge link without the store: {}", bodies[0]);
    assert_eq!(backup.bodies().len(), 0, "only the first step goes out directly");

    db.set_reachable(true);
    engine.tick(clock.advance(ten)).await.unwrap(); // writes the buffered transition
    let report = dispatch.drain_once(clock.now()).await.unwrap();
    assert_eq!(report.alerts_opened, 1, "{report:?}");
    assert_eq!(first.bodies().len(), 1, "not paged again once the store is back");
    let active = store.active_alerts().await.unwrap();
    assert_eq!(active.len(), 1, "{active:?}");
    let sent = store.deliveries(Some(DeliveryStatus::Sent), 10).await.unwrap();
    assert!(
        sent.iter().any(|d| d.channel == "ops-hook"),
        "the direct page is in the outbox as sent: {sent:?}"
    );
    let pending = store.deliveries(Some(DeliveryStatus::Pending), 10).await.unwrap();
    assert!(pending.is_empty(), "{pending:?}");

    // The escalation goes on from its next step.
    clock.advance(Duration::from_secs(600));
    dispatch.drain_once(clock.now()).await.unwrap();
    assert_eq!((first.bodies().len(), backup.bodies().len()), (1, 1));
    assert_eq!(backup.bodies()[0]["event"], "down");
}

/// A recovery while PostgreSQL is still away goes out directly too, resolving the alert paged
/// directly; once the store is back neither is sent again and nothing stays active or pending.
#[tokio::test]
async fn a_recovery_while_postgres_is_away_is_sent_once_from_memory() {
    let DirectRig { db, target, first, backup, store, clock, engine, dispatch } = direct_rig("recover").await;
    let ten = Duration::from_secs(10);
    engine.tick(clock.advance(ten)).await.unwrap();
    dispatch.drain_once(clock.now()).await.unwrap();

    db.set_reachable(false);
    target.set_status(503);
    assert!(engine.tick(clock.advance(ten)).await.is_err());
    assert!(dispatch.drain_once(clock.now()).await.is_err());
    target.set_status(200);
    assert!(engine.tick(clock.advance(ten)).await.is_err());
    assert_eq!(engine.states()[0].state, MonitorState::Up);
    assert!(dispatch.drain_once(clock.now()).await.is_err());
    let events: Vec<_> = first.bodies().iter().map(|b| b["event"].clone()).collect();
    assert_eq!(events, ["down", "up"]);

    db.set_reachable(true);
    engine.tick(clock.advance(ten)).await.unwrap();
    dispatch.drain_once(clock.now()).await.unwrap();
    clock.advance(Duration::from_secs(600));
    dispatch.drain_once(clock.now()).await.unwrap();
    assert_eq!(first.bodies().len(), 2, "{:?}", first.bodies());
    assert_eq!(backup.bodies().len(), 0);
    let active = store.active_alerts().await.unwrap();
    assert!(active.iter().all(|a| !a.event.kind.is_problem()), "the down alert is resolved: {active:#?}");
    assert!(store.deliveries(Some(DeliveryStatus::Pending), 10).await.unwrap().is_empty());
}

/// PostgreSQL at its connection limit (`too many connections`, as with a tiny
/// `max_connections`): the engine keeps deciding, and every transition is written once a
/// connection is free again.
#[tokio::test]
async fn a_database_at_its_connection_limit_loses_no_transition() {
    let db = TestDb::create("connlimit");
    let target = Target::start().await;
    let yaml = format!(
        "monitors:\n  - {{id: api-http, kind: http, url: \"{}\", interval: 10s, timeout: 2s, \
         failure: {{threshold: 2}}, recovery: {{threshold: 1}}}}\n",
        target.url("/health")
    );
    // Connection limits do not bind superusers: Belfry connects as an ordinary role owning the database.
    let role = format!("belfry_it_limited_{}", std::process::id());
    let _ = psql(&db.admin, &format!("DROP ROLE IF EXISTS {role}"));
    psql(&db.admin, &format!("CREATE ROLE {role} LOGIN")).unwrap();
    psql(&db.admin, &format!("ALTER DATABASE {} OWNER TO {role}", db.name)).unwrap();
    let url = format!("postgres://{role}@{}", db.url().split_once('@').unwrap().1);
    let store = belfry::app::open_store(&url, 2).await.unwrap();
    let (engine, clock) = engine_on(store.clone(), &yaml).await;
    let ten = Duration::from_secs(10);
    engine.tick(clock.advance(ten)).await.unwrap();

    // No new connection is allowed and the pool's are ended: every write now meets the limit.
    psql(&db.admin, &format!("ALTER ROLE {role} CONNECTION LIMIT 0")).unwrap();
    let kill = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}'",
        db.name
    );
    psql(&db.admin, &kill).unwrap();
    target.set_status(503);
    for _ in 0..3 {
        assert!(engine.tick(clock.advance(ten)).await.is_err(), "the limit refuses the write");
    }
    assert_eq!(engine.states()[0].state, MonitorState::Down, "decided from memory");
    target.set_status(200);
    assert!(engine.tick(clock.advance(ten)).await.is_err());
    assert_eq!(engine.states()[0].state, MonitorState::Up);

    psql(&db.admin, &format!("ALTER ROLE {role} CONNECTION LIMIT -1")).unwrap();
    let written = eventually("a connection again", Duration::from_secs(20), || async {
        engine.tick(clock.advance(ten)).await.ok()
    })
    .await;
    assert!(written.len() <= 3, "{written:?}");
    let id = MonitorId::parse("api-http").unwrap();
    let path: Vec<_> =
        store.transitions(Some(&id), None, 10).await.unwrap().iter().rev().map(|t| (t.from, t.to)).collect();
    use MonitorState::*;
    assert_eq!(path, [(Up, Suspected), (Suspected, Down), (Down, Up)], "every transition, in order");
    drop(store);
    let admin = db.admin.clone();
    drop(db);
    let _ = psql(&admin, &format!("DROP ROLE IF EXISTS {role}"));
}

//! PostgreSQL under the engine and the server (P2): while the database is unreachable the
//! engine keeps deciding states from memory and `/readyz` says why it is not ready; once the
//! database is back, buffered results and transitions are written and readiness returns,
//! without restarting Belfry. Needs PostgreSQL on 127.0.0.1:5432 (`psql` drives it).

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use belfry::config;
use belfry_core::{MonitorId, MonitorState};
use belfry_probe::{Checkers, Engine, EngineConfig};

use crate::support::{FakeClock, Server, Target, eventually, get_json, write};

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
    let settings = config::load_str("test.yaml", &yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let store = belfry::app::open_store(&db.url(), 2).await.unwrap();
    let clock = FakeClock::at(1_800_000_000);
    let engine = Engine::new(
        EngineConfig::default(),
        Arc::new(settings.catalog),
        store.clone(),
        clock.clone(),
        Checkers::new(),
    );
    engine.resume().await.unwrap();
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

//! The PostgreSQL store: the same conformance story as SQLite, against PostgreSQL on
//! 127.0.0.1:5432 (a fresh database per test, dropped afterwards), plus what only a server can
//! show: reconnecting after its connections are killed, refusing connections, two nodes
//! writing and compacting at once. PostgreSQL missing is a failure, never a skip.

mod pgdb;
mod suite;

use std::sync::Arc;
use std::time::{Duration, Instant};

use belfry_core::policy::{MonitorState, PolicyState};
use belfry_core::store::{Batch, Resolution, Store, StoreError};
use belfry_store::PgStore;
use sqlx::{Connection, Executor, PgConnection};

use pgdb::TestDb;
use suite::{id, result, t};

#[tokio::test]
async fn conformance_story() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    suite::story(Arc::new(store)).await;
}

#[tokio::test]
async fn incident_story() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    suite::incidents::incident_story(Arc::new(store)).await;
}

#[tokio::test]
async fn alert_story() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    suite::alerts::alert_story(Arc::new(store)).await;
}

#[tokio::test]
async fn subscriber_story() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    suite::subscribers::subscriber_story(Arc::new(store)).await;
}

#[tokio::test]
async fn admin_story() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    suite::admin::admin_story(Arc::new(store)).await;
}

#[tokio::test]
async fn reopening_keeps_everything() {
    let db = TestDb::create().await;
    {
        let store = PgStore::open(&db.url(), 2).await.unwrap();
        suite::durable::before_reopen(&store).await;
    }
    // A second open runs the migrations again: already applied, nothing changes.
    let store = PgStore::open(&db.url(), 2).await.unwrap();
    suite::durable::after_reopen(&store).await;
}

/// A store on `db`, and a second connection that has installed `triggers` (which refuse some
/// writes), for the test to drop them with.
async fn with_triggers(db: &TestDb, triggers: &'static str) -> (PgStore, PgConnection) {
    let store = PgStore::open(&db.url(), 2).await.unwrap();
    let mut other = PgConnection::connect(&db.url()).await.unwrap();
    other.execute(sqlx::raw_sql(triggers)).await.unwrap();
    (store, other)
}

#[tokio::test]
async fn a_statement_failing_mid_batch_rolls_back_the_whole_batch() {
    let db = TestDb::create().await;
    let (store, mut other) = with_triggers(
        &db,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
         CREATE TRIGGER refuse_states BEFORE INSERT ON policy_states \
         FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .await;
    suite::durable::write_is_refused(&store).await;
    other.execute("DROP TRIGGER refuse_states ON policy_states").await.unwrap();
    suite::durable::write_is_accepted(&store).await;
}

#[tokio::test]
async fn a_timeline_entry_failing_mid_save_rolls_back_the_incident() {
    let db = TestDb::create().await;
    let (store, mut other) = with_triggers(
        &db,
        "CREATE FUNCTION refuse_notes() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN IF NEW.kind = 'note' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER refuse_notes BEFORE INSERT ON incident_timeline \
         FOR EACH ROW EXECUTE FUNCTION refuse_notes();",
    )
    .await;
    suite::incidents::refused_note_rolls_back_the_save(&store).await;
    other.execute("DROP TRIGGER refuse_notes ON incident_timeline").await.unwrap();
    suite::incidents::note_is_accepted(&store).await;
}

#[tokio::test]
async fn a_statement_failing_mid_replace_or_user_deletion_rolls_back() {
    let db = TestDb::create().await;
    let (store, mut other) = with_triggers(
        &db,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
         CREATE TRIGGER refuse_vault BEFORE INSERT ON vault \
         FOR EACH ROW WHEN (NEW.sealed = 'refused') EXECUTE FUNCTION refuse(); \
         CREATE TRIGGER refuse_user_delete BEFORE DELETE ON users \
         FOR EACH ROW WHEN (OLD.name = 'undeletable') EXECUTE FUNCTION refuse();",
    )
    .await;
    suite::admin::refused_statements_roll_back(&store).await;
    other
        .execute(sqlx::raw_sql(
            "DROP TRIGGER refuse_vault ON vault; DROP TRIGGER refuse_user_delete ON users;",
        ))
        .await
        .unwrap();
    suite::admin::refused_statements_accepted(&store).await;
}

#[tokio::test]
async fn open_refuses_bad_urls_and_unreachable_servers() {
    let err = PgStore::open("sqlite://belfry.db", 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(ref m) if m.contains("not a postgres url")), "{err:?}");
    let err = PgStore::open("postgres://u:secret@127.0.0.1:notaport/db", 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(ref m) if !m.contains("secret")), "{err:?}");

    let db = TestDb::create().await;
    let missing = format!("{}_missing", db.url());
    let err = PgStore::open(&missing, 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(ref m) if m.contains("does not exist")), "{err:?}");
    // Nothing listens on port 1: refused until the acquire timeout, then a clear error.
    let started = Instant::now();
    let err = PgStore::open("postgres://postgres@127.0.0.1:1/test", 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(ref m) if m.contains("127.0.0.1:1")), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    let store = PgStore::open(&db.url(), 3).await.unwrap();
    store.ping().await.unwrap();
    let stats = store.pool_stats();
    assert_eq!(stats.max, 3);
    assert!(stats.size >= 1 && stats.size <= 3 && stats.idle <= stats.size, "{stats:?}");
}

/// P2: PostgreSQL going away (connections killed, new ones refused) makes calls fail fast
/// with `Unavailable`, and calls succeed again once it is back, without reopening the store.
#[tokio::test]
async fn the_pool_reconnects_after_postgres_comes_back() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 3).await.unwrap();
    let write = |i: i64| Batch {
        results: vec![result("api", t(i), true, 5)],
        states: vec![(id("api"), PolicyState::new(MonitorState::Up, t(i)))],
        ..Batch::default()
    };
    store.write(&write(1)).await.unwrap();

    // Connections killed under the pool (a PostgreSQL restart): the next call gets a new one.
    db.kill_connections().await;
    store.write(&write(2)).await.unwrap();
    store.ping().await.unwrap();

    db.set_reachable(false).await;
    let started = Instant::now();
    let err = store.ping().await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(ref m) if m.contains("not currently accepting")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(1_500), "ping took {:?}", started.elapsed());
    let err = store.write(&write(3)).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(matches!(store.latest_results().await, Err(StoreError::Unavailable(_))));

    db.set_reachable(true).await;
    store.ping().await.unwrap();
    store.write(&write(3)).await.unwrap();
    assert_eq!(store.results(&id("api"), None, 10).await.unwrap().len(), 3);
    assert_eq!(
        store.policy_states().await.unwrap(),
        vec![(id("api"), PolicyState::new(MonitorState::Up, t(3)))]
    );
}

/// A TCP relay to PostgreSQL that can be stopped (connections cut, new ones refused) and
/// started again on the same port: a PostgreSQL restart as the pool sees it.
struct Relay {
    port: u16,
    upstream: String,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: String, port: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (to, list) = (upstream.clone(), tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let to = to.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                list.lock().unwrap().push(relay);
            }
        });
        tasks.lock().unwrap().push(accept);
        Relay { port, upstream, tasks }
    }

    /// Stops accepting and cuts every relayed connection.
    fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// The pool behind a real outage: every connection cut and the port refusing connections.
/// Calls fail `Unavailable` (the ping within about a second), and succeed again once the
/// server is back, without reopening the store.
#[tokio::test]
async fn calls_fail_fast_while_the_server_is_down_and_recover_after() {
    let db = TestDb::create().await;
    let server: sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    let relay = Relay::start(format!("{}:{}", server.get_host(), server.get_port()), 0).await;
    let url = format!("postgres://{}@127.0.0.1:{}/{}", server.get_username(), relay.port, db.name);
    let store = PgStore::open(&url, 2).await.unwrap();
    let write = |i: i64| Batch { results: vec![result("api", t(i), true, 5)], ..Batch::default() };
    store.write(&write(1)).await.unwrap();

    relay.stop();
    // Let the aborted relay tasks close their sockets.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(2_500), "ping took {:?}", started.elapsed());
    let err = store.write(&write(2)).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(ref m) if m.contains("accepted no connection")), "{err:?}");

    let _back = Relay::start(relay.upstream.clone(), relay.port).await;
    store.ping().await.unwrap();
    store.write(&write(2)).await.unwrap();
    assert_eq!(store.results(&id("api"), None, 10).await.unwrap().len(), 2);
}

/// Two nodes on one database: crossing upserts do not deadlock, the newest result wins
/// whoever writes last, and compacting at once builds every bucket exactly once.
#[tokio::test]
async fn two_nodes_write_and_compact_at_once() {
    let db = TestDb::create().await;
    let a = PgStore::open(&db.url(), 4).await.unwrap();
    let b = PgStore::open(&db.url(), 4).await.unwrap();
    let batch = |round: i64, node: i64, reverse: bool| {
        let mut monitors: Vec<i64> = (0..50).collect();
        if reverse {
            monitors.reverse();
        }
        let results: Vec<_> = monitors
            .iter()
            .map(|m| result(&format!("m{m}"), t(round * 60 + node), true, (m + node) as u64))
            .collect();
        let states = monitors
            .iter()
            .map(|m| (id(&format!("m{m}")), PolicyState::new(MonitorState::Up, t(round * 60 + node))))
            .collect();
        Batch { results, transitions: vec![], states }
    };
    for round in 0..30 {
        let (newer, older) = (batch(round, 1, false), batch(round, 0, true));
        let (x, y) = tokio::join!(a.write(&newer), b.write(&older));
        x.unwrap();
        y.unwrap();
    }
    let latest = a.latest_results().await.unwrap();
    assert_eq!(latest.len(), 50);
    assert!(latest.iter().all(|r| r.at == t(29 * 60 + 1)), "node a's newer results win");

    let now = t(2 * 86_400);
    let (x, y) = tokio::join!(a.compact(now), b.compact(now));
    x.unwrap();
    y.unwrap();
    for store in [&a, &b] {
        let minutes = store.rollups(&id("m7"), Resolution::Minute, t(0), now).await.unwrap();
        assert_eq!(minutes.len(), 30);
        assert!(minutes.iter().all(|m| m.checks == 2), "{minutes:?}");
        let day = store.rollups(&id("m7"), Resolution::Day, t(0), now).await.unwrap();
        assert_eq!(day.len(), 1);
        assert_eq!(day[0].checks, 60);
    }
}

/// Two nodes saving one incident at once, from the same version: the row lock orders them and
/// the later save finds the version changed, so exactly one wins each round and only the
/// winner's timeline entries are kept. Inserts of one new id race the same way.
#[tokio::test]
async fn two_nodes_saving_one_incident_at_once_conflict() {
    use belfry_core::incident::IncidentStatus;
    use belfry_core::store::IncidentStore;
    use suite::incidents::{incident_in, new_update};

    let db = TestDb::create().await;
    let a = PgStore::open(&db.url(), 2).await.unwrap();
    let b = PgStore::open(&db.url(), 2).await.unwrap();
    let (incident, opened) = incident_in("race", t(0), IncidentStatus::Investigating, true, None);
    let (x, y) = tokio::join!(a.save_incident(&incident, 0, &opened), b.save_incident(&incident, 0, &opened));
    match (x, y) {
        (Ok(1), Err(StoreError::Conflict(_))) | (Err(StoreError::Conflict(_)), Ok(1)) => {}
        other => panic!("inserts: {other:?}"),
    }

    let mut expected = opened;
    for round in 1..=20u64 {
        let mut mine = a.incident("race").await.unwrap().unwrap();
        let mut theirs = mine.clone();
        let at = t(60 * round as i64);
        let mine_changes =
            mine.post_update(new_update(&format!("a{round}"), IncidentStatus::Identified, "A"), at).unwrap();
        let their_changes = theirs
            .post_update(new_update(&format!("b{round}"), IncidentStatus::Monitoring, "B"), at)
            .unwrap();
        let (x, y) = tokio::join!(
            a.save_incident(&mine, round, &mine_changes),
            b.save_incident(&theirs, round, &their_changes)
        );
        let (winner, changes) = match (x, y) {
            (Ok(v), Err(StoreError::Conflict(_))) => (v, mine_changes),
            (Err(StoreError::Conflict(_)), Ok(v)) => (v, their_changes),
            other => panic!("round {round}: {other:?}"),
        };
        assert_eq!(winner, round + 1);
        expected.extend(changes);
        assert_eq!(b.incident("race").await.unwrap().unwrap().version, round + 1);
        assert_eq!(b.timeline("race").await.unwrap(), expected, "round {round}");
    }
}

/// Two nodes saving different users with one name at once: the unique index orders them and
/// exactly one save wins each round; the other is a `Conflict`.
#[tokio::test]
async fn two_nodes_claiming_one_user_name_conflict() {
    use belfry_core::access::Role;
    use belfry_core::store::AdminStore;
    use suite::admin::user;

    let db = TestDb::create().await;
    let a = PgStore::open(&db.url(), 2).await.unwrap();
    let b = PgStore::open(&db.url(), 2).await.unwrap();
    for round in 0..20 {
        let name = format!("name{round}");
        let (mine, theirs) =
            (user(&format!("a{round}"), &name, Role::Admin), user(&format!("b{round}"), &name, Role::Viewer));
        let (x, y) = tokio::join!(a.save_user(&mine), b.save_user(&theirs));
        let winner = match (x, y) {
            (Ok(()), Err(StoreError::Conflict(_))) => mine,
            (Err(StoreError::Conflict(_)), Ok(())) => theirs,
            other => panic!("round {round}: {other:?}"),
        };
        assert_eq!(b.user_by_name(&name).await.unwrap(), Some(winner));
    }
    assert_eq!(a.users().await.unwrap().len(), 20);
}

/// Not a timed assertion: prints the sustained rate of 20 batches × 1,000 realistic results
/// (`cargo test -p belfry-store --release --test postgres write_rate -- --nocapture`).
#[tokio::test]
async fn write_rate() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    suite::write_rate(&store, "postgres").await;
}

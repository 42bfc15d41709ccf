//! Several nodes on one PostgreSQL database: advisory-lock buckets split between the live
//! nodes, a stopped node's share and desk moving to the others, a cut-off node getting its own
//! share back, and changes told over LISTEN/NOTIFY. Real PostgreSQL on 127.0.0.1:5432.

mod pgdb;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use belfry_core::coordination::{BUCKETS, Change, ChangeListener, Coordination, Share};
use belfry_core::store::AdminStore;
use belfry_store::postgres::TAKEOVER_GRACE;
use belfry_store::{PgCoordination, PgStore};

use pgdb::TestDb;

fn buckets(share: &Share) -> BTreeSet<u32> {
    share.buckets.clone().expect("a shared database gives buckets")
}

async fn step(node: &PgCoordination) -> Share {
    node.balance(&BTreeSet::new()).await.unwrap()
}

/// `a` starts alone and takes everything; `b` joins; after `a` gives half back and the grace
/// has passed, `b` takes it.
async fn split(a: &PgCoordination, b: &PgCoordination) -> (BTreeSet<u32>, BTreeSet<u32>) {
    let first = step(a).await;
    assert_eq!((buckets(&first).len(), first.desk, first.nodes), (BUCKETS as usize, true, 1));
    let joined = step(b).await;
    assert_eq!((buckets(&joined).len(), joined.desk, joined.nodes), (0, false, 2), "nothing is free yet");
    let halved = step(a).await;
    assert_eq!(buckets(&halved).len(), 32, "a node above its fair share gives the excess back");
    assert!(buckets(&step(b).await).is_empty(), "a bucket just released is not taken at once");
    tokio::time::sleep(TAKEOVER_GRACE).await;
    let taken = step(b).await;
    let (ours, theirs) = (buckets(&step(a).await), buckets(&taken));
    assert_eq!(theirs.len(), 32);
    assert!(ours.is_disjoint(&theirs));
    assert_eq!(ours.union(&theirs).count(), BUCKETS as usize);
    (ours, theirs)
}

#[tokio::test]
async fn two_nodes_split_the_buckets_and_one_holds_the_desk() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    let (a, b) = (store.coordination("a"), store.coordination("b"));
    split(&a, &b).await;
    let (sa, sb) = (step(&a).await, step(&b).await);
    assert!(sa.desk && !sb.desk, "exactly one node holds the desk");
    assert_eq!((sa.nodes, sb.nodes), (2, 2));
}

#[tokio::test]
async fn buckets_with_a_check_in_flight_are_not_released() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    let (a, b) = (store.coordination("a"), store.coordination("b"));
    step(&a).await;
    step(&b).await;
    let busy: BTreeSet<u32> = (0..BUCKETS).collect();
    let kept = a.balance(&busy).await.unwrap();
    assert_eq!(buckets(&kept).len(), BUCKETS as usize);
}

#[tokio::test]
async fn a_stopped_nodes_buckets_and_desk_move_to_the_survivor() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    let (a, b) = (store.coordination("a"), store.coordination("b"));
    split(&a, &b).await;
    // Its connection ends with it, and with the connection its locks.
    drop(a);
    let stopped = Instant::now();
    loop {
        let share = step(&b).await;
        if buckets(&share).len() == BUCKETS as usize && share.desk {
            assert_eq!(share.nodes, 1);
            break;
        }
        assert!(stopped.elapsed() < Duration::from_secs(20), "the survivor took over: {share:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(stopped.elapsed() >= TAKEOVER_GRACE, "a free bucket waits out the grace");
}

#[tokio::test]
async fn nodes_cut_off_together_get_their_own_buckets_back() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    let (a, b) = (store.coordination("a"), store.coordination("b"));
    let (ours, theirs) = split(&a, &b).await;
    // A PostgreSQL restart as the nodes see it: every session ends.
    db.kill_connections().await;
    let lost = a.balance(&BTreeSet::new()).await;
    assert!(lost.is_err(), "the dead session is noticed: {lost:?}");
    assert!(b.balance(&BTreeSet::new()).await.is_err());
    // Back in any order, each node re-locks what it held before anything is taken over.
    let back_a = step(&a).await;
    let back_b = step(&b).await;
    assert_eq!(buckets(&back_a), ours);
    assert_eq!(buckets(&back_b), theirs);
    assert!(back_a.desk ^ back_b.desk, "one desk: {back_a:?} {back_b:?}");
}

async fn next(listener: &mut Box<dyn ChangeListener>) -> Change {
    tokio::time::timeout(Duration::from_secs(10), listener.next()).await.expect("a change in time").unwrap()
}

#[tokio::test]
async fn changes_reach_every_node_but_a_nodes_own_pings_do_not_come_back() {
    let db = TestDb::create().await;
    let store = PgStore::open(&db.url(), 4).await.unwrap();
    let (a, b) = (store.coordination("a"), store.coordination("b"));
    let mut heard_by_a = a.listen().await.unwrap();
    let mut heard_by_b = b.listen().await.unwrap();
    let ping = Change::Ping { token: "push-token".into(), down: None };
    a.announce(&ping).await.unwrap();
    // A console object written by any node: every node reloads.
    store.vault_put("object:monitors:api", "sealed").await.unwrap();
    assert_eq!(next(&mut heard_by_b).await, ping);
    assert_eq!(next(&mut heard_by_b).await, Change::Config);
    assert_eq!(next(&mut heard_by_a).await, Change::Config, "a's own ping is not told back to it");
    // Other vault entries are not configuration.
    store.vault_put("ack_key", "sealed").await.unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(500), heard_by_b.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
}

use std::collections::BTreeSet;

use super::*;

fn set(items: impl IntoIterator<Item = u32>) -> BTreeSet<u32> {
    items.into_iter().collect()
}

#[test]
fn buckets_are_stable_and_spread() {
    let id = MonitorId::parse("api-http").unwrap();
    assert_eq!(bucket_of(&id), bucket_of(&MonitorId::parse("api-http").unwrap()));
    let used: BTreeSet<u32> =
        (0..1000).map(|i| bucket_of(&MonitorId::parse(&format!("m{i}")).unwrap())).collect();
    assert_eq!(used.len(), BUCKETS as usize, "1,000 monitors reach every bucket");
    assert!(used.iter().all(|b| *b < BUCKETS));
}

#[test]
fn fair_shares_cover_every_bucket() {
    for nodes in 1..=10 {
        assert!(fair_share(nodes) * nodes >= BUCKETS as usize);
    }
    assert_eq!(fair_share(0), BUCKETS as usize);
    assert_eq!(fair_share(2), 32);
}

#[test]
fn a_node_alone_takes_everything_claimable() {
    let plan = plan(&set([]), &set(0..BUCKETS), 1, &set([]), 0);
    assert_eq!(plan.take.len(), BUCKETS as usize);
    assert!(plan.release.is_empty());
}

#[test]
fn a_node_below_its_share_takes_only_up_to_it() {
    let plan = plan(&set(0..10), &set(32..64), 2, &set([]), 0);
    assert_eq!(plan.take.len(), 22);
    assert!(plan.take.iter().all(|b| (32..64).contains(b)));
}

#[test]
fn a_node_above_its_share_releases_the_excess_but_not_busy_buckets() {
    let busy = set(40..64);
    let plan = plan(&set(0..BUCKETS), &set([]), 2, &busy, 0);
    assert_eq!(plan.release.len(), 32);
    assert!(plan.release.iter().all(|b| !busy.contains(b)));
    // Everything busy: nothing is released now, the next step tries again.
    let plan = super::plan(&set(0..BUCKETS), &set([]), 2, &set(0..BUCKETS), 0);
    assert_eq!(plan, Plan::default());
}

#[test]
fn the_seed_rotates_which_buckets_a_node_reaches_for() {
    let a = plan(&set([]), &set(0..BUCKETS), 2, &set([]), 0);
    let b = plan(&set([]), &set(0..BUCKETS), 2, &set([]), 32);
    let overlap = a.take.iter().filter(|x| b.take.contains(x)).count();
    assert_eq!(overlap, 0);
}

#[test]
fn changes_travel_as_tagged_json() {
    let ping = Change::Ping { token: "t".into(), down: Some("disk full".into()) };
    let json = serde_json::to_string(&ping).unwrap();
    assert_eq!(json, r#"{"change":"ping","token":"t","down":"disk full"}"#);
    assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), ping);
    assert_eq!(serde_json::from_str::<Change>(r#"{"change":"page"}"#).unwrap(), Change::Page);
}

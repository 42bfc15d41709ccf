//! The store conformance story: drives the whole `Store` trait against any backend.
//! Every backend's test calls [`story`] with a fresh, empty store, and the stories of the other
//! ports (`admin`, `alerts`, `incidents`, `subscribers`) likewise.

pub mod admin;
pub mod alerts;
mod counted;
mod data;
pub mod durable;
pub mod incidents;
mod rate;
mod rollups;
pub mod subscribers;

use std::sync::Arc;

use belfry_core::auth::{ApiToken, Scope, hash_secret};
use belfry_core::check::CheckResult;
use belfry_core::monitor::MonitorId;
use belfry_core::policy::{MonitorState, Policy, PolicyState};
use belfry_core::store::{Batch, DownPeriod, Store};

pub use data::*;
pub use rate::write_rate;

pub async fn story(store: Arc<dyn Store>) {
    empty_store(store.as_ref()).await;
    batch_round_trip(store.as_ref()).await;
    failed_batch_leaves_nothing(store.as_ref()).await;
    rollups::down_periods_and_rollups(store.as_ref()).await;
    counted::counted_downtime(store.as_ref()).await;
    tokens(store.as_ref()).await;
    let stats = store.pool_stats();
    assert!(stats.max >= 1 && stats.size <= stats.max && stats.idle <= stats.size, "{stats:?}");
}

async fn empty_store(store: &dyn Store) {
    store.ping().await.unwrap();
    assert!(store.latest_results().await.unwrap().is_empty());
    assert!(store.policy_states().await.unwrap().is_empty());
    assert!(store.results(&id("api"), None, 10).await.unwrap().is_empty());
    assert!(store.transitions(None, None, 10).await.unwrap().is_empty());
    assert!(store.down_periods(&id("api"), t(0)).await.unwrap().is_empty());
    store.write(&Batch::default()).await.unwrap();
}

/// Results, a transition and policy states written in one batch read back exactly.
async fn batch_round_trip(store: &dyn Store) {
    // Hour 2 of the story day, apart from the rollup data set's monitors.
    let h = 7200;
    let api_local = [
        result("api", t(h), true, 10),
        result("api", t(h + 10), false, 20),
        rich_result("api", "local", t(h + 20)),
    ];
    let api_eu = rich_result("api", "eu-west", t(h + 5));
    let web = result("web", t(h + 3), true, 7);
    let mut change = transition("api", MonitorState::Up, MonitorState::Suspected, t(h + 10));
    change.reason = Some("HTTP 503".into());
    change.results = api_local[..2].to_vec();
    change.flapping = true;
    let mut api_state = PolicyState::new(MonitorState::Up, t(0));
    api_state.observe(&Policy::default(), &api_local[1], &api_local[..2]);
    assert_eq!(api_state.state, MonitorState::Suspected);
    let web_state = PolicyState::new(MonitorState::Up, t(h + 3));

    let mut results = api_local.to_vec();
    results.insert(1, api_eu.clone());
    results.push(web.clone());
    store
        .write(&Batch {
            results,
            transitions: vec![change.clone()],
            states: vec![(id("web"), web_state.clone()), (id("api"), api_state.clone())],
        })
        .await
        .unwrap();

    let newest_first: Vec<_> =
        [api_local[2].clone(), api_local[1].clone(), api_eu.clone(), api_local[0].clone()].into();
    assert_eq!(store.results(&id("api"), None, 100).await.unwrap(), newest_first);
    assert_eq!(store.results(&id("api"), Some(t(h + 5)), 100).await.unwrap(), newest_first[..3]);
    assert_eq!(store.results(&id("api"), Some(t(h + 5)), 2).await.unwrap(), newest_first[..2]);
    assert_eq!(store.results(&id("web"), None, 100).await.unwrap(), vec![web.clone()]);
    assert_eq!(store.transitions(None, None, 10).await.unwrap(), vec![change.clone()]);
    assert_eq!(store.transitions(Some(&id("api")), Some(t(h + 10)), 10).await.unwrap(), vec![change.clone()]);
    assert!(store.transitions(Some(&id("api")), Some(t(h + 11)), 10).await.unwrap().is_empty());
    assert!(store.transitions(Some(&id("web")), None, 10).await.unwrap().is_empty());
    assert_eq!(
        policy_states(store).await,
        vec![(id("api"), api_state.clone()), (id("web"), web_state.clone())]
    );
    let latest = vec![api_eu.clone(), api_local[2].clone(), web.clone()];
    assert_eq!(latest_results(store).await, latest);

    // A late, older result joins the history but does not replace the latest one; a newer
    // state replaces the stored one.
    let late = result("api", t(h + 1), true, 3);
    let up_again = PolicyState::new(MonitorState::Up, t(h + 30));
    store
        .write(&Batch {
            results: vec![late.clone()],
            transitions: vec![],
            states: vec![(id("api"), up_again.clone())],
        })
        .await
        .unwrap();
    assert_eq!(latest_results(store).await, latest);
    assert_eq!(store.results(&id("api"), None, 100).await.unwrap().len(), 5);
    assert_eq!(store.results(&id("api"), None, 100).await.unwrap()[3], late);
    assert_eq!(policy_states(store).await[0], (id("api"), up_again));
}

/// The store's policy states in monitor order (the trait promises no order).
async fn policy_states(store: &dyn Store) -> Vec<(MonitorId, PolicyState)> {
    let mut states = store.policy_states().await.unwrap();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    states
}

/// The latest results in (monitor, region) order (the trait promises no order).
async fn latest_results(store: &dyn Store) -> Vec<CheckResult> {
    let mut latest = store.latest_results().await.unwrap();
    latest.sort_by(|a, b| (&a.monitor, &a.region).cmp(&(&b.monitor, &b.region)));
    latest
}

/// A batch that cannot be written in full leaves nothing behind.
async fn failed_batch_leaves_nothing(store: &dyn Store) {
    let mut results: Vec<_> = (0..300).map(|i| result("atomic", t(10_000 + i), true, 5)).collect();
    // Fails to encode (beyond BIGINT) well after the first rows went in.
    results[250].duration_ms = u64::MAX;
    let batch = Batch {
        results,
        transitions: vec![transition("atomic", MonitorState::Up, MonitorState::Down, t(10_100))],
        states: vec![(id("atomic"), PolicyState::new(MonitorState::Down, t(10_100)))],
    };
    assert!(store.write(&batch).await.is_err());
    assert!(store.results(&id("atomic"), None, 1000).await.unwrap().is_empty());
    assert!(store.transitions(Some(&id("atomic")), None, 10).await.unwrap().is_empty());
    assert!(store.policy_states().await.unwrap().iter().all(|(m, _)| m.as_str() != "atomic"));
    assert!(store.latest_results().await.unwrap().iter().all(|r| r.monitor.as_str() != "atomic"));
    assert_eq!(store.down_periods(&id("atomic"), t(0)).await.unwrap(), Vec::<DownPeriod>::new());
}

async fn tokens(store: &dyn Store) {
    let token =
        ApiToken { id: "tok_1".into(), scope: Scope::Write, hash: hash_secret("s3cret"), created_at: t(42) };
    store.insert_token(&token).await.unwrap();
    assert_eq!(store.token_by_hash(&hash_secret("s3cret")).await.unwrap(), Some(token.clone()));
    assert_eq!(store.token_by_hash(&hash_secret("other")).await.unwrap(), None);
    let twin = ApiToken { id: "tok_2".into(), ..token.clone() };
    assert!(store.insert_token(&twin).await.is_err(), "hashes are unique");
    let later =
        ApiToken { id: "tok_3".into(), scope: Scope::Read, hash: hash_secret("later"), created_at: t(43) };
    store.insert_token(&later).await.unwrap();
    assert_eq!(
        store.tokens().await.unwrap(),
        vec![token.clone(), later.clone()],
        "oldest first, hashes only"
    );
    assert!(store.delete_token("tok_1").await.unwrap());
    assert!(!store.delete_token("tok_1").await.unwrap(), "already revoked");
    assert_eq!(
        store.token_by_hash(&hash_secret("s3cret")).await.unwrap(),
        None,
        "a revoked token no longer opens"
    );
    assert_eq!(store.tokens().await.unwrap(), vec![later]);
}

//! Checks every backend's own tests run around what only they can do: reopening the database,
//! and a statement the database itself refuses in the middle of a batch.

use belfry_core::policy::{MonitorState, PolicyState};
use belfry_core::store::{Batch, Resolution, Store, StoreError};

use super::data::*;

/// What [`before_reopen`] writes.
pub fn reopen_batch() -> Batch {
    Batch {
        results: vec![result("api", t(10), false, 12), rich_result("api", "eu", t(20))],
        transitions: vec![transition("api", MonitorState::Up, MonitorState::Down, t(10))],
        states: vec![(id("api"), PolicyState::new(MonitorState::Down, t(10)))],
    }
}

/// Writes [`reopen_batch`] and compacts it; the caller then drops the store without closing it.
pub async fn before_reopen(store: &dyn Store) {
    store.write(&reopen_batch()).await.unwrap();
    store.compact(t(3600)).await.unwrap();
}

/// Everything [`before_reopen`] wrote reads back from a freshly opened store.
pub async fn after_reopen(store: &dyn Store) {
    let batch = reopen_batch();
    let mut expected = batch.results.clone();
    expected.reverse();
    assert_eq!(store.results(&id("api"), None, 10).await.unwrap(), expected);
    assert_eq!(store.transitions(None, None, 10).await.unwrap(), batch.transitions);
    assert_eq!(store.policy_states().await.unwrap(), batch.states);
    assert_eq!(store.latest_results().await.unwrap().len(), 2);
    assert_eq!(store.rollups(&id("api"), Resolution::Minute, t(0), t(3600)).await.unwrap().len(), 1);
    // The watermark survived too: compacting again builds nothing new and changes nothing.
    store.compact(t(3600)).await.unwrap();
    assert_eq!(store.rollups(&id("api"), Resolution::Minute, t(0), t(3600)).await.unwrap().len(), 1);
}

/// A batch whose last statement (policy states) the caller has made the database refuse
/// with the message `refused`.
pub fn refused_batch() -> Batch {
    Batch {
        results: (0..500).map(|i| result("api", t(i), true, 5)).collect(),
        transitions: vec![transition("api", MonitorState::Up, MonitorState::Degraded, t(3))],
        states: vec![(id("api"), PolicyState::new(MonitorState::Degraded, t(3)))],
    }
}

/// Writing [`refused_batch`] fails and leaves nothing behind.
pub async fn write_is_refused(store: &dyn Store) {
    let err = store.write(&refused_batch()).await.unwrap_err();
    assert!(matches!(err, StoreError::Other(ref m) if m.contains("refused")), "{err:?}");
    assert!(store.results(&id("api"), None, 10).await.unwrap().is_empty());
    assert!(store.latest_results().await.unwrap().is_empty());
    assert!(store.transitions(None, None, 10).await.unwrap().is_empty());
}

/// Once the database accepts it again, the same batch is written whole.
pub async fn write_is_accepted(store: &dyn Store) {
    store.write(&refused_batch()).await.unwrap();
    assert_eq!(store.results(&id("api"), None, 1000).await.unwrap().len(), 500);
}

//! The SQLite store: the conformance story plus what only a file-backed database can show
//! (durability across reopening, atomicity against a failing statement, write throughput).

mod suite;

use std::sync::Arc;

use belfry_core::store::{Store, StoreError};
use belfry_store::SqliteStore;
use tempfile::TempDir;

fn url(dir: &TempDir) -> String {
    format!("sqlite://{}/nested/dir/belfry.db", dir.path().display())
}

#[tokio::test]
async fn conformance_story() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 4).await.unwrap();
    suite::story(Arc::new(store)).await;
}

#[tokio::test]
async fn incident_story() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 4).await.unwrap();
    suite::incidents::incident_story(Arc::new(store)).await;
}

#[tokio::test]
async fn alert_story() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 4).await.unwrap();
    suite::alerts::alert_story(Arc::new(store)).await;
}

#[tokio::test]
async fn subscriber_story() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 4).await.unwrap();
    suite::subscribers::subscriber_story(Arc::new(store)).await;
}

#[tokio::test]
async fn admin_story() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 4).await.unwrap();
    suite::admin::admin_story(Arc::new(store)).await;
}

#[tokio::test]
async fn reopening_the_file_keeps_everything() {
    let dir = TempDir::new().unwrap();
    {
        let store = SqliteStore::open(&url(&dir), 2).await.unwrap();
        suite::durable::before_reopen(&store).await;
        // Dropped without `close()`: nothing relies on a clean shutdown.
    }
    let store = SqliteStore::open(&url(&dir), 2).await.unwrap();
    suite::durable::after_reopen(&store).await;
}

#[tokio::test]
async fn a_statement_failing_mid_batch_rolls_back_the_whole_batch() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 2).await.unwrap();
    // A second client refuses policy states, the last thing a batch writes.
    let other = sqlx::SqlitePool::connect(&url(&dir)).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_states BEFORE INSERT ON policy_states BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .execute(&other)
    .await
    .unwrap();
    suite::durable::write_is_refused(&store).await;
    sqlx::query("DROP TRIGGER refuse_states").execute(&other).await.unwrap();
    suite::durable::write_is_accepted(&store).await;
}

#[tokio::test]
async fn a_timeline_entry_failing_mid_save_rolls_back_the_incident() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 2).await.unwrap();
    let other = sqlx::SqlitePool::connect(&url(&dir)).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_notes BEFORE INSERT ON incident_timeline WHEN NEW.kind = 'note' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .execute(&other)
    .await
    .unwrap();
    suite::incidents::refused_note_rolls_back_the_save(&store).await;
    sqlx::query("DROP TRIGGER refuse_notes").execute(&other).await.unwrap();
    suite::incidents::note_is_accepted(&store).await;
}

#[tokio::test]
async fn a_statement_failing_mid_replace_or_user_deletion_rolls_back() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 2).await.unwrap();
    let other = sqlx::SqlitePool::connect(&url(&dir)).await.unwrap();
    for trigger in [
        "CREATE TRIGGER refuse_vault BEFORE INSERT ON vault WHEN NEW.sealed = 'refused' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END",
        "CREATE TRIGGER refuse_user_delete BEFORE DELETE ON users WHEN OLD.name = 'undeletable' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END",
    ] {
        sqlx::query(trigger).execute(&other).await.unwrap();
    }
    suite::admin::refused_statements_roll_back(&store).await;
    sqlx::query("DROP TRIGGER refuse_vault").execute(&other).await.unwrap();
    sqlx::query("DROP TRIGGER refuse_user_delete").execute(&other).await.unwrap();
    suite::admin::refused_statements_accepted(&store).await;
}

#[tokio::test]
async fn open_refuses_a_foreign_url_and_reports_pool_use() {
    let err = SqliteStore::open("postgres://localhost/belfry", 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 3).await.unwrap();
    store.ping().await.unwrap();
    let stats = store.pool_stats();
    assert_eq!(stats.max, 3);
    assert!(stats.size >= 1 && stats.idle <= stats.size, "{stats:?}");
}

/// Not a timed assertion: prints the sustained rate of 20 batches × 1,000 realistic results
/// (`cargo test -p belfry-store --release write_rate -- --nocapture`).
#[tokio::test]
async fn write_rate() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&url(&dir), 4).await.unwrap();
    suite::write_rate(&store, "sqlite").await;
}

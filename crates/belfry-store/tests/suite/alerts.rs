//! The alert store story: drives the whole `AlertStore` port against any backend. Every
//! backend's test calls [`alert_story`] with a fresh, empty store.

use std::slice;
use std::sync::Arc;

use belfry_core::alert::{Alert, Delivery, DeliveryStatus, Event, EventKind, Outcome, RetryPolicy};
use belfry_core::channel::{Message, MessageEvent, MessageSubject, Severity};
use belfry_core::store::{Storage, StoreError};
use jiff::{SignedDuration, Timestamp};

use super::data::{id, t};

const CURSOR: &str = "alert-routing";

pub async fn alert_story(store: Arc<dyn Storage>) {
    let store = store.as_ref();
    empty_store(store).await;
    open_and_read_back(store).await;
    route_is_all_or_nothing(store).await;
    acknowledged_and_resolved_are_inactive(store).await;
    duplicate_keys_are_skipped(store).await;
    due_deliveries(store).await;
    save_delivery_and_dead_letters(store).await;
    listing_limits(store).await;
}

async fn empty_store(store: &dyn Storage) {
    assert_eq!(store.alert("nope").await.unwrap(), None);
    assert!(store.active_alerts().await.unwrap().is_empty());
    assert!(store.unresolved_alerts().await.unwrap().is_empty());
    assert!(store.due_deliveries(t(1_000_000), 10).await.unwrap().is_empty());
    assert!(store.deliveries(None, 0).await.unwrap().is_empty());
    store.route(&[], &[], &[], None).await.unwrap();
    assert_eq!(store.cursor(CURSOR).await.unwrap(), None);
}

/// `base() + secs` plus nanoseconds, so round trips show they keep more than milliseconds.
fn t_ns(secs: i64, nanos: i32) -> Timestamp {
    t(secs) + SignedDuration::new(0, nanos)
}

/// An active alert about monitor `monitor`, opened at `opened`, next due a minute later.
fn alert(alert_id: &str, monitor: &str, opened: Timestamp) -> Alert {
    let event = Event {
        kind: EventKind::Down,
        at: opened,
        monitor: Some(id(monitor)),
        component: Some(id("backend")),
        incident: None,
        title: format!("{monitor} is down"),
        reason: Some("HTTP 503".into()),
        failing_conditions: vec!["[STATUS] (503) == 200".into()],
        tags: vec![],
    };
    Alert {
        id: alert_id.to_owned(),
        subject: event.subject(),
        escalation: "ops".into(),
        event,
        opened_at: opened,
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        fired: 1,
        next_at: Some(opened + SignedDuration::from_mins(1)),
        version: 0,
    }
}

/// A pending delivery of `alert` (none: a "send test") to `channel`, created at `created` and
/// first due then.
fn delivery(delivery_id: &str, alert: Option<&str>, key: &str, created: Timestamp) -> Delivery {
    let message = Message {
        idempotency_key: key.to_owned(),
        event: MessageEvent::Down,
        severity: Severity::Critical,
        title: "Internal API".into(),
        summary: "Internal API is down: HTTP 503".into(),
        monitor: Some(MessageSubject { id: id("api"), name: "Internal API".into() }),
        component: None,
        failing_conditions: vec!["[STATUS] (503) == 200".into()],
        since: Some(created),
        incident_url: Some("https://status.example.com/incidents/i1".into()),
        ack_url: None,
        unsubscribe_url: None,
        dedup_key: alert.unwrap_or("test").to_owned(),
        page_time_zone: "Europe/Berlin".into(),
    };
    Delivery {
        id: delivery_id.to_owned(),
        alert: alert.map(str::to_owned),
        channel: "ops-hook".into(),
        message,
        idempotency_key: key.to_owned(),
        created_at: created,
        attempts: 0,
        next_attempt_at: created,
        status: DeliveryStatus::Pending,
        last_error: None,
        sent_at: None,
    }
}

/// `a` as a save stores it: one version on.
fn saved(a: &Alert) -> Alert {
    Alert { version: a.version + 1, ..a.clone() }
}

async fn ids(store: &dyn Storage, status: Option<DeliveryStatus>, limit: u32) -> Vec<String> {
    store.deliveries(status, limit).await.unwrap().into_iter().map(|d| d.id).collect()
}

async fn active(store: &dyn Storage) -> Vec<String> {
    store.active_alerts().await.unwrap().into_iter().map(|a| a.id).collect()
}

async fn unresolved(store: &dyn Storage) -> Vec<String> {
    store.unresolved_alerts().await.unwrap().into_iter().map(|a| a.id).collect()
}

/// Opened alerts, their deliveries and the cursor, written in one step, read back exactly.
async fn open_and_read_back(store: &dyn Storage) {
    let a1 = alert("a1", "api", t_ns(100, 123_456_789));
    let a2 = alert("a2", "web", t_ns(50, 1));
    let d1 = delivery("d1", Some("a1"), "a1:0:ops-hook", t_ns(100, 123_456_789));
    let mut d2 = delivery("d2", Some("a1"), "a1:0:ops-mail", t_ns(100, 123_456_789));
    d2.channel = "ops-mail".into();
    let test = delivery("d-test", None, "test:1", t(90));
    store
        .route(&[a1.clone(), a2.clone()], &[], &[d1.clone(), d2.clone(), test.clone()], Some((CURSOR, "7")))
        .await
        .unwrap();

    assert_eq!(store.alert("a1").await.unwrap(), Some(saved(&a1)));
    assert_eq!(store.alert("a2").await.unwrap(), Some(saved(&a2)));
    assert_eq!(store.active_alerts().await.unwrap(), vec![saved(&a2), saved(&a1)], "oldest first");
    assert_eq!(store.unresolved_alerts().await.unwrap(), vec![saved(&a2), saved(&a1)], "oldest first");
    // Newest first; equal creation times by id, descending.
    assert_eq!(store.deliveries(None, 0).await.unwrap(), vec![d2.clone(), d1.clone(), test.clone()]);
    assert_eq!(store.cursor(CURSOR).await.unwrap().as_deref(), Some("7"));

    // Opening an existing id conflicts and writes nothing else of its step.
    let twin = alert("a1", "db", t(0));
    let extra = delivery("d-extra", Some("a1"), "a1:1:ops-hook", t(200));
    let err = store.route(&[twin], &[], &[extra], Some((CURSOR, "8"))).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.alert("a1").await.unwrap(), Some(saved(&a1)));
    assert_eq!(ids(store, None, 0).await, ["d2", "d1", "d-test"]);
    assert_eq!(store.cursor(CURSOR).await.unwrap().as_deref(), Some("7"));
}

/// A changed alert that is stale (or missing) fails the whole step: the alerts it opens, the
/// deliveries it queues and its cursor stay unwritten.
async fn route_is_all_or_nothing(store: &dyn Storage) {
    let a3 = alert("a3", "db", t(300));
    let d3 = delivery("d3", Some("a3"), "a3:0:ops-hook", t(300));
    let mut stale = store.alert("a1").await.unwrap().unwrap();
    stale.version = 0;
    stale.fired = 2;
    let missing = saved(&alert("a-missing", "db", t(300)));
    for changed in [stale, missing] {
        let err = store
            .route(slice::from_ref(&a3), &[changed], slice::from_ref(&d3), Some((CURSOR, "9")))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.alert("a3").await.unwrap(), None);
        assert_eq!(store.alert("a1").await.unwrap().unwrap().fired, 1);
        assert_eq!(ids(store, None, 0).await, ["d2", "d1", "d-test"]);
        assert_eq!(store.cursor(CURSOR).await.unwrap().as_deref(), Some("7"));
    }

    // With a current version the same step goes through; the version moves on by one.
    let mut a1 = store.alert("a1").await.unwrap().unwrap();
    a1.fired = 2;
    a1.next_at = Some(t_ns(400, 999_999_999));
    store
        .route(slice::from_ref(&a3), slice::from_ref(&a1), slice::from_ref(&d3), Some((CURSOR, "9")))
        .await
        .unwrap();
    assert_eq!(store.alert("a1").await.unwrap(), Some(saved(&a1)));
    assert_eq!(saved(&a1).version, 2);
    assert_eq!(store.alert("a3").await.unwrap(), Some(saved(&a3)));
    assert_eq!(ids(store, None, 0).await, ["d3", "d2", "d1", "d-test"]);
    assert_eq!(store.cursor(CURSOR).await.unwrap().as_deref(), Some("9"));
    // The copy saved a moment ago is stale now.
    let err = store.route(&[], &[a1], &[], None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    // A cursor alone is a step too.
    store.route(&[], &[], &[], Some((CURSOR, "10"))).await.unwrap();
    assert_eq!(store.cursor(CURSOR).await.unwrap().as_deref(), Some("10"));
}

/// Acknowledged and resolved alerts leave the active ones; only resolved ones leave the
/// unresolved ones (an acknowledged alert still resolves when its subject recovers).
async fn acknowledged_and_resolved_are_inactive(store: &dyn Storage) {
    assert_eq!(active(store).await, ["a2", "a1", "a3"]);
    assert_eq!(unresolved(store).await, ["a2", "a1", "a3"]);
    let mut a1 = store.alert("a1").await.unwrap().unwrap();
    assert!(a1.acknowledge("alice", t_ns(500, 42)));
    let mut a2 = store.alert("a2").await.unwrap().unwrap();
    assert!(a2.resolve(t(501)));
    store.route(&[], &[a1.clone(), a2.clone()], &[], None).await.unwrap();
    assert_eq!(active(store).await, ["a3"]);
    assert_eq!(unresolved(store).await, ["a1", "a3"], "acknowledged, not resolved");
    assert_eq!(store.unresolved_alerts().await.unwrap()[0], saved(&a1), "read back as saved");
    // Opened already resolved (a notice sent at once): never unresolved.
    let mut sent = alert("a-notice", "web", t(502));
    sent.event.kind = EventKind::Up;
    assert!(sent.resolve(t(502)));
    store.route(slice::from_ref(&sent), &[], &[], None).await.unwrap();
    assert_eq!(unresolved(store).await, ["a1", "a3"]);
    // Neither is gone: both read back as saved.
    assert_eq!(store.alert("a1").await.unwrap(), Some(saved(&a1)));
    assert_eq!(store.alert("a2").await.unwrap(), Some(saved(&a2)));
    // An acknowledged alert that then resolves stays inactive.
    let mut a1 = saved(&a1);
    assert!(a1.resolve(t(502)));
    store.route(&[], &[a1.clone()], &[], None).await.unwrap();
    assert_eq!(active(store).await, ["a3"]);
    assert_eq!(unresolved(store).await, ["a3"], "resolved after its acknowledgement");
    assert_eq!(store.alert("a1").await.unwrap(), Some(saved(&a1)));
}

/// A retried routing step queues nothing twice: a delivery whose idempotency key is queued
/// (earlier, or earlier in the same step) is skipped, the stored one left as it was.
async fn duplicate_keys_are_skipped(store: &dyn Storage) {
    let before = store.deliveries(None, 0).await.unwrap();
    let retry = delivery("d1-retry", Some("a1"), "a1:0:ops-hook", t(600));
    let d4 = delivery("d4", Some("a3"), "a3:1:ops-hook", t(600));
    let d4_twin = delivery("d4-twin", Some("a3"), "a3:1:ops-hook", t(601));
    store.route(&[], &[], &[retry, d4.clone(), d4_twin], None).await.unwrap();
    let after = store.deliveries(None, 0).await.unwrap();
    assert_eq!(after[0], d4);
    assert_eq!(after[1..], before[..]);
}

async fn due_deliveries(store: &dyn Storage) {
    // Queued so far, by due time: d-test 90 s, d1 and d2 100.123 s, d3 300 s, d4 600 s.
    let due = |now, limit| async move {
        store.due_deliveries(now, limit).await.unwrap().into_iter().map(|d| d.id).collect::<Vec<_>>()
    };
    assert!(due(t(89), 10).await.is_empty());
    assert_eq!(due(t(90), 10).await, ["d-test"], "due exactly at its time");
    assert_eq!(due(t(300), 10).await, ["d-test", "d1", "d2", "d3"], "oldest due first, then by id");
    assert_eq!(due(t(300), 2).await, ["d-test", "d1"]);
    assert_eq!(due(t(1000), 0).await, ["d-test", "d1", "d2", "d3", "d4"], "0: the default limit");

    // Only pending ones: sent and dead deliveries are never due.
    let mut sent = store.deliveries(None, 0).await.unwrap().into_iter().find(|d| d.id == "d-test").unwrap();
    sent.record(Outcome::Sent, &RetryPolicy::default(), t(91), 0.5);
    store.save_delivery(&sent).await.unwrap();
    assert_eq!(due(t(1000), 10).await, ["d1", "d2", "d3", "d4"]);
    assert_eq!(store.deliveries(Some(DeliveryStatus::Sent), 0).await.unwrap(), vec![sent]);
}

async fn save_delivery_and_dead_letters(store: &dyn Storage) {
    let policy = RetryPolicy::default();
    let mut d1 = store.due_deliveries(t(101), 10).await.unwrap().into_iter().find(|d| d.id == "d1").unwrap();
    // A transient failure: tried again later, with the error kept.
    d1.record(Outcome::Transient("HTTP 503".into()), &policy, t_ns(101, 250_000_001), 0.3);
    assert!(d1.next_attempt_at > t(105));
    store.save_delivery(&d1).await.unwrap();
    let stored = store.deliveries(Some(DeliveryStatus::Pending), 0).await.unwrap();
    assert_eq!(stored.iter().find(|d| d.id == "d1"), Some(&d1), "exact round trip");
    let due_now: Vec<_> = store.due_deliveries(t(102), 10).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(due_now, ["d2"], "d1 waits for its next attempt");
    let later = store.due_deliveries(d1.next_attempt_at, 10).await.unwrap();
    assert_eq!(later.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["d2", "d1"]);
    assert_eq!(later[1], d1);

    // A permanent failure: a dead letter, listed and never due again.
    d1.record(Outcome::Permanent("HTTP 400: bad token".into()), &policy, t(200), 0.3);
    store.save_delivery(&d1).await.unwrap();
    let mut d2 = store.due_deliveries(t(200), 10).await.unwrap().into_iter().find(|d| d.id == "d2").unwrap();
    d2.record(Outcome::Permanent("HTTP 404".into()), &policy, t(201), 0.3);
    store.save_delivery(&d2).await.unwrap();
    assert_eq!(store.deliveries(Some(DeliveryStatus::Dead), 0).await.unwrap(), vec![d2.clone(), d1.clone()]);
    assert_eq!(ids(store, Some(DeliveryStatus::Dead), 1).await, ["d2"]);
    assert!(
        store.due_deliveries(t(1_000_000), 10).await.unwrap().iter().all(|d| d.id != "d1" && d.id != "d2")
    );
    assert_eq!(ids(store, Some(DeliveryStatus::Pending), 0).await, ["d4", "d3"]);

    // Saving one that was never queued is refused and queues nothing.
    let ghost = delivery("ghost", None, "ghost:0", t(0));
    assert!(store.save_delivery(&ghost).await.is_err());
    assert!(ids(store, None, 0).await.iter().all(|d| d != "ghost"));
}

/// Without a limit at most 50 deliveries are listed, newest first.
async fn listing_limits(store: &dyn Storage) {
    let many: Vec<_> =
        (0..60).map(|n| delivery(&format!("old-{n:02}"), None, &format!("old:{n}"), t(n))).collect();
    store.route(&[], &[], &many, None).await.unwrap();
    let listed = ids(store, None, 0).await;
    assert_eq!(listed.len(), 50);
    assert_eq!(listed[..6], ["d4", "d3", "d2", "d1", "d-test", "old-59"]);
    assert_eq!(listed[49], "old-15");
    assert_eq!(ids(store, None, 2).await, ["d4", "d3"]);
    assert_eq!(store.deliveries(None, u32::MAX).await.unwrap().len(), 65);
    assert_eq!(store.due_deliveries(t(1_000_000), 0).await.unwrap().len(), 50);
    assert_eq!(store.due_deliveries(t(1_000_000), 3).await.unwrap().len(), 3);
}

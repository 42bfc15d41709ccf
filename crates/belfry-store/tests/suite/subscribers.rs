//! The subscriber store story: drives the whole `SubscriberStore` port against any backend.
//! Every backend's test calls [`subscriber_story`] with a fresh, empty store.

use std::sync::Arc;

use belfry_core::store::Storage;
use belfry_core::subscriber::{Subscriber, SubscriberKind, hash_token};

use super::data::{id, t};

fn email(sid: &str, address: &str, components: &[&str], at: i64) -> Subscriber {
    Subscriber {
        id: sid.to_owned(),
        kind: SubscriberKind::Email { address: address.to_owned() },
        components: components.iter().map(|c| id(c)).collect(),
        confirmed_at: None,
        created_at: t(at),
        token: format!("token-{sid}"),
    }
}

pub async fn subscriber_story(store: Arc<dyn Storage>) {
    let store = store.as_ref();
    assert_eq!(store.subscriber("nope").await.unwrap(), None);
    assert_eq!(store.subscriber_by_token(&hash_token("nope")).await.unwrap(), None);
    assert!(store.confirmed_subscribers(&[]).await.unwrap().is_empty());
    assert!(!store.confirm_subscriber("nope", t(1)).await.unwrap());
    assert!(!store.delete_subscriber("nope").await.unwrap());

    // Added once per address, case-insensitively; read back by id and by token hash.
    let ann = email("s1", "ann@example.test", &["api"], 10);
    assert!(store.add_subscriber(&ann).await.unwrap());
    assert!(!store.add_subscriber(&email("s9", "ANN@example.test", &[], 11)).await.unwrap());
    assert_eq!(store.subscriber("s9").await.unwrap(), None);
    assert_eq!(store.subscriber("s1").await.unwrap(), Some(ann.clone()));
    assert_eq!(store.subscriber_by_token(&hash_token("token-s1")).await.unwrap(), Some(ann.clone()));
    assert_eq!(store.subscriber_by_token("token-s1").await.unwrap(), None, "looked up by hash only");

    // Unconfirmed subscribers are never listed.
    let bob = email("s2", "bob@example.test", &[], 20);
    let hook = Subscriber {
        id: "s3".into(),
        kind: SubscriberKind::Webhook { url: "https://hooks.example.test/x".into() },
        components: vec![id("web")],
        confirmed_at: Some(t(30)),
        created_at: t(30),
        token: "token-s3".into(),
    };
    assert!(store.add_subscriber(&bob).await.unwrap());
    assert!(store.add_subscriber(&hook).await.unwrap());
    let listed = |c: &'static [&'static str]| async move {
        let components: Vec<_> = c.iter().map(|c| id(c)).collect();
        let subs = store.confirmed_subscribers(&components).await.unwrap();
        subs.into_iter().map(|s| s.id).collect::<Vec<_>>()
    };
    assert_eq!(listed(&[]).await, ["s3"]);

    // Confirming sets the time once; later confirmations keep it.
    assert!(store.confirm_subscriber("s1", t(40)).await.unwrap());
    assert!(store.confirm_subscriber("s2", t(41)).await.unwrap());
    assert!(store.confirm_subscriber("s1", t(99)).await.unwrap());
    assert_eq!(store.subscriber("s1").await.unwrap().unwrap().confirmed_at, Some(t(40)));

    // Oldest first, filtered by component (empty on either side means everything).
    assert_eq!(listed(&[]).await, ["s1", "s2", "s3"]);
    assert_eq!(listed(&["api"]).await, ["s1", "s2"]);
    assert_eq!(listed(&["web"]).await, ["s2", "s3"]);
    assert_eq!(listed(&["db"]).await, ["s2"]);

    // Deleting frees the address.
    assert!(store.delete_subscriber("s1").await.unwrap());
    assert!(!store.delete_subscriber("s1").await.unwrap());
    assert_eq!(store.subscriber_by_token(&hash_token("token-s1")).await.unwrap(), None);
    assert_eq!(listed(&["api"]).await, ["s2"]);
    assert!(store.add_subscriber(&email("s4", "ann@example.test", &[], 50)).await.unwrap());
}

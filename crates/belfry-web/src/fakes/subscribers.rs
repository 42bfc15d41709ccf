//! In-memory `SubscriberStore`.

use async_trait::async_trait;
use belfry_core::store::SubscriberStore;
use belfry_core::subscriber::Subscriber;
use belfry_core::{MonitorId, StoreError};
use jiff::Timestamp;

use super::FakeStore;

#[async_trait]
impl SubscriberStore for FakeStore {
    async fn add_subscriber(&self, subscriber: &Subscriber) -> Result<bool, StoreError> {
        self.check()?;
        let mut subs = self.subscribers.lock().unwrap();
        let taken = subs.iter().any(|s| {
            s.id == subscriber.id || s.kind.key() == subscriber.kind.key() || s.token == subscriber.token
        });
        if !taken {
            subs.push(subscriber.clone());
        }
        Ok(!taken)
    }

    async fn subscriber(&self, id: &str) -> Result<Option<Subscriber>, StoreError> {
        self.check()?;
        Ok(self.subscribers.lock().unwrap().iter().find(|s| s.id == id).cloned())
    }

    async fn subscriber_by_token(&self, token_hash: &str) -> Result<Option<Subscriber>, StoreError> {
        self.check()?;
        Ok(self.subscribers.lock().unwrap().iter().find(|s| s.token_hash() == token_hash).cloned())
    }

    async fn confirm_subscriber(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        self.check()?;
        let mut subs = self.subscribers.lock().unwrap();
        let Some(s) = subs.iter_mut().find(|s| s.id == id) else { return Ok(false) };
        s.confirmed_at.get_or_insert(at);
        Ok(true)
    }

    async fn delete_subscriber(&self, id: &str) -> Result<bool, StoreError> {
        self.check()?;
        let mut subs = self.subscribers.lock().unwrap();
        let before = subs.len();
        subs.retain(|s| s.id != id);
        Ok(subs.len() != before)
    }

    async fn confirmed_subscribers(&self, components: &[MonitorId]) -> Result<Vec<Subscriber>, StoreError> {
        self.check()?;
        let subs = self.subscribers.lock().unwrap();
        Ok(subs.iter().filter(|s| s.is_confirmed() && s.wants(components)).cloned().collect())
    }

    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        self.check()?;
        Ok(self.subscribers.lock().unwrap().clone())
    }
}

//! `SubscriberStore` for SQLite. Statements and codecs are shared with PostgreSQL.

use async_trait::async_trait;
use belfry_core::clock::epoch_ms;
use belfry_core::monitor::MonitorId;
use belfry_core::store::{StoreError, SubscriberStore};
use belfry_core::subscriber::Subscriber;
use jiff::Timestamp;

use super::SqliteStore;
use super::error::db;
use crate::subscriber_codec::{self as codec, SubscriberRow};
use crate::subscriber_sql as sql;

#[async_trait]
impl SubscriberStore for SqliteStore {
    async fn add_subscriber(&self, subscriber: &Subscriber) -> Result<bool, StoreError> {
        let r = SubscriberRow::encode(subscriber)?;
        let done = sqlx::query(sql::INSERT_SUBSCRIBER)
            .bind(r.id)
            .bind(r.address_key)
            .bind(r.token_hash)
            .bind(r.confirmed_at)
            .bind(r.created_at)
            .bind(r.doc)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn subscriber(&self, id: &str) -> Result<Option<Subscriber>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as(sql::SUBSCRIBER_BY_ID).bind(id).fetch_optional(&self.pool).await.map_err(db)?;
        row.map(codec::decode).transpose()
    }

    async fn subscriber_by_token(&self, token_hash: &str) -> Result<Option<Subscriber>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(sql::SUBSCRIBER_BY_TOKEN)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(codec::decode).transpose()
    }

    async fn confirm_subscriber(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        let Some(mut s) = self.subscriber(id).await? else { return Ok(false) };
        if s.is_confirmed() {
            return Ok(true);
        }
        s.confirmed_at = Some(at);
        sqlx::query(sql::CONFIRM_SUBSCRIBER)
            .bind(id)
            .bind(epoch_ms(at))
            .bind(codec::encode_doc(&s)?)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        // No row changed: confirmed meanwhile (fine) or deleted meanwhile.
        Ok(self.subscriber(id).await?.is_some())
    }

    async fn delete_subscriber(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::DELETE_SUBSCRIBER).bind(id).execute(&self.pool).await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn confirmed_subscribers(&self, components: &[MonitorId]) -> Result<Vec<Subscriber>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as(sql::CONFIRMED_SUBSCRIBERS).fetch_all(&self.pool).await.map_err(db)?;
        codec::interested(rows, components)
    }

    async fn all_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as(sql::ALL_SUBSCRIBERS).fetch_all(&self.pool).await.map_err(db)?;
        rows.into_iter().map(codec::decode).collect()
    }
}

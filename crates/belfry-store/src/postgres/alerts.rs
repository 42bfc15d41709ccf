//! `AlertStore` for PostgreSQL: alerts, the notification outbox and routing cursors.
//! Statements and codecs are shared with SQLite.
//!
//! A routing step runs in one plain (READ COMMITTED) transaction: the version check of a
//! changed alert is the `WHERE` of its update, so two nodes changing one alert at once
//! serialise on its row lock and the later one finds the version changed (a `Conflict`); two
//! inserts of one alert id, or of one delivery idempotency key, race on the unique index the
//! same way (the later insert waits for the first to commit, then does nothing).
//!
//! `due_deliveries` is a plain select, not `FOR UPDATE SKIP LOCKED`: the port hands the rows
//! back without holding them, so row locks would end with the statement's transaction and
//! claim nothing. One dispatcher per node reads the outbox; what keeps a delivery from being
//! sent twice across nodes is its idempotency key (also sent to the receiver), not the read.

use async_trait::async_trait;
use belfry_core::alert::{Alert, Delivery, DeliveryStatus};
use belfry_core::clock::epoch_ms;
use belfry_core::store::{AlertStore, StoreError};
use jiff::Timestamp;
use sqlx::postgres::PgArguments;
use sqlx::{PgConnection, Postgres};

use super::PgStore;
use super::error::db;
use crate::alert_codec::{self as codec, AlertRow, DeliveryRow, Routing};
use crate::alert_sql as sql;
use crate::incident_codec::{DocColumns, list_limit};
use crate::incident_sql::SET_CURSOR;

#[async_trait]
impl AlertStore for PgStore {
    async fn route(
        &self,
        opened: &[Alert],
        changed: &[Alert],
        deliveries: &[Delivery],
        cursor: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        let routing = Routing::encode(opened, changed, deliveries, cursor)?;
        if routing.is_empty() {
            return Ok(());
        }
        let work = async {
            // Any error drops `tx`, which rolls everything back.
            let mut tx = self.pool.begin().await.map_err(db)?;
            write(&mut tx, routing).await?;
            tx.commit().await.map_err(db)
        };
        self.settle(work.await)
    }

    async fn alert(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let row: Result<Option<DocColumns>, _> =
            sqlx::query_as(sql::ALERT_BY_ID).bind(id).fetch_optional(&self.pool).await.map_err(db);
        self.settle(row)?.map(codec::decode_alert).transpose()
    }

    async fn unresolved_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let rows: Result<Vec<DocColumns>, _> =
            sqlx::query_as(sql::UNRESOLVED_ALERTS).fetch_all(&self.pool).await.map_err(db);
        codec::decode_alerts(self.settle(rows)?)
    }

    async fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        let rows: Result<Vec<(String,)>, _> = sqlx::query_as(sql::DUE_DELIVERIES)
            .bind(codec::pending())
            .bind(epoch_ms(now))
            .bind(list_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db);
        codec::decode_deliveries(self.settle(rows)?)
    }

    async fn save_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let r = DeliveryRow::encode(delivery)?;
        let done = sqlx::query(sql::SAVE_DELIVERY)
            .bind(&r.id)
            .bind(r.status)
            .bind(r.next_attempt_at)
            .bind(r.attempts)
            .bind(r.doc)
            .execute(&self.pool)
            .await
            .map_err(db);
        if self.settle(done)?.rows_affected() == 0 {
            return Err(codec::missing_delivery(&r.id));
        }
        Ok(())
    }

    async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Result<Vec<(String,)>, _> = sqlx::query_as(sql::LIST_DELIVERIES)
            .bind(codec::status_filter(status))
            .bind(list_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db);
        codec::decode_deliveries(self.settle(rows)?)
    }
}

/// Every write of one routing step, in the caller's transaction.
async fn write(conn: &mut PgConnection, routing: Routing) -> Result<(), StoreError> {
    for r in routing.opened {
        let id = r.id.clone();
        if bind_alert(sqlx::query(sql::INSERT_ALERT), r)
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected()
            == 0
        {
            return Err(codec::exists(&id));
        }
    }
    for (r, expected) in routing.changed {
        let id = r.id.clone();
        let query = bind_alert(sqlx::query(sql::UPDATE_ALERT), r).bind(expected);
        if query.execute(&mut *conn).await.map_err(db)?.rows_affected() == 0 {
            return Err(codec::stale(&id, expected));
        }
    }
    // A handful per step: one statement each (the shared text, prepared once per connection)
    // is simpler than an `UNNEST` insert. A skipped duplicate key affects no row.
    for r in routing.deliveries {
        sqlx::query(sql::INSERT_DELIVERY)
            .bind(r.id)
            .bind(r.idempotency_key)
            .bind(r.alert)
            .bind(r.channel)
            .bind(r.status)
            .bind(r.next_attempt_at)
            .bind(r.created_at)
            .bind(r.attempts)
            .bind(r.doc)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    if let Some((name, value)) = routing.cursor {
        sqlx::query(SET_CURSOR).bind(name).bind(value).execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Binds `$1`..`$8` of an alert statement.
fn bind_alert(query: Query<'_>, r: AlertRow) -> Query<'_> {
    query
        .bind(r.id)
        .bind(r.subject)
        .bind(r.active)
        .bind(r.next_at)
        .bind(r.opened_at)
        .bind(r.version)
        .bind(r.doc)
        .bind(r.resolved_at)
}

#[cfg(test)]
#[path = "../../tests/pgdb/mod.rs"]
mod pgdb;

#[cfg(test)]
mod tests {
    use belfry_core::store::AlertStore;
    use sqlx::postgres::PgPoolOptions;

    use super::*;
    use crate::alert_codec::legacy;

    /// Migration 0007 fills `resolved_at` from the docs of alerts stored before it, and resolves
    /// those acknowledged before it (done then) as of their acknowledgement; a doc with the
    /// escape `\u0000` (which `jsonb` refuses) among them is read with U+FFFD in its place.
    #[tokio::test]
    async fn migration_0007_backfills_resolved_at() {
        let db = super::pgdb::TestDb::create().await;
        let old = PgPoolOptions::new().max_connections(1).connect(&db.url()).await.unwrap();
        sqlx::migrate!("./migrations/postgres").run_to(legacy::BEFORE, &old).await.unwrap();
        let mut alerts = legacy::alerts();
        // Acknowledged, so its doc is also written back; the NUL is escaped in the JSON text.
        let nul = legacy::with_reason(&alerts, "acknowledged", "nul-reason", "read\0failed");
        let resolved_nul = legacy::with_reason(&alerts, "resolved", "nul-resolved", "\0");
        alerts.extend([nul, resolved_nul]);
        legacy::insert!(&old, alerts);
        old.close().await;

        let store = PgStore::open(&db.url(), 2).await.unwrap();
        let rows: Vec<(String, Option<i64>, i64)> =
            sqlx::query_as("SELECT id, resolved_at, version FROM alerts ORDER BY id")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let mut expected = legacy::backfilled();
        let ms = |t| Some(belfry_core::clock::epoch_ms(t));
        expected.extend([
            ("nul-reason".to_owned(), ms(legacy::at(3)), 2),
            ("nul-resolved".to_owned(), ms(legacy::at(5_123)), 1),
        ]);
        expected.sort();
        assert_eq!(rows, expected);
        let nul = store.alert("nul-reason").await.unwrap().unwrap();
        assert_eq!((nul.resolved_at, nul.version), (Some(legacy::at(3)), 2), "{nul:#?}");
        assert_eq!(nul.event.reason.as_deref(), Some("read\u{fffd}failed"));
        let kept = store.alert("nul-resolved").await.unwrap().unwrap();
        assert_eq!(kept.event.reason.as_deref(), Some("\0"), "a doc not written back is kept as written");
        let unresolved: Vec<String> =
            store.unresolved_alerts().await.unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(unresolved, ["active"], "acknowledged before 0007: done then, resolved now");
        legacy::check_acknowledged(store.alert("acknowledged").await.unwrap());
        store.close().await;
    }
}

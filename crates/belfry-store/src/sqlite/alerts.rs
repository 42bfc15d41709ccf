//! `AlertStore` for SQLite: alerts, the notification outbox and routing cursors. Statements
//! and codecs are shared with PostgreSQL.

use async_trait::async_trait;
use belfry_core::alert::{Alert, Delivery, DeliveryStatus};
use belfry_core::clock::epoch_ms;
use belfry_core::store::{AlertStore, StoreError};
use jiff::Timestamp;
use sqlx::SqliteConnection;

use super::SqliteStore;
use super::error::db;
use crate::alert_codec::{self as codec, AlertRow, DeliveryRow, Routing};
use crate::alert_sql as sql;
use crate::incident_codec::{DocColumns, list_limit};
use crate::incident_sql::SET_CURSOR;

#[async_trait]
impl AlertStore for SqliteStore {
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
        // IMMEDIATE: the write lock up front, so the version checks and the writes cannot be
        // interleaved with another writer's. Any error drops `tx`, which rolls everything back.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
        write(&mut tx, routing).await?;
        tx.commit().await.map_err(db)
    }

    async fn alert(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let row: Option<DocColumns> =
            sqlx::query_as(sql::ALERT_BY_ID).bind(id).fetch_optional(&self.pool).await.map_err(db)?;
        row.map(codec::decode_alert).transpose()
    }

    async fn unresolved_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<DocColumns> =
            sqlx::query_as(sql::UNRESOLVED_ALERTS).fetch_all(&self.pool).await.map_err(db)?;
        codec::decode_alerts(rows)
    }

    async fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(sql::DUE_DELIVERIES)
            .bind(codec::pending())
            .bind(epoch_ms(now))
            .bind(list_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        codec::decode_deliveries(rows)
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
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(codec::missing_delivery(&r.id));
        }
        Ok(())
    }

    async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(sql::LIST_DELIVERIES)
            .bind(codec::status_filter(status))
            .bind(list_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        codec::decode_deliveries(rows)
    }
}

/// Every write of one routing step, in the caller's transaction.
async fn write(conn: &mut SqliteConnection, routing: Routing) -> Result<(), StoreError> {
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
    // A handful per step: one statement each (a skipped duplicate key affects no row).
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

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

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
mod tests {
    use belfry_core::store::AlertStore;
    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;
    use crate::alert_codec::legacy;

    /// Migration 0007 fills `resolved_at` from the docs of alerts stored before it, resolves
    /// those acknowledged before it (done then) as of their acknowledgement, and the unresolved
    /// alerts are read through its partial index. A doc with the escape `\u0000` is read and
    /// written back as it is (PostgreSQL's needs a replacement; see its migration).
    #[tokio::test]
    async fn migration_0007_backfills_resolved_at_and_unresolved_reads_are_indexed() {
        let dir = tempfile::TempDir::new().unwrap();
        let url = format!("sqlite://{}/belfry.db?mode=rwc", dir.path().display());
        let old = SqlitePoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        sqlx::migrate!("./migrations/sqlite").run_to(legacy::BEFORE, &old).await.unwrap();
        let mut alerts = legacy::alerts();
        alerts.push(legacy::with_reason(&alerts, "acknowledged", "nul-reason", "read\0failed"));
        legacy::insert!(&old, alerts);
        old.close().await;

        let store = SqliteStore::open(&url, 2).await.unwrap();
        let rows: Vec<(String, Option<i64>, i64)> =
            sqlx::query_as("SELECT id, resolved_at, version FROM alerts ORDER BY id")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let mut expected = legacy::backfilled();
        expected.push(("nul-reason".to_owned(), Some(belfry_core::clock::epoch_ms(legacy::at(3))), 2));
        expected.sort();
        assert_eq!(rows, expected);
        let nul = store.alert("nul-reason").await.unwrap().unwrap();
        assert_eq!((nul.resolved_at, nul.version), (Some(legacy::at(3)), 2), "{nul:#?}");
        assert_eq!(nul.event.reason.as_deref(), Some("read\0failed"));
        let unresolved: Vec<String> =
            store.unresolved_alerts().await.unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(unresolved, ["active"], "acknowledged before 0007: done then, resolved now");
        legacy::check_acknowledged(store.alert("acknowledged").await.unwrap());

        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", sql::UNRESOLVED_ALERTS)))
                .fetch_all(&store.pool)
                .await
                .unwrap();
        assert!(plan.iter().any(|(.., detail)| detail.contains("alerts_unresolved")), "{plan:?}");
    }
}

//! `IncidentStore` for PostgreSQL: incidents and their timelines here, maintenance windows and
//! cursors in their own modules. Statements and codecs are shared with SQLite.
//!
//! Saves run in plain (READ COMMITTED) transactions: the version check is the `WHERE` of the
//! write itself, so two nodes saving the same incident at once serialise on its row lock and
//! the later one, re-reading the row after the first commits, finds the version changed and
//! updates nothing (a `Conflict`). Two inserts of one id race on the primary key the same way.

use async_trait::async_trait;
use belfry_core::clock::epoch_ms;
use belfry_core::coordination::Change;
use belfry_core::incident::{Incident, TimelineEntry};
use belfry_core::maintenance::Maintenance;
use belfry_core::store::{IncidentFilter, IncidentStore, StoreError};
use jiff::Timestamp;
use sqlx::{PgConnection, PgPool};

use super::error::db;
use super::{PgStore, changes, cursors, maintenances};
use crate::incident_codec::{self as codec, DocColumns, IncidentRow, TimelineColumns, TimelineRow};
use crate::incident_sql as sql;

#[async_trait]
impl IncidentStore for PgStore {
    async fn save_incident(
        &self,
        incident: &Incident,
        expected_version: u64,
        timeline: &[TimelineEntry],
    ) -> Result<u64, StoreError> {
        if let Some(stray) = timeline.iter().find(|e| e.incident != incident.id) {
            return Err(StoreError::Other(format!(
                "timeline entry of incident {:?} saved with incident {:?}",
                stray.incident, incident.id
            )));
        }
        let version = codec::next_version(expected_version)?;
        let row = IncidentRow::encode(incident, version)?;
        let timeline = timeline.iter().map(TimelineRow::encode).collect::<Result<Vec<_>, _>>()?;
        let work = async {
            let mut tx = self.pool.begin().await.map_err(db)?;
            save(&mut tx, row, expected_version).await?;
            append(&mut tx, timeline).await?;
            changes::notify(&mut *tx, "", &Change::Page).await?;
            tx.commit().await.map_err(db)
        };
        self.settle(work.await)?;
        Ok(version)
    }

    async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let row: Result<Option<DocColumns>, _> =
            sqlx::query_as(sql::INCIDENT_BY_ID).bind(id).fetch_optional(&self.pool).await.map_err(db);
        self.settle(row)?.map(codec::decode_incident).transpose()
    }

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        self.settle(list(&self.pool, filter).await)
    }

    async fn timeline(&self, incident: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows: Result<Vec<TimelineColumns>, _> =
            sqlx::query_as(sql::TIMELINE).bind(incident).fetch_all(&self.pool).await.map_err(db);
        codec::decode_timeline(self.settle(rows)?)
    }

    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows = entries.iter().map(TimelineRow::encode).collect::<Result<Vec<_>, _>>()?;
        let work = async {
            let mut tx = self.pool.begin().await.map_err(db)?;
            append(&mut tx, rows).await?;
            changes::notify(&mut *tx, "", &Change::Page).await?;
            tx.commit().await.map_err(db)
        };
        self.settle(work.await)
    }

    async fn save_maintenance(
        &self,
        maintenance: &Maintenance,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let version = self.settle(maintenances::save(&self.pool, maintenance, expected_version).await)?;
        self.tell(Change::Page).await;
        Ok(version)
    }

    async fn maintenance(&self, id: &str) -> Result<Option<Maintenance>, StoreError> {
        self.settle(maintenances::by_id(&self.pool, id).await)
    }

    async fn maintenances(&self, since: Timestamp) -> Result<Vec<Maintenance>, StoreError> {
        self.settle(maintenances::list(&self.pool, since).await)
    }

    async fn delete_maintenance(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self.settle(maintenances::delete(&self.pool, id).await)?;
        if deleted {
            self.tell(Change::Page).await;
        }
        Ok(deleted)
    }

    async fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.settle(cursors::get(&self.pool, name).await)
    }

    async fn set_cursor(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.settle(cursors::set(&self.pool, name, value).await)
    }
}

/// Inserts (`expected` 0) or updates the row if the stored version is `expected`.
async fn save(conn: &mut PgConnection, r: IncidentRow, expected: u64) -> Result<(), StoreError> {
    let what = format!("incident {:?}", r.id);
    let query =
        if expected == 0 { sqlx::query(sql::INSERT_INCIDENT) } else { sqlx::query(sql::UPDATE_INCIDENT) };
    let mut query = query
        .bind(r.id)
        .bind(r.status)
        .bind(r.published)
        .bind(r.auto_monitor)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.resolved_at)
        .bind(r.version)
        .bind(r.doc);
    if expected != 0 {
        query = query.bind(crate::codec::to_i64("version", expected)?);
    }
    let done = query.execute(&mut *conn).await.map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(codec::conflict(&what, expected));
    }
    Ok(())
}

async fn append(conn: &mut PgConnection, rows: Vec<TimelineRow>) -> Result<(), StoreError> {
    // A handful of entries per change: one statement each (the shared text, prepared once per
    // connection) is simpler than an `UNNEST` insert.
    for r in rows {
        sqlx::query(sql::INSERT_TIMELINE)
            .bind(r.incident)
            .bind(r.at)
            .bind(r.sub_ms_ns)
            .bind(r.kind)
            .bind(r.author)
            .bind(r.text)
            .bind(r.data)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

async fn list(pool: &PgPool, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
    let rows: Vec<DocColumns> = sqlx::query_as(sql::LIST_INCIDENTS)
        .bind(filter.unresolved_only)
        .bind(filter.include_drafts)
        .bind(filter.since.map_or(i64::MIN, epoch_ms))
        .bind(filter.auto_monitor.as_ref().map(|m| m.as_str()))
        .bind(codec::list_limit(filter.limit))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    codec::decode_incidents(rows)
}

//! `IncidentStore` for SQLite: incidents and their timelines here, maintenance windows and
//! cursors in their own modules. Statements and codecs are shared with PostgreSQL.

use async_trait::async_trait;
use belfry_core::clock::epoch_ms;
use belfry_core::incident::{Incident, TimelineEntry};
use belfry_core::maintenance::Maintenance;
use belfry_core::store::{IncidentFilter, IncidentStore, StoreError};
use jiff::Timestamp;
use sqlx::{SqliteConnection, SqlitePool};

use super::error::db;
use super::{SqliteStore, cursors, maintenances};
use crate::incident_codec::{self as codec, DocColumns, IncidentRow, TimelineColumns, TimelineRow};
use crate::incident_sql as sql;

#[async_trait]
impl IncidentStore for SqliteStore {
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
        // IMMEDIATE: the write lock up front, so the version check and the write cannot be
        // interleaved with another writer's.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
        save(&mut tx, row, expected_version).await?;
        append(&mut tx, timeline).await?;
        tx.commit().await.map_err(db)?;
        Ok(version)
    }

    async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let row: Option<DocColumns> =
            sqlx::query_as(sql::INCIDENT_BY_ID).bind(id).fetch_optional(&self.pool).await.map_err(db)?;
        row.map(codec::decode_incident).transpose()
    }

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        list(&self.pool, filter).await
    }

    async fn timeline(&self, incident: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows: Vec<TimelineColumns> =
            sqlx::query_as(sql::TIMELINE).bind(incident).fetch_all(&self.pool).await.map_err(db)?;
        codec::decode_timeline(rows)
    }

    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows = entries.iter().map(TimelineRow::encode).collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
        append(&mut tx, rows).await?;
        tx.commit().await.map_err(db)
    }

    async fn save_maintenance(
        &self,
        maintenance: &Maintenance,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        maintenances::save(&self.pool, maintenance, expected_version).await
    }

    async fn maintenance(&self, id: &str) -> Result<Option<Maintenance>, StoreError> {
        maintenances::by_id(&self.pool, id).await
    }

    async fn maintenances(&self, since: Timestamp) -> Result<Vec<Maintenance>, StoreError> {
        maintenances::list(&self.pool, since).await
    }

    async fn delete_maintenance(&self, id: &str) -> Result<bool, StoreError> {
        maintenances::delete(&self.pool, id).await
    }

    async fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        cursors::get(&self.pool, name).await
    }

    async fn set_cursor(&self, name: &str, value: &str) -> Result<(), StoreError> {
        cursors::set(&self.pool, name, value).await
    }
}

/// Inserts (`expected` 0) or updates the row if the stored version is `expected`.
async fn save(conn: &mut SqliteConnection, r: IncidentRow, expected: u64) -> Result<(), StoreError> {
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

async fn append(conn: &mut SqliteConnection, rows: Vec<TimelineRow>) -> Result<(), StoreError> {
    // A handful of entries per change: one statement each is simpler than a multi-row insert.
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

async fn list(pool: &SqlitePool, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
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

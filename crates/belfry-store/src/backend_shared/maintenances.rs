//! Maintenance windows, saved whole with optimistic concurrency.

use super::Pool;
use belfry_core::clock::epoch_ms;
use belfry_core::maintenance::Maintenance;
use belfry_core::store::StoreError;
use jiff::Timestamp;

use super::error::db;
use crate::codec::to_i64;
use crate::incident_codec::{self as codec, DocColumns, MaintenanceRow};
use crate::incident_sql as sql;

/// Inserts (`expected` 0) or updates the window if the stored version is `expected`; returns
/// the stored version. One statement, so no transaction is needed: an update racing another
/// node's waits for it, then finds the version changed and updates nothing (a `Conflict`).
pub(super) async fn save(pool: &Pool, m: &Maintenance, expected: u64) -> Result<u64, StoreError> {
    let version = codec::next_version(expected)?;
    let r = MaintenanceRow::encode(m, version)?;
    let what = format!("maintenance {:?}", r.id);
    let query = if expected == 0 {
        sqlx::query(sql::INSERT_MAINTENANCE)
    } else {
        sqlx::query(sql::UPDATE_MAINTENANCE)
    };
    let mut query =
        query.bind(r.id).bind(r.starts_at).bind(r.ends_at).bind(r.recurring).bind(r.version).bind(r.doc);
    if expected != 0 {
        query = query.bind(to_i64("version", expected)?);
    }
    let done = query.execute(pool).await.map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(codec::conflict(&what, expected));
    }
    Ok(version)
}

pub(super) async fn by_id(pool: &Pool, id: &str) -> Result<Option<Maintenance>, StoreError> {
    let row: Option<DocColumns> =
        sqlx::query_as(sql::MAINTENANCE_BY_ID).bind(id).fetch_optional(pool).await.map_err(db)?;
    row.map(codec::decode_maintenance).transpose()
}

pub(super) async fn list(pool: &Pool, since: Timestamp) -> Result<Vec<Maintenance>, StoreError> {
    let rows: Vec<DocColumns> =
        sqlx::query_as(sql::LIST_MAINTENANCES).bind(epoch_ms(since)).fetch_all(pool).await.map_err(db)?;
    codec::decode_maintenances(rows)
}

/// Whether the window existed.
pub(super) async fn delete(pool: &Pool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(sql::DELETE_MAINTENANCE).bind(id).execute(pool).await.map_err(db)?;
    Ok(done.rows_affected() > 0)
}

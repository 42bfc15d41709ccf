//! Each monitor's persisted policy memory.

use belfry_core::monitor::MonitorId;
use belfry_core::policy::PolicyState;
use belfry_core::store::StoreError;
use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, PgPool};

use super::error::db;
use crate::{batch, codec, sql};

/// Upserts the states, the last one winning when a monitor appears twice.
pub(super) async fn upsert(
    conn: &mut PgConnection,
    states: &[(MonitorId, PolicyState)],
) -> Result<(), StoreError> {
    if states.is_empty() {
        return Ok(());
    }
    let (mut monitors, mut encoded) = (vec![], vec![]);
    for (monitor, state) in batch::last_state_per_monitor(states) {
        monitors.push(monitor);
        encoded.push(codec::encode_policy_state(state)?);
    }
    let statement = format!(
        "INSERT INTO policy_states (monitor, state) SELECT * FROM UNNEST($1::text[], $2::text[]){}",
        sql::STATES_ON_CONFLICT
    );
    sqlx::query(AssertSqlSafe(statement)).bind(monitors).bind(encoded).execute(conn).await.map_err(db)?;
    Ok(())
}

pub(super) async fn all(pool: &PgPool) -> Result<Vec<(MonitorId, PolicyState)>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(sql::POLICY_STATES).fetch_all(pool).await.map_err(db)?;
    rows.iter().map(|(monitor, state)| codec::decode_policy_state(monitor, state)).collect()
}

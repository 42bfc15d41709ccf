//! Each monitor's persisted policy memory.

use belfry_core::monitor::MonitorId;
use belfry_core::policy::PolicyState;
use belfry_core::store::StoreError;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::error::db;
use crate::{batch, codec, sql};

const ROWS_PER_INSERT: usize = 400;

/// Upserts the states, the last one winning when a monitor appears twice.
pub(super) async fn upsert(
    conn: &mut SqliteConnection,
    states: &[(MonitorId, PolicyState)],
) -> Result<(), StoreError> {
    let rows = batch::last_state_per_monitor(states)
        .into_iter()
        .map(|(monitor, state)| Ok((monitor, codec::encode_policy_state(state)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO policy_states (monitor, state) ");
        qb.push_values(chunk, |mut b, (monitor, state)| {
            b.push_bind(*monitor).push_bind(state.as_str());
        });
        qb.push(sql::STATES_ON_CONFLICT);
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

pub(super) async fn all(pool: &SqlitePool) -> Result<Vec<(MonitorId, PolicyState)>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(sql::POLICY_STATES).fetch_all(pool).await.map_err(db)?;
    rows.iter().map(|(monitor, state)| codec::decode_policy_state(monitor, state)).collect()
}

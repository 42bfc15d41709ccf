//! Changes told to every node over `LISTEN`/`NOTIFY` on one channel. Writes that change what
//! pages show notify inside their transaction (delivered at commit, never for a rollback);
//! a node announces what only it knows (a heartbeat ping). Each payload is a small JSON
//! envelope naming the node it came from (empty for the store's own notices).

use async_trait::async_trait;
use belfry_core::coordination::{Change, ChangeListener};
use belfry_core::store::StoreError;
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use super::PgStore;
use super::error::db;

/// The `LISTEN`/`NOTIFY` channel every node listens on.
pub(super) const CHANNEL: &str = "belfry_changes";
/// PostgreSQL refuses payloads of 8,000 bytes or more; a ping's message is cut well below.
const MAX_MESSAGE: usize = 1000;

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The announcing node; empty for notices of the store itself.
    #[serde(default)]
    from: String,
    change: Change,
}

/// The payload of `change` sent by `from`.
pub(super) fn payload(from: &str, change: &Change) -> String {
    let change = match change {
        Change::Ping { token, down: Some(message) } if message.len() > MAX_MESSAGE => {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            Change::Ping { token: token.clone(), down: Some(message[..cut].to_owned()) }
        }
        other => other.clone(),
    };
    serde_json::to_string(&Envelope { from: from.to_owned(), change }).unwrap_or_default()
}

/// `NOTIFY` on `conn` (inside a transaction: sent at its commit).
pub(super) async fn notify<'c, E>(conn: E, from: &str, change: &Change) -> Result<(), StoreError>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload(from, change))
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

impl PgStore {
    /// Tells every node about `change` after a write that is already done: a failure is
    /// logged, not returned (pages catch up at their next refresh anyway).
    pub(super) async fn tell(&self, change: Change) {
        if let Err(e) = notify(&self.pool, "", &change).await {
            tracing::debug!(error = %e, "could not notify the other nodes of a change");
        }
    }
}

/// Notifications of other nodes (and of the store), as [`Change`]s.
pub(super) struct PgChangeListener {
    listener: PgListener,
    node: String,
}

impl PgChangeListener {
    /// A listener on a connection of its own (re-opened by sqlx when it drops).
    pub(super) async fn open(options: PgConnectOptions, node: String) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&pool).await.map_err(db)?;
        listener.listen(CHANNEL).await.map_err(db)?;
        Ok(Self { listener, node })
    }
}

#[async_trait]
impl ChangeListener for PgChangeListener {
    async fn next(&mut self) -> Result<Change, StoreError> {
        loop {
            let Some(notice) = self.listener.try_recv().await.map_err(db)? else {
                // The connection dropped (and was re-opened): whatever was sent meanwhile is lost.
                return Ok(Change::Missed);
            };
            let Ok(envelope) = serde_json::from_str::<Envelope>(notice.payload()) else {
                tracing::debug!(payload = notice.payload(), "ignoring a notification not understood");
                continue;
            };
            // This node already handled its own pings; the store's notices count for every node.
            if envelope.from == self.node && matches!(envelope.change, Change::Ping { .. }) {
                continue;
            }
            return Ok(envelope.change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ping_messages_are_cut_to_fit_a_notification() {
        let down = Some("é".repeat(5000));
        let text = payload("n1", &Change::Ping { token: "t".into(), down });
        assert!(text.len() < 2000, "{}", text.len());
        let back: Envelope = serde_json::from_str(&text).unwrap();
        assert_eq!(back.from, "n1");
        assert!(matches!(back.change, Change::Ping { down: Some(m), .. } if m.len() <= MAX_MESSAGE));
    }
}

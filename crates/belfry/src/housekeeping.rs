//! Store upkeep while serving: rollups of closed buckets every minute, pruning of raw results
//! past retention every hour; on the node holding the desk only (`desk`) when several share
//! the store.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use belfry_core::{Clock, Store};

pub async fn run(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    retention: Duration,
    desk: tokio::sync::watch::Receiver<bool>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut compact = tokio::time::interval(Duration::from_secs(60));
    let mut prune = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = compact.tick() => {
                if !*desk.borrow() {
                    continue;
                }
                if let Err(e) = store.compact(clock.now()).await {
                    tracing::warn!(error = %e, "building rollups failed; will retry");
                }
            }
            _ = prune.tick() => {
                if !*desk.borrow() {
                    continue;
                }
                let before = clock.now().checked_sub(retention).unwrap_or(jiff::Timestamp::MIN);
                match store.prune(before).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned raw results past retention"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning failed; will retry"),
                }
            }
        }
    }
}

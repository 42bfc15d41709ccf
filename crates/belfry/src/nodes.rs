//! This node's part when several share one store (see `belfry_core::coordination` and
//! docs/scaling.md): which monitors it runs, whether it runs the desk, and what it hears from
//! the others. A node alone (SQLite) runs everything and hears nothing; the same loops run.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use belfry_core::coordination::{Change, Coordination, Share, bucket_of};
use belfry_core::{MonitorId, Runtime};
use belfry_web::ChangeFeed;
use tokio::sync::watch;

use crate::service::Service;
use crate::telemetry;

/// How often a node balances its share and refreshes the states of the others' monitors. A
/// stopped node's monitors move within this plus the store's takeover grace (3 s for
/// PostgreSQL), well inside the 10 s lease the documentation promises.
pub const BALANCE_EVERY: Duration = Duration::from_secs(1);

/// A name for this node in logs and notifications, unique among the nodes of one store.
pub fn node_name() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "node".to_owned());
    let tag = belfry_core::auth::random_hex(3).unwrap_or_default();
    format!("{host}-{}-{tag}", std::process::id())
}

/// The monitors of `share` in the engine's catalog (`None`: all of them).
fn owned_monitors(service: &Service, share: &Share) -> Option<HashSet<MonitorId>> {
    share.buckets.as_ref()?;
    let catalog = service.engine.catalog();
    Some(catalog.monitors.iter().filter(|m| share.runs(&m.id)).map(|m| m.id.clone()).collect())
}

/// Puts `share` in force: the engine runs its monitors, the desk loop follows `desk`.
pub async fn apply_share(service: &Service, share: &Share, desk: &watch::Sender<bool>) {
    service.engine.set_owned(owned_monitors(service, share)).await;
    desk.send_if_modified(|held| std::mem::replace(held, share.desk) != share.desk);
    if let Some(buckets) = &share.buckets {
        metrics::gauge!(telemetry::NODE_BUCKETS).set(buckets.len() as f64);
        metrics::gauge!(telemetry::NODES).set(share.nodes as f64);
    }
    metrics::gauge!(telemetry::NODE_DESK).set(if share.desk { 1.0 } else { 0.0 });
}

/// Balances this node's share every [`BALANCE_EVERY`] until `stop`; on a store error the node
/// gives up the desk at once and keeps running its monitors until it can tell who owns them.
pub async fn take_part(
    service: Arc<Service>,
    coordination: Arc<dyn Coordination>,
    desk: watch::Sender<bool>,
    stop: impl Future<Output = ()>,
) {
    let mut every = tokio::time::interval(BALANCE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<(usize, bool, usize)> = None;
    let mut failing = false;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = every.tick() => {}
        }
        let busy: BTreeSet<u32> = service.engine.in_flight().iter().map(bucket_of).collect();
        match coordination.balance(&busy).await {
            Ok(share) => {
                if failing {
                    tracing::info!("coordination with the other nodes works again");
                    failing = false;
                }
                apply_share(&service, &share, &desk).await;
                if let Some(buckets) = &share.buckets {
                    let now = (buckets.len(), share.desk, share.nodes);
                    if last != Some(now) {
                        let monitors =
                            service.engine.catalog().monitors.iter().filter(|m| share.runs(&m.id)).count();
                        tracing::info!(
                            nodes = share.nodes,
                            buckets = buckets.len(),
                            monitors,
                            desk = share.desk,
                            "this node's share of the work changed"
                        );
                        last = Some(now);
                    }
                    service.refresh_others().await;
                }
            }
            Err(e) => {
                desk.send_if_modified(|held| std::mem::replace(held, false));
                metrics::gauge!(telemetry::NODE_DESK).set(0.0);
                if !failing {
                    tracing::warn!(error = %e, "cannot coordinate with the other nodes; keeping this node's monitors, leaving the desk, retrying");
                    failing = true;
                    last = None;
                }
            }
        }
    }
}

/// Acts on what the other nodes announce until `stop`: page changes refresh the others'
/// states and then the page, configuration changes reload, pings reach the monitor's owner.
pub async fn hear(
    service: Arc<Service>,
    coordination: Arc<dyn Coordination>,
    changes: ChangeFeed,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let mut listener = tokio::select! {
            _ = &mut stop => return,
            opened = coordination.listen() => match opened {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen to the other nodes; retrying");
                    tokio::time::sleep(BALANCE_EVERY).await;
                    continue;
                }
            },
        };
        loop {
            let change = tokio::select! {
                _ = &mut stop => return,
                change = listener.next() => change,
            };
            match change {
                Ok(change) => on_change(&service, &changes, change).await,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the other nodes' notifications; listening again");
                    tokio::time::sleep(BALANCE_EVERY).await;
                    break;
                }
            }
        }
    }
}

async fn on_change(service: &Service, changes: &ChangeFeed, change: Change) {
    match change {
        Change::Page => {
            service.refresh_others().await;
            changes.notify();
        }
        Change::Config => {
            let _ = service.reload().await;
            changes.notify();
        }
        Change::Ping { token, down } => {
            // Every node records the ping; only its owner judges it.
            let _ = service.engine.push(&token, down);
        }
        Change::Missed => {
            let _ = service.reload().await;
            service.refresh_others().await;
            changes.notify();
        }
    }
}

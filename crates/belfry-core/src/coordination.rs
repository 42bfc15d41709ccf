//! Several nodes on one store: the port through which a node learns its share of the work and
//! hears what other nodes changed, and the pure rule that balances the share.
//!
//! Monitors are grouped into [`BUCKETS`] buckets by a stable hash of their id; a node runs the
//! monitors of the buckets it holds. Exactly one node at a time also holds the *desk* (incident
//! automation, maintenance timeline, alert dispatch and store upkeep: work driven by store
//! cursors, which must not run twice). A node alone ([`Alone`], the SQLite case) holds
//! everything.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::monitor::MonitorId;
use crate::store::StoreError;

/// How many buckets the monitors are spread over: enough to balance a few nodes evenly, few
/// enough that a balancing step is a handful of lock calls.
pub const BUCKETS: u32 = 64;

/// The bucket of a monitor, in `[0, BUCKETS)`: FNV-1a of its id, mixed (murmur3's finaliser,
/// as FNV alone spreads short ids badly over a few bits), the same on every node and across
/// releases.
pub fn bucket_of(id: &MonitorId) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.as_str().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    (hash % u64::from(BUCKETS)) as u32
}

/// Buckets a node should hold when `nodes` nodes share the work (rounded up, so the shares
/// always cover every bucket).
pub fn fair_share(nodes: usize) -> usize {
    (BUCKETS as usize).div_ceil(nodes.max(1))
}

/// This node's part of the work after a balancing step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The buckets whose monitors this node runs; `None`: every monitor (a node alone).
    pub buckets: Option<BTreeSet<u32>>,
    /// Whether this node runs the desk.
    pub desk: bool,
    /// Live nodes sharing the work, this one included.
    pub nodes: usize,
}

impl Share {
    /// Whether this node runs `monitor`.
    pub fn runs(&self, monitor: &MonitorId) -> bool {
        self.buckets.as_ref().is_none_or(|b| b.contains(&bucket_of(monitor)))
    }
}

/// What one balancing step does with this node's buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub take: Vec<u32>,
    pub release: Vec<u32>,
}

/// One balancing step: a node below its fair share takes buckets from `claimable` (free, and
/// free long enough that no cut-off node may still be running them); a node above it releases
/// the excess, never a bucket in `busy` (a check of it is in flight). `seed` rotates the order
/// so that nodes starting together reach for different buckets.
pub fn plan(
    held: &BTreeSet<u32>,
    claimable: &BTreeSet<u32>,
    nodes: usize,
    busy: &BTreeSet<u32>,
    seed: u32,
) -> Plan {
    let fair = fair_share(nodes);
    let rank = |b: &u32| (b + BUCKETS - seed % BUCKETS) % BUCKETS;
    let mut plan = Plan::default();
    if held.len() < fair {
        let mut candidates: Vec<u32> = claimable.iter().filter(|b| !held.contains(b)).copied().collect();
        candidates.sort_by_key(rank);
        plan.take = candidates.into_iter().take(fair - held.len()).collect();
    } else if held.len() > fair {
        let mut candidates: Vec<u32> = held.iter().filter(|b| !busy.contains(b)).copied().collect();
        candidates.sort_by_key(|b| std::cmp::Reverse(rank(b)));
        plan.release = candidates.into_iter().take(held.len() - fair).collect();
    }
    plan
}

/// A change another node (or any writer to the shared store) announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Something the public pages show changed (a transition, an incident, a maintenance).
    Page,
    /// The console's configuration objects changed: reload.
    Config,
    /// A heartbeat ping arrived at another node; every node records it, its owner judges it.
    Ping { token: String, down: Option<String> },
    /// Notifications may have been lost (the connection dropped): refresh everything.
    Missed,
}

/// How a node takes part in sharing the work (see the module docs).
#[async_trait]
pub trait Coordination: Send + Sync {
    /// One balancing step (call about every second): keeps, takes or releases buckets and the
    /// desk. `busy` are buckets with a check in flight, not to be released now. On `Err` the
    /// node no longer holds the desk; it keeps running its monitors until it can tell who owns
    /// them (a store outage must not stop monitoring).
    async fn balance(&self, busy: &BTreeSet<u32>) -> Result<Share, StoreError>;

    /// Tells the other nodes about `change` (best effort).
    async fn announce(&self, change: &Change) -> Result<(), StoreError>;

    /// A stream of the changes announced by other nodes and by writes to the store.
    async fn listen(&self) -> Result<Box<dyn ChangeListener>, StoreError>;
}

#[async_trait]
pub trait ChangeListener: Send {
    /// Waits for the next change.
    async fn next(&mut self) -> Result<Change, StoreError>;
}

/// A node alone on its store: it runs everything and hears nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Alone;

#[async_trait]
impl Coordination for Alone {
    async fn balance(&self, _busy: &BTreeSet<u32>) -> Result<Share, StoreError> {
        Ok(Share { buckets: None, desk: true, nodes: 1 })
    }

    async fn announce(&self, _change: &Change) -> Result<(), StoreError> {
        Ok(())
    }

    async fn listen(&self) -> Result<Box<dyn ChangeListener>, StoreError> {
        Ok(Box::new(Silence))
    }
}

struct Silence;

#[async_trait]
impl ChangeListener for Silence {
    async fn next(&mut self) -> Result<Change, StoreError> {
        std::future::pending().await
    }
}

#[cfg(test)]
mod tests;

//! What every handler can reach: the core ports, nothing concrete.

use std::sync::Arc;

use belfry_core::store::{AdminStore, AlertStore, IncidentStore, SubscriberStore};
use belfry_core::vault::Vault;
use belfry_core::{Clock, Runtime, Store};

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct WebState {
    pub store: Arc<dyn Store>,
    /// Incidents, their timelines and maintenance windows (usually the same object as `store`).
    pub incidents: Arc<dyn IncidentStore>,
    /// Alerts and the notification outbox (usually the same object as `store`).
    pub alerts: Arc<dyn AlertStore>,
    /// Status page subscribers (usually the same object as `store`).
    pub subscribers: Arc<dyn SubscriberStore>,
    /// Users, sessions, the audit log and the vault (usually the same object as `store`).
    pub admin: Arc<dyn AdminStore>,
    /// The store's secrets, opened with the master key (TOTP seeds, the acknowledge key).
    pub vault: Vault,
    pub runtime: Arc<dyn Runtime>,
    pub clock: Arc<dyn Clock>,
}

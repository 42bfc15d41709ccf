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

impl WebState {
    /// The objects made in the console or the API in one config section. A failed read is a
    /// 503 (the store or the vault could not answer), never the caller's fault.
    pub(crate) async fn console_objects(
        &self,
        section: belfry_core::Section,
    ) -> Result<Vec<belfry_core::ConsoleObject>, crate::error::ApiError> {
        let objects = self.runtime.console_objects().await.map_err(|e| {
            tracing::error!(error = %e, "reading console objects failed");
            crate::error::ApiError::Status(axum::http::StatusCode::SERVICE_UNAVAILABLE)
        })?;
        Ok(objects.into_iter().filter(|o| o.section == section).collect())
    }

    /// The ids of [`WebState::console_objects`].
    pub(crate) async fn console_ids(
        &self,
        section: belfry_core::Section,
    ) -> Result<std::collections::HashSet<String>, crate::error::ApiError> {
        Ok(self.console_objects(section).await?.into_iter().map(|o| o.id).collect())
    }
}

//! The public page as the store and the engine see it now: the catalog, the snapshot with
//! incident and maintenance overlays, and the open incidents and recent windows behind it.
//! Statuspage documents and the native API both start from here.

use std::sync::Arc;

use belfry_core::Catalog;
use belfry_core::incident::Incident;
use belfry_core::maintenance::Maintenance;
use belfry_core::store::IncidentFilter;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::error::ApiError;
use crate::snapshot::{Overlay, PageSnapshot, format_in, page_tz};
use crate::state::WebState;

/// Open incidents read at most (more open at once would be a page nobody can read anyway).
const OPEN_LIMIT: u32 = 1000;
/// Completed windows stay listed this long after they end.
const MAINTENANCE_HISTORY: SignedDuration = SignedDuration::from_hours(24 * 90);

pub(crate) struct Page {
    pub catalog: Arc<Catalog>,
    pub snapshot: PageSnapshot,
    pub tz: TimeZone,
    pub now: Timestamp,
    /// Open, published incidents, newest first.
    pub open: Vec<Incident>,
    /// Windows that end no earlier than 90 days ago (recurring ones always), by start.
    pub maintenances: Vec<Maintenance>,
}

impl Page {
    pub async fn load(state: &WebState) -> Result<Self, ApiError> {
        let now = state.clock.now();
        let catalog = state.runtime.catalog();
        let filter = IncidentFilter {
            unresolved_only: true,
            include_drafts: false,
            limit: OPEN_LIMIT,
            ..Default::default()
        };
        let open = state.incidents.incidents(&filter).await?;
        let since = now.checked_sub(MAINTENANCE_HISTORY).unwrap_or(Timestamp::MIN);
        let maintenances = state.incidents.maintenances(since).await?;
        let overlay = Overlay::new(&open, &maintenances, now);
        let snapshot = PageSnapshot::build_with(&catalog, &state.runtime.states(), &overlay, now);
        Ok(Self { tz: page_tz(&catalog), catalog, snapshot, now, open, maintenances })
    }

    /// RFC 3339 in the page's zone, with its offset.
    pub fn stamp(&self, at: Timestamp) -> String {
        format_in(&self.tz, at)
    }

    /// The public link of an incident or maintenance.
    pub fn shortlink(&self, id: &str) -> String {
        let base = self.catalog.page.public_url.as_deref().unwrap_or("").trim_end_matches('/');
        format!("{base}/incidents/{id}")
    }

    /// A component's display name; its id when it is no longer configured.
    pub fn component_name(&self, id: &str) -> String {
        self.catalog.component(id).map_or_else(|| id.to_owned(), |c| c.name.clone())
    }
}

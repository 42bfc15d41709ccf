//! `/api/v2/*.json`: the Atlassian Statuspage public API, field for field, so existing
//! widgets and clients work unchanged. Component statuses combine monitors, open published
//! incidents and active maintenance windows; drafts never appear here. The documents are
//! built once per site rebuild and served from the cache (`site`).

use belfry_core::incident::Incident;
use belfry_core::maintenance::MaintenanceStatus;
use serde::Serialize;

use crate::page::Page;
use crate::shapes::{IncidentDoc, MaintenanceDoc, occurrence};
use crate::snapshot::{ComponentView, PageInfo, StatusView};

/// Statuspage lists at most this many incidents or maintenances.
const LIST_LIMIT: usize = 50;

#[derive(Serialize)]
struct StatusDoc {
    page: PageInfo,
    status: StatusView,
}

#[derive(Serialize)]
struct SummaryDoc {
    page: PageInfo,
    components: Vec<ComponentView>,
    incidents: Vec<IncidentDoc>,
    scheduled_maintenances: Vec<MaintenanceDoc>,
    status: StatusView,
}

#[derive(Serialize)]
struct ComponentsDoc {
    page: PageInfo,
    components: Vec<ComponentView>,
}

#[derive(Serialize)]
struct IncidentsDoc {
    page: PageInfo,
    incidents: Vec<IncidentDoc>,
}

#[derive(Serialize)]
struct MaintenancesDoc {
    page: PageInfo,
    scheduled_maintenances: Vec<MaintenanceDoc>,
}

/// Which maintenances a list shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    All,
    Upcoming,
    Active,
    /// Upcoming and active, as `summary.json` shows them.
    Current,
}

impl Which {
    fn keeps(self, status: MaintenanceStatus) -> bool {
        use MaintenanceStatus::*;
        match self {
            Self::All => true,
            Self::Upcoming => status == Scheduled,
            Self::Active => matches!(status, InProgress | Verifying),
            Self::Current => status != Completed,
        }
    }
}

/// The page's maintenances of one kind: active first, then by the shown occurrence's start
/// (soonest first for upcoming ones, newest first for the full list).
fn maintenances_of(page: &Page, which: Which) -> Vec<MaintenanceDoc> {
    let mut chosen: Vec<_> = page
        .maintenances
        .iter()
        .map(|m| (m, occurrence(m, page.now)))
        .filter(|(_, (status, _))| which.keeps(*status))
        .collect();
    let active =
        |s: MaintenanceStatus| matches!(s, MaintenanceStatus::InProgress | MaintenanceStatus::Verifying);
    match which {
        Which::All => chosen.sort_by_key(|(_, (_, w))| std::cmp::Reverse(w.start)),
        _ => chosen.sort_by_key(|(_, (status, w))| (!active(*status), w.start)),
    }
    chosen.truncate(LIST_LIMIT);
    chosen.into_iter().map(|(m, _)| page.maintenance_doc(m, false)).collect()
}

fn incident_docs(page: &Page, incidents: &[Incident]) -> Vec<IncidentDoc> {
    incidents.iter().filter(|i| i.published).take(LIST_LIMIT).map(|i| page.incident_doc(i, false)).collect()
}

/// Every `/api/v2` document of the page: request path and JSON bytes. `recent` holds the
/// published incidents, newest first.
pub(crate) fn documents(page: &Page, recent: &[Incident]) -> Vec<(&'static str, Vec<u8>)> {
    let snap = &page.snapshot;
    let json = |value: &dyn erased::Json| value.to_bytes();
    let open = incident_docs(page, &page.open);
    let maintenances = |which| MaintenancesDoc {
        page: snap.page.clone(),
        scheduled_maintenances: maintenances_of(page, which),
    };
    vec![
        ("/api/v2/status.json", json(&StatusDoc { page: snap.page.clone(), status: snap.status.clone() })),
        (
            "/api/v2/summary.json",
            json(&SummaryDoc {
                page: snap.page.clone(),
                components: snap.components.clone(),
                incidents: incident_docs(page, &page.open),
                scheduled_maintenances: maintenances_of(page, Which::Current),
                status: snap.status.clone(),
            }),
        ),
        (
            "/api/v2/components.json",
            json(&ComponentsDoc { page: snap.page.clone(), components: snap.components.clone() }),
        ),
        (
            "/api/v2/incidents.json",
            json(&IncidentsDoc { page: snap.page.clone(), incidents: incident_docs(page, recent) }),
        ),
        (
            "/api/v2/incidents/unresolved.json",
            json(&IncidentsDoc { page: snap.page.clone(), incidents: open }),
        ),
        ("/api/v2/scheduled-maintenances.json", json(&maintenances(Which::All))),
        ("/api/v2/scheduled-maintenances/upcoming.json", json(&maintenances(Which::Upcoming))),
        ("/api/v2/scheduled-maintenances/active.json", json(&maintenances(Which::Active))),
    ]
}

mod erased {
    /// Serializes any document to bytes (the types differ per document).
    pub(super) trait Json {
        fn to_bytes(&self) -> Vec<u8>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_bytes(&self) -> Vec<u8> {
            serde_json::to_vec(self).expect("documents serialize")
        }
    }
}

#[cfg(test)]
mod tests;

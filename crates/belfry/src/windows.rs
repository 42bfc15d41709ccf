//! Maintenance windows applied to the engine: monitors of components under an active window
//! are put in `maintenance` (no outage decided, no alert, no automatic incident). Their checks
//! keep running and are recorded; downtime is not counted against uptime unless every window
//! holding the monitor says `count_downtime`, in which case the time their checks failed is:
//! the transition into `maintenance` carries the flag and the store derives the failing time
//! from the results. A window starting or ending is also written on the timeline of every open
//! incident that shares a component with it.

use std::collections::HashMap;

use belfry_core::incident::{TimelineEntry, TimelineKind};
use belfry_core::maintenance::Maintenance;
use belfry_core::store::{IncidentFilter, Storage};
use belfry_core::{MonitorId, StoreError};
use belfry_probe::Engine;
use jiff::{SignedDuration, Timestamp};

/// Applies the windows in force at `now`: to the engine, then to the timelines (the desk's
/// part). A failure to write the timelines is logged and retried at the next call; it never
/// keeps the windows from the engine.
pub async fn apply(storage: &dyn Storage, engine: &Engine, now: Timestamp) -> Result<(), StoreError> {
    let windows = current(storage, now).await?;
    put_in_force(engine, &windows, now);
    if let Err(e) = record_boundaries(storage, &windows, now).await {
        tracing::warn!(error = %e, "writing maintenance starts and ends on incident timelines failed; will retry");
    }
    Ok(())
}

/// Applies the windows in force at `now` to the engine only: every node does this for its
/// monitors, while one node (the desk) writes the timelines.
pub async fn apply_to_engine(
    storage: &dyn Storage,
    engine: &Engine,
    now: Timestamp,
) -> Result<(), StoreError> {
    let windows = current(storage, now).await?;
    put_in_force(engine, &windows, now);
    Ok(())
}

async fn current(storage: &dyn Storage, now: Timestamp) -> Result<Vec<Maintenance>, StoreError> {
    let since = now.checked_sub(SignedDuration::from_hours(24)).unwrap_or(now);
    storage.maintenances(since).await
}

/// Every monitor of a component under an active window is in `maintenance`, whether or not the
/// window counts downtime. Its failing time counts only when every active window on its
/// component counts downtime: a window that excuses downtime wins.
fn put_in_force(engine: &Engine, windows: &[Maintenance], now: Timestamp) {
    let mut components: HashMap<&MonitorId, bool> = HashMap::new();
    for m in windows.iter().filter(|m| m.is_active(now)) {
        for component in &m.components {
            *components.entry(component).or_insert(true) &= m.count_downtime;
        }
    }
    let catalog = engine.catalog();
    let held: HashMap<MonitorId, bool> = catalog
        .monitors
        .iter()
        .filter_map(|m| Some((m.id.clone(), *components.get(m.component.as_ref()?)?)))
        .collect();
    engine.set_maintenance(&held);
}

/// Where the timeline step has looked up to (epoch ms).
const CURSOR: &str = "maintenance_timeline";

/// Puts each window start and end since the last look on the open incidents it touches.
async fn record_boundaries(
    storage: &dyn Storage,
    windows: &[Maintenance],
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(since) = storage.cursor(CURSOR).await?.and_then(|raw| raw.parse::<i64>().ok()) else {
        return storage.set_cursor(CURSOR, &now.as_millisecond().to_string()).await;
    };
    let since = Timestamp::from_millisecond(since).unwrap_or(now);
    let mut boundaries = vec![];
    for m in windows {
        for w in m.windows(since, now.checked_add(SignedDuration::from_millis(1)).unwrap_or(now)) {
            for (at, what) in [(w.start, "started"), (w.end, "ended")] {
                if since < at && at <= now {
                    boundaries.push((m, at, what));
                }
            }
        }
    }
    if boundaries.is_empty() {
        return storage.set_cursor(CURSOR, &now.as_millisecond().to_string()).await;
    }
    let filter = IncidentFilter {
        unresolved_only: true,
        include_drafts: true,
        limit: 1000,
        ..IncidentFilter::default()
    };
    let open = storage.incidents(&filter).await?;
    let mut entries = vec![];
    for (m, at, what) in boundaries {
        for incident in open.iter().filter(|i| m.components.iter().any(|c| i.components.contains_key(c))) {
            let text = format!("Maintenance \"{}\" {what}", m.name);
            entries.push(TimelineEntry::new(&incident.id, at, TimelineKind::Maintenance, text, "belfry"));
        }
    }
    if !entries.is_empty() {
        storage.append_timeline(&entries).await?;
    }
    storage.set_cursor(CURSOR, &now.as_millisecond().to_string()).await
}

//! Maintenance windows applied to the engine: monitors of components under an active window
//! are put in `maintenance` (no outage decided, no alert, downtime not counted), unless the
//! window says `count_downtime`. A window starting or ending is also written on the timeline of
//! every open incident that shares a component with it.

use std::collections::HashSet;

use belfry_core::incident::{TimelineEntry, TimelineKind};
use belfry_core::store::{IncidentFilter, Storage};
use belfry_core::{MonitorId, StoreError};
use belfry_probe::Engine;
use jiff::{SignedDuration, Timestamp};

/// Applies the windows in force at `now`: to the engine, and to the timelines (the desk's part).
pub async fn apply(storage: &dyn Storage, engine: &Engine, now: Timestamp) -> Result<(), StoreError> {
    let windows = current(storage, now).await?;
    record_boundaries(storage, &windows, now).await?;
    put_in_force(engine, &windows, now);
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

async fn current(
    storage: &dyn Storage,
    now: Timestamp,
) -> Result<Vec<belfry_core::maintenance::Maintenance>, StoreError> {
    let since = now.checked_sub(SignedDuration::from_hours(24)).unwrap_or(now);
    storage.maintenances(since).await
}

fn put_in_force(engine: &Engine, windows: &[belfry_core::maintenance::Maintenance], now: Timestamp) {
    let components: HashSet<&MonitorId> = windows
        .iter()
        .filter(|m| !m.count_downtime && m.is_active(now))
        .flat_map(|m| m.components.iter())
        .collect();
    let catalog = engine.catalog();
    let monitors: HashSet<MonitorId> = catalog
        .monitors
        .iter()
        .filter(|m| m.component.as_ref().is_some_and(|c| components.contains(c)))
        .map(|m| m.id.clone())
        .collect();
    engine.set_maintenance(&monitors);
}

/// Where the timeline step has looked up to (epoch ms).
const CURSOR: &str = "maintenance_timeline";

/// Puts each window start and end since the last look on the open incidents it touches.
async fn record_boundaries(
    storage: &dyn Storage,
    windows: &[belfry_core::maintenance::Maintenance],
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

//! Maintenance windows applied to the engine: monitors of components under an active window
//! are put in `maintenance` (no outage decided, no alert, no automatic incident). Their checks
//! keep running and are recorded; downtime is not counted against uptime unless the window
//! says `count_downtime`, in which case the time their checks failed is (the desk records
//! where, see [`record_counted`]). A window starting or ending is also written on the
//! timeline of every open incident that shares a component with it.

use std::collections::HashSet;

use belfry_core::incident::{TimelineEntry, TimelineKind};
use belfry_core::maintenance::{Maintenance, counted_cursor, decode_spans, encode_spans, merge_counted};
use belfry_core::store::{IncidentFilter, Storage};
use belfry_core::{Catalog, MonitorId, StoreError};
use belfry_probe::Engine;
use jiff::{SignedDuration, Timestamp};

/// Applies the windows in force at `now`: to the engine, and to the timelines and the counted
/// downtime spans (the desk's part).
pub async fn apply(storage: &dyn Storage, engine: &Engine, now: Timestamp) -> Result<(), StoreError> {
    let windows = current(storage, now).await?;
    record_boundaries(storage, &windows, now).await?;
    record_counted(storage, &engine.catalog(), &windows, now).await?;
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

async fn current(storage: &dyn Storage, now: Timestamp) -> Result<Vec<Maintenance>, StoreError> {
    let since = now.checked_sub(SignedDuration::from_hours(24)).unwrap_or(now);
    storage.maintenances(since).await
}

/// Every monitor of a component under an active window is in `maintenance`, whether or not the
/// window counts downtime (that only changes what uptime counts).
fn put_in_force(engine: &Engine, windows: &[Maintenance], now: Timestamp) {
    let components: HashSet<&MonitorId> =
        windows.iter().filter(|m| m.is_active(now)).flat_map(|m| m.components.iter()).collect();
    let catalog = engine.catalog();
    let monitors: HashSet<MonitorId> = catalog
        .monitors
        .iter()
        .filter(|m| m.component.as_ref().is_some_and(|c| components.contains(c)))
        .map(|m| m.id.clone())
        .collect();
    engine.set_maintenance(&monitors);
}

/// How far back occurrences of counting windows are (re)recorded: covers a desk that was down
/// or moved to another node for a while.
const COUNTED_LOOKBACK: SignedDuration = SignedDuration::from_hours(1);

/// How long recorded spans are kept: past the 90 days uptime is shown for.
const COUNTED_KEPT: SignedDuration = SignedDuration::from_hours(24 * 400);

/// Records, for every monitor of a component covered by a window with `count_downtime` in force
/// lately, the spans in which its time in `maintenance` counts as downtime (the store adds the
/// time its checks failed in them to its down periods). Written only when they change.
async fn record_counted(
    storage: &dyn Storage,
    catalog: &Catalog,
    windows: &[Maintenance],
    now: Timestamp,
) -> Result<(), StoreError> {
    let from = now.checked_sub(COUNTED_LOOKBACK).unwrap_or(now);
    let to = now.checked_add(SignedDuration::from_millis(1)).unwrap_or(now);
    let counting: HashSet<&MonitorId> = windows
        .iter()
        .filter(|m| m.count_downtime && !m.windows(from, to).is_empty())
        .flat_map(|m| m.components.iter())
        .collect();
    if counting.is_empty() {
        return Ok(());
    }
    let keep_after = now.checked_sub(COUNTED_KEPT).unwrap_or(Timestamp::MIN);
    for monitor in &catalog.monitors {
        let Some(component) = monitor.component.as_ref().filter(|c| counting.contains(c)) else { continue };
        let name = counted_cursor(&monitor.id);
        let stored = storage.cursor(&name).await?.map(|raw| decode_spans(&raw)).unwrap_or_default();
        let merged = merge_counted(stored.clone(), windows, component, from, to, keep_after);
        if merged != stored {
            storage.set_cursor(&name, &encode_spans(&merged)).await?;
        }
    }
    Ok(())
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

//! The incident store story: drives the whole `IncidentStore` port against any backend.
//! Every backend's test calls [`incident_story`] with a fresh, empty store.

mod data;

use std::sync::Arc;

use belfry_core::component::ComponentStatus;
use belfry_core::incident::{
    CorrectiveAction, Impact, Incident, IncidentStatus, Postmortem, TimelineEntry, TimelineKind,
};
use belfry_core::maintenance::{Maintenance, MaintenanceStatus, ManualStatus};
use belfry_core::store::{IncidentFilter, Storage, StoreError};
use jiff::SignedDuration;

use super::data::{id, t};
pub use data::*;

pub async fn incident_story(store: Arc<dyn Storage>) {
    let store = store.as_ref();
    empty_store(store).await;
    // First, while the listed incidents are exactly the ones it creates.
    filters(store).await;
    save_and_read_back(store).await;
    stale_save_writes_nothing(store).await;
    timeline_order_and_append(store).await;
    maintenance_windows(store).await;
    cursors(store).await;
}

async fn empty_store(store: &dyn Storage) {
    assert!(store.incidents(&all()).await.unwrap().is_empty());
    assert_eq!(store.incident("nope").await.unwrap(), None);
    assert!(store.timeline("nope").await.unwrap().is_empty());
    assert!(store.maintenances(t(0)).await.unwrap().is_empty());
    assert_eq!(store.maintenance("nope").await.unwrap(), None);
    assert_eq!(store.cursor("nope").await.unwrap(), None);
    store.append_timeline(&[]).await.unwrap();
}

fn all() -> IncidentFilter {
    IncidentFilter { include_drafts: true, ..IncidentFilter::default() }
}

async fn ids(store: &dyn Storage, filter: IncidentFilter) -> Vec<String> {
    store.incidents(&filter).await.unwrap().into_iter().map(|i| i.id).collect()
}

async fn filters(store: &dyn Storage) {
    let h = 3600;
    // (id, created, status, published, automatic for) — two created at the same time.
    let set = [
        ("f-open", h, IncidentStatus::Investigating, true, None),
        ("f-draft", 2 * h, IncidentStatus::Investigating, false, Some("api")),
        ("f-resolved", 3 * h, IncidentStatus::Resolved, true, Some("api")),
        ("f-auto-web", 4 * h, IncidentStatus::Identified, true, Some("web")),
        ("f-monitoring", 4 * h, IncidentStatus::Monitoring, true, None),
        ("f-postmortem", 5 * h, IncidentStatus::Postmortem, true, None),
    ];
    for (name, created, status, published, auto) in set {
        let (incident, timeline) = incident_in(name, t(created), status, published, auto);
        assert_eq!(store.save_incident(&incident, 0, &timeline).await.unwrap(), 1, "{name}");
    }

    let published = ["f-postmortem", "f-monitoring", "f-auto-web", "f-resolved", "f-open"];
    assert_eq!(ids(store, IncidentFilter::default()).await, published, "newest first, equal times by id");
    let everything = ["f-postmortem", "f-monitoring", "f-auto-web", "f-resolved", "f-draft", "f-open"];
    assert_eq!(ids(store, all()).await, everything);
    let open = IncidentFilter { unresolved_only: true, ..IncidentFilter::default() };
    assert_eq!(ids(store, open.clone()).await, ["f-monitoring", "f-auto-web", "f-open"]);
    let open_or_draft = IncidentFilter { include_drafts: true, ..open.clone() };
    assert_eq!(ids(store, open_or_draft.clone()).await, ["f-monitoring", "f-auto-web", "f-draft", "f-open"]);

    // What incident automation asks: the open incident of a monitor, drafts included.
    let of_api = IncidentFilter { auto_monitor: Some(id("api")), ..all() };
    assert_eq!(ids(store, of_api.clone()).await, ["f-resolved", "f-draft"]);
    let open_of_api = IncidentFilter { unresolved_only: true, ..of_api.clone() };
    assert_eq!(ids(store, open_of_api).await, ["f-draft"]);
    let public_of_api = IncidentFilter { include_drafts: false, ..of_api };
    assert_eq!(ids(store, public_of_api).await, ["f-resolved"]);
    let of_db = IncidentFilter { auto_monitor: Some(id("db")), ..all() };
    assert!(ids(store, of_db).await.is_empty());

    let since = IncidentFilter { since: Some(t(3 * h)), ..all() };
    assert_eq!(ids(store, since).await, ["f-postmortem", "f-monitoring", "f-auto-web", "f-resolved"]);
    let since_later = IncidentFilter { since: Some(t(3 * h + 1)), ..IncidentFilter::default() };
    assert_eq!(ids(store, since_later).await, ["f-postmortem", "f-monitoring", "f-auto-web"]);
    let two = IncidentFilter { limit: 2, ..all() };
    assert_eq!(ids(store, two).await, ["f-postmortem", "f-monitoring"]);

    // Saving rewrites the filtered columns: publishing the draft, resolving it.
    let mut draft = store.incident("f-draft").await.unwrap().unwrap();
    let published_entry = draft.publish("alice", t(6 * h)).unwrap();
    assert_eq!(store.save_incident(&draft, 1, &[published_entry]).await.unwrap(), 2);
    assert!(ids(store, IncidentFilter::default()).await.contains(&"f-draft".to_owned()));
    let resolved =
        draft.post_update(new_update("r", IncidentStatus::Resolved, "Recovered"), t(6 * h)).unwrap();
    assert_eq!(store.save_incident(&draft, 2, &resolved).await.unwrap(), 3);
    assert_eq!(ids(store, open_or_draft).await, ["f-monitoring", "f-auto-web", "f-open"]);

    // Without a limit at most 50 are listed (the rest are older than all of the above).
    for n in 0..50 {
        let (incident, _) = incident_in(&format!("f-old-{n:02}"), t(n), IncidentStatus::Resolved, true, None);
        store.save_incident(&incident, 0, &[]).await.unwrap();
    }
    let listed = ids(store, all()).await;
    assert_eq!(listed.len(), 50);
    assert_eq!(listed[..6], everything);
    assert_eq!(listed[49], "f-old-06");
}

/// An incident with every part of the aggregate filled, at nanosecond times, reads back equal.
async fn save_and_read_back(store: &dyn Storage) {
    let now = t(86_400) + SignedDuration::new(0, 123_456_789);
    let (mut incident, mut timeline) =
        incident_in("inc-1", now, IncidentStatus::Investigating, true, Some("api"));
    assert_eq!(timeline.len(), 3, "opened, component changed, update");
    timeline[0] = timeline[0].clone().with_data(serde_json::json!({"results": [{"ok": false, "ms": 12.5}]}));
    assert_eq!(store.save_incident(&incident, 0, &timeline).await.unwrap(), 1);
    incident.version = 1;
    assert_eq!(store.incident("inc-1").await.unwrap(), Some(incident.clone()));
    assert_eq!(store.timeline("inc-1").await.unwrap(), timeline);

    // An insert of an existing id conflicts, whatever it carries, and changes nothing.
    let (twin, twin_timeline) = incident_in("inc-1", t(0), IncidentStatus::Resolved, false, None);
    assert!(matches!(store.save_incident(&twin, 0, &twin_timeline).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.incident("inc-1").await.unwrap(), Some(incident.clone()));
    assert_eq!(store.timeline("inc-1").await.unwrap(), timeline);

    // An update with the right version; the version the caller's copy carries does not matter.
    let later = now + SignedDuration::from_mins(5);
    let mut update = new_update("u2", IncidentStatus::Identified, "Found it");
    update.components.insert(id("db"), ComponentStatus::MajorOutage);
    update.impact = Some(Impact::Critical);
    update.display_at = Some(later - SignedDuration::from_mins(1));
    let changes = incident.post_update(update, later).unwrap();
    let copy = Incident { version: 77, ..incident.clone() };
    assert_eq!(store.save_incident(&copy, 1, &changes).await.unwrap(), 2);
    incident.version = 2;
    assert_eq!(store.incident("inc-1").await.unwrap(), Some(incident.clone()));
    timeline.extend(changes);
    assert_eq!(store.timeline("inc-1").await.unwrap(), timeline);

    // Resolved, edited and given a published postmortem: the whole document round-trips.
    let end = later + SignedDuration::from_hours(1);
    let mut changes = incident.post_update(new_update("u3", IncidentStatus::Resolved, "Fixed"), end).unwrap();
    changes.push(incident.edit_update("u2", Some("Found it: a full disk".into()), None, "bob", end).unwrap());
    let postmortem = Postmortem {
        summary: "A full disk".into(),
        impact: "Forms failed for an hour".into(),
        contributing_factors: vec!["No disk alert".into()],
        corrective_actions: vec![CorrectiveAction {
            description: "Alert on disk use".into(),
            owner: "ops".into(),
            due: Some("2024-02-01".parse().unwrap()),
            done: false,
        }],
        ..Postmortem::prefilled(&incident, &timeline)
    };
    changes.push(incident.set_postmortem(postmortem, true, "alice", end).unwrap());
    assert_eq!(store.save_incident(&incident, 2, &changes).await.unwrap(), 3);
    incident.version = 3;
    assert_eq!(store.incident("inc-1").await.unwrap(), Some(incident.clone()));
    timeline.extend(changes);
    assert_eq!(store.timeline("inc-1").await.unwrap(), timeline);

    // Updating what was never inserted conflicts too.
    let (ghost, _) = incident_in("inc-ghost", now, IncidentStatus::Investigating, true, None);
    assert!(matches!(store.save_incident(&ghost, 1, &[]).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.incident("inc-ghost").await.unwrap(), None);
}

/// A save based on a version someone else already replaced fails and writes nothing.
async fn stale_save_writes_nothing(store: &dyn Storage) {
    let (mut incident, timeline) = incident_in("inc-2", t(90_000), IncidentStatus::Investigating, true, None);
    store.save_incident(&incident, 0, &timeline).await.unwrap();
    let mut stale = incident.clone();

    let mine = incident.post_update(new_update("a", IncidentStatus::Identified, "Mine"), t(90_060)).unwrap();
    assert_eq!(store.save_incident(&incident, 1, &mine).await.unwrap(), 2);
    incident.version = 2;
    let theirs = stale.post_update(new_update("b", IncidentStatus::Monitoring, "Theirs"), t(90_120)).unwrap();
    let err = store.save_incident(&stale, 1, &theirs).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    assert_eq!(store.incident("inc-2").await.unwrap(), Some(incident.clone()));
    assert_eq!(store.timeline("inc-2").await.unwrap(), [timeline.clone(), mine.clone()].concat());

    // Entries of another incident are refused before anything is written.
    let mut other = mine.clone();
    other[0].incident = "inc-1".into();
    assert!(store.save_incident(&incident, 2, &other).await.is_err());
    assert_eq!(store.incident("inc-2").await.unwrap().unwrap().version, 2);
    assert_eq!(store.timeline("inc-2").await.unwrap(), [timeline, mine].concat());
}

async fn timeline_order_and_append(store: &dyn Storage) {
    let (incident, opened) = incident_in("inc-3", t(100_000), IncidentStatus::Investigating, true, None);
    store.save_incident(&incident, 0, &opened).await.unwrap();
    let at = |s: i64| t(100_000 + s);
    let alert = entry("inc-3", at(30), TimelineKind::AlertSent, "Alert sent to ops", None);
    let ack = entry("inc-3", at(30), TimelineKind::Acknowledged, "Acknowledged", Some("bob"));
    // Back-filled: recorded later than the entries above, but it happened first.
    let monitor = entry("inc-3", at(-60), TimelineKind::Monitor, "api went down", None)
        .with_data(serde_json::json!([{"monitor": "api", "ok": false}]));
    let just_after =
        entry("inc-3", at(30) + SignedDuration::from_nanos(1), TimelineKind::Note, "Same ms", Some("eve"));
    // A nanosecond after them, appended before them.
    store.append_timeline(std::slice::from_ref(&just_after)).await.unwrap();
    store.append_timeline(&[alert.clone(), ack.clone()]).await.unwrap();
    store.append_timeline(std::slice::from_ref(&monitor)).await.unwrap();

    let expected = [vec![monitor], opened, vec![alert, ack, just_after]].concat();
    assert_eq!(store.timeline("inc-3").await.unwrap(), expected, "by time, then as appended");
    // Appending leaves the incident alone.
    assert_eq!(store.incident("inc-3").await.unwrap().unwrap().version, 1);

    // All or nothing: an entry of an incident that does not exist fails the whole append.
    let note = entry("inc-3", at(90), TimelineKind::Note, "Looking", Some("eve"));
    let stray = entry("inc-none", at(90), TimelineKind::Note, "Nobody", None);
    assert!(store.append_timeline(&[note.clone(), stray]).await.is_err());
    assert_eq!(store.timeline("inc-3").await.unwrap(), expected);
    store.append_timeline(std::slice::from_ref(&note)).await.unwrap();
    assert_eq!(store.timeline("inc-3").await.unwrap().last(), Some(&note));
}

async fn maintenance_windows(store: &dyn Storage) {
    let day = 86_400;
    let past = window("m-past", t(0), t(3600), None);
    let edge = window("m-edge", t(day - 3600), t(day), None);
    let next = window("m-next", t(10 * day), t(10 * day + 3600), None);
    let weekly = window("m-weekly", t(-7 * day), t(-7 * day + 3600), Some("FREQ=WEEKLY;BYDAY=SU"));
    for m in [&next, &past, &weekly, &edge] {
        assert_eq!(store.save_maintenance(m, 0).await.unwrap(), 1, "{}", m.id);
        let stored = store.maintenance(&m.id).await.unwrap().unwrap();
        assert_eq!(stored, Maintenance { version: 1, ..(*m).clone() });
    }
    let twin = Maintenance { name: "Twin".into(), ..past.clone() };
    assert!(matches!(store.save_maintenance(&twin, 0).await, Err(StoreError::Conflict(_))));
    assert!(matches!(
        store.save_maintenance(&window("m-none", t(0), t(1), None), 3).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.maintenance("m-none").await.unwrap(), None);

    // Since a day in: the past one-off is left out, a window ending exactly then is kept,
    // the recurring one is kept whatever its first occurrence; by start.
    let listed = |since| async move {
        store.maintenances(since).await.unwrap().into_iter().map(|m| m.id).collect::<Vec<_>>()
    };
    assert_eq!(listed(t(day)).await, ["m-weekly", "m-edge", "m-next"]);
    assert_eq!(listed(t(0)).await, ["m-weekly", "m-past", "m-edge", "m-next"]);

    // An update rewrites the window's columns too: the past one moves after `next`.
    let mut moved = Maintenance { starts_at: t(20 * day), ends_at: t(20 * day + 60), ..past.clone() };
    moved.manual =
        Some(ManualStatus { status: MaintenanceStatus::Verifying, occurrence: moved.starts_at, at: t(5) });
    assert_eq!(store.save_maintenance(&moved, 1).await.unwrap(), 2);
    moved.version = 2;
    assert_eq!(store.maintenance("m-past").await.unwrap(), Some(moved.clone()));
    assert_eq!(listed(t(day)).await, ["m-weekly", "m-edge", "m-next", "m-past"]);
    let stale = Maintenance { name: "Stale".into(), ..past.clone() };
    assert!(matches!(store.save_maintenance(&stale, 1).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.maintenance("m-past").await.unwrap(), Some(moved));

    assert!(store.delete_maintenance("m-edge").await.unwrap());
    assert!(!store.delete_maintenance("m-edge").await.unwrap());
    assert_eq!(store.maintenance("m-edge").await.unwrap(), None);
    assert_eq!(listed(t(0)).await, ["m-weekly", "m-next", "m-past"]);
    // A deleted id can be used again.
    assert_eq!(store.save_maintenance(&edge, 0).await.unwrap(), 1);
}

async fn cursors(store: &dyn Storage) {
    store.set_cursor("incident-automation", "42").await.unwrap();
    store.set_cursor("other", "x").await.unwrap();
    assert_eq!(store.cursor("incident-automation").await.unwrap().as_deref(), Some("42"));
    store.set_cursor("incident-automation", "43:9").await.unwrap();
    assert_eq!(store.cursor("incident-automation").await.unwrap().as_deref(), Some("43:9"));
    assert_eq!(store.cursor("other").await.unwrap().as_deref(), Some("x"));
    assert_eq!(store.cursor("missing").await.unwrap(), None);
}

/// The save that [`refused_note_rolls_back_the_save`] tries: `inc-refused` resolved, with a
/// human note after the entries the change produced.
async fn resolve_with_note(store: &dyn Storage) -> (Incident, Vec<TimelineEntry>, Vec<TimelineEntry>) {
    let (mut incident, opened) = incident_in("inc-refused", t(0), IncidentStatus::Investigating, true, None);
    if store.incident("inc-refused").await.unwrap().is_none() {
        store.save_incident(&incident, 0, &opened).await.unwrap();
    }
    let mut changes =
        incident.post_update(new_update("u2", IncidentStatus::Resolved, "Fixed"), t(60)).unwrap();
    changes.push(entry("inc-refused", t(60), TimelineKind::Note, "Root cause: disk", Some("bob")));
    (incident, opened, changes)
}

/// With the backend refusing `note` timeline entries (a trigger the caller set up), a save
/// whose last entry is a note fails after writing the incident and the entries before it;
/// none of it remains.
pub async fn refused_note_rolls_back_the_save(store: &dyn Storage) {
    let (incident, opened, changes) = resolve_with_note(store).await;
    let before = store.incident("inc-refused").await.unwrap().unwrap();
    assert_eq!(before.version, 1);
    assert!(store.save_incident(&incident, 1, &changes).await.is_err());
    assert_eq!(store.incident("inc-refused").await.unwrap(), Some(before));
    assert_eq!(store.timeline("inc-refused").await.unwrap(), opened);
}

/// Once notes are accepted again, the same save goes through.
pub async fn note_is_accepted(store: &dyn Storage) {
    let (incident, opened, changes) = resolve_with_note(store).await;
    assert_eq!(store.save_incident(&incident, 1, &changes).await.unwrap(), 2);
    assert_eq!(store.incident("inc-refused").await.unwrap(), Some(Incident { version: 2, ..incident }));
    assert_eq!(store.timeline("inc-refused").await.unwrap(), [opened, changes].concat());
}

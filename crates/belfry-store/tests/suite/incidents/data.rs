//! Builders for the incident story: incidents in a given status, timeline entries, windows.

use belfry_core::component::ComponentStatus;
use belfry_core::incident::{
    AffectedComponents, AutoSource, Impact, Incident, IncidentStatus, NewUpdate, Postmortem, TimelineEntry,
    TimelineKind,
};
use belfry_core::maintenance::Maintenance;
use jiff::{SignedDuration, Timestamp};

use crate::suite::data::{id, t};

/// An update by alice that notifies subscribers and changes nothing else.
pub fn new_update(update_id: &str, status: IncidentStatus, body: &str) -> NewUpdate {
    NewUpdate {
        id: update_id.to_owned(),
        status,
        body: body.to_owned(),
        author: "alice".to_owned(),
        notify: true,
        components: AffectedComponents::new(),
        impact: None,
        display_at: None,
    }
}

/// An incident opened at `created` (component `forms` in partial outage) and brought to
/// `status` a minute later, with the timeline all of it produced (opening alone: 3 entries).
pub fn incident_in(
    incident_id: &str,
    created: Timestamp,
    status: IncidentStatus,
    published: bool,
    auto: Option<&str>,
) -> (Incident, Vec<TimelineEntry>) {
    let mut first = new_update("u1", IncidentStatus::Investigating, "Forms are slow\n\nWe are looking.");
    first.components.insert(id("forms"), ComponentStatus::PartialOutage);
    let auto = auto.map(|m| AutoSource { monitor: id(m) });
    let name = format!("Incident {incident_id}");
    let (mut incident, mut timeline) =
        Incident::open(incident_id.to_owned(), name, Impact::Major, first, auto, published, created).unwrap();
    let later = created + SignedDuration::from_mins(1);
    match status {
        IncidentStatus::Investigating => {}
        IncidentStatus::Postmortem => {
            timeline.extend(
                incident.post_update(new_update("u2", IncidentStatus::Resolved, "Fixed"), later).unwrap(),
            );
            let postmortem = Postmortem::prefilled(&incident, &timeline);
            timeline.push(incident.set_postmortem(postmortem, true, "alice", later).unwrap());
        }
        status => timeline.extend(incident.post_update(new_update("u2", status, "Progress"), later).unwrap()),
    }
    (incident, timeline)
}

pub fn entry(
    incident: &str,
    at: Timestamp,
    kind: TimelineKind,
    text: &str,
    author: Option<&str>,
) -> TimelineEntry {
    TimelineEntry::new(incident, at, kind, text.to_owned(), author.unwrap_or(""))
}

/// A window on `db` and `api` in New York, created a week before the story day.
pub fn window(window_id: &str, starts_at: Timestamp, ends_at: Timestamp, rrule: Option<&str>) -> Maintenance {
    let created = t(-7 * 86_400);
    Maintenance {
        id: window_id.to_owned(),
        name: format!("Window {window_id}"),
        description: "Database upgrade; **expect** short outages.".to_owned(),
        components: vec![id("db"), id("api")],
        starts_at,
        ends_at,
        rrule: rrule.map(str::to_owned),
        time_zone: "America/New_York".to_owned(),
        count_downtime: false,
        manual: None,
        created_at: created,
        updated_at: created,
        version: 0,
    }
}

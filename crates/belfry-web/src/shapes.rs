//! Incidents and maintenance windows in Atlassian Statuspage's shapes, key for key, as
//! `/api/v2` shows them; the native API adds staff-only keys (`staff: Some(..)`), flattened
//! into the same objects so a Statuspage client can read those too.

use std::collections::BTreeMap;

use belfry_core::ComponentStatus;
use belfry_core::incident::{AutoSource, Incident};
use belfry_core::maintenance::{Maintenance, MaintenanceStatus, ManualStatus, Window};
use jiff::Timestamp;
use serde::Serialize;

use crate::markdown::to_safe_html;
use crate::page::Page;
use crate::snapshot::ComponentView;

#[derive(Debug, Serialize)]
pub(crate) struct IncidentDoc {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    pub impact: &'static str,
    pub shortlink: String,
    pub started_at: String,
    pub page_id: String,
    /// Newest first, as Statuspage lists them.
    pub incident_updates: Vec<UpdateDoc>,
    /// The affected components as they are now.
    pub components: Vec<ComponentView>,
    #[serde(flatten)]
    pub staff: Option<IncidentExtras>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UpdateDoc {
    pub id: String,
    pub status: &'static str,
    /// Markdown, as written.
    pub body: String,
    pub incident_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    /// `null` when the update changed no component, as in Statuspage.
    pub affected_components: Option<Vec<AffectedDoc>>,
    pub deliver_notifications: bool,
    pub custom_tweet: Option<String>,
    pub tweet_id: Option<String>,
    #[serde(flatten)]
    pub staff: Option<UpdateExtras>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AffectedDoc {
    pub code: String,
    pub name: String,
    pub old_status: ComponentStatus,
    pub new_status: ComponentStatus,
}

/// What only staff (the native API) see of an incident.
#[derive(Debug, Serialize)]
pub(crate) struct IncidentExtras {
    pub published: bool,
    pub auto: Option<AutoSource>,
    /// Component id → the status this incident sets while open.
    pub component_statuses: BTreeMap<String, ComponentStatus>,
    pub has_postmortem: bool,
    pub postmortem_published: bool,
    pub postmortem_published_at: Option<String>,
    /// Optimistic-concurrency version of the stored incident.
    pub version: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct UpdateExtras {
    /// `body` rendered and sanitized.
    pub body_html: String,
    pub author: String,
    /// Earlier versions of this update, oldest first.
    pub edits: Vec<EditDoc>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EditDoc {
    pub at: String,
    pub author: String,
    pub previous_body: String,
    pub previous_display_at: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct MaintenanceDoc {
    #[serde(flatten)]
    pub base: IncidentDoc,
    /// Start and end of the occurrence shown: the current one, else the next, else the last.
    pub scheduled_for: String,
    pub scheduled_until: String,
    #[serde(flatten)]
    pub staff: Option<MaintenanceExtras>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MaintenanceExtras {
    pub description: String,
    pub description_html: String,
    pub component_ids: Vec<String>,
    /// The first occurrence.
    pub starts_at: String,
    pub ends_at: String,
    pub rrule: Option<String>,
    pub time_zone: String,
    pub count_downtime: bool,
    pub manual_status: Option<ManualDoc>,
    pub version: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct ManualDoc {
    pub status: MaintenanceStatus,
    pub occurrence: String,
    pub at: String,
}

impl Page {
    /// An incident in Statuspage's shape; `staff` adds the native API's keys.
    pub fn incident_doc(&self, incident: &Incident, staff: bool) -> IncidentDoc {
        // Walk the updates in posting order to know what each one changed a component from.
        let mut held: BTreeMap<&str, ComponentStatus> = BTreeMap::new();
        let mut updates: Vec<(Timestamp, UpdateDoc)> = Vec::with_capacity(incident.updates.len());
        for u in &incident.updates {
            let affected: Vec<AffectedDoc> = u
                .components
                .iter()
                .map(|(id, new)| {
                    let old = held.insert(id.as_str(), *new).unwrap_or(ComponentStatus::Operational);
                    AffectedDoc {
                        code: id.to_string(),
                        name: self.component_name(id.as_str()),
                        old_status: old,
                        new_status: *new,
                    }
                })
                .collect();
            let doc = UpdateDoc {
                id: u.id.clone(),
                status: u.status.as_str(),
                body: u.body.clone(),
                incident_id: incident.id.clone(),
                created_at: self.stamp(u.created_at),
                updated_at: self.stamp(u.updated_at),
                display_at: self.stamp(u.display_at),
                affected_components: (!affected.is_empty()).then_some(affected),
                deliver_notifications: u.notify,
                custom_tweet: None,
                tweet_id: None,
                staff: staff.then(|| UpdateExtras {
                    body_html: to_safe_html(&u.body),
                    author: u.author.clone(),
                    edits: u
                        .edits
                        .iter()
                        .map(|e| EditDoc {
                            at: self.stamp(e.at),
                            author: e.author.clone(),
                            previous_body: e.previous_body.clone(),
                            previous_display_at: self.stamp(e.previous_display_at),
                        })
                        .collect(),
                }),
            };
            updates.push((u.display_at, doc));
        }
        // Newest first by the time the page shows; a stable sort keeps posting order on ties.
        updates.reverse();
        updates.sort_by_key(|u| std::cmp::Reverse(u.0));
        let postmortem = incident.postmortem.as_ref();
        IncidentDoc {
            id: incident.id.clone(),
            name: incident.name.clone(),
            status: incident.status.as_str(),
            created_at: self.stamp(incident.created_at),
            updated_at: self.stamp(incident.updated_at),
            monitoring_at: incident.monitoring_at.map(|t| self.stamp(t)),
            resolved_at: incident.resolved_at.map(|t| self.stamp(t)),
            impact: incident.impact.as_str(),
            shortlink: self.shortlink(&incident.id),
            started_at: self.stamp(incident.started_at),
            page_id: self.snapshot.page.id.clone(),
            incident_updates: updates.into_iter().map(|(_, d)| d).collect(),
            components: self.component_views(incident.components.keys().map(|c| c.as_str())),
            staff: staff.then(|| IncidentExtras {
                published: incident.published,
                auto: incident.auto.clone(),
                component_statuses: incident.components.iter().map(|(c, s)| (c.to_string(), *s)).collect(),
                has_postmortem: postmortem.is_some(),
                postmortem_published: postmortem.is_some_and(|p| p.published_at.is_some()),
                postmortem_published_at: postmortem.and_then(|p| p.published_at).map(|t| self.stamp(t)),
                version: incident.version,
            }),
        }
    }

    /// A maintenance window in Statuspage's scheduled-maintenance shape, its status and
    /// times those of the occurrence shown.
    pub fn maintenance_doc(&self, m: &Maintenance, staff: bool) -> MaintenanceDoc {
        let (status, window) = occurrence(m, self.now);
        let manual = m.manual.filter(|manual| manual.occurrence == window.start);
        let components: Vec<&str> = m.components.iter().map(|c| c.as_str()).collect();
        let stages = stages(m, status, window, manual, self.now);
        let updated = stages.iter().map(|s| s.at).chain([m.updated_at]).max().unwrap_or(m.updated_at);
        let resolved = stages.iter().find(|s| s.status == MaintenanceStatus::Completed).map(|s| s.at);
        let updates = stages
            .iter()
            .rev()
            .map(|stage| {
                let body = stage.body.map_or_else(|| m.description.clone(), str::to_owned);
                let affected = stage.change.map(|(old_status, new_status)| {
                    components
                        .iter()
                        .map(|c| AffectedDoc {
                            code: (*c).to_owned(),
                            name: self.component_name(c),
                            old_status,
                            new_status,
                        })
                        .collect::<Vec<_>>()
                });
                UpdateDoc {
                    id: format!("{}-{}-{}", m.id, stage.status.as_str(), stage.at.as_second()),
                    status: stage.status.as_str(),
                    staff: staff.then(|| UpdateExtras {
                        body_html: to_safe_html(&body),
                        author: "belfry".to_owned(),
                        edits: Vec::new(),
                    }),
                    body,
                    incident_id: m.id.clone(),
                    created_at: self.stamp(stage.at),
                    updated_at: self.stamp(stage.at),
                    display_at: self.stamp(stage.at),
                    affected_components: affected.filter(|a| !a.is_empty()),
                    deliver_notifications: false,
                    custom_tweet: None,
                    tweet_id: None,
                }
            })
            .collect();
        MaintenanceDoc {
            base: IncidentDoc {
                id: m.id.clone(),
                name: m.name.clone(),
                status: status.as_str(),
                created_at: self.stamp(m.created_at),
                updated_at: self.stamp(updated),
                monitoring_at: None,
                resolved_at: resolved.map(|t| self.stamp(t)),
                impact: "maintenance",
                shortlink: self.shortlink(&m.id),
                started_at: self.stamp(window.start),
                page_id: self.snapshot.page.id.clone(),
                incident_updates: updates,
                components: self.component_views(components.iter().copied()),
                staff: None,
            },
            scheduled_for: self.stamp(window.start),
            scheduled_until: self.stamp(window.end),
            staff: staff.then(|| MaintenanceExtras {
                description: m.description.clone(),
                description_html: to_safe_html(&m.description),
                component_ids: components.iter().map(|c| (*c).to_owned()).collect(),
                starts_at: self.stamp(m.starts_at),
                ends_at: self.stamp(m.ends_at),
                rrule: m.rrule.clone(),
                time_zone: m.time_zone.clone(),
                count_downtime: m.count_downtime,
                manual_status: m.manual.map(|x| ManualDoc {
                    status: x.status,
                    occurrence: self.stamp(x.occurrence),
                    at: self.stamp(x.at),
                }),
                version: m.version,
            }),
        }
    }

    fn component_views<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Vec<ComponentView> {
        ids.filter_map(|id| self.snapshot.component(id).cloned()).collect()
    }
}

/// The status at `now` and the occurrence a page shows: the current one, else the next, else
/// the last that happened.
pub(crate) fn occurrence(m: &Maintenance, now: Timestamp) -> (MaintenanceStatus, Window) {
    let window = m
        .current_window(now)
        .or_else(|| m.next_window(now))
        .or_else(|| m.windows(m.starts_at, now).last().copied())
        .unwrap_or(Window { start: m.starts_at, end: m.ends_at });
    (m.status_at(now), window)
}

/// One step of a window's life, shown as a Statuspage update.
struct Stage {
    status: MaintenanceStatus,
    at: Timestamp,
    /// `None`: the window's description.
    body: Option<&'static str>,
    /// The component change it marks: (old, new).
    change: Option<(ComponentStatus, ComponentStatus)>,
}

/// The steps the shown occurrence has gone through by `now`, oldest first, in Statuspage's
/// default wording.
fn stages(
    m: &Maintenance,
    status: MaintenanceStatus,
    window: Window,
    manual: Option<ManualStatus>,
    now: Timestamp,
) -> Vec<Stage> {
    use ComponentStatus::{Operational, UnderMaintenance};
    let mut out =
        vec![Stage { status: MaintenanceStatus::Scheduled, at: m.created_at, body: None, change: None }];
    if status == MaintenanceStatus::Scheduled || window.start > now {
        return out;
    }
    out.push(Stage {
        status: MaintenanceStatus::InProgress,
        at: window.start,
        body: Some("Scheduled maintenance is currently in progress. We will provide updates as necessary."),
        change: Some((Operational, UnderMaintenance)),
    });
    if let Some(manual) = manual.filter(|x| x.status == MaintenanceStatus::Verifying) {
        out.push(Stage {
            status: MaintenanceStatus::Verifying,
            at: manual.at,
            body: Some("Verification is currently underway for the maintenance items."),
            change: None,
        });
    }
    if status == MaintenanceStatus::Completed {
        let at = manual.filter(|x| x.status == MaintenanceStatus::Completed).map_or(window.end, |x| x.at);
        out.push(Stage {
            status: MaintenanceStatus::Completed,
            at: at.min(now),
            body: Some("The scheduled maintenance has been completed."),
            change: Some((UnderMaintenance, Operational)),
        });
    }
    out
}

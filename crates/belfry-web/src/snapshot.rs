//! The public page at one moment, in Statuspage's shapes: the page, its components (groups
//! included, as components with `group: true`) and the overall status line. Built from the
//! catalog, the live monitor states and an [`Overlay`] of what incidents and maintenance
//! windows impose; it never reads the store itself.

use std::collections::{HashMap, HashSet};

use belfry_core::component::{derive_status, public_status};
use belfry_core::incident::{Impact, Incident};
use belfry_core::maintenance::Maintenance;
use belfry_core::status::{Indicator, overall};
use belfry_core::{Catalog, ComponentStatus, LiveState, MonitorId};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

/// `page` in every `/api/v2` document.
#[derive(Debug, Clone, Serialize)]
pub struct PageInfo {
    /// Stable id derived from the page title (a slug).
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    pub updated_at: String,
}

/// `status` in `status.json` and `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub indicator: Indicator,
    pub description: &'static str,
}

/// One entry of `components`, a component or a group of them.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentView {
    pub id: String,
    pub name: String,
    pub status: ComponentStatus,
    pub created_at: String,
    pub updated_at: String,
    /// 1-based; among top-level entries, or among a group's children.
    pub position: u32,
    pub description: Option<String>,
    pub showcase: bool,
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
    /// Ids of a group's children; absent on plain components, as in Statuspage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

/// What open incidents and maintenance windows impose on the page, on top of the monitors.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    /// Component → the statuses open, published incidents set for it.
    pub holds: HashMap<MonitorId, Vec<ComponentStatus>>,
    /// Components covered by a maintenance window that is active now.
    pub maintenance: HashSet<MonitorId>,
    /// Component → when an incident or window last changed what it shows.
    pub touched: HashMap<MonitorId, Timestamp>,
    /// The worst impact of the open, published incidents.
    pub worst_impact: Option<Impact>,
    /// Some maintenance window is active now (even one covering no component).
    pub maintenance_active: bool,
}

impl Overlay {
    /// From the open incidents (drafts are skipped) and the windows active at `now`.
    pub fn new(open: &[Incident], maintenances: &[Maintenance], now: Timestamp) -> Self {
        let mut overlay = Self::default();
        for incident in open.iter().filter(|i| i.published && i.is_open()) {
            overlay.worst_impact = overlay.worst_impact.max(Some(incident.impact));
            for (component, status) in incident.holds() {
                overlay.holds.entry(component.clone()).or_default().push(status);
                overlay.touch(component, incident.updated_at);
            }
        }
        for m in maintenances {
            let Some(window) = m.current_window(now).filter(|_| m.is_active(now)) else { continue };
            overlay.maintenance_active = true;
            for component in &m.components {
                overlay.maintenance.insert(component.clone());
                overlay.touch(component, window.start.max(m.updated_at.min(now)));
            }
        }
        overlay
    }

    fn touch(&mut self, component: &MonitorId, at: Timestamp) {
        let entry = self.touched.entry(component.clone()).or_insert(at);
        *entry = (*entry).max(at);
    }
}

#[derive(Debug, Clone)]
pub struct PageSnapshot {
    pub page: PageInfo,
    /// Top-level entries in order, each group followed by its children.
    pub components: Vec<ComponentView>,
    pub status: StatusView,
}

impl PageSnapshot {
    /// The page from the monitors alone.
    pub fn build(catalog: &Catalog, states: &[LiveState], now: Timestamp) -> Self {
        Self::build_with(catalog, states, &Overlay::default(), now)
    }

    /// The page from the monitors plus what incidents and maintenance windows impose.
    pub fn build_with(catalog: &Catalog, states: &[LiveState], overlay: &Overlay, now: Timestamp) -> Self {
        let tz = page_tz(catalog);
        let stamp = |t: Timestamp| format_in(&tz, t);
        let by_id: HashMap<&MonitorId, &LiveState> = states.iter().map(|s| (&s.monitor, s)).collect();
        let known = catalog.monitors.iter().filter_map(|m| by_id.get(&m.id));
        // The catalog records no creation times: the page is as new as its oldest known state
        // and as fresh as its newest change.
        let updated =
            known.clone().map(|s| s.since).chain(overlay.touched.values().copied()).max().unwrap_or(now);
        let created = known.map(|s| s.since).min().unwrap_or(updated);
        let page_id = slug(&catalog.page.title, "status");

        let leaves: Vec<Leaf> = catalog
            .components
            .iter()
            .map(|c| {
                let live: Vec<(&LiveState, _)> = catalog
                    .monitors_of(&c.id)
                    .filter_map(|m| by_id.get(&m.id).map(|s| (*s, m.impact)))
                    .collect();
                let from_monitors = derive_status(live.iter().map(|(s, impact)| (s.state, *impact)));
                let held = overlay.holds.get(&c.id).map(Vec::as_slice).unwrap_or_default();
                let since = live.iter().map(|(s, _)| s.since).max();
                Leaf {
                    status: public_status(
                        from_monitors,
                        held.iter().copied(),
                        overlay.maintenance.contains(&c.id),
                    ),
                    updated: since.max(overlay.touched.get(&c.id).copied()).unwrap_or(updated),
                }
            })
            .collect();
        let status = status_line(leaves.iter().map(|l| l.status), overlay);

        let view = |id: String, name: String, status, updated_at| ComponentView {
            id,
            name,
            status,
            created_at: stamp(created),
            updated_at: stamp(updated_at),
            position: 0,
            description: None,
            showcase: true,
            start_date: None,
            group_id: None,
            page_id: page_id.clone(),
            group: false,
            only_show_if_degraded: false,
            components: None,
        };
        let leaf_view = |i: usize, position: u32, group_id: Option<String>| {
            let c = &catalog.components[i];
            ComponentView {
                position,
                description: c.description.clone(),
                group_id,
                ..view(c.id.to_string(), c.name.clone(), leaves[i].status, leaves[i].updated)
            }
        };

        let mut group_ids: Vec<String> = Vec::new();
        let mut components = Vec::with_capacity(catalog.components.len());
        for (position, entry) in (1..).zip(top_level(catalog)) {
            match entry {
                Entry::Leaf(i) => components.push(leaf_view(i, position, None)),
                Entry::Group(name, children) => {
                    let id = group_id(name, catalog, &group_ids);
                    group_ids.push(id.clone());
                    let child_ids = children.iter().map(|&i| catalog.components[i].id.to_string()).collect();
                    let updated_at = children.iter().map(|&i| leaves[i].updated).max().unwrap_or(updated);
                    components.push(ComponentView {
                        position,
                        showcase: false,
                        group: true,
                        components: Some(child_ids),
                        ..view(
                            id.clone(),
                            name.to_owned(),
                            group_status(children.iter().map(|&i| leaves[i].status)),
                            updated_at,
                        )
                    });
                    for (child_position, &i) in (1..).zip(&children) {
                        components.push(leaf_view(i, child_position, Some(id.clone())));
                    }
                }
            }
        }

        let page = PageInfo {
            id: page_id,
            name: catalog.page.title.clone(),
            url: catalog.page.public_url.clone().unwrap_or_default(),
            time_zone: catalog.page.time_zone.clone(),
            updated_at: stamp(updated),
        };
        Self { page, components, status }
    }
}

impl PageSnapshot {
    /// The entry of a component (or group) by id.
    pub fn component(&self, id: &str) -> Option<&ComponentView> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// The worst of what the components show and what the open incidents declare; maintenance
/// is named only when nothing is worse.
fn status_line(statuses: impl Iterator<Item = ComponentStatus>, overlay: &Overlay) -> StatusView {
    let (mut indicator, mut description) = overall(statuses);
    let declared = match overlay.worst_impact {
        None | Some(Impact::None) => Indicator::None,
        Some(Impact::Minor) => Indicator::Minor,
        Some(Impact::Major) => Indicator::Major,
        Some(Impact::Critical) => Indicator::Critical,
    };
    if declared > indicator {
        indicator = declared;
        description = match declared {
            Indicator::Minor => "Minor Service Outage",
            Indicator::Major => "Major Service Outage",
            _ => "Critical Service Outage",
        };
    }
    if indicator == Indicator::None && overlay.maintenance_active {
        description = "Service Under Maintenance";
    }
    StatusView { indicator, description }
}

/// The page's declared zone; UTC when the name is unknown.
pub(crate) fn page_tz(catalog: &Catalog) -> TimeZone {
    TimeZone::get(&catalog.page.time_zone).unwrap_or(TimeZone::UTC)
}

struct Leaf {
    status: ComponentStatus,
    updated: Timestamp,
}

enum Entry<'a> {
    Leaf(usize),
    Group(&'a str, Vec<usize>),
}

/// Components in catalog order, grouped at the place where each group first appears.
fn top_level(catalog: &Catalog) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for (i, c) in catalog.components.iter().enumerate() {
        let Some(group) = c.group.as_deref() else {
            entries.push(Entry::Leaf(i));
            continue;
        };
        let existing = entries.iter_mut().find_map(|e| match e {
            Entry::Group(name, children) if *name == group => Some(children),
            _ => None,
        });
        match existing {
            Some(children) => children.push(i),
            None => entries.push(Entry::Group(group, vec![i])),
        }
    }
    entries
}

/// A group is as bad as its worst child; under maintenance only when every child is.
fn group_status(children: impl Iterator<Item = ComponentStatus>) -> ComponentStatus {
    let mut worst = ComponentStatus::Operational;
    let mut all_maintenance = true;
    let mut any = false;
    for status in children {
        any = true;
        if status != ComponentStatus::UnderMaintenance {
            all_maintenance = false;
            worst = worst.max(status);
        }
    }
    if any && all_maintenance { ComponentStatus::UnderMaintenance } else { worst }
}

/// The slug of a group name, made distinct from component ids and earlier groups.
fn group_id(name: &str, catalog: &Catalog, taken: &[String]) -> String {
    let base = slug(name, "group");
    let free = |id: &str| catalog.component(id).is_none() && !taken.iter().any(|t| t == id);
    let numbered = (1..).map(|n| if n == 1 { format!("{base}-group") } else { format!("{base}-group-{n}") });
    std::iter::once(base.clone()).chain(numbered).find(|id| free(id)).unwrap_or(base)
}

/// Lower-case ASCII letters and digits joined by single dashes; `fallback` when nothing is left.
pub(crate) fn slug(text: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { fallback.to_owned() } else { out }
}

/// RFC 3339 with the zone's offset at that instant, to the millisecond.
pub(crate) fn format_in(tz: &TimeZone, at: Timestamp) -> String {
    let at = Timestamp::from_millisecond(at.as_millisecond()).unwrap_or(at);
    at.display_with_offset(tz.to_offset(at)).to_string()
}

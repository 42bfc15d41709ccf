//! What each page shows, as plain values for its template: built from the site model, with
//! every time in the page's zone and its abbreviation (plus a machine-readable UTC instant
//! the script turns into the reader's local time).

use askama::Template;
use belfry_core::MonitorState;
use belfry_core::incident::{Incident, Postmortem, human_duration};
use belfry_core::maintenance::MaintenanceStatus;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{CSS, JS, impact_label, incident_status_label, indicator_class, render, status_class, svg};
use crate::badge::label as status_label;
use crate::links::Rel;
use crate::markdown::to_safe_html;
use crate::shapes::occurrence;
use crate::site::{Model, percent, uptime};

/// Days shown by the bars.
const BAR_DAYS: i64 = 90;

pub(crate) struct TimeView {
    /// RFC 3339 in UTC, for `<time datetime>`.
    pub iso: String,
    /// `Jun 1, 2024 08:00 EDT`.
    pub text: String,
}

fn time(tz: &TimeZone, at: Timestamp) -> TimeView {
    let at = Timestamp::from_second(at.as_second()).unwrap_or(at);
    TimeView { iso: at.to_string(), text: in_zone(tz, at, "%b %-d, %Y %H:%M %Z") }
}

/// `at` in the page's zone `tz`, formatted with `format` (which ends in `%Z`: the abbreviation
/// in force at that instant, so rows on either side of a daylight-saving change are both
/// right). Every view, public or staff, shows its times in this one zone.
pub(crate) fn in_zone(tz: &TimeZone, at: Timestamp, format: &str) -> String {
    at.to_zoned(tz.clone()).strftime(format).to_string()
}

/// The frame every page shares.
pub(crate) struct Chrome {
    pub doc_title: String,
    pub title: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub home: String,
    pub history: String,
    pub atom: String,
    pub rss: String,
    pub ics: String,
    pub json: String,
    pub live: bool,
    pub stream: String,
    pub css: &'static str,
    pub js: &'static str,
    /// `Times are shown in America/New_York (EDT).`
    pub zone_note: String,
    pub updated: TimeView,
}

fn chrome(model: &Model, links: &Rel, heading: Option<&str>) -> Chrome {
    let settings = &model.page.catalog.page;
    let now = model.page.now;
    let abbreviation = now.to_zoned(model.page.tz.clone()).strftime("%Z").to_string();
    Chrome {
        doc_title: heading.map_or_else(|| settings.title.clone(), |h| format!("{h} · {}", settings.title)),
        title: settings.title.clone(),
        description: settings.description.clone(),
        logo_url: settings.logo_url.clone(),
        home: links.home(),
        history: links.history(),
        atom: links.file("history.atom"),
        rss: links.file("history.rss"),
        ics: links.file("maintenance.ics"),
        json: links.file("api/v2/summary.json"),
        live: links.live(),
        stream: links.file("api/v1/stream"),
        css: CSS,
        js: JS,
        zone_note: format!("Times are shown in {} ({abbreviation}).", settings.time_zone),
        // The last change, not the build time: a rebuild that changes nothing keeps its ETag.
        updated: time(&model.page.tz, model.page.snapshot.page.updated_at.parse().unwrap_or(now)),
    }
}

pub(crate) struct Banner {
    pub class: &'static str,
    pub text: &'static str,
}

pub(crate) struct IncidentCard {
    pub name: String,
    pub href: String,
    pub impact: &'static str,
    pub impact_label: &'static str,
    pub status_label: &'static str,
    pub body_html: String,
    pub at: TimeView,
    pub started: TimeView,
    pub resolved: Option<TimeView>,
    pub components: String,
}

pub(crate) struct MaintenanceCard {
    pub name: String,
    pub active: bool,
    pub status_label: &'static str,
    pub start: TimeView,
    pub end: TimeView,
    pub body_html: String,
    pub components: String,
}

pub(crate) struct Row {
    pub id: String,
    pub name: String,
    pub href: String,
    pub status: &'static str,
    pub label: &'static str,
    pub description: Option<String>,
    pub bar: String,
    pub uptime: String,
    pub chart: Option<String>,
}

pub(crate) struct GroupHead {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub label: &'static str,
}

pub(crate) struct Section {
    pub group: Option<GroupHead>,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexTpl {
    chrome: Chrome,
    banner: Banner,
    incidents: Vec<IncidentCard>,
    maintenances: Vec<MaintenanceCard>,
    sections: Vec<Section>,
}

fn banner(model: &Model) -> Banner {
    let status = &model.page.snapshot.status;
    let class = match (status.description, indicator_class(status.indicator)) {
        ("Service Under Maintenance", _) => "maintenance",
        (_, class) => class,
    };
    Banner { class, text: status.description }
}

fn component_names(model: &Model, ids: impl Iterator<Item = String>) -> String {
    ids.map(|id| model.page.component_name(&id)).collect::<Vec<_>>().join(", ")
}

fn card(model: &Model, links: &Rel, incident: &Incident) -> IncidentCard {
    let tz = &model.page.tz;
    let latest = incident.updates.iter().max_by_key(|u| u.display_at);
    IncidentCard {
        name: incident.name.clone(),
        href: links.incident(&incident.id),
        impact: incident.impact.as_str(),
        impact_label: impact_label(incident.impact),
        status_label: incident_status_label(incident.status),
        body_html: latest.map(|u| to_safe_html(&u.body)).unwrap_or_default(),
        at: time(tz, latest.map_or(incident.updated_at, |u| u.display_at)),
        started: time(tz, incident.started_at),
        resolved: incident.resolved_at.map(|t| time(tz, t)),
        components: component_names(model, incident.components.keys().map(|c| c.to_string())),
    }
}

fn maintenance_cards(model: &Model) -> Vec<MaintenanceCard> {
    let now = model.page.now;
    let tz = &model.page.tz;
    let mut cards: Vec<(bool, Timestamp, MaintenanceCard)> = model
        .page
        .maintenances
        .iter()
        .filter_map(|m| {
            let (status, window) = occurrence(m, now);
            let active = matches!(status, MaintenanceStatus::InProgress | MaintenanceStatus::Verifying);
            let label = match status {
                MaintenanceStatus::Scheduled => "Scheduled",
                MaintenanceStatus::InProgress => "In progress",
                MaintenanceStatus::Verifying => "Verifying",
                MaintenanceStatus::Completed => return None,
            };
            let card = MaintenanceCard {
                name: m.name.clone(),
                active,
                status_label: label,
                start: time(tz, window.start),
                end: time(tz, window.end),
                body_html: to_safe_html(&m.description),
                components: component_names(model, m.components.iter().map(|c| c.to_string())),
            };
            Some((!active, window.start, card))
        })
        .collect();
    cards.sort_by_key(|(upcoming, start, _)| (*upcoming, *start));
    cards.into_iter().map(|(_, _, c)| c).collect()
}

fn row(model: &Model, links: &Rel, id: &str) -> Option<Row> {
    let view = model.page.snapshot.component(id)?;
    let cells = model.days_of(id, BAR_DAYS);
    let summary = match uptime(&cells) {
        Some((ratio, down)) => format!("{} uptime", percent(ratio, down)),
        None => "no data".to_owned(),
    };
    Some(Row {
        id: view.id.clone(),
        name: view.name.clone(),
        href: links.component(&view.id),
        status: status_class(view.status),
        label: status_label(view.status),
        description: view.description.clone(),
        bar: svg::bar(&view.name, &cells, &summary),
        uptime: summary,
        chart: svg::chart(&model.latency_of(id), &model.page.tz),
    })
}

fn sections(model: &Model, links: &Rel) -> Vec<Section> {
    let mut out = Vec::new();
    for view in model.page.snapshot.components.iter().filter(|c| c.group_id.is_none()) {
        if view.group {
            let rows = view.components.iter().flatten().filter_map(|c| row(model, links, c)).collect();
            let group = GroupHead {
                id: view.id.clone(),
                name: view.name.clone(),
                status: status_class(view.status),
                label: status_label(view.status),
            };
            out.push(Section { group: Some(group), rows });
        } else if let Some(r) = row(model, links, &view.id) {
            out.push(Section { group: None, rows: vec![r] });
        }
    }
    out
}

/// `/`: banner, active incidents and maintenance, then the components.
pub(crate) fn index_page(model: &Model, links: &Rel) -> Vec<u8> {
    render(&IndexTpl {
        chrome: chrome(model, links, None),
        banner: banner(model),
        incidents: model.page.open.iter().filter(|i| i.published).map(|i| card(model, links, i)).collect(),
        maintenances: maintenance_cards(model),
        sections: sections(model, links),
    })
}

pub(crate) struct Month {
    pub name: String,
    pub incidents: Vec<IncidentCard>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryTpl {
    chrome: Chrome,
    months: Vec<Month>,
}

/// `/history`: every published incident, by month (in the page's zone), newest first.
pub(crate) fn history_page(model: &Model, links: &Rel) -> Vec<u8> {
    let mut months: Vec<Month> = Vec::new();
    for incident in &model.recent {
        let name = incident.started_at.to_zoned(model.page.tz.clone()).strftime("%B %Y").to_string();
        match months.last_mut() {
            Some(m) if m.name == name => m.incidents.push(card(model, links, incident)),
            _ => months.push(Month { name, incidents: vec![card(model, links, incident)] }),
        }
    }
    render(&HistoryTpl { chrome: chrome(model, links, Some("History")), months })
}

pub(crate) struct UpdateView {
    pub status_label: &'static str,
    pub body_html: String,
    pub at: TimeView,
    pub components: String,
}

pub(crate) struct ActionView {
    pub description: String,
    pub owner: String,
    pub due: String,
    pub done: bool,
}

pub(crate) struct PostmortemView {
    pub summary_html: String,
    pub impact_html: String,
    /// The measured impact: `(label, value)`.
    pub facts: Vec<(&'static str, String)>,
    pub timeline: Vec<(TimeView, String)>,
    pub factors: Vec<String>,
    pub steps: Vec<String>,
    pub actions: Vec<ActionView>,
    pub published: Option<TimeView>,
}

/// The impact as recorded data measured it when the document was saved (P8); a document
/// saved before facts were kept shows what the incident itself records.
fn impact_facts(model: &Model, incident: &Incident, pm: &Postmortem) -> Vec<(&'static str, String)> {
    let duration = |s: u64| human_duration(std::time::Duration::from_secs(s));
    let components = |ids: Vec<String>| match component_names(model, ids.into_iter()) {
        names if names.is_empty() => "none recorded".to_owned(),
        names => names,
    };
    let Some(facts) = &pm.facts else {
        let mut out = Vec::new();
        if let Some(end) = incident.resolved_at {
            let s = end.duration_since(incident.started_at).as_secs();
            out.push(("Duration", duration(u64::try_from(s).unwrap_or(0))));
        }
        let ids = incident.components.keys().map(|c| c.to_string()).collect();
        out.push(("Affected components", components(ids)));
        return out;
    };
    let mut out = vec![("Duration", duration(facts.duration_s))];
    if facts.monitored_downtime_s > 0 {
        out.push(("Down according to monitoring", duration(facts.monitored_downtime_s)));
    }
    let ids = facts.affected_components.iter().map(|(id, _)| id.clone()).collect();
    out.push(("Affected components", components(ids)));
    out.push(("Failed checks", facts.checks_failed.to_string()));
    if !facts.regions.is_empty() {
        out.push(("Regions", facts.regions.join(", ")));
    }
    out
}

fn postmortem_view(model: &Model, incident: &Incident, pm: &Postmortem) -> PostmortemView {
    let tz = &model.page.tz;
    PostmortemView {
        summary_html: to_safe_html(&pm.summary),
        impact_html: to_safe_html(&pm.impact),
        facts: impact_facts(model, incident, pm),
        timeline: pm.timeline.iter().map(|r| (time(tz, r.at), r.text.clone())).collect(),
        factors: pm.contributing_factors.clone(),
        steps: pm.stabilization_steps.clone(),
        actions: pm
            .corrective_actions
            .iter()
            .map(|a| ActionView {
                description: a.description.clone(),
                owner: a.owner.clone(),
                due: a.due.map(|d| d.strftime("%b %-d, %Y").to_string()).unwrap_or_default(),
                done: a.done,
            })
            .collect(),
        published: pm.published_at.map(|t| time(tz, t)),
    }
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentTpl {
    chrome: Chrome,
    card: IncidentCard,
    components: Vec<(String, String)>,
    updates: Vec<UpdateView>,
    postmortem: Option<PostmortemView>,
}

/// `/incidents/{id}`: the whole public story of one incident.
pub(crate) fn incident_page(model: &Model, links: &Rel, incident: &Incident) -> Vec<u8> {
    let tz = &model.page.tz;
    let mut updates: Vec<_> = incident.updates.iter().collect();
    updates.sort_by_key(|u| std::cmp::Reverse(u.display_at));
    let postmortem = incident
        .postmortem
        .as_ref()
        .filter(|p| p.published_at.is_some())
        .map(|p| postmortem_view(model, incident, p));
    render(&IncidentTpl {
        chrome: chrome(model, links, Some(&incident.name)),
        card: card(model, links, incident),
        components: incident
            .components
            .keys()
            .map(|c| (model.page.component_name(c.as_str()), links.component(c.as_str())))
            .collect(),
        updates: updates
            .into_iter()
            .map(|u| UpdateView {
                status_label: incident_status_label(u.status),
                body_html: to_safe_html(&u.body),
                at: time(tz, u.display_at),
                components: u
                    .components
                    .iter()
                    .map(|(c, s)| format!("{}: {}", model.page.component_name(c.as_str()), status_label(*s)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        postmortem,
    })
}

pub(crate) struct RegionView {
    pub region: String,
    pub ok: bool,
    pub duration: String,
    pub at: TimeView,
}

pub(crate) struct MonitorView {
    pub name: String,
    pub state: &'static str,
    pub regions: Vec<RegionView>,
}

#[derive(Template)]
#[template(path = "component.html")]
struct ComponentTpl {
    chrome: Chrome,
    row: Row,
    children: Vec<Row>,
    monitors: Vec<MonitorView>,
    incidents: Vec<IncidentCard>,
}

fn state_label(state: MonitorState) -> &'static str {
    match state {
        // A suspected monitor is not an outage (P3): the public sees it up.
        MonitorState::Up | MonitorState::Suspected => "Up",
        MonitorState::Degraded => "Degraded",
        MonitorState::Down => "Down",
        MonitorState::Paused => "Paused",
        MonitorState::Maintenance => "Maintenance",
    }
}

/// `/components/{id}`: a component's bar and chart, its monitors' latest result in every
/// region, and the incidents that touched it.
pub(crate) fn component_page(model: &Model, links: &Rel, id: &str) -> Option<Vec<u8>> {
    let row = row(model, links, id)?;
    let view = model.page.snapshot.component(id)?;
    let children = view.components.iter().flatten().filter_map(|c| self::row(model, links, c)).collect();
    let tz = &model.page.tz;
    let monitors = model
        .monitors_for(id)
        .into_iter()
        .map(|spec| {
            let mut regions: Vec<RegionView> = model
                .stats
                .latest_of(&spec.id)
                .iter()
                .filter(|r| !r.inconclusive)
                .map(|r| RegionView {
                    region: r.region.clone(),
                    ok: r.ok,
                    duration: format!("{} ms", r.duration_ms),
                    at: time(tz, r.at),
                })
                .collect();
            regions.sort_by(|a, b| a.region.cmp(&b.region));
            MonitorView {
                name: spec.name.clone(),
                state: model.live.get(&spec.id).map_or("Unknown", |s| state_label(s.state)),
                regions,
            }
        })
        .collect();
    let mine = |i: &&Incident| {
        i.components
            .keys()
            .any(|c| c.as_str() == id || view.components.iter().flatten().any(|k| k == c.as_str()))
    };
    let incidents = model.recent.iter().filter(mine).take(20).map(|i| card(model, links, i)).collect();
    Some(render(&ComponentTpl {
        chrome: chrome(model, links, Some(&row.name)),
        row,
        children,
        monitors,
        incidents,
    }))
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundTpl {
    chrome: Chrome,
}

/// The HTML answer for an unknown incident or component.
pub(crate) fn not_found_page(model: &Model, links: &Rel) -> Vec<u8> {
    render(&NotFoundTpl { chrome: chrome(model, links, Some("Not found")) })
}

//! Every document of the public site rendered from one model: the same code serves the live
//! site (absolute links) and the static export (relative links).

use belfry_core::incident::Incident;

use super::Model;
use super::uptime::uptime;
pub(crate) use crate::links::Links;
use crate::{badge, feeds, html, ics, statuspage};

/// One rendered document.
pub(crate) struct Doc {
    /// The request path that serves it (`/`, `/incidents/abc`, `/api/v2/summary.json`).
    pub path: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub(crate) const HTML: &str = "text/html; charset=utf-8";
/// The key of the HTML 404 page (and its file in the export).
pub(crate) const NOT_FOUND_PATH: &str = "/404.html";
const JSON: &str = "application/json";

/// Everything, for one kind of site.
pub(crate) fn render_all(model: &Model, links: Links) -> Vec<Doc> {
    let doc = |path: &str, content_type: &'static str, body: Vec<u8>| Doc {
        path: path.to_owned(),
        content_type,
        body,
    };
    let page = &model.page;
    let top = links.at(0);
    let nested = links.at(1);
    let mut out = vec![
        doc("/", HTML, html::index_page(model, &top)),
        doc("/history", HTML, html::history_page(model, &top)),
        doc(NOT_FOUND_PATH, HTML, html::not_found_page(model, &top)),
        doc("/history.atom", "application/atom+xml; charset=utf-8", feeds::atom(page, &model.recent)),
        doc("/history.rss", "application/rss+xml; charset=utf-8", feeds::rss(page, &model.recent)),
        doc(
            "/maintenance.ics",
            "text/calendar; charset=utf-8",
            ics::render(&page.catalog, &page.maintenances, page.now).into_bytes(),
        ),
    ];
    for (path, body) in statuspage::documents(page, &model.recent) {
        out.push(doc(path, JSON, body));
    }
    // Open incidents are in `recent` too, unless more than the history holds are open.
    let mut shown: Vec<&Incident> = model.recent.iter().collect();
    for open in page.open.iter().filter(|i| i.published) {
        if !shown.iter().any(|i| i.id == open.id) {
            shown.push(open);
        }
    }
    for incident in shown {
        let body = html::incident_page(model, &nested, incident);
        out.push(doc(&format!("/incidents/{}", incident.id), HTML, body));
    }
    for view in &page.snapshot.components {
        if let Some(body) = html::component_page(model, &nested, &view.id) {
            out.push(doc(&format!("/components/{}", view.id), HTML, body));
        }
        out.push(doc(
            &format!("/badge/{}.svg", view.id),
            "image/svg+xml",
            badge::status(&view.name, view.status),
        ));
    }
    out
}

/// The uptime badge of a component over the last `days` days (1..=90).
pub(crate) fn uptime_badge(model: &Model, component: &str, days: i64) -> Vec<u8> {
    badge::uptime(days, uptime(&model.days_of(component, days)))
}

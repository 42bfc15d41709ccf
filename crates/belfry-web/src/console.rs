//! The admin console under `/admin`: server-rendered pages (askama, escaped by default) that
//! work without JavaScript. Access is enforced by the route table ([`crate::auth::require_role`]:
//! a session of the right role, and the session's CSRF token on every form). Writes go through
//! the same code as the API (incidents) or the runtime port (console-made config objects), and
//! each is written to the audit log.

mod desk;
mod login;
mod pages;
mod postmortem;
mod time;
mod users;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use jiff::tz::TimeZone;

pub(crate) use desk::{components, create_maintenance, delete_maintenance, maintenances, move_component};
pub(crate) use login::{LoginLimits, login, login_page, logout, logout_everywhere};
pub(crate) use pages::{
    ack_alert, alerts, channel_test, channels, create_channel, create_incident, create_monitor, dashboard,
    delete_channel, delete_monitor, edit_monitor, incident, incidents, monitor, new_monitor, pause_monitor,
    post_update, resume_monitor, run_monitor,
};
pub(crate) use postmortem::{postmortem, save_postmortem};
use time::{parse_local, when};
pub(crate) use users::{
    account, audit_log, create_token, create_user, delete_subscriber, delete_token, delete_user, settings,
    subscribers, totp_confirm, totp_start, users,
};

use crate::auth::Actor;

/// What the header shows for a logged-in user.
pub(crate) struct Nav {
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub admin: bool,
}

impl Nav {
    fn of(actor: &Actor) -> Option<Self> {
        let user = actor.user.as_ref()?;
        Some(Self {
            user: user.name.clone(),
            role: user.role.as_str(),
            csrf: actor.csrf().to_owned(),
            admin: user.role == belfry_core::access::Role::Admin,
        })
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessageTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    message: String,
}

/// A page with one message and a status, never cached.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error").to_owned();
    render(status, &MessageTpl { title, nav: None, errors: vec![], message: message.to_owned() })
}

/// A rendered template; console pages are private and live, so never stored by caches.
fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            (status, [("cache-control", "no-store"), ("x-frame-options", "DENY")], Html(html)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page failed");
            (StatusCode::SERVICE_UNAVAILABLE, "rendering failed").into_response()
        }
    }
}

/// `s` for a query string value.
pub(crate) fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).map(|q| q[2..].to_owned()).unwrap_or_default()
}

/// The page's configured time zone: every console view shows its times in it, as the public
/// pages do (one zone per view).
fn page_zone(state: &crate::state::WebState) -> TimeZone {
    crate::snapshot::page_tz(&state.runtime.catalog())
}

/// The CSRF field is checked by the middleware; forms ignore it.
fn without_csrf(fields: Vec<(String, String)>) -> Vec<(String, String)> {
    fields.into_iter().filter(|(k, _)| k != crate::auth::CSRF_FIELD).collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

#[cfg(test)]
mod tests;

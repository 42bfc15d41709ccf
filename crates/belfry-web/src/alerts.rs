//! Acknowledging alerts — through the signed link in every message (a GET shows a confirm page,
//! a POST acknowledges) or the API — and the alert and outbox views (`/api/v1/alerts`,
//! `/api/v1/deliveries`, where dead letters are listed).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use belfry_core::StoreError;
use belfry_core::alert::ack::{self, AckError};
use belfry_core::alert::{Alert, Delivery, DeliveryStatus};
use belfry_core::incident::{TimelineEntry, TimelineKind, auto};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::WebState;
use crate::xml::escape;

/// Where the dispatcher keeps the key that signs acknowledge links.
/// The vault entry of the key that signs acknowledge links (see `belfry::app::ack_key`).
const ACK_KEY: &str = "ack_key";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{t}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}\
         button{{font-size:1.2rem;padding:.6rem 1.4rem}}</style></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (status, [("cache-control", "no-store")], Html(html)).into_response()
}

/// The alert a link acknowledges, or the page explaining why it cannot.
async fn linked_alert(state: &WebState, token: &str) -> Result<Alert, Response> {
    let now = state.clock.now();
    let key = match state.vault.get(ACK_KEY).await {
        Ok(Some(key)) => key,
        Ok(None) => {
            return Err(page(
                StatusCode::FORBIDDEN,
                "Invalid link",
                "<p>This acknowledge link is not valid.</p>",
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the acknowledge key failed");
            return Err(ApiError::Status(StatusCode::SERVICE_UNAVAILABLE).into_response());
        }
    };
    let id = match ack::verify(&key, token, now) {
        Ok(id) => id,
        Err(AckError::Expired) => {
            return Err(page(
                StatusCode::GONE,
                "Link expired",
                "<p>This acknowledge link has expired. Use the API or the console.</p>",
            ));
        }
        Err(AckError::Invalid) => {
            return Err(page(
                StatusCode::FORBIDDEN,
                "Invalid link",
                "<p>This acknowledge link is not valid.</p>",
            ));
        }
    };
    match state.alerts.alert(&id).await {
        Ok(Some(alert)) => Ok(alert),
        Ok(None) => Err(page(StatusCode::NOT_FOUND, "Unknown alert", "<p>This alert no longer exists.</p>")),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

fn describe(alert: &Alert) -> String {
    let reason = alert.event.reason.as_deref().map(|r| format!("<p>{}</p>", escape(r))).unwrap_or_default();
    format!("<p><strong>{}</strong> since {}</p>{reason}", escape(&alert.event.title), alert.event.at)
}

/// `GET /ack/{token}`: what would be acknowledged, and a button to do it (a GET never changes
/// anything, so link previews and mail scanners cannot acknowledge by accident).
pub(crate) async fn ack_page(State(state): State<WebState>, ApiPath(token): ApiPath<String>) -> Response {
    let alert = match linked_alert(&state, &token).await {
        Ok(alert) => alert,
        Err(response) => return response,
    };
    if let (Some(by), Some(at)) = (&alert.acknowledged_by, alert.acknowledged_at) {
        let body = format!("{}<p>Already acknowledged by {} at {at}.</p>", describe(&alert), escape(by));
        return page(StatusCode::OK, "Already acknowledged", &body);
    }
    if alert.resolved_at.is_some() {
        return page(StatusCode::OK, "Already resolved", &describe(&alert));
    }
    let body = format!(
        "{}<form method=\"post\"><button type=\"submit\">Acknowledge and stop paging</button></form>",
        describe(&alert)
    );
    page(StatusCode::OK, "Acknowledge alert", &body)
}

/// `POST /ack/{token}`: acknowledges; the escalation stops.
pub(crate) async fn ack_confirm(State(state): State<WebState>, ApiPath(token): ApiPath<String>) -> Response {
    let alert = match linked_alert(&state, &token).await {
        Ok(alert) => alert,
        Err(response) => return response,
    };
    match acknowledge(&state, alert, "link").await {
        Ok(alert) => {
            page(StatusCode::OK, "Acknowledged", &format!("{}<p>Escalation stopped.</p>", describe(&alert)))
        }
        Err(e) => e.into_response(),
    }
}

/// Acknowledges (once; a second acknowledgement keeps the first) and saves.
pub(crate) async fn acknowledge(state: &WebState, mut alert: Alert, by: &str) -> Result<Alert, ApiError> {
    for _ in 0..3 {
        if !alert.acknowledge(by, state.clock.now()) {
            return Ok(alert);
        }
        match state.alerts.route(&[], std::slice::from_ref(&alert), &[], None).await {
            Ok(()) => {
                tracing::info!(alert.id = %alert.id, by, "alert acknowledged");
                record_on_incident(state, &alert, by).await?;
                return Ok(alert);
            }
            Err(StoreError::Conflict(_)) => {
                alert = state
                    .alerts
                    .alert(&alert.id)
                    .await?
                    .ok_or_else(|| ApiError::NotFound("no such alert".into()))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict("the alert kept changing; try again".into()))
}

/// Puts the acknowledgement on every open incident about the alert's monitor: its automatic
/// incident and those a person opened on its component.
async fn record_on_incident(state: &WebState, alert: &Alert, by: &str) -> Result<(), ApiError> {
    let Some(monitor) = &alert.event.monitor else { return Ok(()) };
    let open = state.incidents.incidents(&auto::open_incidents()).await?;
    let at = alert.acknowledged_at.unwrap_or_else(|| state.clock.now());
    let text = format!("Alert acknowledged by {by}: {}", alert.event.title);
    let entries: Vec<TimelineEntry> = open
        .iter()
        .filter(|i| auto::is_about(i, monitor, alert.event.component.as_ref()))
        .map(|i| {
            TimelineEntry::new(&i.id, at, TimelineKind::Acknowledged, text.clone(), by)
                .with_data(serde_json::json!({"alert": alert.id}))
        })
        .collect();
    if !entries.is_empty() {
        state.incidents.append_timeline(&entries).await?;
    }
    Ok(())
}

#[derive(Serialize)]
pub(crate) struct AlertList {
    alerts: Vec<Alert>,
}

/// `GET /api/v1/alerts` (read): alerts still paging.
pub(crate) async fn list(State(state): State<WebState>) -> Result<Json<AlertList>, ApiError> {
    Ok(Json(AlertList { alerts: state.alerts.active_alerts().await? }))
}

/// `POST /api/v1/alerts/{id}/ack` (write).
pub(crate) async fn ack_api(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Alert>, ApiError> {
    let alert =
        state.alerts.alert(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no alert {id:?}")))?;
    Ok(Json(acknowledge(&state, alert, &actor.label).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveryQuery {
    status: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct DeliveryList {
    deliveries: Vec<Delivery>,
}

/// `GET /api/v1/deliveries?status=pending|sent|dead&limit=` (read): the outbox.
pub(crate) async fn deliveries(
    State(state): State<WebState>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(DeliveryStatus::parse(raw).ok_or_else(|| {
            ApiError::InvalidQuery(format!("status must be pending, sent or dead, not {raw:?}"))
        })?),
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::InvalidQuery("limit must be between 1 and 1000".into()));
    }
    let mut deliveries = state.alerts.deliveries(status, limit).await?;
    // An acknowledge link is a capability; a read token must not obtain one.
    for d in &mut deliveries {
        d.message.ack_url = None;
    }
    Ok(Json(DeliveryList { deliveries }))
}

#[cfg(test)]
mod tests;

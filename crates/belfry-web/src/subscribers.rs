//! Status page subscriptions: `POST /subscribe` takes an email address or webhook URL and
//! queues a double opt-in request; the link in it confirms (`GET /subscribe/confirm/{token}`),
//! and the link in every later message unsubscribes (`GET` shows a button, `POST` deletes).
//!
//! `POST /subscribe` answers the same 202 whether the address is new, pending or confirmed,
//! so it cannot be used to learn who subscribed; it is rate limited per address and per
//! client IP. Tokens are random and looked up by their SHA-256 hash.

mod limit;

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use belfry_core::alert::{Delivery, DeliveryStatus};
use belfry_core::channel::{Message, MessageEvent, Severity};
use belfry_core::subscriber::{Subscriber, SubscriberKind, hash_token};
use belfry_core::{Catalog, MonitorId};
use serde::Deserialize;

pub use limit::SubscribeLimits;

use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::ids::new_id;
use crate::state::WebState;
use crate::xml::escape;

/// The one answer of `POST /subscribe`, whatever the address's state.
pub(crate) const ACCEPTED: &str = "Thanks! If this address can be subscribed, a confirmation request is on its way. \
     Follow the link in it to start receiving updates.";

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

/// What a visitor sends, as JSON (`components` a list) or a form (`components` comma separated).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeRequest {
    email: Option<String>,
    webhook: Option<String>,
    #[serde(default)]
    components: Vec<String>,
}

impl SubscribeRequest {
    fn from_form(body: &[u8]) -> Self {
        let mut req = Self::default();
        for (key, value) in form_pairs(body) {
            match key.as_str() {
                "email" if !value.trim().is_empty() => req.email = Some(value),
                "webhook" if !value.trim().is_empty() => req.webhook = Some(value),
                "components" | "component" => req
                    .components
                    .extend(value.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned)),
                _ => {}
            }
        }
        req
    }
}

/// `application/x-www-form-urlencoded` pairs, percent-decoded (`+` is a space).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn decode(raw: &str) -> String {
        let bytes = raw.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = |c: u8| (c as char).to_digit(16);
                    match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                        (Some(h), Some(l)) => {
                            out.push((h * 16 + l) as u8);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `POST /subscribe`: creates an unconfirmed subscriber and queues the confirmation request.
pub(crate) async fn subscribe(State(state): State<WebState>, request: Request) -> Response {
    let limits = request.extensions().get::<std::sync::Arc<SubscribeLimits>>().cloned();
    let ip = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let body: Bytes = match axum::body::to_bytes(request.into_body(), 64 * 1024).await {
        Ok(body) => body,
        Err(_) => return ApiError::InvalidInput("the request body is too large".into()).into_response(),
    };
    let req = if json {
        match serde_json::from_slice::<SubscribeRequest>(&body) {
            Ok(req) => req,
            Err(e) => return ApiError::InvalidInput(format!("invalid JSON: {e}")).into_response(),
        }
    } else {
        SubscribeRequest::from_form(&body)
    };
    let catalog = state.runtime.catalog();
    let (kind, components) = match validate(&catalog, req) {
        Ok(valid) => valid,
        Err(e) => return e.into_response(),
    };
    let now = state.clock.now();
    let settings = catalog.alerting.subscribers.as_ref().map_or(0, |s| s.rate_limit_per_hour);
    if let Some(limits) = limits {
        let ip_key = format!("ip:{}", ip.as_deref().unwrap_or("unknown"));
        // Both buckets are charged, so neither one address nor one client can flood.
        let by_address = limits.take(&kind.key(), settings, now);
        let by_ip = limits.take(&ip_key, settings, now);
        if !(by_address && by_ip) {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "3600")],
                Json(serde_json::json!({"error": "too_many_requests",
                    "message": "too many subscription requests; try again later"})),
            )
                .into_response();
        }
    }
    if let Err(e) = create(&state, &catalog, kind, components, now).await {
        return e.into_response();
    }
    if json {
        (StatusCode::ACCEPTED, Json(serde_json::json!({"message": ACCEPTED}))).into_response()
    } else {
        page(StatusCode::ACCEPTED, "Check your inbox", &format!("<p>{}</p>", escape(ACCEPTED)))
    }
}

fn validate(catalog: &Catalog, req: SubscribeRequest) -> Result<(SubscriberKind, Vec<MonitorId>), ApiError> {
    let Some(settings) = &catalog.alerting.subscribers else {
        return Err(ApiError::NotFound("this status page takes no subscriptions".into()));
    };
    let kind = match (req.email.as_deref(), req.webhook.as_deref()) {
        (Some(email), None) => SubscriberKind::parse_email(email)
            .ok_or_else(|| ApiError::InvalidInput("email must be an address like you@example.com".into()))?,
        (None, Some(_)) if !settings.webhooks => {
            return Err(ApiError::InvalidInput("this status page takes no webhook subscriptions".into()));
        }
        (None, Some(url)) => SubscriberKind::parse_webhook(url)
            .ok_or_else(|| ApiError::InvalidInput("webhook must be an absolute http(s) URL".into()))?,
        _ => return Err(ApiError::InvalidInput("give exactly one of email and webhook".into())),
    };
    let mut components = Vec::new();
    for raw in req.components {
        let component = catalog
            .component(&raw)
            .ok_or_else(|| ApiError::InvalidInput(format!("unknown component {raw:?}")))?;
        if !components.contains(&component.id) {
            components.push(component.id.clone());
        }
    }
    Ok((kind, components))
}

async fn create(
    state: &WebState,
    catalog: &Catalog,
    kind: SubscriberKind,
    components: Vec<MonitorId>,
    now: jiff::Timestamp,
) -> Result<(), ApiError> {
    let subscriber = Subscriber {
        id: new_id()?,
        kind,
        components,
        confirmed_at: None,
        created_at: now,
        token: belfry_core::auth::random_hex(32)?,
    };
    // An address that is already subscribed (or pending) gets nothing new: the answer is the
    // same either way, and the owner can use the link they already have.
    if !state.subscribers.add_subscriber(&subscriber).await? {
        return Ok(());
    }
    let delivery = confirmation(catalog, &subscriber, now);
    state.alerts.route(&[], &[], std::slice::from_ref(&delivery), None).await?;
    Ok(())
}

/// The public base URL links are built on (`page.public_url`), without a trailing slash.
fn base(catalog: &Catalog) -> String {
    catalog.page.public_url.as_deref().unwrap_or("").trim_end_matches('/').to_owned()
}

/// The double opt-in request: the one message an unconfirmed subscriber can get.
pub(crate) fn confirmation(catalog: &Catalog, s: &Subscriber, now: jiff::Timestamp) -> Delivery {
    let base = base(catalog);
    let confirm = format!("{base}/subscribe/confirm/{}", s.token);
    let key = format!("subscriber:{}:confirm", s.id);
    let message = Message {
        idempotency_key: key.clone(),
        event: MessageEvent::SubscriptionConfirm,
        severity: Severity::Info,
        title: catalog.page.title.clone(),
        summary: format!(
            "Someone asked to receive status updates of {} here. To confirm, open {confirm}\n\
             If it was not you, ignore this message: nothing more will be sent.",
            catalog.page.title
        ),
        monitor: None,
        component: None,
        failing_conditions: vec![],
        since: Some(now),
        incident_url: None,
        ack_url: None,
        unsubscribe_url: Some(format!("{base}/unsubscribe/{}", s.token)),
        dedup_key: key.clone(),
        page_time_zone: catalog.page.time_zone.clone(),
    };
    Delivery {
        id: format!("sub-{}-confirm", s.id),
        alert: None,
        channel: s.channel(),
        message,
        idempotency_key: key,
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        status: DeliveryStatus::Pending,
        last_error: None,
        sent_at: None,
    }
}

async fn linked(state: &WebState, token: &str) -> Result<Subscriber, Response> {
    match state.subscribers.subscriber_by_token(&hash_token(token)).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(page(
            StatusCode::NOT_FOUND,
            "Invalid link",
            "<p>This link is not valid any more. The subscription may have been cancelled already.</p>",
        )),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// `GET /subscribe/confirm/{token}`: confirms the subscription (a repeat is harmless).
pub(crate) async fn confirm(State(state): State<WebState>, ApiPath(token): ApiPath<String>) -> Response {
    let s = match linked(&state, &token).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    if let Err(e) = state.subscribers.confirm_subscriber(&s.id, state.clock.now()).await {
        return ApiError::from(e).into_response();
    }
    let catalog = state.runtime.catalog();
    let body = format!(
        "<p>You will receive updates of {}.</p><p><a href=\"{}/unsubscribe/{}\">Unsubscribe</a></p>",
        escape(&catalog.page.title),
        escape(&base(&catalog)),
        escape(&token)
    );
    page(StatusCode::OK, "Subscription confirmed", &body)
}

/// `GET /unsubscribe/{token}`: a button to unsubscribe (a GET changes nothing, so mail
/// scanners that follow links cannot unsubscribe anyone).
pub(crate) async fn unsubscribe_page(
    State(state): State<WebState>,
    ApiPath(token): ApiPath<String>,
) -> Response {
    if let Err(response) = linked(&state, &token).await {
        return response;
    }
    let title = state.runtime.catalog().page.title.clone();
    let body = format!(
        "<p>Stop receiving updates of {}?</p><form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
        escape(&title)
    );
    page(StatusCode::OK, "Unsubscribe", &body)
}

/// `POST /unsubscribe/{token}`: deletes the subscriber.
pub(crate) async fn unsubscribe(State(state): State<WebState>, ApiPath(token): ApiPath<String>) -> Response {
    let s = match linked(&state, &token).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    match state.subscribers.delete_subscriber(&s.id).await {
        Ok(_) => page(StatusCode::OK, "Unsubscribed", "<p>You will not receive any more updates.</p>"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests;

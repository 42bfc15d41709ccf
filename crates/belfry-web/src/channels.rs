//! `/api/v1/channels`: the notification channels. Those of the config file are read-only;
//! channels made through the API (or the console) are config entries too, kept sealed in the
//! store with their secrets, validated with the config file and put in force at once. Reads
//! never return settings (they hold secrets).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use belfry_core::Section;
use belfry_core::alert::Delivery;
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::WebState;

#[derive(Serialize)]
pub(crate) struct ChannelView {
    id: String,
    kind: String,
    /// `config` (read-only here) or `api` (made through the API or the console).
    origin: &'static str,
}

#[derive(Serialize)]
pub(crate) struct ChannelList {
    channels: Vec<ChannelView>,
}

/// `GET /api/v1/channels` (read): channels in force, without their settings.
pub(crate) async fn list(State(state): State<WebState>) -> Result<Json<ChannelList>, ApiError> {
    let ours = state.console_ids(Section::Channels).await?;
    let catalog = state.runtime.catalog();
    let channels = catalog
        .alerting
        .channels
        .iter()
        .map(|c| ChannelView {
            id: c.id.to_string(),
            kind: c.kind.name().to_owned(),
            origin: if ours.contains(c.id.as_str()) { "api" } else { "config" },
        })
        .collect();
    Ok(Json(ChannelList { channels }))
}

/// The view of an entry just saved (it passed validation, so its `kind` is a known one).
fn view(id: &str, entry: &Value) -> ChannelView {
    let kind = entry.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
    ChannelView { id: id.to_owned(), kind, origin: "api" }
}

/// The entry's `id`, which must be a string.
fn entry_id(entry: &Value) -> Result<String, ApiError> {
    if !entry.is_object() {
        return Err(ApiError::InvalidInput(
            "a channel is a JSON object like the config's `channels:` entries".into(),
        ));
    }
    match entry.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(ApiError::InvalidInput("the channel needs a string `id`".into())),
    }
}

/// Refuses ids the config file defines: they can only change there.
async fn check_not_config(state: &WebState, id: &str) -> Result<bool, ApiError> {
    let ours = state.console_ids(Section::Channels).await?.contains(id);
    let exists = state.runtime.catalog().alerting.channels.iter().any(|c| c.id.as_str() == id);
    if exists && !ours {
        return Err(ApiError::Conflict(format!(
            "channel {id:?} is defined in the config file; change it there"
        )));
    }
    Ok(ours)
}

async fn save(state: &WebState, id: &str, entry: Option<&Value>) -> Result<(), ApiError> {
    state
        .runtime
        .put_console_object(Section::Channels, id, entry.map(Value::to_string))
        .await
        .map_err(ApiError::InvalidConfig)
}

/// `POST /api/v1/channels` (admin): a new channel, in the config's syntax
/// (`{"id": "ops", "kind": "webhook", "url": "…", "secret": "…"}`) → 201.
pub(crate) async fn create(
    State(state): State<WebState>,
    ApiJson(entry): ApiJson<Value>,
) -> Result<(StatusCode, Json<ChannelView>), ApiError> {
    let id = entry_id(&entry)?;
    if check_not_config(&state, &id).await? {
        return Err(ApiError::Conflict(format!(
            "channel {id:?} exists; PUT /api/v1/channels/{id} replaces it"
        )));
    }
    save(&state, &id, Some(&entry)).await?;
    Ok((StatusCode::CREATED, Json(view(&id, &entry))))
}

/// `PUT /api/v1/channels/{id}` (admin): replaces (or creates) a channel made here.
pub(crate) async fn replace(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(entry): ApiJson<Value>,
) -> Result<Json<ChannelView>, ApiError> {
    if entry_id(&entry)? != id {
        return Err(ApiError::InvalidInput("the body's `id` must match the path".into()));
    }
    check_not_config(&state, &id).await?;
    save(&state, &id, Some(&entry)).await?;
    Ok(Json(view(&id, &entry)))
}

/// `DELETE /api/v1/channels/{id}` (admin) → 204. Refused (422) while an escalation uses it.
pub(crate) async fn delete(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if !check_not_config(&state, &id).await? {
        return Err(ApiError::NotFound(format!("no channel {id:?}")));
    }
    save(&state, &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub(crate) struct Queued {
    delivery: String,
}

/// `POST /api/v1/channels/{id}/test` (write): queues a test message in the outbox; the
/// dispatcher sends it within a second, and `/api/v1/deliveries` shows how it went.
pub(crate) async fn send_test(
    State(state): State<WebState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let catalog = state.runtime.catalog();
    let channel = catalog
        .alerting
        .channels
        .iter()
        .find(|c| c.id.as_str() == id)
        .ok_or_else(|| ApiError::NotFound(format!("no channel {id:?}")))?;
    let now = state.clock.now();
    let mut message =
        belfry_core::channel::Message::test(&channel.id, catalog.page.public_url.as_deref(), now);
    message.page_time_zone = catalog.page.time_zone.clone();
    let id = format!("test-{}-{}", channel.id, now.as_millisecond());
    let delivery = Delivery::queued(id, None, channel.id.as_str(), message, now);
    state.alerts.route(&[], &[], std::slice::from_ref(&delivery), None).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { delivery: delivery.id })))
}

#[cfg(test)]
mod tests;

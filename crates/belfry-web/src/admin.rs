//! Operator actions on the running service.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::WebState;

#[derive(Serialize)]
pub(crate) struct Reloaded {
    reloaded: bool,
}

/// `POST /api/v1/reload` (scope `admin`): re-reads the config. On errors the running config
/// stays and the answer is 422 `invalid_config` with every error in `details`.
pub(crate) async fn reload(State(state): State<WebState>) -> Result<Json<Reloaded>, ApiError> {
    state.runtime.reload().await.map_err(ApiError::InvalidConfig)?;
    Ok(Json(Reloaded { reloaded: true }))
}

#[cfg(test)]
mod tests;

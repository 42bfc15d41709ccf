//! Heartbeat pushes: `GET|POST /api/v1/push/{token}[?status=up|down&msg=…]`. The token is the
//! secret, so the route is public; an unknown token gets the same 404 whatever it is.

use axum::Json;
use axum::extract::State;
use belfry_core::MonitorId;
use belfry_core::runtime::PushError;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::WebState;

/// A pinger's message is kept this short (bytes) so a push cannot bloat the store.
const MAX_MESSAGE_BYTES: usize = 1024;

#[derive(Debug, Deserialize)]
pub(crate) struct PushQuery {
    status: Option<String>,
    msg: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Pushed {
    ok: bool,
    monitor: MonitorId,
}

pub(crate) async fn push(
    State(state): State<WebState>,
    ApiPath(token): ApiPath<String>,
    ApiQuery(query): ApiQuery<PushQuery>,
) -> Result<Json<Pushed>, ApiError> {
    let down = match query.status.as_deref() {
        None | Some("up") => None,
        Some("down") => {
            Some(query.msg.map(truncate).unwrap_or_else(|| "the pinger reported down".to_owned()))
        }
        Some(_) => return Err(ApiError::InvalidQuery("status must be `up` or `down`".to_owned())),
    };
    match state.runtime.push(&token, down) {
        Ok(monitor) => Ok(Json(Pushed { ok: true, monitor })),
        Err(PushError::UnknownToken) => Err(ApiError::NotFound("unknown push token".to_owned())),
        Err(PushError::Paused) => Err(ApiError::MonitorPaused),
    }
}

fn truncate(mut msg: String) -> String {
    if msg.len() > MAX_MESSAGE_BYTES {
        let cut = (0..=MAX_MESSAGE_BYTES).rev().find(|&i| msg.is_char_boundary(i)).unwrap_or(0);
        msg.truncate(cut);
    }
    msg
}

#[cfg(test)]
mod tests;

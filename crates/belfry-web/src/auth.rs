//! Bearer tokens: `Authorization: Bearer <secret>` is hashed and looked up in the store; the
//! route table says which scope each route needs and [`require_scope`] enforces it.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use belfry_core::Store;
use belfry_core::auth::{ApiToken, Scope, hash_secret};

use crate::error::ApiError;
use crate::state::WebState;

/// The token that authenticated this request. As an extractor it reuses the token the
/// scope middleware already found, or authenticates on its own (any scope).
#[derive(Debug, Clone)]
pub struct Bearer(pub ApiToken);

impl<S> FromRequestParts<S> for Bearer
where
    WebState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(token) = parts.extensions.get::<ApiToken>() {
            return Ok(Self(token.clone()));
        }
        let web = WebState::from_ref(state);
        authenticate(web.store.as_ref(), &parts.headers).await.map(Self)
    }
}

/// The state of one route's scope check.
#[derive(Clone)]
pub(crate) struct ScopeGuard {
    pub store: Arc<dyn Store>,
    pub needed: Scope,
}

/// Route middleware: 401 without a known token, 403 when its scope does not allow `needed`.
/// The token is left in the request extensions for [`Bearer`].
pub(crate) async fn require_scope(
    State(guard): State<ScopeGuard>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = authenticate(guard.store.as_ref(), req.headers()).await?;
    if !token.scope.allows(guard.needed) {
        return Err(ApiError::Forbidden { needed: guard.needed });
    }
    req.extensions_mut().insert(token);
    Ok(next.run(req).await)
}

async fn authenticate(store: &dyn Store, headers: &HeaderMap) -> Result<ApiToken, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized { invalid_token: false });
    };
    let secret = value.to_str().ok().and_then(bearer_secret);
    let Some(secret) = secret else {
        return Err(ApiError::Unauthorized { invalid_token: true });
    };
    match store.token_by_hash(&hash_secret(secret)).await? {
        Some(token) => Ok(token),
        None => Err(ApiError::Unauthorized { invalid_token: true }),
    }
}

/// The secret of a `Bearer` credential; the scheme is case-insensitive (RFC 7235).
fn bearer_secret(value: &str) -> Option<&str> {
    let (scheme, secret) = value.trim().split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

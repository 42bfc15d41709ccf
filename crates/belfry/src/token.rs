//! `belfry token create`: a random secret, shown once; only its hash is stored.

use belfry_core::auth::{ApiToken, Scope};
use belfry_core::{Clock, Store, SystemClock};

/// Creates a token of `scope` and returns its secret.
pub async fn create(store: &dyn Store, scope: Scope) -> anyhow::Result<String> {
    let (token, secret) = ApiToken::generate(scope, SystemClock.now())?;
    store.insert_token(&token).await?;
    tracing::info!(token.id = %token.id, scope = scope.as_str(), "API token created");
    Ok(secret)
}

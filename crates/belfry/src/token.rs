//! `belfry token create`: a random secret, shown once; only its hash is stored.

use belfry_core::auth::{ApiToken, Scope, hash_secret};
use belfry_core::{Clock, Store, SystemClock};

/// Creates a token of `scope` and returns its secret.
pub async fn create(store: &dyn Store, scope: Scope) -> anyhow::Result<String> {
    let secret = format!("belfry_{}", random_hex(24)?);
    let token =
        ApiToken { id: random_hex(8)?, scope, hash: hash_secret(&secret), created_at: SystemClock.now() };
    store.insert_token(&token).await?;
    tracing::info!(token.id = %token.id, scope = scope.as_str(), "API token created");
    Ok(secret)
}

pub(crate) fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

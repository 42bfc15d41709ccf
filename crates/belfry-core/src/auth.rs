//! API tokens: bearer secrets with a scope, stored only as their SHA-256 hash.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a token may do; each scope includes the ones before it, except `probe`, which may
/// only fetch assignments and push results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Admin,
    Probe,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
            Self::Probe => "probe",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Read, Self::Write, Self::Admin, Self::Probe].into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether a token of this scope may act where `needed` is required.
    pub fn allows(self, needed: Scope) -> bool {
        match (self, needed) {
            (Self::Probe, Self::Probe) => true,
            (Self::Probe, _) | (_, Self::Probe) => false,
            (have, need) => have >= need,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub scope: Scope,
    /// Hex SHA-256 of the secret; the secret itself is shown once and never stored.
    pub hash: String,
    pub created_at: Timestamp,
}

/// The OS gave no random bytes (never seen in practice; nothing secret can be made then).
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct NoRandomness(String);

/// `bytes` random bytes as lowercase hex: the source of every secret Belfry hands out
/// (token and session secrets, CSRF tokens, user ids, generated passwords).
pub fn random_hex(bytes: usize) -> Result<String, NoRandomness> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| NoRandomness(e.to_string()))?;
    Ok(hex::encode(buf))
}

impl ApiToken {
    /// A new token of `scope` and its secret (shown once; only the hash is kept).
    pub fn generate(scope: Scope, now: Timestamp) -> Result<(Self, String), NoRandomness> {
        let secret = format!("belfry_{}", random_hex(24)?);
        let token = Self { id: random_hex(8)?, scope, hash: hash_secret(&secret), created_at: now };
        Ok((token, secret))
    }
}

/// The stored form of a token secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_but_probe_stands_alone() {
        assert!(Scope::Admin.allows(Scope::Write));
        assert!(Scope::Write.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Write));
        assert!(!Scope::Admin.allows(Scope::Probe));
        assert!(!Scope::Probe.allows(Scope::Read));
        assert!(Scope::Probe.allows(Scope::Probe));
    }

    #[test]
    fn generated_tokens_keep_only_the_hash_of_a_fresh_secret() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let (a, secret) = ApiToken::generate(Scope::Read, now).unwrap();
        let (b, other) = ApiToken::generate(Scope::Read, now).unwrap();
        assert!(secret.starts_with("belfry_") && secret.len() == 7 + 48, "{secret}");
        assert_eq!(a.hash, hash_secret(&secret));
        assert!(a.id != b.id && secret != other);
        assert_eq!(random_hex(3).unwrap().len(), 6);
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

//! Secrets at rest (P2): every secret the store keeps (TOTP seeds, the acknowledge-link key,
//! console-made objects with their passwords and tokens) is sealed with XChaCha20-Poly1305
//! under the master key. The entry's name is the associated data, so a sealed value cannot be
//! moved to another name. The key itself is never stored with the data; the binary reads it
//! from `BELFRY_MASTER_KEY` or a key file.

use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The vault entry that proves a key is the right one: a known text sealed at first start.
pub const KEY_CHECK: &str = "vault:key_check";
const KEY_CHECK_TEXT: &[u8] = b"belfry vault key check v1";
use crate::store::{AdminStore, StoreError};

/// Format tag of sealed values; bumps if the construction ever changes.
const PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("the master key must be 32 bytes written as 64 hex characters")]
    BadKey,
    /// Wrong key, or the value was altered or moved to another name.
    #[error("cannot open sealed value {0}: wrong master key or altered data")]
    Unreadable(String),
    #[error("no random numbers available: {0}")]
    Random(String),
}

/// The 256-bit master key. Its `Debug` never shows it; it is wiped when dropped.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.0.zeroize();
    }
}

impl MasterKey {
    pub fn generate() -> Result<Self, VaultError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| VaultError::Random(e.to_string()))?;
        Ok(Self(key))
    }

    /// From 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, VaultError> {
        let bytes = hex::decode(text.trim()).map_err(|_| VaultError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| VaultError::BadKey)?;
        Ok(Self(key))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `plaintext` sealed for the entry `name`: `v1:` + hex(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Result<String, VaultError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| VaultError::Random(e.to_string()))?;
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad: name.as_bytes() })
            .map_err(|_| VaultError::Unreadable(name.to_owned()))?;
        let mut out = Vec::with_capacity(24 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", hex::encode(out)))
    }

    /// The plaintext of a value sealed for `name` under this key.
    pub fn open(&self, name: &str, sealed: &str) -> Result<Vec<u8>, VaultError> {
        let unreadable = || VaultError::Unreadable(name.to_owned());
        let raw = sealed.strip_prefix(PREFIX).and_then(|h| hex::decode(h).ok()).ok_or_else(unreadable)?;
        if raw.len() < 24 + 16 {
            return Err(unreadable());
        }
        let (nonce, body) = raw.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| unreadable())?;
        self.cipher()
            .decrypt(&XNonce::from(nonce), Payload { msg: body, aad: name.as_bytes() })
            .map_err(|_| unreadable())
    }

    /// A sealed UTF-8 string.
    pub fn open_string(&self, name: &str, sealed: &str) -> Result<String, VaultError> {
        String::from_utf8(self.open(name, sealed)?).map_err(|_| VaultError::Unreadable(name.to_owned()))
    }

    /// The value stored under [`KEY_CHECK`] at first start.
    pub fn key_check(&self) -> Result<String, VaultError> {
        self.seal(KEY_CHECK, KEY_CHECK_TEXT)
    }

    /// Whether this key opened the stored key check: `Err` names the problem.
    pub fn verify(&self, stored_check: &str) -> Result<(), VaultError> {
        match self.open(KEY_CHECK, stored_check) {
            Ok(text) if text == KEY_CHECK_TEXT => Ok(()),
            _ => Err(VaultError::Unreadable(KEY_CHECK.to_owned())),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

/// The store's vault seen through the master key: values go in sealed and come out opened.
#[derive(Clone)]
pub struct Vault {
    key: MasterKey,
    store: Arc<dyn AdminStore>,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultAccessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sealing(#[from] VaultError),
}

impl Vault {
    pub fn new(key: MasterKey, store: Arc<dyn AdminStore>) -> Self {
        Self { key, store }
    }

    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, VaultAccessError> {
        match self.store.vault_get(name).await? {
            Some(sealed) => Ok(Some(self.key.open(name, &sealed)?)),
            None => Ok(None),
        }
    }

    pub async fn put(&self, name: &str, plaintext: &[u8]) -> Result<(), VaultAccessError> {
        let sealed = self.key.seal(name, plaintext)?;
        Ok(self.store.vault_put(name, &sealed).await?)
    }

    pub async fn delete(&self, name: &str) -> Result<bool, VaultAccessError> {
        Ok(self.store.vault_delete(name).await?)
    }

    /// Every entry under `prefix`, opened, by name.
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, VaultAccessError> {
        let mut out = vec![];
        for (name, sealed) in self.store.vault_list(prefix).await? {
            let plain = self.key.open(&name, &sealed)?;
            out.push((name, plain));
        }
        Ok(out)
    }
}

/// Re-seals every vault entry (and the key check) under `new` in one transaction. Fails, and
/// changes nothing, if any entry does not open under `old`.
pub async fn rotate(
    store: &dyn AdminStore,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<usize, VaultAccessError> {
    let mut resealed = vec![];
    for (name, sealed) in store.vault_list("").await? {
        let plain = old.open(&name, &sealed)?;
        resealed.push((name.clone(), new.seal(&name, &plain)?));
    }
    store.vault_replace(&resealed).await?;
    Ok(resealed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_name() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal("totp:u1", b"seed bytes").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains(&hex::encode(b"seed bytes")));
        assert_eq!(key.open("totp:u1", &sealed).unwrap(), b"seed bytes");
        assert!(key.open("totp:u2", &sealed).is_err(), "moved to another name");
        let other = MasterKey::generate().unwrap();
        assert!(other.open("totp:u1", &sealed).is_err(), "wrong key");
        assert_ne!(key.seal("a", b"x").unwrap(), key.seal("a", b"x").unwrap(), "fresh nonce each time");
    }

    #[test]
    fn the_key_check_tells_right_from_wrong_keys() {
        let key = MasterKey::generate().unwrap();
        let check = key.key_check().unwrap();
        assert!(key.verify(&check).is_ok());
        assert!(MasterKey::generate().unwrap().verify(&check).is_err());
        let back = MasterKey::from_hex(&format!(" {}\n", key.to_hex())).unwrap();
        assert!(back.verify(&check).is_ok());
        assert_eq!(MasterKey::from_hex("abcd").unwrap_err(), VaultError::BadKey);
        assert!(!format!("{key:?}").contains(&key.to_hex()));
    }
}

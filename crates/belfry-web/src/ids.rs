//! Identifiers of incidents, updates and maintenance windows: 12 random characters of the
//! lowercase RFC 4648 base32 alphabet (60 bits), URL-safe and valid as component-style ids.

use crate::error::ApiError;

/// A fresh random id; 503 when the system has no randomness to give (never seen in practice).
pub(crate) fn new_id() -> Result<String, ApiError> {
    let mut bytes: belfry_core::ids::IdBytes = [0; 12];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Store(belfry_core::StoreError::Other(format!("no randomness: {e}"))))?;
    Ok(belfry_core::ids::encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twelve_base32_characters_and_differ() {
        let a = new_id().unwrap();
        let b = new_id().unwrap();
        assert_eq!(a.len(), 12);
        assert!(a.bytes().all(|c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c)), "{a}");
        assert_ne!(a, b);
    }
}

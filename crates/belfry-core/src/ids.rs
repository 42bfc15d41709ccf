//! The shape of the ids Belfry makes (incidents, updates, maintenance windows): 12 characters
//! of lowercase RFC 4648 base32 (60 bits), URL-safe and valid as component-style ids. Callers
//! bring the random bytes; core has no source of randomness.

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Random bytes an id is made from.
pub type IdBytes = [u8; 12];

/// The id spelled by `bytes`.
pub fn encode(bytes: &IdBytes) -> String {
    bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_twelve_base32_characters() {
        let id = super::encode(&[0, 1, 31, 32, 255, 7, 8, 9, 10, 11, 12, 13]);
        assert_eq!(id, "ab7a7hijklmn");
    }
}

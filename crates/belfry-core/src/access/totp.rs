//! The optional second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as authenticator apps
//! expect, with one step of clock skew either side.

use jiff::Timestamp;
use totp_rs::{Algorithm, Builder, Secret};

/// A TOTP seed (the raw bytes); sealed in the vault at rest.
#[derive(Clone)]
pub struct TotpSeed(Vec<u8>);

impl std::fmt::Debug for TotpSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSeed([redacted])")
    }
}

impl TotpSeed {
    /// A new random 160-bit seed.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = vec![0u8; 20];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The seed as authenticator apps take it (RFC 4648 base32, no padding).
    pub fn base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    /// The `otpauth://` URI for a QR code or manual entry.
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
            enc(issuer),
            enc(account),
            self.base32(),
            enc(issuer)
        )
    }

    /// The code an authenticator shows at `at` (tests and enrolment checks).
    pub fn code_at(&self, at: Timestamp) -> String {
        self.totp().map(|t| t.generate(at.as_second().max(0) as u64).to_string()).unwrap_or_default()
    }

    fn totp(&self) -> Option<totp_rs::Totp> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(30)
            .with_secret(self.0.clone())
            .build()
            .ok()
    }
}

/// Whether `code` is the seed's code at `at` (one 30 s step of skew either side).
pub fn totp_code_ok(seed: &TotpSeed, code: &str, at: Timestamp) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    seed.totp().is_some_and(|t| t.check(&code, at.as_second().max(0) as u64).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_6238_vector_and_skew() {
        // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let seed = TotpSeed::from_bytes(b"12345678901234567890".to_vec());
        let at = Timestamp::from_second(59).unwrap();
        assert_eq!(seed.code_at(at), "287082");
        assert!(totp_code_ok(&seed, "287 082", at));
        assert!(totp_code_ok(&seed, "287082", Timestamp::from_second(59 + 30).unwrap()), "one step of skew");
        assert!(!totp_code_ok(&seed, "287082", Timestamp::from_second(59 + 90).unwrap()));
        assert!(!totp_code_ok(&seed, "000000", at));
        assert!(
            seed.uri("Belfry", "alice").starts_with("otpauth://totp/Belfry:alice?secret=GEZDGNBVGY3TQOJQ")
        );
    }
}

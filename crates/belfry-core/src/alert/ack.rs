//! Acknowledge links: every alert message carries a signed, expiring link, so the person paged
//! can stop the escalation from their phone without logging in (principle P1).
//!
//! Token: `<alert id>.<expiry, unix seconds>.<hex HMAC-SHA256 of "<alert id>.<expiry>">`.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    #[error("this acknowledge link is not valid")]
    Invalid,
    #[error("this acknowledge link has expired")]
    Expired,
}

fn mac(key: &[u8], payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(payload.as_bytes());
    mac
}

/// A token acknowledging `alert_id` until `expires`.
pub fn sign(key: &[u8], alert_id: &str, expires: Timestamp) -> String {
    let payload = format!("{alert_id}.{}", expires.as_second());
    let signature = hex::encode(mac(key, &payload).finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// The alert id a token acknowledges, if it is genuine and not expired at `now`.
pub fn verify(key: &[u8], token: &str, now: Timestamp) -> Result<String, AckError> {
    let (payload, signature) = token.rsplit_once('.').ok_or(AckError::Invalid)?;
    let (alert_id, expires) = payload.rsplit_once('.').ok_or(AckError::Invalid)?;
    let signature = hex::decode(signature).map_err(|_| AckError::Invalid)?;
    // Constant-time comparison.
    mac(key, payload).verify_slice(&signature).map_err(|_| AckError::Invalid)?;
    let expires: i64 = expires.parse().map_err(|_| AckError::Invalid)?;
    if now.as_second() >= expires {
        return Err(AckError::Expired);
    }
    Ok(alert_id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genuine_links_work_until_they_expire_and_forgeries_never() {
        let key = b"0123456789abcdef0123456789abcdef";
        let t = |s| Timestamp::from_second(s).unwrap();
        let token = sign(key, "a1b2c3", t(1000));
        assert_eq!(verify(key, &token, t(999)), Ok("a1b2c3".to_owned()));
        assert_eq!(verify(key, &token, t(1000)), Err(AckError::Expired));
        assert_eq!(verify(b"another key", &token, t(0)), Err(AckError::Invalid));
        let forged = token.replace("a1b2c3", "a1b2c4");
        assert_eq!(verify(key, &forged, t(0)), Err(AckError::Invalid));
        let extended = token.replacen(".1000.", ".9999.", 1);
        assert_eq!(verify(key, &extended, t(0)), Err(AckError::Invalid), "the expiry is signed");
        assert_eq!(verify(key, "garbage", t(0)), Err(AckError::Invalid));
    }
}

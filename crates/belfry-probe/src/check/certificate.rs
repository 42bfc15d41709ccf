//! What a presented certificate chain says: validity judged by the webpki verifier, hostname
//! match, expiry, issuer, subject and serial. Recorded as `values["certificate"]` by `http`
//! (https) and `tls` checks.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::{Value, json};
use x509_parser::extensions::GeneralName;

/// The verdict on one chain and the facts read from its leaf.
#[derive(Debug, Clone)]
pub(crate) struct Inspection {
    /// `values["certificate"]`: `subject`, `issuer`, `serial`, `not_before`, `not_after`,
    /// `days_left`, `names`, `self_signed`, `chain_valid`, `chain_error`, `hostname_match`,
    /// `server_name`, `chain_length`.
    pub facts: Value,
    /// Time left until the leaf's notAfter (zero once past); `None` when the leaf is unreadable.
    pub expires_in: Option<Duration>,
    /// Why the chain is not acceptable for the name (untrusted, expired, other name…).
    pub problem: Option<rustls::Error>,
}

impl Inspection {
    /// The problem in words, with a hint for a self-signed leaf.
    pub(crate) fn problem_text(&self) -> Option<String> {
        let problem = self.problem.as_ref()?;
        let mut text = super::tls::tls_reason(problem);
        if self.facts["self_signed"] == Value::Bool(true)
            && matches!(problem, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
        {
            text.push_str(" (the certificate is self-signed)");
        }
        Some(text)
    }
}

pub(crate) fn inspect(
    verifier: &dyn ServerCertVerifier,
    chain: &[CertificateDer<'_>],
    name: &ServerName<'_>,
) -> Inspection {
    let Some((leaf, intermediates)) = chain.split_first() else {
        let problem = rustls::Error::NoCertificatesPresented;
        let facts = json!({"chain_valid": false, "chain_error": problem.to_string(), "chain_length": 0});
        return Inspection { facts, expires_in: None, problem: Some(problem) };
    };
    let problem = verifier.verify_server_cert(leaf, intermediates, name, &[], UnixTime::now()).err();
    // The verifier checks the chain before the name, so a chain error says nothing about the
    // name: check it on its own.
    let hostname_match = rustls::server::ParsedCertificate::try_from(leaf)
        .is_ok_and(|parsed| rustls::client::verify_server_name(&parsed, name).is_ok());

    let mut facts = leaf_facts(leaf).unwrap_or_else(|| json!({"unreadable": true}));
    let expires_in = facts["not_after_unix"].as_i64().map(|not_after| {
        let not_after = UNIX_EPOCH + Duration::from_secs(u64::try_from(not_after).unwrap_or(0));
        not_after.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
    });
    if let Value::Object(map) = &mut facts {
        map.remove("not_after_unix");
        map.insert("chain_valid".into(), Value::Bool(problem.is_none()));
        let chain_error = problem.as_ref().map(|p| {
            let text = super::tls::tls_reason(p);
            text.strip_prefix("invalid peer certificate: ").map(str::to_owned).unwrap_or(text)
        });
        map.insert("chain_error".into(), chain_error.map_or(Value::Null, Value::String));
        map.insert("hostname_match".into(), Value::Bool(hostname_match));
        map.insert("server_name".into(), Value::String(name.to_str().into_owned()));
        map.insert("chain_length".into(), json!(chain.len()));
    }
    Inspection { facts, expires_in, problem }
}

/// The leaf's own facts, plus `not_after_unix` for the caller (removed before recording).
fn leaf_facts(leaf: &CertificateDer<'_>) -> Option<Value> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    let validity = cert.validity();
    let not_after = validity.not_after.timestamp();
    let not_before = validity.not_before.timestamp();
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for general in &san.value.general_names {
            match general {
                GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    Some(json!({
        "self_signed": subject == issuer,
        "subject": subject,
        "issuer": issuer,
        "serial": cert.raw_serial_as_string(),
        "not_before": rfc3339(not_before),
        "not_after": rfc3339(not_after),
        "not_after_unix": not_after,
        // Whole days left, rounded down; negative once expired.
        "days_left": (not_after - now).div_euclid(86_400),
        "names": names,
    }))
}

fn rfc3339(unix: i64) -> Value {
    jiff::Timestamp::from_second(unix).map_or(Value::Null, |t| Value::String(t.to_string()))
}

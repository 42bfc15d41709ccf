//! The `tls` check kind: connect, handshake with SNI, and report what the certificate says
//! (chain validity, hostname match, expiry, issuer, subject, serial). The body is those facts as
//! JSON, so `[BODY].issuer` and `[BODY].days_left` work in conditions.

use std::net::IpAddr;
use std::time::Duration;

use belfry_core::{Observation, TlsCheck};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::tls::{self, TlsConfigs};
use super::{Budget, Reason, add_phase, net};

pub(super) async fn check(spec: &TlsCheck, tls: &TlsConfigs, timeout: Duration) -> Observation {
    let budget = Budget::start(timeout);
    let mut obs = Observation::default();
    let outcome = run(spec, tls, &budget, &mut obs).await;
    budget.finish(obs, outcome)
}

async fn run(
    spec: &TlsCheck,
    tls: &TlsConfigs,
    budget: &Budget,
    obs: &mut Observation,
) -> Result<(), Reason> {
    let name = server_name(&spec.server_name)?;
    let (addrs, dns) = net::resolve(&spec.host, spec.port, budget).await?;
    if let Some(took) = dns {
        add_phase(&mut obs.phases.dns_ms, took);
    }
    let (stream, peer, took) = net::connect(&addrs, budget).await?;
    add_phase(&mut obs.phases.connect_ms, took);
    obs.connected = true;
    obs.ip = Some(peer.ip().to_string());

    let connector = TlsConnector::from(tls.bare_config());
    let handshake =
        async { connector.connect(name.clone(), stream).await.map_err(|e| tls::handshake_reason(&e)) };
    let (stream, took) = budget.phase("TLS handshake", handshake).await?;
    add_phase(&mut obs.phases.tls_ms, took);
    let inspection = tls.inspect(stream.get_ref().1.peer_certificates().unwrap_or_default(), &name);
    obs.certificate_expiration = inspection.expires_in;
    obs.body = Some(inspection.facts.to_string());
    obs.values.insert("certificate".to_owned(), inspection.facts.clone());
    match inspection.problem_text() {
        Some(problem) if spec.verify_tls => {
            let problem = problem.strip_prefix("invalid peer certificate: ").unwrap_or(&problem);
            Err(format!("invalid certificate: {problem}"))
        }
        _ => Ok(()),
    }
}

/// The SNI name: an IP literal (sent without SNI, matched against IP SANs) or a DNS name.
pub(super) fn server_name(raw: &str) -> Result<ServerName<'static>, Reason> {
    let bare = raw.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(raw);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_owned()).map_err(|_| format!("{bare:?} is not a valid TLS server name"))
}

#[cfg(test)]
mod tests;

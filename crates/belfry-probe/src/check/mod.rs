//! Check kinds, one file each: [`http`], [`tcp`], [`dns`], [`tls_kind`] and [`icmp`]; heartbeats
//! are push-based and not run here.
//!
//! A checker never fails: whatever goes wrong becomes an [`Observation`] with `error: Some(reason)`,
//! a reason worded for the person reading the status page (`connection refused (127.0.0.1:9)`,
//! `timed out after 10s during connect`).

mod certificate;
pub mod dns;
mod http;
pub mod icmp;
mod net;
mod tcp;
mod tls;
mod tls_kind;

use std::future::Future;
use std::time::Duration;

use belfry_core::{CheckSpec, Observation};
use rustls::pki_types::CertificateDer;
use tokio::time::Instant;

/// Runs checks; built once and shared (holds the TLS client configs).
#[derive(Debug, Clone)]
pub struct Checkers {
    tls: tls::TlsConfigs,
}

impl Checkers {
    /// Checkers trusting the Mozilla roots (webpki-roots). Installs nothing process-wide:
    /// the ring crypto provider is given to each TLS config explicitly.
    pub fn new() -> Self {
        Self::with_extra_roots(Vec::new())
    }

    /// Checkers that also trust `roots` (a private CA). Certificates that cannot be parsed as
    /// trust anchors are skipped with a warning.
    pub fn with_extra_roots(roots: Vec<CertificateDer<'static>>) -> Self {
        Self { tls: tls::TlsConfigs::new(roots) }
    }

    /// Runs one check with an overall `timeout`; the reason of a failure is in `error`.
    pub async fn run(&self, spec: &CheckSpec, timeout: Duration) -> Observation {
        match spec {
            CheckSpec::Http(http) => http::check(http, &self.tls, timeout).await,
            CheckSpec::Tcp(tcp) => tcp::check(tcp, timeout).await,
            CheckSpec::Dns(dns) => dns::check(dns, timeout).await,
            CheckSpec::Tls(spec) => tls_kind::check(spec, &self.tls, timeout).await,
            CheckSpec::Icmp(icmp) => icmp::check(icmp, timeout).await,
            CheckSpec::Heartbeat(_) => Observation {
                error: Some("heartbeat monitors are push-based".to_owned()),
                ..Observation::default()
            },
        }
    }
}

impl Default for Checkers {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a check stopped: the human reason that ends up in `Observation::error`.
type Reason = String;

/// The time budget of one check: phases run against one deadline and a phase that runs out of
/// time is named in the reason.
pub(crate) struct Budget {
    start: Instant,
    deadline: Instant,
    timeout: Duration,
}

impl Budget {
    pub(crate) fn start(timeout: Duration) -> Self {
        let start = Instant::now();
        Self { start, deadline: start + timeout, timeout }
    }

    /// Runs `phase` within what is left of the budget; returns its value and how long it took.
    pub(crate) async fn phase<T>(
        &self,
        name: &str,
        phase: impl Future<Output = Result<T, Reason>>,
    ) -> Result<(T, Duration), Reason> {
        let began = Instant::now();
        match tokio::time::timeout_at(self.deadline, phase).await {
            Ok(Ok(value)) => Ok((value, began.elapsed())),
            Ok(Err(reason)) => Err(reason),
            Err(_) => Err(self.timed_out(name)),
        }
    }

    pub(crate) fn timed_out(&self, phase: &str) -> Reason {
        format!("timed out after {} during {phase}", human_duration(self.timeout))
    }

    /// Stamps the total duration and the outcome on `obs`.
    pub(crate) fn finish(&self, mut obs: Observation, outcome: Result<(), Reason>) -> Observation {
        let total = self.start.elapsed();
        obs.duration_ms = u64::try_from(total.as_millis()).unwrap_or(u64::MAX);
        obs.phases.total_ms = Some(millis(total));
        obs.error = outcome.err();
        obs
    }
}

/// A duration in (fractional) milliseconds, as phases record them.
pub(crate) fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Adds `d` to a phase slot (phases of a redirect chain add up).
pub(crate) fn add_phase(slot: &mut Option<f64>, d: Duration) {
    *slot = Some(slot.unwrap_or(0.0) + millis(d));
}

/// `10s`, `1.5s`, `250ms`: how a timeout is written in reasons.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// An error with its causes, `outer: inner: innermost`, skipping causes already in the text.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Bytes as text for `body`: invalid UTF-8 is replaced, and a character cut in half by a size
/// cap at the very end is dropped rather than shown as a replacement character.
pub(crate) fn body_text(mut bytes: Vec<u8>, truncated: bool) -> String {
    if truncated
        && let Err(e) = std::str::from_utf8(&bytes)
        && e.error_len().is_none()
    {
        let valid = e.valid_up_to();
        bytes.truncate(valid);
    }
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

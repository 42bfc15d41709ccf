//! Check kinds (what to probe) and check results (what was seen).
//! A failed check is data (`ok: false` with a reason), never an `Err`.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::monitor::MonitorId;

/// The closed set of check kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Http,
    Tcp,
    Dns,
    Tls,
    Icmp,
    Heartbeat,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Tcp => "tcp",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Icmp => "icmp",
            Self::Heartbeat => "heartbeat",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckSpec {
    Http(HttpCheck),
    Tcp(TcpCheck),
    Dns(DnsCheck),
    Tls(TlsCheck),
    Icmp(IcmpCheck),
    Heartbeat(HeartbeatCheck),
}

impl CheckSpec {
    pub fn kind(&self) -> CheckKind {
        match self {
            Self::Http(_) => CheckKind::Http,
            Self::Tcp(_) => CheckKind::Tcp,
            Self::Dns(_) => CheckKind::Dns,
            Self::Tls(_) => CheckKind::Tls,
            Self::Icmp(_) => CheckKind::Icmp,
            Self::Heartbeat(_) => CheckKind::Heartbeat,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpCheck {
    /// An absolute `http://` or `https://` URL (validated by the config loader).
    pub url: String,
    /// Upper-case HTTP method, `GET` by default.
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub follow_redirects: bool,
    /// Redirects followed at most (when `follow_redirects`).
    pub max_redirects: u8,
    pub verify_tls: bool,
    /// Largest body accepted: a longer one fails the check (reading stops past the cap).
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TcpCheck {
    pub host: String,
    pub port: u16,
    /// Sent after connecting.
    pub send: Option<String>,
    /// Must appear in what the peer sends back (read until found, EOF, cap or timeout).
    pub expect: Option<String>,
}

/// Record types a `dns` check can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DnsRecordType {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Ns,
    Soa,
    Caa,
    Srv,
}

impl DnsRecordType {
    pub const ALL: [Self; 9] =
        [Self::A, Self::Aaaa, Self::Cname, Self::Mx, Self::Txt, Self::Ns, Self::Soa, Self::Caa, Self::Srv];

    /// As written in zone files and configs: `A`, `AAAA`, `MX`…
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Cname => "CNAME",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Ns => "NS",
            Self::Soa => "SOA",
            Self::Caa => "CAA",
            Self::Srv => "SRV",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DnsCheck {
    /// The name asked for (absolute; a trailing dot is optional).
    pub name: String,
    pub record_type: DnsRecordType,
    /// Servers asked directly; empty: the system resolvers (`nameserver` lines of
    /// `/etc/resolv.conf`).
    pub servers: Vec<DnsServer>,
    /// How many of the servers asked must pass; `None`: all of them.
    pub quorum: Option<usize>,
    /// Also find the zone's nameservers (NS records, asked of `servers`) and ask each directly.
    pub find_authoritative: bool,
    /// Port the nameservers found by `find_authoritative` are asked on (53).
    pub authoritative_port: u16,
    /// When not empty, each server's answer set must equal this set.
    pub expect: Vec<String>,
    /// The monitor's conditions, applied to each server's answer on its own (filled in by the
    /// config loader from the monitor's `conditions`).
    pub server_conditions: Vec<crate::Condition>,
}

/// A DNS server as configured: `host:port` (port 53 when left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsServer {
    /// An IP address or a host name resolved at check time.
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for DnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TlsCheck {
    pub host: String,
    pub port: u16,
    /// The name sent as SNI and checked against the certificate (the host by default).
    pub server_name: String,
    /// An invalid chain or a name mismatch fails the check (the facts are recorded either way).
    pub verify_tls: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IcmpCheck {
    /// An IP address or a host name resolved at check time.
    pub host: String,
    /// Echo requests sent per check.
    pub count: u32,
    /// Pause between two echo requests.
    pub packet_interval: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeartbeatCheck {
    /// Secret path segment of `/api/v1/push/{token}`.
    pub token: String,
    /// Pings are expected at least this often.
    pub expect_every: Duration,
    /// Extra slack after `expect_every` before the monitor fails.
    pub grace: Duration,
}

/// Per-phase timings in milliseconds; a phase that did not happen is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<f64>,
}

/// What a checker saw, before conditions are applied. Conditions read these values.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// A connection (or, for heartbeats, a ping in time) was established.
    pub connected: bool,
    pub status: Option<u16>,
    /// Response body (capped), or what a TCP peer sent.
    pub body: Option<String>,
    pub ip: Option<String>,
    pub certificate_expiration: Option<Duration>,
    pub dns_rcode: Option<String>,
    pub phases: Phases,
    /// Whole check duration in milliseconds (`[RESPONSE_TIME]`).
    pub duration_ms: u64,
    /// Why the check failed regardless of conditions (refused, timeout, TLS error, a body over
    /// `max_body_bytes`, a crashed check…).
    pub error: Option<String>,
    /// Kind-specific facts worth recording (per-server DNS answers, certificate issuer, ping
    /// loss…), copied into the result.
    pub values: Values,
}

/// Named kind-specific facts of a check, e.g. `{"certificate": {"issuer": …}}`.
pub type Values = std::collections::BTreeMap<String, serde_json::Value>;

/// One condition's verdict, worded like Gatus: `resolved` is `"[STATUS] (503) == 200"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionResult {
    pub condition: String,
    pub ok: bool,
    pub resolved: String,
}

/// The recorded outcome of one check of one monitor from one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub monitor: MonitorId,
    /// `local` for checks run by the server itself.
    pub region: String,
    /// When the check started (UTC).
    pub at: Timestamp,
    pub ok: bool,
    /// Passed, but a `degraded_when` condition held.
    #[serde(default)]
    pub degraded: bool,
    /// The connectivity guard failed: this result says nothing about the target.
    #[serde(default)]
    pub inconclusive: bool,
    pub duration_ms: u64,
    #[serde(default)]
    pub phases: Phases,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub conditions: Vec<ConditionResult>,
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub values: Values,
}

impl CheckResult {
    /// Applies `conditions` (all must hold) and `degraded_when` (any) to what a checker saw.
    /// A check with an error fails whatever its conditions say.
    pub fn judge(
        monitor: MonitorId,
        region: &str,
        at: Timestamp,
        obs: &Observation,
        conditions: &[crate::Condition],
        degraded_when: &[crate::Condition],
    ) -> Self {
        let verdicts: Vec<ConditionResult> = conditions.iter().map(|c| c.evaluate(obs)).collect();
        let ok = obs.error.is_none() && verdicts.iter().all(|v| v.ok);
        let degraded = ok && degraded_when.iter().any(|c| c.evaluate(obs).ok);
        Self {
            monitor,
            region: region.to_owned(),
            at,
            ok,
            degraded,
            inconclusive: false,
            duration_ms: obs.duration_ms,
            phases: obs.phases.clone(),
            status: obs.status,
            ip: obs.ip.clone(),
            error: obs.error.clone(),
            conditions: verdicts,
            values: obs.values.clone(),
        }
    }
}

//! The `dns` check kind: ask each server for one name and type, directly (our own client over
//! UDP, TCP when truncated), and report every server on its own in `values["servers"]`.
//!
//! A server passes when it answered (no timeout, refusal or network error), the monitor's
//! conditions hold for its answer, and its answer set equals `expect` when given. The check
//! passes when at least `quorum` servers pass (all by default); its `[DNS_RCODE]`, `[BODY]` and
//! `[IP]` are those of the first passing server, or of the first failing one when it fails, and
//! its error names each failing server and why.

mod answer;
mod authoritative;
mod exchange;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use belfry_core::{DnsCheck, Observation};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Budget, millis};

/// Where the system's resolvers are listed.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Checks that `name` is a valid absolute DNS name; the reason says what is wrong.
pub fn validate_name(name: &str) -> Result<(), String> {
    parse_name(name).map(|_| ())
}

fn parse_name(name: &str) -> Result<Name, String> {
    let mut parsed =
        Name::from_utf8(name.trim()).map_err(|e| format!("{name:?} is not a valid DNS name: {e}"))?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

/// The nameservers of a resolv.conf text (`nameserver` lines), port 53. Link-local IPv6
/// addresses with a zone (`fe80::1%eth0`) are skipped.
pub(crate) fn system_servers(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next()).flatten()
        })
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// A server to ask, as it will be reported.
#[derive(Debug, Clone)]
struct Target {
    /// `127.0.0.1:53` or the `host:port` as configured.
    label: String,
    addr: Result<SocketAddr, String>,
    /// `configured`, `system` or `authoritative`.
    role: &'static str,
    /// The NS name, for servers found by `find_authoritative`.
    nameserver: Option<String>,
}

/// What one server said, judged.
struct Report {
    target: Target,
    obs: Observation,
    json: Value,
    /// Why the server failed; `None` when it passed.
    failure: Option<String>,
}

pub(super) async fn check(spec: &DnsCheck, timeout: Duration) -> Observation {
    let budget = Budget::start(timeout);
    let mut obs = Observation::default();
    let outcome = run(spec, &budget, &mut obs).await;
    let duration_ms = obs.duration_ms;
    let mut obs = budget.finish(obs, outcome);
    // A check that asked nobody keeps the total; otherwise `[RESPONSE_TIME]` is the slowest
    // server's (they are asked at once, so this is about the total anyway).
    if duration_ms > 0 {
        obs.duration_ms = duration_ms;
    }
    obs
}

async fn run(spec: &DnsCheck, budget: &Budget, obs: &mut Observation) -> Result<(), String> {
    let name = parse_name(&spec.name)?;
    let rtype = record_type(spec.record_type);
    obs.values
        .insert("query".to_owned(), json!({"name": name.to_string(), "type": spec.record_type.as_str()}));

    let mut targets = configured(spec).await;
    if targets.is_empty() {
        return Err(format!("no DNS servers to ask: {RESOLV_CONF} lists no nameserver"));
    }
    let mut discovery_error = None;
    if spec.find_authoritative {
        let resolvers: Vec<SocketAddr> = targets.iter().filter_map(|t| t.addr.clone().ok()).collect();
        match authoritative::find(&name, &resolvers, budget.deadline).await {
            Ok(found) => {
                let names: Vec<String> = found.nameservers.iter().map(|(ns, _)| ns.to_string()).collect();
                obs.values.insert("zone".to_owned(), json!(found.zone.to_string()));
                obs.values.insert("nameservers".to_owned(), json!(names));
                add_authoritative(&mut targets, found, spec.authoritative_port);
            }
            Err(reason) => discovery_error = Some(reason),
        }
    }

    let reports = ask_all(spec, &name, rtype, &targets, budget).await;
    let servers: Vec<Value> = reports.iter().map(|r| r.json.clone()).collect();
    obs.values.insert("servers".to_owned(), Value::Array(servers));

    let total = reports.len();
    let required = spec.quorum.unwrap_or(total).min(total);
    let failed: Vec<&Report> = reports.iter().filter(|r| r.failure.is_some()).collect();
    let passed = total - failed.len();
    obs.values.insert("quorum".to_owned(), json!({"required": required, "passed": passed, "total": total}));
    let Some(shown) =
        reports.iter().find(|r| r.failure.is_none() == (passed >= required)).or(reports.first())
    else {
        return Err("no DNS server could be asked".to_owned());
    };
    obs.connected = reports.iter().any(|r| r.obs.connected);
    obs.ip = shown.obs.ip.clone();
    obs.dns_rcode = shown.obs.dns_rcode.clone();
    obs.body = shown.obs.body.clone();
    obs.duration_ms = reports.iter().map(|r| r.obs.duration_ms).max().unwrap_or(0).max(1);

    if let Some(reason) = discovery_error {
        return Err(reason);
    }
    if passed >= required {
        return Ok(());
    }
    let why: Vec<String> = failed
        .iter()
        .map(|r| format!("{}: {}", r.target.label, r.failure.as_deref().unwrap_or("")))
        .collect();
    if total == 1 {
        return Err(why.join(""));
    }
    Err(format!("{} of {total} DNS servers failed ({required} must pass): {}", failed.len(), why.join("; ")))
}

/// The configured servers (host names resolved now), or the system's when none are.
async fn configured(spec: &DnsCheck) -> Vec<Target> {
    if spec.servers.is_empty() {
        let text = std::fs::read_to_string(RESOLV_CONF).unwrap_or_default();
        return system_servers(&text)
            .into_iter()
            .map(|addr| Target { label: addr.to_string(), addr: Ok(addr), role: "system", nameserver: None })
            .collect();
    }
    let mut targets = Vec::new();
    for server in &spec.servers {
        let host = server.host.trim_start_matches('[').trim_end_matches(']');
        let addr = match host.parse::<IpAddr>() {
            Ok(ip) => Ok(SocketAddr::new(ip, server.port)),
            Err(_) => match tokio::net::lookup_host((host, server.port)).await {
                Ok(mut found) => found.next().ok_or_else(|| format!("no address for {host}")),
                Err(e) => Err(format!("cannot resolve {host}: {e}")),
            },
        };
        targets.push(Target { label: server.to_string(), addr, role: "configured", nameserver: None });
    }
    targets
}

/// Adds the nameservers found, each address a server of its own; an address already asked
/// (a configured server) is not asked twice, but its report names the nameserver.
fn add_authoritative(targets: &mut Vec<Target>, found: authoritative::Found, port: u16) {
    for (ns, addrs) in found.nameservers {
        let ns_text = ns.to_string();
        if addrs.is_empty() {
            targets.push(Target {
                label: ns_text.clone(),
                addr: Err(format!("no address found for nameserver {ns_text}")),
                role: "authoritative",
                nameserver: Some(ns_text),
            });
            continue;
        }
        for ip in addrs {
            let addr = SocketAddr::new(ip, port);
            if let Some(existing) = targets.iter_mut().find(|t| t.addr.as_ref().ok() == Some(&addr)) {
                existing.nameserver.get_or_insert_with(|| ns_text.clone());
                continue;
            }
            targets.push(Target {
                label: format!("{addr} ({ns_text})"),
                addr: Ok(addr),
                role: "authoritative",
                nameserver: Some(ns_text.clone()),
            });
        }
    }
}

/// Asks every target at once; reports come back in the targets' order.
async fn ask_all(
    spec: &DnsCheck,
    name: &Name,
    rtype: RecordType,
    targets: &[Target],
    budget: &Budget,
) -> Vec<Report> {
    let mut tasks = tokio::task::JoinSet::new();
    let (deadline, timeout) = (budget.deadline, budget.timeout);
    for (i, target) in targets.iter().enumerate() {
        let (spec, name, target) = (spec.clone(), name.clone(), target.clone());
        tasks.spawn(async move { (i, ask(&spec, &name, rtype, target, deadline, timeout).await) });
    }
    let mut reports: Vec<Option<Report>> = targets.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, report)) = joined {
            reports[i] = Some(report);
        }
    }
    reports.into_iter().flatten().collect()
}

async fn ask(
    spec: &DnsCheck,
    name: &Name,
    rtype: RecordType,
    target: Target,
    deadline: Instant,
    timeout: Duration,
) -> Report {
    let began = Instant::now();
    let mut obs = Observation::default();
    let mut json = json!({
        "server": target.label,
        "role": target.role,
        "nameserver": target.nameserver,
    });
    let addr = match &target.addr {
        Ok(addr) => *addr,
        Err(reason) => {
            json["outcome"] = json!("error");
            json["error"] = json!(reason);
            json["ok"] = json!(false);
            let failure = Some(reason.clone());
            return Report { target, obs, json, failure };
        }
    };
    obs.ip = Some(addr.ip().to_string());
    let query = exchange::query(name, rtype, target.role != "authoritative");
    let result = exchange::exchange(addr, &query, deadline).await;
    let took = began.elapsed();
    obs.duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX).max(1);
    json["duration_ms"] = json!(millis(took));

    let (outcome, mut failure) = match result {
        Err(failure) => {
            let reason = if failure.outcome == "timeout" {
                format!("timed out after {} waiting for an answer", super::human_duration(timeout))
            } else {
                failure.reason
            };
            obs.error = Some(reason.clone());
            json["error"] = json!(reason);
            (failure.outcome, Some(reason))
        }
        Ok(got) => {
            let message = got.message;
            obs.connected = true;
            let code = message.metadata.response_code;
            obs.dns_rcode = Some(answer::rcode_text(code));
            let shown = answer::shown(&message.answers, rtype);
            let values: Vec<String> = shown.iter().map(|r| answer::value_text(r)).collect();
            obs.body = Some(answer::body(&values));
            json["transport"] = json!(got.transport);
            json["rcode"] = json!(obs.dns_rcode);
            json["aa"] = json!(message.metadata.authoritative);
            json["answers"] = Value::Array(message.answers.iter().map(answer::record_json).collect());
            let outcome = match code {
                ResponseCode::NoError if message.answers.is_empty() => "nodata",
                ResponseCode::NoError => "answer",
                ResponseCode::NXDomain => "nxdomain",
                ResponseCode::ServFail => "servfail",
                ResponseCode::Refused => "refused",
                _ => "rcode",
            };
            let mismatch =
                (!spec.expect.is_empty()).then(|| answer::expect_mismatch(&spec.expect, &shown)).flatten();
            (outcome, mismatch)
        }
    };
    json["outcome"] = json!(outcome);

    let verdicts: Vec<_> = spec.server_conditions.iter().map(|c| c.evaluate(&obs)).collect();
    let failed_conditions: Vec<&str> =
        verdicts.iter().filter(|v| !v.ok).map(|v| v.resolved.as_str()).collect();
    if failure.is_none() && !failed_conditions.is_empty() {
        // An rcode or an empty answer says more than the condition that caught it.
        failure = Some(
            describe(outcome, name, rtype, obs.dns_rcode.as_deref())
                .unwrap_or_else(|| failed_conditions.join("; ")),
        );
    }
    json["conditions"] = serde_json::to_value(&verdicts).unwrap_or(Value::Null);
    json["ok"] = json!(failure.is_none());
    json["reason"] = json!(failure);
    Report { target, obs, json, failure }
}

/// NXDOMAIN, NODATA, SERVFAIL and REFUSED in words; `None` for an ordinary answer.
fn describe(outcome: &str, name: &Name, rtype: RecordType, rcode: Option<&str>) -> Option<String> {
    Some(match outcome {
        "nxdomain" => format!("NXDOMAIN: {name} does not exist"),
        "nodata" => format!("NODATA: {name} has no {rtype} record (NOERROR with an empty answer)"),
        "servfail" => "SERVFAIL: the server could not answer".to_owned(),
        "refused" => "REFUSED: the server refused the query".to_owned(),
        "rcode" => format!("{}: the server answered with an error", rcode.unwrap_or("?")),
        _ => return None,
    })
}

fn record_type(t: belfry_core::DnsRecordType) -> RecordType {
    use belfry_core::DnsRecordType as T;
    match t {
        T::A => RecordType::A,
        T::Aaaa => RecordType::AAAA,
        T::Cname => RecordType::CNAME,
        T::Mx => RecordType::MX,
        T::Txt => RecordType::TXT,
        T::Ns => RecordType::NS,
        T::Soa => RecordType::SOA,
        T::Caa => RecordType::CAA,
        T::Srv => RecordType::SRV,
    }
}

#[cfg(test)]
mod tests;

//! The `icmp` check kind: `count` echo requests `packet_interval` apart, reporting loss and
//! round-trip times in `values["ping"]` (also the body, as JSON, for `[BODY].loss_percent`).
//! `[RESPONSE_TIME]` is the average round trip; the check fails when no reply comes back.
//!
//! Unprivileged ICMP datagram sockets are used when `net.ipv4.ping_group_range` admits the
//! process's group, raw sockets (CAP_NET_RAW) otherwise; [`permitted`] tells, at config time,
//! whether either is open to this process.

use std::time::Duration;

use belfry_core::{IcmpCheck, Observation};
use serde_json::json;
use socket2::{Domain, Protocol, Socket, Type};
use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};
use tokio::time::Instant;

use super::{Budget, Reason, add_phase, millis, net};

/// Bytes of payload in each echo request (as `ping` sends by default).
const PAYLOAD: [u8; 56] = [0; 56];

/// Whether this process may send pings: `Ok` when an unprivileged ICMP socket or a raw socket
/// can be opened; otherwise what to change, for `belfry validate` to print.
pub fn permitted() -> Result<(), String> {
    let dgram = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4));
    if dgram.is_ok() {
        return Ok(());
    }
    if Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).is_ok() {
        return Ok(());
    }
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").ok();
    let gid = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").ok().map(|m| m.gid())
    };
    Err(not_permitted_message(range.as_deref(), gid))
}

/// The wording of [`permitted`]'s refusal.
pub(crate) fn not_permitted_message(range: Option<&str>, gid: Option<u32>) -> String {
    let range = range.map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "));
    let why = match (range, gid) {
        (Some(range), Some(gid)) => {
            format!(
                "net.ipv4.ping_group_range is \"{range}\", which does not include this process's group {gid}"
            )
        }
        (Some(range), None) => format!("net.ipv4.ping_group_range is \"{range}\""),
        _ => "unprivileged ICMP sockets are not available".to_owned(),
    };
    format!(
        "this process may not send pings: {why}, and raw sockets need CAP_NET_RAW; allow unprivileged \
         pings with `sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"` (persist it in /etc/sysctl.d/) or \
         grant the capability with `setcap cap_net_raw+ep $(command -v belfry)`"
    )
}

pub(super) async fn check(spec: &IcmpCheck, timeout: Duration) -> Observation {
    let budget = Budget::start(timeout);
    let mut obs = Observation::default();
    let outcome = run(spec, &budget, &mut obs).await;
    let average = obs.duration_ms;
    let mut obs = budget.finish(obs, outcome);
    if average > 0 {
        obs.duration_ms = average;
    }
    obs
}

async fn run(spec: &IcmpCheck, budget: &Budget, obs: &mut Observation) -> Result<(), Reason> {
    let (addrs, dns) = net::resolve(&spec.host, 0, budget).await?;
    if let Some(took) = dns {
        add_phase(&mut obs.phases.dns_ms, took);
    }
    let ip = addrs.first().map(|a| a.ip()).ok_or_else(|| format!("no address for {}", spec.host))?;
    obs.ip = Some(ip.to_string());

    let kind = if ip.is_ipv4() { ICMP::V4 } else { ICMP::V6 };
    let config = Config::builder().kind(kind).sock_type_hint(Type::DGRAM).build();
    let client = Client::new(&config).map_err(|e| {
        let hint = permitted().err().unwrap_or_else(|| "check the system's ICMP settings".to_owned());
        format!("cannot open an ICMP socket: {e}; {hint}")
    })?;
    let ident = PingIdentifier(getrandom::u32().map_or(0x6265, |n| n as u16));
    let mut pinger = client.pinger(ip, ident).await;

    let mut rtts: Vec<Duration> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut sent = 0u32;
    for seq in 0..spec.count {
        let left = budget.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if seq > 0 {
            let pause = spec.packet_interval.min(left);
            tokio::time::sleep(pause).await;
        }
        let left = budget.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        pinger.timeout(left);
        sent += 1;
        match pinger.ping(PingSequence(seq as u16), &PAYLOAD).await {
            Ok((_, rtt)) => rtts.push(rtt),
            Err(SurgeError::Timeout { .. }) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }

    let lost = spec.count - rtts.len() as u32;
    let loss_percent = f64::from(lost) * 100.0 / f64::from(spec.count.max(1));
    let (min, max) = (rtts.iter().min().copied(), rtts.iter().max().copied());
    let avg = (!rtts.is_empty()).then(|| rtts.iter().sum::<Duration>() / rtts.len() as u32);
    let ping = json!({
        "host": spec.host,
        "ip": ip.to_string(),
        "sent": sent,
        "received": rtts.len(),
        "loss_percent": loss_percent,
        "rtt_min_ms": min.map(millis),
        "rtt_avg_ms": avg.map(millis),
        "rtt_max_ms": max.map(millis),
    });
    obs.body = Some(ping.to_string());
    obs.values.insert("ping".to_owned(), ping);
    obs.connected = !rtts.is_empty();
    if let Some(avg) = avg {
        obs.duration_ms = u64::try_from(avg.as_millis()).unwrap_or(u64::MAX).max(1);
        obs.phases.first_byte_ms = min.map(millis);
        return Ok(());
    }
    let mut reason = format!("no echo reply from {ip}: {lost} of {} packets lost", spec.count);
    if let Some(first) = errors.first() {
        reason.push_str(&format!(" ({first})"));
    }
    Err(reason)
}

#[cfg(test)]
mod tests;

/// Only for the tests: whether pings can be sent here, and if not, why.
#[cfg(test)]
pub(crate) fn skip_reason() -> Option<String> {
    permitted().err()
}

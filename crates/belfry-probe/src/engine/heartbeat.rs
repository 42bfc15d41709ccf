//! Heartbeat (push) monitors: pings arrive on the web route; the engine turns pings and their
//! absence into observations.

use std::time::Duration;

use belfry_core::Observation;
use belfry_core::check::HeartbeatCheck;
use jiff::Timestamp;

/// The last ping a heartbeat monitor received.
#[derive(Debug, Clone)]
pub struct Ping {
    pub at: Timestamp,
    /// `Some(message)` when the pinger reported itself down (`?status=down&msg=…`).
    pub down: Option<String>,
}

/// What a ping itself shows.
pub fn observe_ping(ping: &Ping) -> Observation {
    Observation { connected: true, error: ping.down.clone().map(|m| reported_down(&m)), ..Default::default() }
}

/// Whether the monitor is in time at `now`. Without any ping yet, time counts from `watching_since`
/// (the start of monitoring), so a fresh start gives the pinger one full period.
pub fn observe_expiry(
    spec: &HeartbeatCheck,
    last: Option<&Ping>,
    watching_since: Timestamp,
    now: Timestamp,
) -> Observation {
    let deadline = spec.expect_every + spec.grace;
    let since = last.map_or(watching_since, |p| p.at);
    let quiet: Duration = now.duration_since(since).try_into().unwrap_or(Duration::ZERO);
    if quiet > deadline {
        let what = if last.is_some() { "no ping" } else { "no ping yet" };
        return Observation {
            connected: false,
            error: Some(format!(
                "{what} for {} (expected every {} + {} grace)",
                human(quiet),
                human(spec.expect_every),
                human(spec.grace)
            )),
            ..Default::default()
        };
    }
    match last {
        Some(ping) => observe_ping(ping),
        None => Observation { connected: true, ..Default::default() },
    }
}

fn reported_down(message: &str) -> String {
    if message.is_empty() { "reported down".to_owned() } else { format!("reported down: {message}") }
}

/// `1h 5m 3s` style, whole seconds.
pub fn human(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return format!("{}ms", d.as_millis());
    }
    let mut out = Vec::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push(format!("{}{unit}", s / len));
            s %= len;
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> HeartbeatCheck {
        HeartbeatCheck {
            token: "t".repeat(16),
            expect_every: Duration::from_secs(60),
            grace: Duration::from_secs(30),
        }
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn in_time_until_expect_every_plus_grace() {
        let ping = Ping { at: at(100), down: None };
        assert!(observe_expiry(&spec(), Some(&ping), at(0), at(190)).error.is_none());
        let late = observe_expiry(&spec(), Some(&ping), at(0), at(191));
        assert_eq!(late.error.as_deref(), Some("no ping for 1m 31s (expected every 1m + 30s grace)"));
    }

    #[test]
    fn a_down_report_keeps_failing_until_a_good_ping() {
        let ping = Ping { at: at(100), down: Some("disk full".into()) };
        let obs = observe_expiry(&spec(), Some(&ping), at(0), at(110));
        assert_eq!(obs.error.as_deref(), Some("reported down: disk full"));
    }

    #[test]
    fn without_pings_time_counts_from_the_start() {
        assert!(observe_expiry(&spec(), None, at(0), at(90)).error.is_none());
        assert!(observe_expiry(&spec(), None, at(0), at(91)).error.unwrap().starts_with("no ping yet"));
    }
}

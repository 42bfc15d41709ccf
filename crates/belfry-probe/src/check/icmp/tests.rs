use std::time::Duration;

use belfry_core::{CheckSpec, Condition, IcmpCheck};

use super::{not_permitted_message, skip_reason};
use crate::check::Checkers;

fn spec(host: &str) -> IcmpCheck {
    IcmpCheck { host: host.to_owned(), count: 3, packet_interval: Duration::from_millis(20) }
}

#[tokio::test]
async fn loopback_answers_every_echo() {
    if let Some(reason) = skip_reason() {
        println!("skipped: {reason}");
        return;
    }

    let obs = Checkers::new().run(&CheckSpec::Icmp(spec("127.0.0.1")), Duration::from_secs(5)).await;

    assert_eq!(obs.error, None);
    assert!(obs.connected);
    assert_eq!(obs.ip.as_deref(), Some("127.0.0.1"));
    let ping = &obs.values["ping"];
    assert_eq!(ping["sent"], 3);
    assert_eq!(ping["received"], 3);
    assert_eq!(ping["loss_percent"], 0.0);
    let (min, avg, max) = (
        ping["rtt_min_ms"].as_f64().unwrap(),
        ping["rtt_avg_ms"].as_f64().unwrap(),
        ping["rtt_max_ms"].as_f64().unwrap(),
    );
    assert!(min <= avg && avg <= max, "{ping}");
    assert!(obs.duration_ms >= 1, "[RESPONSE_TIME] is the average, at least 1 ms");
    assert!(Condition::parse("[BODY].loss_percent < 1").unwrap().evaluate(&obs).ok);
    assert!(Condition::parse("[BODY].received == 3").unwrap().evaluate(&obs).ok);
    assert!(Condition::parse("[CONNECTED] == true").unwrap().evaluate(&obs).ok);
}

#[tokio::test]
async fn an_address_that_never_answers_is_total_loss() {
    if let Some(reason) = skip_reason() {
        println!("skipped: {reason}");
        return;
    }
    // TEST-NET-3 (RFC 5737): documentation addresses that no host should answer for.
    let mut never = spec("203.0.113.1");
    never.count = 2;

    let obs = Checkers::new().run(&CheckSpec::Icmp(never), Duration::from_millis(600)).await;

    let Some(error) = obs.error else {
        println!("skipped: something on this network answers pings for 203.0.113.1");
        return;
    };
    assert!(error.starts_with("no echo reply from 203.0.113.1: 2 of 2 packets lost"), "{error}");
    assert!(!obs.connected);
    assert_eq!(obs.values["ping"]["loss_percent"], 100.0);
    assert_eq!(obs.values["ping"]["received"], 0);
}

#[test]
fn the_refusal_says_what_to_change() {
    let message = not_permitted_message(Some("1\t0\n"), Some(1000));
    assert_eq!(
        message,
        "this process may not send pings: net.ipv4.ping_group_range is \"1 0\", which does not include this \
         process's group 1000, and raw sockets need CAP_NET_RAW; allow unprivileged pings with \
         `sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"` (persist it in /etc/sysctl.d/) or grant the \
         capability with `setcap cap_net_raw+ep $(command -v belfry)`"
    );
}

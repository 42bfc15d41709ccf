//! Pure parts and the failures that need no server. Answers from a real server (Knot) are tested
//! end to end in `crates/belfry/tests/it/dns.rs`.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use belfry_core::{CheckSpec, Condition, DnsCheck, DnsRecordType, DnsServer};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, MX, TXT};
use hickory_proto::rr::{Name, RData, Record};

use super::answer::{body, expect_mismatch, rcode_text, value_text};
use super::{system_servers, validate_name};
use crate::check::Checkers;

fn spec(servers: &[String]) -> DnsCheck {
    DnsCheck {
        name: "www.example.test".to_owned(),
        record_type: DnsRecordType::A,
        servers: servers
            .iter()
            .map(|s| {
                let (host, port) = s.rsplit_once(':').unwrap();
                DnsServer { host: host.to_owned(), port: port.parse().unwrap() }
            })
            .collect(),
        quorum: None,
        find_authoritative: false,
        authoritative_port: 53,
        expect: Vec::new(),
        server_conditions: vec![Condition::parse("[DNS_RCODE] == NOERROR").unwrap()],
    }
}

fn record(data: RData) -> Record {
    Record::from_rdata(Name::from_ascii("www.example.test.").unwrap(), 300, data)
}

#[test]
fn response_codes_read_as_dns_tools_print_them() {
    assert_eq!(rcode_text(ResponseCode::NoError), "NOERROR");
    assert_eq!(rcode_text(ResponseCode::NXDomain), "NXDOMAIN");
    assert_eq!(rcode_text(ResponseCode::ServFail), "SERVFAIL");
    assert_eq!(rcode_text(ResponseCode::Refused), "REFUSED");
    assert_eq!(rcode_text(ResponseCode::Unknown(3000)), "RCODE3000");
}

#[test]
fn body_is_one_value_or_a_json_array() {
    assert_eq!(body(&[]), "");
    assert_eq!(body(&["192.0.2.1".to_owned()]), "192.0.2.1");
    assert_eq!(body(&["192.0.2.1".to_owned(), "192.0.2.2".to_owned()]), r#"["192.0.2.1","192.0.2.2"]"#);
}

#[test]
fn values_are_shown_as_gatus_shows_them() {
    let mx = record(RData::MX(MX::new(10, Name::from_ascii("mail.example.test.").unwrap())));
    assert_eq!(value_text(&mx), "mail.example.test.");
    let txt = record(RData::TXT(TXT::new(vec!["v=spf1 -all".to_owned()])));
    assert_eq!(value_text(&txt), "v=spf1 -all");
    let a = record(RData::A(A(Ipv4Addr::new(192, 0, 2, 1))));
    assert_eq!(value_text(&a), "192.0.2.1");
}

#[test]
fn expect_compares_sets_loosely() {
    let a1 = record(RData::A(A(Ipv4Addr::new(192, 0, 2, 1))));
    let a2 = record(RData::A(A(Ipv4Addr::new(192, 0, 2, 2))));
    let both = [&a1, &a2];
    assert_eq!(expect_mismatch(&["192.0.2.2".into(), "192.0.2.1".into()], &both), None);
    assert_eq!(
        expect_mismatch(&["192.0.2.1".into(), "192.0.2.9".into()], &both),
        Some("expected 192.0.2.9 not answered; unexpected 192.0.2.2".to_owned())
    );
    assert_eq!(
        expect_mismatch(&["192.0.2.1".into()], &[]),
        Some("expected 192.0.2.1 not answered".to_owned())
    );
    let mx = record(RData::MX(MX::new(10, Name::from_ascii("mail.example.test.").unwrap())));
    assert_eq!(expect_mismatch(&["MAIL.example.test".into()], &[&mx]), None, "case and trailing dot");
    assert_eq!(expect_mismatch(&["10 mail.example.test.".into()], &[&mx]), None, "full record data");
}

#[test]
fn resolv_conf_nameservers() {
    let text = "# comment\nsearch example.test\nnameserver 10.0.0.2\nnameserver ::1\n\
                nameserver fe80::1%eth0\noptions ndots:2\n";
    let servers = system_servers(text);
    assert_eq!(servers, ["10.0.0.2:53".parse::<SocketAddr>().unwrap(), "[::1]:53".parse().unwrap()]);
}

#[test]
fn names_are_validated() {
    assert!(validate_name("www.example.test").is_ok());
    assert!(validate_name("www.example.test.").is_ok());
    let long = format!("{}.test", "a".repeat(64));
    assert!(validate_name(&long).unwrap_err().starts_with(&format!("{long:?} is not a valid DNS name")));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Bound but never read: queries vanish, as with a dropped packet.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();

    let obs = Checkers::new()
        .run(&CheckSpec::Dns(spec(std::slice::from_ref(&server))), Duration::from_millis(300))
        .await;

    assert_eq!(obs.error, Some(format!("{server}: timed out after 300ms waiting for an answer")));
    assert!(!obs.connected);
    assert_eq!(obs.dns_rcode, None);
    let report = &obs.values["servers"][0];
    assert_eq!(report["outcome"], "timeout");
    assert_eq!(report["ok"], false);
    assert_eq!(report["server"], server.as_str());
}

#[tokio::test]
async fn a_port_nobody_listens_on_is_unreachable() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = closed.local_addr().unwrap().to_string();
    drop(closed);

    let obs = Checkers::new()
        .run(&CheckSpec::Dns(spec(std::slice::from_ref(&server))), Duration::from_secs(2))
        .await;

    assert_eq!(
        obs.error,
        Some(format!("{server}: connection refused: nothing listens on the server's UDP port"))
    );
    assert_eq!(obs.values["servers"][0]["outcome"], "unreachable");
}

#[tokio::test]
async fn several_failing_servers_are_each_named() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (a, b) = (silent.local_addr().unwrap().to_string(), "127.0.0.1:1".to_owned());
    let mut two = spec(&[a.clone(), b.clone()]);
    two.quorum = Some(1);

    let obs = Checkers::new().run(&CheckSpec::Dns(two), Duration::from_millis(300)).await;

    assert_eq!(
        obs.error,
        Some(format!(
            "2 of 2 DNS servers failed (1 must pass): {a}: timed out after 300ms waiting for an answer; \
             {b}: connection refused: nothing listens on the server's UDP port"
        ))
    );
    assert_eq!(obs.values["quorum"], serde_json::json!({"required": 1, "passed": 0, "total": 2}));
}

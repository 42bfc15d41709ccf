//! dns, tls and icmp monitors and the http shorthand keys.

use std::time::Duration;

use belfry_core::check::CheckSpec;

use super::{doc_blocks, errors, load};

fn monitor(text: &str, id: &str) -> belfry_core::MonitorSpec {
    load(text).catalog.monitor(id).cloned().unwrap_or_else(|| panic!("monitor {id}"))
}

fn sources(spec: &belfry_core::MonitorSpec) -> Vec<&str> {
    spec.conditions.iter().map(|c| c.source()).collect()
}

#[test]
fn dns_monitors_load_with_defaults() {
    let text = r#"
monitors:
  - id: api-dns
    kind: dns
    query: {name: api.acme.test, servers: ["127.0.0.1:5353", "[::1]:53", "ns1.acme.test", "::1"]}
  - id: mx
    kind: dns
    query:
      name: acme.test.
      type: mx
      quorum: 1
      find_authoritative: true
      authoritative_port: 5353
      expect: [mail.acme.test]
    conditions: ["[DNS_RCODE] == NOERROR"]
"#;
    let api = monitor(text, "api-dns");
    let CheckSpec::Dns(dns) = &api.check else { panic!("dns check") };
    assert_eq!(dns.name, "api.acme.test");
    assert_eq!(dns.record_type, belfry_core::DnsRecordType::A);
    let servers: Vec<String> = dns.servers.iter().map(ToString::to_string).collect();
    assert_eq!(servers, ["127.0.0.1:5353", "[::1]:53", "ns1.acme.test:53", "[::1]:53"]);
    assert_eq!((dns.quorum, dns.find_authoritative, dns.authoritative_port), (None, false, 53));
    assert_eq!(sources(&api), ["[DNS_RCODE] == NOERROR", "len([BODY]) > 0"]);
    let per_server: Vec<&str> = dns.server_conditions.iter().map(|c| c.source()).collect();
    assert_eq!(per_server, sources(&api), "each server is judged by the monitor's conditions");

    let mx = monitor(text, "mx");
    let CheckSpec::Dns(dns) = &mx.check else { panic!("dns check") };
    assert_eq!(dns.record_type, belfry_core::DnsRecordType::Mx);
    assert!(dns.servers.is_empty(), "no servers: the system resolvers");
    assert_eq!((dns.quorum, dns.find_authoritative, dns.authoritative_port), (Some(1), true, 5353));
    assert_eq!(dns.expect, ["mail.acme.test"]);
    assert_eq!(sources(&mx), ["[DNS_RCODE] == NOERROR"]);
}

#[test]
fn dns_mistakes_are_positioned() {
    let text = r#"monitors:
  - {id: a, kind: dns}
  - id: b
    kind: dns
    query:
      name: "bad name..test"
      type: AAA
      servers: ["127.0.0.1:99999", "http://ns.test/", 5]
      quorum: 0
      recursive: true
  - id: c
    kind: dns
    query: {name: x.test, servers: ["127.0.0.1:53"], quorum: 2, expect: ""}
"#;
    let errors = errors(text);
    assert_eq!(errors[0], "belfry.yaml:2:5: monitors[0]: missing required key `query`");
    assert!(
        errors[1].starts_with(
            "belfry.yaml:6:13: monitors[1].query.name: \"bad name..test\" is not a valid DNS name"
        ),
        "{}",
        errors[1]
    );
    assert_eq!(
        errors[2..],
        [
            "belfry.yaml:7:13: monitors[1].query.type: unknown record type `AAA`; did you mean `AAAA`?",
            "belfry.yaml:8:17: monitors[1].query.servers[0]: \"127.0.0.1:99999\": port \"99999\" must be between 1 and 65535",
            "belfry.yaml:8:36: monitors[1].query.servers[1]: \"http://ns.test/\" is not a DNS server: expected host:port, like 127.0.0.1:53 or [::1]:53",
            "belfry.yaml:9:15: monitors[1].query.quorum: 0 is out of range: must be between 1 and 1000",
            "belfry.yaml:10:7: monitors[1].query.recursive: unknown key `recursive`",
            "belfry.yaml:13:62: monitors[2].query.quorum: quorum 2 is more than the 1 servers listed in `servers`",
            "belfry.yaml:13:73: monitors[2].query.expect: expected a list, found a string",
        ]
    );
}

#[test]
fn tls_monitors_load_with_defaults() {
    let text = "monitors:\n  - {id: cert, kind: tls, host: status.acme.test}\n  - {id: cert2, kind: tls, host: 10.0.0.5, port: 8443, server_name: api.acme.test, verify_tls: false}\n";
    let cert = monitor(text, "cert");
    let CheckSpec::Tls(tls) = &cert.check else { panic!("tls check") };
    assert_eq!(
        (tls.host.as_str(), tls.port, tls.server_name.as_str(), tls.verify_tls),
        ("status.acme.test", 443, "status.acme.test", true)
    );
    assert_eq!(sources(&cert), ["[CERTIFICATE_EXPIRATION] > 0"]);
    let CheckSpec::Tls(tls) = monitor(text, "cert2").check else { panic!("tls check") };
    assert_eq!(
        (tls.host.as_str(), tls.port, tls.server_name.as_str(), tls.verify_tls),
        ("10.0.0.5", 8443, "api.acme.test", false)
    );
}

#[test]
fn tls_mistakes_are_positioned() {
    let text = "monitors:\n  - {id: a, kind: tls, host: \"x.test:443\", server_name: \"a b\", verify_tls: yes, url: http://x.test/}\n  - {id: b, kind: tls, port: 0}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:2:30: monitors[0].host: \"x.test:443\" includes a port; put the port in `port`",
            "belfry.yaml:2:57: monitors[0].server_name: \"a b\" is not a host name",
            "belfry.yaml:2:76: monitors[0].verify_tls: expected true or false, found a string",
            "belfry.yaml:2:81: monitors[0].url: `url` is not a key of a tls monitor",
            "belfry.yaml:3:5: monitors[1]: missing required key `host`",
            "belfry.yaml:3:30: monitors[1].port: 0 is out of range: must be between 1 and 65535",
        ]
    );
}

#[test]
fn icmp_monitors_load_or_say_what_to_change() {
    let text = "monitors:\n  - {id: gw, kind: icmp, host: 127.0.0.1}\n  - {id: gw2, kind: icmp, host: 127.0.0.1, count: 5, packet_interval: 1s}\n";
    match belfry_probe::check::icmp::permitted() {
        Ok(()) => {
            let gw = monitor(text, "gw");
            let CheckSpec::Icmp(icmp) = &gw.check else { panic!("icmp check") };
            assert_eq!((icmp.count, icmp.packet_interval), (3, Duration::from_millis(200)));
            assert_eq!(sources(&gw), ["[CONNECTED] == true"]);
            let CheckSpec::Icmp(icmp) = monitor(text, "gw2").check else { panic!("icmp check") };
            assert_eq!((icmp.count, icmp.packet_interval), (5, Duration::from_secs(1)));
        }
        Err(message) => {
            assert!(message.contains("sysctl -w net.ipv4.ping_group_range"), "{message}");
            assert!(message.contains("setcap cap_net_raw+ep"), "{message}");
            let errors = errors(text);
            assert_eq!(errors[0], format!("belfry.yaml:2:20: monitors[0].kind: {message}"));
        }
    }
}

#[test]
fn icmp_mistakes_are_positioned() {
    let text =
        "monitors:\n  - {id: a, kind: icmp, host: \"http://x\", count: 0, packet_interval: 1ms, port: 1}\n";
    let errors = errors(text);
    let expected = [
        "belfry.yaml:2:31: monitors[0].host: \"http://x\" is not a host name or IP address",
        "belfry.yaml:2:50: monitors[0].count: 0 is out of range: must be between 1 and 100",
        "belfry.yaml:2:70: monitors[0].packet_interval: must be at least 10ms",
        "belfry.yaml:2:75: monitors[0].port: `port` is not a key of an icmp monitor",
    ];
    for line in expected {
        assert!(errors.iter().any(|e| e == line), "missing {line:?} in {errors:#?}");
    }
}

#[test]
fn http_shorthands_expand_to_conditions() {
    let text = r#"
monitors:
  - {id: a, kind: http, url: "http://x.test/", expect_status: 200, expect_body_contains: '"status": "ok"'}
  - {id: b, kind: http, url: "http://x.test/", expect_status: [200, 204], expect_body_not_contains: "error*[1]?"}
  - {id: c, kind: http, url: "http://x.test/", expect_body_contains: ok, conditions: ["[RESPONSE_TIME] < 500"]}
  - {id: d, kind: http, url: "http://x.test/", expect_body_not_contains: maintenance}
"#;
    assert_eq!(sources(&monitor(text, "a")), ["[STATUS] == 200", r#"[BODY] == pat(*"status": "ok"*)"#]);
    assert_eq!(
        sources(&monitor(text, "b")),
        ["[STATUS] == any(200, 204)", r"[BODY] != pat(*error\*\[1\]\?*)"]
    );
    assert_eq!(sources(&monitor(text, "c")), ["[RESPONSE_TIME] < 500", "[BODY] == pat(*ok*)"]);
    assert_eq!(sources(&monitor(text, "d")), ["[STATUS] < 400", "[BODY] != pat(*maintenance*)"]);

    // The escaped pattern matches the text literally.
    let b = monitor(text, "b");
    let body = |text: &str| belfry_core::Observation {
        status: Some(204),
        body: Some(text.to_owned()),
        ..Default::default()
    };
    assert!(b.conditions.iter().all(|c| c.evaluate(&body("all fine")).ok));
    assert!(!b.conditions[1].evaluate(&body("an error*[1]? here")).ok);
    assert!(b.conditions[1].evaluate(&body("an error11 here")).ok);
}

#[test]
fn http_shorthand_mistakes_are_positioned() {
    let text = "monitors:\n  - {id: a, kind: http, url: \"http://x.test/\", expect_status: [200, 700], expect_body_contains: \"\"}\n  - {id: b, kind: http, url: \"http://x.test/\", expect_status: ok}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:2:69: monitors[0].expect_status[1]: 700 is out of range: must be between 100 and 599",
            "belfry.yaml:2:97: monitors[0].expect_body_contains: must not be empty",
            "belfry.yaml:3:63: monitors[1].expect_status: expected an integer, found a string",
        ]
    );
}

#[test]
fn the_kind_examples_of_the_reference_load() {
    let yaml = doc_blocks("yaml");
    for marker in ["kind: dns", "kind: tls", "expect_status", "kind: icmp"] {
        let block =
            yaml.iter().find(|b| b.contains(marker)).unwrap_or_else(|| panic!("a block with {marker}"));
        if marker == "kind: icmp"
            && let Err(message) = belfry_probe::check::icmp::permitted()
        {
            let errors = errors(block);
            assert_eq!(errors, [format!("belfry.yaml:3:11: monitors[0].kind: {message}")]);
            continue;
        }
        assert!(!load(block).catalog.monitors.is_empty(), "{marker}");
    }
}

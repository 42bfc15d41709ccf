//! `dns` monitors against real Knot DNS servers whose records change at run time (P7: check
//! what the world sees): the engine on a fake clock for state changes, the checker directly for
//! what each server said, and the outage once more through `belfry serve`.

use std::sync::Arc;
use std::time::Duration;

use belfry::config;
use belfry_core::{MonitorId, MonitorState, Observation};
use belfry_probe::{Checkers, Engine, EngineConfig};
use serde_json::{Value, json};

use crate::knot::{self, Knot};
use crate::support::FakeClock;

const TEN: Duration = Duration::from_secs(10);

/// Skips the test (with the reason printed) when Knot is not installed.
macro_rules! require_knot {
    () => {
        if let Some(reason) = knot::unavailable() {
            println!("skipped: {reason}");
            return;
        }
    };
}

/// Two nameservers on one port: ns1 on 127.0.0.1 serves `www A 192.0.2.10`, ns2 on 127.0.0.2
/// lacks it (as in the xchart outage: the record was in one place and not the other).
fn two_nameservers() -> (Knot, Knot) {
    let port = knot::free_port(&["127.0.0.1", "127.0.0.2"]);
    let ns1 = Knot::start("127.0.0.1", port, "www A 192.0.2.10\napi A 192.0.2.20\n");
    let ns2 = Knot::start("127.0.0.2", port, "api A 192.0.2.20\n");
    (ns1, ns2)
}

fn one_nameserver() -> Knot {
    let port = knot::free_port(&["127.0.0.1"]);
    Knot::start(
        "127.0.0.1",
        port,
        "www A 192.0.2.10\napi A 192.0.2.20\napi A 192.0.2.21\nv6 AAAA 2001:db8::10\n\
         alias CNAME www\n@ CAA 0 issue \"letsencrypt.org\"\n_https._tcp SRV 10 5 443 www\n",
    )
}

/// Loads one monitor from YAML and runs its check once.
async fn check_once(yaml: &str) -> Observation {
    let settings = config::load_str("test.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let spec = &settings.catalog.monitors[0];
    Checkers::new().run(&spec.check, spec.timeout).await
}

fn dns_yaml(query: &str, extra: &str) -> String {
    format!("monitors:\n  - {{id: d, kind: dns, timeout: 1s, query: {{{query}}}{extra}}}\n")
}

#[tokio::test]
async fn deleting_a_record_takes_the_monitor_down_and_restoring_it_brings_it_up() {
    require_knot!();
    let ns = one_nameserver();
    let yaml = format!(
        r#"
components: [{{id: api, name: API}}]
monitors:
  - id: www-dns
    kind: dns
    component: api
    interval: 10s
    timeout: 2s
    query: {{name: www.example.test, type: A, servers: ["{}"]}}
    conditions: ["[DNS_RCODE] == NOERROR", "[BODY] == 192.0.2.10"]
    failure: {{threshold: 3}}
    recovery: {{threshold: 2}}
"#,
        ns.server()
    );
    let settings = config::load_str("test.yaml", &yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("belfry.db").display());
    let store = belfry::app::open_store(&url, 4).await.unwrap();
    let clock = FakeClock::at(1_800_000_000);
    let engine = Engine::new(
        EngineConfig::default(),
        Arc::new(settings.catalog),
        store.clone(),
        clock.clone(),
        Checkers::new(),
    );
    engine.resume().await.unwrap();
    let step = || async {
        engine.tick(clock.advance(TEN)).await.unwrap();
        engine.states().into_iter().find(|s| s.monitor.as_str() == "www-dns").unwrap().state
    };

    use MonitorState::*;
    assert_eq!(step().await, Up);
    ns.unset("www", "A");
    assert_eq!(step().await, Suspected, "one failed check is not an outage");
    assert_eq!(step().await, Suspected);
    assert_eq!(step().await, Down);
    ns.set("www", "A", "192.0.2.10");
    assert_eq!(step().await, Down, "one success is not recovery");
    assert_eq!(step().await, Up);

    let id = MonitorId::parse("www-dns").unwrap();
    let transitions = store.transitions(Some(&id), None, 10).await.unwrap();
    let down = transitions.iter().find(|t| t.to == Down).unwrap();
    // www still has a TXT record: the name exists, the A record does not (NODATA).
    assert_eq!(
        down.reason.as_deref(),
        Some(
            format!(
                "{}: NODATA: www.example.test. has no A record (NOERROR with an empty answer)",
                ns.server()
            )
            .as_str()
        )
    );
    let evidence = &down.results[0];
    assert_eq!(evidence.values["servers"][0]["outcome"], "nodata");
    assert_eq!(evidence.values["servers"][0]["aa"], true);
}

#[tokio::test]
async fn a_nameserver_that_lacks_the_record_is_the_failing_server() {
    require_knot!();
    let (ns1, ns2) = two_nameservers();
    let query = format!(r#"name: www.example.test, servers: ["{}", "{}"]"#, ns1.server(), ns2.server());

    let obs = check_once(&dns_yaml(&query, "")).await;

    assert_eq!(
        obs.error,
        Some(format!(
            "1 of 2 DNS servers failed (2 must pass): {}: NODATA: www.example.test. has no A record (NOERROR \
             with an empty answer)",
            ns2.server()
        ))
    );
    let servers = obs.values["servers"].as_array().unwrap();
    assert_eq!(servers[0]["server"], ns1.server());
    assert_eq!(servers[0]["ok"], true);
    assert_eq!(servers[0]["rcode"], "NOERROR");
    assert_eq!(
        servers[0]["answers"],
        json!([{"name": "www.example.test.", "type": "A", "ttl": 300, "data": "192.0.2.10"}])
    );
    assert_eq!(servers[1]["server"], ns2.server());
    assert_eq!(servers[1]["ok"], false);
    assert_eq!(servers[1]["rcode"], "NOERROR");
    assert_eq!(servers[1]["outcome"], "nodata");
    assert_eq!(servers[1]["answers"], json!([]));
    // The check's own rcode and body are those of the failing server.
    assert_eq!(obs.dns_rcode.as_deref(), Some("NOERROR"));
    assert_eq!(obs.body.as_deref(), Some(""));
    assert_eq!(obs.values["quorum"], json!({"required": 2, "passed": 1, "total": 2}));

    // With a quorum of one, the answering server is enough; the other is still reported.
    let obs = check_once(&dns_yaml(&format!("{query}, quorum: 1"), "")).await;
    assert_eq!(obs.error, None);
    assert_eq!(obs.dns_rcode.as_deref(), Some("NOERROR"));
    assert_eq!(obs.body.as_deref(), Some("192.0.2.10"));
    assert_eq!(obs.values["servers"][1]["ok"], false);
}

#[tokio::test]
async fn find_authoritative_asks_every_nameserver_of_the_zone() {
    require_knot!();
    let (ns1, ns2) = two_nameservers();
    // Only ns1 is configured (as a resolver would be); the NS records lead to ns2.
    let query = format!(
        r#"name: www.example.test, servers: ["{}"], find_authoritative: true, authoritative_port: {}"#,
        ns1.server(),
        ns1.port
    );

    let obs = check_once(&dns_yaml(&query, "")).await;

    assert_eq!(obs.values["zone"], "example.test.");
    assert_eq!(obs.values["nameservers"], json!(["ns1.example.test.", "ns2.example.test."]));
    let servers = obs.values["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 2, "ns1 is the configured server and is asked once: {servers:#?}");
    assert_eq!(
        (servers[0]["role"].as_str(), servers[0]["nameserver"].as_str()),
        (Some("configured"), Some("ns1.example.test."))
    );
    assert_eq!(servers[1]["server"], format!("{} (ns2.example.test.)", ns2.server()));
    assert_eq!(servers[1]["role"], "authoritative");
    assert_eq!(servers[1]["outcome"], "nodata");
    assert_eq!(servers[1]["aa"], true);
    assert_eq!(
        obs.error,
        Some(format!(
            "1 of 2 DNS servers failed (2 must pass): {} (ns2.example.test.): NODATA: www.example.test. has no \
             A record (NOERROR with an empty answer)",
            ns2.server()
        ))
    );

    // Once ns2 serves it too, every nameserver agrees.
    ns2.set("www", "A", "192.0.2.10");
    let obs = check_once(&dns_yaml(&query, "")).await;
    assert_eq!(obs.error, None, "{:#?}", obs.values);
}

#[tokio::test]
async fn nxdomain_nodata_refused_timeout_and_unreachable_are_told_apart() {
    require_knot!();
    let ns = one_nameserver();
    let at =
        |name: &str, rtype: &str| format!(r#"name: {name}, type: {rtype}, servers: ["{}"]"#, ns.server());
    let reason = |obs: &Observation| obs.values["servers"][0]["reason"].as_str().unwrap_or("").to_owned();

    let nxdomain = check_once(&dns_yaml(&at("nope.example.test", "A"), "")).await;
    assert_eq!(nxdomain.dns_rcode.as_deref(), Some("NXDOMAIN"));
    assert_eq!(reason(&nxdomain), "NXDOMAIN: nope.example.test. does not exist");

    let nodata = check_once(&dns_yaml(&at("mail.example.test", "TXT"), "")).await;
    assert_eq!(nodata.dns_rcode.as_deref(), Some("NOERROR"));
    assert_eq!(nodata.body.as_deref(), Some(""));
    assert_eq!(
        reason(&nodata),
        "NODATA: mail.example.test. has no TXT record (NOERROR with an empty answer)"
    );
    assert_eq!(nodata.values["servers"][0]["outcome"], "nodata");

    // A zone the server is configured for but could not load.
    let servfail = check_once(&dns_yaml(&at("www.broken.test", "A"), "")).await;
    assert_eq!(servfail.dns_rcode.as_deref(), Some("SERVFAIL"), "{:?}", servfail.values);
    assert_eq!(servfail.values["servers"][0]["outcome"], "servfail", "{:?}", servfail.values);

    let refused = check_once(&dns_yaml(&at("www.other.test", "A"), "")).await;
    assert_eq!(refused.dns_rcode.as_deref(), Some("REFUSED"));
    assert_eq!(reason(&refused), "REFUSED: the server refused the query");

    // A UDP port that takes queries and never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let timeout =
        check_once(&dns_yaml(&format!(r#"name: www.example.test, servers: ["{silent_addr}"]"#), "")).await;
    assert_eq!(timeout.error, Some(format!("{silent_addr}: timed out after 1s waiting for an answer")));
    assert_eq!(timeout.values["servers"][0]["outcome"], "timeout");

    let closed = format!("127.0.0.1:{}", knot::free_port(&["127.0.0.1"]));
    let unreachable =
        check_once(&dns_yaml(&format!(r#"name: www.example.test, servers: ["{closed}"]"#), "")).await;
    assert_eq!(
        unreachable.error,
        Some(format!("{closed}: connection refused: nothing listens on the server's UDP port"))
    );
    assert_eq!(unreachable.values["servers"][0]["outcome"], "unreachable");

    // A user who expects NXDOMAIN says so, and then it passes.
    let expected =
        check_once(&dns_yaml(&at("nope.example.test", "A"), r#", conditions: ["[DNS_RCODE] == NXDOMAIN"]"#))
            .await;
    assert_eq!(expected.error, None);
}

#[tokio::test]
async fn answers_bodies_expect_and_record_types() {
    require_knot!();
    let ns = one_nameserver();
    let at =
        |name: &str, rtype: &str| format!(r#"name: {name}, type: {rtype}, servers: ["{}"]"#, ns.server());

    // Two answers: [BODY] is a JSON array, so len() counts them.
    let two =
        check_once(&dns_yaml(&at("api.example.test", "A"), r#", conditions: ["len([BODY]) == 2"]"#)).await;
    assert_eq!(two.error, None);
    let body: Value = serde_json::from_str(two.body.as_deref().unwrap()).unwrap();
    let mut ips: Vec<&str> = body.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    ips.sort();
    assert_eq!(ips, ["192.0.2.20", "192.0.2.21"]);

    let matching = check_once(&dns_yaml(
        &format!("{}, expect: [192.0.2.21, 192.0.2.20]", at("api.example.test", "A")),
        "",
    ))
    .await;
    assert_eq!(matching.error, None);
    let differing =
        check_once(&dns_yaml(&format!("{}, expect: [192.0.2.20]", at("api.example.test", "A")), "")).await;
    assert_eq!(differing.error, Some(format!("{}: unexpected 192.0.2.21", ns.server())));

    let mx =
        check_once(&dns_yaml(&at("example.test", "MX"), r#", conditions: ["[BODY] == mail.example.test."]"#))
            .await;
    assert_eq!(mx.error, None);
    assert_eq!(mx.values["servers"][0]["answers"][0]["data"], "10 mail.example.test.");
    let ns_records =
        check_once(&dns_yaml(&at("example.test", "NS"), r#", conditions: ["len([BODY]) == 2"]"#)).await;
    assert_eq!(ns_records.error, None);
    let txt =
        check_once(&dns_yaml(&at("www.example.test", "TXT"), r#", conditions: ["[BODY] == belfry test"]"#))
            .await;
    assert_eq!(txt.error, None);
    let soa = check_once(&dns_yaml(
        &at("example.test", "SOA"),
        r#", conditions: ["[BODY] == pat(ns1.example.test. *)"]"#,
    ))
    .await;
    assert_eq!(soa.error, None, "{:?}", soa.body);

    let aaaa =
        check_once(&dns_yaml(&at("v6.example.test", "AAAA"), r#", conditions: ["[BODY] == 2001:db8::10"]"#))
            .await;
    assert_eq!(aaaa.error, None, "{:?}", aaaa.body);
    let cname = check_once(&dns_yaml(
        &at("alias.example.test", "CNAME"),
        r#", conditions: ["[BODY] == www.example.test."]"#,
    ))
    .await;
    assert_eq!(cname.error, None, "{:?}", cname.body);
    let caa = check_once(&dns_yaml(
        &at("example.test", "CAA"),
        r#", conditions: ["[BODY] == pat(*letsencrypt.org*)"]"#,
    ))
    .await;
    assert_eq!(caa.error, None, "{:?}", caa.body);
    let srv = check_once(&dns_yaml(
        &at("_https._tcp.example.test", "SRV"),
        r#", conditions: ["[BODY] == www.example.test.:443"]"#,
    ))
    .await;
    assert_eq!(srv.error, None, "{:?} {:?}", srv.body, srv.values);
    assert_eq!(srv.values["servers"][0]["answers"][0]["ttl"], 300);
}

#[tokio::test]
async fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    require_knot!();
    let port = knot::free_port(&["127.0.0.1"]);
    // Forty long TXT strings: far more than the 1232 bytes offered over UDP.
    let big: String = (0..40).map(|i| format!("big TXT \"{i:02}-{}\"\n", "x".repeat(60))).collect();
    let ns = Knot::start("127.0.0.1", port, &big);

    let obs = check_once(&dns_yaml(
        &format!(r#"name: big.example.test, type: TXT, servers: ["{}"]"#, ns.server()),
        "",
    ))
    .await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.values["servers"][0]["transport"], "tcp");
    assert_eq!(obs.values["servers"][0]["answers"].as_array().unwrap().len(), 40);
}

/// The same outage through `belfry serve`: the record deleted from the nameserver takes the
/// monitor down by its policy (public status follows), restoring it brings it back up.
#[tokio::test]
async fn the_real_server_sees_a_deleted_record_as_an_outage_and_its_return_as_recovery() {
    require_knot!();
    use crate::binary::{monitor_state, token};
    use crate::support::{Server, eventually, get_json, write};

    let ns = one_nameserver();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "belfry.yaml",
        &format!(
            "components:\n  - {{id: web, name: Website}}\n\
             monitors:\n  - {{id: www-dns, kind: dns, component: web, interval: 1s, timeout: 1s,\n\
             \x20     query: {{name: www.example.test, type: A, servers: [\"{}\"]}},\n\
             \x20     failure: {{threshold: 2}}, recovery: {{threshold: 2}}}}\n",
            ns.server()
        ),
    );
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let read = token(dir.path(), &cfg, "read");
    let limit = Duration::from_secs(30);
    let state = || async { monitor_state(&server, &read, "www-dns").await };
    eventually("up while the record is served", limit, || async { (state().await.0 == "up").then_some(()) })
        .await;

    ns.unset("www", "A");
    let down = eventually("down after the record is deleted", limit, || async {
        let (s, body) = state().await;
        (s == "down").then_some(body)
    })
    .await;
    let reason = down["last_result"]["error"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("NXDOMAIN") || reason.contains("NODATA"), "{down}");
    // The public page is rebuilt from the change a moment after the API shows it.
    let components_url = server.url("/api/v2/components.json");
    let public_status = |want: &'static str| {
        let url = components_url.clone();
        async move {
            let (_, components) = get_json(&url, None).await;
            (components["components"][0]["status"] == want).then_some(())
        }
    };
    eventually("the page shows the outage", limit, || public_status("major_outage")).await;

    ns.set("www", "A", "192.0.2.10");
    eventually("up after the record is restored", limit, || async {
        (state().await.0 == "up").then_some(())
    })
    .await;
    eventually("the page shows the recovery", limit, || public_status("operational")).await;
}

use std::time::Duration;

use belfry_core::{CheckSpec, Condition, Observation, TlsCheck};
use serde_json::Value;

use crate::check::Checkers;
use tokio::io::AsyncWriteExt;

use crate::check::test_support::{TestCa, free_port, response, self_signed, serve_tls, unix_now};

const TIMEOUT: Duration = Duration::from_secs(5);
const DAY: u64 = 86_400;

fn spec(port: u16) -> TlsCheck {
    TlsCheck { host: "127.0.0.1".to_owned(), port, server_name: "localhost".to_owned(), verify_tls: true }
}

async fn check(checkers: &Checkers, spec: TlsCheck) -> Observation {
    checkers.run(&CheckSpec::Tls(spec), TIMEOUT).await
}

/// A TLS server with a leaf for `names` signed by a fresh CA, and checkers that trust the CA.
async fn signed(names: &[&str], not_after: Option<u64>) -> (u16, Checkers) {
    let ca = TestCa::new();
    let identity = ca.leaf(names, not_after);
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;
    (addr.port(), Checkers::with_extra_roots(vec![ca.root.clone()]))
}

#[tokio::test]
async fn a_valid_certificate_reports_its_facts() {
    let (port, checkers) = signed(&["localhost"], Some(unix_now() + 90 * DAY)).await;

    let obs = check(&checkers, spec(port)).await;

    assert_eq!(obs.error, None);
    assert!(obs.connected);
    assert_eq!(obs.ip.as_deref(), Some("127.0.0.1"));
    assert!(obs.phases.connect_ms.is_some() && obs.phases.tls_ms.is_some());
    let left = obs.certificate_expiration.unwrap();
    assert!(left > Duration::from_secs(89 * DAY) && left <= Duration::from_secs(90 * DAY), "{left:?}");
    let cert = &obs.values["certificate"];
    assert_eq!(cert["chain_valid"], true);
    assert_eq!(cert["hostname_match"], true);
    assert_eq!(cert["server_name"], "localhost");
    assert_eq!(cert["issuer"], "CN=Belfry Test CA");
    assert_eq!(cert["subject"], "CN=belfry test leaf");
    assert_eq!(cert["self_signed"], false);
    assert!(matches!(cert["days_left"].as_i64(), Some(89 | 90)), "{cert}");
    assert_eq!(cert["chain_length"], 1);
    assert!(cert["serial"].as_str().unwrap().contains(':'), "{cert}");
    assert!(cert["not_after"].as_str().unwrap().ends_with('Z'), "{cert}");
    // The body is the same facts, for conditions like `[BODY].issuer`.
    let body: Value = serde_json::from_str(obs.body.as_deref().unwrap()).unwrap();
    assert_eq!(&body, cert);
    let issuer = Condition::parse("[BODY].issuer == pat(*Test CA*)").unwrap();
    assert!(issuer.evaluate(&obs).ok);
}

#[tokio::test]
async fn an_expired_certificate_fails_and_still_reports_when_it_expired() {
    let (port, checkers) = signed(&["localhost"], Some(unix_now() - 10 * DAY)).await;

    let obs = check(&checkers, spec(port)).await;

    let error = obs.error.clone().unwrap();
    assert!(error.starts_with("invalid certificate: Expired on "), "{error}");
    assert!(error.ends_with("(10 days ago)"), "{error}");
    assert_eq!(obs.certificate_expiration, Some(Duration::ZERO));
    let cert = &obs.values["certificate"];
    assert_eq!(cert["chain_valid"], false);
    assert_eq!(cert["hostname_match"], true);
    assert_eq!(cert["days_left"], -10);
    let default = Condition::parse("[CERTIFICATE_EXPIRATION] > 0").unwrap().evaluate(&obs);
    assert!(!default.ok);
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_the_name_check() {
    let (port, checkers) = signed(&["status.example.com"], None).await;

    let obs = check(&checkers, spec(port)).await;

    assert_eq!(
        obs.error.as_deref(),
        Some(
            "invalid certificate: certificate not valid for name \"localhost\"; certificate is only valid \
             for DnsName(\"status.example.com\")"
        )
    );
    let cert = &obs.values["certificate"];
    assert_eq!(cert["hostname_match"], false);
    assert_eq!(cert["names"], serde_json::json!(["status.example.com"]));
    assert!(obs.certificate_expiration.is_some());
}

#[tokio::test]
async fn the_server_name_can_differ_from_the_host_connected_to() {
    let (port, checkers) = signed(&["status.example.com"], None).await;
    let mut by_name = spec(port);
    by_name.server_name = "status.example.com".to_owned();

    let obs = check(&checkers, by_name).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.values["certificate"]["hostname_match"], true);
}

#[tokio::test]
async fn a_self_signed_certificate_fails_unless_verification_is_off() {
    let identity = self_signed(&["localhost"]);
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;

    let verified = check(&Checkers::new(), spec(addr.port())).await;
    assert_eq!(
        verified.error.as_deref(),
        Some("invalid certificate: UnknownIssuer (the certificate is self-signed)")
    );
    assert_eq!(verified.values["certificate"]["self_signed"], true);

    let mut insecure = spec(addr.port());
    insecure.verify_tls = false;
    let unverified = check(&Checkers::new(), insecure).await;
    assert_eq!(unverified.error, None);
    let cert = &unverified.values["certificate"];
    assert_eq!(cert["chain_valid"], false, "the facts stay true when verification is off");
    assert_eq!(cert["chain_error"], "UnknownIssuer");
    assert!(unverified.certificate_expiration.unwrap() > Duration::from_secs(DAY));
}

#[tokio::test]
async fn a_certificate_expiring_in_five_days_fails_a_two_week_condition() {
    let (port, checkers) = signed(&["localhost"], Some(unix_now() + 5 * DAY)).await;

    let obs = check(&checkers, spec(port)).await;

    assert_eq!(obs.error, None, "still valid");
    assert!(matches!(obs.values["certificate"]["days_left"].as_i64(), Some(4 | 5)));
    let two_weeks = Condition::parse("[CERTIFICATE_EXPIRATION] > 336h").unwrap().evaluate(&obs);
    assert!(!two_weeks.ok);
    let resolved = &two_weeks.resolved;
    assert!(
        resolved.starts_with("[CERTIFICATE_EXPIRATION] (119h") && resolved.ends_with(") > 336h"),
        "{resolved}"
    );
    assert!(Condition::parse("[CERTIFICATE_EXPIRATION] > 0").unwrap().evaluate(&obs).ok);
}

#[tokio::test]
async fn a_server_that_does_not_speak_tls_fails_the_handshake() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await;
        }
    });

    let obs = check(&Checkers::new(), spec(addr.port())).await;

    let error = obs.error.unwrap();
    assert!(error.starts_with("TLS handshake failed: "), "{error}");
    assert!(obs.connected);
    assert!(!obs.values.contains_key("certificate"));
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let port = free_port().await;

    let obs = check(&Checkers::new(), spec(port)).await;

    assert_eq!(obs.error, Some(format!("connection refused (127.0.0.1:{port})")));
    assert!(!obs.connected);
}

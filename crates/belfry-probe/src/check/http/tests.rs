use std::time::Duration;

use belfry_core::{CheckSpec, HttpCheck, Observation};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::check::Checkers;
use crate::check::test_support::{TestCa, free_port, response, self_signed, serve, serve_tls, unix_now};

const TIMEOUT: Duration = Duration::from_secs(5);
const DAY: u64 = 86_400;

fn spec(url: impl Into<String>) -> HttpCheck {
    HttpCheck {
        url: url.into(),
        method: "GET".to_owned(),
        headers: Vec::new(),
        body: None,
        follow_redirects: true,
        max_redirects: 5,
        verify_tls: true,
        max_body_bytes: 64 * 1024,
    }
}

async fn check(spec: HttpCheck) -> Observation {
    check_with(&Checkers::new(), spec, TIMEOUT).await
}

async fn check_with(checkers: &Checkers, spec: HttpCheck, timeout: Duration) -> Observation {
    checkers.run(&CheckSpec::Http(spec), timeout).await
}

#[tokio::test]
async fn ok_with_json_body_and_phases() {
    let (addr, _) = serve(|_| async {
        response("200 OK", &[("Content-Type", "application/json")], br#"{"status":"up"}"#)
    })
    .await;

    let obs = check(spec(format!("http://{addr}/health"))).await;

    assert_eq!(obs.error, None);
    assert!(obs.connected);
    assert_eq!(obs.status, Some(200));
    assert_eq!(obs.body.as_deref(), Some(r#"{"status":"up"}"#));
    assert_eq!(obs.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(obs.certificate_expiration, None);
    assert_eq!(obs.phases.dns_ms, None, "an IP literal needs no lookup");
    assert!(obs.phases.connect_ms.is_some());
    assert_eq!(obs.phases.tls_ms, None);
    assert!(obs.phases.first_byte_ms.is_some());
    let total = obs.phases.total_ms.unwrap();
    assert!(total >= obs.phases.first_byte_ms.unwrap());
    assert_eq!(obs.duration_ms, total as u64);
}

#[tokio::test]
async fn names_are_resolved_and_timed() {
    let (addr, _) = serve(|_| async { response("200 OK", &[], b"ok") }).await;

    let obs = check(spec(format!("http://localhost:{}/", addr.port()))).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(200));
    assert!(obs.phases.dns_ms.is_some());
    assert_eq!(obs.ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn server_error_is_a_status_not_an_error() {
    let (addr, _) =
        serve(|_| async { response("503 Service Unavailable", &[], b"down for maintenance") }).await;

    let obs = check(spec(format!("http://{addr}/"))).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(503));
    assert_eq!(obs.body.as_deref(), Some("down for maintenance"));
}

#[tokio::test]
async fn sends_method_headers_and_body() {
    let (addr, mut received) = serve(|_| async { response("201 Created", &[], b"") }).await;
    let mut post = spec(format!("http://{addr}/submit?x=1#fragment"));
    post.method = "POST".to_owned();
    post.headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("X-Api-Key".to_owned(), "secret".to_owned()),
    ];
    post.body = Some(r#"{"ping":true}"#.to_owned());

    let obs = check(post).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(201));
    let req = received.recv().await.unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/submit?x=1");
    assert_eq!(req.header("host"), Some(addr.to_string().as_str()));
    assert_eq!(req.header("user-agent"), Some(concat!("Belfry/", env!("CARGO_PKG_VERSION"))));
    assert_eq!(req.header("connection"), Some("close"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("x-api-key"), Some("secret"));
    assert_eq!(req.body, br#"{"ping":true}"#);
}

#[tokio::test]
async fn user_agent_and_host_can_be_overridden() {
    let (addr, mut received) = serve(|_| async { response("200 OK", &[], b"") }).await;
    let mut get = spec(format!("http://{addr}/"));
    get.headers =
        vec![("User-Agent".to_owned(), "custom/1".to_owned()), ("Host".to_owned(), "example.org".to_owned())];

    let obs = check(get).await;

    assert_eq!(obs.error, None);
    let req = received.recv().await.unwrap();
    assert_eq!(req.header("user-agent"), Some("custom/1"));
    assert_eq!(req.header("host"), Some("example.org"));
}

#[tokio::test]
async fn follows_a_redirect_chain_with_relative_locations() {
    let (addr, mut received) = serve(|req| async move {
        match req.target.as_str() {
            "/start/a" => response("302 Found", &[("Location", "b")], b"hop one"),
            "/start/b" => response("301 Moved Permanently", &[("Location", "/final")], b""),
            "/final" => response("200 OK", &[], b"arrived"),
            _ => response("404 Not Found", &[], b""),
        }
    })
    .await;

    let obs = check(spec(format!("http://{addr}/start/a"))).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(200));
    assert_eq!(obs.body.as_deref(), Some("arrived"));
    let mut targets = Vec::new();
    while let Ok(req) = received.try_recv() {
        targets.push(req.target);
    }
    assert_eq!(targets, ["/start/a", "/start/b", "/final"]);
    // Three connections: the chain's connect times add up to more than one hop's.
    assert!(obs.phases.connect_ms.is_some() && obs.phases.first_byte_ms.is_some());
}

#[tokio::test]
async fn see_other_turns_a_post_into_a_get() {
    let (addr, mut received) = serve(|req| async move {
        match req.target.as_str() {
            "/form" => response("303 See Other", &[("Location", "/result")], b""),
            _ => response("200 OK", &[], b"thanks"),
        }
    })
    .await;
    let mut post = spec(format!("http://{addr}/form"));
    post.method = "POST".to_owned();
    post.headers = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
    post.body = Some("hello".to_owned());

    let obs = check(post).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(200));
    let first = received.recv().await.unwrap();
    assert_eq!((first.method.as_str(), first.body.as_slice()), ("POST", b"hello".as_slice()));
    let second = received.recv().await.unwrap();
    assert_eq!(second.method, "GET");
    assert_eq!(second.target, "/result");
    assert!(second.body.is_empty());
    assert_eq!(second.header("content-type"), None);
}

#[tokio::test]
async fn redirects_are_reported_as_is_when_not_followed() {
    let (addr, mut received) =
        serve(|_| async { response("308 Permanent Redirect", &[("Location", "/elsewhere")], b"moved") })
            .await;
    let mut no_follow = spec(format!("http://{addr}/"));
    no_follow.follow_redirects = false;

    let obs = check(no_follow).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(308));
    assert_eq!(obs.body.as_deref(), Some("moved"));
    received.recv().await.unwrap();
    assert!(received.try_recv().is_err(), "the redirect must not be followed");
}

#[tokio::test]
async fn a_redirect_loop_stops_after_max_redirects() {
    let (addr, _) = serve(|_| async { response("302 Found", &[("Location", "/loop")], b"") }).await;

    let obs = check(spec(format!("http://{addr}/loop"))).await;

    assert_eq!(obs.error.as_deref(), Some("too many redirects (6)"));
    assert_eq!(obs.status, Some(302));
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_refused() {
    let (addr, _) =
        serve(|_| async { response("302 Found", &[("Location", "ftp://files.example/x")], b"") }).await;

    let obs = check(spec(format!("http://{addr}/"))).await;

    assert_eq!(obs.error.as_deref(), Some("URL ftp://files.example/x is not http(s)"));
}

#[tokio::test]
async fn a_url_that_is_not_http_fails_clearly() {
    let obs = check(spec("ftp://files.example/x")).await;

    assert_eq!(obs.error.as_deref(), Some("URL ftp://files.example/x is not http(s)"));
    assert!(!obs.connected);
    assert!(obs.phases.total_ms.is_some());
}

#[tokio::test]
async fn a_slow_server_times_out_naming_the_phase() {
    let (addr, _) = serve(|_| async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        response("200 OK", &[], b"too late")
    })
    .await;

    let obs = check_with(&Checkers::new(), spec(format!("http://{addr}/")), Duration::from_millis(300)).await;

    assert_eq!(obs.error.as_deref(), Some("timed out after 300ms during response headers"));
    assert!(obs.connected);
    assert_eq!(obs.status, None);
    assert!(obs.phases.connect_ms.is_some());
    assert_eq!(obs.phases.first_byte_ms, None);
    assert!((300..2000).contains(&obs.duration_ms), "took {}ms", obs.duration_ms);
}

#[tokio::test]
async fn a_stalled_body_times_out_keeping_what_arrived() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst ten!").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    });

    let obs = check_with(&Checkers::new(), spec(format!("http://{addr}/")), Duration::from_millis(400)).await;

    assert_eq!(obs.error.as_deref(), Some("timed out after 400ms during response body"));
    assert_eq!(obs.status, Some(200));
    assert_eq!(obs.body.as_deref(), Some("first ten!"));
    assert!(obs.phases.first_byte_ms.is_some());
}

#[tokio::test]
async fn a_refused_port_is_named() {
    let port = free_port().await;

    let obs = check(spec(format!("http://127.0.0.1:{port}/"))).await;

    assert_eq!(obs.error, Some(format!("connection refused (127.0.0.1:{port})")));
    assert!(!obs.connected);
    assert_eq!(obs.status, None);
}

#[tokio::test]
async fn garbage_is_an_invalid_http_response() {
    let (addr, _) = serve(|_| async { b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n".to_vec() }).await;

    let obs = check(spec(format!("http://{addr}/"))).await;

    let error = obs.error.unwrap();
    assert!(error.starts_with("invalid HTTP response: "), "{error}");
    assert!(obs.connected);
    assert_eq!(obs.status, None);
}

#[tokio::test]
async fn an_oversized_body_fails_naming_the_cap() {
    let (addr, _) = serve(|_| async { response("200 OK", &[], &[b'x'; 100_000]) }).await;
    let mut capped = spec(format!("http://{addr}/"));
    capped.max_body_bytes = 1000;

    let obs = check(capped).await;

    assert_eq!(obs.error.as_deref(), Some("response body larger than max_body_bytes (1000 bytes)"));
    assert_eq!(obs.status, Some(200));
    assert_eq!(obs.body.unwrap(), "x".repeat(1000), "what arrived up to the cap is kept");
}

#[tokio::test]
async fn a_body_exactly_at_the_cap_passes() {
    let (addr, _) = serve(|_| async { response("200 OK", &[], &[b'x'; 1000]) }).await;
    let mut capped = spec(format!("http://{addr}/"));
    capped.max_body_bytes = 1000;

    let obs = check(capped).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.body.unwrap().len(), 1000);
}

#[tokio::test]
async fn an_endless_body_stops_being_read_past_the_cap() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
        let chunk = format!("1000\r\n{}\r\n", "y".repeat(0x1000));
        // Until the checker hangs up.
        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
    });
    let mut capped = spec(format!("http://{addr}/"));
    capped.max_body_bytes = 10_000;

    let obs = check(capped).await;

    assert_eq!(obs.error.as_deref(), Some("response body larger than max_body_bytes (10000 bytes)"));
    assert_eq!(obs.body.unwrap().len(), 10_000);
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_converted_lossily() {
    let (addr, _) = serve(|_| async { response("200 OK", &[], b"ok \xff\xfe end") }).await;

    let obs = check(spec(format!("http://{addr}/"))).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.body.as_deref(), Some("ok \u{FFFD}\u{FFFD} end"));
}

#[tokio::test]
async fn a_cap_inside_a_character_drops_the_half_character() {
    let (addr, _) = serve(|_| async { response("200 OK", &[], "héllo".as_bytes()) }).await;
    let mut capped = spec(format!("http://{addr}/"));
    capped.max_body_bytes = 2; // "h" and the first byte of "é"

    let obs = check(capped).await;

    assert_eq!(obs.error.as_deref(), Some("response body larger than max_body_bytes (2 bytes)"));
    assert_eq!(obs.body.as_deref(), Some("h"));
}

#[tokio::test]
async fn an_unknown_host_fails_in_dns() {
    let obs = check_with(&Checkers::new(), spec("http://belfry-test.invalid/"), Duration::from_secs(3)).await;

    let error = obs.error.unwrap();
    assert!(
        error.starts_with("DNS lookup failed for belfry-test.invalid: ")
            || error == "timed out after 3s during DNS lookup",
        "{error}"
    );
    assert!(!obs.connected);
}

// --- HTTPS ---------------------------------------------------------------------------------

#[tokio::test]
async fn https_with_a_trusted_private_ca_reports_the_expiration() {
    let ca = TestCa::new();
    let identity = ca.leaf(&["localhost"], Some(unix_now() + 5 * DAY));
    let (addr, _) =
        serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"secure") }).await;
    let checkers = Checkers::with_extra_roots(vec![ca.root.clone()]);

    let obs = check_with(&checkers, spec(format!("https://localhost:{}/", addr.port())), TIMEOUT).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(200));
    assert_eq!(obs.body.as_deref(), Some("secure"));
    assert!(obs.phases.tls_ms.is_some());
    let left = obs.certificate_expiration.unwrap();
    let five_days = Duration::from_secs(5 * DAY);
    assert!(left <= five_days && left > five_days - Duration::from_secs(60), "{left:?}");
    let cert = &obs.values["certificate"];
    assert_eq!(cert["chain_valid"], true);
    assert_eq!(cert["chain_error"], serde_json::Value::Null);
    assert_eq!(cert["hostname_match"], true);
    assert_eq!(cert["issuer"], "CN=Belfry Test CA");
    assert_eq!(cert["subject"], "CN=belfry test leaf");
    assert!(matches!(cert["days_left"].as_i64(), Some(4 | 5)), "{cert}");
    assert_eq!(cert["names"], serde_json::json!(["localhost"]));
    assert!(!cert["serial"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn https_to_an_ip_address_is_verified_against_ip_names() {
    let ca = TestCa::new();
    let identity = ca.leaf(&["127.0.0.1"], None);
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;
    let checkers = Checkers::with_extra_roots(vec![ca.root.clone()]);

    let obs = check_with(&checkers, spec(format!("https://{addr}/")), TIMEOUT).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(200));
}

#[tokio::test]
async fn https_self_signed_fails_verification() {
    let identity = self_signed(&["localhost"]);
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;

    let obs = check(spec(format!("https://localhost:{}/", addr.port()))).await;

    assert_eq!(obs.error.as_deref(), Some("TLS handshake failed: invalid peer certificate: UnknownIssuer"));
    assert!(obs.connected);
    assert_eq!(obs.status, None, "nothing is sent to a server that failed verification");
    assert!(obs.phases.tls_ms.is_some(), "the handshake itself completed");
    assert!(obs.certificate_expiration.is_some(), "expiry is read even from a rejected chain");
    let cert = &obs.values["certificate"];
    assert_eq!(cert["chain_valid"], false);
    assert_eq!(cert["chain_error"], "UnknownIssuer");
    assert_eq!(cert["self_signed"], true);
    assert_eq!(cert["hostname_match"], true);
}

#[tokio::test]
async fn https_self_signed_passes_without_verification() {
    let identity = self_signed(&["localhost"]);
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"fine") }).await;
    let mut insecure = spec(format!("https://localhost:{}/", addr.port()));
    insecure.verify_tls = false;

    let obs = check(insecure).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.status, Some(200));
    assert_eq!(obs.body.as_deref(), Some("fine"));
    assert!(obs.phases.tls_ms.is_some());
    assert!(obs.certificate_expiration.is_some(), "expiry is reported even when not verified");
}

#[tokio::test]
async fn https_for_another_name_fails() {
    let ca = TestCa::new();
    let identity = ca.leaf(&["status.example.com"], None);
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;
    let checkers = Checkers::with_extra_roots(vec![ca.root.clone()]);

    let obs = check_with(&checkers, spec(format!("https://localhost:{}/", addr.port())), TIMEOUT).await;

    assert_eq!(
        obs.error.as_deref(),
        Some(
            "TLS handshake failed: invalid peer certificate: certificate not valid for name \"localhost\"; \
             certificate is only valid for DnsName(\"status.example.com\")"
        )
    );
}

#[tokio::test]
async fn https_with_an_expired_certificate_fails() {
    let ca = TestCa::new();
    let identity = ca.leaf(&["localhost"], Some(unix_now() - 10 * DAY));
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;
    let checkers = Checkers::with_extra_roots(vec![ca.root.clone()]);

    let obs = check_with(&checkers, spec(format!("https://localhost:{}/", addr.port())), TIMEOUT).await;

    let error = obs.error.unwrap();
    assert!(error.starts_with("TLS handshake failed: invalid peer certificate: Expired on "), "{error}");
    assert!(error.ends_with("(10 days ago)"), "{error}");
}

#[tokio::test]
async fn an_expired_certificate_without_verification_reports_zero() {
    let ca = TestCa::new();
    let identity = ca.leaf(&["localhost"], Some(unix_now() - DAY));
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;
    let mut insecure = spec(format!("https://localhost:{}/", addr.port()));
    insecure.verify_tls = false;

    let obs = check(insecure).await;

    assert_eq!(obs.error, None);
    assert_eq!(obs.certificate_expiration, Some(Duration::ZERO));
}

#[tokio::test]
async fn plain_http_to_a_tls_port_is_not_http() {
    let identity = self_signed(&["localhost"]);
    let (addr, _) = serve_tls(identity.server_config(), |_| async { response("200 OK", &[], b"") }).await;

    let obs = check_with(&Checkers::new(), spec(format!("http://{addr}/")), Duration::from_secs(1)).await;

    assert!(obs.error.is_some());
    assert_eq!(obs.status, None);
}

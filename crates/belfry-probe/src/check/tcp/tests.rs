use std::net::SocketAddr;
use std::time::Duration;

use belfry_core::{CheckSpec, Observation, TcpCheck};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::check::Checkers;
use crate::check::test_support::free_port;

const TIMEOUT: Duration = Duration::from_secs(5);

/// How the line server answers what it reads.
type Reply = fn(&[u8]) -> Vec<u8>;

/// A line server on 127.0.0.1: greets with `banner`, then answers each read with `reply`
/// (given what it read) until the peer closes; if `reply` is None, it takes what the peer sends
/// within 200ms (so closing does not reset the connection) and closes.
async fn line_server(banner: &'static [u8], reply: Option<Reply>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.write_all(banner).await;
                let mut buf = [0u8; 1024];
                let Some(reply) = reply else {
                    let _ = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await;
                    return;
                };
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 || stream.write_all(&reply(&buf[..n])).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

fn spec(addr: SocketAddr, send: Option<&str>, expect: Option<&str>) -> TcpCheck {
    TcpCheck {
        host: addr.ip().to_string(),
        port: addr.port(),
        send: send.map(str::to_owned),
        expect: expect.map(str::to_owned),
    }
}

async fn check(spec: TcpCheck, timeout: Duration) -> Observation {
    Checkers::new().run(&CheckSpec::Tcp(spec), timeout).await
}

fn echo_upper(input: &[u8]) -> Vec<u8> {
    input.to_ascii_uppercase()
}

#[tokio::test]
async fn connect_only_succeeds() {
    let addr = line_server(b"", None).await;

    let obs = check(spec(addr, None, None), TIMEOUT).await;

    assert_eq!(obs.error, None);
    assert!(obs.connected);
    assert_eq!(obs.ip.as_deref(), Some("127.0.0.1"));
    assert!(obs.phases.connect_ms.is_some());
    assert_eq!(obs.phases.dns_ms, None);
    assert_eq!(obs.body, None);
}

#[tokio::test]
async fn send_and_expect_succeeds() {
    let addr = line_server(b"", Some(echo_upper)).await;

    let obs = check(spec(addr, Some("ping\r\n"), Some("PING")), TIMEOUT).await;

    assert_eq!(obs.error, None);
    assert!(obs.connected);
    assert_eq!(obs.body.as_deref(), Some("PING\r\n"));
    assert!(obs.phases.first_byte_ms.is_some());
}

#[tokio::test]
async fn expect_a_banner_by_name() {
    let addr = line_server(b"220 mail.example ESMTP ready\r\n", None).await;
    let mut banner = spec(addr, None, Some("ESMTP"));
    banner.host = "localhost".to_owned();

    let obs = check(banner, TIMEOUT).await;

    assert_eq!(obs.error, None);
    assert!(obs.phases.dns_ms.is_some());
    assert_eq!(obs.body.as_deref(), Some("220 mail.example ESMTP ready\r\n"));
}

#[tokio::test]
async fn expected_text_missing_before_close_fails() {
    let addr = line_server(b"-ERR unknown command\r\n", None).await;

    let obs = check(spec(addr, Some("PING\r\n"), Some("+PONG")), TIMEOUT).await;

    assert_eq!(
        obs.error.as_deref(),
        Some(r#"expected "+PONG" not received; got "-ERR unknown command\r\n""#)
    );
    assert!(obs.connected);
    assert_eq!(obs.body.as_deref(), Some("-ERR unknown command\r\n"));
}

#[tokio::test]
async fn expected_text_missing_until_timeout_names_the_read() {
    let addr = line_server(b"", Some(|_| b"busy".to_vec())).await;

    let obs = check(spec(addr, Some("hello"), Some("ready")), Duration::from_millis(300)).await;

    assert_eq!(
        obs.error.as_deref(),
        Some(r#"timed out after 300ms during read: expected "ready" not received; got "busy""#)
    );
    assert_eq!(obs.body.as_deref(), Some("busy"));
}

#[tokio::test]
async fn long_replies_are_quoted_short() {
    let addr = line_server(&[b'z'; 500], None).await;

    let obs = check(spec(addr, None, Some("never")), TIMEOUT).await;

    let quoted = format!("{}…", "z".repeat(100));
    assert_eq!(obs.error, Some(format!("expected \"never\" not received; got \"{quoted}\"")));
    assert_eq!(obs.body.unwrap().len(), 500);
}

#[tokio::test]
async fn reading_stops_at_64_kib() {
    static FLOOD: [u8; 100_000] = [b'a'; 100_000];
    let addr = line_server(&FLOOD, None).await;

    let obs = check(spec(addr, None, Some("b")), TIMEOUT).await;

    assert!(obs.error.unwrap().starts_with(r#"expected "b" not received; got "aaa"#));
    assert_eq!(obs.body.unwrap().len(), 64 * 1024);
}

#[tokio::test]
async fn a_refused_port_is_named() {
    let port = free_port().await;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    let obs = check(spec(addr, Some("hello"), Some("world")), TIMEOUT).await;

    assert_eq!(obs.error, Some(format!("connection refused (127.0.0.1:{port})")));
    assert!(!obs.connected);
    assert_eq!(obs.ip, None);
}

//! `certificate_expiring` end to end through the real binary: a local TLS server presents a
//! certificate that expires in 5 days, then a renewed one valid for 90 days.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::binary::{monitor_state, token};
use crate::support::{Receiver, Server, eventually, get_json, write};

const LIMIT: Duration = Duration::from_secs(30);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A self-signed certificate for 127.0.0.1 that expires `days` from now (made with rcgen): the
/// config of a TLS server presenting it.
fn certificate(days: u32) -> Arc<ServerConfig> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "belfry-test");
    let now = SystemTime::now();
    params.not_before = (now - DAY).into();
    params.not_after = (now + DAY * days).into();
    let cert = params.self_signed(&key).unwrap();
    let chain = vec![cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

/// A TLS server on 127.0.0.1 that completes handshakes with the certificate it is given (which
/// can be swapped while it runs) and then closes.
struct TlsServer {
    port: u16,
    config: Arc<Mutex<Arc<ServerConfig>>>,
}

impl TlsServer {
    fn start(config: Arc<ServerConfig>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = Arc::new(Mutex::new(config));
        let current = config.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let config = current.lock().unwrap().clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    while tls.conn.is_handshaking() {
                        if tls.conn.complete_io(&mut tls.sock).is_err() {
                            return;
                        }
                    }
                    tls.conn.send_close_notify();
                    let _ = tls.conn.complete_io(&mut tls.sock);
                });
            }
        });
        Self { port, config }
    }

    /// Presents `config`'s certificate from the next handshake on.
    fn swap(&self, config: Arc<ServerConfig>) {
        *self.config.lock().unwrap() = config;
    }
}

/// The `not_after` of the certificate in the monitor's last result, once it has one.
async fn not_after(server: &Server, token: &str) -> Option<String> {
    let (_, body) = monitor_state(server, token, "site-tls").await;
    body["last_result"]["values"]["certificate"]["not_after"].as_str().map(str::to_owned)
}

/// Waits until `n` more checks of the monitor were recorded (the dispatcher runs every second
/// meanwhile), so a test can say that something did *not* happen after them.
async fn more_checks(server: &Server, token: &str, n: usize) {
    for _ in 0..n {
        let (_, before) = monitor_state(server, token, "site-tls").await;
        let at = before["last_result"]["at"].clone();
        eventually("another check", LIMIT, || async {
            let (_, now) = monitor_state(server, token, "site-tls").await;
            (now["last_result"]["at"] != at).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn an_expiring_certificate_warns_once_and_its_renewal_resolves_the_warning() {
    let dir = tempfile::tempdir().unwrap();
    let expiring = certificate(5);
    let renewed = certificate(90);
    let tls = TlsServer::start(expiring);
    let receiver = Receiver::start().await;
    let cfg = write(
        dir.path(),
        "belfry.yaml",
        &format!(
            r#"
components: [{{id: site, name: Website}}]
monitors:
  - {{id: site-tls, name: Website, kind: tls, component: site, host: 127.0.0.1, port: {},
     verify_tls: false, interval: 1s, timeout: 2s, failure: {{threshold: 2}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: certs, steps: [{{after: 0s, notify: [ops-hook]}}]}}
  - {{id: outages, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [certificate_expiring], escalation: certs}}
  - {{monitors: ["*"], events: [down], escalation: outages}}
"#,
            tls.port,
            receiver.url("/hook")
        ),
    );
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let read = token(dir.path(), &cfg, "read");

    // The warning: once, as its own event; the monitor is up, not in an outage.
    let warning =
        eventually("the certificate warning", LIMIT, || async { receiver.bodies().into_iter().next() }).await;
    assert_eq!(warning["event"], "certificate_expiring", "{warning}");
    assert!(warning["summary"].as_str().unwrap().contains("TLS certificate expires in"), "{warning}");
    let old = not_after(&server, &read).await.expect("the certificate is recorded");
    more_checks(&server, &read, 3).await;
    assert_eq!(receiver.bodies().len(), 1, "once per certificate: {:#?}", receiver.bodies());
    let (state, _) = monitor_state(&server, &read, "site-tls").await;
    assert_eq!(state, "up");
    let (status, alerts) = get_json(&server.url("/api/v1/alerts"), Some(&read)).await;
    assert_eq!(status, 200);
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1, "{alerts}");

    // Renewed: the warning is resolved (the channel is told), and not sent again.
    tls.swap(renewed);
    let resolution =
        eventually("the resolution", LIMIT, || async { receiver.bodies().get(1).cloned() }).await;
    assert_eq!((&resolution["event"], &resolution["severity"]), (&"up".into(), &"resolved".into()));
    assert_eq!(resolution["dedup_key"], warning["dedup_key"], "the same alert");
    let new = not_after(&server, &read).await.unwrap();
    assert_ne!(new, old, "the renewed certificate is checked");
    more_checks(&server, &read, 3).await;
    assert_eq!(receiver.bodies().len(), 2, "nothing more: {:#?}", receiver.bodies());
    let (_, alerts) = get_json(&server.url("/api/v1/alerts"), Some(&read)).await;
    assert_eq!(alerts["alerts"], serde_json::json!([]));
    let (state, _) = monitor_state(&server, &read, "site-tls").await;
    assert_eq!(state, "up", "{}", server.logs());
}

//! Local targets for the checker tests: a scriptable raw HTTP/1.1 server (plain or TLS) on
//! 127.0.0.1, a free port nobody listens on, and certificates made on the spot with rcgen.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub(crate) async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// One request as the test server read it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A raw HTTP/1.1 response with `Content-Length` and `Connection: close`.
pub(crate) fn response(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serves plain HTTP on 127.0.0.1: `reply` turns each request into the raw bytes written back.
/// Every request read is also sent on the returned channel, for the test to assert on.
pub(crate) async fn serve<F, Fut>(reply: F) -> (SocketAddr, mpsc::UnboundedReceiver<Received>)
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<u8>> + Send + 'static,
{
    serve_with(None, reply).await
}

/// Like [`serve`], over TLS with `config`.
pub(crate) async fn serve_tls<F, Fut>(
    config: ServerConfig,
    reply: F,
) -> (SocketAddr, mpsc::UnboundedReceiver<Received>)
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<u8>> + Send + 'static,
{
    serve_with(Some(TlsAcceptor::from(Arc::new(config))), reply).await
}

async fn serve_with<F, Fut>(
    tls: Option<TlsAcceptor>,
    reply: F,
) -> (SocketAddr, mpsc::UnboundedReceiver<Received>)
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<u8>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, received) = mpsc::unbounded_channel();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tls, reply, seen) = (tls.clone(), reply.clone(), seen.clone());
            tokio::spawn(async move {
                match tls {
                    // A client that rejects the certificate aborts the handshake: nothing to serve.
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            answer(stream, &*reply, &seen).await;
                        }
                    }
                    None => answer(stream, &*reply, &seen).await,
                }
            });
        }
    });
    (addr, received)
}

async fn answer<S, F, Fut>(mut stream: S, reply: &F, seen: &mpsc::UnboundedSender<Received>)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(Received) -> Fut,
    Fut: Future<Output = Vec<u8>>,
{
    let Some(request) = read_request(&mut stream).await else { return };
    let _ = seen.send(request.clone());
    let bytes = reply(request).await;
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { method, target, headers, body })
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A certificate chain and its key, ready for a [`ServerConfig`].
pub(crate) struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Identity {
    pub(crate) fn server_config(&self) -> ServerConfig {
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .unwrap()
    }
}

/// Leaf certificate parameters for `names`, valid until `not_after` (Unix seconds) if given.
fn leaf_params(names: &[&str], not_after: Option<u64>) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.push(DnType::CommonName, "belfry test leaf");
    if let Some(not_after) = not_after {
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        params.not_after = epoch + Duration::from_secs(not_after);
        params.not_before = epoch + Duration::from_secs(not_after.saturating_sub(365 * 86_400));
    }
    params
}

fn pkcs8(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivatePkcs8KeyDer::from(key.serialize_der()).into()
}

/// A self-signed certificate for `names`.
pub(crate) fn self_signed(names: &[&str]) -> Identity {
    let key = KeyPair::generate().unwrap();
    let cert = leaf_params(names, None).self_signed(&key).unwrap();
    Identity { chain: vec![cert.der().clone()], key: pkcs8(&key) }
}

/// A private certificate authority that signs leaves.
pub(crate) struct TestCa {
    pub root: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub(crate) fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Belfry Test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = params.self_signed(&key).unwrap().der().clone();
        Self { root, issuer: Issuer::new(params, key) }
    }

    /// A leaf for `names` signed by this CA, valid until `not_after` (Unix seconds) if given.
    pub(crate) fn leaf(&self, names: &[&str], not_after: Option<u64>) -> Identity {
        let key = KeyPair::generate().unwrap();
        let cert = leaf_params(names, not_after).signed_by(&key, &self.issuer).unwrap();
        Identity { chain: vec![cert.der().clone()], key: pkcs8(&key) }
    }
}

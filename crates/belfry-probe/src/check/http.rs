//! The `http` check kind: one request on a fresh connection per hop (no pooling), timed phase
//! by phase (DNS, connect, TLS, first byte), following redirects when asked.
//!
//! Phases of a redirect chain add up; status, body and peer address are the last hop's; the
//! certificate expiration is the soonest of the chain's certificates.
//!
//! A body longer than `max_body_bytes` fails the check: reading stops at the first byte past the
//! cap (memory stays bounded) and what arrived up to the cap is kept as the body.

use std::net::IpAddr;
use std::time::Duration;

use belfry_core::{HttpCheck, Observation};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use url::{Host, Position, Url};

use super::tls::{self, TlsConfigs};
use super::{Budget, Reason, add_phase, body_text, error_chain, net};

const USER_AGENT: &str = concat!("Belfry/", env!("CARGO_PKG_VERSION"));

/// Headers that must not follow a redirect to another origin (as browsers and curl do).
const ORIGIN_BOUND_HEADERS: [HeaderName; 4] =
    [header::AUTHORIZATION, header::PROXY_AUTHORIZATION, header::COOKIE, header::HOST];

pub(super) async fn check(spec: &HttpCheck, tls: &TlsConfigs, timeout: Duration) -> Observation {
    let budget = Budget::start(timeout);
    let mut obs = Observation::default();
    let outcome = run(spec, tls, &budget, &mut obs).await;
    budget.finish(obs, outcome)
}

/// What to send on the next hop.
struct Hop {
    url: Url,
    method: Method,
    headers: HeaderMap,
    body: Option<Bytes>,
}

impl Hop {
    fn first(spec: &HttpCheck) -> Result<Self, Reason> {
        let url = Url::parse(&spec.url).map_err(|e| format!("invalid URL {}: {e}", spec.url))?;
        ensure_http(&url)?;
        let method = Method::from_bytes(spec.method.trim().as_bytes())
            .map_err(|_| format!("invalid HTTP method {:?}", spec.method))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &spec.headers {
            let header_name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| format!("invalid header name {name:?}"))?;
            let header_value =
                HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name:?}"))?;
            headers.append(header_name, header_value);
        }
        Ok(Self { url, method, headers, body: spec.body.clone().map(Bytes::from) })
    }

    /// Turns this hop into the one a redirect (`status`, already resolved `target`) asks for.
    fn redirect(&mut self, status: StatusCode, target: Url) {
        if status == StatusCode::SEE_OTHER && self.method != Method::HEAD {
            self.method = Method::GET;
            self.body = None;
            self.headers.remove(header::CONTENT_TYPE);
            self.headers.remove(header::CONTENT_LENGTH);
        }
        if target.origin() != self.url.origin() {
            for name in &ORIGIN_BOUND_HEADERS {
                self.headers.remove(name);
            }
        }
        self.url = target;
    }

    fn request(&self) -> Result<Request<Full<Bytes>>, Reason> {
        let target = &self.url[Position::BeforePath..Position::AfterQuery];
        let uri: Uri = target.parse().map_err(|_| format!("invalid request target {target:?}"))?;
        let mut headers = self.headers.clone();
        if !headers.contains_key(header::HOST) {
            let host = self.url.host_str().unwrap_or_default();
            let host = match self.url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            let host = HeaderValue::from_str(&host).map_err(|_| format!("invalid host {host:?}"))?;
            headers.insert(header::HOST, host);
        }
        if !headers.contains_key(header::USER_AGENT) {
            headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        }
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));

        let mut request = Request::new(Full::new(self.body.clone().unwrap_or_default()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

async fn run(
    spec: &HttpCheck,
    tls: &TlsConfigs,
    budget: &Budget,
    obs: &mut Observation,
) -> Result<(), Reason> {
    let mut hop = Hop::first(spec)?;
    let mut redirects: u32 = 0;
    loop {
        let (response, connection) = send(&hop, spec.verify_tls, tls, budget, obs).await?;
        let status = response.status();
        obs.status = Some(status.as_u16());

        let location = response.headers().get(header::LOCATION);
        if spec.follow_redirects
            && is_redirect(status)
            && let Some(location) = location
        {
            redirects += 1;
            if redirects > u32::from(spec.max_redirects) {
                return Err(format!("too many redirects ({redirects})"));
            }
            let location =
                location.to_str().map_err(|_| "redirect Location header is not valid text".to_owned())?;
            let target =
                hop.url.join(location).map_err(|e| format!("invalid redirect Location {location:?}: {e}"))?;
            ensure_http(&target)?;
            drop(connection);
            hop.redirect(status, target);
            continue;
        }

        let mut body = Vec::new();
        let cap = spec.max_body_bytes;
        let read = budget.phase("response body", read_body(response.into_body(), cap, &mut body));
        let outcome = read.await;
        drop(connection);
        let oversized = matches!(outcome, Ok((true, _)));
        obs.body = Some(body_text(body, oversized));
        return match outcome {
            Ok((false, _)) => Ok(()),
            Ok((true, _)) => Err(format!("response body larger than max_body_bytes ({cap} bytes)")),
            Err(reason) => Err(reason),
        };
    }
}

/// One request on a fresh connection: DNS, connect, TLS (for https), then the response head.
/// The connection lives as long as the returned guard (for reading the body).
async fn send(
    hop: &Hop,
    verify_tls: bool,
    tls: &TlsConfigs,
    budget: &Budget,
    obs: &mut Observation,
) -> Result<(Response<Incoming>, Connection), Reason> {
    // What is reported is the last hop's: forget the previous one's.
    obs.connected = false;
    obs.ip = None;
    obs.status = None;

    let https = hop.url.scheme() == "https";
    let host = hop.url.host_str().ok_or_else(|| format!("URL {} has no host", redact(&hop.url)))?;
    let port = hop.url.port_or_known_default().unwrap_or(if https { 443 } else { 80 });
    let request = hop.request()?;

    let (addrs, dns) = net::resolve(host, port, budget).await?;
    if let Some(took) = dns {
        add_phase(&mut obs.phases.dns_ms, took);
    }
    let (stream, peer, took) = net::connect(&addrs, budget).await?;
    add_phase(&mut obs.phases.connect_ms, took);
    obs.connected = true;
    obs.ip = Some(peer.ip().to_string());

    if !https {
        return exchange(stream, request, budget, obs).await;
    }
    let name = server_name(&hop.url)?;
    let connector = TlsConnector::from(tls.http_config());
    let handshake =
        async { connector.connect(name.clone(), stream).await.map_err(|e| tls::handshake_reason(&e)) };
    let (stream, took) = budget.phase("TLS handshake", handshake).await?;
    add_phase(&mut obs.phases.tls_ms, took);
    let inspection = tls.inspect(stream.get_ref().1.peer_certificates().unwrap_or_default(), &name);
    // A redirect chain reports the certificate that expires first.
    if let Some(left) = inspection.expires_in
        && obs.certificate_expiration.is_none_or(|seen| left <= seen)
    {
        obs.certificate_expiration = Some(left);
        obs.values.insert("certificate".to_owned(), inspection.facts.clone());
    }
    // Judged before anything is sent, so a request never reaches a server that failed it.
    if verify_tls && let Some(problem) = &inspection.problem {
        return Err(format!("TLS handshake failed: {}", tls::tls_reason(problem)));
    }
    exchange(stream, request, budget, obs).await
}

/// Sends `request` over `io` with hyper's HTTP/1 connection API and waits for the head.
async fn exchange<S>(
    io: S,
    request: Request<Full<Bytes>>,
    budget: &Budget,
    obs: &mut Observation,
) -> Result<(Response<Incoming>, Connection), Reason>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP handshake failed: {}", error_chain(&e)))?;
    let connection = Connection(tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %error_chain(&e), "HTTP connection ended with an error");
        }
    }));
    let head = async { sender.send_request(request).await.map_err(|e| response_reason(&e)) };
    let (response, took) = budget.phase("response headers", head).await?;
    add_phase(&mut obs.phases.first_byte_ms, took);
    Ok((response, connection))
}

/// The task driving one HTTP connection; dropping it closes the connection.
struct Connection(JoinHandle<()>);

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads `body` into `buf` up to `cap` bytes; `true` when the body is longer. Reading stops at
/// the first byte past the cap (the rest is never read), so memory stays bounded by `cap`.
async fn read_body(mut body: Incoming, cap: usize, buf: &mut Vec<u8>) -> Result<bool, Reason> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the response body failed: {}", error_chain(&e)))?;
        if let Ok(data) = frame.into_data() {
            let room = cap.saturating_sub(buf.len());
            if data.len() > room {
                buf.extend_from_slice(&data[..room]);
                return Ok(true);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(false)
}

fn response_reason(e: &hyper::Error) -> Reason {
    if e.is_parse() || e.is_parse_status() {
        format!("invalid HTTP response: {}", error_chain(e))
    } else if e.is_incomplete_message() {
        "connection closed before a complete response was received".to_owned()
    } else {
        format!("HTTP request failed: {}", error_chain(e))
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn ensure_http(url: &Url) -> Result<(), Reason> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        _ => Err(format!("URL {} is not http(s)", redact(url))),
    }
}

fn server_name(url: &Url) -> Result<ServerName<'static>, Reason> {
    match url.host() {
        Some(Host::Domain(domain)) => ServerName::try_from(domain.to_owned())
            .map_err(|_| format!("{domain:?} is not a valid TLS server name")),
        Some(Host::Ipv4(ip)) => Ok(ServerName::IpAddress(IpAddr::V4(ip).into())),
        Some(Host::Ipv6(ip)) => Ok(ServerName::IpAddress(IpAddr::V6(ip).into())),
        None => Err(format!("URL {} has no host", redact(url))),
    }
}

/// The URL as shown in reasons and logs: a password in it is masked.
fn redact(url: &Url) -> String {
    if url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    let _ = shown.set_password(Some("***"));
    shown.to_string()
}

#[cfg(test)]
mod tests;

//! The one outbound HTTP client every HTTP channel shares, and the mapping of its outcomes to
//! [`NotifyError`].

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use rustls_platform_verifier::BuilderVerifierExt;

use crate::error::{NotifyError, excerpt};

/// Characters of a receiver's error body quoted in a [`NotifyError`].
const BODY_EXCERPT: usize = 200;

/// A shared HTTPS client (rustls with the ring provider; the system's trusted roots, else the
/// bundled Mozilla roots).
/// Cheap to clone; build one per process and hand it to every channel.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    timeout: Duration,
}

impl HttpClient {
    /// Whole-request timeout used by [`HttpClient::new`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn new() -> Result<Self, NotifyError> {
        Self::with_timeout(Self::DEFAULT_TIMEOUT)
    }

    /// A client whose every request must complete within `timeout` (connect included).
    pub fn with_timeout(timeout: Duration) -> Result<Self, NotifyError> {
        // Configured here rather than through a process-wide default provider, so building a
        // client never depends on what `main` installed first.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| NotifyError::Permanent(format!("TLS setup failed: {e}")))?;
        // The system's roots (so a company CA works); a machine without any (a bare container)
        // still reaches the public services with the bundled Mozilla roots.
        let tls = match builder.clone().with_platform_verifier() {
            Ok(with_system_roots) => with_system_roots,
            Err(e) => {
                tracing::warn!(error = %e, "no system CA certificates; outbound HTTPS uses the bundled roots");
                let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
                builder.with_root_certificates(roots)
            }
        }
        .with_no_client_auth();
        let inner = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // A redirected POST would turn into a GET or lose its body: report it instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Belfry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NotifyError::Permanent(format!("HTTP client setup failed: {}", chain(&e))))?;
        Ok(Self { inner, timeout })
    }

    /// The underlying client, for other outbound HTTP of the process (remote probes talking to
    /// their server): the same TLS setup, timeout and no redirects.
    pub fn client(&self) -> &reqwest::Client {
        &self.inner
    }

    pub(crate) fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.inner.post(url)
    }

    /// Sends the request; `Ok` for any 2xx. `secrets` are scrubbed from any error text.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        secrets: &[&str],
    ) -> Result<(), NotifyError> {
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                // The body is read (bounded by the timeout) to quote it in errors.
                let body = response.text().await.unwrap_or_default();
                classify(status, body)
            }
            Err(e) => Err(self.transport_error(&e)),
        };
        outcome.map_err(|e| e.scrub(secrets))
    }

    fn transport_error(&self, e: &reqwest::Error) -> NotifyError {
        let detail = chain(e);
        if e.is_builder() {
            NotifyError::Permanent(format!("invalid request: {detail}"))
        } else if e.is_timeout() {
            NotifyError::Transient(format!("timed out after {} ms: {detail}", self.timeout.as_millis()))
        } else if e.is_connect() {
            NotifyError::Transient(format!("could not connect: {detail}"))
        } else {
            NotifyError::Transient(format!("request failed: {detail}"))
        }
    }
}

fn classify(status: StatusCode, body: String) -> Result<(), NotifyError> {
    if status.is_success() {
        return Ok(());
    }
    let text = format!("HTTP {status}: {}", excerpt(&body, BODY_EXCERPT));
    let text = text.trim_end_matches(": ").to_owned();
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        Err(NotifyError::Transient(text))
    } else if status.is_redirection() {
        Err(NotifyError::Permanent(format!("{text} (redirects are not followed: use the final URL)")))
    } else {
        Err(NotifyError::Permanent(text))
    }
}

/// The parts of a webhook URL that are the credential: everything after the host, its last
/// path segment and its query, for scrubbing from errors.
pub(crate) fn url_secrets(url: &str) -> [&str; 4] {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let tail = rest.find('/').map_or("", |i| &rest[i + 1..]);
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let last = path.rsplit('/').next().unwrap_or("");
    [url, tail, last, query]
}

/// The error and its causes, without the request URL (which may carry a token).
fn chain(e: &reqwest::Error) -> String {
    let mut text = match e.url() {
        Some(_) => {
            let mut bare = e.to_string();
            if let Some(i) = bare.find(" for url (") {
                bare.truncate(i);
            }
            bare
        }
        None => e.to_string(),
    };
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

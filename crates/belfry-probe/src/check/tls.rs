//! TLS client configs (ring provider, given explicitly), the "accept any certificate" verifier
//! every handshake uses (the chain is judged afterwards, see [`TlsConfigs`]), and TLS errors in
//! words.

use std::io;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub(crate) use super::certificate::Inspection;
use super::net::io_reason;

/// The client configs a checker needs and the verifier that judges certificates. Cheap to clone.
///
/// Handshakes always accept the presented certificate (signatures are still checked, so the
/// server holds its key); the chain is then judged by the webpki verifier on its own
/// ([`TlsConfigs::inspect`]), so a bad chain is reported *and* its expiry and names are still
/// read. With `verify_tls` the check stops there, before anything is sent to the server.
#[derive(Debug, Clone)]
pub(crate) struct TlsConfigs {
    /// For `http` checks: offers ALPN `http/1.1`.
    http: Arc<ClientConfig>,
    /// For `tls` checks: no ALPN.
    bare: Arc<ClientConfig>,
    verifier: Arc<WebPkiServerVerifier>,
}

impl TlsConfigs {
    /// Trusts the webpki roots plus `extra_roots`.
    pub(crate) fn new(extra_roots: Vec<CertificateDer<'static>>) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let (_, ignored) = roots.add_parsable_certificates(extra_roots);
        if ignored > 0 {
            tracing::warn!(ignored, "extra root certificates that are not valid trust anchors were skipped");
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .expect("a verifier over the webpki roots builds");

        let accept_any =
            Arc::new(AcceptAnyCertificate { algorithms: provider.signature_verification_algorithms });
        let config = || {
            ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("the ring provider supports the default TLS versions")
                .dangerous()
                .with_custom_certificate_verifier(accept_any.clone())
                .with_no_client_auth()
        };
        let bare = config();
        let mut http = config();
        // The checker speaks HTTP/1.1 only; say so, so servers do not pick h2.
        http.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self { http: Arc::new(http), bare: Arc::new(bare), verifier }
    }

    pub(crate) fn http_config(&self) -> Arc<ClientConfig> {
        self.http.clone()
    }

    pub(crate) fn bare_config(&self) -> Arc<ClientConfig> {
        self.bare.clone()
    }

    /// Judges the chain a server presented for `name` (leaf first) and reads its facts.
    pub(crate) fn inspect(&self, chain: &[CertificateDer<'_>], name: &ServerName<'_>) -> Inspection {
        super::certificate::inspect(&*self.verifier, chain, name)
    }
}

/// Accepts whatever certificate the server presents (`verify_tls: false`), but still checks
/// that the server holds its key: handshake signatures are verified with the provider's
/// algorithms, so the certificate's expiry can still be reported truthfully.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `TLS handshake failed: invalid peer certificate: UnknownIssuer` and the like.
pub(crate) fn handshake_reason(e: &io::Error) -> String {
    let tls = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let detail = match tls {
        Some(tls) => tls_reason(tls),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            "connection closed by peer during the handshake".to_owned()
        }
        None => io_reason(e),
    };
    format!("TLS handshake failed: {detail}")
}

/// A rustls error in words: `invalid peer certificate: Expired on 2025-01-01T00:00:00Z (3 days
/// ago)`, `invalid peer certificate: UnknownIssuer`.
pub(crate) fn tls_reason(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { time, not_after }) => {
            let days = time.as_secs().saturating_sub(not_after.as_secs()) / 86_400;
            let at = i64::try_from(not_after.as_secs())
                .ok()
                .and_then(|s| jiff::Timestamp::from_second(s).ok())
                .map_or_else(|| format!("{} (UNIX)", not_after.as_secs()), |t| t.to_string());
            format!("invalid peer certificate: Expired on {at} ({days} days ago)")
        }
        other => other.to_string(),
    }
}

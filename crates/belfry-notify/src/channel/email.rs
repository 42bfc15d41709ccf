//! `kind: email`: SMTP (plain, STARTTLS or implicit TLS; AUTH when a username is set) with a
//! text and an HTML alternative.

use std::time::Duration;

use async_trait::async_trait;
use belfry_core::channel::{EmailSettings, Message, SmtpTls};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::error::NotifyError;
use crate::notifier::Notifier;
use crate::render::render;

/// Connect, greeting and each SMTP command must complete within this.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Email {
    settings: EmailSettings,
    /// Built once; a TLS setup failure is kept and reported on every send.
    transport: Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError>,
}

impl Email {
    pub fn new(settings: EmailSettings) -> Self {
        let transport = transport(&settings);
        Self { settings, transport }
    }

    /// The mail for a message, as it goes on the wire.
    pub fn compose(&self, message: &Message) -> Result<lettre::Message, NotifyError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| NotifyError::Permanent(format!("{what}: {e}"));
        let r = render(message);
        let from: Mailbox = self.settings.from.parse().map_err(|e| bad("from", &e))?;
        let mut builder = lettre::Message::builder()
            .from(from)
            .subject(r.title)
            .message_id(Some(message_id(&message.idempotency_key, &self.settings.from)))
            .header(AutoSubmitted)
            .header(BelfryEvent(message.event.as_str()));
        for to in &self.settings.to {
            builder = builder.to(to.parse().map_err(|e| bad(&format!("to {to:?}"), &e))?);
        }
        builder.multipart(MultiPart::alternative_plain_html(r.text, r.html)).map_err(|e| bad("message", &e))
    }
}

fn transport(settings: &EmailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
    let smtp = &settings.smtp;
    let tls_parameters = || {
        // The system's roots, else (no CA bundle on the machine) the bundled Mozilla roots.
        TlsParameters::new(smtp.host.clone())
            .or_else(|_| {
                TlsParameters::builder(smtp.host.clone())
                    .certificate_store(CertificateStore::WebpkiRoots)
                    .build()
            })
            .map_err(|e| NotifyError::Permanent(format!("SMTP TLS setup for {}: {e}", smtp.host)))
    };
    let tls = match smtp.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(tls_parameters()?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &smtp.username {
        let password = smtp.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// `<key@domain-of-from>`, so each delivery has a stable, unique Message-ID across retries.
fn message_id(key: &str, from: &str) -> String {
    let domain = from.rsplit_once('@').map_or("belfry.invalid", |(_, d)| d.trim_end_matches('>').trim());
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let key: String = key.chars().map(|c| if safe(c) { c } else { '.' }).collect();
    format!("<{key}@{domain}>")
}

#[async_trait]
impl Notifier for Email {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let transport = self.transport.as_ref().map_err(Clone::clone)?;
        let mail = self.compose(message)?;
        let password = self.settings.smtp.password.as_ref().map(|p| p.expose());
        let smtp = &self.settings.smtp;
        let place = format!("SMTP {}:{} (tls: {})", smtp.host, smtp.port, smtp.tls.as_str());
        match transport.send(mail).await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(&place, &e).scrub(&password.into_iter().collect::<Vec<_>>())),
        }
    }
}

fn classify(place: &str, e: &lettre::transport::smtp::Error) -> NotifyError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    let text = text.replace("Connection error: Connection error:", "Connection error:");
    if e.is_permanent() {
        NotifyError::Permanent(format!("{place} rejected the mail: {text}"))
    } else if e.is_transient() || e.is_timeout() {
        NotifyError::Transient(format!("{place}: {text}"))
    } else if e.is_client() || e.is_tls() || tls_failure(e) {
        // STARTTLS not offered, a certificate not trusted, TLS spoken to a plain port: the
        // settings are wrong, and retrying will not change that.
        NotifyError::Permanent(format!("{place}: {text} (check smtp.tls and smtp.port)"))
    } else {
        NotifyError::Transient(format!("{place}: {text}"))
    }
}

/// Whether a TLS handshake failed somewhere in the cause chain (lettre reports a handshake
/// that meets a plain-text server as a connection error).
fn tls_failure(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let inner =
            cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map_or(cause, |i| i as _);
        if inner.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// `Auto-Submitted: auto-generated` (RFC 3834), so vacation responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `X-Belfry-Event: down`, for mail filters.
#[derive(Clone)]
struct BelfryEvent(&'static str);

impl Header for BelfryEvent {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Belfry-Event")
    }

    fn parse(raw: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        belfry_core::channel::MessageEvent::parse(raw.trim())
            .map(|e| Self(e.as_str()))
            .ok_or_else(|| format!("unknown event {raw:?}").into())
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

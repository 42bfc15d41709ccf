//! How failed deliveries are reported: transient or permanent, with the receiver's answer and
//! never a credential.

use std::time::{Duration, Instant};

use belfry_core::channel::{
    ChannelKind, ChatWebhookSettings, NtfySettings, OpsgenieSettings, PagerDutySettings, TelegramSettings,
    WebhookSettings,
};
use belfry_notify::{HttpClient, NotifyError};

use crate::fixtures::{down, notifier, notifier_with};
use crate::receiver::Receiver;

fn webhook(url: String) -> ChannelKind {
    ChannelKind::Webhook(WebhookSettings { url, secret: Some("whsec-fail-0001".into()), headers: vec![] })
}

async fn answer(status: u16, body: &str) -> NotifyError {
    let rx = Receiver::start().await;
    rx.reply(status, body);
    notifier(webhook(rx.url("/h"))).send(&down()).await.expect_err("a failed delivery")
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_transient() {
    for status in [500, 502, 503, 429, 408] {
        let err = answer(status, "upstream is down").await;
        assert!(err.is_transient(), "{status}: {err:?}");
        assert!(err.message().contains(&status.to_string()), "{err}");
        assert!(err.message().contains("upstream is down"), "{err}");
    }
    assert_eq!(answer(503, "").await, NotifyError::Transient("HTTP 503 Service Unavailable".into()));
}

#[tokio::test]
async fn client_errors_are_permanent_with_the_body() {
    let err = answer(400, r#"{"error": "invalid_payload"}"#).await;
    assert_eq!(err, NotifyError::Permanent(r#"HTTP 400 Bad Request: {"error": "invalid_payload"}"#.into()));
    for status in [401, 403, 404, 410, 422] {
        assert!(!answer(status, "no").await.is_transient(), "{status}");
    }
}

#[tokio::test]
async fn redirects_are_reported_not_followed() {
    let err = answer(302, "moved").await;
    assert!(!err.is_transient() && err.message().contains("redirects are not followed"), "{err}");
}

#[tokio::test]
async fn long_bodies_are_quoted_in_short() {
    let err = answer(500, &format!("{}\n\n{}", "x".repeat(150), "y".repeat(500))).await;
    let quoted = err.message().split_once(": ").unwrap().1;
    assert_eq!(quoted.chars().count(), 201, "{quoted}");
    assert!(quoted.ends_with('…') && !quoted.contains('\n'));
}

#[tokio::test]
async fn a_slow_receiver_times_out_as_transient() {
    let rx = Receiver::start().await;
    rx.delay(Duration::from_secs(5));
    let http = HttpClient::with_timeout(Duration::from_millis(300)).unwrap();
    let started = Instant::now();
    let err = notifier_with(webhook(rx.url("/slow")), &http).send(&down()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(err.is_transient() && err.message().starts_with("timed out after 300 ms"), "{err}");
}

#[tokio::test]
async fn an_unreachable_receiver_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = notifier(webhook(format!("http://127.0.0.1:{port}/h"))).send(&down()).await.unwrap_err();
    assert!(err.is_transient() && err.message().starts_with("could not connect"), "{err}");
}

#[tokio::test]
async fn a_bad_url_is_permanent() {
    let err = notifier(webhook("not a url".into())).send(&down()).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
}

/// Every credential of every HTTP kind, and channels whose receivers echo them back.
#[tokio::test]
async fn credentials_never_appear_in_errors() {
    const SECRETS: [&str; 9] = [
        "whsec-leak-0001",
        "hdr-leak-0001",
        "slack-leak-0001",
        "discord-leak-0001",
        "teams-leak-0001",
        "999:tg-leak-0001",
        "tk_ntfy_leak_0001",
        "pd-leak-0001",
        "og-leak-0001",
    ];
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("http://127.0.0.1:{port}");
    let kinds = |base: &str| {
        vec![
            ChannelKind::Webhook(WebhookSettings {
                url: format!("{base}/h"),
                secret: Some(SECRETS[0].into()),
                headers: vec![("Authorization".into(), SECRETS[1].into())],
            }),
            ChannelKind::Slack(ChatWebhookSettings { webhook_url: format!("{base}/{}", SECRETS[2]).into() }),
            ChannelKind::Discord(ChatWebhookSettings {
                webhook_url: format!("{base}/{}", SECRETS[3]).into(),
            }),
            ChannelKind::Teams(ChatWebhookSettings { webhook_url: format!("{base}/{}", SECRETS[4]).into() }),
            ChannelKind::Telegram(TelegramSettings {
                api_url: base.to_owned(),
                ..TelegramSettings::new(SECRETS[5], "1")
            }),
            ChannelKind::Ntfy(NtfySettings {
                server: base.to_owned(),
                token: Some(SECRETS[6].into()),
                ..NtfySettings::new("t")
            }),
            ChannelKind::PagerDuty(PagerDutySettings {
                events_url: format!("{base}/e"),
                ..PagerDutySettings::new(SECRETS[7])
            }),
            ChannelKind::Opsgenie(OpsgenieSettings {
                api_url: base.to_owned(),
                ..OpsgenieSettings::new(SECRETS[8])
            }),
        ]
    };
    // A receiver that quotes back the credentials it was sent, as some do.
    let rx = Receiver::start().await;
    for (i, kind) in kinds(&rx.base).into_iter().enumerate() {
        let own: &[&str] = if i == 0 { &SECRETS[..2] } else { &SECRETS[i + 1..i + 2] };
        rx.reply(500, &format!("bad request, you sent {}", own.join(" and ")));
        let name = kind.name();
        let err = notifier(kind).send(&down()).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(err.is_transient() && shown.contains("you sent ***"), "{name}: {shown}");
        for secret in SECRETS {
            assert!(!shown.contains(secret), "{name} leaked {secret}: {shown}");
        }
    }
    // Transport errors (nobody listening) must not quote the URL either.
    for kind in kinds(&closed) {
        let name = kind.name();
        let err = notifier(kind).send(&down()).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(err.is_transient(), "{name}: {shown}");
        for secret in SECRETS {
            assert!(!shown.contains(secret), "{name} leaked {secret}: {shown}");
        }
    }
}

/// HTTPS really runs (rustls with ring, no process-wide provider installed) and an untrusted
/// certificate is refused with a clear reason.
#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    use std::sync::Arc;

    let self_signed = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self_signed.signing_key.serialize_der().into());
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![self_signed.cert.der().clone()], key)
            .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.map(drop).map_err(|e| e.to_string())
    });

    let err = notifier(webhook(format!("https://127.0.0.1:{port}/h"))).send(&down()).await.unwrap_err();
    assert!(err.message().contains("invalid peer certificate: UnknownIssuer"), "{err}");
    assert!(handshakes.await.unwrap().is_err(), "the client must have aborted the handshake");
}

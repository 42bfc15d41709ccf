//! The email channel against a real SMTP server.

use belfry_core::channel::{ChannelKind, EmailSettings, SmtpSettings, SmtpTls};
use belfry_notify::{NotifyError, render};
use serde_json::json;

use crate::fixtures::{down, notifier};
use crate::smtp::{PASSWORD, Smtp, USER};

fn email(port: u16, tls: SmtpTls, to: &[&str]) -> EmailSettings {
    EmailSettings {
        to: to.iter().map(|s| (*s).to_owned()).collect(),
        from: "Belfry <belfry@acme.test>".into(),
        smtp: SmtpSettings { host: "127.0.0.1".into(), port, tls, username: None, password: None },
    }
}

fn crlf_to_lf(text: &serde_json::Value) -> String {
    text.as_str().unwrap().replace("\r\n", "\n")
}

#[tokio::test]
async fn plain_smtp_delivers_a_text_and_html_alternative() {
    let smtp = Smtp::start();
    let settings = email(smtp.port, SmtpTls::None, &["oncall@acme.test", "Backup Person <backup@acme.test>"]);
    notifier(ChannelKind::Email(settings)).send(&down()).await.unwrap();

    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail["mail_from"], "belfry@acme.test");
    assert_eq!(mail["rcpt_tos"], json!(["oncall@acme.test", "backup@acme.test"]));
    assert_eq!(mail["login"], json!(null));
    let headers = &mail["headers"];
    assert_eq!(headers["from"], "Belfry <belfry@acme.test>");
    assert_eq!(headers["to"], "oncall@acme.test, Backup Person <backup@acme.test>");
    assert_eq!(headers["subject"], "Down: Internal API");
    assert_eq!(headers["message-id"], "<dlv-0001@acme.test>");
    assert_eq!(headers["auto-submitted"], "auto-generated");
    assert_eq!(headers["x-belfry-event"], "down");
    assert!(headers["date"].is_string());
    assert_eq!(mail["content_type"], "multipart/alternative");
    assert_eq!(mail["parts"], json!(["text/plain", "text/html"]));

    let rendered = render(&down());
    assert_eq!(crlf_to_lf(&mail["text"]), rendered.text);
    assert_eq!(crlf_to_lf(&mail["html"]), rendered.html);
    let html = crlf_to_lf(&mail["html"]);
    assert!(html.contains("3 of 3 checks failed within 5m &lt;from eu &amp; us&gt;."), "{html}");
    assert!(html.contains("<code>[RESPONSE_TIME] (2100) &lt; 1000</code>"), "{html}");
    assert!(html.contains(r#"<a href="https://status.acme.test/ack/a1?sig=xyz&amp;exp=99">"#), "{html}");
    assert!(html.contains("2024-06-01 07:00:00 EDT (11:00:00 UTC)"), "{html}");
}

#[tokio::test]
async fn non_ascii_subjects_and_bodies_survive() {
    let smtp = Smtp::start();
    let mut message = down();
    message.title = "Zähler-Dienst ⚠".into();
    message.summary = "Überlastung — 50 % Fehler".into();
    notifier(ChannelKind::Email(email(smtp.port, SmtpTls::None, &["oncall@acme.test"])))
        .send(&message)
        .await
        .unwrap();
    let mail = &smtp.mails()[0];
    assert_eq!(mail["headers"]["subject"], "Down: Zähler-Dienst ⚠");
    assert!(crlf_to_lf(&mail["text"]).contains("Überlastung — 50 % Fehler"), "{mail}");
}

#[tokio::test]
async fn auth_is_used_when_a_username_is_set() {
    let smtp = Smtp::start();
    let mut settings = email(smtp.port, SmtpTls::None, &["oncall@acme.test"]);
    settings.smtp.username = Some(USER.into());
    settings.smtp.password = Some(PASSWORD.into());
    notifier(ChannelKind::Email(settings.clone())).send(&down()).await.unwrap();
    assert_eq!(smtp.mails()[0]["login"], USER);

    settings.smtp.password = Some("wrong-pass-0001".into());
    let err = notifier(ChannelKind::Email(settings)).send(&down()).await.unwrap_err();
    assert!(!err.is_transient() && err.message().contains("535"), "{err}");
    assert!(!format!("{err} {err:?}").contains("wrong-pass-0001"), "{err}");
    assert_eq!(smtp.mails().len(), 1);
}

#[tokio::test]
async fn smtp_reply_codes_decide_transient_or_permanent() {
    let smtp = Smtp::start();
    let send = |to: &'static str| {
        let kind = ChannelKind::Email(email(smtp.port, SmtpTls::None, &[to]));
        async move { notifier(kind).send(&down()).await }
    };
    let rejected = send("reject@acme.test").await.unwrap_err();
    assert!(!rejected.is_transient() && rejected.message().contains("550"), "{rejected}");
    let deferred = send("later@acme.test").await.unwrap_err();
    assert!(deferred.is_transient() && deferred.message().contains("451"), "{deferred}");
    assert!(smtp.mails().is_empty());
}

#[tokio::test]
async fn starttls_required_against_a_server_without_it_is_a_clear_error() {
    let smtp = Smtp::start();
    let err = notifier(ChannelKind::Email(email(smtp.port, SmtpTls::StartTls, &["oncall@acme.test"])))
        .send(&down())
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
    let text = err.message();
    assert!(text.contains("STARTTLS is not supported") && text.contains("tls: starttls"), "{text}");
    assert!(smtp.mails().is_empty(), "nothing is sent in the clear");
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_fails_without_sending() {
    let smtp = Smtp::start();
    let err = notifier(ChannelKind::Email(email(smtp.port, SmtpTls::Tls, &["oncall@acme.test"])))
        .send(&down())
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
    let text = err.message();
    assert!(text.starts_with(&format!("SMTP 127.0.0.1:{} (tls: tls): ", smtp.port)), "{text}");
    assert!(text.contains("corrupt message") && text.ends_with("(check smtp.tls and smtp.port)"), "{text}");
    assert!(smtp.mails().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_is_transient_and_bad_addresses_are_permanent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = notifier(ChannelKind::Email(email(port, SmtpTls::None, &["oncall@acme.test"])))
        .send(&down())
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");

    let mut settings = email(port, SmtpTls::None, &["oncall@acme.test"]);
    settings.from = "not an address".into();
    let err = notifier(ChannelKind::Email(settings)).send(&down()).await.unwrap_err();
    assert!(matches!(&err, NotifyError::Permanent(m) if m.starts_with("from:")), "{err}");
}

/// Both TLS modes really handshake (rustls with ring): a certificate nobody trusts is refused
/// before anything is sent.
#[tokio::test]
async fn starttls_and_implicit_tls_verify_the_server_certificate() {
    for tls in [SmtpTls::StartTls, SmtpTls::Tls] {
        let smtp = Smtp::start_with_untrusted_tls(tls);
        let mut settings = email(smtp.port, tls, &["oncall@acme.test"]);
        settings.smtp.username = Some(USER.into());
        settings.smtp.password = Some(PASSWORD.into());
        let err = notifier(ChannelKind::Email(settings)).send(&down()).await.unwrap_err();
        let text = err.message();
        assert!(
            !err.is_transient() && text.contains("invalid peer certificate: UnknownIssuer"),
            "{tls:?}: {text}"
        );
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(smtp.mails().is_empty(), "{tls:?}");
    }
}

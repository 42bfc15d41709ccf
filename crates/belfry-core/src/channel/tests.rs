use super::*;

fn id(raw: &str) -> ChannelId {
    ChannelId::parse(raw).unwrap()
}

fn email() -> EmailSettings {
    EmailSettings {
        to: vec!["oncall@acme.test".into()],
        from: "Belfry <belfry@acme.test>".into(),
        smtp: SmtpSettings {
            host: "127.0.0.1".into(),
            port: 2525,
            tls: SmtpTls::None,
            username: Some("mailer".into()),
            password: Some("smtp-pass-123".into()),
        },
    }
}

#[test]
fn secrets_never_show_in_debug() {
    let specs = [
        ChannelKind::Email(email()),
        ChannelKind::Webhook(WebhookSettings {
            url: "https://user:pw-in-url@hooks.acme.test/x?token=tok-in-query".into(),
            secret: Some("whsec-abc".into()),
            headers: vec![("Authorization".into(), "Bearer hdr-secret".into())],
        }),
        ChannelKind::Slack(ChatWebhookSettings {
            webhook_url: "https://hooks.slack.test/T0/B0/slack-secret".into(),
        }),
        ChannelKind::Telegram(TelegramSettings::new("123:tg-secret", "42")),
        ChannelKind::Ntfy(NtfySettings {
            token: Some("tk_ntfy-secret".into()),
            ..NtfySettings::new("alerts")
        }),
        ChannelKind::PagerDuty(PagerDutySettings::new("pd-routing-secret")),
        ChannelKind::Opsgenie(OpsgenieSettings::new("og-key-secret")),
    ];
    for kind in specs {
        let spec = ChannelSpec { id: id("c"), kind };
        let debug = format!("{spec:?} {spec:#?}");
        for secret in [
            "smtp-pass-123",
            "pw-in-url",
            "tok-in-query",
            "whsec-abc",
            "hdr-secret",
            "slack-secret",
            "tg-secret",
            "ntfy-secret",
            "pd-routing-secret",
            "og-key-secret",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
        assert!(debug.contains("***"), "{debug}");
    }
    assert_eq!(Secret::new("x").to_string(), "***");
    assert_eq!(Secret::new("x").expose(), "x");
}

#[test]
fn redact_url_hides_credentials_and_query_only() {
    assert_eq!(redact_url("https://a:b@h.test:8/p/q?x=1#f"), "https://***@h.test:8/p/q?***");
    assert_eq!(redact_url("http://h.test/p"), "http://h.test/p");
    assert_eq!(redact_url("http://h.test?k=v"), "http://h.test?***");
}

#[test]
fn defaults_are_the_public_endpoints() {
    assert_eq!(TelegramSettings::new("t", "1").api_url, "https://api.telegram.org");
    assert_eq!(NtfySettings::new("t").server, "https://ntfy.sh");
    assert_eq!(PagerDutySettings::new("k").events_url, "https://events.pagerduty.com/v2/enqueue");
    assert_eq!(OpsgenieSettings::new("k").api_url, "https://api.opsgenie.com");
    assert_eq!(SmtpTls::parse("starttls"), Some(SmtpTls::StartTls));
    assert_eq!(SmtpTls::parse("ssl"), None);
}

#[test]
fn validation_names_each_bad_key() {
    assert!(ChannelKind::Email(email()).validate().is_empty());
    let mut bad = email();
    bad.to = vec!["nobody".into()];
    bad.from = String::new();
    bad.smtp.port = 0;
    let paths: Vec<String> = ChannelKind::Email(bad).validate().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["to[0]", "from", "smtp.port"]);

    let hook = |url: &str, header: &str| {
        ChannelKind::Webhook(WebhookSettings {
            url: url.into(),
            secret: None,
            headers: vec![(header.into(), "v".into())],
        })
        .validate()
    };
    assert!(hook("https://h.test/x", "X-Token").is_empty());
    assert_eq!(hook("ftp://h.test", "X-Token")[0].0, "url");
    assert_eq!(hook("https://h.test", "Bad Header")[0].0, "headers[0]");

    let ntfy = NtfySettings { priority: Some(9), ..NtfySettings::new("bad topic") };
    let paths: Vec<String> = ChannelKind::Ntfy(ntfy).validate().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["topic", "priority"]);
    assert!(ChannelKind::PagerDuty(PagerDutySettings::new("")).validate()[0].0 == "routing_key");
}

#[test]
fn message_round_trips_through_json_with_snake_case_enums() {
    let message = Message {
        idempotency_key: "d-1".into(),
        event: MessageEvent::CertificateExpiring,
        severity: Severity::Warning,
        title: "API".into(),
        summary: "expires soon".into(),
        monitor: Some(MessageSubject { id: id("api-tls"), name: "API TLS".into() }),
        component: None,
        failing_conditions: vec!["[CERTIFICATE_EXPIRATION] > 168h".into()],
        since: Some("2024-06-01T11:00:00Z".parse().unwrap()),
        incident_url: None,
        ack_url: Some("https://s.test/ack/x".into()),
        unsubscribe_url: None,
        dedup_key: "alert-1".into(),
        page_time_zone: "UTC".into(),
    };
    let json = serde_json::to_value(&message).unwrap();
    assert_eq!(json["event"], "certificate_expiring");
    assert_eq!(json["severity"], "warning");
    let back: Message = serde_json::from_value(json).unwrap();
    assert_eq!(back, message);
    for event in MessageEvent::ALL {
        assert_eq!(MessageEvent::parse(event.as_str()), Some(event));
    }
}

//! The exact request each HTTP channel sends.

use belfry_core::channel::{
    ChannelKind, ChatWebhookSettings, NtfySettings, OpsgenieSettings, PagerDutySettings, TelegramSettings,
    WebhookSettings,
};
use belfry_notify::render;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::fixtures::{down, notifier, up};
use crate::receiver::{Captured, Receiver};

const ACK: &str = "https://status.acme.test/ack/a1?sig=xyz&exp=99";
const INCIDENT: &str = "https://status.acme.test/incidents/in-42";
const SINCE: &str = "2024-06-01 07:00:00 EDT (11:00:00 UTC)";

fn assert_post_json(req: &Captured, target: &str) {
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, target);
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert!(req.header("user-agent").unwrap().starts_with("Belfry/"), "{:?}", req.headers);
}

#[tokio::test]
async fn webhook_posts_signed_json_with_idempotency_key() {
    let rx = Receiver::start().await;
    let secret = "whsec-test-0001";
    let kind = ChannelKind::Webhook(WebhookSettings {
        url: rx.url("/hooks/belfry"),
        secret: Some(secret.into()),
        headers: vec![
            ("X-Api-Key".into(), "hdr-key-0001".into()),
            ("Content-Type".into(), "text/plain".into()),
        ],
    });
    let before = jiff::Timestamp::now().as_second();
    notifier(kind).send(&down()).await.unwrap();
    let after = jiff::Timestamp::now().as_second();

    let req = rx.only();
    assert_post_json(&req, "/hooks/belfry");
    assert_eq!(req.headers.get_all("content-type").iter().count(), 1, "ours replaces a custom Content-Type");
    assert_eq!(req.header("x-api-key"), Some("hdr-key-0001"));
    assert_eq!(req.header("idempotency-key"), Some("dlv-0001"));
    assert_eq!(req.header("belfry-event"), Some("down"));

    // The signature, recomputed here from the raw bytes received.
    let signature = req.header("belfry-signature").expect("signed");
    let (t, v1) = signature.strip_prefix("t=").unwrap().split_once(",v1=").unwrap();
    let t: i64 = t.parse().unwrap();
    assert!((before..=after).contains(&t), "t={t} not within the send");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&req.body);
    assert_eq!(v1, hex::encode(mac.finalize().into_bytes()));
    assert_eq!(v1.len(), 64);

    assert_eq!(
        req.json(),
        json!({
            "id": "dlv-0001",
            "event": "down",
            "severity": "critical",
            "title": "Down: Internal API",
            "summary": "3 of 3 checks failed within 5m <from eu & us>.",
            "text": render(&down()).text,
            "monitor": {"id": "api-http", "name": "Internal API"},
            "component": {"id": "api", "name": "API"},
            "failing_conditions": ["[STATUS] (503) == 200", "[RESPONSE_TIME] (2100) < 1000"],
            "since": "2024-06-01T11:00:00Z",
            "incident_url": INCIDENT,
            "ack_url": ACK,
            "dedup_key": "alert-api-http-1717239600",
        })
    );
}

#[tokio::test]
async fn webhook_without_secret_is_unsigned() {
    let rx = Receiver::start().await;
    let kind = ChannelKind::Webhook(WebhookSettings { url: rx.url("/h?x=1"), secret: None, headers: vec![] });
    notifier(kind).send(&up()).await.unwrap();
    let req = rx.only();
    assert_post_json(&req, "/h?x=1");
    assert_eq!(req.header("belfry-signature"), None);
    assert_eq!(req.header("belfry-event"), Some("up"));
    assert_eq!(req.json()["severity"], "resolved");
    assert_eq!(req.json()["failing_conditions"], json!([]));
}

#[tokio::test]
async fn slack_sends_text_and_blocks() {
    let rx = Receiver::start().await;
    let kind = ChannelKind::Slack(ChatWebhookSettings {
        webhook_url: rx.url("/services/T0/B0/slack-secret").into(),
    });
    notifier(kind).send(&down()).await.unwrap();
    let req = rx.only();
    assert_post_json(&req, "/services/T0/B0/slack-secret");
    assert_eq!(
        req.json(),
        json!({
            "text": "Down: Internal API",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Down: Internal API", "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn",
                    "text": "*Internal API is down.*\n3 of 3 checks failed within 5m &lt;from eu &amp; us&gt;."}},
                {"type": "section", "fields": [
                    {"type": "mrkdwn", "text": "*Monitor*\nInternal API (api-http)"},
                    {"type": "mrkdwn", "text": "*Component*\nAPI (api)"},
                    {"type": "mrkdwn", "text": format!("*Down since*\n{SINCE}")},
                ]},
                {"type": "section", "text": {"type": "mrkdwn",
                    "text": "*Failing conditions*\n• `[STATUS] (503) == 200`\n• `[RESPONSE_TIME] (2100) &lt; 1000`"}},
                {"type": "actions", "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"}, "url": ACK,
                     "style": "danger", "action_id": "belfry_ack"},
                    {"type": "button", "text": {"type": "plain_text", "text": "View incident"}, "url": INCIDENT,
                     "action_id": "belfry_incident"},
                ]},
            ],
        })
    );
}

#[tokio::test]
async fn discord_sends_one_embed_without_mentions() {
    let rx = Receiver::start().await;
    rx.reply(204, "");
    let kind = ChannelKind::Discord(ChatWebhookSettings {
        webhook_url: rx.url("/api/webhooks/1/discord-secret").into(),
    });
    notifier(kind).send(&down()).await.unwrap();
    let req = rx.only();
    assert_post_json(&req, "/api/webhooks/1/discord-secret");
    assert_eq!(
        req.json(),
        json!({
            "content": "Down: Internal API",
            "embeds": [{
                "title": "Down: Internal API",
                "description": "**Internal API is down.**\n3 of 3 checks failed within 5m <from eu & us>.",
                "color": 0xd1242f,
                "url": INCIDENT,
                "timestamp": "2024-06-01T11:00:00Z",
                "footer": {"text": "Belfry"},
                "fields": [
                    {"name": "Monitor", "value": "Internal API (api-http)", "inline": true},
                    {"name": "Component", "value": "API (api)", "inline": true},
                    {"name": "Down since", "value": SINCE, "inline": true},
                    {"name": "Failing conditions",
                     "value": "`[STATUS] (503) == 200`\n`[RESPONSE_TIME] (2100) < 1000`", "inline": false},
                    {"name": "Links", "value": format!("[Acknowledge]({ACK}) · [View incident]({INCIDENT})"),
                     "inline": false},
                ],
            }],
            "allowed_mentions": {"parse": []},
        })
    );
}

#[tokio::test]
async fn teams_sends_an_adaptive_card() {
    let rx = Receiver::start().await;
    rx.reply(202, "");
    let kind =
        ChannelKind::Teams(ChatWebhookSettings { webhook_url: rx.url("/workflows/teams-secret").into() });
    notifier(kind).send(&down()).await.unwrap();
    let req = rx.only();
    assert_post_json(&req, "/workflows/teams-secret");
    assert_eq!(
        req.json(),
        json!({
            "type": "message",
            "summary": "Down: Internal API",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": [
                        {"type": "TextBlock", "text": "Down: Internal API", "size": "Large", "weight": "Bolder",
                         "color": "Attention", "wrap": true},
                        {"type": "TextBlock", "text": "Internal API is down.", "weight": "Bolder", "wrap": true},
                        {"type": "TextBlock", "text": "3 of 3 checks failed within 5m <from eu & us>.", "wrap": true},
                        {"type": "FactSet", "facts": [
                            {"title": "Monitor", "value": "Internal API (api-http)"},
                            {"title": "Component", "value": "API (api)"},
                            {"title": "Down since", "value": SINCE},
                        ]},
                        {"type": "TextBlock", "text": "Failing conditions", "weight": "Bolder", "wrap": true},
                        {"type": "TextBlock", "text": "[STATUS] (503) == 200", "fontType": "Monospace",
                         "wrap": true, "spacing": "None"},
                        {"type": "TextBlock", "text": "[RESPONSE_TIME] (2100) < 1000", "fontType": "Monospace",
                         "wrap": true, "spacing": "None"},
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Acknowledge", "url": ACK},
                        {"type": "Action.OpenUrl", "title": "View incident", "url": INCIDENT},
                    ],
                },
            }],
        })
    );
}

#[tokio::test]
async fn telegram_sends_escaped_html_to_send_message() {
    let rx = Receiver::start().await;
    rx.reply(200, r#"{"ok":true,"result":{"message_id":1}}"#);
    let settings = TelegramSettings {
        api_url: rx.url("/tg/"),
        ..TelegramSettings::new("123456:tg-secret-token", "-100123")
    };
    notifier(ChannelKind::Telegram(settings)).send(&down()).await.unwrap();
    let req = rx.only();
    assert_post_json(&req, "/tg/bot123456:tg-secret-token/sendMessage");
    assert_eq!(
        req.json(),
        json!({
            "chat_id": "-100123",
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
            "text": format!(
                "<b>Down: Internal API</b>\nInternal API is down.\n\
                 3 of 3 checks failed within 5m &lt;from eu &amp; us&gt;.\n\n\
                 <b>Monitor:</b> Internal API (api-http)\n<b>Component:</b> API (api)\n<b>Down since:</b> {SINCE}\n\n\
                 <b>Failing conditions:</b>\n• <code>[STATUS] (503) == 200</code>\n\
                 • <code>[RESPONSE_TIME] (2100) &lt; 1000</code>\n\n\
                 <a href=\"https://status.acme.test/ack/a1?sig=xyz&amp;exp=99\">Acknowledge</a> | \
                 <a href=\"{INCIDENT}\">View incident</a>\n"
            ),
        })
    );
}

#[tokio::test]
async fn ntfy_publishes_text_with_its_headers() {
    let rx = Receiver::start().await;
    let settings = NtfySettings {
        server: rx.url("/ntfy/"),
        token: Some("tk_ntfy_secret".into()),
        ..NtfySettings::new("belfry-alerts")
    };
    notifier(ChannelKind::Ntfy(settings)).send(&down()).await.unwrap();
    let req = rx.only();
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/ntfy/belfry-alerts");
    assert_eq!(req.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(req.header("authorization"), Some("Bearer tk_ntfy_secret"));
    assert_eq!(req.header("title"), Some("Down: Internal API"));
    assert_eq!(req.header("priority"), Some("5"));
    assert_eq!(req.header("tags"), Some("rotating_light,down"));
    assert_eq!(req.header("click"), Some(INCIDENT));
    assert_eq!(
        req.header("actions"),
        Some(format!("view, Acknowledge, {ACK}, clear=true; view, Incident, {INCIDENT}").as_str())
    );
    assert_eq!(req.text(), render(&down()).text);
}

#[tokio::test]
async fn ntfy_priority_override_and_non_ascii_title() {
    let rx = Receiver::start().await;
    let settings = NtfySettings { server: rx.base.clone(), priority: Some(2), ..NtfySettings::new("t1") };
    let mut message = up();
    message.title = "Zähler-API".into();
    message.incident_url = None;
    message.ack_url = None;
    notifier(ChannelKind::Ntfy(settings)).send(&message).await.unwrap();
    let req = rx.only();
    assert_eq!(req.target, "/t1");
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.header("priority"), Some("2"));
    assert_eq!(req.header("tags"), Some("white_check_mark,up"));
    assert_eq!(req.header("title"), Some("=?UTF-8?Q?Recovered=3A_Z=C3=A4hler-API?="));
    assert_eq!((req.header("click"), req.header("actions")), (None, None));
}

#[tokio::test]
async fn pagerduty_triggers_then_resolves_under_one_dedup_key() {
    let rx = Receiver::start().await;
    rx.reply(
        202,
        r#"{"status":"success","message":"Event processed","dedup_key":"alert-api-http-1717239600"}"#,
    );
    let settings = PagerDutySettings {
        events_url: rx.url("/v2/enqueue"),
        ..PagerDutySettings::new("pd-routing-key-0001")
    };
    let pd = notifier(ChannelKind::PagerDuty(settings));
    pd.send(&down()).await.unwrap();
    let trigger = rx.only();
    assert_post_json(&trigger, "/v2/enqueue");
    assert_eq!(
        trigger.json(),
        json!({
            "routing_key": "pd-routing-key-0001",
            "event_action": "trigger",
            "dedup_key": "alert-api-http-1717239600",
            "payload": {
                "summary": "Down: Internal API",
                "source": "api-http",
                "severity": "critical",
                "class": "down",
                "component": "API",
                "timestamp": "2024-06-01T11:00:00Z",
                "custom_details": {
                    "event": "down",
                    "summary": "3 of 3 checks failed within 5m <from eu & us>.",
                    "failing_conditions": ["[STATUS] (503) == 200", "[RESPONSE_TIME] (2100) < 1000"],
                    "monitor": "Internal API (api-http)",
                    "component": "API (api)",
                    "down_since": SINCE,
                },
            },
            "client": "Belfry",
            "client_url": INCIDENT,
            "links": [{"href": ACK, "text": "Acknowledge in Belfry"}, {"href": INCIDENT, "text": "Incident"}],
        })
    );

    let rx2 = Receiver::start().await;
    rx2.reply(202, "{}");
    let settings = PagerDutySettings {
        events_url: rx2.url("/v2/enqueue"),
        ..PagerDutySettings::new("pd-routing-key-0001")
    };
    notifier(ChannelKind::PagerDuty(settings)).send(&up()).await.unwrap();
    let resolve = rx2.only();
    assert_post_json(&resolve, "/v2/enqueue");
    assert_eq!(
        resolve.json(),
        json!({"routing_key": "pd-routing-key-0001", "event_action": "resolve", "dedup_key": "alert-api-http-1717239600"})
    );
}

#[tokio::test]
async fn opsgenie_creates_by_alias_and_closes_by_alias() {
    let rx = Receiver::start().await;
    rx.reply(202, r#"{"result":"Request will be processed","took":0.1,"requestId":"r1"}"#);
    let settings = OpsgenieSettings { api_url: rx.base.clone(), ..OpsgenieSettings::new("og-api-key-0001") };
    notifier(ChannelKind::Opsgenie(settings)).send(&down()).await.unwrap();
    let create = rx.only();
    assert_post_json(&create, "/v2/alerts");
    assert_eq!(create.header("authorization"), Some("GenieKey og-api-key-0001"));
    assert_eq!(
        create.json(),
        json!({
            "message": "Down: Internal API",
            "alias": "alert-api-http-1717239600",
            "description": render(&down()).text,
            "source": "Belfry",
            "priority": "P1",
            "tags": ["belfry", "down"],
            "entity": "Internal API",
            "details": {
                "event": "down",
                "monitor": "Internal API (api-http)",
                "component": "API (api)",
                "down_since": SINCE,
                "incident_url": INCIDENT,
                "ack_url": ACK,
            },
        })
    );

    let rx2 = Receiver::start().await;
    rx2.reply(202, "{}");
    let settings =
        OpsgenieSettings { api_url: format!("{}/", rx2.base), ..OpsgenieSettings::new("og-api-key-0001") };
    let mut resolved = up();
    resolved.dedup_key = "alert api/http#1".into();
    notifier(ChannelKind::Opsgenie(settings)).send(&resolved).await.unwrap();
    let close = rx2.only();
    assert_post_json(&close, "/v2/alerts/alert%20api%2Fhttp%231/close?identifierType=alias");
    assert_eq!(close.header("authorization"), Some("GenieKey og-api-key-0001"));
    assert_eq!(close.json(), json!({"source": "Belfry", "note": render(&resolved).text}));
}

#[tokio::test]
async fn send_test_reaches_every_http_kind() {
    let rx = Receiver::start().await;
    let id = belfry_core::MonitorId::parse("ops-hook").unwrap();
    let now: jiff::Timestamp = "2024-06-01T11:00:00Z".parse().unwrap();
    let message = belfry_notify::test_message(&id, Some("https://status.acme.test"), now);
    assert_eq!(message.event.as_str(), "test");
    let kind = ChannelKind::Webhook(WebhookSettings { url: rx.url("/t"), secret: None, headers: vec![] });
    notifier(kind).send(&message).await.unwrap();
    let body = rx.only().json();
    assert_eq!(body["event"], "test");
    assert_eq!(body["title"], "Test: Belfry channel ops-hook");
    assert_eq!(body["id"], "test-ops-hook-1717239600000");
    assert!(body["text"].as_str().unwrap().contains("Status page: https://status.acme.test"), "{body}");
}

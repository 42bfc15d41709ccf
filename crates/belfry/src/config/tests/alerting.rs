//! `channels`, `escalations` and `alerts`.

use std::time::Duration;

use belfry_core::alert::{Backoff, EscalationStep, EventKind, Renotify};
use belfry_core::channel::{ChannelKind, SmtpTls};

use super::super::load::load_with_env;
use super::{DESIGN_EXAMPLE, Settings, doc_blocks, errors, load};

/// A fixed environment for `${NAME}` references.
fn env(name: &str) -> Option<String> {
    match name {
        "SMTP_PASSWORD" => Some("env-smtp-pass".into()),
        "SLACK_PATH" => Some("T000/B000/env-slack-path".into()),
        "PD_KEY" => Some("env-pd-routing-key".into()),
        "DISCORD_WEBHOOK_URL" | "TEAMS_WEBHOOK_URL" => Some(format!("https://env.test/{name}")),
        "TELEGRAM_BOT_TOKEN" => Some("123456:env-telegram".into()),
        "HOOK_SECRET" | "NTFY_TOKEN" | "OPSGENIE_KEY" => Some(format!("env-{name}")),
        "BLANK" => Some(String::new()),
        _ => None,
    }
}

fn load_env(text: &str) -> Settings {
    load_with_env("belfry.yaml", text, &env).unwrap_or_else(|errors| {
        panic!("unexpected errors:\n{}", errors.iter().map(|e| format!("{e}\n")).collect::<String>())
    })
}

fn errors_env(text: &str) -> Vec<String> {
    match load_with_env("belfry.yaml", text, &env) {
        Ok(_) => panic!("expected errors, the config loaded"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn channel<'s>(settings: &'s Settings, id: &str) -> &'s ChannelKind {
    let channels = &settings.catalog.alerting.channels;
    &channels.iter().find(|c| c.id.as_str() == id).unwrap_or_else(|| panic!("channel {id}")).kind
}

fn step(after_secs: u64, notify: &[&str]) -> EscalationStep {
    EscalationStep {
        after: Duration::from_secs(after_secs),
        notify: notify.iter().map(|s| s.to_string()).collect(),
    }
}

/// Monitors and components the alerting snippets below refer to.
const WORLD: &str = "\
components: [{id: api}, {id: jobs}]
monitors:
  - {id: api-http, kind: http, component: api, url: http://127.0.0.1:9000/health}
  - {id: api-db, kind: tcp, component: api, host: 127.0.0.1, port: 5432}
  - {id: backup, kind: heartbeat, component: jobs, token: s3cret-push-token, expect_every: 24h}
";

#[test]
fn design_example_alerting_loads() {
    let settings = load(DESIGN_EXAMPLE);
    assert_eq!(settings.catalog.monitors.len(), 3, "api-http, api-dns and backup");
    let alerting = &settings.catalog.alerting;
    let ids: Vec<&str> = alerting.channels.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["ops-hook", "ops-mail"]);

    let ChannelKind::Webhook(hook) = channel(&settings, "ops-hook") else { panic!("webhook") };
    assert_eq!(hook.url, "https://hooks.acme.test/belfry");
    assert_eq!(hook.secret.as_ref().map(|s| s.expose()), Some("whsec-…"));
    assert!(hook.headers.is_empty());

    let ChannelKind::Email(mail) = channel(&settings, "ops-mail") else { panic!("email") };
    assert_eq!(
        (mail.to.as_slice(), mail.from.as_str()),
        (&["oncall@acme.test".to_owned()][..], "belfry@acme.test")
    );
    assert_eq!((mail.smtp.host.as_str(), mail.smtp.port, mail.smtp.tls), ("127.0.0.1", 2525, SmtpTls::None));
    assert_eq!((&mail.smtp.username, &mail.smtp.password), (&None, &None));

    let [escalation] = alerting.escalations.as_slice() else { panic!("one escalation") };
    assert_eq!((escalation.id.as_str(), escalation.repeat), ("default", 2));
    assert_eq!(escalation.steps, [step(0, &["ops-hook", "ops-mail"]), step(600, &["ops-mail"])]);
    assert_eq!((escalation.round, escalation.renotify), (None, None));
    assert!(alerting.escalation("default").is_some());

    let [rule] = alerting.rules.as_slice() else { panic!("one rule") };
    assert_eq!(rule.monitors, ["*"]);
    assert!(rule.components.is_empty());
    assert_eq!(rule.events, [EventKind::Down, EventKind::Up]);
    assert_eq!(rule.escalation, "default");
}

#[test]
fn every_channel_kind_loads_with_its_keys_and_defaults() {
    let text = r#"
channels:
  - id: mail-starttls
    kind: email
    to: oncall@acme.test
    from: "Belfry <belfry@acme.test>"
    smtp: {host: smtp.acme.test, username: belfry, password: "${SMTP_PASSWORD}"}
  - {id: mail-tls, kind: email, to: [a@acme.test, "B <b@acme.test>"], from: belfry@acme.test, smtp: {host: smtp.acme.test, tls: tls}}
  - {id: mail-plain, kind: email, to: [a@acme.test], from: belfry@acme.test, smtp: {host: 127.0.0.1, tls: none}}
  - id: hook
    kind: webhook
    url: https://hooks.acme.test/belfry
    headers: {Authorization: Bearer hdr-token, X-Team: ops}
  - {id: slack, kind: slack, webhook_url: "https://hooks.slack.com/services/${SLACK_PATH}"}
  - {id: discord, kind: discord, webhook_url: https://discord.com/api/webhooks/1/discord-token}
  - {id: teams, kind: teams, webhook_url: https://acme.webhook.office.com/teams-token}
  - {id: tg, kind: telegram, bot_token: "123456:tg-token", chat_id: -1001234567890}
  - {id: tg-local, kind: telegram, bot_token: "1:x", chat_id: "@acme_ops", api_url: "http://127.0.0.1:8081/"}
  - {id: phone, kind: ntfy, topic: acme-ops}
  - {id: phone2, kind: ntfy, server: "https://ntfy.acme.test/", topic: ops_2, token: tk_ntfy, priority: high}
  - {id: phone3, kind: ntfy, topic: ops3, priority: 2}
  - {id: pd, kind: pagerduty, routing_key: "${PD_KEY}"}
  - {id: pd-local, kind: pagerduty, routing_key: k, events_url: "http://127.0.0.1:9/v2/enqueue"}
  - {id: og, kind: opsgenie, api_key: og-key}
  - {id: og-eu, kind: opsgenie, api_key: og-key, api_url: "https://api.eu.opsgenie.com/"}
"#;
    let settings = load_env(text);
    assert_eq!(settings.catalog.alerting.channels.len(), 16);

    let ChannelKind::Email(mail) = channel(&settings, "mail-starttls") else { panic!() };
    assert_eq!(mail.to, ["oncall@acme.test"], "one string is a list of one");
    assert_eq!(mail.from, "Belfry <belfry@acme.test>");
    assert_eq!((mail.smtp.port, mail.smtp.tls), (587, SmtpTls::StartTls));
    assert_eq!(mail.smtp.username.as_deref(), Some("belfry"));
    assert_eq!(mail.smtp.password.as_ref().map(|p| p.expose()), Some("env-smtp-pass"));
    let ChannelKind::Email(mail) = channel(&settings, "mail-tls") else { panic!() };
    assert_eq!((mail.smtp.port, mail.smtp.tls, mail.to.len()), (465, SmtpTls::Tls, 2));
    let ChannelKind::Email(mail) = channel(&settings, "mail-plain") else { panic!() };
    assert_eq!((mail.smtp.port, mail.smtp.tls), (25, SmtpTls::None));

    let ChannelKind::Webhook(hook) = channel(&settings, "hook") else { panic!() };
    assert_eq!(hook.secret, None);
    let headers: Vec<(&str, &str)> = hook.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(headers, [("Authorization", "Bearer hdr-token"), ("X-Team", "ops")]);

    let ChannelKind::Slack(slack) = channel(&settings, "slack") else { panic!() };
    assert_eq!(slack.webhook_url.expose(), "https://hooks.slack.com/services/T000/B000/env-slack-path");
    assert!(matches!(channel(&settings, "discord"), ChannelKind::Discord(_)));
    assert!(matches!(channel(&settings, "teams"), ChannelKind::Teams(_)));

    let ChannelKind::Telegram(tg) = channel(&settings, "tg") else { panic!() };
    assert_eq!((tg.bot_token.expose(), tg.chat_id.as_str()), ("123456:tg-token", "-1001234567890"));
    assert_eq!(tg.api_url, "https://api.telegram.org");
    let ChannelKind::Telegram(tg) = channel(&settings, "tg-local") else { panic!() };
    assert_eq!((tg.chat_id.as_str(), tg.api_url.as_str()), ("@acme_ops", "http://127.0.0.1:8081"));

    let ChannelKind::Ntfy(ntfy) = channel(&settings, "phone") else { panic!() };
    assert_eq!((ntfy.server.as_str(), ntfy.topic.as_str()), ("https://ntfy.sh", "acme-ops"));
    assert_eq!((&ntfy.token, ntfy.priority), (&None, None));
    let ChannelKind::Ntfy(ntfy) = channel(&settings, "phone2") else { panic!() };
    assert_eq!((ntfy.server.as_str(), ntfy.priority), ("https://ntfy.acme.test", Some(4)));
    assert_eq!(ntfy.token.as_ref().map(|t| t.expose()), Some("tk_ntfy"));
    let ChannelKind::Ntfy(ntfy) = channel(&settings, "phone3") else { panic!() };
    assert_eq!(ntfy.priority, Some(2));

    let ChannelKind::PagerDuty(pd) = channel(&settings, "pd") else { panic!() };
    assert_eq!(pd.routing_key.expose(), "env-pd-routing-key");
    assert_eq!(pd.events_url, "https://events.pagerduty.com/v2/enqueue");
    let ChannelKind::PagerDuty(pd) = channel(&settings, "pd-local") else { panic!() };
    assert_eq!(pd.events_url, "http://127.0.0.1:9/v2/enqueue");

    let ChannelKind::Opsgenie(og) = channel(&settings, "og") else { panic!() };
    assert_eq!((og.api_key.expose(), og.api_url.as_str()), ("og-key", "https://api.opsgenie.com"));
    let ChannelKind::Opsgenie(og) = channel(&settings, "og-eu") else { panic!() };
    assert_eq!(og.api_url, "https://api.eu.opsgenie.com");
}

#[test]
fn escalations_and_rules_load_with_defaults() {
    let text = format!(
        "{WORLD}{}",
        r#"channels:
  - {id: mail, kind: email, to: a@acme.test, from: b@acme.test, smtp: {host: h}}
  - {id: phone, kind: ntfy, topic: ops}
escalations:
  - id: page
    steps: [{notify: mail}, {after: 5m, notify: [phone, mail, phone]}, {after: 5m, notify: [mail]}]
    round: 30m
    renotify: {every: 1h}
  - id: slow
    repeat: 3
    steps: [{after: 1h30m, notify: [phone]}]
    renotify: {every: 2d, backoff: exponential}
  - {id: capped, steps: [{notify: [mail]}], renotify: {every: 5m, backoff: linear, max: 1h}}
alerts:
  - {escalation: page}
  - {monitors: ["api-*", backup, "api-*"], components: [api, jobs], events: [incident_*, down, heartbeat_missed], escalation: slow}
  - {monitors: "*", events: ["*"], escalation: capped}
"#
    );
    let settings = load(&text);
    let alerting = &settings.catalog.alerting;

    let page = alerting.escalation("page").expect("page");
    assert_eq!(page.repeat, 1);
    assert_eq!(page.steps, [step(0, &["mail"]), step(300, &["phone", "mail"]), step(300, &["mail"])]);
    assert_eq!(page.round, Some(Duration::from_secs(1800)));
    let hour = Duration::from_secs(3600);
    let day = 24 * hour;
    assert_eq!(page.renotify, Some(Renotify { every: hour, backoff: Backoff::None, max: day }));

    let slow = alerting.escalation("slow").expect("slow");
    assert_eq!((slow.repeat, slow.steps[0].after, slow.round), (3, Duration::from_secs(5400), None));
    // `max` is never below `every`.
    assert_eq!(slow.renotify, Some(Renotify { every: 2 * day, backoff: Backoff::Exponential, max: 2 * day }));
    let capped = alerting.escalation("capped").expect("capped");
    assert_eq!(
        capped.renotify,
        Some(Renotify { every: Duration::from_secs(300), backoff: Backoff::Linear, max: hour })
    );

    let [all, some, every_event] = alerting.rules.as_slice() else { panic!("three rules") };
    assert!(all.monitors.is_empty() && all.components.is_empty());
    assert_eq!(all.events, [EventKind::Down, EventKind::Up], "the default events");
    assert_eq!(some.monitors, ["api-*", "backup"]);
    let components: Vec<&str> = some.components.iter().map(|c| c.as_str()).collect();
    assert_eq!(components, ["api", "jobs"]);
    assert_eq!(
        some.events,
        [
            EventKind::IncidentCreated,
            EventKind::IncidentUpdated,
            EventKind::IncidentResolved,
            EventKind::Down,
            EventKind::HeartbeatMissed
        ]
    );
    assert_eq!(every_event.monitors, ["*"]);
    assert_eq!(every_event.events.len(), 11, "every kind but the console's test");
    assert!(!every_event.events.contains(&EventKind::Test));
}

#[test]
fn channel_mistakes_are_positioned() {
    let text = r#"channels:
  - {id: a, kind: slak, webhook_url: https://hooks.slack.test/x}
  - {id: b, kind: slack, webhook_url: https://hooks.slack.test/x, url: https://x.test}
  - {id: c, kind: webhook, url: hooks.acme.test/belfry, headers: {Bad Name: x}}
  - id: d
    kind: email
    to: [ok@acme.test, not-an-address]
    from: belfry@acme.test
    smtp: {host: h, port: 70000, tls: ssl, pasword: x}
  - {id: e, kind: email, to: a@acme.test, from: b@acme.test, smtp: {host: h, password: "p${SMTP_PASSWORD}-${NOPE}"}}
  - {id: a, kind: ntfy, topic: "bad topic", priority: 9, api_key: k}
  - {id: f, kind: pagerduty, routing_key: "${BLANK}", events_url: ftp://pd.test}
  - {id: G, kind: telegram, bot_token: "${TG_TOKEN}"}
  - {kind: opsgenie, api_key: ""}
"#;
    assert_eq!(
        errors_env(text),
        [
            "belfry.yaml:2:19: channels[0].kind: unknown channel kind `slak`; did you mean `slack`?",
            "belfry.yaml:3:67: channels[1].url: `url` is not a key of a slack channel",
            "belfry.yaml:4:33: channels[2].url: must be an absolute http:// or https:// URL",
            "belfry.yaml:4:67: channels[2].headers.Bad Name: is not a valid header name",
            "belfry.yaml:7:24: channels[3].to[1]: must be an email address like oncall@example.com",
            "belfry.yaml:9:27: channels[3].smtp.port: 70000 is out of range: must be between 1 and 65535",
            "belfry.yaml:9:39: channels[3].smtp.tls: unknown smtp tls mode `ssl`; expected one of `none`, `starttls`, `tls`",
            "belfry.yaml:9:44: channels[3].smtp.pasword: unknown key `pasword`; did you mean `password`?",
            "belfry.yaml:10:107: channels[4].smtp.password: environment variable `NOPE` is not set",
            "belfry.yaml:11:10: channels[5].id: duplicate channel id `a` (first defined on line 2)",
            "belfry.yaml:11:32: channels[5].topic: must be 1 to 64 characters of a-z, A-Z, 0-9, '-' and '_'",
            "belfry.yaml:11:55: channels[5].priority: must be 1 (min) to 5 (max)",
            "belfry.yaml:11:58: channels[5].api_key: `api_key` is not a key of an ntfy channel",
            "belfry.yaml:12:43: channels[6].routing_key: must not be empty (the environment variable it names is empty)",
            "belfry.yaml:12:67: channels[6].events_url: must be an absolute http:// or https:// URL",
            "belfry.yaml:13:5: channels[7]: missing required key `chat_id`",
            "belfry.yaml:13:10: channels[7].id: invalid id: \"G\" may only contain a-z, 0-9, '-', '_' and '.'",
            "belfry.yaml:13:41: channels[7].bot_token: environment variable `TG_TOKEN` is not set",
            "belfry.yaml:14:5: channels[8]: missing required key `id`",
            "belfry.yaml:14:31: channels[8].api_key: must not be empty",
        ]
    );
}

#[test]
fn escalation_and_rule_mistakes_are_positioned() {
    let text = format!(
        "{WORLD}{}",
        r#"channels:
  - {id: ops-hook, kind: webhook, url: https://hooks.acme.test/x}
  - {id: ops-mail, kind: email, to: a@acme.test, from: b@acme.test, smtp: {host: h}}
escalations:
  - id: default
    repeat: 0
    steps:
      - {after: 10m, notify: [ops-hok, ops-mail]}
      - {after: 5m, notify: [pager]}
      - {after: 15m, notify: []}
    round: 10m
    renotify: {every: 10s, backoff: exponentail}
  - {id: default, steps: []}
  - {id: spare, steps: [{after: 0s, notify: [ops-mail]}], renotify: {every: 1h, max: 30m}, escalate: true}
alerts:
  - {monitors: [api-htp, "db-*", "*"], events: [down, incident_created, incident_update, cert_expired, "deploy_*"], escalation: defualt}
  - {components: [apj, web], monitors: [], escalation: spare}
  - {events: [], components: []}
"#
    );
    assert_eq!(
        errors(&text),
        [
            "belfry.yaml:11:13: escalations[0].repeat: 0 is out of range: must be between 1 and 100",
            "belfry.yaml:13:31: escalations[0].steps[0].notify[0]: unknown channel `ops-hok`; did you mean `ops-hook`?",
            "belfry.yaml:14:17: escalations[0].steps[1].after: 5m is earlier than the previous step's `after` (10m): steps run in order, each `after` counted from the alert's start",
            "belfry.yaml:14:30: escalations[0].steps[1].notify[0]: unknown channel `pager`; declared channels: ops-hook, ops-mail",
            "belfry.yaml:15:30: escalations[0].steps[2].notify: needs at least one channel id",
            "belfry.yaml:17:23: escalations[0].renotify.every: must be at least 1m",
            "belfry.yaml:17:37: escalations[0].renotify.backoff: unknown backoff `exponentail`; did you mean `exponential`?",
            "belfry.yaml:18:10: escalations[1].id: duplicate escalation id `default` (first defined on line 10)",
            "belfry.yaml:18:26: escalations[1].steps: needs at least one step, like {after: 0s, notify: [oncall]}",
            "belfry.yaml:19:86: escalations[2].renotify.max: 30m is shorter than `every` (1h): `max` caps the growing interval",
            "belfry.yaml:19:92: escalations[2].escalate: unknown key `escalate`",
            "belfry.yaml:21:17: alerts[0].monitors[0]: unknown monitor `api-htp`; did you mean `api-http`?",
            "belfry.yaml:21:26: alerts[0].monitors[1]: pattern `db-*` matches no monitor",
            "belfry.yaml:21:73: alerts[0].events[2]: unknown event kind `incident_update`; did you mean `incident_updated`?",
            "belfry.yaml:21:90: alerts[0].events[3]: unknown event kind `cert_expired`; expected one of `down`, `up`, `degraded`, `certificate_expiring`, `heartbeat_missed`, `incident_created`, `incident_updated`, `incident_resolved`, `maintenance_scheduled`, `maintenance_started`, `probe_missing`, or a pattern like `incident_*`",
            "belfry.yaml:21:104: alerts[0].events[4]: pattern `deploy_*` matches no event kind",
            "belfry.yaml:21:129: alerts[0].escalation: unknown escalation `defualt`; did you mean `default`?",
            "belfry.yaml:22:19: alerts[1].components[0]: unknown component `apj`; did you mean `api`?",
            "belfry.yaml:22:24: alerts[1].components[1]: unknown component `web`; declared components: api, jobs",
            "belfry.yaml:22:40: alerts[1].monitors: needs at least one monitor id or pattern; leave the key out (or write \"*\") to match every monitor",
            "belfry.yaml:23:5: alerts[2]: missing required key `escalation`",
            "belfry.yaml:23:14: alerts[2].events: needs at least one event kind; leave the key out for [down, up]",
            "belfry.yaml:23:30: alerts[2].components: needs at least one component id; leave the key out to match every component",
        ]
    );
}

#[test]
fn a_round_must_outlast_its_steps() {
    let text = "channels: [{id: c, kind: ntfy, topic: t}]\nescalations:\n  - {id: e, round: 10m, steps: [{notify: [c]}, {after: 10m, notify: [c]}]}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:3:20: escalations[0].round: 10m must be longer than the last step's `after` (10m), or the next round would start before this one ends"
        ]
    );
}

#[test]
fn sections_of_the_wrong_shape() {
    let text = "channels: {id: x}\nescalations: [[]]\nalerts: [{escalation: [a]}]\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:1:11: channels: expected a list, found a mapping",
            "belfry.yaml:2:15: escalations[0]: expected a mapping, found a list",
            "belfry.yaml:3:23: alerts[0].escalation: expected a string, found a list",
        ]
    );
}

#[test]
fn secrets_never_show_in_debug() {
    let text = r#"
channels:
  - {id: m, kind: email, to: a@acme.test, from: b@acme.test, smtp: {host: h, username: u, password: "${SMTP_PASSWORD}"}}
  - {id: m2, kind: email, to: a@acme.test, from: b@acme.test, smtp: {host: h, username: u, password: lit-smtp-pass}}
  - {id: w, kind: webhook, url: "https://u:url-pass@hooks.acme.test/x?k=url-query", secret: whsec-lit, headers: {Authorization: hdr-lit}}
  - {id: s, kind: slack, webhook_url: "https://hooks.slack.com/services/${SLACK_PATH}"}
  - {id: d, kind: discord, webhook_url: https://discord.test/discord-lit}
  - {id: t, kind: teams, webhook_url: https://teams.test/teams-lit}
  - {id: tg, kind: telegram, bot_token: "1:tg-lit", chat_id: 1}
  - {id: n, kind: ntfy, topic: x, token: ntfy-lit}
  - {id: p, kind: pagerduty, routing_key: "${PD_KEY}"}
  - {id: o, kind: opsgenie, api_key: og-lit}
"#;
    let settings = load_env(text);
    let debug = format!("{settings:?} {settings:#?} {:?}", settings.catalog.alerting);
    for secret in [
        "env-smtp-pass",
        "lit-smtp-pass",
        "url-pass",
        "url-query",
        "whsec-lit",
        "hdr-lit",
        "env-slack-path",
        "discord-lit",
        "teams-lit",
        "tg-lit",
        "ntfy-lit",
        "env-pd-routing-key",
        "og-lit",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked in Debug: {debug}");
    }
    assert_eq!(settings.catalog.alerting.channels.len(), 10);
}

#[test]
fn alerting_needs_no_monitors_for_a_catch_all_rule() {
    let text = "channels: [{id: c, kind: ntfy, topic: t}]\nescalations: [{id: e, steps: [{notify: c}]}]\nalerts: [{monitors: ['*'], escalation: e}]\n";
    assert_eq!(load(text).catalog.alerting.rules.len(), 1);
}

#[test]
fn the_alerting_reference_examples_hold() {
    let yaml = doc_blocks("yaml");
    // The complete example at the top of the reference includes alerting.
    let complete = load(yaml[0]);
    let alerting = &complete.catalog.alerting;
    assert_eq!((alerting.channels.len(), alerting.escalations.len(), alerting.rules.len()), (2, 1, 1));
    // The alerting section's example, with the monitors and components of the complete one.
    let world = yaml[0].split("\nchannels:").next().expect("complete example");
    let example = yaml
        .iter()
        .find(|b| b.starts_with("channels:\n") && b.contains("kind: opsgenie"))
        .expect("example block");
    let settings = load_env(&format!("{world}\n{example}"));
    let alerting = &settings.catalog.alerting;
    let mut kinds: Vec<&str> = alerting.channels.iter().map(|c| c.kind.name()).collect();
    kinds.sort_unstable();
    let mut all = ChannelKind::NAMES;
    all.sort_unstable();
    assert_eq!(kinds, all, "one channel of every kind");
    assert_eq!(alerting.rules.len(), 4);
    assert_eq!(alerting.rules[3].tags, ["db"]);
    // The timeline the reference spells out for its `default` escalation.
    let default = alerting.escalation("default").expect("default");
    let minutes: Vec<u64> = (0..11).map(|n| default.nth(n).expect("due").offset.as_secs() / 60).collect();
    assert_eq!(minutes, [0, 10, 20, 30, 40, 50, 80, 140, 260, 500, 740]);
    // The mistakes example and the output printed under it.
    let mistakes = yaml.iter().find(|b| b.contains("ops-hok")).expect("mistakes block");
    let output = doc_blocks("").into_iter().find(|b| b.contains("ops-hok")).expect("output block");
    assert_eq!(errors_env(mistakes).join("\n") + "\n", output);
}

#[test]
fn the_built_in_examples_commented_alerting_loads_when_uncommented() {
    let text = super::example("127.0.0.1:8080".parse().unwrap());
    assert!(load(&text).catalog.alerting.channels.is_empty(), "the example itself sends nothing");
    let (_, commented) = text.split_once("# channels:").expect("commented alerting block");
    let uncommented: String = format!("# channels:{commented}")
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("# ").or_else(|| l.strip_prefix('#')).unwrap_or(l)))
        .collect();
    let settings = load_env(&format!("{text}\n{uncommented}"));
    let alerting = &settings.catalog.alerting;
    assert_eq!((alerting.channels.len(), alerting.escalations.len(), alerting.rules.len()), (2, 1, 1));
}

#[test]
fn subscribers_reuse_an_email_channel_and_mistakes_are_positioned() {
    let channels = "channels:
  - {id: mail, kind: email, to: ops@acme.test, from: status@acme.test, smtp: {host: 127.0.0.1, port: 25, tls: none}}
  - {id: hook, kind: webhook, url: https://hooks.acme.test/x}
";
    let settings = load(&format!("{channels}subscribers: {{email_channel: mail}}\n"));
    let subs = settings.catalog.alerting.subscribers.expect("subscribers");
    assert_eq!((subs.email_channel.as_str(), subs.webhooks, subs.rate_limit_per_hour), ("mail", true, 5));
    let settings =
        load(&format!("{channels}subscribers: {{email_channel: mail, webhooks: false, rate_limit: 20/h}}\n"));
    let subs = settings.catalog.alerting.subscribers.expect("subscribers");
    assert_eq!((subs.webhooks, subs.rate_limit_per_hour), (false, 20));
    assert!(load(channels).catalog.alerting.subscribers.is_none());

    assert_eq!(
        errors(&format!("{channels}subscribers: {{email_channel: hook, rate_limit: 5/day}}\n")),
        [
            "belfry.yaml:4:30: subscribers.email_channel: channel `hook` is a webhook channel; subscribers need an email channel",
            "belfry.yaml:4:48: subscribers.rate_limit: must be a rate like `5/h` (1 to 1000 requests per hour)",
        ]
    );
    assert_eq!(
        errors(&format!("{channels}subscribers: {{email_channel: mial}}\n")),
        ["belfry.yaml:4:30: subscribers.email_channel: unknown channel `mial`; did you mean `mail`?"]
    );
    assert_eq!(
        errors(&format!("{channels}subscribers: {{webhooks: yes}}\n")),
        [
            "belfry.yaml:4:14: subscribers: missing required key `email_channel`",
            "belfry.yaml:4:25: subscribers.webhooks: expected true or false, found a string",
        ]
    );
}

#[test]
fn the_certificate_warning_window_defaults_to_14_days_and_is_checked() {
    let days = |n: u64| Duration::from_secs(n * 86_400);
    assert_eq!(load("").catalog.alerting.certificate_warning, days(14));
    assert_eq!(load("alerting: {certificate_warning: 30d}\n").catalog.alerting.certificate_warning, days(30));
    assert_eq!(load("alerting: {}\n").catalog.alerting.certificate_warning, days(14));
    assert_eq!(
        errors("alerting:\n  certificate_warning: 30m\n  certificate_warn: 1d\n"),
        [
            "belfry.yaml:2:24: alerting.certificate_warning: must be at least 1h",
            "belfry.yaml:3:3: alerting.certificate_warn: unknown key `certificate_warn`",
        ]
    );
    assert_eq!(
        errors("alerting: {certificate_warning: 14}\n"),
        ["belfry.yaml:1:33: alerting.certificate_warning: duration 14 needs a unit, like 14s"]
    );
}

use std::time::Duration;

use belfry_core::check::CheckSpec;
use belfry_core::component::OutageImpact;

use super::error::{did_you_mean, levenshtein};
use super::node::source_offset_of;
use super::*;

mod alerting;
mod depends;
mod kinds;
mod regions;
mod tags;

/// The config of DESIGN.md §3, verbatim: both of its blocks (the monitors, then alerting).
const DESIGN_EXAMPLE: &str = r#"
page:        {title: Acme Status, time_zone: America/New_York, public_url: http://127.0.0.1:8080}
storage:     {url: "sqlite://belfry-data/belfry.db"}     # or postgres://user@host/db
components:  [{id: api, name: Internal API, group: Platform}]
monitors:
  - id: api-http
    name: Internal API
    kind: http                 # http | tcp | dns | tls | icmp | heartbeat
    component: api
    url: http://127.0.0.1:9000/health
    interval: 30s
    timeout: 10s
    conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 1000", "[BODY].status == ok"]
    failure:  {threshold: 3, within: 5m}   # down after 3 failed checks within 5 minutes
    recovery: {threshold: 2}               # up after 2 consecutive successes
  - {id: api-dns, kind: dns, component: api, interval: 30s,
     query: {name: api.acme.test, type: A, servers: ["127.0.0.1:5353"]},
     conditions: ["[DNS_RCODE] == NOERROR"]}
  - {id: backup, kind: heartbeat, token: "s3cret-push-token", expect_every: 24h, grace: 1h}
                                            # push: GET or POST /api/v1/push/{token}
channels:
  - {id: ops-hook, kind: webhook, url: "https://hooks.acme.test/belfry", secret: "whsec-…"}
  - {id: ops-mail, kind: email, to: [oncall@acme.test], from: belfry@acme.test,
     smtp: {host: 127.0.0.1, port: 2525, tls: none, username: null, password: null}}
escalations:        # steps run in order, `after` counted from the alert's start; the ladder runs
                    # `repeat` times (default 1) until the alert is acknowledged or resolved
  - {id: default, repeat: 2, steps: [{after: 0s, notify: [ops-hook, ops-mail]}, {after: 10m, notify: [ops-mail]}]}
alerts:             # every rule that matches an event starts its own escalation
  - {monitors: ["*"], events: [down, up], escalation: default}
"#;

fn errors(text: &str) -> Vec<String> {
    match load_str("belfry.yaml", text) {
        Ok(_) => panic!("expected errors, the config loaded"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn load(text: &str) -> Settings {
    match load_str("belfry.yaml", text) {
        Ok(settings) => settings,
        Err(errors) => {
            panic!("unexpected errors:\n{}", errors.iter().map(|e| format!("{e}\n")).collect::<String>())
        }
    }
}

#[test]
fn design_example_loads() {
    let settings = load(DESIGN_EXAMPLE);
    let catalog = &settings.catalog;
    assert_eq!(catalog.page.title, "Acme Status");
    assert_eq!(catalog.page.time_zone, "America/New_York");
    assert_eq!(catalog.page.public_url.as_deref(), Some("http://127.0.0.1:8080"));
    assert_eq!(settings.storage.url.as_deref(), Some("sqlite://belfry-data/belfry.db"));
    assert_eq!(settings.storage.retention, Duration::from_secs(14 * 86_400));
    assert_eq!(settings.storage.max_connections, 8);
    assert_eq!(catalog.components[0].group.as_deref(), Some("Platform"));

    let api = catalog.monitor("api-http").expect("api-http");
    assert_eq!(api.component.as_ref().map(|c| c.as_str()), Some("api"));
    assert_eq!((api.interval, api.timeout), (Duration::from_secs(30), Duration::from_secs(10)));
    assert_eq!(api.conditions.len(), 3);
    assert_eq!(api.policy.failure.threshold, 3);
    assert_eq!(api.policy.failure.within, Some(Duration::from_secs(300)));
    assert_eq!(api.policy.recovery.threshold, 2);
    let CheckSpec::Http(http) = &api.check else { panic!("http check") };
    assert_eq!((http.method.as_str(), http.follow_redirects, http.max_redirects), ("GET", true, 5));
    assert_eq!((http.verify_tls, http.max_body_bytes), (true, 1_048_576));

    let backup = catalog.monitor("backup").expect("backup");
    assert_eq!(backup.name, "backup");
    assert!(backup.conditions.is_empty());
    let CheckSpec::Heartbeat(hb) = &backup.check else { panic!("heartbeat check") };
    assert_eq!(hb.token, "s3cret-push-token");
    assert_eq!((hb.expect_every, hb.grace), (Duration::from_secs(86_400), Duration::from_secs(3600)));
}

#[test]
fn built_in_example_loads_and_watches_the_listen_address() {
    let text = example("127.0.0.1:8080".parse().unwrap());
    for placeholder in ["{listen}", "{host}", "{port}"] {
        assert!(!text.contains(placeholder), "{placeholder} left in: {text}");
    }
    let settings = load(&text);
    let catalog = &settings.catalog;
    assert_eq!(catalog.page.title, "Belfry (example)");
    assert_eq!(catalog.monitors.len(), 3);
    let CheckSpec::Http(http) = &catalog.monitor("self-http").unwrap().check else { panic!() };
    assert_eq!(http.url, "http://127.0.0.1:8080/healthz");
    let CheckSpec::Tcp(tcp) = &catalog.monitor("self-tcp").unwrap().check else { panic!() };
    assert_eq!((tcp.host.as_str(), tcp.port), ("127.0.0.1", 8080));
    assert!(matches!(catalog.monitor("nightly-job").unwrap().check, CheckSpec::Heartbeat(_)));
    assert!(catalog.components.iter().all(|c| c.group.as_deref() == Some("Belfry")));

    // An unspecified listen address is probed on loopback; IPv6 URLs get brackets.
    let any = load(&example("0.0.0.0:9000".parse().unwrap()));
    let CheckSpec::Http(http) = &any.catalog.monitor("self-http").unwrap().check else { panic!() };
    assert_eq!(http.url, "http://127.0.0.1:9000/healthz");
    let v6 = load(&example("[::]:9000".parse().unwrap()));
    let CheckSpec::Http(http) = &v6.catalog.monitor("self-http").unwrap().check else { panic!() };
    assert_eq!(http.url, "http://[::1]:9000/healthz");
    let CheckSpec::Tcp(tcp) = &v6.catalog.monitor("self-tcp").unwrap().check else { panic!() };
    assert_eq!(tcp.host, "::1");
}

/// Six different mistakes; the "every error at once" example in docs/configuration.md.
const MISTAKES: &str = "\
page:
  title: Acme Status
  time_zone: Mars/Olympus
components:
  - {id: api, name: API}
monitors:
  - id: api-http
    kind: http
    component: api
    url: http://127.0.0.1:9000/health
    intervall: 30s
  - id: db
    kind: tcp
    component: database
    host: 127.0.0.1
    port: 5432
    timeout: 5 minutes
  - id: api-http
    kind: heartbeat
    token: short
    expect_every: 1h
";

#[test]
fn every_mistake_is_reported_with_its_position() {
    assert_eq!(
        errors(MISTAKES),
        [
            "belfry.yaml:3:14: page.time_zone: unknown time zone \"Mars/Olympus\"; use an IANA name like Europe/Berlin or UTC",
            "belfry.yaml:11:5: monitors[0].intervall: unknown key `intervall`; did you mean `interval`?",
            "belfry.yaml:14:16: monitors[1].component: unknown component `database`; declared components: api",
            "belfry.yaml:17:14: monitors[1].timeout: invalid duration \"5 minutes\": expected a number and a unit (ms, s, m, h, d), like 30s, 5m or 1h30m",
            "belfry.yaml:18:9: monitors[2].id: duplicate monitor id `api-http` (first defined on line 7)",
            "belfry.yaml:20:12: monitors[2].token: must be at least 16 characters long",
        ]
    );
}

#[test]
fn unknown_keys_suggest_a_near_known_key() {
    let text = "page: {titel: X, time_zon: UTC, colour: red}\nstorag: {}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:1:8: page.titel: unknown key `titel`; did you mean `title`?",
            "belfry.yaml:1:18: page.time_zon: unknown key `time_zon`; did you mean `time_zone`?",
            "belfry.yaml:1:33: page.colour: unknown key `colour`",
            "belfry.yaml:2:1: storag: unknown key `storag`; did you mean `storage`?",
        ]
    );
    assert_eq!(did_you_mean("intervl", &["interval", "timeout"]), Some("interval"));
    assert_eq!(did_you_mean("x", &["id"]), None);
    assert_eq!(levenshtein("kitten", "sitting"), 3);
    assert_eq!(levenshtein("", "abc"), 3);
}

#[test]
fn a_key_of_another_kind_is_named_as_such() {
    let text = "monitors:\n  - id: a\n    kind: http\n    url: http://x.test/\n    token: abcdefghijklmnopqrstuvwxyz\n    port: 80\n  - {id: b, kind: tcp, host: x.test, port: 1, method: GET}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:5:5: monitors[0].token: `token` is not a key of an http monitor",
            "belfry.yaml:6:5: monitors[0].port: `port` is not a key of an http monitor",
            "belfry.yaml:7:47: monitors[1].method: `method` is not a key of a tcp monitor",
        ]
    );
}

#[test]
fn monitors_must_name_declared_components() {
    let text = "components: [{id: api}]\nmonitors:\n  - {id: a, kind: tcp, host: h, port: 1, component: apj}\n  - {id: b, kind: tcp, host: h, port: 1, component: web}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:3:53: monitors[0].component: unknown component `apj`; did you mean `api`?",
            "belfry.yaml:4:53: monitors[1].component: unknown component `web`; declared components: api",
        ]
    );
}

#[test]
fn duplicate_ids_and_tokens_are_errors() {
    let text = "\
components:
  - {id: api}
  - {id: api}
monitors:
  - {id: hb, kind: heartbeat, token: aaaaaaaaaaaaaaaa, expect_every: 1h}
  - {id: hb2, kind: heartbeat, token: aaaaaaaaaaaaaaaa, expect_every: 1h}
  - {id: hb, kind: tcp, host: h, port: 1}
";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:3:10: components[1].id: duplicate component id `api` (first defined on line 2)",
            "belfry.yaml:6:39: monitors[1].token: already used by monitor `hb` (line 5)",
            "belfry.yaml:7:10: monitors[2].id: duplicate monitor id `hb` (first defined on line 5)",
        ]
    );
}

#[test]
fn bad_durations_are_reported_where_they_are() {
    let text = "monitors:\n  - id: a\n    kind: tcp\n    host: h\n    port: 1\n    interval: 5 minutes\n    timeout: 30\n    failure: {threshold: 3, within: 1m}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:6:15: monitors[0].interval: invalid duration \"5 minutes\": expected a number and a unit (ms, s, m, h, d), like 30s, 5m or 1h30m",
            "belfry.yaml:7:14: monitors[0].timeout: duration 30 needs a unit, like 30s",
            "belfry.yaml:8:37: monitors[0].failure.within: 1m is too short for 3 failures 1m apart: it must be at least 2m",
        ]
    );
}

#[test]
fn parse_duration_table() {
    let ok = [
        ("30s", Duration::from_secs(30)),
        ("5m", Duration::from_secs(300)),
        ("1h", Duration::from_secs(3600)),
        ("14d", Duration::from_secs(14 * 86_400)),
        ("1h30m", Duration::from_secs(5400)),
        ("250ms", Duration::from_millis(250)),
        ("1m30s500ms", Duration::from_millis(90_500)),
        ("0s", Duration::ZERO),
    ];
    for (text, want) in ok {
        assert_eq!(parse_duration(text), Ok(want), "{text}");
    }
    for bad in ["", "5 minutes", "30", "1h30", "s", "-5s", "1.5h", "5x", " 5s", "99999999999999999999d"] {
        assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
    }
    assert_eq!(parse_duration("30").unwrap_err(), "duration \"30\" needs a unit, like 30s");
    assert_eq!(super::duration::format_duration(Duration::from_millis(5_400_250)), "1h30m250ms");
}

#[test]
fn invalid_time_zone_and_urls() {
    let text = "page: {time_zone: Europe/Berln, public_url: example.com, logo_url: /logo.png}\n";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:1:19: page.time_zone: unknown time zone \"Europe/Berln\"; use an IANA name like Europe/Berlin or UTC",
            "belfry.yaml:1:45: page.public_url: \"example.com\" is not an absolute http:// or https:// URL",
        ]
    );
}

#[test]
fn yaml_syntax_error_has_its_position() {
    let text = "page:\n  title: Acme\nmonitors: [{id: a, kind: tcp\n  - b\n";
    assert_eq!(errors(text), ["belfry.yaml:3:12: unclosed bracket '{'"]);
    // A key without its value's indentation.
    let text = "page:\n  title: Acme\n   time_zone: UTC\n";
    let errors = super::load_str("belfry.yaml", text).unwrap_err();
    assert_eq!((errors[0].line, errors[0].path.as_str()), (3, ""));
}

#[test]
fn condition_errors_point_into_the_file() {
    let bad = "[STATUS] === 200";
    let Err(parse_error) = belfry_core::Condition::parse(bad) else {
        // The condition language lands with its own module; until then nothing is rejected.
        return;
    };
    let text = format!(
        "monitors:\n  - id: a\n    kind: http\n    url: http://x.test\n    conditions: [\"{bad}\", '{bad}']\n"
    );
    let errors = load_str("belfry.yaml", &text).unwrap_err();
    let columns: Vec<(u64, u64)> = errors.iter().map(|e| (e.line, e.column)).collect();
    let col = parse_error.column as u64;
    // `    conditions: [` puts the first scalar's quote at column 18 and its text at 19; the
    // second scalar's quote follows `"…", ` and its text one further.
    let second = 18 + bad.len() as u64 + 4;
    assert_eq!(columns, [(5, 18 + col), (5, second + col)]);
    assert_eq!(errors[0].path, "monitors[0].conditions[0]");
    assert_eq!(errors[0].message, format!("invalid condition: {}", parse_error.message));
}

#[test]
fn condition_columns_count_quotes_and_escapes() {
    assert_eq!(source_offset_of("[STATUS] == 200", None, 9), Some(9));
    assert_eq!(source_offset_of("\"[STATUS] == 200\"", Some('"'), 0), Some(1));
    assert_eq!(source_offset_of("\"[BODY] == \\\"a\\\" x\"", Some('"'), 14), Some(17));
    assert_eq!(source_offset_of("'it''s [BODY]'", Some('\''), 6), Some(8));
    assert_eq!(source_offset_of("\"a\nb\"", Some('"'), 2), None);
}

#[test]
fn defaults_and_optional_sections() {
    let text = "\
storage: {url: 'postgres://belfry@127.0.0.1/belfry', retention: 30d, max_connections: 20}
connectivity: {targets: ['127.0.0.1:53', '[::1]:53']}
monitors:
  - id: web
    kind: http
    url: https://example.test/
    method: post
    headers: {Authorization: Bearer x}
    flapping: false
    impact: partial_outage
    degraded_when: ['[RESPONSE_TIME] > 500']
  - {id: db, kind: tcp, host: '[::1]', port: 5432, paused: true, flapping: {changes: 3}}
";
    let settings = load(text);
    assert_eq!(settings.storage.retention, Duration::from_secs(30 * 86_400));
    assert_eq!(settings.storage.max_connections, 20);
    let guard = settings.catalog.connectivity.as_ref().expect("guard");
    assert_eq!((guard.targets.len(), guard.timeout), (2, Duration::from_secs(5)));
    let web = settings.catalog.monitor("web").unwrap();
    assert_eq!((web.interval, web.timeout), (Duration::from_secs(60), Duration::from_secs(10)));
    assert_eq!(web.conditions.len(), 1, "default http condition");
    assert_eq!(web.conditions[0].source(), "[STATUS] < 400");
    assert_eq!(web.degraded_when.len(), 1);
    assert_eq!(web.policy.flapping, None);
    assert_eq!(web.impact, OutageImpact::PartialOutage);
    let CheckSpec::Http(http) = &web.check else { panic!() };
    assert_eq!(http.method, "POST");
    assert_eq!(http.headers, [("Authorization".to_owned(), "Bearer x".to_owned())]);
    let db = settings.catalog.monitor("db").unwrap();
    assert!(db.paused);
    assert_eq!(db.conditions[0].source(), "[CONNECTED] == true");
    assert_eq!(db.policy.flapping.map(|f| (f.changes, f.within)), Some((3, Duration::from_secs(3600))));
    let CheckSpec::Tcp(tcp) = &db.check else { panic!() };
    assert_eq!(tcp.host, "::1");
    // An empty file is every default.
    assert!(load("").catalog.monitors.is_empty());
}

#[test]
fn values_of_the_wrong_type_and_range() {
    let text = "\
storage: {url: mysql://x, max_connections: 0}
monitors:
  - id: Bad Id
    kind: htp
  - {id: t, kind: tcp, host: 'h:80', port: 70000, paused: yes}
  - {id: h, kind: http}
";
    assert_eq!(
        errors(text),
        [
            "belfry.yaml:1:16: storage.url: unsupported storage URL: expected sqlite://PATH or postgres://USER@HOST/DB",
            "belfry.yaml:1:44: storage.max_connections: 0 is out of range: must be between 1 and 1000",
            "belfry.yaml:3:9: monitors[0].id: invalid id: \"Bad Id\" may only contain a-z, 0-9, '-', '_' and '.'",
            "belfry.yaml:4:11: monitors[0].kind: unknown monitor kind `htp`; did you mean `http`?",
            "belfry.yaml:5:30: monitors[1].host: \"h:80\" includes a port; put the port in `port`",
            "belfry.yaml:5:44: monitors[1].port: 70000 is out of range: must be between 1 and 65535",
            "belfry.yaml:5:59: monitors[1].paused: expected true or false, found a string",
            "belfry.yaml:6:5: monitors[2]: missing required key `url`",
        ]
    );
}

#[test]
fn unreadable_file_is_one_error_at_the_start() {
    let errors = load_file(std::path::Path::new("/nonexistent/belfry.yaml")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column, errors[0].path.as_str()), (1, 1, ""));
    assert!(errors[0].to_string().starts_with("/nonexistent/belfry.yaml:1:1: cannot read the config file"));
}

#[test]
fn anchors_merges_and_extension_keys() {
    let text = "\
x-defaults: &defaults {kind: tcp, host: db.internal, interval: 30s}
monitors:
  - <<: *defaults
    id: a
    port: 5432
  - <<: *defaults
    id: b
    port: 5433
    intervl: 5s
";
    assert_eq!(
        errors(text),
        ["belfry.yaml:9:5: monitors[1].intervl: unknown key `intervl`; did you mean `interval`?"]
    );
    let ok = load(&text.replace("    intervl: 5s\n", ""));
    assert_eq!(ok.catalog.monitors.len(), 2);
    assert_eq!(ok.catalog.monitors[1].interval, Duration::from_secs(30));
}

#[test]
fn repeated_keys_are_reported() {
    let text = "page:\n  title: A\n  title: B\n";
    assert_eq!(errors(text), ["belfry.yaml:3:3: page.title: repeated key (first set on line 2)"]);
}

/// The fenced blocks of `docs/configuration.md` that follow an opening fence of `lang`.
fn doc_blocks(lang: &str) -> Vec<&'static str> {
    let doc = include_str!("../../../../docs/configuration.md");
    let fence = format!("```{lang}\n");
    doc.split(fence.as_str()).skip(1).map(|rest| rest.split("```").next().unwrap_or("")).collect()
}

#[test]
fn the_reference_examples_hold() {
    let yaml = doc_blocks("yaml");
    let complete = load(yaml[0]);
    assert_eq!(complete.catalog.monitors.len(), 3);
    assert!(complete.catalog.connectivity.is_some());
    // The "every error at once" example: the file and the output printed under it.
    assert_eq!(yaml[1], MISTAKES);
    let output =
        doc_blocks("").into_iter().find(|b| b.starts_with("belfry.yaml:3:14")).expect("output block");
    assert_eq!(errors(MISTAKES).join("\n") + "\n", output);
    // The anchors example.
    let anchors = yaml.iter().find(|b| b.contains("x-db")).expect("anchors block");
    let unindented: String =
        anchors.lines().map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l))).collect();
    assert_eq!(load(&unindented).catalog.monitors.len(), 2);
}

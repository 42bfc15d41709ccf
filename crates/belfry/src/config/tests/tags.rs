//! `tags` on monitors and on alert rules.

use super::{errors, load};

const CHANNELS: &str = "\
channels: [{id: ops-hook, kind: webhook, url: https://hooks.acme.test/x}]
escalations: [{id: default, steps: [{notify: [ops-hook]}]}]
";

#[test]
fn monitor_and_rule_tags_load() {
    let text = format!(
        "{CHANNELS}{}",
        r#"monitors:
  - {id: db-tcp, kind: tcp, host: 127.0.0.1, port: 5432, tags: [db, "team:payments", db, 2024]}
  - {id: api-http, kind: http, url: http://127.0.0.1:9000/health, tags: []}
  - {id: web-http, kind: http, url: http://127.0.0.1:9000/}
alerts:
  - {tags: [db, db], events: [down], escalation: default}
  - {tags: "team:payments", escalation: default}
  - {escalation: default}
"#
    );
    let settings = load(&text);
    let tags: Vec<&[String]> = settings.catalog.monitors.iter().map(|m| m.tags.as_slice()).collect();
    assert_eq!(tags, [&["db", "team:payments", "2024"][..], &[], &[]], "in order, each once");
    let rules = &settings.catalog.alerting.rules;
    assert_eq!(rules[0].tags, ["db"]);
    assert_eq!(rules[1].tags, ["team:payments"], "one string is a list of one");
    assert!(rules[2].tags.is_empty(), "no `tags`: every monitor");
}

#[test]
fn tag_mistakes_are_positioned() {
    let many = (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>().join(", ");
    let text = format!(
        r#"{CHANNELS}monitors:
  - {{id: db-tcp, kind: tcp, host: 127.0.0.1, port: 5432, tags: [db, DB, "a b", ""]}}
  - {{id: api-http, kind: http, url: http://127.0.0.1:9000/health, tags: payments}}
  - {{id: web-http, kind: http, url: http://127.0.0.1:9000/, tags: [{many}]}}
  - {{id: bad, kind: http, url: http://127.0.0.1:9000/, tags: [x, [y]]}}
alerts:
  - {{tags: [dbb, "Pay", DB], escalation: default}}
  - {{tags: [], escalation: default}}
  - {{tags: [nothing-like-it], escalation: default}}
"#
    );
    assert_eq!(
        errors(&text),
        [
            "belfry.yaml:4:69: monitors[0].tags[1]: invalid tag: \"DB\" may only contain a-z, 0-9, '-', '_' and ':'",
            "belfry.yaml:4:73: monitors[0].tags[2]: invalid tag: \"a b\" may only contain a-z, 0-9, '-', '_' and ':'",
            "belfry.yaml:4:80: monitors[0].tags[3]: invalid tag: must be 1 to 64 characters",
            "belfry.yaml:5:73: monitors[1].tags: expected a list, found a string",
            "belfry.yaml:6:67: monitors[2].tags: 21 tags are too many: a monitor has at most 20",
            "belfry.yaml:7:66: monitors[3].tags[1]: expected a string, found a list",
            // `DB` is reported where a monitor declares it, not again here.
            "belfry.yaml:9:13: alerts[0].tags[0]: no monitor has tag `dbb`; did you mean `db`?",
            "belfry.yaml:9:18: alerts[0].tags[1]: invalid tag: \"Pay\" may only contain a-z, 0-9, '-', '_' and ':'",
            "belfry.yaml:10:12: alerts[1].tags: needs at least one tag; leave the key out to match every monitor, tagged or not",
            "belfry.yaml:11:13: alerts[2].tags[0]: no monitor has tag `nothing-like-it`; tags in use: db, t0, t1, t2, t3, t4, t5, t6, t7, t8, … (23 in all)",
        ]
    );
}

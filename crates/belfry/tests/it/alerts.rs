//! Alerting end to end: the real engine, store, dispatcher and channels against real local
//! receivers, on a fake clock; and the real binary killed with notifications pending.

use std::sync::Arc;
use std::time::Duration;

use belfry::service::Service;
use belfry::settings::ConfigSource;
use belfry_core::alert::{DeliveryStatus, EventKind};
use belfry_core::{Clock, MonitorState};
use belfry_notify::dispatch::{Dispatcher, DispatcherConfig};

use crate::engine::{Rig, rig};
use crate::support::{Receiver, Server, Target, closed_port, eventually, test_vault, write};

fn config(target: &Target, first: &Receiver, backup: &Receiver) -> String {
    format!(
        r#"
page: {{title: Acme Status, time_zone: America/New_York, public_url: "http://status.acme.test"}}
components: [{{id: api, name: Internal API}}]
monitors:
  - {{id: api-http, name: Internal API, kind: http, component: api, url: "{}", interval: 10s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}", secret: "whsec-test"}}
  - {{id: backup-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: default, repeat: 2, steps: [{{after: 0s, notify: [ops-hook]}}, {{after: 10m, notify: [backup-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up], escalation: default}}
"#,
        target.url("/health"),
        first.url("/hook"),
        backup.url("/hook")
    )
}

fn dispatcher(rig: &Rig) -> Dispatcher {
    let runtime = Arc::new(Service::new(
        rig.engine.clone(),
        rig.storage.clone(),
        ConfigSource::Example("127.0.0.1:1".parse().unwrap()),
        test_vault(&rig.storage),
    ));
    let http = belfry_notify::HttpClient::new().unwrap();
    Dispatcher::new(rig.storage.clone(), runtime, http, DispatcherConfig::new(b"test-ack-key".to_vec()))
}

#[tokio::test]
async fn an_escalation_runs_its_steps_on_the_clock_and_stops_when_acknowledged() {
    let target = Target::start().await;
    let (first, backup) = (Receiver::start().await, Receiver::start().await);
    let rig = rig(&config(&target, &first, &backup)).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap(); // starts following transitions

    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);
    let report = dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!((report.alerts_opened, report.sent), (1, 1), "{report:?}");
    let (headers, body) = first.received.lock().unwrap()[0].clone();
    let sig = headers["belfry-signature"].to_str().unwrap().to_owned();
    let (t, _) = sig.strip_prefix("t=").unwrap().split_once(",v1=").unwrap();
    let expected =
        belfry_notify::channel::webhook::signature("whsec-test", t.parse().unwrap(), body.as_bytes());
    assert_eq!(sig, expected, "HMAC-SHA256 of \"<t>.<body>\" keyed by the secret");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["event"], "down");
    assert!(json["ack_url"].as_str().unwrap().starts_with("http://status.acme.test/ack/"), "{json}");
    assert_eq!(backup.bodies().len(), 0);

    // Ten minutes on, still unacknowledged: the second step pages the backup.
    rig.clock.advance(Duration::from_secs(600));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(backup.bodies().len(), 1);
    assert_eq!(first.bodies().len(), 1);

    // Acknowledged: nothing more, however long it stays down.
    let mut alert = rig.storage.active_alerts().await.unwrap().remove(0);
    assert!(alert.acknowledge("alice", rig.clock.now()));
    rig.storage.route(&[], std::slice::from_ref(&alert), &[], None).await.unwrap();
    for _ in 0..6 {
        rig.clock.advance(Duration::from_secs(600));
        dispatch.drain_once(rig.clock.now()).await.unwrap();
    }
    assert_eq!((first.bodies().len(), backup.bodies().len()), (1, 1));

    // Recovery: the acknowledged alert resolves, and every channel it paged (both steps) hears
    // so once; the rule's own `up` notice goes to no channel already told.
    target.set_status(200);
    rig.step("api-http", Duration::from_secs(10)).await;
    for _ in 0..3 {
        dispatch.drain_once(rig.clock.now()).await.unwrap();
        rig.clock.advance(Duration::from_secs(60));
    }
    let stored = rig.storage.alert(&alert.id).await.unwrap().unwrap();
    assert!(stored.resolved_at.is_some(), "{stored:#?}");
    assert_eq!(stored.acknowledged_by.as_deref(), Some("alice"));
    assert!(rig.storage.unresolved_alerts().await.unwrap().is_empty());
    let events = |r: &Receiver| -> Vec<String> {
        r.bodies().iter().map(|b| b["event"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(events(&first), ["down", "up"]);
    assert_eq!(events(&backup), ["down", "up"], "paged at step 2, so told of the resolution");
    assert_eq!(backup.bodies()[1]["dedup_key"], format!("belfry-{}", alert.id));
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_exactly_one_delivery() {
    let target = Target::start().await;
    let (first, backup) = (Receiver::start().await, Receiver::start().await);
    *first.fail_first.lock().unwrap() = 3;
    let rig = rig(&config(&target, &first, &backup)).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    target.set_status(503);
    rig.step("api-http", Duration::from_secs(10)).await;
    for _ in 0..10 {
        dispatch.drain_once(rig.clock.now()).await.unwrap();
        rig.clock.advance(Duration::from_secs(30));
    }
    assert_eq!(first.bodies().len(), 1, "exactly one successful delivery");
    let sent = rig.storage.deliveries(Some(DeliveryStatus::Sent), 10).await.unwrap();
    let to_first: Vec<_> = sent.iter().filter(|d| d.channel == "ops-hook").collect();
    assert_eq!(to_first.len(), 1);
    assert_eq!(to_first[0].attempts, 4);
}

#[tokio::test]
async fn notifications_pending_at_kill_9_are_delivered_once_after_restart() {
    let target = Target::start().await;
    target.set_status(503);
    let hook_port = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "belfry.yaml",
        &format!(
            r#"
monitors:
  - {{id: api-http, kind: http, url: "{}", interval: 1s, failure: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "http://127.0.0.1:{hook_port}/hook"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down], escalation: default}}
"#,
            target.url("/")
        ),
    );
    let mut server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    // The receiver is not there yet: the delivery fails and stays pending in the outbox.
    eventually("a failed delivery attempt", Duration::from_secs(30), || async {
        server.logs().contains("notification not delivered").then_some(())
    })
    .await;
    server.kill();

    let receiver = Receiver::start_on(hook_port).await;
    let _server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    eventually("the pending notification", Duration::from_secs(60), || async {
        (!receiver.bodies().is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "delivered once: {bodies:?}");
    assert_eq!(bodies[0]["event"], "down");
}

#[tokio::test]
async fn the_acknowledge_link_in_a_message_stops_the_escalation_through_the_real_server() {
    let target = Target::start().await;
    target.set_status(503);
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "belfry.yaml",
        &format!(
            r#"
page: {{title: Acme, public_url: "http://status.acme.test"}}
monitors:
  - {{id: api-http, kind: http, url: "{}", interval: 1s, failure: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: default, repeat: 100, round: 1s, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down], escalation: default}}
"#,
            target.url("/"),
            receiver.url("/hook")
        ),
    );
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let ack_url = eventually("a page with an acknowledge link", Duration::from_secs(30), || async {
        receiver.bodies().first().and_then(|b| b["ack_url"].as_str().map(str::to_owned))
    })
    .await;
    let path = ack_url.strip_prefix("http://status.acme.test").unwrap().to_owned();
    let (status, page) = crate::support::request_text("GET", &server.url(&path), None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form method=\"post\">"));
    let forged = format!("{}0", path);
    assert_eq!(crate::support::request_text("POST", &server.url(&forged), None).await.0, 403);
    let (status, page) = crate::support::request_text("POST", &server.url(&path), None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Escalation stopped"));
    let after_ack = receiver.bodies().len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(receiver.bodies().len() <= after_ack + 1, "paging stopped (one may have been in flight)");
}

#[tokio::test]
async fn a_child_of_a_down_parent_is_grouped_under_the_parents_alert() {
    let target = Target::start().await;
    let (receiver, unused) = (Receiver::start().await, Receiver::start().await);
    let yaml = format!(
        r#"
monitors:
  - {{id: db-host, kind: http, url: "{url}", interval: 10s, failure: {{threshold: 1}}}}
  - {{id: api-1, kind: http, url: "{url}", interval: 10s, failure: {{threshold: 1}}, depends_on: [db-host]}}
  - {{id: api-2, kind: http, url: "{url}", interval: 10s, failure: {{threshold: 1}}, depends_on: [db-host]}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{hook}"}}
  - {{id: unused, kind: webhook, url: "{unused}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down], escalation: default}}
"#,
        url = target.url("/"),
        hook = receiver.url("/hook"),
        unused = unused.url("/hook")
    );
    let rig = rig(&yaml).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    target.set_status(503);
    rig.step("db-host", Duration::from_secs(10)).await;
    assert_eq!(rig.state("api-1"), MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "one page for the host, none for its dependants: {bodies:#?}");
    assert_eq!(bodies[0]["monitor"]["id"], "db-host");
}

#[tokio::test]
async fn an_expiring_certificate_warns_once_as_its_own_event() {
    let receiver = Receiver::start().await;
    let yaml = format!(
        r#"
monitors:
  - {{id: site, name: Website, kind: tls, host: 127.0.0.1, port: 443, interval: 1h}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: certs, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [certificate_expiring], escalation: certs}}
"#,
        receiver.url("/hook")
    );
    let rig = rig(&yaml).await;
    let dispatch = dispatcher(&rig);
    let now = rig.clock.now();
    let not_after = now.checked_add(jiff::SignedDuration::from_hours(5 * 24)).unwrap();
    let result = certificate_result("site", now, not_after);
    let batch = belfry_core::store::Batch { results: vec![result], ..Default::default() };
    rig.storage.write(&batch).await.unwrap();
    for _ in 0..3 {
        dispatch.drain_once(rig.clock.now()).await.unwrap();
        rig.clock.advance(Duration::from_secs(60));
    }
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "once per certificate: {bodies:#?}");
    assert_eq!(bodies[0]["event"], "certificate_expiring");
    assert!(bodies[0]["summary"].as_str().unwrap().contains("expires in 5 days"), "{}", bodies[0]);
}

/// A result of `monitor` at `at` that recorded a certificate valid until `not_after`.
fn certificate_result(
    monitor: &str,
    at: jiff::Timestamp,
    not_after: jiff::Timestamp,
) -> belfry_core::CheckResult {
    belfry_core::CheckResult {
        monitor: belfry_core::MonitorId::parse(monitor).unwrap(),
        region: "local".into(),
        at,
        ok: true,
        degraded: false,
        inconclusive: false,
        duration_ms: 20,
        phases: Default::default(),
        status: Some(200),
        ip: None,
        error: None,
        conditions: vec![],
        values: [("certificate".to_owned(), serde_json::json!({"not_after": not_after.to_string()}))]
            .into_iter()
            .collect(),
    }
}

/// The monitor's recovery is not the certificate's renewal: the warning stays until a result
/// shows a certificate beyond the window.
#[tokio::test]
async fn a_certificate_warning_outlives_the_monitors_recovery_until_the_renewal() {
    let target = Target::start().await;
    let receiver = Receiver::start().await;
    let yaml = format!(
        r#"
monitors:
  - {{id: site, name: Website, kind: http, url: "{}", interval: 10s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up, certificate_expiring], escalation: default}}
alerting: {{certificate_warning: 7d}}
"#,
        target.url("/"),
        receiver.url("/hook")
    );
    let rig = rig(&yaml).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let days = |n: i64| rig.clock.now().checked_add(jiff::SignedDuration::from_hours(n * 24)).unwrap();
    let write = |result| {
        let batch = belfry_core::store::Batch { results: vec![result], ..Default::default() };
        let storage = rig.storage.clone();
        async move { storage.write(&batch).await.unwrap() }
    };
    // Ten days left: outside a 7-day window.
    write(certificate_result("site", rig.clock.now(), days(10))).await;
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert!(receiver.bodies().is_empty(), "{:#?}", receiver.bodies());
    let seen_at = rig.clock.advance(Duration::from_secs(1));
    write(certificate_result("site", seen_at, days(5))).await;
    dispatch.drain_once(seen_at).await.unwrap();

    target.set_status(503);
    assert_eq!(rig.step("site", Duration::from_secs(10)).await, MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    target.set_status(200);
    assert_eq!(rig.step("site", Duration::from_secs(10)).await, MonitorState::Up);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let seen = || -> Vec<(String, String)> {
        receiver
            .bodies()
            .iter()
            .map(|b| (b["event"].as_str().unwrap().to_owned(), b["dedup_key"].as_str().unwrap().to_owned()))
            .collect()
    };
    let events: Vec<String> = seen().into_iter().map(|(e, _)| e).collect();
    assert_eq!(events, ["certificate_expiring", "down", "up"]);
    let warnings = || async {
        let active = rig.storage.active_alerts().await.unwrap();
        active.into_iter().filter(|a| a.event.kind == EventKind::CertificateExpiring).collect::<Vec<_>>()
    };
    let open = warnings().await;
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0].event.at, seen_at, "when it was seen, not when it expires");

    // Renewed: resolved, the channel told once, and the new certificate is not warned about.
    write(certificate_result("site", rig.clock.advance(Duration::from_secs(1)), days(90))).await;
    for _ in 0..3 {
        dispatch.drain_once(rig.clock.now()).await.unwrap();
        rig.clock.advance(Duration::from_secs(60));
    }
    let seen = seen();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    assert_eq!(seen[3], ("up".to_owned(), seen[0].1.clone()), "the warning's resolution");
    assert!(warnings().await.is_empty());
}

#[tokio::test]
async fn alerts_sent_are_on_the_incident_timeline() {
    let target = Target::start().await;
    let receiver = Receiver::start().await;
    let yaml = format!(
        r#"
components: [{{id: api, name: Internal API, incident: auto}}]
monitors:
  - {{id: api-http, kind: http, component: api, url: "{}", interval: 10s, failure: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down], escalation: default}}
"#,
        target.url("/"),
        receiver.url("/hook")
    );
    let rig = rig(&yaml).await;
    let automation = belfry::automation::Automation::new(rig.storage.clone(), rig.engine.clone());
    let dispatch = dispatcher(&rig);
    automation.step(rig.clock.now()).await.unwrap();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    target.set_status(503);
    rig.step("api-http", Duration::from_secs(10)).await;
    automation.step(rig.clock.now()).await.unwrap();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let filter = belfry_core::store::IncidentFilter { limit: 10, ..Default::default() };
    let incident = rig.storage.incidents(&filter).await.unwrap().remove(0);
    let timeline = rig.storage.timeline(&incident.id).await.unwrap();
    assert!(
        timeline.iter().any(|e| e.kind == belfry_core::incident::TimelineKind::AlertSent
            && e.text == "Alert sent to ops-hook (down)"),
        "{timeline:#?}"
    );
}

#[tokio::test]
async fn incident_events_reach_the_rules_that_ask_for_them_once() {
    let receiver = Receiver::start().await;
    let yaml = format!(
        r#"
components: [{{id: api, name: Internal API}}]
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: notices, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [incident_*], escalation: notices}}
"#,
        receiver.url("/hook")
    );
    let rig = rig(&yaml).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let now = rig.clock.advance(Duration::from_secs(1));
    let update = |id: &str, status| belfry_core::incident::NewUpdate {
        id: id.into(),
        status,
        body: "Forms are slow".into(),
        author: "dana".into(),
        notify: true,
        components: Default::default(),
        impact: None,
        display_at: None,
    };
    let (mut incident, timeline) = belfry_core::incident::Incident::open(
        "inc1".into(),
        "Forms slow".into(),
        belfry_core::incident::Impact::Minor,
        update("u1", belfry_core::incident::IncidentStatus::Investigating),
        None,
        true,
        now,
    )
    .unwrap();
    rig.storage.save_incident(&incident, 0, &timeline).await.unwrap();
    for _ in 0..3 {
        rig.clock.advance(Duration::from_secs(1));
        dispatch.drain_once(rig.clock.now()).await.unwrap();
    }
    incident.version = 1;
    let later = rig.clock.advance(Duration::from_secs(1));
    let more =
        incident.post_update(update("u2", belfry_core::incident::IncidentStatus::Resolved), later).unwrap();
    rig.storage.save_incident(&incident, 1, &more).await.unwrap();
    for _ in 0..3 {
        rig.clock.advance(Duration::from_secs(1));
        dispatch.drain_once(rig.clock.now()).await.unwrap();
    }
    let events: Vec<String> =
        receiver.bodies().iter().map(|b| b["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events, ["incident_created", "incident_resolved"]);
}

#[tokio::test]
async fn a_rule_with_tags_pages_only_for_the_tagged_monitors_outage() {
    let (db, web) = (Target::start().await, Target::start().await);
    let (db_pager, everyone) = (Receiver::start().await, Receiver::start().await);
    let yaml = format!(
        r#"
components: [{{id: db, name: Database}}, {{id: web, name: Website}}]
monitors:
  - {{id: db-primary, kind: http, component: db, url: "{db}", interval: 10s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}, tags: [db, "team:storage"]}}
  - {{id: web-http, kind: http, component: web, url: "{web}", interval: 10s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}, tags: [frontend]}}
channels:
  - {{id: db-pager, kind: webhook, url: "{db_pager}"}}
  - {{id: everyone, kind: webhook, url: "{everyone}"}}
escalations:
  - {{id: db-oncall, steps: [{{after: 0s, notify: [db-pager]}}]}}
  - {{id: all, steps: [{{after: 0s, notify: [everyone]}}]}}
alerts:
  - {{tags: [db], events: [down, up], escalation: db-oncall}}
  - {{events: [down, up], escalation: all}}
"#,
        db = db.url("/"),
        web = web.url("/"),
        db_pager = db_pager.url("/hook"),
        everyone = everyone.url("/hook")
    );
    let rig = rig(&yaml).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let seen = |r: &Receiver| -> Vec<(String, String)> {
        r.bodies()
            .iter()
            .map(|b| {
                (b["event"].as_str().unwrap().to_owned(), b["monitor"]["id"].as_str().unwrap().to_owned())
            })
            .collect()
    };

    // The untagged rule hears of the website; the db rule does not.
    web.set_status(503);
    assert_eq!(rig.step("web-http", Duration::from_secs(10)).await, MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(seen(&everyone), [("down".into(), "web-http".into())]);
    assert!(db_pager.bodies().is_empty(), "web-http is not tagged db: {:#?}", db_pager.bodies());

    // The tagged monitor's outage and recovery reach both.
    db.set_status(503);
    assert_eq!(rig.step("db-primary", Duration::from_secs(10)).await, MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    db.set_status(200);
    assert_eq!(rig.step("db-primary", Duration::from_secs(10)).await, MonitorState::Up);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    // The recovery comes once: the down alert's resolution, not also the rule's own `up` notice.
    assert_eq!(
        seen(&db_pager),
        [("down".to_owned(), "db-primary".to_owned()), ("up".into(), "db-primary".into())]
    );
    assert_eq!(seen(&everyone)[1], ("down".to_owned(), "db-primary".to_owned()));
}

#[tokio::test]
async fn a_rule_with_tags_hears_of_incidents_on_the_tagged_monitors_components() {
    let receiver = Receiver::start().await;
    let yaml = format!(
        r#"
components: [{{id: db, name: Database}}, {{id: web, name: Website}}]
monitors:
  - {{id: db-primary, kind: tcp, component: db, host: 127.0.0.1, port: 5432, tags: [db]}}
  - {{id: web-http, kind: http, component: web, url: "http://127.0.0.1:1/"}}
channels:
  - {{id: db-pager, kind: webhook, url: "{}"}}
escalations:
  - {{id: notices, steps: [{{after: 0s, notify: [db-pager]}}]}}
alerts:
  - {{tags: [db], events: [incident_*], escalation: notices}}
"#,
        receiver.url("/hook")
    );
    let rig = rig(&yaml).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let now = rig.clock.advance(Duration::from_secs(1));
    for (id, name, component) in [
        ("inc-web", "Website slow", Some("web")),
        ("inc-none", "Office wifi down", None),
        ("inc-db", "Replication lag", Some("db")),
    ] {
        let first = belfry_core::incident::NewUpdate {
            id: format!("{id}-u1"),
            status: belfry_core::incident::IncidentStatus::Investigating,
            body: "Looking into it".into(),
            author: "dana".into(),
            notify: true,
            components: component
                .map(|c| {
                    (
                        belfry_core::MonitorId::parse(c).unwrap(),
                        belfry_core::ComponentStatus::DegradedPerformance,
                    )
                })
                .into_iter()
                .collect(),
            impact: None,
            display_at: None,
        };
        let (incident, timeline) = belfry_core::incident::Incident::open(
            id.into(),
            name.into(),
            belfry_core::incident::Impact::Minor,
            first,
            None,
            true,
            now,
        )
        .unwrap();
        rig.storage.save_incident(&incident, 0, &timeline).await.unwrap();
    }
    for _ in 0..3 {
        rig.clock.advance(Duration::from_secs(1));
        dispatch.drain_once(rig.clock.now()).await.unwrap();
    }
    let titles: Vec<String> =
        receiver.bodies().iter().map(|b| b["title"].as_str().unwrap().to_owned()).collect();
    assert_eq!(titles, ["Incident: Replication lag"], "only the incident on a component with a db monitor");
}

/// An incident a person opened on `component` (like `POST /api/v1/incidents` does).
async fn open_by_hand(rig: &Rig, id: &str, component: &str) {
    let first = belfry_core::incident::NewUpdate {
        id: format!("{id}-u1"),
        status: belfry_core::incident::IncidentStatus::Investigating,
        body: "Customers report errors".into(),
        author: "dana".into(),
        notify: true,
        components: [(
            belfry_core::MonitorId::parse(component).unwrap(),
            belfry_core::ComponentStatus::PartialOutage,
        )]
        .into_iter()
        .collect(),
        impact: None,
        display_at: None,
    };
    let (incident, timeline) = belfry_core::incident::Incident::open(
        id.into(),
        "Errors on the API".into(),
        belfry_core::incident::Impact::Major,
        first,
        None,
        true,
        rig.clock.now(),
    )
    .unwrap();
    rig.storage.save_incident(&incident, 0, &timeline).await.unwrap();
}

/// A manual incident on the monitor's component gets the machine facts too: the transition
/// (with the failing condition), each alert sent, the escalation and the acknowledgement —
/// and the automatic incident, which also affects the component, gets each of them once.
#[tokio::test]
async fn a_manual_incident_on_the_component_gets_the_monitors_facts_once() {
    use axum::body::Body;
    use axum::http::Request;
    use belfry_core::incident::TimelineKind;
    use tower::ServiceExt;

    let target = Target::start().await;
    let (first, backup) = (Receiver::start().await, Receiver::start().await);
    let yaml = config(&target, &first, &backup).replace(
        "components: [{id: api, name: Internal API}]",
        "components: [{id: api, name: Internal API, incident: auto}]",
    );
    let rig = rig(&yaml).await;
    let vault = test_vault(&rig.storage);
    let key = belfry::app::ack_key(&vault, rig.storage.as_ref()).await.unwrap();
    let runtime = Arc::new(Service::new(
        rig.engine.clone(),
        rig.storage.clone(),
        ConfigSource::Example("127.0.0.1:1".parse().unwrap()),
        vault.clone(),
    ));
    let http = belfry_notify::HttpClient::new().unwrap();
    let dispatch = Dispatcher::new(rig.storage.clone(), runtime.clone(), http, DispatcherConfig::new(key));
    let automation = belfry::automation::Automation::new(rig.storage.clone(), rig.engine.clone());
    automation.step(rig.clock.now()).await.unwrap();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    open_by_hand(&rig, "by-hand", "api").await;
    open_by_hand(&rig, "elsewhere", "api").await;
    let mut elsewhere = rig.storage.incident("elsewhere").await.unwrap().unwrap();
    let resolved = belfry_core::incident::NewUpdate {
        id: "elsewhere-u2".into(),
        status: belfry_core::incident::IncidentStatus::Resolved,
        body: "Fixed".into(),
        author: "dana".into(),
        notify: true,
        components: Default::default(),
        impact: None,
        display_at: None,
    };
    let more = elsewhere.post_update(resolved, rig.clock.now()).unwrap();
    rig.storage.save_incident(&elsewhere, elsewhere.version, &more).await.unwrap();

    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);
    automation.step(rig.clock.now()).await.unwrap();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    rig.clock.advance(Duration::from_secs(600));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!((first.bodies().len(), backup.bodies().len()), (1, 1), "paged, then escalated");

    // Acknowledged with the link in the page.
    let ack_url = first.bodies()[0]["ack_url"].as_str().unwrap().to_owned();
    let path = ack_url.strip_prefix("http://status.acme.test").unwrap().to_owned();
    let state = belfry_web::WebState {
        store: rig.storage.clone(),
        incidents: rig.storage.clone(),
        alerts: rig.storage.clone(),
        subscribers: rig.storage.clone(),
        admin: rig.storage.clone(),
        vault,
        runtime,
        clock: rig.clock.clone(),
    };
    let reply =
        belfry_web::router(state).oneshot(Request::post(&path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(reply.status(), 200);

    let filter = belfry_core::store::IncidentFilter { limit: 10, ..Default::default() };
    let incidents = rig.storage.incidents(&filter).await.unwrap();
    let automatic = incidents.iter().find(|i| i.auto.is_some()).expect("the automatic incident");
    for id in [automatic.id.as_str(), "by-hand"] {
        let timeline = rig.storage.timeline(id).await.unwrap();
        let facts: Vec<(TimelineKind, &str)> = timeline
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    TimelineKind::Monitor
                        | TimelineKind::AlertSent
                        | TimelineKind::Escalated
                        | TimelineKind::Acknowledged
                )
            })
            .map(|e| (e.kind, e.text.as_str()))
            .collect();
        assert_eq!(
            facts,
            [
                (TimelineKind::Monitor, "Monitor api-http up → down: [STATUS] (503) < 400"),
                (TimelineKind::AlertSent, "Alert sent to ops-hook (down)"),
                (
                    TimelineKind::Escalated,
                    "Alert escalated (round 1, step 2) to backup-hook: Internal API is down"
                ),
                (TimelineKind::AlertSent, "Alert sent to backup-hook (down)"),
                (TimelineKind::Acknowledged, "Alert acknowledged by link: Internal API is down"),
            ],
            "{id}: {timeline:#?}"
        );
        let transition = timeline.iter().find(|e| e.kind == TimelineKind::Monitor).unwrap();
        assert_eq!(transition.data["results"][0]["conditions"][0]["ok"], false, "the failing result");
    }
    let closed = rig.storage.timeline("elsewhere").await.unwrap();
    assert!(
        closed.iter().all(|e| e.kind != TimelineKind::Monitor && e.kind != TimelineKind::AlertSent),
        "a resolved incident is history: {closed:#?}"
    );
}

/// The timeline entries of monitor transitions on incident `id`, by text.
async fn transitions_on(rig: &Rig, id: &str) -> Vec<String> {
    let timeline = rig.storage.timeline(id).await.unwrap();
    timeline
        .into_iter()
        .filter(|e| e.kind == belfry_core::incident::TimelineKind::Monitor)
        .map(|e| e.text)
        .collect()
}

async fn automatic_incidents(rig: &Rig) -> Vec<belfry_core::incident::Incident> {
    let filter =
        belfry_core::store::IncidentFilter { include_drafts: true, limit: 100, ..Default::default() };
    let mut found: Vec<_> =
        rig.storage.incidents(&filter).await.unwrap().into_iter().filter(|i| i.auto.is_some()).collect();
    found.sort_by_key(|i| i.auto.as_ref().unwrap().monitor.to_string());
    found
}

/// Incident automation writes a transition's facts, then moves its cursor: a step that failed
/// in between does the transition again, and that writes nothing twice (no second entry, no
/// second "recovered" update).
#[tokio::test]
async fn a_transition_handled_again_after_an_interrupted_step_is_written_once() {
    use belfry::automation::{Automation, CURSOR};

    let target = Target::start().await;
    let (first, backup) = (Receiver::start().await, Receiver::start().await);
    let yaml = config(&target, &first, &backup).replace(
        "components: [{id: api, name: Internal API}]",
        "components: [{id: api, name: Internal API, incident: auto}]",
    );
    let rig = rig(&yaml).await;
    let automation = Automation::new(rig.storage.clone(), rig.engine.clone());
    automation.step(rig.clock.now()).await.unwrap();
    open_by_hand(&rig, "by-hand", "api").await;
    let step_twice = || async {
        let before = rig.storage.cursor(CURSOR).await.unwrap().unwrap();
        assert_eq!(automation.step(rig.clock.now()).await.unwrap(), 1);
        // As if the step had failed after its writes, before moving the cursor.
        rig.storage.set_cursor(CURSOR, &before).await.unwrap();
        assert_eq!(automation.step(rig.clock.now()).await.unwrap(), 1);
    };

    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);
    step_twice().await;
    target.set_status(200);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Up);
    step_twice().await;

    let automatic = automatic_incidents(&rig).await;
    assert_eq!(automatic.len(), 1, "{automatic:#?}");
    let statuses: Vec<_> = automatic[0].updates.iter().map(|u| u.status).collect();
    use belfry_core::incident::IncidentStatus::{Investigating, Monitoring};
    assert_eq!(statuses, [Investigating, Monitoring], "one recovery update");
    let expected = [
        "Monitor api-http up → down: [STATUS] (503) < 400".to_owned(),
        "Monitor api-http down → up".to_owned(),
    ];
    assert_eq!(transitions_on(&rig, &automatic[0].id).await, expected);
    assert_eq!(transitions_on(&rig, "by-hand").await, expected);
}

/// The desk moves to another node, which writes a transition's facts and fails before moving
/// the cursor; back on this node (whose last step finished at that cursor), the transition is
/// handled again and written once.
#[tokio::test]
async fn a_transition_another_node_wrote_before_failing_is_written_once_when_the_desk_is_back() {
    use belfry::automation::{Automation, CURSOR};

    let target = Target::start().await;
    let (first, backup) = (Receiver::start().await, Receiver::start().await);
    let yaml = config(&target, &first, &backup).replace(
        "components: [{id: api, name: Internal API}]",
        "components: [{id: api, name: Internal API, incident: auto}]",
    );
    let rig = rig(&yaml).await;
    let (here, there) = (
        Automation::new(rig.storage.clone(), rig.engine.clone()),
        Automation::new(rig.storage.clone(), rig.engine.clone()),
    );
    here.step(rig.clock.now()).await.unwrap();
    open_by_hand(&rig, "by-hand", "api").await;
    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);

    // This node leaves the desk (as the desk loop tells it); the other node takes it.
    here.forget_progress();
    let before = rig.storage.cursor(CURSOR).await.unwrap().unwrap();
    assert_eq!(there.step(rig.clock.now()).await.unwrap(), 1);
    rig.storage.set_cursor(CURSOR, &before).await.unwrap();
    // The desk is back here.
    assert_eq!(here.step(rig.clock.now()).await.unwrap(), 1);

    let automatic = automatic_incidents(&rig).await;
    assert_eq!(automatic.len(), 1, "{automatic:#?}");
    let expected = ["Monitor api-http up → down: [STATUS] (503) < 400".to_owned()];
    assert_eq!(transitions_on(&rig, &automatic[0].id).await, expected);
    assert_eq!(transitions_on(&rig, "by-hand").await, expected);
}

/// One step reads the open incidents once; what it opens is known to its later transitions.
#[tokio::test]
async fn the_transitions_of_one_step_see_the_incidents_it_opened() {
    let target = Target::start().await;
    let yaml = format!(
        r#"
components: [{{id: api, name: Internal API, incident: auto}}]
monitors:
  - {{id: api-a, kind: http, component: api, url: "{url}", interval: 10s, failure: {{threshold: 1}}}}
  - {{id: api-b, kind: http, component: api, url: "{url}", interval: 10s, failure: {{threshold: 1}}}}
"#,
        url = target.url("/")
    );
    let rig = rig(&yaml).await;
    let automation = belfry::automation::Automation::new(rig.storage.clone(), rig.engine.clone());
    automation.step(rig.clock.now()).await.unwrap();
    target.set_status(503);
    rig.step("api-a", Duration::from_secs(10)).await;
    assert_eq!((rig.state("api-a"), rig.state("api-b")), (MonitorState::Down, MonitorState::Down));
    assert_eq!(automation.step(rig.clock.now()).await.unwrap(), 2, "both in one step");

    let automatic = automatic_incidents(&rig).await;
    assert_eq!(automatic.len(), 2, "one automatic incident each: {automatic:#?}");
    // api-a's incident affects the component, so api-b's outage belongs on it too.
    assert_eq!(
        transitions_on(&rig, &automatic[0].id).await,
        ["Monitor api-a up → down: [STATUS] (503) < 400", "Monitor api-b up → down: [STATUS] (503) < 400"]
    );
    assert_eq!(
        transitions_on(&rig, &automatic[1].id).await,
        ["Monitor api-b up → down: [STATUS] (503) < 400"]
    );
}

fn certificate_config(receiver: &Receiver) -> String {
    format!(
        r#"
monitors:
  - {{id: site, name: Website, kind: tls, host: 127.0.0.1, port: 443, interval: 1h}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: certs, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up, certificate_expiring], escalation: certs}}
"#,
        receiver.url("/hook")
    )
}

/// Records that `site` showed a certificate valid for `days` more days.
async fn certificate_seen(rig: &Rig, days: i64) -> jiff::Timestamp {
    let now = rig.clock.advance(Duration::from_secs(1));
    let not_after = now.checked_add(jiff::SignedDuration::from_hours(days * 24)).unwrap();
    let batch = belfry_core::store::Batch {
        results: vec![certificate_result("site", now, not_after)],
        ..Default::default()
    };
    rig.storage.write(&batch).await.unwrap();
    not_after
}

async fn drain_a_few(rig: &Rig, dispatch: &Dispatcher) {
    for _ in 0..3 {
        dispatch.drain_once(rig.clock.now()).await.unwrap();
        rig.clock.advance(Duration::from_secs(60));
    }
}

fn events_of(receiver: &Receiver) -> Vec<String> {
    receiver.bodies().iter().map(|b| b["event"].as_str().unwrap().to_owned()).collect()
}

/// An acknowledged warning stops paging but still resolves on the renewal (telling the channel).
#[tokio::test]
async fn an_acknowledged_certificate_warning_resolves_on_renewal() {
    let receiver = Receiver::start().await;
    let rig = rig(&certificate_config(&receiver)).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    certificate_seen(&rig, 5).await;
    drain_a_few(&rig, &dispatch).await;
    let mut warning = rig.storage.active_alerts().await.unwrap().remove(0);
    assert!(warning.acknowledge("alice", rig.clock.now()));
    rig.storage.route(&[], std::slice::from_ref(&warning), &[], None).await.unwrap();
    drain_a_few(&rig, &dispatch).await;
    assert_eq!(events_of(&receiver), ["certificate_expiring"], "acknowledged: quiet, not warned again");

    certificate_seen(&rig, 90).await;
    drain_a_few(&rig, &dispatch).await;
    assert_eq!(events_of(&receiver), ["certificate_expiring", "up"], "the resolution");
    let stored = rig.storage.alert(&warning.id).await.unwrap().unwrap();
    assert!(stored.resolved_at.is_some(), "{stored:#?}");
    assert_eq!(stored.acknowledged_by.as_deref(), Some("alice"));
    assert!(rig.storage.unresolved_alerts().await.unwrap().is_empty());
}

fn escalation(id: &str) -> belfry_core::alert::Escalation {
    belfry_core::alert::Escalation {
        id: id.into(),
        repeat: 1,
        steps: vec![belfry_core::alert::EscalationStep {
            after: Duration::ZERO,
            notify: vec!["ops-hook".into()],
        }],
        round: None,
        renotify: None,
    }
}

fn event_of_site(kind: EventKind, at: jiff::Timestamp) -> belfry_core::alert::Event {
    belfry_core::alert::Event {
        kind,
        at,
        monitor: Some(belfry_core::MonitorId::parse("site").unwrap()),
        component: None,
        incident: None,
        title: "Website".into(),
        reason: None,
        failing_conditions: vec![],
        tags: vec![],
    }
}

/// A warning stored before warnings had their own subject (about the monitor, the rule's index
/// in its id) is recognised: while its certificate is still seen it is neither resolved nor
/// sent again under the new id; the renewal resolves it.
#[tokio::test]
async fn a_warning_stored_before_certificates_had_their_own_subject_is_kept_until_the_renewal() {
    let receiver = Receiver::start().await;
    let rig = rig(&certificate_config(&receiver)).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let not_after = certificate_seen(&rig, 5).await;
    let certs = escalation("certs");
    let now = rig.clock.now();
    let id = format!("cert-site-{}-0", not_after.as_second());
    let mut legacy = belfry_core::alert::Alert::open(
        id.clone(),
        &certs,
        event_of_site(EventKind::CertificateExpiring, not_after),
        now,
    );
    assert_eq!(legacy.subject, "monitor:site");
    assert_eq!(legacy.take_due(&certs, now).len(), 1, "sent back then");
    rig.storage.route(&[legacy], &[], &[], None).await.unwrap();

    drain_a_few(&rig, &dispatch).await;
    assert_eq!(events_of(&receiver), Vec::<String>::new(), "neither resolved nor warned again");
    let unresolved: Vec<String> =
        rig.storage.unresolved_alerts().await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(unresolved, std::slice::from_ref(&id));

    certificate_seen(&rig, 90).await;
    drain_a_few(&rig, &dispatch).await;
    assert_eq!(events_of(&receiver), ["up"], "its resolution");
    assert!(rig.storage.alert(&id).await.unwrap().unwrap().resolved_at.is_some());
}

/// Notices now resolve once sent; one stored active before that (sent, nothing more due) is
/// resolved by the dispatcher, without sending anything.
#[tokio::test]
async fn a_notice_left_active_before_notices_resolved_once_sent_is_resolved() {
    let receiver = Receiver::start().await;
    let rig = rig(&certificate_config(&receiver)).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let certs = escalation("certs");
    let now = rig.clock.now();
    let mut notice =
        belfry_core::alert::Alert::open("up-site-1-0".into(), &certs, event_of_site(EventKind::Up, now), now);
    assert_eq!(notice.take_due(&certs, now).len(), 1);
    notice.resolved_at = None; // as stored before
    assert!(notice.is_spent_notice());
    rig.storage.route(&[notice], &[], &[], None).await.unwrap();
    assert_eq!(rig.storage.active_alerts().await.unwrap().len(), 1);

    drain_a_few(&rig, &dispatch).await;
    assert!(rig.storage.active_alerts().await.unwrap().is_empty());
    assert!(rig.storage.alert("up-site-1-0").await.unwrap().unwrap().resolved_at.is_some());
    assert!(receiver.bodies().is_empty(), "{:#?}", receiver.bodies());
}

/// Acknowledging stops the paging, not the incident the paged channels opened: the monitor's
/// recovery resolves the acknowledged alert and tells PagerDuty once (and nobody it never paged).
#[tokio::test]
async fn an_acknowledged_alert_resolves_on_recovery_and_pagerduty_hears_it_once() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let target = Target::start().await;
    let (pagerduty, backup) = (Receiver::start().await, Receiver::start().await);
    let yaml = format!(
        r#"
page: {{title: Acme Status, public_url: "http://status.acme.test"}}
monitors:
  - {{id: api-http, name: Internal API, kind: http, url: "{}", interval: 10s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}}}
channels:
  - {{id: pd, kind: pagerduty, routing_key: pd-key, events_url: "{}"}}
  - {{id: backup-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [pd]}}, {{after: 10m, notify: [backup-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up], escalation: default}}
"#,
        target.url("/"),
        pagerduty.url("/v2/enqueue"),
        backup.url("/hook")
    );
    let rig = rig(&yaml).await;
    let vault = test_vault(&rig.storage);
    let key = belfry::app::ack_key(&vault, rig.storage.as_ref()).await.unwrap();
    let runtime = Arc::new(Service::new(
        rig.engine.clone(),
        rig.storage.clone(),
        ConfigSource::Example("127.0.0.1:1".parse().unwrap()),
        vault.clone(),
    ));
    let http = belfry_notify::HttpClient::new().unwrap();
    let dispatch = Dispatcher::new(rig.storage.clone(), runtime.clone(), http, DispatcherConfig::new(key));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let actions = || -> Vec<(String, String)> {
        pagerduty
            .bodies()
            .iter()
            .map(|b| {
                (b["event_action"].as_str().unwrap().to_owned(), b["dedup_key"].as_str().unwrap().to_owned())
            })
            .collect()
    };

    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let paged = actions();
    assert_eq!(paged.len(), 1, "{paged:?}");
    assert_eq!(paged[0].0, "trigger");
    let alert_id = paged[0].1.strip_prefix("belfry-").unwrap().to_owned();

    // Acknowledged with the link in the page.
    let ack_url = pagerduty.bodies()[0]["links"][0]["href"].as_str().unwrap().to_owned();
    let path = ack_url.strip_prefix("http://status.acme.test").unwrap().to_owned();
    let state = belfry_web::WebState {
        store: rig.storage.clone(),
        incidents: rig.storage.clone(),
        alerts: rig.storage.clone(),
        subscribers: rig.storage.clone(),
        admin: rig.storage.clone(),
        vault,
        runtime,
        clock: rig.clock.clone(),
    };
    let reply =
        belfry_web::router(state).oneshot(Request::post(&path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(reply.status(), 200);
    // Still down past the second step: acknowledged, so nobody else is paged.
    rig.clock.advance(Duration::from_secs(900));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert!(rig.storage.active_alerts().await.unwrap().is_empty());
    assert_eq!(rig.storage.unresolved_alerts().await.unwrap().len(), 1, "acknowledged, not resolved");

    // Recovered: PagerDuty resolves its incident, once, however many steps follow.
    target.set_status(200);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Up);
    for _ in 0..3 {
        dispatch.drain_once(rig.clock.now()).await.unwrap();
        rig.clock.advance(Duration::from_secs(60));
    }
    let key = format!("belfry-{alert_id}");
    assert_eq!(actions(), [("trigger".to_owned(), key.clone()), ("resolve".to_owned(), key)]);
    assert!(backup.bodies().is_empty(), "never paged, so not told: {:#?}", backup.bodies());
    let stored = rig.storage.alert(&alert_id).await.unwrap().unwrap();
    assert!(stored.resolved_at.is_some(), "{stored:#?}");
    assert_eq!(stored.acknowledged_by.as_deref(), Some("link"));
    assert!(rig.storage.unresolved_alerts().await.unwrap().is_empty());
    let sent = rig.storage.deliveries(Some(DeliveryStatus::Sent), 10).await.unwrap();
    let resolutions: Vec<_> = sent.iter().filter(|d| d.message.is_resolution()).map(|d| &d.channel).collect();
    assert_eq!(resolutions, ["pd"]);
}

/// A fake of the probes the server expects: `probes` says what it was given.
struct Expected(Vec<belfry_core::probe::ProbeStatus>);

impl belfry_core::probe::ProbeHub for Expected {
    fn seen(&self, _: &str, _: Duration) {}

    fn ingest(
        &self,
        _: &str,
        results: Vec<belfry_core::CheckResult>,
    ) -> Result<usize, belfry_core::probe::IngestError> {
        Ok(results.len())
    }

    fn probes(&self) -> Vec<belfry_core::probe::ProbeStatus> {
        self.0.clone()
    }

    fn regions(&self, _: &belfry_core::MonitorId) -> Vec<belfry_core::probe::RegionView> {
        vec![]
    }
}

/// The real runtime, with what a test changes: the config in force (as if reloaded), the
/// probes expected, and a person's acknowledgement made while the dispatcher reads the monitor
/// states — after its step read the alerts, before it writes them.
struct Meddled {
    service: Service,
    storage: Arc<dyn belfry_core::store::Storage>,
    catalog: std::sync::Mutex<Option<Arc<belfry_core::Catalog>>>,
    probes: std::sync::Mutex<Option<Vec<belfry_core::probe::ProbeStatus>>>,
    /// The alert to acknowledge at the next `states`.
    acknowledge: std::sync::Mutex<Option<String>>,
}

impl Meddled {
    fn new(rig: &Rig) -> Arc<Self> {
        Arc::new(Self {
            service: Service::new(
                rig.engine.clone(),
                rig.storage.clone(),
                ConfigSource::Example("127.0.0.1:1".parse().unwrap()),
                test_vault(&rig.storage),
            ),
            storage: rig.storage.clone(),
            catalog: Default::default(),
            probes: Default::default(),
            acknowledge: Default::default(),
        })
    }

    fn dispatcher(self: &Arc<Self>) -> Dispatcher {
        let http = belfry_notify::HttpClient::new().unwrap();
        Dispatcher::new(
            self.storage.clone(),
            self.clone(),
            http,
            DispatcherConfig::new(b"test-ack-key".to_vec()),
        )
    }

    /// Puts in force the config as it is now, changed by `change`.
    fn change_config(&self, change: impl FnOnce(&mut belfry_core::Catalog)) {
        let mut catalog = (*belfry_core::Runtime::catalog(self)).clone();
        change(&mut catalog);
        *self.catalog.lock().unwrap() = Some(Arc::new(catalog));
    }
}

#[async_trait::async_trait]
impl belfry_core::Runtime for Meddled {
    fn catalog(&self) -> Arc<belfry_core::Catalog> {
        self.catalog.lock().unwrap().clone().unwrap_or_else(|| self.service.catalog())
    }

    fn states(&self) -> Vec<belfry_core::LiveState> {
        if let Some(id) = self.acknowledge.lock().unwrap().take() {
            // Needs a multi-threaded test runtime.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    let mut alert = self.storage.alert(&id).await.unwrap().unwrap();
                    assert!(alert.acknowledge("bob", alert.opened_at));
                    self.storage.route(&[], &[alert], &[], None).await.unwrap();
                })
            });
        }
        self.service.states()
    }

    fn push(
        &self,
        token: &str,
        down: Option<String>,
    ) -> Result<belfry_core::MonitorId, belfry_core::runtime::PushError> {
        self.service.push(token, down)
    }

    async fn reload(&self) -> Result<(), Vec<String>> {
        self.service.reload().await
    }

    fn readiness(&self) -> belfry_core::runtime::Readiness {
        self.service.readiness()
    }

    async fn console_objects(&self) -> Result<Vec<belfry_core::ConsoleObject>, String> {
        self.service.console_objects().await
    }

    async fn put_console_object(
        &self,
        section: belfry_core::Section,
        id: &str,
        yaml: Option<String>,
    ) -> Result<(), Vec<String>> {
        self.service.put_console_object(section, id, yaml).await
    }

    async fn set_component_order(&self, order: Vec<String>) -> Result<(), String> {
        self.service.set_component_order(order).await
    }

    async fn run_now(&self, monitor: &belfry_core::MonitorId) -> Option<belfry_core::CheckResult> {
        self.service.run_now(monitor).await
    }

    fn render_metrics(&self) -> String {
        self.service.render_metrics()
    }

    fn probes(&self) -> Arc<dyn belfry_core::probe::ProbeHub> {
        match self.probes.lock().unwrap().clone() {
            Some(expected) => Arc::new(Expected(expected)),
            None => self.service.probes(),
        }
    }

    async fn unwritten_transitions(&self) -> Vec<belfry_core::Transition> {
        self.service.unwritten_transitions().await
    }
}

/// A person acknowledges the alert just as the dispatcher routes its monitor's recovery (after
/// the step read the alerts): the write finds the alert changed, the alerts are read again and
/// the recovery is routed once more — it resolves the acknowledged alert and tells the channel
/// it paged, once, in the same step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_during_a_step_is_read_again_and_the_recovery_still_resolves_it() {
    let target = Target::start().await;
    let (first, backup) = (Receiver::start().await, Receiver::start().await);
    let rig = rig(&config(&target, &first, &backup)).await;
    let runtime = Meddled::new(&rig);
    let dispatch = runtime.dispatcher();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let id = rig.storage.active_alerts().await.unwrap().remove(0).id;

    target.set_status(200);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Up);
    *runtime.acknowledge.lock().unwrap() = Some(id.clone());
    dispatch.drain_once(rig.clock.now()).await.expect("the conflict is handled within the step");
    assert!(runtime.acknowledge.lock().unwrap().is_none(), "acknowledged during the step");
    let stored = rig.storage.alert(&id).await.unwrap().unwrap();
    assert!(stored.resolved_at.is_some(), "{stored:#?}");
    assert_eq!(stored.acknowledged_by.as_deref(), Some("bob"));
    assert!(rig.storage.unresolved_alerts().await.unwrap().is_empty());
    for _ in 0..3 {
        rig.clock.advance(Duration::from_secs(60));
        dispatch.drain_once(rig.clock.now()).await.unwrap();
    }
    assert_eq!(events_of(&first), ["down", "up"]);
    assert!(backup.bodies().is_empty(), "{:#?}", backup.bodies());
}

/// An alert whose monitor left the config or is paused, a `probe_missing` alert of a region no
/// monitor names any more, and a notice acknowledged before its delayed step would never be
/// resolved by anything: each step resolves them, telling no channel — those about a monitor
/// once it has stayed unchecked for the grace period; one back in the config within it keeps
/// its alert. The rest stay.
#[tokio::test]
async fn alerts_nothing_would_resolve_are_resolved_without_telling_anyone() {
    let target = Target::start().await;
    let receiver = Receiver::start().await;
    let yaml = format!(
        r#"
monitors:
  - {{id: api-http, kind: http, url: "{url}", interval: 10s, failure: {{threshold: 1}}}}
  - {{id: web-http, kind: http, url: "{url}", interval: 10s, failure: {{threshold: 1}}}}
  - {{id: kept, kind: http, url: "{url}", interval: 10s, failure: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{hook}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up], escalation: default}}
"#,
        url = target.url("/"),
        hook = receiver.url("/hook")
    );
    let rig = rig(&yaml).await;
    let runtime = Meddled::new(&rig);
    let dispatch = runtime.dispatcher();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(events_of(&receiver), ["down", "down", "down"]);
    let of = |monitor: &str, alerts: &[belfry_core::alert::Alert]| {
        alerts
            .iter()
            .find(|a| a.event.monitor.as_ref().is_some_and(|m| m.as_str() == monitor))
            .unwrap()
            .clone()
    };
    let unresolved = rig.storage.unresolved_alerts().await.unwrap();
    let (mut api, web, kept) =
        (of("api-http", &unresolved), of("web-http", &unresolved), of("kept", &unresolved));
    assert!(api.acknowledge("alice", rig.clock.now()));
    rig.storage.route(&[], std::slice::from_ref(&api), &[], None).await.unwrap();
    // A notice acknowledged before its step, five minutes on, went out.
    let now = rig.clock.now();
    let mut later = escalation("later");
    later.steps[0].after = Duration::from_secs(300);
    let mut notice =
        belfry_core::alert::Alert::open("up-kept-0".into(), &later, event_of_site(EventKind::Up, now), now);
    assert!(notice.take_due(&later, now).is_empty());
    assert!(notice.acknowledge("alice", now));
    // A probe that stopped reporting, acknowledged.
    let mut probe = belfry_core::alert::Alert::open(
        "probe_missing-eu-0".into(),
        &escalation("default"),
        belfry_core::alert::Event {
            kind: EventKind::ProbeMissing,
            monitor: None,
            title: "Probe of region eu stopped reporting".into(),
            ..event_of_site(EventKind::ProbeMissing, now)
        },
        now,
    );
    probe.subject = "probe:eu".into();
    assert!(probe.acknowledge("alice", now));
    rig.storage.route(&[notice, probe], &[], &[], None).await.unwrap();
    let expected = |missing| belfry_core::probe::ProbeStatus {
        region: "eu".into(),
        last_seen: None,
        expected_since: now,
        poll_interval_ms: 5_000,
        missing,
    };
    *runtime.probes.lock().unwrap() = Some(vec![expected(true)]);
    let ids = || async {
        let mut ids: Vec<String> =
            rig.storage.unresolved_alerts().await.unwrap().into_iter().map(|a| a.id).collect();
        ids.sort();
        ids
    };

    rig.clock.advance(Duration::from_secs(1));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let mut still = vec![api.id.clone(), web.id.clone(), kept.id.clone(), "probe_missing-eu-0".to_owned()];
    still.sort();
    assert_eq!(ids().await, still, "only the acknowledged notice is done");
    assert!(rig.storage.alert("up-kept-0").await.unwrap().unwrap().resolved_at.is_some());

    // api-http and kept leave the config, web-http is paused (its engine says so), no monitor
    // names region eu any more: the probe's alert is done at once, the monitors' wait.
    let without = |catalog: &mut belfry_core::Catalog, gone: &[&str]| {
        catalog.monitors.retain(|m| !gone.contains(&m.id.as_str()));
        for spec in catalog.monitors.iter_mut().filter(|m| m.id.as_str() == "web-http") {
            let mut paused = (**spec).clone();
            paused.paused = true;
            *spec = Arc::new(paused);
        }
    };
    let configured = rig.engine.catalog();
    runtime.change_config(|catalog| without(catalog, &["api-http", "kept"]));
    rig.engine.apply(belfry_core::Runtime::catalog(runtime.as_ref()));
    assert_eq!(rig.state("web-http"), MonitorState::Paused);
    *runtime.probes.lock().unwrap() = Some(vec![]);
    rig.clock.advance(Duration::from_secs(1));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let monitors = [api.id.clone(), kept.id.clone(), web.id.clone()];
    let mut waiting = monitors.to_vec();
    waiting.sort();
    assert_eq!(ids().await, waiting, "only the probe's alert is done");
    let stored = rig.storage.alert("probe_missing-eu-0").await.unwrap().unwrap();
    assert_eq!(stored.resolved_at, Some(rig.clock.now()), "{stored:#?}");

    // kept is back within the grace period (put back by whoever removed it by mistake), for
    // one step; then it leaves again: its grace starts over.
    let back = Duration::from_secs(600);
    rig.clock.advance(back);
    runtime.change_config(|catalog| {
        *catalog = (*configured).clone();
        without(catalog, &["api-http"]);
    });
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(ids().await, waiting);
    rig.clock.advance(Duration::from_secs(1));
    runtime.change_config(|catalog| without(catalog, &["api-http", "kept"]));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(ids().await, waiting);

    // Unchecked for all but a second of the grace period: still there; then done.
    let grace = belfry_notify::dispatch::UNCHECKED_GRACE;
    rig.clock.advance(grace - back - Duration::from_secs(2));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(ids().await, waiting);
    rig.clock.advance(Duration::from_secs(1));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(ids().await, std::slice::from_ref(&kept.id), "its monitor was back within the grace");
    for id in [&api.id, &web.id] {
        let stored = rig.storage.alert(id).await.unwrap().unwrap();
        assert_eq!(stored.resolved_at, Some(rig.clock.now()), "{stored:#?}");
    }
    assert_eq!(rig.storage.alert(&api.id).await.unwrap().unwrap().acknowledged_by.as_deref(), Some("alice"));
    // A whole grace period after it left again.
    rig.clock.advance(back);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert_eq!(ids().await, std::slice::from_ref(&kept.id));
    rig.clock.advance(Duration::from_secs(1));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert!(ids().await.is_empty());
    drain_a_few(&rig, &dispatch).await;
    assert_eq!(events_of(&receiver), ["down", "down", "down"], "nobody was told");
}

/// A monitor gone from this node's config but still checked by another node (its results keep
/// coming) keeps its alert; once no result came for the grace period, the alert is resolved.
/// The desk moving away forgets how long a monitor has gone unchecked.
#[tokio::test]
async fn an_alert_of_a_monitor_only_another_node_checks_is_kept() {
    let target = Target::start().await;
    let receiver = Receiver::start().await;
    let yaml = format!(
        r#"
monitors:
  - {{id: api-http, kind: http, url: "{url}", interval: 10s, failure: {{threshold: 1}}}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{hook}"}}
escalations:
  - {{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [down, up], escalation: default}}
"#,
        url = target.url("/"),
        hook = receiver.url("/hook")
    );
    let rig = rig(&yaml).await;
    let runtime = Meddled::new(&rig);
    let dispatch = runtime.dispatcher();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    target.set_status(503);
    assert_eq!(rig.step("api-http", Duration::from_secs(10)).await, MonitorState::Down);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let id = rig.storage.unresolved_alerts().await.unwrap().remove(0).id;
    let unresolved = || async { rig.storage.alert(&id).await.unwrap().unwrap().resolved_at.is_none() };
    let grace = belfry_notify::dispatch::UNCHECKED_GRACE;

    // Gone from the dispatcher's config; the engine (as another node's) still checks it.
    runtime.change_config(|catalog| catalog.monitors.clear());
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    for _ in 0..4 {
        assert_eq!(rig.step("api-http", grace / 3).await, MonitorState::Down);
        dispatch.drain_once(rig.clock.now()).await.unwrap();
        assert!(unresolved().await, "checked by another node");
    }

    // The other node stops checking it too; this node leaves the desk and takes it back.
    let last = rig.clock.now();
    rig.clock.advance(grace + Duration::from_secs(1));
    dispatch.forget_unchecked();
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert!(unresolved().await, "unchecked for the grace period, but not seen so at every step");
    rig.clock.advance(grace - Duration::from_secs(1));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert!(unresolved().await);
    rig.clock.advance(Duration::from_secs(1));
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    assert!(!unresolved().await, "no result since {last}");
    assert_eq!(events_of(&receiver), ["down"], "nobody was told");
}

/// A warning stored before warning ids were marked for escalations named by digits ends like
/// the old warnings of a rule's index: it is taken only for its own escalation, so another
/// escalation whose rule now has that index still warns its people (and the first is not
/// warned again); a new warning for the digit-named escalation gets the marked id.
#[tokio::test]
async fn an_old_warning_id_ending_in_digits_counts_only_for_its_own_escalation() {
    let (ops, zero) = (Receiver::start().await, Receiver::start().await);
    let yaml = format!(
        r#"
monitors:
  - {{id: site, name: Website, kind: tls, host: 127.0.0.1, port: 443, interval: 1h}}
channels:
  - {{id: ops-hook, kind: webhook, url: "{}"}}
  - {{id: zero-hook, kind: webhook, url: "{}"}}
escalations:
  - {{id: certs, steps: [{{after: 0s, notify: [ops-hook]}}]}}
  - {{id: "0", steps: [{{after: 0s, notify: [zero-hook]}}]}}
alerts:
  - {{monitors: ["*"], events: [certificate_expiring], escalation: certs}}
  - {{monitors: ["*"], events: [certificate_expiring], escalation: "0"}}
"#,
        ops.url("/hook"),
        zero.url("/hook")
    );
    let rig = rig(&yaml).await;
    let dispatch = dispatcher(&rig);
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    let not_after = certificate_seen(&rig, 5).await;
    // Escalation "0"'s warning, sent before: its id is also what rule 0's old warning had.
    let zero_escalation = escalation("0");
    let now = rig.clock.now();
    let old_id = format!("cert-site-{}-0", not_after.as_second());
    let mut old = belfry_core::alert::Alert::open(
        old_id.clone(),
        &zero_escalation,
        event_of_site(EventKind::CertificateExpiring, now),
        now,
    );
    old.subject = format!("certificate:site:{}", not_after.as_second());
    assert_eq!(old.take_due(&zero_escalation, now).len(), 1);
    rig.storage.route(&[old], &[], &[], None).await.unwrap();

    drain_a_few(&rig, &dispatch).await;
    assert_eq!(events_of(&ops), ["certificate_expiring"], "rule 0's escalation was never warned");
    assert!(zero.bodies().is_empty(), "warned already: {:#?}", zero.bodies());
    let mut ids: Vec<String> =
        rig.storage.unresolved_alerts().await.unwrap().into_iter().map(|a| a.id).collect();
    ids.sort();
    assert_eq!(ids, [old_id, format!("cert-site-{}-certs", not_after.as_second())]);

    // Another certificate, also expiring soon: the digit-named escalation's warning is marked.
    let next = certificate_seen(&rig, 6).await;
    drain_a_few(&rig, &dispatch).await;
    let keys: Vec<String> =
        zero.bodies().iter().map(|b| b["dedup_key"].as_str().unwrap().to_owned()).collect();
    assert!(keys.contains(&format!("belfry-cert-site-{}-0~", next.as_second())), "{keys:#?}");
}

//! Automatic incidents and maintenance windows, driven on a fake clock with the real engine,
//! store, web router and a real target.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use belfry::automation::Automation;
use belfry::service::Service;
use belfry::settings::ConfigSource;
use belfry::windows;
use belfry_core::incident::{IncidentStatus, TimelineKind};
use belfry_core::maintenance::Maintenance;
use belfry_core::store::{IncidentFilter, Resolution};
use belfry_core::uptime::downtime;
use belfry_core::{Clock, MonitorId, MonitorState, Store};
use belfry_notify::dispatch::{Dispatcher, DispatcherConfig};
use belfry_web::WebState;
use http_body_util::BodyExt;
use jiff::Timestamp;
use serde_json::Value;
use tower::ServiceExt;

use crate::engine::{Rig, engine_on, rig};
use crate::postgres::TestDb;
use crate::support::{Receiver, Target, test_vault};

const TEN: Duration = Duration::from_secs(10);

fn config(url: &str, incident: &str) -> String {
    format!(
        r#"
components: [{{id: api, name: Internal API, incident: {incident}}}]
monitors:
  - {{id: api-http, name: Internal API, kind: http, component: api, url: "{url}", interval: 10s,
     failure: {{threshold: 2}}, recovery: {{threshold: 1}}, impact: partial_outage}}
"#
    )
}

/// [`config`] with an alert rule paging `receiver` on every down and up.
fn alerting_config(url: &str, incident: &str, receiver: &Receiver) -> String {
    format!(
        r#"{}
channels: [{{id: ops-hook, kind: webhook, url: "{}"}}]
escalations: [{{id: default, steps: [{{after: 0s, notify: [ops-hook]}}]}}]
alerts: [{{monitors: ["*"], events: [down, up], escalation: default}}]
"#,
        config(url, incident),
        receiver.url("/hook")
    )
}

/// Runs one engine step, then the desk work (windows, automation) at the same instant.
async fn step(rig: &Rig, automation: &Automation, by: Duration) -> MonitorState {
    let now = rig.clock.advance(by);
    windows::apply(rig.storage.as_ref(), &rig.engine, now).await.unwrap();
    rig.engine.tick(now).await.unwrap();
    automation.step(now).await.unwrap();
    rig.state("api-http")
}

async fn auto_incidents(rig: &Rig) -> Vec<belfry_core::incident::Incident> {
    let filter = IncidentFilter { include_drafts: true, limit: 100, ..IncidentFilter::default() };
    rig.storage.incidents(&filter).await.unwrap()
}

fn service(rig: &Rig) -> Arc<Service> {
    Arc::new(Service::new(
        rig.engine.clone(),
        rig.storage.clone(),
        ConfigSource::Example("127.0.0.1:1".parse().unwrap()),
        test_vault(&rig.storage),
    ))
}

/// The alert dispatcher the desk runs, over the rig.
fn dispatcher(rig: &Rig) -> Dispatcher {
    let http = belfry_notify::HttpClient::new().unwrap();
    Dispatcher::new(rig.storage.clone(), service(rig), http, DispatcherConfig::new(b"test-ack-key".to_vec()))
}

async fn v2(rig: &Rig, path: &str) -> Value {
    let runtime = service(rig);
    let state = WebState {
        store: rig.storage.clone(),
        incidents: rig.storage.clone(),
        alerts: rig.storage.clone(),
        subscribers: rig.storage.clone(),
        admin: rig.storage.clone(),
        vault: test_vault(&rig.storage),
        runtime,
        clock: rig.clock.clone(),
    };
    let resp =
        belfry_web::router(state).oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn component_status(components: &Value, id: &str) -> String {
    components["components"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_outage_opens_an_incident_flaps_attach_and_quiet_recovery_resolves_it() {
    let target = Target::start().await;
    let rig = rig(&config(&target.url("/"), "{mode: auto, resolve_after: 5m}")).await;
    let automation = Automation::new(rig.storage.clone(), rig.engine.clone());
    automation.step(rig.clock.now()).await.unwrap(); // starts following transitions from now
    assert_eq!(step(&rig, &automation, TEN).await, MonitorState::Up);

    target.set_status(503);
    step(&rig, &automation, TEN).await;
    assert!(auto_incidents(&rig).await.is_empty(), "suspected opens nothing");
    assert_eq!(step(&rig, &automation, TEN).await, MonitorState::Down);
    let opened = auto_incidents(&rig).await;
    assert_eq!(opened.len(), 1);
    let incident = &opened[0];
    assert_eq!(incident.name, "Internal API went down");
    assert!(incident.published);
    assert_eq!(incident.status, IncidentStatus::Investigating);
    let summary = v2(&rig, "/api/v2/summary.json").await;
    assert_eq!(summary["incidents"][0]["id"], incident.id.as_str(), "{summary}");
    assert_eq!(component_status(&summary, "api"), "partial_outage");

    // Recovery: monitoring. A flap within the quiet period reopens the same incident.
    target.set_status(200);
    step(&rig, &automation, TEN).await;
    assert_eq!(auto_incidents(&rig).await[0].status, IncidentStatus::Monitoring);
    target.set_status(503);
    step(&rig, &automation, TEN).await;
    assert_eq!(step(&rig, &automation, TEN).await, MonitorState::Down);
    let flapped = auto_incidents(&rig).await;
    assert_eq!(flapped.len(), 1, "the flap attached to the open incident");
    assert_eq!(flapped[0].status, IncidentStatus::Investigating);

    // Up for the whole quiet period: resolved, with the duration from recorded data.
    target.set_status(200);
    step(&rig, &automation, TEN).await;
    for _ in 0..31 {
        step(&rig, &automation, TEN).await;
    }
    let resolved = auto_incidents(&rig).await.remove(0);
    assert_eq!(resolved.status, IncidentStatus::Resolved);
    let recovered = resolved.updates.iter().find(|u| u.body.contains("recovered after")).unwrap();
    assert!(recovered.body.contains("recovered after 10 s"), "{}", recovered.body);

    let timeline = rig.storage.timeline(&resolved.id).await.unwrap();
    let monitor_entries: Vec<_> = timeline.iter().filter(|e| e.kind == TimelineKind::Monitor).collect();
    let moves: Vec<&str> = monitor_entries
        .iter()
        .map(|e| e.text.split(" → ").nth(1).unwrap().split(':').next().unwrap())
        .collect();
    assert_eq!(moves, ["down", "up", "suspected", "down", "up"], "{timeline:#?}");
    assert!(monitor_entries[0].text.contains("[STATUS] (503) < 400"), "{}", monitor_entries[0].text);
    assert!(monitor_entries[0].data["results"].as_array().is_some_and(|r| !r.is_empty()));
    assert!(timeline.windows(2).all(|w| w[0].at <= w[1].at), "timeline in time order");

    let summary = v2(&rig, "/api/v2/summary.json").await;
    assert_eq!(summary["incidents"].as_array().unwrap().len(), 0);
    assert_eq!(component_status(&summary, "api"), "operational");
}

#[tokio::test]
async fn drafts_stay_private_until_published() {
    let target = Target::start().await;
    target.set_status(500);
    let rig = rig(&config(&target.url("/"), "draft")).await;
    let automation = Automation::new(rig.storage.clone(), rig.engine.clone());
    automation.step(rig.clock.now()).await.unwrap();
    step(&rig, &automation, TEN).await;
    assert_eq!(step(&rig, &automation, TEN).await, MonitorState::Down);
    let drafts = auto_incidents(&rig).await;
    assert_eq!(drafts.len(), 1);
    assert!(!drafts[0].published);
    let public = v2(&rig, "/api/v2/incidents.json").await;
    assert_eq!(public["incidents"].as_array().unwrap().len(), 0, "{public}");
}

/// A one-off window on `api` over `[start + from, start + to)` seconds.
fn api_window(id: &str, start: Timestamp, from: u64, to: u64, count_downtime: bool) -> Maintenance {
    Maintenance {
        id: id.into(),
        name: "API upgrade".into(),
        description: "Upgrading the API".into(),
        components: vec![MonitorId::parse("api").unwrap()],
        starts_at: start.checked_add(Duration::from_secs(from)).unwrap(),
        ends_at: start.checked_add(Duration::from_secs(to)).unwrap(),
        rrule: None,
        time_zone: "UTC".into(),
        count_downtime,
        manual: None,
        created_at: start,
        updated_at: start,
        version: 0,
    }
}

/// [`step`], then the alert dispatcher at the same instant.
async fn step_paging(
    rig: &Rig,
    automation: &Automation,
    dispatch: &Dispatcher,
    by: Duration,
) -> MonitorState {
    let state = step(rig, automation, by).await;
    dispatch.drain_once(rig.clock.now()).await.unwrap();
    state
}

async fn api_down_periods(rig: &Rig, since: Timestamp) -> Vec<belfry_core::store::DownPeriod> {
    rig.storage.down_periods(&MonitorId::parse("api-http").unwrap(), since).await.unwrap()
}

fn at(start: Timestamp, secs: u64) -> Timestamp {
    start.checked_add(Duration::from_secs(secs)).unwrap()
}

#[tokio::test]
async fn a_maintenance_window_suppresses_outages_only_inside_it() {
    let target = Target::start().await;
    target.set_status(503);
    let receiver = Receiver::start().await;
    let rig = rig(&alerting_config(&target.url("/"), "auto", &receiver)).await;
    let automation = Automation::new(rig.storage.clone(), rig.engine.clone());
    let dispatch = dispatcher(&rig);
    let start = rig.clock.now();
    automation.step(start).await.unwrap();
    dispatch.drain_once(start).await.unwrap(); // starts following transitions from now
    rig.storage.save_maintenance(&api_window("mw1", start, 15, 65, false), 0).await.unwrap();
    let upcoming = v2(&rig, "/api/v2/scheduled-maintenances/upcoming.json").await;
    assert_eq!(upcoming["scheduled_maintenances"][0]["status"], "scheduled", "{upcoming}");

    // Before the window: failing, but one failure is only suspected; nothing public yet.
    assert_eq!(step_paging(&rig, &automation, &dispatch, TEN).await, MonitorState::Suspected);
    assert_eq!(component_status(&v2(&rig, "/api/v2/components.json").await, "api"), "operational");

    // Inside the window: a failing target is never declared down, paged or opened.
    for _ in 0..5 {
        assert_eq!(step_paging(&rig, &automation, &dispatch, TEN).await, MonitorState::Maintenance);
        assert_eq!(component_status(&v2(&rig, "/api/v2/components.json").await, "api"), "under_maintenance");
    }
    let active = v2(&rig, "/api/v2/scheduled-maintenances/active.json").await;
    assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress", "{active}");
    assert!(auto_incidents(&rig).await.is_empty());
    assert!(receiver.bodies().is_empty(), "nothing paged in the window: {:?}", receiver.bodies());
    assert!(rig.storage.active_alerts().await.unwrap().is_empty());

    // After it: the same failure is an outage by the usual policy, paged and opened.
    let mut after = vec![];
    for _ in 0..3 {
        after.push(step_paging(&rig, &automation, &dispatch, TEN).await);
    }
    assert_eq!(
        after,
        [MonitorState::Suspected, MonitorState::Down, MonitorState::Down],
        "window ended at +65 s"
    );
    assert_eq!(component_status(&v2(&rig, "/api/v2/components.json").await, "api"), "partial_outage");
    assert_eq!(auto_incidents(&rig).await.len(), 1);
    let paged: Vec<Value> = receiver.bodies().iter().map(|b| b["event"].clone()).collect();
    assert_eq!(paged, ["down"], "paged once, for the outage after the window");
    let all = v2(&rig, "/api/v2/scheduled-maintenances.json").await;
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed", "{all}");

    // Uptime: the window is not downtime; the outage after it (down at +80 s) is.
    let periods = api_down_periods(&rig, start).await;
    assert_eq!(periods.len(), 1, "{periods:?}");
    assert_eq!((periods[0].start, periods[0].end), (at(start, 80), None));
    assert_eq!(downtime(&periods, start, at(start, 70)), Duration::ZERO);
    assert_eq!(downtime(&periods, start, rig.clock.now()), Duration::from_secs(10));
}

#[tokio::test]
async fn a_window_counting_downtime_still_holds_the_monitor_but_counts_its_failing_time() {
    let (target, receiver) = (Target::start().await, Receiver::start().await);
    let rig = rig(&alerting_config(&target.url("/"), "auto", &receiver)).await;
    counts_failing_time_in_a_counting_window(rig, target, receiver).await;
}

#[tokio::test]
async fn a_window_counting_downtime_counts_the_same_on_postgres() {
    let db = TestDb::create("counted");
    let (target, receiver) = (Target::start().await, Receiver::start().await);
    let storage = belfry::app::open_store(&db.url(), 4).await.unwrap();
    let store: Arc<dyn Store> = storage.clone();
    let (engine, clock) =
        engine_on(store.clone(), &alerting_config(&target.url("/"), "auto", &receiver)).await;
    let rig = Rig { engine, store, storage, clock, _dir: tempfile::tempdir().unwrap() };
    counts_failing_time_in_a_counting_window(rig, target, receiver).await;
}

async fn counts_failing_time_in_a_counting_window(rig: Rig, target: Target, receiver: Receiver) {
    let automation = Automation::new(rig.storage.clone(), rig.engine.clone());
    let dispatch = dispatcher(&rig);
    let start = rig.clock.now();
    automation.step(start).await.unwrap();
    dispatch.drain_once(start).await.unwrap();
    rig.storage.save_maintenance(&api_window("mw3", start, 15, 65, true), 0).await.unwrap();

    // +10 up; the window starts at +15 and holds the monitor from the +20 step. Checks at +30,
    // +40 fail (beyond the threshold of 2), +50 passes, +60 fails again; the window ends at +65
    // and the +70 step releases the monitor before its check, which passes.
    assert_eq!(step_paging(&rig, &automation, &dispatch, TEN).await, MonitorState::Up);
    let mut inside = vec![];
    for status in [200, 503, 503, 200, 503] {
        target.set_status(status);
        inside.push(step_paging(&rig, &automation, &dispatch, TEN).await);
        assert_eq!(component_status(&v2(&rig, "/api/v2/components.json").await, "api"), "under_maintenance");
    }
    assert_eq!(inside, [MonitorState::Maintenance; 5], "count_downtime does not decide outages");
    target.set_status(200);
    assert_eq!(step_paging(&rig, &automation, &dispatch, TEN).await, MonitorState::Up);
    assert!(auto_incidents(&rig).await.is_empty(), "no automatic incident in a window");
    assert!(receiver.bodies().is_empty(), "nothing paged in a window: {:?}", receiver.bodies());
    let failed = rig.store.results(&MonitorId::parse("api-http").unwrap(), Some(start), 100).await.unwrap();
    assert_eq!(failed.iter().filter(|r| !r.ok).count(), 3, "checks ran and were recorded in the window");

    // The transition into maintenance says the time counts.
    let id = MonitorId::parse("api-http").unwrap();
    let moves = moves_of(&rig, &id, start).await;
    assert_eq!(
        moves,
        [
            (MonitorState::Up, MonitorState::Maintenance, true, 20),
            (MonitorState::Maintenance, MonitorState::Up, false, 70)
        ]
    );

    // Uptime counts the time the checks were failing, from the records.
    let periods = api_down_periods(&rig, start).await;
    let spans: Vec<_> = periods.iter().map(|p| (p.start, p.end)).collect();
    assert_eq!(
        spans,
        [(at(start, 30), Some(at(start, 50))), (at(start, 60), Some(at(start, 70)))],
        "failing from a failed check to the next passing one or the release from maintenance"
    );
    assert_eq!(downtime(&periods, start, rig.clock.now()), Duration::from_secs(30));

    // The same in the rollups the uptime bars are built from.
    for _ in 0..6 {
        step(&rig, &automation, TEN).await;
    }
    rig.store.compact(rig.clock.now()).await.unwrap();
    let minutes = rig.store.rollups(&id, Resolution::Minute, start, rig.clock.now()).await.unwrap();
    let down: Vec<u32> = minutes.iter().map(|r| r.downtime_s).collect();
    assert_eq!(down, [20, 10], "{minutes:?}");
}

/// A monitor's transitions since `start`, oldest first: from, to, `counts_downtime`, seconds
/// after `start`.
async fn moves_of(
    rig: &Rig,
    id: &MonitorId,
    start: Timestamp,
) -> Vec<(MonitorState, MonitorState, bool, u64)> {
    let mut all = rig.store.transitions(Some(id), Some(start), 100).await.unwrap();
    all.reverse();
    all.iter()
        .map(|t| (t.from, t.to, t.counts_downtime, t.at.duration_since(start).as_secs() as u64))
        .collect()
}

#[tokio::test]
async fn a_window_excusing_downtime_wins_over_a_counting_one_while_both_hold() {
    let (target, receiver) = (Target::start().await, Receiver::start().await);
    let rig = rig(&alerting_config(&target.url("/"), "auto", &receiver)).await;
    let automation = Automation::new(rig.storage.clone(), rig.engine.clone());
    let dispatch = dispatcher(&rig);
    let start = rig.clock.now();
    automation.step(start).await.unwrap();
    dispatch.drain_once(start).await.unwrap();
    let incident = open_incident_on_api(&rig, start).await;
    rig.storage.save_maintenance(&api_window("counting", start, 15, 75, true), 0).await.unwrap();
    rig.storage.save_maintenance(&api_window("excusing", start, 35, 55, false), 0).await.unwrap();

    // Up at +10; failing from +20 to +60; passing again from +70.
    assert_eq!(step_paging(&rig, &automation, &dispatch, TEN).await, MonitorState::Up);
    for status in [503, 503, 503, 503, 503, 200] {
        target.set_status(status);
        assert_eq!(step_paging(&rig, &automation, &dispatch, TEN).await, MonitorState::Maintenance);
    }
    assert_eq!(step_paging(&rig, &automation, &dispatch, TEN).await, MonitorState::Up);

    let id = MonitorId::parse("api-http").unwrap();
    let (up, held) = (MonitorState::Up, MonitorState::Maintenance);
    assert_eq!(
        moves_of(&rig, &id, start).await,
        [(up, held, true, 20), (held, held, false, 40), (held, held, true, 60), (held, up, false, 80)],
        "the flag follows the windows in force"
    );
    // Counted from +20 until the excusing window held it at +40, and from +60 (the +50 check
    // still failing) to the passing check at +70.
    let spans: Vec<_> = api_down_periods(&rig, start).await.iter().map(|p| (p.start, p.end)).collect();
    assert_eq!(spans, [(at(start, 20), Some(at(start, 40))), (at(start, 60), Some(at(start, 70)))]);

    // A change of the flag alone is nobody's business: no page, no incident, no timeline entry.
    assert!(receiver.bodies().is_empty(), "{:?}", receiver.bodies());
    assert_eq!(auto_incidents(&rig).await.len(), 1, "only the one opened by hand");
    let entries: Vec<String> = rig
        .storage
        .timeline(&incident)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == TimelineKind::Monitor)
        .map(|e| e.text)
        .collect();
    assert_eq!(
        entries,
        ["Monitor api-http up → maintenance", "Monitor api-http maintenance → up"],
        "one entry in, one out"
    );
}

/// Opens, by hand, an incident on component `api` at `start`; returns its id.
async fn open_incident_on_api(rig: &Rig, start: Timestamp) -> String {
    let mut components = belfry_core::incident::AffectedComponents::new();
    components.insert(MonitorId::parse("api").unwrap(), belfry_core::ComponentStatus::DegradedPerformance);
    let first = belfry_core::incident::NewUpdate {
        id: "u1".into(),
        status: IncidentStatus::Identified,
        body: "Slow API; a fix ships in tonight's window".into(),
        author: "dana".into(),
        notify: false,
        components,
        impact: None,
        display_at: None,
    };
    let (incident, timeline) = belfry_core::incident::Incident::open(
        "slow-api".into(),
        "Slow API".into(),
        belfry_core::incident::Impact::Minor,
        first,
        None,
        true,
        start,
    )
    .unwrap();
    rig.storage.save_incident(&incident, 0, &timeline).await.unwrap();
    incident.id
}

#[tokio::test]
async fn a_window_starting_and_ending_is_on_the_timeline_of_incidents_it_touches() {
    let target = Target::start().await;
    let rig = rig(&config(&target.url("/"), "off")).await;
    let automation = Automation::new(rig.storage.clone(), rig.engine.clone());
    let start = rig.clock.now();
    windows::apply(rig.storage.as_ref(), &rig.engine, start).await.unwrap();
    open_incident_on_api(&rig, start).await;
    let window = Maintenance {
        name: "API fix".into(),
        description: String::new(),
        ..api_window("mw2", start, 5, 55, false)
    };
    rig.storage.save_maintenance(&window, 0).await.unwrap();
    for _ in 0..7 {
        step(&rig, &automation, TEN).await;
    }
    let entries: Vec<String> = rig
        .storage
        .timeline("slow-api")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == TimelineKind::Maintenance)
        .map(|e| format!("{} {}", e.at.duration_since(start).as_secs(), e.text))
        .collect();
    assert_eq!(entries, ["5 Maintenance \"API fix\" started", "55 Maintenance \"API fix\" ended"]);
}

//! `belfry postmortem` on recorded data, checked against golden files
//! (`BELFRY_BLESS=1 cargo test -p belfry --test it postmortem` rewrites them).

use std::path::Path;
use std::process::Command;

use belfry_core::incident::{
    AffectedComponents, AutoSource, CorrectiveAction, Impact, Incident, IncidentStatus, NewUpdate,
    Postmortem, PostmortemRow,
};
use belfry_core::store::Batch;
use belfry_core::{CheckResult, ComponentStatus, MonitorId, MonitorState, Transition};
use jiff::Timestamp;

use crate::support::write;

const CONFIG: &str = r#"
page: {title: Acme Status, time_zone: America/New_York}
components: [{id: forms, name: Patient forms}]
monitors:
  - {id: forms-http, name: Patient forms, kind: http, component: forms, url: "http://127.0.0.1:9/", interval: 60s}
"#;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_772_000_000 + s).unwrap() // 2026-02-25 01:13:20 EST
}

fn update(id: &str, status: IncidentStatus, body: &str) -> NewUpdate {
    NewUpdate {
        id: id.into(),
        status,
        body: body.into(),
        author: "dana".into(),
        notify: true,
        components: AffectedComponents::new(),
        impact: None,
        display_at: None,
    }
}

fn failed(s: i64) -> CheckResult {
    CheckResult {
        monitor: MonitorId::parse("forms-http").unwrap(),
        region: "local".into(),
        at: at(s),
        ok: false,
        degraded: false,
        inconclusive: false,
        duration_ms: 12,
        phases: Default::default(),
        status: Some(503),
        ip: None,
        error: None,
        conditions: vec![],
        values: Default::default(),
    }
}

fn transition(from: MonitorState, to: MonitorState, s: i64) -> Transition {
    Transition {
        monitor: MonitorId::parse("forms-http").unwrap(),
        from,
        to,
        at: at(s),
        flapping: false,
        counts_downtime: false,
        reason: None,
        results: vec![],
    }
}

fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden").join(name);
    if std::env::var_os("BELFRY_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing golden file {}", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file (BELFRY_BLESS=1 rewrites it)");
}

#[tokio::test]
async fn the_postmortem_export_matches_its_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", CONFIG);
    let url = format!("sqlite://{}", dir.path().join("data/belfry.db").display());
    let storage = belfry::app::open_store(&url, 2).await.unwrap();

    // Recorded facts: down from +60 s to +3,900 s (64 min), with three failed checks.
    let batch = Batch {
        results: vec![failed(60), failed(120), failed(180)],
        transitions: vec![
            transition(MonitorState::Up, MonitorState::Down, 60),
            transition(MonitorState::Down, MonitorState::Up, 3900),
        ],
        states: vec![],
    };
    storage.write(&batch).await.unwrap();

    let mut first = update("u1", IncidentStatus::Investigating, "Patient forms are failing to load.");
    first.components.insert(MonitorId::parse("forms").unwrap(), ComponentStatus::MajorOutage);
    let (mut incident, mut timeline) = Incident::open(
        "pm-golden".into(),
        "Patient forms not loading".into(),
        Impact::Critical,
        first,
        Some(AutoSource { monitor: MonitorId::parse("forms-http").unwrap() }),
        true,
        at(60),
    )
    .unwrap();
    timeline.extend(
        incident
            .post_update(update("u2", IncidentStatus::Identified, "A migration dropped an index."), at(900))
            .unwrap(),
    );
    timeline.extend(
        incident.post_update(update("u3", IncidentStatus::Resolved, "The index is back."), at(4020)).unwrap(),
    );
    let mut pm = Postmortem::prefilled(&incident, &timeline);
    pm.summary = "A schema migration dropped an index; form lookups timed out.".into();
    pm.impact = "Patients could not open intake forms for about an hour.".into();
    pm.contributing_factors = vec!["The migration was not reviewed for index changes.".into()];
    pm.stabilization_steps = vec!["Recreated the index concurrently.".into()];
    // The review, after New York moved to daylight time (2026-03-08): this row is EDT while
    // the rows above are EST, each labelled with its own abbreviation.
    pm.timeline.push(PostmortemRow { at: at(12 * 86_400), text: "Postmortem review held".into() });
    pm.corrective_actions = vec![CorrectiveAction {
        description: "Check indexes in CI".into(),
        owner: "dana".into(),
        due: Some(jiff::civil::date(2026, 3, 15)),
        done: false,
    }];
    timeline.push(incident.set_postmortem(pm, true, "dana", at(86_400)).unwrap());
    storage.save_incident(&incident, 0, &timeline).await.unwrap();
    drop(storage);

    for (format, golden) in [("md", "postmortem.md"), ("json", "postmortem.json")] {
        let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
            .args(["postmortem", "pm-golden", "--format", format, "--config", &cfg, "--data", "data"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        check_golden(golden, &String::from_utf8(out.stdout).unwrap());
    }
}

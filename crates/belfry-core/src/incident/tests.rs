use jiff::Timestamp;

use super::*;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s).unwrap()
}

fn id(s: &str) -> MonitorId {
    MonitorId::parse(s).unwrap()
}

fn update(n: u32, status: IncidentStatus, body: &str) -> NewUpdate {
    NewUpdate {
        id: format!("u{n}"),
        status,
        body: body.to_owned(),
        author: "alice".to_owned(),
        notify: true,
        components: AffectedComponents::new(),
        impact: None,
        display_at: None,
    }
}

fn opened() -> (Incident, Vec<TimelineEntry>) {
    let mut first = update(1, IncidentStatus::Investigating, "Forms are slow");
    first.components.insert(id("forms"), ComponentStatus::PartialOutage);
    Incident::open("inc1".into(), "Forms slow".into(), Impact::Major, first, None, true, at(0)).unwrap()
}

#[test]
fn the_full_lifecycle_keeps_times_and_component_holds() {
    let (mut inc, timeline) = opened();
    assert_eq!(inc.status, IncidentStatus::Investigating);
    assert_eq!(inc.holds().collect::<Vec<_>>(), vec![(&id("forms"), ComponentStatus::PartialOutage)]);
    let kinds: Vec<_> = timeline.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [TimelineKind::Opened, TimelineKind::ComponentChanged, TimelineKind::Update]);

    inc.post_update(update(2, IncidentStatus::Identified, "Found it"), at(60)).unwrap();
    let mut monitoring = update(3, IncidentStatus::Monitoring, "Fix deployed");
    monitoring.components.insert(id("forms"), ComponentStatus::Operational);
    inc.post_update(monitoring, at(120)).unwrap();
    assert_eq!(inc.monitoring_at, Some(at(120)));
    let entries = inc.post_update(update(4, IncidentStatus::Resolved, "All good"), at(180)).unwrap();
    assert_eq!(entries[0].text, "Status monitoring → resolved");
    assert_eq!(inc.resolved_at, Some(at(180)));
    assert!(!inc.is_open());
    assert_eq!(inc.holds().count(), 0, "a resolved incident holds no component");

    // Postmortem status needs the document first.
    assert_eq!(
        inc.post_update(update(5, IncidentStatus::Postmortem, "pm"), at(200)),
        Err(IncidentError::PostmortemNotReady)
    );
    inc.set_postmortem(Postmortem::default(), true, "alice", at(300)).unwrap();
    assert_eq!(inc.status, IncidentStatus::Postmortem);
    assert_eq!(inc.postmortem.as_ref().unwrap().published_at, Some(at(300)));
}

#[test]
fn reopening_clears_resolution() {
    let (mut inc, _) = opened();
    inc.post_update(update(2, IncidentStatus::Resolved, "ok"), at(60)).unwrap();
    inc.post_update(update(3, IncidentStatus::Investigating, "it is back"), at(90)).unwrap();
    assert!(inc.is_open());
    assert_eq!(inc.resolved_at, None);
}

#[test]
fn edits_keep_the_previous_text_and_backdating_moves_the_start() {
    let (mut inc, _) = opened();
    let entry = inc.edit_update("u1", Some("Forms are down".into()), Some(at(-600)), "bob", at(30)).unwrap();
    assert_eq!(entry.kind, TimelineKind::UpdateEdited);
    assert_eq!(entry.author.as_deref(), Some("bob"));
    let u = &inc.updates[0];
    assert_eq!(u.body, "Forms are down");
    assert_eq!(u.edits[0].previous_body, "Forms are slow");
    assert_eq!(inc.started_at, at(-600));
    assert!(matches!(
        inc.edit_update("nope", None, None, "bob", at(31)),
        Err(IncidentError::NoSuchUpdate(_))
    ));
}

#[test]
fn markdown_export_uses_one_zone_with_its_abbreviation() {
    let (mut inc, timeline) = opened();
    inc.post_update(update(2, IncidentStatus::Resolved, "Fixed"), at(4020)).unwrap();
    let mut pm = Postmortem::prefilled(&inc, &timeline);
    pm.summary = "Forms were slow | then fast".into();
    pm.corrective_actions.push(CorrectiveAction {
        description: "Add an index".into(),
        owner: "bob".into(),
        due: Some(jiff::civil::date(2027, 1, 15)),
        done: false,
    });
    let facts = PostmortemFacts {
        started_at: inc.started_at,
        resolved_at: inc.resolved_at,
        duration_s: 4020,
        monitored_downtime_s: 4020,
        affected_components: vec![("forms".into(), "Patient forms".into())],
        checks_failed: 12,
        regions: vec!["local".into()],
    };
    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let md = render_markdown(&inc, &pm, &facts, &tz);
    assert!(md.contains("- Duration: 1 h 7 min"), "{md}");
    assert!(md.contains("Down according to monitoring: 1 h 7 min"), "{md}");
    assert!(md.contains("## Timeline (America/New_York, EST)"), "{md}");
    assert!(md.contains("| Add an index | bob | 2027-01-15 | no |"), "{md}");
    assert!(md.contains("Forms were slow | then fast"), "summary is prose, not a table cell");
}

#[test]
fn started_at_follows_the_earliest_display_time_of_any_update() {
    let first = update(1, IncidentStatus::Investigating, "update 1");
    let (mut inc, _) =
        Incident::open("inc1".into(), "Forms slow".into(), Impact::Minor, first, None, true, at(0)).unwrap();
    inc.post_update(update(2, IncidentStatus::Identified, "update 2"), at(60)).unwrap();
    assert_eq!((inc.started_at, inc.created_at), (at(0), at(0)));

    // A later update back-dated before the first one: the problem started then.
    inc.edit_update("u2", None, Some(at(-300)), "bob", at(90)).unwrap();
    assert_eq!(inc.started_at, at(-300));
    assert_eq!(inc.created_at, at(0), "created_at stays the machine time");

    // Moving it forward again: the earliest is the first update once more.
    inc.edit_update("u2", None, Some(at(60)), "bob", at(100)).unwrap();
    assert_eq!(inc.started_at, at(0));

    // Posting a back-dated update moves it too.
    let mut late = update(3, IncidentStatus::Monitoring, "update 3");
    late.display_at = Some(at(-120));
    inc.post_update(late, at(120)).unwrap();
    assert_eq!(inc.started_at, at(-120));
}

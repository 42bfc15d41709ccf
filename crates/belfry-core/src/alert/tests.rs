use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::monitor::MonitorId;

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s).unwrap()
}

fn ladder(repeat: u32, renotify: Option<Renotify>) -> Escalation {
    Escalation {
        id: "default".into(),
        repeat,
        steps: vec![
            EscalationStep { after: mins(0), notify: vec!["ops-hook".into(), "ops-mail".into()] },
            EscalationStep { after: mins(10), notify: vec!["backup-ntfy".into()] },
        ],
        round: None,
        renotify,
    }
}

fn event(kind: EventKind) -> Event {
    Event {
        kind,
        at: at(0),
        monitor: Some(MonitorId::parse("api-http").unwrap()),
        component: Some(MonitorId::parse("api").unwrap()),
        incident: None,
        title: "Internal API is down".into(),
        reason: Some("[STATUS] (503) == 200".into()),
        failing_conditions: vec!["[STATUS] (503) == 200".into()],
        tags: vec!["db".into(), "team:payments".into()],
    }
}

fn offsets(e: &Escalation, n: u32) -> Vec<u64> {
    (0..n).filter_map(|i| e.nth(i)).map(|d| d.offset.as_secs() / 60).collect()
}

#[test]
fn the_ladder_repeats_with_a_round_of_last_after_plus_last_gap() {
    let e = ladder(2, None);
    assert_eq!(e.round_length(), mins(20));
    assert_eq!(offsets(&e, 10), [0, 10, 20, 30]);
    assert_eq!(e.nth(1).unwrap().channels, ["backup-ntfy"]);
}

#[test]
fn renotify_backs_off() {
    let r = |backoff| Some(Renotify { every: mins(5), backoff, max: mins(60) });
    assert_eq!(offsets(&ladder(1, r(Backoff::None)), 6), [0, 10, 15, 20, 25, 30]);
    assert_eq!(offsets(&ladder(1, r(Backoff::Linear)), 6), [0, 10, 15, 25, 40, 60]);
    assert_eq!(offsets(&ladder(1, r(Backoff::Exponential)), 7), [0, 10, 15, 25, 45, 85, 145]);
}

#[test]
fn an_alert_fires_due_steps_and_stops_on_acknowledgement() {
    let e = ladder(2, None);
    let mut alert = Alert::open("a1".into(), &e, event(EventKind::Down), at(0));
    assert_eq!(alert.next_at, Some(at(0)));
    let first = alert.take_due(&e, at(0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].channels, ["ops-hook", "ops-mail"]);
    assert_eq!(alert.next_at, Some(at(600)));
    assert!(alert.take_due(&e, at(599)).is_empty());
    // A late dispatcher catches up with everything due, in order.
    let late = alert.take_due(&e, at(1200));
    assert_eq!(late.iter().map(|d| (d.round, d.step)).collect::<Vec<_>>(), [(0, 1), (1, 0)]);
    assert!(alert.acknowledge("alice", at(1300)));
    assert!(alert.take_due(&e, at(99_999)).is_empty());
    assert_eq!(alert.next_at, None);
    assert!(!alert.acknowledge("bob", at(1400)), "acknowledged once");
}

#[test]
fn an_acknowledged_alert_still_resolves_once_and_keeps_who_acknowledged() {
    let e = ladder(2, None);
    let mut alert = Alert::open("a1".into(), &e, event(EventKind::Down), at(0));
    assert_eq!(alert.take_due(&e, at(600)).len(), 2);
    assert!(alert.acknowledge("alice", at(700)));
    assert!(!alert.is_active(), "acknowledged: no longer paging");
    assert!(alert.resolve(at(900)), "an acknowledged alert resolves");
    assert_eq!(alert.resolved_at, Some(at(900)));
    assert_eq!((alert.acknowledged_by.as_deref(), alert.acknowledged_at), (Some("alice"), Some(at(700))));
    assert_eq!((alert.fired, alert.next_at), (2, None), "what was paged is kept; nothing more due");
    assert!(!alert.resolve(at(1000)), "resolved once");
    assert_eq!(alert.resolved_at, Some(at(900)));
    assert!(!alert.acknowledge("bob", at(1000)), "a resolved alert is not acknowledged");
    assert!(alert.take_due(&e, at(99_999)).is_empty());
}

#[test]
fn the_schedule_ends_without_renotify_and_notices_go_once() {
    let e = ladder(1, None);
    let mut alert = Alert::open("a1".into(), &e, event(EventKind::Down), at(0));
    assert_eq!(alert.take_due(&e, at(100_000)).len(), 2);
    assert_eq!(alert.next_at, None);
    let mut notice = Alert::open("a2".into(), &e, event(EventKind::Up), at(0));
    assert_eq!(notice.take_due(&e, at(100_000)).len(), 1);
    assert_eq!(notice.next_at, None);
    // Sent, it is done: no longer among the active alerts.
    assert!(!notice.is_active());
    assert_eq!(notice.resolved_at, Some(at(100_000)));
    // A notice not yet due stays active until it goes out.
    let mut delayed = ladder(1, None);
    delayed.steps[0].after = mins(1);
    let mut later = Alert::open("a3".into(), &delayed, event(EventKind::Up), at(0));
    assert!(later.take_due(&delayed, at(0)).is_empty());
    assert!(later.is_active());
}

#[test]
fn a_notice_sent_before_notices_resolved_is_spent() {
    let e = ladder(1, None);
    // As stored before: sent once, nothing more due, still active.
    let mut legacy = Alert::open("a1".into(), &e, event(EventKind::Up), at(0));
    legacy.fired = 1;
    legacy.next_at = None;
    assert!(legacy.is_spent_notice());
    assert!(legacy.resolve(at(5)));
    assert!(!legacy.is_spent_notice(), "resolved");

    let waiting = Alert::open("a2".into(), &e, event(EventKind::Up), at(0));
    assert!(!waiting.is_spent_notice(), "not sent yet");
    let mut problem = Alert::open("a3".into(), &e, event(EventKind::Down), at(0));
    problem.take_due(&e, at(100_000));
    assert_eq!((problem.next_at, problem.is_active()), (None, true), "its schedule ended");
    assert!(!problem.is_spent_notice(), "a problem stays until acknowledged or resolved");
    let mut acknowledged = legacy.clone();
    acknowledged.resolved_at = None;
    acknowledged.acknowledge("alice", at(6));
    assert!(!acknowledged.is_spent_notice());
}

#[test]
fn a_notice_that_will_send_nothing_more_is_finished() {
    let mut delayed = ladder(1, None);
    delayed.steps[0].after = mins(5);
    let mut waiting = Alert::open("a1".into(), &delayed, event(EventKind::Up), at(0));
    assert!(waiting.take_due(&delayed, at(0)).is_empty());
    assert!(!waiting.is_finished_notice(), "its step is still to go out");
    assert!(waiting.acknowledge("alice", at(60)));
    assert!(waiting.is_finished_notice(), "acknowledged before its step: never sent");
    assert!(waiting.take_due(&delayed, at(600)).is_empty());
    assert!(waiting.resolve(at(61)));
    assert!(!waiting.is_finished_notice(), "resolved");

    let mut spent = Alert::open("a2".into(), &delayed, event(EventKind::Up), at(0));
    (spent.fired, spent.next_at) = (1, None);
    assert!(spent.is_finished_notice(), "sent, stored active before notices resolved once sent");
    let mut problem = Alert::open("a3".into(), &delayed, event(EventKind::Down), at(0));
    assert!(problem.acknowledge("alice", at(60)));
    assert!(!problem.is_finished_notice(), "a problem waits for its recovery");
}

#[test]
fn rules_match_kinds_monitors_and_components() {
    let rule = |monitors: &[&str], events: &[EventKind]| AlertRule {
        monitors: monitors.iter().map(|m| m.to_string()).collect(),
        components: vec![],
        events: events.to_vec(),
        tags: vec![],
        escalation: "default".into(),
    };
    let down = event(EventKind::Down);
    assert!(rule(&["*"], &[EventKind::Down, EventKind::Up]).matches(&down));
    assert!(rule(&["api-*"], &[]).matches(&down));
    assert!(!rule(&["db-*"], &[]).matches(&down));
    assert!(!rule(&["*"], &[EventKind::Up]).matches(&down));
    assert!(!rule(&[], &[]).matches(&event(EventKind::CertificateExpiring)), "default kinds are down and up");
    assert_eq!(EventKind::matching("incident_*").len(), 3);
    assert!(wildcard("a*b*c", "axxbyyc") && !wildcard("a*b*c", "axxc") && wildcard("*", ""));
}

#[test]
fn rules_with_tags_match_events_carrying_one_of_them() {
    let rule = |tags: &[&str]| AlertRule {
        monitors: vec![],
        components: vec![],
        events: vec![],
        tags: tags.iter().map(|t| t.to_string()).collect(),
        escalation: "default".into(),
    };
    let down = event(EventKind::Down); // tagged db and team:payments
    assert!(rule(&[]).matches(&down), "no tags: any event");
    assert!(rule(&["db"]).matches(&down));
    assert!(rule(&["cache", "team:payments"]).matches(&down), "one of the rule's tags is enough");
    assert!(!rule(&["cache"]).matches(&down));
    assert!(!rule(&["d"]).matches(&down), "tags are whole words, not patterns");
    let untagged = Event { tags: vec![], ..event(EventKind::Down) };
    assert!(rule(&[]).matches(&untagged));
    assert!(!rule(&["db"]).matches(&untagged), "an untagged monitor never matches a tag rule");
    // An incident carries the tags of the monitors it is about; one about none carries none.
    let incident = |tags: Vec<String>| Event {
        kind: EventKind::IncidentCreated,
        monitor: None,
        component: None,
        incident: Some("inc1".into()),
        tags,
        ..event(EventKind::IncidentCreated)
    };
    let tagged_rule = AlertRule { events: vec![EventKind::IncidentCreated], ..rule(&["db"]) };
    assert!(tagged_rule.matches(&incident(vec!["db".into()])));
    assert!(!tagged_rule.matches(&incident(vec![])));
    // Tags narrow the other filters; they do not widen them.
    let other_monitor = AlertRule { monitors: vec!["web-*".into()], ..rule(&["db"]) };
    assert!(!other_monitor.matches(&down));
}

#[test]
fn tag_syntax() {
    use crate::monitor::check_tag;
    for ok in ["db", "team:payments", "eu-west_1", "2024", &"x".repeat(64)] {
        assert_eq!(check_tag(ok), Ok(()), "{ok}");
    }
    for bad in ["", "DB", "a b", "a.b", "ü", &"x".repeat(65)] {
        assert!(check_tag(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn events_stored_before_tags_existed_still_load() {
    let mut json = serde_json::to_value(event(EventKind::Down)).unwrap();
    json.as_object_mut().unwrap().remove("tags");
    let back: Event = serde_json::from_value(json).unwrap();
    assert!(back.tags.is_empty());
    let untagged = serde_json::to_value(Event { tags: vec![], ..event(EventKind::Down) }).unwrap();
    assert!(untagged.get("tags").is_none(), "an untagged event's document is unchanged");
}

use belfry_core::maintenance::Maintenance;
use belfry_core::{Clock, MonitorId};
use jiff::Timestamp;

use super::render;
use crate::fakes::*;

fn at(raw: &str) -> Timestamp {
    raw.parse().unwrap()
}

fn window(id: &str, rrule: Option<&str>, zone: &str) -> Maintenance {
    Maintenance {
        id: id.to_owned(),
        name: "DB upgrade; part 1, the big one".to_owned(),
        description: "Line one\nLine two with a backslash \\ and ünïcödé ".repeat(3),
        components: vec![MonitorId::parse("db").unwrap()],
        starts_at: at("2024-03-03T07:00:00Z"),
        ends_at: at("2024-03-03T08:00:00Z"),
        rrule: rrule.map(str::to_owned),
        time_zone: zone.to_owned(),
        count_downtime: false,
        manual: None,
        created_at: at("2024-02-01T00:00:00Z"),
        updated_at: at("2024-02-02T00:00:00Z"),
        version: 1,
    }
}

/// Content lines with folding undone.
fn unfold(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[test]
fn lines_end_in_crlf_and_are_folded_at_75_octets() {
    let ics = render(&catalog(), &[window("one", None, "UTC")], now());
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    let lines = unfold(&ics);
    assert!(lines.contains(&"SUMMARY:DB upgrade\\; part 1\\, the big one".to_owned()), "{lines:#?}");
    let description = lines.iter().find(|l| l.starts_with("DESCRIPTION:")).unwrap();
    assert!(
        description.starts_with("DESCRIPTION:Line one\\nLine two with a backslash \\\\ and ünïcödé"),
        "{description}"
    );
    assert!(description.ends_with("\\n\\nAffected: Database"), "{description}");
}

#[test]
fn a_one_off_window_is_in_utc() {
    let lines = unfold(&render(&catalog(), &[window("one", None, "America/New_York")], now()));
    for expected in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        "UID:one@status.acme.test",
        "DTSTAMP:20240601T120000Z",
        "DTSTART:20240303T070000Z",
        "DTEND:20240303T080000Z",
        "END:VEVENT",
    ] {
        assert!(lines.iter().any(|l| l == expected), "{expected} missing: {lines:#?}");
    }
    assert!(!lines.iter().any(|l| l.starts_with("RRULE") || l.starts_with("BEGIN:VTIMEZONE")));
}

#[test]
fn a_recurring_window_repeats_in_its_zone_with_a_vtimezone() {
    let lines = unfold(&render(
        &catalog(),
        &[window("weekly", Some("FREQ=WEEKLY;BYDAY=SU;COUNT=8"), "America/New_York")],
        now(),
    ));
    for expected in [
        "BEGIN:VTIMEZONE",
        "TZID:America/New_York",
        "BEGIN:DAYLIGHT",
        "DTSTART:20240310T020000",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400",
        "TZNAME:EDT",
        "BEGIN:STANDARD",
        "DTSTART:20241103T020000",
        "DTSTART;TZID=America/New_York:20240303T020000",
        "DTEND;TZID=America/New_York:20240303T030000",
        "RRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=8",
    ] {
        assert!(lines.iter().any(|l| l == expected), "{expected} missing: {lines:#?}");
    }
    // The zone comes before the events that use it.
    let zone = lines.iter().position(|l| l == "BEGIN:VTIMEZONE").unwrap();
    let event = lines.iter().position(|l| l == "BEGIN:VEVENT").unwrap();
    assert!(zone < event);
    // In UTC a recurring window needs no zone.
    let utc = unfold(&render(&catalog(), &[window("daily", Some("FREQ=DAILY"), "UTC")], now()));
    assert!(utc.iter().any(|l| l == "DTSTART:20240303T070000Z"), "{utc:#?}");
    assert!(!utc.iter().any(|l| l == "BEGIN:VTIMEZONE"));
}

#[tokio::test]
async fn the_calendar_is_served_publicly_as_text_calendar() {
    let world = World::with_fixtures();
    let reply = world.get("/maintenance.ics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header(axum::http::header::CONTENT_TYPE), Some("text/calendar; charset=utf-8"));
    let text = reply.text();
    assert!(text.contains(&format!("UID:{FIXTURE_MAINTENANCE}@status.acme.test\r\n")), "{text}");
    assert!(text.contains("DTSTART:20240602T020000Z\r\n"), "{text}");
    assert_eq!(world.clock.now(), now());
}

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{parse_local, when};

fn new_york() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

#[test]
fn typed_times_are_read_in_the_page_zone_and_the_abbreviation_picks_a_repeated_hour() {
    let tz = new_york();
    let read = |text: &str| parse_local(text, &tz).map(|t| t.to_string());
    assert_eq!(read("2024-06-01 07:30:00 EDT").unwrap(), "2024-06-01T11:30:00Z");
    assert_eq!(read("2024-06-01 07:30").unwrap(), "2024-06-01T11:30:00Z");
    assert_eq!(read("2024-06-01T11:30:00Z").unwrap(), "2024-06-01T11:30:00Z");
    assert_eq!(read("2024-06-01T07:30:00-04:00").unwrap(), "2024-06-01T11:30:00Z");
    // 01:30 happens twice on 2024-11-03.
    assert_eq!(read("2024-11-03 01:30:00 EDT").unwrap(), "2024-11-03T05:30:00Z");
    assert_eq!(read("2024-11-03 01:30:00 est").unwrap(), "2024-11-03T06:30:00Z");
    assert!(read("2024-11-03 01:30:00").unwrap_err().contains("add EDT or EST"));
    // 02:30 never happens on 2024-03-10.
    assert!(read("2024-03-10 02:30:00").unwrap_err().contains("does not exist"));
    assert!(read("2024-03-10 02:30:00 EST").unwrap_err().contains("does not exist"));
    assert!(read("2024-06-01 07:30:00 EST").unwrap_err().contains("on EDT"));
    assert!(read("yesterday").unwrap_err().contains("is not a time"));
    assert!(read("").unwrap_err().contains("a time is needed"));
}

#[test]
fn what_when_shows_reads_back_as_the_same_instant_on_both_sides_of_a_clock_change() {
    let tz = new_york();
    for at in ["2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-03-10T07:30:00Z", "2024-06-01T11:30:00Z"]
    {
        let at: Timestamp = at.parse().unwrap();
        let shown = when(&tz, at);
        assert_eq!(parse_local(&shown, &tz), Ok(at), "{shown}");
    }
    assert_eq!(when(&tz, "2024-11-03T05:30:00Z".parse().unwrap()), "2024-11-03 01:30:00 EDT");
    assert_eq!(when(&tz, "2024-11-03T06:30:00Z".parse().unwrap()), "2024-11-03 01:30:00 EST");
}

#[test]
fn surrounding_whitespace_is_ignored_and_no_abbreviation_is_none() {
    let tz = new_york();
    let read = |text: &str| parse_local(text, &tz).map(|t| t.to_string());
    assert_eq!(read("  2024-06-01 07:30:00 EDT\n").unwrap(), "2024-06-01T11:30:00Z");
    assert_eq!(
        read("2024-06-01 07:30 ").unwrap(),
        "2024-06-01T11:30:00Z",
        "a trailing space is no abbreviation"
    );
    assert_eq!(read("\t2024-06-01T11:30:00Z ").unwrap(), "2024-06-01T11:30:00Z");
    assert!(read("2024-11-03 01:30:00 ").unwrap_err().contains("add EDT or EST"));
    assert!(read("   ").unwrap_err().contains("a time is needed"));
}

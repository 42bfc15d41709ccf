//! Times as people read them in alerts: the page's zone with its abbreviation, plus UTC.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// `2024-06-01 07:00:00 EDT (11:00:00 UTC)`; the UTC part carries its date when that differs;
/// just `… UTC` when the zone is UTC. An unknown zone name falls back to UTC.
pub fn format_instant(at: Timestamp, time_zone: &str) -> String {
    let at = Timestamp::from_second(at.as_second()).unwrap_or(at);
    let tz = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    let local = at.to_zoned(tz);
    let utc = at.to_zoned(TimeZone::UTC);
    let local_text = local.strftime("%Y-%m-%d %H:%M:%S %Z").to_string();
    if local.offset().seconds() == 0 && local_text.ends_with("UTC") {
        return local_text;
    }
    let utc_text = if local.date() == utc.date() {
        utc.strftime("%H:%M:%S UTC").to_string()
    } else {
        utc.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
    };
    format!("{local_text} ({utc_text})")
}

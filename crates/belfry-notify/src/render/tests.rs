use belfry_core::MonitorId;
use belfry_core::channel::{Message, MessageEvent, MessageSubject, Severity};

use super::escape::{escape_markdown, escape_slack, header_value, truncate};
use super::*;

fn down() -> Message {
    Message {
        idempotency_key: "delivery-1".into(),
        event: MessageEvent::Down,
        severity: Severity::Critical,
        title: "Internal API".into(),
        summary: "3 of 3 checks failed within 5m.".into(),
        monitor: Some(MessageSubject {
            id: MonitorId::parse("api-http").unwrap(),
            name: "Internal API".into(),
        }),
        component: Some(MessageSubject { id: MonitorId::parse("api").unwrap(), name: "API".into() }),
        failing_conditions: vec!["[STATUS] (503) == 200".into(), "[BODY].status (<b>) == ok".into()],
        since: Some("2024-06-01T11:00:00Z".parse().unwrap()),
        incident_url: Some("https://status.acme.test/incidents/in-1".into()),
        ack_url: Some("https://status.acme.test/ack/abc?sig=1&exp=2".into()),
        unsubscribe_url: None,
        dedup_key: "alert-7".into(),
        page_time_zone: "America/New_York".into(),
    }
}

#[test]
fn escape_html_escapes_the_five_specials() {
    assert_eq!(escape_html(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    assert_eq!(escape_html("plain ünïcode"), "plain ünïcode");
}

#[test]
fn only_absolute_http_urls_become_links() {
    assert_eq!(http_url(Some("https://s.test/a")), Some("https://s.test/a"));
    assert_eq!(http_url(Some("javascript:alert(1)")), None);
    assert_eq!(http_url(Some("/relative")), None);
    assert_eq!(http_url(Some("https://s.test/a b")), None);
    assert_eq!(http_url(Some("https://")), None);
    assert_eq!(http_url(None), None);
}

#[test]
fn times_show_the_page_zone_with_abbreviation_and_utc() {
    let at = "2024-06-01T11:00:00Z".parse().unwrap();
    assert_eq!(format_instant(at, "America/New_York"), "2024-06-01 07:00:00 EDT (11:00:00 UTC)");
    assert_eq!(format_instant(at, "UTC"), "2024-06-01 11:00:00 UTC");
    assert_eq!(format_instant(at, "Not/AZone"), "2024-06-01 11:00:00 UTC");
    let late = "2024-06-01T20:30:00Z".parse().unwrap();
    assert_eq!(format_instant(late, "Asia/Tokyo"), "2024-06-02 05:30:00 JST (2024-06-01 20:30:00 UTC)");
    let winter = "2024-01-15T12:00:00Z".parse().unwrap();
    assert_eq!(format_instant(winter, "Europe/London"), "2024-01-15 12:00:00 GMT (12:00:00 UTC)");
}

#[test]
fn down_text_says_what_since_when_why_and_where_to_act() {
    let r = render(&down());
    assert_eq!(r.title, "Down: Internal API");
    assert_eq!(r.headline, "Internal API is down.");
    assert_eq!(
        r.text,
        "Internal API is down.\n\
         3 of 3 checks failed within 5m.\n\
         \n\
         Monitor: Internal API (api-http)\n\
         Component: API (api)\n\
         Down since: 2024-06-01 07:00:00 EDT (11:00:00 UTC)\n\
         \n\
         Failing conditions:\n\
         - [STATUS] (503) == 200\n\
         - [BODY].status (<b>) == ok\n\
         \n\
         Incident: https://status.acme.test/incidents/in-1\n\
         Acknowledge: https://status.acme.test/ack/abc?sig=1&exp=2\n"
    );
    assert_eq!(r.color, "#d1242f");
}

#[test]
fn html_escapes_every_input() {
    let mut m = down();
    m.title = "<script>alert(1)</script>".into();
    m.summary = "a & b\n\"quoted\"".into();
    m.monitor.as_mut().unwrap().name = "<img src=x>".into();
    let html = render(&m).html;
    assert!(!html.contains("<script>") && !html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a &amp; b<br>&quot;quoted&quot;"));
    assert!(html.contains("<code>[BODY].status (&lt;b&gt;) == ok</code>"));
    assert!(html.contains(
        r#"<a href="https://status.acme.test/ack/abc?sig=1&amp;exp=2"><strong>Acknowledge</strong></a>"#
    ));
    assert!(html.contains(r#"<a href="https://status.acme.test/incidents/in-1">View incident</a>"#));
    assert!(html.contains("2024-06-01 07:00:00 EDT (11:00:00 UTC)"));

    m.ack_url = Some("javascript:steal()".into());
    let r = render(&m);
    assert!(!r.html.contains("javascript:") && !r.text.contains("javascript:") && r.ack_url.is_none());
}

#[test]
fn every_event_kind_has_its_own_wording() {
    let mut seen = std::collections::HashSet::new();
    for event in MessageEvent::ALL {
        let mut m = down();
        m.event = event;
        let r = render(&m);
        assert!(!r.headline.is_empty() && r.title.ends_with(": Internal API"), "{event:?}: {r:?}");
        assert!(seen.insert(r.title.clone()), "{event:?} repeats {}", r.title);
    }
    let mut up = down();
    up.event = MessageEvent::Up;
    up.severity = Severity::Resolved;
    let r = render(&up);
    assert_eq!(
        (r.title.as_str(), r.headline.as_str()),
        ("Recovered: Internal API", "Internal API is back up.")
    );
    assert_eq!(r.facts[2].label, "Was down since");
}

#[test]
fn a_bare_message_renders_without_empty_sections() {
    let m = Message {
        monitor: None,
        component: None,
        failing_conditions: vec![],
        since: None,
        incident_url: None,
        ack_url: None,
        unsubscribe_url: None,
        summary: String::new(),
        event: MessageEvent::IncidentCreated,
        title: "Login failures".into(),
        ..down()
    };
    let r = render(&m);
    assert_eq!(r.text, "New incident: Login failures.\n");
    assert!(r.facts.is_empty());
    assert!(!r.html.contains("<table") && !r.html.contains("<ul>"));
}

#[test]
fn format_helpers() {
    assert_eq!(header_value("Down: API"), "Down: API");
    assert_eq!(header_value("Ausfall: Zähler"), "=?UTF-8?Q?Ausfall=3A_Z=C3=A4hler?=");
    assert_eq!(header_value("a\r\nb"), "a  b");
    assert_eq!(escape_slack("<@U1> & <!here>"), "&lt;@U1&gt; &amp; &lt;!here&gt;");
    assert_eq!(escape_markdown("**x** [a](b) (c-d)"), r"\*\*x\*\* \[a\](b) (c-d)");
    assert_eq!(escape_markdown("# h\n - li\n> q"), "\\# h\n \\- li\n\\> q");
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(truncate("abc", 4), "abc");
}

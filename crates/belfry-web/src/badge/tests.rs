use belfry_core::MonitorState;
use belfry_core::store::Resolution;

use crate::fakes::*;

fn assert_svg(svg: &str) {
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert!(svg.ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
    assert_eq!(svg.matches("<g").count(), svg.matches("</g>").count());
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}

#[tokio::test]
async fn the_status_badge_names_the_status() {
    let world = World::new();
    let reply = world.get("/badge/api.svg").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header(axum::http::header::CONTENT_TYPE), Some("image/svg+xml"));
    let svg = reply.text();
    assert_svg(&svg);
    assert!(svg.contains("aria-label=\"Internal API: Operational\""), "{svg}");
    world.runtime.set_state("api-http", MonitorState::Down, minutes_ago(5));
    let svg = world.get("/badge/api.svg").await.text();
    assert!(svg.contains("Major Outage") && svg.contains("#c62828"), "{svg}");
}

#[tokio::test]
async fn the_uptime_badge_covers_the_asked_days() {
    let world = World::new();
    world.rollup("api-http", Resolution::Day, "2024-05-31T00:00:00Z", 2880, 864, 100.0);
    let svg = world.get("/badge/api/uptime.svg?days=2").await.text();
    assert_svg(&svg);
    // 864 s down over one full day plus half of today.
    assert!(svg.contains("uptime 2d: 99.33 %"), "{svg}");
    let default = world.get("/badge/api/uptime.svg").await.text();
    assert!(default.contains("uptime 30d"), "{default}");
    let none = world.get("/badge/docs/uptime.svg?days=7").await.text();
    assert!(none.contains("no data"), "{none}");
    for bad in ["0", "91", "abc", "-1"] {
        let reply = world.get(&format!("/badge/api/uptime.svg?days={bad}")).await;
        assert_eq!(reply.status, 400, "days={bad}");
        assert_eq!(reply.error_code(), "invalid_query");
    }
    assert_eq!(world.get("/badge/nope/uptime.svg").await.status, 404);
}

#[test]
fn badge_text_is_escaped() {
    let svg = String::from_utf8(super::render("<a&b>", "\"x\"", "#fff")).unwrap();
    assert_svg(&svg);
    assert!(svg.contains("&lt;a&amp;b&gt;") && svg.contains("&quot;x&quot;"));
    assert!(!svg.contains("<a&b>"));
}

use axum::http::Method;
use belfry_core::MonitorState;
use belfry_core::auth::Scope;
use belfry_core::store::{DownPeriod, Resolution};
use serde_json::json;

use crate::fakes::*;

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The bars' day cells as the page script draws them: `(class, title)` per day, a run of
/// identical healthy days (`data-day`, `data-days`) expanded into its days.
fn days(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rect in html.split("<rect class=\"day ").skip(1) {
        let class = rect.split('"').next().unwrap().to_owned();
        let open = &rect[..rect.find('>').unwrap()];
        let title = rect.split("<title>").nth(1).unwrap().split("</title>").next().unwrap();
        let attr =
            |name: &str| open.split(&format!(" {name}=\"")).nth(1).map(|v| v.split('"').next().unwrap());
        match (attr("data-day"), attr("data-days")) {
            (Some(first), Some(n)) => {
                let first: jiff::civil::Date = first.parse().unwrap();
                let detail = &title[title.find(": ").unwrap()..];
                for i in 0..n.parse::<i64>().unwrap() {
                    let day = first.checked_add(jiff::Span::new().days(i)).unwrap();
                    out.push((class.clone(), format!("{}{detail}", day.strftime("%b %-d"))));
                }
            }
            _ => out.push((class, title.to_owned())),
        }
    }
    out
}

fn has_day(html: &str, title: &str) -> bool {
    days(html).iter().any(|(_, t)| t == title)
}

#[tokio::test]
async fn the_page_has_the_banner_groups_and_a_90_day_bar_per_component() {
    let world = World::new();
    let reply = world.get("/").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header(axum::http::header::CONTENT_TYPE), Some("text/html; charset=utf-8"));
    let html = reply.text();
    assert!(html.contains("<h1 class=\"banner-text\">All Systems Operational</h1>"), "{html}");
    assert!(html.contains("<title>Acme Status</title>"));
    assert!(html.contains(r#"<details class="group" id="group-platform" open>"#), "{html}");
    for component in ["api", "db", "web", "docs"] {
        assert!(html.contains(&format!(r#"data-component="{component}""#)), "{component}");
    }
    assert_eq!(count(&html, "<svg class=\"bar\""), 4);
    let cells = days(&html);
    assert_eq!(cells.len(), 4 * 90);
    // Runs of identical healthy days are one cell each in the HTML, titled with their range.
    assert!(count(&html, "<rect class=\"day ") < 4 * 10, "{html}");
    assert!(html.contains("><title>Mar 4 – May 31: no data</title>"), "{html}");
    // Components without monitors have no data at all: grey.
    assert!(html.contains("Docs: no data over 90 days"), "{html}");
    // The page works without JavaScript: everything above is in the HTML; the script is inline.
    assert!(html.contains("data-live=\"1\""));
    assert!(!html.contains("src=\"http"), "no CDN");
}

#[tokio::test]
async fn bars_come_from_day_rollups_and_today_from_recorded_down_periods() {
    let world = World::new();
    world.rollup("api-http", Resolution::Day, "2024-05-30T00:00:00Z", 2880, 720, 120.0);
    world.rollup("api-http", Resolution::Day, "2024-05-31T00:00:00Z", 2880, 0, 110.0);
    world.store.down.lock().unwrap().insert(
        id("web-http"),
        vec![DownPeriod {
            start: "2024-06-01T11:00:00Z".parse().unwrap(),
            end: Some("2024-06-01T11:12:00Z".parse().unwrap()),
        }],
    );
    let html = world.get("/").await.text();
    assert!(html.contains("<title>May 30: 12 min down, 99.17 %</title>"), "{html}");
    assert!(html.contains(r#"<rect class="day minor""#));
    assert!(has_day(&html, "May 31: 0 min down, 100 %"));
    assert!(has_day(&html, "May 29: no data"));
    assert!(
        html.contains(
            r#"data-day="2024-05-31" data-days="2"><title>May 31 – Jun 1: 0 min down, 100 %</title>"#
        ),
        "{html}"
    );
    // Every day with downtime is a cell of its own, whatever its neighbours.
    for (class, title) in days(&html) {
        assert!(title.contains(": 0 min down, 100 %") == (class == "up"), "{class}: {title}");
    }
    // Half of today has passed: 12 minutes of 12 hours.
    assert!(html.contains("<title>Jun 1: 12 min down, 98.33 %</title>"), "{html}");
}

#[tokio::test]
async fn a_live_outage_shows_on_todays_cell_before_the_store_has_it() {
    let world = World::new();
    world.runtime.set_state("api-http", MonitorState::Down, minutes_ago(30));
    let html = world.get("/").await.text();
    assert!(html.contains("<h1 class=\"banner-text\">Major System Outage</h1>"));
    assert!(html.contains("<title>Jun 1: 30 min down, 95.83 %</title>"), "{html}");
    assert!(html.contains(r#"data-status="major_outage""#));
}

#[tokio::test]
async fn active_incidents_and_maintenance_come_before_the_components() {
    let world = World::with_fixtures();
    let html = world.get("/").await.text();
    let incident = html.find("API errors").expect("the open incident");
    let maintenance = html.find("DB upgrade").expect("the upcoming window");
    let components = html.find("id=\"components\"").unwrap();
    assert!(incident < components && maintenance < components);
    assert!(html.contains("href=\"/incidents/inc0fixture0\""));
}

#[tokio::test]
async fn incident_markdown_cannot_inject_script() {
    let world = World::new();
    let body = json!({
        "name": "<script>alert('name')</script>",
        "status": "investigating",
        "impact": "minor",
        "body": "**Bold** <script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) <a href=\"javascript:alert(4)\">y</a>",
    });
    let created = world.post("/api/v1/incidents", body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    for path in [format!("/incidents/{id}"), "/".to_owned(), "/history".to_owned()] {
        let html = world.get(&path).await.text();
        let lower = html.to_ascii_lowercase();
        assert!(
            html.contains("&#60;script&#62;alert(&#39;name&#39;)&#60;/script&#62;"),
            "{path}: the name is shown as text"
        );
        assert!(html.contains("<strong>Bold</strong>"), "{path}");
        for bad in ["<script>alert", "onerror", "javascript:"] {
            let at = lower.find(bad).map(|i| &lower[i.saturating_sub(80)..(i + 40).min(lower.len())]);
            assert!(at.is_none(), "{path} contains {bad}: {at:?}");
        }
    }
    let atom = world.get("/history.atom").await.text();
    assert!(!atom.contains("<script"), "{atom}");
}

#[tokio::test]
async fn incident_times_are_in_the_page_zone_with_abbreviation_and_machine_readable() {
    let world = World::with_fixtures();
    let reply = world.get("/incidents/inc0fixture0").await;
    assert_eq!(reply.status, 200);
    let html = reply.text();
    // Opened 11:30 UTC = 07:30 in New York (EDT in June).
    assert!(
        html.contains(r#"<time datetime="2024-06-01T11:30:00Z" data-local>Jun 1, 2024 07:30 EDT</time>"#),
        "{html}"
    );
    assert!(html.contains("Times are shown in America/New_York (EDT)."));
    assert!(html.contains("<h1>API errors</h1>"));
    assert!(html.contains("Errors on the API"));
    assert!(html.contains("Internal API: Partial Outage"));
}

#[tokio::test]
async fn unknown_pages_are_html_404s() {
    let world = World::new();
    for path in ["/incidents/nope", "/components/nope", "/badge/nope.svg", "/badge/api.png"] {
        let reply = world.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.text().contains("<h1>Not found</h1>"), "{path}");
    }
}

#[tokio::test]
async fn history_lists_incidents_by_month() {
    let world = World::with_fixtures();
    let html = world.get("/history").await.text();
    assert!(html.contains("<h2>June 2024</h2>"), "{html}");
    assert!(html.contains("API errors"));
}

#[tokio::test]
async fn the_component_page_shows_each_region_and_the_response_time_chart() {
    let world = World::new();
    world.result("api-http", "eu-west", minutes_ago(1), true, 87);
    world.result("api-http", "ap-south", minutes_ago(1), false, 10_000);
    world.result("api-http", "ap-south", minutes_ago(2), true, 300);
    for hour in 0..5 {
        let start = format!("2024-06-01T{:02}:00:00Z", 6 + hour);
        world.rollup("api-http", Resolution::Hour, &start, 120, 0, 100.0 + f64::from(hour) * 10.0);
    }
    let html = world.get("/components/api").await.text();
    assert!(html.contains("<h1>Internal API</h1>"));
    assert!(
        html.contains(r#"data-region="eu-west""#) && html.contains(r#"data-region="ap-south""#),
        "{html}"
    );
    assert!(html.contains("<span class=\"fail\">Failed</span>"), "the newest ap-south result");
    assert!(html.contains("87 ms"));
    assert!(html.contains("<svg class=\"chart\""), "{html}");
    assert!(html.contains("average 120 ms, highest 140 ms"), "{html}");
    let group = world.get("/components/platform").await.text();
    assert!(group.contains("data-component=\"db\""), "a group page lists its children");
}

#[tokio::test]
async fn logo_and_description_come_from_the_config() {
    let world = World::new();
    {
        let mut catalog = (*world.runtime.catalog.lock().unwrap()).as_ref().clone();
        catalog.page.description = Some("Acme & friends".to_owned());
        catalog.page.logo_url = Some("https://acme.test/logo.png?a=1&b=2".to_owned());
        *world.runtime.catalog.lock().unwrap() = std::sync::Arc::new(catalog);
    }
    let html = world.get("/").await.text();
    assert!(html.contains(r#"<meta name="description" content="Acme &#38; friends">"#));
    assert!(html.contains(r#"<img src="https://acme.test/logo.png?a=1&#38;b=2""#));
}

#[tokio::test]
async fn a_published_postmortem_shows_the_whole_document_escaped_in_the_page_zone() {
    let world = World::with_fixtures();
    // Recorded data inside the incident (opened 11:30 UTC, resolved at 12:00 UTC).
    world.store.down.lock().unwrap().insert(
        id("api-http"),
        vec![DownPeriod {
            start: "2024-06-01T11:35:00Z".parse().unwrap(),
            end: Some("2024-06-01T11:55:00Z".parse().unwrap()),
        }],
    );
    world.result("api-http", "us-east", minutes_ago(20), false, 10_000);
    world.result("api-http", "eu-west", minutes_ago(19), false, 10_000);
    world.result("api-http", "eu-west", minutes_ago(2), true, 80);
    let path = format!("/api/v1/incidents/{FIXTURE_INCIDENT}");
    let resolved =
        world.post(&format!("{path}/updates"), json!({"status": "resolved", "body": "Fixed"})).await;
    assert_eq!(resolved.status, 201, "{}", resolved.text());
    let postmortem = json!({
        "summary": "A deploy broke the API.",
        "impact": "Clients saw errors.",
        "timeline": [
            // A row from before the daylight-saving change keeps its own abbreviation.
            {"at": "2024-01-15T15:00:00Z", "text": "Risky <b>config</b> merged"},
            {"at": "2024-06-01T11:30:00Z", "text": "Errors began & alerts fired"},
        ],
        "contributing_factors": ["No canary <script>alert(1)</script>"],
        "stabilization_steps": ["Rolled back \"v2\""],
        "corrective_actions": [
            {"description": "Add a canary <i>stage</i>", "owner": "dana <ops>", "due": "2024-07-01"},
            {"description": "Write a runbook", "owner": "", "done": true},
        ],
        "publish": true,
    });
    let saved = world.send_json(Method::PUT, &format!("{path}/postmortem"), Scope::Write, &postmortem).await;
    assert_eq!(saved.status, 200, "{}", saved.text());

    let html = world.get(&format!("/incidents/{FIXTURE_INCIDENT}")).await.text();
    let section = &html[html.find("<section class=\"postmortem\">").expect("the postmortem")..];
    let section = &section[..section.find("</section>").unwrap()];
    // The measured impact, as recorded data says.
    for fact in [
        "<dt>Duration</dt><dd>30 min</dd>",
        "<dt>Down according to monitoring</dt><dd>20 min</dd>",
        "<dt>Affected components</dt><dd>Internal API</dd>",
        "<dt>Failed checks</dt><dd>2</dd>",
        "<dt>Regions</dt><dd>eu-west, us-east</dd>",
    ] {
        assert!(section.contains(fact), "{fact}: {section}");
    }
    // The timeline in the page's zone, each row with the abbreviation in force then.
    assert!(
        section.contains(
            r#"<td><time datetime="2024-01-15T15:00:00Z" data-local>Jan 15, 2024 10:00 EST</time></td><td>Risky &#60;b&#62;config&#60;/b&#62; merged</td>"#
        ),
        "{section}"
    );
    assert!(
        section.contains(
            r#"<td><time datetime="2024-06-01T11:30:00Z" data-local>Jun 1, 2024 07:30 EDT</time></td><td>Errors began &#38; alerts fired</td>"#
        ),
        "{section}"
    );
    assert!(section.contains("<li>No canary &#60;script&#62;alert(1)&#60;/script&#62;</li>"), "{section}");
    assert!(section.contains("<li>Rolled back &#34;v2&#34;</li>"), "{section}");
    assert!(
        section.contains(
            "<tr><td>Add a canary &#60;i&#62;stage&#60;/i&#62;</td><td>dana &#60;ops&#62;</td><td>Jul 1, 2024</td><td>Open</td></tr>"
        ),
        "{section}"
    );
    assert!(
        section.contains("<tr><td>Write a runbook</td><td>—</td><td>—</td><td>Done</td></tr>"),
        "{section}"
    );
    for bad in ["<script>", "<b>config", "<i>stage", "<ops>"] {
        assert!(!section.contains(bad), "{bad} is not escaped: {section}");
    }
}

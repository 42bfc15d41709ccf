//! The public status page from the real binary in headless Chromium: a screenshot artifact,
//! the 90-day bars and groups in the DOM, a live change on the open page within a second,
//! feeds parsed by real parsers, and the static export. Multi-threaded runtimes: Chromium and
//! Python run as blocking child processes while the local target must keep answering checks.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::chromium::{Browser, Cdp, artifacts, headless};
use crate::support::{Server, Target, eventually, get_json, request_text, write};

const LIMIT: Duration = Duration::from_secs(30);

fn config(target: &Target) -> String {
    format!(
        r#"
page: {{title: Acme Status, time_zone: America/New_York, description: "Acme's services, live"}}
components:
  - {{id: api, name: Internal API, group: Platform}}
  - {{id: forms, name: Patient forms, group: Platform}}
  - {{id: web, name: Website}}
monitors:
  - {{id: api-http, name: Internal API, kind: http, component: api, url: "{}", interval: 1s, timeout: 2s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}}}
  - {{id: forms-tcp, kind: tcp, component: forms, host: 127.0.0.1, port: {}, interval: 1s}}
  - {{id: web-http, kind: http, component: web, url: "{}", interval: 1s}}
"#,
        target.url("/health"),
        target.addr.port(),
        target.url("/"),
    )
}

/// `chromium --dump-dom URL`: the DOM after the page's scripts ran.
fn dump_dom(profile: &Path, url: &str) -> String {
    // No virtual-time budget: the live page's event stream never idles, so it would never end.
    let out = headless(profile).args(["--dump-dom", url]).output().unwrap();
    assert!(out.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn token(dir: &Path, config: &str, scope: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", scope, "--config", config, "--data", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// POST a JSON body with a bearer token.
async fn post(url: &str, token: &str, body: &Value) -> (u16, Value) {
    use http_body_util::{BodyExt, Full};
    let uri: axum::http::Uri = url.parse().unwrap();
    let authority = uri.authority().unwrap().to_string();
    let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let req = axum::http::Request::post(uri.path())
        .header("host", authority)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn indicator(server: &Server) -> String {
    let (_, doc) = get_json(&server.url("/api/v2/status.json"), None).await;
    doc["status"]["indicator"].as_str().unwrap_or_default().to_owned()
}

async fn start() -> (Target, tempfile::TempDir, String, Server) {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&target));
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    (target, dir, cfg, server)
}

/// The server sends a run of identical healthy days as one cell (`data-days`); the page script
/// must have drawn every bar as 90 cells again, 5 units apart, each titled with its own day.
fn assert_one_cell_per_day(dom: &str) {
    assert!(!dom.contains("data-days=\""), "a run of days was left as one cell: {dom}");
    for bar in dom.split("<svg class=\"bar\"").skip(1) {
        let bar = &bar[..bar.find("</svg>").unwrap()];
        let mut days = Vec::new();
        for (i, cell) in bar.split("<rect class=\"day ").skip(1).enumerate() {
            let open = &cell[..cell.find('>').unwrap()];
            assert!(open.contains(&format!(r#" x="{}" width="4" "#, 5 * i)), "cell {i}: {open}");
            let title = cell.split("<title>").nth(1).unwrap().split("</title>").next().unwrap();
            let (day, _) = title.split_once(": ").unwrap_or_else(|| panic!("cell {i}: {title}"));
            assert!(!day.contains('–'), "cell {i} is titled with a range: {title}");
            days.push(day.to_owned());
        }
        days.dedup();
        assert_eq!(days.len(), 90, "one cell per day, each its own: {days:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_renders_in_chromium_with_groups_and_90_day_bars() {
    let (_target, dir, _cfg, server) = start().await;
    eventually("monitors up", LIMIT, || async { (indicator(&server).await == "none").then_some(()) }).await;
    let profile = tempfile::tempdir().unwrap();

    let shot = artifacts().join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let out = headless(profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2000")
        .arg(server.url("/"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "a real screenshot at {}: {size} bytes", shot.display());
    println!("screenshot: {}", shot.display());

    let dom = dump_dom(profile.path(), &server.url("/"));
    assert!(dom.contains("All Systems Operational"), "{dom}");
    assert!(dom.contains(r#"<details class="group" id="group-platform" open="">"#), "{dom}");
    assert_eq!(dom.matches("<svg class=\"bar\"").count(), 3, "one bar per component");
    assert_eq!(dom.matches("<rect class=\"day ").count(), 3 * 90, "90 days each");
    assert_one_cell_per_day(&dom);
    assert!(dom.contains("<rect class=\"day up\""), "today has data");
    assert!(dom.contains(": 0 min down, 100 %</title>"));
    // The reader's local time was added next to the page's zone.
    assert!(dom.contains(r#"class="local""#), "{dom}");
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_going_down_changes_the_open_page_within_a_second() {
    let (target, _dir, _cfg, server) = start().await;
    eventually("monitors up", LIMIT, || async { (indicator(&server).await == "none").then_some(()) }).await;
    let browser = Browser::open(&server.url("/"));
    let page = Cdp::connect(&browser.page_socket().await).await;
    let banner =
        "document.querySelector('.banner-text') && document.querySelector('.banner-text').textContent";
    let loading = Instant::now();
    while page.eval("!!document.body && document.body.dataset.streamState === 'open'").await != json!(true) {
        assert!(loading.elapsed() < LIMIT, "the page never opened its live stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(page.eval(banner).await, json!("All Systems Operational"));
    page.eval("window.__sameDocument = 42").await;

    target.set_status(503);
    // The moment the server shows the outage...
    eventually("the server reports the outage", LIMIT, || async {
        (indicator(&server).await != "none").then_some(())
    })
    .await;
    let shown = Instant::now();
    // ...the open page shows it too, within a second, without a reload.
    loop {
        let text = page.eval(banner).await;
        if text != json!("All Systems Operational") && !text.is_null() {
            assert!(text.as_str().unwrap().contains("Outage"), "{text}");
            break;
        }
        assert!(shown.elapsed() < Duration::from_secs(1), "the open page still says {text} after 1 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    println!("open page updated {:?} after the server showed the change", shown.elapsed());
    assert_eq!(page.eval("window.__sameDocument").await, json!(42), "updated in place, not reloaded");
    let status = page.eval("document.querySelector('[data-component=api]').dataset.status").await;
    assert_eq!(status, json!("major_outage"));
    // The swapped-in bars were drawn day by day again, like those of the first load.
    let cells = "[document.querySelectorAll('rect.day').length, document.querySelectorAll('rect.day[data-days]').length]";
    assert_eq!(page.eval(cells).await, json!([3 * 90, 0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_parse_with_real_parsers_and_the_export_works_offline() {
    let (_target, dir, cfg, server) = start().await;
    let write_token = token(dir.path(), &cfg, "write");
    let (status, incident) = post(
        &server.url("/api/v1/incidents"),
        &write_token,
        &json!({"name": "Forms <slow> & failing", "status": "investigating", "impact": "minor",
                "body": "We are **looking** into it <script>alert(1)</script>", "components": {"forms": "degraded_performance"}}),
    )
    .await;
    assert_eq!(status, 201, "{incident}");
    let (status, window) = post(
        &server.url("/api/v1/maintenances"),
        &write_token,
        &json!({"name": "DB upgrade", "components": ["api"], "description": "Upgrading, commas; and \\ slashes",
                "starts_at": "2030-01-02T02:00:00Z", "ends_at": "2030-01-02T03:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{window}");

    for (path, file) in
        [("/history.atom", "history.atom"), ("/history.rss", "history.rss"), ("/maintenance.ics", "m.ics")]
    {
        let (status, body) = request_text("GET", &server.url(path), None).await;
        assert_eq!(status, 200, "{path}");
        std::fs::write(dir.path().join(file), body).unwrap();
    }
    let script = r#"
import sys, feedparser, icalendar
for name in ("history.atom", "history.rss"):
    feed = feedparser.parse(name)
    assert not feed.bozo, (name, feed.bozo_exception)
    titles = [e.title for e in feed.entries]
    assert titles == ["Forms <slow> & failing"], (name, titles)
    entry = feed.entries[0]
    assert "/incidents/" in entry.link, entry.link
    assert "<strong>looking</strong>" in entry.summary, entry.summary
    assert "<script" not in entry.summary, entry.summary
cal = icalendar.Calendar.from_ical(open("m.ics", "rb").read())
events = [c for c in cal.walk("VEVENT")]
assert [str(e["SUMMARY"]) for e in events] == ["DB upgrade"], events
assert "commas; and \\ slashes" in str(events[0]["DESCRIPTION"]), events[0]["DESCRIPTION"]
print("feeds ok")
"#;
    let out =
        Command::new("python3").arg("-c").arg(script).current_dir(dir.path()).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "feed parsers rejected the output (scripts/test installs feedparser and icalendar):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The static export, from the same data while the server runs.
    let out_dir = dir.path().join("public");
    let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["export-static", "--config", &cfg, "--data", "data"])
        .arg(&out_dir)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = incident["id"].as_str().unwrap();
    for file in [
        "index.html",
        "history.html",
        &format!("incidents/{id}.html"),
        "components/api.html",
        "api/v2/summary.json",
        "history.atom",
        "badge/api.svg",
    ] {
        assert!(out_dir.join(file).is_file(), "{file} exported");
    }
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("api/v2/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["incidents"][0]["name"], "Forms <slow> & failing");
    // Opened from disk, no server involved: the page and its links work.
    let profile = tempfile::tempdir().unwrap();
    let dom = dump_dom(profile.path(), &format!("file://{}", out_dir.join("index.html").display()));
    assert_eq!(dom.matches("<svg class=\"bar\"").count(), 3);
    assert!(dom.contains(&format!("href=\"incidents/{id}.html\"")), "relative links");
    assert!(dom.contains("Forms &lt;slow&gt; &amp; failing"));
}

//! The official embeddable widget from the npm registry, `@statuspage/status-widget`, pointed at
//! the real server renders Belfry's status in headless Chromium (issue 4).
//!
//! The widget is a custom element, `<statuspage-widget src=… appearance=basic|badge>`: on
//! connect it fetches `new URL(src)` with the path replaced by `/api/v2/summary.json` (cross
//! origin here, so CORS is exercised for real), keeps the answer 30 s in memory, and renders
//! `status.description` with an indicator class named after `status.indicator` into an open
//! shadow root. `--dump-dom` leaves shadow roots out, so the embedding page copies what each
//! widget rendered into a `<pre>` of its own document. The widget fetches once per page load:
//! the outage is seen by loading the page again, as a reader would.
//!
//! `scripts/test` installs the package under `.cache/widget` and Debian's Chromium; nothing
//! is fetched from the internet while the test runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde_json::Value;

use crate::support::{Server, Target, eventually, get_json, write};

const CHROMIUM: &str = "/usr/bin/chromium";
const LIMIT: Duration = Duration::from_secs(30);
/// Where `scripts/test` installs the package (`npm install --prefix .cache/widget …`).
const WIDGET_JS: &str = ".cache/widget/node_modules/@statuspage/status-widget/dist/index.js";

/// The widget's bundle; missing, it is an install problem, not a skip.
fn widget_js() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(WIDGET_JS);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "the status widget is missing at {} ({e}): run scripts/test, which does \
             `npm install --prefix .cache/widget @statuspage/status-widget@1.0.5`",
            path.display()
        )
    })
}

fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's `chromium` (scripts/test does: apt-get install chromium)"
    );
    CHROMIUM
}

/// A page embedding both of the widget's appearances, as a customer's site would, plus a
/// script that copies each widget's rendered shadow root into the document for `--dump-dom`.
fn embedding_page(belfry: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme home</title>
<script src="/widget.js"></script></head>
<body>
<p>Welcome to Acme.</p>
<statuspage-widget id="basic" src="{belfry}"></statuspage-widget>
<statuspage-widget id="badge" src="{belfry}" appearance="badge" title="acme status"></statuspage-widget>
<pre id="rendered"></pre>
<script>
function mirror() {{
  const lines = [];
  for (const w of document.querySelectorAll('statuspage-widget')) {{
    const root = w.shadowRoot;
    const box = root && root.querySelector('.status-container');
    if (!box) {{ lines.push(w.id + ' | (not rendered) |  | '); continue; }}
    const dot = box.querySelector('.status-indicator');
    const link = root.querySelector('a');
    const text = (w.id === 'badge' ? dot.textContent : box.querySelector('.status-text').textContent).trim();
    lines.push([w.id, dot.className, text, link ? link.getAttribute('href') : ''].join(' | '));
  }}
  document.getElementById('rendered').textContent = lines.join('\n');
  setTimeout(mirror, 50);
}}
mirror();
</script>
</body></html>
"#
    )
}

/// Serves the embedding page and the widget's bundle on its own loopback port (another
/// origin than Belfry's).
async fn host_site(page: String, js: Vec<u8>) -> String {
    let app = Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/widget.js", get(move || async move { ([("content-type", "text/javascript")], js) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}

/// One rendered widget: appearance, indicator class, shown text, link.
#[derive(Debug, PartialEq)]
struct Rendered {
    id: String,
    indicator: String,
    text: String,
    href: String,
}

/// Loads `url` in a fresh headless Chromium (no cache carried over) and reads the widgets.
async fn load(url: &str) -> Vec<Rendered> {
    let url = url.to_owned();
    let dom = tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--virtual-time-budget=5000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(["--dump-dom", &url])
            .output()
            .expect("chromium runs");
        assert!(out.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    })
    .await
    .unwrap();
    let rendered = dom
        .split_once(r#"<pre id="rendered">"#)
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(text, _)| text)
        .unwrap_or_else(|| panic!("no mirror of the widgets in the page:\n{dom}"));
    rendered
        .lines()
        .map(|line| {
            let mut f = line.split(" | ").map(|s| s.trim().replace("&amp;", "&"));
            let mut next = || f.next().unwrap_or_default();
            Rendered { id: next(), indicator: next(), text: next(), href: next() }
        })
        .collect()
}

/// Loads the page until every widget rendered `description` (the widget fetches once per
/// load; a load can end before the fetch did).
async fn shown(url: &str, description: &str) -> Vec<Rendered> {
    let start = Instant::now();
    loop {
        let widgets = load(url).await;
        if widgets.len() == 2 && widgets.iter().all(|w| w.text == description) {
            return widgets;
        }
        assert!(start.elapsed() < LIMIT, "the widgets never showed {description:?}; last load: {widgets:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn status(server: &Server) -> (String, String) {
    let (_, doc) = get_json(&server.url("/api/v2/status.json"), None).await;
    let s = &doc["status"];
    (
        s["indicator"].as_str().unwrap_or_default().to_owned(),
        s["description"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_status_widget_renders_belfrys_status_in_chromium() {
    chromium();
    let js = widget_js();
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "belfry.yaml",
        &format!(
            r#"
page: {{title: Acme Status}}
components:
  - {{id: api, name: Public API, group: Platform}}
  - {{id: web, name: Website}}
monitors:
  - {{id: api-http, kind: http, component: api, url: "{}", interval: 1s, timeout: 2s,
     failure: {{threshold: 1}}, recovery: {{threshold: 1}}}}
"#,
            target.url("/health")
        ),
    );
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    eventually("the monitor up", LIMIT, || async { (status(&server).await.0 == "none").then_some(()) }).await;

    let site = host_site(embedding_page(&server.base), js).await;
    assert_ne!(site, server.url("/"), "the widget is embedded from another origin");

    let widgets = shown(&site, "All Systems Operational").await;
    println!("widgets while up: {widgets:?}");
    for w in &widgets {
        assert_eq!(w.indicator, "status-indicator none", "{w:?}");
        assert_eq!(w.href, server.base, "the widget links to the status page: {w:?}");
    }
    assert_eq!(widgets.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), ["basic", "badge"]);

    // The monitored service goes down: the server shows it, and so does the widget on a fresh load.
    target.set_status(503);
    let (indicator, description) = eventually("the server reports the outage", LIMIT, || async {
        let (indicator, description) = status(&server).await;
        (indicator != "none").then_some((indicator, description))
    })
    .await;
    assert!(description.contains("Outage"), "outage wording: {description}");
    let widgets = shown(&site, &description).await;
    println!("widgets after the outage: {widgets:?}");
    for w in &widgets {
        assert_eq!(w.indicator, format!("status-indicator {indicator}"), "{w:?}");
    }
    let (_, summary) = get_json(&server.url("/api/v2/summary.json"), None).await;
    let api = summary["components"].as_array().unwrap().iter().find(|c| c["name"] == "Public API").cloned();
    assert_eq!(api.map(|c| c["status"].clone()), Some(Value::from("major_outage")), "{summary}");
}

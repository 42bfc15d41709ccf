//! The admin console driven in headless Chromium against the real binary: a user added on the
//! command line logs in through the form, creates a monitor and runs it, opens an incident and
//! posts an update, and the public page in the same browser shows it. The browser keeps the
//! cookies and sends the forms' CSRF fields; the test only types and presses buttons. A
//! screenshot of the dashboard is written next to the status page's.

use std::time::Duration;

use serde_json::json;

use crate::chromium::{Browser, Cdp, artifacts};
use crate::console::belfry;
use crate::support::{Server, Target, eventually, write};

const LIMIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery";
const UPDATE: &str = "Found the slow query";

fn config(target: &Target) -> String {
    format!(
        "components:\n  - {{id: api, name: Internal API}}\nmonitors:\n  - {{id: api-http, kind: http, component: api, url: \"{}\", interval: 1s}}\n",
        target.url("/health")
    )
}

async fn text(page: &Cdp, selector: &str) -> String {
    let s = json!(selector);
    let value = page.run(&format!("(document.querySelector({s}) || {{}}).innerText || ''")).await;
    value.as_str().unwrap_or_default().to_owned()
}

// Multi-threaded: Chromium starts as a blocking child while the target keeps answering checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_a_user_logs_in_creates_a_monitor_and_the_public_page_shows_the_update() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&target));
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let added = belfry(
        dir.path(),
        &["user", "add", "alice", "--role", "admin", "--password-stdin", "--config", &cfg, "--data", "data"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));

    // Logged out, the console sends the browser to its login form.
    let browser = Browser::open(&server.url("/admin"));
    let page = Cdp::connect(&browser.page_socket().await).await;
    page.wait_for(
        "the login page",
        "location.pathname === '/admin/login' && document.readyState === 'complete' \
         && !!document.querySelector('form[action=\"/admin/login\"]')",
    )
    .await;
    assert_eq!(page.eval("location.search").await, json!("?next=%2Fadmin"));
    page.fill(&[("#name", "alice"), ("#password", PASSWORD)]).await;
    page.submit("the page after logging in", "form[action='/admin/login']").await;
    page.wait_for("the dashboard", "location.pathname === '/admin'").await;
    assert_eq!(text(&page, "h1").await, "Monitors");
    let header = text(&page, "header").await;
    assert!(header.contains("alice (admin)"), "{header}");
    assert!(text(&page, "table").await.contains("api-http"));
    let cookies = page.eval("document.cookie").await;
    assert!(!cookies.as_str().unwrap_or_default().contains("belfry_session"), "HttpOnly: {cookies}");

    // A monitor made in the console, then run by hand.
    page.goto(&server.url("/admin/monitors/new")).await;
    assert_eq!(text(&page, "h1").await, "New monitor");
    let tcp = format!("127.0.0.1:{}", target.addr.port());
    page.fill(&[
        ("#id", "console-tcp"),
        ("#kind", "tcp"),
        ("#target", &tcp),
        ("#interval", "1s"),
        ("#component", "api"),
    ])
    .await;
    page.submit("the new monitor's page", "form[action='/admin/monitors']").await;
    page.wait_for(
        "the monitor page made in the console",
        "location.pathname === '/admin/monitors/console-tcp' \
         && document.body.innerText.includes('Made in the console')",
    )
    .await;
    page.press("Run now").await;
    page.wait_for("the run's result", "!!document.querySelector('#run-result')").await;
    let result = text(&page, "#run-result").await;
    assert!(result.contains("Passed"), "{result}");

    // An incident, then an update from the composer on its page.
    page.goto(&server.url("/admin/incidents")).await;
    page.fill(&[
        ("#name", "Slow forms"),
        ("#status", "investigating"),
        ("#impact", "minor"),
        ("#body", "Looking into it"),
        ("#c-api", "degraded_performance"),
    ])
    .await;
    page.submit("the new incident's page", "form[action='/admin/incidents']").await;
    page.wait_for(
        "the incident page",
        "/^\\/admin\\/incidents\\/[^\\/]+$/.test(location.pathname) \
         && !!document.querySelector('form[action$=\"/updates\"]')",
    )
    .await;
    assert_eq!(text(&page, "h1").await, "Slow forms");
    let incident = page.eval("location.pathname").await;
    page.fill(&[("#status", "identified"), ("#body", UPDATE)]).await;
    page.submit("the incident page after the update", "form[action$='/updates']").await;
    page.wait_for(
        "the update in the incident's list",
        &format!(
            "[...document.querySelectorAll('article')].some(a => a.innerText.includes({}))",
            json!(UPDATE)
        ),
    )
    .await;
    assert_eq!(page.eval("location.pathname").await, incident);

    // The public page, in the same browser, shows the update.
    let public = server.url("/");
    eventually("the update on the public page", LIMIT, || async {
        page.goto(&public).await;
        let shown = page.eval(&format!("document.body.innerText.includes({})", json!(UPDATE))).await;
        (shown == json!(true)).then_some(())
    })
    .await;
    assert!(text(&page, "body").await.contains("Slow forms"));

    // The dashboard, with both monitors, as a screenshot artifact.
    page.goto(&server.url("/admin")).await;
    page.wait_for(
        "the dashboard with the console monitor",
        "document.body.innerText.includes('console-tcp')",
    )
    .await;
    let shot = artifacts().join("console-dashboard.png");
    let _ = std::fs::remove_file(&shot);
    page.screenshot(&shot).await;
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2_000,
        "a real screenshot at {}",
        shot.display()
    );
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, 1280, "the whole window");
    println!("screenshot: {}", shot.display());
    drop(browser);
}

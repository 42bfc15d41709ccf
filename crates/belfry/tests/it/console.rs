//! The admin console through the real binary: a user added on the command line logs in,
//! creates a monitor and posts an incident update that the public page shows; forms without
//! the CSRF token are refused; a second-factor seed is not readable in the database file; a
//! restart with the key file is unattended and a wrong key refuses to start.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{Server, Target, eventually, get_json, request_text, write};

const LIMIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct horse battery";

fn config(target: &Target) -> String {
    format!(
        "components:\n  - {{id: api, name: Internal API}}\nmonitors:\n  - {{id: api-http, kind: http, component: api, url: \"{}\", interval: 1s}}\n",
        target.url("/health")
    )
}

pub(crate) fn belfry(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(args)
        .current_dir(dir)
        .env_remove("BELFRY_MASTER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// One HTTP exchange with cookies and an optional form body; returns status, headers, body.
async fn exchange(
    method: &str,
    url: &str,
    cookies: &str,
    form: Option<&str>,
) -> (u16, axum::http::HeaderMap, String) {
    use http_body_util::{BodyExt, Full};
    let uri: axum::http::Uri = url.parse().unwrap();
    let authority = uri.authority().unwrap().to_string();
    let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", authority);
    if !cookies.is_empty() {
        req = req.header("cookie", cookies);
    }
    if form.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let body = Full::new(bytes::Bytes::from(form.unwrap_or_default().to_owned()));
    let resp = sender.send_request(req.body(body).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn set_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (pair, _) = v.split_once(';').unwrap_or((v, ""));
        let (n, value) = pair.split_once('=')?;
        (n == name && !value.is_empty()).then(|| value.to_owned())
    })
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a form with a CSRF field") + 20;
    html[at..].split('"').next().unwrap().to_owned()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Logs in through the form; returns the session cookie header value.
async fn log_in(server: &Server) -> String {
    let (status, headers, html) = exchange("GET", &server.url("/admin/login"), "", None).await;
    assert_eq!(status, 200, "{html}");
    let login_cookie = set_cookie(&headers, "belfry_login").expect("login cookie");
    let form = format!("_csrf={}&name=alice&password={}&next=%2Fadmin", csrf_in(&html), enc(PASSWORD));
    let (status, headers, body) =
        exchange("POST", &server.url("/admin/login"), &format!("belfry_login={login_cookie}"), Some(&form))
            .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(headers["location"], "/admin");
    let set =
        headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(
        set.iter().any(|c| c.starts_with("belfry_session=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{set:?}"
    );
    format!("belfry_session={}", set_cookie(&headers, "belfry_session").unwrap())
}

fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = vec![];
    for name in ["belfry.db", "belfry.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join("data").join(name)) {
            all.extend(bytes);
        }
    }
    all
}

#[tokio::test]
async fn a_user_logs_in_creates_a_monitor_and_posts_an_update_the_public_page_shows() {
    let target = Target::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "belfry.yaml", &config(&target));
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let key_file = dir.path().join("data").join("master.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the generated key file is private");

    let added = belfry(
        dir.path(),
        &["user", "add", "alice", "--role", "admin", "--password-stdin", "--config", &cfg, "--data", "data"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));

    let (status, headers, _) = exchange("GET", &server.url("/admin"), "", None).await;
    assert_eq!((status, headers["location"].to_str().unwrap()), (303, "/admin/login?next=%2Fadmin"));
    let session = log_in(&server).await;
    let (status, _, dashboard) = exchange("GET", &server.url("/admin"), &session, None).await;
    assert_eq!(status, 200);
    assert!(dashboard.contains("api-http") && dashboard.contains("config file"), "{dashboard}");
    let csrf = csrf_in(&dashboard);

    // A form without the session's CSRF token is refused and changes nothing.
    let port = target.addr.port();
    let monitor = format!("id=console-tcp&kind=tcp&target=127.0.0.1%3A{port}&interval=1s&component=api");
    let (status, _, _) = exchange("POST", &server.url("/admin/monitors"), &session, Some(&monitor)).await;
    assert_eq!(status, 403);
    let (status, _, page) =
        exchange("POST", &server.url("/admin/monitors"), &session, Some(&format!("{monitor}&_csrf={csrf}")))
            .await;
    assert_eq!(status, 303, "{page}");
    let (status, _, page) = exchange("GET", &server.url("/admin/monitors/console-tcp"), &session, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Made in the console"), "{page}");
    let (status, _, edit) =
        exchange("GET", &server.url("/admin/monitors/console-tcp/edit"), &session, None).await;
    assert_eq!(status, 200);
    assert!(
        edit.contains("&#34;console-tcp&#34;") || edit.contains("&quot;console-tcp&quot;"),
        "its YAML: {edit}"
    );
    let renamed = format!(
        "{{\"id\": \"console-tcp\", \"name\": \"Forms TCP\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": {port}, \"interval\": \"1s\", \"component\": \"api\"}}"
    );
    let form = format!("_csrf={csrf}&id=console-tcp&yaml={}", enc(&renamed));
    let (status, _, page) = exchange("POST", &server.url("/admin/monitors"), &session, Some(&form)).await;
    assert_eq!(status, 303, "{page}");
    let (_, _, dashboard) = exchange("GET", &server.url("/admin"), &session, None).await;
    assert!(dashboard.contains("Forms TCP"), "renamed: {dashboard}");
    let (status, _, ran) = exchange(
        "POST",
        &server.url("/admin/monitors/console-tcp/run"),
        &session,
        Some(&format!("_csrf={csrf}")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(ran.contains("id=\"run-result\"") && ran.contains("Passed"), "{ran}");

    let form = format!(
        "_csrf={csrf}&name=Slow+forms&status=investigating&impact=minor&body=Looking+into+it&component.api=degraded_performance"
    );
    let (status, headers, page) =
        exchange("POST", &server.url("/admin/incidents"), &session, Some(&form)).await;
    assert_eq!(status, 303, "{page}");
    let incident_page = headers["location"].to_str().unwrap().to_owned();
    let form = format!("_csrf={csrf}&status=identified&body=Found+the+slow+query");
    let (status, _, page) =
        exchange("POST", &server.url(&format!("{incident_page}/updates")), &session, Some(&form)).await;
    assert_eq!(status, 303, "{page}");
    eventually("the update on the public page", LIMIT, || async {
        let (_, html) = request_text("GET", &server.url("/"), None).await;
        html.contains("Found the slow query").then_some(())
    })
    .await;

    // A second factor: its seed is sealed, so the database file does not hold it.
    let (status, _, account) =
        exchange("POST", &server.url("/admin/account/totp"), &session, Some(&format!("_csrf={csrf}"))).await;
    assert_eq!(status, 200);
    let at = account.find("id=\"totp-secret\">").unwrap() + 17;
    let seed = account[at..].split('<').next().unwrap().to_owned();
    assert!(seed.len() >= 32, "{seed}");
    let db = database_bytes(dir.path());
    assert!(!db.is_empty());
    assert!(
        !db.windows(seed.len()).any(|w| w == seed.as_bytes()),
        "the TOTP seed is readable in the database"
    );

    let (status, _, audit) = exchange("GET", &server.url("/admin/audit"), &session, None).await;
    assert_eq!(status, 200);
    for action in ["user.create", "user.login", "monitor.save", "incident.create", "incident.update"] {
        assert!(audit.contains(action), "{action} missing from the audit log");
    }

    // Restart: the key file is read without any human step; the session still holds.
    drop(server);
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let (status, _, dashboard) = exchange("GET", &server.url("/admin"), &session, None).await;
    assert_eq!(status, 200);
    assert!(dashboard.contains("console-tcp"), "the console monitor came back: {dashboard}");
    let read = String::from_utf8(
        belfry(dir.path(), &["token", "create", "--scope", "read", "--config", &cfg, "--data", "data"], None)
            .stdout,
    )
    .unwrap();
    let (status, _) = get_json(&server.url("/api/v1/monitors/console-tcp"), Some(read.trim())).await;
    assert_eq!(status, 200);
    drop(server);

    // `belfry export` writes the console's monitor into a config that validates.
    let export = belfry(dir.path(), &["export", "--config", &cfg, "--data", "data"], None);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let exported = write(dir.path(), "exported.yaml", &String::from_utf8(export.stdout).unwrap());
    let check = belfry(dir.path(), &["validate", &exported], None);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    assert!(String::from_utf8_lossy(&check.stdout).contains("2 monitors"));

    // Rotation: every secret is sealed anew, the key file replaced, and the server starts on it.
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let rotated = belfry(dir.path(), &["secrets", "rotate", "--config", &cfg, "--data", "data"], None);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    assert!(
        String::from_utf8_lossy(&rotated.stderr).contains("re-sealed"),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old_key, new_key);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the new key file is private too");
    assert!(!dir.path().join("data/master.key.new").exists());
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let (status, _, dashboard) = exchange("GET", &server.url("/admin"), &session, None).await;
    assert_eq!(status, 200);
    assert!(
        dashboard.contains("Forms TCP"),
        "the sealed console monitor opens under the new key: {dashboard}"
    );
    drop(server);
    std::fs::write(&key_file, &old_key).unwrap();
    let refused =
        belfry(dir.path(), &["token", "create", "--scope", "read", "--config", &cfg, "--data", "data"], None);
    assert_eq!(refused.status.code(), Some(1), "the old key no longer opens the store");
    std::fs::write(&key_file, "not hex\n").unwrap();
    let refused =
        belfry(dir.path(), &["serve", "--listen", "127.0.0.1:0", "--config", &cfg, "--data", "data"], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("64 hex characters"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Bad input to `user add` changes nothing and says why.
    std::fs::write(&key_file, &new_key).unwrap();
    let short = belfry(
        dir.path(),
        &["user", "add", "bob", "--role", "viewer", "--password-stdin", "--config", &cfg, "--data", "data"],
        Some("short\n"),
    );
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));

    // A wrong key: serve refuses to start, and says why.
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32))).unwrap();
    let refused =
        belfry(dir.path(), &["serve", "--listen", "127.0.0.1:0", "--config", &cfg, "--data", "data"], None);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not the key this store's secrets were sealed with"), "{stderr}");
}

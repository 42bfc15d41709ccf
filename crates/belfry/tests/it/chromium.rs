//! Headless Chromium for the browser tests: the process, a minimal DevTools client, and a few
//! page helpers (fill a form, submit it, wait for the next document, take a screenshot).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{eventually, request_text};

const CHROMIUM: &str = "/usr/bin/chromium";
const LIMIT: Duration = Duration::from_secs(30);

/// Chromium is a real part of these tests: missing, it is an install problem, not a skip.
fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's `chromium` (scripts/test does: apt-get install chromium)"
    );
    CHROMIUM
}

/// `chromium --headless …` with a throwaway profile and nothing running in the background.
pub(crate) fn headless(profile: &Path) -> Command {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// Where browser tests write their screenshots.
pub(crate) fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("belfry-page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A headless Chromium with the DevTools protocol on a random port, showing `url`.
pub(crate) struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    port: u16,
}

impl Browser {
    pub(crate) fn open(url: &str) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let mut child = headless(profile.path())
            .args(["--remote-debugging-port=0", "--window-size=1280,1400", url])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(ws) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(ws.to_owned());
                }
            }
        });
        let Ok(ws) = rx.recv_timeout(LIMIT) else {
            let _ = child.kill();
            panic!("chromium did not report its DevTools endpoint");
        };
        let port = ws.trim_start_matches("ws://").split(['/', ':']).nth(1).unwrap().parse().unwrap();
        Self { child, _profile: profile, port }
    }

    /// The page target's DevTools WebSocket.
    pub(crate) async fn page_socket(&self) -> String {
        eventually("a page target", LIMIT, || async {
            let (status, body) =
                request_text("GET", &format!("http://127.0.0.1:{}/json/list", self.port), None).await;
            let targets: Value = serde_json::from_str(&body).ok()?;
            (status == 200).then_some(())?;
            targets.as_array()?.iter().find(|t| t["type"] == "page")?["webSocketDebuggerUrl"]
                .as_str()
                .map(str::to_owned)
        })
        .await
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A minimal DevTools client on one page target. Calls take `&self`, so a page can be polled
/// from inside `eventually`.
pub(crate) struct Cdp {
    socket: tokio::sync::Mutex<Socket>,
    next_id: AtomicU64,
}

impl Cdp {
    pub(crate) async fn connect(url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("DevTools WebSocket");
        Self { socket: tokio::sync::Mutex::new(socket), next_id: AtomicU64::new(0) }
    }

    /// One DevTools command; the whole reply (`result` or `error`). Events are skipped.
    pub(crate) async fn call(&self, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut socket = self.socket.lock().await;
        let call = json!({"id": id, "method": method, "params": params});
        socket.send(Message::Text(call.to_string().into())).await.unwrap();
        loop {
            let msg = tokio::time::timeout(LIMIT, socket.next()).await.expect("a DevTools answer");
            let Some(Ok(Message::Text(text))) = msg else { continue };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == id {
                return reply;
            }
        }
    }

    /// Evaluates `expression` in the page; its value as JSON (null if it threw, or if the
    /// page was between documents).
    pub(crate) async fn eval(&self, expression: &str) -> Value {
        let reply =
            self.call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true})).await;
        reply["result"]["result"]["value"].clone()
    }

    /// Runs `script` in the page; a script that throws fails the test.
    pub(crate) async fn run(&self, script: &str) -> Value {
        let reply = self.call("Runtime.evaluate", json!({"expression": script, "returnByValue": true})).await;
        assert!(reply["error"].is_null(), "DevTools refused `{script}`: {}", reply["error"]);
        let thrown = &reply["result"]["exceptionDetails"];
        assert!(thrown.is_null(), "`{script}` threw: {}", thrown["exception"]["description"]);
        reply["result"]["result"]["value"].clone()
    }

    /// Waits until the JavaScript `condition` holds; on a timeout the page's address and text
    /// at the last look are printed next to the failure.
    pub(crate) async fn wait_for(&self, what: &str, condition: &str) {
        let probe = format!(
            "(() => {{ let ok = false; try {{ ok = !!({condition}); }} catch (e) {{}}
               return {{ok, at: location.href, state: document.readyState,
                        text: document.body ? document.body.innerText.slice(0, 3000) : ''}}; }})()"
        );
        let last = Mutex::new(Value::Null);
        let _report = ReportOnPanic(what, &last);
        eventually(what, LIMIT, || async {
            let seen = self.eval(&probe).await;
            let ok = seen["ok"] == json!(true);
            *last.lock().unwrap() = seen;
            ok.then_some(())
        })
        .await;
    }

    /// Runs `action` (which should navigate) and waits until the next document has loaded.
    pub(crate) async fn navigate_by(&self, what: &str, action: &str) {
        self.run("document.__belfryLeft = true").await;
        self.run(action).await;
        self.wait_for(what, "!document.__belfryLeft && document.readyState === 'complete'").await;
    }

    /// Goes to `url` and waits until it has loaded.
    pub(crate) async fn goto(&self, url: &str) {
        self.run("document.__belfryLeft = true").await;
        let reply = self.call("Page.navigate", json!({"url": url})).await;
        assert!(reply["error"].is_null() && reply["result"]["errorText"].is_null(), "{url}: {reply}");
        self.wait_for(url, "!document.__belfryLeft && document.readyState === 'complete'").await;
    }

    /// Sets form fields as a user would type them: `(CSS selector, value)`.
    pub(crate) async fn fill(&self, fields: &[(&str, &str)]) {
        for (selector, value) in fields {
            self.run(&format!(
                "(() => {{ const el = document.querySelector({s});
                   if (!el) throw new Error('no ' + {s} + ' on ' + location.pathname);
                   el.value = {v};
                   if (el.value !== {v}) throw new Error({s} + ' does not take ' + {v});
                   el.dispatchEvent(new Event('input', {{bubbles: true}}));
                   el.dispatchEvent(new Event('change', {{bubbles: true}})); }})()",
                s = json!(selector),
                v = json!(value),
            ))
            .await;
        }
    }

    /// Submits the form matching `selector` the way its submit button would, and waits for the
    /// page that answers it.
    pub(crate) async fn submit(&self, what: &str, selector: &str) {
        let s = json!(selector);
        self.navigate_by(
            what,
            &format!(
                "(() => {{ const f = document.querySelector({s});
                   if (!f) throw new Error('no form ' + {s} + ' on ' + location.pathname);
                   f.requestSubmit(); }})()"
            ),
        )
        .await;
    }

    /// Clicks the button whose text is `label`, and waits for the page that answers it.
    pub(crate) async fn press(&self, label: &str) {
        let l = json!(label);
        self.navigate_by(
            &format!("the page after pressing {label}"),
            &format!(
                "(() => {{ const b = [...document.querySelectorAll('button')]
                     .find(b => b.textContent.trim() === {l});
                   if (!b) throw new Error('no button ' + {l} + ' on ' + location.pathname);
                   b.click(); }})()"
            ),
        )
        .await;
    }

    /// A PNG of the viewport, written to `path`.
    pub(crate) async fn screenshot(&self, path: &Path) {
        let reply = self.call("Page.captureScreenshot", json!({"format": "png"})).await;
        let data = reply["result"]["data"].as_str().unwrap_or_else(|| panic!("no screenshot: {reply}"));
        std::fs::write(path, base64_decode(data)).unwrap();
    }
}

struct ReportOnPanic<'a>(&'a str, &'a Mutex<Value>);

impl Drop for ReportOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let last = self.1.lock().map(|v| v.clone()).unwrap_or_default();
            eprintln!("while waiting for {}, the page last showed: {last:#}", self.0);
        }
    }
}

/// Standard base64, as DevTools sends binary data.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {:?}", c as char),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_decodes_every_padding() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGVsbG8h"), b"hello!");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode(""), b"");
}

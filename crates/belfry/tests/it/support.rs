//! Real local targets, a fake clock, and a handle on the real `belfry` binary.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use belfry_core::Clock;
use jiff::Timestamp;

/// What the target server answers right now.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

/// A real HTTP server on 127.0.0.1 whose answer the test changes at run time.
pub struct Target {
    pub addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    hits: Arc<Mutex<u64>>,
}

impl Target {
    pub async fn start() -> Self {
        let reply = Arc::new(Mutex::new(Reply {
            status: 200,
            body: r#"{"status":"ok"}"#.into(),
            delay: Duration::ZERO,
        }));
        let hits = Arc::new(Mutex::new(0));
        let app = Router::new().fallback(answer).with_state((reply.clone(), hits.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, reply, hits }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set_status(&self, status: u16) {
        self.reply.lock().unwrap().status = status;
    }

    pub fn set_delay(&self, delay: Duration) {
        self.reply.lock().unwrap().delay = delay;
    }

    pub fn hits(&self) -> u64 {
        *self.hits.lock().unwrap()
    }
}

type TargetState = (Arc<Mutex<Reply>>, Arc<Mutex<u64>>);

async fn answer(State((reply, hits)): State<TargetState>) -> impl IntoResponse {
    *hits.lock().unwrap() += 1;
    let r = reply.lock().unwrap().clone();
    if !r.delay.is_zero() {
        tokio::time::sleep(r.delay).await;
    }
    (StatusCode::from_u16(r.status).unwrap(), [("content-type", "application/json")], r.body)
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct FakeClock(Mutex<Timestamp>);

impl FakeClock {
    pub fn at(second: i64) -> Arc<Self> {
        Arc::new(Self(Mutex::new(Timestamp::from_second(second).unwrap())))
    }

    pub fn advance(&self, by: Duration) -> Timestamp {
        let mut now = self.0.lock().unwrap();
        *now = now.checked_add(by).unwrap();
        *now
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// Polls `probe` until it returns `Some`, or panics after `limit` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real `belfry serve` process on a random loopback port.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `belfry serve` in `dir` with `args` and waits until it reports its address.
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_belfry"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .env_remove("BELFRY_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the belfry binary starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listen=").nth(1) {
                    let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("belfry did not start; stderr:\n{}", stderr.lock().unwrap().join("\n"));
            }
        };
        Self { child, base: format!("http://{addr}"), stderr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A GET returning status and JSON (or `Value::Null` when the body is not JSON).
pub async fn get_json(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    request("GET", url, token).await
}

pub async fn request(method: &str, url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let (status, body) = request_text(method, url, token).await;
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
}

/// A request with a JSON body; returns status and JSON (or `Value::Null`).
pub async fn send_json(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let (status, text) = exchange(method, url, token, Some(body.to_string())).await;
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// A minimal HTTP/1.1 client over hyper, for talking to the server under test.
pub async fn request_text(method: &str, url: &str, token: Option<&str>) -> (u16, String) {
    exchange(method, url, token, None).await
}

async fn exchange(method: &str, url: &str, token: Option<&str>, json: Option<String>) -> (u16, String) {
    use http_body_util::{BodyExt, Full};
    let uri: axum::http::Uri = url.parse().unwrap();
    let authority = uri.authority().unwrap().to_string();
    let stream = tokio::net::TcpStream::connect(&authority).await.expect("server reachable");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", authority);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if json.is_some() {
        req = req.header("content-type", "application/json");
    }
    let body = Full::new(bytes::Bytes::from(json.unwrap_or_default()));
    let resp = sender.send_request(req.body(body).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// A webhook receiver on 127.0.0.1 that records every request and can fail the first N.
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>,
    pub fail_first: Arc<Mutex<u32>>,
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Self {
        let received: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
        let fail_first: Arc<Mutex<u32>> = Arc::default();
        let app = Router::new().fallback(record).with_state((received.clone(), fail_first.clone()));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, received, fail_first }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Bodies of the successfully received requests, parsed as JSON.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.received.lock().unwrap().iter().filter_map(|(_, b)| serde_json::from_str(b).ok()).collect()
    }
}

type ReceiverState = (Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>, Arc<Mutex<u32>>);

async fn record(
    State((received, fail_first)): State<ReceiverState>,
    headers: axum::http::HeaderMap,
    body: String,
) -> StatusCode {
    {
        let mut fail = fail_first.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    received.lock().unwrap().push((headers, body));
    StatusCode::OK
}

/// A vault over `storage` with a fresh master key (in-process tests).
pub fn test_vault(storage: &Arc<dyn belfry_core::store::Storage>) -> belfry_core::vault::Vault {
    let admin: Arc<dyn belfry_core::store::AdminStore> = storage.clone();
    belfry_core::vault::Vault::new(belfry_core::vault::MasterKey::generate().unwrap(), admin)
}

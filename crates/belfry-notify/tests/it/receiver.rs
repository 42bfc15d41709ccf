//! A local HTTP receiver on 127.0.0.1:0 that records each request exactly as it arrived and
//! answers with a configurable status, body and delay.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    /// Path and query, as sent.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ASCII header"))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }
}

#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Captured>>>,
    reply: Arc<Mutex<Reply>>,
}

pub struct Receiver {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base: String,
    shared: Shared,
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Shared {
            seen: Arc::default(),
            reply: Arc::new(Mutex::new(Reply { status: 200, body: "ok".into(), delay: Duration::ZERO })),
        };
        let app = Router::new().fallback(capture).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn reply(&self, status: u16, body: &str) {
        let mut reply = self.shared.reply.lock().unwrap();
        reply.status = status;
        reply.body = body.to_owned();
    }

    pub fn delay(&self, delay: Duration) {
        self.shared.reply.lock().unwrap().delay = delay;
    }

    /// The single request received so far.
    pub fn only(&self) -> Captured {
        let seen = self.shared.seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "expected exactly one request, got {seen:#?}");
        seen[0].clone()
    }
}

async fn capture(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri.path_and_query().map_or_else(|| uri.path().to_owned(), ToString::to_string);
    shared.seen.lock().unwrap().push(Captured { method, target, headers, body });
    let reply = shared.reply.lock().unwrap().clone();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response()
}

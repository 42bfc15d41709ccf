//! The fixture world: a page with a grouped and an ungrouped component, four monitors and a
//! token per scope, plus request and reply helpers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use belfry_core::auth::{ApiToken, Scope, hash_secret};
use belfry_core::check::{CheckSpec, HeartbeatCheck, HttpCheck, TcpCheck};
use belfry_core::component::OutageImpact;
use belfry_core::incident::{AffectedComponents, Impact, Incident, IncidentStatus, NewUpdate};
use belfry_core::maintenance::Maintenance;
use belfry_core::monitor::MonitorSpec;
use belfry_core::policy::Policy;
use belfry_core::runtime::Readiness;
use belfry_core::store::{Resolution, Rollup};
use belfry_core::vault::{MasterKey, Vault};
use belfry_core::{Catalog, Component, ComponentStatus, LiveState, MonitorId, MonitorState, PageSettings};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tower::ServiceExt;

use super::{FakeClock, FakeRuntime, FakeStore};
use crate::{WebState, router};

/// The fixed "now" of every test: 2024-06-01T12:00:00Z (08:00 in New York).
pub fn now() -> Timestamp {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

pub fn minutes_ago(minutes: i64) -> Timestamp {
    now() - SignedDuration::from_mins(minutes)
}

pub fn id(raw: &str) -> MonitorId {
    MonitorId::parse(raw).unwrap()
}

/// The bearer secret of the fixture token with this scope.
pub fn secret(scope: Scope) -> String {
    format!("{}-secret", scope.as_str())
}

pub const PUSH_TOKEN: &str = "push-secret";
/// An open, published incident on `api` (opened 30 minutes ago) with one update.
pub const FIXTURE_INCIDENT: &str = "inc0fixture0";
pub const FIXTURE_UPDATE: &str = "upd0fixture0";
/// A maintenance window on `db` tomorrow 02:00–03:00 UTC.
pub const FIXTURE_MAINTENANCE: &str = "mnt0fixture0";
/// An active alert of `api-http`, acknowledgeable with [`fixture_ack_token`].
pub const FIXTURE_ALERT: &str = "alr0fixture0";
/// A configured webhook channel.
pub const FIXTURE_CHANNEL: &str = "ops-hook";
/// The acknowledge-link key the fixtures store.
pub const FIXTURE_ACK_KEY: &str = "fixture-ack-key";
/// A channel made through the API (a console object), next to the config's [`FIXTURE_CHANNEL`].
pub const FIXTURE_API_CHANNEL: &str = "api-hook";
/// The link token of a confirmed email subscriber (`FIXTURE_SUBSCRIBER`).
pub const FIXTURE_SUBSCRIBER_TOKEN: &str = "subscriber-token-fixture";
pub const FIXTURE_SUBSCRIBER: &str = "sub0fixture0";
/// The master key the world's vault seals with (64 hex characters).
pub const FIXTURE_MASTER_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub fn fixture_master_key() -> MasterKey {
    MasterKey::from_hex(FIXTURE_MASTER_KEY).unwrap()
}

/// A valid acknowledge token for [`FIXTURE_ALERT`].
pub fn fixture_ack_token() -> String {
    let expires = Timestamp::now().checked_add(jiff::SignedDuration::from_hours(24)).unwrap();
    belfry_core::alert::ack::sign(FIXTURE_ACK_KEY.as_bytes(), FIXTURE_ALERT, expires)
}

fn spec(monitor: &str, component: Option<&str>, check: CheckSpec, impact: OutageImpact) -> MonitorSpec {
    MonitorSpec {
        id: id(monitor),
        name: format!("{monitor} monitor"),
        component: component.map(id),
        check,
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        conditions: Vec::new(),
        degraded_when: Vec::new(),
        policy: Policy::default(),
        impact,
        paused: false,
        incident: None,
        depends_on: Vec::new(),
        tags: Vec::new(),
        regions: None,
    }
}

fn http(url: &str) -> CheckSpec {
    CheckSpec::Http(HttpCheck {
        url: url.to_owned(),
        method: "GET".to_owned(),
        headers: Vec::new(),
        body: None,
        follow_redirects: false,
        max_redirects: 0,
        verify_tls: true,
        max_body_bytes: 64 * 1024,
    })
}

fn component(raw: &str, name: &str, group: Option<&str>) -> Component {
    Component {
        id: id(raw),
        name: name.to_owned(),
        description: None,
        group: group.map(str::to_owned),
        incident: None,
    }
}

/// Components: `api` and `db` in group "Platform", `web`, and `docs` (no monitors).
/// Monitors: `api-http` → api (major), `db-tcp` → db (partial; tags `db`, `team:payments`),
/// `web-http` → web, `backup` (heartbeat, no component). All up since an hour ago.
pub fn catalog() -> Catalog {
    let heartbeat = CheckSpec::Heartbeat(HeartbeatCheck {
        token: PUSH_TOKEN.to_owned(),
        expect_every: Duration::from_secs(3600),
        grace: Duration::from_secs(60),
    });
    let tcp = CheckSpec::Tcp(TcpCheck { host: "127.0.0.1".to_owned(), port: 5432, send: None, expect: None });
    Catalog {
        page: PageSettings {
            title: "Acme Status".to_owned(),
            description: None,
            time_zone: "America/New_York".to_owned(),
            public_url: Some("https://status.acme.test".to_owned()),
            logo_url: None,
        },
        components: vec![
            component("api", "Internal API", Some("Platform")),
            component("web", "Website", None),
            component("db", "Database", Some("Platform")),
            component("docs", "Docs", None),
        ],
        monitors: vec![
            spec("api-http", Some("api"), http("http://10.0.0.1/health"), OutageImpact::MajorOutage),
            MonitorSpec {
                tags: vec!["db".to_owned(), "team:payments".to_owned()],
                ..spec("db-tcp", Some("db"), tcp, OutageImpact::PartialOutage)
            },
            spec("web-http", Some("web"), http("http://10.0.0.2/"), OutageImpact::MajorOutage),
            spec("backup", None, heartbeat, OutageImpact::MajorOutage),
        ]
        .into_iter()
        .map(std::sync::Arc::new)
        .collect(),
        connectivity: None,
        alerting: belfry_core::alert::Alerting {
            channels: vec![belfry_core::channel::ChannelSpec {
                id: id(FIXTURE_CHANNEL),
                kind: belfry_core::channel::ChannelKind::Webhook(belfry_core::channel::WebhookSettings {
                    url: "https://hooks.example.test/belfry".to_owned(),
                    secret: Some(belfry_core::channel::Secret::new("whsec-fixture")),
                    headers: vec![],
                }),
            }],
            subscribers: Some(belfry_core::subscriber::SubscriberSettings {
                email_channel: id("ops-mail"),
                webhooks: true,
                rate_limit_per_hour: 5,
            }),
            ..Default::default()
        },
    }
}

pub struct World {
    pub state: WebState,
    pub store: Arc<FakeStore>,
    pub runtime: Arc<FakeRuntime>,
    pub clock: Arc<FakeClock>,
}

impl World {
    pub fn new() -> Self {
        let catalog = catalog();
        let states = catalog
            .monitors
            .iter()
            .map(|m| LiveState {
                monitor: m.id.clone(),
                state: MonitorState::Up,
                since: minutes_ago(60),
                flapping: false,
            })
            .collect();
        let runtime = Arc::new(FakeRuntime {
            catalog: Mutex::new(Arc::new(catalog)),
            states: Mutex::new(states),
            pushes: Mutex::default(),
            reload_errors: Mutex::default(),
            reloads: Mutex::default(),
            readiness: Mutex::new(Readiness {
                scheduler_running: true,
                schedule_lag: Duration::from_millis(12),
            }),
            console_objects: Mutex::default(),
            console_errors: Mutex::default(),
            runs: Mutex::default(),
            run_results: Mutex::default(),
            probes: Arc::default(),
        });
        let store = Arc::new(FakeStore::default());
        let tokens = [Scope::Read, Scope::Write, Scope::Admin, Scope::Probe].map(|scope| ApiToken {
            id: format!("tok-{}", scope.as_str()),
            scope,
            hash: hash_secret(&secret(scope)),
            created_at: minutes_ago(600),
        });
        store.tokens.lock().unwrap().extend(tokens);
        let clock = Arc::new(FakeClock(Mutex::new(now())));
        let state = WebState {
            store: store.clone(),
            incidents: store.clone(),
            alerts: store.clone(),
            subscribers: store.clone(),
            admin: store.clone(),
            vault: Vault::new(fixture_master_key(), store.clone()),
            runtime: runtime.clone(),
            clock: clock.clone(),
        };
        Self { state, store, runtime, clock }
    }

    /// The world plus [`FIXTURE_INCIDENT`] and [`FIXTURE_MAINTENANCE`].
    pub fn with_fixtures() -> Self {
        let world = Self::new();
        let mut components = AffectedComponents::new();
        components.insert(id("api"), ComponentStatus::PartialOutage);
        let first = NewUpdate {
            id: FIXTURE_UPDATE.to_owned(),
            status: IncidentStatus::Investigating,
            body: "Errors on the API".to_owned(),
            author: "token:tok-write".to_owned(),
            notify: true,
            components,
            impact: None,
            display_at: None,
        };
        let (mut incident, timeline) = Incident::open(
            FIXTURE_INCIDENT.to_owned(),
            "API errors".to_owned(),
            Impact::Major,
            first,
            None,
            true,
            minutes_ago(30),
        )
        .unwrap();
        incident.version = 1;
        world.store.incidents.lock().unwrap().insert(incident.id.clone(), incident);
        let event = belfry_core::alert::Event {
            kind: belfry_core::alert::EventKind::Down,
            at: minutes_ago(5),
            monitor: Some(id("api-http")),
            component: Some(id("api")),
            incident: None,
            title: "Internal API is down".to_owned(),
            reason: Some("[STATUS] (503) == 200".to_owned()),
            failing_conditions: vec![],
            tags: vec![],
        };
        let escalation = belfry_core::alert::Escalation {
            id: "default".to_owned(),
            repeat: 1,
            steps: vec![belfry_core::alert::EscalationStep {
                after: std::time::Duration::ZERO,
                notify: vec![],
            }],
            round: None,
            renotify: None,
        };
        let alert =
            belfry_core::alert::Alert::open(FIXTURE_ALERT.to_owned(), &escalation, event, minutes_ago(5));
        world.store.alerts.lock().unwrap().insert(alert.id.clone(), alert);
        world.runtime.console_objects.lock().unwrap().push(belfry_core::ConsoleObject {
            section: belfry_core::Section::Channels,
            id: FIXTURE_API_CHANNEL.to_owned(),
            yaml: r#"{"id": "api-hook", "kind": "webhook", "url": "https://hooks.example.test/api"}"#
                .to_owned(),
        });
        let sealed = fixture_master_key().seal("ack_key", FIXTURE_ACK_KEY.as_bytes()).unwrap();
        world.store.vault.lock().unwrap().insert("ack_key".to_owned(), sealed);
        world.store.subscribers.lock().unwrap().push(belfry_core::subscriber::Subscriber {
            id: FIXTURE_SUBSCRIBER.to_owned(),
            kind: belfry_core::subscriber::SubscriberKind::Email { address: "fan@example.test".to_owned() },
            components: vec![],
            confirmed_at: Some(minutes_ago(60)),
            created_at: minutes_ago(61),
            token: FIXTURE_SUBSCRIBER_TOKEN.to_owned(),
        });
        world.store.timeline.lock().unwrap().extend(timeline);
        let maintenance = Maintenance {
            id: FIXTURE_MAINTENANCE.to_owned(),
            name: "DB upgrade".to_owned(),
            description: "Upgrading the database".to_owned(),
            components: vec![id("db")],
            starts_at: "2024-06-02T02:00:00Z".parse().unwrap(),
            ends_at: "2024-06-02T03:00:00Z".parse().unwrap(),
            rrule: None,
            time_zone: "America/New_York".to_owned(),
            count_downtime: false,
            manual: None,
            created_at: minutes_ago(600),
            updated_at: minutes_ago(600),
            version: 1,
        };
        world.store.maintenances.lock().unwrap().insert(maintenance.id.clone(), maintenance);
        world
    }

    pub fn app(&self) -> Router {
        router(self.state.clone())
    }

    /// Sends one request through a fresh router, dropped before the body is read (so an
    /// event stream ends once it has said what it had).
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let response = self.app().oneshot(req).await.expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes();
        Reply { status, headers, body }
    }

    /// Records a day (or hour) rollup of `monitor` starting at `start`.
    pub fn rollup(
        &self,
        monitor: &str,
        resolution: Resolution,
        start: &str,
        checks: u32,
        downtime_s: u32,
        avg_ms: f64,
    ) {
        self.store.rollups.lock().unwrap().push(Rollup {
            monitor: id(monitor),
            resolution,
            start: start.parse().unwrap(),
            checks,
            failures: u32::from(downtime_s > 0),
            downtime_s,
            latency_min_ms: avg_ms as u64,
            latency_avg_ms: avg_ms,
            latency_max_ms: avg_ms as u64,
            latency_p95_ms: avg_ms as u64,
        });
    }

    /// Records one check result of `monitor` from `region`.
    pub fn result(&self, monitor: &str, region: &str, at: Timestamp, ok: bool, duration_ms: u64) {
        let json = serde_json::json!({
            "monitor": monitor, "region": region, "at": at, "ok": ok, "duration_ms": duration_ms,
        });
        self.store.results.lock().unwrap().push(serde_json::from_value(json).expect("a check result"));
    }
}

/// Sends one request through `app` (clones of one router share its page cache).
pub async fn send_via(app: &Router, req: Request<Body>) -> Reply {
    let response = app.clone().oneshot(req).await.expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    Reply { status, headers, body }
}

impl World {
    pub async fn get(&self, path: &str) -> Reply {
        self.send(request(Method::GET, path, None)).await
    }

    pub async fn get_as(&self, path: &str, scope: Scope) -> Reply {
        self.send(request(Method::GET, path, Some(&secret(scope)))).await
    }

    /// Sends a JSON body with the given method as a token of `scope`.
    pub async fn send_json(&self, method: Method, path: &str, scope: Scope, body: &Value) -> Reply {
        self.send(json_request(method, path, Some(&secret(scope)), body)).await
    }

    /// `POST` a JSON body with a write token.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send_json(Method::POST, path, Scope::Write, &body).await
    }
}

pub fn json_request(method: Method, path: &str, bearer: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder =
        Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(secret) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {secret}"));
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

pub fn request(method: Method, path: &str, bearer: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(secret) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {secret}"));
    }
    builder.body(Body::empty()).unwrap()
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the API error shape and returns its code.
    pub fn error_code(&self) -> String {
        let json = self.json();
        let error = json.get("error").unwrap_or_else(|| panic!("no `error` in {json}"));
        assert!(error["message"].is_string(), "error without message: {json}");
        error["code"].as_str().expect("error code").to_owned()
    }

    /// Object keys, sorted, for shape assertions.
    pub fn keys(value: &Value) -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().expect("an object").keys().cloned().collect();
        keys.sort();
        keys
    }
}

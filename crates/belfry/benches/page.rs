//! Status page throughput (DESIGN.md §4): wrk at 50 connections against a minimal hyper "hello"
//! server and the real `belfry serve` (`/` and `/api/v2/summary.json`) in the same run, then the
//! same two while changes arrive 100 times per second (incident updates edited through the API
//! and the monitors' target flipping between 200 and 500). Prints requests/s, p50 and p99 for
//! each, the ratio to hello (measured right before each row, and the fastest hello run of the
//! whole run as a stricter reading), and whether the bars (≥ 50 % of hello's requests/s, p99 <
//! 10 ms) are met.
//!
//! `cargo bench -p belfry --bench page -- [--seconds 10]` (`scripts/bench-page` installs wrk
//! first). Needs `wrk` on PATH. Loopback only; every loop is bounded by the run's duration.

#[path = "../tests/it/support.rs"]
#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use support::{Server, Target, get_json, send_json};

/// Components per group, and the groups: 3 × 5 = 15 components, one HTTP monitor each.
const GROUPS: [&str; 3] = ["Platform", "Customer apps", "Data"];
const PER_GROUP: usize = 5;
/// Changes per second in the "under changes" passes.
const CHANGE_RATE: u64 = 100;
/// Open incidents whose updates the change driver edits in turn.
const INCIDENTS: usize = 16;
/// The bars of DESIGN.md §4.
const BAR_RATIO: f64 = 0.5;
const BAR_P99_MS: f64 = 10.0;

struct Args {
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args { seconds: 10 };
    let raw: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < raw.len() {
        let value = raw.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match (raw[i].as_str(), value) {
            ("--seconds", Some(v)) => a.seconds = v.max(1),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

/// The minimal hyper server every figure is compared with: HTTP/1.1, a fixed 13-byte body.
async fn hello() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let service = service_fn(|_req| async {
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "text/plain")
                            .body(Full::new(Bytes::from_static(b"Hello, World!")))
                            .unwrap(),
                    )
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    addr
}

fn config(target: &Target) -> String {
    let mut yaml = String::from(
        "page: {title: Bench Status, time_zone: Europe/London, description: \"Benchmark page\"}\n\
         storage: {retention: 1d}\ncomponents:\n",
    );
    for (g, group) in GROUPS.iter().enumerate() {
        for c in 0..PER_GROUP {
            writeln!(yaml, "  - {{id: c{g}{c}, name: \"{group} service {c}\", group: \"{group}\"}}").unwrap();
        }
    }
    yaml.push_str("monitors:\n");
    for g in 0..GROUPS.len() {
        for c in 0..PER_GROUP {
            writeln!(
                yaml,
                "  - {{id: m{g}{c}, kind: http, component: c{g}{c}, url: \"{}\", interval: 1s, timeout: 2s, \
                 failure: {{threshold: 1}}, recovery: {{threshold: 1}}}}",
                target.url(&format!("/m{g}{c}"))
            )
            .unwrap();
        }
    }
    yaml
}

fn token(dir: &Path, config: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_belfry"))
        .args(["token", "create", "--scope", "write", "--config", config, "--data", "data"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "belfry token create: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// One GET with optional `Accept-Encoding`: status, `Content-Encoding` and body size.
async fn probe(url: &str, encoding: Option<&str>) -> (u16, String, usize) {
    let uri: hyper::Uri = url.parse().unwrap();
    let authority = uri.authority().unwrap().to_string();
    let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut req = hyper::Request::get(uri.path()).header("host", authority);
    if let Some(e) = encoding {
        req = req.header("accept-encoding", e);
    }
    let resp = sender.send_request(req.body(Full::new(Bytes::new())).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let enc =
        resp.headers().get("content-encoding").and_then(|v| v.to_str().ok()).unwrap_or("identity").to_owned();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, enc, body.len())
}

/// What one wrk run measured.
struct Wrk {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
    socket_errors: String,
}

fn millis(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

fn parse_wrk(out: &str) -> Option<Wrk> {
    let line = |prefix: &str| out.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix).map(str::trim));
    let rps = line("Requests/sec:")?.parse().ok()?;
    let p50_ms = millis(line("50%")?)?;
    let p99_ms = millis(line("99%")?)?;
    let requests = out
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let non_2xx = line("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0);
    let socket_errors = line("Socket errors:").unwrap_or("none").to_owned();
    Some(Wrk { rps, p50_ms, p99_ms, requests, non_2xx, socket_errors })
}

fn wrk(url: &str, seconds: u64, gzip: bool) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c50", &format!("-d{seconds}s"), "--timeout", "5s", "--latency"]);
    if gzip {
        cmd.args(["-H", "Accept-Encoding: gzip"]);
    }
    let out = cmd.arg(url).output().expect("wrk runs (scripts/bench-page installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    parse_wrk(&text).unwrap_or_else(|| panic!("could not read wrk's output:\n{text}"))
}

/// Counters of the change driver.
struct Churn {
    offered: AtomicU64,
    accepted: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    flips: AtomicU64,
    /// Per incident: an edit of it is in flight (edits of one incident are serial: concurrent
    /// ones would rightly be refused as conflicting).
    busy: Vec<AtomicBool>,
    /// Per incident: the text of its last accepted edit.
    last: Mutex<Vec<String>>,
    /// Each failing status once, with the first answer seen for it.
    failures: Mutex<BTreeMap<u16, String>>,
    /// How long each edit took to be answered (the API answers once the rebuilt page is out), ms.
    latencies: Mutex<Vec<f64>>,
}

impl Churn {
    fn new(incidents: usize) -> Self {
        Self {
            offered: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            flips: AtomicU64::new(0),
            busy: (0..incidents).map(|_| AtomicBool::new(false)).collect(),
            last: Mutex::new(vec![String::new(); incidents]),
            failures: Mutex::default(),
            latencies: Mutex::default(),
        }
    }
}

/// For `duration`, 100 times a second: flips the monitors' target between 200 and 500, and
/// edits an incident update through the API, the incidents in turn (each edit is a change of
/// `/` and summary.json; the API answers once the rebuilt page is out).
async fn churn(
    base: String,
    token: String,
    incidents: Vec<(String, String)>,
    target: Arc<Target>,
    duration: Duration,
    counters: Arc<Churn>,
) {
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / CHANGE_RATE));
    let end = Instant::now() + duration;
    let mut n: u64 = 0;
    while Instant::now() < end {
        tick.tick().await;
        let slot = (n % incidents.len() as u64) as usize;
        n += 1;
        let flip = counters.flips.fetch_add(1, Ordering::Relaxed);
        target.set_status(if flip.is_multiple_of(2) { 500 } else { 200 });
        counters.offered.fetch_add(1, Ordering::Relaxed);
        if counters.busy[slot].swap(true, Ordering::AcqRel) {
            counters.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let (incident, update) = &incidents[slot];
        let url = format!("{base}/api/v1/incidents/{incident}/updates/{update}");
        let text = format!("Still investigating: edit {n}.");
        let (token, c) = (token.clone(), counters.clone());
        tokio::spawn(async move {
            let sent = Instant::now();
            let (status, reply) = send_json("PATCH", &url, Some(&token), &json!({ "body": text })).await;
            if status == 200 {
                c.accepted.fetch_add(1, Ordering::Relaxed);
                c.latencies.lock().unwrap().push(sent.elapsed().as_secs_f64() * 1000.0);
                c.last.lock().unwrap()[slot] = text;
            } else {
                c.failed.fetch_add(1, Ordering::Relaxed);
                c.failures.lock().unwrap().entry(status).or_insert_with(|| reply.to_string());
            }
            c.busy[slot].store(false, Ordering::Release);
        });
    }
    // Let the last edits land (bounded).
    let drain = Instant::now() + Duration::from_secs(10);
    while counters.busy.iter().any(|b| b.load(Ordering::Acquire)) && Instant::now() < drain {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    target.set_status(200);
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Row {
    name: String,
    w: Wrk,
    /// Hello's requests/s measured right before this row (`None` for hello's own rows).
    next_to: Option<f64>,
}

/// Prints the table; returns whether every bar is met against the hello run next to each row,
/// and whether it is against the fastest hello run of the whole run (the stricter reading).
fn print_table(rows: &[Row]) -> (bool, bool) {
    let best = rows.iter().filter(|r| r.next_to.is_none()).map(|r| r.w.rps).fold(0.0_f64, f64::max);
    println!(
        "{:<44} {:>9} {:>8} {:>8} {:>10} {:>8} {:>8}  {:<4} {:<6}",
        "target", "req/s", "p50 ms", "p99 ms", "hello next", "vs next", "vs best", "≥50%", "p99<10"
    );
    let (mut adjacent, mut strict) = (true, true);
    let yes = |ok: bool| if ok { "yes" } else { "NO" };
    for r in rows {
        let ok_p99 = r.w.p99_ms < BAR_P99_MS;
        let (hello, vs_next, vs_best, ok_ratio) = match r.next_to {
            Some(h) => {
                let (near, far) = (r.w.rps / h, r.w.rps / best);
                adjacent &= near >= BAR_RATIO && ok_p99;
                strict &= far >= BAR_RATIO && ok_p99;
                (
                    format!("{h:.0}"),
                    format!("{:.1} %", 100.0 * near),
                    format!("{:.1} %", 100.0 * far),
                    yes(near >= BAR_RATIO),
                )
            }
            None => ("—".to_owned(), "—".to_owned(), "—".to_owned(), ""),
        };
        println!(
            "{:<44} {:>9.0} {:>8.2} {:>8.2} {:>10} {:>8} {:>8}  {:<4} {:<6}",
            r.name,
            r.w.rps,
            r.w.p50_ms,
            r.w.p99_ms,
            hello,
            vs_next,
            vs_best,
            ok_ratio,
            if r.next_to.is_some() { yes(ok_p99) } else { "" }
        );
        if r.w.non_2xx > 0 || r.w.socket_errors != "none" {
            println!(
                "{:<44} !! {} non-2xx of {} requests; socket errors: {}",
                "", r.w.non_2xx, r.w.requests, r.w.socket_errors
            );
        }
    }
    (adjacent, strict)
}

fn main() {
    let a = args();
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "wrk is not installed: run scripts/bench-page (apt-get install wrk)"
    );
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let hello_addr = rt.block_on(hello());
    let target = Arc::new(rt.block_on(Target::start()));

    let dir = tempfile::tempdir().unwrap();
    let cfg = support::write(dir.path(), "belfry.yaml", &config(&target));
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let write_token = token(dir.path(), &cfg);

    // Everything up, then open incidents with a few updates each, as the page would show them.
    let incidents: Vec<(String, String)> = rt.block_on(async {
        support::eventually("all monitors up", Duration::from_secs(30), || async {
            let (_, s) = get_json(&server.url("/api/v2/summary.json"), None).await;
            let comps = s["components"].as_array()?;
            let up = comps.iter().filter(|c| c["status"] == "operational" && c["group"] == false).count();
            (s["status"]["indicator"] == "none" && up == GROUPS.len() * PER_GROUP).then_some(())
        })
        .await;
        let mut incidents = Vec::new();
        for i in 0..INCIDENTS {
            let (status, doc) = send_json(
                "POST",
                &server.url("/api/v1/incidents"),
                Some(&write_token),
                &json!({"name": format!("Slow logins in region {i}"), "status": "investigating", "impact": "minor",
                        "notify": false, "body": "Some sign-ins take longer than usual; we are **looking** into it.",
                        "components": {format!("c{}{}", i % GROUPS.len(), i % PER_GROUP): "degraded_performance"}}),
            )
            .await;
            assert_eq!(status, 201, "incident created: {doc}");
            let id = doc["id"].as_str().unwrap().to_owned();
            for (state, body) in [("identified", "A cache node is overloaded."), ("monitoring", "Fix deployed.")] {
                let (status, doc) = send_json(
                    "POST",
                    &server.url(&format!("/api/v1/incidents/{id}/updates")),
                    Some(&write_token),
                    &json!({"status": state, "body": body, "notify": false}),
                )
                .await;
                assert!(status == 200 || status == 201, "update posted: {status} {doc}");
            }
            let (_, doc) = get_json(&server.url(&format!("/api/v1/incidents/{id}")), Some(&write_token)).await;
            let updates = doc["incident_updates"].as_array().expect("incident_updates");
            let first = updates.last().unwrap()["id"].as_str().unwrap().to_owned();
            incidents.push((id, first));
        }
        incidents
    });

    let hello_url = format!("http://{hello_addr}/");
    let page_url = server.url("/");
    let summary_url = server.url("/api/v2/summary.json");
    println!(
        "belfry serve: {} components in {} groups, {} monitors (1 s), {INCIDENTS} open incidents; wrk -t2 -c50 -d{}s --latency",
        GROUPS.len() * PER_GROUP,
        GROUPS.len(),
        GROUPS.len() * PER_GROUP,
        a.seconds
    );
    println!("load average before: {} (other work on this machine skews every figure)", loadavg());
    rt.block_on(async {
        for (name, url) in [("hello", &hello_url), ("/", &page_url), ("summary.json", &summary_url)] {
            let (s, _, plain) = probe(url, None).await;
            let (sg, enc, zipped) = probe(url, Some("gzip")).await;
            assert!(s == 200 && sg == 200, "{url} answers 200 ({s}, {sg})");
            println!("  {name:<13} {plain:>7} bytes; with Accept-Encoding: gzip {zipped:>6} bytes ({enc})");
        }
    });
    println!();

    // Other work on the machine comes and goes: hello is measured right before every row, and
    // each row is compared with that run (like with like) and with the fastest hello run.
    let mut rows = Vec::new();
    let hello_run = |rows: &mut Vec<Row>| {
        let h = wrk(&hello_url, a.seconds, false);
        let rps = h.rps;
        rows.push(Row { name: "hello (hyper, same run)".into(), w: h, next_to: None });
        rps
    };
    for (name, url, gzip) in [
        ("belfry /", &page_url, false),
        ("belfry /api/v2/summary.json", &summary_url, false),
        ("belfry / (gzip)", &page_url, true),
        ("belfry /api/v2/summary.json (gzip)", &summary_url, true),
    ] {
        let hello = hello_run(&mut rows);
        rows.push(Row { name: name.into(), w: wrk(url, a.seconds, gzip), next_to: Some(hello) });
    }

    let mut churn_notes = Vec::new();
    for (name, url) in [
        ("belfry / + 100 changes/s", &page_url),
        ("belfry /api/v2/summary.json + 100 changes/s", &summary_url),
    ] {
        let hello = hello_run(&mut rows);
        let counters = Arc::new(Churn::new(incidents.len()));
        let driver = rt.spawn(churn(
            server.base.clone(),
            write_token.clone(),
            incidents.clone(),
            target.clone(),
            Duration::from_secs(a.seconds),
            counters.clone(),
        ));
        let w = wrk(url, a.seconds, false);
        rt.block_on(driver).unwrap();
        let shown = rt.block_on(async {
            let (_, s) = get_json(&summary_url, None).await;
            let s = s.to_string();
            counters.last.lock().unwrap().iter().all(|t| t.is_empty() || s.contains(t.as_str()))
        });
        let c = |v: &AtomicU64| v.load(Ordering::Relaxed);
        let mut took = std::mem::take(&mut *counters.latencies.lock().unwrap());
        took.sort_by(f64::total_cmp);
        let pct = |q: f64| took.get(((took.len() as f64 * q) as usize).min(took.len().saturating_sub(1)));
        churn_notes.push(format!(
            "{name}: {} ticks ({:.0}/s): {} target flips, {} API edits accepted ({:.0}/s), {} failed, {} skipped \
             (previous edit of that incident still in flight); edit answered in p50 {:.0} ms, p99 {:.0} ms; \
             last accepted edits in summary.json: {}",
            c(&counters.offered),
            c(&counters.offered) as f64 / a.seconds as f64,
            c(&counters.flips),
            c(&counters.accepted),
            c(&counters.accepted) as f64 / a.seconds as f64,
            c(&counters.failed),
            c(&counters.skipped),
            pct(0.5).copied().unwrap_or(f64::NAN),
            pct(0.99).copied().unwrap_or(f64::NAN),
            if shown { "yes" } else { "NO" },
        ));
        for (status, reply) in counters.failures.lock().unwrap().iter() {
            churn_notes.push(format!("  edits answered {status}: {reply}"));
        }
        rows.push(Row { name: name.into(), w, next_to: Some(hello) });
    }

    let (all, strict) = print_table(&rows);
    println!();
    for note in churn_notes {
        println!("{note}");
    }
    let met = |ok: bool| if ok { "all met" } else { "NOT all met" };
    println!(
        "\nbars (DESIGN.md §4: ≥ {:.0} % of hello's requests/s and p99 < {BAR_P99_MS} ms at 50 connections): \
         {} against the hello run next to each row; {} against the fastest hello run",
        100.0 * BAR_RATIO,
        met(all),
        met(strict)
    );
    println!("load average after: {}", loadavg());
    println!(
        "note: wrk, belfry and hello share this machine's {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    drop(server);
}

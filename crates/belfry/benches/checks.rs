//! Check throughput (DESIGN.md §4): N HTTP monitors against a local nginx, a fresh connection
//! per check. Prints checks/s achieved vs configured, schedule lag p50/p99 and peak RSS.
//!
//! `cargo bench -p belfry --bench checks -- [--monitors 20000] [--interval 10] [--seconds 60]
//! [--store-url postgres://user@host/db]`
//! (`scripts/bench-checks` installs nginx first). Needs `nginx` on PATH or in /usr/sbin.

#[path = "../tests/it/support.rs"]
#[allow(dead_code)]
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Server, request_text};

struct Args {
    monitors: usize,
    interval_s: u64,
    seconds: u64,
    warmup_s: u64,
    /// `--store-url postgres://…`: the store to write to (default: SQLite in the data dir).
    store_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args { monitors: 20_000, interval_s: 10, seconds: 60, warmup_s: 20, store_url: None };
    let raw: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < raw.len() {
        if raw[i] == "--store-url"
            && let Some(url) = raw.get(i + 1)
        {
            a.store_url = Some(url.clone());
            i += 2;
            continue;
        }
        let value = raw.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match (raw[i].as_str(), value) {
            ("--monitors", Some(v)) => a.monitors = v as usize,
            ("--interval", Some(v)) => a.interval_s = v,
            ("--seconds", Some(v)) => a.seconds = v,
            ("--warmup", Some(v)) => a.warmup_s = v,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn nginx_binary() -> Option<String> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map(str::to_owned)
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_nginx(dir: &Path, port: u16) -> Nginx {
    let bin = nginx_binary().expect("nginx is not installed: run scripts/bench-checks");
    let conf = format!(
        "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 16384; }}\n\
         http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};\n\
         uwsgi_temp_path {d}; scgi_temp_path {d};\n\
         server {{ listen 127.0.0.1:{port}; location / {{ default_type application/json; return 200 '{{\"status\":\"ok\"}}'; }} }} }}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(bin)
        .args(["-p", &dir.display().to_string(), "-c", &dir.join("nginx.conf").display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Nginx(child)
}

/// Sum of every sample of `name` (all label sets) in a Prometheus text exposition.
fn metric_sum(text: &str, name: &str, label_filter: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']) && l.contains(label_filter)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Cumulative bucket counts of an unlabelled histogram: (upper bound s, count).
fn buckets(text: &str, name: &str) -> Vec<(f64, f64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, count.parse().ok()?))
        })
        .collect()
}

/// The quantile's upper bucket bound from the difference of two cumulative histograms.
fn quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> f64 {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, c)| (*le, c - before.iter().find(|(b, _)| b == le).map_or(0.0, |(_, c)| *c)))
        .collect();
    let total = delta.last().map_or(0.0, |(_, c)| *c);
    delta.iter().find(|(_, c)| *c >= q * total).map_or(f64::NAN, |(le, _)| *le)
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let port = support::closed_port();
    let _nginx = start_nginx(dir.path(), port);

    let mut yaml = match &a.store_url {
        Some(url) => format!("storage: {{retention: 1d, url: \"{url}\", max_connections: 16}}\nmonitors:\n"),
        None => String::from("storage: {retention: 1d}\nmonitors:\n"),
    };
    for i in 0..a.monitors {
        writeln!(
            yaml,
            "  - {{id: m{i}, kind: http, url: \"http://127.0.0.1:{port}/m{i}\", interval: {}s, timeout: 5s}}",
            a.interval_s
        )
        .unwrap();
    }
    let cfg = support::write(dir.path(), "bench.yaml", &yaml);
    let started = Instant::now();
    let server = Server::start(dir.path(), &["--config", &cfg, "--data", "data"]);
    let pid = server.child.id();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let scrape = || rt.block_on(request_text("GET", &server.url("/metrics"), None)).1;
    let ready = rt.block_on(async {
        loop {
            if request_text("GET", &server.url("/readyz"), None).await.0 == 200 {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    println!("belfry ready in {:.0} ms with {} monitors", ready.as_secs_f64() * 1000.0, a.monitors);

    std::thread::sleep(Duration::from_secs(a.warmup_s));
    let m0 = scrape();
    let t0 = Instant::now();
    let mut window_p99_max: f64 = 0.0;
    while t0.elapsed() < Duration::from_secs(a.seconds) {
        std::thread::sleep(Duration::from_secs(5));
        let m = scrape();
        window_p99_max = window_p99_max.max(metric_sum(&m, "belfry_schedule_lag_p99_seconds", ""));
    }
    let m1 = scrape();
    let elapsed = t0.elapsed().as_secs_f64();

    let checks = metric_sum(&m1, "belfry_checks_total", "") - metric_sum(&m0, "belfry_checks_total", "");
    let failed = metric_sum(&m1, "belfry_checks_total", "result=\"fail\"")
        - metric_sum(&m0, "belfry_checks_total", "result=\"fail\"");
    let lag0 = buckets(&m0, "belfry_schedule_lag_seconds");
    let lag1 = buckets(&m1, "belfry_schedule_lag_seconds");
    let configured = a.monitors as f64 / a.interval_s as f64;
    println!("window          {elapsed:.1} s after {} s warm-up", a.warmup_s);
    println!(
        "checks/s        {:.0} achieved vs {configured:.0} configured ({:.1} %)",
        checks / elapsed,
        100.0 * checks / elapsed / configured
    );
    println!("failed checks   {failed:.0}");
    println!(
        "schedule lag    p50 <= {:.3} s, p99 <= {:.3} s (histogram bucket bounds)",
        quantile(&lag0, &lag1, 0.5),
        quantile(&lag0, &lag1, 0.99)
    );
    println!("lag p99 window  max {window_p99_max:.3} s (engine's rolling p99, sampled every 5 s)");
    println!(
        "RSS             peak {} MiB, now {} MiB",
        rss_kib(pid, "VmHWM") / 1024,
        rss_kib(pid, "VmRSS") / 1024
    );
    if let Some(url) = &a.store_url {
        println!("store           {url}");
        return;
    }
    let db = dir.path().join("data").join("belfry.db");
    let db_size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(db.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
    println!("store           {} MiB (db + wal)", db_size / (1024 * 1024));
}

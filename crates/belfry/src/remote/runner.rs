//! The probe's loop: a poller keeps the assignments current, a scheduler runs each assigned
//! monitor on its interval (at the same stable phase the server would use), and a pusher sends
//! the buffered results every second, backing off while the server is unreachable.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, bail};
use belfry_core::probe::{MAX_BATCH, ProbeMonitor};
use belfry_core::region::{LOCAL, check_region};
use belfry_core::{CheckResult, MonitorId};
use belfry_probe::Checkers;
use belfry_probe::engine::next_slot;
use jiff::Timestamp;
use tokio::sync::Semaphore;

use super::buffer::Buffer;
use super::client::{ClientError, Fetched, ServerClient};
use super::resolve::{self, Overrides};

/// Checks running at once, at most.
const CONCURRENCY: usize = 256;
/// How often buffered results are pushed while the server answers.
const PUSH_EVERY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts while the server is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The server's base URL, e.g. `https://status.acme.test`.
    pub server: String,
    /// A token of scope `probe`.
    pub token: String,
    pub region: String,
    /// How often the assignments are polled.
    pub poll: Duration,
    pub overrides: Overrides,
    /// Results kept at most while the server is unreachable.
    pub buffer: usize,
}

struct Scheduled {
    monitor: Arc<ProbeMonitor>,
    next_due: Timestamp,
    running: bool,
}

#[derive(Default)]
struct Monitors {
    version: Option<String>,
    by_id: HashMap<MonitorId, Scheduled>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs the probe until `shutdown` completes, then tries once more to push what is buffered.
pub async fn run(options: ProbeOptions, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    check_region(&options.region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    if options.region == LOCAL {
        bail!("--region: `{LOCAL}` is the server itself; name the probe's region (eu, us-east…)");
    }
    let url = url::Url::parse(&options.server).with_context(|| format!("--server {:?}", options.server))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("--server: expected an http:// or https:// URL, got {:?}", options.server);
    }
    let http = belfry_notify::HttpClient::new().map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = Arc::new(ServerClient::new(
        http.client().clone(),
        &options.server,
        &options.token,
        &options.region,
        options.poll,
    ));
    let monitors: Arc<Mutex<Monitors>> = Arc::default();
    let buffer = Arc::new(Mutex::new(Buffer::new(options.buffer)));
    tracing::info!(region = %options.region, server = %options.server, "probe started");

    let poller = tokio::spawn(poll_loop(client.clone(), monitors.clone(), options.clone()));
    let pusher = tokio::spawn(push_loop(client.clone(), buffer.clone()));
    let checkers = Checkers::new();
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<CheckResult>();
    tokio::pin!(shutdown);
    loop {
        let now = Timestamp::now();
        for monitor in take_due(&monitors, now) {
            let (checkers, limit, tx, region) =
                (checkers.clone(), limit.clone(), done_tx.clone(), options.region.clone());
            tokio::spawn(async move {
                let _permit = limit.acquire_owned().await.ok();
                let started = Timestamp::now();
                let obs = checkers.run(&monitor.check, monitor.timeout()).await;
                let result = CheckResult::judge(
                    monitor.id.clone(),
                    &region,
                    started,
                    &obs,
                    &monitor.conditions,
                    &monitor.degraded_when,
                );
                let _ = tx.send(result);
            });
        }
        while let Ok(result) = done_rx.try_recv() {
            if let Some(s) = lock(&monitors).by_id.get_mut(&result.monitor) {
                s.running = false;
            }
            lock(&buffer).push(result);
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    poller.abort();
    pusher.abort();
    let left = lock(&buffer).take(MAX_BATCH);
    if !left.is_empty() {
        let n = left.len();
        match tokio::time::timeout(Duration::from_secs(5), client.push(left)).await {
            Ok(Ok(())) => tracing::info!(results = n, "pushed the last results"),
            _ => tracing::warn!(results = n, "could not push the last results before stopping"),
        }
    }
    let dropped = lock(&buffer).dropped;
    if dropped > 0 {
        tracing::warn!(dropped, "results were dropped while the server was unreachable (buffer full)");
    }
    tracing::info!("probe stopped");
    Ok(())
}

/// Marks every due, idle monitor as running and returns it.
fn take_due(monitors: &Mutex<Monitors>, now: Timestamp) -> Vec<Arc<ProbeMonitor>> {
    let mut guard = lock(monitors);
    let mut due = vec![];
    for s in guard.by_id.values_mut() {
        if s.running || s.next_due > now {
            continue;
        }
        let interval = s.monitor.interval();
        let next = s.next_due.checked_add(interval).unwrap_or(now);
        s.next_due = if next > now { next } else { next_slot(s.monitor.id.as_str(), interval, now) };
        s.running = true;
        due.push(s.monitor.clone());
    }
    due
}

/// Polls the assignments every `poll`; a changed monitor keeps its schedule unless its
/// interval changed.
async fn poll_loop(client: Arc<ServerClient>, monitors: Arc<Mutex<Monitors>>, options: ProbeOptions) {
    let mut failing = false;
    loop {
        let version = lock(&monitors).version.clone();
        match client.assignments(version.as_deref()).await {
            Ok(Fetched::Unchanged) => failing = false,
            Ok(Fetched::Changed(assignments)) => {
                failing = false;
                let now = Timestamp::now();
                let mut guard = lock(&monitors);
                let mut old = std::mem::take(&mut guard.by_id);
                for mut monitor in assignments.monitors {
                    monitor.check = resolve::apply(&monitor.check, &options.overrides);
                    let monitor = Arc::new(monitor);
                    let scheduled = match old.remove(&monitor.id) {
                        Some(s) if s.monitor.interval() == monitor.interval() => Scheduled { monitor, ..s },
                        kept => Scheduled {
                            next_due: next_slot(monitor.id.as_str(), monitor.interval(), now),
                            running: kept.is_some_and(|s| s.running),
                            monitor,
                        },
                    };
                    guard.by_id.insert(scheduled.monitor.id.clone(), scheduled);
                }
                guard.version = Some(assignments.version);
                tracing::info!(monitors = guard.by_id.len(), "assignments updated");
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "fetching assignments failed; running the ones held and retrying");
                }
                failing = true;
            }
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// Pushes the buffer every second; while the server cannot be reached, waits longer each time
/// (up to [`MAX_BACKOFF`]). A batch the server refuses is dropped (it would be refused again).
async fn push_loop(client: Arc<ServerClient>, buffer: Arc<Mutex<Buffer>>) {
    let mut backoff = PUSH_EVERY;
    loop {
        tokio::time::sleep(backoff).await;
        loop {
            let batch = lock(&buffer).take(MAX_BATCH);
            if batch.is_empty() {
                break;
            }
            let n = batch.len();
            match client.push(batch).await {
                Ok(()) => {
                    if backoff > PUSH_EVERY {
                        tracing::info!("the server answers again; pushing the buffered results");
                    }
                    backoff = PUSH_EVERY;
                    if n < MAX_BATCH {
                        break;
                    }
                }
                Err((ClientError::Refused(status, message), _)) => {
                    tracing::error!(%status, %message, results = n, "the server refused a batch of results; dropped it");
                    break;
                }
                Err((e @ ClientError::Unavailable(_), batch)) => {
                    let mut b = lock(&buffer);
                    b.restore(batch);
                    if backoff == PUSH_EVERY {
                        tracing::warn!(error = %e, buffered = b.len(), "pushing results failed; buffering and retrying");
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    break;
                }
            }
        }
    }
}

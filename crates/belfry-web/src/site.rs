//! The public site held as precomputed bytes (P5): `/`, `/history`, incident and component
//! pages, `/api/v2/*.json`, feeds and badges. One background task per site rebuilds the whole
//! set when the [`ChangeFeed`] moves, at most once per [`MIN_GAP`] however many changes
//! arrive (single flight, bursts coalesce), and at least every [`MAX_AGE`] or at the next
//! maintenance boundary, whichever is sooner. Requests never build anything: they take the
//! current set and answer from its bytes.

mod model;
mod render;
mod uptime;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};
use std::time::Duration;

use belfry_core::StoreError;
use jiff::SignedDuration;
use tokio::sync::watch;
use tokio::time::Instant;

pub(crate) use model::{Model, Stats};
pub(crate) use render::{Links, NOT_FOUND_PATH, render_all, uptime_badge};
pub(crate) use uptime::{DayCell, percent, uptime};

use crate::cache::Entry;
use crate::changes::ChangeFeed;
use crate::error::ApiError;
use crate::state::WebState;

/// At most one rebuild per this long: 1,000 changes a second cause at most four rebuilds, and
/// a change still reaches every open page well within the 1 s bar.
pub(crate) const MIN_GAP: Duration = Duration::from_millis(250);
/// Rebuilt at least this often, so clock-driven text (today's bar, "in progress") stays true.
const MAX_AGE: Duration = Duration::from_secs(10);
/// After a failed rebuild (store down), the next try comes this soon.
const RETRY: Duration = Duration::from_secs(1);
/// Recorded check data (rollups, latest results) is re-read this often; live state is
/// applied on top at every rebuild.
const STATS_TTL: SignedDuration = SignedDuration::from_secs(30);
/// A writer waits at most this long for the site to show its write.
const WRITE_WAIT: Duration = Duration::from_secs(5);
/// A request waits at most this long for the very first build.
const FIRST_WAIT: Duration = Duration::from_secs(20);

/// The documents of one build, keyed by request path.
pub(crate) struct Built {
    /// The feed generation this build reflects (every change up to it is in).
    pub generation: u64,
    pub docs: HashMap<String, Arc<Entry>>,
    pub model: Model,
    /// Uptime badges are rendered on first request per build and kept with it.
    badges: Mutex<HashMap<(String, i64), Arc<Entry>>>,
}

impl Built {
    /// The document a GET of `path` is answered with, if the route table serves it from the
    /// cache (every key but the 404 page, which is only ever sent with status 404).
    pub fn public_doc(&self, path: &str) -> Option<&Arc<Entry>> {
        if path == NOT_FOUND_PATH {
            return None;
        }
        self.docs.get(path)
    }

    /// `/badge/{component}/uptime.svg?days=N`, rendered once per build and parameter.
    pub fn uptime_badge(&self, component: &str, days: i64) -> Option<Arc<Entry>> {
        self.model.page.snapshot.component(component)?;
        let mut badges = self.badges.lock().unwrap_or_else(|e| e.into_inner());
        let key = (component.to_owned(), days);
        let entry = badges.entry(key).or_insert_with(|| {
            Arc::new(Entry::new("image/svg+xml", uptime_badge(&self.model, component, days)))
        });
        Some(entry.clone())
    }
}

#[derive(Clone)]
pub(crate) enum Current {
    Pending,
    Ready(Arc<Built>),
    Failed(String),
}

pub(crate) struct Site {
    state: WebState,
    feed: ChangeFeed,
    current: watch::Sender<Current>,
    started: Once,
    rebuilds: AtomicU64,
    stats: Mutex<Arc<Stats>>,
}

impl Site {
    pub fn new(state: WebState, feed: ChangeFeed) -> Arc<Self> {
        Arc::new(Self {
            state,
            feed,
            current: watch::channel(Current::Pending).0,
            started: Once::new(),
            rebuilds: AtomicU64::new(0),
            stats: Mutex::new(Arc::new(Stats::default())),
        })
    }

    #[cfg(test)]
    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// How many times the set was rebuilt.
    #[cfg(test)]
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Relaxed)
    }

    /// The current set; waits for the first build.
    pub async fn current(self: &Arc<Self>) -> Result<Arc<Built>, ApiError> {
        if let Some(built) = self.ready() {
            return Ok(built);
        }
        self.start();
        let mut rx = self.current.subscribe();
        let waited = tokio::time::timeout(FIRST_WAIT, rx.wait_for(|c| !matches!(c, Current::Pending))).await;
        let current = match waited {
            Ok(Ok(current)) => current.clone(),
            _ => Current::Failed("the status page is still being built".to_owned()),
        };
        match current {
            Current::Ready(built) => Ok(built),
            Current::Failed(why) => Err(ApiError::Store(StoreError::Unavailable(why))),
            Current::Pending => Err(ApiError::Store(StoreError::Unavailable("not built yet".to_owned()))),
        }
    }

    /// The current set if one is out, without waiting or starting anything.
    pub fn ready(&self) -> Option<Arc<Built>> {
        match &*self.current.borrow() {
            Current::Ready(built) => Some(built.clone()),
            _ => None,
        }
    }

    /// Watches builds: yields each new set (the current one first).
    pub fn watch(self: &Arc<Self>) -> watch::Receiver<Current> {
        self.start();
        self.current.subscribe()
    }

    /// Marks the site stale and waits (bounded) until a build that includes the change is
    /// out, so a writer reads its own write on the next GET.
    pub async fn changed_and_wait(self: &Arc<Self>) {
        let generation = self.feed.notify();
        self.start();
        let mut rx = self.current.subscribe();
        let shown = rx.wait_for(|c| match c {
            Current::Ready(b) => b.generation >= generation,
            Current::Failed(_) => true,
            Current::Pending => false,
        });
        let _ = tokio::time::timeout(WRITE_WAIT, shown).await;
    }

    /// Starts the rebuild task once (needs a Tokio runtime: the first request brings one).
    fn start(self: &Arc<Self>) {
        self.started.call_once(|| {
            let weak = Arc::downgrade(self);
            let feed = self.feed.subscribe();
            tokio::spawn(run(weak, feed));
        });
    }

    /// Builds the whole set once and publishes it. Returns how long the set stays true.
    pub(crate) async fn rebuild(&self, generation: u64) -> Duration {
        let now = self.state.clock.now();
        match self.build(generation, now).await {
            Ok(built) => {
                let wait = built
                    .model
                    .next_boundary()
                    .and_then(|t| Duration::try_from(t.duration_since(now)).ok())
                    .map_or(MAX_AGE, |d| d.clamp(MIN_GAP, MAX_AGE));
                self.rebuilds.fetch_add(1, Ordering::Relaxed);
                self.current.send_replace(Current::Ready(Arc::new(built)));
                wait
            }
            Err(e) => {
                tracing::warn!(error = %e, "rebuilding the status page failed; the last good one stays");
                self.current.send_if_modified(|c| match c {
                    Current::Ready(_) => false,
                    _ => {
                        *c = Current::Failed(e.to_string());
                        true
                    }
                });
                RETRY
            }
        }
    }

    async fn build(&self, generation: u64, now: jiff::Timestamp) -> Result<Built, ApiError> {
        let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let stats = if stats.stale(now, STATS_TTL) {
            let fresh = Arc::new(Stats::load(&self.state, &Model::stats_monitors(&self.state), now).await?);
            *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
            fresh
        } else {
            stats
        };
        let model = Model::load(&self.state, stats).await?;
        let previous = match &*self.current.borrow() {
            Current::Ready(b) => Some(b.clone()),
            _ => None,
        };
        let docs = render_all(&model, Links::Live)
            .into_iter()
            .map(|doc| {
                let prev = previous.as_ref().and_then(|b| b.docs.get(&doc.path));
                let entry = Entry::reuse(prev, doc.content_type, doc.body);
                (doc.path, entry)
            })
            .collect();
        Ok(Built { generation, docs, model, badges: Mutex::default() })
    }
}

/// The single rebuild loop of a site; ends when the site is dropped.
async fn run(site: Weak<Site>, mut feed: watch::Receiver<u64>) {
    loop {
        let Some(strong) = site.upgrade() else { return };
        let generation = *feed.borrow_and_update();
        let started = Instant::now();
        let fresh_for = strong.rebuild(generation).await;
        drop(strong);
        tokio::select! {
            changed = feed.changed() => {
                if changed.is_err() {
                    // Nobody can poke any more: only the clock drives rebuilds.
                    tokio::time::sleep_until(started + fresh_for).await;
                }
            }
            () = tokio::time::sleep_until(started + fresh_for) => {}
        }
        // Coalesce: whatever arrived meanwhile is handled by the next single build.
        tokio::time::sleep_until(started + MIN_GAP).await;
    }
}

#[cfg(test)]
mod tests;

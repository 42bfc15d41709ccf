//! `GET /api/v1/stream`: server-sent events for open pages (P4). Each connection first gets
//! `retry: 1000` and a `hello`, then a `change` event (with the overall status as JSON)
//! whenever a rebuild changed what `/api/v2/summary.json` says. Events follow rebuilds, so a
//! page that refetches on an event always gets the new bytes. EventSource reconnects on its
//! own after a restart; the `hello` tells the page to refresh what it may have missed.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::watch;

use crate::site::{Current, Site};

/// How soon a browser reconnects after the stream drops.
const RETRY: Duration = Duration::from_secs(1);
/// A comment this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The document whose changes are pushed.
const WATCHED: &str = "/api/v2/summary.json";

struct Connection {
    rx: watch::Receiver<Current>,
    /// The ETag of the watched document last told (or seen at connect).
    last: Option<String>,
    greeted: bool,
}

/// What to tell about a build: the watched document's ETag and the status as JSON.
fn describe(current: &Current) -> Option<(String, String)> {
    let Current::Ready(built) = current else { return None };
    let etag = built.docs.get(WATCHED)?.etag().to_owned();
    let status = &built.model.page.snapshot.status;
    let data = serde_json::json!({"status": status, "etag": etag}).to_string();
    Some((etag, data))
}

/// `GET /api/v1/stream`
pub(crate) async fn stream(
    Extension(site): Extension<Arc<Site>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Holds only a receiver: the stream ends when the site (its router) is dropped.
    let connection = Connection { rx: site.watch(), last: None, greeted: false };
    drop(site);
    let events = futures_util::stream::unfold(connection, |mut c| async move {
        if !c.greeted {
            c.greeted = true;
            let current = describe(&c.rx.borrow_and_update());
            let data = current.as_ref().map_or_else(|| "{}".to_owned(), |(_, d)| d.clone());
            c.last = current.map(|(etag, _)| etag);
            return Some((Ok(Event::default().event("hello").retry(RETRY).data(data)), c));
        }
        loop {
            c.rx.changed().await.ok()?;
            let Some((etag, data)) = describe(&c.rx.borrow_and_update()) else { continue };
            if c.last.as_deref() != Some(etag.as_str()) {
                c.last = Some(etag);
                return Some((Ok(Event::default().event("change").data(data)), c));
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

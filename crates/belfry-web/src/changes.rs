//! The change feed: anything that may change what the public sees (an engine transition, an
//! incident or maintenance write, a config reload) pokes it; the page cache listens and
//! rebuilds once for any number of pokes (P5). Poking is cheap and never blocks.

use std::sync::Arc;

use tokio::sync::watch;

/// A counter of changes that can be poked from anywhere; clones share it.
#[derive(Clone, Debug)]
pub struct ChangeFeed {
    tx: Arc<watch::Sender<u64>>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        Self { tx: Arc::new(watch::channel(0).0) }
    }

    /// Something public may have changed. Returns the feed's new generation.
    pub fn notify(&self) -> u64 {
        let mut generation = 0;
        self.tx.send_modify(|n| {
            *n = n.wrapping_add(1);
            generation = *n;
        });
        generation
    }

    /// How many times [`ChangeFeed::notify`] was called.
    pub fn generation(&self) -> u64 {
        *self.tx.borrow()
    }

    /// A receiver that wakes after notifications (many coalesce into one wake-up).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

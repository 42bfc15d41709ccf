//! A token bucket per key (an address or a client IP), in memory: `limit` requests per hour,
//! refilled continuously. Good enough for one node; each node limits on its own.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::Timestamp;

/// Keys kept at most; beyond it, full (idle) buckets are forgotten first.
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct SubscribeLimits {
    buckets: Mutex<HashMap<String, (f64, Timestamp)>>,
}

impl SubscribeLimits {
    /// Takes one token from `key`'s bucket of `limit` per hour; `false` when it is empty.
    pub fn take(&self, key: &str, limit: u32, now: Timestamp) -> bool {
        if limit == 0 {
            return true;
        }
        let capacity = f64::from(limit);
        let per_second = capacity / 3600.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS {
            buckets.retain(|_, (tokens, at)| {
                let idle = now.duration_since(*at).as_secs_f64().max(0.0);
                *tokens + idle * per_second < capacity
            });
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((capacity, now));
        let elapsed = now.duration_since(*at).as_secs_f64().max(0.0);
        *tokens = (*tokens + elapsed * per_second).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

//! Regional monitors (principles P3 and P8): a monitor checked from several regions is `down`
//! only when at least `quorum` regions see it down, each by its own failure policy. A region
//! whose results stopped arriving (its probe is gone) has no say: losing a probe is never an
//! outage of the monitors it ran, and never a recovery either.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::policy::MonitorState;

/// The region name of checks the server runs itself.
pub const LOCAL: &str = "local";

/// The most regions one monitor may name.
pub const MAX_REGIONS: usize = 16;

/// `regions: [eu, us, ap]` and `quorum: 2` of a monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionSet {
    /// Region names, each valid by [`check_region`], each once, in config order.
    pub names: Vec<String>,
    /// How many regions must see the monitor down for it to be down (1 ≤ quorum ≤ names).
    pub quorum: usize,
}

impl RegionSet {
    pub fn contains(&self, region: &str) -> bool {
        self.names.iter().any(|n| n == region)
    }

    /// Whether the server itself checks the monitor too (`local` is one of the regions).
    pub fn runs_locally(&self) -> bool {
        self.contains(LOCAL)
    }
}

/// The quorum when none is given: a majority of the regions, so one region's network trouble
/// alone never makes an outage (2 of 3, 2 of 2, 3 of 4, 1 of 1).
pub fn default_quorum(regions: usize) -> usize {
    regions / 2 + 1
}

/// A region name is 1–32 characters of `a-z`, `0-9`, `-`, `_` (`eu`, `us-east`, `local`).
pub fn check_region(raw: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c);
    if raw.is_empty() || raw.len() > 32 {
        return Err("must be 1 to 32 characters".into());
    }
    if !raw.chars().all(ok_char) {
        return Err(format!("{raw:?} may only contain a-z, 0-9, '-' and '_'"));
    }
    Ok(())
}

/// A region's results are stale (it has no vote) once its newest result is older than this:
/// three missed checks plus one timeout.
pub fn stale_after(interval: Duration, timeout: Duration) -> Duration {
    interval.saturating_mul(3).saturating_add(timeout)
}

/// The monitor's state from its regions' states. `votes` holds one entry per configured
/// region: its own policy state, or `None` when it has no fresh results. `previous` is the
/// monitor's state before this decision.
///
/// - `down` when at least `quorum` regions are down;
/// - when the silent regions could still make or break the quorum, an outage is held (the
///   monitor stays `down` until enough live regions see it up);
/// - otherwise `suspected` while any live region is failing, `degraded` when at least `quorum`
///   regions are degraded, else `up`;
/// - with no live region at all, the state stays what it was.
///
/// So a region going silent never changes whether the monitor is down.
pub fn combine(votes: &[Option<MonitorState>], quorum: usize, previous: MonitorState) -> MonitorState {
    let count = |f: fn(MonitorState) -> bool| votes.iter().flatten().filter(|s| f(**s)).count();
    let down = count(|s| s == MonitorState::Down);
    let unknown = votes.iter().filter(|v| v.is_none()).count();
    let failing = count(|s| matches!(s, MonitorState::Down | MonitorState::Suspected));
    let degraded = count(|s| s == MonitorState::Degraded);
    if down >= quorum || (previous == MonitorState::Down && down + unknown >= quorum) {
        MonitorState::Down
    } else if unknown == votes.len() {
        previous
    } else if failing > 0 {
        MonitorState::Suspected
    } else if degraded >= quorum {
        MonitorState::Degraded
    } else {
        MonitorState::Up
    }
}

#[cfg(test)]
mod tests;

//! What a batch upserts, reduced to one row per key before any statement runs: one statement
//! may not touch a row twice on PostgreSQL, and keys in sorted order make concurrent writers
//! (several nodes) lock rows in the same order, so they cannot deadlock each other.

use std::collections::BTreeMap;

use belfry_core::check::CheckResult;
use belfry_core::monitor::MonitorId;
use belfry_core::policy::PolicyState;

/// The newest of `results` per (monitor, region), by key; of two equally new ones the later wins.
pub(crate) fn newest_per_key(results: &[CheckResult]) -> Vec<&CheckResult> {
    let mut newest: BTreeMap<(&str, &str), &CheckResult> = BTreeMap::new();
    for r in results {
        let key = (r.monitor.as_str(), r.region.as_str());
        match newest.get(&key) {
            Some(kept) if kept.at > r.at => {}
            _ => {
                newest.insert(key, r);
            }
        }
    }
    newest.into_values().collect()
}

/// Each monitor's last state in `states`, by monitor.
pub(crate) fn last_state_per_monitor(states: &[(MonitorId, PolicyState)]) -> Vec<(&str, &PolicyState)> {
    let last: BTreeMap<&str, &PolicyState> = states.iter().map(|(m, s)| (m.as_str(), s)).collect();
    last.into_iter().collect()
}

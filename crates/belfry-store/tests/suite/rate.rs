//! Write throughput, printed rather than asserted (timed assertions are flaky on shared CI):
//! 20 batches × 1,000 realistic results, then their compaction.

use std::time::Instant;

use belfry_core::check::{ConditionResult, Phases};
use belfry_core::policy::{MonitorState, PolicyState};
use belfry_core::store::{Batch, Resolution, Store};

use super::data::*;

const BATCHES: i64 = 20;
const PER_BATCH: i64 = 1_000;

fn batches() -> Vec<Batch> {
    (0..BATCHES)
        .map(|b| {
            let results = (0..PER_BATCH)
                .map(|i| {
                    let mut r =
                        result(&format!("monitor-{i}"), t(b * 10), i % 50 != 0, 20 + (i % 300) as u64);
                    r.phases = Phases {
                        dns_ms: Some(1.5),
                        connect_ms: Some(2.25),
                        tls_ms: Some(8.0),
                        first_byte_ms: Some(15.5),
                        total_ms: Some(20.0),
                    };
                    r.ip = Some("192.0.2.10".into());
                    r.conditions = vec![ConditionResult {
                        condition: "[STATUS] == 200".into(),
                        ok: r.ok,
                        resolved: format!("[STATUS] ({}) == 200", r.status.unwrap_or(0)),
                    }];
                    r
                })
                .collect();
            let states = (0..PER_BATCH)
                .step_by(10)
                .map(|i| (id(&format!("monitor-{i}")), PolicyState::new(MonitorState::Up, t(b * 10))))
                .collect();
            Batch { results, transitions: vec![], states }
        })
        .collect()
}

/// Writes the batches to an empty `store`, then compacts them, printing both rates under
/// `label` (`cargo test -p belfry-store --release write_rate -- --nocapture`).
pub async fn write_rate(store: &dyn Store, label: &str) {
    let batches = batches();
    let started = Instant::now();
    for batch in &batches {
        store.write(batch).await.unwrap();
    }
    let elapsed = started.elapsed();
    let rate = (BATCHES * PER_BATCH) as f64 / elapsed.as_secs_f64();
    println!("write_rate ({label}): {} results in {elapsed:?} = {rate:.0} results/s", BATCHES * PER_BATCH);
    assert_eq!(store.latest_results().await.unwrap().len(), PER_BATCH as usize);

    let started = Instant::now();
    store.compact(t(BATCHES * 10 + 3600)).await.unwrap();
    println!(
        "write_rate ({label}): compacting those results (minute, hour, day) took {:?}",
        started.elapsed()
    );
    let hour = store.rollups(&id("monitor-7"), Resolution::Hour, t(0), t(3600)).await.unwrap();
    assert_eq!(hour[0].checks, BATCHES as u32);
}

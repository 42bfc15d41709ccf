//! Down periods and rollups over a hand-made data set whose aggregates are worked out below.

use belfry_core::policy::MonitorState::{Down, Up};
use belfry_core::store::{Batch, DownPeriod, Resolution, Rollup, Store};
use jiff::Timestamp;

use super::data::*;

const DAY: i64 = 86_400;

fn rollup(
    monitor: &str,
    resolution: Resolution,
    start: Timestamp,
    counts: [u32; 3],
    latency: (u64, f64, u64, u64),
) -> Rollup {
    let [checks, failures, downtime_s] = counts;
    let (latency_min_ms, latency_avg_ms, latency_max_ms, latency_p95_ms) = latency;
    Rollup {
        monitor: id(monitor),
        resolution,
        start,
        checks,
        failures,
        downtime_s,
        latency_min_ms,
        latency_avg_ms,
        latency_max_ms,
        latency_p95_ms,
    }
}

/// Monitor `db`, down from 00:01:30 to 00:05:30 on day 0:
/// - minute 0: 20 passing checks of 1..=20 ms → p95 is the 19th value (ceil(0.95 × 20) = 19);
/// - minute 1: 100 ok, 200 failed, 300 failed but inconclusive (not a failure), 400 failed;
///   down for 30 s of it;
/// - minute 3: 75 checks of 30 ms, down the whole minute;
/// - minute 5: one check of 50 ms, down for 30 s.
///
/// Monitor `cache`: 10 ms ok at 01:00:10, down from 01:30:00 for good, 30 ms failed at 01:30:10.
/// Day 1: `db` checks at 00:29:30 (7 ms) and 00:30:00 (5 ms, in the bucket still open at `now`).
async fn load(store: &dyn Store) {
    let mut minute0: Vec<_> = (0..20).map(|i| result("db", t(i * 3), true, i as u64 + 1)).collect();
    let mut minute1 = vec![
        result("db", t(60), true, 100),
        result("db", t(70), false, 200),
        result("db", t(80), false, 300),
        result("db", t(90), false, 400),
    ];
    minute1[2].inconclusive = true;
    let minute3 = (0..75).map(|i| result("db", t_ms(180_000 + i * 500), true, 30));
    minute0.extend(minute1);
    minute0.extend(minute3);
    minute0.push(result("db", t(300), true, 50));
    store
        .write(&Batch {
            results: minute0,
            transitions: vec![transition("db", Up, Down, t(90)), transition("db", Down, Up, t(330))],
            states: vec![],
        })
        .await
        .unwrap();
    store
        .write(&Batch {
            results: vec![result("cache", t(3610), true, 10), result("cache", t(5410), false, 30)],
            transitions: vec![transition("cache", Up, Down, t(5400))],
            states: vec![],
        })
        .await
        .unwrap();
    store
        .write(&Batch {
            results: vec![result("db", t(DAY + 1770), true, 7), result("db", t(DAY + 1800), true, 5)],
            ..Batch::default()
        })
        .await
        .unwrap();
}

pub async fn down_periods_and_rollups(store: &dyn Store) {
    load(store).await;
    let db_down = DownPeriod { start: t(90), end: Some(t(330)) };
    assert_eq!(store.down_periods(&id("db"), t(0)).await.unwrap(), vec![db_down]);
    assert_eq!(store.down_periods(&id("db"), t(329)).await.unwrap(), vec![db_down], "started before since");
    assert!(store.down_periods(&id("db"), t(330)).await.unwrap().is_empty(), "ended at since");
    let cache_down = DownPeriod { start: t(5400), end: None };
    assert_eq!(store.down_periods(&id("cache"), t(DAY)).await.unwrap(), vec![cache_down], "still open");
    let db_changes = store.transitions(Some(&id("db")), None, 10).await.unwrap();
    assert_eq!(
        db_changes.iter().map(|c| (c.to, c.at)).collect::<Vec<_>>(),
        vec![(Up, t(330)), (Down, t(90))]
    );

    let now = t(DAY + 1800);
    store.compact(now).await.unwrap();
    let (m, h, d) = (Resolution::Minute, Resolution::Hour, Resolution::Day);
    let db_minutes = vec![
        rollup("db", m, t(0), [20, 0, 0], (1, 10.5, 20, 19)),
        rollup("db", m, t(60), [4, 2, 30], (100, 250.0, 400, 400)),
        rollup("db", m, t(180), [75, 0, 60], (30, 30.0, 30, 30)),
        rollup("db", m, t(300), [1, 0, 30], (50, 50.0, 50, 50)),
    ];
    assert_eq!(store.rollups(&id("db"), m, t(0), t(DAY)).await.unwrap(), db_minutes);
    assert_eq!(
        store.rollups(&id("db"), m, t(60), t(300)).await.unwrap(),
        db_minutes[1..3],
        "until is exclusive"
    );
    let db_day1_minute = rollup("db", m, t(DAY + 1740), [1, 0, 0], (7, 7.0, 7, 7));
    assert_eq!(
        store.rollups(&id("db"), m, t(DAY), t(2 * DAY)).await.unwrap(),
        vec![db_day1_minute.clone()],
        "the bucket still open at `now` is not built"
    );
    // Minute p95s weighted by checks, ascending: 19 (20), 30 (95), 50 (96), 400 (100);
    // ceil(0.95 × 100) = 95 → 30. Average: (210 + 1000 + 2250 + 50) / 100.
    let db_hour = rollup("db", h, t(0), [100, 2, 240], (1, 35.1, 400, 30));
    assert_eq!(
        store.rollups(&id("db"), h, t(0), t(2 * DAY)).await.unwrap(),
        vec![db_hour],
        "hour 24 is open"
    );
    let db_day = rollup("db", d, t(0), [100, 2, 240], (1, 35.1, 400, 30));
    assert_eq!(store.rollups(&id("db"), d, t(0), t(3 * DAY)).await.unwrap(), vec![db_day.clone()]);
    let cache_hour = rollup("cache", h, t(3600), [2, 1, 1800], (10, 20.0, 30, 30));
    assert_eq!(store.rollups(&id("cache"), h, t(0), t(DAY)).await.unwrap(), vec![cache_hour]);
    let cache_day = rollup("cache", d, t(0), [2, 1, (DAY - 5400) as u32], (10, 20.0, 30, 30));
    assert_eq!(store.rollups(&id("cache"), d, t(0), t(DAY)).await.unwrap(), vec![cache_day.clone()]);
    assert!(store.rollups(&id("cache"), h, t(DAY), now).await.unwrap().is_empty(), "no checks, no row");

    // Idempotent, and an earlier `now` changes nothing.
    let snapshot = all_rollups(store).await;
    store.compact(now).await.unwrap();
    store.compact(t(100)).await.unwrap();
    assert_eq!(all_rollups(store).await, snapshot);

    // The next minute closes and is built on the next call.
    store.compact(t(DAY + 1860)).await.unwrap();
    let db_day1 = store.rollups(&id("db"), m, t(DAY), t(2 * DAY)).await.unwrap();
    assert_eq!(
        db_day1,
        vec![db_day1_minute.clone(), rollup("db", m, t(DAY + 1800), [1, 0, 0], (5, 5.0, 5, 5))]
    );

    // Raw results before 01:00 go (100 of `db`); rollups stay.
    assert_eq!(store.prune(t(3600)).await.unwrap(), 100);
    assert_eq!(store.prune(t(3600)).await.unwrap(), 0);
    assert_eq!(store.results(&id("db"), None, 1000).await.unwrap().len(), 2);
    assert_eq!(store.results(&id("cache"), None, 1000).await.unwrap().len(), 2);
    assert_eq!(all_rollups(store).await.len(), snapshot.len() + 1);

    // Two days on, minute rollups older than 48 h go; hours and days stay.
    store.compact(t(3 * DAY)).await.unwrap();
    assert_eq!(store.prune(t(0)).await.unwrap(), 0);
    assert!(store.rollups(&id("db"), m, t(0), t(DAY)).await.unwrap().is_empty());
    assert_eq!(store.rollups(&id("db"), m, t(DAY), t(2 * DAY)).await.unwrap(), db_day1);
    assert_eq!(store.rollups(&id("db"), h, t(0), t(1)).await.unwrap().len(), 1);
    assert_eq!(store.rollups(&id("db"), d, t(0), t(DAY)).await.unwrap(), vec![db_day]);
    assert_eq!(store.rollups(&id("cache"), d, t(0), t(DAY)).await.unwrap(), vec![cache_day]);
}

async fn all_rollups(store: &dyn Store) -> Vec<Rollup> {
    let mut all = Vec::new();
    for monitor in ["db", "cache", "api", "web"] {
        for res in [Resolution::Minute, Resolution::Hour, Resolution::Day] {
            all.extend(store.rollups(&id(monitor), res, t(-DAY), t(10 * DAY)).await.unwrap());
        }
    }
    all
}

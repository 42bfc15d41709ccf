//! Maintenance that counts downtime: the flag on transitions round-trips, and the time checks
//! failed while a counting window held the monitor is down, in down periods and rollups
//! alike. Runs after the rollup story, on day 3 (where that story's compaction stopped).

use belfry_core::check::CheckResult;
use belfry_core::policy::MonitorState::{Maintenance, Up};
use belfry_core::store::{Batch, DownPeriod, Resolution, Store};

use super::data::*;

const B: i64 = 3 * 86_400;

fn at(region: &str, s: i64, ok: bool) -> CheckResult {
    CheckResult { region: region.into(), ..result("gate", t(B + s), ok, 10) }
}

/// Monitor `gate`, checked from `eu` and `us`: held by a window that excuses downtime at +60,
/// by a counting one alone from +120, released at +300, held by a counting one again from +400.
/// Down (both regions failing): +140..+170, +200..+210, +250..+300, and from +400 on (both
/// regions' last results before it failed).
pub async fn counted_downtime(store: &dyn Store) {
    let mut changes = vec![
        transition("gate", Up, Maintenance, t(B + 60)),
        transition("gate", Maintenance, Maintenance, t(B + 120)),
        transition("gate", Maintenance, Up, t(B + 300)),
        transition("gate", Up, Maintenance, t(B + 400)),
    ];
    changes[1].counts_downtime = true;
    changes[3].counts_downtime = true;
    let mut inconclusive = at("us", 145, true);
    inconclusive.inconclusive = true;
    let results = vec![
        at("eu", 80, false),
        at("us", 90, false),
        at("eu", 110, false),
        at("us", 115, true),
        at("eu", 130, false),
        at("us", 140, false),
        inconclusive,
        at("eu", 170, true),
        at("us", 180, false),
        at("eu", 200, false),
        at("us", 210, true),
        at("us", 250, false),
        at("eu", 290, false),
        at("eu", 310, false),
        at("eu", 410, false),
        at("us", 420, false),
    ];
    store.write(&Batch { results, transitions: changes.clone(), states: vec![] }).await.unwrap();

    let mut newest_first = changes.clone();
    newest_first.reverse();
    assert_eq!(
        store.transitions(Some(&id("gate")), None, 10).await.unwrap(),
        newest_first,
        "flag round-trips"
    );

    let period = |s: i64, e: Option<i64>| DownPeriod { start: t(B + s), end: e.map(|e| t(B + e)) };
    assert_eq!(
        store.down_periods(&id("gate"), t(B)).await.unwrap(),
        [period(140, Some(170)), period(200, Some(210)), period(250, Some(300)), period(400, None)],
        "only counted stretches, by majority of the regions that reported"
    );
    assert_eq!(
        store.down_periods(&id("gate"), t(B + 205)).await.unwrap(),
        [period(205, Some(210)), period(250, Some(300)), period(400, None)],
        "read from `since`: what held then starts it"
    );

    store.compact(t(B + 3600)).await.unwrap();
    let minutes = store.rollups(&id("gate"), Resolution::Minute, t(B), t(B + 3600)).await.unwrap();
    let down: Vec<(i64, u32)> =
        minutes.iter().map(|r| (r.start.duration_since(t(B)).as_secs(), r.downtime_s)).collect();
    assert_eq!(down, [(60, 0), (120, 30), (180, 10), (240, 50), (300, 0), (360, 20), (420, 60)]);
    let hours = store.rollups(&id("gate"), Resolution::Hour, t(B), t(B + 3600)).await.unwrap();
    assert_eq!(hours.iter().map(|r| r.downtime_s).collect::<Vec<_>>(), [30 + 10 + 50 + 3200]);

    votes_over_the_whole_stretch(store).await;
}

/// Monitor `vote`, from hour 1 of day 3 (`H`, where the compaction above stopped): held by a
/// counting window over `[H, H + 2400)`. `eu` fails from +60, then is silent from +540 to
/// +1900; `ap` reports only from +600; `us` only from +1500; `as` only after the window. The
/// voters are `eu`, `ap` and `us` (not `as`), so two failing is down: `[+600, +900)` and
/// `[+1140, +1260)`, however the stretch is cut. Compaction reads it in 10-minute steps whose
/// `to` comes before the closing transition; the down periods and the day rollup read it whole.
async fn votes_over_the_whole_stretch(store: &dyn Store) {
    const H: i64 = B + 3600;
    let vote = |region: &str, s: i64, ok: bool| CheckResult {
        region: region.into(),
        ..result("vote", t(H + s), ok, 10)
    };
    let mut changes =
        vec![transition("vote", Up, Maintenance, t(H)), transition("vote", Maintenance, Up, t(H + 2400))];
    changes[0].counts_downtime = true;
    let results = vec![
        vote("eu", -30, true),
        // Only `eu` reported before +600: one failing voter of three is not down (judged by
        // the regions of that part alone, it would be).
        vote("eu", 60, false),
        vote("eu", 300, false),
        vote("eu", 540, false),
        vote("ap", 600, false),
        vote("ap", 660, false),
        vote("ap", 720, false),
        vote("ap", 780, false),
        vote("ap", 840, false),
        vote("ap", 900, true),
        // The step from +1200 starts after `ap`'s +1140 and long after `eu`'s last result
        // (+540, failing), which still counts there.
        vote("ap", 1140, false),
        vote("ap", 1200, false),
        vote("ap", 1260, true),
        vote("us", 1500, true),
        vote("us", 1790, true),
        vote("eu", 1900, true),
        // After the stretch: `as` does not vote on it (four voters would need three failing).
        vote("as", 2430, false),
        vote("as", 2490, false),
    ];
    store.write(&Batch { results, transitions: changes, states: vec![] }).await.unwrap();

    let period = |s: i64, e: i64| DownPeriod { start: t(H + s), end: Some(t(H + e)) };
    assert_eq!(store.down_periods(&id("vote"), t(H)).await.unwrap(), [period(600, 900), period(1140, 1260)]);
    assert_eq!(
        store.down_periods(&id("vote"), t(H + 700)).await.unwrap(),
        [period(700, 900), period(1140, 1260)],
        "read from inside the stretch: the voters' results before it still count"
    );

    store.compact(t(B + 86_400)).await.unwrap();
    let minutes = store.rollups(&id("vote"), Resolution::Minute, t(H), t(H + 3600)).await.unwrap();
    let down: Vec<(i64, u32)> = minutes
        .iter()
        .filter(|r| r.downtime_s > 0)
        .map(|r| (r.start.duration_since(t(H)).as_secs(), r.downtime_s))
        .collect();
    assert_eq!(down, [(600, 60), (660, 60), (720, 60), (780, 60), (840, 60), (1140, 60), (1200, 60)]);
    let in_minutes: u32 = minutes.iter().map(|r| r.downtime_s).sum();
    let hours = store.rollups(&id("vote"), Resolution::Hour, t(H), t(H + 3600)).await.unwrap();
    assert_eq!(hours.iter().map(|r| r.downtime_s).collect::<Vec<_>>(), [in_minutes]);
    let days = store.rollups(&id("vote"), Resolution::Day, t(B), t(B + 86_400)).await.unwrap();
    assert_eq!(days.iter().map(|r| r.downtime_s).collect::<Vec<_>>(), [in_minutes], "days and minutes agree");
}

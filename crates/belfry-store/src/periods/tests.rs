use super::*;
use MonitorState::*;

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

#[test]
fn pairs_down_with_the_next_other_state_and_leaves_the_last_open() {
    let periods = from_transitions([
        (Suspected, ts(5)),
        (Down, ts(10)),
        (Up, ts(20)),
        (Down, ts(30)),
        (Down, ts(35)),
        (Paused, ts(40)),
        (Down, ts(50)),
    ]);
    assert_eq!(
        periods,
        vec![
            DownPeriod { start: ts(10), end: Some(ts(20)) },
            DownPeriod { start: ts(30), end: Some(ts(40)) },
            DownPeriod { start: ts(50), end: None },
        ]
    );
    let recent = overlapping(periods, ts(20));
    assert_eq!(recent.len(), 2, "a period ending exactly at `since` is over");
}

fn step(to: MonitorState, at: i64, counts_downtime: bool) -> Step {
    Step { to, at: ts(at), counts_downtime }
}

fn stretch(start: i64, end: Option<i64>) -> Stretch {
    Stretch { start: ts(start), end: end.map(ts) }
}

#[test]
fn counted_stretches_run_from_a_counting_entry_to_the_next_step_without_it() {
    let steps = [
        step(Down, 5, false),
        step(Maintenance, 10, true),
        step(Up, 50, false),
        // Held by a window that excuses downtime, then by a counting one alone, then by both.
        step(Maintenance, 100, false),
        step(Maintenance, 120, true),
        step(Maintenance, 150, false),
        step(Up, 160, false),
        step(Maintenance, 200, true),
        step(Paused, 210, false),
        step(Maintenance, 300, true),
    ];
    assert_eq!(
        counted_stretches(&steps),
        [stretch(10, Some(50)), stretch(120, Some(150)), stretch(200, Some(210)), stretch(300, None)]
    );
    let plain = [step(Down, 5, false), step(Maintenance, 10, false), step(Up, 50, false)];
    assert_eq!(counted_stretches(&plain), [], "the common case: nothing to read");
    assert_eq!(
        from_transitions(steps.iter().map(|s| (s.to, s.at))),
        [DownPeriod { start: ts(5), end: Some(ts(10)) }]
    );
}

#[test]
fn a_stretch_is_clipped_to_the_range_asked_about() {
    assert_eq!(stretch(10, Some(50)).within(ts(20), None), Some(stretch(20, Some(50))));
    assert_eq!(stretch(10, Some(50)).within(ts(0), Some(ts(30))), Some(stretch(10, Some(30))));
    assert_eq!(stretch(10, None).within(ts(20), Some(ts(30))), Some(stretch(20, Some(30))));
    assert_eq!(stretch(10, None).within(ts(20), None), Some(stretch(20, None)));
    assert_eq!(stretch(10, Some(50)).within(ts(50), None), None, "ended before");
    assert_eq!(stretch(10, None).within(ts(0), Some(ts(10))), None, "starts after");
}

fn voters(regions: &[&str]) -> BTreeSet<String> {
    regions.iter().map(|r| (*r).to_owned()).collect()
}

fn local(results: &[(i64, bool)]) -> Vec<Reading> {
    results.iter().map(|&(at, ok)| ("local".to_owned(), ts(at), ok)).collect()
}

#[test]
fn failing_checks_are_down_until_the_next_passing_one() {
    let closed = stretch(10, Some(100));
    let only = voters(&["local"]);
    // The check before the stretch failed: down from its start.
    let results = local(&[(5, false), (20, false), (30, true), (40, false), (150, true)]);
    assert_eq!(
        failing(&closed, &only, &results),
        [DownPeriod { start: ts(10), end: Some(ts(30)) }, DownPeriod { start: ts(40), end: Some(ts(100)) }]
    );
    // Still held: still down.
    let open = stretch(10, None);
    assert_eq!(failing(&open, &only, &local(&[(40, false)])), [DownPeriod { start: ts(40), end: None }]);
    assert_eq!(failing(&closed, &only, &local(&[(5, true), (50, true)])), []);
    // Nothing reported in the stretch yet: what held when it began.
    let none = voters(&[]);
    assert_eq!(
        failing(&closed, &none, &local(&[(5, false)])),
        [DownPeriod { start: ts(10), end: Some(ts(100)) }]
    );
    assert_eq!(failing(&closed, &none, &[]), []);
}

fn reading(region: &str, at: i64, ok: bool) -> Reading {
    (region.to_owned(), ts(at), ok)
}

#[test]
fn with_two_regions_a_moment_is_down_only_when_both_fail() {
    let held = stretch(10, Some(100));
    let results = [
        reading("eu", 5, true),
        reading("us", 8, false),
        // One of two failing is not more than half.
        reading("eu", 20, false),
        reading("us", 25, false),
        reading("eu", 40, true),
        reading("eu", 60, false),
        reading("us", 65, true),
        reading("us", 80, false),
        // A region that reported only before the stretch does not vote.
        reading("ap", 9, false),
    ];
    let mut sorted = results.to_vec();
    sorted.sort_by_key(|r| r.1);
    let both = voters(&["eu", "us"]);
    assert_eq!(
        failing(&held, &both, &sorted),
        [
            DownPeriod { start: ts(20), end: Some(ts(40)) },
            DownPeriod { start: ts(60), end: Some(ts(65)) },
            DownPeriod { start: ts(80), end: Some(ts(100)) },
        ]
    );
    // A region with no result yet counts as not failing: one of two is not down.
    assert_eq!(failing(&held, &both, &[reading("eu", 20, false), reading("us", 30, true)]), []);
}

#[test]
fn with_three_regions_two_failing_is_down() {
    let held = stretch(0, None);
    let results = [
        reading("ap", 10, false),
        reading("eu", 11, true),
        reading("us", 12, false),
        reading("ap", 20, true),
        reading("eu", 30, false),
    ];
    assert_eq!(
        failing(&held, &voters(&["ap", "eu", "us"]), &results),
        [DownPeriod { start: ts(12), end: Some(ts(20)) }, DownPeriod { start: ts(30), end: None }]
    );
}

/// What the store reads for `part` of a counted stretch: the results in it, plus the last one
/// before it of each voter and of the monitor. A model of `sql::COUNTED_RESULTS` for judging
/// `failing` alone; the SQL itself is tested on both backends by the store suite
/// (`tests/suite/counted.rs`).
fn readings_of(part: &Stretch, voters: &BTreeSet<String>, all: &[Reading]) -> Vec<Reading> {
    let before: Vec<&Reading> = all.iter().filter(|r| r.1 < part.start).collect();
    let mut out: Vec<Reading> = before.last().map(|r| (*r).clone()).into_iter().collect();
    for voter in voters {
        out.extend(before.iter().rev().find(|r| &r.0 == voter).map(|r| (*r).clone()));
    }
    out.sort_by_key(|r| r.1);
    out.dedup();
    out.extend(all.iter().filter(|r| r.1 >= part.start && part.end.is_none_or(|end| r.1 < end)).cloned());
    out
}

#[test]
fn every_part_of_a_stretch_is_judged_by_the_regions_of_the_whole_stretch() {
    let whole = stretch(0, Some(100));
    let all = [
        reading("eu", 10, false),
        reading("us", 20, true),
        reading("eu", 30, false),
        reading("eu", 40, false),
        // `us` falls silent, then `ap` joins: three voters from here on; two failing is down.
        reading("eu", 60, false),
        reading("ap", 70, false),
        reading("eu", 80, true),
        reading("ap", 90, false),
    ];
    let regions = voters(&["ap", "eu", "us"]);
    assert_eq!(
        failing(&whole, &regions, &readings_of(&whole, &regions, &all)),
        [DownPeriod { start: ts(70), end: Some(ts(80)) }]
    );
    // One failing region of three is not down, however short the part asked about: the first
    // half (only `eu` and `us` reported in it) and the last (`eu` alone until 70) are not down.
    let first = whole.within(ts(0), Some(ts(50))).unwrap();
    assert_eq!(failing(&first, &regions, &readings_of(&first, &regions, &all)), []);
    let last = whole.within(ts(50), None).unwrap();
    assert_eq!(
        failing(&last, &regions, &readings_of(&last, &regions, &all)),
        [DownPeriod { start: ts(70), end: Some(ts(80)) }]
    );
    let minute = whole.within(ts(50), Some(ts(60))).unwrap();
    assert_eq!(failing(&minute, &regions, &readings_of(&minute, &regions, &all)), [], "eu alone reported");
    let later = whole.within(ts(75), Some(ts(85))).unwrap();
    assert_eq!(
        failing(&later, &regions, &readings_of(&later, &regions, &all)),
        [DownPeriod { start: ts(75), end: Some(ts(80)) }],
        "what held when the part began: eu and ap failing"
    );
}

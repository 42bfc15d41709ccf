use std::time::Duration;

use jiff::Timestamp;

use super::*;

fn result(at: i64, ok: bool) -> CheckResult {
    CheckResult {
        monitor: MonitorId::parse("api").unwrap(),
        region: "local".into(),
        at: Timestamp::from_second(at).unwrap(),
        ok,
        degraded: false,
        inconclusive: false,
        duration_ms: 5,
        phases: Default::default(),
        status: Some(if ok { 200 } else { 503 }),
        ip: None,
        error: (!ok).then(|| "HTTP 503".to_owned()),
        conditions: vec![],
        values: Default::default(),
    }
}

fn policy(threshold: u32, within: Option<u64>, recovery: u32) -> Policy {
    Policy {
        failure: FailurePolicy { threshold, within: within.map(Duration::from_secs) },
        recovery: RecoveryPolicy { threshold: recovery },
        flapping: None,
    }
}

/// Feeds `(second, ok)` results and returns the state after each one.
fn run(policy: &Policy, seq: &[(i64, bool)]) -> Vec<MonitorState> {
    let mut st = PolicyState::new(MonitorState::Up, Timestamp::UNIX_EPOCH);
    seq.iter()
        .map(|&(at, ok)| {
            let r = result(at, ok);
            st.observe(policy, &r, std::slice::from_ref(&r));
            st.state
        })
        .collect()
}

use MonitorState::{Down, Maintenance, Suspected, Up};

#[test]
fn one_failure_is_only_suspected_and_consecutive_threshold_declares_down() {
    let p = policy(3, None, 2);
    let states = run(&p, &[(0, false), (10, false), (20, false), (30, true), (40, true)]);
    assert_eq!(states, [Suspected, Suspected, Down, Down, Up]);
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let p = policy(3, None, 2);
    let states = run(&p, &[(0, false), (10, false), (20, true), (30, false), (40, false)]);
    assert_eq!(states, [Suspected, Suspected, Up, Suspected, Suspected]);
}

#[test]
fn failures_within_a_window_count_even_when_interleaved_with_successes() {
    let p = policy(3, Some(300), 1);
    let states = run(&p, &[(0, false), (60, true), (120, false), (180, true), (240, false)]);
    assert_eq!(states, [Suspected, Up, Suspected, Up, Down]);
}

#[test]
fn failures_outside_the_window_expire() {
    let p = policy(3, Some(300), 1);
    let states = run(&p, &[(0, false), (200, false), (400, false), (450, true)]);
    assert_eq!(states, [Suspected, Suspected, Suspected, Up]);
}

#[test]
fn a_failure_while_recovering_restarts_the_recovery_count() {
    let p = policy(1, None, 2);
    let states = run(&p, &[(0, false), (10, true), (20, false), (30, true), (40, true)]);
    assert_eq!(states, [Down, Down, Down, Down, Up]);
}

#[test]
fn transitions_carry_the_reason_and_evidence() {
    let p = policy(2, None, 1);
    let mut st = PolicyState::new(Up, Timestamp::UNIX_EPOCH);
    let a = result(0, false);
    let b = result(10, false);
    let t1 = st.observe(&p, &a, std::slice::from_ref(&a)).unwrap();
    assert_eq!((t1.from, t1.to, t1.event()), (Up, Suspected, None));
    let t2 = st.observe(&p, &b, &[a.clone(), b.clone()]).unwrap();
    assert_eq!((t2.from, t2.to, t2.event()), (Suspected, Down, Some("down")));
    assert_eq!(t2.reason.as_deref(), Some("HTTP 503"));
    assert_eq!(t2.results, vec![a, b]);
}

#[test]
fn inconclusive_results_change_nothing() {
    let p = policy(1, None, 1);
    let mut st = PolicyState::new(Up, Timestamp::UNIX_EPOCH);
    let mut r = result(0, false);
    r.inconclusive = true;
    assert!(st.observe(&p, &r, &[]).is_none());
    assert_eq!(st.state, Up);
}

#[test]
fn a_window_holds_the_monitor_and_a_change_of_counting_is_a_silent_transition() {
    let api = MonitorId::parse("api").unwrap();
    let at = |s: i64| Timestamp::from_second(s).unwrap();
    let mut st = PolicyState::new(Down, at(0));
    let held = st.hold(&api, false, at(10)).unwrap();
    assert_eq!((held.from, held.to, held.counts_downtime, held.event()), (Down, Maintenance, false, None));
    assert!(st.hold(&api, false, at(20)).is_none(), "nothing changed");

    // A counting window now holds it alone: maintenance → maintenance with the new flag.
    let counted = st.hold(&api, true, at(30)).unwrap();
    assert_eq!((counted.from, counted.to, counted.counts_downtime), (Maintenance, Maintenance, true));
    assert_eq!(counted.event(), None, "no alert, no incident");
    assert_eq!((st.state, st.since, st.counts_downtime), (Maintenance, at(10), true));
    assert!(st.hold(&api, true, at(40)).is_none());
    // Failures while held decide nothing.
    assert!(st.observe(&policy(1, None, 1), &result(45, false), &[]).is_none());

    let released = st.force(&api, Up, at(50)).unwrap();
    assert_eq!((released.from, released.to, released.counts_downtime), (Maintenance, Up, false));
    assert!(!st.counts_downtime, "leaving maintenance clears the flag");
    let mut fresh = PolicyState::new(Up, at(60));
    let entered = fresh.hold(&api, true, at(60)).unwrap();
    assert_eq!((entered.from, entered.to, entered.counts_downtime), (Up, Maintenance, true));

    // Written before the flag existed: not counted.
    let old = serde_json::json!({"monitor": "api", "from": "up", "to": "maintenance", "at": "1970-01-01T00:01:00Z",
        "flapping": false, "reason": null, "results": []});
    let old: Transition = serde_json::from_value(old).unwrap();
    assert!(!old.counts_downtime);
}

#[test]
fn flapping_holds_the_worse_state_until_stable() {
    let mut p = policy(1, None, 1);
    p.flapping = Some(FlapPolicy { changes: 3, within: Duration::from_secs(600) });
    let mut st = PolicyState::new(Up, Timestamp::UNIX_EPOCH);
    let mut t = 0;
    let mut feed = |ok: bool, pause: i64| {
        t += 10 + pause;
        let r = result(t, ok);
        st.observe(&p, &r, &[]);
        (st.state, st.flapping)
    };
    // down, up, down, up: the fourth change exceeds 3 within the window.
    assert_eq!(feed(false, 0), (Down, false));
    assert_eq!(feed(true, 0), (Up, false));
    assert_eq!(feed(false, 0), (Down, false));
    assert_eq!(feed(true, 0), (Up, true));
    // Now flapping: a failure goes down, but recovery is held.
    assert_eq!(feed(false, 0), (Down, true));
    assert_eq!(feed(true, 0), (Down, true));
    assert_eq!(feed(true, 0), (Down, true));
    // Stable for the window: flapping ends and the held state is released.
    assert_eq!(feed(true, 600), (Up, false));
}

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the sequence, fewer than `threshold` consecutive failures never make a
        /// monitor that was up go down (P3: a blip never changes public status).
        #[test]
        fn short_blips_never_go_down(threshold in 2u32..6, blips in proptest::collection::vec(0u32..6, 1..20)) {
            let p = policy(threshold, None, 1);
            let mut seq = vec![];
            let mut t = 0;
            for blip in blips {
                for _ in 0..blip.min(threshold - 1) {
                    t += 10;
                    seq.push((t, false));
                }
                t += 10;
                seq.push((t, true));
            }
            prop_assert!(run(&p, &seq).iter().all(|s| *s != Down));
        }

        /// `threshold` consecutive failures always end in `down`.
        #[test]
        fn threshold_failures_always_go_down(threshold in 1u32..8, recovery in 1u32..4) {
            let p = policy(threshold, None, recovery);
            let seq: Vec<_> = (0..threshold as i64).map(|i| (i * 10, false)).collect();
            prop_assert_eq!(*run(&p, &seq).last().unwrap(), Down);
        }
    }
}

use proptest::prelude::*;

use super::*;
use MonitorState::{Degraded, Down, Suspected, Up};

#[test]
fn down_takes_a_quorum_of_regions() {
    let cases: &[(&[Option<MonitorState>], usize, MonitorState, MonitorState)] = &[
        // (votes, quorum, previous, expected)
        (&[Some(Down), Some(Up), Some(Up)], 2, Up, Suspected),
        (&[Some(Down), Some(Down), Some(Up)], 2, Up, Down),
        (&[Some(Down), Some(Down), Some(Down)], 2, Up, Down),
        (&[Some(Suspected), Some(Suspected), Some(Up)], 2, Up, Suspected),
        (&[Some(Up), Some(Up), Some(Up)], 2, Down, Up),
        (&[Some(Down), Some(Up), Some(Up)], 2, Down, Suspected),
        (&[Some(Down), Some(Up)], 1, Up, Down),
        (&[Some(Degraded), Some(Degraded), Some(Up)], 2, Up, Degraded),
        (&[Some(Degraded), Some(Up), Some(Up)], 2, Up, Up),
        (&[Some(Up)], 1, Up, Up),
    ];
    for (votes, quorum, previous, expected) in cases {
        assert_eq!(
            combine(votes, *quorum, *previous),
            *expected,
            "{votes:?} quorum {quorum} from {previous}"
        );
    }
}

#[test]
fn a_silent_region_has_no_say() {
    // One probe gone, the others fine: up, not an outage.
    assert_eq!(combine(&[None, Some(Up), Some(Up)], 2, Up), Up);
    // One probe gone and one region down: it cannot be told yet; not an outage.
    assert_eq!(combine(&[None, Some(Down), Some(Up)], 2, Up), Suspected);
    // A held outage stays while the silent region could still complete the quorum.
    assert_eq!(combine(&[None, Some(Down), Some(Up)], 2, Down), Down);
    // Nobody reports: nothing changes.
    assert_eq!(combine(&[None, None, None], 2, Down), Down);
    assert_eq!(combine(&[None, None, None], 2, Up), Up);
    assert_eq!(combine(&[], 1, Degraded), Degraded);
}

#[test]
fn defaults_and_names() {
    assert_eq!((1..=5).map(default_quorum).collect::<Vec<_>>(), [1, 2, 2, 3, 3]);
    assert!(check_region("eu").is_ok() && check_region(LOCAL).is_ok() && check_region("us-east_1").is_ok());
    assert!(check_region("").is_err() && check_region("EU").is_err() && check_region("eu west").is_err());
    assert!(check_region(&"x".repeat(33)).is_err());
    assert_eq!(stale_after(Duration::from_secs(10), Duration::from_secs(5)), Duration::from_secs(35));
}

fn vote() -> impl Strategy<Value = Option<MonitorState>> {
    prop_oneof![Just(None), Just(Some(Up)), Just(Some(Degraded)), Just(Some(Suspected)), Just(Some(Down))]
}

fn state() -> impl Strategy<Value = MonitorState> {
    prop_oneof![Just(Up), Just(Degraded), Just(Suspected), Just(Down)]
}

proptest! {
    #[test]
    fn fewer_down_regions_than_the_quorum_never_start_an_outage(
        votes in proptest::collection::vec(vote(), 1..8),
        quorum in 1usize..8,
        previous in state(),
    ) {
        let quorum = quorum.min(votes.len());
        let down = votes.iter().filter(|v| **v == Some(Down)).count();
        let state = combine(&votes, quorum, previous);
        if down >= quorum {
            prop_assert_eq!(state, Down);
        }
        if previous != Down && down < quorum {
            prop_assert_ne!(state, Down);
        }
    }

    #[test]
    fn a_region_going_silent_never_changes_whether_the_monitor_is_down(
        votes in proptest::collection::vec(vote(), 1..8),
        quorum in 1usize..8,
        previous in state(),
        silent in 0usize..8,
    ) {
        let quorum = quorum.min(votes.len());
        let before = combine(&votes, quorum, previous);
        let mut after_votes = votes.clone();
        let i = silent % votes.len();
        after_votes[i] = None;
        let after = combine(&after_votes, quorum, before);
        prop_assert_eq!(after == Down, before == Down, "{:?} -> {:?}", votes, after_votes);
    }
}

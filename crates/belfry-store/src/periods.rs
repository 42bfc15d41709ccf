//! Down periods derived from transitions: a period starts at a transition to `down` and ends
//! at the monitor's next transition to anything else. Inside maintenance windows that count
//! downtime, the monitor is in `maintenance` instead; there its failing checks are the down
//! periods ([`counted_stretches`], [`failing`]).

use std::collections::HashMap;

use belfry_core::clock::from_epoch_ms;
use belfry_core::maintenance::Window;
use belfry_core::policy::MonitorState;
use belfry_core::store::{DownPeriod, StoreError};
use jiff::Timestamp;

use crate::codec;

/// Folds one monitor's transitions (`to` state and time, oldest first) into down periods,
/// oldest first. A run of consecutive transitions to `down` is one period.
pub(crate) fn from_transitions(
    transitions: impl IntoIterator<Item = (MonitorState, Timestamp)>,
) -> Vec<DownPeriod> {
    let mut periods = Vec::new();
    let mut open: Option<Timestamp> = None;
    for (to, at) in transitions {
        match (to, open) {
            (MonitorState::Down, None) => open = Some(at),
            (MonitorState::Down, Some(_)) => {}
            (_, Some(start)) => {
                periods.push(DownPeriod { start, end: Some(at) });
                open = None;
            }
            (_, None) => {}
        }
    }
    if let Some(start) = open {
        periods.push(DownPeriod { start, end: None });
    }
    periods
}

/// Keeps the periods still open at or after `since` (an end is exclusive).
pub(crate) fn overlapping(periods: Vec<DownPeriod>, since: Timestamp) -> Vec<DownPeriod> {
    periods.into_iter().filter(|p| p.end.is_none_or(|end| end > since)).collect()
}

/// `(to_state, at)` rows of `sql::DOWN_PERIOD_STEPS`, decoded, oldest first.
pub(crate) fn steps(rows: Vec<(String, i64)>) -> Result<Vec<Step>, StoreError> {
    rows.into_iter().map(|(to, at)| Ok((codec::state(&to)?, from_epoch_ms(at)))).collect()
}

/// The `(monitor, to_state, at)` rows of `sql::DOWN_PERIOD_STEPS_BETWEEN`, decoded and keyed
/// by monitor id.
pub(crate) fn steps_by_monitor(
    rows: Vec<(String, String, i64)>,
) -> Result<HashMap<String, Vec<Step>>, StoreError> {
    let mut steps: HashMap<String, Vec<Step>> = HashMap::new();
    for (monitor, to_state, at) in rows {
        steps.entry(monitor).or_default().push((codec::state(&to_state)?, from_epoch_ms(at)));
    }
    Ok(steps)
}

/// A monitor's transition: the state it moved to and when.
pub(crate) type Step = (MonitorState, Timestamp);

/// A stretch a monitor spent in `maintenance` inside a span where its downtime counts
/// (`belfry_core::maintenance::merge_counted`): failing checks in it are downtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stretch {
    pub start: Timestamp,
    /// Where it ends: the end of the maintenance or of the counted span, whichever is first.
    pub limit: Timestamp,
    /// The maintenance is over, so `limit` has passed; otherwise it has only when a result at
    /// or after it exists.
    pub closed: bool,
}

/// Where `steps` (oldest first) had the monitor in `maintenance` within `spans`.
pub(crate) fn counted_stretches(steps: &[Step], spans: &[Window]) -> Vec<Stretch> {
    let mut maintenance: Vec<(Timestamp, Option<Timestamp>)> = Vec::new();
    let mut open: Option<Timestamp> = None;
    for &(to, at) in steps {
        match (to, open) {
            (MonitorState::Maintenance, None) => open = Some(at),
            (MonitorState::Maintenance, Some(_)) => {}
            (_, Some(start)) => {
                maintenance.push((start, Some(at)));
                open = None;
            }
            (_, None) => {}
        }
    }
    maintenance.extend(open.map(|start| (start, None)));
    let mut out = Vec::new();
    for (start, end) in maintenance {
        for span in spans {
            let stretch = Stretch {
                start: start.max(span.start),
                limit: end.unwrap_or(Timestamp::MAX).min(span.end),
                closed: end.is_some(),
            };
            if stretch.start < stretch.limit {
                out.push(stretch);
            }
        }
    }
    out
}

/// The down periods within `stretch` from a monitor's conclusive results `(at, ok)`, oldest
/// first, starting with the last one before the stretch (what held when it began): down from
/// a failing check until the next passing one, or the end of the stretch; still open (`end`
/// `None`) when the stretch has not ended as far as the results tell.
pub(crate) fn failing(
    stretch: &Stretch,
    results: impl IntoIterator<Item = (Timestamp, bool)>,
) -> Vec<DownPeriod> {
    let mut periods = Vec::new();
    let mut run: Option<Timestamp> = None;
    let mut ended = stretch.closed;
    for (at, ok) in results {
        if at >= stretch.limit {
            ended = true;
            break;
        }
        let at = at.max(stretch.start);
        match (ok, run) {
            (false, None) => run = Some(at),
            (true, Some(start)) => {
                if start < at {
                    periods.push(DownPeriod { start, end: Some(at) });
                }
                run = None;
            }
            _ => {}
        }
    }
    if let Some(start) = run {
        periods.push(DownPeriod { start, end: ended.then_some(stretch.limit) });
    }
    periods
}

#[cfg(test)]
mod tests {
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

    fn span(start: i64, end: i64) -> Window {
        Window { start: ts(start), end: ts(end) }
    }

    #[test]
    fn counted_stretches_are_maintenance_inside_counted_spans() {
        let steps = [(Down, ts(5)), (Maintenance, ts(10)), (Up, ts(50)), (Maintenance, ts(100))];
        let stretches = counted_stretches(&steps, &[span(8, 40), span(45, 200)]);
        assert_eq!(
            stretches,
            [
                Stretch { start: ts(10), limit: ts(40), closed: true },
                Stretch { start: ts(45), limit: ts(50), closed: true },
                Stretch { start: ts(100), limit: ts(200), closed: false },
            ]
        );
        assert_eq!(counted_stretches(&steps, &[]), []);
    }

    #[test]
    fn failing_checks_are_down_until_the_next_passing_one() {
        let closed = Stretch { start: ts(10), limit: ts(100), closed: true };
        // The check before the stretch failed: down from its start.
        let results = [(ts(5), false), (ts(20), false), (ts(30), true), (ts(40), false), (ts(150), true)];
        assert_eq!(
            failing(&closed, results),
            [
                DownPeriod { start: ts(10), end: Some(ts(30)) },
                DownPeriod { start: ts(40), end: Some(ts(100)) }
            ]
        );
        // Still in maintenance, nothing after the span's end yet: still down.
        let open = Stretch { closed: false, ..closed };
        assert_eq!(failing(&open, [(ts(40), false)]), [DownPeriod { start: ts(40), end: None }]);
        assert_eq!(
            failing(&open, [(ts(40), false), (ts(100), false)]),
            [DownPeriod { start: ts(40), end: Some(ts(100)) }],
            "a result at the span's end says it has passed"
        );
        assert_eq!(failing(&closed, [(ts(5), true), (ts(50), true)]), []);
    }
}

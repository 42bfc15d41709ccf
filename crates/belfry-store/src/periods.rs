//! Down periods derived from transitions: a period starts at a transition to `down` and ends
//! at the monitor's next transition to anything else.

use std::collections::HashMap;

use belfry_core::clock::from_epoch_ms;
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

/// One monitor's periods overlapping `[since, …)` from the `(to_state, at)` rows of
/// `sql::DOWN_PERIOD_STEPS`.
pub(crate) fn from_rows(rows: Vec<(String, i64)>, since: Timestamp) -> Result<Vec<DownPeriod>, StoreError> {
    let steps = rows
        .into_iter()
        .map(|(to, at)| Ok((codec::state(&to)?, from_epoch_ms(at))))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(overlapping(from_transitions(steps), since))
}

/// Every monitor's periods, keyed by monitor id, from the `(monitor, to_state, at)` rows of
/// `sql::DOWN_PERIOD_STEPS_BETWEEN`.
pub(crate) fn by_monitor(
    rows: Vec<(String, String, i64)>,
) -> Result<HashMap<String, Vec<DownPeriod>>, StoreError> {
    let mut steps: HashMap<String, Vec<_>> = HashMap::new();
    for (monitor, to_state, at) in rows {
        steps.entry(monitor).or_default().push((codec::state(&to_state)?, from_epoch_ms(at)));
    }
    Ok(steps.into_iter().map(|(monitor, steps)| (monitor, from_transitions(steps))).collect())
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
}

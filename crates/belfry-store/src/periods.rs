//! Down periods derived from transitions: a period starts at a transition to `down` and ends
//! at the monitor's next transition to anything else. A monitor held in `maintenance` by
//! windows that count downtime entered it with `counts_downtime` set; in such a counted
//! stretch its failing checks are the down periods ([`counted_stretches`], [`failing`]).

use std::collections::{BTreeSet, HashMap};

use belfry_core::clock::from_epoch_ms;
use belfry_core::policy::MonitorState;
use belfry_core::store::{DownPeriod, StoreError};
use jiff::Timestamp;

use crate::codec;

/// A monitor's transition as down periods read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// The state it moved to.
    pub to: MonitorState,
    pub at: Timestamp,
    /// Into `maintenance` held by windows that count the failing time as downtime.
    pub counts_downtime: bool,
}

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

/// `(to_state, at, counts_downtime)` rows of `sql::DOWN_PERIOD_STEPS`, decoded, oldest first.
pub(crate) fn steps(rows: Vec<(String, i64, bool)>) -> Result<Vec<Step>, StoreError> {
    rows.into_iter().map(|(to, at, counts)| step(&to, at, counts)).collect()
}

/// The `(monitor, to_state, at, counts_downtime)` rows of `sql::DOWN_PERIOD_STEPS_BETWEEN`,
/// decoded and keyed by monitor id.
pub(crate) fn steps_by_monitor(
    rows: Vec<(String, String, i64, bool)>,
) -> Result<HashMap<String, Vec<Step>>, StoreError> {
    let mut steps: HashMap<String, Vec<Step>> = HashMap::new();
    for (monitor, to, at, counts) in rows {
        steps.entry(monitor).or_default().push(step(&to, at, counts)?);
    }
    Ok(steps)
}

fn step(to: &str, at: i64, counts_downtime: bool) -> Result<Step, StoreError> {
    Ok(Step { to: codec::state(to)?, at: from_epoch_ms(at), counts_downtime })
}

/// A stretch a monitor spent in `maintenance` held by windows that count downtime: failing
/// checks in it are downtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stretch {
    pub start: Timestamp,
    /// The monitor's next transition (exclusive); `None` while it is still held.
    pub end: Option<Timestamp>,
}

impl Stretch {
    /// The part of the stretch inside `[from, to)` (`to` `None`: unbounded), if any: what a
    /// caller asking about that range needs, so only its results are read.
    pub fn within(self, from: Timestamp, to: Option<Timestamp>) -> Option<Self> {
        let start = self.start.max(from);
        let end = match (self.end, to) {
            (Some(end), Some(to)) => Some(end.min(to)),
            (end, to) => end.or(to),
        };
        end.is_none_or(|end| start < end).then_some(Self { start, end })
    }
}

/// The counted stretches of `steps` (oldest first): from a step into `maintenance` with
/// `counts_downtime` until the monitor's next step without it (out of `maintenance`, or
/// `maintenance` → `maintenance` when the windows holding it stop counting). None in the
/// common case.
pub(crate) fn counted_stretches(steps: &[Step]) -> Vec<Stretch> {
    let mut out = Vec::new();
    let mut open: Option<Timestamp> = None;
    for step in steps {
        let counted = step.to == MonitorState::Maintenance && step.counts_downtime;
        match (counted, open) {
            (true, None) => open = Some(step.at),
            (false, Some(start)) => {
                out.push(Stretch { start, end: Some(step.at) });
                open = None;
            }
            _ => {}
        }
    }
    out.extend(open.map(|start| Stretch { start, end: None }));
    out
}

/// A conclusive check result as [`failing`] reads it: region, time, passed.
pub(crate) type Reading = (String, Timestamp, bool);

/// The down periods within `stretch` (a counted stretch, or the part of one a caller asks
/// about: see [`Stretch::within`]), oldest first, from a monitor's conclusive results (oldest
/// first) in it plus what held when it began (each voter's last result before it).
///
/// A moment is down when more than half of the `voters` have a failing latest result (a voter
/// with no result yet counts as not failing). The voters are the regions that reported in the
/// whole counted stretch, whatever part of it is asked about, so every part is judged alike
/// (for a stretch still open: the regions that reported in it so far).
/// With one region that is: down from a failing check until the next passing one, or the end
/// of the stretch. When no region reported in the stretch (a short one, or one just begun),
/// the regions of the results before it vote. A period still failing when an open stretch's
/// results end stays open (`end` `None`).
pub(crate) fn failing(stretch: &Stretch, voters: &BTreeSet<String>, results: &[Reading]) -> Vec<DownPeriod> {
    let before_end = |at: Timestamp| stretch.end.is_none_or(|end| at < end);
    let mut voters: BTreeSet<&str> = voters.iter().map(String::as_str).collect();
    if voters.is_empty() {
        voters = results.iter().filter(|r| r.1 < stretch.start).map(|r| r.0.as_str()).collect();
    }
    let mut failing_now: HashMap<&str, bool> = HashMap::new();
    let mut periods = Vec::new();
    let mut run: Option<Timestamp> = None;
    for (region, at, ok) in results {
        if !before_end(*at) {
            break;
        }
        if !voters.contains(region.as_str()) {
            continue;
        }
        failing_now.insert(region, !ok);
        let down = failing_now.values().filter(|f| **f).count() * 2 > voters.len();
        let at = (*at).max(stretch.start);
        match (down, run) {
            (true, None) => run = Some(at),
            (false, Some(start)) => {
                if start < at {
                    periods.push(DownPeriod { start, end: Some(at) });
                }
                run = None;
            }
            _ => {}
        }
    }
    if let Some(start) = run {
        periods.push(DownPeriod { start, end: stretch.end });
    }
    periods
}

#[cfg(test)]
mod tests;

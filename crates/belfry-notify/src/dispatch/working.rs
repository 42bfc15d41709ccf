//! The alerts one routing pass works on: the unresolved ones as stored, then those the pass
//! opens; found by id and by subject without a scan, so a pass costs what its transitions touch,
//! not transitions × alerts.

use std::collections::HashMap;

use belfry_core::alert::Alert;

pub(super) struct Working {
    alerts: Vec<Alert>,
    /// The first `stored` of `alerts` were read from the store; the rest are opened.
    stored: usize,
    by_id: HashMap<String, usize>,
    by_subject: HashMap<String, Vec<usize>>,
    /// Changed by the pass (every opened one is).
    touched: Vec<bool>,
}

impl Working {
    pub(super) fn new(unresolved: &[Alert]) -> Self {
        let mut working = Self {
            alerts: Vec::with_capacity(unresolved.len()),
            stored: unresolved.len(),
            by_id: HashMap::with_capacity(unresolved.len()),
            by_subject: HashMap::new(),
            touched: Vec::with_capacity(unresolved.len()),
        };
        for alert in unresolved {
            working.index(alert.clone());
        }
        working
    }

    fn index(&mut self, alert: Alert) -> usize {
        let i = self.alerts.len();
        self.by_id.insert(alert.id.clone(), i);
        self.by_subject.entry(alert.subject.clone()).or_default().push(i);
        self.alerts.push(alert);
        self.touched.push(false);
        i
    }

    pub(super) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Adds an alert the pass opened.
    pub(super) fn open(&mut self, alert: Alert) {
        let i = self.index(alert);
        self.touched[i] = true;
    }

    /// Calls `change` on each alert about `subject`, in order; those it returns true for are
    /// changed.
    pub(super) fn change_subject(&mut self, subject: &str, mut change: impl FnMut(&mut Alert) -> bool) {
        let Some(indices) = self.by_subject.get(subject) else { return };
        for &i in indices {
            if change(&mut self.alerts[i]) {
                self.touched[i] = true;
            }
        }
    }

    /// What to write: the opened alerts, in the order opened, and the stored ones changed.
    pub(super) fn into_writes(self) -> (Vec<Alert>, Vec<Alert>) {
        let mut changed = vec![];
        let mut opened = vec![];
        for (i, (alert, touched)) in self.alerts.into_iter().zip(self.touched).enumerate() {
            match (i < self.stored, touched) {
                (_, false) => {}
                (true, true) => changed.push(alert),
                (false, true) => opened.push(alert),
            }
        }
        (opened, changed)
    }
}

#[cfg(test)]
mod tests {
    use belfry_core::alert::{Escalation, EscalationStep, Event, EventKind};
    use jiff::Timestamp;

    use super::*;

    fn alert(id: &str, subject: &str) -> Alert {
        let escalation = Escalation {
            id: "ops".into(),
            repeat: 1,
            steps: vec![EscalationStep { after: std::time::Duration::ZERO, notify: vec!["hook".into()] }],
            round: None,
            renotify: None,
        };
        let event = Event {
            kind: EventKind::Down,
            at: Timestamp::UNIX_EPOCH,
            monitor: None,
            component: None,
            incident: None,
            title: "Down".into(),
            reason: None,
            failing_conditions: vec![],
            tags: vec![],
        };
        let mut alert = Alert::open(id.into(), &escalation, event, Timestamp::UNIX_EPOCH);
        alert.subject = subject.into();
        alert
    }

    fn ids(alerts: &[Alert]) -> Vec<&str> {
        alerts.iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn alerts_are_found_by_id_and_subject_and_only_the_touched_are_written() {
        let mut working =
            Working::new(&[alert("a", "monitor:x"), alert("b", "monitor:y"), alert("c", "monitor:x")]);
        assert!(working.contains("b") && !working.contains("d"));
        working.open(alert("d", "monitor:x"));
        assert!(working.contains("d"));
        let mut seen = vec![];
        working.change_subject("monitor:x", |a| {
            seen.push(a.id.clone());
            a.id != "c"
        });
        assert_eq!(seen, ["a", "c", "d"], "stored ones in order, then the opened one");
        working.change_subject("monitor:none", |_| unreachable!());
        let (opened, changed) = working.into_writes();
        assert_eq!((ids(&opened), ids(&changed)), (vec!["d"], vec!["a"]));
    }
}

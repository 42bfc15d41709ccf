//! Automatic incidents (principle P6): a monitor going down opens an incident at once (or a
//! private draft), recovery moves it to `monitoring`, and it resolves after the monitor has
//! stayed up for a while. Flaps of the same monitor attach to the incident still open.
//! Pure rules: the caller loads the open incident and saves what comes back.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use super::{
    AffectedComponents, AutoSource, Impact, Incident, IncidentStatus, NewUpdate, TimelineEntry, TimelineKind,
};
use crate::component::ComponentStatus;
use crate::monitor::{MonitorId, MonitorSpec};
use crate::policy::{MonitorState, Transition};
use crate::store::IncidentFilter;

/// `incident:` on a monitor (or inherited from its component).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoIncident {
    /// `auto` publishes at once; `draft` opens a private draft for a human to publish.
    pub publish: bool,
    /// Resolve once the monitor has been up this long; `None` leaves it in `monitoring`.
    pub resolve_after: Option<Duration>,
}

impl Default for AutoIncident {
    fn default() -> Self {
        Self { publish: true, resolve_after: Some(Duration::from_secs(600)) }
    }
}

/// What the caller should save.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoStep {
    /// A new incident (save with expected version 0).
    Open(Incident, Vec<TimelineEntry>),
    /// The changed open incident (save with its loaded version).
    Save(Incident, Vec<TimelineEntry>),
    Nothing,
}

const AUTHOR: &str = "belfry";

/// Reacts to one transition of `monitor`. `open` is the monitor's automatic incident that is
/// not resolved yet, if any; `new_id` names a new incident or update.
pub fn on_transition(
    policy: &AutoIncident,
    monitor: &MonitorSpec,
    transition: &Transition,
    open: Option<Incident>,
    new_id: &mut dyn FnMut() -> String,
) -> AutoStep {
    let now = transition.at;
    let name = &monitor.name;
    let evidence = monitor_entry_data(transition);
    match (transition.event(), open) {
        (Some("down"), None) => {
            let status: ComponentStatus = monitor.impact.into();
            let reason = transition.reason.as_deref().unwrap_or("checks failing");
            let body = format!("{name} went down: {reason}. We are investigating.");
            let mut first =
                update(monitor, policy, IncidentStatus::Investigating, body, Some(status), new_id());
            first.display_at = Some(now);
            let opened = Incident::open(
                new_id(),
                format!("{name} went down"),
                Impact::of_status(status),
                first,
                Some(AutoSource { monitor: monitor.id.clone() }),
                policy.publish,
                now,
            );
            match opened {
                Ok((incident, mut timeline)) => {
                    timeline.insert(0, monitor_entry(&incident.id, transition, evidence));
                    AutoStep::Open(incident, timeline)
                }
                Err(_) => AutoStep::Nothing,
            }
        }
        (Some("down"), Some(mut incident)) => {
            let mut timeline = vec![monitor_entry(&incident.id, transition, evidence)];
            if incident.status == IncidentStatus::Monitoring {
                let reason = transition.reason.as_deref().unwrap_or("checks failing");
                let body = format!("{name} went down again: {reason}.");
                let again = update(
                    monitor,
                    policy,
                    IncidentStatus::Investigating,
                    body,
                    Some(monitor.impact.into()),
                    new_id(),
                );
                if let Ok(more) = incident.post_update(again, now) {
                    timeline.extend(more);
                }
            }
            AutoStep::Save(incident, timeline)
        }
        (Some("up"), Some(mut incident)) => {
            let mut timeline = vec![monitor_entry(&incident.id, transition, evidence)];
            let down_for = since(incident.started_at, now);
            let body = format!(
                "{name} recovered after {} according to monitoring. We are monitoring.",
                super::postmortem::human_duration(down_for)
            );
            let recovered = update(
                monitor,
                policy,
                IncidentStatus::Monitoring,
                body,
                Some(ComponentStatus::Operational),
                new_id(),
            );
            if let Ok(more) = incident.post_update(recovered, now) {
                timeline.extend(more);
            }
            AutoStep::Save(incident, timeline)
        }
        (_, Some(incident)) => {
            let entry = monitor_entry(&incident.id, transition, evidence);
            AutoStep::Save(incident, vec![entry])
        }
        (_, None) => AutoStep::Nothing,
    }
}

/// Resolves an automatic incident in `monitoring` once its monitor has been up for the
/// policy's `resolve_after`. `state`/`state_since` are the monitor's live state.
pub fn on_tick(
    policy: &AutoIncident,
    monitor: &MonitorSpec,
    incident: &mut Incident,
    state: MonitorState,
    state_since: Timestamp,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> String,
) -> Option<Vec<TimelineEntry>> {
    let wait = policy.resolve_after?;
    let healthy = matches!(state, MonitorState::Up | MonitorState::Degraded);
    if incident.status != IncidentStatus::Monitoring || !healthy || since(state_since, now) < wait {
        return None;
    }
    let body = format!(
        "Resolved: {} has been up for {}.",
        monitor.name,
        super::postmortem::human_duration(since(state_since, now))
    );
    incident.post_update(update(monitor, policy, IncidentStatus::Resolved, body, None, new_id()), now).ok()
}

/// An update by Belfry that sets the monitor's component (if any) to `component_status`.
fn update(
    monitor: &MonitorSpec,
    policy: &AutoIncident,
    status: IncidentStatus,
    body: String,
    component_status: Option<ComponentStatus>,
    id: String,
) -> NewUpdate {
    let mut components = AffectedComponents::new();
    if let (Some(c), Some(s)) = (&monitor.component, component_status) {
        components.insert(c.clone(), s);
    }
    NewUpdate {
        id,
        status,
        body,
        author: AUTHOR.to_owned(),
        notify: policy.publish,
        components,
        impact: None,
        display_at: None,
    }
}

fn since(from: Timestamp, to: Timestamp) -> Duration {
    to.duration_since(from).try_into().unwrap_or(Duration::ZERO)
}

fn monitor_entry_data(t: &Transition) -> serde_json::Value {
    json!({
        "monitor": t.monitor,
        "from": t.from,
        "to": t.to,
        "flapping": t.flapping,
        "reason": t.reason,
        "results": t.results,
    })
}

/// Whether a monitor's machine facts (its transitions, the alerts sent and acknowledged for it,
/// their escalations) belong on `incident`'s timeline: it is open (not resolved, not in
/// postmortem) and it is the monitor's automatic incident or affects the monitor's component,
/// whoever opened it.
pub fn is_about(incident: &Incident, monitor: &MonitorId, component: Option<&MonitorId>) -> bool {
    incident.is_open()
        && (incident.auto.as_ref().is_some_and(|a| &a.monitor == monitor)
            || component.is_some_and(|c| incident.components.contains_key(c)))
}

/// The incidents a monitor's facts may belong on: every open one, drafts included (narrow them
/// with [`is_about`]).
pub fn open_incidents() -> IncidentFilter {
    IncidentFilter { unresolved_only: true, include_drafts: true, limit: 1000, ..IncidentFilter::default() }
}

/// The timeline entry of a monitor transition on `incident`: from → to, the reason (the
/// failing conditions as resolved) and the failing results in `data`.
pub fn transition_entry(incident: &str, t: &Transition) -> TimelineEntry {
    monitor_entry(incident, t, monitor_entry_data(t))
}

/// Whether `entry` is the one [`transition_entry`] (or the automatic rules) wrote for `t`: the
/// same kind, time and text. A worker that may have written a transition before it could move
/// its cursor looks for it, so doing the transition again writes nothing twice.
pub fn records(entry: &TimelineEntry, t: &Transition) -> bool {
    entry.kind == TimelineKind::Monitor && entry.at == t.at && entry.text == monitor_entry_text(t)
}

fn monitor_entry(incident: &str, t: &Transition, data: serde_json::Value) -> TimelineEntry {
    TimelineEntry::new(incident, t.at, TimelineKind::Monitor, monitor_entry_text(t), AUTHOR).with_data(data)
}

fn monitor_entry_text(t: &Transition) -> String {
    let reason = t.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
    let flapping = if t.flapping { " (flapping)" } else { "" };
    format!("Monitor {} {} → {}{reason}{flapping}", t.monitor, t.from, t.to)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::check::{CheckSpec, TcpCheck};
    use crate::component::OutageImpact;
    use crate::monitor::MonitorId;
    use crate::policy::Policy;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn monitor() -> Arc<MonitorSpec> {
        Arc::new(MonitorSpec {
            id: MonitorId::parse("api-http").unwrap(),
            name: "Internal API".into(),
            component: Some(MonitorId::parse("api").unwrap()),
            check: CheckSpec::Tcp(TcpCheck { host: "h".into(), port: 1, send: None, expect: None }),
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            conditions: vec![],
            degraded_when: vec![],
            policy: Policy::default(),
            impact: OutageImpact::PartialOutage,
            paused: false,
            incident: Some(AutoIncident::default()),
            depends_on: vec![],
            tags: vec![],
            regions: None,
        })
    }

    fn transition(from: MonitorState, to: MonitorState, s: i64) -> Transition {
        Transition {
            monitor: MonitorId::parse("api-http").unwrap(),
            from,
            to,
            at: at(s),
            flapping: false,
            counts_downtime: false,
            reason: (to == MonitorState::Down).then(|| "[STATUS] (503) == 200".to_owned()),
            results: vec![],
        }
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id{n}")
        }
    }

    use MonitorState::{Down, Suspected, Up};

    #[test]
    fn down_opens_up_monitors_and_a_quiet_period_resolves() {
        let policy = AutoIncident::default();
        let m = monitor();
        let mut id = ids();
        let AutoStep::Open(mut inc, timeline) =
            on_transition(&policy, &m, &transition(Suspected, Down, 0), None, &mut id)
        else {
            panic!("expected a new incident")
        };
        assert_eq!(inc.name, "Internal API went down");
        assert_eq!(inc.impact, Impact::Major);
        assert_eq!(inc.components.values().copied().collect::<Vec<_>>(), [ComponentStatus::PartialOutage]);
        assert!(inc.published);
        assert_eq!(timeline[0].kind, TimelineKind::Monitor);
        assert!(inc.updates[0].body.contains("[STATUS] (503) == 200"));

        let AutoStep::Save(next, _) =
            on_transition(&policy, &m, &transition(Down, Up, 4020), Some(inc), &mut id)
        else {
            panic!("expected a save")
        };
        inc = next;
        assert_eq!(inc.status, IncidentStatus::Monitoring);
        assert!(inc.updates[1].body.contains("recovered after 1 h 7 min"), "{}", inc.updates[1].body);
        assert_eq!(inc.holds().next().unwrap().1, ComponentStatus::Operational);

        assert!(on_tick(&policy, &m, &mut inc, Up, at(4020), at(4020 + 599), &mut id).is_none());
        assert!(on_tick(&policy, &m, &mut inc, Up, at(4020), at(4020 + 600), &mut id).is_some());
        assert_eq!(inc.status, IncidentStatus::Resolved);
    }

    #[test]
    fn a_flap_while_monitoring_reopens_the_same_incident() {
        let policy = AutoIncident::default();
        let m = monitor();
        let mut id = ids();
        let AutoStep::Open(inc, _) = on_transition(&policy, &m, &transition(Up, Down, 0), None, &mut id)
        else {
            panic!()
        };
        let AutoStep::Save(inc, _) =
            on_transition(&policy, &m, &transition(Down, Up, 60), Some(inc), &mut id)
        else {
            panic!()
        };
        let AutoStep::Save(inc, timeline) =
            on_transition(&policy, &m, &transition(Up, Down, 120), Some(inc), &mut id)
        else {
            panic!()
        };
        assert_eq!(inc.status, IncidentStatus::Investigating);
        assert_eq!(inc.id, "id2", "the same incident");
        assert!(timeline.iter().any(|e| e.text.contains("Monitor api-http up → down")));
    }

    /// An incident a person opened, on `components`, in `status`.
    fn manual(id: &str, components: &[&str], status: IncidentStatus) -> Incident {
        let first = NewUpdate {
            id: format!("{id}-u1"),
            status,
            body: "Looking into it".into(),
            author: "dana".into(),
            notify: true,
            components: components
                .iter()
                .map(|c| (MonitorId::parse(c).unwrap(), ComponentStatus::DegradedPerformance))
                .collect(),
            impact: None,
            display_at: None,
        };
        Incident::open(id.into(), "Forms slow".into(), Impact::Minor, first, None, true, at(0)).unwrap().0
    }

    #[test]
    fn a_monitors_facts_belong_on_open_incidents_of_its_component_and_its_own() {
        let m = monitor();
        let api = m.component.as_ref();
        let about = |i: &Incident| is_about(i, &m.id, api);
        assert!(about(&manual("on-api", &["api", "web"], IncidentStatus::Identified)));
        assert!(!about(&manual("on-web", &["web"], IncidentStatus::Investigating)), "another component");
        assert!(!about(&manual("nowhere", &[], IncidentStatus::Investigating)));
        assert!(!about(&manual("over", &["api"], IncidentStatus::Resolved)), "closed incidents are history");
        assert!(!is_about(&manual("on-api", &["api"], IncidentStatus::Monitoring), &m.id, None));

        let AutoStep::Open(own, _) =
            on_transition(&AutoIncident::default(), &m, &transition(Up, Down, 0), None, &mut ids())
        else {
            panic!()
        };
        assert!(is_about(&own, &m.id, None), "its automatic incident, whatever the component");
        let other = MonitorId::parse("api-dns").unwrap();
        assert!(is_about(&own, &other, api), "it affects api");
        assert!(!is_about(&own, &other, None));
    }

    #[test]
    fn a_transition_entry_names_the_failing_condition_and_keeps_the_results() {
        let entry = transition_entry("inc1", &transition(Suspected, Down, 5));
        assert_eq!(entry.incident, "inc1");
        assert_eq!(entry.kind, TimelineKind::Monitor);
        assert_eq!(entry.at, at(5));
        assert_eq!(entry.text, "Monitor api-http suspected → down: [STATUS] (503) == 200");
        assert_eq!(entry.author, None, "recorded by Belfry");
        assert_eq!(entry.data["reason"], "[STATUS] (503) == 200");
        assert!(entry.data["results"].is_array());
    }

    #[test]
    fn a_transition_is_recognised_on_a_timeline_by_kind_time_and_text() {
        let t = transition(Up, Down, 5);
        let AutoStep::Open(_, timeline) =
            on_transition(&AutoIncident::default(), &monitor(), &t, None, &mut ids())
        else {
            panic!()
        };
        assert!(records(&timeline[0], &t), "the automatic rules' entry");
        assert!(records(&transition_entry("other", &t), &t), "the entry on another incident");
        assert!(!records(&transition_entry("id2", &transition(Up, Down, 6)), &t), "another time");
        assert!(!records(&transition_entry("id2", &transition(Down, Up, 5)), &t), "another change");
        let note = TimelineEntry::new("id2", t.at, TimelineKind::Note, timeline[0].text.clone(), "dana");
        assert!(!records(&note, &t), "a person's note with the same words");
        assert!(timeline[1..].iter().all(|e| !records(e, &t)), "the incident's own entries");
    }

    #[test]
    fn drafts_stay_private_and_manual_resolution_waits() {
        let policy = AutoIncident { publish: false, resolve_after: None };
        let m = monitor();
        let mut id = ids();
        let AutoStep::Open(mut inc, _) = on_transition(&policy, &m, &transition(Up, Down, 0), None, &mut id)
        else {
            panic!()
        };
        assert!(!inc.published);
        assert!(on_tick(&policy, &m, &mut inc, Up, at(0), at(100_000), &mut id).is_none());
        assert_eq!(
            on_transition(&policy, &m, &transition(Up, Suspected, 5), None, &mut id),
            AutoStep::Nothing
        );
    }
}

//! The port through which the web layer reads live state and asks the running service to act,
//! without knowing the engine, the config loader or the metrics recorder.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::catalog::Catalog;
use crate::monitor::MonitorId;
use crate::policy::MonitorState;

/// A monitor's live state as the engine holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveState {
    pub monitor: MonitorId,
    pub state: MonitorState,
    pub since: Timestamp,
    pub flapping: bool,
}

impl LiveState {
    /// The state a monitor's policy memory shows.
    pub fn of(monitor: MonitorId, policy: &crate::policy::PolicyState) -> Self {
        Self { monitor, state: policy.state, since: policy.since, flapping: policy.flapping }
    }

    /// `states` by monitor, for pages that look up every monitor (a linear `find` per monitor
    /// is quadratic: 400 million comparisons at 20,000 monitors).
    pub fn by_monitor(states: &[LiveState]) -> std::collections::HashMap<&MonitorId, &LiveState> {
        states.iter().map(|s| (&s.monitor, s)).collect()
    }
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    pub scheduler_running: bool,
    /// Recent p99 lag between when checks were due and when they started.
    pub schedule_lag: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("no heartbeat monitor has this token")]
    UnknownToken,
    #[error("the heartbeat monitor is paused")]
    Paused,
}

/// The config sections the console can add objects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Monitors,
    Channels,
}

impl Section {
    pub const ALL: [Section; 2] = [Section::Monitors, Section::Channels];

    /// The config key of the section (`monitors`, `channels`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Monitors => "monitors",
            Self::Channels => "channels",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == raw)
    }
}

/// One console-made object: an entry of a config section, written as YAML (JSON is YAML too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleObject {
    pub section: Section,
    pub id: String,
    pub yaml: String,
}

impl ConsoleObject {
    /// The vault entry holding the console's order of components (a JSON list of ids). Under
    /// `object:` so other nodes hear of it like any console change; not a section's object.
    pub const COMPONENT_ORDER: &'static str = "object:layout:components";
    /// Every vault entry of the console's configuration starts with this (a change to one is a
    /// configuration change every node reloads).
    pub const VAULT_PREFIX: &'static str = "object:";

    /// Its vault entry name: `object:{section}:{id}`.
    pub fn vault_name(section: Section, id: &str) -> String {
        format!("{}{}:{id}", Self::VAULT_PREFIX, section.key())
    }

    /// The object stored under a vault name, if it is one.
    pub fn from_vault(name: &str, yaml: String) -> Option<Self> {
        let rest = name.strip_prefix(Self::VAULT_PREFIX)?;
        let (section, id) = rest.split_once(':')?;
        Some(Self { section: Section::parse(section)?, id: id.to_owned(), yaml })
    }
}

#[async_trait]
pub trait Runtime: Send + Sync {
    /// The configuration in force now.
    fn catalog(&self) -> Arc<Catalog>;

    /// Live states of all configured monitors.
    fn states(&self) -> Vec<LiveState>;

    /// A heartbeat ping on `/api/v1/push/{token}`; `down` carries a failure message when the
    /// pinger reports it is unhealthy (`?status=down&msg=…`).
    fn push(&self, token: &str, down: Option<String>) -> Result<MonitorId, PushError>;

    /// Re-reads the config; on error the running one stays and the errors are returned,
    /// each as `file:line:col: key.path: message`.
    async fn reload(&self) -> Result<(), Vec<String>>;

    fn readiness(&self) -> Readiness;

    /// Objects made in the console (kept sealed in the store), as config YAML.
    async fn console_objects(&self) -> Result<Vec<ConsoleObject>, String>;

    /// Adds or replaces (`yaml: Some`) or removes (`None`) a console-made object. It is
    /// validated together with the config file and put in force at once; on error nothing
    /// changes and the errors are returned (an id the config file defines is refused).
    async fn put_console_object(
        &self,
        section: Section,
        id: &str,
        yaml: Option<String>,
    ) -> Result<(), Vec<String>>;

    /// Sets the order of the page's components (ids); kept in the store for every node.
    async fn set_component_order(&self, order: Vec<String>) -> Result<(), String>;

    /// Runs a monitor's check once, now, outside its schedule and policy ("run now").
    async fn run_now(&self, monitor: &MonitorId) -> Option<crate::check::CheckResult>;

    /// Prometheus text exposition of the process metrics.
    fn render_metrics(&self) -> String;

    /// Remote probes: their assignments' results in, their status and per-region views out.
    fn probes(&self) -> Arc<dyn crate::probe::ProbeHub>;

    /// Transitions the engine decided but could not write yet (the store is unavailable), oldest
    /// first: the alert dispatcher pages from these directly while the store is away.
    async fn unwritten_transitions(&self) -> Vec<crate::policy::Transition> {
        vec![]
    }
}

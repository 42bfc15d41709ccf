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

    /// Prometheus text exposition of the process metrics.
    fn render_metrics(&self) -> String;
}

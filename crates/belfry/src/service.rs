//! The running service as the web layer sees it: the `Runtime` port implemented over the engine,
//! the config source and the metrics recorder.

use std::sync::Arc;

use async_trait::async_trait;
use belfry_core::runtime::{PushError, Readiness};
use belfry_core::store::Storage;
use belfry_core::{Catalog, LiveState, MonitorId, Runtime};
use belfry_probe::Engine;

use crate::settings::{ConfigSource, render_errors};
use crate::telemetry;

pub struct Service {
    pub engine: Arc<Engine>,
    pub storage: Arc<dyn Storage>,
    pub source: ConfigSource,
    /// Serialises reloads (SIGHUP and the API may race).
    reload_lock: tokio::sync::Mutex<()>,
}

impl Service {
    pub fn new(engine: Arc<Engine>, storage: Arc<dyn Storage>, source: ConfigSource) -> Self {
        Self { engine, storage, source, reload_lock: tokio::sync::Mutex::new(()) }
    }
}

#[async_trait]
impl Runtime for Service {
    fn catalog(&self) -> Arc<Catalog> {
        self.engine.catalog()
    }

    fn states(&self) -> Vec<LiveState> {
        self.engine.states()
    }

    fn push(&self, token: &str, down: Option<String>) -> Result<MonitorId, PushError> {
        self.engine.push(token, down)
    }

    async fn reload(&self) -> Result<(), Vec<String>> {
        let _one_at_a_time = self.reload_lock.lock().await;
        match self.source.load() {
            Ok(settings) => {
                let monitors = settings.catalog.monitors.len();
                self.engine.apply(Arc::new(settings.catalog));
                tracing::info!(source = %self.source.describe(), monitors, "configuration reloaded");
                Ok(())
            }
            Err(errors) => {
                tracing::error!(
                    source = %self.source.describe(),
                    "configuration rejected; the running one stays in force:\n{}",
                    render_errors(&errors)
                );
                Err(errors.iter().map(ToString::to_string).collect())
            }
        }
    }

    fn readiness(&self) -> Readiness {
        Readiness { scheduler_running: self.engine.is_running(), schedule_lag: self.engine.schedule_lag() }
    }

    fn render_metrics(&self) -> String {
        let pool = self.storage.pool_stats();
        metrics::gauge!("belfry_store_pool_connections", "state" => "open").set(f64::from(pool.size));
        metrics::gauge!("belfry_store_pool_connections", "state" => "idle").set(f64::from(pool.idle));
        metrics::gauge!("belfry_store_pool_max_connections").set(f64::from(pool.max));
        metrics::gauge!("belfry_schedule_lag_p99_seconds").set(self.engine.schedule_lag().as_secs_f64());
        telemetry::prometheus().render()
    }
}

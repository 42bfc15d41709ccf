//! The running service as the web layer sees it: the `Runtime` port implemented over the engine,
//! the config source and the metrics recorder.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use belfry_core::coordination::{Alone, Change, Coordination};
use belfry_core::runtime::{PushError, Readiness};
use belfry_core::store::Storage;
use belfry_core::vault::Vault;
use belfry_core::{Catalog, CheckResult, ConsoleObject, LiveState, MonitorId, Runtime, Section};
use belfry_probe::Engine;

use crate::settings::ConfigSource;
use crate::telemetry;

pub struct Service {
    pub engine: Arc<Engine>,
    pub storage: Arc<dyn Storage>,
    pub source: ConfigSource,
    /// The store's secrets, opened with the master key.
    pub vault: Vault,
    /// Serialises reloads and console changes (SIGHUP and the API may race).
    reload_lock: tokio::sync::Mutex<()>,
    /// How this node shares the work with others on the same store (alone by default).
    coordination: Arc<dyn Coordination>,
    /// The persisted states of the monitors other nodes run, refreshed every second and on
    /// each change they announce; empty for a node alone.
    others: RwLock<HashMap<MonitorId, LiveState>>,
    /// `storage:` as the node started with it; a reload cannot swap the store under a running
    /// node, so a changed section is reported instead of silently ignored.
    storage_in_force: Option<crate::config::StorageSettings>,
}

impl Service {
    pub fn new(engine: Arc<Engine>, storage: Arc<dyn Storage>, source: ConfigSource, vault: Vault) -> Self {
        Self {
            engine,
            storage,
            source,
            vault,
            reload_lock: tokio::sync::Mutex::new(()),
            coordination: Arc::new(Alone),
            others: RwLock::default(),
            storage_in_force: None,
        }
    }

    /// The same service knowing the `storage:` section it started with, so a reload that
    /// changes it is reported as taking effect at the next start.
    pub fn with_storage_in_force(mut self, storage: crate::config::StorageSettings) -> Self {
        self.storage_in_force = Some(storage);
        self
    }

    /// The same service sharing the work through `coordination` (instead of running alone).
    pub fn with_coordination(mut self, coordination: Arc<dyn Coordination>) -> Self {
        self.coordination = coordination;
        self
    }

    pub fn coordination(&self) -> Arc<dyn Coordination> {
        self.coordination.clone()
    }

    /// Re-reads the persisted states, which `states()` shows for the monitors other nodes run.
    pub async fn refresh_others(&self) {
        match self.storage.policy_states().await {
            Ok(persisted) => {
                let states = persisted
                    .into_iter()
                    .map(|(monitor, p)| (monitor.clone(), LiveState::of(monitor, &p)))
                    .collect();
                *self.others.write().unwrap_or_else(|e| e.into_inner()) = states;
            }
            Err(e) => {
                tracing::debug!(error = %e, "reading the other nodes' monitor states failed; will retry")
            }
        }
    }

    /// The config file's settings with the console's objects (as stored now, or `objects`).
    async fn settings_with(
        &self,
        objects: Option<Vec<ConsoleObject>>,
    ) -> Result<crate::config::Settings, Vec<String>> {
        let objects = match objects {
            Some(objects) => objects,
            None => stored_objects(&self.vault).await.map_err(|e| vec![e])?,
        };
        let mut settings = self
            .source
            .load_with(&objects)
            .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        settings.catalog.order_components(&stored_component_order(&self.vault).await.map_err(|e| vec![e])?);
        Ok(settings)
    }
}

/// The console's order of components, if one was set.
pub async fn stored_component_order(vault: &Vault) -> Result<Vec<String>, String> {
    match vault.get(ConsoleObject::COMPONENT_ORDER).await {
        Ok(Some(bytes)) => {
            serde_json::from_slice(&bytes).map_err(|e| format!("reading the component order: {e}"))
        }
        Ok(None) => Ok(vec![]),
        Err(e) => Err(format!("reading the component order: {e}")),
    }
}

/// The console's objects kept in `vault`.
pub async fn stored_objects(vault: &Vault) -> Result<Vec<ConsoleObject>, String> {
    let entries =
        vault.list(ConsoleObject::VAULT_PREFIX).await.map_err(|e| format!("reading console objects: {e}"))?;
    Ok(entries
        .into_iter()
        .filter_map(|(name, yaml)| ConsoleObject::from_vault(&name, String::from_utf8(yaml).ok()?))
        .collect())
}

#[async_trait]
impl Runtime for Service {
    fn catalog(&self) -> Arc<Catalog> {
        self.engine.catalog()
    }

    /// This node's monitors as its engine holds them; the others' as last persisted.
    fn states(&self) -> Vec<LiveState> {
        let mut states = self.engine.states();
        let others = self.others.read().unwrap_or_else(|e| e.into_inner());
        if others.is_empty() {
            return states;
        }
        let owns = self.engine.ownership();
        for live in &mut states {
            if !owns(&live.monitor)
                && let Some(theirs) = others.get(&live.monitor)
            {
                *live = theirs.clone();
            }
        }
        states
    }

    fn push(&self, token: &str, down: Option<String>) -> Result<MonitorId, PushError> {
        let monitor = self.engine.push(token, down.clone())?;
        // The monitor may run on another node: every node hears the ping, its owner judges it.
        let coordination = self.coordination.clone();
        let token = token.to_owned();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = coordination.announce(&Change::Ping { token, down }).await {
                    tracing::warn!(error = %e, "could not pass a heartbeat ping to the other nodes");
                }
            });
        }
        Ok(monitor)
    }

    async fn reload(&self) -> Result<(), Vec<String>> {
        let _one_at_a_time = self.reload_lock.lock().await;
        match self.settings_with(None).await {
            Ok(settings) => {
                if self.storage_in_force.as_ref().is_some_and(|running| running != &settings.storage) {
                    tracing::warn!(
                        source = %self.source.describe(),
                        "`storage:` changed; it takes effect at the next start (the running store and retention are kept)"
                    );
                }
                let monitors = settings.catalog.monitors.len();
                self.engine.apply(Arc::new(settings.catalog));
                tracing::info!(source = %self.source.describe(), monitors, "configuration reloaded");
                Ok(())
            }
            Err(errors) => {
                tracing::error!(
                    source = %self.source.describe(),
                    "configuration rejected; the running one stays in force:\n{}",
                    errors.join("\n")
                );
                Err(errors)
            }
        }
    }

    async fn console_objects(&self) -> Result<Vec<ConsoleObject>, String> {
        stored_objects(&self.vault).await
    }

    async fn put_console_object(
        &self,
        section: Section,
        id: &str,
        yaml: Option<String>,
    ) -> Result<(), Vec<String>> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let mut objects = stored_objects(&self.vault).await.map_err(|e| vec![e])?;
        objects.retain(|o| !(o.section == section && o.id == id));
        if let Some(yaml) = &yaml {
            objects.push(ConsoleObject { section, id: id.to_owned(), yaml: yaml.clone() });
        }
        let settings = self.settings_with(Some(objects)).await?;
        let name = ConsoleObject::vault_name(section, id);
        let written = match &yaml {
            Some(yaml) => self.vault.put(&name, yaml.as_bytes()).await,
            None => self.vault.delete(&name).await.map(|_| ()),
        };
        written.map_err(|e| vec![format!("saving the object failed: {e}")])?;
        self.engine.apply(Arc::new(settings.catalog));
        Ok(())
    }

    async fn set_component_order(&self, order: Vec<String>) -> Result<(), String> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let json = serde_json::to_vec(&order).map_err(|e| e.to_string())?;
        self.vault
            .put(ConsoleObject::COMPONENT_ORDER, &json)
            .await
            .map_err(|e| format!("saving the order failed: {e}"))?;
        let settings = self.settings_with(None).await.map_err(|e| e.join("\n"))?;
        self.engine.apply(Arc::new(settings.catalog));
        Ok(())
    }

    async fn run_now(&self, monitor: &MonitorId) -> Option<CheckResult> {
        self.engine.run_now(monitor).await
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

    async fn unwritten_transitions(&self) -> Vec<belfry_core::Transition> {
        self.engine.unwritten_transitions().await
    }

    // Remote probes (issue 8): the engine is their hub.
    fn probes(&self) -> Arc<dyn belfry_core::probe::ProbeHub> {
        self.engine.clone()
    }
}

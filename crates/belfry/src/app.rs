//! `Application::build` wires every part (the only place naming concrete types) and binds the
//! listener, so the caller knows the port before serving; tests build it the same way.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use belfry_core::coordination::{Alone, Coordination};
use belfry_core::store::{Storage, TransitionCursor};
use belfry_core::vault::Vault;
use belfry_core::{Clock, SystemClock};
use belfry_notify::dispatch::{Dispatcher, DispatcherConfig};
use belfry_probe::{Checkers, Engine, EngineConfig};
use belfry_web::{ChangeFeed, WebState};
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use crate::automation::Automation;
use crate::cli::{DataArgs, ExportArgs, ServeArgs};
use crate::housekeeping;
use crate::keys::KeySource;
use crate::nodes;
use crate::service::Service;
use crate::settings::{ConfigSource, render_errors, store_url};
use crate::windows;

pub struct Application {
    listener: TcpListener,
    service: Arc<Service>,
    clock: Arc<dyn Clock>,
    retention: Duration,
    /// Poked on every change the public page must show; the page cache rebuilds from it.
    changes: ChangeFeed,
    /// Whether this node runs the desk (always, alone on its store).
    desk: watch::Sender<bool>,
}

/// Opens the store named by `url`.
pub async fn open_store(url: &str, max_connections: u32) -> anyhow::Result<Arc<dyn Storage>> {
    Ok(open_backend(url, max_connections, "cli").await?.0)
}

/// Opens the store named by `url` and the way this node (`node`, a unique name) shares it:
/// several nodes may share a PostgreSQL database; a SQLite file has one node.
pub async fn open_backend(
    url: &str,
    max_connections: u32,
    node: &str,
) -> anyhow::Result<(Arc<dyn Storage>, Arc<dyn Coordination>)> {
    if url.starts_with("sqlite:") {
        let store = belfry_store::SqliteStore::open(url, max_connections)
            .await
            .with_context(|| format!("opening the store at {url}"))?;
        return Ok((Arc::new(store), Arc::new(Alone)));
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        // The URL may hold a password: the store's errors name user, host and database only.
        let store = belfry_store::PgStore::open(url, max_connections)
            .await
            .context("opening the PostgreSQL store")?;
        let coordination = Arc::new(store.coordination(node));
        return Ok((Arc::new(store), coordination));
    }
    bail!("storage.url: unsupported store URL; use sqlite://path/to/belfry.db or postgres://user@host/db")
}

/// A (possibly running) server's data opened for a one-off command.
pub struct Data {
    pub settings: crate::config::Settings,
    pub storage: Arc<dyn Storage>,
    pub vault: Vault,
    pub key: KeySource,
}

/// Opens the store and unlocks its vault; the settings include the console's objects.
pub async fn load_data(args: &DataArgs) -> anyhow::Result<Data> {
    let source = ConfigSource::resolve(args, SocketAddr::from(([127, 0, 0, 1], 8080)));
    let stored = source.storage().map_err(|e| {
        anyhow::anyhow!("invalid configuration in {}:\n{}", source.describe(), render_errors(&e))
    })?;
    let storage = open_store(&store_url(&stored, &args.data), stored.max_connections).await?;
    let key = KeySource::resolve(args.key_file.as_deref(), &args.data);
    let vault = unlock_vault(&storage, &key).await?;
    let objects = crate::service::stored_objects(&vault).await.map_err(anyhow::Error::msg)?;
    let mut settings = source.load_with(&objects).map_err(|e| {
        anyhow::anyhow!("invalid configuration in {}:\n{}", source.describe(), render_errors(&e))
    })?;
    settings
        .catalog
        .order_components(&crate::service::stored_component_order(&vault).await.map_err(anyhow::Error::msg)?);
    Ok(Data { settings, storage, vault, key })
}

/// `belfry export`: the config file's document with the console's objects added to their
/// sections, as YAML that `serve --config` accepts (comments and anchors are not kept).
pub async fn export_yaml(args: &DataArgs, data: &Data) -> anyhow::Result<String> {
    let source = ConfigSource::resolve(args, SocketAddr::from(([127, 0, 0, 1], 8080)));
    let text = match &source {
        crate::settings::ConfigSource::File(path) => std::fs::read_to_string(path)?,
        crate::settings::ConfigSource::Example(listen) => crate::config::example(*listen),
    };
    let mut doc: serde_json::Value = serde_saphyr::from_str(&text).context("reading the config file")?;
    if doc.is_null() {
        doc = serde_json::json!({});
    }
    let top = doc.as_object_mut().context("the config file is not a mapping")?;
    let order = crate::service::stored_component_order(&data.vault).await.map_err(anyhow::Error::msg)?;
    if let Some(components) = top.get_mut("components").and_then(|c| c.as_array_mut()) {
        let rank = |c: &serde_json::Value| {
            let id = c.get("id").and_then(|v| v.as_str()).unwrap_or_default();
            order.iter().position(|o| o == id).unwrap_or(usize::MAX)
        };
        components.sort_by_key(rank);
    }
    for object in crate::service::stored_objects(&data.vault).await.map_err(anyhow::Error::msg)? {
        let value: serde_json::Value = serde_saphyr::from_str(&object.yaml)
            .with_context(|| format!("console object {}/{}", object.section.key(), object.id))?;
        let list = top.entry(object.section.key()).or_insert_with(|| serde_json::json!([]));
        if let Some(items) = list.as_array_mut() {
            items.push(value);
        }
    }
    serde_saphyr::to_string(&doc).context("writing YAML")
}

/// The vault of `storage` opened with the master key from `key` (made on first start).
async fn unlock_vault(storage: &Arc<dyn Storage>, key: &KeySource) -> anyhow::Result<Vault> {
    let master = key.load(true)?;
    crate::keys::unlock(storage.as_ref(), key, &master).await?;
    Ok(Vault::new(master, storage.clone()))
}

impl Application {
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
        let bound = listener.local_addr()?;
        let source = ConfigSource::resolve(&args.data, bound);
        let stored = source.storage().map_err(|errors| {
            anyhow::anyhow!("invalid configuration in {}:\n{}", source.describe(), render_errors(&errors))
        })?;
        let node = nodes::node_name();
        let (store, coordination) =
            open_backend(&store_url(&stored, &args.data.data), stored.max_connections, &node).await?;
        let vault =
            unlock_vault(&store, &KeySource::resolve(args.data.key_file.as_deref(), &args.data.data)).await?;
        let objects = crate::service::stored_objects(&vault).await.map_err(anyhow::Error::msg)?;
        let mut settings = source.load_with(&objects).map_err(|errors| {
            anyhow::anyhow!("invalid configuration in {}:\n{}", source.describe(), render_errors(&errors))
        })?;
        settings.catalog.order_components(
            &crate::service::stored_component_order(&vault).await.map_err(anyhow::Error::msg)?,
        );
        tracing::info!(source = %source.describe(), monitors = settings.catalog.monitors.len(), console_objects = objects.len(), "configuration loaded");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let storage_in_force = settings.storage.clone();
        let engine = Engine::new(
            EngineConfig::default(),
            Arc::new(settings.catalog),
            store.clone(),
            clock.clone(),
            Checkers::new(),
        );
        engine.resume().await.context("restoring monitor states")?;
        let service = Arc::new(
            Service::new(engine, store, source, vault)
                .with_coordination(coordination.clone())
                .with_storage_in_force(storage_in_force),
        );
        // The first share is in force before the engine runs, so no monitor of another node
        // runs here even once.
        let desk = watch::channel(false).0;
        match coordination.balance(&Default::default()).await {
            Ok(share) => {
                if share.buckets.is_some() {
                    tracing::info!(node = %node, nodes = share.nodes, "sharing the store with other nodes");
                    service.refresh_others().await;
                }
                nodes::apply_share(&service, &share, &desk).await;
            }
            Err(e) => {
                tracing::warn!(node = %node, error = %e, "cannot coordinate with the other nodes yet; running no monitor until it can");
                service.engine.set_owned(Some(Default::default())).await;
            }
        }
        Ok(Self {
            listener,
            service,
            clock,
            retention: settings.storage.retention,
            changes: ChangeFeed::new(),
            desk,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn service(&self) -> Arc<Service> {
        self.service.clone()
    }

    /// The public page's change feed: call `notify()` after any write it must show that does
    /// not go through the web API or the engine (e.g. incident automation).
    pub fn changes(&self) -> ChangeFeed {
        self.changes.clone()
    }

    /// Serves until `shutdown` completes, then stops the engine (flushing its last results).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let service = self.service.clone();
        let start = self.clock.now();
        for worker in [crate::automation::CURSOR, belfry_notify::dispatch::CURSOR] {
            TransitionCursor::start_if_new(service.storage.as_ref(), worker, start).await?;
        }
        let engine = tokio::spawn(service.engine.clone().run(stopped()));
        let keeper = tokio::spawn(housekeeping::run(
            service.storage.clone(),
            self.clock.clone(),
            self.retention,
            self.desk.subscribe(),
            stopped(),
        ));
        let desk = tokio::spawn(desk(
            service.clone(),
            self.clock.clone(),
            self.changes.clone(),
            self.desk.subscribe(),
            stopped(),
        ));
        let coordination = service.coordination();
        let sharing = tokio::spawn(nodes::take_part(
            service.clone(),
            coordination.clone(),
            self.desk.clone(),
            stopped(),
        ));
        let hearing =
            tokio::spawn(nodes::hear(service.clone(), coordination, self.changes.clone(), stopped()));
        let upkeep = tokio::spawn(crate::telemetry::upkeep());
        let forward = tokio::spawn(forward_transitions(service.clone(), self.changes.clone()));
        let state = web_state(&service, self.clock.clone());
        let app = belfry_web::router_with(state, self.changes.clone());
        tracing::info!(listen = %self.local_addr(), "serving");
        // The client address feeds per-IP limits (subscriptions).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let served = server.await;
        let _ = engine.await;
        keeper.abort();
        desk.abort();
        sharing.abort();
        hearing.abort();
        upkeep.abort();
        forward.abort();
        served.context("HTTP server failed")
    }
}

/// Every engine transition marks the public page stale (lagging behind only means many
/// changes: one poke covers them all).
async fn forward_transitions(service: Arc<Service>, changes: ChangeFeed) {
    let mut transitions = service.engine.subscribe();
    loop {
        match transitions.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {
                changes.notify();
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// `export-static`: the public site as static files, read from the data of a (possibly
/// running) server. Monitor states are those last persisted.
pub async fn export_static(args: &ExportArgs) -> anyhow::Result<usize> {
    let source = ConfigSource::resolve(&args.data, SocketAddr::from(([127, 0, 0, 1], 8080)));
    let Data { settings, storage: store, vault, .. } = load_data(&args.data).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(
        EngineConfig::default(),
        Arc::new(settings.catalog),
        store.clone(),
        clock.clone(),
        Checkers::new(),
    );
    engine.resume().await.context("reading monitor states")?;
    let service = Arc::new(Service::new(engine, store.clone(), source, vault));
    let written = belfry_web::export_static(&web_state(&service, clock), &args.out)
        .await
        .with_context(|| format!("exporting to {}", args.out.display()))?;
    Ok(written.len())
}

/// What the web layer gets of a service.
fn web_state(service: &Arc<Service>, clock: Arc<dyn Clock>) -> WebState {
    WebState {
        store: service.storage.clone(),
        incidents: service.storage.clone(),
        alerts: service.storage.clone(),
        subscribers: service.storage.clone(),
        admin: service.storage.clone(),
        vault: service.vault.clone(),
        runtime: service.clone(),
        clock,
    }
}

/// The secret that signs acknowledge links, created on first start and sealed in the vault so
/// every node (and a restart) shares it. An older plain copy (a store cursor) moves in.
pub async fn ack_key(vault: &Vault, storage: &dyn Storage) -> anyhow::Result<Vec<u8>> {
    const NAME: &str = "ack_key";
    const LEGACY: &str = "secret:ack_key";
    if let Some(key) = vault.get(NAME).await? {
        return Ok(key);
    }
    let key = match storage.cursor(LEGACY).await?.filter(|k| !k.is_empty()) {
        Some(legacy) => legacy,
        None => belfry_core::auth::random_hex(32)?,
    };
    vault.put(NAME, key.as_bytes()).await?;
    storage.set_cursor(LEGACY, "").await?;
    Ok(key.into_bytes())
}

/// The alert dispatcher of a running service.
pub async fn dispatcher(service: &Arc<Service>) -> anyhow::Result<Dispatcher> {
    let key = ack_key(&service.vault, service.storage.as_ref()).await?;
    let http =
        belfry_notify::HttpClient::new().map_err(|e| anyhow::anyhow!("building the HTTP client: {e}"))?;
    Ok(Dispatcher::new(service.storage.clone(), service.clone(), http, DispatcherConfig::new(key)))
}

/// Once a second: maintenance windows into the engine (every node), and on the node holding
/// the desk (`desk`): window boundaries on timelines, transitions into automatic incidents, and
/// alerts routed, escalated and delivered.
async fn desk(
    service: Arc<Service>,
    clock: Arc<dyn Clock>,
    changes: ChangeFeed,
    desk: watch::Receiver<bool>,
    stop: impl Future<Output = ()>,
) {
    let runtime: Arc<dyn belfry_core::Runtime> = service.clone();
    let automation = Automation::new(service.storage.clone(), service.engine.clone()).with_states_of(runtime);
    // Made when this node first holds the desk (its key is created then if none exists).
    let mut dispatcher: Option<Option<Dispatcher>> = None;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = every.tick() => {}
        }
        let now = clock.now();
        if !*desk.borrow() {
            // Another node does the desk's work meanwhile: what this node's steps learnt of it
            // (where the incident cursor stood, since when alerts' monitors went unchecked) is
            // not to be trusted when the desk comes back.
            automation.forget_progress();
            if let Some(Some(dispatcher)) = &dispatcher {
                dispatcher.forget_unchecked();
            }
            if let Err(e) = windows::apply_to_engine(service.storage.as_ref(), &service.engine, now).await {
                tracing::warn!(error = %e, "applying maintenance windows failed; will retry");
            }
            continue;
        }
        if let Err(e) = windows::apply(service.storage.as_ref(), &service.engine, now).await {
            tracing::warn!(error = %e, "applying maintenance windows failed; will retry");
        }
        let dispatcher = match &dispatcher {
            Some(made) => made,
            None => dispatcher.insert(match self::dispatcher(&service).await {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::error!(error = %e, "alerting is not running");
                    None
                }
            }),
        };
        match automation.step(now).await {
            // Incidents changed: the public page shows them now rather than at its next refresh.
            Ok(n) if n > 0 => {
                changes.notify();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "incident automation failed; will retry"),
        }
        if let Some(dispatcher) = &dispatcher
            && let Err(e) = dispatcher.drain_once(now).await
        {
            tracing::warn!(error = %e, "alert dispatch failed; will retry");
        }
    }
}

/// `serve`: builds, reloads on SIGHUP, stops on SIGINT/SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let app = Application::build(&args).await?;
    let service = app.service();
    let changes = app.changes();
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading configuration");
            let _ = belfry_core::Runtime::reload(service.as_ref()).await;
            changes.notify();
        }
    });
    app.run_until(shutdown_signal()).await
}

/// Completes on SIGINT or SIGTERM (the server's and the probe's stop).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}

//! Logs and the Prometheus recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Buckets of monitors this node runs (see `crate::nodes`).
pub const NODE_BUCKETS: &str = "belfry_node_buckets";
/// 1 while this node runs the desk (incident automation, alert dispatch, store upkeep).
pub const NODE_DESK: &str = "belfry_node_desk";
/// Live nodes sharing the store, as this node last saw them.
pub const NODES: &str = "belfry_nodes";

/// The process-wide Prometheus handle. The `metrics` facade has one global recorder, so
/// several applications in one process (tests) share it; their series are told apart by labels.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = belfry_probe::engine::metrics::SECONDS_BUCKETS;
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), buckets)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; then we render an empty registry.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be incomplete");
        }
        handle
    })
}

/// Logs to stderr; `RUST_LOG` overrides the default `info` level.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,hyper=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Drains histogram samples into their buckets every few seconds; without it the exporter would
/// hold every sample until the next scrape.
pub async fn upkeep() {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        every.tick().await;
        prometheus().run_upkeep();
    }
}

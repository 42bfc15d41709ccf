//! Metric names the engine emits (one place, so dashboards and tests agree).

pub const CHECKS_TOTAL: &str = "belfry_checks_total";
/// Histogram of check durations by check kind.
pub const CHECK_DURATION_SECONDS: &str = "belfry_check_duration_seconds";
/// The latest check's duration, per monitor.
pub const CHECK_LAST_DURATION_SECONDS: &str = "belfry_check_last_duration_seconds";
pub const MONITOR_UP: &str = "belfry_monitor_up";
pub const SCHEDULE_LAG_SECONDS: &str = "belfry_schedule_lag_seconds";
pub const CHECKS_IN_FLIGHT: &str = "belfry_checks_in_flight";
pub const TRANSITIONS_TOTAL: &str = "belfry_transitions_total";
pub const STORE_WRITE_ERRORS_TOTAL: &str = "belfry_store_write_errors_total";
pub const RESULTS_DROPPED_TOTAL: &str = "belfry_results_dropped_total";
pub const WRITE_BUFFER_RESULTS: &str = "belfry_write_buffer_results";

/// Histogram buckets in seconds for check durations and schedule lag.
pub const SECONDS_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

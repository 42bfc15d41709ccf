//! Belfry's domain: monitors, check results, conditions, the decision policy, components,
//! and the ports (`Store`, `Clock`) that the other crates implement or use.
//! No I/O and no async runtime live here.

pub mod access;
pub mod alert;
pub mod auth;
pub mod catalog;
pub mod channel;
pub mod check;
pub mod clock;
pub mod component;
pub mod condition;
pub mod coordination;
pub mod ids;
pub mod incident;
pub mod maintenance;
pub mod monitor;
pub mod policy;
pub mod probe;
pub mod region;
pub mod runtime;
pub mod status;
pub mod store;
pub mod subscriber;
pub mod uptime;
pub mod vault;

pub use catalog::{Catalog, PageSettings};
pub use check::{
    CheckResult, CheckSpec, ConditionResult, DnsCheck, DnsRecordType, DnsServer, HeartbeatCheck, HttpCheck,
    IcmpCheck, Observation, Phases, TcpCheck, TlsCheck,
};
pub use clock::{Clock, SystemClock};
pub use component::{Component, ComponentStatus};
pub use condition::Condition;
pub use monitor::{MonitorId, MonitorSpec};
pub use policy::{MonitorState, PolicyState, Transition};
pub use runtime::{ConsoleObject, LiveState, Runtime, Section};
pub use store::{Store, StoreError};

//! Test doubles of the core ports (`Store`, `IncidentStore`, `Runtime`, `Clock`) and a small fixed world to
//! drive the router in-process. The real end-to-end tests run the real parts.

mod admin;
mod incidents;
mod ports;
mod probes;
mod subscribers;
mod world;

pub use ports::*;
pub use probes::*;
pub use world::*;

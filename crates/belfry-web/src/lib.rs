//! Belfry's HTTP surface: the public status page (HTML, SSE, feeds, badges, static export),
//! health and metrics, the Atlassian-Statuspage-compatible `/api/v2`, the native `/api/v1`
//! and heartbeat pushes. The running service is reached only through the
//! core ports (`Runtime`, `Store`, `IncidentStore`, `Clock`), so this crate never names a
//! concrete engine or database.

mod admin;
mod alerts;
mod auth;
mod badge;
mod cache;
mod changes;
mod channels;
mod console;
mod error;
mod export;
mod extract;
mod feeds;
mod health;
mod html;
mod ics;
mod ids;
mod incidents;
mod links;
mod maintenances;
pub mod markdown;
mod monitors;
mod openapi;
mod page;
pub mod postmortem;
mod probe;
mod public;
mod push;
mod routes;
mod shapes;
mod site;
mod snapshot;
mod sse;
mod state;
mod statuspage;
mod subscribers;
mod xml;

#[cfg(test)]
mod fakes;

pub use auth::Actor;
pub use changes::ChangeFeed;
pub use error::ApiError;
pub use export::{ExportError, export_static};
pub use extract::{ApiJson, ApiPath, ApiQuery};
pub use links::Links;
pub use routes::{Access, route_table, router, router_with};
pub use snapshot::{ComponentView, Overlay, PageInfo, PageSnapshot, StatusView};
pub use state::WebState;

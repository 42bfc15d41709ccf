//! The Belfry binary's library half: settings, wiring and the CLI commands, so that
//! integration tests build the application exactly as `main` does.

pub mod app;
pub mod automation;
pub mod cli;
pub mod config;
mod housekeeping;
pub mod ids;
pub mod keys;
pub mod nodes;
pub mod remote;
pub mod service;
pub mod settings;
pub mod telemetry;
pub mod token;
pub mod users;
pub mod windows;

pub use app::Application;

//! `belfry probe`: a remote probe. It polls the server for the monitors assigned to its
//! region, runs them with the same checkers as the server, and pushes the results in batches,
//! buffering them (bounded) while the server cannot be reached.

mod buffer;
mod client;
mod resolve;
mod runner;

pub use resolve::{Overrides, parse_override};
pub use runner::{ProbeOptions, run};

//! Config loading: YAML text → validated [`Settings`], with every problem reported as
//! `file:line:col: key.path: message` (DESIGN.md §3). The reference is `docs/configuration.md`.
//!
//! serde-saphyr parses the text into a positioned tree ([`node`]); validation then walks the
//! tree ([`settings`], [`monitor`], [`kind`], [`alerting`]) and records an error for each bad
//! key or value instead of stopping at the first.

mod alerting;
mod check;
mod console;
mod depends;
mod duration;
mod error;
mod incident;
mod kind;
mod load;
mod monitor;
mod node;
mod regions;
mod settings;

pub use duration::parse_duration;
pub use error::ConfigError;
pub use load::{example, load_file, load_file_with, load_str, load_str_with, storage_only};
pub use settings::{Settings, StorageSettings};

#[cfg(test)]
mod tests;

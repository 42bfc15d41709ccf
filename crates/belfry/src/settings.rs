//! Resolving where the config comes from and which store URL applies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::cli::DataArgs;
use crate::config::{self, ConfigError, Settings};

/// The default config file looked for in the working directory.
pub const DEFAULT_CONFIG: &str = "belfry.yaml";

/// Where the settings in force came from, so a reload reads the same place.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    File(PathBuf),
    /// The built-in example, for this listen address.
    Example(SocketAddr),
}

impl ConfigSource {
    pub fn resolve(args: &DataArgs, listen: SocketAddr) -> Self {
        match &args.config {
            Some(path) => Self::File(path.clone()),
            None if Path::new(DEFAULT_CONFIG).exists() => Self::File(PathBuf::from(DEFAULT_CONFIG)),
            None => Self::Example(listen),
        }
    }

    pub fn load(&self) -> Result<Settings, Vec<ConfigError>> {
        match self {
            Self::File(path) => config::load_file(path),
            Self::Example(listen) => config::load_str("<built-in example>", &config::example(*listen)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Example(_) => "the built-in example configuration".to_owned(),
        }
    }
}

/// The store URL: the config's `storage.url`, else SQLite under the data directory.
pub fn store_url(settings: &Settings, data: &Path) -> String {
    settings.storage.url.clone().unwrap_or_else(|| format!("sqlite://{}", data.join("belfry.db").display()))
}

/// Every config error on its own line.
pub fn render_errors(errors: &[ConfigError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

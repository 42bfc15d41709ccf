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
        self.load_with(&[])
    }

    /// Only the `storage:` settings: where the store (and so the console's objects) is.
    pub fn storage(&self) -> Result<crate::config::StorageSettings, Vec<ConfigError>> {
        match self {
            Self::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    vec![ConfigError {
                        file: path.display().to_string(),
                        line: 1,
                        column: 1,
                        path: String::new(),
                        message: format!("cannot read the config file: {e}"),
                    }]
                })?;
                config::storage_only(&path.display().to_string(), &text)
            }
            Self::Example(listen) => config::storage_only("<built-in example>", &config::example(*listen)),
        }
    }

    /// The settings with objects made in the console or API added.
    pub fn load_with(&self, objects: &[belfry_core::ConsoleObject]) -> Result<Settings, Vec<ConfigError>> {
        match self {
            Self::File(path) => config::load_file_with(path, objects),
            Self::Example(listen) => {
                config::load_str_with("<built-in example>", &config::example(*listen), objects)
            }
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
pub fn store_url(storage: &crate::config::StorageSettings, data: &Path) -> String {
    storage.url.clone().unwrap_or_else(|| format!("sqlite://{}", data.join("belfry.db").display()))
}

/// Every config error on its own line.
pub fn render_errors(errors: &[ConfigError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

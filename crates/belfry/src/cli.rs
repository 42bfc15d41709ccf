//! Command-line interface. Every flag also reads `BELFRY_<FLAG>` from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "belfry", version, about = "Uptime monitor, public status page and incident desk")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: checks, status page and API.
    Serve(ServeArgs),
    /// Check a config file; prints every error as `file:line:col: key.path: message`.
    Validate {
        /// The YAML config file to check.
        config: PathBuf,
    },
    /// Print an incident's postmortem (the saved document, or one pre-filled from its timeline).
    Postmortem {
        /// The incident id.
        incident: String,
        #[command(flatten)]
        data: DataArgs,
        /// Output format.
        #[arg(long, env = "BELFRY_FORMAT", default_value = "md", value_parser = ["md", "json"])]
        format: String,
    },
    /// Write the public status page, its JSON, feeds and badges as static files (relative
    /// links) that any static host can serve while Belfry itself is down.
    ExportStatic(ExportArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (alone) on stdout; only its hash is stored.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// What the token may do.
        #[arg(long, env = "BELFRY_SCOPE", value_parser = ["read", "write", "admin", "probe"])]
        scope: String,
    },
}

/// Where the config and the data live; shared by every command that opens the store.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Config file; when absent and the default `belfry.yaml` does not exist, a built-in
    /// example configuration is used.
    #[arg(long, env = "BELFRY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory of the embedded SQLite store (when the config names no storage URL).
    #[arg(long, env = "BELFRY_DATA", default_value = "./belfry-data")]
    pub data: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Directory to write into (created when missing; existing files are overwritten).
    #[arg(env = "BELFRY_OUT_DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, env = "BELFRY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

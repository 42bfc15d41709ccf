//! Command-line interface. Every flag also reads `BELFRY_<FLAG>` from the environment.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

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
    /// Manage console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the master key that seals stored secrets.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Run a remote probe: check the monitors the server assigns to this region (those that
    /// list it in `regions`) and push the results; buffers while the server is unreachable.
    Probe(ProbeArgs),
    /// Write everything (the config file plus objects made in the console) as one YAML
    /// document that `serve --config` accepts, on stdout. It holds secrets in clear text.
    Export {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a console user, or reset an existing user's password and role. The password is read
    /// from stdin with `--password-stdin`; otherwise a random one is generated and printed.
    Add {
        /// Login name.
        name: String,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, env = "BELFRY_ROLE", value_parser = ["admin", "editor", "viewer"])]
        role: String,
        /// Read the password from the first line of stdin.
        #[arg(long, env = "BELFRY_PASSWORD_STDIN")]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored secret under a new master key (stop the server(s) first). With a
    /// key file, the file is replaced; with $BELFRY_MASTER_KEY, the new key is printed.
    Rotate {
        #[command(flatten)]
        data: DataArgs,
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
    /// Master key file (default: `master.key` in the data directory; created with mode 0600 at
    /// first start). `$BELFRY_MASTER_KEY` (64 hex characters), when set, is used instead.
    #[arg(long, env = "BELFRY_KEY_FILE")]
    pub key_file: Option<PathBuf>,
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

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// The Belfry server's base URL, e.g. https://status.acme.test.
    #[arg(long, env = "BELFRY_SERVER")]
    pub server: String,
    /// A token of scope `probe` (`belfry token create --scope probe`); prefer $BELFRY_TOKEN,
    /// which other users cannot see in the process list.
    #[arg(long, env = "BELFRY_TOKEN", hide_env_values = true)]
    pub token: String,
    /// This probe's region, as monitors name it in `regions` (not `local`).
    #[arg(long, env = "BELFRY_REGION")]
    pub region: String,
    /// How often to poll the server for assignments; the server counts the probe missing after
    /// three intervals without a report.
    #[arg(long, env = "BELFRY_INTERVAL", default_value = "10s", value_parser = crate::config::parse_duration)]
    pub interval: Duration,
    /// Reach HOST at IP instead of asking DNS (repeatable, or comma-separated in the env var),
    /// like curl's --resolve; for split-horizon DNS and tests.
    #[arg(long = "resolve", env = "BELFRY_RESOLVE", value_name = "HOST=IP", value_delimiter = ',', value_parser = crate::remote::parse_override)]
    pub resolve: Vec<(String, IpAddr)>,
    /// Results kept at most while the server is unreachable (the oldest are dropped first).
    #[arg(long, env = "BELFRY_BUFFER", default_value_t = 100_000)]
    pub buffer: usize,
}

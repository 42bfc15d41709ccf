//! Entry points: load a config file or text, and the built-in example.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use belfry_core::{ConsoleObject, Section};

use super::check::Ctx;
use super::error::ConfigError;
use super::node;
use super::settings::{Settings, settings};

/// The built-in example config; `{listen}`, `{host}` and `{port}` are filled in by [`example`].
const EXAMPLE: &str = include_str!("example.yaml");

/// Reads and validates a config file. An unreadable file is one error at 1:1 with no key path.
pub fn load_file(path: &Path) -> Result<Settings, Vec<ConfigError>> {
    load_file_with(path, &[])
}

/// The config file together with objects made in the console or API (whose channels the
/// file's escalations may name).
pub fn load_file_with(path: &Path, objects: &[ConsoleObject]) -> Result<Settings, Vec<ConfigError>> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str_with(&name, &text, objects),
        Err(err) => Err(vec![ConfigError {
            file: name,
            line: 1,
            column: 1,
            path: String::new(),
            message: format!("cannot read the config file: {err}"),
        }]),
    }
}

/// [`load_str`] together with objects made in the console or API.
pub fn load_str_with(
    file_name: &str,
    text: &str,
    objects: &[ConsoleObject],
) -> Result<Settings, Vec<ConfigError>> {
    let env = |name: &str| std::env::var(name).ok();
    let outside: Vec<String> =
        objects.iter().filter(|o| o.section == Section::Channels).map(|o| o.id.clone()).collect();
    let base = parse_with(file_name, text, &env, outside)?;
    super::console::merge(base, objects, &env)
}

/// Only the `storage:` section (where the store is, before the console's objects can be read
/// from it); the rest of the document is checked by [`load_str_with`].
pub fn storage_only(file_name: &str, text: &str) -> Result<super::StorageSettings, Vec<ConfigError>> {
    let root = node::parse(text).map_err(|e| {
        vec![ConfigError {
            file: file_name.to_owned(),
            line: e.line,
            column: e.column,
            path: String::new(),
            message: e.message,
        }]
    })?;
    let env = |name: &str| std::env::var(name).ok();
    let mut ctx = Ctx::new(file_name, text, &env);
    let storage = match &root.value {
        node::Node::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.value == "storage")
            .map(|(_, v)| super::settings::storage(&mut ctx, v))
            .unwrap_or_default(),
        _ => super::StorageSettings::default(),
    };
    if ctx.errors.is_empty() { Ok(storage) } else { Err(ctx.errors) }
}

/// Parses and validates config text; `file_name` is only used in error positions.
/// Returns every problem found, ordered by position in the file.
pub fn load_str(file_name: &str, text: &str) -> Result<Settings, Vec<ConfigError>> {
    load_with_env(file_name, text, &|name| std::env::var(name).ok())
}

/// [`load_str`] with `${NAME}` references in secrets resolved by `env` instead of the process
/// environment.
pub(super) fn load_with_env(
    file_name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, Vec<ConfigError>> {
    parse_with(file_name, text, env, vec![])
}

fn parse_with(
    file_name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    outside_channels: Vec<String>,
) -> Result<Settings, Vec<ConfigError>> {
    let root = match node::parse(text) {
        Ok(root) => root,
        Err(e) => {
            return Err(vec![ConfigError {
                file: file_name.to_owned(),
                line: e.line,
                column: e.column,
                path: String::new(),
                message: e.message,
            }]);
        }
    };
    let mut ctx = Ctx::new(file_name, text, env);
    ctx.outside_channels = outside_channels;
    let settings = settings(&mut ctx, &root);
    if ctx.errors.is_empty() {
        return Ok(settings);
    }
    let mut errors = ctx.errors;
    errors.sort_by_key(|e| (e.line, e.column));
    Err(errors)
}

/// The built-in example config text, monitoring the server itself at `listen` (an unspecified
/// address such as `0.0.0.0` is probed on loopback).
pub fn example(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let target = SocketAddr::new(ip, listen.port());
    EXAMPLE
        .replace("{listen}", &target.to_string())
        .replace("{host}", &ip.to_string())
        .replace("{port}", &listen.port().to_string())
}

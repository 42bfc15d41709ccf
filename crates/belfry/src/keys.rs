//! The master key that seals the store's secrets (P1, P2): from `BELFRY_MASTER_KEY`, else the
//! key file (`<data>/master.key`, made with mode 0600 at first start), so the server boots
//! unattended. A key that does not open the store's key check stops the start: never run with
//! secrets unreadable.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use belfry_core::store::AdminStore;
use belfry_core::vault::{KEY_CHECK, MasterKey, rotate};

/// Environment variable holding the key as 64 hex characters (takes precedence over the file).
pub const ENV: &str = "BELFRY_MASTER_KEY";

/// Where the key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    Env,
    File(PathBuf),
}

impl KeySource {
    pub fn resolve(key_file: Option<&Path>, data: &Path) -> Self {
        if std::env::var_os(ENV).is_some() {
            return Self::Env;
        }
        Self::File(key_file.map_or_else(|| data.join("master.key"), Path::to_path_buf))
    }

    fn describe(&self) -> String {
        match self {
            Self::Env => format!("${ENV}"),
            Self::File(path) => path.display().to_string(),
        }
    }

    /// The key; a missing key file is created (only when `create`).
    pub fn load(&self, create: bool) -> anyhow::Result<MasterKey> {
        match self {
            Self::Env => {
                let text = std::env::var(ENV).unwrap_or_default();
                MasterKey::from_hex(&text).with_context(|| format!("${ENV}"))
            }
            Self::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => MasterKey::from_hex(&text)
                    .with_context(|| format!("reading the master key {}", path.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    let key = MasterKey::generate()?;
                    write_key_file(path, &key)?;
                    tracing::warn!(path = %path.display(), "generated a new master key; back it up: without it the stored secrets cannot be read");
                    Ok(key)
                }
                Err(e) => Err(e).with_context(|| format!("reading the master key {}", path.display())),
            },
        }
    }
}

/// Writes `key` to a new file readable by its owner only (0600).
fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating the master key file {}", path.display()))?;
    writeln!(file, "{}", key.to_hex())?;
    file.sync_all()?;
    Ok(())
}

/// Proves `key` is the store's key (first start: records the key check). Refuses with a clear
/// message otherwise.
pub async fn unlock(store: &dyn AdminStore, source: &KeySource, key: &MasterKey) -> anyhow::Result<()> {
    match store.vault_get(KEY_CHECK).await? {
        Some(check) => {
            if key.verify(&check).is_err() {
                bail!(
                    "the master key from {} is not the key this store's secrets were sealed with; \
                     refusing to start with unreadable secrets. Restore the original key file or set \
                     ${ENV} to the original key.",
                    source.describe()
                );
            }
        }
        None => {
            if !store.vault_list("").await?.is_empty() {
                bail!("the store holds sealed secrets but no key check; refusing to start");
            }
            store.vault_put(KEY_CHECK, &key.key_check()?).await?;
        }
    }
    Ok(())
}

/// `belfry secrets rotate`: re-seals everything under a new key. With a key file, the new key
/// is written next to it first (`.new`), the store is re-sealed in one transaction, then the
/// file is replaced; with `$BELFRY_MASTER_KEY`, the new key is printed for the operator to set.
pub async fn rotate_secrets(
    store: &dyn AdminStore,
    source: &KeySource,
) -> anyhow::Result<(usize, Option<String>)> {
    let old = source.load(false)?;
    unlock(store, source, &old).await?;
    let new = MasterKey::generate()?;
    match source {
        KeySource::Env => {
            let n = rotate(store, &old, &new).await?;
            Ok((n, Some(new.to_hex())))
        }
        KeySource::File(path) => {
            let staged = path.with_extension("key.new");
            let _ = std::fs::remove_file(&staged);
            write_key_file(&staged, &new)?;
            let n = rotate(store, &old, &new).await?;
            std::fs::rename(&staged, path).with_context(|| {
                format!(
                    "the store is re-sealed under the key in {}; move it to {}",
                    staged.display(),
                    path.display()
                )
            })?;
            Ok((n, None))
        }
    }
}

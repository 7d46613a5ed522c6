//! Finding the key-encryption key for a command: explicit flags, then the
//! configuration, then the key source recorded (secret-free) in the
//! database's keyring, so that most commands need only `--path`.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::{
    EnvSource, FileSource, KeyManager, KeySource, KeySourceConfig, PasswordSource, SourceKind,
    DEFAULT_KEY_ENV,
};
use zeroize::Zeroizing;

/// Key flags shared by the commands that open a database.
#[derive(Debug, Args, Default)]
pub struct KeyArgs {
    /// Read the hex key from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["key_file", "password"])]
    key_env: Option<String>,
    /// Read the key from this file (64 hex characters or 32 raw bytes, mode 0400).
    #[arg(long, value_name = "PATH", conflicts_with = "password")]
    key_file: Option<std::path::PathBuf>,
    /// Use a password (prompted on a terminal, else one line of standard input).
    #[arg(long)]
    password: bool,
}

impl KeyArgs {
    fn explicit(&self, confirm: bool) -> anyhow::Result<Option<Arc<dyn KeySource>>> {
        if let Some(var) = &self.key_env {
            return Ok(Some(Arc::new(EnvSource::new(var.clone())?)));
        }
        if let Some(f) = &self.key_file {
            return Ok(Some(Arc::new(FileSource::new(f.clone())?)));
        }
        if self.password {
            return Ok(Some(Arc::new(PasswordSource::new(
                read_password(confirm)?.as_str(),
            ))));
        }
        Ok(None)
    }
}

/// Reads a password from the terminal (with confirmation for new databases)
/// or one line of standard input. Never from the command line.
pub fn read_password(confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(pw) = std::env::var(PASSWORD_ENV) {
        return Ok(Zeroizing::new(pw));
    }
    read_password_prompt("Database password: ", confirm)
}

/// Prompts on a terminal (twice when `confirm`), else reads one line of standard input.
pub fn read_password_prompt(prompt: &str, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        let pw = Zeroizing::new(rpassword::prompt_password(prompt)?);
        if confirm {
            let again = Zeroizing::new(rpassword::prompt_password("Repeat password: ")?);
            if *pw != *again {
                bail!("the passwords do not match");
            }
        }
        if pw.is_empty() {
            bail!("empty password");
        }
        Ok(pw)
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        let pw = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_string());
        if pw.is_empty() {
            bail!("no password on standard input");
        }
        Ok(pw)
    }
}

/// Environment variable that may carry the password for scripted use.
const PASSWORD_ENV: &str = "HELIOSDB_PASSWORD";

fn from_config(config: &Config, confirm: bool) -> anyhow::Result<Arc<dyn KeySource>> {
    Ok(match &config.encryption.key_source {
        KeySourceConfig::Password => {
            Arc::new(PasswordSource::new(read_password(confirm)?.as_str()))
        }
        other => KeyManager::from_source(other)?.key_source(),
    })
}

/// The key source for a new database, or `None` for an unencrypted one.
pub fn source_for_init(
    config: &Config,
    from_file: bool,
    keys: &KeyArgs,
    encrypted: bool,
) -> anyhow::Result<Option<Arc<dyn KeySource>>> {
    if let Some(s) = keys.explicit(true)? {
        return Ok(Some(s));
    }
    if from_file && config.encryption.enabled {
        return Ok(Some(from_config(config, true)?));
    }
    if encrypted {
        return Ok(Some(Arc::new(EnvSource::new(DEFAULT_KEY_ENV)?)));
    }
    if std::env::var_os(DEFAULT_KEY_ENV).is_some() {
        eprintln!(
            "note: {DEFAULT_KEY_ENV} is set: encrypting with it (use --plaintext to opt out)"
        );
        return Ok(Some(Arc::new(EnvSource::new(DEFAULT_KEY_ENV)?)));
    }
    Ok(None)
}

/// Opens an existing database with the best key source available.
pub fn open_existing(
    path: &Path,
    config: &Config,
    from_file: bool,
    keys: &KeyArgs,
) -> anyhow::Result<StorageEngine> {
    let (encrypted, ring) = StorageEngine::inspect(path)?;
    if !encrypted {
        let mut c = config.clone();
        c.encryption.enabled = false;
        return Ok(StorageEngine::open(path, &c)?);
    }
    let configured = from_file && config.encryption.enabled;
    let mut config = config.clone();
    config.encryption.enabled = true;
    if let Some(src) = keys.explicit(false)? {
        return Ok(StorageEngine::open_with_source(path, &config, src)?);
    }
    if configured {
        let src = from_config(&config, false)?;
        return Ok(StorageEngine::open_with_source(path, &config, src)?);
    }
    // The keyring records which sources wrap it: try those we can reach.
    let ring = ring.context("encrypted database without a keyring")?;
    let mut errors = Vec::new();
    for slot in &ring.slots {
        let desc = &slot.header.source;
        let src: anyhow::Result<Arc<dyn KeySource>> = match (desc.kind, desc.locator.as_deref()) {
            (SourceKind::Env, Some(var)) => EnvSource::new(var).map(|s| Arc::new(s) as Arc<dyn KeySource>).map_err(Into::into),
            (SourceKind::File, Some(file)) => FileSource::new(file).map(|s| Arc::new(s) as Arc<dyn KeySource>).map_err(Into::into),
            (SourceKind::Password, _) => read_password(false).map(|pw| Arc::new(PasswordSource::new(pw.as_str())) as Arc<dyn KeySource>),
            _ => Err(anyhow::anyhow!("{desc} cannot be reached from the command line; pass --key-env, --key-file or --password")),
        };
        match src {
            Ok(src) => return Ok(StorageEngine::open_with_source(path, &config, src)?),
            Err(e) => errors.push(format!("{desc}: {e:#}")),
        }
    }
    bail!(
        "no key source for this database is available:\n  {}",
        errors.join("\n  ")
    )
}

/// The extra checks of `verify --check encryption`.
pub fn encryption_checks(storage: &StorageEngine, config: &Config, from_file: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if !storage.is_encrypted() {
        problems.push("the database is not encrypted".to_string());
        return problems;
    }
    if let KeySourceConfig::File(f) = &config.encryption.key_source {
        if config.encryption.enabled {
            if let Err(e) = heliosdb_keys::check_key_file_permissions(f) {
                problems.push(e.to_string());
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(storage.path()) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                problems.push(format!(
                    "data directory {} has mode {mode:03o}; run `chmod 700 {}`",
                    storage.path().display(),
                    storage.path().display()
                ));
            }
        }
    }
    if from_file && !config.encryption.enabled {
        problems.push("the configuration does not set encryption.enabled = true".to_string());
    }
    problems
}

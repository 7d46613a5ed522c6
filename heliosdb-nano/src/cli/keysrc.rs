//! Finding the key-encryption key for a command: explicit flags, then the
//! configuration, then the key source recorded (secret-free) in the
//! database's keyring, so that most commands need only `--path`.
//!
//! A keyring travels with its database (backups, copies from others), so
//! what it records is not trusted to route credentials: from a KMS slot we
//! take the key's identity only (provider, key id, version, Vault mount,
//! AWS region). Endpoints, addresses, CA files and challenge checks come
//! from the caller — the configuration's `[encryption.kms]` (with
//! `--config`), `--kms-option`, the provider's own environment (VAULT_ADDR)
//! — and plaintext `http://` needs `--insecure-kms-endpoint`.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::{
    EnvSource, FileSource, KeyManager, KeySource, KeySourceConfig, KmsKeyRef, KmsSpec,
    PasswordSource, SourceKind, DEFAULT_KEY_ENV, INSECURE_ENDPOINT_OPTION,
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
    /// Use a KMS key, PROVIDER:KEY_ID (e.g. aws:alias/heliosdb); provider
    /// options come from the config's [encryption.kms] and --kms-option.
    #[arg(long, value_name = "PROVIDER:KEY_ID", conflicts_with_all = ["key_env", "key_file", "password"])]
    kms: Option<String>,
    /// A KMS provider option NAME=VALUE (region, endpoint, address,
    /// vault_url, ca_file, …); repeatable; overrides the config. Where to
    /// reach a KMS (endpoint, address, vault URL, CA) always comes from here
    /// or the config, never from the database's keyring.
    #[arg(long = "kms-option", value_name = "NAME=VALUE")]
    kms_options: Vec<String>,
    /// Allow a plaintext http:// KMS endpoint or address (local emulators
    /// only: tokens and keys cross the network in clear). Applies to every
    /// KMS key this command uses, the new key of rotate-key included.
    #[arg(long)]
    insecure_kms_endpoint: bool,
}

// KMS sources are built through the facade's `kms` module: naming it links
// the library, and with it the `heliosdb-kms-*` crates its features select
// (each registers its provider when linked). The command has its own `cli`
// module and would otherwise link none of them.
impl KeyArgs {
    fn explicit(
        &self,
        confirm: bool,
        config: &Config,
    ) -> anyhow::Result<Option<Arc<dyn KeySource>>> {
        if let Some(kms) = &self.kms {
            let (provider, key_id) = kms
                .split_once(':')
                .filter(|(p, k)| !p.is_empty() && !k.is_empty())
                .context("--kms takes PROVIDER:KEY_ID, e.g. aws:alias/heliosdb")?;
            let mut options = config.encryption.kms.clone();
            options.extend(self.kms_option_pairs()?);
            return Ok(Some(heliosdb_nano::kms::kms_source(&KmsSpec::new(
                provider.to_string(),
                key_id.to_string(),
                options,
            ))?));
        }
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

    /// `--kms-option NAME=VALUE` pairs, and `insecure_endpoint=true` for
    /// `--insecure-kms-endpoint`.
    fn kms_option_pairs(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut pairs = option_pairs("--kms-option", &self.kms_options)?;
        if self.insecure_kms_endpoint {
            pairs.push((INSECURE_ENDPOINT_OPTION.to_string(), "true".to_string()));
        }
        Ok(pairs)
    }

    /// Whether `--insecure-kms-endpoint` was given.
    pub(crate) fn insecure_kms_endpoint(&self) -> bool {
        self.insecure_kms_endpoint
    }

    /// The KMS source for the key a slot names: its identity from the slot,
    /// where to reach it and what to trust from the caller only (`caller`:
    /// the config's `[encryption.kms]` when a config file was given, then
    /// `--kms-option`). A recorded endpoint the caller does not give is
    /// ignored; one that differs from the caller's is an error naming both.
    fn kms_from_slot(
        &self,
        kms: &KmsKeyRef,
        caller: &std::collections::BTreeMap<String, String>,
    ) -> anyhow::Result<Arc<dyn KeySource>> {
        let mut options = caller.clone();
        options.extend(self.kms_option_pairs()?);
        Ok(heliosdb_nano::kms::kms_source_for_slot(kms, &options)?)
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

fn from_config(
    config: &Config,
    confirm: bool,
    keys: &KeyArgs,
) -> anyhow::Result<Arc<dyn KeySource>> {
    Ok(match &config.encryption.key_source {
        KeySourceConfig::Password => {
            Arc::new(PasswordSource::new(read_password(confirm)?.as_str()))
        }
        other => {
            let mut options = config.encryption.kms.clone();
            options.extend(keys.kms_option_pairs()?);
            KeyManager::from_config(other, &options)?.key_source()
        }
    })
}

/// The key source for a new database, or `None` for an unencrypted one.
pub fn source_for_init(
    config: &Config,
    from_file: bool,
    keys: &KeyArgs,
    encrypted: bool,
) -> anyhow::Result<Option<Arc<dyn KeySource>>> {
    if let Some(s) = keys.explicit(true, config)? {
        return Ok(Some(s));
    }
    if from_file && config.encryption.enabled {
        return Ok(Some(from_config(config, true, keys)?));
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
    Ok(open_existing_with_source(path, config, from_file, keys)?.0)
}

/// As [`open_existing`], also returning the key source that opened it
/// (`None`: unencrypted), for a command that creates a database under the
/// same key-encryption key (`upgrade`).
pub fn open_existing_with_source(
    path: &Path,
    config: &Config,
    from_file: bool,
    keys: &KeyArgs,
) -> anyhow::Result<(StorageEngine, Option<Arc<dyn KeySource>>)> {
    let (encrypted, ring) = StorageEngine::inspect(path)?;
    if !encrypted {
        let mut c = config.clone();
        c.encryption.enabled = false;
        return Ok((StorageEngine::open(path, &c)?, None));
    }
    let configured = from_file && config.encryption.enabled;
    let mut config = config.clone();
    config.encryption.enabled = true;
    let open =
        |src: Arc<dyn KeySource>| -> anyhow::Result<(StorageEngine, Option<Arc<dyn KeySource>>)> {
            Ok((
                StorageEngine::open_with_source(path, &config, Arc::clone(&src))?,
                Some(src),
            ))
        };
    if let Some(src) = keys.explicit(false, &config)? {
        return open(src);
    }
    if configured {
        return open(from_config(&config, false, keys)?);
    }
    // The keyring records which sources wrap it: try those we can reach.
    let ring = ring.context("encrypted database without a keyring")?;
    // Provider options the caller configured (a config file's [encryption.kms]).
    let caller = if from_file {
        config.encryption.kms.clone()
    } else {
        Default::default()
    };
    let mut errors = Vec::new();
    for slot in &ring.slots {
        let desc = &slot.header.source;
        // A KMS slot records the key's identity; where to reach it is the
        // caller's. A failed open (KMS unreachable, access denied, no
        // address given) moves on to the next slot.
        if let (SourceKind::Kms, Some(kms)) = (desc.kind, slot.header.kms.as_ref()) {
            match keys.kms_from_slot(kms, &caller).and_then(open) {
                Ok(storage) => return Ok(storage),
                Err(e) => {
                    errors.push(format!("{desc}: {e:#}"));
                    continue;
                }
            }
        }
        let src: anyhow::Result<Arc<dyn KeySource>> = match (desc.kind, desc.locator.as_deref()) {
            (SourceKind::Env, Some(var)) => EnvSource::new(var).map(|s| Arc::new(s) as Arc<dyn KeySource>).map_err(Into::into),
            (SourceKind::File, Some(file)) => FileSource::new(file).map(|s| Arc::new(s) as Arc<dyn KeySource>).map_err(Into::into),
            (SourceKind::Password, _) => read_password(false).map(|pw| Arc::new(PasswordSource::new(pw.as_str())) as Arc<dyn KeySource>),
            _ => Err(anyhow::anyhow!("{desc} cannot be reached from the command line; pass --key-env, --key-file, --password or --kms")),
        };
        match src {
            Ok(src) => return open(src),
            Err(e) => errors.push(format!("{desc}: {e:#}")),
        }
    }
    bail!(
        "no key source for this database is available:\n  {}",
        errors.join("\n  ")
    )
}

/// One line naming the KMS key a slot is wrapped by: its resolved identity
/// (ARN, key URL, CryptoKey name, transit key), version and the options the
/// slot records (identity only since routing left keyrings; older keyrings
/// may still show an endpoint, which is never used unless you give it too).
pub fn kms_identity(k: &KmsKeyRef) -> String {
    let mut out = format!("{} KMS key {}", k.provider, k.key_id);
    if let Some(v) = &k.key_version {
        out.push_str(&format!(" (version {v})"));
    }
    if !k.options.is_empty() {
        let opts: Vec<String> = k.options.iter().map(|(n, v)| format!("{n}={v}")).collect();
        out.push_str(&format!(" [{}]", opts.join(", ")));
    }
    out
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

/// `NAME=VALUE` arguments of `flag` as pairs.
pub(crate) fn option_pairs(flag: &str, args: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|o| {
            o.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("{flag} takes NAME=VALUE, got {o:?}"))
        })
        .collect()
}

//! Key rotation commands: rotate-key, add-key, remove-key, rotate-data-key,
//! destroy-key, key-status.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use heliosdb_keys::{EnvSource, FileSource, KeyManager, KeySource, KmsSpec, PasswordSource};

use super::keysrc::{self, KeyArgs};
use super::Target;

/// The new key-encryption key.
#[derive(Debug, Args)]
pub struct NewKeyArgs {
    /// New key: hex key in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["new_key_file", "new_password", "new_kms"])]
    new_key_env: Option<String>,
    /// New key: this key file (64 hex characters or 32 raw bytes, mode 0400).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["new_password", "new_kms"])]
    new_key_file: Option<std::path::PathBuf>,
    /// New key: a password (prompted twice on a terminal; else the next line
    /// of standard input, or HELIOSDB_NEW_PASSWORD). Also how to change Argon2 cost.
    #[arg(long, conflicts_with = "new_kms")]
    new_password: bool,
    /// Argon2id memory cost in KiB for --new-password (default 19456; at most 1048576, 1 GiB).
    #[arg(long, requires = "new_password")]
    argon2_memory_kib: Option<u32>,
    /// Argon2id iterations for --new-password (default 2; at most 10).
    #[arg(long, requires = "new_password")]
    argon2_iterations: Option<u32>,
    /// New key: a KMS key, PROVIDER:KEY_ID (options from the config's
    /// [encryption.kms] and --new-kms-option).
    #[arg(long, value_name = "PROVIDER:KEY_ID")]
    new_kms: Option<String>,
    /// An option of the new KMS key source, e.g. region=eu-west-1 or
    /// endpoint=URL (repeatable; overrides [encryption.kms]). `--kms-option`
    /// is for the current key; `--insecure-kms-endpoint` applies to both.
    #[arg(
        long = "new-kms-option",
        value_name = "NAME=VALUE",
        requires = "new_kms"
    )]
    new_kms_options: Vec<String>,
}

/// An optional new key-encryption key (`restore --new-key-…`).
#[derive(Debug, Args)]
pub struct OptionalNewKey {
    #[command(flatten)]
    pub(crate) key: NewKeyArgs,
}

impl OptionalNewKey {
    /// Whether any --new-key-* flag was given.
    pub fn is_set(&self) -> bool {
        let k = &self.key;
        k.new_key_env.is_some() || k.new_key_file.is_some() || k.new_password || k.new_kms.is_some()
    }
}

impl NewKeyArgs {
    /// The Argon2id cost of `--new-password`, checked against the bounds a
    /// keyring accepts.
    fn argon2_cost(&self) -> anyhow::Result<(u32, u32)> {
        let m = self.argon2_memory_kib.unwrap_or(19 * 1024);
        let t = self.argon2_iterations.unwrap_or(2);
        heliosdb_keys::check_argon2_cost(m, t, 1).map_err(|e| {
            anyhow::anyhow!(
                "{e} (--argon2-memory-kib takes {} to {} KiB, --argon2-iterations 1 to {})",
                heliosdb_keys::ARGON2_MIN_MEMORY_KIB,
                heliosdb_keys::ARGON2_MAX_MEMORY_KIB,
                heliosdb_keys::ARGON2_MAX_ITERATIONS
            )
        })?;
        Ok((m, t))
    }

    /// Checks the flags that need no I/O (the Argon2 cost), so that a bad
    /// one is refused before the database is opened or a password read.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        if self.new_password {
            self.argon2_cost()?;
        }
        Ok(())
    }

    /// The new key source. `insecure_endpoint`: `--insecure-kms-endpoint`.
    pub(crate) fn source(
        &self,
        config: &heliosdb_core::Config,
        insecure_endpoint: bool,
    ) -> anyhow::Result<Arc<dyn KeySource>> {
        if let Some(var) = &self.new_key_env {
            return Ok(Arc::new(EnvSource::new(var.clone())?));
        }
        if let Some(f) = &self.new_key_file {
            return Ok(Arc::new(FileSource::new(f.clone())?));
        }
        if self.new_password {
            let (m, t) = self.argon2_cost()?;
            let pw = match std::env::var("HELIOSDB_NEW_PASSWORD") {
                Ok(p) => zeroize::Zeroizing::new(p),
                Err(_) => keysrc::read_password_prompt("New database password: ", true)?,
            };
            return Ok(Arc::new(PasswordSource::with_cost(pw.as_str(), m, t, 1)));
        }
        if let Some(spec) = &self.new_kms {
            let (provider, key_id) = spec
                .split_once(':')
                .context("--new-kms takes PROVIDER:KEY_ID, e.g. aws:alias/heliosdb")?;
            let mut options = config.encryption.kms.clone();
            options.extend(keysrc::option_pairs(
                "--new-kms-option",
                &self.new_kms_options,
            )?);
            if insecure_endpoint {
                options.insert(
                    heliosdb_keys::INSECURE_ENDPOINT_OPTION.to_string(),
                    "true".to_string(),
                );
            }
            return Ok(heliosdb_keys::kms_source(&KmsSpec::new(
                provider.to_string(),
                key_id.to_string(),
                options,
            ))?);
        }
        bail!("give the new key with --new-key-env, --new-key-file, --new-password or --new-kms")
    }
}

pub fn rotate_key(
    target: &Target,
    keys: &KeyArgs,
    new_key: &NewKeyArgs,
) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    new_key.check()?;
    // Opening proves the old KEK: a wrong or missing one is refused here, before anything changes.
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    let src = new_key.source(&config, keys.insecure_kms_endpoint())?;
    // The new slot is unwrapped with the new key before the old one goes:
    // a key that may encrypt but not decrypt is refused, nothing changes.
    let done = storage.rotate_encryption_key(&KeyManager::from_key_source(src))?;
    println!("key-encryption key rotated (no record rewritten)");
    println!("  before: {}", done.old);
    println!("  now:    {} (slot {})", done.new, done.slot);
    println!("the database now opens with: {}", done.new);
    Ok(ExitCode::SUCCESS)
}

pub fn add_key(target: &Target, keys: &KeyArgs, new_key: &NewKeyArgs) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    new_key.check()?;
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    let src = new_key.source(&config, keys.insecure_kms_endpoint())?;
    let desc = src.describe();
    let slot = storage.add_encryption_key(&KeyManager::from_key_source(src))?;
    println!(
        "added {desc} as key-encryption key slot {slot}; any one of these opens the database:"
    );
    for s in storage.encryption_status()?.kek_slots {
        println!("  slot {}: {}", s.id, s.source);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove_key(target: &Target, keys: &KeyArgs, slot: u32) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    storage.remove_encryption_key(slot)?;
    println!("removed key-encryption key slot {slot}; remaining:");
    for s in storage.encryption_status()?.kek_slots {
        println!("  slot {}: {}", s.id, s.source);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn rotate_data_key(target: &Target, keys: &KeyArgs, wait: bool) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    let id = storage.rotate_data_key()?;
    println!(
        "data key {} is now active; older records are being re-encrypted",
        id.0
    );
    if !wait {
        // The rotation resumes whenever the database is next opened.
        println!("re-encryption continues whenever the database is open (check with key-status)");
        return Ok(ExitCode::SUCCESS);
    }
    let total = storage.encryption_status()?.total_records;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(total.max(1));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} re-encrypting {pos}/{len} records [{bar:30}] {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    storage.wait_for_rotation(Duration::from_secs(u64::MAX / 4), |s| {
        if let Some(b) = &bar {
            b.set_position(s.records_done.min(total));
            b.set_message(format!("{:.1} MB/s", s.rate_bytes_per_sec / 1e6));
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let status = storage.encryption_status()?;
    println!(
        "rotation finished: {:.1}% of {} records under data key {}",
        status.active_dek_percent, status.total_records, status.active_dek_id
    );
    for d in status.deks.iter().filter(|d| d.state == "retired") {
        println!(
            "  data key {} archived (retired); `destroy-key --dek {}` removes it for good",
            d.id, d.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn destroy_key(
    target: &Target,
    keys: &KeyArgs,
    dek: u32,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    if !yes {
        bail!("destroying data key {dek} makes anything still sealed under it unreadable, backups included; add --yes to confirm");
    }
    let (path, config, from_file) = target.resolve()?;
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    storage.destroy_data_key(dek)?;
    println!("data key {dek} destroyed");
    Ok(ExitCode::SUCCESS)
}

pub fn rotate_file_key(target: &Target, keys: &KeyArgs) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    eprintln!("rewriting the database's files under a new file key (flush and full compaction)…");
    let r = storage.rotate_file_key()?;
    println!(
        "file key {} now encrypts new files; SST files rewritten under it",
        r.new_key
    );
    for k in &r.removed_keys {
        println!("  file key {k} removed: no live file is encrypted under it");
    }
    if !r.pending.is_empty() {
        println!(
            "  still under an older key until the database is next opened: {}",
            r.pending.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn key_status(target: &Target, keys: &KeyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    let s = storage.encryption_status()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "encryption: {} (opened with {})",
        s.algorithm, s.opened_with
    );
    println!("key-encryption keys:");
    for k in &s.kek_slots {
        println!("  slot {}: {}", k.id, k.source);
    }
    println!("data keys (nonce budget {} per key):", s.nonce_budget);
    println!(
        "  {:>4}  {:<12} {:<13} {:>10} {:>12} {:>12}",
        "id", "purpose", "state", "records", "bytes", "nonces used"
    );
    for d in &s.deks {
        println!(
            "  {:>4}  {:<12} {:<13} {:>10} {:>12} {:>12}",
            d.id, d.purpose, d.state, d.records, d.bytes, d.nonce_budget_used
        );
    }
    println!(
        "active data key {}: {:.1}% of {} records",
        s.active_dek_id, s.active_dek_percent, s.total_records
    );
    if !s.file_keys.is_empty() {
        println!("file keys (RocksDB's files):");
        for f in &s.file_keys {
            println!("  {:>4}  {:<13} {:>5} files", f.id, f.state, f.files);
        }
    }
    match &s.rotation {
        Some(r) => println!(
            "rotation to data key {} in progress: {} records ({} bytes) re-encrypted, {:.1} MB/s{}",
            r.target_dek,
            r.records_done,
            r.bytes_done,
            r.rate_bytes_per_sec / 1e6,
            r.last_error
                .as_ref()
                .map(|e| format!(", retrying after error: {e}"))
                .unwrap_or_default()
        ),
        None => println!("no rotation in progress"),
    }
    Ok(ExitCode::SUCCESS)
}

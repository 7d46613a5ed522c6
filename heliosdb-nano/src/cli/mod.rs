//! Command-line parsing and the subcommands.

mod audit;
mod keysrc;
mod ops;
mod pdf;
mod quickstart;
mod rotate;
mod sql;
mod upgrade;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use heliosdb_core::{Config, StorageEngine};
use heliosdb_crypto::SecretKey;

pub use keysrc::KeyArgs;

/// HeliosDB Nano: an embeddable database encrypted at rest.
#[derive(Debug, Parser)]
#[command(name = "heliosdb-nano", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a new random 256-bit key as 64 hex characters (nothing else).
    Keygen {
        /// Write the key to this file (mode 0400) instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Create a new database.
    Init {
        #[command(flatten)]
        target: Target,
        /// Encrypt it (the key comes from --key-*, the config, or HELIOSDB_ENCRYPTION_KEY).
        #[arg(long)]
        encrypted: bool,
        /// Create an unencrypted database even if HELIOSDB_ENCRYPTION_KEY is set.
        #[arg(long, conflicts_with = "encrypted")]
        plaintext: bool,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Show encryption status, key sources, data keys and tables (never key bytes).
    Info {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Authenticate and decrypt every record; exit code 0 only if all are good.
    Verify {
        #[command(flatten)]
        target: Target,
        /// Extra checks: `encryption` also requires encryption on, safe key
        /// file permissions and a private data directory.
        #[arg(long, value_parser = ["encryption"])]
        check: Option<String>,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Flush memtables and the write-ahead log so the files hold a consistent state.
    Checkpoint {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// KEK rotation: re-wrap the keys with a new key-encryption key (instant, no record rewritten).
    RotateKey {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        new_key: rotate::NewKeyArgs,
    },
    /// Add another key-encryption key (e.g. a recovery key file); any one opens the database.
    AddKey {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        new_key: rotate::NewKeyArgs,
    },
    /// Remove a key-encryption key slot (see `info` / `key-status`); never the last one.
    RemoveKey {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
        /// The slot to remove.
        #[arg(long)]
        slot: u32,
    },
    /// DEK rotation: a new data key now, old records re-encrypted in the background.
    RotateDataKey {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
        /// Return only when re-encryption and retirement of the old key are done.
        #[arg(long)]
        wait: bool,
    },
    /// File-key rotation (format-2 encrypted databases): a new key for
    /// RocksDB's files; SST files are rewritten under it now, the rest at
    /// the next open, then the old key leaves the keyring.
    RotateFileKey {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Destroy an archived (retired) data key for good (crypto-shredding).
    DestroyKey {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
        /// The data key id.
        #[arg(long)]
        dek: u32,
        /// Confirm: anything still sealed under this key (e.g. in old backups) becomes unreadable.
        #[arg(long)]
        yes: bool,
    },
    /// Key status: KEKs, data keys with records under each, rotation progress, nonce budget.
    KeyStatus {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Verify an audit log's hash chain and/or write a compliance report (Markdown or HTML).
    AuditReport {
        /// The audit log (default: the config's [audit] log_file).
        #[arg(long)]
        input: Option<PathBuf>,
        /// Report type.
        #[arg(long = "type", default_value = "encryption-compliance", value_parser = ["encryption-compliance"])]
        report_type: String,
        /// Where to write the report: `.pdf` for PDF, `.html` for HTML (both
        /// with a chart of events per day), `.md` for Markdown.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Check the chain (needs the database's key: --path/--config and key flags); exit 1 if broken.
        #[arg(long)]
        verify: bool,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Consistent online backup that stays encrypted (a directory, or `.tar.gz` by name).
    Backup {
        /// Database directory.
        #[arg(long)]
        input: PathBuf,
        /// Backup directory or `.tar.gz` file (must not exist).
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Restore a backup into a new database directory, optionally re-keying it.
    Restore {
        /// Backup directory or `.tar.gz` file.
        #[arg(long)]
        input: PathBuf,
        /// New database directory (must not exist).
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        new_key: rotate::OptionalNewKey,
    },
    /// Serve the database over the PostgreSQL protocol (TLS and SCRAM per [server]).
    Serve {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Manage the server's users: add, passwd, remove, list.
    User {
        #[command(subcommand)]
        command: sql::UserCommand,
    },
    /// Stream a decrypted logical SQL dump (schema, indexes, rows, key-value pairs).
    Export {
        /// Database directory.
        #[arg(long)]
        input: PathBuf,
        /// Dump file (`-` for standard output). It holds plaintext: protect it.
        #[arg(long)]
        output: PathBuf,
        /// Also write the server's users, as `CREATE ROLE … PASSWORD
        /// 'SCRAM-SHA-256$…'` (their SCRAM verifiers, which PostgreSQL
        /// accepts too). Without it no user leaves the database.
        #[arg(long)]
        include_users: bool,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Load a SQL dump into a new database (encrypted with the key you give).
    Import {
        /// Dump file.
        #[arg(long)]
        input: PathBuf,
        /// New database directory (must not exist; built aside and renamed when complete).
        #[arg(long)]
        output: PathBuf,
        /// Encrypt (key from --key-*, --config, or HELIOSDB_ENCRYPTION_KEY).
        #[arg(long)]
        encrypted: bool,
        /// Create an unencrypted database even if HELIOSDB_ENCRYPTION_KEY is set.
        #[arg(long, conflicts_with = "encrypted")]
        plaintext: bool,
        /// TOML configuration for the new database.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Skip bad statements (reported) instead of stopping at the first.
        #[arg(long)]
        continue_on_error: bool,
        /// Create the server users the dump holds (`CREATE ROLE … PASSWORD
        /// 'SCRAM-SHA-256$…'`). Without it a dump with users is refused
        /// at their line (skipped with --continue-on-error).
        #[arg(long)]
        include_users: bool,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Convert a format-1 database (blind record keys) to format 2 (ordered
    /// keys; encrypted files and a keyring file when encrypted): built
    /// beside it, checked, swapped in; the original is kept until you delete it.
    Upgrade {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Demo: a throwaway encrypted database, the tutorial's data, proof it is encrypted on disk.
    Quickstart {
        /// Keep the demo database in this directory instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

/// Which database: `--path`, or `--config` (its `[storage] path`).
#[derive(Debug, Args)]
pub struct Target {
    /// Database directory.
    #[arg(long)]
    pub(crate) path: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
}

impl Target {
    pub(crate) fn resolve(&self) -> anyhow::Result<(PathBuf, Config, bool)> {
        let (config, from_file) = match &self.config {
            Some(c) => (Config::from_file(c)?, true),
            None => (Config::default(), false),
        };
        let path = match (&self.path, &config.storage.path) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => {
                bail!("give the database with --path, or a --config whose [storage] sets path")
            }
        };
        Ok((path, config, from_file))
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Keygen { output } => keygen(output),
        Command::Init {
            target,
            encrypted,
            plaintext,
            keys,
        } => init(&target, encrypted, plaintext, &keys),
        Command::Info { target, keys } => info(&target, &keys),
        Command::Verify {
            target,
            check,
            keys,
        } => verify(&target, check.as_deref(), &keys),
        Command::Checkpoint { target, keys } => {
            let (path, config, from_file) = target.resolve()?;
            let storage = keysrc::open_existing(&path, &config, from_file, &keys)?;
            storage.flush()?;
            println!("checkpoint: {} flushed", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::RotateKey {
            target,
            keys,
            new_key,
        } => rotate::rotate_key(&target, &keys, &new_key),
        Command::AddKey {
            target,
            keys,
            new_key,
        } => rotate::add_key(&target, &keys, &new_key),
        Command::RemoveKey { target, keys, slot } => rotate::remove_key(&target, &keys, slot),
        Command::RotateDataKey { target, keys, wait } => {
            rotate::rotate_data_key(&target, &keys, wait)
        }
        Command::RotateFileKey { target, keys } => rotate::rotate_file_key(&target, &keys),
        Command::DestroyKey {
            target,
            keys,
            dek,
            yes,
        } => rotate::destroy_key(&target, &keys, dek, yes),
        Command::KeyStatus { target, keys, json } => rotate::key_status(&target, &keys, json),
        Command::AuditReport {
            input,
            report_type,
            output,
            verify,
            target,
            keys,
        } => audit::run(input, &report_type, output, verify, &target, &keys),
        Command::Backup {
            input,
            output,
            keys,
        } => ops::backup(&input, &output, &keys),
        Command::Restore {
            input,
            output,
            keys,
            new_key,
        } => ops::restore(&input, &output, &keys, &new_key),
        Command::Export {
            input,
            output,
            include_users,
            keys,
        } => ops::export(&input, &output, include_users, &keys),
        Command::Import {
            input,
            output,
            encrypted,
            plaintext,
            config,
            continue_on_error,
            include_users,
            keys,
        } => ops::import(
            &input,
            &output,
            encrypted,
            plaintext,
            config.as_deref(),
            ops::ImportFlags {
                continue_on_error,
                include_users,
            },
            &keys,
        ),
        Command::Upgrade { target, keys } => upgrade::upgrade(&target, &keys),
        Command::Quickstart { keep } => quickstart::run(keep),
        Command::Serve { target, keys } => sql::serve(&target, &keys),
        Command::User { command } => sql::user(command),
    }
}

fn keygen(output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let key = SecretKey::generate()?;
    let hex = key.to_hex();
    match output {
        None => println!("{}", hex.as_str()),
        Some(path) => {
            write_key_file(&path, hex.as_bytes())?;
            eprintln!("wrote a new key to {} (mode 0400)", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a key file readable by its owner only; refuses to overwrite.
pub(crate) fn write_key_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .open(path)
        .with_context(|| format!("cannot create key file {}", path.display()))?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

fn init(
    target: &Target,
    encrypted: bool,
    plaintext: bool,
    keys: &KeyArgs,
) -> anyhow::Result<ExitCode> {
    let (path, mut config, from_file) = target.resolve()?;
    if path.join("CURRENT").exists() {
        bail!("a database already exists at {}", path.display());
    }
    let source = if plaintext {
        None
    } else {
        keysrc::source_for_init(&config, from_file, keys, encrypted)?
    };
    config.encryption.enabled = source.is_some();
    let storage = match &source {
        Some(src) => StorageEngine::open_with_source(&path, &config, src.clone())?,
        None => StorageEngine::open(&path, &config)?,
    };
    match storage.key_info() {
        Some(k) => println!(
            "created encrypted database at {}\n  encryption: AES-256-GCM\n  key source: {}",
            path.display(),
            k.opened_with
        ),
        None => println!("created unencrypted database at {}", path.display()),
    }
    Ok(ExitCode::SUCCESS)
}

fn info(target: &Target, keys: &KeyArgs) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    let (encrypted, ring) = StorageEngine::inspect(&path)?;
    println!("database:   {}", path.display());
    println!(
        "encryption: {}",
        if encrypted {
            "Enabled: AES-256-GCM"
        } else {
            "Disabled"
        }
    );
    if let Some(ring) = &ring {
        println!("database id: {}", ring.database_id);
        println!("key-encryption keys (any one opens the database):");
        for s in &ring.slots {
            println!("  slot {}: {}", s.id, s.header.source);
            if let Some(k) = &s.header.kms {
                println!("          kms: {}", keysrc::kms_identity(k));
            }
        }
        println!("data keys:");
        for d in &ring.deks {
            println!(
                "  {:>3}  {:<12} {:<12} nonces reserved {}",
                d.id,
                format!("{:?}", d.purpose).to_lowercase(),
                d.state.to_string(),
                d.nonce_reserved
            );
        }
    }
    match keysrc::open_existing(&path, &config, from_file, keys) {
        Ok(storage) => {
            let tables = storage.catalog().list_tables()?;
            if let Some(k) = storage.key_info() {
                println!("opened with: {}", k.opened_with);
            }
            println!(
                "tables:     {} {}",
                tables.len(),
                if tables.is_empty() {
                    String::new()
                } else {
                    format!("({})", tables.join(", "))
                }
            );
        }
        Err(e) => println!("tables:     unknown (could not open: {e:#})"),
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(target: &Target, check: Option<&str>, keys: &KeyArgs) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    let mut problems: Vec<String> = Vec::new();
    let storage = match keysrc::open_existing(&path, &config, from_file, keys) {
        Ok(s) => s,
        Err(e) => {
            println!("✗ cannot open {}: {e:#}", path.display());
            return Ok(ExitCode::from(1));
        }
    };
    if check == Some("encryption") {
        problems.extend(keysrc::encryption_checks(&storage, &config, from_file));
    }
    let total = storage.estimate_records();
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(total.max(1));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} verifying {pos}/{len} records [{bar:30}] {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let report = storage.verify_with_progress(|n| {
        if let Some(b) = &bar {
            if n > b.length().unwrap_or(0) {
                b.set_length(n);
            }
            b.set_position(n);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(info) = storage.encryption_info() {
        println!("✓ {info}");
    } else {
        println!("encryption: Disabled");
    }
    println!("records checked: {}", report.records);
    for (dek, n) in &report.records_per_dek {
        println!("  under data key {dek}: {n}");
    }
    if report.failure_count > 0 {
        println!(
            "✗ {} record(s) failed authentication; first ones:",
            report.failure_count
        );
        for f in &report.failures {
            println!("  {}: {}", f.location, f.error);
        }
    }
    for p in &problems {
        println!("✗ {p}");
    }
    if report.is_ok() && problems.is_empty() {
        println!("✓ all records authenticated");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

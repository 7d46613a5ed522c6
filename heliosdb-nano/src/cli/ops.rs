//! Operations commands: backup, restore, export and import.

use std::path::Path;
use std::process::ExitCode;

use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::KeyManager;

use super::keysrc::{self, KeyArgs};
use super::rotate::OptionalNewKey;

pub fn backup(input: &Path, output: &Path, keys: &KeyArgs) -> anyhow::Result<ExitCode> {
    let storage = keysrc::open_existing(input, &Config::default(), false, keys)?;
    storage.backup(output)?;
    println!(
        "backup of {} written to {} ({}; keyring included, values still sealed)",
        input.display(),
        output.display(),
        if storage.is_encrypted() {
            "encrypted"
        } else {
            "unencrypted database"
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn restore(
    input: &Path,
    output: &Path,
    keys: &KeyArgs,
    new_key: &OptionalNewKey,
) -> anyhow::Result<ExitCode> {
    if new_key.is_set() {
        new_key.key.check()?;
    }
    heliosdb_core::restore(input, output)?;
    // Open with a KEK of the backup and check every record before handing it over.
    let checked = (|| -> anyhow::Result<StorageEngine> {
        let storage = keysrc::open_existing(output, &Config::default(), false, keys)
            .map_err(|e| e.context("the restored backup does not open"))?;
        let report = storage.verify()?;
        if !report.is_ok() {
            anyhow::bail!("the backup holds {} damaged records", report.failure_count);
        }
        println!(
            "restored {} records into {}",
            report.records,
            output.display()
        );
        Ok(storage)
    })();
    let storage = match checked {
        Ok(s) => s,
        Err(e) => {
            // Leave nothing half-usable behind under the new name.
            let _ = std::fs::remove_dir_all(output);
            return Err(e.context("nothing was restored"));
        }
    };
    if new_key.is_set() {
        let src = new_key
            .key
            .source(storage.config(), keys.insecure_kms_endpoint())?;
        let done = storage.rotate_encryption_key(&KeyManager::from_key_source(src))?;
        println!(
            "re-keyed: the restored database now opens with {}",
            done.new
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn bar(len: u64, what: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(len.max(1));
        b.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} {what} {{pos}} [{{bar:30}}] {{eta}}"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    })
}

pub fn export(
    input: &Path,
    output: &Path,
    include_users: bool,
    keys: &KeyArgs,
) -> anyhow::Result<ExitCode> {
    let storage = keysrc::open_existing(input, &Config::default(), false, keys)?;
    // Users only on request, and only as verifiers (no login can be made
    // from one); the server's other records never leave.
    let roles: Vec<heliosdb_core::DumpRole> = if include_users {
        heliosdb_server::users::export_verifiers(&storage)?
            .into_iter()
            .map(|(name, v)| heliosdb_core::DumpRole {
                name,
                verifier: v.to_text().to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let progress = bar(storage.estimate_records(), "exporting rows");
    let report = |n: u64| {
        if let Some(b) = &progress {
            b.set_position(n);
        }
    };
    // SERIAL columns, their sequence positions and VARCHAR(n) limits, so
    // that PostgreSQL's `psql -f` gets the same schema.
    let hints = heliosdb_sql::PgDumpHints::new(&storage)?;
    let options = heliosdb_core::ExportOptions {
        hints: Some(&hints as &dyn heliosdb_core::DumpHints),
        roles: &roles,
    };
    let stats = if output == Path::new("-") {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        storage.export_sql_opts(&mut w, report, &options)?
    } else {
        let partial = std::path::PathBuf::from(format!("{}.partial", output.display()));
        let result = (|| -> anyhow::Result<heliosdb_core::ExportStats> {
            use std::os::unix::fs::OpenOptionsExt;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&partial)?;
            let mut w = std::io::BufWriter::new(f);
            let stats = storage.export_sql_opts(&mut w, report, &options)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&partial, output)?;
            Ok(stats)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result?
    };
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    eprintln!(
        "exported {} tables, {} rows, {} key-value pairs{} (decrypted: protect the dump)",
        stats.tables,
        stats.rows,
        stats.kv_pairs,
        if include_users {
            format!(", {} server users (SCRAM verifiers)", stats.roles)
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `import`'s switches.
#[derive(Clone, Copy, Debug)]
pub struct ImportFlags {
    /// Skip bad statements instead of stopping.
    pub continue_on_error: bool,
    /// Create the dump's server users.
    pub include_users: bool,
}

pub fn import(
    input: &Path,
    output: &Path,
    encrypted: bool,
    plaintext: bool,
    config: Option<&Path>,
    flags: ImportFlags,
    keys: &KeyArgs,
) -> anyhow::Result<ExitCode> {
    if output.exists() {
        anyhow::bail!(
            "{} already exists; import into a new path",
            output.display()
        );
    }
    let (mut cfg, from_file) = match config {
        Some(c) => (Config::from_file(c)?, true),
        None => (Config::default(), false),
    };
    let source = if plaintext {
        None
    } else {
        keysrc::source_for_init(&cfg, from_file, keys, encrypted)?
    };
    cfg.encryption.enabled = source.is_some();
    // Build aside, rename when complete: a failed import leaves nothing at `output`.
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".heliosdb-import-")
        .tempdir_in(parent)?;
    let building = staging.path().join("db");
    let file = std::fs::File::open(input)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", input.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let stats = {
        let storage = match &source {
            Some(src) => StorageEngine::open_with_source(&building, &cfg, src.clone())?,
            None => StorageEngine::open(&building, &cfg)?,
        };
        let progress = bar(size, "importing rows");
        let add_user = |name: &str, verifier: &str| -> Result<(), String> {
            let v = heliosdb_server::users::ScramVerifier::parse(verifier)
                .map_err(|e| e.to_string())?;
            heliosdb_server::users::add_user_verifier(&storage, name, &v).map_err(|e| e.to_string())
        };
        let stats = heliosdb_core::import_sql_with(
            &storage,
            std::io::BufReader::new(file),
            &heliosdb_core::ImportOptions {
                continue_on_error: flags.continue_on_error,
                roles: flags
                    .include_users
                    .then_some(&add_user as heliosdb_core::RoleHook<'_>),
            },
            |n| {
                if let Some(b) = &progress {
                    b.set_position(n);
                }
            },
        )?;
        // Dumps from before verifiers carried users as key-value pairs
        // holding what a login can be made from: store verifiers instead.
        if flags.include_users {
            heliosdb_server::users::migrate(&storage)?;
        }
        if let Some(b) = progress {
            b.finish_and_clear();
        }
        storage.flush()?;
        stats
    };
    std::fs::rename(&building, output)?;
    println!(
        "imported {} statements, {} rows, {} key-value pairs, {} server users into {}{}",
        stats.statements,
        stats.rows,
        stats.kv_pairs,
        stats.roles,
        output.display(),
        if source.is_some() { " (encrypted)" } else { "" }
    );
    for (line, e) in &stats.skipped {
        println!("  skipped statement at line {line}: {e}");
    }
    Ok(if stats.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

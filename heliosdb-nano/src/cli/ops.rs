//! Operations commands: backup and restore.

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
        let src = new_key.key.source(storage.config())?;
        let done = storage.rotate_encryption_key(&KeyManager::from_key_source(src))?;
        println!(
            "re-keyed: the restored database now opens with {}",
            done.new
        );
    }
    Ok(ExitCode::SUCCESS)
}

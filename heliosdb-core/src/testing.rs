//! Test support (feature `test-util`, for the workspace's own tests): the
//! view of a closed database that an attacker holding the file-layer keys
//! has, so tests can tamper with records under the file layer and check that
//! the record layer (AES-GCM, AAD = column family + record key) still
//! catches it, and check what compaction leaves in the files.
//!
//! With feature `fault-injection` also `open_with_power_loss`: a database
//! whose every file goes through RocksDB's `FaultInjectionTestFS`, under the
//! file encryption, so a test can cut the power and see what a power loss
//! leaves on disk (see `heliosdb_fileenc`'s "Power-loss simulation").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use heliosdb_fileenc::{EncryptedEnv, FileKeys};

use crate::{Config, Error, Result, StorageEngine};

fn file_keys(path: &Path, config: &Config) -> Result<Option<Arc<dyn FileKeys>>> {
    let Some(source) = StorageEngine::source_from_config_pub(config)? else {
        return Ok(None);
    };
    Ok(crate::store::unlock_file_keys(path, source.as_ref())?
        .map(|k| Arc::new(k) as Arc<dyn FileKeys>))
}

/// Opens the RocksDB of the closed database at `path` directly — through
/// the file layer when it is format-2 encrypted (keys from `config`'s key
/// source) — lets `f` read or rewrite stored records, then flushes.
///
/// # Errors
/// Key source and RocksDB errors.
pub fn with_raw_db(path: &Path, config: &Config, f: impl FnOnce(&rocksdb::DB)) -> Result<()> {
    let env = match file_keys(path, config)? {
        Some(keys) => Some(EncryptedEnv::new(keys).map_err(|e| Error::Corrupt(e.to_string()))?),
        None => None,
    };
    let opts = match &env {
        Some(env) => env.options().map_err(|e| Error::Corrupt(e.to_string()))?,
        None => rocksdb::Options::default(),
    };
    let cfs = rocksdb::DB::list_cf(&opts, path)?;
    let db = rocksdb::DB::open_cf(&opts, path, cfs)?;
    f(&db);
    db.flush()?;
    drop(db);
    drop(env);
    Ok(())
}

/// Every file under the data directory at `path` (recursively) with its
/// contents as RocksDB sees them: decrypted through the file layer when the
/// database is format-2 encrypted, as stored otherwise. The keyring file is
/// left out (it is not RocksDB's).
///
/// # Errors
/// Key source errors; a file that does not decrypt.
pub fn decrypted_files(path: &Path, config: &Config) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let keys = file_keys(path, config)?;
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.file_name()
                .is_some_and(|n| n == crate::store::KEYRING_FILE)
            {
                continue;
            }
            let bytes = match &keys {
                Some(k) => heliosdb_fileenc::decrypt_file(k.as_ref(), &p)
                    .map_err(|e| Error::Corrupt(e.to_string()))?
                    .unwrap_or_default(),
                None => std::fs::read(&p)?,
            };
            out.push((p, bytes));
        }
    }
    Ok(out)
}

#[cfg(feature = "fault-injection")]
pub use heliosdb_fileenc::PowerLoss;

/// Opens (or creates) the format-2 encrypted database at `path` (key source
/// from `config`) with its file layer on RocksDB's `FaultInjectionTestFS`:
/// every byte RocksDB writes stays in memory until it is synced. Returns the
/// engine and its power switch. To simulate a power loss: [`PowerLoss::cut`],
/// drop the engine, [`PowerLoss::restore`]; then reopen the directory with
/// [`StorageEngine::open`], which sees what a power loss at the cut would
/// have left.
///
/// # Errors
/// As [`StorageEngine::open`]; [`Error::Config`] if the database is not a
/// format-2 encrypted one (only those have a file layer to run it on).
#[cfg(feature = "fault-injection")]
pub fn open_with_power_loss(path: &Path, config: &Config) -> Result<(StorageEngine, PowerLoss)> {
    let engine = StorageEngine::open_for_power_loss(path, config)?;
    match engine.store().power_loss() {
        Some(power) => Ok((engine, power)),
        None => Err(Error::Config(
            "power-loss simulation needs a format-2 encrypted database (encryption on, \
             record_keys = \"ordered\")"
                .into(),
        )),
    }
}

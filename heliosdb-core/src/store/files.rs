//! The file layer of a format-2 encrypted database: the file keys
//! `heliosdb-fileenc` encrypts RocksDB's files under, kept in line with the
//! keyring, and the retirement of old file keys once no live file uses them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use heliosdb_fileenc::{EncryptedEnv, MemoryFileKeys};
#[cfg(feature = "test-util")]
use heliosdb_keys::{block_on, KeySource};
use heliosdb_keys::{DekId, DekPurpose, DekState, Keyring, UnlockedKeyring};

use super::{keyring_file, lock, SealedStore};
use crate::{Error, Result};

/// The file layer of a format-2 encrypted database.
pub(super) struct FileLayer {
    pub(super) keys: Arc<MemoryFileKeys>,
    /// Owned here so it lives exactly as long as the database.
    pub(super) env: EncryptedEnv,
    /// The power switch when the env runs on RocksDB's fault-injection file
    /// system ([`FileEnv::PowerLoss`]).
    #[cfg(feature = "fault-injection")]
    pub(super) power: Option<heliosdb_fileenc::PowerLoss>,
}

/// What the file layer of a format-2 encrypted database writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileEnv {
    /// The operating system's file system.
    Disk,
    /// RocksDB's `FaultInjectionTestFS` under the encryption: unsynced bytes
    /// stay in memory until a power loss is simulated (tests only,
    /// `testing::open_with_power_loss`).
    #[cfg(feature = "fault-injection")]
    PowerLoss,
}

impl SealedStore {
    /// The power switch of a database opened with [`FileEnv::PowerLoss`].
    #[cfg(feature = "fault-injection")]
    pub(crate) fn power_loss(&self) -> Option<heliosdb_fileenc::PowerLoss> {
        self.files.as_ref().and_then(|f| f.power.clone())
    }

    /// Format 2 encrypted: which file key each live RocksDB file is
    /// encrypted under (read from the files' headers), by key id. `None`
    /// for other databases. Files that are not RocksDB's are not looked at.
    pub(crate) fn file_key_usage(&self) -> Result<Option<BTreeMap<u32, Vec<String>>>> {
        if self.files.is_none() {
            return Ok(None);
        }
        let mut usage: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for e in std::fs::read_dir(&self.path)? {
            let p = e?.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !p.is_file() || !is_rocksdb_file(&name) {
                continue;
            }
            let id = match EncryptedEnv::file_key_id(&p) {
                Ok(Some(id)) => id,
                Ok(None) => continue, // empty (LOCK)
                // RocksDB deleted it meanwhile (an obsolete WAL, say).
                Err(_) if !p.exists() => continue,
                Err(e) => return Err(Error::Corrupt(format!("file layer: {e}"))),
            };
            usage.entry(id).or_default().push(name);
        }
        Ok(Some(usage))
    }

    /// Moves what it can to the active file key and removes file keys no
    /// live file names any more: `IDENTITY` and `OPTIONS-*` (written once
    /// and read at open) are re-encrypted, old info logs (`LOG.old.*`)
    /// deleted. The live `MANIFEST`, `LOG` and WAL move at the next open;
    /// SST files move by compaction. Returns the ids removed.
    pub(crate) fn settle_file_keys(&self) -> Result<Vec<u32>> {
        let (Some(files), Some(c)) = (&self.files, &self.crypto) else {
            return Ok(Vec::new());
        };
        let old: Vec<u32> = {
            let guard = lock(&c.keyring);
            guard
                .0
                .deks
                .iter()
                .filter(|d| d.purpose == DekPurpose::File && d.state != DekState::Active)
                .map(|d| d.id)
                .collect()
        };
        if old.is_empty() {
            return Ok(Vec::new());
        }
        let usage = self.file_key_usage()?.unwrap_or_default();
        for id in &old {
            for name in usage.get(id).into_iter().flatten() {
                let p = self.path.join(name);
                if name.starts_with("LOG.old") {
                    std::fs::remove_file(&p)?;
                } else if name == "IDENTITY" || name.starts_with("OPTIONS-") {
                    files
                        .env
                        .reencrypt_file(&p)
                        .map_err(|e| Error::Corrupt(format!("file layer: {e}")))?;
                }
            }
        }
        let usage = self.file_key_usage()?.unwrap_or_default();
        let unused: Vec<u32> = old
            .into_iter()
            .filter(|id| !usage.contains_key(id))
            .collect();
        if unused.is_empty() {
            return Ok(unused);
        }
        self.update_keyring(|ring, unlocked| {
            for id in &unused {
                ring.remove_file_key(DekId(*id), unlocked)?;
            }
            Ok(())
        })?;
        for id in &unused {
            files.keys.remove(*id);
        }
        Ok(unused)
    }

    /// Brings the file layer's keys in line with `ring` (a new file key
    /// becomes the one new files are written under).
    pub(super) fn refresh_file_keys(
        &self,
        ring: &Keyring,
        unlocked: &UnlockedKeyring,
    ) -> Result<()> {
        match &self.files {
            Some(files) => sync_file_keys(&files.keys, ring, unlocked),
            None => Ok(()),
        }
    }
}

/// The file keys of a format-2 keyring, the active one current.
pub(super) fn file_keys(ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<MemoryFileKeys> {
    let active = ring
        .active_file_dek()
        .ok_or_else(|| Error::Corrupt("the keyring file holds no active file key".into()))?;
    let keys = MemoryFileKeys::new(active.id, file_key(unlocked, active.id)?);
    sync_file_keys(&keys, ring, unlocked)?;
    Ok(keys)
}

/// Brings `keys` in line with the keyring's file keys: every one present,
/// the active one current.
fn sync_file_keys(keys: &MemoryFileKeys, ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<()> {
    for d in ring.deks.iter().filter(|d| d.purpose == DekPurpose::File) {
        keys.insert(d.id, file_key(unlocked, d.id)?);
    }
    if let Some(active) = ring.active_file_dek() {
        keys.set_current(active.id);
    }
    Ok(())
}

fn file_key(unlocked: &UnlockedKeyring, id: u32) -> Result<heliosdb_crypto::SecretKey> {
    unlocked
        .key(DekId(id))
        .map(heliosdb_crypto::SecretKey::clone_secret)
        .ok_or_else(|| Error::Corrupt(format!("file key {id} was not unwrapped")))
}

/// The file keys of the closed format-2 encrypted database at `path`,
/// unlocked with `source` (`None` for any other database).
#[cfg(feature = "test-util")]
pub(crate) fn unlock_file_keys(
    path: &Path,
    source: &dyn KeySource,
) -> Result<Option<MemoryFileKeys>> {
    let Some(stored) = keyring_file::read(path)? else {
        return Ok(None);
    };
    let unlocked = block_on(stored.ring.unlock(source))?;
    keyring_file::authenticate(&stored, unlocked.root())?;
    file_keys(&stored.ring, &unlocked).map(Some)
}

/// The keyring file's name in a data directory.
#[cfg(feature = "test-util")]
pub(crate) use keyring_file::KEYRING_FILE;

/// Whether `name` is one of the files RocksDB keeps in a data directory.
fn is_rocksdb_file(name: &str) -> bool {
    matches!(name, "CURRENT" | "IDENTITY" | "LOCK" | "LOG")
        || name.starts_with("LOG.old")
        || name.starts_with("MANIFEST-")
        || name.starts_with("OPTIONS-")
        || [".sst", ".log", ".blob"].iter().any(|ext| {
            name.strip_suffix(ext)
                .is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Whether the database at `path` was written through the file layer (its
/// `CURRENT` starts with the file-encryption magic).
pub(super) fn files_are_encrypted(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path.join("CURRENT"))
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == heliosdb_fileenc::MAGIC
}

pub(super) fn missing_keyring_file(path: &Path) -> Error {
    Error::Keys(heliosdb_keys::Error::KeyringCorrupt(format!(
        "{} is missing: the database's files are encrypted under keys only it holds; \
         restore it (and the directory) from a backup",
        keyring_file::path(path).display()
    )))
}

//! The seal boundary: the only code that holds the writable RocksDB handle.
//!
//! Every write of the engine — key-value pairs, rows, catalog, index entries,
//! counters, transactions — reaches RocksDB through [`SealedStore::write`],
//! which seals each value with the active data key and binds it to its column
//! family and record key (AAD). Every read goes through
//! [`SealedStore::get`] / [`SealedStore::scan_prefix`], which authenticate
//! and decrypt; a value that fails authentication is an error, never
//! plaintext. The keyring column family is the one exception: it holds the
//! wrapped keys and is written only by this module. [`RawView`], the
//! tutorial's `storage.db`, reads stored bytes as they are and cannot write.
//!
//! Layout: this file holds the store itself (column families, writes, point
//! reads, flush/compaction/checkpoint); `db` wraps the RocksDB handle so
//! that a sealed column family is written only with a [`Sealed`] value,
//! which only `seal` makes; `open` opens or creates a database
//! and reads its format marker; `seal` seals and opens values (AAD, nonce
//! budget, data-key choice); `keys` keeps the keyring in use (updates,
//! table keys); `files` is the file layer of a format-2 encrypted database
//! (file keys for `heliosdb-fileenc`); `keyring_file` is that database's
//! keyring file; `iter` reads ranges; `reencrypt` moves records to a new
//! data key; `raw` is [`RawView`]. Nothing here imports the engine.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use rocksdb::WriteOptions;

use crate::Result;

mod db;
mod files;
mod iter;
mod keyring_file;
mod keys;
mod open;
mod raw;
mod reencrypt;
mod seal;

pub(crate) use files::FileEnv;
#[cfg(feature = "test-util")]
pub(crate) use files::{unlock_file_keys, KEYRING_FILE};
pub(crate) use open::peek;
pub use raw::RawView;
pub use seal::Sealed;

use db::Db;
use files::FileLayer;
use seal::Crypto;

/// Column families holding sealed user data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cf {
    /// The key-value API (`put`/`get`).
    Kv,
    /// Table definitions.
    Catalog,
    /// Table rows.
    Rows,
    /// Secondary index entries.
    Index,
    /// Counters and internal state.
    Meta,
}

impl Cf {
    /// All sealed column families.
    pub const ALL: [Cf; 5] = [Cf::Kv, Cf::Catalog, Cf::Rows, Cf::Index, Cf::Meta];

    /// The RocksDB column family name.
    pub fn name(self) -> &'static str {
        match self {
            Cf::Kv => "kv",
            Cf::Catalog => "catalog",
            Cf::Rows => "rows",
            Cf::Index => "index",
            Cf::Meta => "meta",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Cf::Kv => "key-value store",
            Cf::Catalog => "catalog",
            Cf::Rows => "table rows",
            Cf::Index => "index",
            Cf::Meta => "internal state",
        }
    }
}

/// A stored (key, value) pair as RocksDB returns it.
pub(crate) type RawPair = (Box<[u8]>, Box<[u8]>);

/// One write of the engine, in plaintext; sealed by [`SealedStore::write`].
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Put {
        cf: Cf,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        cf: Cf,
        key: Vec<u8>,
    },
}

impl Op {
    pub(crate) fn cf(&self) -> Cf {
        match self {
            Op::Put { cf, .. } | Op::Delete { cf, .. } => *cf,
        }
    }

    pub(crate) fn key(&self) -> &[u8] {
        match self {
            Op::Put { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}

/// The seal boundary (see the module docs).
pub(crate) struct SealedStore {
    // Declared (so dropped) before the envs below: RocksDB holds them by
    // raw pointer until the database is closed.
    db: Db,
    path: PathBuf,
    crypto: Option<Crypto>,
    layout: Layout,
    /// Format 2 encrypted on disk: the keyring is its own file and RocksDB
    /// writes through the file-encryption env.
    files: Option<FileLayer>,
    // An in-memory database keeps its RocksDB Env alive as long as the DB.
    mem_env: Option<rocksdb::Env>,
}

impl std::fmt::Debug for SealedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedStore")
            .field("path", &self.path)
            .field("encrypted", &self.crypto.is_some())
            .finish()
    }
}

/// How record keys are formed (the format marker says which).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Format 1: record keys are blind tokens (keyed HMACs when encrypted,
    /// length-prefixed values when not); no order, scans read a whole table.
    Blind,
    /// Format 2: record keys in key order (`table id ‖ order-preserving
    /// primary key`), so ranges, key order and point writes are direct.
    Ordered,
}

/// Whether `path` already holds a RocksDB database.
pub(crate) fn exists(path: &Path) -> bool {
    path.join("CURRENT").exists()
}

impl SealedStore {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn is_encrypted(&self) -> bool {
        self.crypto.is_some()
    }

    /// Whether record keys are in key order (format 2).
    pub(crate) fn ordered(&self) -> bool {
        self.layout == Layout::Ordered
    }

    /// Whether key-value keys are blind tokens (format 1, encrypted): the
    /// logical key then travels sealed inside the value.
    pub(crate) fn kv_blind(&self) -> bool {
        self.is_encrypted() && !self.ordered()
    }

    /// Physical key of a key-value key.
    pub(crate) fn kv_physical_key(&self, key: &[u8]) -> Vec<u8> {
        if self.kv_blind() {
            self.token(b"kv", key)
        } else {
            key.to_vec()
        }
    }

    /// Appends the record-key component of a user value: its
    /// order-preserving encoding in the ordered layout, a blind token (see
    /// [`SealedStore::token`]) in the blind one.
    pub(crate) fn key_part(&self, out: &mut Vec<u8>, domain: &[u8], value: &crate::Value) {
        match self.layout {
            Layout::Ordered => value.encode_ordered(out),
            Layout::Blind => out.extend_from_slice(&self.token(domain, &value.encode_key())),
        }
    }

    /// Flushes every column family and compacts all of it, so that values
    /// replaced or deleted leave memtables, WAL and SST files.
    pub(crate) fn purge_old_versions(&self) -> Result<()> {
        self.flush()?;
        self.db.compact(None, None, None)?;
        self.flush()
    }

    /// Seals and writes all `ops` in one atomic RocksDB batch.
    pub(crate) fn write(&self, ops: &[Op]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut batch = self.db.batch();
        for op in ops {
            match op {
                Op::Put { cf, key, value } => batch.put(*cf, key, self.seal(*cf, key, value)?)?,
                Op::Delete { cf, key } => batch.delete(*cf, key)?,
            }
        }
        self.db.write(batch, &WriteOptions::default())
    }

    /// Syncs the write-ahead log: every batch written before the call is on
    /// stable storage when it returns.
    /// An in-memory database has no stable storage (and its RocksDB
    /// environment refuses `SyncWAL`), so there it returns at once.
    pub(crate) fn sync_wal(&self) -> Result<()> {
        if self.mem_env.is_some() {
            return Ok(());
        }
        self.db.sync_wal()
    }

    /// Reads and opens one value.
    pub(crate) fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.db.get(cf, key)? {
            Some(stored) => Ok(Some(self.open_value(cf, key, &stored)?)),
            None => Ok(None),
        }
    }

    /// Estimated number of records in a column family (for progress bars).
    pub(crate) fn estimate_records(&self, cf: Cf) -> u64 {
        self.db.estimate_records(cf)
    }

    /// Flushes memtables of every column family to SST files.
    pub(crate) fn flush(&self) -> Result<()> {
        self.db.flush()
    }

    /// Flushes memtables, then waits until no flush or compaction is
    /// running or pending.
    pub(crate) fn wait_for_compactions(&self) -> Result<()> {
        self.db.wait_for_compactions()
    }

    /// Compacts a key range so deleted or overwritten values leave the files.
    /// Forces the bottommost level too: by default RocksDB would skip files
    /// already at the bottom, where the old version may sit.
    pub(crate) fn compact_range(
        &self,
        cf: Cf,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
    ) -> Result<()> {
        self.db.compact(Some(cf), start, end)
    }

    /// A consistent point-in-time copy of the database files (a RocksDB
    /// checkpoint: hard links where possible). The keyring travels with it,
    /// still wrapped, so the copy opens with any KEK of the original.
    pub(crate) fn checkpoint_to(&self, dest: &Path) -> Result<()> {
        self.flush()?;
        // Format 2: the keyring file goes with the files it unlocks, taken
        // under the keyring lock so that no key the copy needs is retired
        // or destroyed between the two. RocksDB copies (re-encrypting with
        // a fresh IV) or hard-links its own files through the env.
        let _ring = self.crypto.as_ref().map(|c| lock(&c.keyring));
        self.db.checkpoint(dest)?;
        if self.files.is_some() {
            let bytes = std::fs::read(keyring_file::path(&self.path))?;
            keyring_file::write_bytes(dest, &bytes)?;
        }
        Ok(())
    }
}

// Lock poisoning only means another thread panicked while holding the lock;
// the guarded values are replaced whole (never left half-updated), so the
// data is still consistent and we carry on rather than cascade the panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

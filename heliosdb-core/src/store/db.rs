//! The RocksDB handle, wrapped so that the type checker guards the seal
//! boundary: a sealed column family ([`Cf`]) is written only with
//! [`Sealed`] values, and the unsealed keyring column family only at its two
//! entries ([`RingEntry`]). `rocksdb::DB` and `rocksdb::WriteBatch` never
//! leave this file, so no other code can put bytes into RocksDB by another
//! road.

use std::path::Path;

use rocksdb::{
    ColumnFamily, ColumnFamilyDescriptor, DBIteratorWithThreadMode, DBPinnableSlice, IteratorMode,
    Options, ReadOptions, WriteBatch, WriteOptions, DB,
};

use super::seal::Sealed;
use super::Cf;
use crate::{Error, Result};

/// Unsealed column family: the keyring (wrapped keys) and the format marker.
const KEYRING_CF: &str = "keyring";

/// An entry of the keyring column family, which holds no user data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RingEntry {
    /// The wrapped keyring (databases whose keyring is not its own file).
    Keyring,
    /// The format marker.
    Format,
}

impl RingEntry {
    fn key(self) -> &'static [u8] {
        match self {
            RingEntry::Keyring => b"keyring",
            RingEntry::Format => b"format",
        }
    }
}

/// Names of every column family: the sealed ones, then the keyring.
pub(super) fn cf_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Cf::ALL.iter().map(|c| c.name()).collect();
    v.push(KEYRING_CF);
    v
}

/// A RocksDB iterator over one column family.
pub(super) type Iter<'a> = DBIteratorWithThreadMode<'a, DB>;

/// The database handle (see the module docs).
pub(super) struct Db {
    inner: DB,
}

impl Db {
    /// Opens (or creates) the database with every column family.
    pub(super) fn open(
        opts: &Options,
        path: &Path,
        descriptors: impl IntoIterator<Item = ColumnFamilyDescriptor>,
    ) -> Result<Db> {
        Ok(Db {
            inner: DB::open_cf_descriptors(opts, path, descriptors)?,
        })
    }

    /// Opens the database read-only (RocksDB refuses writes through it).
    pub(super) fn open_read_only(opts: &Options, path: &Path) -> Result<Db> {
        Ok(Db {
            inner: DB::open_cf_for_read_only(opts, path, cf_names(), false)?,
        })
    }

    fn handle(&self, cf: Cf) -> Result<&ColumnFamily> {
        self.inner
            .cf_handle(cf.name())
            .ok_or_else(|| Error::Corrupt(format!("column family {} missing", cf.name())))
    }

    fn ring(&self) -> Result<&ColumnFamily> {
        self.inner
            .cf_handle(KEYRING_CF)
            .ok_or_else(|| Error::Corrupt("keyring column family missing".into()))
    }

    fn named(&self, name: &str) -> Result<&ColumnFamily> {
        self.inner
            .cf_handle(name)
            .ok_or_else(|| Error::Config(format!("no column family named {name:?}")))
    }

    /// The stored value of a record of a sealed column family.
    pub(super) fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<DBPinnableSlice<'_>>> {
        Ok(self.inner.get_pinned_cf(self.handle(cf)?, key)?)
    }

    /// The stored bytes of a record of any column family, by name.
    pub(super) fn get_named(&self, name: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.get_cf(self.named(name)?, key)?)
    }

    /// An entry of the keyring column family.
    pub(super) fn ring_get(&self, entry: RingEntry) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.get_cf(self.ring()?, entry.key())?)
    }

    /// Writes an entry of the keyring column family, synced.
    pub(super) fn ring_put_synced(&self, entry: RingEntry, value: &[u8]) -> Result<()> {
        Ok(self
            .inner
            .put_cf_opt(self.ring()?, entry.key(), value, &sync_write())?)
    }

    /// An iterator over a sealed column family.
    pub(super) fn iter(&self, cf: Cf, mode: IteratorMode<'_>) -> Result<Iter<'_>> {
        Ok(self.inner.iterator_cf(self.handle(cf)?, mode))
    }

    /// An iterator over a sealed column family with read options (bounds).
    pub(super) fn iter_opt(
        &self,
        cf: Cf,
        ro: ReadOptions,
        mode: IteratorMode<'_>,
    ) -> Result<Iter<'_>> {
        Ok(self.inner.iterator_cf_opt(self.handle(cf)?, ro, mode))
    }

    /// An iterator over any column family, by name.
    pub(super) fn iter_named(&self, name: &str, mode: IteratorMode<'_>) -> Result<Iter<'_>> {
        Ok(self.inner.iterator_cf(self.named(name)?, mode))
    }

    /// A new, empty write batch.
    pub(super) fn batch(&self) -> Batch<'_> {
        Batch {
            db: self,
            inner: WriteBatch::default(),
        }
    }

    /// Writes a batch atomically.
    pub(super) fn write(&self, batch: Batch<'_>, opts: &WriteOptions) -> Result<()> {
        Ok(self.inner.write_opt(batch.inner, opts)?)
    }

    /// RocksDB's estimate of the number of records in a column family.
    pub(super) fn estimate_records(&self, cf: Cf) -> u64 {
        self.handle(cf)
            .ok()
            .and_then(|h| {
                self.inner
                    .property_int_value_cf(h, "rocksdb.estimate-num-keys")
                    .ok()
                    .flatten()
            })
            .unwrap_or(0)
    }

    /// Flushes the memtables of every column family, then syncs the WAL.
    pub(super) fn flush(&self) -> Result<()> {
        for name in cf_names() {
            if let Some(h) = self.inner.cf_handle(name) {
                self.inner.flush_cf(h)?;
            }
        }
        self.sync_wal()
    }

    /// Flushes every memtable, then blocks until RocksDB has no flush or
    /// compaction running or pending.
    pub(super) fn wait_for_compactions(&self) -> Result<()> {
        let mut opts = rocksdb::WaitForCompactOptions::default();
        opts.set_flush(true);
        Ok(self.inner.wait_for_compact(&opts)?)
    }

    /// An integer property of a column family (tests).
    #[cfg(test)]
    pub(super) fn property(&self, cf: Cf, name: &str) -> Result<Option<u64>> {
        Ok(self.inner.property_int_value_cf(self.handle(cf)?, name)?)
    }

    /// Syncs the write-ahead log.
    pub(super) fn sync_wal(&self) -> Result<()> {
        Ok(self.inner.flush_wal(true)?)
    }

    /// Compacts `start..end` of a column family (`None`: every column
    /// family, whole), the bottommost level too: by default RocksDB would
    /// skip files already at the bottom, where an old version may sit.
    pub(super) fn compact(
        &self,
        cf: Option<Cf>,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
    ) -> Result<()> {
        let mut opts = rocksdb::CompactOptions::default();
        opts.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        match cf {
            Some(cf) => self
                .inner
                .compact_range_cf_opt(self.handle(cf)?, start, end, &opts),
            None => {
                for name in cf_names() {
                    if let Some(h) = self.inner.cf_handle(name) {
                        self.inner.compact_range_cf_opt(h, start, end, &opts);
                    }
                }
            }
        }
        Ok(())
    }

    /// A RocksDB checkpoint of the database at `dest`.
    pub(super) fn checkpoint(&self, dest: &Path) -> Result<()> {
        let cp = rocksdb::checkpoint::Checkpoint::new(&self.inner)?;
        cp.create_checkpoint(dest)?;
        Ok(())
    }
}

/// An atomic batch of writes (see the module docs).
pub(super) struct Batch<'a> {
    db: &'a Db,
    inner: WriteBatch,
}

impl Batch<'_> {
    /// Puts a sealed value; nothing else is accepted for a sealed column
    /// family.
    pub(super) fn put(&mut self, cf: Cf, key: &[u8], value: Sealed) -> Result<()> {
        self.inner
            .put_cf(self.db.handle(cf)?, key, value.as_bytes());
        Ok(())
    }

    /// Deletes a record of a sealed column family.
    pub(super) fn delete(&mut self, cf: Cf, key: &[u8]) -> Result<()> {
        self.inner.delete_cf(self.db.handle(cf)?, key);
        Ok(())
    }

    /// Puts an entry of the keyring column family.
    pub(super) fn ring_put(&mut self, entry: RingEntry, value: &[u8]) -> Result<()> {
        self.inner.put_cf(self.db.ring()?, entry.key(), value);
        Ok(())
    }
}

/// Write options that sync the WAL before returning.
pub(super) fn sync_write() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
}

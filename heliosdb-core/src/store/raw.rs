//! [`RawView`]: the stored bytes, read-only.

use std::path::Path;
use std::sync::Arc;

use super::db::cf_names;
use super::{Cf, SealedStore};
use crate::Result;

/// The tutorial's `storage.db`: a read-only view of the bytes RocksDB stores.
///
/// `get(key)` maps a key-value key to its physical record key (a blind token
/// when encrypted) and returns the stored envelope, not the plaintext. There
/// is no write method: all writes go through the seal boundary.
#[derive(Clone)]
pub struct RawView {
    pub(crate) store: Arc<SealedStore>,
}

impl std::fmt::Debug for RawView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawView({})", self.store.path.display())
    }
}

impl RawView {
    /// The stored bytes for the key-value key `key` (the sealed envelope when encrypted).
    ///
    /// # Errors
    /// RocksDB read errors.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let physical = self.store.kv_physical_key(key.as_ref());
        self.store.raw_get(Cf::Kv.name(), &physical)
    }

    /// The stored bytes of a physical record key in a column family.
    ///
    /// # Errors
    /// Unknown column family; RocksDB read errors.
    pub fn get_cf(&self, cf: &str, physical_key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.store.raw_get(cf, physical_key)
    }

    /// Every stored (key, value) pair of a column family, as stored.
    ///
    /// # Errors
    /// Unknown column family; RocksDB read errors.
    pub fn entries(&self, cf: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.store.raw_entries(cf)
    }

    /// Names of the column families.
    pub fn column_families(&self) -> Vec<&'static str> {
        cf_names()
    }

    /// The data directory, for file-level inspection.
    pub fn path(&self) -> &Path {
        &self.store.path
    }
}

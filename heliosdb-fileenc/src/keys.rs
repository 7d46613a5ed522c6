//! [`FileKeys`], where the encrypted env gets its file keys, and
//! [`MemoryFileKeys`], an in-memory implementation.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use heliosdb_crypto::SecretKey;

/// The file keys of one database, by id.
///
/// # Contract
///
/// * An id names one key forever: `get(id)` returns the same key every time
///   it returns `Some`. Files record only the id (and a check value that
///   refuses any other key), so reusing an id for a new key makes the older
///   files unreadable.
/// * `get(current().0)` is `Some` and returns the key `current` returned.
/// * Both are called from RocksDB's threads (flush, compaction, readers)
///   while a database is open; they must not block for long and must not
///   call back into the database. `current` is called once per new file,
///   `get` once per file opened; neither is called per read or write.
/// * Removing a key from `get` stops new opens of files under it at once
///   (nothing caches keys across file opens); files RocksDB already holds
///   open keep their keystream until closed.
pub trait FileKeys: Send + Sync + 'static {
    /// The id and key that new files are written under.
    fn current(&self) -> (u32, SecretKey);

    /// The key with this id, or `None` if the keyring does not have it.
    fn get(&self, id: u32) -> Option<SecretKey>;
}

/// File keys held in memory: a map from id to key and the id of the current
/// one. Switching `current` is how file-key rotation starts: new files
/// (flushes, compaction outputs, the next WAL) use the new key at once.
pub struct MemoryFileKeys {
    inner: RwLock<Inner>,
}

struct Inner {
    current: u32,
    keys: BTreeMap<u32, SecretKey>,
}

impl fmt::Debug for MemoryFileKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.read();
        f.debug_struct("MemoryFileKeys")
            .field("current", &inner.current)
            .field("ids", &inner.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl MemoryFileKeys {
    /// A keyring holding one key, which is current.
    pub fn new(id: u32, key: SecretKey) -> MemoryFileKeys {
        MemoryFileKeys {
            inner: RwLock::new(Inner {
                current: id,
                keys: BTreeMap::from([(id, key)]),
            }),
        }
    }

    /// Adds (or replaces) the key with this id. Replacing a key that files
    /// were written under makes them unreadable; see [`FileKeys`].
    pub fn insert(&self, id: u32, key: SecretKey) {
        self.write().keys.insert(id, key);
    }

    /// Makes `id` the key new files are written under. Returns `false` (and
    /// changes nothing) if there is no key with that id.
    pub fn set_current(&self, id: u32) -> bool {
        let mut inner = self.write();
        if !inner.keys.contains_key(&id) {
            return false;
        }
        inner.current = id;
        true
    }

    /// Forgets the key with this id (not the current one). Returns whether
    /// it was there.
    pub fn remove(&self, id: u32) -> bool {
        let mut inner = self.write();
        if inner.current == id {
            return false;
        }
        inner.keys.remove(&id).is_some()
    }

    // A poisoned lock only means another thread panicked while holding it;
    // the map itself is always consistent (each update is one operation).
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl FileKeys for MemoryFileKeys {
    fn current(&self) -> (u32, SecretKey) {
        let inner = self.read();
        // Invariant kept by new/set_current/remove: current is in the map.
        let key = inner
            .keys
            .get(&inner.current)
            .expect("current file key is in the map");
        (inner.current, key.clone_secret())
    }

    fn get(&self, id: u32) -> Option<SecretKey> {
        self.read().keys.get(&id).map(SecretKey::clone_secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_ids_not_keys() {
        let keys = MemoryFileKeys::new(3, SecretKey::from_bytes([0x5A; 32]));
        keys.insert(4, SecretKey::from_bytes([0x5B; 32]));
        let text = format!("{keys:?}");
        assert_eq!(text, "MemoryFileKeys { current: 3, ids: [3, 4] }");
    }

    #[test]
    fn current_switches_and_stays_known() {
        let keys = MemoryFileKeys::new(1, SecretKey::from_bytes([1; 32]));
        assert!(!keys.set_current(2));
        keys.insert(2, SecretKey::from_bytes([2; 32]));
        assert!(keys.set_current(2));
        assert_eq!(keys.current().0, 2);
        assert!(!keys.remove(2));
        assert!(keys.remove(1));
        assert!(keys.get(1).is_none());
    }
}

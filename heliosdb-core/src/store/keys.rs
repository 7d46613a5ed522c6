//! The keyring in use: copy-on-write updates persisted before they take
//! effect, the audit chain key, and tables' own keys (crypto-shredding).

use heliosdb_crypto::DekId;
use heliosdb_keys::{DekPurpose, Keyring, SourceDescription, UnlockedKeyring};

use super::db::RingEntry;
use super::seal::Crypto;
use super::{keyring_file, lock, read, SealedStore};
use crate::{Error, Result};

impl SealedStore {
    /// Persists `ring` where this database keeps its keyring: the keyring
    /// file (format 2 encrypted, atomic replace) or its column family.
    pub(super) fn persist_keyring(&self, ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<()> {
        if self.files.is_some() {
            keyring_file::write(&self.path, ring, unlocked.root())
        } else {
            self.db.ring_put_synced(RingEntry::Keyring, &ring.encode())
        }
    }

    /// The key source that opened the database, if encrypted.
    pub(crate) fn opened_with(&self) -> Option<SourceDescription> {
        self.crypto.as_ref().map(|c| lock(&c.opened_with).clone())
    }

    pub(crate) fn set_opened_with(&self, d: SourceDescription) {
        if let Some(c) = &self.crypto {
            *lock(&c.opened_with) = d;
        }
    }

    pub(super) fn crypto(&self) -> Result<&Crypto> {
        self.crypto.as_ref().ok_or_else(|| {
            Error::EncryptionMismatch(
                "the database is not encrypted: it has no keys to manage".into(),
            )
        })
    }

    /// Applies `f` to a copy of the keyring, persists the result in one
    /// synced write (a keyring-only change), then refreshes the in-memory
    /// ciphers and the active key. If `f` or the write fails, the keyring in
    /// memory and on disk is unchanged.
    pub(crate) fn update_keyring<T>(
        &self,
        f: impl FnOnce(&mut Keyring, &mut UnlockedKeyring) -> Result<T>,
    ) -> Result<T> {
        let c = self.crypto()?;
        let mut guard = lock(&c.keyring);
        let (ring, unlocked) = &mut *guard;
        let mut next = ring.clone();
        let out = f(&mut next, unlocked)?;
        self.persist_keyring(&next, unlocked)?;
        *ring = next;
        c.refresh(ring, unlocked)?;
        self.refresh_file_keys(ring, unlocked)?;
        Ok(out)
    }

    /// The audit chain key (minted and wrapped in the keyring on first use).
    pub(crate) fn audit_chain_key(&self) -> Result<Option<heliosdb_crypto::SecretKey>> {
        let Some(c) = &self.crypto else {
            return Ok(None);
        };
        let existing = {
            let guard = lock(&c.keyring);
            let (ring, unlocked) = &*guard;
            ring.deks
                .iter()
                .find(|d| d.purpose == DekPurpose::AuditChain)
                .and_then(|d| unlocked.key(DekId(d.id)))
                .map(heliosdb_crypto::SecretKey::clone_secret)
        };
        if let Some(k) = existing {
            return Ok(Some(k));
        }
        let id = self
            .update_keyring(|ring, unlocked| Ok(ring.add_dek(unlocked, DekPurpose::AuditChain)?))?;
        let guard = lock(&c.keyring);
        Ok(guard
            .1
            .key(id)
            .map(heliosdb_crypto::SecretKey::clone_secret))
    }

    /// Nonce budget and the active key's encryption count so far.
    pub(crate) fn nonce_usage(&self) -> Option<(u64, DekId, u64)> {
        let c = self.crypto.as_ref()?;
        let active = read(&c.active);
        Some((c.budget, active.id, active.counter.used()))
    }

    /// A copy of the keyring (wrapped keys only), if encrypted.
    pub(crate) fn keyring(&self) -> Option<Keyring> {
        self.crypto.as_ref().map(|c| lock(&c.keyring).0.clone())
    }

    /// Mints a table's own key (before the table's first record is written).
    pub(crate) fn create_table_key(&self, table_id: u32) -> Result<DekId> {
        self.update_keyring(|ring, unlocked| Ok(ring.add_table_key(unlocked, table_id)?))
    }

    /// Destroys a table's own key: crypto-shredding of everything it sealed.
    pub(crate) fn shred_table_key(&self, table_id: u32) -> Result<Option<DekId>> {
        if self.crypto.is_none() {
            return Ok(None);
        }
        self.update_keyring(|ring, unlocked| Ok(ring.shred_table_key(unlocked, table_id)))
    }

    /// Ids of keys that belong to single tables (rotation leaves their records alone).
    pub(crate) fn table_key_ids(&self) -> std::collections::BTreeSet<u32> {
        self.crypto
            .as_ref()
            .map(|c| read(&c.table_keys).values().map(|k| k.id.0).collect())
            .unwrap_or_default()
    }
}

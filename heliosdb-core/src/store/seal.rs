//! Record sealing: each value is sealed under a data key (the active one,
//! or its table's own key) with AAD binding it to its column family and
//! record key, counted against the key's nonce budget; opening
//! authenticates before anything is returned. Also the keyed blind tokens
//! of format-1 record keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, RwLock};

use heliosdb_crypto::{
    open_envelope, random_nonce, seal_envelope, Aead, DekId, EnvelopeHeader, NeedReservation,
    NonceMode, UsageCounter, DEFAULT_NONCE_BUDGET,
};
use heliosdb_keys::{DekPurpose, Keyring, SourceDescription, UnlockedKeyring};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{lock, read, Cf, SealedStore};
use crate::config::{Config, NonceSource};
use crate::{Error, Result};

const BLIND_TOKEN_LEN: usize = 16;
/// Encryptions reserved per keyring write.
const RESERVE_BLOCK: u64 = 1 << 20;

/// A value ready for a sealed column family: the envelope the seal step
/// made for one (column family, record key) under a data key, or, in a
/// database without encryption, the value as that step passed it on.
///
/// It has no constructor outside the seal step and no conversion from
/// bytes, and the write path of a sealed column family takes nothing else,
/// so a plaintext `Vec<u8>` cannot be written there by mistake: the
/// compiler refuses it.
///
/// ```compile_fail
/// use heliosdb_core::Sealed;
/// let plaintext: Vec<u8> = b"card 4111 1111 1111 1111".to_vec();
/// let sealed = Sealed(plaintext); // the field is private to the seal step
/// ```
///
/// ```compile_fail
/// use heliosdb_core::Sealed;
/// let sealed: Sealed = b"plaintext".to_vec().into(); // no From<Vec<u8>>
/// ```
///
/// The type is public only so that these examples can name it (it is
/// otherwise opaque):
///
/// ```
/// fn write_path(_value: heliosdb_core::Sealed) {}
/// ```
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// The stored bytes.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length of the stored bytes.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

/// A data key records are sealed under, with its use count.
pub(super) struct ActiveKey {
    pub(super) id: DekId,
    aead: Arc<Aead>,
    pub(super) counter: Arc<UsageCounter>,
}

/// Data-key ciphers by DEK id. Every opened value looks its key up here, and
/// SipHash of the id cost about as much as 10 % of the open; ids are small
/// integers from our own keyring, so a multiplicative hash does.
type Ciphers = HashMap<u32, Arc<Aead>, BuildHasherDefault<DekIdHasher>>;

#[derive(Default)]
struct DekIdHasher(u64);

impl Hasher for DekIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used for `u32` keys (they call `write_u32`); any input works.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        // Fibonacci hashing: spreads consecutive ids over the high bits,
        // which the table's probing uses.
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The unlocked keys of an encrypted database and what sealing needs.
pub(super) struct Crypto {
    pub(super) keyring: Mutex<(Keyring, UnlockedKeyring)>,
    /// Keys of tables created with their own key, by table id.
    pub(super) table_keys: RwLock<HashMap<u32, Arc<ActiveKey>>>,
    ciphers: RwLock<Ciphers>,
    pub(super) active: RwLock<Arc<ActiveKey>>,
    blind: Hmac<Sha256>,
    nonce_mode: NonceMode,
    pub(super) budget: u64,
    pub(super) opened_with: Mutex<SourceDescription>,
}

impl SealedStore {
    /// A record key component for a user value: a keyed blind token
    /// (HMAC-SHA256 truncated to 128 bits) when encrypted, the length-prefixed
    /// value otherwise. Both are self-delimiting, so they compose into prefixes.
    pub(crate) fn token(&self, domain: &[u8], value: &[u8]) -> Vec<u8> {
        match &self.crypto {
            Some(c) => {
                let mut mac = c.blind.clone();
                mac.update(&(domain.len() as u32).to_be_bytes());
                mac.update(domain);
                mac.update(value);
                mac.finalize().into_bytes()[..BLIND_TOKEN_LEN].to_vec()
            }
            None => {
                let mut out = Vec::with_capacity(4 + value.len());
                out.extend_from_slice(&(value.len() as u32).to_be_bytes());
                out.extend_from_slice(value);
                out
            }
        }
    }

    /// Seals `value` for record `key` of `cf`: the only way to make a
    /// [`Sealed`].
    pub(super) fn seal(&self, cf: Cf, key: &[u8], value: &[u8]) -> Result<Sealed> {
        let Some(c) = &self.crypto else {
            return Ok(Sealed(value.to_vec()));
        };
        with_context_aad(cf, key, |aad| self.seal_with_aad(c, cf, key, aad, value))
    }

    fn seal_with_aad(
        &self,
        c: &Crypto,
        cf: Cf,
        key: &[u8],
        aad: &[u8],
        value: &[u8],
    ) -> Result<Sealed> {
        if let Some(tk) = self.table_key_for(c, cf, key) {
            let n = match tk.counter.next() {
                Ok(n) => n,
                Err(NeedReservation { n }) => {
                    if n < c.budget {
                        self.reserve(c, &tk, n)?;
                    }
                    n
                }
            };
            if n >= c.budget {
                return Err(Error::Config(format!(
                    "the table's own key (data key {}) has used its nonce budget; copy the table into a new one",
                    tk.id.0
                )));
            }
            let nonce = random_nonce(c.nonce_mode)?;
            return Ok(Sealed(seal_envelope(&tk.aead, tk.id, nonce, aad, value)));
        }
        loop {
            let active = Arc::clone(&read(&c.active));
            let n = match active.counter.next() {
                Ok(n) => n,
                Err(NeedReservation { n }) => {
                    if n < c.budget {
                        self.reserve(c, &active, n)?;
                    }
                    n
                }
            };
            if n >= c.budget {
                self.rotate_for_budget(active.id)?;
                continue;
            }
            let nonce = random_nonce(c.nonce_mode)?;
            return Ok(Sealed(seal_envelope(
                &active.aead,
                active.id,
                nonce,
                aad,
                value,
            )));
        }
    }

    /// The own key of the table a row or index record belongs to, if any.
    fn table_key_for(&self, c: &Crypto, cf: Cf, key: &[u8]) -> Option<Arc<ActiveKey>> {
        if !matches!(cf, Cf::Rows | Cf::Index) || key.len() < 4 {
            return None;
        }
        let tables = read(&c.table_keys);
        if tables.is_empty() {
            return None;
        }
        tables
            .get(&u32::from_be_bytes([key[0], key[1], key[2], key[3]]))
            .cloned()
    }

    /// Persists a new reservation for the active key before `n` is used.
    fn reserve(&self, c: &Crypto, active: &ActiveKey, n: u64) -> Result<()> {
        let mut guard = lock(&c.keyring);
        let (ring, unlocked) = &mut *guard;
        let entry = ring
            .dek_mut(active.id)
            .ok_or_else(|| Error::Corrupt("active data key missing from keyring".into()))?;
        let mut reserved = entry.nonce_reserved;
        if reserved <= n {
            reserved = (n + 1).saturating_add(RESERVE_BLOCK).min(c.budget);
            entry.nonce_reserved = reserved;
            self.persist_keyring(ring, unlocked)?;
        }
        active.counter.extend(reserved);
        Ok(())
    }

    /// The active key has used its nonce budget: mint a new data key and make it active.
    fn rotate_for_budget(&self, exhausted: DekId) -> Result<()> {
        let new = self.update_keyring(|ring, unlocked| {
            // Another thread may have rotated already.
            match ring.active_data_dek() {
                Some(d) if d.id == exhausted.0 => {
                    Ok(Some(ring.add_dek(unlocked, DekPurpose::Data)?))
                }
                _ => Ok(None),
            }
        })?;
        if let Some(id) = new {
            tracing::info!(
                old = exhausted.0,
                new = id.0,
                "data key reached its nonce budget; new data key is active"
            );
        }
        Ok(())
    }

    /// Opens a stored value (plaintext databases store values as they are).
    pub(crate) fn open_value(&self, cf: Cf, key: &[u8], stored: &[u8]) -> Result<Vec<u8>> {
        let Some(c) = &self.crypto else {
            return Ok(stored.to_vec());
        };
        let location = || format!("{}, record {}", cf.describe(), hex::encode(key));
        let header = EnvelopeHeader::parse(stored).map_err(|source| Error::Decryption {
            location: location(),
            source,
        })?;
        // Held for the open (a key refresh waits that long): cheaper than
        // cloning the cipher's `Arc` for every value.
        let ciphers = read(&c.ciphers);
        let aead = ciphers
            .get(&header.dek_id.0)
            .ok_or_else(|| Error::UnknownDataKey {
                location: location(),
                dek_id: header.dek_id.0,
            })?;
        with_context_aad(cf, key, |aad| open_envelope(aead, aad, stored)).map_err(|source| {
            Error::Decryption {
                location: location(),
                source,
            }
        })
    }
}

impl Crypto {
    /// Brings ciphers and the active key in line with `ring`.
    pub(super) fn refresh(&self, ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<()> {
        let mut ciphers = self.ciphers.write().unwrap_or_else(|p| p.into_inner());
        ciphers.retain(|id, _| ring.dek(DekId(*id)).is_some());
        for d in &ring.deks {
            if matches!(d.purpose, DekPurpose::Data | DekPurpose::Table)
                && !ciphers.contains_key(&d.id)
            {
                let key = unlocked.key(DekId(d.id)).ok_or_else(|| {
                    Error::Corrupt(format!("data key {} was not unwrapped", d.id))
                })?;
                ciphers.insert(d.id, Arc::new(Aead::new(key)));
            }
        }
        let mut tables = self.table_keys.write().unwrap_or_else(|p| p.into_inner());
        tables.retain(|_, k| ring.dek(k.id).is_some());
        for d in &ring.deks {
            if let (DekPurpose::Table, Some(t), Some(aead)) =
                (d.purpose, d.table_id, ciphers.get(&d.id))
            {
                tables.entry(t).or_insert_with(|| {
                    Arc::new(ActiveKey {
                        id: DekId(d.id),
                        aead: Arc::clone(aead),
                        counter: Arc::new(UsageCounter::new(d.nonce_reserved, d.nonce_reserved)),
                    })
                });
            }
        }
        drop(tables);
        let entry = ring
            .active_data_dek()
            .ok_or_else(|| Error::Corrupt("no active data key".into()))?;
        let mut active = self.active.write().unwrap_or_else(|p| p.into_inner());
        if active.id.0 != entry.id {
            let aead = ciphers
                .get(&entry.id)
                .cloned()
                .ok_or_else(|| Error::Corrupt("active data key has no cipher".into()))?;
            *active = Arc::new(ActiveKey {
                id: DekId(entry.id),
                aead,
                counter: Arc::new(UsageCounter::new(
                    entry.nonce_reserved,
                    entry.nonce_reserved,
                )),
            });
        }
        Ok(())
    }

    /// Builds the crypto state and loads table keys.
    pub(super) fn load(
        ring: Keyring,
        unlocked: UnlockedKeyring,
        opened_with: SourceDescription,
        config: &Config,
    ) -> Result<Crypto> {
        let c = Crypto::new(ring, unlocked, opened_with, config)?;
        {
            let guard = lock(&c.keyring);
            c.refresh(&guard.0, &guard.1)?;
        }
        Ok(c)
    }

    fn new(
        ring: Keyring,
        unlocked: UnlockedKeyring,
        opened_with: SourceDescription,
        config: &Config,
    ) -> Result<Crypto> {
        let mut ciphers = Ciphers::default();
        for id in unlocked.ids() {
            if let (Some(key), Some(entry)) = (unlocked.key(id), ring.dek(id)) {
                if matches!(entry.purpose, DekPurpose::Data | DekPurpose::Table) {
                    ciphers.insert(id.0, Arc::new(Aead::new(key)));
                }
            }
        }
        let active_entry = ring
            .active_data_dek()
            .ok_or_else(|| Error::Corrupt("no active data key".into()))?;
        let active_id = DekId(active_entry.id);
        let aead = ciphers
            .get(&active_id.0)
            .cloned()
            .ok_or_else(|| Error::Corrupt("active data key was not unwrapped".into()))?;
        // Everything below the persisted reservation counts as spent.
        let reserved = active_entry.nonce_reserved;
        let blind_entry = ring
            .blind_dek()
            .ok_or_else(|| Error::Corrupt("no blind-index key".into()))?;
        let blind_key = unlocked
            .key(DekId(blind_entry.id))
            .ok_or_else(|| Error::Corrupt("blind-index key was not unwrapped".into()))?;
        // HMAC takes keys of any length.
        let blind = <Hmac<Sha256> as Mac>::new_from_slice(blind_key.expose_secret())
            .map_err(|_| Error::Corrupt("blind-index key".into()))?;
        Ok(Crypto {
            keyring: Mutex::new((ring, unlocked)),
            table_keys: RwLock::new(HashMap::new()),
            ciphers: RwLock::new(ciphers),
            active: RwLock::new(Arc::new(ActiveKey {
                id: active_id,
                aead,
                counter: Arc::new(UsageCounter::new(reserved, reserved)),
            })),
            blind,
            nonce_mode: match config.encryption.nonce_source {
                NonceSource::Fast => NonceMode::Fast,
                NonceSource::Os => NonceMode::Os,
            },
            budget: config
                .encryption
                .nonce_budget
                .unwrap_or(DEFAULT_NONCE_BUDGET),
            opened_with: Mutex::new(opened_with),
        })
    }
}

/// Calls `f` with the AAD binding a value to its column family and record
/// key: the length of the column family's name, the name, then the record
/// key. Built on the stack when it fits (every value sealed or opened builds
/// one).
fn with_context_aad<R>(cf: Cf, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    const INLINE: usize = 128;
    let name = cf.name().as_bytes();
    let len = 1 + name.len() + key.len();
    if len <= INLINE {
        let mut buf = [0u8; INLINE];
        buf[0] = name.len() as u8;
        buf[1..=name.len()].copy_from_slice(name);
        buf[1 + name.len()..len].copy_from_slice(key);
        f(&buf[..len])
    } else {
        let mut aad = Vec::with_capacity(len);
        aad.push(name.len() as u8);
        aad.extend_from_slice(name);
        aad.extend_from_slice(key);
        f(&aad)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use heliosdb_keys::{FakeSource, KeySource};

    use super::super::{FileEnv, Op};
    use super::*;

    fn store(seed: u64) -> SealedStore {
        let source: Arc<dyn KeySource> = Arc::new(FakeSource::new(seed));
        SealedStore::open(
            Path::new("/heliosdb-in-memory"),
            &Config::in_memory(),
            Some(source),
            true,
            FileEnv::Disk,
        )
        .unwrap()
    }

    fn fails_authentication(r: Result<Vec<u8>>) -> bool {
        matches!(r, Err(crate::Error::Decryption { .. }))
    }

    #[test]
    fn seal_then_open_round_trips() {
        let s = store(1);
        let plain = b"card 4111 1111 1111 1111";
        let sealed = s.seal(Cf::Rows, b"\0\0\0\x07row", plain).unwrap();
        assert!(sealed.len() > plain.len());
        assert!(!sealed
            .as_bytes()
            .windows(plain.len())
            .any(|w| w == &plain[..]));
        let opened = s
            .open_value(Cf::Rows, b"\0\0\0\x07row", sealed.as_bytes())
            .unwrap();
        assert_eq!(opened, plain);
        // Through the write path too: stored bytes are the envelope.
        s.write(&[Op::Put {
            cf: Cf::Kv,
            key: b"k".to_vec(),
            value: plain.to_vec(),
        }])
        .unwrap();
        let stored = s.raw_get(Cf::Kv.name(), b"k").unwrap().unwrap();
        assert_ne!(stored, plain);
        assert_eq!(s.get(Cf::Kv, b"k").unwrap().unwrap(), plain);
    }

    #[test]
    fn context_aad_is_name_length_name_then_record_key_short_or_long() {
        let s = store(1);
        let c = s.crypto.as_ref().unwrap();
        // 5 bytes: built on the stack; 300: past the inline buffer.
        for key in [b"\0\0\0\x07k".to_vec(), vec![0xab; 300]] {
            let sealed = s.seal(Cf::Rows, &key, b"value").unwrap();
            let mut aad = vec![Cf::Rows.name().len() as u8];
            aad.extend_from_slice(Cf::Rows.name().as_bytes());
            aad.extend_from_slice(&key);
            let dek = heliosdb_crypto::envelope_dek_id(sealed.as_bytes()).unwrap();
            let ciphers = read(&c.ciphers);
            assert_eq!(
                open_envelope(&ciphers[&dek.0], &aad, sealed.as_bytes()).unwrap(),
                b"value"
            );
            drop(ciphers);
            assert_eq!(
                s.open_value(Cf::Rows, &key, sealed.as_bytes()).unwrap(),
                b"value"
            );
            // Another key, or the same key in another column family: refused.
            let mut moved = key.clone();
            *moved.last_mut().unwrap() ^= 1;
            assert!(fails_authentication(s.open_value(
                Cf::Rows,
                &moved,
                sealed.as_bytes()
            )));
            assert!(fails_authentication(s.open_value(
                Cf::Index,
                &key,
                sealed.as_bytes()
            )));
        }
    }

    #[test]
    fn wait_for_compactions_returns_with_no_compaction_left() {
        let dir = tempfile::tempdir().unwrap();
        let s =
            SealedStore::open(dir.path(), &Config::default(), None, false, FileEnv::Disk).unwrap();
        // Eight flushed files at level 0: twice RocksDB's compaction trigger.
        for file in 0..8u32 {
            let ops: Vec<Op> = (0..200u32)
                .map(|i| Op::Put {
                    cf: Cf::Kv,
                    key: format!("k{i:05}").into_bytes(),
                    value: vec![file as u8; 64],
                })
                .collect();
            s.write(&ops).unwrap();
            s.flush().unwrap();
        }
        s.wait_for_compactions().unwrap();
        let prop = |name| s.db.property(Cf::Kv, name).unwrap().unwrap();
        assert_eq!(prop("rocksdb.compaction-pending"), 0);
        assert_eq!(prop("rocksdb.num-running-compactions"), 0);
        assert!(prop("rocksdb.num-files-at-level0") < 4);
        assert_eq!(s.get(Cf::Kv, b"k00007").unwrap().unwrap(), vec![7u8; 64]);
    }

    #[test]
    fn tampered_sealed_value_fails_authentication() {
        let s = store(1);
        let sealed = s.seal(Cf::Kv, b"k", b"value").unwrap();
        for i in 0..sealed.len() {
            let mut bytes = sealed.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let r = s.open_value(Cf::Kv, b"k", &bytes);
            assert!(r.is_err(), "flipping byte {i} went unnoticed");
        }
        let mut cut = sealed.as_bytes().to_vec();
        cut.pop();
        assert!(fails_authentication(s.open_value(Cf::Kv, b"k", &cut)));
    }

    #[test]
    fn moved_sealed_value_fails_authentication() {
        let s = store(1);
        let sealed = s.seal(Cf::Kv, b"k", b"value").unwrap();
        // Another record key, another column family.
        assert!(fails_authentication(s.open_value(
            Cf::Kv,
            b"j",
            sealed.as_bytes()
        )));
        assert!(fails_authentication(s.open_value(
            Cf::Meta,
            b"k",
            sealed.as_bytes()
        )));
        // Another database's data key (same key id, other key bytes).
        let other = store(2);
        assert!(fails_authentication(other.open_value(
            Cf::Kv,
            b"k",
            sealed.as_bytes()
        )));
        assert_eq!(
            s.open_value(Cf::Kv, b"k", sealed.as_bytes()).unwrap(),
            b"value"
        );
    }

    #[test]
    fn unencrypted_store_passes_values_through() {
        let s = SealedStore::open(
            Path::new("/heliosdb-in-memory"),
            &Config::in_memory(),
            None,
            true,
            FileEnv::Disk,
        )
        .unwrap();
        let sealed = s.seal(Cf::Kv, b"k", b"value").unwrap();
        assert_eq!(sealed.as_bytes(), b"value");
    }
}

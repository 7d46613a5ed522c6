//! The keyring: KEK slots wrapping the database's root key, and the data keys
//! (DEKs) wrapped by the root key, with their ids, purposes and states.
//!
//! Encoded as `"HDBK" | u32 format version | u32 body length | JSON body |
//! SHA-256 of everything before it` (see `docs/format.md`). The checksum tells
//! a damaged keyring ("keyring is corrupt") apart from a wrong key; the
//! wrapped keys themselves are authenticated by AES-256-GCM.

use std::collections::BTreeMap;
use std::fmt;

use heliosdb_crypto::{random_nonce, Aead, DekId, NonceMode, SecretKey, NONCE_LEN, TAG_LEN};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::source::{KekHeader, KeySource};
use crate::{Error, Result};

/// Version of the keyring encoding written by this build.
pub const KEYRING_FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 4] = b"HDBK";
const PREFIX_LEN: usize = 12;
const SUM_LEN: usize = 32;
const ROOT_WRAP_LABEL: &[u8] = b"heliosdb-nano/root/v1";
const DEK_WRAP_LABEL: &[u8] = b"heliosdb-nano/dek/v1";

/// What a data key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DekPurpose {
    /// Seals record values.
    Data,
    /// Keys the PRF that turns user values in record keys into blind tokens.
    BlindIndex,
    /// Keys the hash chain of the audit log.
    AuditChain,
    /// Seals the rows and index entries of one table only (crypto-shredding:
    /// dropping the table destroys the key).
    Table,
    /// Encrypts the files RocksDB writes (the file layer of format 2): the
    /// active one encrypts new files, older ones still read files that name
    /// them.
    File,
}

/// Lifecycle state of a data key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DekState {
    /// Seals new values (exactly one data key is active).
    Active,
    /// Still opens old values; seals nothing new.
    DecryptOnly,
    /// No record uses it; kept (still wrapped) so older backups stay readable.
    Retired,
}

impl fmt::Display for DekState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DekState::Active => "active",
            DekState::DecryptOnly => "decrypt-only",
            DekState::Retired => "retired",
        })
    }
}

/// One KEK's slot: the root key wrapped by that KEK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KekSlot {
    /// Slot number, unique within the keyring.
    pub id: u32,
    /// Public parameters of the KEK (description, key check, KDF, KMS identity).
    pub header: KekHeader,
    /// Hex of the root key wrapped by this KEK.
    pub wrapped_root: String,
    /// Unix seconds.
    pub added_at: u64,
}

/// One data key, wrapped by the root key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DekEntry {
    /// The id written into every envelope this key seals.
    pub id: u32,
    /// What it is for.
    pub purpose: DekPurpose,
    /// Lifecycle state.
    pub state: DekState,
    /// Unix seconds.
    pub created_at: u64,
    /// Encryptions reserved so far. Every count below this is spent, used or
    /// not (a crash may leave part of a reserved block unused; it is never reused).
    pub nonce_reserved: u64,
    /// Hex of `nonce || AES-256-GCM(root key, DEK) || tag`.
    pub wrapped: String,
    /// For [`DekPurpose::Table`] keys: the internal id of the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_id: Option<u32>,
}

/// The keyring of one database. Holds no secret in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyring {
    /// Always `AES-256-GCM` in format version 1.
    pub algorithm: String,
    /// Random id of this database, bound into every wrapped key's AAD.
    pub database_id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// KEK slots; any one opens the database.
    pub slots: Vec<KekSlot>,
    /// Data keys.
    pub deks: Vec<DekEntry>,
    /// Next slot id to hand out.
    pub next_slot_id: u32,
    /// Next DEK id to hand out.
    pub next_dek_id: u32,
    /// A data-key rotation in progress (re-encryption of old records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationState>,
}

/// Progress of a data-key rotation, persisted with the keyring in the same
/// atomic write as each re-encrypted batch, so it resumes where it stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationState {
    /// The data key that was made active when the rotation started.
    pub target_dek: u32,
    /// Unix seconds.
    pub started_at: u64,
    /// Column family index the walk is in.
    pub cursor_cf: u32,
    /// Hex of the last physical record key done in that column family
    /// (record keys are ids and blind tokens: no user plaintext).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_key: Option<String>,
    /// Records re-encrypted so far.
    pub records_done: u64,
    /// Bytes (sealed values) re-encrypted so far.
    pub bytes_done: u64,
}

/// The keys of an opened keyring, in memory only.
pub struct UnlockedKeyring {
    /// The slot whose KEK opened the keyring.
    pub slot_id: u32,
    root: SecretKey,
    keys: BTreeMap<u32, SecretKey>,
}

impl fmt::Debug for UnlockedKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnlockedKeyring")
            .field("slot_id", &self.slot_id)
            .field("dek_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl UnlockedKeyring {
    /// The data key with this id.
    pub fn key(&self, id: DekId) -> Option<&SecretKey> {
        self.keys.get(&id.0)
    }

    /// Ids of all unwrapped keys.
    pub fn ids(&self) -> impl Iterator<Item = DekId> + '_ {
        self.keys.keys().map(|&k| DekId(k))
    }

    /// The root key (needed to mint new DEKs or add KEK slots).
    pub fn root(&self) -> &SecretKey {
        &self.root
    }
}

/// Unix seconds now (0 if the clock is before 1970).
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn root_aad(database_id: &str, slot_id: u32) -> Vec<u8> {
    let mut aad = ROOT_WRAP_LABEL.to_vec();
    aad.extend_from_slice(database_id.as_bytes());
    aad.extend_from_slice(&slot_id.to_be_bytes());
    aad
}

fn dek_aad(database_id: &str, id: u32, purpose: DekPurpose) -> Vec<u8> {
    let mut aad = DEK_WRAP_LABEL.to_vec();
    aad.extend_from_slice(database_id.as_bytes());
    aad.extend_from_slice(&id.to_be_bytes());
    aad.push(match purpose {
        DekPurpose::Data => 1,
        DekPurpose::BlindIndex => 2,
        DekPurpose::AuditChain => 3,
        DekPurpose::Table => 4,
        DekPurpose::File => 5,
    });
    aad
}

fn wrap_under_root(root: &SecretKey, key: &SecretKey, aad: &[u8]) -> Result<String> {
    let nonce = random_nonce(NonceMode::Os)?;
    let mut buf = Vec::with_capacity(32 + TAG_LEN);
    buf.extend_from_slice(key.expose_secret());
    Aead::new(root).seal_in_place(&nonce, aad, &mut buf);
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(hex::encode(out))
}

fn unwrap_under_root(root: &Aead, wrapped: &str, aad: &[u8], id: u32) -> Result<SecretKey> {
    let blob = hex::decode(wrapped)
        .map_err(|_| Error::KeyringCorrupt(format!("data key {id}: wrapped key is not hex")))?;
    if blob.len() != NONCE_LEN + 32 + TAG_LEN {
        return Err(Error::KeyringCorrupt(format!(
            "data key {id}: wrapped key has {} bytes",
            blob.len()
        )));
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&blob[..NONCE_LEN]);
    let mut buf = Zeroizing::new(blob[NONCE_LEN..].to_vec());
    root.open_in_place(&nonce, aad, &mut buf).map_err(|_| {
        Error::KeyringCorrupt(format!("data key {id}: wrapped key failed authentication"))
    })?;
    SecretKey::from_slice(&buf)
        .ok_or_else(|| Error::KeyringCorrupt(format!("data key {id}: bad length")))
}

/// Unwraps a new slot's blob with the source that made it and checks, in
/// constant time, that it gives back `root`. Runs before the slot is kept
/// and so before any old slot is removed: a KEK that cannot decrypt never
/// becomes the only way into a database.
async fn prove_unwrap(
    source: &dyn KeySource,
    header: &KekHeader,
    blob: &[u8],
    aad: &[u8],
    root: &SecretKey,
) -> Result<()> {
    let refused = |reason: String, hint: String| Error::NewKeyCannotDecrypt {
        key: source.describe().to_string(),
        reason,
        hint,
    };
    match source.unwrap(header, blob, aad).await {
        Ok(back) if bool::from(back.ct_eq(root)) => Ok(()),
        Ok(_) => Err(refused(
            "it unwrapped what it had just wrapped to a different key".into(),
            "the key source is broken or not the key it claims to be; do not use it".into(),
        )),
        // A key that cannot be used in its state, or an unreachable KMS,
        // is not fixed by granting decrypt: say what is.
        Err(
            e @ Error::Kms {
                kind: crate::KmsErrorKind::KeyUnusable,
                ..
            },
        ) => Err(refused(
            e.to_string(),
            "enable the new key (or key version) or cancel its scheduled deletion".into(),
        )),
        Err(
            e @ Error::Kms {
                kind: crate::KmsErrorKind::Unavailable,
                ..
            },
        ) => Err(refused(
            e.to_string(),
            "the KMS could not be reached; try again".into(),
        )),
        Err(e) => Err(refused(e.to_string(), decrypt_hint(source))),
    }
}

/// What to grant so that the new key may decrypt, per KMS provider.
fn decrypt_hint(source: &dyn KeySource) -> String {
    let desc = source.describe();
    let key = desc.locator.as_deref().unwrap_or("the key");
    match desc.provider.as_deref() {
        Some("aws") => format!("grant decrypt: allow kms:Decrypt on {key} to this identity"),
        Some("gcp") => format!(
            "grant decrypt: give this identity roles/cloudkms.cryptoKeyEncrypterDecrypter \
             (cloudkms.cryptoKeyVersions.useToDecrypt) on {key}, not only cryptoKeyEncrypter"
        ),
        Some("vault") => format!(
            "grant decrypt: the token's policy needs \"update\" on the transit decrypt path \
             of {key} (e.g. transit/decrypt/<key>), not only transit/encrypt"
        ),
        Some("azure") => format!(
            "grant decrypt: allow the unwrapKey operation on {key} (key permission unwrapKey, \
             or the Key Vault Crypto User role), not only wrapKey"
        ),
        Some("pkcs11") => format!(
            "the HSM key {key} must be allowed to decrypt: create it with CKA_DECRYPT = true \
             (mechanism aes-gcm) or CKA_UNWRAP = true (aes-key-wrap); most tokens cannot \
             change these attributes later"
        ),
        _ => "grant decrypt: the new key must be able to unwrap what it wraps".into(),
    }
}

impl Keyring {
    /// A new keyring: a fresh database id and root key wrapped by `source`,
    /// one active data key and one blind-index key.
    ///
    /// # Errors
    /// The source's errors (e.g. KMS unavailable); [`Error::NewKeyCannotDecrypt`]
    /// when the source cannot unwrap its own slot; nothing is persisted here.
    pub async fn create(source: &dyn KeySource) -> Result<(Keyring, UnlockedKeyring)> {
        let mut id = [0u8; 16];
        heliosdb_crypto::fill_random(&mut id)?;
        let now = now_secs();
        let mut ring = Keyring {
            algorithm: "AES-256-GCM".into(),
            database_id: hex::encode(id),
            created_at: now,
            slots: Vec::new(),
            deks: Vec::new(),
            next_slot_id: 1,
            next_dek_id: 1,
            rotation: None,
        };
        let root = SecretKey::generate()?;
        let mut unlocked = UnlockedKeyring {
            slot_id: 0,
            root,
            keys: BTreeMap::new(),
        };
        unlocked.slot_id = ring.add_slot(source, &unlocked).await?;
        ring.add_dek(&mut unlocked, DekPurpose::Data)?;
        ring.add_dek(&mut unlocked, DekPurpose::BlindIndex)?;
        Ok((ring, unlocked))
    }

    /// Opens the keyring with `source`: finds the slot whose KEK it holds (by
    /// key check or KMS key identity, never by trial decryption of data),
    /// unwraps the root key (one call on the source), then every data key.
    ///
    /// # Errors
    /// [`Error::WrongKey`] when no slot belongs to `source`;
    /// [`Error::KeyringCorrupt`] when a wrapped key fails authentication under
    /// a matching KEK; the source's own errors.
    pub async fn unlock(&self, source: &dyn KeySource) -> Result<UnlockedKeyring> {
        for slot in &self.slots {
            if !source.matches(&slot.header).await? {
                continue;
            }
            let blob = hex::decode(&slot.wrapped_root).map_err(|_| {
                Error::KeyringCorrupt(format!("slot {}: wrapped root key is not hex", slot.id))
            })?;
            let root = source
                .unwrap(&slot.header, &blob, &root_aad(&self.database_id, slot.id))
                .await?;
            let root_aead = Aead::new(&root);
            let mut keys = BTreeMap::new();
            for dek in &self.deks {
                let key = unwrap_under_root(
                    &root_aead,
                    &dek.wrapped,
                    &dek_aad(&self.database_id, dek.id, dek.purpose),
                    dek.id,
                )?;
                keys.insert(dek.id, key);
            }
            return Ok(UnlockedKeyring {
                slot_id: slot.id,
                root,
                keys,
            });
        }
        let opens_with: Vec<String> = self
            .slots
            .iter()
            .map(|s| s.header.source.to_string())
            .collect();
        Err(Error::WrongKey {
            supplied: source.describe().to_string(),
            opens_with,
        })
    }

    /// Adds a KEK slot wrapping the root key with `source`. Keyring-only change.
    ///
    /// The new slot is unwrapped once with `source` and compared (in constant
    /// time) with the root key before it is kept: a key that may encrypt but
    /// not decrypt (GCP `cryptoKeyEncrypter`, a Vault policy on
    /// `transit/encrypt` only, Azure `wrapKey` without `unwrapKey`) would
    /// otherwise make a slot nobody can open.
    ///
    /// # Errors
    /// The source's errors; [`Error::NewKeyCannotDecrypt`] when the test
    /// unwrap fails or returns another key. On error `self` is unchanged.
    pub async fn add_slot(
        &mut self,
        source: &dyn KeySource,
        unlocked: &UnlockedKeyring,
    ) -> Result<u32> {
        let id = self.next_slot_id;
        let header = source.new_header().await?;
        let aad = root_aad(&self.database_id, id);
        let blob = source.wrap(&header, &unlocked.root, &aad).await?;
        prove_unwrap(source, &header, &blob, &aad, &unlocked.root).await?;
        self.slots.push(KekSlot {
            id,
            header,
            wrapped_root: hex::encode(blob),
            added_at: now_secs(),
        });
        self.next_slot_id += 1;
        Ok(id)
    }

    /// [`Keyring::add_slot`], re-wrapping slot `from`'s blob inside the KMS
    /// when the new source can ([`KeySource::rewrap`], e.g. AWS ReEncrypt),
    /// so the root key is not sent to the KMS again. If re-wrapping fails,
    /// the root key is wrapped as usual. Whichever way the blob was made, it
    /// is unwrapped and compared with the root key before the slot is kept.
    async fn add_slot_from(
        &mut self,
        source: &dyn KeySource,
        unlocked: &UnlockedKeyring,
        from: u32,
    ) -> Result<u32> {
        let Some(old) = self.slots.iter().find(|s| s.id == from) else {
            return self.add_slot(source, unlocked).await;
        };
        let Ok(old_blob) = hex::decode(&old.wrapped_root) else {
            return self.add_slot(source, unlocked).await;
        };
        let id = self.next_slot_id;
        let header = source.new_header().await?;
        let new_aad = root_aad(&self.database_id, id);
        let rewrapped = source
            .rewrap(
                &old.header,
                &old_blob,
                &root_aad(&self.database_id, old.id),
                &header,
                &new_aad,
            )
            .await;
        let blob = match rewrapped {
            Ok(Some(blob)) => blob,
            Ok(None) => source.wrap(&header, &unlocked.root, &new_aad).await?,
            Err(e) => {
                tracing::warn!(error = %e, "re-wrapping inside the KMS failed; wrapping the root key instead");
                source.wrap(&header, &unlocked.root, &new_aad).await?
            }
        };
        prove_unwrap(source, &header, &blob, &new_aad, &unlocked.root).await?;
        self.slots.push(KekSlot {
            id,
            header,
            wrapped_root: hex::encode(blob),
            added_at: now_secs(),
        });
        self.next_slot_id += 1;
        Ok(id)
    }

    /// Mints a new data key of `purpose`, wraps it under the root key and, for
    /// [`DekPurpose::Data`], makes it the active key (the previous active key
    /// becomes decrypt-only). Needs no KEK: the root key is already unwrapped.
    ///
    /// # Errors
    /// Only when the OS RNG fails.
    pub fn add_dek(
        &mut self,
        unlocked: &mut UnlockedKeyring,
        purpose: DekPurpose,
    ) -> Result<DekId> {
        let id = self.next_dek_id;
        let key = SecretKey::generate()?;
        let wrapped = wrap_under_root(
            &unlocked.root,
            &key,
            &dek_aad(&self.database_id, id, purpose),
        )?;
        if matches!(purpose, DekPurpose::Data | DekPurpose::File) {
            for d in &mut self.deks {
                if d.purpose == purpose && d.state == DekState::Active {
                    d.state = DekState::DecryptOnly;
                }
            }
        }
        self.deks.push(DekEntry {
            id,
            purpose,
            state: DekState::Active,
            created_at: now_secs(),
            nonce_reserved: 0,
            wrapped,
            table_id: None,
        });
        unlocked.keys.insert(id, key);
        self.next_dek_id += 1;
        Ok(DekId(id))
    }

    /// Removes a KEK slot. Keyring-only change; no record is touched.
    ///
    /// # Errors
    /// [`Error::Invariant`] for the last slot (the database would be
    /// unopenable) or an unknown slot.
    pub fn remove_slot(&mut self, slot_id: u32) -> Result<()> {
        if !self.slots.iter().any(|s| s.id == slot_id) {
            return Err(Error::Invariant(format!(
                "no key-encryption key slot {slot_id}"
            )));
        }
        if self.slots.len() == 1 {
            return Err(Error::Invariant(
                "cannot remove the last key-encryption key: add another one first (add-key)".into(),
            ));
        }
        self.slots.retain(|s| s.id != slot_id);
        Ok(())
    }

    /// KEK rotation: wraps the root key with `new_source` in a new slot and
    /// removes slot `old_slot`, as one keyring value. Written atomically, a
    /// crash leaves either the old keyring (opens with the old KEK only) or
    /// the new one (opens with the new KEK only). No record is rewritten.
    /// The old slot goes only after the new one has been unwrapped and
    /// checked (see [`Keyring::add_slot`]).
    ///
    /// # Errors
    /// The new source's errors; [`Error::NewKeyCannotDecrypt`]; an unknown
    /// old slot. On error `self` is unchanged.
    pub async fn replace_slot(
        &mut self,
        old_slot: u32,
        new_source: &dyn KeySource,
        unlocked: &mut UnlockedKeyring,
    ) -> Result<u32> {
        if !self.slots.iter().any(|s| s.id == old_slot) {
            return Err(Error::Invariant(format!(
                "no key-encryption key slot {old_slot}"
            )));
        }
        let new_id = self.add_slot_from(new_source, unlocked, old_slot).await?;
        self.slots.retain(|s| s.id != old_slot);
        if unlocked.slot_id == old_slot {
            unlocked.slot_id = new_id;
        }
        Ok(new_id)
    }

    /// The slot whose header `source` matches, if any.
    ///
    /// # Errors
    /// The source's errors while checking.
    pub async fn find_slot(&self, source: &dyn KeySource) -> Result<Option<u32>> {
        for slot in &self.slots {
            if source.matches(&slot.header).await? {
                return Ok(Some(slot.id));
            }
        }
        Ok(None)
    }

    /// Starts a data-key rotation: a new data key becomes active at once
    /// (the old one stays readable, decrypt-only) and the re-encryption walk
    /// starts from the beginning.
    ///
    /// # Errors
    /// Only when the OS RNG fails.
    pub fn start_rotation(&mut self, unlocked: &mut UnlockedKeyring) -> Result<DekId> {
        let id = self.add_dek(unlocked, DekPurpose::Data)?;
        self.rotation = Some(RotationState {
            target_dek: id.0,
            started_at: now_secs(),
            cursor_cf: 0,
            cursor_key: None,
            records_done: 0,
            bytes_done: 0,
        });
        Ok(id)
    }

    /// Ends a rotation: every decrypt-only data key not in `still_used`
    /// moves to the archive (state retired, still wrapped, so older backups
    /// stay restorable). `still_used` holds the ids some record still uses.
    pub fn finish_rotation(&mut self, still_used: &std::collections::BTreeSet<u32>) -> Vec<DekId> {
        let mut retired = Vec::new();
        for d in &mut self.deks {
            if d.purpose == DekPurpose::Data
                && d.state == DekState::DecryptOnly
                && !still_used.contains(&d.id)
            {
                d.state = DekState::Retired;
                retired.push(DekId(d.id));
            }
        }
        self.rotation = None;
        retired
    }

    /// Destroys an archived (retired) data key for good: crypto-shredding.
    /// Anything still sealed under it — in old backups, say — becomes unreadable.
    ///
    /// # Errors
    /// [`Error::Invariant`] unless the key exists and is retired.
    pub fn destroy_dek(&mut self, id: DekId, unlocked: &mut UnlockedKeyring) -> Result<()> {
        match self.dek(id) {
            Some(d) if d.state == DekState::Retired => {}
            Some(d) => {
                return Err(Error::Invariant(format!(
                    "data key {} is {}; only retired (archived) keys can be destroyed",
                    id.0, d.state
                )))
            }
            None => return Err(Error::Invariant(format!("no data key {}", id.0))),
        }
        self.deks.retain(|d| d.id != id.0);
        unlocked.keys.remove(&id.0);
        Ok(())
    }

    /// Removes a file key that no longer encrypts any file (the proof is
    /// the caller's: every live file's header names another key). The
    /// active file key cannot be removed.
    ///
    /// # Errors
    /// [`Error::Invariant`] for an unknown id, a key of another purpose, or
    /// the active file key.
    pub fn remove_file_key(&mut self, id: DekId, unlocked: &mut UnlockedKeyring) -> Result<()> {
        match self.dek(id) {
            Some(d) if d.purpose == DekPurpose::File && d.state != DekState::Active => {}
            Some(d) if d.purpose == DekPurpose::File => {
                return Err(Error::Invariant(format!(
                    "file key {} is the active one and encrypts new files",
                    id.0
                )))
            }
            _ => return Err(Error::Invariant(format!("no file key {}", id.0))),
        }
        self.deks.retain(|d| d.id != id.0);
        unlocked.keys.remove(&id.0);
        Ok(())
    }

    /// Mints the key of one table (crypto-shredding: see [`Keyring::shred_table_key`]).
    ///
    /// # Errors
    /// Only when the OS RNG fails.
    pub fn add_table_key(
        &mut self,
        unlocked: &mut UnlockedKeyring,
        table_id: u32,
    ) -> Result<DekId> {
        let id = self.add_dek(unlocked, DekPurpose::Table)?;
        if let Some(d) = self.dek_mut(id) {
            d.table_id = Some(table_id);
        }
        Ok(id)
    }

    /// Destroys the key of a table: whatever it sealed becomes unreadable
    /// everywhere, old SST files and WAL included. Returns the key's id.
    pub fn shred_table_key(
        &mut self,
        unlocked: &mut UnlockedKeyring,
        table_id: u32,
    ) -> Option<DekId> {
        let id = self
            .deks
            .iter()
            .find(|d| d.purpose == DekPurpose::Table && d.table_id == Some(table_id))?
            .id;
        self.deks.retain(|d| d.id != id);
        unlocked.keys.remove(&id);
        Some(DekId(id))
    }

    /// The data key that seals new values.
    pub fn active_data_dek(&self) -> Option<&DekEntry> {
        self.deks
            .iter()
            .find(|d| d.purpose == DekPurpose::Data && d.state == DekState::Active)
    }

    /// The file key that encrypts new files (format 2 databases).
    pub fn active_file_dek(&self) -> Option<&DekEntry> {
        self.deks
            .iter()
            .find(|d| d.purpose == DekPurpose::File && d.state == DekState::Active)
    }

    /// The blind-index key.
    pub fn blind_dek(&self) -> Option<&DekEntry> {
        self.deks
            .iter()
            .find(|d| d.purpose == DekPurpose::BlindIndex)
    }

    /// The entry of a data key.
    pub fn dek(&self, id: DekId) -> Option<&DekEntry> {
        self.deks.iter().find(|d| d.id == id.0)
    }

    /// The entry of a data key, mutable.
    pub fn dek_mut(&mut self, id: DekId) -> Option<&mut DekEntry> {
        self.deks.iter_mut().find(|d| d.id == id.0)
    }

    /// Encodes the keyring (see the module docs for the layout).
    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain data structs (strings, integers, vectors) to JSON cannot fail.
        let body = serde_json::to_vec(self).expect("keyring serialises to JSON");
        let mut out = Vec::with_capacity(PREFIX_LEN + body.len() + SUM_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&KEYRING_FORMAT_VERSION.to_be_bytes());
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    /// Decodes and validates keyring bytes. Bytes are untrusted: every
    /// malformation is an error, never a panic.
    ///
    /// # Errors
    /// [`Error::KeyringCorrupt`] or [`Error::KeyringVersion`].
    pub fn decode(bytes: &[u8]) -> Result<Keyring> {
        let corrupt = |m: &str| Error::KeyringCorrupt(m.to_string());
        if bytes.len() < PREFIX_LEN + SUM_LEN {
            return Err(corrupt("truncated (shorter than its fixed header)"));
        }
        if &bytes[..4] != MAGIC {
            return Err(corrupt("bad magic bytes"));
        }
        let version = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        if bytes.len() != PREFIX_LEN + len + SUM_LEN {
            return Err(Error::KeyringCorrupt(format!(
                "truncated or padded ({} bytes, header says {})",
                bytes.len(),
                PREFIX_LEN + len + SUM_LEN
            )));
        }
        let (data, sum) = bytes.split_at(PREFIX_LEN + len);
        if Sha256::digest(data).as_slice() != sum {
            return Err(corrupt("checksum mismatch"));
        }
        if version > KEYRING_FORMAT_VERSION || version == 0 {
            return Err(Error::KeyringVersion {
                found: version,
                supported: KEYRING_FORMAT_VERSION,
            });
        }
        let ring: Keyring = serde_json::from_slice(&data[PREFIX_LEN..])
            .map_err(|e| Error::KeyringCorrupt(format!("body: {e}")))?;
        ring.validate()?;
        Ok(ring)
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::KeyringCorrupt(m));
        if self.algorithm != "AES-256-GCM" {
            return corrupt(format!("unsupported algorithm {:?}", self.algorithm));
        }
        if self.slots.is_empty() {
            return corrupt("no key-encryption key slot".into());
        }
        let active = self
            .deks
            .iter()
            .filter(|d| d.purpose == DekPurpose::Data && d.state == DekState::Active)
            .count();
        if active != 1 {
            return corrupt(format!("{active} active data keys (expected exactly 1)"));
        }
        if self.blind_dek().is_none() {
            return corrupt("no blind-index key".into());
        }
        let mut ids: Vec<u32> = self.deks.iter().map(|d| d.id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.deks.len() || ids.iter().any(|&i| i >= self.next_dek_id) {
            return corrupt("duplicate or out-of-range data key ids".into());
        }
        // Argon2 cost is untrusted input: bounded here, before anything derives.
        for slot in &self.slots {
            if let Some(kdf) = &slot.header.kdf {
                if let Err(e) = kdf.validate() {
                    return corrupt(format!("slot {}: {e}", slot.id));
                }
            }
        }
        let mut slots: Vec<u32> = self.slots.iter().map(|s| s.id).collect();
        slots.sort_unstable();
        slots.dedup();
        if slots.len() != self.slots.len() || slots.iter().any(|&i| i >= self.next_slot_id) {
            return corrupt("duplicate or out-of-range slot ids".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{block_on, FakeSource, RawKeySource};

    #[test]
    fn create_encode_decode_unlock() {
        let src = FakeSource::new(7);
        let (ring, unlocked) = block_on(Keyring::create(&src)).unwrap();
        let bytes = ring.encode();
        let back = Keyring::decode(&bytes).unwrap();
        assert_eq!(back, ring);
        let again = block_on(back.unlock(&src)).unwrap();
        let active = DekId(ring.active_data_dek().unwrap().id);
        assert_eq!(
            again.key(active).unwrap().expose_secret(),
            unlocked.key(active).unwrap().expose_secret()
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&hex::encode(unlocked.key(active).unwrap().expose_secret())));
    }

    #[test]
    fn wrong_key_and_every_truncation() {
        let src = FakeSource::new(1);
        let (ring, _) = block_on(Keyring::create(&src)).unwrap();
        let err = block_on(ring.unlock(&FakeSource::new(2))).unwrap_err();
        assert!(matches!(err, Error::WrongKey { .. }), "{err}");
        let bytes = ring.encode();
        for n in 0..bytes.len() {
            assert!(
                Keyring::decode(&bytes[..n]).is_err(),
                "truncated to {n} accepted"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(Keyring::decode(&b).is_err(), "flip at {i} accepted");
        }
    }

    #[test]
    fn keyring_with_an_absurd_argon2_cost_is_refused_at_decode() {
        let src = crate::PasswordSource::with_cost("pw", 8, 1, 1);
        let (ring, _) = block_on(Keyring::create(&src)).unwrap();
        assert!(Keyring::decode(&ring.encode()).is_ok());
        for (m, t, p) in [(4 * 1024 * 1024, 1, 1), (8, 64, 1), (64, 1, 16)] {
            let mut bad = ring.clone();
            let kdf = bad.slots[0].header.kdf.as_mut().unwrap();
            (kdf.m_cost_kib, kdf.t_cost, kdf.p_cost) = (m, t, p);
            let err = Keyring::decode(&bad.encode()).unwrap_err();
            assert!(matches!(err, Error::KeyringCorrupt(_)), "{err}");
            assert!(err.to_string().contains("Argon2id"), "{err}");
        }
    }

    #[test]
    fn swapped_wrapped_deks_are_rejected() {
        let src = RawKeySource::new(SecretKey::from_bytes([9; 32]), None);
        let (mut ring, _) = block_on(Keyring::create(&src)).unwrap();
        let (a, b) = (ring.deks[0].wrapped.clone(), ring.deks[1].wrapped.clone());
        ring.deks[0].wrapped = b;
        ring.deks[1].wrapped = a;
        let err = block_on(ring.unlock(&src)).unwrap_err();
        assert!(matches!(err, Error::KeyringCorrupt(_)), "{err}");
    }

    #[test]
    fn new_dek_needs_no_kek_and_keeps_old_readable() {
        let src = FakeSource::new(3);
        let (mut ring, mut unlocked) = block_on(Keyring::create(&src)).unwrap();
        let old = ring.active_data_dek().unwrap().id;
        let new = ring.add_dek(&mut unlocked, DekPurpose::Data).unwrap();
        assert_eq!(ring.dek(DekId(old)).unwrap().state, DekState::DecryptOnly);
        assert_eq!(ring.active_data_dek().unwrap().id, new.0);
        let reopened = block_on(Keyring::decode(&ring.encode()).unwrap().unlock(&src)).unwrap();
        assert!(reopened.key(DekId(old)).is_some() && reopened.key(new).is_some());
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;
    use crate::{block_on, FakeSource};

    /// A fake KMS whose `rewrap` does what the test says: re-wrap honestly
    /// (unwrap with `old`, wrap itself), wrap some other key, or fail.
    #[derive(Debug)]
    struct Rewrapping {
        inner: FakeSource,
        old: FakeSource,
        mode: &'static str,
        rewraps: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl KeySource for Rewrapping {
        fn describe(&self) -> crate::SourceDescription {
            self.inner.describe()
        }
        async fn new_header(&self) -> Result<KekHeader> {
            self.inner.new_header().await
        }
        async fn matches(&self, header: &KekHeader) -> Result<bool> {
            self.inner.matches(header).await
        }
        async fn wrap(&self, h: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
            self.inner.wrap(h, key, aad).await
        }
        async fn unwrap(&self, h: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
            self.inner.unwrap(h, blob, aad).await
        }
        async fn rewrap(
            &self,
            old: &KekHeader,
            blob: &[u8],
            old_aad: &[u8],
            new: &KekHeader,
            new_aad: &[u8],
        ) -> Result<Option<Vec<u8>>> {
            self.rewraps
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match self.mode {
                "honest" => {
                    let key = self.old.unwrap(old, blob, old_aad).await?;
                    Ok(Some(self.inner.wrap(new, &key, new_aad).await?))
                }
                "other key" => Ok(Some(
                    self.inner
                        .wrap(new, &SecretKey::from_bytes([9; 32]), new_aad)
                        .await?,
                )),
                _ => Err(Error::Kms {
                    provider: "fake".into(),
                    kind: crate::KmsErrorKind::AccessDenied,
                    message: "no kms:ReEncryptFrom".into(),
                }),
            }
        }
    }

    #[test]
    fn rotation_rewraps_inside_the_kms_and_checks_the_result() {
        for mode in ["honest", "fails", "other key"] {
            let a = FakeSource::new(1);
            let (mut ring, mut unlocked) = block_on(Keyring::create(&a)).unwrap();
            let before = ring.clone();
            let b = Rewrapping {
                inner: FakeSource::new(2),
                old: FakeSource::new(1),
                mode,
                rewraps: Default::default(),
            };
            let r = block_on(ring.replace_slot(unlocked.slot_id, &b, &mut unlocked));
            assert_eq!(b.rewraps.load(std::sync::atomic::Ordering::SeqCst), 1);
            if mode == "other key" {
                // A re-wrap that unwraps to another key is refused and the
                // keyring is left as it was.
                assert!(matches!(r, Err(Error::NewKeyCannotDecrypt { .. })), "{r:?}");
                assert_eq!(ring, before);
                continue;
            }
            // Honest re-wrap, or the fallback to wrapping after a failure.
            r.unwrap();
            let opened = block_on(ring.unlock(&FakeSource::new(2))).unwrap();
            assert!(bool::from(opened.root().ct_eq(unlocked.root())), "{mode}");
        }
    }

    /// A KMS-like source that wraps with `inner` but whose unwrap is denied
    /// (an identity with encrypt permission only) or hands back another key.
    #[derive(Debug)]
    struct EncryptOnly {
        inner: FakeSource,
        /// `"denied"`, `"disabled"` or `"other key"`.
        unwrap: &'static str,
        /// Re-wrap inside the "KMS" (the rewrap path) instead of wrapping.
        rewrap_from: Option<FakeSource>,
        unwraps: std::sync::atomic::AtomicUsize,
    }

    impl EncryptOnly {
        fn new(seed: u64, unwrap: &'static str, rewrap_from: Option<FakeSource>) -> Self {
            EncryptOnly {
                inner: FakeSource::new(seed),
                unwrap,
                rewrap_from,
                unwraps: Default::default(),
            }
        }
    }

    #[async_trait::async_trait]
    impl KeySource for EncryptOnly {
        fn describe(&self) -> crate::SourceDescription {
            crate::SourceDescription {
                kind: crate::SourceKind::Kms,
                locator: Some("projects/p/locations/l/keyRings/r/cryptoKeys/enc-only".into()),
                provider: Some("gcp".into()),
            }
        }
        async fn new_header(&self) -> Result<KekHeader> {
            self.inner.new_header().await
        }
        async fn matches(&self, header: &KekHeader) -> Result<bool> {
            self.inner.matches(header).await
        }
        async fn wrap(&self, h: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
            self.inner.wrap(h, key, aad).await
        }
        async fn unwrap(&self, h: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
            self.unwraps
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match self.unwrap {
                "other key" => {
                    self.inner.unwrap(h, blob, aad).await?;
                    Ok(SecretKey::from_bytes([0x42; 32]))
                }
                "disabled" => Err(Error::Kms {
                    provider: "gcp".into(),
                    kind: crate::KmsErrorKind::KeyUnusable,
                    message: "Decrypt: FAILED_PRECONDITION: version is not enabled".into(),
                }),
                _ => Err(Error::Kms {
                    provider: "gcp".into(),
                    kind: crate::KmsErrorKind::AccessDenied,
                    message: "Decrypt: PERMISSION_DENIED: Permission \
                              'cloudkms.cryptoKeyVersions.useToDecrypt' denied"
                        .into(),
                }),
            }
        }
        async fn rewrap(
            &self,
            old: &KekHeader,
            blob: &[u8],
            old_aad: &[u8],
            new: &KekHeader,
            new_aad: &[u8],
        ) -> Result<Option<Vec<u8>>> {
            match &self.rewrap_from {
                Some(from) => {
                    let key = from.unwrap(old, blob, old_aad).await?;
                    Ok(Some(self.inner.wrap(new, &key, new_aad).await?))
                }
                None => Ok(None),
            }
        }
    }

    #[test]
    fn a_new_kek_that_cannot_decrypt_is_refused_on_every_path_and_nothing_changes() {
        for unwrap in ["denied", "disabled", "other key"] {
            let a = FakeSource::new(1);
            let (mut ring, mut unlocked) = block_on(Keyring::create(&a)).unwrap();
            let before = ring.clone();
            let old_slot = unlocked.slot_id;
            let check = |r: Result<u32>, ring: &Keyring, path: &str| {
                let err = r.expect_err(path);
                assert!(
                    matches!(err, Error::NewKeyCannotDecrypt { .. }),
                    "{path}: {err:?}"
                );
                let msg = err.to_string();
                assert!(msg.contains("cannot decrypt"), "{path}: {msg}");
                assert!(msg.contains("enc-only"), "{path}: {msg}");
                assert!(msg.contains("Nothing was changed"), "{path}: {msg}");
                if unwrap == "denied" {
                    assert!(msg.contains("grant decrypt"), "{path}: {msg}");
                    assert!(
                        msg.contains("roles/cloudkms.cryptoKeyEncrypterDecrypter"),
                        "{path}: {msg}"
                    );
                    assert!(msg.contains("PERMISSION_DENIED"), "{path}: {msg}");
                } else if unwrap == "disabled" {
                    // Not a permission problem: the hint names the fix.
                    assert!(msg.contains("enable the new key"), "{path}: {msg}");
                    assert!(!msg.contains("grant decrypt"), "{path}: {msg}");
                } else {
                    assert!(msg.contains("different key"), "{path}: {msg}");
                }
                // Unchanged, and the old KEK still opens the encoded keyring.
                assert_eq!(ring, &before, "{path}");
                let reopened = Keyring::decode(&ring.encode()).unwrap();
                let opened = block_on(reopened.unlock(&a)).unwrap();
                assert_eq!(opened.slot_id, old_slot, "{path}");
            };

            // add-key (wrap path).
            let b = EncryptOnly::new(2, unwrap, None);
            let r = block_on(ring.add_slot(&b, &unlocked));
            assert_eq!(b.unwraps.load(std::sync::atomic::Ordering::SeqCst), 1);
            check(r, &ring, "add_slot");

            // rotate-key, wrap path: the old slot must survive.
            let b = EncryptOnly::new(2, unwrap, None);
            let r = block_on(ring.replace_slot(old_slot, &b, &mut unlocked));
            check(r, &ring, "replace_slot (wrap)");
            assert_eq!(unlocked.slot_id, old_slot);

            // rotate-key, re-wrap inside the KMS.
            let b = EncryptOnly::new(2, unwrap, Some(FakeSource::new(1)));
            let r = block_on(ring.replace_slot(old_slot, &b, &mut unlocked));
            check(r, &ring, "replace_slot (rewrap)");
            assert_eq!(unlocked.slot_id, old_slot);

            // A new database with such a key is refused too.
            let r = block_on(Keyring::create(&EncryptOnly::new(3, unwrap, None)));
            let err = r.expect_err("create");
            assert!(
                matches!(err, Error::NewKeyCannotDecrypt { .. }),
                "create: {err:?}"
            );
        }
    }

    #[test]
    fn kek_rotation_swaps_the_slot_atomically() {
        let (a, b) = (FakeSource::new(1), FakeSource::new(2));
        let (mut ring, mut unlocked) = block_on(Keyring::create(&a)).unwrap();
        let before = ring.clone();
        let old = unlocked.slot_id;
        block_on(ring.replace_slot(old, &b, &mut unlocked)).unwrap();
        // The old encoding opens with A only, the new one with B only.
        assert!(block_on(before.unlock(&a)).is_ok() && block_on(before.unlock(&b)).is_err());
        let after = Keyring::decode(&ring.encode()).unwrap();
        assert!(block_on(after.unlock(&b)).is_ok() && block_on(after.unlock(&a)).is_err());
        // DEKs unchanged: no record needs rewriting.
        assert_eq!(before.deks, after.deks);
    }

    #[test]
    fn several_keks_and_the_last_one_stays() {
        let (a, b) = (FakeSource::new(1), FakeSource::new(2));
        let (mut ring, unlocked) = block_on(Keyring::create(&a)).unwrap();
        let slot_b = block_on(ring.add_slot(&b, &unlocked)).unwrap();
        assert!(block_on(ring.unlock(&a)).is_ok() && block_on(ring.unlock(&b)).is_ok());
        ring.remove_slot(unlocked.slot_id).unwrap();
        assert!(block_on(ring.unlock(&a)).is_err());
        let err = ring.remove_slot(slot_b).unwrap_err();
        assert!(err.to_string().contains("last key-encryption key"), "{err}");
    }

    #[test]
    fn rotation_lifecycle_and_destroy() {
        let a = FakeSource::new(1);
        let (mut ring, mut unlocked) = block_on(Keyring::create(&a)).unwrap();
        let old = DekId(ring.active_data_dek().unwrap().id);
        let new = ring.start_rotation(&mut unlocked).unwrap();
        assert_eq!(ring.dek(old).unwrap().state, DekState::DecryptOnly);
        assert!(
            ring.destroy_dek(old, &mut unlocked).is_err(),
            "decrypt-only keys cannot be destroyed"
        );
        assert_eq!(ring.finish_rotation(&Default::default()), vec![old]);
        assert_eq!(ring.dek(old).unwrap().state, DekState::Retired);
        assert_eq!(ring.active_data_dek().unwrap().id, new.0);
        ring.destroy_dek(old, &mut unlocked).unwrap();
        assert!(ring.dek(old).is_none() && unlocked.key(old).is_none());
        assert!(ring.destroy_dek(new, &mut unlocked).is_err());
        Keyring::decode(&ring.encode()).unwrap();
    }
}

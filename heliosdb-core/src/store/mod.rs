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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use heliosdb_crypto::{
    open_envelope, random_nonce, seal_envelope, Aead, DekId, EnvelopeHeader, NeedReservation,
    NonceMode, UsageCounter, DEFAULT_NONCE_BUDGET,
};
use heliosdb_keys::{
    block_on, DekPurpose, DekState, KeySource, Keyring, SourceDescription, UnlockedKeyring,
};

use hmac::{Hmac, Mac};
use rocksdb::{ColumnFamilyDescriptor, IteratorMode, Options, WriteBatch, WriteOptions, DB};
use sha2::Sha256;

use crate::config::{Config, NonceSource, RecordKeys};
use heliosdb_fileenc::{EncryptedEnv, MemoryFileKeys};

mod keyring_file;
use crate::{Error, Result};

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

/// Unsealed column family: the keyring (wrapped keys) and the format marker.
pub(crate) const KEYRING_CF: &str = "keyring";
const KEYRING_KEY: &[u8] = b"keyring";
const FORMAT_KEY: &[u8] = b"format";
const BLIND_TOKEN_LEN: usize = 16;
/// Encryptions reserved per keyring write.
const RESERVE_BLOCK: u64 = 1 << 20;

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

struct ActiveKey {
    id: DekId,
    aead: Arc<Aead>,
    counter: Arc<UsageCounter>,
}

struct Crypto {
    keyring: Mutex<(Keyring, UnlockedKeyring)>,
    /// Keys of tables created with their own key, by table id.
    table_keys: RwLock<HashMap<u32, Arc<ActiveKey>>>,
    ciphers: RwLock<HashMap<u32, Arc<Aead>>>,
    active: RwLock<Arc<ActiveKey>>,
    blind: Hmac<Sha256>,
    nonce_mode: NonceMode,
    budget: u64,
    opened_with: Mutex<SourceDescription>,
}

/// The seal boundary (see the module docs).
pub(crate) struct SealedStore {
    // Declared (so dropped) before the envs below: RocksDB holds them by
    // raw pointer until the database is closed.
    db: DB,
    path: PathBuf,
    crypto: Option<Crypto>,
    layout: Layout,
    /// Format 2 encrypted on disk: the keyring is its own file and RocksDB
    /// writes through the file-encryption env.
    files: Option<FileLayer>,
    // An in-memory database keeps its RocksDB Env alive as long as the DB.
    mem_env: Option<rocksdb::Env>,
}

/// The file layer of a format-2 encrypted database.
struct FileLayer {
    keys: Arc<MemoryFileKeys>,
    /// Owned here so it lives exactly as long as the database.
    env: EncryptedEnv,
    /// The power switch when the env runs on RocksDB's fault-injection file
    /// system ([`FileEnv::PowerLoss`]).
    #[cfg(feature = "fault-injection")]
    power: Option<heliosdb_fileenc::PowerLoss>,
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

impl std::fmt::Debug for SealedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedStore")
            .field("path", &self.path)
            .field("encrypted", &self.crypto.is_some())
            .finish()
    }
}

fn cf_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Cf::ALL.iter().map(|c| c.name()).collect();
    v.push(KEYRING_CF);
    v
}

fn db_options(config: &Config) -> Options {
    db_options_on(Options::default(), config)
}

/// Our options on top of `opts` (which may carry the file-encryption env).
fn db_options_on(mut opts: Options, config: &Config) -> Options {
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    // Sealed values are random-looking; block compression would only cost CPU.
    opts.set_compression_type(rocksdb::DBCompressionType::None);
    opts.set_keep_log_file_num(4);
    let mut block = rocksdb::BlockBasedOptions::default();
    let cache = rocksdb::Cache::new_lru_cache(config.storage.cache_size.max(1 << 20));
    block.set_block_cache(&cache);
    // Encrypted record keys are blind tokens: random, so every SST's key range
    // overlaps every lookup. Bloom filters let point reads skip files (and
    // memtables) that do not hold the key.
    block.set_bloom_filter(10.0, false);
    block.set_cache_index_and_filter_blocks(true);
    block.set_pin_l0_filter_and_index_blocks_in_cache(true);
    opts.set_block_based_table_factory(&block);
    opts.set_memtable_whole_key_filtering(true);
    opts.set_memtable_prefix_bloom_ratio(0.1);
    opts
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

/// Reads the format marker and keyring of a database without unlocking it.
pub(crate) fn peek(path: &Path) -> Result<(Option<bool>, Option<Keyring>)> {
    // Format 2 encrypted: the keyring is its own file, and RocksDB's files
    // cannot be read without its keys.
    if let Some(stored) = keyring_file::read(path)? {
        return Ok((Some(true), Some(stored.ring)));
    }
    if files_are_encrypted(path) {
        return Err(missing_keyring_file(path));
    }
    let opts = Options::default();
    let db = DB::open_cf_for_read_only(&opts, path, cf_names(), false)?;
    let cf = db
        .cf_handle(KEYRING_CF)
        .ok_or_else(|| Error::Corrupt("keyring column family missing".into()))?;
    let marker = db.get_cf(cf, FORMAT_KEY)?;
    let encrypted = marker
        .as_deref()
        .map(parse_marker)
        .transpose()?
        .map(|(e, _)| e);
    let ring = match db.get_cf(cf, KEYRING_KEY)? {
        Some(b) => Some(Keyring::decode(&b)?),
        None => None,
    };
    Ok((encrypted, ring))
}

fn parse_marker(bytes: &[u8]) -> Result<(bool, Layout)> {
    match bytes {
        b"heliosdb-nano format 1 encrypted" => Ok((true, Layout::Blind)),
        b"heliosdb-nano format 1 plain" => Ok((false, Layout::Blind)),
        b"heliosdb-nano format 2 plain" => Ok((false, Layout::Ordered)),
        b"heliosdb-nano format 2 encrypted" => Ok((true, Layout::Ordered)),
        _ => Err(Error::Corrupt("unrecognised format marker".into())),
    }
}

fn marker(encrypted: bool, layout: Layout) -> &'static [u8] {
    match (encrypted, layout) {
        (true, Layout::Blind) => b"heliosdb-nano format 1 encrypted",
        (true, Layout::Ordered) => b"heliosdb-nano format 2 encrypted",
        (false, Layout::Blind) => b"heliosdb-nano format 1 plain",
        (false, Layout::Ordered) => b"heliosdb-nano format 2 plain",
    }
}

/// Whether `path` already holds a RocksDB database.
pub(crate) fn exists(path: &Path) -> bool {
    path.join("CURRENT").exists()
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !path.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)?;
    } else if std::fs::read_dir(path)?.next().is_none() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path)?;
    Ok(())
}

impl SealedStore {
    /// Opens (or creates) the database. `source` is `Some` when encryption is on.
    pub(crate) fn open(
        path: &Path,
        config: &Config,
        source: Option<Arc<dyn KeySource>>,
        in_memory: bool,
        file_env: FileEnv,
    ) -> Result<SealedStore> {
        if !in_memory {
            keyring_file::remove_stale_tmp(path);
            if let Some(stored) = keyring_file::read(path)? {
                return Self::open_format2_encrypted(path, config, source, stored, file_env);
            }
        }
        let existed = !in_memory && exists(path);
        if existed && files_are_encrypted(path) {
            // RocksDB's files carry file-layer headers, but their keyring
            // file is gone: without it nothing here can be read.
            return Err(missing_keyring_file(path));
        }
        let ordered = config.storage.record_keys == RecordKeys::Ordered;
        if let (Some(src), false, false, true) = (&source, existed, in_memory, ordered) {
            return Self::create_format2_encrypted(path, config, Arc::clone(src), file_env);
        }
        // A new encrypted database: make the keyring (which may contact a KMS)
        // before creating anything on disk, so a failure leaves nothing behind.
        let fresh_ring = match (&source, existed) {
            (Some(src), false) => Some(block_on(Keyring::create(src.as_ref()))?),
            _ => None,
        };
        let mut opts = db_options(config);
        let env = if in_memory {
            let env = rocksdb::Env::mem_env()?;
            opts.set_env(&env);
            Some(env)
        } else {
            create_private_dir(path)?;
            None
        };
        let descriptors = cf_names()
            .into_iter()
            .map(|n| ColumnFamilyDescriptor::new(n, db_options(config)));
        let db = DB::open_cf_descriptors(&opts, path, descriptors)?;
        let mut store = SealedStore {
            db,
            path: path.to_path_buf(),
            crypto: None,
            layout: Layout::Blind,
            files: None,
            mem_env: env,
        };
        let new_layout = if ordered {
            Layout::Ordered
        } else {
            Layout::Blind
        };
        let ring_cf = store.keyring_cf()?;
        let stored_marker = store.db.get_cf(ring_cf, FORMAT_KEY)?;
        let encrypted_on_disk = match stored_marker.as_deref() {
            Some(m) => Some(parse_marker(m)?),
            None => None,
        };
        let mut layout = encrypted_on_disk.map_or(new_layout, |(_, l)| l);
        let encrypted_on_disk = encrypted_on_disk.map(|(e, _)| e);
        match (source, encrypted_on_disk, fresh_ring) {
            (Some(src), None, Some((ring, unlocked))) => {
                // In memory (ordered or blind) or a new format-1 database:
                // the keyring lives in its column family.
                let mut batch = WriteBatch::default();
                batch.put_cf(ring_cf, KEYRING_KEY, ring.encode());
                batch.put_cf(ring_cf, FORMAT_KEY, marker(true, new_layout));
                store.db.write_opt(batch, &sync_write())?;
                layout = new_layout;
                store.crypto = Some(Crypto::load(ring, unlocked, src.describe(), config)?);
            }
            (Some(src), Some(true), None) => {
                let bytes = store.db.get_cf(ring_cf, KEYRING_KEY)?.ok_or_else(|| {
                    Error::Keys(heliosdb_keys::Error::KeyringCorrupt(
                        "the database is marked encrypted but has no keyring".into(),
                    ))
                })?;
                let ring = Keyring::decode(&bytes)?;
                let unlocked = block_on(ring.unlock(src.as_ref()))?;
                tracing::info!(source = %src.describe(), "encryption key loaded");
                store.crypto = Some(Crypto::load(ring, unlocked, src.describe(), config)?);
            }
            (Some(_), Some(false), _) => return Err(not_encrypted(path)),
            (None, Some(true), _) => {
                let ring = store
                    .db
                    .get_cf(ring_cf, KEYRING_KEY)?
                    .map(|b| Keyring::decode(&b))
                    .transpose()?;
                return Err(needs_key(path, ring.as_ref()));
            }
            (None, Some(false), _) => {}
            (None, None, _) if !existed => {
                store.db.put_cf_opt(
                    ring_cf,
                    FORMAT_KEY,
                    marker(false, new_layout),
                    &sync_write(),
                )?;
                layout = new_layout;
            }
            (_, None, _) => {
                return Err(Error::Corrupt(format!(
                    "{} is a RocksDB database without a HeliosDB Nano format marker",
                    path.display()
                )))
            }
            (Some(_), Some(true), Some(_)) => {
                return Err(Error::Corrupt("inconsistent database state at open".into()))
            }
        }
        store.layout = layout;
        Ok(store)
    }

    /// A new format-2 encrypted database: the keyring (with the first file
    /// key) is written to its file before RocksDB creates any file, so every
    /// file RocksDB ever writes is encrypted.
    fn create_format2_encrypted(
        path: &Path,
        config: &Config,
        src: Arc<dyn KeySource>,
        file_env: FileEnv,
    ) -> Result<SealedStore> {
        // May contact a KMS: before anything exists on disk.
        let (mut ring, mut unlocked) = block_on(Keyring::create(src.as_ref()))?;
        ring.add_dek(&mut unlocked, DekPurpose::File)?;
        create_private_dir(path)?;
        keyring_file::write(path, &ring, unlocked.root())?;
        Self::start_format2(path, config, src.as_ref(), ring, unlocked, file_env)
    }

    fn open_format2_encrypted(
        path: &Path,
        config: &Config,
        source: Option<Arc<dyn KeySource>>,
        stored: keyring_file::Stored,
        file_env: FileEnv,
    ) -> Result<SealedStore> {
        let Some(src) = source else {
            return Err(needs_key(path, Some(&stored.ring)));
        };
        let unlocked = block_on(stored.ring.unlock(src.as_ref()))?;
        keyring_file::authenticate(&stored, unlocked.root())?;
        Self::start_format2(path, config, src.as_ref(), stored.ring, unlocked, file_env)
    }

    /// Opens RocksDB through the file layer of an unlocked, authenticated
    /// keyring.
    fn start_format2(
        path: &Path,
        config: &Config,
        src: &dyn KeySource,
        ring: Keyring,
        unlocked: UnlockedKeyring,
        file_env: FileEnv,
    ) -> Result<SealedStore> {
        let keys = Arc::new(file_keys(&ring, &unlocked)?);
        let file_keys = Arc::clone(&keys) as Arc<dyn heliosdb_fileenc::FileKeys>;
        #[cfg(feature = "fault-injection")]
        let mut power = None;
        let env = match file_env {
            FileEnv::Disk => EncryptedEnv::new(file_keys),
            #[cfg(feature = "fault-injection")]
            FileEnv::PowerLoss => EncryptedEnv::with_power_loss(file_keys).map(|(env, switch)| {
                power = Some(switch);
                env
            }),
        }
        .map_err(|e| Error::Corrupt(format!("file encryption: {e}")))?;
        let base = env
            .options()
            .map_err(|e| Error::Corrupt(format!("file encryption: {e}")))?;
        let opts = db_options_on(base, config);
        let descriptors = cf_names()
            .into_iter()
            .map(|n| ColumnFamilyDescriptor::new(n, db_options(config)));
        let db = DB::open_cf_descriptors(&opts, path, descriptors)?;
        let ring_cf = db
            .cf_handle(KEYRING_CF)
            .ok_or_else(|| Error::Corrupt("keyring column family missing".into()))?;
        match db.get_cf(ring_cf, FORMAT_KEY)?.as_deref().map(parse_marker) {
            Some(Ok((true, Layout::Ordered))) => {}
            // Created just now, or a crash came between the keyring file
            // and the first write: this keyring's database is new.
            None => db.put_cf_opt(
                ring_cf,
                FORMAT_KEY,
                marker(true, Layout::Ordered),
                &sync_write(),
            )?,
            Some(Ok(_)) => {
                return Err(Error::Corrupt(
                    "the database has a keyring file but is not marked as format 2 encrypted"
                        .into(),
                ))
            }
            Some(Err(e)) => return Err(e),
        }
        tracing::info!(source = %src.describe(), "encryption key loaded");
        let crypto = Crypto::load(ring, unlocked, src.describe(), config)?;
        let store = SealedStore {
            db,
            path: path.to_path_buf(),
            crypto: Some(crypto),
            layout: Layout::Ordered,
            files: Some(FileLayer {
                keys,
                env,
                #[cfg(feature = "fault-injection")]
                power,
            }),
            mem_env: None,
        };
        // A file-key rotation finishes here: this open wrote a new MANIFEST,
        // CURRENT, WAL and LOG under the active key.
        for id in store.settle_file_keys()? {
            tracing::info!(
                file_key = id,
                "file key removed: no live file is encrypted under it"
            );
        }
        Ok(store)
    }

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

    /// Persists `ring` where this database keeps its keyring: the keyring
    /// file (format 2 encrypted, atomic replace) or its column family.
    fn persist_keyring(&self, ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<()> {
        if self.files.is_some() {
            keyring_file::write(&self.path, ring, unlocked.root())
        } else {
            self.db.put_cf_opt(
                self.keyring_cf()?,
                KEYRING_KEY,
                ring.encode(),
                &sync_write(),
            )?;
            Ok(())
        }
    }

    /// Brings the file layer's keys in line with `ring` (a new file key
    /// becomes the one new files are written under).
    fn refresh_file_keys(&self, ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<()> {
        match &self.files {
            Some(files) => sync_file_keys(&files.keys, ring, unlocked),
            None => Ok(()),
        }
    }

    fn keyring_cf(&self) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(KEYRING_CF)
            .ok_or_else(|| Error::Corrupt("keyring column family missing".into()))
    }

    fn cf(&self, cf: Cf) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(cf.name())
            .ok_or_else(|| Error::Corrupt(format!("column family {} missing", cf.name())))
    }

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

    /// Appends the record-key component of a user value: its
    /// order-preserving encoding in the ordered layout, a blind token (see
    /// [`SealedStore::token`]) in the blind one.
    pub(crate) fn key_part(&self, out: &mut Vec<u8>, domain: &[u8], value: &crate::Value) {
        match self.layout {
            Layout::Ordered => value.encode_ordered(out),
            Layout::Blind => out.extend_from_slice(&self.token(domain, &value.encode_key())),
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

    fn crypto(&self) -> Result<&Crypto> {
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

    /// Re-encrypts, under the caller's commit lock, up to `max_records`
    /// values of `cf` after `after` that are not sealed with the active data
    /// key; reads at most `max_scan` records. Each value is re-read and
    /// re-sealed with its AAD, and the batch is written together with the
    /// rotation cursor in the keyring, atomically.
    pub(crate) fn reencrypt_batch(
        &self,
        cf_index: usize,
        after: Option<&[u8]>,
        max_records: usize,
        max_bytes: u64,
        max_scan: usize,
    ) -> Result<ReencryptOutcome> {
        let c = self.crypto()?;
        let cf = Cf::ALL[cf_index];
        let handle = self.cf(cf)?;
        let active = Arc::clone(&read(&c.active));
        let table_ids = self.table_key_ids();
        let mode = match after {
            Some(k) => IteratorMode::From(k, rocksdb::Direction::Forward),
            None => IteratorMode::Start,
        };
        let mut batch = WriteBatch::default();
        let mut out = ReencryptOutcome::default();
        for item in self.db.iterator_cf(handle, mode) {
            let (key, stored) = item?;
            if after == Some(&key[..]) {
                continue;
            }
            if out.scanned >= max_scan
                || out.records >= max_records as u64
                || out.bytes >= max_bytes
            {
                out.more = true;
                break;
            }
            out.scanned += 1;
            out.last_key = Some(key.to_vec());
            let header = EnvelopeHeader::parse(&stored);
            if matches!(header, Ok(h) if h.dek_id == active.id || table_ids.contains(&h.dek_id.0)) {
                continue;
            }
            // Opening authenticates: a damaged value is reported, never re-sealed.
            let plain = self.open_value(cf, &key, &stored)?;
            let sealed = self.seal(cf, &key, &plain)?;
            out.bytes += sealed.len() as u64;
            out.records += 1;
            batch.put_cf(handle, &key, sealed);
        }
        let mut guard = lock(&c.keyring);
        let (ring, unlocked) = &mut *guard;
        let mut next = ring.clone();
        if let Some(r) = &mut next.rotation {
            r.records_done += out.records;
            r.bytes_done += out.bytes;
            if out.more {
                r.cursor_cf = cf_index as u32;
                r.cursor_key = out.last_key.as_ref().map(hex::encode);
            } else {
                r.cursor_cf = cf_index as u32 + 1;
                r.cursor_key = None;
            }
        }
        if self.files.is_none() {
            batch.put_cf(self.keyring_cf()?, KEYRING_KEY, next.encode());
        }
        // Re-encrypted values skip the WAL: if the process dies before the
        // memtable is flushed, the batch (and its cursor) are simply lost and
        // those records still hold their old, valid ciphertext; a rotation
        // only completes after a full recount finds no old record, so a lost
        // batch costs another pass, never a record. Halves the bytes written.
        let mut wo = WriteOptions::default();
        wo.disable_wal(true);
        self.db.write_opt(batch, &wo)?;
        if self.files.is_some() {
            // Format 2: the cursor goes to the keyring file after the batch.
            // Should the batch be lost with the memtable, the cursor is
            // ahead of records still under the old key; the rotation only
            // completes after a recount finds none, so that costs a pass.
            self.persist_keyring(&next, unlocked)?;
        }
        *ring = next;
        Ok(out)
    }

    /// Records and stored bytes per data key id, from the envelope headers.
    pub(crate) fn count_by_dek(&self) -> Result<std::collections::BTreeMap<u32, (u64, u64)>> {
        let mut out = std::collections::BTreeMap::new();
        if self.crypto.is_none() {
            return Ok(out);
        }
        for cf in Cf::ALL {
            for item in self.db.iterator_cf(self.cf(cf)?, IteratorMode::Start) {
                let (_, v) = item?;
                if let Ok(h) = EnvelopeHeader::parse(&v) {
                    let e = out.entry(h.dek_id.0).or_insert((0u64, 0u64));
                    e.0 += 1;
                    e.1 += v.len() as u64;
                }
            }
        }
        Ok(out)
    }

    /// Flushes every column family and compacts all of it, so that values
    /// replaced or deleted leave memtables, WAL and SST files.
    pub(crate) fn purge_old_versions(&self) -> Result<()> {
        self.flush()?;
        for name in cf_names() {
            if let Some(h) = self.db.cf_handle(name) {
                let mut opts = rocksdb::CompactOptions::default();
                opts.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
                self.db
                    .compact_range_cf_opt(h, None::<&[u8]>, None::<&[u8]>, &opts);
            }
        }
        self.flush()
    }

    /// A copy of the keyring (wrapped keys only), if encrypted.
    pub(crate) fn keyring(&self) -> Option<Keyring> {
        self.crypto.as_ref().map(|c| lock(&c.keyring).0.clone())
    }

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

    /// Seals and writes all `ops` in one atomic RocksDB batch.
    pub(crate) fn write(&self, ops: &[Op]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        for op in ops {
            match op {
                Op::Put { cf, key, value } => {
                    let sealed = self.seal(*cf, key, value)?;
                    batch.put_cf(self.cf(*cf)?, key, sealed);
                }
                Op::Delete { cf, key } => batch.delete_cf(self.cf(*cf)?, key),
            }
        }
        self.db.write(batch)?;
        Ok(())
    }

    /// Syncs the write-ahead log: every batch written before the call is on
    /// stable storage when it returns.
    /// An in-memory database has no stable storage (and its RocksDB
    /// environment refuses `SyncWAL`), so there it returns at once.
    pub(crate) fn sync_wal(&self) -> Result<()> {
        if self.mem_env.is_some() {
            return Ok(());
        }
        self.db.flush_wal(true)?;
        Ok(())
    }

    /// Reads and opens one value.
    pub(crate) fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.db.get_pinned_cf(self.cf(cf)?, key)? {
            Some(stored) => Ok(Some(self.open_value(cf, key, &stored)?)),
            None => Ok(None),
        }
    }

    /// Reads one stored value without opening it.
    pub(crate) fn raw_get(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let handle = self
            .db
            .cf_handle(cf)
            .ok_or_else(|| Error::Config(format!("no column family named {cf:?}")))?;
        Ok(self.db.get_cf(handle, key)?)
    }

    /// All stored (key, value) pairs of a column family, as stored.
    pub(crate) fn raw_entries(&self, cf: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let handle = self
            .db
            .cf_handle(cf)
            .ok_or_else(|| Error::Config(format!("no column family named {cf:?}")))?;
        self.db
            .iterator_cf(handle, IteratorMode::Start)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(Error::from)
            })
            .collect()
    }

    /// Opened (key, plaintext) pairs whose key starts with `prefix`, in key order.
    /// Stops at the first value that fails to open (returned as the last item).
    pub(crate) fn scan_prefix<'a>(
        &'a self,
        cf: Cf,
        prefix: &'a [u8],
    ) -> Result<impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a> {
        let iter = self.db.iterator_cf(
            self.cf(cf)?,
            IteratorMode::From(prefix, rocksdb::Direction::Forward),
        );
        Ok(iter
            .take_while(move |r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .map(move |r| {
                let (k, v) = r?;
                let plain = self.open_value(cf, &k, &v)?;
                Ok((k.to_vec(), plain))
            }))
    }

    /// Opened (key, plaintext) pairs with `lo <= key < hi` (`hi` `None`:
    /// to the end of the column family), in key order, read lazily from one
    /// consistent view of the database taken now. Memory is bounded by
    /// RocksDB's block reads, not by the range.
    pub(crate) fn iter_range<'a>(
        &'a self,
        cf: Cf,
        lo: &[u8],
        hi: Option<&[u8]>,
    ) -> Result<impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a> {
        let mut ro = rocksdb::ReadOptions::default();
        if let Some(hi) = hi {
            ro.set_iterate_upper_bound(hi.to_vec());
        }
        let iter = self.db.iterator_cf_opt(
            self.cf(cf)?,
            ro,
            IteratorMode::From(lo, rocksdb::Direction::Forward),
        );
        Ok(iter.map(move |r| {
            let (k, v) = r?;
            let plain = self.open_value(cf, &k, &v)?;
            Ok((k.to_vec(), plain))
        }))
    }

    /// Raw (key, stored value) pairs of a sealed column family, for verification.
    pub(crate) fn raw_scan(&self, cf: Cf) -> Result<impl Iterator<Item = Result<RawPair>> + '_> {
        Ok(self
            .db
            .iterator_cf(self.cf(cf)?, IteratorMode::Start)
            .map(|r| r.map_err(Error::from)))
    }

    /// Physical keys under `prefix`, without opening values (for deleting ranges).
    pub(crate) fn keys_with_prefix(&self, cf: Cf, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.db
            .iterator_cf(
                self.cf(cf)?,
                IteratorMode::From(prefix, rocksdb::Direction::Forward),
            )
            .map(|r| r.map_err(Error::from))
            .take_while(|r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .map(|r| r.map(|(k, _)| k.to_vec()))
            .collect()
    }

    /// Estimated number of records in a column family (for progress bars).
    pub(crate) fn estimate_records(&self, cf: Cf) -> u64 {
        self.cf(cf)
            .ok()
            .and_then(|h| {
                self.db
                    .property_int_value_cf(h, "rocksdb.estimate-num-keys")
                    .ok()
                    .flatten()
            })
            .unwrap_or(0)
    }

    /// Flushes memtables of every column family to SST files.
    pub(crate) fn flush(&self) -> Result<()> {
        for name in cf_names() {
            if let Some(h) = self.db.cf_handle(name) {
                self.db.flush_cf(h)?;
            }
        }
        self.db.flush_wal(true)?;
        Ok(())
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
        let mut opts = rocksdb::CompactOptions::default();
        opts.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        self.db
            .compact_range_cf_opt(self.cf(cf)?, start, end, &opts);
        Ok(())
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
        let cp = rocksdb::checkpoint::Checkpoint::new(&self.db)?;
        cp.create_checkpoint(dest)?;
        if self.files.is_some() {
            let bytes = std::fs::read(keyring_file::path(&self.path))?;
            keyring_file::write_bytes(dest, &bytes)?;
        }
        Ok(())
    }

    fn seal(&self, cf: Cf, key: &[u8], value: &[u8]) -> Result<Vec<u8>> {
        let Some(c) = &self.crypto else {
            return Ok(value.to_vec());
        };
        let aad = context_aad(cf, key);
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
            return Ok(seal_envelope(&tk.aead, tk.id, nonce, &aad, value));
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
            return Ok(seal_envelope(&active.aead, active.id, nonce, &aad, value));
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
        let aead = read(&c.ciphers)
            .get(&header.dek_id.0)
            .cloned()
            .ok_or_else(|| Error::UnknownDataKey {
                location: location(),
                dek_id: header.dek_id.0,
            })?;
        open_envelope(&aead, &context_aad(cf, key), stored).map_err(|source| Error::Decryption {
            location: location(),
            source,
        })
    }
}

/// What one re-encryption batch did.
#[derive(Debug, Default)]
pub(crate) struct ReencryptOutcome {
    pub(crate) scanned: usize,
    pub(crate) records: u64,
    pub(crate) bytes: u64,
    pub(crate) last_key: Option<Vec<u8>>,
    /// The column family has more records after `last_key`.
    pub(crate) more: bool,
}

impl Crypto {
    /// Brings ciphers and the active key in line with `ring`.
    fn refresh(&self, ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<()> {
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
    fn load(
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
        let mut ciphers = HashMap::new();
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

/// AAD binding a value to its column family and record key.
fn context_aad(cf: Cf, key: &[u8]) -> Vec<u8> {
    let name = cf.name().as_bytes();
    let mut aad = Vec::with_capacity(1 + name.len() + key.len());
    aad.push(name.len() as u8);
    aad.extend_from_slice(name);
    aad.extend_from_slice(key);
    aad
}

fn sync_write() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
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
        let physical = crate::engine::kv_physical_key(&self.store, key.as_ref());
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

/// The file keys of a format-2 keyring, the active one current.
fn file_keys(ring: &Keyring, unlocked: &UnlockedKeyring) -> Result<MemoryFileKeys> {
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

fn not_encrypted(path: &Path) -> Error {
    Error::EncryptionMismatch(format!(
        "database at {} is not encrypted, but the configuration enables encryption; \
         open it with encryption.enabled = false, or export it and import it into a \
         new encrypted database (heliosdb-nano export / import)",
        path.display()
    ))
}

fn needs_key(path: &Path, ring: Option<&Keyring>) -> Error {
    let opens_with = ring
        .map(|r| {
            r.slots
                .iter()
                .map(|s| s.header.source.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    Error::EncryptionMismatch(format!(
        "database at {} is encrypted; set encryption.enabled = true and its key source \
         (it opens with: {opens_with})",
        path.display()
    ))
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
fn files_are_encrypted(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path.join("CURRENT"))
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == heliosdb_fileenc::MAGIC
}

fn missing_keyring_file(path: &Path) -> Error {
    Error::Keys(heliosdb_keys::Error::KeyringCorrupt(format!(
        "{} is missing: the database's files are encrypted under keys only it holds; \
         restore it (and the directory) from a backup",
        keyring_file::path(path).display()
    )))
}

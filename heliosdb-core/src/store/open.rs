//! Opening or creating a database: RocksDB options, the format marker, and
//! the first unlock of the keyring (in its column family, or in its own file
//! for a format-2 encrypted database).

use std::path::Path;
use std::sync::Arc;

use heliosdb_fileenc::EncryptedEnv;
use heliosdb_keys::{block_on, DekPurpose, KeySource, Keyring, UnlockedKeyring};
use rocksdb::{ColumnFamilyDescriptor, Options};

use super::db::{cf_names, sync_write, Db, RingEntry};
use super::files::{file_keys, files_are_encrypted, missing_keyring_file, FileEnv, FileLayer};
use super::seal::Crypto;
use super::{exists, keyring_file, Layout, SealedStore};
use crate::config::{Config, RecordKeys};
use crate::{Error, Result};

/// The block cache of one open database, `[storage] cache_size` in all,
/// shared by the database's column families.
fn block_cache(config: &Config) -> rocksdb::Cache {
    rocksdb::Cache::new_lru_cache(config.storage.cache_size.max(1 << 20))
}

fn db_options(cache: &rocksdb::Cache) -> Options {
    db_options_on(Options::default(), cache)
}

/// Our options on top of `opts` (which may carry the file-encryption env).
fn db_options_on(mut opts: Options, cache: &rocksdb::Cache) -> Options {
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    // Sealed values are random-looking; block compression would only cost CPU.
    opts.set_compression_type(rocksdb::DBCompressionType::None);
    opts.set_keep_log_file_num(4);
    let mut block = rocksdb::BlockBasedOptions::default();
    block.set_block_cache(cache);
    // Bloom filters let point reads skip files (and memtables) that do not
    // hold the key.
    block.set_bloom_filter(10.0, false);
    // Index and filters partitioned into 4 KiB blocks that go through the
    // block cache like data blocks, with only their small top level pinned.
    // A whole-file index block of a 64 MiB file is ~700 KiB: bigger than a
    // shard of the cache, it was evicted by the next data block and read
    // (and decrypted) again by the next lookup — `ALTER TABLE … ADD PRIMARY
    // KEY` of pgbench's 1,000,000 accounts spent 277 s doing that.
    block.set_index_type(rocksdb::BlockBasedIndexType::TwoLevelIndexSearch);
    block.set_partition_filters(true);
    block.set_metadata_block_size(4096);
    block.set_cache_index_and_filter_blocks(true);
    block.set_cache_index_and_filter_blocks_with_high_priority(true);
    block.set_pin_top_level_index_and_filter(true);
    block.set_pin_l0_filter_and_index_blocks_in_cache(true);
    opts.set_block_based_table_factory(&block);
    opts.set_memtable_whole_key_filtering(true);
    opts.set_memtable_prefix_bloom_ratio(0.1);
    opts
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
    let db = Db::open_read_only(&opts, path)?;
    let marker = db.ring_get(RingEntry::Format)?;
    let encrypted = marker
        .as_deref()
        .map(parse_marker)
        .transpose()?
        .map(|(e, _)| e);
    let ring = match db.ring_get(RingEntry::Keyring)? {
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
        let cache = block_cache(config);
        let mut opts = db_options(&cache);
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
            .map(|n| ColumnFamilyDescriptor::new(n, db_options(&cache)));
        let db = Db::open(&opts, path, descriptors)?;
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
        let stored_marker = store.db.ring_get(RingEntry::Format)?;
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
                let mut batch = store.db.batch();
                batch.ring_put(RingEntry::Keyring, &ring.encode())?;
                batch.ring_put(RingEntry::Format, marker(true, new_layout))?;
                store.db.write(batch, &sync_write())?;
                layout = new_layout;
                store.crypto = Some(Crypto::load(ring, unlocked, src.describe(), config)?);
            }
            (Some(src), Some(true), None) => {
                let bytes = store.db.ring_get(RingEntry::Keyring)?.ok_or_else(|| {
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
                    .ring_get(RingEntry::Keyring)?
                    .map(|b| Keyring::decode(&b))
                    .transpose()?;
                return Err(needs_key(path, ring.as_ref()));
            }
            (None, Some(false), _) => {}
            (None, None, _) if !existed => {
                store
                    .db
                    .ring_put_synced(RingEntry::Format, marker(false, new_layout))?;
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
        let cache = block_cache(config);
        let opts = db_options_on(base, &cache);
        let descriptors = cf_names()
            .into_iter()
            .map(|n| ColumnFamilyDescriptor::new(n, db_options(&cache)));
        let db = Db::open(&opts, path, descriptors)?;
        match db.ring_get(RingEntry::Format)?.as_deref().map(parse_marker) {
            Some(Ok((true, Layout::Ordered))) => {}
            // Created just now, or a crash came between the keyring file
            // and the first write: this keyring's database is new.
            None => db.ring_put_synced(RingEntry::Format, marker(true, Layout::Ordered))?,
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

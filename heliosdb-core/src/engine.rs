//! `StorageEngine`: the tutorial's API — key-value `put`/`get`/`delete`/scans,
//! tables (`insert_tuple`, `insert_batch`, `scan_table`, by-primary-key access,
//! secondary indexes) and transactions — identical with encryption on or off.
//!
//! Record keys hold no user plaintext when encryption is on: rows are keyed
//! by table id and a blind token of the primary key, index entries by blind
//! tokens of the indexed value, catalog entries by a blind token of the table
//! name, key-value pairs by a blind token of the key (the logical key travels
//! sealed inside the value, so prefix scans still work, at the cost of a full
//! scan of the key-value store).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::ThreadId;

use heliosdb_keys::{KeyManager, KeySource, Keyring, SourceDescription};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::store::{Cf, FileEnv, Op, RawView, SealedStore};
use crate::types::Schema;
use crate::{Error, Result};

/// Decrypted table definitions by name, shared by readers.
pub(crate) type TableMap = Arc<HashMap<String, Arc<TableDef>>>;

/// A table as the catalog stores it (sealed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    /// Internal id (record keys carry this, never the name).
    pub id: u32,
    /// Table name.
    pub name: String,
    /// Columns.
    pub schema: Schema,
    /// Secondary indexes.
    pub indexes: Vec<IndexDef>,
    /// Next index id.
    pub next_index_id: u32,
    /// Rows and index entries are sealed with a key of this table's own,
    /// destroyed when the table is dropped (crypto-shredding).
    #[serde(default)]
    pub own_key: bool,
}

/// A secondary (equality) index on one column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    /// Internal id within the table.
    pub id: u32,
    /// Indexed column position.
    pub column: usize,
}

/// A scanned key range of one column family: `[lo, hi)`, `hi` `None` for
/// the end of the family.
type ScanRange = (Cf, Vec<u8>, Option<Vec<u8>>);

/// A record read for update, and what the read returned (`None`: absent).
type LockedRead = ((Cf, Vec<u8>), Option<Vec<u8>>);

/// Pending writes of a transaction and everything it read, for the
/// validation at commit (see [`StorageEngine::commit`]).
#[derive(Default)]
struct TxnState {
    ops: Vec<Op>,
    overlay: BTreeMap<(Cf, Vec<u8>), Option<Vec<u8>>>,
    /// The commit sequence number when the transaction began: commits with
    /// a higher number happened during it.
    start_seq: u64,
    /// Keys read one by one (present or absent), each with the commit
    /// number current just before its first read: that read saw every
    /// commit up to the number, so only a later commit of the key makes it
    /// stale (reads see the newest committed data, not a snapshot; the
    /// transaction is serializable at its commit, where every read must
    /// still be current).
    reads: BTreeMap<(Cf, Vec<u8>), u64>,
    /// The last record read for update (the row lock is ours) and what the
    /// read returned. A point UPDATE reads its row for update, then the
    /// write reads it again to update the indexes; this answers the second
    /// read. It cannot differ from a new read of a transaction that
    /// commits: the key is in `reads`, so any commit of it since is a
    /// conflict at our commit.
    last_locked: Option<LockedRead>,
    /// Key ranges scanned, `[lo, hi)` (`hi` `None`: to the end), by table
    /// scans, range scans, index probes and key-value scans, with the
    /// commit number current when the scan began: a later write of any key
    /// in one of them is a phantom for us.
    scans: BTreeMap<ScanRange, u64>,
    /// Open savepoints, oldest first: name, how many ops were pending, and
    /// the overlay then. Reads and scans are kept on rollback to one (what
    /// was read still has to be valid at commit: more validation, never
    /// less).
    savepoints: Vec<Savepoint>,
    /// Tables created while the transaction is open: creation commits at
    /// once (the catalog is not transactional), so a rollback drops them.
    created_tables: Vec<String>,
    /// The tables this transaction wrote rows of, as it looked them up
    /// (first write of each).
    tables: Vec<TableStamp>,
}

/// What a savepoint returns to.
struct Savepoint {
    name: String,
    ops: usize,
    overlay: BTreeMap<(Cf, Vec<u8>), Option<Vec<u8>>>,
    created_tables: usize,
    dropped_tables: usize,
}

impl TxnState {
    /// Whether a key that commit `seq` (after this transaction began)
    /// wrote is one this transaction read before that commit, or would have
    /// seen in a scan that began before it.
    fn saw(&self, seq: u64, cf: Cf, key: &[u8]) -> bool {
        self.reads
            .get(&(cf, key.to_vec()))
            .is_some_and(|read| seq > *read)
            || self.scans.iter().any(|((c, lo, hi), scanned)| {
                seq > *scanned
                    && *c == cf
                    && key >= lo.as_slice()
                    && hi.as_ref().is_none_or(|h| key < h.as_slice())
            })
    }
}

/// Which transaction a call belongs to: the calling thread's (the
/// tutorial's `begin_transaction`/`commit`) or a [`crate::Transaction`]
/// handle's, which any thread may drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TxnKey {
    Thread(ThreadId),
    Handle(u64),
    /// A [`crate::SessionContext`]'s, while a thread has entered it.
    Context(u64),
}

impl TxnKey {
    /// The calling thread's transaction context: the session it has
    /// entered ([`StorageEngine::enter`]), else the thread's own.
    pub(crate) fn thread() -> TxnKey {
        match crate::context::entered() {
            Some(id) => TxnKey::Context(id),
            None => TxnKey::Thread(std::thread::current().id()),
        }
    }
}

/// How long a transaction waits for another's row lock before its
/// statement fails (SQLSTATE 40001, so clients retry). Deadlocks are found
/// at once (see [`RowLocks::waits_for`]); this bounds waits behind a
/// transaction left open.
const ROW_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Row locks: records an open transaction read for update, and which
/// transaction waits for which.
#[derive(Default)]
struct RowLocks {
    held: HashMap<(Cf, Vec<u8>), TxnKey>,
    /// The records each transaction holds, released at its end.
    by_owner: HashMap<TxnKey, Vec<(Cf, Vec<u8>)>>,
    /// Waiter → holder. A wait that would close a cycle is a deadlock and
    /// fails instead of waiting.
    waits_for: HashMap<TxnKey, TxnKey>,
}

/// The keys each recent commit wrote, kept while a transaction that began
/// before it is open (backward validation: a transaction commits only if no
/// commit since its start wrote anything it read).
struct CommitRecord {
    seq: u64,
    keys: Vec<(Cf, Vec<u8>)>,
}

/// Group commit: committers whose batches are in the WAL wait here until one
/// of them has synced it; one `fsync` covers every batch written before it.
#[derive(Default)]
struct WalSync {
    state: Mutex<WalSyncState>,
    done: Condvar,
}

#[derive(Default)]
struct WalSyncState {
    /// Every commit up to this sequence number is on stable storage.
    synced: u64,
    /// A committer is syncing right now.
    syncing: bool,
}

/// Read and write context of one mutation: direct (under the commit lock) or
/// inside the calling thread's transaction.
pub(crate) struct Ctx<'a> {
    store: &'a SealedStore,
    txn: Option<&'a mut TxnState>,
    ops: Vec<Op>,
    /// Outside a transaction: the position in `ops` of the last write of
    /// each key, so that reading one's own writes costs a lookup (a batch
    /// insert of n rows probed the n writes before each row: n² / 2 key
    /// comparisons). Inside one, the transaction's overlay does this.
    latest: HashMap<(Cf, Vec<u8>), usize>,
    /// The tables whose rows this mutation writes, as the writer looked
    /// them up (see [`Ctx::note_table`]).
    tables: Vec<TableStamp>,
    /// The commit number current before this mutation's first read: what
    /// it reads includes every commit up to it.
    seq: u64,
}

/// A table as a writer looked it up: its id and its indexes' ids. The
/// commit checks these against the catalog (see
/// [`StorageEngine::stale_write`]).
#[derive(Clone, Debug, PartialEq, Eq)]
struct TableStamp {
    id: u32,
    indexes: Vec<u32>,
}

impl Ctx<'_> {
    pub(crate) fn get(&mut self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match &mut self.txn {
            Some(t) => {
                if let Some(v) = t.overlay.get(&(cf, key.to_vec())) {
                    return Ok(v.clone());
                }
                if let Some(((c, k), v)) = &t.last_locked {
                    if *c == cf && k == key {
                        return Ok(v.clone());
                    }
                }
                // The first read of a key counts (the oldest, validated
                // from its number on).
                t.reads.entry((cf, key.to_vec())).or_insert(self.seq);
                self.store.get(cf, key)
            }
            None => {
                // Read-your-writes within one direct mutation (e.g. a batch insert).
                match self
                    .latest
                    .get(&(cf, key.to_vec()))
                    .and_then(|&i| self.ops.get(i))
                {
                    Some(Op::Put { value, .. }) => Ok(Some(value.clone())),
                    Some(Op::Delete { .. }) => Ok(None),
                    None => self.store.get(cf, key),
                }
            }
        }
    }

    pub(crate) fn put(&mut self, cf: Cf, key: Vec<u8>, value: Vec<u8>) {
        if let Some(t) = &mut self.txn {
            t.overlay.insert((cf, key.clone()), Some(value.clone()));
        } else {
            self.latest.insert((cf, key.clone()), self.ops.len());
        }
        self.ops.push(Op::Put { cf, key, value });
    }

    pub(crate) fn delete(&mut self, cf: Cf, key: Vec<u8>) {
        if let Some(t) = &mut self.txn {
            t.overlay.insert((cf, key.clone()), None);
        } else {
            self.latest.insert((cf, key.clone()), self.ops.len());
        }
        self.ops.push(Op::Delete { cf, key });
    }

    /// Records that this mutation writes rows (and index entries) of
    /// `def` as looked up before the commit lock was taken. Should a schema
    /// change drop or rebuild the table, or change its indexes, before the
    /// commit, the writes are stale (rows under an id no table has, index
    /// entries missing or orphaned) and the commit fails instead.
    pub(crate) fn note_table(&mut self, def: &TableDef) {
        if self.tables.last().is_some_and(|t| t.id == def.id) {
            return;
        }
        if self.tables.iter().any(|t| t.id == def.id) {
            return;
        }
        self.tables.push(TableStamp {
            id: def.id,
            indexes: def.indexes.iter().map(|i| i.id).collect(),
        });
    }
}

/// Outcome of [`StorageEngine::verify`].
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    /// Records authenticated.
    pub records: u64,
    /// Records per data key id.
    pub records_per_dek: BTreeMap<u32, u64>,
    /// Records that failed, with where and why (first 100).
    pub failures: Vec<VerifyFailure>,
    /// Total failures (may exceed `failures.len()`).
    pub failure_count: u64,
}

impl VerifyReport {
    /// Whether every record authenticated.
    pub fn is_ok(&self) -> bool {
        self.failure_count == 0
    }
}

/// One record that failed verification.
#[derive(Clone, Debug)]
pub struct VerifyFailure {
    /// Table (or store) and record.
    pub location: String,
    /// What went wrong.
    pub error: String,
}

/// Secret-free description of the keys of an encrypted database.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    /// The key source that opened it.
    pub opened_with: SourceDescription,
    /// KEK slots (descriptions only).
    pub slots: Vec<SourceDescription>,
    /// Data keys: id, purpose, state.
    pub deks: Vec<(u32, String, String)>,
    /// The active data key.
    pub active_dek: u32,
}

/// The storage engine. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct StorageEngine {
    /// The tutorial's raw view of stored bytes (read-only).
    pub db: RawView,
    store: Arc<SealedStore>,
    config: Config,
    pub(crate) commit_lock: Arc<Mutex<()>>,
    /// Sequence number of the last commit (written under `commit_lock`,
    /// after the commit's batch is visible).
    commit_seq: AtomicU64,
    /// What recent commits wrote, for validation (under `commit_lock`).
    commit_log: Mutex<VecDeque<CommitRecord>>,
    wal_sync: WalSync,
    txns: Mutex<HashMap<TxnKey, TxnState>>,
    /// Row locks of open transactions (see [`StorageEngine::read_for_update`]).
    row_locks: Mutex<RowLocks>,
    /// Signalled when a transaction releases its row locks.
    row_unlocked: Condvar,
    /// Ids of [`crate::Transaction`] handles.
    next_handle: AtomicU64,
    tables: RwLock<Option<TableMap>>,
    /// Counts schema changes (see [`StorageEngine::schema_generation`]).
    schema_generation: AtomicU64,
    /// Tables dropped inside open transactions, by transaction: they stay
    /// in the catalog (other transactions still see them) until the
    /// dropping transaction commits; its own lookups no longer find them.
    /// Kept apart from `txns` because table lookups happen while a
    /// mutation holds that lock.
    dropped: Mutex<HashMap<TxnKey, Vec<Arc<TableDef>>>>,
    /// How many transactions have entries in `dropped` (lookups skip the
    /// lock while it is 0).
    dropping_txns: AtomicUsize,
    pub(crate) worker: Mutex<Option<crate::rotation::Worker>>,
    pub(crate) audit: Option<Arc<crate::audit::AuditLog>>,
}

impl std::fmt::Debug for StorageEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageEngine")
            .field("path", &self.store.path())
            .field("encrypted", &self.store.is_encrypted())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // See store/mod.rs: poisoned guards hold consistent data here.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Replaces the generic location of a decryption error with a precise one.
pub(crate) fn relocate(e: Error, location: impl FnOnce() -> String) -> Error {
    match e {
        Error::Decryption { source, .. } => Error::Decryption {
            location: location(),
            source,
        },
        Error::UnknownDataKey { dek_id, .. } => Error::UnknownDataKey {
            location: location(),
            dek_id,
        },
        other => other,
    }
}

/// Names the table in a row's decryption error, keeping the record id.
pub(crate) fn relocate_row(e: Error, table: &str) -> Error {
    match e {
        Error::Decryption { location, source } => Error::Decryption {
            location: location.replacen("table rows", &format!("table '{table}'"), 1),
            source,
        },
        Error::UnknownDataKey { location, dek_id } => Error::UnknownDataKey {
            location: location.replacen("table rows", &format!("table '{table}'"), 1),
            dek_id,
        },
        other => other,
    }
}

fn show_key(key: &[u8]) -> String {
    format!("\"{}\"", key.escape_ascii())
}

impl StorageEngine {
    /// Opens (or creates) the database at `path`. With
    /// `config.encryption.enabled`, the key comes from
    /// `config.encryption.key_source`.
    ///
    /// # Errors
    /// Key source errors (the tutorial's messages), a wrong key (before any
    /// record is read), encryption on/off mismatches, RocksDB errors.
    pub fn open(path: impl AsRef<Path>, config: &Config) -> Result<Self> {
        let source = Self::source_from_config(config)?;
        Self::open_inner(path.as_ref(), config, source, false, FileEnv::Disk)
    }

    /// Opens with an explicit key (e.g. `KeyManager::password(..)` or a KMS
    /// source). Encryption is on whatever the configuration says.
    ///
    /// # Errors
    /// As [`StorageEngine::open`].
    pub fn open_with_key_manager(
        path: impl AsRef<Path>,
        config: &Config,
        keys: &KeyManager,
    ) -> Result<Self> {
        Self::open_inner(
            path.as_ref(),
            config,
            Some(keys.key_source()),
            false,
            FileEnv::Disk,
        )
    }

    /// Opens with an explicit key source.
    ///
    /// # Errors
    /// As [`StorageEngine::open`].
    pub fn open_with_source(
        path: impl AsRef<Path>,
        config: &Config,
        source: Arc<dyn KeySource>,
    ) -> Result<Self> {
        Self::open_inner(path.as_ref(), config, Some(source), false, FileEnv::Disk)
    }

    /// An in-memory database (nothing reaches the disk), encrypted if the
    /// configuration says so.
    ///
    /// # Errors
    /// As [`StorageEngine::open`].
    pub fn open_in_memory(config: &Config) -> Result<Self> {
        let source = Self::source_from_config(config)?;
        Self::open_inner(
            Path::new("/heliosdb-in-memory"),
            config,
            source,
            true,
            FileEnv::Disk,
        )
    }

    /// An in-memory database with an explicit key source.
    ///
    /// # Errors
    /// As [`StorageEngine::open`].
    pub fn open_in_memory_with_source(config: &Config, source: Arc<dyn KeySource>) -> Result<Self> {
        Self::open_inner(
            Path::new("/heliosdb-in-memory"),
            config,
            Some(source),
            true,
            FileEnv::Disk,
        )
    }

    /// Opens (or creates) the database at `path` with its file layer on
    /// RocksDB's fault-injection file system (`testing::open_with_power_loss`).
    #[cfg(feature = "fault-injection")]
    pub(crate) fn open_for_power_loss(path: &Path, config: &Config) -> Result<Self> {
        let source = Self::source_from_config(config)?;
        Self::open_inner(path, config, source, false, FileEnv::PowerLoss)
    }

    #[cfg(feature = "test-util")]
    pub(crate) fn source_from_config_pub(config: &Config) -> Result<Option<Arc<dyn KeySource>>> {
        Self::source_from_config(config)
    }

    fn source_from_config(config: &Config) -> Result<Option<Arc<dyn KeySource>>> {
        if !config.encryption.enabled {
            return Ok(None);
        }
        Ok(Some(
            KeyManager::from_config(&config.encryption.key_source, &config.encryption.kms)?
                .key_source(),
        ))
    }

    fn open_inner(
        path: &Path,
        config: &Config,
        source: Option<Arc<dyn KeySource>>,
        in_memory: bool,
        file_env: FileEnv,
    ) -> Result<Self> {
        config.validate()?;
        let in_memory = in_memory || config.storage.in_memory;
        if !in_memory {
            // Before anything could create an empty database at the path.
            crate::finish_interrupted_upgrade(path)?;
        }
        let store = Arc::new(SealedStore::open(
            path, config, source, in_memory, file_env,
        )?);
        let engine = StorageEngine {
            db: RawView {
                store: Arc::clone(&store),
            },
            store,
            config: config.clone(),
            commit_lock: Arc::new(Mutex::new(())),
            commit_seq: AtomicU64::new(0),
            commit_log: Mutex::new(VecDeque::new()),
            wal_sync: WalSync::default(),
            txns: Mutex::new(HashMap::new()),
            row_locks: Mutex::new(RowLocks::default()),
            row_unlocked: Condvar::new(),
            next_handle: AtomicU64::new(1),
            tables: RwLock::new(None),
            schema_generation: AtomicU64::new(0),
            dropped: Mutex::new(HashMap::new()),
            dropping_txns: AtomicUsize::new(0),
            worker: Mutex::new(None),
            audit: None,
        };
        let mut engine = engine;
        if config.audit.enabled {
            let key = engine.store.audit_chain_key()?;
            let id = engine
                .store
                .keyring()
                .map_or_else(|| "plaintext".to_string(), |r| r.database_id);
            let log = crate::audit::AuditLog::open(
                &config.audit,
                key.as_ref(),
                &id,
                engine.is_encrypted(),
                Some(Arc::clone(&engine.store)),
            )?;
            engine.audit = Some(Arc::new(log));
            if let Some(src) = engine.store.opened_with() {
                engine.audit_key_event(&format!("key loaded from {src}"));
            }
        }
        engine.start_background()?;
        Ok(engine)
    }

    /// The keyring of the database at `path` and whether it is encrypted,
    /// read without a key (all secret-free). Lets tools find the key source a
    /// database opens with from its path alone.
    ///
    /// # Errors
    /// RocksDB errors; a corrupt keyring.
    pub fn inspect(path: impl AsRef<Path>) -> Result<(bool, Option<Keyring>)> {
        let path = path.as_ref();
        crate::finish_interrupted_upgrade(path)?;
        if !crate::store::exists(path) {
            return Err(Error::Config(format!("no database at {}", path.display())));
        }
        let (encrypted, ring) = crate::store::peek(path)?;
        Ok((encrypted.unwrap_or(ring.is_some()), ring))
    }

    /// Whether values are encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.store.is_encrypted()
    }

    /// `Some("Enabled: AES-256-GCM")` when encrypted, `None` otherwise.
    pub fn encryption_info(&self) -> Option<String> {
        self.is_encrypted()
            .then(|| "Enabled: AES-256-GCM".to_string())
    }

    /// Secret-free key information (encrypted databases only).
    pub fn key_info(&self) -> Option<KeyInfo> {
        let ring = self.store.keyring()?;
        let opened_with = self.store.opened_with()?;
        Some(KeyInfo {
            opened_with,
            slots: ring.slots.iter().map(|s| s.header.source.clone()).collect(),
            deks: ring
                .deks
                .iter()
                .map(|d| {
                    (
                        d.id,
                        format!("{:?}", d.purpose).to_lowercase(),
                        d.state.to_string(),
                    )
                })
                .collect(),
            active_dek: ring.active_data_dek().map_or(0, |d| d.id),
        })
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The on-disk format: 1 (blind record keys, keyring inside RocksDB) or
    /// 2 (ordered record keys; when encrypted, encrypted files and a keyring
    /// file). See `docs/format.md`.
    pub fn format_version(&self) -> u32 {
        if self.store.ordered() {
            2
        } else {
            1
        }
    }

    /// A table's definition as the catalog holds it: schema, indexes,
    /// whether it has a key of its own (what a copy of the table needs).
    ///
    /// # Errors
    /// The table does not exist; decryption errors.
    pub fn table_def(&self, name: &str) -> Result<TableDef> {
        Ok((*self.table(name)?).clone())
    }

    /// The configuration the engine was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Flushes memtables and the WAL: afterwards the files on disk hold a
    /// consistent state (`heliosdb-nano checkpoint`).
    ///
    /// # Errors
    /// RocksDB errors.
    pub fn flush(&self) -> Result<()> {
        self.store.flush()
    }

    /// Flushes memtables and waits until RocksDB's background work is done:
    /// no flush or compaction running or pending. After a bulk load this
    /// leaves the files in their settled shape, so that what is measured or
    /// copied next does not race the compactions the load started.
    ///
    /// # Errors
    /// RocksDB errors.
    pub fn wait_for_compactions(&self) -> Result<()> {
        self.store.wait_for_compactions()
    }

    // ----- mutations --------------------------------------------------------

    /// Runs `f` as one atomic mutation: inside transaction `txn` if it is
    /// open, otherwise under the commit lock and written
    /// at once.
    pub(crate) fn mutate<T>(
        &self,
        txn: TxnKey,
        f: impl FnOnce(&mut Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut txns = lock(&self.txns);
        if let Some(state) = txns.get_mut(&txn) {
            let mut ctx = Ctx {
                store: &self.store,
                txn: Some(state),
                ops: Vec::new(),
                latest: HashMap::new(),
                tables: Vec::new(),
                seq: self.commit_seq.load(Ordering::Acquire),
            };
            let out = f(&mut ctx)?;
            let ops = std::mem::take(&mut ctx.ops);
            let tables = std::mem::take(&mut ctx.tables);
            state.ops.extend(ops);
            for t in tables {
                if !state.tables.iter().any(|s| s.id == t.id) {
                    state.tables.push(t);
                }
            }
            return Ok(out);
        }
        drop(txns);
        self.mutate_direct(f)
    }

    /// One atomic mutation outside any transaction (schema changes).
    /// Its reads and writes happen under the commit lock, so a
    /// read-modify-write here is atomic against every other writer.
    pub(crate) fn mutate_direct<T>(&self, f: impl FnOnce(&mut Ctx<'_>) -> Result<T>) -> Result<T> {
        self.mutate_direct_then(f, || {})
    }

    /// As [`StorageEngine::mutate_direct`], running `locked` after the
    /// batch is written and before the commit lock is released (a schema
    /// change drops the cached catalog there, so that no commit is checked
    /// against the old one).
    pub(crate) fn mutate_direct_then<T>(
        &self,
        f: impl FnOnce(&mut Ctx<'_>) -> Result<T>,
        locked: impl FnOnce(),
    ) -> Result<T> {
        let guard = lock(&self.commit_lock);
        let mut ctx = Ctx {
            store: &self.store,
            txn: None,
            ops: Vec::new(),
            latest: HashMap::new(),
            tables: Vec::new(),
            seq: self.commit_seq.load(Ordering::Acquire),
        };
        let written = (|| -> Result<(T, u64)> {
            let out = f(&mut ctx)?;
            self.stale_write(&ctx.tables)?;
            let seq = self.apply_commit(&ctx.ops)?;
            Ok((out, seq))
        })();
        locked();
        let (out, seq) = written?;
        drop(guard);
        self.after_commit(seq, &ctx.ops)?;
        Ok(out)
    }

    /// [`Error::Conflict`] when a table written through `tables` is gone
    /// (dropped, or replaced by a rebuild such as ALTER TABLE, after the
    /// writer looked it up: its rows would land under an id no table has,
    /// invisible and lost) or has other indexes now (index entries would be
    /// missing or orphaned). Caller holds `commit_lock`, so no schema change
    /// runs between this check and the write.
    fn stale_write(&self, tables: &[TableStamp]) -> Result<()> {
        if tables.is_empty() {
            return Ok(());
        }
        let current = self.tables()?;
        for t in tables {
            match current.values().find(|d| d.id == t.id) {
                None => {
                    return Err(Error::Conflict(
                        "a table this transaction wrote to was dropped or rebuilt (e.g. by \
                         ALTER TABLE) by a concurrent schema change; nothing was written"
                            .into(),
                    ))
                }
                Some(d) if !d.indexes.iter().map(|i| i.id).eq(t.indexes.iter().copied()) => {
                    return Err(Error::Conflict(format!(
                        "an index of table '{}' was created or dropped after this transaction \
                         wrote to it; nothing was written",
                        d.name
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Writes one commit's batch and records what it wrote, returning its
    /// sequence number. Caller holds `commit_lock`.
    fn apply_commit(&self, ops: &[Op]) -> Result<u64> {
        if ops.is_empty() {
            return Ok(self.commit_seq.load(Ordering::Acquire));
        }
        self.store.write(ops)?;
        let seq = self.commit_seq.load(Ordering::Acquire) + 1;
        let mut log = lock(&self.commit_log);
        // Only transactions open now can need this record or older ones.
        let oldest = lock(&self.txns).values().map(|t| t.start_seq).min();
        match oldest {
            Some(oldest) => {
                while log.front().is_some_and(|r| r.seq <= oldest) {
                    log.pop_front();
                }
                log.push_back(CommitRecord {
                    seq,
                    keys: ops.iter().map(|o| (o.cf(), o.key().to_vec())).collect(),
                });
            }
            None => log.clear(),
        }
        drop(log);
        // Published after the batch is visible: a transaction that starts
        // with this number has every commit up to it in its reads.
        self.commit_seq.store(seq, Ordering::Release);
        Ok(seq)
    }

    /// Work after the commit lock is released: the durability wait (group
    /// commit) and secure delete.
    fn after_commit(&self, seq: u64, ops: &[Op]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        if self.config.storage.sync_commit {
            self.wait_durable(seq)?;
        }
        self.after_deletes(ops)
    }

    /// Returns once commit `seq` is on stable storage. The first waiter
    /// syncs the WAL for everyone whose batch it holds; the others wait for
    /// that sync instead of issuing their own (group commit).
    fn wait_durable(&self, seq: u64) -> Result<()> {
        let ws = &self.wal_sync;
        let mut st = lock(&ws.state);
        loop {
            if st.synced >= seq {
                return Ok(());
            }
            if !st.syncing {
                st.syncing = true;
                // Every commit up to `target` wrote its batch before
                // publishing its number, so this sync covers them all.
                let target = self.commit_seq.load(Ordering::Acquire);
                drop(st);
                let r = self.store.sync_wal();
                st = lock(&ws.state);
                st.syncing = false;
                if r.is_ok() {
                    st.synced = st.synced.max(target);
                }
                ws.done.notify_all();
                r?;
                continue;
            }
            st = ws.done.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub(crate) fn store(&self) -> &SealedStore {
        &self.store
    }

    /// Whether an event of this type would be recorded (the audit log is
    /// on and logs the type): callers skip building events nobody keeps.
    pub fn audits(&self, event_type: crate::audit::EventType) -> bool {
        self.audit.as_ref().is_some_and(|a| a.wants(event_type))
    }

    /// Records an audit event (no-op unless `[audit] enabled` and the
    /// event's switch is on). For layers above the engine, such as SQL and
    /// the server, which know the statement, user and client address.
    ///
    /// # Errors
    /// Writing the audit log failed.
    pub fn audit(
        &self,
        event_type: crate::audit::EventType,
        event: crate::audit::AuditEvent,
    ) -> Result<()> {
        match &self.audit {
            Some(a) => a.record(event_type, event),
            None => Ok(()),
        }
    }

    /// Audits the outcome of an engine call: successes with their row
    /// count, decryption failures as key events. Audit write errors are
    /// logged, never turned into a failure of the call that already happened.
    pub(crate) fn audit_result<T>(
        &self,
        t: crate::audit::EventType,
        table: Option<&str>,
        op: &str,
        r: &Result<T>,
        rows: impl FnOnce(&T) -> u64,
    ) {
        let Some(a) = &self.audit else { return };
        let (t, ev) = match r {
            // Inside a SQL statement: the statement is the event.
            Ok(_) if crate::audit::in_statement() => return,
            Ok(v) => (
                t,
                crate::audit::AuditEvent {
                    table: table.map(str::to_string),
                    query: Some(op.to_string()),
                    rows_affected: rows(v),
                    ..Default::default()
                },
            ),
            // The error names the record by its key (the caller needs it);
            // the log, which is not encrypted, names it by a keyed hash.
            Err(Error::Decryption { location, .. } | Error::UnknownDataKey { location, .. }) => (
                crate::audit::EventType::KeyEvent,
                crate::audit::AuditEvent {
                    table: table.map(str::to_string),
                    query: Some(format!(
                        "decryption failure in {op}: record {}",
                        a.record_hash(location)
                    )),
                    ..Default::default()
                },
            ),
            Err(_) => return,
        };
        if let Err(e) = a.record(t, ev) {
            tracing::error!(error = %e, "audit log write failed");
        }
    }

    /// The audit chain key and the database id, for `audit-report --verify`.
    /// Secret: callers must not print it.
    ///
    /// # Errors
    /// Keyring errors.
    pub fn audit_chain_key_for_verification(
        &self,
    ) -> Result<(Option<heliosdb_crypto::SecretKey>, String)> {
        let key = self.store.audit_chain_key()?;
        let id = self
            .store
            .keyring()
            .map_or_else(|| "plaintext".to_string(), |r| r.database_id);
        Ok((key, id))
    }

    /// The `(seq, mac)` of the last audit line this database recorded
    /// writing, for `audit-report --verify` to detect a log cut short.
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn audit_anchor(&self) -> Result<Option<(u64, String)>> {
        crate::audit::read_anchor(&self.store)
    }

    pub(crate) fn audit_key_event(&self, what: &str) {
        if let Some(a) = &self.audit {
            let ev = crate::audit::AuditEvent {
                query: Some(what.to_string()),
                ..Default::default()
            };
            if let Err(e) = a.record(crate::audit::EventType::KeyEvent, ev) {
                tracing::error!(error = %e, "audit log write failed");
            }
        }
    }

    pub(crate) fn store_arc(&self) -> Arc<SealedStore> {
        Arc::clone(&self.store)
    }

    pub(crate) fn tables_cache(&self) -> &RwLock<Option<TableMap>> {
        &self.tables
    }

    pub(crate) fn bump_schema_generation(&self) {
        self.schema_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A number that changes whenever a table is created or dropped or an
    /// index created (including the drop of a table whose creating
    /// transaction rolled back): layers that cache table definitions
    /// compare it to know theirs are stale.
    pub fn schema_generation(&self) -> u64 {
        self.schema_generation.load(Ordering::Acquire)
    }

    /// Read through transaction `txn` (if open).
    pub(crate) fn read(&self, txn: TxnKey, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut txns = lock(&self.txns);
        if let Some(state) = txns.get_mut(&txn) {
            let mut ctx = Ctx {
                store: &self.store,
                txn: Some(state),
                ops: Vec::new(),
                latest: HashMap::new(),
                tables: Vec::new(),
                seq: self.commit_seq.load(Ordering::Acquire),
            };
            return ctx.get(cf, key);
        }
        drop(txns);
        self.store.get(cf, key)
    }

    /// Opened records under `prefix`, merged with the uncommitted writes of
    /// transaction `txn` (if open), in physical key order.
    pub(crate) fn scan_merged(
        &self,
        txn: TxnKey,
        cf: Cf,
        prefix: &[u8],
    ) -> Result<BTreeMap<Vec<u8>, Vec<u8>>> {
        let hi = prefix_successor(prefix);
        self.scan_iter(txn, cf, prefix, hi.as_deref())?.collect()
    }

    /// Opened records with `lo <= key < hi` (`hi` `None`: to the end of the
    /// column family) merged with the uncommitted writes of transaction
    /// `txn` (if open), in key order, streamed from one consistent view. The
    /// range counts as read by the transaction (phantoms are validated).
    pub(crate) fn scan_iter(
        &self,
        txn: TxnKey,
        cf: Cf,
        lo: &[u8],
        hi: Option<&[u8]>,
    ) -> Result<MergedIter<'_>> {
        let pending = self.pending_in(txn, cf, lo, hi);
        Ok(MergedIter {
            stored: (Box::new(self.store.iter_range(cf, lo, hi)?)
                as Box<dyn Iterator<Item = Result<Pair>> + '_>)
                .peekable(),
            pending: pending.into_iter().peekable(),
            reverse: false,
        })
    }

    /// As [`StorageEngine::scan_iter`], in descending key order: stored
    /// records read backwards from the top of the range, merged with the
    /// transaction's pending writes in the same order. The range counts as
    /// read exactly as a forward scan's does.
    pub(crate) fn scan_iter_rev(
        &self,
        txn: TxnKey,
        cf: Cf,
        lo: &[u8],
        hi: Option<&[u8]>,
    ) -> Result<MergedIter<'_>> {
        let mut pending = self.pending_in(txn, cf, lo, hi);
        pending.reverse();
        Ok(MergedIter {
            stored: (Box::new(self.store.iter_range_rev(cf, lo, hi)?)
                as Box<dyn Iterator<Item = Result<Pair>> + '_>)
                .peekable(),
            pending: pending.into_iter().peekable(),
            reverse: true,
        })
    }

    /// Records `[lo, hi)` of `cf` as scanned by transaction `txn` (if
    /// open) and returns its pending writes in that range, in key order.
    fn pending_in(&self, txn: TxnKey, cf: Cf, lo: &[u8], hi: Option<&[u8]>) -> Vec<PendingWrite> {
        let mut pending = Vec::new();
        if let Some(state) = lock(&self.txns).get_mut(&txn) {
            // Before the iterator opens: it sees every commit up to this.
            let seq = self.commit_seq.load(Ordering::Acquire);
            state
                .scans
                .entry((cf, lo.to_vec(), hi.map(<[u8]>::to_vec)))
                .or_insert(seq);
            pending.extend(
                state
                    .overlay
                    .range((cf, lo.to_vec())..)
                    .take_while(|((c, k), _)| *c == cf && hi.is_none_or(|h| k.as_slice() < h))
                    .map(|((_, k), v)| (k.clone(), v.clone())),
            );
        }
        pending
    }

    // ----- transactions -----------------------------------------------------

    /// Starts a transaction on the calling thread: until `commit`, this
    /// thread's writes are invisible to everyone else; `commit` applies them
    /// in one atomic batch, `rollback` drops them. Table creation and other
    /// schema changes commit immediately, even inside a transaction (a
    /// rollback drops created tables again), except a table drop, which
    /// waits for the commit and lands in its batch.
    ///
    /// # Errors
    /// When this thread already has an open transaction.
    pub fn begin_transaction(&self) -> Result<()> {
        self.begin_as(TxnKey::thread())
    }

    /// A new handle id, for [`crate::Transaction`].
    pub(crate) fn new_handle_key(&self) -> TxnKey {
        TxnKey::Handle(self.next_handle.fetch_add(1, Ordering::Relaxed))
    }

    /// A new [`crate::SessionContext`] id (never reused by this engine).
    pub(crate) fn next_context_id(&self) -> u64 {
        self.next_handle.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether `txn` has a transaction open.
    pub(crate) fn has_transaction(&self, txn: TxnKey) -> bool {
        lock(&self.txns).contains_key(&txn)
    }

    pub(crate) fn begin_as(&self, txn: TxnKey) -> Result<()> {
        let mut txns = lock(&self.txns);
        if txns.contains_key(&txn) {
            return Err(Error::Transaction(
                "a transaction is already open in this session".into(),
            ));
        }
        txns.insert(
            txn,
            TxnState {
                start_seq: self.commit_seq.load(Ordering::Acquire),
                ..TxnState::default()
            },
        );
        Ok(())
    }

    /// Commits the calling thread's transaction atomically, if it can be
    /// serialized: when a transaction that committed after this one read a
    /// key wrote that key, or wrote a key under a range this one scanned
    /// (a phantom) after the scan began, nothing is written and
    /// [`Error::Conflict`] is returned (SQLSTATE 40001). Reads see the
    /// newest committed data; since every read must still be current when
    /// the transaction commits, committed transactions are equivalent to
    /// running one at a time in commit order (serializable; backward
    /// optimistic validation). Writes of a table that a schema change
    /// dropped or rebuilt meanwhile fail the same way. The transaction is
    /// over either way. With `[storage] sync_commit` (the default) the call
    /// returns once the commit is on stable storage.
    ///
    /// # Errors
    /// No open transaction; a conflict; storage errors.
    pub fn commit(&self) -> Result<()> {
        self.commit_as(TxnKey::thread())
    }

    pub(crate) fn commit_as(&self, txn: TxnKey) -> Result<()> {
        let r = self.commit_validated(txn);
        // After the batch is visible: the next holder reads this commit.
        self.release_row_locks(txn);
        let (seq, ops, dropped) = r?;
        self.after_commit(seq, &ops)?;
        // Once the drop is durable: a dropped table's own key goes too.
        for d in &dropped {
            self.shred_dropped(d)?;
        }
        Ok(())
    }

    /// Validates and writes transaction `txn` under the commit lock; the
    /// commit number and the ops, for [`StorageEngine::after_commit`].
    fn commit_validated(&self, txn: TxnKey) -> Result<(u64, Vec<Op>, Vec<Arc<TableDef>>)> {
        // The lock first: while the transaction is registered, no other
        // commit prunes the records it is about to be validated against.
        let guard = lock(&self.commit_lock);
        let state = lock(&self.txns)
            .remove(&txn)
            .ok_or_else(|| Error::Transaction("commit without an open transaction".into()))?;
        let dropped = self.take_dropped(txn);
        let ops = match self
            .validate(&state)
            .and_then(|()| self.with_drops(state.ops, &dropped))
        {
            Ok(ops) => ops,
            Err(e) => {
                drop(guard);
                self.drop_created_tables(state.created_tables);
                return Err(e);
            }
        };
        match self.apply_commit(&ops) {
            Ok(seq) => {
                if !dropped.is_empty() {
                    // Before the lock is released, as every schema change.
                    self.invalidate_tables();
                }
                Ok((seq, ops, dropped))
            }
            Err(e) => {
                drop(guard);
                self.drop_created_tables(state.created_tables);
                Err(e)
            }
        }
    }

    /// The writes of a committing transaction that dropped `dropped`: its
    /// own writes to those tables left out, then each table's definition,
    /// rows, index entries and row-id counter deleted, all in the one batch
    /// (caller holds `commit_lock`). [`Error::Conflict`] when a concurrent
    /// schema change dropped or rebuilt one of them after this transaction
    /// dropped it (a table of that name now may be another one).
    fn with_drops(&self, ops: Vec<Op>, dropped: &[Arc<TableDef>]) -> Result<Vec<Op>> {
        if dropped.is_empty() {
            return Ok(ops);
        }
        let current = self.tables()?;
        for d in dropped {
            if current.get(&d.name).is_none_or(|c| c.id != d.id) {
                return Err(Error::Conflict(format!(
                    "table '{}' was dropped or rebuilt by a concurrent schema change after this \
                     transaction dropped it; nothing was written",
                    d.name
                )));
            }
        }
        let prefixes: Vec<[u8; 4]> = dropped.iter().map(|d| d.id.to_be_bytes()).collect();
        let ops: Vec<Op> = ops
            .into_iter()
            .filter(|o| {
                !(matches!(o.cf(), Cf::Rows | Cf::Index)
                    && prefixes.iter().any(|p| o.key().starts_with(p)))
            })
            .collect();
        let mut ctx = self.direct_after(ops);
        for d in dropped {
            self.drop_table_writes(&mut ctx, d)?;
        }
        Ok(ctx.ops)
    }

    /// A direct mutation (caller holds `commit_lock`) that continues a
    /// committing transaction's `ops`, reading its own writes first.
    fn direct_after(&self, ops: Vec<Op>) -> Ctx<'_> {
        let latest = ops
            .iter()
            .enumerate()
            .map(|(i, o)| ((o.cf(), o.key().to_vec()), i))
            .collect();
        Ctx {
            store: &self.store,
            txn: None,
            ops,
            latest,
            tables: Vec::new(),
            seq: self.commit_seq.load(Ordering::Acquire),
        }
    }

    /// `DROP TABLE` in the calling thread's open transaction: the table
    /// leaves this transaction's view at once and the catalog when it
    /// commits, in the commit's batch; a rollback (or a rollback to a
    /// savepoint made before the drop) keeps it. Other transactions see the
    /// table until the commit. `Ok(false)` when no transaction is open.
    ///
    /// # Errors
    /// [`Error::TableNotFound`] (also for a table this transaction dropped).
    pub(crate) fn drop_table_in_transaction(&self, name: &str) -> Result<bool> {
        let txn = TxnKey::thread();
        if !self.has_transaction(txn) {
            return Ok(false);
        }
        let def = self.table(name)?;
        let mut dropped = lock(&self.dropped);
        match dropped.entry(txn) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(vec![def]);
                self.dropping_txns.fetch_add(1, Ordering::AcqRel);
            }
            std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().push(def),
        }
        Ok(true)
    }

    /// Whether the calling thread's open transaction dropped table `name`.
    pub fn dropped_in_transaction(&self, name: &str) -> bool {
        self.dropping_txns.load(Ordering::Acquire) > 0
            && lock(&self.dropped)
                .get(&TxnKey::thread())
                .is_some_and(|d| d.iter().any(|t| t.name == name))
    }

    /// The tables transaction `txn` dropped, forgotten (its end).
    fn take_dropped(&self, txn: TxnKey) -> Vec<Arc<TableDef>> {
        if self.dropping_txns.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let taken = lock(&self.dropped).remove(&txn);
        if taken.is_some() {
            self.dropping_txns.fetch_sub(1, Ordering::AcqRel);
        }
        taken.unwrap_or_default()
    }

    /// How many tables `txn` has dropped so far (a savepoint's mark).
    fn dropped_count(&self, txn: TxnKey) -> usize {
        lock(&self.dropped).get(&txn).map_or(0, Vec::len)
    }

    /// Forgets the drops of `txn` after its first `n` (rollback to a
    /// savepoint).
    fn truncate_dropped(&self, txn: TxnKey, n: usize) {
        let mut dropped = lock(&self.dropped);
        if let Some(d) = dropped.get_mut(&txn) {
            d.truncate(n);
            if d.is_empty() {
                dropped.remove(&txn);
                self.dropping_txns.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// `map` as the calling thread's open transaction sees it: without the
    /// tables it dropped.
    pub(crate) fn without_dropped(&self, map: TableMap) -> TableMap {
        if self.dropping_txns.load(Ordering::Acquire) == 0 {
            return map;
        }
        let dropped = lock(&self.dropped);
        let Some(gone) = dropped.get(&TxnKey::thread()) else {
            return map;
        };
        let mut own = (*map).clone();
        for d in gone {
            if own.get(&d.name).is_some_and(|t| t.id == d.id) {
                own.remove(&d.name);
            }
        }
        Arc::new(own)
    }

    /// Backward validation of a transaction about to commit (caller holds
    /// `commit_lock`): [`Error::Conflict`] when a commit after it began
    /// wrote a key it read or scanned, or when it wrote rows of a table that
    /// a schema change dropped or rebuilt meanwhile.
    fn validate(&self, state: &TxnState) -> Result<()> {
        let conflict = lock(&self.commit_log)
            .iter()
            .filter(|r| r.seq > state.start_seq)
            .find_map(|r| {
                r.keys
                    .iter()
                    .find(|(cf, key)| state.saw(r.seq, *cf, key))
                    .map(|(cf, _)| *cf)
            });
        if let Some(cf) = conflict {
            return Err(Error::Conflict(format!(
                "a transaction that committed after this one began changed {} this one read",
                cf.describe()
            )));
        }
        self.stale_write(&state.tables)
    }

    /// Commits transaction `txn` and, in the same atomic batch, swaps table
    /// `source` in for `target` (see [`crate::Catalog::replace_table`]),
    /// provided the transaction validates. A rebuild that copied `target`'s
    /// rows in `txn` thereby either sees every row committed before the
    /// swap or fails with [`Error::Conflict`] (nothing changed); writers
    /// that looked `target` up before the swap fail at their own commit.
    pub(crate) fn commit_replacing_as(
        &self,
        txn: TxnKey,
        target: &str,
        source: &str,
    ) -> Result<()> {
        let r = self.commit_replacing_locked(txn, target, source);
        self.release_row_locks(txn);
        r
    }

    fn commit_replacing_locked(&self, txn: TxnKey, target: &str, source: &str) -> Result<()> {
        let guard = lock(&self.commit_lock);
        let state = lock(&self.txns)
            .remove(&txn)
            .ok_or_else(|| Error::Transaction("commit without an open transaction".into()))?;
        let refused = if self.take_dropped(txn).is_empty() {
            Ok(())
        } else {
            Err(Error::Transaction(
                "a transaction that dropped tables cannot also rebuild one; nothing was written"
                    .into(),
            ))
        };
        if let Err(e) = refused.and_then(|()| self.validate(&state)) {
            drop(guard);
            self.drop_created_tables(state.created_tables);
            return Err(e);
        }
        let mut ctx = self.direct_after(state.ops);
        let old = match self.replace_table_in(&mut ctx, target, source) {
            Ok(old) => old,
            Err(e) => {
                drop(guard);
                self.drop_created_tables(state.created_tables);
                return Err(e);
            }
        };
        let seq = self.apply_commit(&ctx.ops);
        self.invalidate_tables();
        let seq = seq?;
        drop(guard);
        self.after_commit(seq, &ctx.ops)?;
        self.shred_dropped(&old)
    }

    /// Drops the calling thread's transaction and all its writes.
    ///
    /// # Errors
    /// When no transaction is open.
    pub fn rollback(&self) -> Result<()> {
        self.rollback_as(TxnKey::thread())
    }

    pub(crate) fn rollback_as(&self, txn: TxnKey) -> Result<()> {
        let state = lock(&self.txns).remove(&txn);
        // Tables it dropped stay.
        self.take_dropped(txn);
        self.release_row_locks(txn);
        let state = state
            .ok_or_else(|| Error::Transaction("rollback without an open transaction".into()))?;
        self.drop_created_tables(state.created_tables);
        Ok(())
    }

    /// Reads record `key` for an update in transaction `txn`: takes the
    /// record's row lock (waiting while another open transaction holds it;
    /// held until `txn` ends), then reads the newest committed version, or
    /// `txn`'s own write. Like every read it is validated from that moment
    /// on; since nobody else commits the record while the lock is held, hot
    /// rows updated by many transactions (counters, pgbench's branches)
    /// queue instead of failing with conflicts (a writer that does not take
    /// the lock still makes this transaction fail at commit). Without an open
    /// transaction it is a plain read.
    ///
    /// # Errors
    /// [`Error::Conflict`] on a deadlock (this wait would close a cycle of
    /// waiting transactions) or after waiting [`ROW_LOCK_WAIT`]; storage errors.
    pub(crate) fn read_for_update(
        &self,
        txn: TxnKey,
        cf: Cf,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        if !self.has_transaction(txn) {
            return self.store.get(cf, key);
        }
        self.lock_row(txn, cf, key)?;
        let mut txns = lock(&self.txns);
        let Some(state) = txns.get_mut(&txn) else {
            return Err(Error::Transaction(
                "the transaction ended during a row lock wait".into(),
            ));
        };
        let k = (cf, key.to_vec());
        if let Some(v) = state.overlay.get(&k) {
            return Ok(v.clone());
        }
        // The number first: whatever the read sees includes every commit
        // up to it, and any later commit of this record is a conflict.
        let seq = self.commit_seq.load(Ordering::Acquire);
        state.reads.entry(k.clone()).or_insert(seq);
        let value = self.store.get(cf, key)?;
        state.last_locked = Some((k, value.clone()));
        Ok(value)
    }

    /// Takes the row lock of `(cf, key)` for `txn`, waiting for its holder.
    fn lock_row(&self, txn: TxnKey, cf: Cf, key: &[u8]) -> Result<()> {
        let k = (cf, key.to_vec());
        let deadline = std::time::Instant::now() + ROW_LOCK_WAIT;
        let mut locks = lock(&self.row_locks);
        loop {
            let holder = match locks.held.get(&k) {
                None => {
                    locks.held.insert(k.clone(), txn);
                    locks.by_owner.entry(txn).or_default().push(k);
                    locks.waits_for.remove(&txn);
                    return Ok(());
                }
                Some(h) if *h == txn => {
                    locks.waits_for.remove(&txn);
                    return Ok(());
                }
                Some(h) => *h,
            };
            // Would waiting for `holder` close a cycle back to us?
            let mut at = holder;
            let mut steps = 0;
            while let Some(next) = locks.waits_for.get(&at) {
                if *next == txn || steps > locks.waits_for.len() {
                    locks.waits_for.remove(&txn);
                    return Err(Error::Conflict(
                        "deadlock detected: this transaction and another wait for each \
                         other's row locks; this one was chosen to fail"
                            .into(),
                    ));
                }
                at = *next;
                steps += 1;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                locks.waits_for.remove(&txn);
                return Err(Error::Conflict(format!(
                    "a row lock was not released within {} s (another transaction holds it)",
                    ROW_LOCK_WAIT.as_secs()
                )));
            }
            locks.waits_for.insert(txn, holder);
            locks = self
                .row_unlocked
                .wait_timeout(locks, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Releases every row lock of `txn` (its end) and wakes the waiters.
    fn release_row_locks(&self, txn: TxnKey) {
        let mut locks = lock(&self.row_locks);
        locks.waits_for.remove(&txn);
        // Waiters for `txn` wait for nobody until they wake and look again.
        // A stale edge would outlive it: the next transaction of the same
        // key (the session's next one) asking for a lock such a waiter holds
        // would find a cycle through it that does not exist, a false
        // deadlock.
        locks.waits_for.retain(|_, holder| *holder != txn);
        if let Some(keys) = locks.by_owner.remove(&txn) {
            for k in keys {
                locks.held.remove(&k);
            }
            drop(locks);
            self.row_unlocked.notify_all();
        }
    }

    /// Records that the calling thread's open transaction (if any) created
    /// `table`, so that rolling it back drops the table again.
    pub(crate) fn note_created_table(&self, table: &str) {
        if let Some(state) = lock(&self.txns).get_mut(&TxnKey::thread()) {
            state.created_tables.push(table.to_string());
        }
    }

    /// Whether the calling thread's open transaction has written rows (an
    /// index created now would miss them: index creation reads committed
    /// rows only).
    pub fn transaction_wrote_rows(&self) -> bool {
        lock(&self.txns)
            .get(&TxnKey::thread())
            .is_some_and(|s| s.ops.iter().any(|o| matches!(o.cf(), Cf::Rows | Cf::Index)))
    }

    /// Whether the calling thread's open transaction created tables (which
    /// other transactions already see, without what it wrote about them)
    /// or dropped tables (which they still see): its view of the catalog
    /// is its own.
    pub fn transaction_changed_tables(&self) -> bool {
        lock(&self.txns)
            .get(&TxnKey::thread())
            .is_some_and(|s| !s.created_tables.is_empty())
            || (self.dropping_txns.load(Ordering::Acquire) > 0
                && lock(&self.dropped).contains_key(&TxnKey::thread()))
    }

    /// Undoes table creations of a transaction being rolled back, newest
    /// first. A failure is logged: the table stays, empty of the rolled
    /// back rows, and can be dropped by hand.
    fn drop_created_tables(&self, tables: Vec<String>) {
        for t in tables.into_iter().rev() {
            if let Err(e) = self.drop_table_now(&t) {
                tracing::error!(table = %t, error = %e, "dropping a table created by a rolled-back transaction failed");
            }
        }
    }

    /// `SAVEPOINT name` in the calling thread's transaction: a point that
    /// [`StorageEngine::rollback_to_savepoint`] returns to. A name may be
    /// reused; the newest savepoint of a name is the one meant.
    ///
    /// # Errors
    /// [`Error::Transaction`] when no transaction is open.
    pub fn savepoint(&self, name: &str) -> Result<()> {
        let txn = TxnKey::thread();
        let mut txns = lock(&self.txns);
        let state = txns.get_mut(&txn).ok_or_else(|| {
            Error::Transaction("SAVEPOINT can only be used in transaction blocks".into())
        })?;
        let mark = Savepoint {
            name: name.to_string(),
            ops: state.ops.len(),
            overlay: state.overlay.clone(),
            created_tables: state.created_tables.len(),
            dropped_tables: self.dropped_count(txn),
        };
        state.savepoints.push(mark);
        Ok(())
    }

    /// `ROLLBACK TO SAVEPOINT name`: drops every write made since the
    /// savepoint (it stays, and savepoints made after it are removed).
    ///
    /// # Errors
    /// [`Error::Transaction`] when no transaction is open or no savepoint
    /// has that name.
    pub fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        let txn = TxnKey::thread();
        let (created, dropped) = {
            let mut txns = lock(&self.txns);
            let state = txns.get_mut(&txn).ok_or_else(|| {
                Error::Transaction(
                    "ROLLBACK TO SAVEPOINT can only be used in transaction blocks".into(),
                )
            })?;
            let at = state
                .savepoints
                .iter()
                .rposition(|p| p.name == name)
                .ok_or_else(|| {
                    Error::Transaction(format!("savepoint \"{name}\" does not exist"))
                })?;
            state.savepoints.truncate(at + 1);
            let mark = &state.savepoints[at];
            let (ops, overlay, tables) = (mark.ops, mark.overlay.clone(), mark.created_tables);
            let dropped = mark.dropped_tables;
            state.ops.truncate(ops);
            state.overlay = overlay;
            (state.created_tables.split_off(tables), dropped)
        };
        // Tables dropped after the savepoint are back.
        self.truncate_dropped(txn, dropped);
        self.drop_created_tables(created);
        Ok(())
    }

    /// `RELEASE SAVEPOINT name`: forgets the savepoint and those made after
    /// it; their writes stay in the transaction.
    ///
    /// # Errors
    /// [`Error::Transaction`] when no transaction is open or no savepoint
    /// has that name.
    pub fn release_savepoint(&self, name: &str) -> Result<()> {
        let mut txns = lock(&self.txns);
        let state = txns.get_mut(&TxnKey::thread()).ok_or_else(|| {
            Error::Transaction("RELEASE SAVEPOINT can only be used in transaction blocks".into())
        })?;
        let at = state
            .savepoints
            .iter()
            .rposition(|p| p.name == name)
            .ok_or_else(|| Error::Transaction(format!("savepoint \"{name}\" does not exist")))?;
        state.savepoints.truncate(at);
        Ok(())
    }

    /// Whether the calling thread has an open transaction.
    pub fn in_transaction(&self) -> bool {
        lock(&self.txns).contains_key(&TxnKey::thread())
    }

    /// Whether `[storage] secure_delete` (or its synonym) is on.
    pub(crate) fn secure_delete(&self) -> bool {
        self.config.storage.secure_delete || self.config.storage.overwrite_deleted_data
    }

    /// With `secure_delete`, the old versions of deleted and overwritten
    /// records (writers emit a `Delete` before a `Put` that replaces a
    /// value) are compacted out of the files: a flush, then a forced
    /// compaction of just the key range those records span in each column
    /// family, once per commit.
    fn after_deletes(&self, ops: &[Op]) -> Result<()> {
        if !self.secure_delete() || !ops.iter().any(|o| matches!(o, Op::Delete { .. })) {
            return Ok(());
        }
        self.store.flush()?;
        for cf in Cf::ALL {
            let mut keys = ops.iter().filter_map(|o| match o {
                Op::Delete { cf: c, key } if *c == cf => Some(key.as_slice()),
                _ => None,
            });
            let Some(first) = keys.next() else { continue };
            let (lo, hi) = keys.fold((first, first), |(lo, hi), k| (lo.min(k), hi.max(k)));
            self.store.compact_range(cf, Some(lo), Some(hi))?;
        }
        Ok(())
    }

    // ----- key-value API ----------------------------------------------------

    /// Stores `value` under `key` (sealed when encrypted).
    ///
    /// # Errors
    /// Storage errors.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.put_in(TxnKey::thread(), key, value)
    }

    pub(crate) fn put_in(&self, txn: TxnKey, key: &[u8], value: &[u8]) -> Result<()> {
        let r = self.put_raw(txn, key, value);
        self.audit_result(crate::audit::EventType::Write, Some("kv"), "put", &r, |_| 1);
        r
    }

    fn put_raw(&self, txn: TxnKey, key: &[u8], value: &[u8]) -> Result<()> {
        let physical = self.store.kv_physical_key(key);
        let payload = self.kv_payload(key, value);
        let secure = self.secure_delete();
        self.mutate(txn, |ctx| {
            // An overwrite under secure_delete scrubs the old value too.
            if secure && ctx.get(Cf::Kv, &physical)?.is_some() {
                ctx.delete(Cf::Kv, physical.clone());
            }
            ctx.put(Cf::Kv, physical, payload);
            Ok(())
        })
    }

    /// The value stored under `key`, decrypted.
    ///
    /// # Errors
    /// `Decryption failed: Authentication tag verification failed (key-value
    /// store, key "…")` for a tampered or moved value; storage errors.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_in(TxnKey::thread(), key)
    }

    pub(crate) fn get_in(&self, txn: TxnKey, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let r = self.get_raw(txn, key);
        self.audit_result(
            crate::audit::EventType::Read,
            Some("kv"),
            "get",
            &r,
            |v: &Option<Vec<u8>>| u64::from(v.is_some()),
        );
        r
    }

    fn get_raw(&self, txn: TxnKey, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let physical = self.store.kv_physical_key(key);
        let loc = || format!("key-value store, key {}", show_key(key));
        match self
            .read(txn, Cf::Kv, &physical)
            .map_err(|e| relocate(e, loc))?
        {
            None => Ok(None),
            Some(payload) => {
                let (k, v) = self.kv_unpack(&physical, payload)?;
                if k != key {
                    return Err(Error::Corrupt(format!("{}: stored key differs", loc())));
                }
                Ok(Some(v))
            }
        }
    }

    /// Deletes `key`; returns whether it existed.
    ///
    /// # Errors
    /// Storage errors.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.delete_in(TxnKey::thread(), key)
    }

    pub(crate) fn delete_in(&self, txn: TxnKey, key: &[u8]) -> Result<bool> {
        let r = self.delete_raw(txn, key);
        self.audit_result(
            crate::audit::EventType::Delete,
            Some("kv"),
            "delete",
            &r,
            |v: &bool| u64::from(*v),
        );
        r
    }

    fn delete_raw(&self, txn: TxnKey, key: &[u8]) -> Result<bool> {
        let physical = self.store.kv_physical_key(key);
        self.mutate(txn, |ctx| {
            let existed = ctx.get(Cf::Kv, &physical)?.is_some();
            ctx.delete(Cf::Kv, physical);
            Ok(existed)
        })
    }

    /// Key-value pairs whose key starts with `prefix`, in key order. (A
    /// format-1 encrypted database keys pairs by blind tokens, so there
    /// this reads the whole key-value store.)
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.scan_prefix_in(TxnKey::thread(), prefix)
    }

    pub(crate) fn scan_prefix_in(
        &self,
        txn: TxnKey,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.kv_iter(txn, prefix, prefix_successor(prefix).as_deref())?
            .collect()
    }

    /// Key-value pairs with `start <= key < end`, in key order.
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn scan_range(&self, start: &[u8], end: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.scan_range_in(TxnKey::thread(), start, end)
    }

    pub(crate) fn scan_range_in(
        &self,
        txn: TxnKey,
        start: &[u8],
        end: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.kv_iter(txn, start, Some(end))?.collect()
    }

    /// Key-value pairs with `start <= key < end` (`end` `None`: to the last
    /// key), in key order, streamed from one consistent view of the
    /// database: memory does not grow with the range. Inside a transaction
    /// its own writes are included and the range counts as read.
    ///
    /// # Errors
    /// Storage errors; decryption errors come as items.
    pub fn scan_range_iter(&self, start: &[u8], end: Option<&[u8]>) -> Result<KvIter<'_>> {
        self.kv_iter(TxnKey::thread(), start, end)
    }

    pub(crate) fn kv_iter(
        &self,
        txn: TxnKey,
        start: &[u8],
        end: Option<&[u8]>,
    ) -> Result<KvIter<'_>> {
        if !self.store.kv_blind() {
            return Ok(KvIter(Box::new(self.scan_iter(txn, Cf::Kv, start, end)?)));
        }
        // Blind tokens have no order: read everything, keep the range, sort.
        let mut out = Vec::new();
        for item in self.scan_iter(txn, Cf::Kv, &[], None)? {
            let (physical, payload) = item?;
            let (k, v) = self.kv_unpack(&physical, payload)?;
            if k.as_slice() >= start && end.is_none_or(|e| k.as_slice() < e) {
                out.push((k, v));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(KvIter(Box::new(out.into_iter().map(Ok))))
    }

    fn kv_payload(&self, key: &[u8], value: &[u8]) -> Vec<u8> {
        if !self.store.kv_blind() {
            return value.to_vec();
        }
        let mut p = Vec::with_capacity(4 + key.len() + value.len());
        p.extend_from_slice(&(key.len() as u32).to_be_bytes());
        p.extend_from_slice(key);
        p.extend_from_slice(value);
        p
    }

    /// (logical key, value) of a stored pair: plaintext databases key by the
    /// logical key itself; encrypted ones carry it sealed in the payload.
    fn kv_unpack(&self, physical: &[u8], payload: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>)> {
        if !self.store.kv_blind() {
            return Ok((physical.to_vec(), payload));
        }
        if payload.len() < 4 {
            return Err(Error::Corrupt("key-value payload truncated".into()));
        }
        let n = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) as usize;
        if payload.len() < 4 + n {
            return Err(Error::Corrupt("key-value payload truncated".into()));
        }
        Ok((payload[4..4 + n].to_vec(), payload[4 + n..].to_vec()))
    }
}

/// The smallest byte string greater than every string starting with
/// `prefix` (`None` when there is none: the prefix is empty or all 0xFF).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

type Pair = (Vec<u8>, Vec<u8>);
/// A transaction's pending write: the new value, or `None` for a delete.
type PendingWrite = (Vec<u8>, Option<Vec<u8>>);

/// Key-value pairs in key order, streamed (see
/// [`StorageEngine::scan_range_iter`]).
pub struct KvIter<'a>(Box<dyn Iterator<Item = Result<Pair>> + 'a>);

impl Iterator for KvIter<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

impl std::fmt::Debug for KvIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KvIter")
    }
}

/// Stored records merged with a transaction's pending writes, in key order
/// (see [`StorageEngine::scan_iter`]), or descending key order when
/// `reverse` ([`StorageEngine::scan_iter_rev`]; both inputs are then
/// descending). A pending write replaces the stored record with its key; a
/// pending delete hides it.
pub(crate) struct MergedIter<'a> {
    stored: std::iter::Peekable<Box<dyn Iterator<Item = Result<Pair>> + 'a>>,
    pending: std::iter::Peekable<std::vec::IntoIter<PendingWrite>>,
    reverse: bool,
}

impl Iterator for MergedIter<'_> {
    type Item = Result<Pair>;

    fn next(&mut self) -> Option<Result<Pair>> {
        loop {
            let order = match (self.stored.peek(), self.pending.peek()) {
                (_, None) | (Some(Err(_)), Some(_)) => return self.stored.next(),
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(Ok((stored, _))), Some((pending, _))) if self.reverse => stored.cmp(pending),
                (Some(Ok((stored, _))), Some((pending, _))) => pending.cmp(stored),
            };
            match order {
                std::cmp::Ordering::Greater => return self.stored.next(),
                // The pending write supersedes the stored record.
                std::cmp::Ordering::Equal => {
                    self.stored.next();
                }
                std::cmp::Ordering::Less => {}
            }
            match self.pending.next() {
                Some((k, Some(v))) => return Some(Ok((k, v))),
                Some((_, None)) => continue,
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A holder that ends removes the wait edges pointing at it. The
    /// waiter's own thread may not have woken yet; a stale edge `a → b`
    /// would make `b`'s next transaction (same key: a session's next one),
    /// asking for a lock `a` holds, see a cycle that does not exist.
    #[test]
    fn an_ended_holder_leaves_no_stale_wait_edge_behind() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        let (a, b) = (TxnKey::Handle(u64::MAX - 1), TxnKey::Handle(u64::MAX - 2));
        let (r1, r2) = (b"row-1".as_slice(), b"row-2".as_slice());
        storage.lock_row(b, Cf::Rows, r1).unwrap();
        storage.lock_row(a, Cf::Rows, r2).unwrap();
        // `a` is waiting for `b`'s row 1, as `lock_row` records it.
        lock(&storage.row_locks).waits_for.insert(a, b);
        storage.release_row_locks(b);
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(100));
                storage.release_row_locks(a);
            });
            // `b` again, asking for `a`'s row 2: a wait until `a` ends.
            storage
                .lock_row(b, Cf::Rows, r2)
                .expect("a wait for a live holder, not a deadlock");
        });
        assert_eq!(
            lock(&storage.row_locks).held.get(&(Cf::Rows, r2.to_vec())),
            Some(&b)
        );
        storage.release_row_locks(b);
    }
}

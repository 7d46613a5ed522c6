//! Online key rotation on a live database.
//!
//! - KEK rotation re-wraps the root key: one synced keyring write, no record
//!   rewritten; a crash leaves the database opening with exactly one of the
//!   two KEKs.
//! - Several KEKs: each holds a slot; adding or removing one is a
//!   keyring-only change.
//! - DEK rotation: the new data key seals every new value at once; a
//!   background worker re-encrypts older values in throttled batches under
//!   the commit lock (so a concurrent user write is never overwritten by an
//!   older value), writing each batch together with its progress cursor.
//!   When no value uses an old key, old versions are flushed and compacted out
//!   of memtables, WAL and SST files, then the old key is archived (retired,
//!   still wrapped); `destroy_data_key` removes it for good.
//! - Scheduled rotation (`rotation_interval_days`) is checked at open and
//!   every 30 seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heliosdb_crypto::DekId;
use heliosdb_keys::{block_on, DekPurpose, KeyManager};
use serde::Serialize;

use crate::engine::StorageEngine;
use crate::store::{Cf, SealedStore};
use crate::{Error, Result};

// Small batches keep the commit lock short for foreground writers.
const BATCH_RECORDS: usize = 512;
const BATCH_BYTES: u64 = 512 << 10;
const BATCH_SCAN: usize = 16384;
const DEFAULT_RATE_MB: u32 = 256;
const SCHEDULE_CHECK: Duration = Duration::from_secs(30);

/// Result of a KEK rotation: which key opens the database now.
#[derive(Clone, Debug, Serialize)]
pub struct KekRotation {
    /// The KEK that opened the database before (no longer opens it).
    pub old: String,
    /// The KEK that opens it now.
    pub new: String,
    /// The new slot id.
    pub slot: u32,
}

/// Secret-free encryption status (`heliosdb-nano key-status --json`).
#[derive(Clone, Debug, Serialize)]
pub struct EncryptionStatus {
    /// Always `AES-256-GCM`.
    pub algorithm: String,
    /// The key source this engine was opened with.
    pub opened_with: String,
    /// KEK slots: id and description.
    pub kek_slots: Vec<SlotStatus>,
    /// The data key sealing new values.
    pub active_dek_id: u32,
    /// Percent of records sealed with the active data key.
    pub active_dek_percent: f64,
    /// Records in the database (all column families).
    pub total_records: u64,
    /// Data keys.
    pub deks: Vec<DekStatus>,
    /// Encryptions allowed per data key.
    pub nonce_budget: u64,
    /// A data-key rotation in progress.
    pub rotation: Option<RotationStatus>,
    /// File keys (format 2: they encrypt RocksDB's files) and how many live
    /// files each encrypts; empty for format-1 databases.
    pub file_keys: Vec<FileKeyStatus>,
}

/// One file key.
#[derive(Clone, Debug, Serialize)]
pub struct FileKeyStatus {
    /// Key id (named in each file's header).
    pub id: u32,
    /// `active` (new files) or `decrypt-only` (files not yet moved).
    pub state: String,
    /// Live RocksDB files encrypted under it.
    pub files: usize,
}

/// What [`StorageEngine::rotate_file_key`] did.
#[derive(Clone, Debug, Serialize)]
pub struct FileKeyRotation {
    /// The file key new files are encrypted under from now on.
    pub new_key: u32,
    /// Older file keys removed: no live file names them any more.
    pub removed_keys: Vec<u32>,
    /// Live files still under an older key: the open MANIFEST, info LOG
    /// and write-ahead log, which move when the database is next opened
    /// (the older key is removed then).
    pub pending: Vec<String>,
}

/// One KEK slot.
#[derive(Clone, Debug, Serialize)]
pub struct SlotStatus {
    /// Slot id.
    pub id: u32,
    /// Description of the KEK (never the key).
    pub source: String,
}

/// One data key.
#[derive(Clone, Debug, Serialize)]
pub struct DekStatus {
    /// Id in the envelope header.
    pub id: u32,
    /// `data` or `blind_index`.
    pub purpose: String,
    /// `active`, `decrypt-only`, `retired`.
    pub state: String,
    /// Records sealed with it.
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// Encryptions made (reserved) with it.
    pub nonce_budget_used: u64,
    /// Unix seconds.
    pub created_at: u64,
}

/// Progress of a data-key rotation.
#[derive(Clone, Debug, Serialize)]
pub struct RotationStatus {
    /// The data key records are moving to.
    pub target_dek: u32,
    /// Unix seconds.
    pub started_at: u64,
    /// Records re-encrypted so far.
    pub records_done: u64,
    /// Bytes re-encrypted so far.
    pub bytes_done: u64,
    /// Recent re-encryption rate, bytes per second.
    pub rate_bytes_per_sec: f64,
    /// The last error of the background worker, if it is retrying.
    pub last_error: Option<String>,
}

#[derive(Default)]
struct WorkerStatus {
    rate: f64,
    last_error: Option<String>,
}

/// The background worker of one engine.
pub(crate) struct Worker {
    stop: Arc<AtomicBool>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    status: Arc<Mutex<WorkerStatus>>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    fn notify(&self) {
        let (m, cv) = &*self.wake;
        *lock(m) = true;
        cv.notify_all();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Poisoning only records a panic elsewhere; the guarded state stays usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

struct Shared {
    store: Arc<SealedStore>,
    commit_lock: Arc<Mutex<()>>,
    rate_bytes: f64,
    rotation_days: Option<u32>,
    stop: Arc<AtomicBool>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    status: Arc<Mutex<WorkerStatus>>,
    audit: Option<Arc<crate::audit::AuditLog>>,
}

enum Step {
    Idle,
    Worked(u64),
}

impl Shared {
    fn run(&self) {
        let mut last_check = Instant::now();
        // Token bucket: each batch of b bytes pushes the next start b/rate seconds later.
        let mut next_start = Instant::now();
        let mut window = (Instant::now(), 0u64);
        while !self.stop.load(Ordering::SeqCst) {
            match self.step() {
                Ok(Step::Worked(bytes)) => {
                    lock(&self.status).last_error = None;
                    window.1 += bytes;
                    let elapsed = window.0.elapsed().as_secs_f64();
                    if elapsed >= 1.0 {
                        lock(&self.status).rate = window.1 as f64 / elapsed;
                        window = (Instant::now(), 0);
                    }
                    let now = Instant::now();
                    next_start = next_start.max(now)
                        + Duration::from_secs_f64(bytes as f64 / self.rate_bytes);
                    if next_start > now {
                        self.pause(next_start - now);
                    }
                }
                Ok(Step::Idle) => {
                    lock(&self.status).rate = 0.0;
                    window = (Instant::now(), 0);
                    next_start = Instant::now();
                    self.idle(Duration::from_millis(500));
                }
                Err(e) => {
                    tracing::error!(error = %e, "background re-encryption failed; retrying in 5 s");
                    lock(&self.status).last_error = Some(e.to_string());
                    self.pause(Duration::from_secs(5));
                }
            }
            if last_check.elapsed() >= SCHEDULE_CHECK {
                last_check = Instant::now();
                if let Err(e) = schedule_check(&self.store, self.rotation_days) {
                    tracing::error!(error = %e, "scheduled key rotation failed");
                }
            }
        }
    }

    /// Throttle pause: ends early only when the engine shuts down.
    fn pause(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= end {
                return;
            }
            let (m, cv) = &*self.wake;
            let guard = lock(m);
            let _ = cv.wait_timeout(guard, (end - now).min(Duration::from_millis(100)));
        }
    }

    /// Idle wait: ends early when a rotation starts or the engine shuts down.
    fn idle(&self, d: Duration) {
        let (m, cv) = &*self.wake;
        let mut woken = lock(m);
        if !*woken && !self.stop.load(Ordering::SeqCst) {
            woken = cv
                .wait_timeout(woken, d)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        *woken = false;
    }

    fn step(&self) -> Result<Step> {
        let Some(ring) = self.store.keyring() else {
            return Ok(Step::Idle);
        };
        let Some(rot) = ring.rotation.clone() else {
            return Ok(Step::Idle);
        };
        if (rot.cursor_cf as usize) < Cf::ALL.len() {
            let after = match &rot.cursor_key {
                Some(h) => {
                    Some(hex::decode(h).map_err(|_| Error::Corrupt("rotation cursor".into()))?)
                }
                None => None,
            };
            let _guard = lock(&self.commit_lock);
            let out = self.store.reencrypt_batch(
                rot.cursor_cf as usize,
                after.as_deref(),
                BATCH_RECORDS,
                BATCH_BYTES,
                BATCH_SCAN,
            )?;
            return Ok(Step::Worked(out.bytes.max(1)));
        }
        // A full pass is done. Values written under a key that became
        // decrypt-only during the pass (a nonce-budget rotation) need
        // another pass.
        let active = ring.active_data_dek().map_or(0, |d| d.id);
        let mut counts = self.store.count_by_dek()?;
        for t in self.store.table_key_ids() {
            counts.remove(&t);
        }
        if old_records(&counts, active) > 0 {
            self.store.update_keyring(|ring, _| {
                if let Some(r) = &mut ring.rotation {
                    r.cursor_cf = 0;
                    r.cursor_key = None;
                }
                Ok(())
            })?;
            return Ok(Step::Worked(1));
        }
        // Old ciphertext out of memtables, WAL and SSTs, then archive the keys.
        self.store.purge_old_versions()?;
        let _guard = lock(&self.commit_lock);
        let counts = self.store.count_by_dek()?;
        let still_used: BTreeSet<u32> = counts.keys().copied().collect();
        let retired = self
            .store
            .update_keyring(|ring, _| Ok(ring.finish_rotation(&still_used)))?;
        tracing::info!(
            retired = ?retired.iter().map(|d| d.0).collect::<Vec<_>>(),
            "data-key rotation finished; old keys archived"
        );
        if let Some(a) = &self.audit {
            let ev = crate::audit::AuditEvent {
                query: Some(format!(
                    "data-key rotation finished; retired data keys {:?}",
                    retired.iter().map(|d| d.0).collect::<Vec<_>>()
                )),
                ..Default::default()
            };
            if let Err(e) = a.record(crate::audit::EventType::KeyEvent, ev) {
                tracing::error!(error = %e, "audit log write failed");
            }
        }
        Ok(Step::Worked(1))
    }
}

fn old_records(counts: &BTreeMap<u32, (u64, u64)>, active: u32) -> u64 {
    counts
        .iter()
        .filter(|(id, _)| **id != active)
        .map(|(_, (n, _))| n)
        .sum()
}

/// Starts a rotation if the active data key is older than the interval.
fn schedule_check(store: &SealedStore, days: Option<u32>) -> Result<()> {
    let (Some(days), Some(ring)) = (days, store.keyring()) else {
        return Ok(());
    };
    let Some(active) = ring.active_data_dek() else {
        return Ok(());
    };
    if ring.rotation.is_none() && active.created_at + u64::from(days) * 86_400 <= now_secs() {
        store.update_keyring(|ring, unlocked| {
            if ring.rotation.is_none() {
                let id = ring.start_rotation(unlocked)?;
                tracing::info!(new = id.0, days, "scheduled data-key rotation started");
            }
            Ok(())
        })?;
    }
    Ok(())
}

impl StorageEngine {
    /// Starts the background worker of an encrypted engine (resuming a
    /// rotation that was in progress) and applies the rotation schedule.
    pub(crate) fn start_background(&self) -> Result<()> {
        if !self.is_encrypted() {
            return Ok(());
        }
        let rotation_days = self.config().encryption.rotation_days();
        schedule_check(self.store(), rotation_days)?;
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new((Mutex::new(false), Condvar::new()));
        let status = Arc::new(Mutex::new(WorkerStatus::default()));
        let rate_mb = self
            .config()
            .encryption
            .reencrypt_rate_mb
            .unwrap_or(DEFAULT_RATE_MB);
        let shared = Shared {
            store: self.store_arc(),
            commit_lock: Arc::clone(&self.commit_lock),
            rate_bytes: f64::from(rate_mb) * 1024.0 * 1024.0,
            rotation_days,
            stop: Arc::clone(&stop),
            wake: Arc::clone(&wake),
            status: Arc::clone(&status),
            audit: self.audit.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("heliosdb-reencrypt".into())
            .spawn(move || shared.run())?;
        *lock(&self.worker) = Some(Worker {
            stop,
            wake,
            status,
            handle: Some(handle),
        });
        Ok(())
    }

    /// Stops the background worker (also done on drop).
    pub(crate) fn stop_background(&self) {
        if let Some(mut w) = lock(&self.worker).take() {
            w.shutdown();
        }
    }

    fn wake_worker(&self) {
        if let Some(w) = lock(&self.worker).as_ref() {
            w.notify();
        }
    }

    /// KEK rotation: re-wraps the root key with `new_key` and drops the slot
    /// of the key this engine was opened with. Instant whatever the data size;
    /// no record is rewritten. Afterwards only `new_key` (and any other KEKs
    /// added with [`StorageEngine::add_encryption_key`]) opens the database.
    /// The new slot is unwrapped with `new_key` and checked before the old
    /// one is dropped, so a key that may encrypt but not decrypt is refused.
    ///
    /// # Errors
    /// An unencrypted database; the new source's errors, including
    /// `heliosdb_keys::Error::NewKeyCannotDecrypt` (nothing changes).
    pub fn rotate_encryption_key(&self, new_key: &KeyManager) -> Result<KekRotation> {
        let src = new_key.key_source();
        let old = self
            .store()
            .opened_with()
            .map(|d| d.to_string())
            .unwrap_or_default();
        let slot = self.store().update_keyring(|ring, unlocked| {
            let old_slot = unlocked.slot_id;
            Ok(block_on(ring.replace_slot(
                old_slot,
                src.as_ref(),
                unlocked,
            ))?)
        })?;
        self.store().set_opened_with(src.describe());
        tracing::info!(old = %old, new = %src.describe(), "key-encryption key rotated");
        self.audit_key_event(&format!(
            "key-encryption key rotated from {old} to {}",
            src.describe()
        ));
        Ok(KekRotation {
            old,
            new: src.describe().to_string(),
            slot,
        })
    }

    /// Adds a KEK (e.g. a recovery key file beside the main key): any one of
    /// the KEKs opens the database. Returns the new slot id.
    ///
    /// # Errors
    /// An unencrypted database; a key that already holds a slot; source errors.
    pub fn add_encryption_key(&self, key: &KeyManager) -> Result<u32> {
        let src = key.key_source();
        let desc = src.describe();
        let r = self.store().update_keyring(|ring, unlocked| {
            if let Some(slot) = block_on(ring.find_slot(src.as_ref()))? {
                return Err(Error::Keys(heliosdb_keys::Error::Invariant(format!(
                    "{} already opens this database (slot {slot})",
                    src.describe()
                ))));
            }
            Ok(block_on(ring.add_slot(src.as_ref(), unlocked))?)
        });
        if let Ok(slot) = &r {
            self.audit_key_event(&format!("key-encryption key added: {desc} (slot {slot})"));
        }
        r
    }

    /// Removes a KEK slot; the last one cannot be removed.
    ///
    /// # Errors
    /// The last slot; an unknown slot.
    pub fn remove_encryption_key(&self, slot: u32) -> Result<()> {
        self.store()
            .update_keyring(|ring, _| Ok(ring.remove_slot(slot)?))?;
        self.audit_key_event(&format!("key-encryption key slot {slot} removed"));
        Ok(())
    }

    /// The slot id a key holds, if it opens this database.
    ///
    /// # Errors
    /// Source errors while checking.
    pub fn find_encryption_key(&self, key: &KeyManager) -> Result<Option<u32>> {
        let Some(ring) = self.store().keyring() else {
            return Ok(None);
        };
        Ok(block_on(ring.find_slot(key.key_source().as_ref()))?)
    }

    /// DEK rotation: a new data key seals every new value from now on; old
    /// values stay readable and are re-encrypted in the background (throttled
    /// by `encryption.reencrypt_rate_mb`). Returns the new key's id.
    ///
    /// # Errors
    /// An unencrypted database; a rotation already in progress.
    pub fn rotate_data_key(&self) -> Result<DekId> {
        let id = self.store().update_keyring(|ring, unlocked| {
            if let Some(r) = &ring.rotation {
                return Err(Error::Keys(heliosdb_keys::Error::Invariant(format!(
                    "a data-key rotation to key {} is already in progress",
                    r.target_dek
                ))));
            }
            Ok(ring.start_rotation(unlocked)?)
        })?;
        tracing::info!(new = id.0, "data-key rotation started");
        self.audit_key_event(&format!(
            "data-key rotation started: data key {} active",
            id.0
        ));
        self.wake_worker();
        Ok(id)
    }

    /// File-key rotation (format-2 encrypted databases): a new file key
    /// encrypts every file written from now on; a flush and a full
    /// compaction rewrite every SST file under it, `IDENTITY` and `OPTIONS`
    /// files are re-encrypted, and an older file key is removed from the
    /// keyring once no live file's header names it — at once if possible,
    /// else at the next open (the MANIFEST, WAL and info LOG RocksDB holds
    /// open move then). Records are not re-sealed: their data keys are
    /// unchanged (that is [`StorageEngine::rotate_data_key`]).
    ///
    /// # Errors
    /// A database without a file layer (format 1 or unencrypted); keyring
    /// and I/O errors.
    pub fn rotate_file_key(&self) -> Result<FileKeyRotation> {
        if self.store().file_key_usage()?.is_none() {
            return Err(Error::EncryptionMismatch(
                "only format-2 encrypted databases have file keys (heliosdb-nano upgrade converts \
                 a format-1 database)"
                    .into(),
            ));
        }
        let id = self
            .store()
            .update_keyring(|ring, unlocked| Ok(ring.add_dek(unlocked, DekPurpose::File)?))?;
        self.audit_key_event(&format!(
            "file-key rotation: file key {} encrypts new files",
            id.0
        ));
        self.store().purge_old_versions()?;
        let removed_keys = self.store().settle_file_keys()?;
        for k in &removed_keys {
            self.audit_key_event(&format!(
                "file key {k} removed: no live file is encrypted under it"
            ));
        }
        let pending = self
            .store()
            .file_key_usage()?
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| *k != id.0)
            .flat_map(|(_, names)| names)
            .collect();
        Ok(FileKeyRotation {
            new_key: id.0,
            removed_keys,
            pending,
        })
    }

    /// Whether a data-key rotation is in progress.
    pub fn rotation_in_progress(&self) -> bool {
        self.store().keyring().is_some_and(|r| r.rotation.is_some())
    }

    /// Waits until the current data-key rotation has finished (re-encryption
    /// done, old versions purged, old keys archived), calling `progress` with
    /// the status about twice a second. Returns `false` on timeout.
    ///
    /// # Errors
    /// Status errors.
    pub fn wait_for_rotation(
        &self,
        timeout: Duration,
        mut progress: impl FnMut(&RotationStatus),
    ) -> Result<bool> {
        let start = Instant::now();
        loop {
            let Some(status) = self.rotation_status() else {
                return Ok(true);
            };
            progress(&status);
            if start.elapsed() >= timeout {
                return Ok(false);
            }
            std::thread::sleep(
                Duration::from_millis(100).min(timeout.saturating_sub(start.elapsed())),
            );
        }
    }

    /// Progress of the data-key rotation in progress, if any (cheap: no
    /// record is counted, unlike [`StorageEngine::encryption_status`]).
    pub fn rotation_progress(&self) -> Option<RotationStatus> {
        self.rotation_status()
    }

    fn rotation_status(&self) -> Option<RotationStatus> {
        let ring = self.store().keyring()?;
        let r = ring.rotation?;
        let (rate, last_error) = match lock(&self.worker).as_ref() {
            Some(w) => {
                let s = lock(&w.status);
                (s.rate, s.last_error.clone())
            }
            None => (0.0, None),
        };
        Some(RotationStatus {
            target_dek: r.target_dek,
            started_at: r.started_at,
            records_done: r.records_done,
            bytes_done: r.bytes_done,
            rate_bytes_per_sec: rate,
            last_error,
        })
    }

    /// Destroys an archived (retired) data key: crypto-shredding. Refused
    /// while any record still uses it.
    ///
    /// # Errors
    /// A key that is not retired, unknown, or still in use.
    pub fn destroy_data_key(&self, id: u32) -> Result<()> {
        let _guard = lock(&self.commit_lock);
        if self.store().count_by_dek()?.contains_key(&id) {
            return Err(Error::Keys(heliosdb_keys::Error::Invariant(format!(
                "data key {id} still seals records; it cannot be destroyed"
            ))));
        }
        self.store()
            .update_keyring(|ring, unlocked| Ok(ring.destroy_dek(DekId(id), unlocked)?))?;
        self.audit_key_event(&format!("data key {id} destroyed"));
        Ok(())
    }

    /// Secret-free status: KEKs, data keys with their records and bytes,
    /// percent under the active key, rotation progress and rate, nonce budget
    /// use. Counting reads every stored value's header (no decryption).
    ///
    /// # Errors
    /// An unencrypted database; storage errors.
    pub fn encryption_status(&self) -> Result<EncryptionStatus> {
        let ring = self
            .store()
            .keyring()
            .ok_or_else(|| Error::EncryptionMismatch("the database is not encrypted".into()))?;
        let counts = self.store().count_by_dek()?;
        let (budget, active_id, active_used) = self
            .store()
            .nonce_usage()
            .ok_or_else(|| Error::Corrupt("no active data key".into()))?;
        let total: u64 = counts.values().map(|c| c.0).sum();
        // Records under tables' own keys are not the shared data keys' business.
        let table_ids = self.store().table_key_ids();
        let data_total: u64 = counts
            .iter()
            .filter(|(id, _)| !table_ids.contains(id))
            .map(|(_, c)| c.0)
            .sum();
        let active_records = counts.get(&active_id.0).map_or(0, |c| c.0);
        let usage = self.store().file_key_usage()?;
        let file_keys = match &usage {
            Some(usage) => ring
                .deks
                .iter()
                .filter(|d| d.purpose == DekPurpose::File)
                .map(|d| FileKeyStatus {
                    id: d.id,
                    state: d.state.to_string(),
                    files: usage.get(&d.id).map_or(0, Vec::len),
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(EncryptionStatus {
            file_keys,
            algorithm: ring.algorithm.clone(),
            opened_with: self
                .store()
                .opened_with()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            kek_slots: ring
                .slots
                .iter()
                .map(|s| SlotStatus {
                    id: s.id,
                    source: s.header.source.to_string(),
                })
                .collect(),
            active_dek_id: active_id.0,
            active_dek_percent: if data_total == 0 {
                100.0
            } else {
                active_records as f64 * 100.0 / data_total as f64
            },
            total_records: total,
            deks: ring
                .deks
                .iter()
                .map(|d| {
                    let (records, bytes) = counts.get(&d.id).copied().unwrap_or((0, 0));
                    DekStatus {
                        id: d.id,
                        purpose: match d.purpose {
                            DekPurpose::Data => "data".into(),
                            DekPurpose::BlindIndex => "blind_index".into(),
                            DekPurpose::AuditChain => "audit_chain".into(),
                            DekPurpose::Table => "table".into(),
                            DekPurpose::File => "file".into(),
                        },
                        state: d.state.to_string(),
                        records,
                        bytes,
                        nonce_budget_used: if d.id == active_id.0 {
                            active_used
                        } else {
                            d.nonce_reserved
                        },
                        created_at: d.created_at,
                    }
                })
                .collect(),
            nonce_budget: budget,
            rotation: self.rotation_status(),
        })
    }
}

impl Drop for StorageEngine {
    fn drop(&mut self) {
        self.stop_background();
    }
}

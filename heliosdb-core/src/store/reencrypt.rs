//! Key rotation's store side: re-sealing batches of records under the
//! active data key, with the rotation cursor, and counting records per key.

use std::sync::Arc;

use heliosdb_crypto::EnvelopeHeader;
use rocksdb::{IteratorMode, WriteOptions};

use super::db::RingEntry;
use super::{lock, read, Cf, SealedStore};
use crate::Result;

impl SealedStore {
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
        let active = Arc::clone(&read(&c.active));
        let table_ids = self.table_key_ids();
        let mode = match after {
            Some(k) => IteratorMode::From(k, rocksdb::Direction::Forward),
            None => IteratorMode::Start,
        };
        let mut batch = self.db.batch();
        let mut out = ReencryptOutcome::default();
        for item in self.db.iter(cf, mode)? {
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
            batch.put(cf, &key, sealed)?;
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
            batch.ring_put(RingEntry::Keyring, &next.encode())?;
        }
        // Re-encrypted values skip the WAL: if the process dies before the
        // memtable is flushed, the batch (and its cursor) are simply lost and
        // those records still hold their old, valid ciphertext; a rotation
        // only completes after a full recount finds no old record, so a lost
        // batch costs another pass, never a record. Halves the bytes written.
        let mut wo = WriteOptions::default();
        wo.disable_wal(true);
        self.db.write(batch, &wo)?;
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
            for item in self.db.iter(cf, IteratorMode::Start)? {
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

//! Reading ranges: prefix scans and bounded range iterators that open each
//! value as it is read, and raw (unopened) reads for verification and
//! [`RawView`](super::RawView).

use rocksdb::IteratorMode;

use super::{Cf, RawPair, SealedStore};
use crate::{Error, Result};

/// Opened (key, plaintext) pairs read as the iterator advances.
type OpenedIter<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a>;

impl SealedStore {
    /// Reads one stored value without opening it.
    pub(crate) fn raw_get(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db.get_named(cf, key)
    }

    /// All stored (key, value) pairs of a column family, as stored.
    pub(crate) fn raw_entries(&self, cf: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.db
            .iter_named(cf, IteratorMode::Start)?
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
        let iter = self
            .db
            .iter(cf, IteratorMode::From(prefix, rocksdb::Direction::Forward))?;
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
        let iter = self
            .db
            .iter_opt(cf, ro, IteratorMode::From(lo, rocksdb::Direction::Forward))?;
        Ok(iter.map(move |r| {
            let (k, v) = r?;
            let plain = self.open_value(cf, &k, &v)?;
            Ok((k.to_vec(), plain))
        }))
    }

    /// As [`SealedStore::iter_range`], newest key first: the iterator
    /// seeks to the last key below `hi` (RocksDB's `SeekForPrev` under an
    /// upper bound, or `SeekToLast` without one) and steps backwards to
    /// `lo`, so a reverse scan that stops early reads only what it returns.
    pub(crate) fn iter_range_rev<'a>(
        &'a self,
        cf: Cf,
        lo: &[u8],
        hi: Option<&[u8]>,
    ) -> Result<OpenedIter<'a>> {
        if hi.is_some_and(|h| h <= lo) {
            return Ok(Box::new(std::iter::empty()));
        }
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_lower_bound(lo.to_vec());
        if let Some(hi) = hi {
            ro.set_iterate_upper_bound(hi.to_vec());
        }
        let mode = match hi {
            Some(hi) => IteratorMode::From(hi, rocksdb::Direction::Reverse),
            None => IteratorMode::End,
        };
        let iter = self.db.iter_opt(cf, ro, mode)?;
        let hi = hi.map(<[u8]>::to_vec);
        Ok(Box::new(
            iter
                // The upper bound is exclusive; `SeekForPrev(hi)` may land on
                // `hi` itself where the bound is not enforced.
                .filter(move |r| {
                    r.as_ref()
                        .map_or(true, |(k, _)| hi.as_deref().is_none_or(|h| &k[..] < h))
                })
                .map(move |r| {
                    let (k, v) = r?;
                    let plain = self.open_value(cf, &k, &v)?;
                    Ok((k.to_vec(), plain))
                }),
        ))
    }

    /// Raw (key, stored value) pairs of a sealed column family, for verification.
    pub(crate) fn raw_scan(&self, cf: Cf) -> Result<impl Iterator<Item = Result<RawPair>> + '_> {
        Ok(self
            .db
            .iter(cf, IteratorMode::Start)?
            .map(|r| r.map_err(Error::from)))
    }

    /// Physical keys under `prefix`, without opening values (for deleting ranges).
    pub(crate) fn keys_with_prefix(&self, cf: Cf, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.db
            .iter(cf, IteratorMode::From(prefix, rocksdb::Direction::Forward))?
            .map(|r| r.map_err(Error::from))
            .take_while(|r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .map(|r| r.map(|(k, _)| k.to_vec()))
            .collect()
    }
}

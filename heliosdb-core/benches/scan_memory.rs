//! Memory of a full scan: a table four times the block cache, streamed by
//! `scan_table_range` (rows decrypted as the iterator advances) against
//! `scan_table` (which returns a `Vec`), on an encrypted format-2 database.
//! Prints the peak growth of the resident set over the scan, sampled every
//! 256 rows. Target (storage issue): streaming adds at most 64 MiB.
//!
//! Run: `cargo bench -p heliosdb-core --bench scan_memory`

use std::ops::Bound;
use std::sync::Arc;

use heliosdb_core::{Column, Config, DataType, Schema, StorageEngine, Tuple, Value};
use heliosdb_crypto::SecretKey;
use heliosdb_keys::RawKeySource;

const CACHE: usize = 16 << 20;
const ROW_BYTES: usize = 1024;
const ROWS: i64 = 4 * (CACHE / ROW_BYTES) as i64;

/// Resident set size of this process, bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn open(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.storage.sync_commit = false;
    config.storage.cache_size = CACHE;
    let src = Arc::new(RawKeySource::new(
        SecretKey::from_bytes([5; 32]),
        Some("bench".into()),
    ));
    StorageEngine::open_with_source(dir, &config, src).expect("open")
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = open(dir.path());
        s.catalog()
            .create_table(
                "t",
                Schema::new(vec![
                    Column::new("id", DataType::Int8).primary_key(),
                    Column::new("body", DataType::Text),
                ]),
            )
            .expect("create");
        let body = "x".repeat(ROW_BYTES);
        let mut i = 0;
        while i < ROWS {
            let batch = (i..(i + 2000).min(ROWS))
                .map(|k| Tuple::new(vec![Value::Int8(k), Value::String(body.clone())]))
                .collect();
            s.insert_batch("t", batch).expect("insert");
            i += 2000;
        }
        s.flush().expect("flush");
    }
    let s = open(dir.path());
    let table = ROWS as u64 * ROW_BYTES as u64;

    let base = rss();
    let mut peak = base;
    let mut n = 0u64;
    for row in s
        .scan_table_range("t", Bound::Unbounded, Bound::Unbounded)
        .expect("scan")
    {
        let row = row.expect("row");
        assert_eq!(row.values.len(), 2);
        n += 1;
        if n.is_multiple_of(256) {
            peak = peak.max(rss());
        }
    }
    assert_eq!(n, ROWS as u64);
    let streamed = peak.saturating_sub(base);

    let base = rss();
    let rows = s.scan_table("t").expect("scan_table");
    let collected = rss().saturating_sub(base);
    assert_eq!(rows.len() as i64, ROWS);
    drop(rows);

    println!(
        "| scan of {ROWS} rows ({:.0} MiB of values, block cache {:.0} MiB) | peak RSS growth |",
        mib(table),
        mib(CACHE as u64)
    );
    println!("|---|---:|");
    println!(
        "| `scan_table_range` (streamed) | {:.1} MiB |",
        mib(streamed)
    );
    println!(
        "| `scan_table` (returns a Vec) | {:.1} MiB |",
        mib(collected)
    );
}

//! Scale benchmark: costs that must not grow with the table.
//!
//! - `range10/<rows>`, `range10_encrypted/<rows>`: `scan_table_range` of 10
//!   consecutive primary keys in a table of 20,000 and of 2,000,000 rows
//!   (format 2, ordered keys; unencrypted, and encrypted: sealed values in
//!   encrypted files). The target is a ratio: the 2M cost within 2x of the
//!   20k cost.
//! - `range10_blind/20000`: the same query on a format-1 (blind-key)
//!   database, which has to read the whole table: the before/after.
//! - `range10_desc/<asc|desc>_<plain|encrypted>`: the 10 rows below a
//!   key, read forwards (`scan_table_range` of the 10 keys) and backwards
//!   (`scan_table_range_rev` up to the key, stopped after 10 rows: what
//!   `ORDER BY id DESC LIMIT 10` does), unencrypted and encrypted, on one
//!   200,000-row table each, side by side.
//! - `sql_point/<select|update>`: `SELECT * … WHERE id = ?` and
//!   `UPDATE … SET v = v + 1 WHERE id = ?` through SQL on a 100,000-row
//!   encrypted table (pgbench's point statements). Target: UPDATE within 2x
//!   of SELECT.
//!
//! Run: `cargo bench -p heliosdb-sql --bench scale`

use std::ops::Bound;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion};
use heliosdb_core::{Column, Config, DataType, Schema, StorageEngine, Tuple, Value};
use heliosdb_keys::FakeSource;
use heliosdb_sql::SqlExt;

fn schema() -> Schema {
    Schema::new(vec![
        Column::new("id", DataType::Int8).primary_key(),
        Column::new("v", DataType::Int8),
        Column::new("pad", DataType::Text),
    ])
}

fn fill(s: &StorageEngine, rows: i64) {
    s.catalog().create_table("t", schema()).expect("create");
    let pad = "x".repeat(84);
    let mut i = 0;
    while i < rows {
        let batch = (i..(i + 10_000).min(rows))
            .map(|k| {
                Tuple::new(vec![
                    Value::Int8(k),
                    Value::Int8(k % 1000),
                    Value::String(pad.clone()),
                ])
            })
            .collect();
        s.insert_batch("t", batch).expect("insert");
        i += 10_000;
    }
    // Measure the loaded table, not the compactions its load started: they
    // would compete for the CPU and change the LSM shape mid-measurement.
    s.wait_for_compactions().expect("settle");
}

fn plain(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.storage.sync_commit = false;
    StorageEngine::open(dir, &config).expect("open")
}

/// A simple deterministic sequence of keys spread over the table.
fn key(i: u64, rows: i64) -> i64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as i64 % (rows - 10)
}

fn encrypted(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.storage.sync_commit = false;
    config.encryption.enabled = true;
    StorageEngine::open_with_source(dir, &config, Arc::new(FakeSource::new(3))).expect("open")
}

/// Format 1: blind record keys, no file layer (the before picture).
fn blind(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.storage.sync_commit = false;
    config.encryption.enabled = true;
    config.storage.record_keys = heliosdb_core::config::RecordKeys::Blind;
    StorageEngine::open_with_source(dir, &config, Arc::new(FakeSource::new(3))).expect("open")
}

type Open = fn(&std::path::Path) -> StorageEngine;

fn range10(c: &mut Criterion) {
    let both: &[i64] = &[20_000, 2_000_000];
    let groups: [(&str, Open, &[i64], usize); 3] = [
        ("range10", plain, both, 100),
        ("range10_encrypted", encrypted, both, 100),
        // Reads the whole table per query: 20,000 rows are enough to show it.
        ("range10_blind", blind, &[20_000], 10),
    ];
    for (group, open, sizes, samples) in groups {
        let mut g = c.benchmark_group(group);
        g.sample_size(samples);
        for &rows in sizes {
            let dir = tempfile::tempdir().expect("tempdir");
            // Filled on first use: a filter that skips it skips the fill.
            let table = std::cell::OnceCell::new();
            let mut i = 0u64;
            g.bench_with_input(BenchmarkId::from_parameter(rows), &rows, |b, &rows| {
                let s = table.get_or_init(|| {
                    let s = open(dir.path());
                    fill(&s, rows);
                    s
                });
                b.iter(|| {
                    i += 1;
                    let lo = key(i, rows);
                    let n = s
                        .scan_table_range(
                            "t",
                            Bound::Included(Value::Int8(lo)),
                            Bound::Excluded(Value::Int8(lo + 10)),
                        )
                        .expect("range")
                        .count();
                    assert_eq!(n, 10);
                })
            });
        }
        g.finish();
    }
}

fn range10_desc(c: &mut Criterion) {
    let rows = 200_000;
    let mut g = c.benchmark_group("range10_desc");
    g.sample_size(100);
    let layouts: [(&str, Open); 2] = [("plain", plain), ("encrypted", encrypted)];
    for (name, open) in layouts {
        let dir = tempfile::tempdir().expect("tempdir");
        // Filled on first use, so that a filter skipping the group skips
        // the fill too.
        let table = std::cell::OnceCell::new();
        let s = || {
            table.get_or_init(|| {
                let s = open(dir.path());
                fill(&s, rows);
                s
            })
        };
        let mut i = 0u64;
        g.bench_function(format!("asc_{name}"), |b| {
            let s = s();
            b.iter(|| {
                i += 1;
                let hi = key(i, rows) + 10;
                let n = s
                    .scan_table_range(
                        "t",
                        Bound::Included(Value::Int8(hi - 10)),
                        Bound::Excluded(Value::Int8(hi)),
                    )
                    .expect("range")
                    .count();
                assert_eq!(n, 10);
            })
        });
        g.bench_function(format!("desc_{name}"), |b| {
            let s = s();
            b.iter(|| {
                i += 1;
                let hi = key(i, rows) + 10;
                let n = s
                    .scan_table_range_rev("t", Bound::Unbounded, Bound::Excluded(Value::Int8(hi)))
                    .expect("range")
                    .take(10)
                    .count();
                assert_eq!(n, 10);
            })
        });
    }
    g.finish();
}

fn sql_point(c: &mut Criterion) {
    let rows = 100_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let s = encrypted(dir.path());
    fill(&s, rows);
    let mut g = c.benchmark_group("sql_point");
    let mut i = 0u64;
    g.bench_function("select", |b| {
        b.iter(|| {
            i += 1;
            let r = s
                .execute_sql(&format!("SELECT * FROM t WHERE id = {}", key(i, rows)))
                .expect("select");
            assert_eq!(r.rows().len(), 1);
        })
    });
    g.bench_function("update", |b| {
        b.iter(|| {
            i += 1;
            let r = s
                .execute_sql(&format!(
                    "UPDATE t SET v = v + 1 WHERE id = {}",
                    key(i, rows)
                ))
                .expect("update");
            assert_eq!(r.tag(), "UPDATE 1");
        })
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(std::time::Duration::from_secs(3))
        .warm_up_time(std::time::Duration::from_secs(1));
    range10(&mut c);
    range10_desc(&mut c);
    sql_point(&mut c);
    c.final_summary();
}

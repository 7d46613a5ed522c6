//! Encryption overhead benchmark: the same operations on an unencrypted and
//! an encrypted database, side by side in one run, plus the raw AEAD floor.
//!
//! Two parts:
//! 1. criterion benchmarks (`encryption/<op>/<plain|encrypted>`, `aead/…`),
//! 2. an interleaved side-by-side measurement that alternates plain and
//!    encrypted rounds and prints, per operation, the median cost per op, the
//!    ratio encrypted/plain, the added nanoseconds and the AEAD floor for the
//!    same size — a Markdown table ready for the README.
//!
//! Run: `cargo bench -p heliosdb-core --bench encryption`
//! (`-- --quick-table` prints only the side-by-side table.)

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};
use heliosdb_core::{Column, Config, DataType, Schema, StorageEngine, Tuple, Value};
use heliosdb_crypto::{
    open_envelope, random_nonce, seal_envelope, Aead, DekId, NonceMode, SecretKey,
};
use heliosdb_keys::RawKeySource;

const SIZES: [usize; 3] = [64, 1024, 16 * 1024];

struct Pair {
    _dir: tempfile::TempDir,
    plain: StorageEngine,
    enc: StorageEngine,
}

fn pair() -> Pair {
    let dir = tempfile::tempdir().expect("tempdir");
    // The cipher's cost, not the disk's: without sync_commit a put does not
    // wait for an fsync (benches/commit.rs measures that separately).
    let mut config = Config::default();
    config.storage.sync_commit = false;
    let plain = StorageEngine::open(dir.path().join("plain"), &config).expect("open plain");
    let source = Arc::new(RawKeySource::new(
        SecretKey::from_bytes([7; 32]),
        Some("bench".into()),
    ));
    let enc =
        StorageEngine::open_with_source(dir.path().join("enc"), &config, source).expect("open enc");
    Pair {
        _dir: dir,
        plain,
        enc,
    }
}

fn setup_table(s: &StorageEngine, rows: i32) {
    s.catalog()
        .create_table(
            "bench",
            Schema::new(vec![
                Column::new("id", DataType::Int4).primary_key(),
                Column::new("name", DataType::Text),
                Column::new("group_id", DataType::Int4),
                Column::new("amount", DataType::Float8),
            ]),
        )
        .expect("create");
    s.catalog()
        .create_index("bench", "group_id")
        .expect("index");
    let tuples = (0..rows)
        .map(|i| {
            Tuple::new(vec![
                Value::Int4(i),
                Value::String(format!("customer name number {i:08}")),
                Value::Int4(i / 10),
                Value::Float8(i as f64 * 1.5),
            ])
        })
        .collect();
    s.insert_batch("bench", tuples).expect("batch");
    s.flush().expect("flush");
}

fn preload_kv(s: &StorageEngine, n: usize, size: usize) {
    let v = vec![0x5au8; size];
    for i in 0..n {
        s.put(format!("read_{i:08}").as_bytes(), &v).expect("put");
    }
    s.flush().expect("flush");
}

fn criterion_benches(c: &mut Criterion, p: &Pair) {
    let key = SecretKey::from_bytes([9; 32]);
    let aead = Aead::new(&key);
    let mut g = c.benchmark_group("aead");
    for size in SIZES {
        let data = vec![0u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("seal", size), &data, |b, d| {
            b.iter(|| {
                let nonce = random_nonce(NonceMode::Fast).expect("nonce");
                black_box(seal_envelope(&aead, DekId(1), nonce, b"\x04rowskey", d))
            })
        });
        let sealed = seal_envelope(&aead, DekId(1), [1; 12], b"\x04rowskey", &data);
        g.bench_with_input(BenchmarkId::new("open", size), &sealed, |b, s| {
            b.iter(|| black_box(open_envelope(&aead, b"\x04rowskey", s).expect("open")))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("encryption");
    for size in SIZES {
        let v = vec![0xa5u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        for (name, s) in [("plain", &p.plain), ("encrypted", &p.enc)] {
            let mut i = 0u64;
            g.bench_function(BenchmarkId::new(format!("put_{size}"), name), |b| {
                b.iter(|| {
                    i += 1;
                    s.put(format!("crit_{size}_{i}").as_bytes(), &v)
                        .expect("put")
                })
            });
        }
    }
    g.throughput(Throughput::Elements(1));
    for (name, s) in [("plain", &p.plain), ("encrypted", &p.enc)] {
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new("point_read", name), |b| {
            b.iter(|| {
                i = (i + 7919) % 10_000;
                black_box(s.get(format!("read_{i:08}").as_bytes()).expect("get"))
            })
        });
        g.bench_function(BenchmarkId::new("scan_table_1000", name), |b| {
            b.iter(|| black_box(s.scan_table("bench").expect("scan")))
        });
        let mut j = 0i32;
        g.bench_function(BenchmarkId::new("indexed_lookup", name), |b| {
            b.iter(|| {
                j = (j + 37) % 100;
                black_box(
                    s.find_by("bench", "group_id", &Value::Int4(j))
                        .expect("lookup"),
                )
            })
        });
    }
    g.finish();
}

/// Median nanoseconds per op of `op` run `n` times, over `rounds` rounds,
/// alternating plain and encrypted so both see the same machine conditions.
fn side_by_side(rounds: usize, n: usize, mut op: impl FnMut(bool, usize)) -> (f64, f64) {
    let mut plain = Vec::with_capacity(rounds);
    let mut enc = Vec::with_capacity(rounds);
    let mut counter = 0usize;
    for r in 0..rounds {
        let order = if r % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for encrypted in order {
            let t = Instant::now();
            for _ in 0..n {
                counter += 1;
                op(encrypted, counter);
            }
            let per_op = t.elapsed().as_nanos() as f64 / n as f64;
            if encrypted {
                enc.push(per_op)
            } else {
                plain.push(per_op)
            }
        }
    }
    (median(&mut plain), median(&mut enc))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn aead_floor(size: usize, open: bool) -> f64 {
    let aead = Aead::new(&SecretKey::from_bytes([3; 32]));
    let data = vec![1u8; size];
    let sealed = seal_envelope(&aead, DekId(1), [2; 12], b"\x02kvkey", &data);
    let n = (2_000_000 / (size + 64)).max(2000);
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..n {
            if open {
                black_box(open_envelope(&aead, b"\x02kvkey", &sealed).expect("open"));
            } else {
                let nonce = random_nonce(NonceMode::Fast).expect("nonce");
                black_box(seal_envelope(&aead, DekId(1), nonce, b"\x02kvkey", &data));
            }
        }
        best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
    }
    best
}

fn table(p: &Pair) {
    println!("\n## Side-by-side encryption overhead (median of interleaved rounds)\n");
    println!(
        "AEAD backend: {}\n",
        Aead::new(&SecretKey::from_bytes([0; 32])).backend().name()
    );
    println!("| operation | unencrypted | encrypted | ratio | added per op | AEAD floor | added / floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let row = |name: &str, (plain, enc): (f64, f64), floor: f64| {
        let added = enc - plain;
        println!(
            "| {name} | {} | {} | {:.3} | {} | {} | {:.2} |",
            fmt_ns(plain),
            fmt_ns(enc),
            enc / plain,
            fmt_ns(added),
            fmt_ns(floor),
            added / floor
        );
    };
    for size in SIZES {
        let v = vec![0xa5u8; size];
        let n = (400_000 / (size + 64)).clamp(300, 10_000);
        let r = side_by_side(15, n, |enc, i| {
            let s = if enc { &p.enc } else { &p.plain };
            s.put(format!("sbs_{size}_{i:010}").as_bytes(), &v)
                .expect("put");
        });
        row(&format!("put {size} B"), r, aead_floor(size, false));
    }
    // The same 64 B puts with keys arriving in random order: separates the
    // cost of blind record keys (random insert positions in RocksDB's
    // memtable, which a plaintext database with sequential keys avoids) from
    // the cost of sealing.
    let v = vec![0xa5u8; 64];
    let r = side_by_side(15, 5_000, |enc, i| {
        let s = if enc { &p.enc } else { &p.plain };
        let k = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        s.put(format!("rnd_{k:016x}").as_bytes(), &v).expect("put");
    });
    row("put 64 B, random key order", r, aead_floor(64, false));
    let r = side_by_side(15, 20_000, |enc, i| {
        let s = if enc { &p.enc } else { &p.plain };
        let k = (i * 7919) % 10_000;
        black_box(s.get(format!("read_{k:08}").as_bytes()).expect("get"));
    });
    row("point read (100 B)", r, aead_floor(100, true));
    let r = side_by_side(15, 20, |enc, _| {
        let s = if enc { &p.enc } else { &p.plain };
        black_box(s.scan_table("bench").expect("scan"));
    });
    row("scan_table 1000 rows", r, 1000.0 * aead_floor(60, true));
    let r = side_by_side(15, 5_000, |enc, i| {
        let s = if enc { &p.enc } else { &p.plain };
        black_box(
            s.find_by("bench", "group_id", &Value::Int4((i % 100) as i32))
                .expect("lookup"),
        );
    });
    row("indexed lookup (10 rows)", r, 11.0 * aead_floor(60, true));
    println!();
}

fn fmt_ns(ns: f64) -> String {
    if ns.abs() >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick-table");
    let p = pair();
    for s in [&p.plain, &p.enc] {
        setup_table(s, 1000);
        preload_kv(s, 10_000, 100);
    }
    if !quick {
        let mut c = Criterion::default()
            .warm_up_time(std::time::Duration::from_millis(500))
            .measurement_time(std::time::Duration::from_secs(2))
            .configure_from_args();
        criterion_benches(&mut c, &p);
        c.final_summary();
    }
    table(&p);
}

//! Commit benchmark: what durable commits cost and what conflicts cost.
//!
//! - `commit/<sync|nosync>/<writers>`: autocommit puts of 64 B from 1 and 8
//!   threads, with `[storage] sync_commit` on (each commit waits for its WAL
//!   record to reach stable storage; concurrent commits share one fsync) and
//!   off. Throughput is commits per second over all writers.
//! - `increments/<writers>`: explicit transactions that read one hot counter
//!   and write it back plus one, retried on conflict; prints the abort rate
//!   (conflicts per committed increment) after the criterion runs.
//! - `increments-otdb/<writers>`: the same increments on RocksDB's own
//!   `OptimisticTransactionDB` (`get_for_update`, WAL synced per commit, no
//!   encryption, retried on `Busy`), side by side: what our validator costs
//!   against the one RocksDB ships. Ours also validates scanned ranges
//!   (phantoms) and runs under file and record encryption; RocksDB's checks
//!   point keys only (ARCHITECTURE.md, "why not OptimisticTransactionDB").
//!
//! Run: `cargo bench -p heliosdb-core --bench commit`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use heliosdb_core::{Config, Error, StorageEngine};
use heliosdb_crypto::SecretKey;
use heliosdb_keys::RawKeySource;

const COMMITS_PER_ITER: u64 = 64;

fn engine(dir: &std::path::Path, sync: bool) -> Arc<StorageEngine> {
    let mut config = Config::default();
    config.storage.sync_commit = sync;
    let src = Arc::new(RawKeySource::new(
        SecretKey::from_bytes([9; 32]),
        Some("bench".into()),
    ));
    Arc::new(StorageEngine::open_with_source(dir, &config, src).expect("open"))
}

/// Runs `per_thread` operations on each of `writers` threads at once and
/// returns the wall time.
fn run_parallel(writers: u64, per_thread: u64, op: impl Fn(u64, u64) + Sync) -> Duration {
    let start = Barrier::new(writers as usize + 1);
    std::thread::scope(|s| {
        for w in 0..writers {
            let (start, op) = (&start, &op);
            s.spawn(move || {
                start.wait();
                for i in 0..per_thread {
                    op(w, i);
                }
            });
        }
        start.wait();
        let t = Instant::now();
        // The scope joins every writer before returning.
        t
    })
    .elapsed()
}

fn commits(c: &mut Criterion) {
    let mut g = c.benchmark_group("commit");
    g.sample_size(10);
    for sync in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = engine(&dir.path().join("db"), sync);
        let value = [0x5a; 64];
        let seq = AtomicU64::new(0);
        for writers in [1u64, 8] {
            g.throughput(Throughput::Elements(COMMITS_PER_ITER * writers));
            let name = if sync { "sync" } else { "nosync" };
            g.bench_function(BenchmarkId::new(name, writers), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += run_parallel(writers, COMMITS_PER_ITER, |w, _| {
                            let n = seq.fetch_add(1, Ordering::Relaxed);
                            db.put(format!("w{w}-{n}").as_bytes(), &value).expect("put");
                        });
                    }
                    total
                })
            });
        }
    }
    g.finish();
}

/// Hot-counter increments from 1 and 8 threads on databases `open` makes
/// (seeded with 0): `attempt` runs one read-modify-write transaction and
/// says whether it committed (`false`: a conflict, retried); `read` reads
/// the counter back, which must equal the committed increments. Prints
/// the abort rate under `title`.
fn hot_counter<D: Sync>(
    c: &mut Criterion,
    group: &str,
    title: &str,
    open: impl Fn(&std::path::Path) -> D,
    attempt: impl Fn(&D) -> bool + Sync,
    read: impl Fn(&D) -> u64,
) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    let mut report = Vec::new();
    for writers in [1u64, 8] {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open(&dir.path().join("db"));
        let (aborts, done) = (AtomicU64::new(0), AtomicU64::new(0));
        g.throughput(Throughput::Elements(COMMITS_PER_ITER * writers));
        g.bench_function(BenchmarkId::from_parameter(writers), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += run_parallel(writers, COMMITS_PER_ITER, |_, _| {
                        while !attempt(&db) {
                            aborts.fetch_add(1, Ordering::Relaxed);
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    });
                }
                total
            })
        });
        assert_eq!(read(&db), done.load(Ordering::Relaxed), "lost increments");
        report.push((writers, done.into_inner(), aborts.into_inner()));
    }
    g.finish();
    println!("\n{title}: writers, committed, aborted, aborts per commit");
    for (w, done, aborts) in report {
        println!(
            "| {w} | {done} | {aborts} | {:.2} |",
            aborts as f64 / done.max(1) as f64
        );
    }
}

fn counter_value(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().expect("u64"))
}

fn increments(c: &mut Criterion) {
    hot_counter(
        c,
        "increments",
        "hot-counter increments (sync_commit = true)",
        |path| {
            let db = engine(path, true);
            db.put(b"counter", &0u64.to_be_bytes()).expect("seed");
            db
        },
        |db| {
            db.begin_transaction().expect("begin");
            let n = counter_value(&db.get(b"counter").expect("get").expect("counter"));
            db.put(b"counter", &(n + 1).to_be_bytes()).expect("put");
            match db.commit() {
                Ok(()) => true,
                Err(Error::Conflict(_)) => false,
                Err(e) => panic!("commit: {e}"),
            }
        },
        |db| counter_value(&db.get(b"counter").expect("get").expect("counter")),
    );
}

fn increments_otdb(c: &mut Criterion) {
    use rocksdb::{
        ErrorKind, MultiThreaded, OptimisticTransactionDB, OptimisticTransactionOptions,
        WriteOptions,
    };
    hot_counter(
        c,
        "increments-otdb",
        "hot-counter increments on OptimisticTransactionDB (WAL synced)",
        |path| {
            let db: OptimisticTransactionDB<MultiThreaded> =
                OptimisticTransactionDB::open_default(path).expect("open");
            db.put(b"counter", 0u64.to_be_bytes()).expect("seed");
            db
        },
        |db| {
            let mut wo = WriteOptions::default();
            wo.set_sync(true);
            let txn = db.transaction_opt(&wo, &OptimisticTransactionOptions::default());
            let cur = txn
                .get_for_update(b"counter", true)
                .expect("get")
                .expect("counter");
            txn.put(b"counter", (counter_value(&cur) + 1).to_be_bytes())
                .expect("put");
            match txn.commit() {
                Ok(()) => true,
                Err(e) if matches!(e.kind(), ErrorKind::Busy | ErrorKind::TryAgain) => false,
                Err(e) => panic!("commit: {e}"),
            }
        },
        |db| counter_value(&db.get(b"counter").expect("get").expect("counter")),
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    commits(&mut c);
    increments(&mut c);
    increments_otdb(&mut c);
    c.final_summary();
}

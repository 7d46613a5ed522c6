//! Rotation benchmark, measured in one run on one machine:
//! - background re-encryption throughput (MB/s of 1 KiB records), unthrottled
//!   and at the default throttle;
//! - foreground put/get throughput while re-encryption runs, as a ratio to
//!   the same workload idle;
//! - KEK rotation time with 10 k and 1 M records (independent of data size).
//!
//! Run: `cargo bench -p heliosdb-core --bench rotation` (prints a Markdown table).

use std::sync::Arc;
use std::time::{Duration, Instant};

use heliosdb_core::{Config, StorageEngine};
use heliosdb_crypto::SecretKey;
use heliosdb_keys::{KeyManager, RawKeySource};

fn engine(dir: &std::path::Path, rate_mb: Option<u32>, seed: u8) -> StorageEngine {
    let mut config = Config::default();
    config.encryption.reencrypt_rate_mb = rate_mb;
    // Foreground cost of re-encryption, not of fsync (see benches/commit.rs).
    config.storage.sync_commit = false;
    let src = Arc::new(RawKeySource::new(
        SecretKey::from_bytes([seed; 32]),
        Some("bench".into()),
    ));
    StorageEngine::open_with_source(dir, &config, src).expect("open")
}

fn load(s: &StorageEngine, n: usize, size: usize) {
    let v = vec![0x42u8; size];
    for chunk in (0..n).collect::<Vec<_>>().chunks(5000) {
        s.begin_transaction().expect("begin");
        for &i in chunk {
            s.put(format!("rec{i:09}").as_bytes(), &v).expect("put");
        }
        s.commit().expect("commit");
    }
    s.flush().expect("flush");
}

/// Mixed foreground workload (1 KiB puts and point gets, 1:1) for `d`; ops/s.
fn foreground(s: &StorageEngine, n: usize, d: Duration, while_rotating: bool) -> f64 {
    let v = vec![0x24u8; 1024];
    let start = Instant::now();
    let mut ops = 0u64;
    let mut i = 0usize;
    while start.elapsed() < d {
        if while_rotating && !s.rotation_in_progress() {
            break;
        }
        i = (i + 7919) % n;
        s.put(format!("rec{i:09}").as_bytes(), &v).expect("put");
        std::hint::black_box(
            s.get(format!("rec{:09}", (i * 31) % n).as_bytes())
                .expect("get"),
        );
        ops += 2;
    }
    ops as f64 / start.elapsed().as_secs_f64()
}

/// (walk MB/s, walk time, total time): the walk is the re-encryption of all
/// records; the total adds the final flush + full compaction that purges old
/// ciphertext from the files, and the retirement of the old key.
fn reencrypt(s: &StorageEngine, records: u64) -> (f64, Duration, Duration) {
    let start = Instant::now();
    s.rotate_data_key().expect("rotate");
    let mut walk = None;
    let mut bytes = 0;
    // Poll every 5 ms (wait_for_rotation polls at 100 ms, too coarse here).
    while let Some(st) = s.rotation_progress() {
        if walk.is_none() && st.records_done >= records {
            walk = Some(start.elapsed());
            bytes = st.bytes_done;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let total = start.elapsed();
    let walk = walk.unwrap_or(total);
    (bytes as f64 / walk.as_secs_f64() / 1e6, walk, total)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing for test harnesses to list
    }
    const N: usize = 200_000; // 1 KiB records: ~200 MB of values
    println!("\n## Rotation benchmark\n");
    println!("| measurement | value |");
    println!("|---|---:|");

    // Re-encryption throughput, unthrottled and at the default throttle (256 MiB/s).
    for (label, rate) in [("unthrottled", Some(1_000_000)), ("default throttle", None)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = engine(dir.path(), rate, 1);
        load(&s, N, 1024);
        let (mbs, walk, total) = reencrypt(&s, N as u64);
        println!(
            "| re-encryption, {label}: {N} × 1 KiB records | {mbs:.0} MB/s (walk {:.2} s; with final purge and compaction {:.2} s) |",
            walk.as_secs_f64(),
            total.as_secs_f64()
        );
    }

    // Foreground throughput during re-encryption at the default throttle vs idle.
    let dir = tempfile::tempdir().expect("tempdir");
    let s = engine(dir.path(), None, 2);
    load(&s, N, 1024);
    let idle = foreground(&s, N, Duration::from_secs(3), false);
    s.rotate_data_key().expect("rotate");
    let busy = foreground(&s, N, Duration::from_secs(3), true);
    assert!(s
        .wait_for_rotation(Duration::from_secs(600), |_| {})
        .expect("wait"));
    println!("| foreground put+get, idle | {idle:.0} ops/s |");
    println!("| foreground put+get, during re-encryption (default throttle) | {busy:.0} ops/s ({:.0} % of idle) |", busy / idle * 100.0);

    // KEK rotation: time independent of data size.
    for n in [10_000usize, 1_000_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = engine(dir.path(), None, 3);
        load(&s, n, 16);
        let mut best = Duration::MAX;
        for seed in 10..15u8 {
            let km = KeyManager::from_key(
                SecretKey::from_bytes([seed; 32]),
                Some(format!("kek {seed}")),
            );
            let t = Instant::now();
            s.rotate_encryption_key(&km).expect("rotate kek");
            best = best.min(t.elapsed());
        }
        println!(
            "| KEK rotation with {n} records | {:.2} ms |",
            best.as_secs_f64() * 1e3
        );
    }
    println!();
}

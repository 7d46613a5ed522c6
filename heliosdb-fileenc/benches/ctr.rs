//! The file layer's cost.
//!
//! * `keystream/*`: MB/s of `Stream::xor` (AES-256-CTR through the `ctr`
//!   crate, what every RocksDB read and write runs) against the floor, raw
//!   AES-256 block encryption of the same number of blocks with the same
//!   `aes` crate (AES-NI when the CPU has it).
//! * `rocksdb/*`: put of 64 B values, point get and a 1,000-row scan on a
//!   database through the encrypted env and on a plain one, the two variants
//!   of each operation measured next to each other in the same run. The
//!   block cache is 1 MiB against ~20 MB of data, so reads go to files and
//!   pay for decryption.
//!
//! Run: `./dev cargo bench -p heliosdb-fileenc --bench ctr`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use aes::cipher::{BlockEncrypt, KeyInit};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use heliosdb_crypto::SecretKey;
use heliosdb_fileenc::{EncryptedEnv, MemoryFileKeys, Stream};
use rand::{Rng, SeedableRng};
use rocksdb::{BlockBasedOptions, Cache, Options, DB};

fn keystream(c: &mut Criterion) {
    let stream = Stream::new(&SecretKey::from_bytes([0x42; 32]), [7; 16]);
    let aes = aes::Aes256::new(&[0x42; 32].into());
    let mut group = c.benchmark_group("keystream");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for size in [64usize, 4096, 65536] {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0u8; size];
        group.bench_with_input(BenchmarkId::new("ctr_xor", size), &size, |b, _| {
            b.iter(|| stream.xor(black_box(8192), black_box(&mut buf)))
        });
        // An unaligned offset: RocksDB's appends start anywhere.
        group.bench_with_input(
            BenchmarkId::new("ctr_xor_unaligned", size),
            &size,
            |b, _| b.iter(|| stream.xor(black_box(8197), black_box(&mut buf))),
        );
        let mut blocks = vec![aes::Block::default(); size / 16];
        group.bench_with_input(BenchmarkId::new("aes_blocks_floor", size), &size, |b, _| {
            b.iter(|| aes.encrypt_blocks(black_box(&mut blocks)))
        });
    }
    group.finish();
}

const ROWS: u64 = 200_000;

fn key(i: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(b"row-key-");
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

fn configure(opts: &mut Options) {
    opts.create_if_missing(true);
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(&Cache::new_lru_cache(1 << 20));
    opts.set_block_based_table_factory(&table);
}

fn fill(db: &DB) {
    let value = [0x5Au8; 100];
    for i in 0..ROWS {
        db.put(key(i), value).unwrap();
    }
    db.flush().unwrap();
    db.compact_range(None::<&[u8]>, None::<&[u8]>);
}

fn rocksdb_ops(c: &mut Criterion) {
    let keys = Arc::new(MemoryFileKeys::new(1, SecretKey::from_bytes([0x11; 32])));
    let env = EncryptedEnv::new(keys).unwrap();
    let plain_dir = tempfile::tempdir().unwrap();
    let enc_dir = tempfile::tempdir().unwrap();
    let mut plain_opts = Options::default();
    configure(&mut plain_opts);
    let mut enc_opts = env.options().unwrap();
    configure(&mut enc_opts);
    let plain = DB::open(&plain_opts, plain_dir.path()).unwrap();
    let enc = DB::open(&enc_opts, enc_dir.path()).unwrap();
    fill(&plain);
    fill(&enc);
    let dbs = [("plain", &plain), ("encrypted", &enc)];

    let mut group = c.benchmark_group("rocksdb");
    group
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    let value64 = [0xA5u8; 64];
    for (name, db) in dbs {
        let mut n = ROWS;
        group.bench_function(BenchmarkId::new("put_64B", name), |b| {
            b.iter(|| {
                n += 1;
                db.put(key(n), value64).unwrap()
            })
        });
    }
    for (name, db) in dbs {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        group.bench_function(BenchmarkId::new("get", name), |b| {
            b.iter(|| black_box(db.get(key(rng.gen_range(0..ROWS))).unwrap()))
        });
    }
    for (name, db) in dbs {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        group.bench_function(BenchmarkId::new("scan_1000", name), |b| {
            b.iter(|| {
                let mut it = db.raw_iterator();
                it.seek(key(rng.gen_range(0..ROWS - 1000)));
                let mut bytes = 0;
                for _ in 0..1000 {
                    bytes += it.value().unwrap().len();
                    it.next();
                }
                black_box(bytes)
            })
        });
    }
    group.finish();
    drop(plain);
    drop(enc);
    drop(env);
}

criterion_group!(benches, keystream, rocksdb_ops);
criterion_main!(benches);

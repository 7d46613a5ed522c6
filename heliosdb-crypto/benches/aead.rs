//! AEAD and nonce micro-benchmarks: sealing and opening 64 B, 1 KiB and
//! 16 KiB with `ring` and RustCrypto `aes-gcm`, and drawing nonces in both
//! modes.
//!
//! A backend compiled into this build is measured through `Aead` (what the
//! database runs); one that is not is measured through its crate directly
//! (both are dev-dependencies), with the same in-place calls `Aead` makes.
//!
//! Run: `./dev cargo bench -p heliosdb-crypto --bench aead`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use heliosdb_crypto::{random_nonce, Aead, Backend, NonceMode, SecretKey, TAG_LEN};

const SIZES: [usize; 3] = [64, 1024, 16384];
const KEY: [u8; 32] = [0x42; 32];
const NONCE: [u8; 12] = [0x24; 12];
const AAD: &[u8] = b"cf=rows/key=0000000000000042";

/// One AES-256-GCM implementation under test.
enum Impl {
    Ours(Aead),
    Ring(Box<ring::aead::LessSafeKey>),
    RustCrypto(Box<aes_gcm::Aes256Gcm>),
}

impl Impl {
    fn new(backend: Backend) -> Self {
        if let Some(aead) = Aead::with_backend(&SecretKey::from_bytes(KEY), backend) {
            return Impl::Ours(aead);
        }
        match backend {
            Backend::Ring => {
                use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
                Impl::Ring(Box::new(LessSafeKey::new(
                    UnboundKey::new(&AES_256_GCM, &KEY).unwrap(),
                )))
            }
            Backend::RustCrypto => {
                use aes_gcm::KeyInit;
                Impl::RustCrypto(Box::new(aes_gcm::Aes256Gcm::new((&KEY).into())))
            }
        }
    }

    fn seal(&self, buf: &mut Vec<u8>) {
        match self {
            Impl::Ours(aead) => aead.seal_in_place(&NONCE, AAD, buf),
            Impl::Ring(key) => {
                use ring::aead::{Aad, Nonce};
                key.seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(NONCE),
                    Aad::from(AAD),
                    buf,
                )
                .unwrap();
            }
            Impl::RustCrypto(cipher) => {
                use aes_gcm::AeadInPlace;
                let tag = cipher
                    .encrypt_in_place_detached((&NONCE).into(), AAD, buf)
                    .unwrap();
                buf.extend_from_slice(&tag);
            }
        }
    }

    fn open(&self, buf: &mut Vec<u8>) {
        match self {
            Impl::Ours(aead) => aead.open_in_place(&NONCE, AAD, buf).unwrap(),
            Impl::Ring(key) => {
                use ring::aead::{Aad, Nonce};
                let len = key
                    .open_in_place(Nonce::assume_unique_for_key(NONCE), Aad::from(AAD), buf)
                    .unwrap()
                    .len();
                buf.truncate(len);
            }
            Impl::RustCrypto(cipher) => {
                use aes_gcm::AeadInPlace;
                let ct_len = buf.len() - TAG_LEN;
                let tag = aes_gcm::Tag::clone_from_slice(&buf[ct_len..]);
                cipher
                    .decrypt_in_place_detached((&NONCE).into(), AAD, &mut buf[..ct_len], &tag)
                    .unwrap();
                buf.truncate(ct_len);
            }
        }
    }
}

const BACKENDS: [Backend; 2] = [Backend::Ring, Backend::RustCrypto];

fn seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("aead/seal");
    for backend in BACKENDS {
        let imp = Impl::new(backend);
        for size in SIZES {
            let plaintext = vec![0xa5u8; size];
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::new(backend.name(), size), &size, |b, _| {
                b.iter_batched_ref(
                    || {
                        let mut buf = Vec::with_capacity(size + TAG_LEN);
                        buf.extend_from_slice(&plaintext);
                        buf
                    },
                    |buf| imp.seal(black_box(buf)),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("aead/open");
    for backend in BACKENDS {
        let imp = Impl::new(backend);
        for size in SIZES {
            let mut sealed = vec![0xa5u8; size];
            imp.seal(&mut sealed);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::new(backend.name(), size), &size, |b, _| {
                b.iter_batched_ref(
                    || sealed.clone(),
                    |buf| imp.open(black_box(buf)),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

fn nonce(c: &mut Criterion) {
    let mut group = c.benchmark_group("nonce");
    group.bench_function("fast", |b| {
        b.iter(|| random_nonce(black_box(NonceMode::Fast)).unwrap())
    });
    group.bench_function("os", |b| {
        b.iter(|| random_nonce(black_box(NonceMode::Os)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, seal, open, nonce);
criterion_main!(benches);

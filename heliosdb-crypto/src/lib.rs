//! AES-256-GCM, the record envelope, nonces and zeroizing key types for
//! HeliosDB Nano.
//!
//! This crate is the only place in the workspace that touches an AEAD. It does
//! no I/O (apart from asking the operating system for random bytes), knows
//! nothing about key sources, keyrings or RocksDB, and never formats a secret:
//! `Debug` of every type that holds key material prints `[REDACTED]` or only
//! non-secret fields.
//!
//! # What is here
//!
//! * [`SecretKey`]: a 256-bit key in a [`secrecy::SecretBox`], wiped on drop,
//!   parsed from hex in constant time.
//! * [`Aead`]: AES-256-GCM with the key schedule expanded once. The backend is
//!   [`ring`](Backend::Ring) by default (feature `ring`) or RustCrypto's
//!   `aes-gcm` (feature `rustcrypto`); both produce standard AES-256-GCM, so
//!   either opens what the other sealed.
//! * [`seal_envelope`] / [`open_envelope`]: the on-disk record envelope, see
//!   below.
//! * [`random_nonce`]: 96-bit random nonces from a fast thread-local ChaCha20
//!   CSPRNG seeded by the OS (reseeded after `fork`), or straight from the OS
//!   ([`NonceMode::Os`]).
//! * [`UsageCounter`]: counts encryptions under one data key against a
//!   persisted reservation, so that the layer above can retire a key before
//!   its nonce budget ([`DEFAULT_NONCE_BUDGET`]) runs out.
//!
//! # Record envelope, format version 1
//!
//! ```text
//! [ 1 byte version = 1 ][ 4 bytes DEK id, big-endian ][ 12 bytes nonce ][ ciphertext ][ 16 bytes GCM tag ]
//! ```
//!
//! The ciphertext is exactly as long as the plaintext, so every value grows by
//! [`OVERHEAD`] = 33 bytes: the 28 bytes of nonce and tag plus the 5-byte
//! header (version and DEK id) that lets a database hold values sealed under
//! several data keys during an online rotation.
//!
//! The associated data given to GCM is the 5 header bytes (version, DEK id)
//! followed by the caller's *context AAD* (in HeliosDB: column family and
//! record key). Copying a sealed value to another row, or rewriting its DEK id
//! or version, therefore fails authentication. The nonce is authenticated
//! implicitly, being GCM's IV.
//!
//! # Security caveats
//!
//! * **Nonce budget.** Nonces are random, 96 bits. NIST SP 800-38D caps the
//!   number of encryptions under one key with random nonces at 2^32; past
//!   that, the chance of a repeated nonce (which reveals the XOR of two
//!   plaintexts and the GHASH key, allowing forgeries) exceeds 2^-32. Count
//!   encryptions with [`UsageCounter`] and rotate to a fresh data key before
//!   [`DEFAULT_NONCE_BUDGET`] (2^32 - 2^26).
//! * **Fork and VM snapshots.** The fast nonce generator is reseeded in a
//!   child after `fork()` (via `pthread_atfork`), but nothing can notice a
//!   virtual machine being restored twice from one memory snapshot: both
//!   copies would draw the same nonces. Databases that run in snapshot-cloned
//!   VMs must use [`NonceMode::Os`] (one `getrandom` call per nonce, ≈ 0.4 µs).
//! * **Key schedules.** [`SecretKey`] is wiped on drop. The RustCrypto backend
//!   wipes its AES round keys on drop (the `zeroize` feature of `aes` is
//!   switched on), but its GHASH key is not wiped by `polyval` 0.6. `ring`
//!   does not zeroize its expanded key schedule at all. Build one [`Aead`] per
//!   key and keep it for the key's lifetime rather than creating many copies.
//! * **Opaque errors.** [`Error::Authentication`] carries no detail: a wrong
//!   key, a flipped bit and a value moved to another row look the same. The
//!   layer above adds which table and record failed.

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!("heliosdb-crypto needs an AEAD backend: enable feature `ring` or `rustcrypto`");

mod aead;
mod counter;
mod envelope;
mod error;
mod key;
mod nonce;

pub use crate::aead::{Aead, Backend};
pub use crate::counter::{NeedReservation, UsageCounter, DEFAULT_NONCE_BUDGET};
pub use crate::envelope::{envelope_dek_id, open_envelope, seal_envelope, DekId, EnvelopeHeader};
pub use crate::error::{Error, Result};
pub use crate::key::SecretKey;
pub use crate::nonce::{fill_random, random_nonce, NonceMode};

/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;

/// Length of a GCM nonce (IV) in bytes: 96 bits, the size GCM is designed for.
pub const NONCE_LEN: usize = 12;

/// Length of a GCM authentication tag in bytes (full 128-bit tags only).
pub const TAG_LEN: usize = 16;

/// Format version byte of the record envelope described in the crate docs.
pub const ENVELOPE_VERSION_V1: u8 = 1;

/// Length of the envelope header: version (1) + DEK id (4) + nonce (12) = 17.
pub const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// Bytes an envelope adds to a plaintext: [`HEADER_LEN`] + [`TAG_LEN`] = 33.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

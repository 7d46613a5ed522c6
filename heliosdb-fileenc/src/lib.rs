//! File-level encryption of every file RocksDB writes: AES-256-CTR under a
//! *file key*, through RocksDB's own plug-in point (`rocksdb/env_encryption.h`:
//! `EncryptionProvider`, `BlockAccessCipherStream`, `NewEncryptedEnv`).
//!
//! WAL, SST, MANIFEST, OPTIONS, CURRENT, IDENTITY, blob files and the info
//! `LOG` all pass through the encrypted env, so neither record keys nor
//! values appear in plaintext anywhere under the data directory. (The `LOCK`
//! file is created empty and never written.) The info `LOG` needed help:
//! RocksDB's encrypted file system hands `NewLogger` to the base file system,
//! which writes it in plaintext, so the shim wraps the encrypted file system
//! and builds the logger on an encrypted writable file. Under the encryption
//! the operating system's files report a buffer alignment of 1 when they are
//! not opened for direct I/O: RocksDB encrypts each append in a copy rounded
//! up to that alignment (plus the alignment), 8 KiB per small WAL record
//! with the POSIX default of 4 KiB.
//!
//! ```no_run
//! use std::sync::Arc;
//! use heliosdb_crypto::SecretKey;
//! use heliosdb_fileenc::{EncryptedEnv, MemoryFileKeys};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = Arc::new(MemoryFileKeys::new(1, SecretKey::generate()?));
//! let env = EncryptedEnv::new(keys)?;
//! // Fresh options with the env installed; configure everything else on them.
//! let mut opts = env.options()?;
//! opts.create_if_missing(true);
//! let db = rocksdb::DB::open(&opts, "data")?;
//! db.put(b"k", b"v")?;
//! drop(db); // before `env`
//! # Ok(()) }
//! ```
//!
//! # How the env reaches rust-rocksdb
//!
//! rust-rocksdb has no API for a custom C++ `Env`. RocksDB itself, though,
//! parses the `env` option of an options string with `Env::CreateFromString`,
//! which looks the name up in its object registry. The C++ shim registers
//! (once per process) a factory for names `heliosdb-fileenc:<n>` that returns
//! the env of live instance `n`, and [`EncryptedEnv::options`] calls
//! `Options::get_options_from_string("env=heliosdb-fileenc:<n>")`. No private
//! type of rust-rocksdb is touched.
//!
//! # Power-loss simulation (feature `fault-injection`, tests only)
//!
//! A process crash loses nothing the kernel already has; a power loss also
//! loses what was written but never synced. To test the second,
//! `EncryptedEnv::with_power_loss` builds the same encrypted env on top of
//! RocksDB's own `FaultInjectionTestFS` (`utilities/fault_injection_fs.h`,
//! compiled into librocksdb-sys's library) and returns a `PowerLoss`
//! handle with it:
//!
//! ```text
//! encrypted env ─► FaultInjectionTestFS ─► the operating system's files
//! ```
//!
//! The fault layer sits **under** the encryption, so the bytes it holds
//! back are ciphertext — the bytes a real power loss keeps off the disk.
//! Every byte appended to a file stays in memory until the file is synced;
//! `PowerLoss::cut` turns the power off (every later write, sync, create,
//! rename or delete fails); after the database is closed,
//! `PowerLoss::restore` throws the unsynced bytes away, deletes the files
//! created since their directory was last synced and puts back files a
//! rename replaced since then. The directory then holds what a power loss at
//! the moment of `cut` would have left, and any ordinary env reopens it.
//! One adjustment was needed: the fault layer reports a writable file's size
//! without its unsynced bytes, and the encrypted file system takes each
//! append's keystream offset from that size, so the shim puts a small layer
//! between the two that reports the size a kernel would.
//!
//! Files written outside RocksDB (the engine's keyring file, written with
//! its own fsyncs) do not pass through the fault layer.
//!
//! # File format (version 1)
//!
//! Every file starts with a 4096-byte header ([`PREFIX_LEN`]); RocksDB's
//! offsets, and the keystream's, start after it. Integers are big-endian.
//!
//! | bytes    | field                                                        |
//! |----------|--------------------------------------------------------------|
//! | 0..8     | magic `HELIOSFE`                                             |
//! | 8..10    | format version, 1                                            |
//! | 10..12   | flags, 0                                                     |
//! | 12..16   | file key id                                                  |
//! | 16..32   | IV, 128 random bits from the OS                              |
//! | 32..48   | check: HMAC-SHA256(K_check, bytes 0..32), first 16 bytes     |
//! | 48..4096 | zero                                                         |
//!
//! With `K` the file key, `K_enc = HMAC-SHA256(K, "heliosdb-fileenc v1
//! aes-256-ctr key")` and `K_check = HMAC-SHA256(K, "heliosdb-fileenc v1
//! header check key")`. Byte `i` of the data is XORed with byte `i mod 16` of
//! `AES-256(K_enc, IV + floor(i / 16) mod 2^128)`, the counter block being
//! the 128-bit big-endian sum.
//!
//! The check value makes a file written under another key with the same id
//! (say, an SST copied in from another database) a clear `Corruption` error
//! instead of garbage, and covers the IV and key id against edits.
//!
//! # Security notes
//!
//! * CTR is malleable and RocksDB's checksums are not keyed: this layer gives
//!   confidentiality only. Authenticity of records is the record layer's job
//!   (AES-256-GCM per value, above RocksDB).
//! * A fresh random IV per file; RocksDB never rewrites a byte of a file in
//!   place, so a keystream position is used once per file. The counter space
//!   per file (2^128 blocks from a random start) is not a limit in practice.
//! * Keys are never copied into C++: the shim holds opaque handles, and
//!   expanded key schedules are wiped on drop (`aes`'s `zeroize` feature).
//!   No error message or `Debug` output contains key material.

// The FFI boundary with the C++ shim needs `unsafe`; it is confined to
// `ffi.rs`, the calls in this file and those in `power_loss.rs` (tests
// only), each with its safety argument.
#![allow(unsafe_code)]

mod error;
mod ffi;
mod format;
mod keys;
#[cfg(feature = "fault-injection")]
mod power_loss;

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

// Linked for its RocksDB archive and headers (see Cargo.toml).
use librocksdb_sys as _;

pub use error::{Error, HeaderError, Result};
pub use format::{Stream, MAGIC, PREFIX_LEN, VERSION};
pub use keys::{FileKeys, MemoryFileKeys};
#[cfg(feature = "fault-injection")]
pub use power_loss::PowerLoss;

/// The name under which the shim registers its env factory in RocksDB's
/// object registry; an instance is `heliosdb-fileenc:<n>`.
pub const ENV_SCHEME: &str = "heliosdb-fileenc";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A RocksDB `Env` that encrypts every file it writes and decrypts every file
/// it reads, with keys from a [`FileKeys`].
///
/// # Safety rule for callers
///
/// RocksDB holds the env by raw pointer. **The `EncryptedEnv` must outlive
/// every database opened with its [`options`](Self::options)**: drop (or
/// close) the `DB` first. Dropping the `EncryptedEnv` deletes the C++ env;
/// a database still using it would use freed memory. Keep the two in one
/// struct with the database field declared first (fields drop in order).
#[derive(Debug)]
pub struct EncryptedEnv {
    id: u64,
}

impl EncryptedEnv {
    /// Creates the env and registers it with RocksDB.
    ///
    /// # Errors
    ///
    /// [`Error::CurrentKeyMissing`] if `keys.get(keys.current().0)` is
    /// `None`; [`Error::Env`] if RocksDB refuses the env.
    pub fn new(keys: Arc<dyn FileKeys>) -> Result<EncryptedEnv> {
        Self::create(keys, ffi::heliosdb_fileenc_env_create)
    }

    /// Makes the env with one of the shim's constructors, which share their
    /// signature and contract (see `heliosdb_fileenc_env_create`).
    pub(crate) fn create(
        keys: Arc<dyn FileKeys>,
        make: unsafe extern "C" fn(*const c_void, u64, *mut c_char, usize) -> c_int,
    ) -> Result<EncryptedEnv> {
        let (current, _) = keys.current();
        if keys.get(current).is_none() {
            return Err(Error::CurrentKeyMissing(current));
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let ctx = Arc::into_raw(Arc::new(ffi::Ctx { keys }));
        let mut err = [0 as c_char; 512];
        // SAFETY: the shim takes over the one reference `ctx` holds whatever
        // the outcome (see heliosdb_fileenc_env_create); `err` is writable
        // for its length.
        let code = unsafe { make(ctx.cast(), id, err.as_mut_ptr(), err.len()) };
        if code != ffi::OK {
            // SAFETY: the shim NUL-terminates what it writes; the buffer
            // started zeroed.
            let msg = unsafe { CStr::from_ptr(err.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            return Err(Error::Env(msg));
        }
        Ok(EncryptedEnv { id })
    }

    /// The value of RocksDB's `env` option that names this env,
    /// `heliosdb-fileenc:<n>`, for callers composing their own options
    /// string.
    pub fn env_id(&self) -> String {
        format!("{ENV_SCHEME}:{}", self.id)
    }

    /// Fresh RocksDB options (all defaults) with this env installed.
    ///
    /// They are new options, not a modification of existing ones: set
    /// `create_if_missing`, the block cache, column-family options and the
    /// rest on the returned value. Do not call `set_env` on them, which would
    /// replace the encrypted env.
    ///
    /// # Errors
    ///
    /// [`Error::Options`] if RocksDB cannot resolve the env name (which
    /// would be a bug: the name is registered for as long as `self` lives).
    pub fn options(&self) -> Result<rocksdb::Options> {
        rocksdb::Options::default()
            .get_options_from_string(format!("env={}", self.env_id()))
            .map_err(Error::Options)
    }

    /// Reads the header of a file written through an encrypted env and
    /// returns the id of the file key it is encrypted under, or `None` if the
    /// file is empty (RocksDB's `LOCK`). Needs no key: the id is not secret.
    /// For rotation proofs ("no live file names key 3") and key status.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read; [`Error::Header`] if it is
    /// not an encrypted file (too short, bad magic, unknown version).
    pub fn file_key_id(path: impl AsRef<Path>) -> Result<Option<u32>> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut prefix = Vec::with_capacity(PREFIX_LEN);
        file.by_ref()
            .take(PREFIX_LEN as u64)
            .read_to_end(&mut prefix)
            .map_err(io)?;
        if prefix.is_empty() {
            return Ok(None);
        }
        format::Header::parse(&prefix)
            .map(|h| Some(h.key_id))
            .map_err(|reason| Error::Header {
                path: path.to_owned(),
                reason,
            })
    }
}

/// Reads a whole file written through an encrypted env and returns its
/// plaintext (the view of someone who holds the file keys: tools, and
/// tests that check what the record layer leaves in the files). `None` for
/// an empty file (RocksDB's `LOCK`).
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read; [`Error::Header`] if it is not
/// an encrypted file or its key is unknown or different.
pub fn decrypt_file(keys: &dyn FileKeys, path: impl AsRef<Path>) -> Result<Option<Vec<u8>>> {
    let path = path.as_ref();
    let mut bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let header_error = |reason| Error::Header {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < PREFIX_LEN {
        return Err(header_error(HeaderError::Truncated {
            len: bytes.len(),
            need: PREFIX_LEN,
        }));
    }
    let stream = format::Stream::open(keys, &bytes[..PREFIX_LEN]).map_err(header_error)?;
    let mut data = bytes.split_off(PREFIX_LEN);
    // RocksDB hands the stream physical file offsets, header included.
    stream.xor(PREFIX_LEN as u64, &mut data);
    Ok(Some(data))
}

impl EncryptedEnv {
    /// Rewrites a small file under the current file key (read through this
    /// env, written to a temporary file with a fresh header, synced, renamed
    /// over the original, directory synced).
    ///
    /// For file-key rotation: compaction moves SSTs to the new key and a
    /// reopen writes a new MANIFEST, CURRENT, OPTIONS and WAL, but RocksDB
    /// writes `IDENTITY` once when the database is created and reads it at
    /// every open, so it stays under the first key until rewritten; older
    /// `OPTIONS-*` files and `LOG.old.*` files also linger (those can be
    /// deleted instead). Call it on a file nothing is writing: with the
    /// database closed, or for `IDENTITY` at any time.
    ///
    /// # Errors
    ///
    /// [`Error::Reencrypt`] with RocksDB's message (for example the file's
    /// key is not in the keyring, or the path does not exist).
    pub fn reencrypt_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let fail = |message: String| Error::Reencrypt {
            path: path.to_owned(),
            message,
        };
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| fail("path contains a NUL byte".to_owned()))?;
        let mut err = [0 as c_char; 512];
        // SAFETY: the env of `self.id` is alive while `self` is; both
        // buffers are valid and NUL-terminated / writable for their length.
        let code = unsafe {
            ffi::heliosdb_fileenc_reencrypt_file(
                self.id,
                c_path.as_ptr(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if code == ffi::OK {
            return Ok(());
        }
        // SAFETY: the shim NUL-terminates what it writes; the buffer started
        // zeroed.
        Err(fail(
            unsafe { CStr::from_ptr(err.as_ptr()) }
                .to_string_lossy()
                .into_owned(),
        ))
    }
}

impl Drop for EncryptedEnv {
    fn drop(&mut self) {
        // SAFETY: per the type's documented rule no database uses the env
        // any more; the shim forgets the id and deletes the env.
        unsafe { ffi::heliosdb_fileenc_env_destroy(self.id) };
    }
}

//! The crate's error type.

use std::path::PathBuf;

/// Why a file's encryption header was refused.
///
/// These are the messages RocksDB reports (inside its `Status`) when it opens
/// a file through the encrypted env, and what [`crate::EncryptedEnv::file_key_id`]
/// returns. None of them carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The file ends inside its 4096-byte header.
    #[error(
        "file is shorter than its {need}-byte encryption header ({len} bytes): truncated, or not written by heliosdb-fileenc"
    )]
    Truncated {
        /// Bytes available.
        len: usize,
        /// Bytes the header needs ([`crate::PREFIX_LEN`]).
        need: usize,
    },
    /// The first eight bytes are not the header's magic.
    #[error(
        "not a HeliosDB encrypted file (bad magic): written without file encryption, or damaged"
    )]
    BadMagic,
    /// A format version this build does not read.
    #[error("unsupported file-encryption format version {0} (this build reads version 1)")]
    UnsupportedVersion(u16),
    /// Flags or padding that must be zero are not.
    #[error("file-encryption header has non-zero reserved bytes: damaged")]
    Reserved,
    /// The keyring has no file key with the id the header names.
    #[error("file key id {0} is not in the keyring")]
    UnknownKey(u32),
    /// The header's key check value does not verify under the keyring's key
    /// of that id: the file was encrypted under another key that has the same
    /// id (for example a file copied in from another database), or the header
    /// was modified.
    #[error(
        "file-encryption header check failed for file key id {0}: the file was encrypted under a different key with that id (copied from another database?) or its header was modified"
    )]
    KeyMismatch(u32),
}

/// Errors returned by `heliosdb-fileenc`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// RocksDB refused to create or register the encrypted env.
    #[error("cannot create the encrypted RocksDB env: {0}")]
    Env(String),

    /// `FileKeys::current` named a key id that `FileKeys::get` does not know.
    #[error("the current file key id {0} is not in the keyring")]
    CurrentKeyMissing(u32),

    /// RocksDB did not accept the options string that installs the env.
    #[error("cannot install the encrypted env in RocksDB options")]
    Options(#[source] rocksdb::Error),

    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// RocksDB could not rewrite a file under the current key.
    #[error("cannot re-encrypt {}: {message}", path.display())]
    Reencrypt {
        /// The file.
        path: PathBuf,
        /// RocksDB's status message.
        message: String,
    },

    /// The power-loss simulation (feature `fault-injection`) failed: RocksDB's
    /// message.
    #[cfg(feature = "fault-injection")]
    #[error("power-loss simulation: {0}")]
    PowerLoss(String),

    /// A file's encryption header is malformed. The reason is part of the
    /// message (and not a `source`, so that it is printed once).
    #[error("{}: {reason}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong with its header.
        reason: HeaderError,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

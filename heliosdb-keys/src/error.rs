//! Errors of key sources and the keyring.

use std::fmt;

/// What went wrong talking to a KMS, sorted into the few cases a user can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsErrorKind {
    /// The KMS key exists but did not wrap this blob (or is the wrong type).
    WrongKey,
    /// Credentials are missing or not allowed to use the key.
    AccessDenied,
    /// The service could not be reached or answered with a server error / throttling.
    Unavailable,
    /// The key (or key version) does not exist.
    NotFound,
}

impl KmsErrorKind {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, KmsErrorKind::Unavailable)
    }
}

impl fmt::Display for KmsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KmsErrorKind::WrongKey => "wrong key",
            KmsErrorKind::AccessDenied => "access denied",
            KmsErrorKind::Unavailable => "unavailable",
            KmsErrorKind::NotFound => "not found",
        })
    }
}

/// Errors of this crate. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tutorial's message, verbatim.
    #[error("Environment variable '{0}' not found")]
    EnvNotFound(String),
    /// Key parsing errors from the crypto layer (e.g. the tutorial's
    /// "Hex key must be 64 characters (32 bytes), got N").
    #[error(transparent)]
    Crypto(#[from] heliosdb_crypto::Error),
    /// The tutorial's "Failed to read key file: Permission denied", plus the path.
    #[error("Failed to read key file: {reason} ({path})")]
    KeyFileRead { path: String, reason: String },
    /// A key file other users can read is refused.
    #[error(
        "key file {path} is readable by other users (mode {mode:03o}); run `chmod 400 {path}`"
    )]
    KeyFileInsecure { path: String, mode: u32 },
    /// A key file must hold 64 hex characters or 32 raw bytes.
    #[error("key file {path} must hold 64 hex characters or 32 raw bytes, found {len} bytes")]
    KeyFileFormat { path: String, len: usize },
    /// The supplied key does not open this keyring. Checked before any record is read.
    #[error("wrong key: {supplied} does not unlock this database{}", opens_with_note(.opens_with))]
    WrongKey {
        /// The source that was tried (secret-free description).
        supplied: String,
        /// Descriptions of the sources that do open it, when known.
        opens_with: Vec<String>,
    },
    /// The keyring bytes are damaged or not a keyring.
    #[error("keyring is corrupt: {0}")]
    KeyringCorrupt(String),
    /// A keyring written by a newer version of HeliosDB Nano.
    #[error("keyring format version {found} is newer than this build supports ({supported})")]
    KeyringVersion { found: u32, supported: u32 },
    /// Password key derivation failed (bad parameters).
    #[error("password key derivation failed: {0}")]
    Kdf(String),
    /// A classified KMS failure.
    #[error("{provider} KMS {kind}: {message}")]
    Kms {
        provider: String,
        kind: KmsErrorKind,
        message: String,
    },
    /// A request the source or keyring cannot serve.
    #[error("{0}")]
    Unsupported(String),
    /// The keyring refuses an operation that would break an invariant
    /// (e.g. removing the last KEK).
    #[error("{0}")]
    Invariant(String),
}

fn opens_with_note(opens_with: &[String]) -> String {
    if opens_with.is_empty() {
        String::new()
    } else {
        format!(" (it opens with: {})", opens_with.join("; "))
    }
}

impl Error {
    /// A wrong-key error for `supplied` with no further hint.
    pub fn wrong_key(supplied: impl ToString) -> Self {
        Error::WrongKey {
            supplied: supplied.to_string(),
            opens_with: Vec::new(),
        }
    }

    /// Whether retrying the same call later may succeed (only KMS outages).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Kms { kind, .. } if kind.is_retryable())
    }
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

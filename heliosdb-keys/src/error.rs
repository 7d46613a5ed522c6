//! Errors of key sources and the keyring.

use std::fmt;

/// What went wrong talking to a KMS, sorted into the few cases a user can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsErrorKind {
    /// The KMS key exists and is usable but did not wrap this blob (or is
    /// the wrong type). Only for "this key did not wrap this blob" answers
    /// (AWS `InvalidCiphertextException`/`IncorrectKeyException`, GCP
    /// `INVALID_ARGUMENT` on decrypt, Azure/Vault equivalents): it sends the
    /// operator looking for another key.
    WrongKey,
    /// Credentials are missing or not allowed to use the key.
    AccessDenied,
    /// The service could not be reached or answered with a server error / throttling.
    Unavailable,
    /// The key (or key version) does not exist.
    NotFound,
    /// The key exists but cannot be used in its current state: disabled,
    /// destroyed or scheduled for destruction, pending deletion, or in
    /// another state the KMS refuses to use. The fix is on the key: enable
    /// the key (or key version) or cancel its deletion.
    ///
    /// Not retryable. AWS answers `KMSInvalidStateException` both for
    /// these states and, transiently, for keys in a CloudHSM custom key
    /// store whose cluster is briefly unreachable; it is classified here
    /// rather than as [`Unavailable`](Self::Unavailable) because a disabled
    /// or pending-deletion key is the common case and retrying it only
    /// delays the message that names the fix. The AWS SDK's own retry
    /// policy does not retry it either.
    KeyUnusable,
    /// The service rejected the request for a reason that is neither the
    /// key's state nor the credentials (an unrecognised 4xx: a malformed
    /// request, an unsupported algorithm, a quota that is not throttling).
    /// Not "wrong key": nothing says another key would help.
    InvalidRequest,
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
            KmsErrorKind::KeyUnusable => {
                "key unusable in its current state (enable the key or key version, \
                 or cancel its scheduled deletion)"
            }
            KmsErrorKind::InvalidRequest => "request rejected",
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
    /// A new KEK slot was refused: the new key source could not unwrap the
    /// root key it had just wrapped (an identity allowed to encrypt but not
    /// to decrypt), or unwrapped it to another key. Nothing was written.
    ///
    /// The cause is part of the message rather than a `source()`: users see
    /// one line, and the CLI's `{:#}` chain would print it twice.
    #[error(
        "the new key-encryption key ({key}) cannot decrypt: {reason}; {hint}. \
         Nothing was changed: the database still opens with its current key"
    )]
    NewKeyCannotDecrypt {
        /// The new source (secret-free description).
        key: String,
        /// Why the test unwrap failed (a classified KMS error, or "returned a different key").
        reason: String,
        /// What to do about it, e.g. which permission to grant.
        hint: String,
    },
    /// A KMS slot of the keyring records a routing or trust option (an
    /// endpoint, address, CA file, challenge check) that differs from the
    /// one the caller configured. The database does not get to choose where
    /// the caller's credentials go.
    #[error(
        "the keyring's {provider} KMS slot records {option} = {recorded:?}, but you gave \
         {option} = {supplied:?}; a database does not choose where your credentials go: \
         to use yours, name the key explicitly (--kms {provider}:KEY_ID)"
    )]
    KmsOptionMismatch {
        /// The KMS provider.
        provider: String,
        /// The option name.
        option: String,
        /// The value the keyring records (untrusted).
        recorded: String,
        /// The value the caller gave.
        supplied: String,
    },
    /// A KMS slot's key id carries where to reach the key (Azure's vault
    /// URL) and the caller did not confirm it.
    #[error(
        "the keyring's {provider} KMS slot names a key at {value:?}; where your credentials go \
         comes from you, not from the database: if you trust it, give {option} = {value:?} in \
         [encryption.kms] or --kms-option {option}={value}"
    )]
    KmsRoutingNotConfirmed {
        /// The KMS provider.
        provider: String,
        /// The option the caller must give.
        option: String,
        /// The value the slot names (untrusted).
        value: String,
    },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_is_retryable() {
        for kind in [
            KmsErrorKind::WrongKey,
            KmsErrorKind::AccessDenied,
            KmsErrorKind::NotFound,
            KmsErrorKind::KeyUnusable,
            KmsErrorKind::InvalidRequest,
        ] {
            assert!(!kind.is_retryable(), "{kind:?}");
        }
        assert!(KmsErrorKind::Unavailable.is_retryable());
    }

    #[test]
    fn key_unusable_names_the_fix() {
        let e = Error::Kms {
            provider: "aws".into(),
            kind: KmsErrorKind::KeyUnusable,
            message: "Decrypt: KMSInvalidStateException: key is disabled".into(),
        };
        let s = e.to_string();
        assert!(s.contains("enable the key"), "{s}");
        assert!(s.contains("cancel its scheduled deletion"), "{s}");
        assert!(!s.contains("wrong key"), "{s}");
        assert!(!e.is_retryable());
        let e = Error::Kms {
            provider: "gcp".into(),
            kind: KmsErrorKind::InvalidRequest,
            message: "Decrypt: 400 FAILED_PRECONDITION".into(),
        };
        assert!(!e.to_string().contains("wrong key"), "{e}");
    }
}

//! The crate's error type.
//!
//! Variants are deliberately coarse. In particular [`Error::Authentication`]
//! says nothing about *why* a value failed to open, so that error messages
//! cannot become an oracle; the layer above adds which table and record.

/// Errors returned by `heliosdb-crypto`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The GCM tag did not verify: wrong key, wrong context AAD, or a value
    /// that was modified, truncated inside its body, or moved. Deliberately
    /// opaque.
    #[error("Authentication tag verification failed")]
    Authentication,

    /// An envelope shorter than the fixed overhead, so it cannot hold a
    /// header and a tag.
    #[error("encrypted value is truncated ({len} bytes, need at least {min})")]
    Truncated {
        /// Length of the value that was given.
        len: usize,
        /// Minimum length of a valid value ([`crate::OVERHEAD`]).
        min: usize,
    },

    /// The envelope's first byte names a format version this build does not
    /// know.
    #[error("unknown envelope format version {0}")]
    UnknownVersion(u8),

    /// A hex key whose length (in characters, after trimming surrounding
    /// whitespace) is not 64. The message is the tutorial's, verbatim.
    #[error("Hex key must be 64 characters (32 bytes), got {0}")]
    HexLength(usize),

    /// A 64-character hex key containing a character that is not a hex digit.
    /// Which character, or where, is not reported: the string is a secret.
    #[error("key is not valid hexadecimal")]
    HexDigits,

    /// The operating system's random number generator (`getrandom`) failed.
    #[error("operating system random number generator failed")]
    Rng,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

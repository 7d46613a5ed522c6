//! Errors of the storage engine.

/// Errors of the storage engine. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Key source and keyring errors ("Environment variable '…' not found",
    /// "Hex key must be 64 characters (32 bytes), got N", wrong key, …).
    #[error(transparent)]
    Keys(#[from] heliosdb_keys::Error),
    /// A stored value failed authentication: tampered, swapped or damaged.
    /// `location` names the table (or key-value store) and the record.
    #[error("Decryption failed: {source} ({location})")]
    Decryption {
        /// Where: `table 'employees', primary key 1`, `key-value store, key "users:1"`, …
        location: String,
        /// The opaque crypto error.
        source: heliosdb_crypto::Error,
    },
    /// A value names a data key the keyring does not have.
    #[error("value at {location} is sealed with unknown data key {dek_id}")]
    UnknownDataKey {
        /// Where the value is.
        location: String,
        /// The DEK id in its header.
        dek_id: u32,
    },
    /// RocksDB failed.
    #[error("storage error: {0}")]
    Storage(#[from] rocksdb::Error),
    /// A configuration that cannot be used.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Encrypted database opened without encryption, or the reverse.
    #[error("{0}")]
    EncryptionMismatch(String),
    /// Stored bytes that do not decode (after authentication, this means a bug
    /// or a database written by an incompatible version).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The table does not exist.
    #[error("table '{0}' does not exist")]
    TableNotFound(String),
    /// The table already exists.
    #[error("table '{0}' already exists")]
    TableExists(String),
    /// A row with this primary key already exists.
    #[error("duplicate primary key in table '{table}': {key}")]
    DuplicateKey {
        /// The table.
        table: String,
        /// The primary key value.
        key: String,
    },
    /// Values that do not fit the schema.
    #[error("schema error: {0}")]
    Schema(String),
    /// Transaction misuse (nesting, commit without a transaction).
    #[error("transaction error: {0}")]
    Transaction(String),
    /// The transaction read data that a transaction committed after it
    /// began has changed (PostgreSQL's SQLSTATE 40001): nothing of it was
    /// written, and running it again is safe.
    #[error(
        "could not serialize access due to concurrent update (write conflict): {0}; nothing \
         was committed, retry the transaction"
    )]
    Conflict(String),
    /// Filesystem errors.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// JSON errors (e.g. exporting query results).
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<heliosdb_crypto::Error> for Error {
    fn from(e: heliosdb_crypto::Error) -> Self {
        Error::Keys(heliosdb_keys::Error::Crypto(e))
    }
}

/// Result of the storage engine.
pub type Result<T> = std::result::Result<T, Error>;

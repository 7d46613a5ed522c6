//! HeliosDB Nano: an embeddable database whose data is encrypted at rest
//! without the application changing a line.
//!
//! This crate is the public facade: it re-exports the paths the tutorial uses
//! (`heliosdb_nano::{Config, Result, Schema, Column, DataType, Tuple, Value}`,
//! `heliosdb_nano::storage::StorageEngine`, `heliosdb_nano::config::KeySource`,
//! `heliosdb_nano::crypto::KeyManager`) and builds the `heliosdb-nano` command.
//!
//! ```no_run
//! use heliosdb_nano::{Config, storage::StorageEngine};
//!
//! fn main() -> heliosdb_nano::Result<()> {
//!     let mut config = Config::default();
//!     config.encryption.enabled = true;
//!     config.encryption.key_source =
//!         heliosdb_nano::config::KeySource::Environment("HELIOSDB_ENCRYPTION_KEY".to_string());
//!     let storage = StorageEngine::open("./encrypted_db", &config)?;
//!     storage.put(b"test_key", b"sensitive_data")?;
//!     assert_eq!(storage.get(b"test_key")?.unwrap(), b"sensitive_data");
//!     Ok(())
//! }
//! ```

pub use heliosdb_core::{
    Catalog, Column, Config, DataType, Error, Result, Schema, StorageEngine, Tuple, Value,
};

/// Configuration types (`Config`, `KeySource`, the `[storage]`, `[encryption]`,
/// `[server]` and `[audit]` sections).
pub mod config {
    pub use heliosdb_core::config::*;
}

/// The storage engine and its views.
pub mod storage {
    pub use heliosdb_core::{
        import_sql, import_sql_with, restore, Catalog, Cf, DekStatus, DumpRole, EncryptionStatus,
        ExportOptions, ExportStats, ImportOptions, ImportStats, KekRotation, KeyInfo, RawView,
        RotationStatus, SessionContext, SlotStatus, StorageEngine, Transaction, VerifyFailure,
        VerifyReport, MAX_STATEMENT_BYTES,
    };
}

/// Keys: `KeyManager` and the secret key type.
pub mod crypto {
    pub use heliosdb_crypto::{Backend, SecretKey, OVERHEAD};
    pub use heliosdb_keys::KeyManager;
}

/// Key sources and the keyring, for applications that plug in their own.
pub mod keys {
    pub use heliosdb_keys::*;
}

/// KMS key sources compiled into this build. Each cloud backend is its own
/// crate behind a feature of this one (`aws`, `azure`, `gcp`, `pkcs11`, `vault`, `kms-all`); naming one here
/// links it, which registers it with [`keys::kms_source`]. A configuration
/// naming a provider left out fails at open with the feature to enable.
pub mod kms {
    #[cfg(feature = "aws")]
    pub use heliosdb_kms_aws as aws;
    #[cfg(feature = "azure")]
    pub use heliosdb_kms_azure as azure;
    #[cfg(feature = "gcp")]
    pub use heliosdb_kms_gcp as gcp;
    #[cfg(feature = "pkcs11")]
    pub use heliosdb_kms_pkcs11 as pkcs11;
    #[cfg(feature = "vault")]
    pub use heliosdb_kms_vault as vault;

    pub use heliosdb_keys::{
        kms_providers, kms_source, kms_source_for_slot, slot_spec, KmsSpec,
        INSECURE_ENDPOINT_OPTION,
    };
}

/// The audit log: settings, events, chain verification.
pub mod audit {
    pub use heliosdb_core::audit::*;
    pub use heliosdb_core::config::{AuditConfig, LogFormat, RetentionConfig};
}

pub use heliosdb_core::chrono;
pub use heliosdb_core::rust_decimal;

/// SQL on the encrypted engine: `use heliosdb_nano::sql::SqlExt;` then
/// `storage.execute_sql("SELECT …")?` (the trait must be in scope; without
/// the import the method does not resolve).
///
/// ```no_run
/// use heliosdb_nano::sql::SqlExt;
/// use heliosdb_nano::storage::StorageEngine;
///
/// fn export_user_data(storage: &StorageEngine, user_id: i32) -> heliosdb_nano::Result<String> {
///     let query = format!("SELECT * FROM users WHERE id = {}", user_id);
///     let results = storage.execute_sql(&query)?;
///     Ok(serde_json::to_string_pretty(&results)?)
/// }
/// ```
pub mod sql {
    pub use heliosdb_sql::{
        ColumnInfo, Described, QueryResult, RowSink, Session, SqlError, SqlExt, SqlShared,
    };
}

//! The HeliosDB Nano storage engine: configuration, the encrypted RocksDB
//! store, key-value and table APIs, the catalog and transactions.
//!
//! # Invariants
//!
//! - Only `store::SealedStore` holds the writable RocksDB handle; every value
//!   written goes through its seal step (AES-256-GCM, AAD = column family +
//!   record key). Nothing else in the crate can write to RocksDB.
//! - A value that fails authentication is an error naming where it is, never
//!   plaintext and never a panic.
//! - With encryption on, record keys hold internal ids and blind tokens only.
//! - A wrong key is refused at open, before any record is read.

pub mod audit;
mod backup;
pub mod config;
mod context;
mod dump;
mod engine;
mod error;
mod rotation;
mod store;
mod tables;
#[cfg(feature = "test-util")]
pub mod testing;
mod transaction;
mod types;
mod upgrade_swap;
mod verify;

pub use backup::restore;
pub use config::{Config, KeySource};
pub use context::{Entered, SessionContext};
pub use dump::{
    import_sql, import_sql_with, sql_string_literal, DumpHints, DumpRole, ExportOptions,
    ExportStats, ImportOptions, ImportStats, RoleHook, MAX_CHAIN, MAX_NESTING, MAX_STATEMENT_BYTES,
    SERVER_KV_PREFIX,
};
pub use engine::{IndexDef, KeyInfo, KvIter, StorageEngine, TableDef, VerifyFailure, VerifyReport};
pub use error::{Error, Result};
pub use rotation::{
    DekStatus, EncryptionStatus, FileKeyRotation, FileKeyStatus, KekRotation, RotationStatus,
    SlotStatus,
};
pub use store::{Cf, RawView, Sealed};
pub use tables::{Catalog, RowStream};
pub use transaction::Transaction;
pub use types::{uuid_text, Column, DataType, Interval, Schema, Tuple, Value};
pub use upgrade_swap::{
    finish_interrupted_upgrade, upgrade_ready_path, UPGRADE_KEPT_INFIX, UPGRADE_READY_SUFFIX,
};

pub use chrono;
pub use rust_decimal;

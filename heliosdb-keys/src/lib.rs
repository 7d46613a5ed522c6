//! Key management for HeliosDB Nano: where key-encryption keys come from and
//! how data keys are kept.
//!
//! # Key hierarchy
//!
//! ```text
//! KeySource (KEK: env / file / password / KMS)      never stored by us
//!    └─ wraps ─► root key (one per database)         stored wrapped, once per KEK slot
//!                  └─ wraps ─► data keys (DEKs)      stored wrapped in the keyring
//!                                └─ seal ─► records  stored in RocksDB
//! ```
//!
//! The user's key (a [`KeySource`]) is a key-encryption key: it never seals a
//! record. It wraps the database's random *root key* in a KEK slot of the
//! [`Keyring`]; the root key wraps the data keys. Several KEKs can hold a slot
//! each (any one opens the database), a KEK rotation re-wraps one small value,
//! and new data keys can be minted without every KEK being at hand. Opening a
//! database costs one unwrap call on its key source (one KMS request), never
//! one per record or per data key.
//!
//! # API boundary
//!
//! This crate does no database I/O: it serialises the keyring to bytes and
//! back, and the storage engine decides where those bytes live. It links no
//! cloud SDK: KMS backends are separate crates implementing [`KmsVendor`];
//! the one adapter [`KmsSource`] makes each a [`KeySource`].
//! No type here prints key material through `Debug` or `Display`.

mod config;
mod error;
mod keyring;
mod kms_runtime;
mod local;
mod manager;
mod runtime;
mod source;
mod vendor;

#[cfg(any(test, feature = "test-util"))]
pub mod conformance;
#[cfg(any(test, feature = "test-util"))]
mod fake;

pub use config::{
    kms_providers, kms_source, kms_source_for_slot, no_key_id_routing, slot_spec, KeySourceConfig,
    KmsProvider, KmsSpec, INSECURE_ENDPOINT_OPTION, PASSWORD_ENV,
};
pub use error::{Error, KmsErrorKind, Result};
pub use keyring::{
    DekEntry, DekPurpose, DekState, KekSlot, Keyring, RotationState, UnlockedKeyring,
    KEYRING_FORMAT_VERSION,
};
pub use kms_runtime::KmsRuntime;
pub use local::{
    check_argon2_cost, check_key_file_permissions, EnvSource, FileSource, KdfParams,
    PasswordSource, RawKeySource, ARGON2_MAX_ITERATIONS, ARGON2_MAX_LANES, ARGON2_MAX_MEMORY_KIB,
    ARGON2_MIN_MEMORY_KIB, DEFAULT_KEY_ENV,
};
pub use manager::KeyManager;
pub use runtime::block_on;
pub use source::{KekHeader, KeySource, KmsKeyRef, SourceDescription, SourceKind};
pub use vendor::{
    error_chain, KmsCommon, KmsSource, KmsVendor, COMMON_OPTIONS, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT_SECS,
};

#[cfg(any(test, feature = "test-util"))]
pub use fake::FakeSource;

pub use heliosdb_crypto::{DekId, SecretKey};

/// Re-exported for KMS crates' `inventory::submit!`.
pub use inventory;

//! The `key_source` configuration value, spelled as in the tutorial:
//! `key_source = { Environment = "VAR" }`, `[encryption.key_source] File = "…"`,
//! `key_source = "Password"`, `{ Kms = { provider = "aws", key_id = "…" } }`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the key-encryption key comes from. Re-exported as
/// `heliosdb_nano::config::KeySource`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum KeySourceConfig {
    /// A 64-hex-character key in this environment variable.
    Environment(String),
    /// A key file (64 hex characters or 32 raw bytes), mode 0400 or 0440.
    File(PathBuf),
    /// A password stretched with Argon2id; salt and cost are kept in the
    /// database. The command line prompts for it (or reads one line from
    /// standard input when it is not a terminal); libraries pass a
    /// `KeyManager::password(..)` to `StorageEngine::open_with_key_manager`,
    /// or set `HELIOSDB_PASSWORD`.
    Password,
    /// A key in a key management service (envelope encryption).
    Kms {
        /// `aws`, `azure`, `gcp` or `vault`.
        provider: String,
        /// The provider's key identifier (alias, ARN, key URL, resource name).
        key_id: String,
    },
}

impl Default for KeySourceConfig {
    fn default() -> Self {
        KeySourceConfig::Environment(crate::DEFAULT_KEY_ENV.to_string())
    }
}

/// Environment variable a library user may set for `KeySource::Password`.
pub const PASSWORD_ENV: &str = "HELIOSDB_PASSWORD";

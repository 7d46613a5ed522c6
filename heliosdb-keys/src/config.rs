//! The `key_source` configuration value, spelled as in the tutorial:
//! `key_source = { Environment = "VAR" }`, `[encryption.key_source] File = "…"`,
//! `key_source = "Password"`, `{ Kms = { provider = "aws", key_id = "…" } }`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Error, KeySource, Result};

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

/// Everything a KMS backend needs to build its key source: the provider, the
/// key id, and provider options (`region`, `endpoint`, `vault_url`,
/// `address`, `mount`, …) from `[encryption.kms]` or from extra keys beside
/// `provider` and `key_id` in the `Kms` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsSpec {
    /// `aws`, `azure`, `gcp`, `vault`.
    pub provider: String,
    /// The provider's key identifier.
    pub key_id: String,
    /// Provider options; never secrets (credentials come from each vendor's
    /// own default chain).
    pub options: BTreeMap<String, String>,
}

impl KmsSpec {
    /// Refuses an option the provider does not know, naming it and the
    /// known ones.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for the first unknown option.
    pub fn check_options(&self, known: &[&str]) -> Result<()> {
        match self.options.keys().find(|k| !known.contains(&k.as_str())) {
            Some(bad) => Err(Error::Unsupported(format!(
                "unknown option '{bad}' for KMS provider {} (known: {})",
                self.provider,
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// The whole-number option `name`, from 1 to `max`; `default` when it
    /// is not given.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when it is not such a number.
    pub fn number_option(&self, name: &str, default: u64, max: u64) -> Result<u64> {
        match self.options.get(name).map(|v| v.trim()) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(Error::Unsupported(format!(
                    "option '{name}' of KMS provider {} must be a whole number from 1 to {max}, got {v:?}",
                    self.provider
                ))),
            },
        }
    }
}

/// A KMS backend compiled into this binary. Each `heliosdb-kms-*` crate
/// submits one with `inventory::submit!`; the facade's features decide which
/// crates are linked.
#[derive(Debug)]
pub struct KmsProvider {
    /// Provider name used in configuration (`aws`).
    pub name: &'static str,
    /// The facade feature that links it (`aws`).
    pub feature: &'static str,
    /// Builds the key source for a spec.
    pub build: fn(&KmsSpec) -> Result<Arc<dyn KeySource>>,
}

inventory::collect!(KmsProvider);

/// Names of the KMS providers compiled in.
pub fn kms_providers() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = inventory::iter::<KmsProvider>
        .into_iter()
        .map(|p| p.name)
        .collect();
    v.sort_unstable();
    v
}

/// Builds the key source for a KMS spec through the provider registry.
///
/// # Errors
/// A provider that is not compiled in gets an error naming the feature to
/// enable; otherwise the provider's own errors.
pub fn kms_source(spec: &KmsSpec) -> Result<Arc<dyn KeySource>> {
    for p in inventory::iter::<KmsProvider> {
        if p.name == spec.provider {
            return (p.build)(spec);
        }
    }
    let known = ["aws", "azure", "gcp", "vault"];
    if known.contains(&spec.provider.as_str()) {
        Err(Error::Unsupported(format!(
            "KMS provider '{0}' is not compiled in: build heliosdb-nano with `--features {0}` (or `kms-all`)",
            spec.provider
        )))
    } else {
        Err(Error::Unsupported(format!(
            "unknown KMS provider '{}' (known: aws, azure, gcp, vault)",
            spec.provider
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_provider_names_the_feature() {
        let spec = KmsSpec {
            provider: "aws".into(),
            key_id: "alias/x".into(),
            options: BTreeMap::new(),
        };
        if kms_providers().contains(&"aws") {
            return; // linked into this test binary: nothing to check
        }
        let err = kms_source(&spec).unwrap_err().to_string();
        assert!(err.contains("--features aws"), "{err}");
        let err = kms_source(&KmsSpec {
            provider: "acme".into(),
            ..spec
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown KMS provider 'acme'"), "{err}");
    }
}

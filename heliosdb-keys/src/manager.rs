//! `KeyManager`: the tutorial's handle on a key-encryption key.

use std::fmt;
use std::sync::Arc;

use heliosdb_crypto::SecretKey;
use zeroize::Zeroizing;

use crate::config::{KeySourceConfig, KmsSpec, PASSWORD_ENV};
use crate::local::{derive_argon2id, EnvSource, FileSource, PasswordSource, RawKeySource};
use crate::source::{KeySource, SourceDescription};
use crate::{Error, Result};

/// A key-encryption key from some [`KeySource`], as the tutorial uses it:
/// `KeyManager::generate_random()`, `from_password(&password, &salt)`,
/// `from_source(&config.encryption.key_source)`, `export_as_hex()`, `source()`.
#[derive(Clone)]
pub struct KeyManager {
    source: Arc<dyn KeySource>,
}

impl fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyManager({})", self.source.describe())
    }
}

impl KeyManager {
    /// A fresh random 256-bit key from the operating system's CSPRNG.
    ///
    /// # Panics
    /// Only if the OS random number generator fails, which leaves no safe way
    /// to make a key (use [`KeyManager::try_generate_random`] to handle it).
    pub fn generate_random() -> Self {
        match Self::try_generate_random() {
            Ok(km) => km,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`KeyManager::generate_random`], reporting an RNG failure.
    ///
    /// # Errors
    /// When the OS random number generator fails.
    pub fn try_generate_random() -> Result<Self> {
        let key = SecretKey::generate()?;
        Ok(Self::from_key(key, Some("generated".into())))
    }

    /// Wraps a key the application already holds.
    pub fn from_key(key: SecretKey, label: Option<String>) -> Self {
        KeyManager {
            source: Arc::new(RawKeySource::new(key, label)),
        }
    }

    /// Derives a key from `password` and a caller-managed `salt` (16 bytes or
    /// more) with Argon2id at the tutorial's default cost (19 MiB, t=2, p=1).
    ///
    /// Prefer [`KeyManager::password`]: it keeps salt and cost in the
    /// database's keyring so there is no salt file to lose.
    ///
    /// # Errors
    /// [`Error::Kdf`] when the salt is shorter than 16 or longer than 64 bytes.
    pub fn from_password(password: &str, salt: &[u8]) -> Result<Self> {
        let key = derive_argon2id(password.as_bytes(), salt, 19 * 1024, 2, 1)?;
        Ok(Self::from_key(
            key,
            Some("password-derived, caller-managed salt".into()),
        ))
    }

    /// A password source whose salt and Argon2id cost live in the keyring.
    pub fn password(password: impl Into<String>) -> Self {
        KeyManager {
            source: Arc::new(PasswordSource::new(password)),
        }
    }

    /// Loads the key the configuration names.
    ///
    /// # Errors
    /// The source's errors ("Environment variable '…' not found", "Hex key must
    /// be 64 characters (32 bytes), got N", "Failed to read key file: …");
    /// for `Password`, a missing `HELIOSDB_PASSWORD`; for `Kms`, an error
    /// the provider registry's errors (a provider not compiled in names the
    /// feature to enable).
    pub fn from_source(config: &KeySourceConfig) -> Result<Self> {
        let source: Arc<dyn KeySource> =
            match config {
                KeySourceConfig::Environment(var) => Arc::new(EnvSource::new(var.clone())?),
                KeySourceConfig::File(path) => Arc::new(FileSource::new(path.clone())?),
                KeySourceConfig::Password => {
                    let pw = std::env::var(PASSWORD_ENV).map_err(|_| {
                        Error::Unsupported(format!(
                        "key source Password needs a password: set {PASSWORD_ENV}, or open with \
                         StorageEngine::open_with_key_manager(.., &KeyManager::password(..))"
                    ))
                    })?;
                    let pw = Zeroizing::new(pw);
                    Arc::new(PasswordSource::new(pw.as_str()))
                }
                KeySourceConfig::Kms { provider, key_id } => crate::config::kms_source(
                    &KmsSpec::new(provider.clone(), key_id.clone(), Default::default()),
                )?,
            };
        Ok(KeyManager { source })
    }

    /// Like [`KeyManager::from_source`], with KMS provider options
    /// (`[encryption.kms]`).
    ///
    /// # Errors
    /// As [`KeyManager::from_source`].
    pub fn from_config(
        config: &KeySourceConfig,
        kms_options: &std::collections::BTreeMap<String, String>,
    ) -> Result<Self> {
        match config {
            KeySourceConfig::Kms { provider, key_id } => Ok(KeyManager {
                source: crate::config::kms_source(&KmsSpec::new(
                    provider.clone(),
                    key_id.clone(),
                    kms_options.clone(),
                ))?,
            }),
            other => Self::from_source(other),
        }
    }

    /// Wraps any key source (e.g. a KMS backend).
    pub fn from_key_source(source: Arc<dyn KeySource>) -> Self {
        KeyManager { source }
    }

    /// The key as 64 hex characters, for keys held locally (generated,
    /// environment, file, caller-salted password). The caller now holds a
    /// secret: never log it. For sources with no exportable key (KMS, a
    /// password whose salt is in the keyring) this returns an empty string;
    /// [`KeyManager::try_export_as_hex`] says so explicitly.
    pub fn export_as_hex(&self) -> String {
        self.try_export_as_hex()
            .map(|z| z.as_str().to_owned())
            .unwrap_or_default()
    }

    /// The key as hex in a zeroizing string, or `None` when the source holds no exportable key.
    pub fn try_export_as_hex(&self) -> Option<Zeroizing<String>> {
        self.source.exportable_key().map(SecretKey::to_hex)
    }

    /// Where the key came from (secret-free; fine to log).
    pub fn source(&self) -> SourceDescription {
        self.source.describe()
    }

    /// The underlying key source.
    pub fn key_source(&self) -> Arc<dyn KeySource> {
        Arc::clone(&self.source)
    }
}

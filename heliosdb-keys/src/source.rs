//! The [`KeySource`] plugin trait: where a key-encryption key (KEK) lives and
//! how it wraps and unwraps a key.

use std::fmt;

use async_trait::async_trait;
use heliosdb_crypto::SecretKey;
use serde::{Deserialize, Serialize};

use crate::Result;

/// The kind of a key source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SourceKind {
    /// A hex key in an environment variable.
    Env,
    /// A key file (hex or raw bytes).
    File,
    /// A password stretched with Argon2id; salt and parameters live in the keyring.
    Password,
    /// A key handed over directly by the application (e.g. `KeyManager::generate_random`).
    Raw,
    /// A cloud or on-premises key management service.
    Kms,
    /// The deterministic test source: no security at all.
    Fake,
}

/// A secret-free description of a key source: what it is and where it is,
/// never what it holds. Stored in the keyring so that later commands can find
/// the same source again from the database path alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDescription {
    /// The kind of source.
    pub kind: SourceKind,
    /// Where it is: the environment variable name, the key file path, the KMS
    /// provider and key id. Never a key or a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
    /// The KMS provider name (`aws`, `azure`, `gcp`, `pkcs11`, `vault`) for KMS sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl SourceDescription {
    /// A description without a locator.
    pub fn new(kind: SourceKind) -> Self {
        SourceDescription {
            kind,
            locator: None,
            provider: None,
        }
    }

    /// A description with a locator.
    pub fn with_locator(kind: SourceKind, locator: impl Into<String>) -> Self {
        SourceDescription {
            kind,
            locator: Some(locator.into()),
            provider: None,
        }
    }
}

impl fmt::Display for SourceDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = self.locator.as_deref().unwrap_or("?");
        match self.kind {
            SourceKind::Env => write!(f, "environment variable {loc}"),
            SourceKind::File => write!(f, "key file {loc}"),
            SourceKind::Password => f.write_str("password (Argon2id)"),
            SourceKind::Raw => match &self.locator {
                Some(l) => write!(f, "application-supplied key ({l})"),
                None => f.write_str("application-supplied key"),
            },
            SourceKind::Kms => write!(
                f,
                "{} KMS key {loc}",
                self.provider.as_deref().unwrap_or("unknown")
            ),
            SourceKind::Fake => f.write_str("fake test key source (NO SECURITY)"),
        }
    }
}

/// Identity of the KMS key that wrapped a blob: provider, key id, key version.
/// Lets open pick the right key without trial decryption.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsKeyRef {
    /// `aws`, `azure`, `gcp`, `pkcs11`, `vault`.
    pub provider: String,
    /// The key id as the KMS names it (ARN, key URL, resource name).
    pub key_id: String,
    /// The key version that wrapped, when the KMS exposes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_version: Option<String>,
    /// Non-secret options that are part of the key's identity (AWS `region`,
    /// Vault `mount` and `namespace`). Never routing or trust settings
    /// (endpoints, addresses, CA files, challenge checks): those come from
    /// whoever opens the database, because a keyring travels with the
    /// database and may have been written by someone else. Keyrings written
    /// before this rule may still record such options; they are ignored
    /// unless the caller gives the same value (see [`crate::slot_spec`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub options: std::collections::BTreeMap<String, String>,
}

/// The public parameters a KEK slot stores beside its wrapped root key: the
/// source description, a key check value (local KEKs), the Argon2id salt and
/// cost (password), the KMS key identity (KMS). Contains no secret: a key
/// check value is a truncated HMAC of the KEK and reveals nothing about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KekHeader {
    /// Which source made this slot.
    pub source: SourceDescription,
    /// Hex HMAC-SHA256(KEK, "heliosdb-nano kek check v1") truncated to 16 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_check: Option<String>,
    /// Argon2id parameters and salt, for password sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<crate::KdfParams>,
    /// The KMS key identity, for KMS sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms: Option<KmsKeyRef>,
}

/// A key-encryption key: something that can wrap and unwrap a 256-bit key.
///
/// # Contract for implementors
///
/// - `describe()` and everything in a [`KekHeader`] are secret-free: they are
///   stored in the database and printed by `heliosdb-nano info`.
/// - [`KeySource::new_header`] prepares a new slot (e.g. draws a fresh salt,
///   resolves a KMS alias to a key id and version). [`KeySource::matches`]
///   says, without trial decryption of data, whether this source's key is the
///   one a header describes.
/// - [`KeySource::wrap`] and [`KeySource::unwrap`] must authenticate: an
///   unwrap with the wrong key, a tampered blob or a different `aad` fails with
///   an error (for KMS sources a classified [`crate::Error::Kms`]), never a
///   wrong key.
/// - Implementations are `Send + Sync` and cheap to share as `Arc<dyn KeySource>`.
///   Calls are async because KMS sources talk to a network service; local
///   sources complete immediately. Callers in synchronous code use
///   [`crate::block_on`].
#[async_trait]
pub trait KeySource: Send + Sync + fmt::Debug + 'static {
    /// A secret-free description of the source.
    fn describe(&self) -> SourceDescription;

    /// Public parameters for a new KEK slot wrapped by this source.
    ///
    /// # Errors
    /// KMS sources fail when the key cannot be resolved.
    async fn new_header(&self) -> Result<KekHeader>;

    /// Whether this source holds the KEK that `header` describes.
    ///
    /// # Errors
    /// Only when the check itself cannot be made (KDF failure, KMS outage).
    async fn matches(&self, header: &KekHeader) -> Result<bool>;

    /// Wraps `key`, binding `aad` to the result.
    ///
    /// # Errors
    /// KMS failures; local sources fail only if the OS RNG does.
    async fn wrap(&self, header: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>>;

    /// Unwraps a blob made by [`KeySource::wrap`] with the same header and `aad`.
    ///
    /// # Errors
    /// [`crate::Error::WrongKey`] when the blob does not authenticate under this
    /// source's key, [`crate::Error::Kms`] for KMS failures.
    async fn unwrap(&self, header: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey>;

    /// Re-wraps `blob` (made for the slot `old` with `old_aad`) for the new
    /// slot `new` with `new_aad` inside the KMS, when this source can do it
    /// in one request without the key leaving the service (AWS KMS
    /// `ReEncrypt` between two keys reached through the same endpoint and
    /// region). `Ok(None)`: not possible here; the caller wraps the
    /// unwrapped key with [`KeySource::wrap`] instead.
    ///
    /// # Errors
    /// KMS failures.
    async fn rewrap(
        &self,
        old: &KekHeader,
        blob: &[u8],
        old_aad: &[u8],
        new: &KekHeader,
        new_aad: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let _ = (old, blob, old_aad, new, new_aad);
        Ok(None)
    }

    /// The raw KEK, for sources that hold one locally and may export it
    /// (`KeyManager::export_as_hex`). KMS and password sources return `None`.
    fn exportable_key(&self) -> Option<&SecretKey> {
        None
    }
}

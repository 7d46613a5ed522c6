//! Azure Key Vault as a HeliosDB Nano key source (envelope encryption).
//!
//! An RSA key in Key Vault (or Managed HSM) is the key-encryption key: the
//! database's root key, generated locally, is wrapped with Key Vault's
//! `wrapKey` (RSA-OAEP-256) and unwrapped with `unwrapKey`, so one request
//! opens a database. A Managed HSM `oct-HSM` (AES-256) key instead seals the
//! root key with `encrypt`/`decrypt` and `A256GCM`, the keyring's AAD bound
//! natively by GCM (see the `mhsm` module): the algorithm follows the key
//! type found when the slot is made, and the slot records it. The client is
//! the official Azure SDK for Rust (`azure_security_keyvault_keys`,
//! credentials from `azure_identity`).
//!
//! # Version pinning
//!
//! [`heliosdb_keys::KeySource::new_header`] resolves the key's current version with one
//! `GET /keys/{name}` and records it in the slot (`KmsKeyRef.key_version`);
//! wrap and unwrap always name that version. Rotating the key in Key Vault
//! (a new current version) therefore leaves existing databases readable,
//! and a new slot (KEK rotation, `init`) records the new version. A key id
//! that names a version (`…/keys/{name}/{version}`) pins that version for new
//! slots too.
//!
//! # Binding the AAD
//!
//! RSA-OAEP has no additional authenticated data, so the keyring's AAD
//! (database id and slot) is bound inside the RSA plaintext. The wrapped
//! blob is
//!
//! ```text
//! 0x01 || RSA-OAEP-256(KEK, root_key[32] || SHA-256("heliosdb-kms-azure aad v1" || 0x00 || aad)[32])
//! ```
//!
//! The leading byte is the format version. Unwrap checks the digest in
//! constant time after Key Vault decrypts; a different AAD (the blob moved to
//! another slot or database) is a [`KmsErrorKind::WrongKey`] error, like a
//! blob another key made. The 64-byte plaintext fits every Key Vault RSA
//! size (2048 bits allow 190 bytes under OAEP-SHA-256).
//!
//! Security note: RSA wrapping gives confidentiality, not origin: anyone with
//! the public key could make a blob that unwraps to a root key of their
//! choosing. That does not let them read a database, because the data keys
//! are sealed under the real root key with AES-256-GCM in the keyring and do
//! not open under a substituted one (the open fails). A Managed HSM
//! `oct-HSM` key removes the weakness: only the HSM can make a blob whose
//! GCM tag verifies, and its slots refuse RSA-format blobs.
//!
//! # Configuration
//!
//! `key_source = { Kms = { provider = "azure", key_id = "<key name>" } }` with
//! `vault_url = "https://<vault>.vault.azure.net"` in `[encryption.kms]`, or
//! `key_id` = the full key URL (`https://<vault>.vault.azure.net/keys/<name>`,
//! optionally `/<version>`). Further options:
//!
//! - `timeout_secs` (per attempt, default 30) and `max_attempts` (default 3):
//!   connection errors, timeouts, 408/429/5xx are retried with exponential
//!   backoff, at most `max_attempts` times in all.
//! - `ca_file`: a PEM file of CA certificates trusted in addition to the
//!   system's (TLS-intercepting proxies, private endpoints, tests).
//! - `credential`: `default` (the first that works of: a service principal
//!   from `AZURE_TENANT_ID`/`AZURE_CLIENT_ID` with `AZURE_CLIENT_SECRET` or
//!   a certificate (`certificate_file` / `AZURE_CLIENT_CERTIFICATE_PATH`),
//!   workload identity from `AZURE_FEDERATED_TOKEN_FILE`, the Azure CLI /
//!   Azure Developer CLI login, managed identity), or one of
//!   `client_secret`, `client_certificate`, `workload_identity`,
//!   `developer_tools`, `managed_identity`.
//! - `client_id`: the application (client) id of a service principal or of
//!   workload identity, or the client id of a user-assigned managed
//!   identity (without it, managed identity is the system-assigned one).
//!   `tenant_id`: the directory (tenant). Both default to `AZURE_CLIENT_ID`
//!   and `AZURE_TENANT_ID` where the SDK reads them.
//! - `certificate_file` (`credential = "client_certificate"`): a PEM file
//!   with the service principal's certificate and its RSA private key
//!   (PKCS#8 or PKCS#1). The client assertion is signed locally (RS256,
//!   SHA-1 thumbprint `x5t`); the key never leaves the process.
//! - `cloud`: `public`, `usgov` or `china` (or the Azure CLI's names
//!   `AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`); by default the
//!   vault's host tells (`*.vault.usgovcloudapi.net`, `*.vault.azure.cn`),
//!   else public. It picks the login authority and the only token scopes
//!   ever requested: that cloud's Key Vault and Managed HSM resources (a
//!   challenge asking for another is refused).
//! - `authority_host`: `https://<login host>` replacing the cloud's login
//!   authority (a private or proxied Entra ID endpoint); the Key Vault
//!   resource still follows `cloud`.
//! - `access_token_env`: the name of an environment variable that holds an
//!   already-issued bearer token (e.g. from `az account get-access-token
//!   --resource https://vault.azure.net`), read at each request; for short
//!   jobs and tests. The token itself is never stored or printed.
//! - `verify_challenge_resource` (default `true`): the SDK checks that the
//!   resource in Key Vault's authentication challenge belongs to the vault's
//!   domain. Only a vault reached under a name outside that domain (a local
//!   test server) needs `false`.
//!
//! # What a slot records
//!
//! The key URL and version: identity. The vault URL inside it is also where
//! bearer tokens go, so when a database is opened from its keyring alone a
//! vault outside Azure's own Key Vault domains (`*.vault.azure.net`,
//! `*.managedhsm.azure.net` and the sovereign clouds') is used only if the
//! caller gives the same `vault_url`. The CA file and the challenge check
//! are trust settings: never recorded, always the caller's.
//!
//! Errors are sorted: 401/403 and credential failures are access denied,
//! 404 (`KeyNotFound`) not found, a blob the key cannot unwrap (400
//! `BadParameter` on UnwrapKey, or on Decrypt when the GCM tag or AAD does
//! not verify) or a key that is neither an RSA wrapping key nor an
//! `oct-HSM` key wrong key, a disabled key version (403 "not allowed on a disabled key")
//! or a deleted-but-recoverable key (409) key unusable, any other 4xx
//! invalid request, connection failures, timeouts, 408/429/5xx unavailable.
//! Messages name the vault and key, never a token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use azure_security_keyvault_keys::models::{
    EncryptionAlgorithm, KeyClientGetKeyOptions, KeyOperationParameters,
};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions, ResourceExt as _, ResourceId};
use heliosdb_keys::{
    error_chain, Error, KmsCommon, KmsErrorKind, KmsKeyRef, KmsProvider, KmsSource, KmsSpec,
    KmsVendor, Result, SecretKey,
};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

// Credentials (managed identity, client certificate, sovereign clouds) and
// Managed HSM AES-GCM wrapping live in their own modules.
mod credential;
mod mhsm;

use mhsm::WrapAlgorithm;
pub use mhsm::{ALGORITHM_OPTION, BLOB_FORMAT_A256GCM};

/// Provider name in configuration and in key headers.
pub const PROVIDER: &str = "azure";

/// Options this provider understands besides `timeout_secs` and
/// `max_attempts` ([`heliosdb_keys::COMMON_OPTIONS`]).
pub const OPTIONS: [&str; 10] = [
    "vault_url",
    "ca_file",
    "verify_challenge_resource",
    // credential::OPTIONS:
    "credential",
    "access_token_env",
    "cloud",
    "authority_host",
    "tenant_id",
    "client_id",
    "certificate_file",
];

/// Format byte that opens every wrapped blob of this crate.
pub const BLOB_FORMAT_V1: u8 = 1;

/// Domain separation of the AAD digest bound inside the RSA plaintext.
const AAD_LABEL: &[u8] = b"heliosdb-kms-azure aad v1\0";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

heliosdb_keys::inventory::submit! {
    KmsProvider::of::<AzureKeyVault>()
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    /// `https://vault.example` without a trailing slash.
    vault_url: String,
    /// The key's name in the vault.
    name: String,
    /// A version named in the key id: new slots pin it instead of the current one.
    version: Option<String>,
    common: KmsCommon,
    ca_file: Option<String>,
    credential: credential::CredentialSettings,
    verify_challenge_resource: bool,
}

fn bad(msg: impl fmt::Display) -> Error {
    Error::Unsupported(format!("KMS provider azure: {msg}"))
}

/// DNS suffixes of Azure's own Key Vault and Managed HSM endpoints (public
/// and sovereign clouds). Tokens for Key Vault go to Microsoft's service
/// there, whoever owns the vault, so a key id under one of them may route
/// requests without the caller's confirmation.
pub const AZURE_VAULT_SUFFIXES: [&str; 7] = [
    ".vault.azure.net",
    ".managedhsm.azure.net",
    ".vault.azure.cn",
    ".managedhsm.azure.cn",
    ".vault.usgovcloudapi.net",
    ".managedhsm.usgovcloudapi.net",
    ".vault.microsoftazure.de",
];

/// Whether `vault_url` (`https://host`) is one of Azure's own Key Vault
/// hosts: a plain DNS name (no port, no user info) under
/// [`AZURE_VAULT_SUFFIXES`].
pub fn is_azure_vault_host(vault_url: &str) -> bool {
    let Some(host) = vault_url.strip_prefix("https://") else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let plain = host
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    plain
        && AZURE_VAULT_SUFFIXES.iter().any(|s| {
            host.strip_suffix(s)
                .is_some_and(|name| !name.is_empty() && !name.contains('.'))
        })
}

/// For the provider registry: a key URL whose vault is not one of Azure's
/// own hosts routes requests (and bearer tokens) somewhere the caller must
/// confirm with `vault_url`.
fn key_id_routing(key_id: &str) -> Option<(&'static str, String)> {
    match parse_key_url(key_id) {
        Some((vault, _, _)) if is_azure_vault_host(&vault) => None,
        Some((vault, _, _)) => Some(("vault_url", vault)),
        // Not a URL (a bare name): Settings::parse asks for vault_url.
        None => None,
    }
}

/// Splits `https://host[:port]/keys/{name}[/{version}]` into the vault URL,
/// the name and the version.
pub fn parse_key_url(url: &str) -> Option<(String, String, Option<String>)> {
    let rest = url.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if host.is_empty() || parts.first() != Some(&"keys") || !(2..=3).contains(&parts.len()) {
        return None;
    }
    if !parts[1..].iter().all(|p| ok(p)) {
        return None;
    }
    Some((
        format!("https://{host}"),
        parts[1].to_string(),
        parts.get(2).map(|v| v.to_string()),
    ))
}

impl Settings {
    fn parse(spec: &KmsSpec, common: &KmsCommon) -> Result<Settings> {
        let opt = |k: &str| spec.options.get(k).map(|v| v.trim().to_string());
        let vault_opt = opt("vault_url").map(|v| v.trim_end_matches('/').to_string());
        if let Some(v) = &vault_opt {
            let host_only = v
                .strip_prefix("https://")
                .is_some_and(|h| !h.is_empty() && !h.contains('/'));
            if !host_only {
                return Err(bad(format!(
                    "option 'vault_url' must be https://<vault host>, got {v:?}"
                )));
            }
        }
        let key_id = spec.key_id.trim();
        let (vault_url, name, version) = if key_id.starts_with("https://") {
            let Some((vault, name, version)) = parse_key_url(key_id) else {
                return Err(bad(format!(
                    "key_id must be a key name or https://<vault>/keys/<name>[/<version>], got {key_id:?}"
                )));
            };
            if let Some(v) = &vault_opt {
                if !v.eq_ignore_ascii_case(&vault) {
                    return Err(bad(format!(
                        "key_id {key_id:?} is in vault {vault}, but option 'vault_url' is {v}"
                    )));
                }
            }
            (vault, name, version)
        } else {
            let valid = !key_id.is_empty()
                && key_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                return Err(bad(format!(
                    "key_id must be a key name (letters, digits, '-') or a key URL, got {key_id:?}"
                )));
            }
            let Some(vault) = vault_opt else {
                return Err(bad(format!(
                    "key_id {key_id:?} is a key name: set option 'vault_url' \
                     (https://<vault>.vault.azure.net) or give the full key URL"
                )));
            };
            (vault, key_id.to_string(), None)
        };
        let credential = credential::CredentialSettings::parse(spec, &vault_url)?;
        let verify_challenge_resource = match opt("verify_challenge_resource").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(bad(format!(
                    "option 'verify_challenge_resource' is true or false, got {other:?}"
                )))
            }
        };
        Ok(Settings {
            vault_url,
            name,
            version,
            common: *common,
            ca_file: opt("ca_file"),
            credential,
            verify_challenge_resource,
        })
    }

    /// The key's URL without a version: the key id recorded in slots.
    fn key_url(&self) -> String {
        format!("{}/keys/{}", self.vault_url, self.name)
    }
}

/// The Key Vault vendor behind [`AzureKeyVaultSource`].
pub struct AzureKeyVault {
    settings: Settings,
    /// Set by [`AzureKeyVaultExt::with_credential`]; else built from the settings.
    credential: Option<Arc<dyn TokenCredential>>,
    client: tokio::sync::OnceCell<KeyClient>,
}

/// A key-encryption key in Azure Key Vault. [`KmsSource::new`] makes no
/// request; it fails on unknown or malformed options and on a key id that
/// is neither a key name (with option `vault_url`) nor a key URL.
pub type AzureKeyVaultSource = KmsSource<AzureKeyVault>;

impl fmt::Debug for AzureKeyVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credential (and any token it caches) stays out.
        let s = &self.settings;
        f.debug_struct("AzureKeyVault")
            .field("vault_url", &s.vault_url)
            .field("key", &s.name)
            .field("version", &s.version)
            .field("ca_file", &s.ca_file)
            .finish_non_exhaustive()
    }
}

/// Constructors and accessors of the Azure source beyond [`KmsSource`].
pub trait AzureKeyVaultExt {
    /// A source that authenticates with `credential` instead of the one the
    /// options choose (options `credential`/`access_token_env` are ignored).
    /// It is still asked only for the Key Vault and Managed HSM scopes of
    /// the configured cloud (option `cloud`, else the vault's host).
    ///
    /// # Errors
    /// As [`KmsSource::new`].
    fn with_credential(
        spec: &KmsSpec,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<AzureKeyVaultSource>;

    /// The key's URL without a version (what slots record as the key id).
    fn key_url(&self) -> String;
}

impl AzureKeyVaultExt for AzureKeyVaultSource {
    fn with_credential(
        spec: &KmsSpec,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<AzureKeyVaultSource> {
        KmsSource::with_given(spec, credential)
    }

    fn key_url(&self) -> String {
        self.vendor().settings.key_url()
    }
}

fn aad_digest(aad: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(AAD_LABEL);
    h.update(aad);
    h.finalize().into()
}

impl AzureKeyVault {
    fn err(&self, kind: KmsErrorKind, what: &str, detail: impl fmt::Display) -> Error {
        self.error(kind, what, detail)
    }

    fn http_client(&self) -> Result<reqwest::Client> {
        let s = &self.settings;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(s.common.timeout))
            .timeout(s.common.timeout)
            // Key Vault does not redirect; the SDK's own client refuses to as well.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("heliosdb-kms-azure/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &s.ca_file {
            let pem =
                std::fs::read(path).map_err(|e| bad(format!("cannot read CA file {path}: {e}")))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| bad(format!("CA file {path} is not PEM: {e}")))?;
            if certs.is_empty() {
                return Err(bad(format!("CA file {path} holds no certificate")));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder
            .build()
            .map_err(|e| bad(format!("cannot build the HTTP client: {e}")))
    }

    async fn client(&self) -> Result<&KeyClient> {
        self.client
            .get_or_try_init(|| async {
                let s = &self.settings;
                let client_options = ClientOptions {
                    transport: Some(Transport::new(Arc::new(self.http_client()?))),
                    retry: RetryOptions::exponential(ExponentialRetryOptions {
                        initial_delay: azure_core::time::Duration::milliseconds(200),
                        max_retries: s.common.max_attempts.saturating_sub(1),
                        max_total_elapsed: azure_core::time::Duration::seconds(
                            (s.common.request_budget().as_secs()) as i64,
                        ),
                        max_delay: azure_core::time::Duration::seconds(5),
                    }),
                    ..ClientOptions::default()
                };
                let credential = match &self.credential {
                    Some(c) => credential::guard(Arc::clone(c), s.credential.cloud),
                    None => credential::build(&s.credential, client_options.clone())
                        .map_err(|e| self.classified("creating the Azure credential", &e))?,
                };
                let options = KeyClientOptions {
                    client_options,
                    verify_challenge_resource: Some(s.verify_challenge_resource),
                    ..KeyClientOptions::default()
                };
                KeyClient::new(&s.vault_url, credential, Some(options))
                    .map_err(|e| self.classified("creating the Key Vault client", &e))
            })
            .await
    }

    async fn key_ref(&self) -> Result<KmsKeyRef> {
        let client = self.client().await?;
        let options = KeyClientGetKeyOptions {
            key_version: self.settings.version.clone(),
            ..Default::default()
        };
        let key = client
            .get_key(&self.settings.name, Some(options))
            .await
            .map_err(|e| self.classified("GetKey", &e))?
            .into_model()
            .map_err(|e| self.classified("GetKey", &e))?;
        let id: ResourceId = key
            .resource_id()
            .map_err(|e| self.err(KmsErrorKind::Unavailable, "GetKey", e))?;
        let Some(version) = id.version.filter(|v| !v.is_empty()) else {
            return Err(self.err(
                KmsErrorKind::Unavailable,
                "GetKey",
                "the response names no key version",
            ));
        };
        let jwk = key.key.as_ref();
        let kty = jwk.and_then(|k| k.kty.clone());
        let Some((algorithm, needed)) = WrapAlgorithm::for_key_type(kty.as_ref()) else {
            return Err(self.err(
                KmsErrorKind::WrongKey,
                "GetKey",
                format!("key type is {kty:?}, not RSA, RSA-HSM or oct-HSM (Managed HSM)"),
            ));
        };
        if let Some(ops) = jwk.and_then(|k| k.key_ops.as_ref()) {
            for op in needed {
                if !ops.iter().any(|o| o == op) {
                    return Err(self.err(
                        KmsErrorKind::WrongKey,
                        "GetKey",
                        format!("the key does not permit {op} (key_ops {ops:?})"),
                    ));
                }
            }
        }
        if key.attributes.as_ref().and_then(|a| a.enabled) == Some(false) {
            return Err(self.err(
                KmsErrorKind::KeyUnusable,
                "GetKey",
                format!("version {version} is disabled"),
            ));
        }
        Ok(KmsKeyRef {
            provider: PROVIDER.to_string(),
            key_id: self.settings.key_url(),
            key_version: Some(version),
            options: algorithm.stored_options(),
        })
    }

    /// The version a slot recorded, when the slot is this key's.
    fn recorded_version(&self, slot: Option<&KmsKeyRef>, what: &str) -> Result<String> {
        let Some(k) = slot else {
            return Err(self.err(
                KmsErrorKind::WrongKey,
                what,
                "the slot is not an Azure Key Vault slot",
            ));
        };
        if k.key_id != self.settings.key_url() {
            return Err(self.err(
                KmsErrorKind::WrongKey,
                what,
                format!("the slot belongs to {} KMS key {}", k.provider, k.key_id),
            ));
        }
        match &k.key_version {
            Some(v) if !v.is_empty() => Ok(v.clone()),
            _ => Err(self.err(
                KmsErrorKind::WrongKey,
                what,
                "the slot records no key version",
            )),
        }
    }

    async fn wrap_key(&self, version: String, plain: Zeroizing<Vec<u8>>) -> Result<Vec<u8>> {
        let client = self.client().await?;
        let params = KeyOperationParameters {
            algorithm: Some(EncryptionAlgorithm::RsaOaep256),
            value: Some(plain.to_vec()),
            ..Default::default()
        };
        let body = params
            .try_into()
            .map_err(|e| self.classified("WrapKey", &e))?;
        let options = azure_security_keyvault_keys::models::KeyClientWrapKeyOptions {
            key_version: Some(version.clone()),
            ..Default::default()
        };
        let out = client
            .wrap_key(&self.settings.name, body, Some(options))
            .await
            .map_err(|e| self.classified("WrapKey", &e))?
            .into_model()
            .map_err(|e| self.classified("WrapKey", &e))?;
        self.check_kid("WrapKey", out.kid.as_deref(), &version)?;
        let ct = out.result.unwrap_or_default();
        if ct.is_empty() {
            return Err(self.err(KmsErrorKind::Unavailable, "WrapKey", "empty result"));
        }
        let mut blob = Vec::with_capacity(1 + ct.len());
        blob.push(BLOB_FORMAT_V1);
        blob.extend_from_slice(&ct);
        Ok(blob)
    }

    /// The service must have used the version we named.
    fn check_kid(&self, what: &str, kid: Option<&str>, version: &str) -> Result<()> {
        let used = kid
            .and_then(|k| k.parse::<ResourceId>().ok())
            .and_then(|r| r.version);
        match used {
            Some(v) if v != version => Err(self.err(
                KmsErrorKind::WrongKey,
                what,
                format!("the service used version {v} instead of {version}"),
            )),
            _ => Ok(()),
        }
    }

    async fn unwrap_key(&self, version: String, ct: Vec<u8>, aad: &[u8]) -> Result<SecretKey> {
        let client = self.client().await?;
        let params = KeyOperationParameters {
            algorithm: Some(EncryptionAlgorithm::RsaOaep256),
            value: Some(ct),
            ..Default::default()
        };
        let body = params
            .try_into()
            .map_err(|e| self.classified("UnwrapKey", &e))?;
        let out = client
            .unwrap_key(&self.settings.name, &version, body, None)
            .await
            .map_err(|e| self.classified("UnwrapKey", &e))?
            .into_model()
            .map_err(|e| self.classified("UnwrapKey", &e))?;
        self.check_kid("UnwrapKey", out.kid.as_deref(), &version)?;
        let plain = Zeroizing::new(out.result.unwrap_or_default());
        if plain.len() != 64 {
            return Err(self.err(
                KmsErrorKind::WrongKey,
                "UnwrapKey",
                "the plaintext is not a wrapped HeliosDB root key",
            ));
        }
        if !bool::from(plain[32..].ct_eq(&aad_digest(aad))) {
            return Err(self.err(
                KmsErrorKind::WrongKey,
                "UnwrapKey",
                "the wrapped key is bound to a different AAD (another slot or database)",
            ));
        }
        SecretKey::from_slice(&plain[..32]).ok_or_else(|| {
            self.err(
                KmsErrorKind::WrongKey,
                "UnwrapKey",
                "the plaintext is not a 32-byte key",
            )
        })
    }
}

#[async_trait]
impl KmsVendor for AzureKeyVault {
    const PROVIDER: &'static str = PROVIDER;
    const OPTIONS: &'static [&'static str] = &OPTIONS;
    const FEATURE: &'static str = "azure";
    type Given = Arc<dyn TokenCredential>;
    type Failure = azure_core::Error;

    fn key_id_routing(key_id: &str) -> Option<(&'static str, String)> {
        key_id_routing(key_id)
    }

    fn from_spec(
        spec: &KmsSpec,
        common: &KmsCommon,
        credential: Option<Arc<dyn TokenCredential>>,
    ) -> Result<Self> {
        Ok(AzureKeyVault {
            settings: Settings::parse(spec, common)?,
            credential,
            client: tokio::sync::OnceCell::new(),
        })
    }

    fn locator(&self) -> String {
        self.settings.key_url()
    }

    fn subject(&self) -> String {
        format!(
            "of key '{}' in vault {}",
            self.settings.name, self.settings.vault_url
        )
    }

    fn classify(&self, op: &str, e: &azure_core::Error) -> (KmsErrorKind, String) {
        classify_azure_error(op, e)
    }

    async fn new_key_ref(&self) -> Result<KmsKeyRef> {
        self.key_ref().await
    }

    async fn owns(&self, slot: &KmsKeyRef) -> Result<bool> {
        Ok(slot.key_id == self.settings.key_url())
    }

    async fn wrap(&self, slot: Option<&KmsKeyRef>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let version = self.recorded_version(slot, "WrapKey")?;
        let algorithm = WrapAlgorithm::recorded(slot)
            .map_err(|e| self.err(KmsErrorKind::WrongKey, "WrapKey", e))?;
        if algorithm == WrapAlgorithm::A256Gcm {
            return self
                .wrap_a256gcm(version, Zeroizing::new(key.to_vec()), aad.to_vec())
                .await;
        }
        let mut plain = Zeroizing::new(Vec::with_capacity(64));
        plain.extend_from_slice(key);
        plain.extend_from_slice(&aad_digest(aad));
        self.wrap_key(version, plain).await
    }

    async fn unwrap(&self, slot: Option<&KmsKeyRef>, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        let version = self.recorded_version(slot, "UnwrapKey")?;
        let algorithm = WrapAlgorithm::recorded(slot)
            .map_err(|e| self.err(KmsErrorKind::WrongKey, "UnwrapKey", e))?;
        // The blob's format byte must be the slot's algorithm: a blob of
        // the other kind (an RSA blob under an AES-GCM slot, which anyone
        // with the public key could make) is refused before any request.
        if blob.first() != Some(&algorithm.blob_format()) {
            return Err(self.err(
                KmsErrorKind::WrongKey,
                "UnwrapKey",
                format!(
                    "the wrapped key is not in the format of the slot's algorithm ({algorithm:?})"
                ),
            ));
        }
        if algorithm == WrapAlgorithm::A256Gcm {
            return self
                .unwrap_a256gcm(version, blob.to_vec(), aad.to_vec())
                .await;
        }
        let ct = match blob.split_first() {
            Some((&BLOB_FORMAT_V1, ct)) if !ct.is_empty() => ct.to_vec(),
            _ => {
                return Err(self.err(
                    KmsErrorKind::WrongKey,
                    "UnwrapKey",
                    "the wrapped key is not in this provider's format",
                ))
            }
        };
        self.unwrap_key(version, ct, aad).await
    }
}

/// Sorts an HTTP status of Key Vault for operation `op` (`"UnwrapKey"`,
/// `"WrapKey"`, `"GetKey"`); `message` is Key Vault's error message, which
/// tells a disabled key apart from a refused identity (both are 403).
pub fn classify_status(op: &str, status: u16, message: &str) -> KmsErrorKind {
    let lower = message.to_ascii_lowercase();
    match status {
        // "Operation is not allowed on a disabled key." comes as 403
        // Forbidden like a missing permission; the fix is to enable the
        // key version, not to change the access policy.
        403 if lower.contains("disabled") => KmsErrorKind::KeyUnusable,
        401 | 403 => KmsErrorKind::AccessDenied,
        404 => KmsErrorKind::NotFound,
        // 409 Conflict: the key is deleted but recoverable, or being
        // deleted or recovered; the fix is on the key (recover it).
        409 => KmsErrorKind::KeyUnusable,
        // 400 BadParameter on UnwrapKey (RSA) or Decrypt (AES-GCM, a tag
        // that does not verify) is how Key Vault refuses a ciphertext its
        // key did not make, or an AAD it was not made with.
        400 if op == "UnwrapKey" || op == "Decrypt" => KmsErrorKind::WrongKey,
        // Throttling and timeouts are transient.
        408 | 429 => KmsErrorKind::Unavailable,
        // Any other refusal is about the request; nothing says another key
        // would help.
        400..=499 => KmsErrorKind::InvalidRequest,
        _ => KmsErrorKind::Unavailable,
    }
}

/// Sorts an SDK error: service answers by status, credential failures as
/// access denied, transport failures and timeouts (after retries) as
/// unavailable. The detail names the status, Key Vault's error code and
/// message; it never holds a token (the SDK's errors do not carry request
/// headers).
pub fn classify_azure_error(op: &str, e: &azure_core::Error) -> (KmsErrorKind, String) {
    let mut detail = error_chain(e);
    let kind = match e.kind() {
        ErrorKind::HttpResponse {
            status, error_code, ..
        } => {
            let code = u16::from(*status);
            detail = format!(
                "HTTP {code} {}: {detail}",
                error_code.as_deref().unwrap_or("(no error code)")
            );
            classify_status(op, code, &detail)
        }
        ErrorKind::Credential => KmsErrorKind::AccessDenied,
        ErrorKind::Connection | ErrorKind::Io => KmsErrorKind::Unavailable,
        // The SDK reports a challenge it refuses (resource outside the
        // vault's domain, no scope) as Other/DataConversion; that is an
        // authentication failure, not an outage.
        ErrorKind::Other | ErrorKind::DataConversion if detail.contains("challenge") => {
            KmsErrorKind::AccessDenied
        }
        _ => KmsErrorKind::Unavailable,
    };
    (kind, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Settings as the source parses them (options checked by the adapter).
    fn parse(spec: &KmsSpec) -> Result<Settings> {
        AzureKeyVaultSource::new(spec).map(|s| s.vendor().settings.clone())
    }

    fn spec(key: &str, opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::from_pairs(PROVIDER, key, opts)
    }

    const VAULT: &str = "https://myvault.vault.azure.net";

    #[test]
    fn settings_validate_and_name_what_is_wrong() {
        let s = parse(&spec("kek", &[("vault_url", VAULT)])).unwrap();
        assert_eq!(s.key_url(), format!("{VAULT}/keys/kek"));
        assert_eq!(s.version, None);
        let s = parse(&spec(&format!("{VAULT}/keys/kek/abc123"), &[])).unwrap();
        assert_eq!(
            (s.name.as_str(), s.version.as_deref()),
            ("kek", Some("abc123"))
        );
        assert_eq!(s.vault_url, VAULT);
        let err = parse(&spec("kek", &[])).unwrap_err().to_string();
        assert!(err.contains("vault_url"), "{err}");
        let err = parse(&spec("kek", &[("vault_url", VAULT), ("region", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option 'region'"), "{err}");
        for bad_key in ["", "a/b", "https://v/secrets/x", "http://v/keys/x"] {
            assert!(
                parse(&spec(bad_key, &[("vault_url", VAULT)])).is_err(),
                "{bad_key}"
            );
        }
        assert!(parse(&spec("k", &[("vault_url", "http://v")])).is_err());
        let err = parse(&spec(
            &format!("{VAULT}/keys/kek"),
            &[("vault_url", "https://other.vault.azure.net")],
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("other.vault"), "{err}");
        assert!(parse(&spec("k", &[("vault_url", VAULT), ("credential", "magic")])).is_err());
        assert!(parse(&spec(
            "k",
            &[
                ("vault_url", VAULT),
                ("credential", "default"),
                ("access_token_env", "T")
            ]
        ))
        .is_err());
        assert!(parse(&spec("k", &[("vault_url", VAULT), ("max_attempts", "0")])).is_err());
        let s = parse(&spec(
            "k",
            &[
                ("vault_url", VAULT),
                ("access_token_env", "TOKEN_VAR"),
                ("verify_challenge_resource", "false"),
                ("ca_file", "/etc/ca.pem"),
            ],
        ))
        .unwrap();
        assert_eq!(
            s.credential.choice,
            credential::CredentialChoice::TokenEnv("TOKEN_VAR".into())
        );
    }

    #[test]
    fn a_recorded_vault_outside_azure_needs_the_callers_vault_url() {
        for ok in [
            "https://myvault.vault.azure.net",
            "https://HSM1.managedhsm.azure.net",
            "https://v.vault.usgovcloudapi.net",
        ] {
            assert!(is_azure_vault_host(ok), "{ok}");
            assert_eq!(key_id_routing(&format!("{ok}/keys/k")), None);
        }
        for bad in [
            "https://attacker.example",
            "https://127.0.0.1:8443",
            "https://vault.azure.net",
            "https://a.b.vault.azure.net",
            "https://x.vault.azure.net:8443",
            "https://x.vault.azure.net.attacker.example",
            "http://x.vault.azure.net",
        ] {
            assert!(!is_azure_vault_host(bad), "{bad}");
        }
        let slot = KmsKeyRef {
            provider: PROVIDER.into(),
            key_id: "https://attacker.example/keys/k".into(),
            key_version: Some("v1".into()),
            options: [
                (
                    "vault_url".to_string(),
                    "https://attacker.example".to_string(),
                ),
                ("verify_challenge_resource".to_string(), "false".to_string()),
                ("ca_file".to_string(), "/tmp/attacker.pem".to_string()),
            ]
            .into(),
        };
        let none = BTreeMap::new();
        let err = heliosdb_keys::slot_spec(&slot, &none, &[], key_id_routing).unwrap_err();
        assert!(matches!(err, Error::KmsRoutingNotConfirmed { .. }), "{err}");
        let mine: BTreeMap<String, String> = [("vault_url".to_string(), VAULT.to_string())].into();
        let err = heliosdb_keys::slot_spec(&slot, &mine, &[], key_id_routing).unwrap_err();
        assert!(matches!(err, Error::KmsOptionMismatch { .. }), "{err}");
        assert!(err.to_string().contains(VAULT), "{err}");
        // Confirmed by the caller: the challenge check and CA stay the caller's (defaults).
        let theirs: BTreeMap<String, String> = [(
            "vault_url".to_string(),
            "https://attacker.example".to_string(),
        )]
        .into();
        let spec = heliosdb_keys::slot_spec(&slot, &theirs, &[], key_id_routing).unwrap();
        let s = parse(&spec).unwrap();
        assert!(s.verify_challenge_resource);
        assert_eq!(s.ca_file, None);
        // A vault in Azure's domain: reachable from the key id alone, trust settings dropped.
        let slot = KmsKeyRef {
            key_id: format!("{VAULT}/keys/k"),
            ..slot
        };
        let spec = heliosdb_keys::slot_spec(&slot, &none, &[], key_id_routing).unwrap();
        let s = parse(&spec).unwrap();
        assert_eq!(s.vault_url, VAULT);
        assert!(s.verify_challenge_resource);
    }

    #[test]
    fn statuses_are_classified() {
        use KmsErrorKind::*;
        let u = "UnwrapKey";
        assert_eq!(classify_status(u, 401, ""), AccessDenied);
        assert_eq!(
            classify_status(u, 403, "does not have keys unwrapKey permission"),
            AccessDenied
        );
        assert_eq!(
            classify_status(u, 403, "Operation is not allowed on a disabled key."),
            KeyUnusable
        );
        assert_eq!(
            classify_status(u, 409, "deleted but recoverable"),
            KeyUnusable
        );
        assert_eq!(classify_status(u, 404, ""), NotFound);
        assert_eq!(classify_status(u, 400, "BadParameter"), WrongKey);
        assert_eq!(
            classify_status("WrapKey", 400, "BadParameter"),
            InvalidRequest
        );
        assert_eq!(classify_status(u, 422, ""), InvalidRequest);
        assert_eq!(classify_status(u, 418, ""), InvalidRequest);
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify_status(u, s, ""), Unavailable, "{s}");
        }
        assert!(!classify_status(u, 409, "").is_retryable());
        let e = azure_core::Error::with_message(ErrorKind::Connection, "connection refused");
        assert_eq!(classify_azure_error(u, &e).0, Unavailable);
        let e = azure_core::Error::with_message(ErrorKind::Credential, "no login");
        assert_eq!(classify_azure_error(u, &e).0, AccessDenied);
    }

    #[test]
    fn aad_digest_is_domain_separated() {
        assert_ne!(aad_digest(b""), <[u8; 32]>::from(Sha256::digest(b"")));
        assert_ne!(aad_digest(b"a"), aad_digest(b"b"));
    }

    #[test]
    fn key_urls_parse() {
        assert_eq!(
            parse_key_url("https://v.vault.azure.net/keys/k"),
            Some(("https://v.vault.azure.net".into(), "k".into(), None))
        );
        assert_eq!(
            parse_key_url("https://127.0.0.1:8443/keys/k/0123abc/"),
            Some((
                "https://127.0.0.1:8443".into(),
                "k".into(),
                Some("0123abc".into())
            ))
        );
        assert_eq!(parse_key_url("https://v/keys"), None);
        assert_eq!(parse_key_url("https://v/keys/k/v/x"), None);
    }
}

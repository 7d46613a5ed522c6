//! Google Cloud KMS as a HeliosDB Nano key source (envelope encryption).
//!
//! A symmetric `ENCRYPT_DECRYPT` CryptoKey is the key-encryption key: it
//! wraps the database's root key (generated locally) with `Encrypt` and
//! unwraps it with `Decrypt`, so one request opens a database. The keyring's
//! AAD (database id and slot) is Cloud KMS's additional authenticated data.
//! Every request and response is CRC32C-checked end to end, as Google
//! recommends: the request carries checksums of plaintext and AAD (the
//! service says it verified them), and the checksums the service returns
//! for ciphertext and plaintext are checked here.
//!
//! A slot records the CryptoKey's resource name and the CryptoKeyVersion
//! that was primary when the slot was made; the wrap is pinned to that
//! version. `matches` compares resource names: no trial decryption. The
//! primary version comes from `GetCryptoKey` when the identity may read the
//! key; with the least-privilege role alone
//! (`roles/cloudkms.cryptoKeyEncrypterDecrypter`, which lacks
//! `cloudkms.cryptoKeys.get`) that call is denied, and one Encrypt of a
//! public probe on the CryptoKey names the primary version instead.
//!
//! Configuration: `key_source = { Kms = { provider = "gcp", key_id =
//! "projects/P/locations/L/keyRings/R/cryptoKeys/K" } }` with options
//! `endpoint`, `timeout_secs`, `max_attempts`, and `credentials = "anonymous"`
//! for emulators only. Credentials come from Application Default
//! Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, workload identity,
//! the metadata server). With `impersonate_service_account` (and optionally
//! `delegates`, `impersonation_lifetime_secs`, `iam_credentials_endpoint`)
//! those credentials only mint short-lived tokens for that service account,
//! and Cloud KMS is called as it: see the `impersonate` module. An `endpoint` must be `https://` unless
//! `insecure_endpoint = "true"` (emulators). A slot records the CryptoKey
//! and version only: the endpoint, where bearer tokens go, is the caller's
//! to give, never the database's.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::options::RequestOptionsBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt};
use google_cloud_kms_v1::client::KeyManagementService;
use google_cloud_kms_v1::model::crypto_key::CryptoKeyPurpose;
use heliosdb_keys::{
    Error, KekHeader, KeySource, KmsErrorKind, KmsKeyRef, KmsProvider, KmsRuntime, KmsSpec, Result,
    SecretKey, SourceDescription, SourceKind,
};
use zeroize::Zeroizing;

mod impersonate;
pub use impersonate::{classify_iam_credentials, ImpersonationError};

/// Provider name in configuration and in key headers.
pub const PROVIDER: &str = "gcp";

/// How one Encrypt or Decrypt attempt failed: a checksum showed corruption
/// in transit (worth another attempt), or anything else (final here; the
/// client already retried what the service said was transient).
enum Attempt {
    Corrupt(Error),
    Failed(Error),
}

/// Options this provider understands.
pub const OPTIONS: [&str; 8] = [
    "endpoint",
    "credentials",
    "timeout_secs",
    "max_attempts",
    impersonate::OPTIONS[0],
    impersonate::OPTIONS[1],
    impersonate::OPTIONS[2],
    impersonate::OPTIONS[3],
];

const DEFAULT_TIMEOUT_SECS: u64 = 30;
const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// What a new slot encrypts, when the identity may not read the CryptoKey,
/// to learn the primary version: public bytes, not a key.
const PROBE_PLAINTEXT: &[u8] = b"heliosdb-nano: which version is primary?";
const PROBE_AAD: &[u8] = b"heliosdb-nano/version-probe/v1";

heliosdb_keys::inventory::submit! {
    KmsProvider {
        name: PROVIDER,
        feature: "gcp",
        build: build_source,
        identity_options: &[],
        key_id_routing: heliosdb_keys::no_key_id_routing,
    }
}

fn build_source(spec: &KmsSpec) -> Result<Arc<dyn KeySource>> {
    Ok(Arc::new(GcpKmsSource::new(spec)?))
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    key: String,
    endpoint: Option<String>,
    anonymous: bool,
    timeout: Duration,
    max_attempts: u32,
    impersonation: Option<impersonate::Impersonation>,
}

/// Whether `name` is `projects/*/locations/*/keyRings/*/cryptoKeys/*`.
pub fn is_crypto_key_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    parts.len() == 8
        && parts[0] == "projects"
        && parts[2] == "locations"
        && parts[4] == "keyRings"
        && parts[6] == "cryptoKeys"
        && parts.iter().all(|p| !p.is_empty())
}

impl Settings {
    fn parse(spec: &KmsSpec) -> Result<Settings> {
        spec.check_options(&OPTIONS)?;
        let key = spec.key_id.trim().to_string();
        if !is_crypto_key_name(&key) {
            return Err(Error::Unsupported(format!(
                "KMS provider gcp needs key_id = the CryptoKey's full resource name \
                 (projects/P/locations/L/keyRings/R/cryptoKeys/K), got {:?}",
                spec.key_id
            )));
        }
        let anonymous = match spec.options.get("credentials").map(String::as_str) {
            None | Some("default") => false,
            Some("anonymous") => true,
            Some(other) => {
                return Err(Error::Unsupported(format!(
                    "option 'credentials' of KMS provider gcp is \"default\" or \"anonymous\" \
                     (emulators only), got {other:?}"
                )))
            }
        };
        let impersonation = impersonate::Impersonation::parse(spec)?;
        if anonymous && impersonation.is_some() {
            return Err(Error::Unsupported(
                "option 'impersonate_service_account' of KMS provider gcp needs real source \
                 credentials to impersonate with; drop credentials = \"anonymous\""
                    .to_string(),
            ));
        }
        let num = |name: &str, default: u64, max: u64| spec.number_option(name, default, max);
        let endpoint = spec.options.get("endpoint").cloned();
        if let Some(e) = &endpoint {
            spec.check_url("endpoint", e)?;
        }
        Ok(Settings {
            key,
            endpoint,
            anonymous,
            timeout: Duration::from_secs(num("timeout_secs", DEFAULT_TIMEOUT_SECS, 600)?),
            max_attempts: num("max_attempts", u64::from(DEFAULT_MAX_ATTEMPTS), 10)? as u32,
            impersonation,
        })
    }

    /// Options a slot records: none. The CryptoKey name is the whole
    /// identity; the endpoint decides where bearer tokens go, so it comes
    /// from whoever opens the database.
    fn stored_options(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}

struct Inner {
    settings: Settings,
    client: tokio::sync::OnceCell<KeyManagementService>,
}

/// A key-encryption key in Google Cloud KMS.
pub struct GcpKmsSource {
    inner: Arc<Inner>,
    rt: KmsRuntime,
}

impl fmt::Debug for GcpKmsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpKmsSource")
            .field("key", &self.inner.settings.key)
            .field("endpoint", &self.inner.settings.endpoint)
            .field(
                "impersonate_service_account",
                &self
                    .inner
                    .settings
                    .impersonation
                    .as_ref()
                    .map(|i| &i.target),
            )
            .finish_non_exhaustive()
    }
}

impl GcpKmsSource {
    /// A source for `spec` (`provider = "gcp"`). Makes no request.
    ///
    /// # Errors
    /// Unknown or malformed options; a key id that is not a CryptoKey name.
    pub fn new(spec: &KmsSpec) -> Result<Self> {
        Ok(GcpKmsSource {
            inner: Arc::new(Inner {
                settings: Settings::parse(spec)?,
                client: tokio::sync::OnceCell::new(),
            }),
            rt: KmsRuntime::new("heliosdb-kms-gcp")?,
        })
    }
}

fn crc(data: &[u8]) -> i64 {
    i64::from(crc32c::crc32c(data))
}

impl Inner {
    fn description(&self) -> SourceDescription {
        SourceDescription {
            kind: SourceKind::Kms,
            locator: Some(self.settings.key.clone()),
            provider: Some(PROVIDER.to_string()),
        }
    }

    fn err(&self, kind: KmsErrorKind, what: &str, detail: impl fmt::Display) -> Error {
        Error::Kms {
            provider: PROVIDER.to_string(),
            kind,
            message: match &self.settings.impersonation {
                Some(i) => format!(
                    "{what} with {} as {}: {detail}",
                    self.settings.key, i.target
                ),
                None => format!("{what} with {}: {detail}", self.settings.key),
            },
        }
    }

    async fn client(&self) -> Result<&KeyManagementService> {
        self.client
            .get_or_try_init(|| async {
                let s = &self.settings;
                // Encrypt and Decrypt are POSTs, which the client treats as
                // not idempotent and never retries; for us they are (the
                // same request may run twice without harm), so each call
                // says so, and RESOURCE_EXHAUSTED (429, a rate quota) is
                // retried too. Short, capped back-off: an open waits on it.
                let backoff = ExponentialBackoffBuilder::new()
                    .with_initial_delay(Duration::from_millis(100))
                    .with_maximum_delay(Duration::from_secs(2))
                    .build()
                    .map_err(|e| self.err(KmsErrorKind::Unavailable, "configuring retries", e))?;
                let mut b = KeyManagementService::builder()
                    .with_retry_policy(
                        Aip194Strict
                            .continue_on_too_many_requests()
                            .with_attempt_limit(s.max_attempts)
                            .with_time_limit(s.timeout * s.max_attempts),
                    )
                    .with_backoff_policy(backoff);
                if let Some(e) = &s.endpoint {
                    b = b.with_endpoint(e.clone());
                }
                if s.anonymous {
                    b = b.with_credentials(
                        google_cloud_auth::credentials::anonymous::Builder::new().build(),
                    );
                }
                if let Some(imp) = &s.impersonation {
                    let source = google_cloud_auth::credentials::Builder::default()
                        .build()
                        .map_err(|e| {
                            self.err(
                                KmsErrorKind::AccessDenied,
                                "loading the credentials to impersonate with",
                                e,
                            )
                        })?;
                    let creds =
                        impersonate::ImpersonatedCredentials::new(imp.clone(), source, s.timeout)?;
                    b = b
                        .with_credentials(google_cloud_auth::credentials::Credentials::from(creds));
                }
                b.build().await.map_err(|e| {
                    // No Application Default Credentials is the usual cause.
                    let kind = if e.is_default_credentials() {
                        KmsErrorKind::AccessDenied
                    } else {
                        KmsErrorKind::Unavailable
                    };
                    self.err(kind, "creating the Cloud KMS client", e)
                })
            })
            .await
    }

    async fn header(&self) -> Result<KekHeader> {
        let client = self.client().await?;
        let got = client
            .get_crypto_key()
            .set_name(&self.settings.key)
            .with_attempt_timeout(self.settings.timeout)
            .send()
            .await;
        let primary = match got {
            Ok(key) => {
                if key.purpose != CryptoKeyPurpose::EncryptDecrypt {
                    return Err(self.err(
                        KmsErrorKind::WrongKey,
                        "GetCryptoKey",
                        format!("purpose is {:?}, not ENCRYPT_DECRYPT", key.purpose),
                    ));
                }
                key.primary.map(|p| p.name).filter(|n| !n.is_empty())
            }
            // The least-privilege role, roles/cloudkms.cryptoKeyEncrypterDecrypter,
            // does not include cloudkms.cryptoKeys.get. Encrypt on the CryptoKey
            // uses its primary version and names it in the response: that
            // is the version to pin. The purpose check is then the service's
            // (Encrypt refuses a key that is not ENCRYPT_DECRYPT).
            Err(e) if e.status().is_some_and(|s| s.code == Code::PermissionDenied) => {
                tracing::debug!(
                    key = %self.settings.key,
                    "GetCryptoKey denied; learning the primary version from an Encrypt"
                );
                Some(self.primary_from_encrypt().await?)
            }
            Err(e) => return Err(self.classified("GetCryptoKey", &e)),
        };
        let Some(primary) = primary else {
            return Err(self.err(
                KmsErrorKind::NotFound,
                "GetCryptoKey",
                "the key has no primary version",
            ));
        };
        Ok(KekHeader {
            source: self.description(),
            key_check: None,
            kdf: None,
            kms: Some(KmsKeyRef {
                provider: PROVIDER.to_string(),
                key_id: self.settings.key.clone(),
                key_version: Some(primary),
                options: self.settings.stored_options(),
            }),
        })
    }

    /// The CryptoKeyVersion an Encrypt on the CryptoKey uses (its primary),
    /// from the response's `name`. The plaintext and AAD are a fixed,
    /// public probe; the ciphertext is thrown away.
    async fn primary_from_encrypt(&self) -> Result<String> {
        let (name, _) = self
            .retry_corrupt(|| self.encrypt_once(None, PROBE_PLAINTEXT, PROBE_AAD))
            .await?;
        let ours = name
            .strip_prefix(self.settings.key.as_str())
            .and_then(|rest| rest.strip_prefix("/cryptoKeyVersions/"))
            .is_some_and(|v| !v.is_empty() && !v.contains('/'));
        if !ours {
            return Err(self.err(
                KmsErrorKind::Unavailable,
                "Encrypt",
                format!("the response names {name:?}, not a version of this CryptoKey"),
            ));
        }
        Ok(name)
    }

    fn classified(&self, what: &str, e: &google_cloud_gax::error::Error) -> Error {
        let (kind, mut detail) = classify_gax_error(what, e);
        // Denied by Cloud KMS while impersonating: the service account is
        // the identity the key's policy must name.
        if let Some(i) = &self.settings.impersonation {
            if kind == KmsErrorKind::AccessDenied && e.status().is_some() {
                detail.push_str(&format!(
                    "; grant {} roles/cloudkms.cryptoKeyEncrypterDecrypter on the key",
                    i.target
                ));
            }
        }
        self.err(kind, what, detail)
    }

    /// Encrypt, retried (up to `max_attempts` in all) when a checksum shows
    /// the request or response was corrupted in transit, as Google advises;
    /// service errors are retried inside the client.
    async fn encrypt(
        &self,
        version: Option<String>,
        key: Zeroizing<Vec<u8>>,
        aad: Vec<u8>,
    ) -> Result<Vec<u8>> {
        self.retry_corrupt(|| self.encrypt_once(version.clone(), &key, &aad))
            .await
            .map(|(_, ciphertext)| ciphertext)
    }

    /// Decrypt, retried like [`Inner::encrypt`] on checksum mismatches.
    async fn decrypt(&self, blob: Vec<u8>, aad: Vec<u8>) -> Result<SecretKey> {
        self.retry_corrupt(|| self.decrypt_once(&blob, &aad)).await
    }

    /// Runs `attempt` until it succeeds, fails for a reason other than
    /// corruption in transit, or `max_attempts` have been made.
    async fn retry_corrupt<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, Attempt>>,
    {
        let mut made = 1;
        loop {
            match attempt().await {
                Err(Attempt::Corrupt(_)) if made < self.settings.max_attempts => made += 1,
                Err(Attempt::Corrupt(e) | Attempt::Failed(e)) => return Err(e),
                Ok(v) => return Ok(v),
            }
        }
    }

    async fn encrypt_once(
        &self,
        version: Option<String>,
        key: &[u8],
        aad: &[u8],
    ) -> std::result::Result<(String, Vec<u8>), Attempt> {
        let client = self.client().await.map_err(Attempt::Failed)?;
        let name = version.clone().unwrap_or_else(|| self.settings.key.clone());
        let out = client
            .encrypt()
            .set_name(&name)
            .set_plaintext(key.to_vec())
            .set_plaintext_crc32c(crc(key))
            .set_additional_authenticated_data(aad.to_vec())
            .set_additional_authenticated_data_crc32c(crc(aad))
            .with_idempotency(true)
            .with_attempt_timeout(self.settings.timeout)
            .send()
            .await
            .map_err(|e| Attempt::Failed(self.classified("Encrypt", &e)))?;
        // End-to-end integrity: the service saw what we sent, and we got
        // what it sent. A mismatch is corruption on the way: retryable.
        let corrupt = |what: &str| {
            Attempt::Corrupt(self.err(
                KmsErrorKind::Unavailable,
                "Encrypt",
                format!("{what}: the request or response was corrupted in transit; retry"),
            ))
        };
        if !out.verified_plaintext_crc32c {
            return Err(corrupt("the service did not verify the plaintext checksum"));
        }
        if !out.verified_additional_authenticated_data_crc32c {
            return Err(corrupt("the service did not verify the AAD checksum"));
        }
        if out.ciphertext_crc32c != Some(crc(&out.ciphertext)) {
            return Err(corrupt("ciphertext checksum mismatch"));
        }
        if let Some(v) = &version {
            if &out.name != v {
                return Err(Attempt::Failed(self.err(
                    KmsErrorKind::WrongKey,
                    "Encrypt",
                    format!("the service used version {} instead of {v}", out.name),
                )));
            }
        }
        if out.ciphertext.is_empty() {
            return Err(corrupt("empty ciphertext"));
        }
        Ok((out.name, out.ciphertext.to_vec()))
    }

    async fn decrypt_once(
        &self,
        blob: &[u8],
        aad: &[u8],
    ) -> std::result::Result<SecretKey, Attempt> {
        let client = self.client().await.map_err(Attempt::Failed)?;
        // Decrypt on our own CryptoKey: the service refuses a ciphertext
        // another key made.
        let out = client
            .decrypt()
            .set_name(&self.settings.key)
            .set_ciphertext_crc32c(crc(blob))
            .set_ciphertext(blob.to_vec())
            .set_additional_authenticated_data_crc32c(crc(aad))
            .set_additional_authenticated_data(aad.to_vec())
            .with_idempotency(true)
            .with_attempt_timeout(self.settings.timeout)
            .send()
            .await
            .map_err(|e| Attempt::Failed(self.classified("Decrypt", &e)))?;
        let plain = Zeroizing::new(out.plaintext.to_vec());
        if out.plaintext_crc32c != Some(crc(&plain)) {
            return Err(Attempt::Corrupt(self.err(
                KmsErrorKind::Unavailable,
                "Decrypt",
                "plaintext checksum mismatch: the response was corrupted in transit; retry",
            )));
        }
        SecretKey::from_slice(&plain).ok_or_else(|| {
            Attempt::Failed(self.err(
                KmsErrorKind::WrongKey,
                "Decrypt",
                "the plaintext is not a 32-byte key",
            ))
        })
    }
}

#[async_trait]
impl KeySource for GcpKmsSource {
    fn describe(&self) -> SourceDescription {
        self.inner.description()
    }

    async fn new_header(&self) -> Result<KekHeader> {
        let inner = Arc::clone(&self.inner);
        self.rt.run(async move { inner.header().await }).await
    }

    async fn matches(&self, header: &KekHeader) -> Result<bool> {
        Ok(header
            .kms
            .as_ref()
            .is_some_and(|k| k.provider == PROVIDER && k.key_id == self.inner.settings.key))
    }

    async fn wrap(&self, header: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
        let version = header
            .kms
            .as_ref()
            .filter(|k| k.provider == PROVIDER && k.key_id == self.inner.settings.key)
            .and_then(|k| k.key_version.clone());
        let inner = Arc::clone(&self.inner);
        let plain = Zeroizing::new(key.expose_secret().to_vec());
        let aad = aad.to_vec();
        self.rt
            .run(async move { inner.encrypt(version, plain, aad).await })
            .await
    }

    async fn unwrap(&self, _header: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        if blob.is_empty() {
            return Err(self
                .inner
                .err(KmsErrorKind::WrongKey, "Decrypt", "empty wrapped key"));
        }
        let inner = Arc::clone(&self.inner);
        let (blob, aad) = (blob.to_vec(), aad.to_vec());
        self.rt
            .run(async move { inner.decrypt(blob, aad).await })
            .await
    }
}

/// Sorts a Google RPC status code of operation `op` (`"Decrypt"`,
/// `"Encrypt"`, `"GetCryptoKey"`).
pub fn classify_code(op: &str, code: Code) -> KmsErrorKind {
    match code {
        Code::NotFound => KmsErrorKind::NotFound,
        Code::PermissionDenied | Code::Unauthenticated => KmsErrorKind::AccessDenied,
        // INVALID_ARGUMENT on Decrypt is how Cloud KMS reports a ciphertext
        // that does not decrypt under the key (or with this AAD). On any
        // other call it is a malformed request, not a key mismatch.
        Code::InvalidArgument if op == "Decrypt" => KmsErrorKind::WrongKey,
        // FAILED_PRECONDITION: the key version is disabled, destroyed or
        // scheduled for destruction; the fix is to enable or restore it.
        Code::FailedPrecondition => KmsErrorKind::KeyUnusable,
        Code::InvalidArgument
        | Code::OutOfRange
        | Code::AlreadyExists
        | Code::Unimplemented
        | Code::Cancelled => KmsErrorKind::InvalidRequest,
        _ => KmsErrorKind::Unavailable,
    }
}

/// Sorts a client error: service statuses by code, credential failures as
/// access denied, transport failures and timeouts (after retries) as
/// unavailable.
pub fn classify_gax_error(op: &str, e: &google_cloud_gax::error::Error) -> (KmsErrorKind, String) {
    if let Some(status) = e.status() {
        return (
            classify_code(op, status.code),
            format!("{}: {}", status.code.name(), status.message),
        );
    }
    // A failed impersonation arrives as the source of an authentication
    // error, already classified (and worded) by the impersonate module.
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = cur {
        if let Some(imp) = inner.downcast_ref::<ImpersonationError>() {
            return (imp.kind(), imp.to_string());
        }
        cur = inner.source();
    }
    let kind = if e.is_authentication() {
        KmsErrorKind::AccessDenied
    } else if e.is_binding() {
        KmsErrorKind::NotFound
    } else {
        match e.http_status_code() {
            Some(401 | 403) => KmsErrorKind::AccessDenied,
            Some(404) => KmsErrorKind::NotFound,
            _ => KmsErrorKind::Unavailable,
        }
    };
    let mut detail = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(inner) = cur {
        let s = inner.to_string();
        if !detail.contains(&s) {
            detail.push_str(": ");
            detail.push_str(&s);
        }
        cur = inner.source();
    }
    (kind, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key: &str, opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec {
            provider: PROVIDER.into(),
            key_id: key.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    const KEY: &str = "projects/p/locations/global/keyRings/r/cryptoKeys/k";

    #[test]
    fn settings_validate_and_name_what_is_wrong() {
        assert!(Settings::parse(&spec(KEY, &[])).is_ok());
        let err = Settings::parse(&spec("k", &[])).unwrap_err().to_string();
        assert!(err.contains("full resource name"), "{err}");
        assert!(Settings::parse(&spec(&format!("{KEY}/cryptoKeyVersions/1"), &[])).is_err());
        let err = Settings::parse(&spec(KEY, &[("region", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option 'region'"), "{err}");
        assert!(Settings::parse(&spec(KEY, &[("credentials", "magic")])).is_err());
        let err = Settings::parse(&spec(KEY, &[("endpoint", "http://127.0.0.1:1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--insecure-kms-endpoint"), "{err}");
        let s = Settings::parse(&spec(
            KEY,
            &[
                ("credentials", "anonymous"),
                ("endpoint", "http://127.0.0.1:1"),
                ("insecure_endpoint", "true"),
            ],
        ))
        .unwrap();
        // Neither where to send tokens nor the emulator-only credential
        // choice is recorded: both are the caller's.
        assert!(s.stored_options().is_empty());
    }

    #[test]
    fn a_recorded_endpoint_is_not_where_tokens_go() {
        // A keyring written by someone else (or by an older build) records an endpoint.
        let slot = KmsKeyRef {
            provider: PROVIDER.into(),
            key_id: KEY.into(),
            key_version: None,
            options: [(
                "endpoint".to_string(),
                "http://attacker.example".to_string(),
            )]
            .into(),
        };
        let spec = heliosdb_keys::slot_spec(
            &slot,
            &BTreeMap::new(),
            &[],
            heliosdb_keys::no_key_id_routing,
        )
        .unwrap();
        let s = Settings::parse(&spec).unwrap();
        assert_eq!(
            s.endpoint, None,
            "the default Google endpoint, not the recorded one"
        );
    }

    #[test]
    fn codes_are_classified() {
        use KmsErrorKind::*;
        assert_eq!(classify_code("Decrypt", Code::NotFound), NotFound);
        assert_eq!(
            classify_code("Decrypt", Code::PermissionDenied),
            AccessDenied
        );
        assert_eq!(
            classify_code("Encrypt", Code::Unauthenticated),
            AccessDenied
        );
        assert_eq!(classify_code("Decrypt", Code::InvalidArgument), WrongKey);
        assert_eq!(
            classify_code("Encrypt", Code::InvalidArgument),
            InvalidRequest
        );
        assert_eq!(
            classify_code("GetCryptoKey", Code::InvalidArgument),
            InvalidRequest
        );
        assert_eq!(
            classify_code("Decrypt", Code::FailedPrecondition),
            KeyUnusable
        );
        assert_eq!(
            classify_code("Encrypt", Code::FailedPrecondition),
            KeyUnusable
        );
        assert_eq!(classify_code("Decrypt", Code::OutOfRange), InvalidRequest);
        assert_eq!(classify_code("Decrypt", Code::Unavailable), Unavailable);
        assert_eq!(
            classify_code("Decrypt", Code::DeadlineExceeded),
            Unavailable
        );
        assert_eq!(
            classify_code("Decrypt", Code::ResourceExhausted),
            Unavailable
        );
        assert!(!classify_code("Decrypt", Code::FailedPrecondition).is_retryable());
    }

    #[test]
    fn crc32c_matches_the_published_check_value() {
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720 appendix B.4).
        assert_eq!(crc(b"123456789"), 0xE306_9283);
    }
}

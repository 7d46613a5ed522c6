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
use std::time::Duration;

use async_trait::async_trait;
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::options::RequestOptionsBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt};
use google_cloud_kms_v1::client::KeyManagementService;
use google_cloud_kms_v1::model::crypto_key::CryptoKeyPurpose;
use heliosdb_keys::{
    error_chain, Error, KmsCommon, KmsErrorKind, KmsKeyRef, KmsProvider, KmsSource, KmsSpec,
    KmsVendor, Result, SecretKey,
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

/// Options this provider understands besides `timeout_secs` and
/// `max_attempts` ([`heliosdb_keys::COMMON_OPTIONS`]).
pub const OPTIONS: [&str; 6] = [
    "endpoint",
    "credentials",
    impersonate::OPTIONS[0],
    impersonate::OPTIONS[1],
    impersonate::OPTIONS[2],
    impersonate::OPTIONS[3],
];

/// What a new slot encrypts, when the identity may not read the CryptoKey,
/// to learn the primary version: public bytes, not a key.
const PROBE_PLAINTEXT: &[u8] = b"heliosdb-nano: which version is primary?";
const PROBE_AAD: &[u8] = b"heliosdb-nano/version-probe/v1";

heliosdb_keys::inventory::submit! {
    KmsProvider::of::<GcpKms>()
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    key: String,
    endpoint: Option<String>,
    anonymous: bool,
    common: KmsCommon,
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
    fn parse(spec: &KmsSpec, common: &KmsCommon) -> Result<Settings> {
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
        let endpoint = spec.options.get("endpoint").cloned();
        if let Some(e) = &endpoint {
            spec.check_url("endpoint", e)?;
        }
        Ok(Settings {
            key,
            endpoint,
            anonymous,
            common: *common,
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

/// The Cloud KMS vendor behind [`GcpKmsSource`].
pub struct GcpKms {
    settings: Settings,
    client: tokio::sync::OnceCell<KeyManagementService>,
}

/// A key-encryption key in Google Cloud KMS. [`KmsSource::new`] makes no
/// request; it fails on unknown or malformed options and on a key id that
/// is not a CryptoKey name.
pub type GcpKmsSource = KmsSource<GcpKms>;

impl fmt::Debug for GcpKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpKms")
            .field("key", &self.settings.key)
            .field("endpoint", &self.settings.endpoint)
            .field(
                "impersonate_service_account",
                &self.settings.impersonation.as_ref().map(|i| &i.target),
            )
            .finish_non_exhaustive()
    }
}

fn crc(data: &[u8]) -> i64 {
    i64::from(crc32c::crc32c(data))
}

impl GcpKms {
    fn err(&self, kind: KmsErrorKind, what: &str, detail: impl fmt::Display) -> Error {
        self.error(kind, what, detail)
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
                            .with_attempt_limit(s.common.max_attempts)
                            .with_time_limit(s.common.request_budget()),
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
                    let creds = impersonate::ImpersonatedCredentials::new(
                        imp.clone(),
                        source,
                        s.common.timeout,
                    )?;
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

    async fn key_ref(&self) -> Result<KmsKeyRef> {
        let client = self.client().await?;
        let got = client
            .get_crypto_key()
            .set_name(&self.settings.key)
            .with_attempt_timeout(self.settings.common.timeout)
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
        Ok(KmsKeyRef {
            provider: PROVIDER.to_string(),
            key_id: self.settings.key.clone(),
            key_version: Some(primary),
            options: self.settings.stored_options(),
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

    /// Encrypt, retried (up to `max_attempts` in all) when a checksum shows
    /// the request or response was corrupted in transit, as Google advises;
    /// service errors are retried inside the client.
    async fn encrypt(&self, version: Option<String>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        self.retry_corrupt(|| self.encrypt_once(version.clone(), key, aad))
            .await
            .map(|(_, ciphertext)| ciphertext)
    }

    /// Decrypt, retried like [`GcpKms::encrypt`] on checksum mismatches.
    async fn decrypt(&self, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        self.retry_corrupt(|| self.decrypt_once(blob, aad)).await
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
                Err(Attempt::Corrupt(_)) if made < self.settings.common.max_attempts => made += 1,
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
            .with_attempt_timeout(self.settings.common.timeout)
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
            .with_attempt_timeout(self.settings.common.timeout)
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
impl KmsVendor for GcpKms {
    const PROVIDER: &'static str = PROVIDER;
    const OPTIONS: &'static [&'static str] = &OPTIONS;
    const FEATURE: &'static str = "gcp";
    type Given = std::convert::Infallible;
    type Failure = google_cloud_gax::error::Error;

    fn from_spec(spec: &KmsSpec, common: &KmsCommon, _: Option<Self::Given>) -> Result<Self> {
        Ok(GcpKms {
            settings: Settings::parse(spec, common)?,
            client: tokio::sync::OnceCell::new(),
        })
    }

    fn locator(&self) -> String {
        self.settings.key.clone()
    }

    fn subject(&self) -> String {
        match &self.settings.impersonation {
            Some(i) => format!("with {} as {}", self.settings.key, i.target),
            None => format!("with {}", self.settings.key),
        }
    }

    fn classify(&self, op: &str, e: &Self::Failure) -> (KmsErrorKind, String) {
        let (kind, mut detail) = classify_gax_error(op, e);
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
        (kind, detail)
    }

    async fn new_key_ref(&self) -> Result<KmsKeyRef> {
        self.key_ref().await
    }

    async fn owns(&self, slot: &KmsKeyRef) -> Result<bool> {
        Ok(slot.key_id == self.settings.key)
    }

    async fn wrap(&self, slot: Option<&KmsKeyRef>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let version = slot
            .filter(|k| k.key_id == self.settings.key)
            .and_then(|k| k.key_version.clone());
        self.encrypt(version, key, aad).await
    }

    async fn unwrap(&self, _: Option<&KmsKeyRef>, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        self.decrypt(blob, aad).await
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
    let detail = error_chain(e);
    (kind, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings as the source parses them (options checked by the adapter).
    fn parse(spec: &KmsSpec) -> Result<Settings> {
        GcpKmsSource::new(spec).map(|s| s.vendor().settings.clone())
    }

    fn spec(key: &str, opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::from_pairs(PROVIDER, key, opts)
    }

    const KEY: &str = "projects/p/locations/global/keyRings/r/cryptoKeys/k";

    #[test]
    fn settings_validate_and_name_what_is_wrong() {
        assert!(parse(&spec(KEY, &[])).is_ok());
        let err = parse(&spec("k", &[])).unwrap_err().to_string();
        assert!(err.contains("full resource name"), "{err}");
        assert!(parse(&spec(&format!("{KEY}/cryptoKeyVersions/1"), &[])).is_err());
        let err = parse(&spec(KEY, &[("region", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option 'region'"), "{err}");
        assert!(parse(&spec(KEY, &[("credentials", "magic")])).is_err());
        let err = parse(&spec(KEY, &[("endpoint", "http://127.0.0.1:1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--insecure-kms-endpoint"), "{err}");
        let s = parse(&spec(
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
        let s = parse(&spec).unwrap();
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

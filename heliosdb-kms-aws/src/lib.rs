//! AWS KMS as a HeliosDB Nano key source (envelope encryption).
//!
//! The KMS key is the key-encryption key: it wraps the database's root key
//! with `Encrypt` and unwraps it with `Decrypt`, so one KMS request opens a
//! database. Every request carries an encryption context naming what is
//! wrapped (the keyring's AAD: database id and slot), and `Decrypt` pins the
//! key id, so a blob cannot be opened under another key or for another
//! database. A new slot records the key's ARN (an alias is resolved with
//! `DescribeKey`), which is what [`KeySource::matches`] compares: no trial
//! decryption.
//!
//! Configuration: `key_source = { Kms = { provider = "aws", key_id = "alias/…" } }`
//! with options `region`, `endpoint`, `profile`, `max_attempts`,
//! `timeout_secs` in `[encryption.kms]`. Credentials come from the SDK's
//! default chain (environment, profile, SSO, web identity, container and
//! instance roles); they never pass through this crate's options. An
//! `endpoint` must be `https://` unless `insecure_endpoint = "true"` (local
//! emulators such as moto). A slot records the key's ARN and region only:
//! the endpoint is the caller's to give, never the database's.
//!
//! # API boundary
//!
//! Depends on `heliosdb-keys` only (plus the AWS SDK). No key bytes reach a
//! log, an error or `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{EncryptionAlgorithmSpec, KeyState, KeyUsageType};
use aws_sdk_kms::Client;
use heliosdb_keys::{
    Error, KekHeader, KeySource, KmsErrorKind, KmsKeyRef, KmsProvider, KmsRuntime, KmsSpec, Result,
    SecretKey, SourceDescription, SourceKind,
};
use zeroize::Zeroizing;

/// Provider name in configuration and in key headers.
pub const PROVIDER: &str = "aws";

/// The encryption-context entry that carries the keyring's AAD (hex).
pub const CONTEXT_KEY: &str = "heliosdb:aad";

/// Options this provider understands.
pub const OPTIONS: [&str; 5] = [
    "region",
    "endpoint",
    "profile",
    "max_attempts",
    "timeout_secs",
];

/// Options recorded in a slot: the region is part of the key's identity
/// (its ARN names it) and routes only to AWS's own endpoints. The endpoint
/// and profile are the operator's business, not the database's.
pub const IDENTITY_OPTIONS: [&str; 1] = ["region"];

const DEFAULT_MAX_ATTEMPTS: u32 = 3;
const DEFAULT_TIMEOUT_SECS: u64 = 30;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

heliosdb_keys::inventory::submit! {
    KmsProvider {
        name: PROVIDER,
        feature: "aws",
        build: build_source,
        identity_options: &IDENTITY_OPTIONS,
        key_id_routing: heliosdb_keys::no_key_id_routing,
    }
}

fn build_source(spec: &KmsSpec) -> Result<Arc<dyn KeySource>> {
    Ok(Arc::new(AwsKmsSource::new(spec)?))
}

/// Settings parsed from a [`KmsSpec`]; all non-secret.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    key_id: String,
    region: Option<String>,
    endpoint: Option<String>,
    profile: Option<String>,
    max_attempts: u32,
    timeout: Duration,
}

impl Settings {
    fn parse(spec: &KmsSpec) -> Result<Settings> {
        spec.check_options(&OPTIONS)?;
        let key_id = spec.key_id.trim().to_string();
        if key_id.is_empty() {
            return Err(Error::Unsupported(
                "KMS provider aws needs a key_id (key id, key ARN, alias/NAME or alias ARN)".into(),
            ));
        }
        let num = |name: &str, default: u64, max: u64| spec.number_option(name, default, max);
        // A key ARN names its region; use it when none is configured.
        let region = spec
            .options
            .get("region")
            .cloned()
            .or_else(|| arn_region(&key_id).map(str::to_string));
        if let Some(r) = &region {
            // The SDK puts the region into a host name: only a plain label.
            let label = !r.is_empty()
                && r.len() <= 63
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !label {
                return Err(Error::Unsupported(format!(
                    "option 'region' of KMS provider aws must be a region name such as \
                     eu-west-1, got {r:?}"
                )));
            }
        }
        let endpoint = spec.options.get("endpoint").cloned();
        if let Some(e) = &endpoint {
            spec.check_url("endpoint", e)?;
        }
        Ok(Settings {
            region,
            endpoint,
            profile: spec.options.get("profile").cloned(),
            max_attempts: num("max_attempts", u64::from(DEFAULT_MAX_ATTEMPTS), 10)? as u32,
            timeout: Duration::from_secs(num("timeout_secs", DEFAULT_TIMEOUT_SECS, 600)?),
            key_id,
        })
    }

    fn stored_options(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(r) = &self.region {
            debug_assert!(IDENTITY_OPTIONS.contains(&"region"));
            out.insert("region".to_string(), r.clone());
        }
        out
    }
}

/// `arn:aws:kms:REGION:ACCOUNT:key/ID` → `REGION`.
fn arn_region(id: &str) -> Option<&str> {
    let mut parts = id.splitn(6, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_partition), Some("kms"), Some(region)) if !region.is_empty() => {
            Some(region)
        }
        _ => None,
    }
}

/// Whether `id` is a key ARN (not an alias ARN): then it is already the
/// identity a slot stores, and no `DescribeKey` is needed to compare.
fn is_key_arn(id: &str) -> bool {
    arn_region(id).is_some() && id.rsplit(':').next().is_some_and(|r| r.starts_with("key/"))
}

/// The SDK client, built on first use: loading the default credential and
/// region chain is async, and the registry's constructor is not.
#[derive(Default)]
struct OnceClient(tokio::sync::OnceCell<Client>);

impl OnceClient {
    async fn get(&self, s: &Settings) -> &Client {
        self.0
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .retry_config(RetryConfig::standard().with_max_attempts(s.max_attempts))
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(CONNECT_TIMEOUT)
                            .operation_attempt_timeout(s.timeout)
                            .operation_timeout(s.timeout * s.max_attempts)
                            .build(),
                    );
                if let Some(r) = &s.region {
                    loader = loader.region(aws_config::Region::new(r.clone()));
                }
                if let Some(e) = &s.endpoint {
                    loader = loader.endpoint_url(e.clone());
                }
                if let Some(p) = &s.profile {
                    loader = loader.profile_name(p.clone());
                }
                Client::new(&loader.load().await)
            })
            .await
    }
}

struct Inner {
    settings: Settings,
    client: OnceClient,
    /// The key ARN `settings.key_id` resolves to, once asked.
    arn: tokio::sync::OnceCell<String>,
}

/// A key-encryption key in AWS KMS (a symmetric `ENCRYPT_DECRYPT` key).
pub struct AwsKmsSource {
    inner: Arc<Inner>,
    rt: KmsRuntime,
}

impl fmt::Debug for AwsKmsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner.settings;
        f.debug_struct("AwsKmsSource")
            .field("key_id", &s.key_id)
            .field("region", &s.region)
            .field("endpoint", &s.endpoint)
            .finish_non_exhaustive()
    }
}

impl AwsKmsSource {
    /// A source for `spec` (`provider = "aws"`). Makes no request: the client
    /// and the key are resolved on first use.
    ///
    /// # Errors
    /// Unknown or malformed options, an empty key id.
    pub fn new(spec: &KmsSpec) -> Result<Self> {
        Ok(AwsKmsSource {
            inner: Arc::new(Inner {
                settings: Settings::parse(spec)?,
                client: OnceClient::default(),
                arn: tokio::sync::OnceCell::new(),
            }),
            rt: KmsRuntime::new("heliosdb-kms-aws")?,
        })
    }

    /// The configured key id (alias, ARN or key id).
    pub fn key_id(&self) -> &str {
        &self.inner.settings.key_id
    }

    /// The key ARN this source's key id resolves to (one `DescribeKey` call the
    /// first time, none after).
    ///
    /// # Errors
    /// Classified KMS errors.
    pub async fn key_arn(&self) -> Result<String> {
        let inner = Arc::clone(&self.inner);
        self.rt
            .run(async move { inner.resolve().await.cloned() })
            .await
    }
}

impl Inner {
    fn description(&self) -> SourceDescription {
        SourceDescription {
            kind: SourceKind::Kms,
            locator: Some(self.settings.key_id.clone()),
            provider: Some(PROVIDER.to_string()),
        }
    }

    async fn resolve(&self) -> Result<&String> {
        self.arn
            .get_or_try_init(|| async {
                let client = self.client.get(&self.settings).await;
                let out = client
                    .describe_key()
                    .key_id(&self.settings.key_id)
                    .send()
                    .await
                    .map_err(|e| classify_sdk_error("DescribeKey", &self.settings.key_id, &e))?;
                let meta = out.key_metadata().ok_or_else(|| {
                    kms_error(
                        KmsErrorKind::Unavailable,
                        format!(
                            "DescribeKey of {} returned no key metadata",
                            self.settings.key_id
                        ),
                    )
                })?;
                if meta
                    .key_usage()
                    .is_some_and(|u| *u != KeyUsageType::EncryptDecrypt)
                {
                    return Err(kms_error(
                        KmsErrorKind::WrongKey,
                        format!(
                            "key {} is not a symmetric ENCRYPT_DECRYPT key (usage {:?})",
                            self.settings.key_id,
                            meta.key_usage()
                        ),
                    ));
                }
                // A disabled or pending-deletion key would fail every
                // Encrypt/Decrypt anyway; naming its state here tells the
                // operator the fix instead of a later, vaguer refusal.
                if let Some(
                    state @ (KeyState::Disabled
                    | KeyState::PendingDeletion
                    | KeyState::PendingReplicaDeletion
                    | KeyState::PendingImport
                    | KeyState::Unavailable),
                ) = meta.key_state()
                {
                    return Err(kms_error(
                        KmsErrorKind::KeyUnusable,
                        format!(
                            "key {} is in state {}; enable it (EnableKey), cancel its \
                             deletion (CancelKeyDeletion) or import its key material",
                            self.settings.key_id,
                            state.as_str()
                        ),
                    ));
                }
                let arn = meta.arn().ok_or_else(|| {
                    kms_error(
                        KmsErrorKind::Unavailable,
                        format!("DescribeKey of {} returned no ARN", self.settings.key_id),
                    )
                })?;
                tracing::debug!(key_id = %self.settings.key_id, %arn, "resolved AWS KMS key");
                Ok(arn.to_string())
            })
            .await
    }

    /// The ARN to compare with a slot, without a request when the configured
    /// id already is a key ARN.
    async fn identity(&self) -> Result<String> {
        if is_key_arn(&self.settings.key_id) {
            return Ok(self.settings.key_id.clone());
        }
        self.resolve().await.cloned()
    }

    async fn header(&self) -> Result<KekHeader> {
        let arn = self.resolve().await?.clone();
        Ok(KekHeader {
            source: self.description(),
            key_check: None,
            kdf: None,
            kms: Some(KmsKeyRef {
                provider: PROVIDER.to_string(),
                key_id: arn,
                key_version: None,
                options: self.settings.stored_options(),
            }),
        })
    }

    async fn encrypt(&self, arn: String, key: Zeroizing<Vec<u8>>, aad: Vec<u8>) -> Result<Vec<u8>> {
        let client = self.client.get(&self.settings).await;
        let out = client
            .encrypt()
            .key_id(&arn)
            .plaintext(Blob::new(key.to_vec()))
            .encryption_context(CONTEXT_KEY, hex::encode(&aad))
            .encryption_algorithm(EncryptionAlgorithmSpec::SymmetricDefault)
            .send()
            .await
            .map_err(|e| classify_sdk_error("Encrypt", &arn, &e))?;
        out.ciphertext_blob()
            .map(|b| b.as_ref().to_vec())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                kms_error(
                    KmsErrorKind::Unavailable,
                    format!("Encrypt under {arn} returned no ciphertext"),
                )
            })
    }

    /// ReEncrypt: the blob goes from `from` (with `from_aad`) to `to` (with
    /// `to_aad`) inside KMS; the key never comes out.
    async fn re_encrypt(
        &self,
        from: String,
        blob: Vec<u8>,
        from_aad: Vec<u8>,
        to: String,
        to_aad: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let client = self.client.get(&self.settings).await;
        let out = client
            .re_encrypt()
            .ciphertext_blob(Blob::new(blob))
            .source_key_id(&from)
            .source_encryption_context(CONTEXT_KEY, hex::encode(&from_aad))
            .source_encryption_algorithm(EncryptionAlgorithmSpec::SymmetricDefault)
            .destination_key_id(&to)
            .destination_encryption_context(CONTEXT_KEY, hex::encode(&to_aad))
            .destination_encryption_algorithm(EncryptionAlgorithmSpec::SymmetricDefault)
            .send()
            .await
            .map_err(|e| classify_sdk_error("ReEncrypt", &to, &e))?;
        out.ciphertext_blob()
            .map(|b| b.as_ref().to_vec())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                kms_error(
                    KmsErrorKind::Unavailable,
                    format!("ReEncrypt from {from} to {to} returned no ciphertext"),
                )
            })
    }

    async fn decrypt(&self, blob: Vec<u8>, aad: Vec<u8>) -> Result<SecretKey> {
        // Pin our own key: KMS refuses a blob another key wrapped instead of
        // quietly using whichever key the blob names.
        let arn = self.identity().await?;
        let client = self.client.get(&self.settings).await;
        let out = client
            .decrypt()
            .key_id(&arn)
            .ciphertext_blob(Blob::new(blob))
            .encryption_context(CONTEXT_KEY, hex::encode(&aad))
            .encryption_algorithm(EncryptionAlgorithmSpec::SymmetricDefault)
            .send()
            .await
            .map_err(|e| classify_sdk_error("Decrypt", &arn, &e))?;
        let plain = Zeroizing::new(
            out.plaintext()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
        );
        SecretKey::from_slice(&plain).ok_or_else(|| {
            kms_error(
                KmsErrorKind::WrongKey,
                format!(
                    "Decrypt under {arn} returned {} bytes, not a 32-byte key",
                    plain.len()
                ),
            )
        })
    }
}

#[async_trait]
impl KeySource for AwsKmsSource {
    fn describe(&self) -> SourceDescription {
        self.inner.description()
    }

    async fn new_header(&self) -> Result<KekHeader> {
        let inner = Arc::clone(&self.inner);
        self.rt.run(async move { inner.header().await }).await
    }

    async fn matches(&self, header: &KekHeader) -> Result<bool> {
        let Some(kms) = header.kms.as_ref().filter(|k| k.provider == PROVIDER) else {
            return Ok(false);
        };
        let inner = Arc::clone(&self.inner);
        let ours = self.rt.run(async move { inner.identity().await }).await?;
        Ok(kms.key_id == ours)
    }

    async fn wrap(&self, header: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
        // Wrap under the key the header names (resolved when it was made),
        // so a slot never says one key while another wrapped it.
        let arn = match header.kms.as_ref().filter(|k| k.provider == PROVIDER) {
            Some(k) => k.key_id.clone(),
            None => {
                return Err(Error::Unsupported(
                    "AWS KMS cannot wrap for a slot header it did not make".into(),
                ))
            }
        };
        let inner = Arc::clone(&self.inner);
        let plain = Zeroizing::new(key.expose_secret().to_vec());
        let aad = aad.to_vec();
        self.rt
            .run(async move { inner.encrypt(arn, plain, aad).await })
            .await
    }

    async fn rewrap(
        &self,
        old: &KekHeader,
        blob: &[u8],
        old_aad: &[u8],
        new: &KekHeader,
        new_aad: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let ours = |h: &KekHeader| h.kms.clone().filter(|k| k.provider == PROVIDER);
        let (Some(from), Some(to)) = (ours(old), ours(new)) else {
            return Ok(None);
        };
        // One request reaches both keys only in one region (and through this
        // source's endpoint: if the old key is not there, ReEncrypt fails and
        // the keyring wraps instead).
        if from.options.get("region") != to.options.get("region") || blob.is_empty() {
            return Ok(None);
        }
        let inner = Arc::clone(&self.inner);
        let (blob, old_aad, new_aad) = (blob.to_vec(), old_aad.to_vec(), new_aad.to_vec());
        self.rt
            .run(async move {
                inner
                    .re_encrypt(from.key_id, blob, old_aad, to.key_id, new_aad)
                    .await
            })
            .await
            .map(Some)
    }

    async fn unwrap(&self, _header: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        if blob.is_empty() {
            return Err(kms_error(
                KmsErrorKind::WrongKey,
                "empty wrapped key".into(),
            ));
        }
        let inner = Arc::clone(&self.inner);
        let (blob, aad) = (blob.to_vec(), aad.to_vec());
        self.rt
            .run(async move { inner.decrypt(blob, aad).await })
            .await
    }
}

fn kms_error(kind: KmsErrorKind, message: String) -> Error {
    Error::Kms {
        provider: PROVIDER.to_string(),
        kind,
        message,
    }
}

/// Sorts an AWS error code (the `__type` / `x-amzn-ErrorType` of a service
/// error) and HTTP status into the fixed set.
pub fn classify_code(code: Option<&str>, status: Option<u16>) -> KmsErrorKind {
    match code.unwrap_or("") {
        // "This key did not wrap this blob" (or is not a symmetric
        // encryption key): another key is the answer.
        "IncorrectKeyException" | "InvalidCiphertextException" | "InvalidKeyUsageException" => {
            KmsErrorKind::WrongKey
        }
        // The key exists but its state refuses use: disabled, pending
        // deletion or import, unavailable custom key store. The fix is on
        // the key (enable it, cancel its deletion). KMSInvalidStateException
        // can be transient for CloudHSM custom key stores, but it is not
        // classified as retryable: a disabled or pending-deletion key is
        // the common case, retrying would only delay the message that names
        // the fix, and the SDK's retry policy does not retry it either.
        "KMSInvalidStateException" | "KmsInvalidStateException" | "DisabledException" => {
            KmsErrorKind::KeyUnusable
        }
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "MissingAuthenticationToken"
        | "InvalidGrantTokenException" => KmsErrorKind::AccessDenied,
        "NotFoundException" | "InvalidArnException" => KmsErrorKind::NotFound,
        "DependencyTimeoutException"
        | "KMSInternalException"
        | "KmsInternalException"
        | "KeyUnavailableException"
        | "ThrottlingException"
        | "LimitExceededException"
        | "ServiceUnavailableException"
        | "InternalFailure" => KmsErrorKind::Unavailable,
        _ => match status {
            Some(401 | 403) => KmsErrorKind::AccessDenied,
            Some(404) => KmsErrorKind::NotFound,
            // Anything else the service refuses (validation errors) is
            // about the request, not the service's health, and nothing
            // says another key would help.
            Some(400..=499) => KmsErrorKind::InvalidRequest,
            _ => KmsErrorKind::Unavailable,
        },
    }
}

/// Sorts an SDK error of operation `op` on key `key` into [`Error::Kms`].
/// Transport failures and timeouts (after the SDK's bounded retries) are
/// "unavailable"; a missing or refused credential is "access denied".
pub fn classify_sdk_error<E>(op: &str, key: &str, err: &SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, detail) = match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let code = e.code();
            let kind = classify_code(code, Some(ctx.raw().status().as_u16()));
            let detail = format!(
                "{}{}",
                code.unwrap_or("error"),
                e.message().map(|m| format!(": {m}")).unwrap_or_default()
            );
            (kind, detail)
        }
        SdkError::TimeoutError(_) => (
            KmsErrorKind::Unavailable,
            "timed out waiting for AWS KMS".to_string(),
        ),
        SdkError::DispatchFailure(d) if d.is_timeout() || d.is_io() => {
            let what = if d.is_timeout() {
                "timed out connecting to AWS KMS"
            } else {
                "cannot connect to AWS KMS"
            };
            (
                KmsErrorKind::Unavailable,
                format!("{what}: {}", error_chain(err)),
            )
        }
        SdkError::ResponseError(_) => (
            KmsErrorKind::Unavailable,
            format!("unreadable response from AWS KMS: {}", error_chain(err)),
        ),
        _ => classify_construction(err),
    };
    kms_error(kind, format!("{op} with key {key}: {detail}"))
}

/// Errors raised before a request reaches the wire: almost always
/// credentials (none in the default chain, a profile that does not exist),
/// or a bad region or endpoint setting.
fn classify_construction<E>(err: &SdkError<E, HttpResponse>) -> (KmsErrorKind, String)
where
    E: std::error::Error + 'static,
{
    let chain = error_chain(err);
    let lower = chain.to_ascii_lowercase();
    let kind = if lower.contains("credential") || lower.contains("identity") {
        KmsErrorKind::AccessDenied
    } else {
        KmsErrorKind::Unavailable
    };
    (kind, format!("request not sent: {chain}"))
}

/// The error and its sources on one line (SDK errors keep the useful part
/// in a source). AWS error messages carry no key material.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key_id: &str, opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec {
            provider: PROVIDER.into(),
            key_id: key_id.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn options_are_checked_and_named() {
        let err = Settings::parse(&spec("alias/x", &[("regoin", "eu-west-1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option 'regoin'"), "{err}");
        let err = Settings::parse(&spec("alias/x", &[("max_attempts", "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_attempts"), "{err}");
        assert!(Settings::parse(&spec(" ", &[])).is_err());
        let s = Settings::parse(&spec(
            "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            &[("profile", "ops")],
        ))
        .unwrap();
        assert_eq!(s.region.as_deref(), Some("eu-central-1"));
        assert_eq!(s.max_attempts, DEFAULT_MAX_ATTEMPTS);
        // The profile is the operator's choice, not part of the database.
        assert_eq!(
            s.stored_options().keys().collect::<Vec<_>>(),
            vec!["region"]
        );
    }

    #[test]
    fn endpoints_are_https_and_never_recorded() {
        let err = Settings::parse(&spec("alias/x", &[("endpoint", "http://127.0.0.1:5000")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--insecure-kms-endpoint"), "{err}");
        let s = Settings::parse(&spec(
            "alias/x",
            &[
                ("endpoint", "http://127.0.0.1:5000"),
                ("insecure_endpoint", "true"),
                ("region", "us-east-1"),
            ],
        ))
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(
            s.stored_options().keys().collect::<Vec<_>>(),
            vec!["region"]
        );
        let err = Settings::parse(&spec("alias/x", &[("region", "evil.example/#")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("region name"), "{err}");
    }

    #[test]
    fn key_arns_are_told_from_aliases() {
        assert!(is_key_arn(
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(!is_key_arn("arn:aws:kms:us-east-1:111122223333:alias/app"));
        assert!(!is_key_arn("alias/app"));
        assert!(!is_key_arn("1234abcd-12ab-34cd-56ef-1234567890ab"));
    }

    #[test]
    fn codes_are_classified() {
        use KmsErrorKind::*;
        let cases = [
            ("IncorrectKeyException", WrongKey),
            ("InvalidCiphertextException", WrongKey),
            ("InvalidKeyUsageException", WrongKey),
            ("DisabledException", KeyUnusable),
            ("KMSInvalidStateException", KeyUnusable),
            ("KmsInvalidStateException", KeyUnusable),
            ("ValidationException", InvalidRequest),
            ("UnsupportedOperationException", InvalidRequest),
            ("AccessDeniedException", AccessDenied),
            ("UnrecognizedClientException", AccessDenied),
            ("NotFoundException", NotFound),
            ("ThrottlingException", Unavailable),
            ("KMSInternalException", Unavailable),
            ("KeyUnavailableException", Unavailable),
        ];
        for (code, kind) in cases {
            assert_eq!(classify_code(Some(code), Some(400)), kind, "{code}");
        }
        assert_eq!(classify_code(None, Some(403)), AccessDenied);
        assert_eq!(classify_code(None, Some(503)), Unavailable);
        assert_eq!(classify_code(None, Some(400)), InvalidRequest);
        assert_eq!(classify_code(None, Some(404)), NotFound);
        assert!(!classify_code(Some("KMSInvalidStateException"), None).is_retryable());
        assert!(classify_code(Some("ThrottlingException"), None).is_retryable());
        assert!(!classify_code(Some("AccessDeniedException"), None).is_retryable());
    }
}

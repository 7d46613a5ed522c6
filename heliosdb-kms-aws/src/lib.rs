//! AWS KMS as a HeliosDB Nano key source (envelope encryption).
//!
//! The KMS key is the key-encryption key: it wraps the database's root key
//! with `Encrypt` and unwraps it with `Decrypt`, so one KMS request opens a
//! database. Every request carries an encryption context naming what is
//! wrapped (the keyring's AAD: database id and slot), and `Decrypt` pins the
//! key id, so a blob cannot be opened under another key or for another
//! database. A new slot records the key's ARN (an alias is resolved with
//! `DescribeKey`), which is what [`heliosdb_keys::KeySource::matches`] compares: no trial
//! decryption.
//!
//! # Encryption context
//!
//! New slots send the AAD as named pairs, `heliosdb:purpose = root-key`,
//! `heliosdb:db = <database id>`, `heliosdb:slot = <slot number>`, so key
//! policies can use `kms:EncryptionContext:heliosdb:db` conditions and
//! CloudTrail shows which database a request was for. Slots made before
//! that carry the whole AAD as hex in one pair, `heliosdb:aad`
//! ([`CONTEXT_KEY`]). Which form a slot used is recorded in the slot
//! header (option [`CONTEXT_FORM_OPTION`] = `named-v1`; absent: the old
//! form), so opening a database makes exactly one `Decrypt` with the right
//! context: no trial of one form after the other. Both forms carry the same
//! information, so the record (which travels with the database) can only
//! pick a context under which the blob fails to open, never widen what a
//! blob opens for. A KEK rotation re-wraps an old slot into a new,
//! named-pair one.
//!
//! Configuration: `key_source = { Kms = { provider = "aws", key_id = "alias/…" } }`
//! with options `region`, `endpoint`, `profile`, `role_arn`, `external_id`,
//! `session_name`, `max_attempts`, `timeout_secs` in `[encryption.kms]`.
//! Credentials come from the SDK's default chain (environment, profile,
//! SSO, web identity, container and instance roles); they never pass
//! through this crate's options. With `role_arn`, those credentials only
//! call STS `AssumeRole` (with `external_id` when given, session name
//! `session_name`, default `heliosdb-nano`), and the role's temporary
//! credentials, refreshed before they expire, make the KMS calls. An
//! `endpoint` must be `https://` unless `insecure_endpoint = "true"` (local
//! emulators such as moto); it applies to STS too. A slot records the
//! key's ARN and region only: the endpoint and the role are the caller's
//! to give, never the database's.
//!
//! # API boundary
//!
//! Depends on `heliosdb-keys` only (plus the AWS SDK). No key bytes reach a
//! log, an error or `Debug` output.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
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
    error_chain, Error, KmsCommon, KmsErrorKind, KmsKeyRef, KmsProvider, KmsSource, KmsSpec,
    KmsVendor, Result, SecretKey,
};
use zeroize::Zeroizing;

/// Provider name in configuration and in key headers.
pub const PROVIDER: &str = "aws";

/// The encryption-context entry that carries the whole AAD (hex): every
/// request of slots made before named pairs, and of AADs that are not a
/// root-key wrap (which the keyring does not send to a KMS).
pub const CONTEXT_KEY: &str = "heliosdb:aad";
/// Named-pair context: what is wrapped (`root-key`).
pub const CONTEXT_PURPOSE: &str = "heliosdb:purpose";
/// Named-pair context: the database id.
pub const CONTEXT_DB: &str = "heliosdb:db";
/// Named-pair context: the keyring slot number (decimal).
pub const CONTEXT_SLOT: &str = "heliosdb:slot";
/// The slot option recording the encryption-context form of its wrap.
pub const CONTEXT_FORM_OPTION: &str = "encryption_context";
/// [`CONTEXT_FORM_OPTION`]'s value for named pairs.
pub const CONTEXT_FORM_NAMED: &str = "named-v1";

/// The keyring's root-key AAD: this label, the database id, the slot
/// number (u32, big-endian). Kept in step with `heliosdb-keys`.
const ROOT_WRAP_LABEL: &[u8] = b"heliosdb-nano/root/v1";

/// Options this provider understands besides `timeout_secs` and
/// `max_attempts` ([`heliosdb_keys::COMMON_OPTIONS`]).
pub const OPTIONS: [&str; 6] = [
    "region",
    "endpoint",
    "profile",
    "role_arn",
    "external_id",
    "session_name",
];

/// The STS session name when `role_arn` is given without `session_name`:
/// what CloudTrail shows as the assumed-role session.
pub const DEFAULT_SESSION_NAME: &str = "heliosdb-nano";

/// Options recorded in a slot: the region is part of the key's identity
/// (its ARN names it) and routes only to AWS's own endpoints. The endpoint
/// and profile are the operator's business, not the database's.
pub const IDENTITY_OPTIONS: [&str; 1] = ["region"];

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

heliosdb_keys::inventory::submit! {
    KmsProvider::of::<AwsKms>()
}

/// Settings parsed from a [`KmsSpec`]; all non-secret.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    key_id: String,
    region: Option<String>,
    endpoint: Option<String>,
    profile: Option<String>,
    role: Option<AssumeRole>,
    common: KmsCommon,
}

/// The role to assume on top of the default credential chain.
#[derive(Clone, Debug, PartialEq, Eq)]
struct AssumeRole {
    arn: String,
    external_id: Option<String>,
    session_name: String,
}

impl Settings {
    fn parse(spec: &KmsSpec, common: &KmsCommon) -> Result<Settings> {
        let key_id = spec.key_id.trim().to_string();
        if key_id.is_empty() {
            return Err(Error::Unsupported(
                "KMS provider aws needs a key_id (key id, key ARN, alias/NAME or alias ARN)".into(),
            ));
        }
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
            role: parse_role(spec)?,
            common: *common,
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

/// `role_arn`, `external_id`, `session_name`, checked as STS checks them so
/// a typo is named at startup, not as an STS refusal on first use.
fn parse_role(spec: &KmsSpec) -> Result<Option<AssumeRole>> {
    let opt = |name: &str| {
        spec.options
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let bad = |m: String| Err(Error::Unsupported(m));
    let Some(arn) = opt("role_arn") else {
        for dependent in ["external_id", "session_name"] {
            if opt(dependent).is_some() {
                return bad(format!(
                    "option '{dependent}' of KMS provider aws needs 'role_arn' (the role to assume)"
                ));
            }
        }
        return Ok(None);
    };
    let mut parts = arn.splitn(6, ':');
    let is_role = matches!(
        (parts.next(), parts.next(), parts.next(), parts.nth(1), parts.next()),
        (Some("arn"), Some(p), Some("iam"), Some(account), Some(res))
            if !p.is_empty() && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && res.starts_with("role/") && res.len() > 5
    );
    if !is_role {
        return bad(format!(
            "option 'role_arn' of KMS provider aws must be an IAM role ARN \
             (arn:aws:iam::ACCOUNT:role/NAME), got {arn:?}"
        ));
    }
    // STS: 2 to 64 characters of [\w+=,.@-] (session names), 2 to 1224 of
    // [\w+=,.@:/-] (external ids).
    let sts_chars = |v: &str, extra: &[u8]| {
        v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b) || extra.contains(&b))
    };
    let session_name = opt("session_name").unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string());
    if !(2..=64).contains(&session_name.len()) || !sts_chars(&session_name, b"") {
        return bad(format!(
            "option 'session_name' of KMS provider aws must be 2 to 64 characters of \
             letters, digits and _+=,.@-, got {session_name:?}"
        ));
    }
    let external_id = opt("external_id");
    if let Some(x) = &external_id {
        if !(2..=1224).contains(&x.len()) || !sts_chars(x, b":/") {
            return bad(
                "option 'external_id' of KMS provider aws must be 2 to 1224 characters of \
                 letters, digits and _+=,.@:/-"
                    .into(),
            );
        }
    }
    Ok(Some(AssumeRole {
        arn,
        external_id,
        session_name,
    }))
}

/// Which encryption context a slot's wrap used (see the crate docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ContextForm {
    /// `heliosdb:aad = hex(AAD)`: slots made before named pairs.
    Legacy,
    /// `heliosdb:purpose`, `heliosdb:db`, `heliosdb:slot`.
    Named,
}

impl ContextForm {
    /// The form a slot header records; no record is the old form.
    fn of(kms: &KmsKeyRef) -> ContextForm {
        match kms.options.get(CONTEXT_FORM_OPTION).map(String::as_str) {
            Some(CONTEXT_FORM_NAMED) => ContextForm::Named,
            _ => ContextForm::Legacy,
        }
    }
}

/// The encryption context for `aad` in `form`. Named pairs are a one-to-one
/// image of a root-key AAD (label, then database id, then slot), so they
/// bind exactly what the hex form binds. An AAD of another shape keeps the
/// hex form: a context value must be text, and no other AAD reaches a KMS.
pub fn encryption_context(named: bool, aad: &[u8]) -> HashMap<String, String> {
    let mut ctx = HashMap::new();
    let parsed = aad
        .strip_prefix(ROOT_WRAP_LABEL)
        .filter(|rest| rest.len() > 4)
        .and_then(|rest| {
            let (db, slot) = rest.split_at(rest.len() - 4);
            let db = std::str::from_utf8(db).ok()?;
            let slot = u32::from_be_bytes(slot.try_into().ok()?);
            Some((db, slot))
        });
    match parsed {
        Some((db, slot)) if named => {
            ctx.insert(CONTEXT_PURPOSE.to_string(), "root-key".to_string());
            ctx.insert(CONTEXT_DB.to_string(), db.to_string());
            ctx.insert(CONTEXT_SLOT.to_string(), slot.to_string());
        }
        _ => {
            ctx.insert(CONTEXT_KEY.to_string(), hex::encode(aad));
        }
    }
    ctx
}

fn context_for(form: ContextForm, aad: &[u8]) -> HashMap<String, String> {
    encryption_context(form == ContextForm::Named, aad)
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
                    .retry_config(RetryConfig::standard().with_max_attempts(s.common.max_attempts))
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(CONNECT_TIMEOUT)
                            .operation_attempt_timeout(s.common.timeout)
                            .operation_timeout(s.common.request_budget())
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
                let base = loader.load().await;
                let Some(role) = &s.role else {
                    return Client::new(&base);
                };
                // The default chain's credentials call STS (through the
                // same endpoint, region and retry settings); the role's
                // temporary credentials, cached and refreshed before they
                // expire, sign the KMS calls.
                let mut assume = aws_config::sts::AssumeRoleProvider::builder(role.arn.clone())
                    .session_name(role.session_name.clone())
                    .configure(&base);
                if let Some(x) = &role.external_id {
                    assume = assume.external_id(x.clone());
                }
                let provider = assume.build().await;
                Client::from_conf(
                    aws_sdk_kms::config::Builder::from(&base)
                        .credentials_provider(provider)
                        .build(),
                )
            })
            .await
    }
}

/// The AWS KMS vendor behind [`AwsKmsSource`].
pub struct AwsKms {
    settings: Settings,
    client: OnceClient,
    /// The key ARN `settings.key_id` resolves to, once asked.
    arn: tokio::sync::OnceCell<String>,
}

/// A key-encryption key in AWS KMS (a symmetric `ENCRYPT_DECRYPT` key).
/// [`KmsSource::new`] makes no request (the client and the key are
/// resolved on first use); it fails on unknown or malformed options and an
/// empty key id.
pub type AwsKmsSource = KmsSource<AwsKms>;

impl fmt::Debug for AwsKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("AwsKms")
            .field("key_id", &s.key_id)
            .field("region", &s.region)
            .field("endpoint", &s.endpoint)
            .field("role_arn", &s.role.as_ref().map(|r| &r.arn))
            .finish_non_exhaustive()
    }
}

/// Requests of the AWS source beyond [`heliosdb_keys::KeySource`].
#[async_trait]
pub trait AwsKmsExt {
    /// The configured key id (alias, ARN or key id).
    fn key_id(&self) -> &str;

    /// The key ARN this source's key id resolves to (one `DescribeKey`
    /// call the first time, none after).
    ///
    /// # Errors
    /// Classified KMS errors.
    async fn key_arn(&self) -> Result<String>;
}

#[async_trait]
impl AwsKmsExt for AwsKmsSource {
    fn key_id(&self) -> &str {
        &self.vendor().settings.key_id
    }

    async fn key_arn(&self) -> Result<String> {
        self.run("DescribeKey", |v| async move { v.resolve().await.cloned() })
            .await
    }
}

impl AwsKms {
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

    async fn key_ref(&self) -> Result<KmsKeyRef> {
        let arn = self.resolve().await?.clone();
        let mut options = self.settings.stored_options();
        // Not an identity option: read from the slot by wrap and unwrap,
        // never turned into a setting (see `ContextForm`).
        options.insert(
            CONTEXT_FORM_OPTION.to_string(),
            CONTEXT_FORM_NAMED.to_string(),
        );
        Ok(KmsKeyRef {
            provider: PROVIDER.to_string(),
            key_id: arn,
            key_version: None,
            options,
        })
    }

    async fn encrypt(
        &self,
        arn: String,
        key: &[u8],
        context: HashMap<String, String>,
    ) -> Result<Vec<u8>> {
        let client = self.client.get(&self.settings).await;
        let out = client
            .encrypt()
            .key_id(&arn)
            .plaintext(Blob::new(key.to_vec()))
            .set_encryption_context(Some(context))
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
        blob: &[u8],
        from_context: HashMap<String, String>,
        to: String,
        to_context: HashMap<String, String>,
    ) -> Result<Vec<u8>> {
        let client = self.client.get(&self.settings).await;
        let out = client
            .re_encrypt()
            .ciphertext_blob(Blob::new(blob))
            .source_key_id(&from)
            .set_source_encryption_context(Some(from_context))
            .source_encryption_algorithm(EncryptionAlgorithmSpec::SymmetricDefault)
            .destination_key_id(&to)
            .set_destination_encryption_context(Some(to_context))
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

    async fn decrypt(&self, blob: &[u8], context: HashMap<String, String>) -> Result<SecretKey> {
        // Pin our own key: KMS refuses a blob another key wrapped instead of
        // quietly using whichever key the blob names.
        let arn = self.identity().await?;
        let client = self.client.get(&self.settings).await;
        let out = client
            .decrypt()
            .key_id(&arn)
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(context))
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
impl KmsVendor for AwsKms {
    const PROVIDER: &'static str = PROVIDER;
    const OPTIONS: &'static [&'static str] = &OPTIONS;
    const FEATURE: &'static str = "aws";
    const IDENTITY_OPTIONS: &'static [&'static str] = &IDENTITY_OPTIONS;
    type Given = std::convert::Infallible;
    type Failure = SdkFailure;

    fn from_spec(spec: &KmsSpec, common: &KmsCommon, _: Option<Self::Given>) -> Result<Self> {
        Ok(AwsKms {
            settings: Settings::parse(spec, common)?,
            client: OnceClient::default(),
            arn: tokio::sync::OnceCell::new(),
        })
    }

    fn locator(&self) -> String {
        self.settings.key_id.clone()
    }

    fn subject(&self) -> String {
        format!("with key {}", self.settings.key_id)
    }

    fn classify(&self, _op: &str, failure: &SdkFailure) -> (KmsErrorKind, String) {
        failure.classify()
    }

    async fn new_key_ref(&self) -> Result<KmsKeyRef> {
        self.key_ref().await
    }

    async fn owns(&self, slot: &KmsKeyRef) -> Result<bool> {
        Ok(slot.key_id == self.identity().await?)
    }

    async fn wrap(&self, slot: Option<&KmsKeyRef>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        // Wrap under the key the slot names (resolved when it was made),
        // so a slot never says one key while another wrapped it.
        let Some(slot) = slot else {
            return Err(Error::Unsupported(
                "AWS KMS cannot wrap for a slot header it did not make".into(),
            ));
        };
        let context = context_for(ContextForm::of(slot), aad);
        self.encrypt(slot.key_id.clone(), key, context).await
    }

    async fn rewrap(
        &self,
        from: &KmsKeyRef,
        blob: &[u8],
        old_aad: &[u8],
        to: &KmsKeyRef,
        new_aad: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        // One request reaches both keys only in one region (and through this
        // source's endpoint: if the old key is not there, ReEncrypt fails and
        // the keyring wraps instead).
        if from.options.get("region") != to.options.get("region") {
            return Ok(None);
        }
        let from_context = context_for(ContextForm::of(from), old_aad);
        let to_context = context_for(ContextForm::of(to), new_aad);
        self.re_encrypt(
            from.key_id.clone(),
            blob,
            from_context,
            to.key_id.clone(),
            to_context,
        )
        .await
        .map(Some)
    }

    async fn unwrap(&self, slot: Option<&KmsKeyRef>, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        // The form the slot's wrap used; a header of another provider (or
        // none) is an old slot's at most, and Decrypt then refuses anyway.
        let form = slot.map_or(ContextForm::Legacy, ContextForm::of);
        self.decrypt(blob, context_for(form, aad)).await
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

/// An SDK error reduced to what sorting it reads: the service's error code,
/// message and HTTP status, or how the request failed on the way. AWS error
/// messages carry no key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdkFailure {
    /// The service answered with an error.
    Service {
        /// The `__type` / `x-amzn-ErrorType`.
        code: Option<String>,
        /// The service's message.
        message: Option<String>,
        /// The HTTP status.
        status: u16,
    },
    /// No answer in time (after the SDK's bounded retries).
    Timeout,
    /// The connection failed: `timeout` when connecting timed out.
    Connect {
        /// Whether connecting timed out (else it was refused or broke).
        timeout: bool,
        /// The error and its sources.
        chain: String,
    },
    /// The response could not be read.
    Response(String),
    /// The request was never sent: credentials, region or endpoint settings.
    NotSent(String),
}

impl SdkFailure {
    /// The failure `err` describes.
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match err {
            SdkError::ServiceError(ctx) => SdkFailure::Service {
                code: ctx.err().code().map(str::to_string),
                message: ctx.err().message().map(str::to_string),
                status: ctx.raw().status().as_u16(),
            },
            SdkError::TimeoutError(_) => SdkFailure::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() || d.is_io() => SdkFailure::Connect {
                timeout: d.is_timeout(),
                chain: error_chain(err),
            },
            SdkError::ResponseError(_) => SdkFailure::Response(error_chain(err)),
            _ => SdkFailure::NotSent(error_chain(err)),
        }
    }

    /// Sorts the failure. Transport failures and timeouts are "unavailable";
    /// a missing or refused credential is "access denied".
    pub fn classify(&self) -> (KmsErrorKind, String) {
        match self {
            SdkFailure::Service {
                code,
                message,
                status,
            } => (
                classify_code(code.as_deref(), Some(*status)),
                format!(
                    "{}{}",
                    code.as_deref().unwrap_or("error"),
                    message
                        .as_ref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            ),
            SdkFailure::Timeout => (
                KmsErrorKind::Unavailable,
                "timed out waiting for AWS KMS".to_string(),
            ),
            SdkFailure::Connect { timeout, chain } => {
                let what = if *timeout {
                    "timed out connecting to AWS KMS"
                } else {
                    "cannot connect to AWS KMS"
                };
                (KmsErrorKind::Unavailable, format!("{what}: {chain}"))
            }
            SdkFailure::Response(chain) => (
                KmsErrorKind::Unavailable,
                format!("unreadable response from AWS KMS: {chain}"),
            ),
            // Errors raised before a request reaches the wire: almost always
            // credentials (none in the default chain, a profile that does
            // not exist), or a bad region or endpoint setting.
            SdkFailure::NotSent(chain) => {
                let lower = chain.to_ascii_lowercase();
                let kind = if lower.contains("credential") || lower.contains("identity") {
                    KmsErrorKind::AccessDenied
                } else {
                    KmsErrorKind::Unavailable
                };
                (kind, format!("request not sent: {chain}"))
            }
        }
    }
}

/// Sorts an SDK error of operation `op` on key `key` into [`Error::Kms`].
pub fn classify_sdk_error<E>(op: &str, key: &str, err: &SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (kind, detail) = SdkFailure::of(err).classify();
    kms_error(kind, format!("{op} with key {key}: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings as the source parses them (options checked by the adapter).
    fn parse(spec: &KmsSpec) -> Result<Settings> {
        AwsKmsSource::new(spec).map(|s| s.vendor().settings.clone())
    }

    fn spec(key_id: &str, opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::from_pairs(PROVIDER, key_id, opts)
    }

    #[test]
    fn options_are_checked_and_named() {
        let err = parse(&spec("alias/x", &[("regoin", "eu-west-1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option 'regoin'"), "{err}");
        let err = parse(&spec("alias/x", &[("max_attempts", "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_attempts"), "{err}");
        assert!(parse(&spec(" ", &[])).is_err());
        let s = parse(&spec(
            "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            &[("profile", "ops")],
        ))
        .unwrap();
        assert_eq!(s.region.as_deref(), Some("eu-central-1"));
        assert_eq!(s.common.max_attempts, heliosdb_keys::DEFAULT_MAX_ATTEMPTS);
        // The profile is the operator's choice, not part of the database.
        assert_eq!(
            s.stored_options().keys().collect::<Vec<_>>(),
            vec!["region"]
        );
    }

    #[test]
    fn endpoints_are_https_and_never_recorded() {
        let err = parse(&spec("alias/x", &[("endpoint", "http://127.0.0.1:5000")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--insecure-kms-endpoint"), "{err}");
        let s = parse(&spec(
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
        let err = parse(&spec("alias/x", &[("region", "evil.example/#")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("region name"), "{err}");
    }

    #[test]
    fn role_options_are_checked_and_never_recorded() {
        let role = "arn:aws:iam::111122223333:role/heliosdb-app";
        let s = parse(&spec(
            "alias/x",
            &[("role_arn", role), ("external_id", "tenant-42")],
        ))
        .unwrap();
        let r = s.role.clone().unwrap();
        assert_eq!(r.arn, role);
        assert_eq!(r.external_id.as_deref(), Some("tenant-42"));
        assert_eq!(r.session_name, DEFAULT_SESSION_NAME);
        // Who calls KMS is the operator's business, not the database's.
        assert!(s.stored_options().keys().all(|k| k == "region"));
        let s = parse(&spec(
            "alias/x",
            &[("role_arn", role), ("session_name", "nightly-backup")],
        ))
        .unwrap();
        assert_eq!(s.role.unwrap().session_name, "nightly-backup");
        assert_eq!(parse(&spec("alias/x", &[])).unwrap().role, None);

        for (opts, needle) in [
            (vec![("external_id", "x1")], "needs 'role_arn'"),
            (vec![("session_name", "s1")], "needs 'role_arn'"),
            (vec![("role_arn", "heliosdb-app")], "IAM role ARN"),
            (
                vec![("role_arn", "arn:aws:iam::111122223333:user/bob")],
                "IAM role ARN",
            ),
            (
                vec![("role_arn", "arn:aws:iam::1111:role/app")],
                "IAM role ARN",
            ),
            (
                vec![("role_arn", role), ("session_name", "has space")],
                "session_name",
            ),
            (
                vec![("role_arn", role), ("external_id", "x")],
                "external_id",
            ),
        ] {
            let err = parse(&spec("alias/x", &opts)).unwrap_err().to_string();
            assert!(err.contains(needle), "{opts:?}: {err}");
        }
    }

    fn root_aad(db: &str, slot: u32) -> Vec<u8> {
        let mut aad = ROOT_WRAP_LABEL.to_vec();
        aad.extend_from_slice(db.as_bytes());
        aad.extend_from_slice(&slot.to_be_bytes());
        aad
    }

    #[test]
    fn named_context_is_a_one_to_one_image_of_the_root_aad() {
        let db = "0123456789abcdef0123456789abcdef";
        let named = encryption_context(true, &root_aad(db, 7));
        assert_eq!(named.len(), 3);
        assert_eq!(named[CONTEXT_PURPOSE], "root-key");
        assert_eq!(named[CONTEXT_DB], db);
        assert_eq!(named[CONTEXT_SLOT], "7");
        // Another slot or database: another context.
        assert_ne!(named, encryption_context(true, &root_aad(db, 8)));
        assert_ne!(
            named,
            encryption_context(true, &root_aad("fedcba9876543210fedcba9876543210", 7))
        );
        // The old form: the whole AAD in hex, one pair.
        let legacy = encryption_context(false, &root_aad(db, 7));
        assert_eq!(legacy.len(), 1);
        assert_eq!(legacy[CONTEXT_KEY], hex::encode(root_aad(db, 7)));
        // What is not a root-key AAD keeps the hex form in both.
        for aad in [
            &b"aad"[..],
            ROOT_WRAP_LABEL,
            &b"heliosdb-nano/dek/v1xx\0\0\0\x01"[..],
        ] {
            assert_eq!(
                encryption_context(true, aad),
                encryption_context(false, aad)
            );
        }
        let mut bad_utf8 = ROOT_WRAP_LABEL.to_vec();
        bad_utf8.extend_from_slice(&[0xff, 0, 0, 0, 1]);
        assert!(encryption_context(true, &bad_utf8).contains_key(CONTEXT_KEY));
        // The form comes from the slot record; none is the old form.
        let mut slot = KmsKeyRef {
            provider: PROVIDER.into(),
            key_id: "arn".into(),
            key_version: None,
            options: BTreeMap::new(),
        };
        assert_eq!(ContextForm::of(&slot), ContextForm::Legacy);
        slot.options
            .insert(CONTEXT_FORM_OPTION.into(), CONTEXT_FORM_NAMED.into());
        assert_eq!(ContextForm::of(&slot), ContextForm::Named);
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

//! The seam between a key management service and [`KeySource`]: a small
//! [`KmsVendor`] trait that each `heliosdb-kms-*` crate implements, and one
//! adapter, [`KmsSource`], that turns any vendor into a [`KeySource`].
//!
//! The split follows rustls' crypto provider: the vendor says how *its*
//! service wraps, unwraps, optionally re-wraps, describes the key and sorts
//! its errors; everything every KMS needs alike lives here once:
//!
//! - options checking (the vendor's options plus [`COMMON_OPTIONS`] and
//!   [`crate::INSECURE_ENDPOINT_OPTION`]) and the retry settings
//!   ([`KmsCommon`]: `max_attempts`, `timeout_secs`, the back-off between
//!   attempts),
//! - a private runtime ([`crate::KmsRuntime`]) that every call runs on, so
//!   the source works from synchronous code through [`crate::block_on`] and
//!   from any async runtime alike,
//! - a deadline on every call, so that a hang anywhere (a credential chain
//!   that never answers, a server that accepts and stalls) ends as a
//!   retryable [`KmsErrorKind::Unavailable`],
//! - the slot header: the source description, the provider name, and which
//!   slots a vendor sees (only its own provider's),
//! - the key bytes handed to a vendor: a zeroizing copy, wiped when the call
//!   ends (what an SDK copies into its own request buffers is beyond reach).
//!
//! # Writing a vendor
//!
//! Implement [`KmsVendor`] for a type holding the vendor's parsed settings
//! and client, and export `pub type MySource = KmsSource<MyVendor>`. Its
//! constructor is [`KmsSource::new`] (or [`KmsSource::with_given`] when the
//! application may hand over a credential); register it with
//! `inventory::submit! { KmsProvider::of::<MyVendor>() }`
//! ([`crate::KmsProvider::of`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::{
    Error, KekHeader, KeySource, KmsErrorKind, KmsKeyRef, KmsRuntime, KmsSpec, Result, SecretKey,
    SourceDescription, SourceKind,
};

/// Options every timed vendor ([`KmsVendor::TIMED`]) understands besides
/// its own: how many attempts a request gets and how long one may take.
pub const COMMON_OPTIONS: [&str; 2] = ["timeout_secs", "max_attempts"];

/// Default of `max_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default of `timeout_secs`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
const MAX_ATTEMPTS_LIMIT: u64 = 10;
const TIMEOUT_SECS_LIMIT: u64 = 600;

/// How many requests one [`KeySource`] call may need at most (log in, read
/// the key, probe its version): the adapter's deadline allows each of them
/// its full retry budget.
const REQUESTS_PER_CALL: u32 = 3;

/// The settings every timed vendor shares, parsed once by the adapter and
/// handed to [`KmsVendor::from_spec`] (to configure the SDK's own retries
/// and timeouts, or [`KmsCommon::retry_after`] for vendors that retry by
/// hand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KmsCommon {
    /// Attempts per request, 1 to 10 (`max_attempts`, default 3).
    pub max_attempts: u32,
    /// Time one attempt may take, 1 s to 600 s (`timeout_secs`, default 30 s).
    pub timeout: Duration,
}

impl Default for KmsCommon {
    fn default() -> Self {
        KmsCommon {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        }
    }
}

impl KmsCommon {
    /// `max_attempts` and `timeout_secs` of `spec`, defaults where absent.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when one is not a whole number in range.
    pub fn from_spec(spec: &KmsSpec) -> Result<Self> {
        let attempts = spec.number_option(
            "max_attempts",
            u64::from(DEFAULT_MAX_ATTEMPTS),
            MAX_ATTEMPTS_LIMIT,
        )?;
        Ok(KmsCommon {
            // At most MAX_ATTEMPTS_LIMIT (10): fits.
            max_attempts: u32::try_from(attempts).unwrap_or(DEFAULT_MAX_ATTEMPTS),
            timeout: Duration::from_secs(spec.number_option(
                "timeout_secs",
                DEFAULT_TIMEOUT_SECS,
                TIMEOUT_SECS_LIMIT,
            )?),
        })
    }

    /// The retry budget of one request: `timeout × max_attempts` (what
    /// SDKs take as their total time limit).
    pub fn request_budget(&self) -> Duration {
        self.timeout * self.max_attempts
    }

    /// The deadline of one [`KeySource`] call through the adapter.
    pub fn call_deadline(&self) -> Duration {
        self.request_budget() * REQUESTS_PER_CALL
    }

    /// For vendors that retry by hand: after attempt `attempt` (from 1)
    /// ended in `outcome`, waits 200 ms, 400 ms, … and returns `Ok(())` to
    /// try again, or gives up with `outcome` when it is not retryable or
    /// the attempts are spent.
    ///
    /// # Errors
    /// `outcome`, when giving up.
    pub async fn retry_after(&self, what: &str, attempt: u32, outcome: Error) -> Result<()> {
        if !outcome.is_retryable() || attempt >= self.max_attempts {
            if attempt > 1 {
                tracing::warn!(what, attempts = attempt, "KMS request failed after retries");
            }
            return Err(outcome);
        }
        tokio::time::sleep(Duration::from_millis(200 << (attempt - 1).min(5))).await;
        Ok(())
    }
}

/// What one key management service does. The adapter [`KmsSource`] does
/// the rest and implements [`KeySource`] for every vendor.
///
/// # Contract for implementors
///
/// - Nothing a vendor returns in a [`KmsKeyRef`], an error or its `Debug`
///   output holds a secret (tokens, PINs, key bytes).
/// - [`KmsVendor::unwrap`] authenticates: another key, another `aad` or an
///   altered blob is an error ([`KmsErrorKind::WrongKey`] where the service
///   says so), never a wrong key.
/// - Errors are sorted into [`KmsErrorKind`] with [`KmsVendor::classify`]
///   (or [`KmsVendor::error`] for failures the vendor finds itself), so that
///   only outages are retried.
/// - Every method runs on the source's own runtime (never the caller's), so
///   a vendor may keep pooled connections in its client.
#[async_trait]
pub trait KmsVendor: Send + Sync + fmt::Debug + Sized + 'static {
    /// Provider name in configuration, slot headers and errors (`aws`).
    const PROVIDER: &'static str;
    /// Options this vendor understands besides [`COMMON_OPTIONS`] (when
    /// [`KmsVendor::TIMED`]) and [`crate::INSECURE_ENDPOINT_OPTION`].
    const OPTIONS: &'static [&'static str];
    /// Whether the vendor takes [`COMMON_OPTIONS`] and every call is bound
    /// by [`KmsCommon::call_deadline`]. `false` for vendors whose calls
    /// may rightly wait on a person (a PIN prompt) or that cannot be
    /// abandoned half-way (a blocking C library).
    const TIMED: bool = true;
    /// The facade feature that links this vendor's crate (`aws`).
    const FEATURE: &'static str;
    /// Options a slot records as part of the key's identity
    /// ([`crate::KmsProvider::identity_options`]); none by default.
    const IDENTITY_OPTIONS: &'static [&'static str] = &[];

    /// Where a key id itself says to send requests
    /// ([`crate::KmsProvider::key_id_routing`]); nowhere by default.
    fn key_id_routing(key_id: &str) -> Option<(&'static str, String)> {
        crate::no_key_id_routing(key_id)
    }

    /// What an application may hand over instead of the vendor's own
    /// credential chain (a token, a PIN, a credential object);
    /// [`std::convert::Infallible`] when nothing.
    type Given: Send;
    /// The SDK's error type that [`KmsVendor::classify`] sorts.
    type Failure: ?Sized;

    /// Parses the vendor's settings from `spec` (options already checked
    /// against [`KmsVendor::OPTIONS`]). Makes no request.
    ///
    /// # Errors
    /// Malformed options or key id ([`Error::Unsupported`]).
    fn from_spec(spec: &KmsSpec, common: &KmsCommon, given: Option<Self::Given>) -> Result<Self>;

    /// Where the configured key is, secret-free: the description's locator.
    fn locator(&self) -> String;

    /// The key as error messages name it after the operation, e.g. `with
    /// key alias/app`: an error reads `"{op} {subject}: {detail}"`.
    fn subject(&self) -> String;

    /// Sorts an SDK failure of operation `op` into a kind and a
    /// secret-free detail.
    fn classify(&self, op: &str, failure: &Self::Failure) -> (KmsErrorKind, String);

    /// The key a new slot records: key id, key version and identity
    /// options (resolving an alias, reading the latest version).
    ///
    /// # Errors
    /// Classified KMS errors; a key of the wrong type or state.
    async fn new_key_ref(&self) -> Result<KmsKeyRef>;

    /// Whether the configured key is the one `slot` (of this provider) names.
    ///
    /// # Errors
    /// Only when the check needs the service and it fails.
    async fn owns(&self, slot: &KmsKeyRef) -> Result<bool>;

    /// Wraps `key` for `slot` (this provider's slot record, `None` for a
    /// header of another kind), binding `aad`.
    ///
    /// # Errors
    /// Classified KMS errors.
    async fn wrap(&self, slot: Option<&KmsKeyRef>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>>;

    /// Unwraps a non-empty `blob` made by [`KmsVendor::wrap`] for `slot`.
    ///
    /// # Errors
    /// Classified KMS errors; [`KmsErrorKind::WrongKey`] for a blob that
    /// does not open under this key with this `aad`.
    async fn unwrap(&self, slot: Option<&KmsKeyRef>, blob: &[u8], aad: &[u8]) -> Result<SecretKey>;

    /// Re-wraps `blob` from slot `old` to slot `new` inside the service,
    /// the key never leaving it; `Ok(None)` when this vendor cannot (the
    /// default). The contract is [`KeySource::rewrap`]'s.
    ///
    /// # Errors
    /// Classified KMS errors.
    async fn rewrap(
        &self,
        old: &KmsKeyRef,
        blob: &[u8],
        old_aad: &[u8],
        new: &KmsKeyRef,
        new_aad: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let _ = (old, blob, old_aad, new, new_aad);
        Ok(None)
    }

    /// A classified KMS error of operation `what` on this vendor's key.
    fn error(&self, kind: KmsErrorKind, what: &str, detail: impl fmt::Display) -> Error {
        Error::Kms {
            provider: Self::PROVIDER.to_string(),
            kind,
            message: format!("{what} {}: {detail}", self.subject()),
        }
    }

    /// [`KmsVendor::classify`] made into an error.
    fn classified(&self, what: &str, failure: &Self::Failure) -> Error {
        let (kind, detail) = self.classify(what, failure);
        self.error(kind, what, detail)
    }
}

/// The one [`KeySource`] implementation of every KMS: a [`KmsVendor`] on a
/// private runtime, with a deadline per call. See the module docs.
pub struct KmsSource<V: KmsVendor> {
    vendor: Arc<V>,
    common: KmsCommon,
    rt: KmsRuntime,
}

impl<V: KmsVendor> fmt::Debug for KmsSource<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The vendor's Debug is secret-free by contract.
        f.debug_struct("KmsSource")
            .field("provider", &V::PROVIDER)
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

impl<V: KmsVendor> KmsSource<V> {
    /// A source for `spec` with the vendor's own credential chain. Makes
    /// no request.
    ///
    /// # Errors
    /// Unknown or malformed options, a malformed key id.
    pub fn new(spec: &KmsSpec) -> Result<Self> {
        Self::make(spec, None)
    }

    /// A source for `spec` that uses `given` (a token, a PIN, a credential
    /// object the application got itself) instead of the vendor's chain.
    ///
    /// # Errors
    /// As [`KmsSource::new`]; the vendor may refuse `given` with its settings.
    pub fn with_given(spec: &KmsSpec, given: V::Given) -> Result<Self> {
        Self::make(spec, Some(given))
    }

    /// For the provider registry ([`crate::KmsProvider::build`]).
    ///
    /// # Errors
    /// As [`KmsSource::new`].
    pub fn build(spec: &KmsSpec) -> Result<Arc<dyn KeySource>> {
        Ok(Arc::new(Self::new(spec)?))
    }

    fn make(spec: &KmsSpec, given: Option<V::Given>) -> Result<Self> {
        let common = if V::TIMED {
            let known: Vec<&str> = V::OPTIONS.iter().chain(&COMMON_OPTIONS).copied().collect();
            spec.check_options(&known)?;
            KmsCommon::from_spec(spec)?
        } else {
            spec.check_options(V::OPTIONS)?;
            KmsCommon::default()
        };
        let vendor = V::from_spec(spec, &common, given)?;
        Ok(KmsSource {
            vendor: Arc::new(vendor),
            common,
            rt: KmsRuntime::new(&format!("heliosdb-kms-{}", V::PROVIDER))?,
        })
    }

    /// The vendor, for its own inherent methods that need no request.
    pub fn vendor(&self) -> &V {
        &self.vendor
    }

    /// The shared settings this source was built with.
    pub fn common(&self) -> &KmsCommon {
        &self.common
    }

    /// Runs `call` with the vendor on this source's runtime, under the
    /// call deadline: how vendor crates expose requests of their own
    /// (`latest_version`, `key_arn`).
    ///
    /// # Errors
    /// The call's errors; [`KmsErrorKind::Unavailable`] past the deadline.
    pub async fn run<T, F, Fut>(&self, what: &'static str, call: F) -> Result<T>
    where
        F: FnOnce(Arc<V>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let vendor = Arc::clone(&self.vendor);
        let deadline = V::TIMED.then(|| self.common.call_deadline());
        self.rt
            .run(async move {
                let fut = call(Arc::clone(&vendor));
                match deadline {
                    None => fut.await,
                    Some(d) => match tokio::time::timeout(d, fut).await {
                        Ok(out) => out,
                        Err(_) => Err(vendor.error(
                            KmsErrorKind::Unavailable,
                            what,
                            format!(
                                "no answer within {} s (timeout_secs × max_attempts for each \
                                 of up to {REQUESTS_PER_CALL} requests)",
                                d.as_secs()
                            ),
                        )),
                    },
                }
            })
            .await
    }

    fn ours(header: &KekHeader) -> Option<KmsKeyRef> {
        header.kms.clone().filter(|k| k.provider == V::PROVIDER)
    }
}

#[async_trait]
impl<V: KmsVendor> KeySource for KmsSource<V> {
    fn describe(&self) -> SourceDescription {
        SourceDescription {
            kind: SourceKind::Kms,
            locator: Some(self.vendor.locator()),
            provider: Some(V::PROVIDER.to_string()),
        }
    }

    async fn new_header(&self) -> Result<KekHeader> {
        let mut kms = self
            .run("checking key", |v| async move { v.new_key_ref().await })
            .await?;
        kms.provider = V::PROVIDER.to_string();
        Ok(KekHeader {
            source: self.describe(),
            key_check: None,
            kdf: None,
            kms: Some(kms),
        })
    }

    async fn matches(&self, header: &KekHeader) -> Result<bool> {
        let Some(slot) = Self::ours(header) else {
            return Ok(false);
        };
        self.run("matching key", |v| async move { v.owns(&slot).await })
            .await
    }

    async fn wrap(&self, header: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
        let slot = Self::ours(header);
        // The vendor gets a copy that is wiped when the call ends, whatever
        // happens to the caller's key meanwhile.
        let plain = Zeroizing::new(key.expose_secret().to_vec());
        let aad = aad.to_vec();
        self.run("wrap", move |v| async move {
            v.wrap(slot.as_ref(), &plain, &aad).await
        })
        .await
    }

    async fn unwrap(&self, header: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        if blob.is_empty() {
            return Err(self
                .vendor
                .error(KmsErrorKind::WrongKey, "unwrap", "empty wrapped key"));
        }
        let slot = Self::ours(header);
        let (blob, aad) = (blob.to_vec(), aad.to_vec());
        self.run("unwrap", move |v| async move {
            v.unwrap(slot.as_ref(), &blob, &aad).await
        })
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
        let (Some(from), Some(to)) = (Self::ours(old), Self::ours(new)) else {
            return Ok(None);
        };
        if blob.is_empty() {
            return Ok(None);
        }
        let (blob, old_aad, new_aad) = (blob.to_vec(), old_aad.to_vec(), new_aad.to_vec());
        self.run("rewrap", move |v| async move {
            v.rewrap(&from, &blob, &old_aad, &to, &new_aad).await
        })
        .await
    }
}

/// An error and its sources on one line, each source once: SDK errors keep
/// the useful part (the HTTP status, the I/O error) in a source.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
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
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A vendor that seals with the fake source's key and can be told to
    /// stall: the adapter's own behaviour is under test, not a KMS.
    #[derive(Debug)]
    struct Local {
        inner: crate::FakeSource,
        stall: bool,
        calls: AtomicU32,
    }

    #[async_trait]
    impl KmsVendor for Local {
        const PROVIDER: &'static str = "local-test";
        const OPTIONS: &'static [&'static str] = &["stall"];
        const FEATURE: &'static str = "local-test";
        type Given = u64;
        type Failure = str;

        fn from_spec(spec: &KmsSpec, _: &KmsCommon, given: Option<u64>) -> Result<Self> {
            Ok(Local {
                inner: crate::FakeSource::new(given.unwrap_or(1)),
                stall: spec.options.contains_key("stall"),
                calls: AtomicU32::new(0),
            })
        }
        fn locator(&self) -> String {
            "k".into()
        }
        fn subject(&self) -> String {
            "with key k".into()
        }
        fn classify(&self, _: &str, failure: &str) -> (KmsErrorKind, String) {
            (KmsErrorKind::InvalidRequest, failure.to_string())
        }
        async fn new_key_ref(&self) -> Result<KmsKeyRef> {
            Ok(KmsKeyRef {
                provider: "set by the adapter".into(),
                key_id: "k".into(),
                key_version: None,
                options: BTreeMap::new(),
            })
        }
        async fn owns(&self, slot: &KmsKeyRef) -> Result<bool> {
            Ok(slot.key_id == "k")
        }
        async fn wrap(&self, _: Option<&KmsKeyRef>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            if self.stall {
                std::future::pending::<()>().await;
            }
            let header = self.inner.new_header().await?;
            let key = SecretKey::from_slice(key).ok_or_else(|| self.classified("wrap", "len"))?;
            self.inner.wrap(&header, &key, aad).await
        }
        async fn unwrap(
            &self,
            _: Option<&KmsKeyRef>,
            blob: &[u8],
            aad: &[u8],
        ) -> Result<SecretKey> {
            let header = self.inner.new_header().await?;
            self.inner
                .unwrap(&header, blob, aad)
                .await
                .map_err(|_| self.error(KmsErrorKind::WrongKey, "unwrap", "does not open"))
        }
    }

    fn spec(opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::from_pairs("local-test", "k", opts)
    }

    #[test]
    fn the_adapter_checks_options_and_works_from_sync_code() {
        let err = KmsSource::<Local>::new(&spec(&[("stal", "1")])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown option 'stal'"), "{msg}");
        assert!(msg.contains("timeout_secs, max_attempts"), "{msg}");
        let err = KmsSource::<Local>::new(&spec(&[("max_attempts", "11")])).unwrap_err();
        assert!(err.to_string().contains("max_attempts"), "{err}");

        let src = KmsSource::<Local>::new(&spec(&[("timeout_secs", "7")])).unwrap();
        assert_eq!(src.common().timeout, Duration::from_secs(7));
        assert_eq!(src.common().call_deadline(), Duration::from_secs(7 * 3 * 3));
        // No runtime here: block_on makes one per call, and the source's own
        // runtime outlives each of them.
        let header = crate::block_on(src.new_header()).unwrap();
        assert_eq!(header.kms.as_ref().unwrap().provider, "local-test");
        assert_eq!(header.source.provider.as_deref(), Some("local-test"));
        let key = SecretKey::generate().unwrap();
        let blob = crate::block_on(src.wrap(&header, &key, b"aad")).unwrap();
        let back = crate::block_on(src.unwrap(&header, &blob, b"aad")).unwrap();
        assert_eq!(back.expose_secret(), key.expose_secret());
        assert!(crate::block_on(src.matches(&header)).unwrap());
        // An empty blob never reaches the vendor.
        let err = crate::block_on(src.unwrap(&header, &[], b"aad")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Kms {
                    kind: KmsErrorKind::WrongKey,
                    ..
                }
            ),
            "{err}"
        );
        // Another provider's slot is not the vendor's business.
        let mut foreign = header.clone();
        foreign.kms.as_mut().unwrap().provider = "aws".into();
        assert!(!crate::block_on(src.matches(&foreign)).unwrap());
        // The vendor cannot rewrap: the default says so.
        assert!(
            crate::block_on(src.rewrap(&header, &blob, b"aad", &header, b"x"))
                .unwrap()
                .is_none()
        );
        // A given credential reaches the vendor.
        let other = KmsSource::<Local>::with_given(&spec(&[]), 2).unwrap();
        assert!(crate::block_on(other.unwrap(&header, &blob, b"aad")).is_err());
    }

    #[test]
    fn a_call_that_hangs_ends_at_the_deadline_as_retryable() {
        let src = KmsSource::<Local>::new(&spec(&[
            ("stall", "1"),
            ("timeout_secs", "1"),
            ("max_attempts", "1"),
        ]))
        .unwrap();
        let header = crate::block_on(src.new_header()).unwrap();
        let started = std::time::Instant::now();
        let err =
            crate::block_on(src.wrap(&header, &SecretKey::generate().unwrap(), b"a")).unwrap_err();
        let waited = started.elapsed();
        assert!(err.is_retryable(), "{err}");
        assert!(err.to_string().contains("no answer within 3 s"), "{err}");
        assert!(
            waited >= Duration::from_secs(3) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
        assert_eq!(src.vendor().calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn retry_after_retries_only_outages_and_only_so_often() {
        let common = KmsCommon {
            max_attempts: 2,
            ..KmsCommon::default()
        };
        let outage = || Error::Kms {
            provider: "x".into(),
            kind: KmsErrorKind::Unavailable,
            message: "down".into(),
        };
        let denied = Error::Kms {
            provider: "x".into(),
            kind: KmsErrorKind::AccessDenied,
            message: "no".into(),
        };
        crate::block_on(async {
            assert!(common.retry_after("op", 1, outage()).await.is_ok());
            assert!(common.retry_after("op", 2, outage()).await.is_err());
            assert!(common.retry_after("op", 1, denied).await.is_err());
        });
    }

    #[test]
    fn error_chain_names_each_source_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("dispatch failure")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(error_chain(&Outer(refused)), "dispatch failure: refused");
    }
}

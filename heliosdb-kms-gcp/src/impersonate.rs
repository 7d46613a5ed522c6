//! Service-account impersonation: Cloud KMS is called as a service account
//! that the caller's own credentials (Application Default Credentials) are
//! allowed to impersonate, so the key's IAM policy names one service
//! account rather than every person or workload that opens the database.
//!
//! The caller's credentials mint a short-lived access token for the target
//! service account with the IAM Service Account Credentials API
//! (`projects/-/serviceAccounts/{sa}:generateAccessToken`, optionally
//! through a delegation chain); the Cloud KMS client sends that token. It is
//! cached and minted again before it expires.
//!
//! Why this is ours and not `google-cloud-auth`'s `impersonated::Builder`:
//! that builder, built from source credentials (ADC), always sends the
//! request to `https://iamcredentials.{universe domain}`; its endpoint
//! override exists only under `cfg(test)` inside the crate. Its JSON form
//! takes an exact URL but needs the source credentials inline as JSON, so
//! it cannot start from the metadata server or workload identity. Neither
//! reaches a private endpoint or a local test server, so the IAM call is
//! made here and the token handed to the KMS client through the SDK's
//! extension point for custom credentials ([`CredentialsProvider`]).
//!
//! The token lives in a sensitive `HeaderValue` (printed as `Sensitive` by
//! `http`'s Debug) and, while parsed, a zeroizing string; no error or log
//! line carries it.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use google_cloud_auth::credentials::{
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use google_cloud_auth::errors::CredentialsError;
use heliosdb_keys::{Error, KmsErrorKind, KmsSpec, Result};
use http::{Extensions, HeaderMap, HeaderValue};
use zeroize::Zeroizing;

/// Options of the impersonation feature (beside the provider's own).
pub const OPTIONS: [&str; 4] = [
    "impersonate_service_account",
    "delegates",
    "iam_credentials_endpoint",
    "impersonation_lifetime_secs",
];

/// The OAuth scope the minted token carries: Cloud KMS accepts it, and it is
/// the scope Google's own clients ask for.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_LIFETIME_SECS: u64 = 3600;
/// Above one hour the organisation must allow it
/// (`constraints/iam.allowServiceAccountCredentialLifetimeExtension`); the
/// service refuses otherwise, with a message we pass on.
const MAX_LIFETIME_SECS: u64 = 43_200;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A token is minted again when this much of its life is left (a quarter of
/// its lifetime, at most five minutes), so requests never race its expiry.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// A token is no longer sent this close to its expiry (an eighth of its
/// lifetime, at most 30 s): a request in flight must arrive before it.
const MAX_EXPIRY_SKEW: Duration = Duration::from_secs(30);

/// What `impersonate_service_account` and its companions configure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Impersonation {
    /// The service account's email (or unique id) to call Cloud KMS as.
    pub(crate) target: String,
    /// The delegation chain, as the API names it
    /// (`projects/-/serviceAccounts/{email}`), caller's end first.
    pub(crate) delegates: Vec<String>,
    /// The IAM Service Account Credentials API's base URL; `None`: Google's
    /// for the source credentials' universe domain.
    pub(crate) endpoint: Option<String>,
    pub(crate) lifetime: Duration,
}

/// A service account as `generateAccessToken` takes one: an email
/// (`name@project.iam.gserviceaccount.com`) or a numeric unique id.
fn is_service_account(s: &str) -> bool {
    let email = s
        .split_once('@')
        .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
    let unique_id = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (email || unique_id)
        && !s
            .chars()
            .any(|c| c == '/' || c == ':' || c == ',' || c.is_whitespace())
}

impl Impersonation {
    /// The impersonation `spec` asks for, if any.
    pub(crate) fn parse(spec: &KmsSpec) -> Result<Option<Impersonation>> {
        let opt = |name: &str| spec.options.get(name).map(|v| v.trim().to_string());
        let bad = |msg: String| Err(Error::Unsupported(msg));
        let Some(target) = opt("impersonate_service_account") else {
            if let Some(dependent) = OPTIONS[1..].iter().find(|o| spec.options.contains_key(**o)) {
                return bad(format!(
                    "option '{dependent}' of KMS provider gcp needs 'impersonate_service_account' \
                     (the service account to call Cloud KMS as)"
                ));
            }
            return Ok(None);
        };
        if !is_service_account(&target) {
            return bad(format!(
                "option 'impersonate_service_account' of KMS provider gcp must be a service \
                 account's email (name@project.iam.gserviceaccount.com) or unique id, got {target:?}"
            ));
        }
        let mut delegates = Vec::new();
        if let Some(list) = opt("delegates") {
            for d in list.split(',').map(str::trim) {
                if !is_service_account(d) {
                    return bad(format!(
                        "option 'delegates' of KMS provider gcp is a comma-separated list of \
                         service account emails, caller's end first; {d:?} is not one"
                    ));
                }
                delegates.push(format!("projects/-/serviceAccounts/{d}"));
            }
        }
        let endpoint = opt("iam_credentials_endpoint")
            .map(|e| e.trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty());
        if let Some(e) = &endpoint {
            spec.check_url("iam_credentials_endpoint", e)?;
        }
        let lifetime = spec.number_option(
            "impersonation_lifetime_secs",
            DEFAULT_LIFETIME_SECS,
            MAX_LIFETIME_SECS,
        )?;
        Ok(Some(Impersonation {
            target,
            delegates,
            endpoint,
            lifetime: Duration::from_secs(lifetime),
        }))
    }

    /// The fix to name when the service refuses to mint a token.
    fn token_creator_hint(&self) -> String {
        if self.delegates.is_empty() {
            format!(
                "grant the calling identity (Application Default Credentials) \
                 roles/iam.serviceAccountTokenCreator (Service Account Token Creator) on {}",
                self.target
            )
        } else {
            format!(
                "grant roles/iam.serviceAccountTokenCreator (Service Account Token Creator) \
                 along the chain: the calling identity on the first delegate, each delegate \
                 on the next, the last on {}",
                self.target
            )
        }
    }
}

/// A failure to obtain the impersonated token, already classified. It
/// reaches callers as the source of the KMS client's authentication error;
/// `classify_gax_error` finds it there.
#[derive(Debug)]
pub struct ImpersonationError {
    kind: KmsErrorKind,
    transient: bool,
    message: String,
}

impl ImpersonationError {
    fn new(kind: KmsErrorKind, message: String) -> Self {
        ImpersonationError {
            kind,
            transient: kind.is_retryable(),
            message,
        }
    }

    /// Not worth another attempt right away, whatever the kind: an answer
    /// that is malformed or carries an expired token (a wrong clock) will
    /// not be better a moment later.
    fn permanent(mut self) -> Self {
        self.transient = false;
        self
    }

    /// Which of the fixed KMS failure kinds this is.
    pub fn kind(&self) -> KmsErrorKind {
        self.kind
    }
}

impl fmt::Display for ImpersonationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ImpersonationError {}

/// Sorts an error answer of `generateAccessToken` by HTTP status and
/// Google's status name.
pub fn classify_iam_credentials(http_status: u16, status: &str) -> KmsErrorKind {
    match (http_status, status) {
        (401, _) | (_, "UNAUTHENTICATED") => KmsErrorKind::AccessDenied,
        (403, _) | (_, "PERMISSION_DENIED") => KmsErrorKind::AccessDenied,
        (404, _) | (_, "NOT_FOUND") => KmsErrorKind::NotFound,
        (429, _) | (_, "RESOURCE_EXHAUSTED") => KmsErrorKind::Unavailable,
        (500..=599, _) => KmsErrorKind::Unavailable,
        _ => KmsErrorKind::InvalidRequest,
    }
}

#[derive(serde::Deserialize)]
struct GoogleError {
    error: GoogleErrorBody,
}

#[derive(serde::Deserialize)]
struct GoogleErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

/// The error a non-2xx answer stands for. Only the service's status and
/// message are quoted (an error answer carries no token).
fn error_from_answer(imp: &Impersonation, http_status: u16, body: &[u8]) -> ImpersonationError {
    let parsed = serde_json::from_slice::<GoogleError>(body)
        .ok()
        .map(|e| e.error);
    let (status, message) = parsed
        .as_ref()
        .map(|e| (e.status.as_str(), e.message.as_str()))
        .unwrap_or(("", ""));
    let kind = classify_iam_credentials(http_status, status);
    let reason = |r: &str| {
        parsed.as_ref().is_some_and(|e| {
            e.details
                .iter()
                .any(|d| d.get("reason").and_then(serde_json::Value::as_str) == Some(r))
        })
    };
    let fix = match kind {
        KmsErrorKind::AccessDenied if reason("SERVICE_DISABLED") => {
            "enable the IAM Service Account Credentials API (iamcredentials.googleapis.com) \
             in the calling identity's project"
                .to_string()
        }
        KmsErrorKind::AccessDenied if http_status == 401 || status == "UNAUTHENTICATED" => {
            "the calling identity's own credentials were refused: renew Application Default \
             Credentials (gcloud auth application-default login) or fix \
             GOOGLE_APPLICATION_CREDENTIALS"
                .to_string()
        }
        KmsErrorKind::AccessDenied => imp.token_creator_hint(),
        KmsErrorKind::NotFound => format!(
            "no such service account: check impersonate_service_account ({}) and delegates",
            imp.target
        ),
        KmsErrorKind::InvalidRequest => {
            "check impersonation_lifetime_secs (above 3600 needs the organisation policy \
             constraints/iam.allowServiceAccountCredentialLifetimeExtension) and delegates"
                .to_string()
        }
        _ => "the IAM Service Account Credentials API is unavailable; retry later".to_string(),
    };
    let said = if status.is_empty() {
        format!("HTTP {http_status}")
    } else {
        format!("HTTP {http_status} {status}: {message}")
    };
    ImpersonationError::new(
        kind,
        format!(
            "impersonating {} (generateAccessToken): {said}; {fix}",
            imp.target
        ),
    )
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(rename = "accessToken")]
    access_token: Option<String>,
    #[serde(rename = "expireTime")]
    expire_time: Option<String>,
}

/// The token and how long it stays valid, from a 2xx answer at `now`. A
/// malformed answer is the service's failure (unavailable) and is described
/// without quoting the body, which may hold a token.
fn parse_token_answer(
    imp: &Impersonation,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<(Zeroizing<String>, Duration), ImpersonationError> {
    let malformed = |what: &str| {
        ImpersonationError::new(
            KmsErrorKind::Unavailable,
            format!(
                "impersonating {} (generateAccessToken): the answer {what}; \
                 is iam_credentials_endpoint the IAM Service Account Credentials API?",
                imp.target
            ),
        )
        .permanent()
    };
    let answer: TokenAnswer =
        serde_json::from_slice(body).map_err(|_| malformed("is not the expected JSON"))?;
    let token = answer
        .access_token
        .map(Zeroizing::new)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed("has no accessToken"))?;
    if token.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(malformed("has an accessToken that is not a bearer token"));
    }
    let expire = answer
        .expire_time
        .ok_or_else(|| malformed("has no expireTime"))?;
    let expire = chrono::DateTime::parse_from_rfc3339(&expire)
        .map_err(|_| malformed("has an expireTime that is not an RFC 3339 time"))?;
    let left = expire
        .with_timezone(&chrono::Utc)
        .signed_duration_since(now)
        .to_std()
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            ImpersonationError::new(
                KmsErrorKind::Unavailable,
                format!(
                    "impersonating {} (generateAccessToken): the token returned had already \
                     expired ({expire}, now {now}); check this machine's clock",
                    imp.target
                ),
            )
            .permanent()
        })?;
    Ok((token, left))
}

/// A minted token, as the header the KMS client sends.
struct Cached {
    headers: HeaderMap,
    tag: EntityTag,
    refresh_at: Instant,
    usable_until: Instant,
}

impl Cached {
    fn new(token: &str, obtained: Instant, valid_for: Duration) -> Option<Cached> {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
        value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value);
        Some(Cached {
            headers,
            tag: EntityTag::new(),
            refresh_at: obtained + valid_for - (valid_for / 4).min(MAX_REFRESH_MARGIN),
            usable_until: obtained + valid_for - (valid_for / 8).min(MAX_EXPIRY_SKEW),
        })
    }

    fn resource(&self, extensions: &Extensions) -> CacheableResource<HeaderMap> {
        match extensions.get::<EntityTag>() {
            Some(tag) if *tag == self.tag => CacheableResource::NotModified,
            _ => CacheableResource::New {
                entity_tag: self.tag.clone(),
                data: self.headers.clone(),
            },
        }
    }
}

struct Shared {
    imp: Impersonation,
    source: Credentials,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

/// Credentials that call as the impersonated service account.
#[derive(Clone)]
pub(crate) struct ImpersonatedCredentials {
    shared: Arc<Shared>,
}

impl fmt::Debug for ImpersonatedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImpersonatedCredentials")
            .field("target", &self.shared.imp.target)
            .field("delegates", &self.shared.imp.delegates)
            .field("endpoint", &self.shared.imp.endpoint)
            .finish_non_exhaustive()
    }
}

impl ImpersonatedCredentials {
    /// Impersonation `imp` on top of `source`; `timeout` bounds each IAM
    /// request. Makes no request.
    pub(crate) fn new(
        imp: Impersonation,
        source: Credentials,
        timeout: Duration,
    ) -> Result<ImpersonatedCredentials> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .user_agent(concat!("heliosdb-kms-gcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::Unsupported(format!("cannot build the IAM Credentials HTTP client: {e}"))
            })?;
        Ok(ImpersonatedCredentials {
            shared: Arc::new(Shared {
                imp,
                source,
                http,
                cache: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

impl Shared {
    async fn mint(&self) -> std::result::Result<Cached, ImpersonationError> {
        let imp = &self.imp;
        let source = match self.source.headers(Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => data,
            // Only an entity tag we passed could make it NotModified.
            Ok(CacheableResource::NotModified) => HeaderMap::new(),
            Err(e) => {
                return Err(ImpersonationError {
                    kind: KmsErrorKind::AccessDenied,
                    transient: e.is_transient(),
                    message: format!(
                        "impersonating {}: no source credentials to impersonate with \
                         (Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, \
                         gcloud auth application-default login, or the metadata server): {e}",
                        imp.target
                    ),
                })
            }
        };
        let base = match &imp.endpoint {
            Some(e) => e.clone(),
            None => {
                let universe = self.source.universe_domain().await;
                format!(
                    "https://iamcredentials.{}",
                    universe.as_deref().unwrap_or("googleapis.com")
                )
            }
        };
        let url = format!(
            "{base}/v1/projects/-/serviceAccounts/{}:generateAccessToken",
            imp.target
        );
        let mut body = serde_json::json!({
            "scope": [SCOPE],
            "lifetime": format!("{}s", imp.lifetime.as_secs()),
        });
        if !imp.delegates.is_empty() {
            body["delegates"] = serde_json::json!(imp.delegates);
        }
        let unreachable = |e: reqwest::Error| {
            let mut detail = e.to_string();
            let mut cur = std::error::Error::source(&e);
            while let Some(inner) = cur {
                detail.push_str(": ");
                detail.push_str(&inner.to_string());
                cur = inner.source();
            }
            ImpersonationError::new(
                KmsErrorKind::Unavailable,
                format!(
                    "impersonating {}: cannot reach the IAM Service Account Credentials API at \
                     {base}: {detail}",
                    imp.target
                ),
            )
        };
        let answer = self
            .http
            .post(&url)
            .headers(source)
            .json(&body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = answer.status().as_u16();
        let bytes = Zeroizing::new(answer.bytes().await.map_err(unreachable)?.to_vec());
        if !(200..300).contains(&status) {
            return Err(error_from_answer(imp, status, &bytes));
        }
        let obtained = Instant::now();
        let (token, valid_for) = parse_token_answer(imp, &bytes, chrono::Utc::now())?;
        tracing::debug!(
            service_account = %imp.target,
            valid_secs = valid_for.as_secs(),
            "minted an impersonated access token"
        );
        Cached::new(&token, obtained, valid_for).ok_or_else(|| {
            ImpersonationError::new(
                KmsErrorKind::Unavailable,
                format!(
                    "impersonating {} (generateAccessToken): the accessToken cannot be sent as \
                     a header",
                    imp.target
                ),
            )
        })
    }
}

impl CredentialsProvider for ImpersonatedCredentials {
    async fn headers(
        &self,
        extensions: Extensions,
    ) -> std::result::Result<CacheableResource<HeaderMap>, CredentialsError> {
        // One mint at a time: concurrent requests wait for it instead of
        // each asking IAM for a token.
        let mut cache = self.shared.cache.lock().await;
        let now = Instant::now();
        if let Some(c) = cache.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(c.resource(&extensions));
        }
        match self.shared.mint().await {
            Ok(fresh) => {
                let resource = fresh.resource(&extensions);
                *cache = Some(fresh);
                Ok(resource)
            }
            Err(e) => {
                // An early refresh that failed keeps the token it was to
                // replace while that one is still good.
                if let Some(c) = cache.as_ref().filter(|c| Instant::now() < c.usable_until) {
                    tracing::warn!(
                        service_account = %self.shared.imp.target,
                        error = %e,
                        "refreshing the impersonated token failed; using the current one until it expires"
                    );
                    return Ok(c.resource(&extensions));
                }
                // The only constructor CredentialsError has (hidden from its
                // docs, public for custom providers like this one).
                let transient = e.transient;
                Err(CredentialsError::new(
                    transient,
                    "cannot impersonate the service account",
                    e,
                ))
            }
        }
    }

    async fn universe_domain(&self) -> Option<String> {
        self.shared.source.universe_domain().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::new(
            "gcp",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k",
            opts.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    const SA: &str = "kms-user@proj.iam.gserviceaccount.com";

    fn imp() -> Impersonation {
        Impersonation::parse(&spec(&[("impersonate_service_account", SA)]))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn options_parse_and_name_what_is_wrong() {
        assert_eq!(Impersonation::parse(&spec(&[])).unwrap(), None);
        let i = Impersonation::parse(&spec(&[
            ("impersonate_service_account", SA),
            ("delegates", " a@p.iam.gserviceaccount.com , 1234567890 "),
            ("impersonation_lifetime_secs", "600"),
            ("iam_credentials_endpoint", "https://iam.example.internal/"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(i.target, SA);
        assert_eq!(
            i.delegates,
            [
                "projects/-/serviceAccounts/a@p.iam.gserviceaccount.com",
                "projects/-/serviceAccounts/1234567890"
            ]
        );
        assert_eq!(i.lifetime, Duration::from_secs(600));
        assert_eq!(i.endpoint.as_deref(), Some("https://iam.example.internal"));
        assert_eq!(imp().lifetime, Duration::from_secs(3600));

        let err =
            |opts: &[(&str, &str)]| Impersonation::parse(&spec(opts)).unwrap_err().to_string();
        let e = err(&[("delegates", "a@p.iam.gserviceaccount.com")]);
        assert!(e.contains("needs 'impersonate_service_account'"), "{e}");
        let e = err(&[("iam_credentials_endpoint", "https://x")]);
        assert!(e.contains("needs 'impersonate_service_account'"), "{e}");
        for bad in [
            "",
            "kms-user",
            "projects/-/serviceAccounts/a@b.c",
            "a b@c.d",
            "@p.iam",
        ] {
            let e = err(&[("impersonate_service_account", bad)]);
            assert!(e.contains("service account's email"), "{bad:?}: {e}");
        }
        let e = err(&[
            ("impersonate_service_account", SA),
            ("delegates", "a@b.c,,"),
        ]);
        assert!(e.contains("comma-separated"), "{e}");
        let e = err(&[
            ("impersonate_service_account", SA),
            ("impersonation_lifetime_secs", "0"),
        ]);
        assert!(e.contains("from 1 to 43200"), "{e}");
        let e = err(&[
            ("impersonate_service_account", SA),
            ("iam_credentials_endpoint", "http://127.0.0.1:1"),
        ]);
        assert!(e.contains("--insecure-kms-endpoint"), "{e}");
    }

    #[test]
    fn iam_answers_are_classified_with_the_fix() {
        use KmsErrorKind::*;
        assert_eq!(
            classify_iam_credentials(401, "UNAUTHENTICATED"),
            AccessDenied
        );
        assert_eq!(
            classify_iam_credentials(403, "PERMISSION_DENIED"),
            AccessDenied
        );
        assert_eq!(classify_iam_credentials(404, "NOT_FOUND"), NotFound);
        assert_eq!(
            classify_iam_credentials(400, "INVALID_ARGUMENT"),
            InvalidRequest
        );
        assert_eq!(
            classify_iam_credentials(429, "RESOURCE_EXHAUSTED"),
            Unavailable
        );
        assert_eq!(classify_iam_credentials(503, "UNAVAILABLE"), Unavailable);
        assert_eq!(classify_iam_credentials(502, ""), Unavailable);

        let denied = br#"{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}"#;
        let e = error_from_answer(&imp(), 403, denied);
        assert_eq!(e.kind(), AccessDenied);
        assert!(!e.transient);
        let s = e.to_string();
        assert!(s.contains("roles/iam.serviceAccountTokenCreator"), "{s}");
        assert!(s.contains(SA), "{s}");
        assert!(s.contains("PERMISSION_DENIED"), "{s}");

        let disabled = br#"{"error":{"code":403,"message":"IAM Service Account Credentials API has not been used in project 1 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED"}]}}"#;
        let s = error_from_answer(&imp(), 403, disabled).to_string();
        assert!(
            s.contains("enable the IAM Service Account Credentials API"),
            "{s}"
        );

        let s = error_from_answer(&imp(), 401, b"{}").to_string();
        assert!(s.contains("application-default login"), "{s}");
        let e = error_from_answer(&imp(), 503, b"<html>overloaded</html>");
        assert_eq!(e.kind(), Unavailable);
        assert!(e.transient);
        assert!(!e.to_string().contains("html"), "{e}");
    }

    #[test]
    fn token_answers_are_checked_and_never_quoted() {
        let now = chrono::Utc::now();
        let later = (now + chrono::Duration::seconds(600)).to_rfc3339();
        let ok = format!(r#"{{"accessToken":"ya29.secret","expireTime":"{later}"}}"#);
        let (token, left) = parse_token_answer(&imp(), ok.as_bytes(), now).unwrap();
        assert_eq!(token.as_str(), "ya29.secret");
        assert!(left > Duration::from_secs(590) && left <= Duration::from_secs(600));

        let past = (now - chrono::Duration::seconds(5)).to_rfc3339();
        let cases = [
            ("not json ya29.secret".to_string(), "expected JSON"),
            (format!(r#"{{"expireTime":"{later}"}}"#), "no accessToken"),
            (
                r#"{"accessToken":"ya29.secret"}"#.to_string(),
                "no expireTime",
            ),
            (
                r#"{"accessToken":"ya29.secret","expireTime":"tomorrow"}"#.to_string(),
                "RFC 3339",
            ),
            (
                format!(r#"{{"accessToken":"ya29 secret","expireTime":"{later}"}}"#),
                "not a bearer token",
            ),
            (
                format!(r#"{{"accessToken":"ya29.secret","expireTime":"{past}"}}"#),
                "already expired",
            ),
        ];
        for (body, says) in cases {
            let e = parse_token_answer(&imp(), body.as_bytes(), now).unwrap_err();
            let s = e.to_string();
            assert!(s.contains(says), "{body}: {s}");
            assert!(!s.contains("secret"), "{s}");
            assert_eq!(e.kind(), KmsErrorKind::Unavailable);
            assert!(!e.transient, "not retried at once: {s}");
        }
    }

    #[test]
    fn tokens_refresh_before_they_expire_and_stay_out_of_debug() {
        let t0 = Instant::now();
        let c = Cached::new("ya29.secret", t0, Duration::from_secs(3600)).unwrap();
        assert_eq!(c.refresh_at, t0 + Duration::from_secs(3300));
        assert_eq!(c.usable_until, t0 + Duration::from_secs(3570));
        let c = Cached::new("ya29.secret", t0, Duration::from_secs(8)).unwrap();
        assert_eq!(c.refresh_at, t0 + Duration::from_secs(6));
        assert_eq!(c.usable_until, t0 + Duration::from_secs(7));
        assert!(!format!("{:?}", c.headers).contains("secret"));
        // Our own tag means "unchanged"; none or another means new headers.
        let mut ext = Extensions::new();
        assert!(matches!(c.resource(&ext), CacheableResource::New { .. }));
        ext.insert(c.tag.clone());
        assert_eq!(c.resource(&ext), CacheableResource::NotModified);
        ext.insert(EntityTag::new());
        assert!(matches!(c.resource(&ext), CacheableResource::New { .. }));
    }
}

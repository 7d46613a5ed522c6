//! HashiCorp Vault / OpenBao transit as a HeliosDB Nano key source.
//!
//! A transit key is the key-encryption key: `transit/encrypt` wraps the
//! database's root key, `transit/decrypt` unwraps it, so one request opens a
//! database. The keyring's AAD (database id and slot) travels as transit's
//! `associated_data`, and the wrap pins the key version recorded in the slot
//! header, so a slot always says which version wrapped it.
//!
//! There is no official Rust SDK; this speaks the documented HTTP API with
//! `reqwest` (rustls, the system trust store plus `ca_cert`).
//!
//! Configuration: `key_source = { Kms = { provider = "vault", key_id = "NAME" } }`
//! with options `address` (else `VAULT_ADDR` / `BAO_ADDR`), `mount` (default
//! `transit`), `namespace` (else `VAULT_NAMESPACE` / `BAO_NAMESPACE`),
//! `ca_cert` (else `VAULT_CACERT` / `BAO_CACERT`), `timeout_secs`,
//! `max_attempts`, and the `auth*` options (module `auth`): `auth = "token"`
//! (default: Vault's own chain, `VAULT_TOKEN`, `BAO_TOKEN`, then the CLI's
//! `~/.vault-token`), `"approle"`, `"jwt"`, `"kubernetes"` (a login whose
//! token is renewed before it expires and replaced when renewal fails), or
//! `"agent"` (a Vault Agent / OpenBao Proxy adds the token; none in this
//! process). A secret is never an option, only where to read it.
//! The token travels in a header of every request, so the address must be
//! `https://` unless `insecure_endpoint = "true"` (a local `bao server
//! -dev`), and a slot records the key's name, mount and namespace only:
//! the address and CA file are the caller's to give, never the database's.
//!
//! A new slot learns the key's latest version by reading the key
//! (`transit/keys/<key>`), and checks its type (an AEAD: AES-GCM or
//! ChaCha20-Poly1305) and `min_decryption_version`; a token with only the
//! standard application policy (`update` on `transit/encrypt/<key>` and
//! `transit/decrypt/<key>`) may not read it, and then one encrypt of a
//! public probe names the version.
//!
//! The wrapped blob is `0x01 | u32 key version (BE) | transit ciphertext
//! bytes`: the `vault:vN:` text form, decoded, so that every byte of it is
//! covered by transit's authentication or by the version check.

mod auth;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use heliosdb_keys::{
    Error, KmsCommon, KmsErrorKind, KmsKeyRef, KmsProvider, KmsSource, KmsSpec, KmsVendor, Result,
    SecretKey,
};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

pub use auth::KUBERNETES_TOKEN_FILE;
use auth::{AuthResponse, AuthSettings, Method as AuthMethod, Session};

/// Provider name in configuration and in key headers.
pub const PROVIDER: &str = "vault";

/// Options this provider understands besides `timeout_secs` and
/// `max_attempts` ([`heliosdb_keys::COMMON_OPTIONS`]).
pub const OPTIONS: [&str; 13] = [
    "address",
    "mount",
    "namespace",
    "ca_cert",
    "auth",
    "auth_mount",
    "role_id",
    "role_id_file",
    "secret_id_file",
    "secret_id_env",
    "role",
    "jwt_file",
    "jwt_env",
];

/// Transit key types this provider wraps with: AEADs that authenticate the
/// associated data (the slot's AAD). RSA keys encrypt but refuse
/// associated data; the others cannot encrypt at all.
pub const KEY_TYPES: [&str; 3] = ["aes256-gcm96", "aes128-gcm96", "chacha20-poly1305"];

/// Options a slot records: with the key's name they say which transit key
/// it is. Where the server is (`address`, `ca_cert`) is never recorded.
pub const IDENTITY_OPTIONS: [&str; 2] = ["mount", "namespace"];

const DEFAULT_MOUNT: &str = "transit";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const BLOB_FORMAT: u8 = 1;

/// What a new slot encrypts, when the token may not read the key, to learn
/// its latest version: public bytes, not a key.
const PROBE_PLAINTEXT: &[u8] = b"heliosdb-nano: which version is latest?";
const PROBE_AAD: &[u8] = b"heliosdb-nano/version-probe/v1";

heliosdb_keys::inventory::submit! {
    KmsProvider::of::<VaultTransit>()
}

fn env_any(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok())
        .filter(|v| !v.trim().is_empty())
}

/// Non-secret settings from a [`KmsSpec`] and Vault's environment variables.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    key: String,
    address: String,
    mount: String,
    namespace: Option<String>,
    ca_cert: Option<String>,
    common: KmsCommon,
    auth: AuthSettings,
}

impl Settings {
    fn parse(spec: &KmsSpec, common: &KmsCommon) -> Result<Settings> {
        let unsupported = |m: String| Error::Unsupported(m);
        let key = spec.key_id.trim().to_string();
        if key.is_empty() || key.contains('/') {
            return Err(unsupported(format!(
                "KMS provider vault needs key_id = the transit key's name (no '/'), got {:?}",
                spec.key_id
            )));
        }
        let opt = |name: &str| spec.options.get(name).cloned().filter(|v| !v.is_empty());
        let address = opt("address")
            .or_else(|| env_any(&["VAULT_ADDR", "BAO_ADDR"]))
            .ok_or_else(|| {
                unsupported(
                    "KMS provider vault needs an address: set `address` in [encryption.kms] \
                     or VAULT_ADDR"
                        .into(),
                )
            })?;
        let address = address.trim_end_matches('/').to_string();
        if !(address.starts_with("https://") || address.starts_with("http://")) {
            return Err(unsupported(format!(
                "Vault address must start with https:// or http://, got {address:?}"
            )));
        }
        // The token is a header of every request: never in clear unless asked.
        spec.check_url("address", &address)?;
        let mount = opt("mount")
            .unwrap_or_else(|| DEFAULT_MOUNT.to_string())
            .trim_matches('/')
            .to_string();
        Ok(Settings {
            key,
            address,
            mount,
            namespace: opt("namespace").or_else(|| env_any(&["VAULT_NAMESPACE", "BAO_NAMESPACE"])),
            ca_cert: opt("ca_cert").or_else(|| env_any(&["VAULT_CACERT", "BAO_CACERT"])),
            common: *common,
            auth: AuthSettings::parse(spec)?,
        })
    }

    /// Options a slot records: identity only ([`IDENTITY_OPTIONS`]).
    fn stored_options(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert("mount".to_string(), self.mount.clone());
        if let Some(ns) = &self.namespace {
            out.insert("namespace".to_string(), ns.clone());
        }
        out
    }

    /// The transit path of `op` on the key (`transit/encrypt/<key>`).
    fn path(&self, op: &str) -> String {
        format!("{}/{op}/{}", self.mount, self.key)
    }

    fn url(&self, op: &str) -> String {
        self.api_url(&self.path(op))
    }

    fn api_url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.address)
    }

    /// `mount/name`, optionally under a namespace: what identifies the key.
    fn locator(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", ns.trim_matches('/'), self.mount, self.key),
            None => format!("{}/{}", self.mount, self.key),
        }
    }
}

/// The token from Vault's own chain: `VAULT_TOKEN`, `BAO_TOKEN`, `~/.vault-token`.
fn token_from_env() -> Option<SecretString> {
    if let Some(t) = env_any(&["VAULT_TOKEN", "BAO_TOKEN"]) {
        return Some(SecretString::from(t.trim().to_string()));
    }
    let home = std::env::var_os("HOME")?;
    let text = Zeroizing::new(
        std::fs::read_to_string(std::path::Path::new(&home).join(".vault-token")).ok()?,
    );
    let t = text.trim();
    (!t.is_empty()).then(|| SecretString::from(t.to_string()))
}

/// The token this process sends, by auth method.
enum Credential {
    /// `auth = "token"`: Vault's chain or `with_token`, used as it is.
    Fixed(Option<SecretString>),
    /// An auth method login. The session is behind a short lock that is
    /// never held across a request; `refresh` lets one task at a time
    /// renew or log in while the others wait for its token.
    Login {
        session: Mutex<Option<Session>>,
        refresh: tokio::sync::Mutex<()>,
    },
    /// `auth = "agent"`: no token; the agent or proxy adds its own.
    Agent,
}

/// The Vault transit vendor behind [`VaultTransitSource`].
pub struct VaultTransit {
    settings: Settings,
    credential: Credential,
    http: reqwest::Client,
    /// Key versions of the slots this source matched (at open): a later
    /// read of the key warns when `min_decryption_version` has passed one.
    slot_versions: Mutex<BTreeSet<u32>>,
}

/// A key-encryption key in a Vault or OpenBao transit engine. Build it with
/// [`KmsSource::new`], or [`KmsSource::with_given`] with a token the
/// application got itself (`auth = "token"`, the default).
pub type VaultTransitSource = KmsSource<VaultTransit>;

impl fmt::Debug for VaultTransit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        let token = match &self.credential {
            Credential::Fixed(Some(_)) => Some("[REDACTED]"),
            Credential::Fixed(None) | Credential::Agent => None,
            Credential::Login { session, .. } => session
                .lock()
                .ok()
                .and_then(|s| s.as_ref().map(|_| "[REDACTED]")),
        };
        f.debug_struct("VaultTransit")
            .field("address", &s.address)
            .field("key", &s.locator())
            .field("auth", &s.auth.label())
            .field("token", &token)
            .finish_non_exhaustive()
    }
}

impl VaultTransit {
    /// With `auth = "token"` (the default) reads the token from the
    /// environment now unless one is `given`; a login method logs in at the
    /// first request.
    fn new(spec: &KmsSpec, common: &KmsCommon, token: Option<SecretString>) -> Result<Self> {
        let settings = Settings::parse(spec, common)?;
        let credential = match (&settings.auth.method, token) {
            (AuthMethod::Token, given) => Credential::Fixed(given.or_else(token_from_env)),
            (_, Some(_)) => {
                return Err(Error::Unsupported(format!(
                    "a token was given, but the {} auth method gets its own (use auth = \"token\")",
                    settings.auth.label()
                )))
            }
            // No VAULT_TOKEN is read, even if one is set: the agent's token
            // is the only one in play.
            (AuthMethod::Agent, None) => Credential::Agent,
            (_, None) => Credential::Login {
                session: Mutex::new(None),
                refresh: tokio::sync::Mutex::new(()),
            },
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(settings.common.timeout)
            .user_agent(concat!("heliosdb-kms-vault/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_cert {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Unsupported(format!("cannot read Vault CA certificate {path}: {e}"))
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                Error::Unsupported(format!("Vault CA certificate {path} is not PEM: {e}"))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| Error::Unsupported(format!("cannot build the Vault HTTP client: {e}")))?;
        Ok(VaultTransit {
            settings,
            credential,
            http,
            slot_versions: Mutex::new(BTreeSet::new()),
        })
    }
}

/// Requests of the Vault source beyond [`heliosdb_keys::KeySource`].
#[async_trait]
pub trait VaultTransitExt {
    /// Like [`KmsSource::new`] with a token the application got itself,
    /// for `auth = "token"` (the default).
    ///
    /// # Errors
    /// As [`KmsSource::new`]; an `auth` other than `token`.
    fn with_token(spec: &KmsSpec, token: SecretString) -> Result<VaultTransitSource>;

    /// The transit key's latest version (one request).
    ///
    /// # Errors
    /// Classified Vault errors.
    async fn latest_version(&self) -> Result<u32>;
}

#[async_trait]
impl VaultTransitExt for VaultTransitSource {
    fn with_token(spec: &KmsSpec, token: SecretString) -> Result<VaultTransitSource> {
        KmsSource::with_given(spec, token)
    }

    async fn latest_version(&self) -> Result<u32> {
        self.run("reading key", |v| async move {
            v.read_key().await.map(|k| k.latest_version)
        })
        .await
    }
}

#[derive(Deserialize)]
struct KeyInfo {
    latest_version: u32,
    #[serde(default)]
    min_decryption_version: u32,
    #[serde(default)]
    supports_encryption: bool,
    #[serde(default)]
    supports_decryption: bool,
    #[serde(default)]
    derived: bool,
    #[serde(rename = "type")]
    key_type: String,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct EncryptOut {
    ciphertext: String,
}

#[derive(Deserialize)]
struct DecryptOut {
    plaintext: String,
}

#[derive(Deserialize, Default)]
struct VaultErrors {
    #[serde(default)]
    errors: Vec<String>,
}

/// What one HTTP exchange came to.
enum Sent {
    Ok(Zeroizing<Vec<u8>>),
    Refused { status: u16, errors: Vec<String> },
    Failed(KmsErrorKind, String),
}

fn refusal_detail(status: u16, errors: &[String]) -> String {
    if errors.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", errors.join("; "))
    }
}

/// The token as a header value, marked sensitive (kept out of reqwest's and
/// hyper's debug output).
fn token_header(token: &SecretString) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(token.expose_secret()).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Slot key versions below the key's `min_decryption_version`: transit
/// refuses to decrypt them, so those slots no longer open.
fn stranded_versions(min_decryption_version: u32, slots: &BTreeSet<u32>) -> Vec<u32> {
    slots
        .iter()
        .copied()
        .filter(|v| *v < min_decryption_version)
        .collect()
}

impl VaultTransit {
    fn err(&self, kind: KmsErrorKind, what: &str, detail: impl fmt::Display) -> Error {
        self.error(kind, what, detail)
    }

    /// One HTTP exchange, no retry.
    async fn send(
        &self,
        method: &reqwest::Method,
        url: &str,
        token: Option<&HeaderValue>,
        body: Option<&[u8]>,
    ) -> Sent {
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("X-Vault-Request", "true");
        if let Some(t) = token {
            req = req.header("X-Vault-Token", t.clone());
        }
        // Every request, logins included: an auth method mounted in a
        // namespace is reached through the same header.
        if let Some(ns) = &self.settings.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(bytes) => {
                        let bytes = Zeroizing::new(Vec::from(bytes));
                        if (200..300).contains(&status) {
                            return Sent::Ok(bytes);
                        }
                        let errors: VaultErrors =
                            serde_json::from_slice(&bytes).unwrap_or_default();
                        Sent::Refused {
                            status,
                            errors: errors.errors,
                        }
                    }
                    Err(e) => Sent::Failed(
                        KmsErrorKind::Unavailable,
                        format!("reading the response: {}", classify_transport(&e).1),
                    ),
                }
            }
            Err(e) => {
                let (kind, detail) = classify_transport(&e);
                Sent::Failed(kind, detail)
            }
        }
    }

    /// Backs off before attempt `attempt + 1`, or gives up with `outcome`.
    async fn retry_or_give_up(&self, what: &str, attempt: u32, outcome: Error) -> Result<()> {
        self.settings
            .common
            .retry_after(what, attempt, outcome)
            .await
    }

    /// One API call with bounded retries of the retryable failures
    /// (unreachable, 5xx, 429, sealed). A logged-in token refused with 403
    /// is checked once (expired by the clock, or `lookup-self` refused
    /// too): if it is dead, this logs in again and repeats the request.
    async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        url: String,
        body: Option<Zeroizing<Vec<u8>>>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let mut attempt = 0;
        let mut logged_in_again = false;
        loop {
            attempt += 1;
            let token = self.token(what).await?;
            let outcome = match self
                .send(
                    &method,
                    &url,
                    token.as_ref(),
                    body.as_deref().map(|b| &b[..]),
                )
                .await
            {
                Sent::Ok(bytes) => return Ok(bytes),
                Sent::Refused { status, errors } => {
                    if status == 403 && !logged_in_again && self.token_is_dead(token.as_ref()).await
                    {
                        logged_in_again = true;
                        attempt -= 1;
                        continue;
                    }
                    self.classified(what, &Refusal { status, errors })
                }
                Sent::Failed(kind, detail) => self.err(kind, what, detail),
            };
            self.retry_or_give_up(what, attempt, outcome).await?;
        }
    }

    /// What to check when the server says "permission denied", by auth method.
    fn denied_hint(&self) -> String {
        let a = &self.settings.auth;
        match a.method {
            AuthMethod::Token => String::new(),
            AuthMethod::Agent => " (auth = agent: the request carried no token; the agent or \
                 proxy at this address must add its auto-auth token, use_auto_auth_token = true)"
                .to_string(),
            _ => format!(" (the token of {} login at auth/{})", a.label(), a.mount),
        }
    }

    /// The token header for the next request: the fixed one, none (agent),
    /// or the session's, renewed or replaced first when it is due.
    async fn token(&self, what: &str) -> Result<Option<HeaderValue>> {
        let (session, refresh) =
            match &self.credential {
                Credential::Agent => return Ok(None),
                Credential::Fixed(Some(t)) => {
                    return token_header(t).map(Some).ok_or_else(|| {
                        self.err(
                            KmsErrorKind::AccessDenied,
                            what,
                            "the Vault token is not a valid HTTP header value",
                        )
                    })
                }
                Credential::Fixed(None) => return Err(self.err(
                    KmsErrorKind::AccessDenied,
                    what,
                    "no Vault token: set VAULT_TOKEN (or BAO_TOKEN), log in with the vault/bao \
                     CLI, or set auth = \"approle\", \"jwt\", \"kubernetes\" or \"agent\"",
                )),
                Credential::Login { session, refresh } => (session, refresh),
            };
        let current = |session: &Mutex<Option<Session>>| -> Option<HeaderValue> {
            let guard = session.lock().ok()?;
            let s = guard.as_ref()?;
            (!s.refresh_due(Instant::now())).then(|| token_header(&s.token))?
        };
        if let Some(h) = current(session) {
            return Ok(Some(h));
        }
        let _one_at_a_time = refresh.lock().await;
        // Another task may have renewed or logged in while this one waited.
        if let Some(h) = current(session) {
            return Ok(Some(h));
        }
        if let Err(e) = self.refresh_session(session).await {
            // A refresh that failed (say Vault was briefly unreachable)
            // leaves the session as it was: a token not yet expired still
            // serves until the next request tries again.
            let alive = session.lock().ok().and_then(|g| {
                g.as_ref()
                    .filter(|s| !s.expired(Instant::now()))
                    .and_then(|s| token_header(&s.token))
            });
            if let Some(h) = alive {
                tracing::warn!(error = %e, "refreshing the Vault token failed; using it until it expires");
                return Ok(Some(h));
            }
            return Err(e);
        }
        let guard = session.lock().map_err(|_| self.poisoned(what))?;
        guard
            .as_ref()
            .and_then(|s| token_header(&s.token))
            .map(Some)
            .ok_or_else(|| {
                self.err(
                    KmsErrorKind::AccessDenied,
                    what,
                    format!(
                        "the {} login returned a token that is not a valid HTTP header value",
                        self.settings.auth.label()
                    ),
                )
            })
    }

    fn poisoned(&self, what: &str) -> Error {
        self.err(
            KmsErrorKind::Unavailable,
            what,
            "a thread panicked while holding the Vault session",
        )
    }

    /// Renews the session's token if it is renewable and alive, else (or
    /// when renewal fails) logs in.
    async fn refresh_session(&self, session: &Mutex<Option<Session>>) -> Result<()> {
        let renewable = {
            let guard = session.lock().map_err(|_| self.poisoned("renew"))?;
            guard
                .as_ref()
                .filter(|s| s.renewable && !s.expired(Instant::now()))
                .and_then(|s| token_header(&s.token))
        };
        if let Some(token) = renewable {
            if let Some(lease) = self.renew(&token).await {
                let mut guard = session.lock().map_err(|_| self.poisoned("renew"))?;
                if let Some(s) = guard.as_mut() {
                    s.renewed(lease, Instant::now());
                    return Ok(());
                }
            }
        }
        let fresh = self.login().await?;
        *session.lock().map_err(|_| self.poisoned("login"))? = Some(fresh);
        Ok(())
    }

    /// `auth/token/renew-self`, one attempt: the new lease, or `None` when
    /// it failed (then the caller logs in again).
    async fn renew(&self, token: &HeaderValue) -> Option<Duration> {
        let url = self.settings.api_url("auth/token/renew-self");
        match self
            .send(&reqwest::Method::POST, &url, Some(token), Some(&b"{}"[..]))
            .await
        {
            Sent::Ok(bytes) => {
                let lease = serde_json::from_slice::<AuthResponse>(&bytes)
                    .ok()
                    .and_then(|r| r.auth.as_ref().map(|a| a.lease_duration))
                    .filter(|l| *l > 0)?;
                tracing::debug!(lease_secs = lease, "renewed the Vault token");
                Some(Duration::from_secs(lease))
            }
            Sent::Refused { status, errors } => {
                tracing::debug!(
                    detail = %refusal_detail(status, &errors),
                    "renewing the Vault token failed; logging in again"
                );
                None
            }
            Sent::Failed(_, detail) => {
                tracing::debug!(%detail, "renewing the Vault token failed; logging in again");
                None
            }
        }
    }

    /// Logs in with the configured auth method, with the same retries as
    /// any call. Bad credentials are "access denied" whatever status the
    /// method answers with (AppRole says 400 "invalid role or secret ID").
    async fn login(&self) -> Result<Session> {
        let a = &self.settings.auth;
        let what = format!("{} login at auth/{}", a.label(), a.mount);
        let body = a
            .login_body()
            .map_err(|m| self.err(KmsErrorKind::AccessDenied, &what, m))?;
        let url = self.settings.api_url(&a.login_path());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match self
                .send(&reqwest::Method::POST, &url, None, Some(&body[..]))
                .await
            {
                Sent::Ok(bytes) => {
                    let auth = serde_json::from_slice::<AuthResponse>(&bytes)
                        .ok()
                        .and_then(|r| r.auth)
                        .filter(|b| !b.client_token.is_empty());
                    let Some(auth) = auth else {
                        return Err(self.err(
                            KmsErrorKind::Unavailable,
                            &what,
                            "the response holds no auth.client_token",
                        ));
                    };
                    tracing::debug!(
                        method = a.label(),
                        lease_secs = auth.lease_duration,
                        renewable = auth.renewable,
                        "logged in to Vault"
                    );
                    return Ok(Session::new(
                        SecretString::from(auth.client_token.as_str()),
                        auth.renewable,
                        Duration::from_secs(auth.lease_duration),
                        Instant::now(),
                    ));
                }
                Sent::Refused { status, errors } => {
                    let kind = match status {
                        400 | 401 | 403 => KmsErrorKind::AccessDenied,
                        _ => classify_response(status, &errors),
                    };
                    self.err(kind, &what, refusal_detail(status, &errors))
                }
                Sent::Failed(kind, detail) => self.err(kind, &what, detail),
            };
            self.retry_or_give_up(&what, attempt, outcome).await?;
        }
    }

    /// After a 403 with a logged-in token: whether that token is dead
    /// (expired by the clock, or revoked: `lookup-self`, which the
    /// `default` policy allows, is refused too). A dead token is dropped so
    /// the next request logs in; a live one means the policy refused.
    async fn token_is_dead(&self, used: Option<&HeaderValue>) -> bool {
        let (Credential::Login { session, refresh }, Some(used)) = (&self.credential, used) else {
            return false;
        };
        let _one_at_a_time = refresh.lock().await;
        let (same, expired) = match session.lock() {
            Ok(guard) => match guard.as_ref() {
                Some(s) => (
                    token_header(&s.token).as_ref() == Some(used),
                    s.expired(Instant::now()),
                ),
                None => (false, false),
            },
            Err(_) => return false,
        };
        // Another task already replaced it: retry with the new one.
        if !same {
            return true;
        }
        let dead = expired
            || matches!(
                self.send(
                    &reqwest::Method::GET,
                    &self.settings.api_url("auth/token/lookup-self"),
                    Some(used),
                    None,
                )
                .await,
                Sent::Refused { status: 403, .. }
            );
        if dead {
            tracing::debug!("the Vault token expired or was revoked; logging in again");
            if let Ok(mut guard) = session.lock() {
                *guard = None;
            }
        }
        dead
    }

    async fn read_key(&self) -> Result<KeyInfo> {
        let bytes = self
            .call(
                "reading key",
                reqwest::Method::GET,
                self.settings.url("keys"),
                None,
            )
            .await?;
        let info: Envelope<KeyInfo> = serde_json::from_slice(&bytes).map_err(|e| {
            self.err(
                KmsErrorKind::Unavailable,
                "reading key",
                format!("unexpected response: {e}"),
            )
        })?;
        Ok(info.data)
    }

    async fn key_ref(&self) -> Result<KmsKeyRef> {
        // Log in first: a failed login is the answer, not a reason to try
        // the probe below.
        self.token("checking key").await?;
        let version = match self.read_key().await {
            Ok(info) => {
                self.check_key(&info)?;
                self.warn_stranded(&info);
                info.latest_version
            }
            // The standard transit application policy grants `update` on
            // transit/encrypt/<key> and transit/decrypt/<key> only, not
            // `read` on transit/keys/<key>. An encrypt without a version
            // uses the latest one and names it in the ciphertext
            // (vault:vN:…): that is the version to pin. The key type is
            // then judged by transit's refusals and the ciphertext's size.
            Err(Error::Kms {
                kind: KmsErrorKind::AccessDenied,
                ..
            }) => {
                tracing::debug!(
                    key = %self.settings.locator(),
                    "reading the transit key denied; learning its latest version from an encrypt"
                );
                let blob = self
                    .encrypt(None, PROBE_PLAINTEXT, PROBE_AAD)
                    .await
                    .map_err(|e| match e {
                        // An RSA key: "associated_data provided for non-AEAD
                        // cipher suite rsa-2048".
                        Error::Kms { ref message, .. } if message.contains("non-AEAD") => self.err(
                            KmsErrorKind::KeyUnusable,
                            "checking key",
                            format!(
                                "transit refused associated data (not an AEAD key): only the \
                                 transit key types {} are supported",
                                KEY_TYPES.join(", ")
                            ),
                        ),
                        e => e,
                    })?;
                // The type cannot be read; the ciphertext's shape can be
                // checked: a 96-bit nonce, the plaintext and a 128-bit tag
                // is what all three accepted AEADs make (an RSA key refuses
                // associated data before it gets here).
                if blob.len() != 5 + 12 + PROBE_PLAINTEXT.len() + 16 {
                    return Err(self.err(
                        KmsErrorKind::KeyUnusable,
                        "checking key",
                        format!(
                            "its ciphertext is not that of {}: only these AEAD key types are \
                             supported",
                            KEY_TYPES.join(", ")
                        ),
                    ));
                }
                blob_key_version(&blob).filter(|v| *v > 0).ok_or_else(|| {
                    self.err(
                        KmsErrorKind::Unavailable,
                        "encrypt",
                        "transit returned a ciphertext without a key version",
                    )
                })?
            }
            Err(e) => return Err(e),
        };
        Ok(KmsKeyRef {
            provider: PROVIDER.to_string(),
            key_id: self.settings.key.clone(),
            key_version: Some(version.to_string()),
            options: self.settings.stored_options(),
        })
    }

    /// Refuses a key this provider cannot wrap with: another type than the
    /// AEADs of [`KEY_TYPES`], a derived key (it needs a context per
    /// request), a key that cannot both encrypt and decrypt.
    fn check_key(&self, info: &KeyInfo) -> Result<()> {
        let refuse =
            |detail: String| Err(self.err(KmsErrorKind::KeyUnusable, "checking key", detail));
        if !KEY_TYPES.contains(&info.key_type.as_str()) {
            return refuse(format!(
                "transit key type {} is not supported: create the key with type {} (an AEAD \
                 that authenticates the associated data)",
                info.key_type,
                KEY_TYPES.join(", ")
            ));
        }
        if info.derived {
            return refuse(
                "a derived transit key (derived=true) needs a context with every request; \
                 create the key without derivation"
                    .to_string(),
            );
        }
        if !info.supports_encryption || !info.supports_decryption {
            return refuse(format!(
                "a {} key cannot encrypt and decrypt",
                info.key_type
            ));
        }
        Ok(())
    }

    /// Warns when `min_decryption_version` is above the version a slot of
    /// this database (matched at open) was wrapped with: transit now
    /// refuses that slot, and a database whose only slot it is no longer
    /// opens.
    ///
    /// The new slot then takes the place of the matched one: a database
    /// holds one slot per key (`add-key` refuses a second), so only the new
    /// slot's version is remembered from here on.
    fn warn_stranded(&self, info: &KeyInfo) {
        let Ok(mut seen) = self.slot_versions.lock() else {
            return;
        };
        let stranded = stranded_versions(info.min_decryption_version, &seen);
        *seen = BTreeSet::from([info.latest_version]);
        if !stranded.is_empty() {
            tracing::warn!(
                key = %self.settings.locator(),
                min_decryption_version = info.min_decryption_version,
                slot_versions = ?stranded,
                "the transit key's min_decryption_version is above the key version a slot of \
                 this database was wrapped under: transit refuses to unwrap that slot, so the \
                 database does not open with it until it is re-wrapped under the latest \
                 version (rotate-key); lower min_decryption_version (transit/keys/<key>/config) \
                 until then"
            );
        }
    }

    async fn encrypt(&self, version: Option<u32>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let plaintext = Zeroizing::new(B64.encode(key));
        let mut body = serde_json::json!({
            "plaintext": plaintext.as_str(),
            "associated_data": B64.encode(aad),
        });
        if let Some(v) = version {
            body["key_version"] = v.into();
        }
        // The body holds the key (base64): keep it in wiped memory.
        let body = Zeroizing::new(serde_json::to_vec(&body).unwrap_or_default());
        let bytes = self
            .call(
                "encrypt",
                reqwest::Method::POST,
                self.settings.url("encrypt"),
                Some(body),
            )
            .await?;
        let out: Envelope<EncryptOut> = serde_json::from_slice(&bytes).map_err(|e| {
            self.err(
                KmsErrorKind::Unavailable,
                "encrypt",
                format!("unexpected response: {e}"),
            )
        })?;
        encode_blob(&out.data.ciphertext).ok_or_else(|| {
            self.err(
                KmsErrorKind::Unavailable,
                "encrypt",
                "transit returned a ciphertext that is not vault:vN:BASE64",
            )
        })
    }

    async fn decrypt(&self, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        let ciphertext = decode_blob(blob).ok_or_else(|| {
            self.err(
                KmsErrorKind::WrongKey,
                "decrypt",
                "the wrapped key is not a transit ciphertext",
            )
        })?;
        let body = serde_json::json!({
            "ciphertext": ciphertext,
            "associated_data": B64.encode(aad),
        });
        let body = Zeroizing::new(serde_json::to_vec(&body).unwrap_or_default());
        let bytes = self
            .call(
                "decrypt",
                reqwest::Method::POST,
                self.settings.url("decrypt"),
                Some(body),
            )
            .await?;
        let out: Envelope<DecryptOut> = serde_json::from_slice(&bytes).map_err(|e| {
            self.err(
                KmsErrorKind::Unavailable,
                "decrypt",
                format!("unexpected response: {e}"),
            )
        })?;
        let b64 = Zeroizing::new(out.data.plaintext);
        let plain = Zeroizing::new(B64.decode(b64.as_bytes()).unwrap_or_default());
        SecretKey::from_slice(&plain).ok_or_else(|| {
            self.err(
                KmsErrorKind::WrongKey,
                "decrypt",
                "transit returned something that is not a 32-byte key",
            )
        })
    }
}

/// `vault:vN:BASE64` → `0x01 | N (u32 BE) | bytes`.
fn encode_blob(ciphertext: &str) -> Option<Vec<u8>> {
    let rest = ciphertext.strip_prefix("vault:v")?;
    let (version, b64) = rest.split_once(':')?;
    let version: u32 = version.parse().ok()?;
    let bytes = B64.decode(b64).ok()?;
    let mut out = Vec::with_capacity(5 + bytes.len());
    out.push(BLOB_FORMAT);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&bytes);
    Some(out)
}

/// The inverse of [`encode_blob`].
fn decode_blob(blob: &[u8]) -> Option<String> {
    if blob.len() < 6 || blob[0] != BLOB_FORMAT {
        return None;
    }
    let version = u32::from_be_bytes([blob[1], blob[2], blob[3], blob[4]]);
    if version == 0 {
        return None;
    }
    Some(format!("vault:v{version}:{}", B64.encode(&blob[5..])))
}

/// The key version a blob was wrapped under.
pub fn blob_key_version(blob: &[u8]) -> Option<u32> {
    (blob.len() >= 6 && blob[0] == BLOB_FORMAT)
        .then(|| u32::from_be_bytes([blob[1], blob[2], blob[3], blob[4]]))
}

/// A refusal of the Vault API: the HTTP status and its `errors` strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// Vault's `errors` list.
    pub errors: Vec<String>,
}

#[async_trait]
impl KmsVendor for VaultTransit {
    const PROVIDER: &'static str = PROVIDER;
    const OPTIONS: &'static [&'static str] = &OPTIONS;
    const FEATURE: &'static str = "vault";
    const IDENTITY_OPTIONS: &'static [&'static str] = &IDENTITY_OPTIONS;
    type Given = SecretString;
    type Failure = Refusal;

    fn from_spec(spec: &KmsSpec, common: &KmsCommon, token: Option<SecretString>) -> Result<Self> {
        VaultTransit::new(spec, common, token)
    }

    fn locator(&self) -> String {
        self.settings.locator()
    }

    fn subject(&self) -> String {
        format!(
            "with transit key {} at {}",
            self.settings.locator(),
            self.settings.address
        )
    }

    fn classify(&self, _op: &str, r: &Refusal) -> (KmsErrorKind, String) {
        let kind = classify_response(r.status, &r.errors);
        let mut detail = refusal_detail(r.status, &r.errors);
        if kind == KmsErrorKind::AccessDenied {
            detail.push_str(&self.denied_hint());
        }
        (kind, detail)
    }

    async fn new_key_ref(&self) -> Result<KmsKeyRef> {
        self.key_ref().await
    }

    async fn owns(&self, k: &KmsKeyRef) -> Result<bool> {
        // Identity is the key's name under its mount and namespace; the
        // address is only how to reach it (it may change, e.g. a new DNS name).
        let s = &self.settings;
        if k.key_id != s.key
            || k.options.get("mount").map(String::as_str) != Some(s.mount.as_str())
            || k.options.get("namespace") != s.namespace.as_ref()
        {
            return Ok(false);
        }
        // Remembered for the min_decryption_version check of a later read.
        if let (Some(v), Ok(mut seen)) = (
            k.key_version.as_deref().and_then(|v| v.parse::<u32>().ok()),
            self.slot_versions.lock(),
        ) {
            seen.insert(v);
        }
        Ok(true)
    }

    async fn wrap(&self, slot: Option<&KmsKeyRef>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let version = slot
            .and_then(|k| k.key_version.as_deref())
            .and_then(|v| v.parse::<u32>().ok());
        self.encrypt(version, key, aad).await
    }

    async fn unwrap(&self, _: Option<&KmsKeyRef>, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        self.decrypt(blob, aad).await
    }
}

/// Sorts a Vault error response (status and its `errors` strings).
pub fn classify_response(status: u16, errors: &[String]) -> KmsErrorKind {
    let text = errors.join(" ").to_ascii_lowercase();
    match status {
        401 | 403 => KmsErrorKind::AccessDenied,
        404 => KmsErrorKind::NotFound,
        412 | 429 | 500..=599 => KmsErrorKind::Unavailable,
        _ if text.contains("not found") || text.contains("no handler for route") => {
            KmsErrorKind::NotFound
        }
        _ if text.contains("permission denied") => KmsErrorKind::AccessDenied,
        // A key version retired by the key's policy: below
        // min_decryption_version ("ciphertext or signature version is
        // disallowed by policy (too old)") or min_encryption_version. The
        // key is right, its configuration refuses the version: lower the
        // minimum again to use it.
        _ if text.contains("disallowed by policy")
            || text.contains("too old")
            || text.contains("minimum encryption key version") =>
        {
            KmsErrorKind::KeyUnusable
        }
        // Authentication failures and ciphertexts the key cannot read (a
        // blob of another key): the blob does not open under this key.
        _ if text.contains("message authentication failed")
            || text.contains("ciphertext")
            || text.contains("decrypt") =>
        {
            KmsErrorKind::WrongKey
        }
        // Any other refusal is about the request; nothing says another key
        // would help.
        400..=499 => KmsErrorKind::InvalidRequest,
        _ => KmsErrorKind::Unavailable,
    }
}

/// Sorts a transport failure; every one is "unavailable" (after retries).
pub fn classify_transport(e: &reqwest::Error) -> (KmsErrorKind, String) {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut detail = what.to_string();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = cur {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        cur = inner.source();
    }
    (KmsErrorKind::Unavailable, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key: &str, opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::from_pairs(PROVIDER, key, opts)
    }

    /// Settings as the source parses them (options checked by the adapter).
    fn parse(spec: &KmsSpec) -> Result<Settings> {
        VaultTransitSource::new(spec).map(|s| s.vendor().settings.clone())
    }

    #[test]
    fn settings_validate_and_name_what_is_wrong() {
        let a = [("address", "https://vault.example:8200/")];
        let s = parse(&spec("app", &a)).unwrap();
        assert_eq!(s.mount, "transit");
        assert_eq!(s.address, "https://vault.example:8200");
        assert_eq!(
            s.url("encrypt"),
            "https://vault.example:8200/v1/transit/encrypt/app"
        );
        let err = parse(&spec("app", &[("address", "https://x"), ("token", "t")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option 'token'"), "{err}");
        assert!(parse(&spec("a/b", &a)).is_err());
        assert!(parse(&spec("app", &[("address", "vault:8200")])).is_err());
        // The token would cross the network in clear.
        let err = parse(&spec("app", &[("address", "http://127.0.0.1:8200")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--insecure-kms-endpoint"), "{err}");
        let s = parse(&spec(
            "app",
            &[
                ("address", "http://127.0.0.1:8200"),
                ("insecure_endpoint", "true"),
            ],
        ))
        .unwrap();
        assert_eq!(
            s.stored_options().keys().collect::<Vec<_>>(),
            vec!["mount"],
            "the address is never recorded"
        );
    }

    #[test]
    fn slots_below_min_decryption_version_are_stranded() {
        let slots: BTreeSet<u32> = [1, 3, 4].into();
        assert_eq!(stranded_versions(1, &slots), Vec::<u32>::new());
        assert_eq!(stranded_versions(0, &slots), Vec::<u32>::new());
        assert_eq!(stranded_versions(4, &slots), vec![1, 3]);
        assert_eq!(stranded_versions(9, &BTreeSet::new()), Vec::<u32>::new());
    }

    #[test]
    fn auth_settings_come_with_the_other_options_and_a_token_only_with_auth_token() {
        let a = [
            ("address", "https://vault.example:8200"),
            ("auth", "approle"),
            ("role_id", "r"),
            ("secret_id_env", "APP_SECRET_ID"),
        ];
        let s = parse(&spec("app", &a)).unwrap();
        assert_eq!(s.auth.label(), "AppRole");
        // A token handed over and a login method are two sources of truth.
        let err = VaultTransitSource::with_token(&spec("app", &a), "t".into()).unwrap_err();
        assert!(err.to_string().contains("AppRole auth method"), "{err}");
        let src = VaultTransitSource::new(&spec(
            "app",
            &[("address", "https://vault.example:8200"), ("auth", "agent")],
        ))
        .unwrap();
        let dbg = format!("{src:?}");
        assert!(
            dbg.contains("\"agent\"") && dbg.contains("token: None"),
            "{dbg}"
        );
    }

    #[test]
    fn blob_round_trips_and_rejects_junk() {
        let ct = "vault:v7:cYW8qRCxEdKq7/2tzln2QvxUj0gLuDxW8tyDmdV/sY5L";
        let blob = encode_blob(ct).unwrap();
        assert_eq!(blob_key_version(&blob), Some(7));
        assert_eq!(decode_blob(&blob).unwrap(), ct);
        assert!(encode_blob("vault:vx:AAAA").is_none());
        assert!(decode_blob(&[2, 0, 0, 0, 1, 9]).is_none());
        assert!(decode_blob(&[1, 0, 0, 0, 0, 9]).is_none());
        assert!(decode_blob(&blob[..5]).is_none());
    }

    #[test]
    fn responses_are_classified() {
        use KmsErrorKind::*;
        let e = |s: &str| vec![s.to_string()];
        assert_eq!(
            classify_response(403, &e("permission denied")),
            AccessDenied
        );
        assert_eq!(classify_response(404, &[]), NotFound);
        assert_eq!(
            classify_response(400, &e("encryption key not found")),
            NotFound
        );
        assert_eq!(
            classify_response(400, &e("cipher: message authentication failed")),
            WrongKey
        );
        assert_eq!(
            classify_response(400, &e("invalid ciphertext: no prefix")),
            WrongKey
        );
        assert_eq!(
            classify_response(
                400,
                &e("ciphertext or signature version is disallowed by policy (too old)")
            ),
            KeyUnusable
        );
        assert_eq!(
            classify_response(
                400,
                &e("requested version for encryption is less than the minimum encryption key version")
            ),
            KeyUnusable
        );
        assert_eq!(
            classify_response(400, &e("missing 'context' for key derivation")),
            InvalidRequest
        );
        assert_eq!(classify_response(400, &[]), InvalidRequest);
        assert!(!classify_response(400, &e("too old")).is_retryable());
        assert_eq!(classify_response(503, &e("Vault is sealed")), Unavailable);
        assert_eq!(classify_response(429, &[]), Unavailable);
    }
}

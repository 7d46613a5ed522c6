//! The Vault transit key source against a real OpenBao dev server on
//! 127.0.0.1 (`bao server -dev`), transit enabled by the test.

mod common;

use std::sync::Arc;

use common::Bao;
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, Error as CoreError, StorageEngine};
use heliosdb_keys::{conformance, Error, KeyManager, KeySource, KmsErrorKind, SecretKey};
use heliosdb_kms_vault::{blob_key_version, VaultTransitExt, VaultTransitSource};

fn config_for(dir: &std::path::Path, bao: &Bao, key: &str) -> Config {
    let toml = format!(
        "[storage]\npath = \"{}\"\n\n[encryption]\nenabled = true\n\
         key_source = {{ Kms = {{ provider = \"vault\", key_id = \"{key}\", address = \"{}\" }} }}\n\n\
         [encryption.kms]\nmount = \"transit\"\ninsecure_endpoint = \"true\"\nmax_attempts = \"2\"\ntimeout_secs = \"5\"\n",
        dir.join("db").display(),
        bao.address()
    );
    let file = dir.join("heliosdb.toml");
    std::fs::write(&file, toml).unwrap();
    let config = Config::from_file(&file).unwrap();
    assert!(matches!(
        config.encryption.key_source,
        KeySourceConfig::Kms { .. }
    ));
    config
}

fn kind_of(err: &Error) -> Option<KmsErrorKind> {
    match err {
        Error::Kms { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn core_kind(err: &CoreError) -> Option<KmsErrorKind> {
    match err {
        CoreError::Keys(e) => kind_of(e),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_passes_against_openbao() {
    let bao = Bao::start();
    bao.create_key("conf-a");
    bao.create_key("conf-b");
    let a = VaultTransitSource::new(&bao.spec("conf-a")).unwrap();
    let b = VaultTransitSource::new(&bao.spec("conf-b")).unwrap();
    conformance::run(&a, &b, &[common::ROOT_TOKEN.as_bytes()]).await;
    // Nothing listens on port 9: two attempts of at most 5 s, then unavailable.
    let mut gone = bao.spec("conf-a");
    gone.options
        .insert("address".into(), "http://127.0.0.1:9".into());
    let gone = VaultTransitSource::with_token(&gone, common::ROOT_TOKEN.into()).unwrap();
    conformance::run_unreachable(&gone, std::time::Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_versions_are_pinned_recorded_and_enforced() {
    let bao = Bao::start();
    bao.create_key("versions");
    let src = VaultTransitSource::new(&bao.spec("versions")).unwrap();
    let h1 = src.new_header().await.unwrap();
    let kms = h1.kms.as_ref().unwrap();
    assert_eq!(kms.key_id, "versions");
    assert_eq!(kms.key_version.as_deref(), Some("1"));
    // Identity only: the address (where the token goes) is never recorded.
    assert_eq!(kms.options.get("address"), None);
    assert_eq!(
        kms.options.get("mount").map(String::as_str),
        Some("transit")
    );
    let key = SecretKey::generate().unwrap();
    let blob1 = src.wrap(&h1, &key, b"aad").await.unwrap();
    assert_eq!(blob_key_version(&blob1), Some(1));

    // A rotated transit key: a new slot records (and wraps under) version 2,
    // and the version-1 blob still opens.
    bao.rotate_key("versions");
    let h2 = src.new_header().await.unwrap();
    assert_eq!(h2.kms.as_ref().unwrap().key_version.as_deref(), Some("2"));
    let blob2 = src.wrap(&h2, &key, b"aad").await.unwrap();
    assert_eq!(blob_key_version(&blob2), Some(2));
    // The old header still pins version 1, even now that 2 is the latest.
    assert_eq!(
        blob_key_version(&src.wrap(&h1, &key, b"aad").await.unwrap()),
        Some(1)
    );
    for blob in [&blob1, &blob2] {
        let back = src.unwrap(&h1, blob, b"aad").await.unwrap();
        assert_eq!(back.expose_secret(), key.expose_secret());
    }
    // Retiring version 1 on the server: the old blob is refused as "key
    // unusable" (the key is right, its policy refuses the version), not
    // "wrong key", and not retryable.
    bao.set_min_decryption_version("versions", 2);
    let err = src.unwrap(&h1, &blob1, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(!err.to_string().contains("wrong key"), "{err}");
    assert!(src.unwrap(&h2, &blob2, b"aad").await.is_ok());
}

#[test]
fn engine_round_trip_makes_one_decrypt_at_open_and_survives_an_outage() {
    let bao = Bao::start();
    bao.create_key("engine");
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &bao, "engine");
    let path = dir.path().join("db");

    let storage = StorageEngine::open(&path, &config).unwrap();
    for i in 0..100 {
        storage
            .put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes())
            .unwrap();
    }
    drop(storage);
    assert_eq!(bao.count("encrypt", "engine"), 1);
    // The new slot is unwrapped once before it is kept.
    assert_eq!(bao.count("decrypt", "engine"), 1, "the new slot is proven");

    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(bao.count("decrypt", "engine"), 2, "one unwrap at open");
    for i in 0..100 {
        assert_eq!(
            storage.get(format!("k{i}").as_bytes()).unwrap().unwrap(),
            format!("v{i}").as_bytes()
        );
    }
    for i in 100..300 {
        storage.put(format!("k{i}").as_bytes(), b"more").unwrap();
    }
    assert_eq!(bao.count("decrypt", "engine"), 2, "no KMS call per record");
    assert_eq!(bao.count("encrypt", "engine"), 1);

    // Vault sealed (an outage): the open database keeps working.
    bao.seal();
    storage.put(b"during-outage", b"still writable").unwrap();
    assert_eq!(storage.get(b"k7").unwrap().unwrap(), b"v7");
    drop(storage);
    // A new open cannot unwrap: "unavailable", retryable.
    let err = StorageEngine::open(&path, &config).unwrap_err();
    assert_eq!(core_kind(&err), Some(KmsErrorKind::Unavailable), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("vault KMS unavailable:"), "{msg}");
    assert!(msg.contains("sealed"), "{msg}");

    // And with the server gone altogether.
    drop(bao);
    let err = StorageEngine::open(&path, &config).unwrap_err();
    assert_eq!(core_kind(&err), Some(KmsErrorKind::Unavailable), "{err}");
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[test]
fn init_with_vault_unreachable_leaves_no_database() {
    common::test_env();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut config = Config::default();
    config.encryption.enabled = true;
    config.encryption.key_source = KeySourceConfig::Kms {
        provider: "vault".into(),
        key_id: "never".into(),
    };
    config.encryption.kms.insert(
        "address".into(),
        format!("http://127.0.0.1:{}", common::free_port()),
    );
    config
        .encryption
        .kms
        .insert("max_attempts".into(), "2".into());
    config
        .encryption
        .kms
        .insert("insecure_endpoint".into(), "true".into());
    let err = StorageEngine::open(&path, &config).unwrap_err();
    assert_eq!(core_kind(&err), Some(KmsErrorKind::Unavailable), "{err}");
    assert!(!path.exists(), "a failed init left {}", path.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_key_denied_and_missing_are_classified() {
    let bao = Bao::start();
    bao.create_key("right");
    bao.create_key("wrong");
    let right = VaultTransitSource::new(&bao.spec("right")).unwrap();
    let wrong = VaultTransitSource::new(&bao.spec("wrong")).unwrap();
    let header = right.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = right.wrap(&header, &key, b"aad").await.unwrap();

    // Another transit key's blob: the server refuses it as not authentic.
    let err = wrong.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(
        err.to_string().contains("message authentication failed"),
        "{err}"
    );

    // A bad token: access denied, and the token is not in the message.
    let bad = VaultTransitSource::with_token(
        &bao.spec("right"),
        "hvs.not-a-real-token-1234".to_string().into(),
    )
    .unwrap();
    let err = bad.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(!err.to_string().contains("not-a-real-token"), "{err}");
    assert!(!format!("{bad:?}").contains("not-a-real-token"));

    // A key that does not exist: not found at init, naming the key.
    let missing = VaultTransitSource::new(&bao.spec("absent")).unwrap();
    let err = missing.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    assert!(err.to_string().contains("transit/absent"), "{err}");

    // A database of key "right" opened with key "wrong": a wrong-key error
    // naming the key it does open with, before any decrypt request.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    drop(StorageEngine::open_with_source(&path, &config, Arc::new(right)).unwrap());
    let before = bao.count("decrypt", "wrong");
    let err = StorageEngine::open_with_source(&path, &config, Arc::new(wrong)).unwrap_err();
    assert!(
        matches!(err, CoreError::Keys(Error::WrongKey { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("vault KMS key transit/right"),
        "{err}"
    );
    assert_eq!(bao.count("decrypt", "wrong"), before);
}

#[test]
fn reopens_from_the_slot_identity_alone() {
    let bao = Bao::start();
    bao.create_key("slot");
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &bao, "slot");
    let path = dir.path().join("db");
    {
        let s = StorageEngine::open(&path, &config).unwrap();
        s.put(b"k", b"v").unwrap();
    }
    // What `heliosdb-nano … --path DB --kms-option address=…` does: read
    // the keyring, build the source from the slot's recorded identity and
    // the caller's address.
    let (_, ring) = StorageEngine::inspect(&path).unwrap();
    let kms = ring.unwrap().slots[0].header.kms.clone().unwrap();
    assert_eq!(
        kms.options.get("mount").map(String::as_str),
        Some("transit")
    );
    let caller = [
        ("address".to_string(), bao.address()),
        ("insecure_endpoint".to_string(), "true".to_string()),
    ]
    .into();
    let src = heliosdb_keys::kms_source_for_slot(&kms, &caller).unwrap();
    let s = StorageEngine::open_with_source(&path, &Config::default(), src).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    // Without an address from the caller (and no VAULT_ADDR) there is
    // nowhere to send the token: the slot does not supply one.
    let err = heliosdb_keys::kms_source_for_slot(&kms, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("needs an address"), "{err}");
}

#[test]
fn rotation_to_a_key_the_token_may_only_encrypt_with_is_refused() {
    let bao = Bao::start();
    bao.create_key("both");
    bao.create_key("enc-only");
    // A policy on transit/encrypt only (plus reading the key, which the
    // slot header needs): the token may wrap but never unwrap.
    let token = bao.token_with_policy(
        "heliosdb-encrypt-only",
        "path \"transit/encrypt/enc-only\" { capabilities = [\"update\"] }\n\
         path \"transit/keys/enc-only\" { capabilities = [\"read\"] }\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    let ka = KeyManager::from_key_source(Arc::new(
        VaultTransitSource::new(&bao.spec("both")).unwrap(),
    ));
    let kb = KeyManager::from_key_source(Arc::new(
        VaultTransitSource::with_token(&bao.spec("enc-only"), token.clone().into()).unwrap(),
    ));
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    s.put(b"k", b"v").unwrap();

    let err = s.rotate_encryption_key(&kb).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(Error::NewKeyCannotDecrypt { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("cannot decrypt"), "{msg}");
    assert!(msg.contains("access denied"), "{msg}");
    assert!(
        msg.contains("grant decrypt") && msg.contains("transit/decrypt"),
        "{msg}"
    );
    assert!(!msg.contains(&token), "{msg}");
    assert_eq!(bao.count("encrypt", "enc-only"), 1, "the new key did wrap");
    assert_eq!(bao.count("decrypt", "enc-only"), 1, "and was tried once");
    let err = s.add_encryption_key(&kb).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(Error::NewKeyCannotDecrypt { .. })),
        "{err:?}"
    );
    assert_eq!(s.encryption_status().unwrap().kek_slots.len(), 1);
    drop(s);

    // Unchanged: the old key opens it, the encrypt-only one does not.
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    drop(s);
    assert_wrong(&path, &kb);
}

#[test]
fn kek_rotation_env_to_vault_to_other_vault_key_to_file() {
    use std::os::unix::fs::PermissionsExt;
    let bao = Bao::start();
    bao.create_key("rot-a");
    bao.create_key("rot-b");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    std::env::set_var(
        "HELIOSDB_VAULT_ROTATION_KEY",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    );
    let env = KeyManager::from_source(&KeySourceConfig::Environment(
        "HELIOSDB_VAULT_ROTATION_KEY".into(),
    ))
    .unwrap();
    let vault_a = KeyManager::from_key_source(Arc::new(
        VaultTransitSource::new(&bao.spec("rot-a")).unwrap(),
    ));
    let vault_b = KeyManager::from_key_source(Arc::new(
        VaultTransitSource::new(&bao.spec("rot-b")).unwrap(),
    ));
    let key_file = dir.path().join("exit.key");
    std::fs::write(&key_file, hex_key(0x5a)).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o400)).unwrap();
    let file = KeyManager::from_source(&KeySourceConfig::File(key_file)).unwrap();

    let s = StorageEngine::open_with_key_manager(&path, &config, &env).unwrap();
    s.put(b"k", b"v").unwrap();
    // env → vault key A
    s.rotate_encryption_key(&vault_a).unwrap();
    drop(s);
    assert_wrong(&path, &env);
    let before = bao.count("decrypt", "rot-a");
    let s = StorageEngine::open_with_key_manager(&path, &config, &vault_a).unwrap();
    assert_eq!(
        bao.count("decrypt", "rot-a") - before,
        1,
        "one unwrap at open"
    );
    // vault key A → vault key B
    s.rotate_encryption_key(&vault_b).unwrap();
    drop(s);
    assert_wrong(&path, &vault_a);
    let s = StorageEngine::open_with_key_manager(&path, &config, &vault_b).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    // vault → a key file (the exit plan): no Vault needed afterwards.
    s.rotate_encryption_key(&file).unwrap();
    drop(s);
    drop(bao);
    let s = StorageEngine::open_with_key_manager(&path, &config, &file).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    let (_, ring) = StorageEngine::inspect(&path).unwrap();
    assert!(ring
        .unwrap()
        .slots
        .iter()
        .all(|slot| slot.header.kms.is_none()));
}

fn hex_key(byte: u8) -> String {
    std::iter::repeat_n(format!("{byte:02x}"), 32).collect()
}

fn assert_wrong(path: &std::path::Path, km: &KeyManager) {
    let err = StorageEngine::open_with_key_manager(path, &Config::default(), km).unwrap_err();
    assert!(
        matches!(err, CoreError::Keys(Error::WrongKey { .. })),
        "{err}"
    );
}

#[test]
fn canary_scan_of_a_vault_backed_database_finds_nothing() {
    let bao = Bao::start();
    bao.create_key("canary");
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &bao, "canary");
    let path = dir.path().join("db");
    const CANARY_KEY: &str = "canary-vault-key-wombat";
    const CANARY_VALUE: &str = "canary vault value quokka";
    {
        let storage = StorageEngine::open(&path, &config).unwrap();
        for i in 0..500 {
            storage
                .put(
                    format!("{CANARY_KEY}{i}").as_bytes(),
                    format!("{CANARY_VALUE} {i}").as_bytes(),
                )
                .unwrap();
        }
        storage.flush().unwrap();
    }
    let mut files = 0;
    let mut hits = Vec::new();
    let mut stack = vec![path.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&p).unwrap();
            for needle in [
                CANARY_KEY,
                CANARY_VALUE,
                "wombat",
                "quokka",
                common::ROOT_TOKEN,
            ] {
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(format!("{needle} in {}", p.display()));
                }
            }
        }
    }
    assert!(files > 3, "scanned only {files} files");
    assert!(hits.is_empty(), "plaintext on disk: {hits:?}");
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(
        storage
            .get(format!("{CANARY_KEY}7").as_bytes())
            .unwrap()
            .unwrap(),
        format!("{CANARY_VALUE} 7").as_bytes()
    );
}

/// Least privilege: a token holding only the standard transit application
/// policy (`update` on transit/encrypt/<key> and transit/decrypt/<key>, no
/// `read` on transit/keys/<key>) creates a database, reopens it, rotates
/// the KEK onto a new version of the same transit key and then onto
/// another key. The policy and token are real, on the dev server.
#[test]
fn init_reopen_and_rotation_work_with_the_standard_transit_app_policy() {
    let bao = Bao::start();
    bao.create_key("app-a");
    bao.create_key("app-b");
    let policy = |k: &str| {
        format!(
            "path \"transit/encrypt/{k}\" {{ capabilities = [\"update\"] }}\n\
             path \"transit/decrypt/{k}\" {{ capabilities = [\"update\"] }}\n"
        )
    };
    let token = bao.token_with_policy(
        "heliosdb-app",
        &format!("{}{}", policy("app-a"), policy("app-b")),
    );
    let with_token = |k: &str| {
        let src = VaultTransitSource::with_token(&bao.spec(k), token.clone().into()).unwrap();
        KeyManager::from_key_source(Arc::new(src))
    };
    // The token really may not read the key.
    let src = VaultTransitSource::with_token(&bao.spec("app-a"), token.clone().into()).unwrap();
    let err = heliosdb_keys::block_on(src.latest_version()).unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");

    let (ka, kb) = (with_token("app-a"), with_token("app-b"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    let version_of = || {
        let (_, ring) = StorageEngine::inspect(&path).unwrap();
        let kms = ring.unwrap().slots[0].header.kms.clone().unwrap();
        (kms.key_id, kms.key_version.unwrap())
    };

    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    s.put(b"k", b"v").unwrap();
    drop(s);
    assert_eq!(version_of(), ("app-a".to_string(), "1".to_string()));
    // A probe encrypt (to learn the version) and the wrap; the proof decrypt.
    assert_eq!(bao.count("encrypt", "app-a"), 2);
    assert_eq!(bao.count("decrypt", "app-a"), 1);

    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    assert_eq!(
        bao.count("decrypt", "app-a"),
        2,
        "reopening needs decrypt only"
    );

    // The operator rotates the transit key; the KEK rotation pins version 2.
    bao.rotate_key("app-a");
    s.rotate_encryption_key(&ka).unwrap();
    drop(s);
    assert_eq!(version_of(), ("app-a".to_string(), "2".to_string()));
    // Version 1 may be retired: the database no longer needs it.
    bao.set_min_decryption_version("app-a", 2);
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");

    s.rotate_encryption_key(&kb).unwrap();
    s.put(b"k2", b"v2").unwrap();
    drop(s);
    assert_eq!(version_of(), ("app-b".to_string(), "1".to_string()));
    let s = StorageEngine::open_with_key_manager(&path, &config, &kb).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    assert_eq!(s.get(b"k2").unwrap().unwrap(), b"v2");
    drop(s);
    assert_wrong(&path, &ka);
}

/// `spec` plus `extra` options.
fn spec_with(bao: &Bao, key: &str, extra: &[(&str, &str)]) -> heliosdb_keys::KmsSpec {
    let mut spec = bao.spec(key);
    for (k, v) in extra {
        spec.options.insert(k.to_string(), v.to_string());
    }
    spec
}

async fn round_trip(src: &VaultTransitSource) {
    let header = src.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
}

/// AppRole with a short-lived token (TTL 2 s, max TTL 4 s): the source
/// renews it (renew-self) while it may and logs in again once the max TTL
/// ends renewals, and every unwrap in between succeeds. Polls the audit log
/// until both happened; no timing is asserted.
#[tokio::test(flavor = "multi_thread")]
async fn approle_token_is_renewed_then_replaced_by_a_new_login() {
    let bao = Bao::start();
    bao.create_key("short");
    bao.enable_auth(None, "approle");
    bao.write_policy(None, "heliosdb-app", &common::app_policy(&["short"]));
    let (role_id, secret_id) = bao.approle(
        None,
        "heliosdb",
        serde_json::json!({
            "token_policies": ["heliosdb-app"],
            "token_ttl": "2s",
            "token_max_ttl": "4s",
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let sid = dir.path().join("secret_id");
    std::fs::write(&sid, &secret_id).unwrap();
    let src = VaultTransitSource::new(&spec_with(
        &bao,
        "short",
        &[
            ("auth", "approle"),
            ("role_id", &role_id),
            ("secret_id_file", sid.to_str().unwrap()),
        ],
    ))
    .unwrap();
    assert!(!format!("{src:?}").contains(&secret_id));
    let header = src.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    assert_eq!(bao.count_requests("auth/approle/login"), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut unwraps = 0;
    while bao.count_requests("auth/approle/login") < 2
        || bao.count_requests("auth/token/renew-self") < 1
    {
        assert!(
            std::time::Instant::now() < deadline,
            "after {unwraps} unwraps: {} logins, {} renewals",
            bao.count_requests("auth/approle/login"),
            bao.count_requests("auth/token/renew-self")
        );
        let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
        assert_eq!(back.expose_secret(), key.expose_secret());
        unwraps += 1;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(!format!("{src:?}").contains(&secret_id), "{src:?}");
}

/// A token revoked on the server (or expired early) is refused with 403:
/// the source sees `lookup-self` refused too, logs in once more and repeats
/// the request. A refusal by policy (reading the key is not granted) does
/// not log in again.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_login_token_is_replaced_once_and_a_policy_refusal_is_not() {
    let bao = Bao::start();
    bao.create_key("revoked");
    bao.enable_auth(None, "approle");
    bao.write_policy(None, "heliosdb-app", &common::app_policy(&["revoked"]));
    let (role_id, secret_id) = bao.approle(
        None,
        "heliosdb",
        serde_json::json!({ "token_policies": ["heliosdb-app"], "token_ttl": "1h" }),
    );
    std::env::set_var("HELIOSDB_TEST_REVOKED_SECRET_ID", &secret_id);
    let src = VaultTransitSource::new(&spec_with(
        &bao,
        "revoked",
        &[
            ("auth", "approle"),
            ("role_id", &role_id),
            ("secret_id_env", "HELIOSDB_TEST_REVOKED_SECRET_ID"),
        ],
    ))
    .unwrap();
    // Reading the key is refused by policy (then the probe encrypt): the
    // token is alive, so no second login.
    let header = src.new_header().await.unwrap();
    assert_eq!(bao.count_requests("auth/approle/login"), 1);
    assert_eq!(bao.count_requests("auth/token/lookup-self"), 1);
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();

    bao.ok_in(
        None,
        "POST",
        "sys/leases/revoke-prefix/auth/approle/login",
        Some("{}"),
    );
    let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
    assert_eq!(bao.count_requests("auth/approle/login"), 2);
    assert_eq!(
        bao.count("decrypt", "revoked"),
        2,
        "refused once, then repeated"
    );
}

/// A wrong secret id: "access denied" naming the auth method and where it
/// is mounted; neither the secret id nor the role id's secret is in the
/// message.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_id_is_access_denied_naming_approle_without_the_secret() {
    let bao = Bao::start();
    bao.create_key("denied");
    bao.enable_auth(None, "approle");
    bao.write_policy(None, "heliosdb-app", &common::app_policy(&["denied"]));
    let (role_id, _) = bao.approle(
        None,
        "heliosdb",
        serde_json::json!({ "token_policies": ["heliosdb-app"] }),
    );
    let wrong = "0b5d2c8e-wrong-secret-id-7d1f";
    let dir = tempfile::tempdir().unwrap();
    let sid = dir.path().join("secret_id");
    std::fs::write(&sid, wrong).unwrap();
    let src = VaultTransitSource::new(&spec_with(
        &bao,
        "denied",
        &[
            ("auth", "approle"),
            ("role_id", &role_id),
            ("secret_id_file", sid.to_str().unwrap()),
        ],
    ))
    .unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(!err.is_retryable(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("AppRole login at auth/approle"), "{msg}");
    assert!(msg.contains("invalid role or secret ID"), "{msg}");
    assert!(!msg.contains(wrong), "{msg}");
    assert_eq!(bao.count("encrypt", "denied"), 0);

    // A missing secret file names the file, not a secret.
    std::fs::remove_file(&sid).unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(
        err.to_string().contains("cannot read the secret_id file"),
        "{err}"
    );
}

/// An AppRole token whose policy may encrypt but not decrypt: the proof
/// unwrap of the new slot still refuses the rotation.
#[test]
fn rotation_to_an_approle_token_without_decrypt_is_refused() {
    let bao = Bao::start();
    bao.create_key("both");
    bao.create_key("enc-only");
    bao.enable_auth(None, "approle");
    bao.write_policy(
        None,
        "heliosdb-encrypt-only",
        "path \"transit/encrypt/enc-only\" { capabilities = [\"update\"] }\n",
    );
    let (role_id, secret_id) = bao.approle(
        None,
        "enc-only",
        serde_json::json!({ "token_policies": ["heliosdb-encrypt-only"] }),
    );
    let dir = tempfile::tempdir().unwrap();
    let sid = dir.path().join("secret_id");
    std::fs::write(&sid, &secret_id).unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    let ka = KeyManager::from_key_source(Arc::new(
        VaultTransitSource::new(&bao.spec("both")).unwrap(),
    ));
    let kb = KeyManager::from_key_source(Arc::new(
        VaultTransitSource::new(&spec_with(
            &bao,
            "enc-only",
            &[
                ("auth", "approle"),
                ("role_id", &role_id),
                ("secret_id_file", sid.to_str().unwrap()),
            ],
        ))
        .unwrap(),
    ));
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    s.put(b"k", b"v").unwrap();
    let err = s.rotate_encryption_key(&kb).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(Error::NewKeyCannotDecrypt { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("access denied") && msg.contains("AppRole"),
        "{msg}"
    );
    assert!(!msg.contains(&secret_id), "{msg}");
    assert_eq!(
        bao.count("decrypt", "enc-only"),
        1,
        "the proof unwrap was tried"
    );
    drop(s);
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
}

fn setup_jwt(bao: &Bao, signer: &common::JwtSigner) {
    bao.enable_auth(None, "jwt");
    bao.ok_in(
        None,
        "POST",
        "auth/jwt/config",
        Some(
            &serde_json::json!({
                "jwt_validation_pubkeys": [signer.public_pem()],
                "bound_issuer": "https://issuer.heliosdb.test",
            })
            .to_string(),
        ),
    );
    bao.write_policy(None, "heliosdb-app", &common::app_policy(&["jwt-key"]));
    bao.ok_in(
        None,
        "POST",
        "auth/jwt/role/heliosdb",
        Some(
            &serde_json::json!({
                "role_type": "jwt",
                "bound_audiences": ["heliosdb-nano"],
                "bound_subject": "ci-job-7",
                "user_claim": "sub",
                "token_policies": ["heliosdb-app"],
                "token_ttl": "1h",
            })
            .to_string(),
        ),
    );
}

fn claims(sub: &str) -> serde_json::Value {
    let now = common::unix_now();
    serde_json::json!({
        "iss": "https://issuer.heliosdb.test",
        "sub": sub,
        "aud": "heliosdb-nano",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    })
}

/// JWT login: the dev server validates a JWT signed here with a key pair
/// made here (`jwt_validation_pubkeys`); a JWT from another key, or for
/// another subject, is "access denied" naming JWT, without the JWT.
#[tokio::test(flavor = "multi_thread")]
async fn jwt_login_with_a_locally_signed_token() {
    let bao = Bao::start();
    bao.create_key("jwt-key");
    let issuer = common::JwtSigner::new();
    setup_jwt(&bao, &issuer);
    let dir = tempfile::tempdir().unwrap();
    let jwt_file = dir.path().join("jwt");
    std::fs::write(&jwt_file, issuer.sign(&claims("ci-job-7"))).unwrap();
    let opts = [
        ("auth", "jwt"),
        ("role", "heliosdb"),
        ("jwt_file", jwt_file.to_str().unwrap()),
    ];
    let src = VaultTransitSource::new(&spec_with(&bao, "jwt-key", &opts)).unwrap();
    round_trip(&src).await;
    assert_eq!(bao.count_requests("auth/jwt/login"), 1);

    for bad in [
        common::JwtSigner::new().sign(&claims("ci-job-7")),
        issuer.sign(&claims("someone-else")),
    ] {
        std::fs::write(&jwt_file, &bad).unwrap();
        // A new source: the first one keeps its (valid) token.
        let src = VaultTransitSource::new(&spec_with(&bao, "jwt-key", &opts)).unwrap();
        let err = src.new_header().await.unwrap_err();
        assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("JWT login at auth/jwt"), "{msg}");
        let signature = bad.rsplit('.').next().unwrap();
        assert!(!msg.contains(signature), "{msg}");
    }
}

/// Kubernetes login against a local TokenReview endpoint (HTTPS, reviewer
/// token checked, tokens reviewed by exact match with those the "cluster"
/// issued): a pod's service-account token logs in; a token the cluster did
/// not issue is refused by the review.
#[tokio::test(flavor = "multi_thread")]
async fn kubernetes_login_through_a_token_review() {
    let bao = Bao::start();
    bao.create_key("k8s-key");
    let cluster = common::token_review::TokenReviewer::start();
    bao.enable_auth(None, "kubernetes");
    bao.ok_in(
        None,
        "POST",
        "auth/kubernetes/config",
        Some(
            &serde_json::json!({
                "kubernetes_host": cluster.url(),
                "kubernetes_ca_cert": cluster.ca_pem(),
                "token_reviewer_jwt": common::token_review::REVIEWER_JWT,
                "disable_local_ca_jwt": true,
            })
            .to_string(),
        ),
    );
    bao.write_policy(None, "heliosdb-app", &common::app_policy(&["k8s-key"]));
    bao.ok_in(
        None,
        "POST",
        "auth/kubernetes/role/heliosdb",
        Some(
            &serde_json::json!({
                "bound_service_account_names": ["heliosdb"],
                "bound_service_account_namespaces": ["prod"],
                "audience": "vault",
                "token_policies": ["heliosdb-app"],
                "token_ttl": "1h",
            })
            .to_string(),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, cluster.issue("prod", "heliosdb", "vault")).unwrap();
    let opts = [
        ("auth", "kubernetes"),
        ("role", "heliosdb"),
        ("jwt_file", token_file.to_str().unwrap()),
    ];
    let src = VaultTransitSource::new(&spec_with(&bao, "k8s-key", &opts)).unwrap();
    round_trip(&src).await;
    assert_eq!(bao.count_requests("auth/kubernetes/login"), 1);
    assert_eq!(cluster.reviews(), 1);

    // Signed like the cluster's tokens but never issued by it.
    let forged = common::JwtSigner::new().sign(&serde_json::json!({
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": "system:serviceaccount:prod:heliosdb",
        "aud": ["vault"],
        "iat": common::unix_now(),
        "nbf": common::unix_now(),
        "exp": common::unix_now() + 600,
        "kubernetes.io": { "namespace": "prod",
                           "serviceaccount": { "name": "heliosdb", "uid": "uid-prod-heliosdb" } },
    }));
    std::fs::write(&token_file, &forged).unwrap();
    let src = VaultTransitSource::new(&spec_with(&bao, "k8s-key", &opts)).unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(
        err.to_string()
            .contains("Kubernetes login at auth/kubernetes"),
        "{err}"
    );
    assert!(
        !err.to_string().contains(forged.rsplit('.').next().unwrap()),
        "{err}"
    );
    assert_eq!(cluster.reviews(), 2, "{err}");
}

/// Agent mode: requests go to `bao proxy` (AppRole auto-auth,
/// `use_auto_auth_token = true`) without a token, although VAULT_TOKEN holds
/// the root token in this test process; the server's audit log shows the
/// proxy's AppRole token on every transit request. Pointed straight at the
/// server, agent mode is refused: it sends no token.
#[tokio::test(flavor = "multi_thread")]
async fn agent_mode_through_bao_proxy_sends_no_token_of_its_own() {
    let bao = Bao::start();
    bao.create_key("agent-key");
    bao.enable_auth(None, "approle");
    bao.write_policy(None, "heliosdb-app", &common::app_policy(&["agent-key"]));
    let (role_id, secret_id) = bao.approle(
        None,
        "proxy",
        serde_json::json!({ "token_policies": ["heliosdb-app"], "token_ttl": "1h" }),
    );
    let proxy = common::Proxy::start(&bao, &role_id, &secret_id);
    assert_eq!(std::env::var("VAULT_TOKEN").unwrap(), common::ROOT_TOKEN);
    let mut spec = spec_with(&bao, "agent-key", &[("auth", "agent")]);
    spec.options.insert("address".into(), proxy.address());
    let src = VaultTransitSource::new(&spec).unwrap();
    round_trip(&src).await;
    let transit: Vec<String> = ["encrypt", "decrypt"]
        .iter()
        .flat_map(|op| bao.audit_requests(&format!("transit/{op}/agent-key")))
        .collect();
    assert!(transit.len() >= 3, "{transit:?}");
    for line in &transit {
        assert!(line.contains("\"display_name\":\"approle\""), "{line}");
        assert!(!line.contains("\"policies\":[\"root\"]"), "{line}");
    }

    let direct =
        VaultTransitSource::new(&spec_with(&bao, "agent-key", &[("auth", "agent")])).unwrap();
    let err = direct.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("use_auto_auth_token"), "{err}");
}

/// Namespaces (OpenBao 2.3+): transit and AppRole inside namespace
/// `team-a`; every request, the login included, carries X-Vault-Namespace,
/// and the slot records the namespace. The same key name outside the
/// namespace does not exist.
#[tokio::test(flavor = "multi_thread")]
async fn approle_and_transit_inside_a_namespace() {
    let bao = Bao::start();
    let ns = Some("team-a");
    bao.create_namespace("team-a");
    bao.ok_in(ns, "POST", "transit/keys/ns-key", Some("{}"));
    bao.enable_auth(ns, "approle");
    bao.write_policy(ns, "heliosdb-app", &common::app_policy(&["ns-key"]));
    let (role_id, secret_id) = bao.approle(
        ns,
        "heliosdb",
        serde_json::json!({ "token_policies": ["heliosdb-app"] }),
    );
    let dir = tempfile::tempdir().unwrap();
    let sid = dir.path().join("secret_id");
    std::fs::write(&sid, &secret_id).unwrap();
    let opts = [
        ("namespace", "team-a"),
        ("auth", "approle"),
        ("role_id", role_id.as_str()),
        ("secret_id_file", sid.to_str().unwrap()),
    ];
    let src = VaultTransitSource::new(&spec_with(&bao, "ns-key", &opts)).unwrap();
    let header = src.new_header().await.unwrap();
    let kms = header.kms.as_ref().unwrap();
    assert_eq!(
        kms.options.get("namespace").map(String::as_str),
        Some("team-a")
    );
    assert_eq!(
        src.describe().locator.as_deref(),
        Some("team-a/transit/ns-key")
    );
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
    for line in bao
        .audit_requests("transit/decrypt/ns-key")
        .iter()
        .chain(&bao.audit_requests("auth/approle/login"))
    {
        assert!(line.contains("\"path\":\"team-a/\""), "{line}");
    }
    // Not in the root namespace.
    let root = VaultTransitSource::new(&bao.spec("ns-key")).unwrap();
    let err = root.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    assert!(!root.matches(&header).await.unwrap());
}

/// Key types: AES-GCM and ChaCha20-Poly1305 keys wrap; an RSA key (which
/// transit lets encrypt, without associated data) is refused at init with
/// the supported types named — read from the key, or, for a token that
/// may not read it, from transit's refusal of the probe.
#[tokio::test(flavor = "multi_thread")]
async fn only_aead_transit_key_types_are_accepted() {
    let bao = Bao::start();
    bao.create_key_of_type("chacha", "chacha20-poly1305");
    bao.create_key_of_type("aes128", "aes128-gcm96");
    bao.create_key_of_type("rsa", "rsa-2048");
    for k in ["chacha", "aes128"] {
        round_trip(&VaultTransitSource::new(&bao.spec(k)).unwrap()).await;
    }
    let err = VaultTransitSource::new(&bao.spec("rsa"))
        .unwrap()
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("transit key type rsa-2048 is not supported"),
        "{msg}"
    );
    assert!(
        msg.contains("aes256-gcm96, aes128-gcm96, chacha20-poly1305"),
        "{msg}"
    );

    let token = bao.token_with_policy("rsa-app", &common::app_policy(&["rsa"]));
    let src = VaultTransitSource::with_token(&bao.spec("rsa"), token.into()).unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    assert!(err.to_string().contains("not an AEAD key"), "{err}");
}

/// Warnings of this test binary (a global subscriber: the KMS runtime logs
/// from its own threads).
fn captured_warnings() -> Arc<std::sync::Mutex<Vec<u8>>> {
    static BUF: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buf
    })
    .clone()
}

struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A slot pinned at version 1; the operator rotates the transit key and
/// retires version 1 (`min_decryption_version = 2`) before the database's
/// slot was re-wrapped: the next read of the key (here by `rotate-key`)
/// warns that the version-1 slot no longer opens. Once the slot is
/// re-wrapped under version 2, a later rotation does not warn again.
#[test]
fn raising_min_decryption_version_past_a_slot_warns() {
    let warnings = captured_warnings();
    let bao = Bao::start();
    bao.create_key("strand");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    let km = KeyManager::from_key_source(Arc::new(
        VaultTransitSource::new(&bao.spec("strand")).unwrap(),
    ));
    drop(StorageEngine::open_with_key_manager(&path, &config, &km).unwrap());
    let s = StorageEngine::open_with_key_manager(&path, &config, &km).unwrap();
    let mentions = || {
        String::from_utf8_lossy(&warnings.lock().unwrap())
            .lines()
            .filter(|l| l.contains("transit/strand") && l.contains("min_decryption_version"))
            .count()
    };
    assert_eq!(mentions(), 0);
    bao.rotate_key("strand");
    bao.set_min_decryption_version("strand", 2);
    s.rotate_encryption_key(&km).unwrap();
    assert_eq!(mentions(), 1);
    let text = String::from_utf8_lossy(&warnings.lock().unwrap()).to_string();
    assert!(text.contains("slot_versions=[1]"), "{text}");
    assert!(text.contains("min_decryption_version=2"), "{text}");
    // Now the slot is at version 2: the next rotation has nothing to warn of.
    bao.rotate_key("strand");
    s.rotate_encryption_key(&km).unwrap();
    assert_eq!(mentions(), 1);
    drop(s);
    let s = StorageEngine::open_with_key_manager(&path, &config, &km).unwrap();
    let (_, ring) = StorageEngine::inspect(&path).unwrap();
    let kms = ring.unwrap().slots[0].header.kms.clone().unwrap();
    assert_eq!(kms.key_version.as_deref(), Some("3"));
    drop(s);
}

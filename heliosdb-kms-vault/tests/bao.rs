//! The Vault transit key source against a real OpenBao dev server on
//! 127.0.0.1 (`bao server -dev`), transit enabled by the test.

mod common;

use std::sync::Arc;

use common::Bao;
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, Error as CoreError, StorageEngine};
use heliosdb_keys::{conformance, Error, KeyManager, KeySource, KmsErrorKind, SecretKey};
use heliosdb_kms_vault::{blob_key_version, VaultTransitSource};

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

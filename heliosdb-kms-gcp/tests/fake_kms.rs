//! The Cloud KMS key source, driven through the real `google-cloud-kms-v1`
//! client (endpoint override, anonymous credentials) against the faithful
//! local Cloud KMS server in `common`.

mod common;

use std::sync::Arc;

use common::{FakeKms, Fault};
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, Error as CoreError, StorageEngine};
use heliosdb_keys::{conformance, Error, KeyManager, KeySource, KmsErrorKind, KmsSpec, SecretKey};
use heliosdb_kms_gcp::GcpKmsSource;

fn spec(key: &str, endpoint: &str) -> KmsSpec {
    KmsSpec::new(
        "gcp",
        key,
        [
            ("endpoint".to_string(), endpoint.to_string()),
            // The local server speaks plaintext HTTP.
            ("insecure_endpoint".to_string(), "true".to_string()),
            ("credentials".to_string(), "anonymous".to_string()),
            ("max_attempts".to_string(), "2".to_string()),
            ("timeout_secs".to_string(), "5".to_string()),
        ]
        .into(),
    )
}

fn source(key: &str, kms: &FakeKms) -> GcpKmsSource {
    GcpKmsSource::new(&spec(key, &kms.endpoint())).unwrap()
}

fn kind_of(err: &Error) -> Option<KmsErrorKind> {
    match err {
        Error::Kms { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn config_for(dir: &std::path::Path, key: &str, endpoint: &str) -> Config {
    let toml = format!(
        "[encryption]\nenabled = true\n\
         key_source = {{ Kms = {{ provider = \"gcp\", key_id = \"{key}\" }} }}\n\n\
         [encryption.kms]\nendpoint = \"{endpoint}\"\ninsecure_endpoint = \"true\"\n\
         credentials = \"anonymous\"\n\
         max_attempts = \"2\"\ntimeout_secs = \"5\"\n"
    );
    let file = dir.join("heliosdb.toml");
    std::fs::write(&file, toml).unwrap();
    Config::from_file(&file).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_passes_against_the_local_cloud_kms() {
    let kms = FakeKms::start();
    let a = kms.create_key("ring", "a");
    let b = kms.create_key("ring", "b");
    conformance::run(&source(&a, &kms), &source(&b, &kms), &[]).await;
    // Nothing listens on port 9: two attempts of at most 5 s, then unavailable.
    let gone = GcpKmsSource::new(&spec(&a, "http://127.0.0.1:9")).unwrap();
    conformance::run_unreachable(&gone, std::time::Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_are_pinned_and_recorded_with_crc32c_checked_calls() {
    let kms = FakeKms::start();
    let name = kms.create_key("ring", "versions");
    let src = source(&name, &kms);
    let h1 = src.new_header().await.unwrap();
    let k1 = h1.kms.as_ref().unwrap();
    assert_eq!(k1.key_id, name);
    assert_eq!(
        k1.key_version.as_deref(),
        Some(format!("{name}/cryptoKeyVersions/1").as_str())
    );
    // Identity only: where tokens go (the endpoint) and the credential
    // choice are the caller's, never recorded.
    assert!(k1.options.is_empty(), "{:?}", k1.options);
    let key = SecretKey::generate().unwrap();
    let blob1 = src.wrap(&h1, &key, b"aad").await.unwrap();

    kms.rotate(&name);
    let h2 = src.new_header().await.unwrap();
    assert_eq!(
        h2.kms.as_ref().unwrap().key_version.as_deref(),
        Some(format!("{name}/cryptoKeyVersions/2").as_str())
    );
    let blob2 = src.wrap(&h2, &key, b"aad").await.unwrap();
    // Both open: decrypt is on the CryptoKey, the ciphertext names its version.
    for b in [&blob1, &blob2] {
        let back = src.unwrap(&h1, b, b"aad").await.unwrap();
        assert_eq!(back.expose_secret(), key.expose_secret());
    }
    // The old header still wraps under version 1 even though 2 is primary:
    // disable version 1 and that wrap is refused, classified.
    kms.disable_version(&name, 1);
    // A disabled version is "key unusable" (enable it), not "wrong key".
    let err = src.wrap(&h1, &key, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    assert!(err.to_string().contains("FAILED_PRECONDITION"), "{err}");
    assert!(err.to_string().contains("enable the key"), "{err}");
    assert!(!err.is_retryable(), "{err}");
    let err = src.unwrap(&h1, &blob1, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    assert!(!err.to_string().contains("wrong key"), "{err}");
    assert!(src.unwrap(&h2, &blob2, b"aad").await.is_ok());
}

#[test]
fn engine_round_trip_makes_one_decrypt_at_open_and_survives_an_outage() {
    let kms = FakeKms::start();
    let name = kms.create_key("ring", "engine");
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &name, &kms.endpoint());
    let path = dir.path().join("db");
    let storage = StorageEngine::open(&path, &config).unwrap();
    for i in 0..100 {
        storage
            .put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes())
            .unwrap();
    }
    drop(storage);
    assert_eq!(kms.count("Encrypt"), 1);
    // The new slot is unwrapped once before it is kept.
    assert_eq!(kms.count("Decrypt"), 1, "the new slot is proven at create");

    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(kms.count("Decrypt"), 2, "one unwrap at open");
    for i in 0..100 {
        assert_eq!(
            storage.get(format!("k{i}").as_bytes()).unwrap().unwrap(),
            format!("v{i}").as_bytes()
        );
    }
    for i in 100..300 {
        storage.put(format!("k{i}").as_bytes(), b"more").unwrap();
    }
    assert_eq!(kms.count("Decrypt"), 2, "no KMS call per record");

    kms.set_down(true);
    storage.put(b"during-outage", b"ok").unwrap();
    assert_eq!(storage.get(b"k7").unwrap().unwrap(), b"v7");
    drop(storage);
    let err = StorageEngine::open(&path, &config).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, CoreError::Keys(e) if kind_of(e) == Some(KmsErrorKind::Unavailable)),
        "{msg}"
    );
    assert!(msg.starts_with("gcp KMS unavailable:"), "{msg}");
    kms.set_down(false);
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(storage.get(b"during-outage").unwrap().unwrap(), b"ok");

    // Nothing listening at all: unavailable too, and a failed init leaves nothing.
    drop(storage);
    drop(kms);
    let fresh = dir.path().join("fresh");
    let err = StorageEngine::open(&fresh, &config).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(e) if kind_of(e) == Some(KmsErrorKind::Unavailable)),
        "{err}"
    );
    assert!(!fresh.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_denied_and_missing_keys_are_classified() {
    let kms = FakeKms::start();
    let right = kms.create_key("ring", "right");
    let wrong = kms.create_key("ring", "wrong");
    let (r, w) = (source(&right, &kms), source(&wrong, &kms));
    let header = r.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = r.wrap(&header, &key, b"aad").await.unwrap();

    let err = w.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("INVALID_ARGUMENT"), "{err}");
    let err = r.unwrap(&header, &blob, b"other aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");

    let missing = format!("{}/keyRings/ring/cryptoKeys/absent", common::PROJECT_PARENT);
    let err = source(&missing, &kms).new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    assert!(err.to_string().contains("cryptoKeys/absent"), "{err}");

    kms.deny(&right);
    let err = r.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("PERMISSION_DENIED"), "{err}");
}

#[test]
fn kek_rotation_env_to_gcp_to_other_key_to_file_and_canary_scan() {
    use std::os::unix::fs::PermissionsExt;
    let kms = FakeKms::start();
    let a = kms.create_key("ring", "rot-a");
    let b = kms.create_key("ring", "rot-b");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    std::env::set_var(
        "HELIOSDB_GCP_ROTATION_KEY",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    );
    let env = KeyManager::from_source(&KeySourceConfig::Environment(
        "HELIOSDB_GCP_ROTATION_KEY".into(),
    ))
    .unwrap();
    let gcp = |k: &str| KeyManager::from_key_source(Arc::new(source(k, &kms)));
    let (ka, kb) = (gcp(&a), gcp(&b));
    let key_file = dir.path().join("exit.key");
    std::fs::write(&key_file, "5a".repeat(32)).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o400)).unwrap();
    let file = KeyManager::from_source(&KeySourceConfig::File(key_file)).unwrap();
    let wrong = |km: &KeyManager| {
        let err = StorageEngine::open_with_key_manager(&path, &config, km).unwrap_err();
        assert!(
            matches!(err, CoreError::Keys(Error::WrongKey { .. })),
            "{err}"
        );
    };
    const CANARY: &str = "canary gcp value quokka";
    let s = StorageEngine::open_with_key_manager(&path, &config, &env).unwrap();
    for i in 0..300 {
        s.put(format!("canary-gcp-key-{i}").as_bytes(), CANARY.as_bytes())
            .unwrap();
    }
    s.rotate_encryption_key(&ka).unwrap();
    drop(s);
    wrong(&env);
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    s.rotate_encryption_key(&kb).unwrap();
    s.flush().unwrap();
    drop(s);
    wrong(&ka);
    // Canary scan of the KMS-backed database: no plaintext in any file.
    let mut hits = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&path).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            files += 1;
            let bytes = std::fs::read(&p).unwrap();
            for needle in [CANARY, "canary-gcp-key", "quokka"] {
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(format!("{needle} in {}", p.display()));
                }
            }
        }
    }
    assert!(files > 3 && hits.is_empty(), "{files} files, hits {hits:?}");
    let s = StorageEngine::open_with_key_manager(&path, &config, &kb).unwrap();
    assert_eq!(
        s.get(b"canary-gcp-key-7").unwrap().unwrap(),
        CANARY.as_bytes()
    );
    s.rotate_encryption_key(&file).unwrap();
    drop(s);
    drop(kms);
    let s = StorageEngine::open_with_key_manager(&path, &config, &file).unwrap();
    assert_eq!(
        s.get(b"canary-gcp-key-7").unwrap().unwrap(),
        CANARY.as_bytes()
    );
}

#[test]
fn rotation_to_an_encrypt_only_key_is_refused_and_the_old_key_still_opens() {
    let kms = FakeKms::start();
    let a = kms.create_key("ring", "enc-dec");
    let b = kms.create_key("ring", "enc-only");
    // The identity holds roles/cloudkms.cryptoKeyEncrypter on B: Encrypt
    // works, Decrypt is PERMISSION_DENIED.
    kms.deny_decrypt(&b);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    let gcp = |k: &str| KeyManager::from_key_source(Arc::new(source(k, &kms)));
    let (ka, kb) = (gcp(&a), gcp(&b));
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    s.put(b"k", b"v").unwrap();
    let encrypts = kms.count("Encrypt");

    let err = s.rotate_encryption_key(&kb).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(Error::NewKeyCannotDecrypt { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("cannot decrypt"), "{msg}");
    assert!(msg.contains("PERMISSION_DENIED"), "{msg}");
    assert!(msg.contains("grant decrypt"), "{msg}");
    assert!(
        msg.contains("roles/cloudkms.cryptoKeyEncrypterDecrypter"),
        "{msg}"
    );
    assert!(msg.contains(&b), "{msg}");
    assert_eq!(kms.count("Encrypt"), encrypts + 1, "B did wrap");
    // add-key is refused the same way.
    let err = s.add_encryption_key(&kb).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(Error::NewKeyCannotDecrypt { .. })),
        "{err:?}"
    );
    // Still usable, still one slot (A's).
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    assert_eq!(s.encryption_status().unwrap().kek_slots.len(), 1);
    drop(s);

    // The database still opens with A, and B does not open it.
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    drop(s);
    let err = StorageEngine::open_with_key_manager(&path, &config, &kb).unwrap_err();
    assert!(
        matches!(err, CoreError::Keys(Error::WrongKey { .. })),
        "{err}"
    );
    // A new database under B is refused before anything is written.
    let fresh = dir.path().join("fresh");
    let err = StorageEngine::open_with_key_manager(&fresh, &config, &kb).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(Error::NewKeyCannotDecrypt { .. })),
        "{err:?}"
    );
    assert!(!fresh.exists());
}

/// The finding: Encrypt/Decrypt are POSTs, which the Google client would not
/// retry, so `max_attempts` had no effect. Now 503s, 429s and corrupted
/// checksums are retried up to `max_attempts` (here 3) and counted at the
/// server; one more fault than that is an `unavailable` error.
#[tokio::test(flavor = "multi_thread")]
async fn encrypt_and_decrypt_are_retried_on_503_429_and_bad_checksums() {
    let kms = FakeKms::start();
    let name = kms.create_key("ring", "retries");
    let mut spec = spec(&name, &kms.endpoint());
    spec.options.insert("max_attempts".into(), "3".into());
    let src = GcpKmsSource::new(&spec).unwrap();
    let header = src.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();

    let before = kms.count("Encrypt");
    kms.inject(&[Fault::Unavailable, Fault::TooManyRequests]);
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    assert_eq!(kms.count("Encrypt") - before, 3, "two faults, then success");

    let before = kms.count("Decrypt");
    kms.inject(&[Fault::TooManyRequests, Fault::BadChecksum]);
    let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
    assert_eq!(kms.count("Decrypt") - before, 3);

    let before = kms.count("Encrypt");
    kms.inject(&[Fault::BadChecksum, Fault::Unavailable]);
    src.wrap(&header, &key, b"aad").await.unwrap();
    assert_eq!(kms.count("Encrypt") - before, 3);

    // More faults than attempts: a classified error after exactly 3 tries.
    let before = kms.count("Decrypt");
    kms.inject(&[Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
    let err = src.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::Unavailable), "{err}");
    assert_eq!(kms.count("Decrypt") - before, 3);
    let before = kms.count("Decrypt");
    kms.inject(&[Fault::BadChecksum, Fault::BadChecksum, Fault::BadChecksum]);
    let err = src.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::Unavailable), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
    assert_eq!(kms.count("Decrypt") - before, 3);
}

/// Least privilege: an identity holding only
/// `roles/cloudkms.cryptoKeyEncrypterDecrypter` on its keys (no
/// `cloudkms.cryptoKeys.get`) creates a database, reopens it, rotates the
/// KEK onto a new primary version of the same key and then onto another
/// key. Every GetCryptoKey is refused with Google's 403; each new slot pins
/// the version the probe Encrypt's response named.
#[test]
fn init_reopen_and_rotation_work_with_the_encrypter_decrypter_role_alone() {
    let kms = FakeKms::start();
    let a = kms.create_key("ring", "least-a");
    let b = kms.create_key("ring", "least-b");
    kms.grant_only(&a, common::ROLE_ENCRYPTER_DECRYPTER);
    kms.grant_only(&b, common::ROLE_ENCRYPTER_DECRYPTER);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = config_for(dir.path(), &a, &kms.endpoint());
    let version_of = |slot: usize| {
        let (_, ring) = StorageEngine::inspect(&path).unwrap();
        let ring = ring.unwrap();
        let kms_ref = ring.slots[slot].header.kms.clone().unwrap();
        (kms_ref.key_id, kms_ref.key_version.unwrap())
    };

    let s = StorageEngine::open(&path, &config).unwrap();
    s.put(b"k", b"v").unwrap();
    drop(s);
    assert_eq!(kms.count("GetCryptoKey"), 1, "asked once, refused");
    // One probe Encrypt (to learn the primary), one wrap, one proof Decrypt.
    assert_eq!(kms.count("Encrypt"), 2);
    assert_eq!(kms.count("Decrypt"), 1);
    assert_eq!(
        version_of(0),
        (a.clone(), format!("{a}/cryptoKeyVersions/1"))
    );

    let s = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    assert_eq!(kms.count("Decrypt"), 2, "reopening needs Decrypt only");
    assert_eq!(kms.count("GetCryptoKey"), 1);

    // Cloud KMS rotates A; the KEK rotation onto A pins the new primary.
    kms.rotate(&a);
    let ka = KeyManager::from_key_source(Arc::new(source(&a, &kms)));
    s.rotate_encryption_key(&ka).unwrap();
    drop(s);
    assert_eq!(
        version_of(0),
        (a.clone(), format!("{a}/cryptoKeyVersions/2"))
    );
    // Version 1 may go: the database no longer needs it.
    kms.disable_version(&a, 1);
    let s = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");

    // And onto another key the identity holds the same role on.
    let kb = KeyManager::from_key_source(Arc::new(source(&b, &kms)));
    s.rotate_encryption_key(&kb).unwrap();
    s.put(b"k2", b"v2").unwrap();
    drop(s);
    assert_eq!(
        version_of(0),
        (b.clone(), format!("{b}/cryptoKeyVersions/1"))
    );
    let s = StorageEngine::open_with_key_manager(&path, &Config::default(), &kb).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    assert_eq!(s.get(b"k2").unwrap().unwrap(), b"v2");
    drop(s);
    assert_eq!(
        kms.count("GetCryptoKey"),
        3,
        "every GetCryptoKey was refused"
    );
}

/// The fake enforces the role sets with Google's error body, and the
/// client classifies what each role lacks: Encrypter only may not decrypt,
/// Encrypter/Decrypter may not read the key, no role at all may not encrypt.
#[tokio::test(flavor = "multi_thread")]
async fn role_sets_are_enforced_with_googles_permission_denied() {
    let kms = FakeKms::start();
    let name = kms.create_key("ring", "roles");
    let src = source(&name, &kms);
    let key = SecretKey::generate().unwrap();

    kms.grant_only(&name, common::ROLE_ENCRYPTER);
    let header = src.new_header().await.unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    let err = src.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("PERMISSION_DENIED"), "{msg}");
    assert!(msg.contains(common::USE_TO_DECRYPT), "{msg}");

    kms.grant_only(&name, common::ROLE_ENCRYPTER_DECRYPTER);
    assert_eq!(
        src.unwrap(&header, &blob, b"aad")
            .await
            .unwrap()
            .expose_secret(),
        key.expose_secret()
    );

    kms.grant_only(&name, &[]);
    // GetCryptoKey is refused, then so is the probe Encrypt: the error is
    // the Encrypt's, naming the permission that is missing.
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains(common::USE_TO_ENCRYPT), "{err}");
}

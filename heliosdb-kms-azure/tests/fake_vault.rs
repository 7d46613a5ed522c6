//! The Azure Key Vault key source, driven through the real
//! `azure_security_keyvault_keys` client (its challenge-based bearer
//! authentication, its retry policy, a reqwest transport trusting the test
//! CA) against the faithful local Key Vault server in `common`.
//!
//! The server answers the challenge with the real service's resource,
//! `https://vault.azure.net`, while the vault is reached as `127.0.0.1`: the
//! SDK's check that the challenge resource is the vault's own domain would
//! refuse that, so these tests set `verify_challenge_resource = "false"`
//! (the SDK's own switch for this case), and one test shows the default
//! refusing it.

mod common;

use common::kind_of;

use std::sync::Arc;

use common::{FakeVault, StaticToken, TOKEN};
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, Error as CoreError, StorageEngine};
use heliosdb_keys::{conformance, Error, KeyManager, KeySource, KmsErrorKind, KmsSpec, SecretKey};
use heliosdb_kms_azure::{AzureKeyVaultExt, AzureKeyVaultSource, BLOB_FORMAT_V1};

fn spec(key: &str, vault: &FakeVault) -> KmsSpec {
    common::vault_spec(key, vault, 2, &[])
}

/// A source for key `name`, authenticating with the static test token.
fn source(name: &str, vault: &FakeVault) -> AzureKeyVaultSource {
    AzureKeyVaultSource::with_credential(
        &spec(name, vault),
        Arc::new(StaticToken(TOKEN.to_string())),
    )
    .unwrap()
}

const TOKEN_VAR: &str = "HELIOSDB_AZURE_TEST_TOKEN";

/// A config file naming the key by name, with the vault URL, test CA and
/// token variable as `[encryption.kms]` options.
fn config_for(dir: &std::path::Path, name: &str, vault: &FakeVault) -> Config {
    std::env::set_var(TOKEN_VAR, TOKEN);
    let toml = format!(
        "[encryption]\nenabled = true\n\
         key_source = {{ Kms = {{ provider = \"azure\", key_id = \"{name}\" }} }}\n\n\
         [encryption.kms]\nvault_url = \"{}\"\nca_file = \"{}\"\n\
         access_token_env = \"{TOKEN_VAR}\"\nverify_challenge_resource = \"false\"\n\
         max_attempts = \"2\"\ntimeout_secs = \"5\"\n",
        vault.url(),
        vault.ca_file().display()
    );
    let file = dir.join("heliosdb.toml");
    std::fs::write(&file, toml).unwrap();
    Config::from_file(&file).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_passes_against_the_local_key_vault() {
    let vault = FakeVault::start();
    vault.create_key("a");
    vault.create_key("b");
    conformance::run(
        &source("a", &vault),
        &source("b", &vault),
        &[TOKEN.as_bytes()],
    )
    .await;
    // Nothing listens on port 9: two attempts of at most 5 s, then unavailable.
    let mut gone = spec("a", &vault);
    gone.options
        .insert("vault_url".into(), "https://127.0.0.1:9".into());
    let gone =
        AzureKeyVaultSource::with_credential(&gone, Arc::new(StaticToken(TOKEN.to_string())))
            .unwrap();
    conformance::run_unreachable(&gone, std::time::Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_answers_the_challenge_and_sends_the_token() {
    let vault = FakeVault::start();
    let url = vault.create_key("challenge");
    let src = source("challenge", &vault);
    let header = src.new_header().await.unwrap();
    // First request: challenged (no token), then repeated with the token.
    assert_eq!(vault.count("challenge"), 1);
    assert_eq!(vault.count("get"), 1);
    let k = header.kms.as_ref().unwrap();
    assert_eq!(k.provider, "azure");
    assert_eq!(k.key_id, url);
    // The key URL is the identity; the CA file and the challenge switch
    // are the caller's trust settings, never recorded.
    assert!(k.options.is_empty(), "{:?}", k.options);
    // The credential's token is cached for the client's lifetime.
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    assert_eq!(blob[0], BLOB_FORMAT_V1);
    assert_eq!(blob.len(), 1 + 256, "RSA-2048 ciphertext");
    assert_eq!(vault.count("challenge"), 1);

    // A wrong token: the service challenges again and the SDK gives up.
    let bad = AzureKeyVaultSource::with_credential(
        &spec("challenge", &vault),
        Arc::new(StaticToken("not-the-token".into())),
    )
    .unwrap();
    let err = bad.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("Unauthorized") && msg.contains("challenge"),
        "{msg}"
    );
    assert!(!msg.contains("not-the-token") && !format!("{bad:?}").contains("not-the-token"));

    // With the SDK's default, a challenge resource outside the vault's
    // domain is refused before any token is sent.
    let mut strict = spec("challenge", &vault);
    strict.options.remove("verify_challenge_resource");
    let strict =
        AzureKeyVaultSource::with_credential(&strict, Arc::new(StaticToken(TOKEN.into()))).unwrap();
    let err = strict.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(
        err.to_string().contains("verify_challenge_resource"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_are_pinned_at_new_header_and_used_by_unwrap() {
    let vault = FakeVault::start();
    vault.create_key("versions");
    let src = source("versions", &vault);
    let v1 = vault.versions("versions")[0].clone();
    let h1 = src.new_header().await.unwrap();
    assert_eq!(
        h1.kms.as_ref().unwrap().key_version.as_deref(),
        Some(v1.as_str())
    );
    let key = SecretKey::generate().unwrap();
    let blob1 = src.wrap(&h1, &key, b"aad").await.unwrap();

    let v2 = vault.rotate("versions");
    let h2 = src.new_header().await.unwrap();
    assert_eq!(
        h2.kms.as_ref().unwrap().key_version.as_deref(),
        Some(v2.as_str())
    );
    let blob2 = src.wrap(&h2, &key, b"aad").await.unwrap();
    // Each blob opens under the version its header recorded, even though
    // version 2 is current now.
    assert_eq!(
        src.unwrap(&h1, &blob1, b"aad")
            .await
            .unwrap()
            .expose_secret(),
        key.expose_secret()
    );
    assert_eq!(
        src.unwrap(&h2, &blob2, b"aad")
            .await
            .unwrap()
            .expose_secret(),
        key.expose_secret()
    );
    // ... and only under it: RSA-OAEP under another version does not decrypt.
    let err = src.unwrap(&h2, &blob1, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("BadParameter"), "{err}");

    // A key id naming a version pins that one for new slots.
    let pinned = source(&format!("{}/keys/versions/{v1}", vault.url()), &vault);
    let h = pinned.new_header().await.unwrap();
    assert_eq!(
        h.kms.as_ref().unwrap().key_version.as_deref(),
        Some(v1.as_str())
    );
    assert!(pinned.matches(&h2).await.unwrap(), "same key, any version");

    // A disabled pinned version is refused as "key unusable" (enable it):
    // Key Vault's 403 for a disabled key is not a permission problem, and
    // not a wrong key.
    vault.disable_version("versions", 1);
    let err = src.unwrap(&h1, &blob1, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    assert!(!err.is_retryable(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("disabled") && msg.contains("enable the key"),
        "{msg}"
    );
    assert!(
        !msg.contains("wrong key") && !msg.contains("access denied"),
        "{msg}"
    );
    let err = src.wrap(&h1, &key, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    // A new slot on the disabled pinned version is refused the same way.
    let err = pinned.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
    assert!(err.to_string().contains("is disabled"), "{err}");
    assert!(src.unwrap(&h2, &blob2, b"aad").await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_denied_and_missing_keys_are_classified() {
    let vault = FakeVault::start();
    vault.create_key("right");
    vault.create_key("wrong");
    let (r, w) = (source("right", &vault), source("wrong", &vault));
    let header = r.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = r.wrap(&header, &key, b"aad").await.unwrap();

    // Another key does not claim the slot, and refuses it without a request.
    assert!(!w.matches(&header).await.unwrap());
    let before = vault.count("unwrapkey");
    let err = w.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert_eq!(vault.count("unwrapkey"), before);
    // A blob made by another key under this key's slot: Key Vault cannot
    // decrypt it (400 BadParameter) -> wrong key.
    let w_header = w.new_header().await.unwrap();
    let err = w.unwrap(&w_header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("azure KMS wrong key:"), "{msg}");
    assert!(
        msg.contains("BadParameter") && msg.contains("UnwrapKey of key 'wrong' in vault"),
        "{msg}"
    );
    // A different AAD: Key Vault decrypts, our digest check refuses.
    let err = r.unwrap(&header, &blob, b"other aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("different AAD"), "{err}");

    // Keys that cannot wrap are refused when the slot is made.
    vault.create_key("signing");
    vault.describe_as("signing", "RSA", &["sign", "verify"]);
    let err = source("signing", &vault).new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("does not permit wrapKey"), "{err}");
    vault.create_key("ec");
    vault.describe_as("ec", "EC", &["sign", "verify"]);
    let err = source("ec", &vault).new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("not RSA"), "{err}");

    let err = source("absent", &vault).new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("KeyNotFound") && msg.contains("absent"),
        "{msg}"
    );

    vault.deny("right");
    let err = r.unwrap(&header, &blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("Forbidden"), "{err}");
    let err = r.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    // Nothing printed carries the token.
    for s in [err.to_string(), format!("{err:?}"), format!("{r:?}")] {
        assert!(!s.contains(TOKEN), "{s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_errors_and_timeouts_are_retried_a_bounded_number_of_times() {
    let vault = FakeVault::start();
    vault.create_key("busy");
    let mut s = spec("busy", &vault);
    s.options.insert("max_attempts".into(), "3".into());
    s.options.insert("timeout_secs".into(), "1".into());
    let src =
        AzureKeyVaultSource::with_credential(&s, Arc::new(StaticToken(TOKEN.into()))).unwrap();
    for status in [429, 500, 503] {
        vault.fail_with(status);
        let before = vault.count("requests");
        let err = src.new_header().await.unwrap_err();
        assert_eq!(kind_of(&err), Some(KmsErrorKind::Unavailable), "{err}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains(&format!("HTTP {status}")), "{err}");
        assert_eq!(
            vault.count("requests") - before,
            3,
            "{status}: max_attempts = 3"
        );
    }
    vault.fail_with(0);
    vault.set_stall(true);
    let before = vault.count("requests");
    let started = std::time::Instant::now();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::Unavailable), "{err}");
    assert_eq!(
        vault.count("requests") - before,
        3,
        "each attempt timed out"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    vault.set_stall(false);
    assert!(src.new_header().await.is_ok());
}

#[test]
fn engine_round_trip_makes_one_unwrap_at_open_and_survives_an_outage() {
    let mut vault = FakeVault::start();
    vault.create_key("engine");
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), "engine", &vault);
    let path = dir.path().join("db");
    let storage = StorageEngine::open(&path, &config).unwrap();
    for i in 0..100 {
        storage
            .put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes())
            .unwrap();
    }
    drop(storage);
    assert_eq!(
        vault.count("get"),
        1,
        "one get key at init (version pinned)"
    );
    assert_eq!(vault.count("wrapkey"), 1);
    // The new slot is unwrapped once before it is kept.
    assert_eq!(
        vault.count("unwrapkey"),
        1,
        "the new slot is proven at init"
    );

    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(vault.count("unwrapkey"), 2, "one unwrapKey at open");
    for i in 0..100 {
        assert_eq!(
            storage.get(format!("k{i}").as_bytes()).unwrap().unwrap(),
            format!("v{i}").as_bytes()
        );
    }
    for i in 100..300 {
        storage.put(format!("k{i}").as_bytes(), b"more").unwrap();
    }
    assert_eq!(vault.count("unwrapkey"), 2, "no Key Vault call per record");
    assert_eq!(vault.count("get"), 1);

    // Outage after open: reads and writes go on.
    vault.set_down(true);
    storage.put(b"during-outage", b"ok").unwrap();
    assert_eq!(storage.get(b"k7").unwrap().unwrap(), b"v7");
    drop(storage);
    // Outage at open: unavailable, clearly.
    let err = StorageEngine::open(&path, &config).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, CoreError::Keys(e) if kind_of(e) == Some(KmsErrorKind::Unavailable)),
        "{msg}"
    );
    assert!(msg.starts_with("azure KMS unavailable:"), "{msg}");
    assert!(
        msg.contains("503") && msg.contains("engine") && msg.contains(&vault.url()),
        "{msg}"
    );
    vault.set_down(false);
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(storage.get(b"during-outage").unwrap().unwrap(), b"ok");

    // Server stopped after open: the open database keeps working.
    vault.stop();
    storage.put(b"after-stop", b"ok").unwrap();
    assert_eq!(storage.get(b"k250").unwrap().unwrap(), b"more");
    assert_eq!(storage.get(b"after-stop").unwrap().unwrap(), b"ok");
    drop(storage);

    // Nothing listening at open: unavailable.
    let err = StorageEngine::open(&path, &config).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(e) if kind_of(e) == Some(KmsErrorKind::Unavailable)),
        "{err}"
    );
    assert!(
        err.to_string().contains("UnwrapKey of key 'engine'"),
        "{err}"
    );
}

#[test]
fn a_failed_first_contact_at_init_leaves_no_database_behind() {
    let mut vault = FakeVault::start();
    vault.create_key("present");
    let dir = tempfile::tempdir().unwrap();
    // Missing key, denied key, service down, nothing listening.
    type Setup = Box<dyn Fn(&FakeVault)>;
    let cases: [(&str, Setup, KmsErrorKind); 3] = [
        ("absent", Box::new(|_| {}), KmsErrorKind::NotFound),
        (
            "present",
            Box::new(|v| v.deny("present")),
            KmsErrorKind::AccessDenied,
        ),
        (
            "present",
            Box::new(|v| v.set_down(true)),
            KmsErrorKind::Unavailable,
        ),
    ];
    for (i, (name, setup, want)) in cases.iter().enumerate() {
        setup(&vault);
        let config = config_for(dir.path(), name, &vault);
        let fresh = dir.path().join(format!("fresh{i}"));
        let err = StorageEngine::open(&fresh, &config).unwrap_err();
        assert!(
            matches!(&err, CoreError::Keys(e) if kind_of(e) == Some(*want)),
            "{want:?}: {err}"
        );
        assert!(!fresh.exists(), "{} left behind", fresh.display());
    }
    let config = config_for(dir.path(), "present", &vault);
    vault.stop();
    let fresh = dir.path().join("fresh-stopped");
    let err = StorageEngine::open(&fresh, &config).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(e) if kind_of(e) == Some(KmsErrorKind::Unavailable)),
        "{err}"
    );
    assert!(!fresh.exists());
}

#[test]
fn kek_rotation_env_to_azure_to_other_key_to_file_and_canary_scan() {
    use std::os::unix::fs::PermissionsExt;
    let vault = FakeVault::start();
    vault.create_key("rot-a");
    vault.create_key("rot-b");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    std::env::set_var(
        "HELIOSDB_AZURE_ROTATION_KEY",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    );
    let env = KeyManager::from_source(&KeySourceConfig::Environment(
        "HELIOSDB_AZURE_ROTATION_KEY".into(),
    ))
    .unwrap();
    let azure = |k: &str| KeyManager::from_key_source(Arc::new(source(k, &vault)));
    let (ka, kb) = (azure("rot-a"), azure("rot-b"));
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
    const CANARY: &str = "canary azure value wombat";
    let s = StorageEngine::open_with_key_manager(&path, &config, &env).unwrap();
    for i in 0..300 {
        s.put(
            format!("canary-azure-key-{i}").as_bytes(),
            CANARY.as_bytes(),
        )
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
    // Canary scan of the Key Vault-backed database: no plaintext in any file.
    let mut hits = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&path).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            files += 1;
            let bytes = std::fs::read(&p).unwrap();
            for needle in [CANARY, "canary-azure-key", "wombat"] {
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(format!("{needle} in {}", p.display()));
                }
            }
        }
    }
    assert!(files > 3 && hits.is_empty(), "{files} files, hits {hits:?}");
    let s = StorageEngine::open_with_key_manager(&path, &config, &kb).unwrap();
    assert_eq!(
        s.get(b"canary-azure-key-7").unwrap().unwrap(),
        CANARY.as_bytes()
    );
    s.rotate_encryption_key(&file).unwrap();
    drop(s);
    drop(vault);
    let s = StorageEngine::open_with_key_manager(&path, &config, &file).unwrap();
    assert_eq!(
        s.get(b"canary-azure-key-7").unwrap().unwrap(),
        CANARY.as_bytes()
    );
}

#[test]
fn after_key_rotation_in_the_vault_the_database_opens_and_new_slots_pin_the_new_version() {
    let vault = FakeVault::start();
    vault.create_key("pin");
    let v1 = vault.versions("pin")[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), "pin", &vault);
    let path = dir.path().join("db");
    let s = StorageEngine::open(&path, &config).unwrap();
    s.put(b"k", b"v").unwrap();
    drop(s);

    let v2 = vault.rotate("pin");
    let s = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    // A KEK rotation onto the same Key Vault key makes a slot that records
    // the now-current version.
    let km = KeyManager::from_key_source(Arc::new(source("pin", &vault)));
    s.rotate_encryption_key(&km).unwrap();
    drop(s);
    let keyring_text = std::fs::read_dir(&path)
        .unwrap()
        .filter_map(|e| std::fs::read(e.unwrap().path()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect::<String>();
    assert!(keyring_text.contains(&v2), "new slot records version {v2}");
    // Disable the old version: the database now opens only through the new slot.
    vault.disable_version("pin", 1);
    let s = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    assert_ne!(v1, v2);
}

#[test]
fn rotation_to_a_key_without_unwrap_permission_is_refused_and_the_old_key_still_opens() {
    let vault = FakeVault::start();
    vault.create_key("both");
    vault.create_key("wrap-only");
    // The identity's access policy grants wrapKey but not unwrapKey on it.
    vault.deny_unwrap("wrap-only");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    let azure = |k: &str| KeyManager::from_key_source(Arc::new(source(k, &vault)));
    let (ka, kb) = (azure("both"), azure("wrap-only"));
    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    s.put(b"k", b"v").unwrap();
    let wraps = vault.count("wrapkey");

    let err = s.rotate_encryption_key(&kb).unwrap_err();
    assert!(
        matches!(&err, CoreError::Keys(Error::NewKeyCannotDecrypt { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("cannot decrypt"), "{msg}");
    assert!(
        msg.contains("grant decrypt") && msg.contains("unwrapKey"),
        "{msg}"
    );
    assert!(msg.contains("Forbidden"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
    assert_eq!(vault.count("wrapkey"), wraps + 1, "the new key did wrap");
    assert_eq!(s.encryption_status().unwrap().kek_slots.len(), 1);
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    drop(s);

    let s = StorageEngine::open_with_key_manager(&path, &config, &ka).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    drop(s);
    let err = StorageEngine::open_with_key_manager(&path, &config, &kb).unwrap_err();
    assert!(
        matches!(err, CoreError::Keys(Error::WrongKey { .. })),
        "{err}"
    );
}

//! The AWS KMS key source, driven through the real `aws-sdk-kms` client,
//! against a real `moto_server` on 127.0.0.1 (behind a counting proxy).

mod common;

use std::sync::Arc;

use common::{CountingProxy, Moto};
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, Error as CoreError, StorageEngine};
use heliosdb_keys::{block_on, conformance, Error, KeySource, KmsErrorKind, KmsSpec, SourceKind};
use heliosdb_kms_aws::AwsKmsSource;

fn spec(key_id: &str, endpoint: &str) -> KmsSpec {
    KmsSpec::new(
        "aws",
        key_id,
        [
            ("region".to_string(), common::REGION.to_string()),
            ("endpoint".to_string(), endpoint.to_string()),
            // moto speaks plaintext HTTP on 127.0.0.1.
            ("insecure_endpoint".to_string(), "true".to_string()),
            // Keep outage tests quick: two attempts, short timeouts.
            ("max_attempts".to_string(), "2".to_string()),
            ("timeout_secs".to_string(), "5".to_string()),
        ]
        .into(),
    )
}

/// A config file as a user writes it: provider options beside provider and
/// key_id, and in `[encryption.kms]`.
fn config_for(dir: &std::path::Path, alias: &str, endpoint: &str) -> Config {
    let toml = format!(
        "[storage]\npath = \"{}\"\n\n[encryption]\nenabled = true\n\
         key_source = {{ Kms = {{ provider = \"aws\", key_id = \"{alias}\", region = \"{}\" }} }}\n\n\
         [encryption.kms]\nendpoint = \"{endpoint}\"\ninsecure_endpoint = \"true\"\nmax_attempts = \"2\"\ntimeout_secs = \"5\"\n",
        dir.join("db").display(),
        common::REGION,
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

fn kms_kind(err: &CoreError) -> Option<KmsErrorKind> {
    match err {
        CoreError::Keys(Error::Kms { kind, .. }) => Some(*kind),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_passes_against_moto() {
    let moto = Moto::start();
    moto.create_key("alias/conformance-a").await;
    let (b_id, _) = moto.create_key("alias/conformance-b").await;
    // One by alias, one by bare key id: both are resolved to ARNs.
    let a = AwsKmsSource::new(&spec("alias/conformance-a", &moto.endpoint())).unwrap();
    let b = AwsKmsSource::new(&spec(&b_id, &moto.endpoint())).unwrap();
    conformance::run(
        &a,
        &b,
        &[common::SECRET_KEY.as_bytes(), common::ACCESS_KEY.as_bytes()],
    )
    .await;
    // Nothing listens on port 9: two attempts of at most 5 s, then unavailable.
    let gone = AwsKmsSource::new(&spec("alias/conformance-a", "http://127.0.0.1:9")).unwrap();
    conformance::run_unreachable(&gone, std::time::Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn header_records_the_resolved_arn_and_region_but_not_the_endpoint() {
    let moto = Moto::start();
    let (_, arn) = moto.create_key("alias/header").await;
    let src = AwsKmsSource::new(&spec("alias/header", &moto.endpoint())).unwrap();
    let header = src.new_header().await.unwrap();
    let kms = header.kms.as_ref().unwrap();
    assert_eq!(kms.provider, "aws");
    assert_eq!(kms.key_id, arn);
    // The region is identity; the endpoint is the caller's, never recorded.
    assert_eq!(kms.options.get("endpoint"), None);
    assert_eq!(
        kms.options.get("region").map(String::as_str),
        Some(common::REGION)
    );
    assert_eq!(header.source.kind, SourceKind::Kms);
    assert_eq!(header.source.locator.as_deref(), Some("alias/header"));
    // A source built from the header's identity and the caller's endpoint
    // (what `--path` with `--kms-option endpoint=…` does) matches.
    let caller = [
        ("endpoint".to_string(), moto.endpoint()),
        ("insecure_endpoint".to_string(), "true".to_string()),
    ]
    .into();
    let again = heliosdb_keys::kms_source_for_slot(kms, &caller).unwrap();
    assert!(again.matches(&header).await.unwrap());
    // A different endpoint than a keyring records is refused, naming both.
    let mut recorded = kms.clone();
    recorded
        .options
        .insert("endpoint".into(), "http://127.0.0.1:9".into());
    let err = heliosdb_keys::kms_source_for_slot(&recorded, &caller).unwrap_err();
    assert!(matches!(err, Error::KmsOptionMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("http://127.0.0.1:9")
            && err.to_string().contains(&moto.endpoint()),
        "{err}"
    );
}

#[test]
fn engine_round_trip_makes_one_decrypt_at_open_and_survives_an_outage() {
    let moto = Moto::start();
    block_on(moto.create_key("alias/engine"));
    let proxy = CountingProxy::start(moto.addr);
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), "alias/engine", &proxy.endpoint());
    let path = dir.path().join("db");

    let storage = StorageEngine::open(&path, &config).unwrap();
    for i in 0..100 {
        storage
            .put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes())
            .unwrap();
    }
    assert_eq!(proxy.count("Encrypt"), 1, "{:?}", proxy.counts());
    drop(storage);

    proxy.reset();
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(
        proxy.count("Decrypt"),
        1,
        "one KMS unwrap at open: {:?}",
        proxy.counts()
    );
    for i in 0..100 {
        assert_eq!(
            storage.get(format!("k{i}").as_bytes()).unwrap().unwrap(),
            format!("v{i}").as_bytes()
        );
    }
    for i in 100..300 {
        storage.put(format!("k{i}").as_bytes(), b"more").unwrap();
    }
    let after_io = proxy.counts();
    assert_eq!(after_io.get("Decrypt"), Some(&1), "{after_io:?}");
    assert_eq!(after_io.get("Encrypt"), None, "{after_io:?}");

    // KMS goes away: the open database keeps reading and writing.
    proxy.cut();
    storage.put(b"during-outage", b"still writable").unwrap();
    assert_eq!(storage.get(b"k7").unwrap().unwrap(), b"v7");
    assert_eq!(
        storage.get(b"during-outage").unwrap().unwrap(),
        b"still writable"
    );
    drop(storage);

    // ... but a new open cannot unwrap: a clear "unavailable".
    let err = StorageEngine::open(&path, &config).unwrap_err();
    assert_eq!(kms_kind(&err), Some(KmsErrorKind::Unavailable), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("aws KMS unavailable:"), "{msg}");
    assert!(err_is_retryable(&err), "{msg}");

    proxy.restore();
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(
        storage.get(b"during-outage").unwrap().unwrap(),
        b"still writable"
    );
}

fn err_is_retryable(err: &CoreError) -> bool {
    matches!(err, CoreError::Keys(e) if e.is_retryable())
}

#[test]
fn init_with_kms_unreachable_leaves_no_database() {
    common::test_env();
    // Nothing listens on this port.
    let endpoint = format!("http://127.0.0.1:{}", common::free_port());
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), "alias/never", &endpoint);
    let path = dir.path().join("db");
    let err = StorageEngine::open(&path, &config).unwrap_err();
    assert_eq!(kms_kind(&err), Some(KmsErrorKind::Unavailable), "{err}");
    assert!(!path.exists(), "a failed init left {}", path.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_and_missing_keys_are_classified() {
    let moto = Moto::start();
    moto.create_key("alias/right").await;
    moto.create_key("alias/wrong").await;
    let right = AwsKmsSource::new(&spec("alias/right", &moto.endpoint())).unwrap();
    let wrong = AwsKmsSource::new(&spec("alias/wrong", &moto.endpoint())).unwrap();
    let header = right.new_header().await.unwrap();
    let key = heliosdb_keys::SecretKey::generate().unwrap();
    let blob = right.wrap(&header, &key, b"aad").await.unwrap();

    // Another KMS key's blob, sent to KMS with our key pinned: refused.
    // AWS answers IncorrectKeyException (wrong key); moto answers
    // AccessDeniedException for the same request. Either way it is sorted.
    let err = wrong.unwrap(&header, &blob, b"aad").await.unwrap_err();
    match &err {
        Error::Kms { provider, kind, .. } => {
            assert_eq!(provider, "aws");
            assert!(
                matches!(kind, KmsErrorKind::WrongKey | KmsErrorKind::AccessDenied),
                "{err}"
            );
        }
        other => panic!("unclassified: {other}"),
    }
    // The right key with another database's context: wrong key.
    let err = right
        .unwrap(&header, &blob, b"other aad")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kms {
                kind: KmsErrorKind::WrongKey,
                ..
            }
        ),
        "{err}"
    );
    // A key that does not exist: not found, at new_header (init).
    let missing = AwsKmsSource::new(&spec("alias/does-not-exist", &moto.endpoint())).unwrap();
    let err = missing.new_header().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kms {
                kind: KmsErrorKind::NotFound,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("alias/does-not-exist"), "{err}");

    // At the engine level, a database opened with another KMS key is a wrong
    // key, named before any KMS decrypt is attempted.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    drop(StorageEngine::open_with_source(&path, &config, Arc::new(right)).unwrap());
    let err = StorageEngine::open_with_source(&path, &config, Arc::new(wrong)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, CoreError::Keys(Error::WrongKey { .. })),
        "{msg}"
    );
    assert!(msg.contains("aws KMS key alias/right"), "{msg}");
}

/// A disabled key and a key pending deletion are "key unusable" (the fix is
/// on the key), not "wrong key", and not retryable. moto enforces neither
/// state on Encrypt/Decrypt, so this drives the DescribeKey state check that
/// runs when a key is resolved (init, or opening by alias).
#[tokio::test(flavor = "multi_thread")]
async fn disabled_and_pending_deletion_keys_are_unusable_not_wrong() {
    let moto = Moto::start();
    let admin = moto.admin().await;
    let (disabled, _) = moto.create_key("alias/disabled").await;
    admin.disable_key().key_id(&disabled).send().await.unwrap();
    let (deleted, _) = moto.create_key("alias/deleted").await;
    admin
        .schedule_key_deletion()
        .key_id(&deleted)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    for (alias, state) in [
        ("alias/disabled", "Disabled"),
        ("alias/deleted", "PendingDeletion"),
    ] {
        let source = AwsKmsSource::new(&spec(alias, &moto.endpoint())).unwrap();
        let err = source.new_header().await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Kms {
                    kind: KmsErrorKind::KeyUnusable,
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.is_retryable(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(state), "{msg}");
        assert!(msg.contains(alias), "{msg}");
        assert!(msg.contains("enable"), "{msg}");
        assert!(!msg.contains("wrong key"), "{msg}");
    }
}

#[test]
fn canary_scan_of_a_kms_backed_database_finds_nothing() {
    let moto = Moto::start();
    block_on(moto.create_key("alias/canary"));
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), "alias/canary", &moto.endpoint());
    let path = dir.path().join("db");
    const CANARY_KEY: &str = "canary-kms-key-wombat";
    const CANARY_VALUE: &str = "canary kms value quokka";
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
            for needle in [CANARY_KEY, CANARY_VALUE, "wombat", "quokka"] {
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(format!("{needle} in {}", p.display()));
                }
            }
        }
    }
    assert!(files > 3, "scanned only {files} files");
    assert!(hits.is_empty(), "plaintext on disk: {hits:?}");
    // And the database reopens and reads back through KMS.
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(
        storage
            .get(format!("{CANARY_KEY}7").as_bytes())
            .unwrap()
            .unwrap(),
        format!("{CANARY_VALUE} 7").as_bytes()
    );
}

#[test]
fn kek_rotation_env_to_kms_to_other_kms_key_with_reencrypt_to_file() {
    use heliosdb_keys::KeyManager;
    use std::os::unix::fs::PermissionsExt;
    let moto = Moto::start();
    block_on(moto.create_key("alias/rot-a"));
    block_on(moto.create_key("alias/rot-b"));
    let proxy = CountingProxy::start(moto.addr);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config = Config::default();
    std::env::set_var(
        "HELIOSDB_AWS_ROTATION_KEY",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    );
    let env = KeyManager::from_source(&KeySourceConfig::Environment(
        "HELIOSDB_AWS_ROTATION_KEY".into(),
    ))
    .unwrap();
    let kms = |alias: &str| {
        KeyManager::from_key_source(Arc::new(
            AwsKmsSource::new(&spec(alias, &proxy.endpoint())).unwrap(),
        ))
    };
    let (kms_a, kms_b) = (kms("alias/rot-a"), kms("alias/rot-b"));
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

    let s = StorageEngine::open_with_key_manager(&path, &config, &env).unwrap();
    s.put(b"k", b"v").unwrap();
    // env → KMS key A: one Encrypt, no record rewritten.
    proxy.reset();
    s.rotate_encryption_key(&kms_a).unwrap();
    assert_eq!(proxy.count("Encrypt"), 1, "{:?}", proxy.counts());
    drop(s);
    wrong(&env);
    proxy.reset();
    let s = StorageEngine::open_with_key_manager(&path, &config, &kms_a).unwrap();
    assert_eq!(proxy.count("Decrypt"), 1, "{:?}", proxy.counts());
    // KMS key A → KMS key B: ReEncrypt inside KMS (the root key is not sent
    // again), then one Decrypt under B to check the result before it is kept.
    proxy.reset();
    s.rotate_encryption_key(&kms_b).unwrap();
    assert_eq!(proxy.count("ReEncrypt"), 1, "{:?}", proxy.counts());
    assert_eq!(proxy.count("Encrypt"), 0, "{:?}", proxy.counts());
    assert_eq!(proxy.count("Decrypt"), 1, "{:?}", proxy.counts());
    drop(s);
    wrong(&kms_a);
    let s = StorageEngine::open_with_key_manager(&path, &config, &kms_b).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    // KMS → key file (the exit plan): AWS is no longer needed.
    s.rotate_encryption_key(&file).unwrap();
    drop(s);
    proxy.cut();
    let s = StorageEngine::open_with_key_manager(&path, &config, &file).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    let (_, ring) = StorageEngine::inspect(&path).unwrap();
    assert!(ring
        .unwrap()
        .slots
        .iter()
        .all(|slot| slot.header.kms.is_none()));
}

/// New slots send the encryption context as named pairs (checked here with
/// an independent client: Decrypt with exactly those pairs opens the blob,
/// the old hex pair does not). A slot as older builds wrote it (no form
/// recorded, `heliosdb:aad` = hex AAD) still opens after the keyring is
/// encoded and decoded, and a KEK rotation re-wraps it into a named one.
#[tokio::test(flavor = "multi_thread")]
async fn new_slots_use_named_context_pairs_and_old_slots_still_open() {
    use aws_sdk_kms::primitives::Blob;
    use heliosdb_keys::Keyring;
    use heliosdb_kms_aws::{
        encryption_context, CONTEXT_DB, CONTEXT_FORM_NAMED, CONTEXT_FORM_OPTION, CONTEXT_KEY,
        CONTEXT_PURPOSE, CONTEXT_SLOT,
    };
    let moto = Moto::start();
    let (_, arn) = moto.create_key("alias/context").await;
    let admin = moto.admin().await;
    let src = AwsKmsSource::new(&spec("alias/context", &moto.endpoint())).unwrap();
    let root_aad = |db: &str, slot: u32| {
        let mut aad = b"heliosdb-nano/root/v1".to_vec();
        aad.extend_from_slice(db.as_bytes());
        aad.extend_from_slice(&slot.to_be_bytes());
        aad
    };
    let admin_decrypt = |blob: Vec<u8>, ctx: std::collections::HashMap<String, String>| {
        let admin = admin.clone();
        let arn = arn.clone();
        async move {
            admin
                .decrypt()
                .key_id(arn)
                .ciphertext_blob(Blob::new(blob))
                .set_encryption_context(Some(ctx))
                .send()
                .await
                .map(|out| out.plaintext.unwrap().into_inner())
                .map_err(|e| {
                    use aws_sdk_kms::error::ProvideErrorMetadata;
                    e.code().unwrap_or("?").to_string()
                })
        }
    };

    let (mut ring, unlocked) = Keyring::create(&src).await.unwrap();
    let db = ring.database_id.clone();
    let slot = ring.slots[0].clone();
    let kms = slot.header.kms.clone().unwrap();
    assert_eq!(
        kms.options.get(CONTEXT_FORM_OPTION).map(String::as_str),
        Some(CONTEXT_FORM_NAMED)
    );
    let blob = hex::decode(&slot.wrapped_root).unwrap();
    let aad = root_aad(&db, slot.id);
    let named = encryption_context(true, &aad);
    assert_eq!(named[CONTEXT_PURPOSE], "root-key");
    assert_eq!(named[CONTEXT_DB], db);
    assert_eq!(named[CONTEXT_SLOT], slot.id.to_string());
    let plain = admin_decrypt(blob.clone(), named).await.unwrap();
    assert_eq!(&plain[..], &unlocked.root().expose_secret()[..]);
    let legacy = encryption_context(false, &aad);
    assert_eq!(legacy.keys().collect::<Vec<_>>(), vec![CONTEXT_KEY]);
    assert_eq!(
        admin_decrypt(blob, legacy.clone()).await.unwrap_err(),
        "InvalidCiphertextException"
    );

    // The slot as an older build wrote it: no form recorded, hex context.
    let mut old_header = slot.header.clone();
    old_header
        .kms
        .as_mut()
        .unwrap()
        .options
        .remove(CONTEXT_FORM_OPTION);
    let old_blob = src.wrap(&old_header, unlocked.root(), &aad).await.unwrap();
    let plain = admin_decrypt(old_blob.clone(), legacy).await.unwrap();
    assert_eq!(&plain[..], &unlocked.root().expose_secret()[..]);
    ring.slots[0].header = old_header;
    ring.slots[0].wrapped_root = hex::encode(&old_blob);
    let mut ring = Keyring::decode(&ring.encode()).unwrap();
    let mut opened = ring.unlock(&src).await.unwrap();
    assert_eq!(
        opened.root().expose_secret(),
        unlocked.root().expose_secret()
    );

    // A KEK rotation (here onto the same key) re-wraps into a named slot.
    let new_id = ring
        .replace_slot(opened.slot_id, &src, &mut opened)
        .await
        .unwrap();
    let new_slot = ring.slots.iter().find(|s| s.id == new_id).unwrap().clone();
    assert_eq!(ring.slots.len(), 1);
    assert_eq!(
        new_slot.header.kms.as_ref().unwrap().options[CONTEXT_FORM_OPTION],
        CONTEXT_FORM_NAMED
    );
    let plain = admin_decrypt(
        hex::decode(&new_slot.wrapped_root).unwrap(),
        encryption_context(true, &root_aad(&db, new_id)),
    )
    .await
    .unwrap();
    assert_eq!(&plain[..], &unlocked.root().expose_secret()[..]);
    let ring = Keyring::decode(&ring.encode()).unwrap();
    assert_eq!(
        ring.unlock(&src).await.unwrap().root().expose_secret(),
        unlocked.root().expose_secret()
    );
}

/// `role_arn`: the default chain's credentials assume the role through
/// moto's STS (which records the session name and external id the request
/// carried), and the role's credentials make the KMS calls: moto files
/// them under the role's account, so a role in another account does not
/// see this account's key.
#[test]
fn role_arn_assumes_the_role_with_external_id_and_session_name() {
    use heliosdb_keys::KeyManager;
    let moto = Moto::start();
    block_on(moto.create_key("alias/role"));
    let role = "arn:aws:iam::123456789012:role/heliosdb-app";
    let with_role = |role: &str| {
        let mut s = spec("alias/role", &moto.endpoint());
        s.options.insert("role_arn".into(), role.into());
        s.options.insert("external_id".into(), "tenant-7f3a".into());
        s.options
            .insert("session_name".into(), "heliosdb-test".into());
        AwsKmsSource::new(&s).unwrap()
    };
    let km = KeyManager::from_key_source(Arc::new(with_role(role)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let s = StorageEngine::open_with_key_manager(&path, &Config::default(), &km).unwrap();
    s.put(b"k", b"v").unwrap();
    drop(s);
    let s = StorageEngine::open_with_key_manager(&path, &Config::default(), &km).unwrap();
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
    drop(s);

    let sessions = moto.assumed_roles();
    assert!(!sessions.is_empty(), "no AssumeRole reached moto");
    for session in &sessions {
        assert_eq!(session["role_arn"], role, "{session}");
        assert_eq!(session["external_id"], "tenant-7f3a", "{session}");
        assert_eq!(session["session_name"], "heliosdb-test", "{session}");
    }
    // One source assumes the role once and reuses the credentials.
    assert_eq!(sessions.len(), 1, "{sessions:?}");

    let other = with_role("arn:aws:iam::210987654321:role/heliosdb-app");
    let err = block_on(other.new_header()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kms {
                kind: KmsErrorKind::NotFound,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(moto.assumed_roles().len(), 2);
}

//! The PKCS#11 key source against a real SoftHSM2 token: the conformance
//! suite for both mechanisms, and each failure with its class and fix.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use common::{softhsm, KeyFlags, USER_PIN, WRONG_PIN, WRONG_PIN_ENV};
use heliosdb_keys::{conformance, Error, KeySource, Keyring, KmsErrorKind, SecretKey};
use heliosdb_kms_pkcs11::Pkcs11Source;

fn kind_of(err: &Error) -> Option<KmsErrorKind> {
    match err {
        Error::Kms { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn source(token: &str, key: &str, extra: &[(&str, &str)]) -> Pkcs11Source {
    Pkcs11Source::new(&softhsm().spec(token, key, extra)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_passes_with_aes_gcm() {
    let hsm = softhsm();
    hsm.token("conf-gcm");
    hsm.create_key("conf-gcm", "kek-a", KeyFlags::ALL);
    hsm.create_key("conf-gcm", "kek-b", KeyFlags::ALL);
    let a = source("conf-gcm", "kek-a", &[]);
    let b = source("conf-gcm", "kek-b", &[]);
    conformance::run(&a, &b, &[USER_PIN.as_bytes()]).await;
    let h = a.new_header().await.unwrap();
    let kms = h.kms.unwrap();
    assert_eq!(kms.key_id, "kek-a");
    assert_eq!(
        kms.options.get("mechanism").map(String::as_str),
        Some("aes-gcm")
    );
    assert_eq!(
        kms.options.get("token_label").map(String::as_str),
        Some("conf-gcm")
    );
    assert!(
        !kms.options.contains_key("module") && !kms.options.contains_key("pin_source"),
        "the module and PIN source are never recorded: {:?}",
        kms.options
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_passes_with_aes_key_wrap() {
    let hsm = softhsm();
    hsm.token("conf-kw");
    // Wrap/unwrap only: key wrap never needs CKA_ENCRYPT/CKA_DECRYPT.
    let wrap_only = KeyFlags {
        encrypt: false,
        decrypt: false,
        wrap: true,
        unwrap: true,
    };
    hsm.create_key("conf-kw", "kw-a", wrap_only);
    hsm.create_key("conf-kw", "kw-b", wrap_only);
    let kw = [("mechanism", "aes-key-wrap")];
    let a = source("conf-kw", "kw-a", &kw);
    let b = source("conf-kw", "kw-b", &kw);
    conformance::run(&a, &b, &[USER_PIN.as_bytes()]).await;
    // The same key by CKA_ID (the fixture sets it to the label's bytes).
    let by_id = source("conf-kw", &format!("id:{}", hex::encode("kw-a")), &kw);
    let h = a.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = a.wrap(&h, &key, b"binding").await.unwrap();
    assert_eq!(blob.len(), 2 + 72);
    let back = by_id.unwrap(&h, &blob, b"binding").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
    // The binding is authenticated although key wrap has no AAD.
    let err = a.unwrap(&h, &blob, b"another slot").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("binding mismatch"), "{err}");
    // A GCM source cannot use this key (no CKA_ENCRYPT) and says why.
    let gcm = source("conf-kw", "kw-a", &[]);
    let err = gcm.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("CKA_ENCRYPT = false"), "{err}");
    // A blob says its mechanism: the GCM-configured source still opens it.
    assert!(gcm.unwrap(&h, &blob, b"binding").await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_blobs_are_wrong_key_for_both_mechanisms() {
    let hsm = softhsm();
    hsm.token("tamper");
    hsm.create_key("tamper", "t", KeyFlags::ALL);
    for mech in ["aes-gcm", "aes-key-wrap"] {
        let src = source("tamper", "t", &[("mechanism", mech)]);
        let h = src.new_header().await.unwrap();
        let key = SecretKey::generate().unwrap();
        let blob = src.wrap(&h, &key, b"aad").await.unwrap();
        for i in [2, blob.len() / 2, blob.len() - 1] {
            let mut t = blob.clone();
            t[i] ^= 1;
            let err = src.unwrap(&h, &t, b"aad").await.unwrap_err();
            assert_eq!(
                kind_of(&err),
                Some(KmsErrorKind::WrongKey),
                "{mech} byte {i}: {err}"
            );
            assert!(!err.is_retryable());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_pin_is_access_denied_naming_the_pin_source() {
    let hsm = softhsm();
    hsm.token("pin");
    hsm.create_key("pin", "k", KeyFlags::ALL);
    let wrong = source(
        "pin",
        "k",
        &[("pin_source", &format!("env:{WRONG_PIN_ENV}"))],
    );
    let err = wrong.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("wrong PIN") && msg.contains(WRONG_PIN_ENV),
        "{msg}"
    );
    assert!(!msg.contains(WRONG_PIN) && !msg.contains(USER_PIN), "{msg}");

    let unset = source(
        "pin",
        "k",
        &[("pin_source", "env:HELIOSDB_TEST_NO_SUCH_VAR")],
    );
    let err = unset.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(
        err.to_string()
            .contains("HELIOSDB_TEST_NO_SUCH_VAR is not set"),
        "{err}"
    );

    // The PIN from a file: refused while others may read it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pin");
    std::fs::write(&file, format!("{USER_PIN}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let pin_source = format!("file:{}", file.display());
    let from_file = source("pin", "k", &[("pin_source", &pin_source)]);
    let err = from_file.new_header().await.unwrap_err();
    assert!(err.to_string().contains("chmod 400"), "{err}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    let from_file = source("pin", "k", &[("pin_source", &pin_source)]);
    assert!(from_file.new_header().await.is_ok());

    // (`pin_source = "prompt"` reads /dev/tty, which would wait for a
    // developer running the tests on a terminal: the facade's CLI test
    // covers it in a process without a controlling terminal.)
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_token_missing_key_and_non_aes_keys_say_what_to_fix() {
    let hsm = softhsm();
    hsm.token("missing");
    hsm.create_key("missing", "present", KeyFlags::ALL);
    hsm.create_generic_secret("missing", "not-aes");

    let err = source("no-such-token", "present", &[])
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("no token labelled \"no-such-token\"") && msg.contains("\"missing\""),
        "{msg}"
    );

    let err = source("missing", "absent", &[])
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    assert!(
        err.to_string()
            .contains("no secret key labelled \"absent\""),
        "{err}"
    );

    let err = source("missing", "not-aes", &[])
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::InvalidRequest), "{err}");
    assert!(err.to_string().contains("not AES"), "{err}");

    let err = Pkcs11Source::new(&hsm.spec(
        "missing",
        "present",
        &[("module", "/nonexistent/libpkcs11.so")],
    ))
    .unwrap()
    .new_header()
    .await
    .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    assert!(err.to_string().contains("set `module`"), "{err}");

    // The token by slot id instead of label: same key, same header identity.
    let by_label = source("missing", "present", &[]);
    let h = by_label.new_header().await.unwrap();
    let slot = hsm.slot_id("missing");
    let by_slot = Pkcs11Source::new(&heliosdb_keys::KmsSpec::new(
        "pkcs11",
        "present",
        hsm.options("missing", &[("slot_id", &slot.to_string())])
            .into_iter()
            .filter(|(k, _)| k != "token_label")
            .collect(),
    ))
    .unwrap();
    assert!(by_slot.matches(&h).await.unwrap());
    let key = SecretKey::generate().unwrap();
    let blob = by_label.wrap(&h, &key, b"x").await.unwrap();
    assert_eq!(
        by_slot
            .unwrap(&h, &blob, b"x")
            .await
            .unwrap()
            .expose_secret(),
        key.expose_secret()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_key_is_not_found_and_a_new_key_cannot_decrypt_without_cka_decrypt() {
    let hsm = softhsm();
    hsm.token("lifecycle");
    hsm.create_key("lifecycle", "old", KeyFlags::ALL);
    hsm.create_key(
        "lifecycle",
        "encrypt-only",
        KeyFlags {
            decrypt: false,
            ..KeyFlags::ALL
        },
    );
    let old = source("lifecycle", "old", &[]);
    let (mut ring, mut unlocked) = Keyring::create(&old).await.unwrap();
    let old_slot = unlocked.slot_id;

    // Rotation to a key that may encrypt but not decrypt is refused and
    // leaves the keyring as it was.
    let enc_only = source("lifecycle", "encrypt-only", &[]);
    let before = ring.encode();
    let err = ring
        .replace_slot(old_slot, &enc_only, &mut unlocked)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("CKA_DECRYPT = false"), "{err}");
    assert_eq!(ring.encode(), before, "nothing changed");
    assert!(ring.unlock(&old).await.is_ok());

    // The key deleted from the token: the database no longer opens, and
    // the error says the key is gone rather than "wrong key".
    hsm.delete_key("lifecycle", "old");
    let err = ring.unlock(&old).await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    assert!(
        err.to_string().contains("no secret key labelled \"old\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_operations_share_the_login() {
    let hsm = softhsm();
    hsm.token("concurrent");
    hsm.create_key("concurrent", "k", KeyFlags::ALL);
    let src = Arc::new(source("concurrent", "k", &[]));
    let h = src.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&h, &key, b"aad").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (src, h, blob) = (Arc::clone(&src), h.clone(), blob.clone());
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                src.unwrap(&h, &blob, b"aad")
                    .await
                    .map(|k| k.expose_secret().to_vec())
            } else {
                // A source of its own: another "application user" of the
                // same module in this process.
                let other = source("concurrent", "k", &[]);
                other
                    .unwrap(&h, &blob, b"aad")
                    .await
                    .map(|k| k.expose_secret().to_vec())
            }
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), key.expose_secret().to_vec());
    }
    // From synchronous code too.
    let back = heliosdb_keys::block_on(src.unwrap(&h, &blob, b"aad")).unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
}

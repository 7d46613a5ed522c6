//! An encrypted database whose root key an AES key in a real SoftHSM2
//! token wraps, for both mechanisms: init, write, close, reopen, read;
//! rotation to another HSM key (a key that cannot decrypt is refused and
//! the old slot stays); a wrong PIN and a deleted key at open.

mod common;

use std::sync::Arc;

use common::{softhsm, KeyFlags, WRONG_PIN_ENV};
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, Error as CoreError, StorageEngine};
use heliosdb_keys::{Error, KeyManager, KmsErrorKind};
use heliosdb_kms_pkcs11::Pkcs11Source;

fn core_kind(err: &CoreError) -> Option<KmsErrorKind> {
    match err {
        CoreError::Keys(Error::Kms { kind, .. }) => Some(*kind),
        _ => None,
    }
}

/// A configuration file as a user writes it: the key in `key_source`, the
/// token, module and PIN source in `[encryption.kms]`.
fn config_for(dir: &std::path::Path, token: &str, key: &str, extra: &[(&str, &str)]) -> Config {
    let mut kms = String::new();
    for (k, v) in softhsm().options(token, extra) {
        kms.push_str(&format!("{k} = \"{v}\"\n"));
    }
    let toml = format!(
        "[storage]\npath = \"{}\"\n\n[encryption]\nenabled = true\n\
         key_source = {{ Kms = {{ provider = \"pkcs11\", key_id = \"{key}\" }} }}\n\n\
         [encryption.kms]\n{kms}",
        dir.join("db").display(),
    );
    let file = dir.join(format!("{key}.toml"));
    std::fs::write(&file, toml).unwrap();
    let config = Config::from_file(&file).unwrap();
    assert!(matches!(
        config.encryption.key_source,
        KeySourceConfig::Kms { .. }
    ));
    config
}

fn round_trip_and_rotate(token: &'static str, mechanism: &str) {
    let hsm = softhsm();
    hsm.token(token);
    hsm.create_key(token, "kek-1", KeyFlags::ALL);
    hsm.create_key(token, "kek-2", KeyFlags::ALL);
    let cannot_decrypt = match mechanism {
        "aes-gcm" => KeyFlags {
            decrypt: false,
            ..KeyFlags::ALL
        },
        _ => KeyFlags {
            unwrap: false,
            ..KeyFlags::ALL
        },
    };
    hsm.create_key(token, "kek-no-decrypt", cannot_decrypt);
    let mech = [("mechanism", mechanism)];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let config1 = config_for(dir.path(), token, "kek-1", &mech);
    let config2 = config_for(dir.path(), token, "kek-2", &mech);

    // Init, write, close, reopen, read.
    let storage = StorageEngine::open(&path, &config1).unwrap();
    for i in 0..100 {
        storage
            .put(format!("k{i}").as_bytes(), format!("v{i}").as_bytes())
            .unwrap();
    }
    drop(storage);
    let storage = StorageEngine::open(&path, &config1).unwrap();
    for i in 0..100 {
        assert_eq!(
            storage.get(format!("k{i}").as_bytes()).unwrap().unwrap(),
            format!("v{i}").as_bytes()
        );
    }
    let status = storage.encryption_status().unwrap();
    assert_eq!(status.kek_slots.len(), 1);
    assert_eq!(
        status.kek_slots[0].source,
        format!("pkcs11 KMS key {token}/kek-1")
    );

    // A key that may wrap but not unwrap: refused, nothing changes.
    let spec = |key: &str| hsm.spec(token, key, &mech);
    let no_decrypt = KeyManager::from_key_source(Arc::new(
        Pkcs11Source::new(&spec("kek-no-decrypt")).unwrap(),
    ));
    let err = storage.rotate_encryption_key(&no_decrypt).unwrap_err();
    let flag = if mechanism == "aes-gcm" {
        "CKA_DECRYPT = false"
    } else {
        "CKA_UNWRAP = false"
    };
    assert!(err.to_string().contains(flag), "{err}");
    assert_eq!(core_kind(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert_eq!(storage.encryption_status().unwrap().kek_slots.len(), 1);
    drop(storage);
    let storage = StorageEngine::open(&path, &config1).unwrap();

    // Rotation to a new HSM key: proven before the old slot goes.
    let kek2 = KeyManager::from_key_source(Arc::new(Pkcs11Source::new(&spec("kek-2")).unwrap()));
    let rotation = storage.rotate_encryption_key(&kek2).unwrap();
    assert!(rotation.old.contains("kek-1") && rotation.new.contains("kek-2"));
    storage.put(b"after-rotation", b"yes").unwrap();
    drop(storage);
    let err = StorageEngine::open(&path, &config1).unwrap_err();
    assert!(
        matches!(err, CoreError::Keys(Error::WrongKey { .. })),
        "the old key no longer opens: {err}"
    );
    let storage = StorageEngine::open(&path, &config2).unwrap();
    assert_eq!(storage.get(b"k42").unwrap().unwrap(), b"v42");
    assert_eq!(storage.get(b"after-rotation").unwrap().unwrap(), b"yes");
    drop(storage);

    // A wrong PIN: access denied, naming where the PIN came from.
    let wrong_pin = format!("env:{WRONG_PIN_ENV}");
    let config_wrong = config_for(
        dir.path(),
        token,
        "kek-2",
        &[mech[0], ("pin_source", &wrong_pin)],
    );
    let err = StorageEngine::open(&path, &config_wrong).unwrap_err();
    assert_eq!(core_kind(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains(WRONG_PIN_ENV), "{err}");

    // The key deleted from the token: not found, naming the key.
    hsm.delete_key(token, "kek-2");
    let err = StorageEngine::open(&path, &config2).unwrap_err();
    assert_eq!(core_kind(&err), Some(KmsErrorKind::NotFound), "{err}");
    assert!(
        err.to_string().contains("no secret key labelled \"kek-2\""),
        "{err}"
    );
}

#[test]
fn aes_gcm_database_round_trip_rotation_and_failures() {
    round_trip_and_rotate("engine", "aes-gcm");
}

#[test]
fn aes_key_wrap_database_round_trip_rotation_and_failures() {
    round_trip_and_rotate("engine-kw", "aes-key-wrap");
}

//! Adversarial tests: tampered bytes, swapped ciphertexts, wrong keys, bad
//! key material, truncated keyrings, malformed configuration. Each gives a
//! clear error; none panics; none loses data.

mod common;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Error, Schema, Tuple, Value};

fn people(storage: &StorageEngine) {
    storage
        .catalog()
        .create_table(
            "people",
            Schema::new(vec![
                Column::new("id", DataType::Int4).primary_key(),
                Column::new("name", DataType::Text),
            ]),
        )
        .unwrap();
    for (i, n) in ["alice", "bob", "carol"].iter().enumerate() {
        storage
            .insert_tuple(
                "people",
                Tuple::new(vec![
                    Value::Int4(i as i32 + 1),
                    Value::String(n.to_string()),
                ]),
            )
            .unwrap();
    }
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, Config) {
    setup_with(heliosdb_nano::config::RecordKeys::Ordered)
}

/// A database of the given layout: format 2 (ordered keys, encrypted files,
/// keyring file) or format 1 (blind keys, keyring in RocksDB).
fn setup_with(
    keys: heliosdb_nano::config::RecordKeys,
) -> (tempfile::TempDir, std::path::PathBuf, Config) {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let mut config = common::file_config(&key);
    config.storage.record_keys = keys;
    let db = dir.path().join("db");
    let storage = StorageEngine::open(&db, &config).unwrap();
    people(&storage);
    storage.put(b"test_key", b"secret value").unwrap();
    drop(storage);
    (dir, db, config)
}

#[test]
fn flipped_byte_in_a_row_is_an_authentication_error_naming_table_and_key() {
    let (_dir, db, config) = setup();
    common::with_raw_db(&db, &config, |raw| {
        let cf = raw.cf_handle("rows").unwrap();
        let entries: Vec<_> = raw
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(entries.len(), 3);
        // Flip one ciphertext bit of one row (record keys are blind tokens, so
        // which person it is does not show on disk).
        let (k, v) = &entries[0];
        let mut v = v.to_vec();
        let i = v.len() - 20;
        v[i] ^= 0x01;
        raw.put_cf(cf, k, &v).unwrap();
    });
    let storage = StorageEngine::open(&db, &config).unwrap();
    let err = storage.scan_table("people").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Decryption { .. }), "{msg}");
    assert!(
        msg.starts_with("Decryption failed: Authentication tag verification failed"),
        "{msg}"
    );
    assert!(msg.contains("table 'people'"), "{msg}");
    // Point reads name the primary key; exactly one of the three fails.
    let mut failures = Vec::new();
    for id in 1..=3 {
        match storage.get_by_pk("people", &Value::Int4(id)) {
            Ok(row) => assert!(row.is_some()),
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("table 'people', primary key"),
        "{failures:?}"
    );
    let report = storage.verify().unwrap();
    assert_eq!(report.failure_count, 1);
    assert!(
        report.failures[0].location.contains("table 'people'"),
        "{:?}",
        report.failures
    );
}

#[test]
fn flipped_byte_in_a_kv_value_names_the_key() {
    let (_dir, db, config) = setup();
    let storage = StorageEngine::open(&db, &config).unwrap();
    let physical_len = storage.db.get(b"test_key").unwrap().unwrap().len();
    drop(storage);
    common::with_raw_db(&db, &config, |raw| {
        let cf = raw.cf_handle("kv").unwrap();
        let (k, v) = raw
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(v.len(), physical_len);
        let mut t = v.to_vec();
        let mid = t.len() / 2;
        t[mid] ^= 0x80;
        raw.put_cf(cf, &k, &t).unwrap();
    });
    let storage = StorageEngine::open(&db, &config).unwrap();
    let msg = storage.get(b"test_key").unwrap_err().to_string();
    assert!(msg.contains("key-value store, key \"test_key\""), "{msg}");
    assert!(
        msg.starts_with("Decryption failed: Authentication tag verification failed"),
        "{msg}"
    );
}

#[test]
fn every_single_byte_flip_of_a_value_is_detected() {
    let (_dir, db, config) = setup();
    let (key, value) = {
        let storage = StorageEngine::open(&db, &config).unwrap();
        let entries = storage.db.entries("kv").unwrap();
        entries.into_iter().next().unwrap()
    };
    for pos in 0..value.len() {
        common::with_raw_db(&db, &config, |raw| {
            let cf = raw.cf_handle("kv").unwrap();
            let mut t = value.clone();
            t[pos] ^= 0x04;
            raw.put_cf(cf, &key, &t).unwrap();
        });
        let storage = StorageEngine::open(&db, &config).unwrap();
        assert!(
            storage.get(b"test_key").is_err(),
            "flip at byte {pos} went unnoticed"
        );
        assert!(!storage.verify().unwrap().is_ok());
    }
}

#[test]
fn swapped_ciphertexts_are_rejected() {
    let (_dir, db, config) = setup();
    common::with_raw_db(&db, &config, |raw| {
        let cf = raw.cf_handle("rows").unwrap();
        let entries: Vec<_> = raw
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(|r| r.unwrap())
            .collect();
        // Copy row A's sealed value onto row B's key.
        raw.put_cf(cf, &entries[1].0, &entries[0].1).unwrap();
    });
    let storage = StorageEngine::open(&db, &config).unwrap();
    let report = storage.verify().unwrap();
    assert_eq!(report.failure_count, 1, "{:?}", report.failures);
    assert!(storage.scan_table("people").is_err());
    // The other rows are still readable one by one.
    let ok = (1..=3)
        .filter(|i| storage.get_by_pk("people", &Value::Int4(*i)).is_ok())
        .count();
    assert_eq!(ok, 2);
}

#[test]
fn wrong_key_fails_at_open_and_changes_nothing() {
    let (dir, db, config) = setup();
    let wrong = common::key_file(dir.path(), "wrong.key", common::KEY_B.as_bytes(), 0o400);
    let before: Vec<_> = {
        let s = StorageEngine::open(&db, &config).unwrap();
        s.db.entries("rows").unwrap()
    };
    let err = StorageEngine::open(&db, &common::file_config(&wrong)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("wrong key: key file"), "{msg}");
    assert!(msg.contains("does not unlock this database"), "{msg}");
    assert!(!msg.contains(common::KEY_B) && !msg.contains(common::KEY_A));
    let s = StorageEngine::open(&db, &config).unwrap();
    assert_eq!(s.db.entries("rows").unwrap(), before);
    assert_eq!(s.scan_table("people").unwrap().len(), 3);
}

#[test]
fn key_material_errors_use_the_tutorial_wording() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");

    let mut config = Config::default();
    config.encryption.enabled = true;
    config.encryption.key_source =
        heliosdb_nano::config::KeySource::Environment("HELIOSDB_SURELY_MISSING_KEY".into());
    let err = StorageEngine::open(&db, &config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Environment variable 'HELIOSDB_SURELY_MISSING_KEY' not found"
    );
    assert!(
        !db.exists(),
        "a failed open must not leave a database behind"
    );

    std::env::set_var("HELIOSDB_SHORT_KEY", &common::KEY_A[..63]);
    config.encryption.key_source =
        heliosdb_nano::config::KeySource::Environment("HELIOSDB_SHORT_KEY".into());
    let err = StorageEngine::open(&db, &config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Hex key must be 64 characters (32 bytes), got 63"
    );

    let world = common::key_file(dir.path(), "world.key", common::KEY_A.as_bytes(), 0o644);
    let err = StorageEngine::open(&db, &common::file_config(&world))
        .unwrap_err()
        .to_string();
    assert!(err.contains("chmod 400"), "{err}");
    assert!(!db.exists());

    // Unreadable: a directory in place of the file, and a missing file.
    let err = StorageEngine::open(&db, &common::file_config(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("key file"), "{err}");
    let err = StorageEngine::open(&db, &common::file_config(&dir.path().join("nope.key")))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Failed to read key file: No such file or directory"),
        "{err}"
    );
    assert!(!db.exists());
}

#[test]
fn permission_denied_key_file_uses_the_tutorial_wording() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    if is_root() {
        // Root reads every file, so run the command as `nobody`, who may not
        // enter the (0700, root-owned) temporary directory.
        let bin = env!("CARGO_BIN_EXE_heliosdb-nano");
        let out = std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                bin,
                "init",
                "--key-file",
            ])
            .arg(&key)
            .arg("--path")
            .arg(&db)
            .output()
            .expect("setpriv (util-linux) runs the command as nobody");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("Failed to read key file: Permission denied"),
            "{stderr}"
        );
    } else {
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o000))
            .unwrap();
        let err = StorageEngine::open(&db, &common::file_config(&key))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Failed to read key file: Permission denied"),
            "{err}"
        );
    }
    assert!(!db.exists());
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn truncated_or_corrupt_keyring_file_is_reported_and_edits_fail_authentication() {
    let (_dir, db, config) = setup();
    let file = db.join("heliosdb.keyring");
    let original = std::fs::read(&file).unwrap();
    let reopen =
        || StorageEngine::open(&db, &config).map(|s| s.scan_table("people").unwrap().len());
    for cut in [
        0,
        5,
        20,
        original.len() / 2,
        original.len() - 33,
        original.len() - 1,
    ] {
        std::fs::write(&file, &original[..cut]).unwrap();
        let err = reopen().unwrap_err().to_string();
        assert!(err.starts_with("keyring is corrupt"), "cut {cut}: {err}");
    }
    // A flipped byte in the keyring part: its checksum (no key needed).
    let mut b = original.clone();
    b[original.len() / 3] ^= 1;
    std::fs::write(&file, &b).unwrap();
    let err = reopen().unwrap_err().to_string();
    assert!(err.contains("checksum"), "{err}");
    // Edits with a valid checksum (what anyone can compute) but without the
    // root key: lowered nonce counters, an aged key, a forged slot — each
    // fails authentication and nothing is used.
    let trailer = 8 + 32;
    let body = &original[..original.len() - trailer];
    let ring = heliosdb_nano::keys::Keyring::decode(body).unwrap();
    type Edit = fn(&mut heliosdb_nano::keys::Keyring);
    let edits: [Edit; 3] = [
        |r| r.deks.iter_mut().for_each(|d| d.nonce_reserved = 0),
        |r| r.deks.iter_mut().for_each(|d| d.created_at -= 86_400 * 365),
        |r| r.next_dek_id += 1,
    ];
    for edit in edits {
        let mut forged = ring.clone();
        edit(&mut forged);
        let mut bytes = forged.encode();
        bytes.extend_from_slice(&original[original.len() - trailer..]);
        std::fs::write(&file, &bytes).unwrap();
        let err = reopen().unwrap_err().to_string();
        assert!(err.contains("failed authentication"), "{err}");
    }
    // The MAC itself flipped.
    let mut b = original.clone();
    *b.last_mut().unwrap() ^= 0x80;
    std::fs::write(&file, &b).unwrap();
    assert!(reopen()
        .unwrap_err()
        .to_string()
        .contains("failed authentication"));
    // Restoring the keyring file restores everything: nothing was lost.
    std::fs::write(&file, &original).unwrap();
    assert_eq!(reopen().unwrap(), 3);
}

#[test]
fn a_missing_keyring_file_is_named_and_nothing_is_changed() {
    let (_dir, db, config) = setup();
    let file = db.join("heliosdb.keyring");
    let original = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let before: Vec<_> = common::files_under(&db)
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    let err = StorageEngine::open(&db, &config).unwrap_err().to_string();
    assert!(
        err.starts_with("keyring is corrupt") && err.contains("heliosdb.keyring is missing"),
        "{err}"
    );
    // Inspecting without a key says the same, and nothing was written.
    let err = StorageEngine::inspect(&db).unwrap_err().to_string();
    assert!(err.contains("heliosdb.keyring is missing"), "{err}");
    let after: Vec<_> = common::files_under(&db)
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_eq!(before, after);
    std::fs::write(&file, &original).unwrap();
    assert_eq!(
        StorageEngine::open(&db, &config)
            .unwrap()
            .scan_table("people")
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn truncated_or_corrupt_keyring_is_reported_as_such() {
    let (_dir, db, config) = setup_with(heliosdb_nano::config::RecordKeys::Blind);
    let original = {
        let s = StorageEngine::open(&db, &config).unwrap();
        s.db.get_cf("keyring", b"keyring").unwrap().unwrap()
    };
    for cut in [0, 5, 20, original.len() / 2, original.len() - 1] {
        common::with_raw_db(&db, &config, |raw| {
            let cf = raw.cf_handle("keyring").unwrap();
            raw.put_cf(cf, b"keyring", &original[..cut]).unwrap();
        });
        let err = StorageEngine::open(&db, &config).unwrap_err().to_string();
        assert!(err.starts_with("keyring is corrupt"), "cut {cut}: {err}");
    }
    // A corrupted middle byte: checksum.
    common::with_raw_db(&db, &config, |raw| {
        let cf = raw.cf_handle("keyring").unwrap();
        let mut b = original.clone();
        let mid = b.len() / 2;
        b[mid] ^= 1;
        raw.put_cf(cf, b"keyring", &b).unwrap();
    });
    let err = StorageEngine::open(&db, &config).unwrap_err().to_string();
    assert!(err.contains("checksum"), "{err}");
    // Restoring the keyring restores everything: nothing was lost.
    common::with_raw_db(&db, &config, |raw| {
        let cf = raw.cf_handle("keyring").unwrap();
        raw.put_cf(cf, b"keyring", &original).unwrap();
    });
    assert_eq!(
        StorageEngine::open(&db, &config)
            .unwrap()
            .scan_table("people")
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn truncated_database_files_give_an_error_not_a_panic() {
    let (_dir, db, config) = setup();
    {
        let s = StorageEngine::open(&db, &config).unwrap();
        s.flush().unwrap();
    }
    for f in common::files_under(&db) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("MANIFEST") || name.ends_with(".sst") {
            let data = std::fs::read(&f).unwrap();
            std::fs::write(&f, &data[..data.len() / 2]).unwrap();
        }
    }
    let result = std::panic::catch_unwind(|| {
        StorageEngine::open(&db, &config).and_then(|s| {
            s.scan_table("people")?;
            Ok(s.verify()?.is_ok())
        })
    });
    let outcome = result.expect("no panic on truncated files");
    assert!(
        !matches!(outcome, Ok(true)),
        "truncated files reported as healthy"
    );
}

#[test]
fn malformed_toml_is_a_clear_error() {
    for (text, needle) in [
        ("[encryption\nenabled = true", "line"),
        ("[encryption]\nenabled = \"yes\"", "enabled"),
        ("[encryption]\nenabeld = true", "enabeld"),
        (
            "[encryption]\nkey_source = { Enviroment = \"X\" }",
            "Enviroment",
        ),
        ("[server.ssl]\nmin_tls_version = \"1.0\"", "min_tls_version"),
        ("\u{0}\u{1}garbage", "line"),
    ] {
        let err = Config::from_toml_str(text).unwrap_err().to_string();
        assert!(err.starts_with("invalid configuration"), "{err}");
        assert!(err.contains(needle), "{text:?} → {err}");
    }
}

#[test]
fn encryption_on_off_mismatch_is_refused_with_advice() {
    let (dir, db, _config) = setup();
    let err = StorageEngine::open(&db, &Config::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is encrypted; set encryption.enabled = true"),
        "{err}"
    );
    assert!(err.contains("key file"), "{err}");

    let plain = dir.path().join("plain");
    StorageEngine::open(&plain, &Config::default())
        .unwrap()
        .put(b"a", b"b")
        .unwrap();
    let key = common::key_file(dir.path(), "k2.key", common::KEY_B.as_bytes(), 0o400);
    let err = StorageEngine::open(&plain, &common::file_config(&key))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not encrypted"), "{err}");
    assert!(err.contains("export"), "{err}");
}

#[test]
fn data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, db, _config) = setup();
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

//! The `heliosdb-nano` command, run as a separate process: keygen, init,
//! info, verify (good and tampered), and reopening across processes with
//! env, file and password keys.

mod common;

use std::io::Write;
use std::process::Stdio;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, DataType, Schema, Tuple, Value};

#[test]
fn keygen_prints_64_hex_characters_and_nothing_else() {
    let out = common::bin().arg("keygen").output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert_eq!(s.len(), 65, "{s:?}");
    assert!(s.ends_with('\n') && s[..64].bytes().all(|b| b.is_ascii_hexdigit()));
    let again = common::bin().arg("keygen").output().unwrap();
    assert_ne!(String::from_utf8(again.stdout).unwrap(), s);

    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("new.key");
    assert!(common::bin()
        .args(["keygen", "--output"])
        .arg(&f)
        .status()
        .unwrap()
        .success());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o400
    );
    // Refuses to overwrite an existing key.
    assert!(!common::bin()
        .args(["keygen", "--output"])
        .arg(&f)
        .status()
        .unwrap()
        .success());
}

#[test]
fn init_with_env_key_then_reopen_in_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let out = common::bin()
        .args(["init", "--encrypted", "--path"])
        .arg(&db)
        .env("HELIOSDB_ENCRYPTION_KEY", common::KEY_A)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("environment variable HELIOSDB_ENCRYPTION_KEY"),
        "{stdout}"
    );

    // Without the variable: the tutorial's error, exit code non-zero.
    let out = common::bin()
        .args(["verify", "--path"])
        .arg(&db)
        .env_remove("HELIOSDB_ENCRYPTION_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("Environment variable 'HELIOSDB_ENCRYPTION_KEY' not found"));

    // Write from this process (the database remembers its key source).
    std::env::set_var("HELIOSDB_ENCRYPTION_KEY", common::KEY_A);
    {
        let mut config = heliosdb_nano::Config::default();
        config.encryption.enabled = true;
        let s = StorageEngine::open(&db, &config).unwrap();
        s.catalog()
            .create_table(
                "t",
                Schema::new(vec![
                    Column::new("id", DataType::Int4).primary_key(),
                    Column::new("v", DataType::Text),
                ]),
            )
            .unwrap();
        s.insert_tuple(
            "t",
            Tuple::new(vec![Value::Int4(1), Value::String("hello".into())]),
        )
        .unwrap();
    }
    let out = common::bin()
        .args(["info", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{info}");
    assert!(
        info.contains("Enabled: AES-256-GCM") && info.contains("tables:     1 (t)"),
        "{info}"
    );
    assert!(!info.contains(common::KEY_A), "key bytes in info output");
    let out = common::bin()
        .args(["verify", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("all records authenticated"), "{text}");

    // A wrong key given explicitly is refused.
    let out = common::bin()
        .args(["verify", "--key-env", "OTHER_KEY", "--path"])
        .arg(&db)
        .env("OTHER_KEY", common::KEY_B)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrong key"));
}

#[test]
fn verify_reports_tampered_records_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_B.as_bytes(), 0o400);
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
        s.catalog()
            .create_table(
                "secrets",
                Schema::new(vec![
                    Column::new("id", DataType::Int4).primary_key(),
                    Column::new("v", DataType::Text),
                ]),
            )
            .unwrap();
        for i in 0..50 {
            s.insert_tuple(
                "secrets",
                Tuple::new(vec![Value::Int4(i), Value::String(format!("value {i}"))]),
            )
            .unwrap();
        }
    }
    let ok = common::bin()
        .args(["verify", "--check", "encryption", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    common::with_raw_db(&db, &common::file_config(&key), |raw| {
        let cf = raw.cf_handle("rows").unwrap();
        let (k, v) = raw
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .nth(7)
            .unwrap()
            .unwrap();
        let mut v = v.to_vec();
        v[20] ^= 0xff;
        raw.put_cf(cf, &k, &v).unwrap();
    });
    let out = common::bin()
        .args(["verify", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("1 record(s) failed authentication"), "{text}");
    assert!(text.contains("table 'secrets', record"), "{text}");
    assert!(
        text.contains("Authentication tag verification failed"),
        "{text}"
    );
}

#[test]
fn password_database_reopens_from_stdin_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let run = |args: &[&str], pw: &str| {
        let mut child = common::bin()
            .args(args)
            .arg("--path")
            .arg(&db)
            .env_remove("HELIOSDB_ENCRYPTION_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{pw}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["init", "--password"], "hunter2 but longer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["verify"], "hunter2 but longer");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["verify"], "wrong password");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("wrong key: password (Argon2id)"), "{text}");
    assert!(
        !text.contains("wrong password") && !text.contains("hunter2"),
        "password echoed: {text}"
    );
}

#[test]
fn file_key_database_reopens_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let out = common::bin()
        .args(["init", "--key-file"])
        .arg(&key)
        .arg("--path")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Later commands need only --path: the keyring remembers the key file's location.
    let out = common::bin()
        .args(["info", "--path"])
        .arg(&db)
        .env_remove("HELIOSDB_ENCRYPTION_KEY")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("opened with: key file"), "{text}");
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    assert!(s.is_encrypted());
}

#[test]
fn rotate_key_refuses_an_absurd_argon2_cost_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let out = common::bin()
        .args(["init", "--key-file"])
        .arg(&key)
        .arg("--path")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for (flag, value, says) in [
        (
            "--argon2-iterations",
            "64",
            "iterations must be from 1 to 10",
        ),
        (
            "--argon2-iterations",
            "11",
            "iterations must be from 1 to 10",
        ),
        ("--argon2-memory-kib", "4194304", "1 GiB"),
    ] {
        // No password anywhere: the cost is refused before one is asked for.
        let out = common::bin()
            .args(["rotate-key", "--path"])
            .arg(&db)
            .arg("--key-file")
            .arg(&key)
            .args(["--new-password", flag, value])
            .env_remove("HELIOSDB_NEW_PASSWORD")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && err.contains(flag),
            "{flag} {value}: {err}"
        );
    }
    // Still one slot, the key file's.
    let out = common::bin()
        .args(["key-status", "--path"])
        .arg(&db)
        .env_remove("HELIOSDB_ENCRYPTION_KEY")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("slot 1: key file"), "{text}");
    assert!(!text.contains("slot 2"), "{text}");
}

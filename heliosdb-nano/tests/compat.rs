//! Backward compatibility: a database written by format version 1 (checked
//! in under `tests/fixtures/format-v1`, key in `tests/fixtures/format-v1-key.hex`)
//! must keep opening, verifying and reading back what it holds.
//!
//! Regenerate (only when a new format version is introduced, as a new
//! fixture beside this one): `cargo test --release -p heliosdb-nano --test
//! compat -- --ignored write_format_v1_fixture`.

mod common;

use std::path::{Path, PathBuf};

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, DataType, Schema, Tuple, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn contents(s: &StorageEngine) -> (Vec<Tuple>, Option<Vec<u8>>) {
    (s.scan_table("accounts").unwrap(), s.get(b"format").unwrap())
}

fn expected() -> Vec<Tuple> {
    (1..=20)
        .map(|i| {
            Tuple::new(vec![
                Value::Int4(i),
                Value::String(format!("owner {i}")),
                Value::Float8(f64::from(i) * 10.5),
            ])
        })
        .collect()
}

#[test]
fn format_v1_fixture_opens_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    copy_dir(&fixtures().join("format-v1"), &db);
    let key = common::key_file(
        dir.path(),
        "k.key",
        &std::fs::read(fixtures().join("format-v1-key.hex")).unwrap(),
        0o400,
    );
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    assert!(s.verify().unwrap().is_ok());
    let (rows, kv) = contents(&s);
    assert_eq!(rows, expected());
    assert_eq!(kv.as_deref(), Some(&b"v1"[..]));
    assert_eq!(
        s.find_by("accounts", "owner", &Value::String("owner 7".into()))
            .unwrap()
            .len(),
        1
    );
    // And it keeps working: writes, a rotation.
    s.insert_tuple(
        "accounts",
        Tuple::new(vec![
            Value::Int4(21),
            Value::String("new".into()),
            Value::Float8(0.0),
        ]),
    )
    .unwrap();
    s.rotate_data_key().unwrap();
    assert!(s
        .wait_for_rotation(std::time::Duration::from_secs(60), |_| {})
        .unwrap());
    assert_eq!(s.scan_table("accounts").unwrap().len(), 21);
}

#[test]
#[ignore = "writes the checked-in fixture; run by hand only for a new format version"]
fn write_format_v1_fixture() {
    let out = fixtures().join("format-v1");
    assert!(
        !out.exists(),
        "{} exists: fixtures are never rewritten",
        out.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_B.as_bytes(), 0o400);
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
        s.catalog()
            .create_table(
                "accounts",
                Schema::new(vec![
                    Column::new("id", DataType::Int4).primary_key(),
                    Column::new("owner", DataType::Text),
                    Column::new("balance", DataType::Float8),
                ]),
            )
            .unwrap();
        s.catalog().create_index("accounts", "owner").unwrap();
        s.insert_batch("accounts", expected()).unwrap();
        s.put(b"format", b"v1").unwrap();
        s.flush().unwrap();
    }
    std::fs::create_dir_all(&out).unwrap();
    for e in std::fs::read_dir(&db).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        // RocksDB's text LOG files name machine paths and are not needed to open.
        if name == "LOG" || name.starts_with("LOG.old") || name == "LOCK" {
            continue;
        }
        std::fs::copy(e.path(), out.join(&name)).unwrap();
    }
    std::fs::write(fixtures().join("format-v1-key.hex"), common::KEY_B).unwrap();
}

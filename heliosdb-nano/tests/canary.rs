//! Canary scan: distinctive strings in every kind of user data (table and
//! column names, text values, primary keys, indexed values, key-value keys and
//! values), then every byte of every file under the data directory is read.
//! Encrypted: zero hits. Unencrypted: the same scan finds them (so the test
//! can fail).

mod common;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Schema, Tuple, Value};

const CANARIES: &[&str] = &[
    "CanaryTableZebra",
    "canary_column_quokka",
    "canary_pk_axolotl",
    "canary text pangolin",
    "canary_indexed_narwhal",
    "canary-kv-key-okapi",
    "canary kv value tapir",
];

fn write_canaries(storage: &StorageEngine) -> heliosdb_nano::Result<()> {
    storage.catalog().create_table(
        "CanaryTableZebra",
        Schema::new(vec![
            Column::new("canary_column_quokka", DataType::Text).primary_key(),
            Column::new("body", DataType::Text),
            Column::new("tag", DataType::Text),
            Column::new("n", DataType::Int8),
        ]),
    )?;
    storage.catalog().create_index("CanaryTableZebra", "tag")?;
    for i in 0..200 {
        storage.insert_tuple(
            "CanaryTableZebra",
            Tuple::new(vec![
                Value::String(format!("canary_pk_axolotl{i}")),
                Value::String(format!("canary text pangolin {i}")),
                Value::String("canary_indexed_narwhal".into()),
                Value::Int8(i),
            ]),
        )?;
    }
    storage.put(b"canary-kv-key-okapi", b"canary kv value tapir")?;
    // Updates and deletes leave old versions in WAL/SSTs until compaction: those must be sealed too.
    storage.update_tuple(
        "CanaryTableZebra",
        Tuple::new(vec![
            Value::String("canary_pk_axolotl1".into()),
            Value::String("canary text pangolin updated".into()),
            Value::String("canary_indexed_narwhal".into()),
            Value::Int8(-1),
        ]),
    )?;
    storage.delete_by_pk(
        "CanaryTableZebra",
        &Value::String("canary_pk_axolotl2".into()),
    )?;
    assert_eq!(
        storage
            .find_by(
                "CanaryTableZebra",
                "tag",
                &Value::String("canary_indexed_narwhal".into())
            )?
            .len(),
        199
    );
    Ok(())
}

fn run(config: &Config, flush: bool) -> Vec<(String, std::path::PathBuf)> {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    {
        let storage = StorageEngine::open(&db, config).unwrap();
        write_canaries(&storage).unwrap();
        if flush {
            storage.flush().unwrap();
        }
    }
    let needles: Vec<&[u8]> = CANARIES.iter().map(|c| c.as_bytes()).collect();
    let files = common::files_under(&db);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "CURRENT"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("MANIFEST")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("OPTIONS")), "{names:?}");
    assert!(names.iter().any(|n| n == "LOG"), "{names:?}");
    if flush {
        assert!(names.iter().any(|n| n.ends_with(".sst")), "{names:?}");
    } else {
        assert!(
            names.iter().any(|n| n.ends_with(".log") && n != "LOG"),
            "{names:?}"
        );
    }
    common::find_in_files(&db, &needles)
}

#[test]
fn encrypted_database_files_hold_no_canary() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let config = common::file_config(&key);
    // Once with data still in the WAL, once flushed into SST files.
    for flush in [false, true] {
        let hits = run(&config, flush);
        assert!(
            hits.is_empty(),
            "plaintext on disk (flush={flush}): {hits:?}"
        );
    }
}

#[test]
fn unencrypted_database_files_show_the_canaries() {
    for flush in [false, true] {
        let hits = run(&Config::default(), flush);
        let found: std::collections::BTreeSet<&str> =
            hits.iter().map(|(c, _)| c.as_str()).collect();
        for c in CANARIES {
            assert!(
                found.contains(c),
                "canary {c} not found in a plaintext database (flush={flush})"
            );
        }
    }
}

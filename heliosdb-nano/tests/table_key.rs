//! Crypto-shredding: a table with its own key. Its records are sealed under
//! that key, rotation of the shared data key leaves them there, and dropping
//! the table destroys the key so that copies of its ciphertext (an old
//! backup's files, say) can no longer be opened with this database's keys.

mod common;

use std::time::Duration;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, DataType, Schema, Tuple, Value};

#[test]
fn own_key_tables_are_shredded_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    let schema = || {
        Schema::new(vec![
            Column::new("id", DataType::Int4).primary_key(),
            Column::new("v", DataType::Text),
        ])
    };
    s.catalog()
        .create_table_with_own_key("gdpr_user_42", schema())
        .unwrap();
    s.catalog().create_index("gdpr_user_42", "v").unwrap();
    s.catalog().create_table("shared", schema()).unwrap();
    for t in ["gdpr_user_42", "shared"] {
        s.insert_batch(
            t,
            (0..50)
                .map(|i| Tuple::new(vec![Value::Int4(i), Value::String(format!("{t} {i}"))]))
                .collect(),
        )
        .unwrap();
    }
    let status = s.encryption_status().unwrap();
    let table_key = status
        .deks
        .iter()
        .find(|d| d.purpose == "table")
        .expect("a table key")
        .id;
    assert_ne!(table_key, status.active_dek_id);
    // 50 rows + 50 index entries under the table key.
    assert_eq!(
        status
            .deks
            .iter()
            .find(|d| d.id == table_key)
            .unwrap()
            .records,
        100
    );
    assert_eq!(status.active_dek_percent, 100.0);

    // Rotation of the shared key leaves the table's records under its own key.
    s.rotate_data_key().unwrap();
    assert!(s
        .wait_for_rotation(Duration::from_secs(60), |_| {})
        .unwrap());
    let status = s.encryption_status().unwrap();
    assert_eq!(
        status
            .deks
            .iter()
            .find(|d| d.id == table_key)
            .unwrap()
            .records,
        100
    );
    assert_eq!(
        s.find_by("gdpr_user_42", "v", &Value::String("gdpr_user_42 7".into()))
            .unwrap()
            .len(),
        1
    );

    // A copy of the files taken before the drop (the attacker's or an old backup's view).
    s.backup(dir.path().join("before-drop")).unwrap();
    s.catalog().drop_table("gdpr_user_42").unwrap();
    assert!(
        s.encryption_status()
            .unwrap()
            .deks
            .iter()
            .all(|d| d.id != table_key),
        "key still in the keyring"
    );
    assert_eq!(s.scan_table("shared").unwrap().len(), 50);
    drop(s);

    // Graft the old table's ciphertext into the current database: without the
    // key it cannot be opened — verify reports unknown-key records.
    let old_rows = {
        heliosdb_nano::storage::restore(dir.path().join("before-drop"), dir.path().join("old"))
            .unwrap();
        let old = StorageEngine::open(dir.path().join("old"), &common::file_config(&key)).unwrap();
        assert_eq!(
            old.scan_table("gdpr_user_42").unwrap().len(),
            50,
            "the backup kept its own keyring"
        );
        old.db.entries("rows").unwrap()
    };
    common::with_raw_db(&db, &common::file_config(&key), |raw| {
        let cf = raw.cf_handle("rows").unwrap();
        for (k, v) in &old_rows {
            if u32::from_be_bytes(v[1..5].try_into().unwrap()) == table_key {
                raw.put_cf(cf, k, v).unwrap();
            }
        }
    });
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    let report = s.verify().unwrap();
    assert_eq!(report.failure_count, 50);
    assert!(
        report.failures[0]
            .error
            .contains(&format!("unknown data key {table_key}")),
        "{:?}",
        report.failures[0]
    );
}

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

/// The recovery an attacker holding the KEK and a copy of every file of the
/// data directory (after `DROP TABLE` of an own-key table) would run: look
/// for any keyring encoding in the files — decrypted through the file layer
/// where there is one, since the KEK unlocks the file keys — unlock it with
/// the KEK, and see whether it still holds the dropped table's key.
fn recoverable_table_key(db: &std::path::Path, cfg: &heliosdb_nano::Config, key_id: u32) -> bool {
    use heliosdb_nano::keys::{block_on, DekId, KeyManager, Keyring};
    let source = KeyManager::from_config(&cfg.encryption.key_source, &cfg.encryption.kms)
        .unwrap()
        .key_source();
    let mut files = heliosdb_core::testing::decrypted_files(db, cfg).unwrap();
    // The keyring file itself (format 2): the attacker reads it too.
    if let Ok(bytes) = std::fs::read(db.join("heliosdb.keyring")) {
        files.push((db.join("heliosdb.keyring"), bytes));
    }
    for (_, bytes) in files {
        let mut at = 0;
        while let Some(pos) = bytes[at..].windows(4).position(|w| w == b"HDBK") {
            let start = at + pos;
            at = start + 4;
            let Some(len) = bytes.get(start + 8..start + 12) else {
                continue;
            };
            let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
            let Some(candidate) = bytes.get(start..start + 12 + len + 32) else {
                continue;
            };
            let Ok(ring) = Keyring::decode(candidate) else {
                continue;
            };
            if ring.dek(DekId(key_id)).is_none() {
                continue;
            }
            if let Ok(unlocked) = block_on(ring.unlock(source.as_ref())) {
                if unlocked.key(DekId(key_id)).is_some() {
                    return true;
                }
            }
        }
    }
    false
}

/// Crypto-shredding against a KEK holder with every current file: in
/// format 1 the keyring is a RocksDB record, so its older versions (still
/// holding the dropped table's key) survive in SST files until compaction
/// and the recovery works — the weakness the format-2 keyring file removes:
/// it is replaced whole, and RocksDB's files never hold a keyring.
#[test]
fn a_kek_holder_with_every_file_cannot_recover_a_dropped_tables_key_in_format_2() {
    for layout in [
        heliosdb_nano::config::RecordKeys::Blind,
        heliosdb_nano::config::RecordKeys::Ordered,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
        let db = dir.path().join("db");
        let mut cfg = common::file_config(&key);
        cfg.storage.record_keys = layout;
        let s = StorageEngine::open(&db, &cfg).unwrap();
        s.catalog()
            .create_table_with_own_key(
                "gdpr",
                Schema::new(vec![
                    Column::new("id", DataType::Int4).primary_key(),
                    Column::new("v", DataType::Text),
                ]),
            )
            .unwrap();
        s.insert_batch(
            "gdpr",
            (0..20)
                .map(|i| Tuple::new(vec![Value::Int4(i), Value::String(format!("row {i}"))]))
                .collect(),
        )
        .unwrap();
        let table_key = s
            .encryption_status()
            .unwrap()
            .deks
            .iter()
            .find(|d| d.purpose == "table")
            .unwrap()
            .id;
        // Everything, the keyring included, reaches SST files.
        s.flush().unwrap();
        assert!(
            recoverable_table_key(&db, &cfg, table_key),
            "{layout:?}: the recovery must work while the table exists (the check can fail)"
        );
        s.catalog().drop_table("gdpr").unwrap();
        s.flush().unwrap();
        drop(s);
        let recovered = recoverable_table_key(&db, &cfg, table_key);
        match layout {
            heliosdb_nano::config::RecordKeys::Blind => assert!(
                recovered,
                "format 1 keeps old keyring versions in SST files until compaction"
            ),
            heliosdb_nano::config::RecordKeys::Ordered => {
                assert!(!recovered, "format 2: the dropped table's key is gone")
            }
        }
    }
}

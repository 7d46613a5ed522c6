//! The per-data-key nonce budget: with a tiny budget, writes go on across
//! automatic data-key changes, every value stays readable (also after
//! reopening), and no key seals more values than its budget.

mod common;

use heliosdb_nano::storage::StorageEngine;

#[test]
fn writes_continue_across_automatic_data_key_changes() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let mut config = common::file_config(&key);
    config.encryption.nonce_budget = Some(10);
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &config).unwrap();
        for i in 0..95u32 {
            s.put(format!("k{i:03}").as_bytes(), &i.to_be_bytes())
                .unwrap();
        }
        let info = s.key_info().unwrap();
        let data_keys: Vec<_> = info.deks.iter().filter(|d| d.1 == "data").collect();
        assert!(
            data_keys.len() >= 10,
            "expected ≥ 10 data keys for 95 seals at budget 10: {data_keys:?}"
        );
        assert_eq!(data_keys.iter().filter(|d| d.2 == "active").count(), 1);
    }
    // Reopen: a reopened key never reuses counts (reservations are persisted).
    let s = StorageEngine::open(&db, &config).unwrap();
    for i in 95..120u32 {
        s.put(format!("k{i:03}").as_bytes(), &i.to_be_bytes())
            .unwrap();
    }
    for i in 0..120u32 {
        assert_eq!(
            s.get(format!("k{i:03}").as_bytes()).unwrap().unwrap(),
            i.to_be_bytes()
        );
    }
    let report = s.verify().unwrap();
    assert!(report.is_ok());
    assert!(
        report.records_per_dek.values().all(|&n| n <= 10),
        "{:?}",
        report.records_per_dek
    );
    assert!(
        report.records_per_dek.len() >= 12,
        "{:?}",
        report.records_per_dek
    );
}

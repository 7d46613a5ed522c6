//! Transactions: rolled-back writes leave no trace, committed batches are
//! all-or-nothing, uncommitted writes are invisible to other threads, and a
//! write conflict aborts the whole transaction.

mod common;

use std::sync::Arc;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Error, Schema, Tuple, Value};

fn engine(dir: &std::path::Path) -> StorageEngine {
    let key = common::key_file(dir, "k.key", common::KEY_A.as_bytes(), 0o400);
    let s = StorageEngine::open(dir.join("db"), &common::file_config(&key)).unwrap();
    s.catalog()
        .create_table(
            "acct",
            Schema::new(vec![
                Column::new("id", DataType::Int8).primary_key(),
                Column::new("bal", DataType::Int8),
            ]),
        )
        .unwrap();
    s.catalog().create_index("acct", "bal").unwrap();
    s
}

fn row(id: i64, bal: i64) -> Tuple {
    Tuple::new(vec![Value::Int8(id), Value::Int8(bal)])
}

#[test]
fn rollback_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let s = engine(dir.path());
    s.insert_tuple("acct", row(1, 100)).unwrap();
    let raw_before = s.db.entries("rows").unwrap();
    s.begin_transaction().unwrap();
    s.insert_tuple("acct", row(2, 200)).unwrap();
    s.update_tuple("acct", row(1, 1)).unwrap();
    s.put(b"k", b"v").unwrap();
    // Read-your-writes inside the transaction.
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 1), row(2, 200)]);
    assert_eq!(s.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(
        s.find_by("acct", "bal", &Value::Int8(200)).unwrap(),
        vec![row(2, 200)]
    );
    s.rollback().unwrap();
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 100)]);
    assert_eq!(s.get(b"k").unwrap(), None);
    assert!(s
        .find_by("acct", "bal", &Value::Int8(200))
        .unwrap()
        .is_empty());
    assert_eq!(
        s.db.entries("rows").unwrap(),
        raw_before,
        "rollback changed stored bytes"
    );
    assert!(matches!(s.commit(), Err(Error::Transaction(_))));
}

#[test]
fn committed_batch_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = engine(dir.path());
    s.insert_tuple("acct", row(5, 1)).unwrap();
    // A batch with a duplicate key in the middle inserts nothing.
    let err = s
        .insert_batch("acct", vec![row(1, 1), row(2, 2), row(5, 5), row(6, 6)])
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateKey { .. }), "{err}");
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(5, 1)]);
    // A batch whose schema check fails half way inserts nothing either.
    let bad = Tuple::new(vec![Value::Int8(9), Value::String("x".into())]);
    assert!(s.insert_batch("acct", vec![row(7, 7), bad]).is_err());
    assert_eq!(s.scan_table("acct").unwrap().len(), 1);
    // A committed transaction lands whole, and survives reopening.
    s.begin_transaction().unwrap();
    for i in 10..60 {
        s.insert_tuple("acct", row(i, i * 10)).unwrap();
    }
    s.commit().unwrap();
    drop(s);
    let key = dir.path().join("k.key");
    let s = StorageEngine::open(dir.path().join("db"), &common::file_config(&key)).unwrap();
    assert_eq!(s.scan_table("acct").unwrap().len(), 51);
    assert_eq!(
        s.find_by("acct", "bal", &Value::Int8(250)).unwrap(),
        vec![row(25, 250)]
    );
}

#[test]
fn uncommitted_writes_are_invisible_to_other_threads() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.insert_tuple("acct", row(1, 100)).unwrap();
    s.begin_transaction().unwrap();
    s.update_tuple("acct", row(1, 0)).unwrap();
    s.insert_tuple("acct", row(2, 100)).unwrap();
    let other = Arc::clone(&s);
    let seen =
        std::thread::spawn(move || (other.scan_table("acct").unwrap(), other.in_transaction()))
            .join()
            .unwrap();
    assert_eq!(seen.0, vec![row(1, 100)]);
    assert!(!seen.1);
    s.commit().unwrap();
    let other = Arc::clone(&s);
    let seen = std::thread::spawn(move || other.scan_table("acct").unwrap())
        .join()
        .unwrap();
    assert_eq!(seen, vec![row(1, 0), row(2, 100)]);
}

#[test]
fn write_conflict_aborts_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.insert_tuple("acct", row(1, 100)).unwrap();
    s.begin_transaction().unwrap();
    let cur = s.get_by_pk("acct", &Value::Int8(1)).unwrap().unwrap();
    let Value::Int8(bal) = cur.values[1] else {
        panic!()
    };
    s.update_tuple("acct", row(1, bal - 30)).unwrap();
    s.insert_tuple("acct", row(3, 30)).unwrap();
    // Another thread changes the same row and commits first.
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.update_tuple("acct", row(1, 500)).unwrap())
        .join()
        .unwrap();
    let err = s.commit().unwrap_err();
    assert!(err.to_string().contains("write conflict"), "{err}");
    // Nothing of the transaction landed: no lost update, no half transaction.
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 500)]);
    // Two transactions inserting the same key: the second commit fails.
    s.begin_transaction().unwrap();
    s.insert_tuple("acct", row(7, 7)).unwrap();
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.insert_tuple("acct", row(7, 8)).unwrap())
        .join()
        .unwrap();
    assert!(s.commit().is_err());
    assert_eq!(
        s.get_by_pk("acct", &Value::Int8(7)).unwrap(),
        Some(row(7, 8))
    );
}

#[test]
fn concurrent_writers_lose_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..250 {
                    let id = t * 1000 + i;
                    if i % 2 == 0 {
                        s.begin_transaction().unwrap();
                        s.insert_tuple("acct", row(id, id)).unwrap();
                        s.put(format!("k{id}").as_bytes(), b"x").unwrap();
                        s.commit().unwrap();
                    } else {
                        s.insert_tuple("acct", row(id, id)).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.scan_table("acct").unwrap().len(), 1000);
    assert_eq!(s.scan_prefix(b"k").unwrap().len(), 500);
    assert!(s.verify().unwrap().is_ok());
    let _ = Config::default();
}

//! The power-loss simulation itself (`EncryptedEnv::with_power_loss`), on a
//! plain RocksDB: what a sync covered survives, what none covered is gone,
//! and files written through the fault layer still decrypt (the keystream
//! offsets of appends held in memory are right).

mod common;

use std::sync::Arc;

use heliosdb_fileenc::{EncryptedEnv, FileKeys, MemoryFileKeys};
use rocksdb::{WriteOptions, DB};

fn synced() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
}

fn value(i: u32) -> Vec<u8> {
    format!("value {i} {}", "v".repeat((i * 13 % 300) as usize)).into_bytes()
}

#[test]
fn synced_writes_survive_and_unsynced_ones_are_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let keys = Arc::new(MemoryFileKeys::new(1, common::key(7)));
    let (env, power) = EncryptedEnv::with_power_loss(keys.clone()).unwrap();
    let mut opts = env.options().unwrap();
    opts.create_if_missing(true);
    let db = DB::open(&opts, &path).unwrap();
    // Unsynced appends followed by a synced one: the sync covers them all,
    // and they must decrypt (each was encrypted at its true offset although
    // none had reached the disk when the next one was written).
    for i in 0..200 {
        let w = if i % 50 == 49 {
            synced()
        } else {
            WriteOptions::default()
        };
        db.put_opt(format!("synced {i:04}"), value(i), &w).unwrap();
    }
    // Never synced.
    for i in 0..100 {
        db.put(format!("unsynced {i:04}"), value(i)).unwrap();
    }
    power.cut();
    assert!(
        db.put_opt(b"after the cut", b"x", &synced()).is_err(),
        "a synced write succeeded with the power off"
    );
    drop(db);
    drop(env);
    power.restore().unwrap();

    // Every file left behind decrypts, and an ordinary env opens them.
    for f in common::files(&path) {
        heliosdb_fileenc::decrypt_file(keys.as_ref() as &dyn FileKeys, &f)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    let env = EncryptedEnv::new(keys).unwrap();
    let db = DB::open(&env.options().unwrap(), &path).unwrap();
    for i in 0..200 {
        assert_eq!(
            db.get(format!("synced {i:04}")).unwrap(),
            Some(value(i)),
            "synced record {i}"
        );
    }
    let survivors = (0..100)
        .filter(|i| db.get(format!("unsynced {i:04}")).unwrap().is_some())
        .count();
    assert_eq!(survivors, 0, "unsynced records survived the power loss");
    assert_eq!(db.get(b"after the cut").unwrap(), None);
    drop(db);
}

#[test]
fn restore_refuses_when_the_power_was_not_cut() {
    let keys = Arc::new(MemoryFileKeys::new(1, common::key(7)));
    let (_env, power) = EncryptedEnv::with_power_loss(keys).unwrap();
    let err = power.restore().unwrap_err();
    assert!(err.to_string().contains("not cut"), "{err}");
}

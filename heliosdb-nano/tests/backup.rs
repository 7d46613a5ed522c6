//! Backup and restore (same key, new key, tarball, consistency under
//! concurrent writers, damaged input) and secure delete.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, DataType, Schema, Tuple, Value};

fn table(s: &StorageEngine) {
    s.catalog()
        .create_table(
            "t",
            Schema::new(vec![
                Column::new("id", DataType::Int8).primary_key(),
                Column::new("txn", DataType::Int8),
                Column::new("v", DataType::Text),
            ]),
        )
        .unwrap();
}

fn row(id: i64, txn: i64) -> Tuple {
    Tuple::new(vec![
        Value::Int8(id),
        Value::Int8(txn),
        Value::String(format!("value {id}")),
    ])
}

#[test]
fn backup_and_restore_same_key_new_key_and_tarball() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    let new_key = common::key_file(dir.path(), "b.key", common::KEY_B.as_bytes(), 0o400);
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
        table(&s);
        s.insert_batch("t", (0..500).map(|i| row(i, 0)).collect())
            .unwrap();
        s.put(b"kv", b"backup me").unwrap();
    }
    for name in ["b1", "b2.tar.gz"] {
        let out = common::bin()
            .args(["backup", "--input"])
            .arg(&db)
            .arg("--output")
            .arg(dir.path().join(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The backup is still ciphertext.
        if !name.ends_with(".gz") {
            let hits = common::find_in_files(
                &dir.path().join(name),
                // Needles long enough not to occur by chance in
                // kilobytes of ciphertext (a 3-byte one would, ~6 % per MB).
                &[b"value 1", b"backup me", b"\"name\":\"t\""],
            );
            assert!(hits.is_empty(), "{hits:?}");
        }
        // Restore with the same key and check every row.
        let target = dir.path().join(format!("restored-{name}"));
        let out = common::bin()
            .args(["restore", "--input"])
            .arg(dir.path().join(name))
            .arg("--output")
            .arg(&target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = StorageEngine::open(&target, &common::file_config(&key)).unwrap();
        let rows = s.scan_table("t").unwrap();
        assert_eq!(rows, (0..500).map(|i| row(i, 0)).collect::<Vec<_>>());
        assert_eq!(s.get(b"kv").unwrap().unwrap(), b"backup me");
        assert!(s.verify().unwrap().is_ok());
    }
    // Restore with re-keying: only the new key opens the restored copy.
    let target = dir.path().join("rekeyed");
    let out = common::bin()
        .args(["restore", "--input"])
        .arg(dir.path().join("b2.tar.gz"))
        .arg("--output")
        .arg(&target)
        .arg("--new-key-file")
        .arg(&new_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(StorageEngine::open(&target, &common::file_config(&key)).is_err());
    let s = StorageEngine::open(&target, &common::file_config(&new_key)).unwrap();
    assert_eq!(s.scan_table("t").unwrap().len(), 500);
    // Refuses to overwrite.
    let out = common::bin()
        .args(["restore", "--input"])
        .arg(dir.path().join("b1"))
        .arg("--output")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn backup_taken_while_writers_run_holds_whole_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    let s =
        Arc::new(StorageEngine::open(dir.path().join("db"), &common::file_config(&key)).unwrap());
    table(&s);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2i64)
        .map(|w| {
            let (s, stop) = (Arc::clone(&s), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut txn = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    let id = w * 1_000_000 + txn;
                    s.begin_transaction().unwrap();
                    for k in 0..10 {
                        s.insert_tuple("t", row(id * 10 + k, id)).unwrap();
                    }
                    s.commit().unwrap();
                    txn += 1;
                }
                txn
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(150));
    s.backup(dir.path().join("snap.tar.gz")).unwrap();
    s.backup(dir.path().join("snap-dir")).unwrap();
    stop.store(true, Ordering::Relaxed);
    let done: i64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(done > 10, "writers made no progress: {done}");
    for b in ["snap.tar.gz", "snap-dir"] {
        let target = dir.path().join(format!("r-{b}"));
        heliosdb_nano::storage::restore(dir.path().join(b), &target).unwrap();
        let r = StorageEngine::open(&target, &common::file_config(&key)).unwrap();
        let mut per_txn = std::collections::HashMap::<i64, usize>::new();
        for t in r.scan_table("t").unwrap() {
            let Value::Int8(txn) = t.values[1] else {
                panic!()
            };
            *per_txn.entry(txn).or_default() += 1;
        }
        assert!(!per_txn.is_empty());
        assert!(
            per_txn.values().all(|&n| n == 10),
            "a transaction was cut in half in {b}"
        );
    }
}

#[test]
fn damaged_backups_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    {
        let s = StorageEngine::open(dir.path().join("db"), &common::file_config(&key)).unwrap();
        table(&s);
        s.insert_batch("t", (0..2000).map(|i| row(i, 0)).collect())
            .unwrap();
        s.backup(dir.path().join("ok.tar.gz")).unwrap();
    }
    let bytes = std::fs::read(dir.path().join("ok.tar.gz")).unwrap();
    std::fs::write(dir.path().join("trunc.tar.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    std::fs::write(dir.path().join("flip.tar.gz"), &flipped).unwrap();
    std::fs::write(dir.path().join("junk.tar.gz"), b"not a tarball at all").unwrap();
    for name in ["trunc.tar.gz", "flip.tar.gz", "junk.tar.gz"] {
        let target = dir.path().join(format!("r-{name}"));
        let out = common::bin()
            .args(["restore", "--input"])
            .arg(dir.path().join(name))
            .arg("--output")
            .arg(&target)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} restored: {err}");
        assert!(err.contains("error:"), "{name}: {err}");
        assert!(
            !target.exists(),
            "{name}: a half-restored database was left behind"
        );
    }
}

fn sealed_row_fingerprint(s: &StorageEngine, marker: &Value) -> Vec<u8> {
    // The stored envelope of the row whose primary key is `marker`: find it
    // by decrypting each row and matching the raw entry order.
    let raw = s.db.entries("rows").unwrap();
    let rows = raw.len();
    assert!(rows > 0);
    let before = s.db.entries("rows").unwrap();
    s.delete_by_pk("t", marker).unwrap();
    let after: std::collections::HashSet<Vec<u8>> =
        s.db.entries("rows")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
    let (_, v) = before
        .into_iter()
        .find(|(k, _)| !after.contains(k))
        .expect("the deleted row's entry");
    v[5..37].to_vec() // nonce and the first ciphertext bytes
}

#[test]
fn secure_delete_removes_the_deleted_rows_ciphertext_from_every_file() {
    for secure in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let key = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
        let mut cfg = common::file_config(&key);
        cfg.storage.secure_delete = secure;
        let db = dir.path().join("db");
        let fingerprint = {
            let s = StorageEngine::open(&db, &cfg).unwrap();
            table(&s);
            s.insert_batch("t", (0..300).map(|i| row(i, 0)).collect())
                .unwrap();
            s.flush().unwrap(); // the row is in an SST file now
            sealed_row_fingerprint(&s, &Value::Int8(42))
        };
        let found = common::find_in_decrypted_files(&db, &cfg, &[&fingerprint]);
        if secure {
            assert!(
                found.is_empty(),
                "deleted ciphertext still on disk: {found:?}"
            );
        } else {
            assert!(!found.is_empty(), "without secure_delete the old ciphertext should still be there (the test must be able to fail)");
        }
        let s = StorageEngine::open(&db, &cfg).unwrap();
        assert_eq!(s.scan_table("t").unwrap().len(), 299);
    }
}

/// UPDATE under secure_delete scrubs the row's old version as well: its
/// envelope leaves every file, and the new value reads back.
#[test]
fn secure_delete_also_scrubs_the_old_version_of_an_updated_row() {
    for secure in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let key = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
        let mut cfg = common::file_config(&key);
        cfg.storage.secure_delete = secure;
        let db = dir.path().join("db");
        let old_version = {
            let s = StorageEngine::open(&db, &cfg).unwrap();
            table(&s);
            s.insert_batch("t", (0..300).map(|i| row(i, 0)).collect())
                .unwrap();
            s.flush().unwrap();
            let before: std::collections::HashMap<Vec<u8>, Vec<u8>> =
                s.db.entries("rows").unwrap().into_iter().collect();
            assert!(s.update_tuple("t", row(42, 7)).unwrap());
            let (_, old) =
                s.db.entries("rows")
                    .unwrap()
                    .into_iter()
                    .find_map(|(k, v)| before.get(&k).filter(|o| **o != v).map(|o| (k, o.clone())))
                    .expect("the updated row's entry changed");
            old[5..37].to_vec()
        };
        let found = common::find_in_decrypted_files(&db, &cfg, &[&old_version]);
        if secure {
            assert!(found.is_empty(), "old version still on disk: {found:?}");
        } else {
            assert!(
                !found.is_empty(),
                "without secure_delete the old version should still be there"
            );
        }
        let s = StorageEngine::open(&db, &cfg).unwrap();
        assert_eq!(
            s.get_by_pk("t", &Value::Int8(42)).unwrap(),
            Some(row(42, 7))
        );
    }
}

/// Modes of everything under `root` that are not private to the owner
/// (directories other than 0700, files other than 0600).
fn not_private(root: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut bad = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            if mode != 0o700 {
                bad.push(format!("{} {mode:03o}", p.display()));
            }
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else if mode != 0o600 {
            bad.push(format!("{} {mode:03o}", p.display()));
        }
    }
    bad
}

#[test]
fn backups_and_restores_are_private_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    s.put(b"kv", b"private").unwrap();
    // The library: a directory and a tarball.
    let lib_dir = dir.path().join("lib-backup");
    let lib_tar = dir.path().join("lib-backup.tar.gz");
    s.backup(&lib_dir).unwrap();
    s.backup(&lib_tar).unwrap();
    drop(s);
    // The command line: the same two.
    for name in ["cli-backup", "cli-backup.tar.gz"] {
        let out = common::bin()
            .args(["backup", "--input"])
            .arg(&db)
            .arg("--output")
            .arg(dir.path().join(name))
            .arg("--key-file")
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    for b in [
        "lib-backup",
        "lib-backup.tar.gz",
        "cli-backup",
        "cli-backup.tar.gz",
    ] {
        let p = dir.path().join(b);
        let bad = not_private(&p);
        assert!(bad.is_empty(), "{b}: not private: {bad:?}");
    }
    // No staging or partial files left beside them.
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A restore is private whatever the backup's modes were.
    use std::os::unix::fs::PermissionsExt;
    let old_style = dir.path().join("cli-backup");
    std::fs::set_permissions(&old_style, std::fs::Permissions::from_mode(0o755)).unwrap();
    for e in std::fs::read_dir(&old_style).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    for (from, to) in [("cli-backup", "r1"), ("lib-backup.tar.gz", "r2")] {
        heliosdb_nano::storage::restore(dir.path().join(from), dir.path().join(to)).unwrap();
        let bad = not_private(&dir.path().join(to));
        assert!(bad.is_empty(), "restored {to}: not private: {bad:?}");
    }
    let s = StorageEngine::open(dir.path().join("r1"), &common::file_config(&key)).unwrap();
    assert_eq!(s.get(b"kv").unwrap().unwrap(), b"private");
}

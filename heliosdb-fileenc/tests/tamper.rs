//! Wrong keys, foreign files, truncation and flipped bytes: each is an error
//! (never a panic) and never a wrong value returned as if it were right.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use heliosdb_fileenc::{EncryptedEnv, MemoryFileKeys, PREFIX_LEN};
use rocksdb::{Options, DB};

const ROWS: usize = 2000;

fn k(i: usize) -> Vec<u8> {
    format!("key-{i:06}").into_bytes()
}
fn v(i: usize) -> Vec<u8> {
    format!("value-{i:06}-{}", "v".repeat(i % 50)).into_bytes()
}

/// A database with `ROWS` rows in one SST, written under key `byte` as id 1.
fn make_db(dir: &Path, byte: u8) {
    let (_keys, env) = env_with(1, byte);
    let mut opts = env.options().unwrap();
    opts.create_if_missing(true);
    let db = DB::open(&opts, dir).unwrap();
    for i in 0..ROWS {
        db.put(k(i), v(i)).unwrap();
    }
    db.flush().unwrap();
    db.compact_range(None::<&[u8]>, None::<&[u8]>);
    drop(db);
}

fn open_err(env: &EncryptedEnv, dir: &Path) -> String {
    let opts = env.options().unwrap();
    match DB::open(&opts, dir) {
        Ok(_) => panic!("database opened"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn wrong_key_with_the_same_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    make_db(dir.path(), 0x21);
    let (_keys, env) = env_with(1, 0x22);
    let err = open_err(&env, dir.path());
    assert!(
        err.contains("header check failed for file key id 1"),
        "{err}"
    );
    assert!(err.contains("Corruption"), "{err}");
}

#[test]
fn unknown_key_id_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    make_db(dir.path(), 0x21);
    let (_keys, env) = env_with(7, 0x21);
    let err = open_err(&env, dir.path());
    assert!(err.contains("file key id 1 is not in the keyring"), "{err}");
    assert!(err.contains("IO error"), "{err}");
}

#[test]
fn plaintext_database_is_refused_by_the_encrypted_env() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::default();
    opts.create_if_missing(true);
    drop(DB::open(&opts, dir.path()).unwrap());
    let (_keys, env) = env_with(1, 0x21);
    let err = open_err(&env, dir.path());
    // CURRENT (16 bytes) is read first: too short for a header.
    assert!(err.contains("CURRENT"), "{err}");
    assert!(err.contains("not written by heliosdb-fileenc"), "{err}");
    // A plaintext file long enough for a header has the wrong magic.
    let manifest = files(dir.path())
        .into_iter()
        .find(|p| name(p).starts_with("OPTIONS-"))
        .unwrap();
    let hdr = EncryptedEnv::file_key_id(&manifest)
        .unwrap_err()
        .to_string();
    assert!(
        hdr.contains("not a HeliosDB encrypted file (bad magic)"),
        "{hdr}"
    );
}

#[test]
fn current_key_must_exist() {
    let keys = std::sync::Arc::new(MemoryFileKeys::new(1, key(1)));
    struct Broken(std::sync::Arc<MemoryFileKeys>);
    impl heliosdb_fileenc::FileKeys for Broken {
        fn current(&self) -> (u32, heliosdb_crypto::SecretKey) {
            (9, key(9))
        }
        fn get(&self, id: u32) -> Option<heliosdb_crypto::SecretKey> {
            self.0.get(id)
        }
    }
    let err = EncryptedEnv::new(std::sync::Arc::new(Broken(keys))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the current file key id 9 is not in the keyring"
    );
}

/// An SST copied in from another database whose key has the same id.
#[test]
fn sst_from_another_database_is_refused() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    make_db(a.path(), 0x31);
    make_db(b.path(), 0x32);
    let sst_a = with_ext(a.path(), "sst");
    let sst_b = with_ext(b.path(), "sst");
    assert_eq!(sst_a.len(), 1);
    assert_eq!(sst_b.len(), 1);
    // Same workload, same file number: B's file takes A's name.
    fs::copy(&sst_b[0], &sst_a[0]).unwrap();

    let (_keys, env) = env_with(1, 0x31);
    let opts = env.options().unwrap();
    let err = match DB::open(&opts, a.path()) {
        Err(e) => e.to_string(),
        Ok(db) => {
            // Opened lazily: the first read of the file must fail.
            let e = db
                .get(k(1))
                .expect_err("read from a foreign SST succeeded")
                .to_string();
            drop(db);
            e
        }
    };
    assert!(err.contains("different key"), "{err}");
}

#[test]
fn truncated_prefix_is_an_error() {
    for victim in ["sst", "CURRENT", "MANIFEST"] {
        let dir = tempfile::tempdir().unwrap();
        make_db(dir.path(), 0x41);
        let path = files(dir.path())
            .into_iter()
            .find(|p| {
                let n = name(p);
                n.ends_with(victim) || n.starts_with(victim)
            })
            .unwrap();
        let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(1000).unwrap();
        drop(f);
        let (_keys, env) = env_with(1, 0x41);
        let opts = env.options().unwrap();
        let err = match DB::open(&opts, dir.path()) {
            Err(e) => e.to_string(),
            Ok(db) => {
                let e = db
                    .get(k(1))
                    .expect_err("read through a truncated file succeeded")
                    .to_string();
                drop(db);
                e
            }
        };
        assert!(!err.is_empty(), "{victim}");
        eprintln!("truncated {victim}: {err}");
        let hdr = EncryptedEnv::file_key_id(&path).unwrap_err().to_string();
        assert!(
            hdr.contains("shorter than its 4096-byte encryption header (1000 bytes)"),
            "{hdr}"
        );
    }
}

/// Opens `dir` and reads every row: each read is either an error or the
/// right value. Returns (errors, right values).
fn read_all(env: &EncryptedEnv, dir: &Path) -> Result<(usize, usize), String> {
    let opts = env.options().unwrap();
    let db = DB::open(&opts, dir).map_err(|e| e.to_string())?;
    let (mut errors, mut right) = (0, 0);
    for i in 0..ROWS {
        match db.get(k(i)) {
            Err(_) => errors += 1,
            Ok(Some(got)) => {
                assert_eq!(got, v(i), "wrong value returned for row {i}");
                right += 1;
            }
            Ok(None) => panic!("row {i} silently missing"),
        }
    }
    // A full scan, too: an error, or exactly the right rows.
    let mut it = db.raw_iterator();
    it.seek_to_first();
    let mut i = 0;
    while it.valid() {
        assert_eq!(it.key().unwrap(), &k(i)[..], "scan");
        assert_eq!(it.value().unwrap(), &v(i)[..], "scan");
        i += 1;
        it.next();
    }
    if it.status().is_ok() {
        assert_eq!(i, ROWS, "scan ended early without an error");
    }
    drop(it);
    drop(db);
    Ok((errors, right))
}

#[test]
fn flipped_sst_bytes_are_errors_not_wrong_values() {
    let pristine = tempfile::tempdir().unwrap();
    make_db(pristine.path(), 0x51);
    let sst = with_ext(pristine.path(), "sst").remove(0);
    let len = fs::metadata(&sst).unwrap().len();
    let (_keys, env) = env_with(1, 0x51);
    let mut detected = 0;
    let samples = 24u64;
    for s in 0..samples {
        // Spread over the body (data, index, filter, properties, footer).
        let at = PREFIX_LEN as u64 + (len - PREFIX_LEN as u64 - 1) * s / (samples - 1);
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        flip(&dir.path().join(name(&sst)), at, 0x04);
        match read_all(&env, dir.path()) {
            Err(_) => detected += 1,
            Ok((errors, _)) if errors > 0 => detected += 1,
            // Both reads and the scan returned only right values: the flip
            // hit bytes nothing reads. Allowed, but must be rare.
            Ok(_) => {}
        }
    }
    eprintln!("SST flips detected: {detected} of {samples}");
    assert!(
        detected >= samples as usize - 2,
        "only {detected} of {samples} flips detected"
    );
    // And the header itself: every flip there is caught by the header check.
    for at in [0u64, 9, 13, 17, 31, 40, 100, 4095] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        flip(&dir.path().join(name(&sst)), at, 0x01);
        assert!(
            read_all(&env, dir.path()).map_or(true, |(e, _)| e == ROWS),
            "header flip at {at} not caught"
        );
    }
}

#[test]
fn flipped_wal_bytes_recover_a_prefix_never_wrong_values() {
    let pristine = tempfile::tempdir().unwrap();
    {
        let (_keys, env) = env_with(1, 0x61);
        let mut opts = env.options().unwrap();
        opts.create_if_missing(true);
        let db = DB::open(&opts, pristine.path()).unwrap();
        for i in 0..ROWS {
            db.put(k(i), v(i)).unwrap();
        }
        drop(db);
    }
    let wal = with_ext(pristine.path(), "log").remove(0);
    let len = fs::metadata(&wal).unwrap().len();
    let (_keys, env) = env_with(1, 0x61);
    for s in 0..12u64 {
        let at = PREFIX_LEN as u64 + (len - PREFIX_LEN as u64 - 1) * s / 11;
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        flip(&dir.path().join(name(&wal)), at, 0x10);
        let opts = env.options().unwrap();
        let db = match DB::open(&opts, dir.path()) {
            Err(e) => {
                eprintln!("WAL flip at {at}: open refused: {e}");
                continue;
            }
            Ok(db) => db,
        };
        // Point-in-time recovery: the rows before the damaged record, each
        // with its right value, and nothing after it.
        let mut recovered = 0;
        for i in 0..ROWS {
            if let Some(got) = db.get(k(i)).unwrap() {
                assert_eq!(got, v(i), "wrong value for row {i} after WAL flip at {at}");
                assert_eq!(
                    recovered, i,
                    "row {i} recovered after a lost row (flip at {at})"
                );
                recovered += 1;
            }
        }
        assert!(recovered < ROWS, "WAL flip at {at} went unnoticed");
        eprintln!("WAL flip at {at}: recovered {recovered} of {ROWS} rows");
        drop(db);
    }
}

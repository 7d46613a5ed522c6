//! The end-to-end check of the file layer: canaries written as record keys,
//! values and a column-family name appear in no byte of any file under the
//! data directory, while the same workload without the env leaves them in
//! plain sight; and everything reads back after reopening with the keys.

mod common;

use std::path::Path;

use common::*;
use heliosdb_fileenc::{EncryptedEnv, MAGIC};
use rocksdb::{ColumnFamilyDescriptor, Options, DB};

const CFS: [&str; 3] = ["rows_CANARYCF", "index", "kv"];
const ROWS: usize = 3000;

fn cf_opts() -> Vec<ColumnFamilyDescriptor> {
    CFS.iter()
        .map(|n| ColumnFamilyDescriptor::new(*n, Options::default()))
        .collect()
}

fn row_key(cf: usize, i: usize) -> Vec<u8> {
    format!("CANARYKEY-{cf}-{i:06}").into_bytes()
}
fn row_value(cf: usize, i: usize) -> Vec<u8> {
    format!("CANARYVAL-{cf}-{i:06}-{}", "x".repeat(i % 200)).into_bytes()
}
fn wal_key(i: usize) -> Vec<u8> {
    format!("CANARYWALK-{i:04}").into_bytes()
}
fn wal_value(i: usize) -> Vec<u8> {
    format!("CANARYWALV-{i:04}").into_bytes()
}

/// Writes rows into every column family, flushes, compacts, then writes more
/// that stay in the WAL, and closes.
fn workload(mut opts: Options, dir: &Path) {
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    let db = DB::open_cf_descriptors(&opts, dir, cf_opts()).unwrap();
    for (c, name) in CFS.iter().enumerate() {
        let cf = db.cf_handle(name).unwrap();
        for i in 0..ROWS {
            db.put_cf(&cf, row_key(c, i), row_value(c, i)).unwrap();
        }
        db.flush_cf(&cf).unwrap();
        db.compact_range_cf(&cf, None::<&[u8]>, None::<&[u8]>);
    }
    db.put(b"CANARYKEY-default", b"CANARYVAL-default").unwrap();
    db.flush().unwrap();
    for i in 0..200 {
        db.put(wal_key(i), wal_value(i)).unwrap();
    }
    drop(db);
}

const NEEDLES: [&[u8]; 5] = [
    b"CANARYKEY",
    b"CANARYVAL",
    b"CANARYWALK",
    b"CANARYWALV",
    b"CANARYCF",
];

#[test]
fn no_canary_in_any_file_and_everything_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, env) = env_with(1, 0x11);
    workload(env.options().unwrap(), dir.path());

    let all = files(dir.path());
    let names: Vec<String> = all.iter().map(|p| name(p)).collect();
    // The scan covers every kind of file RocksDB writes.
    for kind in ["CURRENT", "IDENTITY", "LOG", "LOCK"] {
        assert!(names.iter().any(|n| n == kind), "no {kind} in {names:?}");
    }
    for prefix in ["MANIFEST-", "OPTIONS-"] {
        assert!(
            names.iter().any(|n| n.starts_with(prefix)),
            "no {prefix}* in {names:?}"
        );
    }
    assert!(
        !with_ext(dir.path(), "sst").is_empty(),
        "no SST in {names:?}"
    );
    assert!(
        !with_ext(dir.path(), "log").is_empty(),
        "no WAL in {names:?}"
    );

    let hits = scan(dir.path(), &NEEDLES);
    assert!(hits.is_empty(), "plaintext found: {hits:?}");

    // Every file that has content starts with our header; only LOCK is empty.
    for path in &all {
        let bytes = std::fs::read(path).unwrap();
        if bytes.is_empty() {
            assert_eq!(name(path), "LOCK");
            continue;
        }
        assert_eq!(bytes[..8], MAGIC, "{} is not encrypted", name(path));
        assert_eq!(
            EncryptedEnv::file_key_id(path).unwrap(),
            Some(1),
            "{}",
            name(path)
        );
        // The info log really went through the env: none of its usual text.
        assert_eq!(count(&bytes, b"RocksDB version"), 0, "{}", name(path));
        assert_eq!(count(&bytes, b"Options"), 0, "{}", name(path));
    }
    drop(env);

    // A new env over the same keys (as after a restart) reads it all back,
    // including the rows recovered from the WAL.
    let env = EncryptedEnv::new(keys).unwrap();
    let opts = env.options().unwrap();
    let db = DB::open_cf_descriptors(&opts, dir.path(), cf_opts()).unwrap();
    for (c, n) in CFS.iter().enumerate() {
        let cf = db.cf_handle(n).unwrap();
        for i in 0..ROWS {
            assert_eq!(
                db.get_cf(&cf, row_key(c, i)).unwrap(),
                Some(row_value(c, i))
            );
        }
        assert_eq!(
            db.iterator_cf(&cf, rocksdb::IteratorMode::Start).count(),
            ROWS
        );
    }
    assert_eq!(
        db.get(b"CANARYKEY-default").unwrap().as_deref(),
        Some(&b"CANARYVAL-default"[..])
    );
    for i in 0..200 {
        assert_eq!(db.get(wal_key(i)).unwrap(), Some(wal_value(i)));
    }
    drop(db);
    drop(env);
}

#[test]
fn control_without_the_env_leaves_canaries_in_every_kind_of_file() {
    let dir = tempfile::tempdir().unwrap();
    workload(Options::default(), dir.path());
    let hits = scan(dir.path(), &NEEDLES);
    let found = |needle: &str, file: &dyn Fn(&str) -> bool| {
        hits.iter().any(|(f, n, _)| n == needle && file(f))
    };
    assert!(found("CANARYKEY", &|f| f.ends_with(".sst")), "{hits:?}");
    assert!(found("CANARYVAL", &|f| f.ends_with(".sst")), "{hits:?}");
    assert!(found("CANARYWALK", &|f| f.ends_with(".log")), "{hits:?}");
    assert!(found("CANARYWALV", &|f| f.ends_with(".log")), "{hits:?}");
    assert!(
        found("CANARYCF", &|f| f.starts_with("MANIFEST-")),
        "{hits:?}"
    );
    assert!(
        found("CANARYCF", &|f| f.starts_with("OPTIONS-")),
        "{hits:?}"
    );
    assert!(found("CANARYCF", &|f| f == "LOG"), "{hits:?}");
}

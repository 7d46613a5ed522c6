//! `heliosdb-nano upgrade`, run as a separate process on real RocksDB
//! databases: the checked-in format-1 fixture and format-1 databases made
//! here (plaintext with SQL tables; encrypted with a table key and a
//! recovery key) become format 2 with the same contents; a format-2
//! database, a wrong key, a copy that fails and a stale copy of an
//! interrupted run leave the original as it was; a run killed at any
//! moment (SIGKILL trials, and the state between its two renames built
//! by hand) leaves a database that opens at its path with every record.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use heliosdb_nano::config::RecordKeys;
use heliosdb_nano::crypto::KeyManager;
use heliosdb_nano::keys::FileSource;
use heliosdb_nano::sql::SqlExt;
use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Schema, Tuple, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// A copy of the format-1 fixture at `dir/db` and its key file (`dir/k.key`).
fn fixture_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let db = dir.join("db");
    std::fs::create_dir_all(&db).unwrap();
    for e in std::fs::read_dir(fixtures().join("format-v1")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), db.join(e.file_name())).unwrap();
    }
    let key = common::key_file(
        dir,
        "k.key",
        &std::fs::read(fixtures().join("format-v1-key.hex")).unwrap(),
        0o400,
    );
    (db, key)
}

/// What the fixture holds (see tests/compat.rs).
fn fixture_rows() -> Vec<Tuple> {
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

fn upgrade(db: &Path, extra: &[&str]) -> Output {
    common::bin()
        .args(["upgrade", "--path"])
        .arg(db)
        .args(extra)
        .env_remove("HELIOSDB_ENCRYPTION_KEY")
        .env_remove("HELIOSDB_PASSWORD")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The one `db.format1-*` directory beside `db`.
fn kept_original(dir: &Path) -> PathBuf {
    let kept: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| n.starts_with("db.format1-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", names(dir));
    dir.join(&kept[0])
}

/// The data files (SSTs) under `dir` with a digest of each: any open of a
/// RocksDB database, even one refused for its key, writes a new MANIFEST,
/// OPTIONS file and log, but the data it holds is in these.
fn data_files(dir: &Path) -> BTreeMap<String, u64> {
    use std::hash::{Hash, Hasher};
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".sst"))
        .map(|n| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(dir.join(&n)).unwrap().hash(&mut h);
            (n, h.finish())
        })
        .collect()
}

fn all_kv(s: &StorageEngine) -> Vec<(Vec<u8>, Vec<u8>)> {
    s.scan_range_iter(&[], None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn fixture_upgrades_to_format_2_with_the_same_contents() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = fixture_copy(dir.path());
    let config = common::file_config(&key);

    let stdout = ok(&upgrade(&db, &["--key-file", key.to_str().unwrap()]));
    assert!(stdout.contains("upgraded"), "{stdout}");
    assert!(
        stdout.contains("1 tables, 20 rows, 1 key-value pairs"),
        "{stdout}"
    );
    let kept = kept_original(dir.path());
    assert!(
        stdout.contains(&format!("rm -r {}", kept.display())),
        "{stdout}"
    );
    assert!(
        !names(dir.path()).iter().any(|n| n.contains(".upgrade-")),
        "{:?}",
        names(dir.path())
    );

    {
        let s = StorageEngine::open(&db, &config).unwrap();
        assert_eq!(s.format_version(), 2);
        assert!(s.is_encrypted());
        assert!(s.verify().unwrap().is_ok());
        assert_eq!(s.scan_table("accounts").unwrap(), fixture_rows());
        assert_eq!(s.get(b"format").unwrap().as_deref(), Some(&b"v1"[..]));
        // The index came along.
        assert_eq!(s.table_def("accounts").unwrap().indexes.len(), 1);
        assert_eq!(
            s.find_by("accounts", "owner", &Value::String("owner 7".into()))
                .unwrap(),
            vec![fixture_rows()[6].clone()]
        );
    }
    // Format 2 encrypted: the keyring is a file, and what the ordered index
    // keys hold in the clear is hidden by the file layer only.
    assert!(db.join("heliosdb.keyring").is_file());
    let needles: [&[u8]; 3] = [b"owner 7", b"owner 12", b"accounts"];
    assert_eq!(common::find_in_files(&db, &needles), vec![]);
    // ("owner 1" sorts first, so RocksDB stores that index key whole
    // rather than as a suffix of the key before it.)
    assert!(
        !common::find_in_decrypted_files(&db, &config, &[b"owner 1"]).is_empty(),
        "the ordered index keys should hold the value under the file layer"
    );

    // The original is kept as it was, still format 1.
    {
        let s = StorageEngine::open(&kept, &config).unwrap();
        assert_eq!(s.format_version(), 1);
        assert_eq!(s.scan_table("accounts").unwrap(), fixture_rows());
    }

    // A second run: already format 2, nothing changes.
    let before = names(dir.path());
    let stdout = ok(&upgrade(&db, &["--key-file", key.to_str().unwrap()]));
    assert!(stdout.contains("already format 2"), "{stdout}");
    assert_eq!(names(dir.path()), before);
    let s = StorageEngine::open(&db, &config).unwrap();
    assert_eq!(s.format_version(), 2);
    assert_eq!(s.scan_table("accounts").unwrap(), fixture_rows());
}

#[test]
fn a_wrong_key_fails_and_leaves_the_database_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = fixture_copy(dir.path());
    let wrong = common::key_file(dir.path(), "wrong.key", common::KEY_A.as_bytes(), 0o400);
    let before = data_files(&db);
    assert!(!before.is_empty());

    let out = upgrade(&db, &["--key-file", wrong.to_str().unwrap()]);
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("error"), "{all}");
    for secret in [common::KEY_A, common::KEY_B] {
        assert!(!all.contains(secret), "key material in the output: {all}");
    }
    assert_eq!(names(dir.path()), ["db", "k.key", "wrong.key"]);
    assert_eq!(data_files(&db), before);
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    assert_eq!(s.format_version(), 1);
    assert_eq!(s.scan_table("accounts").unwrap(), fixture_rows());
}

#[test]
fn a_stale_copy_of_an_interrupted_run_does_not_break_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = fixture_copy(dir.path());
    // What a run killed before its swap leaves: a half-built copy beside an
    // untouched original.
    let stale = dir.path().join("db.upgrade-4000000");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("CURRENT"), b"MANIFEST-000001\n").unwrap();
    std::fs::write(stale.join("000001.sst"), b"half written").unwrap();
    // Not ours (no pid after the dash): never touched.
    let unrelated = dir.path().join("db.upgrade-notes");
    std::fs::create_dir(&unrelated).unwrap();
    {
        let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
        assert_eq!(s.format_version(), 1);
    }

    let out = upgrade(&db, &["--key-file", key.to_str().unwrap()]);
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("interrupted upgrade"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stale.exists());
    assert!(unrelated.is_dir());
    kept_original(dir.path());
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    assert_eq!(s.format_version(), 2);
    assert_eq!(s.scan_table("accounts").unwrap(), fixture_rows());
}

#[test]
fn a_plaintext_format_1_database_with_sql_tables_upgrades() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let mut config = Config::default();
    config.storage.record_keys = RecordKeys::Blind;
    let raw_rows: Vec<Tuple> = ["a", "b", "a"]
        .iter()
        .map(|s| Tuple::new(vec![Value::String((*s).into())]))
        .collect();
    let (kv_before, people_before, notes_before) = {
        let s = StorageEngine::open(&db, &config).unwrap();
        assert_eq!(s.format_version(), 1);
        assert!(!s.is_encrypted());
        for sql in [
            "CREATE TABLE people (id SERIAL PRIMARY KEY, name VARCHAR(20), age INT)",
            "CREATE INDEX people_name ON people (name)",
            "INSERT INTO people (name, age) VALUES ('ada', 36), ('alan', 41), ('grace', 85)",
            "DELETE FROM people WHERE name = 'alan'",
            // No primary key: a hidden row id addresses its rows.
            "CREATE TABLE notes (body TEXT)",
            "INSERT INTO notes VALUES ('one'), ('two'), ('two')",
        ] {
            s.execute_sql(sql).unwrap();
        }
        // An engine table without a primary key (internal row ids).
        s.catalog()
            .create_table("raw", Schema::new(vec![Column::new("tag", DataType::Text)]))
            .unwrap();
        s.insert_batch("raw", raw_rows.clone()).unwrap();
        s.put(b"app/setting", b"on").unwrap();
        s.put(b"__heliosdb_server/user/x", b"opaque").unwrap();
        s.put(b"\x00\xffbinary", b"").unwrap();
        let people = s
            .execute_sql("SELECT id, name, age FROM people ORDER BY id")
            .unwrap()
            .rows()
            .to_vec();
        let notes = s
            .execute_sql("SELECT body FROM notes ORDER BY body")
            .unwrap()
            .rows()
            .to_vec();
        (all_kv(&s), people, notes)
    };
    assert!(kv_before
        .iter()
        .any(|(k, _)| k.starts_with(b"__heliosdb_sql/")));

    let stdout = ok(&upgrade(&db, &[]));
    assert!(stdout.contains("(unencrypted)"), "{stdout}");
    kept_original(dir.path());

    let s = StorageEngine::open(&db, &Config::default()).unwrap();
    assert_eq!(s.format_version(), 2);
    assert!(!s.is_encrypted());
    assert!(s.verify().unwrap().is_ok());
    assert_eq!(all_kv(&s), kv_before);
    assert_eq!(
        s.execute_sql("SELECT id, name, age FROM people ORDER BY id")
            .unwrap()
            .rows(),
        people_before
    );
    assert_eq!(
        s.execute_sql("SELECT body FROM notes ORDER BY body")
            .unwrap()
            .rows(),
        notes_before
    );
    let mut raw = s.scan_table("raw").unwrap();
    raw.sort_by_key(|t| t.values[0].to_string());
    let mut expected = raw_rows;
    expected.sort_by_key(|t| t.values[0].to_string());
    assert_eq!(raw, expected);
    // The SERIAL sequence went on from where it was (the deleted id 2 is not reused).
    s.execute_sql("INSERT INTO people (name, age) VALUES ('edsger', 72)")
        .unwrap();
    assert_eq!(
        s.execute_sql("SELECT id FROM people WHERE name = 'edsger'")
            .unwrap()
            .rows(),
        [vec![Value::Int4(4)]]
    );
    // Rows of the table without a key stay addressable.
    s.execute_sql("DELETE FROM notes WHERE body = 'two'")
        .unwrap();
    assert_eq!(
        s.execute_sql("SELECT body FROM notes").unwrap().rows(),
        [vec![Value::String("one".into())]]
    );
}

#[test]
fn an_encrypted_format_1_database_keeps_its_table_key_and_recovery_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let main = common::key_file(dir.path(), "main.key", common::KEY_A.as_bytes(), 0o400);
    let recovery = common::key_file(dir.path(), "recovery.key", common::KEY_B.as_bytes(), 0o400);
    let mut config = common::file_config(&main);
    config.storage.record_keys = RecordKeys::Blind;
    let secret_rows: Vec<Tuple> = (1..=300)
        .map(|i| {
            Tuple::new(vec![
                Value::Int8(i),
                Value::String(format!("patient-{i:04}")),
            ])
        })
        .collect();
    {
        let s = StorageEngine::open(&db, &config).unwrap();
        assert_eq!(s.format_version(), 1);
        s.catalog()
            .create_table_with_own_key(
                "secrets",
                Schema::new(vec![
                    Column::new("id", DataType::Int8).primary_key(),
                    Column::new("name", DataType::Text),
                ]),
            )
            .unwrap();
        s.catalog().create_index("secrets", "name").unwrap();
        s.insert_batch("secrets", secret_rows.clone()).unwrap();
        s.add_encryption_key(&KeyManager::from_key_source(std::sync::Arc::new(
            FileSource::new(&recovery).unwrap(),
        )))
        .unwrap();
    }

    // No key flag: the keyring's recorded key file opens it.
    let stdout = ok(&upgrade(&db, &[]));
    assert!(stdout.contains("(encrypted)"), "{stdout}");
    assert!(
        stdout.contains("also opens the upgraded database"),
        "{stdout}"
    );
    kept_original(dir.path());

    for key in [&main, &recovery] {
        let s = StorageEngine::open(&db, &common::file_config(key)).unwrap();
        assert_eq!(s.format_version(), 2);
        let def = s.table_def("secrets").unwrap();
        assert!(def.own_key);
        assert_eq!(def.indexes.len(), 1);
        assert_eq!(s.scan_table("secrets").unwrap(), secret_rows);
        assert_eq!(
            s.find_by("secrets", "name", &Value::String("patient-0150".into()))
                .unwrap(),
            vec![secret_rows[149].clone()]
        );
    }
    assert!(db.join("heliosdb.keyring").is_file());
    assert_eq!(
        common::find_in_files(&db, &[b"patient-0150", b"secrets"]),
        vec![]
    );
}

#[test]
fn a_copy_that_fails_is_removed_and_the_original_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = fixture_copy(dir.path());
    let config = common::file_config(&key);
    // One row's ciphertext damaged: the copy stops at it, after the new
    // database was created and partly filled.
    common::with_raw_db(&db, &config, |raw| {
        let cf = raw.cf_handle("rows").unwrap();
        let (k, v) = raw
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .next()
            .unwrap()
            .unwrap();
        let mut v = v.to_vec();
        let i = v.len() - 20;
        v[i] ^= 0x01;
        raw.put_cf(cf, &k, &v).unwrap();
    });

    let out = upgrade(&db, &["--key-file", key.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("upgrade failed"), "{stderr}");
    assert!(stderr.contains("is unchanged"), "{stderr}");
    assert!(stderr.contains("accounts"), "{stderr}");
    assert_eq!(names(dir.path()), ["db", "k.key"]);
    let s = StorageEngine::open(&db, &config).unwrap();
    assert_eq!(s.format_version(), 1);
    // (Its files are not byte-for-byte the same: the open replays the
    // write-ahead log the damage went into.)
    assert_eq!(s.verify().unwrap().failure_count, 1);
    assert_eq!(s.get(b"format").unwrap().as_deref(), Some(&b"v1"[..]));
}

/// The fixture at `db` (`config`'s key) holds exactly its rows and
/// key-value pair, in whichever format; returns the format.
fn holds_the_fixture(db: &Path, config: &Config) -> u32 {
    let s = StorageEngine::open(db, config)
        .unwrap_or_else(|e| panic!("{} does not open: {e}", db.display()));
    assert_eq!(s.scan_table("accounts").unwrap(), fixture_rows());
    assert_eq!(s.get(b"format").unwrap().as_deref(), Some(&b"v1"[..]));
    s.format_version()
}

/// The state a run killed between its two renames leaves (the original
/// moved aside, the finished copy beside the path, nothing at the path):
/// opening the path moves the copy into place instead of creating an
/// empty database there; the CLI's first look (`inspect`) does the same.
#[test]
fn an_upgrade_killed_between_its_renames_is_finished_by_the_next_open() {
    for via_cli in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = fixture_copy(dir.path());
        let config = common::file_config(&key);
        ok(&upgrade(&db, &["--key-file", key.to_str().unwrap()]));
        kept_original(dir.path());
        std::fs::rename(&db, dir.path().join("db.upgrade-ready")).unwrap();

        if via_cli {
            let stdout = ok(&upgrade(&db, &["--key-file", key.to_str().unwrap()]));
            assert!(stdout.contains("already format 2"), "{stdout}");
        }
        assert_eq!(holds_the_fixture(&db, &config), 2);
        assert!(!dir.path().join("db.upgrade-ready").exists());
        // The original is still aside, format 1.
        assert_eq!(holds_the_fixture(&kept_original(dir.path()), &config), 1);
    }
}

/// A run killed after its copy was finished but before the original moved:
/// the database at the path is the original (it may be written to), and
/// the next upgrade discards the finished copy and builds a new one.
#[test]
fn a_finished_copy_beside_an_unmoved_original_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = fixture_copy(dir.path());
    let config = common::file_config(&key);
    let ready = dir.path().join("db.upgrade-ready");
    std::fs::create_dir(&ready).unwrap();
    std::fs::write(ready.join("CURRENT"), b"MANIFEST-000001\n").unwrap();
    {
        let s = StorageEngine::open(&db, &config).unwrap();
        assert_eq!(s.format_version(), 1);
        // A write after the crash, which the stale copy does not have.
        s.put(b"after", b"the crash").unwrap();
    }
    assert!(ready.is_dir(), "opening the original leaves the copy alone");
    let out = upgrade(&db, &["--key-file", key.to_str().unwrap()]);
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the copy of an interrupted upgrade"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!ready.exists());
    assert_eq!(holds_the_fixture(&db, &config), 2);
    let s = StorageEngine::open(&db, &config).unwrap();
    assert_eq!(s.get(b"after").unwrap().as_deref(), Some(&b"the crash"[..]));
}

/// `heliosdb-nano upgrade` killed with SIGKILL at random moments (spread
/// over the time a whole run takes): after every kill the database opens
/// at its path with all of the fixture's contents, in format 1 or 2, and a
/// new run finishes the upgrade.
#[test]
fn an_upgrade_killed_at_random_moments_loses_nothing() {
    use rand::{Rng, SeedableRng};
    const TRIALS: u32 = 40;
    // How long one whole run takes here, to spread the kills over it.
    let full = {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = fixture_copy(dir.path());
        let start = std::time::Instant::now();
        ok(&upgrade(&db, &["--key-file", key.to_str().unwrap()]));
        start.elapsed()
    };
    let seed: u64 = rand::random();
    println!("seed {seed}, a whole run takes {full:?}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut formats = [0u32; 3];
    for trial in 0..TRIALS {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = fixture_copy(dir.path());
        let config = common::file_config(&key);
        let mut child = common::bin()
            .args(["upgrade", "--path"])
            .arg(&db)
            .args(["--key-file", key.to_str().unwrap()])
            .env_remove("HELIOSDB_ENCRYPTION_KEY")
            .env_remove("HELIOSDB_PASSWORD")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let delay = full.mul_f64(rng.gen_range(0.0..1.1));
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL (a no-op once it has exited)
        child.wait().unwrap();
        println!(
            "trial {trial}: killed after {delay:?}; {:?}",
            names(dir.path())
        );
        let format = holds_the_fixture(&db, &config);
        formats[format as usize] += 1;
        ok(&upgrade(&db, &["--key-file", key.to_str().unwrap()]));
        assert_eq!(
            holds_the_fixture(&db, &config),
            2,
            "trial {trial} (seed {seed})"
        );
    }
    println!(
        "{TRIALS} kills: {} left format 1, {} format 2",
        formats[1], formats[2]
    );
    assert_eq!(formats[1] + formats[2], TRIALS);
}

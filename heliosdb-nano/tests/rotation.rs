//! Online key rotation: KEK re-wrap across source kinds, several KEKs, DEK
//! rotation with background re-encryption (proof of completion on disk),
//! resume after restart, concurrency against a model, scheduled rotation,
//! refusal of a wrong old KEK.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use heliosdb_nano::crypto::KeyManager;
use heliosdb_nano::keys::PasswordSource;
use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Schema, Tuple, Value};

fn file_km(path: &std::path::Path) -> KeyManager {
    KeyManager::from_source(&heliosdb_nano::config::KeySource::File(path.to_path_buf())).unwrap()
}

fn fill(s: &StorageEngine, n: i64) {
    s.catalog()
        .create_table(
            "docs",
            Schema::new(vec![
                Column::new("id", DataType::Int8).primary_key(),
                Column::new("body", DataType::Text),
            ]),
        )
        .unwrap();
    s.catalog().create_index("docs", "body").unwrap();
    let tuples = (0..n)
        .map(|i| {
            Tuple::new(vec![
                Value::Int8(i),
                Value::String(format!("canary-rot-{i:06} {}", "x".repeat(900))),
            ])
        })
        .collect();
    s.insert_batch("docs", tuples).unwrap();
    s.put(b"kv-canary-rotation", b"kv value canary rotation")
        .unwrap();
}

#[test]
fn kek_rotation_rewraps_without_rewriting_records_and_only_the_new_key_opens() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("HELIOSDB_ROT_ENV_KEY", common::KEY_A);
    let new_file = common::key_file(dir.path(), "new.key", common::KEY_B.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let mut env_cfg = Config::default();
    env_cfg.encryption.enabled = true;
    env_cfg.encryption.key_source =
        heliosdb_nano::config::KeySource::Environment("HELIOSDB_ROT_ENV_KEY".into());
    let rows_before = {
        let s = StorageEngine::open(&db, &env_cfg).unwrap();
        fill(&s, 200);
        s.flush().unwrap();
        let rows = s.db.entries("rows").unwrap();
        let done = s.rotate_encryption_key(&file_km(&new_file)).unwrap();
        assert!(
            done.old.contains("HELIOSDB_ROT_ENV_KEY") && done.new.contains("new.key"),
            "{done:?}"
        );
        // Still usable in this session.
        assert_eq!(s.scan_table("docs").unwrap().len(), 200);
        rows
    };
    let err = StorageEngine::open(&db, &env_cfg).unwrap_err().to_string();
    assert!(
        err.starts_with("wrong key: environment variable HELIOSDB_ROT_ENV_KEY"),
        "{err}"
    );
    assert!(err.contains("it opens with: key file"), "{err}");
    let s = StorageEngine::open(&db, &common::file_config(&new_file)).unwrap();
    assert_eq!(
        s.db.entries("rows").unwrap(),
        rows_before,
        "KEK rotation rewrote records"
    );
    assert_eq!(s.scan_table("docs").unwrap().len(), 200);

    // File → password, then a password change with a different Argon2 cost.
    s.rotate_encryption_key(&KeyManager::from_key_source(Arc::new(
        PasswordSource::with_cost("first pw", 256, 1, 1),
    )))
    .unwrap();
    drop(s);
    let pw = |p: &str, m: u32| {
        KeyManager::from_key_source(Arc::new(PasswordSource::with_cost(p, m, 1, 1)))
    };
    assert!(StorageEngine::open(&db, &common::file_config(&new_file)).is_err());
    let s = StorageEngine::open_with_key_manager(&db, &Config::default(), &pw("first pw", 256))
        .unwrap();
    s.rotate_encryption_key(&pw("second pw", 512)).unwrap();
    drop(s);
    assert!(
        StorageEngine::open_with_key_manager(&db, &Config::default(), &pw("first pw", 256))
            .is_err()
    );
    let s = StorageEngine::open_with_key_manager(&db, &Config::default(), &pw("second pw", 999))
        .unwrap();
    assert_eq!(
        s.get(b"kv-canary-rotation").unwrap().unwrap(),
        b"kv value canary rotation"
    );
}

#[test]
fn several_keks_open_the_database_and_the_last_cannot_go() {
    let dir = tempfile::tempdir().unwrap();
    let main = common::key_file(dir.path(), "main.key", common::KEY_A.as_bytes(), 0o400);
    let recovery = common::key_file(dir.path(), "recovery.key", common::KEY_B.as_bytes(), 0o400);
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &common::file_config(&main)).unwrap();
        s.put(b"a", b"1").unwrap();
        let slot = s.add_encryption_key(&file_km(&recovery)).unwrap();
        assert_eq!(s.encryption_status().unwrap().kek_slots.len(), 2);
        assert!(
            s.add_encryption_key(&file_km(&recovery)).is_err(),
            "the same key twice"
        );
        assert_eq!(
            s.find_encryption_key(&file_km(&recovery)).unwrap(),
            Some(slot)
        );
    }
    for k in [&main, &recovery] {
        assert_eq!(
            StorageEngine::open(&db, &common::file_config(k))
                .unwrap()
                .get(b"a")
                .unwrap()
                .unwrap(),
            b"1"
        );
    }
    let s = StorageEngine::open(&db, &common::file_config(&recovery)).unwrap();
    let main_slot = s.find_encryption_key(&file_km(&main)).unwrap().unwrap();
    s.remove_encryption_key(main_slot).unwrap();
    let last = s.encryption_status().unwrap().kek_slots[0].id;
    let err = s.remove_encryption_key(last).unwrap_err().to_string();
    assert!(err.contains("last key-encryption key"), "{err}");
    drop(s);
    assert!(StorageEngine::open(&db, &common::file_config(&main)).is_err());
    assert!(StorageEngine::open(&db, &common::file_config(&recovery)).is_ok());
}

/// Every stored value's DEK id, from the envelope headers (bytes 1..5).
fn dek_ids(s: &StorageEngine) -> HashMap<u32, usize> {
    let mut ids = HashMap::new();
    for cf in ["kv", "catalog", "rows", "index", "meta"] {
        for (_, v) in s.db.entries(cf).unwrap() {
            *ids.entry(u32::from_be_bytes([v[1], v[2], v[3], v[4]]))
                .or_default() += 1;
        }
    }
    ids
}

#[test]
fn dek_rotation_reencrypts_everything_and_old_ciphertext_leaves_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    fill(&s, 3000);
    // Overwrite and delete some rows so old versions exist in WAL and SSTs.
    s.flush().unwrap();
    for i in 0..100 {
        s.update_tuple(
            "docs",
            Tuple::new(vec![
                Value::Int8(i),
                Value::String(format!("canary-rot-upd-{i}")),
            ]),
        )
        .unwrap();
    }
    let old = s.encryption_status().unwrap().active_dek_id;
    // Fingerprints of every value sealed under the old key: its random nonce
    // and the first ciphertext bytes. Any of them left in a file is old ciphertext.
    let old_fingerprints: HashSet<[u8; 16]> = ["kv", "catalog", "rows", "index", "meta"]
        .iter()
        .flat_map(|cf| s.db.entries(cf).unwrap())
        .map(|(_, v)| v[5..21].try_into().unwrap())
        .collect();
    assert!(old_fingerprints.len() > 6000, "{}", old_fingerprints.len());
    s.flush().unwrap();
    // Searched in what RocksDB stores, decrypted through the file layer.
    let cfg = common::file_config(&key);
    let before: usize = heliosdb_core::testing::decrypted_files(&db, &cfg)
        .unwrap()
        .iter()
        .map(|(_, data)| {
            data.windows(16)
                .filter(|w| old_fingerprints.contains(*w))
                .count()
        })
        .sum();
    assert!(
        before >= old_fingerprints.len(),
        "the check must see old values before rotation ({before})"
    );
    let new = s.rotate_data_key().unwrap().0;
    assert_ne!(old, new);
    // Writes during the rotation use the new key at once.
    s.put(b"during", b"rotation").unwrap();
    assert_eq!(
        u32::from_be_bytes(
            s.db.get(b"during").unwrap().unwrap()[1..5]
                .try_into()
                .unwrap()
        ),
        new
    );
    assert!(
        s.rotate_data_key().is_err(),
        "a second rotation while one runs"
    );
    let mut seen = 0;
    let done = s
        .wait_for_rotation(Duration::from_secs(120), |_| seen += 1)
        .unwrap();
    assert!(done, "rotation did not finish in time");
    let status = s.encryption_status().unwrap();
    assert_eq!(status.active_dek_id, new);
    assert_eq!(status.active_dek_percent, 100.0, "{status:?}");
    assert!(status.rotation.is_none());
    let old_status = status.deks.iter().find(|d| d.id == old).unwrap();
    assert_eq!(
        (old_status.state.as_str(), old_status.records),
        ("retired", 0)
    );
    // Proof: no stored value carries the old DEK id...
    let ids = dek_ids(&s);
    assert_eq!(
        ids.keys().copied().collect::<Vec<_>>(),
        vec![new],
        "{ids:?}"
    );
    assert_eq!(s.scan_table("docs").unwrap().len(), 3000);
    assert!(s.verify().unwrap().is_ok());
    drop(s);
    // ...and no file under the data directory (SSTs, WAL, MANIFEST) holds
    // old ciphertext or plaintext.
    for (f, data) in heliosdb_core::testing::decrypted_files(&db, &cfg).unwrap() {
        let old_left = data
            .windows(16)
            .filter(|w| old_fingerprints.contains(*w))
            .count();
        assert_eq!(
            old_left,
            0,
            "{} holds {old_left} old sealed values",
            f.display()
        );
    }
    let hits = common::find_in_files(
        &db,
        &[b"canary-rot-0", b"kv value canary rotation", b"docs"],
    );
    assert!(hits.is_empty(), "{hits:?}");
    // The archived key can be destroyed; everything stays readable.
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    s.destroy_data_key(old).unwrap();
    assert!(s
        .encryption_status()
        .unwrap()
        .deks
        .iter()
        .all(|d| d.id != old));
    assert!(
        s.destroy_data_key(new).is_err(),
        "the active key cannot be destroyed"
    );
    drop(s);
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    assert_eq!(s.scan_table("docs").unwrap().len(), 3000);
}

#[test]
fn rotation_progress_persists_and_resumes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let mut slow = common::file_config(&key);
    slow.encryption.reencrypt_rate_mb = Some(1);
    {
        let s = StorageEngine::open(&db, &slow).unwrap();
        fill(&s, 8000); // ~8 MB: ~8 s at 1 MiB/s
        s.rotate_data_key().unwrap();
        assert!(!s
            .wait_for_rotation(Duration::from_millis(1500), |_| {})
            .unwrap());
        let r = s.encryption_status().unwrap().rotation.unwrap();
        assert!(r.records_done > 0, "{r:?}");
    } // closed mid-rotation
    let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
    let r = s
        .encryption_status()
        .unwrap()
        .rotation
        .expect("rotation state survived the restart");
    assert!(r.records_done > 0 && r.records_done < 16_000, "{r:?}");
    assert!(s
        .wait_for_rotation(Duration::from_secs(120), |_| {})
        .unwrap());
    assert_eq!(s.encryption_status().unwrap().active_dek_percent, 100.0);
    assert_eq!(s.scan_table("docs").unwrap().len(), 8000);
}

#[test]
fn writers_and_readers_during_reencryption_see_no_lost_update_and_no_stale_read() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let mut cfg = common::file_config(&key);
    cfg.encryption.reencrypt_rate_mb = Some(4); // slow enough to overlap the workload
    let s = Arc::new(StorageEngine::open(dir.path().join("db"), &cfg).unwrap());
    const KEYS: usize = 2000;
    let model: Arc<Vec<AtomicU64>> = Arc::new((0..KEYS).map(|_| AtomicU64::new(0)).collect());
    for k in 0..KEYS {
        s.put(
            format!("key{k:05}").as_bytes(),
            &[&0u64.to_be_bytes()[..], &[7u8; 1000][..]].concat(),
        )
        .unwrap();
    }
    s.rotate_data_key().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stale = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for w in 0..2usize {
        let (s, model, stop) = (Arc::clone(&s), Arc::clone(&model), Arc::clone(&stop));
        handles.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Writer w owns keys k ≡ w (mod 2): versions only grow.
                let k = (n as usize * 7 % (KEYS / 2)) * 2 + w;
                let v = model[k].load(Ordering::SeqCst) + 1;
                s.put(
                    format!("key{k:05}").as_bytes(),
                    &[&v.to_be_bytes()[..], &[7u8; 1000][..]].concat(),
                )
                .unwrap();
                model[k].store(v, Ordering::SeqCst);
                n += 1;
            }
            n
        }));
    }
    for r in 0..2usize {
        let (s, model, stop, stale) = (
            Arc::clone(&s),
            Arc::clone(&model),
            Arc::clone(&stop),
            Arc::clone(&stale),
        );
        handles.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let k = (n as usize * 13 + r) % KEYS;
                let floor = model[k].load(Ordering::SeqCst);
                let v = s.get(format!("key{k:05}").as_bytes()).unwrap().unwrap();
                if u64::from_be_bytes(v[..8].try_into().unwrap()) < floor {
                    stale.fetch_add(1, Ordering::SeqCst);
                }
                n += 1;
            }
            n
        }));
    }
    let finished = s
        .wait_for_rotation(Duration::from_secs(120), |_| {})
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let ops: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(finished);
    assert!(
        ops.iter().all(|&n| n > 100),
        "workload did not overlap the rotation: {ops:?}"
    );
    assert_eq!(stale.load(Ordering::SeqCst), 0, "stale reads");
    for k in 0..KEYS {
        let v = s.get(format!("key{k:05}").as_bytes()).unwrap().unwrap();
        assert_eq!(
            u64::from_be_bytes(v[..8].try_into().unwrap()),
            model[k].load(Ordering::SeqCst),
            "lost update on key {k}"
        );
    }
    assert_eq!(s.encryption_status().unwrap().active_dek_percent, 100.0);
}

#[test]
fn scheduled_rotation_starts_when_the_active_key_is_older_than_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let mut cfg = common::file_config(&key);
    cfg.encryption.rotation_interval_days = Some(90);
    // Format 1: its keyring is a record that anyone can edit and re-checksum
    // (format 2's keyring file is authenticated; see adversarial.rs).
    cfg.storage.record_keys = heliosdb_nano::config::RecordKeys::Blind;
    let first = {
        let s = StorageEngine::open(&db, &cfg).unwrap();
        s.put(b"k", b"v").unwrap();
        s.encryption_status().unwrap().active_dek_id
    };
    // Not due: same key on reopen.
    assert_eq!(
        StorageEngine::open(&db, &cfg)
            .unwrap()
            .encryption_status()
            .unwrap()
            .active_dek_id,
        first
    );
    // Age the active key by 91 days (the keyring is secret-free JSON with a checksum).
    common::with_raw_db(&db, &cfg, |raw| {
        let cf = raw.cf_handle("keyring").unwrap();
        let bytes = raw.get_cf(cf, b"keyring").unwrap().unwrap();
        let mut ring = heliosdb_nano::keys::Keyring::decode(&bytes).unwrap();
        for d in &mut ring.deks {
            d.created_at -= 91 * 86_400;
        }
        raw.put_cf(cf, b"keyring", ring.encode()).unwrap();
    });
    let s = StorageEngine::open(&db, &cfg).unwrap();
    assert_ne!(s.encryption_status().unwrap().active_dek_id, first);
    assert!(s
        .wait_for_rotation(Duration::from_secs(60), |_| {})
        .unwrap());
    assert_eq!(s.get(b"k").unwrap().unwrap(), b"v");
}

#[test]
fn cli_rotation_commands_and_wrong_old_key_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let a = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    let b = common::key_file(dir.path(), "b.key", common::KEY_B.as_bytes(), 0o400);
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &common::file_config(&a)).unwrap();
        fill(&s, 50);
    }
    let raw_before = StorageEngine::open(&db, &common::file_config(&a))
        .unwrap()
        .db
        .entries("keyring")
        .unwrap();
    // Wrong old key: refused, keyring unchanged.
    let out = common::bin()
        .args(["rotate-key", "--key-file"])
        .arg(&b)
        .arg("--new-key-file")
        .arg(&b)
        .arg("--path")
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        StorageEngine::open(&db, &common::file_config(&a))
            .unwrap()
            .db
            .entries("keyring")
            .unwrap(),
        raw_before
    );
    // Missing old key (env var not set): refused too.
    let out = common::bin()
        .args([
            "rotate-key",
            "--key-env",
            "HELIOSDB_NOT_SET_ANYWHERE",
            "--new-key-file",
        ])
        .arg(&b)
        .arg("--path")
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    // The real rotation, from --path alone (the keyring knows the key file).
    let out = common::bin()
        .args(["rotate-key", "--new-key-file"])
        .arg(&b)
        .arg("--path")
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("the database now opens with: key file") && text.contains("b.key"),
        "{text}"
    );
    let out = common::bin()
        .args(["rotate-data-key", "--wait", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::bin()
        .args(["key-status", "--json", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["active_dek_percent"], 100.0);
    let active = v["active_dek_id"].as_u64().unwrap();
    let deks = v["deks"].as_array().unwrap();
    assert!(deks
        .iter()
        .any(|d| d["state"] == "retired" && d["records"] == 0));
    assert!(deks
        .iter()
        .all(|d| d.get("id").is_some() && d.get("nonce_budget_used").is_some()));
    assert!(deks
        .iter()
        .any(|d| d["id"].as_u64() == Some(active) && d["state"] == "active"));
    let retired = deks.iter().find(|d| d["state"] == "retired").unwrap()["id"]
        .as_u64()
        .unwrap();
    let out = common::bin()
        .args(["destroy-key", "--dek", &retired.to_string(), "--path"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "destroy without --yes");
    let out = common::bin()
        .args([
            "destroy-key",
            "--yes",
            "--dek",
            &retired.to_string(),
            "--path",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::bin()
        .args(["add-key", "--new-key-file"])
        .arg(&a)
        .arg("--path")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::bin()
        .args(["verify", "--key-file"])
        .arg(&a)
        .arg("--path")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// File-key rotation: a new file key at once, SST files rewritten under it
/// by compaction, the files RocksDB holds open moved at the next open, and
/// then the old key leaves the keyring; every record stays readable and no
/// file shows plaintext at any point.
#[test]
fn file_key_rotation_moves_every_file_and_removes_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let cfg = common::file_config(&key);
    let s = StorageEngine::open(&db, &cfg).unwrap();
    fill(&s, 500);
    s.flush().unwrap();
    let before = s.encryption_status().unwrap().file_keys;
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0].state, "active");
    assert!(before[0].files >= 4, "{before:?}");
    let old = before[0].id;

    let r = s.rotate_file_key().unwrap();
    assert_ne!(r.new_key, old);
    // SST files were rewritten: what is left under the old key is what
    // RocksDB holds open (MANIFEST, info LOG, perhaps the WAL).
    assert!(
        r.pending.iter().all(|f| !f.ends_with(".sst")),
        "{:?}",
        r.pending
    );
    let during = s.encryption_status().unwrap().file_keys;
    let new = during.iter().find(|f| f.id == r.new_key).unwrap();
    assert_eq!(new.state, "active");
    assert!(new.files > 0);
    if !r.pending.is_empty() {
        let o = during.iter().find(|f| f.id == old).unwrap();
        assert_eq!(
            (o.state.as_str(), o.files),
            ("decrypt-only", r.pending.len())
        );
    }
    s.put(b"after-file-rotation", b"v").unwrap();
    assert_eq!(s.scan_table("docs").unwrap().len(), 500);
    drop(s);
    assert!(common::find_in_files(&db, &[b"canary-rot-0", b"docs"]).is_empty());

    // The next open moves the rest and removes the old key.
    let s = StorageEngine::open(&db, &cfg).unwrap();
    let after = s.encryption_status().unwrap().file_keys;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(
        (after[0].id, after[0].state.as_str()),
        (r.new_key, "active")
    );
    assert_eq!(s.scan_table("docs").unwrap().len(), 500);
    assert_eq!(s.get(b"after-file-rotation").unwrap().unwrap(), b"v");
    assert!(s.verify().unwrap().is_ok());
    drop(s);
    assert!(common::find_in_files(&db, &[b"canary-rot-0", b"docs"]).is_empty());
    // And it opens again without the removed key.
    assert_eq!(
        StorageEngine::open(&db, &cfg)
            .unwrap()
            .scan_table("docs")
            .unwrap()
            .len(),
        500
    );
}

#[test]
fn file_key_rotation_is_refused_without_a_file_layer() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let mut cfg = common::file_config(&key);
    cfg.storage.record_keys = heliosdb_nano::config::RecordKeys::Blind;
    let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
    let e = s.rotate_file_key().unwrap_err().to_string();
    assert!(e.contains("format-2"), "{e}");
    assert!(s.encryption_status().unwrap().file_keys.is_empty());
}

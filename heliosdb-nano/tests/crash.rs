//! Crash consistency of rotation: a child process writes records and, in a
//! loop, rotates the data key, the key-encryption key (between two key
//! files; format 2: an atomic replace of the keyring file) and the file key
//! (a new key, a full compaction, old file keys removed), and is killed with SIGKILL at a random moment. After each kill the
//! database must open with exactly one of the two KEKs, and every record the
//! child acknowledged must read back intact: 0 lost, 0 unreadable.
//!
//! 50 trials by default (`HELIOSDB_CRASH_TRIALS` to change).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use heliosdb_nano::crypto::KeyManager;
use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::Config;
use rand::Rng;

const WORKER_ENV: &str = "HELIOSDB_CRASH_WORKER_DIR";

fn value(trial: u32, i: u64) -> Vec<u8> {
    format!(
        "trial {trial} record {i} {}",
        "v".repeat((i % 200) as usize)
    )
    .into_bytes()
}

fn config(key: &Path) -> Config {
    let mut c = common::file_config(key);
    c.encryption.nonce_budget = Some(300); // automatic data-key changes too
    c.encryption.reencrypt_rate_mb = Some(64);
    c
}

/// Opens with whichever of the two keys works, checking that exactly one does.
fn open_exactly_one(dir: &Path) -> (StorageEngine, PathBuf) {
    let (a, b) = (dir.join("a.key"), dir.join("b.key"));
    let with_a = StorageEngine::open(dir.join("db"), &config(&a));
    match with_a {
        Ok(s) => {
            drop(s);
            assert!(
                StorageEngine::open(dir.join("db"), &config(&b)).is_err(),
                "both KEKs open the database"
            );
            (StorageEngine::open(dir.join("db"), &config(&a)).unwrap(), a)
        }
        Err(ea) => match StorageEngine::open(dir.join("db"), &config(&b)) {
            Ok(s) => (s, b),
            Err(eb) => panic!("neither KEK opens the database: {ea} / {eb}"),
        },
    }
}

/// The child's side: runs until killed.
#[test]
#[ignore = "entry point of the crash test's child process (run by rotation_survives_sigkill_at_random_points)"]
fn crash_worker_entry() {
    let Ok(dir) = std::env::var(WORKER_ENV) else {
        eprintln!("crash_worker_entry runs only as the child of the crash test");
        return;
    };
    let dir = PathBuf::from(dir);
    let trial: u32 = std::env::var("HELIOSDB_CRASH_TRIAL")
        .unwrap()
        .parse()
        .unwrap();
    let (s, mut current) = open_exactly_one(&dir);
    let other = |p: &Path| {
        if p.ends_with("a.key") {
            dir.join("b.key")
        } else {
            dir.join("a.key")
        }
    };
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        s.put(format!("t{trial:03}-{i:06}").as_bytes(), &value(trial, i))
            .unwrap();
        writeln!(out, "ack {i}").unwrap();
        out.flush().unwrap();
        if i % 150 == 75 && !s.rotation_in_progress() {
            s.rotate_data_key().unwrap();
        }
        if i % 113 == 90 {
            // File-key rotation: new key, compaction, old key removed.
            s.rotate_file_key().unwrap();
        }
        if i % 97 == 50 {
            let next = other(&current);
            let km = KeyManager::from_source(&heliosdb_nano::config::KeySource::File(next.clone()))
                .unwrap();
            s.rotate_encryption_key(&km).unwrap();
            current = next;
        }
    }
}

#[test]
fn rotation_survives_sigkill_at_random_points() {
    let trials: u32 = std::env::var("HELIOSDB_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    common::key_file(dir.path(), "b.key", common::KEY_B.as_bytes(), 0o400);
    drop(StorageEngine::open(dir.path().join("db"), &config(&dir.path().join("a.key"))).unwrap());
    let mut rng = rand::thread_rng();
    let mut acked: Vec<(u32, u64)> = Vec::new();
    let mut kek_switches = 0;
    let mut file_key_switches = 0;
    let mut last_file_key = None;
    let mut last_key = dir.path().join("a.key");
    for trial in 0..trials {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_worker_entry",
                "--exact",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WORKER_ENV, dir.path())
            .env("HELIOSDB_CRASH_TRIAL", trial.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("ack ") {
                    last = n.trim().parse::<u64>().ok();
                }
            }
            last
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(50..400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if let Some(last) = reader.join().unwrap() {
            acked.extend((0..=last).map(|i| (trial, i)));
        }
        let (s, key) = open_exactly_one(dir.path());
        if key != last_key {
            kek_switches += 1;
            last_key = key;
        }
        let file_keys = s.encryption_status().unwrap().file_keys;
        let active = file_keys.iter().find(|f| f.state == "active").map(|f| f.id);
        assert!(
            active.is_some(),
            "trial {trial}: no active file key: {file_keys:?}"
        );
        if active != last_file_key {
            file_key_switches += 1;
            last_file_key = active;
        }
        for &(t, i) in &acked {
            let got = s
                .get(format!("t{t:03}-{i:06}").as_bytes())
                .unwrap_or_else(|e| panic!("trial {trial}: record t{t}-{i} unreadable: {e}"));
            assert_eq!(
                got.as_deref(),
                Some(&value(t, i)[..]),
                "trial {trial}: record t{t}-{i} lost or wrong"
            );
        }
        let report = s.verify().unwrap();
        assert!(report.is_ok(), "trial {trial}: {:?}", report.failures);
    }
    assert!(
        acked.len() as u32 > trials * 10,
        "children made too little progress: {}",
        acked.len()
    );
    assert!(
        kek_switches > 0,
        "no KEK rotation happened across {trials} trials"
    );
    assert!(
        file_key_switches > 1,
        "no file-key rotation happened across {trials} trials"
    );
    println!("{trials} trials, {} acknowledged records, {kek_switches} observed KEK switches, {file_key_switches} file-key switches: 0 lost, 0 unreadable", acked.len());
}

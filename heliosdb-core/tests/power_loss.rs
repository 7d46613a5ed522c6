//! What a power loss leaves of acknowledged commits, with and without
//! `[storage] sync_commit`.
//!
//! The database runs on RocksDB's `FaultInjectionTestFS`, placed under the
//! file encryption (`heliosdb_core::testing::open_with_power_loss`): every
//! byte RocksDB writes stays in memory until a sync covers it. Several
//! writer threads commit transactions (group commit) and record the ones
//! acknowledged; while they run, the power is cut (every later write and
//! sync fails), the engine is dropped, the bytes no sync covered are thrown
//! away, files created since their directory's last sync are deleted, and
//! the directory is reopened with the ordinary engine.
//!
//! Each transaction writes two records, `…/a` and `…/b`. After reopen, for
//! every writer: both or neither record of each transaction (atomicity),
//! exact values, and the surviving transactions are a prefix of the
//! writer's sequence (point-in-time recovery). With `sync_commit` every
//! acknowledged transaction survives, and at most the one a writer had in
//! flight when the power went appears besides; without it, acknowledged
//! transactions are lost — which shows the harness really drops unsynced
//! bytes. A third test kills a child process that writes through the same
//! layer: the kill takes the unsynced bytes (held in the child's memory)
//! with it. (It cannot also undo directory entries that were never synced,
//! which needs the parent's `PowerLoss::restore`; the in-process tests do.)
//!
//! Figures of one run (they vary a little): with `sync_commit`, 3 power
//! losses and ~2,120 acknowledged commits, 0 lost; 3 kills and ~1,650
//! acknowledged commits, 0 lost; without it, ~2,010 of ~2,010 lost. With the
//! commit's fsync removed from the engine, the first two fail (every
//! acknowledged commit lost), as they should.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use heliosdb_core::testing::open_with_power_loss;
use heliosdb_core::{Config, KeySource, StorageEngine};

const KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const WRITERS: usize = 4;
const CHILD_DIR_ENV: &str = "HELIOSDB_POWER_LOSS_CHILD_DIR";
const CHILD_ROUND_ENV: &str = "HELIOSDB_POWER_LOSS_CHILD_ROUND";

fn key_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("db.key");
    if !p.exists() {
        std::fs::write(&p, KEY_HEX).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    p
}

fn config(dir: &Path, sync_commit: bool) -> Config {
    let mut c = Config::default();
    c.encryption.enabled = true;
    c.encryption.key_source = KeySource::File(key_file(dir));
    c.storage.sync_commit = sync_commit;
    c
}

fn prefix(round: u32, writer: usize) -> String {
    format!("r{round:02}/w{writer}/")
}

fn record_key(round: u32, writer: usize, i: u64, part: &str) -> Vec<u8> {
    format!("{}{i:06}/{part}", prefix(round, writer)).into_bytes()
}

fn value(round: u32, writer: usize, i: u64, part: &str) -> Vec<u8> {
    let pad = "x".repeat((i * 37 % 400) as usize);
    format!("round {round} writer {writer} commit {i} part {part} {pad}").into_bytes()
}

/// Commits transactions `0, 1, 2, …` of (`round`, `writer`) until one
/// fails (the power is gone) or `cap` are acknowledged; calls `ack` with
/// each acknowledged number, in order.
fn write_until_failure(
    engine: &StorageEngine,
    round: u32,
    writer: usize,
    cap: u64,
    mut ack: impl FnMut(u64),
) {
    for i in 0..cap {
        let Ok(tx) = engine.begin() else { return };
        let wrote = ["a", "b"].iter().all(|part| {
            tx.put(
                &record_key(round, writer, i, part),
                &value(round, writer, i, part),
            )
            .is_ok()
        });
        if !wrote {
            return;
        }
        if tx.commit().is_err() {
            return;
        }
        ack(i);
    }
}

/// What reopening found of one round.
#[derive(Debug, Default)]
struct Tally {
    acknowledged: usize,
    present: usize,
    lost: usize,
    /// Present but never acknowledged: a writer's transaction in flight at
    /// the power cut (or kill) that reached the disk anyway.
    in_flight: usize,
}

/// Checks what `engine` holds of `round` against the acknowledged
/// transaction numbers of each writer (`acked[w]`, ascending).
fn check_round(engine: &StorageEngine, round: u32, acked: &[Vec<u64>]) -> Tally {
    let mut t = Tally::default();
    for (w, acked_w) in acked.iter().enumerate() {
        let rows = engine
            .scan_prefix(prefix(round, w).as_bytes())
            .unwrap_or_else(|e| panic!("round {round} writer {w}: scan failed: {e}"));
        let mut parts: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
        for (k, v) in rows {
            let k = String::from_utf8(k).expect("record keys are text");
            let rest = &k[prefix(round, w).len()..];
            let (num, part) = rest
                .split_once('/')
                .unwrap_or_else(|| panic!("unexpected key {k}"));
            let i: u64 = num.parse().unwrap();
            assert_eq!(
                v,
                value(round, w, i, part),
                "round {round} writer {w} commit {i} part {part}: wrong value"
            );
            parts.entry(i).or_default().push(part.to_owned());
        }
        for (i, p) in &parts {
            assert_eq!(
                p,
                &["a", "b"],
                "round {round} writer {w} commit {i}: torn transaction"
            );
        }
        let present: BTreeSet<u64> = parts.keys().copied().collect();
        let n = present.len() as u64;
        assert!(
            present.iter().copied().eq(0..n),
            "round {round} writer {w}: the surviving commits are not a prefix: {present:?}"
        );
        let acked_set: BTreeSet<u64> = acked_w.iter().copied().collect();
        assert!(
            acked_w.iter().copied().eq(0..acked_w.len() as u64),
            "round {round} writer {w}: acknowledgements out of order: {acked_w:?}"
        );
        let lost = acked_set.difference(&present).count();
        let extra: Vec<u64> = present.difference(&acked_set).copied().collect();
        // A writer stops at its first failed commit, so it has at most one
        // unacknowledged transaction that may have reached the disk.
        assert!(
            extra.len() <= 1,
            "round {round} writer {w}: {} commits present that were never acknowledged: {extra:?}",
            extra.len()
        );
        t.acknowledged += acked_w.len();
        t.present += present.len();
        t.lost += lost;
        t.in_flight += extra.len();
    }
    t
}

/// One round: writers commit on a power-loss env until `target`
/// transactions are acknowledged in all, then the power is cut while they
/// are still writing. With `flush_midway`, memtables are flushed to SST
/// files while the writers run (new SST, MANIFEST and WAL files, which
/// need their directory synced). Returns each writer's acknowledged
/// transaction numbers, after the power has been restored.
fn power_loss_round(
    dir: &Path,
    sync_commit: bool,
    round: u32,
    target: usize,
    flush_midway: bool,
) -> Vec<Vec<u64>> {
    let cfg = config(dir, sync_commit);
    let (engine, power) = open_with_power_loss(&dir.join("db"), &cfg).unwrap();
    let total = AtomicUsize::new(0);
    let acked: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (engine, total) = (&engine, &total);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    // Each writer alone could reach the target: the cut,
                    // not the cap, ends the round.
                    write_until_failure(engine, round, w, target as u64 * 4, |i| {
                        mine.push(i);
                        total.fetch_add(1, Ordering::SeqCst);
                    });
                    mine
                })
            })
            .collect();
        if flush_midway {
            while total.load(Ordering::SeqCst) < target / 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
            engine.flush().unwrap();
        }
        while total.load(Ordering::SeqCst) < target {
            std::thread::sleep(Duration::from_millis(1));
        }
        power.cut();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        acked.iter().all(|a| (a.len() as u64) < target as u64 * 4),
        "a writer reached its cap: the power cut did not stop the writes"
    );
    drop(engine);
    power.restore().unwrap();
    acked
}

fn reopen_and_verify(dir: &Path, sync_commit: bool) -> StorageEngine {
    let engine = StorageEngine::open(dir.join("db"), &config(dir, sync_commit))
        .unwrap_or_else(|e| panic!("the database does not open after the power loss: {e}"));
    let report = engine.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.failures);
    engine
}

#[test]
fn sync_commit_loses_no_acknowledged_commit_on_power_loss() {
    let dir = tempfile::tempdir().unwrap();
    let rounds: u32 = 3;
    let mut history: Vec<Vec<Vec<u64>>> = Vec::new();
    let mut in_flight = 0;
    for round in 0..rounds {
        // Round 0 creates the database on the fault layer too.
        history.push(power_loss_round(dir.path(), true, round, 700, round == 1));
        let engine = reopen_and_verify(dir.path(), true);
        // Every round so far: the earlier ones lived through later losses.
        for (r, acked) in history.iter().enumerate() {
            let t = check_round(&engine, r as u32, acked);
            assert_eq!(
                t.lost, 0,
                "round {r} after power loss {round}: {} of {} acknowledged commits lost",
                t.lost, t.acknowledged
            );
            if r as u32 == round {
                in_flight += t.in_flight;
            }
        }
    }
    let acknowledged: usize = history.iter().flatten().map(Vec::len).sum();
    assert!(acknowledged >= 2100, "{acknowledged}");
    println!(
        "sync_commit = true: {rounds} power losses, {acknowledged} acknowledged commits from \
         {WRITERS} writers, 0 lost; {in_flight} unacknowledged in-flight commits survived"
    );
}

#[test]
fn without_sync_commit_a_power_loss_loses_acknowledged_commits() {
    let dir = tempfile::tempdir().unwrap();
    let acked = power_loss_round(dir.path(), false, 0, 2000, false);
    let engine = reopen_and_verify(dir.path(), false);
    let t = check_round(&engine, 0, &acked);
    assert!(
        t.lost > 0,
        "no acknowledged commit was lost without sync_commit ({} acknowledged): the \
         harness dropped no unsynced data",
        t.acknowledged
    );
    // The database is whole and writable after the loss.
    engine.put(b"after", b"power loss").unwrap();
    println!(
        "sync_commit = false: {} of {} acknowledged commits lost, {} survived",
        t.lost, t.acknowledged, t.present
    );
}

/// The child's side of `sigkill_with_unsynced_bytes_in_flight_loses_no_acknowledged_commit`:
/// commits on a power-loss env from several threads, printing `ack <writer>
/// <n>` after each acknowledged commit, until killed.
#[test]
#[ignore = "entry point of the child process of sigkill_with_unsynced_bytes_in_flight_loses_no_acknowledged_commit"]
fn power_loss_child_entry() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        eprintln!("power_loss_child_entry runs only as a child of the kill test");
        return;
    };
    let dir = PathBuf::from(dir);
    let round: u32 = std::env::var(CHILD_ROUND_ENV).unwrap().parse().unwrap();
    let (engine, _power) = open_with_power_loss(&dir.join("db"), &config(&dir, true)).unwrap();
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let engine = &engine;
            s.spawn(move || {
                write_until_failure(engine, round, w, u64::MAX, |i| {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {w} {i}").unwrap();
                    out.flush().unwrap();
                });
            });
        }
    });
}

#[test]
fn sigkill_with_unsynced_bytes_in_flight_loses_no_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let trials: u32 = 3;
    let mut history: Vec<Vec<Vec<u64>>> = Vec::new();
    for round in 0..trials {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "power_loss_child_entry",
                "--exact",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_ENV, dir.path())
            .env(CHILD_ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut acked = vec![Vec::new(); WRITERS];
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The test harness prints "test power_loss_child_entry ... "
                // without a newline before the child's first line.
                let Some(at) = line.find("ack ") else {
                    continue;
                };
                let rest = &line[at + "ack ".len()..];
                let (w, i) = rest.split_once(' ').unwrap();
                let (w, i): (usize, u64) = (w.parse().unwrap(), i.parse().unwrap());
                acked[w].push(i);
                let _ = tx.send(());
            }
            acked
        });
        // Kill after a number of acknowledgements that differs per trial,
        // so the kill lands at different points of the WAL.
        let kill_after = 300 + 250 * round as usize;
        for seen in 0..kill_after {
            if rx.recv().is_err() {
                panic!("the child stopped after {seen} acknowledged commits");
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        history.push(reader.join().unwrap());

        let engine = reopen_and_verify(dir.path(), true);
        for (r, acked) in history.iter().enumerate() {
            let t = check_round(&engine, r as u32, acked);
            assert_eq!(
                t.lost, 0,
                "round {r} after kill {round}: {} of {} acknowledged commits lost",
                t.lost, t.acknowledged
            );
        }
    }
    let acknowledged: usize = history.iter().flatten().map(Vec::len).sum();
    println!(
        "SIGKILL with unsynced bytes in the child's memory: {trials} kills, {acknowledged} \
         acknowledged commits from {WRITERS} writers, 0 lost"
    );
}

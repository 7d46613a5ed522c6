//! The audit log: configured events appear once with the tutorial's fields;
//! switches work; the keyed chain catches an edited, deleted or reordered
//! line (and `audit-report --verify` names it); no key bytes reach the log;
//! retention prunes whole files; the report renders; a cut tail is caught
//! by the database's anchor and a torn last line is quarantined.

mod common;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Schema, Tuple, Value};

fn config(dir: &std::path::Path, key: &std::path::Path) -> Config {
    let mut c = common::file_config(key);
    c.audit.enabled = true;
    c.audit.log_file = Some(dir.join("audit").join("audit.log"));
    c.audit.log_reads = true;
    c.audit.log_writes = true;
    c.audit.log_deletes = true;
    c.audit.log_schema_changes = true;
    c.audit.log_encryption_events = true;
    c
}

fn workload(s: &StorageEngine) {
    s.catalog()
        .create_table(
            "patients",
            Schema::new(vec![
                Column::new("id", DataType::Int4).primary_key(),
                Column::new("name", DataType::Text),
            ]),
        )
        .unwrap();
    heliosdb_nano::audit::set_audit_user(Some("doctor_smith".into()), Some("192.0.2.7".into()));
    s.insert_batch(
        "patients",
        (1..=3)
            .map(|i| {
                Tuple::new(vec![
                    Value::Int4(i),
                    Value::String(format!("patient-name-{i}")),
                ])
            })
            .collect(),
    )
    .unwrap();
    assert_eq!(
        s.get_by_pk("patients", &Value::Int4(2))
            .unwrap()
            .unwrap()
            .values[1],
        Value::String("patient-name-2".into())
    );
    assert!(s.delete_by_pk("patients", &Value::Int4(3)).unwrap());
    heliosdb_nano::audit::set_audit_user(None, None);
    s.put(b"k", b"v").unwrap();
}

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn configured_events_appear_once_with_the_tutorial_fields() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let cfg = config(dir.path(), &key);
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        workload(&s);
        s.rotate_data_key().unwrap();
    }
    let log = cfg.audit.log_file.clone().unwrap();
    let l = lines(&log);
    let find = |t: &str, q: &str| {
        l.iter()
            .filter(|x| x["event_type"] == t && x["query"].as_str().is_some_and(|s| s.contains(q)))
            .collect::<Vec<_>>()
    };
    for f in [
        "timestamp",
        "event_type",
        "table",
        "user",
        "query",
        "rows_affected",
        "encryption_enabled",
        "source_ip",
    ] {
        assert!(l.iter().all(|x| x.get(f).is_some()), "field {f} missing");
    }
    assert_eq!(find("key_event", "key loaded from key file").len(), 1);
    assert_eq!(find("schema_change", "create_table").len(), 1);
    let w = find("write", "insert_batch");
    assert_eq!(w.len(), 1);
    assert_eq!(
        (
            w[0]["table"].as_str(),
            w[0]["rows_affected"].as_u64(),
            w[0]["user"].as_str()
        ),
        (Some("patients"), Some(3), Some("doctor_smith"))
    );
    assert_eq!(w[0]["source_ip"], "192.0.2.7");
    assert_eq!(w[0]["encryption_enabled"], true);
    let r = find("read", "get_by_pk");
    assert_eq!((r.len(), r[0]["rows_affected"].as_u64()), (1, Some(1)));
    assert_eq!(find("delete", "delete_by_pk").len(), 1);
    let kv = find("write", "put");
    assert_eq!(
        (kv.len(), kv[0]["table"].as_str(), kv[0]["user"].as_str()),
        (1, Some("kv"), Some("embedded"))
    );
    assert_eq!(find("key_event", "data-key rotation started").len(), 1);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(common::KEY_A), "key bytes in the audit log");
    assert!(
        // (A value no path or hex field can hold by chance: the temporary
        // directory's name, in the key event, may well contain "p2".)
        !text.contains("patient-name-"),
        "row values do not belong in the audit log"
    );

    // Switches: no reads logged when log_reads = false.
    let mut quiet = cfg.clone();
    quiet.audit.log_reads = false;
    let before = lines(&log).len();
    {
        let s = StorageEngine::open(dir.path().join("db"), &quiet).unwrap();
        s.scan_table("patients").unwrap();
        s.insert_tuple(
            "patients",
            Tuple::new(vec![Value::Int4(9), Value::String("x".into())]),
        )
        .unwrap();
    }
    let after = lines(&log);
    assert!(after[before..].iter().all(|x| x["event_type"] != "read"));
    assert!(after[before..].iter().any(|x| x["query"] == "insert_tuple"));
}

fn verify_cli(dir: &std::path::Path, cfg_file: &std::path::Path) -> (bool, String) {
    let out = common::bin()
        .args(["audit-report", "--verify", "--config"])
        .arg(cfg_file)
        .output()
        .unwrap();
    let _ = dir;
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn edited_deleted_and_reordered_lines_break_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let cfg = config(dir.path(), &key);
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        workload(&s);
    }
    let log = cfg.audit.log_file.clone().unwrap();
    let cfg_file = dir.path().join("config.toml");
    std::fs::write(
        &cfg_file,
        format!(
            "[storage]\npath = \"{}\"\n[encryption]\nenabled = true\nkey_source = {{ File = \"{}\" }}\n[audit]\nenabled = true\nlog_file = \"{}\"\n",
            dir.path().join("db").display(),
            key.display(),
            log.display()
        ),
    )
    .unwrap();
    let (ok, text) = verify_cli(dir.path(), &cfg_file);
    assert!(ok, "{text}");
    assert!(text.contains("audit chain intact"), "{text}");
    let original = std::fs::read_to_string(&log).unwrap();
    let orig_lines: Vec<&str> = original.lines().collect();
    assert!(orig_lines.len() >= 6);
    let cases: Vec<(String, usize)> = vec![
        // flip one character inside line 4's table name
        (
            {
                let mut l = orig_lines.clone();
                let edited = l[3].replacen("patients", "patientz", 1);
                l[3] = Box::leak(edited.into_boxed_str());
                l.join("\n") + "\n"
            },
            4,
        ),
        // delete line 3
        (
            {
                let mut l = orig_lines.clone();
                l.remove(2);
                l.join("\n") + "\n"
            },
            3,
        ),
        // swap lines 2 and 3
        (
            {
                let mut l = orig_lines.clone();
                l.swap(1, 2);
                l.join("\n") + "\n"
            },
            2,
        ),
    ];
    for (tampered, line_no) in cases {
        std::fs::write(&log, &tampered).unwrap();
        let (ok, text) = verify_cli(dir.path(), &cfg_file);
        assert!(!ok, "tampering went unnoticed: {text}");
        assert!(
            text.contains(&format!("line {line_no}:")),
            "expected line {line_no}: {text}"
        );
    }
    // Forging needs the chain key: recomputing a plain SHA-256 is not enough.
    std::fs::write(&log, &original).unwrap();
    assert!(verify_cli(dir.path(), &cfg_file).0);
    // The report renders (Markdown and HTML).
    let md = dir.path().join("r.md");
    let out = common::bin()
        .args(["audit-report", "--type", "encryption-compliance", "--input"])
        .arg(&log)
        .arg("--output")
        .arg(&md)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(&md).unwrap();
    assert!(
        report.contains("| patients |")
            && report.contains("doctor_smith")
            && report.contains("key loaded"),
        "{report}"
    );
    let html = dir.path().join("r.html");
    let out = common::bin()
        .args(["audit-report", "--input"])
        .arg(&log)
        .arg("--output")
        .arg(&html)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));
    // PDF, as the tutorial's command writes it, read back by pypdf.
    let pdf = dir.path().join("encryption_compliance_2025_12.pdf");
    let out = common::bin()
        .args(["audit-report", "--input"])
        .arg(&log)
        .args(["--type", "encryption-compliance", "--output"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = common::pdf_text(&pdf);
    for want in [
        "HeliosDB Nano encryption-compliance report",
        "Events per day",
        "Access per table",
        "patients",
        "doctor_smith",
        "key loaded",
    ] {
        assert!(text.contains(want), "{want:?} missing from the PDF: {text}");
    }
}

#[test]
fn retention_prunes_whole_old_files_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let mut cfg = config(dir.path(), &key);
    cfg.audit.retention.days = Some(30);
    let log = cfg.audit.log_file.clone().unwrap();
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let old = log.with_file_name("audit.log.2020-01-01");
    let recent_day = (heliosdb_nano::chrono::Utc::now() - heliosdb_nano::chrono::Duration::days(2))
        .format("%Y-%m-%d");
    let recent = log.with_file_name(format!("audit.log.{recent_day}"));
    std::fs::write(&old, "").unwrap();
    std::fs::write(&recent, "").unwrap();
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        workload(&s);
    }
    assert!(!old.exists(), "a file older than the retention was kept");
    assert!(recent.exists(), "a recent file was pruned");
    // Reopening continues the chain (seq goes on).
    let n = lines(&log).len();
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        s.put(b"x", b"y").unwrap();
    }
    let l = lines(&log);
    assert!(l.len() > n);
    assert_eq!(l[n]["seq"].as_u64(), Some(n as u64));
    assert_eq!(l[n]["prev"], l[n - 1]["mac"]);
}

/// A config file naming the database, its key file and the log, for the CLI.
fn write_cfg(
    dir: &std::path::Path,
    key: &std::path::Path,
    log: &std::path::Path,
) -> std::path::PathBuf {
    let cfg_file = dir.join("config.toml");
    std::fs::write(
        &cfg_file,
        format!(
            "[storage]\npath = \"{}\"\n[encryption]\nenabled = true\nkey_source = {{ File = \"{}\" }}\n[audit]\nenabled = true\nlog_file = \"{}\"\n",
            dir.join("db").display(),
            key.display(),
            log.display()
        ),
    )
    .unwrap();
    cfg_file
}

/// The finding: deleting the last lines left `--verify` saying intact and
/// the next open re-used their sequence numbers. Now the database's anchor
/// exposes the cut, and the next open records it and continues after it.
#[test]
fn deleting_the_tail_is_detected_and_sequence_numbers_are_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let cfg = config(dir.path(), &key);
    let log = cfg.audit.log_file.clone().unwrap();
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        workload(&s);
    }
    let cfg_file = write_cfg(dir.path(), &key, &log);
    assert!(verify_cli(dir.path(), &cfg_file).0, "intact before the cut");
    let all = std::fs::read_to_string(&log).unwrap();
    let kept: Vec<&str> = all.lines().collect();
    assert!(kept.len() >= 4, "{all}");
    let cut = kept.len() - 2;
    std::fs::write(&log, format!("{}\n", kept[..cut].join("\n"))).unwrap();
    let (ok, out) = verify_cli(dir.path(), &cfg_file);
    assert!(!ok, "a cut tail verified as intact: {out}");
    assert!(out.contains("truncated"), "{out}");
    // The next open records the cut and does not reuse seq numbers.
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        s.put(b"after", b"cut").unwrap();
    }
    let l = lines(&log);
    let note = &l[cut];
    assert_eq!(note["event_type"], "key_event");
    assert!(
        note["query"].as_str().unwrap().contains("truncated"),
        "{note}"
    );
    assert_eq!(note["seq"].as_u64(), Some(kept.len() as u64));
    // The gap stays visible to --verify.
    assert!(!verify_cli(dir.path(), &cfg_file).0);
}

/// A write cut short (power loss, full disk) leaves half a line: the next
/// open moves it aside, says so, and the chain verifies.
#[test]
fn a_torn_last_line_is_quarantined_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let cfg = config(dir.path(), &key);
    let log = cfg.audit.log_file.clone().unwrap();
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        workload(&s);
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, b"{\"seq\":99,\"timestamp\":\"20").unwrap();
    drop(f);
    {
        let s = StorageEngine::open(dir.path().join("db"), &cfg).unwrap();
        s.put(b"k", b"v").unwrap();
    }
    let torn: Vec<_> = std::fs::read_dir(log.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".torn-"))
        .collect();
    assert_eq!(torn.len(), 1);
    assert_eq!(
        std::fs::read(torn[0].path()).unwrap(),
        b"{\"seq\":99,\"timestamp\":\"20"
    );
    let l = lines(&log);
    assert!(l.iter().any(|x| x["query"]
        .as_str()
        .is_some_and(|q| q.contains("torn last line"))));
    let cfg_file = write_cfg(dir.path(), &key, &log);
    let (ok, out) = verify_cli(dir.path(), &cfg_file);
    assert!(ok, "{out}");
}

/// A decryption failure is a key event that names the record by a keyed
/// hash: the key-value key (or primary key), which the caller's error does
/// name, never reaches the unencrypted log.
#[test]
fn decryption_failure_events_name_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
    let cfg = config(dir.path(), &key);
    let log = cfg.audit.log_file.clone().unwrap();
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &cfg).unwrap();
        s.put(b"ssn:123-45-6789", b"secret").unwrap();
    }
    common::with_raw_db(&db, &cfg, |raw| {
        let cf = raw.cf_handle("kv").unwrap();
        let (k, v) = raw
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .next()
            .unwrap()
            .unwrap();
        let mut t = v.to_vec();
        let mid = t.len() / 2;
        t[mid] ^= 0x01;
        raw.put_cf(cf, &k, &t).unwrap();
    });
    {
        let s = StorageEngine::open(&db, &cfg).unwrap();
        let err = s.get(b"ssn:123-45-6789").unwrap_err().to_string();
        assert!(
            err.contains("123-45-6789"),
            "the caller's error names the key: {err}"
        );
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("123-45-6789"), "{text}");
    let event = lines(&log)
        .into_iter()
        .find(|l| {
            l["query"]
                .as_str()
                .is_some_and(|q| q.starts_with("decryption failure in get: record "))
        })
        .expect("a decryption failure event");
    assert_eq!(event["event_type"], "key_event");
}

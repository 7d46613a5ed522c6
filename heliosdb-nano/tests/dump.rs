//! Export → import round trips (encrypted → other key, encrypted →
//! plaintext) with a check of every row of every type, and bad dumps: a
//! syntax error at line N stops the import with N and leaves nothing behind,
//! unless --continue-on-error; hostile table names and values cannot forge
//! dump directives.

mod common;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, DataType, Schema, Tuple, Value};

fn populate(s: &StorageEngine) {
    s.catalog()
        .create_table("all types", common::all_types_schema())
        .unwrap();
    s.catalog().create_index("all types", "txt").unwrap();
    s.insert_batch("all types", (0..1234).map(common::all_types_row).collect())
        .unwrap();
    s.catalog()
        .create_table_with_own_key(
            "shredable",
            Schema::new(vec![Column::new("k", DataType::Text).primary_key()]),
        )
        .unwrap();
    s.insert_tuple("shredable", Tuple::new(vec![Value::String("x".into())]))
        .unwrap();
    s.catalog()
        .create_table(
            "nopk",
            Schema::new(vec![
                Column::new("v", DataType::Float8),
                Column::new("r", DataType::Float4),
            ]),
        )
        .unwrap();
    for (f, r) in [
        (f64::NAN, f32::NEG_INFINITY),
        (f64::INFINITY, f32::NAN),
        (-0.5, 0.1),
        (1e300, 3.4e38),
    ] {
        s.insert_tuple("nopk", Tuple::new(vec![Value::Float8(f), Value::Float4(r)]))
            .unwrap();
    }
    s.put(b"kv \x00 binary", b"\xff\x00value").unwrap();
}

fn same_content(a: &StorageEngine, b: &StorageEngine) {
    assert_eq!(
        a.catalog().list_tables().unwrap(),
        b.catalog().list_tables().unwrap()
    );
    for t in a.catalog().list_tables().unwrap() {
        assert_eq!(
            a.catalog().get_table_schema(&t).unwrap(),
            b.catalog().get_table_schema(&t).unwrap(),
            "{t}"
        );
        let (mut x, mut y) = (a.scan_table(&t).unwrap(), b.scan_table(&t).unwrap());
        let key = |t: &Tuple| {
            format!(
                "{:?}",
                t.values.iter().map(|v| v.to_string()).collect::<Vec<_>>()
            )
        };
        x.sort_by_key(key);
        y.sort_by_key(key);
        assert_eq!(x.len(), y.len(), "{t}");
        for (r, s) in x.iter().zip(&y) {
            for (u, v) in r.values.iter().zip(&s.values) {
                match (u, v) {
                    (Value::Float8(p), Value::Float8(q)) if p.is_nan() => assert!(q.is_nan()),
                    (Value::Float4(p), Value::Float4(q)) if p.is_nan() => assert!(q.is_nan()),
                    _ => assert_eq!(u, v, "table {t}"),
                }
            }
        }
    }
    assert_eq!(a.scan_prefix(b"").unwrap(), b.scan_prefix(b"").unwrap());
}

#[test]
fn export_import_round_trips_to_another_key_and_to_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let a = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    let b = common::key_file(dir.path(), "b.key", common::KEY_B.as_bytes(), 0o400);
    let db = dir.path().join("db");
    populate(&StorageEngine::open(&db, &common::file_config(&a)).unwrap());
    let dump = dir.path().join("dump.sql");
    let out = common::bin()
        .args(["export", "--input"])
        .arg(&db)
        .arg("--output")
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&dump).unwrap();
    assert!(
        text.contains("CREATE TABLE \"all types\"")
            && text
                .lines()
                .any(|l| l.starts_with("--@") && l.ends_with(" own_key")),
        "{}",
        &text[..400.min(text.len())]
    );
    // Encrypted with another key.
    let other = dir.path().join("other");
    let out = common::bin()
        .args(["import", "--key-file"])
        .arg(&b)
        .arg("--input")
        .arg(&dump)
        .arg("--output")
        .arg(&other)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let src = StorageEngine::open(&db, &common::file_config(&a)).unwrap();
    let imported = StorageEngine::open(&other, &common::file_config(&b)).unwrap();
    same_content(&src, &imported);
    assert!(
        imported
            .encryption_status()
            .unwrap()
            .deks
            .iter()
            .any(|d| d.purpose == "table"),
        "own key kept"
    );
    assert_eq!(
        imported
            .find_by("all types", "txt", &Value::String("it's".into()))
            .unwrap()
            .len(),
        1234 / 8 + 1
    );
    drop(imported);
    // Plaintext.
    let plain = dir.path().join("plain");
    let out = common::bin()
        .args(["import", "--plaintext", "--input"])
        .arg(&dump)
        .arg("--output")
        .arg(&plain)
        .env_remove("HELIOSDB_ENCRYPTION_KEY")
        .output()
        .unwrap();
    // The own-key table needs encryption: reported, the rest imported.
    assert!(!out.status.success());
    let plain_db = plain.exists();
    assert!(!plain_db || String::from_utf8_lossy(&out.stdout).contains("skipped"));
    let out = common::bin()
        .args(["import", "--plaintext", "--continue-on-error", "--input"])
        .arg(&dump)
        .arg("--output")
        .arg(dir.path().join("plain2"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("skipped statement at line"), "{stdout}");
    let p =
        StorageEngine::open(dir.path().join("plain2"), &heliosdb_nano::Config::default()).unwrap();
    assert!(!p.is_encrypted());
    assert_eq!(p.scan_table("all types").unwrap().len(), 1234);
    assert_eq!(p.scan_table("nopk").unwrap().len(), 4);
}

#[test]
fn a_syntax_error_stops_at_its_line_and_leaves_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let b = common::key_file(dir.path(), "b.key", common::KEY_B.as_bytes(), 0o400);
    let dump = dir.path().join("bad.sql");
    std::fs::write(
        &dump,
        "-- a dump\nCREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t (id, v) VALUES\n(1, 'a'),\n(2, 'b');\n\nINSERT INTO t (id, v) VALUES (3, 'c') garbage here;\nINSERT INTO t (id, v) VALUES (4, 'd');\n",
    )
    .unwrap();
    let target = dir.path().join("db");
    let out = common::bin()
        .args(["import", "--key-file"])
        .arg(&b)
        .arg("--input")
        .arg(&dump)
        .arg("--output")
        .arg(&target)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("import failed at line 7"), "{err}");
    assert!(!target.exists(), "a half-built database was left behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    let out = common::bin()
        .args(["import", "--continue-on-error", "--key-file"])
        .arg(&b)
        .arg("--input")
        .arg(&dump)
        .arg("--output")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("skipped statement at line 7"));
    let s = StorageEngine::open(&target, &common::file_config(&b)).unwrap();
    assert_eq!(s.scan_table("t").unwrap().len(), 3);
}

/// A SQL user names a table so that a naive dump splitter would see a
/// `--@kv` directive (the finding: `import --continue-on-error` created a
/// server login). The names and values round-trip exactly; no directive is
/// forged, with or without `--continue-on-error`.
#[test]
fn hostile_names_and_values_forge_no_directive() {
    let forged_key = to_hex(b"user:eve");
    let forged = format!("--@kv {forged_key} 00\n--@heliosdb own_key\n");
    let table = format!("x\";\n{forged}");
    let column = format!("c\";\n{forged}");
    let dir = tempfile::tempdir().unwrap();
    let src = StorageEngine::open_in_memory(&heliosdb_nano::Config::in_memory()).unwrap();
    src.catalog()
        .create_table(
            &table,
            Schema::new(vec![
                Column::new("id", DataType::Int4).primary_key(),
                Column::new(column.as_str(), DataType::Text),
            ]),
        )
        .unwrap();
    src.insert_tuple(
        &table,
        Tuple::new(vec![
            Value::Int4(1),
            Value::String(format!("v';\n{forged}E'\\';\n{forged}")),
        ]),
    )
    .unwrap();
    let mut dump = Vec::new();
    src.export_sql(&mut dump, |_| {}).unwrap();
    for continue_on_error in [false, true] {
        let dst = StorageEngine::open(
            dir.path().join(format!("dst-{continue_on_error}")),
            &heliosdb_nano::Config::default(),
        )
        .unwrap();
        let stats =
            heliosdb_nano::storage::import_sql(&dst, &dump[..], continue_on_error, |_| {}).unwrap();
        assert!(stats.skipped.is_empty(), "{:?}", stats.skipped);
        assert_eq!(stats.kv_pairs, 0);
        assert_eq!(
            dst.get(b"user:eve").unwrap(),
            None,
            "a directive was forged"
        );
        assert_eq!(dst.catalog().list_tables().unwrap(), vec![table.clone()]);
        assert_eq!(
            dst.scan_table(&table).unwrap(),
            src.scan_table(&table).unwrap()
        );
        let schema = dst.catalog().get_table_schema(&table).unwrap();
        assert_eq!(schema.columns[1].name, column);
    }
}

/// Directives count only with the marker the dump's header declares: a
/// bare `--@kv` line in a marked dump is refused, not obeyed; a dump from
/// before markers (no header) still imports its bare directives.
#[test]
fn directives_need_the_dump_marker_but_old_dumps_still_import() {
    let key = to_hex(b"k");
    let marked = format!(
        "-- heliosdb-directives 00112233445566778899aabbccddeeff\n\
         --@kv {key} 01\n\
         --@00112233445566778899aabbccddeeff kv {key} 02\n"
    );
    let dst = StorageEngine::open_in_memory(&heliosdb_nano::Config::in_memory()).unwrap();
    let err = heliosdb_nano::storage::import_sql(&dst, marked.as_bytes(), false, |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2") && err.contains("marker"), "{err}");
    assert_eq!(dst.get(b"k").unwrap(), None);
    let stats = heliosdb_nano::storage::import_sql(&dst, marked.as_bytes(), true, |_| {}).unwrap();
    assert_eq!(stats.skipped.len(), 1);
    assert_eq!(dst.get(b"k").unwrap(), Some(vec![2]));

    let old = format!("--@kv {key} 03\n");
    let dst = StorageEngine::open_in_memory(&heliosdb_nano::Config::in_memory()).unwrap();
    heliosdb_nano::storage::import_sql(&dst, old.as_bytes(), false, |_| {}).unwrap();
    assert_eq!(dst.get(b"k").unwrap(), Some(vec![3]));
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn add_user_cli(db: &std::path::Path, name: &str, password: &str) {
    use std::io::Write;
    let mut child = common::bin()
        .args(["user", "add", name, "--path"])
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn export_cli(db: &std::path::Path, out: &std::path::Path, include_users: bool) -> String {
    let mut cmd = common::bin();
    cmd.args(["export", "--input"])
        .arg(db)
        .arg("--output")
        .arg(out);
    if include_users {
        cmd.arg("--include-users");
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

/// `export` writes no server user (nor anything of the server's
/// namespace) unless asked; with `--include-users` it writes each as
/// `CREATE ROLE … PASSWORD 'SCRAM-SHA-256$…'`, the verifier PostgreSQL
/// accepts, never the password or SaltedPassword; `import` creates them
/// only with `--include-users`, and the round trip keeps the verifier.
#[test]
fn users_leave_a_dump_only_with_include_users_and_only_as_verifiers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    {
        let s = StorageEngine::open(&db, &heliosdb_nano::Config::default()).unwrap();
        s.catalog()
            .create_table(
                "t",
                Schema::new(vec![Column::new("id", DataType::Int4).primary_key()]),
            )
            .unwrap();
        s.put(b"app-key", b"app-value").unwrap();
    }
    add_user_cli(&db, "alice", "alice-correct-horse");
    let server_ns = to_hex(b"__heliosdb_server/");

    let plain = export_cli(&db, &dir.path().join("plain.sql"), false);
    for needle in [
        "CREATE ROLE",
        "SCRAM",
        "alice",
        server_ns.as_str(),
        "salted",
    ] {
        assert!(!plain.contains(needle), "{needle} in a dump without users");
    }
    assert!(
        plain.contains(&to_hex(b"app-key")),
        "other key-value pairs travel"
    );

    let with = export_cli(&db, &dir.path().join("with.sql"), true);
    let role_line = with
        .lines()
        .find(|l| l.starts_with("CREATE ROLE \"alice\" LOGIN PASSWORD 'SCRAM-SHA-256$4096:"))
        .unwrap_or_else(|| panic!("no verifier line in\n{with}"))
        .to_string();
    for needle in [server_ns.as_str(), "salted", "alice-correct-horse"] {
        assert!(!with.contains(needle), "{needle} in a dump with users");
    }

    // Import refuses users unless asked, at their line.
    let refused = dir.path().join("refused");
    let o = common::bin()
        .args(["import", "--plaintext", "--input"])
        .arg(dir.path().join("with.sql"))
        .arg("--output")
        .arg(&refused)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("only with --include-users"), "{err}");
    assert!(!refused.exists());

    let back = dir.path().join("back");
    let o = common::bin()
        .args(["import", "--plaintext", "--include-users", "--input"])
        .arg(dir.path().join("with.sql"))
        .arg("--output")
        .arg(&back)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again = export_cli(&back, &dir.path().join("again.sql"), true);
    assert!(
        again.lines().any(|l| l == role_line),
        "the verifier did not survive the round trip"
    );
}

/// Import reads untrusted text: nesting and operator chains past the
/// limits are refused from the tokens (no deep tree is built, so no stack
/// overflow), and a line or statement past `MAX_STATEMENT_BYTES` is refused
/// before it is held in full. Each is a clean error naming its line.
#[test]
fn import_refuses_deep_and_huge_input_with_a_clear_error() {
    use std::io::Read;
    let fresh = || StorageEngine::open_in_memory(&heliosdb_nano::Config::in_memory()).unwrap();
    let import = |text: &[u8]| {
        heliosdb_nano::storage::import_sql(&fresh(), text, false, |_| {})
            .unwrap_err()
            .to_string()
    };
    let head = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n";
    let n = 100_000;
    let deep = format!(
        "{head}INSERT INTO t VALUES ({}1{});\n",
        "(".repeat(n),
        ")".repeat(n)
    );
    let e = import(deep.as_bytes());
    assert!(e.contains("line 2") && e.contains("nested deeper"), "{e}");
    let chain = format!("{head}INSERT INTO t VALUES (1{}, 'x');\n", "+1".repeat(n));
    let e = import(chain.as_bytes());
    assert!(
        e.contains("line 2") && e.contains("chains more than"),
        "{e}"
    );
    let unary = format!("{head}INSERT INTO t VALUES ({}1, 'x');\n", "- ".repeat(n));
    let e = import(unary.as_bytes());
    assert!(e.contains("chains more than"), "{e}");
    let nots = format!("{head}SELECT {}TRUE;\n", "NOT ".repeat(n));
    let e = import(nots.as_bytes());
    assert!(e.contains("chains more than"), "{e}");

    let max = heliosdb_nano::storage::MAX_STATEMENT_BYTES;
    let long_line = std::io::BufReader::new(std::io::repeat(b'a').take(max as u64 + 10));
    let e = heliosdb_nano::storage::import_sql(&fresh(), long_line, false, |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 1") && e.contains("a line longer than"),
        "{e}"
    );
    let long_statement = std::io::BufReader::new(
        b"INSERT INTO t VALUES\n"
            .chain(std::io::repeat(b'\n').take(1))
            .chain(RepeatLine(b"(1, 'x'),\n", max / 10 + 10)),
    );
    let e = heliosdb_nano::storage::import_sql(&fresh(), long_statement, true, |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 1") && e.contains("a statement longer than"),
        "{e}"
    );
}

/// `line` repeated `times` times, as a reader.
struct RepeatLine(&'static [u8], usize);

impl std::io::Read for RepeatLine {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while self.1 > 0 && buf.len() - n >= self.0.len() {
            buf[n..n + self.0.len()].copy_from_slice(self.0);
            n += self.0.len();
            self.1 -= 1;
        }
        Ok(n)
    }
}

//! `heliosdb-nano export` loads into a real PostgreSQL with `psql -f`: a
//! throwaway cluster (initdb + pg_ctl on a Unix socket in a temp dir) takes
//! the dump with ON_ERROR_STOP, then every row of every type is compared,
//! and the SQL layer's SERIAL sequences and VARCHAR(n) limits arrive too.
//!
//! Needs PostgreSQL's server binaries (`./dev test` installs them). Without
//! them the test says so and passes, except under CI, where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use heliosdb_nano::sql::SqlExt;
use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, DataType, Schema, Tuple, Value};

/// The newest installed PostgreSQL's binary directory.
fn pg_bindir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A PostgreSQL cluster in a temp dir, listening only on a Unix socket there.
struct Cluster {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    as_root: bool,
}

const PORT: &str = "5439";

impl Cluster {
    fn start(bindir: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let as_root = is_root();
        // PostgreSQL refuses to run as root: the cluster belongs to the
        // `postgres` user, which needs to reach the temp dir.
        if as_root {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let c = Cluster {
            bindir,
            dir,
            as_root,
        };
        let data = c.dir.path().join("data");
        c.run_pg(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let opts = format!(
            "-k {} -p {PORT} -c listen_addresses= -F",
            c.dir.path().display()
        );
        let log = c.dir.path().join("server.log");
        c.run_pg(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        c
    }

    fn run_pg(&self, tool: &str, args: &[&str]) {
        let exe = self.bindir.join(tool);
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// psql as the superuser; returns stdout, panics with stderr on failure.
    fn psql(&self, args: &[&str]) -> String {
        let out = Command::new(self.bindir.join("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", PORT, "-U", "postgres", "-d", "postgres", "-X", "-q"])
            .args(["-v", "ON_ERROR_STOP=1"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Rows of `query`, fields split (unit separator between fields, record
    /// separator between rows, so texts with newlines survive).
    fn rows(&self, query: &str) -> Vec<Vec<String>> {
        let out = self.psql(&[
            "-A",
            "-t",
            "-F",
            "\u{1f}",
            "-R",
            "\u{1e}",
            "-P",
            "null=<NULL>",
            "-c",
            query,
        ]);
        out.trim_end_matches('\n')
            .split('\u{1e}')
            .filter(|r| !r.is_empty())
            .map(|r| r.split('\u{1f}').map(str::to_string).collect())
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let exe = self.bindir.join("pg_ctl");
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd
            .args(["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"])
            .output();
    }
}

/// How PostgreSQL prints row `i` of the "all types" table through the query
/// in the test (bytes as hex, timestamps as epoch microseconds).
fn expected_all_types_row(t: &Tuple) -> Vec<String> {
    t.values
        .iter()
        .map(|v| match v {
            Value::Null => "<NULL>".to_string(),
            Value::Int2(x) => x.to_string(),
            Value::Int4(x) => x.to_string(),
            Value::Int8(x) => x.to_string(),
            Value::Float8(x) => x.to_string(),
            Value::Numeric(d) => d.to_string(),
            Value::String(s) => s.clone(),
            Value::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            Value::Bool(b) => if *b { "t" } else { "f" }.to_string(),
            Value::Timestamp(ts) | Value::TimestampTz(ts) => ts.timestamp_micros().to_string(),
            other => other.to_string(),
        })
        .collect()
}

fn export(db: &Path, key: &Path, dump: &Path) {
    let out = common::bin()
        .args(["export", "--key-file"])
        .arg(key)
        .arg("--input")
        .arg(db)
        .arg("--output")
        .arg(dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn psql_loads_an_export_into_postgresql() {
    let Some(bindir) = pg_bindir() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL's server is not installed (./dev install-test-deps installs it)"
        );
        eprintln!("SKIPPED: PostgreSQL's server is not installed (./dev install-test-deps)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = common::key_file(dir.path(), "a.key", common::KEY_A.as_bytes(), 0o400);
    let db = dir.path().join("db");
    let rows: Vec<Tuple> = (0..700).map(common::all_types_row).collect();
    {
        let s = StorageEngine::open(&db, &common::file_config(&key)).unwrap();
        s.catalog()
            .create_table("all types", common::all_types_schema())
            .unwrap();
        s.catalog().create_index("all types", "txt").unwrap();
        s.insert_batch("all types", rows.clone()).unwrap();
        s.catalog()
            .create_table(
                "nopk",
                Schema::new(vec![Column::new("v", DataType::Float8)]),
            )
            .unwrap();
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.5] {
            s.insert_tuple("nopk", Tuple::new(vec![Value::Float8(f)]))
                .unwrap();
        }
        // Through SQL: SERIAL, BIGSERIAL and VARCHAR(n) live in the SQL
        // layer's metadata; the dump must carry them to PostgreSQL.
        s.execute_sql(
            "CREATE TABLE patients (id SERIAL PRIMARY KEY, name VARCHAR(12) NOT NULL, \
             visits BIGSERIAL, note TEXT)",
        )
        .unwrap();
        s.execute_sql(
            "INSERT INTO patients (name, note) VALUES ('John Doe', 'it''s'), \
             ('Jane Roe', NULL), ('Max Poe', 'x')",
        )
        .unwrap();
        s.execute_sql("DELETE FROM patients WHERE id = 3").unwrap();
        s.execute_sql("CREATE TABLE unused (id SERIAL PRIMARY KEY, t TEXT)")
            .unwrap();
        s.put(b"kv-only", b"stays out of PostgreSQL").unwrap();
    }
    let dump = dir.path().join("dump.sql");
    export(&db, &key, &dump);

    let pg = Cluster::start(bindir);
    pg.psql(&["-f", dump.to_str().unwrap()]);

    // Every row of every type, in order.
    let got = pg.rows(
        "SELECT id, small, \"int\", dbl, num, txt, encode(bin, 'hex'), flag, \
         (extract(epoch FROM ts) * 1000000)::bigint FROM \"all types\" ORDER BY id",
    );
    assert_eq!(got.len(), rows.len());
    for (g, t) in got.iter().zip(&rows) {
        assert_eq!(g, &expected_all_types_row(t));
    }
    assert_eq!(
        pg.rows("SELECT v FROM nopk ORDER BY v"),
        [["-Infinity"], ["-0.5"], ["Infinity"], ["NaN"]]
    );
    // The index came along.
    assert_eq!(
        pg.rows("SELECT count(*) FROM pg_indexes WHERE tablename = 'all types'"),
        [["2"]]
    );
    // SERIAL columns continue where HeliosDB's sequences stood (id 3 was
    // handed out, then deleted: the next is 4), unused ones start at 1.
    assert_eq!(
        pg.rows("INSERT INTO patients (name) VALUES ('New One') RETURNING id, visits"),
        [["4", "4"]]
    );
    assert_eq!(
        pg.rows("INSERT INTO unused (t) VALUES ('a') RETURNING id"),
        [["1"]]
    );
    assert_eq!(
        pg.rows("SELECT id, name, note FROM patients ORDER BY id"),
        [
            ["1", "John Doe", "it's"],
            ["2", "Jane Roe", "<NULL>"],
            ["4", "New One", "<NULL>"]
        ]
    );
    // VARCHAR(12) is enforced by PostgreSQL too.
    assert_eq!(
        pg.rows(
            "SELECT character_maximum_length FROM information_schema.columns \
             WHERE table_name = 'patients' AND column_name = 'name'"
        ),
        [["12"]]
    );

    // The same dump still imports into HeliosDB (the setval lines are
    // accepted; sequences come back with the key-value pairs).
    let back = dir.path().join("back");
    let out = common::bin()
        .args(["import", "--key-file"])
        .arg(&key)
        .arg("--input")
        .arg(&dump)
        .arg("--output")
        .arg(&back)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let s = StorageEngine::open(&back, &common::file_config(&key)).unwrap();
    let r = s
        .execute_sql("INSERT INTO patients (name) VALUES ('Again') RETURNING id")
        .unwrap();
    assert_eq!(r.rows(), &[vec![Value::Int4(4)]]);
    assert!(s
        .execute_sql("INSERT INTO patients (name) VALUES ('thirteen chars')")
        .is_err());
}

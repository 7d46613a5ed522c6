//! Real client libraries against the server, as applications use them:
//! SQLAlchemy 2 (Core DDL, the ORM with relationships, savepoints, errors,
//! inspection of tables and columns) over psycopg 3 and over psycopg2,
//! Alembic's autogenerate comparison of models with the schema they made,
//! psycopg 3's parameters and prepare threshold, node-postgres's (`pg`)
//! parameters and results of every type (JavaScript Dates under three time
//! zones, NUMERIC as exact strings, bytea as Buffers, uuid, json/jsonb),
//! column names, SQLSTATEs and transactions, and PostgreSQL's pgbench
//! (initialisation and the TPC-B-like script, books checked). The scripts
//! live in `tests/clients/`; each asserts exact answers (PostgreSQL's: they
//! pass against PostgreSQL itself) and exits non-zero on the first
//! difference. Like the applications these stand for, they connect without
//! TLS (the servers here have none; TLS has its own tests in `server.rs`).
//!
//! The Python packages and node-postgres are pinned (node-postgres by
//! `tests/clients/node/package-lock.json`) and installed by
//! `./dev install-test-deps` (which `./dev test` and `.ci/run` call).
//! Without them the tests fail and say how to install them, unless
//! `HELIOSDB_SKIP_CLIENTS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestServer, PASSWORD, USER};

const MODULES: &[&str] = &["sqlalchemy", "alembic", "psycopg", "psycopg2"];

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// `false` when the suite is skipped on purpose; panics when the packages
/// are missing otherwise.
fn clients_available() -> bool {
    if std::env::var("HELIOSDB_SKIP_CLIENTS").as_deref() == Ok("1") {
        eprintln!("HELIOSDB_SKIP_CLIENTS=1: client library tests skipped");
        return false;
    }
    let imports = MODULES.join(", ");
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!("import {imports}"))
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "the client libraries ({imports}) are not importable: {}\n\
             install them with `./dev install-test-deps`, or set HELIOSDB_SKIP_CLIENTS=1",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => {
            panic!("python3 cannot be run ({e}); install Python 3 or set HELIOSDB_SKIP_CLIENTS=1")
        }
    }
}

/// node-postgres's folder: its pinned `package.json` and
/// `package-lock.json`, and the `node_modules` that `./dev
/// install-test-deps` installs there.
fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/node")
}

/// As [`clients_available`] for node-postgres: `false` when the suite is
/// skipped on purpose; panics when `node` or the pinned `pg` is missing.
fn node_pg_available() -> bool {
    if std::env::var("HELIOSDB_SKIP_CLIENTS").as_deref() == Ok("1") {
        eprintln!("HELIOSDB_SKIP_CLIENTS=1: client library tests skipped");
        return false;
    }
    // The installed pg must be the version package.json pins.
    let check = "const want = require(process.argv[1] + '/package.json').dependencies.pg; \
                 const have = require('pg/package.json').version; \
                 if (have !== want) throw new Error(`pg ${have} is installed, ${want} is pinned`);";
    let out = Command::new("node")
        .arg("-e")
        .arg(check)
        .arg(node_dir())
        .env("NODE_PATH", node_dir().join("node_modules"))
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "node-postgres (pg) is not installed as pinned: {}\n\
             install it with `./dev install-test-deps`, or set HELIOSDB_SKIP_CLIENTS=1",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .find(|l| l.starts_with("Error"))
                .unwrap_or("")
                .trim()
        ),
        Err(e) => panic!(
            "node cannot be run ({e}); install Node.js (./dev install-test-deps does) \
             or set HELIOSDB_SKIP_CLIENTS=1"
        ),
    }
}

/// Runs `script` with `args` while the server runs; panics with the
/// script's output unless it exits 0 having printed `ok`.
async fn run_script(name: &str, args: Vec<String>) {
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    run_with(cmd, name, args).await;
}

/// Runs `script` with `args` under `cmd` (its interpreter, with its
/// environment) while the server runs; panics with the script's output
/// unless it exits 0 having printed `ok`.
async fn run_with(mut cmd: Command, name: &str, args: Vec<String>) {
    let path = script(name);
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(move || cmd.arg(&path).args(&args).output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{program} cannot be run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "{name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

fn url(server: &TestServer, driver: &str) -> String {
    format!(
        "postgresql+{driver}://{USER}:{PASSWORD}@127.0.0.1:{}/encrypted_db",
        server.port()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_orm_over_psycopg3() {
    if !clients_available() {
        return;
    }
    let server = TestServer::start(true, None).await;
    run_script("sqlalchemy_orm.py", vec![url(&server, "psycopg")]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_orm_over_psycopg2() {
    if !clients_available() {
        return;
    }
    let server = TestServer::start(true, None).await;
    run_script("sqlalchemy_orm.py", vec![url(&server, "psycopg2")]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alembic_autogenerate_finds_no_difference_over_psycopg3() {
    if !clients_available() {
        return;
    }
    let server = TestServer::start(true, None).await;
    run_script("alembic_autogen.py", vec![url(&server, "psycopg")]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alembic_autogenerate_finds_no_difference_over_psycopg2() {
    if !clients_available() {
        return;
    }
    let server = TestServer::start(true, None).await;
    run_script("alembic_autogen.py", vec![url(&server, "psycopg2")]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg3_parameters_and_prepare_threshold() {
    if !clients_available() {
        return;
    }
    let server = TestServer::start(true, None).await;
    let conninfo = format!(
        "host=127.0.0.1 port={} user={USER} password={PASSWORD} dbname=encrypted_db",
        server.port()
    );
    run_script("psycopg_params.py", vec![conninfo]).await;
    server.stop().await;
}

/// node-postgres (`pg`, pinned) against the server (encrypted): every type
/// the server stores as parameters and results through the extended
/// protocol — integers, REAL and DOUBLE PRECISION, NUMERIC as exact strings,
/// text, boolean, bytea as Buffers, date, timestamp and timestamptz as
/// JavaScript Dates under UTC, Asia/Kolkata and America/St_Johns, time,
/// interval, uuid, json and jsonb from objects, NULLs of each — result
/// column names of function calls, SQLSTATEs (23505, 42P01, 22003, 25P02, …)
/// with the connection usable after them, a named prepared statement run
/// again, and transactions committed, rolled back and aborted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_pg_parameters_round_trip() {
    if !node_pg_available() {
        return;
    }
    let server = TestServer::start(true, None).await;
    let url = format!(
        "postgresql://{USER}:{PASSWORD}@127.0.0.1:{}/encrypted_db?sslmode=disable",
        server.port()
    );
    let mut node = Command::new("node");
    node.env("NODE_PATH", node_dir().join("node_modules"));
    run_with(node, "node_pg_params.js", vec![url]).await;
    server.stop().await;
}

/// PostgreSQL's own pgbench against the server (encrypted): `pgbench -i -s 1`
/// (drop, create, COPY 100 000 accounts, VACUUM, ALTER TABLE … ADD PRIMARY
/// KEY), then the default TPC-B-like script, 8 clients on 2 threads, over
/// the simple and the extended protocol. Every transaction must commit at
/// its first try (`--max-tries=1`: 0 failed, no client aborted, pgbench
/// exits 0) — the clients queue on the hot branch rows instead of failing
/// with 40001 — and the books must balance afterwards: the sums of account,
/// teller and branch balances and of the history's deltas are equal, so no
/// update was lost. The report goes to the test output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_runs_with_no_failed_transaction_and_balanced_books() {
    if std::env::var("HELIOSDB_SKIP_PG").as_deref() == Ok("1") {
        eprintln!("HELIOSDB_SKIP_PG=1: pgbench test skipped");
        return;
    }
    let bin = common::Postgres::bin().expect(
        "pgbench not found under /usr/lib/postgresql (apt-get install postgresql; \
         ./dev test installs it), or set HELIOSDB_SKIP_PG=1",
    );
    let pgbench = bin.join("pgbench");
    let server = TestServer::start(true, None).await;
    let port = server.port().to_string();
    let run = |args: Vec<&'static str>| {
        let (pgbench, port) = (pgbench.clone(), port.clone());
        async move {
            let out = tokio::task::spawn_blocking(move || {
                Command::new(&pgbench)
                    .args(["-h", "127.0.0.1", "-p", &port, "-U", USER])
                    .args(&args)
                    .arg("encrypted_db")
                    .env("PGPASSWORD", PASSWORD)
                    .output()
            })
            .await
            .unwrap()
            .expect("pgbench runs");
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                out.status.success(),
                "pgbench failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                out.status
            );
            stdout
        }
    };
    run(vec!["-i", "-s", "1", "-q"]).await;
    for mode in ["simple", "extended"] {
        // No retry: a serialization failure (40001) counts as failed.
        let report = run(vec![
            "-c",
            "8",
            "-j",
            "2",
            "-T",
            "4",
            "-n",
            "-M",
            mode,
            "--max-tries=1",
        ])
        .await;
        eprintln!("pgbench {mode}:\n{report}");
        let field = |name: &str| -> u64 {
            let line = report
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("no '{name}' in pgbench's report:\n{report}"));
            line[name.len()..]
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unreadable '{line}'"))
        };
        let processed = field("number of transactions actually processed:");
        assert!(processed > 0, "{mode}: nothing processed:\n{report}");
        assert_eq!(
            field("number of failed transactions:"),
            0,
            "{mode}: failed transactions:\n{report}"
        );
    }
    let client = server.client().await;
    let mut sums = Vec::new();
    for sql in [
        "SELECT sum(abalance) FROM pgbench_accounts",
        "SELECT sum(tbalance) FROM pgbench_tellers",
        "SELECT sum(bbalance) FROM pgbench_branches",
        "SELECT sum(delta) FROM pgbench_history",
        "SELECT count(*) FROM pgbench_accounts",
    ] {
        let rows = client.simple_query(sql).await.unwrap();
        let value = rows
            .iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .unwrap_or_default();
        sums.push(value);
    }
    assert_eq!(sums[4], "100000", "accounts after pgbench -i -s 1");
    assert!(
        sums[..4].iter().all(|s| s == &sums[3]) && !sums[3].is_empty(),
        "the books do not balance (accounts, tellers, branches, history): {:?}",
        &sums[..4]
    );
    server.stop().await;
}

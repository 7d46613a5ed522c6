//! Real client libraries against the server, as applications use them:
//! SQLAlchemy 2 (Core DDL, the ORM with relationships, savepoints, errors,
//! inspection of tables and columns) over psycopg 3 and over psycopg2, and
//! psycopg 3's parameters and prepare threshold. The scripts
//! live in `tests/clients/`; each asserts exact answers and exits non-zero
//! on the first difference.
//!
//! The Python packages are pinned and installed by `./dev install-test-deps`
//! (which `./dev test` and `.ci/run` call). Without them the tests fail and
//! say how to install them, unless `HELIOSDB_SKIP_CLIENTS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestServer, PASSWORD, USER};

const MODULES: &[&str] = &["sqlalchemy", "psycopg", "psycopg2"];

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

/// Runs `script` with `args` while the server runs; panics with the
/// script's output unless it exits 0 having printed `ok`.
async fn run_script(name: &str, args: Vec<String>) {
    let path = script(name);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(&path)
            .args(&args)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
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

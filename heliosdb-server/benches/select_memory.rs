//! Memory of a large `SELECT` through the server: a table of 65,536 rows
//! of 1 KiB (64 MiB of values) on an encrypted engine with a 16 MiB block
//! cache, read by a tokio-postgres client that counts the rows and keeps
//! none. `SELECT * FROM t` streams (the session reads the table a chunk at
//! a time and the connection sends each chunk before the next is read);
//! `… ORDER BY body, id` must collect every row before the first goes out
//! and is printed beside it for scale. Prints the peak growth of this
//! process's resident set (server and client) during each query, sampled
//! every 256 rows. Target (storage issue: memory of any scan bounded by a
//! batch, never by the table): the streamed query adds at most 64 MiB.
//!
//! Run: `cargo bench -p heliosdb-server --bench select_memory`

use std::sync::Arc;

use futures::StreamExt;
use heliosdb_core::config::ServerConfig;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::FakeSource;
use heliosdb_server::{users, Server};

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
const CACHE: usize = 16 << 20;
const ROW_BYTES: usize = 1024;
const ROWS: usize = 4 * (CACHE / ROW_BYTES);

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs `sql`, counting rows; the peak resident-set growth (KiB).
async fn peak_growth(c: &tokio_postgres::Client, sql: &str) -> u64 {
    let base = rss_kib();
    let mut peak = base;
    let rows = c
        .query_raw(sql, std::iter::empty::<i32>())
        .await
        .expect("query");
    futures::pin_mut!(rows);
    let mut n = 0usize;
    while let Some(row) = rows.next().await {
        let row = row.expect("row");
        assert_eq!(row.get::<_, String>(1).len(), ROW_BYTES);
        n += 1;
        if n.is_multiple_of(256) {
            peak = peak.max(rss_kib());
        }
    }
    assert_eq!(n, ROWS, "{sql}");
    peak.saturating_sub(base)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.encryption.enabled = true;
    config.storage.sync_commit = false;
    config.storage.cache_size = CACHE;
    let engine = Arc::new(
        StorageEngine::open_with_source(dir.path(), &config, Arc::new(FakeSource::new(3)))
            .expect("open"),
    );
    users::add_user(&engine, USER, PASSWORD).expect("user");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server_config = ServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        ..ServerConfig::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    rt.block_on(async {
        let server = Server::bind(engine.clone(), &server_config)
            .await
            .expect("bind");
        let port = server.local_addr().expect("addr").port();
        let task = tokio::spawn(server.run(async {
            let _ = stop_rx.await;
        }));
        let (c, conn) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={port} user={USER} password={PASSWORD} dbname=bench"),
            tokio_postgres::NoTls,
        )
        .await
        .expect("connect");
        tokio::spawn(conn);
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            .await
            .expect("create");
        let body = "x".repeat(ROW_BYTES);
        for start in (0..ROWS).step_by(256) {
            let values: Vec<String> = (start..start + 256)
                .map(|i| format!("({i}, '{body}')"))
                .collect();
            c.batch_execute(&format!("INSERT INTO t VALUES {}", values.join(", ")))
                .await
                .expect("insert");
        }
        engine.flush().expect("flush");
        // Warm the statement pool and the SQL layer before measuring.
        c.batch_execute("SELECT * FROM t WHERE id < 10")
            .await
            .expect("warm");

        let streamed = peak_growth(&c, "SELECT * FROM t").await;
        let collected = peak_growth(&c, "SELECT * FROM t ORDER BY body, id").await;
        println!(
            "| `SELECT` of {ROWS} rows through the server ({:.0} MiB of values, block cache \
             {:.0} MiB) | peak RSS growth |",
            (ROWS * ROW_BYTES) as f64 / (1 << 20) as f64,
            CACHE as f64 / (1 << 20) as f64
        );
        println!("|---|---:|");
        println!(
            "| `SELECT * FROM t` (streamed) | {:.1} MiB |",
            mib(streamed)
        );
        println!(
            "| `SELECT * FROM t ORDER BY body, id` (collected to sort) | {:.1} MiB |",
            mib(collected)
        );
        let _ = stop_tx.send(());
        let _ = task.await;
    });
}

//! SQL server benchmark: point SELECT by primary key and single-row INSERT,
//! one tokio-postgres client with prepared statements, against our server
//! over an encrypted and an unencrypted database, and against a real
//! PostgreSQL on 127.0.0.1 when its binaries are installed (Debian's
//! `postgresql` package; started here in a throwaway cluster, skipped with a
//! message otherwise; it runs with `synchronous_commit=off`, the durability
//! our engine's default RocksDB writes give). `BENCH_SECS` sets the seconds
//! per measurement (2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use heliosdb_core::config::ServerConfig;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::FakeSource;
use heliosdb_server::{users, Server};
use tokio_postgres::{Client, NoTls, Statement};

// The throwaway PostgreSQL cluster is the tests' helper.
#[path = "../tests/common/mod.rs"]
mod common;
use common::Postgres;

const ROWS: i32 = 10_000;
const ROUNDS: usize = 3;

struct Figures {
    select: f64,
    insert: f64,
}

/// Creates and preloads the table; returns the prepared (insert, select).
async fn setup(client: &Client) -> (Statement, Statement) {
    client
        .batch_execute("CREATE TABLE bench (id INT PRIMARY KEY, name TEXT, value BIGINT)")
        .await
        .unwrap();
    let ins = client
        .prepare("INSERT INTO bench (id, name, value) VALUES ($1, $2, $3)")
        .await
        .unwrap();
    // Preload in one transaction (PostgreSQL would otherwise flush each row).
    client.batch_execute("BEGIN").await.unwrap();
    for i in 0..ROWS {
        client
            .execute(&ins, &[&i, &format!("name-{i}"), &i64::from(i)])
            .await
            .unwrap();
    }
    client.batch_execute("COMMIT").await.unwrap();
    let sel = client
        .prepare("SELECT id, name, value FROM bench WHERE id = $1")
        .await
        .unwrap();
    (ins, sel)
}

/// One timed round of point SELECTs then INSERTs; `next_id` continues the
/// inserted keys across rounds.
async fn round(t: &Target, secs: f64, next_id: &mut i32) -> Figures {
    let run = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < run {
        let id = (n as i32).wrapping_mul(7919).rem_euclid(ROWS);
        let r = t.client.query_one(&t.sel, &[&id]).await.unwrap();
        assert_eq!(r.get::<_, i32>(0), id);
        n += 1;
    }
    let select = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < run {
        t.client
            .execute(&t.ins, &[&*next_id, &"inserted", &0i64])
            .await
            .unwrap();
        *next_id += 1;
        n += 1;
    }
    let insert = n as f64 / start.elapsed().as_secs_f64();
    Figures { select, insert }
}

/// A connected, preloaded benchmark target.
struct Target {
    client: Client,
    ins: Statement,
    sel: Statement,
}

async fn connect(conn_str: &str) -> Target {
    let deadline = Instant::now() + Duration::from_secs(20);
    let (client, conn) = loop {
        match tokio_postgres::connect(conn_str, NoTls).await {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => panic!("cannot connect: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    tokio::spawn(conn);
    let (ins, sel) = setup(&client).await;
    Target { client, ins, sel }
}

/// Our server over an encrypted or plaintext database, in a temporary directory.
struct Ours {
    _dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<heliosdb_server::Result<()>>,
    port: u16,
}

async fn ours(encrypted: bool) -> Ours {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    let engine = if encrypted {
        config.encryption.enabled = true;
        StorageEngine::open_with_source(
            dir.path().join("db"),
            &config,
            Arc::new(FakeSource::new(1)),
        )
        .unwrap()
    } else {
        StorageEngine::open(dir.path().join("db"), &config).unwrap()
    };
    let engine = Arc::new(engine);
    users::add_user(&engine, "bench", "bench-password").unwrap();
    let cfg = ServerConfig {
        port: 0,
        ..Default::default()
    };
    let server = Server::bind(engine, &cfg).await.unwrap();
    let port = server.local_addr().unwrap().port();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Ours {
        _dir: dir,
        stop,
        task,
        port,
    }
}

fn ours_conn(port: u16) -> String {
    format!("host=127.0.0.1 port={port} user=bench password=bench-password dbname=bench")
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The machine is shared: rounds alternate between the targets and
        // each keeps its best round, so a burst of load elsewhere does not
        // land on one target only.
        let enc_srv = ours(true).await;
        let plain_srv = ours(false).await;
        // Our engine writes its WAL without fsync per commit (RocksDB's
        // default); the comparable PostgreSQL setting is synchronous_commit=off.
        let pg = Postgres::start(&[], &["synchronous_commit=off"]);
        let mut targets = vec![
            (
                "heliosdb encrypted",
                connect(&ours_conn(enc_srv.port)).await,
            ),
            (
                "heliosdb unencrypted",
                connect(&ours_conn(plain_srv.port)).await,
            ),
        ];
        match &pg {
            Ok(pg) => targets.push(("PostgreSQL", connect(&pg.conn_str("postgres")).await)),
            Err(e) => println!("PostgreSQL column skipped: {e}"),
        }
        let mut best: Vec<Figures> = targets
            .iter()
            .map(|_| Figures {
                select: 0.0,
                insert: 0.0,
            })
            .collect();
        let mut next_id = ROWS;
        for _ in 0..ROUNDS {
            for (i, (_, t)) in targets.iter().enumerate() {
                let mut id = next_id;
                let f = round(t, secs, &mut id).await;
                best[i].select = best[i].select.max(f.select);
                best[i].insert = best[i].insert.max(f.insert);
                next_id = next_id.max(id);
            }
        }
        println!(
            "SQL server benchmark: one client, prepared statements, best of {ROUNDS} rounds \
             of {secs} s, {ROWS} preloaded rows"
        );
        println!("{:<28} {:>16} {:>16}", "", "point SELECT/s", "INSERT/s");
        for ((name, _), f) in targets.iter().zip(&best) {
            println!("{name:<28} {:>16.0} {:>16.0}", f.select, f.insert);
        }
        let ratio = |a: &Figures, b: &Figures, label: &str| {
            println!(
                "{label:<28} {:>15.1}% {:>15.1}%",
                100.0 * a.select / b.select,
                100.0 * a.insert / b.insert
            );
        };
        ratio(&best[0], &best[1], "encrypted / unencrypted");
        if best.len() > 2 {
            ratio(&best[0], &best[2], "encrypted / PostgreSQL");
        }
        drop(targets);
        for s in [enc_srv, plain_srv] {
            let _ = s.stop.send(());
            s.task.await.unwrap().unwrap();
        }
        drop(pg);
    });
}

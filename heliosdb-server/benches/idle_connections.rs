//! Memory and threads of idle sessions (transactions issue): the server
//! runs in this process; 1,000 clients (tokio-postgres, in a child process
//! of this same program, so their memory is not counted) log in, run one
//! statement each, and stay connected, half of them idle inside an open
//! transaction that wrote a row. Prints the growth of the server process's
//! resident set and thread count. Target: 1,000 idle connections cost less
//! than 64 MiB.
//!
//! Run: `cargo bench -p heliosdb-server --bench idle_connections`
//! (`IDLE_CONNECTIONS` sets the number of connections).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use heliosdb_core::config::ServerConfig;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::FakeSource;
use heliosdb_server::{users, Server};

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";

fn status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    status("VmRSS:")
}

fn threads() -> u64 {
    status("Threads:")
}

fn raise_open_files(want: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    if l.current.is_some_and(|c| c < want) {
        l.current = Some(l.maximum.map_or(want, |m| m.min(want)));
        let _ = setrlimit(Resource::Nofile, l);
    }
}

/// The child: opens `n` sessions to `port`, reports "ready", and holds them
/// until its stdin closes.
fn clients(port: u16, n: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let conn_str =
            format!("host=127.0.0.1 port={port} user={USER} password={PASSWORD} dbname=bench");
        let mut held = Vec::with_capacity(n);
        for i in 0..n {
            let (c, conn) = tokio_postgres::connect(&conn_str, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(conn);
            if i % 2 == 0 {
                c.batch_execute(&format!("BEGIN; INSERT INTO t VALUES ({i})"))
                    .await
                    .expect("insert in a transaction");
            } else {
                c.batch_execute("SELECT 1").await.expect("select");
            }
            held.push(c);
        }
        println!("ready");
        std::io::stdout().flush().ok();
        // Hold the sessions until the parent is done measuring.
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        drop(held);
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("IDLE_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    raise_open_files(2 * n as u64 + 512);
    if let Some(i) = args.iter().position(|a| a == "--clients") {
        let port = args[i + 1].parse().expect("port");
        clients(port, n);
        return;
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.encryption.enabled = true;
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
        max_connections: n as u32 + 10,
        ..ServerConfig::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (port, task) = rt.block_on(async {
        let server = Server::bind(engine.clone(), &server_config)
            .await
            .expect("bind");
        let port = server.local_addr().expect("addr").port();
        let task = tokio::spawn(server.run(async {
            let _ = stop_rx.await;
        }));
        // One session first, so the table exists and the SQL layer and the
        // statement pool are warm before the baseline is taken.
        let (c, conn) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={port} user={USER} password={PASSWORD} dbname=bench"),
            tokio_postgres::NoTls,
        )
        .await
        .expect("connect");
        let h = tokio::spawn(conn);
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY); SELECT 1")
            .await
            .expect("create");
        drop(c);
        let _ = h.await;
        (port, task)
    });
    std::thread::sleep(Duration::from_millis(500));
    let (rss0, threads0) = (rss_kib(), threads());

    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args(["--clients", &port.to_string()])
        .env("IDLE_CONNECTIONS", n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the client process");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read");
    assert_eq!(line.trim(), "ready", "the client process failed");
    // Statement threads idle for 10 s end; measure after that.
    std::thread::sleep(Duration::from_secs(12));
    let (rss1, threads1) = (rss_kib(), threads());
    let grew = rss1.saturating_sub(rss0);
    println!(
        "{n} idle sessions ({} in open transactions): server resident set +{:.1} MiB \
         ({:.1} KiB per session), threads {threads0} -> {threads1}; target < 64 MiB",
        n.div_ceil(2),
        grew as f64 / 1024.0,
        grew as f64 / n as f64,
    );

    drop(child.stdin.take());
    let _ = child.wait();
    let _ = stop_tx.send(());
    rt.block_on(async {
        let _ = task.await;
    });
}

//! Denial of service through the server (issue 15, items 1 and 5): deep
//! statements and psql patterns that crashed the process, and what an
//! unauthenticated client could hold — a thread per socket, 1 GiB messages
//! before login, no connection limit, no login timeout — plus the
//! statement and idle-in-transaction timeouts. Each test fails against the
//! server without these limits (the process aborts, or a bounded wait
//! runs out).

mod common;

use std::time::Duration;

use common::{threads, TestServer, PASSWORD, USER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::error::SqlState;

fn code(e: &tokio_postgres::Error) -> String {
    e.code().map(|c| c.code().to_string()).unwrap_or_default()
}

fn plus_chain(terms: usize) -> String {
    format!("SELECT {}", vec!["1"; terms].join("+"))
}

/// psql 15's `\dt PATTERN` query, `regex` being psql's translation.
fn psql_dt(regex: &str) -> String {
    format!(
        "SELECT n.nspname as \"Schema\", c.relname as \"Name\", CASE c.relkind WHEN 'r' THEN \
         'table' END as \"Type\", pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\" FROM \
         pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r','p','') AND c.relname OPERATOR(pg_catalog.~) '^({regex})$' \
         COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2;"
    )
}

/// The startup message for `alice` (protocol 3.0).
fn startup_message() -> Vec<u8> {
    let body = b"\x00\x03\x00\x00user\x00alice\x00database\x00encrypted_db\x00\x00";
    let mut m = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    m.extend_from_slice(body);
    m
}

/// Reads until the server closes; `None` if it is still open after `wait`.
async fn closed_within(s: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    match tokio::time::timeout(wait, s.read_to_end(&mut got)).await {
        Ok(_) => Some(got),
        Err(_) => None,
    }
}

/// `SELECT 1+1+…` with 10,000 and 100,000 terms and 100,000 nested
/// parentheses used to abort the whole server (`heliosdb-conn has
/// overflowed its stack`). Now each is an error with SQLSTATE 54001, and
/// the connection and the server keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_statements_are_errors_and_the_server_keeps_serving() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    let nested = format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    for sql in [plus_chain(10_000), plus_chain(100_000), nested] {
        // Simple protocol.
        let err = c.simple_query(&sql).await.unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::STATEMENT_TOO_COMPLEX), "{err}");
        // Extended protocol (Parse, then Describe).
        let err = c.query(&sql, &[]).await.unwrap_err();
        assert_eq!(code(&err), "54001", "{err}");
        let n: i32 = c.query_one("SELECT 1 + 1", &[]).await.unwrap().get(0);
        assert_eq!(n, 2);
    }
    let other = server.client().await;
    let n: i32 = other.query_one("SELECT 40 + 2", &[]).await.unwrap().get(0);
    assert_eq!(n, 42);
    server.stop().await;
}

/// psql's `\dt` with 300,000 `.*` overflowed the stack in the pattern
/// matcher, and 9 of them took 9.9 s of CPU against a non-matching name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_patterns_cannot_crash_or_stall_the_server() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE a_long_table_name_that_the_pattern_misses (a INT)")
        .await
        .unwrap();
    let rows = |msgs: Vec<tokio_postgres::SimpleQueryMessage>| {
        msgs.into_iter()
            .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
            .count()
    };
    let r = c
        .simple_query(&psql_dt(&format!("{}z", ".*".repeat(30))))
        .await
        .unwrap();
    assert_eq!(rows(r), 0);
    let err = c
        .simple_query(&psql_dt(&format!("{}z", ".*".repeat(300_000))))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "2201B", "{err}");
    let r = c.simple_query(&psql_dt("a_long.*")).await.unwrap();
    assert_eq!(rows(r), 1);
    server.stop().await;
}

/// `[server] statement_timeout` is every session's default; `SET` changes
/// it per session; a statement past it fails with SQLSTATE 57014.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_from_config_and_set() {
    let server =
        TestServer::start_limited(|s| s.statement_timeout = Duration::from_millis(300)).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT PRIMARY KEY)")
        .await
        .unwrap();
    let values: Vec<String> = (0..300).map(|i| format!("({i})")).collect();
    c.batch_execute(&format!("INSERT INTO t VALUES {}", values.join(", ")))
        .await
        .unwrap();
    let shown = c.simple_query("SHOW statement_timeout").await.unwrap();
    let value = shown.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(value.as_deref(), Some("300ms"));
    let join = "SELECT COUNT(*) FROM t x JOIN t y ON y.a >= 0 JOIN t z ON z.a >= 0";
    let err = c.query(join, &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED), "{err}");
    // The session answers, and its SET sticks across statements.
    c.batch_execute("SET statement_timeout = '100ms'")
        .await
        .unwrap();
    let err = c.simple_query(join).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED), "{err}");
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 300);
    server.stop().await;
}

/// A session idle inside a transaction longer than
/// `idle_in_transaction_session_timeout` is closed with PostgreSQL's FATAL
/// 25P03, and its transaction rolls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_in_transaction_sessions_are_closed_and_rolled_back() {
    let server = TestServer::start_limited(|s| {
        s.idle_in_transaction_session_timeout = Duration::from_millis(300)
    })
    .await;
    let other = server.client().await;
    other
        .batch_execute("CREATE TABLE k (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let c = server.client().await;
    c.batch_execute("BEGIN; INSERT INTO k VALUES (1);")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let err = c.simple_query("SELECT 1").await.unwrap_err();
    assert!(
        err.code() == Some(&SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT) || c.is_closed(),
        "{err}"
    );
    assert!(c.is_closed());
    // Rolled back: the key is free again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    other
        .batch_execute("INSERT INTO k VALUES (1)")
        .await
        .unwrap();
    // Idle outside a transaction is fine.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let n: i64 = other
        .query_one("SELECT COUNT(*) FROM k", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    server.stop().await;
}

/// Past `max_connections` sessions the next client is refused as
/// PostgreSQL refuses it, and gets in once a session ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_refuses_the_next_session() {
    let server = TestServer::start_limited(|s| s.max_connections = 2).await;
    let a = server.client().await;
    // Failed logins hold no slot: three wrong passwords fail as such, and
    // the second slot is still free afterwards.
    let wrong = server.conn_str(USER, "not-the-password");
    for _ in 0..3 {
        let err = tokio_postgres::connect(&wrong, tokio_postgres::NoTls)
            .await
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::INVALID_PASSWORD), "{err}");
    }
    let b = server.client().await;
    let conn = server.conn_str(USER, PASSWORD);
    let err = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::TOO_MANY_CONNECTIONS), "{err}");
    let db = err.as_db_error().expect("an error from the server");
    assert_eq!(db.message(), "sorry, too many clients already");
    assert_eq!(db.severity(), "FATAL");
    // b's slot comes back when its connection is gone.
    drop(b);
    let mut joined = None;
    for _ in 0..100 {
        if let Ok((c, connection)) = tokio_postgres::connect(&conn, tokio_postgres::NoTls).await {
            tokio::spawn(connection);
            joined = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = joined.expect("a slot is free again within 10 s");
    let n: i32 = c.query_one("SELECT 1", &[]).await.unwrap().get(0);
    let m: i32 = a.query_one("SELECT 2", &[]).await.unwrap().get(0);
    assert_eq!((n, m), (1, 2));
    server.stop().await;
}

/// A client that does not finish logging in within
/// `authentication_timeout` is disconnected (pgwire alone waited 60 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_that_stall_are_disconnected() {
    let server =
        TestServer::start_limited(|s| s.authentication_timeout = Duration::from_secs(1)).await;
    // Silent after connecting; half a startup message; a startup message
    // and then silence in the middle of SCRAM.
    let startup = startup_message();
    for sent in [&[][..], &startup[..3], &startup[..]] {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(sent).await.unwrap();
        let got = closed_within(&mut s, Duration::from_secs(8)).await;
        assert!(
            got.is_some(),
            "still open 8 s after sending {} bytes",
            sent.len()
        );
    }
    server.stop().await;
}

/// A query message of 1 GiB sent before logging in was buffered in full
/// (one connection grew the server from 66 MB to 384 MB); now a client may
/// send [`PRE_AUTH_READ_LIMIT`] bytes before it has authenticated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_messages_before_login_are_cut_off() {
    let server = TestServer::start(true, None).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(&startup_message()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        // 'Q' claiming just under 1 GiB, then 1 MiB of it.
        let _ = wr.write_all(&[b'Q', 0x3f, 0xff, 0xff, 0xf0]).await;
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..16 {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
        }
        wr
    });
    // Closed (an orderly end, or a reset: the server closes with the
    // client's bytes unread, and the FATAL 08P01 it sent may be lost).
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), rd.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server kept reading the message");
    let _ = writer.await;
    const { assert!(heliosdb_server::PRE_AUTH_READ_LIMIT <= 64 * 1024) };
    // The server is fine.
    let c = server.client().await;
    let n: i32 = c.query_one("SELECT 7", &[]).await.unwrap().get(0);
    assert_eq!(n, 7);
    server.stop().await;
}

/// Raises this process's open-file limit to `want` if it is lower (the
/// test holds both ends of every socket).
fn ensure_open_files(want: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    if l.current.is_some_and(|c| c < want) {
        l.current = Some(l.maximum.map_or(want, |m| m.min(want)));
        setrlimit(Resource::Nofile, l).unwrap();
    }
}

/// 1,000 sockets that never log in (silent, half a startup, a startup
/// then nothing) used to cost an OS thread each and held no limit; now
/// they cost a task each, and a legitimate user still logs in and queries.
/// Loopback only; every socket is closed when the test ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_sockets_do_not_keep_a_user_out() {
    const SOCKETS: usize = 1_000;
    ensure_open_files(2 * SOCKETS as u64 + 512);
    let server = TestServer::start(true, None).await;
    let before = threads();
    let startup = startup_message();
    let mut flood = Vec::with_capacity(SOCKETS);
    for i in 0..SOCKETS {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        match i % 3 {
            0 => {}
            1 => s.write_all(&startup[..5]).await.unwrap(),
            _ => s.write_all(&startup).await.unwrap(),
        }
        flood.push(s);
    }
    // Give the server time to accept them all.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = threads();
    assert!(
        during < before + 50,
        "{SOCKETS} unauthenticated sockets took {} threads",
        during.saturating_sub(before)
    );
    let login = async {
        let c = server.client().await;
        c.query_one("SELECT 5", &[]).await.unwrap().get::<_, i32>(0)
    };
    let n = tokio::time::timeout(Duration::from_secs(10), login)
        .await
        .expect("logged in and answered within 10 s despite the flood");
    assert_eq!(n, 5);
    drop(flood);
    server.stop().await;
}

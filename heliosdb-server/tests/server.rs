//! The PostgreSQL server end to end: the tutorial's psql session over TLS
//! (verify-full against a throwaway CA), tokio-postgres prepared statements
//! of every supported type, joins, grouping, updates, deletes, transaction
//! isolation across connections, refusals, malformed and huge messages, the
//! canary scan after SQL writes, 32 concurrent clients, and psql's `\d` of
//! tables with foreign keys beside a real PostgreSQL's.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{find_in_files, psql, psql_raw, Certs, Postgres, TestServer, PASSWORD, USER};
use rust_decimal::Decimal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::error::SqlState;

const TUTORIAL: &str = "
CREATE TABLE patients (
id SERIAL PRIMARY KEY,
name TEXT NOT NULL,
diagnosis TEXT,
prescription TEXT
);
INSERT INTO patients (name, diagnosis, prescription)
VALUES ('John Doe', 'Type 2 Diabetes', 'Metformin 500mg');
SELECT * FROM patients WHERE id = 1;
SELECT diagnosis, COUNT(*)
FROM patients
GROUP BY diagnosis;
\\dt
\\d patients
\\conninfo
";

fn msg(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

fn tls_env(certs: &Certs, mode: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PGSSLMODE", mode.to_string()),
        ("PGSSLROOTCERT", certs.path("ca.crt").display().to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_tutorial_session_over_tls_verify_full() {
    let certs = Certs::new();
    let server = TestServer::start(true, Some(certs.ssl("1.2", false))).await;
    let port = server.port();
    let env = tls_env(&certs, "verify-full");
    let (ok, out, err) =
        tokio::task::spawn_blocking(move || psql(port, USER, PASSWORD, &env, TUTORIAL))
            .await
            .unwrap();
    assert!(ok, "psql failed: {err}\n{out}");
    for expected in [
        "CREATE TABLE",
        "INSERT 0 1",
        " id |   name   |    diagnosis    |  prescription   ",
        "  1 | John Doe | Type 2 Diabetes | Metformin 500mg",
        "    diagnosis    | count ",
        " Type 2 Diabetes |     1",
        " public | patients | table | alice",
        "Table \"public.patients\"",
        " id           | integer | ",
        "nextval('patients_id_seq'::regclass)",
        "\"patients_pkey\" PRIMARY KEY, btree (id)",
        "SSL connection (protocol: TLSv1.3",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // Canary scan: what psql wrote is sealed on disk.
    server.engine.flush().unwrap();
    let hits = find_in_files(
        &server.db_path,
        &[
            "John Doe",
            "Type 2 Diabetes",
            "Metformin 500mg",
            "patients",
            "prescription",
        ],
    );
    assert!(hits.is_empty(), "plaintext on disk: {hits:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_with_every_type() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE all_types (id INT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INTEGER, \
         l BIGINT, f DOUBLE PRECISION, n NUMERIC(12,2), t TEXT, v VARCHAR(10), y BYTEA, \
         ts TIMESTAMP)",
    )
    .await
    .unwrap();
    let ins = c
        .prepare(
            "INSERT INTO all_types (id, b, s, i, l, f, n, t, v, y, ts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .await
        .unwrap();
    let ts = NaiveDate::from_ymd_opt(2024, 2, 29)
        .unwrap()
        .and_hms_micro_opt(13, 14, 15, 123_456)
        .unwrap();
    let n = Decimal::new(12345, 2);
    let bytes: Vec<u8> = vec![0, 1, 2, 255];
    let inserted = c
        .execute(
            &ins,
            &[
                &1i32,
                &true,
                &-7i16,
                &i32::MIN,
                &9_000_000_000i64,
                &1.25f64,
                &n,
                &"héllo wörld",
                &"short",
                &bytes,
                &ts,
            ],
        )
        .await
        .unwrap();
    assert_eq!(inserted, 1);
    let none: Option<i32> = None;
    c.execute(
        &ins,
        &[
            &2i32,
            &false,
            &none.map(|x| x as i16),
            &none,
            &None::<i64>,
            &None::<f64>,
            &None::<Decimal>,
            &None::<String>,
            &None::<String>,
            &None::<Vec<u8>>,
            &None::<chrono::NaiveDateTime>,
        ],
    )
    .await
    .unwrap();
    let sel = c
        .prepare("SELECT b, s, i, l, f, n, t, v, y, ts FROM all_types WHERE id = $1")
        .await
        .unwrap();
    let types: Vec<String> = sel
        .columns()
        .iter()
        .map(|c| c.type_().name().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "bool",
            "int2",
            "int4",
            "int8",
            "float8",
            "numeric",
            "text",
            "text",
            "bytea",
            "timestamp"
        ]
    );
    let r = c.query_one(&sel, &[&1i32]).await.unwrap();
    assert!(r.get::<_, bool>(0));
    assert_eq!(r.get::<_, i16>(1), -7);
    assert_eq!(r.get::<_, i32>(2), i32::MIN);
    assert_eq!(r.get::<_, i64>(3), 9_000_000_000);
    assert_eq!(r.get::<_, f64>(4), 1.25);
    assert_eq!(r.get::<_, Decimal>(5), n);
    assert_eq!(r.get::<_, String>(6), "héllo wörld");
    assert_eq!(r.get::<_, String>(7), "short");
    assert_eq!(r.get::<_, Vec<u8>>(8), bytes);
    assert_eq!(r.get::<_, chrono::NaiveDateTime>(9), ts);
    let r = c.query_one(&sel, &[&2i32]).await.unwrap();
    assert_eq!(r.get::<_, Option<i16>>(1), None);
    assert_eq!(r.get::<_, Option<String>>(6), None);
    // Text-protocol (simple query) values.
    let rows = c
        .simple_query("SELECT s, n, ts FROM all_types WHERE id = 1")
        .await
        .unwrap();
    let row = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(row.get(0), Some("-7"));
    assert_eq!(row.get(1), Some("123.45"));
    assert_eq!(row.get(2), Some("2024-02-29 13:14:15.123456"));
    // A value that does not fit its column type is an error, not a truncation.
    let err = c
        .execute(
            "INSERT INTO all_types (id, v) VALUES ($1, $2)",
            &[&3i32, &"far too long"],
        )
        .await
        .unwrap_err();
    assert!(msg(&err).contains("character varying(10)"), "{err:?}");
    // RETURNING with a SERIAL key.
    c.batch_execute("CREATE TABLE tickets (id BIGSERIAL PRIMARY KEY, title TEXT)")
        .await
        .unwrap();
    let r = c
        .query_one(
            "INSERT INTO tickets (title) VALUES ($1) RETURNING id, title",
            &[&"first"],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), 1);
    assert_eq!(r.get::<_, String>(1), "first");
    let v = c.query_one("SELECT version()", &[]).await.unwrap();
    assert!(v.get::<_, String>(0).starts_with("PostgreSQL 15"));
    let db = c.query_one("SELECT current_database()", &[]).await.unwrap();
    assert_eq!(db.get::<_, String>(0), "encrypted_db");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_grouping_updates_deletes() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE depts (id INT PRIMARY KEY, name TEXT);
         CREATE TABLE emps (id SERIAL PRIMARY KEY, dept_id INT, name TEXT, salary BIGINT);
         CREATE INDEX emps_dept ON emps (dept_id);
         INSERT INTO depts VALUES (1, 'eng'), (2, 'ops');
         INSERT INTO emps (dept_id, name, salary) VALUES
           (1, 'ann', 100), (1, 'bob', 120), (2, 'cy', 90), (2, 'di', 95), (2, 'ed', 80);",
    )
    .await
    .unwrap();
    let rows = c
        .query(
            "SELECT d.name, COUNT(*) AS n, SUM(e.salary)::bigint AS total FROM emps e \
             JOIN depts d ON e.dept_id = d.id GROUP BY d.name ORDER BY d.name",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(got, vec![("eng".into(), 2, 220), ("ops".into(), 3, 265)]);
    let n = c
        .execute(
            "UPDATE emps SET salary = salary + $1 WHERE dept_id = $2",
            &[&10i64, &2i32],
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    let n = c
        .execute("DELETE FROM emps WHERE salary < $1", &[&100i64])
        .await
        .unwrap();
    assert_eq!(n, 1, "only ed (90) is below 100 after the raise");
    let rows = c
        .query(
            "SELECT name FROM emps WHERE dept_id = $1 ORDER BY name",
            &[&2i32],
        )
        .await
        .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["cy", "di"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_isolated_across_connections() {
    let server = TestServer::start(true, None).await;
    let a = server.client().await;
    let b = server.client().await;
    a.batch_execute("CREATE TABLE acct (id INT PRIMARY KEY, balance BIGINT)")
        .await
        .unwrap();
    a.batch_execute("INSERT INTO acct VALUES (1, 100)")
        .await
        .unwrap();
    a.batch_execute("BEGIN").await.unwrap();
    a.execute("INSERT INTO acct VALUES ($1, $2)", &[&2i32, &50i64])
        .await
        .unwrap();
    a.execute("UPDATE acct SET balance = 0 WHERE id = 1", &[])
        .await
        .unwrap();
    // a sees its own writes, b does not.
    let ra: i64 = a
        .query_one("SELECT COUNT(*) FROM acct", &[])
        .await
        .unwrap()
        .get(0);
    let rb: i64 = b
        .query_one("SELECT COUNT(*) FROM acct", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!((ra, rb), (2, 1));
    let bal: i64 = b
        .query_one("SELECT balance FROM acct WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(bal, 100);
    a.batch_execute("ROLLBACK").await.unwrap();
    let ra: i64 = a
        .query_one("SELECT COUNT(*) FROM acct", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ra, 1);
    // Committed writes become visible to the other connection.
    a.batch_execute("BEGIN; INSERT INTO acct VALUES (3, 7); COMMIT;")
        .await
        .unwrap();
    let rb: i64 = b
        .query_one("SELECT COUNT(*) FROM acct", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rb, 2);
    // A connection dropped mid-transaction leaves nothing behind.
    a.batch_execute("BEGIN; INSERT INTO acct VALUES (4, 1);")
        .await
        .unwrap();
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rb: i64 = b
        .query_one("SELECT COUNT(*) FROM acct", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rb, 2);
    server.stop().await;
}

async fn tls12_handshake(port: u16, ca: &std::path::Path) -> std::io::Result<()> {
    use rustls_pki_types::pem::PemObject;
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    // SSLRequest
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).await?;
    let mut answer = [0u8; 1];
    s.read_exact(&mut answer).await?;
    assert_eq!(answer[0], b'S');
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    connector.connect(name, s).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals() {
    let certs = Certs::new();
    let server = TestServer::start(true, Some(certs.ssl("1.3", false))).await;
    let port = server.port();
    // Plaintext when TLS is required.
    let err = tokio_postgres::connect(&server.conn_str(USER, PASSWORD), tokio_postgres::NoTls)
        .await
        .err()
        .expect("plaintext must be refused");
    assert!(msg(&err).contains("SSL connection is required"), "{err:?}");
    // Wrong password, unknown user: the same refusal.
    for (user, pw) in [(USER, "wrong-password"), ("mallory", PASSWORD)] {
        let env = tls_env(&certs, "verify-full");
        let (ok, _out, err) =
            tokio::task::spawn_blocking(move || psql(port, user, pw, &env, "SELECT 1;"))
                .await
                .unwrap();
        assert!(!ok);
        assert!(
            err.to_lowercase()
                .contains("password authentication failed"),
            "{user}: {err}"
        );
    }
    // TLS 1.2 below min_tls_version = "1.3".
    let r = tls12_handshake(port, &certs.path("ca.crt")).await;
    assert!(r.is_err(), "a TLS 1.2 handshake must fail");
    // The right credentials still work.
    let env = tls_env(&certs, "verify-full");
    let (ok, out, err) =
        tokio::task::spawn_blocking(move || psql(port, USER, PASSWORD, &env, "SELECT 1 AS one;"))
            .await
            .unwrap();
    assert!(ok && out.contains(" one"), "{err}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_required_with_ca_file() {
    let certs = Certs::new();
    let server = TestServer::start(true, Some(certs.ssl("1.2", true))).await;
    let port = server.port();
    let env = tls_env(&certs, "verify-full");
    let (ok, _, err) =
        tokio::task::spawn_blocking(move || psql(port, USER, PASSWORD, &env, "SELECT 1;"))
            .await
            .unwrap();
    assert!(!ok, "a client without a certificate must be refused: {err}");
    let mut env = tls_env(&certs, "verify-full");
    env.push(("PGSSLCERT", certs.path("client.crt").display().to_string()));
    env.push(("PGSSLKEY", certs.path("client.key").display().to_string()));
    let (ok, out, err) =
        tokio::task::spawn_blocking(move || psql(port, USER, PASSWORD, &env, "SELECT 2 AS two;"))
            .await
            .unwrap();
    assert!(ok && out.contains(" two"), "{err}");
    server.stop().await;
}

/// Sends `bytes`, then reads until the server closes (or 5 s pass).
async fn send_and_expect_close(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let _ = s.write_all(bytes).await;
    let mut got = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
    assert!(r.is_ok(), "the server kept the connection open");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_huge_messages_close_only_that_connection() {
    let server = TestServer::start(true, None).await;
    let port = server.port();
    let c = server.client().await;
    c.batch_execute("CREATE TABLE k (id INT PRIMARY KEY)")
        .await
        .unwrap();
    // A startup packet claiming 2 GiB.
    send_and_expect_close(port, &[0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0]).await;
    // A startup packet with an unknown protocol version.
    send_and_expect_close(port, &[0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef]).await;
    // A valid startup, then a 1 GiB password message.
    let mut startup = Vec::new();
    let body = b"\x00\x03\x00\x00user\x00alice\x00database\x00encrypted_db\x00\x00";
    startup.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    startup.extend_from_slice(body);
    startup.extend_from_slice(&[b'p', 0x40, 0, 0, 0]);
    let got = send_and_expect_close(port, &startup).await;
    assert_eq!(got.first(), Some(&b'R'), "the server asked for SASL first");
    // A valid startup, then a CopyFail message of length 0 whose string has
    // no terminator: pgwire's decoder panics on it (found by the pg_message
    // fuzz target); the server contains that to this connection.
    for bad in [
        &[b'f', 0, 0, 0, 0, 0xf1][..],
        // An Execute of length 0 (its fields read past the message).
        &[b'E', 0, 0, 0, 0, 0, 0xff][..],
        // A password message of length 0 (`full_len - 4` wraps).
        &[b'p', 0, 0, 0, 0, 0, 0, 0, 0xff][..],
        // A Bind with a negative format-code count.
        &[66, 0, 0, 0, 0, 221, 230, 0, 0, 0, 0, 0, 0, 186, 186][..],
    ] {
        let mut m = startup[..startup.len() - 5].to_vec();
        m.extend_from_slice(bad);
        send_and_expect_close(port, &m).await;
    }
    // Random garbage.
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    send_and_expect_close(port, &garbage).await;
    // The server keeps serving: the old connection and a new one.
    c.execute("INSERT INTO k VALUES ($1)", &[&1i32])
        .await
        .unwrap();
    let c2 = server.client().await;
    let n: i64 = c2
        .query_one("SELECT COUNT(*) FROM k", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_scan_after_sql_writes() {
    const CANARIES: [&str; 5] = [
        "CanarySqlTableLemur",
        "canary_sql_column_ibis",
        "canary sql text gecko",
        "canary-sql-indexed-tapir",
        "canary_sql_updated_marmot",
    ];
    for encrypted in [true, false] {
        let server = TestServer::start(encrypted, None).await;
        let c = server.client().await;
        c.batch_execute(
            "CREATE TABLE CanarySqlTableLemur (id SERIAL PRIMARY KEY, \
             canary_sql_column_ibis TEXT, tag VARCHAR(40));
             CREATE INDEX canary_tag ON CanarySqlTableLemur (tag);",
        )
        .await
        .unwrap();
        for i in 0..50 {
            c.execute(
                "INSERT INTO CanarySqlTableLemur (canary_sql_column_ibis, tag) VALUES ($1, $2)",
                &[
                    &format!("canary sql text gecko {i}"),
                    &"canary-sql-indexed-tapir",
                ],
            )
            .await
            .unwrap();
        }
        c.execute(
            "UPDATE CanarySqlTableLemur SET canary_sql_column_ibis = $1 WHERE id = 3",
            &[&"canary_sql_updated_marmot"],
        )
        .await
        .unwrap();
        c.execute("DELETE FROM CanarySqlTableLemur WHERE id = 4", &[])
            .await
            .unwrap();
        server.engine.flush().unwrap();
        let hits = find_in_files(&server.db_path, &CANARIES);
        if encrypted {
            assert!(hits.is_empty(), "plaintext on disk: {hits:?}");
        } else {
            // The scan can fail: unencrypted, the same data is visible.
            assert!(hits.len() >= 3, "scan found too little: {hits:?}");
        }
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_clients() {
    let server = TestServer::start(true, None).await;
    let setup = server.client().await;
    setup
        .batch_execute(
            "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, client INT, seq INT, body TEXT)",
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for client_id in 0..32i32 {
        let conn = server.conn_str(USER, PASSWORD);
        tasks.push(tokio::spawn(async move {
            let (c, conn) = tokio_postgres::connect(&conn, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            let ins = c
                .prepare("INSERT INTO events (client, seq, body) VALUES ($1, $2, $3) RETURNING id")
                .await?;
            let get = c
                .prepare("SELECT client, seq FROM events WHERE id = $1")
                .await?;
            let mut n = 0i32;
            while Instant::now() < deadline {
                let id: i64 = c
                    .query_one(&ins, &[&client_id, &n, &format!("event {client_id}/{n}")])
                    .await?
                    .get(0);
                let r = c.query_one(&get, &[&id]).await?;
                assert_eq!((r.get::<_, i32>(0), r.get::<_, i32>(1)), (client_id, n));
                n += 1;
            }
            Ok::<i32, tokio_postgres::Error>(n)
        }));
    }
    let mut total = 0i64;
    for t in tasks {
        total += i64::from(t.await.unwrap().expect("no client may see an error"));
    }
    assert!(total >= 32, "every client wrote");
    let count: i64 = setup
        .query_one("SELECT COUNT(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, total, "no lost row");
    let per_client: i64 = setup
        .query_one("SELECT COUNT(*) FROM events WHERE client = 31", &[])
        .await
        .unwrap()
        .get(0);
    assert!(per_client > 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_users_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        heliosdb_core::StorageEngine::open(
            dir.path().join("db"),
            &heliosdb_core::Config::default(),
        )
        .unwrap(),
    );
    let cfg = heliosdb_core::config::ServerConfig {
        port: 0,
        ..Default::default()
    };
    let err = heliosdb_server::Server::bind(engine, &cfg)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("heliosdb-nano user add"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_names_statement_user_and_client_address() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("audit.log");
    let mut config = heliosdb_core::Config::default();
    config.audit.enabled = true;
    config.audit.log_file = Some(log.clone());
    config.audit.log_reads = true;
    let server = TestServer::start_with(config, true, None).await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE patients (id INT PRIMARY KEY, name TEXT)")
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO patients (id, name) VALUES ($1, $2)",
            &[&1_i32, &"never-logged"],
        )
        .await
        .unwrap();
    let rows = client
        .query("SELECT * FROM patients WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    drop(client);
    server.stop().await;

    let lines: Vec<heliosdb_core::audit::AuditLine> = heliosdb_core::audit::read_log(&log)
        .unwrap()
        .into_iter()
        .map(|(_, _, l)| l.unwrap())
        .collect();
    let sql: Vec<_> = lines.iter().filter(|l| l.user == USER).collect();
    let got: Vec<(&str, u64)> = sql
        .iter()
        .map(|l| (l.query.as_deref().unwrap(), l.rows_affected))
        .collect();
    assert_eq!(
        got,
        vec![
            ("CREATE TABLE patients (id INT PRIMARY KEY, name TEXT)", 0),
            ("INSERT INTO patients (id, name) VALUES ($1, $2)", 1),
            ("SELECT * FROM patients WHERE id = ?", 1),
        ]
    );
    for l in &sql {
        assert_eq!(l.source_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(l.table.as_deref(), Some("patients"));
        assert!(l.encryption_enabled);
    }
    // Extended-protocol parameter values never reach the log.
    assert!(!std::fs::read_to_string(&log)
        .unwrap()
        .contains("never-logged"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn date_time_and_timestamptz_parameters_round_trip() {
    use chrono::{NaiveTime, TimeZone, Utc};
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE ev (id INT PRIMARY KEY, d DATE, t TIME, at TIMESTAMPTZ, u UUID, \
         span INTERVAL)",
    )
    .await
    .unwrap();
    let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let t = NaiveTime::from_hms_micro_opt(13, 45, 0, 250_000).unwrap();
    let at = Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap();
    // Binary parameters (tokio-postgres sends dates and times binary).
    c.execute(
        "INSERT INTO ev (id, d, t, at) VALUES ($1, $2, $3, $4)",
        &[&1i32, &d, &t, &at],
    )
    .await
    .unwrap();
    c.batch_execute(
        "UPDATE ev SET u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', span = '1 day 02:00:00' \
         WHERE id = 1",
    )
    .await
    .unwrap();
    let sel = c
        .prepare("SELECT d, t, at, u, span FROM ev WHERE id = $1")
        .await
        .unwrap();
    let types: Vec<String> = sel
        .columns()
        .iter()
        .map(|c| c.type_().name().to_string())
        .collect();
    assert_eq!(types, ["date", "time", "timestamptz", "uuid", "interval"]);
    let r = c
        .query_one("SELECT d, t, at FROM ev WHERE id = $1", &[&1i32])
        .await
        .unwrap();
    assert_eq!(r.get::<_, NaiveDate>(0), d);
    assert_eq!(r.get::<_, NaiveTime>(1), t);
    assert_eq!(r.get::<_, chrono::DateTime<Utc>>(2), at);
    let rows = c
        .simple_query("SELECT d, t, at, u, span FROM ev WHERE id = 1")
        .await
        .unwrap();
    let row = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(row.get(0), Some("2024-02-29"));
    assert_eq!(row.get(1), Some("13:45:00.25"));
    assert_eq!(row.get(2), Some("2024-01-01 10:00:00+00"));
    assert_eq!(row.get(3), Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    assert_eq!(row.get(4), Some("1 day 02:00:00"));
    server.stop().await;
}

/// Runs `script` through psql against a PostgreSQL started by the tests
/// (superuser `postgres`, database `postgres`), waiting for it to accept
/// connections first; returns psql's standard output.
fn psql_postgres(pg: &Postgres, script: &str) -> String {
    let port = pg.port.to_string();
    let run = |script: &str| {
        psql_raw(
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
            ],
            &[],
            script,
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !run("SELECT 1;\n").status.success() {
        assert!(Instant::now() < deadline, "PostgreSQL did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = run(script);
    assert!(
        out.status.success(),
        "psql against PostgreSQL failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// psql's `\d` of tables with foreign keys: the "Foreign-key constraints:"
/// and "Referenced by:" footers (psql asks for them because such a table
/// has triggers in PostgreSQL), with actions, a self-reference and a UNIQUE
/// constraint, a unique and a plain index (listed primary key first, then
/// by name), print exactly what PostgreSQL 15 prints for the same schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_describes_foreign_keys_as_postgresql() {
    const SCHEMA: &str = "CREATE TABLE zz (id INT PRIMARY KEY, \
        p INT REFERENCES zz (id) ON DELETE CASCADE);\n\
        CREATE TABLE yy (id INT PRIMARY KEY, z INT REFERENCES zz (id), \
        name TEXT UNIQUE);\n\
        CREATE TABLE xx (id INT PRIMARY KEY, y INT REFERENCES yy (id) ON DELETE SET NULL, \
        code TEXT, n INT);\n\
        CREATE UNIQUE INDEX xx_code ON xx (code);\n\
        CREATE INDEX xx_a ON xx (n);\n";
    const DESCRIBE: &str = "\\d zz\n\\d yy\n\\d xx\n";
    if Postgres::bin().is_none() && std::env::var("HELIOSDB_SKIP_PG").is_ok_and(|v| v == "1") {
        println!("skipped: HELIOSDB_SKIP_PG=1 and no PostgreSQL installed");
        return;
    }
    let pg = Postgres::start(&["--locale=C", "--encoding=UTF8"], &["fsync=off"])
        .unwrap_or_else(|e| panic!("cannot start PostgreSQL as the reference: {e}"));
    let expected = tokio::task::spawn_blocking(move || {
        psql_postgres(&pg, SCHEMA);
        psql_postgres(&pg, DESCRIBE)
    })
    .await
    .unwrap();
    assert!(
        expected.contains("Referenced by:") && expected.contains("Foreign-key constraints:"),
        "{expected}"
    );

    let server = TestServer::start(true, None).await;
    let port = server.port();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        let (ok, _, err) = psql(port, USER, PASSWORD, &[], SCHEMA);
        assert!(ok, "{err}");
        psql(port, USER, PASSWORD, &[], DESCRIBE)
    })
    .await
    .unwrap();
    assert!(ok, "psql failed: {err}\n{out}");
    assert_eq!(out, expected);
    server.stop().await;
}

/// A query answering more rows than the session reads at once streams them
/// (see `Session::execute_streaming`): every row arrives, in order and
/// typed, over the simple and the extended protocol; an error after rows
/// went out reaches the client with its SQLSTATE (and aborts an open
/// transaction); a client that leaves in the middle costs the server
/// nothing but that statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_stream_to_the_client() {
    const N: i32 = 10_000;
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE big (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    for start in (1..=N).step_by(1_000) {
        let values: Vec<String> = (start..start + 1_000)
            .map(|i| format!("({i}, 'row {i}')"))
            .collect();
        c.batch_execute(&format!("INSERT INTO big VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }

    // Simple protocol.
    let messages = c.simple_query("SELECT id, v FROM big").await.unwrap();
    let mut ids = Vec::new();
    let mut complete = None;
    for m in &messages {
        match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                let id: i32 = r.get(0).unwrap().parse().unwrap();
                assert_eq!(r.get(1), Some(format!("row {id}").as_str()));
                ids.push(id);
            }
            tokio_postgres::SimpleQueryMessage::CommandComplete(n) => complete = Some(*n),
            _ => {}
        }
    }
    assert_eq!(ids, (1..=N).collect::<Vec<_>>());
    assert_eq!(complete, Some(N as u64));

    // Extended protocol, typed by the statement's description.
    let rows = c
        .query("SELECT v, id * 2 FROM big WHERE id > $1", &[&10i32])
        .await
        .unwrap();
    assert_eq!(rows.len(), (N - 10) as usize);
    for (r, id) in rows.iter().zip(11..) {
        assert_eq!(r.get::<_, String>(0), format!("row {id}"));
        assert_eq!(r.get::<_, i32>(1), id * 2);
    }

    // An error after the first chunks went out.
    let failing = "SELECT id, 100 / (id - 3000) FROM big";
    let e = c.simple_query(failing).await.unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::DIVISION_BY_ZERO),
        "{e}"
    );
    let e = c.query(failing, &[]).await.unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::DIVISION_BY_ZERO),
        "{e}"
    );
    c.batch_execute("BEGIN").await.unwrap();
    assert!(c.simple_query(failing).await.is_err());
    let e = c.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION),
        "{e}"
    );
    c.batch_execute("ROLLBACK").await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM big", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, i64::from(N));

    // A portal read a few rows at a time (Execute with a row limit), with
    // other statements run between its reads: the rest of its rows wait in
    // the portal, the session stays free.
    // (A session blocked by its own portal would hang: bounded.)
    let mut c = c;
    tokio::time::timeout(Duration::from_secs(60), async {
        let t = c.transaction().await.unwrap();
        let portal = t.bind("SELECT id FROM big", &[]).await.unwrap();
        let first = t.query_portal(&portal, 100).await.unwrap();
        assert_eq!(first.len(), 100);
        let n: i64 = t
            .query_one("SELECT count(*) FROM big", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, i64::from(N));
        let all = t.simple_query("SELECT id FROM big").await.unwrap();
        assert!(all.len() > N as usize);
        let next = t.query_portal(&portal, 100).await.unwrap();
        assert_eq!(next.first().unwrap().get::<_, i32>(0), 101);
        let rest = t.query_portal(&portal, 0).await.unwrap();
        assert_eq!(rest.len(), (N - 200) as usize);
        assert_eq!(rest.last().unwrap().get::<_, i32>(0), N);
        t.commit().await.unwrap();
    })
    .await
    .expect("a portal read in parts while other statements run");

    // A client that goes away while its rows stream.
    {
        let (gone, conn) = tokio_postgres::connect(
            &server.conn_str(common::USER, common::PASSWORD),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        let conn = tokio::spawn(conn);
        let stream = gone
            .query_raw("SELECT * FROM big", std::iter::empty::<i32>())
            .await
            .unwrap();
        futures::pin_mut!(stream);
        use futures::StreamExt;
        assert!(stream.next().await.unwrap().is_ok());
        conn.abort();
    }
    // The server serves on; the table is whole.
    let n: i64 = c
        .query_one("SELECT count(*) FROM big", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, i64::from(N));
    let other = server.client().await;
    let rows = other
        .simple_query("SELECT * FROM big")
        .await
        .unwrap()
        .into_iter()
        .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
        .count();
    assert_eq!(rows, N as usize);
    server.stop().await;
}

/// Point queries (`SELECT … WHERE pk = n`) are answered on the connection's
/// own task, not a statement thread: inside a transaction they see its
/// writes, after a failed statement they fail with 25P02 like any other,
/// errors keep their SQLSTATE, and through the extended protocol the key
/// comes as a parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_queries_keep_transaction_semantics() {
    let server = TestServer::start(true, None).await;
    let a = server.client().await;
    let b = server.client().await;
    a.batch_execute("CREATE TABLE acct (id INT PRIMARY KEY, owner TEXT, balance BIGINT)")
        .await
        .unwrap();
    a.batch_execute("INSERT INTO acct VALUES (1, 'ann', 100), (2, 'bob', 5)")
        .await
        .unwrap();
    let point = "SELECT balance FROM acct WHERE id = 1";
    a.batch_execute("BEGIN; UPDATE acct SET balance = 0 WHERE id = 1;")
        .await
        .unwrap();
    let mine: i64 = a.query_one(point, &[]).await.unwrap().get(0);
    let theirs: i64 = b.query_one(point, &[]).await.unwrap().get(0);
    assert_eq!((mine, theirs), (0, 100));
    let e = a
        .batch_execute("SELECT nope FROM acct WHERE id = 1")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::UNDEFINED_COLUMN), "{}", msg(&e));
    let e = a.simple_query(point).await.unwrap_err();
    assert_eq!(
        e.code(),
        Some(&SqlState::IN_FAILED_SQL_TRANSACTION),
        "{}",
        msg(&e)
    );
    a.batch_execute("ROLLBACK").await.unwrap();
    let rows = a.simple_query(point).await.unwrap();
    let values: Vec<Option<String>> = rows
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_string)),
            _ => None,
        })
        .collect();
    assert_eq!(values, [Some("100".to_string())]);
    let r = a
        .query("SELECT owner, id FROM acct WHERE id = $1", &[&2i32])
        .await
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].get::<_, &str>(0), r[0].get::<_, i32>(1)), ("bob", 2));
    assert!(a
        .query("SELECT owner FROM acct WHERE id = $1", &[&3i32])
        .await
        .unwrap()
        .is_empty());
    server.stop().await;
}

/// Window functions, `DISTINCT ON` and `JOIN … USING` with parameters go
/// through the extended protocol, whose Describe must give the result types
/// the rows then have (PostgreSQL 15's, checked beside it by hand: bigint
/// for row_number/rank/count and sum of integers, numeric for avg of
/// numeric, double precision for avg of double precision).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_queries_describe_their_types_with_parameters() {
    use tokio_postgres::types::Type;
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (a INT, b TEXT, c INT, f FLOAT8, n NUMERIC(8,2));
         INSERT INTO t VALUES (1, 'x', 5, 1.5, 2.25), (1, 'a', 6, 2.5, 3.50), (2, 'y', 7, NULL, NULL);
         CREATE TABLE u (a INT, z TEXT);
         INSERT INTO u VALUES (1, 'one'), (3, 'three');",
    )
    .await
    .unwrap();
    let types = |s: &tokio_postgres::Statement| {
        s.columns()
            .iter()
            .map(|c| (c.name().to_string(), c.type_().clone()))
            .collect::<Vec<_>>()
    };
    let s = c
        .prepare(
            "SELECT a, row_number() OVER (PARTITION BY a ORDER BY b), sum(c) OVER (PARTITION BY a), \
             avg(n) OVER (), avg(f) OVER (), lag(b) OVER (ORDER BY c), ntile(2) OVER (ORDER BY c) \
             FROM t WHERE c > $1 ORDER BY c",
        )
        .await
        .unwrap();
    assert_eq!(
        types(&s),
        [
            ("a".to_string(), Type::INT4),
            ("row_number".into(), Type::INT8),
            ("sum".into(), Type::INT8),
            ("avg".into(), Type::NUMERIC),
            ("avg".into(), Type::FLOAT8),
            ("lag".into(), Type::TEXT),
            ("ntile".into(), Type::INT4),
        ]
    );
    let rows = c.query(&s, &[&5i32]).await.unwrap();
    let got: Vec<(i32, i64, i64, Decimal, Option<String>, i32)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(5), r.get(6)))
        .collect();
    assert_eq!(
        got,
        [
            (1, 1, 6, Decimal::new(350, 2), None, 1),
            (2, 1, 7, Decimal::new(350, 2), Some("a".into()), 2),
        ]
    );
    let s = c
        .prepare(
            "SELECT * FROM (SELECT a, b, row_number() OVER (PARTITION BY a ORDER BY b) AS rn \
             FROM t WHERE c > $1) s WHERE rn = 1 ORDER BY a",
        )
        .await
        .unwrap();
    assert_eq!(
        types(&s),
        [
            ("a".to_string(), Type::INT4),
            ("b".into(), Type::TEXT),
            ("rn".into(), Type::INT8)
        ]
    );
    let rows = c.query(&s, &[&0i32]).await.unwrap();
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, [(1, "a".to_string()), (2, "y".into())]);
    let rows = c
        .query(
            "SELECT DISTINCT ON (a) a, b FROM t WHERE c > $1 ORDER BY a, b DESC",
            &[&0i32],
        )
        .await
        .unwrap();
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, [(1, "x".to_string()), (2, "y".into())]);
    let rows = c
        .query(
            "SELECT * FROM t JOIN u USING (a) WHERE c > $1 ORDER BY b",
            &[&0i32],
        )
        .await
        .unwrap();
    let names: Vec<&str> = rows[0].columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["a", "b", "c", "f", "n", "z"]);
    let got: Vec<(i32, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(5)))
        .collect();
    assert_eq!(
        got,
        [
            (1, "a".to_string(), "one".to_string()),
            (1, "x".into(), "one".into())
        ]
    );
    server.stop().await;
}

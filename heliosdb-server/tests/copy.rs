//! COPY FROM STDIN / TO STDOUT and DEALLOCATE / DISCARD with real clients:
//! psql's `\copy` of 100,000 rows both ways in text and CSV (round trip
//! byte for byte, NULLs, tabs, newlines, backslashes, unicode, bytea),
//! tokio-postgres `copy_in` / `copy_out`, atomicity (an error on line N or a
//! CopyFail writes nothing and names line N), malformed input, COPY inside
//! a transaction block, and prepared statements after `DEALLOCATE ALL` /
//! `DISCARD ALL` (what psycopg 3 sends after an error and a rollback).

mod common;

use std::path::Path;
use std::time::Instant;

use bytes::Bytes;
use common::{psql, TestServer, PASSWORD, USER};
use futures::{SinkExt, StreamExt};
use tokio_postgres::Client;

const BIG: usize = 100_000;

const BIG_TABLE: &str = "CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT NOT NULL, \
    note TEXT, score DOUBLE PRECISION, data BYTEA, ok BOOLEAN)";

fn code(e: &tokio_postgres::Error) -> String {
    e.code().map(|c| c.code().to_string()).unwrap_or_default()
}

fn db(e: &tokio_postgres::Error) -> (String, String, String) {
    let d = e
        .as_db_error()
        .unwrap_or_else(|| panic!("not a server error: {e}"));
    (
        d.code().code().to_string(),
        d.message().to_string(),
        d.where_().unwrap_or_default().to_string(),
    )
}

/// PostgreSQL's text-format escaping, written independently of the server's.
fn esc(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            c => o.push(c),
        }
    }
    o
}

fn note(i: usize) -> Option<String> {
    Some(match i % 10 {
        0 => return None,
        1 => "tab\there".to_string(),
        2 => "line\nbreak and\r\ncrlf".to_string(),
        3 => "back\\slash \\N \\. end\\".to_string(),
        4 => "ünïcødé ✓ 日本語 🦀".to_string(),
        5 => String::new(),
        6 => "comma, \"quoted\"; semi".to_string(),
        7 => "\\N".to_string(),
        _ => format!("plain {i}"),
    })
}

fn bytes_of(i: usize) -> Option<Vec<u8>> {
    (!i.is_multiple_of(13)).then(|| vec![(i % 256) as u8, 0, 255, b'\\', b'\n', b'\t'])
}

/// Row `i` of the big table in canonical text format (PostgreSQL's output).
fn text_row(i: usize) -> String {
    let score = if i.is_multiple_of(7) {
        "\\N".to_string()
    } else {
        format!("{}", i as f64 / 4.0)
    };
    let data = match bytes_of(i) {
        None => "\\N".to_string(),
        Some(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("\\\\x{hex}")
        }
    };
    format!(
        "{i}\t{}\t{}\t{score}\t{data}\t{}\n",
        esc(&format!("name-{i}")),
        note(i).map_or("\\N".to_string(), |n| esc(&n)),
        if i.is_multiple_of(2) { "t" } else { "f" }
    )
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_by_key(|l| l.split('\t').next().unwrap().parse::<u64>().unwrap_or(0));
    lines
}

async fn count(c: &Client, table: &str) -> i64 {
    let rows = c
        .simple_query(&format!("SELECT COUNT(*) FROM {table}"))
        .await
        .unwrap();
    rows.iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(|v| v.parse().unwrap()),
            _ => None,
        })
        .unwrap()
}

fn run_psql(port: u16, script: String) -> (String, f64) {
    let t = Instant::now();
    let (ok, out, err) = psql(port, USER, PASSWORD, &[], &script);
    assert!(ok, "psql failed: {err}\n{out}");
    (out, t.elapsed().as_secs_f64())
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_100k_rows_both_ways_text_and_csv() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute(BIG_TABLE).await.unwrap();
    c.batch_execute(&BIG_TABLE.replace("big", "big_csv"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input: String = (1..=BIG).map(text_row).collect();
    let in_path = dir.path().join("in.txt");
    std::fs::write(&in_path, &input).unwrap();
    let out_path = dir.path().join("out.txt");
    let csv_path = dir.path().join("out.csv");
    let back_path = dir.path().join("back.txt");
    let port = server.port();

    let (p_in, p_out, p_csv) = (path_str(&in_path), path_str(&out_path), path_str(&csv_path));
    let (out, t_in) =
        tokio::task::spawn_blocking(move || run_psql(port, format!("\\copy big FROM '{p_in}'\n")))
            .await
            .unwrap();
    assert!(out.contains(&format!("COPY {BIG}")), "{out}");
    let (out, t_out) =
        tokio::task::spawn_blocking(move || run_psql(port, format!("\\copy big TO '{p_out}'\n")))
            .await
            .unwrap();
    assert!(out.contains(&format!("COPY {BIG}")), "{out}");
    let (_, t_csv_out) = tokio::task::spawn_blocking(move || {
        run_psql(
            port,
            format!("\\copy big TO '{p_csv}' WITH (FORMAT csv, HEADER true)\n"),
        )
    })
    .await
    .unwrap();
    let p_csv = path_str(&csv_path);
    let p_back = path_str(&back_path);
    let (out, t_csv_in) = tokio::task::spawn_blocking(move || {
        run_psql(
            port,
            format!("\\copy big_csv FROM '{p_csv}' CSV HEADER\n\\copy big_csv TO '{p_back}'\n"),
        )
    })
    .await
    .unwrap();
    assert!(out.contains(&format!("COPY {BIG}")), "{out}");
    eprintln!(
        "psql \\copy of {BIG} rows: text in {t_in:.2} s, text out {t_out:.2} s, \
         csv out {t_csv_out:.2} s, csv in + text out {t_csv_in:.2} s"
    );

    // Text out is the input, byte for byte (rows in key order).
    let output = std::fs::read_to_string(&out_path).unwrap();
    assert_eq!(output.len(), input.len());
    assert_eq!(sorted_lines(&output), sorted_lines(&input));
    // CSV: a header, quoting where needed, and its round trip is exact too.
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        csv.starts_with("id,name,note,score,data,ok\n"),
        "{}",
        &csv[..80]
    );
    assert!(
        csv.contains("\n6,name-6,\"comma, \"\"quoted\"\"; semi\",1.5,\\x06"),
        "csv quoting"
    );
    assert!(
        csv.contains("\n5,name-5,\"\",1.25,"),
        "empty string vs NULL in CSV"
    );
    let back = std::fs::read_to_string(&back_path).unwrap();
    assert_eq!(sorted_lines(&back), sorted_lines(&input));

    // The values themselves, through another client.
    assert_eq!(count(&c, "big").await, BIG as i64);
    for i in [1usize, 2, 3, 4, 5, 7, 10, 13, 14, 99_999, 100_000] {
        let row = c
            .query_one(
                "SELECT note, score, data, ok FROM big WHERE id = $1",
                &[&(i as i32)],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, Option<String>>(0), note(i), "note of {i}");
        let score: Option<f64> = row.get(1);
        assert_eq!(
            score,
            (!i.is_multiple_of(7)).then_some(i as f64 / 4.0),
            "score of {i}"
        );
        assert_eq!(row.get::<_, Option<Vec<u8>>>(2), bytes_of(i), "data of {i}");
        assert_eq!(row.get::<_, Option<bool>>(3), Some(i.is_multiple_of(2)));
    }
    server.stop().await;
}

/// Sends `data` through tokio-postgres's `copy_in` in pieces of `piece`
/// bytes (so records span CopyData messages); returns the row count.
async fn copy_in(
    c: &Client,
    sql: &str,
    data: &[u8],
    piece: usize,
) -> Result<u64, tokio_postgres::Error> {
    let sink = c.copy_in::<_, Bytes>(sql).await?;
    futures::pin_mut!(sink);
    for chunk in data.chunks(piece.max(1)) {
        sink.send(Bytes::copy_from_slice(chunk)).await?;
    }
    sink.finish().await
}

async fn copy_out(c: &Client, sql: &str) -> Vec<u8> {
    let stream = c.copy_out(sql).await.unwrap();
    futures::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_copy_in_and_out() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (id SERIAL PRIMARY KEY, a INTEGER, b TEXT, c NUMERIC, d TIMESTAMP)",
    )
    .await
    .unwrap();
    let rows: String = (1..=2_500)
        .map(|i| {
            format!(
                "{i}\t{}\t12.5{i}\t2024-02-29 12:00:0{}\n",
                esc(&format!("v\t{i}\\")),
                i % 10
            )
        })
        .collect();
    // Records split across messages at every position, some serial ids from the sequence.
    let n = copy_in(&c, "COPY t (a, b, c, d) FROM STDIN", rows.as_bytes(), 7)
        .await
        .unwrap();
    assert_eq!(n, 2_500);
    let out = copy_out(&c, "COPY t (a, b, c, d) TO STDOUT").await;
    assert_eq!(
        sorted_lines(std::str::from_utf8(&out).unwrap()),
        sorted_lines(&rows)
    );
    let row = c
        .query_one("SELECT id, b FROM t WHERE a = 7", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(1), "v\t7\\");
    assert!(row.get::<_, i32>(0) >= 1);

    // CSV with a header, custom delimiter and NULL, in and out; the query form.
    c.batch_execute("CREATE TABLE u (k INTEGER PRIMARY KEY, v TEXT, w TEXT)")
        .await
        .unwrap();
    let csv = "k;v;w\n1;\"multi\nline; \"\"x\"\"\";NIL\n2;;\"NIL\"\n3;\\.x;plain\n";
    let n = copy_in(
        &c,
        "COPY u FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';', NULL 'NIL')",
        csv.as_bytes(),
        5,
    )
    .await
    .unwrap();
    assert_eq!(n, 3);
    let r = c
        .query("SELECT k, v, w FROM u ORDER BY k", &[])
        .await
        .unwrap();
    assert_eq!(
        r[0].get::<_, Option<String>>(1).as_deref(),
        Some("multi\nline; \"x\"")
    );
    assert_eq!(r[0].get::<_, Option<String>>(2), None);
    assert_eq!(r[1].get::<_, Option<String>>(1).as_deref(), Some(""));
    assert_eq!(r[1].get::<_, Option<String>>(2).as_deref(), Some("NIL"));
    assert_eq!(r[2].get::<_, Option<String>>(1).as_deref(), Some("\\.x"));
    let out = copy_out(
        &c,
        "COPY u TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER ';', NULL 'NIL')",
    )
    .await;
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "k;v;w\n1;\"multi\nline; \"\"x\"\"\";NIL\n2;;\"NIL\"\n3;\\.x;plain\n"
    );
    let out = copy_out(
        &c,
        "COPY (SELECT k, w FROM u WHERE k > 1 ORDER BY k) TO STDOUT",
    )
    .await;
    assert_eq!(String::from_utf8(out).unwrap(), "2\tNIL\n3\tplain\n");
    let out = copy_out(&c, "COPY u (w, k) TO STDOUT CSV FORCE QUOTE w").await;
    assert_eq!(
        String::from_utf8(out).unwrap(),
        ",1\n\"NIL\",2\n\"plain\",3\n"
    );
    // The end-of-data marker ends the data; what follows it is ignored.
    c.batch_execute("CREATE TABLE m (x INTEGER)").await.unwrap();
    let n = copy_in(&c, "COPY m FROM STDIN", b"1\n2\n\\.\n3\n", 3)
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(count(&c, "m").await, 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_on_line_n_writes_nothing_and_names_line_n() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)")
        .await
        .unwrap();
    // Line 2,345: after two batches were inserted.
    let mut data: String = (1..=3_000).map(|i| format!("{i}\tx{i}\n")).collect();
    data = data.replace("\n2345\tx2345\n", "\n2345x\tbad\n");
    let e = copy_in(&c, "COPY t FROM STDIN", data.as_bytes(), 4096)
        .await
        .unwrap_err();
    let (code, msg, ctx) = db(&e);
    assert_eq!(code, "22P02", "{msg}");
    assert_eq!(msg, "invalid input syntax for type integer: \"2345x\"");
    assert_eq!(ctx, "COPY t, line 2345, column a: \"2345x\"");
    assert_eq!(count(&c, "t").await, 0);

    // The same through psql: its error names the line.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.txt");
    std::fs::write(&file, "1\ta\n2\t\\N\n").unwrap();
    let (port, f) = (server.port(), path_str(&file));
    let (ok, _, err) = tokio::task::spawn_blocking(move || {
        psql(port, USER, PASSWORD, &[], &format!("\\copy t FROM '{f}'\n"))
    })
    .await
    .unwrap();
    assert!(!ok);
    assert!(
        err.contains("null value in column \"b\" of relation \"t\" violates not-null constraint"),
        "{err}"
    );
    assert!(err.contains("COPY t, line 2: \"2\t\\N\""), "{err}");
    assert_eq!(count(&c, "t").await, 0);

    // A key twice in one batch, and a key that exists.
    let e = copy_in(&c, "COPY t FROM STDIN", b"1\ta\n2\tb\n1\tc\n", 100)
        .await
        .unwrap_err();
    let (code, msg, ctx) = db(&e);
    assert_eq!(code, "23505", "{msg}");
    assert_eq!(ctx, "COPY t, line 3");
    c.batch_execute("INSERT INTO t VALUES (5, 'five')")
        .await
        .unwrap();
    let e = copy_in(&c, "COPY t FROM STDIN", b"4\ta\n5\tb\n", 100)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "23505", "{e}");
    assert_eq!(count(&c, "t").await, 1);
    server.stop().await;
}

fn code_of(e: &tokio_postgres::Error) -> String {
    code(e)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_fail_and_malformed_input_write_nothing() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INTEGER, b TEXT, c BYTEA)")
        .await
        .unwrap();

    // CopyFail: tokio-postgres sends it when the sink is dropped unfinished.
    {
        let sink = c.copy_in::<_, Bytes>("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        // More than the server gathers per call: batches are inserted before the CopyFail.
        let rows: String = (0..60_000).map(|i| format!("{i}\tx\t\\N\n")).collect();
        sink.send(Bytes::from(rows)).await.unwrap();
    }
    assert_eq!(count(&c, "t").await, 0);

    let cases: &[(&str, &[u8], &str, &str)] = &[
        (
            "COPY t FROM STDIN",
            b"1\tx\t\\N\n2\tonly\n",
            "22P04",
            "missing data for column \"c\"",
        ),
        (
            "COPY t FROM STDIN",
            b"1\tx\t\\N\textra\n",
            "22P04",
            "extra data after last expected column",
        ),
        (
            "COPY t FROM STDIN CSV",
            b"1,x,\n2,\"never closed\n",
            "22P04",
            "unterminated CSV quoted field",
        ),
        (
            "COPY t FROM STDIN",
            b"1\t\\xff\t\\N\n",
            "22021",
            "invalid byte sequence for encoding \"UTF8\": 0xff",
        ),
        (
            "COPY t FROM STDIN",
            b"1\ta\\.b\t\\N\n",
            "22P04",
            "end-of-copy marker corrupt",
        ),
        (
            "COPY t FROM STDIN",
            b"1\tx\t\\\\xzz\n",
            "22023",
            "invalid hexadecimal digit: \"z\"",
        ),
        (
            "COPY t FROM STDIN",
            b"99999999999\tx\t\\N\n",
            "22003",
            "value \"99999999999\" is out of range for type integer",
        ),
        (
            "COPY t FROM STDIN",
            b"1\tcr\rhere\t\\N\n",
            "22P04",
            "literal carriage return found in data",
        ),
        (
            "COPY t (a, zz) FROM STDIN",
            b"",
            "42703",
            "column \"zz\" of relation \"t\" does not exist",
        ),
        (
            "COPY nope FROM STDIN",
            b"",
            "42P01",
            "relation \"nope\" does not exist",
        ),
        (
            "COPY t FROM '/etc/passwd'",
            b"",
            "42501",
            "COPY from a file or program is not allowed on this server",
        ),
        (
            "COPY t FROM STDIN (FORMAT binary)",
            b"",
            "0A000",
            "COPY in binary format is not supported; use FORMAT text or FORMAT csv",
        ),
    ];
    for (sql, data, want_code, want_msg) in cases {
        let e = copy_in(&c, sql, data, 3).await.unwrap_err();
        let (code, msg, _) = db(&e);
        assert_eq!(
            (code.as_str(), msg.as_str()),
            (*want_code, *want_msg),
            "{sql} {data:?}"
        );
        // The session goes on, and nothing was written.
        assert_eq!(count(&c, "t").await, 0);
    }
    // The simple protocol too (psql's path): the error, then ready for more.
    let e = c.simple_query("COPY t TO '/tmp/x'").await.unwrap_err();
    assert_eq!(code(&e), "42501");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_joins_an_open_transaction() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        .await
        .unwrap();
    c.batch_execute("BEGIN; INSERT INTO t VALUES (1, 'one')")
        .await
        .unwrap();
    copy_in(&c, "COPY t FROM STDIN", b"2\ttwo\n3\tthree\n", 4)
        .await
        .unwrap();
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(count(&c, "t").await, 0);

    c.batch_execute("BEGIN; INSERT INTO t VALUES (1, 'one')")
        .await
        .unwrap();
    copy_in(&c, "COPY t FROM STDIN", b"2\ttwo\n3\tthree\n", 4)
        .await
        .unwrap();
    let other = server.client().await;
    assert_eq!(
        count(&other, "t").await,
        0,
        "uncommitted rows are invisible"
    );
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(count(&other, "t").await, 3);

    // A failed COPY aborts the transaction block, as any failed statement.
    c.batch_execute("BEGIN; INSERT INTO t VALUES (10, 'ten')")
        .await
        .unwrap();
    let e = copy_in(&c, "COPY t FROM STDIN", b"11\televen\nx\ty\n", 4)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "22P02");
    let e = c.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(code(&e), "25P02");
    let e = c.copy_out("COPY t TO STDOUT").await.err().unwrap();
    assert_eq!(code(&e), "25P02");
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(count(&c, "t").await, 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deallocate_and_discard_all_then_prepared_statements_work() {
    let server = TestServer::start(true, None).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
        .await
        .unwrap();
    let stmt = c.prepare("SELECT b FROM t WHERE a = $1").await.unwrap();
    for _ in 0..6 {
        let r = c.query_one(&stmt, &[&1i32]).await.unwrap();
        assert_eq!(r.get::<_, String>(0), "one");
    }
    // psycopg 3's sequence after an error in a transaction.
    c.batch_execute("BEGIN").await.unwrap();
    assert!(c.batch_execute("SELECT * FROM missing").await.is_err());
    c.batch_execute("ROLLBACK").await.unwrap();
    let done = c.simple_query("DEALLOCATE ALL").await.unwrap();
    assert!(matches!(
        done.last(),
        Some(tokio_postgres::SimpleQueryMessage::CommandComplete(_))
    ));
    // The old statement is gone, as in PostgreSQL.
    let e = c.query_one(&stmt, &[&1i32]).await.unwrap_err();
    assert_eq!(code(&e), "26000", "{e}");

    // DEALLOCATE by name; an unknown name is an error. tokio-postgres hides
    // its statement names (`s<n>`, numbered across the process): the only
    // statement of this connection is the one whose DEALLOCATE succeeds.
    let named = c.prepare("SELECT a FROM t").await.unwrap();
    let mut dropped = None;
    for i in 0..100_000 {
        match c.simple_query(&format!("DEALLOCATE s{i}")).await {
            Ok(_) => {
                dropped = Some(i);
                break;
            }
            Err(e) => assert_eq!(code(&e), "26000", "{e}"),
        }
    }
    assert!(dropped.is_some());
    assert_eq!(code(&c.query(&named, &[]).await.unwrap_err()), "26000");
    let stmt = c.prepare("SELECT b FROM t WHERE a = $1").await.unwrap();
    let r = c.query_one(&stmt, &[&2i32]).await.unwrap();
    assert_eq!(r.get::<_, String>(0), "two");
    let e = c
        .simple_query("DEALLOCATE PREPARE nosuch")
        .await
        .unwrap_err();
    assert_eq!(code(&e), "26000");
    c.simple_query("DEALLOCATE PREPARE ALL").await.unwrap();

    // DISCARD ALL: statements dropped, settings back to the server's.
    let stmt = c.prepare("SELECT b FROM t WHERE a = $1").await.unwrap();
    c.batch_execute("SET statement_timeout = 1234")
        .await
        .unwrap();
    c.batch_execute("BEGIN").await.unwrap();
    let e = c.simple_query("DISCARD ALL").await.unwrap_err();
    assert_eq!(code(&e), "25001");
    c.batch_execute("ROLLBACK").await.unwrap();
    c.simple_query("DISCARD ALL").await.unwrap();
    assert_eq!(
        code(&c.query_one(&stmt, &[&1i32]).await.unwrap_err()),
        "26000"
    );
    let r = c.simple_query("SHOW statement_timeout").await.unwrap();
    let shown: Vec<_> = r
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    assert_eq!(shown, ["0"]);
    let stmt = c.prepare("SELECT b FROM t WHERE a = $1").await.unwrap();
    assert_eq!(
        c.query_one(&stmt, &[&1i32])
            .await
            .unwrap()
            .get::<_, String>(0),
        "one"
    );
    // Through the extended protocol as well.
    c.execute("DEALLOCATE ALL", &[]).await.unwrap();
    let stmt = c.prepare("SELECT b FROM t WHERE a = $1").await.unwrap();
    assert_eq!(
        c.query_one(&stmt, &[&2i32])
            .await
            .unwrap()
            .get::<_, String>(0),
        "two"
    );
    server.stop().await;
}

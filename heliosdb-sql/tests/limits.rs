//! Statements that used to take the process down (issue 15, item 1): deep
//! expressions overflowed the stack (an abort no `catch_unwind` stops),
//! psql name patterns backtracked exponentially or overflowed the stack;
//! and `statement_timeout`. Each test fails (the process aborts, or the
//! assertion does) without the limits.

use std::sync::Arc;
use std::time::Duration;

use heliosdb_core::{Config, StorageEngine, Value};
use heliosdb_keys::FakeSource;
use heliosdb_sql::limits::{MAX_EXPRESSION_DEPTH, MAX_PARSER_RECURSION, STACK_SIZE};
use heliosdb_sql::{text_of, QueryResult, Session, SessionSettings, SqlError, SqlExt, SqlShared};

fn engine(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.encryption.enabled = true;
    StorageEngine::open_with_source(dir.join("db"), &config, Arc::new(FakeSource::new(7))).unwrap()
}

fn plus_chain(terms: usize) -> String {
    format!("SELECT {}", vec!["1"; terms].join("+"))
}

/// psql 15's `\dt PATTERN` query, with `regex` as psql translated PATTERN.
fn psql_dt(regex: &str) -> String {
    format!(
        "SELECT n.nspname as \"Schema\",\n  c.relname as \"Name\",\n  CASE c.relkind WHEN 'r' \
         THEN 'table' WHEN 'v' THEN 'view' END as \"Type\",\n  \
         pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"\nFROM pg_catalog.pg_class c\n     \
         LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relkind IN \
         ('r','p','')\n  AND c.relname OPERATOR(pg_catalog.~) '^({regex})$' COLLATE \
         pg_catalog.default\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 1,2;"
    )
}

fn one_value(r: &QueryResult) -> Value {
    r.rows()[0][0].clone()
}

/// `SELECT 1+1+…+1` with 10,000 terms (20 KB) aborted the process with a
/// stack overflow; 100,000 terms and 100,000 nested parentheses too. Each
/// is now a clean error, and the same session answers afterwards.
#[test]
fn deep_expressions_are_refused_and_the_session_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    s.execute("CREATE TABLE t (a INT)", &[]).unwrap();
    let nested = |n: usize| format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n));
    let or_chain = format!(
        "SELECT * FROM t WHERE {}",
        vec!["a = 1"; 10_000].join(" OR ")
    );
    for sql in [
        plus_chain(10_000),
        plus_chain(100_000),
        nested(100_000),
        nested(MAX_PARSER_RECURSION + 10),
        or_chain,
    ] {
        let err = s.execute(&sql, &[]).unwrap_err();
        assert!(matches!(err, SqlError::TooComplex(_)), "{err}");
        assert!(
            err.to_string().starts_with("statement too complex"),
            "{err}"
        );
        // Describing (the extended protocol's first step) is refused alike.
        let err = s.describe(&sql).unwrap_err();
        assert!(matches!(err, SqlError::TooComplex(_)), "{err}");
    }
    let r = s.execute("SELECT 1+1", &[]).unwrap();
    assert_eq!(text_of(&one_value(&r[0])), "2");
    // Inside a transaction the refusal aborts it, as any error does.
    s.execute("BEGIN", &[]).unwrap();
    assert!(s.execute(&plus_chain(10_000), &[]).is_err());
    let err = s.execute("SELECT 1", &[]).unwrap_err();
    assert!(err.to_string().contains("aborted"), "{err}");
    s.execute("ROLLBACK", &[]).unwrap();
    // The embedded one-shot API too.
    let err = db.execute_sql(&plus_chain(10_000)).unwrap_err();
    assert!(matches!(err, SqlError::TooComplex(_)), "{err}");
}

/// Every shape at (just under) the limits runs on a thread with Rust's
/// default 2 MiB of stack — a quarter of the server's session threads'
/// [`STACK_SIZE`] — so embedded callers on ordinary threads are safe too.
/// A shape that outgrew it would abort this test's process.
#[test]
fn statements_at_the_limits_run_on_a_default_2_mib_stack() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(engine(dir.path()));
    db.execute_sql("CREATE TABLE t (a INT, s TEXT)").unwrap();
    db.execute_sql("INSERT INTO t VALUES (1, 'x')").unwrap();
    // Each just within MAX_EXPRESSION_DEPTH (the bound counts non-leaf
    // tokens: `a = 1 OR` is two, `::INT` four) or MAX_PARSER_RECURSION.
    let d = MAX_EXPRESSION_DEPTH - 10;
    let r = MAX_PARSER_RECURSION - 5;
    let shapes = vec![
        plus_chain(d),
        format!(
            "SELECT * FROM t WHERE {}",
            vec!["a = 1"; d / 2].join(" OR ")
        ),
        format!(
            "SELECT * FROM t WHERE {}",
            vec!["a > 0"; d / 2].join(" AND ")
        ),
        format!("SELECT {}", vec!["s"; d].join(" || ")),
        format!("SELECT a{} FROM t", "::INT".repeat(d / 4)),
        format!("SELECT {} FROM t", vec!["a * 2 - 1"; d / 2].join(" + ")),
        format!("SELECT {}1{}", "(".repeat(r), ")".repeat(r)),
        format!("SELECT {}1{}", "(SELECT ".repeat(r / 2), ")".repeat(r / 2)),
        // Nesting and a chain together (each `(SELECT` counts three).
        format!(
            "SELECT {}{}{}",
            "(SELECT ".repeat(20),
            vec!["1"; d - 70].join("+"),
            ")".repeat(20)
        ),
        format!("SELECT {}TRUE", "NOT ".repeat(r)),
        format!(
            "SELECT {}1{}",
            "CASE WHEN TRUE THEN ".repeat(r / 2),
            " END".repeat(r / 2)
        ),
        format!(
            "SELECT COUNT(*) FROM t t0 {}",
            (1..d / 8)
                .map(|i| format!("JOIN t t{i} ON t{i}.a = t0.a"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        vec!["SELECT a FROM t"; d].join(" UNION ALL "),
        format!(
            "UPDATE t SET a = {} WHERE {}",
            vec!["a"; d / 2].join(" + "),
            vec!["a = 1"; d / 4].join(" OR ")
        ),
        format!(
            "SELECT * FROM t WHERE a IN ({})",
            vec!["1"; 100_000].join(", ")
        ),
        format!(
            "INSERT INTO t VALUES {}",
            vec!["(1 + 1, 'y')"; 10_000].join(", ")
        ),
    ];
    const { assert!(STACK_SIZE >= 2 * 1024 * 1024) };
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let shared = SqlShared::new();
            let mut s = Session::new(&db, &shared);
            for sql in &shapes {
                // Unsupported shapes (UNION) may fail; none may crash.
                let _ = s.execute(sql, &[]);
                let _ = s.describe(sql);
                s.execute("SELECT 1", &[]).unwrap();
            }
        })
        .unwrap();
    worker.join().unwrap();
}

/// psql's `\dt` patterns went through a recursive backtracking matcher:
/// 9 `.*` took 9.9 s of CPU against a name they do not match, 300,000
/// overflowed the stack. Matching is linear now; a pattern too big to
/// compile is refused like PostgreSQL refuses it. (No timing assertion:
/// exponential matching would simply not finish.)
#[test]
fn psql_patterns_with_many_wildcards_answer() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    s.execute(
        "CREATE TABLE a_rather_long_table_name_that_does_not_match (a INT)",
        &[],
    )
    .unwrap();
    s.execute("CREATE TABLE patients (a INT)", &[]).unwrap();
    let r = s
        .execute(&psql_dt(&format!("{}z", ".*".repeat(30))), &[])
        .unwrap();
    assert_eq!(r[0].rows().len(), 0);
    let r = s
        .execute(&psql_dt(&format!("{}s", ".*".repeat(30))), &[])
        .unwrap();
    assert_eq!(
        r[0].rows()
            .iter()
            .map(|row| row[1].clone())
            .collect::<Vec<_>>(),
        vec![Value::String("patients".into())]
    );
    let err = s
        .execute(&psql_dt(&format!("{}z", ".*".repeat(300_000))), &[])
        .unwrap_err();
    assert!(matches!(err, SqlError::Pattern(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "invalid regular expression: regular expression is too complex"
    );
    let r = s.execute(&psql_dt("pat.*"), &[]).unwrap();
    assert_eq!(r[0].rows().len(), 1);
}

/// `SET statement_timeout` stops a long join (GlueSQL re-scans the inner
/// tables per outer row: 27 million rows here, minutes without a timeout).
#[test]
fn statement_timeout_stops_a_long_join() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    s.execute("CREATE TABLE t (a INT PRIMARY KEY)", &[])
        .unwrap();
    let values: Vec<String> = (0..300).map(|i| format!("({i})")).collect();
    s.execute(&format!("INSERT INTO t VALUES {}", values.join(", ")), &[])
        .unwrap();
    let join = "SELECT COUNT(*) FROM t x JOIN t y ON y.a >= 0 JOIN t z ON z.a >= 0";
    s.execute("SET statement_timeout = '200ms'", &[]).unwrap();
    let r = s.execute("SHOW statement_timeout", &[]).unwrap();
    assert_eq!(one_value(&r[0]), Value::String("200ms".into()));
    let err = s.execute(join, &[]).unwrap_err();
    assert!(matches!(err, SqlError::Timeout), "{err}");
    assert_eq!(
        err.to_string(),
        "canceling statement due to statement timeout"
    );
    // Short statements still run; the timeout stays until changed.
    let r = s.execute("SELECT COUNT(*) FROM t", &[]).unwrap();
    assert_eq!(one_value(&r[0]), Value::Int8(300));
    assert_eq!(
        s.settings().statement_timeout(),
        Some(Duration::from_millis(200))
    );
    // A transaction the timeout hit is aborted, as in PostgreSQL.
    s.execute("BEGIN", &[]).unwrap();
    assert!(matches!(s.execute(join, &[]), Err(SqlError::Timeout)));
    assert!(s.execute("SELECT 1", &[]).is_err());
    s.execute("ROLLBACK", &[]).unwrap();
    // The catalog emulation checks the deadline too (an expired one here).
    let mut expired = Session::new(&db, &shared).with_settings(
        SessionSettings::with_statement_timeout(Duration::from_nanos(1)),
    );
    let err = expired.execute(&psql_dt("pat.*"), &[]).unwrap_err();
    assert!(matches!(err, SqlError::Timeout), "{err}");
    s.execute("SET statement_timeout = 0", &[]).unwrap();
    let r = s.execute("SHOW statement_timeout", &[]).unwrap();
    assert_eq!(one_value(&r[0]), Value::String("0".into()));
}

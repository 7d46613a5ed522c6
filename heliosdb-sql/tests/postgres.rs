//! PostgreSQL semantics the SQL layer must match or refuse — never answer
//! differently: SQLSTATE codes, statement atomicity, savepoints, TRUNCATE,
//! run-time parameters, three-valued logic, integer division, NUMERIC(p, s),
//! result column labels, and the refusal of what GlueSQL would evaluate
//! wrongly (window functions).

use std::sync::Arc;

use heliosdb_core::{Config, StorageEngine, Value};
use heliosdb_keys::FakeSource;
use heliosdb_sql::{QueryResult, Session, SqlError, SqlShared};

fn engine(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.encryption.enabled = true;
    StorageEngine::open_with_source(dir.join("db"), &config, Arc::new(FakeSource::new(7))).unwrap()
}

/// Runs one statement, expecting success.
fn run(s: &mut Session<'_>, sql: &str) -> QueryResult {
    let mut r = s.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    r.pop().unwrap()
}

/// Runs one statement, expecting an error; returns its SQLSTATE and text.
fn fail(s: &mut Session<'_>, sql: &str) -> (String, String) {
    match s.execute(sql, &[]) {
        Ok(r) => panic!("{sql}: expected an error, got {r:?}"),
        Err(e) => (e.sqlstate().to_string(), e.to_string()),
    }
}

/// The rows as PostgreSQL's text form.
fn text(r: &QueryResult) -> Vec<Vec<String>> {
    r.rows()
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Value::Null => "NULL".to_string(),
                    v => heliosdb_sql::text_of(v),
                })
                .collect()
        })
        .collect()
}

fn labels(r: &QueryResult) -> Vec<String> {
    match r {
        QueryResult::Rows { columns, .. } => columns.iter().map(|c| c.name.clone()).collect(),
        QueryResult::Command { .. } => Vec::new(),
    }
}

fn with_session(f: impl FnOnce(&mut Session<'_>)) {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::default();
    let mut s = Session::new(&db, &shared);
    f(&mut s);
}

#[test]
fn errors_carry_postgres_sqlstates() {
    with_session(|s| {
        run(
            s,
            "CREATE TABLE u (id INT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name VARCHAR(3), \
             price NUMERIC(6,2))",
        );
        run(s, "INSERT INTO u VALUES (1, 'a@x', 'ann', 1.5)");
        let cases = [
            ("INSERT INTO u VALUES (1, 'b@x', 'bob', 1)", "23505"),
            ("INSERT INTO u VALUES (2, 'a@x', 'bob', 1)", "23505"),
            ("INSERT INTO u VALUES (3, NULL, 'bob', 1)", "23502"),
            ("INSERT INTO u VALUES (4, 'c@x', 'toolong', 1)", "22001"),
            ("INSERT INTO u VALUES (5, 'd@x', 'eve', 12345.6)", "22003"),
            ("SELECT * FROM missing", "42P01"),
            ("SELECT nope FROM u", "42703"),
            ("SELECT 1/0", "22012"),
            ("SELEC 1", "42601"),
            (
                "SELECT sum(id) OVER (ORDER BY id RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM u",
                "0A000",
            ),
            ("SELECT id FROM u WHERE row_number() OVER () = 1", "42P20"),
            ("SELECT 1 UNION SELECT 1, 2", "42601"),
            ("ROLLBACK TO SAVEPOINT nowhere", "25P01"),
            ("SET no_such_parameter = 1", "42704"),
            ("SET TimeZone = 'Europe/Paris'", "0A000"),
        ];
        let mut wrong = Vec::new();
        for (sql, code) in cases {
            let (got, msg) = fail(s, sql);
            if got != code {
                wrong.push(format!("{sql}: {got} ({msg}), expected {code}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        // Nothing of the failed inserts was written.
        assert_eq!(text(&run(s, "SELECT count(*) FROM u")), vec![vec!["1"]]);
    });
}

#[test]
fn window_functions_answer_and_what_is_not_supported_is_refused() {
    with_session(|s| {
        run(s, "CREATE TABLE t (id INT PRIMARY KEY, g TEXT, x INT)");
        run(
            s,
            "INSERT INTO t VALUES (1, 'a', 1), (2, 'a', 2), (3, 'b', 3), (4, 'b', 3)",
        );
        // One row per input row, never one row per partition.
        let r = run(
            s,
            "SELECT id, sum(x) OVER (PARTITION BY g) AS s, count(*) OVER () AS n, \
             rank() OVER (ORDER BY x DESC) AS r, lag(x) OVER (ORDER BY id) AS prev \
             FROM t ORDER BY id",
        );
        assert_eq!(
            text(&r),
            vec![
                vec!["1", "3", "4", "4", "NULL"],
                vec!["2", "3", "4", "3", "1"],
                vec!["3", "6", "4", "1", "2"],
                vec!["4", "6", "4", "1", "3"],
            ]
        );
        // Running sum over peers (the default RANGE frame) and ROWS frames.
        let r = run(
            s,
            "SELECT id, sum(x) OVER (ORDER BY x) AS running, \
             sum(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair \
             FROM t ORDER BY id",
        );
        assert_eq!(
            text(&r),
            vec![
                vec!["1", "1", "1"],
                vec!["2", "3", "3"],
                vec!["3", "9", "5"],
                vec!["4", "9", "6"],
            ]
        );
        // avg() is PostgreSQL's exact numeric, as an aggregate and over a window.
        let r = run(s, "SELECT avg(x) FROM t");
        assert_eq!(text(&r), vec![vec!["2.2500000000000000"]]);
        let r = run(s, "SELECT g, avg(x) FROM t GROUP BY g ORDER BY g");
        assert_eq!(
            text(&r),
            vec![
                vec!["a", "1.5000000000000000"],
                vec!["b", "3.0000000000000000"]
            ]
        );
        // NULLS FIRST/LAST sorted here.
        run(s, "INSERT INTO t VALUES (5, NULL, NULL)");
        let r = run(s, "SELECT id, x FROM t ORDER BY x NULLS FIRST, id DESC");
        assert_eq!(
            text(&r),
            vec![
                vec!["5", "NULL"],
                vec!["1", "1"],
                vec!["2", "2"],
                vec!["4", "3"],
                vec!["3", "3"]
            ]
        );
        let r = run(s, "SELECT g FROM t GROUP BY g ORDER BY g DESC NULLS LAST");
        assert_eq!(text(&r), vec![vec!["b"], vec!["a"], vec!["NULL"]]);
        run(s, "DELETE FROM t WHERE id = 5");
        // array_agg with ORDER BY is PostgreSQL's int4[] (its text here).
        let r = run(s, "SELECT array_agg(x ORDER BY x DESC) FROM t");
        assert_eq!(text(&r), vec![vec!["{3,3,2,1}"]]);
        // A derived table with window calls runs first (top n per group).
        let r = run(
            s,
            "SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY g ORDER BY x DESC, id) \
             AS rn FROM t) x WHERE rn = 1 ORDER BY id",
        );
        assert_eq!(text(&r), vec![vec!["2"], vec!["3"]]);
        for sql in [
            "SELECT abs(sum(x) OVER ()) FROM t",
            "SELECT sum(x) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t",
            "SELECT * FROM t RIGHT JOIN t u ON t.id = u.id",
        ] {
            let (code, msg) = fail(s, sql);
            assert_eq!(code, "0A000", "{sql}: {msg}");
        }
    });
}

#[test]
fn set_operations_ctes_and_comma_joins() {
    with_session(|s| {
        run(s, "CREATE TABLE a (n INT)");
        run(s, "CREATE TABLE b (n INT)");
        run(s, "INSERT INTO a VALUES (1), (2), (2), (3), (NULL)");
        run(s, "INSERT INTO b VALUES (2), (3), (4), (NULL)");
        let q = |s: &mut Session, sql: &str| text(&run(s, sql));
        let col = |rows: &[&str]| rows.iter().map(|r| vec![r.to_string()]).collect::<Vec<_>>();
        assert_eq!(
            q(s, "SELECT n FROM a UNION SELECT n FROM b ORDER BY n"),
            col(&["1", "2", "3", "4", "NULL"])
        );
        assert_eq!(
            q(
                s,
                "SELECT n FROM a UNION ALL SELECT n FROM b ORDER BY 1 DESC LIMIT 3"
            ),
            col(&["NULL", "NULL", "4"])
        );
        assert_eq!(
            q(
                s,
                "SELECT n FROM a INTERSECT ALL SELECT n FROM b ORDER BY n"
            ),
            col(&["2", "3", "NULL"])
        );
        assert_eq!(
            q(s, "SELECT n FROM a EXCEPT ALL SELECT n FROM b ORDER BY n"),
            col(&["1", "2"])
        );
        assert_eq!(
            q(s, "SELECT n FROM a EXCEPT SELECT n FROM b ORDER BY n"),
            col(&["1"])
        );
        // INTERSECT binds tighter than UNION.
        assert_eq!(
            q(
                s,
                "SELECT 9 UNION SELECT n FROM a INTERSECT SELECT n FROM b ORDER BY 1"
            ),
            col(&["2", "3", "9", "NULL"])
        );
        let (code, _) = fail(s, "SELECT 'x' UNION SELECT 1");
        assert_eq!(code, "42804");
        // A CTE referenced twice, and one defined from another.
        assert_eq!(
            q(
                s,
                "WITH big AS (SELECT n FROM a WHERE n > 1), two AS (SELECT n FROM big WHERE n = 2) \
                 SELECT count(*) FROM big JOIN two ON big.n = two.n"
            ),
            col(&["4"])
        );
        // Comma joins are inner joins; CROSS JOIN too.
        assert_eq!(
            q(s, "SELECT count(*) FROM a, b WHERE a.n = b.n"),
            col(&["3"])
        );
        assert_eq!(q(s, "SELECT count(*) FROM a CROSS JOIN b"), col(&["20"]));
    });
}

#[test]
fn three_valued_logic_concat_and_integer_division() {
    with_session(|s| {
        run(s, "CREATE TABLE p (id INT PRIMARY KEY, name TEXT)");
        run(
            s,
            "INSERT INTO p VALUES (1, 'alice'), (2, NULL), (3, 'bob')",
        );
        // LIKE on a NULL is NULL (the row is filtered out), not an error.
        let r = run(s, "SELECT id FROM p WHERE name LIKE 'a%' ORDER BY id");
        assert_eq!(text(&r), vec![vec!["1"]]);
        let r = run(s, "SELECT id FROM p WHERE name NOT ILIKE 'A%' ORDER BY id");
        assert_eq!(text(&r), vec![vec!["3"]]);
        let r = run(s, "SELECT name LIKE 'b%' FROM p ORDER BY id");
        assert_eq!(text(&r), vec![vec!["f"], vec!["NULL"], vec!["t"]]);
        // concat skips NULLs.
        let r = run(
            s,
            "SELECT concat('a', NULL, 'b'), concat(name, '-', id) FROM p ORDER BY id",
        );
        assert_eq!(
            text(&r),
            vec![vec!["ab", "alice-1"], vec!["ab", "-2"], vec!["ab", "bob-3"]]
        );
        // `= ANY (ARRAY[…])` and `<> ALL (ARRAY[…])` with NULLs.
        let r = run(
            s,
            "SELECT 2 = ANY (ARRAY[1, 2]), 3 = ANY (ARRAY[1, NULL]), 3 <> ALL (ARRAY[1, 2])",
        );
        assert_eq!(text(&r), vec![vec!["t", "NULL", "t"]]);
        // AND, OR, IN, NOT IN and BETWEEN with NULLs, as values.
        let r = run(
            s,
            "SELECT NULL AND false, NULL OR true, NULL AND true, NULL OR false, \
             2 IN (1, NULL), 2 NOT IN (1, NULL), 1 IN (1, NULL), 3 BETWEEN NULL AND 2, \
             NOT (NULL AND false)",
        );
        assert_eq!(
            text(&r),
            vec![vec![
                "f", "t", "NULL", "NULL", "NULL", "NULL", "t", "f", "t"
            ]]
        );
        // ... and as filters: a NULL OR true keeps the row, NOT IN with a
        // NULL in the list keeps none.
        let r = run(
            s,
            "SELECT id FROM p WHERE name = 'zed' OR id = 2 ORDER BY id",
        );
        assert_eq!(text(&r), vec![vec!["2"]]);
        let r = run(s, "SELECT id FROM p WHERE id NOT IN (1, NULL)");
        assert!(r.rows().is_empty());
        // NOT (NULL AND true) is NULL: row 2 (name NULL) is not returned;
        // NOT (NULL AND false) is true.
        let r = run(
            s,
            "SELECT id FROM p WHERE NOT (name = 'zed' AND id = 2) ORDER BY id",
        );
        assert_eq!(text(&r), vec![vec!["1"], vec!["3"]]);
        let r = run(
            s,
            "SELECT id FROM p WHERE NOT (name = 'zed' AND id = 1) ORDER BY id",
        );
        assert_eq!(text(&r), vec![vec!["1"], vec!["2"], vec!["3"]]);
        // NOT IN (SELECT …) is exact (tests/surface/queries.rs has the NULL cases).
        let r = run(s, "SELECT id FROM p WHERE id NOT IN (SELECT id FROM p)");
        assert!(text(&r).is_empty());
        // Integer division truncates toward zero; a NUMERIC constant
        // divides with PostgreSQL's result scale (16 digits here).
        let r = run(s, "SELECT 7/2, -7/2, 7 % 3, 7.0/2");
        assert_eq!(text(&r), vec![vec!["3", "-3", "1", "3.5000000000000000"]]);
    });
}

#[test]
fn autocommit_statement_is_atomic_with_its_returning() {
    with_session(|s| {
        run(s, "CREATE TABLE a (id INT PRIMARY KEY, n INT)");
        // RETURNING of an expression that fails (division by zero): the row
        // must not stay.
        let (code, _) = fail(s, "INSERT INTO a VALUES (1, 0) RETURNING 10 / n");
        assert_eq!(code, "22012");
        assert_eq!(text(&run(s, "SELECT count(*) FROM a")), vec![vec!["0"]]);
        // The same for an UPDATE and a DELETE: nothing changes.
        run(s, "INSERT INTO a VALUES (1, 1), (2, 0)");
        assert_eq!(
            fail(s, "UPDATE a SET n = n - 1 RETURNING id / n").0,
            "22012"
        );
        assert_eq!(fail(s, "DELETE FROM a RETURNING 1 / n").0, "22012");
        assert_eq!(
            text(&run(s, "SELECT id, n FROM a ORDER BY id")),
            vec![vec!["1", "1"], vec!["2", "0"]]
        );
        assert_eq!(
            text(&run(s, "DELETE FROM a RETURNING id * 10, n + 1")),
            vec![vec!["10", "2"], vec!["20", "1"]]
        );
        // A multi-row insert failing on its second row writes nothing.
        run(s, "INSERT INTO a VALUES (5, 5)");
        let (code, _) = fail(s, "INSERT INTO a VALUES (6, 6), (5, 7)");
        assert_eq!(code, "23505");
        assert_eq!(
            text(&run(s, "SELECT id FROM a ORDER BY id")),
            vec![vec!["5"]]
        );
    });
}

#[test]
fn savepoints_roll_back_part_of_a_transaction() {
    with_session(|s| {
        run(s, "CREATE TABLE sp (id INT PRIMARY KEY)");
        run(s, "BEGIN");
        run(s, "INSERT INTO sp VALUES (1)");
        run(s, "SAVEPOINT a");
        run(s, "INSERT INTO sp VALUES (2)");
        run(s, "SAVEPOINT b");
        run(s, "INSERT INTO sp VALUES (3)");
        run(s, "ROLLBACK TO SAVEPOINT a");
        // `a` survives its rollback; `b` is gone.
        assert_eq!(fail(s, "RELEASE SAVEPOINT b").0, "3B001");
        // The failed statement aborted the transaction: only ROLLBACK works,
        // and ROLLBACK TO a savepoint recovers it.
        assert_eq!(fail(s, "SELECT 1").0, "25P02");
        run(s, "ROLLBACK TO a");
        run(s, "INSERT INTO sp VALUES (4)");
        // An error, then ROLLBACK TO: the transaction goes on.
        run(s, "SAVEPOINT c");
        assert_eq!(fail(s, "INSERT INTO sp VALUES (4)").0, "23505");
        run(s, "ROLLBACK TO SAVEPOINT c");
        run(s, "INSERT INTO sp VALUES (5)");
        run(s, "RELEASE SAVEPOINT a");
        run(s, "COMMIT");
        assert_eq!(
            text(&run(s, "SELECT id FROM sp ORDER BY id")),
            vec![vec!["1"], vec!["4"], vec!["5"]]
        );
        assert_eq!(fail(s, "SAVEPOINT outside").0, "25P01");
    });
}

#[test]
fn truncate_empties_tables_transactionally() {
    with_session(|s| {
        run(s, "CREATE TABLE t1 (id INT PRIMARY KEY)");
        run(s, "CREATE TABLE t2 (id INT PRIMARY KEY)");
        run(s, "INSERT INTO t1 VALUES (1), (2)");
        run(s, "INSERT INTO t2 VALUES (3)");
        run(s, "BEGIN");
        assert_eq!(run(s, "TRUNCATE t1, t2").tag(), "TRUNCATE TABLE");
        assert_eq!(text(&run(s, "SELECT count(*) FROM t1")), vec![vec!["0"]]);
        run(s, "ROLLBACK");
        assert_eq!(text(&run(s, "SELECT count(*) FROM t1")), vec![vec!["2"]]);
        run(s, "TRUNCATE TABLE t1");
        assert_eq!(text(&run(s, "SELECT count(*) FROM t1")), vec![vec!["0"]]);
        assert_eq!(text(&run(s, "SELECT count(*) FROM t2")), vec![vec!["1"]]);
        assert_eq!(fail(s, "TRUNCATE t2 RESTART IDENTITY").0, "0A000");
    });
}

#[test]
fn run_time_parameters_set_show_reset() {
    with_session(|s| {
        // What SQLAlchemy and psycopg send on connect.
        let r = run(s, "SHOW transaction isolation level");
        assert_eq!(labels(&r), vec!["transaction_isolation"]);
        assert_eq!(text(&r), vec![vec!["serializable"]]);
        run(s, "SET extra_float_digits = 3");
        run(s, "SET client_encoding TO 'utf8'");
        run(s, "SET DateStyle = ISO, DMY");
        run(s, "SET application_name = 'billing'");
        run(s, "SET TIME ZONE 'UTC'");
        run(
            s,
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
        );
        assert_eq!(text(&run(s, "SHOW extra_float_digits")), vec![vec!["3"]]);
        assert_eq!(text(&run(s, "SHOW client_encoding")), vec![vec!["UTF8"]]);
        let r = run(s, "SHOW datestyle");
        assert_eq!(labels(&r), vec!["DateStyle"]);
        assert_eq!(text(&r), vec![vec!["ISO, DMY"]]);
        assert_eq!(
            text(&run(s, "SHOW application_name")),
            vec![vec!["billing"]]
        );
        assert_eq!(
            text(&run(s, "SHOW default_transaction_isolation")),
            vec![vec!["read committed"]]
        );
        let all = run(s, "SHOW ALL");
        assert_eq!(labels(&all), vec!["name", "setting", "description"]);
        assert!(text(&all)
            .iter()
            .any(|r| r[0] == "application_name" && r[1] == "billing"));
        run(s, "RESET application_name");
        assert_eq!(text(&run(s, "SHOW application_name")), vec![vec![""]]);
        run(s, "RESET ALL");
        assert_eq!(text(&run(s, "SHOW extra_float_digits")), vec![vec!["1"]]);
        // Values whose meaning the engine does not honour are refused.
        assert_eq!(fail(s, "SET extra_float_digits = 0").0, "0A000");
        assert_eq!(fail(s, "SET client_encoding = 'LATIN1'").0, "0A000");
        assert_eq!(fail(s, "SET DateStyle = 'German'").0, "0A000");
        assert_eq!(fail(s, "SET server_version = '16'").0, "55P02");
        run(s, "CREATE TABLE ro (id INT)");
        run(s, "BEGIN READ ONLY");
        assert_eq!(
            text(&run(s, "SHOW transaction_read_only")),
            vec![vec!["on"]]
        );
        assert_eq!(fail(s, "INSERT INTO ro VALUES (1)").0, "25006");
        run(s, "ROLLBACK");
        assert_eq!(
            text(&run(s, "SHOW transaction_read_only")),
            vec![vec!["off"]]
        );
        run(s, "SET default_transaction_read_only = on");
        let (code, message) = fail(s, "CREATE TABLE ro2 (id INT)");
        assert_eq!(code, "25006");
        assert!(message.contains("CREATE TABLE"), "{message}");
        run(s, "RESET default_transaction_read_only");
        run(s, "INSERT INTO ro VALUES (1)");
        run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ");
        assert_eq!(
            text(&run(s, "SHOW transaction_isolation")),
            vec![vec!["repeatable read"]]
        );
        run(s, "COMMIT");
    });
}

#[test]
fn numeric_precision_and_scale_are_enforced() {
    with_session(|s| {
        run(s, "CREATE TABLE m (id INT PRIMARY KEY, price NUMERIC(8,2))");
        run(
            s,
            "INSERT INTO m VALUES (1, 1.005), (2, 2.5), (3, -0.125), (4, 999999.994)",
        );
        let r = run(s, "SELECT price FROM m ORDER BY id");
        assert_eq!(
            text(&r),
            vec![vec!["1.01"], vec!["2.50"], vec!["-0.13"], vec!["999999.99"]]
        );
        assert_eq!(fail(s, "INSERT INTO m VALUES (5, 999999.995)").0, "22003");
        run(s, "UPDATE m SET price = price * 3 WHERE id = 2");
        assert_eq!(
            text(&run(s, "SELECT price FROM m WHERE id = 2")),
            vec![vec!["7.50"]]
        );
        assert_eq!(
            text(&run(s, "SELECT sum(price) FROM m")),
            vec![vec!["1000008.37"]]
        );
        assert_eq!(fail(s, "CREATE TABLE bad (x NUMERIC(3, 5))").0, "0A000");
    });
}

#[test]
fn result_columns_are_labelled_as_postgres_labels_them() {
    with_session(|s| {
        run(s, "CREATE TABLE l (id INT PRIMARY KEY, name TEXT)");
        run(s, "INSERT INTO l VALUES (1, 'x')");
        let r = run(
            s,
            "SELECT count(*), max(id), lower(name), 1::int, name::text, 1 + 1, \
             CASE WHEN id = 1 THEN 'a' END, concat(name, 'y'), coalesce(name, 'z'), \
             id AS ident, name LIKE 'x' FROM l GROUP BY id, name",
        );
        assert_eq!(
            labels(&r),
            vec![
                "count", "max", "lower", "int4", "name", "?column?", "case", "concat", "coalesce",
                "ident", "?column?"
            ]
        );
        let r = run(s, "SELECT version(), current_database()");
        assert_eq!(labels(&r), vec!["version", "current_database"]);
    });
}

#[test]
fn text_parameters_in_client_forms() {
    with_session(|s| {
        run(
            s,
            "CREATE TABLE b (id INT PRIMARY KEY, data BYTEA, at TIMESTAMP)",
        );
        let params = [
            Value::Int4(1),
            Value::String("\\x00ff10".into()),
            Value::String("2024-02-29T12:00:00.000+00:00".into()),
        ];
        s.execute("INSERT INTO b VALUES ($1, $2, $3)", &params)
            .unwrap();
        let params = [
            Value::Int4(2),
            Value::String("a\\\\b\\001".into()),
            Value::String("2024-02-29 14:00:00+02".into()),
        ];
        s.execute("INSERT INTO b VALUES ($1, $2, $3)", &params)
            .unwrap();
        let r = run(s, "SELECT data, at FROM b ORDER BY id");
        assert_eq!(r.rows()[0][0], Value::Bytes(vec![0x00, 0xff, 0x10]));
        assert_eq!(r.rows()[1][0], Value::Bytes(b"a\\b\x01".to_vec()));
        // A `timestamp` ignores the offset in its text, as PostgreSQL does
        // (node-postgres sends a Date's local wall clock with its offset).
        let at = |row: usize| match &r.rows()[row][1] {
            Value::Timestamp(t) => t.naive_utc().to_string(),
            v => panic!("not a timestamp: {v:?}"),
        };
        assert_eq!(at(0), "2024-02-29 12:00:00");
        assert_eq!(at(1), "2024-02-29 14:00:00");
        let bad = [Value::Int4(3), Value::String("\\x0".into()), Value::Null];
        let e = s
            .execute("INSERT INTO b VALUES ($1, $2, $3)", &bad)
            .unwrap_err();
        assert_eq!(e.sqlstate(), "22P02", "{e}");
        assert!(matches!(e, SqlError::Type(_)));
    });
}

/// node-postgres sends a JavaScript Date as its local wall clock with the
/// zone's offset (`2024-02-29T17:30:00.000+05:30` in India) whatever the
/// parameter's type: a `date` takes its calendar day, a `timestamp` its
/// wall clock (PostgreSQL ignores the offset, and node-pg reads the
/// timestamp back as local time), a `timestamptz` the instant.
#[test]
fn date_parameters_in_node_postgres_form() {
    with_session(|s| {
        run(
            s,
            "CREATE TABLE dt (id INT PRIMARY KEY, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ)",
        );
        for (id, sent) in [
            (1, "2024-02-29T12:00:00.000+00:00"),
            (2, "2024-02-29T17:30:00.000+05:30"),
            (3, "2024-02-29T08:30:00.123-03:30"),
        ] {
            let params = [
                Value::Int4(id),
                Value::String(sent.into()),
                Value::String(sent.into()),
                Value::String(sent.into()),
            ];
            s.execute("INSERT INTO dt VALUES ($1, $2, $3, $4)", &params)
                .unwrap_or_else(|e| panic!("{sent}: {e}"));
        }
        let r = run(s, "SELECT d, ts, tz FROM dt ORDER BY id");
        assert_eq!(
            text(&r),
            vec![
                vec![
                    "2024-02-29",
                    "2024-02-29 12:00:00",
                    "2024-02-29 12:00:00+00"
                ],
                vec![
                    "2024-02-29",
                    "2024-02-29 17:30:00",
                    "2024-02-29 12:00:00+00"
                ],
                vec![
                    "2024-02-29",
                    "2024-02-29 08:30:00.123",
                    "2024-02-29 12:00:00.123+00"
                ],
            ]
        );
        // The cast right around a parameter gives its type: a date here.
        let params = [Value::String("2024-02-29T23:30:00.000-03:30".into())];
        let mut r = s.execute("SELECT $1::date::text AS day", &params).unwrap();
        assert_eq!(text(&r.pop().unwrap()), vec![vec!["2024-02-29"]]);
        // A bad time is refused for a date as for a timestamp.
        for bad in ["2024-02-29T25:00:00", "2024-02-29 noon"] {
            for column in ["d", "ts"] {
                let params = [Value::Int4(9), Value::String(bad.into())];
                let e = s
                    .execute(
                        &format!("INSERT INTO dt (id, {column}) VALUES ($1, $2)"),
                        &params,
                    )
                    .unwrap_err();
                let want = if bad.contains("25:") {
                    "22008"
                } else {
                    "22007"
                };
                assert_eq!(e.sqlstate(), want, "{column} {bad}: {e}");
            }
        }
    });
}

#[test]
fn catalogs_are_relations_joined_and_filtered_like_tables() {
    with_session(|s| {
        run(
            s,
            "CREATE TABLE author (id SERIAL PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE, \
             score NUMERIC(5,1))",
        );
        run(
            s,
            "CREATE TABLE book (id INT PRIMARY KEY, author_id INT, title TEXT, \
             FOREIGN KEY (author_id) REFERENCES author (id))",
        );
        let r = run(
            s,
            "SELECT table_name, table_type FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY table_name",
        );
        assert_eq!(labels(&r), vec!["table_name", "table_type"]);
        assert_eq!(
            text(&r),
            vec![vec!["author", "BASE TABLE"], vec!["book", "BASE TABLE"]]
        );
        let r = run(
            s,
            "SELECT column_name, data_type, is_nullable, character_maximum_length, \
             numeric_precision, numeric_scale FROM information_schema.columns \
             WHERE table_name = 'author' ORDER BY ordinal_position",
        );
        assert_eq!(
            text(&r),
            vec![
                vec!["id", "integer", "NO", "NULL", "32", "0"],
                vec!["email", "character varying", "NO", "80", "NULL", "NULL"],
                vec!["score", "numeric", "YES", "NULL", "5", "1"],
            ]
        );
        // A join of two catalogs, as drivers write them.
        let r = run(
            s,
            "SELECT c.relname, a.attname, t.typname FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             WHERE c.relkind = 'r' AND c.relname = 'book' AND a.attnum > 0 ORDER BY a.attnum",
        );
        assert_eq!(
            text(&r),
            vec![
                vec!["book", "id", "int4"],
                vec!["book", "author_id", "int4"],
                vec!["book", "title", "text"],
            ]
        );
        let r = run(
            s,
            "SELECT tc.constraint_type, kcu.column_name FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu \
             ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name \
             WHERE tc.table_name = 'book' ORDER BY tc.constraint_type",
        );
        assert_eq!(
            text(&r),
            vec![vec!["FOREIGN KEY", "author_id"], vec!["PRIMARY KEY", "id"]]
        );
        // SQLAlchemy's has_table, as it sends it.
        let r = run(
            s,
            "SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class \
             JOIN pg_catalog.pg_namespace \
             ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \
             WHERE pg_catalog.pg_class.relname = 'book' \
             AND pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) \
             AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) \
             AND pg_catalog.pg_namespace.nspname != 'pg_catalog'",
        );
        assert_eq!(text(&r), vec![vec!["book"]]);
        // psycopg2/SQLAlchemy's hstore probe: no such type, no rows.
        let r = run(
            s,
            "SELECT oid, typarray FROM pg_type WHERE typname = 'hstore'",
        );
        assert!(r.rows().is_empty());
        let r = run(s, "SELECT typname FROM pg_catalog.pg_type WHERE oid = 23");
        assert_eq!(text(&r), vec![vec!["int4"]]);
        let r = run(s, "SELECT nspname FROM pg_namespace ORDER BY nspname");
        assert_eq!(
            text(&r),
            vec![
                vec!["information_schema"],
                vec!["pg_catalog"],
                vec!["public"]
            ]
        );
        let r = run(s, "SELECT count(*) FROM pg_class WHERE relkind = 'i'");
        assert_eq!(
            text(&r),
            vec![vec!["3"]],
            "author_pkey, author_email_key, book_pkey"
        );
        // The catalogs are read-only.
        let (code, _) = fail(s, "DELETE FROM pg_catalog.pg_class");
        assert_eq!(code, "42501");
        // Schema-qualified user tables.
        run(s, "INSERT INTO public.book VALUES (1, NULL, 'x')");
        assert_eq!(
            text(&run(s, "SELECT title FROM public.book")),
            vec![vec!["x"]]
        );
    });
}

#[test]
fn create_table_inside_a_transaction_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::default();
    let mut s = Session::new(&db, &shared);
    let s = &mut s;
    run(s, "BEGIN");
    run(
        s,
        "CREATE TABLE gone (id SERIAL PRIMARY KEY, name VARCHAR(5))",
    );
    run(s, "CREATE INDEX gone_name ON gone (name)");
    run(s, "INSERT INTO gone (name) VALUES ('a')");
    assert_eq!(text(&run(s, "SELECT count(*) FROM gone")), vec![vec!["1"]]);
    // The definition written in the transaction is the one used in it.
    assert_eq!(
        fail(s, "INSERT INTO gone (name) VALUES ('toolong')").0,
        "22001"
    );
    run(s, "ROLLBACK");
    assert_eq!(fail(s, "SELECT * FROM gone").0, "42P01");
    assert!(!db.catalog().table_exists("gone").unwrap());

    // Committed: the table, its index and rows stay.
    run(s, "BEGIN");
    run(
        s,
        "CREATE TABLE kept (id SERIAL PRIMARY KEY, name VARCHAR(5))",
    );
    run(s, "CREATE INDEX kept_name ON kept (name)");
    run(s, "INSERT INTO kept (name) VALUES ('a'), ('b')");
    // An index over rows this transaction wrote would miss them: refused.
    assert_eq!(fail(s, "CREATE INDEX kept_id ON kept (id)").0, "0A000");
    run(s, "ROLLBACK");
    run(s, "BEGIN");
    run(
        s,
        "CREATE TABLE kept (id SERIAL PRIMARY KEY, name VARCHAR(5))",
    );
    run(s, "CREATE INDEX kept_name ON kept (name)");
    run(s, "INSERT INTO kept (name) VALUES ('a'), ('b')");
    run(s, "COMMIT");
    assert_eq!(
        text(&run(s, "SELECT id FROM kept WHERE name = 'b'")),
        vec![vec!["2"]]
    );
    assert_eq!(
        fail(s, "INSERT INTO kept (name) VALUES ('toolong')").0,
        "22001"
    );

    // A savepoint taken before CREATE TABLE undoes it.
    run(s, "BEGIN");
    run(s, "SAVEPOINT before");
    run(s, "CREATE TABLE undone (id INT PRIMARY KEY)");
    run(s, "ROLLBACK TO SAVEPOINT before");
    run(s, "COMMIT");
    assert!(!db.catalog().table_exists("undone").unwrap());
}

#[test]
fn pgbench_initialisation_statements() {
    with_session(|s| {
        run(
            s,
            "create table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84)) \
             with (fillfactor=100)",
        );
        run(
            s,
            "insert into pgbench_tellers(tid,bid,tbalance) values (1,1,0)",
        );
        assert_eq!(
            run(s, "truncate table pgbench_tellers").tag(),
            "TRUNCATE TABLE"
        );
        assert_eq!(run(s, "vacuum analyze pgbench_tellers").tag(), "VACUUM");
        assert_eq!(
            run(s, "VACUUM (VERBOSE, ANALYZE) pgbench_tellers (tid, bid)").tag(),
            "VACUUM"
        );
        assert_eq!(run(s, "analyze pgbench_tellers").tag(), "ANALYZE");
        assert_eq!(fail(s, "vacuum pgbench_nothere").0, "42P01");
        assert_eq!(
            fail(s, "create table t (id int) with (oids = true)").0,
            "0A000"
        );
    });
}

#[test]
fn insert_on_conflict_do_nothing_and_do_update() {
    with_session(|s| {
        run(
            s,
            "CREATE TABLE kv (k TEXT PRIMARY KEY, v INT, email TEXT UNIQUE)",
        );
        run(s, "INSERT INTO kv VALUES ('a', 1, 'a@x')");
        let r = run(
            s,
            "INSERT INTO kv VALUES ('a', 9, 'z@x'), ('b', 2, 'b@x') ON CONFLICT (k) DO NOTHING",
        );
        assert_eq!(r.tag(), "INSERT 0 1");
        // Without a target any unique violation is a conflict.
        let r = run(
            s,
            "INSERT INTO kv VALUES ('c', 3, 'a@x') ON CONFLICT DO NOTHING",
        );
        assert_eq!(r.tag(), "INSERT 0 0");
        // With a target, a violation of another constraint is an error.
        assert_eq!(
            fail(
                s,
                "INSERT INTO kv VALUES ('c', 3, 'a@x') ON CONFLICT (k) DO NOTHING"
            )
            .0,
            "23505"
        );
        let r = run(
            s,
            "INSERT INTO kv (k, v) VALUES ('a', 10), ('d', 4) \
             ON CONFLICT (k) DO UPDATE SET v = kv.v + EXCLUDED.v",
        );
        assert_eq!(r.tag(), "INSERT 0 2");
        let r = run(
            s,
            "INSERT INTO kv (k, v) VALUES ('b', 20) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v \
             WHERE kv.v > 100",
        );
        assert_eq!(r.tag(), "INSERT 0 0");
        assert_eq!(
            text(&run(s, "SELECT k, v FROM kv ORDER BY k")),
            vec![vec!["a", "11"], vec!["b", "2"], vec!["d", "4"]]
        );
        let params = [Value::String("d".into()), Value::Int4(7)];
        s.execute(
            "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            &params,
        )
        .unwrap();
        assert_eq!(
            text(&run(s, "SELECT v FROM kv WHERE k = 'd'")),
            vec![vec!["7"]]
        );
        assert_eq!(
            fail(
                s,
                "INSERT INTO kv (k, v) VALUES ('a', 1), ('a', 2) ON CONFLICT (k) DO UPDATE SET v = 0"
            )
            .0,
            "21000"
        );
        // The failed statement changed nothing.
        assert_eq!(
            text(&run(s, "SELECT v FROM kv WHERE k = 'a'")),
            vec![vec!["11"]]
        );
        assert_eq!(
            fail(
                s,
                "INSERT INTO kv VALUES ('q', 1, NULL) ON CONFLICT DO UPDATE SET v = 1"
            )
            .0,
            "42601"
        );
    });
}

#[test]
fn group_by_position_now_floats_and_create_table_as() {
    with_session(|s| {
        run(
            s,
            "CREATE TABLE g (id INT PRIMARY KEY, name TEXT, d DOUBLE PRECISION)",
        );
        run(
            s,
            "INSERT INTO g VALUES (1, 'AB', 1e20), (2, 'ab', 0.00001), (3, 'cd', 1.5)",
        );
        let r = run(
            s,
            "SELECT lower(name) AS l, count(*) FROM g GROUP BY 1 ORDER BY 1",
        );
        assert_eq!(text(&r), vec![vec!["ab", "2"], vec!["cd", "1"]]);
        assert_eq!(fail(s, "SELECT name FROM g GROUP BY 2").0, "42000");
        let r = run(s, "SELECT now() = current_timestamp, now() = now()");
        assert_eq!(text(&r), vec![vec!["t", "t"]]);
        let r = run(s, "SELECT d FROM g ORDER BY id");
        assert_eq!(text(&r), vec![vec!["1e+20"], vec!["1e-05"], vec!["1.5"]]);
        assert_eq!(
            run(
                s,
                "CREATE TABLE g2 AS SELECT id, upper(name) AS uname FROM g"
            )
            .tag(),
            "SELECT 3"
        );
        // `\_` is a literal underscore (tests/surface/queries.rs has more).
        assert_eq!(
            text(&run(
                s,
                "SELECT id FROM g WHERE name LIKE 'a\\_b' ORDER BY id"
            )),
            text(&run(s, "SELECT id FROM g WHERE name = 'a_b' ORDER BY id"))
        );
    });
}

/// A column-level `REFERENCES` is the table-level FOREIGN KEY (as in
/// PostgreSQL): enforced on insert (23503) and on deleting the parent, and
/// listed in `information_schema.table_constraints`.
#[test]
fn column_level_references_are_foreign_keys() {
    with_session(|s| {
        run(s, "CREATE TABLE parent (id INT PRIMARY KEY)");
        run(
            s,
            "CREATE TABLE child (id INT PRIMARY KEY, \
             pid INT CONSTRAINT child_pid_fkey REFERENCES parent (id) ON DELETE NO ACTION)",
        );
        assert_eq!(fail(s, "INSERT INTO child VALUES (1, 9)").0, "23503");
        run(s, "INSERT INTO parent VALUES (9)");
        run(s, "INSERT INTO child VALUES (1, 9)");
        assert_eq!(fail(s, "DELETE FROM parent WHERE id = 9").0, "23503");
        let r = run(
            s,
            "SELECT constraint_type FROM information_schema.table_constraints \
             WHERE table_name = 'child' ORDER BY constraint_type",
        );
        assert_eq!(
            text(&r),
            vec![
                vec!["FOREIGN KEY".to_string()],
                vec!["PRIMARY KEY".to_string()]
            ]
        );
    });
}

/// `UPDATE … RETURNING` answers the new values, `DELETE … RETURNING` the
/// old, with `$n` parameters and qualified columns, tagged as PostgreSQL
/// tags them; changing the primary key with RETURNING is refused (0A000),
/// and a failed statement writes nothing.
#[test]
fn update_and_delete_returning() {
    with_session(|s| {
        run(
            s,
            "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL, name TEXT)",
        );
        run(
            s,
            "INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')",
        );
        let r = run(
            s,
            "UPDATE t SET n = n * 100 WHERE id >= 2 RETURNING id, t.n AS m",
        );
        assert_eq!(labels(&r), vec!["id", "m"]);
        assert_eq!(text(&r), vec![vec!["2", "2000"], vec!["3", "3000"]]);
        let QueryResult::Rows { tag, .. } = &r else {
            panic!("{r:?}")
        };
        assert_eq!(tag, "UPDATE 2");
        let r = s
            .execute(
                "UPDATE t SET name = $1 WHERE id = $2 RETURNING *",
                &[Value::String("z".into()), Value::Int4(1)],
            )
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(text(&r), vec![vec!["1", "10", "z"]]);
        let r = run(s, "UPDATE t SET n = 0 WHERE id = 99 RETURNING id");
        assert!(text(&r).is_empty());
        let (code, msg) = fail(s, "UPDATE t SET id = 7 WHERE id = 1 RETURNING id");
        assert_eq!(code, "0A000", "{msg}");
        // A failed UPDATE … RETURNING writes nothing (NOT NULL violated on row 3).
        let (code, _) = fail(
            s,
            "UPDATE t SET n = CASE WHEN id = 3 THEN NULL ELSE 5 END RETURNING id",
        );
        assert_eq!(code, "23502");
        assert_eq!(
            text(&run(s, "SELECT n FROM t ORDER BY id")),
            vec![vec!["10"], vec!["2000"], vec!["3000"]]
        );
        let r = run(s, "DELETE FROM t WHERE n > 100 RETURNING name, n");
        assert_eq!(text(&r), vec![vec!["b", "2000"], vec!["c", "3000"]]);
        let QueryResult::Rows { tag, .. } = &r else {
            panic!("{r:?}")
        };
        assert_eq!(tag, "DELETE 2");
        assert_eq!(text(&run(s, "SELECT id FROM t")), vec![vec!["1"]]);
        // In a transaction block, rolled back with it.
        run(s, "BEGIN");
        let r = run(s, "DELETE FROM t WHERE id > 0 RETURNING id");
        assert_eq!(text(&r), vec![vec!["1"]]);
        run(s, "ROLLBACK");
        assert_eq!(text(&run(s, "SELECT id FROM t")), vec![vec!["1"]]);
    });
}

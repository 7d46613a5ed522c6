//! Views and sequences: what they answer, their catalog rows, the
//! SQLSTATEs of their failures, that they survive a restart, and that
//! `nextval` never hands out a value twice under concurrency.

use std::collections::BTreeSet;

use heliosdb_core::Value;
use heliosdb_sql::{QueryResult, Session, SqlShared};

use crate::{engine, err, i, ok, rows, t};

fn code(s: &mut Session<'_>, sql: &str) -> String {
    err(s, sql).sqlstate().to_string()
}

fn tag(s: &mut Session<'_>, sql: &str) -> String {
    ok(s, sql).tag().to_string()
}

fn b(v: i64) -> Value {
    Value::Int8(v)
}

fn one(s: &mut Session<'_>, sql: &str) -> Value {
    let r = rows(s, sql);
    assert_eq!(r.len(), 1, "{sql}: {r:?}");
    r[0][0].clone()
}

fn setup(s: &mut Session<'_>) {
    ok(
        s,
        "CREATE TABLE emp (id INT PRIMARY KEY, name TEXT, dept INT, salary INT, active BOOLEAN)",
    );
    ok(s, "CREATE TABLE dept (id INT PRIMARY KEY, title TEXT)");
    ok(
        s,
        "INSERT INTO emp VALUES (1, 'ann', 1, 100, true), (2, 'bob', 1, 80, false), \
         (3, 'cy', 2, 90, true), (4, 'di', 2, 120, true)",
    );
    ok(s, "INSERT INTO dept VALUES (1, 'eng'), (2, 'ops')");
}

#[test]
fn views_answer_as_their_queries() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    setup(&mut s);
    assert_eq!(
        tag(
            &mut s,
            "CREATE VIEW active_emp AS SELECT id, name, dept, salary FROM emp WHERE active"
        ),
        "CREATE VIEW"
    );
    assert_eq!(
        rows(&mut s, "SELECT id, name FROM active_emp ORDER BY id"),
        vec![
            vec![i(1), t("ann")],
            vec![i(3), t("cy")],
            vec![i(4), t("di")]
        ]
    );
    // WHERE, joins and aggregates over a view.
    assert_eq!(
        rows(
            &mut s,
            "SELECT d.title, count(*), max(a.salary) FROM active_emp a JOIN dept d ON d.id = \
             a.dept GROUP BY d.title ORDER BY d.title"
        ),
        vec![vec![t("eng"), b(1), i(100)], vec![t("ops"), b(2), i(120)]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT name FROM active_emp WHERE salary > 95 ORDER BY name"
        ),
        vec![vec![t("ann")], vec![t("di")]]
    );
    // A view over a view, with its own column names.
    ok(
        &mut s,
        "CREATE VIEW rich (who, pay) AS SELECT name, salary FROM active_emp WHERE salary >= 100",
    );
    assert_eq!(
        rows(&mut s, "SELECT who, pay FROM rich ORDER BY pay"),
        vec![vec![t("ann"), i(100)], vec![t("di"), i(120)]]
    );
    assert_eq!(
        rows(&mut s, "SELECT * FROM rich ORDER BY who"),
        vec![vec![t("ann"), i(100)], vec![t("di"), i(120)]]
    );
    // An aggregating view, read in a subquery and aliased.
    ok(
        &mut s,
        "CREATE VIEW dept_pay AS SELECT dept, sum(salary) AS total FROM emp GROUP BY dept",
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT p.dept FROM dept_pay AS p WHERE p.total = (SELECT max(total) FROM dept_pay)"
        ),
        vec![vec![i(2)]]
    );
    // The view sees later writes to its table.
    ok(&mut s, "UPDATE emp SET active = true WHERE id = 2");
    assert_eq!(one(&mut s, "SELECT count(*) FROM active_emp"), b(4));
    // Views with UNION and WITH.
    ok(
        &mut s,
        "CREATE VIEW names AS SELECT name FROM emp WHERE dept = 1 UNION SELECT title FROM dept",
    );
    assert_eq!(
        rows(&mut s, "SELECT name FROM names ORDER BY name"),
        vec![
            vec![t("ann")],
            vec![t("bob")],
            vec![t("eng")],
            vec![t("ops")]
        ]
    );
    // CREATE OR REPLACE may add columns at the end only.
    ok(
        &mut s,
        "CREATE OR REPLACE VIEW rich (who, pay) AS SELECT name, salary, dept FROM emp WHERE \
         salary >= 120",
    );
    assert_eq!(
        rows(&mut s, "SELECT * FROM rich"),
        vec![vec![t("di"), i(120), i(2)]]
    );
    assert_eq!(
        code(
            &mut s,
            "CREATE OR REPLACE VIEW rich AS SELECT name FROM emp"
        ),
        "42P16"
    );
    // A common table expression of the same name hides the view.
    assert_eq!(
        rows(
            &mut s,
            "WITH rich AS (SELECT 'cte' AS x) SELECT x FROM rich"
        ),
        vec![vec![t("cte")]]
    );
}

#[test]
fn view_ddl_fails_as_postgresql_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    setup(&mut s);
    ok(&mut s, "CREATE VIEW v AS SELECT id, name FROM emp");
    ok(&mut s, "CREATE VIEW w AS SELECT name FROM v");
    // Names are shared with tables.
    assert_eq!(code(&mut s, "CREATE VIEW emp AS SELECT 1"), "42P07");
    assert_eq!(code(&mut s, "CREATE VIEW v AS SELECT 1"), "42P07");
    assert_eq!(code(&mut s, "CREATE TABLE v (x INT)"), "42P07");
    ok(&mut s, "CREATE TABLE IF NOT EXISTS v (x INT)");
    // The query must be valid.
    assert_eq!(
        code(&mut s, "CREATE VIEW bad AS SELECT * FROM nope"),
        "42P01"
    );
    assert_eq!(
        code(&mut s, "CREATE VIEW bad AS SELECT nope FROM emp"),
        "42703"
    );
    assert_eq!(
        code(&mut s, "CREATE VIEW bad AS SELECT id, id FROM emp"),
        "42701"
    );
    assert_eq!(
        code(
            &mut s,
            "CREATE VIEW bad (a, b, c) AS SELECT id, name FROM emp"
        ),
        "42601"
    );
    // A view may not come to read itself.
    assert_eq!(
        code(&mut s, "CREATE OR REPLACE VIEW v AS SELECT id, name FROM w"),
        "42P17"
    );
    // INSERT goes through a simple view into its table; other writes are
    // refused.
    ok(&mut s, "INSERT INTO v VALUES (9, 'x')");
    ok(&mut s, "INSERT INTO v (name, id) VALUES ('y', 10)");
    assert_eq!(
        rows(
            &mut s,
            "SELECT id, name, dept FROM emp WHERE id >= 9 ORDER BY id"
        ),
        vec![
            vec![i(9), t("x"), Value::Null],
            vec![i(10), t("y"), Value::Null]
        ]
    );
    assert_eq!(code(&mut s, "INSERT INTO v (nope) VALUES (1)"), "42703");
    assert_eq!(code(&mut s, "INSERT INTO v VALUES (9, 'dup')"), "23505");
    ok(
        &mut s,
        "CREATE VIEW per_dept AS SELECT dept, count(*) AS n FROM emp GROUP BY dept",
    );
    for sql in [
        "INSERT INTO per_dept VALUES (3, 1)",
        "UPDATE per_dept SET n = 0",
        "DELETE FROM per_dept",
        // A view over a view (PostgreSQL would insert through both).
        "INSERT INTO w VALUES ('z')",
    ] {
        assert_eq!(code(&mut s, sql), "55000", "{sql}");
    }
    for sql in [
        "UPDATE v SET name = 'x'",
        "DELETE FROM v",
        "DELETE FROM v WHERE id = 1",
    ] {
        assert_eq!(code(&mut s, sql), "0A000", "{sql}");
    }
    ok(&mut s, "DROP VIEW per_dept");
    assert_eq!(one(&mut s, "SELECT count(*) FROM emp"), Value::Int8(6));
    // Dependencies.
    assert_eq!(code(&mut s, "DROP TABLE emp"), "2BP01");
    assert_eq!(code(&mut s, "DROP VIEW v"), "2BP01");
    assert_eq!(code(&mut s, "ALTER TABLE emp DROP COLUMN salary"), "2BP01");
    assert_eq!(
        code(&mut s, "ALTER TABLE emp ADD COLUMN extra INT"),
        "0A000"
    );
    assert_eq!(code(&mut s, "ALTER TABLE emp RENAME TO staff"), "0A000");
    assert_eq!(code(&mut s, "DROP VIEW emp"), "42809");
    assert_eq!(code(&mut s, "DROP TABLE v"), "42809");
    assert_eq!(code(&mut s, "DROP VIEW nope"), "42P01");
    assert_eq!(tag(&mut s, "DROP VIEW IF EXISTS nope"), "DROP VIEW");
    // Dropping a view with what reads it, in one statement, is fine.
    ok(&mut s, "DROP VIEW w, v");
    assert_eq!(code(&mut s, "SELECT * FROM v"), "42P01");
    // CASCADE drops the views that read a table.
    ok(&mut s, "CREATE VIEW v AS SELECT id FROM emp");
    ok(&mut s, "CREATE VIEW w AS SELECT id FROM v");
    ok(&mut s, "DROP TABLE emp CASCADE");
    assert_eq!(code(&mut s, "SELECT * FROM w"), "42P01");
    ok(&mut s, "CREATE TABLE v (x INT)");
    assert_eq!(
        code(&mut s, "CREATE MATERIALIZED VIEW m AS SELECT 1"),
        "0A000"
    );
}

#[test]
fn views_in_the_catalogs() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    setup(&mut s);
    ok(
        &mut s,
        "CREATE VIEW active_emp AS SELECT id, name FROM emp WHERE active",
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT relname, relkind FROM pg_catalog.pg_class WHERE relname IN ('emp', \
             'active_emp') ORDER BY relname"
        ),
        vec![vec![t("active_emp"), t("v")], vec![t("emp"), t("r")]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = \
             'public' ORDER BY table_name"
        ),
        vec![
            vec![t("active_emp"), t("VIEW")],
            vec![t("dept"), t("BASE TABLE")],
            vec![t("emp"), t("BASE TABLE")]
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'public'"
        ),
        vec![vec![t("active_emp")]]
    );
    assert_eq!(
        rows(&mut s, "SELECT viewname FROM pg_catalog.pg_views"),
        vec![vec![t("active_emp")]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = \
             'active_emp' ORDER BY ordinal_position"
        ),
        vec![vec![t("id"), t("integer")], vec![t("name"), t("text")]]
    );
    // psql's \dv and \d.
    let dv = "SELECT n.nspname as \"Schema\",\n  c.relname as \"Name\",\n  CASE c.relkind WHEN \
              'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' \
              THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN \
              'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned \
              index' END as \"Type\",\n  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"\n\
              FROM pg_catalog.pg_class c\n     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = \
              c.relnamespace\nWHERE c.relkind IN ('v','')\n      AND n.nspname <> \
              'pg_catalog'\n      AND n.nspname !~ '^pg_toast'\n      AND n.nspname <> \
              'information_schema'\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY \
              1,2;";
    let r = rows(&mut s, dv);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0][1], t("active_emp"));
    assert_eq!(r[0][2], t("view"));
    let dt = dv.replace("IN ('v','')", "IN ('r','p','')");
    let r = rows(&mut s, &dt);
    assert_eq!(r.len(), 2, "{r:?}");
    let d = "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     LEFT \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relname \
             OPERATOR(pg_catalog.~) '^(active_emp)$' COLLATE pg_catalog.default\n  AND \
             pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 2, 3;";
    let r = rows(&mut s, d);
    assert_eq!(r.len(), 1, "{r:?}");
    let Value::String(oid) = r[0][0].clone() else {
        panic!("{r:?}")
    };
    let cols = format!(
        "SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod),\n  (SELECT \
         pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n   FROM pg_catalog.pg_attrdef d\n   \
         WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n  a.attnotnull,\n  \
         (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n   WHERE \
         c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> \
         t.typcollation) AS attcollation,\n  a.attidentity,\n  a.attgenerated\nFROM \
         pg_catalog.pg_attribute a\nWHERE a.attrelid = '{oid}' AND a.attnum > 0 AND NOT \
         a.attisdropped\nORDER BY a.attnum;"
    );
    let r = rows(&mut s, &cols);
    assert_eq!(
        r.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        vec![t("id"), t("name")]
    );
    assert_eq!(r[0][1], t("integer"));
}

#[test]
fn sequences_number_as_postgresql_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    assert_eq!(
        tag(&mut s, "CREATE SEQUENCE order_seq START 100"),
        "CREATE SEQUENCE"
    );
    assert_eq!(code(&mut s, "SELECT currval('order_seq')"), "55000");
    let r = ok(&mut s, "SELECT nextval('order_seq')");
    let QueryResult::Rows { columns, .. } = &r else {
        panic!("{r:?}")
    };
    assert_eq!(columns[0].name, "nextval");
    assert_eq!(r.rows(), &[vec![b(100)]]);
    assert_eq!(one(&mut s, "SELECT nextval('order_seq')"), b(101));
    assert_eq!(one(&mut s, "SELECT currval('order_seq')"), b(101));
    assert_eq!(one(&mut s, "SELECT setval('order_seq', 500)"), b(500));
    assert_eq!(one(&mut s, "SELECT nextval('order_seq'::regclass)"), b(501));
    assert_eq!(
        one(&mut s, "SELECT setval('public.order_seq', 7, false)"),
        b(7)
    );
    assert_eq!(one(&mut s, "SELECT nextval('order_seq')"), b(7));
    // Several calls of one statement run left to right.
    ok(&mut s, "CREATE SEQUENCE s INCREMENT BY 10");
    assert_eq!(
        rows(&mut s, "SELECT nextval('s'), nextval('s'), currval('s')"),
        vec![vec![b(1), b(11), b(11)]]
    );
    // Bounds, cycling, descending sequences.
    ok(
        &mut s,
        "CREATE SEQUENCE small MINVALUE 1 MAXVALUE 3 START WITH 2 CYCLE",
    );
    let got: Vec<Value> = (0..4)
        .map(|_| one(&mut s, "SELECT nextval('small')"))
        .collect();
    assert_eq!(got, vec![b(2), b(3), b(1), b(2)]);
    ok(&mut s, "CREATE SEQUENCE capped MAXVALUE 2");
    ok(&mut s, "SELECT nextval('capped')");
    ok(&mut s, "SELECT nextval('capped')");
    assert_eq!(code(&mut s, "SELECT nextval('capped')"), "2200H");
    ok(&mut s, "CREATE SEQUENCE down INCREMENT BY -1");
    assert_eq!(one(&mut s, "SELECT nextval('down')"), b(-1));
    assert_eq!(one(&mut s, "SELECT nextval('down')"), b(-2));
    assert_eq!(code(&mut s, "SELECT setval('capped', 0)"), "22003");
    // Definitions that cannot work.
    assert_eq!(code(&mut s, "CREATE SEQUENCE s"), "42P07");
    ok(&mut s, "CREATE SEQUENCE IF NOT EXISTS s");
    assert_eq!(code(&mut s, "CREATE SEQUENCE z INCREMENT BY 0"), "22023");
    assert_eq!(
        code(&mut s, "CREATE SEQUENCE z MINVALUE 5 MAXVALUE 1"),
        "22023"
    );
    assert_eq!(code(&mut s, "CREATE SEQUENCE z START 0"), "22023");
    assert_eq!(code(&mut s, "SELECT nextval('nope')"), "42P01");
    ok(&mut s, "CREATE TABLE plain (x INT)");
    assert_eq!(code(&mut s, "SELECT nextval('plain')"), "42809");
    assert_eq!(code(&mut s, "CREATE SEQUENCE plain"), "42P07");
    // nextval per row is refused rather than answered once for all rows.
    ok(&mut s, "INSERT INTO plain VALUES (1), (2)");
    assert_eq!(code(&mut s, "SELECT nextval('s') FROM plain"), "0A000");
    assert_eq!(code(&mut s, "UPDATE plain SET x = nextval('s')"), "0A000");
    // ROLLBACK does not give values back.
    ok(&mut s, "BEGIN");
    assert_eq!(one(&mut s, "SELECT nextval('s')"), b(21));
    ok(&mut s, "ROLLBACK");
    assert_eq!(one(&mut s, "SELECT nextval('s')"), b(31));
    // DROP SEQUENCE.
    assert_eq!(tag(&mut s, "DROP SEQUENCE order_seq"), "DROP SEQUENCE");
    assert_eq!(code(&mut s, "SELECT nextval('order_seq')"), "42P01");
    assert_eq!(code(&mut s, "DROP SEQUENCE order_seq"), "42P01");
    ok(&mut s, "DROP SEQUENCE IF EXISTS order_seq");
    assert_eq!(code(&mut s, "DROP SEQUENCE plain"), "42809");
    // A sequence of the same name starts afresh.
    ok(&mut s, "CREATE SEQUENCE order_seq");
    assert_eq!(one(&mut s, "SELECT nextval('order_seq')"), b(1));
}

#[test]
fn columns_default_to_nextval_and_serial_sequences_answer_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    assert_eq!(
        code(
            &mut s,
            "CREATE TABLE bad (id BIGINT DEFAULT nextval('missing'))"
        ),
        "42P01"
    );
    ok(&mut s, "CREATE SEQUENCE ids START 10");
    ok(
        &mut s,
        "CREATE TABLE item (id BIGINT PRIMARY KEY DEFAULT nextval('ids'), name TEXT)",
    );
    ok(&mut s, "INSERT INTO item (name) VALUES ('a'), ('b')");
    ok(&mut s, "INSERT INTO item VALUES (DEFAULT, 'c')");
    ok(&mut s, "INSERT INTO item VALUES (100, 'd')");
    let r = ok(&mut s, "INSERT INTO item (name) VALUES ('e') RETURNING id");
    assert_eq!(r.rows(), &[vec![b(13)]]);
    assert_eq!(
        rows(&mut s, "SELECT id, name FROM item ORDER BY id"),
        vec![
            vec![b(10), t("a")],
            vec![b(11), t("b")],
            vec![b(12), t("c")],
            vec![b(13), t("e")],
            vec![b(100), t("d")]
        ]
    );
    assert_eq!(one(&mut s, "SELECT currval('ids')"), b(13));
    assert_eq!(
        one(
            &mut s,
            "SELECT column_default FROM information_schema.columns WHERE table_name = 'item' \
             AND column_name = 'id'"
        ),
        t("nextval('ids'::regclass)")
    );
    assert_eq!(code(&mut s, "DROP SEQUENCE ids"), "2BP01");
    // SERIAL columns' sequences answer to PostgreSQL's names.
    ok(&mut s, "CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT)");
    ok(&mut s, "INSERT INTO t (v) VALUES ('x')");
    assert_eq!(one(&mut s, "SELECT nextval('t_id_seq')"), b(2));
    ok(&mut s, "SELECT setval('t_id_seq', 50)");
    ok(&mut s, "INSERT INTO t (v) VALUES ('y')");
    assert_eq!(one(&mut s, "SELECT max(id) FROM t"), i(51));
    assert_eq!(code(&mut s, "CREATE SEQUENCE t_id_seq"), "42P07");
    // Both kinds in the catalogs.
    assert_eq!(
        rows(
            &mut s,
            "SELECT relname FROM pg_catalog.pg_class WHERE relkind = 'S' ORDER BY relname"
        ),
        vec![vec![t("ids")], vec![t("t_id_seq")]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT sequence_name, data_type, start_value, increment FROM \
             information_schema.sequences ORDER BY sequence_name"
        ),
        vec![
            vec![t("ids"), t("bigint"), t("10"), t("1")],
            vec![t("t_id_seq"), t("integer"), t("1"), t("1")]
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT sequencename, last_value FROM pg_catalog.pg_sequences ORDER BY 1"
        ),
        vec![vec![t("ids"), b(13)], vec![t("t_id_seq"), b(51)]]
    );
}

#[test]
fn views_and_sequences_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = engine(dir.path());
        let shared = SqlShared::new();
        let mut s = Session::new(&db, &shared);
        setup(&mut s);
        ok(
            &mut s,
            "CREATE VIEW v AS SELECT name FROM emp WHERE dept = 2",
        );
        ok(&mut s, "CREATE SEQUENCE q START 5");
        ok(&mut s, "SELECT nextval('q')");
        ok(&mut s, "SELECT nextval('q')");
    }
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    assert_eq!(
        rows(&mut s, "SELECT name FROM v ORDER BY name"),
        vec![vec![t("cy")], vec![t("di")]]
    );
    // A new session: no currval yet, and the sequence goes on.
    assert_eq!(code(&mut s, "SELECT currval('q')"), "55000");
    assert_eq!(one(&mut s, "SELECT nextval('q')"), b(7));
    assert_eq!(code(&mut s, "DROP TABLE emp"), "2BP01");
}

#[test]
fn nextval_never_hands_out_a_value_twice() {
    const THREADS: usize = 8;
    const CALLS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    ok(&mut Session::new(&db, &shared), "CREATE SEQUENCE c");
    let all: Vec<i64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|n| {
                let (db, shared) = (&db, &shared);
                scope.spawn(move || {
                    let mut s = Session::new(db, shared);
                    let mut got = Vec::new();
                    for k in 0..CALLS {
                        // Half the calls inside transactions, some rolled back.
                        let in_txn = (n + k) % 2 == 0;
                        if in_txn {
                            ok(&mut s, "BEGIN");
                        }
                        match one(&mut s, "SELECT nextval('c')") {
                            Value::Int8(v) => got.push(v),
                            other => panic!("{other:?}"),
                        }
                        if in_txn {
                            ok(&mut s, if k % 3 == 0 { "ROLLBACK" } else { "COMMIT" });
                        }
                    }
                    got
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), THREADS * CALLS);
    assert_eq!(
        distinct.len(),
        THREADS * CALLS,
        "a value was handed out twice"
    );
    let n = i64::try_from(THREADS * CALLS).unwrap();
    assert_eq!(
        distinct.iter().copied().collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
    let mut s = Session::new(&db, &shared);
    assert_eq!(one(&mut s, "SELECT nextval('c')"), b(n + 1));
}

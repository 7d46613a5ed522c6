//! Answers that must equal PostgreSQL's text exactly (or be refused with
//! 0A000): NUMERIC constants with PostgreSQL's result scales, decimal
//! literals next to NUMERIC columns, `avg()` in a subquery, CHAR(n)
//! blank-padding, JSONB normalisation, `column_default`, and EXPLAIN.
//! Expected texts are PostgreSQL 15's answers.

use std::sync::Arc;

use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::FakeSource;
use heliosdb_sql::{text_of, QueryResult, SqlExt};

fn engine(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.encryption.enabled = true;
    StorageEngine::open_with_source(dir.join("db"), &config, Arc::new(FakeSource::new(11))).unwrap()
}

fn rows(db: &StorageEngine, sql: &str) -> Vec<Vec<String>> {
    match db.execute_sql(sql) {
        Ok(QueryResult::Rows { rows, .. }) => rows
            .iter()
            .map(|r| r.iter().map(text_of).collect())
            .collect(),
        other => panic!("rows expected from {sql}, got {other:?}"),
    }
}

fn one(db: &StorageEngine, sql: &str) -> Vec<String> {
    let mut r = rows(db, sql);
    assert_eq!(r.len(), 1, "{sql}");
    r.remove(0)
}

fn code(db: &StorageEngine, sql: &str) -> String {
    db.execute_sql(sql).unwrap_err().sqlstate().to_string()
}

#[test]
fn numeric_constants_take_postgres_scales() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    assert_eq!(
        one(&db, "SELECT 10::numeric / 4, 10 / 4::numeric"),
        ["2.5000000000000000", "2.5000000000000000"]
    );
    assert_eq!(
        one(&db, "SELECT 0.1 + 0.2, 1.10 * 3, 100.00 / 3"),
        ["0.3", "3.30", "33.3333333333333333"]
    );
    assert_eq!(
        one(&db, "SELECT 7 / 2, -7 / 2, 7.0 / 2, 7 / 2.0"),
        ["3", "-3", "3.5000000000000000", "3.5000000000000000"]
    );
    assert_eq!(
        one(&db, "SELECT sqrt(16.0), sqrt(2::numeric)"),
        ["4.000000000000000", "1.414213562373095"]
    );
    assert_eq!(
        one(&db, "SELECT 12.345::numeric(5,2), 12.5::numeric(3,0)"),
        ["12.35", "13"]
    );
    // Floats stay floats.
    assert_eq!(
        one(&db, "SELECT 0.1::float8 + 0.2::float8"),
        ["0.30000000000000004"]
    );
    assert_eq!(code(&db, "SELECT 1.0 / 0"), "22012");
    assert_eq!(code(&db, "SELECT sqrt(-1.0)"), "2201F");
    assert_eq!(code(&db, "SELECT 1234.5::numeric(4,1)"), "22003");
}

#[test]
fn decimal_literals_meet_numeric_columns_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE m (id INT, price NUMERIC(8,2), qty NUMERIC, r DOUBLE PRECISION)")
        .unwrap();
    db.execute_sql("INSERT INTO m VALUES (1, 19.99, 3, 0.1), (2, 5, 0.5, 1.5)")
        .unwrap();
    assert_eq!(
        one(&db, "SELECT price + 0.001 FROM m WHERE id = 2"),
        ["5.001"]
    );
    assert_eq!(one(&db, "SELECT id FROM m WHERE price = 19.99"), ["1"]);
    assert_eq!(one(&db, "SELECT qty * 1.5 FROM m WHERE id = 1"), ["4.5"]);
    // A float column keeps float arithmetic and comparison.
    assert_eq!(one(&db, "SELECT id FROM m WHERE r = 0.1"), ["1"]);
    assert_eq!(one(&db, "SELECT r + 0.5 FROM m WHERE id = 1"), ["0.6"]);
    // A quotient has PostgreSQL's scale, which depends on the values (16
    // significant digits here, the dividend's 2 places below 16).
    assert_eq!(
        one(&db, "SELECT price / 3 FROM m WHERE id = 1"),
        ["6.6633333333333333"]
    );
    assert_eq!(
        one(&db, "SELECT price / qty FROM m WHERE id = 2"),
        ["10.0000000000000000"]
    );
    assert_eq!(code(&db, "SELECT price / 0 FROM m"), "22012");
    assert_eq!(code(&db, "SELECT sqrt(qty) FROM m"), "0A000");
}

#[test]
fn avg_in_a_subquery_is_an_exact_numeric() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE t (id INT, n INT)").unwrap();
    db.execute_sql("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")
        .unwrap();
    assert_eq!(
        rows(
            &db,
            "SELECT id, n - (SELECT avg(n) FROM t) AS diff FROM t ORDER BY id"
        ),
        [
            ["1", "-10.0000000000000000"],
            ["2", "0.0000000000000000"],
            ["3", "10.0000000000000000"],
        ]
    );
    assert_eq!(
        rows(&db, "SELECT id FROM t WHERE n > (SELECT avg(n) FROM t)"),
        [["3"]]
    );
}

#[test]
fn char_columns_are_blank_padded() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE s (v VARCHAR(10), c CHAR(3), t TEXT)")
        .unwrap();
    db.execute_sql("INSERT INTO s VALUES ('ab', 'x', 'long text here')")
        .unwrap();
    assert_eq!(
        one(&db, "SELECT v, c, t, length(c) FROM s"),
        ["ab", "x  ", "long text here", "1"]
    );
    assert_eq!(one(&db, "SELECT c = 'x', c || 'y' FROM s"), ["t", "xy"]);
    assert_eq!(one(&db, "SELECT v FROM s WHERE c = 'x'"), ["ab"]);
    // Blanks past the limit are dropped, other characters refused.
    db.execute_sql("INSERT INTO s (c) VALUES ('abc   ')")
        .unwrap();
    assert_eq!(code(&db, "INSERT INTO s (c) VALUES ('abcd')"), "22001");
    db.execute_sql("UPDATE s SET c = 'z' WHERE c = 'x'")
        .unwrap();
    assert_eq!(rows(&db, "SELECT c FROM s ORDER BY c"), [["abc"], ["z  "]]);
}

#[test]
fn jsonb_is_normalised_and_json_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE j (id INT, doc JSONB, raw JSON)")
        .unwrap();
    db.execute_sql(
        r#"INSERT INTO j VALUES (1, '{"name": "ann", "age": 30, "tags": ["a", "b"]}', '{"b":1,  "a":2}')"#,
    )
    .unwrap();
    assert_eq!(
        one(&db, "SELECT doc, raw FROM j"),
        [
            r#"{"age": 30, "name": "ann", "tags": ["a", "b"]}"#,
            r#"{"b":1,  "a":2}"#
        ]
    );
    assert_eq!(
        one(
            &db,
            r#"SELECT '{"b": 1, "a": 2}'::jsonb, '{"b": 1, "a": 2}'::json"#
        ),
        [r#"{"a": 2, "b": 1}"#, r#"{"b": 1, "a": 2}"#]
    );
    assert_eq!(code(&db, "SELECT '{bad json'::jsonb"), "22P02");
    assert_eq!(code(&db, "SELECT '{bad json'::json"), "22P02");
    assert_eq!(
        code(&db, "INSERT INTO j (id, doc) VALUES (2, '[1,]')"),
        "22P02"
    );
    assert_eq!(
        code(&db, "INSERT INTO j (id, raw) VALUES (2, 'nope')"),
        "22P02"
    );
}

#[test]
fn column_default_is_postgres_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql(
        "CREATE TABLE dd (a VARCHAR(20) DEFAULT 'none', b TEXT DEFAULT 'it''s', c INT DEFAULT 0, \
         d INT DEFAULT -1, e NUMERIC DEFAULT 1.50, g BOOLEAN DEFAULT true, k CHAR(3) DEFAULT 'x', \
         m BIGINT DEFAULT 5, z INT)",
    )
    .unwrap();
    let got = rows(
        &db,
        "SELECT column_name, column_default FROM information_schema.columns \
         WHERE table_name = 'dd' ORDER BY ordinal_position",
    );
    let want = [
        ["a", "'none'::character varying"],
        ["b", "'it''s'::text"],
        ["c", "0"],
        ["d", "'-1'::integer"],
        ["e", "1.50"],
        ["g", "true"],
        ["k", "'x'::bpchar"],
        ["m", "5"],
        ["z", ""],
    ];
    assert_eq!(got, want);
}

#[test]
fn right_join_reads_as_the_swapped_left_join() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT)")
        .unwrap();
    db.execute_sql("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total INT)")
        .unwrap();
    db.execute_sql("INSERT INTO customers VALUES (1, 'ann'), (2, 'bob'), (3, 'cid')")
        .unwrap();
    db.execute_sql("INSERT INTO orders VALUES (10, 1, 50), (12, 2, 10), (13, 9, 99)")
        .unwrap();
    assert_eq!(
        rows(
            &db,
            "SELECT c.name, o.id FROM customers c RIGHT JOIN orders o \
             ON o.customer_id = c.id ORDER BY o.id"
        ),
        [["ann", "10"], ["bob", "12"], ["", "13"]]
    );
    // `*` would list the columns in the other order: still refused.
    assert_eq!(
        code(
            &db,
            "SELECT * FROM customers c RIGHT JOIN orders o ON o.customer_id = c.id"
        ),
        "0A000"
    );
}

fn labelled(db: &StorageEngine, sql: &str) -> (Vec<String>, Vec<Vec<String>>) {
    match db.execute_sql(sql) {
        Ok(QueryResult::Rows { columns, rows, .. }) => (
            columns.iter().map(|c| c.name.clone()).collect(),
            rows.iter()
                .map(|r| r.iter().map(text_of).collect())
                .collect(),
        ),
        other => panic!("rows expected from {sql}, got {other:?}"),
    }
}

#[test]
fn join_using_and_natural_merge_their_columns() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    for sql in [
        "CREATE TABLE a (id INT, x TEXT)",
        "CREATE TABLE b (id INT, y TEXT)",
        "CREATE TABLE c (id INT, x TEXT, z INT)",
        "INSERT INTO a VALUES (1, 'a1'), (2, 'a2')",
        "INSERT INTO b VALUES (2, 'b2'), (3, 'b3')",
        "INSERT INTO c VALUES (2, 'a2', 7), (3, 'zz', 8)",
    ] {
        db.execute_sql(sql).unwrap();
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // PostgreSQL 15's answers: the merged column once, first; the left
    // side's value for inner and left joins, the right side's for right.
    for (sql, cols, want) in [
        (
            "SELECT * FROM a JOIN b USING (id)",
            s(&["id", "x", "y"]),
            vec![s(&["2", "a2", "b2"])],
        ),
        (
            "SELECT * FROM a LEFT JOIN b USING (id) ORDER BY id",
            s(&["id", "x", "y"]),
            vec![s(&["1", "a1", ""]), s(&["2", "a2", "b2"])],
        ),
        (
            "SELECT * FROM a RIGHT JOIN b USING (id) ORDER BY id",
            s(&["id", "x", "y"]),
            vec![s(&["2", "a2", "b2"]), s(&["3", "", "b3"])],
        ),
        (
            "SELECT * FROM a NATURAL JOIN c",
            s(&["id", "x", "z"]),
            vec![s(&["2", "a2", "7"])],
        ),
        (
            "SELECT * FROM a NATURAL JOIN b NATURAL JOIN c",
            s(&["id", "x", "y", "z"]),
            vec![s(&["2", "a2", "b2", "7"])],
        ),
        (
            "SELECT * FROM a JOIN b USING (id) JOIN c USING (id)",
            s(&["id", "x", "y", "x", "z"]),
            vec![s(&["2", "a2", "b2", "a2", "7"])],
        ),
        (
            "SELECT id, count(*) FROM a JOIN b USING (id) WHERE id > 1 GROUP BY id",
            s(&["id", "count"]),
            vec![s(&["2", "1"])],
        ),
        (
            "SELECT a.*, b.* FROM a JOIN b USING (id)",
            s(&["id", "x", "id", "y"]),
            vec![s(&["2", "a2", "2", "b2"])],
        ),
        (
            "SELECT * FROM (SELECT id, x AS q FROM a) s JOIN b USING (id)",
            s(&["id", "q", "y"]),
            vec![s(&["2", "a2", "b2"])],
        ),
        // In the subquery, `id` is c's own column (the nearer scope).
        (
            "SELECT id FROM a JOIN b USING (id) WHERE EXISTS (SELECT 1 FROM c WHERE c.id = id)",
            s(&["id"]),
            vec![s(&["2"])],
        ),
    ] {
        assert_eq!(labelled(&db, sql), (cols, want), "{sql}");
    }
    for (sql, state) in [
        ("SELECT * FROM a JOIN b USING (nope)", "42703"),
        ("SELECT * FROM a JOIN c USING (id, id)", "42701"),
        (
            "SELECT x AS id, id FROM a JOIN b USING (id) ORDER BY id",
            "42702",
        ),
        (
            "SELECT * FROM a JOIN b USING (id) JOIN c ON true WHERE id = 2",
            "42702",
        ),
        ("SELECT * FROM a FULL JOIN b USING (id)", "0A000"),
        (
            "SELECT * FROM a JOIN generate_series(1, 3) g USING (id)",
            "0A000",
        ),
    ] {
        assert_eq!(code(&db, sql), state, "{sql}");
    }
}

#[test]
fn distinct_on_keeps_the_first_row_of_each_group() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE t (a INT, b TEXT, c INT)")
        .unwrap();
    db.execute_sql(
        "INSERT INTO t VALUES (1, 'x', 5), (1, 'a', 6), (2, 'y', 7), (2, 'b', 8), \
         (NULL, 'n', 9), (NULL, 'm', 1)",
    )
    .unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // PostgreSQL 15's answers.
    for (sql, cols, want) in [
        (
            "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC",
            s(&["a", "b"]),
            vec![s(&["1", "x"]), s(&["2", "y"]), s(&["", "n"])],
        ),
        (
            "SELECT DISTINCT ON (a) b, c FROM t ORDER BY a NULLS FIRST, c",
            s(&["b", "c"]),
            vec![s(&["m", "1"]), s(&["x", "5"]), s(&["y", "7"])],
        ),
        (
            "SELECT DISTINCT ON (1) a AS k, b FROM t ORDER BY 1, 2 LIMIT 2",
            s(&["k", "b"]),
            vec![s(&["1", "a"]), s(&["2", "b"])],
        ),
        (
            "SELECT DISTINCT ON (k) a AS k, b FROM t WHERE c > 1 ORDER BY k DESC, b OFFSET 1",
            s(&["k", "b"]),
            vec![s(&["2", "b"]), s(&["1", "a"])],
        ),
        (
            "SELECT DISTINCT ON (a % 2) a % 2 AS par, upper(b) FROM t WHERE a IS NOT NULL \
             ORDER BY a % 2, b",
            s(&["par", "upper"]),
            vec![s(&["0", "B"]), s(&["1", "A"])],
        ),
        (
            "SELECT count(*) FROM (SELECT DISTINCT ON (a) a FROM t) s",
            s(&["count"]),
            vec![s(&["3"])],
        ),
    ] {
        assert_eq!(labelled(&db, sql), (cols, want), "{sql}");
    }
    for (sql, state) in [
        ("SELECT DISTINCT ON (a) a, b FROM t ORDER BY b", "42P10"),
        ("SELECT DISTINCT ON (3) a, b FROM t", "42P10"),
        ("SELECT DISTINCT ON (a) * FROM t ORDER BY a", "0A000"),
        (
            "SELECT DISTINCT ON (a) a, count(*) FROM t GROUP BY a",
            "0A000",
        ),
    ] {
        assert_eq!(code(&db, sql), state, "{sql}");
    }
}

#[test]
fn date_columns_minus_dates_are_days_and_plus_integers_are_dates() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE d2 (id INT, a DATE, b DATE, n INT, m BIGINT, s SMALLINT)")
        .unwrap();
    db.execute_sql(
        "INSERT INTO d2 VALUES (1, '2024-01-15', '2024-03-01', 3, 4, 5), \
         (2, '2024-02-28', NULL, -2, NULL, 1)",
    )
    .unwrap();
    // PostgreSQL 15's answers: date - date is an integer number of days
    // (GlueSQL's own answer was an interval, '46 days'), NULL with a NULL.
    assert_eq!(
        labelled(
            &db,
            "SELECT b - a, a - b, a - date '2024-01-01', date '2024-12-25' - a, a - a \
             FROM d2 ORDER BY id"
        )
        .1,
        [["46", "-46", "14", "345", "0"], ["", "", "58", "301", "0"]]
    );
    match db.execute_sql("SELECT b - a FROM d2 WHERE id = 1").unwrap() {
        QueryResult::Rows { columns, .. } => {
            assert_eq!(columns[0].data_type, heliosdb_core::DataType::Int4)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        labelled(
            &db,
            "SELECT a + 30, a - 3, a + n, a - n, a + s, a - (n * 2) FROM d2 ORDER BY id"
        )
        .1,
        [
            [
                "2024-02-14",
                "2024-01-12",
                "2024-01-18",
                "2024-01-12",
                "2024-01-20",
                "2024-01-09"
            ],
            [
                "2024-03-29",
                "2024-02-25",
                "2024-02-26",
                "2024-03-01",
                "2024-02-29",
                "2024-03-03"
            ]
        ]
    );
    assert_eq!(
        labelled(
            &db,
            "SELECT id FROM d2 WHERE a + n > date '2024-01-17' AND b - a > 40"
        )
        .1,
        [["1"]]
    );
    // PostgreSQL has no date + bigint: an error here too, not an answer.
    assert!(db.execute_sql("SELECT b + m FROM d2").is_err());
}

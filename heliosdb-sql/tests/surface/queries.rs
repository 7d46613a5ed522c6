//! Queries as PostgreSQL plans and evaluates them: plan-time errors on
//! empty tables (grouping, unknown and ambiguous columns, bad literals,
//! subquery width), their SQLSTATEs, and the functions, aggregates and
//! predicates rewritten for GlueSQL — NULL cases included.

use heliosdb_core::{Config, StorageEngine, Value};
use heliosdb_sql::{QueryResult, Session, SqlShared};

use crate::{ok as run, text_rows as rows};

fn db() -> StorageEngine {
    StorageEngine::open_in_memory(&Config::in_memory()).unwrap()
}

fn one(s: &mut Session<'_>, sql: &str) -> Vec<String> {
    let mut r = rows(s, sql);
    assert_eq!(r.len(), 1, "{sql}: {r:?}");
    r.remove(0)
}

fn fails(s: &mut Session<'_>, sql: &str, code: &str, message: &str) {
    match s.execute(sql, &[]) {
        Ok(r) => panic!("{sql}: expected {code}, got {r:?}"),
        Err(e) => {
            assert_eq!(e.sqlstate(), code, "{sql}: {e}");
            assert!(e.to_string().contains(message), "{sql}: {e}");
        }
    }
}

fn setup(s: &mut Session<'_>) {
    run(
        s,
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, b TEXT, n BIGINT)",
    );
    run(s, "CREATE TABLE u (id INT PRIMARY KEY, t_id INT, x TEXT)");
}

#[test]
fn plan_time_errors_on_empty_tables() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    fails(
        &mut s,
        "SELECT a, b FROM t GROUP BY a",
        "42803",
        "column \"t.b\" must appear in the GROUP BY clause or be used in an aggregate function",
    );
    fails(&mut s, "SELECT a, count(*) FROM t", "42803", "\"t.a\"");
    fails(
        &mut s,
        "SELECT x.a, sum(x.n) FROM t x GROUP BY x.b",
        "42803",
        "\"x.a\"",
    );
    fails(
        &mut s,
        "SELECT a FROM t WHERE count(*) > 1",
        "42803",
        "aggregate functions are not allowed in WHERE",
    );
    fails(
        &mut s,
        "SELECT nosuchcol FROM t",
        "42703",
        "column \"nosuchcol\" does not exist",
    );
    fails(
        &mut s,
        "SELECT t.nosuch FROM t",
        "42703",
        "column t.nosuch does not exist",
    );
    fails(
        &mut s,
        "SELECT id FROM t WHERE nosuch = 1",
        "42703",
        "nosuch",
    );
    fails(
        &mut s,
        "SELECT id FROM t WHERE id IN (SELECT t_id FROM u WHERE nosuch = 1)",
        "42703",
        "nosuch",
    );
    fails(
        &mut s,
        "SELECT a FROM t WHERE a = 'abc'",
        "22P02",
        "invalid input syntax for type integer: \"abc\"",
    );
    fails(
        &mut s,
        "SELECT a FROM t WHERE 'x1' < n",
        "22P02",
        "type bigint",
    );
    fails(
        &mut s,
        "SELECT * FROM t WHERE a IN (SELECT a, b FROM t)",
        "42601",
        "subquery has too many columns",
    );
    fails(
        &mut s,
        "SELECT id FROM t JOIN u ON t.id = u.t_id",
        "42702",
        "column reference \"id\" is ambiguous",
    );
    // The same on a table with rows.
    run(&mut s, "INSERT INTO t VALUES (1, 1, 'p', 10)");
    fails(&mut s, "SELECT a, b FROM t GROUP BY a", "42803", "\"t.b\"");
}

#[test]
fn valid_queries_are_not_refused() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    run(
        &mut s,
        "INSERT INTO t VALUES (1, 1, 'p', 10), (2, 1, 'q', 20), (3, 2, NULL, NULL)",
    );
    run(&mut s, "INSERT INTO u VALUES (1, 1, 'a'), (2, 3, 'b')");
    // Grouping: ordinals, expressions, aliases, the primary key.
    assert_eq!(
        rows(&mut s, "SELECT a, count(*) FROM t GROUP BY 1 ORDER BY 1"),
        vec![vec!["1", "2"], vec!["2", "1"]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT a + 1 AS k, count(*) FROM t GROUP BY a + 1 ORDER BY k"
        ),
        vec![vec!["2", "2"], vec!["3", "1"]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id, b, count(*) FROM t GROUP BY id ORDER BY id"
        )
        .len(),
        3
    );
    assert_eq!(
        rows(&mut s, "SELECT t.a, sum(t.n) FROM t GROUP BY a ORDER BY a"),
        vec![vec!["1", "30"], vec!["2", "NULL"]]
    );
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t HAVING count(*) > 1"),
        vec!["3"]
    );
    // Outer references in correlated subqueries, CTE and derived columns.
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.t_id = t.id) ORDER BY id"
        ),
        vec![vec!["1"], vec!["3"]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id, (SELECT x FROM u WHERE t_id = t.id) FROM t ORDER BY id"
        ),
        vec![vec!["1", "a"], vec!["2", "NULL"], vec!["3", "b"]]
    );
    assert_eq!(
        one(
            &mut s,
            "WITH c AS (SELECT a AS z FROM t) SELECT max(z) FROM c"
        ),
        vec!["2"]
    );
    assert_eq!(
        one(&mut s, "SELECT max(q.z) FROM (SELECT a AS z FROM t) q"),
        vec!["2"]
    );
    assert_eq!(
        rows(&mut s, "SELECT a AS k FROM t ORDER BY k DESC LIMIT 1"),
        vec![vec!["2"]]
    );
    assert_eq!(
        one(
            &mut s,
            "SELECT t.id, u.id FROM t JOIN u ON t.id = u.t_id WHERE u.x = 'b'"
        ),
        vec!["3", "2"]
    );
    // A numeric string literal is fine; the aggregate of an outer column
    // in a subquery's WHERE belongs to the outer query.
    assert_eq!(one(&mut s, "SELECT b FROM t WHERE a = '2'"), vec!["NULL"]);
    assert_eq!(one(&mut s, "SELECT current_user IS NOT NULL"), vec!["t"]);
}

#[test]
fn sqlstates_of_wrong_calls_and_returning() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    fails(&mut s, "SELECT upper('a', 'b')", "42883", "");
    fails(&mut s, "SELECT substr()", "42883", "");
    fails(
        &mut s,
        "INSERT INTO t VALUES (1, 1, 'a', 1) RETURNING nosuchcolumn",
        "42703",
        "column \"nosuchcolumn\" does not exist",
    );
    // Nothing was written by the failed statement.
    assert_eq!(one(&mut s, "SELECT count(*) FROM t"), vec!["0"]);
}

#[test]
fn functions() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    assert_eq!(
        one(&mut s, "SELECT round(2.345, 2), round(-2.345, 2), round(2.5, 0), round(-2.5, 0), round(1234.5, -2), round(NULL, 1)"),
        vec!["2.35", "-2.35", "3", "-3", "1200", "NULL"]
    );
    assert_eq!(
        one(&mut s, "SELECT round(-0.001, 2), round(5, 1)"),
        vec!["0.00", "5.0"]
    );
    run(
        &mut s,
        "INSERT INTO t VALUES (1, 1, 'héllo', 1), (2, 2, NULL, 2)",
    );
    assert_eq!(one(&mut s, "SELECT round(avg(a), 2) FROM t"), vec!["1.50"]);
    assert_eq!(
        one(
            &mut s,
            "SELECT char_length('héllo'), character_length(''), char_length(NULL)"
        ),
        vec!["5", "0", "NULL"]
    );
    assert_eq!(
        one(&mut s, "SELECT greatest(1, NULL, 3), least(NULL, 2, 5), least(2.5, 1), greatest('apple', 'pear'), greatest(NULL, NULL)"),
        vec!["3", "2", "1", "pear", "NULL"]
    );
    assert_eq!(
        rows(&mut s, "SELECT id, greatest(a, n, 0) FROM t ORDER BY id"),
        vec![vec!["1", "1"], vec!["2", "2"]]
    );
    assert_eq!(
        one(&mut s, "SELECT now() = statement_timestamp(), transaction_timestamp() = now(), clock_timestamp() >= now()"),
        vec!["t", "t", "t"]
    );
    assert_eq!(
        one(
            &mut s,
            "SELECT current_schemas(false), current_schemas(true)"
        ),
        vec!["{public}", "{pg_catalog,public}"]
    );
    assert_eq!(
        one(&mut s, "SELECT to_regclass('public.t') IS NOT NULL, to_regclass('nope') IS NULL, to_regclass('u')"),
        vec!["t", "t", "u"]
    );
    assert_eq!(
        one(&mut s, "SELECT CAST(3.7 AS INT), CAST(-3.5 AS INT), CAST(2.5 AS INT), 2.4::int, CAST('12' AS BIGINT) + 1"),
        vec!["4", "-4", "3", "2", "13"]
    );
}

#[test]
fn aggregates() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    run(
        &mut s,
        "CREATE TABLE g (id INT PRIMARY KEY, k INT, ok BOOLEAN, st TEXT, n INT, big BIGINT)",
    );
    run(
        &mut s,
        "INSERT INTO g VALUES (1, 1, true, 'paid', 2000000000, 9000000000000000000), \
         (2, 1, false, 'open', 2000000000, 9000000000000000000), (3, 2, true, 'paid', 3, 1), \
         (4, 2, NULL, 'open', NULL, NULL), (5, 3, NULL, 'x', NULL, NULL)",
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT k, bool_and(ok), bool_or(ok), every(ok) FROM g GROUP BY k ORDER BY k"
        ),
        vec![
            vec!["1", "f", "t", "f"],
            vec!["2", "t", "t", "t"],
            vec!["3", "NULL", "NULL", "NULL"],
        ]
    );
    assert_eq!(
        one(&mut s, "SELECT count(*) FILTER (WHERE st = 'paid'), sum(n) FILTER (WHERE st = 'open'), count(n) FILTER (WHERE st = 'x'), max(id) FILTER (WHERE ok) FROM g"),
        vec!["2", "2000000000", "0", "3"]
    );
    assert_eq!(
        one(&mut s, "SELECT sum(n) FROM g WHERE id < 3"),
        vec!["4000000000"]
    );
    assert_eq!(
        one(&mut s, "SELECT sum(big) FROM g"),
        vec!["18000000000000000001"]
    );
    assert_eq!(
        one(&mut s, "SELECT sum(n) FROM g WHERE id > 3"),
        vec!["NULL"]
    );
}

#[test]
fn predicates() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    run(&mut s, "CREATE TABLE a (id INT PRIMARY KEY, done BOOLEAN)");
    run(&mut s, "CREATE TABLE b (id INT PRIMARY KEY, v INT)");
    run(
        &mut s,
        "INSERT INTO a VALUES (1, true), (2, false), (3, NULL)",
    );
    run(&mut s, "INSERT INTO b VALUES (10, 1), (11, NULL)");
    assert_eq!(
        one(&mut s, "SELECT NULL IS DISTINCT FROM NULL, 1 IS DISTINCT FROM NULL, 1 IS NOT DISTINCT FROM 1, NULL IS NOT DISTINCT FROM NULL, 1 IS DISTINCT FROM 2"),
        vec!["f", "t", "t", "t", "t"]
    );
    assert_eq!(
        rows(&mut s, "SELECT id, done IS TRUE, done IS NOT TRUE, done IS FALSE, done IS NOT FALSE, done IS UNKNOWN, done IS NOT UNKNOWN FROM a ORDER BY id"),
        vec![
            vec!["1", "t", "f", "f", "t", "f", "t"],
            vec!["2", "f", "t", "t", "f", "f", "t"],
            vec!["3", "f", "t", "f", "t", "t", "f"],
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM a WHERE done IS NOT TRUE ORDER BY id"
        ),
        vec![vec!["2"], vec!["3"]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM a ORDER BY id DESC FETCH FIRST 2 ROWS ONLY"
        ),
        vec![vec!["3"], vec!["2"]]
    );
    // NOT IN with a NULL in the subquery: never true.
    assert!(rows(&mut s, "SELECT id FROM a WHERE id NOT IN (SELECT v FROM b)").is_empty());
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM a WHERE id NOT IN (SELECT v FROM b WHERE v IS NOT NULL) ORDER BY id"
        ),
        vec![vec!["2"], vec!["3"]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id, id NOT IN (SELECT v FROM b), id IN (SELECT v FROM b) FROM a ORDER BY id"
        ),
        vec![
            vec!["1", "f", "t"],
            vec!["2", "NULL", "NULL"],
            vec!["3", "NULL", "NULL"]
        ]
    );
    assert_eq!(
        one(
            &mut s,
            "SELECT NULL NOT IN (SELECT v FROM b WHERE v = 5), NULL NOT IN (SELECT v FROM b)"
        ),
        vec!["t", "NULL"]
    );
    // Correlated NOT IN.
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM a WHERE 1 NOT IN (SELECT v FROM b WHERE b.id = a.id + 9) ORDER BY id"
        ),
        vec![vec!["3"]]
    );
    run(&mut s, "CREATE TABLE n (v INT)");
    run(&mut s, "INSERT INTO n VALUES (1), (5), (10)");
    assert_eq!(
        one(&mut s, "SELECT 5 = ANY (SELECT v FROM n), 5 > ALL (SELECT v FROM n), 11 > ALL (SELECT v FROM n), 2 < ANY (SELECT v FROM n), 0 >= ANY (SELECT v FROM n)"),
        vec!["t", "f", "t", "t", "f"]
    );
    assert_eq!(
        one(&mut s, "SELECT 5 > ALL (SELECT v FROM n WHERE v > 100), 5 = ANY (SELECT v FROM n WHERE v > 100), NULL = ANY (SELECT v FROM n)"),
        vec!["t", "f", "NULL"]
    );
    run(&mut s, "INSERT INTO n VALUES (NULL)");
    assert_eq!(
        one(&mut s, "SELECT 5 = ANY (SELECT v FROM n), 7 = ANY (SELECT v FROM n), 11 > ALL (SELECT v FROM n), 7 > ALL (SELECT v FROM n)"),
        vec!["t", "NULL", "NULL", "f"]
    );
}

#[test]
fn explain_and_for_update() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    run(&mut s, "INSERT INTO t VALUES (1, 100, 'x', 1)");
    let r = run(&mut s, "EXPLAIN (COSTS OFF) SELECT * FROM t WHERE a > 1");
    let QueryResult::Rows { columns, rows, .. } = &r else {
        panic!("rows expected: {r:?}")
    };
    assert_eq!(columns.len(), 1);
    assert_eq!(columns[0].name, "QUERY PLAN");
    assert_eq!(
        rows,
        &vec![
            vec![Value::String("Seq Scan on t".into())],
            vec![Value::String("  Filter: (a > 1)".into())],
        ]
    );
    fails(
        &mut s,
        "EXPLAIN (COSTS OFF) SELECT nosuch FROM t",
        "42703",
        "nosuch",
    );
    // PostgreSQL's plain EXPLAIN answers with cost estimates; there is no
    // cost model to give them.
    fails(&mut s, "EXPLAIN SELECT * FROM t", "0A000", "cost");
    fails(
        &mut s,
        "EXPLAIN (VERBOSE) SELECT * FROM t",
        "0A000",
        "verbose",
    );
    fails(
        &mut s,
        "EXPLAIN ANALYZE SELECT * FROM t",
        "0A000",
        "ANALYZE",
    );
    // FOR UPDATE reads as a plain SELECT; the read is validated at commit.
    run(&mut s, "BEGIN");
    assert_eq!(
        one(&mut s, "SELECT a FROM t WHERE id = 1 FOR UPDATE"),
        vec!["100"]
    );
    run(&mut s, "UPDATE t SET a = a + 1 WHERE id = 1");
    run(&mut s, "COMMIT");
    assert_eq!(
        one(&mut s, "SELECT a FROM t WHERE id = 1 FOR SHARE NOWAIT"),
        vec!["101"]
    );
    fails(
        &mut s,
        "SELECT a FROM t FOR UPDATE SKIP LOCKED",
        "0A000",
        "SKIP LOCKED",
    );
    // A data-modifying CTE (which sqlparser does not parse) is named, not
    // called a syntax error.
    fails(
        &mut s,
        "WITH m AS (DELETE FROM t WHERE id = 1 RETURNING id) SELECT * FROM m",
        "0A000",
        "data-modifying statements in WITH",
    );
}

#[test]
fn for_update_read_conflicts_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.encryption.enabled = true;
    let e = std::sync::Arc::new(
        StorageEngine::open_with_source(
            dir.path().join("db"),
            &config,
            std::sync::Arc::new(heliosdb_keys::FakeSource::new(7)),
        )
        .unwrap(),
    );
    let shared = SqlShared::new();
    {
        let mut s = Session::new(&e, &shared);
        run(
            &mut s,
            "CREATE TABLE acct (id INT PRIMARY KEY, balance INT)",
        );
        run(&mut s, "INSERT INTO acct VALUES (1, 100)");
        run(&mut s, "BEGIN");
        assert_eq!(
            one(&mut s, "SELECT balance FROM acct WHERE id = 1 FOR UPDATE"),
            vec!["100"]
        );
        // Another connection changes the row after our read and commits.
        let e2 = e.clone();
        std::thread::spawn(move || {
            let shared = SqlShared::new();
            let mut s2 = Session::new(&e2, &shared);
            run(&mut s2, "UPDATE acct SET balance = 50 WHERE id = 1");
        })
        .join()
        .unwrap();
        run(
            &mut s,
            "UPDATE acct SET balance = balance - 10 WHERE id = 1",
        );
        let err = s.execute("COMMIT", &[]).unwrap_err();
        assert_eq!(err.sqlstate(), "40001", "{err}");
        assert_eq!(
            one(&mut s, "SELECT balance FROM acct WHERE id = 1"),
            vec!["50"]
        );
    }
}

#[test]
fn like_with_escapes() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    run(&mut s, "CREATE TABLE l (id INT PRIMARY KEY, s TEXT)");
    run(&mut s, "INSERT INTO l VALUES (1, 'axb'), (2, 'a_b'), (3, 'a%b'), (4, NULL), (5, 'A_B'), (6, 'a.b')");
    assert_eq!(
        rows(&mut s, "SELECT id FROM l WHERE s LIKE 'a\\_b' ORDER BY id"),
        vec![vec!["2"]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM l WHERE s LIKE 'a!%b' ESCAPE '!' ORDER BY id"
        ),
        vec![vec!["3"]]
    );
    assert_eq!(
        rows(&mut s, "SELECT id FROM l WHERE s ILIKE 'a\\_b' ORDER BY id"),
        vec![vec!["2"], vec!["5"]]
    );
    assert_eq!(
        rows(&mut s, "SELECT id, s NOT LIKE 'a\\_%' FROM l ORDER BY id"),
        vec![
            vec!["1", "t"],
            vec!["2", "f"],
            vec!["3", "t"],
            vec!["4", "NULL"],
            vec!["5", "t"],
            vec!["6", "t"]
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id FROM l WHERE s LIKE 'a._' ESCAPE '' ORDER BY id"
        ),
        vec![vec!["6"]]
    );
    fails(
        &mut s,
        "SELECT id FROM l WHERE s LIKE 'a\\'",
        "22025",
        "escape character",
    );
}

#[test]
fn order_by_and_operator_errors() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    fails(
        &mut s,
        "SELECT * FROM t ORDER BY nosuchcol",
        "42703",
        "nosuchcol",
    );
    fails(
        &mut s,
        "SELECT b + 1 FROM t",
        "42883",
        "operator does not exist: text + integer",
    );
    fails(
        &mut s,
        "SELECT id FROM t WHERE b = 1",
        "42883",
        "operator does not exist: text = integer",
    );
    run(&mut s, "INSERT INTO t VALUES (1, 5, 'x', 7)");
    assert_eq!(one(&mut s, "SELECT a AS k FROM t ORDER BY k"), vec!["5"]);
    assert_eq!(one(&mut s, "SELECT a + 1 FROM t ORDER BY 1"), vec!["6"]);
    assert_eq!(one(&mut s, "SELECT a + n FROM t"), vec!["12"]);
}

#[test]
fn current_setting_reads_the_session_parameters() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    let r = run(
        &mut s,
        "SELECT current_setting('default_table_access_method')",
    );
    let QueryResult::Rows { columns, rows, .. } = &r else {
        panic!("{r:?}")
    };
    assert_eq!(columns[0].name, "current_setting");
    assert_eq!(rows, &vec![vec![Value::String("heap".into())]]);
    run(&mut s, "SET application_name = 'app1'");
    run(&mut s, "SET statement_timeout = '2s'");
    assert_eq!(
        one(
            &mut s,
            "SELECT current_setting('application_name'), pg_catalog.current_setting('statement_timeout')"
        ),
        vec!["app1", "2s"]
    );
    // A parameter names the setting (SQLAlchemy sends `current_setting($1::VARCHAR)`).
    let r = s
        .execute(
            "SELECT current_setting($1::VARCHAR) AS z",
            &[Value::String("TimeZone".into())],
        )
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(r.rows(), &[vec![Value::String("UTC".into())]]);
    // missing_ok gives NULL; without it an unknown name is 42704.
    assert_eq!(
        one(
            &mut s,
            "SELECT coalesce(current_setting('no_such.setting', true), 'none')"
        ),
        vec!["none"]
    );
    fails(
        &mut s,
        "SELECT current_setting('no_such_setting')",
        "42704",
        "unrecognized configuration parameter \"no_such_setting\"",
    );
    fails(
        &mut s,
        "SET default_table_access_method = 'columnar'",
        "22023",
        "columnar",
    );
}

#[test]
fn tablespaces_and_inheritance_as_relations() {
    let e = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    assert_eq!(
        rows(
            &mut s,
            "SELECT oid, spcname FROM pg_catalog.pg_tablespace ORDER BY oid"
        ),
        vec![vec!["1663", "pg_default"], vec!["1664", "pg_global"]]
    );
    // SQLAlchemy's table options: every table in the default tablespace
    // (reltablespace 0, no tablespace row), no parents.
    assert_eq!(
        rows(
            &mut s,
            "SELECT c.relname, t.spcname, c.reltablespace, inh.parents \
             FROM pg_catalog.pg_class c \
             LEFT OUTER JOIN (SELECT i.inhrelid AS inhrelid, count(*) AS parents \
                FROM pg_catalog.pg_inherits i GROUP BY i.inhrelid) AS inh ON c.oid = inh.inhrelid \
             LEFT OUTER JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace \
             WHERE c.relkind = 'r' ORDER BY c.relname"
        ),
        vec![
            vec!["t", "NULL", "0", "NULL"],
            vec!["u", "NULL", "0", "NULL"]
        ]
    );
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM pg_catalog.pg_inherits"),
        vec!["0"]
    );
}

/// Unquoted identifiers fold to lower case, as PostgreSQL's do; quoted
/// ones keep their case and are other names.
#[test]
fn unquoted_identifiers_fold_to_lower_case() {
    let db = db();
    let shared = SqlShared::default();
    let mut s = Session::new(&db, &shared);
    run(
        &mut s,
        "CREATE TABLE Accounts (Id INT PRIMARY KEY, UserName TEXT)",
    );
    run(
        &mut s,
        "INSERT INTO accounts (ID, username) VALUES (1, 'u')",
    );
    run(&mut s, "CREATE INDEX Accounts_Name ON ACCOUNTS (UserName)");
    assert_eq!(
        one(
            &mut s,
            "SELECT Id, USERNAME AS Name FROM ACCOUNTS WHERE UserName = 'u'"
        ),
        ["1", "u"]
    );
    let QueryResult::Rows { columns, .. } =
        run(&mut s, "SELECT Id, UserName AS Name FROM accounts")
    else {
        panic!("no rows");
    };
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "name"]);
    // A quoted name keeps its case: another table.
    run(&mut s, "CREATE TABLE \"Accounts\" (\"Id\" INT)");
    run(&mut s, "INSERT INTO \"Accounts\" VALUES (7)");
    assert_eq!(one(&mut s, "SELECT \"Id\" FROM \"Accounts\""), ["7"]);
    assert_eq!(one(&mut s, "SELECT count(*) FROM Accounts"), ["1"]);
    fails(&mut s, "SELECT Id FROM \"Accounts\"", "42703", "");
    // Names in SET statements are matched without regard to case.
    run(&mut s, "SET TimeZone = 'UTC'");
    assert_eq!(one(&mut s, "SHOW timezone"), ["UTC"]);
}

/// `UPDATE … FROM` runs as per-row subqueries: what PostgreSQL would answer
/// differently is refused, never answered otherwise — a row joining several
/// source rows fails (21000) where PostgreSQL picks one, unqualified names
/// are refused, and nothing is written by a failed statement. `format()`
/// refuses the conversions it does not have.
#[test]
fn update_from_and_format_refuse_what_they_do_not_answer_as_postgresql() {
    let engine = db();
    let shared = SqlShared::new();
    let mut s = Session::new(&engine, &shared);
    run(&mut s, "CREATE TABLE p (id INT PRIMARY KEY, price INT)");
    run(&mut s, "CREATE TABLE c (id INT, delta INT)");
    run(&mut s, "INSERT INTO p VALUES (1, 100), (2, 200)");
    run(&mut s, "INSERT INTO c VALUES (2, 5), (2, 6), (1, 1)");
    fails(
        &mut s,
        "UPDATE p SET price = p.price + c.delta FROM c WHERE c.id = p.id",
        "21000",
        "more than one row",
    );
    fails(
        &mut s,
        "UPDATE p SET price = price + 1 FROM c WHERE c.id = p.id",
        "0A000",
        "qualify",
    );
    fails(
        &mut s,
        "UPDATE p AS q SET price = 1 FROM c WHERE c.id = q.id",
        "0A000",
        "alias",
    );
    assert_eq!(
        rows(&mut s, "SELECT id, price FROM p ORDER BY id"),
        vec![vec!["1", "100"], vec!["2", "200"]]
    );
    run(&mut s, "DELETE FROM c WHERE delta = 6");
    run(
        &mut s,
        "UPDATE p SET price = p.price + c.delta FROM c WHERE c.id = p.id",
    );
    assert_eq!(
        rows(&mut s, "SELECT id, price FROM p ORDER BY id"),
        vec![vec!["1", "101"], vec!["2", "205"]]
    );
    fails(&mut s, "SELECT format('%I', 'x')", "0A000", "%I");
    fails(&mut s, "SELECT format('%s %s', 'x')", "22023", "too few");
    assert_eq!(one(&mut s, "SELECT format('%s|%s', 'a', NULL)"), vec!["a|"]);
}

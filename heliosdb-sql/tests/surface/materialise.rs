//! Set operations below the top of a statement and `WITH RECURSIVE`, run
//! ahead of the statement (`session::materialise`): answers as PostgreSQL
//! gives them, and refusals where a part depends on the surrounding row.

use heliosdb_core::{Config, StorageEngine};
use heliosdb_sql::{Session, SqlShared};

use crate::{fails, text_rows as rows};

fn col(s: &mut Session<'_>, sql: &str) -> Vec<String> {
    rows(s, sql).into_iter().map(|mut r| r.remove(0)).collect()
}

fn setup(s: &mut Session<'_>) {
    for sql in [
        "CREATE TABLE a (id INT PRIMARY KEY, n INT)",
        "CREATE TABLE b (id INT PRIMARY KEY, n INT)",
        "INSERT INTO a VALUES (1, 1), (2, 2), (3, NULL)",
        "INSERT INTO b VALUES (1, 2), (2, 3), (3, NULL), (4, 3)",
        "CREATE TABLE cat (id INT PRIMARY KEY, parent INT, name TEXT)",
        "INSERT INTO cat VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 1, 'b'), (4, 2, 'a1'), (5, 4, 'a1x')",
    ] {
        s.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn set_operations_inside_derived_tables_ctes_and_subqueries() {
    let e = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    // UNION ALL keeps duplicates and NULLs: 3 + 4 rows.
    assert_eq!(
        col(
            &mut s,
            "SELECT count(*) FROM (SELECT n FROM a UNION ALL SELECT n FROM b) u"
        ),
        ["7"]
    );
    // UNION: one NULL, duplicates gone: {1, 2, 3, NULL}.
    assert_eq!(
        col(
            &mut s,
            "WITH u AS (SELECT n FROM a UNION SELECT n FROM b) SELECT count(*) FROM u"
        ),
        ["4"]
    );
    assert_eq!(
        col(
            &mut s,
            "SELECT x FROM (SELECT n AS x FROM a INTERSECT SELECT n FROM b) t ORDER BY x"
        ),
        ["2", "NULL"]
    );
    assert_eq!(
        col(
            &mut s,
            "SELECT id FROM b WHERE n IN (SELECT n FROM a EXCEPT SELECT 2) ORDER BY id"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        col(
            &mut s,
            "SELECT id FROM b WHERE n IN (SELECT 3 UNION SELECT 9) ORDER BY id"
        ),
        ["2", "4"]
    );
    // An empty set operation is an empty relation with its columns.
    assert_eq!(
        col(
            &mut s,
            "SELECT count(*) FROM (SELECT n FROM a WHERE false UNION SELECT n FROM b WHERE false) e"
        ),
        ["0"]
    );
    // A CTE that is a set operation, read by a later CTE.
    assert_eq!(
        col(
            &mut s,
            "WITH u AS (SELECT id FROM a UNION SELECT id FROM b), v AS (SELECT id FROM u WHERE id > 2) \
             SELECT id FROM v ORDER BY id"
        ),
        ["3", "4"]
    );
    // INSERT … SELECT … UNION.
    s.execute("CREATE TABLE c (n INT)", &[]).unwrap();
    s.execute("INSERT INTO c SELECT n FROM a UNION SELECT n FROM b", &[])
        .unwrap();
    assert_eq!(col(&mut s, "SELECT count(*) FROM c"), ["4"]);
    // It reads what the statement's transaction wrote.
    s.execute("BEGIN", &[]).unwrap();
    s.execute("INSERT INTO a VALUES (9, 9)", &[]).unwrap();
    assert_eq!(
        col(
            &mut s,
            "SELECT max(n) FROM (SELECT n FROM a UNION SELECT n FROM b) u"
        ),
        ["9"]
    );
    s.execute("ROLLBACK", &[]).unwrap();
    // A subquery naming the outer row cannot run first: refused, not answered.
    fails(
        &mut s,
        "SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.n = a.n UNION SELECT 2 FROM b WHERE false)",
        "0A000",
    );
}

#[test]
fn with_recursive() {
    let e = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    setup(&mut s);
    assert_eq!(
        col(
            &mut s,
            "WITH RECURSIVE nums (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < 5) \
             SELECT n FROM nums"
        ),
        ["1", "2", "3", "4", "5"]
    );
    assert_eq!(
        rows(
            &mut s,
            "WITH RECURSIVE tree AS (SELECT id, name, 0 AS depth FROM cat WHERE parent IS NULL \
             UNION ALL SELECT c.id, c.name, tree.depth + 1 FROM cat c JOIN tree ON c.parent = tree.id) \
             SELECT id, name, depth FROM tree ORDER BY id"
        ),
        [
            ["1", "root", "0"],
            ["2", "a", "1"],
            ["3", "b", "1"],
            ["4", "a1", "2"],
            ["5", "a1x", "3"],
        ]
    );
    // UNION (not ALL) ends a cycle: rows already produced are not produced again.
    assert_eq!(
        col(
            &mut s,
            "WITH RECURSIVE r (x) AS (SELECT 0 UNION SELECT (x + 1) % 3 FROM r) SELECT x FROM r ORDER BY x"
        ),
        ["0", "1", "2"]
    );
    // Errors as PostgreSQL classifies them.
    fails(
        &mut s,
        "WITH RECURSIVE r (x) AS (SELECT x FROM r UNION SELECT 1) SELECT x FROM r",
        "42P19",
    );
    fails(
        &mut s,
        "WITH RECURSIVE r (x, y) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 3) SELECT x FROM r",
        "42P10",
    );
}

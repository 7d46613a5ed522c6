//! Arrays as catalog readers use them (`crate::arrays`): `unnest` and
//! `generate_subscripts` of the catalogs' array columns, `array_agg` and
//! `string_agg` with `ORDER BY`, array columns typed as arrays, and
//! `pg_get_constraintdef`. Expected answers are PostgreSQL 15's for the
//! same statements.

use heliosdb_core::{Config, DataType, StorageEngine, Value};
use heliosdb_sql::{QueryResult, Session, SqlShared};

use crate::{fails, ok as result, text_rows as rows};

fn row(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn array_text_form_quotes_as_postgresql() {
    let v = [
        Value::String("a b".into()),
        Value::String("\"q\"".into()),
        Value::String("NULL".into()),
        Value::String(String::new()),
        Value::String("x,y".into()),
        Value::Null,
        Value::String("é{}\\".into()),
        Value::String("plain".into()),
    ];
    let t = heliosdb_sql::array_text(&v);
    assert_eq!(t, r#"{"a b","\"q\"","NULL","","x,y",NULL,"é{}\\",plain}"#);
    let back = heliosdb_sql::array_elements(&t).unwrap();
    let expected: Vec<Option<&str>> = vec![
        Some("a b"),
        Some("\"q\""),
        Some("NULL"),
        Some(""),
        Some("x,y"),
        None,
        Some("é{}\\"),
        Some("plain"),
    ];
    assert_eq!(
        back.iter().map(Option::as_deref).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        heliosdb_sql::array_text(&[Value::Int2(3), Value::Bool(true)]),
        "{3,t}"
    );
    assert_eq!(heliosdb_sql::array_elements("{}"), Some(Vec::new()));
    assert_eq!(heliosdb_sql::array_elements("{a,"), None);
    assert_eq!(heliosdb_sql::array_elements("a,b"), None);
}

fn catalog_setup(s: &mut Session<'_>) {
    for sql in [
        "CREATE TABLE t (a INT, b INT, c INT, PRIMARY KEY (c, a))",
        "CREATE TABLE p (id INT PRIMARY KEY, code TEXT UNIQUE)",
        "CREATE TABLE r (x INT REFERENCES p (id) ON DELETE CASCADE, y TEXT UNIQUE)",
        "CREATE INDEX r_y_x ON r (x)",
    ] {
        s.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn unnest_and_generate_subscripts_of_catalog_arrays() {
    let e = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    catalog_setup(&mut s);
    // int2vector subscripts start at 0, int2[] ones at 1; both calls
    // advance in lockstep.
    assert_eq!(
        rows(
            &mut s,
            "SELECT unnest(indkey) AS k, generate_subscripts(indkey, 1) AS o FROM pg_index \
             WHERE indrelid = 't'::regclass"
        ),
        vec![row(&["3", "0"]), row(&["1", "1"])]
    );
    let r = result(
        &mut s,
        "SELECT unnest(indkey) AS k, generate_subscripts(indkey, 1) AS o FROM pg_index \
         WHERE indrelid = 't'::regclass",
    );
    let QueryResult::Rows { columns, .. } = &r else {
        panic!("rows expected")
    };
    assert_eq!(columns[0].name, "k");
    assert_eq!(columns[0].data_type, DataType::Int2);
    assert_eq!(columns[1].data_type, DataType::Int4);
    assert_eq!(
        rows(
            &mut s,
            "SELECT k.ord, a.attname FROM pg_attribute a JOIN (SELECT c.conrelid, \
             unnest(c.conkey) AS attnum, generate_subscripts(c.conkey, 1) AS ord \
             FROM pg_constraint c WHERE c.contype = 'p') k \
             ON a.attrelid = k.conrelid AND a.attnum = k.attnum \
             WHERE a.attrelid = 't'::regclass ORDER BY k.ord"
        ),
        vec![row(&["1", "c"]), row(&["2", "a"])]
    );
    // A dimension other than 1 of a one-dimensional array: no subscripts.
    assert_eq!(
        rows(
            &mut s,
            "SELECT count(*) FROM (SELECT generate_subscripts(indkey, 2) AS o FROM pg_index) x"
        ),
        vec![row(&["0"])]
    );
    // Anything but the catalogs' array columns, or a call inside an
    // expression, is refused.
    fails(&mut s, "SELECT unnest(code) FROM p", "0A000");
    fails(&mut s, "SELECT unnest(indkey) + 1 FROM pg_index", "0A000");
    fails(
        &mut s,
        "SELECT unnest(indkey) FROM pg_index ORDER BY 1",
        "0A000",
    );
}

#[test]
fn array_agg_and_string_agg_with_order_by() {
    let e = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    for sql in [
        "CREATE TABLE t (g INT, s TEXT, n INT)",
        "INSERT INTO t VALUES (1, 'a b', 3), (1, NULL, 1), (1, 'NULL', 2), (2, '', 5), \
         (2, 'x,y', NULL), (2, 'q\"\\', 4), (3, '{}', 6)",
    ] {
        s.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    assert_eq!(
        rows(
            &mut s,
            "SELECT g, array_agg(s ORDER BY n) AS ss FROM t GROUP BY g ORDER BY g"
        ),
        vec![
            row(&["1", r#"{NULL,"NULL","a b"}"#]),
            row(&["2", r#"{"q\"\\","","x,y"}"#]),
            row(&["3", r#"{"{}"}"#]),
        ]
    );
    let r = result(
        &mut s,
        "SELECT g, array_agg(s ORDER BY n) AS ss FROM t GROUP BY g",
    );
    let QueryResult::Rows { columns, .. } = &r else {
        panic!("rows expected")
    };
    assert_eq!(columns[1].name, "ss");
    assert_eq!(columns[1].array_of, Some(DataType::Text));
    assert_eq!(columns[0].array_of, None);
    assert_eq!(
        rows(
            &mut s,
            "SELECT g, array_agg(n ORDER BY n DESC) FROM t GROUP BY g ORDER BY g DESC"
        ),
        vec![
            row(&["3", "{6}"]),
            row(&["2", "{NULL,5,4}"]),
            row(&["1", "{3,2,1}"]),
        ]
    );
    assert_eq!(
        rows(&mut s, "SELECT array_agg(n ORDER BY n NULLS FIRST) FROM t"),
        vec![row(&["{NULL,1,2,3,4,5,6}"])]
    );
    // No GROUP BY: one group, even over no rows.
    assert_eq!(
        rows(&mut s, "SELECT array_agg(s), count(*) FROM t WHERE false"),
        vec![row(&["NULL", "0"])]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT count(*), array_agg(g ORDER BY n, g), min(s), max(n), bool_and(n > 0), \
             count(n) FROM t"
        ),
        vec![row(&["7", "{1,1,1,2,2,3,2}", "", "6", "t", "6"])]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT g, string_agg(s, '|' ORDER BY n DESC) AS joined, count(*) FROM t \
             GROUP BY g ORDER BY joined"
        ),
        vec![
            row(&["1", "a b|NULL", "3"]),
            row(&["2", "x,y||q\"\\", "3"]),
            row(&["3", "{}", "1"]),
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT g AS grp, array_agg(n ORDER BY n) FROM t WHERE n IS NOT NULL GROUP BY 1 \
             ORDER BY grp LIMIT 2 OFFSET 1"
        ),
        vec![row(&["2", "{4,5}"]), row(&["3", "{6}"])]
    );
    // Forms not computed here are refused, never answered otherwise.
    fails(
        &mut s,
        "SELECT array_agg(n) FROM t HAVING count(*) > 1",
        "0A000",
    );
    fails(
        &mut s,
        "SELECT g, array_agg(n), sum(n) FROM t GROUP BY g",
        "0A000",
    );
    fails(
        &mut s,
        "SELECT g + 1, array_agg(n) FROM t GROUP BY g",
        "0A000",
    );
    fails(
        &mut s,
        "SELECT g, array_agg(n) AS a FROM t GROUP BY g ORDER BY a",
        "0A000",
    );
    fails(&mut s, "SELECT array_agg(DISTINCT n) FROM t", "0A000");
    // An array of a derived table may only be passed on.
    fails(
        &mut s,
        "SELECT x.a FROM (SELECT g, array_agg(n) AS a FROM t GROUP BY g) x WHERE x.a IS NULL",
        "0A000",
    );
    fails(&mut s, "SELECT (SELECT array_agg(n) FROM t)", "0A000");
    let r = result(
        &mut s,
        "SELECT x.g, x.a FROM (SELECT g, array_agg(n ORDER BY n) AS a FROM t GROUP BY g) x \
         ORDER BY x.g",
    );
    let QueryResult::Rows { columns, rows, .. } = &r else {
        panic!("rows expected")
    };
    assert_eq!(columns[1].array_of, Some(DataType::Int4));
    assert_eq!(rows[1][1], Value::String("{4,5,NULL}".into()));
}

#[test]
fn constraint_definitions_and_index_catalog() {
    let e = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
    let shared = SqlShared::new();
    let mut s = Session::new(&e, &shared);
    catalog_setup(&mut s);
    assert_eq!(
        rows(
            &mut s,
            "SELECT c.conname, pg_get_constraintdef(c.oid, true) FROM pg_constraint c \
             WHERE c.contype IN ('p', 'u', 'f') ORDER BY c.conname"
        ),
        vec![
            row(&["p_code_key", "UNIQUE (code)"]),
            row(&["p_pkey", "PRIMARY KEY (id)"]),
            row(&[
                "r_x_fkey",
                "FOREIGN KEY (x) REFERENCES p(id) ON DELETE CASCADE"
            ]),
            row(&["r_y_key", "UNIQUE (y)"]),
            row(&["t_pkey", "PRIMARY KEY (c, a)"]),
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT i.indisunique, i.indnkeyatts, i.indisvalid, i.indpred IS NULL, i.indoption, \
             cl.relname FROM pg_index i JOIN pg_class cl ON cl.oid = i.indexrelid \
             WHERE i.indrelid = 'r'::regclass ORDER BY cl.relname"
        ),
        vec![
            row(&["t", "1", "t", "t", "0", "r_y_key"]),
            row(&["f", "1", "t", "t", "0", "r_y_x"]),
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT i.indclass, i.indkey FROM pg_index i \
             WHERE i.indexrelid = 't_pkey'::regclass"
        ),
        vec![row(&["1978 1978", "3 1"])]
    );
}

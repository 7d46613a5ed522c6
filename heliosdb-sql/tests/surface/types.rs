//! DATE, TIME, TIMESTAMPTZ, INTERVAL and UUID columns and the literal
//! spellings PostgreSQL accepts (booleans, bytea hex, offsets), on a real
//! encrypted engine: stored, read back as PostgreSQL prints them, ordered
//! by the primary key, and refused with PostgreSQL's SQLSTATE.

use std::sync::Arc;

use heliosdb_core::{Config, DataType, StorageEngine, Value};
use heliosdb_keys::FakeSource;
use heliosdb_sql::{text_of, QueryResult, SqlExt};

fn engine(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.encryption.enabled = true;
    StorageEngine::open_with_source(dir.join("db"), &config, Arc::new(FakeSource::new(7))).unwrap()
}

/// Rows as PostgreSQL's text output.
fn text_rows(db: &StorageEngine, sql: &str) -> Vec<Vec<String>> {
    match db.execute_sql(sql).unwrap() {
        QueryResult::Rows { rows, .. } => rows
            .iter()
            .map(|r| r.iter().map(text_of).collect())
            .collect(),
        other => panic!("rows expected from {sql}, got {other:?}"),
    }
}

fn types(db: &StorageEngine, sql: &str) -> Vec<DataType> {
    match db.execute_sql(sql).unwrap() {
        QueryResult::Rows { columns, .. } => columns.iter().map(|c| c.data_type).collect(),
        other => panic!("rows expected, got {other:?}"),
    }
}

fn code(db: &StorageEngine, sql: &str) -> String {
    db.execute_sql(sql).unwrap_err().sqlstate().to_string()
}

#[test]
fn date_time_columns_store_and_print_like_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE d (id INT PRIMARY KEY, dt DATE, tm TIME, at TIMESTAMPTZ)")
        .unwrap();
    db.execute_sql(
        "INSERT INTO d VALUES (1, '2024-02-29', '13:45:00.5', '2024-01-01 12:00:00+02'), \
         (2, '1999-12-31', '00:00:01', '2024-01-01 12:00:00')",
    )
    .unwrap();
    assert_eq!(
        text_rows(&db, "SELECT id, dt, tm, at FROM d ORDER BY id"),
        vec![
            vec!["1", "2024-02-29", "13:45:00.5", "2024-01-01 10:00:00+00"],
            vec!["2", "1999-12-31", "00:00:01", "2024-01-01 12:00:00+00"],
        ]
    );
    assert_eq!(
        types(&db, "SELECT dt, tm, at FROM d"),
        vec![DataType::Date, DataType::Time, DataType::TimestampTz]
    );
    assert_eq!(
        text_rows(&db, "SELECT id FROM d WHERE dt >= '2000-01-01'"),
        vec![vec!["1"]]
    );
    // 2023 has no February 29th: 22008, as PostgreSQL.
    assert_eq!(
        code(&db, "INSERT INTO d (id, dt) VALUES (3, '2023-02-29')"),
        "22008"
    );
    assert_eq!(
        code(&db, "INSERT INTO d (id, tm) VALUES (3, 'noon')"),
        "22007"
    );
    // Reopened, the types and values are still there (sealed metadata).
    drop(db);
    let db = engine(dir.path());
    assert_eq!(
        text_rows(&db, "SELECT at FROM d WHERE id = 1"),
        vec![vec!["2024-01-01 10:00:00+00"]]
    );
}

#[test]
fn uuid_primary_keys_order_and_refuse_bad_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE u (id UUID PRIMARY KEY, name TEXT)")
        .unwrap();
    db.execute_sql("INSERT INTO u VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', 'y')")
        .unwrap();
    db.execute_sql("INSERT INTO u VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x')")
        .unwrap();
    assert_eq!(
        text_rows(&db, "SELECT id, name FROM u ORDER BY id"),
        vec![
            vec!["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "x"],
            vec!["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", "y"],
        ]
    );
    assert_eq!(
        text_rows(
            &db,
            "SELECT name FROM u WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"
        ),
        vec![vec!["x"]]
    );
    assert_eq!(
        code(&db, "INSERT INTO u VALUES ('not-a-uuid', 'z')"),
        "22P02"
    );
    assert_eq!(
        code(
            &db,
            "INSERT INTO u VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'dup')"
        ),
        "23505"
    );
}

#[test]
fn intervals_store_print_and_refuse_what_glue_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE i (id INT, span INTERVAL)")
        .unwrap();
    db.execute_sql(
        "INSERT INTO i VALUES (1, '1 day'), (2, '2 hours 30 minutes'), (3, '1 year 2 mons')",
    )
    .unwrap();
    assert_eq!(
        text_rows(&db, "SELECT id, span FROM i ORDER BY id"),
        vec![
            vec!["1", "1 day"],
            vec!["2", "02:30:00"],
            vec!["3", "1 year 2 mons"],
        ]
    );
    assert_eq!(
        text_rows(
            &db,
            "SELECT interval '90 minutes', interval '1 day' * 3, interval '1 hour' + interval '15 minutes'"
        ),
        vec![vec!["01:30:00", "3 days", "01:15:00"]]
    );
    assert_eq!(
        code(&db, "INSERT INTO i VALUES (4, '1 mon 2 days')"),
        "0A000"
    );
    // GlueSQL would print these as `1 day 02:00:00` and `23:00:00`.
    assert_eq!(code(&db, "INSERT INTO i VALUES (4, '26 hours')"), "0A000");
    assert_eq!(code(&db, "SELECT interval '1 day -1 hour'"), "0A000");
    assert_eq!(code(&db, "INSERT INTO i VALUES (4, 'soon')"), "22P02");
}

#[test]
fn literals_postgres_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    db.execute_sql("CREATE TABLE b (id INT, flag BOOLEAN, data BYTEA)")
        .unwrap();
    db.execute_sql(
        "INSERT INTO b VALUES (1, 'f', '\\x00010203ff'), (2, 'yes', 'abc'), (3, 'off', NULL), \
         (4, '1', NULL)",
    )
    .unwrap();
    assert_eq!(
        text_rows(&db, "SELECT id, flag, data FROM b ORDER BY id"),
        vec![
            vec!["1", "f", "\\x00010203ff"],
            vec!["2", "t", "\\x616263"],
            vec!["3", "f", ""],
            vec!["4", "t", ""],
        ]
    );
    db.execute_sql("UPDATE b SET flag = 'no', data = '\\xff' WHERE id = 2")
        .unwrap();
    assert_eq!(
        text_rows(&db, "SELECT flag, data FROM b WHERE id = 2"),
        vec![vec!["f", "\\xff"]]
    );
    assert_eq!(code(&db, "UPDATE b SET flag = 'maybe'"), "22P02");
    assert_eq!(
        code(&db, "INSERT INTO b (id, flag) VALUES (5, 'maybe')"),
        "22P02"
    );
    assert_eq!(
        code(&db, "INSERT INTO b (id, data) VALUES (5, '\\x0')"),
        "22P02"
    );
    assert_eq!(
        text_rows(
            &db,
            "SELECT 'yes'::boolean, 'off'::boolean, date '2024-02-28' + 1"
        ),
        vec![vec!["t", "f", "2024-02-29"]]
    );
    assert_eq!(
        text_rows(
            &db,
            "SELECT timestamp '2024-03-01 00:00:00' - interval '1 day', \
             '2024-01-01 12:00:00+02'::timestamptz"
        ),
        vec![vec!["2024-02-29 00:00:00", "2024-01-01 10:00:00+00"]]
    );
    assert_eq!(code(&db, "SELECT '2024-13-01'::date"), "22008");
    assert!(matches!(
        db.execute_sql("SELECT now()").unwrap(),
        QueryResult::Rows { ref rows, .. } if matches!(rows[0][0], Value::TimestampTz(_))
    ));
}

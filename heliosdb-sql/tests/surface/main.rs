//! The SQL surface on a real engine, as one test binary (every test binary
//! links RocksDB, which a fresh CI machine pays for once per binary):
//! DDL (CHECK, ALTER TABLE, identity, unique indexes), the column types and
//! their text input, queries as PostgreSQL plans and evaluates them, and set
//! operations below the top of a statement with `WITH RECURSIVE`, keys
//! (composite PRIMARY KEY / UNIQUE, foreign-key ON DELETE actions), views
//! and sequences.

mod arrays;
mod ddl;
mod keys;
mod materialise;
mod objects;
mod pgexact;
mod queries;
mod types;

// Helpers of the ddl, keys and objects tests: an encrypted engine in a
// temporary directory, and statements that must succeed or fail.

use std::sync::Arc;

use heliosdb_core::{Config, StorageEngine, Value};
use heliosdb_keys::FakeSource;
use heliosdb_sql::{QueryResult, Session, SqlError};

pub(crate) fn engine(dir: &std::path::Path) -> StorageEngine {
    let mut config = Config::default();
    config.encryption.enabled = true;
    StorageEngine::open_with_source(dir.join("db"), &config, Arc::new(FakeSource::new(7))).unwrap()
}

pub(crate) fn ok(s: &mut Session<'_>, sql: &str) -> QueryResult {
    match s.execute(sql, &[]) {
        Ok(mut r) => r.pop().unwrap(),
        Err(e) => panic!("{sql}: {e}"),
    }
}

pub(crate) fn err(s: &mut Session<'_>, sql: &str) -> SqlError {
    match s.execute(sql, &[]) {
        Ok(r) => panic!("{sql}: expected an error, got {r:?}"),
        Err(e) => e,
    }
}

pub(crate) fn rows(s: &mut Session<'_>, sql: &str) -> Vec<Vec<Value>> {
    ok(s, sql).rows().to_vec()
}

/// The rows as text (NULL as "NULL"), for compact assertions.
pub(crate) fn text_rows(s: &mut Session<'_>, sql: &str) -> Vec<Vec<String>> {
    ok(s, sql)
        .rows()
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::Null => "NULL".to_string(),
                    v => heliosdb_sql::text_of(v),
                })
                .collect()
        })
        .collect()
}

/// A statement that must fail with SQLSTATE `code`.
pub(crate) fn fails(s: &mut Session<'_>, sql: &str, code: &str) {
    let e = err(s, sql);
    assert_eq!(e.sqlstate(), code, "{sql}: {e}");
}

pub(crate) fn i(v: i64) -> Value {
    Value::Int4(i32::try_from(v).unwrap())
}

pub(crate) fn t(v: &str) -> Value {
    Value::String(v.into())
}

//! Streaming a query's rows out as they are read, so that the memory of
//! `SELECT * FROM t` is bounded by a chunk of rows, not by the table.
//!
//! GlueSQL collects a statement's rows before it returns them, so a query
//! that only reads a table row by row — one base table scanned in key
//! order, an optional filter, a projection; no join, aggregate, `DISTINCT`,
//! `ORDER BY`, `LIMIT`/`OFFSET` or subquery — runs its plan several times
//! over successive chunks of one scan instead: the scan is opened once (one
//! engine iterator, so one consistent view of the table across the runs)
//! and each run of the plan reads the next [`CHUNK_ROWS`] rows of it. The
//! answer is the same rows in the same order as one run over the whole
//! table, since every row passes through the filter and projection on its
//! own. A statement whose first chunk is its whole answer returns as usual
//! (a point query costs nothing extra); only a longer one goes to the
//! caller's [`RowSink`], its columns first and then its rows chunk by chunk.

use gluesql_core::plan::{
    FilterInputPlan, FilterPlan, ProjectInputPlan, ProjectPlan, ProjectionPlan, QueryPlan,
    SourcePlan, StatementPlan, TableAccessPlan,
};
use gluesql_core::sqlparser::ast::{visit_expressions, Expr, Statement};
use heliosdb_core::Value;
use std::ops::ControlFlow;

use crate::{ColumnInfo, Result};

/// Rows a run of a streamed statement's plan reads (and the sink receives
/// at once).
pub(crate) const CHUNK_ROWS: usize = 1024;

/// Where a streamed statement's answer goes (see
/// [`crate::Session::execute_streaming`]): its columns once, then its rows
/// in order, a chunk at a time. An error returned here ends the statement
/// with that error (a client that went away).
pub trait RowSink: Send {
    /// The result columns, before any row.
    ///
    /// # Errors
    /// The receiver is gone.
    fn columns(&mut self, columns: &[ColumnInfo]) -> Result<()>;

    /// The next rows, values in column order and typed as the columns say
    /// (or NULL).
    ///
    /// # Errors
    /// The receiver is gone.
    fn rows(&mut self, rows: Vec<Vec<Value>>) -> Result<()>;
}

/// A session's sink, as its `Debug` shows it.
pub(crate) struct Sink(pub Box<dyn RowSink>);

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowSink")
    }
}

/// The table a statement can stream from: a plain single-table scan whose
/// rows pass through a filter and a projection one at a time; `None` for
/// everything else.
pub(crate) fn streamable_table(stmt: &Statement, plan: &StatementPlan) -> Option<String> {
    let StatementPlan::Query(QueryPlan::Project(ProjectPlan {
        input,
        projection: ProjectionPlan::SelectItems(_),
    })) = plan
    else {
        return None;
    };
    let source = match input {
        ProjectInputPlan::Source(source)
        | ProjectInputPlan::Filter(FilterPlan {
            input: FilterInputPlan::Source(source),
            ..
        }) => source,
        _ => return None,
    };
    let SourcePlan::Table(table) = source else {
        return None;
    };
    if !matches!(table.access, TableAccessPlan::FullScan) {
        return None;
    }
    // A subquery scans tables of its own (this one too, perhaps) once per
    // run of the plan: only statements without one are chunked.
    let nested = visit_expressions(stmt, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    if nested.is_break() {
        return None;
    }
    Some(table.name.clone())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use heliosdb_core::{Config, StorageEngine, Value};

    use super::{RowSink, CHUNK_ROWS};
    use crate::{ColumnInfo, QueryResult, Result, Session, SqlError, SqlExt, SqlShared};

    /// What a sink received: the columns (how often), and each chunk.
    #[derive(Default)]
    struct Received {
        columns: Vec<Vec<ColumnInfo>>,
        chunks: Vec<Vec<Vec<Value>>>,
    }

    struct Collect {
        into: Arc<Mutex<Received>>,
        /// Fail at this chunk (the client went away).
        fail_at: Option<usize>,
        /// Run before the first chunk is handed over (another writer).
        on_first: Option<Box<dyn FnOnce() + Send>>,
    }

    impl RowSink for Collect {
        fn columns(&mut self, columns: &[ColumnInfo]) -> Result<()> {
            self.into.lock().unwrap().columns.push(columns.to_vec());
            Ok(())
        }

        fn rows(&mut self, rows: Vec<Vec<Value>>) -> Result<()> {
            if let Some(f) = self.on_first.take() {
                f();
            }
            let mut into = self.into.lock().unwrap();
            if self.fail_at == Some(into.chunks.len()) {
                return Err(SqlError::Engine("the client went away".into()));
            }
            into.chunks.push(rows);
            Ok(())
        }
    }

    const ROWS: i32 = 4 * CHUNK_ROWS as i32 + 300;

    fn engine() -> Arc<StorageEngine> {
        let db = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)")
            .unwrap();
        for start in (1..=ROWS).step_by(1000) {
            let values: Vec<String> = (start..(start + 1000).min(ROWS + 1))
                .map(|i| format!("({i}, {}, 'row {i}')", i % 7))
                .collect();
            db.execute_sql(&format!("INSERT INTO t VALUES {}", values.join(", ")))
                .unwrap();
        }
        // A small table to join with.
        db.execute_sql("CREATE TABLE u (k INTEGER PRIMARY KEY, name TEXT)")
            .unwrap();
        db.execute_sql("INSERT INTO u VALUES (0, 'zero'), (1, 'one'), (2, 'two')")
            .unwrap();
        Arc::new(db)
    }

    /// Runs `sql` streaming into a fresh sink: the result and what the
    /// sink received.
    fn streamed(
        db: &StorageEngine,
        shared: &SqlShared,
        sql: &str,
        fail_at: Option<usize>,
        on_first: Option<Box<dyn FnOnce() + Send>>,
    ) -> (Result<Vec<QueryResult>>, Received) {
        let into = Arc::new(Mutex::new(Received::default()));
        let sink = Collect {
            into: Arc::clone(&into),
            fail_at,
            on_first,
        };
        let r = Session::new(db, shared).execute_streaming(sql, &[], Box::new(sink));
        let got = std::mem::take(&mut *into.lock().unwrap());
        (r, got)
    }

    fn collected(db: &StorageEngine, shared: &SqlShared, sql: &str) -> QueryResult {
        Session::new(db, shared)
            .execute(sql, &[])
            .unwrap()
            .pop()
            .unwrap()
    }

    /// Row-by-row queries longer than a chunk stream in chunks and answer
    /// exactly what the collected run answers (same columns, rows, order).
    #[test]
    fn streamed_queries_answer_as_collected_ones() {
        let db = engine();
        let shared = SqlShared::default();
        for sql in [
            "SELECT * FROM t",
            "SELECT id, v * 2 AS w, s FROM t WHERE v <> 3",
            "SELECT s, id FROM t WHERE id BETWEEN 200 AND 3900",
            // The first chunks match nothing: the columns still go first,
            // once.
            "SELECT id FROM t WHERE id > 3000",
            "SELECT x.id, upper(x.s) FROM t AS x WHERE x.v = 0 OR x.id % 2 = 1",
        ] {
            let expected = collected(&db, &shared, sql);
            let QueryResult::Rows { columns, rows, .. } = expected else {
                panic!("{sql}: no rows");
            };
            let (r, got) = streamed(&db, &shared, sql, None, None);
            let r = r.unwrap();
            assert_eq!(
                r,
                vec![QueryResult::Command {
                    tag: format!("SELECT {}", rows.len()),
                    rows: rows.len() as u64,
                }],
                "{sql}"
            );
            assert_eq!(got.columns, vec![columns], "{sql}");
            assert!(got.chunks.len() >= 2, "{sql}: {} chunks", got.chunks.len());
            assert!(
                got.chunks.iter().all(|c| c.len() <= CHUNK_ROWS),
                "{sql}: a chunk is larger than {CHUNK_ROWS} rows"
            );
            let all: Vec<Vec<Value>> = got.chunks.into_iter().flatten().collect();
            assert_eq!(all, rows, "{sql}");
        }
    }

    /// Short answers, and queries that need all rows before the first
    /// answer row (aggregates, sorting, DISTINCT, LIMIT, joins,
    /// subqueries), come back collected; the sink gets nothing.
    #[test]
    fn other_queries_are_collected() {
        let db = engine();
        let shared = SqlShared::default();
        for sql in [
            "SELECT * FROM t WHERE id = 7",
            "SELECT * FROM t WHERE id < 100",
            "SELECT count(*) FROM t",
            "SELECT v, count(*) FROM t GROUP BY v",
            "SELECT * FROM t ORDER BY v, id",
            "SELECT DISTINCT v FROM t",
            "SELECT * FROM t LIMIT 2000",
            "SELECT * FROM t OFFSET 10",
            "SELECT t.id, u.name FROM t JOIN u ON t.v = u.k",
            "SELECT t.id, u.name FROM t LEFT JOIN u ON t.v = u.k",
            "SELECT id FROM t WHERE v IN (SELECT k FROM u)",
            "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.v)",
            "SELECT id, (SELECT max(k) FROM u) AS m FROM t",
            "SELECT * FROM (SELECT id, v FROM t) AS d",
            "SELECT * FROM t UNION ALL SELECT * FROM t",
            "SELECT id, row_number() OVER (ORDER BY id) FROM t",
            "SELECT 1; SELECT * FROM t",
        ] {
            let expected = Session::new(&db, &shared).execute(sql, &[]).unwrap();
            let (r, got) = streamed(&db, &shared, sql, None, None);
            assert_eq!(r.unwrap(), expected, "{sql}");
            assert!(got.columns.is_empty() && got.chunks.is_empty(), "{sql}");
        }
    }

    /// The streamed rows are one consistent view of the table: writes
    /// committed while the statement streams (after its first chunk) are
    /// not in its answer.
    #[test]
    fn a_streamed_scan_does_not_see_later_commits() {
        let db = engine();
        let shared = SqlShared::default();
        let writer = Arc::clone(&db);
        let write: Box<dyn FnOnce() + Send> = Box::new(move || {
            // On another thread, as another session would.
            std::thread::spawn(move || {
                writer
                    .execute_sql(&format!(
                        "DELETE FROM t WHERE id = {ROWS}; UPDATE t SET s = 'changed' \
                         WHERE id = 4000; INSERT INTO t VALUES ({}, 1, 'new')",
                        ROWS + 1
                    ))
                    .unwrap();
            })
            .join()
            .unwrap();
        });
        let (r, got) = streamed(&db, &shared, "SELECT id, s FROM t", None, Some(write));
        let n = u64::try_from(ROWS).unwrap();
        assert_eq!(
            r.unwrap(),
            vec![QueryResult::Command {
                tag: format!("SELECT {n}"),
                rows: n,
            }]
        );
        let all: Vec<Vec<Value>> = got.chunks.into_iter().flatten().collect();
        assert_eq!(all.len(), ROWS as usize);
        assert_eq!(
            all.last().unwrap(),
            &vec![Value::Int4(ROWS), Value::String(format!("row {ROWS}"))]
        );
        assert_eq!(all[3999][1], Value::String("row 4000".into()));
        // The writes did commit: a new statement sees them.
        let after = db
            .execute_sql("SELECT count(*) FROM t WHERE s = 'changed'")
            .unwrap();
        assert_eq!(after.rows()[0][0], Value::Int8(1));
    }

    /// A sink that fails ends the statement with its error, after the
    /// chunks it took; the session goes on.
    #[test]
    fn a_failing_sink_ends_the_statement() {
        let db = engine();
        let shared = SqlShared::default();
        let (r, got) = streamed(&db, &shared, "SELECT * FROM t", Some(2), None);
        let e = r.unwrap_err();
        assert!(e.to_string().contains("the client went away"), "{e}");
        assert_eq!(got.chunks.len(), 2);
        // Inside a transaction the failure aborts it, as any error does.
        let mut s = Session::new(&db, &shared);
        s.execute("BEGIN", &[]).unwrap();
        let into = Arc::new(Mutex::new(Received::default()));
        let sink = Collect {
            into,
            fail_at: Some(0),
            on_first: None,
        };
        assert!(s
            .execute_streaming("SELECT * FROM t", &[], Box::new(sink))
            .is_err());
        let e = s.execute("SELECT 1", &[]).unwrap_err();
        assert!(
            e.to_string().contains("current transaction is aborted"),
            "{e}"
        );
        s.execute("ROLLBACK", &[]).unwrap();
        assert_eq!(s.execute("SELECT 1", &[]).unwrap().len(), 1);
    }
}

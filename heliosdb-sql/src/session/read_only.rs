//! What a read-only transaction refuses (SQLSTATE 25006), named as
//! PostgreSQL names it: data changes, schema changes, `COPY … FROM`, and
//! sequence steps (`nextval`, `setval`). Queries, `SHOW`/`SET`,
//! transaction control and cursors run.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{visit_expressions, Expr, ObjectType, Statement};

/// The command `stmt` is, as the 25006 error names it, when a read-only
/// transaction may not run it.
pub(super) fn refused(stmt: &Statement) -> Option<String> {
    let what = match stmt {
        Statement::Insert(_) => "INSERT",
        Statement::Update { .. } => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Truncate { .. } => "TRUNCATE TABLE",
        Statement::Merge { .. } => "MERGE",
        Statement::Copy { to: false, .. } => "COPY FROM",
        Statement::CreateTable(_) => "CREATE TABLE",
        Statement::CreateIndex(_) => "CREATE INDEX",
        Statement::CreateView { .. } => "CREATE VIEW",
        Statement::CreateSequence { .. } => "CREATE SEQUENCE",
        Statement::CreateSchema { .. } => "CREATE SCHEMA",
        Statement::CreateFunction { .. } => "CREATE FUNCTION",
        Statement::AlterTable { .. } => "ALTER TABLE",
        Statement::AlterIndex { .. } => "ALTER INDEX",
        Statement::AlterView { .. } => "ALTER VIEW",
        Statement::Comment { .. } => "COMMENT",
        Statement::Drop { object_type, .. } => {
            return Some(
                format!(
                    "DROP {}",
                    match object_type {
                        ObjectType::Table => "TABLE",
                        ObjectType::View => "VIEW",
                        ObjectType::Index => "INDEX",
                        ObjectType::Sequence => "SEQUENCE",
                        ObjectType::Schema => "SCHEMA",
                        _ => "",
                    }
                )
                .trim_end()
                .to_string(),
            );
        }
        _ => return sequence_step(stmt),
    };
    Some(what.to_string())
}

/// `nextval()` or `setval()` called anywhere in `stmt`.
fn sequence_step(stmt: &Statement) -> Option<String> {
    let found = visit_expressions(stmt, |e| match e {
        Expr::Function(f) => {
            let name = f.name.0.last().map(|i| i.value.to_ascii_lowercase());
            match name.as_deref() {
                Some(n @ ("nextval" | "setval")) => ControlFlow::Break(format!("{n}()")),
                _ => ControlFlow::Continue(()),
            }
        }
        _ => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(what) => Some(what),
        ControlFlow::Continue(()) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::refused;

    fn check(sql: &str) -> Option<String> {
        let stmt = crate::limits::parse(sql).unwrap().pop().unwrap();
        refused(&stmt)
    }

    #[test]
    fn names_what_it_refuses_as_postgresql_does() {
        assert_eq!(check("INSERT INTO t VALUES (1)").as_deref(), Some("INSERT"));
        assert_eq!(check("UPDATE t SET a = 1").as_deref(), Some("UPDATE"));
        assert_eq!(check("DELETE FROM t").as_deref(), Some("DELETE"));
        assert_eq!(check("TRUNCATE t").as_deref(), Some("TRUNCATE TABLE"));
        assert_eq!(
            check("CREATE TABLE t (a INT)").as_deref(),
            Some("CREATE TABLE")
        );
        assert_eq!(check("DROP TABLE t").as_deref(), Some("DROP TABLE"));
        assert_eq!(check("DROP VIEW v").as_deref(), Some("DROP VIEW"));
        assert_eq!(
            check("ALTER TABLE t ADD COLUMN b INT").as_deref(),
            Some("ALTER TABLE")
        );
        assert_eq!(
            check("COPY t FROM 'rows.csv'").as_deref(),
            Some("COPY FROM")
        );
        assert_eq!(check("SELECT nextval('s')").as_deref(), Some("nextval()"));
        assert_eq!(
            check("SELECT a FROM t WHERE a > (SELECT setval('s', 3))").as_deref(),
            Some("setval()")
        );
    }

    #[test]
    fn lets_reads_and_session_statements_run() {
        for sql in [
            "SELECT * FROM t",
            "SELECT currval('s')",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "COPY t TO STDOUT",
            "SHOW transaction_read_only",
            "SET application_name = 'a'",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT a",
            "EXPLAIN SELECT 1",
        ] {
            assert_eq!(check(sql), None, "{sql}");
        }
    }
}

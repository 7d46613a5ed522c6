//! `EXPLAIN`: one text column, "QUERY PLAN", describing how the statement
//! reads its tables. The engine has no cost model, so the lines name the
//! access (a scan of each table the statement reads, the filter applied)
//! without PostgreSQL's cost and row estimates; it is never a data answer.
//! `EXPLAIN ANALYZE` (which runs the statement) is refused.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{visit_relations, SetExpr, Statement};
use heliosdb_core::{DataType, Value};

use crate::store::TableInfo;
use crate::{ColumnInfo, QueryResult, Result, SqlError};

/// The plan of `stmt` (already known to be an `EXPLAIN`'s statement).
///
/// # Errors
/// 0A000 for ANALYZE and options; the statement's own plan-time errors.
pub(crate) fn explain(
    stmt: &Statement,
    analyze: bool,
    has_options: bool,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Result<QueryResult> {
    if analyze || has_options {
        return Err(SqlError::Unsupported(
            "EXPLAIN ANALYZE and EXPLAIN options are not supported (plain EXPLAIN is)".into(),
        ));
    }
    if matches!(stmt, Statement::Query(_)) {
        crate::validate::check(stmt, tables)?;
    }
    let mut lines = Vec::new();
    let head = match stmt {
        Statement::Query(_) => None,
        Statement::Insert(i) => Some(format!("Insert on {}", i.table_name)),
        Statement::Update { table, .. } => Some(format!("Update on {}", table.relation)),
        Statement::Delete(_) => Some("Delete".to_string()),
        _ => {
            return Err(SqlError::Unsupported(
                "EXPLAIN of statements other than SELECT, INSERT, UPDATE and DELETE is not \
                 supported"
                    .into(),
            ))
        }
    };
    let indent = if let Some(h) = head {
        lines.push(h);
        "  ->  "
    } else {
        ""
    };
    let mut seen: Vec<String> = Vec::new();
    let _ = visit_relations(stmt, |name| {
        let n = name.to_string();
        if !seen.contains(&n) {
            seen.push(n);
        }
        ControlFlow::<()>::Continue(())
    });
    let filter = match stmt {
        Statement::Query(q) => match q.body.as_ref() {
            SetExpr::Select(s) => s.selection.as_ref().map(ToString::to_string),
            _ => None,
        },
        Statement::Update { selection, .. } => selection.as_ref().map(ToString::to_string),
        Statement::Delete(d) => d.selection.as_ref().map(ToString::to_string),
        _ => None,
    };
    if seen.is_empty() {
        lines.push(format!("{indent}Result"));
    }
    for t in &seen {
        lines.push(format!("{indent}Seq Scan on {t}"));
    }
    if let Some(f) = filter {
        lines.push(format!("        Filter: ({f})"));
    }
    Ok(QueryResult::Rows {
        columns: vec![ColumnInfo {
            name: "QUERY PLAN".into(),
            data_type: DataType::Text,
        }],
        rows: lines.into_iter().map(|l| vec![Value::String(l)]).collect(),
        tag: "EXPLAIN".into(),
    })
}

//! `EXPLAIN`: one text column, "QUERY PLAN", describing how the statement
//! reads its tables. The engine has no cost model, so only
//! `EXPLAIN (COSTS OFF)` is answered: the lines name the access (a scan of
//! each table the statement reads, the filter applied) in PostgreSQL's
//! layout without cost and row estimates. Plain `EXPLAIN` (whose answer
//! PostgreSQL gives with cost estimates), `EXPLAIN ANALYZE` (which runs the
//! statement) and other options are refused with 0A000.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    visit_relations, Expr, SetExpr, Statement, UtilityOption, Value as SqlValue,
};
use heliosdb_core::{DataType, Value};

use crate::store::TableInfo;
use crate::{ColumnInfo, QueryResult, Result, SqlError};

/// The plan of `stmt` (already known to be an `EXPLAIN`'s statement).
///
/// # Errors
/// 0A000 for ANALYZE, for options other than `COSTS OFF` and without
/// `COSTS OFF`; the statement's own plan-time errors.
pub(crate) fn explain(
    stmt: &Statement,
    analyze: bool,
    options: Option<&[UtilityOption]>,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Result<QueryResult> {
    if analyze {
        return Err(SqlError::Unsupported(
            "EXPLAIN ANALYZE is not supported (EXPLAIN (COSTS OFF) is)".into(),
        ));
    }
    let mut costs_off = false;
    for o in options.unwrap_or_default() {
        if o.name.value.eq_ignore_ascii_case("costs") && o.arg.as_ref().is_some_and(is_off) {
            costs_off = true;
        } else {
            return Err(SqlError::Unsupported(format!(
                "EXPLAIN option {o} is not supported (EXPLAIN (COSTS OFF) is)"
            )));
        }
    }
    if !costs_off {
        return Err(SqlError::Unsupported(
            "EXPLAIN with cost estimates is not supported: there is no cost model \
             (EXPLAIN (COSTS OFF) is)"
                .into(),
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
    let (indent, detail) = if let Some(h) = head {
        lines.push(h);
        ("  ->  ", "        ")
    } else {
        ("", "  ")
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
        lines.push(format!("{detail}Filter: ({f})"));
    }
    Ok(QueryResult::Rows {
        columns: vec![ColumnInfo {
            name: "QUERY PLAN".into(),
            data_type: DataType::Text,
            array_of: None,
            json: None,
        }],
        rows: lines.into_iter().map(|l| vec![Value::String(l)]).collect(),
        tag: "EXPLAIN".into(),
    })
}

/// `OFF`, `FALSE` or `0`: an EXPLAIN option switched off.
fn is_off(arg: &Expr) -> bool {
    match arg {
        Expr::Identifier(i) => ["off", "false", "0"]
            .iter()
            .any(|w| i.value.eq_ignore_ascii_case(w)),
        Expr::Value(SqlValue::Boolean(b)) => !b,
        Expr::Value(SqlValue::Number(n, _)) => n.to_string() == "0",
        Expr::Value(SqlValue::SingleQuotedString(s)) => ["off", "false", "0"]
            .iter()
            .any(|w| s.eq_ignore_ascii_case(w)),
        _ => false,
    }
}

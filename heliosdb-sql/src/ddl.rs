//! PostgreSQL DDL the GlueSQL executor does not have: CHECK constraints,
//! identity columns, `ALTER TABLE`, unique indexes and `DROP INDEX`.
//!
//! CHECK constraints are stored as the user wrote them (`TableMeta::checks`)
//! and compiled once per table definition into a GlueSQL expression plan
//! that answers "is the constraint FALSE for this row?" with PostgreSQL's
//! three-valued logic (NULL passes), through the same rewrite the SQL layer
//! applies to `WHERE` (see [`crate::logic`]).
//!
//! `ALTER TABLE` that changes the engine's columns rebuilds the table: a
//! scratch table with the new schema is filled by streaming the old rows
//! through a conversion, then swapped in for the old one in one atomic
//! engine write ([`heliosdb_core::Catalog::replace_table`]). Like every
//! schema change on the engine it commits at once, so it is refused inside
//! a transaction block (see `Session::run`).

use std::ops::ControlFlow;

use gluesql_core::ast::{ColumnDef as GColumnDef, ColumnUniqueOption};
use gluesql_core::data::Value as GValue;
use gluesql_core::executor::{evaluate_stateless, RowContext};
use gluesql_core::plan::ExprPlan;
use gluesql_core::sqlparser::ast::{
    visit_expressions, visit_expressions_mut, Expr, Ident, SetExpr, Statement,
};
use heliosdb_core::Value;
use serde::{Deserialize, Serialize};

use crate::convert::to_glue;
use crate::store::TableInfo;
use crate::{sqlstate, Result, SqlError};

/// A CHECK constraint as stored: its name and the user's expression text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckDef {
    pub name: String,
    pub expr: String,
}

/// A CHECK constraint ready to evaluate: the plan of `NOT (expr)` made
/// three-valued, true exactly when the row violates the constraint.
#[derive(Clone, Debug)]
pub(crate) struct CompiledCheck {
    pub name: String,
    violated: ExprPlan,
}

fn state(code: &'static str, message: impl Into<String>) -> SqlError {
    SqlError::State {
        code,
        message: message.into(),
    }
}

/// Parses one expression (the text of a stored CHECK or DEFAULT).
pub(crate) fn parse_expr(sql: &str) -> Result<Expr> {
    let mut stmts = crate::limits::parse(&format!("SELECT {sql}"))?;
    if let Some(Statement::Query(q)) = stmts.pop() {
        if let SetExpr::Select(s) = *q.body {
            if let Some(gluesql_core::sqlparser::ast::SelectItem::UnnamedExpr(e)) =
                s.projection.into_iter().next()
            {
                return Ok(e);
            }
        }
    }
    Err(SqlError::Syntax(format!("not an expression: {sql}")))
}

/// Compiles a stored CHECK (see [`CompiledCheck`]).
pub(crate) fn compile_check(def: &CheckDef) -> Result<CompiledCheck> {
    let mut stmts = crate::limits::parse(&format!("SELECT 1 WHERE NOT ({})", def.expr))?;
    let mut stmt = stmts
        .pop()
        .ok_or_else(|| SqlError::Syntax("empty CHECK expression".into()))?;
    let mut sub = false;
    let _ = visit_expressions(&stmt, |e| {
        if matches!(
            e,
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. }
        ) {
            sub = true;
        }
        ControlFlow::<()>::Continue(())
    });
    if sub {
        return Err(state(
            sqlstate::FEATURE_NOT_SUPPORTED,
            "cannot use subquery in check constraint",
        ));
    }
    crate::rewrite::pg_semantics(&mut stmt)?;
    crate::logic::three_valued(&mut stmt)?;
    let Statement::Query(q) = stmt else {
        return Err(SqlError::Syntax("CHECK expression".into()));
    };
    let SetExpr::Select(s) = *q.body else {
        return Err(SqlError::Syntax("CHECK expression".into()));
    };
    let filter = s
        .selection
        .ok_or_else(|| SqlError::Syntax("CHECK expression".into()))?;
    let glue = gluesql_core::translate::translate_expr(&filter, &[]).map_err(|e| {
        SqlError::Unsupported(format!(
            "CHECK ({}) is not supported: {}",
            def.expr,
            crate::sqlstate::from_glue(e)
        ))
    })?;
    Ok(CompiledCheck {
        name: def.name.clone(),
        violated: glue.into(),
    })
}

/// Whether `values` (the table's visible columns, in order) violate `check`.
fn violates(info: &TableInfo, check: &CompiledCheck, values: &[GValue]) -> Result<bool> {
    let columns: Vec<String> = info.columns().map(|c| c.name.clone()).collect();
    let ctx = RowContext::RefVecData {
        columns: &columns,
        values,
    };
    let v = evaluate_stateless(Some(ctx), &check.violated).map_err(sqlstate::from_glue)?;
    let v: GValue = v.try_into().map_err(sqlstate::from_glue)?;
    Ok(matches!(v, GValue::Bool(true)))
}

/// Refuses a row that violates one of the table's CHECK constraints
/// (SQLSTATE 23514, PostgreSQL's message).
pub(crate) fn enforce_checks(
    info: &TableInfo,
    values: &[Value],
) -> gluesql_core::error::Result<()> {
    if info.checks.is_empty() {
        return Ok(());
    }
    let n = info.visible_len();
    let row: Vec<GValue> = values[..n.min(values.len())].iter().map(to_glue).collect();
    for c in &info.checks {
        if violates(info, c, &row).map_err(sqlstate::storage_sql_error)? {
            return Err(sqlstate::storage_error(
                sqlstate::CHECK_VIOLATION,
                format!(
                    "new row for relation \"{}\" violates check constraint \"{}\"",
                    info.meta.schema.table_name, c.name
                ),
            ));
        }
    }
    Ok(())
}

/// Column names an expression mentions, each once, in order of appearance.
fn columns_of(e: &Expr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let _ = visit_expressions(e, |x| {
        let name = match x {
            Expr::Identifier(i) => Some(i.value.clone()),
            Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.clone()),
            _ => None,
        };
        if let Some(n) = name {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

/// PostgreSQL's identifier limit (NAMEDATALEN - 1 bytes).
fn truncate63(mut n: String) -> String {
    while n.len() > 63 {
        n.pop();
    }
    n
}

/// The name PostgreSQL gives an unnamed CHECK: `<table>_<column>_check`
/// when the expression mentions one column, else `<table>_check`; a number
/// is appended while the name is taken.
pub(crate) fn check_name(table: &str, expr: &Expr, taken: &[String]) -> String {
    let cols = columns_of(expr);
    let base = match cols.as_slice() {
        [one] => format!("{table}_{one}_check"),
        _ => format!("{table}_check"),
    };
    let mut name = truncate63(base.clone());
    let mut i = 1;
    while taken.contains(&name) {
        name = truncate63(format!("{base}{i}"));
        i += 1;
    }
    name
}

/// A new CHECK on `table` (the user's text, PostgreSQL's name if unnamed),
/// compiled once to refuse what cannot be evaluated up front.
pub(crate) fn new_check(
    table: &str,
    name: Option<&Ident>,
    expr: &Expr,
    taken: &[String],
) -> Result<CheckDef> {
    let name = match name {
        Some(n) => n.value.clone(),
        None => check_name(table, expr, taken),
    };
    if taken.contains(&name) {
        return Err(state(
            "42710",
            format!("constraint \"{name}\" for relation \"{table}\" already exists"),
        ));
    }
    let def = CheckDef {
        name,
        expr: expr.to_string(),
    };
    compile_check(&def)?;
    Ok(def)
}

/// Renames column `old` to `new` inside a stored expression.
pub(crate) fn rename_in_expr(sql: &str, old: &str, new: &str) -> Result<String> {
    let mut e = parse_expr(sql)?;
    let _ = visit_expressions_mut(&mut e, |x| {
        match x {
            Expr::Identifier(i) if i.value == old => i.value = new.to_string(),
            Expr::CompoundIdentifier(p) => {
                if let Some(i) = p.last_mut().filter(|i| i.value == old) {
                    i.value = new.to_string();
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(e.to_string())
}

/// Whether a stored expression mentions `column`.
pub(crate) fn mentions(sql: &str, column: &str) -> bool {
    parse_expr(sql).is_ok_and(|e| columns_of(&e).iter().any(|c| c == column))
}

/// The value a column's DEFAULT gives (NULL without one).
pub(crate) fn default_value(def: &GColumnDef) -> Result<GValue> {
    let Some(expr) = &def.default else {
        return Ok(GValue::Null);
    };
    let plan: ExprPlan = expr.clone().into();
    let v = evaluate_stateless(None, &plan).map_err(sqlstate::from_glue)?;
    v.try_into().map_err(sqlstate::from_glue)
}

/// Whether the column is the primary key or UNIQUE in GlueSQL's schema.
pub(crate) fn is_unique(def: &GColumnDef) -> bool {
    matches!(def.unique, Some(ColumnUniqueOption { .. }))
}

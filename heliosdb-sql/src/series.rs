//! `generate_series(start, stop [, step])` of integers in `FROM`, the
//! everyday way to make rows (`INSERT … SELECT … FROM generate_series(1,
//! 1000) AS g`). GlueSQL has no such table function, only `SERIES(n)` (the
//! numbers 1 to n in a column `N`); the call becomes a derived table over it:
//!
//! ```sql
//! (SELECT start + ("N" - 1) * step AS g FROM SERIES(count)) AS g
//! ```
//!
//! with `count` worked out here from the arguments, which must be integer
//! constants or parameters (anything else is left to GlueSQL, which refuses
//! it with 0A000); `SELECT generate_series(a, b)` without `FROM` is read as
//! `SELECT … FROM generate_series(a, b)`. The column is named as PostgreSQL names it: by the column
//! alias (`AS g(x)`), else the table alias (`AS g`), else
//! `generate_series`; typed `integer` when the arguments are constants that
//! fit one (PostgreSQL's choice for them), else `bigint`. A zero step is refused
//! as PostgreSQL refuses it (22023). `WITH ORDINALITY` adds the row
//! number (`bigint`), named `ordinality` or by the alias's second column.
//! Timestamps and numerics are not served.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, SelectItem, SetExpr,
    Statement, TableAlias, TableFactor, TableFunctionArgs, TableWithJoins, UnaryOperator,
    Value as SqlValue, VisitMut, VisitorMut,
};
use heliosdb_core::Value;

use crate::{sqlstate, Result, SqlError};

/// An integer argument: a literal (signed) or a parameter with an integer
/// value; `None` when it is something else or (describing) unknown.
fn integer(e: &Expr, params: Option<&[Value]>) -> Option<i64> {
    match e {
        Expr::Value(SqlValue::Number(n, _)) => n.to_string().parse().ok(),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => integer(expr, params)?.checked_neg(),
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => integer(expr, params),
        Expr::Nested(inner) => integer(inner, params),
        Expr::Cast {
            expr, data_type, ..
        } if integer_type(data_type) => integer(expr, params),
        Expr::Value(SqlValue::Placeholder(p)) => {
            let i: usize = p.strip_prefix('$')?.parse().ok()?;
            match params?.get(i.checked_sub(1)?)? {
                Value::Int2(v) => Some(i64::from(*v)),
                Value::Int4(v) => Some(i64::from(*v)),
                Value::Int8(v) => Some(*v),
                _ => None,
            }
        }
        _ => None,
    }
}

fn integer_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int(_)
            | DataType::Integer(_)
            | DataType::SmallInt(_)
            | DataType::BigInt(_)
            | DataType::Int2(_)
            | DataType::Int4(_)
            | DataType::Int8(_)
    )
}

/// The parameter an argument is (`$n`, or `$n` cast to an integer type).
fn placeholder(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(SqlValue::Placeholder(p)) => Some(p),
        Expr::Nested(inner) => placeholder(inner),
        Expr::Cast {
            expr, data_type, ..
        } if integer_type(data_type) => placeholder(expr),
        _ => None,
    }
}

/// How many values `start`, `start + step`, … stay within `stop`.
fn count(start: i64, stop: i64, step: i64) -> i64 {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let n = if step > 0 {
        (stop - start).div_euclid(step) + 1
    } else {
        (start - stop).div_euclid(-step) + 1
    };
    i64::try_from(n.max(0)).unwrap_or(i64::MAX)
}

struct Series<'p> {
    /// The statement's parameters; `None` while describing (the count does
    /// not matter then, only the shape).
    params: Option<&'p [Value]>,
    error: Option<SqlError>,
}

impl Series<'_> {
    fn replace(&self, factor: &TableFactor) -> Result<Option<TableFactor>> {
        let TableFactor::Table {
            name,
            alias,
            args: Some(args),
            with_ordinality,
            ..
        } = factor
        else {
            return Ok(None);
        };
        let function = match name.0.as_slice() {
            [f] => f,
            [schema, f] if schema.value.eq_ignore_ascii_case("pg_catalog") => f,
            _ => return Ok(None),
        };
        if !function.value.eq_ignore_ascii_case("generate_series") || args.settings.is_some() {
            return Ok(None);
        }
        let exprs: Option<Vec<&Expr>> = args
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect();
        let Some(exprs) = exprs.filter(|e| e.len() == 2 || e.len() == 3) else {
            return Ok(None);
        };
        let one = Expr::Value(SqlValue::Number(1.into(), false));
        let (start, stop, step) = (exprs[0], exprs[1], exprs.get(2).copied().unwrap_or(&one));
        let known = |e: &Expr| integer(e, self.params);
        let n = match self.params {
            Some(_) => {
                let (Some(a), Some(b), Some(s)) = (known(start), known(stop), known(step)) else {
                    return Ok(None);
                };
                if s == 0 {
                    return Err(SqlError::State {
                        code: sqlstate::INVALID_PARAMETER_VALUE,
                        message: "step size cannot equal zero".into(),
                    });
                }
                count(a, b, s)
            }
            // Describing: only the shape and the parameters' places count.
            None => {
                let usable = |e: &Expr| placeholder(e).is_some() || known(e).is_some();
                if !(usable(start) && usable(stop) && usable(step)) {
                    return Ok(None);
                }
                0
            }
        };
        let column = alias
            .as_ref()
            .map(|a| a.columns.first().unwrap_or(&a.name).clone())
            .unwrap_or_else(|| Ident::new("generate_series"));
        // `WITH ORDINALITY`: a second column numbering the rows from 1.
        let ordinality = if *with_ordinality {
            let name = alias
                .as_ref()
                .and_then(|a| a.columns.get(1).cloned())
                .unwrap_or_else(|| Ident::new("ordinality"));
            format!(", \"N\" AS {name}")
        } else {
            String::new()
        };
        let table = alias
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| Ident::new("generate_series"));
        // `integer` when every argument is an integer constant that fits
        // one (as PostgreSQL picks generate_series(integer, integer));
        // `bigint` otherwise, and whenever a parameter is among them, so
        // that describing and running agree.
        let fits = |e: &Expr| {
            placeholder(e).is_none() && integer(e, None).is_some_and(|v| i32::try_from(v).is_ok())
        };
        let ty = if fits(start) && fits(stop) && fits(step) {
            "INTEGER"
        } else {
            "BIGINT"
        };
        // Parameters are cast too, so describing types them.
        let operand = |e: &Expr| match placeholder(e) {
            Some(p) => format!("CAST({p} AS BIGINT)"),
            None => format!("({e})"),
        };
        let sql = format!(
            "SELECT CAST({} + (\"N\" - 1) * {} AS {ty}) AS {column}{ordinality} FROM SERIES({n})",
            operand(start),
            operand(step),
        );
        let Some(Statement::Query(q)) = crate::limits::parse(&sql)?.pop() else {
            return Err(SqlError::Engine(
                "generate_series: internal rewrite failed".into(),
            ));
        };
        debug_assert!(matches!(*q.body, SetExpr::Select(_)));
        Ok(Some(TableFactor::Derived {
            lateral: false,
            subquery: q,
            alias: Some(TableAlias {
                name: table,
                columns: Vec::new(),
            }),
        }))
    }
}

impl VisitorMut for Series<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        match self.replace(factor) {
            Ok(Some(derived)) => *factor = derived,
            Ok(None) => {}
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// Whether `e` calls `generate_series` (bare or `pg_catalog.`).
fn is_series_call(e: &Expr) -> bool {
    let Expr::Function(f) = e else {
        return false;
    };
    match f.name.0.as_slice() {
        [n] => n.value.eq_ignore_ascii_case("generate_series"),
        [schema, n] => {
            schema.value.eq_ignore_ascii_case("pg_catalog")
                && n.value.eq_ignore_ascii_case("generate_series")
        }
        _ => false,
    }
}

/// `SELECT generate_series(a, b) [AS x], <constants>` without `FROM` is
/// `SELECT x, <constants> FROM generate_series(a, b) AS x`, as PostgreSQL
/// runs it (one row per value). Other set-returning uses in a select list
/// (beside a `FROM`, several at once, inside an expression) are left alone
/// and refused later.
fn select_list_call(stmt: &mut Statement) {
    let Statement::Query(q) = stmt else {
        return;
    };
    let SetExpr::Select(select) = q.body.as_mut() else {
        return;
    };
    if !select.from.is_empty() {
        return;
    }
    let calls: Vec<usize> = select
        .projection
        .iter()
        .enumerate()
        .filter(|(_, item)| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                is_series_call(e)
            }
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let [i] = calls.as_slice() else {
        return;
    };
    let (call, label) = match &select.projection[*i] {
        SelectItem::UnnamedExpr(e) => (e.clone(), Ident::new("generate_series")),
        SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), alias.clone()),
        _ => return,
    };
    let Expr::Function(f) = call else {
        return;
    };
    let FunctionArguments::List(list) = f.args else {
        return;
    };
    if list.duplicate_treatment.is_some()
        || !list.clauses.is_empty()
        || f.over.is_some()
        || f.filter.is_some()
    {
        return;
    }
    select.projection[*i] = SelectItem::UnnamedExpr(Expr::Identifier(label.clone()));
    select.from.push(TableWithJoins {
        relation: TableFactor::Table {
            name: f.name,
            alias: Some(TableAlias {
                name: label,
                columns: Vec::new(),
            }),
            args: Some(TableFunctionArgs {
                args: list.args,
                settings: None,
            }),
            with_hints: Vec::new(),
            version: None,
            with_ordinality: false,
            partitions: Vec::new(),
        },
        joins: Vec::new(),
    });
}

/// Rewrites the `generate_series` calls in `FROM`, and one alone in the
/// select list of a `SELECT` without `FROM` (see the module docs);
/// `params`: `None` while describing.
pub(crate) fn rewrite(stmt: &mut Statement, params: Option<&[Value]>) -> Result<()> {
    select_list_call(stmt);
    let mut s = Series {
        params,
        error: None,
    };
    let _ = stmt.visit(&mut s);
    s.error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_as_postgresql_steps() {
        assert_eq!(count(1, 5, 1), 5);
        assert_eq!(count(1, 5, 2), 3);
        assert_eq!(count(5, 1, -2), 3);
        assert_eq!(count(5, 1, 1), 0);
        assert_eq!(count(1, 5, -1), 0);
        assert_eq!(count(0, 0, 7), 1);
        assert_eq!(count(i64::MIN, i64::MAX, i64::MAX), 3);
    }
}

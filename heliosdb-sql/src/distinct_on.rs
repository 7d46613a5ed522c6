//! `SELECT DISTINCT ON (e, …) items … ORDER BY o, …`, which GlueSQL does
//! not run, as what PostgreSQL defines it to be — the first row of each
//! group of equal `e, …` (NULLs equal) in `ORDER BY` order:
//!
//! ```sql
//! SELECT d.c1 AS "label1", …
//! FROM (SELECT item1 AS c1, …, o1 AS o1, …,
//!              row_number() OVER (PARTITION BY e, … ORDER BY o, …) AS rn
//!       FROM … WHERE …) AS d
//! WHERE d.rn = 1
//! ORDER BY d.o1, …  LIMIT … OFFSET …
//! ```
//!
//! (with reserved names). `ORDER BY` and `DISTINCT ON` may name output
//! columns by label or position, as in PostgreSQL, and the leftmost
//! `ORDER BY` expressions must be `DISTINCT ON` ones (42P10 otherwise).
//! `*` in the select list, `GROUP BY`, `HAVING` and row locks are refused
//! with `0A000`.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    Distinct, Expr, Ident, OrderByExpr, Query, SelectItem, SetExpr, Statement, Value as SqlValue,
    VisitMut, VisitorMut,
};

use crate::sqlstate::{AMBIGUOUS_COLUMN, FEATURE_NOT_SUPPORTED};
use crate::{Result, SqlError};

/// PostgreSQL's `invalid_column_reference`.
const INVALID_COLUMN_REFERENCE: &str = "42P10";

fn unsupported(what: &str) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: format!("SELECT DISTINCT ON {what} is not supported"),
    }
}

/// Rewrites every `SELECT DISTINCT ON` of `stmt` (see the module).
pub(crate) fn rewrite(stmt: &mut Statement) -> Result<()> {
    struct V(Option<SqlError>);
    impl VisitorMut for V {
        type Break = ();
        fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            match query(q) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    self.0 = Some(e);
                    ControlFlow::Break(())
                }
            }
        }
    }
    let mut v = V(None);
    let _ = stmt.visit(&mut v);
    v.0.map_or(Ok(()), Err)
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// ` ORDER BY a, b`, or nothing without keys.
fn order_by(mut keys: impl Iterator<Item = String>) -> String {
    match keys.next() {
        None => String::new(),
        Some(first) => format!(" ORDER BY {}", list(std::iter::once(first).chain(keys))),
    }
}

/// A label as a quoted identifier.
fn quoted(label: &str) -> String {
    format!("\"{}\"", label.replace('"', "\"\""))
}

fn query(q: &mut Query) -> Result<()> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Ok(());
    };
    let Some(Distinct::On(on)) = &s.distinct else {
        return Ok(());
    };
    let grouped = !matches!(
        &s.group_by,
        gluesql_core::sqlparser::ast::GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty()
    );
    if grouped || s.having.is_some() {
        return Err(unsupported("with GROUP BY or HAVING"));
    }
    if !q.locks.is_empty() || q.fetch.is_some() || !q.limit_by.is_empty() {
        return Err(unsupported("with FOR UPDATE, FETCH or LIMIT BY"));
    }
    let labels = crate::infer::select_labels(q).ok_or_else(|| unsupported("with *"))?;
    let items: Vec<&Expr> = s
        .projection
        .iter()
        .map(|p| match p {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Ok(e),
            _ => Err(unsupported("with *")),
        })
        .collect::<Result<_>>()?;
    // An output column named by position or label, else the expression.
    let resolve = |e: &Expr, clause: &str| -> Result<Expr> {
        match e {
            Expr::Value(SqlValue::Number(n, _)) => {
                let k: usize = n.to_string().parse().unwrap_or(0);
                match k.checked_sub(1).and_then(|i| items.get(i)) {
                    Some(item) => Ok((*item).clone()),
                    None => Err(SqlError::State {
                        code: INVALID_COLUMN_REFERENCE,
                        message: format!("{clause} position {n} is not in select list"),
                    }),
                }
            }
            Expr::Identifier(i) => {
                let named: Vec<&Expr> = labels
                    .iter()
                    .zip(&items)
                    .filter(|(l, _)| **l == i.value)
                    .map(|(_, e)| *e)
                    .collect();
                match named.as_slice() {
                    [] => Ok(e.clone()),
                    [first, rest @ ..] if rest.iter().all(|x| x == first) => Ok((*first).clone()),
                    _ => Err(SqlError::State {
                        code: AMBIGUOUS_COLUMN,
                        message: format!("{clause} \"{}\" is ambiguous", i.value),
                    }),
                }
            }
            other => Ok(other.clone()),
        }
    };
    let on: Vec<Expr> = on
        .iter()
        .map(|e| resolve(e, "DISTINCT ON"))
        .collect::<Result<_>>()?;
    let order: Vec<OrderByExpr> = q
        .order_by
        .iter()
        .flat_map(|o| o.exprs.iter())
        .map(|o| {
            Ok(OrderByExpr {
                expr: resolve(&o.expr, "ORDER BY")?,
                ..o.clone()
            })
        })
        .collect::<Result<_>>()?;
    if order.iter().take(on.len()).any(|o| !on.contains(&o.expr)) {
        return Err(SqlError::State {
            code: INVALID_COLUMN_REFERENCE,
            message: "SELECT DISTINCT ON expressions must match initial ORDER BY expressions"
                .into(),
        });
    }
    const D: &str = "__heliosdb_distinct_on";
    let mut inner: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{e} AS __c{i}"))
        .collect();
    inner.extend(
        order
            .iter()
            .enumerate()
            .map(|(j, o)| format!("{} AS __o{j}", o.expr)),
    );
    let partition = list(on.iter().map(ToString::to_string));
    let window_order = order_by(order.iter().map(ToString::to_string));
    inner.push(format!(
        "row_number() OVER (PARTITION BY {partition}{window_order}) AS __rn"
    ));
    let mut body = s.clone();
    body.distinct = None;
    body.projection = Vec::new();
    // The select without its list, as text: `SELECT FROM … WHERE …`.
    let rest = body.to_string();
    let rest = rest
        .strip_prefix("SELECT ")
        .or_else(|| rest.strip_prefix("SELECT"))
        .unwrap_or(&rest);
    let outer: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{D}.__c{i} AS {}", quoted(l)))
        .collect();
    // The same keys, as the derived table's columns.
    let outer_order = order_by(order.iter().enumerate().map(|(j, o)| {
        OrderByExpr {
            expr: Expr::Identifier(Ident::new(format!("{D}.__o{j}"))),
            ..o.clone()
        }
        .to_string()
    }));
    let limit = q
        .limit
        .as_ref()
        .map(|l| format!(" LIMIT {l}"))
        .unwrap_or_default();
    let offset = q
        .offset
        .as_ref()
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    let text = format!(
        "SELECT {} FROM (SELECT {} {rest}) AS {D} WHERE {D}.__rn = 1{outer_order}{limit}{offset}",
        outer.join(", "),
        inner.join(", "),
    );
    let Some(Statement::Query(new)) = crate::limits::parse(&text)?.pop() else {
        return Err(unsupported("in this form"));
    };
    let with = q.with.take();
    *q = *new;
    q.with = with;
    Ok(())
}

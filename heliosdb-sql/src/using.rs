//! `JOIN … USING (c, …)` and `NATURAL JOIN`, which GlueSQL does not run,
//! as the `JOIN … ON` PostgreSQL defines them to be:
//!
//! - the condition is `l.c = r.c AND …` for each named column (for
//!   `NATURAL`, each column name the two sides share; none makes it a cross
//!   join);
//! - the joined relation has each named column once — the left side's value
//!   for an inner or left join, the right side's for a right join — first,
//!   in the order named, then the left side's other columns, then the right
//!   side's: that is what `SELECT *` lists, and an unqualified name of a
//!   merged column means the merged column (elsewhere it would be
//!   ambiguous).
//!
//! Both sides must be tables, views or derived tables whose column names
//! are known here; anything else (a CTE, a function, a nested join, a
//! `FULL` join) is refused with `0A000` rather than guessed. A name missing
//! on a side, or found twice on the left, is PostgreSQL's error.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    BinaryOperator, Expr, Ident, Join, JoinConstraint, JoinOperator, ObjectName, Query, Select,
    SelectItem, SetExpr, Statement, TableFactor, TableWithJoins, VisitMut, VisitorMut,
    WildcardAdditionalOptions,
};

use crate::sqlstate::{AMBIGUOUS_COLUMN, FEATURE_NOT_SUPPORTED, UNDEFINED_COLUMN};
use crate::store::TableInfo;
use crate::{Result, SqlError};

type Tables = BTreeMap<String, Arc<TableInfo>>;

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: what.into(),
    }
}

/// One column of a joined relation: its name and what reads it.
#[derive(Clone, Debug)]
struct Col {
    name: String,
    expr: Expr,
    /// A column `USING` merged from both sides.
    merged: bool,
}

/// Rewrites every `USING`/`NATURAL` join of `stmt` (see the module).
pub(crate) fn rewrite(stmt: &mut Statement, tables: &Tables) -> Result<()> {
    let mut v = Rewriter {
        tables,
        error: None,
    };
    let _ = stmt.visit(&mut v);
    v.error.map_or(Ok(()), Err)
}

struct Rewriter<'t> {
    tables: &'t Tables,
    error: Option<SqlError>,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let ctes: Vec<String> = query
            .with
            .iter()
            .flat_map(|w| w.cte_tables.iter().map(|c| c.alias.name.value.clone()))
            .collect();
        match body(&mut query.body, self.tables, &ctes) {
            Ok(merged) => {
                if let (SetExpr::Select(s), Some(order)) =
                    (query.body.as_ref(), &mut query.order_by)
                {
                    order_by(s, &merged, &mut order.exprs);
                }
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// Rewrites the joins of a query body; for a SELECT, returns the merged
/// columns its unqualified names may read (see [`select`]).
fn body(b: &mut SetExpr, tables: &Tables, ctes: &[String]) -> Result<Vec<(String, Expr)>> {
    match b {
        SetExpr::Select(s) => select(s, tables, ctes),
        SetExpr::SetOperation { left, right, .. } => {
            body(left, tables, ctes)?;
            body(right, tables, ctes)?;
            Ok(Vec::new())
        }
        _ => Ok(Vec::new()),
    }
}

/// `ORDER BY name` of a merged column: PostgreSQL reads a bare name as an
/// output column first, so it is the merged column only where no output
/// column of that name is something else.
fn order_by(
    s: &Select,
    merged: &[(String, Expr)],
    exprs: &mut [gluesql_core::sqlparser::ast::OrderByExpr],
) {
    let output = |name: &str| -> Vec<&Expr> {
        s.projection
            .iter()
            .filter_map(|p| match p {
                SelectItem::ExprWithAlias { expr, alias } if alias.value == name => Some(expr),
                SelectItem::UnnamedExpr(e @ Expr::CompoundIdentifier(parts))
                    if parts.last().is_some_and(|i| i.value == name) =>
                {
                    Some(e)
                }
                SelectItem::UnnamedExpr(e @ Expr::Identifier(i)) if i.value == name => Some(e),
                _ => None,
            })
            .collect()
    };
    for o in exprs {
        let Expr::Identifier(i) = &o.expr else {
            continue;
        };
        let Some((_, to)) = merged.iter().find(|(n, _)| *n == i.value) else {
            continue;
        };
        if output(&i.value).iter().all(|e| *e == to) {
            o.expr = to.clone();
        }
    }
}

/// Whether join `j` is a `USING` or `NATURAL` one (it merges same-named
/// columns).
pub(crate) fn uses(j: &Join) -> bool {
    matches!(
        &j.join_operator,
        JoinOperator::Inner(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c)
            if matches!(c, JoinConstraint::Using(_) | JoinConstraint::Natural)
    )
}

/// A name as an identifier: quoted unless the parser would read it back
/// unchanged.
fn ident(name: &str) -> Ident {
    let plain = name
        .bytes()
        .enumerate()
        .all(|(i, b)| b == b'_' || b.is_ascii_lowercase() || (i > 0 && b.is_ascii_digit()));
    if plain && !name.is_empty() {
        Ident::new(name)
    } else {
        Ident::with_quote('"', name)
    }
}

/// The name a relation's columns are qualified with, and their names; `None`
/// when this module cannot know them.
fn relation(
    factor: &TableFactor,
    tables: &Tables,
    ctes: &[String],
) -> Result<(Ident, Vec<String>)> {
    match factor {
        TableFactor::Table {
            name: ObjectName(parts),
            alias,
            args: None,
            ..
        } => {
            let table = match parts.as_slice() {
                [t] => t,
                [s, t] if s.value == "public" => t,
                _ => {
                    return Err(unsupported(format!(
                        "JOIN … USING with relation {} is not supported",
                        ObjectName(parts.clone())
                    )))
                }
            };
            let info = match tables.get(&table.value) {
                Some(info) if !(parts.len() == 1 && ctes.contains(&table.value)) => info,
                _ => {
                    return Err(unsupported(format!(
                        "JOIN … USING with {} (not a table or view) is not supported",
                        table.value
                    )))
                }
            };
            let mut names: Vec<String> = info.columns().map(|c| c.name.clone()).collect();
            let qualifier = match alias {
                Some(a) => {
                    rename(&mut names, &a.columns);
                    a.name.clone()
                }
                None => table.clone(),
            };
            Ok((qualifier, names))
        }
        TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(alias),
        } => {
            let mut names = output_names(subquery).ok_or_else(|| {
                unsupported(format!(
                    "JOIN … USING with derived table {} whose column names are not plain is not \
                     supported",
                    alias.name
                ))
            })?;
            rename(&mut names, &alias.columns);
            Ok((alias.name.clone(), names))
        }
        other => Err(unsupported(format!(
            "JOIN … USING with {other} is not supported"
        ))),
    }
}

/// Column aliases `t (a, b)` rename the first columns.
fn rename(names: &mut [String], aliases: &[Ident]) {
    for (n, a) in names.iter_mut().zip(aliases) {
        n.clone_from(&a.value);
    }
}

/// The output column names of a derived table's query, when each item is a
/// named column or has an alias.
fn output_names(q: &Query) -> Option<Vec<String>> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    s.projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.clone()),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(p)) => {
                p.last().map(|i| i.value.clone())
            }
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            _ => None,
        })
        .collect()
}

fn column_of(q: &Ident, name: &str) -> Expr {
    Expr::CompoundIdentifier(vec![q.clone(), ident(name)])
}

fn state(code: &'static str, message: String) -> SqlError {
    SqlError::State { code, message }
}

/// The one column named `n` of a join's `side`, or PostgreSQL's error.
fn named_once<'c>(cols: &'c [Col], n: &str, side: &str) -> Result<&'c Col> {
    let found: Vec<&Col> = cols.iter().filter(|c| c.name == n).collect();
    match found.as_slice() {
        [c] => Ok(c),
        [] => Err(state(
            UNDEFINED_COLUMN,
            format!("column \"{n}\" specified in USING clause does not exist in {side} table"),
        )),
        _ => Err(state(
            AMBIGUOUS_COLUMN,
            format!("common column name \"{n}\" appears more than once in {side} table"),
        )),
    }
}

/// Rewrites one FROM item's `USING`/`NATURAL` joins; returns the item's
/// columns and its merged ones (name, expression).
fn item(twj: &mut TableWithJoins, tables: &Tables, ctes: &[String]) -> Result<Vec<Col>> {
    let (q, names) = relation(&twj.relation, tables, ctes)?;
    let mut left: Vec<Col> = names
        .iter()
        .map(|n| Col {
            name: n.clone(),
            expr: column_of(&q, n),
            merged: false,
        })
        .collect();
    for j in &mut twj.joins {
        let (rq, rnames) = relation(&j.relation, tables, ctes)?;
        let right: Vec<Col> = rnames
            .iter()
            .map(|n| Col {
                name: n.clone(),
                expr: column_of(&rq, n),
                merged: false,
            })
            .collect();
        let (constraint, kind) = match &mut j.join_operator {
            JoinOperator::Inner(c) => (c, 'i'),
            JoinOperator::LeftOuter(c) => (c, 'l'),
            JoinOperator::RightOuter(c) => (c, 'r'),
            JoinOperator::FullOuter(JoinConstraint::Using(_) | JoinConstraint::Natural) => {
                return Err(unsupported("FULL JOIN is not supported"))
            }
            JoinOperator::FullOuter(_) | JoinOperator::CrossJoin => {
                left.extend(right);
                continue;
            }
            other => return Err(unsupported(format!("join {other:?} is not supported"))),
        };
        let named: Vec<String> = match constraint {
            JoinConstraint::Using(ids) => ids.iter().map(|i| i.value.clone()).collect(),
            JoinConstraint::Natural => {
                let mut seen = Vec::new();
                for c in &left {
                    if right.iter().any(|r| r.name == c.name) && !seen.contains(&c.name) {
                        seen.push(c.name.clone());
                    }
                }
                seen
            }
            _ => {
                left.extend(right);
                continue;
            }
        };
        let mut on: Option<Expr> = None;
        let mut merged = Vec::new();
        for (i, n) in named.iter().enumerate() {
            if named[..i].contains(n) {
                return Err(state(
                    crate::sqlstate::DUPLICATE_COLUMN,
                    format!("column name \"{n}\" appears more than once in USING clause"),
                ));
            }
            let l = named_once(&left, n, "left")?;
            let r = named_once(&right, n, "right")?;
            let eq = Expr::BinaryOp {
                left: Box::new(l.expr.clone()),
                op: BinaryOperator::Eq,
                right: Box::new(r.expr.clone()),
            };
            on = Some(match on {
                None => eq,
                Some(prev) => Expr::BinaryOp {
                    left: Box::new(prev),
                    op: BinaryOperator::And,
                    right: Box::new(eq),
                },
            });
            merged.push(Col {
                name: n.clone(),
                expr: if kind == 'r' {
                    r.expr.clone()
                } else {
                    l.expr.clone()
                },
                merged: true,
            });
        }
        *constraint = JoinConstraint::On(on.unwrap_or(Expr::Value(
            gluesql_core::sqlparser::ast::Value::Boolean(true),
        )));
        let rest_left = left.into_iter().filter(|c| !named.contains(&c.name));
        let rest_right = right.into_iter().filter(|c| !named.contains(&c.name));
        left = merged
            .into_iter()
            .chain(rest_left)
            .chain(rest_right)
            .collect();
    }
    Ok(left)
}

/// `q.*` for each relation of a FROM item without `USING` joins.
fn wildcards(twj: &TableWithJoins) -> Result<Vec<SelectItem>> {
    std::iter::once(&twj.relation)
        .chain(twj.joins.iter().map(|j| &j.relation))
        .map(|f| {
            let q = match f {
                TableFactor::Table { alias: Some(a), .. }
                | TableFactor::Derived { alias: Some(a), .. } => a.name.clone(),
                TableFactor::Table { name, .. } => name.0.last().cloned().ok_or_else(|| {
                    unsupported("SELECT * with JOIN … USING and this relation is not supported")
                })?,
                other => {
                    return Err(unsupported(format!(
                        "SELECT * with JOIN … USING and {other} is not supported"
                    )))
                }
            };
            Ok(SelectItem::QualifiedWildcard(
                ObjectName(vec![q]),
                WildcardAdditionalOptions::default(),
            ))
        })
        .collect()
}

/// The columns of a FROM item without `USING` joins, where known (only to
/// find the names that would be ambiguous).
fn plain_columns(twj: &TableWithJoins, tables: &Tables, ctes: &[String]) -> Vec<Col> {
    std::iter::once(&twj.relation)
        .chain(twj.joins.iter().map(|j| &j.relation))
        .filter_map(|f| relation(f, tables, ctes).ok())
        .flat_map(|(q, names)| {
            names.into_iter().map(move |n| Col {
                expr: column_of(&q, &n),
                name: n,
                merged: false,
            })
        })
        .collect()
}

fn select(s: &mut Select, tables: &Tables, ctes: &[String]) -> Result<Vec<(String, Expr)>> {
    if !s.from.iter().any(|t| t.joins.iter().any(uses)) {
        return Ok(Vec::new());
    }
    // Per FROM item: its columns, and what `SELECT *` lists of it — its
    // columns when it has USING joins (rewritten), else `q.*` per relation.
    let mut all: Vec<Col> = Vec::new();
    let mut star: Vec<SelectItem> = Vec::new();
    for twj in &mut s.from {
        if twj.joins.iter().any(uses) {
            let cols = item(twj, tables, ctes)?;
            star.extend(cols.iter().map(|c| SelectItem::ExprWithAlias {
                expr: c.expr.clone(),
                alias: ident(&c.name),
            }));
            all.extend(cols);
        } else {
            star.extend(wildcards(twj)?);
            all.extend(plain_columns(twj, tables, ctes));
        }
    }
    let mut projection = Vec::with_capacity(s.projection.len());
    for p in std::mem::take(&mut s.projection) {
        match p {
            SelectItem::Wildcard(opts) => {
                if opts != WildcardAdditionalOptions::default() {
                    return Err(unsupported(
                        "SELECT * EXCLUDE/REPLACE with JOIN … USING is not supported",
                    ));
                }
                projection.extend(star.iter().cloned());
            }
            other => projection.push(other),
        }
    }
    s.projection = projection;
    // An unqualified name of a merged column means it — when no other
    // column of the FROM list has that name (PostgreSQL finds it ambiguous
    // then) — in this SELECT only: a subquery resolves its own names first.
    let names: Vec<(String, Expr)> = all
        .iter()
        .filter(|c| c.merged && all.iter().filter(|o| o.name == c.name).count() == 1)
        .map(|c| (c.name.clone(), c.expr.clone()))
        .collect();
    let mut q = Qualify {
        names: &names,
        depth: 0,
    };
    for p in &mut s.projection {
        if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = p {
            let _ = e.visit(&mut q);
        }
    }
    if let Some(w) = &mut s.selection {
        let _ = w.visit(&mut q);
    }
    if let Some(h) = &mut s.having {
        let _ = h.visit(&mut q);
    }
    if let gluesql_core::sqlparser::ast::GroupByExpr::Expressions(g, _) = &mut s.group_by {
        for e in g {
            let _ = e.visit(&mut q);
        }
    }
    Ok(names)
}

struct Qualify<'n> {
    names: &'n [(String, Expr)],
    depth: usize,
}

impl VisitorMut for Qualify<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            if let Expr::Identifier(i) = e {
                if let Some((_, to)) = self.names.iter().find(|(n, _)| *n == i.value) {
                    *e = to.clone();
                }
            }
        }
        ControlFlow::Continue(())
    }
}

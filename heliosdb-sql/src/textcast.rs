//! Casts to text (`x::text`, `CAST(x AS VARCHAR)`, `'a' || x`, the
//! arguments `concat` casts) of the types whose GlueSQL text differs from
//! PostgreSQL's: GlueSQL prints `TRUE`, `00ff`, `2024-02-29 12:00:00.123`
//! for a timestamptz, `'3 04:05:06.789' DAY TO SECOND` for an interval and
//! `100000000000000000000` for `1e20::float8`.
//!
//! - A cast that is a whole result column of a plain `SELECT` is taken off
//!   the expression: GlueSQL computes the value, and the result is turned
//!   into text by the same code that writes such a column on the wire
//!   ([`finish`]), so `iv::text` is exactly what `iv` is sent as.
//! - Elsewhere (inside expressions, WHERE, ORDER BY, GROUP BY, subqueries)
//!   booleans, bytea, dates, times and timestamps are rewritten into an
//!   expression GlueSQL evaluates to PostgreSQL's text; intervals and
//!   double precision there are refused with `0A000`.
//!
//! Types are known from the tables' columns and the casts of the
//! statement (see [`crate::infer`]); an operand of unknown type is left to
//! GlueSQL, which prints integers, numerics, text and uuids as PostgreSQL
//! does.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, GroupByExpr, SelectItem, SetExpr, Statement, Value as SqlValue, VisitMut,
    VisitorMut,
};
use heliosdb_core::{DataType, Value};

use crate::infer::Tables;
use crate::pgfuncs::call;
use crate::{ColumnInfo, Result, SqlError};

/// Whether GlueSQL's text of a `t` value differs from PostgreSQL's.
fn differs(t: DataType) -> bool {
    matches!(
        t,
        DataType::Bool
            | DataType::Bytes
            | DataType::Date
            | DataType::Time
            | DataType::Timestamp
            | DataType::TimestampTz
            | DataType::Interval
            | DataType::Float8
            | DataType::Float4
    )
}

fn is_text(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Text
            | SqlType::String(None)
            | SqlType::Varchar(None)
            | SqlType::CharacterVarying(None)
            | SqlType::CharVarying(None)
    )
}

/// `x` of `CAST(x AS TEXT)` (through parentheses).
fn text_cast_operand(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Nested(inner) => text_cast_operand(inner),
        Expr::Cast {
            expr, data_type, ..
        } if is_text(data_type) => Some(expr),
        _ => None,
    }
}

fn text_cast(e: Expr) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(e),
        data_type: SqlType::Text,
        format: None,
    }
}

fn string(s: &str) -> Expr {
    Expr::Value(SqlValue::SingleQuotedString(s.into()))
}

fn number(n: i64) -> Expr {
    Expr::Value(SqlValue::Number(
        n.to_string().parse().unwrap_or_default(),
        false,
    ))
}

fn concat(parts: Vec<Expr>) -> Expr {
    parts
        .into_iter()
        .reduce(|l, r| Expr::BinaryOp {
            left: Box::new(l),
            op: BinaryOperator::StringConcat,
            right: Box::new(r),
        })
        .unwrap_or_else(|| string(""))
}

fn eq(l: Expr, r: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(l),
        op: BinaryOperator::Eq,
        right: Box::new(r),
    }
}

fn format(x: &Expr, f: &str) -> Expr {
    call("FORMAT", vec![Expr::Nested(Box::new(x.clone())), string(f)])
}

/// `.ffffff` without trailing zeros, empty for whole seconds.
fn fraction(x: &Expr) -> Expr {
    call(
        "RTRIM",
        vec![
            call("RTRIM", vec![format(x, "%.6f"), string("0")]),
            string("."),
        ],
    )
}

fn refused(t: DataType) -> SqlError {
    SqlError::Unsupported(format!(
        "casting {} to text inside an expression is not supported (select the cast as a \
         result column)",
        crate::pg_type_name(t)
    ))
}

/// The expression GlueSQL evaluates to PostgreSQL's text of `x`, a `t`.
fn pg_text(x: &Expr, t: DataType) -> Result<Expr> {
    let nested = || Box::new(Expr::Nested(Box::new(x.clone())));
    Ok(match t {
        DataType::Bool => Expr::Case {
            operand: None,
            conditions: vec![
                Expr::Nested(Box::new(x.clone())),
                Expr::UnaryOp {
                    op: gluesql_core::sqlparser::ast::UnaryOperator::Not,
                    expr: nested(),
                },
            ],
            results: vec![string("true"), string("false")],
            else_result: None,
        },
        DataType::Bytes => concat(vec![string("\\x"), text_cast(*nested())]),
        DataType::Time => concat(vec![format(x, "%H:%M:%S"), fraction(x)]),
        DataType::Date | DataType::Timestamp | DataType::TimestampTz => {
            // chrono's %Y is `-0043` for 44 BC and `+10000` after 9999;
            // PostgreSQL writes `0044-… BC` and `10000-…`.
            let (rest, mut suffix) = match t {
                DataType::Date => ("-%m-%d", Vec::new()),
                _ => ("-%m-%d %H:%M:%S", vec![fraction(x)]),
            };
            if t == DataType::TimestampTz {
                suffix.push(string("+00"));
            }
            let year = format(x, "%Y");
            let sign = call("SUBSTR", vec![year.clone(), number(1), number(1)]);
            let bc_year = call(
                "LPAD",
                vec![
                    text_cast(Expr::BinaryOp {
                        left: Box::new(number(1)),
                        op: BinaryOperator::Minus,
                        right: Box::new(Expr::Cast {
                            kind: CastKind::Cast,
                            expr: Box::new(year.clone()),
                            data_type: SqlType::Int64,
                            format: None,
                        }),
                    }),
                    number(4),
                    string("0"),
                ],
            );
            let with = |head: Vec<Expr>, tail: Option<&str>| {
                let mut parts = head;
                parts.extend(suffix.iter().cloned());
                if let Some(t) = tail {
                    parts.push(string(t));
                }
                concat(parts)
            };
            Expr::Case {
                operand: None,
                conditions: vec![
                    Expr::BinaryOp {
                        left: Box::new(eq(sign.clone(), string("-"))),
                        op: BinaryOperator::Or,
                        right: Box::new(eq(year.clone(), string("0000"))),
                    },
                    eq(sign, string("+")),
                ],
                results: vec![
                    with(vec![bc_year, format(x, rest)], Some(" BC")),
                    with(
                        vec![call("SUBSTR", vec![year, number(2)]), format(x, rest)],
                        None,
                    ),
                ],
                else_result: Some(Box::new(with(vec![format(x, &format!("%Y{rest}"))], None))),
            }
        }
        _ => return Err(refused(t)),
    })
}

struct Nested<'a> {
    typer: &'a dyn Fn(&Expr) -> Option<DataType>,
    error: Option<SqlError>,
}

impl Nested<'_> {
    fn differing(&self, e: &Expr) -> Option<DataType> {
        (self.typer)(e).filter(|t| differs(*t))
    }

    fn expr(&self, e: &mut Expr) -> Result<()> {
        match e {
            Expr::Cast {
                expr, data_type, ..
            } if is_text(data_type) => {
                if let Some(t) = self.differing(expr) {
                    *e = pg_text(expr, t)?;
                }
            }
            // `'a' || x` writes x as its type's output function does.
            Expr::BinaryOp {
                left,
                op: BinaryOperator::StringConcat,
                right,
            } => {
                let literal = |e: &Expr| matches!(e, Expr::Value(SqlValue::SingleQuotedString(_)));
                let bytea_literal = (self.differing(left) == Some(DataType::Bytes)
                    && literal(right))
                    || (self.differing(right) == Some(DataType::Bytes) && literal(left));
                if bytea_literal {
                    // PostgreSQL reads the literal as bytea and concatenates
                    // bytes ('a' || '\x00ff'::bytea is \x6100ff).
                    return Err(SqlError::Unsupported(
                        "bytea || a string literal (bytea concatenation) is not supported".into(),
                    ));
                }
                for side in [left, right] {
                    if let Some(t) = self.differing(side) {
                        **side = pg_text(side, t)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `concat(…, b, …)` writes a boolean as its output function does (`t`,
/// `f`), unlike `b::text` (`true`): the argument `COALESCE(CAST(b AS TEXT),
/// '')` that [`crate::rewrite::pg_semantics`] made becomes
/// `COALESCE(CASE WHEN b THEN 't' WHEN NOT b THEN 'f' END, '')`.
fn concat_booleans(f: &mut Function, typer: &dyn Fn(&Expr) -> Option<DataType>) {
    let is_concat = f
        .name
        .0
        .last()
        .is_some_and(|i| i.value.eq_ignore_ascii_case("concat"));
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    if !is_concat {
        return;
    }
    for arg in &mut list.args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Function(c))) = arg else {
            continue;
        };
        let FunctionArguments::List(inner) = &mut c.args else {
            continue;
        };
        let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) = inner.args.first_mut() else {
            continue;
        };
        let Some(x) = text_cast_operand(e) else {
            continue;
        };
        if typer(x) == Some(DataType::Bool) {
            let x = Expr::Nested(Box::new(x.clone()));
            *e = Expr::Case {
                operand: None,
                conditions: vec![
                    x.clone(),
                    Expr::UnaryOp {
                        op: gluesql_core::sqlparser::ast::UnaryOperator::Not,
                        expr: Box::new(x),
                    },
                ],
                results: vec![string("t"), string("f")],
                else_result: None,
            };
        }
    }
}

impl VisitorMut for Nested<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e {
            concat_booleans(f, self.typer);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match self.expr(e) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                self.error = Some(err);
                ControlFlow::Break(())
            }
        }
    }
}

/// Result columns of the statement that are a cast to text of a type
/// GlueSQL writes differently, when the query is plain enough that taking
/// the cast off changes nothing but the final text: one SELECT without
/// DISTINCT, GROUP BY, HAVING or `*`, whose ORDER BY names no result column
/// by label or position. (column position, the operand's type)
fn top_level(
    stmt: &Statement,
    typer: &dyn Fn(&Expr) -> Option<DataType>,
) -> Vec<(usize, DataType)> {
    let Statement::Query(q) = stmt else {
        return Vec::new();
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Vec::new();
    };
    let grouped = !matches!(&s.group_by, GroupByExpr::Expressions(g, _) if g.is_empty());
    if s.distinct.is_some()
        || grouped
        || s.having.is_some()
        || s.projection.iter().any(|i| {
            matches!(
                i,
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
            )
        })
    {
        return Vec::new();
    }
    let order_names: Vec<String> = q
        .order_by
        .iter()
        .flat_map(|o| o.exprs.iter())
        .filter_map(|o| match &o.expr {
            Expr::Identifier(i) => Some(i.value.to_ascii_lowercase()),
            Expr::Value(SqlValue::Number(..)) => Some(String::new()),
            _ => None,
        })
        .collect();
    if order_names.iter().any(String::is_empty) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, item) in s.projection.iter().enumerate() {
        let (expr, alias) = match item {
            SelectItem::UnnamedExpr(e) => (e, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias)),
            _ => continue,
        };
        let Some(x) = text_cast_operand(expr) else {
            continue;
        };
        // A boolean's output function writes `t`, its cast to text `true`:
        // left to the expression (see `pg_text`).
        let Some(t) = typer(x).filter(|t| differs(*t) && *t != DataType::Bool) else {
            continue;
        };
        let label = match (alias, x) {
            (Some(a), _) => a.value.to_ascii_lowercase(),
            (None, Expr::Identifier(c)) => c.value.to_ascii_lowercase(),
            (None, Expr::CompoundIdentifier(p)) => p
                .last()
                .map(|c| c.value.to_ascii_lowercase())
                .unwrap_or_default(),
            (None, _) => String::new(),
        };
        if order_names.contains(&label) {
            continue;
        }
        out.push((i, t));
    }
    out
}

fn item_expr(stmt: &mut Statement, i: usize) -> Option<&mut Expr> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    let SetExpr::Select(s) = q.body.as_mut() else {
        return None;
    };
    match s.projection.get_mut(i)? {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    }
}

/// Rewrites the casts to text of `stmt` (see the module). With `defer`
/// (a statement about to run) the result columns handled by [`finish`]
/// lose their cast and are returned; without it (describing) they keep it.
///
/// # Errors
/// [`SqlError::Unsupported`] for an interval or double precision cast to
/// text inside an expression.
pub(crate) fn rewrite(
    stmt: &mut Statement,
    tables: &Tables,
    defer: bool,
) -> Result<Vec<(usize, DataType)>> {
    let snapshot = stmt.clone();
    let typer = crate::infer::statement_typer(tables, &snapshot);
    let deferred = top_level(stmt, &typer);
    for (i, _) in &deferred {
        if let Some(e) = item_expr(stmt, *i) {
            if let Some(x) = text_cast_operand(e) {
                *e = x.clone();
            }
        }
    }
    let mut v = Nested {
        typer: &typer,
        error: None,
    };
    let _ = stmt.visit(&mut v);
    if let Some(e) = v.error {
        return Err(e);
    }
    if defer {
        return Ok(deferred);
    }
    for (i, _) in &deferred {
        if let Some(e) = item_expr(stmt, *i) {
            *e = text_cast(std::mem::replace(e, Expr::Value(SqlValue::Null)));
        }
    }
    Ok(Vec::new())
}

/// Turns the columns [`rewrite`] took the cast off into PostgreSQL's text
/// of their values (what the server would send for a column of that type).
///
/// # Errors
/// A value that is not of the operand's type.
pub(crate) fn finish(
    deferred: &[(usize, DataType)],
    columns: &mut [ColumnInfo],
    rows: &mut [Vec<Value>],
) -> Result<()> {
    for &(i, t) in deferred {
        if let Some(c) = columns.get_mut(i) {
            c.data_type = DataType::Text;
        }
        for row in rows.iter_mut() {
            if let Some(v) = row.get_mut(i) {
                if !matches!(v, Value::Null) {
                    let typed = crate::session::coerce(std::mem::replace(v, Value::Null), t)?;
                    *v = Value::String(crate::session::text_of(&typed));
                }
            }
        }
    }
    Ok(())
}

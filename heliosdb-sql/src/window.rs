//! Window functions and exact `avg()`, computed in this layer over the rows
//! of a query GlueSQL can run.
//!
//! A top-level `SELECT` whose items hold window calls (`f(…) OVER (…)`) or
//! `avg(…)`, or whose `ORDER BY` says `NULLS FIRST|LAST`, is split in two:
//!
//! 1. an inner query with the same `FROM`, `WHERE`, `GROUP BY` and `HAVING`
//!    that selects everything the outer part needs: the plain items, each
//!    window call's arguments, `PARTITION BY` and `ORDER BY` expressions,
//!    `sum(x)` and `count(x)` for each `avg(x)`, and the statement's sort
//!    keys;
//! 2. the rest, done here on its rows: window values per partition (peers
//!    share `rank()` and the default `RANGE` frame, as PostgreSQL defines),
//!    `avg` as PostgreSQL's exact numeric quotient (its display scale rule,
//!    so `avg(1)` is `1.00000000000000000000`), `+ - * /` between items,
//!    then `ORDER BY`, `OFFSET` and `LIMIT`.
//!
//! Supported: `row_number`, `rank`, `dense_rank`, `percent_rank`,
//! `cume_dist`, `ntile`, `lag`, `lead`, `first_value`, `last_value`,
//! `nth_value`, and `sum`, `count`, `avg`, `min`, `max` over partitions,
//! with `PARTITION BY`, `ORDER BY … [NULLS FIRST|LAST]`, named windows,
//! the default frame, and `ROWS` frames bounded by `UNBOUNDED`, `n
//! PRECEDING|FOLLOWING` or `CURRENT ROW` (`RANGE` only in its default and
//! whole-partition forms). Anything else with a window — a window call
//! inside a function or `CASE`, `DISTINCT`, `GROUPS` frames, windows in
//! subqueries — is refused with `0A000`; windows in `WHERE`, `GROUP BY` or
//! `HAVING` are PostgreSQL's error `42P20`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use gluesql_core::data::value::pg_numeric;
use gluesql_core::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident,
    NamedWindowExpr, OrderByExpr, Query, Select, SelectItem, SetExpr, Statement, Value as SqlValue,
    WindowFrameBound, WindowFrameUnits, WindowSpec, WindowType,
};
use heliosdb_core::{DataType, Value};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::sqlstate::FEATURE_NOT_SUPPORTED;
use crate::{ColumnInfo, Result, SqlError};

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: what.into(),
    }
}

fn is_window(e: &Expr) -> bool {
    let mut found = false;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(e, |x| {
        if matches!(x, Expr::Function(f) if f.over.is_some()) {
            found = true;
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    });
    found
}

/// Whether `q` is a plain SELECT with window calls among its items (run
/// by [`plan`] on its own when it is a derived table or a common table
/// expression: see `session::materialise`).
pub(crate) fn selects_window(q: &Query) -> bool {
    match q.body.as_ref() {
        SetExpr::Select(s) => s.projection.iter().any(|i| match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => is_window(e),
            _ => false,
        }),
        _ => false,
    }
}

fn is_avg(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if f.over.is_none()
        && f.filter.is_none()
        && f.name.to_string().eq_ignore_ascii_case("avg"))
}

pub(crate) fn has_avg(e: &Expr) -> bool {
    let mut found = false;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(e, |x| {
        if is_avg(x) {
            found = true;
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    });
    found
}

/// A result item, evaluated here over an inner row.
#[derive(Debug)]
enum Item {
    /// An inner column as it came.
    Inner(usize),
    /// A window call's value.
    Window(usize),
    /// `avg(x)`: sum and count columns of the inner query.
    Avg { sum: usize, count: usize },
    /// Arithmetic between items.
    Op(Box<Item>, BinaryOperator, Box<Item>),
    /// `item::type`.
    Cast(Box<Item>, CastTo),
}

/// The casts computed here (of window values and averages).
#[derive(Clone, Copy, Debug)]
enum CastTo {
    Int(DataType),
    Numeric(Option<u32>),
    Float,
    Real,
    Text,
}

fn cast_target(t: &gluesql_core::sqlparser::ast::DataType) -> Option<CastTo> {
    use gluesql_core::sqlparser::ast::{DataType as T, ExactNumberInfo};
    Some(match t {
        T::Int(_) | T::Integer(_) | T::Int4(_) => CastTo::Int(DataType::Int4),
        T::SmallInt(_) | T::Int2(_) => CastTo::Int(DataType::Int2),
        T::BigInt(_) | T::Int8(_) => CastTo::Int(DataType::Int8),
        T::Numeric(info) | T::Decimal(info) => CastTo::Numeric(match info {
            ExactNumberInfo::None => None,
            ExactNumberInfo::Precision(_) => Some(0),
            ExactNumberInfo::PrecisionAndScale(_, s) => Some(u32::try_from(*s).ok()?.min(28)),
        }),
        T::Double | T::DoublePrecision | T::Float8 => CastTo::Float,
        T::Real | T::Float4 => CastTo::Real,
        T::Text => CastTo::Text,
        _ => return None,
    })
}

fn cast(v: Value, to: CastTo) -> Result<Value> {
    if matches!(v, Value::Null) {
        return Ok(Value::Null);
    }
    let range = |name: &str| SqlError::State {
        code: "22003",
        message: format!("{name} out of range"),
    };
    // A real converts as its exact double precision value, except to
    // NUMERIC (six significant digits, as PostgreSQL's `float4_numeric`).
    let v = match (v, to) {
        (Value::Float4(f), CastTo::Numeric(_)) => Value::Numeric(
            gluesql_core::data::value::real_to_decimal(f)
                .ok_or_else(|| cannot_cast(&Value::Float4(f), "numeric"))?,
        ),
        (Value::Float4(f), CastTo::Real) => return Ok(Value::Float4(f)),
        (Value::Float4(f), _) => Value::Float8(f64::from(f)),
        (v, _) => v,
    };
    Ok(match to {
        CastTo::Int(t) => {
            let n: i64 = match &v {
                Value::Float8(f) => {
                    let r = f.round_ties_even();
                    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
                        return Err(range("bigint"));
                    }
                    r as i64
                }
                other => match numeric(other) {
                    Some(d) => d
                        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                        .to_i64()
                        .ok_or_else(|| range("bigint"))?,
                    None => return Err(cannot_cast(&v, "integer")),
                },
            };
            match t {
                DataType::Int2 => Value::Int2(i16::try_from(n).map_err(|_| range("smallint"))?),
                DataType::Int4 => Value::Int4(i32::try_from(n).map_err(|_| range("integer"))?),
                _ => Value::Int8(n),
            }
        }
        CastTo::Numeric(scale) => {
            let d = match &v {
                Value::Float8(f) => Decimal::from_f64_retain(*f).ok_or_else(|| range("numeric"))?,
                other => numeric(other).ok_or_else(|| cannot_cast(&v, "numeric"))?,
            };
            Value::Numeric(match scale {
                Some(s) => {
                    let mut r = d.round_dp_with_strategy(s, RoundingStrategy::MidpointAwayFromZero);
                    r.rescale(s);
                    r
                }
                None => d,
            })
        }
        CastTo::Float => match &v {
            Value::Float8(_) => v,
            other => Value::Float8(
                numeric(other)
                    .and_then(|d| d.to_f64())
                    .ok_or_else(|| cannot_cast(&v, "double precision"))?,
            ),
        },
        CastTo::Real => Value::Float4(crate::convert::real_of(match &v {
            Value::Float8(f) => *f,
            other => numeric(other)
                .and_then(|d| d.to_f64())
                .ok_or_else(|| cannot_cast(&v, "real"))?,
        })?),
        CastTo::Text => Value::String(crate::text_of(&v)),
    })
}

fn cannot_cast(v: &Value, to: &str) -> SqlError {
    SqlError::State {
        code: "42846",
        message: format!(
            "cannot cast type {} to {to}",
            crate::pg_type_name(v.data_type().unwrap_or(DataType::Text))
        ),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Bound {
    UnboundedPreceding,
    Preceding(usize),
    CurrentRow,
    Following(usize),
    UnboundedFollowing,
}

/// The frame: `Range` is PostgreSQL's default (`RANGE UNBOUNDED PRECEDING`
/// to the current row's last peer; the whole partition without ORDER BY).
#[derive(Clone, Copy, Debug)]
enum Frame {
    Range,
    Whole,
    Rows(Bound, Bound),
}

#[derive(Debug)]
struct Call {
    name: String,
    args: Vec<usize>,
    star: bool,
    partition: Vec<usize>,
    order: Vec<(usize, bool, bool)>,
    frame: Frame,
}

/// A planned query: run `inner`, then [`Plan::finish`] its rows.
pub(crate) struct Plan {
    pub inner: Query,
    labels: Vec<String>,
    items: Vec<Item>,
    calls: Vec<Call>,
    /// Sort keys over the output (`Ok`) or the inner row (`Err`), with
    /// descending and nulls-first flags.
    order: Vec<(std::result::Result<usize, usize>, bool, bool)>,
    query: Query,
}

struct Builder {
    hidden: Vec<Expr>,
    index: HashMap<String, usize>,
    calls: Vec<Call>,
    named: Vec<(Ident, WindowSpec)>,
}

impl Builder {
    fn column(&mut self, e: &Expr) -> usize {
        let key = e.to_string();
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.hidden.push(e.clone());
        self.index.insert(key, self.hidden.len() - 1);
        self.hidden.len() - 1
    }

    fn item(&mut self, e: &Expr) -> Result<Item> {
        match e {
            Expr::Nested(inner) => self.item(inner),
            Expr::Function(f) if f.over.is_some() => self.window(f).map(Item::Window),
            e if is_avg(e) => {
                let Expr::Function(f) = e else {
                    return Err(unsupported("avg"));
                };
                let mut sum = f.clone();
                sum.name = gluesql_core::sqlparser::ast::ObjectName(vec![Ident::new("sum")]);
                let mut count = f.clone();
                count.name = gluesql_core::sqlparser::ast::ObjectName(vec![Ident::new("count")]);
                Ok(Item::Avg {
                    sum: self.column(&Expr::Function(sum)),
                    count: self.column(&Expr::Function(count)),
                })
            }
            Expr::BinaryOp { left, op, right }
                if matches!(
                    op,
                    BinaryOperator::Plus
                        | BinaryOperator::Minus
                        | BinaryOperator::Multiply
                        | BinaryOperator::Divide
                ) && (is_window(e) || has_avg(e)) =>
            {
                Ok(Item::Op(
                    Box::new(self.item(left)?),
                    op.clone(),
                    Box::new(self.item(right)?),
                ))
            }
            Expr::Cast {
                expr, data_type, ..
            } if is_window(expr) || has_avg(expr) => match cast_target(data_type) {
                Some(to) => Ok(Item::Cast(Box::new(self.item(expr)?), to)),
                None => Err(unsupported(format!(
                    "a cast of a window function or avg() to {data_type} is not supported"
                ))),
            },
            e if is_window(e) => Err(unsupported(
                "a window function inside an expression other than + - * / and casts is not \
                 supported (select it as a column of its own)",
            )),
            e => Ok(Item::Inner(self.column(e))),
        }
    }

    fn spec(&self, over: &WindowType) -> Result<WindowSpec> {
        let mut spec = match over {
            WindowType::WindowSpec(s) => s.clone(),
            WindowType::NamedWindow(name) => WindowSpec {
                window_name: Some(name.clone()),
                partition_by: Vec::new(),
                order_by: Vec::new(),
                window_frame: None,
            },
        };
        // `OVER w` or `OVER (w ORDER BY …)`: the named window's clauses.
        let mut depth = 0;
        while let Some(name) = spec.window_name.take() {
            depth += 1;
            let Some((_, base)) = self.named.iter().find(|(n, _)| n.value == name.value) else {
                return Err(SqlError::State {
                    code: "42704",
                    message: format!("window \"{}\" does not exist", name.value),
                });
            };
            if depth > 16 {
                return Err(unsupported("nested named windows"));
            }
            let mut merged = base.clone();
            if !spec.partition_by.is_empty() {
                return Err(SqlError::State {
                    code: "42P20",
                    message: format!(
                        "cannot override PARTITION BY clause of window \"{}\"",
                        name.value
                    ),
                });
            }
            if !spec.order_by.is_empty() {
                merged.order_by = spec.order_by.clone();
            }
            if spec.window_frame.is_some() {
                merged.window_frame = spec.window_frame.clone();
            }
            spec = merged;
        }
        Ok(spec)
    }

    fn window(&mut self, f: &gluesql_core::sqlparser::ast::Function) -> Result<usize> {
        let name = f.name.to_string().to_ascii_lowercase();
        let Some(over) = &f.over else {
            return Err(unsupported("not a window call"));
        };
        if f.filter.is_some() || f.null_treatment.is_some() {
            return Err(unsupported(format!(
                "FILTER or IGNORE NULLS on window {name}"
            )));
        }
        let known = [
            "row_number",
            "rank",
            "dense_rank",
            "percent_rank",
            "cume_dist",
            "ntile",
            "lag",
            "lead",
            "first_value",
            "last_value",
            "nth_value",
            "sum",
            "count",
            "avg",
            "min",
            "max",
        ];
        if !known.contains(&name.as_str()) {
            return Err(unsupported(format!(
                "window function {name} is not supported"
            )));
        }
        let spec = self.spec(over)?;
        let mut args = Vec::new();
        let mut star = false;
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::List(l) => {
                if l.duplicate_treatment.is_some() || !l.clauses.is_empty() {
                    return Err(unsupported(format!(
                        "DISTINCT or ORDER BY in the arguments of window {name}"
                    )));
                }
                for a in &l.args {
                    match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => {
                            if is_window(e) {
                                return Err(SqlError::State {
                                    code: "42P20",
                                    message: "window function calls cannot be nested".into(),
                                });
                            }
                            args.push(self.column(e));
                        }
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        _ => return Err(unsupported(format!("arguments of window {name}"))),
                    }
                }
            }
            FunctionArguments::Subquery(_) => {
                return Err(unsupported(format!("a subquery as the argument of {name}")))
            }
        }
        let arity_ok = match name.as_str() {
            "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" => args.is_empty(),
            "ntile" | "first_value" | "last_value" | "sum" | "avg" | "min" | "max" => {
                args.len() == 1
            }
            "count" => args.len() == 1 || (star && args.is_empty()),
            "lag" | "lead" => (1..=3).contains(&args.len()),
            "nth_value" => args.len() == 2,
            _ => false,
        };
        if !arity_ok {
            return Err(SqlError::State {
                code: "42883",
                message: format!(
                    "function {name} with {} arguments does not exist",
                    args.len()
                ),
            });
        }
        let partition = spec.partition_by.iter().map(|e| self.column(e)).collect();
        let order = spec
            .order_by
            .iter()
            .map(|o: &OrderByExpr| {
                let desc = o.asc == Some(false);
                (self.column(&o.expr), desc, o.nulls_first.unwrap_or(desc))
            })
            .collect::<Vec<_>>();
        let frame = match &spec.window_frame {
            None if order.is_empty() => Frame::Whole,
            None => Frame::Range,
            Some(fr) => {
                let end = fr.end_bound.clone().unwrap_or(WindowFrameBound::CurrentRow);
                let start = bound(&fr.start_bound)?;
                let end = bound(&end)?;
                match fr.units {
                    WindowFrameUnits::Rows => Frame::Rows(start, end),
                    WindowFrameUnits::Range
                        if start == Bound::UnboundedPreceding
                            && end == Bound::UnboundedFollowing =>
                    {
                        Frame::Whole
                    }
                    WindowFrameUnits::Range
                        if start == Bound::UnboundedPreceding && end == Bound::CurrentRow =>
                    {
                        if order.is_empty() {
                            Frame::Whole
                        } else {
                            Frame::Range
                        }
                    }
                    _ => {
                        return Err(unsupported(
                            "RANGE frames with offsets and GROUPS frames are not supported",
                        ))
                    }
                }
            }
        };
        self.calls.push(Call {
            name,
            args,
            star,
            partition,
            order,
            frame,
        });
        Ok(self.calls.len() - 1)
    }
}

fn bound(b: &WindowFrameBound) -> Result<Bound> {
    let n = |e: &Expr| -> Result<usize> {
        match e {
            Expr::Value(SqlValue::Number(n, _)) => n
                .to_string()
                .parse()
                .map_err(|_| unsupported(format!("frame offset {n}"))),
            other => Err(unsupported(format!(
                "frame offset {other} (only integer literals)"
            ))),
        }
    };
    Ok(match b {
        WindowFrameBound::CurrentRow => Bound::CurrentRow,
        WindowFrameBound::Preceding(None) => Bound::UnboundedPreceding,
        WindowFrameBound::Following(None) => Bound::UnboundedFollowing,
        WindowFrameBound::Preceding(Some(e)) => Bound::Preceding(n(e)?),
        WindowFrameBound::Following(Some(e)) => Bound::Following(n(e)?),
    })
}

/// `avg(x)` of a real as `avg(x::float8)`: PostgreSQL sums reals for
/// their average in double precision (`float4_accum`), while their `sum()`
/// is a real summed in single precision.
pub(crate) fn avg_of_reals(
    stmt: &mut Statement,
    tables: &BTreeMap<String, std::sync::Arc<crate::store::TableInfo>>,
) {
    let named_avg =
        |e: &Expr| matches!(e, Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("avg"));
    let mut found = false;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(stmt, |e| {
        found |= named_avg(e);
        ControlFlow::<()>::Continue(())
    });
    if !found {
        return;
    }
    let typer = crate::infer::statement_typer(tables, stmt);
    let _ = gluesql_core::sqlparser::ast::visit_expressions_mut(stmt, |e| {
        if !named_avg(e) {
            return ControlFlow::<()>::Continue(());
        }
        if let Expr::Function(f) = e {
            if let FunctionArguments::List(list) = &mut f.args {
                if let [FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] = list.args.as_mut_slice() {
                    if typer(x) == Some(DataType::Float4) {
                        *x = crate::pgfuncs::cast(
                            x.clone(),
                            gluesql_core::sqlparser::ast::DataType::Float64,
                        );
                    }
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `avg()` in a top-level `HAVING` or `ORDER BY`, which [`plan`] leaves to
/// GlueSQL, whose average is a float (`avg(n)` of 1.10, 2.20, 2.25 was
/// 1.8499999999999999, and then the select items' averages were GlueSQL's
/// too): an `ORDER BY` key that is a select item becomes its position, and
/// what remains is written as a sum by a count (exact for integers and
/// NUMERIC, a float for floats). The select items' `avg()` is then this
/// layer's, with PostgreSQL's scale.
pub(crate) fn avg_outside_items(
    stmt: &mut Statement,
    tables: &BTreeMap<String, std::sync::Arc<crate::store::TableInfo>>,
) {
    let Statement::Query(q) = stmt else {
        return;
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return;
    };
    let order_has_avg = q
        .order_by
        .iter()
        .flat_map(|o| &o.exprs)
        .any(|o| has_avg(&o.expr));
    if !(s.having.iter().any(has_avg) || order_has_avg) {
        return;
    }
    let typer = crate::infer::statement_typer(tables, stmt);
    let Statement::Query(q) = stmt else {
        return;
    };
    let items: Vec<Expr> = match q.body.as_ref() {
        SetExpr::Select(s) => s
            .projection
            .iter()
            .map(|i| match i {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    Some(e.clone())
                }
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default(),
        _ => return,
    };
    let as_sum = |e: &mut Expr| {
        let _ = gluesql_core::sqlparser::ast::visit_expressions_mut(e, |x| {
            if is_avg(x) {
                if let Some(sum) = avg_as_sum(x, &typer) {
                    *x = sum;
                }
            }
            ControlFlow::<()>::Continue(())
        });
    };
    if let Some(o) = q.order_by.as_mut() {
        for k in &mut o.exprs {
            if !has_avg(&k.expr) {
                continue;
            }
            match items.iter().position(|i| *i == k.expr) {
                Some(at) => {
                    k.expr = Expr::Value(SqlValue::Number(
                        (at + 1).to_string().parse().unwrap_or_default(),
                        false,
                    ));
                }
                None => as_sum(&mut k.expr),
            }
        }
    }
    if let SetExpr::Select(s) = q.body.as_mut() {
        if let Some(h) = s.having.as_mut() {
            as_sum(h);
        }
    }
}

/// `avg(x)` as `sum(x) / count(x)` in the type PostgreSQL averages `x` in:
/// NUMERIC for integers and NUMERIC, a float for floats; `None` for other
/// arguments and `avg(DISTINCT …)`.
fn avg_as_sum(e: &Expr, typer: &dyn Fn(&Expr) -> Option<DataType>) -> Option<Expr> {
    use crate::pgfuncs::{bin, call, cast};
    let Expr::Function(f) = e else {
        return None;
    };
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.duplicate_treatment.is_some() || f.filter.is_some() {
        return None;
    }
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] = list.args.as_slice() else {
        return None;
    };
    let count = call("COUNT", vec![x.clone()]);
    Some(Expr::Nested(Box::new(match typer(x)? {
        // Reals are averaged in double precision.
        DataType::Float4 => bin(
            call(
                "SUM",
                vec![cast(
                    x.clone(),
                    gluesql_core::sqlparser::ast::DataType::Float64,
                )],
            ),
            BinaryOperator::Divide,
            cast(count, gluesql_core::sqlparser::ast::DataType::Float64),
        ),
        DataType::Float8 => bin(
            call("SUM", vec![x.clone()]),
            BinaryOperator::Divide,
            cast(count, gluesql_core::sqlparser::ast::DataType::Float64),
        ),
        DataType::Int2 | DataType::Int4 | DataType::Int8 => bin(
            call(
                "SUM",
                vec![cast(
                    x.clone(),
                    gluesql_core::sqlparser::ast::DataType::Decimal(
                        gluesql_core::sqlparser::ast::ExactNumberInfo::None,
                    ),
                )],
            ),
            BinaryOperator::Divide,
            count,
        ),
        DataType::Numeric => bin(call("SUM", vec![x.clone()]), BinaryOperator::Divide, count),
        _ => return None,
    })))
}

/// A plan when `q` needs this layer: a top-level `SELECT` with window calls
/// or `avg()` among its items; `None` otherwise (also when an `avg()` sits
/// where only GlueSQL can evaluate it, e.g. in `HAVING`).
pub(crate) fn plan(q: &Query, labels: Option<Vec<String>>) -> Result<Option<Plan>> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Ok(None);
    };
    let item_exprs: Vec<&Expr> = s
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
            _ => None,
        })
        .collect();
    let windows = item_exprs.iter().any(|e| is_window(e));
    let misplaced = s.selection.iter().any(is_window)
        || s.having.iter().any(is_window)
        || matches!(&s.group_by, GroupByExpr::Expressions(g, _) if g.iter().any(is_window));
    if misplaced {
        return Err(SqlError::State {
            code: "42P20",
            message: "window functions are not allowed in WHERE, GROUP BY or HAVING".into(),
        });
    }
    let avgs = item_exprs.iter().any(|e| has_avg(e));
    // `ORDER BY … NULLS FIRST|LAST`, which GlueSQL cannot sort by.
    let nulls_order = q
        .order_by
        .iter()
        .flat_map(|o| &o.exprs)
        .any(|o| o.nulls_first.is_some());
    if !windows && !avgs && !nulls_order {
        return Ok(None);
    }
    if !windows && (s.projection.len() != item_exprs.len() || s.distinct.is_some()) {
        return Ok(None);
    }
    // avg() alone: only when every avg is one this layer can compute (a
    // whole item or under + - * /) and nothing else needs GlueSQL's view
    // of it (HAVING, ORDER BY expressions).
    if !windows && avgs {
        let simple = |e: &Expr| -> bool {
            fn ok(e: &Expr) -> bool {
                match e {
                    Expr::Nested(x) => ok(x),
                    e if is_avg(e) => avg_arg_plain(e),
                    Expr::Cast {
                        expr, data_type, ..
                    } if has_avg(expr) => cast_target(data_type).is_some() && ok(expr),
                    Expr::BinaryOp {
                        left,
                        op:
                            BinaryOperator::Plus
                            | BinaryOperator::Minus
                            | BinaryOperator::Multiply
                            | BinaryOperator::Divide,
                        right,
                    } => ok(left) && ok(right),
                    e => !has_avg(e),
                }
            }
            ok(e)
        };
        let order_has_avg = q
            .order_by
            .iter()
            .flat_map(|o| &o.exprs)
            .any(|o| has_avg(&o.expr));
        if !item_exprs.iter().all(|e| simple(e))
            || s.having.iter().any(has_avg)
            || order_has_avg
            || s.distinct.is_some()
        {
            if !nulls_order {
                return Ok(None);
            }
            return Err(unsupported(
                "ORDER BY … NULLS FIRST/LAST together with avg() inside other expressions is \
                 not supported",
            ));
        }
    }
    if s.distinct.is_some() {
        return Err(unsupported(
            "SELECT DISTINCT with window functions is not supported",
        ));
    }
    if q.fetch.is_some() || !q.locks.is_empty() {
        return Err(unsupported("FETCH or FOR UPDATE with window functions"));
    }
    if s.projection.len() != item_exprs.len() {
        return Err(unsupported(
            "* together with window functions or avg() is not supported (name the columns)",
        ));
    }
    let mut b = Builder {
        hidden: Vec::new(),
        index: HashMap::new(),
        calls: Vec::new(),
        named: Vec::new(),
    };
    for d in &s.named_window {
        match &d.1 {
            NamedWindowExpr::WindowSpec(spec) => b.named.push((d.0.clone(), spec.clone())),
            NamedWindowExpr::NamedWindow(_) => {
                return Err(unsupported("a named window defined as another name"))
            }
        }
    }
    let mut items = Vec::new();
    for e in &item_exprs {
        items.push(b.item(e)?);
    }
    let labels = labels
        .filter(|l| l.len() == items.len())
        .unwrap_or_else(|| (0..items.len()).map(|_| "?column?".to_string()).collect());
    let mut order = Vec::new();
    for o in q.order_by.iter().flat_map(|o| &o.exprs) {
        let desc = o.asc == Some(false);
        let nulls_first = o.nulls_first.unwrap_or(desc);
        let key = match &o.expr {
            Expr::Value(SqlValue::Number(n, _)) => {
                let k: usize = n.to_string().parse().unwrap_or(0);
                if k == 0 || k > items.len() {
                    return Err(SqlError::State {
                        code: "42P10",
                        message: format!("ORDER BY position {n} is not in select list"),
                    });
                }
                Ok(k - 1)
            }
            Expr::Identifier(id)
                if s.projection.iter().any(
                    |i| matches!(i, SelectItem::ExprWithAlias { alias, .. } if alias.value == id.value),
                ) =>
            {
                let pos = s
                    .projection
                    .iter()
                    .position(|i| {
                        matches!(i, SelectItem::ExprWithAlias { alias, .. } if alias.value == id.value)
                    })
                    .unwrap_or(0);
                Ok(pos)
            }
            e if is_window(e) || has_avg(e) => {
                // ORDER BY the same expression as an item.
                match item_exprs.iter().position(|x| x.to_string() == e.to_string()) {
                    Some(p) => Ok(p),
                    None => {
                        return Err(unsupported(
                            "ORDER BY a window function or avg() that is not a select item",
                        ))
                    }
                }
            }
            e => Err(b.column(e)),
        };
        order.push((key, desc, nulls_first));
    }
    let mut inner_select: Select = (**s).clone();
    // `GROUP BY 2` names the original second item, not the inner one.
    if let GroupByExpr::Expressions(exprs, _) = &mut inner_select.group_by {
        for g in exprs.iter_mut() {
            if let Expr::Value(SqlValue::Number(n, _)) = g {
                let k: usize = n.to_string().parse().unwrap_or(0);
                match item_exprs.get(k.wrapping_sub(1)) {
                    Some(e) if !is_window(e) && !has_avg(e) => *g = (*e).clone(),
                    _ => {
                        return Err(SqlError::State {
                            code: "42P10",
                            message: format!("GROUP BY position {n} is not in select list"),
                        })
                    }
                }
            }
        }
    }
    inner_select.named_window = Vec::new();
    inner_select.projection = b
        .hidden
        .iter()
        .enumerate()
        .map(|(i, e)| SelectItem::ExprWithAlias {
            expr: e.clone(),
            alias: Ident::new(format!("__h{i}")),
        })
        .collect();
    if inner_select.projection.is_empty() {
        inner_select
            .projection
            .push(SelectItem::UnnamedExpr(Expr::Value(SqlValue::Number(
                1.into(),
                false,
            ))));
    }
    let inner = crate::compose::plain_query(SetExpr::Select(Box::new(inner_select)));
    Ok(Some(Plan {
        inner,
        labels,
        items,
        calls: b.calls,
        order,
        query: q.clone(),
    }))
}

fn avg_arg_plain(e: &Expr) -> bool {
    let Expr::Function(f) = e else { return false };
    matches!(&f.args, FunctionArguments::List(l) if l.args.len() == 1 && l.clauses.is_empty())
}

fn numeric(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int2(n) => Some((*n).into()),
        Value::Int4(n) => Some((*n).into()),
        Value::Int8(n) => Some((*n).into()),
        Value::Numeric(d) => Some(*d),
        _ => None,
    }
}

/// Total order of two values of one column, NULLs handled by the caller:
/// numbers by value, text by bytes.
fn compare(a: &Value, b: &Value) -> Ordering {
    if let (Some(x), Some(y)) = (numeric(a), numeric(b)) {
        return x.cmp(&y);
    }
    match (a, b) {
        (Value::Float8(x), Value::Float8(y)) => x.total_cmp(y),
        (Value::Float4(x), Value::Float4(y)) => x.total_cmp(y),
        (Value::Float4(x), y) => compare(&Value::Float8(f64::from(*x)), y),
        (x, Value::Float4(y)) => compare(x, &Value::Float8(f64::from(*y))),
        (Value::Float8(x), y) | (y, Value::Float8(x)) if numeric(y).is_some() => {
            let yf = numeric(y).and_then(|d| d.to_f64()).unwrap_or(f64::NAN);
            let o = x.total_cmp(&yf);
            if matches!(a, Value::Float8(_)) {
                o
            } else {
                o.reverse()
            }
        }
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        (Value::TimestampTz(x), Value::TimestampTz(y)) => x.cmp(y),
        (Value::Date(_), Value::Date(_))
        | (Value::Time(_), Value::Time(_))
        | (Value::Interval(_), Value::Interval(_))
        | (Value::Uuid(_), Value::Uuid(_)) => a.sort_cmp(b),
        _ => crate::text_of(a).cmp(&crate::text_of(b)),
    }
}

/// PostgreSQL's sort order of one key: `compare`, reversed when
/// descending, NULLs first or last as asked.
pub(crate) fn compare_keyed(a: &Value, b: &Value, desc: bool, nulls_first: bool) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (_, Value::Null) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (x, y) => {
            let o = compare(x, y);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// PostgreSQL's `numeric / numeric` result scale (`select_div_scale`):
/// at least 16 significant digits, at least either operand's scale (at most
/// the 28 the decimal holds).
fn pg_div_scale(a: Decimal, b: Decimal) -> u32 {
    u32::try_from(pg_numeric::div_scale(a, b).min(28)).unwrap_or(28)
}

/// `sum / count` as PostgreSQL's avg over integers and numerics prints it.
fn exact_avg(sum: Decimal, count: Decimal) -> Option<Decimal> {
    if count.is_zero() {
        return None;
    }
    let scale = pg_div_scale(sum, count);
    let mut q = sum
        .checked_div(count)?
        .round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    q.rescale(scale);
    Some(q)
}

fn avg_value(sum: &Value, count: &Value) -> Value {
    let n = match count {
        Value::Int8(n) => *n,
        Value::Int4(n) => i64::from(*n),
        _ => 0,
    };
    if n == 0 {
        return Value::Null;
    }
    match sum {
        Value::Null => Value::Null,
        Value::Float8(f) => Value::Float8(f / n as f64),
        Value::Float4(f) => Value::Float8(f64::from(*f) / n as f64),
        other => match numeric(other).and_then(|s| exact_avg(s, Decimal::from(n))) {
            Some(d) => Value::Numeric(d),
            None => Value::Null,
        },
    }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(n) => Some(i64::from(*n)),
        Value::Int4(n) => Some(i64::from(*n)),
        Value::Int8(n) => Some(*n),
        _ => None,
    }
}

/// `a op b` with PostgreSQL's numeric rules: integers stay integers
/// (division truncates), a numeric makes it exact, a float makes it float.
fn arith(a: &Value, op: &BinaryOperator, b: &Value) -> Result<Value> {
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return Ok(Value::Null);
    }
    let overflow = || SqlError::State {
        code: "22003",
        message: "integer out of range".into(),
    };
    let zero = || SqlError::State {
        code: "22012",
        message: "division by zero".into(),
    };
    if let (Some(x), Some(y)) = (int_of(a), int_of(b)) {
        let wide = matches!(a, Value::Int8(_)) || matches!(b, Value::Int8(_));
        let r = match op {
            BinaryOperator::Plus => x.checked_add(y),
            BinaryOperator::Minus => x.checked_sub(y),
            BinaryOperator::Multiply => x.checked_mul(y),
            _ => {
                if y == 0 {
                    return Err(zero());
                }
                x.checked_div(y)
            }
        }
        .ok_or_else(overflow)?;
        return Ok(if wide {
            Value::Int8(r)
        } else {
            Value::Int4(i32::try_from(r).map_err(|_| overflow())?)
        });
    }
    if let (Some(x), Some(y)) = (numeric(a), numeric(b)) {
        let r = match op {
            BinaryOperator::Plus => x.checked_add(y),
            BinaryOperator::Minus => x.checked_sub(y),
            BinaryOperator::Multiply => x.checked_mul(y),
            _ => {
                if y.is_zero() {
                    return Err(zero());
                }
                let scale = pg_div_scale(x, y);
                x.checked_div(y).map(|q| {
                    let mut q =
                        q.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
                    q.rescale(scale);
                    q
                })
            }
        }
        .ok_or_else(|| SqlError::State {
            code: "22003",
            message: "numeric value out of range".into(),
        })?;
        return Ok(Value::Numeric(r));
    }
    if let (Value::Float4(x), Value::Float4(y)) = (a, b) {
        // real op real is a real (computed in f64, which rounds to the
        // f32 result exactly); a finite result past the f32 range
        // overflows, as PostgreSQL's float4 operators.
        if !matches!(
            op,
            BinaryOperator::Plus | BinaryOperator::Minus | BinaryOperator::Multiply
        ) && *y == 0.0
        {
            return Err(zero());
        }
        let wide = arith(
            &Value::Float8(f64::from(*x)),
            op,
            &Value::Float8(f64::from(*y)),
        )?;
        let Value::Float8(w) = wide else {
            return Ok(wide);
        };
        return crate::convert::real_of(w).map(Value::Float4);
    }
    let f = |v: &Value| match v {
        Value::Float8(f) => Some(*f),
        Value::Float4(f) => Some(f64::from(*f)),
        other => numeric(other).and_then(|d| d.to_f64()),
    };
    match (f(a), f(b)) {
        (Some(x), Some(y)) => Ok(Value::Float8(match op {
            BinaryOperator::Plus => x + y,
            BinaryOperator::Minus => x - y,
            BinaryOperator::Multiply => x * y,
            _ => {
                if y == 0.0 {
                    return Err(zero());
                }
                x / y
            }
        })),
        _ => Err(SqlError::State {
            code: "42883",
            message: format!(
                "operator does not exist: {} {op} {}",
                crate::pg_type_name(a.data_type().unwrap_or(DataType::Text)),
                crate::pg_type_name(b.data_type().unwrap_or(DataType::Text))
            ),
        }),
    }
}

/// Running aggregate state for sum/count/avg/min/max.
#[derive(Default, Clone)]
struct Acc {
    count: i64,
    sum: Option<Value>,
    min: Option<Value>,
    max: Option<Value>,
}

impl Acc {
    fn add(&mut self, v: &Value, star: bool) -> Result<()> {
        if star {
            self.count += 1;
            return Ok(());
        }
        if matches!(v, Value::Null) {
            return Ok(());
        }
        self.count += 1;
        self.sum = Some(match self.sum.take() {
            None => match v {
                // sum(int2/int4) is bigint, sum(int8) numeric in PostgreSQL.
                Value::Int2(n) => Value::Int8(i64::from(*n)),
                Value::Int4(n) => Value::Int8(i64::from(*n)),
                Value::Int8(n) => Value::Numeric(Decimal::from(*n)),
                other => other.clone(),
            },
            Some(s) => match (&s, v) {
                (Value::Int8(a), Value::Int2(_) | Value::Int4(_)) => {
                    Value::Int8(a.checked_add(int_of(v).unwrap_or(0)).ok_or_else(|| {
                        SqlError::State {
                            code: "22003",
                            message: "bigint out of range".into(),
                        }
                    })?)
                }
                _ => arith(&s, &BinaryOperator::Plus, v)?,
            },
        });
        let replace = |cur: &Option<Value>, want: Ordering| match cur {
            None => true,
            Some(c) => compare(v, c) == want,
        };
        if replace(&self.min, Ordering::Less) {
            self.min = Some(v.clone());
        }
        if replace(&self.max, Ordering::Greater) {
            self.max = Some(v.clone());
        }
        Ok(())
    }

    fn value(&self, name: &str) -> Value {
        match name {
            "count" => Value::Int8(self.count),
            "sum" => self.sum.clone().unwrap_or(Value::Null),
            "min" => self.min.clone().unwrap_or(Value::Null),
            "max" => self.max.clone().unwrap_or(Value::Null),
            _ => match &self.sum {
                Some(s) => avg_value(s, &Value::Int8(self.count)),
                None => Value::Null,
            },
        }
    }
}

impl Plan {
    /// The statement's answer from the inner query's rows.
    pub(crate) fn finish(
        &self,
        inner_columns: &[ColumnInfo],
        rows: Vec<Vec<Value>>,
        params: &[Value],
    ) -> Result<(Vec<ColumnInfo>, Vec<Vec<Value>>)> {
        let mut window_values: Vec<Vec<Value>> = Vec::with_capacity(self.calls.len());
        for call in &self.calls {
            window_values.push(compute(call, &rows)?);
        }
        let mut out: Vec<(Vec<Value>, usize)> = Vec::with_capacity(rows.len());
        for (r, row) in rows.iter().enumerate() {
            let vals = self
                .items
                .iter()
                .map(|it| eval(it, row, r, &window_values))
                .collect::<Result<Vec<_>>>()?;
            out.push((vals, r));
        }
        if !self.order.is_empty() {
            out.sort_by(|(a, ra), (b, rb)| {
                for (key, desc, nf) in &self.order {
                    let (x, y) = match key {
                        Ok(i) => (&a[*i], &b[*i]),
                        Err(h) => (&rows[*ra][*h], &rows[*rb][*h]),
                    };
                    let o = compare_keyed(x, y, *desc, *nf);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let offset = match &self.query.offset {
            Some(o) => crate::compose::count(&o.value, params)?.unwrap_or(0),
            None => 0,
        };
        let limit = match &self.query.limit {
            Some(l) => crate::compose::count(l, params)?,
            None => None,
        };
        let it = out.into_iter().skip(offset).map(|(v, _)| v);
        let rows: Vec<Vec<Value>> = match limit {
            Some(n) => it.take(n).collect(),
            None => it.collect(),
        };
        let columns = self
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| ColumnInfo {
                name: self.labels[i].clone(),
                data_type: rows
                    .iter()
                    .find_map(|r| r[i].data_type())
                    .unwrap_or_else(|| self.static_type(it, inner_columns)),
                array_of: None,
                json: None,
            })
            .collect();
        Ok((columns, rows))
    }

    fn static_type(&self, it: &Item, inner: &[ColumnInfo]) -> DataType {
        match it {
            Item::Inner(i) => inner.get(*i).map_or(DataType::Text, |c| c.data_type),
            Item::Avg { .. } => DataType::Numeric,
            Item::Window(w) => match self.calls[*w].name.as_str() {
                "row_number" | "rank" | "dense_rank" | "count" | "sum" => DataType::Int8,
                "ntile" => DataType::Int4,
                "percent_rank" | "cume_dist" => DataType::Float8,
                "avg" => DataType::Numeric,
                _ => self.calls[*w]
                    .args
                    .first()
                    .and_then(|a| inner.get(*a))
                    .map_or(DataType::Text, |c| c.data_type),
            },
            Item::Cast(_, to) => match to {
                CastTo::Int(t) => *t,
                CastTo::Numeric(_) => DataType::Numeric,
                CastTo::Float => DataType::Float8,
                CastTo::Real => DataType::Float4,
                CastTo::Text => DataType::Text,
            },
            Item::Op(a, _, b) => {
                let (x, y) = (self.static_type(a, inner), self.static_type(b, inner));
                if x == DataType::Float4 && y == DataType::Float4 {
                    DataType::Float4
                } else if [x, y]
                    .iter()
                    .any(|t| matches!(t, DataType::Float8 | DataType::Float4))
                {
                    DataType::Float8
                } else if x == DataType::Numeric || y == DataType::Numeric {
                    DataType::Numeric
                } else {
                    x
                }
            }
        }
    }
}

fn eval(it: &Item, row: &[Value], r: usize, windows: &[Vec<Value>]) -> Result<Value> {
    Ok(match it {
        Item::Inner(i) => row[*i].clone(),
        Item::Window(w) => windows[*w][r].clone(),
        Item::Avg { sum, count } => avg_value(&row[*sum], &row[*count]),
        Item::Op(a, op, b) => arith(&eval(a, row, r, windows)?, op, &eval(b, row, r, windows)?)?,
        Item::Cast(a, to) => cast(eval(a, row, r, windows)?, *to)?,
    })
}

/// One window call's value for every row (in the inner rows' order).
fn compute(call: &Call, rows: &[Vec<Value>]) -> Result<Vec<Value>> {
    let mut out = vec![Value::Null; rows.len()];
    // Partitions in order of first appearance.
    let mut parts: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<Vec<(u8, String)>, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let key = crate::compose::row_key(
            &call
                .partition
                .iter()
                .map(|&c| row[c].clone())
                .collect::<Vec<_>>(),
        );
        let p = *index.entry(key).or_insert_with(|| {
            parts.push(Vec::new());
            parts.len() - 1
        });
        parts[p].push(i);
    }
    let cmp_rows = |a: usize, b: usize| -> Ordering {
        for &(c, desc, nf) in &call.order {
            let o = compare_keyed(&rows[a][c], &rows[b][c], desc, nf);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    };
    for mut part in parts {
        part.sort_by(|&a, &b| cmp_rows(a, b));
        let n = part.len();
        // Peer groups: [start, end) of equal sort keys.
        let mut peer_end = vec![0; n];
        let mut peer_start = vec![0; n];
        let mut s = 0;
        while s < n {
            let mut e = s + 1;
            while e < n && cmp_rows(part[s], part[e]) == Ordering::Equal {
                e += 1;
            }
            for k in s..e {
                peer_start[k] = s;
                peer_end[k] = e;
            }
            s = e;
        }
        let arg = |k: usize, j: usize| -> &Value { &rows[part[k]][call.args[j]] };
        // Frame [lo, hi) of position k.
        let frame = |k: usize| -> (usize, usize) {
            match call.frame {
                Frame::Whole => (0, n),
                Frame::Range => (0, peer_end[k]),
                Frame::Rows(a, b) => {
                    let at = |bd: Bound, end: bool| -> usize {
                        match bd {
                            Bound::UnboundedPreceding => 0,
                            Bound::UnboundedFollowing => n,
                            Bound::CurrentRow => k + usize::from(end),
                            Bound::Preceding(m) => (k + usize::from(end)).saturating_sub(m),
                            Bound::Following(m) => (k + m + usize::from(end)).min(n),
                        }
                    };
                    let lo = at(a, false);
                    let hi = at(b, true);
                    (lo, hi.max(lo))
                }
            }
        };
        match call.name.as_str() {
            "row_number" => {
                for k in 0..n {
                    out[part[k]] = Value::Int8(k as i64 + 1);
                }
            }
            "rank" => {
                for k in 0..n {
                    out[part[k]] = Value::Int8(peer_start[k] as i64 + 1);
                }
            }
            "dense_rank" => {
                let mut rank = 0;
                for k in 0..n {
                    if peer_start[k] == k {
                        rank += 1;
                    }
                    out[part[k]] = Value::Int8(rank);
                }
            }
            "percent_rank" => {
                for k in 0..n {
                    out[part[k]] = Value::Float8(if n > 1 {
                        peer_start[k] as f64 / (n - 1) as f64
                    } else {
                        0.0
                    });
                }
            }
            "cume_dist" => {
                for k in 0..n {
                    out[part[k]] = Value::Float8(peer_end[k] as f64 / n as f64);
                }
            }
            "ntile" => {
                for k in 0..n {
                    let buckets = match int_of(arg(k, 0)) {
                        Some(b) if b > 0 => b as usize,
                        Some(_) => {
                            return Err(SqlError::State {
                                code: "22014",
                                message: "argument of ntile must be greater than zero".into(),
                            })
                        }
                        None => {
                            out[part[k]] = Value::Null;
                            continue;
                        }
                    };
                    // The first n % b buckets hold one row more.
                    let size = n / buckets;
                    let extra = n % buckets;
                    let big = extra * (size + 1);
                    let bucket = if k < big {
                        k / (size + 1)
                    } else {
                        extra + (k - big) / size.max(1)
                    };
                    out[part[k]] = Value::Int4(bucket as i32 + 1);
                }
            }
            "lag" | "lead" => {
                for k in 0..n {
                    let off = if call.args.len() > 1 {
                        match int_of(arg(k, 1)) {
                            Some(o) => o,
                            None => {
                                out[part[k]] = Value::Null;
                                continue;
                            }
                        }
                    } else {
                        1
                    };
                    let target = if call.name == "lag" {
                        k as i64 - off
                    } else {
                        k as i64 + off
                    };
                    out[part[k]] = if target >= 0 && (target as usize) < n {
                        arg(target as usize, 0).clone()
                    } else if call.args.len() > 2 {
                        arg(k, 2).clone()
                    } else {
                        Value::Null
                    };
                }
            }
            "first_value" | "last_value" | "nth_value" => {
                for k in 0..n {
                    let (lo, hi) = frame(k);
                    let pick = match call.name.as_str() {
                        "first_value" => (lo < hi).then_some(lo),
                        "last_value" => (lo < hi).then(|| hi - 1),
                        _ => match int_of(arg(k, 1)) {
                            Some(m) if m > 0 => {
                                let p = lo + (m as usize - 1);
                                (p < hi).then_some(p)
                            }
                            Some(_) => {
                                return Err(SqlError::State {
                                    code: "22016",
                                    message: "argument of nth_value must be greater than zero"
                                        .into(),
                                })
                            }
                            None => None,
                        },
                    };
                    out[part[k]] = pick.map_or(Value::Null, |p| arg(p, 0).clone());
                }
            }
            agg => {
                let value_at = |k: usize| -> &Value {
                    if call.star {
                        &Value::Null
                    } else {
                        arg(k, 0)
                    }
                };
                let unbounded_start = matches!(call.frame, Frame::Whole | Frame::Range)
                    || matches!(call.frame, Frame::Rows(Bound::UnboundedPreceding, _));
                if unbounded_start {
                    // Frame ends only grow: one running accumulator.
                    let mut acc = Acc::default();
                    let mut upto = 0;
                    for k in 0..n {
                        let (_, hi) = frame(k);
                        while upto < hi {
                            acc.add(value_at(upto), call.star)?;
                            upto += 1;
                        }
                        out[part[k]] = acc.value(agg);
                    }
                } else {
                    for k in 0..n {
                        let (lo, hi) = frame(k);
                        let mut acc = Acc::default();
                        for p in lo..hi {
                            acc.add(value_at(p), call.star)?;
                        }
                        out[part[k]] = acc.value(agg);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The type of window call `name(arg…)`'s answer, as [`Plan::finish`] gives
/// it for rows of argument type `arg`; `None` when it depends on an
/// argument whose type is unknown.
fn answer_type(name: &str, arg: Option<DataType>) -> Option<DataType> {
    Some(match name {
        "row_number" | "rank" | "dense_rank" | "count" => DataType::Int8,
        "ntile" => DataType::Int4,
        "percent_rank" | "cume_dist" => DataType::Float8,
        "avg" => match arg? {
            DataType::Float8 | DataType::Float4 => DataType::Float8,
            _ => DataType::Numeric,
        },
        "sum" => match arg? {
            DataType::Int2 | DataType::Int4 => DataType::Int8,
            DataType::Int8 => DataType::Numeric,
            other => other,
        },
        "min" | "max" | "first_value" | "last_value" | "nth_value" | "lag" | "lead" => arg?,
        _ => return None,
    })
}

/// For describing a statement without running it (a prepared statement's
/// result columns): each window call replaced by `CAST(NULL AS t)` of the
/// type its answer has when run, so that the result types are inferred as
/// for any other query. A call whose type is not known here is left as it
/// is (and refused as before).
pub(crate) fn describe_stand_ins(
    stmt: &mut gluesql_core::sqlparser::ast::Statement,
    tables: &std::collections::BTreeMap<String, std::sync::Arc<crate::store::TableInfo>>,
) {
    let typer = crate::infer::statement_typer(tables, stmt);
    let _ = gluesql_core::sqlparser::ast::visit_expressions_mut(stmt, |e| {
        let Expr::Function(f) = e else {
            return std::ops::ControlFlow::<()>::Continue(());
        };
        if f.over.is_none() {
            return std::ops::ControlFlow::Continue(());
        }
        let name = f.name.to_string().to_ascii_lowercase();
        let arg = match &f.args {
            FunctionArguments::List(l) => l.args.first().and_then(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => typer(x),
                _ => None,
            }),
            _ => None,
        };
        let stand_in = answer_type(&name, arg).and_then(|t| {
            let sql = format!("SELECT CAST(NULL AS {})", crate::pg_type_name(t));
            match crate::limits::parse(&sql).ok()?.pop()? {
                gluesql_core::sqlparser::ast::Statement::Query(q) => match *q.body {
                    SetExpr::Select(s) => match s.projection.into_iter().next()? {
                        SelectItem::UnnamedExpr(x) => Some(x),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            }
        });
        if let Some(x) = stand_in {
            *e = x;
        }
        std::ops::ControlFlow::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn avg_scale_follows_postgres() {
        // Values PostgreSQL 15 prints for avg().
        let cases = [
            ("57", 5, "11.4000000000000000"),
            ("1", 1, "1.00000000000000000000"),
            ("10", 2, "5.0000000000000000"),
            ("3", 5, "0.60000000000000000000"),
            ("10001", 2, "5000.5000000000000000"),
            ("35", 3, "11.6666666666666667"),
            ("37.49", 3, "12.4966666666666667"),
            ("-7", 2, "-3.5000000000000000"),
            ("0", 3, "0.00000000000000000000"),
        ];
        for (sum, count, want) in cases {
            let got = exact_avg(d(sum), Decimal::from(count)).unwrap().to_string();
            assert_eq!(got, want, "avg of sum {sum} over {count}");
        }
    }

    #[test]
    fn integer_arithmetic_truncates_and_checks() {
        let v = arith(
            &Value::Int4(1000),
            &BinaryOperator::Divide,
            &Value::Int8(35),
        )
        .unwrap();
        assert_eq!(v, Value::Int8(28));
        let e = arith(&Value::Int4(1), &BinaryOperator::Divide, &Value::Int4(0)).unwrap_err();
        assert_eq!(e.sqlstate(), "22012");
        let e = arith(
            &Value::Int4(i32::MAX),
            &BinaryOperator::Plus,
            &Value::Int4(1),
        )
        .unwrap_err();
        assert_eq!(e.sqlstate(), "22003");
    }
}

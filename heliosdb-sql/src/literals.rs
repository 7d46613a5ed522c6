//! Literals of the date/time, interval, uuid, boolean and bytea types as
//! PostgreSQL reads them, rewritten into the forms GlueSQL parses: GlueSQL
//! reads `'f'` as no boolean, `'\x00ff'` as no bytea, an offset in a
//! timestamp as an error and `interval '1 day'` not at all. Each literal is
//! read by [`crate::pgtext`] (PostgreSQL's rules and errors) and replaced by
//! its canonical spelling, so GlueSQL never guesses.

use std::ops::ControlFlow;

use gluesql_core::data::Interval as GInterval;
use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, BinaryOperator, CastKind, DataType as SqlType, DateTimeField,
    ExactNumberInfo, Expr, Insert, Interval as SqlInterval, Query, SelectItem, SetExpr, Statement,
    TimezoneInfo, UnaryOperator, Value as SqlValue, VisitMut, VisitorMut,
};
use heliosdb_core::{DataType, Value};

use crate::store::TableInfo;
use crate::{Result, SqlError};

/// GlueSQL's spelling of an interval: `INTERVAL '14' MONTH` or
/// `INTERVAL '5400.5' SECOND`.
pub(crate) fn glue_interval_expr(g: GInterval) -> Expr {
    let (value, field) = match g {
        GInterval::Month(m) => (m.to_string(), DateTimeField::Month),
        GInterval::Microsecond(us) => {
            let sign = if us < 0 { "-" } else { "" };
            let a = us.unsigned_abs();
            (
                format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000),
                DateTimeField::Second,
            )
        }
    };
    Expr::Interval(SqlInterval {
        value: Box::new(Expr::Value(SqlValue::SingleQuotedString(value))),
        leading_field: Some(field),
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

/// The types whose literal text this module reads.
fn ours(t: DataType) -> bool {
    matches!(
        t,
        DataType::Bool
            | DataType::Bytes
            | DataType::Date
            | DataType::Time
            | DataType::Timestamp
            | DataType::TimestampTz
            | DataType::Interval
            | DataType::Uuid
    )
}

/// Types a string literal written into a column is read as by us before
/// GlueSQL sees it: [`ours`], and the numbers (PostgreSQL reads `'42'` into
/// an integer column as 42; GlueSQL refuses text there).
fn assigned(t: DataType) -> bool {
    ours(t) || crate::convert::number_type(t)
}

fn timestamptz_type() -> SqlType {
    SqlType::Timestamp(None, TimezoneInfo::Tz)
}

/// The expression GlueSQL evaluates to `v`. A timestamptz stays a cast to
/// `TIMESTAMPTZ` (so result typing sees it) until [`lower_timestamptz`].
fn typed_expr(v: &Value, text: &str) -> Result<Expr> {
    Ok(match v {
        Value::TimestampTz(t) => Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(
                t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            ))),
            data_type: timestamptz_type(),
            format: None,
        },
        Value::Interval(i) => {
            crate::session::glue_exact_interval(*i, text)?;
            glue_interval_expr(
                crate::convert::interval_to_glue(*i)
                    .ok_or_else(|| crate::session::mixed_interval(text))?,
            )
        }
        Value::Date(d) if chrono::Datelike::year(d) <= 0 => {
            return Err(SqlError::Unsupported(format!(
                "dates before year 1 ('{text}') are not supported in expressions"
            )))
        }
        other => crate::session::value_expr(other),
    })
}

fn string_literal(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(SqlValue::SingleQuotedString(s)) => Some(s),
        _ => None,
    }
}

/// `interval '1 day'`, `date '2024-02-28'`, `'yes'::boolean`,
/// `'…+02'::timestamptz` and their kin, read as PostgreSQL reads them; and
/// `date '…' ± integer` (days, a date as in PostgreSQL).
///
/// `date ± integer` and `date - date` are recognised by the types of their
/// operands among the statement's tables too: a date column minus a date is
/// a number of days, as in PostgreSQL, not GlueSQL's interval.
pub(crate) fn typed_literals(
    stmt: &mut Statement,
    tables: &std::collections::BTreeMap<String, std::sync::Arc<crate::store::TableInfo>>,
) -> Result<()> {
    let typer = crate::infer::statement_typer(tables, stmt);
    let mut failed = None;
    let _ = visit_expressions_mut(stmt, |e| match rewrite_one(e, &typer) {
        Ok(()) => ControlFlow::Continue(()),
        Err(err) => {
            failed = Some(err);
            ControlFlow::Break(())
        }
    });
    failed.map_or(Ok(()), Err)
}

fn rewrite_one(e: &mut Expr, typer: &dyn Fn(&Expr) -> Option<DataType>) -> Result<()> {
    match e {
        Expr::Interval(iv) if iv.leading_field.is_none() && iv.last_field.is_none() => {
            if let Some(s) = string_literal(&iv.value) {
                let i = crate::pgtext::parse_interval(s)?;
                *e = typed_expr(&Value::Interval(i), s)?;
            }
        }
        Expr::TypedString { data_type, value } => {
            match crate::rewrite::engine_type_of(data_type) {
                Some(t) if ours(t) => {
                    let v = crate::coerce(Value::String(value.clone()), t)?;
                    *e = typed_expr(&v, value)?;
                }
                // `float8 '1.5'`, `int '42'`, `bool 't'`: the cast of the
                // string, as PostgreSQL reads them.
                Some(_) => {
                    *e = Expr::Cast {
                        kind: CastKind::Cast,
                        expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(value.clone()))),
                        data_type: data_type.clone(),
                        format: None,
                    };
                }
                None => {}
            }
        }
        // A `jsonb` literal is normalised, a `json` one checked (both are
        // text to GlueSQL).
        Expr::Cast {
            expr,
            data_type: data_type @ (SqlType::JSON | SqlType::JSONB),
            ..
        } => {
            if let Some(s) = string_literal(expr) {
                if matches!(data_type, SqlType::JSONB) {
                    let normal = crate::json::jsonb_text(s)?;
                    **expr = Expr::Value(SqlValue::SingleQuotedString(normal));
                } else {
                    crate::json::check_json(s)?;
                }
            }
        }
        // `1e300::float8`: the literal read by the exact decimal-to-binary
        // conversion (GlueSQL's number-to-float goes astray on exponents).
        Expr::Cast {
            expr, data_type, ..
        } if number_text(expr).is_some()
            && matches!(
                crate::rewrite::engine_type_of(data_type),
                Some(DataType::Float8 | DataType::Float4)
            ) =>
        {
            if let Some(text) = number_text(expr) {
                // A number has no negative zero: `(-0.0)::float8` is 0.
                let zero = text.parse::<f64>().is_ok_and(|f| f == 0.0);
                let text = if zero { "0".to_string() } else { text };
                **expr = Expr::Value(SqlValue::SingleQuotedString(text));
            }
        }
        Expr::Cast {
            expr, data_type, ..
        } => {
            if let (Some(s), Some(t)) = (
                string_literal(expr),
                crate::rewrite::engine_type_of(data_type).filter(|t| ours(*t)),
            ) {
                let v = crate::coerce(Value::String(s.to_string()), t)?;
                *e = typed_expr(&v, s)?;
            }
        }
        // `ts_col = '2024-01-31 10:00'`: the text read as the other side's
        // type by our reader (GlueSQL reads fewer spellings, and compares
        // what it cannot read as text: wrong rows, no error).
        Expr::BinaryOp {
            left,
            op:
                BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq,
            right,
        } => {
            compared_text(typer(left), right)?;
            compared_text(typer(right), left)?;
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            let t = typer(expr);
            compared_text(t, low)?;
            compared_text(t, high)?;
        }
        Expr::InList { expr, list, .. } => {
            let t = typer(expr);
            for item in list {
                compared_text(t, item)?;
            }
        }
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Plus | BinaryOperator::Minus),
            right,
        } => {
            // date ± integer is a date (GlueSQL has no such operator):
            // date + INTERVAL 'n' DAY, cast back to a date.
            let is_date = |x: &Expr| {
                matches!(
                    x,
                    Expr::Cast {
                        data_type: SqlType::Date,
                        ..
                    }
                ) || matches!(
                    x,
                    Expr::TypedString {
                        data_type: SqlType::Date,
                        ..
                    }
                ) || typer(x) == Some(DataType::Date)
            };
            let days = match right.as_ref() {
                Expr::Value(SqlValue::Number(n, _)) => n.to_string().parse::<i32>().ok(),
                _ => None,
            };
            // date ± an integer column or expression: INTERVAL '1 day' × it.
            if days.is_none()
                && is_date(left)
                && matches!(
                    typer(right),
                    // PostgreSQL has date ± integer (and smallint), not bigint.
                    Some(DataType::Int2 | DataType::Int4)
                )
            {
                let scaled = Expr::BinaryOp {
                    left: Box::new(glue_interval_expr(GInterval::Microsecond(86_400_000_000))),
                    op: BinaryOperator::Multiply,
                    right: Box::new(Expr::Nested(right.clone())),
                };
                let sum = Expr::BinaryOp {
                    left: left.clone(),
                    op: op.clone(),
                    right: Box::new(scaled),
                };
                *e = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::Nested(Box::new(sum))),
                    data_type: SqlType::Date,
                    format: None,
                };
                return Ok(());
            }
            // date - date is a number of days (GlueSQL: an interval).
            if matches!(op, BinaryOperator::Minus) && is_date(left) && is_date(right) {
                let diff = Expr::Nested(Box::new(Expr::BinaryOp {
                    left: left.clone(),
                    op: BinaryOperator::Minus,
                    right: right.clone(),
                }));
                // GlueSQL's EXTRACT fails on NULL; PostgreSQL's answer is NULL.
                let days = Expr::Extract {
                    field: DateTimeField::Day,
                    syntax: gluesql_core::sqlparser::ast::ExtractSyntax::From,
                    expr: Box::new(diff.clone()),
                };
                let case = Expr::Case {
                    operand: None,
                    conditions: vec![Expr::IsNull(Box::new(diff))],
                    results: vec![Expr::Value(SqlValue::Null)],
                    else_result: Some(Box::new(days)),
                };
                // An integer, as PostgreSQL types it (described and sent so).
                *e = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(case),
                    data_type: SqlType::Integer(None),
                    format: None,
                };
                return Ok(());
            }
            if let (true, Some(n)) = (is_date(left), days) {
                let n = if matches!(op, BinaryOperator::Minus) {
                    -i64::from(n)
                } else {
                    i64::from(n)
                };
                let sum = Expr::BinaryOp {
                    left: left.clone(),
                    op: BinaryOperator::Plus,
                    right: Box::new(glue_interval_expr(GInterval::Microsecond(
                        n * 86_400_000_000,
                    ))),
                };
                *e = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::Nested(Box::new(sum))),
                    data_type: SqlType::Date,
                    format: None,
                };
            }
        }
        _ => {}
    }
    Ok(())
}

/// A string literal compared with a value of boolean, date/time, interval
/// or UUID type `t`, read as that type (PostgreSQL's unknown-literal
/// resolution; GlueSQL found `bool_col = 't'` false for true).
fn compared_text(t: Option<DataType>, lit: &mut Expr) -> Result<()> {
    // The types this module reads text as, but bytea (whose text a
    // comparison takes as written).
    let Some(t) = t.filter(|t| ours(*t) && *t != DataType::Bytes) else {
        return Ok(());
    };
    if let Some(s) = string_literal(lit) {
        let text = s.to_string();
        let v = crate::coerce(Value::String(text.clone()), t)?;
        *lit = typed_expr(&v, &text)?;
    }
    Ok(())
}

/// A decimal constant standing alone as a select item (`SELECT 1.50`,
/// `SELECT id, -0.50 AS x FROM t`) keeps its scale, as PostgreSQL's
/// NUMERIC constant does: GlueSQL would read it as a float (`1.5`). After
/// the result labels were read (a cast would be labelled `numeric`, the
/// constant is `?column?`); a set operation's branches are run one by one,
/// and `compose::combine` resolves NUMERIC with double precision to double
/// precision as PostgreSQL does.
pub(crate) fn numeric_items(stmt: &mut Statement) {
    struct Items;
    impl VisitorMut for Items {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            if let SetExpr::Select(s) = q.body.as_mut() {
                for item in &mut s.projection {
                    if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } =
                        item
                    {
                        if let Some(text) = decimal_text(e) {
                            *e = Expr::Cast {
                                kind: CastKind::Cast,
                                expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(text))),
                                data_type: SqlType::Numeric(ExactNumberInfo::None),
                                format: None,
                            };
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    fn decimal_text(e: &Expr) -> Option<String> {
        match e {
            Expr::Nested(e) => decimal_text(e),
            Expr::Value(SqlValue::Number(n, false)) => {
                if n.as_bigint_and_exponent().1 < 0 {
                    // `1e3`: a NUMERIC with no fraction (GlueSQL's reading
                    // of it is not an integer).
                    return Some(n.with_scale(0).to_string());
                }
                let text = n.to_string();
                if text.contains(['e', 'E']) {
                    // `1e3` is NUMERIC 1000, `1.50e1` is 15.0.
                    rust_decimal::Decimal::from_scientific(&text.to_ascii_lowercase())
                        .ok()
                        .map(|d| d.to_string())
                } else {
                    text.contains('.').then_some(text)
                }
            }
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => decimal_text(expr).map(|t| format!("-{t}")),
            _ => None,
        }
    }
    let _ = VisitMut::visit(stmt, &mut Items);
}

/// `TIMESTAMPTZ` casts become GlueSQL's `TIMESTAMP` (a UTC wall clock),
/// after result types were read from them.
pub(crate) fn lower_timestamptz(stmt: &mut Statement) {
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Cast { data_type, .. } = e {
            if crate::rewrite::is_timestamptz(data_type) {
                *data_type = SqlType::Timestamp(None, TimezoneInfo::None);
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// String literals of `INSERT … VALUES` read as their target column's type
/// (`'f'` into a boolean, `'42'` into an integer, `'\x00ff'` into bytea,
/// `'… +02'` into a timestamptz, `'1 day'` into an interval).
pub(crate) fn insert_literals(ins: &mut Insert, info: &TableInfo) -> Result<()> {
    let Some(source) = ins.source.as_mut() else {
        return Ok(());
    };
    let SetExpr::Values(values) = source.body.as_mut() else {
        return Ok(());
    };
    let targets = info.insert_types(&ins.columns);
    for row in &mut values.rows {
        for (e, t) in row.iter_mut().zip(&targets) {
            let Some(t) = t.filter(|t| assigned(*t)) else {
                continue;
            };
            if let Some(s) = string_literal(e) {
                let text = s.to_string();
                let v = crate::coerce(Value::String(text.clone()), t)?;
                *e = typed_expr(&v, &text)?;
            }
        }
    }
    for row in &mut values.rows {
        for (e, t) in row.iter_mut().zip(&targets) {
            if let Some(t) = t {
                assign_number(e, *t);
            }
        }
    }
    Ok(())
}

/// `-2147483648` and `-9223372036854775808` as the single negative
/// literals PostgreSQL reads them as (an `integer` and a `bigint`; the
/// parser's `-(2147483648)` is a bigint negated, so
/// `abs(-2147483648)` answered 2147483648 where PostgreSQL's integer
/// overflows).
pub(crate) fn negative_bounds(stmt: &mut Statement) {
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } = e
        {
            if let Expr::Value(SqlValue::Number(n, long)) = expr.as_ref() {
                let text = n.to_string();
                if text == "2147483648" || text == "9223372036854775808" {
                    *e = Expr::Value(SqlValue::Number(-n.clone(), *long));
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The text of a number literal, with its sign (`-2.5`).
pub(crate) fn number_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(SqlValue::Number(n, _)) => Some(n.to_string()),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => number_text(expr).map(|t| format!("-{t}")),
        Expr::Nested(x) => number_text(x),
        _ => None,
    }
}

/// A number literal written into a column of type `t`, as PostgreSQL's
/// assignment reads it where GlueSQL would not: into an integer column a
/// fraction or exponent is rounded half away from zero (`2.5` is 3, `1e3`
/// is 1000; GlueSQL fails), into a float column it is read by the exact
/// decimal-to-binary conversion (GlueSQL's goes astray: `1e300` was
/// `1.0000000000000006e300`, the largest double was infinity), into a text
/// column it is its text (`42` is `'42'`). Anything else is left as is.
fn assign_number(e: &mut Expr, t: DataType) {
    let Some(text) = number_text(e) else {
        return;
    };
    match t {
        DataType::Float8 | DataType::Float4 => {
            *e = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(text))),
                data_type: if t == DataType::Float8 {
                    SqlType::Float64
                } else {
                    SqlType::Float32
                },
                format: None,
            };
        }
        // Every integer literal is rebuilt: `1e3` reaches here as a number
        // that prints `1000` but has a negative exponent, which GlueSQL
        // cannot read as an integer.
        DataType::Int2 | DataType::Int4 | DataType::Int8 => {
            let parsed = rust_decimal::Decimal::from_str_exact(&text)
                .or_else(|_| rust_decimal::Decimal::from_scientific(&text));
            let Ok(d) = parsed else {
                return;
            };
            let r =
                d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            let Some(i) = rust_decimal::prelude::ToPrimitive::to_i64(&r) else {
                return;
            };
            let n = Expr::Value(SqlValue::Number(
                i.unsigned_abs().to_string().parse().unwrap_or_default(),
                false,
            ));
            *e = if i < 0 {
                Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr: Box::new(n),
                }
            } else {
                n
            };
        }
        DataType::Text if !text.contains(['e', 'E']) => {
            *e = Expr::Value(SqlValue::SingleQuotedString(text));
        }
        _ => {}
    }
}

/// String literals of `UPDATE … SET col = '…'`, read as the column's type
/// (as [`insert_literals`]).
pub(crate) fn update_literals(
    assignments: &mut [gluesql_core::sqlparser::ast::Assignment],
    info: &TableInfo,
) -> Result<()> {
    use gluesql_core::sqlparser::ast::AssignmentTarget;
    for a in assignments.iter_mut() {
        let AssignmentTarget::ColumnName(name) = &a.target else {
            continue;
        };
        let Some(col) = name.0.last() else {
            continue;
        };
        let Some(t) = info.column_type(&col.value).filter(|t| assigned(*t)) else {
            continue;
        };
        if let Some(s) = string_literal(&a.value) {
            let text = s.to_string();
            let v = crate::coerce(Value::String(text.clone()), t)?;
            a.value = typed_expr(&v, &text)?;
        }
    }
    for a in assignments {
        let AssignmentTarget::ColumnName(name) = &a.target else {
            continue;
        };
        if let Some(t) = name.0.last().and_then(|c| info.column_type(&c.value)) {
            assign_number(&mut a.value, t);
        }
    }
    Ok(())
}

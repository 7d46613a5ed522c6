//! NUMERIC arithmetic as PostgreSQL computes it, where GlueSQL would not:
//!
//! - A constant expression of numeric literals and NUMERIC casts
//!   (`10 / 4::numeric`, `100.00 / 3`, `0.1 + 0.2`, `sqrt(16.0)`,
//!   `12.345::numeric(5,2)`) is evaluated here with PostgreSQL's result
//!   scales — the sum's scale is the larger operand scale, the product's
//!   their sum, the quotient's `select_div_scale` of PostgreSQL's
//!   `numeric.c` (16 significant digits, at least either operand's scale),
//!   the square root's `numeric_sqrt` rule — and replaced by its exact
//!   decimal. GlueSQL reads a fractional literal as a float and divides
//!   decimals at 28 digits.
//! - A fractional literal next to a NUMERIC column (`price + 0.001`,
//!   `price = 19.99`) is read as the exact decimal it spells, not through a
//!   float (`5.0010000000000000000208166817`).
//! - What cannot be given PostgreSQL's answer is refused with 0A000: the
//!   square root of a NUMERIC column, and constants whose exact result needs
//!   more than the 28 digits of the engine's decimal. The quotient of
//!   NUMERIC columns is computed by the engine itself, with PostgreSQL's
//!   scale (the `HeliosDB:` patch in `vendor/gluesql-core`).
//!
//! Integer-only expressions and floats are left to GlueSQL.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::str::FromStr;
use std::sync::Arc;

use gluesql_core::data::value::pg_numeric::{self, weight_and_first};
use gluesql_core::sqlparser::ast::{
    visit_relations, BinaryOperator, CastKind, CeilFloorKind, DataType as SqlType, DateTimeField,
    ExactNumberInfo, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr,
    Statement, TimezoneInfo, UnaryOperator, Value as SqlValue, VisitMut, VisitorMut,
};
use heliosdb_core::DataType;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::sqlstate::{DIVISION_BY_ZERO, FEATURE_NOT_SUPPORTED, NUMERIC_VALUE_OUT_OF_RANGE};
use crate::store::TableInfo;
use crate::{Result, SqlError};

/// PostgreSQL's `NUMERIC_MIN_SIG_DIGITS`.
const MIN_SIG_DIGITS: i64 = 16;
/// Decimal digits the engine's decimal holds.
const MAX_DIGITS: u32 = 28;

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: what.into(),
    }
}

fn numeric_power() -> SqlError {
    unsupported(
        "a power of a NUMERIC value is not supported (its result is a NUMERIC with \
         PostgreSQL's scale)",
    )
}

fn too_wide() -> SqlError {
    unsupported("a NUMERIC result of more than 28 significant digits is not supported")
}

/// A constant operand: an integer literal (`int4`/`int8`) or a NUMERIC.
#[derive(Clone, Copy, Debug)]
enum Num {
    Int(i64),
    Numeric(Decimal),
}

impl Num {
    fn decimal(self) -> Decimal {
        match self {
            Num::Int(i) => Decimal::from(i),
            Num::Numeric(d) => d,
        }
    }
}

/// A numeric literal: an integer without point or exponent, a NUMERIC
/// with a point (its scale as written); `None` for exponents and what does
/// not fit.
fn literal(text: &str) -> Option<Num> {
    if text.contains(['e', 'E']) {
        return None;
    }
    if text.contains('.') {
        return Decimal::from_str(text).ok().map(Num::Numeric);
    }
    text.parse::<i64>().ok().map(Num::Int)
}

fn is_numeric_type(t: &SqlType) -> Option<&ExactNumberInfo> {
    match t {
        SqlType::Numeric(i) | SqlType::Decimal(i) | SqlType::Dec(i) => Some(i),
        _ => None,
    }
}

/// `d` rounded (half away from zero) to exactly `scale` digits, or an
/// error when that needs more digits than the decimal holds.
fn to_scale(d: Decimal, scale: i64) -> Result<Decimal> {
    let scale = u32::try_from(scale).map_err(|_| too_wide())?;
    if scale > MAX_DIGITS {
        return Err(too_wide());
    }
    let mut r = d.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(scale);
    if r.scale() != scale {
        return Err(too_wide());
    }
    // Room for the integer digits next to the scale.
    let int_digits = r.trunc().abs().to_string().trim_start_matches('0').len();
    if u32::try_from(int_digits).unwrap_or(u32::MAX) + scale > MAX_DIGITS {
        return Err(too_wide());
    }
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    Ok(r)
}

/// PostgreSQL's quotient of two NUMERICs (`select_div_scale`), as the
/// engine computes it for columns (`vendor/gluesql-core`'s `pg_numeric`).
fn divide(a: Decimal, b: Decimal) -> Result<Decimal> {
    if b.is_zero() {
        return Err(SqlError::State {
            code: DIVISION_BY_ZERO,
            message: "division by zero".into(),
        });
    }
    pg_numeric::divide(a, b).ok_or_else(too_wide)
}

/// PostgreSQL's square root of a NUMERIC (`numeric_sqrt`'s scale).
fn sqrt(a: Decimal) -> Result<Decimal> {
    if a.is_sign_negative() && !a.is_zero() {
        return Err(SqlError::State {
            code: "2201F",
            message: "cannot take square root of a negative number".into(),
        });
    }
    let (w, _) = weight_and_first(a);
    let sweight = (w + 1) * 4 / 2 - 1;
    let rscale = (MIN_SIG_DIGITS - sweight)
        .max(i64::from(a.scale()))
        .clamp(0, 1000);
    if a.is_zero() {
        return to_scale(Decimal::ZERO, rscale);
    }
    // Newton's iteration from a float estimate, in exact decimals.
    let estimate = a.to_string().parse::<f64>().map_err(|_| too_wide())?.sqrt();
    let mut x = Decimal::from_str(&format!("{estimate:.12}")).map_err(|_| too_wide())?;
    if x.is_zero() {
        x = Decimal::new(1, 10);
    }
    let two = Decimal::from(2);
    for _ in 0..100 {
        let next = (x + a.checked_div(x).ok_or_else(too_wide)?) / two;
        if next == x {
            break;
        }
        x = next;
    }
    let int_digits = x.trunc().to_string().trim_start_matches('0').len();
    if u32::try_from(int_digits).unwrap_or(u32::MAX) + u32::try_from(rscale).unwrap_or(u32::MAX)
        >= MAX_DIGITS
    {
        return Err(too_wide());
    }
    to_scale(x, rscale)
}

/// `d` cast to `NUMERIC(p, s)`: rounded to `s`, at most `p - s` integer
/// digits (22003 otherwise, as PostgreSQL).
fn with_typmod(d: Decimal, info: &ExactNumberInfo) -> Result<Decimal> {
    let (p, s) = match info {
        ExactNumberInfo::None => return Ok(d),
        ExactNumberInfo::Precision(p) => (*p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
    };
    let r = to_scale(d, i64::try_from(s).map_err(|_| too_wide())?)?;
    let int_digits = r.trunc().abs().to_string().trim_start_matches('0').len() as u64;
    if int_digits + s > p {
        return Err(SqlError::State {
            code: NUMERIC_VALUE_OUT_OF_RANGE,
            message: format!(
                "numeric field overflow: a field with precision {p}, scale {s} must round to an \
                 absolute value less than 10^{}",
                p - s
            ),
        });
    }
    Ok(r)
}

/// The constant value of `e` when it is one of the forms folded here and
/// at least one NUMERIC takes part (`None` for integer-only and other
/// expressions, which GlueSQL evaluates as PostgreSQL does).
fn constant(e: &Expr) -> Result<Option<Num>> {
    Ok(match e {
        Expr::Value(SqlValue::Number(n, _)) => literal(&n.to_string()),
        Expr::Nested(x) => constant(x)?,
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match constant(expr)? {
            Some(Num::Int(i)) => i.checked_neg().map(Num::Int),
            Some(Num::Numeric(d)) => {
                let mut n = -d;
                if n.is_zero() {
                    n.set_sign_positive(true);
                }
                Some(Num::Numeric(n))
            }
            None => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => constant(expr)?,
        Expr::Cast {
            expr, data_type, ..
        } => {
            let Some(info) = is_numeric_type(data_type) else {
                return Ok(None);
            };
            // `'2.50'::numeric` (and what this module folded before).
            let inner = match expr.as_ref() {
                Expr::Value(SqlValue::SingleQuotedString(s)) => {
                    Decimal::from_str(s.trim()).ok().map(Num::Numeric)
                }
                other => constant(other)?,
            };
            match inner {
                Some(n) => Some(Num::Numeric(with_typmod(n.decimal(), info)?)),
                None => None,
            }
        }
        Expr::BinaryOp { left, op, right } => {
            let (Some(l), Some(r)) = (constant(left)?, constant(right)?) else {
                return Ok(None);
            };
            if matches!((l, r), (Num::Int(_), Num::Int(_))) {
                return Ok(None);
            }
            let (a, b) = (l.decimal(), r.decimal());
            let v = match op {
                BinaryOperator::Plus => a.checked_add(b).ok_or_else(too_wide)?,
                BinaryOperator::Minus => a.checked_sub(b).ok_or_else(too_wide)?,
                BinaryOperator::Multiply => {
                    let p = a.checked_mul(b).ok_or_else(too_wide)?;
                    to_scale(p, i64::from(a.scale()) + i64::from(b.scale()))?
                }
                BinaryOperator::Divide => divide(a, b)?,
                BinaryOperator::PGExp => return Err(numeric_power()),
                _ => return Ok(None),
            };
            let mut v = v;
            if v.is_zero() {
                v.set_sign_positive(true);
            }
            Some(Num::Numeric(v))
        }
        Expr::Function(f)
            if f.over.is_none()
                && f.filter.is_none()
                && f.name.to_string().eq_ignore_ascii_case("sqrt") =>
        {
            match single_arg(&f.args).map(constant).transpose()?.flatten() {
                Some(Num::Numeric(d)) => Some(Num::Numeric(sqrt(d)?)),
                _ => None,
            }
        }
        _ => None,
    })
}

/// `e` cast to NUMERIC.
fn to_decimal(e: &mut Expr) {
    let inner = std::mem::replace(e, Expr::Value(SqlValue::Null));
    *e = Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(Expr::Nested(Box::new(inner))),
        data_type: SqlType::Decimal(ExactNumberInfo::None),
        format: None,
    };
}

/// A literal, possibly signed or parenthesised: left as written.
fn is_bare(e: &Expr) -> bool {
    match e {
        Expr::Value(_) => true,
        Expr::Nested(x) | Expr::UnaryOp { expr: x, .. } => is_bare(x),
        _ => false,
    }
}

fn single_arg(args: &FunctionArguments) -> Option<&Expr> {
    match args {
        FunctionArguments::List(l) => match l.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => Some(e),
            _ => None,
        },
        _ => None,
    }
}

/// The exact decimal `d` as GlueSQL reads it (a cast of its text keeps the
/// scale).
fn decimal_expr(d: Decimal) -> Expr {
    Expr::Nested(Box::new(Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(d.to_string()))),
        data_type: SqlType::Decimal(ExactNumberInfo::None),
        format: None,
    }))
}

struct Exact<'t> {
    /// Tables the statement names.
    tables: Vec<&'t TableInfo>,
    error: Option<SqlError>,
}

impl Exact<'_> {
    /// Whether `e` is a column that is NUMERIC in every table the
    /// statement names that has a column of its name.
    fn numeric_column(&self, e: &Expr) -> bool {
        let name = match e {
            Expr::Identifier(i) => &i.value,
            Expr::CompoundIdentifier(parts) => match parts.last() {
                Some(i) => &i.value,
                None => return false,
            },
            Expr::Nested(x) => return self.numeric_column(x),
            _ => return false,
        };
        let mut types = self.tables.iter().filter_map(|t| t.column_type(name));
        match types.next() {
            Some(DataType::Numeric) => types.all(|t| t == DataType::Numeric),
            _ => false,
        }
    }

    /// An integer operand: an integer literal, an integer column, a cast to
    /// an integer type.
    fn integer_operand(&self, e: &Expr) -> bool {
        let int = |t: DataType| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8);
        match e {
            Expr::Nested(x) => self.integer_operand(x),
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => self.integer_operand(expr),
            Expr::Value(SqlValue::Number(n, _)) => {
                matches!(literal(&n.to_string()), Some(Num::Int(_)))
            }
            Expr::Cast { data_type, .. } => {
                crate::rewrite::engine_type_of(data_type).is_some_and(int)
            }
            Expr::Identifier(i) => self.column_is(&i.value, int),
            Expr::CompoundIdentifier(parts) => {
                parts.last().is_some_and(|i| self.column_is(&i.value, int))
            }
            _ => false,
        }
    }

    /// Whether every table the statement names that has a column `name`
    /// has it of a type `ok` accepts (and at least one has it).
    fn column_is(&self, name: &str, ok: impl Fn(DataType) -> bool) -> bool {
        let mut types = self
            .tables
            .iter()
            .filter_map(|t| t.column_type(name))
            .peekable();
        types.peek().is_some() && types.all(ok)
    }

    /// A NUMERIC operand other than a folded constant: a NUMERIC column or
    /// a cast to NUMERIC.
    fn numeric_operand(&self, e: &Expr) -> bool {
        match e {
            Expr::Nested(x) => self.numeric_operand(x),
            Expr::Cast { data_type, .. } => is_numeric_type(data_type).is_some(),
            _ => self.numeric_column(e),
        }
    }

    fn visit(&mut self, e: &mut Expr) -> Result<()> {
        if !is_bare(e) {
            if let Some(Num::Numeric(d)) = constant(e)? {
                *e = decimal_expr(d);
                return Ok(());
            }
        }
        match e {
            Expr::BinaryOp { left, op, right } => {
                if matches!(op, BinaryOperator::PGExp)
                    && (self.numeric_operand(left) || self.numeric_operand(right))
                {
                    return Err(numeric_power());
                }
                let fractional = |x: &Expr| match x {
                    Expr::Value(SqlValue::Number(n, _)) => match literal(&n.to_string()) {
                        Some(Num::Numeric(d)) => Some(d),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(d) = fractional(right).filter(|_| self.numeric_operand(left)) {
                    **right = decimal_expr(d);
                } else if let Some(d) = fractional(left).filter(|_| self.numeric_operand(right)) {
                    **left = decimal_expr(d);
                }
                // GlueSQL computes `integer op decimal` in the integer's
                // type (`n - 20.5` is `n - 20`, `n / 2.0` an integer
                // quotient); PostgreSQL in NUMERIC.
                if matches!(
                    op,
                    BinaryOperator::Plus
                        | BinaryOperator::Minus
                        | BinaryOperator::Multiply
                        | BinaryOperator::Divide
                        | BinaryOperator::Modulo
                ) {
                    let exact = |x: &Expr| self.numeric_operand(x) || fractional(x).is_some();
                    if exact(left) && self.integer_operand(right) {
                        if let Some(d) = fractional(left) {
                            **left = decimal_expr(d);
                        }
                        to_decimal(right);
                    } else if exact(right) && self.integer_operand(left) {
                        if let Some(d) = fractional(right) {
                            **right = decimal_expr(d);
                        }
                        to_decimal(left);
                    }
                }
            }
            Expr::Function(f)
                if f.over.is_none()
                    && ["power", "pow"]
                        .iter()
                        .any(|n| f.name.to_string().eq_ignore_ascii_case(n)) =>
            {
                if let FunctionArguments::List(l) = &f.args {
                    let numeric = l.args.iter().any(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => {
                            self.numeric_operand(x)
                                || matches!(constant(x), Ok(Some(Num::Numeric(_))))
                        }
                        _ => false,
                    });
                    if numeric {
                        return Err(numeric_power());
                    }
                }
            }
            // ln, exp and log of a NUMERIC are NUMERICs with PostgreSQL's
            // scale (`exp(1.0)` has 17 significant digits), as is the
            // two-argument log, whose arguments GlueSQL also reads in the
            // other order (`log(2, 8)` was 0.333…, PostgreSQL's 3.000…).
            // `log(x)` of an integer or float is the base-10 logarithm.
            Expr::Function(f)
                if f.over.is_none()
                    && ["ln", "exp", "log", "log10"]
                        .iter()
                        .any(|n| f.name.to_string().eq_ignore_ascii_case(n)) =>
            {
                let name = f.name.to_string().to_ascii_lowercase();
                let args: Vec<Expr> = crate::pgfuncs::call_args(f)
                    .map(|a| a.into_iter().cloned().collect())
                    .unwrap_or_default();
                let numeric = args.iter().any(|x| {
                    self.numeric_operand(x) || matches!(constant(x), Ok(Some(Num::Numeric(_))))
                });
                if name == "log" && args.len() == 2 {
                    return Err(unsupported(
                        "log(b, x) is not supported (its result is a NUMERIC with \
                         PostgreSQL's scale)",
                    ));
                }
                if numeric {
                    return Err(unsupported(format!(
                        "{name}() of a NUMERIC value is not supported (its result is a \
                         NUMERIC with PostgreSQL's scale)"
                    )));
                }
                if name == "log" && args.len() == 1 {
                    *e = crate::pgfuncs::call("LOG10", args);
                }
            }
            Expr::Function(f)
                if f.over.is_none()
                    && f.name.to_string().eq_ignore_ascii_case("sqrt")
                    && single_arg(&f.args).is_some_and(|a| self.numeric_operand(a)) =>
            {
                return Err(unsupported(
                    "sqrt() of a NUMERIC column is not supported (its result is a NUMERIC \
                     with PostgreSQL's scale)",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

impl VisitorMut for Exact<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match self.visit(e) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                self.error = Some(err);
                ControlFlow::Break(())
            }
        }
    }
}

/// Rewrites a query as the module docs say (other statements are left
/// alone: their values take their target columns' types).
///
/// # Errors
/// 0A000 for what cannot be answered as PostgreSQL does; 22012, 22003 and
/// 2201F as PostgreSQL raises them for constants.
pub(crate) fn exact(stmt: &mut Statement, tables: &BTreeMap<String, Arc<TableInfo>>) -> Result<()> {
    if !matches!(stmt, Statement::Query(_)) {
        return Ok(());
    }
    let mut names = Vec::new();
    let _ = visit_relations(stmt, |n| {
        if let Some(last) = n.0.last() {
            names.push(last.value.clone());
        }
        ControlFlow::<()>::Continue(())
    });
    let mut v = Exact {
        tables: names
            .iter()
            .filter_map(|n| tables.get(n).map(|t| &**t))
            .collect(),
        error: None,
    };
    let _ = stmt.visit(&mut v);
    v.error.map_or(Ok(()), Err)
}

/// Operands of mixed numeric types, resolved as PostgreSQL resolves them,
/// where GlueSQL answers wrongly without an error:
///
/// - GlueSQL computes `integer op float` in the integer's type (`a + f` is
///   `1` for 1 + 0.2, `a * f` is `0`) and compares an integer with a float
///   or a fractional constant as unequal and unordered (`a < 3.5` is false
///   for 1). PostgreSQL computes and compares in double precision (float)
///   or NUMERIC (a fractional constant), so the integer side is cast.
/// - A NUMERIC value against an integer is unequal to GlueSQL (`price = 5`,
///   `price IN (5, 6)`, `price = qty`), so the integer side is cast to
///   NUMERIC.
/// - A NUMERIC value against a float compares and computes as a float in
///   PostgreSQL (`numeric < float8` is a float comparison); GlueSQL orders
///   them wrongly, so the NUMERIC side becomes the float.
///
/// Comparisons are `=`, `<>`, `<`, `<=`, `>`, `>=`, `IN` lists, `BETWEEN`
/// and `CASE x WHEN …`; arithmetic is `+ - * / %`. Runs on every statement
/// (an UPDATE's SET and WHERE too), after the rewrites that produce these.
///
/// # Errors
/// 42883 for `%` with a float operand, which PostgreSQL does not have.
pub(crate) fn comparisons(
    stmt: &mut Statement,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Result<()> {
    let typer = crate::infer::statement_typer(tables, stmt);
    let mut v = Comparisons {
        typer: &typer,
        error: None,
    };
    let _ = stmt.visit(&mut v);
    v.error.map_or(Ok(()), Err)
}

struct Comparisons<'a> {
    typer: &'a dyn Fn(&Expr) -> Option<DataType>,
    error: Option<SqlError>,
}

fn is_number_literal(e: &Expr) -> bool {
    match e {
        Expr::Value(SqlValue::Number(..)) => true,
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => is_number_literal(expr),
        Expr::Nested(e) => is_number_literal(e),
        _ => false,
    }
}

fn recast(e: &mut Expr, t: SqlType) {
    let inner = std::mem::replace(e, Expr::Value(SqlValue::Null));
    *e = Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(Expr::Nested(Box::new(inner))),
        data_type: t,
        format: None,
    };
}

fn ints(t: Option<DataType>) -> bool {
    matches!(t, Some(DataType::Int2 | DataType::Int4 | DataType::Int8))
}

/// An integer type's width rank and its SQL spelling.
fn int_rank(t: Option<DataType>) -> Option<(u8, SqlType)> {
    match t? {
        DataType::Int2 => Some((1, SqlType::Int16)),
        DataType::Int4 => Some((2, SqlType::Int32)),
        DataType::Int8 => Some((3, SqlType::Int64)),
        _ => None,
    }
}

/// Whether the integer literal `e` fits integer type `t`.
fn literal_fits(e: &Expr, t: Option<DataType>) -> bool {
    let Some(v) = crate::literals::number_text(e).and_then(|n| n.parse::<i64>().ok()) else {
        return false;
    };
    match t {
        Some(DataType::Int2) => i16::try_from(v).is_ok(),
        Some(DataType::Int4) => i32::try_from(v).is_ok(),
        Some(DataType::Int8) => true,
        _ => false,
    }
}

fn float(t: Option<DataType>) -> bool {
    t == Some(DataType::Float8)
}

fn real(t: Option<DataType>) -> bool {
    t == Some(DataType::Float4)
}

fn decimal_type() -> SqlType {
    SqlType::Decimal(ExactNumberInfo::None)
}

impl Comparisons<'_> {
    /// A NUMERIC value other than a constant.
    fn numeric(&self, e: &Expr) -> bool {
        (self.typer)(e) == Some(DataType::Numeric) && !is_number_literal(e)
    }

    /// A constant with a fraction or an exponent (`3.5`, `1e3`).
    fn fractional(&self, e: &Expr) -> bool {
        is_number_literal(e) && !ints((self.typer)(e))
    }

    /// A number other than a real: PostgreSQL computes and compares a real
    /// with it in double precision (`real_col = 0.1` is false for the
    /// real 0.1, `real_col * 3` is a double precision).
    fn other_number(&self, e: &Expr, t: Option<DataType>) -> bool {
        ints(t) || float(t) || t == Some(DataType::Numeric) || is_number_literal(e)
    }

    /// `a op b` of a real and another number, both as double precision
    /// (the one already double precision left alone); `b_only` casts only
    /// `b` (see [`Self::fix`]). Whether it applied.
    fn real_with_other(&self, a: &mut Expr, b: &mut Expr, b_only: bool) -> bool {
        let (ta, tb) = ((self.typer)(a), (self.typer)(b));
        let applies = (real(ta) && self.other_number(b, tb))
            || (real(tb) && self.other_number(a, ta) && !b_only);
        if !applies {
            return false;
        }
        if !float(ta) && !b_only {
            recast(a, SqlType::Float64);
        }
        if !float(tb) {
            recast(b, SqlType::Float64);
        }
        true
    }

    /// Makes the comparison `a op b` right by a cast of one side; `b_only`
    /// allows only a cast of `b` (an IN list's item, a CASE branch's
    /// value: `a` is shared with the other items, see [`Self::shared`]).
    fn fix(&self, a: &mut Expr, b: &mut Expr, b_only: bool) {
        if self.real_with_other(a, b, b_only) {
            return;
        }
        let (ta, tb) = ((self.typer)(a), (self.typer)(b));
        if self.numeric(a) && (ints(tb) || is_number_literal(b)) {
            recast(b, decimal_type());
        } else if self.numeric(b) && !b_only && (ints(ta) || is_number_literal(a)) {
            recast(a, decimal_type());
        } else if self.numeric(a) && float(tb) && !b_only {
            recast(a, SqlType::Float64);
        } else if self.numeric(b) && float(ta) {
            recast(b, SqlType::Float64);
        } else if ints(ta) && float(tb) && !b_only {
            recast(a, SqlType::Float64);
        } else if ints(tb) && float(ta) {
            recast(b, SqlType::Float64);
        } else if ints(ta) && self.fractional(b) && !b_only {
            // Both: GlueSQL finds a decimal unequal to a fractional literal.
            recast(a, decimal_type());
            recast(b, decimal_type());
        } else if ints(tb) && self.fractional(a) && !b_only {
            recast(a, decimal_type());
            recast(b, decimal_type());
        } else if let (Some((ra, sa)), Some((rb, sb))) = (int_rank(ta), int_rank(tb)) {
            // Integers of two widths: GlueSQL converts one to the other's
            // type and finds them unequal and unordered when it does not
            // fit (`smallint_col < 40000` was false), so the narrower side
            // is widened, as PostgreSQL compares. A literal that fits the
            // narrower side's type is left alone (keeps key push-down).
            if ra < rb && !b_only && !literal_fits(b, ta) && !is_number_literal(a) {
                recast(a, sb);
            } else if rb < ra && !literal_fits(a, tb) && !is_number_literal(b) {
                recast(b, sa);
            }
        }
    }

    /// Casts an integer `a` compared with several values (IN, BETWEEN,
    /// CASE) once, to what the widest of them needs.
    fn shared<'e>(&self, a: &mut Expr, mut others: impl Iterator<Item = &'e Expr>) {
        let ta = (self.typer)(a);
        if real(ta) {
            // Compared with another number: as double precision.
            if others.any(|o| self.other_number(o, (self.typer)(o))) {
                recast(a, SqlType::Float64);
            }
            return;
        }
        let Some((rank, _)) = int_rank(ta) else {
            return;
        };
        let mut to = None;
        let mut widest = rank;
        for o in others {
            let to_ = (self.typer)(o);
            if float(to_) {
                to = Some(SqlType::Float64);
                break;
            }
            if self.numeric(o) || self.fractional(o) {
                to = Some(decimal_type());
            } else if let Some((r, t)) = int_rank(to_) {
                // A wider integer (not a literal that fits `a`'s type).
                if r > widest && !literal_fits(o, ta) && to.is_none() {
                    widest = r;
                    to = Some(t);
                }
            }
        }
        if let Some(t) = to {
            recast(a, t);
        }
    }

    /// `a op b` computed in the type PostgreSQL computes it in.
    fn arithmetic(&self, a: &mut Expr, op: &BinaryOperator, b: &mut Expr) -> Result<()> {
        let (ta, tb) = ((self.typer)(a), (self.typer)(b));
        if matches!(op, BinaryOperator::Modulo) && (float(ta) || float(tb) || real(ta) || real(tb))
        {
            let name = |t: Option<DataType>| t.map_or("unknown", crate::convert::pg_type_name);
            return Err(SqlError::State {
                code: "42883",
                message: format!("operator does not exist: {} % {}", name(ta), name(tb)),
            });
        }
        if self.real_with_other(a, b, false) {
            return Ok(());
        }
        if (ints(ta) || self.numeric(a)) && float(tb) {
            recast(a, SqlType::Float64);
        } else if float(ta) && (ints(tb) || self.numeric(b)) {
            recast(b, SqlType::Float64);
        } else if (ints(ta) && self.fractional(b)) || (self.fractional(a) && ints(tb)) {
            // `i + 0.5` is NUMERIC (GlueSQL: in the integer's type, 3 for
            // 3 + 0.5). A query's were made exact by [`exact`]; these are
            // an UPDATE's, whose NUMERIC value is then cast to the column.
            recast(a, decimal_type());
            recast(b, decimal_type());
        } else if let (Some((ra, sa)), Some((rb, sb))) = (int_rank(ta), int_rank(tb)) {
            // Integers of two widths are computed in the wider, as in
            // PostgreSQL (GlueSQL: in the left operand's type, so
            // `smallint_col * 1000` overflowed and `int_col + bigint_col`
            // failed). A narrower literal on the right GlueSQL converts itself.
            if ra < rb {
                recast(a, sb);
            } else if rb < ra && !is_number_literal(b) {
                recast(b, sa);
            }
        } else if matches!(op, BinaryOperator::Minus) {
            // `timestamp - date`: the date at midnight (GlueSQL has no
            // such operator).
            let stamp = |t: Option<DataType>| t == Some(DataType::Timestamp);
            let timestamp = SqlType::Timestamp(None, TimezoneInfo::None);
            if stamp(ta) && tb == Some(DataType::Date) {
                recast(b, timestamp);
            } else if ta == Some(DataType::Date) && stamp(tb) {
                recast(a, timestamp);
            }
        }
        Ok(())
    }
}

impl VisitorMut for Comparisons<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
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
            } => self.fix(left, right, false),
            // `x ^ y` of integers and floats is double precision, as
            // PostgreSQL's `dpow` (a NUMERIC operand was refused by
            // [`exact`]); GlueSQL has no `^`.
            Expr::BinaryOp {
                left,
                op: BinaryOperator::PGExp,
                right,
            } => {
                let float = |x: &mut Expr| {
                    crate::pgfuncs::cast(
                        std::mem::replace(x, Expr::Value(SqlValue::Null)),
                        SqlType::Float64,
                    )
                };
                let (l, r) = (float(left), float(right));
                *e = crate::pgfuncs::call("POWER", vec![l, r]);
            }
            Expr::BinaryOp {
                left,
                op:
                    op @ (BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::Modulo),
                right,
            } => {
                if let Err(e) = self.arithmetic(left, op, right) {
                    self.error = Some(e);
                    return ControlFlow::Break(());
                }
            }
            // `real_col IN (0.1, 0.2)`: PostgreSQL resolves a real and
            // constants to their common type, real, unlike `real_col = 0.1`.
            Expr::InList { expr, list, .. }
                if real((self.typer)(expr))
                    && list
                        .iter()
                        .all(|o| is_number_literal(o) || real((self.typer)(o))) =>
            {
                for item in list.iter_mut() {
                    if !real((self.typer)(item)) {
                        recast(item, SqlType::Float32);
                    }
                }
            }
            Expr::InList { expr, list, .. } => {
                self.shared(expr, list.iter());
                for item in list.iter_mut() {
                    self.fix(expr, item, true);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.shared(expr, [&**low, &**high].into_iter());
                self.fix(expr, low, true);
                self.fix(expr, high, true);
            }
            Expr::Case {
                operand: Some(operand),
                conditions,
                ..
            } => {
                self.shared(operand, conditions.iter());
                for c in conditions.iter_mut() {
                    self.fix(operand, c, true);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Parameters sent typed as floats or NUMERICs (psycopg sends `2.5` as
/// float8, `Decimal` as numeric), or integers too wide for the integer they
/// meet, keep their own type, as PostgreSQL keeps a declared parameter
/// type: `$1` becomes `CAST($1 AS …)`, and [`comparisons`] then widens the
/// other side. Otherwise `int_col = $1` with 1.5 read the value as the
/// column's integer (an error) and `smallint_col < $1` with 40000 too.
/// A float or NUMERIC holding an integer that fits the integer it meets is
/// left to be read as that integer (keeps key push-down for `id = 2.0`).
///
/// Text (untyped) parameters take the type of what they meet, as
/// PostgreSQL's unknown-typed parameters do.
pub(crate) fn typed_params(
    stmt: &mut Statement,
    tables: &BTreeMap<String, Arc<TableInfo>>,
    params: &[heliosdb_core::Value],
) {
    if params.is_empty() {
        return;
    }
    let typer = crate::infer::statement_typer(tables, stmt);
    let mut v = TypedParams {
        typer: &typer,
        params,
    };
    let _ = stmt.visit(&mut v);
}

struct TypedParams<'a> {
    typer: &'a dyn Fn(&Expr) -> Option<DataType>,
    params: &'a [heliosdb_core::Value],
}

impl TypedParams<'_> {
    fn widen(&self, e: &mut Expr, other: Option<DataType>) {
        use heliosdb_core::Value as V;
        let Expr::Value(SqlValue::Placeholder(p)) = &*e else {
            return;
        };
        let Some(value) = p
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.params.get(i))
        else {
            return;
        };
        // The integer `other` holds, when it is one.
        let fits = |i: Option<i64>| -> bool {
            let Some(i) = i else {
                return false;
            };
            match other {
                Some(DataType::Int2) => i16::try_from(i).is_ok(),
                Some(DataType::Int4) => i32::try_from(i).is_ok(),
                Some(DataType::Int8) => true,
                _ => false,
            }
        };
        let to = match value {
            V::Float8(f) => {
                #[allow(clippy::cast_possible_truncation)]
                let whole = (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(*f as i64);
                (!fits(whole)).then_some(SqlType::Float64)
            }
            V::Numeric(d) => {
                let whole = d.fract().is_zero().then(|| d.to_i64()).flatten();
                (!fits(whole)).then(decimal_type)
            }
            V::Int2(_) | V::Int4(_) | V::Int8(_) if ints(other) => {
                let i = match value {
                    V::Int2(i) => i64::from(*i),
                    V::Int4(i) => i64::from(*i),
                    V::Int8(i) => *i,
                    _ => 0,
                };
                (!fits(Some(i))).then_some(SqlType::Int64)
            }
            _ => None,
        };
        if let Some(t) = to {
            let inner = std::mem::replace(e, Expr::Value(SqlValue::Null));
            *e = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(inner),
                data_type: t,
                format: None,
            };
        }
    }
}

impl VisitorMut for TypedParams<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
            Expr::BinaryOp {
                left,
                op:
                    BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq
                    | BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide,
                right,
            } => {
                let (tl, tr) = ((self.typer)(left), (self.typer)(right));
                self.widen(left, tr);
                self.widen(right, tl);
            }
            Expr::InList { expr, list, .. } => {
                let t = (self.typer)(expr);
                for item in list.iter_mut() {
                    self.widen(item, t);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                let t = (self.typer)(expr);
                self.widen(low, t);
                self.widen(high, t);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Casts of NUMERIC and float values as PostgreSQL rounds them, where
/// GlueSQL truncates:
///
/// - to an integer type: a NUMERIC rounds half away from zero (`2.50::int`
///   is 3), a float to the nearest even integer on a tie (`2.5::float8::int`
///   is 2, `round(2.5::float8)` too), text skips surrounding spaces
///   (`' 42 '::int`);
/// - to `NUMERIC(p, s)`: rounded to `s` places (half away from zero), and
///   an error when more than `p - s` integer digits remain (PostgreSQL's
///   22003; here a class-22 error naming the overflow).
///
/// Runs first among the rewrites, so only the statement's own casts are
/// read (later rewrites write casts that mean GlueSQL's truncation).
/// Constants are left to [`exact`].
///
/// # Errors
/// 0A000 for a cast to `NUMERIC(p, s)` with more than 18 digits either side
/// of the point.
pub(crate) fn conversions(
    stmt: &mut Statement,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Result<()> {
    // Not DDL: a view's or default's text is kept as written.
    if !matches!(
        stmt,
        Statement::Query(_)
            | Statement::Insert(_)
            | Statement::Update { .. }
            | Statement::Delete(_)
    ) {
        return Ok(());
    }
    let typer = crate::infer::statement_typer(tables, stmt);
    assignment_casts(stmt, tables, &typer);
    let mut v = Conversions {
        typer: &typer,
        error: None,
    };
    let _ = stmt.visit(&mut v);
    v.error.map_or(Ok(()), Err)
}

/// `UPDATE … SET col = value` and `INSERT … SELECT value` (or `VALUES`)
/// of another numeric type than the column's: the value cast to the
/// column's type, as PostgreSQL's assignment casts it (GlueSQL refuses an
/// integer into a bigint column, a float into an integer one). The casts
/// then round as [`Conversions`] makes them. A number written into a text
/// column becomes its text, as PostgreSQL's assignment does.
fn assignment_casts(
    stmt: &mut Statement,
    tables: &BTreeMap<String, Arc<TableInfo>>,
    typer: &dyn Fn(&Expr) -> Option<DataType>,
) {
    use gluesql_core::sqlparser::ast::{AssignmentTarget, TableFactor};
    match stmt {
        Statement::Update {
            table, assignments, ..
        } => {
            let TableFactor::Table { name, .. } = &table.relation else {
                return;
            };
            let Some(info) = name.0.last().and_then(|n| tables.get(&n.value)) else {
                return;
            };
            for a in assignments.iter_mut() {
                let AssignmentTarget::ColumnName(col) = &a.target else {
                    continue;
                };
                if let Some(target) = col.0.last().and_then(|c| info.column_type(&c.value)) {
                    assign_cast(target, &mut a.value, typer);
                }
            }
        }
        Statement::Insert(ins) => {
            let Some(info) = ins.table_name.0.last().and_then(|n| tables.get(&n.value)) else {
                return;
            };
            let targets = info.insert_types(&ins.columns);
            let Some(source) = ins.source.as_mut() else {
                return;
            };
            match source.body.as_mut() {
                SetExpr::Select(select) => {
                    let items = &mut select.projection;
                    if items.len() != targets.len() {
                        return;
                    }
                    for (item, t) in items.iter_mut().zip(&targets) {
                        if let (
                            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. },
                            Some(t),
                        ) = (item, t)
                        {
                            assign_cast(*t, e, typer);
                        }
                    }
                }
                SetExpr::Values(values) => {
                    for row in &mut values.rows {
                        for (e, t) in row.iter_mut().zip(&targets) {
                            if let Some(t) = t {
                                assign_cast(*t, e, typer);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// `value` cast to a column of type `target` when PostgreSQL's assignment
/// converts it and GlueSQL would not (literals are left to
/// `literals::assign_number`).
fn assign_cast(target: DataType, value: &mut Expr, typer: &dyn Fn(&Expr) -> Option<DataType>) {
    let number = crate::convert::number_type;
    let Some(source) = typer(value) else {
        return;
    };
    // `coalesce(n, 0) + 10` into an integer column: GlueSQL's constant is
    // a bigint whatever the column, so a function's or CASE's integer is
    // cast to the column's type as well.
    let computed = || {
        let mut found = false;
        let _ = gluesql_core::sqlparser::ast::visit_expressions(value, |x| {
            found |= matches!(x, Expr::Function(_) | Expr::Case { .. });
            ControlFlow::<()>::Continue(())
        });
        found
    };
    let same =
        target == source && !(matches!(target, DataType::Int2 | DataType::Int4) && computed());
    if same || !number(source) || is_number_literal(value) {
        return;
    }
    let to = match target {
        DataType::Int2 => SqlType::Int16,
        DataType::Int4 => SqlType::Int32,
        DataType::Int8 => SqlType::Int64,
        DataType::Float8 => SqlType::Float64,
        DataType::Float4 => SqlType::Float32,
        DataType::Numeric => SqlType::Decimal(ExactNumberInfo::None),
        DataType::Text if !matches!(source, DataType::Float8 | DataType::Float4) => SqlType::Text,
        _ => return,
    };
    recast(value, to);
}

/// NUMERIC and the integers: the types GlueSQL's ROUND, TRUNC, CEIL and
/// FLOOR refuse (they take floats).
fn exact_number(t: DataType) -> bool {
    matches!(
        t,
        DataType::Numeric | DataType::Int2 | DataType::Int4 | DataType::Int8
    )
}

/// `trunc(x)` of a NUMERIC: the integer part (toward zero), a NUMERIC.
fn decimal_trunc(x: Expr) -> Expr {
    let d = crate::pgfuncs::cast(x, SqlType::Decimal(ExactNumberInfo::None));
    crate::pgfuncs::cast(
        crate::pgfuncs::cast(d, SqlType::Int64),
        SqlType::Decimal(ExactNumberInfo::None),
    )
}

/// `ceil(x)` (`op` `>`, `step` 1) or `floor(x)` (`<`, -1) of a NUMERIC:
/// the integer part, moved one step when `x` lies beyond it.
fn decimal_step(x: &Expr, op: BinaryOperator, step: &str) -> Expr {
    use crate::pgfuncs::{bin, case, decimal};
    let whole = decimal_trunc(x.clone());
    case(
        vec![bin(x.clone(), op, whole.clone())],
        vec![bin(whole.clone(), BinaryOperator::Plus, decimal(step))],
        Some(whole),
    )
}

struct Conversions<'a> {
    typer: &'a dyn Fn(&Expr) -> Option<DataType>,
    error: Option<SqlError>,
}

/// `x` rounded to the nearest integer, ties to even (PostgreSQL's `rint`):
/// GlueSQL's ROUND of a float rounds ties away from zero.
fn float_rint(x: Expr) -> Expr {
    use crate::pgfuncs::{bin, call, case};
    let two = || Expr::Value(SqlValue::Number("2".parse().unwrap_or_default(), false));
    let half = Expr::Value(SqlValue::Number("0.5".parse().unwrap_or_default(), false));
    let fraction = bin(
        x.clone(),
        BinaryOperator::Minus,
        Expr::Floor {
            expr: Box::new(x.clone()),
            field: gluesql_core::sqlparser::ast::CeilFloorKind::DateTimeField(
                gluesql_core::sqlparser::ast::DateTimeField::NoDateTime,
            ),
        },
    );
    let rint = case(
        vec![bin(fraction, BinaryOperator::Eq, half)],
        // Twice the rounded half, as a sum: `-0.5` gives `-0` as in
        // PostgreSQL (an integer product would lose the sign).
        vec![bin(
            call("ROUND", vec![bin(x.clone(), BinaryOperator::Divide, two())]),
            BinaryOperator::Plus,
            call("ROUND", vec![bin(x.clone(), BinaryOperator::Divide, two())]),
        )],
        Some(call("ROUND", vec![x])),
    );
    // Typed as the float it is.
    crate::pgfuncs::cast(rint, SqlType::Float64)
}

impl Conversions<'_> {
    fn visit(&self, e: &mut Expr) -> Result<()> {
        let int = |t: &SqlType| {
            crate::rewrite::engine_type_of(t)
                .is_some_and(|t| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8))
        };
        match e {
            // An explicit cast to `varchar(n)` or `char(n)` cuts the text
            // to n characters (GlueSQL's cast keeps it whole).
            Expr::Cast {
                expr, data_type, ..
            } if crate::rewrite::cast_char_limit(data_type).is_some() => {
                let n = crate::rewrite::cast_char_limit(data_type).unwrap_or(0);
                let inner = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                *e = crate::pgfuncs::call(
                    "LEFT",
                    vec![
                        crate::pgfuncs::cast(inner, SqlType::Text),
                        Expr::Value(SqlValue::Number(
                            n.to_string().parse().unwrap_or_default(),
                            false,
                        )),
                    ],
                );
            }
            Expr::Cast {
                expr, data_type, ..
            } if int(data_type) => {
                if constant(expr)?.is_some() {
                    return Ok(());
                }
                let inner = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                **expr = match (self.typer)(&inner) {
                    Some(DataType::Numeric) => crate::pgfuncs::round(inner, 0)?,
                    Some(DataType::Float8) => float_rint(inner),
                    Some(DataType::Float4) => {
                        float_rint(crate::pgfuncs::cast(inner, SqlType::Float64))
                    }
                    // PostgreSQL's integer input skips surrounding spaces.
                    Some(DataType::Text) => Expr::Trim {
                        expr: Box::new(inner),
                        trim_where: None,
                        trim_what: None,
                        trim_characters: None,
                    },
                    _ if matches!(inner, Expr::Value(SqlValue::SingleQuotedString(_))) => {
                        Expr::Trim {
                            expr: Box::new(inner),
                            trim_where: None,
                            trim_what: None,
                            trim_characters: None,
                        }
                    }
                    _ => inner,
                };
            }
            Expr::Cast {
                expr, data_type, ..
            } => {
                let Some(info) = is_numeric_type(data_type) else {
                    return Ok(());
                };
                let (p, s) = match info {
                    ExactNumberInfo::None => return Ok(()),
                    ExactNumberInfo::Precision(p) => (*p, 0),
                    ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
                };
                // An integer too: `sum(i)::numeric(10,1)` is `110.0`.
                if constant(expr)?.is_some()
                    || !(self.typer)(expr).is_some_and(crate::convert::number_type)
                {
                    return Ok(());
                }
                let digits = p.checked_sub(s).filter(|d| *d <= 18).ok_or_else(|| {
                    unsupported(format!(
                        "a cast to NUMERIC({p}, {s}) of a value that is not a constant is not \
                         supported"
                    ))
                })?;
                let scale = i64::try_from(s).map_err(|_| too_wide())?;
                let inner = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                let rounded = crate::pgfuncs::round(inner, scale)?;
                // Past p - s integer digits: a cast that fails, naming the
                // overflow (GlueSQL has no function raising an error).
                let limit = format!("1{}", "0".repeat(usize::try_from(digits).unwrap_or(0)));
                let overflow = crate::pgfuncs::cast(
                    Expr::Value(SqlValue::SingleQuotedString(format!(
                        "{}a field with precision {p}, scale {s} must \
                         round to an absolute value less than 10^{digits}",
                        crate::sqlstate::NUMERIC_FIELD_OVERFLOW
                    ))),
                    SqlType::Decimal(ExactNumberInfo::None),
                );
                **expr = crate::pgfuncs::case(
                    vec![crate::pgfuncs::bin(
                        crate::pgfuncs::call("ABS", vec![rounded.clone()]),
                        BinaryOperator::GtEq,
                        crate::pgfuncs::decimal(&limit),
                    )],
                    vec![overflow],
                    Some(rounded),
                );
            }
            Expr::Function(f)
                if f.over.is_none() && f.name.to_string().eq_ignore_ascii_case("round") =>
            {
                let x = match crate::pgfuncs::call_args(f).as_deref() {
                    Some([x]) => (*x).clone(),
                    _ => return Ok(()),
                };
                match (self.typer)(&x) {
                    Some(DataType::Float8) => *e = float_rint(x),
                    Some(DataType::Float4) => {
                        *e = float_rint(crate::pgfuncs::cast(x, SqlType::Float64))
                    }
                    // GlueSQL's ROUND takes floats only; PostgreSQL's of a
                    // NUMERIC (or integer) is a NUMERIC, half away from zero.
                    Some(t) if exact_number(t) => *e = crate::pgfuncs::round(x, 0)?,
                    _ => {}
                }
            }
            Expr::Function(f)
                if f.over.is_none() && f.name.to_string().eq_ignore_ascii_case("trunc") =>
            {
                let (x, digits) = match crate::pgfuncs::call_args(f).as_deref() {
                    Some([x]) => ((*x).clone(), None),
                    Some([x, n]) => ((*x).clone(), Some((*n).clone())),
                    _ => return Ok(()),
                };
                let exact = (self.typer)(&x).is_some_and(exact_number)
                    || matches!(constant(&x), Ok(Some(_)));
                match digits {
                    None if exact => *e = decimal_trunc(x),
                    None => {}
                    // `trunc(x, n)` with a constant n, of a NUMERIC; PostgreSQL
                    // has none of a float. Others (a parameter n) are left to
                    // the row-function path (`jsonops`).
                    Some(n) => match ((self.typer)(&x), constant(&n)?) {
                        (Some(t @ (DataType::Float8 | DataType::Float4)), _) => {
                            return Err(SqlError::State {
                                code: "42883",
                                message: format!(
                                    "function trunc({}, integer) does not exist",
                                    crate::convert::pg_type_name(t)
                                ),
                            });
                        }
                        (_, Some(Num::Int(k))) if exact => *e = crate::pgfuncs::trunc(x, k)?,
                        _ => {}
                    },
                }
            }
            Expr::Ceil {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } if (self.typer)(expr).is_some_and(exact_number) => {
                *e = decimal_step(expr, BinaryOperator::Gt, "1");
            }
            Expr::Floor {
                expr,
                field: CeilFloorKind::DateTimeField(DateTimeField::NoDateTime),
            } if (self.typer)(expr).is_some_and(exact_number) => {
                *e = decimal_step(expr, BinaryOperator::Lt, "-1");
            }
            _ => {}
        }
        Ok(())
    }
}

impl VisitorMut for Conversions<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match self.visit(e) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                self.error = Some(err);
                ControlFlow::Break(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn division_takes_postgres_scale() {
        // Results as PostgreSQL 15 prints them.
        assert_eq!(
            divide(d("10"), d("4")).unwrap().to_string(),
            "2.5000000000000000"
        );
        assert_eq!(
            divide(d("100.00"), d("3")).unwrap().to_string(),
            "33.3333333333333333"
        );
        assert_eq!(
            divide(d("1"), d("3")).unwrap().to_string(),
            "0.33333333333333333333"
        );
        assert_eq!(
            divide(d("7.0"), d("2")).unwrap().to_string(),
            "3.5000000000000000"
        );
        assert_eq!(
            divide(d("7"), d("2.0")).unwrap().to_string(),
            "3.5000000000000000"
        );
        assert_eq!(
            divide(d("123456"), d("7")).unwrap().to_string(),
            "17636.571428571429"
        );
        assert_eq!(
            divide(d("-1"), d("8")).unwrap().to_string(),
            "-0.12500000000000000000"
        );
        assert_eq!(
            divide(d("0.001"), d("3")).unwrap().to_string(),
            "0.00033333333333333333"
        );
        assert_eq!(
            divide(d("0"), d("3")).unwrap().to_string(),
            "0.00000000000000000000"
        );
        assert_eq!(divide(d("1"), d("0")).unwrap_err().sqlstate(), "22012");
    }

    #[test]
    fn sqrt_takes_postgres_scale() {
        assert_eq!(sqrt(d("16.0")).unwrap().to_string(), "4.000000000000000");
        assert_eq!(sqrt(d("2")).unwrap().to_string(), "1.414213562373095");
        assert_eq!(sqrt(d("0.25")).unwrap().to_string(), "0.50000000000000000");
        assert_eq!(sqrt(d("-1")).unwrap_err().sqlstate(), "2201F");
    }

    #[test]
    fn typmod_rounds_and_checks() {
        let ps = |p, s| ExactNumberInfo::PrecisionAndScale(p, s);
        assert_eq!(
            with_typmod(d("12.345"), &ps(5, 2)).unwrap().to_string(),
            "12.35"
        );
        assert_eq!(
            with_typmod(d("12.5"), &ExactNumberInfo::Precision(3))
                .unwrap()
                .to_string(),
            "13"
        );
        assert_eq!(
            with_typmod(d("1234.5"), &ps(4, 1)).unwrap_err().sqlstate(),
            "22003"
        );
    }
}

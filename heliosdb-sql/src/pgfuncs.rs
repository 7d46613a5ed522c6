//! PostgreSQL functions, predicates and clauses GlueSQL lacks, rewritten
//! into forms it evaluates exactly as PostgreSQL does:
//!
//! - `round(x, n)` (numeric, half away from zero, scale n), `char_length`,
//!   `character_length`, `greatest`/`least` (NULLs skipped),
//!   `statement_timestamp()`, `transaction_timestamp()`,
//!   `clock_timestamp()` (the statement's instant, like `now()`),
//!   `current_schemas(b)`, `to_regclass('name')`;
//! - `bool_and`/`bool_or`/`every`, and aggregate `FILTER (WHERE …)` (the
//!   filtered-out rows become NULL arguments, which aggregates skip);
//! - `sum` of an INTEGER/SMALLINT column is summed as BIGINT and of a
//!   BIGINT column as NUMERIC, as PostgreSQL's `sum` widens;
//! - `CAST(3.7 AS INT)` of a literal rounds half away from zero;
//! - `IS [NOT] DISTINCT FROM`, `IS [NOT] TRUE/FALSE/UNKNOWN`;
//! - `LIKE` with `\` escapes or `ESCAPE` (a literal pattern) as an anchored
//!   regular-expression match;
//! - `FETCH FIRST n ROWS ONLY` is `LIMIT n`; `FOR UPDATE`/`FOR SHARE` are
//!   dropped (see `post_visit_query` for why that is sound);
//! - `x op ANY/ALL (SELECT …)` with NULLs as PostgreSQL treats them (and,
//!   through [`quantified`], `x [NOT] IN (SELECT …)` in `logic`).
//!
//! Runs before [`crate::rewrite::pg_semantics`], which refuses what is left
//! (FILTER on what is not an aggregate rewritten here, ORDER BY inside
//! arguments).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, BinaryOperator, CastKind, DataType as SqlType, Expr, Function,
    FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, GroupByExpr, Ident,
    ObjectName, Query, SelectItem, SetExpr, Statement, TableFactor, UnaryOperator,
    Value as SqlValue, VisitMut, VisitorMut,
};
use heliosdb_core::DataType;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::store::TableInfo;
use crate::{Result, SqlError};

fn null() -> Expr {
    Expr::Value(SqlValue::Null)
}

fn boolean(b: bool) -> Expr {
    Expr::Value(SqlValue::Boolean(b))
}

pub(crate) fn text(s: &str) -> Expr {
    Expr::Value(SqlValue::SingleQuotedString(s.into()))
}

fn nested(e: Expr) -> Box<Expr> {
    Box::new(Expr::Nested(Box::new(e)))
}

fn is_null(e: &Expr) -> Expr {
    Expr::IsNull(nested(e.clone()))
}

fn is_not_null(e: &Expr) -> Expr {
    Expr::IsNotNull(nested(e.clone()))
}

pub(crate) fn bin(l: Expr, op: BinaryOperator, r: Expr) -> Expr {
    Expr::BinaryOp {
        left: nested(l),
        op,
        right: nested(r),
    }
}

/// `position(sub IN s)` as PostgreSQL answers it: an empty `sub` is found
/// at 1 (GlueSQL answers 0), NULL in either gives NULL.
fn position(sub: Expr, s: Expr) -> Result<Expr> {
    let one = Expr::Value(SqlValue::Number(
        "1".parse().map_err(|_| unsupported("1"))?,
        false,
    ));
    Ok(case(
        vec![is_null(&s), bin(sub.clone(), BinaryOperator::Eq, text(""))],
        vec![null(), one],
        Some(Expr::Position {
            expr: Box::new(sub),
            r#in: Box::new(s),
        }),
    ))
}

/// An integer literal.
fn number(n: u64) -> Expr {
    Expr::Value(SqlValue::Number(
        n.to_string().parse().unwrap_or_default(),
        false,
    ))
}

pub(crate) fn case(conditions: Vec<Expr>, results: Vec<Expr>, otherwise: Option<Expr>) -> Expr {
    Expr::Nested(Box::new(Expr::Case {
        operand: None,
        conditions,
        results,
        else_result: otherwise.map(Box::new),
    }))
}

pub(crate) fn cast(e: Expr, t: SqlType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(e),
        data_type: t,
        format: None,
    }
}

/// An exact decimal constant (GlueSQL reads number literals through f64).
pub(crate) fn decimal(s: &str) -> Expr {
    cast(
        text(s),
        SqlType::Decimal(gluesql_core::sqlparser::ast::ExactNumberInfo::None),
    )
}

/// A call of function `name` with positional arguments.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![Ident::new(name)]),
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::Unsupported(what.into())
}

/// The plain expression arguments of a call, borrowed; `None` when some
/// argument is named or a wildcard, or the arguments are a subquery.
/// Clauses (`ORDER BY` inside the call), `DISTINCT`, `FILTER` and `OVER`
/// are the caller's to check.
pub(crate) fn call_args(f: &Function) -> Option<Vec<&Expr>> {
    match &f.args {
        FunctionArguments::None => Some(Vec::new()),
        FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        FunctionArguments::Subquery(_) => None,
    }
}

/// The plain expression arguments of a call, owned; `None` as for
/// [`call_args`], or when the call has clauses (ORDER BY …).
fn plain_args(f: &Function) -> Option<Vec<Expr>> {
    if matches!(&f.args, FunctionArguments::List(l) if !l.clauses.is_empty()) {
        return None;
    }
    Some(call_args(f)?.into_iter().cloned().collect())
}

fn integer_literal(e: &Expr) -> Option<i64> {
    match e {
        Expr::Value(SqlValue::Number(n, _)) => n.to_string().parse().ok(),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => integer_literal(expr).map(|n| -n),
        Expr::Nested(x) => integer_literal(x),
        _ => None,
    }
}

fn number_literal(e: &Expr) -> Option<Decimal> {
    match e {
        Expr::Value(SqlValue::Number(n, _)) => n.to_string().parse().ok(),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => number_literal(expr).map(|n| -n),
        Expr::Nested(x) => number_literal(x),
        _ => None,
    }
}

/// `TRIM([BOTH|LEADING|TRAILING] [chars] FROM x)` (and `btrim`, written as
/// such a TRIM) as `LTRIM`/`RTRIM` calls: GlueSQL's TRIM with a side or a
/// set of characters drops characters matched inside the text too
/// (`trim(both 'x' from 'xaxbx')` was `a`, PostgreSQL's `axb`), its LTRIM
/// and RTRIM trim as PostgreSQL does. Runs last, on what reaches GlueSQL.
pub(crate) fn trims(stmt: &mut Statement) {
    use gluesql_core::sqlparser::ast::TrimWhereField;
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Trim {
            expr,
            trim_where,
            trim_what,
            trim_characters,
        } = e
        {
            let chars = match (trim_what.take(), trim_characters.take()) {
                (Some(w), _) => Some(*w),
                (None, Some(mut c)) if c.len() == 1 => c.pop(),
                (None, Some(c)) => {
                    *trim_characters = Some(c);
                    return ControlFlow::<()>::Continue(());
                }
                (None, None) => None,
            };
            let x = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
            let side = |name: &str, x: Expr| {
                let mut args = vec![x];
                args.extend(chars.clone());
                call(name, args)
            };
            *e = match trim_where {
                Some(TrimWhereField::Leading) => side("LTRIM", x),
                Some(TrimWhereField::Trailing) => side("RTRIM", x),
                _ => side("LTRIM", side("RTRIM", x)),
            };
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `round(x, n)` for a literal n: `x` as an exact decimal, shifted by n
/// digits, moved half a unit away from zero, truncated (a BIGINT cast
/// truncates), shifted back by multiplying with `10^-n`, which gives the
/// result PostgreSQL's scale n.
pub(crate) fn round(x: Expr, n: i64) -> Result<Expr> {
    round_or_trunc(x, n, false)
}

/// `trunc(x, n)` of a NUMERIC (or integer): toward zero at `n` digits,
/// with scale `n` (at least 0), as PostgreSQL's.
pub(crate) fn trunc(x: Expr, n: i64) -> Result<Expr> {
    round_or_trunc(x, n, true)
}

fn round_or_trunc(x: Expr, n: i64, trunc: bool) -> Result<Expr> {
    let name = if trunc { "trunc" } else { "round" };
    if !(-18..=18).contains(&n) {
        return Err(unsupported(format!(
            "{name}(x, {n}): at most 18 digits either side of the point are supported"
        )));
    }
    let pow = |k: i64| -> String {
        if k >= 0 {
            format!("1{}", "0".repeat(k.unsigned_abs() as usize))
        } else {
            format!("0.{}1", "0".repeat(k.unsigned_abs() as usize - 1))
        }
    };
    let d = cast(
        x,
        SqlType::Decimal(gluesql_core::sqlparser::ast::ExactNumberInfo::None),
    );
    let half = case(
        vec![bin(d.clone(), BinaryOperator::Lt, decimal("0"))],
        vec![decimal("-0.5")],
        Some(decimal("0.5")),
    );
    let product = bin(d, BinaryOperator::Multiply, decimal(&pow(n)));
    // The cast to an integer below cuts toward zero.
    let shifted = if trunc {
        product
    } else {
        bin(product, BinaryOperator::Plus, half)
    };
    let whole = cast(
        cast(shifted, SqlType::Int64),
        SqlType::Decimal(gluesql_core::sqlparser::ast::ExactNumberInfo::None),
    );
    let scaled = bin(whole.clone(), BinaryOperator::Multiply, decimal(&pow(-n)));
    if n <= 0 {
        return Ok(scaled);
    }
    // The engine's decimal product with zero drops the scale (0, not 0.00).
    let zero = format!("0.{}", "0".repeat(n.unsigned_abs() as usize));
    Ok(case(
        vec![bin(whole, BinaryOperator::Eq, decimal("0"))],
        vec![decimal(&zero)],
        Some(scaled),
    ))
}

/// A LIKE pattern as an anchored regular expression: `%` any run, `_` any
/// one character, the escape character (`\` unless ESCAPE names another;
/// ESCAPE '' names none) makes the next one literal.
fn like_regex(p: &str, escape: Option<&str>) -> Result<String> {
    let esc = match escape {
        None => Some('\\'),
        Some(e) => {
            let mut chars = e.chars();
            match (chars.next(), chars.next()) {
                (None, _) => None,
                (Some(c), None) => Some(c),
                _ => {
                    return Err(SqlError::State {
                        code: "22019",
                        message: "invalid escape string".into(),
                    })
                }
            }
        }
    };
    let mut re = String::from("(?s)^");
    let literal = |re: &mut String, c: char| {
        if c.is_alphanumeric() || c == ' ' {
            re.push(c);
        } else {
            re.push_str(&format!("\\x{{{:x}}}", u32::from(c)));
        }
    };
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if Some(c) == esc {
            let Some(next) = chars.next() else {
                return Err(SqlError::State {
                    code: "22025",
                    message: "LIKE pattern must not end with escape character".into(),
                });
            };
            literal(&mut re, next);
        } else if c == '%' {
            re.push_str(".*");
        } else if c == '_' {
            re.push('.');
        } else {
            literal(&mut re, c);
        }
    }
    re.push('$');
    Ok(re)
}

/// `greatest`/`least`: the first argument that is not NULL and not beaten
/// by any other non-NULL argument (NULL when all are NULL).
/// `format('… %s …', a, …)` with a literal format of `%s` and `%%` only, as
/// `concat` of its pieces and arguments (`%s` of NULL is empty, as in
/// `concat`). Other conversions (`%I`, `%L`, positions, widths) are refused.
fn format(fmt: &Expr, args: &[Expr]) -> Result<Expr> {
    let fmt = match fmt {
        Expr::Value(SqlValue::SingleQuotedString(f)) => f,
        Expr::Value(SqlValue::Null) => return Ok(null()),
        _ => {
            return Err(unsupported(
                "format() is supported with a literal format string",
            ))
        }
    };
    let mut parts = Vec::new();
    let mut piece = String::new();
    let mut next = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            piece.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => piece.push('%'),
            Some('s') => {
                let arg = next.next().ok_or_else(|| SqlError::State {
                    code: "22023",
                    message: "too few arguments for format()".into(),
                })?;
                parts.push(text(&std::mem::take(&mut piece)));
                parts.push(arg.clone());
            }
            Some(other) => {
                return Err(unsupported(format!(
                    "format() conversion %{other} is not supported (only %s and %%)"
                )))
            }
            None => {
                return Err(SqlError::State {
                    code: "22023",
                    message: "unterminated format() type specifier".into(),
                })
            }
        }
    }
    parts.push(text(&piece));
    Ok(call("concat", parts))
}

fn extreme(args: &[Expr], greatest: bool) -> Result<Expr> {
    if args.is_empty() {
        return Err(SqlError::State {
            code: crate::sqlstate::SYNTAX_ERROR,
            message: "syntax error: greatest/least need at least one argument".into(),
        });
    }
    if args.len() > 8 {
        return Err(unsupported(
            "greatest/least with more than 8 arguments are not supported",
        ));
    }
    let op = if greatest {
        BinaryOperator::GtEq
    } else {
        BinaryOperator::LtEq
    };
    let mut conditions = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let mut cond = is_not_null(a);
        for (j, b) in args.iter().enumerate() {
            if i != j {
                let beats = bin(
                    is_null(b),
                    BinaryOperator::Or,
                    bin(a.clone(), op.clone(), b.clone()),
                );
                cond = bin(cond, BinaryOperator::And, beats);
            }
        }
        conditions.push(cond);
    }
    Ok(case(conditions, args.to_vec(), Some(null())))
}

/// `x IS [NOT] DISTINCT FROM y`, never NULL.
fn distinct(a: &Expr, b: &Expr, negated: bool) -> Expr {
    case(
        vec![
            bin(is_null(a), BinaryOperator::And, is_null(b)),
            bin(is_null(a), BinaryOperator::Or, is_null(b)),
            bin(a.clone(), BinaryOperator::Eq, b.clone()),
        ],
        vec![boolean(negated), boolean(!negated), boolean(negated)],
        Some(boolean(!negated)),
    )
}

/// A subquery that is a plain single-column SELECT (no grouping,
/// aggregate, DISTINCT, LIMIT or set operation), as `(item, query)`.
fn simple_subquery(q: &Query) -> Option<(Expr, Query)> {
    if q.with.is_some() || q.limit.is_some() || q.offset.is_some() || q.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    if s.having.is_some()
        || !matches!(&s.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty())
    {
        return None;
    }
    let [item] = s.projection.as_slice() else {
        return None;
    };
    let e = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e.clone(),
        _ => return None,
    };
    let mut agg = false;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(&e, |x| {
        if crate::validate::is_aggregate(x) || matches!(x, Expr::Function(f) if f.over.is_some()) {
            agg = true;
        }
        ControlFlow::<()>::Continue(())
    });
    (!agg).then(|| (e, q.clone()))
}

/// `q` with its select list replaced by `item` and `cond` added to WHERE.
fn reshaped(q: &Query, item: Expr, cond: Option<Expr>) -> Query {
    let mut q = q.clone();
    q.order_by = None;
    if let SetExpr::Select(s) = q.body.as_mut() {
        s.projection = vec![SelectItem::UnnamedExpr(item)];
        s.distinct = None;
        if let Some(c) = cond {
            s.selection = Some(match s.selection.take() {
                Some(w) => bin(w, BinaryOperator::And, c),
                None => c,
            });
        }
    }
    q
}

fn exists(q: Query) -> Expr {
    Expr::Exists {
        subquery: Box::new(q),
        negated: false,
    }
}

/// `x op ANY/ALL (SELECT e …)` (`IN` is `= ANY`, `NOT IN` is `<> ALL`) with
/// PostgreSQL's NULLs: true/false when some element decides, NULL when no
/// element decides and one comparison is NULL.
pub(crate) fn quantified(x: Expr, op: BinaryOperator, all: bool, q: &Query) -> Result<Expr> {
    let Some((item, _)) = simple_subquery(q) else {
        return Err(unsupported(
            "x [NOT] IN / op ANY / op ALL (SELECT …) is supported for a plain single-column \
             subquery (no GROUP BY, aggregate, DISTINCT or LIMIT)",
        ));
    };
    let one = Expr::Value(SqlValue::Number(
        "1".parse().map_err(|_| unsupported("1"))?,
        false,
    ));
    let has_null = exists(reshaped(q, one.clone(), Some(is_null(&item))));
    let nonempty = exists(reshaped(q, one, None));
    let unknown = bin(
        has_null,
        BinaryOperator::Or,
        bin(is_null(&x), BinaryOperator::And, nonempty.clone()),
    );
    let decided = match (&op, all) {
        // = ANY: GlueSQL's IN finds a match, correlated references intact.
        (BinaryOperator::Eq, false) | (BinaryOperator::NotEq, true) => Expr::InSubquery {
            expr: Box::new(x.clone()),
            subquery: Box::new(reshaped(q, item.clone(), None)),
            negated: false,
        },
        // For an order, ANY/ALL compare with the least or greatest element.
        (BinaryOperator::Lt | BinaryOperator::LtEq, _)
        | (BinaryOperator::Gt | BinaryOperator::GtEq, _) => {
            let lower_side = matches!(op, BinaryOperator::Gt | BinaryOperator::GtEq);
            // x > ANY: x > min; x > ALL: x > max; x < ANY: x < max; x < ALL: x < min.
            let take_min = lower_side != all;
            let agg = call(if take_min { "MIN" } else { "MAX" }, vec![item.clone()]);
            let bound = Expr::Subquery(Box::new(reshaped(q, agg, None)));
            bin(x.clone(), op.clone(), bound)
        }
        _ => {
            return Err(unsupported(format!(
                "{op} ANY/ALL (SELECT …) is not supported"
            )))
        }
    };
    let expr = match (&op, all) {
        (BinaryOperator::Eq, false) => case(
            vec![decided, unknown],
            vec![boolean(true), null()],
            Some(boolean(false)),
        ),
        (BinaryOperator::NotEq, true) => case(
            vec![decided, unknown],
            vec![boolean(false), null()],
            Some(boolean(true)),
        ),
        (_, false) => case(
            vec![decided, unknown],
            vec![boolean(true), null()],
            Some(boolean(false)),
        ),
        (_, true) => {
            // ALL: true for no rows; false when the bound fails (the
            // bound ignores NULL elements); else NULL if one is NULL.
            let empty = Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: nested(nonempty),
            };
            let failed = Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: nested(decided.clone()),
            };
            case(
                vec![empty, failed, unknown],
                vec![boolean(true), boolean(false), null()],
                Some(boolean(true)),
            )
        }
    };
    Ok(expr)
}

/// The tables of a statement's FROM clauses (for `sum` widening): name or
/// alias → table.
fn from_tables(
    stmt: &Statement,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Vec<(String, Arc<TableInfo>)> {
    struct Factors<'t> {
        tables: &'t BTreeMap<String, Arc<TableInfo>>,
        out: Vec<(String, Arc<TableInfo>)>,
        opaque: bool,
    }
    impl gluesql_core::sqlparser::ast::Visitor for Factors<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<()> {
            match f {
                TableFactor::Table {
                    name, alias, args, ..
                } if args.is_none() => {
                    let t = name.0.last().map(|i| i.value.clone()).unwrap_or_default();
                    match self.tables.get(&t) {
                        Some(info) => self.out.push((
                            alias.as_ref().map_or(t, |a| a.name.value.clone()),
                            info.clone(),
                        )),
                        None => self.opaque = true,
                    }
                }
                TableFactor::NestedJoin { .. } => {}
                _ => self.opaque = true,
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Factors {
        tables,
        out: Vec::new(),
        opaque: false,
    };
    let _ = gluesql_core::sqlparser::ast::Visit::visit(stmt, &mut v);
    let (out, opaque) = (v.out, v.opaque);
    if opaque {
        // A CTE or derived table might have a same-named column of another type.
        Vec::new()
    } else {
        out
    }
}

/// The type of column reference `e` when every table of the statement that
/// has such a column agrees on it.
fn column_type(e: &Expr, from: &[(String, Arc<TableInfo>)]) -> Option<DataType> {
    let (rel, col) = match e {
        Expr::Identifier(i) => (None, i.value.clone()),
        Expr::CompoundIdentifier(p) if p.len() == 2 => {
            (Some(p[0].value.clone()), p[1].value.clone())
        }
        _ => return None,
    };
    let mut found: Option<DataType> = None;
    for (name, info) in from {
        if rel.as_ref().is_some_and(|r| r != name) {
            continue;
        }
        if let Some(t) = info.column_type(&col) {
            if found.is_some_and(|f| f != t) {
                return None;
            }
            found = Some(t);
        }
    }
    found
}

struct Rewriter<'a> {
    tables: &'a BTreeMap<String, Arc<TableInfo>>,
    /// The type of an expression of the statement, when known.
    typer: &'a dyn Fn(&Expr) -> Option<DataType>,
    from: Vec<(String, Arc<TableInfo>)>,
    error: Option<SqlError>,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match self.expr(e) {
            Ok(Some(new)) => *e = new,
            Ok(None) => {}
            Err(err) => {
                self.error = Some(err);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        // `SELECT … FOR UPDATE / FOR SHARE`: the engine is optimistic and
        // takes no locks, but inside a transaction every row and range a
        // statement reads is recorded and validated at commit — a commit
        // after ours that wrote one of them makes our COMMIT fail with
        // 40001 and write nothing. What a lock would prevent (another
        // transaction changing the row between our read and our commit)
        // can therefore never be observed in a committed result, so the
        // clause is dropped. NOWAIT changes nothing (nothing waits); SKIP
        // LOCKED would answer a different row set in PostgreSQL, so it is
        // refused.
        if q.locks.iter().any(|l| {
            matches!(
                l.nonblock,
                Some(gluesql_core::sqlparser::ast::NonBlock::SkipLocked)
            )
        }) {
            self.error = Some(unsupported(
                "SELECT … FOR UPDATE SKIP LOCKED is not supported",
            ));
            return ControlFlow::Break(());
        }
        q.locks.clear();
        if let Some(fetch) = q.fetch.take() {
            if fetch.with_ties || fetch.percent || q.limit.is_some() {
                self.error = Some(unsupported(
                    "FETCH FIRST … WITH TIES / PERCENT (or with LIMIT) is not supported",
                ));
                return ControlFlow::Break(());
            }
            q.limit = Some(fetch.quantity.unwrap_or(Expr::Value(SqlValue::Number(
                "1".parse().unwrap_or_default(),
                false,
            ))));
        }
        ControlFlow::Continue(())
    }
}

impl Rewriter<'_> {
    fn expr(&mut self, e: &Expr) -> Result<Option<Expr>> {
        Ok(Some(match e {
            Expr::Extract { field, expr, .. } => {
                match crate::datetime::extract(field, expr, (self.typer)(expr))? {
                    Some(x) => x,
                    None => return Ok(None),
                }
            }
            Expr::IsDistinctFrom(a, b) => distinct(a, b, false),
            Expr::IsNotDistinctFrom(a, b) => distinct(a, b, true),
            Expr::IsTrue(x) => case(vec![*x.clone()], vec![boolean(true)], Some(boolean(false))),
            Expr::IsNotTrue(x) => case(vec![*x.clone()], vec![boolean(false)], Some(boolean(true))),
            Expr::IsFalse(x) => case(
                vec![is_null(x), *x.clone()],
                vec![boolean(false), boolean(false)],
                Some(boolean(true)),
            ),
            Expr::IsNotFalse(x) => case(
                vec![is_null(x), *x.clone()],
                vec![boolean(true), boolean(true)],
                Some(boolean(false)),
            ),
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
            | Expr::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => {
                let Expr::Value(SqlValue::SingleQuotedString(p)) = pattern.as_ref() else {
                    return Ok(None);
                };
                if escape_char.is_none() && !p.contains('\\') {
                    return Ok(None);
                }
                let insensitive = matches!(e, Expr::ILike { .. });
                let op = match (negated, insensitive) {
                    (false, false) => BinaryOperator::PGRegexMatch,
                    (false, true) => BinaryOperator::PGRegexIMatch,
                    (true, false) => BinaryOperator::PGRegexNotMatch,
                    (true, true) => BinaryOperator::PGRegexNotIMatch,
                };
                let re = like_regex(p, escape_char.as_deref())?;
                case(
                    vec![is_null(expr)],
                    vec![null()],
                    Some(bin(*expr.clone(), op, text(&re))),
                )
            }
            // `int_col = '2'`: PostgreSQL reads the literal as the column's
            // type (GlueSQL compares text with a number as unequal).
            Expr::BinaryOp {
                left,
                op:
                    op @ (BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq),
                right,
            } => {
                let typed = |col: &Expr, lit: &Expr| -> Option<Expr> {
                    let Expr::Value(SqlValue::SingleQuotedString(text)) = lit else {
                        return None;
                    };
                    match column_type(col, &self.from)? {
                        DataType::Int2 | DataType::Int4 | DataType::Int8 => {
                            let i: i64 = text.trim().parse().ok()?;
                            let n = Expr::Value(SqlValue::Number(
                                i.unsigned_abs().to_string().parse().ok()?,
                                false,
                            ));
                            Some(if i < 0 {
                                Expr::UnaryOp {
                                    op: UnaryOperator::Minus,
                                    expr: Box::new(n),
                                }
                            } else {
                                n
                            })
                        }
                        DataType::Numeric => {
                            text.trim().parse::<Decimal>().ok()?;
                            Some(decimal(text.trim()))
                        }
                        _ => None,
                    }
                };
                if let Some(r) = typed(left, right) {
                    bin(*left.clone(), op.clone(), r)
                } else if let Some(l) = typed(right, left) {
                    bin(l, op.clone(), *right.clone())
                } else {
                    return Ok(None);
                }
            }
            Expr::IsUnknown(x) => is_null(x),
            Expr::IsNotUnknown(x) => is_not_null(x),
            Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => match right.as_ref() {
                Expr::Subquery(q) => quantified(*left.clone(), compare_op.clone(), false, q)?,
                _ => return Ok(None),
            },
            Expr::AllOp {
                left,
                compare_op,
                right,
            } => match right.as_ref() {
                Expr::Subquery(q) => quantified(*left.clone(), compare_op.clone(), true, q)?,
                _ => return Ok(None),
            },
            Expr::Cast {
                expr, data_type, ..
            } if matches!(
                data_type,
                SqlType::Int(_)
                    | SqlType::Integer(_)
                    | SqlType::Int4(_)
                    | SqlType::BigInt(_)
                    | SqlType::Int8(_)
                    | SqlType::SmallInt(_)
                    | SqlType::Int2(_)
            ) =>
            {
                let Some(d) = number_literal(expr).filter(|d| !d.fract().is_zero()) else {
                    return Ok(None);
                };
                let r = d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
                let Some(i) = r.to_i64() else {
                    return Ok(None);
                };
                let lit = Expr::Value(SqlValue::Number(
                    i.unsigned_abs()
                        .to_string()
                        .parse()
                        .map_err(|_| unsupported("cast"))?,
                    false,
                ));
                let lit = if i < 0 {
                    Expr::UnaryOp {
                        op: UnaryOperator::Minus,
                        expr: Box::new(lit),
                    }
                } else {
                    lit
                };
                Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::Nested(Box::new(lit))),
                    data_type: data_type.clone(),
                    format: None,
                }
            }
            Expr::Function(f) => return self.function(f),
            // `substring(s FROM a [FOR n])` / `substring(s FOR n)`: the
            // position form (a text `FROM` is PostgreSQL's regular
            // expression form, which SUBSTR refuses as a non-integer).
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let from =
                    substring_from
                        .as_deref()
                        .cloned()
                        .unwrap_or(Expr::Value(SqlValue::Number(
                            "1".parse().map_err(|_| unsupported("1"))?,
                            false,
                        )));
                let mut args = vec![*expr.clone(), from];
                args.extend(substring_for.as_deref().cloned());
                call("SUBSTR", args)
            }
            Expr::Position { expr, r#in } => position(*expr.clone(), *r#in.clone())?,
            // `E'…'`: the tokenizer already read its escapes.
            Expr::Value(SqlValue::EscapedStringLiteral(s)) => {
                Expr::Value(SqlValue::SingleQuotedString(s.clone()))
            }
            _ => return Ok(None),
        }))
    }

    fn function(&mut self, f: &Function) -> Result<Option<Expr>> {
        let name = f
            .name
            .0
            .last()
            .map(|i| i.value.to_ascii_lowercase())
            .unwrap_or_default();
        if f.name.0.len() > 2 || f.over.is_some() {
            return Ok(None);
        }
        // FILTER (WHERE c): the aggregate sees NULL for rows failing c.
        if let Some(cond) = &f.filter {
            let simple = matches!(
                name.as_str(),
                "count" | "sum" | "avg" | "min" | "max" | "bool_and" | "bool_or" | "every"
            );
            let FunctionArguments::List(list) = &f.args else {
                return Ok(None);
            };
            if !simple || !list.clauses.is_empty() || list.args.len() != 1 {
                return Ok(None);
            }
            let arg = match &list.args[0] {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => x.clone(),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "count" => Expr::Value(
                    SqlValue::Number("1".parse().map_err(|_| unsupported("1"))?, false),
                ),
                _ => return Ok(None),
            };
            let mut g = f.clone();
            g.filter = None;
            if let FunctionArguments::List(l) = &mut g.args {
                l.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(case(
                    vec![*cond.clone()],
                    vec![arg],
                    None,
                )))];
            }
            return Ok(Some(self.function(&g)?.unwrap_or(Expr::Function(g))));
        }
        let Some(args) = plain_args(f) else {
            return Ok(None);
        };
        let distinct =
            matches!(&f.args, FunctionArguments::List(l) if l.duplicate_treatment.is_some());
        Ok(Some(match (name.as_str(), args.as_slice()) {
            ("round", [x, n]) => match integer_literal(n) {
                Some(n) => round(x.clone(), n)?,
                None => {
                    return Err(unsupported(
                        "round(x, n) is supported with a literal number of digits n",
                    ))
                }
            },
            ("char_length" | "character_length", [x]) => call("LENGTH", vec![x.clone()]),
            // A negative count: all but the last (first) |n| characters
            // (GlueSQL takes only counts >= 0).
            ("left", [x, n]) if integer_literal(n).is_some_and(|n| n < 0) => {
                let k = integer_literal(n).unwrap_or(0).unsigned_abs();
                let length = call("LENGTH", vec![x.clone()]);
                case(
                    vec![
                        Expr::IsNull(Box::new(x.clone())),
                        bin(length.clone(), BinaryOperator::Gt, number(k)),
                    ],
                    vec![
                        Expr::Value(SqlValue::Null),
                        call(
                            "LEFT",
                            vec![
                                x.clone(),
                                cast(
                                    bin(length, BinaryOperator::Minus, number(k)),
                                    SqlType::Int64,
                                ),
                            ],
                        ),
                    ],
                    Some(Expr::Value(SqlValue::SingleQuotedString(String::new()))),
                )
            }
            ("right", [x, n]) if integer_literal(n).is_some_and(|n| n < 0) => {
                let k = integer_literal(n).unwrap_or(0).unsigned_abs();
                call("SUBSTR", vec![x.clone(), number(k + 1)])
            }
            // PostgreSQL's ascii() reads the first character (0 for '');
            // GlueSQL's takes one-character text only.
            ("ascii", [x]) => case(
                vec![bin(
                    x.clone(),
                    BinaryOperator::Eq,
                    Expr::Value(SqlValue::SingleQuotedString(String::new())),
                )],
                vec![number(0)],
                Some(call(
                    "ASCII",
                    vec![call("LEFT", vec![x.clone(), number(1)])],
                )),
            ),
            ("gen_random_uuid", []) => call("GENERATE_UUID", Vec::new()),
            ("random", []) => call("RAND", Vec::new()),
            ("btrim", [x]) => Expr::Trim {
                expr: Box::new(x.clone()),
                trim_where: None,
                trim_what: None,
                trim_characters: None,
            },
            ("btrim", [x, chars]) => Expr::Trim {
                expr: Box::new(x.clone()),
                trim_where: Some(gluesql_core::sqlparser::ast::TrimWhereField::Both),
                trim_what: Some(Box::new(chars.clone())),
                trim_characters: None,
            },
            ("strpos", [x, sub]) => position(sub.clone(), x.clone())?,
            // NULL in, NULL out, as PostgreSQL's.
            ("starts_with", [x, prefix]) => bin(
                call(
                    "LEFT",
                    vec![
                        x.clone(),
                        cast(call("LENGTH", vec![prefix.clone()]), SqlType::Int64),
                    ],
                ),
                BinaryOperator::Eq,
                prefix.clone(),
            ),
            ("format", [fmt, args @ ..]) => format(fmt, args)?,
            ("date_part", [field, x]) => crate::datetime::date_part(field, x, (self.typer)(x))?,
            ("date_trunc", [unit, x]) => crate::datetime::date_trunc(unit, x, (self.typer)(x))?,
            ("to_char", [x, template]) => crate::datetime::to_char(x, template, (self.typer)(x))?,
            ("to_date", [s, template]) => crate::datetime::to_date(s, template)?,
            ("to_timestamp", [s, template]) => crate::datetime::to_timestamp(s, template)?,
            ("make_date", [y, m, d]) => crate::datetime::make_date(y, m, d),
            ("greatest", args) => extreme(args, true)?,
            ("least", args) => extreme(args, false)?,
            ("statement_timestamp" | "transaction_timestamp" | "clock_timestamp", []) => {
                call("NOW", Vec::new())
            }
            ("current_schemas", [b]) => case(
                vec![b.clone()],
                vec![text("{pg_catalog,public}")],
                Some(text("{public}")),
            ),
            ("to_regclass", [x]) => {
                let Expr::Value(SqlValue::SingleQuotedString(s)) = x else {
                    return Err(unsupported("to_regclass is supported with a literal name"));
                };
                let name = s.strip_prefix("public.").unwrap_or(s);
                let name = name
                    .strip_prefix('"')
                    .and_then(|n| n.strip_suffix('"'))
                    .map(str::to_string)
                    .unwrap_or_else(|| name.to_ascii_lowercase());
                if self.tables.contains_key(&name) {
                    text(&name)
                } else {
                    null()
                }
            }
            ("bool_and" | "every" | "bool_or", [x]) if !distinct => {
                let as_int = case(
                    vec![
                        x.clone(),
                        Expr::UnaryOp {
                            op: UnaryOperator::Not,
                            expr: nested(x.clone()),
                        },
                    ],
                    vec![
                        Expr::Value(SqlValue::Number(
                            "1".parse().map_err(|_| unsupported("1"))?,
                            false,
                        )),
                        Expr::Value(SqlValue::Number(
                            "0".parse().map_err(|_| unsupported("0"))?,
                            false,
                        )),
                    ],
                    None,
                );
                let agg = call(if name == "bool_or" { "MAX" } else { "MIN" }, vec![as_int]);
                bin(
                    agg,
                    BinaryOperator::Eq,
                    Expr::Value(SqlValue::Number(
                        "1".parse().map_err(|_| unsupported("1"))?,
                        false,
                    )),
                )
            }
            ("sum", [x]) => {
                let widened = match column_type(x, &self.from) {
                    Some(DataType::Int2 | DataType::Int4) => SqlType::Int64,
                    Some(DataType::Int8) => {
                        SqlType::Decimal(gluesql_core::sqlparser::ast::ExactNumberInfo::None)
                    }
                    _ => return Ok(None),
                };
                let mut g = f.clone();
                if let FunctionArguments::List(l) = &mut g.args {
                    l.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(cast(
                        x.clone(),
                        widened,
                    )))];
                }
                Expr::Function(g)
            }
            _ => return Ok(None),
        }))
    }
}

/// Rewrites `stmt` (see the module).
///
/// # Errors
/// [`SqlError::Unsupported`] for forms of these features not handled.
pub(crate) fn rewrite(
    stmt: &mut Statement,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Result<()> {
    let typer = crate::infer::statement_typer(tables, stmt);
    let mut r = Rewriter {
        tables,
        typer: &typer,
        from: from_tables(stmt, tables),
        error: None,
    };
    let _ = stmt.visit(&mut r);
    match r.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

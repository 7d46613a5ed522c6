//! PostgreSQL's JSON operators: `->`, `->>`, `#>`, `#>>` (json and jsonb),
//! `@>`, `<@`, `?`, `?|`, `?&` (jsonb).
//!
//! GlueSQL cannot evaluate them (its own map type differs from PostgreSQL's
//! json in key order, number text and duplicate keys), so each operator
//! chain over a table's json column becomes a *derived column*: the
//! statement names a hidden column of that table (`__hdb_json_…`) in its
//! place, and the store computes that column for every row it reads, from
//! the stored document, with PostgreSQL's rules (see [`crate::json`]). The
//! derived column takes part in filters, ordering, grouping and joins as
//! any column does; `SELECT *` over such a table is spelt out so the hidden
//! columns never reach a result. A chain over a json literal is evaluated
//! at once. What is not handled here (an operand that is neither a literal
//! nor a parameter, a column of a derived table) is left for GlueSQL, which
//! refuses it with 0A000: never a wrong answer.
//!
//! Derived columns also carry the row functions GlueSQL lacks that take
//! one column of a given type and constants: `split_part`, `to_hex`,
//! `length` of bytea, `trunc(numeric, n)`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::data::Value as GValue;
use gluesql_core::sqlparser::ast::{
    BinaryOperator, DataType as SqlType, Expr, Ident, ObjectName, Query, SelectItem, SetExpr,
    Statement, Subscript, TableFactor, Value as SqlValue, Visit, VisitMut, Visitor, VisitorMut,
    WildcardAdditionalOptions,
};
use heliosdb_core::{Column, DataType, Value};

use crate::json::Sel;
use crate::store::TableInfo;
use crate::{Result, SqlError};

/// The prefix of derived column names; the letter after it is the result
/// kind: `t` text, `j` json, `b` boolean, `i` integer, `n` numeric, `h`
/// time.
pub(crate) const PREFIX: &str = "__hdb_json_";

/// The type of a derived column, from its name (see [`PREFIX`]).
pub(crate) fn derived_type(name: &str) -> Option<DataType> {
    match name.strip_prefix(PREFIX)?.as_bytes().first()? {
        b't' | b'j' => Some(DataType::Text),
        b'i' => Some(DataType::Int4),
        b'n' => Some(DataType::Numeric),
        b'h' => Some(DataType::Time),
        b'b' => Some(DataType::Bool),
        b's' => Some(DataType::Timestamp),
        b'z' => Some(DataType::TimestampTz),
        _ => None,
    }
}

/// What a derived column computes from its document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// A chain of `->` / `#>` steps, and what is made of the value found.
    Get { steps: Vec<Sel>, out: Out },
    /// `doc @> value` (the value's normalised text).
    Contains(String),
    /// `doc <@ value`.
    ContainedBy(String),
    /// `doc ? key`, `doc ?| keys` (`all` false), `doc ?& keys`.
    Keys { keys: Vec<String>, all: bool },
    /// `split_part(text, delimiter, n)`.
    SplitPart { delimiter: String, n: i64 },
    /// `to_hex(integer)`.
    ToHex,
    /// `length(bytea)` (`octet_length` is the engine's, see
    /// `vendor/gluesql-core`'s `pg_builtin`).
    OctetLength,
    /// `trunc(numeric, scale)`.
    Trunc { scale: i64 },
    /// `date`, `timestamp` or `timestamptz` plus a number of months, as
    /// PostgreSQL adds an interval's months: the day of the month kept, or
    /// the month's last day when it has fewer (a timestamptz in UTC, the
    /// only session time zone). GlueSQL's own month arithmetic fails on
    /// every result in December and on every shorter month.
    AddMonths { months: i32, tz: bool },
}

impl Op {
    fn kind(&self) -> char {
        match self {
            Op::Get { out: Out::Json, .. } => 'j',
            Op::Get {
                out: Out::Text | Out::Type,
                ..
            } => 't',
            Op::Get {
                out: Out::Length, ..
            }
            | Op::OctetLength => 'i',
            Op::SplitPart { .. } | Op::ToHex => 't',
            Op::Trunc { .. } => 'n',
            Op::AddMonths { tz: false, .. } => 's',
            Op::AddMonths { tz: true, .. } => 'z',
            _ => 'b',
        }
    }

    /// The operator applied to a value of the row (a document for the
    /// JSON operators).
    ///
    /// # Errors
    /// 22P02 when a document is not JSON, 22023 for PostgreSQL's argument
    /// errors, and a type error for a value of a type the operator does not
    /// take.
    pub(crate) fn apply(&self, v: &GValue, jsonb: bool) -> Result<GValue> {
        Ok(match (self, v) {
            (_, GValue::Null) => GValue::Null,
            (Op::SplitPart { delimiter, n }, GValue::Str(s)) => {
                GValue::Str(split_part(s, delimiter, *n)?)
            }
            (Op::ToHex, GValue::I32(i)) => GValue::Str(format!("{i:x}")),
            (Op::ToHex, GValue::I64(i)) => GValue::Str(format!("{i:x}")),
            (Op::OctetLength, GValue::Bytea(b)) => GValue::I32(
                i32::try_from(b.len()).map_err(|_| unsupported("a bytea value over 2 GiB"))?,
            ),
            (Op::Trunc { scale }, GValue::Decimal(d)) => GValue::Decimal(trunc(*d, *scale)?),
            (Op::AddMonths { months, .. }, GValue::Timestamp(t)) => {
                GValue::Timestamp(add_months(*t, *months)?)
            }
            (Op::AddMonths { months, .. }, GValue::Date(d)) => {
                GValue::Timestamp(add_months(d.and_time(chrono::NaiveTime::MIN), *months)?)
            }
            (Op::Get { steps, out }, GValue::Str(doc)) => {
                let mut at = doc.as_str();
                for step in steps {
                    match crate::json::child(at, step, jsonb)? {
                        Some(c) => at = c,
                        None => return Ok(GValue::Null),
                    }
                }
                match out {
                    Out::Json => GValue::Str(at.trim().to_string()),
                    Out::Text => crate::json::as_text(at)?.map_or(GValue::Null, GValue::Str),
                    Out::Type => GValue::Str(crate::json::type_name(at).to_string()),
                    Out::Length => GValue::I32(crate::json::array_length(at)?),
                }
            }
            (Op::Contains(x), GValue::Str(doc)) => GValue::Bool(crate::json::contains(doc, x)?),
            (Op::ContainedBy(x), GValue::Str(doc)) => GValue::Bool(crate::json::contains(x, doc)?),
            (Op::Keys { keys, all }, GValue::Str(doc)) => {
                GValue::Bool(crate::json::has_keys(doc, keys, *all)?)
            }
            (_, other) => {
                return Err(SqlError::Type(format!(
                    "a row function got a value of the wrong type: {}",
                    crate::convert::glue_value_kind(other)
                )))
            }
        })
    }
}

/// PostgreSQL's `split_part`: field `n` (from the end when negative) of `s`
/// split at `delimiter`; an empty delimiter leaves one field.
fn split_part(s: &str, delimiter: &str, n: i64) -> Result<String> {
    if n == 0 {
        return Err(SqlError::State {
            code: "22023",
            message: "field position must not be zero".into(),
        });
    }
    let fields: Vec<&str> = if delimiter.is_empty() {
        vec![s]
    } else {
        s.split(delimiter).collect()
    };
    let len = i64::try_from(fields.len()).unwrap_or(i64::MAX);
    let i = if n > 0 { n - 1 } else { len + n };
    Ok(usize::try_from(i)
        .ok()
        .and_then(|i| fields.get(i))
        .map(|f| (*f).to_string())
        .unwrap_or_default())
}

/// PostgreSQL's `trunc(numeric, n)`: toward zero at `n` decimal places
/// (tens, hundreds, … for negative `n`), with scale `max(n, 0)`.
fn trunc(d: rust_decimal::Decimal, n: i64) -> Result<rust_decimal::Decimal> {
    use rust_decimal::Decimal;
    let out_of_range = || unsupported("trunc() to more than 28 places");
    if n >= 0 {
        let n = u32::try_from(n)
            .ok()
            .filter(|n| *n <= 28)
            .ok_or_else(out_of_range)?;
        let mut t = d.trunc_with_scale(n);
        t.rescale(n);
        if t.scale() != n {
            return Err(out_of_range());
        }
        return Ok(t);
    }
    let k = u32::try_from(-n)
        .ok()
        .filter(|k| *k <= 28)
        .ok_or_else(out_of_range)?;
    let p = Decimal::from_i128_with_scale(10_i128.pow(k), 0);
    let t = (d / p).trunc() * p;
    let mut t = t.normalize();
    t.rescale(0);
    Ok(t)
}

/// `t` plus `months` as PostgreSQL adds them: the same day and time in the
/// month reached, or that month's last day when it is shorter (January 31
/// plus a month is February 29 or 28).
///
/// # Errors
/// 22008 when the result is outside the timestamps PostgreSQL takes.
pub(crate) fn add_months(t: chrono::NaiveDateTime, months: i32) -> Result<chrono::NaiveDateTime> {
    use chrono::Datelike;
    let out_of_range = || SqlError::State {
        code: "22008",
        message: "timestamp out of range".into(),
    };
    // The engine's month arithmetic (patched to PostgreSQL's clamping).
    let shifted = gluesql_core::data::Interval::Month(months)
        .add_timestamp(&t)
        .map_err(|_| out_of_range())?;
    // PostgreSQL's timestamps start in 4713 BC.
    if shifted.year() < -4713 {
        return Err(out_of_range());
    }
    Ok(shifted)
}

/// What a chain's value becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Out {
    /// The value (`->`, `#>`).
    Json,
    /// Its text (`->>`, `#>>`).
    Text,
    /// `json[b]_typeof`.
    Type,
    /// `json[b]_array_length`.
    Length,
}

/// A derived column of one table.
#[derive(Clone, Debug)]
pub(crate) struct Derived {
    /// The table (its stored name).
    pub table: String,
    /// The column's name in the rewritten statement.
    pub name: String,
    /// The json / jsonb column it reads.
    pub source: String,
    /// Whether the source is `jsonb`.
    pub jsonb: bool,
    pub op: Op,
}

impl Derived {
    /// GlueSQL's type of the column.
    pub(crate) fn glue_type(&self) -> gluesql_core::ast::DataType {
        match self.op.kind() {
            'b' => gluesql_core::ast::DataType::Boolean,
            'i' => gluesql_core::ast::DataType::Int32,
            'n' => gluesql_core::ast::DataType::Decimal,
            'h' => gluesql_core::ast::DataType::Time,
            's' | 'z' => gluesql_core::ast::DataType::Timestamp,
            _ => gluesql_core::ast::DataType::Text,
        }
    }
}

type Tables = BTreeMap<String, Arc<TableInfo>>;

fn op_error(left: &str, op: &BinaryOperator) -> SqlError {
    SqlError::State {
        code: "42883",
        message: format!("operator does not exist: {left} {op} unknown"),
    }
}

fn unsupported(what: &str) -> SqlError {
    SqlError::Unsupported(format!("{what} is not supported"))
}

/// The tables a statement reads, by the label its expressions use (alias
/// or name).
struct Scope<'t> {
    tables: &'t Tables,
    labels: Vec<(String, String)>,
}

impl Visitor for Scope<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = f {
            let table = name.0.last().map(|i| i.value.clone()).unwrap_or_default();
            if self.tables.contains_key(&table) {
                let label = alias
                    .as_ref()
                    .map_or(table.clone(), |a| a.name.value.clone());
                self.labels.push((label, table));
            }
        }
        ControlFlow::Continue(())
    }
}

impl Scope<'_> {
    /// A column reference as a chain root: the column of the statement's
    /// tables (those the qualifier names) that `accept` takes, returning
    /// whether it is jsonb. 0A000 when tables of several names have one.
    fn resolve(
        &self,
        qualifier: Option<&Ident>,
        column: &str,
        accept: impl Fn(&TableInfo, &Column) -> Option<bool>,
    ) -> Result<Option<Root>> {
        let mut found: Vec<(String, String, bool)> = Vec::new();
        for (label, table) in &self.labels {
            if qualifier.is_some_and(|q| !q.value.eq_ignore_ascii_case(label)) {
                continue;
            }
            let Some(info) = self.tables.get(table) else {
                continue;
            };
            let Some(c) = info.columns().find(|c| c.name.eq_ignore_ascii_case(column)) else {
                continue;
            };
            let Some(jsonb) = accept(info, c) else {
                continue;
            };
            let entry = (table.clone(), c.name.clone(), jsonb);
            if !found.contains(&entry) {
                found.push(entry);
            }
        }
        if found.len() > 1 {
            return Err(unsupported(&format!(
                "an operator or function on column \"{column}\" of several tables without a \
                 table name"
            )));
        }
        Ok(found.pop().map(|(table, column, jsonb)| Root::Column {
            qualifier: qualifier.cloned(),
            table,
            column,
            jsonb,
        }))
    }
}

/// The root of an operator chain.
enum Root {
    Column {
        qualifier: Option<Ident>,
        table: String,
        column: String,
        jsonb: bool,
    },
    /// A constant: a json document (normalised for jsonb; NULL for
    /// `NULL::jsonb`), or a row function's constant argument.
    Literal { value: GValue, jsonb: bool },
}

/// A string operand: a literal, a `json`/`jsonb`/`text` cast of one, or a
/// parameter bound to text.
fn string_operand(e: &Expr, params: &[Value]) -> Option<String> {
    match e {
        Expr::Nested(e) => string_operand(e, params),
        Expr::Value(SqlValue::SingleQuotedString(s)) => Some(s.clone()),
        Expr::Cast {
            expr,
            data_type:
                SqlType::JSON
                | SqlType::JSONB
                | SqlType::Text
                | SqlType::Varchar(_)
                | SqlType::CharacterVarying(_)
                | SqlType::String(_),
            ..
        } => string_operand(expr, params),
        Expr::TypedString {
            data_type: SqlType::JSON | SqlType::JSONB,
            value,
        } => Some(value.clone()),
        Expr::Value(SqlValue::Placeholder(p)) => match param(p, params)? {
            Value::String(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn param<'p>(placeholder: &str, params: &'p [Value]) -> Option<&'p Value> {
    let n: usize = placeholder.strip_prefix('$')?.parse().ok()?;
    params.get(n.checked_sub(1)?)
}

/// An integer operand (`-> 2`, `-> -1`, `-> $1` bound to an integer).
fn int_operand(e: &Expr, params: &[Value]) -> Option<i64> {
    match e {
        Expr::Nested(e) => int_operand(e, params),
        Expr::Value(SqlValue::Number(n, _)) => n.to_string().parse().ok(),
        Expr::UnaryOp {
            op: gluesql_core::sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => int_operand(expr, params).map(|i| -i),
        Expr::Cast {
            expr,
            data_type:
                SqlType::Int(_) | SqlType::Integer(_) | SqlType::BigInt(_) | SqlType::SmallInt(_),
            ..
        } => int_operand(expr, params),
        Expr::Value(SqlValue::Placeholder(p)) => match param(p, params)? {
            Value::Int2(i) => Some(i64::from(*i)),
            Value::Int4(i) => Some(i64::from(*i)),
            Value::Int8(i) => Some(*i),
            _ => None,
        },
        _ => None,
    }
}

/// A numeric constant (`3.789`, `-2`, `5`).
fn numeric_literal(e: &Expr) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr as _;
    match e {
        Expr::Nested(e) => numeric_literal(e),
        Expr::Value(SqlValue::Number(n, _)) => {
            let text = n.to_string();
            if text.contains(['e', 'E']) {
                rust_decimal::Decimal::from_scientific(&text).ok()
            } else {
                rust_decimal::Decimal::from_str(&text).ok()
            }
        }
        Expr::UnaryOp {
            op: gluesql_core::sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => numeric_literal(expr).map(|d| -d),
        _ => None,
    }
}

/// A `text[]` operand: `'{a,b}'`, `ARRAY['a','b']`.
fn text_array(e: &Expr, params: &[Value]) -> Option<Vec<String>> {
    match e {
        Expr::Nested(e) => text_array(e, params),
        Expr::Array(a) => a
            .elem
            .iter()
            .map(|x| match x {
                Expr::Value(SqlValue::SingleQuotedString(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Expr::Cast {
            expr, data_type, ..
        } if text_array_type(data_type) => text_array(expr, params),
        Expr::Cast { .. } => None,
        _ => {
            let text = string_operand(e, params)?;
            crate::arrays::array_elements(&text)?
                .into_iter()
                .collect::<Option<Vec<String>>>()
        }
    }
}

/// An interval constant: `interval '1 month 2 days'`, `'…'::interval`,
/// `INTERVAL '3' MONTH`, `INTERVAL '1' YEAR`.
fn interval_operand(e: &Expr) -> Result<Option<heliosdb_core::Interval>> {
    use gluesql_core::sqlparser::ast::DateTimeField;
    let text = |e: &Expr| match e {
        Expr::Value(SqlValue::SingleQuotedString(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(match e {
        Expr::Nested(x) => interval_operand(x)?,
        Expr::Interval(iv) if iv.last_field.is_none() => {
            let Some(s) = text(&iv.value) else {
                return Ok(None);
            };
            let per = match iv.leading_field {
                None => return Ok(Some(crate::pgtext::parse_interval(&s)?)),
                Some(DateTimeField::Month) => 1,
                Some(DateTimeField::Year) => 12,
                Some(_) => return Ok(None),
            };
            s.trim()
                .parse::<i32>()
                .ok()
                .and_then(|n| n.checked_mul(per))
                .map(|months| heliosdb_core::Interval {
                    months,
                    days: 0,
                    micros: 0,
                })
        }
        Expr::Cast {
            expr,
            data_type: SqlType::Interval,
            ..
        } => match text(expr) {
            Some(s) => Some(crate::pgtext::parse_interval(&s)?),
            None => None,
        },
        _ => None,
    })
}

/// Whether `t` is `text[]` (or `varchar[]`): the only array type the
/// path and key-list operators take, as in PostgreSQL.
fn text_array_type(t: &SqlType) -> bool {
    use gluesql_core::sqlparser::ast::ArrayElemTypeDef;
    match t {
        SqlType::Array(
            ArrayElemTypeDef::SquareBracket(e, _)
            | ArrayElemTypeDef::AngleBracket(e)
            | ArrayElemTypeDef::Parenthesis(e),
        ) => matches!(
            **e,
            SqlType::Text | SqlType::Varchar(_) | SqlType::CharacterVarying(_) | SqlType::String(_)
        ),
        _ => false,
    }
}

/// The error for a path or key-list operand cast to another type
/// (`doc ?| '{1,2}'::int[]`): PostgreSQL has no such operator.
fn operand_type_error(left: &str, op: &BinaryOperator, right: &Expr) -> Option<SqlError> {
    match right {
        Expr::Nested(e) => operand_type_error(left, op, e),
        Expr::Cast { data_type, .. } if !text_array_type(data_type) => Some(SqlError::State {
            code: "42883",
            message: format!(
                "operator does not exist: {left} {op} {}",
                data_type.to_string().to_lowercase()
            ),
        }),
        _ => None,
    }
}

struct Rewriter<'s, 't> {
    scope: &'s Scope<'t>,
    params: &'s [Value],
    /// The statement's `now()` (UTC).
    now: chrono::NaiveDateTime,
    derived: Vec<Derived>,
    error: Option<SqlError>,
}

impl Rewriter<'_, '_> {
    fn root(&self, e: &Expr) -> Result<Option<Root>> {
        Ok(match e {
            Expr::Nested(e) => return self.root(e),
            Expr::Identifier(i) => self.scope.resolve(None, &i.value, json_column)?,
            Expr::CompoundIdentifier(v) if v.len() >= 2 => {
                self.scope
                    .resolve(Some(&v[v.len() - 2]), &v[v.len() - 1].value, json_column)?
            }
            Expr::Cast {
                expr,
                data_type: data_type @ (SqlType::JSON | SqlType::JSONB),
                ..
            } => match expr.as_ref() {
                Expr::Value(SqlValue::SingleQuotedString(s)) => {
                    Some(json_literal(s, matches!(data_type, SqlType::JSONB))?)
                }
                Expr::Value(SqlValue::Null) => Some(Root::Literal {
                    value: GValue::Null,
                    jsonb: matches!(data_type, SqlType::JSONB),
                }),
                _ => None,
            },
            Expr::TypedString {
                data_type: data_type @ (SqlType::JSON | SqlType::JSONB),
                value,
            } => Some(json_literal(value, matches!(data_type, SqlType::JSONB))?),
            _ => None,
        })
    }

    /// A chain of `->`/`#>` steps down to its root (`None`: not ours).
    fn steps(&self, e: &Expr) -> Result<Option<(Root, Vec<Sel>)>> {
        if let Expr::Nested(inner) = e {
            return self.steps(inner);
        }
        if let Expr::Subscript { expr, subscript } = e {
            // `doc['k']`, `doc[1]`: jsonb subscripting (as `->`).
            let Subscript::Index { index } = subscript.as_ref() else {
                return Ok(None);
            };
            let Some((root, mut steps)) = self.steps(expr)? else {
                return Ok(None);
            };
            if !root_jsonb(&root) {
                return Err(SqlError::State {
                    code: "42804",
                    message: "cannot subscript type json because it does not support subscripting"
                        .into(),
                });
            }
            let sel = if let Some(i) = int_operand(index, self.params) {
                Sel::Elem(i)
            } else if let Some(k) = string_operand(index, self.params) {
                Sel::Key(k)
            } else {
                return Ok(None);
            };
            steps.push(sel);
            return Ok(Some((root, steps)));
        }
        if let Expr::BinaryOp { left, op, right } = e {
            match op {
                BinaryOperator::Arrow | BinaryOperator::HashArrow => {
                    let Some((root, mut steps)) = self.steps(left)? else {
                        return Ok(None);
                    };
                    let Some(step) = self.step(&root, op, right)? else {
                        return Ok(None);
                    };
                    steps.extend(step);
                    return Ok(Some((root, steps)));
                }
                BinaryOperator::LongArrow | BinaryOperator::HashLongArrow => {
                    if self.steps(left)?.is_some() {
                        return Err(op_error("text", &BinaryOperator::Arrow));
                    }
                    return Ok(None);
                }
                _ => {}
            }
        }
        Ok(self.root(e)?.map(|r| (r, Vec::new())))
    }

    fn step(&self, root: &Root, op: &BinaryOperator, right: &Expr) -> Result<Option<Vec<Sel>>> {
        Ok(match op {
            BinaryOperator::Arrow | BinaryOperator::LongArrow => {
                if let Some(i) = int_operand(right, self.params) {
                    Some(vec![Sel::Index(i)])
                } else {
                    string_operand(right, self.params).map(|k| vec![Sel::Key(k)])
                }
            }
            _ => {
                let left = if root_jsonb(root) { "jsonb" } else { "json" };
                if let Some(e) = operand_type_error(left, op, right) {
                    return Err(e);
                }
                text_array(right, self.params).map(|p| p.into_iter().map(Sel::Path).collect())
            }
        })
    }

    /// `json[b]_typeof(x)`, `json[b]_array_length(x)`,
    /// `json[b]_extract_path[_text](x, k, …)` over a chain (a `jsonb_`
    /// function takes jsonb, a `json_` one json, as in PostgreSQL).
    fn function(&self, f: &gluesql_core::sqlparser::ast::Function) -> Result<Option<(Root, Op)>> {
        let Some((name, args)) = call(f) else {
            return Ok(None);
        };
        let (jsonb, what) = match name.strip_prefix("jsonb_") {
            Some(w) => (true, w),
            None => match name.strip_prefix("json_") {
                Some(w) => (false, w),
                None => return Ok(None),
            },
        };
        let Some((first, rest)) = args.split_first() else {
            return Ok(None);
        };
        let (out, path) = match (what, rest.len()) {
            ("typeof", 0) => (Out::Type, Vec::new()),
            ("array_length", 0) => (Out::Length, Vec::new()),
            ("extract_path" | "extract_path_text", _) => {
                let mut path = Vec::with_capacity(rest.len());
                for a in rest {
                    match string_operand(a, self.params) {
                        Some(k) => path.push(Sel::Path(k)),
                        None => return Ok(None),
                    }
                }
                let out = if what == "extract_path" {
                    Out::Json
                } else {
                    Out::Text
                };
                (out, path)
            }
            _ => return Ok(None),
        };
        let Some((root, mut steps)) = self.steps(first)? else {
            return Ok(None);
        };
        if root_jsonb(&root) != jsonb {
            return Ok(None);
        }
        steps.extend(path);
        Ok(Some((root, Op::Get { steps, out })))
    }

    /// The root of a row function: a column of the type it takes, or a
    /// constant of that type.
    fn value_root(&self, e: &Expr, arg: Arg) -> Result<Option<Root>> {
        let column = |qualifier: Option<&Ident>, name: &str| {
            self.scope.resolve(qualifier, name, |info, c| {
                let plain = info.column_json(&c.name).is_none()
                    && !info.meta.bpchar.iter().any(|b| b == &c.name);
                let takes = match arg {
                    Arg::Text => c.data_type == DataType::Text && plain,
                    // `to_hex(smallint)` is ambiguous in PostgreSQL.
                    Arg::Integer => matches!(c.data_type, DataType::Int4 | DataType::Int8),
                    Arg::Bytea => c.data_type == DataType::Bytes,
                    Arg::Numeric => c.data_type == DataType::Numeric,
                    Arg::DateTime => matches!(
                        c.data_type,
                        DataType::Date | DataType::Timestamp | DataType::TimestampTz
                    ),
                };
                takes.then_some(false)
            })
        };
        let literal = |value: GValue| {
            Ok(Some(Root::Literal {
                value,
                jsonb: false,
            }))
        };
        match (e, arg) {
            (Expr::Nested(e), _) => self.value_root(e, arg),
            (Expr::Identifier(i), _) => column(None, &i.value),
            (Expr::CompoundIdentifier(v), _) if v.len() >= 2 => {
                column(Some(&v[v.len() - 2]), &v[v.len() - 1].value)
            }
            (Expr::Value(SqlValue::SingleQuotedString(s)), Arg::Text) => {
                literal(GValue::Str(s.clone()))
            }
            // `to_hex(NULL::int)`: a typed NULL, NULL out.
            (
                Expr::Cast {
                    expr, data_type, ..
                },
                Arg::Integer,
            ) if matches!(expr.as_ref(), Expr::Value(SqlValue::Null))
                && matches!(
                    crate::rewrite::engine_type_of(data_type),
                    Some(DataType::Int4 | DataType::Int8)
                ) =>
            {
                literal(GValue::Null)
            }
            (_, Arg::Integer) => match int_operand(e, &[]) {
                Some(i) => literal(i32::try_from(i).map_or(GValue::I64(i), GValue::I32)),
                None => Ok(None),
            },
            (_, Arg::Numeric) => match numeric_literal(e) {
                Some(d) => literal(GValue::Decimal(d)),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// `split_part(text, d, n)`, `to_hex(int)`, `length(bytea)`,
    /// `trunc(numeric, n)` of a column or constant
    /// (their other arguments constants).
    fn row_function(
        &self,
        f: &gluesql_core::sqlparser::ast::Function,
    ) -> Result<Option<(Root, Op)>> {
        let Some((name, args)) = call(f) else {
            return Ok(None);
        };
        let (arg, op) = match (name.as_str(), args.as_slice()) {
            ("split_part", [_, d, n]) => {
                let (Some(delimiter), Some(n)) =
                    (string_operand(d, self.params), int_operand(n, self.params))
                else {
                    return Ok(None);
                };
                (Arg::Text, Op::SplitPart { delimiter, n })
            }
            ("to_hex", [_]) => (Arg::Integer, Op::ToHex),
            ("length", [_]) => (Arg::Bytea, Op::OctetLength),
            ("trunc", [_, n]) => {
                let Some(scale) = int_operand(n, self.params) else {
                    return Ok(None);
                };
                (Arg::Numeric, Op::Trunc { scale })
            }
            _ => return Ok(None),
        };
        Ok(self.value_root(args[0], arg)?.map(|root| (root, op)))
    }

    /// The operator expression `e` as an [`Op`] over its root.
    fn op_of(&self, e: &Expr) -> Result<Option<(Root, Op)>> {
        if let Expr::Function(f) = e {
            if let Some(found) = self.row_function(f)? {
                return Ok(Some(found));
            }
            return self.function(f);
        }
        if let Expr::Subscript { .. } = e {
            return Ok(self.steps(e)?.map(|(root, steps)| {
                (
                    root,
                    Op::Get {
                        steps,
                        out: Out::Json,
                    },
                )
            }));
        }
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(None);
        };
        Ok(match op {
            BinaryOperator::Arrow
            | BinaryOperator::HashArrow
            | BinaryOperator::LongArrow
            | BinaryOperator::HashLongArrow => {
                let Some((root, mut steps)) = self.steps(left)? else {
                    return Ok(None);
                };
                let Some(step) = self.step(&root, op, right)? else {
                    return Ok(None);
                };
                steps.extend(step);
                let out = if matches!(
                    op,
                    BinaryOperator::LongArrow | BinaryOperator::HashLongArrow
                ) {
                    Out::Text
                } else {
                    Out::Json
                };
                Some((root, Op::Get { steps, out }))
            }
            BinaryOperator::AtArrow | BinaryOperator::ArrowAt => {
                // `doc @> v`, `v <@ doc`, `doc <@ v`, `v @> doc`.
                let (root, value, contains) = if let Some(r) = self.root(left)? {
                    (r, right, matches!(op, BinaryOperator::AtArrow))
                } else if let Some(r) = self.root(right)? {
                    (r, left, matches!(op, BinaryOperator::ArrowAt))
                } else {
                    return Ok(None);
                };
                if !root_jsonb(&root) {
                    return Err(op_error("json", op));
                }
                let Some(v) = string_operand(value, self.params) else {
                    return Ok(None);
                };
                let v = crate::json::jsonb_text(&v)?;
                Some((
                    root,
                    if contains {
                        Op::Contains(v)
                    } else {
                        Op::ContainedBy(v)
                    },
                ))
            }
            BinaryOperator::Question
            | BinaryOperator::QuestionPipe
            | BinaryOperator::QuestionAnd => {
                let Some(root) = self.root(left)? else {
                    return Ok(None);
                };
                if !root_jsonb(&root) {
                    return Err(op_error("json", op));
                }
                let keys = if matches!(op, BinaryOperator::Question) {
                    string_operand(right, self.params).map(|k| vec![k])
                } else {
                    if let Some(e) = operand_type_error("jsonb", op, right) {
                        return Err(e);
                    }
                    text_array(right, self.params)
                };
                let Some(keys) = keys else {
                    return Ok(None);
                };
                Some((
                    root,
                    Op::Keys {
                        keys,
                        all: matches!(op, BinaryOperator::QuestionAnd),
                    },
                ))
            }
            _ => None,
        })
    }

    /// `x ± interval '…'` with months, `x` a date, timestamp or timestamptz
    /// column or constant, or `now()` and its kin: the months as
    /// [`Op::AddMonths`], and the interval's days and time in microseconds
    /// for GlueSQL to add after them (PostgreSQL adds an interval's months,
    /// then its days, then its time).
    fn month_arithmetic(&self, e: &Expr) -> Result<Option<(Root, Op, i64)>> {
        let Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Plus | BinaryOperator::Minus),
            right,
        } = e
        else {
            return Ok(None);
        };
        let Some(iv) = interval_operand(right)? else {
            return Ok(None);
        };
        if iv.months == 0 {
            return Ok(None);
        }
        let Some((root, tz)) = self.datetime_root(left)? else {
            return Ok(None);
        };
        let out_of_range = || SqlError::State {
            code: "22008",
            message: "interval out of range".into(),
        };
        let rest = i64::from(iv.days)
            .checked_mul(86_400_000_000)
            .and_then(|d| d.checked_add(iv.micros))
            .ok_or_else(out_of_range)?;
        let (months, rest) = if matches!(op, BinaryOperator::Minus) {
            (iv.months.checked_neg().ok_or_else(out_of_range)?, -rest)
        } else {
            (iv.months, rest)
        };
        Ok(Some((root, Op::AddMonths { months, tz }, rest)))
    }

    /// A date, timestamp or timestamptz column or constant, and whether it
    /// is a timestamptz.
    fn datetime_root(&self, e: &Expr) -> Result<Option<(Root, bool)>> {
        let literal = |t: DataType, text: &str| -> Result<Option<(Root, bool)>> {
            let (value, tz) = match crate::coerce(Value::String(text.to_string()), t)? {
                Value::Date(d) => (GValue::Date(d), false),
                Value::Timestamp(t) => (GValue::Timestamp(t.naive_utc()), false),
                Value::TimestampTz(t) => (GValue::Timestamp(t.naive_utc()), true),
                _ => return Ok(None),
            };
            Ok(Some((
                Root::Literal {
                    value,
                    jsonb: false,
                },
                tz,
            )))
        };
        let datetime = |data_type: &SqlType| {
            crate::rewrite::engine_type_of(data_type).filter(|t| {
                matches!(
                    t,
                    DataType::Date | DataType::Timestamp | DataType::TimestampTz
                )
            })
        };
        match e {
            Expr::Nested(x) => return self.datetime_root(x),
            Expr::TypedString { data_type, value } => {
                return match datetime(data_type) {
                    Some(t) => literal(t, value),
                    None => Ok(None),
                }
            }
            Expr::Cast {
                expr, data_type, ..
            } => {
                return match (datetime(data_type), expr.as_ref()) {
                    (Some(t), Expr::Value(SqlValue::SingleQuotedString(s))) => literal(t, s),
                    _ => Ok(None),
                }
            }
            Expr::Function(f) => {
                let Some((name, args)) = call(f).or_else(|| {
                    // `current_timestamp`, `localtimestamp`: no parentheses.
                    let [name] = f.name.0.as_slice() else {
                        return None;
                    };
                    matches!(
                        f.args,
                        gluesql_core::sqlparser::ast::FunctionArguments::None
                    )
                    .then(|| (name.value.to_ascii_lowercase(), Vec::new()))
                }) else {
                    return Ok(None);
                };
                if !args.is_empty() {
                    return Ok(None);
                }
                let (value, tz) = match name.as_str() {
                    "now"
                    | "current_timestamp"
                    | "transaction_timestamp"
                    | "statement_timestamp" => (GValue::Timestamp(self.now), true),
                    "localtimestamp" => (GValue::Timestamp(self.now), false),
                    "current_date" => (GValue::Date(self.now.date()), false),
                    _ => return Ok(None),
                };
                return Ok(Some((
                    Root::Literal {
                        value,
                        jsonb: false,
                    },
                    tz,
                )));
            }
            _ => {}
        }
        let Some(root) = self.value_root(e, Arg::DateTime)? else {
            return Ok(None);
        };
        let tz = match &root {
            Root::Column { table, column, .. } => self
                .scope
                .tables
                .get(table)
                .and_then(|info| info.columns().find(|c| &c.name == column))
                .is_some_and(|c| c.data_type == DataType::TimestampTz),
            Root::Literal { .. } => false,
        };
        Ok(Some((root, tz)))
    }

    fn replace(&mut self, e: &mut Expr) -> Result<()> {
        let (found, rest) = match self.month_arithmetic(e)? {
            Some((root, op, rest)) => (Some((root, op)), rest),
            None => (self.op_of(e)?, 0),
        };
        let Some((root, op)) = found else {
            return Ok(());
        };
        self.put(e, root, op)?;
        if rest != 0 {
            let months = std::mem::replace(e, Expr::Value(SqlValue::Null));
            *e = Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(months),
                op: BinaryOperator::Plus,
                right: Box::new(crate::literals::glue_interval_expr(
                    gluesql_core::data::Interval::Microsecond(rest),
                )),
            }));
        }
        Ok(())
    }

    /// Puts in `e`'s place the derived column computing `op` over `root`,
    /// or, over a constant, its value.
    fn put(&mut self, e: &mut Expr, root: Root, op: Op) -> Result<()> {
        *e = match root {
            Root::Literal { value, jsonb } => {
                let number = |text: String| -> Result<Expr> {
                    Ok(Expr::Value(SqlValue::Number(
                        text.parse()
                            .map_err(|_| unsupported("a row function's numeric result"))?,
                        false,
                    )))
                };
                // A NUMERIC result keeps its scale (a bare constant would
                // be read as a float).
                let exact = |text: String| Expr::Cast {
                    kind: gluesql_core::sqlparser::ast::CastKind::Cast,
                    expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(text))),
                    data_type: SqlType::Numeric(
                        gluesql_core::sqlparser::ast::ExactNumberInfo::None,
                    ),
                    format: None,
                };
                match op.apply(&value, jsonb)? {
                    GValue::Str(s) if op.kind() == 'j' => Expr::Cast {
                        kind: gluesql_core::sqlparser::ast::CastKind::Cast,
                        expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(s))),
                        data_type: if jsonb { SqlType::JSONB } else { SqlType::JSON },
                        format: None,
                    },
                    GValue::Str(s) => Expr::Value(SqlValue::SingleQuotedString(s)),
                    GValue::Bool(b) => Expr::Value(SqlValue::Boolean(b)),
                    GValue::I32(i) => number(i.to_string())?,
                    GValue::Decimal(d) => exact(d.to_string()),
                    GValue::Timestamp(t) => {
                        let tz = op.kind() == 'z';
                        let text = t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
                        Expr::Cast {
                            kind: gluesql_core::sqlparser::ast::CastKind::Cast,
                            expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(if tz {
                                format!("{text}+00")
                            } else {
                                text
                            }))),
                            data_type: SqlType::Timestamp(
                                None,
                                if tz {
                                    gluesql_core::sqlparser::ast::TimezoneInfo::Tz
                                } else {
                                    gluesql_core::sqlparser::ast::TimezoneInfo::None
                                },
                            ),
                            format: None,
                        }
                    }
                    _ if matches!(op.kind(), 's' | 'z') => Expr::Cast {
                        kind: gluesql_core::sqlparser::ast::CastKind::Cast,
                        expr: Box::new(Expr::Value(SqlValue::Null)),
                        data_type: SqlType::Timestamp(
                            None,
                            gluesql_core::sqlparser::ast::TimezoneInfo::None,
                        ),
                        format: None,
                    },
                    _ if matches!(op.kind(), 'b' | 'i' | 'n') => Expr::Value(SqlValue::Null),
                    _ => Expr::Cast {
                        kind: gluesql_core::sqlparser::ast::CastKind::Cast,
                        expr: Box::new(Expr::Value(SqlValue::Null)),
                        data_type: SqlType::Text,
                        format: None,
                    },
                }
            }
            Root::Column {
                qualifier,
                table,
                column,
                jsonb,
            } => {
                let name = match self
                    .derived
                    .iter()
                    .find(|d| d.table == table && d.source == column && d.op == op)
                {
                    Some(d) => d.name.clone(),
                    None => {
                        let name = format!("{PREFIX}{}{}", op.kind(), self.derived.len());
                        self.derived.push(Derived {
                            table,
                            name: name.clone(),
                            source: column,
                            jsonb,
                            op,
                        });
                        name
                    }
                };
                let ident = Ident::with_quote('"', name);
                match qualifier {
                    Some(q) => Expr::CompoundIdentifier(vec![q, ident]),
                    None => Expr::Identifier(ident),
                }
            }
        };
        Ok(())
    }
}

/// Whether a column is json (`Some(false)`) or jsonb (`Some(true)`).
fn json_column(info: &TableInfo, c: &Column) -> Option<bool> {
    info.column_json(&c.name)
        .map(|k| matches!(k, crate::Json::Jsonb))
}

/// A plain call's name (one part, lower case) and arguments: `None` for a
/// qualified name, named arguments, `DISTINCT`, `FILTER` or `OVER`.
fn call(f: &gluesql_core::sqlparser::ast::Function) -> Option<(String, Vec<&Expr>)> {
    use gluesql_core::sqlparser::ast::FunctionArguments;
    let [name] = f.name.0.as_slice() else {
        return None;
    };
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.duplicate_treatment.is_some()
        || !list.clauses.is_empty()
        || f.filter.is_some()
        || f.over.is_some()
    {
        return None;
    }
    let args = crate::pgfuncs::call_args(f)?;
    Some((name.value.to_ascii_lowercase(), args))
}

/// A json / jsonb literal as a chain root (jsonb normalised).
fn json_literal(text: &str, jsonb: bool) -> Result<Root> {
    let value = if jsonb {
        crate::json::jsonb_text(text)?
    } else {
        crate::json::check_json(text)?;
        text.to_string()
    };
    Ok(Root::Literal {
        value: GValue::Str(value),
        jsonb,
    })
}

/// The argument types of the row functions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    Text,
    Integer,
    Bytea,
    Numeric,
    /// `date`, `timestamp` or `timestamptz` (month arithmetic).
    DateTime,
}

fn root_jsonb(root: &Root) -> bool {
    match root {
        Root::Column { jsonb, .. } | Root::Literal { jsonb, .. } => *jsonb,
    }
}

impl VisitorMut for Rewriter<'_, '_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Err(err) = self.replace(e) {
            self.error = Some(err);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// `doc->-1` and `doc->>-1`: the tokenizer reads `->-` / `->>-` as one
/// operator, PostgreSQL as `->` / `->>` and a minus sign.
struct MinusSplit;

impl VisitorMut for MinusSplit {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::BinaryOp { op, right, .. } = e {
            let split = match op {
                BinaryOperator::Custom(s) if s == "->-" => Some(BinaryOperator::Arrow),
                BinaryOperator::Custom(s) if s == "->>-" => Some(BinaryOperator::LongArrow),
                _ => None,
            };
            if let Some(split) = split {
                *op = split;
                let operand = std::mem::replace(right.as_mut(), Expr::Value(SqlValue::Null));
                **right = Expr::UnaryOp {
                    op: gluesql_core::sqlparser::ast::UnaryOperator::Minus,
                    expr: Box::new(operand),
                };
            }
        }
        ControlFlow::Continue(())
    }
}

/// Reads `doc->-1` as PostgreSQL does (see [`MinusSplit`]); before
/// typing a statement, so its result types are those of the operators.
pub(crate) fn split_minus(stmt: &mut Statement) {
    let _ = VisitMut::visit(stmt, &mut MinusSplit);
}

/// Spells out `*` and `t.*` over the tables that have derived columns, so
/// those columns stay hidden.
struct Wildcards<'d, 't> {
    derived: &'d [Derived],
    tables: &'t Tables,
    error: Option<SqlError>,
}

impl Wildcards<'_, '_> {
    fn has_derived(&self, table: &str) -> bool {
        self.derived.iter().any(|d| d.table == table)
    }

    fn columns(&self, label: &str, table: &str) -> Vec<SelectItem> {
        self.tables
            .get(table)
            .map(|info| {
                info.columns()
                    .map(|c| {
                        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![
                            Ident::with_quote('"', label),
                            Ident::with_quote('"', c.name.clone()),
                        ]))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn expand(&self, body: &mut SetExpr) -> Result<()> {
        match body {
            SetExpr::Select(s) => {
                let mut relations: Vec<(Option<String>, Option<String>)> = Vec::new();
                for twj in &s.from {
                    for f in
                        std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation))
                    {
                        relations.push(match f {
                            TableFactor::Table { name, alias, .. } => {
                                let table =
                                    name.0.last().map(|i| i.value.clone()).unwrap_or_default();
                                let label = alias
                                    .as_ref()
                                    .map_or(table.clone(), |a| a.name.value.clone());
                                (Some(label), Some(table))
                            }
                            TableFactor::Derived { alias, .. }
                            | TableFactor::Function { alias, .. } => {
                                (alias.as_ref().map(|a| a.name.value.clone()), None)
                            }
                            _ => (None, None),
                        });
                    }
                }
                if !relations
                    .iter()
                    .any(|(_, t)| t.as_deref().is_some_and(|t| self.has_derived(t)))
                {
                    return Ok(());
                }
                let mut items = Vec::with_capacity(s.projection.len());
                for item in std::mem::take(&mut s.projection) {
                    match item {
                        SelectItem::Wildcard(_) => {
                            for (label, table) in &relations {
                                match (label, table) {
                                    (Some(l), Some(t)) if self.has_derived(t) => {
                                        items.extend(self.columns(l, t));
                                    }
                                    (Some(l), _) => items.push(SelectItem::QualifiedWildcard(
                                        ObjectName(vec![Ident::with_quote('"', l.clone())]),
                                        WildcardAdditionalOptions::default(),
                                    )),
                                    (None, _) => {
                                        return Err(unsupported(
                                            "SELECT * with a JSON operator over a relation without a name",
                                        ))
                                    }
                                }
                            }
                        }
                        SelectItem::QualifiedWildcard(name, options) => {
                            let q = name.0.last().map(|i| i.value.clone()).unwrap_or_default();
                            match relations.iter().find(|(l, _)| {
                                l.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(&q))
                            }) {
                                Some((Some(l), Some(t))) if self.has_derived(t) => {
                                    items.extend(self.columns(l, t));
                                }
                                _ => items.push(SelectItem::QualifiedWildcard(name, options)),
                            }
                        }
                        other => items.push(other),
                    }
                }
                s.projection = items;
                Ok(())
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.expand(left)?;
                self.expand(right)
            }
            SetExpr::Query(q) => self.expand(&mut q.body),
            _ => Ok(()),
        }
    }
}

impl VisitorMut for Wildcards<'_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        if let Err(e) = self.expand(&mut q.body) {
            self.error = Some(e);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites the JSON operators of `stmt` (see the module documentation):
/// those over literals are evaluated, those over table columns become
/// derived columns, returned for the store to compute.
///
/// # Errors
/// 42883 for an operator PostgreSQL does not have for the operand types
/// (`json @> …`, `text -> …`), 22P02 for a literal that is not JSON,
/// 0A000 for an ambiguous column.
pub(crate) fn rewrite(
    stmt: &mut Statement,
    tables: &Tables,
    params: &[Value],
    now: chrono::NaiveDateTime,
) -> Result<Vec<Derived>> {
    let mut scope = Scope {
        tables,
        labels: Vec::new(),
    };
    split_minus(stmt);
    let _ = Visit::visit(&*stmt, &mut scope);
    let mut rw = Rewriter {
        scope: &scope,
        params,
        now,
        derived: Vec::new(),
        error: None,
    };
    let _ = VisitMut::visit(stmt, &mut rw);
    if let Some(e) = rw.error {
        return Err(e);
    }
    let derived = rw.derived;
    if !derived.is_empty() {
        let mut w = Wildcards {
            derived: &derived,
            tables,
            error: None,
        };
        let _ = VisitMut::visit(stmt, &mut w);
        if let Some(e) = w.error {
            return Err(e);
        }
    }
    Ok(derived)
}

#[cfg(test)]
mod tests {
    use super::add_months;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(10, 30, 0)
            .unwrap()
    }

    #[test]
    fn months_keep_the_day_or_clamp_to_the_months_last_day() {
        assert_eq!(add_months(at(2024, 1, 31), 1).unwrap(), at(2024, 2, 29));
        assert_eq!(add_months(at(2023, 1, 31), 1).unwrap(), at(2023, 2, 28));
        assert_eq!(add_months(at(2024, 11, 15), 1).unwrap(), at(2024, 12, 15));
        assert_eq!(add_months(at(2024, 12, 15), -12).unwrap(), at(2023, 12, 15));
        assert_eq!(add_months(at(2024, 3, 31), -1).unwrap(), at(2024, 2, 29));
        assert_eq!(add_months(at(2024, 1, 15), -1).unwrap(), at(2023, 12, 15));
        assert_eq!(add_months(at(2024, 2, 29), 12).unwrap(), at(2025, 2, 28));
        assert_eq!(add_months(at(2024, 5, 31), 25).unwrap(), at(2026, 6, 30));
        assert_eq!(add_months(at(2024, 5, 31), 0).unwrap(), at(2024, 5, 31));
    }

    #[test]
    fn months_past_the_last_timestamp_are_out_of_range() {
        let e = add_months(at(2024, 1, 1), i32::MAX).unwrap_err();
        assert!(e.to_string().contains("timestamp out of range"), "{e}");
        let e = add_months(at(2024, 1, 1), i32::MIN).unwrap_err();
        assert!(e.to_string().contains("timestamp out of range"), "{e}");
    }
}

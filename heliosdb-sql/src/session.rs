//! A SQL session: parse, rewrite for PostgreSQL, infer types, and run each
//! statement through GlueSQL on the engine. Transactions are the engine's,
//! which belong to the calling thread.

use std::ops::ControlFlow;
use std::sync::{Arc, PoisonError};

use gluesql_core::executor::{execute, Payload, PayloadVariable};
use gluesql_core::prelude::{translate_with_params, ParamLiteral};
use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, visit_relations, Expr, ObjectName, Query, SelectItem, SetExpr,
    Statement, Value as SqlValue,
};
use gluesql_core::store::Planner;
use gluesql_core::translate::IntoParamLiteral;
use heliosdb_core::audit::{self, AuditEvent, EventType};
use heliosdb_core::{DataType, StorageEngine, Value};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

mod cursors;
mod materialise;
mod read_only;

use crate::convert::result_value;
use crate::infer::{param_types, query_columns, returning_columns};
use crate::store::{EngineStore, SqlShared, StmtKind, TableInfo};
use crate::{
    catalog, limits, rewrite, settings, ColumnInfo, QueryResult, Result, SessionSettings, SqlError,
};

/// The audit event type of a statement that touches data or schema;
/// `None` for session and transaction control (BEGIN, SET, SHOW).
fn audit_type(stmt: &Statement) -> Option<EventType> {
    Some(match stmt {
        Statement::Query(_) | Statement::Declare { .. } => EventType::Read,
        Statement::Insert(_) | Statement::Update { .. } => EventType::Write,
        Statement::Delete(_) | Statement::Truncate { .. } => EventType::Delete,
        Statement::CreateTable(_)
        | Statement::CreateIndex(_)
        | Statement::CreateView { .. }
        | Statement::CreateSequence { .. }
        | Statement::AlterTable { .. }
        | Statement::Drop { .. } => EventType::SchemaChange,
        _ => return None,
    })
}

/// The table(s) an audited statement names, comma-separated.
fn audit_tables(stmt: &Statement) -> Option<String> {
    let mut tables: Vec<String> = Vec::new();
    let _ = visit_relations(stmt, |name| {
        let name = name.to_string();
        if !tables.contains(&name) {
            tables.push(name);
        }
        ControlFlow::<()>::Continue(())
    });
    if let Statement::Drop { names, .. } = stmt {
        for n in names {
            let n = n.to_string();
            if !tables.contains(&n) {
                tables.push(n);
            }
        }
    }
    (!tables.is_empty()).then(|| tables.join(","))
}

/// The statement's text with every literal value (strings, numbers, bytes)
/// shown as `?`: what the audit log records by default, so that no row
/// content reaches the unencrypted log. NULL, booleans and `$n` stay.
fn redact_literals(stmt: &Statement) -> String {
    let mut stmt = stmt.clone();
    let _ = visit_expressions_mut(&mut stmt, |e| {
        match e {
            // Booleans are row content too (`WHERE hiv_positive = TRUE`).
            Expr::Value(v) if !matches!(v, SqlValue::Null | SqlValue::Placeholder(_)) => {
                *v = SqlValue::Placeholder("?".into());
            }
            // `TIMESTAMP '2024-02-29 12:00'`, `DATE '…'`: keep the type.
            Expr::TypedString { value, .. } => *value = "?".into(),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    stmt.to_string()
}

/// What a statement takes and returns, known before it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    /// Parameter types (`None`: not inferable; clients send text).
    pub params: Vec<Option<DataType>>,
    /// Result columns, `None` for statements without rows.
    pub columns: Option<Vec<ColumnInfo>>,
}

/// A SQL session over an engine. Statements of one transaction must run on
/// one thread (engine transactions are per thread).
#[derive(Debug)]
pub struct Session<'e> {
    engine: &'e StorageEngine,
    shared: &'e SqlShared,
    database: String,
    user: String,
    /// A statement failed inside the open transaction: only COMMIT/ROLLBACK
    /// (which both roll back) are accepted until it ends, as in PostgreSQL.
    failed: bool,
    /// What `SET` changed (`statement_timeout`).
    settings: SessionSettings,
    /// The derived tables of the statement being run whose `array_agg`
    /// columns it passes on (see `crate::arrays::derived_arrays`): their
    /// arrays may be materialised as text.
    array_aliases: Vec<String>,
    /// Where the rows of the statement being run may stream (see
    /// [`Session::execute_streaming`]); taken by the statement, so that the
    /// queries it runs inside itself never stream.
    sink: Option<crate::stream::Sink>,
}

/// Types the result columns that hold `json` / `jsonb` documents (one
/// kind per column, from [`crate::infer::json_columns`]) as such; only text
/// columns, and only when the lists line up.
fn mark_json(columns: &mut [ColumnInfo], kinds: Option<Vec<Option<crate::Json>>>) {
    let Some(kinds) = kinds.filter(|k| k.len() == columns.len()) else {
        return;
    };
    for (c, k) in columns.iter_mut().zip(kinds) {
        if c.data_type == DataType::Text && c.array_of.is_none() {
            c.json = k;
        }
    }
}

/// Runs a streamable statement's plan chunk by chunk (see
/// [`crate::stream`]): a first chunk that is the whole answer returns as
/// rows; a longer answer goes to `sink` and returns its tag.
fn stream_chunks(
    store: &mut EngineStore<'_>,
    plan: &gluesql_core::plan::StatementPlan,
    mut sink: Box<dyn crate::RowSink>,
    finish: impl Fn(
        Vec<String>,
        Vec<Vec<gluesql_core::data::Value>>,
    ) -> Result<(Vec<ColumnInfo>, Vec<Vec<Value>>)>,
) -> Result<QueryResult> {
    let mut sent: u64 = 0;
    let mut started = false;
    loop {
        let payload = execute(store, plan).map_err(crate::sqlstate::from_glue)?;
        let Payload::Select { labels, rows } = payload else {
            return Err(SqlError::Engine(
                "a streamed query answered without rows".into(),
            ));
        };
        let chunk = store
            .chunk
            .as_ref()
            .ok_or_else(|| SqlError::Engine("a streamed query lost its scan".into()))?;
        // The plan did not scan the table (it found another way), or the
        // scan ended: what this run answered completes the statement.
        let last = !chunk.opened.get() || chunk.exhausted.get();
        if !last && chunk.read.get() < chunk.size {
            // Stopped reading before its chunk was done: the plan is not a
            // row-by-row one after all (never expected; refuse rather than
            // answer partly).
            return Err(SqlError::Engine(
                "a streamed query stopped reading its table early".into(),
            ));
        }
        let (columns, rows) = finish(labels, rows)?;
        if !started && last {
            return Ok(QueryResult::Rows {
                tag: format!("SELECT {}", rows.len()),
                columns,
                rows,
            });
        }
        if !started {
            sink.columns(&columns)?;
            started = true;
        }
        sent += rows.len() as u64;
        if !rows.is_empty() {
            sink.rows(rows)?;
        }
        if last {
            return Ok(QueryResult::Command {
                tag: format!("SELECT {sent}"),
                rows: sent,
            });
        }
    }
}

/// Parses after the depth check (see [`limits`]): nothing walks a statement
/// recursively before it passed.
fn parse(sql: &str) -> Result<Vec<Statement>> {
    limits::parse(sql)
}

fn in_txn_refusal(what: &str) -> SqlError {
    SqlError::Unsupported(format!(
        "{what} cannot run inside a transaction block (schema changes commit immediately on \
         the encrypted engine)"
    ))
}

/// A float or NUMERIC parameter bound for an integer: rounded as
/// PostgreSQL's casts round it (a float to the nearest even integer on a
/// tie, a NUMERIC half away from zero), so `SET smallint_col = $1` with
/// 2.6 stores 3. Parameters compared with integers keep their own type
/// (`numeric::typed_params`) and do not come here.
fn rounded_for(v: Value, t: DataType) -> Value {
    if !matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8) {
        return v;
    }
    match v {
        Value::Float8(f) => Value::Float8(f.round_ties_even()),
        Value::Float4(f) => Value::Float4(f.round_ties_even()),
        Value::Numeric(d) => Value::Numeric(
            d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        ),
        other => other,
    }
}

/// The table an INSERT or UPDATE writes.
fn written_table<'t>(
    stmt: &Statement,
    tables: &'t std::collections::BTreeMap<String, Arc<crate::store::TableInfo>>,
) -> Option<&'t crate::store::TableInfo> {
    let name = match stmt {
        Statement::Insert(ins) => ins.table_name.0.last()?,
        Statement::Update { table, .. } => match &table.relation {
            gluesql_core::sqlparser::ast::TableFactor::Table { name, .. } => name.0.last()?,
            _ => return None,
        },
        _ => return None,
    };
    tables.get(&name.value).map(|t| &**t)
}

/// Converts `v` to type `t` (parameters and result values), widening
/// integers, parsing text, and rendering anything as text for `Text`.
///
/// # Errors
/// [`SqlError::Type`] when the value does not fit.
pub fn coerce(v: Value, t: DataType) -> Result<Value> {
    if matches!(v, Value::Null) || v.data_type() == Some(t) {
        return Ok(v);
    }
    let bad = |v: &Value| SqlError::Type(format!("cannot use {v} as {}", crate::pg_type_name(t)));
    let int = match &v {
        Value::Int2(i) => Some(i64::from(*i)),
        Value::Int4(i) => Some(i64::from(*i)),
        Value::Int8(i) => Some(*i),
        Value::Numeric(d) if d.fract().is_zero() => d.to_i64(),
        // 2.0 sent as a float8 parameter where an integer is compared.
        #[allow(clippy::cast_possible_truncation)]
        Value::Float8(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        #[allow(clippy::cast_possible_truncation)]
        Value::Float4(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    // An integer that does not fit the integer type: 22003, as PostgreSQL
    // (also a whole NUMERIC or float beyond i64: `9223372036854775807 + 1`).
    let whole = match &v {
        Value::Numeric(d) => d.fract().is_zero(),
        Value::Float8(f) => f.fract() == 0.0,
        Value::Float4(f) => f.fract() == 0.0,
        _ => false,
    };
    let range = |v: &Value| {
        if int.is_some() || whole {
            SqlError::State {
                code: crate::sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                message: format!("{} out of range", crate::pg_type_name(t)),
            }
        } else {
            bad(v)
        }
    };
    Ok(match t {
        DataType::Int2 => Value::Int2(
            int.and_then(|i| i16::try_from(i).ok())
                .ok_or_else(|| range(&v))?,
        ),
        DataType::Int4 => Value::Int4(
            int.and_then(|i| i32::try_from(i).ok())
                .ok_or_else(|| range(&v))?,
        ),
        DataType::Int8 => Value::Int8(int.ok_or_else(|| range(&v))?),
        DataType::Float8 => Value::Float8(match &v {
            Value::Numeric(d) => d.to_f64().ok_or_else(|| bad(&v))?,
            Value::Float4(f) => f64::from(*f),
            Value::String(s) => s.trim().parse().map_err(|_| bad(&v))?,
            _ => int.ok_or_else(|| bad(&v))? as f64,
        }),
        DataType::Float4 => Value::Float4(match &v {
            Value::Numeric(d) => crate::convert::real_of(d.to_f64().ok_or_else(|| bad(&v))?)?,
            Value::Float8(f) => crate::convert::real_of(*f)?,
            Value::String(s) => crate::convert::parse_real(s).ok_or_else(|| bad(&v))??,
            _ => int.ok_or_else(|| bad(&v))? as f32,
        }),
        DataType::Numeric => Value::Numeric(match &v {
            Value::Float8(f) => Decimal::from_f64(*f).ok_or_else(|| bad(&v))?,
            // Six significant digits, as PostgreSQL's float4 to numeric.
            Value::Float4(f) => {
                gluesql_core::data::value::real_to_decimal(*f).ok_or_else(|| bad(&v))?
            }
            Value::String(s) => s.trim().parse().map_err(|_| bad(&v))?,
            _ => Decimal::from(int.ok_or_else(|| bad(&v))?),
        }),
        DataType::Bool => match &v {
            Value::String(s) => Value::Bool(
                crate::pgtext::parse_bool(s).ok_or_else(|| crate::pgtext::invalid(t, s))?,
            ),
            _ => return Err(bad(&v)),
        },
        DataType::Text => Value::String(text_of(&v)),
        DataType::Bytes => match &v {
            Value::String(s) => Value::Bytes(bytea_from_text(s).ok_or_else(|| bad(&v))?),
            _ => return Err(bad(&v)),
        },
        DataType::Timestamp => match &v {
            Value::String(s) => Value::Timestamp(crate::pgtext::parse_timestamp(s)?.and_utc()),
            Value::TimestampTz(x) => Value::Timestamp(*x),
            Value::Date(d) => Value::Timestamp(d.and_time(chrono::NaiveTime::MIN).and_utc()),
            _ => return Err(bad(&v)),
        },
        // GlueSQL computes timestamptz as a UTC timestamp (the session
        // time zone is UTC), so a timestamp result of a timestamptz
        // expression is that instant.
        DataType::TimestampTz => match &v {
            Value::Timestamp(x) => Value::TimestampTz(*x),
            Value::Date(d) => Value::TimestampTz(d.and_time(chrono::NaiveTime::MIN).and_utc()),
            Value::String(s) => Value::TimestampTz(crate::pgtext::parse_timestamptz(s)?),
            _ => return Err(bad(&v)),
        },
        DataType::Date => match &v {
            Value::Timestamp(x) | Value::TimestampTz(x) => Value::Date(x.date_naive()),
            Value::String(s) => Value::Date(crate::pgtext::parse_date(s)?),
            _ => return Err(bad(&v)),
        },
        DataType::Time => match &v {
            Value::Timestamp(x) | Value::TimestampTz(x) => Value::Time(x.time()),
            Value::String(s) => Value::Time(crate::pgtext::parse_time(s)?),
            _ => return Err(bad(&v)),
        },
        DataType::Interval => match &v {
            Value::String(s) => {
                let i = crate::pgtext::parse_interval(s)?;
                glue_exact_interval(i, s)?;
                Value::Interval(i)
            }
            _ => return Err(bad(&v)),
        },
        DataType::Uuid => match &v {
            Value::String(s) => Value::Uuid(
                crate::pgtext::parse_uuid(s).ok_or_else(|| crate::pgtext::invalid(t, s))?,
            ),
            _ => return Err(bad(&v)),
        },
    })
}

/// Refuses intervals GlueSQL would hold or print differently: it keeps
/// months or microseconds, and results print whole days of microseconds as
/// days, so `26 hours` (PostgreSQL: `26:00:00`) and `1 day -01:00:00` would
/// come back changed.
pub(crate) fn glue_exact_interval(i: heliosdb_core::Interval, s: &str) -> Result<()> {
    crate::convert::interval_to_glue(i).ok_or_else(|| mixed_interval(s))?;
    let day = 86_400_000_000_i64;
    if i.micros.abs() >= day || (i.days != 0 && i.micros != 0 && (i.days < 0) != (i.micros < 0)) {
        return Err(SqlError::Unsupported(format!(
            "intervals whose time part is 24 hours or more, or of another sign than its days \
             ('{s}'), are not supported"
        )));
    }
    Ok(())
}

/// GlueSQL keeps an interval in months or in microseconds, never both: an
/// interval such as `1 mon 2 days` is refused rather than changed.
pub(crate) fn mixed_interval(s: &str) -> SqlError {
    SqlError::Unsupported(format!(
        "intervals mixing months or years with days or time ('{s}') are not supported"
    ))
}

/// bytea's text input: `\x` followed by hex digit pairs, or the escape
/// format (`\\` a backslash, `\ooo` an octal byte, any other character
/// itself). `None` when it is neither.
fn bytea_from_text(s: &str) -> Option<Vec<u8>> {
    if let Some(hex) = s.strip_prefix("\\x").or_else(|| s.strip_prefix("\\X")) {
        let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return None;
        }
        return digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
            .collect();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let oct = b.get(i + 1..i + 4)?;
            if !(b'0'..=b'3').contains(&oct[0])
                || !oct[1..].iter().all(|d| (b'0'..=b'7').contains(d))
            {
                return None;
            }
            out.push((oct[0] - b'0') * 64 + (oct[1] - b'0') * 8 + (oct[2] - b'0'));
            i += 4;
        }
    }
    Some(out)
}

/// PostgreSQL's text form of a `double precision` (`extra_float_digits`
/// 1 to 3): the shortest text that reads back as the same value, with an
/// exponent (`1e+20`, `1e-05`) below 1e-4 and from 1e15 on.
pub fn float8_text(f: f64) -> String {
    float_text(f, &format!("{f:e}"), &format!("{f}"), 15)
}

/// PostgreSQL's text form of a `real` (shortest digits that read back as
/// the same `f32`; exponent form from 10^6, as `float4out`).
pub fn float4_text(f: f32) -> String {
    float_text(f64::from(f), &format!("{f:e}"), &format!("{f}"), 6)
}

/// `sci` and `plain` are the shortest round-trip forms of `f` in its own
/// width; PostgreSQL prints the plain form for exponents -4 to `digits`-1.
fn float_text(f: f64, sci: &str, plain: &str, digits: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..digits).contains(&exp) {
        return plain.to_string();
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// PostgreSQL's text form of a value.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Float8(f) => float8_text(*f),
        Value::Float4(f) => float4_text(*f),
        Value::Bool(b) => if *b { "t" } else { "f" }.to_string(),
        Value::String(s) => s.clone(),
        Value::Timestamp(t) => crate::pgtext::timestamp_text(t.naive_utc()),
        Value::TimestampTz(t) => crate::pgtext::timestamptz_text(*t),
        Value::Date(d) => crate::pgtext::date_text(*d),
        Value::Time(t) => crate::pgtext::time_text(*t),
        other => other.to_string(),
    }
}

/// A value as an SQL literal expression of its type (exact decimals and
/// timestamps through casts of their text).
pub(crate) fn value_expr(v: &Value) -> Expr {
    use gluesql_core::sqlparser::ast::{CastKind, DataType as SqlType, ExactNumberInfo};
    let cast = |text: String, t: SqlType| Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(text))),
        data_type: t,
        format: None,
    };
    let number = |n: String| match n.parse() {
        Ok(b) => Expr::Value(SqlValue::Number(b, false)),
        Err(_) => Expr::Value(SqlValue::SingleQuotedString(n)),
    };
    match v {
        Value::Null => Expr::Value(SqlValue::Null),
        Value::Bool(b) => Expr::Value(SqlValue::Boolean(*b)),
        Value::Int2(n) => number(n.to_string()),
        Value::Int4(n) => number(n.to_string()),
        Value::Int8(n) => number(n.to_string()),
        Value::Float8(f) => cast(float8_text(*f), SqlType::Float8),
        Value::Float4(f) => cast(float4_text(*f), SqlType::Float32),
        Value::Numeric(d) => cast(d.to_string(), SqlType::Decimal(ExactNumberInfo::None)),
        Value::String(s) => Expr::Value(SqlValue::SingleQuotedString(s.clone())),
        Value::Bytes(b) => Expr::Value(SqlValue::HexStringLiteral(
            b.iter().map(|x| format!("{x:02x}")).collect(),
        )),
        Value::Timestamp(t) | Value::TimestampTz(t) => cast(
            t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            SqlType::Timestamp(None, gluesql_core::sqlparser::ast::TimezoneInfo::None),
        ),
        Value::Date(d) => cast(d.format("%Y-%m-%d").to_string(), SqlType::Date),
        Value::Time(t) => cast(
            t.format("%H:%M:%S%.6f").to_string(),
            SqlType::Time(None, gluesql_core::sqlparser::ast::TimezoneInfo::None),
        ),
        Value::Uuid(u) => cast(heliosdb_core::uuid_text(*u), SqlType::Uuid),
        Value::Interval(i) => match crate::convert::interval_to_glue(*i) {
            Some(g) => crate::literals::glue_interval_expr(g),
            None => Expr::Value(SqlValue::Null),
        },
    }
}

/// A value as GlueSQL's parameter literal (statement parameters, COPY rows).
pub(crate) fn param_literal(v: Value) -> ParamLiteral {
    match v {
        Value::Null => ParamLiteral::null(),
        Value::Bool(b) => b.into_param_literal(),
        Value::Int2(i) => i.into_param_literal(),
        Value::Int4(i) => i.into_param_literal(),
        Value::Int8(i) => i.into_param_literal(),
        Value::Float8(f) => f.into_param_literal(),
        Value::Float4(f) => f.into_param_literal(),
        Value::Numeric(d) => d.into_param_literal(),
        Value::String(s) => s.into_param_literal(),
        Value::Bytes(b) => b.into_param_literal(),
        Value::Timestamp(t) | Value::TimestampTz(t) => t.naive_utc().into_param_literal(),
        Value::Date(d) => d.into_param_literal(),
        Value::Time(t) => t.into_param_literal(),
        Value::Uuid(u) => uuid::Uuid::from_u128(u).into_param_literal(),
        // `coerce` refused intervals GlueSQL cannot hold before this point.
        Value::Interval(i) => match crate::convert::interval_to_glue(i) {
            Some(g) => g.into_param_literal(),
            None => ParamLiteral::null(),
        },
    }
}

fn tag_for(payload: &Payload) -> (String, u64) {
    match payload {
        Payload::Insert(n) => (format!("INSERT 0 {n}"), *n as u64),
        Payload::Update(n) => (format!("UPDATE {n}"), *n as u64),
        Payload::Delete(n) => (format!("DELETE {n}"), *n as u64),
        Payload::Create => ("CREATE TABLE".into(), 0),
        Payload::DropTable(_) => ("DROP TABLE".into(), 0),
        Payload::DropFunction => ("DROP FUNCTION".into(), 0),
        Payload::AlterTable => ("ALTER TABLE".into(), 0),
        Payload::CreateIndex => ("CREATE INDEX".into(), 0),
        Payload::DropIndex => ("DROP INDEX".into(), 0),
        Payload::StartTransaction => ("BEGIN".into(), 0),
        Payload::Commit => ("COMMIT".into(), 0),
        Payload::Rollback => ("ROLLBACK".into(), 0),
        _ => ("SELECT".into(), 0),
    }
}

/// Typed rows from labels, inferred types and raw values: a column's type is
/// the inferred one, else the first non-NULL value's, else text.
fn typed_rows(
    labels: Vec<String>,
    inferred: Option<Vec<(String, Option<DataType>)>>,
    rows: Vec<Vec<Value>>,
) -> Result<(Vec<ColumnInfo>, Vec<Vec<Value>>)> {
    let inferred = inferred.filter(|i| i.len() == labels.len());
    let columns: Vec<ColumnInfo> = labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let (name, t) = match &inferred {
                Some(inf) => (inf[i].0.clone(), inf[i].1),
                None => (l, None),
            };
            let t = t
                .or_else(|| {
                    rows.iter()
                        .find_map(|r| r.get(i).and_then(Value::data_type))
                })
                .unwrap_or(DataType::Text);
            ColumnInfo {
                name,
                data_type: t,
                array_of: None,
                json: None,
            }
        })
        .collect();
    let rows = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .zip(&columns)
                .map(|(v, c)| coerce(v, c.data_type))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((columns, rows))
}

impl<'e> Session<'e> {
    /// A session on `engine`; `shared` caches table definitions across
    /// sessions of the same engine (keep one per engine).
    pub fn new(engine: &'e StorageEngine, shared: &'e SqlShared) -> Self {
        Session {
            engine,
            shared,
            database: "heliosdb".into(),
            user: "heliosdb".into(),
            failed: false,
            settings: SessionSettings::default(),
            array_aliases: Vec::new(),
            sink: None,
        }
    }

    /// Carries the session's settings (`statement_timeout`) into a session
    /// rebuilt for each statement, as [`Session::with_failed`] does.
    pub fn with_settings(mut self, settings: SessionSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The settings as `SET` left them.
    pub fn settings(&self) -> SessionSettings {
        self.settings.clone()
    }

    /// Takes the settings as `SET` left them, with the rest of the state a
    /// session carries between statements (its cursors): what a server
    /// hands to the session's next statement, without copying it.
    pub fn take_settings(&mut self) -> SessionSettings {
        std::mem::take(&mut self.settings)
    }

    /// The session's `statement_timeout`.
    pub fn statement_timeout(&self) -> Option<std::time::Duration> {
        self.settings.statement_timeout()
    }

    /// Names the database and user that `current_database()` and
    /// `current_user` report.
    pub fn with_identity(mut self, database: &str, user: &str) -> Self {
        self.database = database.to_string();
        self.user = user.to_string();
        self
    }

    /// Carries PostgreSQL's "transaction aborted" state into a session
    /// rebuilt for each statement (the server does so per call).
    pub fn with_failed(mut self, failed: bool) -> Self {
        self.failed = failed;
        self
    }

    /// Whether the open transaction saw an error and only accepts its end.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// The engine this session runs on.
    pub fn engine(&self) -> &'e StorageEngine {
        self.engine
    }

    /// Whether a transaction is open (on this thread).
    pub fn in_transaction(&self) -> bool {
        self.engine.in_transaction()
    }

    pub(crate) fn tables(&self) -> Result<Arc<std::collections::BTreeMap<String, Arc<TableInfo>>>> {
        self.shared.tables(self.engine)
    }

    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// Parameter and result types of a single statement, without running it.
    ///
    /// # Errors
    /// Syntax errors; more than one statement.
    pub fn describe(&mut self, sql: &str) -> Result<Described> {
        let _scope = audit::statement_scope();
        let _deadline = limits::arm(self.settings.statement_timeout());
        if let Some(r) = catalog::answer(self, sql)? {
            let columns = match r {
                QueryResult::Rows { columns, .. } => Some(columns),
                QueryResult::Command { .. } => None,
            };
            return Ok(Described {
                params: Vec::new(),
                columns,
            });
        }
        if let Some(f) = cursors::fetch_text(sql) {
            let f = f?;
            return Ok(Described {
                params: Vec::new(),
                columns: if f.moving {
                    None
                } else {
                    self.cursor_columns(&f.name)
                },
            });
        }
        let mut stmts = parse(sql)?;
        if stmts.len() > 1 {
            return Err(SqlError::Unsupported(
                "cannot insert multiple commands into a prepared statement".into(),
            ));
        }
        let Some(mut stmt) = stmts.pop() else {
            return Ok(Described {
                params: Vec::new(),
                columns: None,
            });
        };
        match &stmt {
            // Its parameters are its query's; it returns no rows.
            Statement::Declare { stmts } => {
                let params = match stmts.first().and_then(|d| d.for_query.as_ref()) {
                    Some(q) => self.describe(&q.to_string())?.params,
                    None => Vec::new(),
                };
                return Ok(Described {
                    params,
                    columns: None,
                });
            }
            Statement::Fetch { name, .. } => {
                return Ok(Described {
                    params: Vec::new(),
                    columns: self.cursor_columns(&cursors::cursor_name(name)),
                });
            }
            Statement::Close { .. } => {
                return Ok(Described {
                    params: Vec::new(),
                    columns: None,
                });
            }
            _ => {}
        }
        crate::objects::expand_views(self.engine, &*self.tables()?, &mut stmt)?;
        crate::using::rewrite(&mut stmt, &*self.tables()?)?;
        crate::distinct_on::rewrite(&mut stmt)?;
        crate::jsonops::split_minus(&mut stmt);
        crate::objects::shape_for_describe(&mut stmt);
        materialise::shape_for_describe(&mut stmt);
        crate::series::rewrite(&mut stmt, None)?;
        crate::compose::rewrite(&mut stmt)?;
        if let Statement::Query(q) = &stmt {
            let tables = self.tables()?;
            if let Some(columns) = crate::arrays::describe(q, &tables) {
                return Ok(Described {
                    params: param_types(&tables, &stmt),
                    columns: Some(columns),
                });
            }
        }
        if matches!(stmt, Statement::Query(_)) {
            crate::validate::check(&stmt, &*self.tables()?)?;
        }
        let pg_labels = match &stmt {
            Statement::Query(q) => crate::infer::select_labels(q),
            _ => None,
        };
        let json_kinds = match &stmt {
            Statement::Query(q) => crate::infer::json_columns(&*self.tables()?, q),
            _ => None,
        };
        crate::literals::typed_literals(&mut stmt, &*self.tables()?)?;
        crate::settings::current_setting_calls(&mut stmt, &|n| self.setting_text(n), None)?;
        crate::pgfuncs::rewrite(&mut stmt, &*self.tables()?)?;
        rewrite::expressions(
            &mut stmt,
            &self.database,
            &self.user,
            rewrite::statement_now(),
        );
        crate::window::describe_stand_ins(&mut stmt, &*self.tables()?);
        rewrite::pg_semantics(&mut stmt)?;
        crate::logic::three_valued(&mut stmt)?;
        let tables = self.tables()?;
        crate::numeric::comparisons(&mut stmt, &tables)?;
        crate::textcast::rewrite(&mut stmt, &tables, false)?;
        let params = param_types(&tables, &stmt);
        let text = |cols: Vec<(String, Option<DataType>)>| {
            cols.into_iter()
                .map(|(name, t)| ColumnInfo {
                    name,
                    data_type: t.unwrap_or(DataType::Text),
                    array_of: None,
                    json: None,
                })
                .collect::<Vec<_>>()
        };
        let columns = match &stmt {
            Statement::Query(q) => Some({
                let mut columns = match query_columns(&tables, q) {
                    Some(c) => text(c),
                    None => self.values_columns(q)?,
                };
                if let Some(names) = pg_labels.filter(|l| l.len() == columns.len()) {
                    for (c, name) in columns.iter_mut().zip(names) {
                        c.name = name;
                    }
                }
                mark_json(&mut columns, json_kinds);
                columns
            }),
            Statement::Insert(_) | Statement::Update { .. } | Statement::Delete(_) => {
                match returning_target(&stmt)? {
                    Some((name, items)) => {
                        let info = self.shared.table(self.engine, &name)?;
                        match returning_columns(&info, items) {
                            Some(columns) => Some(
                                columns
                                    .into_iter()
                                    .map(|(name, data_type)| ColumnInfo {
                                        name,
                                        data_type,
                                        array_of: None,
                                        json: None,
                                    })
                                    .collect(),
                            ),
                            // Expressions: as the query that evaluates them.
                            None => {
                                let from =
                                    returning_from(&stmt).ok_or_else(returning_unsupported)?;
                                let select =
                                    format!("SELECT {} FROM {from}", returning_list(items));
                                self.describe(&select)?.columns
                            }
                        }
                    }
                    None => None,
                }
            }
            Statement::Explain { .. } => Some(vec![ColumnInfo {
                name: "QUERY PLAN".into(),
                data_type: DataType::Text,
                array_of: None,
                json: None,
            }]),
            Statement::ShowVariable { variable } => {
                let name = variable
                    .iter()
                    .map(|i| i.value.clone())
                    .collect::<Vec<_>>()
                    .join(" ");
                let labels = if name.eq_ignore_ascii_case("all") {
                    vec!["name".to_string(), "setting".into(), "description".into()]
                } else if name.eq_ignore_ascii_case("statement_timeout")
                    || name.eq_ignore_ascii_case("tables")
                {
                    vec![name.to_ascii_lowercase()]
                } else {
                    vec![self.settings.params.show(&name)?.0]
                };
                Some(
                    labels
                        .into_iter()
                        .map(|name| ColumnInfo {
                            name,
                            data_type: DataType::Text,
                            array_of: None,
                            json: None,
                        })
                        .collect(),
                )
            }
            _ => None,
        };
        Ok(Described { params, columns })
    }

    /// `RESET name` / `RESET ALL`, `VACUUM`, `ANALYZE` (which the parser
    /// does not know): one statement, answered here.
    fn reset(&mut self, sql: &str) -> Result<Option<QueryResult>> {
        let text = sql.trim().trim_end_matches(';').trim();
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or_default().to_ascii_uppercase();
        if (first == "VACUUM" || first == "ANALYZE") && !text.contains(';') {
            // Maintenance PostgreSQL needs and RocksDB does by itself
            // (compaction, no statistics-driven planner): nothing to do,
            // no answer changes. The tables named must exist.
            let tables = self.tables()?;
            for name in maintenance_tables(&text[first.len()..]) {
                let bare = name.strip_prefix("public.").unwrap_or(&name);
                if !tables.contains_key(bare) {
                    return Err(SqlError::State {
                        code: crate::sqlstate::UNDEFINED_TABLE,
                        message: format!("relation \"{name}\" does not exist"),
                    });
                }
            }
            return Ok(Some(QueryResult::Command {
                tag: first,
                rows: 0,
            }));
        }
        if first != "RESET" {
            return Ok(None);
        }
        let name = words.collect::<Vec<_>>().join(" ");
        if name.is_empty() || name.contains(';') {
            return Ok(None);
        }
        if name.eq_ignore_ascii_case("all") {
            self.settings.reset_all();
        } else if name.eq_ignore_ascii_case("statement_timeout") {
            let stmt = parse("SET statement_timeout TO DEFAULT")?.remove(0);
            if let Some(r) = self.settings.apply(&stmt) {
                r?;
            }
        } else {
            self.settings.params.set(&name, None)?;
        }
        Ok(Some(QueryResult::Command {
            tag: "RESET".into(),
            rows: 0,
        }))
    }

    /// Column types of a query that inference cannot type (`SELECT 1`,
    /// `VALUES …`): constant queries are cheap, so run them.
    fn values_columns(
        &mut self,
        q: &gluesql_core::sqlparser::ast::Query,
    ) -> Result<Vec<ColumnInfo>> {
        let sql = q.to_string();
        if sql.contains('$') {
            return Err(SqlError::Unsupported(
                "cannot infer the result types of this parameterised query".into(),
            ));
        }
        match self.run(Statement::Query(Box::new(q.clone())), &[])? {
            QueryResult::Rows { columns, .. } => Ok(columns),
            QueryResult::Command { .. } => Ok(Vec::new()),
        }
    }

    /// Runs `;`-separated statements with `$n` parameters.
    ///
    /// # Errors
    /// Syntax, type, constraint, transaction and storage errors. Statements
    /// before the failing one keep their effect (as with PostgreSQL's simple
    /// query protocol outside a transaction block).
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Vec<QueryResult>> {
        self.execute_with(sql, None, params)
    }

    /// Runs `sql` when it is one point query (`SELECT` of plain columns of
    /// one table `WHERE pk = n`, see `crate::point`): one key read, which
    /// takes microseconds and waits for nothing (no lock, no commit, no
    /// audit record to write), so a server may run it on the connection's
    /// own task instead of handing it to a statement thread. `None`, having
    /// done nothing, for any other statement, also when this one would be
    /// written to the audit log or the open transaction has failed: those
    /// go to [`Session::execute`].
    pub fn execute_point(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Option<Result<Vec<QueryResult>>> {
        if !crate::point::candidate(sql) || (self.failed && self.engine.in_transaction()) {
            return None;
        }
        let (stmt, params) = crate::point::parsed(sql, params, |text| parse(text).ok())?;
        let Statement::Query(q) = &stmt else {
            return None;
        };
        if audit_type(&stmt).is_some_and(|t| self.engine.audits(t))
            || !crate::point::is_point(&*self.tables().ok()?, q, &params)
        {
            return None;
        }
        Some(self.execute_with(sql, Some(vec![stmt]), &params))
    }

    /// [`Session::execute`] of `sql`, already parsed into `parsed` when
    /// `Some`.
    fn execute_with(
        &mut self,
        sql: &str,
        parsed: Option<Vec<Statement>>,
        params: &[Value],
    ) -> Result<Vec<QueryResult>> {
        if !self.engine.in_transaction() {
            self.failed = false;
        }
        if self.failed {
            let first = sql.trim_start().to_ascii_lowercase();
            let ends = ["rollback", "abort", "commit", "end"]
                .iter()
                .any(|k| first.starts_with(k));
            if !ends {
                return Err(SqlError::Transaction(
                    "current transaction is aborted, commands ignored until end of transaction \
                     block"
                        .into(),
                ));
            }
            if let Ok(
                [Statement::Rollback {
                    savepoint: Some(name),
                    ..
                }],
            ) = parse(sql).as_deref()
            {
                self.engine
                    .rollback_to_savepoint(&name.value)
                    .map_err(savepoint_error)?;
                self.failed = false;
                return Ok(vec![QueryResult::Command {
                    tag: "ROLLBACK".into(),
                    rows: 0,
                }]);
            }
            self.engine.rollback()?;
            self.failed = false;
            self.settings.cursors.transaction_ended(false);
            return Ok(vec![QueryResult::Command {
                tag: "ROLLBACK".into(),
                rows: 0,
            }]);
        }
        let r = {
            let _deadline = limits::arm(self.settings.statement_timeout());
            limits::classify(self.execute_all(sql, parsed, params))
        };
        if r.is_err() && self.engine.in_transaction() {
            self.failed = true;
        }
        r
    }

    /// As [`Session::execute`], except that when `sql` is one query that
    /// reads a table row by row (see `crate::stream`) and its answer is
    /// longer than a chunk, its rows go to `sink` as they are read — the
    /// columns first, then the rows a chunk at a time — instead of being
    /// collected: memory stays at a few chunks whatever the table's size.
    /// Such a statement returns [`QueryResult::Command`] with its tag
    /// (`SELECT n`) and row count; every other statement returns as from
    /// [`Session::execute`] and leaves `sink` untouched.
    ///
    /// # Errors
    /// As [`Session::execute`]; an error of `sink` ends the statement with
    /// it (rows already delivered stay delivered).
    pub fn execute_streaming(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: Box<dyn crate::RowSink>,
    ) -> Result<Vec<QueryResult>> {
        self.sink = Some(crate::stream::Sink(sink));
        let r = self.execute(sql, params);
        self.sink = None;
        r
    }

    fn execute_all(
        &mut self,
        sql: &str,
        parsed: Option<Vec<Statement>>,
        params: &[Value],
    ) -> Result<Vec<QueryResult>> {
        // The engine calls a statement makes (and the catalog reads around
        // it) are not events of their own: each statement is one event.
        let _scope = audit::statement_scope();
        if let Some(r) = self.reset(sql)? {
            return Ok(vec![r]);
        }
        if let Some(r) = catalog::answer(self, sql)? {
            return Ok(vec![r]);
        }
        if let Some(f) = cursors::fetch_text(sql) {
            return Ok(vec![self.fetch(f?)?]);
        }
        let stmts = match parsed {
            Some(stmts) => stmts,
            None => parse(sql)?,
        };
        if stmts.len() != 1 {
            // Answers of several statements go back together.
            self.sink = None;
        }
        let mut out = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            let r = self.run_one(stmt, params);
            self.cursors_after(&r);
            out.push(r?);
        }
        Ok(out)
    }

    /// One statement of a query string, and its audit event.
    fn run_one(&mut self, stmt: Statement, params: &[Value]) -> Result<QueryResult> {
        // Here, where an open transaction is the client's block (not yet
        // the implicit one of an autocommit write).
        self.check_writable(&stmt)?;
        let Some(event_type) = audit_type(&stmt) else {
            return self.run(stmt, params);
        };
        if !self.engine.audits(event_type) {
            // Nothing is recorded: no event (and no redacted text) to build.
            return self.run_autocommit_retrying(stmt, params);
        }
        let table = audit_tables(&stmt);
        // Parameters stay `$n`; literals become `?` unless
        // `[audit] log_query_values` asks for them.
        let text = if self.engine.config().audit.log_query_values {
            stmt.to_string()
        } else {
            redact_literals(&stmt)
        };
        let r = self.run_autocommit_retrying(stmt, params)?;
        let rows_affected = match &r {
            QueryResult::Rows { rows, .. } => rows.len() as u64,
            QueryResult::Command { rows, .. } => *rows,
        };
        let event = AuditEvent {
            table,
            query: Some(text),
            rows_affected,
            ..AuditEvent::default()
        };
        // The statement already took effect: a failed audit write is
        // reported, not turned into a failure of the statement.
        if let Err(e) = self.engine.audit(event_type, event) {
            tracing::error!(error = %e, "audit log write failed");
        }
        Ok(r)
    }

    /// Runs a statement; outside a transaction block, an INSERT, UPDATE or
    /// DELETE that loses a serialization conflict (a concurrent commit
    /// changed what it read, so nothing of it was written) runs again on
    /// fresh data, as one atomic read-modify-write: `UPDATE t SET n = n + 1`
    /// never loses an increment. After a few lost rounds it runs alone
    /// (holding `SqlShared::serial` exclusively), so it cannot starve; only
    /// a commit of an explicit transaction can still beat it, and that
    /// cannot happen forever. Inside a transaction block the conflict goes
    /// to the client (SQLSTATE 40001) at COMMIT, as PostgreSQL does.
    fn run_autocommit_retrying(
        &mut self,
        stmt: Statement,
        params: &[Value],
    ) -> Result<QueryResult> {
        const ALONE_AFTER: u32 = 4;
        const MAX_ATTEMPTS: u32 = 64;
        let writes = matches!(
            stmt,
            Statement::Insert(_)
                | Statement::Update { .. }
                | Statement::Delete(_)
                | Statement::Truncate { .. }
        );
        let data = writes || matches!(stmt, Statement::Query(_));
        if !writes || self.engine.in_transaction() {
            let generation = self.engine.schema_generation();
            let r = self.run(stmt, params);
            return self.schema_raced(r, data, generation);
        }
        let shared = self.shared;
        let mut attempt = 1;
        loop {
            let generation = self.engine.schema_generation();
            let r = if attempt > ALONE_AFTER {
                let _alone = shared
                    .serial
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                self.run_atomically(stmt.clone(), params)
            } else {
                let _shared = shared.serial.read().unwrap_or_else(PoisonError::into_inner);
                self.run_atomically(stmt.clone(), params)
            };
            let r = self.schema_raced(r, data, generation);
            match r {
                Err(SqlError::Conflict(_)) if attempt < MAX_ATTEMPTS => {
                    // Randomised back-off so that the losers do not collide again.
                    let spread = 1u64 << attempt.min(ALONE_AFTER);
                    let micros = 50 + rand_below(200 * spread);
                    std::thread::sleep(std::time::Duration::from_micros(micros));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// A query or data change that failed while a schema change committed
    /// (the engine's schema generation moved since it began) may have
    /// failed only because it worked from the old definition of a table —
    /// a row shaped for the columns before an ALTER TABLE, a table dropped
    /// and re-created. Such a failure is a serialization failure (40001:
    /// nothing was written, running it again is safe and meets the new
    /// definition), not the statement's own error.
    fn schema_raced(
        &self,
        r: Result<QueryResult>,
        data: bool,
        generation: u64,
    ) -> Result<QueryResult> {
        match r {
            Err(e)
                if data
                    && !matches!(e, SqlError::Conflict(_) | SqlError::Timeout)
                    && self.engine.schema_generation() != generation =>
            {
                Err(SqlError::Conflict(format!(
                    "could not serialize access due to a concurrent schema change \
                     (a table's definition changed while the statement ran): {e}"
                )))
            }
            other => other,
        }
    }

    /// Runs a data-changing statement outside a transaction block as one
    /// implicit transaction: all of it takes effect or none — also when
    /// what follows the write fails (`INSERT … RETURNING` reading the rows
    /// back, a deadline).
    fn run_atomically(&mut self, stmt: Statement, params: &[Value]) -> Result<QueryResult> {
        self.engine.begin_transaction()?;
        match self.run(stmt, params) {
            Ok(r) => {
                self.engine.commit()?;
                Ok(r)
            }
            Err(e) => {
                if self.engine.in_transaction() {
                    if let Err(rb) = self.engine.rollback() {
                        tracing::error!(error = %rb, "rollback of a failed statement failed");
                    }
                }
                Err(e)
            }
        }
    }

    /// A query whose top is `UNION`/`INTERSECT`/`EXCEPT`: each branch runs
    /// as a query of its own, all in one snapshot (a transaction of their
    /// own outside a block, rolled back: nothing is written), and the rows
    /// are combined here (see [`crate::compose`]).
    fn set_operation(&mut self, q: &Query, params: &[Value]) -> Result<QueryResult> {
        let own = !self.engine.in_transaction();
        if own {
            self.engine.begin_transaction()?;
        }
        let r = self
            .set_branch(&q.body, params)
            .and_then(|c| crate::compose::finish(q, c, params));
        if own && self.engine.in_transaction() {
            self.engine.rollback()?;
        }
        let out = r?;
        Ok(QueryResult::Rows {
            tag: format!("SELECT {}", out.rows.len()),
            columns: out.columns,
            rows: out.rows,
        })
    }

    /// A query with window functions or exact `avg()` (see
    /// [`crate::window`]): the inner query runs as usual, the rest is
    /// computed on its rows.
    /// The columns and rows of a query run for a plan computed here.
    fn inner_rows(
        &mut self,
        query: gluesql_core::sqlparser::ast::Query,
        params: &[Value],
    ) -> Result<(Vec<ColumnInfo>, Vec<Vec<Value>>)> {
        match self.run(Statement::Query(Box::new(query)), params)? {
            QueryResult::Rows { columns, rows, .. } => Ok((columns, rows)),
            QueryResult::Command { tag, .. } => Err(SqlError::Unsupported(format!(
                "an inner query answered {tag} instead of rows"
            ))),
        }
    }

    fn windowed(&mut self, plan: &crate::window::Plan, params: &[Value]) -> Result<QueryResult> {
        let (columns, rows) =
            match self.run(Statement::Query(Box::new(plan.inner.clone())), params)? {
                QueryResult::Rows { columns, rows, .. } => (columns, rows),
                QueryResult::Command { tag, .. } => {
                    return Err(SqlError::Unsupported(format!(
                        "the rows of a window query answered {tag}"
                    )))
                }
            };
        let (columns, rows) = plan.finish(&columns, rows, params)?;
        Ok(QueryResult::Rows {
            tag: format!("SELECT {}", rows.len()),
            columns,
            rows,
        })
    }

    fn set_branch(&mut self, body: &SetExpr, params: &[Value]) -> Result<crate::compose::Composed> {
        let query = match body {
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                let l = self.set_branch(left, params)?;
                let r = self.set_branch(right, params)?;
                return crate::compose::combine(*op, *set_quantifier, l, r);
            }
            SetExpr::Query(q) => q.clone(),
            other => Box::new(crate::compose::plain_query(other.clone())),
        };
        match self.run(Statement::Query(query), params)? {
            QueryResult::Rows { columns, rows, .. } => {
                Ok(crate::compose::Composed { columns, rows })
            }
            QueryResult::Command { tag, .. } => Err(SqlError::Unsupported(format!(
                "a branch of a set operation answered {tag} instead of rows"
            ))),
        }
    }

    /// A statement run inside another one (ON CONFLICT's rows): no audit
    /// event, no transaction handling of its own.
    pub(crate) fn run_internal(
        &mut self,
        stmt: Statement,
        params: &[Value],
    ) -> Result<QueryResult> {
        self.run(stmt, params)
    }

    /// A parameter's text as `SHOW name` gives it (`current_setting`).
    fn setting_text(&self, name: &str) -> Result<String> {
        if name.eq_ignore_ascii_case("statement_timeout") {
            Ok(self.settings.show_statement_timeout())
        } else if name.eq_ignore_ascii_case("transaction_read_only")
            && !self.engine.in_transaction()
        {
            // Outside a block, each statement's own transaction: the default.
            Ok(self
                .settings
                .params
                .show("default_transaction_read_only")?
                .1)
        } else {
            Ok(self.settings.params.show(name)?.1)
        }
    }

    /// The transaction `stmt` runs in is read-only (`BEGIN READ ONLY`,
    /// `SET TRANSACTION READ ONLY`, `default_transaction_read_only`) and
    /// `stmt` would write: 25006, as in PostgreSQL.
    fn check_writable(&self, stmt: &Statement) -> Result<()> {
        if self.setting_text("transaction_read_only")? != "on" {
            return Ok(());
        }
        match read_only::refused(stmt) {
            Some(what) => self.check_writable_for(&what),
            None => Ok(()),
        }
    }

    /// [`Session::check_writable`] for a write named `what` (`COPY FROM`).
    pub(crate) fn check_writable_for(&self, what: &str) -> Result<()> {
        if self.setting_text("transaction_read_only")? != "on" {
            return Ok(());
        }
        Err(SqlError::State {
            code: "25006",
            message: format!("cannot execute {what} in a read-only transaction"),
        })
    }

    pub(crate) fn table_info(&self, name: &str) -> Result<Arc<TableInfo>> {
        self.shared.table(self.engine, name)
    }

    /// Runs one statement; a query passing on `array_agg` columns of its
    /// derived tables gets those columns typed as arrays.
    fn run(&mut self, stmt: Statement, params: &[Value]) -> Result<QueryResult> {
        if let Statement::Query(q) = &stmt {
            if let Some(r) = crate::point::answer(self.engine, &*self.tables()?, q, params)? {
                self.sink = None;
                return Ok(r);
            }
        }
        if let Statement::Update { .. } = &stmt {
            if let Some(r) = crate::point::update(self.engine, &*self.tables()?, &stmt, params)? {
                return Ok(r);
            }
        }
        let arrays = match &stmt {
            Statement::Query(q) => crate::arrays::derived_arrays(q, &*self.tables()?)?,
            _ => None,
        };
        let Some(arrays) = arrays else {
            let saved = std::mem::take(&mut self.array_aliases);
            let r = self.run_statement(stmt, params);
            self.array_aliases = saved;
            return r;
        };
        let saved = std::mem::replace(&mut self.array_aliases, arrays.aliases);
        // Its columns are retyped below, after the rows: not streamed.
        self.sink = None;
        let r = self.run_statement(stmt, params);
        self.array_aliases = saved;
        let mut r = r?;
        if let QueryResult::Rows { columns, .. } = &mut r {
            if columns.len() == arrays.items.len() {
                for (c, a) in columns.iter_mut().zip(&arrays.items) {
                    if let Some(elem) = a {
                        c.data_type = DataType::Text;
                        c.array_of = Some(*elem);
                    }
                }
            }
        }
        Ok(r)
    }

    fn run_statement(&mut self, stmt: Statement, params: &[Value]) -> Result<QueryResult> {
        // Only this statement's own rows may stream, never those of a query
        // it runs inside itself.
        let sink = self.sink.take();
        if let Some(done) = self.cursor_statement(&stmt, params) {
            return done;
        }
        let mut stmt = stmt;
        let command = |tag: &str| QueryResult::Command {
            tag: tag.to_string(),
            rows: 0,
        };
        // Views and sequences (see `crate::objects`): their DDL, and every
        // view a statement reads replaced by its query.
        if let Some(r) = crate::objects::ddl(self, &stmt)? {
            return Ok(r);
        }
        crate::objects::expand_views(self.engine, &*self.tables()?, &mut stmt)?;
        crate::using::rewrite(&mut stmt, &*self.tables()?)?;
        crate::distinct_on::rewrite(&mut stmt)?;
        crate::jsonops::split_minus(&mut stmt);
        match &stmt {
            Statement::Explain {
                statement,
                analyze,
                options,
                ..
            } => {
                let mut inner = (**statement).clone();
                crate::compose::rewrite(&mut inner)?;
                return crate::explain::explain(
                    &inner,
                    *analyze,
                    options.as_deref(),
                    &*self.tables()?,
                );
            }
            Statement::StartTransaction { modes, .. } => {
                let (level, read_only) = settings::transaction_modes(modes);
                if self.engine.in_transaction() {
                    return Err(SqlError::Transaction(
                        "there is already a transaction in progress".into(),
                    ));
                }
                self.engine.begin_transaction()?;
                if let Some(level) = level {
                    self.settings
                        .params
                        .set("transaction_isolation", Some(&level))?;
                }
                // The block's access mode: as asked, else the default.
                let read_only = read_only.unwrap_or_else(|| {
                    self.setting_text("default_transaction_read_only")
                        .is_ok_and(|v| v == "on")
                });
                self.settings.params.set(
                    "transaction_read_only",
                    Some(if read_only { "on" } else { "off" }),
                )?;
                return Ok(command("BEGIN"));
            }
            Statement::SetTransaction { modes, session, .. } => {
                let (level, read_only) = settings::transaction_modes(modes);
                let (isolation, access) = if *session {
                    (
                        "default_transaction_isolation",
                        "default_transaction_read_only",
                    )
                } else {
                    ("transaction_isolation", "transaction_read_only")
                };
                if let Some(level) = level {
                    self.settings.params.set(isolation, Some(&level))?;
                }
                if let Some(read_only) = read_only {
                    self.settings
                        .params
                        .set(access, Some(if read_only { "on" } else { "off" }))?;
                }
                return Ok(command("SET"));
            }
            Statement::Savepoint { name } => {
                self.engine
                    .savepoint(&name.value)
                    .map_err(savepoint_error)?;
                return Ok(command("SAVEPOINT"));
            }
            Statement::ReleaseSavepoint { name } => {
                self.engine
                    .release_savepoint(&name.value)
                    .map_err(savepoint_error)?;
                return Ok(command("RELEASE"));
            }
            Statement::Rollback {
                savepoint: Some(name),
                ..
            } => {
                self.engine
                    .rollback_to_savepoint(&name.value)
                    .map_err(savepoint_error)?;
                return Ok(command("ROLLBACK"));
            }
            Statement::Truncate {
                table_names,
                identity,
                cascade,
                partitions,
                ..
            } => {
                if identity.is_some() || cascade.is_some() || partitions.is_some() {
                    return Err(SqlError::Unsupported(
                        "TRUNCATE … RESTART IDENTITY, CASCADE and PARTITION are not supported"
                            .into(),
                    ));
                }
                let names: Vec<ObjectName> = table_names.iter().map(|t| t.name.clone()).collect();
                for name in names {
                    let delete = parse(&format!("DELETE FROM {name}"))?
                        .pop()
                        .ok_or_else(|| SqlError::Syntax("empty TRUNCATE".into()))?;
                    self.run(delete, &[])?;
                }
                return Ok(command("TRUNCATE TABLE"));
            }
            Statement::Commit { .. } => {
                if self.engine.in_transaction() {
                    self.engine.commit()?;
                }
                return Ok(command("COMMIT"));
            }
            Statement::Rollback { .. } => {
                if self.engine.in_transaction() {
                    self.engine.rollback()?;
                }
                return Ok(command("ROLLBACK"));
            }
            Statement::SetVariable {
                local,
                hivevar,
                variables,
                value,
            } => {
                if *local || *hivevar {
                    return Err(SqlError::Unsupported("SET LOCAL is not supported".into()));
                }
                if let Some(r) = self.settings.apply(&stmt) {
                    r?;
                    return Ok(command("SET"));
                }
                let [name]: &[ObjectName] = variables else {
                    return Err(SqlError::Unsupported("SET of several parameters".into()));
                };
                let value = settings::value_text(value)?;
                self.settings
                    .params
                    .set(&name.to_string(), value.as_deref())?;
                return Ok(command("SET"));
            }
            Statement::SetNames { charset_name, .. } => {
                self.settings
                    .params
                    .set("client_encoding", Some(charset_name))?;
                return Ok(command("SET"));
            }
            Statement::SetTimeZone { local, value } => {
                if *local {
                    return Err(SqlError::Unsupported("SET LOCAL is not supported".into()));
                }
                let value = settings::value_text(std::slice::from_ref(value))?;
                self.settings.params.set("timezone", value.as_deref())?;
                return Ok(command("SET"));
            }
            Statement::ShowVariable { variable } => {
                let name = variable
                    .iter()
                    .map(|i| i.value.clone())
                    .collect::<Vec<_>>()
                    .join(" ");
                let text = |name: &str| ColumnInfo {
                    name: name.into(),
                    data_type: DataType::Text,
                    array_of: None,
                    json: None,
                };
                if name.eq_ignore_ascii_case("all") {
                    let rows: Vec<Vec<Value>> = std::iter::once([
                        "statement_timeout".to_string(),
                        self.settings.show_statement_timeout(),
                        "Sets the maximum allowed duration of any statement.".to_string(),
                    ])
                    .chain(self.settings.params.all())
                    .map(|r| r.into_iter().map(Value::String).collect())
                    .collect();
                    return Ok(QueryResult::Rows {
                        columns: vec![text("name"), text("setting"), text("description")],
                        tag: format!("SELECT {}", rows.len()),
                        rows,
                    });
                }
                if name.eq_ignore_ascii_case("tables") {
                    let tables = self.tables()?;
                    return Ok(QueryResult::Rows {
                        columns: vec![text("tables")],
                        tag: format!("SELECT {}", tables.len()),
                        rows: tables
                            .keys()
                            .map(|k| vec![Value::String(k.clone())])
                            .collect(),
                    });
                }
                let (label, value) = if name.eq_ignore_ascii_case("statement_timeout") {
                    (
                        "statement_timeout".to_string(),
                        self.settings.show_statement_timeout(),
                    )
                } else {
                    let (label, value) = self.settings.params.show(&name)?;
                    let value = if label == "transaction_read_only" {
                        self.setting_text(&label)?
                    } else {
                        value
                    };
                    (label, value)
                };
                // PostgreSQL's default is `read committed`, which is not
                // what runs here when nothing was asked for.
                if label == "default_transaction_isolation" && value == "serializable" {
                    return Err(SqlError::Unsupported(
                        "SHOW default_transaction_isolation: there is no default isolation \
                         level other than serializable, which every transaction runs at \
                         (PostgreSQL's default is read committed)"
                            .into(),
                    ));
                }
                return Ok(QueryResult::Rows {
                    columns: vec![text(&label)],
                    rows: vec![vec![Value::String(value)]],
                    tag: "SHOW".into(),
                });
            }
            _ => {}
        }

        // DDL GlueSQL lacks (see `crate::alter`). Schema changes commit at
        // once on the engine, so they are refused inside a transaction
        // block, as before.
        let ours = match &stmt {
            Statement::AlterTable { .. } => true,
            Statement::Drop {
                object_type: gluesql_core::sqlparser::ast::ObjectType::Index,
                ..
            } => true,
            Statement::CreateIndex(ci) => ci.unique,
            _ => false,
        };
        if ours && self.engine.in_transaction() {
            return Err(in_txn_refusal("a schema change"));
        }
        if let Some(r) = crate::alter::run(self.engine, self.shared, &mut stmt)? {
            return Ok(r);
        }
        crate::series::rewrite(&mut stmt, Some(params))?;
        self.materialise(&mut stmt, params)?;
        crate::compose::rewrite(&mut stmt)?;
        // `unnest`/`generate_subscripts` and `array_agg` (see `crate::arrays`).
        if let Statement::Query(q) = &stmt {
            if let Some(plan) = crate::arrays::srf_plan(q, &*self.tables()?)? {
                let (columns, rows) = self.inner_rows(plan.inner.clone(), params)?;
                let (columns, rows) = plan.finish(&columns, rows)?;
                return Ok(QueryResult::Rows {
                    tag: format!("SELECT {}", rows.len()),
                    columns,
                    rows,
                });
            }
            if let Some(plan) = crate::arrays::group_plan(q)? {
                let (columns, rows) = self.inner_rows(plan.inner.clone(), params)?;
                let (columns, rows) = plan.finish(&columns, rows, params)?;
                return Ok(QueryResult::Rows {
                    tag: format!("SELECT {}", rows.len()),
                    columns,
                    rows,
                });
            }
        }
        if matches!(stmt, Statement::Query(_)) {
            crate::validate::check(&stmt, &*self.tables()?)?;
        }
        if crate::compose::is_set_operation(&stmt) {
            if let Statement::Query(q) = &stmt {
                return self.set_operation(q, params);
            }
        }
        {
            let tables = self.tables()?;
            let typer = crate::infer::statement_typer(&tables, &stmt);
            crate::order::group_by_aliases(&mut stmt, &typer);
        }
        crate::window::avg_of_reals(&mut stmt, &*self.tables()?);
        crate::window::avg_outside_items(&mut stmt, &*self.tables()?);
        if let Statement::Query(q) = &stmt {
            if let Some(plan) = crate::window::plan(q, crate::infer::select_labels(q))? {
                return self.windowed(&plan, params);
            }
        }
        let tables = self.tables()?;
        let in_txn = self.engine.in_transaction();
        let mut kind = StmtKind::Other;
        let mut pending = None;
        let mut returning = None;
        let mut returning_keys = None;
        let mut insert_table = None;
        // `CREATE TABLE … AS SELECT`: PostgreSQL reports the rows copied.
        let mut ctas: Option<String> = None;
        // ON DELETE CASCADE / SET NULL / SET DEFAULT (see `crate::keys`).
        if let Statement::Delete(d) = &stmt {
            if let Some(table) = delete_table(d) {
                self.delete_actions(d, &table, params)?;
            }
        }
        if returns_rows(&stmt) {
            return self.write_returning(stmt, &tables, params);
        }
        match &mut stmt {
            // CREATE TABLE and CREATE INDEX run inside a transaction block
            // too (what ORMs do): a rollback drops the table again.
            Statement::CreateTable(ct) => {
                let name = ct
                    .name
                    .0
                    .last()
                    .map(|i| i.value.as_str())
                    .unwrap_or_default();
                if in_txn && self.engine.dropped_in_transaction(name) {
                    return Err(SqlError::Unsupported(format!(
                        "CREATE TABLE \"{name}\" in the transaction block that dropped a table \
                         of that name (COMMIT the DROP first)"
                    )));
                }
                if ct.query.is_some() {
                    ctas = Some(ct.name.to_string());
                }
                let mut p = rewrite::create_table(ct)?;
                // `DEFAULT nextval('seq')`: the sequence must exist.
                for (_, seq) in &mut p.seq_defaults {
                    *seq = crate::objects::check_default_sequence(self.engine, &tables, seq)?;
                }
                pending = Some(p);
            }
            Statement::CreateIndex(_) if in_txn && self.engine.transaction_wrote_rows() => {
                return Err(SqlError::Unsupported(
                    "CREATE INDEX inside a transaction block that has already written rows \
                     (create the index before writing, or outside the block)"
                        .into(),
                ));
            }
            // DROP TABLE is transactional (the engine drops the table when
            // the transaction commits); other drops and ALTER are not.
            Statement::Drop { object_type, .. }
                if in_txn && *object_type != gluesql_core::sqlparser::ast::ObjectType::Table =>
            {
                return Err(in_txn_refusal("a schema change"));
            }
            Statement::AlterTable { .. } | Statement::AlterIndex { .. } if in_txn => {
                return Err(in_txn_refusal("a schema change"));
            }
            Statement::Insert(ins) if ins.on.is_some() => {
                let ins = ins.clone();
                return self.insert_on_conflict(&ins, params);
            }
            Statement::Insert(ins) => {
                kind = StmtKind::Write;
                let name = ins
                    .table_name
                    .0
                    .last()
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                let info = tables.get(&name).cloned();
                // `INSERT … DEFAULT VALUES`: one row of DEFAULTs (filled in
                // by `fill_serial`).
                if ins.source.is_none() && ins.columns.is_empty() {
                    if let Some(i) = info.as_deref() {
                        let n = i.meta.schema.column_defs.as_ref().map_or(0, Vec::len);
                        let row = vec![
                            Expr::Identifier(gluesql_core::sqlparser::ast::Ident::new(
                                "DEFAULT"
                            ));
                            n
                        ];
                        ins.source = Some(Box::new(crate::compose::plain_query(SetExpr::Values(
                            gluesql_core::sqlparser::ast::Values {
                                explicit_row: false,
                                rows: vec![row],
                            },
                        ))));
                    }
                }
                returning = ins
                    .returning
                    .take()
                    .map(|items| (items, insert_target(ins)));
                // `INSERT … SELECT` into some of the columns — leaving
                // SERIAL columns to their sequences (SQLAlchemy's batched
                // inserts do) or others to their defaults: the SELECT runs
                // first, its rows become the VALUES that GlueSQL fills (it
                // takes a column list with VALUES only).
                let omits_serial = info.as_deref().is_some_and(|i| {
                    let listed = |name: &str| ins.columns.iter().any(|c| c.value == name);
                    !ins.columns.is_empty()
                        && (i.meta.serial.iter().any(|s| !listed(s))
                            || i.meta
                                .schema
                                .column_defs
                                .iter()
                                .flatten()
                                .any(|d| !listed(&d.name)))
                });
                if omits_serial {
                    if let Some(source) = ins.source.as_mut() {
                        if !matches!(source.body.as_ref(), SetExpr::Values(_)) {
                            let rows = match self.run(Statement::Query(source.clone()), params)? {
                                QueryResult::Rows { rows, .. } => rows,
                                QueryResult::Command { .. } => Vec::new(),
                            };
                            if rows.is_empty() {
                                return Ok(QueryResult::Command {
                                    tag: "INSERT 0 0".into(),
                                    rows: 0,
                                });
                            }
                            **source = crate::compose::plain_query(SetExpr::Values(
                                gluesql_core::sqlparser::ast::Values {
                                    explicit_row: false,
                                    rows: rows
                                        .iter()
                                        .map(|r| r.iter().map(value_expr).collect())
                                        .collect(),
                                },
                            ));
                        }
                    }
                }
                if let Some(info) = info.as_deref() {
                    crate::literals::insert_literals(ins, info)?;
                }
                returning_keys = rewrite::fill_serial(
                    self.engine,
                    info.as_deref(),
                    ins,
                    &mut self.settings.currval,
                )?;
                if crate::objects::calls_sequences(&*ins) {
                    let mut ctx = crate::objects::SeqContext {
                        engine: self.engine,
                        tables: &tables,
                        currval: &mut self.settings.currval,
                        params,
                    };
                    crate::objects::insert_values(&mut ctx, ins)?;
                    if returning_keys.is_some() {
                        returning_keys = info.as_deref().and_then(|i| rewrite::insert_keys(i, ins));
                    }
                }
                insert_table = info;
            }
            Statement::Update {
                table, assignments, ..
            } => {
                kind = StmtKind::Write;
                // `GENERATED ALWAYS AS IDENTITY` columns only take DEFAULT.
                if let gluesql_core::sqlparser::ast::TableFactor::Table { name, .. } =
                    &table.relation
                {
                    let name = name.0.last().map(|i| i.value.clone()).unwrap_or_default();
                    if let Some(info) = tables.get(&name) {
                        for a in assignments.iter() {
                            if let gluesql_core::sqlparser::ast::AssignmentTarget::ColumnName(c) =
                                &a.target
                            {
                                let col = c.0.last().map(|i| i.value.clone()).unwrap_or_default();
                                if info.meta.identity_always.contains(&col) {
                                    return Err(SqlError::State {
                                        code: "428C9",
                                        message: format!(
                                            "column \"{col}\" can only be updated to DEFAULT"
                                        ),
                                    });
                                }
                            }
                        }
                    }
                }
                if let Some(info) = single_table(std::slice::from_ref(table))
                    .and_then(|name| self.table_info(&name).ok())
                {
                    crate::literals::update_literals(assignments, &info)?;
                }
            }
            Statement::Delete(_) => {
                kind = StmtKind::Write;
            }
            _ => {}
        }
        {
            let mut ctx = crate::objects::SeqContext {
                engine: self.engine,
                tables: &tables,
                currval: &mut self.settings.currval,
                params,
            };
            crate::objects::sequence_functions(&mut ctx, &mut stmt)?;
        }
        let pg_labels = match &stmt {
            Statement::Query(q) => crate::infer::select_labels(q),
            _ => None,
        };
        let json_kinds = match &stmt {
            Statement::Query(q) => crate::infer::json_columns(&tables, q),
            _ => None,
        };
        {
            let typer = crate::infer::statement_typer(&tables, &stmt);
            crate::order::rewrite(&mut stmt, &typer);
        }
        crate::literals::negative_bounds(&mut stmt);
        crate::arrays::any_of_array_text(&mut stmt, &tables, params);
        crate::numeric::typed_params(&mut stmt, &tables, params);
        crate::numeric::conversions(&mut stmt, &tables)?;
        let now = rewrite::statement_now();
        let json = crate::jsonops::rewrite(&mut stmt, &tables, params, now)?;
        crate::literals::numeric_items(&mut stmt);
        crate::literals::typed_literals(&mut stmt, &tables)?;
        crate::numeric::exact(&mut stmt, &tables)?;
        crate::chartype::trim_references(&mut stmt, &tables);
        crate::settings::current_setting_calls(&mut stmt, &|n| self.setting_text(n), Some(params))?;
        crate::pgfuncs::rewrite(&mut stmt, &tables)?;
        rewrite::expressions(&mut stmt, &self.database, &self.user, now);
        rewrite::pg_semantics(&mut stmt)?;
        crate::logic::three_valued(&mut stmt)?;
        crate::numeric::comparisons(&mut stmt, &tables)?;
        let text_columns = crate::textcast::rewrite(&mut stmt, &tables, true)?;

        let inferred = match &stmt {
            Statement::Query(q) => query_columns(&tables, q),
            _ => None,
        };
        // Parameters take the types the statement gives them.
        let types = param_types(&tables, &stmt);
        let literals = params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let p = match types.get(i).copied().flatten() {
                    Some(t) => coerce(rounded_for(p.clone(), t), t)?,
                    None => p.clone(),
                };
                Ok(param_literal(p))
            })
            .collect::<Result<Vec<_>>>()?;

        let system = if crate::system::qualify(&mut stmt, &tables) {
            Some(crate::system::Identity {
                database: self.database.clone(),
                user: self.user.clone(),
                settings: self.settings.params.all(),
                views: crate::objects::views(self.engine)?,
                sequences: crate::objects::sequence_infos(self.engine, &tables)?,
            })
        } else {
            None
        };
        crate::literals::lower_timestamptz(&mut stmt);
        crate::pgfuncs::trims(&mut stmt);
        let glue_stmt =
            translate_with_params(&stmt, &literals).map_err(crate::sqlstate::from_glue)?;
        let pk_range =
            crate::pushdown::pk_range(&glue_stmt, |name| self.shared.table(self.engine, name).ok());
        let mut store = EngineStore {
            engine: self.engine,
            shared: self.shared,
            kind,
            pending,
            pk_range: std::cell::RefCell::new(pk_range),
            system,
            for_update: matches!(
                glue_stmt,
                gluesql_core::ast::Statement::Update { .. }
                    | gluesql_core::ast::Statement::Delete { .. }
            ),
            assigned: match &glue_stmt {
                gluesql_core::ast::Statement::Update { assignments, .. } => {
                    assignments.iter().map(|a| a.id.clone()).collect()
                }
                _ => Vec::new(),
            },
            chunk: None,
            json,
        };
        let plan = store
            .plan(glue_stmt.into())
            .map_err(crate::sqlstate::from_glue)?;
        let streamed = match sink {
            Some(sink) if store.system.is_none() => {
                let types_known = inferred
                    .as_ref()
                    .is_some_and(|i| i.iter().all(|(_, t)| t.is_some()) && text_columns.is_empty());
                crate::stream::streamable_table(&stmt, &plan)
                    .filter(|_| types_known)
                    .map(|table| (table, sink.0))
            }
            _ => None,
        };
        if let Some((table, sink)) = streamed {
            store.chunk = Some(crate::store::Chunk::new(table, crate::stream::CHUNK_ROWS));
            let finish = |labels: Vec<String>, rows: Vec<Vec<gluesql_core::data::Value>>| {
                let rows: Vec<Vec<Value>> = rows
                    .into_iter()
                    .map(|r| r.into_iter().map(result_value).collect())
                    .collect();
                let (mut columns, rows) = typed_rows(labels, inferred.clone(), rows)?;
                if let Some(names) = pg_labels.as_ref().filter(|l| l.len() == columns.len()) {
                    for (c, name) in columns.iter_mut().zip(names) {
                        c.name.clone_from(name);
                    }
                }
                mark_json(&mut columns, json_kinds.clone());
                Ok::<_, SqlError>((columns, rows))
            };
            return stream_chunks(&mut store, &plan, sink, finish);
        }
        let payload = execute(&mut store, &plan)
            .map_err(|e| crate::sqlstate::from_glue_on(e, written_table(&stmt, &tables)))?;

        if let (Some(name), Payload::Create) = (&ctas, &payload) {
            let count = parse(&format!("SELECT count(*) FROM {name}"))?
                .pop()
                .ok_or_else(|| SqlError::Syntax("empty count".into()))?;
            let n = match self.run(count, &[])? {
                QueryResult::Rows { rows, .. } => match rows.first().and_then(|r| r.first()) {
                    Some(Value::Int8(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                },
                QueryResult::Command { .. } => 0,
            };
            return Ok(QueryResult::Command {
                tag: format!("SELECT {n}"),
                rows: n,
            });
        }
        if let Some((items, from)) = returning {
            let info = insert_table.ok_or_else(returning_unsupported)?;
            let keys = returning_keys.ok_or_else(returning_unsupported)?;
            return self.returning(&info, from.as_deref(), &items, &keys, params);
        }

        Ok(match payload {
            Payload::Select { labels, rows } => {
                let rows: Vec<Vec<Value>> = rows
                    .into_iter()
                    .map(|r| r.into_iter().map(result_value).collect())
                    .collect();
                let n = rows.len();
                let (mut columns, mut rows) = typed_rows(labels, inferred, rows)?;
                crate::textcast::finish(&text_columns, &mut columns, &mut rows)?;
                if let Some(names) = pg_labels.filter(|l| l.len() == columns.len()) {
                    for (c, name) in columns.iter_mut().zip(names) {
                        c.name = name;
                    }
                }
                mark_json(&mut columns, json_kinds);
                QueryResult::Rows {
                    columns,
                    rows,
                    tag: format!("SELECT {n}"),
                }
            }
            Payload::SelectMap(maps) => {
                let n = maps.len();
                QueryResult::Rows {
                    columns: vec![ColumnInfo {
                        name: "row".into(),
                        data_type: DataType::Text,
                        array_of: None,
                        json: None,
                    }],
                    rows: maps
                        .into_iter()
                        .map(|m| {
                            let text = m
                                .into_iter()
                                .map(|(k, v)| format!("{k}: {}", text_of(&result_value(v))))
                                .collect::<Vec<_>>()
                                .join(", ");
                            vec![Value::String(text)]
                        })
                        .collect(),
                    tag: format!("SELECT {n}"),
                }
            }
            Payload::ShowColumns(cols) => QueryResult::Rows {
                columns: vec![
                    ColumnInfo {
                        name: "field".into(),
                        data_type: DataType::Text,
                        array_of: None,
                        json: None,
                    },
                    ColumnInfo {
                        name: "type".into(),
                        data_type: DataType::Text,
                        array_of: None,
                        json: None,
                    },
                ],
                tag: format!("SELECT {}", cols.len()),
                rows: cols
                    .into_iter()
                    .map(|(n, t)| vec![Value::String(n), Value::String(t.to_string())])
                    .collect(),
            },
            Payload::ShowVariable(v) => {
                let values = match v {
                    PayloadVariable::Tables(t) | PayloadVariable::Functions(t) => t,
                    PayloadVariable::Version(s) => vec![s],
                };
                QueryResult::Rows {
                    columns: vec![ColumnInfo {
                        name: "value".into(),
                        data_type: DataType::Text,
                        array_of: None,
                        json: None,
                    }],
                    tag: format!("SELECT {}", values.len()),
                    rows: values.into_iter().map(|s| vec![Value::String(s)]).collect(),
                }
            }
            other => {
                let (tag, rows) = tag_for(&other);
                QueryResult::Command { tag, rows }
            }
        })
    }

    /// `INSERT … RETURNING`: the inserted rows, read back by primary key.
    fn returning(
        &mut self,
        info: &TableInfo,
        from: Option<&str>,
        items: &[SelectItem],
        keys: &[Expr],
        params: &[Value],
    ) -> Result<QueryResult> {
        let plain = returned_cols(info, items);
        let pk = info
            .engine
            .primary_key_index()
            .ok_or_else(returning_unsupported)?;
        let pk_type = info.engine.columns[pk].data_type;
        let mut values = Vec::with_capacity(keys.len());
        for k in keys {
            let v = match k {
                Expr::Value(SqlValue::Number(n, _)) => Value::String(n.to_string()),
                Expr::Value(SqlValue::SingleQuotedString(s)) => Value::String(s.clone()),
                Expr::Value(SqlValue::Placeholder(p)) => {
                    let i: usize = p
                        .trim_start_matches('$')
                        .parse()
                        .map_err(|_| returning_unsupported())?;
                    params
                        .get(i.wrapping_sub(1))
                        .cloned()
                        .ok_or_else(|| SqlError::Type(format!("parameter {p} is missing")))?
                }
                _ => return Err(returning_unsupported()),
            };
            values.push(coerce(v, pk_type)?);
        }
        let Ok(cols) = plain else {
            let from = from.ok_or_else(returning_unsupported)?;
            return self.returning_query(info, from, items, &values, params, "INSERT 0");
        };
        let rows = self.rows_by_key(info, &cols, &values)?;
        Ok(returned(info, cols, rows, "INSERT 0"))
    }

    /// RETURNING items that are not all plain columns (expressions,
    /// functions, qualified names): evaluated by `SELECT <items> FROM
    /// <from> WHERE <primary key> = <key>` for each written row's key in
    /// turn, in the statement's transaction, so with its typing and column
    /// names. `from` is the table as the statement names it (its alias).
    fn returning_query(
        &mut self,
        info: &TableInfo,
        from: &str,
        items: &[SelectItem],
        keys: &[Value],
        params: &[Value],
        verb: &str,
    ) -> Result<QueryResult> {
        let pk = info
            .engine
            .primary_key_index()
            .ok_or_else(returning_unsupported)?;
        let list = returning_list(items);
        let mut with_key = params.to_vec();
        with_key.push(Value::Null);
        let select = format!(
            "SELECT {list} FROM {from} WHERE {} = ${}",
            quote_ident(&info.engine.columns[pk].name),
            with_key.len()
        );
        if keys.is_empty() {
            // No row, but the columns.
            let query = parse(&format!("SELECT {list} FROM {from} WHERE false"))?
                .pop()
                .ok_or_else(|| SqlError::Syntax("empty query".into()))?;
            let QueryResult::Rows { columns, .. } = self.run(query, params)? else {
                return Err(returning_unsupported());
            };
            return returned_rows(columns, Vec::new(), 0, verb);
        }
        let mut columns = None;
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(last) = with_key.last_mut() {
                last.clone_from(key);
            }
            let query = parse(&select)?
                .pop()
                .ok_or_else(|| SqlError::Syntax("empty query".into()))?;
            if let QueryResult::Rows {
                columns: c,
                rows: mut found,
                ..
            } = self.run(query, &with_key)?
            {
                rows.append(&mut found);
                columns.get_or_insert(c);
            }
        }
        let n = rows.len();
        let columns = columns.ok_or_else(returning_unsupported)?;
        Ok(QueryResult::Rows {
            columns,
            rows,
            tag: format!("{verb} {n}"),
        })
    }

    /// The rows of `info` with primary keys `keys` (those that exist),
    /// projected on `cols`.
    fn rows_by_key(
        &self,
        info: &TableInfo,
        cols: &[(String, usize)],
        keys: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let table = &info.meta.schema.table_name;
        let mut rows = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(t) = self.engine.get_by_pk(table, k)? {
                rows.push(cols.iter().map(|(_, i)| t.values[*i].clone()).collect());
            }
        }
        Ok(rows)
    }

    /// `UPDATE … RETURNING` and `DELETE … RETURNING` on one table. UPDATE
    /// (of a table with a primary key): the primary keys of the rows its
    /// WHERE selects are read first, then it runs, then the new rows are
    /// read back by key — projected on plain columns or `*`, or through
    /// [`Session::returning_query`] for expressions. DELETE of plain
    /// columns from a table with a primary key reads the rows by key before;
    /// any other DELETE (expressions, no primary key) reads `SELECT <items>
    /// FROM <table> WHERE <its WHERE>` before it runs. Either way the rows
    /// returned must be as many as the statement changed. All of it runs
    /// in the statement's transaction (implicit outside a block), whose
    /// commit validates every read, so no concurrent write slips between.
    /// An UPDATE that assigns the primary key is refused (the rows could
    /// not be found again by key).
    fn write_returning(
        &mut self,
        mut stmt: Statement,
        tables: &crate::infer::Tables,
        params: &[Value],
    ) -> Result<QueryResult> {
        let from = returning_from(&stmt).ok_or_else(returning_unsupported)?;
        let (name, selection, items, is_update) = match &mut stmt {
            Statement::Update {
                table,
                assignments,
                from: None,
                selection,
                returning,
                ..
            } => {
                let name =
                    single_table(std::slice::from_ref(table)).ok_or_else(returning_unsupported)?;
                let info = tables.get(&name).ok_or_else(|| undefined_table(&name))?;
                let pk = info
                    .engine
                    .primary_key_index()
                    .map(|i| info.engine.columns[i].name.clone())
                    .ok_or_else(returning_unsupported)?;
                let assigns_pk = assignments.iter().any(|a| match &a.target {
                    gluesql_core::sqlparser::ast::AssignmentTarget::ColumnName(n) => {
                        n.0.last().is_some_and(|i| i.value == pk)
                    }
                    gluesql_core::sqlparser::ast::AssignmentTarget::Tuple(_) => true,
                });
                if assigns_pk {
                    return Err(SqlError::Unsupported(
                        "UPDATE … RETURNING that changes the primary key".into(),
                    ));
                }
                (name, selection.clone(), returning.take(), true)
            }
            Statement::Delete(d) if d.using.is_none() && d.limit.is_none() => {
                let name = delete_table(d).ok_or_else(returning_unsupported)?;
                (name, d.selection.clone(), d.returning.take(), false)
            }
            _ => return Err(returning_unsupported()),
        };
        let items = items.unwrap_or_default();
        let info = tables
            .get(&name)
            .cloned()
            .ok_or_else(|| undefined_table(&name))?;
        let plain = returned_cols(&info, &items);
        let pk = info
            .engine
            .primary_key_index()
            .filter(|&pk| pk < info.visible_len());
        if !is_update && (plain.is_err() || pk.is_none()) {
            // DELETE: its rows as they are before it, read by its own WHERE
            // in its transaction (which validates the read at commit).
            let select = format!(
                "SELECT {} FROM {from}{}",
                returning_list(&items),
                selection.map(|w| format!(" WHERE {w}")).unwrap_or_default()
            );
            let query = parse(&select)?
                .pop()
                .ok_or_else(|| SqlError::Syntax("empty query".into()))?;
            let QueryResult::Rows { columns, rows, .. } = self.run(query, params)? else {
                return Err(returning_unsupported());
            };
            let n = match self.run(stmt, params)? {
                QueryResult::Command { rows, .. } => rows,
                QueryResult::Rows { rows, .. } => rows.len() as u64,
            };
            return returned_rows(columns, rows, n, "DELETE");
        }
        let pk = pk.ok_or_else(returning_unsupported)?;
        let pk_name = &info.engine.columns[pk].name;
        let select = format!(
            "SELECT {} FROM {}{}",
            quote_ident(pk_name),
            quote_ident(&name),
            selection.map(|w| format!(" WHERE {w}")).unwrap_or_default()
        );
        let query = parse(&select)?
            .pop()
            .ok_or_else(|| SqlError::Syntax("empty query".into()))?;
        let keys: Vec<Value> = match self.run(query, params)? {
            QueryResult::Rows { rows, .. } => rows
                .into_iter()
                .filter_map(|mut r| (!r.is_empty()).then(|| r.swap_remove(0)))
                .collect(),
            QueryResult::Command { .. } => Vec::new(),
        };
        let Ok(cols) = plain else {
            // UPDATE of expressions: evaluated on the new rows.
            let n = match self.run(stmt, params)? {
                QueryResult::Command { rows, .. } => rows,
                QueryResult::Rows { rows, .. } => rows.len() as u64,
            };
            let QueryResult::Rows { columns, rows, .. } =
                self.returning_query(&info, &from, &items, &keys, params, "UPDATE")?
            else {
                return Err(returning_unsupported());
            };
            return returned_rows(columns, rows, n, "UPDATE");
        };
        let before = if is_update {
            Vec::new()
        } else {
            self.rows_by_key(&info, &cols, &keys)?
        };
        let done = self.run(stmt, params)?;
        let n = match &done {
            QueryResult::Command { rows, .. } => *rows,
            QueryResult::Rows { rows, .. } => rows.len() as u64,
        };
        let rows = if is_update {
            self.rows_by_key(&info, &cols, &keys)?
        } else {
            before
        };
        if rows.len() as u64 != n {
            return Err(SqlError::Execution(format!(
                "RETURNING found {} rows where the statement changed {n}",
                rows.len()
            )));
        }
        Ok(returned(
            &info,
            cols,
            rows,
            if is_update { "UPDATE" } else { "DELETE" },
        ))
    }
}

/// The table a data-changing statement returns rows of and its RETURNING
/// items (`None` without RETURNING).
fn returning_target(stmt: &Statement) -> Result<Option<(String, &[SelectItem])>> {
    Ok(match stmt {
        Statement::Insert(ins) => ins.returning.as_deref().map(|items| {
            let name = ins
                .table_name
                .0
                .last()
                .map(|i| i.value.clone())
                .unwrap_or_default();
            (name, items)
        }),
        Statement::Update {
            table,
            returning: Some(items),
            ..
        } => Some((
            single_table(std::slice::from_ref(table)).ok_or_else(returning_unsupported)?,
            items.as_slice(),
        )),
        Statement::Delete(d) => match d.returning.as_deref() {
            Some(items) => Some((delete_table(d).ok_or_else(returning_unsupported)?, items)),
            None => None,
        },
        _ => None,
    })
}

/// The table a data-changing statement writes, as it names it (with its
/// alias), for a query over its rows.
fn returning_from(stmt: &Statement) -> Option<String> {
    match stmt {
        Statement::Insert(ins) => insert_target(ins),
        Statement::Update { table, .. } => Some(table.relation.to_string()),
        Statement::Delete(d) => match &d.from {
            gluesql_core::sqlparser::ast::FromTable::WithFromKeyword(t)
            | gluesql_core::sqlparser::ast::FromTable::WithoutKeyword(t) => {
                t.first().map(|t| t.relation.to_string())
            }
        },
        _ => None,
    }
}

/// The table an INSERT writes, as it names it (with its alias).
fn insert_target(ins: &gluesql_core::sqlparser::ast::Insert) -> Option<String> {
    let name = quote_ident(&ins.table_name.0.last()?.value);
    Some(match &ins.table_alias {
        Some(alias) => format!("{name} AS {alias}"),
        None => name,
    })
}

/// Whether an UPDATE or DELETE has a RETURNING clause.
fn returns_rows(stmt: &Statement) -> bool {
    match stmt {
        Statement::Update { returning, .. } => returning.is_some(),
        Statement::Delete(d) => d.returning.is_some(),
        _ => false,
    }
}

/// The one table an UPDATE/DELETE names (no joins), by its last name part.
fn single_table(t: &[gluesql_core::sqlparser::ast::TableWithJoins]) -> Option<String> {
    match t {
        [t] if t.joins.is_empty() => match &t.relation {
            gluesql_core::sqlparser::ast::TableFactor::Table { name, .. } => {
                name.0.last().map(|i| i.value.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

/// The table a DELETE deletes from.
fn delete_table(d: &gluesql_core::sqlparser::ast::Delete) -> Option<String> {
    if !d.tables.is_empty() {
        return None;
    }
    match &d.from {
        gluesql_core::sqlparser::ast::FromTable::WithFromKeyword(t)
        | gluesql_core::sqlparser::ast::FromTable::WithoutKeyword(t) => single_table(t),
    }
}

fn undefined_table(name: &str) -> SqlError {
    SqlError::State {
        code: "42P01",
        message: format!("relation \"{name}\" does not exist"),
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// (label, source column) per RETURNING item.
fn returned_cols(info: &TableInfo, items: &[SelectItem]) -> Result<Vec<(String, usize)>> {
    let mut cols: Vec<(String, usize)> = Vec::new();
    for item in items {
        match item {
            SelectItem::Wildcard(_) => {
                cols.extend(info.columns().enumerate().map(|(i, c)| (c.name.clone(), i)))
            }
            SelectItem::UnnamedExpr(e) if returned_column(info, e).is_some() => {
                let name = returned_column(info, e).unwrap_or_default();
                cols.push((name.to_string(), column_pos(info, name)?))
            }
            SelectItem::ExprWithAlias { expr, alias } if returned_column(info, expr).is_some() => {
                let name = returned_column(info, expr).unwrap_or_default();
                cols.push((alias.value.clone(), column_pos(info, name)?))
            }
            _ => return Err(returning_unsupported()),
        }
    }
    Ok(cols)
}

/// RETURNING items as a select list.
fn returning_list(items: &[SelectItem]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A RETURNING result evaluated by a query: its rows, which must be the
/// `n` rows the statement changed, tagged `verb n`.
fn returned_rows(
    columns: Vec<ColumnInfo>,
    rows: Vec<Vec<Value>>,
    n: u64,
    verb: &str,
) -> Result<QueryResult> {
    if rows.len() as u64 != n {
        return Err(SqlError::Execution(format!(
            "RETURNING found {} rows where the statement changed {n}",
            rows.len()
        )));
    }
    Ok(QueryResult::Rows {
        columns,
        rows,
        tag: format!("{verb} {n}"),
    })
}

/// A RETURNING result: `rows` of `cols`, tagged `verb n`.
fn returned(
    info: &TableInfo,
    cols: Vec<(String, usize)>,
    rows: Vec<Vec<Value>>,
    verb: &str,
) -> QueryResult {
    let n = rows.len();
    QueryResult::Rows {
        columns: cols
            .into_iter()
            .map(|(name, i)| ColumnInfo {
                name,
                data_type: info.engine.columns[i].data_type,
                array_of: None,
                json: None,
            })
            .collect(),
        rows,
        tag: format!("{verb} {n}"),
    }
}

/// The tables a `VACUUM`/`ANALYZE` names: after an optional `( options )`
/// list and the old-style option words, comma-separated names, each
/// possibly followed by a `( columns )` list.
fn maintenance_tables(rest: &str) -> Vec<String> {
    let mut rest = rest.trim_start();
    if rest.starts_with('(') {
        rest = rest.find(')').map_or("", |i| &rest[i + 1..]);
    }
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    while words.first().is_some_and(|w| {
        matches!(
            w.to_ascii_uppercase().as_str(),
            "FULL" | "FREEZE" | "VERBOSE" | "ANALYZE" | "ANALYSE"
        )
    }) {
        words.remove(0);
    }
    let mut depth = 0usize;
    let mut plain = String::new();
    for c in words.join(" ").chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    plain
        .split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// A savepoint misuse as PostgreSQL reports it: no transaction (25P01),
/// no such savepoint (3B001).
fn savepoint_error(e: heliosdb_core::Error) -> SqlError {
    match e {
        heliosdb_core::Error::Transaction(m) => SqlError::State {
            code: if m.contains("does not exist") {
                crate::sqlstate::INVALID_SAVEPOINT
            } else {
                crate::sqlstate::NO_ACTIVE_TRANSACTION
            },
            message: m,
        },
        other => other.into(),
    }
}

/// The column a RETURNING item names: `col` or `table.col` (the table
/// being written, as SQLAlchemy spells it).
pub(crate) fn returned_column<'x>(info: &TableInfo, e: &'x Expr) -> Option<&'x str> {
    match e {
        Expr::Identifier(id) => Some(&id.value),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [t, c] if t.value == info.meta.schema.table_name => Some(&c.value),
            [s, t, c] if s.value == "public" && t.value == info.meta.schema.table_name => {
                Some(&c.value)
            }
            _ => None,
        },
        _ => None,
    }
}

fn column_pos(info: &TableInfo, name: &str) -> Result<usize> {
    info.columns()
        .position(|c| c.name == name)
        .ok_or_else(|| SqlError::State {
            code: crate::sqlstate::UNDEFINED_COLUMN,
            message: format!("column \"{name}\" does not exist"),
        })
}

fn returning_unsupported() -> SqlError {
    SqlError::Unsupported(
        "RETURNING is supported for INSERT … VALUES and UPDATE of one table with a primary \
         key, and DELETE from one table"
            .into(),
    )
}

/// A cheap random number below `n` (back-off jitter; not for secrets).
fn rand_below(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n.max(1)
}

impl crate::objects::Host for Session<'_> {
    fn engine(&self) -> &StorageEngine {
        self.engine
    }

    fn tables(&self) -> Result<Arc<std::collections::BTreeMap<String, Arc<TableInfo>>>> {
        self.shared.tables(self.engine)
    }

    fn describe_query(&mut self, sql: &str) -> Result<Vec<(String, DataType)>> {
        Ok(self
            .describe(sql)?
            .columns
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.name, c.data_type))
            .collect())
    }

    fn invalidate(&self) {
        self.shared.invalidate();
    }
}

//! Conversions between GlueSQL's values, keys and types and the engine's
//! typed `Value`/`DataType`. The engine's types are the storage truth; GlueSQL
//! types that have no engine counterpart are refused at `CREATE TABLE`.

use chrono::{DateTime, NaiveDateTime, Utc};
use gluesql_core::ast::DataType as GType;
use gluesql_core::data::{Interval as GInterval, Key, Value as GValue};
use heliosdb_core::{DataType, Interval, Value};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

use crate::{Result, SqlError};

/// Engine type of a GlueSQL column type, `None` when the engine cannot store it.
pub(crate) fn engine_type(t: &GType) -> Option<DataType> {
    Some(match t {
        GType::Boolean => DataType::Bool,
        GType::Int16 => DataType::Int2,
        GType::Int32 => DataType::Int4,
        GType::Int => DataType::Int8,
        GType::Float => DataType::Float8,
        GType::Float32 => DataType::Float4,
        GType::Decimal => DataType::Numeric,
        GType::Text => DataType::Text,
        GType::Bytea => DataType::Bytes,
        GType::Timestamp => DataType::Timestamp,
        GType::Date => DataType::Date,
        GType::Time => DataType::Time,
        GType::Interval => DataType::Interval,
        GType::Uuid => DataType::Uuid,
        _ => return None,
    })
}

/// Whether `t` is a number type (the integers, NUMERIC and both floats).
pub(crate) fn number_type(t: DataType) -> bool {
    matches!(
        t,
        DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Numeric
            | DataType::Float8
            | DataType::Float4
    )
}

/// GlueSQL column type of an engine type.
pub(crate) fn glue_type(t: DataType) -> GType {
    match t {
        DataType::Bool => GType::Boolean,
        DataType::Int2 => GType::Int16,
        DataType::Int4 => GType::Int32,
        DataType::Int8 => GType::Int,
        DataType::Float8 => GType::Float,
        DataType::Float4 => GType::Float32,
        DataType::Numeric => GType::Decimal,
        DataType::Text => GType::Text,
        DataType::Bytes => GType::Bytea,
        // GlueSQL has no time-zone-aware timestamp: it computes on the UTC
        // wall clock, which is the instant in the only session time zone
        // we accept (UTC).
        DataType::Timestamp | DataType::TimestampTz => GType::Timestamp,
        DataType::Date => GType::Date,
        DataType::Time => GType::Time,
        DataType::Interval => GType::Interval,
        DataType::Uuid => GType::Uuid,
    }
}

/// The PostgreSQL spelling of an engine type (for errors and `pg_catalog`).
pub fn pg_type_name(t: DataType) -> &'static str {
    match t {
        DataType::Bool => "boolean",
        DataType::Int2 => "smallint",
        DataType::Int4 => "integer",
        DataType::Int8 => "bigint",
        DataType::Float8 => "double precision",
        DataType::Float4 => "real",
        DataType::Numeric => "numeric",
        DataType::Text => "text",
        DataType::Bytes => "bytea",
        DataType::Timestamp => "timestamp without time zone",
        DataType::Date => "date",
        DataType::Time => "time without time zone",
        DataType::TimestampTz => "timestamp with time zone",
        DataType::Interval => "interval",
        DataType::Uuid => "uuid",
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A GlueSQL interval as PostgreSQL's three fields. GlueSQL keeps either
/// months or microseconds; whole days of the microseconds become the day
/// field, as PostgreSQL's own date arithmetic (`timestamp - timestamp`)
/// justifies them.
pub(crate) fn interval_from_glue(i: GInterval) -> Interval {
    match i {
        GInterval::Month(months) => Interval {
            months,
            days: 0,
            micros: 0,
        },
        GInterval::Microsecond(us) => Interval {
            months: 0,
            days: i32::try_from(us / MICROS_PER_DAY).unwrap_or(if us < 0 {
                i32::MIN
            } else {
                i32::MAX
            }),
            micros: us % MICROS_PER_DAY,
        },
    }
}

/// An interval as GlueSQL holds it, `None` when it mixes months with days
/// or time (GlueSQL has no such interval).
pub(crate) fn interval_to_glue(i: Interval) -> Option<GInterval> {
    if i.days == 0 && i.micros == 0 {
        return Some(GInterval::Month(i.months));
    }
    if i.months != 0 {
        return None;
    }
    i64::from(i.days)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(i.micros))
        .map(GInterval::Microsecond)
}

fn ts_to_engine(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A stored engine value as GlueSQL sees it.
pub(crate) fn to_glue(v: &Value) -> GValue {
    match v {
        Value::Null => GValue::Null,
        Value::Bool(b) => GValue::Bool(*b),
        Value::Int2(i) => GValue::I16(*i),
        Value::Int4(i) => GValue::I32(*i),
        Value::Int8(i) => GValue::I64(*i),
        Value::Float8(f) => GValue::F64(*f),
        Value::Float4(f) => GValue::F32(*f),
        Value::Numeric(d) => GValue::Decimal(*d),
        Value::String(s) => GValue::Str(s.clone()),
        Value::Bytes(b) => GValue::Bytea(b.clone()),
        Value::Timestamp(t) | Value::TimestampTz(t) => GValue::Timestamp(t.naive_utc()),
        Value::Date(d) => GValue::Date(*d),
        Value::Time(t) => GValue::Time(*t),
        Value::Uuid(u) => GValue::Uuid(*u),
        // The SQL layer never stores an interval GlueSQL cannot hold (its
        // inputs refuse them); one written through the engine's own API
        // reads as NULL rather than as a different span.
        Value::Interval(i) => interval_to_glue(*i).map_or(GValue::Null, GValue::Interval),
    }
}

/// A GlueSQL value as a value of engine type `t` (the column's type).
pub(crate) fn to_engine_typed(v: &GValue, t: DataType, column: &str) -> Result<Value> {
    let mismatch = || {
        SqlError::Type(format!(
            "column \"{column}\" is of type {} but the value is {}",
            pg_type_name(t),
            glue_value_kind(v)
        ))
    };
    let out_of_range = || SqlError::Type(format!("value out of range for column \"{column}\""));
    if matches!(v, GValue::Null) {
        return Ok(Value::Null);
    }
    let int = glue_as_i128(v);
    Ok(match t {
        DataType::Bool => match v {
            GValue::Bool(b) => Value::Bool(*b),
            _ => return Err(mismatch()),
        },
        DataType::Int2 => {
            Value::Int2(i16::try_from(int.ok_or_else(mismatch)?).map_err(|_| out_of_range())?)
        }
        DataType::Int4 => {
            Value::Int4(i32::try_from(int.ok_or_else(mismatch)?).map_err(|_| out_of_range())?)
        }
        DataType::Int8 => {
            Value::Int8(i64::try_from(int.ok_or_else(mismatch)?).map_err(|_| out_of_range())?)
        }
        DataType::Float8 => match v {
            GValue::F64(f) => Value::Float8(*f),
            GValue::F32(f) => Value::Float8(f64::from(*f)),
            GValue::Decimal(d) => Value::Float8(d.to_f64().ok_or_else(out_of_range)?),
            _ => Value::Float8(int.ok_or_else(mismatch)? as f64),
        },
        DataType::Float4 => Value::Float4(match v {
            GValue::F32(f) => *f,
            GValue::F64(f) => real_of(*f)?,
            GValue::Decimal(d) => real_of(d.to_f64().ok_or_else(out_of_range)?)?,
            _ => int.ok_or_else(mismatch)? as f32,
        }),
        DataType::Numeric => match v {
            GValue::Decimal(d) => Value::Numeric(*d),
            GValue::F64(f) => Value::Numeric(Decimal::from_f64(*f).ok_or_else(out_of_range)?),
            // Six significant digits, as PostgreSQL's float4 to numeric.
            GValue::F32(f) => Value::Numeric(
                gluesql_core::data::value::real_to_decimal(*f).ok_or_else(out_of_range)?,
            ),
            _ => Value::Numeric(
                Decimal::from_i128(int.ok_or_else(mismatch)?).ok_or_else(out_of_range)?,
            ),
        },
        DataType::Text => match v {
            GValue::Str(s) => Value::String(s.clone()),
            _ => return Err(mismatch()),
        },
        DataType::Bytes => match v {
            GValue::Bytea(b) => Value::Bytes(b.clone()),
            _ => return Err(mismatch()),
        },
        DataType::Timestamp => match v {
            GValue::Timestamp(t) => Value::Timestamp(ts_to_engine(*t)),
            GValue::Date(d) => Value::Timestamp(ts_to_engine(d.and_time(chrono::NaiveTime::MIN))),
            _ => return Err(mismatch()),
        },
        DataType::TimestampTz => match v {
            GValue::Timestamp(t) => Value::TimestampTz(ts_to_engine(*t)),
            GValue::Date(d) => Value::TimestampTz(ts_to_engine(d.and_time(chrono::NaiveTime::MIN))),
            _ => return Err(mismatch()),
        },
        DataType::Date => match v {
            GValue::Date(d) => Value::Date(*d),
            GValue::Timestamp(t) => Value::Date(t.date()),
            _ => return Err(mismatch()),
        },
        DataType::Time => match v {
            GValue::Time(t) => Value::Time(*t),
            _ => return Err(mismatch()),
        },
        DataType::Interval => match v {
            GValue::Interval(i) => Value::Interval(interval_from_glue(*i)),
            _ => return Err(mismatch()),
        },
        DataType::Uuid => match v {
            GValue::Uuid(u) => Value::Uuid(*u),
            _ => return Err(mismatch()),
        },
    })
}

/// PostgreSQL's `real` input of `text` (`float4in`), by the engine's
/// conversion: beyond the f32 range either way 22003. `None` when it is no
/// number.
pub(crate) fn parse_real(text: &str) -> Option<Result<f32>> {
    match f32::try_from(&GValue::Str(text.to_owned())) {
        Ok(f) => Some(Ok(f)),
        Err(gluesql_core::data::ValueError::FloatOutOfRange(what)) => Some(Err(real_range(what))),
        Err(_) => None,
    }
}

fn real_range(what: &str) -> SqlError {
    SqlError::State {
        code: crate::sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        message: format!("value out of range: {what}"),
    }
}

/// A double precision value as `real` (PostgreSQL's `float84`, by the
/// engine's conversion): 22003 when it does not fit.
pub(crate) fn real_of(f: f64) -> Result<f32> {
    f32::try_from(&GValue::F64(f)).map_err(|e| match e {
        gluesql_core::data::ValueError::FloatOutOfRange(what) => real_range(what),
        other => SqlError::Type(other.to_string()),
    })
}

fn glue_as_i128(v: &GValue) -> Option<i128> {
    Some(match v {
        GValue::I8(i) => i128::from(*i),
        GValue::I16(i) => i128::from(*i),
        GValue::I32(i) => i128::from(*i),
        GValue::I64(i) => i128::from(*i),
        GValue::I128(i) => *i,
        GValue::U8(i) => i128::from(*i),
        GValue::U16(i) => i128::from(*i),
        GValue::U32(i) => i128::from(*i),
        GValue::U64(i) => i128::from(*i),
        GValue::U128(i) => i128::try_from(*i).ok()?,
        GValue::Decimal(d) if d.fract().is_zero() => d.to_i128()?,
        _ => return None,
    })
}

pub(crate) fn glue_value_kind(v: &GValue) -> &'static str {
    match v {
        GValue::Bool(_) => "a boolean",
        GValue::Str(_) => "text",
        GValue::Bytea(_) => "bytea",
        GValue::F32(_) | GValue::F64(_) => "a float",
        GValue::Decimal(_) => "a numeric",
        GValue::Timestamp(_) | GValue::Date(_) | GValue::Time(_) => "a date/time",
        GValue::Interval(_) => "an interval",
        GValue::Uuid(_) => "a uuid",
        GValue::Null => "NULL",
        v if glue_as_i128(v).is_some() => "an integer",
        _ => "of another type",
    }
}

/// A query result value as an engine value (types GlueSQL computes but the
/// engine does not store, such as dates or intervals, come back as text).
pub(crate) fn result_value(v: GValue) -> Value {
    match v {
        GValue::Null => Value::Null,
        GValue::Bool(b) => Value::Bool(b),
        GValue::I8(i) => Value::Int2(i16::from(i)),
        GValue::U8(i) => Value::Int2(i16::from(i)),
        GValue::I16(i) => Value::Int2(i),
        GValue::U16(i) => Value::Int4(i32::from(i)),
        GValue::I32(i) => Value::Int4(i),
        GValue::U32(i) => Value::Int8(i64::from(i)),
        GValue::I64(i) => Value::Int8(i),
        GValue::F32(f) => Value::Float4(f),
        GValue::F64(f) => Value::Float8(f),
        GValue::Decimal(d) => Value::Numeric(d),
        GValue::Str(s) => Value::String(s),
        GValue::Bytea(b) => Value::Bytes(b),
        GValue::Timestamp(t) => Value::Timestamp(ts_to_engine(t)),
        GValue::Date(d) => Value::Date(d),
        GValue::Time(t) => Value::Time(t),
        GValue::Uuid(u) => Value::Uuid(u),
        GValue::Interval(i) => Value::Interval(interval_from_glue(i)),
        other => Value::String(String::from(&other)),
    }
}

/// A parameter or key value as GlueSQL sees it.
pub(crate) fn key_to_engine(key: &Key, t: DataType) -> Result<Value> {
    let g = match key {
        Key::I8(v) => GValue::I8(*v),
        Key::I16(v) => GValue::I16(*v),
        Key::I32(v) => GValue::I32(*v),
        Key::I64(v) => GValue::I64(*v),
        Key::I128(v) => GValue::I128(*v),
        Key::U8(v) => GValue::U8(*v),
        Key::U16(v) => GValue::U16(*v),
        Key::U32(v) => GValue::U32(*v),
        Key::U64(v) => GValue::U64(*v),
        Key::U128(v) => GValue::U128(*v),
        Key::F32(v) => GValue::F32(v.0),
        Key::F64(v) => GValue::F64(v.0),
        Key::Decimal(d) => GValue::Decimal(*d),
        Key::Bool(b) => GValue::Bool(*b),
        Key::Str(s) => GValue::Str(s.clone()),
        Key::Bytea(b) => GValue::Bytea(b.clone()),
        Key::Timestamp(t) => GValue::Timestamp(*t),
        Key::Date(d) => GValue::Date(*d),
        Key::Time(t) => GValue::Time(*t),
        Key::Uuid(u) => GValue::Uuid(*u),
        Key::Interval(i) => GValue::Interval(*i),
        Key::None => GValue::Null,
        other => {
            return Err(SqlError::Type(format!(
                "key {other:?} cannot address an encrypted-engine row"
            )))
        }
    };
    to_engine_typed(&g, t, "primary key")
}

/// The GlueSQL key of a stored primary-key value.
pub(crate) fn engine_to_key(v: &Value) -> Result<Key> {
    Key::try_from(to_glue(v)).map_err(|e| SqlError::Engine(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_postgres() {
        assert!(matches!(
            to_engine_typed(&GValue::I64(70_000), DataType::Int2, "c"),
            Err(SqlError::Type(_))
        ));
        assert_eq!(
            to_engine_typed(&GValue::I64(7), DataType::Int4, "c").unwrap(),
            Value::Int4(7)
        );
        assert_eq!(engine_type(&GType::Int), Some(DataType::Int8));
        assert_eq!(engine_type(&GType::Date), Some(DataType::Date));
        assert_eq!(engine_type(&GType::Map), None);
    }
}

//! Tables' building blocks: `DataType`, `Value`, `Column`, `Schema`, `Tuple`,
//! and their compact binary encoding (what gets sealed).

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Column types. Widths follow PostgreSQL: `Int2` 16-bit, `Int4` 32-bit, `Int8` 64-bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataType {
    /// `BOOLEAN`
    Bool,
    /// `SMALLINT`
    Int2,
    /// `INTEGER`
    Int4,
    /// `BIGINT`
    Int8,
    /// `DOUBLE PRECISION`
    Float8,
    /// `REAL` (single precision)
    Float4,
    /// `NUMERIC` (exact decimal)
    Numeric,
    /// `TEXT`
    Text,
    /// `BYTEA`
    Bytes,
    /// `TIMESTAMP` (UTC, microseconds)
    Timestamp,
    /// `DATE` (proleptic Gregorian calendar day)
    Date,
    /// `TIME` (time of day without time zone, microseconds)
    Time,
    /// `TIMESTAMP WITH TIME ZONE` (a UTC instant, microseconds)
    TimestampTz,
    /// `INTERVAL` (months, days and microseconds, as PostgreSQL keeps them)
    Interval,
    /// `UUID`
    Uuid,
}

/// A PostgreSQL interval: three fields that are not converted into each
/// other on storage (`1 mon` stays a month, `30 days` stays days), so that
/// text output is PostgreSQL's. Comparison and key order use the span with
/// PostgreSQL's conventions (a month is 30 days, a day 24 hours), under which
/// `1 mon` equals `30 days` as it does in PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interval {
    /// Months (a year is 12).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub micros: i64,
}

const MICROS_PER_DAY: i128 = 86_400_000_000;

impl Interval {
    /// The span PostgreSQL orders intervals by, in microseconds.
    pub fn span(&self) -> i128 {
        i128::from(self.months) * 30 * MICROS_PER_DAY
            + i128::from(self.days) * MICROS_PER_DAY
            + i128::from(self.micros)
    }
}

impl fmt::Display for Interval {
    /// PostgreSQL's `IntervalStyle = postgres` output: `1 year 2 mons`,
    /// `3 days`, `1 day 02:00:00`, `-01:30:00`, `00:00:00` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // PostgreSQL's EncodeInterval: a field after a negative one carries
        // an explicit `+` when positive; units are plural unless exactly 1.
        let mut out = String::new();
        let mut before_negative = false;
        let fields = [
            (i64::from(self.months / 12), "year"),
            (i64::from(self.months % 12), "mon"),
            (i64::from(self.days), "day"),
        ];
        for (n, unit) in fields {
            if n == 0 {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            let plus = if before_negative && n > 0 { "+" } else { "" };
            let s = if n == 1 { "" } else { "s" };
            out.push_str(&format!("{plus}{n} {unit}{s}"));
            before_negative = n < 0;
        }
        if self.micros != 0 || out.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            let m = self.micros.unsigned_abs();
            let (h, rest) = (m / 3_600_000_000, m % 3_600_000_000);
            let (mi, rest) = (rest / 60_000_000, rest % 60_000_000);
            let (sec, frac) = (rest / 1_000_000, rest % 1_000_000);
            let sign = if self.micros < 0 {
                "-"
            } else if before_negative {
                "+"
            } else {
                ""
            };
            out.push_str(&format!("{sign}{h:02}:{mi:02}:{sec:02}"));
            if frac != 0 {
                out.push_str(format!(".{frac:06}").trim_end_matches('0'));
            }
        }
        f.write_str(&out)
    }
}

/// A value in a tuple.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Boolean.
    Bool(bool),
    /// 16-bit integer.
    Int2(i16),
    /// 32-bit integer.
    Int4(i32),
    /// 64-bit integer.
    Int8(i64),
    /// 64-bit float.
    Float8(f64),
    /// 32-bit float (`REAL`).
    Float4(f32),
    /// Exact decimal.
    Numeric(Decimal),
    /// Text (the tutorial's `Value::String`).
    String(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// UTC timestamp.
    Timestamp(DateTime<Utc>),
    /// Calendar date.
    Date(NaiveDate),
    /// Time of day.
    Time(NaiveTime),
    /// Instant (`TIMESTAMP WITH TIME ZONE`), kept in UTC.
    TimestampTz(DateTime<Utc>),
    /// Interval.
    Interval(Interval),
    /// UUID, its 16 bytes read big-endian.
    Uuid(u128),
}

impl Value {
    /// The type this value has, `None` for NULL.
    pub fn data_type(&self) -> Option<DataType> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => DataType::Bool,
            Value::Int2(_) => DataType::Int2,
            Value::Int4(_) => DataType::Int4,
            Value::Int8(_) => DataType::Int8,
            Value::Float8(_) => DataType::Float8,
            Value::Float4(_) => DataType::Float4,
            Value::Numeric(_) => DataType::Numeric,
            Value::String(_) => DataType::Text,
            Value::Bytes(_) => DataType::Bytes,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::Date(_) => DataType::Date,
            Value::Time(_) => DataType::Time,
            Value::TimestampTz(_) => DataType::TimestampTz,
            Value::Interval(_) => DataType::Interval,
            Value::Uuid(_) => DataType::Uuid,
        })
    }

    /// Total order used to sort scans by primary key (NULLs first, floats by `total_cmp`).
    pub fn sort_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int2(a), Int2(b)) => a.cmp(b),
            (Int4(a), Int4(b)) => a.cmp(b),
            (Int8(a), Int8(b)) => a.cmp(b),
            (Float8(a), Float8(b)) => a.total_cmp(b),
            (Float4(a), Float4(b)) => a.total_cmp(b),
            (Numeric(a), Numeric(b)) => a.cmp(b),
            (String(a), String(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (TimestampTz(a), TimestampTz(b)) => a.cmp(b),
            (Interval(a), Interval(b)) => a.span().cmp(&b.span()),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (a, b) => a.tag().cmp(&b.tag()),
        }
    }

    fn tag(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int2(_) => 2,
            Value::Int4(_) => 3,
            Value::Int8(_) => 4,
            Value::Float8(_) => 5,
            Value::Numeric(_) => 6,
            Value::String(_) => 7,
            Value::Bytes(_) => 8,
            Value::Timestamp(_) => 9,
            Value::Date(_) => 10,
            Value::Time(_) => 11,
            Value::TimestampTz(_) => 12,
            Value::Interval(_) => 13,
            Value::Uuid(_) => 14,
            Value::Float4(_) => 15,
        }
    }

    /// Canonical bytes of the value (used for record keys and blind tokens):
    /// values that compare equal encode equally (`1.0` and `1.00` as
    /// `Numeric`; `0.0` and `-0.0` as `Float8`; every NaN alike; intervals
    /// of one span, such as `1 mon` and `30 days`).
    pub fn encode_key(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        match self {
            Value::Interval(i) => {
                out.push(self.tag());
                out.extend_from_slice(&i.span().to_be_bytes());
            }
            Value::Numeric(d) => Value::Numeric(d.normalize()).encode_into(&mut out),
            Value::Float8(f) if *f == 0.0 => Value::Float8(0.0).encode_into(&mut out),
            Value::Float8(f) if f.is_nan() => Value::Float8(f64::NAN).encode_into(&mut out),
            Value::Float4(f) if *f == 0.0 => Value::Float4(0.0).encode_into(&mut out),
            Value::Float4(f) if f.is_nan() => Value::Float4(f32::NAN).encode_into(&mut out),
            v => v.encode_into(&mut out),
        }
        out
    }

    /// Order-preserving, self-delimiting bytes of the value (record keys of
    /// the ordered layout): for values `a`, `b` of one column,
    /// `a.sort_cmp(b)` equals the byte order of their encodings, and no
    /// encoding is a prefix of another, so encodings concatenate into
    /// composite keys. Integers of every width share one encoding (an `Int4`
    /// column can be probed with an `Int8`), as do both float widths (a
    /// `Float4` encodes as its exact `f64` widening); `0.0`/`-0.0` and every NaN
    /// encode alike, as do `1.0` and `1.00` of `Numeric`.
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0x00),
            Value::Bool(b) => {
                out.push(0x10);
                out.push(u8::from(*b));
            }
            Value::Int2(v) => ordered_int(out, i64::from(*v)),
            Value::Int4(v) => ordered_int(out, i64::from(*v)),
            Value::Int8(v) => ordered_int(out, *v),
            Value::Float4(f) => Value::Float8(f64::from(*f)).encode_ordered(out),
            Value::Float8(f) => {
                out.push(0x30);
                let f = if *f == 0.0 {
                    0.0
                } else if f.is_nan() {
                    f64::NAN
                } else {
                    *f
                };
                let bits = f.to_bits();
                let bits = if bits >> 63 == 1 {
                    !bits
                } else {
                    bits ^ (1 << 63)
                };
                out.extend_from_slice(&bits.to_be_bytes());
            }
            Value::Numeric(d) => ordered_decimal(out, *d),
            Value::String(s) => {
                out.push(0x50);
                ordered_bytes(out, s.as_bytes());
            }
            Value::Bytes(b) => {
                out.push(0x60);
                ordered_bytes(out, b);
            }
            Value::Timestamp(t) => {
                out.push(0x70);
                let v = t.timestamp_micros() as u64 ^ (1 << 63);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Value::Date(d) => {
                out.push(0x80);
                let v = (days_from_epoch(*d) as u32) ^ (1 << 31);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Value::Time(t) => {
                out.push(0x90);
                out.extend_from_slice(&time_micros(*t).to_be_bytes());
            }
            Value::TimestampTz(t) => {
                out.push(0xA0);
                let v = t.timestamp_micros() as u64 ^ (1 << 63);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Value::Interval(i) => {
                out.push(0xB0);
                let v = (i.span() as u128) ^ (1 << 127);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Value::Uuid(u) => {
                out.push(0xC0);
                out.extend_from_slice(&u.to_be_bytes());
            }
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push(u8::from(*b)),
            Value::Int2(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Int4(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Int8(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Float8(v) => out.extend_from_slice(&v.to_bits().to_be_bytes()),
            Value::Float4(v) => out.extend_from_slice(&v.to_bits().to_be_bytes()),
            Value::Numeric(d) => out.extend_from_slice(&d.serialize()),
            Value::String(s) => put_bytes(out, s.as_bytes()),
            Value::Bytes(b) => put_bytes(out, b),
            Value::Timestamp(t) | Value::TimestampTz(t) => {
                out.extend_from_slice(&t.timestamp_micros().to_be_bytes())
            }
            Value::Date(d) => out.extend_from_slice(&days_from_epoch(*d).to_be_bytes()),
            Value::Time(t) => out.extend_from_slice(&time_micros(*t).to_be_bytes()),
            Value::Interval(i) => {
                out.extend_from_slice(&i.months.to_be_bytes());
                out.extend_from_slice(&i.days.to_be_bytes());
                out.extend_from_slice(&i.micros.to_be_bytes());
            }
            Value::Uuid(u) => out.extend_from_slice(&u.to_be_bytes()),
        }
    }

    fn decode_from(input: &mut &[u8]) -> Result<Value> {
        let tag = take(input, 1)?[0];
        Ok(match tag {
            0 => Value::Null,
            1 => Value::Bool(take(input, 1)?[0] != 0),
            2 => Value::Int2(i16::from_be_bytes(arr(take(input, 2)?))),
            3 => Value::Int4(i32::from_be_bytes(arr(take(input, 4)?))),
            4 => Value::Int8(i64::from_be_bytes(arr(take(input, 8)?))),
            5 => Value::Float8(f64::from_bits(u64::from_be_bytes(arr(take(input, 8)?)))),
            6 => Value::Numeric(Decimal::deserialize(arr(take(input, 16)?))),
            7 => {
                let b = take_bytes(input)?;
                Value::String(
                    String::from_utf8(b.to_vec()).map_err(|_| corrupt("text is not UTF-8"))?,
                )
            }
            8 => Value::Bytes(take_bytes(input)?.to_vec()),
            9 | 12 => {
                let micros = i64::from_be_bytes(arr(take(input, 8)?));
                let t = Utc
                    .timestamp_micros(micros)
                    .single()
                    .ok_or_else(|| corrupt("timestamp out of range"))?;
                if tag == 9 {
                    Value::Timestamp(t)
                } else {
                    Value::TimestampTz(t)
                }
            }
            10 => {
                let days = i32::from_be_bytes(arr(take(input, 4)?));
                Value::Date(
                    NaiveDate::from_epoch_days(days).ok_or_else(|| corrupt("date out of range"))?,
                )
            }
            11 => {
                let micros = i64::from_be_bytes(arr(take(input, 8)?));
                Value::Time(time_from_micros(micros).ok_or_else(|| corrupt("time out of range"))?)
            }
            13 => Value::Interval(Interval {
                months: i32::from_be_bytes(arr(take(input, 4)?)),
                days: i32::from_be_bytes(arr(take(input, 4)?)),
                micros: i64::from_be_bytes(arr(take(input, 8)?)),
            }),
            14 => Value::Uuid(u128::from_be_bytes(arr(take(input, 16)?))),
            15 => Value::Float4(f32::from_bits(u32::from_be_bytes(arr(take(input, 4)?)))),
            t => return Err(corrupt(&format!("unknown value tag {t}"))),
        })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int2(v) => write!(f, "{v}"),
            Value::Int4(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Float8(v) => write!(f, "{v}"),
            Value::Float4(v) => write!(f, "{v}"),
            Value::Numeric(v) => write!(f, "{v}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "\\x{}", hex::encode(b)),
            Value::Timestamp(t) | Value::TimestampTz(t) => write!(f, "{}", t.to_rfc3339()),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::Time(t) => write!(f, "{}", t.format("%H:%M:%S%.f")),
            Value::Interval(i) => write!(f, "{i}"),
            Value::Uuid(u) => f.write_str(&uuid_text(*u)),
        }
    }
}

/// Days since 1970-01-01 (negative before). chrono's dates span about
/// ±262,000 years, so the count always fits an `i32`.
fn days_from_epoch(d: NaiveDate) -> i32 {
    d.to_epoch_days()
}

/// Microseconds since midnight (leap-second nanoseconds fold into the
/// last second: no text input creates one).
fn time_micros(t: NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * 1_000_000
        + i64::from(t.nanosecond().min(999_999_999) / 1000)
}

fn time_from_micros(micros: i64) -> Option<NaiveTime> {
    if !(0..86_400_000_000).contains(&micros) {
        return None;
    }
    NaiveTime::from_num_seconds_from_midnight_opt(
        u32::try_from(micros / 1_000_000).ok()?,
        u32::try_from(micros % 1_000_000).ok()? * 1000,
    )
}

/// A UUID's canonical text: 32 lower-case hex digits in groups 8-4-4-4-12.
pub fn uuid_text(u: u128) -> String {
    let h = format!("{u:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn corrupt(m: &str) -> Error {
    Error::Corrupt(m.to_string())
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    if input.len() < n {
        return Err(corrupt("encoded value is truncated"));
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

fn take_bytes<'a>(input: &mut &'a [u8]) -> Result<&'a [u8]> {
    let n = u32::from_be_bytes(arr(take(input, 4)?)) as usize;
    take(input, n)
}

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(b);
    a
}

/// A column definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Column type.
    pub data_type: DataType,
    /// Whether this column is the primary key.
    pub primary_key: bool,
    /// Whether NULL is allowed (primary keys never allow it).
    pub nullable: bool,
}

impl Column {
    /// A nullable, non-key column.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        Column {
            name: name.into(),
            data_type,
            primary_key: false,
            nullable: true,
        }
    }

    /// Marks the column as the primary key (implies NOT NULL).
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self.nullable = false;
        self
    }

    /// Marks the column NOT NULL.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }
}

/// A table schema: ordered columns, at most one primary key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Columns in order.
    pub columns: Vec<Column>,
}

impl Schema {
    /// A schema of these columns.
    pub fn new(columns: Vec<Column>) -> Self {
        Schema { columns }
    }

    /// Index of the primary-key column, if any (tables without one get hidden row ids).
    pub fn primary_key_index(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.primary_key)
    }

    /// Index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.columns.is_empty() {
            return Err(Error::Schema("a table needs at least one column".into()));
        }
        if self.columns.iter().filter(|c| c.primary_key).count() > 1 {
            return Err(Error::Schema(
                "at most one primary-key column is supported".into(),
            ));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if c.name.is_empty() {
                return Err(Error::Schema(format!("column {i} has an empty name")));
            }
            if self.columns[..i].iter().any(|o| o.name == c.name) {
                return Err(Error::Schema(format!("duplicate column name '{}'", c.name)));
            }
        }
        Ok(())
    }

    /// Checks a tuple against the schema.
    ///
    /// # Errors
    /// [`Error::Schema`] naming the column and the mismatch.
    pub fn check(&self, tuple: &Tuple) -> Result<()> {
        if tuple.values.len() != self.columns.len() {
            return Err(Error::Schema(format!(
                "expected {} values, got {}",
                self.columns.len(),
                tuple.values.len()
            )));
        }
        for (c, v) in self.columns.iter().zip(&tuple.values) {
            match v.data_type() {
                None if !c.nullable => {
                    return Err(Error::Schema(format!("column '{}' cannot be NULL", c.name)))
                }
                Some(t) if t != c.data_type => {
                    return Err(Error::Schema(format!(
                        "column '{}' has type {:?}, got a {:?} value",
                        c.name, c.data_type, t
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tuple {
    /// Values in column order.
    pub values: Vec<Value>,
}

impl Tuple {
    /// A tuple of these values.
    pub fn new(values: Vec<Value>) -> Self {
        Tuple { values }
    }

    /// The value of column `i`.
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.values.get(i)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.values.len() * 9);
        out.extend_from_slice(&(self.values.len() as u32).to_be_bytes());
        for v in &self.values {
            v.encode_into(&mut out);
        }
        out
    }

    pub(crate) fn decode(mut input: &[u8]) -> Result<Tuple> {
        let n = u32::from_be_bytes(arr(take(&mut input, 4)?)) as usize;
        let mut values = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            values.push(Value::decode_from(&mut input)?);
        }
        if !input.is_empty() {
            return Err(corrupt("trailing bytes after tuple"));
        }
        Ok(Tuple { values })
    }
}

pub(crate) fn decode_value(mut input: &[u8]) -> Result<Value> {
    let v = Value::decode_from(&mut input)?;
    if !input.is_empty() {
        return Err(corrupt("trailing bytes after value"));
    }
    Ok(v)
}

fn ordered_int(out: &mut Vec<u8>, v: i64) {
    out.push(0x20);
    out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
}

/// Escapes 0x00 as 0x00 0xFF and ends with 0x00 0x00: byte order is kept
/// and no encoding is a prefix of another.
fn ordered_bytes(out: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        out.push(c);
        if c == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Decimal in key order: sign class (negative, zero, positive), then the
/// decimal exponent and the digit string (complemented for negatives, so a
/// larger magnitude sorts lower).
fn ordered_decimal(out: &mut Vec<u8>, d: Decimal) {
    out.push(0x40);
    let d = d.normalize();
    if d.is_zero() {
        out.push(0x02);
        return;
    }
    let digits = d.mantissa().unsigned_abs().to_string();
    // value = 0.digits × 10^exp
    let exp = digits.len() as i32 - d.scale() as i32;
    let mut body = Vec::with_capacity(digits.len() + 5);
    body.extend_from_slice(&((exp as u32) ^ (1 << 31)).to_be_bytes());
    body.extend_from_slice(digits.as_bytes());
    body.push(0x00);
    if d.is_sign_negative() {
        out.push(0x01);
        out.extend(body.iter().map(|b| !b));
    } else {
        out.push(0x03);
        out.extend_from_slice(&body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_have_equal_key_encodings() {
        assert_eq!(
            Value::Numeric(Decimal::new(10, 1)).encode_key(),
            Value::Numeric(Decimal::new(100, 2)).encode_key()
        );
        assert_eq!(
            Value::Float8(0.0).encode_key(),
            Value::Float8(-0.0).encode_key()
        );
        assert_ne!(
            Value::Numeric(Decimal::new(1, 0)).encode_key(),
            Value::Numeric(Decimal::new(2, 0)).encode_key()
        );
    }

    #[test]
    fn tuple_round_trip_all_types() {
        let t = Tuple::new(vec![
            Value::Null,
            Value::Bool(true),
            Value::Int2(-2),
            Value::Int4(1 << 30),
            Value::Int8(-(1 << 60)),
            Value::Float8(125000.5),
            Value::Float4(0.1),
            Value::Numeric(Decimal::new(12345, 2)),
            Value::String("héllo".into()),
            Value::Bytes(vec![0, 1, 255]),
            Value::Timestamp(Utc.timestamp_micros(1_700_000_000_123_456).unwrap()),
            Value::Date(NaiveDate::from_ymd_opt(-44, 3, 15).unwrap()),
            Value::Time(NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap()),
            Value::TimestampTz(Utc.timestamp_micros(-1_000_000_000_000_001).unwrap()),
            Value::Interval(Interval {
                months: -14,
                days: 3,
                micros: -5_400_000_000,
            }),
            Value::Uuid(0xa0ee_bc99_9c0b_4ef8_bb6d_6bb9_bd38_0a11),
        ]);
        assert_eq!(Tuple::decode(&t.encode()).unwrap(), t);
        let enc = t.encode();
        for n in 0..enc.len() {
            assert!(Tuple::decode(&enc[..n]).is_err());
        }
    }

    fn ordered(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode_ordered(&mut out);
        out
    }

    /// Values of one type, chosen around every boundary of the encodings.
    fn samples(seed: u64) -> Vec<Vec<Value>> {
        let mut x = seed;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ints = vec![i64::MIN, -1, 0, 1, i64::MAX, -256, 255, 256];
        let mut floats = vec![
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            1e-300,
            2.5,
            f64::INFINITY,
            f64::NAN,
        ];
        let mut decs = vec![
            Decimal::new(-100, 0),
            Decimal::new(-15, 1),
            Decimal::new(-1, 3),
            Decimal::ZERO,
            Decimal::new(1, 3),
            Decimal::new(1, 0),
            Decimal::new(100, 2),
            Decimal::new(10, 0),
            Decimal::new(99, 1),
            Decimal::MAX,
            Decimal::MIN,
        ];
        let mut strs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            vec![0, 1],
            vec![1],
            b"a".to_vec(),
            b"a\0".to_vec(),
            b"ab".to_vec(),
            vec![255],
            vec![255, 0],
        ];
        for _ in 0..200 {
            ints.push(next() as i64 >> (next() % 64));
            floats.push(f64::from_bits(next()));
            decs.push(Decimal::new(
                next() as i64 >> (next() % 64),
                (next() % 20) as u32,
            ));
            let n = (next() % 5) as usize;
            strs.push((0..n).map(|_| (next() % 4) as u8 * 85).collect());
        }
        vec![
            ints.iter().map(|v| Value::Int8(*v)).collect(),
            floats.iter().map(|v| Value::Float8(*v)).collect(),
            floats
                .iter()
                .map(|v| Value::Float4(f32::from_bits((v.to_bits() >> 32) as u32)))
                .collect(),
            decs.iter().map(|v| Value::Numeric(*v)).collect(),
            strs.iter().map(|v| Value::Bytes(v.clone())).collect(),
            strs.iter()
                .filter_map(|v| String::from_utf8(v.clone()).ok())
                .map(Value::String)
                .collect(),
            vec![Value::Bool(false), Value::Bool(true)],
            ints.iter()
                .filter_map(|v| Utc.timestamp_micros(*v / 1000).single())
                .map(Value::Timestamp)
                .collect(),
            ints.iter()
                .filter_map(|v| Utc.timestamp_micros(*v / 1000).single())
                .map(Value::TimestampTz)
                .collect(),
            ints.iter()
                .filter_map(|v| NaiveDate::from_epoch_days((*v >> 40) as i32))
                .map(Value::Date)
                .collect(),
            ints.iter()
                .filter_map(|v| time_from_micros(v.rem_euclid(86_400_000_000)))
                .map(Value::Time)
                .collect(),
            ints.iter()
                .zip(ints.iter().rev())
                .map(|(a, b)| {
                    Value::Interval(Interval {
                        months: (*a >> 50) as i32,
                        days: (*b >> 45) as i32,
                        micros: *a >> (b.rem_euclid(64)),
                    })
                })
                .chain([
                    Value::Interval(Interval {
                        months: 1,
                        days: 0,
                        micros: 0,
                    }),
                    Value::Interval(Interval {
                        months: 0,
                        days: 30,
                        micros: 0,
                    }),
                    Value::Interval(Interval {
                        months: 0,
                        days: -1,
                        micros: 0,
                    }),
                    Value::Interval(Interval {
                        months: 0,
                        days: 0,
                        micros: -86_400_000_000,
                    }),
                    Value::Interval(Interval {
                        months: i32::MIN,
                        days: i32::MIN,
                        micros: i64::MIN,
                    }),
                    Value::Interval(Interval {
                        months: i32::MAX,
                        days: i32::MAX,
                        micros: i64::MAX,
                    }),
                ])
                .collect(),
            ints.iter()
                .map(|v| Value::Uuid((*v as u128) << 64 | (v.rotate_left(7) as u64 as u128)))
                .chain([Value::Uuid(0), Value::Uuid(u128::MAX)])
                .collect(),
        ]
    }

    #[test]
    fn ordered_encoding_keeps_order_and_is_prefix_free() {
        for class in samples(0x9E37_79B9_7F4A_7C15) {
            for a in &class {
                for b in &class {
                    let (ea, eb) = (ordered(a), ordered(b));
                    // Key order treats every NaN as one value above +inf.
                    let canon = |v: &Value| match v {
                        Value::Float8(f) if f.is_nan() => Value::Float8(f64::NAN),
                        Value::Float4(f) if f.is_nan() => Value::Float4(f32::NAN),
                        v => v.clone(),
                    };
                    let want = if a.encode_key() == b.encode_key() {
                        Ordering::Equal
                    } else {
                        canon(a).sort_cmp(&canon(b))
                    };
                    assert_eq!(ea.cmp(&eb), want, "{a:?} vs {b:?}");
                    if ea != eb {
                        assert!(!eb.starts_with(&ea), "{a:?} is a prefix of {b:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn intervals_of_one_span_are_equal_keys_and_print_like_postgres() {
        let month = Value::Interval(Interval {
            months: 1,
            days: 0,
            micros: 0,
        });
        let days30 = Value::Interval(Interval {
            months: 0,
            days: 30,
            micros: 0,
        });
        assert_eq!(month.sort_cmp(&days30), Ordering::Equal);
        assert_eq!(month.encode_key(), days30.encode_key());
        let show = |months, days, micros| {
            Interval {
                months,
                days,
                micros,
            }
            .to_string()
        };
        assert_eq!(show(0, 1, 7_200_000_000), "1 day 02:00:00");
        assert_eq!(show(3, 0, 0), "3 mons");
        assert_eq!(show(14, 0, 0), "1 year 2 mons");
        assert_eq!(show(0, 0, 0), "00:00:00");
        assert_eq!(show(0, 0, 5_400_000_000), "01:30:00");
        assert_eq!(show(0, 0, -1_500_000), "-00:00:01.5");
        assert_eq!(show(0, -1, 3_600_000_000), "-1 days +01:00:00");
        assert_eq!(show(-12, -2, -60_000_000), "-1 years -2 days -00:01:00");
    }

    #[test]
    fn new_types_do_not_disturb_old_tags() {
        // Tuples written before DATE/TIME/… existed decode unchanged.
        let old = Tuple::new(vec![
            Value::Int4(1),
            Value::Timestamp(Utc.timestamp_micros(0).unwrap()),
        ]);
        assert_eq!(old.encode()[4], 3);
        assert_eq!(old.encode()[9], 9);
        assert_eq!(
            Value::Uuid(1).to_string(),
            "00000000-0000-0000-0000-000000000001"
        );
    }

    #[test]
    fn ordered_encoding_unifies_integer_widths_and_sorts_null_first() {
        assert_eq!(ordered(&Value::Int2(-7)), ordered(&Value::Int8(-7)));
        assert_eq!(
            ordered(&Value::Int4(1 << 20)),
            ordered(&Value::Int8(1 << 20))
        );
        assert!(ordered(&Value::Null) < ordered(&Value::Int8(i64::MIN)));
        assert!(ordered(&Value::Null) < ordered(&Value::String(String::new())));
    }
}

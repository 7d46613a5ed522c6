//! PostgreSQL's date/time functions GlueSQL lacks or answers differently,
//! rewritten into what it evaluates exactly: `FORMAT` (chrono's strftime),
//! `TO_TIMESTAMP` / `TO_DATE` (chrono's parser), casts and string
//! concatenation. Each needs its argument's type, known here for a column,
//! a typed literal, a cast, `now()`/`current_date` and arithmetic on those
//! (see `crate::infer::statement_typer`):
//!
//! - `extract(field FROM x)` as PostgreSQL 14+ answers it: `numeric`, with
//!   PostgreSQL's fraction digits (`second` and a timestamp's `epoch` 6,
//!   `milliseconds` 3, a date's `epoch` 0); `date_part('field', x)` the same
//!   as `double precision`;
//! - `date_trunc('unit', x)`: a timestamp stays a timestamp, a date or a
//!   timestamptz gives a timestamptz (the session's time zone is UTC);
//! - `to_char(x, 'template')` of a date, timestamp or timestamptz for the
//!   template patterns of [`template`];
//! - `to_date(text, 'template')` for `YYYY`, `MM`, `DD`, `Mon`, `Month`;
//!   `make_date(y, m, d)`.
//!
//! A field, unit or pattern outside those is refused (0A000) — PostgreSQL
//! would answer it, we would not answer it right — and one PostgreSQL
//! rejects for the type gets PostgreSQL's error. An `extract` of an
//! argument whose type is not known here is left to GlueSQL, as before.

use gluesql_core::sqlparser::ast::{
    BinaryOperator, DataType as SqlType, DateTimeField, ExactNumberInfo, Expr, TimezoneInfo,
    Value as SqlValue,
};
use heliosdb_core::DataType;

use crate::pgfuncs::{call, cast, text};
use crate::{Result, SqlError};

fn int(n: i64) -> Expr {
    Expr::Value(SqlValue::Number(n.into(), false))
}

fn numeric(e: Expr) -> Expr {
    cast(e, SqlType::Decimal(ExactNumberInfo::None))
}

fn integer(e: Expr) -> Expr {
    cast(e, SqlType::Int64)
}

fn timestamp_type() -> SqlType {
    SqlType::Timestamp(None, TimezoneInfo::None)
}

fn timestamptz_type() -> SqlType {
    SqlType::Timestamp(None, TimezoneInfo::Tz)
}

fn bin(l: Expr, op: BinaryOperator, r: Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(l),
        op,
        right: Box::new(r),
    }))
}

/// `a || b || …` (NULL when any part is NULL, as the functions built from
/// it are strict in PostgreSQL).
fn concat(parts: Vec<Expr>) -> Option<Expr> {
    parts
        .into_iter()
        .reduce(|a, b| bin(a, BinaryOperator::StringConcat, b))
}

/// `CASE WHEN cond THEN then ELSE otherwise END`.
fn case(cond: Expr, then: Expr, otherwise: Expr) -> Expr {
    Expr::Case {
        operand: None,
        conditions: vec![cond],
        results: vec![then],
        else_result: Some(Box::new(otherwise)),
    }
}

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::Unsupported(what.into())
}

/// The name PostgreSQL gives a type in its `unit … not supported` errors.
fn type_name(t: DataType) -> &'static str {
    match t {
        DataType::Date => "date",
        DataType::Timestamp => "timestamp without time zone",
        DataType::TimestampTz => "timestamp with time zone",
        DataType::Time => "time without time zone",
        DataType::Interval => "interval",
        _ => "this type",
    }
}

/// A field of `extract` / `date_part` / `date_trunc`, by any of the
/// spellings PostgreSQL accepts for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    Dow,
    Isodow,
    Doy,
    Isoyear,
    Epoch,
    Julian,
    Timezone,
    TimezoneHour,
    TimezoneMinute,
}

impl Unit {
    fn parse(name: &str) -> Option<Unit> {
        use Unit::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" => Microsecond,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" => Millisecond,
            "second" | "seconds" | "s" | "sec" | "secs" => Second,
            "minute" | "minutes" | "m" | "min" | "mins" => Minute,
            "hour" | "hours" | "h" | "hr" | "hrs" => Hour,
            "day" | "days" | "d" => Day,
            "week" | "weeks" | "w" => Week,
            "month" | "months" | "mon" | "mons" => Month,
            "quarter" | "qtr" => Quarter,
            "year" | "years" | "y" | "yr" | "yrs" => Year,
            "decade" | "decades" | "dec" | "decs" => Decade,
            "century" | "centuries" | "c" | "cent" => Century,
            "millennium" | "millennia" | "mil" | "mils" | "millenium" => Millennium,
            "dow" | "dayofweek" => Dow,
            "isodow" => Isodow,
            "doy" | "dayofyear" => Doy,
            "isoyear" => Isoyear,
            "epoch" => Epoch,
            "julian" | "j" => Julian,
            "timezone" => Timezone,
            "timezone_hour" | "timezone_h" => TimezoneHour,
            "timezone_minute" | "timezone_m" => TimezoneMinute,
            _ => return None,
        })
    }

    fn of_field(f: &DateTimeField) -> Option<Unit> {
        match f {
            DateTimeField::Custom(i) => Unit::parse(&i.value),
            DateTimeField::Week(_) => Some(Unit::Week),
            other => Unit::parse(&other.to_string()),
        }
    }

    /// Whether the unit is one of a time of day (none of a date's).
    fn of_time(self) -> bool {
        matches!(
            self,
            Unit::Microsecond | Unit::Millisecond | Unit::Second | Unit::Minute | Unit::Hour
        )
    }

    fn of_zone(self) -> bool {
        matches!(
            self,
            Unit::Timezone | Unit::TimezoneHour | Unit::TimezoneMinute
        )
    }
}

fn not_supported_for(unit: &str, t: DataType) -> SqlError {
    SqlError::Unsupported(format!(
        "unit \"{unit}\" not supported for type {}",
        type_name(t)
    ))
}

fn not_recognized(unit: &str, t: DataType) -> SqlError {
    SqlError::State {
        code: "22023",
        message: format!("unit \"{unit}\" not recognized for type {}", type_name(t)),
    }
}

/// `x` as GlueSQL's timestamp (a date at midnight; a timestamptz is one
/// already, in UTC).
fn as_timestamp(x: &Expr, t: DataType) -> Expr {
    match t {
        DataType::Date => cast(x.clone(), timestamp_type()),
        _ => x.clone(),
    }
}

fn format(x: &Expr, fmt: &str) -> Expr {
    call("FORMAT", vec![x.clone(), text(fmt)])
}

/// The year of `ts` as an integer.
fn year(ts: &Expr) -> Expr {
    integer(format(ts, "%Y"))
}

fn div(a: Expr, b: i64) -> Expr {
    call("DIV", vec![a, int(b)])
}

/// `extract(field FROM x)`: `Ok(None)` when `x`'s type is not known here
/// (GlueSQL then evaluates the call as it does).
pub(crate) fn extract(
    field: &DateTimeField,
    x: &Expr,
    t: Option<DataType>,
) -> Result<Option<Expr>> {
    let name = match field {
        DateTimeField::Custom(i) => i.value.to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    };
    let unit = Unit::of_field(field);
    extract_unit(&name, unit, x, t)
}

fn extract_unit(
    name: &str,
    unit: Option<Unit>,
    x: &Expr,
    t: Option<DataType>,
) -> Result<Option<Expr>> {
    let Some(t) = t.filter(|t| {
        matches!(
            t,
            DataType::Date | DataType::Timestamp | DataType::TimestampTz | DataType::Time
        )
    }) else {
        return Ok(None);
    };
    let unit = unit.ok_or_else(|| not_recognized(name, t))?;
    if unit == Unit::Julian {
        return Err(unsupported("extract(julian FROM …) is not supported"));
    }
    match t {
        DataType::Date if unit.of_time() || unit.of_zone() => {
            return Err(not_supported_for(name, t))
        }
        DataType::Timestamp if unit.of_zone() => return Err(not_supported_for(name, t)),
        DataType::Time if !unit.of_time() && unit != Unit::Epoch => {
            return Err(not_supported_for(name, t))
        }
        _ => {}
    }
    let ts = as_timestamp(x, t);
    let f = |fmt: &str| numeric(format(&ts, fmt));
    Ok(Some(match unit {
        Unit::Year => f("%Y"),
        Unit::Month => f("%m"),
        Unit::Day => f("%d"),
        Unit::Hour => f("%H"),
        Unit::Minute => f("%M"),
        Unit::Second => f("%S%.6f"),
        // Seconds × 1000 with the microseconds as 3 decimals: 9.5 s is
        // `9500.000`.
        Unit::Millisecond => numeric(
            concat(vec![
                format(&ts, "%S%3f"),
                text("."),
                call("SUBSTR", vec![format(&ts, "%6f"), int(4), int(3)]),
            ])
            .unwrap_or_else(|| text("")),
        ),
        Unit::Microsecond => f("%S%6f"),
        Unit::Dow => f("%w"),
        Unit::Isodow => f("%u"),
        Unit::Doy => f("%j"),
        Unit::Week => f("%V"),
        Unit::Isoyear => f("%G"),
        Unit::Quarter => f("%q"),
        Unit::Decade => numeric(div(year(&ts), 10)),
        Unit::Century => numeric(div(bin(year(&ts), BinaryOperator::Plus, int(99)), 100)),
        Unit::Millennium => numeric(div(bin(year(&ts), BinaryOperator::Plus, int(999)), 1000)),
        Unit::Epoch => match t {
            DataType::Date => f("%s"),
            // Whole seconds (rounded down, also before 1970) plus the
            // fraction: -0.5 s is -1 + 0.500000.
            DataType::Time => bin(
                bin(
                    bin(f("%H"), BinaryOperator::Multiply, numeric(text("3600"))),
                    BinaryOperator::Plus,
                    bin(f("%M"), BinaryOperator::Multiply, numeric(text("60"))),
                ),
                BinaryOperator::Plus,
                f("%S%.6f"),
            ),
            // Before 1970 with a fraction, `%s` is the second below: -0.5 s
            // is -1 + 0.500000. Without one, the text is exact (and a sum
            // with a zero would drop the scale).
            _ => numeric(case(
                bin(format(&ts, "%6f"), BinaryOperator::Eq, text("000000")),
                f("%s%.6f"),
                bin(f("%s"), BinaryOperator::Plus, f("0%.6f")),
            )),
        },
        // The session's zone is UTC.
        Unit::Timezone | Unit::TimezoneHour | Unit::TimezoneMinute => numeric(case(
            Expr::IsNull(Box::new(ts.clone())),
            Expr::Value(SqlValue::Null),
            text("0"),
        )),
        Unit::Julian => return Err(unsupported("extract(julian FROM …) is not supported")),
    }))
}

/// `date_part('field', x)`: `extract` as `double precision`.
pub(crate) fn date_part(field: &Expr, x: &Expr, t: Option<DataType>) -> Result<Expr> {
    let Expr::Value(SqlValue::SingleQuotedString(name)) = field else {
        return Err(unsupported(
            "date_part is supported with a literal field name",
        ));
    };
    let name = name.to_ascii_lowercase();
    match extract_unit(&name, Unit::parse(&name), x, t)? {
        Some(e) => Ok(cast(e, SqlType::Float64)),
        None => Err(unknown_type("date_part")),
    }
}

fn unknown_type(function: &str) -> SqlError {
    unsupported(format!(
        "{function} of an expression whose type is not known here: cast it (x::timestamp)"
    ))
}

/// `date_trunc('unit', x)`.
pub(crate) fn date_trunc(unit: &Expr, x: &Expr, t: Option<DataType>) -> Result<Expr> {
    let Expr::Value(SqlValue::SingleQuotedString(name)) = unit else {
        return Err(unsupported("date_trunc is supported with a literal unit"));
    };
    let t = match t {
        Some(t @ (DataType::Date | DataType::Timestamp | DataType::TimestampTz)) => t,
        Some(DataType::Interval | DataType::Time) => {
            return Err(unsupported("date_trunc of an interval is not supported"))
        }
        _ => return Err(unknown_type("date_trunc")),
    };
    // A date is truncated as the timestamptz it converts to.
    let result = match t {
        DataType::Timestamp => timestamp_type(),
        _ => timestamptz_type(),
    };
    let shown = if t == DataType::Timestamp {
        DataType::Timestamp
    } else {
        DataType::TimestampTz
    };
    let unit = Unit::parse(name).ok_or_else(|| not_recognized(name, shown))?;
    let ts = as_timestamp(x, t);
    const FULL: &str = "%Y-%m-%d %H:%M:%S";
    let parse = |s: Expr, fmt: &str| cast(call("TO_TIMESTAMP", vec![s, text(fmt)]), result.clone());
    let simple = |fmt: &str| parse(format(&ts, fmt), FULL);
    let padded =
        |e: Expr, width: i64| call("LPAD", vec![cast(e, SqlType::Text), int(width), text("0")]);
    // The first year of the period of `n` years holding `ts`, counted
    // from year 1 when `from_one` (centuries, millennia) or 0 (decades).
    let first_year = |n: i64, from_one: bool| {
        let y = year(&ts);
        let start = if from_one {
            bin(
                bin(
                    div(bin(y, BinaryOperator::Minus, int(1)), n),
                    BinaryOperator::Multiply,
                    int(n),
                ),
                BinaryOperator::Plus,
                int(1),
            )
        } else {
            bin(div(y, n), BinaryOperator::Multiply, int(n))
        };
        parse(
            concat(vec![padded(start, 4), text("-01-01 00:00:00")]).unwrap_or_else(|| text("")),
            FULL,
        )
    };
    Ok(match unit {
        // Our timestamps hold microseconds.
        Unit::Microsecond => cast(ts, result.clone()),
        Unit::Millisecond => parse(
            format(&ts, "%Y-%m-%d %H:%M:%S%.3f"),
            "%Y-%m-%d %H:%M:%S%.3f",
        ),
        Unit::Second => simple(FULL),
        Unit::Minute => simple("%Y-%m-%d %H:%M:00"),
        Unit::Hour => simple("%Y-%m-%d %H:00:00"),
        Unit::Day => simple("%Y-%m-%d 00:00:00"),
        // The Monday of the ISO week.
        Unit::Week => parse(format(&ts, "%G-%V-1 00:00:00"), "%G-%V-%u %H:%M:%S"),
        Unit::Month => simple("%Y-%m-01 00:00:00"),
        Unit::Quarter => {
            let month = integer(format(&ts, "%m"));
            let first = bin(
                bin(
                    div(bin(month, BinaryOperator::Minus, int(1)), 3),
                    BinaryOperator::Multiply,
                    int(3),
                ),
                BinaryOperator::Plus,
                int(1),
            );
            parse(
                concat(vec![
                    format(&ts, "%Y-"),
                    padded(first, 2),
                    text("-01 00:00:00"),
                ])
                .unwrap_or_else(|| text("")),
                FULL,
            )
        }
        Unit::Year => simple("%Y-01-01 00:00:00"),
        Unit::Decade => first_year(10, false),
        Unit::Century => first_year(100, true),
        Unit::Millennium => first_year(1000, true),
        _ => return Err(not_supported_for(name, shown)),
    })
}

/// One piece of a `to_char` result.
#[derive(Debug, PartialEq)]
enum Piece {
    /// chrono's strftime text.
    Format(String),
    /// A name (`%B`, `%A`) in the case asked for, right-padded to 9
    /// characters unless in fill mode.
    Name {
        spec: &'static str,
        case: Case,
        pad: bool,
    },
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Case {
    Upper,
    Capital,
    Lower,
}

/// The pieces of a `to_char` template. `zone` is the text of `TZ` (the
/// zone of a timestamptz, nothing for a timestamp).
fn template(t: &str, zone: &str) -> Result<Vec<Piece>> {
    let mut out: Vec<Piece> = Vec::new();
    let push_fmt = |out: &mut Vec<Piece>, s: &str| match out.last_mut() {
        Some(Piece::Format(f)) => f.push_str(s),
        _ => out.push(Piece::Format(s.to_string())),
    };
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    let mut fill = false;
    let starts = |i: usize, p: &str| {
        let p: Vec<char> = p.chars().collect();
        chars.len() >= i + p.len() && chars[i..i + p.len()] == p[..]
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            // A quoted literal; `\"` inside is a quote.
            let mut lit = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                lit.push(chars[i]);
                i += 1;
            }
            i += 1;
            push_fmt(&mut out, &lit.replace('%', "%%"));
            continue;
        }
        if starts(i, "SSSS") {
            return Err(unsupported(
                "to_char template pattern SSSS is not supported",
            ));
        }
        if starts(i, "FM") {
            fill = true;
            i += 2;
            continue;
        }
        // Numeric patterns: (PostgreSQL spelling, strftime, strftime in fill mode).
        const NUMERIC: &[(&str, &str, &str)] = &[
            ("HH24", "%H", "%-H"),
            ("HH12", "%I", "%-I"),
            ("HH", "%I", "%-I"),
            ("MI", "%M", "%-M"),
            ("SS", "%S", "%-S"),
            ("MS", "%3f", "%3f"),
            ("US", "%6f", "%6f"),
            ("AM", "%p", "%p"),
            ("PM", "%p", "%p"),
            ("am", "%P", "%P"),
            ("pm", "%P", "%P"),
            ("IYYY", "%G", "%G"),
            ("YYYY", "%Y", "%Y"),
            ("YY", "%y", "%-y"),
            ("IW", "%V", "%-V"),
            ("ID", "%u", "%u"),
            ("MM", "%m", "%-m"),
            ("DDD", "%j", "%-j"),
            ("DD", "%d", "%-d"),
            ("Q", "%q", "%q"),
        ];
        // Names: (spelling, strftime, case, padded to 9 unless FM).
        const NAMES: &[(&str, &str, Case, bool)] = &[
            ("MONTH", "%B", Case::Upper, true),
            ("Month", "%B", Case::Capital, true),
            ("month", "%B", Case::Lower, true),
            ("MON", "%b", Case::Upper, false),
            ("Mon", "%b", Case::Capital, false),
            ("mon", "%b", Case::Lower, false),
            ("DAY", "%A", Case::Upper, true),
            ("Day", "%A", Case::Capital, true),
            ("day", "%A", Case::Lower, true),
            ("DY", "%a", Case::Upper, false),
            ("Dy", "%a", Case::Capital, false),
            ("dy", "%a", Case::Lower, false),
        ];
        if let Some((p, spec, case, pads)) = NAMES.iter().find(|(p, ..)| starts(i, p)) {
            out.push(Piece::Name {
                spec,
                case: *case,
                pad: *pads && !fill,
            });
            i += p.chars().count();
            fill = false;
            continue;
        }
        if let Some((p, plain, filled)) = NUMERIC.iter().find(|(p, ..)| starts(i, p)) {
            push_fmt(&mut out, if fill { filled } else { plain });
            i += p.chars().count();
            fill = false;
            continue;
        }
        if starts(i, "TZ") {
            push_fmt(&mut out, zone);
            i += 2;
            continue;
        }
        if c.is_ascii_alphabetic() {
            // A pattern not listed above (or a letter PostgreSQL might read
            // as one): refused rather than copied.
            return Err(unsupported(format!(
                "to_char template pattern at \"{}\" is not supported",
                chars[i..].iter().take(4).collect::<String>()
            )));
        }
        let s = c.to_string();
        push_fmt(&mut out, if c == '%' { "%%" } else { &s });
        i += 1;
    }
    Ok(out)
}

/// `to_char(x, 'template')` of a date, timestamp or timestamptz.
pub(crate) fn to_char(x: &Expr, template_expr: &Expr, t: Option<DataType>) -> Result<Expr> {
    let t = match t {
        Some(t @ (DataType::Date | DataType::Timestamp | DataType::TimestampTz)) => t,
        Some(t) if crate::convert::number_type(t) => {
            return Err(unsupported("to_char of a number is not supported"))
        }
        Some(DataType::Interval) => {
            return Err(unsupported("to_char of an interval is not supported"))
        }
        _ => return Err(unknown_type("to_char")),
    };
    let Expr::Value(SqlValue::SingleQuotedString(tpl)) = template_expr else {
        return Err(unsupported("to_char is supported with a literal template"));
    };
    let zone = if t == DataType::TimestampTz {
        "UTC"
    } else {
        ""
    };
    let ts = as_timestamp(x, t);
    let mut parts: Vec<Expr> = Vec::new();
    for piece in template(tpl, zone)? {
        parts.push(match piece {
            Piece::Format(f) => format(&ts, &f),
            Piece::Name { spec, case, pad } => {
                let name = format(&ts, spec);
                let name = match case {
                    Case::Upper => call("UPPER", vec![name]),
                    Case::Lower => call("LOWER", vec![name]),
                    Case::Capital => name,
                };
                if pad {
                    call("RPAD", vec![name, int(9), text(" ")])
                } else {
                    name
                }
            }
        });
    }
    // Strict: NULL in, NULL out, also for a template of literals only.
    parts.insert(0, format(&ts, ""));
    Ok(concat(parts).unwrap_or_else(|| text("")))
}

/// `to_date(text, 'template')`.
pub(crate) fn to_date(s: &Expr, template_expr: &Expr) -> Result<Expr> {
    let fmt = parse_template(template_expr, "to_date", false)?;
    Ok(cast(
        call("TO_DATE", vec![s.clone(), text(&fmt)]),
        SqlType::Date,
    ))
}

/// `to_timestamp(text, template)`: a timestamptz read in the session time
/// zone (UTC), with the date patterns of [`to_date`] and `HH24`, `HH12`/`HH`,
/// `MI`, `SS`, `AM`/`PM`.
pub(crate) fn to_timestamp(s: &Expr, template_expr: &Expr) -> Result<Expr> {
    let fmt = parse_template(template_expr, "to_timestamp", true)?;
    Ok(cast(
        call("TO_TIMESTAMP", vec![s.clone(), text(&fmt)]),
        timestamptz_type(),
    ))
}

/// A literal PostgreSQL template as chrono's format; patterns outside the
/// handled set are refused, never copied through.
fn parse_template(template_expr: &Expr, function: &str, time: bool) -> Result<String> {
    let Expr::Value(SqlValue::SingleQuotedString(tpl)) = template_expr else {
        return Err(unsupported(format!(
            "{function} is supported with a literal template"
        )));
    };
    let mut fmt = String::new();
    let mut rest = tpl.as_str();
    while let Some(c) = rest.chars().next() {
        let date = [
            ("YYYY", "%Y"),
            ("MM", "%m"),
            ("DD", "%d"),
            ("Month", "%B"),
            ("MONTH", "%B"),
            ("Mon", "%b"),
            ("MON", "%b"),
        ];
        let clock = [
            ("HH24", "%H"),
            ("HH12", "%I"),
            ("HH", "%I"),
            ("MI", "%M"),
            ("SS", "%S"),
            ("AM", "%p"),
            ("PM", "%p"),
        ];
        let found = date
            .iter()
            .chain(clock.iter().filter(|_| time))
            .find(|(p, _)| rest.starts_with(p));
        match found {
            Some((p, spec)) => {
                fmt.push_str(spec);
                rest = &rest[p.len()..];
            }
            None if c.is_ascii_alphanumeric() || c == '"' || c == '%' => {
                return Err(unsupported(format!(
                    "{function} template pattern at \"{}\" is not supported",
                    rest.chars().take(4).collect::<String>()
                )));
            }
            None => {
                fmt.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Ok(fmt)
}

/// `make_date(year, month, day)`.
pub(crate) fn make_date(y: &Expr, m: &Expr, d: &Expr) -> Expr {
    let part = |e: &Expr| cast(e.clone(), SqlType::Text);
    let s =
        concat(vec![part(y), text("-"), part(m), text("-"), part(d)]).unwrap_or_else(|| text(""));
    cast(call("TO_DATE", vec![s, text("%Y-%m-%d")]), SqlType::Date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_translate_to_strftime_and_refuse_unknown_patterns() {
        assert_eq!(
            template("YYYY-MM-DD HH24:MI:SS", "").unwrap(),
            vec![Piece::Format("%Y-%m-%d %H:%M:%S".into())]
        );
        assert_eq!(
            template("FMDD \"of\" Mon, 100%", "").unwrap(),
            vec![
                Piece::Format("%-d of ".into()),
                Piece::Name {
                    spec: "%b",
                    case: Case::Capital,
                    pad: false
                },
                Piece::Format(", 100%%".into()),
            ]
        );
        assert_eq!(
            template("FMMonth Day", "").unwrap(),
            vec![
                Piece::Name {
                    spec: "%B",
                    case: Case::Capital,
                    pad: false
                },
                Piece::Format(" ".into()),
                Piece::Name {
                    spec: "%A",
                    case: Case::Capital,
                    pad: true
                },
            ]
        );
        for bad in ["CC", "J", "RM", "DDth", "SSSS", "D", "WW", "Y,YYY"] {
            assert!(
                matches!(template(bad, ""), Err(SqlError::Unsupported(_))),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn units_by_every_spelling() {
        assert_eq!(Unit::parse("Seconds"), Some(Unit::Second));
        assert_eq!(Unit::parse("msec"), Some(Unit::Millisecond));
        assert_eq!(Unit::parse("MILLENNIA"), Some(Unit::Millennium));
        assert_eq!(Unit::parse("fortnight"), None);
    }
}

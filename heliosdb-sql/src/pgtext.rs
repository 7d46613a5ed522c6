//! PostgreSQL's text input and output of the date/time, interval, uuid and
//! boolean types: what clients send (literals, parameters, COPY fields) and
//! what `psql` prints. One place, so that literals, parameters, COPY and
//! result rows agree. Only the session time zone UTC exists (see
//! `settings`), so `timestamptz` prints with `+00`.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use heliosdb_core::{DataType, Interval};

use crate::{sqlstate, Result, SqlError};

/// PostgreSQL's error for text a type's input function rejects (22P02, or
/// 22007/22008 for dates and times as PostgreSQL reports them).
pub(crate) fn invalid(t: DataType, s: &str) -> SqlError {
    let code = match t {
        DataType::Date | DataType::Time | DataType::Timestamp | DataType::TimestampTz => {
            sqlstate::INVALID_DATETIME_FORMAT
        }
        _ => sqlstate::INVALID_TEXT_REPRESENTATION,
    };
    SqlError::State {
        code,
        message: format!(
            "invalid input syntax for type {}: \"{s}\"",
            crate::pg_type_name(t)
        ),
    }
}

fn out_of_range(s: &str) -> SqlError {
    SqlError::State {
        code: sqlstate::DATETIME_FIELD_OVERFLOW,
        message: format!("date/time field value out of range: \"{s}\""),
    }
}

/// boolean's input: `t`/`f`, `1`/`0`, and any unique prefix of `true`,
/// `false`, `yes`, `no`, `on`, `off` (`o` alone is ambiguous), any case,
/// surrounding blanks ignored.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    let v = s.trim().to_ascii_lowercase();
    if v.is_empty() {
        return None;
    }
    match v.as_str() {
        "1" => return Some(true),
        "0" => return Some(false),
        "o" => return None,
        _ => {}
    }
    for (word, b) in [
        ("true", true),
        ("false", false),
        ("yes", true),
        ("no", false),
    ] {
        if word.starts_with(&v) {
            return Some(b);
        }
    }
    match v.as_str() {
        "on" => Some(true),
        "of" | "off" => Some(false),
        _ => None,
    }
}

/// `YYYY-MM-DD`, optionally followed by ` BC`, or a timestamp's text
/// (`2024-02-29T00:00:00.000+05:30`, node-postgres's form of a JavaScript
/// Date): its time and offset must be valid and are dropped, as PostgreSQL's
/// date input drops them.
pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    let v = s.trim();
    let (v, bc) = match v.strip_suffix(" BC").or_else(|| v.strip_suffix(" bc")) {
        Some(r) => (r.trim_end(), true),
        None => (v, false),
    };
    let d = match ymd(v) {
        Some(d) => d?,
        None if !bc && v.contains([' ', 'T']) => {
            return datetime_parts(s, DataType::Date).map(|(local, _)| local.date());
        }
        None => return Err(invalid(DataType::Date, s)),
    };
    let d = if bc {
        d.with_year(1 - d.year()).ok_or_else(|| out_of_range(s))?
    } else {
        d
    };
    Ok(d)
}

/// `Some(Err)` when the text has the date's shape but no such day exists
/// (2023-02-29: 22008, as PostgreSQL).
fn ymd(v: &str) -> Option<Result<NaiveDate>> {
    let mut it = v.splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y) && digits(m) && digits(d)) || y.len() < 4 {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    Some(NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| out_of_range(v)))
}

/// `HH:MM`, `HH:MM:SS`, `HH:MM:SS.ffffff` (rounded to microseconds).
pub(crate) fn parse_time(s: &str) -> Result<NaiveTime> {
    hms(s.trim()).ok_or_else(|| invalid(DataType::Time, s))?
}

fn hms(v: &str) -> Option<Result<NaiveTime>> {
    let parts: Vec<&str> = v.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let int = |p: &str| -> Option<u32> {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (h, m) = (int(parts[0])?, int(parts[1])?);
    let (sec, micros) = match parts.get(2) {
        None => (0, 0),
        Some(p) => {
            let (whole, frac) = p.split_once('.').unwrap_or((p, ""));
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut f = format!("{frac:0<7}");
            f.truncate(7);
            let tenths: u32 = f.parse().ok()?;
            (int(whole)?, tenths / 10 + u32::from(tenths % 10 >= 5))
        }
    };
    let (sec, micros) = if micros == 1_000_000 {
        (sec + 1, 0)
    } else {
        (sec, micros)
    };
    Some(NaiveTime::from_hms_micro_opt(h, m, sec, micros).ok_or_else(|| out_of_range(v)))
}

/// `YYYY-MM-DD[ T]HH:MM[:SS[.f]]` with an optional offset (`Z`, `+02`,
/// `-05:30`), or a date alone (midnight). Without an offset the text is in
/// the session time zone, UTC.
pub(crate) fn parse_timestamptz(s: &str) -> Result<DateTime<Utc>> {
    let t = DataType::TimestampTz;
    let (local, offset_secs) = datetime_parts(s, t)?;
    local
        .checked_sub_signed(chrono::Duration::seconds(i64::from(offset_secs)))
        .map(|u| u.and_utc())
        .ok_or_else(|| out_of_range(s))
}

/// A `timestamp` (without time zone) in the forms [`parse_timestamptz`]
/// reads. An offset is checked and ignored: PostgreSQL ignores a time zone
/// in the text of a `timestamp`, so `2024-02-29T17:30:00.000+05:30` (what
/// node-postgres sends for a JavaScript Date) is 17:30, the wall clock the
/// client reads back as the same Date.
pub(crate) fn parse_timestamp(s: &str) -> Result<NaiveDateTime> {
    datetime_parts(s, DataType::Timestamp).map(|(local, _)| local)
}

/// The wall clock and the UTC offset (seconds east) of a timestamp's text;
/// errors name type `t`.
fn datetime_parts(s: &str, t: DataType) -> Result<(NaiveDateTime, i32)> {
    let v = s.trim();
    if let Some(d) = ymd(v) {
        return Ok((d?.and_time(NaiveTime::MIN), 0));
    }
    let split = v.find([' ', 'T']).ok_or_else(|| invalid(t, s))?;
    let (date, rest) = (&v[..split], v[split + 1..].trim_start());
    let date = ymd(date).ok_or_else(|| invalid(t, s))??;
    let (clock, offset_secs) = match rest.find(['+', '-', 'Z', 'z']) {
        Some(at) => {
            let off = rest[at..].trim();
            let secs = if off.eq_ignore_ascii_case("z") {
                0
            } else {
                let sign = if off.starts_with('-') { -1 } else { 1 };
                let body = &off[1..];
                let (h, m) = match body.split_once(':') {
                    Some((h, m)) => (h, m),
                    None if body.len() == 4 => (&body[..2], &body[2..]),
                    None => (body, "0"),
                };
                let (h, m): (i32, i32) = (
                    h.parse().map_err(|_| invalid(t, s))?,
                    m.parse().map_err(|_| invalid(t, s))?,
                );
                if h > 15 || m > 59 {
                    return Err(out_of_range(s));
                }
                sign * (h * 3600 + m * 60)
            };
            (rest[..at].trim_end(), secs)
        }
        None => (rest, 0),
    };
    let time = hms(clock).ok_or_else(|| invalid(t, s))??;
    Ok((NaiveDateTime::new(date, time), offset_secs))
}

/// A UUID: 32 hex digits, optionally in braces, with hyphens between groups
/// of four digits (PostgreSQL's accepted spellings).
pub(crate) fn parse_uuid(s: &str) -> Option<u128> {
    let v = s.trim();
    let v = v
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(v);
    let mut digits = String::with_capacity(32);
    let mut since_hyphen = 0;
    for (i, c) in v.chars().enumerate() {
        if c == '-' {
            if i == 0 || since_hyphen % 4 != 0 || since_hyphen == 0 {
                return None;
            }
            since_hyphen = 0;
        } else if c.is_ascii_hexdigit() {
            digits.push(c);
            since_hyphen += 1;
        } else {
            return None;
        }
    }
    if digits.len() != 32 || v.ends_with('-') {
        return None;
    }
    u128::from_str_radix(&digits, 16).ok()
}

const MICROS_PER_SEC: f64 = 1e6;
const MICROS_PER_DAY: f64 = 86_400e6;

/// interval's input in PostgreSQL's style: `<number> <unit>` pairs (`1 year
/// 2 mons`, `2 hours 30 minutes`, `1.5 days`), a clock `[-]HH:MM[:SS.f]`,
/// an optional leading `@` and trailing `ago`. Fractions spread downwards as
/// in PostgreSQL (`1.5 mons` is `1 mon 15 days`).
pub(crate) fn parse_interval(s: &str) -> Result<Interval> {
    let bad = || invalid(DataType::Interval, s);
    let overflow = || SqlError::State {
        code: sqlstate::DATETIME_FIELD_OVERFLOW,
        message: format!("interval field value out of range: \"{s}\""),
    };
    let mut words: Vec<String> = s
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.first().map(String::as_str) == Some("@") {
        words.remove(0);
    }
    let ago = words.last().map(String::as_str) == Some("ago");
    if ago {
        words.pop();
    }
    if words.is_empty() {
        return Err(bad());
    }
    let (mut months, mut days, mut micros) = (0f64, 0f64, 0f64);
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if w.contains(':') {
            let (neg, clock) = match w.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, w.strip_prefix('+').unwrap_or(w)),
            };
            let parts: Vec<&str> = clock.split(':').collect();
            if !(2..=3).contains(&parts.len()) {
                return Err(bad());
            }
            let num = |p: &str| -> Result<f64> {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    return Err(bad());
                }
                p.parse::<f64>().map_err(|_| bad())
            };
            let h = num(parts[0])?;
            let m = num(parts[1])?;
            let sec = parts.get(2).map(|p| num(p)).transpose()?.unwrap_or(0.0);
            let us = (h * 3600.0 + m * 60.0 + sec) * MICROS_PER_SEC;
            micros += if neg { -us } else { us };
            i += 1;
            continue;
        }
        // A number glued to its unit (`10d`) is not accepted: PostgreSQL's
        // own spellings separate them.
        let n: f64 = w.parse().map_err(|_| bad())?;
        if !n.is_finite() {
            return Err(bad());
        }
        let unit = words.get(i + 1).ok_or_else(bad)?;
        let unit = unit.trim_end_matches(',');
        match unit {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" => micros += n,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => micros += n * 1e3,
            "second" | "seconds" | "sec" | "secs" | "s" => micros += n * MICROS_PER_SEC,
            "minute" | "minutes" | "min" | "mins" | "m" => micros += n * 60.0 * MICROS_PER_SEC,
            "hour" | "hours" | "hr" | "hrs" | "h" => micros += n * 3600.0 * MICROS_PER_SEC,
            "day" | "days" | "d" => {
                days += n.trunc();
                micros += n.fract() * MICROS_PER_DAY;
            }
            "week" | "weeks" | "w" => {
                let d = n * 7.0;
                days += d.trunc();
                micros += d.fract() * MICROS_PER_DAY;
            }
            "month" | "months" | "mon" | "mons" => {
                months += n.trunc();
                let d = n.fract() * 30.0;
                days += d.trunc();
                micros += d.fract() * MICROS_PER_DAY;
            }
            "year" | "years" | "yr" | "yrs" | "y" => months += (n * 12.0).round(),
            "decade" | "decades" => months += (n * 120.0).round(),
            "century" | "centuries" => months += (n * 1200.0).round(),
            "millennium" | "millennia" | "millenniums" => months += (n * 12000.0).round(),
            _ => return Err(bad()),
        }
        i += 2;
    }
    let sign = if ago { -1.0 } else { 1.0 };
    let fit32 = |v: f64| -> Result<i32> {
        let v = (v * sign).round();
        if v < f64::from(i32::MIN) || v > f64::from(i32::MAX) {
            return Err(overflow());
        }
        Ok(v as i32)
    };
    let us = (micros * sign).round();
    if !(-9.2e18..=9.2e18).contains(&us) {
        return Err(overflow());
    }
    Ok(Interval {
        months: fit32(months)?,
        days: fit32(days)?,
        micros: us as i64,
    })
}

/// `.ffffff` without trailing zeros, empty for whole seconds (PostgreSQL
/// prints no more digits than it needs).
fn fraction(nanos: u32) -> String {
    let micros = nanos.min(999_999_999) / 1000;
    if micros == 0 {
        return String::new();
    }
    format!(".{micros:06}").trim_end_matches('0').to_string()
}

/// date's output: `2024-02-29`, `0044-03-15 BC`.
pub fn date_text(d: NaiveDate) -> String {
    if d.year() <= 0 {
        format!("{:04}-{:02}-{:02} BC", 1 - d.year(), d.month(), d.day())
    } else {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}

/// time's output: `13:45:00`, `13:45:00.5`.
pub fn time_text(t: NaiveTime) -> String {
    format!(
        "{:02}:{:02}:{:02}{}",
        t.hour(),
        t.minute(),
        t.second(),
        fraction(t.nanosecond())
    )
}

/// timestamp's output: `2024-02-29 13:45:00.123456` (BC after the time).
pub fn timestamp_text(t: NaiveDateTime) -> String {
    let d = t.date();
    let clock = time_text(t.time());
    if d.year() <= 0 {
        format!(
            "{:04}-{:02}-{:02} {clock} BC",
            1 - d.year(),
            d.month(),
            d.day()
        )
    } else {
        format!("{} {clock}", date_text(d))
    }
}

/// timestamptz's output in the session time zone (UTC): `… 12:00:00+00`.
pub fn timestamptz_text(t: DateTime<Utc>) -> String {
    let text = timestamp_text(t.naive_utc());
    match text.strip_suffix(" BC") {
        Some(ad) => format!("{ad}+00 BC"),
        None => format!("{text}+00"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_read_like_postgres() {
        for t in ["t", "TRUE", " yes ", "on", "1", "y", "tr"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["f", "false", "no", "off", "0", "n", "of"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for x in ["o", "", "2", "yess", "nope"] {
            assert_eq!(parse_bool(x), None, "{x}");
        }
    }

    #[test]
    fn dates_and_times_round_trip_through_text() {
        let d = parse_date("2024-02-29").unwrap();
        assert_eq!(date_text(d), "2024-02-29");
        let bc = parse_date("0044-03-15 BC").unwrap();
        assert_eq!(bc.year(), -43);
        assert_eq!(date_text(bc), "0044-03-15 BC");
        assert!(matches!(
            parse_date("2023-02-29"),
            Err(SqlError::State { code, .. }) if code == sqlstate::DATETIME_FIELD_OVERFLOW
        ));
        assert!(matches!(
            parse_date("yesterday-ish"),
            Err(SqlError::State { code, .. }) if code == sqlstate::INVALID_DATETIME_FORMAT
        ));
        assert_eq!(time_text(parse_time("13:45").unwrap()), "13:45:00");
        assert_eq!(time_text(parse_time("00:00:01.50").unwrap()), "00:00:01.5");
        assert_eq!(
            time_text(parse_time("10:00:00.1234567").unwrap()),
            "10:00:00.123457"
        );
        assert!(parse_time("25:00").is_err());
    }

    #[test]
    fn timestamptz_offsets_become_utc() {
        let t = parse_timestamptz("2024-01-01 12:00:00+02").unwrap();
        assert_eq!(timestamptz_text(t), "2024-01-01 10:00:00+00");
        let t = parse_timestamptz("2024-01-01T12:00:00.25-05:30").unwrap();
        assert_eq!(timestamptz_text(t), "2024-01-01 17:30:00.25+00");
        let t = parse_timestamptz("2024-01-01 00:30:00Z").unwrap();
        assert_eq!(timestamptz_text(t), "2024-01-01 00:30:00+00");
        assert_eq!(
            timestamptz_text(parse_timestamptz("2024-03-01").unwrap()),
            "2024-03-01 00:00:00+00"
        );
        assert!(parse_timestamptz("2024-01-01 12:00:00+99").is_err());
        assert!(parse_timestamptz("noon").is_err());
    }

    #[test]
    fn uuids_accept_postgres_spellings() {
        let u = 0xa0ee_bc99_9c0b_4ef8_bb6d_6bb9_bd38_0a11_u128;
        for s in [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        ] {
            assert_eq!(parse_uuid(s), Some(u), "{s}");
        }
        for s in [
            "not-a-uuid",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "-a0eebc999c0b4ef8bb6d6bb9bd380a11",
        ] {
            assert_eq!(parse_uuid(s), None, "{s}");
        }
    }

    #[test]
    fn intervals_parse_like_postgres() {
        let iv = |s| parse_interval(s).unwrap().to_string();
        assert_eq!(iv("1 day"), "1 day");
        assert_eq!(iv("2 hours 30 minutes"), "02:30:00");
        assert_eq!(iv("1 year 2 mons"), "1 year 2 mons");
        assert_eq!(iv("90 minutes"), "01:30:00");
        assert_eq!(iv("1 day 2 hours"), "1 day 02:00:00");
        assert_eq!(iv("1.5 days"), "1 day 12:00:00");
        assert_eq!(iv("1.5 mons"), "1 mon 15 days");
        assert_eq!(iv("@ 3 days ago"), "-3 days");
        assert_eq!(iv("-01:30"), "-01:30:00");
        assert_eq!(iv("26 hours"), "26:00:00");
        assert!(parse_interval("one day").is_err());
        assert!(parse_interval("").is_err());
        assert!(parse_interval("3 fortnights").is_err());
    }
}

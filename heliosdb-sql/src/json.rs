//! `json` and `jsonb` text as PostgreSQL reads and writes it. Both types
//! are stored as text; a `json` value is validated and kept as written, a
//! `jsonb` value is parsed and written back in PostgreSQL's normalised form:
//! object keys sorted by length, then bytes, a repeated key keeping its
//! last value, `", "` and `": "` between items, numbers as NUMERIC text
//! (`1e2` is `100`, `1.10` stays `1.10`), strings re-escaped.

use std::fmt::Write as _;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::SqlError;

/// A parsed JSON value (numbers as their normalised NUMERIC text).
#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

fn invalid(input: &str, detail: &str) -> SqlError {
    SqlError::State {
        code: "22P02",
        message: format!("invalid input syntax for type json: \"{input}\" ({detail})"),
    }
}

/// The most nesting accepted (PostgreSQL stops at its stack depth limit).
const MAX_DEPTH: usize = 1000;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, detail: &str) -> SqlError {
        invalid(self.text, detail)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, word: &str) -> Result<(), SqlError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err("Token is invalid."))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, SqlError> {
        if depth > MAX_DEPTH {
            return Err(SqlError::State {
                code: "54001",
                message: "stack depth limit exceeded".into(),
            });
        }
        self.skip_ws();
        match self.bytes.get(self.pos) {
            None => Err(self.err("The input string ended unexpectedly.")),
            Some(b'n') => self.expect("null").map(|()| Json::Null),
            Some(b't') => self.expect("true").map(|()| Json::Bool(true)),
            Some(b'f') => self.expect("false").map(|()| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.err("Expected \",\" or \"]\".")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut items: Vec<(String, Json)> = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(items));
                }
                loop {
                    self.skip_ws();
                    if self.bytes.get(self.pos) != Some(&b'"') {
                        return Err(self.err("Expected string."));
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if self.bytes.get(self.pos) != Some(&b':') {
                        return Err(self.err("Expected \":\"."));
                    }
                    self.pos += 1;
                    let v = self.value(depth + 1)?;
                    items.push((key, v));
                    self.skip_ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(items));
                        }
                        _ => return Err(self.err("Expected \",\" or \"}\".")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("Token is invalid.")),
        }
    }

    fn number(&mut self) -> Result<Json, SqlError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        if digits(self) == 0 {
            return Err(self.err("Token is invalid."));
        }
        if self.bytes[int_start] == b'0' && self.pos - int_start > 1 {
            return Err(self.err("Token is invalid."));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.err("Token is invalid."));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("Token is invalid."));
            }
        }
        let text = &self.text[start..self.pos];
        let d = if text.contains(['e', 'E']) {
            Decimal::from_scientific(text)
        } else {
            Decimal::from_str(text)
        }
        .map_err(|_| SqlError::State {
            code: crate::sqlstate::FEATURE_NOT_SUPPORTED,
            message: format!("the JSON number {text} does not fit the engine's 28-digit decimal"),
        })?;
        let mut d = d;
        if d.is_zero() {
            d.set_sign_positive(true);
        }
        Ok(Json::Number(d.to_string()))
    }

    fn hex4(&mut self) -> Result<u32, SqlError> {
        let h = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("\"\\u\" must be followed by four hexadecimal digits."))?;
        self.pos += 4;
        u32::from_str_radix(h, 16).map_err(|_| self.err("bad \\u escape"))
    }

    fn string(&mut self) -> Result<String, SqlError> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let Some(c) = self.text[self.pos..].chars().next() else {
                return Err(self.err("The input string ended unexpectedly."));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.bytes.get(self.pos).copied() else {
                        return Err(self.err("The input string ended unexpectedly."));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) {
                                if !self.text[self.pos..].starts_with("\\u") {
                                    return Err(self.err(
                                        "Unicode high surrogate must not follow a high surrogate.",
                                    ));
                                }
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(self.err(
                                        "Unicode low surrogate must follow a high surrogate.",
                                    ));
                                }
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            }
                            if code == 0 {
                                return Err(SqlError::State {
                                    code: "22P05",
                                    message: "unsupported Unicode escape sequence (\\u0000 \
                                              cannot be converted to text)"
                                        .into(),
                                });
                            }
                            let ch = char::from_u32(code).ok_or_else(|| {
                                self.err("Unicode low surrogate must follow a high surrogate.")
                            })?;
                            out.push(ch);
                        }
                        _ => return Err(self.err("Escape sequence is invalid.")),
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.err("Character with value 0x.. must be escaped."))
                }
                c => out.push(c),
            }
        }
    }
}

fn parse(text: &str) -> Result<Json, SqlError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != text.len() {
        return Err(p.err("Expected end of input, but found more."));
    }
    Ok(v)
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(out: &mut String, v: Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n),
        Json::String(s) => write_string(out, &s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, item);
            }
            out.push(']');
        }
        Json::Object(items) => {
            // The last of repeated keys wins; keys by length, then bytes.
            let mut kept: Vec<(String, Json)> = Vec::with_capacity(items.len());
            for (k, v) in items {
                if let Some(slot) = kept.iter_mut().find(|(x, _)| *x == k) {
                    slot.1 = v;
                } else {
                    kept.push((k, v));
                }
            }
            kept.sort_by(|(a, _), (b, _)| {
                a.len()
                    .cmp(&b.len())
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            });
            out.push('{');
            for (i, (k, v)) in kept.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, &k);
                out.push_str(": ");
                write(out, v);
            }
            out.push('}');
        }
    }
}

/// `text` as a `jsonb` value: PostgreSQL's normalised text.
///
/// # Errors
/// 22P02 for text that is not JSON (22P05 for `\u0000`).
pub(crate) fn jsonb_text(text: &str) -> Result<String, SqlError> {
    let v = parse(text)?;
    let mut out = String::with_capacity(text.len());
    write(&mut out, v);
    Ok(out)
}

/// Checks that `text` is JSON (a `json` value keeps its text).
///
/// # Errors
/// 22P02 for text that is not JSON.
pub(crate) fn check_json(text: &str) -> Result<(), SqlError> {
    parse(text).map(|_| ())
}

/// What one step of PostgreSQL's JSON navigation selects: `-> 'key'`
/// (object field), `-> n` (array element, negative from the end) or an
/// element of a `#>` path (a field, or an element when the value is an
/// array and the text an integer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sel {
    Key(String),
    Index(i64),
    Path(String),
    /// `jsonb[n]`: an array element (a scalar has none, unlike `-> n`).
    Elem(i64),
}

/// The text of the child of JSON value `text` that `sel` selects, as it is
/// written in `text` (`None`: there is none). A `json` value keeps its
/// text, so its children are returned as written (the last of repeated
/// keys, as PostgreSQL's `json` operators do); a `jsonb` value is stored
/// normalised, so its children are normalised too. A `jsonb` scalar is its
/// own element 0 (and -1) for `->`, as in PostgreSQL.
///
/// # Errors
/// 22P02 for text that is not JSON.
pub(crate) fn child<'t>(
    text: &'t str,
    sel: &Sel,
    jsonb: bool,
) -> Result<Option<&'t str>, SqlError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    p.skip_ws();
    let index = |sel: &Sel| match sel {
        Sel::Index(i) | Sel::Elem(i) => Some(*i),
        Sel::Path(s) => s.trim().parse::<i64>().ok(),
        Sel::Key(_) => None,
    };
    match p.bytes.get(p.pos) {
        Some(b'{') => {
            let key = match sel {
                Sel::Key(k) | Sel::Path(k) => k.as_str(),
                Sel::Index(_) | Sel::Elem(_) => return Ok(None),
            };
            p.pos += 1;
            p.skip_ws();
            if p.bytes.get(p.pos) == Some(&b'}') {
                return Ok(None);
            }
            let mut found = None;
            loop {
                p.skip_ws();
                if p.bytes.get(p.pos) != Some(&b'"') {
                    return Err(p.err("Expected string."));
                }
                let k = p.string()?;
                p.skip_ws();
                if p.bytes.get(p.pos) != Some(&b':') {
                    return Err(p.err("Expected \":\"."));
                }
                p.pos += 1;
                p.skip_ws();
                let start = p.pos;
                p.value(1)?;
                if k == key {
                    found = Some(&text[start..p.pos]);
                }
                p.skip_ws();
                match p.bytes.get(p.pos) {
                    Some(b',') => p.pos += 1,
                    Some(b'}') => return Ok(found),
                    _ => return Err(p.err("Expected \",\" or \"}\".")),
                }
            }
        }
        Some(b'[') => {
            let Some(i) = index(sel) else {
                return Ok(None);
            };
            p.pos += 1;
            p.skip_ws();
            let mut spans = Vec::new();
            if p.bytes.get(p.pos) != Some(&b']') {
                loop {
                    p.skip_ws();
                    let start = p.pos;
                    p.value(1)?;
                    spans.push(&text[start..p.pos]);
                    p.skip_ws();
                    match p.bytes.get(p.pos) {
                        Some(b',') => p.pos += 1,
                        Some(b']') => break,
                        _ => return Err(p.err("Expected \",\" or \"]\".")),
                    }
                }
            }
            let n = i64::try_from(spans.len()).unwrap_or(i64::MAX);
            let i = if i < 0 { n + i } else { i };
            Ok(usize::try_from(i).ok().and_then(|i| spans.get(i).copied()))
        }
        // Only `-> 0`/`-> -1`: a path or a subscript finds nothing in a scalar.
        Some(_) if jsonb && matches!(sel, Sel::Index(0 | -1)) => Ok(Some(text.trim())),
        _ => Ok(None),
    }
}

/// A JSON value as text, as `->>` gives it: a string unescaped, `null` as
/// SQL NULL, anything else as written.
///
/// # Errors
/// 22P02 for text that is not JSON.
pub(crate) fn as_text(value: &str) -> Result<Option<String>, SqlError> {
    let value = value.trim();
    match value.as_bytes().first() {
        Some(b'"') => match parse(value)? {
            Json::String(s) => Ok(Some(s)),
            _ => Err(invalid(value, "Expected string.")),
        },
        _ if value == "null" => Ok(None),
        _ => Ok(Some(value.to_string())),
    }
}

/// `json[b]_typeof`: the kind of a JSON value's text.
pub(crate) fn type_name(value: &str) -> &'static str {
    match value.trim_start().as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// `json[b]_array_length`: the number of elements of an array.
///
/// # Errors
/// 22023 for a value that is not an array (PostgreSQL's messages).
pub(crate) fn array_length(value: &str) -> Result<i32, SqlError> {
    let kind = type_name(value);
    if kind != "array" {
        let what = if kind == "object" {
            "a non-array"
        } else {
            "a scalar"
        };
        return Err(SqlError::State {
            code: "22023",
            message: format!("cannot get array length of {what}"),
        });
    }
    match parse(value)? {
        Json::Array(items) => {
            i32::try_from(items.len()).map_err(|_| invalid(value, "array too long"))
        }
        _ => Err(invalid(value, "Expected array.")),
    }
}

fn scalar_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Null, Json::Null) => true,
        (Json::Bool(x), Json::Bool(y)) => x == y,
        (Json::String(x), Json::String(y)) => x == y,
        (Json::Number(x), Json::Number(y)) => {
            x == y
                || matches!((Decimal::from_str(x), Decimal::from_str(y)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

fn last_value<'j>(items: &'j [(String, Json)], key: &str) -> Option<&'j Json> {
    items.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// PostgreSQL's `jsonb` containment below the top level: an object
/// contains an object whose every field it has with a contained value, an
/// array contains an array each of whose elements it contains, scalars
/// are equal (numbers by value).
fn deep_contains(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(a), Json::Object(b)) => b.iter().all(|(k, bv)| {
            last_value(a, k).is_some_and(|av| match bv {
                Json::Object(_) | Json::Array(_) => deep_contains(av, bv),
                _ => scalar_eq(av, bv),
            })
        }),
        (Json::Array(a), Json::Array(b)) => b.iter().all(|bv| match bv {
            Json::Object(_) | Json::Array(_) => a.iter().any(|av| deep_contains(av, bv)),
            _ => a.iter().any(|av| scalar_eq(av, bv)),
        }),
        (Json::Object(_) | Json::Array(_), _) | (_, Json::Object(_) | Json::Array(_)) => false,
        _ => scalar_eq(a, b),
    }
}

/// `a @> b` for `jsonb` values: `a` contains `b` (at the top level an
/// array also contains a scalar it has as an element).
///
/// # Errors
/// 22P02 for text that is not JSON.
pub(crate) fn contains(a: &str, b: &str) -> Result<bool, SqlError> {
    let (a, b) = (parse(a)?, parse(b)?);
    Ok(match (&a, &b) {
        (Json::Array(items), Json::Null | Json::Bool(_) | Json::Number(_) | Json::String(_)) => {
            items.iter().any(|v| scalar_eq(v, &b))
        }
        _ => deep_contains(&a, &b),
    })
}

/// `a ? key` (one key), `a ?| keys` (any) and `a ?& keys` (all) for a
/// `jsonb` value: a key is there when it is a field of the object, a
/// string element of the array, or the string itself.
///
/// # Errors
/// 22P02 for text that is not JSON.
pub(crate) fn has_keys(a: &str, keys: &[String], all: bool) -> Result<bool, SqlError> {
    let a = parse(a)?;
    let has = |key: &String| match &a {
        Json::Object(items) => items.iter().any(|(k, _)| k == key),
        Json::Array(items) => items
            .iter()
            .any(|v| matches!(v, Json::String(s) if s == key)),
        Json::String(s) => s == key,
        _ => false,
    };
    Ok(if all {
        keys.iter().all(has)
    } else {
        keys.iter().any(has)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonb_is_normalised_as_postgres_does() {
        // Answers of PostgreSQL 15.
        let n = |s: &str| jsonb_text(s).unwrap();
        assert_eq!(n(r#"{"b": 1, "a": 2}"#), r#"{"a": 2, "b": 1}"#);
        assert_eq!(
            n(r#"{"name": "ann", "age": 30, "tags": ["a", "b"]}"#),
            r#"{"age": 30, "name": "ann", "tags": ["a", "b"]}"#
        );
        assert_eq!(
            n(r#"{"aa":1,"b":2,"a":3,"b":4}"#),
            r#"{"a": 3, "b": 4, "aa": 1}"#
        );
        assert_eq!(n(" [1,2 ,\n3] "), "[1, 2, 3]");
        assert_eq!(n("[1.10, 1e2, -0, 1.5E-3]"), "[1.10, 100, 0, 0.0015]");
        assert_eq!(n(r#""a\u00e9\/\n""#), "\"aé/\\n\"");
        assert_eq!(n("{}"), "{}");
        assert_eq!(n("[]"), "[]");
        assert_eq!(n("null"), "null");
    }

    #[test]
    fn bad_json_is_refused() {
        for bad in [
            "{bad json",
            "[1,]",
            "01",
            "{\"a\" 1}",
            "tru",
            "[1] x",
            "\"\\x\"",
        ] {
            assert_eq!(jsonb_text(bad).unwrap_err().sqlstate(), "22P02", "{bad}");
            assert_eq!(check_json(bad).unwrap_err().sqlstate(), "22P02", "{bad}");
        }
        assert_eq!(jsonb_text(r#""\u0000""#).unwrap_err().sqlstate(), "22P05");
    }

    #[test]
    fn navigation_follows_postgres() {
        let key = |k: &str| Sel::Key(k.into());
        let doc = r#"{"a": [1,  2e1], "a": "last", "b": {"c": null}}"#;
        // json: the last of repeated keys, children as written.
        assert_eq!(child(doc, &key("a"), false).unwrap(), Some(r#""last""#));
        assert_eq!(
            child(doc, &key("b"), false).unwrap(),
            Some(r#"{"c": null}"#)
        );
        assert_eq!(child(doc, &key("z"), false).unwrap(), None);
        assert_eq!(child(doc, &Sel::Index(0), false).unwrap(), None);
        let arr = "[10, [20, 30], {\"k\": 1}]";
        assert_eq!(child(arr, &Sel::Index(1), false).unwrap(), Some("[20, 30]"));
        assert_eq!(
            child(arr, &Sel::Index(-1), false).unwrap(),
            Some(r#"{"k": 1}"#)
        );
        assert_eq!(child(arr, &Sel::Index(-4), false).unwrap(), None);
        assert_eq!(child(arr, &Sel::Index(3), false).unwrap(), None);
        assert_eq!(child(arr, &key("0"), false).unwrap(), None);
        assert_eq!(
            child(arr, &Sel::Path("0".into()), false).unwrap(),
            Some("10")
        );
        assert_eq!(child(arr, &Sel::Path("x".into()), false).unwrap(), None);
        // A jsonb scalar is its own element 0; a json scalar has none.
        assert_eq!(
            child(r#""s""#, &Sel::Index(0), true).unwrap(),
            Some(r#""s""#)
        );
        assert_eq!(child(r#""s""#, &Sel::Index(0), false).unwrap(), None);
        assert_eq!(child(r#""s""#, &Sel::Path("0".into()), true).unwrap(), None);
        assert_eq!(child(r#""s""#, &Sel::Elem(0), true).unwrap(), None);
        assert_eq!(as_text(r#""a\nb""#).unwrap().as_deref(), Some("a\nb"));
        assert_eq!(as_text("null").unwrap(), None);
        assert_eq!(as_text(" 1.50 ").unwrap().as_deref(), Some("1.50"));
        assert_eq!(
            child("{bad", &key("a"), true).unwrap_err().sqlstate(),
            "22P02"
        );
    }

    #[test]
    fn containment_and_keys_follow_postgres() {
        let c = |a: &str, b: &str| contains(a, b).unwrap();
        assert!(c(r#"{"a": 1.0, "b": [1, 2]}"#, r#"{"a": 1}"#));
        assert!(c(r#"{"a": {"b": [1, [2, 3]]}}"#, r#"{"a": {"b": [[3]]}}"#));
        assert!(
            !c(r#"{"a": [1, 2]}"#, r#"{"a": 1}"#),
            "scalar in array only at the top"
        );
        assert!(c("[1, 2]", "1"));
        assert!(!c("1", "[1]"));
        assert!(c("[1, 2, 2]", "[2, 2, 1]"));
        assert!(!c(r#"{"a": null}"#, r#"{"b": null}"#));
        assert!(c(r#"{"a": 1, "a": 2}"#, r#"{"a": 2}"#));
        let k = |a: &str, keys: &[&str], all: bool| {
            let keys: Vec<String> = keys.iter().map(|s| (*s).to_string()).collect();
            has_keys(a, &keys, all).unwrap()
        };
        assert!(k(r#"{"a": null}"#, &["a"], false));
        assert!(k(r#"["a", 1]"#, &["a"], false));
        assert!(!k(r#"[["a"]]"#, &["a"], false));
        assert!(k(r#""a""#, &["a"], false));
        assert!(k(r#"{"a": 1, "b": 2}"#, &["a", "z"], false));
        assert!(!k(r#"{"a": 1, "b": 2}"#, &["a", "z"], true));
        assert!(k(r#"{"a": 1}"#, &[], true));
        assert_eq!(array_length("[1, [2, 3]]").unwrap(), 2);
        assert_eq!(array_length("[]").unwrap(), 0);
        assert_eq!(array_length("{}").unwrap_err().sqlstate(), "22023");
        assert_eq!(array_length("3").unwrap_err().sqlstate(), "22023");
        assert_eq!(type_name(" [1]"), "array");
        assert_eq!(type_name("-1"), "number");
    }
}

//! Logical SQL dumps: `export` streams a decrypted dump (schema, indexes,
//! rows, key-value pairs) in PostgreSQL syntax that our `import` and, for
//! the tables, PostgreSQL's `psql -f` accept; `import` replays one into an
//! engine statement by statement, with memory bounded by one statement.
//!
//! Dump conventions beyond plain SQL, carried in comments so `psql` ignores
//! them: `--@<marker> own_key` before a `CREATE TABLE` whose table has its
//! own key, and `--@<marker> kv <hex key> <hex value>` for key-value pairs.
//! The marker is random per dump and declared in the dump's header
//! (`-- heliosdb-directives <marker>`), so nothing a SQL user stored — a
//! table name with a newline, say — can forge a directive: import honours
//! only lines with the declared marker, and only outside statements (its
//! splitter tracks `'…'` strings and `"…"` identifiers). Dumps from before
//! the marker (`--@heliosdb own_key`, `--@kv …`, no header) still import.
//!
//! Server users are not key-value pairs of a dump: the server's namespace
//! ([`SERVER_KV_PREFIX`]) is left out, and users travel only when the
//! caller asks, as `CREATE ROLE "name" LOGIN PASSWORD 'SCRAM-SHA-256$…'`
//! (the verifier form PostgreSQL accepts; no login can be made from it),
//! which import turns into users only through [`ImportOptions::roles`].
//!
//! A dump is untrusted input to import: a line or statement over
//! [`MAX_STATEMENT_BYTES`] is refused before it is held in full, and a
//! statement nested deeper than [`MAX_NESTING`] parentheses or chaining
//! more than [`MAX_CHAIN`] operators is refused from its tokens, before a
//! syntax tree exists (walking or even dropping a deep tree recurses, and
//! a stack overflow aborts the process).

use std::io::{BufRead, Write};
use std::str::FromStr;

use chrono::{NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use sqlparser::ast::{Expr, Password, SetExpr, Statement, UnaryOperator, Value as SqlValue};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::engine::StorageEngine;
use crate::store::Cf;
use crate::types::{Column, DataType, Schema, Tuple, Value};
use crate::{Error, Result};

const ROWS_PER_INSERT: usize = 500;

/// Key-value keys under this prefix belong to the server crate
/// (`heliosdb-server`: its users and its authentication secret). Export
/// never writes them as key-value pairs, and import stores them only
/// through [`ImportOptions::roles`] (dumps from before this rule carry its
/// users that way).
pub const SERVER_KV_PREFIX: &[u8] = b"__heliosdb_server/";

/// Longest line, and longest statement, import reads (128 MiB); export
/// starts a new `INSERT` well before it and refuses a single row or
/// key-value pair that would not fit.
pub const MAX_STATEMENT_BYTES: usize = 128 * 1024 * 1024;

/// Export ends an `INSERT` once its text passes this, whatever its row count.
const INSERT_FLUSH_BYTES: usize = 8 * 1024 * 1024;

/// Deepest parenthesis nesting import accepts in a statement (dumps use 2).
pub const MAX_NESTING: usize = 16;

/// Most operators import accepts in a row within one parenthesis level
/// between commas (dumps use at most a unary minus, or `NOT NULL`).
pub const MAX_CHAIN: usize = 16;

/// What an export wrote.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExportStats {
    /// Tables.
    pub tables: u64,
    /// Rows.
    pub rows: u64,
    /// Key-value pairs.
    pub kv_pairs: u64,
    /// Server users (`CREATE ROLE`), with [`ExportOptions::roles`].
    pub roles: u64,
}

/// A server user as a dump carries it: its name and its SCRAM verifier in
/// PostgreSQL's text form, `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
#[derive(Clone)]
pub struct DumpRole {
    /// User name.
    pub name: String,
    /// The verifier text.
    pub verifier: String,
}

impl std::fmt::Debug for DumpRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpRole")
            .field("name", &self.name)
            .field("verifier", &"[REDACTED]")
            .finish()
    }
}

/// What [`StorageEngine::export_sql_opts`] writes beyond tables and
/// key-value pairs.
#[derive(Clone, Copy, Default)]
pub struct ExportOptions<'a> {
    /// What the SQL layer knows of the tables.
    pub hints: Option<&'a dyn DumpHints>,
    /// Server users to write as `CREATE ROLE … PASSWORD '<verifier>'`
    /// (`export --include-users`); none by default.
    pub roles: &'a [DumpRole],
}

impl std::fmt::Debug for ExportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportOptions")
            .field("hints", &self.hints.is_some())
            .field("roles", &self.roles.len())
            .finish()
    }
}

/// Stores one server user from a dump: `(name, verifier text)`.
pub type RoleHook<'a> = &'a dyn Fn(&str, &str) -> std::result::Result<(), String>;

/// How [`import_sql_with`] treats a dump.
#[derive(Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// Skip a bad statement (reporting it) instead of stopping.
    pub continue_on_error: bool,
    /// Creates server users from `CREATE ROLE` statements (and stores the
    /// server's key-value pairs of older dumps); `None` refuses both
    /// (`import` without `--include-users`).
    pub roles: Option<RoleHook<'a>>,
}

impl std::fmt::Debug for ImportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("continue_on_error", &self.continue_on_error)
            .field("roles", &self.roles.is_some())
            .finish()
    }
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportStats {
    /// Statements applied.
    pub statements: u64,
    /// Rows inserted.
    pub rows: u64,
    /// Key-value pairs stored.
    pub kv_pairs: u64,
    /// Server users created.
    pub roles: u64,
    /// Statements skipped with `continue_on_error`: (line, error).
    pub skipped: Vec<(u64, String)>,
}

fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn type_name(t: DataType) -> &'static str {
    match t {
        DataType::Bool => "BOOLEAN",
        DataType::Int2 => "SMALLINT",
        DataType::Int4 => "INTEGER",
        DataType::Int8 => "BIGINT",
        DataType::Float8 => "DOUBLE PRECISION",
        DataType::Float4 => "REAL",
        DataType::Numeric => "NUMERIC",
        DataType::Text => "TEXT",
        DataType::Bytes => "BYTEA",
        DataType::Timestamp => "TIMESTAMP",
        DataType::Date => "DATE",
        DataType::Time => "TIME",
        DataType::TimestampTz => "TIMESTAMPTZ",
        DataType::Interval => "INTERVAL",
        DataType::Uuid => "UUID",
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::Int2(x) => x.to_string(),
        Value::Int4(x) => x.to_string(),
        Value::Int8(x) => x.to_string(),
        Value::Float8(f) if f.is_nan() => "'NaN'".into(),
        Value::Float8(f) if f.is_infinite() => if *f > 0.0 {
            "'Infinity'"
        } else {
            "'-Infinity'"
        }
        .into(),
        // `{:?}` is the shortest text that parses back to the same f64.
        Value::Float8(f) => format!("{f:?}"),
        Value::Float4(f) if !f.is_finite() => literal(&Value::Float8(f64::from(*f))),
        Value::Float4(f) => format!("{f:?}"),
        Value::Numeric(d) => d.to_string(),
        Value::String(s) => {
            let mut out = String::with_capacity(s.len() + 3);
            out.push_str("E'");
            for c in s.chars() {
                match c {
                    '\'' => out.push_str("''"),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('\'');
            out
        }
        Value::Bytes(b) => format!("'\\x{}'", hex::encode(b)),
        Value::Timestamp(t) => format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.6f")),
        Value::TimestampTz(t) => format!("'{}+00'", t.format("%Y-%m-%d %H:%M:%S%.6f")),
        Value::Date(d) => format!("'{}'", date_literal(*d)),
        Value::Time(t) => format!("'{}'", t.format("%H:%M:%S%.6f")),
        // Every field spelled out, so that PostgreSQL and our import read
        // back exactly these three numbers.
        Value::Interval(i) => format!(
            "'{} mons {} days {} microseconds'",
            i.months, i.days, i.micros
        ),
        Value::Uuid(u) => format!("'{}'", crate::types::uuid_text(*u)),
    }
}

/// ISO date text PostgreSQL reads back, `BC` for years before 1.
fn date_literal(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    if d.year() <= 0 {
        format!("{:04}-{:02}-{:02} BC", 1 - d.year(), d.month(), d.day())
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

fn date_from_literal(text: &str) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    match text.strip_suffix(" BC") {
        Some(ad) => {
            let d = chrono::NaiveDate::parse_from_str(ad, "%Y-%m-%d").ok()?;
            d.with_year(1 - d.year())
        }
        None => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok(),
    }
}

/// The interval text [`literal`] writes: `<n> mons <n> days <n> microseconds`.
fn interval_from_literal(text: &str) -> Option<crate::types::Interval> {
    let w: Vec<&str> = text.split_whitespace().collect();
    match w.as_slice() {
        [m, "mons", d, "days", us, "microseconds"] => Some(crate::types::Interval {
            months: m.parse().ok()?,
            days: d.parse().ok()?,
            micros: us.parse().ok()?,
        }),
        _ => None,
    }
}

/// What a layer above the engine knows of a table's SQL shape, so that a
/// dump carries it to PostgreSQL: `SERIAL` and `VARCHAR(n)` column types and
/// sequence positions. The SQL layer implements it (`heliosdb_sql::PgDumpHints`).
/// Our own `import` restores the same state from the dump's key-value pairs.
pub trait DumpHints {
    /// The type to write for `column` instead of the engine's type name.
    fn column_type(&self, table: &str, column: &str) -> Option<String>;
    /// Statements to write after the table's rows, e.g. `SELECT setval(…)`.
    /// Our `import` accepts only `SELECT setval(…)` here (as a no-op).
    ///
    /// # Errors
    /// Reading the state they describe failed.
    fn after_rows(&self, table: &str) -> Result<Vec<String>>;
}

/// `text` as a PostgreSQL string literal (for statements that hints write).
pub fn sql_string_literal(text: &str) -> String {
    literal(&Value::String(text.to_string()))
}

impl StorageEngine {
    /// Writes a decrypted logical dump of every table and key-value pair to
    /// `out`, one table at a time, `ROWS_PER_INSERT` rows per statement;
    /// `progress(rows_so_far)` is called as it goes. Memory stays bounded by
    /// one statement, not the database.
    ///
    /// # Errors
    /// Decryption errors (naming table and record), I/O errors.
    pub fn export_sql(
        &self,
        out: &mut dyn Write,
        progress: impl FnMut(u64),
    ) -> Result<ExportStats> {
        self.export_sql_with(out, progress, None)
    }

    /// [`StorageEngine::export_sql`] with what the SQL layer knows of the
    /// tables (serial columns, `VARCHAR(n)`, sequence positions).
    ///
    /// # Errors
    /// As [`StorageEngine::export_sql`], and the hints' own errors.
    pub fn export_sql_with(
        &self,
        out: &mut dyn Write,
        progress: impl FnMut(u64),
        hints: Option<&dyn DumpHints>,
    ) -> Result<ExportStats> {
        self.export_sql_opts(
            out,
            progress,
            &ExportOptions {
                hints,
                ..ExportOptions::default()
            },
        )
    }

    /// [`StorageEngine::export_sql_with`], and server users when
    /// `options.roles` has them (written first, as PostgreSQL's dumps do).
    ///
    /// # Errors
    /// As [`StorageEngine::export_sql_with`]; a verifier with characters no
    /// verifier has; a row or key-value pair too large for one statement
    /// ([`MAX_STATEMENT_BYTES`]).
    pub fn export_sql_opts(
        &self,
        out: &mut dyn Write,
        mut progress: impl FnMut(u64),
        options: &ExportOptions<'_>,
    ) -> Result<ExportStats> {
        let hints = options.hints;
        let mut stats = ExportStats::default();
        writeln!(
            out,
            "-- HeliosDB Nano logical dump (decrypted: keep it as safe as the key)"
        )?;
        writeln!(
            out,
            "-- format 1; replay with `heliosdb-nano import` (tables also load with psql -f)"
        )?;
        let marker = directive_marker()?;
        writeln!(out, "{DIRECTIVES_HEADER}{marker}")?;
        if !options.roles.is_empty() {
            writeln!(
                out,
                "\n-- server users (export --include-users): SCRAM verifiers, from which no \
                 login can be made, but a password can be guessed offline"
            )?;
        }
        for role in options.roles {
            let verifier_chars = |c: char| c.is_ascii_alphanumeric() || "+/=$:-".contains(c);
            if !role.verifier.chars().all(verifier_chars) {
                return Err(Error::Config(format!(
                    "the verifier of user {} is not in SCRAM text form",
                    ident(&role.name)
                )));
            }
            writeln!(
                out,
                "CREATE ROLE {} LOGIN PASSWORD '{}';",
                ident(&role.name),
                role.verifier
            )?;
            stats.roles += 1;
        }
        let tables = self.tables()?;
        let mut names: Vec<&String> = tables.keys().collect();
        names.sort();
        for name in names {
            let def = &tables[name];
            stats.tables += 1;
            writeln!(out)?;
            if def.own_key {
                writeln!(out, "--@{marker} own_key")?;
            }
            let cols: Vec<String> = def
                .schema
                .columns
                .iter()
                .map(|c| {
                    let t = hints
                        .and_then(|h| h.column_type(&def.name, &c.name))
                        .unwrap_or_else(|| type_name(c.data_type).to_string());
                    let mut s = format!("{} {t}", ident(&c.name));
                    if c.primary_key {
                        s.push_str(" PRIMARY KEY");
                    } else if !c.nullable {
                        s.push_str(" NOT NULL");
                    }
                    s
                })
                .collect();
            writeln!(
                out,
                "CREATE TABLE {} ({});",
                ident(&def.name),
                cols.join(", ")
            )?;
            let col_list = def
                .schema
                .columns
                .iter()
                .map(|c| ident(&c.name))
                .collect::<Vec<_>>()
                .join(", ");
            let mut batch: Vec<String> = Vec::with_capacity(ROWS_PER_INSERT);
            let mut batch_bytes = 0;
            let flush = |batch: &mut Vec<String>, out: &mut dyn Write| -> Result<()> {
                if !batch.is_empty() {
                    writeln!(
                        out,
                        "INSERT INTO {} ({col_list}) VALUES\n{};",
                        ident(&def.name),
                        batch.join(",\n")
                    )?;
                    batch.clear();
                }
                Ok(())
            };
            for item in self.store().scan_prefix(Cf::Rows, &def.id.to_be_bytes())? {
                let (_, bytes) = item.map_err(|e| crate::engine::relocate_row(e, &def.name))?;
                let t = Tuple::decode(&bytes)?;
                let row = format!(
                    "({})",
                    t.values.iter().map(literal).collect::<Vec<_>>().join(", ")
                );
                // Half the limit leaves the statement's own text room.
                if row.len() > MAX_STATEMENT_BYTES / 2 {
                    return Err(Error::Config(format!(
                        "a row of table {} is {} bytes as SQL, more than a dump statement \
                         may hold ({} bytes)",
                        ident(&def.name),
                        row.len(),
                        MAX_STATEMENT_BYTES / 2
                    )));
                }
                batch_bytes += row.len() + 2;
                batch.push(row);
                stats.rows += 1;
                if batch.len() == ROWS_PER_INSERT || batch_bytes >= INSERT_FLUSH_BYTES {
                    flush(&mut batch, out)?;
                    batch_bytes = 0;
                    progress(stats.rows);
                }
            }
            flush(&mut batch, out)?;
            if let Some(h) = hints {
                for st in h.after_rows(&def.name)? {
                    writeln!(out, "{st}")?;
                }
            }
            for index in &def.indexes {
                writeln!(
                    out,
                    "CREATE INDEX ON {} ({});",
                    ident(&def.name),
                    ident(&def.schema.columns[index.column].name)
                )?;
            }
        }
        let mut pairs = self.scan_prefix(&[])?;
        pairs.retain(|(k, _)| !k.starts_with(SERVER_KV_PREFIX));
        if !pairs.is_empty() {
            writeln!(out, "\n-- key-value pairs")?;
        }
        for (k, v) in pairs {
            if 2 * (k.len() + v.len()) + marker.len() + 8 > MAX_STATEMENT_BYTES {
                return Err(Error::Config(format!(
                    "a key-value pair of {} bytes is too large for a dump line ({} bytes as hex)",
                    k.len() + v.len(),
                    MAX_STATEMENT_BYTES
                )));
            }
            writeln!(out, "--@{marker} kv {} {}", hex::encode(k), hex::encode(v))?;
            stats.kv_pairs += 1;
        }
        progress(stats.rows);
        out.flush()?;
        Ok(stats)
    }
}

/// The header line that declares a dump's directive marker.
const DIRECTIVES_HEADER: &str = "-- heliosdb-directives ";

/// A fresh random marker for one dump's directives (128 bits, hex).
fn directive_marker() -> Result<String> {
    let mut bytes = [0u8; 16];
    heliosdb_crypto::fill_random(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Splits a dump into statements: (first line number, text) items and
/// directives, tracking `'…'` strings and `"…"` identifiers so a `;` or a
/// directive-looking line inside either ends nothing.
struct Statements<R> {
    input: R,
    line_no: u64,
    /// The marker the dump's header declared; `None` for older dumps,
    /// whose directives are bare `--@`.
    marker: Option<String>,
    /// A statement or directive was seen: a header can no longer declare
    /// a marker.
    started: bool,
}

enum Item {
    Sql(u64, String),
    Directive(u64, String),
    /// A `--@` line without this dump's marker: never obeyed.
    Foreign(u64),
}

fn too_long(line: u64, what: &str) -> Error {
    Error::Config(format!(
        "import failed at line {line}: {what} longer than {MAX_STATEMENT_BYTES} bytes \
         (the limit); not a dump this import reads"
    ))
}

impl<R: BufRead> Statements<R> {
    /// The next line without its `\n` or `\r\n`, as `BufRead::lines`
    /// gives it, but refusing a line over [`MAX_STATEMENT_BYTES`] before
    /// holding more of it; `None` at the end.
    fn next_line(&mut self) -> Option<Result<String>> {
        let mut buf = Vec::new();
        loop {
            let avail = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(e.into())),
            };
            if avail.is_empty() {
                break;
            }
            let (take, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if buf.len() + take > MAX_STATEMENT_BYTES + 2 {
                return Some(Err(too_long(self.line_no + 1, "a line")));
            }
            buf.extend_from_slice(&avail[..take]);
            self.input.consume(take);
            if done {
                break;
            }
        }
        if buf.is_empty() {
            return None;
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        Some(String::from_utf8(buf).map_err(|_| {
            Error::Config(format!(
                "import failed at line {}: not UTF-8",
                self.line_no + 1
            ))
        }))
    }
}

impl<R: BufRead> Iterator for Statements<R> {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Result<Item>> {
        let mut text = String::new();
        let mut start = 0;
        // The open quote character (`'` or `"`), if any.
        let (mut quote, mut escapes, mut prev): (Option<char>, bool, char) = (None, false, ' ');
        loop {
            let line = match self.next_line()? {
                Ok(l) => l,
                Err(e) => return Some(Err(e)),
            };
            self.line_no += 1;
            if text.len() + line.len() + 1 > MAX_STATEMENT_BYTES {
                return Some(Err(too_long(start, "a statement")));
            }
            if text.is_empty() && quote.is_none() {
                let t = line.trim();
                if let Some(m) = t.strip_prefix(DIRECTIVES_HEADER) {
                    if !self.started && self.marker.is_none() {
                        self.marker = Some(m.trim().to_string());
                        continue;
                    }
                    return Some(Err(Error::Config(format!(
                        "import failed at line {}: a second directives header (a dump \
                         pasted into another?)",
                        self.line_no
                    ))));
                }
                if let Some(d) = t.strip_prefix("--@") {
                    self.started = true;
                    let directive = match &self.marker {
                        None => Some(d.to_string()),
                        Some(m) => d
                            .strip_prefix(m.as_str())
                            .and_then(|rest| rest.strip_prefix(' '))
                            .map(|rest| match rest.strip_prefix("own_key") {
                                Some("") => "heliosdb own_key".to_string(),
                                _ => rest.to_string(),
                            }),
                    };
                    return Some(Ok(match directive {
                        Some(d) => Item::Directive(self.line_no, d),
                        None => Item::Foreign(self.line_no),
                    }));
                }
                if t.is_empty() || t.starts_with("--") {
                    continue;
                }
                self.started = true;
                start = self.line_no;
            }
            let mut chars = line.chars().peekable();
            let mut ends = false;
            while let Some(c) = chars.next() {
                if let Some(q) = quote {
                    if q == '\'' && escapes && c == '\\' {
                        chars.next();
                    } else if c == q {
                        // A doubled quote is the quote character itself.
                        if chars.peek() == Some(&q) {
                            chars.next();
                        } else {
                            quote = None;
                        }
                    }
                } else if c == '\'' || c == '"' {
                    quote = Some(c);
                    escapes = c == '\'' && (prev == 'E' || prev == 'e');
                } else if c == '-' && chars.peek() == Some(&'-') {
                    break; // comment to end of line
                } else if c == ';' {
                    ends = true;
                }
                prev = c;
            }
            text.push_str(&line);
            text.push('\n');
            if ends && quote.is_none() {
                return Some(Ok(Item::Sql(start, text)));
            }
        }
    }
}

fn parse_type(t: &str) -> Option<DataType> {
    let t = t.to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    Some(match base {
        "BOOLEAN" | "BOOL" => DataType::Bool,
        "SMALLINT" | "INT2" | "SMALLSERIAL" | "SERIAL2" => DataType::Int2,
        "INTEGER" | "INT" | "INT4" | "SERIAL" => DataType::Int4,
        "BIGINT" | "INT8" | "BIGSERIAL" | "SERIAL8" => DataType::Int8,
        "DOUBLE PRECISION" | "FLOAT8" | "DOUBLE" | "FLOAT" => DataType::Float8,
        "REAL" | "FLOAT4" => DataType::Float4,
        "NUMERIC" | "DECIMAL" => DataType::Numeric,
        "TEXT" | "VARCHAR" | "CHARACTER VARYING" | "CHAR" | "CHARACTER" | "STRING" => {
            DataType::Text
        }
        "BYTEA" => DataType::Bytes,
        "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" | "DATETIME" => DataType::Timestamp,
        "DATE" => DataType::Date,
        "TIME" | "TIME WITHOUT TIME ZONE" => DataType::Time,
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => DataType::TimestampTz,
        "INTERVAL" => DataType::Interval,
        "UUID" => DataType::Uuid,
        _ => return None,
    })
}

fn expr_value(e: &Expr, t: DataType) -> std::result::Result<Value, String> {
    let (neg, inner) = match e {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => (true, expr.as_ref()),
        other => (false, other),
    };
    let text = match inner {
        Expr::Value(SqlValue::Null) => return Ok(Value::Null),
        Expr::Value(SqlValue::Boolean(b)) => return Ok(Value::Bool(*b)),
        Expr::Value(SqlValue::Number(n, _)) => n.to_string(),
        Expr::Value(SqlValue::SingleQuotedString(s))
        | Expr::Value(SqlValue::EscapedStringLiteral(s)) => s.clone(),
        other => return Err(format!("unsupported value {other}")),
    };
    let num = if neg {
        format!("-{text}")
    } else {
        text.clone()
    };
    let bad = |what: &str| format!("{text:?} is not a valid {what}");
    Ok(match t {
        DataType::Bool => match text.to_ascii_lowercase().as_str() {
            "t" | "true" | "1" => Value::Bool(true),
            "f" | "false" | "0" => Value::Bool(false),
            _ => return Err(bad("boolean")),
        },
        DataType::Int2 => Value::Int2(num.parse().map_err(|_| bad("SMALLINT"))?),
        DataType::Int4 => Value::Int4(num.parse().map_err(|_| bad("INTEGER"))?),
        DataType::Int8 => Value::Int8(num.parse().map_err(|_| bad("BIGINT"))?),
        DataType::Float8 => Value::Float8(match text.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => num.parse().map_err(|_| bad("DOUBLE PRECISION"))?,
        }),
        DataType::Float4 => Value::Float4(match text.as_str() {
            "NaN" => f32::NAN,
            "Infinity" => f32::INFINITY,
            "-Infinity" => f32::NEG_INFINITY,
            _ => num.parse().map_err(|_| bad("REAL"))?,
        }),
        DataType::Numeric => Value::Numeric(Decimal::from_str(&num).map_err(|_| bad("NUMERIC"))?),
        DataType::Text => Value::String(text),
        DataType::Bytes => Value::Bytes(
            text.strip_prefix("\\x")
                .and_then(|h| hex::decode(h).ok())
                .ok_or_else(|| bad("BYTEA (\\x hex)"))?,
        ),
        DataType::Timestamp => {
            let t = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
                .map_err(|_| bad("TIMESTAMP"))?;
            Value::Timestamp(Utc.from_utc_datetime(&t))
        }
        DataType::TimestampTz => {
            let t = text
                .strip_suffix("+00")
                .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").ok())
                .ok_or_else(|| bad("TIMESTAMPTZ (UTC, +00)"))?;
            Value::TimestampTz(Utc.from_utc_datetime(&t))
        }
        DataType::Date => Value::Date(date_from_literal(&text).ok_or_else(|| bad("DATE"))?),
        DataType::Time => Value::Time(
            chrono::NaiveTime::parse_from_str(&text, "%H:%M:%S%.f").map_err(|_| bad("TIME"))?,
        ),
        DataType::Interval => {
            Value::Interval(interval_from_literal(&text).ok_or_else(|| bad("INTERVAL"))?)
        }
        DataType::Uuid => {
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            if hex.len() != 32 {
                return Err(bad("UUID"));
            }
            Value::Uuid(u128::from_str_radix(&hex, 16).map_err(|_| bad("UUID"))?)
        }
    })
}

/// Replays a dump made by [`StorageEngine::export_sql`] (or plain SQL of the
/// same shape: CREATE TABLE, CREATE INDEX, INSERT … VALUES) into `engine`.
/// Stops at the first bad statement with its line number, unless
/// `continue_on_error`, which skips it and goes on.
///
/// # Errors
/// `import failed at line N: …`; I/O errors.
pub fn import_sql(
    engine: &StorageEngine,
    input: impl BufRead,
    continue_on_error: bool,
    progress: impl FnMut(u64),
) -> Result<ImportStats> {
    import_sql_with(
        engine,
        input,
        &ImportOptions {
            continue_on_error,
            roles: None,
        },
        progress,
    )
}

/// [`import_sql`] with [`ImportOptions`]: server users through
/// `options.roles`.
///
/// # Errors
/// As [`import_sql`]; a line or statement over [`MAX_STATEMENT_BYTES`]
/// ends the import whatever `continue_on_error` says.
pub fn import_sql_with(
    engine: &StorageEngine,
    input: impl BufRead,
    options: &ImportOptions<'_>,
    mut progress: impl FnMut(u64),
) -> Result<ImportStats> {
    let continue_on_error = options.continue_on_error;
    let mut stats = ImportStats::default();
    let mut own_key_next = false;
    let statements = Statements {
        input,
        line_no: 0,
        marker: None,
        started: false,
    };
    for item in statements {
        let outcome = match item? {
            Item::Directive(line, d) => (
                line,
                apply_directive(engine, &d, options, &mut own_key_next, &mut stats),
            ),
            Item::Sql(line, text) => (
                line,
                apply_sql(engine, &text, options, &mut own_key_next, &mut stats),
            ),
            Item::Foreign(line) => (
                line,
                Err("a --@ directive without this dump's marker; not obeyed".to_string()),
            ),
        };
        if let (line, Err(e)) = outcome {
            if continue_on_error {
                stats.skipped.push((line, e.clone()));
                continue;
            }
            return Err(Error::Config(format!("import failed at line {line}: {e}")));
        }
        progress(stats.rows);
    }
    Ok(stats)
}

fn apply_directive(
    engine: &StorageEngine,
    d: &str,
    options: &ImportOptions<'_>,
    own_key_next: &mut bool,
    stats: &mut ImportStats,
) -> std::result::Result<(), String> {
    let mut parts = d.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some("heliosdb"), Some("own_key"), None) => {
            *own_key_next = true;
            Ok(())
        }
        (Some("kv"), Some(k), Some(v)) => {
            let k = hex::decode(k).map_err(|_| "key-value key is not hex".to_string())?;
            let v = hex::decode(v).map_err(|_| "key-value value is not hex".to_string())?;
            if k.starts_with(SERVER_KV_PREFIX) && options.roles.is_none() {
                return Err(NO_USERS.into());
            }
            engine.put(&k, &v).map_err(|e| e.to_string())?;
            stats.kv_pairs += 1;
            Ok(())
        }
        _ => Err(format!("unknown directive --@{d}")),
    }
}

/// Why a dump's server users are not imported by default.
const NO_USERS: &str = "the dump holds server users; they are imported only with --include-users";

/// Refuses, from its tokens, a statement nested or chained past
/// [`MAX_NESTING`] / [`MAX_CHAIN`] (see the module's notes).
fn check_shape(tokens: &[Token]) -> std::result::Result<(), String> {
    // Operators since the last comma, one entry per open parenthesis.
    let mut chains = vec![0usize];
    for t in tokens {
        match t {
            Token::LParen | Token::LBracket | Token::LBrace => {
                if chains.len() > MAX_NESTING {
                    return Err(format!(
                        "statement nested deeper than {MAX_NESTING} parentheses (the limit)"
                    ));
                }
                chains.push(0);
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                if chains.len() > 1 {
                    chains.pop();
                }
            }
            Token::Comma | Token::SemiColon => {
                if let Some(c) = chains.last_mut() {
                    *c = 0;
                }
            }
            Token::Whitespace(_)
            | Token::Number(..)
            | Token::Char(_)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::EscapedStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::Placeholder(_)
            | Token::EOF => {}
            Token::Word(w)
                if !matches!(
                    w.keyword,
                    Keyword::AND | Keyword::OR | Keyword::NOT | Keyword::IS | Keyword::CASE
                ) => {}
            _ => {
                let c = chains.last_mut().map_or(0, |c| {
                    *c += 1;
                    *c
                });
                if c > MAX_CHAIN {
                    return Err(format!(
                        "statement chains more than {MAX_CHAIN} operators (the limit)"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Tokenizes, checks the shape, then parses.
fn parse_dump_sql(text: &str) -> std::result::Result<Vec<Statement>, String> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize()
        .map_err(|e| format!("syntax error: {e}"))?;
    check_shape(&tokens)?;
    Parser::new(&dialect)
        .with_tokens(tokens)
        .parse_statements()
        .map_err(|e| format!("syntax error: {e}"))
}

fn apply_sql(
    engine: &StorageEngine,
    text: &str,
    options: &ImportOptions<'_>,
    own_key_next: &mut bool,
    stats: &mut ImportStats,
) -> std::result::Result<(), String> {
    let statements = parse_dump_sql(text)?;
    for st in statements {
        match st {
            Statement::CreateRole {
                names,
                login,
                password,
                ..
            } => {
                let hook = options.roles.ok_or(NO_USERS)?;
                let [name] = names.as_slice() else {
                    return Err("CREATE ROLE: one role per statement".into());
                };
                let name = name.0.last().map(|i| i.value.clone()).unwrap_or_default();
                let Some(Password::Password(Expr::Value(SqlValue::SingleQuotedString(verifier)))) =
                    password
                else {
                    return Err(format!(
                        "CREATE ROLE {}: a server user needs PASSWORD 'SCRAM-SHA-256$…'",
                        ident(&name)
                    ));
                };
                if login == Some(false) {
                    return Err(format!(
                        "CREATE ROLE {}: NOLOGIN roles are not server users",
                        ident(&name)
                    ));
                }
                hook(&name, &verifier).map_err(|e| format!("CREATE ROLE {}: {e}", ident(&name)))?;
                stats.roles += 1;
            }
            Statement::CreateTable(ct) => {
                let mut columns = Vec::new();
                let table_pk: Vec<String> = ct
                    .constraints
                    .iter()
                    .filter_map(|c| {
                        let s = c.to_string();
                        let upper = s.to_ascii_uppercase();
                        let at = upper.find("PRIMARY KEY")?;
                        let inner = s[at..].split_once('(')?.1.split_once(')')?.0.to_string();
                        Some(
                            inner
                                .split(',')
                                .map(|x| x.trim().trim_matches('"').to_string())
                                .collect::<Vec<_>>(),
                        )
                    })
                    .flatten()
                    .collect();
                for c in &ct.columns {
                    let t = parse_type(&c.data_type.to_string())
                        .ok_or_else(|| format!("unsupported column type {}", c.data_type))?;
                    let mut col = Column::new(c.name.value.clone(), t);
                    let opts = c
                        .options
                        .iter()
                        .map(|o| o.option.to_string().to_ascii_uppercase())
                        .collect::<Vec<_>>();
                    if opts.iter().any(|o| o.contains("PRIMARY KEY"))
                        || table_pk.contains(&c.name.value)
                    {
                        col = col.primary_key();
                    } else if opts.iter().any(|o| o == "NOT NULL") {
                        col = col.not_null();
                    }
                    columns.push(col);
                }
                let name = ct
                    .name
                    .0
                    .last()
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                let r = if std::mem::take(own_key_next) {
                    engine
                        .catalog()
                        .create_table_with_own_key(&name, Schema::new(columns))
                } else {
                    engine.catalog().create_table(&name, Schema::new(columns))
                };
                r.map_err(|e| e.to_string())?;
            }
            Statement::CreateIndex(ci) => {
                let table = ci
                    .table_name
                    .0
                    .last()
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                let [col] = ci.columns.as_slice() else {
                    return Err("only single-column indexes are supported".into());
                };
                let col = col.expr.to_string().trim_matches('"').to_string();
                engine
                    .catalog()
                    .create_index(&table, &col)
                    .map_err(|e| e.to_string())?;
            }
            Statement::Insert(ins) => {
                let table = ins
                    .table_name
                    .0
                    .last()
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                let schema = engine
                    .catalog()
                    .get_table_schema(&table)
                    .map_err(|e| e.to_string())?;
                let order: Vec<usize> = if ins.columns.is_empty() {
                    (0..schema.columns.len()).collect()
                } else {
                    ins.columns
                        .iter()
                        .map(|c| {
                            schema
                                .column_index(&c.value)
                                .ok_or_else(|| format!("no column {} in {table}", c.value))
                        })
                        .collect::<std::result::Result<_, _>>()?
                };
                let Some(query) = ins.source else {
                    return Err("INSERT without VALUES".into());
                };
                let SetExpr::Values(values) = *query.body else {
                    return Err("only INSERT … VALUES is supported".into());
                };
                let mut tuples = Vec::with_capacity(values.rows.len());
                for row in values.rows {
                    if row.len() != order.len() {
                        return Err(format!("{} values for {} columns", row.len(), order.len()));
                    }
                    let mut vals = vec![Value::Null; schema.columns.len()];
                    for (e, &i) in row.iter().zip(&order) {
                        vals[i] = expr_value(e, schema.columns[i].data_type)?;
                    }
                    tuples.push(Tuple::new(vals));
                }
                stats.rows += tuples.len() as u64;
                engine
                    .insert_batch(&table, tuples)
                    .map_err(|e| e.to_string())?;
            }
            // Sequence positions for PostgreSQL (written by `DumpHints`);
            // here they arrive with the key-value pairs instead.
            Statement::Query(q) if is_setval(&q) => {}
            other => {
                return Err(format!(
                    "unsupported statement in a dump: {}",
                    other.to_string().chars().take(60).collect::<String>()
                ))
            }
        }
        stats.statements += 1;
    }
    Ok(())
}

/// Whether `q` is `SELECT setval(…)` / `SELECT pg_catalog.setval(…)` alone.
fn is_setval(q: &sqlparser::ast::Query) -> bool {
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return false;
    };
    sel.from.is_empty()
        && sel.projection.len() == 1
        && matches!(&sel.projection[0],
            sqlparser::ast::SelectItem::UnnamedExpr(Expr::Function(f))
                if f.name.0.last().is_some_and(|i| i.value.eq_ignore_ascii_case("setval")))
}

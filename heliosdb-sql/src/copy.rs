//! `COPY … FROM STDIN` and `COPY … TO STDOUT` in PostgreSQL's text and CSV
//! formats, and the other statements the server answers itself rather than
//! through [`Session::execute`] (`DEALLOCATE`, `DISCARD`): their parsing,
//! PostgreSQL's escaping rules, and the two data paths.
//!
//! COPY FROM is atomic and streamed: rows are decoded as the client's data
//! arrives and inserted in batches of at most [`BATCH_ROWS`] rows (or
//! [`BATCH_BYTES`] of input), each batch one parameterised `INSERT` through
//! GlueSQL (so defaults, SERIAL columns, NOT NULL, UNIQUE and VARCHAR limits
//! are enforced as for any INSERT), all inside one engine transaction — the
//! client's, when it has one open. Memory is bounded by one batch plus one
//! incomplete record. COPY TO streams a table's rows from the engine scan in
//! chunks; `COPY (query) TO` runs the query as a statement of the session.
//!
//! Errors carry PostgreSQL's SQLSTATE and its `CONTEXT` line (`COPY t, line
//! 3, column a: "x"`), which [`SqlError`] has no room for: hence
//! [`CopyError`].

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use gluesql_core::executor::execute;
use gluesql_core::prelude::{translate_with_params, ParamLiteral};
use gluesql_core::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, DiscardObject, Expr,
    Ident, ObjectName, SetExpr, Statement, Value as SqlValue,
};
use gluesql_core::sqlparser::dialect::PostgreSqlDialect;
use gluesql_core::sqlparser::keywords::Keyword;
use gluesql_core::sqlparser::parser::{Parser, ParserError};
use gluesql_core::sqlparser::tokenizer::{Token, TokenWithLocation, Tokenizer};
use gluesql_core::store::Planner;
use heliosdb_core::audit::{self, AuditEvent, EventType};
use heliosdb_core::{DataType, Value};
use rust_decimal::Decimal;

use crate::convert::engine_to_key;
use crate::store::{EngineStore, SqlShared, StmtKind, TableInfo};
use crate::{limits, pg_type_name, text_of, QueryResult, Session, SqlError};

/// Rows per INSERT batch of a COPY FROM.
pub const BATCH_ROWS: usize = 1000;
/// Input bytes after which a batch is inserted even if it has fewer rows.
pub const BATCH_BYTES: usize = 1 << 20;
/// Longest record (line) COPY FROM accepts: the largest message the
/// server's protocol decoder accepts (pgwire's limit, PostgreSQL's 1 GiB),
/// so COPY admits no value an INSERT could not carry.
pub const MAX_RECORD: usize = 0x3fff_fffe;
/// Rows per chunk handed to the sender by COPY TO.
pub const OUT_CHUNK_ROWS: usize = 256;
/// How much of a line an error's CONTEXT quotes (PostgreSQL's limit).
const MAX_DISPLAY: usize = 100;

/// A COPY error: an SQL error, or a data error with its own SQLSTATE, plus
/// PostgreSQL's `CONTEXT` (which line, which column).
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct CopyError {
    /// What went wrong.
    pub kind: CopyErrorKind,
    /// PostgreSQL's CONTEXT field, e.g. `COPY t, line 3, column a: "x"`.
    pub context: Option<String>,
}

/// What went wrong in a COPY.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyErrorKind {
    /// An error of the SQL layer (its SQLSTATE is the server's mapping).
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// Bad input or options, with PostgreSQL's SQLSTATE.
    #[error("{message}")]
    Data {
        /// SQLSTATE, e.g. `22P02`.
        code: &'static str,
        /// PostgreSQL's message.
        message: String,
        /// PostgreSQL's DETAIL, if any.
        detail: Option<String>,
    },
}

impl CopyError {
    fn data(code: &'static str, message: impl Into<String>) -> Self {
        CopyError {
            kind: CopyErrorKind::Data {
                code,
                message: message.into(),
                detail: None,
            },
            context: None,
        }
    }

    fn with_detail(mut self, d: String) -> Self {
        if let CopyErrorKind::Data { detail, .. } = &mut self.kind {
            *detail = Some(d);
        }
        self
    }

    fn with_context(mut self, c: String) -> Self {
        self.context.get_or_insert(c);
        self
    }
}

impl From<SqlError> for CopyError {
    fn from(e: SqlError) -> Self {
        CopyError {
            kind: CopyErrorKind::Sql(e),
            context: None,
        }
    }
}

impl From<heliosdb_core::Error> for CopyError {
    fn from(e: heliosdb_core::Error) -> Self {
        SqlError::from(e).into()
    }
}

/// Result of COPY operations.
pub type CopyResult<T> = std::result::Result<T, CopyError>;

/// A statement the server answers itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerStatement {
    /// `COPY`.
    Copy(CopyCommand),
    /// `DEALLOCATE [PREPARE] name` (`Some`) or `… ALL` (`None`).
    Deallocate(Option<String>),
    /// `DISCARD ALL` (`true`) or `DISCARD PLANS|SEQUENCES|TEMP` (no-ops
    /// here: no plan cache, no sequence cache, no temporary tables); the
    /// command tag.
    Discard {
        /// Whether it is `DISCARD ALL`.
        all: bool,
        /// PostgreSQL's command tag.
        tag: String,
    },
}

/// Where COPY reads or writes rows.
#[derive(Clone, Debug, PartialEq, Eq)]
enum CopySourceSpec {
    Table { name: String, columns: Vec<String> },
    Query(String),
}

/// A parsed `COPY` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyCommand {
    source: CopySourceSpec,
    /// `FROM STDIN` (else `TO STDOUT`).
    pub from: bool,
    options: CopyFormat,
}

/// Format options of a COPY.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CopyFormat {
    csv: bool,
    header: bool,
    delimiter: u8,
    null: String,
    quote: u8,
    escape: u8,
    force_quote: Vec<String>,
    force_not_null: Vec<String>,
    force_null: Vec<String>,
}

fn bad_option(msg: impl Into<String>) -> CopyError {
    CopyError::data("22023", msg)
}

fn one_byte(c: char, what: &str) -> CopyResult<u8> {
    u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
        CopyError::data(
            "0A000",
            format!("COPY {what} must be a single one-byte character"),
        )
    })
}

/// Whether the first word of `sql` makes it a statement the server answers
/// itself; parses it if so. `Ok(None)` for every other statement.
///
/// # Errors
/// Syntax errors, unsupported forms (COPY to or from a server file, BINARY,
/// several statements in one string), invalid options.
pub fn server_statement(sql: &str) -> CopyResult<Option<ServerStatement>> {
    let dialect = PostgreSqlDialect {};
    // Cheap test first: most statements are not ours.
    let first = sql
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if !matches!(first.as_str(), "COPY" | "DEALLOCATE" | "DISCARD") {
        return Ok(None);
    }
    let mut tokens = Tokenizer::new(&dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| SqlError::Syntax(e.to_string()))?;
    let depth = limits::expression_depth(&tokens);
    if depth > limits::MAX_EXPRESSION_DEPTH {
        return Err(SqlError::TooComplex(format!(
            "expressions nest about {depth} levels deep; the limit is {}",
            limits::MAX_EXPRESSION_DEPTH
        ))
        .into());
    }
    // One statement only: what follows its `;` must be blank.
    if let Some(semi) = tokens.iter().position(|t| t.token == Token::SemiColon) {
        let rest_blank = tokens[semi + 1..]
            .iter()
            .all(|t| matches!(t.token, Token::Whitespace(_) | Token::EOF));
        if !rest_blank {
            return Err(CopyError::data(
                "0A000",
                format!("{first} must be the only statement in its query string"),
            ));
        }
        tokens.truncate(semi);
    }
    if first == "COPY" {
        // PostgreSQL's boolean option values ON / OFF (`WITH (FREEZE ON)`,
        // as `pgbench -i` sends it): sqlparser takes only TRUE / FALSE.
        let mut boolean_option = false;
        for t in &mut tokens {
            if let Token::Whitespace(_) = t.token {
                continue;
            }
            if let Token::Word(w) = &t.token {
                if boolean_option
                    && (w.value.eq_ignore_ascii_case("on") || w.value.eq_ignore_ascii_case("off"))
                {
                    let value = if w.value.eq_ignore_ascii_case("on") {
                        "TRUE"
                    } else {
                        "FALSE"
                    };
                    t.token = Token::make_keyword(value);
                    boolean_option = false;
                    continue;
                }
            }
            boolean_option = matches!(&t.token, Token::Word(w)
                if matches!(w.keyword, Keyword::FREEZE | Keyword::HEADER));
        }
    }
    let stdin = first == "COPY"
        && tokens
            .iter()
            .any(|t| matches!(&t.token, Token::Word(w) if w.keyword == Keyword::STDIN));
    if stdin {
        // sqlparser reads inline data after `COPY … FROM STDIN;`: give it none.
        tokens.push(TokenWithLocation::wrap(Token::SemiColon));
    }
    limits::fold_identifiers(&mut tokens);
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(limits::MAX_PARSER_RECURSION)
        .with_tokens_with_locations(tokens);
    let stmt = parser.parse_statement().map_err(|e| match e {
        ParserError::RecursionLimitExceeded => SqlError::TooComplex(format!(
            "nesting exceeds the limit of {} levels",
            limits::MAX_PARSER_RECURSION
        )),
        other => SqlError::Syntax(other.to_string()),
    })?;
    if parser.peek_token().token != Token::EOF {
        return Err(SqlError::Syntax(format!(
            "unexpected {} after the statement",
            parser.peek_token().token
        ))
        .into());
    }
    Ok(Some(match stmt {
        Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            ..
        } => ServerStatement::Copy(copy_command(source, to, target, options, legacy_options)?),
        Statement::Deallocate { name, .. } => {
            let all = name.quote_style.is_none() && name.value.eq_ignore_ascii_case("all");
            ServerStatement::Deallocate((!all).then_some(name.value))
        }
        Statement::Discard { object_type } => ServerStatement::Discard {
            all: object_type == DiscardObject::ALL,
            tag: format!("DISCARD {object_type}"),
        },
        other => {
            return Err(SqlError::Unsupported(format!("unsupported statement: {other}")).into())
        }
    }))
}

fn copy_command(
    source: CopySource,
    to: bool,
    target: CopyTarget,
    options: Vec<CopyOption>,
    legacy: Vec<CopyLegacyOption>,
) -> CopyResult<CopyCommand> {
    match (&target, to) {
        (CopyTarget::Stdin, false) | (CopyTarget::Stdout, true) => {}
        (CopyTarget::Stdin, true) | (CopyTarget::Stdout, false) => {
            return Err(SqlError::Syntax(format!(
                "COPY {} STDIN/STDOUT: use FROM STDIN or TO STDOUT",
                if to { "TO" } else { "FROM" }
            ))
            .into())
        }
        _ => {
            return Err(CopyError {
                kind: CopyErrorKind::Data {
                    code: "42501",
                    message: format!(
                        "COPY {} a file or program is not allowed on this server",
                        if to { "to" } else { "from" }
                    ),
                    detail: Some(
                        "Anyone can COPY to stdout or from stdin. psql's \\copy command also \
                         works for anyone."
                            .into(),
                    ),
                },
                context: None,
            })
        }
    }
    let source = match source {
        CopySource::Table {
            table_name,
            columns,
        } => CopySourceSpec::Table {
            name: last_name(&table_name),
            columns: columns.into_iter().map(|c| c.value).collect(),
        },
        CopySource::Query(q) => CopySourceSpec::Query(q.to_string()),
    };
    let mut f = CopyFormat {
        csv: false,
        header: false,
        delimiter: 0,
        null: String::new(),
        quote: b'"',
        escape: 0,
        force_quote: Vec::new(),
        force_not_null: Vec::new(),
        force_null: Vec::new(),
    };
    let mut delimiter = None;
    let mut null = None;
    let mut escape = None;
    let idents = |v: Vec<Ident>| v.into_iter().map(|i| i.value).collect::<Vec<_>>();
    for o in options {
        match o {
            CopyOption::Format(name) => match name.value.to_ascii_lowercase().as_str() {
                "text" => f.csv = false,
                "csv" => f.csv = true,
                "binary" => return Err(binary_unsupported()),
                other => {
                    return Err(bad_option(format!(
                        "COPY format \"{other}\" not recognized"
                    )))
                }
            },
            CopyOption::Freeze(_) => {}
            CopyOption::Delimiter(c) => delimiter = Some(one_byte(c, "delimiter")?),
            CopyOption::Null(s) => null = Some(s),
            CopyOption::Header(h) => f.header = h,
            CopyOption::Quote(c) => f.quote = one_byte(c, "quote")?,
            CopyOption::Escape(c) => escape = Some(one_byte(c, "escape")?),
            CopyOption::ForceQuote(c) => f.force_quote = idents(c),
            CopyOption::ForceNotNull(c) => f.force_not_null = idents(c),
            CopyOption::ForceNull(c) => f.force_null = idents(c),
            CopyOption::Encoding(e) => {
                let e = e.to_ascii_lowercase().replace(['-', '_'], "");
                if e != "utf8" && e != "unicode" {
                    return Err(CopyError::data(
                        "0A000",
                        "COPY ENCODING other than UTF8 is not supported",
                    ));
                }
            }
        }
    }
    for o in legacy {
        match o {
            CopyLegacyOption::Binary => return Err(binary_unsupported()),
            CopyLegacyOption::Delimiter(c) => delimiter = Some(one_byte(c, "delimiter")?),
            CopyLegacyOption::Null(s) => null = Some(s),
            CopyLegacyOption::Csv(opts) => {
                f.csv = true;
                for o in opts {
                    match o {
                        CopyLegacyCsvOption::Header => f.header = true,
                        CopyLegacyCsvOption::Quote(c) => f.quote = one_byte(c, "quote")?,
                        CopyLegacyCsvOption::Escape(c) => escape = Some(one_byte(c, "escape")?),
                        CopyLegacyCsvOption::ForceNotNull(c) => f.force_not_null = idents(c),
                        CopyLegacyCsvOption::ForceQuote(c) => f.force_quote = idents(c),
                    }
                }
            }
        }
    }
    f.delimiter = delimiter.unwrap_or(if f.csv { b',' } else { b'\t' });
    f.null = null.unwrap_or_else(|| if f.csv { String::new() } else { "\\N".into() });
    f.escape = escape.unwrap_or(f.quote);
    // PostgreSQL's checks of the options (copy.c ProcessCopyOptions).
    if matches!(f.delimiter, b'\r' | b'\n') {
        return Err(bad_option(
            "COPY delimiter cannot be newline or carriage return",
        ));
    }
    if f.null.contains(['\r', '\n']) {
        return Err(bad_option(
            "COPY null representation cannot use newline or carriage return",
        ));
    }
    if !f.csv
        && (f.delimiter == b'\\' || f.delimiter.is_ascii_alphanumeric() || f.delimiter == b'.')
    {
        return Err(bad_option(format!(
            "COPY delimiter cannot be \"{}\"",
            char::from(f.delimiter)
        )));
    }
    if f.csv && f.delimiter == f.quote {
        return Err(bad_option("COPY delimiter and quote must be different"));
    }
    if f.csv && f.null.as_bytes().contains(&f.delimiter) {
        return Err(bad_option(
            "COPY delimiter character must not appear in the NULL specification",
        ));
    }
    if !f.csv
        && (!f.force_quote.is_empty() || !f.force_not_null.is_empty() || !f.force_null.is_empty())
    {
        return Err(CopyError::data(
            "0A000",
            "COPY FORCE_QUOTE, FORCE_NOT_NULL and FORCE_NULL are available only in CSV mode",
        ));
    }
    if !to && !f.force_quote.is_empty() {
        return Err(CopyError::data(
            "0A000",
            "COPY FORCE_QUOTE cannot be used with COPY FROM",
        ));
    }
    if to && (!f.force_not_null.is_empty() || !f.force_null.is_empty()) {
        return Err(CopyError::data(
            "0A000",
            "COPY FORCE_NOT_NULL and FORCE_NULL cannot be used with COPY TO",
        ));
    }
    Ok(CopyCommand {
        source,
        from: !to,
        options: f,
    })
}

fn binary_unsupported() -> CopyError {
    CopyError::data(
        "0A000",
        "COPY in binary format is not supported; use FORMAT text or FORMAT csv",
    )
}

fn last_name(name: &ObjectName) -> String {
    name.0.last().map(|i| i.value.clone()).unwrap_or_default()
}

/// The session's table named `name` (exactly, else the only case-insensitive match).
fn find_table(session: &Session<'_>, name: &str) -> CopyResult<Arc<TableInfo>> {
    let tables = session.tables()?;
    if let Some(t) = tables.get(name) {
        return Ok(t.clone());
    }
    let mut matches = tables
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v);
    match (matches.next(), matches.next()) {
        (Some(t), None) => Ok(t.clone()),
        _ => Err(CopyError::data(
            "42P01",
            format!("relation \"{name}\" does not exist"),
        )),
    }
}

/// Positions of the named columns (all visible columns when none are named).
fn column_positions(info: &TableInfo, names: &[String]) -> CopyResult<Vec<usize>> {
    if names.is_empty() {
        return Ok((0..info.visible_len()).collect());
    }
    let table = &info.meta.schema.table_name;
    let mut out: Vec<usize> = Vec::with_capacity(names.len());
    for n in names {
        let pos = info
            .columns()
            .position(|c| c.name == *n)
            .or_else(|| info.columns().position(|c| c.name.eq_ignore_ascii_case(n)))
            .ok_or_else(|| {
                CopyError::data(
                    "42703",
                    format!("column \"{n}\" of relation \"{table}\" does not exist"),
                )
            })?;
        if out.contains(&pos) {
            return Err(CopyError::data(
                "42701",
                format!("column \"{n}\" specified more than once"),
            ));
        }
        out.push(pos);
    }
    Ok(out)
}

fn aborted() -> CopyError {
    SqlError::Transaction(
        "current transaction is aborted, commands ignored until end of transaction block".into(),
    )
    .into()
}

/// Checks that a COPY's table and columns exist, without running it (for
/// the extended protocol's Parse, so a client learns of them before it
/// starts sending data).
///
/// # Errors
/// Unknown table or column.
pub fn check(session: &Session<'_>, cmd: &CopyCommand) -> CopyResult<()> {
    if let CopySourceSpec::Table { name, columns } = &cmd.source {
        let info = find_table(session, name)?;
        column_positions(&info, columns)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// COPY FROM

/// A COPY FROM in progress: the decoder state, the pending batch, and
/// whether the COPY opened the engine transaction (autocommit) or joined
/// the client's.
#[derive(Debug)]
pub struct CopyIn {
    info: Arc<TableInfo>,
    table: String,
    /// Target column per field.
    positions: Vec<usize>,
    /// Per field: name, type, NOT NULL, VARCHAR limit, FORCE_NOT_NULL, FORCE_NULL.
    fields: Vec<FieldSpec>,
    format: CopyFormat,
    /// The INSERT of a full batch (placeholders), built once.
    full_batch: Option<Statement>,
    /// Unprocessed input: at most one incomplete record after each feed.
    buf: Vec<u8>,
    /// How far the scan for the end of the record at the start of `buf`
    /// has got, and its state there (so a long record is scanned once).
    scanned: usize,
    in_quotes: bool,
    escaped: bool,
    /// Records seen (PostgreSQL's line number of the current record).
    line: u64,
    /// Rows decoded and not yet inserted, with their line numbers.
    pending: Vec<Vec<Value>>,
    pending_lines: Vec<u64>,
    pending_bytes: usize,
    /// Rows inserted so far.
    rows: u64,
    /// The end-of-data marker `\.` was seen: the rest is ignored.
    ended: bool,
    /// This COPY began the engine transaction (and commits it).
    own_txn: bool,
    deadline: Option<Instant>,
    /// The primary key's field, when the client supplies it.
    pk_field: Option<usize>,
}

#[derive(Debug)]
struct FieldSpec {
    name: String,
    data_type: DataType,
    not_null: bool,
    varchar: Option<u64>,
    force_not_null: bool,
    force_null: bool,
}

impl CopyIn {
    /// Starts `COPY … FROM STDIN`: resolves the table and columns and opens
    /// the engine transaction unless the session has one (which it then
    /// joins). Returns the state and the number of columns.
    ///
    /// # Errors
    /// Unknown table or column; an aborted transaction; a COPY (query).
    pub fn start(session: &Session<'_>, cmd: &CopyCommand) -> CopyResult<CopyIn> {
        if session.is_failed() && session.in_transaction() {
            return Err(aborted());
        }
        session.check_writable_for("COPY FROM")?;
        let CopySourceSpec::Table { name, columns } = &cmd.source else {
            return Err(SqlError::Syntax(
                "COPY FROM does not support a query as its source".into(),
            )
            .into());
        };
        let info = find_table(session, name)?;
        let positions = column_positions(&info, columns)?;
        let f = &cmd.options;
        let table = info.meta.schema.table_name.clone();
        let fields = positions
            .iter()
            .map(|&p| {
                let c = &info.engine.columns[p];
                FieldSpec {
                    name: c.name.clone(),
                    data_type: c.data_type,
                    not_null: !c.nullable || c.primary_key,
                    // A CHAR(n) value's length is checked when it is
                    // stored (trailing blanks past n are dropped there).
                    varchar: info
                        .meta
                        .varchar
                        .iter()
                        .find(|(n, _)| *n == c.name && !info.meta.bpchar.contains(n))
                        .map(|(_, l)| *l),
                    force_not_null: f
                        .force_not_null
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(&c.name)),
                    force_null: f.force_null.iter().any(|n| n.eq_ignore_ascii_case(&c.name)),
                }
            })
            .collect();
        for forced in f.force_not_null.iter().chain(&f.force_null) {
            if !positions
                .iter()
                .any(|&p| info.engine.columns[p].name.eq_ignore_ascii_case(forced))
            {
                return Err(CopyError::data(
                    "42P10",
                    format!("FORCE_NOT_NULL/FORCE_NULL column \"{forced}\" not referenced by COPY"),
                ));
            }
        }
        let pk_field = info
            .engine
            .primary_key_index()
            .filter(|_| !info.hidden_rowid)
            .and_then(|pk| positions.iter().position(|&p| p == pk));
        let engine = session.engine();
        let own_txn = !engine.in_transaction();
        if own_txn {
            engine.begin_transaction()?;
        }
        Ok(CopyIn {
            table,
            positions,
            fields,
            format: f.clone(),
            full_batch: None,
            buf: Vec::new(),
            scanned: 0,
            in_quotes: false,
            escaped: false,
            line: 0,
            pending: Vec::new(),
            pending_lines: Vec::new(),
            pending_bytes: 0,
            rows: 0,
            ended: false,
            own_txn,
            deadline: session
                .statement_timeout()
                .and_then(|t| Instant::now().checked_add(t)),
            pk_field,
            info,
        })
    }

    /// Columns the client sends per row.
    pub fn columns(&self) -> usize {
        self.positions.len()
    }

    /// Whether this COPY opened the transaction it writes in (so that its
    /// end commits or rolls back), rather than joining the client's.
    pub fn owns_transaction(&self) -> bool {
        self.own_txn
    }

    /// Takes one CopyData message: decodes its complete records and inserts
    /// each full batch.
    ///
    /// # Errors
    /// Malformed input (with its line), values that do not fit, constraint
    /// violations, the statement timeout. The caller then calls
    /// [`CopyIn::abort`].
    pub fn feed(
        &mut self,
        session: &Session<'_>,
        shared: &SqlShared,
        data: &[u8],
    ) -> CopyResult<()> {
        if self.ended {
            return Ok(());
        }
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = self.scan_record(start) {
            let mut record_end = end;
            if record_end > start && self.buf[record_end - 1] == b'\r' {
                record_end -= 1;
            }
            let record = self.buf[start..record_end].to_vec();
            start = end + 1;
            self.scanned = 0;
            self.in_quotes = false;
            self.escaped = false;
            self.record(&record)?;
            if self.ended {
                self.buf.clear();
                start = 0;
                break;
            }
            if self.pending.len() >= BATCH_ROWS || self.pending_bytes >= BATCH_BYTES {
                self.flush(session, shared)?;
            }
        }
        // `scanned` is relative to the record's start, which becomes 0.
        self.buf.drain(..start);
        if self.buf.len() > MAX_RECORD {
            return Err(CopyError::data(
                "54000",
                format!(
                    "COPY line {} is longer than {MAX_RECORD} bytes",
                    self.line + 1
                ),
            )
            .with_context(format!("COPY {}, line {}", self.table, self.line + 1)));
        }
        Ok(())
    }

    /// The end of the record starting at `start` (the position of its
    /// `\n`), scanning from where the last call stopped.
    fn scan_record(&mut self, start: usize) -> Option<usize> {
        let from = start + self.scanned;
        let (csv, quote, escape) = (self.format.csv, self.format.quote, self.format.escape);
        let mut i = from;
        let buf = &self.buf;
        while i < buf.len() {
            let b = buf[i];
            if csv {
                if self.in_quotes {
                    if b == escape
                        && escape != quote
                        && buf.get(i + 1).is_some_and(|&n| n == quote || n == escape)
                    {
                        i += 2;
                        continue;
                    }
                    if b == escape && escape != quote && i + 1 == buf.len() {
                        // Need the next byte to decide.
                        break;
                    }
                    if b == quote {
                        self.in_quotes = false;
                    }
                } else if b == quote {
                    self.in_quotes = true;
                } else if b == b'\n' {
                    self.scanned = 0;
                    return Some(i);
                }
            } else if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'\n' {
                self.scanned = 0;
                return Some(i);
            }
            i += 1;
        }
        self.scanned = i - start;
        None
    }

    /// One complete record (without its line terminator).
    fn record(&mut self, record: &[u8]) -> CopyResult<()> {
        self.line += 1;
        let line = self.line;
        let context = |r: &[u8]| format!("COPY {}, line {line}: \"{}\"", self.table, display(r));
        // The end-of-data marker.
        let mut record = record;
        if self.format.csv {
            if record == b"\\." {
                self.ended = true;
                return Ok(());
            }
        } else if ends_with_marker(record) {
            self.ended = true;
            record = &record[..record.len() - 2];
            if record.is_empty() {
                return Ok(());
            }
        }
        if line == 1 && self.format.header {
            return Ok(());
        }
        let raw = if self.format.csv {
            split_csv(record, &self.format)
        } else {
            split_text(record, self.format.delimiter, self.format.null.as_bytes())
        }
        .map_err(|e| e.with_context(context(record)))?;
        if raw.len() < self.fields.len() {
            let missing = &self.fields[raw.len()].name;
            return Err(
                CopyError::data("22P04", format!("missing data for column \"{missing}\""))
                    .with_context(context(record)),
            );
        }
        if raw.len() > self.fields.len() {
            return Err(
                CopyError::data("22P04", "extra data after last expected column")
                    .with_context(context(record)),
            );
        }
        let mut row = Vec::with_capacity(raw.len());
        for (field, spec) in raw.into_iter().zip(&self.fields) {
            let column_context = |v: &str| {
                format!(
                    "COPY {}, line {line}, column {}: \"{}\"",
                    self.table,
                    spec.name,
                    display(v.as_bytes())
                )
            };
            let text = match field {
                RawField::Null if !spec.force_not_null => None,
                RawField::Null => Some(self.format.null.clone()),
                RawField::Quoted(s) if spec.force_null && s == self.format.null => None,
                RawField::Plain(s) | RawField::Quoted(s) => Some(s),
            };
            let value = match text {
                None => {
                    if spec.not_null {
                        return Err(CopyError::data(
                            "23502",
                            format!(
                                "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                                spec.name, self.table
                            ),
                        )
                        .with_context(context(record)));
                    }
                    Value::Null
                }
                Some(s) => {
                    if let Some(limit) = spec.varchar {
                        if s.chars().count() as u64 > limit {
                            return Err(CopyError::data(
                                "22001",
                                format!("value too long for type character varying({limit})"),
                            )
                            .with_context(column_context(&s)));
                        }
                    }
                    parse_value(&s, spec.data_type)
                        .map_err(|e| e.with_context(column_context(&s)))?
                }
            };
            row.push(value);
        }
        self.pending_bytes += record.len();
        self.pending.push(row);
        self.pending_lines.push(line);
        Ok(())
    }

    /// Inserts the pending rows (one INSERT, inside the transaction).
    fn flush(&mut self, session: &Session<'_>, shared: &SqlShared) -> CopyResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(SqlError::Timeout.into());
        }
        let rows = std::mem::take(&mut self.pending);
        let lines = std::mem::take(&mut self.pending_lines);
        self.pending_bytes = 0;
        let (first, last) = (lines[0], lines[lines.len() - 1]);
        let context = || {
            if first == last {
                format!("COPY {}, line {first}", self.table)
            } else {
                format!("COPY {}, lines {first}-{last}", self.table)
            }
        };
        // GlueSQL checks a batch's keys against the stored rows only, not
        // against each other: a key twice in one batch would be an upsert.
        if let Some(pk) = self.pk_field {
            let mut seen = HashSet::with_capacity(rows.len());
            for (row, line) in rows.iter().zip(&lines) {
                let key = engine_to_key(&row[pk])?;
                if !seen.insert(key) {
                    let c = &self.fields[pk].name;
                    return Err(CopyError::data(
                        "23505",
                        format!(
                            "duplicate key value violates unique constraint \"{}_pkey\"",
                            self.table
                        ),
                    )
                    .with_detail(format!("Key ({c})=({}) already exists.", text_of(&row[pk])))
                    .with_context(format!("COPY {}, line {line}", self.table)));
                }
            }
        }
        let n = rows.len();
        let cached = if n == BATCH_ROWS {
            self.full_batch.clone()
        } else {
            None
        };
        let mut stmt = match cached {
            Some(s) => s,
            None => {
                let s = self.insert_statement(n)?;
                if n == BATCH_ROWS {
                    self.full_batch = Some(s.clone());
                }
                s
            }
        };
        let engine = session.engine();
        if let Statement::Insert(ins) = &mut stmt {
            let mut currval = std::collections::BTreeMap::new();
            crate::rewrite::fill_serial(engine, Some(self.info.as_ref()), ins, &mut currval)?;
            // Columns defaulting to `nextval('seq')` (see `crate::objects`).
            if crate::objects::calls_sequences(&*ins) {
                let tables = session.tables()?;
                let mut ctx = crate::objects::SeqContext {
                    engine,
                    tables: &tables,
                    currval: &mut currval,
                    params: &[],
                };
                crate::objects::insert_values(&mut ctx, ins)?;
            }
        }
        let literals: Vec<ParamLiteral> = rows
            .into_iter()
            .flatten()
            .map(crate::session::param_literal)
            .collect();
        let _scope = audit::statement_scope();
        let glue = translate_with_params(&stmt, &literals)
            .map_err(|e| CopyError::from(crate::sqlstate::from_glue(e)).with_context(context()))?;
        let mut store = EngineStore {
            engine,
            shared,
            kind: StmtKind::Write,
            pending: None,
            pk_range: std::cell::RefCell::new(None),
            for_update: false,
            assigned: Vec::new(),
            system: None,
            chunk: None,
            json: Vec::new(),
        };
        store
            .plan(glue.into())
            .and_then(|plan| execute(&mut store, &plan))
            .map_err(|e| CopyError::from(crate::sqlstate::from_glue(e)).with_context(context()))?;
        self.rows += n as u64;
        Ok(())
    }

    /// `INSERT INTO t (cols) VALUES ($1, …), …` for `n` rows.
    fn insert_statement(&self, n: usize) -> CopyResult<Statement> {
        let mut stmt = limits::parse("INSERT INTO t (c) VALUES ($1)")?
            .pop()
            .ok_or_else(|| SqlError::Syntax("empty INSERT".into()))?;
        let Statement::Insert(ins) = &mut stmt else {
            return Err(SqlError::Syntax("not an INSERT".into()).into());
        };
        ins.table_name = ObjectName(vec![Ident::new(self.table.clone())]);
        ins.columns = self
            .fields
            .iter()
            .map(|f| Ident::new(f.name.clone()))
            .collect();
        let k = self.fields.len();
        let Some(SetExpr::Values(values)) = ins.source.as_mut().map(|s| s.body.as_mut()) else {
            return Err(SqlError::Syntax("not an INSERT … VALUES".into()).into());
        };
        values.rows = (0..n)
            .map(|r| {
                (0..k)
                    .map(|c| Expr::Value(SqlValue::Placeholder(format!("${}", r * k + c + 1))))
                    .collect()
            })
            .collect();
        Ok(stmt)
    }

    /// Ends the data: the last record (if unterminated), the last batch,
    /// and the commit when this COPY opened the transaction. Returns the
    /// rows copied and audits the COPY as one write.
    ///
    /// # Errors
    /// As [`CopyIn::feed`]; an unterminated quoted CSV field; a commit
    /// conflict. The caller then calls [`CopyIn::abort`].
    pub fn finish(&mut self, session: &Session<'_>, shared: &SqlShared) -> CopyResult<u64> {
        if !self.ended && !self.buf.is_empty() {
            // The scan of the rest ended without a newline.
            let _ = self.scan_record(0);
            if self.format.csv && self.in_quotes {
                let line = self.line + 1;
                return Err(CopyError::data("22P04", "unterminated CSV quoted field")
                    .with_context(format!(
                        "COPY {}, line {line}: \"{}\"",
                        self.table,
                        display(&self.buf)
                    )));
            }
            let mut rest = std::mem::take(&mut self.buf);
            if rest.last() == Some(&b'\r') {
                rest.pop();
            }
            self.record(&rest)?;
        }
        self.flush(session, shared)?;
        let engine = session.engine();
        if self.own_txn {
            self.own_txn = false;
            engine.commit()?;
        }
        let event = AuditEvent {
            table: Some(self.table.clone()),
            query: Some(self.audit_text()),
            rows_affected: self.rows,
            ..AuditEvent::default()
        };
        if let Err(e) = engine.audit(EventType::Write, event) {
            tracing::error!(error = %e, "audit log write failed");
        }
        Ok(self.rows)
    }

    fn audit_text(&self) -> String {
        let cols = self
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        format!("COPY {} ({cols}) FROM STDIN", self.table)
    }

    /// Rolls back the transaction this COPY opened. Returns `true` when the
    /// COPY had joined the client's transaction, which the caller must then
    /// mark as failed (its earlier batches cannot be undone alone).
    pub fn abort(&mut self, session: &Session<'_>) -> bool {
        let engine = session.engine();
        if self.own_txn {
            self.own_txn = false;
            if engine.in_transaction() {
                let _ = engine.rollback();
            }
            return false;
        }
        engine.in_transaction()
    }
}

/// Whether a text-format record ends with an unescaped `\.`.
fn ends_with_marker(r: &[u8]) -> bool {
    if !r.ends_with(b"\\.") {
        return false;
    }
    let backslashes = r[..r.len() - 1]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    backslashes % 2 == 1
}

/// A line or value as an error's CONTEXT quotes it.
fn display(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > MAX_DISPLAY {
        let cut: String = s.chars().take(MAX_DISPLAY).collect();
        format!("{cut}...")
    } else {
        s.into_owned()
    }
}

/// One field of a record before typing.
#[derive(Debug, PartialEq, Eq)]
enum RawField {
    /// The NULL marker.
    Null,
    /// Unquoted (de-escaped) text.
    Plain(String),
    /// CSV text that had quotes (never NULL unless FORCE_NULL).
    Quoted(String),
}

fn utf8(bytes: Vec<u8>) -> CopyResult<String> {
    String::from_utf8(bytes).map_err(|e| {
        let bad = e.as_bytes()[e.utf8_error().valid_up_to()];
        CopyError::data(
            "22021",
            format!("invalid byte sequence for encoding \"UTF8\": 0x{bad:02x}"),
        )
    })
}

/// Splits a text-format record and undoes its backslash escapes
/// (PostgreSQL's CopyReadAttributesText).
fn split_text(r: &[u8], delim: u8, null: &[u8]) -> CopyResult<Vec<RawField>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        let mut value = Vec::new();
        let mut end_of_record = true;
        while i < r.len() {
            let b = r[i];
            if b == delim {
                end_of_record = false;
                break;
            }
            if b == b'\r' {
                return Err(
                    CopyError::data("22P04", "literal carriage return found in data")
                        .with_detail("Use \"\\r\" to represent carriage return.".into()),
                );
            }
            if b != b'\\' || i + 1 >= r.len() {
                // A backslash ending the record stands for itself.
                value.push(b);
                i += 1;
                continue;
            }
            let c = r[i + 1];
            i += 2;
            match c {
                b'0'..=b'7' => {
                    let mut v = u32::from(c - b'0');
                    for _ in 0..2 {
                        match r.get(i) {
                            Some(&d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    value.push((v & 0xff) as u8);
                }
                b'x' => match r.get(i).and_then(|&h| hex_digit(h)) {
                    Some(h) => {
                        let mut v = h;
                        i += 1;
                        if let Some(l) = r.get(i).and_then(|&l| hex_digit(l)) {
                            v = v * 16 + l;
                            i += 1;
                        }
                        value.push(v);
                    }
                    None => value.push(b'x'),
                },
                b'b' => value.push(0x08),
                b'f' => value.push(0x0c),
                b'n' => value.push(b'\n'),
                b'r' => value.push(b'\r'),
                b't' => value.push(b'\t'),
                b'v' => value.push(0x0b),
                b'.' => return Err(CopyError::data("22P04", "end-of-copy marker corrupt")),
                other => value.push(other),
            }
        }
        let raw = &r[start..i];
        out.push(if raw == null {
            RawField::Null
        } else {
            RawField::Plain(utf8(value)?)
        });
        if end_of_record {
            return Ok(out);
        }
        i += 1;
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Splits a CSV record (PostgreSQL's CopyReadAttributesCSV).
fn split_csv(r: &[u8], f: &CopyFormat) -> CopyResult<Vec<RawField>> {
    let (delim, quote, escape) = (f.delimiter, f.quote, f.escape);
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        let mut value = Vec::new();
        let mut quoted = false;
        let mut in_quotes = false;
        let mut end_of_record = true;
        while i < r.len() {
            let b = r[i];
            if in_quotes {
                if b == escape && r.get(i + 1).is_some_and(|&n| n == quote || n == escape) {
                    value.push(r[i + 1]);
                    i += 2;
                    continue;
                }
                if b == quote {
                    in_quotes = false;
                } else {
                    value.push(b);
                }
                i += 1;
                continue;
            }
            if b == delim {
                end_of_record = false;
                break;
            }
            if b == quote {
                in_quotes = true;
                quoted = true;
            } else if b == b'\r' {
                return Err(
                    CopyError::data("22P04", "unquoted carriage return found in data")
                        .with_detail("Use quoted CSV field to represent carriage return.".into()),
                );
            } else {
                value.push(b);
            }
            i += 1;
        }
        if in_quotes {
            return Err(CopyError::data("22P04", "unterminated CSV quoted field"));
        }
        let raw = &r[start..i];
        out.push(if !quoted && raw == f.null.as_bytes() {
            RawField::Null
        } else if quoted {
            RawField::Quoted(utf8(value)?)
        } else {
            RawField::Plain(utf8(value)?)
        });
        if end_of_record {
            return Ok(out);
        }
        i += 1;
    }
}

fn invalid(t: DataType, s: &str) -> CopyError {
    CopyError::data(
        if t == DataType::Timestamp {
            "22007"
        } else {
            "22P02"
        },
        format!("invalid input syntax for type {}: \"{s}\"", pg_type_name(t)),
    )
}

/// A field's text as a value of the column's type, as PostgreSQL's input
/// functions read it.
fn parse_value(s: &str, t: DataType) -> CopyResult<Value> {
    let out_of_range = || {
        CopyError::data(
            "22003",
            format!("value \"{s}\" is out of range for type {}", pg_type_name(t)),
        )
    };
    let int = |s: &str| -> CopyResult<i64> {
        let trimmed = s.trim();
        trimmed.parse::<i64>().map_err(|e| {
            use std::num::IntErrorKind::{NegOverflow, PosOverflow};
            if matches!(e.kind(), PosOverflow | NegOverflow) {
                out_of_range()
            } else {
                invalid(t, s)
            }
        })
    };
    Ok(match t {
        DataType::Text => Value::String(s.to_string()),
        DataType::Bool => match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "yes" | "on" | "1" => Value::Bool(true),
            "f" | "false" | "n" | "no" | "off" | "0" => Value::Bool(false),
            _ => return Err(invalid(t, s)),
        },
        DataType::Int2 => Value::Int2(i16::try_from(int(s)?).map_err(|_| out_of_range())?),
        DataType::Int4 => Value::Int4(i32::try_from(int(s)?).map_err(|_| out_of_range())?),
        DataType::Int8 => Value::Int8(int(s)?),
        DataType::Float8 => {
            let v = s.trim();
            let f = match v.to_ascii_lowercase().as_str() {
                "infinity" | "+infinity" | "inf" | "+inf" => f64::INFINITY,
                "-infinity" | "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                _ => v.parse::<f64>().map_err(|_| invalid(t, s))?,
            };
            if f.is_infinite() && !v.to_ascii_lowercase().contains("inf") {
                return Err(out_of_range());
            }
            Value::Float8(f)
        }
        DataType::Float4 => Value::Float4(match s.trim().to_ascii_lowercase().as_str() {
            "inf" | "+inf" => f32::INFINITY,
            "-inf" => f32::NEG_INFINITY,
            _ => crate::convert::parse_real(s)
                .ok_or_else(|| invalid(t, s))?
                .map_err(|_| out_of_range())?,
        }),
        DataType::Numeric => {
            let v = s.trim();
            let d = v
                .parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(v))
                .map_err(|_| invalid(t, s))?;
            Value::Numeric(d)
        }
        DataType::Bytes => Value::Bytes(parse_bytea(s)?),
        DataType::Date
        | DataType::Time
        | DataType::TimestampTz
        | DataType::Interval
        | DataType::Uuid => {
            let parsed = crate::coerce(Value::String(s.to_string()), t);
            parsed.map_err(|e| match e {
                crate::SqlError::State { code, message } => CopyError::data(code, message),
                other => CopyError::data(crate::sqlstate::FEATURE_NOT_SUPPORTED, other.to_string()),
            })?
        }
        DataType::Timestamp => {
            let v = s.trim();
            let parsed = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f"))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                })
                .map_err(|_| invalid(t, s))?;
            Value::Timestamp(parsed.and_utc())
        }
    })
}

/// bytea's input: `\x` hex, or the escape format (`\\`, `\ooo`).
fn parse_bytea(s: &str) -> CopyResult<Vec<u8>> {
    let b = s.as_bytes();
    if let Some(hex) = s.strip_prefix("\\x") {
        let digits: Vec<u8> = hex.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
        let mut out = Vec::with_capacity(digits.len() / 2);
        for pair in digits.chunks(2) {
            let hi = hex_digit(pair[0]).ok_or_else(|| bad_hex(pair[0]))?;
            let Some(&lo) = pair.get(1) else {
                return Err(CopyError::data(
                    "22023",
                    "invalid hexadecimal data: odd number of digits",
                ));
            };
            let lo = hex_digit(lo).ok_or_else(|| bad_hex(lo))?;
            out.push(hi * 16 + lo);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if let Some(o) = b.get(i + 1..i + 4).filter(|o| {
            matches!(o[0], b'0'..=b'3') && o[1..].iter().all(|d| matches!(d, b'0'..=b'7'))
        }) {
            out.push((o[0] - b'0') * 64 + (o[1] - b'0') * 8 + (o[2] - b'0'));
            i += 4;
        } else {
            return Err(CopyError::data(
                "22P02",
                "invalid input syntax for type bytea",
            ));
        }
    }
    Ok(out)
}

fn bad_hex(c: u8) -> CopyError {
    CopyError::data(
        "22023",
        format!(
            "invalid hexadecimal digit: \"{}\"",
            String::from_utf8_lossy(&[c])
        ),
    )
}

// ---------------------------------------------------------------------------
// COPY TO

/// Runs `COPY … TO STDOUT`: `start` gets the column count before any row,
/// then `send` gets chunks of encoded rows, one row per element (the
/// protocol sends one CopyData message per row). Returns the row count.
/// A table is streamed from the engine scan; a query runs as a statement of
/// the session (audited there). Stops with the first error of `send`.
///
/// # Errors
/// Unknown table or column, query errors, the statement timeout, and the
/// errors of `start` and `send` (a client that went away).
pub fn copy_out(
    session: &mut Session<'_>,
    cmd: &CopyCommand,
    start: &mut dyn FnMut(usize) -> CopyResult<()>,
    send: &mut dyn FnMut(Vec<Vec<u8>>) -> CopyResult<()>,
) -> CopyResult<u64> {
    if session.is_failed() && session.in_transaction() {
        return Err(aborted());
    }
    let f = &cmd.options;
    match &cmd.source {
        CopySourceSpec::Query(sql) => {
            let mut results = session.execute(sql, &[])?;
            let Some(QueryResult::Rows { columns, rows, .. }) = results.pop() else {
                return Err(SqlError::Syntax(
                    "COPY query must have a RETURNING clause or be a SELECT".into(),
                )
                .into());
            };
            let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            let quoted = force_quoted(f, &names);
            start(names.len())?;
            let mut n = 0u64;
            let mut chunk = header(f, &names);
            for row in rows {
                chunk.push(encode_row(f, &quoted, row.iter()));
                n += 1;
                if chunk.len() >= OUT_CHUNK_ROWS {
                    send(std::mem::take(&mut chunk))?;
                }
            }
            if !chunk.is_empty() {
                send(chunk)?;
            }
            Ok(n)
        }
        CopySourceSpec::Table { name, columns } => {
            let info = find_table(session, name)?;
            let positions = column_positions(&info, columns)?;
            let table = info.meta.schema.table_name.clone();
            let names: Vec<String> = positions
                .iter()
                .map(|&p| info.engine.columns[p].name.clone())
                .collect();
            for c in &f.force_quote {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(c)) {
                    return Err(CopyError::data(
                        "42P10",
                        format!("FORCE_QUOTE column \"{c}\" not referenced by COPY"),
                    ));
                }
            }
            let quoted = force_quoted(f, &names);
            let _deadline = limits::arm(session.statement_timeout());
            let engine = session.engine();
            let n = {
                let _scope = audit::statement_scope();
                start(names.len())?;
                let mut n = 0u64;
                let mut chunk = header(f, &names);
                for tuple in engine.scan_table_range(&table, Bound::Unbounded, Bound::Unbounded)? {
                    let tuple = tuple?;
                    chunk.push(encode_row(
                        f,
                        &quoted,
                        positions.iter().map(|&p| &tuple.values[p]),
                    ));
                    n += 1;
                    if chunk.len() >= OUT_CHUNK_ROWS {
                        limits::check_deadline()?;
                        send(std::mem::take(&mut chunk))?;
                    }
                }
                if !chunk.is_empty() {
                    send(chunk)?;
                }
                n
            };
            let event = AuditEvent {
                table: Some(table.clone()),
                query: Some(format!("COPY {table} ({}) TO STDOUT", names.join(", "))),
                rows_affected: n,
                ..AuditEvent::default()
            };
            if let Err(e) = engine.audit(EventType::Read, event) {
                tracing::error!(error = %e, "audit log write failed");
            }
            Ok(n)
        }
    }
}

fn force_quoted(f: &CopyFormat, names: &[String]) -> Vec<bool> {
    names
        .iter()
        .map(|n| f.force_quote.iter().any(|q| q.eq_ignore_ascii_case(n)))
        .collect()
}

/// The header line, when the options ask for one.
fn header(f: &CopyFormat, names: &[String]) -> Vec<Vec<u8>> {
    if !f.header {
        return Vec::new();
    }
    let no_force = vec![false; names.len()];
    let values: Vec<Value> = names.iter().map(|n| Value::String(n.clone())).collect();
    vec![encode_row(f, &no_force, values.iter())]
}

/// One row in the COPY format, with its newline.
fn encode_row<'v>(
    f: &CopyFormat,
    force: &[bool],
    values: impl Iterator<Item = &'v Value>,
) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push(f.delimiter);
        }
        if matches!(v, Value::Null) {
            out.extend_from_slice(f.null.as_bytes());
            continue;
        }
        let s = out_text(v);
        if f.csv {
            csv_field(&mut out, f, &s, force.get(i).copied().unwrap_or(false));
        } else {
            text_field(&mut out, f.delimiter, &s);
        }
    }
    out.push(b'\n');
    out
}

/// PostgreSQL's output form of a value (bytea as `\x` hex).
fn out_text(v: &Value) -> String {
    match v {
        Value::Float8(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
        }
        Value::Float8(f) if f.is_nan() => "NaN".to_string(),
        other => text_of(other),
    }
}

/// PostgreSQL's CopyAttributeOutText.
fn text_field(out: &mut Vec<u8>, delim: u8, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0b => out.extend_from_slice(b"\\v"),
            _ if b == delim => {
                out.push(b'\\');
                out.push(b);
            }
            _ => out.push(b),
        }
    }
}

/// PostgreSQL's CopyAttributeOutCSV.
fn csv_field(out: &mut Vec<u8>, f: &CopyFormat, s: &str, force: bool) {
    let b = s.as_bytes();
    let needs = force
        || s == f.null
        || s == "\\."
        || b.iter()
            .any(|&c| c == f.delimiter || c == f.quote || c == b'\n' || c == b'\r');
    if !needs {
        out.extend_from_slice(b);
        return;
    }
    out.push(f.quote);
    for &c in b {
        if c == f.quote || c == f.escape {
            out.push(f.escape);
        }
        out.push(c);
    }
    out.push(f.quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(sql: &str) -> CopyCommand {
        match server_statement(sql).unwrap().unwrap() {
            ServerStatement::Copy(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_copy_forms_and_others() {
        let c = copy("COPY t (a, b) FROM STDIN");
        assert!(c.from);
        assert_eq!(
            c.source,
            CopySourceSpec::Table {
                name: "t".into(),
                columns: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(c.options.delimiter, b'\t');
        assert_eq!(c.options.null, "\\N");
        let c = copy(
            "COPY public.t TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER ';', NULL 'x');",
        );
        assert!(!c.from && c.options.csv && c.options.header);
        assert_eq!((c.options.delimiter, c.options.null.as_str()), (b';', "x"));
        let c = copy("copy t from stdin csv header");
        assert!(c.options.csv && c.options.header && c.options.null.is_empty());
        let c = copy("COPY (SELECT a FROM t WHERE a > 1) TO STDOUT");
        assert!(matches!(c.source, CopySourceSpec::Query(_)));
        assert_eq!(server_statement("SELECT 1").unwrap(), None);
        assert_eq!(
            server_statement("DEALLOCATE ALL").unwrap(),
            Some(ServerStatement::Deallocate(None))
        );
        assert_eq!(
            server_statement("deallocate prepare all").unwrap(),
            Some(ServerStatement::Deallocate(None))
        );
        assert_eq!(
            server_statement("DEALLOCATE s1").unwrap(),
            Some(ServerStatement::Deallocate(Some("s1".into())))
        );
        assert!(matches!(
            server_statement("DISCARD ALL").unwrap(),
            Some(ServerStatement::Discard { all: true, .. })
        ));
        for bad in [
            "COPY t FROM '/etc/passwd'",
            "COPY t TO PROGRAM 'ls'",
            "COPY t FROM STDIN BINARY",
            "COPY t FROM STDIN; SELECT 1",
            "COPY t FROM STDIN (DELIMITER '\\')",
        ] {
            assert!(server_statement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_escapes_follow_postgres() {
        let f = split_text(b"a\\tb\t\\N\t\\\\x\\101\\x41\\n\tz", b'\t', b"\\N").unwrap();
        assert_eq!(
            f,
            vec![
                RawField::Plain("a\tb".into()),
                RawField::Null,
                RawField::Plain("\\xAA\n".into()),
                RawField::Plain("z".into()),
            ]
        );
        assert!(split_text(b"\\xff", b'\t', b"\\N").is_err());
        assert!(split_text(b"a\\.b", b'\t', b"\\N").is_err());
        let mut out = Vec::new();
        text_field(&mut out, b'\t', "a\tb\\c\nd\re");
        assert_eq!(out, b"a\\tb\\\\c\\nd\\re");
        assert!(ends_with_marker(b"\\."));
        assert!(!ends_with_marker(b"\\\\."));
    }

    #[test]
    fn csv_quotes_follow_postgres() {
        let f = copy("COPY t FROM STDIN CSV").options;
        let r = split_csv(b"1,\"a,\"\"b\"\"\",,\"\"", &f).unwrap();
        assert_eq!(
            r,
            vec![
                RawField::Plain("1".into()),
                RawField::Quoted("a,\"b\"".into()),
                RawField::Null,
                RawField::Quoted(String::new()),
            ]
        );
        assert!(split_csv(b"\"abc", &f).is_err());
        let mut out = Vec::new();
        csv_field(&mut out, &f, "a\"b", false);
        assert_eq!(out, b"\"a\"\"b\"");
    }

    #[test]
    fn values_parse_as_postgres_input() {
        assert_eq!(
            parse_value(" 42 ", DataType::Int4).unwrap(),
            Value::Int4(42)
        );
        let e = parse_value("abc", DataType::Int4).unwrap_err();
        assert!(
            matches!(e.kind, CopyErrorKind::Data { code: "22P02", .. }),
            "{e}"
        );
        let e = parse_value("70000", DataType::Int2).unwrap_err();
        assert!(
            matches!(e.kind, CopyErrorKind::Data { code: "22003", .. }),
            "{e}"
        );
        assert_eq!(
            parse_value("\\x00ff", DataType::Bytes).unwrap(),
            Value::Bytes(vec![0, 255])
        );
        assert_eq!(
            parse_value("a\\\\\\001", DataType::Bytes).unwrap(),
            Value::Bytes(vec![b'a', b'\\', 1])
        );
        assert!(parse_value("\\x0g", DataType::Bytes).is_err());
        assert_eq!(
            parse_value("-Infinity", DataType::Float8).unwrap(),
            Value::Float8(f64::NEG_INFINITY)
        );
        assert!(parse_value("2024-02-30", DataType::Timestamp).is_err());
    }
}

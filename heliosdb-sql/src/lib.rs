//! SQL for HeliosDB Nano: GlueSQL running over the encrypted engine, with a
//! thin PostgreSQL rewrite layer (SERIAL, PostgreSQL type names and widths,
//! `INSERT … RETURNING`, `version()`, `current_database()`, and the
//! `pg_catalog` queries `psql` sends for `\dt` and `\d`).
//!
//! # Invariants
//!
//! - Everything SQL writes goes through the engine's public API (tables,
//!   indexes, transactions, the key-value store for our own metadata and
//!   sequences), so it is sealed like any other record: this crate never
//!   sees RocksDB.
//! - Types follow PostgreSQL: INTEGER is 32-bit, BIGINT 64-bit, SMALLINT
//!   16-bit, whatever GlueSQL calls them internally.
//! - Engine transactions belong to the calling thread: a [`Session`] must run
//!   a transaction's statements on one thread (the server gives every
//!   connection its own thread).
//! - No statement is walked recursively before its depth is bounded: one
//!   deeper than [`limits::MAX_EXPRESSION_DEPTH`] (or nesting past
//!   [`limits::MAX_PARSER_RECURSION`]) is refused with
//!   [`SqlError::TooComplex`]. Statements within the limits need about
//!   1 MiB of stack at most (a default 2 MiB thread runs them; the server
//!   gives its session threads [`limits::STACK_SIZE`]).
//!
//! # Example
//!
//! ```no_run
//! use heliosdb_core::{Config, StorageEngine};
//! use heliosdb_sql::SqlExt;
//!
//! let engine = StorageEngine::open_in_memory(&Config::in_memory())?;
//! engine.execute_sql("CREATE TABLE t (id SERIAL PRIMARY KEY, name TEXT)")?;
//! engine.execute_sql("INSERT INTO t (name) VALUES ('a')")?;
//! let rows = engine.execute_sql("SELECT * FROM t")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alter;
mod arrays;
mod catalog;
mod chartype;
mod compose;
mod convert;
pub mod copy;
mod cursor;
mod datetime;
mod ddl;
mod distinct_on;
mod dump;
mod explain;
mod infer;
mod json;
mod jsonops;
mod keys;
pub mod limits;
mod literals;
mod logic;
mod numeric;
mod objects;
mod order;
mod pgfuncs;
pub mod pgtext;
mod point;
mod pushdown;
mod rewrite;
mod series;
mod session;
mod settings;
pub mod sqlstate;
mod store;
mod stream;
mod system;
mod textcast;
mod upsert;
mod using;
mod validate;
mod window;

use heliosdb_core::{DataType, StorageEngine, Value};

pub use arrays::{array_elements, array_text};
pub use convert::pg_type_name;
pub use dump::PgDumpHints;
pub use limits::SessionSettings;
pub use point::candidate as is_point_candidate;
pub use session::{coerce, float4_text, float8_text, text_of, Described, Session};
pub use store::SqlShared;
pub use stream::RowSink;

/// Errors of the SQL layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The SQL text does not parse.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// A statement or feature this layer does not support.
    #[error("{0}")]
    Unsupported(String),
    /// A value does not fit its column or parameter type.
    #[error("{0}")]
    Type(String),
    /// An error raised while planning or executing (GlueSQL's message).
    #[error("{0}")]
    Execution(String),
    /// An error with a known SQLSTATE (constraint violations, undefined
    /// tables and columns, division by zero, …; see [`sqlstate`]).
    #[error("{message}")]
    State {
        /// The SQLSTATE.
        code: &'static str,
        /// What PostgreSQL-speaking clients show.
        message: String,
    },
    /// An error of the storage engine or our metadata.
    #[error("{0}")]
    Engine(String),
    /// Transaction misuse (nesting, an aborted transaction block).
    #[error("{0}")]
    Transaction(String),
    /// A serialization failure (SQLSTATE 40001): a concurrent transaction
    /// changed what this one read; nothing was written, retrying is safe.
    #[error("{0}")]
    Conflict(String),
    /// The statement nests deeper than [`limits`] allow (PostgreSQL's
    /// SQLSTATE 54001).
    #[error("statement too complex: {0}")]
    TooComplex(String),
    /// The session's `statement_timeout` passed (SQLSTATE 57014).
    #[error("canceling statement due to statement timeout")]
    Timeout,
    /// A psql name pattern that is not a usable regular expression
    /// (SQLSTATE 2201B).
    #[error("invalid regular expression: {0}")]
    Pattern(String),
}

impl From<heliosdb_core::Error> for SqlError {
    fn from(e: heliosdb_core::Error) -> Self {
        match e {
            heliosdb_core::Error::Transaction(m) => SqlError::Transaction(m),
            e @ heliosdb_core::Error::Conflict(_) => SqlError::Conflict(e.to_string()),
            other => SqlError::Engine(other.to_string()),
        }
    }
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, SqlError>;

/// So that `storage.execute_sql(…)?` works in functions returning the
/// engine's `Result` (the tutorial's GDPR examples). The engine's error type
/// has no SQL variant; transaction errors keep their kind, the rest become
/// schema errors carrying the SQL message.
impl From<SqlError> for heliosdb_core::Error {
    fn from(e: SqlError) -> Self {
        match e {
            SqlError::Transaction(m) | SqlError::Conflict(m) => {
                heliosdb_core::Error::Transaction(m)
            }
            other => heliosdb_core::Error::Schema(format!("SQL: {other}")),
        }
    }
}

/// A result column: its label and type.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ColumnInfo {
    /// Label (the column name, alias, or PostgreSQL's default label).
    pub name: String,
    /// Type of the values (`Text` for values computed in types the engine does not store).
    pub data_type: DataType,
    /// `Some(t)`: the values are one-dimensional arrays of `t`, each in
    /// PostgreSQL's text form (`{a,b}`, see [`array_text`]) as a text
    /// value; on the wire the column has `t`'s array type (`text[]`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array_of: Option<DataType>,
    /// `Some(kind)`: the values are `json` or `jsonb` documents (as text);
    /// on the wire the column is typed `json` / `jsonb`, so drivers parse
    /// them (node-postgres hands back objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Json>,
}

/// The JSON type of a result column (see [`ColumnInfo::json`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Json {
    /// `json`: the text as written.
    Json,
    /// `jsonb`: PostgreSQL's normalised text.
    Jsonb,
}

impl ColumnInfo {
    /// A column of plain (non-array) values.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        ColumnInfo {
            name: name.into(),
            data_type,
            array_of: None,
            json: None,
        }
    }
}

/// The outcome of one statement (serialisable, e.g. for a JSON export).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum QueryResult {
    /// Rows (SELECT, SHOW, `INSERT … RETURNING`).
    Rows {
        /// Result columns.
        columns: Vec<ColumnInfo>,
        /// Rows, values in column order (typed as `columns` says, or NULL).
        rows: Vec<Vec<Value>>,
        /// PostgreSQL command tag, e.g. `SELECT 3` or `INSERT 0 1`.
        tag: String,
    },
    /// A command without rows; `tag` is PostgreSQL's command tag (`INSERT 0 1`, `CREATE TABLE`).
    Command {
        /// Command tag.
        tag: String,
        /// Rows affected.
        rows: u64,
    },
}

impl QueryResult {
    /// The rows, empty for commands.
    pub fn rows(&self) -> &[Vec<Value>] {
        match self {
            QueryResult::Rows { rows, .. } => rows,
            QueryResult::Command { .. } => &[],
        }
    }

    /// The PostgreSQL command tag.
    pub fn tag(&self) -> &str {
        match self {
            QueryResult::Rows { tag, .. } | QueryResult::Command { tag, .. } => tag,
        }
    }
}

/// SQL on a [`StorageEngine`]: `engine.execute_sql("SELECT …")`.
///
/// Each call is its own session on the calling thread (a `BEGIN` stays open
/// on this thread until `COMMIT`/`ROLLBACK`, as engine transactions do). For
/// many statements, a [`Session`] keeps the table cache between calls.
pub trait SqlExt {
    /// Runs one or more `;`-separated statements; returns the last
    /// statement's result.
    ///
    /// # Errors
    /// Syntax, type, constraint and storage errors; on error inside an
    /// autocommit statement nothing of that statement is written.
    fn execute_sql(&self, sql: &str) -> Result<QueryResult>;

    /// Runs one statement with `$1`, `$2`, … bound to `params`.
    ///
    /// # Errors
    /// As [`SqlExt::execute_sql`], plus parameters that do not fit.
    fn execute_sql_with_params(&self, sql: &str, params: &[Value]) -> Result<QueryResult>;
}

impl SqlExt for StorageEngine {
    fn execute_sql(&self, sql: &str) -> Result<QueryResult> {
        self.execute_sql_with_params(sql, &[])
    }

    fn execute_sql_with_params(&self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let shared = SqlShared::new();
        let mut session = Session::new(self, &shared);
        let mut results = session.execute(sql, params)?;
        results
            .pop()
            .ok_or_else(|| SqlError::Syntax("empty query".into()))
    }
}

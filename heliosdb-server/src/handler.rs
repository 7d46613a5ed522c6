//! One connection's handlers: the pgwire handlers for the simple and
//! extended query protocols and authentication, and the session its SQL
//! runs in: an engine [`SessionContext`] (its transaction and audit
//! identity) whose statements run on the server's statement pool, never on
//! the async runtime and never on a thread of the connection's own.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures::{stream, Sink, SinkExt, StreamExt};
use heliosdb_core::{DataType, SessionContext, StorageEngine, Value};
use heliosdb_sql::copy::{CopyCommand, CopyError, CopyErrorKind, CopyIn, ServerStatement};
use heliosdb_sql::{
    coerce, text_of, ColumnInfo, Json, QueryResult, Session, SessionSettings, SqlError, SqlShared,
};
use pgwire::api::auth::{DefaultServerParameterProvider, StartupHandler};
use pgwire::api::copy::{send_copy_both_response, send_copy_in_response, send_copy_out_response};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{
    send_execution_response, send_query_response, send_ready_for_query, ExtendedQueryHandler,
    SimpleQueryHandler,
};
use pgwire::api::results::{
    CopyResponse, DataRowEncoder, DescribePortalResponse, DescribeStatementResponse, FieldFormat,
    FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, PgWireConnectionState, PgWireServerHandlers, Type,
    METADATA_DATABASE, METADATA_USER,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::data::{DataRow, RowDescription};
use pgwire::messages::response::EmptyQueryResponse;
use pgwire::messages::simplequery::Query;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::types::format::FormatOptions;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroizing;

use crate::scram::ScramStartup;
use crate::users;

/// Name of the statement pool's threads (the panic hook recognises them).
pub(crate) const SESSION_THREAD: &str = "heliosdb-stmt";

/// How long an idle statement thread waits for work before it ends.
const STATEMENT_THREAD_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The threads statements run on, shared by every connection: a thread
/// per statement *running*, not per connection. Threads start on demand
/// (up to `max_connections`, so a statement never waits for another
/// session's — a COPY TO held up by a slow client included) and end after
/// [`STATEMENT_THREAD_KEEP_ALIVE`] idle, so a thousand idle connections
/// hold no thread. Each has [`heliosdb_sql::limits::STACK_SIZE`] of stack
/// for statements at the SQL layer's depth limits.
///
/// It is tokio's blocking pool, on a runtime of the server's own (the
/// runtime the server is called on may have any stack size).
pub(crate) struct StatementPool {
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for StatementPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementPool").finish_non_exhaustive()
    }
}

impl StatementPool {
    /// A pool of at most `max_threads` statement threads.
    pub(crate) fn new(max_threads: usize) -> std::io::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(max_threads.max(1))
            .thread_keep_alive(STATEMENT_THREAD_KEEP_ALIVE)
            .thread_stack_size(heliosdb_sql::limits::STACK_SIZE)
            .thread_name(SESSION_THREAD)
            .build()?;
        Ok(StatementPool { rt: Some(rt) })
    }

    /// Runs `f` on a statement thread and waits for it; `None` when it
    /// panicked or the pool is shutting down.
    async fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
        let rt = self.rt.as_ref()?;
        rt.spawn_blocking(f).await.ok()
    }
}

impl Drop for StatementPool {
    fn drop(&mut self) {
        // May be dropped on an async runtime (the last connection's task):
        // no waiting there. Statements still running finish on their own.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The connection's SQL session, created by the first statement (after
/// authentication, so a client that never logs in costs nothing here). Its
/// engine transaction lives in its [`SessionContext`], which each statement
/// enters on whichever statement thread runs it; between statements the
/// session holds no thread. The connection's statements run one at a time
/// (the message loop awaits each). Closing rolls back an open transaction.
#[derive(Debug)]
pub(crate) struct Worker {
    /// `None` once closed (or after a statement panicked).
    state: Arc<Mutex<Option<SessionState>>>,
    pool: Arc<StatementPool>,
    /// The session's engine transaction is open.
    in_txn: Arc<AtomicBool>,
}

thread_local! {
    /// Set by a job whose statement failed inside the client's transaction
    /// without going through `Session::execute` (a COPY FROM that had
    /// joined it): the transaction is now aborted, as after any failed
    /// statement. Taken on the same thread right after the job.
    static ABORT_TRANSACTION: Cell<bool> = const { Cell::new(false) };
    /// Set by `DISCARD ALL`: the session's settings return to the server's.
    static RESET_SETTINGS: Cell<bool> = const { Cell::new(false) };
}

/// Everything a session starts with.
struct SessionStart {
    engine: Arc<StorageEngine>,
    shared: Arc<SqlShared>,
    db: String,
    user: String,
    /// The client's address, for the audit log.
    peer: String,
    settings: SessionSettings,
}

/// A session between statements.
#[derive(Debug)]
struct SessionState {
    engine: Arc<StorageEngine>,
    shared: Arc<SqlShared>,
    db: String,
    user: String,
    /// Its transaction and audit identity.
    context: SessionContext,
    settings: SessionSettings,
    /// Settings `DISCARD ALL` returns to.
    defaults: SessionSettings,
    /// The open transaction has failed (only ROLLBACK is accepted).
    failed: bool,
}

impl std::fmt::Debug for SessionStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStart")
            .field("db", &self.db)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Worker {
    fn start(start: SessionStart, pool: Arc<StatementPool>) -> Self {
        let SessionStart {
            engine,
            shared,
            db,
            user,
            peer,
            settings,
        } = start;
        // Audit events of this session (one per statement) name its user
        // and client.
        let context = engine.new_session().with_identity(user.clone(), Some(peer));
        Worker {
            state: Arc::new(Mutex::new(Some(SessionState {
                engine,
                shared,
                db,
                user,
                context,
                defaults: settings.clone(),
                settings,
                failed: false,
            }))),
            pool,
            in_txn: Arc::new(AtomicBool::new(false)),
        }
    }

    async fn call<R: Send + 'static>(
        &self,
        f: impl for<'a, 'e> FnOnce(&'a mut Session<'e>) -> R + Send + 'static,
    ) -> PgWireResult<R> {
        self.job(f).await
    }

    /// [`Worker::call`] as a future that owns what it needs, so that it can
    /// outlive the handler call that made it (a streamed answer's rows are
    /// read after the handler returned). The statement starts when the
    /// future is first polled.
    fn job<R: Send + 'static>(
        &self,
        f: impl for<'a, 'e> FnOnce(&'a mut Session<'e>) -> R + Send + 'static,
    ) -> impl std::future::Future<Output = PgWireResult<R>> + Send + 'static {
        let state = self.state.clone();
        let in_txn = self.in_txn.clone();
        let pool = self.pool.clone();
        async move {
            match pool.run(move || run_job(&state, &in_txn, f)).await {
                Some(ran) => job_outcome(ran),
                None => Err(fatal("57P01", "the server is shutting down")),
            }
        }
    }

    /// [`Worker::call`] on the calling thread, for statements that take
    /// microseconds and never wait (see [`runs_in_place`]): the connection
    /// task runs them itself instead of handing them to a statement thread
    /// and waiting to be woken.
    fn call_here<R>(
        &self,
        f: impl for<'a, 'e> FnOnce(&'a mut Session<'e>) -> R,
    ) -> PgWireResult<R> {
        job_outcome(run_job(&self.state, &self.in_txn, f))
    }

    /// Ends the session: rolls back its open transaction (on a statement
    /// thread: dropping tables it created is storage work) and waits.
    async fn close(&self) {
        let state = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(st) = state {
            let in_txn = self.in_txn.clone();
            self.pool
                .run(move || {
                    st.engine.end_session(st.context);
                    in_txn.store(false, Ordering::Relaxed);
                })
                .await;
        }
    }
}

/// The session was closed before the statement ran.
#[derive(Debug)]
struct Ended;

/// Runs one statement's work inside the session, on the calling (statement)
/// thread: `Ok(None)` when it panicked (the session is then over).
fn run_job<R>(
    state: &Mutex<Option<SessionState>>,
    in_txn: &AtomicBool,
    job: impl for<'a, 'e> FnOnce(&'a mut Session<'e>) -> R,
) -> Result<Option<R>, Ended> {
    let mut guard = state.lock().unwrap_or_else(PoisonError::into_inner);
    let st = guard.as_mut().ok_or(Ended)?;
    let ran = {
        let _entered = st.engine.enter(&st.context);
        let mut session = Session::new(&st.engine, &st.shared)
            .with_identity(&st.db, &st.user)
            .with_failed(st.failed)
            .with_settings(std::mem::take(&mut st.settings));
        // A panic is contained to this session: its client gets an error
        // and loses the connection, the server keeps serving.
        let ran = catch_unwind(AssertUnwindSafe(|| job(&mut session)));
        st.failed = session.is_failed() || ABORT_TRANSACTION.take();
        st.settings = if RESET_SETTINGS.take() {
            st.defaults.clone()
        } else {
            session.take_settings()
        };
        ran
    };
    // Before the answer: the message loop reads the flag as soon as the
    // answer is out (the idle-in-transaction timer).
    in_txn.store(
        st.engine.session_in_transaction(&st.context),
        Ordering::Relaxed,
    );
    if ran.is_err() {
        // The session ends with the panic; what it had open rolls back.
        if let Some(st) = guard.take() {
            st.engine.end_session(st.context);
        }
        in_txn.store(false, Ordering::Relaxed);
    }
    Ok(ran.ok())
}

/// What the client gets of a job [`run_job`] ran.
fn job_outcome<R>(ran: Result<Option<R>, Ended>) -> PgWireResult<R> {
    match ran {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(fatal(
            "XX000",
            "internal error: the statement panicked; the session is closed",
        )),
        Err(Ended) => Err(fatal("XX000", "the session has ended")),
    }
}

fn fatal(code: &str, msg: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        msg.into(),
    )))
}

fn sql_error(e: SqlError) -> PgWireError {
    let code = e.sqlstate();
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        e.to_string(),
    )))
}

/// A COPY error with its own SQLSTATE (or the SQL layer's) and CONTEXT.
fn copy_error(e: CopyError) -> PgWireError {
    let CopyError { kind, context } = e;
    let mut info = match kind {
        CopyErrorKind::Sql(e) => match sql_error(e) {
            PgWireError::UserError(info) => *info,
            other => return other,
        },
        CopyErrorKind::Data {
            code,
            message,
            detail,
        } => {
            let mut info = ErrorInfo::new("ERROR".into(), code.into(), message);
            info.detail = detail;
            info
        }
        other => ErrorInfo::new("ERROR".into(), "XX000".into(), other.to_string()),
    };
    info.where_context = context;
    PgWireError::UserError(Box::new(info))
}

fn user_error(code: &str, msg: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code.into(), msg)))
}

/// COPY FROM data gathered before it goes to the session thread.
const COPY_DISPATCH_BYTES: usize = 256 * 1024;

/// Message from the session thread to the sender of a COPY TO.
enum CopyOut {
    /// The column count, before any row.
    Start(usize),
    /// Encoded rows, one CopyData message each.
    Rows(Vec<Vec<u8>>),
}

/// PostgreSQL type of an engine type.
pub(crate) fn pg_type(t: DataType) -> Type {
    match t {
        DataType::Bool => Type::BOOL,
        DataType::Int2 => Type::INT2,
        DataType::Int4 => Type::INT4,
        DataType::Int8 => Type::INT8,
        DataType::Float8 => Type::FLOAT8,
        DataType::Float4 => Type::FLOAT4,
        DataType::Numeric => Type::NUMERIC,
        DataType::Text => Type::TEXT,
        DataType::Bytes => Type::BYTEA,
        DataType::Timestamp => Type::TIMESTAMP,
        DataType::TimestampTz => Type::TIMESTAMPTZ,
        DataType::Date => Type::DATE,
        DataType::Time => Type::TIME,
        DataType::Interval => Type::INTERVAL,
        DataType::Uuid => Type::UUID,
    }
}

/// PostgreSQL's array type of an engine element type.
fn pg_array_type(t: DataType) -> Type {
    match t {
        DataType::Bool => Type::BOOL_ARRAY,
        DataType::Int2 => Type::INT2_ARRAY,
        DataType::Int4 => Type::INT4_ARRAY,
        DataType::Int8 => Type::INT8_ARRAY,
        DataType::Float8 => Type::FLOAT8_ARRAY,
        DataType::Float4 => Type::FLOAT4_ARRAY,
        DataType::Numeric => Type::NUMERIC_ARRAY,
        DataType::Text => Type::TEXT_ARRAY,
        DataType::Bytes => Type::BYTEA_ARRAY,
        DataType::Timestamp => Type::TIMESTAMP_ARRAY,
        DataType::TimestampTz => Type::TIMESTAMPTZ_ARRAY,
        DataType::Date => Type::DATE_ARRAY,
        DataType::Time => Type::TIME_ARRAY,
        DataType::Interval => Type::INTERVAL_ARRAY,
        DataType::Uuid => Type::UUID_ARRAY,
    }
}

/// The wire type of a result column: its array type when it holds arrays.
fn column_type(c: &ColumnInfo) -> Type {
    match (c.array_of, c.json) {
        (Some(t), _) => pg_array_type(t),
        (None, Some(Json::Json)) => Type::JSON,
        (None, Some(Json::Jsonb)) => Type::JSONB,
        (None, None) => pg_type(c.data_type),
    }
}

/// PostgreSQL's binary form of a one-dimensional array given in its text
/// form (`{a,b}`), of elements of type `elem` (text, integers, booleans).
fn binary_array(text: &str, elem: DataType) -> PgWireResult<Vec<u8>> {
    let bad = || user_error("XX000", format!("malformed array value {text}"));
    let elems = heliosdb_sql::array_elements(text).ok_or_else(bad)?;
    let oid = pg_type(elem).oid();
    let mut out = Vec::new();
    let dims: i32 = if elems.is_empty() { 0 } else { 1 };
    out.extend_from_slice(&dims.to_be_bytes());
    out.extend_from_slice(&i32::from(elems.iter().any(Option::is_none)).to_be_bytes());
    out.extend_from_slice(&oid.to_be_bytes());
    if dims == 1 {
        let n = i32::try_from(elems.len()).map_err(|_| bad())?;
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
    }
    for e in elems {
        let Some(e) = e else {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            continue;
        };
        let raw: Vec<u8> = match elem {
            DataType::Text => e.into_bytes(),
            DataType::Bool => vec![u8::from(e == "t")],
            DataType::Int2 => e.parse::<i16>().map_err(|_| bad())?.to_be_bytes().to_vec(),
            DataType::Int4 => e.parse::<i32>().map_err(|_| bad())?.to_be_bytes().to_vec(),
            DataType::Int8 => e.parse::<i64>().map_err(|_| bad())?.to_be_bytes().to_vec(),
            other => {
                return Err(user_error(
                    "0A000",
                    format!(
                        "binary format of {} arrays is not supported (ask for text format)",
                        pg_type(other).name()
                    ),
                ))
            }
        };
        let n = i32::try_from(raw.len()).map_err(|_| bad())?;
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&raw);
    }
    Ok(out)
}

fn engine_type(t: &Type) -> Option<DataType> {
    Some(match *t {
        Type::BOOL => DataType::Bool,
        Type::INT2 => DataType::Int2,
        Type::INT4 => DataType::Int4,
        Type::INT8 => DataType::Int8,
        Type::FLOAT8 => DataType::Float8,
        Type::FLOAT4 => DataType::Float4,
        Type::NUMERIC => DataType::Numeric,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DataType::Text,
        Type::BYTEA => DataType::Bytes,
        Type::TIMESTAMP => DataType::Timestamp,
        Type::TIMESTAMPTZ => DataType::TimestampTz,
        Type::DATE => DataType::Date,
        Type::TIME => DataType::Time,
        Type::INTERVAL => DataType::Interval,
        Type::UUID => DataType::Uuid,
        _ => return None,
    })
}

fn fields(columns: &[ColumnInfo], format: &Format) -> Vec<FieldInfo> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            FieldInfo::new(
                c.name.clone(),
                None,
                None,
                column_type(c),
                format.format_for(i),
            )
        })
        .collect()
}

fn encode_row(
    fields: &Arc<Vec<FieldInfo>>,
    columns: &[ColumnInfo],
    row: Vec<Value>,
) -> PgWireResult<DataRow> {
    let options = FormatOptions::default();
    let mut enc = DataRowEncoder::new(fields.clone());
    for (i, v) in row.into_iter().enumerate() {
        let (f, t) = (&fields[i], columns[i].data_type);
        // An array, in its text form (see `ColumnInfo::array_of`).
        // The value is the whole array's text: encoded as plain text and
        // raw bytes (pgwire would quote a string given an array type, as
        // for an element).
        if let Some(elem) = columns[i].array_of {
            let ty = f.datatype();
            match (v, f.format()) {
                (Value::String(s), FieldFormat::Text) => enc.encode_field_with_type_and_format(
                    &s,
                    &Type::TEXT,
                    FieldFormat::Text,
                    &options,
                )?,
                (Value::String(s), _) => enc.encode_field_with_type_and_format(
                    &binary_array(&s, elem)?,
                    &Type::BYTEA,
                    FieldFormat::Binary,
                    &options,
                )?,
                (_, format) => {
                    enc.encode_field_with_type_and_format(&None::<i32>, ty, format, &options)?
                }
            }
            continue;
        }
        // A json / jsonb document: its text, in binary format as PostgreSQL
        // sends it (jsonb: a version byte 1 before the text).
        if let (Some(kind), FieldFormat::Binary, Value::String(doc)) =
            (columns[i].json, f.format(), &v)
        {
            let mut raw = Vec::with_capacity(doc.len() + 1);
            if kind == Json::Jsonb {
                raw.push(1);
            }
            raw.extend_from_slice(doc.as_bytes());
            enc.encode_field_with_type_and_format(
                &raw,
                f.datatype(),
                FieldFormat::Binary,
                &options,
            )?;
            continue;
        }
        let v = coerce(v.clone(), t).unwrap_or_else(|_| Value::String(text_of(&v)));
        let ty = f.datatype();
        if f.format() == FieldFormat::Text || matches!(v, Value::String(_)) && t != DataType::Text {
            let s = (!matches!(v, Value::Null)).then(|| text_of(&v));
            enc.encode_field_with_type_and_format(&s, ty, FieldFormat::Text, &options)?;
            continue;
        }
        let b = FieldFormat::Binary;
        match v {
            Value::Null => enc.encode_field_with_type_and_format(&None::<i32>, ty, b, &options)?,
            Value::Bool(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Int2(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Int4(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Int8(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Float8(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Float4(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Numeric(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::String(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Bytes(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Timestamp(x) => {
                enc.encode_field_with_type_and_format(&x.naive_utc(), ty, b, &options)?
            }
            Value::TimestampTz(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Date(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            Value::Time(x) => enc.encode_field_with_type_and_format(&x, ty, b, &options)?,
            // PostgreSQL's binary forms, written as raw bytes (Vec<u8>'s
            // binary encoding copies them as they are).
            Value::Interval(x) => {
                let mut raw = Vec::with_capacity(16);
                raw.extend_from_slice(&x.micros.to_be_bytes());
                raw.extend_from_slice(&x.days.to_be_bytes());
                raw.extend_from_slice(&x.months.to_be_bytes());
                enc.encode_field_with_type_and_format(&raw, ty, b, &options)?
            }
            Value::Uuid(x) => {
                enc.encode_field_with_type_and_format(&x.to_be_bytes().to_vec(), ty, b, &options)?
            }
        }
    }
    enc.finish()
}

/// The columns rows are sent as: the types the statement was described
/// with (what the client parses by), when it was; an array column must
/// have been described as one.
fn sent_columns(
    columns: Vec<ColumnInfo>,
    described: Option<&[ColumnInfo]>,
) -> PgWireResult<Vec<ColumnInfo>> {
    match described {
        Some(d) if d.len() == columns.len() => {
            for (c, d) in columns.iter().zip(d) {
                if c.array_of != d.array_of {
                    return Err(user_error(
                        "0A000",
                        format!(
                            "the type of the array column \"{}\" could not be \
                             determined before running the statement (cast the \
                             array_agg argument to its type)",
                            c.name
                        ),
                    ));
                }
            }
            Ok(columns
                .into_iter()
                .zip(d)
                .map(|(c, d)| ColumnInfo {
                    name: c.name,
                    data_type: d.data_type,
                    array_of: d.array_of,
                    json: d.json,
                })
                .collect())
        }
        _ => Ok(columns),
    }
}

/// What a streamed statement's session thread hands to the connection
/// (see [`heliosdb_sql::RowSink`]).
enum Streamed {
    Columns(Vec<ColumnInfo>),
    Rows(Vec<Vec<Value>>),
}

/// The session side of a streamed answer: a bounded channel to the
/// connection task, so the statement reads its table no faster than the
/// client takes the rows (memory: a few chunks).
struct ChannelSink(tokio::sync::mpsc::Sender<Streamed>);

fn client_gone() -> SqlError {
    SqlError::Engine("the client went away".into())
}

impl heliosdb_sql::RowSink for ChannelSink {
    fn columns(&mut self, columns: &[ColumnInfo]) -> Result<(), SqlError> {
        self.0
            .blocking_send(Streamed::Columns(columns.to_vec()))
            .map_err(|_| client_gone())
    }

    fn rows(&mut self, rows: Vec<Vec<Value>>) -> Result<(), SqlError> {
        self.0
            .blocking_send(Streamed::Rows(rows))
            .map_err(|_| client_gone())
    }
}

/// Whether `sql` is a bare `BEGIN` (`START TRANSACTION`): it opens the
/// session's engine transaction, which takes no lock and waits for
/// nothing, so the connection task runs it in place. pgbench's TPC-B
/// transaction is seven statements; this is one of them.
fn runs_in_place(sql: &str) -> bool {
    let words: Vec<&str> = sql
        .trim()
        .trim_end_matches(';')
        .split_ascii_whitespace()
        .collect();
    let is = |w: &[&str]| {
        words.len() == w.len() && words.iter().zip(w).all(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    is(&["begin"]) || is(&["begin", "transaction"]) || is(&["start", "transaction"])
}

/// How a statement run by [`Conn::run_statements`] answered.
enum Ran {
    /// Every statement's answer, collected.
    Results(Vec<QueryResult>),
    /// One query whose rows stream to the client as the session reads
    /// them.
    Streamed(QueryResponse),
}

/// The rows of a streamed answer as the session thread sends them, then
/// the statement's outcome: its error, if it failed after rows went out.
struct RowFeed<F> {
    rx: tokio::sync::mpsc::Receiver<Streamed>,
    job: Option<std::pin::Pin<Box<F>>>,
    rows: std::vec::IntoIter<Vec<Value>>,
    fields: Arc<Vec<FieldInfo>>,
    columns: Arc<Vec<ColumnInfo>>,
}

fn row_stream<F>(feed: RowFeed<F>) -> impl futures::Stream<Item = PgWireResult<DataRow>> + Send
where
    F: std::future::Future<Output = PgWireResult<Result<Vec<QueryResult>, SqlError>>>
        + Send
        + 'static,
{
    stream::unfold(feed, |mut feed| async move {
        loop {
            if let Some(row) = feed.rows.next() {
                let row = encode_row(&feed.fields, &feed.columns, row);
                return Some((row, feed));
            }
            match feed.rx.recv().await {
                Some(Streamed::Rows(rows)) => feed.rows = rows.into_iter(),
                Some(Streamed::Columns(_)) => {}
                None => {
                    // The session thread is done sending: the statement's
                    // end (run_job has finished, the session is free).
                    let job = feed.job.take()?;
                    return match job.await {
                        Ok(Ok(_)) => None,
                        Ok(Err(e)) => Some((Err(sql_error(e)), feed)),
                        Err(e) => Some((Err(e), feed)),
                    };
                }
            }
        }
    })
}

fn to_response(
    r: QueryResult,
    format: &Format,
    described: Option<&[ColumnInfo]>,
) -> PgWireResult<Response> {
    match r {
        QueryResult::Rows { columns, rows, tag } => {
            let cols = sent_columns(columns, described)?;
            let fields = Arc::new(fields(&cols, format));
            let encoded = rows
                .into_iter()
                .map(|r| encode_row(&fields, &cols, r))
                .collect::<Vec<_>>();
            let mut resp = QueryResponse::new(fields, stream::iter(encoded));
            if tag.starts_with("INSERT") {
                resp.set_command_tag("INSERT 0");
            } else if tag.starts_with("UPDATE") || tag.starts_with("DELETE") {
                // `… RETURNING`: pgwire appends the row count (`UPDATE n`).
                resp.set_command_tag(tag.split(' ').next().unwrap_or_default());
            } else if tag.starts_with("FETCH") {
                // pgwire appends the row count: `FETCH n`.
                resp.set_command_tag("FETCH");
            } else if tag == "SHOW" || tag == "EXPLAIN" {
                // Sent without a row count (`Conn::on_query`).
                resp.set_command_tag(&tag);
            }
            Ok(Response::Query(resp))
        }
        QueryResult::Command { tag, rows } => {
            let word = tag.split(' ').next().unwrap_or_default();
            Ok(match word {
                "BEGIN" => Response::TransactionStart(Tag::new("BEGIN")),
                "COMMIT" | "ROLLBACK" => Response::TransactionEnd(Tag::new(&tag)),
                "INSERT" => {
                    Response::Execution(Tag::new("INSERT").with_oid(0).with_rows(rows as usize))
                }
                "UPDATE" | "DELETE" => Response::Execution(Tag::new(word).with_rows(rows as usize)),
                _ => Response::Execution(Tag::new(&tag)),
            })
        }
    }
}

/// A parsed (and described) extended-protocol statement.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    sql: String,
    params: Vec<Type>,
    columns: Option<Vec<ColumnInfo>>,
}

/// Everything a connection needs: its session (identified once the client
/// is authenticated and named its database).
#[derive(Debug)]
pub(crate) struct Conn {
    engine: Arc<StorageEngine>,
    shared: Arc<SqlShared>,
    /// Settings a new session starts with (`statement_timeout`).
    settings: SessionSettings,
    worker: OnceLock<Worker>,
    /// The statement threads (shared by all connections).
    pool: Arc<StatementPool>,
    /// The COPY FROM in progress (taken out while a job works on it).
    copy_in: Mutex<Option<CopyIn>>,
    /// COPY FROM data received and not yet handed to the session thread.
    copy_buf: Mutex<Vec<u8>>,
    /// Named prepared statements and portals the client created (pgwire's
    /// store cannot list them), for `DEALLOCATE ALL` and `DISCARD ALL`.
    named: Mutex<Named>,
}

/// Names of prepared statements and portals, and those `DEALLOCATE` or
/// `DISCARD` dropped: the message loop removes these from pgwire's store
/// (the handlers' generic client type does not expose its methods).
#[derive(Debug, Default)]
pub(crate) struct Named {
    statements: BTreeSet<String>,
    portals: BTreeSet<String>,
    pub dropped_statements: Vec<String>,
    pub dropped_portals: Vec<String>,
}

impl Named {
    /// Records a statement (`Parse`) or portal (`Bind`) the client named.
    pub(crate) fn created(&mut self, statement: Option<&str>, portal: Option<&str>) {
        if let Some(n) = statement.filter(|n| !n.is_empty()) {
            self.statements.insert(n.to_string());
        }
        if let Some(n) = portal.filter(|n| !n.is_empty()) {
            self.portals.insert(n.to_string());
        }
    }

    /// Forgets a statement or portal the client closed.
    pub(crate) fn closed(&mut self, statement: Option<&str>, portal: Option<&str>) {
        if let Some(n) = statement {
            self.statements.remove(n);
        }
        if let Some(n) = portal {
            self.portals.remove(n);
        }
    }

    fn drop_all_statements(&mut self) {
        let all = std::mem::take(&mut self.statements);
        self.dropped_statements.extend(all);
    }
}

impl Conn {
    /// The names the client created, for the message loop.
    pub(crate) fn named(&self) -> std::sync::MutexGuard<'_, Named> {
        self.named.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a statement the SQL session does not: COPY, DEALLOCATE, DISCARD.
    async fn server_statement<C>(
        &self,
        client: &mut C,
        stmt: ServerStatement,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let worker = self.worker(client);
        if !matches!(stmt, ServerStatement::Copy(_)) {
            // As every statement but ROLLBACK/COMMIT, refused in an aborted
            // transaction block (COPY checks this itself).
            if worker.call(|s| s.is_failed() && s.in_transaction()).await? {
                return Err(sql_error(SqlError::Transaction(
                    "current transaction is aborted, commands ignored until end of transaction \
                     block"
                        .into(),
                )));
            }
        }
        match stmt {
            ServerStatement::Copy(cmd) if cmd.from => {
                let copy = worker
                    .call(move |s| CopyIn::start(s, &cmd))
                    .await?
                    .map_err(copy_error)?;
                let n = copy.columns();
                *self.copy_in.lock().unwrap_or_else(PoisonError::into_inner) = Some(copy);
                Ok(Response::CopyIn(CopyResponse::new(0, n, vec![0; n])))
            }
            ServerStatement::Copy(cmd) => {
                let n = self.copy_out(client, cmd).await?;
                Ok(Response::Execution(Tag::new("COPY").with_rows(n as usize)))
            }
            ServerStatement::Deallocate(Some(name)) => {
                let mut named = self.named();
                if !named.statements.remove(&name) {
                    return Err(user_error(
                        "26000",
                        format!("prepared statement \"{name}\" does not exist"),
                    ));
                }
                named.dropped_statements.push(name);
                Ok(Response::Execution(Tag::new("DEALLOCATE")))
            }
            ServerStatement::Deallocate(None) => {
                self.named().drop_all_statements();
                Ok(Response::Execution(Tag::new("DEALLOCATE ALL")))
            }
            ServerStatement::Discard { all, tag } => {
                if all {
                    if self.in_transaction() {
                        return Err(user_error(
                            "25001",
                            "DISCARD ALL cannot run inside a transaction block".into(),
                        ));
                    }
                    {
                        let mut named = self.named();
                        named.drop_all_statements();
                        let portals = std::mem::take(&mut named.portals);
                        named.dropped_portals.extend(portals);
                    }
                    worker.call(|_| RESET_SETTINGS.set(true)).await?;
                }
                Ok(Response::Execution(Tag::new(&tag)))
            }
            _ => Err(user_error("0A000", "unsupported statement".into())),
        }
    }

    /// Runs `sql` in the session: a single query that reads a table row by
    /// row and answers more than a chunk streams its rows to the client as
    /// the session reads them (see `Session::execute_streaming`); every
    /// other answer comes back collected. `stream` false collects every
    /// answer: an Execute with a row limit may leave the rest of its rows
    /// in a suspended portal while the client runs other statements, which
    /// a statement still streaming (holding the session) would block.
    async fn run_statements<C: ClientInfo>(
        &self,
        client: &C,
        sql: String,
        params: Vec<Value>,
        stream: bool,
        format: &Format,
        described: Option<&[ColumnInfo]>,
    ) -> PgWireResult<Ran> {
        if params.is_empty() && runs_in_place(&sql) {
            let results = self
                .worker(client)
                .call_here(move |s| s.execute(&sql, &[]))?
                .map_err(sql_error)?;
            return Ok(Ran::Results(results));
        }
        // A point query (one row by its key) is answered here too: handing
        // it to a statement thread and waiting to be woken costs more than
        // the read. Anything else comes back `None` untouched.
        if heliosdb_sql::is_point_candidate(&sql) {
            if let Some(r) = self
                .worker(client)
                .call_here(|s| s.execute_point(&sql, &params))?
            {
                return Ok(Ran::Results(r.map_err(sql_error)?));
            }
        }
        if !stream {
            let results = self
                .worker(client)
                .call(move |s| s.execute(&sql, &params))
                .await?
                .map_err(sql_error)?;
            return Ok(Ran::Results(results));
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Streamed>(4);
        let mut job = Box::pin(
            self.worker(client)
                .job(move |s| s.execute_streaming(&sql, &params, Box::new(ChannelSink(tx)))),
        );
        let first = tokio::select! {
            biased;
            m = rx.recv() => m,
            r = &mut job => return Ok(Ran::Results(r?.map_err(sql_error)?)),
        };
        let Some(Streamed::Columns(columns)) = first else {
            // Nothing streamed: the sink is gone with the statement.
            return Ok(Ran::Results(job.await?.map_err(sql_error)?));
        };
        let columns = sent_columns(columns, described)?;
        let fields = Arc::new(fields(&columns, format));
        let feed = RowFeed {
            rx,
            job: Some(job),
            rows: Vec::new().into_iter(),
            fields: Arc::clone(&fields),
            columns: Arc::new(columns),
        };
        Ok(Ran::Streamed(QueryResponse::new(
            fields,
            Box::pin(row_stream(feed)),
        )))
    }

    /// `COPY … TO STDOUT`: CopyOutResponse, one CopyData per row as the
    /// session thread produces them (a bounded channel between the two:
    /// memory stays at a few chunks whatever the table's size), CopyDone.
    async fn copy_out<C>(&self, client: &mut C, cmd: CopyCommand) -> PgWireResult<u64>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<CopyOut>(4);
        let gone = || CopyError::from(SqlError::Engine("the client went away".into()));
        let job = self.worker(client).call(move |s| {
            let start_tx = tx.clone();
            heliosdb_sql::copy::copy_out(
                s,
                &cmd,
                &mut |n| {
                    start_tx
                        .blocking_send(CopyOut::Start(n))
                        .map_err(|_| gone())
                },
                &mut |rows| tx.blocking_send(CopyOut::Rows(rows)).map_err(|_| gone()),
            )
        });
        let forward = async {
            while let Some(m) = rx.recv().await {
                match m {
                    CopyOut::Start(n) => {
                        let n = i16::try_from(n).unwrap_or(i16::MAX);
                        let formats = vec![0; n.max(0) as usize];
                        client
                            .send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
                                0, n, formats,
                            )))
                            .await?;
                    }
                    CopyOut::Rows(rows) => {
                        for r in rows {
                            client
                                .feed(PgWireBackendMessage::CopyData(CopyData::new(r.into())))
                                .await?;
                        }
                        client.flush().await?;
                    }
                }
            }
            Ok::<_, PgWireError>(())
        };
        let (copied, forwarded) = tokio::join!(job, forward);
        forwarded?;
        let n = copied?.map_err(copy_error)?;
        client
            .send(PgWireBackendMessage::CopyDone(CopyDone::new()))
            .await?;
        Ok(n)
    }

    /// One CopyData message of a COPY FROM: decoded and inserted (by the
    /// batch) on the session thread. On error the COPY is over: rolled back
    /// if it opened the transaction, the client's transaction aborted if it
    /// joined one.
    pub(crate) async fn copy_data<C: ClientInfo>(
        &self,
        client: &C,
        data: bytes::Bytes,
    ) -> PgWireResult<()> {
        // Clients send a message per line or per few KiB: gathered into
        // larger pieces, they cost one session-thread round trip each.
        let data = {
            let mut buf = self.copy_buf.lock().unwrap_or_else(PoisonError::into_inner);
            buf.extend_from_slice(&data);
            if buf.len() < COPY_DISPATCH_BYTES {
                return Ok(());
            }
            std::mem::take(&mut *buf)
        };
        let Some(mut copy) = self.take_copy() else {
            return Ok(());
        };
        let shared = self.shared.clone();
        let (copy, r) = self
            .worker(client)
            .call(move |s| {
                let r = copy.feed(s, &shared, &data);
                if r.is_err() && copy.abort(s) {
                    ABORT_TRANSACTION.set(true);
                }
                (copy, r)
            })
            .await?;
        r.map_err(copy_error)?;
        *self.copy_in.lock().unwrap_or_else(PoisonError::into_inner) = Some(copy);
        Ok(())
    }

    /// CopyDone: the last rows, the commit (when the COPY opened the
    /// transaction). Returns the row count.
    pub(crate) async fn copy_done<C: ClientInfo>(&self, client: &C) -> PgWireResult<u64> {
        let rest =
            std::mem::take(&mut *self.copy_buf.lock().unwrap_or_else(PoisonError::into_inner));
        let Some(mut copy) = self.take_copy() else {
            return Ok(0);
        };
        let shared = self.shared.clone();
        self.worker(client)
            .call(move |s| {
                let r = copy
                    .feed(s, &shared, &rest)
                    .and_then(|()| copy.finish(s, &shared));
                if r.is_err() && copy.abort(s) {
                    ABORT_TRANSACTION.set(true);
                }
                r
            })
            .await?
            .map_err(copy_error)
    }

    /// CopyFail, or a message that has no place in a COPY: nothing of the
    /// COPY is written.
    pub(crate) async fn copy_abort<C: ClientInfo>(&self, client: &C) -> PgWireResult<()> {
        let Some(mut copy) = self.take_copy() else {
            return Ok(());
        };
        self.worker(client)
            .call(move |s| {
                if copy.abort(s) {
                    ABORT_TRANSACTION.set(true);
                }
            })
            .await
    }

    /// The COPY FROM in progress, if any, and no data of it left over.
    fn take_copy(&self) -> Option<CopyIn> {
        self.copy_buf
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.copy_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn worker<C: ClientInfo>(&self, client: &C) -> &Worker {
        self.worker.get_or_init(|| {
            let md = client.metadata();
            let user = md.get(METADATA_USER).cloned().unwrap_or_default();
            let db = md
                .get(METADATA_DATABASE)
                .cloned()
                .unwrap_or_else(|| user.clone());
            Worker::start(
                SessionStart {
                    engine: self.engine.clone(),
                    shared: self.shared.clone(),
                    db,
                    user,
                    peer: client.socket_addr().ip().to_string(),
                    settings: self.settings.clone(),
                },
                self.pool.clone(),
            )
        })
    }

    /// The RowDescription of the session's open cursor `name`, for a
    /// client's Describe of the portal a `DECLARE` opened (psycopg's
    /// server-side cursors ask so, as PostgreSQL allows); `None` when no
    /// cursor has that name. Rows of a cursor are sent as text.
    pub(crate) async fn cursor_description<C: ClientInfo>(
        &self,
        client: &C,
        name: &str,
    ) -> PgWireResult<Option<RowDescription>> {
        let name = name.to_string();
        let columns = self
            .worker(client)
            .call(move |s| s.cursor_columns(&name))
            .await?;
        Ok(columns.map(|c| {
            RowDescription::new(
                fields(&c, &Format::UnifiedText)
                    .iter()
                    .map(Into::into)
                    .collect(),
            )
        }))
    }

    /// Whether the session has a transaction open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.worker
            .get()
            .is_some_and(|w| w.in_txn.load(Ordering::Relaxed))
    }

    /// Ends the session (rolling back) and waits for its thread.
    pub(crate) async fn close(&self) {
        if let Some(w) = self.worker.get() {
            w.close().await;
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for Conn {
    /// pgwire's simple-query loop (`_on_query`), except that the answers of
    /// `SHOW` and `EXPLAIN` complete with their tag and no row count, as
    /// PostgreSQL's do (pgwire appends the count to every row result).
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        let mut status = client.transaction_status();
        client.set_state(PgWireConnectionState::QueryInProgress);
        let text = query.query;
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == ";" {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
        } else {
            for r in self.do_query(client, &text).await? {
                match r {
                    Response::EmptyQuery => {
                        client
                            .feed(PgWireBackendMessage::EmptyQueryResponse(
                                EmptyQueryResponse::new(),
                            ))
                            .await?;
                    }
                    Response::Query(mut results)
                        if matches!(results.command_tag(), "SHOW" | "EXPLAIN") =>
                    {
                        let tag = results.command_tag().to_string();
                        let desc = RowDescription::new(
                            results.row_schema().iter().map(Into::into).collect(),
                        );
                        client
                            .send(PgWireBackendMessage::RowDescription(desc))
                            .await?;
                        let rows = results.data_rows();
                        while let Some(row) = rows.next().await {
                            client.feed(PgWireBackendMessage::DataRow(row?)).await?;
                        }
                        send_execution_response(client, Tag::new(&tag)).await?;
                    }
                    Response::Query(mut results) => {
                        send_query_response(client, &mut results, true).await?;
                    }
                    Response::Execution(tag) => send_execution_response(client, tag).await?,
                    Response::TransactionStart(tag) => {
                        send_execution_response(client, tag).await?;
                        status = status.to_in_transaction_state();
                    }
                    Response::TransactionEnd(tag) => {
                        send_execution_response(client, tag).await?;
                        status = status.to_idle_state();
                    }
                    Response::Error(e) => {
                        client
                            .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                            .await?;
                        status = status.to_error_state();
                    }
                    Response::CopyIn(result) => {
                        send_copy_in_response(client, result).await?;
                        client.set_state(PgWireConnectionState::CopyInProgress(false));
                    }
                    Response::CopyOut(result) => {
                        send_copy_out_response(client, result).await?;
                        client.set_state(PgWireConnectionState::CopyInProgress(false));
                    }
                    Response::CopyBoth(result) => {
                        send_copy_both_response(client, result).await?;
                        client.set_state(PgWireConnectionState::CopyInProgress(false));
                    }
                }
            }
        }
        if !matches!(client.state(), PgWireConnectionState::CopyInProgress(_)) {
            client.set_state(PgWireConnectionState::ReadyForQuery);
            client.set_transaction_status(status);
            send_ready_for_query(client, status).await?;
        }
        Ok(())
    }

    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match heliosdb_sql::copy::server_statement(query) {
            Ok(Some(stmt)) => return Ok(vec![self.server_statement(client, stmt).await?]),
            Ok(None) => {}
            Err(e) => return Err(copy_error(e)),
        }
        let sql = query.to_string();
        let results = match self
            .run_statements(client, sql, Vec::new(), true, &Format::UnifiedText, None)
            .await?
        {
            Ran::Streamed(response) => return Ok(vec![Response::Query(response)]),
            Ran::Results(results) => results,
        };
        let still_in_txn = self.in_transaction();
        let last = results.len().saturating_sub(1);
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let r = to_response(r, &Format::UnifiedText, None)?;
                Ok(if i == last {
                    savepoint_rollback(r, still_in_txn)
                } else {
                    r
                })
            })
            .collect()
    }
}

/// Describes statements on the connection's session thread.
#[derive(Debug)]
pub(crate) struct Parser {
    conn: Arc<Conn>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Prepared>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        // Statements the server answers itself take no parameters and
        // return no rows (COPY's rows travel as CopyData).
        match heliosdb_sql::copy::server_statement(sql) {
            Ok(Some(stmt)) => {
                if let ServerStatement::Copy(cmd) = stmt {
                    self.conn
                        .worker(client)
                        .call(move |s| heliosdb_sql::copy::check(s, &cmd))
                        .await?
                        .map_err(copy_error)?;
                }
                return Ok(Prepared {
                    sql: sql.to_string(),
                    params: Vec::new(),
                    columns: None,
                });
            }
            Ok(None) => {}
            Err(e) => return Err(copy_error(e)),
        }
        let text = sql.to_string();
        let described = self
            .conn
            .worker(client)
            .call(move |s| s.describe(&text))
            .await?
            .map_err(sql_error)?;
        let n = described.params.len().max(types.len());
        let params = (0..n)
            .map(|i| match types.get(i).cloned().flatten() {
                Some(t) if t != Type::UNKNOWN => t,
                _ => described
                    .params
                    .get(i)
                    .copied()
                    .flatten()
                    .map(pg_type)
                    .unwrap_or(Type::TEXT),
            })
            .collect();
        Ok(Prepared {
            sql: sql.to_string(),
            params,
            columns: described.columns,
        })
    }
}

/// Decodes the bound parameters by their (declared or inferred) types.
fn bind_params(portal: &Portal<Prepared>) -> PgWireResult<Vec<Value>> {
    let stmt = &portal.statement.statement;
    (0..portal.parameter_len())
        .map(|i| {
            let ty = stmt.params.get(i).cloned().unwrap_or(Type::TEXT);
            let v = match engine_type(&ty) {
                // Integers in text are read here rather than by pgwire, for
                // PostgreSQL's 22003 when they do not fit the type.
                Some(t @ (DataType::Int2 | DataType::Int4 | DataType::Int8))
                    if !portal.parameter_format.is_binary(i) =>
                {
                    param_text(portal, i)?
                        .map(|text| int_param(&text, t))
                        .transpose()
                        .map_err(sql_error)?
                }
                Some(DataType::Bool) => portal.parameter::<bool>(i, &ty)?.map(Value::Bool),
                Some(DataType::Int2) => portal.parameter::<i16>(i, &ty)?.map(Value::Int2),
                Some(DataType::Int4) => portal.parameter::<i32>(i, &ty)?.map(Value::Int4),
                Some(DataType::Int8) => portal.parameter::<i64>(i, &ty)?.map(Value::Int8),
                Some(DataType::Float8) => portal.parameter::<f64>(i, &ty)?.map(Value::Float8),
                Some(DataType::Float4) => portal.parameter::<f32>(i, &ty)?.map(Value::Float4),
                Some(DataType::Numeric) => portal
                    .parameter::<rust_decimal::Decimal>(i, &ty)?
                    .map(Value::Numeric),
                Some(DataType::Bytes) => portal.parameter::<Vec<u8>>(i, &ty)?.map(Value::Bytes),
                // Read by the SQL layer's PostgreSQL text input, which takes
                // every form clients send (pgwire's does not take
                // node-postgres's `2024-02-29T12:00:00.000+00:00`).
                Some(
                    t @ (DataType::Date
                    | DataType::Time
                    | DataType::Timestamp
                    | DataType::TimestampTz
                    | DataType::Interval
                    | DataType::Uuid),
                ) => match portal.parameters.get(i).cloned().flatten() {
                    None => None,
                    Some(raw) if portal.parameter_format.is_binary(i) => {
                        Some(binary_param(t, &raw).map_err(sql_error)?)
                    }
                    Some(_) => param_text(portal, i)?
                        .map(|text| heliosdb_sql::coerce(Value::String(text), t))
                        .transpose()
                        .map_err(sql_error)?,
                },
                // Text is the parameter's bytes, in either format: pgwire's
                // text decoding would read `''` as a quote, as in a literal.
                Some(DataType::Text) | None => param_text(portal, i)?.map(Value::String),
            };
            Ok(v.unwrap_or(Value::Null))
        })
        .collect()
}

/// The text of parameter `i` (its bytes as UTF-8), `None` for NULL.
fn param_text(portal: &Portal<Prepared>, i: usize) -> PgWireResult<Option<String>> {
    portal
        .parameters
        .get(i)
        .cloned()
        .flatten()
        .map(|raw| {
            String::from_utf8(raw.to_vec())
                .map_err(|_| sql_error(SqlError::Type("parameter text is not UTF-8".into())))
        })
        .transpose()
}

/// An integer parameter's text as PostgreSQL's input reads it: blanks
/// around it allowed, 22P02 for text that is no integer, 22003 for one out
/// of the type's range (`40000` for a `smallint`).
fn int_param(text: &str, t: DataType) -> Result<Value, SqlError> {
    use heliosdb_sql::sqlstate::{INVALID_TEXT_REPRESENTATION, NUMERIC_VALUE_OUT_OF_RANGE};
    let name = heliosdb_sql::pg_type_name(t);
    let out_of_range = || SqlError::State {
        code: NUMERIC_VALUE_OUT_OF_RANGE,
        message: format!("value \"{text}\" is out of range for type {name}"),
    };
    let number = text.trim();
    let digits = number.strip_prefix(['+', '-']).unwrap_or(number);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SqlError::State {
            code: INVALID_TEXT_REPRESENTATION,
            message: format!("invalid input syntax for type {name}: \"{text}\""),
        });
    }
    // Only digits: a number, out of range when even an i128 cannot hold it.
    let n: i128 = number.parse().map_err(|_| out_of_range())?;
    Ok(match t {
        DataType::Int2 => Value::Int2(i16::try_from(n).map_err(|_| out_of_range())?),
        DataType::Int4 => Value::Int4(i32::try_from(n).map_err(|_| out_of_range())?),
        _ => Value::Int8(i64::try_from(n).map_err(|_| out_of_range())?),
    })
}

/// A parameter in PostgreSQL's binary form of a date/time, interval or uuid
/// type (dates and timestamps count from 2000-01-01).
fn binary_param(t: DataType, raw: &[u8]) -> Result<Value, SqlError> {
    use chrono::TimeZone;
    const PG_EPOCH_DAYS: i32 = 10_957;
    const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
    let bad = || SqlError::Type(format!("malformed binary {} parameter", pg_type(t).name()));
    let be8 = |b: &[u8]| -> Result<i64, SqlError> {
        Ok(i64::from_be_bytes(b.try_into().map_err(|_| bad())?))
    };
    let be4 = |b: &[u8]| -> Result<i32, SqlError> {
        Ok(i32::from_be_bytes(b.try_into().map_err(|_| bad())?))
    };
    Ok(match t {
        DataType::Date => Value::Date(
            be4(raw)?
                .checked_add(PG_EPOCH_DAYS)
                .and_then(chrono::NaiveDate::from_epoch_days)
                .ok_or_else(bad)?,
        ),
        DataType::Time => {
            let us = be8(raw)?;
            let secs = u32::try_from(us.div_euclid(1_000_000)).map_err(|_| bad())?;
            let nanos = u32::try_from(us.rem_euclid(1_000_000) * 1000).map_err(|_| bad())?;
            Value::Time(
                chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
                    .ok_or_else(bad)?,
            )
        }
        DataType::Timestamp | DataType::TimestampTz => {
            let at = be8(raw)?
                .checked_add(PG_EPOCH_MICROS)
                .and_then(|us| chrono::Utc.timestamp_micros(us).single())
                .ok_or_else(bad)?;
            if t == DataType::Timestamp {
                Value::Timestamp(at)
            } else {
                Value::TimestampTz(at)
            }
        }
        DataType::Interval if raw.len() == 16 => {
            let i = heliosdb_core::Interval {
                micros: be8(&raw[..8])?,
                days: be4(&raw[8..12])?,
                months: be4(&raw[12..])?,
            };
            heliosdb_sql::coerce(Value::String(i.to_string()), t)?
        }
        DataType::Uuid => Value::Uuid(u128::from_be_bytes(raw.try_into().map_err(|_| bad())?)),
        _ => return Err(bad()),
    })
}

impl Conn {
    async fn describe_statement<C>(
        &self,
        _client: &mut C,
        target: &StoredStatement<Prepared>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let s = &target.statement;
        let cols = s
            .columns
            .as_deref()
            .map(|c| fields(c, &Format::UnifiedText))
            .unwrap_or_default();
        Ok(DescribeStatementResponse::new(s.params.clone(), cols))
    }

    async fn describe_portal<C>(
        &self,
        _client: &mut C,
        portal: &Portal<Prepared>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let cols = portal
            .statement
            .statement
            .columns
            .as_deref()
            .map(|c| fields(c, &portal.result_column_format))
            .unwrap_or_default();
        Ok(DescribePortalResponse::new(cols))
    }

    async fn query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let stmt = &portal.statement.statement;
        match heliosdb_sql::copy::server_statement(&stmt.sql) {
            Ok(Some(server)) => return self.server_statement(client, server).await,
            Ok(None) => {}
            Err(e) => return Err(copy_error(e)),
        }
        let params = bind_params(portal)?;
        let sql = stmt.sql.clone();
        let mut results = match self
            .run_statements(
                client,
                sql,
                params,
                max_rows == 0,
                &portal.result_column_format,
                stmt.columns.as_deref(),
            )
            .await?
        {
            Ran::Streamed(response) => return Ok(Response::Query(response)),
            Ran::Results(results) => results,
        };
        let Some(last) = results.pop() else {
            return Ok(Response::EmptyQuery);
        };
        let r = to_response(last, &portal.result_column_format, stmt.columns.as_deref())?;
        Ok(savepoint_rollback(r, self.in_transaction()))
    }
}

/// `ROLLBACK TO SAVEPOINT` (tagged `ROLLBACK`, as PostgreSQL tags it) and a
/// `COMMIT`/`ROLLBACK` that left the block open do not end the
/// transaction: the client's ReadyForQuery must still say "in a
/// transaction", or drivers that track it (psycopg 3) skip their COMMIT.
fn savepoint_rollback(r: Response, still_in_txn: bool) -> Response {
    match r {
        Response::TransactionEnd(tag) if still_in_txn => Response::Execution(tag),
        other => other,
    }
}

/// SCRAM-SHA-256 startup, refusing plaintext connections when TLS is
/// required, and sessions past `max_connections`.
pub(crate) struct Startup {
    inner: ScramStartup,
    require_tls: bool,
    /// One permit per authenticated session.
    sessions: Arc<Semaphore>,
    /// This connection's session slot, once it presented its proof.
    permit: Mutex<Option<OwnedSemaphorePermit>>,
    /// Password-family messages seen (SCRAM's client-first, client-final).
    password_messages: AtomicU32,
}

impl Debug for Startup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Startup")
            .field("require_tls", &self.require_tls)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if matches!(message, PgWireFrontendMessage::Startup(_))
            && self.require_tls
            && !client.is_secure()
        {
            tracing::warn!(peer = %client.socket_addr(), "refused a plaintext connection (TLS is required)");
            return Err(fatal(
                "28000",
                "SSL connection is required: this server has ssl_enabled = true (use sslmode=require or stronger)",
            ));
        }
        // SCRAM's second password message (client-final) carries the proof:
        // the session slot is taken right before the proof is checked, so a
        // client that cannot authenticate never holds one for longer than
        // that check, and a full server answers as PostgreSQL does.
        if matches!(message, PgWireFrontendMessage::PasswordMessageFamily(_))
            && self.password_messages.fetch_add(1, Ordering::Relaxed) == 1
        {
            match self.sessions.clone().try_acquire_owned() {
                Ok(p) => *self.permit.lock().unwrap_or_else(PoisonError::into_inner) = Some(p),
                Err(_) => {
                    tracing::warn!(peer = %client.socket_addr(), "refused a session: max_connections reached");
                    return Err(fatal("53300", "sorry, too many clients already"));
                }
            }
        }
        let r = self.inner.on_startup(client, message).await;
        if r.is_err() {
            self.permit
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        }
        r
    }
}

/// Per-connection handlers handed to pgwire.
#[derive(Debug)]
pub(crate) struct Handlers {
    conn: Arc<Conn>,
    parser: Arc<Parser>,
    startup: Arc<Startup>,
}

impl Handlers {
    /// The connection's session state.
    pub(crate) fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The extended-protocol handler, with its statement type visible (the
    /// trait's `impl ExtendedQueryHandler` hides it from the message loop).
    pub(crate) fn extended(&self) -> Arc<Extended> {
        Arc::new(Extended {
            conn: self.conn.clone(),
            parser: self.parser.clone(),
        })
    }
}

/// Shared server state used to build each connection's handlers.
#[derive(Clone, Debug)]
pub(crate) struct ConnSetup {
    pub engine: Arc<StorageEngine>,
    pub shared: Arc<SqlShared>,
    pub require_tls: bool,
    /// `tls-server-end-point` channel-binding data (SCRAM-SHA-256-PLUS).
    pub cert_hash: Option<Arc<Vec<u8>>>,
    /// The secret unknown users' salts derive from.
    pub mock_secret: Arc<Zeroizing<[u8; 32]>>,
    /// Session slots (`max_connections`).
    pub sessions: Arc<Semaphore>,
    /// Settings every session starts with.
    pub settings: SessionSettings,
    /// The statement threads.
    pub pool: Arc<StatementPool>,
}

impl ConnSetup {
    pub(crate) fn handlers(&self) -> PgWireResult<Handlers> {
        let conn = Arc::new(Conn {
            engine: self.engine.clone(),
            shared: self.shared.clone(),
            settings: self.settings.clone(),
            worker: OnceLock::new(),
            pool: self.pool.clone(),
            copy_in: Mutex::new(None),
            copy_buf: Mutex::new(Vec::new()),
            named: Mutex::new(Named::default()),
        });
        let mut params = DefaultServerParameterProvider::default();
        // psql reads the major version from here to pick its catalog queries.
        params.server_version = "15.0 (HeliosDB Nano)".into();
        params.scram_iterations = users::SCRAM_ITERATIONS as usize;
        let startup = Arc::new(Startup {
            inner: ScramStartup::new(
                params,
                self.engine.clone(),
                self.mock_secret.clone(),
                self.cert_hash.clone(),
            ),
            require_tls: self.require_tls,
            sessions: self.sessions.clone(),
            permit: Mutex::new(None),
            password_messages: AtomicU32::new(0),
        });
        Ok(Handlers {
            parser: Arc::new(Parser { conn: conn.clone() }),
            conn,
            startup,
        })
    }
}

/// The extended handler with this connection's parser (sharing its worker).
#[derive(Debug)]
pub(crate) struct Extended {
    conn: Arc<Conn>,
    parser: Arc<Parser>,
}

#[async_trait]
impl ExtendedQueryHandler for Extended {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        target: &StoredStatement<Prepared>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.conn.describe_statement(client, target).await
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.conn.describe_portal(client, portal).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.conn.query(client, portal, max_rows).await
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.conn.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.extended()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::runs_in_place;

    #[test]
    fn only_a_bare_begin_runs_on_the_connection_task() {
        for sql in [
            "BEGIN",
            "begin;",
            "  Begin Transaction ; ",
            "START TRANSACTION;",
        ] {
            assert!(runs_in_place(sql), "{sql}");
        }
        for sql in [
            "BEGIN; UPDATE t SET n = 1",
            "BEGIN ISOLATION LEVEL SERIALIZABLE",
            "BEGIN READ ONLY",
            "COMMIT",
            "BEGINNING",
            "SELECT 'BEGIN'",
            "",
        ] {
            assert!(!runs_in_place(sql), "{sql}");
        }
    }
}

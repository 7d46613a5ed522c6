//! GlueSQL's storage traits (`Store`, `StoreMut`, `Transaction`, `Index`,
//! `IndexMut`, `AlterTable`, `Planner`) over the encrypted engine.
//!
//! Every SQL table is an engine table with the same columns and types (a
//! faithful mapping, so native `scan_table`/`get_by_pk` see SQL rows and SQL
//! sees tables created through the Rust API). GlueSQL's extra schema (column
//! defaults, UNIQUE, index names) and our PostgreSQL extras (SERIAL columns,
//! VARCHAR limits) live in one sealed key-value record per table. Tables
//! without a primary key get a hidden `__heliosdb_rowid` BIGINT primary key
//! drawn from an encrypted sequence, so every row has an address for UPDATE
//! and DELETE. Nothing here touches RocksDB: all reads and writes go through
//! the engine's public API and therefore through its seal boundary.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use gluesql_core::ast::{ColumnDef, ColumnUniqueOption, Expr, IndexOperator, OrderByExpr};
use gluesql_core::data::{Key, Schema as GSchema, SchemaIndex, SchemaIndexOrd, Value as GValue};
use gluesql_core::error::{Error as GError, Result as GResult};
use gluesql_core::plan::StatementPlan;
use gluesql_core::planner::{
    fetch_schema_map, plan_aggregate, plan_hash_join, plan_index, plan_primary_key,
    plan_schemaless, validate,
};
use gluesql_core::store::{
    AlterTable, CustomFunction, CustomFunctionMut, Index, IndexMut, Metadata, Planner, RowIter,
    Store, StoreMut, Transaction,
};
use heliosdb_core::{Column, DataType, Schema, StorageEngine, Tuple, Value};
use serde::{Deserialize, Serialize};

use crate::convert::{
    engine_to_key, engine_type, glue_type, key_to_engine, to_engine_typed, to_glue,
};
use crate::{limits, sqlstate, Result, SqlError};

/// Key-value prefix of the SQL layer's own (sealed) metadata.
pub(crate) const META_PREFIX: &str = "__heliosdb_sql/";
/// Hidden primary key of tables declared without one.
pub(crate) const ROWID: &str = "__heliosdb_rowid";

/// Serialises sequence allocation in this process (values are persisted
/// through the engine, so allocation survives restarts).
static SEQ_LOCK: Mutex<()> = Mutex::new(());

#[cfg(test)]
thread_local! {
    /// Rows table scans on this thread have pulled from the engine (tests
    /// of the scan push-down count reads with it instead of timing them).
    pub(crate) static SCANNED_ROWS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// What the SQL layer stores per table, sealed in the key-value store.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TableMeta {
    pub schema: GSchema,
    /// SERIAL / BIGSERIAL / SMALLSERIAL columns (filled from a sequence when omitted).
    #[serde(default)]
    pub serial: Vec<String>,
    /// `VARCHAR(n)` / `CHAR(n)` limits, in characters.
    #[serde(default)]
    pub varchar: Vec<(String, u64)>,
    /// `NUMERIC(p, s)` columns: precision and scale (values are rounded to
    /// the scale and must fit the precision, as in PostgreSQL).
    #[serde(default)]
    pub numeric: Vec<(String, u32, u32)>,
    /// CHECK constraints (see [`crate::ddl`]), as the user wrote them.
    #[serde(default)]
    pub checks: Vec<crate::ddl::CheckDef>,
    /// `GENERATED ALWAYS AS IDENTITY` columns (also listed in `serial`).
    #[serde(default)]
    pub identity_always: Vec<String>,
    /// Named UNIQUE constraints and unique indexes: (name, column).
    #[serde(default)]
    pub unique_names: Vec<(String, String)>,
    /// `CHAR(n)` columns (their limit is in `varchar`): values are stored
    /// blank-padded to the limit, as PostgreSQL's `bpchar`.
    #[serde(default)]
    pub bpchar: Vec<String>,
    /// `JSON` columns: values are checked to be JSON and kept as written.
    #[serde(default)]
    pub json: Vec<String>,
    /// `JSONB` columns: values are stored in PostgreSQL's normalised text.
    #[serde(default)]
    pub jsonb: Vec<String>,
    /// PRIMARY KEY / UNIQUE constraints on several columns (checked by the
    /// SQL layer, see [`crate::keys`]).
    #[serde(default)]
    pub composite: Vec<crate::keys::CompositeKey>,
    /// Referential actions of this table's foreign keys (GlueSQL's schema
    /// records them as NO ACTION; see [`crate::keys`]).
    #[serde(default)]
    pub fk_actions: Vec<crate::keys::FkAction>,
    /// Columns whose default is `nextval('sequence')`: (column, sequence).
    #[serde(default)]
    pub seq_defaults: Vec<(String, String)>,
}

/// A table as the SQL layer sees it: GlueSQL schema plus engine schema.
#[derive(Clone, Debug)]
pub(crate) struct TableInfo {
    pub meta: TableMeta,
    pub engine: Schema,
    /// Whether the engine table carries the hidden row-id key (last column).
    pub hidden_rowid: bool,
    /// `meta.checks`, compiled.
    pub checks: Vec<crate::ddl::CompiledCheck>,
}

impl TableInfo {
    /// Visible columns (name, engine type).
    pub fn columns(&self) -> impl Iterator<Item = &Column> {
        let n = self.visible_len();
        self.engine.columns[..n].iter()
    }

    pub fn visible_len(&self) -> usize {
        self.engine.columns.len() - usize::from(self.hidden_rowid)
    }

    pub fn column_type(&self, name: &str) -> Option<DataType> {
        self.columns()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.data_type)
    }

    /// The types of the columns an INSERT with column list `columns`
    /// writes, in order (every column's when the list is empty; `None`
    /// for a name the table lacks).
    pub(crate) fn insert_types(
        &self,
        columns: &[gluesql_core::sqlparser::ast::Ident],
    ) -> Vec<Option<DataType>> {
        if columns.is_empty() {
            self.columns().map(|c| Some(c.data_type)).collect()
        } else {
            columns.iter().map(|c| self.column_type(&c.value)).collect()
        }
    }

    /// Whether column `name` is declared `json` or `jsonb`.
    pub fn column_json(&self, name: &str) -> Option<crate::Json> {
        let is = |list: &[String]| list.iter().any(|c| c.eq_ignore_ascii_case(name));
        if is(&self.meta.jsonb) {
            Some(crate::Json::Jsonb)
        } else if is(&self.meta.json) {
            Some(crate::Json::Json)
        } else {
            None
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests(name: &str, engine: Schema) -> TableInfo {
        table_info(name, engine, None).expect("synthesised table info")
    }

    fn pk_type(&self) -> Option<DataType> {
        self.engine
            .primary_key_index()
            .map(|i| self.engine.columns[i].data_type)
    }
}

type TableMap = Arc<BTreeMap<String, Arc<TableInfo>>>;

/// State shared by the SQL sessions of one engine: a cache of table
/// definitions, refreshed whenever a session changes the schema, and the
/// lock that lets an autocommit statement that keeps losing conflicts run
/// alone (so every statement finishes: no starvation).
#[derive(Debug, Default)]
pub struct SqlShared {
    /// The engine's schema generation the map was read at, and the map.
    tables: RwLock<Option<(u64, TableMap)>>,
    pub(crate) serial: RwLock<()>,
    /// Hidden row ids reserved ahead, per table (see [`next_rowids`]).
    rowids: Mutex<HashMap<String, RowIdBlock>>,
}

/// Row ids of a table without a primary key, reserved in its sequence but
/// not handed out yet: `next..end`, valid while the schema generation is
/// `generation` and the table's sequence is not reset.
#[derive(Debug)]
struct RowIdBlock {
    generation: u64,
    next: i64,
    end: i64,
}

/// How many hidden row ids one write of a table's sequence reserves (as
/// PostgreSQL logs a sequence 32 values ahead): an INSERT of one row into a
/// table without a primary key then writes (and syncs) the sequence once
/// per this many rows, not once per row. Ids reserved but not used are
/// skipped after a restart; they are never visible.
const ROWID_BLOCK: u64 = 64;

impl SqlShared {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn invalidate(&self) {
        *self.tables.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Forgets the row ids reserved for `table`: its sequence was reset,
    /// moved or removed.
    pub(crate) fn forget_rowids(&self, table: &str) {
        self.rowids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(table);
    }

    pub(crate) fn tables(&self, engine: &StorageEngine) -> Result<TableMap> {
        let generation = engine.schema_generation();
        // A transaction that created or dropped tables sees its own
        // catalog (definitions written in it, invisible to others; tables
        // it dropped gone): never cached.
        let private = engine.transaction_changed_tables();
        if !private {
            if let Some((g, t)) = self
                .tables
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
            {
                if *g == generation {
                    return Ok(Arc::clone(t));
                }
            }
        }
        let mut map = BTreeMap::new();
        for name in engine.catalog().list_tables()? {
            if name.starts_with(crate::alter::SCRATCH_PREFIX) {
                // A table being rebuilt by ALTER TABLE (see `crate::alter`).
                continue;
            }
            let schema = engine.catalog().get_table_schema(&name)?;
            let stored = engine.get(meta_key(&name).as_bytes())?;
            let info = table_info(&name, schema, stored)?;
            map.insert(name, Arc::new(info));
        }
        let map = Arc::new(map);
        if !private {
            *self.tables.write().unwrap_or_else(PoisonError::into_inner) =
                Some((generation, Arc::clone(&map)));
        }
        Ok(map)
    }

    pub(crate) fn table(&self, engine: &StorageEngine, name: &str) -> Result<Arc<TableInfo>> {
        self.tables(engine)?
            .get(name)
            .cloned()
            .ok_or_else(|| SqlError::State {
                code: crate::sqlstate::UNDEFINED_TABLE,
                message: format!("relation \"{name}\" does not exist"),
            })
    }
}

/// Stores the SQL metadata of a table (and drops the cached definitions).
pub(crate) fn save_table_meta(
    engine: &StorageEngine,
    shared: &SqlShared,
    name: &str,
    meta: &TableMeta,
) -> Result<()> {
    let bytes = serde_json::to_vec(meta)
        .map_err(|e| SqlError::Engine(format!("SQL metadata of table '{name}': {e}")))?;
    engine.put(meta_key(name).as_bytes(), &bytes)?;
    shared.invalidate();
    Ok(())
}

pub(crate) fn meta_key(table: &str) -> String {
    format!("{META_PREFIX}table/{table}")
}

pub(crate) fn seq_key(table: &str, column: &str) -> String {
    format!("{META_PREFIX}seq/{table}/{column}")
}

/// The table's SQL view: stored metadata, or one synthesised from the engine
/// schema for tables created through the Rust API.
fn table_info(name: &str, engine: Schema, stored: Option<Vec<u8>>) -> Result<TableInfo> {
    let hidden_rowid = engine
        .columns
        .last()
        .is_some_and(|c| c.name == ROWID && c.primary_key);
    let meta = match stored {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| SqlError::Engine(format!("SQL metadata of table '{name}': {e}")))?,
        None => TableMeta {
            schema: GSchema {
                table_name: name.to_string(),
                column_defs: Some(
                    engine
                        .columns
                        .iter()
                        .filter(|c| !(hidden_rowid && c.name == ROWID))
                        .map(|c| ColumnDef {
                            name: c.name.clone(),
                            data_type: glue_type(c.data_type),
                            nullable: c.nullable,
                            default: None,
                            unique: c
                                .primary_key
                                .then_some(ColumnUniqueOption { is_primary: true }),
                            comment: None,
                        })
                        .collect(),
                ),
                indexes: Vec::new(),
                engine: None,
                foreign_keys: Vec::new(),
                comment: None,
            },
            serial: Vec::new(),
            varchar: Vec::new(),
            numeric: Vec::new(),
            checks: Vec::new(),
            identity_always: Vec::new(),
            unique_names: Vec::new(),
            bpchar: Vec::new(),
            json: Vec::new(),
            jsonb: Vec::new(),
            composite: Vec::new(),
            fk_actions: Vec::new(),
            seq_defaults: Vec::new(),
        },
    };
    let checks = meta
        .checks
        .iter()
        .map(crate::ddl::compile_check)
        .collect::<Result<Vec<_>>>()?;
    Ok(TableInfo {
        meta,
        engine,
        hidden_rowid,
        checks,
    })
}

/// Reserves `n` consecutive values of a sequence; returns the first.
///
/// Sequences are not transactional (as in PostgreSQL): the allocation runs
/// outside the calling thread's engine transaction, so a rollback never
/// hands out a value twice and concurrent transactions do not conflict on
/// the counter.
pub(crate) fn next_values(engine: &StorageEngine, key: &str, n: u64) -> Result<i64> {
    let alloc = || -> Result<i64> {
        let _guard = SEQ_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        let next = match engine.get(key.as_bytes())? {
            Some(b) => i64::from_be_bytes(
                b.as_slice()
                    .try_into()
                    .map_err(|_| SqlError::Engine(format!("sequence '{key}' is corrupt")))?,
            ),
            None => 1,
        };
        let n = i64::try_from(n).map_err(|_| SqlError::Engine("sequence overflow".into()))?;
        let end = next
            .checked_add(n)
            .ok_or_else(|| SqlError::Engine(format!("sequence '{key}' is exhausted")))?;
        engine.put(key.as_bytes(), &end.to_be_bytes())?;
        Ok(next)
    };
    untransacted(engine, alloc)
}

/// Hands out `n` consecutive hidden row ids of `table` (a table without a
/// primary key); returns the first. Takes them from the ids reserved ahead
/// when there are enough, else reserves `n` or [`ROWID_BLOCK`], whichever
/// is more, with one [`next_values`].
fn next_rowids(engine: &StorageEngine, shared: &SqlShared, table: &str, n: u64) -> Result<i64> {
    let generation = engine.schema_generation();
    let mut blocks = shared.rowids.lock().unwrap_or_else(PoisonError::into_inner);
    let wanted = i64::try_from(n).map_err(|_| SqlError::Engine("sequence overflow".into()))?;
    if let Some(b) = blocks.get_mut(table) {
        if b.generation == generation && b.end - b.next >= wanted {
            let first = b.next;
            b.next += wanted;
            return Ok(first);
        }
    }
    let reserve = n.max(ROWID_BLOCK);
    let first = next_values(engine, &seq_key(table, ROWID), reserve)?;
    let end = first + reserve as i64;
    blocks.insert(
        table.to_string(),
        RowIdBlock {
            generation,
            next: first + wanted,
            end,
        },
    );
    Ok(first)
}

/// Runs `f` outside the calling thread's transaction, if it has one, as
/// part of the statement's one audit event.
fn untransacted<T>(engine: &StorageEngine, f: impl FnOnce() -> T) -> T {
    if !engine.in_transaction() {
        return f();
    }
    engine.outside_transaction(|| {
        let _scope = heliosdb_core::audit::statement_scope();
        f()
    })
}

/// Runs `f` holding the sequence lock, outside the calling thread's
/// transaction (sequences are not transactional: see [`next_values`]).
pub(crate) fn sequence_op<T>(engine: &StorageEngine, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let run = || {
        let _guard = SEQ_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        f()
    };
    untransacted(engine, run)
}

/// Sets the next value a SERIAL column's sequence hands out (`setval`).
pub(crate) fn set_next_value(engine: &StorageEngine, key: &str, next: i64) -> Result<()> {
    sequence_op(engine, || {
        engine.put(key.as_bytes(), &next.to_be_bytes())?;
        Ok(())
    })
}

/// Removes the sequences of `columns` of `table` (next value 1 again).
/// Sequences are not transactional: like [`next_values`], this runs outside
/// the calling thread's transaction.
fn reset_sequences(engine: &StorageEngine, table: &str, columns: &[String]) -> Result<()> {
    let reset = || -> Result<()> {
        let _guard = SEQ_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        for c in columns {
            engine.delete(seq_key(table, c).as_bytes())?;
        }
        Ok(())
    };
    untransacted(engine, reset)
}

/// What kind of statement is running: decides whether an autocommit
/// statement gets its own engine transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StmtKind {
    /// INSERT / UPDATE / DELETE: atomic, in an engine transaction.
    Write,
    /// Everything else (reads see committed data; DDL commits at once).
    Other,
}

/// Metadata a `CREATE TABLE` carries beyond GlueSQL's schema.
#[derive(Clone, Debug, Default)]
pub(crate) struct PendingMeta {
    pub serial: Vec<String>,
    /// `TIMESTAMPTZ` columns (GlueSQL sees a UTC `TIMESTAMP`).
    pub timestamptz: Vec<String>,
    pub varchar: Vec<(String, u64)>,
    pub numeric: Vec<(String, u32, u32)>,
    pub checks: Vec<crate::ddl::CheckDef>,
    pub identity_always: Vec<String>,
    pub unique_names: Vec<(String, String)>,
    pub bpchar: Vec<String>,
    pub json: Vec<String>,
    pub jsonb: Vec<String>,
    pub composite: Vec<crate::keys::CompositeKey>,
    pub fk_actions: Vec<crate::keys::FkAction>,
    pub seq_defaults: Vec<(String, String)>,
}

/// GlueSQL storage over one engine, for one statement.
pub(crate) struct EngineStore<'a> {
    pub engine: &'a StorageEngine,
    pub shared: &'a SqlShared,
    pub kind: StmtKind,
    pub pending: Option<PendingMeta>,
    /// Primary-key bounds for the statement's first scan of one table
    /// (see [`crate::pushdown`]); taken by that scan.
    pub pk_range: std::cell::RefCell<Option<crate::pushdown::PkRange>>,
    /// Set when the statement reads `pg_catalog`/`information_schema`
    /// relations (see [`crate::system`]): who is asking.
    pub system: Option<crate::system::Identity>,
    /// An UPDATE or DELETE: the row a primary-key point lookup finds is
    /// read for update (its row lock taken, the newest committed version
    /// read), so concurrent read-modify-writes of one row queue instead of
    /// failing with 40001 at commit.
    pub for_update: bool,
    /// An UPDATE's assigned columns: its `UNIQUE` ones are checked by
    /// `insert_data` (see `keys::check_unique_columns`).
    pub assigned: Vec<String>,
    /// Set when the statement's rows stream out chunk by chunk (see
    /// [`crate::stream`]): its one table scan is opened once, and each run
    /// of the plan reads the next chunk of it.
    pub chunk: Option<Chunk<'a>>,
    /// Derived columns of the statement's JSON operators (see
    /// [`crate::jsonops`]): each table's are appended to its schema and
    /// computed for every row read.
    pub json: Vec<crate::jsonops::Derived>,
}

/// The scan a streamed statement reads in chunks: opened by the first run
/// of the plan, each run reads at most `size` more rows of it (a
/// consistent snapshot across runs: one engine iterator).
pub(crate) struct Chunk<'a> {
    /// The table scanned.
    pub table: String,
    /// Rows a run of the plan reads.
    pub size: usize,
    rows: std::cell::RefCell<Option<RowIter<'a>>>,
    /// A run of the plan opened the scan.
    pub opened: std::cell::Cell<bool>,
    /// The scan has no rows left.
    pub exhausted: std::cell::Cell<bool>,
    /// Rows the current run read.
    pub read: std::cell::Cell<usize>,
}

impl<'a> Chunk<'a> {
    /// A chunked scan of `table`, `size` rows a run.
    pub fn new(table: String, size: usize) -> Self {
        Chunk {
            table,
            size: size.max(1),
            rows: std::cell::RefCell::new(None),
            opened: std::cell::Cell::new(false),
            exhausted: std::cell::Cell::new(false),
            read: std::cell::Cell::new(0),
        }
    }

    /// The next row of the scan within this run's `size`.
    fn next_row(&self) -> Option<GResult<(Key, Vec<GValue>)>> {
        if self.read.get() >= self.size || self.exhausted.get() {
            return None;
        }
        let next = self.rows.borrow_mut().as_mut().and_then(Iterator::next);
        match next {
            Some(row) => {
                self.read.set(self.read.get() + 1);
                Some(row)
            }
            None => {
                self.exhausted.set(true);
                None
            }
        }
    }
}

/// The text a `VARCHAR(n)`, `CHAR(n)`, `JSON` or `JSONB` column stores for
/// `s` (`None`: `s` as it is), as PostgreSQL stores it: a `CHAR(n)` value
/// blank-padded to `n` (spaces past `n` dropped), a `JSONB` value
/// normalised, a `JSON` value checked.
///
/// # Errors
/// 22001 for a value longer than the limit, 22P02 for text that is not JSON.
pub(crate) fn column_text(
    meta: &TableMeta,
    column: &str,
    s: &str,
) -> crate::Result<Option<String>> {
    if meta.jsonb.iter().any(|c| c == column) {
        return crate::json::jsonb_text(s).map(Some);
    }
    if meta.json.iter().any(|c| c == column) {
        crate::json::check_json(s)?;
        return Ok(None);
    }
    let Some((_, limit)) = meta.varchar.iter().find(|(n, _)| n == column) else {
        return Ok(None);
    };
    let bpchar = meta.bpchar.iter().any(|c| c == column);
    let len = if bpchar {
        s.trim_end_matches(' ').chars().count()
    } else {
        s.chars().count()
    } as u64;
    if len > *limit {
        let t = if bpchar {
            "character"
        } else {
            "character varying"
        };
        return Err(crate::SqlError::State {
            code: sqlstate::STRING_DATA_RIGHT_TRUNCATION,
            message: format!("value too long for type {t}({limit}) (column \"{column}\")"),
        });
    }
    if !bpchar {
        return Ok(None);
    }
    let n = usize::try_from(*limit).unwrap_or(usize::MAX);
    let mut out: String = s.trim_end_matches(' ').to_string();
    let have = out.chars().count();
    out.push_str(&" ".repeat(n.saturating_sub(have)));
    Ok(Some(out))
}

/// A value of a `NUMERIC(p, s)` column: rounded to `s` decimal places
/// (half away from zero, as PostgreSQL rounds) and refused (22003) when its
/// integer part has more than `p - s` digits.
fn numeric_fit(d: rust_decimal::Decimal, p: u32, s: u32) -> GResult<rust_decimal::Decimal> {
    use rust_decimal::RoundingStrategy;
    let r = d.round_dp_with_strategy(s, RoundingStrategy::MidpointAwayFromZero);
    let int_digits = {
        let t = r.trunc().abs();
        if t.is_zero() {
            0
        } else {
            t.to_string().len() as u32
        }
    };
    if int_digits > p.saturating_sub(s) {
        return Err(sqlstate::storage_error(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            format!(
                "numeric field overflow: a field with precision {p}, scale {s} must round to an \
                 absolute value less than 10^{}",
                p.saturating_sub(s)
            ),
        ));
    }
    let mut r = r;
    r.rescale(s);
    Ok(r)
}

pub(crate) fn gerr(e: impl std::fmt::Display) -> GError {
    GError::StorageMsg(e.to_string())
}

impl EngineStore<'_> {
    fn info(&self, table: &str) -> GResult<Arc<TableInfo>> {
        if self.system.is_some() && crate::system::is_system(table) {
            let tables = self.shared.tables(self.engine).map_err(gerr)?;
            if !tables.contains_key(table) {
                return Err(sqlstate::storage_error(
                    "42501",
                    format!("permission denied: \"{table}\" is a system catalog"),
                ));
            }
        }
        self.shared
            .table(self.engine, table)
            .map_err(sqlstate::storage_sql_error)
    }

    /// The GlueSQL (key, row) of a stored tuple.
    fn row_of(info: &TableInfo, tuple: &Tuple) -> GResult<(Key, Vec<GValue>)> {
        let n = info.visible_len();
        let pk = info
            .engine
            .primary_key_index()
            .ok_or_else(|| gerr("table has no primary key"))?;
        let key = engine_to_key(&tuple.values[pk]).map_err(gerr)?;
        Ok((key, tuple.values[..n].iter().map(to_glue).collect()))
    }

    /// The engine tuple of a GlueSQL row (plus the hidden row id, if any).
    fn tuple_of(info: &TableInfo, row: &[GValue], rowid: Option<i64>) -> GResult<Tuple> {
        let n = info.visible_len();
        if row.len() != n {
            return Err(gerr(format!(
                "expected {n} values, got {} (table '{}')",
                row.len(),
                info.meta.schema.table_name
            )));
        }
        let mut values = Vec::with_capacity(info.engine.columns.len());
        for (c, v) in info.columns().zip(row) {
            let mut value =
                to_engine_typed(v, c.data_type, &c.name).map_err(sqlstate::storage_sql_error)?;
            if let Value::Numeric(d) = &value {
                if let Some((_, p, sc)) = info.meta.numeric.iter().find(|(n, ..)| *n == c.name) {
                    value = Value::Numeric(numeric_fit(*d, *p, *sc)?);
                }
            }
            if let Value::String(s) = &value {
                if let Some(text) =
                    column_text(&info.meta, &c.name, s).map_err(sqlstate::storage_sql_error)?
                {
                    value = Value::String(text);
                }
            }
            values.push(value);
        }
        crate::ddl::enforce_checks(info, &values)?;
        if info.hidden_rowid {
            let id = rowid.ok_or_else(|| gerr("missing row id"))?;
            values.push(Value::Int8(id));
        }
        Ok(Tuple::new(values))
    }

    fn save_meta(&self, name: &str, meta: &TableMeta) -> GResult<()> {
        save_table_meta(self.engine, self.shared, name, meta).map_err(gerr)
    }

    fn pk_value(info: &TableInfo, key: &Key) -> GResult<Value> {
        let t = info
            .pk_type()
            .ok_or_else(|| gerr("table has no primary key"))?;
        key_to_engine(key, t).map_err(gerr)
    }
}

impl Store for EngineStore<'_> {
    fn fetch_schema(&self, table_name: &str) -> GResult<Option<GSchema>> {
        let tables = self.shared.tables(self.engine).map_err(gerr)?;
        if let Some(t) = tables.get(table_name) {
            let mut schema = t.meta.schema.clone();
            if self.for_update {
                // An UPDATE's UNIQUE columns are checked by `insert_data`
                // (`keys::check_unique_columns`), not by GlueSQL.
                for d in schema.column_defs.iter_mut().flatten() {
                    if matches!(d.unique, Some(ColumnUniqueOption { is_primary: false })) {
                        d.unique = None;
                    }
                }
            }
            for d in self.json.iter().filter(|d| d.table == table_name) {
                schema.column_defs.get_or_insert_with(Vec::new).push(
                    gluesql_core::ast::ColumnDef {
                        name: d.name.clone(),
                        data_type: d.glue_type(),
                        nullable: true,
                        default: None,
                        unique: None,
                        comment: None,
                    },
                );
            }
            return Ok(Some(schema));
        }
        Ok(self
            .system
            .as_ref()
            .and_then(|_| crate::system::schema(table_name)))
    }

    fn fetch_all_schemas(&self) -> GResult<Vec<GSchema>> {
        Ok(self
            .shared
            .tables(self.engine)
            .map_err(gerr)?
            .values()
            .map(|t| t.meta.schema.clone())
            .collect())
    }

    fn fetch_data(&self, table_name: &str, key: &Key) -> GResult<Option<Vec<GValue>>> {
        let info = self.info(table_name)?;
        let pk = Self::pk_value(&info, key)?;
        let n = info.visible_len();
        let row = if self.for_update {
            self.engine.get_by_pk_for_update(table_name, &pk)
        } else {
            self.engine.get_by_pk(table_name, &pk)
        };
        row.map_err(gerr)?
            .map(|t| {
                let mut row: Vec<GValue> = t.values[..n].iter().map(to_glue).collect();
                self.derive(&info, table_name, &mut row)?;
                Ok(row)
            })
            .transpose()
    }

    fn scan_data<'s>(&'s self, table_name: &str) -> GResult<RowIter<'s>> {
        limits::check_deadline().map_err(gerr)?;
        if let Some(chunk) = self.chunk.as_ref().filter(|c| c.table == table_name) {
            if !chunk.opened.get() {
                let rows = self.open_scan(table_name)?;
                *chunk.rows.borrow_mut() = Some(rows);
                chunk.opened.set(true);
            }
            chunk.read.set(0);
            let rows = std::iter::from_fn(move || chunk.next_row());
            return self.with_derived(table_name, Box::new(rows));
        }
        let rows = self.open_scan(table_name)?;
        self.with_derived(table_name, rows)
    }
}

impl EngineStore<'_> {
    /// Appends the statement's derived columns of `table` to `row`.
    fn derive(&self, info: &TableInfo, table: &str, row: &mut Vec<GValue>) -> GResult<()> {
        for d in self.json.iter().filter(|d| d.table == table) {
            let source = info
                .columns()
                .position(|c| c.name == d.source)
                .and_then(|i| row.get(i))
                .ok_or_else(|| gerr(format!("column \"{}\" does not exist", d.source)))?;
            let v =
                d.op.apply(source, d.jsonb)
                    .map_err(sqlstate::storage_sql_error)?;
            row.push(v);
        }
        Ok(())
    }

    /// `rows` of `table` with the statement's derived JSON columns.
    fn with_derived<'r>(&'r self, table: &str, rows: RowIter<'r>) -> GResult<RowIter<'r>> {
        if !self.json.iter().any(|d| d.table == table) {
            return Ok(rows);
        }
        let info = self.info(table)?;
        let table = table.to_string();
        Ok(Box::new(rows.map(move |r| {
            let (key, mut row) = r?;
            self.derive(&info, &table, &mut row)?;
            Ok((key, row))
        })))
    }

    /// A row written back by an UPDATE, without its derived columns.
    fn without_derived(&self, info: &TableInfo, table: &str, row: &mut Vec<GValue>) {
        if self.json.iter().any(|d| d.table == table) {
            row.truncate(info.visible_len());
        }
    }
}

impl<'a> EngineStore<'a> {
    /// A scan of `table_name` as the statement's bounds ask (see
    /// [`crate::pushdown`]); it borrows the engine, not the store, so a
    /// chunked statement keeps it across runs of its plan.
    fn open_scan(&self, table_name: &str) -> GResult<RowIter<'a>> {
        if let Some(id) = &self.system {
            let tables = self.shared.tables(self.engine).map_err(gerr)?;
            if !tables.contains_key(table_name) && crate::system::is_system(table_name) {
                let rows = crate::system::keyed(crate::system::rows(table_name, &tables, id));
                return Ok(Box::new(rows.into_iter().map(Ok)));
            }
        }
        let info = self.info(table_name)?;
        let pushed = {
            let mut slot = self.pk_range.borrow_mut();
            if slot.as_ref().is_some_and(|r| r.table == table_name) {
                slot.take()
            } else {
                None
            }
        };
        if let Some(r) = pushed.as_ref().filter(|r| r.index_column.is_some()) {
            return self.index_range_scan(&info, table_name, r);
        }
        let (lower, upper, limit, reverse) = pushed
            .map_or((Bound::Unbounded, Bound::Unbounded, None, false), |r| {
                (r.lower, r.upper, r.limit, r.reverse)
            });
        if self.for_update {
            if let (Bound::Included(a), Bound::Included(b)) = (&lower, &upper) {
                if a == b {
                    // One row by its key: read it under its row lock.
                    let row = self
                        .engine
                        .get_by_pk_for_update(table_name, a)
                        .map_err(gerr)?;
                    #[cfg(test)]
                    SCANNED_ROWS.with(|n| n.set(n.get() + u64::from(row.is_some())));
                    let rows: Vec<GResult<(Key, Vec<GValue>)>> =
                        row.into_iter().map(|t| Self::row_of(&info, &t)).collect();
                    return Ok(Box::new(rows.into_iter()));
                }
            }
        }
        // Streamed: rows are read and decrypted as GlueSQL pulls them; an
        // `ORDER BY pk [DESC] LIMIT n` stops the scan after the rows it
        // needs (a descending scan reads backwards from the top).
        let stream = if reverse {
            self.engine.scan_table_range_rev(table_name, lower, upper)
        } else {
            self.engine.scan_table_range(table_name, lower, upper)
        };
        let rows = stream
            .map_err(gerr)?
            .take(limit.unwrap_or(usize::MAX))
            .map(move |t| {
                #[cfg(test)]
                SCANNED_ROWS.with(|n| n.set(n.get() + 1));
                t.map_err(gerr).and_then(|t| Self::row_of(&info, &t))
            });
        Ok(Box::new(limits::deadline_rows(rows)))
    }
}

impl EngineStore<'_> {
    /// The pushed bounds on an indexed column: the rows of that index
    /// range, read through the index and returned in primary-key order (the
    /// order of every table scan), descending for `reverse`.
    fn index_range_scan(
        &self,
        info: &Arc<TableInfo>,
        table_name: &str,
        r: &crate::pushdown::PkRange,
    ) -> GResult<RowIter<'static>> {
        let column = r.index_column.as_deref().unwrap_or_default();
        let pki = info
            .engine
            .primary_key_index()
            .ok_or_else(|| gerr(format!("table '{table_name}' has no primary key")))?;
        let mut tuples = Vec::new();
        for t in self
            .engine
            .scan_index_range(table_name, column, r.lower.clone(), r.upper.clone())
            .map_err(gerr)?
        {
            #[cfg(test)]
            SCANNED_ROWS.with(|n| n.set(n.get() + 1));
            limits::check_deadline().map_err(gerr)?;
            tuples.push(t.map_err(gerr)?);
        }
        tuples.sort_by(|a, b| a.values[pki].sort_cmp(&b.values[pki]));
        if r.reverse {
            tuples.reverse();
        }
        let rows: Vec<_> = tuples.iter().map(|t| Self::row_of(info, t)).collect();
        Ok(Box::new(rows.into_iter()))
    }

    /// The bounds pushed down for an index scan of `column` (see
    /// [`crate::pushdown`]), taken from the statement's slot.
    fn pushed_index_bounds(&self, table_name: &str, column: &str) -> (Bound<Value>, Bound<Value>) {
        let mut slot = self.pk_range.borrow_mut();
        match slot.take() {
            Some(r) if r.table == table_name && r.index_column.as_deref() == Some(column) => {
                (r.lower, r.upper)
            }
            other => {
                *slot = other;
                (Bound::Unbounded, Bound::Unbounded)
            }
        }
    }
}

impl StoreMut for EngineStore<'_> {
    fn insert_schema(&mut self, schema: &GSchema) -> GResult<()> {
        let name = schema.table_name.as_str();
        let tables = self.shared.tables(self.engine).map_err(gerr)?;
        if let Some(existing) = tables.get(name) {
            if existing.meta.schema.column_defs != schema.column_defs {
                return Err(gerr(format!(
                    "changing the columns of table '{name}' (ALTER TABLE) is not supported by \
                     the encrypted engine; create a new table and copy the rows"
                )));
            }
            let mut meta = existing.meta.clone();
            meta.schema = schema.clone();
            return self.save_meta(name, &meta);
        }
        let defs = schema.column_defs.as_ref().ok_or_else(|| {
            gerr("schemaless tables are not supported by the encrypted engine; declare columns")
        })?;
        let mut columns = Vec::with_capacity(defs.len() + 1);
        for d in defs {
            let mut t = engine_type(&d.data_type).ok_or_else(|| {
                gerr(format!(
                    "column \"{}\": type {} is not supported by the encrypted engine (supported: \
                     BOOLEAN, SMALLINT, INTEGER, BIGINT, DOUBLE PRECISION, NUMERIC, TEXT, \
                     VARCHAR(n), BYTEA, TIMESTAMP, TIMESTAMPTZ, DATE, TIME, INTERVAL, UUID)",
                    d.name, d.data_type
                ))
            })?;
            let tz = self
                .pending
                .as_ref()
                .is_some_and(|p| p.timestamptz.contains(&d.name));
            if t == DataType::Timestamp && tz {
                t = DataType::TimestampTz;
            }
            let mut c = Column::new(d.name.clone(), t);
            if matches!(d.unique, Some(ColumnUniqueOption { is_primary: true })) {
                c = c.primary_key();
            } else if !d.nullable {
                c = c.not_null();
            }
            columns.push(c);
        }
        if !columns.iter().any(|c| c.primary_key) {
            columns.push(Column::new(ROWID, DataType::Int8).primary_key());
        }
        self.engine
            .catalog()
            .create_table(name, Schema::new(columns))
            .map_err(gerr)?;
        let pending = self.pending.take().unwrap_or_default();
        // A new table's sequences start at 1, also when a table of the same
        // name had them before (its creating transaction rolled back, or it
        // was dropped).
        let mut seqs: Vec<String> = pending.serial.clone();
        seqs.push(ROWID.to_string());
        reset_sequences(self.engine, name, &seqs).map_err(gerr)?;
        self.shared.forget_rowids(name);
        let meta = TableMeta {
            schema: schema.clone(),
            serial: pending.serial,
            varchar: pending.varchar,
            numeric: pending.numeric,
            checks: pending.checks,
            identity_always: pending.identity_always,
            unique_names: pending.unique_names,
            bpchar: pending.bpchar,
            json: pending.json,
            jsonb: pending.jsonb,
            composite: pending.composite,
            fk_actions: pending.fk_actions,
            seq_defaults: pending.seq_defaults,
        };
        // The composite keys' uniqueness check probes an index on their
        // first column (see `crate::keys`). Without one (a table created in
        // a transaction block whose engine DDL could not index it) the check
        // scans the table instead: slower, equally correct.
        for k in &meta.composite {
            if let Err(e) = crate::keys::ensure_index(self.engine, name, &k.columns[0]) {
                tracing::debug!(table = name, error = %e, "composite key without an index");
            }
        }
        let saved = self.save_meta(name, &meta);
        if saved.is_err() {
            // Keep the catalog and the SQL metadata in step.
            let _ = self.engine.catalog().drop_table(name);
            self.shared.invalidate();
        }
        saved
    }

    fn delete_schema(&mut self, table_name: &str) -> GResult<()> {
        let info = self.info(table_name)?;
        self.engine.catalog().drop_table(table_name).map_err(gerr)?;
        self.engine
            .delete(meta_key(table_name).as_bytes())
            .map_err(gerr)?;
        for col in &info.meta.serial {
            self.engine
                .delete(seq_key(table_name, col).as_bytes())
                .map_err(gerr)?;
        }
        self.engine
            .delete(seq_key(table_name, ROWID).as_bytes())
            .map_err(gerr)?;
        self.shared.forget_rowids(table_name);
        self.shared.invalidate();
        Ok(())
    }

    fn append_data(&mut self, table_name: &str, rows: Vec<Vec<GValue>>) -> GResult<()> {
        let info = self.info(table_name)?;
        let first = if info.hidden_rowid && !rows.is_empty() {
            Some(
                next_rowids(self.engine, self.shared, table_name, rows.len() as u64)
                    .map_err(gerr)?,
            )
        } else {
            None
        };
        let mut rows = rows;
        for r in &mut rows {
            self.without_derived(&info, table_name, r);
        }
        let tuples = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Self::tuple_of(&info, r, first.map(|f| f + i as i64)))
            .collect::<GResult<Vec<_>>>()?;
        crate::keys::check_unique(self.engine, table_name, &info, &tuples, &[])?;
        self.engine.insert_batch(table_name, tuples).map_err(gerr)
    }

    fn insert_data(&mut self, table_name: &str, rows: Vec<(Key, Vec<GValue>)>) -> GResult<()> {
        let info = self.info(table_name)?;
        let mut tuples = Vec::with_capacity(rows.len());
        for (key, mut row) in rows {
            self.without_derived(&info, table_name, &mut row);
            let rowid = match (&key, info.hidden_rowid) {
                (Key::I64(id), true) => Some(*id),
                (_, true) => return Err(gerr("row id of a hidden-key table must be BIGINT")),
                _ => None,
            };
            tuples.push(Self::tuple_of(&info, &row, rowid)?);
        }
        if !info.meta.composite.is_empty() || self.for_update {
            let replaced: Vec<Value> = info
                .engine
                .primary_key_index()
                .map(|i| tuples.iter().map(|t| t.values[i].clone()).collect())
                .unwrap_or_default();
            crate::keys::check_unique(self.engine, table_name, &info, &tuples, &replaced)?;
            if self.for_update {
                crate::keys::check_unique_columns(
                    self.engine,
                    table_name,
                    &info,
                    &self.assigned,
                    &tuples,
                    &replaced,
                )?;
            }
        }
        for tuple in tuples {
            // GlueSQL's insert_data is an upsert (UPDATE writes through it too).
            if !self
                .engine
                .update_tuple(table_name, tuple.clone())
                .map_err(gerr)?
            {
                self.engine.insert_tuple(table_name, tuple).map_err(gerr)?;
            }
        }
        Ok(())
    }

    fn delete_data(&mut self, table_name: &str, keys: Vec<Key>) -> GResult<()> {
        let info = self.info(table_name)?;
        for key in keys {
            let pk = Self::pk_value(&info, &key)?;
            self.engine.delete_by_pk(table_name, &pk).map_err(gerr)?;
        }
        Ok(())
    }
}

impl Transaction for EngineStore<'_> {
    fn begin(&mut self, autocommit: bool) -> GResult<bool> {
        if autocommit {
            if self.engine.in_transaction() || self.kind != StmtKind::Write {
                return Ok(false);
            }
            self.engine.begin_transaction().map_err(gerr)?;
            return Ok(true);
        }
        if self.engine.in_transaction() {
            return Err(gerr("there is already a transaction in progress"));
        }
        self.engine.begin_transaction().map_err(gerr)?;
        Ok(false)
    }

    fn rollback(&mut self) -> GResult<()> {
        if self.engine.in_transaction() {
            self.engine.rollback().map_err(gerr)?;
        }
        Ok(())
    }

    fn commit(&mut self) -> GResult<()> {
        if self.engine.in_transaction() {
            self.engine.commit().map_err(gerr)?;
        }
        Ok(())
    }
}

fn index_column<'i>(info: &'i TableInfo, index_name: &str) -> GResult<&'i str> {
    let index = info
        .meta
        .schema
        .indexes
        .iter()
        .find(|i| i.name == index_name)
        .ok_or_else(|| gerr(format!("index \"{index_name}\" does not exist")))?;
    match &index.expr {
        Expr::Identifier(c) => Ok(c.as_str()),
        _ => Err(gerr("only single-column indexes are supported")),
    }
}

impl Index for EngineStore<'_> {
    fn scan_indexed_data<'a>(
        &'a self,
        table_name: &str,
        index_name: &str,
        asc: Option<bool>,
        cmp_value: Option<(&IndexOperator, GValue)>,
    ) -> GResult<RowIter<'a>> {
        limits::check_deadline().map_err(gerr)?;
        let info = self.info(table_name)?;
        let column = index_column(&info, index_name)?;
        let col = info
            .engine
            .column_index(column)
            .ok_or_else(|| gerr(format!("column \"{column}\" does not exist")))?;
        let t = info.engine.columns[col].data_type;
        let desc = asc == Some(false);
        // Bounds of the whole WHERE on this column, when push-down found
        // them (GlueSQL hands over one comparison; `x >= a AND x <= b`
        // reads [a, b], not [a, ∞)).
        let (lower, upper) = self.pushed_index_bounds(table_name, column);
        // Pushed bounds come from comparisons, which NULL never passes.
        let bounded = !matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded));
        let range = |lo: Bound<Value>, hi: Bound<Value>| {
            let lo = crate::pushdown::tighter_lower(lo, lower.clone());
            let hi = crate::pushdown::tighter_upper(hi, upper.clone());
            if desc {
                self.engine.scan_index_range_rev(table_name, column, lo, hi)
            } else {
                self.engine.scan_index_range(table_name, column, lo, hi)
            }
        };
        // Rows in the order of the column (ties in key order), streamed
        // from the index range: an `ORDER BY col LIMIT n` reads n entries.
        let rows: Box<dyn Iterator<Item = heliosdb_core::Result<Tuple>> + 'a> = match &cmp_value {
            // `col IS NULL`.
            Some((IndexOperator::Eq, GValue::Null)) => Box::new(
                self.engine
                    .find_by(table_name, column, &Value::Null)
                    .map_err(gerr)?
                    .into_iter()
                    .map(Ok),
            ),
            // `col IS NOT NULL` (GlueSQL's encoding: less than NULL).
            Some((IndexOperator::Lt, GValue::Null)) => {
                Box::new(range(Bound::Unbounded, Bound::Unbounded).map_err(gerr)?)
            }
            // No other comparison with NULL is true.
            Some((_, GValue::Null)) => Box::new(std::iter::empty()),
            Some((op, v)) => {
                let v = to_engine_typed(v, t, column).map_err(gerr)?;
                let (lo, hi) = match op {
                    IndexOperator::Eq => (Bound::Included(v.clone()), Bound::Included(v)),
                    IndexOperator::Gt => (Bound::Excluded(v), Bound::Unbounded),
                    IndexOperator::GtEq => (Bound::Included(v), Bound::Unbounded),
                    IndexOperator::Lt => (Bound::Unbounded, Bound::Excluded(v)),
                    IndexOperator::LtEq => (Bound::Unbounded, Bound::Included(v)),
                };
                Box::new(range(lo, hi).map_err(gerr)?)
            }
            // `ORDER BY col`: NULLs last, first for DESC (GlueSQL's and
            // PostgreSQL's order; this used to put them first).
            None => {
                let nulls = || -> GResult<_> {
                    Ok(self
                        .engine
                        .find_by(table_name, column, &Value::Null)
                        .map_err(gerr)?
                        .into_iter()
                        .map(Ok))
                };
                let values = range(Bound::Unbounded, Bound::Unbounded).map_err(gerr)?;
                if bounded {
                    Box::new(values)
                } else if desc {
                    let mut n: Vec<_> = nulls()?.collect();
                    n.reverse();
                    Box::new(n.into_iter().chain(values))
                } else {
                    Box::new(values.chain(nulls()?))
                }
            }
        };
        let rows = rows.map(move |t| {
            #[cfg(test)]
            SCANNED_ROWS.with(|n| n.set(n.get() + 1));
            t.map_err(gerr).and_then(|t| Self::row_of(&info, &t))
        });
        self.with_derived(table_name, Box::new(limits::deadline_rows(rows)))
    }
}

impl IndexMut for EngineStore<'_> {
    fn create_index(
        &mut self,
        table_name: &str,
        index_name: &str,
        column: &OrderByExpr,
    ) -> GResult<()> {
        let info = self.info(table_name)?;
        let Expr::Identifier(col) = &column.expr else {
            return Err(gerr(
                "only single-column indexes (CREATE INDEX name ON table (column)) are supported",
            ));
        };
        if info
            .meta
            .schema
            .indexes
            .iter()
            .any(|i| i.name == index_name)
        {
            return Err(sqlstate::storage_error(
                sqlstate::DUPLICATE_TABLE,
                format!("relation \"{index_name}\" already exists"),
            ));
        }
        if let Err(e) = self.engine.catalog().create_index(table_name, col) {
            // The engine has no DROP INDEX: an index dropped in SQL stays
            // maintained by the engine and is simply picked up again.
            if !e.to_string().contains("already exists") {
                return Err(gerr(e));
            }
        }
        let mut meta = info.meta.clone();
        meta.schema.indexes.push(SchemaIndex {
            name: index_name.to_string(),
            expr: column.expr.clone(),
            order: SchemaIndexOrd::Both,
            created: chrono::Utc::now().naive_utc(),
        });
        self.save_meta(table_name, &meta)
    }

    fn drop_index(&mut self, table_name: &str, index_name: &str) -> GResult<()> {
        let info = self.info(table_name)?;
        let mut meta = info.meta.clone();
        let before = meta.schema.indexes.len();
        meta.schema.indexes.retain(|i| i.name != index_name);
        if meta.schema.indexes.len() == before {
            return Err(sqlstate::storage_error(
                sqlstate::UNDEFINED_OBJECT,
                format!("index \"{index_name}\" does not exist"),
            ));
        }
        self.save_meta(table_name, &meta)
    }
}

impl AlterTable for EngineStore<'_> {}
impl Metadata for EngineStore<'_> {}
/// No user-defined functions: a function GlueSQL does not know is
/// PostgreSQL's `undefined_function` (42883), not an internal error.
impl CustomFunction for EngineStore<'_> {
    fn fetch_function<'a>(
        &'a self,
        func_name: &str,
    ) -> gluesql_core::error::Result<Option<&'a gluesql_core::data::CustomFunction>> {
        Err(crate::sqlstate::storage_error(
            crate::sqlstate::UNDEFINED_FUNCTION,
            format!(
                "function {}(…) does not exist or is not supported",
                func_name.to_ascii_lowercase()
            ),
        ))
    }
}
impl CustomFunctionMut for EngineStore<'_> {}

impl Planner for EngineStore<'_> {
    fn plan(&self, statement: StatementPlan) -> GResult<StatementPlan> {
        let schema_map = fetch_schema_map(self, &statement)?;
        validate(&schema_map, &statement)?;
        let statement = plan_schemaless(&schema_map, statement)?;
        let statement = plan_primary_key(&schema_map, statement);
        // The default planner stops here; secondary indexes need plan_index.
        let statement = plan_index(&schema_map, statement);
        let statement = plan_hash_join(&schema_map, statement);
        Ok(plan_aggregate(statement))
    }
}

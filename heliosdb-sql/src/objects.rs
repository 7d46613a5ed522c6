//! Views and sequences: relations that are not engine tables.
//!
//! A view is its defining query, stored sealed in the key-value store
//! (`__heliosdb_sql/view/<name>`) with its column names and types as they
//! were when it was created, and the relations it reads. A statement that
//! names a view reads it as a derived table: the reference is replaced by
//! `(defining query) AS name(columns…)` before anything else looks at the
//! statement, so a view behaves exactly as its query written in its place
//! (joins, filters, aggregates, views over views). Views are read-only:
//! INSERT, UPDATE and DELETE on a view are refused with 0A000. Dropping a
//! table or view another view reads is refused (2BP01) unless `CASCADE`
//! drops those views too; changing the columns or name of a table a view
//! reads is refused (the stored query would no longer mean what it meant).
//!
//! A sequence is a definition (`__heliosdb_sql/sequence/<name>`: type,
//! start, increment, bounds, cycle) and a state (`…/seqstate/<name>`: the
//! last value and whether it was handed out). `nextval` advances the state
//! under the process's sequence lock and outside the caller's transaction,
//! so concurrent callers never get the same value and a rollback does not
//! give a value back, as in PostgreSQL. `currval` is per session. The
//! sequences of SERIAL and identity columns answer to their PostgreSQL
//! names (`<table>_<column>_seq`) too.
//!
//! `nextval`, `setval` and `currval` are evaluated before the statement
//! runs, where PostgreSQL evaluates them exactly once: in the select list
//! of a query without FROM and in the rows of `INSERT … VALUES` (also as a
//! column's DEFAULT). Elsewhere (per row of a query or an UPDATE) nextval
//! and setval are refused with 0A000; currval, which does not change within
//! such a statement, is evaluated anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    visit_relations, AlterTableOperation, CastKind, DataType as SqlType, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, Ident, ObjectName, ObjectType, Query, SelectItem,
    SequenceOptions, SetExpr, Statement, TableAlias, TableFactor, UnaryOperator, Value as SqlValue,
    Visit, VisitMut, Visitor, VisitorMut,
};
use heliosdb_core::{DataType, StorageEngine, Value};
use serde::{Deserialize, Serialize};

use crate::sqlstate::{DUPLICATE_TABLE, FEATURE_NOT_SUPPORTED, UNDEFINED_TABLE};
use crate::store::{next_values, seq_key, sequence_op, TableInfo, META_PREFIX};
use crate::{QueryResult, Result, SqlError};

/// SQLSTATE of a drop refused because other objects depend on the object.
const DEPENDENT_OBJECTS_STILL_EXIST: &str = "2BP01";
/// SQLSTATE of an object of the wrong kind (`DROP VIEW` of a table).
const WRONG_OBJECT_TYPE: &str = "42809";
/// SQLSTATE of a view replaced with incompatible columns.
const INVALID_TABLE_DEFINITION: &str = "42P16";
/// SQLSTATE of a view that would read itself.
const INVALID_OBJECT_DEFINITION: &str = "42P17";
/// SQLSTATE of a sequence past its bounds (`nextval`).
const SEQUENCE_GENERATOR_LIMIT_EXCEEDED: &str = "2200H";
/// SQLSTATE of `currval` before `nextval` in the session.
const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";
/// Most view references one statement may expand (views over views).
const MAX_VIEW_EXPANSIONS: usize = 10_000;

type Tables = BTreeMap<String, Arc<TableInfo>>;

/// A stored view.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ViewDef {
    pub name: String,
    /// The defining query, as SQL text.
    pub query: String,
    /// Output columns (after the view's column list renamed them).
    pub columns: Vec<(String, DataType)>,
    /// Tables and views the query reads.
    pub depends: Vec<String>,
}

/// A stored sequence definition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SeqDef {
    pub name: String,
    pub data_type: DataType,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

/// A sequence's state: the last value and whether `nextval` returned it
/// (`false` after CREATE and `setval(…, false)`: the next call returns it).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct SeqState {
    last: i64,
    called: bool,
}

/// A sequence with its last value (catalog rows).
#[derive(Clone, Debug)]
pub(crate) struct SeqInfo {
    pub def: SeqDef,
    /// `None` until the first `nextval`.
    pub last_value: Option<i64>,
}

fn view_key(name: &str) -> String {
    format!("{META_PREFIX}view/{name}")
}

fn seq_def_key(name: &str) -> String {
    format!("{META_PREFIX}sequence/{name}")
}

fn seq_state_key(name: &str) -> String {
    format!("{META_PREFIX}seqstate/{name}")
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> SqlError {
    SqlError::Engine(format!("SQL metadata of {what}: {e}"))
}

fn state(code: &'static str, message: String) -> SqlError {
    SqlError::State { code, message }
}

fn unsupported(message: impl Into<String>) -> SqlError {
    state(FEATURE_NOT_SUPPORTED, message.into())
}

fn exists(name: &str) -> SqlError {
    state(
        DUPLICATE_TABLE,
        format!("relation \"{name}\" already exists"),
    )
}

fn undefined(name: &str) -> SqlError {
    state(
        UNDEFINED_TABLE,
        format!("relation \"{name}\" does not exist"),
    )
}

pub(crate) fn view(engine: &StorageEngine, name: &str) -> Result<Option<ViewDef>> {
    engine
        .get(view_key(name).as_bytes())?
        .map(|b| serde_json::from_slice(&b).map_err(|e| corrupt(&format!("view {name}"), e)))
        .transpose()
}

pub(crate) fn views(engine: &StorageEngine) -> Result<Vec<ViewDef>> {
    engine
        .scan_prefix(view_key("").as_bytes())?
        .into_iter()
        .map(|(_, b)| serde_json::from_slice(&b).map_err(|e| corrupt("a view", e)))
        .collect()
}

fn sequence(engine: &StorageEngine, name: &str) -> Result<Option<SeqDef>> {
    engine
        .get(seq_def_key(name).as_bytes())?
        .map(|b| serde_json::from_slice(&b).map_err(|e| corrupt(&format!("sequence {name}"), e)))
        .transpose()
}

fn sequences(engine: &StorageEngine) -> Result<Vec<SeqDef>> {
    engine
        .scan_prefix(seq_def_key("").as_bytes())?
        .into_iter()
        .map(|(_, b)| serde_json::from_slice(&b).map_err(|e| corrupt("a sequence", e)))
        .collect()
}

fn read_state(engine: &StorageEngine, def: &SeqDef) -> Result<SeqState> {
    Ok(match engine.get(seq_state_key(&def.name).as_bytes())? {
        Some(b) => {
            serde_json::from_slice(&b).map_err(|e| corrupt(&format!("sequence {}", def.name), e))?
        }
        None => SeqState {
            last: def.start,
            called: false,
        },
    })
}

fn write_state(engine: &StorageEngine, name: &str, s: SeqState) -> Result<()> {
    let bytes = serde_json::to_vec(&s).map_err(|e| corrupt(&format!("sequence {name}"), e))?;
    engine.put(seq_state_key(name).as_bytes(), &bytes)?;
    Ok(())
}

/// Every user sequence, and the sequences of SERIAL/identity columns, with
/// their last values (for the catalogs).
pub(crate) fn sequence_infos(engine: &StorageEngine, tables: &Tables) -> Result<Vec<SeqInfo>> {
    let mut out = Vec::new();
    for def in sequences(engine)? {
        let s = read_state(engine, &def)?;
        out.push(SeqInfo {
            last_value: s.called.then_some(s.last),
            def,
        });
    }
    for (table, info) in tables {
        for col in &info.meta.serial {
            let t = info.column_type(col).unwrap_or(DataType::Int4);
            let next = serial_next(engine, table, col)?;
            out.push(SeqInfo {
                def: SeqDef {
                    name: format!("{table}_{col}_seq"),
                    data_type: t,
                    start: 1,
                    increment: 1,
                    min: 1,
                    max: type_max(t),
                    cache: 1,
                    cycle: false,
                },
                last_value: (next > 1).then_some(next - 1),
            });
        }
    }
    out.sort_by(|a, b| a.def.name.cmp(&b.def.name));
    Ok(out)
}

fn serial_next(engine: &StorageEngine, table: &str, col: &str) -> Result<i64> {
    Ok(match engine.get(seq_key(table, col).as_bytes())? {
        Some(b) => i64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| SqlError::Engine(format!("sequence of {table}.{col} is corrupt")))?,
        ),
        None => 1,
    })
}

fn type_max(t: DataType) -> i64 {
    match t {
        DataType::Int2 => i64::from(i16::MAX),
        DataType::Int4 => i64::from(i32::MAX),
        _ => i64::MAX,
    }
}

fn type_min(t: DataType) -> i64 {
    match t {
        DataType::Int2 => i64::from(i16::MIN),
        DataType::Int4 => i64::from(i32::MIN),
        _ => i64::MIN,
    }
}

/// The relation an object name denotes: its last part, when it is
/// unqualified or in `public`.
fn relation_name(name: &ObjectName) -> Option<String> {
    match name.0.as_slice() {
        [rel] => Some(rel.value.clone()),
        [schema, rel] if schema.value.eq_ignore_ascii_case("public") => Some(rel.value.clone()),
        _ => None,
    }
}

/// The name of a SERIAL/identity sequence `name` (`<table>_<column>_seq`):
/// its table and column.
fn serial_of(tables: &Tables, name: &str) -> Option<(String, String, DataType)> {
    tables.iter().find_map(|(t, info)| {
        info.meta.serial.iter().find_map(|c| {
            (format!("{t}_{c}_seq") == name).then(|| {
                (
                    t.clone(),
                    c.clone(),
                    info.column_type(c).unwrap_or(DataType::Int4),
                )
            })
        })
    })
}

/// Whether `name` is taken by a table, view or sequence.
fn taken(engine: &StorageEngine, tables: &Tables, name: &str) -> Result<bool> {
    Ok(tables.contains_key(name)
        || view(engine, name)?.is_some()
        || sequence(engine, name)?.is_some()
        || serial_of(tables, name).is_some())
}

/// Names of the common table expressions anywhere in `stmt` (they shadow
/// views of the same name).
fn cte_names(stmt: &Statement) -> BTreeSet<String> {
    struct Ctes(BTreeSet<String>);
    impl Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(w) = &q.with {
                for c in &w.cte_tables {
                    self.0.insert(c.alias.name.value.clone());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Ctes(BTreeSet::new());
    let _ = Visit::visit(stmt, &mut v);
    v.0
}

/// The tables and views `query` reads.
fn dependencies(engine: &StorageEngine, tables: &Tables, query: &Query) -> Result<Vec<String>> {
    let stmt = Statement::Query(Box::new(query.clone()));
    let ctes = cte_names(&stmt);
    let mut names: Vec<String> = Vec::new();
    let _ = visit_relations(&stmt, |n| {
        if let Some(r) = relation_name(n) {
            if !ctes.contains(&r) && !names.contains(&r) {
                names.push(r);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let mut out = Vec::new();
    for n in names {
        if tables.contains_key(&n) || view(engine, &n)?.is_some() {
            out.push(n);
        }
    }
    Ok(out)
}

/// Views that read `name` directly.
fn dependents_of<'v>(all: &'v [ViewDef], name: &str) -> Vec<&'v ViewDef> {
    all.iter()
        .filter(|v| v.name != name && v.depends.iter().any(|d| d == name))
        .collect()
}

/// Every view that reads `name`, directly or through other views.
fn closure(all: &[ViewDef], name: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        for v in dependents_of(all, &n) {
            if out.insert(v.name.clone()) {
                todo.push(v.name.clone());
            }
        }
    }
    out
}

// ----- statements --------------------------------------------------------

/// What the session gives this module to run a DDL statement.
pub(crate) trait Host {
    fn engine(&self) -> &StorageEngine;
    fn tables(&self) -> Result<Arc<Tables>>;
    /// Output columns of a query (without running it when it can be typed).
    fn describe_query(&mut self, sql: &str) -> Result<Vec<(String, DataType)>>;
    fn invalidate(&self);
}

fn command(tag: &str) -> Option<QueryResult> {
    Some(QueryResult::Command {
        tag: tag.into(),
        rows: 0,
    })
}

/// Runs the statements of this module (CREATE/DROP VIEW, CREATE/DROP
/// SEQUENCE) and checks the table DDL views and sequences constrain (name
/// clashes, dependents). `None`: not ours, run it as usual.
pub(crate) fn ddl(host: &mut impl Host, stmt: &Statement) -> Result<Option<QueryResult>> {
    match stmt {
        Statement::CreateView {
            or_replace,
            materialized,
            name,
            columns,
            query,
            options,
            if_not_exists,
            temporary,
            to,
            ..
        } => {
            if *materialized {
                return Err(unsupported("materialized views are not supported"));
            }
            if *temporary {
                return Err(unsupported("temporary views are not supported"));
            }
            if *if_not_exists || to.is_some() {
                return Err(SqlError::Syntax(
                    "CREATE VIEW takes neither IF NOT EXISTS nor TO".into(),
                ));
            }
            if !matches!(
                options,
                gluesql_core::sqlparser::ast::CreateTableOptions::None
            ) {
                return Err(unsupported(format!(
                    "CREATE VIEW … {options} is not supported"
                )));
            }
            let names: Vec<String> = columns.iter().map(|c| c.name.value.clone()).collect();
            create_view(host, name, *or_replace, &names, query).map(|()| command("CREATE VIEW"))
        }
        Statement::CreateSequence {
            temporary,
            if_not_exists,
            name,
            data_type,
            sequence_options,
            owned_by,
        } => {
            if *temporary {
                return Err(unsupported("temporary sequences are not supported"));
            }
            if owned_by.is_some() {
                return Err(unsupported("CREATE SEQUENCE … OWNED BY is not supported"));
            }
            create_sequence(
                host,
                name,
                *if_not_exists,
                data_type.as_ref(),
                sequence_options,
            )
            .map(|()| command("CREATE SEQUENCE"))
        }
        Statement::Drop {
            object_type: ObjectType::View,
            if_exists,
            names,
            cascade,
            ..
        } => drop_views(host, names, *if_exists, *cascade).map(|()| command("DROP VIEW")),
        Statement::Drop {
            object_type: ObjectType::Sequence,
            if_exists,
            names,
            cascade,
            ..
        } => drop_sequences(host, names, *if_exists, *cascade).map(|()| command("DROP SEQUENCE")),
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            cascade,
            ..
        } => {
            let engine = host.engine();
            let all = views(engine)?;
            let tables = host.tables()?;
            let dropped: Vec<String> = names.iter().filter_map(relation_name).collect();
            for n in &dropped {
                if !tables.contains_key(n) {
                    if all.iter().any(|v| v.name == *n) || sequence(engine, n)?.is_some() {
                        return Err(state(WRONG_OBJECT_TYPE, format!("\"{n}\" is not a table")));
                    }
                    continue;
                }
                let deps: Vec<String> = closure(&all, n).into_iter().collect();
                if deps.is_empty() {
                    continue;
                }
                if !*cascade {
                    return Err(state(
                        DEPENDENT_OBJECTS_STILL_EXIST,
                        format!(
                            "cannot drop table {n} because other objects depend on it (views: \
                             {}); use DROP … CASCADE to drop them too",
                            deps.join(", ")
                        ),
                    ));
                }
                for d in deps {
                    engine.delete(view_key(&d).as_bytes())?;
                }
            }
            Ok(None)
        }
        Statement::CreateTable(ct) => {
            let Some(name) = relation_name(&ct.name) else {
                return Ok(None);
            };
            let engine = host.engine();
            if view(engine, &name)?.is_some() || sequence(engine, &name)?.is_some() {
                if ct.if_not_exists {
                    return Ok(command("CREATE TABLE"));
                }
                return Err(exists(&name));
            }
            Ok(None)
        }
        Statement::AlterTable {
            name, operations, ..
        } => {
            let Some(table) = relation_name(name) else {
                return Ok(None);
            };
            let engine = host.engine();
            if view(engine, &table)?.is_some() {
                return Err(unsupported(format!(
                    "ALTER TABLE on view \"{table}\" is not supported"
                )));
            }
            let all = views(engine)?;
            let deps = dependents_of(&all, &table);
            if deps.is_empty() {
                return Ok(None);
            }
            let names = deps
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            for op in operations {
                match op {
                    AlterTableOperation::DropColumn { column_name, .. } => {
                        return Err(state(
                            DEPENDENT_OBJECTS_STILL_EXIST,
                            format!(
                                "cannot drop column {} of table {table} because other objects \
                                 depend on it (views: {names})",
                                column_name.value
                            ),
                        ));
                    }
                    AlterTableOperation::AddColumn { .. }
                    | AlterTableOperation::RenameColumn { .. }
                    | AlterTableOperation::RenameTable { .. }
                    | AlterTableOperation::AlterColumn { .. }
                    | AlterTableOperation::ChangeColumn { .. }
                    | AlterTableOperation::ModifyColumn { .. } => {
                        return Err(unsupported(format!(
                            "changing the columns or the name of table {table} while views \
                             read it ({names}) is not supported; drop the views first"
                        )));
                    }
                    _ => {}
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn create_view(
    host: &mut impl Host,
    name: &ObjectName,
    or_replace: bool,
    column_names: &[String],
    query: &Query,
) -> Result<()> {
    let name = relation_name(name)
        .ok_or_else(|| unsupported(format!("views outside schema public ({name})")))?;
    let tables = host.tables()?;
    let engine = host.engine();
    if tables.contains_key(&name)
        || sequence(engine, &name)?.is_some()
        || serial_of(&tables, &name).is_some()
    {
        return Err(exists(&name));
    }
    let old = view(engine, &name)?;
    if old.is_some() && !or_replace {
        return Err(exists(&name));
    }
    let depends = dependencies(engine, &tables, query)?;
    // A replaced view must not come to read itself.
    if old.is_some() {
        let all = views(engine)?;
        let readers = closure(&all, &name);
        if depends.iter().any(|d| *d == name || readers.contains(d)) {
            return Err(state(
                INVALID_OBJECT_DEFINITION,
                format!("infinite recursion detected in rules for relation \"{name}\""),
            ));
        }
    }
    let sql = query.to_string();
    let mut columns = host.describe_query(&sql)?;
    let engine = host.engine();
    if column_names.len() > columns.len() {
        return Err(SqlError::State {
            code: crate::sqlstate::SYNTAX_ERROR,
            message: "CREATE VIEW specifies more column names than columns".into(),
        });
    }
    for (c, n) in columns.iter_mut().zip(column_names) {
        c.0.clone_from(n);
    }
    for (i, (c, _)) in columns.iter().enumerate() {
        if columns[..i].iter().any(|(d, _)| d == c) {
            return Err(state(
                crate::sqlstate::DUPLICATE_COLUMN,
                format!("column \"{c}\" specified more than once"),
            ));
        }
    }
    if let Some(old) = &old {
        if columns.len() < old.columns.len() {
            return Err(state(
                INVALID_TABLE_DEFINITION,
                "cannot drop columns from view".into(),
            ));
        }
        for ((n, t), (on, ot)) in columns.iter().zip(&old.columns) {
            if n != on {
                return Err(state(
                    INVALID_TABLE_DEFINITION,
                    format!("cannot change name of view column \"{on}\" to \"{n}\""),
                ));
            }
            // A type inference could not tell (read through another view,
            // say) is recorded as text: only two known types can differ.
            if t != ot && *t != DataType::Text && *ot != DataType::Text {
                return Err(state(
                    INVALID_TABLE_DEFINITION,
                    format!("cannot change data type of view column \"{n}\""),
                ));
            }
        }
    }
    let def = ViewDef {
        name: name.clone(),
        query: sql,
        columns,
        depends,
    };
    let bytes = serde_json::to_vec(&def).map_err(|e| corrupt(&format!("view {name}"), e))?;
    engine.put(view_key(&name).as_bytes(), &bytes)?;
    host.invalidate();
    Ok(())
}

fn drop_views(
    host: &mut impl Host,
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<()> {
    let engine = host.engine();
    let tables = host.tables()?;
    let all = views(engine)?;
    let mut dropped: BTreeSet<String> = BTreeSet::new();
    let mut targets = Vec::new();
    for n in names {
        let Some(name) = relation_name(n) else {
            if if_exists {
                continue;
            }
            return Err(state(
                UNDEFINED_TABLE,
                format!("view \"{n}\" does not exist"),
            ));
        };
        if all.iter().any(|v| v.name == name) {
            targets.push(name);
        } else if tables.contains_key(&name) || sequence(engine, &name)?.is_some() {
            return Err(state(
                WRONG_OBJECT_TYPE,
                format!("\"{name}\" is not a view"),
            ));
        } else if !if_exists {
            return Err(state(
                UNDEFINED_TABLE,
                format!("view \"{name}\" does not exist"),
            ));
        }
    }
    for name in &targets {
        dropped.insert(name.clone());
    }
    for name in &targets {
        let readers: Vec<String> = closure(&all, name)
            .into_iter()
            .filter(|r| !dropped.contains(r))
            .collect();
        if !readers.is_empty() && !cascade {
            return Err(state(
                DEPENDENT_OBJECTS_STILL_EXIST,
                format!(
                    "cannot drop view {name} because other objects depend on it (views: {}); \
                     use DROP … CASCADE to drop them too",
                    readers.join(", ")
                ),
            ));
        }
        dropped.extend(readers);
    }
    for name in &dropped {
        engine.delete(view_key(name).as_bytes())?;
    }
    host.invalidate();
    Ok(())
}

/// An integer constant of a sequence option.
fn const_int(e: &Expr) -> Result<i64> {
    let bad = || SqlError::Syntax(format!("expected an integer, found {e}"));
    match e {
        Expr::Value(SqlValue::Number(n, _)) => n.to_string().parse().map_err(|_| bad()),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => const_int(expr)?.checked_neg().ok_or_else(bad),
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => const_int(expr),
        Expr::Nested(x) => const_int(x),
        _ => Err(bad()),
    }
}

fn invalid_param(message: String) -> SqlError {
    state(crate::sqlstate::INVALID_PARAMETER_VALUE, message)
}

fn create_sequence(
    host: &mut impl Host,
    name: &ObjectName,
    if_not_exists: bool,
    data_type: Option<&SqlType>,
    options: &[SequenceOptions],
) -> Result<()> {
    let name = relation_name(name)
        .ok_or_else(|| unsupported(format!("sequences outside schema public ({name})")))?;
    let tables = host.tables()?;
    let engine = host.engine();
    if taken(engine, &tables, &name)? {
        if if_not_exists {
            return Ok(());
        }
        return Err(exists(&name));
    }
    let t = match data_type {
        None => DataType::Int8,
        Some(SqlType::SmallInt(_) | SqlType::Int2(_)) => DataType::Int2,
        Some(SqlType::Int(_) | SqlType::Integer(_) | SqlType::Int4(_)) => DataType::Int4,
        Some(SqlType::BigInt(_) | SqlType::Int8(_)) => DataType::Int8,
        Some(other) => {
            return Err(invalid_param(format!(
                "sequence type must be smallint, integer, or bigint, not {other}"
            )))
        }
    };
    let (mut increment, mut min, mut max, mut start, mut cache, mut cycle) =
        (1i64, None, None, None, 1i64, false);
    for o in options {
        match o {
            SequenceOptions::IncrementBy(e, _) => increment = const_int(e)?,
            SequenceOptions::MinValue(e) => min = e.as_ref().map(const_int).transpose()?,
            SequenceOptions::MaxValue(e) => max = e.as_ref().map(const_int).transpose()?,
            SequenceOptions::StartWith(e, _) => start = Some(const_int(e)?),
            SequenceOptions::Cache(e) => cache = const_int(e)?,
            SequenceOptions::Cycle(no) => cycle = !*no,
        }
    }
    if increment == 0 {
        return Err(invalid_param("INCREMENT must not be zero".into()));
    }
    if cache < 1 {
        return Err(invalid_param(format!(
            "CACHE ({cache}) must be greater than zero"
        )));
    }
    let min = min.unwrap_or(if increment > 0 { 1 } else { type_min(t) });
    let max = max.unwrap_or(if increment > 0 { type_max(t) } else { -1 });
    let tname = crate::pg_type_name(t);
    if min < type_min(t) || min > type_max(t) {
        return Err(invalid_param(format!(
            "MINVALUE ({min}) is out of range for sequence data type {tname}"
        )));
    }
    if max < type_min(t) || max > type_max(t) {
        return Err(invalid_param(format!(
            "MAXVALUE ({max}) is out of range for sequence data type {tname}"
        )));
    }
    if min >= max {
        return Err(invalid_param(format!(
            "MINVALUE ({min}) must be less than MAXVALUE ({max})"
        )));
    }
    let start = start.unwrap_or(if increment > 0 { min } else { max });
    if start < min {
        return Err(invalid_param(format!(
            "START value ({start}) cannot be less than MINVALUE ({min})"
        )));
    }
    if start > max {
        return Err(invalid_param(format!(
            "START value ({start}) cannot be greater than MAXVALUE ({max})"
        )));
    }
    let def = SeqDef {
        name: name.clone(),
        data_type: t,
        start,
        increment,
        min,
        max,
        cache,
        cycle,
    };
    // The state first (outside the transaction, as every sequence write):
    // a sequence of a name used before starts afresh.
    sequence_op(engine, || {
        write_state(
            engine,
            &name,
            SeqState {
                last: start,
                called: false,
            },
        )
    })?;
    let bytes = serde_json::to_vec(&def).map_err(|e| corrupt(&format!("sequence {name}"), e))?;
    engine.put(seq_def_key(&name).as_bytes(), &bytes)?;
    host.invalidate();
    Ok(())
}

fn drop_sequences(
    host: &mut impl Host,
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<()> {
    let engine = host.engine();
    let tables = host.tables()?;
    let mut targets = Vec::new();
    for n in names {
        let name = relation_name(n);
        match &name {
            Some(name) if sequence(engine, name)?.is_some() => targets.push(name.clone()),
            Some(name) if serial_of(&tables, name).is_some() => {
                return Err(state(
                    DEPENDENT_OBJECTS_STILL_EXIST,
                    format!(
                        "cannot drop sequence {name} because other objects depend on it (the \
                         column it numbers)"
                    ),
                ))
            }
            Some(name) if tables.contains_key(name) || view(engine, name)?.is_some() => {
                return Err(state(
                    WRONG_OBJECT_TYPE,
                    format!("\"{name}\" is not a sequence"),
                ));
            }
            _ if if_exists => {}
            _ => {
                return Err(state(
                    UNDEFINED_TABLE,
                    format!("sequence \"{n}\" does not exist"),
                ))
            }
        }
    }
    for name in &targets {
        let users: Vec<String> = tables
            .iter()
            .filter(|(_, i)| i.meta.seq_defaults.iter().any(|(_, s)| s == name))
            .map(|(t, _)| t.clone())
            .collect();
        if !users.is_empty() {
            return Err(if cascade {
                unsupported("DROP SEQUENCE … CASCADE of a sequence a column default uses")
            } else {
                state(
                    DEPENDENT_OBJECTS_STILL_EXIST,
                    format!(
                        "cannot drop sequence {name} because other objects depend on it (the \
                         default of a column of {})",
                        users.join(", ")
                    ),
                )
            });
        }
    }
    for name in &targets {
        engine.delete(seq_def_key(name).as_bytes())?;
        engine.delete(seq_state_key(name).as_bytes())?;
    }
    host.invalidate();
    Ok(())
}

// ----- view references ---------------------------------------------------

/// Refuses writes into views and replaces every reference to a view in
/// `stmt` by its defining query (views over views too).
pub(crate) fn expand_views(
    engine: &StorageEngine,
    tables: &Tables,
    stmt: &mut Statement,
) -> Result<()> {
    let target = match &*stmt {
        Statement::Insert(ins) => relation_name(&ins.table_name).map(|n| ("INSERT into", n)),
        Statement::Update { table, .. } => match &table.relation {
            TableFactor::Table { name, .. } => relation_name(name).map(|n| ("UPDATE of", n)),
            _ => None,
        },
        Statement::Delete(d) => {
            let from = match &d.from {
                gluesql_core::sqlparser::ast::FromTable::WithFromKeyword(t)
                | gluesql_core::sqlparser::ast::FromTable::WithoutKeyword(t) => t,
            };
            match from.first().map(|t| &t.relation) {
                Some(TableFactor::Table { name, .. }) => {
                    relation_name(name).map(|n| ("DELETE from", n))
                }
                _ => None,
            }
        }
        _ => None,
    };
    if let Some((verb, name)) = target {
        if !tables.contains_key(&name) {
            if let Some(def) = view(engine, &name)? {
                match stmt {
                    Statement::Insert(ins) => insert_through(tables, &def, ins)?,
                    // PostgreSQL updates simple views too: not supported
                    // here. Others it refuses itself (55000).
                    _ if simple_view(tables, &def).is_some() => {
                        return Err(unsupported(format!(
                            "{verb} view \"{name}\" is not supported (views take INSERT only)"
                        )))
                    }
                    _ => {
                        return Err(state(
                            OBJECT_NOT_IN_PREREQUISITE_STATE,
                            format!("{verb} view \"{name}\" is not possible (it is not simple)"),
                        ))
                    }
                }
            }
        }
    }
    let ctes = cte_names(stmt);
    let mut v = Expander {
        engine,
        tables,
        ctes,
        expansions: 0,
        cache: BTreeMap::new(),
        error: None,
    };
    let _ = VisitMut::visit(stmt, &mut v);
    match v.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The table and its columns (one per view column) when `def` is a simple
/// view PostgreSQL could insert through: one table, plain columns, no
/// DISTINCT, grouping, aggregates, LIMIT/OFFSET, set operation or WITH.
fn simple_view(tables: &Tables, def: &ViewDef) -> Option<(String, Vec<String>)> {
    let Some(Statement::Query(q)) = crate::limits::parse(&def.query).ok()?.pop() else {
        return None;
    };
    if q.with.is_some() || q.limit.is_some() || q.offset.is_some() || q.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(sel) = *q.body else {
        return None;
    };
    let grouped = !matches!(
        &sel.group_by,
        gluesql_core::sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty()
    );
    if sel.distinct.is_some() || grouped || sel.having.is_some() || sel.from.len() != 1 {
        return None;
    }
    let from = &sel.from[0];
    if !from.joins.is_empty() {
        return None;
    }
    let TableFactor::Table {
        name, args: None, ..
    } = &from.relation
    else {
        return None;
    };
    let table = relation_name(name)?;
    let info = tables.get(&table)?;
    let column = |e: &Expr| match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(p) if p.len() == 2 => Some(p[1].value.clone()),
        _ => None,
    };
    let mut base = Vec::new();
    for item in &sel.projection {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                base.push(column(e)?)
            }
            SelectItem::Wildcard(_) => base.extend(info.columns().map(|c| c.name.clone())),
            SelectItem::QualifiedWildcard(..) => return None,
        }
    }
    let known = base.iter().all(|c| info.column_type(c).is_some());
    (known && base.len() == def.columns.len()).then_some((table, base))
}

/// `INSERT INTO view …` as PostgreSQL runs it on a simple view: an
/// INSERT into its table, view columns mapped to the table's.
fn insert_through(
    tables: &Tables,
    def: &ViewDef,
    ins: &mut gluesql_core::sqlparser::ast::Insert,
) -> Result<()> {
    let name = &def.name;
    let Some((table, base)) = simple_view(tables, def) else {
        return Err(state(
            OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!(
                "cannot insert into view \"{name}\": only views that select plain columns of \
                 one table without DISTINCT, grouping, aggregates or LIMIT take INSERT"
            ),
        ));
    };
    if ins.returning.is_some() || ins.on.is_some() {
        return Err(unsupported(format!(
            "INSERT into view \"{name}\" with RETURNING or ON CONFLICT is not supported"
        )));
    }
    let columns: Vec<Ident> = if ins.columns.is_empty() {
        // `INSERT INTO v VALUES (…)` fills the view's columns in order
        // (fewer values leave the rest to their defaults).
        let given = match ins.source.as_deref().map(|q| q.body.as_ref()) {
            Some(SetExpr::Values(v)) => v.rows.first().map_or(base.len(), Vec::len),
            _ => base.len(),
        };
        base.iter()
            .take(given)
            .map(|c| Ident::new(c.clone()))
            .collect()
    } else {
        ins.columns
            .iter()
            .map(|c| {
                def.columns
                    .iter()
                    .position(|(n, _)| *n == c.value)
                    .map(|i| Ident::new(base[i].clone()))
                    .ok_or_else(|| {
                        state(
                            crate::sqlstate::UNDEFINED_COLUMN,
                            format!(
                                "column \"{}\" of relation \"{name}\" does not exist",
                                c.value
                            ),
                        )
                    })
            })
            .collect::<Result<_>>()?
    };
    ins.table_name = ObjectName(vec![Ident::new(table)]);
    ins.columns = columns;
    Ok(())
}

struct Expander<'a> {
    engine: &'a StorageEngine,
    tables: &'a Tables,
    ctes: BTreeSet<String>,
    expansions: usize,
    /// Views looked up so far (`None`: not a view).
    cache: BTreeMap<String, Option<(ViewDef, Query)>>,
    error: Option<SqlError>,
}

impl Expander<'_> {
    fn lookup(&mut self, name: &str) -> Result<Option<(ViewDef, Query)>> {
        if let Some(v) = self.cache.get(name) {
            return Ok(v.clone());
        }
        let found = match view(self.engine, name)? {
            Some(def) => {
                let query = match crate::limits::parse(&def.query)?.pop() {
                    Some(Statement::Query(q)) => *q,
                    _ => return Err(corrupt(&format!("view {name}"), "not a query")),
                };
                Some((def, query))
            }
            None => None,
        };
        self.cache.insert(name.to_string(), found.clone());
        Ok(found)
    }
}

impl VisitorMut for Expander<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name, alias, args, ..
        } = tf
        else {
            return ControlFlow::Continue(());
        };
        if args.is_some() {
            return ControlFlow::Continue(());
        }
        let Some(rel) = relation_name(name) else {
            return ControlFlow::Continue(());
        };
        if self.tables.contains_key(&rel)
            || self.ctes.contains(&rel)
            || (name.0.len() == 1 && crate::system::is_system(&rel.to_ascii_lowercase()))
        {
            return ControlFlow::Continue(());
        }
        let found = match self.lookup(&rel) {
            Ok(f) => f,
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        };
        let Some((def, query)) = found else {
            return ControlFlow::Continue(());
        };
        self.expansions += 1;
        if self.expansions > MAX_VIEW_EXPANSIONS {
            self.error = Some(state(
                INVALID_OBJECT_DEFINITION,
                format!("infinite recursion detected in rules for relation \"{rel}\""),
            ));
            return ControlFlow::Break(());
        }
        let given = alias.take();
        let alias_name = given
            .as_ref()
            .map_or_else(|| Ident::new(rel.clone()), |a| a.name.clone());
        let mut columns: Vec<Ident> = given.map(|a| a.columns).unwrap_or_default();
        if columns.len() > def.columns.len() {
            self.error = Some(state(
                "42P10",
                format!(
                    "table \"{}\" has {} columns available but {} columns specified",
                    alias_name.value,
                    def.columns.len(),
                    columns.len()
                ),
            ));
            return ControlFlow::Break(());
        }
        for (n, _) in &def.columns[columns.len()..] {
            columns.push(Ident::with_quote('"', n.clone()));
        }
        *tf = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(query),
            alias: Some(TableAlias {
                name: alias_name,
                columns,
            }),
        };
        ControlFlow::Continue(())
    }
}

// ----- nextval, currval, setval ------------------------------------------

/// A sequence function call: which one and its arguments.
fn seq_call(e: &Expr) -> Option<(&'static str, Vec<&Expr>)> {
    let Expr::Function(f) = e else { return None };
    let fname = f.name.0.last()?.value.to_ascii_lowercase();
    let which = match fname.as_str() {
        "nextval" => "nextval",
        "currval" => "currval",
        "setval" => "setval",
        _ => return None,
    };
    if f.name.0.len() == 2 && !f.name.0[0].value.eq_ignore_ascii_case("pg_catalog") {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return Some((which, Vec::new()));
    };
    let args = list
        .args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    Some((which, args))
}

/// Whether `node` calls a sequence function anywhere.
pub(crate) fn calls_sequences<V: Visit>(node: &V) -> bool {
    let mut found = false;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(node, |e| {
        if seq_call(e).is_some() {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// What evaluating sequence functions needs from the session.
pub(crate) struct SeqContext<'a> {
    pub engine: &'a StorageEngine,
    pub tables: &'a Tables,
    /// The session's `currval`s.
    pub currval: &'a mut BTreeMap<String, i64>,
    pub params: &'a [Value],
}

/// A sequence a call names.
enum Target {
    User(SeqDef),
    Serial {
        table: String,
        column: String,
        data_type: DataType,
    },
}

impl Target {
    fn name(&self) -> String {
        match self {
            Target::User(d) => d.name.clone(),
            Target::Serial { table, column, .. } => format!("{table}_{column}_seq"),
        }
    }
}

impl SeqContext<'_> {
    fn text_arg(&self, e: &Expr) -> Result<String> {
        match e {
            Expr::Value(SqlValue::SingleQuotedString(s) | SqlValue::EscapedStringLiteral(s)) => {
                Ok(s.clone())
            }
            Expr::Value(SqlValue::Placeholder(p)) => match self.param(p)? {
                Value::String(s) => Ok(s),
                other => Err(SqlError::Type(format!(
                    "a sequence name must be text, not {other}"
                ))),
            },
            Expr::Cast { expr, .. } | Expr::Nested(expr) => self.text_arg(expr),
            _ => Err(unsupported(format!(
                "sequence functions take a constant sequence name, not {e}"
            ))),
        }
    }

    fn param(&self, p: &str) -> Result<Value> {
        let i: usize = p
            .trim_start_matches('$')
            .parse()
            .map_err(|_| SqlError::Syntax(format!("bad parameter {p}")))?;
        self.params
            .get(i.wrapping_sub(1))
            .cloned()
            .ok_or_else(|| SqlError::Type(format!("parameter {p} is missing")))
    }

    fn int_arg(&self, e: &Expr) -> Result<i64> {
        match e {
            Expr::Value(SqlValue::Placeholder(p)) => {
                match crate::session::coerce(self.param(p)?, DataType::Int8)? {
                    Value::Int8(n) => Ok(n),
                    _ => Err(SqlError::Type("setval takes a bigint".into())),
                }
            }
            Expr::Cast { expr, .. } => self.int_arg(expr),
            other => const_int(other)
                .map_err(|_| unsupported(format!("setval takes a constant value, not {other}"))),
        }
    }

    fn bool_arg(&self, e: &Expr) -> Result<bool> {
        match e {
            Expr::Value(SqlValue::Boolean(b)) => Ok(*b),
            Expr::Value(SqlValue::Placeholder(p)) => {
                match crate::session::coerce(self.param(p)?, DataType::Bool)? {
                    Value::Bool(b) => Ok(b),
                    _ => Err(SqlError::Type("is_called must be a boolean".into())),
                }
            }
            Expr::Value(SqlValue::SingleQuotedString(s)) => crate::pgtext::parse_bool(s)
                .ok_or_else(|| SqlError::Type(format!("invalid boolean '{s}'"))),
            _ => Err(unsupported(format!(
                "setval takes a constant is_called, not {e}"
            ))),
        }
    }

    /// The sequence `'name'` denotes (PostgreSQL's text-to-regclass rules:
    /// double quotes keep case, otherwise folded to lower case).
    fn target(&self, arg: &Expr) -> Result<Target> {
        let text = self.text_arg(arg)?;
        let parts = crate::limits::parse(&format!("SELECT * FROM {text}"))
            .ok()
            .filter(|s| s.len() == 1)
            .and_then(|mut s| match s.pop() {
                Some(Statement::Query(q)) => match *q.body {
                    SetExpr::Select(s) => {
                        s.from.into_iter().next().and_then(|t| match t.relation {
                            TableFactor::Table { name, .. } => Some(name),
                            _ => None,
                        })
                    }
                    _ => None,
                },
                _ => None,
            })
            .ok_or_else(|| undefined(&text))?;
        let folded: Vec<Ident> = parts
            .0
            .iter()
            .map(|i| {
                if i.quote_style.is_some() {
                    i.clone()
                } else {
                    Ident::new(i.value.to_ascii_lowercase())
                }
            })
            .collect();
        let name = relation_name(&ObjectName(folded)).ok_or_else(|| undefined(&text))?;
        // Unquoted names are also looked up as written (tables keep the
        // case they were created with).
        let raw = relation_name(&parts);
        for candidate in std::iter::once(name.clone()).chain(raw) {
            if let Some(def) = sequence(self.engine, &candidate)? {
                return Ok(Target::User(def));
            }
            if let Some((table, column, data_type)) = serial_of(self.tables, &candidate) {
                return Ok(Target::Serial {
                    table,
                    column,
                    data_type,
                });
            }
        }
        if self.tables.contains_key(&name) || view(self.engine, &name)?.is_some() {
            return Err(state(
                WRONG_OBJECT_TYPE,
                format!("\"{name}\" is not a sequence"),
            ));
        }
        Err(undefined(&name))
    }

    /// `nextval(seq)`.
    fn nextval(&mut self, t: &Target) -> Result<i64> {
        let engine = self.engine;
        let v = match t {
            Target::Serial {
                table,
                column,
                data_type,
            } => {
                let v = next_values(engine, &seq_key(table, column), 1)?;
                if v > type_max(*data_type) {
                    return Err(state(
                        SEQUENCE_GENERATOR_LIMIT_EXCEEDED,
                        format!(
                            "nextval: reached maximum value of sequence \"{}\" ({})",
                            t.name(),
                            type_max(*data_type)
                        ),
                    ));
                }
                v
            }
            Target::User(def) => sequence_op(engine, || {
                let s = read_state(engine, def)?;
                let v = if s.called {
                    let next = i128::from(s.last) + i128::from(def.increment);
                    if next > i128::from(def.max) {
                        if !def.cycle {
                            return Err(state(
                                SEQUENCE_GENERATOR_LIMIT_EXCEEDED,
                                format!(
                                    "nextval: reached maximum value of sequence \"{}\" ({})",
                                    def.name, def.max
                                ),
                            ));
                        }
                        def.min
                    } else if next < i128::from(def.min) {
                        if !def.cycle {
                            return Err(state(
                                SEQUENCE_GENERATOR_LIMIT_EXCEEDED,
                                format!(
                                    "nextval: reached minimum value of sequence \"{}\" ({})",
                                    def.name, def.min
                                ),
                            ));
                        }
                        def.max
                    } else {
                        i64::try_from(next).map_err(|_| SqlError::Engine("overflow".into()))?
                    }
                } else {
                    s.last
                };
                write_state(
                    engine,
                    &def.name,
                    SeqState {
                        last: v,
                        called: true,
                    },
                )?;
                Ok(v)
            })?,
        };
        self.currval.insert(t.name(), v);
        Ok(v)
    }

    fn currval(&self, t: &Target) -> Result<i64> {
        let name = t.name();
        self.currval.get(&name).copied().ok_or_else(|| {
            state(
                OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("currval of sequence \"{name}\" is not yet defined in this session"),
            )
        })
    }

    fn setval(&mut self, t: &Target, v: i64, called: bool) -> Result<i64> {
        let engine = self.engine;
        let (min, max) = match t {
            Target::User(d) => (d.min, d.max),
            Target::Serial { data_type, .. } => (1, type_max(*data_type)),
        };
        if v < min || v > max {
            return Err(state(
                crate::sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                format!(
                    "setval: value {v} is out of bounds for sequence \"{}\" ({min}..{max})",
                    t.name()
                ),
            ));
        }
        match t {
            Target::User(d) => sequence_op(engine, || {
                write_state(engine, &d.name, SeqState { last: v, called })
            })?,
            Target::Serial { table, column, .. } => {
                let next = if called { v.saturating_add(1) } else { v };
                crate::store::set_next_value(engine, &seq_key(table, column), next)?;
            }
        }
        // As in PostgreSQL, a setval that counts as called is what
        // currval answers from now on.
        if called {
            self.currval.insert(t.name(), v);
        }
        Ok(v)
    }

    fn call(&mut self, which: &str, args: &[&Expr]) -> Result<i64> {
        let arity = |n: &[usize]| {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(state(
                    crate::sqlstate::UNDEFINED_FUNCTION,
                    format!(
                        "function {which} with {} arguments does not exist",
                        args.len()
                    ),
                ))
            }
        };
        match which {
            "nextval" => {
                arity(&[1])?;
                let t = self.target(args[0])?;
                self.nextval(&t)
            }
            "currval" => {
                arity(&[1])?;
                let t = self.target(args[0])?;
                self.currval(&t)
            }
            _ => {
                arity(&[2, 3])?;
                let t = self.target(args[0])?;
                let v = self.int_arg(args[1])?;
                let called = match args.get(2) {
                    Some(e) => self.bool_arg(e)?,
                    None => true,
                };
                self.setval(&t, v, called)
            }
        }
    }
}

/// `value` as a bigint expression.
fn bigint(v: i64) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(crate::session::value_expr(&Value::Int8(v))),
        data_type: SqlType::BigInt(None),
        format: None,
    }
}

struct Evaluator<'c, 'a> {
    ctx: &'c mut SeqContext<'a>,
    /// Query nesting below the expressions being evaluated.
    depth: usize,
    /// Whether calls at depth 0 run exactly once (else only currval may).
    once: bool,
    /// Results as plain numbers (VALUES rows) instead of bigint casts.
    plain: bool,
    error: Option<SqlError>,
}

impl VisitorMut for Evaluator<'_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, _q: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let Some((which, args)) = seq_call(e) else {
            return ControlFlow::Continue(());
        };
        if which != "currval" && !(self.once && self.depth == 0) {
            self.error = Some(unsupported(format!(
                "{which}() is supported in the select list of a query without FROM and in \
                 INSERT … VALUES (and column defaults), not where it would run once per row"
            )));
            return ControlFlow::Break(());
        }
        let args: Vec<Expr> = args.into_iter().cloned().collect();
        let refs: Vec<&Expr> = args.iter().collect();
        match self.ctx.call(which, &refs) {
            Ok(v) => {
                *e = if self.plain {
                    crate::session::value_expr(&Value::Int8(v))
                } else {
                    bigint(v)
                };
                ControlFlow::Continue(())
            }
            Err(err) => {
                self.error = Some(err);
                ControlFlow::Break(())
            }
        }
    }
}

fn evaluate(
    ctx: &mut SeqContext<'_>,
    node: &mut impl VisitMut,
    once: bool,
    plain: bool,
) -> Result<()> {
    let mut ev = Evaluator {
        ctx,
        depth: 0,
        once,
        plain,
        error: None,
    };
    let _ = VisitMut::visit(node, &mut ev);
    match ev.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Evaluates the sequence functions of `stmt` in place (see the module
/// docs for where each may appear).
pub(crate) fn sequence_functions(ctx: &mut SeqContext<'_>, stmt: &mut Statement) -> Result<()> {
    if !calls_sequences(stmt) {
        return Ok(());
    }
    label_calls(stmt);
    match stmt {
        Statement::Query(q) if q.with.is_none() => {
            if let SetExpr::Select(s) = q.body.as_mut() {
                if s.from.is_empty() {
                    for item in &mut s.projection {
                        evaluate(ctx, item, true, false)?;
                    }
                }
            }
        }
        Statement::Insert(ins) => insert_values(ctx, ins)?,
        _ => {}
    }
    evaluate(ctx, stmt, false, false)
}

/// Evaluates the sequence functions in the rows of `INSERT … VALUES`
/// (each runs once), as plain numbers (the column's type applies).
pub(crate) fn insert_values(
    ctx: &mut SeqContext<'_>,
    ins: &mut gluesql_core::sqlparser::ast::Insert,
) -> Result<()> {
    if let Some(source) = ins.source.as_mut() {
        if source.with.is_none() {
            if let SetExpr::Values(values) = source.body.as_mut() {
                for row in &mut values.rows {
                    for e in row {
                        evaluate(ctx, e, true, true)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// A select item that is a sequence call keeps PostgreSQL's label (the
/// function's name) once the call is replaced by its value.
fn label_calls(stmt: &mut Statement) {
    let Statement::Query(q) = stmt else { return };
    let SetExpr::Select(s) = q.body.as_mut() else {
        return;
    };
    for item in &mut s.projection {
        if let SelectItem::UnnamedExpr(e) = item {
            if let Some((which, _)) = seq_call(e) {
                let expr = e.clone();
                *item = SelectItem::ExprWithAlias {
                    expr,
                    alias: Ident::new(which),
                };
            }
        }
    }
}

/// For Describe: sequence calls become bigint constants (typed, no effect).
pub(crate) fn shape_for_describe(stmt: &mut Statement) {
    label_calls(stmt);
    let _ = gluesql_core::sqlparser::ast::visit_expressions_mut(stmt, |e| {
        if seq_call(e).is_some() {
            *e = bigint(0);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The sequence a column default `nextval('s')` draws from.
pub(crate) fn default_sequence(e: &Expr) -> Option<String> {
    let (which, args) = seq_call(e)?;
    if which != "nextval" || args.len() != 1 {
        return None;
    }
    let mut arg = args[0];
    while let Expr::Cast { expr, .. } = arg {
        arg = expr;
    }
    match arg {
        Expr::Value(SqlValue::SingleQuotedString(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Checks a column default's sequence exists (CREATE TABLE).
pub(crate) fn check_default_sequence(
    engine: &StorageEngine,
    tables: &Tables,
    text: &str,
) -> Result<String> {
    let mut currval = BTreeMap::new();
    let ctx = SeqContext {
        engine,
        tables,
        currval: &mut currval,
        params: &[],
    };
    let t = ctx.target(&Expr::Value(SqlValue::SingleQuotedString(text.to_string())))?;
    Ok(t.name())
}

/// `nextval('name')` as an expression (column defaults in INSERT).
pub(crate) fn nextval_expr(name: &str) -> Expr {
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let sql = format!("nextval('{}')", quoted.replace('\'', "''"));
    crate::ddl::parse_expr(&sql).unwrap_or(Expr::Value(SqlValue::Null))
}

//! Keys the engine does not have: composite `PRIMARY KEY (a, b)` /
//! `UNIQUE (a, b)` and the referential actions of foreign keys.
//!
//! The engine keys a table by one column. A table with a composite primary
//! key therefore keeps the hidden row-id key of tables without one (see
//! [`crate::store`]); its key columns are NOT NULL and the SQL layer checks
//! the column tuple's uniqueness whenever rows are written
//! ([`check_unique`], called by the store for INSERT, UPDATE, upserts and
//! COPY). The check reads through the statement's transaction — an engine
//! secondary-index probe on the key's first column, created with the
//! constraint — so the engine's serializable validation turns a concurrent
//! duplicate into a serialization failure (40001) instead of two rows.
//!
//! GlueSQL knows only `NO ACTION` foreign keys. `ON DELETE CASCADE / SET
//! NULL / SET DEFAULT` are kept in the table's SQL metadata ([`FkAction`]);
//! before a DELETE runs, [`crate::session`] applies them to the referencing
//! rows (recursively, in the statement's transaction), so GlueSQL's own
//! `NO ACTION` check then finds no referencing rows left.

use std::collections::HashSet;

use gluesql_core::error::Result as GResult;
use gluesql_core::sqlparser::ast::ReferentialAction as SqlAction;
use heliosdb_core::{StorageEngine, Tuple, Value};
use serde::{Deserialize, Serialize};

use crate::store::TableInfo;
use crate::{sqlstate, Result, SqlError};

/// A PRIMARY KEY or UNIQUE constraint on several columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CompositeKey {
    /// Constraint name (`<table>_pkey`, `<table>_<a>_<b>_key` or as declared).
    pub name: String,
    /// The columns, in key order.
    pub columns: Vec<String>,
    /// Whether it is the primary key.
    pub primary: bool,
}

/// What deleting a referenced row does to the rows referencing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Referential {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl Referential {
    /// As PostgreSQL spells it (`information_schema`, `pg_constraint`).
    pub fn sql(self) -> &'static str {
        match self {
            Referential::NoAction => "NO ACTION",
            Referential::Restrict => "RESTRICT",
            Referential::Cascade => "CASCADE",
            Referential::SetNull => "SET NULL",
            Referential::SetDefault => "SET DEFAULT",
        }
    }
}

/// The declared actions of a foreign key (by constraint name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FkAction {
    pub name: String,
    pub on_delete: Referential,
    #[serde(default = "no_action")]
    pub on_update: Referential,
}

fn no_action() -> Referential {
    Referential::NoAction
}

/// `ON DELETE` as declared; refuses (0A000) what is not implemented.
pub(crate) fn on_delete(a: Option<&SqlAction>) -> Referential {
    match a {
        None | Some(SqlAction::NoAction) => Referential::NoAction,
        Some(SqlAction::Restrict) => Referential::Restrict,
        Some(SqlAction::Cascade) => Referential::Cascade,
        Some(SqlAction::SetNull) => Referential::SetNull,
        Some(SqlAction::SetDefault) => Referential::SetDefault,
    }
}

/// `ON UPDATE` as declared: only NO ACTION / RESTRICT are implemented.
pub(crate) fn on_update(a: Option<&SqlAction>) -> Result<Referential> {
    match a {
        None | Some(SqlAction::NoAction) => Ok(Referential::NoAction),
        Some(SqlAction::Restrict) => Ok(Referential::Restrict),
        Some(other) => Err(SqlError::Unsupported(format!(
            "foreign keys with ON UPDATE {other} are not supported (ON DELETE CASCADE / SET \
             NULL / SET DEFAULT are)"
        ))),
    }
}

/// The name PostgreSQL gives an unnamed key constraint.
pub(crate) fn default_name(table: &str, columns: &[String], primary: bool) -> String {
    let mut n = if primary {
        format!("{table}_pkey")
    } else {
        format!("{table}_{}_key", columns.join("_"))
    };
    while n.len() > 63 {
        n.pop();
    }
    n
}

/// Refuses a key that names a column twice.
pub(crate) fn check_columns(columns: &[String], primary: bool) -> Result<()> {
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(SqlError::State {
                code: sqlstate::DUPLICATE_COLUMN,
                message: format!(
                    "column \"{c}\" appears twice in {} constraint",
                    if primary { "primary key" } else { "unique" }
                ),
            });
        }
    }
    Ok(())
}

/// Creates the engine index on `column` that the uniqueness check probes
/// (an index that already exists is fine).
pub(crate) fn ensure_index(engine: &StorageEngine, table: &str, column: &str) -> Result<()> {
    match engine.catalog().create_index(table, column) {
        Ok(()) => Ok(()),
        Err(e) if e.to_string().contains("already exists") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn key_bytes(values: &[&Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        v.encode_ordered(&mut out);
    }
    out
}

/// PostgreSQL's DETAIL-like text of a key: `(a, b)=(1, 2)`.
fn key_text(columns: &[String], values: &[&Value]) -> String {
    let vals: Vec<String> = values.iter().map(|v| crate::session::text_of(v)).collect();
    format!("({})=({})", columns.join(", "), vals.join(", "))
}

fn duplicate(key: &CompositeKey, values: &[&Value]) -> gluesql_core::error::Error {
    // The DETAIL line (`Key (a, b)=(1, 2) already exists.`) is logged; the
    // error carries PostgreSQL's message.
    tracing::debug!(
        constraint = %key.name,
        "Key {} already exists.",
        key_text(&key.columns, values)
    );
    sqlstate::storage_error(
        sqlstate::UNIQUE_VIOLATION,
        format!(
            "duplicate key value violates unique constraint \"{}\"",
            key.name
        ),
    )
}

/// Checks the composite keys of `table` for rows about to be written:
/// against each other and against the stored rows, leaving out the stored
/// rows whose (engine) primary keys are in `replaced` (rows being rewritten
/// by this write, whose new versions are among `rows`). Reads go through
/// the calling thread's transaction, so a concurrent insert of the same key
/// makes one of the two transactions fail validation at commit.
pub(crate) fn check_unique(
    engine: &StorageEngine,
    table: &str,
    info: &TableInfo,
    rows: &[Tuple],
    replaced: &[Value],
) -> GResult<()> {
    if info.meta.composite.is_empty() || rows.is_empty() {
        return Ok(());
    }
    let pk = info.engine.primary_key_index();
    let replaced: HashSet<Vec<u8>> = replaced.iter().map(|v| key_bytes(&[v])).collect();
    for key in &info.meta.composite {
        let pos = key
            .columns
            .iter()
            .map(|c| {
                info.engine.column_index(c).ok_or_else(|| {
                    sqlstate::storage_error(
                        sqlstate::UNDEFINED_COLUMN,
                        format!("column \"{c}\" of key \"{}\" does not exist", key.name),
                    )
                })
            })
            .collect::<GResult<Vec<usize>>>()?;
        let mut seen = HashSet::with_capacity(rows.len());
        for t in rows {
            let vals: Vec<&Value> = pos.iter().map(|&p| &t.values[p]).collect();
            // NULLs are distinct (UNIQUE); a primary key's columns are NOT NULL.
            if vals.iter().any(|v| matches!(v, Value::Null)) {
                continue;
            }
            let bytes = key_bytes(&vals);
            if !seen.insert(bytes.clone()) {
                return Err(duplicate(key, &vals));
            }
            let stored = engine
                .find_by(table, &key.columns[0], vals[0])
                .map_err(crate::store::gerr)?;
            for s in stored {
                if let Some(i) = pk {
                    if replaced.contains(&key_bytes(&[&s.values[i]])) {
                        continue;
                    }
                }
                let svals: Vec<&Value> = pos.iter().map(|&p| &s.values[p]).collect();
                if key_bytes(&svals) == bytes {
                    return Err(duplicate(key, &vals));
                }
            }
        }
    }
    Ok(())
}

/// Checks the `UNIQUE` columns (other than the primary key) an UPDATE
/// assigns (`assigned`; the others keep their values) in the rows it
/// rewrites: their new values against each other and against the
/// stored rows other than the rewritten ones (primary keys in `replaced`).
/// GlueSQL's own check compared them with every stored row, the rows'
/// own old versions included, so `UPDATE t SET email = email` — an ORM
/// saving a whole row — failed as a duplicate of itself. One row is looked
/// up by value (an index when there is one); more are checked in one scan.
pub(crate) fn check_unique_columns(
    engine: &StorageEngine,
    table: &str,
    info: &TableInfo,
    assigned: &[String],
    rows: &[Tuple],
    replaced: &[Value],
) -> GResult<()> {
    let unique: Vec<(usize, &str)> = info
        .meta
        .schema
        .column_defs
        .iter()
        .flatten()
        .filter(|d| {
            matches!(
                d.unique,
                Some(gluesql_core::ast::ColumnUniqueOption { is_primary: false })
            )
        })
        .filter(|d| assigned.contains(&d.name))
        .filter_map(|d| Some((info.engine.column_index(&d.name)?, d.name.as_str())))
        .collect();
    if unique.is_empty() || rows.is_empty() {
        return Ok(());
    }
    let pk = info.engine.primary_key_index();
    let replaced: HashSet<Vec<u8>> = replaced.iter().map(|v| key_bytes(&[v])).collect();
    let violated = |column: &str| {
        sqlstate::storage_error(
            sqlstate::UNIQUE_VIOLATION,
            format!("duplicate key value violates unique constraint \"{table}_{column}_key\""),
        )
    };
    for (pos, name) in unique {
        let mut new = HashSet::with_capacity(rows.len());
        for t in rows {
            // NULLs are distinct.
            if !matches!(t.values[pos], Value::Null) && !new.insert(key_bytes(&[&t.values[pos]])) {
                return Err(violated(name));
            }
        }
        let stored = match rows {
            [] => continue,
            [one] if !matches!(one.values[pos], Value::Null) => {
                engine.find_by(table, name, &one.values[pos])
            }
            [_] => continue,
            _ => engine.scan_table(table),
        }
        .map_err(crate::store::gerr)?;
        for s in stored {
            if pk.is_some_and(|i| replaced.contains(&key_bytes(&[&s.values[i]]))) {
                continue;
            }
            if new.contains(&key_bytes(&[&s.values[pos]])) {
                return Err(violated(name));
            }
        }
    }
    Ok(())
}

/// Checks stored rows satisfy a new composite key (ALTER TABLE … ADD).
pub(crate) fn check_existing(
    engine: &StorageEngine,
    table: &str,
    info: &TableInfo,
    key: &CompositeKey,
) -> Result<()> {
    let pos = key
        .columns
        .iter()
        .map(|c| {
            info.columns()
                .position(|x| x.name == *c)
                .ok_or_else(|| SqlError::State {
                    code: sqlstate::UNDEFINED_COLUMN,
                    message: format!("column \"{c}\" named in key does not exist"),
                })
        })
        .collect::<Result<Vec<usize>>>()?;
    let mut seen = HashSet::new();
    for t in engine.scan_table(table)? {
        let vals: Vec<&Value> = pos.iter().map(|&p| &t.values[p]).collect();
        if let Some(i) = vals.iter().position(|v| matches!(v, Value::Null)) {
            if key.primary {
                return Err(SqlError::State {
                    code: sqlstate::NOT_NULL_VIOLATION,
                    message: format!(
                        "column \"{}\" of relation \"{table}\" contains null values",
                        key.columns[i]
                    ),
                });
            }
            continue;
        }
        if !seen.insert(key_bytes(&vals)) {
            return Err(SqlError::State {
                code: sqlstate::UNIQUE_VIOLATION,
                message: format!("could not create unique index \"{}\"", key.name),
            });
        }
    }
    Ok(())
}

thread_local! {
    /// How deep the ON DELETE actions of the running statement nest.
    static CASCADE_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Cascade chains longer than this are refused (a cycle of CASCADE keys
/// through rows referencing themselves).
const MAX_CASCADE_DEPTH: u32 = 64;

/// Rows one action statement names (`WHERE c IN (…)`).
const ACTION_CHUNK: usize = 500;

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A foreign key of `child` with an ON DELETE action that changes rows.
struct Referencing {
    child: String,
    column: String,
    parent_column: String,
    action: Referential,
    default: Option<String>,
}

impl crate::session::Session<'_> {
    /// Applies the ON DELETE actions (CASCADE, SET NULL, SET DEFAULT) of
    /// the foreign keys that reference the table `d` deletes from, to the
    /// rows referencing the rows `d` is about to delete; in the statement's
    /// transaction, before `d` itself runs (whose own NO ACTION check then
    /// finds the referencing rows gone). Nested deletes apply their tables'
    /// actions in turn.
    pub(crate) fn delete_actions(
        &mut self,
        d: &gluesql_core::sqlparser::ast::Delete,
        table: &str,
        params: &[Value],
    ) -> Result<()> {
        use gluesql_core::ast::ToSql;
        use gluesql_core::sqlparser::ast::FromTable;

        let tables = self.tables()?;
        let mut refs = Vec::new();
        for (child, info) in tables.iter() {
            for fk in &info.meta.schema.foreign_keys {
                if fk.referenced_table_name != table {
                    continue;
                }
                let Some(a) = info.meta.fk_actions.iter().find(|a| a.name == fk.name) else {
                    continue;
                };
                if !matches!(
                    a.on_delete,
                    Referential::Cascade | Referential::SetNull | Referential::SetDefault
                ) {
                    continue;
                }
                let default = info
                    .meta
                    .schema
                    .column_defs
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|c| c.name == fk.referencing_column_name)
                    .and_then(|c| c.default.as_ref())
                    .map(ToSql::to_sql);
                refs.push(Referencing {
                    child: child.clone(),
                    column: fk.referencing_column_name.clone(),
                    parent_column: fk.referenced_column_name.clone(),
                    action: a.on_delete,
                    default,
                });
            }
        }
        if refs.is_empty() {
            return Ok(());
        }
        if d.using.is_some() || d.limit.is_some() || !d.order_by.is_empty() {
            return Err(SqlError::Unsupported(format!(
                "DELETE … USING / ORDER BY / LIMIT on table \"{table}\", which foreign keys \
                 with ON DELETE actions reference"
            )));
        }
        if !self.in_transaction() {
            return Err(SqlError::Transaction(
                "ON DELETE actions run inside the statement's transaction".into(),
            ));
        }
        let depth = CASCADE_DEPTH.with(std::cell::Cell::get);
        if depth >= MAX_CASCADE_DEPTH {
            return Err(SqlError::TooComplex(format!(
                "ON DELETE CASCADE chain deeper than {MAX_CASCADE_DEPTH} levels"
            )));
        }
        let from = match &d.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut parent_cols: Vec<&str> = refs.iter().map(|r| r.parent_column.as_str()).collect();
        parent_cols.sort_unstable();
        parent_cols.dedup();
        let select = format!(
            "SELECT {} FROM {from}{}",
            parent_cols
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            d.selection
                .as_ref()
                .map(|w| format!(" WHERE {w}"))
                .unwrap_or_default()
        );
        let stmt = crate::limits::parse(&select)?
            .pop()
            .ok_or_else(|| SqlError::Syntax("empty SELECT".into()))?;
        let rows = match self.run_internal(stmt, params)? {
            crate::QueryResult::Rows { rows, .. } => rows,
            crate::QueryResult::Command { .. } => Vec::new(),
        };
        if rows.is_empty() {
            return Ok(());
        }
        CASCADE_DEPTH.with(|c| c.set(depth + 1));
        let r = (|| -> Result<()> {
            for r in &refs {
                let Some(i) = parent_cols.iter().position(|c| *c == r.parent_column) else {
                    continue;
                };
                let mut seen = HashSet::new();
                let values: Vec<String> = rows
                    .iter()
                    .map(|row| &row[i])
                    .filter(|v| !matches!(v, Value::Null))
                    .map(|v| crate::session::value_expr(v).to_string())
                    .filter(|v| seen.insert(v.clone()))
                    .collect();
                for chunk in values.chunks(ACTION_CHUNK) {
                    let cond = format!("{} IN ({})", quote(&r.column), chunk.join(", "));
                    let sql = match r.action {
                        Referential::Cascade => {
                            format!("DELETE FROM {} WHERE {cond}", quote(&r.child))
                        }
                        Referential::SetNull => format!(
                            "UPDATE {} SET {} = NULL WHERE {cond}",
                            quote(&r.child),
                            quote(&r.column)
                        ),
                        _ => format!(
                            "UPDATE {} SET {} = {} WHERE {cond}",
                            quote(&r.child),
                            quote(&r.column),
                            r.default.as_deref().unwrap_or("NULL")
                        ),
                    };
                    let stmt = crate::limits::parse(&sql)?
                        .pop()
                        .ok_or_else(|| SqlError::Syntax("empty action statement".into()))?;
                    self.run_internal(stmt, &[])?;
                }
            }
            Ok(())
        })();
        CASCADE_DEPTH.with(|c| c.set(depth));
        r
    }
}

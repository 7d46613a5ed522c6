//! `ALTER TABLE`, `CREATE [UNIQUE] INDEX [IF NOT EXISTS]` and `DROP INDEX`
//! (see [`crate::ddl`] for the design).

use std::ops::Bound;

use gluesql_core::ast::{
    ColumnDef as GColumnDef, ColumnUniqueOption, Expr as GExpr, ForeignKey, ReferentialAction,
    Statement as GStatement,
};
use gluesql_core::prelude::translate_with_params;
use gluesql_core::sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, CreateIndex, DataType as SqlType, Expr,
    ObjectName, ObjectType, Statement, TableConstraint,
};
use heliosdb_core::{Column, DataType, Schema, StorageEngine, Tuple, Value};
use rust_decimal::prelude::ToPrimitive;

use crate::convert::{engine_type, to_engine_typed, to_glue};
use crate::ddl::{compile_check, default_value, mentions, new_check, rename_in_expr, CheckDef};
use crate::store::{
    meta_key, next_values, save_table_meta, seq_key, PendingMeta, SqlShared, TableInfo, TableMeta,
    ROWID,
};
use crate::{sqlstate, QueryResult, Result, SqlError};

/// Name prefix of the scratch table an ALTER TABLE fills (hidden from SQL).
pub(crate) const SCRATCH_PREFIX: &str = "__heliosdb_alter__";

/// Rows written to the scratch table per engine write.
const BATCH: usize = 512;

fn state(code: &'static str, message: impl Into<String>) -> SqlError {
    SqlError::State {
        code,
        message: message.into(),
    }
}

fn done(tag: &str) -> QueryResult {
    QueryResult::Command {
        tag: tag.to_string(),
        rows: 0,
    }
}

fn last(name: &ObjectName) -> String {
    name.0.last().map(|i| i.value.clone()).unwrap_or_default()
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn no_column(table: &str, column: &str) -> SqlError {
    state(
        sqlstate::UNDEFINED_COLUMN,
        format!("column \"{column}\" of relation \"{table}\" does not exist"),
    )
}

fn defs(meta: &TableMeta) -> &[GColumnDef] {
    meta.schema.column_defs.as_deref().unwrap_or(&[])
}

fn defs_mut(meta: &mut TableMeta) -> &mut Vec<GColumnDef> {
    meta.schema.column_defs.get_or_insert_with(Vec::new)
}

/// A column definition as the SQL layer would create it: GlueSQL's column,
/// what our metadata remembers about it, and a table-level FOREIGN KEY if
/// it had `REFERENCES`.
fn column_def(table: &str, col: &ColumnDef) -> Result<(GColumnDef, PendingMeta, Vec<ForeignKey>)> {
    let sql = format!("CREATE TABLE {} ({col})", quote(table));
    let mut stmt = crate::limits::parse(&sql)?
        .pop()
        .ok_or_else(|| SqlError::Syntax("column definition".into()))?;
    let Statement::CreateTable(ct) = &mut stmt else {
        return Err(SqlError::Syntax("column definition".into()));
    };
    let pending = crate::rewrite::create_table(ct)?;
    crate::rewrite::pg_semantics(&mut stmt)?;
    let glue = translate_with_params(&stmt, &[]).map_err(sqlstate::from_glue)?;
    match glue {
        GStatement::CreateTable {
            columns: Some(mut cols),
            foreign_keys,
            ..
        } if cols.len() == 1 => Ok((cols.remove(0), pending, foreign_keys)),
        _ => Err(SqlError::Syntax(format!("column definition {col}"))),
    }
}

/// Everything that runs outside GlueSQL: `Some(result)` when `stmt` was one.
pub(crate) fn run(
    engine: &StorageEngine,
    shared: &SqlShared,
    stmt: &mut Statement,
) -> Result<Option<QueryResult>> {
    match stmt {
        Statement::AlterTable {
            name,
            if_exists,
            operations,
            only: _,
            location: None,
            on_cluster: None,
        } => {
            let table = last(name);
            if shared.tables(engine)?.get(&table).is_none() {
                if *if_exists {
                    return Ok(Some(done("ALTER TABLE")));
                }
                return Err(state(
                    sqlstate::UNDEFINED_TABLE,
                    format!("relation \"{table}\" does not exist"),
                ));
            }
            let mut current = table;
            for op in operations.iter() {
                current = alter(engine, shared, &current, op)?;
            }
            Ok(Some(done("ALTER TABLE")))
        }
        Statement::CreateIndex(ci) => create_index(engine, shared, ci),
        Statement::Drop {
            object_type: ObjectType::Index,
            if_exists,
            names,
            ..
        } => {
            for n in names.iter() {
                if n.0.len() > 1 && !n.0[0].value.eq_ignore_ascii_case("public") {
                    // `table.index`: GlueSQL's own form.
                    return Ok(None);
                }
                let index = last(n);
                let tables = shared.tables(engine)?;
                let owner = tables
                    .values()
                    .find(|t| t.meta.schema.indexes.iter().any(|i| i.name == index));
                let Some(info) = owner else {
                    if *if_exists {
                        continue;
                    }
                    return Err(state(
                        sqlstate::UNDEFINED_OBJECT,
                        format!("index \"{index}\" does not exist"),
                    ));
                };
                let mut meta = info.meta.clone();
                meta.schema.indexes.retain(|i| i.name != index);
                if let Some(p) = meta.unique_names.iter().position(|(n, _)| *n == index) {
                    let (_, col) = meta.unique_names.remove(p);
                    if let Some(d) = defs_mut(&mut meta).iter_mut().find(|d| d.name == col) {
                        if d.unique == Some(ColumnUniqueOption { is_primary: false }) {
                            d.unique = None;
                        }
                    }
                }
                save_table_meta(engine, shared, &info.meta.schema.table_name, &meta)?;
            }
            Ok(Some(done("DROP INDEX")))
        }
        _ => Ok(None),
    }
}

fn index_exists(engine: &StorageEngine, shared: &SqlShared, name: &str) -> Result<bool> {
    Ok(shared
        .tables(engine)?
        .values()
        .any(|t| t.meta.schema.indexes.iter().any(|i| i.name == name)))
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS]`: the options GlueSQL lacks are
/// handled here, the index itself is left to GlueSQL (`Ok(None)`), except a
/// unique index, whose column becomes UNIQUE (enforced as a UNIQUE
/// constraint is).
fn create_index(
    engine: &StorageEngine,
    shared: &SqlShared,
    ci: &mut CreateIndex,
) -> Result<Option<QueryResult>> {
    let Some(name) = ci.name.as_ref().map(last) else {
        return Ok(None);
    };
    if ci.if_not_exists {
        if index_exists(engine, shared, &name)? {
            return Ok(Some(done("CREATE INDEX")));
        }
        ci.if_not_exists = false;
    }
    if !ci.unique {
        return Ok(None);
    }
    let table = last(&ci.table_name);
    let info = shared.table(engine, &table)?;
    let [col] = ci.columns.as_slice() else {
        return Err(SqlError::Unsupported(
            "unique indexes on several columns are not supported".into(),
        ));
    };
    let Expr::Identifier(col) = &col.expr else {
        return Err(SqlError::Unsupported(
            "unique indexes on expressions are not supported".into(),
        ));
    };
    if ci.predicate.is_some() || !ci.include.is_empty() || ci.using.is_some() {
        return Err(SqlError::Unsupported(
            "CREATE UNIQUE INDEX … USING, INCLUDE or WHERE is not supported".into(),
        ));
    }
    if index_exists(engine, shared, &name)? {
        return Err(state(
            sqlstate::DUPLICATE_TABLE,
            format!("relation \"{name}\" already exists"),
        ));
    }
    add_unique(engine, shared, &info, &name, &col.value, true)?;
    Ok(Some(done("CREATE INDEX")))
}

/// Makes `column` UNIQUE after checking the rows (a unique index or a
/// UNIQUE constraint named `name`).
fn add_unique(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    name: &str,
    column: &str,
    index: bool,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let pos = info
        .columns()
        .position(|c| c.name == column)
        .ok_or_else(|| no_column(&table, column))?;
    let mut seen = std::collections::BTreeSet::new();
    for t in engine.scan_table_range(&table, Bound::Unbounded, Bound::Unbounded)? {
        let t = t?;
        let v = &t.values[pos];
        if matches!(v, Value::Null) {
            continue;
        }
        let mut k = Vec::new();
        v.encode_ordered(&mut k);
        if !seen.insert(k) {
            return Err(state(
                sqlstate::UNIQUE_VIOLATION,
                format!(
                    "could not create unique index \"{name}\": key ({column})=({v}) is duplicated"
                ),
            ));
        }
    }
    let mut meta = info.meta.clone();
    if meta.unique_names.iter().any(|(n, _)| n == name) {
        return Err(state(
            sqlstate::DUPLICATE_TABLE,
            format!("relation \"{name}\" already exists"),
        ));
    }
    if let Some(d) = defs_mut(&mut meta).iter_mut().find(|d| d.name == column) {
        if d.unique.is_none() {
            d.unique = Some(ColumnUniqueOption { is_primary: false });
        }
    }
    meta.unique_names
        .push((name.to_string(), column.to_string()));
    if index {
        if engine.catalog().create_index(&table, column).is_err() {
            // An engine index on the column exists already: it serves.
        }
        meta.schema.indexes.push(gluesql_core::data::SchemaIndex {
            name: name.to_string(),
            expr: GExpr::Identifier(column.to_string()),
            order: gluesql_core::data::SchemaIndexOrd::Both,
            created: chrono::Utc::now().naive_utc(),
        });
    }
    save_table_meta(engine, shared, &table, &meta)
}

/// One `ALTER TABLE` operation; returns the table's name afterwards.
fn alter(
    engine: &StorageEngine,
    shared: &SqlShared,
    table: &str,
    op: &AlterTableOperation,
) -> Result<String> {
    let info = shared.table(engine, table)?;
    let exists = |c: &str| defs(&info.meta).iter().any(|d| d.name == c);
    match op {
        AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            column_position: None,
            ..
        } => {
            let name = column_def.name.value.clone();
            if exists(&name) {
                if *if_not_exists {
                    return Ok(table.into());
                }
                return Err(state(
                    sqlstate::DUPLICATE_COLUMN,
                    format!("column \"{name}\" of relation \"{table}\" already exists"),
                ));
            }
            add_column(engine, shared, &info, column_def)?;
        }
        AlterTableOperation::DropColumn {
            column_name,
            if_exists,
            cascade,
        } => {
            let name = column_name.value.clone();
            if !exists(&name) {
                if *if_exists {
                    return Ok(table.into());
                }
                return Err(no_column(table, &name));
            }
            drop_column(engine, shared, &info, &name, *cascade)?;
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let (old, new) = (&old_column_name.value, &new_column_name.value);
            if !exists(old) {
                return Err(no_column(table, old));
            }
            if exists(new) {
                return Err(state(
                    sqlstate::DUPLICATE_COLUMN,
                    format!("column \"{new}\" of relation \"{table}\" already exists"),
                ));
            }
            rename_column(engine, shared, &info, old, new)?;
        }
        AlterTableOperation::RenameTable { table_name } => {
            let new = last(table_name);
            return rename_table(engine, shared, &info, &new).map(|()| new);
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let col = column_name.value.clone();
            if !exists(&col) {
                return Err(no_column(table, &col));
            }
            alter_column(engine, shared, &info, &col, op)?;
        }
        AlterTableOperation::AddConstraint(c) => add_constraint(engine, shared, &info, c)?,
        AlterTableOperation::DropConstraint {
            if_exists, name, ..
        } => drop_constraint(engine, shared, &info, &name.value, *if_exists)?,
        other => {
            return Err(SqlError::Unsupported(format!(
                "ALTER TABLE … {other} is not supported"
            )))
        }
    }
    Ok(table.into())
}

/// The engine columns of a table whose SQL columns are `defs` (the hidden
/// row id is added by [`rebuild`] when no column is the primary key).
fn engine_columns(info: &TableInfo, defs: &[GColumnDef]) -> Result<Vec<Column>> {
    defs.iter()
        .map(|d| {
            let t = match info.engine.column_index(&d.name) {
                Some(i) if engine_type(&d.data_type).is_none() => info.engine.columns[i].data_type,
                _ => engine_type(&d.data_type).ok_or_else(|| {
                    SqlError::Unsupported(format!(
                        "column \"{}\": type {} is not supported",
                        d.name, d.data_type
                    ))
                })?,
            };
            let mut c = Column::new(d.name.clone(), t);
            if d.unique == Some(ColumnUniqueOption { is_primary: true }) {
                c = c.primary_key();
            } else if !d.nullable {
                c = c.not_null();
            }
            Ok(c)
        })
        .collect()
}

/// How often a rebuild that lost to concurrent commits (a transaction
/// block of another session wrote the table while it was copied) is tried
/// again before the ALTER TABLE fails with SQLSTATE 40001.
const REBUILD_ATTEMPTS: u32 = 5;

/// Rebuilds `info`'s table with the columns of `meta` (see the module):
/// each old row's visible values go through `convert` into a scratch table,
/// read in one engine transaction; the scratch table is swapped in, and
/// `meta` saved, atomically with that transaction's commit. A row that
/// another session's transaction block commits to the table after the copy
/// began makes the swap fail (the copy missed the row) and the rebuild run
/// again; a transaction that wrote the old table and commits after the swap
/// fails with 40001 itself. No committed row is lost either way.
fn rebuild(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    meta: TableMeta,
    mut convert: impl FnMut(Vec<Value>) -> Result<Vec<Value>>,
) -> Result<()> {
    // Autocommit writes of this process wait (they hold `serial` shared),
    // so only transaction blocks can race the copy.
    let _alone = shared
        .serial
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut attempt = 1;
    loop {
        match rebuild_once(engine, shared, info, &meta, &mut convert) {
            Err(SqlError::Conflict(m)) if attempt < REBUILD_ATTEMPTS => {
                tracing::debug!(attempt, reason = %m, "ALTER TABLE copy raced a commit; copying again");
                std::thread::sleep(std::time::Duration::from_millis(u64::from(attempt) * 5));
                attempt += 1;
            }
            Err(SqlError::Conflict(m)) => {
                return Err(SqlError::Conflict(format!(
                    "ALTER TABLE {}: concurrent transactions kept writing the table while it was \
                     copied ({m}); nothing was changed, run it again",
                    quote(&info.meta.schema.table_name)
                )))
            }
            other => return other,
        }
    }
}

/// One copy-and-swap attempt of [`rebuild`].
fn rebuild_once(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    meta: &TableMeta,
    convert: &mut impl FnMut(Vec<Value>) -> Result<Vec<Value>>,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let mut columns = engine_columns(info, defs(meta))?;
    let rowid = !columns.iter().any(|c| c.primary_key);
    if rowid {
        if !info.hidden_rowid {
            return Err(SqlError::Unsupported(
                "dropping the primary key column is not supported".into(),
            ));
        }
        columns.push(Column::new(ROWID, DataType::Int8).primary_key());
    }
    let scratch = format!("{SCRATCH_PREFIX}{table}");
    if engine.catalog().table_exists(&scratch)? {
        // Left by an interrupted ALTER TABLE.
        engine.catalog().drop_table(&scratch)?;
    }
    engine
        .catalog()
        .create_table(&scratch, Schema::new(columns))?;
    // The copy reads through `tx`: its scan is validated when `tx` commits
    // together with the swap. The scratch rows are written directly (they
    // are nobody else's, and need not sit in memory until the commit).
    let tx = engine.begin()?;
    let filled = (|| -> Result<()> {
        for i in &meta.schema.indexes {
            if let GExpr::Identifier(c) = &i.expr {
                if engine.catalog().create_index(&scratch, c).is_err() {
                    // Two SQL indexes on one column share an engine index.
                }
            }
        }
        for k in &meta.composite {
            // What the composite keys' uniqueness check probes.
            crate::keys::ensure_index(engine, &scratch, &k.columns[0])?;
        }
        let n = info.visible_len();
        let mut batch = Vec::with_capacity(BATCH);
        for t in tx.scan_table_range(&table, Bound::Unbounded, Bound::Unbounded)? {
            crate::limits::check_deadline()?;
            let mut values = t?.values;
            let hidden = values.get(n).cloned();
            values.truncate(n);
            let mut out = convert(values)?;
            if rowid {
                out.push(hidden.unwrap_or(Value::Null));
            }
            batch.push(Tuple::new(out));
            if batch.len() == BATCH {
                engine.insert_batch(&scratch, std::mem::take(&mut batch))?;
            }
        }
        if !batch.is_empty() {
            engine.insert_batch(&scratch, batch)?;
        }
        let bytes = serde_json::to_vec(meta)
            .map_err(|e| SqlError::Engine(format!("SQL metadata of table '{table}': {e}")))?;
        tx.put(meta_key(&table).as_bytes(), &bytes)?;
        Ok(())
    })();
    let swapped = filled.and_then(|()| Ok(tx.commit_replacing_table(&table, &scratch)?));
    if swapped.is_err() {
        let _ = engine.catalog().drop_table(&scratch);
    }
    shared.invalidate();
    swapped
}

/// Validates every row against a new CHECK.
fn validate_check(engine: &StorageEngine, info: &TableInfo, def: &CheckDef) -> Result<()> {
    let mut probe = info.clone();
    probe.checks = vec![compile_check(def)?];
    let table = &info.meta.schema.table_name;
    for t in engine.scan_table_range(table, Bound::Unbounded, Bound::Unbounded)? {
        let t = t?;
        if crate::ddl::enforce_checks(&probe, &t.values).is_err() {
            return Err(state(
                sqlstate::CHECK_VIOLATION,
                format!(
                    "check constraint \"{}\" of relation \"{table}\" is violated by some row",
                    def.name
                ),
            ));
        }
    }
    Ok(())
}

fn add_column(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    col: &ColumnDef,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let (def, pending, fks) = column_def(&table, col)?;
    if def.unique == Some(ColumnUniqueOption { is_primary: true }) {
        return Err(SqlError::Unsupported(
            "ALTER TABLE … ADD COLUMN … PRIMARY KEY is not supported; add the column, then \
             ADD PRIMARY KEY"
                .into(),
        ));
    }
    let t = engine_type(&def.data_type)
        .ok_or_else(|| SqlError::Unsupported(format!("type {} is not supported", def.data_type)))?;
    let name = def.name.clone();
    let serial = pending.serial.contains(&name);
    let fill = to_engine_typed(&default_value(&def)?, t, &name)?;
    if matches!(fill, Value::Null) && !def.nullable && !serial {
        let nonempty = engine
            .scan_table_range(&table, Bound::Unbounded, Bound::Unbounded)?
            .next()
            .is_some();
        if nonempty {
            return Err(state(
                sqlstate::NOT_NULL_VIOLATION,
                format!("column \"{name}\" of relation \"{table}\" contains null values"),
            ));
        }
    }
    let mut meta = info.meta.clone();
    let unique = def.unique.is_some();
    defs_mut(&mut meta).push(def);
    meta.serial.extend(pending.serial);
    meta.varchar.extend(pending.varchar);
    meta.numeric.extend(pending.numeric);
    meta.identity_always.extend(pending.identity_always);
    meta.bpchar.extend(pending.bpchar);
    meta.json.extend(pending.json);
    meta.jsonb.extend(pending.jsonb);
    let taken: Vec<String> = meta.checks.iter().map(|c| c.name.clone()).collect();
    for c in pending.checks {
        let c = if taken.contains(&c.name) {
            new_check(&table, None, &crate::ddl::parse_expr(&c.expr)?, &taken)?
        } else {
            c
        };
        meta.checks.push(c);
    }
    meta.schema.foreign_keys.extend(fks);
    let seq = seq_key(&table, &name);
    let mut probe = info.clone();
    probe.meta = meta.clone();
    probe.checks = meta
        .checks
        .iter()
        .map(compile_check)
        .collect::<Result<Vec<_>>>()?;
    rebuild(engine, shared, info, meta, |mut values| {
        let v = if serial {
            Value::Int8(next_values(engine, &seq, 1)?)
        } else {
            fill.clone()
        };
        let v = to_engine_typed(&to_glue(&v), t, &name)?;
        values.push(v);
        crate::ddl::enforce_checks(&probe, &values).map_err(sqlstate::from_glue)?;
        Ok(values)
    })?;
    if unique && info.visible_len() > 0 {
        // Every existing row got the same default: UNIQUE holds only for
        // at most one row (or NULLs), as PostgreSQL's index build finds.
        let info = shared.table(engine, &table)?;
        let mut meta = info.meta.clone();
        let n = format!("{table}_{name}_key");
        if !meta.unique_names.iter().any(|(x, _)| *x == n) {
            meta.unique_names.push((n, name));
            save_table_meta(engine, shared, &table, &meta)?;
        }
    }
    Ok(())
}

fn drop_column(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    column: &str,
    cascade: bool,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let pos = defs(&info.meta)
        .iter()
        .position(|d| d.name == column)
        .ok_or_else(|| no_column(&table, column))?;
    if defs(&info.meta).len() == 1 {
        return Err(SqlError::Unsupported(
            "dropping the only column of a table is not supported".into(),
        ));
    }
    for other in shared.tables(engine)?.values() {
        for fk in &other.meta.schema.foreign_keys {
            if fk.referenced_table_name == table && fk.referenced_column_name == column {
                return Err(state(
                    "2BP01",
                    format!(
                        "cannot drop column {column} of table {table} because other objects \
                         depend on it"
                    ),
                ));
            }
        }
    }
    let _ = cascade;
    let mut meta = info.meta.clone();
    defs_mut(&mut meta).remove(pos);
    meta.schema
        .indexes
        .retain(|i| i.expr != GExpr::Identifier(column.to_string()));
    meta.schema
        .foreign_keys
        .retain(|f| f.referencing_column_name != column);
    meta.serial.retain(|c| c != column);
    meta.identity_always.retain(|c| c != column);
    meta.varchar.retain(|(c, _)| c != column);
    meta.numeric.retain(|(c, ..)| c != column);
    meta.unique_names.retain(|(_, c)| c != column);
    meta.bpchar.retain(|c| c != column);
    meta.json.retain(|c| c != column);
    meta.jsonb.retain(|c| c != column);
    meta.composite
        .retain(|k| !k.columns.iter().any(|c| c == column));
    let fks: Vec<String> = meta
        .schema
        .foreign_keys
        .iter()
        .map(|f| f.name.clone())
        .collect();
    meta.fk_actions.retain(|a| fks.contains(&a.name));
    meta.checks.retain(|c| !mentions(&c.expr, column));
    rebuild(engine, shared, info, meta, |mut values| {
        values.remove(pos);
        Ok(values)
    })?;
    engine.delete(seq_key(&table, column).as_bytes())?;
    Ok(())
}

fn rename_column(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    old: &str,
    new: &str,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let mut meta = info.meta.clone();
    let ren = |c: &mut String| {
        if c == old {
            *c = new.to_string();
        }
    };
    for d in defs_mut(&mut meta) {
        ren(&mut d.name);
    }
    for i in &mut meta.schema.indexes {
        if let GExpr::Identifier(c) = &mut i.expr {
            ren(c);
        }
    }
    for f in &mut meta.schema.foreign_keys {
        ren(&mut f.referencing_column_name);
    }
    meta.serial.iter_mut().for_each(ren);
    meta.identity_always.iter_mut().for_each(ren);
    meta.varchar.iter_mut().for_each(|(c, _)| ren(c));
    meta.numeric.iter_mut().for_each(|(c, ..)| ren(c));
    meta.unique_names.iter_mut().for_each(|(_, c)| ren(c));
    meta.bpchar.iter_mut().for_each(ren);
    meta.json.iter_mut().for_each(ren);
    meta.jsonb.iter_mut().for_each(ren);
    for k in &mut meta.composite {
        k.columns.iter_mut().for_each(ren);
    }
    for c in &mut meta.checks {
        c.expr = rename_in_expr(&c.expr, old, new)?;
    }
    // The sequence of a SERIAL column is keyed by its name.
    let seq = engine.get(seq_key(&table, old).as_bytes())?;
    rebuild(engine, shared, info, meta, Ok)?;
    if let Some(v) = seq {
        engine.put(seq_key(&table, new).as_bytes(), &v)?;
        engine.delete(seq_key(&table, old).as_bytes())?;
    }
    // Foreign keys of other tables that point at the column.
    for other in shared.tables(engine)?.values() {
        if other
            .meta
            .schema
            .foreign_keys
            .iter()
            .any(|f| f.referenced_table_name == table && f.referenced_column_name == old)
        {
            let mut m = other.meta.clone();
            for f in &mut m.schema.foreign_keys {
                if f.referenced_table_name == table && f.referenced_column_name == old {
                    f.referenced_column_name = new.to_string();
                }
            }
            save_table_meta(engine, shared, &m.schema.table_name.clone(), &m)?;
        }
    }
    Ok(())
}

fn rename_table(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    new: &str,
) -> Result<()> {
    let old = info.meta.schema.table_name.clone();
    if shared.tables(engine)?.contains_key(new) {
        return Err(state(
            sqlstate::DUPLICATE_TABLE,
            format!("relation \"{new}\" already exists"),
        ));
    }
    let mut seqs: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    for c in info
        .meta
        .serial
        .iter()
        .chain(std::iter::once(&ROWID.to_string()))
    {
        seqs.push((c.clone(), engine.get(seq_key(&old, c).as_bytes())?));
    }
    engine.catalog().rename_table(&old, new)?;
    shared.forget_rowids(&old);
    shared.forget_rowids(new);
    let mut meta = info.meta.clone();
    meta.schema.table_name = new.to_string();
    save_table_meta(engine, shared, new, &meta)?;
    engine.delete(meta_key(&old).as_bytes())?;
    for (c, v) in seqs {
        if let Some(v) = v {
            engine.put(seq_key(new, &c).as_bytes(), &v)?;
        }
        engine.delete(seq_key(&old, &c).as_bytes())?;
    }
    for other in shared.tables(engine)?.values() {
        if other
            .meta
            .schema
            .foreign_keys
            .iter()
            .any(|f| f.referenced_table_name == old)
        {
            let mut m = other.meta.clone();
            for f in &mut m.schema.foreign_keys {
                if f.referenced_table_name == old {
                    f.referenced_table_name = new.to_string();
                }
            }
            save_table_meta(engine, shared, &m.schema.table_name.clone(), &m)?;
        }
    }
    shared.invalidate();
    Ok(())
}

/// Whether values of engine type `from` convert to `to` without USING
/// (PostgreSQL's assignment casts among the types the engine stores).
fn assignable(from: DataType, to: DataType) -> bool {
    use crate::convert::number_type;
    from == to || to == DataType::Text || (number_type(from) && number_type(to))
}

fn pg_name(t: DataType) -> &'static str {
    crate::convert::pg_type_name(t)
}

/// One value converted for ALTER COLUMN TYPE.
fn cast(v: Value, to: DataType, column: &str) -> Result<Value> {
    let range = || {
        state(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("{} out of range", pg_name(to)),
        )
    };
    let v = match (v, to) {
        (Value::Null, _) => return Ok(Value::Null),
        (v, DataType::Text) => return Ok(Value::String(crate::session::text_of(&v))),
        // Through NUMERIC as its shortest digits, otherwise as the exact
        // double precision value.
        (Value::Float4(f), DataType::Numeric) => {
            return crate::session::coerce(Value::Float4(f), DataType::Numeric)
        }
        (Value::Float4(f), to) => return cast(Value::Float8(f64::from(f)), to, column),
        (Value::Float8(f), DataType::Int2 | DataType::Int4 | DataType::Int8) => {
            if !f.is_finite() || f.abs() > 9.3e18 {
                return Err(range());
            }
            Value::Int8(f.round_ties_even() as i64)
        }
        (Value::Numeric(d), DataType::Int2 | DataType::Int4 | DataType::Int8) => Value::Int8(
            d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_i64()
                .ok_or_else(range)?,
        ),
        (v, _) => v,
    };
    to_engine_typed(&to_glue(&v), to, column).map_err(|e| match e {
        SqlError::Type(m) if m.contains("out of range") => range(),
        other => other,
    })
}

fn alter_column(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    column: &str,
    op: &AlterColumnOperation,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let pos = defs(&info.meta)
        .iter()
        .position(|d| d.name == column)
        .ok_or_else(|| no_column(&table, column))?;
    let mut meta = info.meta.clone();
    match op {
        AlterColumnOperation::SetDefault { value } => {
            let col = ColumnDef {
                name: gluesql_core::sqlparser::ast::Ident::new(column),
                data_type: SqlType::Text,
                collation: None,
                options: vec![gluesql_core::sqlparser::ast::ColumnOptionDef {
                    name: None,
                    option: gluesql_core::sqlparser::ast::ColumnOption::Default(value.clone()),
                }],
            };
            let (def, ..) = column_def(&table, &col)?;
            defs_mut(&mut meta)[pos].default = def.default;
            save_table_meta(engine, shared, &table, &meta)
        }
        AlterColumnOperation::DropDefault => {
            defs_mut(&mut meta)[pos].default = None;
            save_table_meta(engine, shared, &table, &meta)
        }
        AlterColumnOperation::SetNotNull => {
            defs_mut(&mut meta)[pos].nullable = false;
            let name = column.to_string();
            rebuild(engine, shared, info, meta, |values| {
                if matches!(values[pos], Value::Null) {
                    return Err(state(
                        sqlstate::NOT_NULL_VIOLATION,
                        format!("column \"{name}\" of relation \"{table}\" contains null values"),
                    ));
                }
                Ok(values)
            })
        }
        AlterColumnOperation::DropNotNull => {
            let d = &mut defs_mut(&mut meta)[pos];
            if d.unique == Some(ColumnUniqueOption { is_primary: true }) {
                return Err(state(
                    "42P16",
                    format!("column \"{column}\" is in a primary key"),
                ));
            }
            d.nullable = true;
            rebuild(engine, shared, info, meta, Ok)
        }
        AlterColumnOperation::SetDataType {
            data_type,
            using: None,
        } => {
            let col = ColumnDef {
                name: gluesql_core::sqlparser::ast::Ident::new(column),
                data_type: data_type.clone(),
                collation: None,
                options: Vec::new(),
            };
            let (def, pending, _) = column_def(&table, &col)?;
            let from = info.engine.columns[pos].data_type;
            let to = engine_type(&def.data_type).ok_or_else(|| {
                SqlError::Unsupported(format!("type {data_type} is not supported"))
            })?;
            if !assignable(from, to) {
                return Err(state(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "column \"{column}\" cannot be cast automatically to type {}",
                        pg_name(to)
                    ),
                ));
            }
            if info.engine.columns[pos].primary_key && from != to {
                return Err(SqlError::Unsupported(
                    "changing the type of a primary key column is not supported".into(),
                ));
            }
            if !(pending.bpchar.is_empty() && pending.json.is_empty() && pending.jsonb.is_empty()) {
                return Err(SqlError::Unsupported(
                    "ALTER COLUMN … TYPE to CHAR(n), JSON or JSONB is not supported".into(),
                ));
            }
            defs_mut(&mut meta)[pos].data_type = def.data_type;
            meta.bpchar.retain(|c| c != column);
            meta.json.retain(|c| c != column);
            meta.jsonb.retain(|c| c != column);
            meta.varchar.retain(|(c, _)| c != column);
            meta.numeric.retain(|(c, ..)| c != column);
            meta.varchar.extend(pending.varchar.clone());
            meta.numeric.extend(pending.numeric.clone());
            let limit = pending.varchar.first().map(|(_, n)| *n);
            let numeric = pending.numeric.first().map(|(_, p, s)| (*p, *s));
            let name = column.to_string();
            rebuild(engine, shared, info, meta, |mut values| {
                let v = cast(std::mem::replace(&mut values[pos], Value::Null), to, &name)?;
                if let (Value::String(s), Some(n)) = (&v, limit) {
                    if s.chars().count() as u64 > n {
                        return Err(state(
                            sqlstate::STRING_DATA_RIGHT_TRUNCATION,
                            format!("value too long for type character varying({n})"),
                        ));
                    }
                }
                if let (Value::Numeric(d), Some((p, s))) = (&v, numeric) {
                    let int_digits = d.trunc().abs().to_string().trim_start_matches('0').len();
                    if int_digits as u32 > p.saturating_sub(s) {
                        return Err(state(
                            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                            "numeric field overflow",
                        ));
                    }
                }
                values[pos] = v;
                Ok(values)
            })
        }
        other => Err(SqlError::Unsupported(format!(
            "ALTER TABLE … ALTER COLUMN {column} {other} is not supported"
        ))),
    }
}

fn add_constraint(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    c: &TableConstraint,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let one = |columns: &[gluesql_core::sqlparser::ast::Ident], what: &str| -> Result<String> {
        match columns {
            [c] => {
                if !defs(&info.meta).iter().any(|d| d.name == c.value) {
                    return Err(state(
                        sqlstate::UNDEFINED_COLUMN,
                        format!("column \"{}\" named in key does not exist", c.value),
                    ));
                }
                Ok(c.value.clone())
            }
            _ => Err(SqlError::Unsupported(format!(
                "{what} constraints on several columns are not supported"
            ))),
        }
    };
    match c {
        TableConstraint::Check { name, expr } => {
            let taken: Vec<String> = info.meta.checks.iter().map(|c| c.name.clone()).collect();
            let def = new_check(&table, name.as_ref(), expr, &taken)?;
            validate_check(engine, info, &def)?;
            let mut meta = info.meta.clone();
            meta.checks.push(def);
            save_table_meta(engine, shared, &table, &meta)
        }
        TableConstraint::Unique {
            name,
            columns,
            index_options,
            characteristics: None,
            ..
        } if index_options.is_empty() => {
            if columns.len() > 1 {
                return add_composite(engine, shared, info, name.as_ref(), columns, false);
            }
            let col = one(columns, "UNIQUE")?;
            let name = name
                .as_ref()
                .map(|n| n.value.clone())
                .unwrap_or_else(|| format!("{table}_{col}_key"));
            add_unique(engine, shared, info, &name, &col, false)
        }
        TableConstraint::PrimaryKey {
            name,
            columns,
            index_options,
            characteristics: None,
            ..
        } if index_options.is_empty() => {
            if columns.len() > 1 {
                return add_composite(engine, shared, info, name.as_ref(), columns, true);
            }
            let col = one(columns, "PRIMARY KEY")?;
            if !info.hidden_rowid || info.meta.composite.iter().any(|k| k.primary) {
                return Err(state(
                    "42P16",
                    format!("multiple primary keys for table \"{table}\" are not allowed"),
                ));
            }
            let pos = defs(&info.meta)
                .iter()
                .position(|d| d.name == col)
                .ok_or_else(|| no_column(&table, &col))?;
            let mut meta = info.meta.clone();
            let d = &mut defs_mut(&mut meta)[pos];
            d.unique = Some(ColumnUniqueOption { is_primary: true });
            d.nullable = false;
            let mut seen = std::collections::BTreeSet::new();
            rebuild(engine, shared, info, meta, |values| {
                let v = &values[pos];
                if matches!(v, Value::Null) {
                    return Err(state(
                        sqlstate::NOT_NULL_VIOLATION,
                        format!("column \"{col}\" of relation \"{table}\" contains null values"),
                    ));
                }
                let mut k = Vec::new();
                v.encode_ordered(&mut k);
                if !seen.insert(k) {
                    return Err(state(
                        sqlstate::UNIQUE_VIOLATION,
                        format!(
                            "could not create unique index \"{table}_pkey\": key ({col})=({v}) \
                             is duplicated"
                        ),
                    ));
                }
                Ok(values)
            })
        }
        TableConstraint::ForeignKey {
            name,
            columns,
            foreign_table,
            referred_columns,
            on_delete,
            on_update,
            characteristics: None,
        } => {
            let col = one(columns, "FOREIGN KEY")?;
            let parent = last(foreign_table);
            let pinfo = shared.table(engine, &parent)?;
            let pcol = match referred_columns.as_slice() {
                [c] => c.value.clone(),
                [] => pinfo
                    .engine
                    .primary_key_index()
                    .filter(|_| !pinfo.hidden_rowid)
                    .map(|i| pinfo.engine.columns[i].name.clone())
                    .ok_or_else(|| {
                        state(
                            "42830",
                            format!("there is no primary key for referenced table \"{parent}\""),
                        )
                    })?,
                _ => {
                    return Err(SqlError::Unsupported(
                        "FOREIGN KEY constraints on several columns are not supported".into(),
                    ))
                }
            };
            let delete_action = crate::keys::on_delete(on_delete.as_ref());
            let update_action = crate::keys::on_update(on_update.as_ref())?;
            let pdef = defs(&pinfo.meta)
                .iter()
                .find(|d| d.name == pcol)
                .ok_or_else(|| no_column(&parent, &pcol))?;
            if !crate::ddl::is_unique(pdef) {
                return Err(state(
                    "42830",
                    format!(
                        "there is no unique constraint matching given keys for referenced \
                         table \"{parent}\""
                    ),
                ));
            }
            let name = name
                .as_ref()
                .map(|n| n.value.clone())
                .unwrap_or_else(|| format!("{table}_{col}_fkey"));
            // Every existing non-NULL value must be in the parent.
            let pos = info
                .columns()
                .position(|c| c.name == col)
                .ok_or_else(|| no_column(&table, &col))?;
            let ppos = pinfo
                .columns()
                .position(|c| c.name == pcol)
                .ok_or_else(|| no_column(&parent, &pcol))?;
            let mut keys = std::collections::BTreeSet::new();
            for t in engine.scan_table_range(&parent, Bound::Unbounded, Bound::Unbounded)? {
                keys.insert(crate::session::text_of(&t?.values[ppos]));
            }
            for t in engine.scan_table_range(&table, Bound::Unbounded, Bound::Unbounded)? {
                let t = t?;
                let v = &t.values[pos];
                if matches!(v, Value::Null) {
                    continue;
                }
                if !keys.contains(&crate::session::text_of(v)) {
                    return Err(state(
                        sqlstate::FOREIGN_KEY_VIOLATION,
                        format!(
                            "insert or update on table \"{table}\" violates foreign key \
                             constraint \"{name}\""
                        ),
                    ));
                }
            }
            let mut meta = info.meta.clone();
            if delete_action != crate::keys::Referential::NoAction
                || update_action != crate::keys::Referential::NoAction
            {
                meta.fk_actions.push(crate::keys::FkAction {
                    name: name.clone(),
                    on_delete: delete_action,
                    on_update: update_action,
                });
            }
            meta.schema.foreign_keys.push(ForeignKey {
                name,
                referencing_column_name: col,
                referenced_table_name: parent,
                referenced_column_name: pcol,
                on_delete: ReferentialAction::NoAction,
                on_update: ReferentialAction::NoAction,
            });
            save_table_meta(engine, shared, &table, &meta)
        }
        other => Err(SqlError::Unsupported(format!(
            "ALTER TABLE … ADD {other} is not supported"
        ))),
    }
}

fn drop_constraint(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    name: &str,
    if_exists: bool,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let mut meta = info.meta.clone();
    if let Some(p) = meta.checks.iter().position(|c| c.name == name) {
        meta.checks.remove(p);
    } else if let Some(p) = meta.schema.foreign_keys.iter().position(|f| f.name == name) {
        meta.schema.foreign_keys.remove(p);
        meta.fk_actions.retain(|a| a.name != name);
    } else if let Some(p) = meta.composite.iter().position(|k| k.name == name) {
        meta.composite.remove(p);
    } else if let Some(p) = meta.unique_names.iter().position(|(n, _)| n == name) {
        let (_, col) = meta.unique_names.remove(p);
        meta.schema.indexes.retain(|i| i.name != name);
        if let Some(d) = defs_mut(&mut meta).iter_mut().find(|d| d.name == col) {
            if d.unique == Some(ColumnUniqueOption { is_primary: false }) {
                d.unique = None;
            }
        }
    } else if name == format!("{table}_pkey") && !info.hidden_rowid {
        return Err(SqlError::Unsupported(
            "dropping a primary key is not supported".into(),
        ));
    } else if let Some(d) = defs(&meta)
        .iter()
        .find(|d| format!("{table}_{}_key", d.name) == name && d.unique.is_some())
    {
        let col = d.name.clone();
        if let Some(d) = defs_mut(&mut meta).iter_mut().find(|d| d.name == col) {
            if d.unique == Some(ColumnUniqueOption { is_primary: false }) {
                d.unique = None;
            }
        }
    } else {
        if if_exists {
            return Ok(());
        }
        return Err(state(
            sqlstate::UNDEFINED_OBJECT,
            format!("constraint \"{name}\" of relation \"{table}\" does not exist"),
        ));
    }
    save_table_meta(engine, shared, &table, &meta)
}

/// `ALTER TABLE … ADD [CONSTRAINT name] PRIMARY KEY / UNIQUE (a, b, …)`:
/// a key the SQL layer checks (see [`crate::keys`]).
fn add_composite(
    engine: &StorageEngine,
    shared: &SqlShared,
    info: &TableInfo,
    name: Option<&gluesql_core::sqlparser::ast::Ident>,
    columns: &[gluesql_core::sqlparser::ast::Ident],
    primary: bool,
) -> Result<()> {
    let table = info.meta.schema.table_name.clone();
    let names: Vec<String> = columns.iter().map(|c| c.value.clone()).collect();
    crate::keys::check_columns(&names, primary)?;
    for n in &names {
        if !defs(&info.meta).iter().any(|d| d.name == *n) {
            return Err(state(
                sqlstate::UNDEFINED_COLUMN,
                format!("column \"{n}\" named in key does not exist"),
            ));
        }
    }
    if primary && (!info.hidden_rowid || info.meta.composite.iter().any(|k| k.primary)) {
        return Err(state(
            "42P16",
            format!("multiple primary keys for table \"{table}\" are not allowed"),
        ));
    }
    let key = crate::keys::CompositeKey {
        name: name.map_or_else(
            || crate::keys::default_name(&table, &names, primary),
            |n| n.value.clone(),
        ),
        columns: names,
        primary,
    };
    let taken = info.meta.composite.iter().any(|k| k.name == key.name)
        || info.meta.unique_names.iter().any(|(n, _)| *n == key.name)
        || info.meta.checks.iter().any(|c| c.name == key.name)
        || info
            .meta
            .schema
            .foreign_keys
            .iter()
            .any(|f| f.name == key.name);
    if taken {
        return Err(state(
            sqlstate::DUPLICATE_TABLE,
            format!("relation \"{}\" already exists", key.name),
        ));
    }
    crate::keys::check_existing(engine, &table, info, &key)?;
    crate::keys::ensure_index(engine, &table, &key.columns[0])?;
    let mut meta = info.meta.clone();
    if primary {
        for d in defs_mut(&mut meta)
            .iter_mut()
            .filter(|d| key.columns.contains(&d.name))
        {
            d.nullable = false;
        }
    }
    meta.composite.push(key);
    save_table_meta(engine, shared, &table, &meta)
}

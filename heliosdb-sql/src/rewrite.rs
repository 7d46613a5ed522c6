//! The PostgreSQL rewrite layer: maps PostgreSQL spellings that GlueSQL
//! lacks onto what it understands, on the `sqlparser` AST GlueSQL itself
//! parses into — type names with PostgreSQL widths, SERIAL columns (filled
//! from a sealed per-table sequence), single-column `PRIMARY KEY (…)`
//! constraints, and the session functions `version()`,
//! `current_database()`, `current_user`, `current_schema()`.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::visit_expressions_mut;
use gluesql_core::sqlparser::ast::{
    BinaryOperator, CastKind, CharacterLength, ColumnOption, ColumnOptionDef, CreateTable,
    DataType as SqlType, ExactNumberInfo, Expr, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, GeneratedAs, Ident, Insert, ObjectName, SelectItem, SetExpr, SqlOption,
    Statement, TableConstraint, TimezoneInfo, UnaryOperator, Value as SqlValue,
};
use heliosdb_core::{DataType, StorageEngine};

use crate::store::{next_values, seq_key, PendingMeta, TableInfo};
use crate::{Result, SqlError};

/// `version()`: what PostgreSQL clients expect to start with.
pub(crate) const VERSION: &str = concat!(
    "PostgreSQL 15.0 (HeliosDB Nano ",
    env!("CARGO_PKG_VERSION"),
    ", encrypted storage, GlueSQL 0.20)"
);

/// The type GlueSQL should use for a PostgreSQL type, with the VARCHAR limit
/// (if any) and whether it is a SERIAL pseudo-type.
struct Mapped {
    sql: SqlType,
    limit: Option<u64>,
    serial: bool,
}

/// The length a cast to `varchar(n)` / `char(n)` cuts text to.
pub(crate) fn cast_char_limit(t: &SqlType) -> Option<u64> {
    match t {
        SqlType::Varchar(l)
        | SqlType::CharacterVarying(l)
        | SqlType::CharVarying(l)
        | SqlType::Nvarchar(l)
        | SqlType::Character(l)
        | SqlType::Char(l) => char_limit(l),
        _ => None,
    }
}

fn char_limit(l: &Option<CharacterLength>) -> Option<u64> {
    match l {
        Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
        _ => None,
    }
}

fn map_type(t: &SqlType) -> Mapped {
    let plain = |sql| Mapped {
        sql,
        limit: None,
        serial: false,
    };
    let serial = |sql| Mapped {
        sql,
        limit: None,
        serial: true,
    };
    match t {
        SqlType::SmallInt(_) | SqlType::Int2(_) | SqlType::Int16 => plain(SqlType::Int16),
        SqlType::Int(_) | SqlType::Integer(_) | SqlType::Int4(_) | SqlType::Int32 => {
            plain(SqlType::Int32)
        }
        SqlType::BigInt(_) | SqlType::Int8(_) | SqlType::Int64 => plain(SqlType::Int64),
        // FLOAT(p) is real up to 24 binary digits, as in PostgreSQL.
        SqlType::Real | SqlType::Float4 | SqlType::Float32 => plain(SqlType::Float32),
        SqlType::Float(Some(p)) if *p <= 24 => plain(SqlType::Float32),
        SqlType::Float(_)
        | SqlType::Float8
        | SqlType::Float64
        | SqlType::Double
        | SqlType::DoublePrecision => plain(SqlType::Float64),
        // NUMERIC(p, s) is stored as an exact decimal without a declared scale.
        SqlType::Numeric(_) | SqlType::Decimal(_) | SqlType::Dec(_) => {
            plain(SqlType::Decimal(ExactNumberInfo::None))
        }
        SqlType::Varchar(l)
        | SqlType::CharacterVarying(l)
        | SqlType::CharVarying(l)
        | SqlType::Nvarchar(l)
        | SqlType::Character(l)
        | SqlType::Char(l) => Mapped {
            sql: SqlType::Text,
            limit: char_limit(l),
            serial: false,
        },
        SqlType::String(_) | SqlType::JSON | SqlType::JSONB => plain(SqlType::Text),
        SqlType::Timestamp(_, _) | SqlType::Datetime(_) => {
            plain(SqlType::Timestamp(None, TimezoneInfo::None))
        }
        SqlType::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            plain(SqlType::Time(None, TimezoneInfo::None))
        }
        SqlType::Date => plain(SqlType::Date),
        SqlType::Interval => plain(SqlType::Interval),
        SqlType::Uuid => plain(SqlType::Uuid),
        SqlType::Bool | SqlType::Boolean => plain(SqlType::Boolean),
        SqlType::Blob(_) | SqlType::Bytes(_) | SqlType::Varbinary(_) | SqlType::Binary(_) => {
            plain(SqlType::Bytea)
        }
        SqlType::Custom(name, _) => {
            let n = name.to_string().to_ascii_lowercase();
            match n.as_str() {
                "serial" | "serial4" => serial(SqlType::Int32),
                "bigserial" | "serial8" => serial(SqlType::Int64),
                "smallserial" | "serial2" => serial(SqlType::Int16),
                _ => plain(t.clone()),
            }
        }
        other => plain(other.clone()),
    }
}

/// The engine type a PostgreSQL type name maps to (for casts and inference).
pub(crate) fn engine_type_of(t: &SqlType) -> Option<DataType> {
    if is_timestamptz(t) {
        return Some(DataType::TimestampTz);
    }
    Some(match map_type(t).sql {
        SqlType::Int16 => DataType::Int2,
        SqlType::Int32 => DataType::Int4,
        SqlType::Int64 => DataType::Int8,
        SqlType::Float64 => DataType::Float8,
        SqlType::Float32 => DataType::Float4,
        SqlType::Decimal(_) => DataType::Numeric,
        SqlType::Text => DataType::Text,
        SqlType::Timestamp(_, _) => DataType::Timestamp,
        SqlType::Boolean => DataType::Bool,
        SqlType::Bytea => DataType::Bytes,
        SqlType::Date => DataType::Date,
        SqlType::Time(_, _) => DataType::Time,
        SqlType::Interval => DataType::Interval,
        SqlType::Uuid => DataType::Uuid,
        _ => return None,
    })
}

/// `TIMESTAMPTZ` / `TIMESTAMP WITH TIME ZONE`: GlueSQL computes it as a
/// UTC timestamp; the engine column remembers the type.
pub(crate) fn is_timestamptz(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz)
    ) || matches!(t, SqlType::Custom(n, _) if n.to_string().eq_ignore_ascii_case("timestamptz"))
}

/// Rewrites `CREATE TABLE` column types; returns what the SQL layer must
/// remember about SERIAL and VARCHAR(n) columns.
pub(crate) fn create_table(ct: &mut CreateTable) -> Result<PendingMeta> {
    let mut pending = PendingMeta::default();
    // Storage parameters (`WITH (fillfactor = 100)`, as pgbench writes
    // them) tune PostgreSQL's heap pages and vacuum; they change no answer
    // and have no counterpart in RocksDB. Anything else is refused.
    for o in std::mem::take(&mut ct.with_options) {
        let storage_param = match &o {
            SqlOption::KeyValue { key, .. } => {
                let k = key.value.to_ascii_lowercase();
                k == "fillfactor"
                    || k.starts_with("autovacuum_")
                    || k.starts_with("toast.")
                    || k == "parallel_workers"
                    || k == "toast_tuple_target"
            }
            _ => false,
        };
        if !storage_param {
            return Err(SqlError::Unsupported(format!(
                "CREATE TABLE … WITH ({o}) is not supported"
            )));
        }
    }
    let table = ct
        .name
        .0
        .last()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    // CHECK constraints are ours (see `crate::ddl`): stored as written,
    // named as PostgreSQL names them, enforced on every written row.
    let mut checks: Vec<(Option<Ident>, Expr)> = Vec::new();
    for col in &mut ct.columns {
        col.options.retain(|o| match &o.option {
            ColumnOption::Check(e) => {
                checks.push((o.name.clone(), e.clone()));
                false
            }
            _ => true,
        });
    }
    ct.constraints.retain(|c| match c {
        TableConstraint::Check { name, expr } => {
            checks.push((name.clone(), (**expr).clone()));
            false
        }
        _ => true,
    });
    for (name, expr) in &checks {
        let taken: Vec<String> = pending.checks.iter().map(|c| c.name.clone()).collect();
        let def = crate::ddl::new_check(&table, name.as_ref(), expr, &taken)?;
        pending.checks.push(def);
    }
    // `DEFAULT nextval('seq')` is filled in by `fill_serial` (GlueSQL
    // would evaluate the default itself and knows no sequences).
    for col in &mut ct.columns {
        let name = col.name.value.clone();
        col.options.retain(|o| match &o.option {
            ColumnOption::Default(e) => match crate::objects::default_sequence(e) {
                Some(seq) => {
                    pending.seq_defaults.push((name.clone(), seq));
                    false
                }
                None => true,
            },
            _ => true,
        });
    }
    // Identity columns draw from a sequence as SERIAL columns do;
    // `GENERATED ALWAYS` ones refuse explicit values (see `fill_serial`).
    for col in &mut ct.columns {
        let mut identity = None;
        let mut refused = None;
        col.options.retain(|o| match &o.option {
            ColumnOption::Generated {
                generated_as,
                sequence_options,
                generation_expr: None,
                ..
            } => {
                if sequence_options.as_ref().is_some_and(|s| !s.is_empty()) {
                    refused = Some("identity columns with sequence options");
                }
                match generated_as {
                    GeneratedAs::Always => identity = Some(true),
                    GeneratedAs::ByDefault => identity = Some(false),
                    GeneratedAs::ExpStored => refused = Some("stored generated columns"),
                }
                false
            }
            ColumnOption::Generated { .. } => {
                refused = Some("generated columns");
                true
            }
            _ => true,
        });
        if let Some(what) = refused {
            return Err(SqlError::Unsupported(format!("{what} are not supported")));
        }
        if let Some(always) = identity {
            let integer = matches!(
                engine_type_of(&col.data_type),
                Some(DataType::Int2 | DataType::Int4 | DataType::Int8)
            );
            if !integer {
                return Err(SqlError::State {
                    code: crate::sqlstate::DATATYPE_MISMATCH,
                    message: format!(
                        "identity column type must be smallint, integer, or bigint (column \"{}\")",
                        col.name.value
                    ),
                });
            }
            pending.serial.push(col.name.value.clone());
            if always {
                pending.identity_always.push(col.name.value.clone());
            }
            if !col
                .options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::NotNull))
            {
                col.options.push(ColumnOptionDef {
                    name: None,
                    option: ColumnOption::NotNull,
                });
            }
        }
    }
    // A column-level `REFERENCES t (c)` becomes the table-level FOREIGN KEY
    // GlueSQL knows (PostgreSQL treats the two alike).
    for col in &mut ct.columns {
        let mut opts = Vec::with_capacity(col.options.len());
        for o in std::mem::take(&mut col.options) {
            match o.option {
                ColumnOption::ForeignKey {
                    foreign_table,
                    referred_columns,
                    on_delete,
                    on_update,
                    characteristics,
                } => ct.constraints.push(TableConstraint::ForeignKey {
                    name: o.name,
                    columns: vec![col.name.clone()],
                    foreign_table,
                    referred_columns,
                    on_delete,
                    on_update,
                    characteristics,
                }),
                option => opts.push(ColumnOptionDef {
                    name: o.name,
                    option,
                }),
            }
        }
        col.options = opts;
    }
    // Unnamed foreign keys get PostgreSQL's name, `<table>_<columns>_fkey`
    // (what ORMs and migrations look them up by).
    for c in &mut ct.constraints {
        if let TableConstraint::ForeignKey {
            name: name @ None,
            columns,
            ..
        } = c
        {
            let cols: Vec<&str> = columns.iter().map(|c| c.value.as_str()).collect();
            let mut n = format!("{table}_{}_fkey", cols.join("_"));
            // PostgreSQL's identifier limit (NAMEDATALEN - 1 bytes).
            while n.len() > 63 {
                n.pop();
            }
            *name = Some(Ident::new(n));
        }
    }
    // Referential actions are ours (see `crate::keys`): GlueSQL sees NO ACTION.
    for c in &mut ct.constraints {
        if let TableConstraint::ForeignKey {
            name,
            columns,
            referred_columns,
            on_delete,
            on_update,
            ..
        } = c
        {
            if columns.len() > 1 || referred_columns.len() > 1 {
                return Err(SqlError::Unsupported(
                    "foreign keys on several columns are not supported".into(),
                ));
            }
            let action = crate::keys::FkAction {
                name: name.as_ref().map(|n| n.value.clone()).unwrap_or_default(),
                on_delete: crate::keys::on_delete(on_delete.as_ref()),
                on_update: crate::keys::on_update(on_update.as_ref())?,
            };
            if action.on_delete != crate::keys::Referential::NoAction
                || action.on_update != crate::keys::Referential::NoAction
            {
                pending.fk_actions.push(action);
            }
            *on_delete = None;
            *on_update = None;
        }
    }
    // A single-column table-level PRIMARY KEY becomes the column option GlueSQL knows.
    let mut keep = Vec::new();
    for c in std::mem::take(&mut ct.constraints) {
        match &c {
            TableConstraint::PrimaryKey { columns, .. } if columns.len() == 1 => {
                let col = ct
                    .columns
                    .iter_mut()
                    .find(|d| d.name.value == columns[0].value)
                    .ok_or_else(|| {
                        SqlError::Execution(format!(
                            "column \"{}\" named in key does not exist",
                            columns[0].value
                        ))
                    })?;
                col.options.push(ColumnOptionDef {
                    name: None,
                    option: ColumnOption::Unique {
                        is_primary: true,
                        characteristics: None,
                    },
                });
            }
            // So does a single-column table-level UNIQUE (what ORMs emit).
            TableConstraint::Unique {
                columns,
                index_name: None,
                index_type: None,
                index_options,
                characteristics: None,
                ..
            } if columns.len() == 1 && index_options.is_empty() => {
                let col = ct
                    .columns
                    .iter_mut()
                    .find(|d| d.name.value == columns[0].value)
                    .ok_or_else(|| SqlError::State {
                        code: crate::sqlstate::UNDEFINED_COLUMN,
                        message: format!(
                            "column \"{}\" named in key does not exist",
                            columns[0].value
                        ),
                    })?;
                if !col
                    .options
                    .iter()
                    .any(|o| matches!(o.option, ColumnOption::Unique { .. }))
                {
                    col.options.push(ColumnOptionDef {
                        name: None,
                        option: ColumnOption::Unique {
                            is_primary: false,
                            characteristics: None,
                        },
                    });
                }
            }
            // Keys on several columns are checked by the SQL layer (see
            // `crate::keys`); a primary key's columns are NOT NULL.
            TableConstraint::PrimaryKey {
                name,
                columns,
                index_options,
                characteristics: None,
                ..
            } if index_options.is_empty() => {
                composite_key(&table, &mut ct.columns, &mut pending, name, columns, true)?;
            }
            TableConstraint::Unique {
                name,
                columns,
                index_name: None,
                index_type: None,
                index_options,
                characteristics: None,
                ..
            } if columns.len() > 1 && index_options.is_empty() => {
                composite_key(&table, &mut ct.columns, &mut pending, name, columns, false)?;
            }
            TableConstraint::PrimaryKey { .. } => {
                return Err(SqlError::Unsupported(
                    "PRIMARY KEY constraints with index options or deferral are not supported"
                        .into(),
                ))
            }
            _ => keep.push(c),
        }
    }
    ct.constraints = keep;
    for col in &mut ct.columns {
        if let SqlType::Numeric(info) | SqlType::Decimal(info) | SqlType::Dec(info) = &col.data_type
        {
            let ps = match info {
                ExactNumberInfo::PrecisionAndScale(p, s) => Some((*p, *s)),
                ExactNumberInfo::Precision(p) => Some((*p, 0)),
                ExactNumberInfo::None => None,
            };
            if let Some((p, s)) = ps {
                let (p, s) = (
                    u32::try_from(p).unwrap_or(u32::MAX),
                    u32::try_from(s).unwrap_or(u32::MAX),
                );
                if p == 0 || p > 1000 || s > p || s > 28 {
                    return Err(SqlError::Unsupported(format!(
                        "NUMERIC({p}, {s}): precision must be 1 to 1000 and scale 0 to the \
                         precision, at most 28 (the engine's exact decimals hold 28 digits)"
                    )));
                }
                pending.numeric.push((col.name.value.clone(), p, s));
            }
        }
        if is_timestamptz(&col.data_type) {
            pending.timestamptz.push(col.name.value.clone());
        }
        if let SqlType::Time(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) = &col.data_type {
            return Err(SqlError::Unsupported(
                "TIME WITH TIME ZONE columns are not supported (use TIME or TIMESTAMPTZ)".into(),
            ));
        }
        match &col.data_type {
            SqlType::Character(l) | SqlType::Char(l) => {
                pending.bpchar.push(col.name.value.clone());
                // `CHAR` alone is `CHAR(1)`.
                if char_limit(l).is_none() {
                    pending.varchar.push((col.name.value.clone(), 1));
                }
            }
            SqlType::JSON => pending.json.push(col.name.value.clone()),
            SqlType::JSONB => pending.jsonb.push(col.name.value.clone()),
            _ => {}
        }
        let m = map_type(&col.data_type);
        col.data_type = m.sql;
        if let Some(n) = m.limit {
            pending.varchar.push((col.name.value.clone(), n));
        }
        if m.serial {
            pending.serial.push(col.name.value.clone());
            if !col
                .options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::NotNull))
            {
                col.options.push(ColumnOptionDef {
                    name: None,
                    option: ColumnOption::NotNull,
                });
            }
        }
    }
    Ok(pending)
}

fn table_name(name: &ObjectName) -> String {
    name.0.last().map(|i| i.value.clone()).unwrap_or_default()
}

/// Fills omitted SERIAL columns of `INSERT … VALUES` from the table's
/// sequences. Returns, per inserted row, the primary-key expression (for
/// `RETURNING`), when the row's key is known before execution.
pub(crate) fn fill_serial(
    engine: &StorageEngine,
    info: Option<&TableInfo>,
    ins: &mut Insert,
    currval: &mut std::collections::BTreeMap<String, i64>,
) -> Result<Option<Vec<Expr>>> {
    let Some(info) = info else { return Ok(None) };
    let table = table_name(&ins.table_name);
    let Some(source) = ins.source.as_mut() else {
        return Ok(None);
    };
    let SetExpr::Values(values) = source.body.as_mut() else {
        let omitted = !ins.columns.is_empty()
            && info
                .meta
                .serial
                .iter()
                .chain(info.meta.seq_defaults.iter().map(|(c, _)| c))
                .any(|s| !ins.columns.iter().any(|c| c.value == *s));
        if omitted {
            return Err(SqlError::Unsupported(
                "INSERT … SELECT must list SERIAL columns and columns defaulting to nextval() \
                 explicitly"
                    .into(),
            ));
        }
        return Ok(None);
    };
    // `INSERT INTO t VALUES (…)` with fewer values than columns leaves the
    // rest to their defaults: name the columns given, so that the
    // `nextval()` defaults below see which are omitted.
    if ins.columns.is_empty() && !info.meta.seq_defaults.is_empty() {
        let defs: Vec<String> = info
            .meta
            .schema
            .column_defs
            .iter()
            .flatten()
            .map(|d| d.name.clone())
            .collect();
        let given = values.rows.first().map_or(defs.len(), Vec::len);
        if given < defs.len() {
            ins.columns = defs[..given]
                .iter()
                .map(|n| Ident::new(n.clone()))
                .collect();
        }
    }
    // The columns the VALUES rows fill, in order.
    let targets: Vec<String> = if ins.columns.is_empty() {
        info.meta
            .schema
            .column_defs
            .iter()
            .flatten()
            .map(|d| d.name.clone())
            .collect()
    } else {
        ins.columns.iter().map(|c| c.value.clone()).collect()
    };
    let is_default = |e: &Expr| matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"));
    // `GENERATED ALWAYS AS IDENTITY` takes no explicit value (PostgreSQL's
    // OVERRIDING SYSTEM VALUE is not parsed).
    for always in &info.meta.identity_always {
        if let Some(p) = targets.iter().position(|t| t == always) {
            if values
                .rows
                .iter()
                .any(|r| r.get(p).is_some_and(|e| !is_default(e)))
            {
                return Err(SqlError::State {
                    code: "428C9",
                    message: format!("cannot insert a non-DEFAULT value into column \"{always}\""),
                });
            }
        }
    }
    // `DEFAULT` in a VALUES row: the column's default (a sequence value for
    // SERIAL and identity columns, NULL without a default).
    for row in &mut values.rows {
        for (p, e) in row.iter_mut().enumerate() {
            if !is_default(e) {
                continue;
            }
            let Some(col) = targets.get(p) else { continue };
            let seq_default = info.meta.seq_defaults.iter().find(|(c, _)| c == col);
            *e = if let Some((_, seq)) = seq_default {
                crate::objects::nextval_expr(seq)
            } else if info.meta.serial.contains(col) {
                let n = next_values(engine, &seq_key(&table, col), 1)?;
                currval.insert(format!("{table}_{col}_seq"), n);
                let n = n
                    .to_string()
                    .parse()
                    .map_err(|_| SqlError::Engine("sequence value out of range".into()))?;
                Expr::Value(SqlValue::Number(n, false))
            } else {
                let def = info
                    .meta
                    .schema
                    .column_defs
                    .iter()
                    .flatten()
                    .find(|d| d.name == *col)
                    .and_then(|d| d.default.as_ref());
                match def {
                    Some(d) => {
                        use gluesql_core::ast::ToSql;
                        crate::ddl::parse_expr(&d.to_sql())?
                    }
                    None => Expr::Value(SqlValue::Null),
                }
            };
        }
    }
    if !ins.columns.is_empty() {
        for s in &info.meta.serial {
            if ins.columns.iter().any(|c| c.value == *s) {
                continue;
            }
            let n = values.rows.len() as u64;
            if n == 0 {
                continue;
            }
            let first = next_values(engine, &seq_key(&table, s), n)?;
            currval.insert(
                format!("{table}_{s}_seq"),
                first.saturating_add_unsigned(n - 1),
            );
            ins.columns.push(Ident::new(s.clone()));
            for (i, row) in values.rows.iter_mut().enumerate() {
                let n = (first + i as i64)
                    .to_string()
                    .parse()
                    .map_err(|_| SqlError::Engine("sequence value out of range".into()))?;
                row.push(Expr::Value(SqlValue::Number(n, false)));
            }
        }
    }
    if !ins.columns.is_empty() {
        for (col, seq) in &info.meta.seq_defaults {
            if ins.columns.iter().any(|c| c.value == *col) {
                continue;
            }
            ins.columns.push(Ident::new(col.clone()));
            for row in values.rows.iter_mut() {
                row.push(crate::objects::nextval_expr(seq));
            }
        }
    }
    Ok(insert_keys(info, ins))
}

/// The primary-key expression of each `INSERT … VALUES` row (for
/// RETURNING), `None` when there is no visible primary key.
pub(crate) fn insert_keys(info: &TableInfo, ins: &Insert) -> Option<Vec<Expr>> {
    let SetExpr::Values(values) = ins.source.as_deref()?.body.as_ref() else {
        return None;
    };
    let pk = info.engine.primary_key_index()?;
    if info.hidden_rowid {
        return None;
    }
    let pk_name = &info.engine.columns[pk].name;
    let pos = if ins.columns.is_empty() {
        Some(pk)
    } else {
        ins.columns.iter().position(|c| c.value == *pk_name)
    };
    pos.map(|p| {
        values
            .rows
            .iter()
            .filter_map(|r| r.get(p).cloned())
            .collect()
    })
}

/// The instant `now()` stands for in one statement (UTC).
pub(crate) fn statement_now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Session functions and PostgreSQL type names inside expressions.
///
/// `now` is the statement's instant (see [`statement_now`]): `now()` and
/// its synonyms are one instant for the whole statement, as in PostgreSQL
/// (`now() = current_timestamp` is true).
pub(crate) fn expressions(
    stmt: &mut Statement,
    database: &str,
    user: &str,
    now: chrono::NaiveDateTime,
) {
    let now = now.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let _ = visit_expressions_mut(stmt, |e| {
        match e {
            Expr::Function(f) => {
                let name = f
                    .name
                    .0
                    .last()
                    .map(|i| i.value.to_ascii_lowercase())
                    .unwrap_or_default();
                if matches!(
                    name.as_str(),
                    "now"
                        | "current_timestamp"
                        | "transaction_timestamp"
                        | "statement_timestamp"
                        | "localtimestamp"
                ) && matches!(&f.args, FunctionArguments::None)
                    || (name == "now"
                        && matches!(&f.args, FunctionArguments::List(l) if l.args.is_empty()))
                {
                    // now() is a timestamptz in PostgreSQL, localtimestamp a
                    // timestamp (the cast is lowered after result typing).
                    let tz = if name == "localtimestamp" {
                        TimezoneInfo::None
                    } else {
                        TimezoneInfo::Tz
                    };
                    *e = Expr::Cast {
                        kind: CastKind::Cast,
                        expr: Box::new(Expr::Value(SqlValue::SingleQuotedString(now.clone()))),
                        data_type: SqlType::Timestamp(None, tz),
                        format: None,
                    };
                    return ControlFlow::<()>::Continue(());
                }
                let text = match name.as_str() {
                    "version" => Some(VERSION.to_string()),
                    "current_database" | "current_catalog" => Some(database.to_string()),
                    "current_user" | "session_user" | "user" | "current_role" => {
                        Some(user.to_string())
                    }
                    "current_schema" => Some("public".to_string()),
                    _ => None,
                };
                if let Some(t) = text {
                    *e = Expr::Value(SqlValue::SingleQuotedString(t));
                }
            }
            // TIMESTAMPTZ stays for result typing; see
            // `literals::lower_timestamptz`.
            Expr::Cast { data_type, .. } if !is_timestamptz(data_type) => {
                *data_type = map_type(data_type).sql;
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `x [NOT] LIKE|ILIKE ANY (ARRAY[p1, p2, …])` as the `OR` of the
/// single matches, which is its meaning, three-valued logic included
/// (GlueSQL matched the array as one pattern and failed); `false` for an
/// empty array. An ANY over anything but an `ARRAY[…]` or an array's text
/// (`'{a%,b%}'`) is refused.
/// `-2 ^ 2` is `(-2) ^ 2`, 4, in PostgreSQL, whose unary minus binds more
/// tightly than `^`; the parser reads `-(2 ^ 2)`. The sign moves onto the
/// leftmost operand of the `^` chain (`-2 ^ 3 ^ 2` is `((-2) ^ 3) ^ 2`);
/// a parenthesised `-(2 ^ 2)` is left alone.
fn sign_binds_tighter_than_power(stmt: &mut Statement) {
    fn push(op: UnaryOperator, e: Expr) -> Expr {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::PGExp,
                right,
            } => Expr::BinaryOp {
                left: Box::new(push(op, *left)),
                op: BinaryOperator::PGExp,
                right,
            },
            other => Expr::UnaryOp {
                op,
                expr: Box::new(other),
            },
        }
    }
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::UnaryOp {
            op: op @ (UnaryOperator::Minus | UnaryOperator::Plus),
            expr,
        } = e
        {
            if matches!(
                **expr,
                Expr::BinaryOp {
                    op: BinaryOperator::PGExp,
                    ..
                }
            ) {
                let inner = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                *e = push(*op, inner);
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

fn like_any(stmt: &mut Statement) -> Result<()> {
    let mut refused = false;
    let _ = visit_expressions_mut(stmt, |e| {
        let (Expr::Like {
            any: any @ true,
            pattern,
            ..
        }
        | Expr::ILike {
            any: any @ true,
            pattern,
            ..
        }) = e
        else {
            return ControlFlow::Continue(());
        };
        let mut p = pattern.as_ref();
        while let Expr::Nested(inner) | Expr::Cast { expr: inner, .. } = p {
            p = inner;
        }
        let patterns = match p {
            Expr::Array(array) => array.elem.clone(),
            // `'{a%,b%}'`, the array's text form.
            Expr::Value(SqlValue::SingleQuotedString(text)) => {
                match crate::arrays::array_elements(text) {
                    Some(elements) => elements
                        .into_iter()
                        .map(|x| {
                            Expr::Value(x.map_or(SqlValue::Null, SqlValue::SingleQuotedString))
                        })
                        .collect(),
                    None => {
                        refused = true;
                        return ControlFlow::Break(());
                    }
                }
            }
            _ => {
                refused = true;
                return ControlFlow::Break(());
            }
        };
        *any = false;
        let mut single = e.clone();
        let mut alternatives = patterns.into_iter().map(|p| {
            if let Expr::Like { pattern, .. } | Expr::ILike { pattern, .. } = &mut single {
                **pattern = p;
            }
            single.clone()
        });
        let first = alternatives.next();
        *e = match first {
            None => Expr::Value(SqlValue::Boolean(false)),
            Some(first) => Expr::Nested(Box::new(alternatives.fold(first, |acc, x| {
                Expr::BinaryOp {
                    left: Box::new(acc),
                    op: BinaryOperator::Or,
                    right: Box::new(x),
                }
            }))),
        };
        ControlFlow::Continue(())
    });
    if refused {
        return Err(SqlError::Unsupported(
            "LIKE/ILIKE ANY (…) of anything but an ARRAY[…] of patterns is not supported".into(),
        ));
    }
    Ok(())
}

/// What GlueSQL would evaluate differently from PostgreSQL, made right or
/// refused — never a silently different answer:
///
/// - window functions (`… OVER (…)`), aggregate `FILTER`, `WITHIN GROUP`
///   and `ORDER BY` inside an aggregate's arguments, which GlueSQL's
///   translator drops (a window aggregate would collapse to one row), are
///   refused with `0A000`;
/// - `concat(…)` skips NULL arguments (GlueSQL's is NULL if any is);
/// - `x [NOT] [I]LIKE p` is NULL when `x` or `p` is (GlueSQL raises an
///   error on NULL);
/// - `7 / 2` of two integer literals is integer division, as it is for
///   integer columns (GlueSQL divides literals exactly: 3.5).
///
/// # Errors
/// [`SqlError::Unsupported`] naming the feature.
pub(crate) fn pg_semantics(stmt: &mut Statement) -> Result<()> {
    like_any(stmt)?;
    sign_binds_tighter_than_power(stmt);
    let mut refused: Option<String> = None;
    let _ = visit_expressions_mut(stmt, |e| {
        match e {
            Expr::Function(f) => {
                let name = f.name.to_string();
                if f.over.is_some() {
                    refused = Some(format!(
                        "window functions are not supported ({name}(…) OVER …)"
                    ));
                } else if f.filter.is_some() {
                    refused = Some(format!(
                        "FILTER (WHERE …) on aggregates is not supported ({name})"
                    ));
                } else if !f.within_group.is_empty() {
                    refused = Some(format!(
                        "ordered-set aggregates (WITHIN GROUP) are not supported ({name})"
                    ));
                } else if f.null_treatment.is_some() {
                    refused = Some(format!("IGNORE/RESPECT NULLS is not supported ({name})"));
                } else if matches!(&f.args, FunctionArguments::List(l) if !l.clauses.is_empty()) {
                    refused = Some(format!(
                        "ORDER BY or other clauses inside the arguments of {name}(…) are not \
                         supported"
                    ));
                }
                if refused.is_some() {
                    return ControlFlow::Break(());
                }
                if name.eq_ignore_ascii_case("concat") {
                    concat_skips_nulls(f);
                }
            }
            // `x = ANY (ARRAY[a, b])` is `x IN (a, b)`, `x <> ALL (ARRAY[…])`
            // is `x NOT IN (…)`, NULLs included (both are NULL when no
            // element matches and one is NULL).
            Expr::AnyOp {
                compare_op: BinaryOperator::Eq,
                right,
                ..
            }
            | Expr::AllOp {
                compare_op: BinaryOperator::NotEq,
                right,
                ..
            } if matches!(right.as_ref(), Expr::Array(_)) => {
                let negated = matches!(e, Expr::AllOp { .. });
                let (Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. }) =
                    std::mem::replace(e, Expr::Value(SqlValue::Null))
                else {
                    return ControlFlow::Continue(());
                };
                let Expr::Array(array) = *right else {
                    return ControlFlow::Continue(());
                };
                *e = if array.elem.is_empty() {
                    // `= ANY ('{}')` is false, `<> ALL ('{}')` true.
                    Expr::Value(SqlValue::Boolean(negated))
                } else {
                    Expr::InList {
                        expr: left,
                        list: array.elem,
                        negated,
                    }
                };
            }
            Expr::Like {
                pattern,
                escape_char,
                ..
            }
            | Expr::ILike {
                pattern,
                escape_char,
                ..
            } if escape_char.is_some()
                || matches!(pattern.as_ref(), Expr::Value(SqlValue::SingleQuotedString(p)) if p.contains('\\')) =>
            {
                refused =
                    Some("LIKE patterns with escapes (\\ or ESCAPE) are not supported".into());
                return ControlFlow::Break(());
            }
            Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => {
                let is_null = |x: &Expr| Expr::IsNull(Box::new(x.clone()));
                let either_null = Expr::BinaryOp {
                    left: Box::new(is_null(expr)),
                    op: BinaryOperator::Or,
                    right: Box::new(is_null(pattern)),
                };
                let original = std::mem::replace(e, Expr::Value(SqlValue::Null));
                *e = Expr::Case {
                    operand: None,
                    conditions: vec![either_null],
                    results: vec![Expr::Value(SqlValue::Null)],
                    else_result: Some(Box::new(original)),
                };
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Divide | BinaryOperator::Modulo,
                right,
            } if is_integer_literal(left) && is_integer_literal(right) => {
                for side in [left, right] {
                    let lit = std::mem::replace(side.as_mut(), Expr::Value(SqlValue::Null));
                    **side = Expr::Cast {
                        kind: CastKind::Cast,
                        expr: Box::new(lit),
                        data_type: SqlType::Int64,
                        format: None,
                    };
                }
            }
            // `10 / 4::numeric`: PostgreSQL divides as NUMERIC when either
            // side is one; GlueSQL takes the left side's type (2). Both sides
            // become NUMERIC.
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Divide | BinaryOperator::Modulo,
                right,
            } if is_numeric_cast(left) != is_numeric_cast(right) => {
                let side = if is_numeric_cast(left) { right } else { left };
                let inner = std::mem::replace(side.as_mut(), Expr::Value(SqlValue::Null));
                **side = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::Nested(Box::new(inner))),
                    data_type: SqlType::Decimal(
                        gluesql_core::sqlparser::ast::ExactNumberInfo::None,
                    ),
                    format: None,
                };
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    if refused.is_none() {
        if let Statement::Query(q) = stmt {
            group_by_ordinals(&mut q.body)?;
        }
    }
    match refused {
        Some(what) => Err(SqlError::Unsupported(what)),
        None => Ok(()),
    }
}

/// `GROUP BY 1` names the first select item (GlueSQL would group by the
/// constant 1, one group): replaced by that item's expression.
fn group_by_ordinals(body: &mut SetExpr) -> Result<()> {
    use gluesql_core::sqlparser::ast::GroupByExpr;
    match body {
        SetExpr::Select(s) => {
            let projection = s.projection.clone();
            if let GroupByExpr::Expressions(exprs, _) = &mut s.group_by {
                for e in exprs {
                    let Expr::Value(SqlValue::Number(n, _)) = e else {
                        continue;
                    };
                    let item = n
                        .to_string()
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| i.checked_sub(1))
                        .and_then(|i| projection.get(i));
                    *e = match item {
                        Some(SelectItem::UnnamedExpr(x)) => x.clone(),
                        Some(SelectItem::ExprWithAlias { expr, .. }) => expr.clone(),
                        _ => {
                            return Err(SqlError::State {
                                code: crate::sqlstate::SYNTAX_OR_ACCESS,
                                message: format!("GROUP BY position {n} is not in select list"),
                            })
                        }
                    };
                }
            }
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            group_by_ordinals(left)?;
            group_by_ordinals(right)
        }
        SetExpr::Query(q) => group_by_ordinals(&mut q.body),
        _ => Ok(()),
    }
}

/// An integer literal (`7`, not `7.0` or `7e0`), possibly negated.
/// A cast to NUMERIC (`x::numeric`, `CAST(x AS DECIMAL(p, s))`).
fn is_numeric_cast(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Cast {
            data_type: SqlType::Numeric(_) | SqlType::Decimal(_) | SqlType::Dec(_),
            ..
        }
    )
}

fn is_integer_literal(e: &Expr) -> bool {
    match e {
        // A literal without a fractional part or exponent has scale 0.
        Expr::Value(SqlValue::Number(n, _)) => n.as_bigint_and_exponent().1 == 0,
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => is_integer_literal(expr),
        Expr::Nested(inner) => is_integer_literal(inner),
        _ => false,
    }
}

/// PostgreSQL's `concat`: NULL arguments are skipped, the rest joined as
/// text. Each argument that is not already a string literal becomes
/// `COALESCE(CAST(arg AS TEXT), '')`; NULL literals are dropped.
fn concat_skips_nulls(f: &mut gluesql_core::sqlparser::ast::Function) {
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    let empty = || Expr::Value(SqlValue::SingleQuotedString(String::new()));
    let mut args = Vec::with_capacity(list.args.len());
    for arg in std::mem::take(&mut list.args) {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = arg else {
            args.push(arg);
            continue;
        };
        let x = match x {
            Expr::Value(SqlValue::Null) => continue,
            Expr::Value(SqlValue::SingleQuotedString(_)) => x,
            other => Expr::Function(gluesql_core::sqlparser::ast::Function {
                name: ObjectName(vec![Ident::new("COALESCE")]),
                parameters: FunctionArguments::None,
                args: FunctionArguments::List(FunctionArgumentList {
                    duplicate_treatment: None,
                    args: vec![
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Cast {
                            kind: CastKind::Cast,
                            expr: Box::new(other),
                            data_type: SqlType::Text,
                            format: None,
                        })),
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(empty())),
                    ],
                    clauses: Vec::new(),
                }),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: Vec::new(),
            }),
        };
        args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(x)));
    }
    if args.is_empty() {
        args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(empty())));
    }
    list.args = args;
}

/// Records a PRIMARY KEY / UNIQUE constraint on several columns of a new
/// table (see [`crate::keys`]); a primary key's columns become NOT NULL.
fn composite_key(
    table: &str,
    columns: &mut [gluesql_core::sqlparser::ast::ColumnDef],
    pending: &mut PendingMeta,
    name: &Option<Ident>,
    key: &[Ident],
    primary: bool,
) -> Result<()> {
    let names: Vec<String> = key.iter().map(|c| c.value.clone()).collect();
    crate::keys::check_columns(&names, primary)?;
    for n in &names {
        if !columns.iter().any(|d| d.name.value == *n) {
            return Err(SqlError::State {
                code: crate::sqlstate::UNDEFINED_COLUMN,
                message: format!("column \"{n}\" named in key does not exist"),
            });
        }
    }
    if primary {
        let column_pk = columns.iter().any(|d| {
            d.options.iter().any(|o| {
                matches!(
                    o.option,
                    ColumnOption::Unique {
                        is_primary: true,
                        ..
                    }
                )
            })
        });
        if column_pk || pending.composite.iter().any(|k| k.primary) {
            return Err(SqlError::State {
                code: "42P16",
                message: format!("multiple primary keys for table \"{table}\" are not allowed"),
            });
        }
        for d in columns.iter_mut().filter(|d| names.contains(&d.name.value)) {
            if !d
                .options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::NotNull))
            {
                d.options.push(ColumnOptionDef {
                    name: None,
                    option: ColumnOption::NotNull,
                });
            }
        }
    }
    let name = name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| crate::keys::default_name(table, &names, primary));
    pending.composite.push(crate::keys::CompositeKey {
        name,
        columns: names,
        primary,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gluesql_core::sqlparser::dialect::PostgreSqlDialect;
    use gluesql_core::sqlparser::parser::Parser;

    #[test]
    fn postgres_types_map_to_postgres_widths() {
        let mut stmts = Parser::parse_sql(
            &PostgreSqlDialect {},
            "CREATE TABLE t (id SERIAL PRIMARY KEY, a INT8, b SMALLINT, c VARCHAR(5), \
             d DOUBLE PRECISION, e NUMERIC(10,2), f TIMESTAMP, g BIGSERIAL, h INT)",
        )
        .unwrap();
        let Statement::CreateTable(ct) = &mut stmts[0] else {
            panic!("not a CREATE TABLE")
        };
        let pending = create_table(ct).unwrap();
        let types: Vec<_> = ct.columns.iter().map(|c| c.data_type.clone()).collect();
        assert_eq!(
            types,
            vec![
                SqlType::Int32,
                SqlType::Int64,
                SqlType::Int16,
                SqlType::Text,
                SqlType::Float64,
                SqlType::Decimal(ExactNumberInfo::None),
                SqlType::Timestamp(None, TimezoneInfo::None),
                SqlType::Int64,
                SqlType::Int32,
            ]
        );
        assert_eq!(pending.serial, vec!["id".to_string(), "g".to_string()]);
        assert_eq!(pending.varchar, vec![("c".to_string(), 5)]);
    }
}

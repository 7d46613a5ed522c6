//! The PostgreSQL rewrite layer: maps PostgreSQL spellings that GlueSQL
//! lacks onto what it understands, on the `sqlparser` AST GlueSQL itself
//! parses into — type names with PostgreSQL widths, SERIAL columns (filled
//! from a sealed per-table sequence), single-column `PRIMARY KEY (…)`
//! constraints, and the session functions `version()`,
//! `current_database()`, `current_user`, `current_schema()`.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::visit_expressions_mut;
use gluesql_core::sqlparser::ast::{
    CharacterLength, ColumnOption, ColumnOptionDef, CreateTable, DataType as SqlType,
    ExactNumberInfo, Expr, Ident, Insert, ObjectName, SetExpr, Statement, TableConstraint,
    TimezoneInfo, Value as SqlValue,
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
        // The engine stores one float width; REAL is widened to DOUBLE PRECISION.
        SqlType::Real
        | SqlType::Float4
        | SqlType::Float32
        | SqlType::Float(_)
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
    Some(match map_type(t).sql {
        SqlType::Int16 => DataType::Int2,
        SqlType::Int32 => DataType::Int4,
        SqlType::Int64 => DataType::Int8,
        SqlType::Float64 => DataType::Float8,
        SqlType::Decimal(_) => DataType::Numeric,
        SqlType::Text => DataType::Text,
        SqlType::Timestamp(_, _) => DataType::Timestamp,
        SqlType::Boolean => DataType::Bool,
        SqlType::Bytea => DataType::Bytes,
        _ => return None,
    })
}

/// Rewrites `CREATE TABLE` column types; returns what the SQL layer must
/// remember about SERIAL and VARCHAR(n) columns.
pub(crate) fn create_table(ct: &mut CreateTable) -> Result<PendingMeta> {
    let mut pending = PendingMeta::default();
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
            TableConstraint::PrimaryKey { .. } => {
                return Err(SqlError::Unsupported(
                    "multi-column primary keys are not supported by the encrypted engine".into(),
                ))
            }
            _ => keep.push(c),
        }
    }
    ct.constraints = keep;
    for col in &mut ct.columns {
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
                .any(|s| !ins.columns.iter().any(|c| c.value == *s));
        if omitted {
            return Err(SqlError::Unsupported(
                "INSERT … SELECT must list SERIAL columns explicitly".into(),
            ));
        }
        return Ok(None);
    };
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
    // Primary-key expression per row, for RETURNING.
    let Some(pk) = info.engine.primary_key_index() else {
        return Ok(None);
    };
    if info.hidden_rowid {
        return Ok(None);
    }
    let pk_name = &info.engine.columns[pk].name;
    let pos = if ins.columns.is_empty() {
        Some(pk)
    } else {
        ins.columns.iter().position(|c| c.value == *pk_name)
    };
    Ok(pos.map(|p| {
        values
            .rows
            .iter()
            .filter_map(|r| r.get(p).cloned())
            .collect()
    }))
}

/// Session functions and PostgreSQL type names inside expressions.
pub(crate) fn expressions(stmt: &mut Statement, database: &str, user: &str) {
    let _ = visit_expressions_mut(stmt, |e| {
        match e {
            Expr::Function(f) => {
                let name = f
                    .name
                    .0
                    .last()
                    .map(|i| i.value.to_ascii_lowercase())
                    .unwrap_or_default();
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
            Expr::Cast { data_type, .. } => {
                *data_type = map_type(data_type).sql;
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
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

//! What the SQL layer adds to a logical dump for PostgreSQL: `SERIAL`,
//! `BIGSERIAL` and `SMALLSERIAL` columns with their sequence positions
//! (`SELECT setval(…)` after the rows), and `VARCHAR(n)` limits. Our own
//! import gets the same state from the dump's key-value pairs.

use std::collections::BTreeMap;
use std::sync::Arc;

use heliosdb_core::{sql_string_literal, DataType, DumpHints, StorageEngine};

use crate::store::{seq_key, SqlShared, TableInfo};
use crate::Result;

/// [`DumpHints`] read from the SQL layer's metadata:
/// `engine.export_sql_with(out, progress, Some(&PgDumpHints::new(&engine)?))`.
#[derive(Debug)]
pub struct PgDumpHints<'e> {
    engine: &'e StorageEngine,
    tables: Arc<BTreeMap<String, Arc<TableInfo>>>,
}

impl<'e> PgDumpHints<'e> {
    /// Reads the SQL metadata of every table.
    ///
    /// # Errors
    /// Storage errors; corrupt metadata.
    pub fn new(engine: &'e StorageEngine) -> Result<Self> {
        Ok(PgDumpHints {
            engine,
            tables: SqlShared::new().tables(engine)?,
        })
    }

    fn column_data_type(&self, table: &str, column: &str) -> Option<DataType> {
        let info = self.tables.get(table)?;
        info.engine
            .columns
            .iter()
            .find(|c| c.name == column)
            .map(|c| c.data_type)
    }
}

impl DumpHints for PgDumpHints<'_> {
    fn column_type(&self, table: &str, column: &str) -> Option<String> {
        let info = self.tables.get(table)?;
        if info.meta.serial.iter().any(|c| c == column) {
            return Some(
                match self.column_data_type(table, column)? {
                    DataType::Int2 => "SMALLSERIAL",
                    DataType::Int8 => "BIGSERIAL",
                    _ => "SERIAL",
                }
                .to_string(),
            );
        }
        info.meta
            .varchar
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, n)| format!("VARCHAR({n})"))
    }

    fn after_rows(&self, table: &str) -> heliosdb_core::Result<Vec<String>> {
        let Some(info) = self.tables.get(table) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for column in &info.meta.serial {
            // The stored value is the next one to hand out (1 when unused).
            let next = match self.engine.get(seq_key(table, column).as_bytes())? {
                Some(b) => b
                    .as_slice()
                    .try_into()
                    .map(i64::from_be_bytes)
                    .map_err(|_| {
                        heliosdb_core::Error::Corrupt(format!(
                            "sequence of {table}.{column} is not 8 bytes"
                        ))
                    })?,
                None => 1,
            };
            let (value, called) = if next > 1 {
                (next - 1, "true")
            } else {
                (1, "false")
            };
            out.push(format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), {value}, {called});",
                sql_string_literal(&quoted_ident(table)),
                sql_string_literal(column),
            ));
        }
        Ok(out)
    }
}

/// `name` as a double-quoted identifier (what `pg_get_serial_sequence`
/// parses its first argument as).
fn quoted_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

//! Tables on the engine: the catalog, rows keyed by their primary key
//! (`table id ‖ order-preserving encoding` in format 2; a blind token in
//! format 1), and secondary indexes kept in step with every insert, update
//! and delete.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::audit::EventType;
use crate::engine::{IndexDef, StorageEngine, TableDef, TxnKey};
use crate::store::Cf;
use crate::types::{decode_value, Schema, Tuple, Value};
use crate::{Error, Result};

const NEXT_TABLE_ID: &[u8] = b"next_table_id";
const ROWID_PREFIX: &[u8] = b"rowid/";

/// The catalog of an engine (`storage.catalog()`).
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'a> {
    engine: &'a StorageEngine,
}

impl Catalog<'_> {
    /// Creates a table. The name and schema are stored sealed; record keys
    /// carry only an internal table id.
    ///
    /// # Errors
    /// The table exists; the schema is invalid; storage errors.
    pub fn create_table(&self, name: &str, schema: Schema) -> Result<()> {
        let r = self.engine.create_table(name, schema);
        self.engine.audit_result(
            EventType::SchemaChange,
            Some(name),
            "create_table",
            &r,
            |_| 0,
        );
        r
    }

    /// Creates a table whose rows and index entries are sealed with a key of
    /// its own; dropping the table destroys that key, so its data becomes
    /// unreadable everywhere at once — old SST files, WAL, and backups taken
    /// after the drop (crypto-shredding). Data-key rotation leaves such
    /// tables under their own key.
    ///
    /// # Errors
    /// As [`Catalog::create_table`]; an unencrypted database.
    pub fn create_table_with_own_key(&self, name: &str, schema: Schema) -> Result<()> {
        if !self.engine.is_encrypted() {
            return Err(Error::Schema(
                "a table key needs an encrypted database".into(),
            ));
        }
        let r = self.engine.create_table_opts(name, schema, true);
        self.engine.audit_result(
            EventType::SchemaChange,
            Some(name),
            "create_table_with_own_key",
            &r,
            |_| 0,
        );
        r
    }

    /// The schema of a table.
    ///
    /// # Errors
    /// The table does not exist; decryption errors.
    pub fn get_table_schema(&self, name: &str) -> Result<Schema> {
        Ok(self.engine.table(name)?.schema.clone())
    }

    /// Drops a table with its rows and indexes.
    ///
    /// # Errors
    /// The table does not exist; storage errors.
    pub fn drop_table(&self, name: &str) -> Result<()> {
        let r = match self.engine.drop_table_in_transaction(name) {
            Ok(true) => Ok(()),
            Ok(false) => self.engine.drop_table(name),
            Err(e) => Err(e),
        };
        self.engine
            .audit_result(EventType::SchemaChange, Some(name), "drop_table", &r, |_| 0);
        r
    }

    /// Names of all tables, sorted.
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn list_tables(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self.engine.tables()?.keys().cloned().collect();
        names.sort();
        Ok(names)
    }

    /// Whether a table exists.
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn table_exists(&self, name: &str) -> Result<bool> {
        Ok(self.engine.tables()?.contains_key(name))
    }

    /// Renames a table. Rows and indexes are keyed by the table's internal
    /// id, so only its catalog entry changes (atomically).
    ///
    /// # Errors
    /// `old` does not exist; `new` exists; storage errors.
    pub fn rename_table(&self, old: &str, new: &str) -> Result<()> {
        let r = self.engine.rename_table(old, new);
        self.engine.audit_result(
            EventType::SchemaChange,
            Some(old),
            "rename_table",
            &r,
            |_| 0,
        );
        r
    }

    /// Replaces table `target` by table `source` in one atomic write: the
    /// rows, indexes and catalog entry of `target` are deleted and `source`
    /// takes its name (the rebuild step of `ALTER TABLE`: build the new
    /// table under a scratch name, then swap it in).
    ///
    /// # Errors
    /// Either table does not exist; storage errors.
    pub fn replace_table(&self, target: &str, source: &str) -> Result<()> {
        let r = self.engine.replace_table(target, source);
        self.engine.audit_result(
            EventType::SchemaChange,
            Some(target),
            "replace_table",
            &r,
            |_| 0,
        );
        r
    }

    /// Creates a secondary equality index on `column` and fills it from the existing rows.
    ///
    /// # Errors
    /// Unknown table or column; an index on it already exists; storage errors.
    pub fn create_index(&self, table: &str, column: &str) -> Result<()> {
        let r = self.engine.create_index(table, column);
        self.engine.audit_result(
            EventType::SchemaChange,
            Some(table),
            "create_index",
            &r,
            |_| 0,
        );
        r
    }
}

fn table_id_bytes(id: u32) -> [u8; 4] {
    id.to_be_bytes()
}

fn catalog_key(engine: &StorageEngine, name: &str) -> Vec<u8> {
    if engine.store().ordered() {
        let mut key = Vec::new();
        Value::String(name.to_string()).encode_ordered(&mut key);
        return key;
    }
    engine.store().token(b"table", name.as_bytes())
}

/// A primary key's bytes (`Value::encode_key`) back as a value.
fn pk_value(pk: &[u8]) -> Result<Value> {
    decode_value(pk).map_err(|_| Error::Corrupt("primary key bytes".into()))
}

impl StorageEngine {
    /// The catalog (table definitions).
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog { engine: self }
    }

    /// All tables, as the calling thread's transaction sees them (without
    /// those it dropped).
    pub(crate) fn tables(&self) -> Result<crate::engine::TableMap> {
        Ok(self.without_dropped(self.catalog_tables()?))
    }

    /// All tables in the catalog, loaded (and decrypted) once and cached.
    fn catalog_tables(&self) -> Result<crate::engine::TableMap> {
        if let Some(t) = self
            .tables_cache()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(Arc::clone(t));
        }
        // A schema change between this read and the store below would make
        // the map stale: it is then returned to this caller only, not
        // cached (a table created meanwhile would otherwise be missing from
        // the cache until the next schema change).
        let generation = self.schema_generation();
        let mut map = HashMap::new();
        for item in self.store().scan_prefix(Cf::Catalog, &[])? {
            let (key, bytes) = item.map_err(|e| {
                crate::engine::relocate(e, || "catalog (table definitions)".to_string())
            })?;
            let def: TableDef = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Corrupt(format!("catalog entry {}: {e}", hex::encode(&key))))?;
            map.insert(def.name.clone(), Arc::new(def));
        }
        let map = Arc::new(map);
        let mut cache = self
            .tables_cache()
            .write()
            .unwrap_or_else(|p| p.into_inner());
        // `invalidate_tables` counts the change before it empties the
        // cache under this lock: either the count differs here, or the
        // emptying comes after this store.
        if self.schema_generation() == generation {
            *cache = Some(Arc::clone(&map));
        }
        Ok(map)
    }

    pub(crate) fn invalidate_tables(&self) {
        self.bump_schema_generation();
        *self
            .tables_cache()
            .write()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub(crate) fn table(&self, name: &str) -> Result<Arc<TableDef>> {
        self.tables()?
            .get(name)
            .cloned()
            .ok_or_else(|| Error::TableNotFound(name.to_string()))
    }

    /// Name of the table with this internal id (for error locations).
    pub(crate) fn table_name_by_id(&self, id: u32) -> Option<String> {
        self.tables()
            .ok()?
            .values()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
    }

    fn create_table(&self, name: &str, schema: Schema) -> Result<()> {
        self.create_table_opts(name, schema, false)
    }

    fn create_table_opts(&self, name: &str, schema: Schema, own_key: bool) -> Result<()> {
        if name.is_empty() {
            return Err(Error::Schema("table name is empty".into()));
        }
        schema.validate()?;
        if self.dropped_in_transaction(name) {
            // Its definition stays in the catalog until the DROP commits.
            return Err(Error::Transaction(format!(
                "table '{name}' was dropped earlier in this transaction; a table of the same \
                 name can be created once the DROP has committed"
            )));
        }
        let key = catalog_key(self, name);
        self.ddl(|ctx| {
            if ctx.get(Cf::Catalog, &key)?.is_some() {
                return Err(Error::TableExists(name.to_string()));
            }
            let id = match ctx.get(Cf::Meta, NEXT_TABLE_ID)? {
                Some(b) => u32::from_be_bytes(
                    b.as_slice()
                        .try_into()
                        .map_err(|_| Error::Corrupt("next table id".into()))?,
                ),
                None => 1,
            };
            if own_key {
                // The key exists before any record that needs it.
                self.store().create_table_key(id)?;
            }
            let def = TableDef {
                id,
                name: name.to_string(),
                schema,
                indexes: Vec::new(),
                next_index_id: 1,
                own_key,
            };
            ctx.put(
                Cf::Meta,
                NEXT_TABLE_ID.to_vec(),
                (id + 1).to_be_bytes().to_vec(),
            );
            ctx.put(Cf::Catalog, key, serde_json::to_vec(&def)?);
            Ok(())
        })?;
        self.note_created_table(name);
        Ok(())
    }

    /// Drops a table at once (the rollback of its creation).
    pub(crate) fn drop_table_now(&self, name: &str) -> Result<()> {
        let r = self.drop_table(name);
        self.audit_result(EventType::SchemaChange, Some(name), "drop_table", &r, |_| 0);
        r
    }

    fn drop_table(&self, name: &str) -> Result<()> {
        // Read under the commit lock (in `ddl`): no commit adds a row
        // between listing the keys and deleting them.
        let def = self.ddl_with(|ctx| {
            let def = self.table(name)?;
            self.drop_table_writes(ctx, &def)?;
            Ok(def)
        })?;
        self.shred_dropped(&def)
    }

    /// The writes that drop table `def`: its definition, rows, index
    /// entries and row-id counter (caller holds the commit lock).
    pub(crate) fn drop_table_writes(
        &self,
        ctx: &mut crate::engine::Ctx<'_>,
        def: &TableDef,
    ) -> Result<()> {
        ctx.delete(Cf::Catalog, catalog_key(self, &def.name));
        self.delete_table_data(ctx, def)
    }

    /// Deletes a table's rows, index entries and row-id counter (caller
    /// holds the commit lock).
    fn delete_table_data(&self, ctx: &mut crate::engine::Ctx<'_>, def: &TableDef) -> Result<()> {
        let prefix = table_id_bytes(def.id);
        for k in self.store().keys_with_prefix(Cf::Rows, &prefix)? {
            ctx.delete(Cf::Rows, k);
        }
        for k in self.store().keys_with_prefix(Cf::Index, &prefix)? {
            ctx.delete(Cf::Index, k);
        }
        let mut rowid = ROWID_PREFIX.to_vec();
        rowid.extend_from_slice(&prefix);
        ctx.delete(Cf::Meta, rowid);
        Ok(())
    }

    /// Destroys the key of a table that had one of its own, once the table
    /// is gone (crypto-shredding).
    pub(crate) fn shred_dropped(&self, def: &TableDef) -> Result<()> {
        if def.own_key {
            if let Some(k) = self.store().shred_table_key(def.id)? {
                self.audit_key_event(&format!(
                    "table key {} destroyed with its table (crypto-shredding)",
                    k.0
                ));
            }
        }
        Ok(())
    }

    fn rename_table(&self, old: &str, new: &str) -> Result<()> {
        if new.is_empty() {
            return Err(Error::Schema("table name is empty".into()));
        }
        let def = self.table(old)?;
        let old_key = catalog_key(self, old);
        let new_key = catalog_key(self, new);
        let mut new_def = (*def).clone();
        new_def.name = new.to_string();
        self.ddl(|ctx| {
            if ctx.get(Cf::Catalog, &new_key)?.is_some() {
                return Err(Error::TableExists(new.to_string()));
            }
            ctx.delete(Cf::Catalog, old_key);
            ctx.put(Cf::Catalog, new_key, serde_json::to_vec(&new_def)?);
            Ok(())
        })
    }

    fn replace_table(&self, target: &str, source: &str) -> Result<()> {
        let old = self.ddl_with(|ctx| self.replace_table_in(ctx, target, source))?;
        self.shred_dropped(&old)
    }

    /// The writes of [`Catalog::replace_table`] (caller holds the commit
    /// lock); returns the replaced table's definition.
    pub(crate) fn replace_table_in(
        &self,
        ctx: &mut crate::engine::Ctx<'_>,
        target: &str,
        source: &str,
    ) -> Result<Arc<TableDef>> {
        let old = self.table(target)?;
        let src = self.table(source)?;
        let mut new_def = (*src).clone();
        new_def.name = target.to_string();
        self.delete_table_data(ctx, &old)?;
        ctx.delete(Cf::Catalog, catalog_key(self, source));
        ctx.put(
            Cf::Catalog,
            catalog_key(self, target),
            serde_json::to_vec(&new_def)?,
        );
        Ok(old)
    }

    fn create_index(&self, table: &str, column: &str) -> Result<()> {
        let def = self.table(table)?;
        let col = def
            .schema
            .column_index(column)
            .ok_or_else(|| Error::Schema(format!("table '{table}' has no column '{column}'")))?;
        if def.indexes.iter().any(|i| i.column == col) {
            return Err(Error::Schema(format!(
                "an index on {table}.{column} already exists"
            )));
        }
        let mut new_def = (*def).clone();
        let index = IndexDef {
            id: new_def.next_index_id,
            column: col,
        };
        new_def.next_index_id += 1;
        new_def.indexes.push(index.clone());
        let key = catalog_key(self, table);
        self.ddl(|ctx| {
            ctx.note_table(&def);
            for (_, bytes) in self
                .store()
                .scan_prefix(Cf::Rows, &table_id_bytes(def.id))?
                .collect::<Result<Vec<_>>>()?
            {
                let tuple = Tuple::decode(&bytes)?;
                let pk = self.pk_bytes_of(&def, &tuple, ctx)?;
                let (k, v) = self.index_entry(&def, &index, &tuple.values[col], &pk);
                ctx.put(Cf::Index, k, v);
            }
            ctx.put(Cf::Catalog, key, serde_json::to_vec(&new_def)?);
            Ok(())
        })
    }

    /// Schema changes commit at once (even inside a transaction) and refresh the cache.
    fn ddl(&self, f: impl FnOnce(&mut crate::engine::Ctx<'_>) -> Result<()>) -> Result<()> {
        self.ddl_with(f)
    }

    /// A schema change: `f`'s writes as one batch under the commit lock,
    /// and the cached catalog dropped before the lock is released (every
    /// later commit checks its writes against the new catalog).
    fn ddl_with<T>(&self, f: impl FnOnce(&mut crate::engine::Ctx<'_>) -> Result<T>) -> Result<T> {
        self.mutate_direct_then(f, || self.invalidate_tables())
    }

    // ----- rows -------------------------------------------------------------

    fn row_key(&self, def: &TableDef, pk_bytes: &[u8]) -> Vec<u8> {
        let mut key = table_id_bytes(def.id).to_vec();
        if self.store().ordered() {
            // pk_bytes are always `encode_key` output made in this module;
            // should they ever not decode, they still key deterministically.
            pk_value(pk_bytes)
                .unwrap_or_else(|_| Value::Bytes(pk_bytes.to_vec()))
                .encode_ordered(&mut key);
            return key;
        }
        let mut domain = b"row/".to_vec();
        domain.extend_from_slice(&table_id_bytes(def.id));
        key.extend_from_slice(&self.store().token(&domain, pk_bytes));
        key
    }

    fn index_prefix(&self, def: &TableDef, index: &IndexDef, value: &Value) -> Vec<u8> {
        let mut domain = b"idx/".to_vec();
        domain.extend_from_slice(&table_id_bytes(def.id));
        domain.extend_from_slice(&index.id.to_be_bytes());
        let mut key = table_id_bytes(def.id).to_vec();
        key.extend_from_slice(&index.id.to_be_bytes());
        self.store().key_part(&mut key, &domain, value);
        key
    }

    /// (key, value) of the index entry of one row: key = index prefix of the
    /// value + the row's token; value = the row's primary-key bytes (sealed).
    fn index_entry(
        &self,
        def: &TableDef,
        index: &IndexDef,
        value: &Value,
        pk: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let mut key = self.index_prefix(def, index, value);
        let row_key = self.row_key(def, pk);
        key.extend_from_slice(&row_key[4..]);
        (key, pk.to_vec())
    }

    /// Primary-key bytes of a tuple; tables without a primary key draw a hidden row id.
    fn pk_bytes_of(
        &self,
        def: &TableDef,
        tuple: &Tuple,
        ctx: &mut crate::engine::Ctx<'_>,
    ) -> Result<Vec<u8>> {
        match def.schema.primary_key_index() {
            Some(i) => Ok(tuple.values[i].encode_key()),
            None => {
                let mut k = ROWID_PREFIX.to_vec();
                k.extend_from_slice(&table_id_bytes(def.id));
                let next = match ctx.get(Cf::Meta, &k)? {
                    Some(b) => u64::from_be_bytes(
                        b.as_slice()
                            .try_into()
                            .map_err(|_| Error::Corrupt("row id counter".into()))?,
                    ),
                    None => 1,
                };
                ctx.put(Cf::Meta, k, (next + 1).to_be_bytes().to_vec());
                Ok(Value::Int8(next as i64).encode_key())
            }
        }
    }

    fn insert_rows(
        &self,
        def: &TableDef,
        tuples: Vec<Tuple>,
        ctx: &mut crate::engine::Ctx<'_>,
    ) -> Result<()> {
        ctx.note_table(def);
        for tuple in tuples {
            def.schema.check(&tuple)?;
            let pk = self.pk_bytes_of(def, &tuple, ctx)?;
            let key = self.row_key(def, &pk);
            if ctx
                .get(Cf::Rows, &key)
                .map_err(|e| self.row_error(e, def, &tuple))?
                .is_some()
            {
                let shown = def
                    .schema
                    .primary_key_index()
                    .map(|i| tuple.values[i].to_string())
                    .unwrap_or_default();
                return Err(Error::DuplicateKey {
                    table: def.name.clone(),
                    key: shown,
                });
            }
            for index in &def.indexes {
                let (k, v) = self.index_entry(def, index, &tuple.values[index.column], &pk);
                ctx.put(Cf::Index, k, v);
            }
            ctx.put(Cf::Rows, key, tuple.encode());
        }
        Ok(())
    }

    fn row_error(&self, e: Error, def: &TableDef, tuple: &Tuple) -> Error {
        let pk = def
            .schema
            .primary_key_index()
            .map(|i| tuple.values[i].to_string())
            .unwrap_or_else(|| "?".into());
        crate::engine::relocate(e, || format!("table '{}', primary key {pk}", def.name))
    }

    /// Inserts a row (sealed when encrypted).
    ///
    /// # Errors
    /// Unknown table; values that do not fit the schema; a duplicate primary key.
    pub fn insert_tuple(&self, table: &str, tuple: Tuple) -> Result<()> {
        self.insert_tuple_in(TxnKey::thread(), table, tuple)
    }

    pub(crate) fn insert_tuple_in(&self, txn: TxnKey, table: &str, tuple: Tuple) -> Result<()> {
        let r = self.insert_tuple_raw(txn, table, tuple);
        self.audit_result(EventType::Write, Some(table), "insert_tuple", &r, |_| 1);
        r
    }

    fn insert_tuple_raw(&self, txn: TxnKey, table: &str, tuple: Tuple) -> Result<()> {
        let def = self.table(table)?;
        self.mutate(txn, |ctx| self.insert_rows(&def, vec![tuple], ctx))
    }

    /// Inserts rows atomically: all or none.
    ///
    /// # Errors
    /// As [`StorageEngine::insert_tuple`]; on error nothing is inserted.
    pub fn insert_batch(&self, table: &str, tuples: Vec<Tuple>) -> Result<()> {
        self.insert_batch_in(TxnKey::thread(), table, tuples)
    }

    pub(crate) fn insert_batch_in(
        &self,
        txn: TxnKey,
        table: &str,
        tuples: Vec<Tuple>,
    ) -> Result<()> {
        let n = tuples.len() as u64;
        let r = self.insert_batch_raw(txn, table, tuples);
        self.audit_result(EventType::Write, Some(table), "insert_batch", &r, |_| n);
        r
    }

    fn insert_batch_raw(&self, txn: TxnKey, table: &str, tuples: Vec<Tuple>) -> Result<()> {
        let def = self.table(table)?;
        self.mutate(txn, |ctx| self.insert_rows(&def, tuples, ctx))
    }

    /// All rows of a table, decrypted, sorted by primary key.
    ///
    /// # Errors
    /// Unknown table; `Decryption failed: …` naming the table and record.
    pub fn scan_table(&self, table: &str) -> Result<Vec<Tuple>> {
        self.scan_table_in(TxnKey::thread(), table)
    }

    pub(crate) fn scan_table_in(&self, txn: TxnKey, table: &str) -> Result<Vec<Tuple>> {
        let r = self.scan_table_raw(txn, table);
        self.audit_result(
            EventType::Read,
            Some(table),
            "scan_table",
            &r,
            |v: &Vec<Tuple>| v.len() as u64,
        );
        r
    }

    fn scan_table_raw(&self, txn: TxnKey, table: &str) -> Result<Vec<Tuple>> {
        self.table_rows(txn, table, Bound::Unbounded, Bound::Unbounded, false)?
            .collect()
    }

    /// Rows of `table` whose primary key lies within `(lower, upper)`, in
    /// primary-key order, streamed: rows are read and decrypted as the
    /// iterator advances, from one consistent view of the database taken
    /// when it is made, so memory does not grow with the table. Inside a
    /// transaction the transaction's own writes are included and the range
    /// counts as read (a concurrent insert into it is a conflict at commit).
    /// `scan_table_range(t, Unbounded, Unbounded)` streams the whole table.
    ///
    /// ```no_run
    /// # use heliosdb_core::{StorageEngine, Value, Config};
    /// # use std::ops::Bound;
    /// # let storage = StorageEngine::open_in_memory(&Config::default()).unwrap();
    /// for row in storage.scan_table_range(
    ///     "users",
    ///     Bound::Included(Value::Int8(100)),
    ///     Bound::Excluded(Value::Int8(110)),
    /// )? {
    ///     println!("{:?}", row?.values);
    /// }
    /// # Ok::<(), heliosdb_core::Error>(())
    /// ```
    ///
    /// A format-1 database (blind record keys, no order) answers the same
    /// rows by reading the whole table.
    ///
    /// # Errors
    /// Unknown table; a table without a primary key given bounds; storage
    /// errors. Decryption errors come as items, naming table and record.
    pub fn scan_table_range(
        &self,
        table: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
    ) -> Result<RowStream<'_>> {
        self.scan_table_range_in(TxnKey::thread(), table, lower, upper)
    }

    pub(crate) fn scan_table_range_in(
        &self,
        txn: TxnKey,
        table: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
    ) -> Result<RowStream<'_>> {
        let mut stream = self.table_rows(txn, table, lower, upper, false)?;
        stream.audit = true;
        Ok(stream)
    }

    /// As [`StorageEngine::scan_table_range`], in descending primary-key
    /// order: the scan starts at the top of the range and reads backwards,
    /// so a caller that stops after `n` rows (`ORDER BY pk DESC LIMIT n`)
    /// reads `n` rows, not the range. Inside a transaction its own writes
    /// are included and the range counts as read, as for the forward scan.
    ///
    /// ```no_run
    /// # use heliosdb_core::{StorageEngine, Value, Config};
    /// # use std::ops::Bound;
    /// # let storage = StorageEngine::open_in_memory(&Config::default()).unwrap();
    /// // The ten newest orders.
    /// let newest: Vec<_> = storage
    ///     .scan_table_range_rev("orders", Bound::Unbounded, Bound::Unbounded)?
    ///     .take(10)
    ///     .collect::<Result<_, _>>()?;
    /// # Ok::<(), heliosdb_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`StorageEngine::scan_table_range`].
    pub fn scan_table_range_rev(
        &self,
        table: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
    ) -> Result<RowStream<'_>> {
        self.scan_table_range_rev_in(TxnKey::thread(), table, lower, upper)
    }

    pub(crate) fn scan_table_range_rev_in(
        &self,
        txn: TxnKey,
        table: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
    ) -> Result<RowStream<'_>> {
        let mut stream = self.table_rows(txn, table, lower, upper, true)?;
        stream.audit = true;
        Ok(stream)
    }

    /// The row stream behind `scan_table` and `scan_table_range` (not
    /// audited); descending when `reverse`.
    fn table_rows(
        &self,
        txn: TxnKey,
        table: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
        reverse: bool,
    ) -> Result<RowStream<'_>> {
        let def = self.table(table)?;
        let bounded = !matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded));
        let pki = def.schema.primary_key_index();
        if bounded && pki.is_none() {
            return Err(Error::Schema(format!(
                "table '{table}' has no primary key to range over"
            )));
        }
        // The bounds as format-2 row keys, `[lo, hi)`. Encodings are
        // prefix-free: no row key extends another, so `key ‖ 0x00` is the
        // first key after `key`.
        let prefix = table_id_bytes(def.id);
        let key_of = |v: &Value| {
            let mut k = prefix.to_vec();
            v.encode_ordered(&mut k);
            k
        };
        let after = |v: &Value| {
            let mut k = key_of(v);
            k.push(0);
            k
        };
        let lo = match &lower {
            Bound::Included(v) => key_of(v),
            Bound::Excluded(v) => after(v),
            Bound::Unbounded => prefix.to_vec(),
        };
        let hi = match &upper {
            Bound::Included(v) => Some(after(v)),
            Bound::Excluded(v) => Some(key_of(v)),
            Bound::Unbounded => crate::engine::prefix_successor(&prefix),
        };
        let inner: Box<dyn Iterator<Item = Result<Tuple>> + '_> = if self.store().ordered() {
            let name = def.name.clone();
            let records = if reverse {
                self.scan_iter_rev(txn, Cf::Rows, &lo, hi.as_deref())?
            } else {
                self.scan_iter(txn, Cf::Rows, &lo, hi.as_deref())?
            };
            Box::new(records.map(move |item| {
                let (_, bytes) = item.map_err(|e| crate::engine::relocate_row(e, &name))?;
                Tuple::decode(&bytes)
            }))
        } else {
            // Blind keys have no order: read the table, keep the rows whose
            // format-2 key would fall in `[lo, hi)`, and sort by that key,
            // so both layouts answer in the same order.
            let rows = self
                .scan_merged(txn, Cf::Rows, &prefix)
                .map_err(|e| crate::engine::relocate_row(e, &def.name))?;
            let mut out = Vec::with_capacity(rows.len());
            for (_, bytes) in rows {
                let t = Tuple::decode(&bytes)?;
                let k = pki.map(|i| key_of(&t.values[i])).unwrap_or_default();
                if pki.is_none() || (k >= lo && hi.as_ref().is_none_or(|h| k < *h)) {
                    out.push((k, t));
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            if reverse {
                out.reverse();
            }
            Box::new(out.into_iter().map(|(_, t)| Ok(t)))
        };
        Ok(RowStream {
            engine: self,
            table: def.name.clone(),
            inner,
            rows: 0,
            failed: false,
            audit: false,
        })
    }

    /// The row with this primary key.
    ///
    /// # Errors
    /// Unknown table; a table without a primary key; decryption errors.
    pub fn get_by_pk(&self, table: &str, pk: &Value) -> Result<Option<Tuple>> {
        self.get_by_pk_in(TxnKey::thread(), table, pk)
    }

    pub(crate) fn get_by_pk_in(
        &self,
        txn: TxnKey,
        table: &str,
        pk: &Value,
    ) -> Result<Option<Tuple>> {
        let r = self.get_by_pk_raw(txn, table, pk, false);
        self.audit_result(
            EventType::Read,
            Some(table),
            "get_by_pk",
            &r,
            |v: &Option<Tuple>| u64::from(v.is_some()),
        );
        r
    }

    /// [`StorageEngine::get_by_pk`] for an update, in the calling thread's
    /// transaction: the row's lock is taken first (waiting while another
    /// open transaction holds it, until this one ends) and the newest
    /// committed version is read. Concurrent read-modify-writes of one row
    /// then queue instead of failing at commit (`SELECT … FOR UPDATE`).
    /// Outside a transaction it is [`StorageEngine::get_by_pk`].
    ///
    /// # Errors
    /// As [`StorageEngine::get_by_pk`]; [`Error::Conflict`] on a deadlock
    /// or a lock wait of more than 30 s.
    pub fn get_by_pk_for_update(&self, table: &str, pk: &Value) -> Result<Option<Tuple>> {
        self.get_by_pk_for_update_in(TxnKey::thread(), table, pk)
    }

    pub(crate) fn get_by_pk_for_update_in(
        &self,
        txn: TxnKey,
        table: &str,
        pk: &Value,
    ) -> Result<Option<Tuple>> {
        let r = self.get_by_pk_raw(txn, table, pk, true);
        self.audit_result(
            EventType::Read,
            Some(table),
            "get_by_pk_for_update",
            &r,
            |v: &Option<Tuple>| u64::from(v.is_some()),
        );
        r
    }

    fn get_by_pk_raw(
        &self,
        txn: TxnKey,
        table: &str,
        pk: &Value,
        for_update: bool,
    ) -> Result<Option<Tuple>> {
        let def = self.table(table)?;
        if def.schema.primary_key_index().is_none() {
            return Err(Error::Schema(format!("table '{table}' has no primary key")));
        }
        let key = self.row_key(&def, &pk.encode_key());
        let loc = || format!("table '{table}', primary key {pk}");
        let read = if for_update {
            self.read_for_update(txn, Cf::Rows, &key)
        } else {
            self.read(txn, Cf::Rows, &key)
        };
        match read.map_err(|e| crate::engine::relocate(e, loc))? {
            Some(bytes) => Ok(Some(Tuple::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Replaces the row with the same primary key; returns whether it existed.
    /// Index entries follow.
    ///
    /// # Errors
    /// Unknown table; no primary key; schema errors.
    pub fn update_tuple(&self, table: &str, tuple: Tuple) -> Result<bool> {
        self.update_tuple_in(TxnKey::thread(), table, tuple)
    }

    pub(crate) fn update_tuple_in(&self, txn: TxnKey, table: &str, tuple: Tuple) -> Result<bool> {
        let r = self.update_tuple_raw(txn, table, tuple);
        self.audit_result(
            EventType::Write,
            Some(table),
            "update_tuple",
            &r,
            |v: &bool| u64::from(*v),
        );
        r
    }

    fn update_tuple_raw(&self, txn: TxnKey, table: &str, tuple: Tuple) -> Result<bool> {
        let def = self.table(table)?;
        def.schema.check(&tuple)?;
        let pki = def
            .schema
            .primary_key_index()
            .ok_or_else(|| Error::Schema(format!("table '{table}' has no primary key")))?;
        let pk = tuple.values[pki].encode_key();
        let key = self.row_key(&def, &pk);
        self.mutate(txn, |ctx| {
            ctx.note_table(&def);
            let Some(old) = ctx
                .get(Cf::Rows, &key)
                .map_err(|e| self.row_error(e, &def, &tuple))?
            else {
                return Ok(false);
            };
            let old = Tuple::decode(&old)?;
            for index in &def.indexes {
                let (ov, nv) = (&old.values[index.column], &tuple.values[index.column]);
                if ov != nv {
                    ctx.delete(Cf::Index, self.index_entry(&def, index, ov, &pk).0);
                    let (k, v) = self.index_entry(&def, index, nv, &pk);
                    ctx.put(Cf::Index, k, v);
                }
            }
            if self.secure_delete() {
                // Marks the old version for secure_delete's compaction; in
                // one batch the put that follows still wins.
                ctx.delete(Cf::Rows, key.clone());
            }
            ctx.put(Cf::Rows, key, tuple.encode());
            Ok(true)
        })
    }

    /// Deletes the row with this primary key; returns whether it existed.
    ///
    /// # Errors
    /// Unknown table; no primary key; storage errors.
    pub fn delete_by_pk(&self, table: &str, pk: &Value) -> Result<bool> {
        self.delete_by_pk_in(TxnKey::thread(), table, pk)
    }

    pub(crate) fn delete_by_pk_in(&self, txn: TxnKey, table: &str, pk: &Value) -> Result<bool> {
        let r = self.delete_by_pk_raw(txn, table, pk);
        self.audit_result(
            EventType::Delete,
            Some(table),
            "delete_by_pk",
            &r,
            |v: &bool| u64::from(*v),
        );
        r
    }

    fn delete_by_pk_raw(&self, txn: TxnKey, table: &str, pk: &Value) -> Result<bool> {
        let def = self.table(table)?;
        if def.schema.primary_key_index().is_none() {
            return Err(Error::Schema(format!("table '{table}' has no primary key")));
        }
        let pkb = pk.encode_key();
        let key = self.row_key(&def, &pkb);
        self.mutate(txn, |ctx| {
            ctx.note_table(&def);
            let loc = || format!("table '{table}', primary key {pk}");
            let Some(old) = ctx
                .get(Cf::Rows, &key)
                .map_err(|e| crate::engine::relocate(e, loc))?
            else {
                return Ok(false);
            };
            let old = Tuple::decode(&old)?;
            for index in &def.indexes {
                ctx.delete(
                    Cf::Index,
                    self.index_entry(&def, index, &old.values[index.column], &pkb)
                        .0,
                );
            }
            ctx.delete(Cf::Rows, key);
            Ok(true)
        })
    }

    /// Rows whose `column` equals `value`, through a secondary index when one
    /// exists (or the primary key), else by scanning the table.
    ///
    /// # Errors
    /// Unknown table or column; decryption errors.
    pub fn find_by(&self, table: &str, column: &str, value: &Value) -> Result<Vec<Tuple>> {
        self.find_by_in(TxnKey::thread(), table, column, value)
    }

    pub(crate) fn find_by_in(
        &self,
        txn: TxnKey,
        table: &str,
        column: &str,
        value: &Value,
    ) -> Result<Vec<Tuple>> {
        let r = self.find_by_raw(txn, table, column, value);
        self.audit_result(
            EventType::Read,
            Some(table),
            "find_by",
            &r,
            |v: &Vec<Tuple>| v.len() as u64,
        );
        r
    }

    fn find_by_raw(
        &self,
        txn: TxnKey,
        table: &str,
        column: &str,
        value: &Value,
    ) -> Result<Vec<Tuple>> {
        let def = self.table(table)?;
        let col = def
            .schema
            .column_index(column)
            .ok_or_else(|| Error::Schema(format!("table '{table}' has no column '{column}'")))?;
        if def.schema.primary_key_index() == Some(col) {
            return Ok(self
                .get_by_pk_raw(txn, table, value, false)?
                .into_iter()
                .collect());
        }
        let Some(index) = def.indexes.iter().find(|i| i.column == col) else {
            return Ok(self
                .scan_table_raw(txn, table)?
                .into_iter()
                .filter(|t| &t.values[col] == value)
                .collect());
        };
        let prefix = self.index_prefix(&def, index, value);
        let entries = self
            .scan_merged(txn, Cf::Index, &prefix)
            .map_err(|e| crate::engine::relocate(e, || format!("index on {table}.{column}")))?;
        let mut out = Vec::with_capacity(entries.len());
        for (_, pk) in entries {
            let key = self.row_key(&def, &pk);
            let loc = || {
                format!(
                    "table '{table}', primary key {}",
                    decode_value(&pk).map(|v| v.to_string()).unwrap_or_default()
                )
            };
            if let Some(bytes) = self
                .read(txn, Cf::Rows, &key)
                .map_err(|e| crate::engine::relocate(e, loc))?
            {
                let t = Tuple::decode(&bytes)?;
                // Guard against a (2^-128) token collision: check the value itself.
                if &t.values[col] == value {
                    out.push(t);
                }
            }
        }
        if let Some(i) = def.schema.primary_key_index() {
            out.sort_by(|a, b| a.values[i].sort_cmp(&b.values[i]));
        }
        Ok(out)
    }

    /// Rows whose `column` lies within `(lower, upper)`, in the order of
    /// that column (rows with equal values in primary-key order), streamed.
    /// With a secondary index on the column (format 2: index entries keyed
    /// `index ‖ value ‖ primary key`, in order) only the index entries in
    /// the range are read, each followed by a point read of its row; on the
    /// primary key it is [`StorageEngine::scan_table_range`]. Without an
    /// index, or in a format-1 database (blind index keys), the table is
    /// read and filtered. NULLs are in no range (as SQL comparisons), and
    /// bounds should be of the column's type (integers of any width mix).
    /// Inside a transaction its own writes are included and the index range
    /// counts as read: a concurrent insert into it is a conflict at commit.
    ///
    /// ```no_run
    /// # use heliosdb_core::{StorageEngine, Value, Config};
    /// # use std::ops::Bound;
    /// # let storage = StorageEngine::open_in_memory(&Config::default()).unwrap();
    /// // Users aged 30 to 39, youngest first (with an index on "age").
    /// for row in storage.scan_index_range(
    ///     "users",
    ///     "age",
    ///     Bound::Included(Value::Int4(30)),
    ///     Bound::Excluded(Value::Int4(40)),
    /// )? {
    ///     println!("{:?}", row?.values);
    /// }
    /// # Ok::<(), heliosdb_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// Unknown table or column; storage errors. Decryption errors come as
    /// items.
    pub fn scan_index_range(
        &self,
        table: &str,
        column: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
    ) -> Result<RowStream<'_>> {
        self.scan_index_range_in(TxnKey::thread(), table, column, lower, upper, false)
    }

    /// As [`StorageEngine::scan_index_range`], in descending order of the
    /// column (read backwards from the top of the range).
    ///
    /// # Errors
    /// As [`StorageEngine::scan_index_range`].
    pub fn scan_index_range_rev(
        &self,
        table: &str,
        column: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
    ) -> Result<RowStream<'_>> {
        self.scan_index_range_in(TxnKey::thread(), table, column, lower, upper, true)
    }

    pub(crate) fn scan_index_range_in(
        &self,
        txn: TxnKey,
        table: &str,
        column: &str,
        lower: Bound<Value>,
        upper: Bound<Value>,
        reverse: bool,
    ) -> Result<RowStream<'_>> {
        let def = self.table(table)?;
        let col = def
            .schema
            .column_index(column)
            .ok_or_else(|| Error::Schema(format!("table '{table}' has no column '{column}'")))?;
        if def.schema.primary_key_index() == Some(col) {
            return if reverse {
                self.scan_table_range_rev_in(txn, table, lower, upper)
            } else {
                self.scan_table_range_in(txn, table, lower, upper)
            };
        }
        let index = def.indexes.iter().find(|i| i.column == col).cloned();
        let inner: Box<dyn Iterator<Item = Result<Tuple>> + '_> = match index {
            Some(index) if self.store().ordered() => {
                self.index_rows(txn, Arc::clone(&def), &index, lower, upper, reverse)?
            }
            _ => {
                // No order to follow: read the table, keep the range, sort
                // by (value, primary key) as the index would.
                let mut rows: Vec<Tuple> = self
                    .table_rows(txn, table, Bound::Unbounded, Bound::Unbounded, false)?
                    .filter(|t| {
                        t.as_ref()
                            .map_or(true, |t| within(&t.values[col], &lower, &upper))
                    })
                    .collect::<Result<_>>()?;
                rows.sort_by(|a, b| a.values[col].sort_cmp(&b.values[col]));
                if reverse {
                    rows.reverse();
                }
                Box::new(rows.into_iter().map(Ok))
            }
        };
        Ok(RowStream {
            engine: self,
            table: def.name.clone(),
            inner,
            rows: 0,
            failed: false,
            audit: true,
        })
    }

    /// Rows through the index entries with value in `(lower, upper)`, in
    /// index order (descending when `reverse`); ordered layout only.
    fn index_rows(
        &self,
        txn: TxnKey,
        def: Arc<TableDef>,
        index: &IndexDef,
        lower: Bound<Value>,
        upper: Bound<Value>,
        reverse: bool,
    ) -> Result<Box<dyn Iterator<Item = Result<Tuple>> + '_>> {
        // Entries are `table ‖ index ‖ value ‖ primary key`, all encodings
        // prefix-free: the entries of one value are exactly those under its
        // prefix, and the first key after all of them is the prefix's
        // successor.
        let mut base = table_id_bytes(def.id).to_vec();
        base.extend_from_slice(&index.id.to_be_bytes());
        let of = |v: &Value| {
            let mut k = base.clone();
            v.encode_ordered(&mut k);
            k
        };
        let after = |v: &Value| crate::engine::prefix_successor(&of(v));
        let lo = match &lower {
            Bound::Included(v) => Some(of(v)),
            Bound::Excluded(v) => after(v),
            // NULL sorts first; no comparison accepts it.
            Bound::Unbounded => after(&Value::Null),
        };
        let hi = match &upper {
            Bound::Included(v) => after(v),
            Bound::Excluded(v) => Some(of(v)),
            Bound::Unbounded => crate::engine::prefix_successor(&base),
        };
        let Some(lo) = lo else {
            return Ok(Box::new(std::iter::empty()));
        };
        let entries = if reverse {
            self.scan_iter_rev(txn, Cf::Index, &lo, hi.as_deref())?
        } else {
            self.scan_iter(txn, Cf::Index, &lo, hi.as_deref())?
        };
        let col = index.column;
        let column = def.schema.columns[col].name.clone();
        Ok(Box::new(entries.filter_map(move |item| {
            let fetch = || -> Result<Option<Tuple>> {
                let (_, pk) = item.map_err(|e| {
                    crate::engine::relocate(e, || format!("index on {}.{column}", def.name))
                })?;
                let key = self.row_key(&def, &pk);
                let loc = || {
                    format!(
                        "table '{}', primary key {}",
                        def.name,
                        decode_value(&pk).map(|v| v.to_string()).unwrap_or_default()
                    )
                };
                let row = self
                    .read(txn, Cf::Rows, &key)
                    .map_err(|e| crate::engine::relocate(e, loc))?;
                // The entries come from the view taken when the scan
                // began, the row from now: a row deleted or moved out of
                // the range since is skipped (a transaction's commit then
                // fails validation, as it read both).
                let Some(bytes) = row else { return Ok(None) };
                let t = Tuple::decode(&bytes)?;
                Ok(within(&t.values[col], &lower, &upper).then_some(t))
            };
            fetch().transpose()
        })))
    }
}

/// Whether `v` lies within `(lower, upper)` in the order of the ordered
/// key encoding (the index's order, [`Value::sort_cmp`] within one type,
/// integers of every width alike); NULL lies in no range.
fn within(v: &Value, lower: &Bound<Value>, upper: &Bound<Value>) -> bool {
    let enc = |v: &Value| {
        let mut k = Vec::new();
        v.encode_ordered(&mut k);
        k
    };
    let x = enc(v);
    !matches!(v, Value::Null)
        && match lower {
            Bound::Included(l) => x >= enc(l),
            Bound::Excluded(l) => x > enc(l),
            Bound::Unbounded => true,
        }
        && match upper {
            Bound::Included(u) => x <= enc(u),
            Bound::Excluded(u) => x < enc(u),
            Bound::Unbounded => true,
        }
}

/// Rows of a table in primary-key order (or in the order of an index, from
/// [`StorageEngine::scan_index_range`]), read as the iterator advances (see
/// [`StorageEngine::scan_table_range`]). The audit log records the scan, with
/// the number of rows read, when the stream is dropped.
pub struct RowStream<'a> {
    engine: &'a StorageEngine,
    table: String,
    inner: Box<dyn Iterator<Item = Result<Tuple>> + 'a>,
    rows: u64,
    failed: bool,
    audit: bool,
}

impl Iterator for RowStream<'_> {
    type Item = Result<Tuple>;

    fn next(&mut self) -> Option<Result<Tuple>> {
        match self.inner.next()? {
            Ok(t) => {
                self.rows += 1;
                Some(Ok(t))
            }
            Err(e) => {
                self.failed = true;
                if !self.audit {
                    return Some(Err(e));
                }
                // A record that fails to open is a key event in the log.
                let r: Result<u64> = Err(e);
                self.engine.audit_result(
                    EventType::Read,
                    Some(&self.table),
                    "scan_table_range",
                    &r,
                    |n: &u64| *n,
                );
                r.err().map(Err)
            }
        }
    }
}

impl std::fmt::Debug for RowStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("table", &self.table)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Drop for RowStream<'_> {
    fn drop(&mut self) {
        if self.audit && !self.failed {
            let r: Result<u64> = Ok(self.rows);
            self.engine.audit_result(
                EventType::Read,
                Some(&self.table),
                "scan_table_range",
                &r,
                |n: &u64| *n,
            );
        }
    }
}

//! `Transaction`: an explicit transaction handle. It belongs to no thread —
//! it is `Send`, so async code can hold it across `.await` points and move
//! it between worker threads — and it offers the engine's key-value and
//! table calls, seeing its own uncommitted writes. `commit` validates
//! everything the transaction read against later commits (serializable, see
//! [`StorageEngine::commit`]); dropping an unfinished handle rolls it back.
//!
//! The tutorial's `begin_transaction()` / `commit()` on the engine are the
//! same machinery keyed by the calling thread.

use std::sync::Arc;

use crate::engine::{StorageEngine, TxnKey};
use crate::types::{Tuple, Value};
use crate::Result;

/// The engine a handle runs on: borrowed, or shared for handles that must
/// outlive a borrow (`'static`, e.g. held by an async session).
#[derive(Debug)]
enum EngineRef<'e> {
    Borrowed(&'e StorageEngine),
    Shared(Arc<StorageEngine>),
}

impl std::ops::Deref for EngineRef<'_> {
    type Target = StorageEngine;

    fn deref(&self) -> &StorageEngine {
        match self {
            EngineRef::Borrowed(e) => e,
            EngineRef::Shared(e) => e,
        }
    }
}

/// An open transaction. Reads see the database as committed plus this
/// transaction's own writes; nobody else sees its writes before
/// [`Transaction::commit`]. Schema changes (through [`StorageEngine::catalog`])
/// are not part of it: they commit at once.
#[derive(Debug)]
#[must_use = "a transaction that is dropped without commit() is rolled back"]
pub struct Transaction<'e> {
    engine: EngineRef<'e>,
    key: TxnKey,
    /// Commit or rollback ran: `Drop` has nothing to undo.
    ended: bool,
}

impl StorageEngine {
    /// Begins a transaction handle on this engine.
    ///
    /// ```no_run
    /// # fn main() -> heliosdb_core::Result<()> {
    /// # let storage = heliosdb_core::StorageEngine::open_in_memory(&heliosdb_core::Config::in_memory())?;
    /// let tx = storage.begin()?;
    /// tx.put(b"greeting", b"hello")?;
    /// assert_eq!(tx.get(b"greeting")?.as_deref(), Some(&b"hello"[..]));
    /// tx.commit()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// None today; reserved for resource limits.
    pub fn begin(&self) -> Result<Transaction<'_>> {
        let key = self.new_handle_key();
        self.begin_as(key)?;
        Ok(Transaction {
            engine: EngineRef::Borrowed(self),
            key,
            ended: false,
        })
    }

    /// As [`StorageEngine::begin`], for an engine behind an `Arc`: the
    /// handle keeps the engine alive and is `'static`, so it can live in a
    /// connection's state or an async task.
    ///
    /// # Errors
    /// As [`StorageEngine::begin`].
    pub fn begin_shared(self: &Arc<Self>) -> Result<Transaction<'static>> {
        let key = self.new_handle_key();
        self.begin_as(key)?;
        Ok(Transaction {
            engine: EngineRef::Shared(Arc::clone(self)),
            key,
            ended: false,
        })
    }
}

impl Transaction<'_> {
    /// The engine this transaction runs on.
    pub fn engine(&self) -> &StorageEngine {
        &self.engine
    }

    /// Commits atomically if the transaction can be serialized; otherwise
    /// nothing is written and [`crate::Error::Conflict`] says so (run the
    /// whole transaction again). Returns once the commit is durable when
    /// `[storage] sync_commit` is on.
    ///
    /// # Errors
    /// [`crate::Error::Conflict`]; storage errors.
    pub fn commit(mut self) -> Result<()> {
        self.ended = true;
        self.engine.commit_as(self.key)
    }

    /// Commits like [`Transaction::commit`] and, in the same atomic batch,
    /// puts table `source` in place of `target` (as
    /// [`crate::Catalog::replace_table`]: `target`'s rows go, `source` takes
    /// its name). This is how a table is rebuilt online: copy `target`'s rows
    /// through this transaction into `source`, then commit with the swap. A
    /// row committed to `target` by anyone after the copy began makes this
    /// fail with [`crate::Error::Conflict`] (the copy missed it; nothing
    /// changes), and a transaction that wrote to the old `target` fails at
    /// its own commit after the swap: no committed row is lost.
    ///
    /// # Errors
    /// [`crate::Error::Conflict`]; unknown tables; storage errors.
    pub fn commit_replacing_table(mut self, target: &str, source: &str) -> Result<()> {
        self.ended = true;
        self.engine.commit_replacing_as(self.key, target, source)
    }

    /// Drops every write of the transaction.
    ///
    /// # Errors
    /// None in practice (the transaction is open by construction).
    pub fn rollback(mut self) -> Result<()> {
        self.ended = true;
        self.engine.rollback_as(self.key)
    }

    /// [`StorageEngine::put`] inside this transaction.
    ///
    /// # Errors
    /// Storage errors.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.engine.put_in(self.key, key, value)
    }

    /// [`StorageEngine::get`] inside this transaction.
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.engine.get_in(self.key, key)
    }

    /// [`StorageEngine::delete`] inside this transaction.
    ///
    /// # Errors
    /// Storage errors.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.engine.delete_in(self.key, key)
    }

    /// [`StorageEngine::scan_prefix`] inside this transaction.
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.engine.scan_prefix_in(self.key, prefix)
    }

    /// [`StorageEngine::scan_range`] inside this transaction.
    ///
    /// # Errors
    /// Decryption and storage errors.
    pub fn scan_range(&self, start: &[u8], end: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.engine.scan_range_in(self.key, start, end)
    }

    /// Key-value pairs with `start <= key < end`, streamed (see
    /// [`StorageEngine::scan_range_iter`]); this transaction's writes included.
    ///
    /// # Errors
    /// Storage errors; decryption errors come as items.
    pub fn scan_range_iter(&self, start: &[u8], end: Option<&[u8]>) -> Result<crate::KvIter<'_>> {
        self.engine.kv_iter(self.key, start, end)
    }

    /// Rows with primary key in `(lower, upper)`, in key order, streamed
    /// (see [`StorageEngine::scan_table_range`]); this transaction's writes
    /// included, and the range validated at commit (phantoms conflict).
    ///
    /// # Errors
    /// As [`StorageEngine::scan_table_range`].
    pub fn scan_table_range(
        &self,
        table: &str,
        lower: std::ops::Bound<crate::Value>,
        upper: std::ops::Bound<crate::Value>,
    ) -> Result<crate::RowStream<'_>> {
        self.engine
            .scan_table_range_in(self.key, table, lower, upper)
    }

    /// As [`Transaction::scan_table_range`], in descending key order (see
    /// [`StorageEngine::scan_table_range_rev`]).
    ///
    /// # Errors
    /// As [`StorageEngine::scan_table_range`].
    pub fn scan_table_range_rev(
        &self,
        table: &str,
        lower: std::ops::Bound<crate::Value>,
        upper: std::ops::Bound<crate::Value>,
    ) -> Result<crate::RowStream<'_>> {
        self.engine
            .scan_table_range_rev_in(self.key, table, lower, upper)
    }

    /// Rows with `column` in `(lower, upper)`, through its index, in the
    /// column's order (see [`StorageEngine::scan_index_range`]); this
    /// transaction's writes included, and the index range validated at
    /// commit (phantoms conflict).
    ///
    /// # Errors
    /// As [`StorageEngine::scan_index_range`].
    pub fn scan_index_range(
        &self,
        table: &str,
        column: &str,
        lower: std::ops::Bound<crate::Value>,
        upper: std::ops::Bound<crate::Value>,
    ) -> Result<crate::RowStream<'_>> {
        self.engine
            .scan_index_range_in(self.key, table, column, lower, upper, false)
    }

    /// As [`Transaction::scan_index_range`], in descending order.
    ///
    /// # Errors
    /// As [`StorageEngine::scan_index_range`].
    pub fn scan_index_range_rev(
        &self,
        table: &str,
        column: &str,
        lower: std::ops::Bound<crate::Value>,
        upper: std::ops::Bound<crate::Value>,
    ) -> Result<crate::RowStream<'_>> {
        self.engine
            .scan_index_range_in(self.key, table, column, lower, upper, true)
    }

    /// [`StorageEngine::insert_tuple`] inside this transaction.
    ///
    /// # Errors
    /// As [`StorageEngine::insert_tuple`].
    pub fn insert_tuple(&self, table: &str, tuple: Tuple) -> Result<()> {
        self.engine.insert_tuple_in(self.key, table, tuple)
    }

    /// [`StorageEngine::insert_batch`] inside this transaction.
    ///
    /// # Errors
    /// As [`StorageEngine::insert_batch`].
    pub fn insert_batch(&self, table: &str, tuples: Vec<Tuple>) -> Result<()> {
        self.engine.insert_batch_in(self.key, table, tuples)
    }

    /// [`StorageEngine::scan_table`] inside this transaction.
    ///
    /// # Errors
    /// As [`StorageEngine::scan_table`].
    pub fn scan_table(&self, table: &str) -> Result<Vec<Tuple>> {
        self.engine.scan_table_in(self.key, table)
    }

    /// [`StorageEngine::get_by_pk`] inside this transaction.
    ///
    /// # Errors
    /// As [`StorageEngine::get_by_pk`].
    pub fn get_by_pk(&self, table: &str, pk: &Value) -> Result<Option<Tuple>> {
        self.engine.get_by_pk_in(self.key, table, pk)
    }

    /// [`StorageEngine::get_by_pk_for_update`] inside this transaction:
    /// the row stays locked until the transaction ends.
    ///
    /// # Errors
    /// As [`StorageEngine::get_by_pk_for_update`].
    pub fn get_by_pk_for_update(&self, table: &str, pk: &Value) -> Result<Option<Tuple>> {
        self.engine.get_by_pk_for_update_in(self.key, table, pk)
    }

    /// [`StorageEngine::update_tuple`] inside this transaction.
    ///
    /// # Errors
    /// As [`StorageEngine::update_tuple`].
    pub fn update_tuple(&self, table: &str, tuple: Tuple) -> Result<bool> {
        self.engine.update_tuple_in(self.key, table, tuple)
    }

    /// [`StorageEngine::delete_by_pk`] inside this transaction.
    ///
    /// # Errors
    /// As [`StorageEngine::delete_by_pk`].
    pub fn delete_by_pk(&self, table: &str, pk: &Value) -> Result<bool> {
        self.engine.delete_by_pk_in(self.key, table, pk)
    }

    /// [`StorageEngine::find_by`] inside this transaction.
    ///
    /// # Errors
    /// As [`StorageEngine::find_by`].
    pub fn find_by(&self, table: &str, column: &str, value: &Value) -> Result<Vec<Tuple>> {
        self.engine.find_by_in(self.key, table, column, value)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.ended {
            // Rolling back an open transaction only drops its pending state.
            let _ = self.engine.rollback_as(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn handles_are_send_and_isolated() {
        let storage = Arc::new(StorageEngine::open_in_memory(&Config::in_memory()).unwrap());
        let tx = storage.begin_shared().unwrap();
        assert_send(&tx);
        tx.put(b"a", b"1").unwrap();
        // Driven from another thread; still invisible outside.
        let tx = std::thread::spawn(move || {
            tx.put(b"b", b"2").unwrap();
            tx
        })
        .join()
        .unwrap();
        assert_eq!(storage.get(b"a").unwrap(), None);
        assert!(
            !storage.in_transaction(),
            "a handle is not the thread's transaction"
        );
        assert_eq!(tx.scan_prefix(b"").unwrap().len(), 2);
        tx.commit().unwrap();
        assert_eq!(storage.get(b"b").unwrap().as_deref(), Some(&b"2"[..]));
    }

    #[test]
    fn dropping_an_open_handle_rolls_back() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        {
            let tx = storage.begin().unwrap();
            tx.put(b"k", b"v").unwrap();
        }
        assert_eq!(storage.get(b"k").unwrap(), None);
        // Two handles on one thread are two transactions: t2 does not see
        // t1's write, and having read "x is absent" it cannot commit after
        // t1 wrote x (serializable).
        let t1 = storage.begin().unwrap();
        let t2 = storage.begin().unwrap();
        let t3 = storage.begin().unwrap();
        t1.put(b"x", b"1").unwrap();
        assert_eq!(t2.get(b"x").unwrap(), None);
        t2.put(b"y", b"2").unwrap();
        t3.put(b"z", b"3").unwrap();
        t1.commit().unwrap();
        assert!(matches!(t2.commit(), Err(crate::Error::Conflict(_))));
        // t3 read nothing, so it commits.
        t3.commit().unwrap();
        let keys: Vec<_> = storage
            .scan_prefix(b"")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, vec![b"x".to_vec(), b"z".to_vec()]);
    }

    #[test]
    fn conflicting_handles_fail_with_conflict() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        storage.put(b"n", b"0").unwrap();
        let t1 = storage.begin().unwrap();
        let t2 = storage.begin().unwrap();
        let a = t1.get(b"n").unwrap().unwrap();
        let b = t2.get(b"n").unwrap().unwrap();
        t1.put(b"n", &[a[0] + 1]).unwrap();
        t2.put(b"n", &[b[0] + 1]).unwrap();
        t1.commit().unwrap();
        let err = t2.commit().unwrap_err();
        assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
        assert_eq!(storage.get(b"n").unwrap(), Some(vec![b'1']));
    }

    fn table_with_rows(storage: &StorageEngine, name: &str, ids: std::ops::Range<i64>) {
        use crate::types::{Column, DataType, Schema};
        storage
            .catalog()
            .create_table(
                name,
                Schema::new(vec![
                    Column::new("id", DataType::Int8).primary_key(),
                    Column::new("v", DataType::Int8),
                ]),
            )
            .unwrap();
        for id in ids {
            storage
                .insert_tuple(name, Tuple::new(vec![Value::Int8(id), Value::Int8(id)]))
                .unwrap();
        }
    }

    fn ids(storage: &StorageEngine, table: &str) -> Vec<i64> {
        storage
            .scan_table(table)
            .unwrap()
            .into_iter()
            .map(|t| match t.values[0] {
                Value::Int8(i) => i,
                ref v => panic!("unexpected key {v:?}"),
            })
            .collect()
    }

    /// Copies `t` into `scratch` through `tx` (what ALTER TABLE does).
    fn copy_into(storage: &StorageEngine, tx: &Transaction<'_>, scratch: &str) {
        let rows: Vec<Tuple> = tx
            .scan_table_range("t", std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        table_with_rows(storage, scratch, 0..0);
        storage.insert_batch(scratch, rows).unwrap();
    }

    #[test]
    fn a_rebuild_that_missed_a_commit_fails_and_changes_nothing() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        table_with_rows(&storage, "t", 0..10);
        let writer = storage.begin().unwrap();
        writer
            .insert_tuple("t", Tuple::new(vec![Value::Int8(100), Value::Int8(0)]))
            .unwrap();
        let rebuild = storage.begin().unwrap();
        copy_into(&storage, &rebuild, "scratch");
        // The writer commits after the copy read the table: the copy lacks row 100.
        writer.commit().unwrap();
        let err = rebuild.commit_replacing_table("t", "scratch").unwrap_err();
        assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
        let mut want: Vec<i64> = (0..10).collect();
        want.push(100);
        assert_eq!(ids(&storage, "t"), want, "t is untouched");
        assert_eq!(
            ids(&storage, "scratch").len(),
            10,
            "the swap did not happen"
        );
        // Run again, it copies every committed row.
        storage.catalog().drop_table("scratch").unwrap();
        let rebuild = storage.begin().unwrap();
        copy_into(&storage, &rebuild, "scratch");
        rebuild.commit_replacing_table("t", "scratch").unwrap();
        assert_eq!(ids(&storage, "t"), want);
        assert!(!storage.catalog().table_exists("scratch").unwrap());
    }

    #[test]
    fn a_write_to_a_table_rebuilt_meanwhile_fails_at_commit() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        table_with_rows(&storage, "t", 0..5);
        let rebuild = storage.begin().unwrap();
        copy_into(&storage, &rebuild, "scratch");
        // The writer looks `t` up before the swap and commits after it.
        let writer = storage.begin().unwrap();
        writer
            .insert_tuple("t", Tuple::new(vec![Value::Int8(7), Value::Int8(0)]))
            .unwrap();
        rebuild.commit_replacing_table("t", "scratch").unwrap();
        let err = writer.commit().unwrap_err();
        assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
        assert!(err.to_string().contains("dropped or rebuilt"), "{err}");
        assert_eq!(ids(&storage, "t"), (0..5).collect::<Vec<_>>());
        // Written again, it lands in the new table.
        let writer = storage.begin().unwrap();
        writer
            .insert_tuple("t", Tuple::new(vec![Value::Int8(7), Value::Int8(0)]))
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(ids(&storage, "t"), vec![0, 1, 2, 3, 4, 7]);
    }

    #[test]
    fn a_write_to_a_table_dropped_meanwhile_fails_at_commit() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        table_with_rows(&storage, "t", 0..3);
        let writer = storage.begin().unwrap();
        writer
            .insert_tuple("t", Tuple::new(vec![Value::Int8(9), Value::Int8(0)]))
            .unwrap();
        storage.catalog().drop_table("t").unwrap();
        table_with_rows(&storage, "t", 0..0);
        let err = writer.commit().unwrap_err();
        assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
        assert!(
            ids(&storage, "t").is_empty(),
            "nothing of the writer's lands"
        );
    }

    #[test]
    fn a_write_that_missed_a_new_index_fails_at_commit() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        table_with_rows(&storage, "t", 0..3);
        let writer = storage.begin().unwrap();
        writer
            .insert_tuple("t", Tuple::new(vec![Value::Int8(9), Value::Int8(42)]))
            .unwrap();
        // The index is filled from committed rows; the writer's row has no entry.
        storage.catalog().create_index("t", "v").unwrap();
        let err = writer.commit().unwrap_err();
        assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
        assert!(err.to_string().contains("index"), "{err}");
        let writer = storage.begin().unwrap();
        writer
            .insert_tuple("t", Tuple::new(vec![Value::Int8(9), Value::Int8(42)]))
            .unwrap();
        writer.commit().unwrap();
        let found = storage.find_by("t", "v", &Value::Int8(42)).unwrap();
        assert_eq!(found.len(), 1, "the row is reachable through the index");
    }

    fn v_of(t: &Tuple) -> i64 {
        match t.values[1] {
            Value::Int8(v) => v,
            ref v => panic!("unexpected value {v:?}"),
        }
    }

    /// N transactions × M read-for-update increments of one row: every
    /// one commits (they queue on the row lock) and none is lost.
    #[test]
    fn increments_read_for_update_queue_and_all_commit() {
        const N: usize = 4;
        const M: usize = 50;
        let storage = Arc::new(StorageEngine::open_in_memory(&Config::in_memory()).unwrap());
        table_with_rows(&storage, "t", 1..2);
        storage
            .update_tuple("t", Tuple::new(vec![Value::Int8(1), Value::Int8(0)]))
            .unwrap();
        let threads: Vec<_> = (0..N)
            .map(|_| {
                let storage = Arc::clone(&storage);
                std::thread::spawn(move || {
                    for _ in 0..M {
                        let tx = storage.begin_shared().unwrap();
                        let row = tx
                            .get_by_pk_for_update("t", &Value::Int8(1))
                            .unwrap()
                            .unwrap();
                        let n = v_of(&row);
                        // Widen the window between read and write.
                        std::thread::yield_now();
                        tx.update_tuple("t", Tuple::new(vec![Value::Int8(1), Value::Int8(n + 1)]))
                            .unwrap();
                        tx.commit().expect("a locked increment never conflicts");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let row = storage.get_by_pk("t", &Value::Int8(1)).unwrap().unwrap();
        assert_eq!(v_of(&row), (N * M) as i64);
    }

    #[test]
    fn a_lock_cycle_fails_one_transaction_at_once() {
        let storage = Arc::new(StorageEngine::open_in_memory(&Config::in_memory()).unwrap());
        table_with_rows(&storage, "t", 1..3);
        let t1 = storage.begin_shared().unwrap();
        let t2 = storage.begin_shared().unwrap();
        t1.get_by_pk_for_update("t", &Value::Int8(1)).unwrap();
        t2.get_by_pk_for_update("t", &Value::Int8(2)).unwrap();
        let waiter = std::thread::spawn(move || {
            // Waits for t2's lock on row 2.
            let r = t1.get_by_pk_for_update("t", &Value::Int8(2));
            (r.map(|row| row.is_some()), t1)
        });
        // Let t1 start waiting; then t2 closing the cycle fails at once.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let err = t2.get_by_pk_for_update("t", &Value::Int8(1)).unwrap_err();
        assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
        assert!(err.to_string().contains("deadlock"), "{err}");
        t2.rollback().unwrap();
        let (got, t1) = waiter.join().unwrap();
        assert!(got.unwrap(), "t1 gets row 2 once t2 is gone");
        t1.commit().unwrap();
    }

    #[test]
    fn a_writer_without_the_lock_still_makes_the_locked_read_fail() {
        let storage = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        table_with_rows(&storage, "t", 1..2);
        let tx = storage.begin().unwrap();
        let row = tx
            .get_by_pk_for_update("t", &Value::Int8(1))
            .unwrap()
            .unwrap();
        // A direct write that ignores row locks, after the locked read.
        storage
            .update_tuple("t", Tuple::new(vec![Value::Int8(1), Value::Int8(99)]))
            .unwrap();
        tx.update_tuple(
            "t",
            Tuple::new(vec![Value::Int8(1), Value::Int8(v_of(&row) + 1)]),
        )
        .unwrap();
        let err = tx.commit().unwrap_err();
        assert!(matches!(err, crate::Error::Conflict(_)), "{err}");
        let row = storage.get_by_pk("t", &Value::Int8(1)).unwrap().unwrap();
        assert_eq!(
            v_of(&row),
            99,
            "the unlocked write stands, the stale increment is refused"
        );
    }
}

//! Transactions: rolled-back writes leave no trace, committed batches are
//! all-or-nothing, uncommitted writes are invisible to other threads, and a
//! write conflict aborts the whole transaction; concurrent increments and
//! phantoms are checked against a model.

mod common;

use std::sync::Arc;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Error, Schema, Tuple, Value};

fn engine(dir: &std::path::Path) -> StorageEngine {
    let key = common::key_file(dir, "k.key", common::KEY_A.as_bytes(), 0o400);
    let s = StorageEngine::open(dir.join("db"), &common::file_config(&key)).unwrap();
    s.catalog()
        .create_table(
            "acct",
            Schema::new(vec![
                Column::new("id", DataType::Int8).primary_key(),
                Column::new("bal", DataType::Int8),
            ]),
        )
        .unwrap();
    s.catalog().create_index("acct", "bal").unwrap();
    s
}

fn row(id: i64, bal: i64) -> Tuple {
    Tuple::new(vec![Value::Int8(id), Value::Int8(bal)])
}

#[test]
fn rollback_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let s = engine(dir.path());
    s.insert_tuple("acct", row(1, 100)).unwrap();
    let raw_before = s.db.entries("rows").unwrap();
    s.begin_transaction().unwrap();
    s.insert_tuple("acct", row(2, 200)).unwrap();
    s.update_tuple("acct", row(1, 1)).unwrap();
    s.put(b"k", b"v").unwrap();
    // Read-your-writes inside the transaction.
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 1), row(2, 200)]);
    assert_eq!(s.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(
        s.find_by("acct", "bal", &Value::Int8(200)).unwrap(),
        vec![row(2, 200)]
    );
    s.rollback().unwrap();
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 100)]);
    assert_eq!(s.get(b"k").unwrap(), None);
    assert!(s
        .find_by("acct", "bal", &Value::Int8(200))
        .unwrap()
        .is_empty());
    assert_eq!(
        s.db.entries("rows").unwrap(),
        raw_before,
        "rollback changed stored bytes"
    );
    assert!(matches!(s.commit(), Err(Error::Transaction(_))));
}

#[test]
fn committed_batch_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = engine(dir.path());
    s.insert_tuple("acct", row(5, 1)).unwrap();
    // A batch with a duplicate key in the middle inserts nothing.
    let err = s
        .insert_batch("acct", vec![row(1, 1), row(2, 2), row(5, 5), row(6, 6)])
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateKey { .. }), "{err}");
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(5, 1)]);
    // A batch whose schema check fails half way inserts nothing either.
    let bad = Tuple::new(vec![Value::Int8(9), Value::String("x".into())]);
    assert!(s.insert_batch("acct", vec![row(7, 7), bad]).is_err());
    assert_eq!(s.scan_table("acct").unwrap().len(), 1);
    // A committed transaction lands whole, and survives reopening.
    s.begin_transaction().unwrap();
    for i in 10..60 {
        s.insert_tuple("acct", row(i, i * 10)).unwrap();
    }
    s.commit().unwrap();
    drop(s);
    let key = dir.path().join("k.key");
    let s = StorageEngine::open(dir.path().join("db"), &common::file_config(&key)).unwrap();
    assert_eq!(s.scan_table("acct").unwrap().len(), 51);
    assert_eq!(
        s.find_by("acct", "bal", &Value::Int8(250)).unwrap(),
        vec![row(25, 250)]
    );
}

#[test]
fn uncommitted_writes_are_invisible_to_other_threads() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.insert_tuple("acct", row(1, 100)).unwrap();
    s.begin_transaction().unwrap();
    s.update_tuple("acct", row(1, 0)).unwrap();
    s.insert_tuple("acct", row(2, 100)).unwrap();
    let other = Arc::clone(&s);
    let seen =
        std::thread::spawn(move || (other.scan_table("acct").unwrap(), other.in_transaction()))
            .join()
            .unwrap();
    assert_eq!(seen.0, vec![row(1, 100)]);
    assert!(!seen.1);
    s.commit().unwrap();
    let other = Arc::clone(&s);
    let seen = std::thread::spawn(move || other.scan_table("acct").unwrap())
        .join()
        .unwrap();
    assert_eq!(seen, vec![row(1, 0), row(2, 100)]);
}

#[test]
fn write_conflict_aborts_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.insert_tuple("acct", row(1, 100)).unwrap();
    s.begin_transaction().unwrap();
    let cur = s.get_by_pk("acct", &Value::Int8(1)).unwrap().unwrap();
    let Value::Int8(bal) = cur.values[1] else {
        panic!()
    };
    s.update_tuple("acct", row(1, bal - 30)).unwrap();
    s.insert_tuple("acct", row(3, 30)).unwrap();
    // Another thread changes the same row and commits first.
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.update_tuple("acct", row(1, 500)).unwrap())
        .join()
        .unwrap();
    let err = s.commit().unwrap_err();
    assert!(err.to_string().contains("write conflict"), "{err}");
    // Nothing of the transaction landed: no lost update, no half transaction.
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 500)]);
    // Two transactions inserting the same key: the second commit fails.
    s.begin_transaction().unwrap();
    s.insert_tuple("acct", row(7, 7)).unwrap();
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.insert_tuple("acct", row(7, 8)).unwrap())
        .join()
        .unwrap();
    assert!(s.commit().is_err());
    assert_eq!(
        s.get_by_pk("acct", &Value::Int8(7)).unwrap(),
        Some(row(7, 8))
    );
}

#[test]
fn a_row_changed_after_its_locked_read_conflicts_and_keeps_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.insert_tuple("acct", row(1, 100)).unwrap();
    s.begin_transaction().unwrap();
    // The read that locks the row; the update's own read of the row (for
    // its index entries) is answered from it.
    let cur = s
        .get_by_pk_for_update("acct", &Value::Int8(1))
        .unwrap()
        .unwrap();
    assert_eq!(cur, row(1, 100));
    // A write outside any transaction takes no row lock: it lands between.
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.update_tuple("acct", row(1, 500)).unwrap())
        .join()
        .unwrap();
    s.update_tuple("acct", row(1, 70)).unwrap();
    let err = s.commit().unwrap_err();
    assert!(err.to_string().contains("write conflict"), "{err}");
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 500)]);
    // The index matches the row that won; nothing of the update landed.
    let bal = |v| s.find_by("acct", "bal", &Value::Int8(v)).unwrap();
    assert_eq!(bal(500), vec![row(1, 500)]);
    assert!(bal(70).is_empty() && bal(100).is_empty());
    // Without a concurrent write the same sequence commits, and a read
    // after the update sees the update, not the locked read.
    s.begin_transaction().unwrap();
    let cur = s
        .get_by_pk_for_update("acct", &Value::Int8(1))
        .unwrap()
        .unwrap();
    s.update_tuple("acct", row(1, 501)).unwrap();
    assert_eq!(cur, row(1, 500));
    assert_eq!(
        s.get_by_pk("acct", &Value::Int8(1)).unwrap(),
        Some(row(1, 501))
    );
    s.commit().unwrap();
    assert_eq!(bal(501), vec![row(1, 501)]);
    assert!(bal(500).is_empty());
}

#[test]
fn concurrent_writers_lose_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..250 {
                    let id = t * 1000 + i;
                    if i % 2 == 0 {
                        s.begin_transaction().unwrap();
                        s.insert_tuple("acct", row(id, id)).unwrap();
                        s.put(format!("k{id}").as_bytes(), b"x").unwrap();
                        s.commit().unwrap();
                    } else {
                        s.insert_tuple("acct", row(id, id)).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.scan_table("acct").unwrap().len(), 1000);
    assert_eq!(s.scan_prefix(b"k").unwrap().len(), 500);
    assert!(s.verify().unwrap().is_ok());
    let _ = Config::default();
}

/// N writers × M increments of one row in explicit transactions, retrying
/// on conflict: the final balance is exactly the number of acknowledged
/// commits, and every conflict is `Error::Conflict` with nothing written.
#[test]
fn increments_against_a_model_lose_nothing() {
    increments_against_a_model(false);
}

/// The same with the row read for update (locked; the update's own read of
/// the row is then answered from that read), the `bal` index kept exact.
#[test]
fn locked_increments_against_a_model_lose_nothing() {
    increments_against_a_model(true);
}

fn increments_against_a_model(for_update: bool) {
    const WRITERS: i64 = 4;
    const INCREMENTS: i64 = 100;
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.insert_tuple("acct", row(1, 0)).unwrap();
    let start = Arc::new(std::sync::Barrier::new(WRITERS as usize));
    let threads: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (s, start) = (Arc::clone(&s), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let (mut acked, mut conflicts) = (0i64, 0i64);
                while acked < INCREMENTS {
                    s.begin_transaction().unwrap();
                    let pk = Value::Int8(1);
                    let cur = if for_update {
                        s.get_by_pk_for_update("acct", &pk)
                    } else {
                        s.get_by_pk("acct", &pk)
                    }
                    .unwrap()
                    .unwrap();
                    let Value::Int8(bal) = cur.values[1] else {
                        panic!("balance is not an integer")
                    };
                    s.update_tuple("acct", row(1, bal + 1)).unwrap();
                    match s.commit() {
                        Ok(()) => acked += 1,
                        Err(Error::Conflict(_)) => conflicts += 1,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
                conflicts
            })
        })
        .collect();
    let conflicts: i64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(
        s.get_by_pk("acct", &Value::Int8(1)).unwrap(),
        Some(row(1, WRITERS * INCREMENTS)),
        "after {conflicts} conflicts"
    );
    // The index followed every committed update and nothing else.
    assert_eq!(
        s.find_by("acct", "bal", &Value::Int8(WRITERS * INCREMENTS))
            .unwrap()
            .len(),
        1
    );
    assert!(s.verify().unwrap().is_ok());
}

/// A scan is a read of everything under its prefix: a row another
/// transaction inserts meanwhile (a phantom) makes the commit fail, and an
/// index probe that found nothing fails when the value appears.
#[test]
fn phantoms_conflict_with_scans_and_index_probes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.insert_tuple("acct", row(1, 10)).unwrap();
    s.begin_transaction().unwrap();
    let total: i64 = s
        .scan_table("acct")
        .unwrap()
        .iter()
        .map(|t| match t.values[1] {
            Value::Int8(v) => v,
            _ => 0,
        })
        .sum();
    s.put(b"total", total.to_string().as_bytes()).unwrap();
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.insert_tuple("acct", row(2, 5)).unwrap())
        .join()
        .unwrap();
    let err = s.commit().unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert_eq!(s.get(b"total").unwrap(), None, "a failed commit wrote");

    // Index probe: "no account has balance 77" read, then someone adds one.
    s.begin_transaction().unwrap();
    assert!(s
        .find_by("acct", "bal", &Value::Int8(77))
        .unwrap()
        .is_empty());
    s.insert_tuple("acct", row(3, 1)).unwrap();
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.insert_tuple("acct", row(4, 77)).unwrap())
        .join()
        .unwrap();
    assert!(matches!(s.commit(), Err(Error::Conflict(_))));
    assert_eq!(s.get_by_pk("acct", &Value::Int8(3)).unwrap(), None);

    // Writes elsewhere do not conflict: a transaction that read row 1 only
    // commits although row 2 changed meanwhile.
    s.begin_transaction().unwrap();
    s.get_by_pk("acct", &Value::Int8(1)).unwrap();
    s.put(b"seen", b"1").unwrap();
    let other = Arc::clone(&s);
    std::thread::spawn(move || other.update_tuple("acct", row(2, 6)).unwrap())
        .join()
        .unwrap();
    s.commit().unwrap();
    assert_eq!(s.get(b"seen").unwrap().as_deref(), Some(&b"1"[..]));
}

/// Commits are durable by default (`[storage] sync_commit = true`) and the
/// key can be turned off; both keep every commit across a reopen.
#[test]
fn sync_commit_is_the_default_and_can_be_turned_off() {
    assert!(Config::default().storage.sync_commit);
    let cfg = Config::from_toml_str("[storage]\nsync_commit = false\n").unwrap();
    assert!(!cfg.storage.sync_commit);
    for sync in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let key = common::key_file(dir.path(), "k.key", common::KEY_A.as_bytes(), 0o400);
        let mut config = common::file_config(&key);
        config.storage.sync_commit = sync;
        let s = Arc::new(StorageEngine::open(dir.path().join("db"), &config).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        s.put(format!("k{t}-{i}").as_bytes(), b"v").unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(s);
        let s = StorageEngine::open(dir.path().join("db"), &config).unwrap();
        assert_eq!(
            s.scan_prefix(b"k").unwrap().len(),
            400,
            "sync_commit = {sync}"
        );
    }
}

/// Sessions that are not threads: a `SessionContext` owns its transaction,
/// which any thread may continue once it has entered the context. Two
/// sessions interleaved on one thread stay apart; a session's transaction
/// begun on one thread commits on another; `end_session` rolls back what a
/// session left open; the thread's own transaction is untouched by it all;
/// and a conflict between sessions is refused as between threads.
#[test]
fn session_contexts_carry_transactions_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    let a = s.new_session();
    let b = s.new_session();

    // The thread's own transaction, open around everything below.
    s.begin_transaction().unwrap();
    s.insert_tuple("acct", row(100, 0)).unwrap();
    {
        let _in = s.enter(&a);
        assert!(
            !s.in_transaction(),
            "a session starts without a transaction"
        );
        s.begin_transaction().unwrap();
        s.insert_tuple("acct", row(1, 10)).unwrap();
    }
    {
        let _in = s.enter(&b);
        s.begin_transaction().unwrap();
        s.insert_tuple("acct", row(2, 20)).unwrap();
        assert!(s.get_by_pk("acct", &Value::Int8(1)).unwrap().is_none());
        assert!(s.get_by_pk("acct", &Value::Int8(100)).unwrap().is_none());
    }
    assert!(
        s.in_transaction(),
        "the thread's own transaction is still open"
    );
    assert!(s.session_in_transaction(&a) && s.session_in_transaction(&b));

    // Session a commits on another thread.
    std::thread::scope(|t| {
        t.spawn(|| {
            let _in = s.enter(&a);
            assert!(s.in_transaction());
            assert!(s.get_by_pk("acct", &Value::Int8(1)).unwrap().is_some());
            s.commit().unwrap();
        });
    });
    assert!(!s.session_in_transaction(&a));
    // Session b goes away: rolled back.
    assert!(s.end_session(b));
    s.commit().unwrap();
    let ids: Vec<i64> = s
        .scan_table("acct")
        .unwrap()
        .into_iter()
        .map(|r| match r.values[0] {
            Value::Int8(i) => i,
            ref v => panic!("{v:?}"),
        })
        .collect();
    assert_eq!(ids, vec![1, 100]);

    // Lost update between two sessions: the second commit is refused.
    let (c, d) = (s.new_session(), s.new_session());
    for ctx in [&c, &d] {
        let _in = s.enter(ctx);
        s.begin_transaction().unwrap();
        let bal = s.get_by_pk("acct", &Value::Int8(1)).unwrap().unwrap();
        let Value::Int8(n) = bal.values[1] else {
            panic!("{bal:?}")
        };
        s.update_tuple("acct", row(1, n + 1)).unwrap();
    }
    {
        let _in = s.enter(&c);
        s.commit().unwrap();
    }
    let entered = s.enter(&d);
    assert!(matches!(s.commit(), Err(Error::Conflict(_))));
    drop(entered);
    let bal = s.get_by_pk("acct", &Value::Int8(1)).unwrap().unwrap();
    assert_eq!(bal.values[1], Value::Int8(11));
}

/// What runs `outside_transaction` commits on its own, whatever the caller's
/// transaction does afterwards (sequence counters rely on it): a rollback
/// of the caller keeps it, the caller's uncommitted row is not visible in
/// it, and the caller's transaction is its own again afterwards — for a
/// thread's transaction and an entered session's alike.
#[test]
fn outside_transaction_commits_apart_from_the_callers() {
    let dir = tempfile::tempdir().unwrap();
    let s = engine(dir.path());
    let session = s.new_session();
    for entered in [false, true] {
        let _in = entered.then(|| s.enter(&session));
        let (mine, apart) = if entered { (10, 11) } else { (20, 21) };
        s.begin_transaction().unwrap();
        s.insert_tuple("acct", row(mine, 0)).unwrap();
        s.outside_transaction(|| {
            assert!(!s.in_transaction(), "no transaction in there");
            assert!(
                s.get_by_pk("acct", &Value::Int8(mine)).unwrap().is_none(),
                "the caller's uncommitted row is not visible apart from it"
            );
            s.insert_tuple("acct", row(apart, 1)).unwrap();
        });
        assert!(s.in_transaction(), "the caller's transaction resumes");
        assert!(s.get_by_pk("acct", &Value::Int8(mine)).unwrap().is_some());
        s.rollback().unwrap();
        assert!(s.get_by_pk("acct", &Value::Int8(mine)).unwrap().is_none());
        assert_eq!(
            s.get_by_pk("acct", &Value::Int8(apart))
                .unwrap()
                .unwrap()
                .values[1],
            Value::Int8(1),
            "what ran apart survives the caller's rollback"
        );
    }
}

fn two_columns() -> Schema {
    Schema::new(vec![
        Column::new("id", DataType::Int8).primary_key(),
        Column::new("bal", DataType::Int8),
    ])
}

/// `DROP TABLE` inside a transaction: gone from the transaction at once,
/// from everyone when it commits (in the commit's batch, with its other
/// writes, and with the rows it wrote to the table first); kept by a
/// rollback, and by a rollback to a savepoint made before the drop.
#[test]
fn drop_table_is_transactional() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.catalog().create_table("old", two_columns()).unwrap();
    s.catalog().create_index("old", "bal").unwrap();
    s.insert_batch("old", (0..3).map(|i| row(i, i)).collect())
        .unwrap();
    assert_eq!(s.db.entries("rows").unwrap().len(), 3);

    // Rolled back: the table and its rows stay.
    s.begin_transaction().unwrap();
    s.catalog().drop_table("old").unwrap();
    assert!(!s.catalog().table_exists("old").unwrap());
    assert!(!s
        .catalog()
        .list_tables()
        .unwrap()
        .contains(&"old".to_string()));
    assert!(matches!(s.scan_table("old"), Err(Error::TableNotFound(_))));
    assert!(matches!(
        s.insert_tuple("old", row(5, 5)),
        Err(Error::TableNotFound(_))
    ));
    assert!(matches!(
        s.catalog().drop_table("old"),
        Err(Error::TableNotFound(_))
    ));
    let other = Arc::clone(&s);
    let seen = std::thread::spawn(move || other.scan_table("old").unwrap().len())
        .join()
        .unwrap();
    assert_eq!(seen, 3, "other transactions see the table until the commit");
    s.rollback().unwrap();
    assert_eq!(s.scan_table("old").unwrap().len(), 3);

    // A rollback to a savepoint made before the drop brings it back.
    s.begin_transaction().unwrap();
    s.savepoint("a").unwrap();
    s.catalog().drop_table("old").unwrap();
    s.rollback_to_savepoint("a").unwrap();
    assert_eq!(s.scan_table("old").unwrap().len(), 3);

    // Committed with the transaction's other writes, including a row it
    // wrote to the table before dropping it.
    s.insert_tuple("old", row(9, 9)).unwrap();
    s.insert_tuple("acct", row(1, 10)).unwrap();
    s.catalog().drop_table("old").unwrap();
    let e = s.catalog().create_table("old", two_columns()).unwrap_err();
    assert!(matches!(e, Error::Transaction(_)), "{e}");
    s.commit().unwrap();
    assert!(!s.catalog().table_exists("old").unwrap());
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 10)]);
    // Nothing of the dropped table is left: one row and one index entry,
    // both acct's.
    assert_eq!(s.db.entries("rows").unwrap().len(), 1);
    assert_eq!(s.db.entries("index").unwrap().len(), 1);
    s.catalog().create_table("old", two_columns()).unwrap();
    assert!(s.scan_table("old").unwrap().is_empty());
    drop(s);
    let key = dir.path().join("k.key");
    let s = StorageEngine::open(dir.path().join("db"), &common::file_config(&key)).unwrap();
    assert!(s.scan_table("old").unwrap().is_empty());
    assert_eq!(s.scan_table("acct").unwrap(), vec![row(1, 10)]);
}

/// A pending drop meets concurrent schema changes and writers: a table
/// replaced by another of the same name meanwhile is not dropped (the
/// dropping transaction fails whole), and a writer of a table whose drop
/// committed first fails at its own commit.
#[test]
fn a_pending_drop_and_concurrent_changes_conflict_rather_than_lose_data() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(engine(dir.path()));
    s.catalog().create_table("t", two_columns()).unwrap();
    let (a, b) = (s.new_session(), s.new_session());

    {
        let _in = s.enter(&a);
        s.begin_transaction().unwrap();
        s.insert_tuple("acct", row(1, 1)).unwrap();
        s.catalog().drop_table("t").unwrap();
    }
    // Meanwhile, outside: t dropped and created again, with a row.
    s.catalog().drop_table("t").unwrap();
    s.catalog().create_table("t", two_columns()).unwrap();
    s.insert_tuple("t", row(7, 7)).unwrap();
    {
        let _in = s.enter(&a);
        let e = s.commit().unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
    }
    assert_eq!(s.scan_table("t").unwrap(), vec![row(7, 7)]);
    assert!(
        s.scan_table("acct").unwrap().is_empty(),
        "nothing of the failed transaction landed"
    );

    // A writer of t, then a transaction that drops t and commits first.
    {
        let _in = s.enter(&b);
        s.begin_transaction().unwrap();
        s.insert_tuple("t", row(8, 8)).unwrap();
    }
    {
        let _in = s.enter(&a);
        s.begin_transaction().unwrap();
        s.catalog().drop_table("t").unwrap();
        s.commit().unwrap();
    }
    {
        let _in = s.enter(&b);
        let e = s.commit().unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
    }
    assert!(!s.catalog().table_exists("t").unwrap());
    assert!(s.db.entries("rows").unwrap().is_empty());
}

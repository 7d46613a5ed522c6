//! Concurrency against a model: N sessions × M increments on one hot row
//! must leave exactly the number of acknowledged increments (autocommit and
//! explicit transactions), concurrent duplicate UNIQUE/PRIMARY KEY inserts
//! leave exactly one row, and write skew is refused (serializable).

use std::sync::{Arc, Barrier};

use heliosdb_core::{Config, StorageEngine, Value};
use heliosdb_keys::FakeSource;
use heliosdb_sql::{QueryResult, Session, SqlError, SqlShared};

fn engine(dir: &std::path::Path) -> Arc<StorageEngine> {
    let mut config = Config::default();
    config.encryption.enabled = true;
    Arc::new(
        StorageEngine::open_with_source(dir.join("db"), &config, Arc::new(FakeSource::new(7)))
            .unwrap(),
    )
}

fn one(s: &mut Session<'_>, sql: &str) -> QueryResult {
    s.execute(sql, &[]).unwrap().pop().unwrap()
}

fn int(r: &QueryResult) -> i64 {
    match &r.rows()[0][0] {
        Value::Int4(v) => i64::from(*v),
        Value::Int8(v) => *v,
        other => panic!("integer expected, got {other:?}"),
    }
}

const WRITERS: usize = 4;
const INCREMENTS: usize = 60;

fn counter_table(db: &StorageEngine, shared: &SqlShared) {
    let mut s = Session::new(db, shared);
    one(
        &mut s,
        "CREATE TABLE c (name TEXT PRIMARY KEY, n INTEGER NOT NULL)",
    );
    one(&mut s, "INSERT INTO c VALUES ('x', 0), ('y', 0)");
}

/// Runs `work` on WRITERS threads at once, each with its own session, and
/// returns what each returned.
fn on_writers<T: Send + 'static>(
    db: &Arc<StorageEngine>,
    shared: &Arc<SqlShared>,
    work: impl Fn(&mut Session<'_>) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let start = Arc::new(Barrier::new(WRITERS));
    let work = Arc::new(work);
    let threads: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (db, shared, start, work) = (
                Arc::clone(db),
                Arc::clone(shared),
                Arc::clone(&start),
                Arc::clone(&work),
            );
            std::thread::spawn(move || {
                let mut s = Session::new(&db, &shared);
                start.wait();
                work(&mut s)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn autocommit_increments_are_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    counter_table(&db, &shared);
    let acked: usize = on_writers(&db, &shared, |s| {
        let mut acked = 0;
        for _ in 0..INCREMENTS {
            let r = one(s, "UPDATE c SET n = n + 1 WHERE name = 'x'");
            assert_eq!(r.tag(), "UPDATE 1");
            acked += 1;
        }
        acked
    })
    .into_iter()
    .sum();
    let mut s = Session::new(&db, &shared);
    let n = int(&one(&mut s, "SELECT n FROM c WHERE name = 'x'"));
    assert_eq!(acked, WRITERS * INCREMENTS);
    assert_eq!(n, acked as i64, "acknowledged increments were lost");
    // The other row was never touched.
    assert_eq!(int(&one(&mut s, "SELECT n FROM c WHERE name = 'y'")), 0);
}

#[test]
fn explicit_transactions_commit_or_fail_with_40001_never_lose() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    counter_table(&db, &shared);
    let results = on_writers(&db, &shared, |s| {
        let (mut acked, mut conflicts) = (0i64, 0u32);
        for _ in 0..INCREMENTS {
            one(s, "BEGIN");
            // Read, then write what was read: the classic lost update.
            let n = int(&one(s, "SELECT n FROM c WHERE name = 'x'"));
            one(s, &format!("UPDATE c SET n = {} WHERE name = 'x'", n + 1));
            match s.execute("COMMIT", &[]) {
                Ok(_) => acked += 1,
                Err(SqlError::Conflict(m)) => {
                    assert!(m.contains("could not serialize"), "{m}");
                    assert!(!s.in_transaction());
                    conflicts += 1;
                }
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        (acked, conflicts)
    });
    let acked: i64 = results.iter().map(|r| r.0).sum();
    let conflicts: u32 = results.iter().map(|r| r.1).sum();
    let mut s = Session::new(&db, &shared);
    let n = int(&one(&mut s, "SELECT n FROM c WHERE name = 'x'"));
    assert_eq!(n, acked, "final value differs from acknowledged commits");
    assert_eq!(acked + i64::from(conflicts), (WRITERS * INCREMENTS) as i64);
    assert!(acked > 0);
}

#[test]
fn concurrent_duplicate_keys_leave_exactly_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    let mut s = Session::new(&db, &shared);
    one(
        &mut s,
        "CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE)",
    );
    for round in 0..20 {
        let start = Arc::new(Barrier::new(WRITERS));
        let threads: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (db, shared, start) =
                    (Arc::clone(&db), Arc::clone(&shared), Arc::clone(&start));
                std::thread::spawn(move || {
                    let mut s = Session::new(&db, &shared);
                    start.wait();
                    // Different primary keys, the same UNIQUE email; and in
                    // explicit transactions for odd rounds.
                    let id = round * 100 + w;
                    let sql = format!("INSERT INTO u VALUES ({id}, 'same{round}@example.com')");
                    if round % 2 == 1 {
                        one(&mut s, "BEGIN");
                        let r = s.execute(&sql, &[]);
                        if r.is_err() {
                            one(&mut s, "ROLLBACK");
                            return r.map(|_| ());
                        }
                        s.execute("COMMIT", &[]).map(|_| ())
                    } else {
                        s.execute(&sql, &[]).map(|_| ())
                    }
                })
            })
            .collect();
        let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let ok = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {outcomes:?}");
        for e in outcomes.iter().filter_map(|r| r.as_ref().err()) {
            let m = e.to_string();
            assert!(
                matches!(e, SqlError::Conflict(_)) || m.to_lowercase().contains("unique"),
                "round {round}: unexpected error {m}"
            );
        }
        let n = int(&one(
            &mut s,
            &format!("SELECT COUNT(*) FROM u WHERE email = 'same{round}@example.com'"),
        ));
        assert_eq!(n, 1, "round {round}");
    }
}

#[test]
fn write_skew_is_refused() {
    // Two on-call doctors; each transaction checks that two are on call and
    // takes itself off. Under snapshot isolation both commit (nobody on
    // call); serializable lets exactly one commit.
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    let mut s = Session::new(&db, &shared);
    one(
        &mut s,
        "CREATE TABLE oncall (name TEXT PRIMARY KEY, on_call BOOLEAN NOT NULL)",
    );
    for round in 0..10 {
        one(&mut s, "DELETE FROM oncall");
        one(
            &mut s,
            "INSERT INTO oncall VALUES ('alice', TRUE), ('bob', TRUE)",
        );
        let read = Arc::new(Barrier::new(2));
        let threads: Vec<_> = ["alice", "bob"]
            .into_iter()
            .map(|me| {
                let (db, shared, read) = (Arc::clone(&db), Arc::clone(&shared), Arc::clone(&read));
                std::thread::spawn(move || {
                    let mut s = Session::new(&db, &shared);
                    one(&mut s, "BEGIN");
                    let n = int(&one(&mut s, "SELECT COUNT(*) FROM oncall WHERE on_call"));
                    // Both have read before either writes.
                    read.wait();
                    if n >= 2 {
                        one(
                            &mut s,
                            &format!("UPDATE oncall SET on_call = FALSE WHERE name = '{me}'"),
                        );
                    }
                    s.execute("COMMIT", &[]).map(|_| ())
                })
            })
            .collect();
        let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            outcomes.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        assert!(outcomes
            .iter()
            .any(|r| matches!(r, Err(SqlError::Conflict(_)))));
        let on_call = int(&one(&mut s, "SELECT COUNT(*) FROM oncall WHERE on_call"));
        assert_eq!(on_call, 1, "round {round}: the invariant broke");
    }
    let r = one(&mut s, "SHOW transaction_isolation");
    assert_eq!(r.rows()[0][0], Value::String("serializable".into()));
}

/// ALTER TABLE copies the table into a new one and swaps it in. Sessions
/// inserting in transaction blocks meanwhile (their COMMIT after the copy
/// read the table, or after the swap) must not lose a row: every INSERT
/// whose COMMIT succeeded is in the table afterwards, and every one that
/// failed failed with 40001.
#[test]
fn alter_table_during_transaction_blocks_loses_no_committed_row() {
    const PER_WRITER: i64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    {
        let mut s = Session::new(&db, &shared);
        one(&mut s, "CREATE TABLE t (id BIGINT PRIMARY KEY, w INTEGER)");
        one(&mut s, "INSERT INTO t VALUES (-1, -1), (-2, -2)");
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let alters = {
        let (db, shared, stop) = (Arc::clone(&db), Arc::clone(&shared), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut s = Session::new(&db, &shared);
            let (mut done, mut refused) = (0u32, 0u32);
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || done < 2 {
                let sql = if i % 2 == 0 {
                    "ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 5"
                } else {
                    "ALTER TABLE t DROP COLUMN extra"
                };
                match s.execute(sql, &[]) {
                    Ok(_) => {
                        done += 1;
                        i += 1;
                    }
                    Err(SqlError::Conflict(_)) => refused += 1,
                    Err(e) => panic!("{sql}: unexpected error: {e}"),
                }
            }
            (done, refused)
        })
    };
    let results = on_writers(&db, &shared, |s| {
        let mut acked = Vec::new();
        let mut failed = 0u32;
        for k in 0..PER_WRITER {
            let id = next_id();
            let attempt = (|| -> Result<(), SqlError> {
                s.execute("BEGIN", &[])?;
                s.execute(&format!("INSERT INTO t (id, w) VALUES ({id}, {k})"), &[])?;
                // Keep the transaction open across a possible ALTER.
                std::thread::sleep(std::time::Duration::from_millis(2));
                s.execute("COMMIT", &[])?;
                Ok(())
            })();
            match attempt {
                Ok(()) => acked.push(id),
                Err(SqlError::Conflict(_)) => {
                    failed += 1;
                    if s.in_transaction() {
                        s.execute("ROLLBACK", &[]).unwrap();
                    }
                }
                Err(e) => panic!("INSERT of {id}: unexpected error: {e}"),
            }
        }
        (acked, failed)
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (alters_done, alters_refused) = alters.join().unwrap();
    let mut acked: Vec<i64> = results.iter().flat_map(|r| r.0.clone()).collect();
    let failed: u32 = results.iter().map(|r| r.1).sum();
    acked.extend([-2, -1]);
    acked.sort_unstable();
    let mut s = Session::new(&db, &shared);
    let rows = one(&mut s, "SELECT id FROM t ORDER BY id");
    let present: Vec<i64> = rows
        .rows()
        .iter()
        .map(|r| match r[0] {
            Value::Int8(v) => v,
            ref v => panic!("id {v:?}"),
        })
        .collect();
    assert_eq!(
        present, acked,
        "rows in the table differ from acknowledged commits ({alters_done} ALTERs, \
         {alters_refused} refused, {failed} inserts failed with 40001)"
    );
    assert_eq!(
        acked.len() - 2 + failed as usize,
        WRITERS * PER_WRITER as usize
    );
    assert!(alters_done >= 2);
}

/// Distinct ids across the writer threads.
fn next_id() -> i64 {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// pgbench's pattern: `UPDATE … SET n = n + 1 WHERE key = …` inside
/// explicit transactions on one hot row. The UPDATE reads the row under its
/// row lock, so the transactions queue: every COMMIT succeeds (no 40001)
/// and the row holds exactly WRITERS × INCREMENTS.
#[test]
fn hot_row_updates_in_transaction_blocks_queue_and_all_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    counter_table(&db, &shared);
    on_writers(&db, &shared, |s| {
        for _ in 0..INCREMENTS {
            one(s, "BEGIN");
            one(s, "UPDATE c SET n = n + 1 WHERE name = 'x'");
            // Another statement between: the lock is held to COMMIT.
            let n = int(&one(s, "SELECT n FROM c WHERE name = 'x'"));
            assert!(n > 0);
            one(s, "UPDATE c SET n = n + 2 WHERE name = 'y'");
            s.execute("COMMIT", &[])
                .expect("queued on the row lock, the transaction commits");
        }
    });
    let mut s = Session::new(&db, &shared);
    let x = int(&one(&mut s, "SELECT n FROM c WHERE name = 'x'"));
    let y = int(&one(&mut s, "SELECT n FROM c WHERE name = 'y'"));
    assert_eq!(x, (WRITERS * INCREMENTS) as i64);
    assert_eq!(y, 2 * (WRITERS * INCREMENTS) as i64);
}

/// pgbench's history table: no primary key, many sessions appending rows
/// (autocommit and in transactions, some rolled back). Hidden row ids are
/// reserved in blocks: no two rows may share one (a shared id would
/// overwrite a row), across a table dropped and created again under the
/// same name, and across a reopen of the database.
#[test]
fn rows_of_a_table_without_a_primary_key_are_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    const PER_WRITER: i64 = 150;
    for round in 0..2 {
        let db = engine(dir.path());
        let shared = Arc::new(SqlShared::new());
        {
            let mut s = Session::new(&db, &shared);
            if round == 0 {
                one(&mut s, "CREATE TABLE h (w INTEGER, i INTEGER)");
                one(&mut s, "INSERT INTO h VALUES (-1, 0), (-1, 1), (-1, 2)");
                // Dropped and created again: its sequence starts over, and
                // ids reserved for the old table must not be handed out.
                one(&mut s, "DROP TABLE h");
                one(&mut s, "CREATE TABLE h (w INTEGER, i INTEGER)");
                one(&mut s, "INSERT INTO h VALUES (-1, 0), (-1, 1)");
            }
        }
        on_writers(&db, &shared, move |s| {
            let w = next_id() + 1000 * round;
            for i in 0..PER_WRITER {
                if i % 10 == 0 {
                    one(s, "BEGIN");
                    one(s, &format!("INSERT INTO h VALUES ({w}, -1), ({w}, -2)"));
                    one(s, "ROLLBACK");
                }
                one(s, &format!("INSERT INTO h VALUES ({w}, {i})"));
            }
        });
        let mut s = Session::new(&db, &shared);
        let n = int(&one(&mut s, "SELECT count(*) FROM h"));
        let rolled_back = int(&one(&mut s, "SELECT count(*) FROM h WHERE i < 0"));
        assert_eq!(rolled_back, 0);
        let expected = 2 + (round + 1) * WRITERS as i64 * PER_WRITER;
        assert_eq!(
            n, expected,
            "round {round}: every acknowledged row is there"
        );
        let distinct = int(&one(&mut s, "SELECT count(DISTINCT w * 100000 + i) FROM h"));
        assert_eq!(distinct, n);
    }
}

/// A point query (`SELECT … WHERE pk = n`, answered by one key read without
/// the general pipeline) inside a transaction is a read like any other: a
/// commit of another session that changed the row after it was read makes
/// this transaction's COMMIT fail with 40001, so a decision taken on the
/// old value never lands. Ten rounds, each with a transfer decided on a
/// balance read by a point query and a concurrent change of that balance.
#[test]
fn point_reads_in_a_transaction_are_validated_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    let mut s = Session::new(&db, &shared);
    one(
        &mut s,
        "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)",
    );
    one(&mut s, "INSERT INTO acct VALUES (1, 100), (2, 0)");
    for round in 0..10 {
        let (read, changed) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let t = {
            let (db, shared) = (Arc::clone(&db), Arc::clone(&shared));
            let (read, changed) = (Arc::clone(&read), Arc::clone(&changed));
            std::thread::spawn(move || {
                let mut s = Session::new(&db, &shared);
                one(&mut s, "BEGIN");
                let bal = int(&one(&mut s, "SELECT bal FROM acct WHERE id = 1"));
                read.wait();
                changed.wait();
                one(&mut s, &format!("UPDATE acct SET bal = {bal} WHERE id = 2"));
                s.execute("COMMIT", &[]).map(|_| ())
            })
        };
        read.wait();
        one(
            &mut s,
            &format!("UPDATE acct SET bal = {round} WHERE id = 1"),
        );
        changed.wait();
        let outcome = t.join().unwrap();
        assert!(
            matches!(outcome, Err(SqlError::Conflict(_))),
            "round {round}: {outcome:?}"
        );
        // Nothing of the failed transaction landed.
        let copied = int(&one(&mut s, "SELECT bal FROM acct WHERE id = 2"));
        assert_eq!(copied, 0, "round {round}");
    }
}

/// N writers × M increments of one row keyed by an integer (the point
/// UPDATE path: one locked read, one write), in autocommit and in
/// transaction blocks retried on 40001: the counter ends at exactly N × M.
#[test]
fn point_update_increments_are_never_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = Arc::new(SqlShared::new());
    let mut s = Session::new(&db, &shared);
    one(
        &mut s,
        "CREATE TABLE hot (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)",
    );
    one(&mut s, "INSERT INTO hot VALUES (1, 0)");
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, shared) = (Arc::clone(&db), Arc::clone(&shared));
            std::thread::spawn(move || {
                let mut s = Session::new(&db, &shared);
                for i in 0..INCREMENTS {
                    if (w + i) % 2 == 0 {
                        one(&mut s, "UPDATE hot SET n = n + 1 WHERE id = 1");
                        continue;
                    }
                    loop {
                        one(&mut s, "BEGIN");
                        s.execute("UPDATE hot SET n = n + 1 WHERE id = $1", &[Value::Int4(1)])
                            .unwrap();
                        match s.execute("COMMIT", &[]) {
                            Ok(_) => break,
                            Err(SqlError::Conflict(_)) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let n = int(&one(&mut s, "SELECT n FROM hot WHERE id = 1"));
    assert_eq!(n, (WRITERS * INCREMENTS) as i64);
}

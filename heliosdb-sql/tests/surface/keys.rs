//! Composite PRIMARY KEY / UNIQUE constraints (checked by the SQL layer
//! over the engine's one-column key) and foreign-key ON DELETE actions:
//! answers, SQLSTATEs, atomicity, persistence, catalog rows, concurrency.

use std::sync::{Arc, Barrier};

use heliosdb_core::Value;
use heliosdb_sql::{Session, SqlShared};

use crate::{engine, err, i, ok, rows, t};

fn count(s: &mut Session<'_>, sql: &str) -> i64 {
    match &rows(s, sql)[0][0] {
        Value::Int8(n) => *n,
        Value::Int4(n) => i64::from(*n),
        other => panic!("count expected, got {other:?}"),
    }
}

#[test]
fn composite_primary_key_is_unique_and_not_null() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    ok(
        &mut s,
        "CREATE TABLE pair (a INT, b INT, v TEXT, PRIMARY KEY (a, b))",
    );
    ok(
        &mut s,
        "INSERT INTO pair VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z')",
    );
    let e = err(&mut s, "INSERT INTO pair VALUES (1, 1, 'dup')");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    assert_eq!(
        e.to_string(),
        "duplicate key value violates unique constraint \"pair_pkey\""
    );
    // Duplicates within one statement, and the statement is atomic.
    let e = err(&mut s, "INSERT INTO pair VALUES (3, 3, 'p'), (3, 3, 'q')");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    assert_eq!(count(&mut s, "SELECT count(*) FROM pair WHERE a = 3"), 0);
    // Key columns are NOT NULL.
    let e = err(&mut s, "INSERT INTO pair VALUES (NULL, 1, 'n')");
    assert_eq!(e.sqlstate(), "23502", "{e}");
    // UPDATE into an existing key fails and changes nothing; a key swap
    // within one statement is fine.
    let e = err(&mut s, "UPDATE pair SET b = 2 WHERE a = 1 AND b = 1");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    ok(&mut s, "UPDATE pair SET v = 'x2' WHERE a = 1 AND b = 1");
    ok(
        &mut s,
        "UPDATE pair SET b = CASE WHEN b = 1 THEN 2 ELSE 1 END WHERE a = 1",
    );
    assert_eq!(
        rows(&mut s, "SELECT a, b, v FROM pair ORDER BY a, b"),
        vec![
            vec![i(1), i(1), t("y")],
            vec![i(1), i(2), t("x2")],
            vec![i(2), i(1), t("z")],
        ]
    );
    // Two primary keys are refused.
    let e = err(
        &mut s,
        "CREATE TABLE bad (a INT PRIMARY KEY, b INT, PRIMARY KEY (a, b))",
    );
    assert_eq!(e.sqlstate(), "42P16", "{e}");
    let e = err(
        &mut s,
        "CREATE TABLE bad (a INT, b INT, PRIMARY KEY (a, a))",
    );
    assert_eq!(e.sqlstate(), "42701", "{e}");
    let e = err(
        &mut s,
        "CREATE TABLE bad (a INT, b INT, PRIMARY KEY (a, c))",
    );
    assert_eq!(e.sqlstate(), "42703", "{e}");
    // In a transaction block: the failed statement aborts the block.
    ok(&mut s, "BEGIN");
    ok(&mut s, "INSERT INTO pair VALUES (5, 5, 'in block')");
    let e = err(&mut s, "INSERT INTO pair VALUES (5, 5, 'again')");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    ok(&mut s, "ROLLBACK");
    assert_eq!(count(&mut s, "SELECT count(*) FROM pair WHERE a = 5"), 0);
    // Deleting a key frees it.
    ok(&mut s, "DELETE FROM pair WHERE a = 2 AND b = 1");
    ok(&mut s, "INSERT INTO pair VALUES (2, 1, 'again')");
}

#[test]
fn composite_unique_allows_nulls_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = engine(dir.path());
        let shared = SqlShared::new();
        let mut s = Session::new(&db, &shared);
        ok(
            &mut s,
            "CREATE TABLE m (id INT PRIMARY KEY, x INT, y TEXT, CONSTRAINT m_xy UNIQUE (x, y))",
        );
        ok(
            &mut s,
            "INSERT INTO m VALUES (1, 1, 'a'), (2, 1, 'b'), (3, NULL, 'a'), (4, NULL, 'a')",
        );
        let e = err(&mut s, "INSERT INTO m VALUES (5, 1, 'a')");
        assert_eq!(e.sqlstate(), "23505", "{e}");
        assert!(e.to_string().contains("\"m_xy\""), "{e}");
    }
    // After a restart the key is still checked.
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    let e = err(&mut s, "INSERT INTO m VALUES (6, 1, 'b')");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    ok(&mut s, "INSERT INTO m VALUES (6, 2, 'b')");
    assert_eq!(count(&mut s, "SELECT count(*) FROM m"), 5);
}

#[test]
fn alter_table_adds_and_drops_composite_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    ok(&mut s, "CREATE TABLE e (a INT, b INT, c INT)");
    ok(&mut s, "INSERT INTO e VALUES (1, 1, 1), (1, 1, 2)");
    let e = err(&mut s, "ALTER TABLE e ADD PRIMARY KEY (a, b)");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    ok(&mut s, "ALTER TABLE e ADD CONSTRAINT e_bc UNIQUE (b, c)");
    let e = err(&mut s, "INSERT INTO e VALUES (9, 1, 2)");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    ok(&mut s, "DELETE FROM e WHERE c = 2");
    ok(&mut s, "ALTER TABLE e ADD PRIMARY KEY (a, b)");
    let e = err(&mut s, "ALTER TABLE e ADD PRIMARY KEY (b, c)");
    assert_eq!(e.sqlstate(), "42P16", "{e}");
    let e = err(&mut s, "INSERT INTO e VALUES (1, 1, 5)");
    assert_eq!(
        e.to_string(),
        "duplicate key value violates unique constraint \"e_pkey\""
    );
    let e = err(&mut s, "INSERT INTO e VALUES (NULL, 1, 5)");
    assert_eq!(e.sqlstate(), "23502", "{e}");
    ok(&mut s, "ALTER TABLE e DROP CONSTRAINT e_pkey");
    ok(&mut s, "INSERT INTO e VALUES (1, 1, 5)");
    // Renaming a key column keeps the key; dropping one drops it.
    ok(&mut s, "ALTER TABLE e RENAME COLUMN c TO cc");
    let e = err(&mut s, "INSERT INTO e VALUES (7, 1, 5)");
    assert_eq!(e.sqlstate(), "23505", "{e}");
    ok(&mut s, "ALTER TABLE e DROP COLUMN cc");
    ok(&mut s, "INSERT INTO e VALUES (7, 1)");
}

#[test]
fn composite_keys_in_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    ok(
        &mut s,
        "CREATE TABLE ck (x INT, y INT, z INT, PRIMARY KEY (y, x), UNIQUE (z, y))",
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT constraint_name, column_name, ordinal_position \
             FROM information_schema.key_column_usage WHERE table_name = 'ck' \
             ORDER BY constraint_name, ordinal_position"
        ),
        vec![
            vec![t("ck_pkey"), t("y"), i(1)],
            vec![t("ck_pkey"), t("x"), i(2)],
            vec![t("ck_z_y_key"), t("z"), i(1)],
            vec![t("ck_z_y_key"), t("y"), i(2)],
        ]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT constraint_name, constraint_type FROM information_schema.table_constraints \
             WHERE table_name = 'ck' ORDER BY constraint_name"
        ),
        vec![
            vec![t("ck_pkey"), t("PRIMARY KEY")],
            vec![t("ck_z_y_key"), t("UNIQUE")],
        ]
    );
    let r = rows(
        &mut s,
        "SELECT conname, contype, conkey FROM pg_constraint WHERE conname = 'ck_pkey'",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0][1], t("p"));
    assert_eq!(crate_text(&r[0][2]), "{2,1}");
}

fn crate_text(v: &Value) -> String {
    heliosdb_sql::text_of(v)
}

#[test]
fn on_conflict_with_a_composite_target() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    ok(
        &mut s,
        "CREATE TABLE kv (ns TEXT, k TEXT, v INT, PRIMARY KEY (ns, k))",
    );
    ok(&mut s, "INSERT INTO kv VALUES ('a', 'x', 1)");
    let r = ok(
        &mut s,
        "INSERT INTO kv VALUES ('a', 'x', 5), ('a', 'y', 6) ON CONFLICT (ns, k) DO NOTHING",
    );
    assert_eq!(r.tag(), "INSERT 0 1");
    ok(
        &mut s,
        "INSERT INTO kv VALUES ('a', 'x', 7) ON CONFLICT (k, ns) DO UPDATE SET v = kv.v + EXCLUDED.v",
    );
    assert_eq!(
        rows(&mut s, "SELECT ns, k, v FROM kv ORDER BY ns, k"),
        vec![vec![t("a"), t("x"), i(8)], vec![t("a"), t("y"), i(6)]]
    );
    let e = err(
        &mut s,
        "INSERT INTO kv VALUES ('a', 'x', 1) ON CONFLICT (ns, v) DO NOTHING",
    );
    assert_eq!(e.sqlstate(), "42P10", "{e}");
}

#[test]
fn concurrent_inserts_of_overlapping_composite_keys_leave_one_row_per_key() {
    const WRITERS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(engine(dir.path()));
    let shared = Arc::new(SqlShared::new());
    {
        let mut s = Session::new(&db, &shared);
        ok(
            &mut s,
            "CREATE TABLE ov (a INT, b INT, w INT, PRIMARY KEY (a, b))",
        );
    }
    for round in 0..10 {
        let start = Arc::new(Barrier::new(WRITERS));
        let threads: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (db, shared, start) =
                    (Arc::clone(&db), Arc::clone(&shared), Arc::clone(&start));
                std::thread::spawn(move || {
                    let mut s = Session::new(&db, &shared);
                    start.wait();
                    // Every writer inserts key (round, 0) and its own (round, w + 1),
                    // in explicit transactions on odd rounds.
                    let sql = format!(
                        "INSERT INTO ov VALUES ({round}, 0, {w}), ({round}, {}, {w})",
                        w + 1
                    );
                    if round % 2 == 1 {
                        s.execute("BEGIN", &[]).unwrap();
                        if let Err(e) = s.execute(&sql, &[]) {
                            s.execute("ROLLBACK", &[]).unwrap();
                            return Err(e);
                        }
                        s.execute("COMMIT", &[]).map(|_| ())
                    } else {
                        s.execute(&sql, &[]).map(|_| ())
                    }
                })
            })
            .collect();
        let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let ok_count = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok_count, 1, "round {round}: {outcomes:?}");
        for e in outcomes.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(e.sqlstate(), "23505" | "40001"),
                "round {round}: unexpected error {e}"
            );
        }
        let mut s = Session::new(&db, &shared);
        assert_eq!(
            count(
                &mut s,
                &format!("SELECT count(*) FROM ov WHERE a = {round} AND b = 0")
            ),
            1
        );
        // The winner's statement is whole: its two rows, nobody else's.
        assert_eq!(
            count(
                &mut s,
                &format!("SELECT count(*) FROM ov WHERE a = {round}")
            ),
            2
        );
    }
}

#[test]
fn on_delete_cascade_set_null_set_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    ok(&mut s, "CREATE TABLE p (id INT PRIMARY KEY, name TEXT)");
    ok(
        &mut s,
        "CREATE TABLE c (id INT PRIMARY KEY, pid INT REFERENCES p (id) ON DELETE CASCADE)",
    );
    ok(
        &mut s,
        "CREATE TABLE g (id INT PRIMARY KEY, cid INT, \
         FOREIGN KEY (cid) REFERENCES c (id) ON DELETE CASCADE)",
    );
    ok(
        &mut s,
        "CREATE TABLE n (id INT PRIMARY KEY, pid INT REFERENCES p (id) ON DELETE SET NULL)",
    );
    ok(
        &mut s,
        "CREATE TABLE d (id INT PRIMARY KEY, pid INT DEFAULT 0 REFERENCES p (id) ON DELETE SET DEFAULT)",
    );
    ok(
        &mut s,
        "INSERT INTO p VALUES (0, 'default'), (1, 'one'), (2, 'two')",
    );
    ok(&mut s, "INSERT INTO c VALUES (10, 1), (11, 1), (20, 2)");
    ok(
        &mut s,
        "INSERT INTO g VALUES (100, 10), (101, 11), (200, 20)",
    );
    ok(&mut s, "INSERT INTO n VALUES (1, 1), (2, 2)");
    ok(&mut s, "INSERT INTO d VALUES (1, 1), (2, 2)");
    let r = ok(&mut s, "DELETE FROM p WHERE id = 1");
    assert_eq!(r.tag(), "DELETE 1");
    assert_eq!(
        rows(&mut s, "SELECT id FROM c ORDER BY id"),
        vec![vec![i(20)]]
    );
    assert_eq!(
        rows(&mut s, "SELECT id FROM g ORDER BY id"),
        vec![vec![i(200)]]
    );
    assert_eq!(
        rows(&mut s, "SELECT id, pid FROM n ORDER BY id"),
        vec![vec![i(1), Value::Null], vec![i(2), i(2)]]
    );
    assert_eq!(
        rows(&mut s, "SELECT id, pid FROM d ORDER BY id"),
        vec![vec![i(1), i(0)], vec![i(2), i(2)]]
    );
    // The catalog shows the actions.
    assert_eq!(
        rows(
            &mut s,
            "SELECT constraint_name, delete_rule FROM information_schema.referential_constraints \
             ORDER BY constraint_name"
        ),
        vec![
            vec![t("c_pid_fkey"), t("CASCADE")],
            vec![t("d_pid_fkey"), t("SET DEFAULT")],
            vec![t("g_cid_fkey"), t("CASCADE")],
            vec![t("n_pid_fkey"), t("SET NULL")],
        ]
    );
    // ON UPDATE CASCADE stays refused.
    let e = err(
        &mut s,
        "CREATE TABLE u (id INT PRIMARY KEY, pid INT REFERENCES p (id) ON UPDATE CASCADE)",
    );
    assert_eq!(e.sqlstate(), "0A000", "{e}");
    // Composite foreign keys are refused, not silently narrowed.
    ok(
        &mut s,
        "CREATE TABLE pk2 (a INT, b INT, PRIMARY KEY (a, b))",
    );
    let e = err(
        &mut s,
        "CREATE TABLE fk2 (a INT, b INT, FOREIGN KEY (a, b) REFERENCES pk2 (a, b))",
    );
    assert_eq!(e.sqlstate(), "0A000", "{e}");
}

#[test]
fn cascade_is_atomic_with_its_statement() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = engine(dir.path());
        let shared = SqlShared::new();
        let mut s = Session::new(&db, &shared);
        ok(&mut s, "CREATE TABLE p (id INT PRIMARY KEY)");
        ok(
            &mut s,
            "CREATE TABLE c (id INT PRIMARY KEY, pid INT REFERENCES p (id) ON DELETE CASCADE)",
        );
        // A grandchild with NO ACTION blocks the cascade: nothing changes.
        ok(
            &mut s,
            "CREATE TABLE g (id INT PRIMARY KEY, cid INT REFERENCES c (id))",
        );
        ok(&mut s, "INSERT INTO p VALUES (1), (2)");
        ok(&mut s, "INSERT INTO c VALUES (10, 1), (20, 2)");
        ok(&mut s, "INSERT INTO g VALUES (100, 10)");
        let e = err(&mut s, "DELETE FROM p");
        assert_eq!(e.sqlstate(), "23503", "{e}");
        assert_eq!(count(&mut s, "SELECT count(*) FROM p"), 2);
        assert_eq!(count(&mut s, "SELECT count(*) FROM c"), 2);
        // Inside a block, ROLLBACK undoes a cascade.
        ok(&mut s, "BEGIN");
        ok(&mut s, "DELETE FROM p WHERE id = 2");
        assert_eq!(count(&mut s, "SELECT count(*) FROM c"), 1);
        ok(&mut s, "ROLLBACK");
        assert_eq!(count(&mut s, "SELECT count(*) FROM c"), 2);
        ok(&mut s, "DELETE FROM p WHERE id = 2");
    }
    // What a cascade deleted stays deleted after a restart, and the action
    // is still declared.
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    assert_eq!(rows(&mut s, "SELECT id FROM c"), vec![vec![i(10)]]);
    ok(&mut s, "DELETE FROM g");
    ok(&mut s, "DELETE FROM p WHERE id = 1");
    assert_eq!(count(&mut s, "SELECT count(*) FROM c"), 0);
}

#[test]
fn self_referencing_cascade_deletes_a_subtree() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    ok(
        &mut s,
        "CREATE TABLE tree (id INT PRIMARY KEY, parent INT REFERENCES tree (id) ON DELETE CASCADE)",
    );
    // One row per statement: a row's parent must be stored before it.
    for row in [
        "(1, NULL)",
        "(2, 1)",
        "(3, 1)",
        "(4, 2)",
        "(5, 4)",
        "(6, NULL)",
    ] {
        ok(&mut s, &format!("INSERT INTO tree VALUES {row}"));
    }
    ok(&mut s, "DELETE FROM tree WHERE id = 2");
    assert_eq!(
        rows(&mut s, "SELECT id FROM tree ORDER BY id"),
        vec![vec![i(1)], vec![i(3)], vec![i(6)]]
    );
    ok(&mut s, "DELETE FROM tree WHERE id = 1");
    assert_eq!(rows(&mut s, "SELECT id FROM tree"), vec![vec![i(6)]]);
}

#[test]
fn alter_table_adds_a_foreign_key_with_an_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = engine(dir.path());
    let shared = SqlShared::new();
    let mut s = Session::new(&db, &shared);
    ok(&mut s, "CREATE TABLE p (id INT PRIMARY KEY)");
    ok(&mut s, "CREATE TABLE c (id INT PRIMARY KEY, pid INT)");
    ok(&mut s, "INSERT INTO p VALUES (1)");
    ok(&mut s, "INSERT INTO c VALUES (1, 1)");
    ok(
        &mut s,
        "ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (pid) REFERENCES p (id) ON DELETE SET NULL",
    );
    ok(&mut s, "DELETE FROM p");
    assert_eq!(
        rows(&mut s, "SELECT id, pid FROM c"),
        vec![vec![i(1), Value::Null]]
    );
    ok(&mut s, "ALTER TABLE c DROP CONSTRAINT c_p");
    let e = err(
        &mut s,
        "ALTER TABLE c ADD FOREIGN KEY (pid) REFERENCES p (id) ON UPDATE SET NULL",
    );
    assert_eq!(e.sqlstate(), "0A000", "{e}");
}

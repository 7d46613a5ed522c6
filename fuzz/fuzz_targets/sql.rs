//! Fuzz target `sql`: SQL text from a logged-in client is untrusted.
//! `execute_sql` must answer every input of up to [`MAX_INPUT`] bytes with
//! `Ok` or `Err` — a statement too deep to walk is refused before any
//! recursive pass (`heliosdb_sql::limits`), a psql name pattern compiles
//! to a linear-time matcher — and never panic, abort or overflow its stack.
//!
//! Each input runs, as the server runs a session, on a thread with the
//! SQL layer's `STACK_SIZE` (which keeps a fourfold margin over the
//! deepest shapes the limits allow, enough for AddressSanitizer's larger
//! frames), against a fresh in-memory engine holding one small table, so
//! inputs do not affect each other. A panic is a failure here (an
//! embedded caller would see it), unlike the `pg_message` target, whose
//! decoder panics the server contains.
//!
//! Links RocksDB (feature `sql`), so `cargo xtask fuzz` runs it only with
//! `--all`, like `config`.

#![no_main]

use heliosdb_core::{Config, StorageEngine};
use heliosdb_sql::SqlExt;
use libfuzzer_sys::fuzz_target;

/// Inputs past this are skipped: length adds nothing the limits do not
/// already bound, and keeps each run short.
const MAX_INPUT: usize = 16 * 1024;

fn run(sql: String) {
    let engine = StorageEngine::open_in_memory(&Config::in_memory())
        .expect("an in-memory engine opens");
    engine
        .execute_sql("CREATE TABLE t (id INT PRIMARY KEY, name TEXT, n BIGINT)")
        .expect("the seed table is created");
    engine
        .execute_sql("INSERT INTO t VALUES (1, 'a', 10), (2, 'b', NULL), (3, NULL, -5)")
        .expect("the seed rows are inserted");
    let _ = engine.execute_sql(&sql);
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let sql = sql.to_owned();
    std::thread::Builder::new()
        .stack_size(heliosdb_sql::limits::STACK_SIZE)
        .spawn(move || run(sql))
        .expect("the session thread starts")
        .join()
        .expect("execute_sql does not panic");
});

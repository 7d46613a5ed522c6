//! Fuzz target `dump`: a dump is untrusted input to `import`, and the
//! names and values a SQL user chose are untrusted input to `export`.
//!
//! The first byte picks the mode:
//!
//! - even: the rest is a dump. `import_sql` (with `continue_on_error`,
//!   the most permissive path) must answer `Ok` or `Err`, never panic or
//!   overflow its stack (nesting and operator chains are refused from the
//!   tokens, `heliosdb_core::MAX_NESTING` / `MAX_CHAIN`), and create no
//!   server user (no key under `SERVER_KV_PREFIX`) without a role hook.
//! - odd: the rest, split at `0xff` bytes, gives a table name, a column
//!   name, a text value, a bytes value and a key-value pair. They are
//!   stored, exported and imported into a fresh engine, which must hold
//!   exactly the same table, row and pair: the round trip is exact and
//!   nothing in a name or value forges a directive or a statement.
//!
//! Runs on a thread with 2 MiB of stack, a default thread's, so a deep
//! recursion shows as a crash here before it could in a caller.
//! Links RocksDB (feature `config`), so `cargo xtask fuzz` runs it only
//! with `--all`, like `config` and `sql`.

#![no_main]

use heliosdb_core::{
    import_sql, Column, Config, DataType, Schema, StorageEngine, Tuple, Value, SERVER_KV_PREFIX,
};
use libfuzzer_sys::fuzz_target;

/// Inputs past this are skipped: the size limits are tested directly
/// (`import_refuses_deep_and_huge_input_with_a_clear_error`).
const MAX_INPUT: usize = 64 * 1024;

fn engine() -> StorageEngine {
    StorageEngine::open_in_memory(&Config::in_memory()).expect("an in-memory engine opens")
}

fn no_server_keys(e: &StorageEngine) {
    assert!(
        e.scan_prefix(SERVER_KV_PREFIX)
            .expect("the key-value store scans")
            .is_empty(),
        "a dump created a server record"
    );
}

fn import_bytes(dump: &[u8]) {
    let dst = engine();
    let _ = import_sql(&dst, dump, true, |_| {});
    no_server_keys(&dst);
}

fn round_trip(parts: &[&[u8]]) {
    let text =
        |i: usize| String::from_utf8_lossy(parts.get(i).copied().unwrap_or(b"")).into_owned();
    let (table, column) = (text(0), text(1));
    // The engine's own rules (empty or duplicate names, …) may refuse
    // these; only what it accepts must round-trip.
    if table.is_empty() || column.is_empty() || column == "id" {
        return;
    }
    let src = engine();
    let schema = Schema::new(vec![
        Column::new("id", DataType::Int4).primary_key(),
        Column::new(column.as_str(), DataType::Text),
        Column::new("b", DataType::Bytes),
    ]);
    if src.catalog().create_table(&table, schema).is_err() {
        return;
    }
    let row = Tuple::new(vec![
        Value::Int4(1),
        Value::String(text(2)),
        Value::Bytes(parts.get(3).copied().unwrap_or(b"").to_vec()),
    ]);
    src.insert_tuple(&table, row)
        .expect("a row of a new table inserts");
    let key = parts.get(4).copied().unwrap_or(b"k");
    let value = parts.get(5).copied().unwrap_or(b"v");
    let key_stored =
        !key.is_empty() && !key.starts_with(SERVER_KV_PREFIX) && src.put(key, value).is_ok();

    let mut dump = Vec::new();
    src.export_sql(&mut dump, |_| {}).expect("export succeeds");
    let dst = engine();
    let stats = import_sql(&dst, &dump[..], false, |_| {}).expect("an export imports");
    assert!(stats.skipped.is_empty());
    assert_eq!(
        dst.catalog().list_tables().expect("tables list"),
        vec![table.clone()]
    );
    assert_eq!(
        dst.scan_table(&table).expect("the table scans"),
        src.scan_table(&table).expect("the table scans")
    );
    let schema = dst
        .catalog()
        .get_table_schema(&table)
        .expect("the schema reads");
    assert_eq!(schema.columns[1].name, column);
    if key_stored {
        assert_eq!(dst.get(key).expect("the pair reads"), Some(value.to_vec()));
    }
    assert_eq!(
        dst.scan_prefix(&[]).expect("pairs scan").len(),
        src.scan_prefix(&[]).expect("pairs scan").len(),
        "a pair was forged or lost"
    );
    no_server_keys(&dst);
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let rest = rest.to_vec();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            if mode % 2 == 0 {
                import_bytes(&rest);
            } else {
                let parts: Vec<&[u8]> = rest.split(|&b| b == 0xff).collect();
                round_trip(&parts);
            }
        })
        .expect("the thread starts")
        .join()
        .expect("import and export do not panic");
});

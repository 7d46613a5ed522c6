//! Generated hostile SQL through `execute_sql`, on every test run: the
//! stable-toolchain companion of the cargo-fuzz target `fuzz/fuzz_targets/sql.rs`
//! (which needs nightly, absent on the CI machines). Thousands of inputs —
//! deep nesting, long operator chains, regex and LIKE patterns full of
//! wildcards, and random byte-level mutations of everyday statements, each
//! at most 16 KiB like the fuzz target's — must each be answered with `Ok`
//! or `Err`, on a thread with the server's session stack, never a panic,
//! abort or stack overflow; and the session must still answer afterwards.

use heliosdb_core::{Config, StorageEngine};
use heliosdb_sql::limits::STACK_SIZE;
use heliosdb_sql::SqlExt;

const MAX_INPUT: usize = 16 * 1024;

/// Deterministic pseudo-random numbers (xorshift64*), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const SEEDS: &[&str] = &[
    "SELECT * FROM t WHERE id = 1",
    "SELECT id, name FROM t WHERE id BETWEEN 1 AND 3 ORDER BY id DESC LIMIT 2",
    "UPDATE t SET n = n + 1 WHERE id = 2",
    "DELETE FROM t WHERE id > 2 AND name LIKE 'a%'",
    "INSERT INTO t VALUES (9, 'x', 1)",
    "SELECT count(*), sum(n) FROM t GROUP BY name HAVING count(*) > 0",
    "SELECT a.id FROM t a JOIN t b ON a.id = b.id WHERE a.n IS NOT NULL",
    "SELECT * FROM t WHERE id IN (SELECT id FROM t WHERE n < 0)",
    "SELECT CASE WHEN n > 0 THEN 'p' ELSE 'n' END FROM t",
    "SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$'",
    "CREATE TABLE u (k TEXT PRIMARY KEY, v BYTEA)",
    "BEGIN; UPDATE t SET name = 'z' WHERE id = 1; ROLLBACK",
    "SELECT name || 'x', lower(name), length(name) FROM t WHERE name ILIKE '%A%'",
    "SELECT CAST(n AS TEXT), -n, n % 3, n / 2 FROM t",
];

const ATOMS: &[&str] = &[
    "1",
    "-1",
    "id",
    "n",
    "name",
    "NULL",
    "'a'",
    "''",
    "t.id",
    "9223372036854775807",
    "1.5e308",
    "TRUE",
    "x'00'",
    "$1",
];
const OPS: &[&str] = &[
    "+", "-", "*", "/", "%", "||", "=", "<>", "<", ">=", "AND", "OR", "LIKE", "~",
];
const NOISE: &[&str] = &[
    "(",
    ")",
    "'",
    "\"",
    ";",
    ",",
    "--",
    "/*",
    "*/",
    "%",
    "_",
    ".*",
    "\\",
    " ",
    "\n",
    "é",
    "\u{0}",
    "SELECT",
    "FROM",
    "WHERE",
    "(SELECT 1)",
    "OPERATOR(pg_catalog.~)",
    "::TEXT",
    "[1]",
];

fn expression(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.below(4) == 0 {
        return rng.pick(ATOMS).to_string();
    }
    match rng.below(5) {
        0 => format!("({})", expression(rng, depth - 1)),
        1 => format!("NOT {}", expression(rng, depth - 1)),
        2 => format!("abs({})", expression(rng, depth - 1)),
        _ => format!(
            "{} {} {}",
            expression(rng, depth - 1),
            rng.pick(OPS),
            expression(rng, depth - 1)
        ),
    }
}

/// One generated input.
fn input(rng: &mut Rng) -> String {
    match rng.below(7) {
        // Deep nesting, past the depth limit or just under it.
        0 => {
            let d = rng.below(400);
            format!("SELECT {}1{}", "(".repeat(d), ")".repeat(d))
        }
        // Long operator chains (the stack overflow of item 1).
        1 => {
            let terms = 1 + rng.below(MAX_INPUT / 3);
            let op = rng.pick(&["+", "*", "||", " AND ", " OR "]);
            format!("SELECT {}", vec!["1"; terms].join(op))
        }
        // Regex and LIKE patterns full of wildcards (backtracking).
        2 => {
            let k = rng.below(60);
            let pat = if rng.below(2) == 0 {
                ".*".repeat(k) + "x"
            } else {
                "%_".repeat(k) + "x"
            };
            let op = if pat.starts_with('.') { "~" } else { "LIKE" };
            format!("SELECT * FROM t WHERE name {op} '{}'", "a".repeat(k) + &pat)
        }
        // Random expressions in every clause.
        3 => format!(
            "SELECT {} FROM t WHERE {} ORDER BY {}",
            expression(rng, 6),
            expression(rng, 8),
            expression(rng, 3)
        ),
        4 => format!(
            "UPDATE t SET n = {} WHERE id = {}",
            expression(rng, 5),
            expression(rng, 3)
        ),
        // Byte-level mutations of everyday statements.
        _ => {
            let mut s = rng.pick(SEEDS).to_string();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(s.len() + 1);
                let at = (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
                match rng.below(3) {
                    0 => s.insert_str(at, rng.pick(NOISE)),
                    1 => {
                        let end = (at + 1 + rng.below(6)).min(s.len());
                        let end = (end..=s.len()).find(|i| s.is_char_boundary(*i)).unwrap();
                        s.replace_range(at..end, "");
                    }
                    _ => {
                        let piece = s[at..].chars().take(1 + rng.below(12)).collect::<String>();
                        s.insert_str(at, &piece.repeat(1 + rng.below(40)));
                    }
                }
            }
            s
        }
    }
}

#[test]
fn generated_hostile_statements_never_panic_or_overflow() {
    let cases: usize = std::env::var("HELIOSDB_GENERATED_SQL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let handle = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let engine = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
            engine
                .execute_sql("CREATE TABLE t (id INT PRIMARY KEY, name TEXT, n BIGINT)")
                .unwrap();
            engine
                .execute_sql("INSERT INTO t VALUES (1, 'a', 10), (2, 'b', NULL), (3, NULL, -5)")
                .unwrap();
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            let (mut ok, mut err) = (0, 0);
            for case in 0..cases {
                let mut sql = input(&mut rng);
                if sql.len() > MAX_INPUT {
                    let cut = (0..=MAX_INPUT)
                        .rev()
                        .find(|i| sql.is_char_boundary(*i))
                        .unwrap();
                    sql.truncate(cut);
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    engine.execute_sql(&sql)
                }));
                match r {
                    Ok(Ok(_)) => ok += 1,
                    Ok(Err(_)) => err += 1,
                    Err(_) => panic!("case {case} panicked: {sql:?}"),
                }
                // Rows may change; the table itself must stay usable.
                if case % 100 == 99 {
                    let _ = engine.execute_sql("ROLLBACK");
                    engine
                        .execute_sql("SELECT count(*) FROM t")
                        .unwrap_or_else(|e| panic!("after case {case} the session fails: {e}"));
                }
            }
            (ok, err)
        })
        .unwrap();
    let (ok, err) = handle.join().expect("no panic, no abort");
    println!("{cases} generated statements: {ok} answered, {err} refused with an error");
    assert_eq!(ok + err, cases);
    assert!(
        ok > cases / 20,
        "the generator must reach execution, not only the parser ({ok})"
    );
    assert!(err > cases / 20, "and produce errors too ({err})");
}

//! SQL conformance against a real PostgreSQL: every case under
//! `tests/conformance/*.sql` runs on a throwaway PostgreSQL cluster and on
//! our server side by side, and each checked statement's answer is compared.
//!
//! # Case files
//!
//! One file per area. `== name` opens a case; the statements before the
//! case's `----` line are its setup (they must succeed on PostgreSQL and are
//! not counted), the statements after it are checked. A statement ends with
//! a line whose last character is `;`, so one line may hold several
//! statements sent as one query string. Lines starting with `--` outside a
//! statement are comments.
//!
//! # Verdicts
//!
//! Both sides answer through the simple query protocol, so every value is
//! the text the server sent. A checked statement is
//! - **pass**: both succeed with the same column names, the same command
//!   counts and the same rows (in order when the statement has a top-level
//!   `ORDER BY`, as multisets otherwise), or both fail with the same SQLSTATE
//!   class (its first two characters);
//! - **refused**: PostgreSQL succeeds and we fail;
//! - **sqlstate**: both fail, with different SQLSTATE classes;
//! - **wrong**: we succeed with a different answer, or we succeed where
//!   PostgreSQL fails — the silently wrong answers, which fail this test;
//! - **blocked**: not a pass after an earlier statement of the same case
//!   (setup or checked) was refused or wrong, so the two databases no longer
//!   hold the same data; it counts against the pass rate and is not called
//!   wrong, since the divergence was already reported where it began.
//!
//! Nothing is normalised: values, column names and counts must be equal as
//! text. The cluster is made deterministic instead: `initdb --locale=C`
//! (text sorts by bytes on every machine) and `TimeZone=UTC`.
//!
//! Each case starts from nothing: on PostgreSQL the `public` schema is
//! dropped and recreated, on our side a new server over a new database is
//! started; each side gets a new connection per case.
//!
//! The test prints a table per area, the pass rate and every case that did
//! not pass; it fails when any answer is wrong. Without PostgreSQL's server
//! binaries it fails and says how to install them, unless
//! `HELIOSDB_SKIP_PG=1`.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Postgres, TestServer};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// Long enough for any statement here on a loaded 2-core machine; a hang
/// becomes a refusal instead of stalling the suite.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

struct Stmt {
    sql: String,
    line: usize,
}

struct Case {
    area: String,
    name: String,
    setup: Vec<Stmt>,
    checks: Vec<Stmt>,
}

/// Parses one case file; a malformed file is a bug in the suite and panics.
fn parse_cases(area: &str, text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut in_checks = false;
    let mut buf = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if buf.is_empty() {
            if let Some(name) = line.strip_prefix("== ") {
                cases.push(Case {
                    area: area.to_string(),
                    name: name.trim().to_string(),
                    setup: Vec::new(),
                    checks: Vec::new(),
                });
                in_checks = false;
                continue;
            }
            if line == "----" {
                assert!(!cases.is_empty(), "{area}.sql:{n}: `----` outside a case");
                in_checks = true;
                continue;
            }
            if line.is_empty() || line.starts_with("--") {
                continue;
            }
            start = n;
        }
        if !buf.is_empty() {
            buf.push('\n');
        }
        buf.push_str(raw);
        if line.ends_with(';') {
            let case = cases
                .last_mut()
                .unwrap_or_else(|| panic!("{area}.sql:{start}: statement outside a case"));
            let stmt = Stmt {
                sql: std::mem::take(&mut buf).trim().to_string(),
                line: start,
            };
            if in_checks {
                case.checks.push(stmt);
            } else {
                case.setup.push(stmt);
            }
        }
    }
    assert!(buf.is_empty(), "{area}.sql:{start}: statement without `;`");
    for c in &cases {
        assert!(
            !c.checks.is_empty(),
            "{area}.sql: case `{}` has no checked statement (missing `----`?)",
            c.name
        );
    }
    cases
}

/// One result of a query string: the columns (None for a command without
/// rows), the rows as text and the count of the command tag.
#[derive(Debug, Clone, PartialEq)]
struct ResultSet {
    columns: Option<Vec<String>>,
    rows: Vec<Vec<Option<String>>>,
    count: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Ok(Vec<ResultSet>),
    Err { code: String, message: String },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        match self {
            Outcome::Err { code, message } => {
                let _ = write!(s, "ERROR {code}: {message}");
            }
            Outcome::Ok(sets) => {
                for (i, set) in sets.iter().enumerate() {
                    if i > 0 {
                        s.push_str(" ; ");
                    }
                    match &set.columns {
                        None => {
                            let _ = write!(s, "OK {}", set.count);
                        }
                        Some(cols) => {
                            let _ = write!(s, "[{}]", cols.join(", "));
                            for row in &set.rows {
                                let vals: Vec<&str> =
                                    row.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect();
                                let _ = write!(s, " ({})", vals.join(", "));
                            }
                            if set.rows.is_empty() {
                                s.push_str(" (no rows)");
                            }
                        }
                    }
                }
            }
        }
        // One line per answer in the report, bounded.
        let mut s = s.replace('\n', "\\n");
        if s.chars().count() > 400 {
            s = s.chars().take(400).collect::<String>() + " …";
        }
        f.write_str(&s)
    }
}

/// One side of the comparison; after a timeout its connection is not used
/// again (the late answer would be taken for the next statement's).
struct Side {
    client: Client,
    hung: bool,
}

impl Side {
    async fn run(&mut self, sql: &str) -> Outcome {
        if self.hung {
            return Outcome::Err {
                code: "-----".into(),
                message: "not sent: the connection timed out earlier".into(),
            };
        }
        let answer =
            match tokio::time::timeout(STATEMENT_TIMEOUT, self.client.simple_query(sql)).await {
                Ok(a) => a,
                Err(_) => {
                    self.hung = true;
                    return Outcome::Err {
                        code: "-----".into(),
                        message: format!("no answer within {STATEMENT_TIMEOUT:?}"),
                    };
                }
            };
        let messages = match answer {
            Ok(m) => m,
            Err(e) => {
                return match e.as_db_error() {
                    Some(db) => Outcome::Err {
                        code: db.code().code().to_string(),
                        message: db.message().to_string(),
                    },
                    None => Outcome::Err {
                        code: "-----".into(),
                        message: e.to_string(),
                    },
                }
            }
        };
        let mut sets = Vec::new();
        let mut current: Option<ResultSet> = None;
        for m in messages {
            match m {
                SimpleQueryMessage::RowDescription(cols) => {
                    current = Some(ResultSet {
                        columns: Some(cols.iter().map(|c| c.name().to_string()).collect()),
                        rows: Vec::new(),
                        count: 0,
                    });
                }
                SimpleQueryMessage::Row(row) => {
                    let set = current.get_or_insert_with(|| ResultSet {
                        columns: Some(row.columns().iter().map(|c| c.name().to_string()).collect()),
                        rows: Vec::new(),
                        count: 0,
                    });
                    set.rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect(),
                    );
                }
                SimpleQueryMessage::CommandComplete(n) => {
                    let mut set = current.take().unwrap_or(ResultSet {
                        columns: None,
                        rows: Vec::new(),
                        count: 0,
                    });
                    set.count = n;
                    sets.push(set);
                }
                _ => {}
            }
        }
        if let Some(set) = current {
            sets.push(set);
        }
        Outcome::Ok(sets)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Pass,
    Refused,
    Sqlstate,
    Blocked,
    Wrong,
}

/// True when `ORDER BY` appears outside parentheses and quotes, i.e. orders
/// the statement's result rather than a window, an aggregate or a subquery.
fn has_top_level_order_by(sql: &str) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut top = String::new();
    for c in sql.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                continue;
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    top.push(' ');
                    continue;
                }
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        top.push(if depth == 0 && c != ')' { c } else { ' ' });
    }
    let words: Vec<String> = top
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    words.windows(2).any(|w| w[0] == "order" && w[1] == "by")
}

/// The verdict for one checked statement, before divergence is taken into
/// account, and what differed.
fn classify(sql: &str, theirs: &Outcome, ours: &Outcome) -> (Verdict, &'static str) {
    match (theirs, ours) {
        (Outcome::Err { code: a, .. }, Outcome::Err { code: b, .. }) => {
            if a.get(..2) == b.get(..2) {
                (Verdict::Pass, "")
            } else {
                (Verdict::Sqlstate, "different SQLSTATE class")
            }
        }
        (Outcome::Ok(_), Outcome::Err { .. }) => (Verdict::Refused, "refused"),
        (Outcome::Err { .. }, Outcome::Ok(_)) => {
            (Verdict::Wrong, "succeeded where PostgreSQL fails")
        }
        (Outcome::Ok(a), Outcome::Ok(b)) => {
            if a.len() != b.len() {
                return (Verdict::Wrong, "different number of results");
            }
            // A FETCH answers in its cursor's order (each cursor query in
            // the cases orders its rows).
            let ordered = has_top_level_order_by(sql)
                || sql.trim_start().to_ascii_uppercase().starts_with("FETCH");
            for (x, y) in a.iter().zip(b) {
                if x.columns.is_some() != y.columns.is_some() {
                    return (Verdict::Wrong, "rows where a command was expected, or none");
                }
                if x.columns != y.columns {
                    return (Verdict::Wrong, "column names differ");
                }
                let (mut rx, mut ry) = (x.rows.clone(), y.rows.clone());
                if !ordered {
                    rx.sort();
                    ry.sort();
                }
                if rx != ry {
                    return (Verdict::Wrong, "rows differ");
                }
                if x.count != y.count {
                    return (Verdict::Wrong, "command count differs");
                }
            }
            (Verdict::Pass, "")
        }
    }
}

struct Record {
    area: String,
    case: String,
    line: usize,
    sql: String,
    verdict: Verdict,
    detail: String,
    theirs: Outcome,
    ours: Outcome,
}

async fn connect(conn_str: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match tokio_postgres::connect(conn_str, NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                return client;
            }
            Err(e) if Instant::now() > deadline => panic!("cannot connect to PostgreSQL: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn run_case(pg: &Postgres, admin: &Client, case: &Case, out: &mut Vec<Record>) {
    admin
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        .await
        .expect("resetting PostgreSQL's public schema");
    let server = TestServer::start(true, None).await;
    let mut theirs = Side {
        client: connect(&pg.conn_str("postgres")).await,
        hung: false,
    };
    let mut ours = Side {
        client: server.client().await,
        hung: false,
    };
    // Where the two databases stopped holding the same data, if they did.
    let mut diverged: Option<String> = None;
    for s in &case.setup {
        let t = theirs.run(&s.sql).await;
        if let Outcome::Err { .. } = t {
            panic!(
                "{}.sql:{} (case `{}`): setup fails on PostgreSQL: {t}",
                case.area, s.line, case.name
            );
        }
        let o = ours.run(&s.sql).await;
        if diverged.is_none() && matches!(o, Outcome::Err { .. }) {
            diverged = Some(format!("setup line {} refused: {o}", s.line));
        }
    }
    for s in &case.checks {
        let t = theirs.run(&s.sql).await;
        let o = ours.run(&s.sql).await;
        let (mut verdict, what) = classify(&s.sql, &t, &o);
        let mut detail = what.to_string();
        if verdict != Verdict::Pass {
            if let Some(d) = &diverged {
                verdict = Verdict::Blocked;
                detail = format!("after {d}");
            } else if matches!(verdict, Verdict::Refused | Verdict::Wrong) {
                diverged = Some(format!("line {}", s.line));
            }
        }
        out.push(Record {
            area: case.area.clone(),
            case: case.name.clone(),
            line: s.line,
            sql: s.sql.clone(),
            verdict,
            detail,
            theirs: t,
            ours: o,
        });
    }
    // Ends any transaction the case left open, so the next reset of the
    // schema does not wait for its locks.
    let _ = theirs.run("ROLLBACK").await;
    drop(theirs);
    drop(ours);
    server.stop().await;
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/conformance")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let area = f.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&f).unwrap();
        cases.extend(parse_cases(&area, &text));
    }
    cases
}

fn report(version: &str, cases: usize, records: &[Record], elapsed: Duration) -> String {
    let mut s = String::new();
    let mut areas: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    let mut total = [0usize; 6];
    for r in records {
        let slot = match r.verdict {
            Verdict::Pass => 1,
            Verdict::Refused => 2,
            Verdict::Blocked => 3,
            Verdict::Sqlstate => 4,
            Verdict::Wrong => 5,
        };
        for counts in [areas.entry(r.area.as_str()).or_default(), &mut total] {
            counts[0] += 1;
            counts[slot] += 1;
        }
    }
    let rate = |c: &[usize; 6]| 100.0 * c[1] as f64 / c[0].max(1) as f64;
    let _ = writeln!(
        s,
        "\nSQL conformance against PostgreSQL {version}: {} checked statements in {cases} cases ({:.1} s)\n",
        total[0],
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "{:<14} {:>7} {:>6} {:>8} {:>8} {:>9} {:>6} {:>8}",
        "area", "checked", "pass", "refused", "blocked", "sqlstate", "wrong", "pass %"
    );
    let row = |s: &mut String, name: &str, c: &[usize; 6]| {
        let _ = writeln!(
            s,
            "{name:<14} {:>7} {:>6} {:>8} {:>8} {:>9} {:>6} {:>7.1}%",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c[5],
            rate(c)
        );
    };
    for (area, c) in &areas {
        row(&mut s, area, c);
    }
    row(&mut s, "total", &total);
    let _ = writeln!(
        s,
        "\nPASS RATE: {:.1}% ({} of {})",
        rate(&total),
        total[1],
        total[0]
    );
    let sections = [
        (
            Verdict::Wrong,
            "WRONG: we answer differently from PostgreSQL",
        ),
        (Verdict::Refused, "REFUSED: PostgreSQL answers, we fail"),
        (
            Verdict::Sqlstate,
            "SQLSTATE: both fail, with different SQLSTATE classes",
        ),
        (
            Verdict::Blocked,
            "BLOCKED: differs after an earlier refusal or wrong answer in the case",
        ),
    ];
    for (verdict, title) in sections {
        let list: Vec<_> = records.iter().filter(|r| r.verdict == verdict).collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{title} ({})", list.len());
        for r in list {
            let _ = writeln!(
                s,
                "- {}.sql:{} [{}] {}\n    {}\n    ours:       {}\n    PostgreSQL: {}",
                r.area,
                r.line,
                r.case,
                r.detail,
                r.sql.replace('\n', " "),
                r.ours,
                r.theirs
            );
        }
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_against_postgres() {
    let cases = load_cases();
    if Postgres::bin().is_none() {
        if std::env::var("HELIOSDB_SKIP_PG").is_ok_and(|v| v == "1") {
            println!("conformance: skipped, HELIOSDB_SKIP_PG=1 and no PostgreSQL installed");
            return;
        }
        panic!(
            "the SQL conformance suite compares with a real PostgreSQL and found no \
             server binaries under /usr/lib/postgresql/*/bin: install them with \
             `apt-get install postgresql` (`./dev test` does this), or set \
             HELIOSDB_SKIP_PG=1 to skip this test knowingly"
        );
    }
    let pg = Postgres::start(
        &["--locale=C", "--encoding=UTF8"],
        // A throwaway cluster: durability settings off for speed.
        &[
            "TimeZone=UTC",
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
        ],
    )
    .unwrap_or_else(|e| panic!("cannot start PostgreSQL for the conformance suite: {e}"));
    let admin = connect(&pg.conn_str("postgres")).await;
    let version = admin
        .simple_query("SHOW server_version")
        .await
        .ok()
        .and_then(|m| {
            m.into_iter().find_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
        })
        .unwrap_or_default();
    let start = Instant::now();
    let mut records = Vec::new();
    for case in &cases {
        run_case(&pg, &admin, case, &mut records).await;
    }
    println!(
        "{}",
        report(&version, cases.len(), &records, start.elapsed())
    );
    // Known wrong answers (tests/conformance/known_wrong.txt, with their
    // causes) may only disappear: a new one fails, and so does a listed one
    // that is now right (take it off the list).
    let known_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/known_wrong.txt"),
    )
    .expect("tests/conformance/known_wrong.txt");
    let known: Vec<&str> = known_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let wrong: Vec<String> = records
        .iter()
        .filter(|r| r.verdict == Verdict::Wrong)
        .map(|r| format!("{}:{}", r.area, r.line))
        .collect();
    let new_wrong: Vec<&String> = wrong
        .iter()
        .filter(|w| !known.contains(&w.as_str()))
        .collect();
    let now_right: Vec<&&str> = known
        .iter()
        .filter(|k| !wrong.iter().any(|w| w == *k))
        .collect();
    println!("wrong: {} ({} known)", wrong.len(), known.len());
    assert!(
        new_wrong.is_empty(),
        "answered differently from PostgreSQL and not in known_wrong.txt (see WRONG above): {new_wrong:?}"
    );
    assert!(
        now_right.is_empty(),
        "no longer wrong, remove from known_wrong.txt: {now_right:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_inside_parentheses_does_not_count() {
        assert!(has_top_level_order_by("SELECT a FROM t ORDER BY a"));
        assert!(has_top_level_order_by(
            "SELECT a FROM t UNION SELECT b FROM u\norder  by 1"
        ));
        assert!(!has_top_level_order_by(
            "SELECT row_number() OVER (ORDER BY a) FROM t"
        ));
        assert!(!has_top_level_order_by("SELECT 'order by' FROM t"));
        assert!(!has_top_level_order_by(
            "SELECT string_agg(s, ',' ORDER BY s) FROM t"
        ));
    }

    #[test]
    fn case_files_parse() {
        let cases = parse_cases(
            "x",
            "-- comment\n== one\nCREATE TABLE t (a INT);\n----\nSELECT a\n  FROM t;\nSELECT 1; SELECT 2;\n",
        );
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].setup.len(), 1);
        assert_eq!(cases[0].checks.len(), 2);
        assert_eq!(cases[0].checks[0].line, 5);
        assert_eq!(cases[0].checks[1].sql, "SELECT 1; SELECT 2;");
    }
}

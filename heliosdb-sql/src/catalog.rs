//! Just enough `pg_catalog` for `psql`: the catalog queries psql 15 sends
//! for `\dt` and `\d table` are recognised by their shape and answered from
//! the SQL layer's table definitions. Any other query on `pg_catalog` or
//! `information_schema` gets an empty result rather than an error, so
//! psql's optional footers (policies, publications, …) print nothing.

use std::collections::BTreeMap;

use heliosdb_core::{DataType, Value};
use regex::{Regex, RegexBuilder};

use crate::convert::pg_type_name;
use crate::session::Session;
use crate::store::{TableInfo, ROWID};
use crate::{limits, ColumnInfo, QueryResult, Result, SqlError};

/// `'^(pattern)$'` after `OPERATOR(pg_catalog.~)`, if present.
fn name_pattern(sql: &str) -> Option<String> {
    let at = sql.find("OPERATOR(pg_catalog.~)")?;
    let rest = &sql[at..];
    let start = rest.find('\'')? + 1;
    let end = start + rest[start..].find('\'')?;
    Some(rest[start..end].to_string())
}

/// Largest compiled automaton a name pattern may need (psql's are tiny).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// psql's name pattern as a matcher. psql has already translated the
/// user's `\dt pat*` into a regular expression (`^(pat.*)$`: `*` to `.*`,
/// `?` to `.`, other characters escaped or passed on as regex syntax), so
/// it is compiled as one, by the `regex` crate: matching takes time linear
/// in the name (a finite automaton, no backtracking, so `.*` repeated
/// cannot explode), and a pattern whose automaton would pass
/// [`PATTERN_SIZE_LIMIT`] is refused as PostgreSQL refuses it.
fn name_matcher(pattern: &str) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => {
                SqlError::Pattern("regular expression is too complex".into())
            }
            // The syntax error quotes the whole pattern; keep its last line
            // (what is wrong), not a copy of a possibly huge input.
            other => {
                let text = other.to_string();
                let why = text.lines().last().unwrap_or_default().trim();
                SqlError::Pattern(why.trim_start_matches("error: ").to_string())
            }
        })
}

/// The table names `pattern` matches (all without one), in order; stops at
/// the statement's deadline.
fn matching<'t>(
    names: impl Iterator<Item = &'t String>,
    pattern: Option<&str>,
) -> Result<Vec<&'t String>> {
    let matcher = pattern.map(name_matcher).transpose()?;
    let mut out = Vec::new();
    for n in names {
        limits::check_deadline()?;
        if matcher.as_ref().is_none_or(|m| m.is_match(n)) {
            out.push(n);
        }
    }
    Ok(out)
}

/// The `c.oid = '…'` a psql query asks about (the first occurrence of
/// `marker` followed by `= 'digits'`).
fn oid_in(sql: &str, marker: &str) -> Option<u32> {
    sql.match_indices(marker).find_map(|(at, _)| {
        let rest = sql[at + marker.len()..].trim_start();
        let rest = rest.strip_prefix('=')?.trim_start().strip_prefix('\'')?;
        let end = rest.find(|c: char| !c.is_ascii_digit())?;
        rest[..end].parse().ok()
    })
}

fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

fn flag(b: bool) -> Value {
    text(if b { "t" } else { "f" })
}

fn rows(names: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
    QueryResult::Rows {
        columns: names
            .iter()
            .map(|n| ColumnInfo {
                name: (*n).to_string(),
                data_type: DataType::Text,
                array_of: None,
                json: None,
            })
            .collect(),
        tag: format!("SELECT {}", rows.len()),
        rows,
    }
}

fn format_type(info: &TableInfo, name: &str, t: DataType) -> String {
    match info.meta.varchar.iter().find(|(c, _)| c == name) {
        Some((_, n)) => format!("character varying({n})"),
        None => pg_type_name(t).to_string(),
    }
}

/// Answers a catalog query, or `None` when `sql` is not one.
/// Whether `sql` is a single query that reads a `pg_catalog` or
/// `information_schema` relation, judged on the parsed statement: a string
/// literal that mentions one, or a catalog query after another statement
/// (`DELETE …; SELECT … FROM pg_catalog.…`), does not make the text a
/// catalog query, so it runs (and is audited) like any other. Text that
/// does not parse counts only when it is one statement (no `;` inside).
fn queries_catalog(sql: &str) -> bool {
    use std::ops::ControlFlow;

    use gluesql_core::sqlparser::ast::{visit_relations, Statement};
    match limits::parse(sql) {
        Ok(stmts) => match stmts.as_slice() {
            [stmt @ Statement::Query(_)] => {
                let mut found = false;
                let _ = visit_relations(stmt, |name| {
                    let first = name.0.first().map(|i| i.value.to_ascii_lowercase());
                    if matches!(first.as_deref(), Some("pg_catalog" | "information_schema"))
                        && name.0.len() > 1
                    {
                        found = true;
                        return ControlFlow::Break(());
                    }
                    ControlFlow::Continue(())
                });
                found
            }
            _ => false,
        },
        // psql sends some shapes sqlparser does not take; those are single
        // statements.
        Err(_) => !sql.trim().trim_end_matches(';').contains(';'),
    }
}

pub(crate) fn answer(session: &Session<'_>, sql: &str) -> Result<Option<QueryResult>> {
    let lower = sql.to_ascii_lowercase();
    let names_catalog = [
        "from pg_catalog.",
        "join pg_catalog.",
        ", pg_catalog.pg_",
        "information_schema.",
    ]
    .iter()
    .any(|m| lower.contains(m));
    if !names_catalog || !queries_catalog(sql) {
        return Ok(None);
    }
    let tables = session.tables()?;
    let user = session.user().to_string();
    let views = crate::objects::views(session.engine())?;
    let sequences = crate::objects::sequence_infos(session.engine(), &tables)?;
    // Every relation: name and relkind.
    let mut relations: BTreeMap<String, &'static str> = BTreeMap::new();
    relations.extend(tables.keys().map(|n| (n.clone(), "r")));
    relations.extend(views.iter().map(|v| (v.name.clone(), "v")));
    relations.extend(sequences.iter().map(|q| (q.def.name.clone(), "S")));

    // \dt, \dv, \ds, \d [pattern]: the relations of the kinds asked for
    if sql.contains("pg_catalog.pg_class c")
        && sql.contains("as \"Schema\"")
        && sql.contains("as \"Name\"")
        && sql.contains("as \"Type\"")
    {
        let kinds = match relkinds(sql) {
            k if k.is_empty() => vec!["r"],
            k => k,
        };
        let pattern = name_pattern(sql);
        let out = matching(relations.keys(), pattern.as_deref())?
            .into_iter()
            .filter(|n| kinds.contains(&relations[*n]))
            .map(|n| {
                let kind = match relations[n] {
                    "v" => "view",
                    "S" => "sequence",
                    _ => "table",
                };
                vec![
                    text("public"),
                    text(n.clone()),
                    text(kind),
                    text(user.clone()),
                ]
            })
            .collect();
        return Ok(Some(rows(&["Schema", "Name", "Type", "Owner"], out)));
    }

    // \d pattern: which relations match
    if lower.trim_start().starts_with("select c.oid,")
        && sql.contains("n.nspname")
        && sql.contains("pg_catalog.pg_class c")
    {
        let pattern = name_pattern(sql);
        let out = matching(relations.keys(), pattern.as_deref())?
            .into_iter()
            .map(|n| {
                vec![
                    text(crate::system::oid_of(n).to_string()),
                    text("public"),
                    text(n.clone()),
                ]
            })
            .collect();
        return Ok(Some(rows(&["oid", "nspname", "relname"], out)));
    }

    let by_oid = |marker: &str| {
        oid_in(sql, marker).and_then(|oid| {
            tables
                .iter()
                .find(|(n, _)| crate::system::oid_of(n) == i64::from(oid))
                .map(|(n, t)| (n.clone(), t.clone()))
        })
    };

    let other_kind = |marker: &str| {
        oid_in(sql, marker).and_then(|oid| {
            relations
                .iter()
                .find(|(n, k)| **k != "r" && crate::system::oid_of(n) == i64::from(oid))
                .map(|(n, k)| (n.clone(), *k))
        })
    };

    // \d: the relation's properties. A table with a foreign key, or one
    // that a foreign key references, has triggers in PostgreSQL (which
    // implements foreign keys with them): psql then asks for its
    // foreign-key footers below.
    let foreign_keys = crate::system::foreign_keys(&tables);
    if sql.contains("c.relchecks") {
        let (kind, has_index, has_triggers) = match by_oid("c.oid") {
            Some((name, info)) => (
                "r",
                !info.hidden_rowid || !info.meta.schema.indexes.is_empty(),
                foreign_keys
                    .iter()
                    .any(|f| f.table == name || f.referenced == name),
            ),
            None => match other_kind("c.oid") {
                Some((_, k)) => (k, false, false),
                None => return Ok(Some(rows(&["relchecks"], Vec::new()))),
            },
        };
        let names = [
            "relchecks",
            "relkind",
            "relhasindex",
            "relhasrules",
            "relhastriggers",
            "relrowsecurity",
            "relforcerowsecurity",
            "relhasoids",
            "relispartition",
            "reloptions",
            "reltablespace",
            "reloftype",
            "relpersistence",
            "relreplident",
            "amname",
        ];
        let row = vec![
            text("0"),
            text(kind),
            flag(has_index),
            flag(false),
            flag(has_triggers),
            flag(false),
            flag(false),
            flag(false),
            flag(false),
            text(""),
            text("0"),
            text(""),
            text("p"),
            text("d"),
            text("heap"),
        ];
        return Ok(Some(rows(&names, vec![row])));
    }

    // \d: the table's foreign keys ("Foreign-key constraints:")
    if sql.contains("as sametable") && sql.contains("r.contype = 'f'") {
        let mut own: Vec<&crate::system::ForeignKey> = match by_oid("r.conrelid") {
            Some((name, _)) => foreign_keys.iter().filter(|f| f.table == name).collect(),
            None => Vec::new(),
        };
        own.sort_by(|a, b| a.name.cmp(&b.name));
        let out = own
            .into_iter()
            .map(|f| {
                vec![
                    flag(true),
                    text(f.name.clone()),
                    text(f.def.clone()),
                    text(f.table.clone()),
                ]
            })
            .collect();
        return Ok(Some(rows(
            &["sametable", "conname", "condef", "ontable"],
            out,
        )));
    }

    // \d: the foreign keys that reference the table ("Referenced by:")
    if sql.contains("confrelid IN (SELECT pg_catalog.pg_partition_ancestors('") {
        let referenced = sql
            .split("pg_partition_ancestors('")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .and_then(|oid| oid.parse::<i64>().ok())
            .and_then(|oid| {
                tables
                    .keys()
                    .find(|n| crate::system::oid_of(n) == oid)
                    .cloned()
            });
        let mut out: Vec<&crate::system::ForeignKey> = foreign_keys
            .iter()
            .filter(|f| Some(&f.referenced) == referenced.as_ref())
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        let out = out
            .into_iter()
            .map(|f| {
                vec![
                    text(f.name.clone()),
                    text(f.table.clone()),
                    text(f.def.clone()),
                ]
            })
            .collect();
        return Ok(Some(rows(&["conname", "ontable", "condef"], out)));
    }

    // \d: the columns
    if sql.contains("FROM pg_catalog.pg_attribute a") && sql.contains("a.attname") {
        let found = by_oid("a.attrelid");
        let view = match (&found, other_kind("a.attrelid")) {
            (None, Some((n, "v"))) => views.iter().find(|v| v.name == n),
            _ => None,
        };
        if let Some(v) = view {
            let mut names = vec![
                "attname",
                "format_type",
                "default",
                "attnotnull",
                "attcollation",
                "attidentity",
                "attgenerated",
            ];
            let extras: Vec<&str> = [
                ("a.attstorage", "attstorage"),
                ("attcompression", "attcompression"),
                ("attstattarget", "attstattarget"),
                ("col_description", "description"),
            ]
            .into_iter()
            .filter(|(m, _)| sql.contains(m))
            .map(|(_, n)| n)
            .collect();
            names.extend(extras.iter());
            let out = v
                .columns
                .iter()
                .map(|(c, t)| {
                    let mut row = vec![
                        text(c.clone()),
                        text(pg_type_name(*t)),
                        Value::Null,
                        flag(false),
                        Value::Null,
                        text(""),
                        text(""),
                    ];
                    for n in &extras {
                        row.push(match *n {
                            "attstorage" => text(match t {
                                DataType::Text | DataType::Bytes | DataType::Numeric => "x",
                                _ => "p",
                            }),
                            "attcompression" => text(""),
                            "attstattarget" => text("-1"),
                            _ => Value::Null,
                        });
                    }
                    row
                })
                .collect();
            return Ok(Some(rows(&names, out)));
        }
        let Some((name, info)) = found else {
            return Ok(Some(rows(&["attname"], Vec::new())));
        };
        let mut names = vec![
            "attname",
            "format_type",
            "default",
            "attnotnull",
            "attcollation",
            "attidentity",
            "attgenerated",
        ];
        let extras: Vec<(&str, &str)> = [
            ("a.attstorage", "attstorage"),
            ("attcompression", "attcompression"),
            ("attstattarget", "attstattarget"),
            ("col_description", "description"),
        ]
        .into_iter()
        .filter(|(m, _)| sql.contains(m))
        .collect();
        names.extend(extras.iter().map(|(_, n)| *n));
        let out = info
            .columns()
            .filter(|c| c.name != ROWID)
            .map(|c| {
                let seq_default = info
                    .meta
                    .seq_defaults
                    .iter()
                    .find(|(col, _)| *col == c.name);
                let default = if let Some((_, seq)) = seq_default {
                    text(format!("nextval('{seq}'::regclass)"))
                } else if info.meta.serial.contains(&c.name) {
                    text(format!("nextval('{name}_{}_seq'::regclass)", c.name))
                } else {
                    Value::Null
                };
                let mut row = vec![
                    text(c.name.clone()),
                    text(format_type(&info, &c.name, c.data_type)),
                    default,
                    flag(!c.nullable),
                    Value::Null,
                    text(""),
                    text(""),
                ];
                for (_, n) in &extras {
                    row.push(match *n {
                        "attstorage" => text(match c.data_type {
                            DataType::Text | DataType::Bytes | DataType::Numeric => "x",
                            _ => "p",
                        }),
                        "attcompression" => text(""),
                        "attstattarget" => text("-1"),
                        _ => Value::Null,
                    });
                }
                row
            })
            .collect();
        return Ok(Some(rows(&names, out)));
    }

    // \d: indexes
    if sql.contains("pg_catalog.pg_index i") && sql.contains("indisprimary") {
        let names = [
            "relname",
            "indisprimary",
            "indisunique",
            "indisclustered",
            "indisvalid",
            "pg_get_indexdef",
            "pg_get_constraintdef",
            "contype",
            "condeferrable",
            "condeferred",
            "indisreplident",
            "reltablespace",
        ];
        let Some((name, info)) = by_oid("c.oid") else {
            return Ok(Some(rows(&names, Vec::new())));
        };
        // Primary key first, then by name (psql's ORDER BY indisprimary
        // DESC, c2.relname).
        let mut out: Vec<(bool, String, Vec<Value>)> = Vec::new();
        for (cname, primary, cols) in crate::system::key_constraints(&name, &info) {
            if cols.iter().any(|c| c == crate::store::ROWID) {
                continue;
            }
            let cols = cols.join(", ");
            let (what, code) = if primary {
                ("PRIMARY KEY", "p")
            } else {
                ("UNIQUE", "u")
            };
            out.push((
                primary,
                cname.clone(),
                vec![
                    text(cname.clone()),
                    flag(primary),
                    flag(true),
                    flag(false),
                    flag(true),
                    text(format!(
                        "CREATE UNIQUE INDEX {cname} ON public.{name} USING btree ({cols})"
                    )),
                    text(format!("{what} ({cols})")),
                    text(code),
                    flag(false),
                    flag(false),
                    flag(false),
                    text("0"),
                ],
            ));
        }
        for i in &info.meta.schema.indexes {
            let col = match &i.expr {
                gluesql_core::ast::Expr::Identifier(c) => c.clone(),
                other => format!("{other:?}"),
            };
            // CREATE UNIQUE INDEX: unique, and no constraint.
            let unique = info.meta.unique_names.iter().any(|(n, _)| *n == i.name);
            out.push((
                false,
                i.name.clone(),
                vec![
                    text(i.name.clone()),
                    flag(false),
                    flag(unique),
                    flag(false),
                    flag(true),
                    text(format!(
                        "CREATE {}INDEX {} ON public.{name} USING btree ({col})",
                        if unique { "UNIQUE " } else { "" },
                        i.name
                    )),
                    Value::Null,
                    Value::Null,
                    flag(false),
                    flag(false),
                    flag(false),
                    text("0"),
                ],
            ));
        }
        out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let out = out.into_iter().map(|(_, _, row)| row).collect();
        return Ok(Some(rows(&names, out)));
    }

    // psql's footers read catalogs of features this engine does not have
    // (row security policies, publications, triggers, rules, inheritance,
    // extended statistics): there is nothing of them to report, and their
    // queries use functions the executor lacks. Every other catalog query
    // runs for real against the relations of `crate::system`.
    // A query that also uses LATERAL (pgbench's partitioning probe) is not
    // one of psql's footers: it runs for real and is refused (0A000), which
    // its client handles, instead of answering no rows.
    if ABSENT_FEATURES.iter().any(|r| lower.contains(r)) && !lower.contains(" lateral ") {
        return Ok(Some(QueryResult::Rows {
            columns: Vec::new(),
            rows: Vec::new(),
            tag: "SELECT 0".into(),
        }));
    }
    Ok(None)
}

/// Catalogs of features the engine does not have (always empty).
const ABSENT_FEATURES: &[&str] = &[
    "pg_catalog.pg_policy",
    "pg_catalog.pg_publication",
    "pg_catalog.pg_statistic_ext",
    // psql's parent/child footers (casts to regclass the executor lacks);
    // other readers of pg_inherits (SQLAlchemy's table options) run for
    // real against the empty relation.
    "pg_catalog.pg_class c, pg_catalog.pg_inherits i",
    "pg_catalog.pg_trigger",
    "pg_catalog.pg_rewrite",
    "pg_catalog.pg_partitioned_table",
    "pg_catalog.pg_foreign_table",
    "pg_catalog.pg_subscription",
    "pg_catalog.pg_event_trigger",
    "pg_catalog.pg_depend",
];

/// The relkinds a psql listing asks for (`c.relkind IN ('r','p','')`);
/// empty when it names none.
fn relkinds(sql: &str) -> Vec<&'static str> {
    let Some(at) = sql.find("c.relkind IN (") else {
        return Vec::new();
    };
    let rest = &sql[at + "c.relkind IN (".len()..];
    let list = &rest[..rest.find(')').unwrap_or(rest.len())];
    ["r", "v", "S"]
        .into_iter()
        .filter(|k| list.contains(&format!("'{k}'")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        let names = [name.to_string()];
        !matching(names.iter(), Some(pattern)).unwrap().is_empty()
    }

    #[test]
    fn psql_patterns() {
        assert!(matches("^(patients)$", "patients"));
        assert!(!matches("^(patients)$", "patient"));
        assert!(matches("^(pat.*)$", "patients"));
        assert!(matches("^(pat.ents)$", "patients"));
        // psql passes character classes and alternation through.
        assert!(matches("^(t[0-9])$", "t7"));
        assert!(matches("^(a|patients)$", "patients"));
        assert!(!matches("^(t[0-9])$", "tx"));
        // Escaped characters are literal.
        assert!(matches("^(a\\$b)$", "a$b"));
        assert!(!matches("^(a\\.b)$", "axb"));
        assert_eq!(
            name_pattern("WHERE c.relname OPERATOR(pg_catalog.~) '^(patients)$' COLLATE"),
            Some("^(patients)$".to_string())
        );
        assert_eq!(oid_in("WHERE c.oid = '16385';", "c.oid"), Some(16385));
        assert_eq!(
            oid_in("ON (c.reltoastrelid = tc.oid) WHERE c.oid = '7';", "c.oid"),
            Some(7)
        );
    }

    /// The old backtracking matcher took 9.9 s of CPU for 9 `.*` against a
    /// name it does not match, and overflowed the stack on 300,000 of them.
    /// (No timing assertion: run exponentially, this test would not end.)
    #[test]
    fn many_wildcards_match_in_linear_time() {
        let name = "a_table_name_that_does_not_match_the_pattern".to_string();
        let p30 = format!("^({}z)$", ".*".repeat(30));
        assert!(!matches(&p30, &name));
        assert!(matches(&format!("^({}n)$", ".*".repeat(30)), &name));
        let p300k = format!("^({}z)$", ".*".repeat(300_000));
        let names = [name];
        let err = matching(names.iter(), Some(&p300k)).unwrap_err();
        assert!(matches!(err, SqlError::Pattern(_)), "{err}");
        assert_eq!(
            err.to_string(),
            "invalid regular expression: regular expression is too complex"
        );
        let err = matching(names.iter(), Some("^(a[)$")).unwrap_err();
        assert!(matches!(err, SqlError::Pattern(_)), "{err}");
        assert!(err.to_string().len() < 200, "{err}");
    }
}

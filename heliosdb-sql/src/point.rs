//! The point query, answered without the general pipeline:
//!
//! ```sql
//! SELECT a, b AS x, * FROM t [AS alias] WHERE pk = 42     -- or pk = $1
//! ```
//!
//! one table, plain columns, and a WHERE that is exactly an equality of the
//! table's (single, integer) primary key with a number or a parameter. It
//! is the statement OLTP clients send most (pgbench's read-only script is
//! nothing else), and the general path spends most of its time on what
//! such a statement does not have: a dozen rewrite passes over the syntax
//! tree, GlueSQL's translation and planning, a range scan for one key.
//! Here it is one primary-key read (in the session's transaction, so it is
//! recorded for the commit-time check like any read), projected.
//!
//! Anything else — another shape, a column of a type whose values the
//! general path reshapes (`char(n)`, `json`, arrays), a view, a catalog
//! relation, an identifier in capitals or quotes, a key literal of another
//! type — returns `None` and takes the general path, which answers it as
//! before. The answers are the same by construction, and the conformance
//! and surface tests run both paths on the same statements.

use gluesql_core::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, TableWithJoins, Value as SqlValue, WildcardAdditionalOptions,
};
use heliosdb_core::{DataType, StorageEngine, Value};

use crate::store::TableInfo;
use crate::{ColumnInfo, QueryResult, Result};

/// A lower-case, unquoted identifier (the parser has folded unquoted ones
/// to lower case; a quoted one takes the general path).
fn plain(i: &Ident) -> Option<&str> {
    (i.quote_style.is_none() && !i.value.bytes().any(|b| b.is_ascii_uppercase()))
        .then_some(i.value.as_str())
}

/// The table a point query reads, the name it is referred to by in the
/// query, and the parts the caller checks further.
struct Shape<'q> {
    table: &'q str,
    alias: Option<&'q str>,
    projection: &'q [SelectItem],
    selection: &'q Expr,
}

/// A plain table reference of a FROM or an UPDATE: the table's name and
/// its alias (without column aliases), both lower-case and unquoted.
fn table_ref(relation: &TableFactor) -> Option<(&str, Option<&str>)> {
    let TableFactor::Table {
        name,
        alias,
        args: None,
        with_hints,
        version: None,
        with_ordinality: false,
        partitions,
    } = relation
    else {
        return None;
    };
    if !with_hints.is_empty() || !partitions.is_empty() {
        return None;
    }
    let table = match name.0.as_slice() {
        [t] => plain(t)?,
        [schema, t] if plain(schema)? == "public" => plain(t)?,
        _ => return None,
    };
    let alias = match alias {
        None => None,
        Some(a) if a.columns.is_empty() => Some(plain(&a.name)?),
        Some(_) => return None,
    };
    Some((table, alias))
}

fn shape(q: &Query) -> Option<Shape<'_>> {
    let Query {
        with: None,
        body,
        order_by: None,
        limit: None,
        limit_by,
        offset: None,
        fetch: None,
        locks,
        for_clause: None,
        settings: None,
        format_clause: None,
    } = q
    else {
        return None;
    };
    if !limit_by.is_empty() || !locks.is_empty() {
        return None;
    }
    let SetExpr::Select(s) = body.as_ref() else {
        return None;
    };
    let Select {
        distinct: None,
        top: None,
        top_before_distinct: _,
        projection,
        into: None,
        from,
        lateral_views,
        prewhere: None,
        selection: Some(selection),
        group_by: GroupByExpr::Expressions(group, modifiers),
        cluster_by,
        distribute_by,
        sort_by,
        having: None,
        named_window,
        qualify: None,
        window_before_qualify: _,
        value_table_mode: None,
        connect_by: None,
    } = s.as_ref()
    else {
        return None;
    };
    if !(lateral_views.is_empty()
        && group.is_empty()
        && modifiers.is_empty()
        && cluster_by.is_empty()
        && distribute_by.is_empty()
        && sort_by.is_empty()
        && named_window.is_empty())
    {
        return None;
    }
    let [TableWithJoins { relation, joins }] = from.as_slice() else {
        return None;
    };
    if !joins.is_empty() {
        return None;
    }
    let (table, alias) = table_ref(relation)?;
    Some(Shape {
        table,
        alias,
        projection,
        selection,
    })
}

/// Types whose stored values are what the general path answers, unchanged.
fn plain_type(t: DataType) -> bool {
    matches!(
        t,
        DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Bool | DataType::Text
    )
}

/// A column reference of the query's one table: its position.
fn column(info: &TableInfo, shape: &Shape<'_>, e: &Expr) -> Option<usize> {
    let name = match e {
        Expr::Identifier(c) => plain(c)?,
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [t, c] if Some(plain(t)?) == shape.alias.or(Some(shape.table)) => plain(c)?,
            _ => return None,
        },
        _ => return None,
    };
    info.columns().position(|c| c.name == name)
}

/// The key value of `pk = <integer constant>`, as the key's type.
fn key_value(e: &Expr, t: DataType, params: &[Value]) -> Option<Value> {
    int_value(int_constant(e, params)?, t)
}

/// The table of `shape` and the key its `WHERE` names: the table has a
/// single integer primary key (no hidden row id) and the whole condition
/// is that key `=` an integer constant, either way round.
fn keyed_row<'t>(
    tables: &'t std::collections::BTreeMap<String, std::sync::Arc<TableInfo>>,
    shape: &Shape<'_>,
    params: &[Value],
) -> Option<(&'t std::sync::Arc<TableInfo>, Value)> {
    let info = tables.get(shape.table)?;
    if info.hidden_rowid {
        return None;
    }
    let pk = info.engine.primary_key_index()?;
    let pk_type = info.engine.columns[pk].data_type;
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = shape.selection
    else {
        return None;
    };
    let key = match (column(info, shape, left), column(info, shape, right)) {
        (Some(c), None) if c == pk => key_value(right, pk_type, params),
        (None, Some(c)) if c == pk => key_value(left, pk_type, params),
        _ => None,
    }?;
    Some((info, key))
}

/// A point query, ready to run: the row of `key` in `table`, its columns
/// `out` as (label, position, type).
#[derive(Debug, PartialEq)]
struct Point<'q> {
    table: &'q str,
    key: Value,
    out: Vec<(String, usize, DataType)>,
}

fn plan<'q>(
    tables: &std::collections::BTreeMap<String, std::sync::Arc<TableInfo>>,
    q: &'q Query,
    params: &[Value],
) -> Option<Point<'q>> {
    let shape = shape(q)?;
    let (info, key) = keyed_row(tables, &shape, params)?;
    let mut out: Vec<(String, usize)> = Vec::new();
    for item in shape.projection {
        match item {
            SelectItem::UnnamedExpr(e) => {
                let i = column(info, &shape, e)?;
                out.push((info.engine.columns[i].name.clone(), i));
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                out.push((plain(alias)?.to_string(), column(info, &shape, expr)?));
            }
            SelectItem::Wildcard(opts) if *opts == WildcardAdditionalOptions::default() => {
                out.extend(info.columns().enumerate().map(|(i, c)| (c.name.clone(), i)));
            }
            _ => return None,
        }
    }
    let out = out
        .into_iter()
        .map(|(label, i)| {
            let c = &info.engine.columns[i];
            let usable = plain_type(c.data_type)
                && info.column_json(&c.name).is_none()
                && !info
                    .meta
                    .bpchar
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(&c.name));
            usable.then_some((label, i, c.data_type))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Point {
        table: shape.table,
        key,
        out,
    })
}

/// Whether the text of `sql` can be a point query, checked before it is
/// parsed: a `SELECT` of at most 1 KiB without parentheses (so a caller
/// may parse it on a thread with an ordinary stack: nothing in it nests).
pub fn candidate(sql: &str) -> bool {
    let t = sql.trim_start();
    sql.len() <= 1024
        && t.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("select"))
        && !sql.contains('(')
}

thread_local! {
    /// Parses of point-query candidates, per thread, by their text with its
    /// integer literals made parameters (see [`auto_parameters`]); `None`
    /// for a text that is not one query. A client sends the same statement
    /// with another key each time (pgbench's read-only script does nothing
    /// else), and parsing it cost more than reading the row. Parsing is pure,
    /// so an entry is right for every session and schema; the map is emptied
    /// when it reaches [`PARSED_MAX`] texts.
    static PARSED: std::cell::RefCell<std::collections::HashMap<String, Option<Statement>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// How many texts [`PARSED`] holds at most.
const PARSED_MAX: usize = 256;

/// `sql` with each integer literal replaced by a parameter numbered after
/// the `first` the statement already has, and the literals' values in
/// order; `None` (the text is parsed as written) for any text holding
/// something else than words, `$n` parameters, integers, white space and
/// `, . * = ;` — so no string, quoted identifier, comment, sign or other
/// number, whose meaning a replacement could change.
fn auto_parameters(sql: &str, first: usize) -> Option<(String, Vec<i64>)> {
    use std::fmt::Write as _;
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut literals = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let starts_number = c.is_ascii_digit() && (i == 0 || !(word(b[i - 1]) || b[i - 1] == b'.'));
        if starts_number {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i < b.len() && (word(b[i]) || b[i] == b'.') {
                return None;
            }
            literals.push(sql[start..i].parse::<i64>().ok()?);
            let _ = write!(out, "${}", first + literals.len());
            continue;
        }
        if !(word(c)
            || matches!(
                c,
                b' ' | b'\t' | b'\r' | b'\n' | b',' | b'.' | b'*' | b'=' | b';'
            ))
        {
            return None;
        }
        out.push(char::from(c));
        i += 1;
    }
    Some((out, literals))
}

/// The one statement of point-query candidate `sql` and the parameters to
/// run it with: parsed once per text (see [`PARSED`]) with its integer
/// literals as parameters after `params`, or, for a text
/// [`auto_parameters`] leaves alone, parsed as written with `params`.
/// `None` when `sql` is not one statement that parses.
pub(crate) fn parsed(
    sql: &str,
    params: &[Value],
    parse: impl FnOnce(&str) -> Option<Vec<Statement>>,
) -> Option<(Statement, Vec<Value>)> {
    let one = |stmts: Vec<Statement>| <[Statement; 1]>::try_from(stmts).ok().map(|[s]| s);
    let Some((text, literals)) = auto_parameters(sql, params.len()) else {
        return Some((one(parse(sql)?)?, params.to_vec()));
    };
    let stmt = PARSED.with(|parsed| {
        if let Some(hit) = parsed.borrow().get(&text) {
            return hit.clone();
        }
        let stmt = parse(&text).and_then(one);
        let mut parsed = parsed.borrow_mut();
        if parsed.len() >= PARSED_MAX {
            parsed.clear();
        }
        parsed.insert(text, stmt.clone());
        stmt
    })?;
    let mut all = params.to_vec();
    all.extend(literals.into_iter().map(Value::Int8));
    Some((stmt, all))
}

/// Whether `q` is a point query (see the module).
pub(crate) fn is_point(
    tables: &std::collections::BTreeMap<String, std::sync::Arc<TableInfo>>,
    q: &Query,
    params: &[Value],
) -> bool {
    plan(tables, q, params).is_some()
}

/// Answers `q` when it is a point query (see the module); `Ok(None)` sends
/// it down the general path.
pub(crate) fn answer(
    engine: &StorageEngine,
    tables: &std::collections::BTreeMap<String, std::sync::Arc<TableInfo>>,
    q: &Query,
    params: &[Value],
) -> Result<Option<QueryResult>> {
    let Some(point) = plan(tables, q, params) else {
        return Ok(None);
    };
    crate::limits::check_deadline()?;
    let row = engine.get_by_pk(point.table, &point.key)?;
    let columns = point
        .out
        .iter()
        .map(|(name, _, t)| ColumnInfo::new(name.clone(), *t))
        .collect();
    let rows: Vec<Vec<Value>> = row
        .into_iter()
        .map(|t| {
            point
                .out
                .iter()
                .map(|&(_, i, _)| t.values[i].clone())
                .collect()
        })
        .collect();
    Ok(Some(QueryResult::Rows {
        columns,
        tag: format!("SELECT {}", rows.len()),
        rows,
    }))
}

/// An integer constant of an UPDATE: a number, a negated number, or an
/// integer parameter.
fn int_constant(e: &Expr, params: &[Value]) -> Option<i64> {
    match e {
        Expr::Value(SqlValue::Number(n, false)) => n.to_string().parse().ok(),
        Expr::UnaryOp {
            op: gluesql_core::sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(SqlValue::Number(n, false)) => {
                n.to_string().parse::<i64>().ok()?.checked_neg()
            }
            _ => None,
        },
        Expr::Value(SqlValue::Placeholder(p)) => {
            let i: usize = p.strip_prefix('$')?.parse().ok()?;
            match params.get(i.checked_sub(1)?)? {
                Value::Int2(v) => Some(i64::from(*v)),
                Value::Int4(v) => Some(i64::from(*v)),
                Value::Int8(v) => Some(*v),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `n` as a value of integer type `t`, when it fits.
fn int_value(n: i64, t: DataType) -> Option<Value> {
    Some(match t {
        DataType::Int2 => Value::Int2(i16::try_from(n).ok()?),
        DataType::Int4 => Value::Int4(i32::try_from(n).ok()?),
        DataType::Int8 => Value::Int8(n),
        _ => return None,
    })
}

/// What one assignment of a point UPDATE does to its column.
#[derive(Debug, PartialEq)]
enum Assign {
    /// `c = c + n` (`c - n` is `+ -n`).
    Add(i64),
    /// `c = n`.
    Set(i64),
}

/// A point UPDATE, ready to run: the row of `key`, and per assigned
/// column its position and what it gets.
#[derive(Debug)]
struct PointUpdate<'q, 't> {
    table: &'q str,
    info: &'t std::sync::Arc<TableInfo>,
    key: Value,
    sets: Vec<(usize, Assign)>,
}

/// Whether column `name` of `info` may be assigned here: an integer column
/// that is no part of a key, an index, a foreign key or an identity.
fn assignable(info: &TableInfo, i: usize) -> bool {
    let c = &info.engine.columns[i];
    let name = c.name.as_str();
    let schema = &info.meta.schema;
    let unique = schema
        .column_defs
        .iter()
        .flatten()
        .any(|d| d.name == name && d.unique.is_some());
    let indexed = schema
        .indexes
        .iter()
        .any(|ix| !matches!(&ix.expr, gluesql_core::ast::Expr::Identifier(n) if n != name));
    matches!(
        c.data_type,
        DataType::Int2 | DataType::Int4 | DataType::Int8
    ) && !c.primary_key
        && !unique
        && !indexed
        && !schema
            .foreign_keys
            .iter()
            .any(|f| f.referencing_column_name == name)
        && !info.meta.unique_names.iter().any(|(_, col)| col == name)
        && !info
            .meta
            .composite
            .iter()
            .any(|k| k.columns.iter().any(|col| col == name))
        && !info.meta.identity_always.iter().any(|col| col == name)
}

fn plan_update<'q, 't>(
    tables: &'t std::collections::BTreeMap<String, std::sync::Arc<TableInfo>>,
    stmt: &'q Statement,
    params: &[Value],
) -> Option<PointUpdate<'q, 't>> {
    let Statement::Update {
        table: TableWithJoins { relation, joins },
        assignments,
        from: None,
        selection: Some(selection),
        returning: None,
    } = stmt
    else {
        return None;
    };
    if !joins.is_empty() {
        return None;
    }
    let (table, None) = table_ref(relation)? else {
        return None;
    };
    let shape = Shape {
        table,
        alias: None,
        projection: &[],
        selection,
    };
    let (info, key) = keyed_row(tables, &shape, params)?;
    let mut sets: Vec<(usize, Assign)> = Vec::new();
    for a in assignments {
        let gluesql_core::sqlparser::ast::AssignmentTarget::ColumnName(target) = &a.target else {
            return None;
        };
        let [target] = target.0.as_slice() else {
            return None;
        };
        let i = column(info, &shape, &Expr::Identifier(target.clone()))?;
        if !assignable(info, i) || sets.iter().any(|(j, _)| *j == i) {
            return None;
        }
        let assign = match &a.value {
            Expr::BinaryOp {
                left,
                op: op @ (BinaryOperator::Plus | BinaryOperator::Minus),
                right,
            } if column(info, &shape, left) == Some(i) => {
                let n = int_constant(right, params)?;
                Assign::Add(if *op == BinaryOperator::Minus {
                    n.checked_neg()?
                } else {
                    n
                })
            }
            other => Assign::Set(int_constant(other, params)?),
        };
        sets.push((i, assign));
    }
    if sets.is_empty() {
        return None;
    }
    Some(PointUpdate {
        table,
        info,
        key,
        sets,
    })
}

/// Runs `stmt` when it is a point UPDATE — `UPDATE t SET c = c + n, d = n
/// … WHERE pk = n` of integer columns that no key, index, foreign key or
/// identity involves, without RETURNING — as one locked read and one write
/// (the general path plans it through GlueSQL first); `Ok(None)` for any
/// other statement. It also declines, having written nothing, when the
/// general path would fail: a NULL or overflowing result, a CHECK
/// constraint the new row breaks; that path then reports the error.
pub(crate) fn update(
    engine: &StorageEngine,
    tables: &std::collections::BTreeMap<String, std::sync::Arc<TableInfo>>,
    stmt: &Statement,
    params: &[Value],
) -> Result<Option<QueryResult>> {
    let Some(u) = plan_update(tables, stmt, params) else {
        return Ok(None);
    };
    let info = u.info;
    crate::limits::check_deadline()?;
    let Some(mut row) = engine.get_by_pk_for_update(u.table, &u.key)? else {
        return Ok(Some(QueryResult::Command {
            tag: "UPDATE 0".into(),
            rows: 0,
        }));
    };
    for (i, assign) in &u.sets {
        let t = info.engine.columns[*i].data_type;
        let old = match &row.values[*i] {
            Value::Int2(v) => Some(i64::from(*v)),
            Value::Int4(v) => Some(i64::from(*v)),
            Value::Int8(v) => Some(*v),
            _ => None,
        };
        let new = match assign {
            Assign::Set(n) => Some(*n),
            Assign::Add(n) => old.and_then(|o| o.checked_add(*n)),
        };
        let Some(v) = new.and_then(|n| int_value(n, t)) else {
            return Ok(None);
        };
        row.values[*i] = v;
    }
    if crate::ddl::enforce_checks(info, &row.values).is_err() {
        return Ok(None);
    }
    let n = u64::from(engine.update_tuple(u.table, row)?);
    Ok(Some(QueryResult::Command {
        tag: format!("UPDATE {n}"),
        rows: n,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use heliosdb_core::{Column, Schema};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn tables() -> BTreeMap<String, Arc<TableInfo>> {
        let t = Schema::new(vec![
            Column::new("id", DataType::Int4).primary_key(),
            Column::new("name", DataType::Text),
            Column::new("score", DataType::Float8),
        ]);
        let u = Schema::new(vec![
            Column::new("k", DataType::Int8).primary_key(),
            Column::new("v", DataType::Int2),
        ]);
        let mut m = BTreeMap::new();
        m.insert("t".to_string(), Arc::new(TableInfo::for_tests("t", t)));
        m.insert("u".to_string(), Arc::new(TableInfo::for_tests("u", u)));
        m
    }

    fn planned(sql: &str, params: &[Value]) -> Option<(String, Value, Vec<String>)> {
        let stmts = crate::limits::parse(sql).unwrap();
        let gluesql_core::sqlparser::ast::Statement::Query(q) = &stmts[0] else {
            panic!("{sql} is not a query")
        };
        plan(&tables(), q, params).map(|p| {
            (
                p.table.to_string(),
                p.key,
                p.out.into_iter().map(|(l, ..)| l).collect(),
            )
        })
    }

    #[test]
    fn only_short_selects_without_parentheses_are_candidates() {
        assert!(candidate(
            "SELECT abalance FROM pgbench_accounts WHERE aid = 7;"
        ));
        assert!(candidate("  select * from t where id = $1"));
        assert!(!candidate("SELECT (v) FROM u WHERE k = 1"));
        assert!(!candidate("UPDATE u SET v = 1 WHERE k = 1"));
        assert!(!candidate("sel"));
        assert!(!candidate(&format!(
            "SELECT v FROM u WHERE k = 1 {}",
            " ".repeat(1024)
        )));
    }

    #[test]
    fn point_queries_are_recognised() {
        let p = |t: &str, k: Value, cols: &[&str]| {
            Some((
                t.to_string(),
                k,
                cols.iter().map(|c| c.to_string()).collect(),
            ))
        };
        assert_eq!(
            planned("SELECT v FROM u WHERE k = 42", &[]),
            p("u", Value::Int8(42), &["v"])
        );
        assert_eq!(
            planned("SELECT x.v AS val, k FROM public.u AS x WHERE 7 = x.k", &[]),
            p("u", Value::Int8(7), &["val", "k"])
        );
        assert_eq!(
            planned(
                "SELECT * FROM u WHERE u.k = $2",
                &[Value::Null, Value::Int4(5)]
            ),
            p("u", Value::Int8(5), &["k", "v"])
        );
    }

    #[test]
    fn everything_else_takes_the_general_path() {
        for sql in [
            // Not one equality of the key with a number.
            "SELECT v FROM u WHERE (k = 1)",
            "SELECT v FROM u WHERE k = 1 AND v = 2",
            "SELECT v FROM u WHERE v = 1",
            "SELECT v FROM u WHERE k = '1'",
            "SELECT v FROM u WHERE k = 1.0",
            "SELECT v FROM u WHERE k = NULL",
            "SELECT v FROM u WHERE k = k",
            "SELECT v FROM u WHERE k = $1",
            "SELECT v FROM u",
            // A key out of the column's range.
            "SELECT name FROM t WHERE id = 3000000000",
            // Not plain columns of the one table.
            "SELECT v + 1 FROM u WHERE k = 1",
            "SELECT count(*) FROM u WHERE k = 1",
            "SELECT \"v\" FROM u WHERE k = 1",
            "SELECT w.v FROM u WHERE k = 1",
            "SELECT nope FROM u WHERE k = 1",
            "SELECT v AS \"V\" FROM u WHERE k = 1",
            "SELECT score FROM t WHERE id = 1",
            "SELECT * FROM t WHERE id = 1",
            // Other clauses and relations.
            "SELECT DISTINCT v FROM u WHERE k = 1",
            "SELECT v FROM u WHERE k = 1 ORDER BY v",
            "SELECT v FROM u WHERE k = 1 LIMIT 1",
            "SELECT v FROM u WHERE k = 1 GROUP BY v",
            "SELECT v FROM u WHERE k = 1 FOR UPDATE",
            "WITH c AS (SELECT 1) SELECT v FROM u WHERE k = 1",
            "SELECT v FROM u, t WHERE k = 1",
            "SELECT v FROM u JOIN t ON true WHERE k = 1",
            "SELECT v FROM other.u WHERE k = 1",
            "SELECT v FROM nope WHERE k = 1",
            "SELECT v FROM u AS x(a, b) WHERE k = 1",
            "SELECT v FROM u WHERE k = 1 UNION SELECT 1",
        ] {
            assert_eq!(planned(sql, &[Value::String("1".into())]), None, "{sql}");
        }
    }

    #[test]
    fn integer_literals_become_parameters_and_nothing_else_is_touched() {
        let ap = |sql: &str, first: usize| auto_parameters(sql, first);
        assert_eq!(
            ap("SELECT abalance FROM pgbench_accounts WHERE aid = 7;", 0),
            Some((
                "SELECT abalance FROM pgbench_accounts WHERE aid = $1;".into(),
                vec![7]
            ))
        );
        // Words and parameters keep their digits; numbering follows `first`.
        assert_eq!(
            ap("select c1, t2.x from t2 where k=$1 and v = 0042", 1),
            Some((
                "select c1, t2.x from t2 where k=$1 and v = $2".into(),
                vec![42]
            ))
        );
        assert_eq!(
            ap("SELECT v FROM u", 0),
            Some(("SELECT v FROM u".into(), vec![]))
        );
        for untouched in [
            "SELECT v FROM u WHERE k = '1'",
            "SELECT v FROM u WHERE k = 1.0",
            "SELECT v FROM u WHERE k = 1e3",
            "SELECT v FROM u WHERE k = 0x1F",
            "SELECT v FROM u WHERE k = -1",
            "SELECT v FROM u WHERE k = 1 -- 2",
            "SELECT v FROM u WHERE k = 1 /* 2 */",
            "SELECT \"v\" FROM u WHERE k = 1",
            "SELECT v FROM u WHERE k = 99999999999999999999",
            "SELECT v FROM u WHERE k = 1 AND v < 2",
            "SELECT vé FROM u WHERE k = 1",
        ] {
            assert_eq!(ap(untouched, 0), None, "{untouched}");
        }
    }

    /// A statement read from its auto-parameterised text plans as the
    /// statement as written: the same point, or none.
    #[test]
    fn parameterised_texts_plan_as_written() {
        let sqls = [
            "SELECT v FROM u WHERE k = 42",
            "SELECT x.v AS val, k FROM public.u AS x WHERE 7 = x.k",
            "SELECT name FROM t WHERE id = 3000000000",
            "SELECT name FROM t WHERE id = 12",
            "SELECT v FROM u WHERE k = 1 AND v = 2",
            "SELECT v FROM u WHERE k = 1 LIMIT 1",
            "SELECT 1 FROM u WHERE k = 1",
            "SELECT v FROM u WHERE k = 1 FOR UPDATE",
            "SELECT v FROM u WHERE k = $1",
        ];
        for sql in sqls {
            for params in [
                vec![],
                vec![Value::Int4(3)],
                vec![Value::String("3".into())],
            ] {
                let Some((stmt, all)) = parsed(sql, &params, |t| crate::limits::parse(t).ok())
                else {
                    panic!("{sql} did not parse");
                };
                let Statement::Query(q) = &stmt else {
                    panic!("{sql} is not a query")
                };
                let via = plan(&tables(), q, &all).map(|p| (p.table.to_string(), p.key, p.out));
                let stmts = crate::limits::parse(sql).unwrap();
                let Statement::Query(q) = &stmts[0] else {
                    unreachable!()
                };
                let direct =
                    plan(&tables(), q, &params).map(|p| (p.table.to_string(), p.key, p.out));
                assert_eq!(via, direct, "{sql} with {params:?}");
            }
        }
        // A second text of the same shape is a hit of the first one's parse.
        let hits = |sql: &str| {
            let (text, _) = auto_parameters(sql, 0).unwrap();
            PARSED.with(|p| p.borrow().contains_key(&text))
        };
        assert!(hits("SELECT v FROM u WHERE k = 999"));
        assert!(!hits("SELECT v FROM u WHERE k = 999 AND k = 3"));
        // Not one statement: nothing to answer, also from the cache.
        for _ in 0..2 {
            assert!(parsed("SELECT v FROM u WHERE k = 1; SELECT 2", &[], |t| {
                crate::limits::parse(t).ok()
            })
            .is_none());
        }
    }

    fn planned_update(sql: &str, params: &[Value]) -> Option<Vec<(usize, Assign)>> {
        let stmts = crate::limits::parse(sql).unwrap();
        plan_update(&tables(), &stmts[0], params).map(|u| u.sets)
    }

    #[test]
    fn point_updates_are_recognised_and_nothing_else() {
        assert_eq!(
            planned_update("UPDATE u SET v = v + 1 WHERE k = 3", &[]),
            Some(vec![(1, Assign::Add(1))])
        );
        assert_eq!(
            planned_update(
                "UPDATE public.u SET v = v - 2 WHERE k = $1",
                &[Value::Int8(3)]
            ),
            Some(vec![(1, Assign::Add(-2))])
        );
        assert_eq!(
            planned_update("UPDATE u SET v = -4 WHERE 3 = k", &[]),
            Some(vec![(1, Assign::Set(-4))])
        );
        assert_eq!(
            planned_update("UPDATE u SET v = v + -5 WHERE k = 3", &[]),
            Some(vec![(1, Assign::Add(-5))])
        );
        for sql in [
            "UPDATE u SET v = v + 1 WHERE k = 3 RETURNING v",
            "UPDATE u SET v = v * 2 WHERE k = 3",
            "UPDATE u SET v = 1 + v WHERE k = 3",
            "UPDATE u SET v = v + 1, v = v + 2 WHERE k = 3",
            "UPDATE u SET k = k + 1 WHERE k = 3",
            "UPDATE t SET name = 'x' WHERE id = 1",
            "UPDATE t SET score = 1 WHERE id = 1",
            "UPDATE u SET v = v + 1 WHERE v = 3",
            "UPDATE u SET v = v + 1 WHERE (k = 3)",
            "UPDATE u SET v = v + 1",
            "UPDATE u SET v = 1.5 WHERE k = 1",
            "UPDATE u SET v = NULL WHERE k = 1",
            "UPDATE u SET v = $1 WHERE k = 1",
            "UPDATE u AS x SET v = 1 WHERE k = 1",
            "UPDATE u SET v = v + 1 FROM t WHERE k = 1",
            "UPDATE nope SET v = 1 WHERE k = 1",
        ] {
            assert_eq!(
                planned_update(sql, &[Value::String("1".into())]),
                None,
                "{sql}"
            );
        }
    }
}

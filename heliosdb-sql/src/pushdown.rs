//! Primary-key range push-down: `WHERE pk = c`, `pk > c`, `pk BETWEEN a AND
//! b` (and conjunctions of them) of an `UPDATE`, `DELETE` or single-table
//! `SELECT` become bounds on the first scan of that table, so the storage
//! reads the range instead of the table.
//!
//! Sound by construction: GlueSQL still evaluates the whole `WHERE` on every
//! row the scan returns, so the bounds only have to contain every row the
//! `WHERE` can accept — true of any conjunct of it. The bounds apply to one
//! scan (the statement's own): GlueSQL's later scans of the same table (the
//! UNIQUE check of an UPDATE, a self-referencing foreign key of a DELETE)
//! read everything, as before. Statements with a subquery anywhere get no
//! bounds (a subquery over the same table would scan it first), nor do
//! joins, and only integer and text keys are pushed (their key order is
//! GlueSQL's comparison order exactly).
//!
//! `ORDER BY pk [ASC|DESC] LIMIT n [OFFSET m]` of a single-table `SELECT`
//! also caps that scan at `n + m` rows: the scan returns rows in key order
//! (descending for `DESC`: the engine reads backwards from the top of the
//! range), so those are the first `n + m` rows of the ordered result,
//! provided every row the scan returns is a row of the result. So the cap
//! is only set when the whole `WHERE` (if any) became the bounds, and
//! nothing between the scan and the `LIMIT` can drop, merge or reorder
//! rows: no `DISTINCT`, `GROUP BY`, `HAVING` or aggregate, and no output
//! column that takes the key's name (`ORDER BY` would name it).
//!
//! Without a primary-key bound, comparisons of an integer or text column
//! that has a secondary index (`CREATE INDEX`) become bounds on that index:
//! the scan reads the index entries in the range and the rows they name
//! (returned in key order, as any scan), not the table. This serves
//! `BETWEEN` and `UPDATE`/`DELETE`, which GlueSQL's own index planner does
//! not hand to the index; its planned `SELECT … WHERE col > c` reach
//! [`crate::store`]'s `scan_indexed_data`, which reads the index range too.

use std::ops::Bound;

use gluesql_core::ast::{
    BinaryOperator, Expr, Literal, Projection, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, UnaryOperator,
};
use gluesql_core::data::Value as GValue;
use heliosdb_core::{DataType, Value};

use crate::store::TableInfo;

/// Bounds on the primary key (or on an indexed column) for the first scan
/// of `table`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PkRange {
    pub table: String,
    /// `Some(column)`: the bounds are on this column, which has a secondary
    /// index, and the scan reads that index's range (no primary-key bound
    /// was found). `None`: the bounds are on the primary key.
    pub index_column: Option<String>,
    pub lower: Bound<Value>,
    pub upper: Bound<Value>,
    /// At most this many rows (the first in scan order) are needed.
    pub limit: Option<usize>,
    /// Scan in descending key order (`ORDER BY pk DESC`).
    pub reverse: bool,
}

/// The primary-key range a statement's `WHERE` implies, if any.
/// `info` looks a table up by name.
pub(crate) fn pk_range(
    stmt: &Statement,
    info: impl Fn(&str) -> Option<std::sync::Arc<TableInfo>>,
) -> Option<PkRange> {
    let (table, alias, selection, query) = match stmt {
        Statement::Update {
            table_name,
            selection: Some(sel),
            ..
        }
        | Statement::Delete {
            table_name,
            selection: Some(sel),
        } => (table_name.as_str(), None, Some(sel), None),
        Statement::Query(q @ Query { body, .. }) => match body {
            SetExpr::Select(select) => {
                if !select.from.joins.is_empty() {
                    return None;
                }
                let TableFactor::Table { name, alias } = &select.from.relation else {
                    return None;
                };
                (
                    name.as_str(),
                    alias.as_ref().map(|a| a.name.as_str()),
                    select.selection.as_ref(),
                    Some((q, select.as_ref())),
                )
            }
            SetExpr::Values(_) => return None,
        },
        _ => return None,
    };
    if has_subquery(stmt) {
        return None;
    }
    let info = info(table)?;
    let pk = info.engine.primary_key_index()?;
    let column = &info.engine.columns[pk];
    let kind = kind_of(column.data_type)?;
    let names = Names {
        column: &column.name,
        table,
        alias,
    };
    let conjuncts = selection.map(conjuncts).unwrap_or_default();
    let (range, any, exact) = bounds_on(&conjuncts, &names, kind);
    let limit = match query {
        Some((q, select)) if exact => scan_limit(stmt, q, select, &names),
        _ => None,
    };
    let reverse = query.is_some_and(|(q, _)| match q.order_by.as_slice() {
        [order] => names.is_pk(&order.expr) && order.asc == Some(false),
        _ => false,
    });
    if !any {
        if let Some(r) = index_range(&info, &conjuncts, table, alias) {
            return Some(PkRange { reverse, ..r });
        }
    }
    (any || limit.is_some() || reverse).then(|| PkRange {
        table: table.to_string(),
        index_column: None,
        lower: range.0,
        upper: range.1,
        limit,
        reverse,
    })
}

/// The key kinds whose encoded order is GlueSQL's comparison order.
fn kind_of(t: DataType) -> Option<Kind> {
    match t {
        DataType::Int2 | DataType::Int4 | DataType::Int8 => Some(Kind::Int),
        DataType::Text => Some(Kind::Text),
        _ => None,
    }
}

/// The bounds the conjuncts put on one column; whether any did; whether
/// every conjunct became bounds (the bounds are then the whole `WHERE`).
fn bounds_on(conjuncts: &[&Expr], names: &Names<'_>, kind: Kind) -> (Bounds, bool, bool) {
    let mut range = (Bound::Unbounded, Bound::Unbounded);
    let mut any = false;
    let mut exact = true;
    for conjunct in conjuncts {
        if let Some((lo, hi)) = conjunct_bounds(conjunct, names, kind) {
            range.0 = tighter_lower(range.0, lo);
            range.1 = tighter_upper(range.1, hi);
            any = true;
        } else {
            exact = false;
        }
    }
    (range, any, exact)
}

/// Bounds on the first column with a secondary index (`CREATE INDEX`) that
/// the conjuncts bound: the scan then reads that index's range. No limit:
/// the index returns rows in the column's order, not the key's.
fn index_range(
    info: &TableInfo,
    conjuncts: &[&Expr],
    table: &str,
    alias: Option<&str>,
) -> Option<PkRange> {
    info.meta.schema.indexes.iter().find_map(|index| {
        let Expr::Identifier(name) = &index.expr else {
            return None;
        };
        let column = info.columns().find(|c| &c.name == name)?;
        let names = Names {
            column: &column.name,
            table,
            alias,
        };
        let (range, any, _) = bounds_on(conjuncts, &names, kind_of(column.data_type)?);
        any.then(|| PkRange {
            table: table.to_string(),
            index_column: Some(column.name.clone()),
            lower: range.0,
            upper: range.1,
            limit: None,
            reverse: false,
        })
    })
}

/// The rows an `ORDER BY pk [ASC|DESC] LIMIT n [OFFSET m]` query needs
/// from a scan in that order that returns only rows of its result: `n + m`
/// (see the module docs for when that holds).
fn scan_limit(stmt: &Statement, q: &Query, select: &Select, names: &Names<'_>) -> Option<usize> {
    let [order] = q.order_by.as_slice() else {
        return None;
    };
    if !names.is_pk(&order.expr) {
        return None;
    }
    if select.distinct || !select.group_by.is_empty() || select.having.is_some() {
        return None;
    }
    let Projection::SelectItems(items) = &select.projection;
    let renames_key = items.iter().any(|item| match item {
        SelectItem::Expr { expr, label } => label == names.column && !names.is_pk(expr),
        _ => false,
    });
    if renames_key || has_aggregate(stmt) {
        return None;
    }
    let count = |e: &Option<Expr>| match e {
        None => Some(0usize),
        Some(e) => match constant(e, Kind::Int)? {
            Value::Int8(n) => usize::try_from(n).ok(),
            _ => None,
        },
    };
    let limit = q.limit.as_ref().and(count(&q.limit))?;
    limit.checked_add(count(&q.offset)?)
}

/// Whether an aggregate function occurs anywhere in the statement (read
/// from its serialized form, as [`has_subquery`] does).
fn has_aggregate(stmt: &Statement) -> bool {
    serde_json::to_string(stmt).map_or(true, |text| text.contains("\"Aggregate\""))
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
}

struct Names<'a> {
    column: &'a str,
    table: &'a str,
    alias: Option<&'a str>,
}

impl Names<'_> {
    fn is_pk(&self, e: &Expr) -> bool {
        match e {
            Expr::Identifier(c) => c == self.column,
            Expr::CompoundIdentifier { alias, ident } => {
                ident == self.column && (alias == self.table || Some(alias.as_str()) == self.alias)
            }
            Expr::Nested(e) => self.is_pk(e),
            _ => false,
        }
    }
}

/// Whether any subquery (scalar, `IN (SELECT …)`, `EXISTS`, derived table)
/// occurs anywhere in the statement. Read from its serialized form, so that
/// no expression kind (function arguments, CASE arms, …) can be missed: a
/// false positive only costs the push-down.
fn has_subquery(stmt: &Statement) -> bool {
    let Ok(text) = serde_json::to_string(stmt) else {
        return true;
    };
    [
        "\"Subquery\"",
        "\"InSubquery\"",
        "\"Exists\"",
        "\"Derived\"",
    ]
    .iter()
    .any(|t| text.contains(t))
}

fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        Expr::Nested(inner) => conjuncts(inner),
        e => vec![e],
    }
}

type Bounds = (Bound<Value>, Bound<Value>);

fn conjunct_bounds(e: &Expr, names: &Names<'_>, kind: Kind) -> Option<Bounds> {
    match e {
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } if names.is_pk(expr) => Some((
            Bound::Included(constant(low, kind)?),
            Bound::Included(constant(high, kind)?),
        )),
        Expr::BinaryOp { left, op, right } => {
            // `pk op c`, or `c op pk` read the other way round.
            let (op, c) = if names.is_pk(left) {
                (op.clone(), right)
            } else if names.is_pk(right) {
                (flip(op)?, left)
            } else {
                return None;
            };
            let c = constant(c, kind)?;
            Some(match op {
                BinaryOperator::Eq => (Bound::Included(c.clone()), Bound::Included(c)),
                BinaryOperator::Gt => (Bound::Excluded(c), Bound::Unbounded),
                BinaryOperator::GtEq => (Bound::Included(c), Bound::Unbounded),
                BinaryOperator::Lt => (Bound::Unbounded, Bound::Excluded(c)),
                BinaryOperator::LtEq => (Bound::Unbounded, Bound::Included(c)),
                _ => return None,
            })
        }
        Expr::Nested(inner) => conjunct_bounds(inner, names, kind),
        _ => None,
    }
}

fn flip(op: &BinaryOperator) -> Option<BinaryOperator> {
    Some(match op {
        BinaryOperator::Eq => BinaryOperator::Eq,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        _ => return None,
    })
}

/// A literal (or bound parameter) of the key's kind, exactly; anything
/// else (NULL, a fraction against an integer key, another type) is `None`.
fn constant(e: &Expr, kind: Kind) -> Option<Value> {
    match (e, kind) {
        (Expr::Nested(inner), _) => constant(inner, kind),
        (Expr::Literal(Literal::Number(n)), Kind::Int) => {
            if !n.is_integer() {
                return None;
            }
            n.to_string().parse::<i64>().ok().map(Value::Int8)
        }
        (
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            },
            Kind::Int,
        ) => match constant(expr, kind)? {
            Value::Int8(v) => v.checked_neg().map(Value::Int8),
            _ => None,
        },
        (Expr::Literal(Literal::QuotedString(s)), Kind::Text) => Some(Value::String(s.clone())),
        (Expr::Value(v), Kind::Int) => match v {
            GValue::I8(x) => Some(Value::Int8(i64::from(*x))),
            GValue::I16(x) => Some(Value::Int8(i64::from(*x))),
            GValue::I32(x) => Some(Value::Int8(i64::from(*x))),
            GValue::I64(x) => Some(Value::Int8(*x)),
            GValue::U8(x) => Some(Value::Int8(i64::from(*x))),
            GValue::U16(x) => Some(Value::Int8(i64::from(*x))),
            GValue::U32(x) => Some(Value::Int8(i64::from(*x))),
            _ => None,
        },
        (Expr::Value(GValue::Str(s)), Kind::Text) => Some(Value::String(s.clone())),
        _ => None,
    }
}

fn key_of(v: &Value) -> Vec<u8> {
    let mut k = Vec::new();
    v.encode_ordered(&mut k);
    k
}

pub(crate) fn tighter_lower(a: Bound<Value>, b: Bound<Value>) -> Bound<Value> {
    tighter(a, b, std::cmp::Ordering::Greater)
}

pub(crate) fn tighter_upper(a: Bound<Value>, b: Bound<Value>) -> Bound<Value> {
    tighter(a, b, std::cmp::Ordering::Less)
}

/// The tighter of two bounds on one side: the one whose value lies further
/// in direction `inward` (`Greater` for lower bounds, `Less` for upper);
/// for equal values, the exclusive one.
fn tighter(a: Bound<Value>, b: Bound<Value>, inward: std::cmp::Ordering) -> Bound<Value> {
    let order = match (&a, &b) {
        (Bound::Unbounded, _) => return b,
        (_, Bound::Unbounded) => return a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            key_of(x).cmp(&key_of(y))
        }
    };
    if order == inward || (order.is_eq() && matches!(a, Bound::Excluded(_))) {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_of(sql: &str) -> Option<(Bound<Value>, Bound<Value>)> {
        let stmt = gluesql_core::parse_sql::parse(sql).unwrap().remove(0);
        let stmt = gluesql_core::translate::translate(&stmt).unwrap();
        let schema = heliosdb_core::Schema::new(vec![
            heliosdb_core::Column::new("id", DataType::Int8).primary_key(),
            heliosdb_core::Column::new("v", DataType::Int8),
        ]);
        let info = std::sync::Arc::new(TableInfo::for_tests("t", schema));
        pk_range(&stmt, |name| (name == "t").then(|| info.clone())).map(|r| (r.lower, r.upper))
    }

    fn i(v: i64) -> Value {
        Value::Int8(v)
    }

    #[test]
    fn conjunctions_of_key_comparisons_become_bounds() {
        assert_eq!(
            range_of("UPDATE t SET v = v + 1 WHERE id = 7"),
            Some((Bound::Included(i(7)), Bound::Included(i(7))))
        );
        assert_eq!(
            range_of("DELETE FROM t WHERE id > 3 AND v = 2 AND id <= 9"),
            Some((Bound::Excluded(i(3)), Bound::Included(i(9))))
        );
        assert_eq!(
            range_of("SELECT * FROM t WHERE id BETWEEN -5 AND 5 AND id < 5"),
            Some((Bound::Included(i(-5)), Bound::Excluded(i(5))))
        );
        assert_eq!(
            range_of("SELECT * FROM t AS x WHERE 10 > x.id"),
            Some((Bound::Unbounded, Bound::Excluded(i(10))))
        );
    }

    #[test]
    fn anything_not_provably_a_superset_gets_no_bounds() {
        for sql in [
            "UPDATE t SET v = 1 WHERE id = 1 OR v = 2",
            "UPDATE t SET v = (SELECT max(v) FROM t) WHERE id = 1",
            "DELETE FROM t WHERE id = 1 AND EXISTS (SELECT 1 FROM t WHERE v = 1)",
            "SELECT * FROM t WHERE id IN (SELECT v FROM t) AND id = 1",
            "SELECT * FROM t JOIN t AS u ON t.id = u.v WHERE t.id = 1",
            "SELECT * FROM t WHERE v = 1",
            "SELECT * FROM t WHERE id = 1.5",
            "SELECT * FROM t WHERE id = NULL",
            "SELECT * FROM t WHERE id = '1'",
            "SELECT * FROM t WHERE NOT id = 1",
            "SELECT * FROM t WHERE id <> 1",
            "SELECT * FROM t WHERE id NOT BETWEEN 1 AND 2",
            "SELECT * FROM t WHERE u.id = 1",
            "UPDATE t SET v = 1",
            "SELECT * FROM t ORDER BY id",
            "SELECT * FROM t LIMIT 3",
        ] {
            assert_eq!(range_of(sql), None, "{sql}");
        }
    }

    fn limit_of(sql: &str) -> Option<usize> {
        let stmt = gluesql_core::parse_sql::parse(sql).unwrap().remove(0);
        let stmt = gluesql_core::translate::translate(&stmt).unwrap();
        let schema = heliosdb_core::Schema::new(vec![
            heliosdb_core::Column::new("id", DataType::Int8).primary_key(),
            heliosdb_core::Column::new("v", DataType::Int8),
        ]);
        let info = std::sync::Arc::new(TableInfo::for_tests("t", schema));
        pk_range(&stmt, |name| (name == "t").then(|| info.clone())).and_then(|r| r.limit)
    }

    #[test]
    fn order_by_key_with_limit_caps_the_scan_only_when_exact() {
        assert_eq!(limit_of("SELECT * FROM t ORDER BY id LIMIT 5"), Some(5));
        assert_eq!(
            limit_of("SELECT v FROM t ORDER BY id ASC LIMIT 5 OFFSET 7"),
            Some(12)
        );
        assert_eq!(
            limit_of("SELECT x.v FROM t AS x WHERE x.id > 3 ORDER BY x.id LIMIT 2"),
            Some(2)
        );
        assert_eq!(
            limit_of("SELECT id AS id, v FROM t WHERE id BETWEEN 1 AND 9 ORDER BY id LIMIT 0"),
            Some(0)
        );
        assert_eq!(
            limit_of("SELECT * FROM t ORDER BY id DESC LIMIT 5"),
            Some(5)
        );
        assert_eq!(
            limit_of("SELECT v FROM t WHERE id < 0 ORDER BY t.id DESC LIMIT 5 OFFSET 1"),
            Some(6)
        );
        for sql in [
            "SELECT * FROM t ORDER BY v LIMIT 5",
            "SELECT * FROM t ORDER BY id, v LIMIT 5",
            "SELECT * FROM t WHERE v = 1 ORDER BY id LIMIT 5",
            "SELECT * FROM t WHERE id > 1 AND v = 1 ORDER BY id LIMIT 5",
            "SELECT DISTINCT v FROM t ORDER BY id LIMIT 5",
            "SELECT v FROM t GROUP BY v ORDER BY v LIMIT 5",
            "SELECT count(*) FROM t ORDER BY id LIMIT 1",
            "SELECT v AS id FROM t ORDER BY id LIMIT 5",
            "SELECT * FROM t ORDER BY id LIMIT 5 OFFSET -1",
            "SELECT * FROM t JOIN t AS u ON t.id = u.v ORDER BY t.id LIMIT 5",
            "SELECT * FROM t WHERE id IN (SELECT v FROM t) ORDER BY id LIMIT 5",
        ] {
            assert_eq!(limit_of(sql), None, "{sql}");
        }
    }

    /// `ORDER BY pk LIMIT n` reads n rows, not the table, and answers as a
    /// full scan would (counted with the scan hook, not timed).
    #[test]
    fn order_by_key_limit_reads_only_the_rows_it_returns() {
        use crate::SqlExt;
        let db = heliosdb_core::StorageEngine::open_in_memory(&heliosdb_core::Config::in_memory())
            .unwrap();
        db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
            .unwrap();
        let values: Vec<String> = (1..=200).map(|i| format!("({i}, {})", i % 7)).collect();
        db.execute_sql(&format!("INSERT INTO t VALUES {}", values.join(", ")))
            .unwrap();
        let run = |sql: &str| {
            crate::store::SCANNED_ROWS.with(|n| n.set(0));
            let r = db.execute_sql(sql).unwrap();
            let ids: Vec<Value> = r.rows().iter().map(|row| row[0].clone()).collect();
            (ids, crate::store::SCANNED_ROWS.with(std::cell::Cell::get))
        };
        let ints = |r: std::ops::RangeInclusive<i32>| r.map(Value::Int4).collect::<Vec<_>>();
        assert_eq!(run("SELECT * FROM t ORDER BY id LIMIT 5"), (ints(1..=5), 5));
        assert_eq!(
            run("SELECT id FROM t ORDER BY id LIMIT 3 OFFSET 10"),
            (ints(11..=13), 13)
        );
        assert_eq!(
            run("SELECT id FROM t WHERE id > 150 ORDER BY id LIMIT 4"),
            (ints(151..=154), 4)
        );
        // Not exact: read everything, same answers as before.
        assert_eq!(
            run("SELECT id FROM t WHERE v = 0 ORDER BY id LIMIT 2"),
            (vec![Value::Int4(7), Value::Int4(14)], 200)
        );
        assert_eq!(
            run("SELECT id FROM t ORDER BY id DESC LIMIT 2"),
            (vec![Value::Int4(200), Value::Int4(199)], 2)
        );
        // A transaction's own uncommitted rows are in the scan, in key order.
        db.execute_sql("BEGIN").unwrap();
        db.execute_sql("INSERT INTO t VALUES (0, 0)").unwrap();
        db.execute_sql("DELETE FROM t WHERE id = 1").unwrap();
        assert_eq!(
            run("SELECT id FROM t ORDER BY id LIMIT 3"),
            (vec![Value::Int4(0), Value::Int4(2), Value::Int4(3)], 3)
        );
        db.execute_sql("ROLLBACK").unwrap();
    }

    fn reverse_of(sql: &str) -> Option<bool> {
        let stmt = gluesql_core::parse_sql::parse(sql).unwrap().remove(0);
        let stmt = gluesql_core::translate::translate(&stmt).unwrap();
        let schema = heliosdb_core::Schema::new(vec![
            heliosdb_core::Column::new("id", DataType::Int8).primary_key(),
            heliosdb_core::Column::new("v", DataType::Int8),
        ]);
        let info = std::sync::Arc::new(TableInfo::for_tests("t", schema));
        pk_range(&stmt, |name| (name == "t").then(|| info.clone())).map(|r| r.reverse)
    }

    #[test]
    fn order_by_key_desc_scans_backwards() {
        assert_eq!(reverse_of("SELECT * FROM t ORDER BY id DESC"), Some(true));
        assert_eq!(
            reverse_of("SELECT * FROM t WHERE v = 1 ORDER BY id DESC LIMIT 3"),
            Some(true)
        );
        assert_eq!(
            reverse_of("SELECT * FROM t WHERE id > 1 ORDER BY id"),
            Some(false)
        );
        assert_eq!(reverse_of("SELECT * FROM t ORDER BY v DESC"), None);
        assert_eq!(reverse_of("SELECT * FROM t ORDER BY id DESC, v"), None);
    }

    type Run<'a> = Box<dyn Fn(&str) -> (Vec<Vec<Value>>, u64) + 'a>;

    /// Runs a query; returns its rows and how many rows its scans read.
    fn counter(db: &heliosdb_core::StorageEngine) -> Run<'_> {
        use crate::SqlExt;
        Box::new(move |sql: &str| {
            crate::store::SCANNED_ROWS.with(|n| n.set(0));
            let r = db.execute_sql(sql).unwrap();
            let rows = r.rows().to_vec();
            (rows, crate::store::SCANNED_ROWS.with(std::cell::Cell::get))
        })
    }

    fn filled(rows: i64, sql: &[&str]) -> heliosdb_core::StorageEngine {
        use crate::SqlExt;
        let db = heliosdb_core::StorageEngine::open_in_memory(&heliosdb_core::Config::in_memory())
            .unwrap();
        for stmt in sql {
            db.execute_sql(stmt).unwrap();
        }
        for table in ["t", "u"] {
            let mut i = 1;
            while i <= rows {
                let values: Vec<String> = (i..(i + 1000).min(rows + 1))
                    .map(|i| format!("({i}, {}, 'n{:04}')", i % 1000, (i * 7) % 1000))
                    .collect();
                db.execute_sql(&format!("INSERT INTO {table} VALUES {}", values.join(", ")))
                    .unwrap();
                i += 1000;
            }
        }
        db
    }

    /// `ORDER BY id DESC LIMIT 10` on 10,000 rows reads the 10 rows at the
    /// top of the table (counted with the scan hook, not timed) and answers
    /// as the same query read in full does.
    #[test]
    fn order_by_key_desc_limit_reads_only_the_rows_it_returns() {
        use crate::SqlExt;
        let db = filled(
            10_000,
            &[
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)",
                "CREATE TABLE u (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)",
            ],
        );
        let run = counter(&db);
        // `v >= 0` holds for every row but is not a key bound: the scan is
        // not capped and reads the table (the unpushed answer).
        for (pushed, full, scanned) in [
            (
                "SELECT * FROM t ORDER BY id DESC LIMIT 10",
                "SELECT * FROM t WHERE v >= 0 ORDER BY id DESC LIMIT 10",
                10,
            ),
            (
                "SELECT id, s FROM t WHERE id < 5000 ORDER BY id DESC LIMIT 10",
                "SELECT id, s FROM t WHERE id < 5000 AND v >= 0 ORDER BY id DESC LIMIT 10",
                10,
            ),
            (
                "SELECT id FROM t WHERE id BETWEEN 100 AND 200 ORDER BY id DESC LIMIT 3 OFFSET 2",
                "SELECT id FROM t WHERE id BETWEEN 100 AND 200 AND v >= 0 \
                 ORDER BY id DESC LIMIT 3 OFFSET 2",
                5,
            ),
            (
                "SELECT id FROM t WHERE id > 9995 ORDER BY id DESC LIMIT 10",
                "SELECT id FROM t WHERE id > 9995 AND v >= 0 ORDER BY id DESC LIMIT 10",
                5,
            ),
            (
                "SELECT id FROM t WHERE id > 20000 ORDER BY id DESC LIMIT 10",
                "SELECT id FROM t WHERE id > 20000 AND v >= 0 ORDER BY id DESC LIMIT 10",
                0,
            ),
        ] {
            let (want, all) = run(full);
            assert!(all >= scanned, "{full}");
            assert_eq!(run(pushed), (want, scanned), "{pushed}");
        }
        assert_eq!(
            run("SELECT * FROM t WHERE v >= 0 ORDER BY id DESC LIMIT 10").1,
            10_000
        );
        let ids = |v: &[i32]| v.iter().map(|&i| vec![Value::Int4(i)]).collect::<Vec<_>>();
        assert_eq!(
            run("SELECT id FROM t ORDER BY id DESC LIMIT 3"),
            (ids(&[10_000, 9_999, 9_998]), 3)
        );
        // A transaction's own uncommitted rows, in descending key order.
        db.execute_sql("BEGIN").unwrap();
        db.execute_sql("INSERT INTO t VALUES (20000, 0, 'new')")
            .unwrap();
        db.execute_sql("DELETE FROM t WHERE id = 10000").unwrap();
        db.execute_sql("DELETE FROM t WHERE id = 9998").unwrap();
        assert_eq!(
            run("SELECT id FROM t ORDER BY id DESC LIMIT 3"),
            (ids(&[20_000, 9_999, 9_997]), 3)
        );
        db.execute_sql("ROLLBACK").unwrap();
        assert_eq!(
            run("SELECT id FROM t ORDER BY id DESC LIMIT 2"),
            (ids(&[10_000, 9_999]), 2)
        );
    }

    /// Comparisons of an indexed column read the index range, not the
    /// table, and answer as the same query on an unindexed copy (`u`).
    #[test]
    fn index_ranges_read_only_matching_entries() {
        use crate::SqlExt;
        let db = filled(
            10_000,
            &[
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)",
                "CREATE TABLE u (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)",
                "CREATE INDEX t_v ON t (v)",
                "CREATE INDEX t_s ON t (s)",
            ],
        );
        db.execute_sql("INSERT INTO t VALUES (20001, NULL, NULL)")
            .unwrap();
        db.execute_sql("INSERT INTO u VALUES (20001, NULL, NULL)")
            .unwrap();
        let run = counter(&db);
        // (query with {} for the table, rows it may read on t)
        for (sql, reads) in [
            ("SELECT id, v FROM {} WHERE v BETWEEN 10 AND 12", 30),
            ("SELECT * FROM {} WHERE v >= 10 AND v <= 12", 30),
            ("SELECT id FROM {} WHERE v > 996", 30),
            ("SELECT id FROM {} WHERE 3 > v", 30),
            ("SELECT id FROM {} WHERE v < 3 AND id > 5000", 30),
            (
                "SELECT id FROM {} WHERE v BETWEEN 10 AND 12 AND id % 2 = 0",
                30,
            ),
            (
                "SELECT id, s FROM {} WHERE s BETWEEN 'n0010' AND 'n0012'",
                30,
            ),
            ("SELECT id FROM {} WHERE s > 'n0997'", 20),
            ("SELECT id, v FROM {} WHERE v = 7", 10),
            ("SELECT id, v FROM {} WHERE v > 500 AND v < 400", 0),
            (
                "SELECT id, v FROM {} WHERE v >= 995 ORDER BY v DESC, id",
                50,
            ),
            ("SELECT v FROM {} ORDER BY v DESC LIMIT 5", 10_001),
            ("SELECT v FROM {} ORDER BY v LIMIT 5", 10_001),
            ("SELECT v FROM {} ORDER BY v", 10_001),
            ("SELECT v FROM {} ORDER BY v DESC", 10_001),
            (
                "SELECT v FROM {} WHERE v BETWEEN 10 AND 12 ORDER BY v DESC",
                30,
            ),
            ("SELECT v FROM {} WHERE v < 3 ORDER BY v LIMIT 4", 30),
            ("SELECT id FROM {} WHERE v IS NULL", 1),
            ("SELECT count(*) FROM {} WHERE v IS NOT NULL", 10_000),
        ] {
            let (want, all) = run(&sql.replace("{}", "u"));
            // `u` has no index: the table, or its primary-key range.
            assert!(all >= 5_000, "{sql}: {all}");
            let (got, read) = run(&sql.replace("{}", "t"));
            let (mut got, mut want) = (got, want);
            if !sql.contains("ORDER BY") {
                got.sort_by(|a, b| a[0].sort_cmp(&b[0]));
                want.sort_by(|a, b| a[0].sort_cmp(&b[0]));
            }
            assert_eq!(got, want, "{sql}");
            assert!(
                read <= reads,
                "{sql}: read {read} rows, expected at most {reads}"
            );
        }
        // UPDATE and DELETE by a range of the indexed column.
        for table in ["t", "u"] {
            db.execute_sql(&format!(
                "UPDATE {table} SET s = 'x' WHERE v BETWEEN 20 AND 21"
            ))
            .unwrap();
            db.execute_sql(&format!("DELETE FROM {table} WHERE v > 997"))
                .unwrap();
        }
        for sql in [
            "SELECT id, v, s FROM {} WHERE s = 'x' ORDER BY id",
            "SELECT count(*) FROM {}",
            "SELECT id FROM {} WHERE v BETWEEN 19 AND 22 ORDER BY id",
        ] {
            assert_eq!(
                run(&sql.replace("{}", "t")).0,
                run(&sql.replace("{}", "u")).0,
                "{sql}"
            );
        }
        let (_, read) = run("UPDATE t SET s = 'y' WHERE v BETWEEN 30 AND 31");
        assert!(read <= 20, "UPDATE read {read} rows");
    }
}

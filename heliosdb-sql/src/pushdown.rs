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

use std::ops::Bound;

use gluesql_core::ast::{
    BinaryOperator, Expr, Literal, Query, SetExpr, Statement, TableFactor, UnaryOperator,
};
use gluesql_core::data::Value as GValue;
use heliosdb_core::{DataType, Value};

use crate::store::TableInfo;

/// Bounds on the primary key for the first scan of `table`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PkRange {
    pub table: String,
    pub lower: Bound<Value>,
    pub upper: Bound<Value>,
}

/// The primary-key range a statement's `WHERE` implies, if any.
/// `info` looks a table up by name.
pub(crate) fn pk_range(
    stmt: &Statement,
    info: impl Fn(&str) -> Option<std::sync::Arc<TableInfo>>,
) -> Option<PkRange> {
    let (table, alias, selection) = match stmt {
        Statement::Update {
            table_name,
            selection: Some(sel),
            ..
        }
        | Statement::Delete {
            table_name,
            selection: Some(sel),
        } => (table_name.as_str(), None, sel),
        Statement::Query(Query { body, .. }) => match body {
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
                    select.selection.as_ref()?,
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
    let kind = match column.data_type {
        DataType::Int2 | DataType::Int4 | DataType::Int8 => Kind::Int,
        DataType::Text => Kind::Text,
        _ => return None,
    };
    let names = Names {
        column: &column.name,
        table,
        alias,
    };
    let mut range = (Bound::Unbounded, Bound::Unbounded);
    let mut any = false;
    for conjunct in conjuncts(selection) {
        if let Some((lo, hi)) = conjunct_bounds(conjunct, &names, kind) {
            range.0 = tighter_lower(range.0, lo);
            range.1 = tighter_upper(range.1, hi);
            any = true;
        }
    }
    any.then(|| PkRange {
        table: table.to_string(),
        lower: range.0,
        upper: range.1,
    })
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

fn tighter_lower(a: Bound<Value>, b: Bound<Value>) -> Bound<Value> {
    tighter(a, b, std::cmp::Ordering::Greater)
}

fn tighter_upper(a: Bound<Value>, b: Bound<Value>) -> Bound<Value> {
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
        ] {
            assert_eq!(range_of(sql), None, "{sql}");
        }
    }
}

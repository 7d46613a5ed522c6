//! Query forms GlueSQL does not run, composed in this layer from forms it
//! does run:
//!
//! - `FROM a, b` and `a CROSS JOIN b` become `a JOIN b ON true` (GlueSQL
//!   takes one relation and inner/left joins only);
//! - a non-recursive `WITH` is inlined: each reference to a common table
//!   expression becomes a derived table holding its query (PostgreSQL
//!   inlines them too unless they are referenced twice or `MATERIALIZED`;
//!   either way the answer is the same for the read-only queries accepted
//!   here);
//! - `UPDATE t SET c = e FROM f WHERE w` becomes `UPDATE t SET c = (SELECT
//!   e FROM f WHERE w) WHERE EXISTS (SELECT 1 FROM f WHERE w)` (see
//!   [`update_from`]);
//! - `UNION`, `INTERSECT` and `EXCEPT` (with or without `ALL`) at the top
//!   of a statement run each branch as a query of its own, in one snapshot,
//!   and combine the rows here with PostgreSQL's rules (duplicates, NULLs
//!   equal to each other, `INTERSECT` binding tighter — the parser's tree),
//!   then apply the statement's `ORDER BY` (output names or ordinals),
//!   `OFFSET` and `LIMIT`.
//!
//! Set operations below the top of a statement and `WITH RECURSIVE` are run
//! ahead of the statement (`session::materialise`); what reaches this module
//! without being composable is refused with `0A000` naming the feature:
//! data-modifying CTEs, set operations in a correlated subquery, `LATERAL`,
//! `FULL` joins, `RIGHT` joins other than one `a RIGHT JOIN b ON …` under
//! an explicit select list (which reads as `b LEFT JOIN a ON …`).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    Expr, Ident, Join, JoinConstraint, JoinOperator, ObjectName, Query, SelectItem, SetExpr,
    SetOperator, SetQuantifier, Statement, TableAlias, TableFactor, Value as SqlValue, VisitMut,
    VisitorMut,
};
use heliosdb_core::{DataType, Value};

use crate::sqlstate::{FEATURE_NOT_SUPPORTED, SYNTAX_ERROR};
use crate::{ColumnInfo, Result, SqlError};

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: what.into(),
    }
}

/// Rewrites `stmt` in place: CTEs inlined, comma and cross joins made inner
/// joins; refuses what cannot be rewritten (see the module docs).
pub(crate) fn rewrite(stmt: &mut Statement) -> Result<()> {
    update_from(stmt)?;
    let mut v = Rewriter { refused: None };
    let _ = stmt.visit(&mut v);
    match v.refused {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `UPDATE t SET c = e, … FROM f WHERE w`, which GlueSQL does not have, as
/// `UPDATE t SET c = (SELECT e FROM f WHERE w), … WHERE EXISTS (SELECT 1
/// FROM f WHERE w)`: each row of `t` that joins a row of `f` gets the values
/// computed from that row, the others are left alone. Where a row of `t`
/// joins several rows of `f`, PostgreSQL updates it from an arbitrary one;
/// here the statement fails instead (21000, a subquery returning more than
/// one row). Column names must be qualified with their table — inside the
/// subquery an unqualified name would be looked up in `f` first, where
/// PostgreSQL finds it ambiguous or in `t` — and `t` has no alias (GlueSQL's
/// UPDATE has none).
fn update_from(stmt: &mut Statement) -> Result<()> {
    let Statement::Update {
        table,
        assignments,
        from,
        selection,
        returning,
    } = stmt
    else {
        return Ok(());
    };
    let Some(source) = from.as_ref() else {
        return Ok(());
    };
    if returning.is_some() {
        return Err(unsupported("UPDATE … FROM … RETURNING is not supported"));
    }
    if !table.joins.is_empty() || !matches!(&table.relation, TableFactor::Table { alias: None, .. })
    {
        return Err(unsupported(
            "UPDATE … FROM is supported on a table without an alias",
        ));
    }
    let bare = |e: &Expr| {
        gluesql_core::sqlparser::ast::visit_expressions(e, |x| match x {
            Expr::Identifier(_) => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        })
        .is_break()
    };
    if assignments.iter().any(|a| bare(&a.value)) || selection.as_ref().is_some_and(bare) {
        return Err(unsupported(
            "UPDATE … FROM with an unqualified column name: qualify each column with its table",
        ));
    }
    let filter = selection
        .as_ref()
        .map(|w| format!(" WHERE {w}"))
        .unwrap_or_default();
    let select = |projection: &str| -> Result<Box<Query>> {
        match crate::limits::parse(&format!("SELECT {projection} FROM {source}{filter}"))?.pop() {
            Some(Statement::Query(q)) => Ok(q),
            _ => Err(unsupported("UPDATE … FROM with this FROM clause")),
        }
    };
    for a in assignments.iter_mut() {
        a.value = Expr::Subquery(select(&a.value.to_string())?);
    }
    *selection = Some(Expr::Exists {
        subquery: select("1")?,
        negated: false,
    });
    *from = None;
    Ok(())
}

/// Whether the statement is a query whose top is a set operation, which
/// [`Composed`] runs.
pub(crate) fn is_set_operation(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Query(q) if top_set_operation(&q.body))
}

pub(crate) fn top_set_operation(body: &SetExpr) -> bool {
    match body {
        SetExpr::SetOperation { .. } => true,
        SetExpr::Query(q) => top_set_operation(&q.body),
        _ => false,
    }
}

struct Rewriter {
    refused: Option<SqlError>,
}

impl Rewriter {
    fn refuse(&mut self, e: SqlError) -> ControlFlow<()> {
        self.refused = Some(e);
        ControlFlow::Break(())
    }
}

impl VisitorMut for Rewriter {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Err(e) = inline_ctes(query) {
            return self.refuse(e);
        }
        if let Err(e) = flatten_joins(&mut query.body) {
            return self.refuse(e);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Derived {
            lateral, subquery, ..
        } = factor
        {
            if *lateral {
                return self.refuse(unsupported("LATERAL subqueries are not supported"));
            }
            if top_set_operation(&subquery.body) {
                return self.refuse(unsupported(
                    "UNION/INTERSECT/EXCEPT inside a derived table or common table expression \
                     is not supported (only at the top of a statement)",
                ));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let sub = match expr {
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => Some(q),
            Expr::InSubquery { subquery, .. } => Some(subquery),
            _ => None,
        };
        if sub.is_some_and(|q| top_set_operation(&q.body)) {
            return self.refuse(unsupported(
                "UNION/INTERSECT/EXCEPT inside a subquery is not supported (only at the top of \
                 a statement)",
            ));
        }
        ControlFlow::Continue(())
    }
}

/// Replaces every reference to one of `query`'s CTEs by a derived table.
fn inline_ctes(query: &mut Query) -> Result<()> {
    let Some(with) = query.with.take() else {
        return Ok(());
    };
    if with.recursive {
        return Err(unsupported("WITH RECURSIVE is not supported"));
    }
    let mut defined: Vec<(TableAlias, Box<Query>)> = Vec::new();
    for cte in with.cte_tables {
        let mut body = cte.query;
        if !matches!(
            body.body.as_ref(),
            SetExpr::Select(_)
                | SetExpr::Values(_)
                | SetExpr::Query(_)
                | SetExpr::SetOperation { .. }
        ) {
            return Err(unsupported(
                "data-modifying statements in WITH are not supported",
            ));
        }
        // A CTE sees the ones defined before it.
        for (alias, q) in &defined {
            substitute(&mut body.body, alias, q);
        }
        if defined
            .iter()
            .any(|(a, _)| same_name(&a.name, &cte.alias.name))
        {
            return Err(SqlError::State {
                code: "42712",
                message: format!(
                    "WITH query name \"{}\" specified more than once",
                    cte.alias.name.value
                ),
            });
        }
        defined.push((cte.alias, body));
    }
    for (alias, q) in &defined {
        substitute(&mut query.body, alias, q);
    }
    Ok(())
}

pub(crate) fn same_name(a: &Ident, b: &Ident) -> bool {
    match (a.quote_style, b.quote_style) {
        (None, None) => a.value.eq_ignore_ascii_case(&b.value),
        _ => a.value == b.value,
    }
}

/// Every `FROM name` of `body` (at any depth) naming the CTE `alias`
/// becomes `FROM (query) AS name(columns…)`.
pub(crate) fn substitute(body: &mut SetExpr, alias: &TableAlias, query: &Query) {
    struct Sub<'a> {
        alias: &'a TableAlias,
        query: &'a Query,
    }
    impl VisitorMut for Sub<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table {
                name: ObjectName(parts),
                alias,
                args: None,
                ..
            } = factor
            else {
                return ControlFlow::Continue(());
            };
            let [name] = parts.as_slice() else {
                return ControlFlow::Continue(());
            };
            if !same_name(name, &self.alias.name) {
                return ControlFlow::Continue(());
            }
            let alias = match alias.take() {
                Some(mut a) => {
                    if a.columns.is_empty() {
                        a.columns = self.alias.columns.clone();
                    }
                    a
                }
                None => self.alias.clone(),
            };
            *factor = TableFactor::Derived {
                lateral: false,
                subquery: Box::new(self.query.clone()),
                alias: Some(alias),
            };
            ControlFlow::Continue(())
        }
    }
    let _ = body.visit(&mut Sub { alias, query });
}

/// `FROM a, b` and `CROSS JOIN` as inner joins on `true`; outer joins
/// GlueSQL lacks are refused.
fn flatten_joins(body: &mut SetExpr) -> Result<()> {
    match body {
        SetExpr::Select(s) => {
            if s.from.len() > 1 {
                let mut rest = s.from.split_off(1);
                let first = &mut s.from[0];
                for t in rest.drain(..) {
                    first.joins.push(Join {
                        relation: t.relation,
                        global: false,
                        join_operator: JoinOperator::Inner(JoinConstraint::On(Expr::Value(
                            SqlValue::Boolean(true),
                        ))),
                    });
                    first.joins.extend(t.joins);
                }
            }
            // `a RIGHT JOIN b ON c` is `b LEFT JOIN a ON c` with the select
            // list unchanged (a `*` would change its column order, so it
            // stays refused).
            let wildcard = s.projection.iter().any(|i| {
                matches!(
                    i,
                    SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(_, _)
                )
            });
            if let [t] = s.from.as_mut_slice() {
                if let [j] = t.joins.as_mut_slice() {
                    if let JoinOperator::RightOuter(JoinConstraint::On(on)) = &j.join_operator {
                        if !wildcard {
                            let on = on.clone();
                            std::mem::swap(&mut t.relation, &mut j.relation);
                            j.join_operator = JoinOperator::LeftOuter(JoinConstraint::On(on));
                        }
                    }
                }
            }
            for t in &mut s.from {
                for j in &mut t.joins {
                    match &j.join_operator {
                        JoinOperator::CrossJoin => {
                            j.join_operator = JoinOperator::Inner(JoinConstraint::On(Expr::Value(
                                SqlValue::Boolean(true),
                            )));
                        }
                        JoinOperator::RightOuter(_) => {
                            return Err(unsupported("RIGHT JOIN is not supported"))
                        }
                        JoinOperator::FullOuter(_) => {
                            return Err(unsupported("FULL JOIN is not supported"))
                        }
                        JoinOperator::Inner(_) | JoinOperator::LeftOuter(_) => {}
                        other => {
                            return Err(unsupported(format!("join {other:?} is not supported")))
                        }
                    }
                }
            }
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            flatten_joins(left)?;
            flatten_joins(right)
        }
        _ => Ok(()),
    }
}

/// `body` as a query of its own: no `WITH`, `ORDER BY` or `LIMIT`.
pub(crate) fn plain_query(body: SetExpr) -> Query {
    Query {
        with: None,
        body: Box::new(body),
        order_by: None,
        limit: None,
        limit_by: Vec::new(),
        offset: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
    }
}

/// A set operation's result: the left branch's columns and the combined
/// rows.
pub(crate) struct Composed {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Vec<Value>>,
}

/// Equality of rows as set operations see it: NULLs equal, values equal
/// when their text and type class are.
pub(crate) fn row_key(row: &[Value]) -> Vec<(u8, String)> {
    row.iter()
        .map(|v| match v {
            Value::Null => (0, String::new()),
            Value::Bool(b) => (1, b.to_string()),
            Value::Int2(_)
            | Value::Int4(_)
            | Value::Int8(_)
            | Value::Float8(_)
            | Value::Float4(_)
            | Value::Numeric(_) => {
                // 1, 1.0 and 1.00 are one value.
                let n = numeric(v).map(|d| d.normalize().to_string());
                (2, n.unwrap_or_else(|| crate::text_of(v)))
            }
            Value::String(s) => (3, s.clone()),
            Value::Bytes(b) => (4, format!("{b:?}")),
            Value::Timestamp(t) => (5, t.to_rfc3339()),
            Value::TimestampTz(t) => (6, t.to_rfc3339()),
            Value::Date(d) => (7, d.to_string()),
            Value::Time(t) => (8, t.to_string()),
            // Intervals of one span are one value (1 mon = 30 days).
            Value::Interval(i) => (9, i.span().to_string()),
            Value::Uuid(u) => (10, u.to_string()),
        })
        .collect()
}

fn numeric(v: &Value) -> Option<rust_decimal::Decimal> {
    use rust_decimal::prelude::FromPrimitive;
    match v {
        Value::Int2(n) => Some((*n).into()),
        Value::Int4(n) => Some((*n).into()),
        Value::Int8(n) => Some((*n).into()),
        Value::Float8(f) => rust_decimal::Decimal::from_f64(*f),
        Value::Float4(f) => rust_decimal::Decimal::from_f64(f64::from(*f)),
        Value::Numeric(d) => Some(*d),
        _ => None,
    }
}

/// Combines two branches with `op`.
pub(crate) fn combine(
    op: SetOperator,
    quantifier: SetQuantifier,
    left: Composed,
    right: Composed,
) -> Result<Composed> {
    if left.columns.len() != right.columns.len() {
        return Err(SqlError::State {
            code: SYNTAX_ERROR,
            message: format!(
                "each {} query must have the same number of columns",
                op_name(op)
            ),
        });
    }
    let all = match quantifier {
        SetQuantifier::All => true,
        SetQuantifier::Distinct | SetQuantifier::None => false,
        _ => return Err(unsupported("UNION BY NAME is not supported")),
    };
    // Types are judged by the values: a column of NULLs (typed text when
    // nothing says otherwise) takes the other branch's type.
    let mut columns = left.columns;
    let (mut left_rows, mut right_rows) = (left.rows, right.rows);
    for (i, (l, r)) in columns.iter_mut().zip(&right.columns).enumerate() {
        // NUMERIC and double precision branches resolve to double
        // precision, as in PostgreSQL (`SELECT 1.50 UNION SELECT f` is 1.5).
        if matches!(
            (l.data_type, r.data_type),
            (DataType::Numeric, DataType::Float8) | (DataType::Float8, DataType::Numeric)
        ) {
            for row in left_rows.iter_mut().chain(right_rows.iter_mut()) {
                if let Some(Value::Numeric(d)) = row.get(i) {
                    let f = rust_decimal::prelude::ToPrimitive::to_f64(d).unwrap_or(f64::NAN);
                    row[i] = Value::Float8(f);
                }
            }
            l.data_type = DataType::Float8;
        }
        // real with double precision is double precision; real with
        // NUMERIC is real (NUMERIC casts to real implicitly).
        let widen_real = match (l.data_type, r.data_type) {
            (DataType::Float4, DataType::Float8) | (DataType::Float8, DataType::Float4) => {
                Some(DataType::Float8)
            }
            (DataType::Float4, DataType::Numeric) | (DataType::Numeric, DataType::Float4) => {
                Some(DataType::Float4)
            }
            _ => None,
        };
        if let Some(to) = widen_real {
            for row in left_rows.iter_mut().chain(right_rows.iter_mut()) {
                let Some(cell) = row.get_mut(i) else { continue };
                *cell = match (&*cell, to) {
                    (Value::Float4(f), DataType::Float8) => Value::Float8(f64::from(*f)),
                    (Value::Numeric(d), DataType::Float4) => Value::Float4(
                        rust_decimal::prelude::ToPrimitive::to_f32(d).unwrap_or(f32::NAN),
                    ),
                    (v, _) => v.clone(),
                };
            }
            l.data_type = to;
        }
        let lc = value_class(&left_rows, i);
        let rc = value_class(&right_rows, i);
        match (lc, rc) {
            (Some(a), Some(b)) if a != b => {
                return Err(SqlError::State {
                    code: crate::sqlstate::DATATYPE_MISMATCH,
                    message: format!(
                        "{} types {} and {} cannot be matched",
                        op_name(op),
                        crate::pg_type_name(l.data_type),
                        crate::pg_type_name(r.data_type)
                    ),
                });
            }
            (None, Some(_)) => l.data_type = r.data_type,
            _ => {}
        }
    }
    let mut right_counts: HashMap<Vec<(u8, String)>, usize> = HashMap::new();
    if op != SetOperator::Union {
        for r in &right_rows {
            *right_counts.entry(row_key(r)).or_default() += 1;
        }
    }
    let mut seen: HashMap<Vec<(u8, String)>, usize> = HashMap::new();
    let mut rows = Vec::new();
    let mut keep = |row: Vec<Value>, rows: &mut Vec<Vec<Value>>, in_right: Option<&mut usize>| {
        let key = row_key(&row);
        let n = seen.entry(key).or_default();
        *n += 1;
        let first = *n == 1;
        let yes = match (op, in_right) {
            (SetOperator::Union, _) => all || first,
            (SetOperator::Intersect, Some(c)) if *c > 0 => {
                if all {
                    *c -= 1;
                    true
                } else {
                    first
                }
            }
            (SetOperator::Intersect, _) => false,
            (SetOperator::Except, Some(c)) if *c > 0 => {
                if all {
                    *c -= 1;
                }
                false
            }
            (SetOperator::Except, _) => all || first,
        };
        if yes {
            rows.push(row);
        }
    };
    for row in left_rows {
        let key = row_key(&row);
        let in_right = right_counts.get_mut(&key);
        keep(row, &mut rows, in_right);
    }
    if op == SetOperator::Union {
        for row in right_rows {
            keep(row, &mut rows, None);
        }
    }
    Ok(Composed { columns, rows })
}

fn op_name(op: SetOperator) -> &'static str {
    match op {
        SetOperator::Union => "UNION",
        SetOperator::Intersect => "INTERSECT",
        SetOperator::Except => "EXCEPT",
    }
}

/// The type class of column `i`'s non-NULL values (numbers with numbers,
/// text with text, as PostgreSQL resolves set operation types), `None`
/// when all are NULL.
fn value_class(rows: &[Vec<Value>], i: usize) -> Option<u8> {
    rows.iter().find_map(|r| match r.get(i)? {
        Value::Null => None,
        Value::Bool(_) => Some(1),
        Value::Int2(_)
        | Value::Int4(_)
        | Value::Int8(_)
        | Value::Float8(_)
        | Value::Float4(_)
        | Value::Numeric(_) => Some(2),
        Value::String(_) => Some(3),
        Value::Bytes(_) => Some(4),
        Value::Timestamp(_) => Some(5),
        Value::TimestampTz(_) => Some(6),
        Value::Date(_) => Some(7),
        Value::Time(_) => Some(8),
        Value::Interval(_) => Some(9),
        Value::Uuid(_) => Some(10),
    })
}

/// The statement's `ORDER BY`, `OFFSET` and `LIMIT` applied to a set
/// operation's rows. Sort keys are output column names or ordinals, as
/// PostgreSQL requires for set operations.
pub(crate) fn finish(query: &Query, mut out: Composed, params: &[Value]) -> Result<Composed> {
    if query.fetch.is_some() || !query.locks.is_empty() || !query.limit_by.is_empty() {
        return Err(unsupported(
            "FETCH, FOR UPDATE and LIMIT BY on UNION/INTERSECT/EXCEPT are not supported",
        ));
    }
    if let Some(order_by) = &query.order_by {
        let mut keys = Vec::new();
        for o in &order_by.exprs {
            let pos = match &o.expr {
                Expr::Identifier(id) => out.columns.iter().position(|c| {
                    c.name == id.value
                        || (id.quote_style.is_none() && c.name.eq_ignore_ascii_case(&id.value))
                }),
                Expr::Value(SqlValue::Number(n, _)) => {
                    let k: usize = n.to_string().parse().map_err(|_| order_by_error(&o.expr))?;
                    if k == 0 || k > out.columns.len() {
                        return Err(SqlError::State {
                            code: "42P10",
                            message: format!("ORDER BY position {k} is not in select list"),
                        });
                    }
                    Some(k - 1)
                }
                _ => None,
            };
            let Some(pos) = pos else {
                return Err(order_by_error(&o.expr));
            };
            let desc = o.asc == Some(false);
            // PostgreSQL: NULLs sort as larger than every value.
            let nulls_first = o.nulls_first.unwrap_or(desc);
            keys.push((pos, desc, nulls_first));
        }
        out.rows.sort_by(|a, b| {
            for &(pos, desc, nulls_first) in &keys {
                let ord = crate::window::compare_keyed(&a[pos], &b[pos], desc, nulls_first);
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    let offset = match &query.offset {
        Some(o) => count(&o.value, params)?.unwrap_or(0),
        None => 0,
    };
    let limit = match &query.limit {
        Some(l) => count(l, params)?,
        None => None,
    };
    let rows = out.rows.into_iter().skip(offset);
    out.rows = match limit {
        Some(n) => rows.take(n).collect(),
        None => rows.collect(),
    };
    Ok(out)
}

fn order_by_error(e: &Expr) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: format!(
            "invalid UNION/INTERSECT/EXCEPT ORDER BY clause: {e} (only result column names or \
             positions can be used)"
        ),
    }
}

/// A LIMIT/OFFSET count: a literal or a parameter; `NULL`/`ALL` is none.
pub(crate) fn count(e: &Expr, params: &[Value]) -> Result<Option<usize>> {
    let bad = |what: String| SqlError::State {
        code: "2201W",
        message: what,
    };
    let n: i64 = match e {
        Expr::Value(SqlValue::Null) => return Ok(None),
        Expr::Value(SqlValue::Number(n, _)) => n
            .to_string()
            .parse()
            .map_err(|_| bad(format!("invalid LIMIT/OFFSET count: {n}")))?,
        Expr::Value(SqlValue::Placeholder(p)) => {
            let i: usize = p
                .trim_start_matches('$')
                .parse()
                .map_err(|_| bad(format!("invalid parameter {p}")))?;
            match params.get(i.wrapping_sub(1)) {
                Some(Value::Null) => return Ok(None),
                Some(Value::Int2(n)) => i64::from(*n),
                Some(Value::Int4(n)) => i64::from(*n),
                Some(Value::Int8(n)) => *n,
                Some(Value::String(s)) => s
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("invalid LIMIT/OFFSET count: {s}")))?,
                _ => return Err(bad(format!("parameter {p} is not an integer count"))),
            }
        }
        Expr::Nested(inner) => return count(inner, params),
        Expr::UnaryOp { .. } | Expr::BinaryOp { .. } | Expr::Cast { .. } => {
            return Err(unsupported(
                "only literal or parameter LIMIT/OFFSET counts are supported on set operations",
            ))
        }
        other => {
            return Err(unsupported(format!(
                "LIMIT/OFFSET {other} on a set operation is not supported"
            )))
        }
    };
    usize::try_from(n)
        .map(Some)
        .map_err(|_| bad("LIMIT/OFFSET must not be negative".into()))
}

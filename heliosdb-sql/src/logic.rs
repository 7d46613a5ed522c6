//! Three-valued logic as PostgreSQL evaluates it, where GlueSQL does not:
//! GlueSQL answers `NULL AND false` and `NULL OR true` with NULL, `2 IN (1,
//! NULL)` and `2 NOT IN (1, NULL)` with false and true, and `3 BETWEEN NULL
//! AND 2` with NULL. Those expressions are rewritten into `CASE` forms that
//! give PostgreSQL's answer (each `WHEN` that is NULL is not taken, in
//! GlueSQL as in PostgreSQL).
//!
//! Where only "is it true?" matters — `WHERE`, `HAVING` and `JOIN … ON`,
//! down through their `AND`s and `OR`s — NULL and false act alike, so
//! `AND`, `IN` and `BETWEEN` are left as they are there (the primary-key
//! push-down reads those conjuncts) and each side of an `OR` becomes
//! `COALESCE(side, FALSE)` (GlueSQL's `NULL OR true` is NULL); `NOT IN` is
//! rewritten everywhere. Outside filters, `AND`/`OR` become `CASE` forms
//! that repeat their operands, so a very long chain there is refused
//! rather than built. `x NOT IN (SELECT …)` (and `IN` outside filters)
//! becomes a `CASE` that asks the subquery for a NULL with `EXISTS`.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, BinaryOperator, Expr, Query, SetExpr, Statement, TableFactor,
    UnaryOperator, Value as SqlValue,
};

use crate::{Result, SqlError};

fn null() -> Expr {
    Expr::Value(SqlValue::Null)
}

fn boolean(b: bool) -> Expr {
    Expr::Value(SqlValue::Boolean(b))
}

fn is_null(e: &Expr) -> Expr {
    Expr::IsNull(Box::new(Expr::Nested(Box::new(e.clone()))))
}

fn nested(e: Expr) -> Box<Expr> {
    Box::new(Expr::Nested(Box::new(e)))
}

fn case(conditions: Vec<Expr>, results: Vec<Expr>, otherwise: Expr) -> Expr {
    Expr::Nested(Box::new(Expr::Case {
        operand: None,
        conditions,
        results,
        else_result: Some(Box::new(otherwise)),
    }))
}

/// `e1 IS NULL OR e2 IS NULL OR …` (never NULL itself); `false` when empty.
fn any_null(exprs: &[&Expr]) -> Expr {
    exprs
        .iter()
        .map(|e| is_null(e))
        .reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::Or,
            right: Box::new(b),
        })
        .unwrap_or_else(|| boolean(false))
}

/// `a AND b` with NULL handled: false if either is false, else NULL if
/// either is NULL, else true.
fn and(a: Expr, b: Expr) -> Expr {
    case(
        vec![is_null(&a), Expr::Nested(Box::new(a.clone()))],
        vec![
            case(
                vec![is_null(&b), Expr::Nested(Box::new(b.clone()))],
                vec![null(), null()],
                boolean(false),
            ),
            Expr::Nested(Box::new(b)),
        ],
        boolean(false),
    )
}

/// `a OR b` with NULL handled: true if either is true, else NULL if either
/// is NULL, else false.
fn or(a: Expr, b: Expr) -> Expr {
    case(
        vec![is_null(&a), Expr::Nested(Box::new(a))],
        vec![
            case(
                vec![Expr::Nested(Box::new(b.clone()))],
                vec![boolean(true)],
                null(),
            ),
            boolean(true),
        ],
        Expr::Nested(Box::new(b)),
    )
}

/// `COALESCE(e, FALSE)`: never NULL.
fn or_false(e: Expr) -> Expr {
    use gluesql_core::sqlparser::ast::{
        Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
        ObjectName,
    };
    let arg = |x| FunctionArg::Unnamed(FunctionArgExpr::Expr(x));
    Expr::Function(Function {
        name: ObjectName(vec![Ident::new("COALESCE")]),
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![arg(e), arg(boolean(false))],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// Most nodes an exact `AND`/`OR` may have below it: the `CASE` forms
/// repeat their operands, so a long chain of them outside a filter grows
/// fast; past this it is refused rather than built.
const MAX_EXACT_NODES: usize = 4_096;

fn nodes(e: &Expr) -> usize {
    let mut n = 0usize;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(e, |_| {
        n += 1;
        ControlFlow::<()>::Continue(())
    });
    n
}

/// Rewrites one node (its children are already done: the visitor is
/// post-order).
fn exact_node(e: &mut Expr, refused: &mut Option<String>) {
    if let Expr::BinaryOp {
        left,
        op: BinaryOperator::And | BinaryOperator::Or,
        right,
    } = e
    {
        if nodes(left) + nodes(right) > MAX_EXACT_NODES {
            *refused = Some(
                "too many AND/OR in a value outside WHERE/HAVING/ON for NULL-exact evaluation"
                    .into(),
            );
            return;
        }
    }
    let taken = std::mem::replace(e, null());
    *e = match taken {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => and(*left, *right),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Or,
            right,
        } => or(*left, *right),
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let mut operands: Vec<&Expr> = vec![&expr];
            operands.extend(list.iter());
            let unknown = any_null(&operands);
            let member = Expr::InList {
                expr: expr.clone(),
                list: list.clone(),
                negated: false,
            };
            case(
                vec![member, unknown],
                vec![boolean(!negated), null()],
                boolean(negated),
            )
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let ge = Expr::BinaryOp {
                left: nested(*expr.clone()),
                op: BinaryOperator::GtEq,
                right: nested(*low),
            };
            let le = Expr::BinaryOp {
                left: nested(*expr),
                op: BinaryOperator::LtEq,
                right: nested(*high),
            };
            let within = and(ge, le);
            if negated {
                Expr::UnaryOp {
                    op: UnaryOperator::Not,
                    expr: Box::new(within),
                }
            } else {
                within
            }
        }
        // NOT IN always, IN outside filters: exact with the subquery's
        // NULLs (a plain single-column subquery; others are refused for
        // NOT IN and left to GlueSQL for IN, whose false is right in a
        // filter and in a value only when the subquery has no NULL).
        Expr::InSubquery {
            expr,
            subquery,
            negated,
        } => {
            let op = if negated {
                BinaryOperator::NotEq
            } else {
                BinaryOperator::Eq
            };
            match crate::pgfuncs::quantified((*expr).clone(), op, negated, &subquery) {
                Ok(x) => x,
                Err(e) if negated => {
                    *refused = Some(e.to_string());
                    Expr::InSubquery {
                        expr,
                        subquery,
                        negated,
                    }
                }
                Err(_) => Expr::InSubquery {
                    expr,
                    subquery,
                    negated,
                },
            }
        }
        other => other,
    };
}

/// Every node of `e` in PostgreSQL's three-valued logic.
fn exact(e: &mut Expr, refused: &mut Option<String>) {
    let _ = visit_expressions_mut(e, |x| {
        exact_node(x, refused);
        ControlFlow::<()>::Continue(())
    });
}

/// `e` where only its truth counts (a filter): its top-level `AND`,
/// `IN (list)` and `BETWEEN` stay; everything below them is exact.
fn positive(e: &mut Expr, refused: &mut Option<String>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            positive(left, refused);
            positive(right, refused);
        }
        // True when either side is true: each side only needs its truth,
        // and NULL becomes false so GlueSQL's `NULL OR true` is true.
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Or,
            right,
        } => {
            positive(left, refused);
            positive(right, refused);
            let l = std::mem::replace(left.as_mut(), null());
            let r = std::mem::replace(right.as_mut(), null());
            **left = or_false(l);
            **right = or_false(r);
        }
        Expr::Nested(x) => positive(x, refused),
        // Only its truth counts here: GlueSQL's own IN (subquery).
        Expr::InSubquery {
            expr,
            subquery,
            negated: false,
        } => {
            exact(expr, refused);
            let _ = visit_expressions_mut(subquery.as_mut(), |x| {
                exact_node(x, refused);
                ControlFlow::<()>::Continue(())
            });
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            exact(expr, refused);
            for x in list {
                exact(x, refused);
            }
        }
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } => {
            exact(expr, refused);
            exact(low, refused);
            exact(high, refused);
        }
        _ => exact(e, refused),
    }
}

/// The filter slots of a query (and of the queries in its FROM and WITH),
/// taken out (`take`) or put back (`put`), always in the same order.
fn filters_of_query(q: &mut Query, slot: &mut dyn FnMut(&mut Option<Expr>)) {
    if let Some(with) = &mut q.with {
        for cte in &mut with.cte_tables {
            filters_of_query(&mut cte.query, slot);
        }
    }
    filters_of_set(&mut q.body, slot);
}

fn filters_of_set(body: &mut SetExpr, slot: &mut dyn FnMut(&mut Option<Expr>)) {
    match body {
        SetExpr::Select(s) => {
            for t in &mut s.from {
                filters_of_factor(&mut t.relation, slot);
                for j in &mut t.joins {
                    filters_of_factor(&mut j.relation, slot);
                    use gluesql_core::sqlparser::ast::{JoinConstraint, JoinOperator as J};
                    let c = match &mut j.join_operator {
                        J::Inner(c) | J::LeftOuter(c) | J::RightOuter(c) | J::FullOuter(c) => {
                            Some(c)
                        }
                        _ => None,
                    };
                    if let Some(JoinConstraint::On(on)) = c {
                        let mut o = Some(std::mem::replace(on, null()));
                        slot(&mut o);
                        if let Some(x) = o {
                            *on = x;
                        }
                    }
                }
            }
            slot(&mut s.selection);
            slot(&mut s.having);
        }
        SetExpr::Query(q) => filters_of_query(q, slot),
        SetExpr::SetOperation { left, right, .. } => {
            filters_of_set(left, slot);
            filters_of_set(right, slot);
        }
        _ => {}
    }
}

fn filters_of_factor(f: &mut TableFactor, slot: &mut dyn FnMut(&mut Option<Expr>)) {
    if let TableFactor::Derived { subquery, .. } = f {
        filters_of_query(subquery, slot);
    }
}

fn filters(stmt: &mut Statement, slot: &mut dyn FnMut(&mut Option<Expr>)) {
    match stmt {
        Statement::Query(q) => filters_of_query(q, slot),
        Statement::Update { selection, .. } => slot(selection),
        Statement::Delete(d) => slot(&mut d.selection),
        Statement::Insert(i) => {
            if let Some(q) = &mut i.source {
                filters_of_query(q, slot);
            }
        }
        _ => {}
    }
}

/// Rewrites `stmt` to PostgreSQL's three-valued logic (see the module).
///
/// # Errors
/// [`SqlError::Unsupported`] for `NOT IN (SELECT …)`.
pub(crate) fn three_valued(stmt: &mut Statement) -> Result<()> {
    let mut refused = None;
    // The filters are taken out, the rest is made exact, then the filters
    // go back made "positive".
    let mut taken: Vec<Option<Expr>> = Vec::new();
    filters(stmt, &mut |e| taken.push(e.take()));
    let _ = visit_expressions_mut(stmt, |x| {
        exact_node(x, &mut refused);
        ControlFlow::<()>::Continue(())
    });
    let mut back = taken.into_iter();
    filters(stmt, &mut |e| {
        let mut x = back.next().flatten();
        if let Some(x) = &mut x {
            positive(x, &mut refused);
        }
        *e = x;
    });
    match refused {
        Some(why) => Err(SqlError::Unsupported(why)),
        None => Ok(()),
    }
}

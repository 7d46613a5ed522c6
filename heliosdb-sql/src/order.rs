//! Two pieces of PostgreSQL's `SELECT` that GlueSQL's translator lacks,
//! written in terms it has:
//!
//! - `ORDER BY x NULLS FIRST|LAST`: GlueSQL places NULLs as PostgreSQL's
//!   default does (last ascending, first descending) and refuses the
//!   clause. A key that asks for the default drops the clause; one that
//!   asks for the other placement gets a key before it that sorts the NULLs
//!   (`CASE WHEN x IS NULL THEN 0 ELSE 1 END`). An ordinal or an output
//!   name is resolved to its select item first.
//! - `GROUP BY name` where `name` is a select item's alias and no input
//!   column (PostgreSQL resolves an input column first): the item's
//!   expression.
//!
//! Queries with window functions or `avg()` items are sorted by
//! `window::plan`, which reads these clauses itself; this runs on what
//! reaches GlueSQL.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    Expr, GroupByExpr, OrderByExpr, Query, Select, SelectItem, SetExpr, Statement,
    Value as SqlValue, VisitMut, VisitorMut,
};
use heliosdb_core::DataType;

/// Rewrites every `SELECT` of `stmt` as the module docs say; `typer`
/// tells which names are input columns.
pub(crate) fn rewrite(stmt: &mut Statement, typer: &dyn Fn(&Expr) -> Option<DataType>) {
    let _ = stmt.visit(&mut Order { typer });
}

/// The `GROUP BY` part of [`rewrite`] alone, for the paths that read a
/// query before it (`window::plan`, which builds its inner query from the
/// `GROUP BY` as written).
pub(crate) fn group_by_aliases(stmt: &mut Statement, typer: &dyn Fn(&Expr) -> Option<DataType>) {
    struct Groups<'a> {
        typer: &'a dyn Fn(&Expr) -> Option<DataType>,
    }
    impl VisitorMut for Groups<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            if let SetExpr::Select(s) = q.body.as_mut() {
                group_aliases(s, self.typer);
            }
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut Groups { typer });
}

/// `GROUP BY name` of a select item's alias that is no input column: the
/// item's expression.
fn group_aliases(s: &mut Select, typer: &dyn Fn(&Expr) -> Option<DataType>) {
    if let GroupByExpr::Expressions(exprs, _) = &mut s.group_by {
        for e in exprs.iter_mut() {
            let Expr::Identifier(id) = &*e else {
                continue;
            };
            if typer(e).is_none() {
                if let Some(x) = aliased(&s.projection, &id.value) {
                    *e = x.clone();
                }
            }
        }
    }
}

struct Order<'a> {
    typer: &'a dyn Fn(&Expr) -> Option<DataType>,
}

/// The expression of the select item named `name` (its alias).
fn aliased<'p>(projection: &'p [SelectItem], name: &str) -> Option<&'p Expr> {
    projection.iter().find_map(|i| match i {
        SelectItem::ExprWithAlias { expr, alias } if alias.value == name => Some(expr),
        _ => None,
    })
}

/// The select item an ORDER BY key stands for: `2` is the second item, an
/// output name its item; anything else the key itself. `None` for an
/// ordinal of a `*` item.
fn resolved(projection: &[SelectItem], key: &Expr, is_input: bool) -> Option<Expr> {
    match key {
        Expr::Value(SqlValue::Number(n, _)) => {
            let i: usize = n.to_string().parse().ok()?;
            match projection.get(i.checked_sub(1)?)? {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    Some(e.clone())
                }
                _ => None,
            }
        }
        Expr::Identifier(id) if !is_input => {
            Some(aliased(projection, &id.value).unwrap_or(key).clone())
        }
        _ => Some(key.clone()),
    }
}

fn int(n: u8) -> Expr {
    Expr::Value(SqlValue::Number(
        n.to_string().parse().unwrap_or_default(),
        false,
    ))
}

impl VisitorMut for Order<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(s) = q.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        group_aliases(s, self.typer);
        let Some(order) = q.order_by.as_mut() else {
            return ControlFlow::Continue(());
        };
        if order.exprs.iter().all(|k| k.nulls_first.is_none()) {
            return ControlFlow::Continue(());
        }
        let mut keys = Vec::with_capacity(order.exprs.len() + 1);
        for mut k in std::mem::take(&mut order.exprs) {
            let Some(first) = k.nulls_first else {
                keys.push(k);
                continue;
            };
            let desc = k.asc == Some(false);
            if first != desc {
                let is_input = (self.typer)(&k.expr).is_some();
                match resolved(&s.projection, &k.expr, is_input) {
                    Some(x) => {
                        let (null, other) = if first { (0, 1) } else { (1, 0) };
                        keys.push(OrderByExpr {
                            expr: Expr::Case {
                                operand: None,
                                conditions: vec![Expr::IsNull(Box::new(x))],
                                results: vec![int(null)],
                                else_result: Some(Box::new(int(other))),
                            },
                            asc: None,
                            nulls_first: None,
                            with_fill: None,
                        });
                    }
                    // Left for GlueSQL to refuse.
                    None => {
                        keys.push(k);
                        continue;
                    }
                }
            }
            k.nulls_first = None;
            keys.push(k);
        }
        order.exprs = keys;
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gluesql_core::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn rewritten(sql: &str) -> String {
        let mut stmt = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        let typer = |e: &Expr| match e {
            Expr::Identifier(i) if ["a", "b"].contains(&i.value.as_str()) => Some(DataType::Int4),
            _ => None,
        };
        rewrite(&mut stmt, &typer);
        stmt.to_string()
    }

    #[test]
    fn nulls_placement_other_than_the_default_gets_a_leading_key() {
        assert_eq!(
            rewritten("SELECT a FROM t ORDER BY a NULLS FIRST, b DESC NULLS FIRST"),
            "SELECT a FROM t ORDER BY CASE WHEN a IS NULL THEN 0 ELSE 1 END, a, b DESC"
        );
        assert_eq!(
            rewritten("SELECT a, b + 1 AS c FROM t ORDER BY c DESC NULLS LAST"),
            "SELECT a, b + 1 AS c FROM t ORDER BY CASE WHEN b + 1 IS NULL THEN 1 ELSE 0 END, c DESC"
        );
        assert_eq!(
            rewritten("SELECT a, b FROM t ORDER BY 2 NULLS FIRST"),
            "SELECT a, b FROM t ORDER BY CASE WHEN b IS NULL THEN 0 ELSE 1 END, 2"
        );
        // The ordinal of a `*` item is left for GlueSQL to refuse.
        assert_eq!(
            rewritten("SELECT * FROM t ORDER BY 1 NULLS FIRST"),
            "SELECT * FROM t ORDER BY 1 NULLS FIRST"
        );
    }

    #[test]
    fn group_by_reads_an_output_name_only_when_no_input_column_has_it() {
        assert_eq!(
            rewritten("SELECT b * 2 AS d, count(*) FROM t GROUP BY d"),
            "SELECT b * 2 AS d, count(*) FROM t GROUP BY b * 2"
        );
        assert_eq!(
            rewritten("SELECT b * 2 AS a, count(*) FROM t GROUP BY a"),
            "SELECT b * 2 AS a, count(*) FROM t GROUP BY a"
        );
    }
}

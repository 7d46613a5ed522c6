//! Set operations below the top of a statement, and `WITH RECURSIVE`, run
//! ahead of the statement and handed to it as constant relations.
//!
//! GlueSQL runs neither a `UNION`/`INTERSECT`/`EXCEPT` inside a derived
//! table, a common table expression or a subquery, nor a recursive common
//! table expression; nor does it have window functions, which our layer
//! computes for a query on its own (`crate::window`) — so a derived table
//! or common table expression with window calls (`… WHERE rn = 1` over
//! `row_number() OVER (PARTITION BY …)`, the top-n-per-group idiom) runs
//! first too. Such a part of a statement is run here first (a set
//! operation through [`crate::compose`], so with PostgreSQL's duplicate and
//! NULL rules), inside the statement's own transaction, so it reads what the
//! statement reads; its rows then replace it as
//! `(SELECT * FROM (VALUES …) AS materialised(columns…))`.
//!
//! `WITH RECURSIVE` is evaluated as PostgreSQL specifies it: the
//! non-recursive term's rows seed a working table; the recursive term runs
//! against the working table only, its new rows (for `UNION`, those not seen
//! before) become the next working table, until one is empty. A query that
//! never stops ends at the statement timeout or after
//! [`MAX_RECURSIVE_ROWS`] rows (`54000`), never by exhausting memory.
//!
//! Only parts that do not depend on the surrounding row can be run first: a
//! derived table or a common table expression never does (without
//! `LATERAL`, which is refused elsewhere). An expression subquery may
//! (`WHERE x IN (SELECT … WHERE y = outer.y UNION …)`); when it cannot run
//! on its own it is refused with `0A000`, never answered differently.

use std::collections::HashSet;
use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    Expr, Ident, Query, SelectItem, SetExpr, SetOperator, SetQuantifier, Statement, TableAlias,
    TableFactor, Values, Visit, VisitMut, Visitor, VisitorMut,
};
use heliosdb_core::Value;

use super::{value_expr, Session};
use crate::compose::{plain_query, row_key, same_name, substitute, top_set_operation};
use crate::sqlstate::FEATURE_NOT_SUPPORTED;
use crate::{limits, QueryResult, Result, SqlError};

/// The most rows a recursive common table expression may produce.
pub(crate) const MAX_RECURSIVE_ROWS: usize = 1_000_000;

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: what.into(),
    }
}

/// A relation's column names and rows.
struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Session<'_> {
    /// Runs and replaces what GlueSQL cannot run inside a statement (see
    /// the module docs); a statement without such parts is left alone.
    pub(super) fn materialise(&mut self, stmt: &mut Statement, params: &[Value]) -> Result<()> {
        if !needs_materialising(stmt) {
            return Ok(());
        }
        // `INSERT … SELECT … UNION …` and `CREATE TABLE … AS … UNION …`:
        // the source's own top is a set operation.
        let source = match stmt {
            Statement::Insert(ins) => ins.source.as_deref_mut(),
            Statement::CreateTable(ct) => ct.query.as_deref_mut(),
            _ => None,
        };
        if let Some(q) = source {
            if top_set_operation(&q.body) && q.with.is_none() {
                let rows = self.rows_of(q.clone(), params)?;
                // Plain VALUES when there are rows, so each literal takes
                // its target column's type as in `INSERT … VALUES`.
                *q = if rows.rows.is_empty() {
                    relation(&rows)
                } else {
                    plain_query(SetExpr::Values(Values {
                        explicit_row: false,
                        rows: rows
                            .rows
                            .iter()
                            .map(|r| r.iter().map(value_expr).collect())
                            .collect(),
                    }))
                };
            }
        }
        let arrays_from = std::mem::take(&mut self.array_aliases);
        let mut v = Materialiser {
            session: self,
            params,
            error: None,
            arrays_from,
            depth: 0,
        };
        let _ = stmt.visit(&mut v);
        match v.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn rows_of(&mut self, query: Query, params: &[Value]) -> Result<Rows> {
        self.rows_of_with(query, params, false)
    }

    /// The rows of `query`; its arrays (text) only when `arrays` says the
    /// statement passes them on untouched, refused otherwise.
    fn rows_of_with(&mut self, query: Query, params: &[Value], arrays: bool) -> Result<Rows> {
        match self.run(Statement::Query(Box::new(query)), params)? {
            QueryResult::Rows { columns, rows, .. } => {
                if let Some(c) = columns.iter().find(|c| c.array_of.is_some() && !arrays) {
                    return Err(unsupported(format!(
                        "the array column \"{}\" (array_agg) inside a subquery or derived \
                         table is not supported",
                        c.name
                    )));
                }
                Ok(Rows {
                    columns: columns.into_iter().map(|c| c.name).collect(),
                    rows,
                })
            }
            QueryResult::Command { tag, .. } => Err(SqlError::Unsupported(format!(
                "a subquery answered {tag} instead of rows"
            ))),
        }
    }

    /// Every common table expression of `query`'s `WITH` that is recursive
    /// or a set operation, replaced by its rows; the rest is left for
    /// [`crate::compose`] to inline.
    fn with_clause(&mut self, query: &mut Query, params: &[Value]) -> Result<()> {
        let Some(with) = query.with.as_mut() else {
            return Ok(());
        };
        let recursive = with.recursive;
        if !recursive && !with.cte_tables.iter().any(|c| runs_first(&c.query)) {
            return Ok(());
        }
        let mut done: Vec<(TableAlias, Query)> = Vec::new();
        for cte in &mut with.cte_tables {
            if cte.materialized.is_some() || cte.from.is_some() {
                return Err(unsupported(
                    "MATERIALIZED / NOT MATERIALIZED in WITH is not supported",
                ));
            }
            // A common table expression sees the ones before it.
            for (alias, q) in &done {
                substitute(&mut cte.query.body, alias, q);
            }
            if recursive && references(&cte.query, &cte.alias.name) {
                let rows = self.recursive(&cte.query, &cte.alias, params)?;
                *cte.query = relation(&rows);
            } else if runs_first(&cte.query) {
                let rows = self.rows_of((*cte.query).clone(), params)?;
                *cte.query = relation(&rows);
            }
            done.push((cte.alias.clone(), (*cte.query).clone()));
        }
        with.recursive = false;
        Ok(())
    }

    /// The rows of a recursive common table expression named `alias`.
    fn recursive(&mut self, query: &Query, alias: &TableAlias, params: &[Value]) -> Result<Rows> {
        let name = &alias.name.value;
        let SetExpr::SetOperation {
            op: SetOperator::Union,
            set_quantifier,
            left,
            right,
        } = query.body.as_ref()
        else {
            return Err(SqlError::State {
                code: "42P19",
                message: format!(
                    "recursive query \"{name}\" does not have the form non-recursive-term \
                     UNION [ALL] recursive-term"
                ),
            });
        };
        if query.order_by.is_some() || query.limit.is_some() || query.offset.is_some() {
            return Err(unsupported(format!(
                "ORDER BY/LIMIT/OFFSET in the recursive query \"{name}\" is not supported"
            )));
        }
        if set_body_references(left, &alias.name) {
            return Err(SqlError::State {
                code: "42P19",
                message: format!(
                    "recursive reference to query \"{name}\" must not appear within its \
                     non-recursive term"
                ),
            });
        }
        let distinct = match set_quantifier {
            SetQuantifier::All => false,
            SetQuantifier::Distinct | SetQuantifier::None => true,
            other => return Err(unsupported(format!("UNION {other} is not supported"))),
        };
        let anchor = self.rows_of(plain_query((**left).clone()), params)?;
        let columns = if alias.columns.is_empty() {
            anchor.columns
        } else if alias.columns.len() == anchor.columns.len() {
            alias.columns.iter().map(|c| c.value.clone()).collect()
        } else {
            return Err(SqlError::State {
                code: "42P10",
                message: format!(
                    "WITH query \"{name}\" has {} columns available but {} columns specified",
                    anchor.columns.len(),
                    alias.columns.len()
                ),
            });
        };
        let mut seen: HashSet<Vec<(u8, String)>> = HashSet::new();
        let mut all: Vec<Vec<Value>> = Vec::new();
        let mut working: Vec<Vec<Value>> = Vec::new();
        let mut take = |rows: Vec<Vec<Value>>,
                        all: &mut Vec<Vec<Value>>,
                        working: &mut Vec<Vec<Value>>|
         -> Result<()> {
            for r in rows {
                if distinct && !seen.insert(row_key(&r)) {
                    continue;
                }
                if all.len() >= MAX_RECURSIVE_ROWS {
                    return Err(SqlError::State {
                        code: "54000",
                        message: format!(
                            "recursive query \"{name}\" produced more than \
                             {MAX_RECURSIVE_ROWS} rows"
                        ),
                    });
                }
                all.push(r.clone());
                working.push(r);
            }
            Ok(())
        };
        take(anchor.rows, &mut all, &mut working)?;
        let table = TableAlias {
            name: alias.name.clone(),
            columns: columns.iter().map(|c| Ident::new(c.clone())).collect(),
        };
        while !working.is_empty() {
            limits::check_deadline()?;
            let current = Rows {
                columns: columns.clone(),
                rows: std::mem::take(&mut working),
            };
            let mut term = plain_query((**right).clone());
            substitute(&mut term.body, &table, &relation(&current));
            let out = self.rows_of(term, params)?;
            if out.columns.len() != columns.len() {
                return Err(SqlError::State {
                    code: "42601",
                    message: "each UNION query must have the same number of columns".into(),
                });
            }
            take(out.rows, &mut all, &mut working)?;
        }
        Ok(Rows { columns, rows: all })
    }
}

struct Materialiser<'s, 'e, 'p> {
    session: &'s mut Session<'e>,
    params: &'p [Value],
    error: Option<SqlError>,
    /// Derived tables of the statement's own FROM whose arrays it passes
    /// on (see `crate::arrays::derived_arrays`).
    arrays_from: Vec<String>,
    /// How deep in nested queries the visit is (1: the statement's own).
    depth: usize,
}

impl Materialiser<'_, '_, '_> {
    fn fail(&mut self, e: SqlError) -> ControlFlow<()> {
        self.error = Some(e);
        ControlFlow::Break(())
    }
}

impl VisitorMut for Materialiser<'_, '_, '_> {
    type Break = ();

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        match self.session.with_clause(query, self.params) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => self.fail(e),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Derived {
            lateral: false,
            subquery,
            alias,
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if !runs_first(subquery) || subquery.with.is_some() {
            return ControlFlow::Continue(());
        }
        let arrays = self.depth == 1
            && alias.as_ref().is_some_and(|a| {
                self.arrays_from
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&a.name.value))
            });
        match self
            .session
            .rows_of_with((**subquery).clone(), self.params, arrays)
        {
            Ok(rows) => {
                if let Some(a) = alias.as_mut() {
                    if a.columns.is_empty() {
                        a.columns = rows.columns.iter().map(|c| Ident::new(c.clone())).collect();
                    }
                }
                **subquery = relation(&rows);
                ControlFlow::Continue(())
            }
            Err(e) => self.fail(e),
        }
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let scalar = matches!(expr, Expr::Subquery(_));
        let sub = match expr {
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => q,
            Expr::InSubquery { subquery, .. } => subquery,
            _ => return ControlFlow::Continue(()),
        };
        let averages = selects_avg(sub);
        if !(runs_first(sub) || averages) || sub.with.is_some() {
            return ControlFlow::Continue(());
        }
        match self.session.rows_of((**sub).clone(), self.params) {
            // A scalar subquery's average becomes the value itself, so that
            // the arithmetic around it sees a NUMERIC.
            Ok(rows) if averages && scalar && rows.columns.len() == 1 => {
                match rows.rows.as_slice() {
                    [] => *expr = value_expr(&Value::Null),
                    [row] => *expr = Expr::Nested(Box::new(value_expr(&row[0]))),
                    _ => {
                        return self.fail(SqlError::State {
                            code: "21000",
                            message: "more than one row returned by a subquery used as an \
                                      expression"
                                .into(),
                        })
                    }
                }
                ControlFlow::Continue(())
            }
            Ok(rows) => {
                **sub = relation(&rows);
                ControlFlow::Continue(())
            }
            // A correlated subquery's avg() stays with GlueSQL (a float:
            // right in comparisons, which is what correlated averages are
            // mostly used for).
            Err(e) if averages && matches!(e.sqlstate(), "42703" | "42P01" | "XX000") => {
                ControlFlow::Continue(())
            }
            // It names something only the surrounding row has.
            Err(e) if matches!(e.sqlstate(), "42703" | "42P01" | "XX000") => {
                self.fail(unsupported(
                    "UNION/INTERSECT/EXCEPT, unnest() or array_agg() inside a correlated \
                     subquery is not supported",
                ))
            }
            Err(e) => self.fail(e),
        }
    }
}

/// Whether anything in `stmt` needs running first: a recursive `WITH`, or
/// a set operation that is not the statement's own top.
fn needs_materialising(stmt: &Statement) -> bool {
    struct Finder {
        top: Option<*const Query>,
    }
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if q.with
                .as_ref()
                .is_some_and(|w| w.recursive || w.cte_tables.iter().any(|c| runs_first(&c.query)))
            {
                return ControlFlow::Break(());
            }
            if self.top != Some(q as *const Query) && (runs_first(q) || selects_avg(q)) {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let top = match stmt {
        Statement::Query(q) => Some(&**q as *const Query),
        _ => None,
    };
    stmt.visit(&mut Finder { top }).is_break()
}

/// Whether `query` is run ahead of the statement holding it: a set
/// operation, a SELECT of `unnest`/`generate_subscripts` or `array_agg`
/// (see `crate::arrays`), or one with window calls (see `crate::window`).
fn runs_first(query: &Query) -> bool {
    top_set_operation(&query.body)
        || crate::arrays::selects_srf(query)
        || crate::arrays::selects_list_agg(query)
        || crate::window::selects_window(query)
}

/// Whether `query` is a plain SELECT with `avg()` among its items: GlueSQL
/// averages in floats, PostgreSQL's `avg` of integers and numerics is an
/// exact numeric, which the statement computes when run on its own
/// (`crate::window`).
fn selects_avg(query: &Query) -> bool {
    match query.body.as_ref() {
        SetExpr::Select(s) => s.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                crate::window::has_avg(e)
            }
            _ => false,
        }),
        _ => false,
    }
}

/// Whether `query` reads the relation `name` (as a plain table name).
fn references(query: &Query, name: &Ident) -> bool {
    struct Finder<'a>(&'a Ident);
    impl Visitor for Finder<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, .. } = f {
                if let [part] = name.0.as_slice() {
                    if same_name(part, self.0) {
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    query.visit(&mut Finder(name)).is_break()
}

fn set_body_references(body: &SetExpr, name: &Ident) -> bool {
    references(&plain_query(body.clone()), name)
}

/// `SELECT * FROM (VALUES …) AS materialised(columns…)`; with no rows, one
/// row of NULLs filtered out by `WHERE false`.
fn relation(rows: &Rows) -> Query {
    let width = rows.columns.len().max(1);
    let (values, empty) = if rows.rows.is_empty() {
        (vec![vec![value_expr(&Value::Null); width]], true)
    } else {
        (
            rows.rows
                .iter()
                .map(|r| r.iter().map(value_expr).collect())
                .collect(),
            false,
        )
    };
    let names: Vec<Ident> = if rows.columns.is_empty() {
        vec![Ident::new("column1")]
    } else {
        rows.columns
            .iter()
            .map(|c| Ident::with_quote('"', c.clone()))
            .collect()
    };
    let inner = plain_query(SetExpr::Values(Values {
        explicit_row: false,
        rows: values,
    }));
    let mut select = template();
    if let SetExpr::Select(s) = select.body.as_mut() {
        if let Some(TableFactor::Derived {
            subquery, alias, ..
        }) = s.from.first_mut().map(|t| &mut t.relation)
        {
            **subquery = inner;
            if let Some(a) = alias.as_mut() {
                a.columns = names;
            }
        }
        if !empty {
            s.selection = None;
        }
    }
    select
}

/// The shape [`relation`] fills in, parsed once per call (cheap next to
/// running the subquery).
fn template() -> Query {
    let stmts = limits::parse("SELECT * FROM (VALUES (1)) AS materialised WHERE false")
        .expect("a constant query parses");
    match stmts.into_iter().next() {
        Some(Statement::Query(q)) => *q,
        _ => unreachable!("a SELECT parses as a query"),
    }
}

/// `stmt` with what [`Session::materialise`] would run replaced by a query
/// of the same columns, without running anything (describing a prepared
/// statement): a set operation by its first branch, a recursive common
/// table expression by its non-recursive term.
pub(super) fn shape_for_describe(stmt: &mut Statement) {
    if !needs_materialising(stmt) {
        return;
    }
    struct Shaper;
    fn first_branch(body: &SetExpr) -> SetExpr {
        match body {
            SetExpr::SetOperation { left, .. } => first_branch(left),
            other => other.clone(),
        }
    }
    impl VisitorMut for Shaper {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if let Some(with) = query.with.as_mut() {
                for cte in &mut with.cte_tables {
                    if top_set_operation(&cte.query.body) {
                        *cte.query.body = first_branch(&cte.query.body);
                    }
                }
                with.recursive = false;
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Derived { subquery, .. } = factor {
                if top_set_operation(&subquery.body) {
                    *subquery.body = first_branch(&subquery.body);
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Subquery(q)
            | Expr::Exists { subquery: q, .. }
            | Expr::InSubquery { subquery: q, .. } = expr
            {
                if top_set_operation(&q.body) {
                    *q.body = first_branch(&q.body);
                }
            }
            ControlFlow::Continue(())
        }
    }
    if let Statement::Insert(ins) = stmt {
        if let Some(q) = ins.source.as_mut() {
            *q.body = first_branch(&q.body);
        }
    }
    let _ = stmt.visit(&mut Shaper);
}

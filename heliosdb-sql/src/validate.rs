//! Plan-time checks PostgreSQL makes before it reads a row, which GlueSQL
//! only makes while evaluating rows (so a query over an empty table answers
//! where PostgreSQL fails):
//!
//! - a column that no table in scope has (42703), or that two tables of one
//!   FROM both have (42702);
//! - a column outside any aggregate that is neither grouped nor
//!   functionally dependent on a grouped primary key (42803);
//! - an aggregate in WHERE (42803);
//! - a string literal compared with a numeric column that is not a number
//!   (22P02);
//! - `x IN (SELECT a, b …)` (42601).
//!
//! The pass must never refuse a query PostgreSQL accepts, so whatever it
//! cannot see through is taken as "might be fine": a relation whose columns
//! it does not know (a CTE, a derived table, a catalog view, a table
//! function, a table that does not exist — GlueSQL reports that one) makes
//! unqualified names at its level unresolvable rather than unknown, and
//! grouping is only checked for plain GROUP BY lists.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArguments, GroupByExpr, JoinConstraint, JoinOperator, Query,
    Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins, Value as SqlValue,
    VisitMut, VisitorMut,
};
use heliosdb_core::DataType;

use crate::sqlstate;
use crate::store::TableInfo;
use crate::{Result, SqlError};

/// Functions that aggregate rows (without `OVER`).
pub(crate) const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "string_agg",
    "array_agg",
    "bool_and",
    "bool_or",
    "every",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "stdev",
    "variance",
    "var_pop",
    "var_samp",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "bit_and",
    "bit_or",
    "bit_xor",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "corr",
    "covar_pop",
    "covar_samp",
];

/// Names PostgreSQL reads as keywords or niladic functions where a bare
/// identifier stands: never reported as unknown columns.
const KEYWORDS: &[&str] = &[
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "user",
    "current_role",
    "current_catalog",
    "current_schema",
    "true",
    "false",
    "null",
    "default",
];

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Whether `e` is a call of an aggregate function (not a window function).
pub(crate) fn is_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Function(f) if f.over.is_none() => f
            .name
            .0
            .last()
            .is_some_and(|i| AGGREGATES.contains(&lower(&i.value).as_str())),
        _ => false,
    }
}

/// One relation of a FROM: the name it is referred to by, and its columns
/// when known.
#[derive(Debug)]
struct Rel {
    name: String,
    columns: Option<Vec<(String, DataType)>>,
    pk: Option<String>,
}

/// The relations of one query level.
#[derive(Debug, Default)]
struct Level {
    rels: Vec<Rel>,
    /// A relation whose name is not known either (joins we do not model).
    opaque: bool,
    /// Names of output columns (ORDER BY and GROUP BY may use them).
    aliases: Vec<String>,
    /// Some output column's name is not known here.
    labels_unknown: bool,
}

/// Where a column reference leads.
enum Found {
    /// Relation `rel` of the innermost level (depth 0) or an outer one.
    At { depth: usize, rel: usize },
    /// Two relations of one level have it.
    Ambiguous,
    /// Some level cannot tell (unknown columns there).
    Unsure,
    /// No relation in scope has it.
    Missing,
}

struct Checker<'a> {
    tables: &'a BTreeMap<String, Arc<TableInfo>>,
    /// CTE names visible here (they shadow tables).
    ctes: Vec<String>,
}

fn state(code: &'static str, message: String) -> SqlError {
    SqlError::State { code, message }
}

impl Checker<'_> {
    fn table(&self, name: &gluesql_core::sqlparser::ast::ObjectName) -> Option<&Arc<TableInfo>> {
        let parts = &name.0;
        let (schema, table) = match parts.as_slice() {
            [t] => (None, t),
            [s, t] => (Some(lower(&s.value)), t),
            _ => return None,
        };
        if schema.as_deref().is_some_and(|s| s != "public") {
            return None;
        }
        if schema.is_none() && self.ctes.iter().any(|c| c == &lower(&table.value)) {
            return None;
        }
        self.tables.get(&table.value).or_else(|| {
            self.tables
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&table.value))
                .map(|(_, v)| v)
        })
    }

    fn factor(&self, f: &TableFactor, level: &mut Level) {
        match f {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let info = if args.is_none() {
                    self.table(name)
                } else {
                    None
                };
                let rel_name = match alias {
                    Some(a) => lower(&a.name.value),
                    None => name.0.last().map(|i| lower(&i.value)).unwrap_or_default(),
                };
                let columns = info.filter(|_| alias.as_ref().is_none_or(|a| a.columns.is_empty()));
                level.rels.push(Rel {
                    name: rel_name,
                    pk: columns.and_then(|i| {
                        let pk = i.engine.primary_key_index()?;
                        (pk < i.visible_len()).then(|| lower(&i.engine.columns[pk].name))
                    }),
                    columns: columns
                        .map(|i| i.columns().map(|c| (lower(&c.name), c.data_type)).collect()),
                });
            }
            TableFactor::Derived { alias: Some(a), .. }
            | TableFactor::Function { alias: Some(a), .. }
            | TableFactor::TableFunction { alias: Some(a), .. }
            | TableFactor::UNNEST { alias: Some(a), .. } => level.rels.push(Rel {
                name: lower(&a.name.value),
                columns: None,
                pk: None,
            }),
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.join_tree(table_with_joins, level),
            _ => level.opaque = true,
        }
    }

    fn join_tree(&self, t: &TableWithJoins, level: &mut Level) {
        self.factor(&t.relation, level);
        for j in &t.joins {
            // USING and NATURAL merge same-named columns, which this pass
            // does not model.
            if crate::using::uses(j) {
                level.opaque = true;
            }
            self.factor(&j.relation, level);
        }
    }

    fn query(&mut self, q: &Query, outer: &mut Vec<Level>) -> Result<()> {
        let saved = self.ctes.len();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                // A CTE sees the CTEs before it (and itself when recursive)
                // but, like a derived table, no outer columns are checked.
                if !with.recursive {
                    self.query(&cte.query, &mut vec![opaque_level()])?;
                }
                self.ctes.push(lower(&cte.alias.name.value));
            }
        }
        let order: Vec<&Expr> = q
            .order_by
            .iter()
            .flat_map(|o| o.exprs.iter().map(|e| &e.expr))
            .collect();
        let r = self.body(&q.body, &order, outer);
        self.ctes.truncate(saved);
        r
    }

    fn body(&mut self, body: &SetExpr, order: &[&Expr], outer: &mut Vec<Level>) -> Result<()> {
        match body {
            SetExpr::Select(s) => self.select(s, order, outer),
            SetExpr::Query(q) => self.query(q, outer),
            // ORDER BY of a set operation names output columns only.
            SetExpr::SetOperation { left, right, .. } => {
                self.body(left, &[], outer)?;
                self.body(right, &[], outer)
            }
            SetExpr::Values(v) => {
                for row in &v.rows {
                    for e in row {
                        self.expr(e, outer, false)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn select(&mut self, s: &Select, order: &[&Expr], outer: &mut Vec<Level>) -> Result<()> {
        let mut level = Level::default();
        for t in &s.from {
            self.join_tree(t, &mut level);
            // Derived tables see no outer columns (LATERAL ones would; they
            // are checked as if their outer level were unknown).
            for f in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
                if let TableFactor::Derived {
                    subquery, lateral, ..
                } = f
                {
                    if *lateral {
                        // GlueSQL would evaluate it as a plain derived
                        // table, without the outer row: a wrong answer.
                        return Err(SqlError::Unsupported(
                            "LATERAL subqueries are not supported".into(),
                        ));
                    }
                    self.query(subquery, &mut vec![opaque_level()])?;
                }
            }
        }
        if !s.lateral_views.is_empty() || s.connect_by.is_some() {
            level.opaque = true;
        }
        // Output labels ORDER BY may name; unknown when an unaliased item
        // is an expression whose label this pass does not derive.
        for item in &s.projection {
            match item {
                SelectItem::ExprWithAlias { alias, .. } => level.aliases.push(lower(&alias.value)),
                SelectItem::UnnamedExpr(Expr::Identifier(i)) => level.aliases.push(lower(&i.value)),
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(p)) => {
                    if let Some(i) = p.last() {
                        level.aliases.push(lower(&i.value));
                    }
                }
                SelectItem::UnnamedExpr(Expr::Function(f)) => {
                    if let Some(i) = f.name.0.last() {
                        level.aliases.push(lower(&i.value));
                    }
                }
                SelectItem::UnnamedExpr(_) => level.labels_unknown = true,
                _ => {}
            }
        }
        outer.push(level);
        let r = self.select_in_scope(s, order, outer);
        outer.pop();
        r
    }

    fn select_in_scope(
        &mut self,
        s: &Select,
        order: &[&Expr],
        scopes: &mut Vec<Level>,
    ) -> Result<()> {
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    self.expr(e, scopes, false)?;
                }
                _ => {}
            }
        }
        for t in &s.from {
            for j in &t.joins {
                if let JoinOperator::Inner(JoinConstraint::On(on))
                | JoinOperator::LeftOuter(JoinConstraint::On(on))
                | JoinOperator::RightOuter(JoinConstraint::On(on))
                | JoinOperator::FullOuter(JoinConstraint::On(on)) = &j.join_operator
                {
                    self.expr(on, scopes, false)?;
                }
            }
        }
        if let Some(w) = &s.selection {
            self.expr(w, scopes, false)?;
            aggregate_in_where(w, scopes)?;
        }
        if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
            for e in exprs {
                self.expr(e, scopes, true)?;
            }
        }
        if let Some(h) = &s.having {
            self.expr(h, scopes, true)?;
        }
        for e in order {
            self.expr(e, scopes, true)?;
        }
        grouping(s, scopes)
    }

    /// Checks the column references of `e` (and the queries inside it);
    /// `aliases`: output column names count as columns.
    fn expr(&mut self, e: &Expr, scopes: &mut Vec<Level>, aliases: bool) -> Result<()> {
        let mut walker = Walker {
            checker: self,
            scopes,
            aliases,
            error: None,
        };
        let mut e = e.clone();
        let _ = e.visit(&mut walker);
        match walker.error {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

fn opaque_level() -> Level {
    Level {
        opaque: true,
        ..Level::default()
    }
}

/// Resolves `parts` (`col` or `rel.col`) through the levels, innermost
/// first.
fn resolve(scopes: &[Level], parts: &[String], aliases: bool) -> Found {
    let mut unsure = false;
    for (depth, level) in scopes.iter().rev().enumerate() {
        match parts {
            [col] => {
                let mut hits = level.rels.iter().enumerate().filter(|(_, r)| {
                    r.columns
                        .as_ref()
                        .is_some_and(|c| c.iter().any(|(n, _)| n == col))
                });
                let first = hits.next();
                let second = hits.next();
                let some_unknown = level.opaque || level.rels.iter().any(|r| r.columns.is_none());
                match (first, second) {
                    (Some(_), Some(_)) if !some_unknown && !unsure => return Found::Ambiguous,
                    (Some((rel, _)), None) if !some_unknown && !unsure => {
                        return Found::At { depth, rel }
                    }
                    (Some(_), _) => return Found::Unsure,
                    (None, _) => {
                        if some_unknown {
                            unsure = true;
                        }
                        // ORDER BY and GROUP BY may name output columns,
                        // including unaliased ones by their labels.
                        if depth == 0
                            && aliases
                            && (level.labels_unknown || level.aliases.iter().any(|a| a == col))
                        {
                            return Found::Unsure;
                        }
                    }
                }
            }
            [rel_name, col] => {
                if let Some((rel, r)) = level
                    .rels
                    .iter()
                    .enumerate()
                    .find(|(_, r)| &r.name == rel_name)
                {
                    return match &r.columns {
                        Some(c) if c.iter().any(|(n, _)| n == col) => Found::At { depth, rel },
                        Some(_) => Found::Missing,
                        None => Found::Unsure,
                    };
                }
                if level.opaque {
                    unsure = true;
                }
            }
            _ => return Found::Unsure,
        }
    }
    if unsure || matches!(parts, [_, _]) {
        // `x.y` where no relation is named x: a composite field, a schema,
        // or GlueSQL's own "table not found" — not ours to judge.
        Found::Unsure
    } else {
        Found::Missing
    }
}

fn column_parts(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Identifier(i) => Some(vec![lower(&i.value)]),
        Expr::CompoundIdentifier(ids) => Some(ids.iter().map(|i| lower(&i.value)).collect()),
        _ => None,
    }
}

fn column_type(scopes: &[Level], e: &Expr) -> Option<DataType> {
    let parts = column_parts(e)?;
    let Found::At { depth, rel } = resolve(scopes, &parts, false) else {
        return None;
    };
    let level = &scopes[scopes.len() - 1 - depth];
    let col = parts.last()?;
    level.rels[rel]
        .columns
        .as_ref()?
        .iter()
        .find(|(n, _)| n == col)
        .map(|(_, t)| *t)
}

/// 22P02 when `lit` cannot be read as a value of the numeric type `t`.
fn literal_fits(t: DataType, lit: &str) -> Result<()> {
    let s = lit.trim();
    let (ok, name) = match t {
        DataType::Int2 | DataType::Int4 | DataType::Int8 => {
            let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
            let name = match t {
                DataType::Int2 => "smallint",
                DataType::Int4 => "integer",
                _ => "bigint",
            };
            // Out-of-range digits are 22003 in PostgreSQL; not judged here.
            (
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
                name,
            )
        }
        DataType::Numeric => (s.parse::<f64>().is_ok(), "numeric"),
        DataType::Float8 => (s.parse::<f64>().is_ok(), "double precision"),
        DataType::Float4 => (s.parse::<f32>().is_ok(), "real"),
        _ => (true, ""),
    };
    if ok {
        Ok(())
    } else {
        Err(state(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type {name}: \"{lit}\""),
        ))
    }
}

struct Walker<'c, 'a, 's> {
    checker: &'c mut Checker<'a>,
    scopes: &'s mut Vec<Level>,
    aliases: bool,
    error: Option<SqlError>,
}

impl VisitorMut for Walker<'_, '_, '_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        let r = self.check(e);
        if let Err(err) = r {
            self.error = Some(err);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

impl Walker<'_, '_, '_> {
    fn check(&mut self, e: &mut Expr) -> Result<()> {
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let Some(parts) = column_parts(e) else {
                    return Ok(());
                };
                if parts.len() == 1 && KEYWORDS.contains(&parts[0].as_str()) {
                    return Ok(());
                }
                match resolve(self.scopes, &parts, self.aliases) {
                    Found::Missing => {
                        let message = if parts.len() == 1 {
                            format!("column \"{}\" does not exist", parts[0])
                        } else {
                            format!("column {} does not exist", parts.join("."))
                        };
                        return Err(state(sqlstate::UNDEFINED_COLUMN, message));
                    }
                    Found::Ambiguous => {
                        return Err(state(
                            sqlstate::AMBIGUOUS_COLUMN,
                            format!("column reference \"{}\" is ambiguous", parts[0]),
                        ))
                    }
                    Found::At { .. } | Found::Unsure => {}
                }
            }
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => {
                self.checker.query(q, self.scopes)?;
                *e = Expr::Value(SqlValue::Null);
            }
            Expr::InSubquery { expr, subquery, .. } => {
                if let SetExpr::Select(s) = subquery.body.as_ref() {
                    let plain = s
                        .projection
                        .iter()
                        .filter(|i| {
                            matches!(
                                i,
                                SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
                            )
                        })
                        .count();
                    if plain > 1 {
                        return Err(state(
                            sqlstate::SYNTAX_ERROR,
                            "subquery has too many columns".into(),
                        ));
                    }
                }
                self.checker.query(subquery, self.scopes)?;
                let x = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                *e = Expr::Nested(Box::new(x));
            }
            Expr::BinaryOp {
                left,
                op:
                    op @ (BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::Modulo),
                right,
            } => {
                let text_col = |x: &Expr| column_type(self.scopes, x) == Some(DataType::Text);
                let int_lit = |x: &Expr| matches!(x, Expr::Value(SqlValue::Number(n, _)) if !n.to_string().contains(['.', 'e', 'E']));
                let (l, r) = if text_col(left) && int_lit(right) {
                    ("text", "integer")
                } else if int_lit(left) && text_col(right) {
                    ("integer", "text")
                } else {
                    return Ok(());
                };
                return Err(state(
                    sqlstate::UNDEFINED_FUNCTION,
                    format!("operator does not exist: {l} {op} {r}"),
                ));
            }
            Expr::BinaryOp {
                left,
                op:
                    op @ (BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq),
                right,
            } => {
                for (i, (col, lit)) in [(&**left, &**right), (&**right, &**left)]
                    .into_iter()
                    .enumerate()
                {
                    match lit {
                        Expr::Value(SqlValue::SingleQuotedString(s)) => {
                            if let Some(t) = column_type(self.scopes, col) {
                                literal_fits(t, s)?;
                            }
                        }
                        // `text_col = 1`: PostgreSQL has no text = integer.
                        Expr::Value(SqlValue::Number(n, _))
                            if !n.to_string().contains(['.', 'e', 'E'])
                                && column_type(self.scopes, col) == Some(DataType::Text) =>
                        {
                            let (l, r) = if i == 0 {
                                ("text", "integer")
                            } else {
                                ("integer", "text")
                            };
                            return Err(state(
                                sqlstate::UNDEFINED_FUNCTION,
                                format!("operator does not exist: {l} {op} {r}"),
                            ));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// 42803 for an aggregate of this level's rows in WHERE.
fn aggregate_in_where(w: &Expr, scopes: &[Level]) -> Result<()> {
    struct Find<'s> {
        scopes: &'s [Level],
        found: bool,
    }
    impl VisitorMut for Find<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            let aggregate = is_aggregate(e);
            match e {
                Expr::Subquery(_) | Expr::Exists { .. } => *e = Expr::Value(SqlValue::Null),
                Expr::InSubquery { expr, .. } => {
                    let x = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                    *e = Expr::Nested(Box::new(x));
                }
                Expr::Function(f) if aggregate => {
                    // At the top level any aggregate is of this level; in
                    // a subquery, one over outer columns only belongs to
                    // the outer query (PostgreSQL allows that).
                    let local = self.scopes.len() == 1 || {
                        let mut local = false;
                        match &f.args {
                            FunctionArguments::List(l) => {
                                let mut args = l.args.clone();
                                if args.is_empty()
                                    || args.iter().any(|a| a.to_string().trim() == "*")
                                {
                                    local = true;
                                }
                                let scopes = self.scopes;
                                let _ = gluesql_core::sqlparser::ast::visit_expressions_mut(
                                    &mut args,
                                    |x| {
                                        if let Some(p) = column_parts(x) {
                                            if matches!(
                                                resolve(scopes, &p, false),
                                                Found::At { depth: 0, .. } | Found::Unsure
                                            ) {
                                                local = true;
                                            }
                                        }
                                        ControlFlow::<()>::Continue(())
                                    },
                                );
                            }
                            _ => local = true,
                        }
                        local
                    };
                    if local {
                        self.found = true;
                        return ControlFlow::Break(());
                    }
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Find {
        scopes,
        found: false,
    };
    let _ = w.clone().visit(&mut f);
    if f.found {
        return Err(state(
            sqlstate::GROUPING_ERROR,
            "aggregate functions are not allowed in WHERE".into(),
        ));
    }
    Ok(())
}

fn norm(e: &Expr) -> String {
    lower(&e.to_string())
}

/// 42803 for a column of this level used outside an aggregate in a grouped
/// select, when it is neither grouped nor dependent on a grouped primary
/// key.
fn grouping(s: &Select, scopes: &[Level]) -> Result<()> {
    let group: Vec<Expr> = match &s.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs.clone(),
        _ => return Ok(()),
    };
    let has_aggregate = |e: &Expr| {
        let mut found = false;
        let mut e = e.clone();
        let _ = e.visit(&mut FindAggregate { found: &mut found });
        found
    };
    let items: Vec<&Expr> = s
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
            _ => None,
        })
        .collect();
    let grouped = !group.is_empty() || s.having.is_some() || items.iter().any(|e| has_aggregate(e));
    if !grouped {
        return Ok(());
    }
    if group
        .iter()
        .any(|g| matches!(g, Expr::Rollup(_) | Expr::Cube(_) | Expr::GroupingSets(_)))
    {
        return Ok(());
    }
    let level = scopes
        .last()
        .ok_or_else(|| SqlError::Execution("no scope".into()))?;
    // GROUP BY 2 and GROUP BY <output alias> name select items.
    let mut group_exprs: Vec<String> = Vec::new();
    let mut group_cols: Vec<(usize, String)> = Vec::new();
    for g in &group {
        let mut g = g.clone();
        if let Expr::Value(SqlValue::Number(n, _)) = &g {
            let Some(item) = n
                .to_string()
                .parse::<usize>()
                .ok()
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| items.get(i))
            else {
                return Ok(());
            };
            g = (*item).clone();
        } else if let Expr::Identifier(i) = &g {
            let name = lower(&i.value);
            let is_column = !matches!(
                resolve(scopes, std::slice::from_ref(&name), false),
                Found::Missing
            );
            if !is_column {
                let aliased = s.projection.iter().find_map(|it| match it {
                    SelectItem::ExprWithAlias { expr, alias } if lower(&alias.value) == name => {
                        Some(expr.clone())
                    }
                    _ => None,
                });
                if let Some(x) = aliased {
                    g = x;
                }
            }
        }
        if let Some(parts) = column_parts(&g) {
            if let Found::At { depth: 0, rel } = resolve(scopes, &parts, false) {
                if let Some(col) = parts.last() {
                    group_cols.push((rel, col.clone()));
                }
            }
        }
        group_exprs.push(norm(&g));
    }
    let mut check = Grouped {
        scopes,
        level,
        group_exprs: &group_exprs,
        group_cols: &group_cols,
        error: None,
    };
    for e in items.into_iter().chain(s.having.iter()) {
        let _ = e.clone().visit(&mut check);
        if let Some(err) = check.error.take() {
            return Err(err);
        }
    }
    Ok(())
}

struct FindAggregate<'f> {
    found: &'f mut bool,
}

impl VisitorMut for FindAggregate<'_> {
    type Break = ();
    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
            Expr::Subquery(_) | Expr::Exists { .. } => *e = Expr::Value(SqlValue::Null),
            Expr::InSubquery { expr, .. } => {
                let x = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                *e = Expr::Nested(Box::new(x));
            }
            _ if is_aggregate(e) => {
                *self.found = true;
                return ControlFlow::Break(());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

struct Grouped<'g> {
    scopes: &'g [Level],
    level: &'g Level,
    group_exprs: &'g [String],
    group_cols: &'g [(usize, String)],
    error: Option<SqlError>,
}

impl VisitorMut for Grouped<'_> {
    type Break = ();
    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if self.group_exprs.contains(&norm(e)) || is_aggregate(e) {
            *e = Expr::Value(SqlValue::Null);
            return ControlFlow::Continue(());
        }
        match e {
            // Queries inside are checked on their own; outer references
            // from them are left to the executor.
            Expr::Subquery(_) | Expr::Exists { .. } => *e = Expr::Value(SqlValue::Null),
            Expr::InSubquery { expr, .. } => {
                let x = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                *e = Expr::Nested(Box::new(x));
            }
            Expr::Function(f) if f.over.is_some() => {
                // A window function's own clauses are evaluated per row of
                // the grouped result; not judged here.
                *e = Expr::Value(SqlValue::Null);
            }
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let Some(parts) = column_parts(e) else {
                    return ControlFlow::Continue(());
                };
                let Found::At { depth: 0, rel } = resolve(self.scopes, &parts, false) else {
                    return ControlFlow::Continue(());
                };
                let Some(col) = parts.last() else {
                    return ControlFlow::Continue(());
                };
                let r = &self.level.rels[rel];
                let ok = self
                    .group_cols
                    .iter()
                    .any(|(gr, gc)| *gr == rel && (gc == col || r.pk.as_ref() == Some(gc)));
                if !ok {
                    self.error = Some(state(
                        sqlstate::GROUPING_ERROR,
                        format!(
                            "column \"{}.{col}\" must appear in the GROUP BY clause or be used \
                             in an aggregate function",
                            r.name
                        ),
                    ));
                    return ControlFlow::Break(());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Checks a statement before it runs (see the module).
///
/// # Errors
/// The SQLSTATE PostgreSQL raises for the first problem found.
pub(crate) fn check(stmt: &Statement, tables: &BTreeMap<String, Arc<TableInfo>>) -> Result<()> {
    let mut c = Checker {
        tables,
        ctes: Vec::new(),
    };
    match stmt {
        Statement::Query(q) => c.query(q, &mut Vec::new()),
        _ => Ok(()),
    }
}

//! One-dimensional arrays, as far as catalog readers (ORMs inspecting a
//! schema) need them: the set-returning `unnest(a)` and
//! `generate_subscripts(a, dim)` in a select list, and the aggregates
//! `array_agg(x [ORDER BY …])` and `string_agg(x, sep [ORDER BY …])`.
//!
//! There is no array type among the values: an array is carried as
//! PostgreSQL's text form (`{a,b}`, see [`array_text`]) in a text value,
//! and a result column holding arrays says so in
//! [`ColumnInfo::array_of`], so the server sends it as the array type
//! (`text[]`, `int2[]`, …) that drivers parse into lists.
//!
//! - A `SELECT` whose items are `unnest(col)` / `generate_subscripts(col,
//!   dim)` of the catalogs' array columns (`pg_index.indkey`, `indclass`,
//!   `indoption`, `pg_constraint.conkey`, `confkey`) runs with the column
//!   in place of each call; its rows are then expanded here as PostgreSQL
//!   10 and later do: the calls of one select list advance in lockstep, the
//!   shorter ones padded with NULL, a row whose calls all return nothing
//!   gives no row. `int2vector`/`oidvector` subscripts start at 0, those of
//!   `int2[]` at 1, as in PostgreSQL. Any other argument, or a call nested
//!   in an expression, is refused with `0A000`.
//! - A `SELECT` with `array_agg` or `string_agg` among its items is
//!   grouped here: an inner query with the same `FROM` and `WHERE` selects
//!   the grouping expressions and the aggregates' arguments and sort keys;
//!   the groups, `array_agg` and `string_agg` (in their `ORDER BY` order),
//!   `count`, `min`, `max`, `bool_and`/`every` and `bool_or`, then the
//!   statement's `ORDER BY`, `OFFSET` and `LIMIT` are computed here. Other
//!   aggregates next to them, expressions over aggregates, `HAVING`,
//!   `DISTINCT`, `FILTER` and sorting by an array are refused with `0A000`.
//!
//! Inside a larger statement such a `SELECT` (a derived table) is run
//! first by `session::materialise` and handed on as constant rows; an
//! `array_agg` column there is refused, since it would lose its type.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, GroupByExpr,
    Ident, ObjectName, Query, Select, SelectItem, SetExpr, TableFactor, Value as SqlValue,
};
use heliosdb_core::{DataType, Value};

use crate::sqlstate::FEATURE_NOT_SUPPORTED;
use crate::store::TableInfo;
use crate::window::compare_keyed;
use crate::{ColumnInfo, Result, SqlError};

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::State {
        code: FEATURE_NOT_SUPPORTED,
        message: what.into(),
    }
}

/// PostgreSQL's text form of a one-dimensional array of `elems`: `{a,b}`.
/// NULL elements are `NULL`; an element is double-quoted when it is empty,
/// reads as `NULL`, or holds `{`, `}`, `,`, `"`, `\` or white space, with
/// `"` and `\` escaped by a backslash.
pub fn array_text(elems: &[Value]) -> String {
    let mut out = String::from("{");
    for (i, v) in elems.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if matches!(v, Value::Null) {
            out.push_str("NULL");
            continue;
        }
        let t = crate::text_of(v);
        let quote = t.is_empty()
            || t.eq_ignore_ascii_case("null")
            || t.chars().any(|c| {
                matches!(c, '{' | '}' | ',' | '"' | '\\' | '\x0B') || c.is_ascii_whitespace()
            });
        if quote {
            out.push('"');
            for c in t.chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(&t);
        }
    }
    out.push('}');
    out
}

/// `x = ANY ($1)` and `x <> ALL ($1)` with an array parameter (psycopg
/// sends a list as the array's text, `{1,2}`), and the same with an array
/// literal's text (`= ANY ('{1,2}')`, `'{a,b}'::text[]`): the array
/// written out as `ARRAY[…]`, which the rewrites read as an `IN` list. An
/// element is a number literal when `x` is a number and it reads as one,
/// text otherwise (typed by what it is compared with, as PostgreSQL types
/// the array's elements).
pub(crate) fn any_of_array_text(
    stmt: &mut gluesql_core::sqlparser::ast::Statement,
    tables: &BTreeMap<String, Arc<TableInfo>>,
    params: &[Value],
) {
    use gluesql_core::sqlparser::ast::{Array, BinaryOperator, Value as SqlValue, VisitMut};
    struct V<'a> {
        typer: &'a dyn Fn(&Expr) -> Option<DataType>,
        params: &'a [Value],
    }
    impl V<'_> {
        fn text<'e>(&'e self, e: &'e Expr) -> Option<&'e str> {
            match e {
                Expr::Nested(x) | Expr::Cast { expr: x, .. } => self.text(x),
                Expr::Value(SqlValue::SingleQuotedString(s)) => Some(s),
                Expr::Value(SqlValue::Placeholder(p)) => {
                    let i = p.strip_prefix('$')?.parse::<usize>().ok()?.checked_sub(1)?;
                    match self.params.get(i)? {
                        Value::String(s) => Some(s),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
    }
    impl gluesql_core::sqlparser::ast::VisitorMut for V<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
            if let Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                ..
            }
            | Expr::AllOp {
                left,
                compare_op: BinaryOperator::NotEq,
                right,
                ..
            } = e
            {
                let number = (self.typer)(left).is_some_and(crate::convert::number_type);
                let elements = self.text(right).and_then(array_elements);
                if let Some(elements) = elements {
                    let elem = elements
                        .into_iter()
                        .map(|x| match x {
                            None => Expr::Value(SqlValue::Null),
                            Some(s) if number && s.parse::<f64>().is_ok() => match s.parse() {
                                Ok(n) => Expr::Value(SqlValue::Number(n, false)),
                                Err(_) => Expr::Value(SqlValue::SingleQuotedString(s)),
                            },
                            Some(s) => Expr::Value(SqlValue::SingleQuotedString(s)),
                        })
                        .collect();
                    **right = Expr::Array(Array { elem, named: true });
                }
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let any = gluesql_core::sqlparser::ast::visit_expressions(stmt, |e| {
        if matches!(e, Expr::AnyOp { .. } | Expr::AllOp { .. }) {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    });
    if any.is_continue() {
        return;
    }
    let typer = crate::infer::statement_typer(tables, stmt);
    let _ = stmt.visit(&mut V {
        typer: &typer,
        params,
    });
}

/// The elements of a one-dimensional array's text form (as
/// [`array_text`] writes it): `None` for a NULL element; `None` overall
/// when `text` is not such an array.
pub fn array_elements(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    if inner.is_empty() {
        return Some(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next()? {
                    '\\' => s.push(chars.next()?),
                    '"' => break,
                    c => s.push(c),
                }
            }
            out.push(Some(s));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if matches!(c, '{' | '}' | '"') {
                    return None;
                }
                s.push(c);
                chars.next();
            }
            if s.is_empty() {
                return None;
            }
            out.push((!s.eq_ignore_ascii_case("null")).then_some(s));
        }
        match chars.next() {
            None => return Some(out),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

/// The catalogs' array columns: how their text reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArrayKind {
    /// `int2vector` (`pg_index.indkey`, `indoption`): `1 2`, subscripts
    /// from 0.
    Int2Vector,
    /// `oidvector` (`pg_index.indclass`): `1978 1978`, subscripts from 0.
    OidVector,
    /// `int2[]` (`pg_constraint.conkey`, `confkey`): `{1,2}`, subscripts
    /// from 1.
    Int2Array,
}

impl ArrayKind {
    fn of_column(column: &str) -> Option<(&'static str, ArrayKind)> {
        Some(match column {
            "indkey" | "indoption" => ("pg_index", ArrayKind::Int2Vector),
            "indclass" => ("pg_index", ArrayKind::OidVector),
            "conkey" | "confkey" => ("pg_constraint", ArrayKind::Int2Array),
            _ => return None,
        })
    }

    fn element_type(self) -> DataType {
        match self {
            ArrayKind::Int2Vector | ArrayKind::Int2Array => DataType::Int2,
            ArrayKind::OidVector => DataType::Int8,
        }
    }

    fn lower_bound(self) -> i32 {
        match self {
            ArrayKind::Int2Vector | ArrayKind::OidVector => 0,
            ArrayKind::Int2Array => 1,
        }
    }

    /// The elements of a value of this column; NULL has none.
    fn elements(self, v: &Value) -> Result<Vec<Value>> {
        let malformed = || SqlError::State {
            code: "XX000",
            message: format!("malformed catalog array value: {}", crate::text_of(v)),
        };
        let text = match v {
            Value::Null => return Ok(Vec::new()),
            Value::String(s) => s,
            _ => return Err(malformed()),
        };
        let parts: Vec<Option<String>> = match self {
            ArrayKind::Int2Vector | ArrayKind::OidVector => text
                .split_whitespace()
                .map(|s| Some(s.to_string()))
                .collect(),
            ArrayKind::Int2Array => array_elements(text).ok_or_else(malformed)?,
        };
        parts
            .into_iter()
            .map(|p| match p {
                None => Ok(Value::Null),
                Some(s) => match self {
                    ArrayKind::OidVector => s.parse().map(Value::Int8).map_err(|_| malformed()),
                    _ => s.parse().map(Value::Int2).map_err(|_| malformed()),
                },
            })
            .collect()
    }
}

fn function_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Function(f) if f.over.is_none() => {
            let parts = &f.name.0;
            let qualified_ok = parts.len() == 1
                || (parts.len() == 2 && parts[0].value.eq_ignore_ascii_case("pg_catalog"));
            qualified_ok.then(|| parts.last().map(|i| i.value.to_ascii_lowercase()))?
        }
        _ => None,
    }
}

fn is_srf(e: &Expr) -> bool {
    matches!(
        function_name(e).as_deref(),
        Some("unnest" | "generate_subscripts")
    )
}

fn is_list_agg(e: &Expr) -> bool {
    matches!(
        function_name(e).as_deref(),
        Some("array_agg" | "string_agg")
    )
}

fn contains(e: &Expr, pred: fn(&Expr) -> bool) -> bool {
    let mut found = false;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(e, |x| {
        if pred(x) {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

fn item_expr(item: &SelectItem) -> Option<&Expr> {
    match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    }
}

fn projection_has(q: &Query, pred: fn(&Expr) -> bool) -> bool {
    match q.body.as_ref() {
        SetExpr::Select(s) => s
            .projection
            .iter()
            .filter_map(item_expr)
            .any(|e| contains(e, pred)),
        _ => false,
    }
}

/// Whether `q` is a `SELECT` with `unnest`/`generate_subscripts` in its
/// select list (run by [`srf_plan`]).
pub(crate) fn selects_srf(q: &Query) -> bool {
    projection_has(q, is_srf)
}

/// Whether `q` is a `SELECT` with `array_agg` or `string_agg` in its
/// select list (run by [`group_plan`]).
pub(crate) fn selects_list_agg(q: &Query) -> bool {
    projection_has(q, is_list_agg)
}

fn plain_args(f: &Expr) -> Option<Vec<&Expr>> {
    let Expr::Function(f) = f else { return None };
    crate::pgfuncs::call_args(f)
}

fn alias(e: Expr, label: &str) -> SelectItem {
    SelectItem::ExprWithAlias {
        expr: e,
        alias: Ident::with_quote('"', label),
    }
}

/// Whether `name` is the catalog relation `rel` (`pg_catalog.rel`, or a
/// bare `rel` no user table shadows).
fn is_catalog(name: &ObjectName, rel: &str, tables: &BTreeMap<String, Arc<TableInfo>>) -> bool {
    match name.0.as_slice() {
        [r] => r.value.eq_ignore_ascii_case(rel) && !tables.contains_key(&r.value),
        [s, r] => s.value.eq_ignore_ascii_case("pg_catalog") && r.value.eq_ignore_ascii_case(rel),
        _ => false,
    }
}

/// The kind of the catalog array column `arg` names in `select`'s FROM.
fn array_column(
    arg: &Expr,
    select: &Select,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Option<ArrayKind> {
    let (qualifier, column) = match arg {
        Expr::Identifier(c) => (None, c),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            (Some(&parts[parts.len() - 2]), &parts[parts.len() - 1])
        }
        _ => return None,
    };
    let (rel, kind) = ArrayKind::of_column(&column.value.to_ascii_lowercase())?;
    let found = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .any(|f| match f {
            TableFactor::Table { name, alias, .. } if is_catalog(name, rel, tables) => {
                match (qualifier, alias) {
                    (None, _) => true,
                    (Some(q), Some(a)) => q.value.eq_ignore_ascii_case(&a.name.value),
                    (Some(q), None) => q.value.eq_ignore_ascii_case(rel),
                }
            }
            _ => false,
        });
    found.then_some(kind)
}

/// A set-returning call of a select list.
#[derive(Debug)]
enum Srf {
    /// `unnest(a)`: the inner column holding `a`.
    Unnest { column: usize, kind: ArrayKind },
    /// `generate_subscripts(a, dim)`: the inner columns of `a` and `dim`.
    Subscripts {
        column: usize,
        dim: usize,
        kind: ArrayKind,
    },
}

/// A result column of a `SELECT` with set-returning calls.
#[derive(Debug)]
enum SrfItem {
    /// A call's values.
    Call(Srf),
    /// The inner query's column as it is.
    Inner(usize),
}

/// How a `SELECT` with set-returning calls runs (see the module docs).
#[derive(Debug)]
pub(crate) struct SrfPlan {
    /// The query with each call replaced by its array column.
    pub(crate) inner: Query,
    /// Per result column: a call, or the inner column as it is.
    items: Vec<SrfItem>,
    labels: Vec<String>,
}

fn srf_refusal() -> SqlError {
    unsupported(
        "unnest() and generate_subscripts() are supported as whole select items of a plain \
         SELECT, of the catalogs' array columns (pg_index.indkey, indclass, indoption, \
         pg_constraint.conkey, confkey)",
    )
}

/// The plan of `q` when it selects `unnest`/`generate_subscripts`;
/// `Ok(None)` when it does not.
///
/// # Errors
/// `0A000` for the forms not supported (see the module docs).
pub(crate) fn srf_plan(
    q: &Query,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Result<Option<SrfPlan>> {
    if !selects_srf(q) {
        return Ok(None);
    }
    let SetExpr::Select(select) = q.body.as_ref() else {
        return Ok(None);
    };
    let grouped =
        !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    if q.order_by.is_some()
        || q.limit.is_some()
        || q.offset.is_some()
        || q.fetch.is_some()
        || select.distinct.is_some()
        || grouped
        || select.having.is_some()
        || select
            .selection
            .as_ref()
            .is_some_and(|w| contains(w, is_srf))
    {
        return Err(unsupported(
            "unnest()/generate_subscripts() with ORDER BY, LIMIT, DISTINCT, GROUP BY or \
             HAVING in the same SELECT is not supported (select them in a derived table)",
        ));
    }
    let labels = crate::infer::select_labels(q).ok_or_else(srf_refusal)?;
    let mut projection = Vec::new();
    let mut extra = Vec::new();
    let mut items = Vec::new();
    for (i, item) in select.projection.iter().enumerate() {
        let e = item_expr(item).ok_or_else(srf_refusal)?;
        if !is_srf(e) {
            if contains(e, is_srf) {
                return Err(srf_refusal());
            }
            projection.push(item.clone());
            items.push(SrfItem::Inner(i));
            continue;
        }
        let name = function_name(e).unwrap_or_default();
        let args = plain_args(e).ok_or_else(srf_refusal)?;
        let (arr, dim) = match (name.as_str(), args.as_slice()) {
            ("unnest", [a]) => (*a, None),
            ("generate_subscripts", [a, d]) => (*a, Some(*d)),
            _ => return Err(srf_refusal()),
        };
        let kind = array_column(arr, select, tables).ok_or_else(srf_refusal)?;
        projection.push(alias(arr.clone(), &labels[i]));
        items.push(SrfItem::Call(match dim {
            None => Srf::Unnest { column: i, kind },
            Some(d) => {
                extra.push(d.clone());
                Srf::Subscripts {
                    column: i,
                    dim: select.projection.len() + extra.len() - 1,
                    kind,
                }
            }
        }));
    }
    for (k, d) in extra.into_iter().enumerate() {
        projection.push(alias(d, &format!("__dim{k}")));
    }
    let mut inner_select = select.clone();
    inner_select.projection = projection;
    let mut inner = q.clone();
    inner.body = Box::new(SetExpr::Select(inner_select));
    Ok(Some(SrfPlan {
        inner,
        items,
        labels,
    }))
}

impl SrfPlan {
    /// The statement's rows from the inner query's.
    pub(crate) fn finish(
        &self,
        inner_columns: &[ColumnInfo],
        rows: Vec<Vec<Value>>,
    ) -> Result<(Vec<ColumnInfo>, Vec<Vec<Value>>)> {
        let mut out = Vec::new();
        for row in &rows {
            let mut sets: Vec<Option<Vec<Value>>> = Vec::with_capacity(self.items.len());
            for it in &self.items {
                sets.push(match it {
                    SrfItem::Inner(_) => None,
                    SrfItem::Call(Srf::Unnest { column, kind }) => {
                        Some(kind.elements(&row[*column])?)
                    }
                    SrfItem::Call(Srf::Subscripts { column, dim, kind }) => {
                        let n = kind.elements(&row[*column])?.len();
                        let lower = kind.lower_bound();
                        let one =
                            matches!(row[*dim], Value::Int2(1) | Value::Int4(1) | Value::Int8(1));
                        Some(if one {
                            (0..n)
                                .map(|k| Value::Int4(lower + i32::try_from(k).unwrap_or(i32::MAX)))
                                .collect()
                        } else {
                            Vec::new()
                        })
                    }
                });
            }
            let n = sets.iter().flatten().map(Vec::len).max().unwrap_or(0);
            for k in 0..n {
                out.push(
                    self.items
                        .iter()
                        .zip(&sets)
                        .map(|(it, set)| match (it, set) {
                            (SrfItem::Inner(i), _) => row[*i].clone(),
                            (SrfItem::Call(_), Some(s)) => s.get(k).cloned().unwrap_or(Value::Null),
                            (SrfItem::Call(_), None) => Value::Null,
                        })
                        .collect(),
                );
            }
        }
        let columns = self
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| ColumnInfo {
                name: self.labels[i].clone(),
                data_type: match it {
                    SrfItem::Inner(c) => inner_columns
                        .get(*c)
                        .map_or(DataType::Text, |c| c.data_type),
                    SrfItem::Call(Srf::Unnest { kind, .. }) => kind.element_type(),
                    SrfItem::Call(Srf::Subscripts { .. }) => DataType::Int4,
                },
                array_of: match it {
                    SrfItem::Inner(c) => inner_columns.get(*c).and_then(|c| c.array_of),
                    SrfItem::Call(_) => None,
                },
                json: match it {
                    SrfItem::Inner(c) => inner_columns.get(*c).and_then(|c| c.json),
                    SrfItem::Call(_) => None,
                },
            })
            .collect();
        Ok((columns, out))
    }
}

/// An aggregate computed here.
#[derive(Debug)]
enum Aggregate {
    /// `count(*)` (`None`) or `count(x)`.
    Count(Option<usize>),
    Min(usize),
    Max(usize),
    BoolAnd(usize),
    BoolOr(usize),
    /// `array_agg(x ORDER BY k…)`: x's inner column, and each key's column,
    /// descending, NULLs first.
    ArrayAgg {
        arg: usize,
        order: Vec<(usize, bool, bool)>,
        /// The element type as the statement's text gives it (see
        /// [`static_type`]), which describing the statement reports too.
        elem: Option<DataType>,
    },
    /// `string_agg(x, sep ORDER BY k…)`: x's and sep's inner columns, and
    /// the sort keys as for `array_agg`.
    StringAgg {
        arg: usize,
        sep: usize,
        order: Vec<(usize, bool, bool)>,
    },
}

/// A result column of a grouped query.
#[derive(Debug)]
enum GItem {
    /// The n-th grouping expression.
    Key(usize),
    Agg(Aggregate),
}

/// A sort key of the grouped result.
#[derive(Debug)]
enum OrderKey {
    Item(usize),
    Key(usize),
}

/// How a `SELECT` with `array_agg` runs (see the module docs).
#[derive(Debug)]
pub(crate) struct GroupPlan {
    /// The ungrouped inner query: grouping expressions first, then the
    /// aggregates' arguments and sort keys.
    pub(crate) inner: Query,
    keys: usize,
    grouped: bool,
    items: Vec<GItem>,
    labels: Vec<String>,
    order: Vec<(OrderKey, bool, bool)>,
    limit: Option<Expr>,
    offset: Option<Expr>,
}

fn int_literal(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(SqlValue::Number(n, _)) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// `(descending, nulls first)` of an ORDER BY key, PostgreSQL's defaults.
fn direction(asc: Option<bool>, nulls_first: Option<bool>) -> (bool, bool) {
    let desc = asc == Some(false);
    (desc, nulls_first.unwrap_or(desc))
}

/// The plan of `q` when it selects `array_agg`; `Ok(None)` when it does
/// not.
///
/// # Errors
/// `0A000` for the forms not supported (see the module docs).
pub(crate) fn group_plan(q: &Query) -> Result<Option<GroupPlan>> {
    if !selects_list_agg(q) {
        return Ok(None);
    }
    let SetExpr::Select(select) = q.body.as_ref() else {
        return Ok(None);
    };
    let refuse = |what: &str| {
        unsupported(format!(
            "{what} in a SELECT with array_agg() is not supported"
        ))
    };
    if select.distinct.is_some() {
        return Err(refuse("DISTINCT"));
    }
    if select.having.is_some() {
        return Err(refuse("HAVING"));
    }
    if q.fetch.is_some() || !q.limit_by.is_empty() {
        return Err(refuse("FETCH"));
    }
    let labels = crate::infer::select_labels(q).ok_or_else(|| refuse("*"))?;
    let item_exprs: Vec<&Expr> = select
        .projection
        .iter()
        .map(|i| item_expr(i).ok_or_else(|| refuse("*")))
        .collect::<Result<_>>()?;
    let (group_exprs, grouped): (Vec<Expr>, bool) = match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => (
            exprs
                .iter()
                .map(|e| match int_literal(e) {
                    Some(n) if (1..=item_exprs.len()).contains(&n) => Ok(item_exprs[n - 1].clone()),
                    Some(_) => Err(refuse("GROUP BY position out of range")),
                    None => Ok(e.clone()),
                })
                .collect::<Result<_>>()?,
            !exprs.is_empty(),
        ),
        _ => return Err(refuse("GROUP BY ALL / ROLLUP / CUBE")),
    };
    let mut inner_items: Vec<SelectItem> = group_exprs
        .iter()
        .enumerate()
        .map(|(k, e)| alias(e.clone(), &format!("__key{k}")))
        .collect();
    let push = |e: &Expr, inner_items: &mut Vec<SelectItem>| {
        let n = inner_items.len();
        inner_items.push(alias(e.clone(), &format!("__arg{n}")));
        n
    };
    let mut items = Vec::new();
    for e in &item_exprs {
        if let Some(k) = group_exprs.iter().position(|g| g == *e) {
            items.push(GItem::Key(k));
            continue;
        }
        let name = function_name(e)
            .ok_or_else(|| refuse("an expression that is neither grouped nor an aggregate"))?;
        let Expr::Function(f) = e else {
            return Err(refuse(
                "an expression that is neither grouped nor an aggregate",
            ));
        };
        if f.filter.is_some() || !f.within_group.is_empty() {
            return Err(refuse("FILTER / WITHIN GROUP"));
        }
        let (args, clauses) = match &f.args {
            FunctionArguments::List(l) => {
                if l.duplicate_treatment.is_some() {
                    return Err(refuse("an aggregate with DISTINCT/ALL"));
                }
                (&l.args, l.clauses.as_slice())
            }
            _ => return Err(refuse(&format!("{name} without arguments"))),
        };
        let mut order = Vec::new();
        for c in clauses {
            match c {
                FunctionArgumentClause::OrderBy(keys) if is_list_agg(e) => {
                    for k in keys {
                        if contains(&k.expr, crate::validate::is_aggregate) {
                            return Err(refuse("an aggregate in an aggregate's ORDER BY"));
                        }
                        let (desc, nf) = direction(k.asc, k.nulls_first);
                        order.push((push(&k.expr, &mut inner_items), desc, nf));
                    }
                }
                _ => return Err(refuse(&format!("{name}() with {c}"))),
            }
        }
        if let (
            "string_agg",
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(x)), FunctionArg::Unnamed(FunctionArgExpr::Expr(sep))],
        ) = (name.as_str(), args.as_slice())
        {
            if contains(x, crate::validate::is_aggregate)
                || contains(sep, crate::validate::is_aggregate)
            {
                return Err(unsupported("aggregate function calls cannot be nested"));
            }
            let arg = push(x, &mut inner_items);
            let sep = push(sep, &mut inner_items);
            items.push(GItem::Agg(Aggregate::StringAgg { arg, sep, order }));
            continue;
        }
        let arg = match args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "count" => None,
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] => {
                if contains(x, crate::validate::is_aggregate) {
                    return Err(unsupported("aggregate function calls cannot be nested"));
                }
                Some(push(x, &mut inner_items))
            }
            _ => return Err(refuse(&format!("{name}() with these arguments"))),
        };
        let agg = match (name.as_str(), arg) {
            ("count", a) => Aggregate::Count(a),
            ("min", Some(a)) => Aggregate::Min(a),
            ("max", Some(a)) => Aggregate::Max(a),
            ("bool_and" | "every", Some(a)) => Aggregate::BoolAnd(a),
            ("bool_or", Some(a)) => Aggregate::BoolOr(a),
            ("array_agg", Some(a)) => Aggregate::ArrayAgg {
                arg: a,
                order,
                elem: static_arg_type(e),
            },
            _ => return Err(refuse(&format!("the aggregate {name}()"))),
        };
        items.push(GItem::Agg(agg));
    }
    let mut order = Vec::new();
    for k in q.order_by.iter().flat_map(|o| o.exprs.iter()) {
        let (desc, nf) = direction(k.asc, k.nulls_first);
        let key = if let Some(n) = int_literal(&k.expr) {
            if n == 0 || n > items.len() {
                return Err(SqlError::State {
                    code: "42P10",
                    message: format!("ORDER BY position {n} is not in select list"),
                });
            }
            OrderKey::Item(n - 1)
        } else if let Some(i) = item_exprs.iter().position(|e| **e == k.expr) {
            OrderKey::Item(i)
        } else if let Some(g) = group_exprs.iter().position(|g| *g == k.expr) {
            OrderKey::Key(g)
        } else if let Expr::Identifier(id) = &k.expr {
            match labels.iter().position(|l| *l == id.value) {
                Some(i) => OrderKey::Item(i),
                None => return Err(refuse("ORDER BY an expression not selected or grouped")),
            }
        } else {
            return Err(refuse("ORDER BY an expression not selected or grouped"));
        };
        if let OrderKey::Item(i) = key {
            if matches!(items[i], GItem::Agg(Aggregate::ArrayAgg { .. })) {
                return Err(refuse("ORDER BY an array_agg() result"));
            }
        }
        order.push((key, desc, nf));
    }
    let mut inner_select = select.clone();
    inner_select.projection = inner_items;
    inner_select.group_by = GroupByExpr::Expressions(Vec::new(), Vec::new());
    let inner = Query {
        with: q.with.clone(),
        ..crate::compose::plain_query(SetExpr::Select(inner_select))
    };
    Ok(Some(GroupPlan {
        inner,
        keys: group_exprs.len(),
        grouped,
        items,
        labels,
        order,
        limit: q.limit.clone(),
        offset: q.offset.as_ref().map(|o| o.value.clone()),
    }))
}

fn bool_of(v: &Value) -> Result<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(SqlError::State {
            code: "42883",
            message: format!(
                "function bool_and/bool_or does not take {}",
                crate::text_of(other)
            ),
        }),
    }
}

/// `rows` in the order of an aggregate's `ORDER BY` keys (stable).
fn sorted<'r>(rows: &[&'r Vec<Value>], order: &[(usize, bool, bool)]) -> Vec<&'r Vec<Value>> {
    let mut out = rows.to_vec();
    out.sort_by(|a, b| {
        for (k, desc, nf) in order {
            let o = compare_keyed(&a[*k], &b[*k], *desc, *nf);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    out
}

impl Aggregate {
    fn value(&self, rows: &[&Vec<Value>]) -> Result<Value> {
        let present = |c: usize| {
            rows.iter()
                .map(move |r| &r[c])
                .filter(|v| !matches!(v, Value::Null))
        };
        Ok(match self {
            Aggregate::Count(None) => Value::Int8(i64::try_from(rows.len()).unwrap_or(i64::MAX)),
            Aggregate::Count(Some(c)) => {
                Value::Int8(i64::try_from(present(*c).count()).unwrap_or(i64::MAX))
            }
            Aggregate::Min(c) => present(*c)
                .min_by(|a, b| compare_keyed(a, b, false, false))
                .cloned()
                .unwrap_or(Value::Null),
            Aggregate::Max(c) => present(*c)
                .max_by(|a, b| compare_keyed(a, b, false, false))
                .cloned()
                .unwrap_or(Value::Null),
            Aggregate::BoolAnd(c) | Aggregate::BoolOr(c) => {
                let mut acc: Option<bool> = None;
                for v in present(*c) {
                    let b = bool_of(v)?.unwrap_or_default();
                    acc = Some(match (acc, self) {
                        (None, _) => b,
                        (Some(a), Aggregate::BoolAnd(_)) => a && b,
                        (Some(a), _) => a || b,
                    });
                }
                acc.map_or(Value::Null, Value::Bool)
            }
            Aggregate::ArrayAgg { arg, order, .. } => {
                if rows.is_empty() {
                    return Ok(Value::Null);
                }
                let elems: Vec<Value> = sorted(rows, order)
                    .iter()
                    .map(|r| r[*arg].clone())
                    .collect();
                Value::String(array_text(&elems))
            }
            // The separator before a value is the one of that value's row.
            Aggregate::StringAgg { arg, sep, order } => {
                let mut out: Option<String> = None;
                for r in sorted(rows, order) {
                    let text = |v: &Value| match v {
                        Value::Null => Ok(None),
                        Value::String(s) => Ok(Some(s.clone())),
                        _ => Err(SqlError::State {
                            code: "42883",
                            message: "function string_agg takes text arguments".into(),
                        }),
                    };
                    let Some(v) = text(&r[*arg])? else { continue };
                    out = Some(match out {
                        None => v,
                        Some(mut acc) => {
                            acc.push_str(&text(&r[*sep])?.unwrap_or_default());
                            acc.push_str(&v);
                            acc
                        }
                    });
                }
                out.map_or(Value::Null, Value::String)
            }
        })
    }
}

impl GroupPlan {
    /// The statement's rows from the inner query's.
    pub(crate) fn finish(
        &self,
        inner_columns: &[ColumnInfo],
        rows: Vec<Vec<Value>>,
        params: &[Value],
    ) -> Result<(Vec<ColumnInfo>, Vec<Vec<Value>>)> {
        let mut index: HashMap<Vec<(u8, String)>, usize> = HashMap::new();
        let mut groups: Vec<Vec<&Vec<Value>>> = Vec::new();
        for r in &rows {
            let key = crate::compose::row_key(&r[..self.keys]);
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(r);
        }
        // Without GROUP BY, one group even over no rows.
        let empty: Vec<&Vec<Value>> = Vec::new();
        let mut all: Vec<&[&Vec<Value>]> = groups.iter().map(Vec::as_slice).collect();
        if !self.grouped && all.is_empty() {
            all.push(empty.as_slice());
        }
        let mut out: Vec<(Vec<Value>, Vec<Value>)> = Vec::with_capacity(all.len());
        for g in all {
            let keys: Vec<Value> = g
                .first()
                .map(|r| r[..self.keys].to_vec())
                .unwrap_or_else(|| vec![Value::Null; self.keys]);
            let vals = self
                .items
                .iter()
                .map(|it| match it {
                    GItem::Key(k) => Ok(keys[*k].clone()),
                    GItem::Agg(a) => a.value(g),
                })
                .collect::<Result<Vec<_>>>()?;
            out.push((vals, keys));
        }
        if !self.order.is_empty() {
            out.sort_by(|(a, ak), (b, bk)| {
                for (key, desc, nf) in &self.order {
                    let (x, y) = match key {
                        OrderKey::Item(i) => (&a[*i], &b[*i]),
                        OrderKey::Key(k) => (&ak[*k], &bk[*k]),
                    };
                    let o = compare_keyed(x, y, *desc, *nf);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let offset = match &self.offset {
            Some(o) => crate::compose::count(o, params)?.unwrap_or(0),
            None => 0,
        };
        let limit = match &self.limit {
            Some(l) => crate::compose::count(l, params)?,
            None => None,
        };
        let it = out.into_iter().skip(offset).map(|(v, _)| v);
        let rows: Vec<Vec<Value>> = match limit {
            Some(n) => it.take(n).collect(),
            None => it.collect(),
        };
        let inner_type = |c: usize| inner_columns.get(c).map_or(DataType::Text, |c| c.data_type);
        let columns = self
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let (data_type, array_of) = match it {
                    GItem::Key(k) => (inner_type(*k), None),
                    GItem::Agg(Aggregate::Count(_)) => (DataType::Int8, None),
                    GItem::Agg(Aggregate::Min(c) | Aggregate::Max(c)) => (inner_type(*c), None),
                    GItem::Agg(Aggregate::BoolAnd(_) | Aggregate::BoolOr(_)) => {
                        (DataType::Bool, None)
                    }
                    GItem::Agg(Aggregate::StringAgg { .. }) => (DataType::Text, None),
                    GItem::Agg(Aggregate::ArrayAgg { arg, elem, .. }) => (
                        DataType::Text,
                        Some(elem.unwrap_or_else(|| inner_type(*arg))),
                    ),
                };
                ColumnInfo {
                    name: self.labels[i].clone(),
                    data_type,
                    array_of,
                    json: None,
                }
            })
            .collect();
        Ok((columns, rows))
    }
}

/// The type of `e` when its text alone says it (a cast, a comparison);
/// `None` otherwise.
fn static_type(e: &Expr) -> Option<DataType> {
    use gluesql_core::sqlparser::ast::BinaryOperator as B;
    match e {
        Expr::Cast { data_type, .. } => crate::rewrite::engine_type_of(data_type),
        Expr::Nested(x) => static_type(x),
        Expr::BinaryOp {
            op: B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::And | B::Or,
            ..
        } => Some(DataType::Bool),
        Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::IsTrue(_) | Expr::IsFalse(_) => {
            Some(DataType::Bool)
        }
        Expr::UnaryOp {
            op: gluesql_core::sqlparser::ast::UnaryOperator::Not,
            ..
        } => Some(DataType::Bool),
        _ => None,
    }
}

/// The static type of a one-argument call's argument.
fn static_arg_type(call: &Expr) -> Option<DataType> {
    plain_args(call).and_then(|a| a.first().copied().and_then(static_type))
}

/// Column types as describing a statement sees them: through derived
/// tables to the catalogs' and user tables' column types.
struct Resolver<'t> {
    tables: &'t BTreeMap<String, Arc<TableInfo>>,
}

impl Resolver<'_> {
    fn relation_type(&self, name: &ObjectName, column: &str) -> Option<DataType> {
        if let Some(rel) = crate::system::relation_name(name, self.tables) {
            return crate::system::column_type(&rel, column);
        }
        let table = match name.0.as_slice() {
            [t] => t,
            [s, t] if s.value.eq_ignore_ascii_case("public") => t,
            _ => return None,
        };
        self.tables.get(&table.value)?.column_type(column)
    }

    /// The type of a column a select list reads, and its element type when
    /// it is an array (an `array_agg` of a derived table).
    fn column(
        &self,
        qualifier: Option<&Ident>,
        column: &Ident,
        select: &Select,
    ) -> (Option<DataType>, Option<DataType>) {
        let factors = select
            .from
            .iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
        for f in factors {
            match f {
                TableFactor::Table { name, alias, .. } => {
                    let label = alias
                        .as_ref()
                        .map_or_else(|| name.0.last().cloned(), |a| Some(a.name.clone()));
                    let matches = match (qualifier, label) {
                        (None, _) => true,
                        (Some(q), Some(l)) => q.value.eq_ignore_ascii_case(&l.value),
                        (Some(_), None) => false,
                    };
                    if matches {
                        if let Some(t) = self.relation_type(name, &column.value) {
                            return (Some(t), None);
                        }
                    }
                }
                TableFactor::Derived {
                    subquery,
                    alias: Some(a),
                    ..
                } if qualifier.is_none_or(|q| q.value.eq_ignore_ascii_case(&a.name.value)) => {
                    let SetExpr::Select(inner) = subquery.body.as_ref() else {
                        continue;
                    };
                    let Some(labels) = crate::infer::select_labels(subquery) else {
                        continue;
                    };
                    let Some(i) = labels
                        .iter()
                        .position(|l| l.eq_ignore_ascii_case(&column.value))
                    else {
                        continue;
                    };
                    let Some(e) = inner.projection.get(i).and_then(item_expr) else {
                        continue;
                    };
                    return self.item(e, inner);
                }
                _ => {}
            }
        }
        (None, None)
    }

    /// The type of a select item, and its element type when it is an
    /// array.
    fn item(&self, e: &Expr, select: &Select) -> (Option<DataType>, Option<DataType>) {
        match (e, function_name(e).as_deref()) {
            (_, Some("array_agg")) => {
                let arg = plain_args(e).and_then(|a| a.first().and_then(|x| self.expr(x, select)));
                (
                    Some(DataType::Text),
                    Some(static_arg_type(e).or(arg).unwrap_or(DataType::Text)),
                )
            }
            (_, Some("unnest")) => (
                plain_args(e)
                    .and_then(|a| a.first().and_then(|x| array_column(x, select, self.tables)))
                    .map(ArrayKind::element_type),
                None,
            ),
            (_, Some("generate_subscripts")) => (Some(DataType::Int4), None),
            (Expr::Identifier(c), _) => self.column(None, c, select),
            (Expr::CompoundIdentifier(p), _) if p.len() >= 2 => {
                self.column(Some(&p[p.len() - 2]), &p[p.len() - 1], select)
            }
            _ => (self.expr(e, select), None),
        }
    }

    fn expr(&self, e: &Expr, select: &Select) -> Option<DataType> {
        if let Some(t) = static_type(e) {
            return Some(t);
        }
        match e {
            Expr::Identifier(c) => self.column(None, c, select).0,
            Expr::CompoundIdentifier(p) if p.len() >= 2 => {
                self.column(Some(&p[p.len() - 2]), &p[p.len() - 1], select)
                    .0
            }
            Expr::Value(SqlValue::SingleQuotedString(_)) => Some(DataType::Text),
            Expr::Value(SqlValue::Boolean(_)) => Some(DataType::Bool),
            Expr::Case {
                results,
                else_result,
                ..
            } => results
                .iter()
                .chain(else_result.as_deref())
                .find_map(|r| self.expr(r, select)),
            _ => match function_name(e).as_deref() {
                Some("count") => Some(DataType::Int8),
                Some("string_agg") => Some(DataType::Text),
                Some("bool_and" | "bool_or" | "every") => Some(DataType::Bool),
                Some("min" | "max") => {
                    plain_args(e).and_then(|a| a.first().and_then(|x| self.expr(x, select)))
                }
                _ => None,
            },
        }
    }
}

/// What describing `q` (a prepared statement) reports when it selects
/// `unnest`/`generate_subscripts`, `array_agg`/`string_agg`, or an
/// `array_agg` column of a derived table: the labels, and the types as
/// running it gives them (arrays with their element type); `None` for
/// other queries. A column whose type cannot be seen is text.
pub(crate) fn describe(
    q: &Query,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Option<Vec<ColumnInfo>> {
    let SetExpr::Select(select) = q.body.as_ref() else {
        return None;
    };
    let ours = selects_srf(q) || selects_list_agg(q);
    if !ours && array_sources(select).is_empty() {
        return None;
    }
    let labels = crate::infer::select_labels(q)?;
    let r = Resolver { tables };
    Some(
        select
            .projection
            .iter()
            .zip(labels)
            .map(|(item, name)| {
                let (t, array_of) = item_expr(item).map_or((None, None), |e| r.item(e, select));
                ColumnInfo {
                    name,
                    data_type: t.unwrap_or(DataType::Text),
                    array_of,
                    json: None,
                }
            })
            .collect(),
    )
}

/// The `array_agg` columns of the derived tables of `select`'s FROM:
/// (alias, column label).
fn array_sources(select: &Select) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let factors = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    for f in factors {
        let TableFactor::Derived {
            subquery,
            alias: Some(a),
            ..
        } = f
        else {
            continue;
        };
        let (SetExpr::Select(inner), Some(labels)) = (
            subquery.body.as_ref(),
            crate::infer::select_labels(subquery),
        ) else {
            continue;
        };
        for (item, label) in inner.projection.iter().zip(labels) {
            if item_expr(item).is_some_and(|e| function_name(e).as_deref() == Some("array_agg")) {
                out.push((a.name.value.clone(), label));
            }
        }
    }
    out
}

/// The arrays a query reads from derived tables of its FROM (see
/// [`derived_arrays`]).
#[derive(Debug, Default)]
pub(crate) struct DerivedArrays {
    /// The derived tables whose rows may hold arrays.
    pub(crate) aliases: Vec<String>,
    /// Per result column: its element type when it is such an array.
    pub(crate) items: Vec<Option<DataType>>,
}

/// The `array_agg` columns of derived tables that the top-level `SELECT`
/// `q` passes on as its own columns. Those derived tables run first and
/// their arrays travel as text; that is sound only when the statement does
/// nothing else with them, so any other use (a condition, a sort key, an
/// expression) is refused with `0A000`. `None` when there are none.
///
/// # Errors
/// `0A000` as said.
pub(crate) fn derived_arrays(
    q: &Query,
    tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Result<Option<DerivedArrays>> {
    let SetExpr::Select(select) = q.body.as_ref() else {
        return Ok(None);
    };
    let sources = array_sources(select);
    if sources.is_empty() {
        return Ok(None);
    }
    let is_source = |e: &Expr| match e {
        Expr::CompoundIdentifier(p) if p.len() >= 2 => sources.iter().any(|(a, c)| {
            p[p.len() - 2].value.eq_ignore_ascii_case(a)
                && p[p.len() - 1].value.eq_ignore_ascii_case(c)
        }),
        Expr::Identifier(i) => sources.iter().any(|(_, c)| i.value.eq_ignore_ascii_case(c)),
        _ => false,
    };
    let r = Resolver { tables };
    let mut items = Vec::new();
    let mut plain = 0usize;
    for item in &select.projection {
        match item_expr(item) {
            Some(e) if is_source(e) => {
                plain += 1;
                items.push(r.item(e, select).1);
            }
            _ => items.push(None),
        }
    }
    let mut uses = 0usize;
    let _ = gluesql_core::sqlparser::ast::visit_expressions(q, |e| {
        if is_source(e) {
            uses += 1;
        }
        ControlFlow::<()>::Continue(())
    });
    if uses != plain {
        return Err(unsupported(
            "an array_agg() column of a derived table is supported only as a select item of \
             the statement (not in conditions, sort keys or expressions)",
        ));
    }
    let mut aliases: Vec<String> = sources.into_iter().map(|(a, _)| a).collect();
    aliases.dedup();
    Ok(Some(DerivedArrays { aliases, items }))
}

//! Static typing of statements, from the table schemas: result columns
//! (labels as PostgreSQL names them, types) and parameter types. Drivers
//! describe a statement before binding it, so both must be known without
//! running it. What cannot be inferred is `None` (sent as text).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    visit_expressions, visit_relations, AssignmentTarget, BinaryOperator, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, ObjectName, Query, SelectItem, SetExpr, Statement,
    TableFactor, TableWithJoins, UnaryOperator, Value as SqlValue,
};
use heliosdb_core::DataType;

use crate::rewrite::engine_type_of;
use crate::store::TableInfo;

pub(crate) type Tables = BTreeMap<String, Arc<TableInfo>>;

fn last(name: &ObjectName) -> String {
    name.0.last().map(|i| i.value.clone()).unwrap_or_default()
}

/// Tables a statement names, with their aliases (alias, table).
struct Scope<'t> {
    entries: Vec<(String, &'t TableInfo)>,
    /// Catalog relations (`pg_class`, …): label, relation as served.
    system: Vec<(String, String)>,
    /// Derived tables (`(SELECT …) AS d`) whose columns are known: label,
    /// columns.
    derived: Vec<(String, Columns)>,
}

/// Result columns as far as known: name, type.
type Columns = Vec<(String, Option<DataType>)>;

impl<'t> Scope<'t> {
    fn of_statement(tables: &'t Tables, stmt: &Statement) -> Self {
        let mut entries = Vec::new();
        let mut system = Vec::new();
        let _ = visit_relations(stmt, |name| {
            if let Some(rel) = crate::system::relation_name(name, tables) {
                system.push((last(name), rel));
            } else if let Some(info) = tables.get(&last(name)) {
                entries.push((last(name), info.as_ref()));
            }
            ControlFlow::<()>::Continue(())
        });
        let mut scope = Scope {
            entries,
            system,
            derived: Vec::new(),
        };
        scope.add_aliases(tables, stmt);
        scope
    }

    fn of_query(tables: &'t Tables, q: &Query) -> Self {
        let mut entries = Vec::new();
        let mut system = Vec::new();
        let mut derived = Vec::new();
        if let SetExpr::Select(s) = q.body.as_ref() {
            for twj in &s.from {
                for f in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation))
                {
                    if let TableFactor::Derived {
                        subquery,
                        alias: Some(alias),
                        ..
                    } = f
                    {
                        if let Some(mut columns) = query_columns(tables, subquery) {
                            for (c, renamed) in columns.iter_mut().zip(&alias.columns) {
                                c.0 = renamed.value.clone();
                            }
                            derived.push((alias.name.value.clone(), columns));
                        }
                    }
                    if let TableFactor::Table { name, alias, .. } = f {
                        let label = alias
                            .as_ref()
                            .map(|a| a.name.value.clone())
                            .unwrap_or_else(|| last(name));
                        if let Some(rel) = crate::system::relation_name(name, tables) {
                            system.push((label, rel));
                        } else if let Some(info) = tables.get(&last(name)) {
                            entries.push((label, info.as_ref()));
                        }
                    }
                }
            }
        }
        Scope {
            entries,
            system,
            derived,
        }
    }

    fn add_aliases(&mut self, tables: &'t Tables, stmt: &Statement) {
        if let Statement::Query(q) = stmt {
            let aliased = Scope::of_query(tables, q);
            self.entries.extend(aliased.entries);
            self.system.extend(aliased.system);
            self.derived.extend(aliased.derived);
        }
    }

    /// Whether the column is a `json` / `jsonb` column of a table in scope.
    fn json(&self, qualifier: Option<&str>, name: &str) -> Option<crate::Json> {
        self.entries
            .iter()
            .filter(|(alias, _)| qualifier.is_none_or(|q| q.eq_ignore_ascii_case(alias)))
            .find(|(_, t)| t.column_type(name).is_some())
            .and_then(|(_, t)| t.column_json(name))
    }

    fn column(&self, qualifier: Option<&str>, name: &str) -> Option<DataType> {
        self.entries
            .iter()
            .filter(|(alias, _)| qualifier.is_none_or(|q| q.eq_ignore_ascii_case(alias)))
            .find_map(|(_, t)| t.column_type(name))
            .or_else(|| {
                self.system
                    .iter()
                    .filter(|(alias, _)| qualifier.is_none_or(|q| q.eq_ignore_ascii_case(alias)))
                    .find_map(|(_, rel)| crate::system::column_type(rel, name))
            })
            .or_else(|| {
                self.derived
                    .iter()
                    .filter(|(alias, _)| qualifier.is_none_or(|q| q.eq_ignore_ascii_case(alias)))
                    .find_map(|(_, columns)| {
                        columns
                            .iter()
                            .find(|(c, _)| c.eq_ignore_ascii_case(name))
                            .and_then(|(_, t)| *t)
                    })
            })
    }
}

/// PostgreSQL's label for an unaliased select expression.
fn label(e: &Expr) -> String {
    labelled(e).0
}

/// PostgreSQL's name for a result column and how strongly the expression
/// claims it (its `FigureColnameInternal`): 2 for a column or a function,
/// 1 for a cast or `CASE`, which give way to a stronger name inside them
/// (`x::text` is `x`, `'1'::int::text` is `text`), 0 for none (`?column?`).
fn labelled(e: &Expr) -> (String, u8) {
    let weak = |s: &str| (s.to_string(), 1);
    let strong = |s: &str| (s.to_string(), 2);
    match e {
        Expr::Identifier(i) => (i.value.clone(), 2),
        Expr::CompoundIdentifier(v) => (v.last().map(|i| i.value.clone()).unwrap_or_default(), 2),
        Expr::Function(f) => (last(&f.name).to_ascii_lowercase(), 2),
        Expr::Nested(expr) => labelled(expr),
        // `col[1]`, `doc['k']`: named after what is subscripted.
        Expr::Subscript { expr, .. } => labelled(expr),
        Expr::Cast {
            expr, data_type, ..
        } => match labelled(expr) {
            (_, s) if s <= 1 => (cast_label(data_type), 1),
            strong => strong,
        },
        // `CASE … ELSE col END` is named after the ELSE branch's column.
        Expr::Case { else_result, .. } => match else_result.as_deref().map(labelled) {
            Some(named @ (_, 2)) => named,
            _ => weak("case"),
        },
        // `(SELECT max(x) …)` is named after the subquery's column.
        Expr::Subquery(q) => match select_labels(q).and_then(|l| l.into_iter().next()) {
            Some(name) if name != "?column?" => (name, 2),
            _ => ("?column?".to_string(), 0),
        },
        Expr::Exists { .. } => strong("exists"),
        Expr::Extract { .. } => strong("extract"),
        Expr::Substring { .. } => strong("substring"),
        Expr::Position { .. } => strong("position"),
        Expr::Ceil { .. } => strong("ceil"),
        Expr::Floor { .. } => strong("floor"),
        Expr::Trim { trim_where, .. } => strong(match trim_where {
            Some(gluesql_core::sqlparser::ast::TrimWhereField::Leading) => "ltrim",
            Some(gluesql_core::sqlparser::ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }),
        // `interval '1 day'`, `date '…'`: casts of a constant, named by
        // the type.
        Expr::Interval(_) => weak("interval"),
        Expr::TypedString { data_type, .. } => (cast_label(data_type), 1),
        _ => ("?column?".to_string(), 0),
    }
}

/// The label PostgreSQL gives a cast of a value: the type's internal name.
fn cast_label(t: &gluesql_core::sqlparser::ast::DataType) -> String {
    use gluesql_core::sqlparser::ast::DataType as T;
    match t {
        T::Varchar(_) | T::CharacterVarying(_) | T::CharVarying(_) => "varchar".into(),
        T::Char(_) | T::Character(_) => "bpchar".into(),
        T::JSON => "json".into(),
        T::JSONB => "jsonb".into(),
        T::Custom(name, _) => last(name).to_ascii_lowercase(),
        other => match crate::rewrite::engine_type_of(other) {
            Some(DataType::Int2) => "int2".into(),
            Some(DataType::Int4) => "int4".into(),
            Some(DataType::Int8) => "int8".into(),
            Some(DataType::Float8) => "float8".into(),
            Some(DataType::Float4) => "float4".into(),
            Some(DataType::Numeric) => "numeric".into(),
            Some(DataType::Text) => "text".into(),
            Some(DataType::Bool) => "bool".into(),
            Some(DataType::Bytes) => "bytea".into(),
            Some(DataType::Timestamp) => "timestamp".into(),
            Some(DataType::TimestampTz) => "timestamptz".into(),
            Some(DataType::Date) => "date".into(),
            Some(DataType::Time) => "time".into(),
            Some(DataType::Interval) => "interval".into(),
            Some(DataType::Uuid) => "uuid".into(),
            None => other.to_string().to_ascii_lowercase(),
        },
    }
}

/// The column labels PostgreSQL gives a query's result, from the statement
/// as written (before any rewrite); `None` when a `*` makes them depend on
/// the tables (the executor's labels are right there).
pub(crate) fn select_labels(q: &Query) -> Option<Vec<String>> {
    fn of(body: &SetExpr) -> Option<Vec<String>> {
        match body {
            SetExpr::Select(s) => s
                .projection
                .iter()
                .map(|item| match item {
                    SelectItem::UnnamedExpr(e) => Some(label(e)),
                    SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
                    _ => None,
                })
                .collect(),
            SetExpr::SetOperation { left, .. } => of(left),
            SetExpr::Query(q) => of(&q.body),
            _ => None,
        }
    }
    of(&q.body)
}

fn first_arg(args: &FunctionArguments) -> Option<&Expr> {
    match args {
        FunctionArguments::List(l) => l.args.first().and_then(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            FunctionArg::Named {
                arg: FunctionArgExpr::Expr(e),
                ..
            } => Some(e),
            _ => None,
        }),
        _ => None,
    }
}

/// The type two numbers resolve to in CASE, COALESCE and set operations:
/// the wider (a real next to an integer or NUMERIC is a real).
fn wider(a: Option<DataType>, b: Option<DataType>) -> Option<DataType> {
    use DataType::*;
    let rank = |t: DataType| match t {
        Int2 => 1,
        Int4 => 2,
        Int8 => 3,
        Numeric => 4,
        Float4 => 5,
        Float8 => 6,
        _ => 0,
    };
    match (a, b) {
        (Some(x), Some(y)) if rank(x) > 0 && rank(y) > 0 => {
            Some(if rank(x) >= rank(y) { x } else { y })
        }
        (Some(x), None) | (None, Some(x)) => Some(x),
        (Some(x), Some(_)) => Some(x),
        (None, None) => None,
    }
}

/// The type several results resolve to (CASE branches, COALESCE
/// arguments): NULLs and unknown types aside, the widest number.
fn common_type<'e>(scope: &Scope<'_>, es: impl Iterator<Item = &'e Expr>) -> Option<DataType> {
    es.filter(|e| !matches!(e, Expr::Value(SqlValue::Null)))
        .map(|e| expr_type(scope, e))
        .fold(None, wider)
}

fn expr_type(scope: &Scope<'_>, e: &Expr) -> Option<DataType> {
    match e {
        Expr::Identifier(i) => {
            crate::jsonops::derived_type(&i.value).or_else(|| scope.column(None, &i.value))
        }
        Expr::CompoundIdentifier(v) if v.len() >= 2 => {
            crate::jsonops::derived_type(&v[v.len() - 1].value)
                .or_else(|| scope.column(Some(&v[v.len() - 2].value), &v[v.len() - 1].value))
        }
        Expr::Nested(e) => expr_type(scope, e),
        Expr::Cast { data_type, .. } => engine_type_of(data_type),
        Expr::Interval(_) => Some(DataType::Interval),
        Expr::TypedString { data_type, .. } => engine_type_of(data_type),
        Expr::Value(v) => match v {
            SqlValue::Number(n, _) => {
                let n = n.to_string();
                if n.contains(['.', 'e', 'E']) {
                    Some(DataType::Numeric)
                } else if n.parse::<i32>().is_ok() {
                    Some(DataType::Int4)
                } else if n.parse::<i64>().is_ok() {
                    Some(DataType::Int8)
                } else {
                    Some(DataType::Numeric)
                }
            }
            SqlValue::SingleQuotedString(_) => Some(DataType::Text),
            SqlValue::Boolean(_) => Some(DataType::Bool),
            _ => None,
        },
        Expr::Function(f) => {
            let name = last(&f.name).to_ascii_lowercase();
            let arg = first_arg(&f.args).and_then(|a| expr_type(scope, a));
            match name.as_str() {
                "count" => Some(DataType::Int8),
                "sum" => match arg {
                    Some(DataType::Int2 | DataType::Int4) => Some(DataType::Int8),
                    other => other,
                },
                "avg" | "stdev" | "variance" => Some(DataType::Float8),
                "min" | "max" | "abs" => arg,
                // The common type of the arguments, as for CASE.
                "coalesce" | "ifnull" | "greatest" | "least" => match &f.args {
                    FunctionArguments::List(l) => common_type(
                        scope,
                        l.args.iter().filter_map(|a| match a {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                            _ => None,
                        }),
                    ),
                    _ => arg,
                },
                "lower" | "upper" | "concat" | "substr" | "trim" | "ltrim" | "rtrim" | "lpad"
                | "rpad" | "replace" | "left" | "right" | "reverse" | "repeat" => {
                    Some(DataType::Text)
                }
                "regexp_replace" | "translate" | "quote_literal" | "to_hex" => Some(DataType::Text),
                "octet_length" => Some(DataType::Int4),
                "starts_with" => Some(DataType::Bool),
                "length" | "char_length" => Some(DataType::Int8),
                "now" | "current_timestamp" => Some(DataType::TimestampTz),
                "current_date" => Some(DataType::Date),
                "localtimestamp" => Some(DataType::Timestamp),
                "generate_uuid" | "gen_random_uuid" => Some(DataType::Uuid),
                "rand" | "random" => Some(DataType::Float8),
                _ => None,
            }
        }
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo => {
                let (l, r) = (expr_type(scope, left), expr_type(scope, right));
                use DataType::{
                    Date, Float4, Float8, Int2, Int4, Int8, Interval, Numeric, Timestamp,
                    TimestampTz,
                };
                match (l, r, op) {
                    // date ± interval is a timestamp; timestamp - timestamp
                    // an interval; date - date an integer (left to the value).
                    (Some(Date), Some(Interval), _) | (Some(Interval), Some(Date), _) => {
                        Some(Timestamp)
                    }
                    (Some(Timestamp), Some(Timestamp), BinaryOperator::Minus)
                    | (Some(TimestampTz), Some(TimestampTz), BinaryOperator::Minus) => {
                        Some(Interval)
                    }
                    (Some(Date), Some(Date), _) => None,
                    (Some(t @ (Timestamp | TimestampTz)), Some(Interval), _) => Some(t),
                    (Some(Interval), Some(Interval), _) => Some(Interval),
                    // An interval times or by a number stays an interval.
                    (Some(Interval), Some(n), _) | (Some(n), Some(Interval), _)
                        if matches!(n, Int2 | Int4 | Int8 | Numeric | Float8 | Float4) =>
                    {
                        Some(Interval)
                    }
                    (Some(Interval), _, _) | (_, Some(Interval), _) => None,
                    // A real with another number is computed in double
                    // precision (`float48mul`, and `real * 3`).
                    (Some(Float4), Some(o), _) | (Some(o), Some(Float4), _)
                        if o != Float4 && matches!(o, Int2 | Int4 | Int8 | Numeric | Float8) =>
                    {
                        Some(Float8)
                    }
                    // An operand of unknown type (a scalar subquery's)
                    // decides the type: it is not the other operand's
                    // (`(SELECT max(f) …) * 2` is no integer).
                    (None, _, _) if !matches!(**left, Expr::Value(SqlValue::Null)) => None,
                    (_, None, _) if !matches!(**right, Expr::Value(SqlValue::Null)) => None,
                    _ => wider(l, r),
                }
            }
            BinaryOperator::StringConcat
            | BinaryOperator::Arrow
            | BinaryOperator::LongArrow
            | BinaryOperator::HashArrow
            | BinaryOperator::HashLongArrow => Some(DataType::Text),
            // Operators of unknown result type.
            BinaryOperator::Custom(_) | BinaryOperator::PGCustomBinaryOperator(_) => None,
            _ => Some(DataType::Bool),
        },
        Expr::UnaryOp { op, expr } => match op {
            UnaryOperator::Not => Some(DataType::Bool),
            _ => expr_type(scope, expr),
        },
        // PostgreSQL resolves the results to one type: the widest number
        // when they are numbers (`THEN 1 … THEN 2.5` is numeric).
        Expr::Case {
            results,
            else_result,
            ..
        } => common_type(scope, results.iter().chain(else_result.as_deref())),
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::Exists { .. } => Some(DataType::Bool),
        _ => None,
    }
}

/// The type of an expression among the columns of every table `stmt`
/// names (`None` when unknown), for rewrites that depend on it.
pub(crate) fn statement_typer<'t>(
    tables: &'t Tables,
    stmt: &Statement,
) -> impl Fn(&Expr) -> Option<DataType> + 't {
    let scope = Scope::of_statement(tables, stmt);
    move |e| expr_type(&scope, e)
}

/// Result columns of a query: (label, type when known).
pub(crate) fn query_columns(tables: &Tables, q: &Query) -> Option<Columns> {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let scope = Scope::of_query(tables, q);
    let mut out = Vec::new();
    for item in &s.projection {
        match item {
            SelectItem::UnnamedExpr(e) => out.push((label(e), expr_type(&scope, e))),
            SelectItem::ExprWithAlias { expr, alias } => {
                out.push((alias.value.clone(), expr_type(&scope, expr)))
            }
            SelectItem::Wildcard(_) => {
                // `SELECT * FROM (…) AS d`: the derived table's columns.
                if let [TableWithJoins {
                    relation: TableFactor::Derived { alias: Some(a), .. },
                    joins,
                }] = s.from.as_slice()
                {
                    if let Some((_, cols)) = scope.derived.iter().find(|(l, _)| *l == a.name.value)
                    {
                        if joins.is_empty() {
                            out.extend(cols.iter().cloned());
                            continue;
                        }
                    }
                }
                // The order of mixed sources is not tracked here.
                if scope.entries.is_empty() || !scope.derived.is_empty() {
                    return None;
                }
                for (_, t) in &scope.entries {
                    out.extend(t.columns().map(|c| (c.name.clone(), Some(c.data_type))));
                }
            }
            SelectItem::QualifiedWildcard(name, _) => {
                let q = last(name);
                if let Some((_, cols)) = scope.derived.iter().find(|(l, _)| *l == q) {
                    out.extend(cols.iter().cloned());
                    continue;
                }
                let (_, t) = scope
                    .entries
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(&q))?;
                out.extend(t.columns().map(|c| (c.name.clone(), Some(c.data_type))));
            }
        }
    }
    Some(out)
}

/// Which result columns of a query are `json` / `jsonb` documents: a
/// column of such a type (by name, or in `*`), or a cast to it; `None` when
/// the columns are not known here (as for [`query_columns`]).
pub(crate) fn json_columns(tables: &Tables, q: &Query) -> Option<Vec<Option<crate::Json>>> {
    use gluesql_core::sqlparser::ast::DataType as SqlType;
    fn of(scope: &Scope<'_>, e: &Expr) -> Option<crate::Json> {
        match e {
            Expr::Nested(e) => of(scope, e),
            // `doc -> 'k'`, `doc #> '{a,b}'`: of the document's kind.
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Arrow | BinaryOperator::HashArrow,
                ..
            } => of(scope, left),
            // `doc['k']`: jsonb.
            Expr::Subscript { expr, .. } => {
                of(scope, expr).filter(|k| matches!(k, crate::Json::Jsonb))
            }
            Expr::Identifier(i) => scope.json(None, &i.value),
            Expr::CompoundIdentifier(v) if v.len() >= 2 => {
                scope.json(Some(&v[v.len() - 2].value), &v[v.len() - 1].value)
            }
            Expr::Cast { data_type, .. } => match data_type {
                SqlType::JSON => Some(crate::Json::Json),
                SqlType::JSONB => Some(crate::Json::Jsonb),
                _ => None,
            },
            Expr::TypedString { data_type, .. } => match data_type {
                SqlType::JSON => Some(crate::Json::Json),
                SqlType::JSONB => Some(crate::Json::Jsonb),
                _ => None,
            },
            _ => None,
        }
    }
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let scope = Scope::of_query(tables, q);
    let mut out = Vec::new();
    for item in &s.projection {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                out.push(of(&scope, e))
            }
            SelectItem::Wildcard(_) => {
                // The order of mixed sources is not tracked here.
                if scope.entries.is_empty() || !scope.derived.is_empty() {
                    return None;
                }
                for (_, t) in &scope.entries {
                    out.extend(t.columns().map(|c| t.column_json(&c.name)));
                }
            }
            SelectItem::QualifiedWildcard(name, _) => {
                let q = last(name);
                let (_, t) = scope
                    .entries
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(&q))?;
                out.extend(t.columns().map(|c| t.column_json(&c.name)));
            }
        }
    }
    Some(out)
}

/// `RETURNING` columns of an INSERT into `table`.
pub(crate) fn returning_columns(
    info: &TableInfo,
    items: &[SelectItem],
) -> Option<Vec<(String, DataType)>> {
    let mut out = Vec::new();
    for item in items {
        match item {
            SelectItem::Wildcard(_) => {
                out.extend(info.columns().map(|c| (c.name.clone(), c.data_type)))
            }
            SelectItem::UnnamedExpr(e) => {
                let c = crate::session::returned_column(info, e)?;
                out.push((c.to_string(), info.column_type(c)?))
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                let c = crate::session::returned_column(info, expr)?;
                out.push((alias.value.clone(), info.column_type(c)?))
            }
            _ => return None,
        }
    }
    Some(out)
}

fn placeholder(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(SqlValue::Placeholder(p)) => p.strip_prefix('$')?.parse::<usize>().ok(),
        Expr::Nested(e) => placeholder(e),
        // `$1::regclass` names a relation: not of the compared OID's type.
        Expr::Cast { data_type, .. }
            if matches!(
                data_type.to_string().to_ascii_lowercase().as_str(),
                "regclass" | "regtype" | "regproc" | "regnamespace"
            ) =>
        {
            None
        }
        Expr::Cast { expr, .. } => placeholder(expr),
        _ => None,
    }
}

/// Types of `$1`, `$2`, … (index 0 is `$1`), inferred from the columns they
/// are compared with, inserted into or assigned to.
pub(crate) fn param_types(tables: &Tables, stmt: &Statement) -> Vec<Option<DataType>> {
    let mut types: Vec<Option<DataType>> = Vec::new();
    let mut max = 0usize;
    let set = |types: &mut Vec<Option<DataType>>, n: usize, t: Option<DataType>| {
        if n == 0 {
            return;
        }
        if types.len() < n {
            types.resize(n, None);
        }
        if types[n - 1].is_none() {
            types[n - 1] = t;
        }
    };
    let _ = visit_expressions(stmt, |e| {
        if let Some(n) = placeholder(e) {
            max = max.max(n);
        }
        ControlFlow::<()>::Continue(())
    });
    let scope = Scope::of_statement(tables, stmt);
    // Explicit casts win: `$1::int8`. The cast right around the parameter
    // gives its type: `$1::date::text` is a date (made text afterwards), as
    // in PostgreSQL.
    let _ = visit_expressions(stmt, |e| {
        if let Expr::Cast {
            expr, data_type, ..
        } = e
        {
            let mut inner = expr.as_ref();
            while let Expr::Nested(e) = inner {
                inner = e;
            }
            if let Some(n) = placeholder(inner).filter(|_| !matches!(inner, Expr::Cast { .. })) {
                set(&mut types, n, engine_type_of(data_type));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    match stmt {
        Statement::Insert(ins) => {
            if let Some(info) = tables.get(&last(&ins.table_name)) {
                let cols = info.insert_types(&ins.columns);
                if let Some(src) = &ins.source {
                    if let SetExpr::Values(v) = src.body.as_ref() {
                        for row in &v.rows {
                            for (i, e) in row.iter().enumerate() {
                                if let Some(n) = placeholder(e) {
                                    set(&mut types, n, cols.get(i).copied().flatten());
                                }
                            }
                        }
                    }
                }
            }
        }
        Statement::Update { assignments, .. } => {
            for a in assignments {
                if let (AssignmentTarget::ColumnName(c), Some(n)) =
                    (&a.target, placeholder(&a.value))
                {
                    set(&mut types, n, scope.column(None, &last(c)));
                }
            }
        }
        Statement::Query(q) => {
            if let Some(n) = q.limit.as_ref().and_then(placeholder) {
                set(&mut types, n, Some(DataType::Int8));
            }
            if let Some(n) = q.offset.as_ref().and_then(|o| placeholder(&o.value)) {
                set(&mut types, n, Some(DataType::Int8));
            }
        }
        _ => {}
    }
    let _ = visit_expressions(stmt, |e| {
        match e {
            Expr::BinaryOp { left, right, op } => {
                let text = matches!(op, BinaryOperator::StringConcat);
                if let Some(n) = placeholder(left) {
                    let t = if text {
                        Some(DataType::Text)
                    } else {
                        expr_type(&scope, right)
                    };
                    set(&mut types, n, t);
                }
                if let Some(n) = placeholder(right) {
                    let t = if text {
                        Some(DataType::Text)
                    } else {
                        expr_type(&scope, left)
                    };
                    set(&mut types, n, t);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                let t = expr_type(&scope, expr);
                for b in [low, high] {
                    if let Some(n) = placeholder(b) {
                        set(&mut types, n, t);
                    }
                }
            }
            Expr::InList { expr, list, .. } => {
                let t = expr_type(&scope, expr);
                for b in list {
                    if let Some(n) = placeholder(b) {
                        set(&mut types, n, t);
                    }
                }
            }
            Expr::Like { pattern, .. } | Expr::ILike { pattern, .. } => {
                if let Some(n) = placeholder(pattern) {
                    set(&mut types, n, Some(DataType::Text));
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    if types.len() < max {
        types.resize(max, None);
    }
    types
}

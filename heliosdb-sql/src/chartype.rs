//! `CHAR(n)` columns read as PostgreSQL's `bpchar`: values are stored
//! blank-padded to `n` (see `store::column_text`), so a column selected as
//! it is comes out padded; everywhere else — comparisons, functions,
//! concatenation — PostgreSQL ignores the trailing blanks (`c = 'x'` is
//! true, `length(c)` is 1, `c || 'y'` is `xy`), so a reference to the
//! column inside an expression reads `rtrim(c)`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, visit_relations, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, ObjectName, Query, SelectItem,
    SetExpr, Statement, VisitMut, VisitorMut,
};

use crate::store::TableInfo;

fn rtrim(e: Expr) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![Ident::new("RTRIM")]),
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(e))],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

struct Trim<'t> {
    tables: Vec<&'t TableInfo>,
}

impl Trim<'_> {
    /// Whether `e` names a column that is `CHAR(n)` in the tables the
    /// statement reads (and not a column of another type in any of them).
    fn is_bpchar(&self, e: &Expr) -> bool {
        let name = match e {
            Expr::Identifier(i) => &i.value,
            Expr::CompoundIdentifier(parts) => match parts.last() {
                Some(i) => &i.value,
                None => return false,
            },
            _ => return false,
        };
        let mut found = false;
        for t in &self.tables {
            if t.column_type(name).is_some() {
                if !t.meta.bpchar.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                    return false;
                }
                found = true;
            }
        }
        found
    }

    fn trim_in(&self, e: &mut Expr) {
        // A literal compared with the column is a `bpchar` too: its
        // trailing blanks do not count either (`c = 'ab   '` is true).
        let _ = visit_expressions_mut(e, |x| {
            use gluesql_core::sqlparser::ast::BinaryOperator as B;
            let trim_literal = |l: &mut Expr| {
                if let Expr::Value(gluesql_core::sqlparser::ast::Value::SingleQuotedString(s)) = l {
                    let kept = s.trim_end_matches(' ').len();
                    s.truncate(kept);
                }
            };
            match x {
                Expr::BinaryOp {
                    left,
                    op: B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq,
                    right,
                } => {
                    if self.is_bpchar(left) {
                        trim_literal(right);
                    } else if self.is_bpchar(right) {
                        trim_literal(left);
                    }
                }
                Expr::InList { expr, list, .. } if self.is_bpchar(expr) => {
                    list.iter_mut().for_each(trim_literal);
                }
                Expr::Between {
                    expr, low, high, ..
                } if self.is_bpchar(expr) => {
                    trim_literal(low);
                    trim_literal(high);
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        let _ = visit_expressions_mut(e, |x| {
            if self.is_bpchar(x) {
                let inner =
                    std::mem::replace(x, Expr::Value(gluesql_core::sqlparser::ast::Value::Null));
                *x = rtrim(inner);
            }
            ControlFlow::<()>::Continue(())
        });
        // `concat`, `concat_ws` and `format` print their "any" arguments
        // with the type's output function, which keeps the padding
        // (`concat(c, '|')` is `ab  |`); their text separator or format
        // is a text cast, trimmed. The `rtrim` just wrapped around such an
        // argument is taken off again.
        let _ = visit_expressions_mut(e, |x| {
            if let Expr::Function(f) = x {
                let name = f.name.to_string().to_ascii_lowercase();
                let skip = match name.as_str() {
                    "concat" => 0,
                    "concat_ws" | "format" => 1,
                    _ => return ControlFlow::<()>::Continue(()),
                };
                if let FunctionArguments::List(list) = &mut f.args {
                    for arg in list.args.iter_mut().skip(skip) {
                        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(a)) = arg {
                            if let Some(column) = self.our_rtrim(a) {
                                *a = column;
                            }
                        }
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }

    /// The column of `RTRIM(c)` as [`rtrim`] writes it around a `CHAR(n)`
    /// column `c`.
    fn our_rtrim(&self, e: &Expr) -> Option<Expr> {
        let Expr::Function(f) = e else { return None };
        if f.name.0.len() != 1 || f.name.0[0].value != "RTRIM" || f.name.0[0].quote_style.is_some()
        {
            return None;
        }
        let FunctionArguments::List(list) = &f.args else {
            return None;
        };
        match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(c))] if self.is_bpchar(c) => {
                Some(c.clone())
            }
            _ => None,
        }
    }

    /// An expression that is a column as it is (a select item, a sort or
    /// grouping key) keeps the padded value.
    fn trim_unless_bare(&self, e: &mut Expr) {
        if !self.is_bpchar(e) {
            self.trim_in(e);
        }
    }
}

impl VisitorMut for Trim<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(s) = q.body.as_mut() {
            for item in &mut s.projection {
                match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        self.trim_unless_bare(e);
                    }
                    _ => {}
                }
            }
            if let Some(w) = s.selection.as_mut() {
                self.trim_in(w);
            }
            if let Some(h) = s.having.as_mut() {
                self.trim_in(h);
            }
            if let GroupByExpr::Expressions(exprs, _) = &mut s.group_by {
                for e in exprs {
                    self.trim_unless_bare(e);
                }
            }
            for twj in &mut s.from {
                for j in &mut twj.joins {
                    use gluesql_core::sqlparser::ast::{JoinConstraint, JoinOperator as J};
                    if let J::Inner(JoinConstraint::On(on))
                    | J::LeftOuter(JoinConstraint::On(on))
                    | J::RightOuter(JoinConstraint::On(on))
                    | J::FullOuter(JoinConstraint::On(on)) = &mut j.join_operator
                    {
                        self.trim_in(on);
                    }
                }
            }
        }
        if let Some(o) = q.order_by.as_mut() {
            for e in &mut o.exprs {
                self.trim_unless_bare(&mut e.expr);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites `stmt` as the module docs say (queries, and the expressions
/// of UPDATE and DELETE).
pub(crate) fn trim_references(stmt: &mut Statement, tables: &BTreeMap<String, Arc<TableInfo>>) {
    let mut names = Vec::new();
    let _ = visit_relations(stmt, |n| {
        if let Some(last) = n.0.last() {
            names.push(last.value.clone());
        }
        ControlFlow::<()>::Continue(())
    });
    let t = Trim {
        tables: names
            .iter()
            .filter_map(|n| tables.get(n).map(|t| &**t))
            .collect(),
    };
    if !t.tables.iter().any(|i| !i.meta.bpchar.is_empty()) {
        return;
    }
    let mut t = t;
    match stmt {
        Statement::Update {
            assignments,
            selection,
            ..
        } => {
            for a in assignments {
                t.trim_in(&mut a.value);
            }
            if let Some(w) = selection {
                t.trim_in(w);
            }
        }
        Statement::Delete(d) => {
            if let Some(w) = d.selection.as_mut() {
                t.trim_in(w);
            }
        }
        Statement::Query(_) => {
            let _ = stmt.visit(&mut t);
        }
        Statement::Insert(ins) => {
            if let Some(source) = ins.source.as_mut() {
                let _ = source.visit(&mut t);
            }
        }
        _ => {}
    }
}

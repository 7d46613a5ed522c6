//! `INSERT … VALUES … ON CONFLICT [(columns)] DO NOTHING | DO UPDATE SET …
//! [WHERE …]`, which GlueSQL does not have, as PostgreSQL defines it: each
//! row is inserted unless a row with the same values in the conflict
//! target's columns exists; then it is skipped (`DO NOTHING`) or that row is
//! updated, with `EXCLUDED.col` meaning the value proposed for `col`.
//!
//! It runs row by row inside the statement's transaction (the autocommit
//! statement's implicit one, or the open block), each row under a savepoint,
//! so a failing row undoes only itself before the error ends the statement.
//! Without a target, `DO NOTHING` skips a row that violates any unique
//! constraint (the insert is tried and its unique violation undone). As in
//! PostgreSQL, one statement may not update the same row twice (21000), and
//! `DO UPDATE` needs a target.

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, AssignmentTarget, BinaryOperator, ConflictTarget, Expr, Insert,
    OnConflictAction, OnInsert, SetExpr, Statement, TableFactor, TableWithJoins, Value as SqlValue,
    Values,
};
use heliosdb_core::Value;

use crate::session::Session;
use crate::sqlstate::{CARDINALITY_VIOLATION, SYNTAX_ERROR, UNIQUE_VIOLATION};
use crate::{QueryResult, Result, SqlError};

const SAVEPOINT: &str = "__heliosdb_on_conflict";

fn affected_by(r: &QueryResult) -> u64 {
    match r {
        QueryResult::Command { rows, .. } => *rows,
        QueryResult::Rows { rows, .. } => rows.len() as u64,
    }
}

fn unsupported(what: &str) -> SqlError {
    SqlError::Unsupported(format!("INSERT … ON CONFLICT {what} is not supported"))
}

/// The text a conflict-target expression stands for, to notice the same
/// target twice in one statement (parameters by their value).
fn key_text(e: &Expr, params: &[Value]) -> String {
    if let Expr::Value(SqlValue::Placeholder(p)) = e {
        if let Some(v) = p
            .trim_start_matches('$')
            .parse::<usize>()
            .ok()
            .and_then(|i| params.get(i.wrapping_sub(1)))
        {
            return format!("{v:?}");
        }
    }
    e.to_string()
}

/// Replaces `EXCLUDED.col` by the expression proposed for `col`.
fn substitute_excluded(e: &mut Expr, columns: &[String], row: &[Expr]) -> Result<()> {
    let mut missing = None;
    let _ = visit_expressions_mut(e, |x| {
        if let Expr::CompoundIdentifier(parts) = x {
            if let [t, c] = parts.as_slice() {
                if t.value.eq_ignore_ascii_case("excluded") {
                    match columns.iter().position(|n| *n == c.value) {
                        Some(i) => *x = Expr::Nested(Box::new(row[i].clone())),
                        None => missing = Some(c.value.clone()),
                    }
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    match missing {
        Some(c) => Err(unsupported(&format!(
            "… EXCLUDED.{c} for a column the INSERT does not list"
        ))),
        None => Ok(()),
    }
}

impl Session<'_> {
    /// Runs an `INSERT … ON CONFLICT`; the caller holds the transaction.
    pub(crate) fn insert_on_conflict(
        &mut self,
        ins: &Insert,
        params: &[Value],
    ) -> Result<QueryResult> {
        let Some(OnInsert::OnConflict(oc)) = &ins.on else {
            return Err(unsupported("(ON DUPLICATE KEY)"));
        };
        let rows = match ins.source.as_deref().map(|q| q.body.as_ref()) {
            Some(SetExpr::Values(v)) if ins.source.as_ref().is_some_and(|q| q.with.is_none()) => {
                v.rows.clone()
            }
            _ => return Err(unsupported("with a query instead of VALUES")),
        };
        let table = ins
            .table_name
            .0
            .last()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        let info = self.table_info(&table)?;
        let columns: Vec<String> = if ins.columns.is_empty() {
            info.columns().map(|c| c.name.clone()).collect()
        } else {
            ins.columns.iter().map(|c| c.value.clone()).collect()
        };
        let target: Option<Vec<String>> = match &oc.conflict_target {
            None => None,
            Some(ConflictTarget::Columns(c)) => Some(c.iter().map(|i| i.value.clone()).collect()),
            Some(ConflictTarget::OnConstraint(_)) => {
                return Err(unsupported("ON CONSTRAINT"));
            }
        };
        if let Some(t) = &target {
            for c in t {
                if !columns.contains(c) {
                    return Err(unsupported(&format!(
                        "({c}) where the INSERT does not give {c} a value"
                    )));
                }
            }
        }
        // A target of several columns must be a composite key's columns
        // (see `crate::keys`), in any order.
        if let Some(t) = target.as_ref().filter(|t| t.len() > 1) {
            let mut want = t.clone();
            want.sort();
            let matches = info.meta.composite.iter().any(|k| {
                let mut have = k.columns.clone();
                have.sort();
                have == want
            });
            if !matches {
                return Err(SqlError::State {
                    code: "42P10",
                    message: "there is no unique or exclusion constraint matching the ON \
                              CONFLICT specification"
                        .into(),
                });
            }
        }
        if matches!(oc.action, OnConflictAction::DoUpdate(_)) && target.is_none() {
            return Err(SqlError::State {
                code: SYNTAX_ERROR,
                message: "ON CONFLICT DO UPDATE requires inference specification or constraint \
                          name"
                    .into(),
            });
        }
        if !self.in_transaction() {
            return Err(SqlError::Transaction(
                "INSERT … ON CONFLICT runs inside a transaction".into(),
            ));
        }

        let mut affected = 0u64;
        // RETURNING: each inserted or updated row's, as its own INSERT or
        // UPDATE returns it (skipped rows return nothing).
        let mut returned: Option<(Vec<crate::ColumnInfo>, Vec<Vec<Value>>)> = None;
        let mut keep = |r: QueryResult| {
            if let QueryResult::Rows { columns, rows, .. } = r {
                returned
                    .get_or_insert_with(|| (columns, Vec::new()))
                    .1
                    .extend(rows);
            }
        };
        let mut seen: Vec<String> = Vec::new();
        for row in rows {
            if row.len() != columns.len() {
                return Err(SqlError::State {
                    code: SYNTAX_ERROR,
                    message: "INSERT has more expressions than target columns".into(),
                });
            }
            // The row's conflict-target condition: `c1 = e1 AND c2 = e2`.
            let condition = target.as_ref().map(|t| {
                t.iter()
                    .map(|c| {
                        let i = columns.iter().position(|n| n == c).unwrap_or_default();
                        Expr::BinaryOp {
                            left: Box::new(Expr::Identifier(c.as_str().into())),
                            op: BinaryOperator::Eq,
                            right: Box::new(row[i].clone()),
                        }
                    })
                    .reduce(|a, b| Expr::BinaryOp {
                        left: Box::new(a),
                        op: BinaryOperator::And,
                        right: Box::new(b),
                    })
            });
            // Rows this statement inserted or updated, by target values.
            let key = target
                .as_ref()
                .map(|t| {
                    t.iter()
                        .map(|c| {
                            let i = columns.iter().position(|n| n == c).unwrap_or_default();
                            key_text(&row[i], params)
                        })
                        .collect::<Vec<_>>()
                        .join("\u{1f}")
                })
                .unwrap_or_default();
            let existing = match condition.as_ref().and_then(Option::as_ref) {
                Some(cond) => {
                    let probe = format!("SELECT 1 FROM {table} WHERE {cond}");
                    let stmt = crate::limits::parse(&probe)?
                        .pop()
                        .ok_or_else(|| SqlError::Syntax("empty probe".into()))?;
                    !self.run_internal(stmt, params)?.rows().is_empty()
                }
                None => false,
            };
            if existing {
                let OnConflictAction::DoUpdate(du) = &oc.action else {
                    continue;
                };
                if seen.contains(&key) {
                    return Err(SqlError::State {
                        code: CARDINALITY_VIOLATION,
                        message: "ON CONFLICT DO UPDATE command cannot affect row a second time"
                            .into(),
                    });
                }
                seen.push(key);
                let mut assignments = du.assignments.clone();
                for a in &mut assignments {
                    if !matches!(a.target, AssignmentTarget::ColumnName(_)) {
                        return Err(unsupported("DO UPDATE SET (a, b) = …"));
                    }
                    substitute_excluded(&mut a.value, &columns, &row)?;
                }
                let mut selection = condition.flatten();
                if let Some(extra) = &du.selection {
                    let mut extra = extra.clone();
                    substitute_excluded(&mut extra, &columns, &row)?;
                    selection = selection.map(|c| Expr::BinaryOp {
                        left: Box::new(c),
                        op: BinaryOperator::And,
                        right: Box::new(Expr::Nested(Box::new(extra))),
                    });
                }
                let update = Statement::Update {
                    table: TableWithJoins {
                        relation: TableFactor::Table {
                            name: ins.table_name.clone(),
                            alias: None,
                            args: None,
                            with_hints: Vec::new(),
                            version: None,
                            with_ordinality: false,
                            partitions: Vec::new(),
                        },
                        joins: Vec::new(),
                    },
                    assignments,
                    from: None,
                    selection,
                    returning: ins.returning.clone(),
                };
                let r = self.run_internal(update, params)?;
                affected += affected_by(&r);
                keep(r);
                continue;
            }
            // Insert this one row; without a target, a unique violation
            // means "conflict": undo the row and go on.
            let mut single = ins.clone();
            single.on = None;
            single.returning.clone_from(&ins.returning);
            if let Some(q) = single.source.as_mut() {
                *q.body = SetExpr::Values(Values {
                    explicit_row: false,
                    rows: vec![row.clone()],
                });
            }
            self.engine().savepoint(SAVEPOINT)?;
            match self.run_internal(Statement::Insert(single), params) {
                Ok(r) => {
                    self.engine().release_savepoint(SAVEPOINT)?;
                    affected += affected_by(&r);
                    keep(r);
                    seen.push(key);
                }
                Err(e) if target.is_none() && e.sqlstate() == UNIQUE_VIOLATION => {
                    self.engine().rollback_to_savepoint(SAVEPOINT)?;
                    self.engine().release_savepoint(SAVEPOINT)?;
                }
                Err(e) => {
                    self.engine().rollback_to_savepoint(SAVEPOINT)?;
                    self.engine().release_savepoint(SAVEPOINT)?;
                    return Err(e);
                }
            }
        }
        let tag = format!("INSERT 0 {affected}");
        let Some(items) = &ins.returning else {
            return Ok(QueryResult::Command {
                tag,
                rows: affected,
            });
        };
        let (columns, rows) = match returned {
            Some(r) => r,
            None => {
                // Every row skipped: no rows, but the columns.
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                let probe = format!("SELECT {} FROM {table} WHERE false", items.join(", "));
                let stmt = crate::limits::parse(&probe)?
                    .pop()
                    .ok_or_else(|| SqlError::Syntax("empty probe".into()))?;
                match self.run_internal(stmt, params)? {
                    QueryResult::Rows { columns, .. } => (columns, Vec::new()),
                    QueryResult::Command { .. } => (Vec::new(), Vec::new()),
                }
            }
        };
        Ok(QueryResult::Rows { columns, rows, tag })
    }
}

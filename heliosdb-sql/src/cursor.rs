//! SQL cursors: `DECLARE name [NO] SCROLL CURSOR [WITH[OUT] HOLD] FOR
//! query`, `FETCH`/`MOVE` in every direction PostgreSQL has, `CLOSE name`
//! and `CLOSE ALL`.
//!
//! A cursor holds its query's answer as of `DECLARE` (PostgreSQL's cursor
//! sees the snapshot it was declared in; so does this one, since the rows
//! are read then). Without `WITH HOLD` it lives until its transaction ends,
//! and may only be declared inside a transaction block (SQLSTATE 25P01);
//! `WITH HOLD` keeps it after COMMIT, and a ROLLBACK of the transaction
//! that declared it removes it, as in PostgreSQL. `DISCARD ALL` closes
//! every cursor. The answer is held in memory: a cursor over a result
//! larger than memory is not served (the engine materialises results).

use std::collections::BTreeMap;

use gluesql_core::sqlparser::ast::{FetchDirection, Value as SqlValue};

use crate::{ColumnInfo, QueryResult, Result, SqlError};
use heliosdb_core::Value;

/// SQLSTATE 34000: no cursor of that name.
const INVALID_CURSOR_NAME: &str = "34000";
/// SQLSTATE 42P03: a cursor of that name exists.
const DUPLICATE_CURSOR: &str = "42P03";
/// SQLSTATE 55000: backwards on a `NO SCROLL` cursor.
const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";

/// One open cursor.
#[derive(Clone, Debug)]
struct Cursor {
    columns: Vec<ColumnInfo>,
    rows: Vec<Vec<Value>>,
    /// 0: before the first row; `rows.len() + 1`: after the last; else the
    /// row last fetched (1-based), as PostgreSQL counts.
    position: usize,
    /// `NO SCROLL`: only forward.
    no_scroll: bool,
    /// `WITH HOLD`: survives the commit of its transaction.
    hold: bool,
    /// Declared in the transaction still open (a rollback removes it).
    in_open_transaction: bool,
}

/// A session's open cursors, by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cursors {
    open: BTreeMap<String, Cursor>,
}

/// What a `FETCH`/`MOVE` asks for, resolved from the statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `n` rows forward (`NEXT`, `FORWARD n`, `n`, `ALL`: `usize::MAX`).
    Forward(usize),
    /// `n` rows backward (`PRIOR`, `BACKWARD n`, `BACKWARD ALL`).
    Backward(usize),
    /// The row at this position (`ABSOLUTE`, `FIRST`, `LAST`); negative
    /// counts from the end.
    Absolute(i64),
    /// The row this many from the current one (`RELATIVE`).
    Relative(i64),
}

fn count(v: &SqlValue) -> Result<i64> {
    match v {
        SqlValue::Number(n, _) => n
            .to_string()
            .parse::<i64>()
            .map_err(|_| SqlError::Syntax(format!("FETCH count {n} is not an integer in range"))),
        other => Err(SqlError::Syntax(format!(
            "FETCH count {other} is not an integer"
        ))),
    }
}

/// A count of rows to move over: a negative one reverses the direction.
fn signed(n: i64, forward: bool) -> Direction {
    let steps = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
    if (n >= 0) == forward {
        Direction::Forward(steps)
    } else {
        Direction::Backward(steps)
    }
}

impl Direction {
    pub(crate) fn of(d: &FetchDirection) -> Result<Direction> {
        Ok(match d {
            FetchDirection::Next => Direction::Forward(1),
            FetchDirection::Prior => Direction::Backward(1),
            FetchDirection::First => Direction::Absolute(1),
            FetchDirection::Last => Direction::Absolute(-1),
            FetchDirection::All | FetchDirection::ForwardAll => Direction::Forward(usize::MAX),
            FetchDirection::BackwardAll => Direction::Backward(usize::MAX),
            FetchDirection::Count { limit } => signed(count(limit)?, true),
            FetchDirection::Forward { limit } => match limit {
                Some(l) => signed(count(l)?, true),
                None => Direction::Forward(1),
            },
            FetchDirection::Backward { limit } => match limit {
                Some(l) => signed(count(l)?, false),
                None => Direction::Backward(1),
            },
            FetchDirection::Absolute { limit } => Direction::Absolute(count(limit)?),
            FetchDirection::Relative { limit } => Direction::Relative(count(limit)?),
        })
    }

    fn backwards(self) -> bool {
        match self {
            Direction::Backward(_) => true,
            // RELATIVE 0 fetches the current row again: a step back.
            Direction::Relative(n) => n <= 0,
            // Only an ABSOLUTE move to a later row is forward (the caller
            // checks); PostgreSQL refuses the others on NO SCROLL cursors.
            Direction::Absolute(_) => true,
            Direction::Forward(_) => false,
        }
    }
}

fn no_such(name: &str) -> SqlError {
    SqlError::State {
        code: INVALID_CURSOR_NAME,
        message: format!("cursor \"{name}\" does not exist"),
    }
}

impl Cursors {
    /// Opens `name` over a query's answer.
    pub(crate) fn declare(
        &mut self,
        name: &str,
        answer: QueryResult,
        no_scroll: bool,
        hold: bool,
        in_transaction: bool,
    ) -> Result<()> {
        if self.open.contains_key(name) {
            return Err(self.duplicate(name));
        }
        let QueryResult::Rows { columns, rows, .. } = answer else {
            return Err(SqlError::Unsupported(
                "DECLARE CURSOR of a statement that returns no rows".into(),
            ));
        };
        self.open.insert(
            name.to_string(),
            Cursor {
                columns,
                rows,
                position: 0,
                no_scroll,
                hold,
                in_open_transaction: in_transaction,
            },
        );
        Ok(())
    }

    /// The error for declaring `name` again.
    pub(crate) fn duplicate(&self, name: &str) -> SqlError {
        SqlError::State {
            code: DUPLICATE_CURSOR,
            message: format!("cursor \"{name}\" already exists"),
        }
    }

    /// Whether a cursor of this name is open.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.open.contains_key(name)
    }

    /// The result columns of `name` (what a FETCH from it returns).
    pub(crate) fn columns(&self, name: &str) -> Result<Vec<ColumnInfo>> {
        Ok(self
            .open
            .get(name)
            .ok_or_else(|| no_such(name))?
            .columns
            .clone())
    }

    /// Moves `name` as `FETCH` does and returns the rows passed over (what
    /// FETCH returns; MOVE returns only their number).
    pub(crate) fn fetch(
        &mut self,
        name: &str,
        direction: Direction,
    ) -> Result<(Vec<ColumnInfo>, Vec<Vec<Value>>)> {
        let c = self.open.get_mut(name).ok_or_else(|| no_such(name))?;
        let forward_to_later = match direction {
            Direction::Absolute(n) => n > 0 && usize::try_from(n).is_ok_and(|n| n > c.position),
            _ => false,
        };
        if c.no_scroll && direction.backwards() && !forward_to_later {
            return Err(SqlError::State {
                code: OBJECT_NOT_IN_PREREQUISITE_STATE,
                message: "cursor can only scan forward".into(),
            });
        }
        let len = c.rows.len();
        let mut out = Vec::new();
        match direction {
            Direction::Forward(n) => {
                // Rows position+1 ..= position+n that exist.
                let first = c.position.min(len);
                let last = c.position.saturating_add(n).min(len);
                out.extend(c.rows[first..last].iter().cloned());
                c.position = if c.position.saturating_add(n) > len {
                    len + 1
                } else {
                    c.position + n
                };
            }
            Direction::Backward(n) => {
                // Rows position-1 down to position-n that exist.
                let top = c.position.saturating_sub(1).min(len);
                let bottom = c.position.saturating_sub(n).max(1);
                if top >= bottom {
                    out.extend(c.rows[bottom - 1..top].iter().rev().cloned());
                }
                c.position = c.position.saturating_sub(n);
            }
            Direction::Absolute(n) | Direction::Relative(n) => {
                let target: i64 = match direction {
                    Direction::Relative(r) => i64::try_from(c.position)
                        .unwrap_or(i64::MAX)
                        .saturating_add(r),
                    _ if n < 0 => i64::try_from(len).unwrap_or(i64::MAX) + 1 + n,
                    _ => n,
                };
                let len_i = i64::try_from(len).unwrap_or(i64::MAX);
                if target < 1 {
                    c.position = 0;
                } else if target > len_i {
                    c.position = len + 1;
                } else {
                    let at = usize::try_from(target).unwrap_or(len);
                    out.push(c.rows[at - 1].clone());
                    c.position = at;
                }
            }
        }
        Ok((c.columns.clone(), out))
    }

    /// `CLOSE name`.
    pub(crate) fn close(&mut self, name: &str) -> Result<()> {
        self.open
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| no_such(name))
    }

    /// `CLOSE ALL`.
    pub(crate) fn close_all(&mut self) {
        self.open.clear();
    }

    /// The transaction block ended: cursors without `WITH HOLD` close;
    /// held ones declared in it stay if it committed and close if it
    /// rolled back.
    pub(crate) fn transaction_ended(&mut self, committed: bool) {
        self.open
            .retain(|_, c| c.hold && (committed || !c.in_open_transaction));
        for c in self.open.values_mut() {
            c.in_open_transaction = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heliosdb_core::DataType;

    fn cursors(n: i64, no_scroll: bool) -> Cursors {
        let mut c = Cursors::default();
        let answer = QueryResult::Rows {
            columns: vec![ColumnInfo {
                name: "x".into(),
                data_type: DataType::Int8,
                array_of: None,
                json: None,
            }],
            rows: (1..=n).map(|i| vec![Value::Int8(i)]).collect(),
            tag: format!("SELECT {n}"),
        };
        c.declare("c", answer, no_scroll, false, true).unwrap();
        c
    }

    fn ids(c: &mut Cursors, d: Direction) -> Vec<i64> {
        c.fetch("c", d)
            .unwrap()
            .1
            .into_iter()
            .map(|r| match r[0] {
                Value::Int8(i) => i,
                ref v => panic!("{v:?}"),
            })
            .collect()
    }

    /// The answers PostgreSQL 15 gives for the same moves over 5 rows.
    #[test]
    fn moves_as_postgresql_counts_them() {
        let mut c = cursors(5, false);
        assert_eq!(ids(&mut c, Direction::Forward(2)), [1, 2]);
        assert_eq!(ids(&mut c, Direction::Backward(1)), [1]);
        assert_eq!(ids(&mut c, Direction::Backward(5)), Vec::<i64>::new());
        assert_eq!(ids(&mut c, Direction::Forward(1)), [1]);
        assert_eq!(ids(&mut c, Direction::Relative(2)), [3]);
        assert_eq!(ids(&mut c, Direction::Relative(0)), [3]);
        assert_eq!(ids(&mut c, Direction::Absolute(-1)), [5]);
        assert_eq!(ids(&mut c, Direction::Forward(1)), Vec::<i64>::new());
        // After the end: backwards starts with the last row.
        assert_eq!(ids(&mut c, Direction::Backward(2)), [5, 4]);
        assert_eq!(ids(&mut c, Direction::Absolute(9)), Vec::<i64>::new());
        assert_eq!(
            ids(&mut c, Direction::Backward(usize::MAX)),
            [5, 4, 3, 2, 1]
        );
        assert_eq!(ids(&mut c, Direction::Forward(usize::MAX)), [1, 2, 3, 4, 5]);
        assert_eq!(ids(&mut c, Direction::Absolute(0)), Vec::<i64>::new());
        assert_eq!(ids(&mut c, Direction::Forward(1)), [1]);
    }

    #[test]
    fn no_scroll_cursors_only_go_forward() {
        let mut c = cursors(3, true);
        assert_eq!(ids(&mut c, Direction::Forward(1)), [1]);
        assert_eq!(ids(&mut c, Direction::Absolute(3)), [3]);
        for d in [
            Direction::Backward(1),
            Direction::Relative(-1),
            Direction::Relative(0),
            Direction::Absolute(1),
            Direction::Absolute(-1),
        ] {
            match c.fetch("c", d) {
                Err(SqlError::State { code, .. }) => assert_eq!(code, "55000"),
                other => panic!("{d:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn transaction_end_closes_what_postgresql_closes() {
        let mut c = cursors(1, false);
        let held = |c: &mut Cursors, name: &str, in_txn: bool| {
            let answer = QueryResult::Rows {
                columns: Vec::new(),
                rows: Vec::new(),
                tag: "SELECT 0".into(),
            };
            c.declare(name, answer, false, true, in_txn).unwrap();
        };
        held(&mut c, "kept", true);
        c.transaction_ended(true);
        assert!(!c.contains("c"), "without HOLD: closed at commit");
        assert!(c.contains("kept"), "WITH HOLD: kept after commit");
        held(&mut c, "undone", true);
        c.transaction_ended(false);
        assert!(c.contains("kept"), "committed earlier: kept");
        assert!(!c.contains("undone"), "its transaction rolled back");
        assert!(matches!(
            c.declare(
                "kept",
                QueryResult::Command {
                    tag: "x".into(),
                    rows: 0
                },
                false,
                false,
                true
            ),
            Err(SqlError::State { code: "42P03", .. })
        ));
        assert!(matches!(
            c.close("nope"),
            Err(SqlError::State { code: "34000", .. })
        ));
    }
}

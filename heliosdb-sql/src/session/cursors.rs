//! `DECLARE … CURSOR`, `FETCH`, `MOVE` and `CLOSE` in a session (the
//! cursors themselves: [`crate::cursor`]).
//!
//! sqlparser reads `DECLARE` and `CLOSE`, and `FETCH` only with a count
//! after `FORWARD`/`BACKWARD` and with `FROM`/`IN`; PostgreSQL also takes
//! `FETCH c`, `FETCH NEXT c`, `FETCH FORWARD FROM c`, and `MOVE` in all the
//! same forms. A query string that is one `FETCH` or `MOVE` is read here
//! ([`fetch_text`]); inside a longer string the forms sqlparser reads work.

use gluesql_core::sqlparser::ast::{CloseCursor, DeclareType, FetchDirection, Ident, Statement};
use gluesql_core::sqlparser::dialect::PostgreSqlDialect;
use gluesql_core::sqlparser::tokenizer::{Token, Tokenizer};
use heliosdb_core::Value;

use super::Session;
use crate::cursor::Direction;
use crate::{sqlstate, ColumnInfo, QueryResult, Result, SqlError};

/// A cursor's name as PostgreSQL folds it (unquoted: lower case).
pub(super) fn cursor_name(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// A `FETCH` or `MOVE` read from its text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FetchText {
    /// `MOVE`: the rows are passed over, not returned.
    pub(crate) moving: bool,
    pub(crate) direction: Direction,
    pub(crate) name: String,
}

/// Reads `sql` when it is one `FETCH` or `MOVE` statement: `None` when it
/// is not one, an error when it is one PostgreSQL would not accept.
pub(crate) fn fetch_text(sql: &str) -> Option<Result<FetchText>> {
    let first = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()?;
    let moving = if first.eq_ignore_ascii_case("move") {
        true
    } else if first.eq_ignore_ascii_case("fetch") {
        false
    } else {
        return None;
    };
    Some(read_fetch(sql, moving))
}

fn read_fetch(sql: &str, moving: bool) -> Result<FetchText> {
    let statement = if moving { "MOVE" } else { "FETCH" };
    let syntax = |what: &str| SqlError::State {
        code: sqlstate::SYNTAX_ERROR,
        message: format!("syntax error in {statement}: {what}"),
    };
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .map_err(|e| SqlError::Syntax(e.to_string()))?;
    let mut tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    // One statement: a `;` may end it, nothing may follow.
    if let Some(i) = tokens.iter().position(|t| *t == Token::SemiColon) {
        if i + 1 != tokens.len() {
            return Err(SqlError::Unsupported(format!(
                "{statement} followed by other statements in one query string"
            )));
        }
        tokens.truncate(i);
    }
    let mut it = tokens.into_iter();
    it.next(); // FETCH or MOVE
    let mut it = it.peekable();
    let word = |t: Option<&Token>, k: &str| matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    // An optionally signed integer.
    let number = |it: &mut std::iter::Peekable<std::vec::IntoIter<Token>>| -> Option<Result<i64>> {
        let negative = match it.peek() {
            Some(Token::Minus) => {
                it.next();
                true
            }
            Some(Token::Plus) => {
                it.next();
                false
            }
            _ => false,
        };
        match it.peek() {
            Some(Token::Number(n, _)) => {
                let n = n.clone();
                it.next();
                let parsed = n
                    .parse::<i64>()
                    .map_err(|_| syntax(&format!("{n} is not an integer in range")));
                Some(parsed.map(|v| if negative { -v } else { v }))
            }
            _ if negative => Some(Err(syntax("a number must follow the sign"))),
            _ => None,
        }
    };
    let steps = |n: i64, forward: bool| {
        let k = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
        if (n >= 0) == forward {
            Direction::Forward(k)
        } else {
            Direction::Backward(k)
        }
    };
    let direction = if word(it.peek(), "next") {
        it.next();
        Direction::Forward(1)
    } else if word(it.peek(), "prior") {
        it.next();
        Direction::Backward(1)
    } else if word(it.peek(), "first") {
        it.next();
        Direction::Absolute(1)
    } else if word(it.peek(), "last") {
        it.next();
        Direction::Absolute(-1)
    } else if word(it.peek(), "absolute") || word(it.peek(), "relative") {
        let absolute = word(it.next().as_ref(), "absolute");
        let n = number(&mut it).unwrap_or_else(|| Err(syntax("a count must follow")))?;
        if absolute {
            Direction::Absolute(n)
        } else {
            Direction::Relative(n)
        }
    } else if word(it.peek(), "all") {
        it.next();
        Direction::Forward(usize::MAX)
    } else if word(it.peek(), "forward") || word(it.peek(), "backward") {
        let forward = word(it.next().as_ref(), "forward");
        if word(it.peek(), "all") {
            it.next();
            if forward {
                Direction::Forward(usize::MAX)
            } else {
                Direction::Backward(usize::MAX)
            }
        } else {
            match number(&mut it).transpose()? {
                Some(n) => steps(n, forward),
                None => steps(1, forward),
            }
        }
    } else {
        match number(&mut it).transpose()? {
            Some(n) => steps(n, true),
            None => Direction::Forward(1),
        }
    };
    if word(it.peek(), "from") || word(it.peek(), "in") {
        it.next();
    }
    let name = match it.next() {
        Some(Token::Word(w)) => cursor_name(&Ident {
            value: w.value,
            quote_style: w.quote_style,
        }),
        _ => return Err(syntax("a cursor name must follow")),
    };
    if it.next().is_some() {
        return Err(syntax("unexpected text after the cursor name"));
    }
    Ok(FetchText {
        moving,
        direction,
        name,
    })
}

impl Session<'_> {
    /// Runs a `FETCH`/`MOVE` read by [`fetch_text`].
    pub(super) fn fetch(&mut self, f: FetchText) -> Result<QueryResult> {
        let (columns, rows) = self.settings.cursors.fetch(&f.name, f.direction)?;
        Ok(if f.moving {
            QueryResult::Command {
                tag: format!("MOVE {}", rows.len()),
                rows: rows.len() as u64,
            }
        } else {
            QueryResult::Rows {
                tag: format!("FETCH {}", rows.len()),
                columns,
                rows,
            }
        })
    }

    /// The columns a `FETCH` from the open cursor `name` returns (for a
    /// client's Describe of the statement, or of the cursor as a portal);
    /// `None` when no cursor of that name is open.
    pub fn cursor_columns(&self, name: &str) -> Option<Vec<ColumnInfo>> {
        self.settings.cursors.columns(name).ok()
    }

    /// `DECLARE`, `FETCH` (as sqlparser read it) and `CLOSE`; `None` for
    /// any other statement.
    pub(super) fn cursor_statement(
        &mut self,
        stmt: &Statement,
        params: &[Value],
    ) -> Option<Result<QueryResult>> {
        Some(match stmt {
            Statement::Declare { stmts } => self.declare(stmts, params),
            Statement::Fetch {
                name,
                direction,
                into,
            } => self.fetch_parsed(name, direction, into.is_some()),
            Statement::Close { cursor } => match cursor {
                CloseCursor::All => {
                    self.settings.cursors.close_all();
                    Ok(close_tag())
                }
                CloseCursor::Specific { name } => self
                    .settings
                    .cursors
                    .close(&cursor_name(name))
                    .map(|()| close_tag()),
            },
            _ => return None,
        })
    }

    fn fetch_parsed(
        &mut self,
        name: &Ident,
        direction: &FetchDirection,
        into: bool,
    ) -> Result<QueryResult> {
        if into {
            return Err(SqlError::Unsupported("FETCH … INTO".into()));
        }
        self.fetch(FetchText {
            moving: false,
            direction: Direction::of(direction)?,
            name: cursor_name(name),
        })
    }

    fn declare(
        &mut self,
        stmts: &[gluesql_core::sqlparser::ast::Declare],
        params: &[Value],
    ) -> Result<QueryResult> {
        let [d] = stmts else {
            return Err(SqlError::Unsupported("DECLARE of several names".into()));
        };
        if d.declare_type != Some(DeclareType::Cursor) || d.names.len() != 1 {
            return Err(SqlError::Unsupported(
                "DECLARE other than DECLARE name CURSOR FOR query".into(),
            ));
        }
        if d.binary == Some(true) {
            return Err(SqlError::Unsupported(
                "DECLARE … BINARY CURSOR (rows are sent as text)".into(),
            ));
        }
        let name = cursor_name(&d.names[0]);
        let hold = d.hold == Some(true);
        let in_transaction = self.engine.in_transaction();
        if !hold && !in_transaction {
            return Err(SqlError::State {
                code: sqlstate::NO_ACTIVE_TRANSACTION,
                message: "DECLARE CURSOR can only be used in transaction blocks".into(),
            });
        }
        let query = d
            .for_query
            .clone()
            .ok_or_else(|| SqlError::Syntax("DECLARE CURSOR without FOR query".into()))?;
        if self.settings.cursors.contains(&name) {
            // Before the query runs: nothing to read for a refusal.
            return Err(self.settings.cursors.duplicate(&name));
        }
        let answer = self.run(Statement::Query(query), params)?;
        self.settings.cursors.declare(
            &name,
            answer,
            d.scroll == Some(false),
            hold,
            in_transaction,
        )?;
        Ok(QueryResult::Command {
            tag: "DECLARE CURSOR".into(),
            rows: 0,
        })
    }

    /// After each statement: a transaction block that ended closes the
    /// cursors PostgreSQL closes then.
    pub(super) fn cursors_after(&mut self, r: &Result<QueryResult>) {
        if self.engine.in_transaction() {
            return;
        }
        let rolled_back = match r {
            Ok(QueryResult::Command { tag, .. }) => tag == "ROLLBACK",
            Ok(QueryResult::Rows { .. }) => false,
            Err(_) => true,
        };
        self.settings.cursors.transaction_ended(!rolled_back);
    }
}

fn close_tag() -> QueryResult {
    QueryResult::Command {
        tag: "CLOSE CURSOR".into(),
        rows: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> FetchText {
        fetch_text(sql).unwrap().unwrap()
    }

    #[test]
    fn fetch_and_move_in_postgresql_forms() {
        let f = |d, name: &str| FetchText {
            moving: false,
            direction: d,
            name: name.into(),
        };
        assert_eq!(read("FETCH c"), f(Direction::Forward(1), "c"));
        assert_eq!(read("fetch next from C;"), f(Direction::Forward(1), "c"));
        assert_eq!(read("FETCH 5 IN \"My\""), f(Direction::Forward(5), "My"));
        assert_eq!(read("FETCH -2 FROM c"), f(Direction::Backward(2), "c"));
        assert_eq!(read("FETCH FORWARD FROM c"), f(Direction::Forward(1), "c"));
        assert_eq!(read("FETCH BACKWARD 3 c"), f(Direction::Backward(3), "c"));
        assert_eq!(read("FETCH BACKWARD -3 c"), f(Direction::Forward(3), "c"));
        assert_eq!(read("FETCH ALL c"), f(Direction::Forward(usize::MAX), "c"));
        assert_eq!(
            read("FETCH BACKWARD ALL FROM c"),
            f(Direction::Backward(usize::MAX), "c")
        );
        assert_eq!(read("FETCH ABSOLUTE -1 c"), f(Direction::Absolute(-1), "c"));
        assert_eq!(read("FETCH RELATIVE +2 c"), f(Direction::Relative(2), "c"));
        assert_eq!(read("FETCH LAST FROM c"), f(Direction::Absolute(-1), "c"));
        let m = read("MOVE PRIOR IN c");
        assert!(m.moving);
        assert_eq!(m.direction, Direction::Backward(1));
        assert!(fetch_text("SELECT 1").is_none());
        for bad in [
            "FETCH",
            "FETCH FROM",
            "FETCH ABSOLUTE c",
            "FETCH 1 FROM c d",
            "FETCH 1 FROM c; SELECT 1",
        ] {
            assert!(fetch_text(bad).unwrap().is_err(), "{bad}");
        }
    }
}

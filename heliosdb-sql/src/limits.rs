//! Limits that keep one statement from taking the process down, and the
//! session's `statement_timeout`.
//!
//! A stack overflow aborts the whole process (no `catch_unwind` stops it),
//! and everything after parsing walks the AST recursively: our rewrite and
//! inference passes, the audit redaction, `Display`, GlueSQL's translation,
//! planning and evaluation, and even `Drop`. sqlparser bounds its own
//! recursion (`MAX_PARSER_RECURSION`), but left-associative chains such as
//! `1+1+…+1` or `a OR b OR …` are parsed in a loop, so a 20 KB statement
//! becomes a 10,000-deep tree that no later pass survives. So the depth is
//! bounded from the tokens, *before* a tree exists (`expression_depth`),
//! and a statement over [`MAX_EXPRESSION_DEPTH`] is refused with
//! [`SqlError::TooComplex`] (SQLSTATE 54001). Statements within the limits
//! need about 1 MiB of stack at most: a default 2 MiB thread runs them, and
//! the server gives its session threads [`STACK_SIZE`].
//!
//! `statement_timeout` is enforced cooperatively: a deadline per call of
//! [`crate::Session::execute`], checked while the psql catalog emulation
//! filters names and between rows of every table or index scan the SQL
//! layer hands GlueSQL. A single engine call (one `scan_table`, one write)
//! is not interrupted, and neither is CPU work GlueSQL does between rows it
//! fetches (sorting, aggregating what it already read).

use std::cell::Cell;
use std::time::{Duration, Instant};

use gluesql_core::error::{Error as GError, Result as GResult};
use gluesql_core::sqlparser::ast::{Expr, ObjectName, Statement, Value as SqlValue};
use gluesql_core::sqlparser::dialect::PostgreSqlDialect;
use gluesql_core::sqlparser::keywords::Keyword;
use gluesql_core::sqlparser::parser::{Parser, ParserError};
use gluesql_core::sqlparser::tokenizer::{Token, TokenWithLocation, Tokenizer, Whitespace};
use heliosdb_core::config::{parse_time_setting, TimeUnit};

use crate::{Result, SqlError};

/// Largest expression depth a statement may reach, as bounded by
/// `expression_depth` (an over-estimate: `a = 1 OR b = 2` counts both
/// operators of each term, so 250 such terms fit; an `IN` list of any
/// length counts one). GlueSQL's passes take about 2 KiB of stack per
/// level, so this keeps every statement within about 1 MiB.
pub const MAX_EXPRESSION_DEPTH: usize = 500;

/// sqlparser's recursion limit (its default), which bounds nesting that the
/// parser recurses for: parentheses, subqueries, `CASE`, `NOT`, unary minus.
pub const MAX_PARSER_RECURSION: usize = 50;

/// Stack for a thread that runs statements: the server's session threads
/// get this much. The deepest shapes within the limits need at most
/// 943 KiB (measured in the release build: a 490-term `1+…+1`; 24 nested
/// subqueries need 591 KiB, 123 casts 719 KiB), so a thread's default
/// 2 MiB suffices — `tests/limits.rs` runs every shape at the limits on
/// one — and this leaves room for AddressSanitizer's larger frames.
pub const STACK_SIZE: usize = 8 * 1024 * 1024;

/// Parses `sql` after checking that no statement in it is too deep to walk.
///
/// # Errors
/// [`SqlError::Syntax`]; [`SqlError::TooComplex`] past the limits.
pub(crate) fn parse(sql: &str) -> Result<Vec<Statement>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| SqlError::Syntax(e.to_string()))?;
    let depth = expression_depth(&tokens);
    if depth > MAX_EXPRESSION_DEPTH {
        return Err(SqlError::TooComplex(format!(
            "expressions nest about {depth} levels deep; the limit is {MAX_EXPRESSION_DEPTH} \
             (split long AND/OR or operator chains, e.g. into IN lists)"
        )));
    }
    let mut tokens = tokens;
    fold_identifiers(&mut tokens);
    delete_returning(&mut tokens);
    Parser::new(&dialect)
        .with_recursion_limit(MAX_PARSER_RECURSION)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| match e {
            ParserError::RecursionLimitExceeded => SqlError::TooComplex(format!(
                "nesting (parentheses, subqueries, CASE, NOT) exceeds the limit of \
                 {MAX_PARSER_RECURSION} levels"
            )),
            ParserError::ParserError(_) if modifying_cte(sql) => SqlError::Unsupported(
                "data-modifying statements in WITH (INSERT/UPDATE/DELETE in a CTE) are not \
                 supported"
                    .into(),
            ),
            ParserError::ParserError(m) => parser_error(&m),
            other => SqlError::Syntax(other.to_string()),
        })
}

/// Whether `sql` has `AS (INSERT|UPDATE|DELETE`: a data-modifying CTE,
/// which sqlparser does not parse.
fn modifying_cte(sql: &str) -> bool {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return false;
    };
    let words: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    words.windows(3).any(|w| {
        matches!(w[0], Token::Word(a) if a.keyword == Keyword::AS)
            && matches!(w[1], Token::LParen)
            && matches!(w[2], Token::Word(k) if matches!(k.keyword, Keyword::INSERT | Keyword::UPDATE | Keyword::DELETE))
    })
}

/// PostgreSQL's wording for a parser error, `syntax error at or near ";"`
/// (`at end of input`), with what the parser expected and where:
/// sqlparser's text is `Expected: X, found: Y at Line: L, Column: C`.
fn parser_error(m: &str) -> SqlError {
    let Some((expected, rest)) = m
        .strip_prefix("Expected: ")
        .and_then(|r| r.split_once(", found: "))
    else {
        return SqlError::Syntax(m.to_string());
    };
    let (found, place) = rest.rsplit_once(" at Line: ").unwrap_or((rest, ""));
    let near = if found == "EOF" {
        "syntax error at end of input".to_string()
    } else {
        format!("syntax error at or near \"{found}\"")
    };
    let place = place.replace(", Column: ", ", column ");
    let place = if place.is_empty() {
        String::new()
    } else {
        format!("; line {place}")
    };
    SqlError::State {
        code: crate::sqlstate::SYNTAX_ERROR,
        message: format!("{near} (expected {expected}{place})"),
    }
}

/// Folds unquoted words to lower case, as PostgreSQL folds unquoted
/// identifiers: `CREATE TABLE Accounts (Id INT)` makes table `accounts`
/// with column `id`, which `SELECT ID FROM ACCOUNTS` finds; `"Accounts"`
/// stays as written. Keywords are matched without regard to case, so
/// folding them changes nothing — except in `SET` statements, where
/// sqlparser recognises `SESSION CHARACTERISTICS AS TRANSACTION` by their
/// text: they are left as written (parameter names and their values are
/// matched without regard to case anyway).
pub(crate) fn fold_identifiers(tokens: &mut [TokenWithLocation]) {
    // The first word of the current statement, once seen.
    let mut first: Option<Keyword> = None;
    for t in tokens {
        match &mut t.token {
            Token::SemiColon => first = None,
            Token::Word(w) => {
                let statement = *first.get_or_insert(w.keyword);
                let keep = statement == Keyword::SET;
                if w.quote_style.is_none()
                    && !keep
                    && w.value.bytes().any(|b| b.is_ascii_uppercase())
                {
                    w.value = w.value.to_lowercase();
                }
            }
            _ => {}
        }
    }
}

/// sqlparser takes the `RETURNING` of `DELETE FROM t RETURNING …` (no
/// alias, no `WHERE`) for the table's alias, and then fails on the list:
/// `WHERE true` goes in between, which deletes the same rows.
fn delete_returning(tokens: &mut Vec<TokenWithLocation>) {
    let is = |t: &Token, k: Keyword| matches!(t, Token::Word(w) if w.keyword == k && w.quote_style.is_none());
    let mut inserts = Vec::new();
    for d in 0..tokens.len() {
        if !is(&tokens[d].token, Keyword::DELETE) {
            continue;
        }
        // FROM, a name (`.`-separated parts), then RETURNING.
        let mut next = tokens[d + 1..]
            .iter()
            .enumerate()
            .filter(|(_, t)| !matches!(t.token, Token::Whitespace(_)))
            .map(|(i, t)| (d + 1 + i, &t.token));
        if !next.next().is_some_and(|(_, t)| is(t, Keyword::FROM)) {
            continue;
        }
        let mut expect_name = true;
        for (i, t) in next {
            match t {
                Token::Word(_) if !expect_name && is(t, Keyword::RETURNING) => {
                    inserts.push(i);
                    break;
                }
                Token::Word(_) if expect_name => expect_name = false,
                Token::Period if !expect_name => expect_name = true,
                _ => break,
            }
        }
    }
    for &r in inserts.iter().rev() {
        let location = tokens[r].location;
        let token = |token| TokenWithLocation { token, location };
        let space = || token(Token::Whitespace(Whitespace::Space));
        let words = [
            token(Token::make_keyword("WHERE")),
            space(),
            token(Token::make_keyword("TRUE")),
            space(),
        ];
        tokens.splice(r..r, words);
    }
}

/// One bracketed group (`( … )`, `[ … ]`, `{ … }`) while scanning tokens.
#[derive(Default)]
struct Group {
    /// Set operators (UNION, INTERSECT, EXCEPT) in the whole group: their
    /// chains nest across the commas of each SELECT list.
    set_ops: usize,
    /// Operator and keyword tokens of the current comma-separated item.
    item: usize,
    /// Deepest bracketed group inside the current item.
    item_child: usize,
    /// Deepest finished item.
    best: usize,
}

impl Group {
    fn end_item(&mut self) {
        self.best = self.best.max(self.item + self.item_child);
        self.item = 0;
        self.item_child = 0;
    }

    fn depth(&self) -> usize {
        self.set_ops + self.best.max(self.item + self.item_child) + 1
    }
}

/// An upper bound (up to a small constant factor) on how deep the syntax
/// tree of the deepest statement in `tokens` nests, in one linear pass and
/// without recursion.
///
/// Every level of a syntax tree is paid for by a token that is not a leaf:
/// an operator, a keyword, an opening bracket. Along any path from the root,
/// those tokens are the ones of one comma-separated item per bracket level
/// (the items of a list are siblings: VALUES rows, SELECT columns, function
/// arguments), plus set operators, whose left-deep chains span the commas of
/// the SELECT lists they join. So a group's depth is its set operators plus
/// its deepest item, an item's depth its non-leaf tokens plus its deepest
/// bracketed group. Literals, plain identifiers, commas and whitespace count
/// nothing, so a 100,000-row INSERT or a 10,000-element IN list is shallow.
pub(crate) fn expression_depth(tokens: &[TokenWithLocation]) -> usize {
    let mut stack = vec![Group::default()];
    let mut deepest = 0;
    for t in tokens {
        let top = stack.len() - 1;
        match &t.token {
            Token::Whitespace(_) | Token::EOF => {}
            Token::Comma => stack[top].end_item(),
            Token::SemiColon if top == 0 => {
                deepest = deepest.max(stack[0].depth());
                stack[0] = Group::default();
            }
            // A cast level costs GlueSQL about twice the stack of an
            // operator level (measured: 5.6 KiB against 1.9 KiB), so `::`
            // counts 3 and `::INT` 4, keeping every shape at the limit
            // within about 1 MiB.
            Token::DoubleColon => stack[top].item += 3,
            Token::LParen | Token::LBracket | Token::LBrace => {
                stack[top].item += 1;
                stack.push(Group::default());
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                // An unmatched closing bracket is the parser's to report.
                if top > 0 {
                    let inner = stack.pop().map_or(0, |g| g.depth());
                    let parent = &mut stack[top - 1];
                    parent.item_child = parent.item_child.max(inner);
                }
            }
            Token::Word(w) => match w.keyword {
                Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT => stack[top].set_ops += 1,
                // Quoted or unreserved identifiers are leaves.
                Keyword::NoKeyword => {}
                _ => stack[top].item += 1,
            },
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_) => {}
            // Every other token (operators, `::`, `.`, `;` inside brackets,
            // anything new) counts: over-counting only makes the bound safer.
            _ => stack[top].item += 1,
        }
    }
    // Unclosed groups (a syntax error the parser reports) still count.
    while let Some(g) = stack.pop() {
        let d = g.depth();
        match stack.last_mut() {
            Some(parent) => parent.item_child = parent.item_child.max(d),
            None => deepest = deepest.max(d),
        }
    }
    deepest
}

/// Per-session settings that `SET` changes, and the session's other state
/// carried from statement to statement (`currval`, cursors).
#[derive(Clone, Debug, Default)]
pub struct SessionSettings {
    statement_timeout: Option<Duration>,
    default_statement_timeout: Option<Duration>,
    /// The other run-time parameters `SET` changed.
    pub(crate) params: crate::settings::Params,
    /// The last value `nextval` returned in this session, per sequence
    /// (what `currval` answers).
    pub(crate) currval: std::collections::BTreeMap<String, i64>,
    /// The session's open cursors (`DECLARE`); `DISCARD ALL` closes them
    /// with everything else here.
    pub(crate) cursors: crate::cursor::Cursors,
}

impl SessionSettings {
    /// Settings whose `statement_timeout` (and what `SET statement_timeout
    /// TO DEFAULT` returns to) is `timeout`; zero means none.
    pub fn with_statement_timeout(timeout: Duration) -> Self {
        let t = (!timeout.is_zero()).then_some(timeout);
        SessionSettings {
            statement_timeout: t,
            default_statement_timeout: t,
            ..SessionSettings::default()
        }
    }

    /// `RESET ALL` (and `DISCARD ALL`): every parameter back to its
    /// default.
    pub fn reset_all(&mut self) {
        self.statement_timeout = self.default_statement_timeout;
        self.params.reset_all();
    }

    /// The current `statement_timeout`, `None` when off.
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout
    }

    /// `SET statement_timeout …`: `Some` when `stmt` sets it (and then the
    /// outcome), `None` for any other statement.
    pub(crate) fn apply(&mut self, stmt: &Statement) -> Option<Result<()>> {
        let Statement::SetVariable {
            variables, value, ..
        } = stmt
        else {
            return None;
        };
        let [name]: &[ObjectName] = variables else {
            return None;
        };
        if !name.to_string().eq_ignore_ascii_case("statement_timeout") {
            return None;
        }
        Some(self.set_statement_timeout(value))
    }

    fn set_statement_timeout(&mut self, value: &[Expr]) -> Result<()> {
        let text = match value {
            [Expr::Identifier(i)] if i.value.eq_ignore_ascii_case("default") => {
                self.statement_timeout = self.default_statement_timeout;
                return Ok(());
            }
            [Expr::Value(SqlValue::Number(n, _))] => n.to_string(),
            [Expr::Value(SqlValue::SingleQuotedString(s))] => s.clone(),
            _ => {
                return Err(SqlError::Type(
                    "invalid value for parameter \"statement_timeout\": expected a number of \
                     milliseconds or a string such as '5s'"
                        .into(),
                ))
            }
        };
        let d = parse_time_setting(&text, TimeUnit::Millis)
            .map_err(|e| SqlError::Type(format!("parameter \"statement_timeout\": {e}")))?;
        self.statement_timeout = (!d.is_zero()).then_some(d);
        Ok(())
    }

    /// `SHOW statement_timeout`, as PostgreSQL prints it.
    pub(crate) fn show_statement_timeout(&self) -> String {
        match self.statement_timeout {
            None => "0".into(),
            Some(d) if d.as_millis().is_multiple_of(1_000) => format!("{}s", d.as_secs()),
            Some(d) => format!("{}ms", d.as_millis()),
        }
    }
}

thread_local! {
    /// The running statement's deadline on this thread.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Whether the deadline fired during the running statement.
    static EXPIRED: Cell<bool> = const { Cell::new(false) };
}

/// Restores the previous deadline when the statement ends.
#[derive(Debug)]
pub(crate) struct Armed {
    previous: Option<Instant>,
}

impl Drop for Armed {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
    }
}

/// Starts the deadline of one call (none when `timeout` is `None`).
pub(crate) fn arm(timeout: Option<Duration>) -> Armed {
    let previous = DEADLINE.with(|d| d.get());
    // A deadline too far off to represent is no deadline.
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    DEADLINE.with(|d| d.set(deadline));
    EXPIRED.with(|e| e.set(false));
    Armed { previous }
}

/// `Err(SqlError::Timeout)` once the running statement is past its deadline.
pub(crate) fn check_deadline() -> Result<()> {
    let Some(deadline) = DEADLINE.with(|d| d.get()) else {
        return Ok(());
    };
    if Instant::now() < deadline {
        return Ok(());
    }
    EXPIRED.with(|e| e.set(true));
    Err(SqlError::Timeout)
}

/// Reports an error of a statement whose deadline fired as the timeout
/// (GlueSQL turns our storage error into its own message on the way up).
pub(crate) fn classify<T>(r: Result<T>) -> Result<T> {
    match r {
        Err(_) if EXPIRED.with(|e| e.get()) => Err(SqlError::Timeout),
        other => other,
    }
}

/// Rows for GlueSQL that stop with the timeout error once the deadline
/// passes (checked every 64 rows: reading the clock costs ~20 ns).
/// GlueSQL reports it in its own words; [`classify`] restores the kind.
pub(crate) fn deadline_rows<T>(
    rows: impl Iterator<Item = GResult<T>>,
) -> impl Iterator<Item = GResult<T>> {
    rows.enumerate().map(|(i, r)| {
        if i.is_multiple_of(64) {
            check_deadline().map_err(|e| GError::StorageMsg(e.to_string()))?;
        }
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_errors_read_as_postgresql_words_them() {
        let message = |sql: &str| match parse(sql) {
            Err(SqlError::State { code, message }) => {
                assert_eq!(code, "42601");
                message
            }
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(
            message("SELECT 1 +"),
            "syntax error at end of input (expected an expression)"
        );
        assert_eq!(
            message("SELECT 1 FROM t WHERE a = = 1"),
            "syntax error at or near \"=\" (expected an expression; line 1, column 27)"
        );
    }

    fn depth(sql: &str) -> usize {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        expression_depth(&tokens)
    }

    #[test]
    fn depth_bound_follows_chains_not_lists() {
        let chain = |n: usize, op: &str| format!("SELECT {}", vec!["1"; n].join(op));
        assert!(depth(&chain(500, "+")) >= 500);
        assert!(depth(&chain(10_000, "+")) >= 10_000);
        assert!(depth(&chain(10_000, " OR ")) >= 10_000);
        let union = vec!["SELECT 1, 2"; 3_000].join(" UNION ALL ");
        assert!(depth(&union) >= 3_000, "{}", depth(&union));
        let cast = format!("SELECT 1{}", "::INT".repeat(2_000));
        assert!(depth(&cast) >= 2_000);
        let subscripts = format!("SELECT a{}", "[1]".repeat(2_000));
        assert!(depth(&subscripts) >= 2_000);
        // Lists are siblings: shallow however long.
        let rows = vec!["(1, 'a', NULL)"; 100_000].join(", ");
        assert!(depth(&format!("INSERT INTO t VALUES {rows}")) < 10);
        let list = vec!["1"; 100_000].join(", ");
        assert!(depth(&format!("SELECT * FROM t WHERE a IN ({list})")) < 10);
        let cols = vec!["a + 1 AS x"; 5_000].join(", ");
        assert!(depth(&format!("SELECT {cols} FROM t")) < 10);
        // Each statement of a batch on its own.
        let batch = vec!["INSERT INTO t VALUES (1 + 2)"; 5_000].join("; ");
        assert!(depth(&batch) < 10);
    }

    #[test]
    fn too_deep_statements_are_refused_before_parsing() {
        for sql in [
            format!("SELECT {}", vec!["1"; 10_000].join("+")),
            format!("SELECT {}", vec!["1"; 100_000].join("+")),
            format!(
                "SELECT * FROM t WHERE {}",
                vec!["a = 1"; 5_000].join(" OR ")
            ),
            vec!["SELECT 1"; 5_000].join(" UNION "),
        ] {
            let err = parse(&sql).unwrap_err();
            assert!(matches!(err, SqlError::TooComplex(_)), "{err}");
        }
        for sql in [
            format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000)),
            format!("SELECT {}1{}", "(SELECT ".repeat(60), ")".repeat(60)),
            format!("SELECT {}TRUE", "NOT ".repeat(60)),
            format!("SELECT {}1", "- ".repeat(60)),
            format!(
                "SELECT {}1{}",
                "CASE WHEN TRUE THEN ".repeat(60),
                " END".repeat(60)
            ),
        ] {
            let err = parse(&sql).unwrap_err();
            assert!(matches!(err, SqlError::TooComplex(_)), "{err}");
            assert!(err.to_string().contains("nest"), "{err}");
        }
        let ok = format!("SELECT {}", vec!["1"; 300].join("+"));
        assert_eq!(parse(&ok).unwrap().len(), 1);
    }

    #[test]
    fn statement_timeout_settings() {
        let mut s = SessionSettings::with_statement_timeout(Duration::from_secs(2));
        let set = |s: &mut SessionSettings, sql: &str| {
            let stmt = parse(sql).unwrap().remove(0);
            s.apply(&stmt)
        };
        assert_eq!(s.show_statement_timeout(), "2s");
        set(&mut s, "SET statement_timeout = 250").unwrap().unwrap();
        assert_eq!(s.statement_timeout(), Some(Duration::from_millis(250)));
        assert_eq!(s.show_statement_timeout(), "250ms");
        set(&mut s, "SET statement_timeout TO '1min'")
            .unwrap()
            .unwrap();
        assert_eq!(s.statement_timeout(), Some(Duration::from_secs(60)));
        set(&mut s, "SET statement_timeout = 0").unwrap().unwrap();
        assert_eq!(s.statement_timeout(), None);
        assert_eq!(s.show_statement_timeout(), "0");
        set(&mut s, "SET statement_timeout TO DEFAULT")
            .unwrap()
            .unwrap();
        assert_eq!(s.statement_timeout(), Some(Duration::from_secs(2)));
        let err = set(&mut s, "SET statement_timeout = 'soon'")
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("statement_timeout"), "{err}");
        assert!(set(&mut s, "SET search_path = public").is_none());
    }

    #[test]
    fn deadline_fires_and_is_scoped() {
        assert!(check_deadline().is_ok());
        {
            let _armed = arm(Some(Duration::ZERO));
            assert!(matches!(check_deadline(), Err(SqlError::Timeout)));
            let r: Result<()> = Err(SqlError::Execution("storage: …".into()));
            assert!(matches!(classify(r), Err(SqlError::Timeout)));
            let mut rows = deadline_rows((0..10).map(Ok::<i32, GError>));
            assert!(matches!(rows.next(), Some(Err(GError::StorageMsg(_)))));
        }
        assert!(check_deadline().is_ok());
        let _armed = arm(None);
        let r: Result<()> = Err(SqlError::Execution("x".into()));
        assert!(matches!(classify(r), Err(SqlError::Execution(_))));
    }
}

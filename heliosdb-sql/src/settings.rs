//! Run-time parameters: what `SET`, `SHOW` and `RESET` see, as drivers and
//! ORMs use them when they connect (`SET client_encoding`, `SHOW
//! transaction isolation level`, `SET extra_float_digits = 3`, …).
//!
//! A parameter is accepted only with values whose meaning this engine
//! honours: `TimeZone` UTC (timestamps are UTC), `DateStyle` ISO,
//! `client_encoding` UTF8, `extra_float_digits` ≥ 1 (shortest exact float
//! output). Any other value is refused with `0A000` instead of being
//! stored and then ignored; an unknown name is `42704`, as in PostgreSQL.
//! Every transaction runs serializable, which satisfies each isolation
//! level a client may ask for; `READ ONLY` transactions are refused (writes
//! would not be stopped).

use std::ops::ControlFlow;

use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, CastKind, DataType as SqlType, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Statement, TransactionAccessMode, TransactionMode, Value as SqlValue,
};
use heliosdb_core::Value;

use crate::sqlstate::{FEATURE_NOT_SUPPORTED, INVALID_PARAMETER_VALUE, UNDEFINED_OBJECT};
use crate::{Result, SqlError};

/// Checks and normalises a value; `Err` is the reason it is refused.
type Check = fn(&str) -> std::result::Result<String, String>;

/// One parameter: its name as `SHOW` prints it, its default, and what it
/// accepts (`None`: read-only).
struct Param {
    name: &'static str,
    default: &'static str,
    check: Option<Check>,
    description: &'static str,
}

fn any(v: &str) -> std::result::Result<String, String> {
    Ok(v.to_string())
}

fn encoding(v: &str) -> std::result::Result<String, String> {
    match v.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
        "UTF8" | "UNICODE" => Ok("UTF8".into()),
        _ => Err(format!("client_encoding \"{v}\": only UTF8 is supported")),
    }
}

fn datestyle(v: &str) -> std::result::Result<String, String> {
    let parts: Vec<String> = v
        .split(',')
        .map(|p| p.trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty())
        .collect();
    let output = parts.iter().find(|p| {
        !matches!(
            p.as_str(),
            "MDY" | "DMY" | "YMD" | "US" | "EURO" | "EUROPEAN" | "NONEURO" | "NONEUROPEAN"
        )
    });
    if output.is_some_and(|o| o != "ISO") {
        return Err(format!(
            "DateStyle \"{v}\": only the ISO output style is supported"
        ));
    }
    let order = parts
        .iter()
        .find_map(|p| match p.as_str() {
            "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => Some("MDY"),
            "DMY" | "EURO" | "EUROPEAN" => Some("DMY"),
            "YMD" => Some("YMD"),
            _ => None,
        })
        .unwrap_or("MDY");
    Ok(format!("ISO, {order}"))
}

fn float_digits(v: &str) -> std::result::Result<String, String> {
    match v.trim().parse::<i32>() {
        Ok(n @ 1..=3) => Ok(n.to_string()),
        Ok(n @ -15..=0) => Err(format!(
            "extra_float_digits {n}: rounded float output is not supported (use 1 to 3)"
        )),
        _ => Err(format!(
            "invalid value for parameter \"extra_float_digits\": \"{v}\""
        )),
    }
}

fn timezone(v: &str) -> std::result::Result<String, String> {
    match v.trim().to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "ETC/UTC" | "ETC/GMT" | "Z" | "ZULU" | "UCT" | "UNIVERSAL" | "0" | "+0"
        | "+00" | "+00:00" | "-00" => Ok("UTC".into()),
        _ => Err(format!("TimeZone \"{v}\": only UTC is supported")),
    }
}

fn isolation(v: &str) -> std::result::Result<String, String> {
    let norm = v
        .trim()
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match norm.as_str() {
        "read uncommitted" | "read committed" | "repeatable read" | "serializable" => Ok(norm),
        _ => Err(format!(
            "invalid value for parameter \"transaction_isolation\": \"{v}\""
        )),
    }
}

fn on_only(v: &str) -> std::result::Result<String, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok("on".into()),
        _ => Err(format!("\"{v}\" is not supported (only on)")),
    }
}

fn bool_any(v: &str) -> std::result::Result<String, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok("on".into()),
        "off" | "false" | "no" | "0" => Ok("off".into()),
        _ => Err(format!("parameter requires a Boolean value, not \"{v}\"")),
    }
}

fn zero_only(v: &str) -> std::result::Result<String, String> {
    match v.trim() {
        "0" | "0ms" | "0s" => Ok("0".into()),
        _ => Err(format!("\"{v}\": only 0 (no timeout) is supported")),
    }
}

fn message_level(v: &str) -> std::result::Result<String, String> {
    let l = v.trim().to_ascii_lowercase();
    match l.as_str() {
        "debug5" | "debug4" | "debug3" | "debug2" | "debug1" | "debug" | "log" | "notice"
        | "warning" | "error" | "info" => Ok(l),
        _ => Err(format!(
            "invalid value for parameter \"client_min_messages\": \"{v}\""
        )),
    }
}

fn sync_commit(v: &str) -> std::result::Result<String, String> {
    let l = v.trim().to_ascii_lowercase();
    match l.as_str() {
        "on" | "local" | "remote_write" | "remote_apply" | "true" | "yes" | "1" => Ok("on".into()),
        _ => Err(format!(
            "synchronous_commit \"{v}\": commits are always durable here (set [storage] \
             sync_commit in the configuration instead)"
        )),
    }
}

fn style_postgres(v: &str) -> std::result::Result<String, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "postgres" => Ok("postgres".into()),
        _ => Err(format!("IntervalStyle \"{v}\": only postgres is supported")),
    }
}

fn heap_only(v: &str) -> std::result::Result<String, String> {
    match v.trim() {
        "heap" => Ok("heap".into()),
        _ => Err(format!(
            "invalid value for parameter \"default_table_access_method\": \"{v}\" \
             (table access method \"{v}\" does not exist)"
        )),
    }
}

fn hex_only(v: &str) -> std::result::Result<String, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "hex" => Ok("hex".into()),
        _ => Err(format!("bytea_output \"{v}\": only hex is supported")),
    }
}

const PARAMS: &[Param] = &[
    Param { name: "application_name", default: "", check: Some(any), description: "Sets the application name to be reported in statistics and logs." },
    Param { name: "bytea_output", default: "hex", check: Some(hex_only), description: "Sets the output format for bytea." },
    Param { name: "client_encoding", default: "UTF8", check: Some(encoding), description: "Sets the client's character set encoding." },
    Param { name: "client_min_messages", default: "notice", check: Some(message_level), description: "Sets the message levels that are sent to the client." },
    Param { name: "DateStyle", default: "ISO, MDY", check: Some(datestyle), description: "Sets the display format for date and time values." },
    Param { name: "default_table_access_method", default: "heap", check: Some(heap_only), description: "Sets the default table access method for new tables." },
    Param { name: "default_transaction_isolation", default: "serializable", check: Some(isolation), description: "Sets the transaction isolation level of each new transaction." },
    Param { name: "default_transaction_read_only", default: "off", check: Some(bool_any), description: "Sets the default read-only status of new transactions." },
    Param { name: "extra_float_digits", default: "1", check: Some(float_digits), description: "Sets the number of digits displayed for floating-point values." },
    Param { name: "idle_in_transaction_session_timeout", default: "0", check: Some(zero_only), description: "Sets the maximum allowed idle time between queries, when in a transaction." },
    Param { name: "idle_session_timeout", default: "0", check: Some(zero_only), description: "Sets the maximum allowed idle time between queries, when not in a transaction." },
    Param { name: "integer_datetimes", default: "on", check: None, description: "Shows whether datetimes are integer based." },
    Param { name: "IntervalStyle", default: "postgres", check: Some(style_postgres), description: "Sets the display format for interval values." },
    Param { name: "is_superuser", default: "off", check: None, description: "Shows whether the current user is a superuser." },
    Param { name: "jit", default: "off", check: Some(bool_any), description: "Allow JIT compilation (no effect here)." },
    Param { name: "lc_collate", default: "C", check: None, description: "Shows the collation order locale." },
    Param { name: "lc_ctype", default: "C", check: None, description: "Shows the character classification and case conversion locale." },
    Param { name: "lock_timeout", default: "0", check: Some(any), description: "Sets the maximum allowed duration of any wait for a lock (no statement waits for locks here)." },
    Param { name: "max_identifier_length", default: "63", check: None, description: "Shows the maximum identifier length." },
    Param { name: "search_path", default: "\"$user\", public", check: Some(any), description: "Sets the schema search order for names that are not schema-qualified." },
    Param { name: "server_encoding", default: "UTF8", check: None, description: "Shows the server (database) character set encoding." },
    Param { name: "server_version", default: "15.0", check: None, description: "Shows the server version." },
    Param { name: "server_version_num", default: "150000", check: None, description: "Shows the server version as an integer." },
    Param { name: "standard_conforming_strings", default: "on", check: Some(on_only), description: "Causes '...' strings to treat backslashes literally." },
    Param { name: "synchronous_commit", default: "on", check: Some(sync_commit), description: "Sets the current transaction's synchronization level." },
    Param { name: "TimeZone", default: "UTC", check: Some(timezone), description: "Sets the time zone for displaying and interpreting time stamps." },
    Param { name: "transaction_isolation", default: "serializable", check: Some(isolation), description: "Sets the current transaction's isolation level." },
    Param { name: "transaction_read_only", default: "off", check: Some(bool_any), description: "Sets the current transaction's read-only status." },
];

/// The canonical name of a parameter as spelled in `SET`/`SHOW` (case and
/// the multi-word spellings `transaction isolation level`, `time zone`).
fn lookup(name: &str) -> Option<&'static Param> {
    let n = name.trim().to_ascii_lowercase().replace(' ', "_");
    let n = match n.as_str() {
        "transaction_isolation_level" => "transaction_isolation",
        "time_zone" => "timezone",
        other => other,
    };
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(n))
}

fn unknown(name: &str) -> SqlError {
    SqlError::State {
        code: UNDEFINED_OBJECT,
        message: format!("unrecognized configuration parameter \"{name}\""),
    }
}

/// Parameters `SET` changed in this session (`statement_timeout` lives in
/// [`crate::SessionSettings`] itself).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Params(std::collections::BTreeMap<&'static str, String>);

impl Params {
    /// `SET name = value` (`value` `None`: `DEFAULT`).
    pub(crate) fn set(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        let p = lookup(name).ok_or_else(|| unknown(name))?;
        let Some(check) = p.check else {
            return Err(SqlError::State {
                code: "55P02",
                message: format!("parameter \"{}\" cannot be changed", p.name),
            });
        };
        match value {
            None => {
                self.0.remove(p.name);
            }
            Some(v) => {
                let v = check(v).map_err(|why| SqlError::State {
                    code: if why.starts_with("invalid value") {
                        INVALID_PARAMETER_VALUE
                    } else {
                        FEATURE_NOT_SUPPORTED
                    },
                    message: why,
                })?;
                self.0.insert(p.name, v);
            }
        }
        Ok(())
    }

    /// `RESET ALL`.
    pub(crate) fn reset_all(&mut self) {
        self.0.clear();
    }

    /// `SHOW name`: the column label and the value.
    pub(crate) fn show(&self, name: &str) -> Result<(String, String)> {
        let p = lookup(name).ok_or_else(|| unknown(name))?;
        let v = self.0.get(p.name).map_or(p.default, String::as_str);
        Ok((p.name.to_string(), v.to_string()))
    }

    /// `SHOW ALL`: name, setting, description of each parameter.
    pub(crate) fn all(&self) -> Vec<[String; 3]> {
        PARAMS
            .iter()
            .map(|p| {
                let v = self.0.get(p.name).map_or(p.default, String::as_str);
                [p.name.to_string(), v.to_string(), p.description.to_string()]
            })
            .collect()
    }
}

/// The text of a `SET` value list: `ISO, MDY`, `'UTC'`, `3`, `DEFAULT`
/// (`None`).
pub(crate) fn value_text(value: &[Expr]) -> Result<Option<String>> {
    let mut parts = Vec::with_capacity(value.len());
    for v in value {
        parts.push(match v {
            Expr::Identifier(i) if value.len() == 1 && i.value.eq_ignore_ascii_case("default") => {
                return Ok(None)
            }
            Expr::Identifier(i) => i.value.clone(),
            Expr::Value(SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s)) => {
                s.clone()
            }
            Expr::Value(SqlValue::Number(n, _)) => n.to_string(),
            Expr::Value(SqlValue::Boolean(b)) => if *b { "on" } else { "off" }.to_string(),
            Expr::UnaryOp { .. } => v.to_string().replace(' ', ""),
            other => {
                return Err(SqlError::Syntax(format!(
                    "unexpected value in SET: {other}"
                )))
            }
        });
    }
    Ok(Some(parts.join(", ")))
}

/// `BEGIN`/`SET TRANSACTION` modes: the isolation level asked for (any;
/// all run serializable) and the access mode (`READ ONLY`: true), if any.
pub(crate) fn transaction_modes(modes: &[TransactionMode]) -> (Option<String>, Option<bool>) {
    let mut level = None;
    let mut read_only = None;
    for m in modes {
        match m {
            TransactionMode::IsolationLevel(l) => {
                level = Some(l.to_string().to_ascii_lowercase());
            }
            TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => {
                read_only = Some(false)
            }
            TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => read_only = Some(true),
        }
    }
    (level, read_only)
}

/// `current_setting(name [, missing_ok])` replaced by the parameter's text
/// as `SHOW name` gives it (`show`), before the statement runs: a constant
/// name or a `$n` parameter (`params`). An unknown name is 42704, or NULL
/// when `missing_ok` is true. With `params` `None` the statement is only
/// described: the call becomes `CAST(name AS TEXT)`, text-typed, so a
/// parameter keeps its place and type.
///
/// # Errors
/// 42704 for an unknown parameter; 0A000 for a name that is not a constant.
pub(crate) fn current_setting_calls(
    stmt: &mut Statement,
    show: &dyn Fn(&str) -> Result<String>,
    params: Option<&[Value]>,
) -> Result<()> {
    let mut failed = None;
    let _ = visit_expressions_mut(stmt, |e| {
        let Expr::Function(f) = e else {
            return ControlFlow::<()>::Continue(());
        };
        let is_call = f
            .name
            .0
            .last()
            .is_some_and(|i| i.value.eq_ignore_ascii_case("current_setting"));
        let FunctionArguments::List(list) = &f.args else {
            return ControlFlow::Continue(());
        };
        if !is_call || f.over.is_some() {
            return ControlFlow::Continue(());
        }
        let args: Vec<&Expr> = list
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
                _ => None,
            })
            .collect();
        if args.is_empty() || args.len() > 2 || args.len() != list.args.len() {
            failed = Some(SqlError::Unsupported(format!(
                "current_setting takes a name and an optional missing_ok, not {f}"
            )));
            return ControlFlow::Break(());
        }
        let Some(params) = params else {
            *e = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(args[0].clone()),
                data_type: SqlType::Text,
                format: None,
            };
            return ControlFlow::Continue(());
        };
        let value = constant(args[0], params).and_then(|name| {
            let missing_ok = match args.get(1) {
                None => false,
                Some(x) => match constant(x, params)?.to_ascii_lowercase().as_str() {
                    "true" | "t" | "on" | "yes" | "1" => true,
                    "false" | "f" | "off" | "no" | "0" => false,
                    other => {
                        return Err(SqlError::Type(format!(
                            "invalid input syntax for type boolean: \"{other}\""
                        )))
                    }
                },
            };
            match show(&name) {
                Ok(v) => Ok(Some(v)),
                Err(SqlError::State { code, .. }) if missing_ok && code == UNDEFINED_OBJECT => {
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        });
        match value {
            Ok(v) => {
                *e = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::Value(
                        v.map_or(SqlValue::Null, SqlValue::SingleQuotedString),
                    )),
                    data_type: SqlType::Text,
                    format: None,
                };
                ControlFlow::Continue(())
            }
            Err(err) => {
                failed = Some(err);
                ControlFlow::Break(())
            }
        }
    });
    failed.map_or(Ok(()), Err)
}

/// The text of a constant argument: a string or boolean literal, or a
/// `$n` parameter, through casts.
fn constant(e: &Expr, params: &[Value]) -> Result<String> {
    match e {
        Expr::Value(SqlValue::SingleQuotedString(s) | SqlValue::EscapedStringLiteral(s)) => {
            Ok(s.clone())
        }
        Expr::Value(SqlValue::Boolean(b)) => Ok(b.to_string()),
        Expr::Value(SqlValue::Placeholder(p)) => {
            let value = p
                .trim_start_matches('$')
                .parse::<usize>()
                .ok()
                .and_then(|i| params.get(i.wrapping_sub(1)));
            match value {
                Some(Value::Null) | None => Err(SqlError::Type(format!(
                    "current_setting: parameter {p} is missing or NULL"
                ))),
                Some(v) => Ok(crate::text_of(v)),
            }
        }
        Expr::Cast { expr, .. } | Expr::Nested(expr) => constant(expr, params),
        other => Err(SqlError::Unsupported(format!(
            "current_setting takes a constant argument, not {other}"
        ))),
    }
}

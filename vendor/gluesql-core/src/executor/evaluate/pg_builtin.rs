//! HeliosDB: PostgreSQL functions GlueSQL has no variant for. A call of a
//! name GlueSQL does not know becomes `Function::Custom` (a user-defined
//! function looked up in storage); the names here are evaluated instead,
//! with PostgreSQL's results, NULL handling and errors.

use {
    super::EvaluateError,
    crate::{
        data::{Value, pg_regex},
        result::Result,
    },
};

fn error(code: &'static str, message: impl Into<String>) -> crate::result::Error {
    EvaluateError::PgFunction {
        code,
        message: message.into(),
    }
    .into()
}

fn arity(name: &str, args: &[Value], min: usize, max: usize) -> Result<()> {
    if (min..=max).contains(&args.len()) {
        Ok(())
    } else {
        Err(error(
            "42883",
            format!("function {name}() does not take {} argument(s)", args.len()),
        ))
    }
}

fn text<'a>(name: &str, v: &'a Value) -> Result<&'a str> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(error(
            "42883",
            format!("function {name}() takes text arguments"),
        )),
    }
}

type Builtin = fn(&str, &[Value]) -> Result<Value>;

/// The function `name` names, when it is one of ours (`None`: go on to
/// user-defined functions).
pub(super) fn lookup(name: &str) -> Option<Builtin> {
    Some(match name.to_ascii_lowercase().as_str() {
        "octet_length" => octet_length,
        "regexp_replace" => regexp_replace,
        "translate" => translate,
        "quote_literal" => quote_literal,
        "starts_with" => starts_with,
        _ => return None,
    })
}

/// `f` of `args`: every one of these is strict, a NULL argument gives NULL.
pub(super) fn call(f: Builtin, name: &str, args: &[Value]) -> Result<Value> {
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    f(&name.to_ascii_lowercase(), args)
}

fn octet_length(name: &str, args: &[Value]) -> Result<Value> {
    arity(name, args, 1, 1)?;
    let n = match &args[0] {
        Value::Str(s) => s.len(),
        Value::Bytea(b) => b.len(),
        other => String::from(other).len(),
    };
    Ok(Value::I32(i32::try_from(n).unwrap_or(i32::MAX)))
}

/// PostgreSQL's replacement text (`\1`…`\9` for groups, `\&` for the whole
/// match, `\\` for a backslash) in the `regex` crate's syntax.
fn replacement(pg: &str) -> String {
    let mut out = String::with_capacity(pg.len());
    let mut chars = pg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d @ '1'..='9') => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

fn regexp_replace(name: &str, args: &[Value]) -> Result<Value> {
    arity(name, args, 3, 4)?;
    let source = text(name, &args[0])?;
    let pattern = text(name, &args[1])?;
    let with = replacement(text(name, &args[2])?);
    let flags = match args.get(3) {
        Some(v) => text(name, v)?,
        None => "",
    };
    let mut global = false;
    let mut case_insensitive = false;
    for flag in flags.chars() {
        match flag {
            'g' => global = true,
            'i' => case_insensitive = true,
            'c' => case_insensitive = false,
            other => {
                return Err(error(
                    "0A000",
                    format!("regexp_replace() flag \"{other}\" is not supported (only g, i and c)"),
                ));
            }
        }
    }
    let re = pg_regex(pattern, case_insensitive)?;
    let out = if global {
        re.replace_all(source, with.as_str())
    } else {
        re.replace(source, with.as_str())
    };
    Ok(Value::Str(out.into_owned()))
}

fn translate(name: &str, args: &[Value]) -> Result<Value> {
    arity(name, args, 3, 3)?;
    let source = text(name, &args[0])?;
    let from: Vec<char> = text(name, &args[1])?.chars().collect();
    let to: Vec<char> = text(name, &args[2])?.chars().collect();
    let out = source
        .chars()
        .filter_map(|c| match from.iter().position(|f| *f == c) {
            // Characters of `from` past the end of `to` are deleted.
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect();
    Ok(Value::Str(out))
}

fn quote_literal(name: &str, args: &[Value]) -> Result<Value> {
    arity(name, args, 1, 1)?;
    let s = match &args[0] {
        Value::Str(s) => s.clone(),
        other => String::from(other),
    };
    // As PostgreSQL writes it: quotes doubled, and with backslashes an E''
    // string with them doubled.
    let body = s.replace('\'', "''");
    Ok(Value::Str(if body.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    }))
}

fn starts_with(name: &str, args: &[Value]) -> Result<Value> {
    arity(name, args, 2, 2)?;
    Ok(Value::Bool(
        text(name, &args[0])?.starts_with(text(name, &args[1])?),
    ))
}

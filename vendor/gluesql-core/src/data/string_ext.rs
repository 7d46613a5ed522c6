use {
    crate::result::Result,
    regex::{Regex, RegexBuilder},
    serde::Serialize,
    thiserror::Error,
};

#[derive(Error, Serialize, Debug, PartialEq, Eq)]
pub enum StringExtError {
    #[error("unreachable literal unary operation")]
    UnreachablePatternParsing,
    #[error("invalid regular expression {pattern:?}: {error}")]
    InvalidRegexPattern { pattern: String, error: String },
    /// HeliosDB: a PostgreSQL regular expression the `regex` crate cannot
    /// read with PostgreSQL's meaning.
    #[error("regular expression {pattern:?} is not supported: {reason}")]
    UnsupportedRegexPattern { pattern: String, reason: String },
}

/// HeliosDB: `pattern` compiled with the meaning PostgreSQL's regular
/// expressions give it: `.` matches a newline (PostgreSQL's default, no
/// `n` flag); `\b` (a backspace there, a word boundary here) and `\B`
/// (a backslash there), look-around and back-references are refused
/// rather than read differently.
pub(crate) fn pg_regex(pattern: &str, case_insensitive: bool) -> Result<Regex> {
    let mut escapes = pattern.chars();
    while let Some(c) = escapes.next() {
        if c == '\\' && matches!(escapes.next(), Some('b' | 'B')) {
            return Err(StringExtError::UnsupportedRegexPattern {
                pattern: pattern.to_owned(),
                reason: "\\b and \\B".to_owned(),
            }
            .into());
        }
    }
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .dot_matches_new_line(true)
        .build()
        .map_err(|error| {
            let error = error.to_string();
            if error.contains("not supported") {
                StringExtError::UnsupportedRegexPattern {
                    pattern: pattern.to_owned(),
                    reason: error,
                }
            } else {
                StringExtError::InvalidRegexPattern {
                    pattern: pattern.to_owned(),
                    error,
                }
            }
            .into()
        })
}

pub trait StringExt {
    fn like(&self, pattern: &str, case_sensitive: bool) -> Result<bool>;
    fn regex(&self, pattern: &str, case_sensitive: bool) -> Result<bool>;
}

impl StringExt for str {
    fn like(&self, pattern: &str, case_sensitive: bool) -> Result<bool> {
        let (match_string, match_pattern) = if case_sensitive {
            (self.to_owned(), pattern.to_owned())
        } else {
            let lowercase_string = self.to_lowercase();
            let lowercase_pattern = pattern.to_lowercase();

            (lowercase_string, lowercase_pattern)
        };

        // HeliosDB: `%` and `_` match newlines too (`.` did not).
        Ok(RegexBuilder::new(&format!(
            "^{}$",
            regex::escape(match_pattern.as_str())
                .replace('%', ".*")
                .replace('_', ".")
        ))
        .dot_matches_new_line(true)
        .build()
        .map_err(|_| StringExtError::UnreachablePatternParsing)?
        .is_match(match_string.as_str()))
    }

    fn regex(&self, pattern: &str, case_sensitive: bool) -> Result<bool> {
        Ok(pg_regex(pattern, !case_sensitive)?.is_match(self))
    }
}

#[cfg(test)]
mod tests {
    use {
        super::{StringExt, StringExtError},
        crate::result::Error,
    };

    #[test]
    fn regex() {
        assert_eq!("Hello".regex("ell", true), Ok(true));
        assert_eq!("Hello".regex("^hello$", true), Ok(false));
        assert_eq!("Hello".regex("^hello$", false), Ok(true));
        assert!(matches!(
            "Hello".regex("[", true),
            Err(Error::StringExt(StringExtError::InvalidRegexPattern { pattern, .. })) if pattern == "["
        ));
        assert!(matches!(
            "Hello".regex("(?i)[", true),
            Err(Error::StringExt(StringExtError::InvalidRegexPattern { pattern, .. })) if pattern == "(?i)["
        ));
        assert!(matches!(
            "Hello".regex("[", false),
            Err(Error::StringExt(StringExtError::InvalidRegexPattern { pattern, .. })) if pattern == "["
        ));

        // the case-insensitive flag must not leak into the reported parse error
        assert!(matches!(
            "Hello".regex("[", false),
            Err(Error::StringExt(StringExtError::InvalidRegexPattern { error, .. }))
                if !error.contains("(?i)")
        ));
    }
}

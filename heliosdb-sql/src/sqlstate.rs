//! SQLSTATE codes: every error the SQL layer returns carries the class
//! PostgreSQL would give it, so that drivers raise `IntegrityError`,
//! `DataError` or `ProgrammingError` (not `InternalError`) and applications
//! can react — retry on 40001, report a duplicate on 23505.
//!
//! GlueSQL's errors are typed; they are classified here by variant, never by
//! their message text.

use gluesql_core::data::StringExtError;
use gluesql_core::error::{
    AlterError, DeleteError, Error as GlueError, EvaluateError, ExecuteError, FetchError,
    InsertError, UpdateError, ValidateError, ValueError,
};
use gluesql_core::planner::PlannerError;
use gluesql_core::translate::TranslateError;

use crate::SqlError;

/// `unique_violation`.
pub const UNIQUE_VIOLATION: &str = "23505";
/// `not_null_violation`.
pub const NOT_NULL_VIOLATION: &str = "23502";
/// `foreign_key_violation`.
pub const FOREIGN_KEY_VIOLATION: &str = "23503";
/// `check_violation`.
pub const CHECK_VIOLATION: &str = "23514";
/// `division_by_zero`.
pub const DIVISION_BY_ZERO: &str = "22012";
/// `invalid_text_representation`.
pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
/// `numeric_value_out_of_range`.
pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
/// `string_data_right_truncation`.
pub const STRING_DATA_RIGHT_TRUNCATION: &str = "22001";
/// `data_exception` (the class).
pub const DATA_EXCEPTION: &str = "22000";
/// `undefined_table`.
pub const UNDEFINED_TABLE: &str = "42P01";
/// `undefined_column`.
pub const UNDEFINED_COLUMN: &str = "42703";
/// `undefined_function`.
pub const UNDEFINED_FUNCTION: &str = "42883";
/// `ambiguous_column`.
pub const AMBIGUOUS_COLUMN: &str = "42702";
/// `grouping_error` (ungrouped columns, aggregates where none may be).
pub const GROUPING_ERROR: &str = "42803";
/// `duplicate_table`.
pub const DUPLICATE_TABLE: &str = "42P07";
/// `duplicate_column`.
pub const DUPLICATE_COLUMN: &str = "42701";
/// `datatype_mismatch`.
pub const DATATYPE_MISMATCH: &str = "42804";
/// `syntax_error`.
pub const SYNTAX_ERROR: &str = "42601";
/// `syntax_error_or_access_rule_violation` (the class).
pub const SYNTAX_OR_ACCESS: &str = "42000";
/// `cardinality_violation`.
pub const CARDINALITY_VIOLATION: &str = "21000";
/// `feature_not_supported`.
pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
/// `invalid_parameter_value`.
pub const INVALID_PARAMETER_VALUE: &str = "22023";
/// `undefined_object` (savepoints, prepared statements, settings).
pub const UNDEFINED_OBJECT: &str = "42704";
/// `invalid_savepoint_specification`.
pub const INVALID_SAVEPOINT: &str = "3B001";
/// `no_active_sql_transaction`.
pub const NO_ACTIVE_TRANSACTION: &str = "25P01";
/// `internal_error`.
pub const INTERNAL_ERROR: &str = "XX000";
/// `invalid_datetime_format`
pub const INVALID_DATETIME_FORMAT: &str = "22007";
/// `datetime_field_overflow`
pub const DATETIME_FIELD_OVERFLOW: &str = "22008";

thread_local! {
    /// The SQLSTATE of the last error our store handed GlueSQL: GlueSQL
    /// carries storage errors as text (`Error::StorageMsg`), so the code
    /// travels beside it, on the statement's thread.
    static STORAGE_CODE: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// A storage error for GlueSQL carrying `code` (see [`from_glue`]).
pub(crate) fn storage_error(code: &'static str, message: impl std::fmt::Display) -> GlueError {
    STORAGE_CODE.with(|c| c.set(Some(code)));
    GlueError::StorageMsg(message.to_string())
}

/// An SQL-layer error as a storage error for GlueSQL, keeping its code.
pub(crate) fn storage_sql_error(e: SqlError) -> GlueError {
    let code = e.sqlstate();
    storage_error(code, e)
}

/// The error a GlueSQL failure becomes: its SQLSTATE from its variant, its
/// message as GlueSQL wrote it (storage conflicts keep their own kind).
pub(crate) fn from_glue(e: GlueError) -> SqlError {
    let stored = STORAGE_CODE.with(std::cell::Cell::take);
    if let GlueError::StorageMsg(m) = &e {
        if stored == Some("40001") || m.contains("write conflict") {
            return SqlError::Conflict(m.clone());
        }
        return match stored {
            Some(code) if code != INTERNAL_ERROR => SqlError::State {
                code,
                message: m.clone(),
            },
            _ => SqlError::Execution(m.clone()),
        };
    }
    let message = pg_message(&e).unwrap_or_else(|| e.to_string());
    let code = classify(&e);
    if code == INTERNAL_ERROR {
        return SqlError::Execution(message);
    }
    SqlError::State { code, message }
}

/// How the overflow of a `NUMERIC(p, s)` cast of a computed value begins
/// (the text of the cast that fails in its place).
pub(crate) const NUMERIC_FIELD_OVERFLOW: &str = "numeric field overflow: ";

/// PostgreSQL's wording for the errors whose GlueSQL text names engine
/// internals (`overflow occurred: I16(32767) + I16(1)`).
fn pg_message(e: &GlueError) -> Option<String> {
    use gluesql_core::data::Value as G;
    match e {
        GlueError::Value(v) => match v.as_ref() {
            ValueError::DivisorShouldNotBeZero => Some("division by zero".into()),
            ValueError::ConvertFailed {
                value: G::Str(text),
                data_type,
            } => Some(format!(
                "invalid input syntax for type {}: \"{text}\"",
                glue_type_name(data_type)
            )),
            ValueError::ConvertFailed { value, data_type } if out_of_range(value, data_type) => {
                Some(format!("{} out of range", glue_type_name(data_type)))
            }
            ValueError::FloatOutOfRange(what) => Some(format!("value out of range: {what}")),
            ValueError::SquareRootOfNegative => {
                Some("cannot take square root of a negative number".into())
            }
            ValueError::BinaryOperationOverflow { lhs, .. } => Some(
                match lhs {
                    G::I8(_) | G::I16(_) => "smallint out of range",
                    G::I32(_) => "integer out of range",
                    G::I64(_) => "bigint out of range",
                    _ => "value out of range",
                }
                .into(),
            ),
            _ => None,
        },
        GlueError::Evaluate(EvaluateError::DivisorShouldNotBeZero) => {
            Some("division by zero".into())
        }
        GlueError::Evaluate(EvaluateError::PgFunction { message, .. }) => Some(message.clone()),
        GlueError::Evaluate(EvaluateError::TextCastFailed { literal, .. })
            if literal.starts_with(NUMERIC_FIELD_OVERFLOW) =>
        {
            Some(literal.clone())
        }
        GlueError::Evaluate(EvaluateError::TextCastFailed { literal, data_type }) => Some(format!(
            "invalid input syntax for type {}: \"{literal}\"",
            glue_type_name(data_type)
        )),
        GlueError::StringExt(StringExtError::InvalidRegexPattern { error, .. }) => {
            Some(format!("invalid regular expression: {error}"))
        }
        GlueError::StringExt(StringExtError::UnsupportedRegexPattern { pattern, reason }) => Some(
            format!("this regular expression is not supported: {reason} (in \"{pattern}\")"),
        ),
        GlueError::Fetch(FetchError::TableNotFound(t))
        | GlueError::Execute(ExecuteError::TableNotFound(t))
        | GlueError::Insert(InsertError::TableNotFound(t)) => {
            Some(format!("relation \"{t}\" does not exist"))
        }
        _ => None,
    }
}

/// Whether a failed conversion is a number that does not fit the integer
/// type it was cast to (`1e10::int`), PostgreSQL's 22003.
fn out_of_range(value: &gluesql_core::data::Value, to: &gluesql_core::ast::DataType) -> bool {
    use gluesql_core::ast::DataType as D;
    use gluesql_core::data::Value as G;
    matches!(
        value,
        G::F32(_) | G::F64(_) | G::Decimal(_) | G::I16(_) | G::I32(_) | G::I64(_) | G::I128(_)
    ) && matches!(to, D::Int8 | D::Int16 | D::Int32 | D::Int)
}

/// PostgreSQL's type name of a GlueSQL type, for messages.
fn glue_type_name(t: &gluesql_core::ast::DataType) -> String {
    use gluesql_core::ast::DataType as D;
    match t {
        D::Int8 | D::Int16 => "smallint".into(),
        D::Int32 => "integer".into(),
        D::Int => "bigint".into(),
        D::Float => "double precision".into(),
        D::Decimal => "numeric".into(),
        D::Boolean => "boolean".into(),
        D::Date => "date".into(),
        D::Timestamp => "timestamp".into(),
        D::Time => "time".into(),
        D::Uuid => "uuid".into(),
        other => other.to_string().to_lowercase(),
    }
}

/// [`from_glue`], with PostgreSQL's wording for the errors GlueSQL reports
/// without the table they happened in (`table`, the statement's target):
/// unique and primary-key violations name the constraint, a missing
/// NOT NULL value the column and relation.
pub(crate) fn from_glue_on(e: GlueError, table: Option<&crate::store::TableInfo>) -> SqlError {
    let Some(info) = table else {
        return from_glue(e);
    };
    let name = &info.meta.schema.table_name;
    let (code, message) = match &e {
        GlueError::Validate(ValidateError::DuplicateEntryOnUniqueField(_, column)) => {
            let constraint = info
                .meta
                .unique_names
                .iter()
                .find(|(_, c)| c == column)
                .map_or_else(|| format!("{name}_{column}_key"), |(n, _)| n.clone());
            (
                UNIQUE_VIOLATION,
                format!("duplicate key value violates unique constraint \"{constraint}\""),
            )
        }
        GlueError::Validate(ValidateError::DuplicateEntryOnPrimaryKeyField(_)) => (
            UNIQUE_VIOLATION,
            format!("duplicate key value violates unique constraint \"{name}_pkey\""),
        ),
        GlueError::Insert(InsertError::LackOfRequiredColumn(column)) => (
            NOT_NULL_VIOLATION,
            format!(
                "null value in column \"{column}\" of relation \"{name}\" violates not-null \
                 constraint"
            ),
        ),
        _ => return from_glue(e),
    };
    SqlError::State { code, message }
}

fn classify(e: &GlueError) -> &'static str {
    match e {
        GlueError::Parser(_) => SYNTAX_ERROR,
        GlueError::StringExt(StringExtError::UnsupportedRegexPattern { .. }) => {
            FEATURE_NOT_SUPPORTED
        }
        GlueError::StringExt(StringExtError::InvalidRegexPattern { .. }) => "2201B",
        // A known function called with a number of arguments no overload
        // takes: PostgreSQL finds no such function.
        GlueError::Translate(
            TranslateError::FunctionArgsLengthNotMatching { .. }
            | TranslateError::FunctionArgsLengthNotMatchingMin { .. }
            | TranslateError::FunctionArgsLengthNotWithinRange { .. },
        ) => UNDEFINED_FUNCTION,
        // GlueSQL's translator refuses what it does not implement.
        GlueError::Translate(_) => FEATURE_NOT_SUPPORTED,
        GlueError::Planner(PlannerError::ColumnReferenceAmbiguous(_)) => AMBIGUOUS_COLUMN,
        GlueError::Validate(v) => match v {
            ValidateError::DuplicateEntryOnUniqueField(..)
            | ValidateError::DuplicateEntryOnPrimaryKeyField(_) => UNIQUE_VIOLATION,
            ValidateError::ConflictOnStorageColumnIndex(_) => INTERNAL_ERROR,
        },
        GlueError::Value(v) => match v.as_ref() {
            ValueError::NullValueOnNotNullField => NOT_NULL_VIOLATION,
            ValueError::DivisorShouldNotBeZero => DIVISION_BY_ZERO,
            ValueError::BinaryOperationOverflow { .. }
            | ValueError::UnreachableIntegerOverflow(_)
            | ValueError::FactorialOverflow
            | ValueError::FloatOutOfRange(_) => NUMERIC_VALUE_OUT_OF_RANGE,
            ValueError::SquareRootOfNegative => "2201F",
            ValueError::ConvertFailed {
                value: gluesql_core::data::Value::Str(_),
                ..
            } => INVALID_TEXT_REPRESENTATION,
            ValueError::ConvertFailed { value, data_type } if out_of_range(value, data_type) => {
                NUMERIC_VALUE_OUT_OF_RANGE
            }
            ValueError::DecimalQuotientTooWide { .. } => FEATURE_NOT_SUPPORTED,
            ValueError::FailedToParseUUID(_)
            | ValueError::FailedToParsePoint(_)
            | ValueError::InvalidJsonString(_)
            | ValueError::CastFromHexToByteaFailed(_) => INVALID_TEXT_REPRESENTATION,
            ValueError::IncompatibleDataType { .. }
            | ValueError::UnimplementedCast { .. }
            | ValueError::NonNumericMathOperation { .. }
            | ValueError::LikeOnNonString { .. }
            | ValueError::RegexOnNonString { .. } => UNDEFINED_FUNCTION,
            _ => DATA_EXCEPTION,
        },
        GlueError::Evaluate(v) => match v {
            EvaluateError::PgFunction { code, .. } => code,
            EvaluateError::DivisorShouldNotBeZero => DIVISION_BY_ZERO,
            EvaluateError::IdentifierNotFound(_)
            | EvaluateError::CompoundIdentifierNotFound { .. } => UNDEFINED_COLUMN,
            EvaluateError::MoreThanOneRowReturned
            | EvaluateError::MoreThanOneColumnReturned
            | EvaluateError::InSubqueryMustReturnOneColumn => CARDINALITY_VIOLATION,
            EvaluateError::BooleanTypeRequired(_) => DATATYPE_MISMATCH,
            // A literal that does not fit its column (70000 into SMALLINT).
            EvaluateError::NumberParseFailed { .. } | EvaluateError::NumberCastFailed { .. } => {
                NUMERIC_VALUE_OUT_OF_RANGE
            }
            // The failing cast a NUMERIC(p, s) cast's overflow is written as
            // (`numeric::Conversions`).
            EvaluateError::TextCastFailed { literal, .. }
                if literal.starts_with(NUMERIC_FIELD_OVERFLOW) =>
            {
                NUMERIC_VALUE_OUT_OF_RANGE
            }
            EvaluateError::TextCastFailed { .. } => INVALID_TEXT_REPRESENTATION,
            EvaluateError::FunctionRequiresStringValue(_)
            | EvaluateError::FunctionRequiresIntegerOrStringValue(_)
            | EvaluateError::FunctionRequiresIntegerValue(_)
            | EvaluateError::FunctionRequiresFloatOrIntegerValue(_)
            | EvaluateError::FunctionRequiresUSizeValue(_)
            | EvaluateError::FunctionRequiresFloatValue(_)
            | EvaluateError::FunctionRequiresDateOrDateTimeValue(_) => UNDEFINED_FUNCTION,
            // TO_DATE / TO_TIMESTAMP of text not in the template.
            EvaluateError::FormatParseError(_) => INVALID_DATETIME_FORMAT,
            _ => DATA_EXCEPTION,
        },
        GlueError::Fetch(FetchError::TableNotFound(_)) => UNDEFINED_TABLE,
        GlueError::Execute(ExecuteError::TableNotFound(_)) => UNDEFINED_TABLE,
        GlueError::Insert(i) => match i {
            InsertError::TableNotFound(_) => UNDEFINED_TABLE,
            InsertError::LackOfRequiredColumn(_) => NOT_NULL_VIOLATION,
            InsertError::WrongColumnName(_) => UNDEFINED_COLUMN,
            InsertError::CannotFindReferencedValue { .. } => FOREIGN_KEY_VIOLATION,
            InsertError::ColumnAndValuesNotMatched | InsertError::TooManyValues => SYNTAX_ERROR,
            _ => DATA_EXCEPTION,
        },
        GlueError::Update(u) => match u {
            UpdateError::ColumnNotFound(_) => UNDEFINED_COLUMN,
            UpdateError::CannotFindReferencedValue { .. } => FOREIGN_KEY_VIOLATION,
            UpdateError::UpdateOnPrimaryKeyNotSupported(_) => FEATURE_NOT_SUPPORTED,
            _ => DATA_EXCEPTION,
        },
        GlueError::Delete(DeleteError::ReferencingColumnExists(_)) => FOREIGN_KEY_VIOLATION,
        GlueError::Alter(a) => match a.as_ref() {
            AlterError::TableAlreadyExists(_) => DUPLICATE_TABLE,
            AlterError::TableNotFound(_) | AlterError::CtasSourceTableNotFound(_) => {
                UNDEFINED_TABLE
            }
            AlterError::DuplicateColumnName(_) => DUPLICATE_COLUMN,
            AlterError::ReferencedTableNotFound(_) => UNDEFINED_TABLE,
            AlterError::ReferencedColumnNotFound(_) | AlterError::ReferencingColumnNotFound(_) => {
                UNDEFINED_COLUMN
            }
            AlterError::CannotDropTableWithReferencing { .. } => "2BP01",
            AlterError::UnsupportedDataTypeForUniqueColumn(..)
            | AlterError::UnsupportedIndexExpr => FEATURE_NOT_SUPPORTED,
            _ => SYNTAX_OR_ACCESS,
        },
        _ => INTERNAL_ERROR,
    }
}

impl SqlError {
    /// The PostgreSQL SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            SqlError::TooComplex(_) => "54001",
            SqlError::Timeout => "57014",
            SqlError::Pattern(_) => "2201B",
            SqlError::Syntax(_) => SYNTAX_ERROR,
            SqlError::Unsupported(_) => FEATURE_NOT_SUPPORTED,
            SqlError::Type(_) => INVALID_TEXT_REPRESENTATION,
            SqlError::Conflict(_) => "40001",
            SqlError::Transaction(m) if m.contains("aborted") => "25P02",
            SqlError::Transaction(_) => "25001",
            SqlError::State { code, .. } => code,
            SqlError::Execution(_) | SqlError::Engine(_) => INTERNAL_ERROR,
        }
    }
}

mod bigdecimal_ext;
mod function;
mod interval;
mod key;
mod point;
mod row;
mod string_ext;
mod table;
mod tribool;

pub(crate) use string_ext::pg_regex;

pub(crate) const SCHEMALESS_DOC_COLUMN: &str = "_doc";

pub mod schema;
pub mod value;

pub use {
    bigdecimal_ext::BigDecimalExt,
    function::CustomFunction,
    interval::{Interval, IntervalError},
    key::{Key, KeyError},
    point::Point,
    row::Row,
    schema::{Schema, SchemaIndex, SchemaIndexOrd, SchemaParseError},
    string_ext::{StringExt, StringExtError},
    table::{TableError, get_alias},
    tribool::Tribool,
    value::{BTreeMapJsonExt, NumericBinaryOperator, Value, ValueError},
};

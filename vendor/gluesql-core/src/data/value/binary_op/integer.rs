mod i128;
mod i16;
mod i32;
mod i64;
mod i8;
mod u128;
mod u16;
mod u32;
mod u64;
mod u8;

mod macros;

/// HeliosDB: an integer meeting a float or a decimal is computed in the
/// other operand's type, as PostgreSQL promotes it (`int * numeric` is
/// NUMERIC, `int * float8` double precision). Upstream converted the other
/// operand to the integer's type, truncating it: `16 * 135.75` was 2160.
/// `lhs` is the integer's text (every width reads back exactly).
pub(crate) fn widened(
    lhs: &str,
    op: crate::data::NumericBinaryOperator,
    rhs: &crate::data::Value,
) -> crate::result::Result<crate::data::Value> {
    use crate::data::{NumericBinaryOperator as Op, Value, ValueError};
    use std::str::FromStr;
    let wide = match rhs {
        Value::Decimal(_) => Value::Decimal(
            rust_decimal::Decimal::from_str(lhs)
                .map_err(|_| ValueError::FloatToDecimalConversionFailure(f64::NAN))?,
        ),
        _ => Value::F64(f64::from_str(lhs).unwrap_or(f64::NAN)),
    };
    match op {
        Op::Add => wide.add(rhs),
        Op::Subtract => wide.subtract(rhs),
        Op::Multiply => wide.multiply(rhs),
        Op::Divide => wide.divide(rhs),
        Op::Modulo => wide.modulo(rhs),
        _ => Err(ValueError::NonNumericMathOperation {
            lhs: wide,
            operator: op,
            rhs: rhs.clone(),
        }
        .into()),
    }
}

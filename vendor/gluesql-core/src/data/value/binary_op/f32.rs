// HeliosDB: `real` as PostgreSQL computes it. Upstream compared an F32
// within `f32::EPSILON` of anything (1.0000001 = 1.0 was true), read the
// other operand as an f32 (`0.1::real = 0.1` was true, PostgreSQL's is
// false) and kept every result an F32 (`real * 3` lost the digits
// PostgreSQL's double precision keeps). Here a real meets a real in single
// precision — exactly, and a result that leaves the f32 range overflows
// as PostgreSQL's `float4pl`/`float4mul` do — and anything else as the
// exact f64 widening of the real, in double precision (`float48mul`,
// `float48eq`).
use {
    super::TryBinaryOperator,
    crate::{data::ValueError, prelude::Value, result::Result},
    Value::*,
    std::cmp::Ordering,
};

impl PartialEq<Value> for f32 {
    fn eq(&self, other: &Value) -> bool {
        match *other {
            F32(rhs) => *self == rhs,
            _ => f64::from(*self) == *other,
        }
    }
}

impl PartialOrd<Value> for f32 {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        match *other {
            F32(rhs) => self.partial_cmp(&rhs),
            _ => f64::from(*self).partial_cmp(other),
        }
    }
}

/// `lhs op rhs` of two reals: computed in f64, which rounds to the f32
/// result exactly (53 ≥ 2 × 24 + 2 bits), then narrowed; a finite result
/// beyond the f32 range is an overflow, a non-zero one that rounds to zero
/// an underflow (PostgreSQL's `float4mul` and the others check both).
fn real_op(lhs: f32, rhs: f32, op: impl Fn(f64, &Value) -> Result<Value>) -> Result<Value> {
    match op(f64::from(lhs), &F64(f64::from(rhs)))? {
        F64(x) => {
            let r = x as f32;
            if r.is_infinite() && x.is_finite() {
                return Err(ValueError::FloatOutOfRange("overflow").into());
            }
            if r == 0.0 && x != 0.0 {
                return Err(ValueError::FloatOutOfRange("underflow").into());
            }
            Ok(F32(r))
        }
        other => Ok(other),
    }
}

impl TryBinaryOperator for f32 {
    type Rhs = Value;

    fn try_add(&self, rhs: &Self::Rhs) -> Result<Value> {
        match *rhs {
            F32(r) => real_op(*self, r, |l, r| l.try_add(r)),
            _ => f64::from(*self).try_add(rhs),
        }
    }

    fn try_subtract(&self, rhs: &Self::Rhs) -> Result<Value> {
        match *rhs {
            F32(r) => real_op(*self, r, |l, r| l.try_subtract(r)),
            _ => f64::from(*self).try_subtract(rhs),
        }
    }

    fn try_multiply(&self, rhs: &Self::Rhs) -> Result<Value> {
        match *rhs {
            F32(r) => real_op(*self, r, |l, r| l.try_multiply(r)),
            _ => f64::from(*self).try_multiply(rhs),
        }
    }

    fn try_divide(&self, rhs: &Self::Rhs) -> Result<Value> {
        match *rhs {
            F32(r) => real_op(*self, r, |l, r| l.try_divide(r)),
            _ => f64::from(*self).try_divide(rhs),
        }
    }

    fn try_modulo(&self, rhs: &Self::Rhs) -> Result<Value> {
        match *rhs {
            F32(r) => real_op(*self, r, |l, r| l.try_modulo(r)),
            _ => f64::from(*self).try_modulo(rhs),
        }
    }
}

#[cfg(test)]
mod tests {
    use {
        super::{TryBinaryOperator, Value::*},
        crate::data::ValueError,
        rust_decimal::prelude::Decimal,
        std::cmp::Ordering,
    };

    #[test]
    fn eq_is_exact_and_widens() {
        assert_eq!(1.0_f32, F32(1.0));
        assert_ne!(1.000_000_1_f32, F32(1.0));
        assert_eq!(1.0_f32, I64(1));
        assert_eq!(0.5_f32, F64(0.5));
        // 0.1::real = 0.1::float8 is false in PostgreSQL.
        assert_ne!(0.1_f32, F64(0.1));
        assert_eq!(0.5_f32, Decimal(Decimal::new(5, 1)));
        assert_ne!(1.0_f32, Bool(true));
    }

    #[test]
    fn partial_cmp_widens() {
        assert_eq!(1.0_f32.partial_cmp(&F32(2.0)), Some(Ordering::Less));
        // 16777217::real is 16777216, below the integer 16777217.
        assert_eq!(
            16_777_217_f32.partial_cmp(&I64(16_777_217)),
            Some(Ordering::Less)
        );
        assert_eq!(0.1_f32.partial_cmp(&F64(0.1)), Some(Ordering::Greater));
        assert_eq!(1.0_f32.partial_cmp(&Bool(true)), None);
    }

    #[test]
    fn real_with_real_is_single_precision() {
        assert_eq!(0.1_f32.try_multiply(&F32(0.2)), Ok(F32(0.1_f32 * 0.2_f32)));
        assert_eq!(0.1_f32.try_add(&F32(0.2)), Ok(F32(0.1_f32 + 0.2_f32)));
        assert_eq!(1.0_f32.try_subtract(&F32(3.0)), Ok(F32(-2.0)));
        assert_eq!(1.0_f32.try_divide(&F32(3.0)), Ok(F32(1.0_f32 / 3.0_f32)));
        assert_eq!(
            3.0e38_f32.try_multiply(&F32(10.0)),
            Err(ValueError::FloatOutOfRange("overflow").into())
        );
        assert_eq!(
            1.0e-30_f32.try_multiply(&F32(1.0e-30)),
            Err(ValueError::FloatOutOfRange("underflow").into())
        );
        assert_eq!(1.0_f32.try_divide(&F32(f32::INFINITY)), Ok(F32(0.0)));
        assert_eq!(f32::INFINITY.try_add(&F32(1.0)), Ok(F32(f32::INFINITY)));
        assert_eq!(1.0_f32.try_add(&Null), Ok(Null));
    }

    #[test]
    fn real_with_anything_else_is_double_precision() {
        let wide = f64::from(0.1_f32);
        assert_eq!(0.1_f32.try_multiply(&I64(3)), Ok(F64(wide * 3.0)));
        assert_eq!(0.1_f32.try_add(&F64(1.0)), Ok(F64(wide + 1.0)));
        assert_eq!(0.1_f32.try_divide(&I32(2)), Ok(F64(wide / 2.0)));
        assert!(0.1_f32.try_add(&Bool(true)).is_err());
    }
}

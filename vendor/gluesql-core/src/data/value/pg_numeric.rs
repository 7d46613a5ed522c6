//! HeliosDB: the quotient of two DECIMALs as PostgreSQL's `numeric_div`
//! gives it. Not upstream's: GlueSQL divided at the 28 digits of
//! `rust_decimal`, where PostgreSQL keeps `select_div_scale`'s digits.

use rust_decimal::{Decimal, RoundingStrategy};

/// PostgreSQL's `NUMERIC_MIN_SIG_DIGITS`.
const MIN_SIG_DIGITS: i64 = 16;
/// Decimal digits `rust_decimal` holds.
const MAX_DIGITS: i64 = 28;

/// PostgreSQL's weight (base-10000 position of the first non-zero digit
/// group) and that first group of `d`; `(0, 0)` for zero.
pub fn weight_and_first(d: Decimal) -> (i64, u128) {
    if d.is_zero() {
        return (0, 0);
    }
    let m = d.mantissa().unsigned_abs();
    let s = i64::from(d.scale());
    let digits = i64::try_from(m.to_string().len()).unwrap_or(0);
    let w = (digits - 1 - s).div_euclid(4);
    let k = s + 4 * w;
    let first = if k >= 0 {
        m / 10u128.pow(u32::try_from(k).unwrap_or(0))
    } else {
        m * 10u128.pow(u32::try_from(-k).unwrap_or(0))
    };
    (w, first)
}

/// The scale of PostgreSQL's `a / b` (`select_div_scale`): at least 16
/// significant digits, at least either operand's scale.
pub fn div_scale(a: Decimal, b: Decimal) -> i64 {
    let (w1, f1) = weight_and_first(a);
    let (w2, f2) = weight_and_first(b);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    (MIN_SIG_DIGITS - qweight * 4)
        .max(i64::from(a.scale()))
        .max(i64::from(b.scale()))
        .clamp(0, 1000)
}

/// `a / b` rounded half away from zero to [`div_scale`] digits, as
/// PostgreSQL prints it; `None` when `b` is zero or the result needs more
/// digits than `rust_decimal` carries (with one to round from).
pub fn divide(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = div_scale(a, b);
    let q = a.checked_div(b)?;
    let int_digits = i64::try_from(q.trunc().abs().to_string().trim_start_matches('0').len())
        .unwrap_or(MAX_DIGITS);
    if int_digits + scale >= MAX_DIGITS {
        return None;
    }
    let scale = u32::try_from(scale).ok()?;
    let mut r = q.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(scale);
    if r.scale() != scale {
        return None;
    }
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    Some(r)
}

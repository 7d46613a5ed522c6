//! [`UsageCounter`]: counts encryptions under one data key against a
//! reservation that the caller persists, so that a crash can never make a
//! count go backwards.

use std::sync::atomic::{AtomicU64, Ordering};

/// Default number of encryptions allowed under one data key.
///
/// NIST SP 800-38D §8.3 limits AES-GCM with random 96-bit nonces to 2^32
/// invocations per key, which keeps the probability of any nonce repeating
/// below 2^-32. We stop at 2^32 - 2^26 (about 4.23 billion) as margin for
/// values counted but never written, and rotate to a fresh data key before
/// reaching it.
pub const DEFAULT_NONCE_BUDGET: u64 = (1u64 << 32) - (1u64 << 26);

/// Returned by [`UsageCounter::next`] when the count has reached the
/// persisted reservation.
///
/// `n` has been handed out and is **spent** either way. The caller persists
/// a new limit `L > n` (durably, before sealing anything with `n`), calls
/// [`UsageCounter::extend`]`(L)`, and may then use `n`. If it cannot (or
/// `n == u64::MAX`, which no limit can cover) it must not encrypt with this
/// key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedReservation {
    /// The count value that was handed out.
    pub n: u64,
}

/// Encryption counter for one data key, with block reservations.
///
/// The count of encryptions under a key must survive restarts, but writing
/// it on every encryption would be too slow. Instead the owner persists a
/// *reserved* limit (say, current count + 65 536) and counts in memory up to
/// it. After a crash the count restarts at the persisted limit, so values
/// reserved but never used are lost, never reused: **every value handed out,
/// including past the reservation, counts as spent.** When the count
/// approaches the key's budget ([`DEFAULT_NONCE_BUDGET`]), the owner rotates
/// to a fresh key.
///
/// The counter itself does no I/O; persistence is the caller's job. It is
/// thread safe and lock free: concurrent callers never receive the same
/// value.
#[derive(Debug)]
pub struct UsageCounter {
    /// The next value to hand out (= number of values spent, if counting
    /// started at zero).
    next: AtomicU64,
    /// Values below this are covered by a persisted reservation.
    reserved: AtomicU64,
}

impl UsageCounter {
    /// A counter that hands out `start`, `start + 1`, … with values below
    /// `reserved` covered by a persisted reservation. On open, pass the
    /// persisted limit as both `start` and `reserved` (values between the
    /// last use and the limit are forfeited), then reserve a new block.
    pub fn new(start: u64, reserved: u64) -> Self {
        Self {
            next: AtomicU64::new(start),
            reserved: AtomicU64::new(reserved),
        }
    }

    /// Hands out the next value.
    ///
    /// # Errors
    ///
    /// [`NeedReservation`] if the value is not below the current reservation:
    /// persist a larger limit, call [`extend`](Self::extend), then use it
    /// (see [`NeedReservation`] for the exact contract). The value counts as
    /// spent either way. Once the counter reaches `u64::MAX` it stays there
    /// and every call returns `NeedReservation { n: u64::MAX }`.
    pub fn next(&self) -> std::result::Result<u64, NeedReservation> {
        // A CAS loop rather than `fetch_add` so the counter saturates at
        // u64::MAX instead of wrapping round to values already spent.
        // Uniqueness needs only the atomicity of the read-modify-write, not
        // any ordering with other memory.
        let Ok(n) = self
            .next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_add(1))
        else {
            return Err(NeedReservation { n: u64::MAX });
        };
        if n < self.reserved.load(Ordering::Acquire) {
            Ok(n)
        } else {
            Err(NeedReservation { n })
        }
    }

    /// Records that values below `new_limit` are now covered by a persisted
    /// reservation. Never lowers the limit, so racing callers may extend in
    /// any order.
    pub fn extend(&self, new_limit: u64) {
        self.reserved.fetch_max(new_limit, Ordering::Release);
    }

    /// The next value [`next`](Self::next) would hand out: the number of
    /// values spent so far, counting from zero.
    pub fn used(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// The current reservation limit.
    pub fn reserved(&self) -> u64 {
        self.reserved.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_values_up_to_the_reservation() {
        let c = UsageCounter::new(10, 13);
        assert_eq!(c.next(), Ok(10));
        assert_eq!(c.next(), Ok(11));
        assert_eq!(c.next(), Ok(12));
        assert_eq!(c.next(), Err(NeedReservation { n: 13 }));
        // 13 stays spent even though it was refused.
        assert_eq!(c.used(), 14);
        c.extend(20);
        assert_eq!(c.reserved(), 20);
        assert_eq!(c.next(), Ok(14));
    }

    #[test]
    fn extend_never_lowers() {
        let c = UsageCounter::new(0, 100);
        c.extend(50);
        assert_eq!(c.reserved(), 100);
        c.extend(150);
        assert_eq!(c.reserved(), 150);
    }

    #[test]
    fn start_beyond_reservation_needs_one_first() {
        let c = UsageCounter::new(100, 100);
        assert_eq!(c.next(), Err(NeedReservation { n: 100 }));
        c.extend(200);
        assert_eq!(c.next(), Ok(101));
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let c = UsageCounter::new(u64::MAX - 2, u64::MAX);
        assert_eq!(c.next(), Ok(u64::MAX - 2));
        assert_eq!(c.next(), Ok(u64::MAX - 1));
        for _ in 0..3 {
            assert_eq!(c.next(), Err(NeedReservation { n: u64::MAX }));
        }
        assert_eq!(c.used(), u64::MAX);
    }

    #[test]
    fn budget_constant() {
        assert_eq!(DEFAULT_NONCE_BUDGET, 4_227_858_432);
        const { assert!(DEFAULT_NONCE_BUDGET < 1 << 32) };
    }
}

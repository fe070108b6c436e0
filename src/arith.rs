//! Division by the sizes the rules divide by (page, section, block sizes). Every preset's sizes
//! are powers of two, for which a shift replaces the 64-bit `div` (tens of cycles on current
//! x86_64 cores, and the validator and the solver each did several per call); a hand-made
//! [`Platform`](crate::Platform) with other sizes still gets the exact quotient.

/// `a / b`; `None` for `b == 0`.
#[inline]
pub(crate) const fn div(a: u64, b: u64) -> Option<u64> {
    if b.is_power_of_two() {
        a.checked_shr(b.trailing_zeros())
    } else {
        a.checked_div(b)
    }
}

/// `a % b`; `None` for `b == 0`.
#[inline]
pub(crate) const fn rem(a: u64, b: u64) -> Option<u64> {
    if b.is_power_of_two() {
        Some(a & b.wrapping_sub(1))
    } else {
        a.checked_rem(b)
    }
}

#[cfg(test)]
mod tests {
    use super::{div, rem};

    #[test]
    fn same_as_the_operators() {
        let values = [
            0,
            1,
            2,
            3,
            4095,
            4096,
            4097,
            1 << 21,
            (1 << 21) + 5,
            u64::MAX,
        ];
        let divisors = [1, 2, 3, 7, 4096, 1 << 21, 3 << 20, 1 << 63, u64::MAX];
        for a in values {
            for b in divisors {
                assert_eq!(div(a, b), Some(a / b), "{a} / {b}");
                assert_eq!(rem(a, b), Some(a % b), "{a} % {b}");
            }
            assert_eq!((div(a, 0), rem(a, 0)), (None, None));
        }
    }
}

//! Linux `uuid_t`: 16 raw bytes in string order (no GUID byte swapping).

use core::fmt;
use core::str::FromStr;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A uuid in Linux `uuid_t` byte order: the 16 bytes appear in the same order as the hex
/// digits of the canonical string, as libuuid's `uuid_parse` and ndctl store them.
///
/// ```
/// use nvdimm_infoblock::Uuid;
/// let u: Uuid = "11111111-2222-4333-8444-555555555555".parse().unwrap();
/// assert_eq!(u.0[0..4], [0x11, 0x11, 0x11, 0x11]);
/// assert_eq!(u.to_string(), "11111111-2222-4333-8444-555555555555");
/// ```
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The null uuid, which label-less (e820, virtio-pmem, QEMU) namespaces present as their
    /// uuid, so their blocks carry an all-zero `parent_uuid`.
    pub const NIL: Self = Self([0; 16]);

    /// Whether every byte is zero.
    #[must_use]
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

/// Why a string is not a canonical uuid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UuidParseError {
    /// The string is not 36 characters long.
    Length {
        /// The length found, in bytes.
        len: usize,
    },
    /// A character at a hyphen position is not `-`, or a digit position holds a non-hex byte.
    Character {
        /// Byte index of the offending character.
        index: usize,
        /// The byte found.
        found: u8,
    },
}

impl fmt::Display for UuidParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Length { len } => write!(f, "uuid must be 36 characters, got {len}"),
            Self::Character { index, found } => write!(
                f,
                "invalid character {:?} at position {index} of uuid",
                char::from(found)
            ),
        }
    }
}

impl core::error::Error for UuidParseError {}

const fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => c.checked_sub(b'0'),
        b'a'..=b'f' => match c.checked_sub(b'a') {
            Some(v) => v.checked_add(10),
            None => None,
        },
        b'A'..=b'F' => match c.checked_sub(b'A') {
            Some(v) => v.checked_add(10),
            None => None,
        },
        _ => None,
    }
}

impl FromStr for Uuid {
    type Err = UuidParseError;

    /// Parses the canonical `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 36 {
            return Err(UuidParseError::Length { len: bytes.len() });
        }
        let mut out = [0u8; 16];
        let mut digit = 0usize;
        for (index, &c) in bytes.iter().enumerate() {
            if matches!(index, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(UuidParseError::Character { index, found: c });
                }
                continue;
            }
            let v = hex_value(c).ok_or(UuidParseError::Character { index, found: c })?;
            let slot = out
                .get_mut(digit / 2)
                .ok_or(UuidParseError::Character { index, found: c })?;
            *slot = if digit % 2 == 0 { v << 4 } else { *slot | v };
            digit = digit.wrapping_add(1);
        }
        Ok(Self(out))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

#[cfg(test)]
#[allow(clippy::as_conversions, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use std::format;
    use std::string::ToString;

    /// NDCTL.md §2.7: libuuid stores the 16 bytes in string order (no GUID swapping), so
    /// ndctl's `11111111-2222-4333-8444-555555555555` is bytes 11 11 11 11 22 22 43 33 ...
    #[test]
    fn parse_is_string_order() {
        let u: Uuid = "11111111-2222-4333-8444-555555555555".parse().unwrap();
        assert_eq!(
            u.0,
            [
                0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x43, 0x33, 0x84, 0x44, 0x55, 0x55, 0x55, 0x55,
                0x55, 0x55
            ]
        );
        let p: Uuid = "170791fd-7ada-4b3e-9f40-0123456789AB".parse().unwrap();
        assert_eq!(p.0[..6], [0x17, 0x07, 0x91, 0xfd, 0x7a, 0xda]);
        assert_eq!(p.0[15], 0xab);
    }

    #[test]
    fn display_is_lowercase_canonical_and_round_trips() {
        let bytes: [u8; 16] = core::array::from_fn(|i| (i as u8).wrapping_mul(17));
        let u = Uuid(bytes);
        let s = u.to_string();
        assert_eq!(s, "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(s.parse::<Uuid>(), Ok(u));
        assert_eq!(
            format!("{u:?}"),
            "Uuid(00112233-4455-6677-8899-aabbccddeeff)"
        );
        // Upper case parses to the same bytes and prints in lower case.
        let upper: Uuid = "00112233-4455-6677-8899-AABBCCDDEEFF".parse().unwrap();
        assert_eq!(upper, u);
        assert_eq!(
            Uuid::NIL.to_string(),
            "00000000-0000-0000-0000-000000000000"
        );
        assert!(Uuid::NIL.is_nil());
        assert!(!u.is_nil());
        assert_eq!(Uuid::default(), Uuid::NIL);
    }

    #[test]
    fn every_byte_value_round_trips() {
        for b in 0..=255u8 {
            let u = Uuid([b; 16]);
            assert_eq!(u.to_string().parse::<Uuid>(), Ok(u));
        }
    }

    #[test]
    fn length_errors() {
        assert_eq!("".parse::<Uuid>(), Err(UuidParseError::Length { len: 0 }));
        assert_eq!(
            "11111111-2222-4333-8444-55555555555".parse::<Uuid>(),
            Err(UuidParseError::Length { len: 35 })
        );
        assert_eq!(
            "11111111-2222-4333-8444-5555555555555".parse::<Uuid>(),
            Err(UuidParseError::Length { len: 37 })
        );
        // No hyphens: 32 characters.
        assert_eq!(
            "11111111222243338444555555555555".parse::<Uuid>(),
            Err(UuidParseError::Length { len: 32 })
        );
        // Length counts bytes: 34 ASCII + one 2-byte character = 36 bytes, then the
        // multi-byte character is reported as a bad byte.
        let e = "11111111-2222-4333-8444-5555555555é".parse::<Uuid>();
        assert_eq!(
            e,
            Err(UuidParseError::Character {
                index: 34,
                found: 0xc3
            })
        );
    }

    #[test]
    fn character_errors() {
        assert_eq!(
            "11111111_2222-4333-8444-555555555555".parse::<Uuid>(),
            Err(UuidParseError::Character {
                index: 8,
                found: b'_'
            })
        );
        assert_eq!(
            "1111111g-2222-4333-8444-555555555555".parse::<Uuid>(),
            Err(UuidParseError::Character {
                index: 7,
                found: b'g'
            })
        );
        // A hyphen where a digit belongs.
        assert_eq!(
            "-1111111-2222-4333-8444-555555555555".parse::<Uuid>(),
            Err(UuidParseError::Character {
                index: 0,
                found: b'-'
            })
        );
        assert_eq!(
            "11111111-2222-4333-8444-55555555555 ".parse::<Uuid>(),
            Err(UuidParseError::Character {
                index: 35,
                found: b' '
            })
        );
    }

    #[test]
    fn error_display_debug_eq_hash() {
        use std::collections::HashSet;
        let len = UuidParseError::Length { len: 3 };
        let chr = UuidParseError::Character {
            index: 8,
            found: b'x',
        };
        assert_eq!(len.to_string(), "uuid must be 36 characters, got 3");
        assert_eq!(
            chr.to_string(),
            "invalid character 'x' at position 8 of uuid"
        );
        assert_eq!(format!("{len:?}"), "Length { len: 3 }");
        assert_eq!(format!("{chr:?}"), "Character { index: 8, found: 120 }");
        let set: HashSet<UuidParseError> = [len, chr, len].into_iter().collect();
        assert_eq!(set.len(), 2);
        fn is_error<E: core::error::Error + Copy + Eq + core::hash::Hash>(_: E) {}
        is_error(len);
    }
}

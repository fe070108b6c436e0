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

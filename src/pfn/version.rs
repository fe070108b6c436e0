//! Info-block versions (`version_major`.`version_minor`).

use core::fmt;

/// A stored info-block version. Ordered by (major, minor).
///
/// The kernel never checks `major` (real blocks with major 0 exist, e.g. Kata's 0.2) and reads
/// every minor above 4 as 4; only the minor decides which fields a reader takes from the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// `version_major`: always written as 1, never checked.
    pub major: u16,
    /// `version_minor`: 0..=4 upstream.
    pub minor: u16,
}

impl Version {
    /// v1.0 (Linux 4.3): the first layout.
    pub const V1_0: Self = Self::new(1, 0);
    /// v1.1 (Linux 4.6): `start_pad`, `end_trunc`.
    pub const V1_1: Self = Self::new(1, 1);
    /// v1.2 (Linux 4.7/4.8): `align`.
    pub const V1_2: Self = Self::new(1, 2);
    /// v1.3 (Linux 5.3): no new field; flags and padding guaranteed zero.
    pub const V1_3: Self = Self::new(1, 3);
    /// v1.4 (Linux 5.4 to today): `page_size`, `page_struct_size`.
    pub const V1_4: Self = Self::new(1, 4);
    /// The newest minor version this crate knows (4); larger minors are read as this one.
    pub const NEWEST_MINOR: u16 = 4;

    /// A version from its parts.
    #[must_use]
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The minor version a kernel acts on: the stored minor, capped at 4 (unknown future
    /// minors are read as the newest known one, as every kernel does).
    #[must_use]
    pub const fn effective_minor(self) -> u16 {
        if self.minor > Self::NEWEST_MINOR {
            Self::NEWEST_MINOR
        } else {
            self.minor
        }
    }

    /// Whether a block of this version stores `start_pad` and `end_trunc` (minor >= 1).
    #[must_use]
    pub const fn has_padding_fields(self) -> bool {
        self.minor >= 1
    }

    /// Whether a block of this version stores `align` (minor >= 2).
    #[must_use]
    pub const fn has_align(self) -> bool {
        self.minor >= 2
    }

    /// Whether a block of this version guarantees zero flags and padding (minor >= 3).
    #[must_use]
    pub const fn has_zeroed_padding(self) -> bool {
        self.minor >= 3
    }

    /// Whether a block of this version stores `page_size` and `page_struct_size` (minor >= 4).
    #[must_use]
    pub const fn has_page_sizes(self) -> bool {
        self.minor >= 4
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

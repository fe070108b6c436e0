//! Error types of the format layer and their coarse classes.

use core::fmt;

use crate::pfn::raw::Signature;

/// What the kernel does with a namespace whose block fails in this way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// There is no info-block here (unknown signature or a buffer that cannot hold one).
    /// The kernel's `nd_pfn_validate` returns `-ENODEV` and the namespace is used raw.
    NotAnInfoBlock,
    /// It looks like an info-block but is damaged or holds values no kernel accepts (bad
    /// checksum, unknown mode, foreign parent uuid). The kernel returns `-ENODEV` or `-ENXIO`,
    /// ignores the block and also uses the namespace raw.
    Corrupt,
    /// A well-formed block this reader cannot or will not use (page size, struct page size,
    /// alignment, a `min_version` above what it supports). Since Linux 5.4/5.7 the kernel
    /// returns `-EOPNOTSUPP` and leaves the namespace disabled instead of using it raw.
    Unsupported,
}

impl ErrorClass {
    /// Whether a kernel that meets this error falls back to the raw namespace.
    #[must_use]
    pub const fn kernel_uses_raw(self) -> bool {
        matches!(self, Self::NotAnInfoBlock | Self::Corrupt)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAnInfoBlock => "not an info-block",
            Self::Corrupt => "corrupt info-block",
            Self::Unsupported => "unsupported info-block",
        })
    }
}

/// Why bytes could not be read as an info-block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// The buffer is neither a 4096-byte block nor a namespace head of at least 8192 bytes.
    InvalidLength {
        /// Length of the buffer given, in bytes.
        len: usize,
    },
    /// The 16-byte signature is neither `NVDIMM_PFN_INFO\0` nor `NVDIMM_DAX_INFO\0`
    /// (compared over all 16 bytes, NUL included, as the kernel's `memcmp` does).
    BadSignature {
        /// The 16 bytes found.
        found: Signature,
    },
    /// The stored checksum differs from `nd_sb_checksum` of the block.
    ChecksumMismatch {
        /// The value stored at bytes 4088..4096.
        stored: u64,
        /// The value computed over the block with the checksum field taken as zero.
        computed: u64,
    },
}

impl ParseError {
    /// The kernel outcome this error corresponds to.
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidLength { .. } | Self::BadSignature { .. } => ErrorClass::NotAnInfoBlock,
            Self::ChecksumMismatch { .. } => ErrorClass::Corrupt,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidLength { len } => write!(
                f,
                "{len} bytes is neither a 4096-byte info-block nor a namespace head of at least \
                 8192 bytes"
            ),
            Self::BadSignature { found } if *found == Signature::BTT => {
                f.write_str("signature \"BTT_ARENA_INFO\" is a BTT block, not a pfn/dax info-block")
            }
            Self::BadSignature { found } => write!(
                f,
                "signature \"{found}\" is neither NVDIMM_PFN_INFO nor NVDIMM_DAX_INFO"
            ),
            Self::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#018x}, computed {computed:#018x}"
            ),
        }
    }
}

impl core::error::Error for ParseError {}

/// Why a [`PfnInfo`](crate::PfnInfo) cannot be written as a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmitError {
    /// `min_version` is set, but the 2019 proposal defines it only for minor version 3.
    MinVersionNeedsMinor3 {
        /// The minor version of the value.
        minor: u16,
    },
}

impl EmitError {
    /// The coarse class: a value that cannot be expressed is unsupported.
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        ErrorClass::Unsupported
    }
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MinVersionNeedsMinor3 { minor } => write!(
                f,
                "min_version exists only in the 2019 proposal's v1.3, not in minor version {minor}"
            ),
        }
    }
}

impl core::error::Error for EmitError {}

#[cfg(test)]
#[allow(clippy::as_conversions, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::HashSet;
    use std::format;
    use std::hash::{Hash, Hasher};
    use std::string::ToString;

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        h.finish()
    }

    /// The traits every error type promises (STYLE.md §2 "Error design").
    fn check_derives<
        T: Clone + Copy + core::fmt::Debug + PartialEq + Eq + Hash + core::error::Error,
    >() {
    }

    #[test]
    fn error_types_have_the_promised_traits() {
        check_derives::<ParseError>();
        check_derives::<EmitError>();
    }

    /// One value of every `ParseError` variant; BTT is its own Display case.
    fn parse_errors() -> [ParseError; 4] {
        [
            ParseError::InvalidLength { len: 4095 },
            ParseError::BadSignature {
                found: Signature(*b"NVDIMM_XFN_INFO\0"),
            },
            ParseError::BadSignature {
                found: Signature::BTT,
            },
            ParseError::ChecksumMismatch {
                stored: 0xcb6f_555c_6d1a_aee3,
                computed: 0xcb6f_555c_6d1a_aee2,
            },
        ]
    }

    #[test]
    fn parse_error_display() {
        let shown: std::vec::Vec<_> = parse_errors().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "4095 bytes is neither a 4096-byte info-block nor a namespace head of at least \
                 8192 bytes",
                "signature \"NVDIMM_XFN_INFO\\x00\" is neither NVDIMM_PFN_INFO nor NVDIMM_DAX_INFO",
                "signature \"BTT_ARENA_INFO\" is a BTT block, not a pfn/dax info-block",
                "checksum mismatch: stored 0xcb6f555c6d1aaee3, computed 0xcb6f555c6d1aaee2",
            ]
        );
        for s in &shown {
            // House style: lowercase start, no final full stop.
            assert!(!s.ends_with('.'), "{s}");
            assert!(!s.starts_with(char::is_uppercase), "{s}");
        }
    }

    #[test]
    fn parse_error_debug_names_the_variant_and_its_values() {
        let [len, sig, btt, csum] = parse_errors();
        assert_eq!(format!("{len:?}"), "InvalidLength { len: 4095 }");
        assert_eq!(
            format!("{sig:?}"),
            "BadSignature { found: Signature(\"NVDIMM_XFN_INFO\\x00\") }"
        );
        assert!(format!("{btt:?}").contains("BTT_ARENA_INFO"));
        assert_eq!(
            format!("{csum:?}"),
            format!(
                "ChecksumMismatch {{ stored: {}, computed: {} }}",
                0xcb6f_555c_6d1a_aee3_u64, 0xcb6f_555c_6d1a_aee2_u64
            )
        );
    }

    #[test]
    fn parse_error_eq_and_hash_follow_the_carried_values() {
        let errors = parse_errors();
        let set: HashSet<ParseError> = errors.iter().copied().collect();
        assert_eq!(set.len(), errors.len(), "all four values are distinct");
        for e in &errors {
            let copy = *e;
            assert_eq!(copy, *e);
            assert_eq!(hash_of(&copy), hash_of(e));
        }
        // Same variant, different carried value: not equal.
        assert_ne!(
            ParseError::InvalidLength { len: 0 },
            ParseError::InvalidLength { len: 1 }
        );
        assert_ne!(
            ParseError::ChecksumMismatch {
                stored: 1,
                computed: 2
            },
            ParseError::ChecksumMismatch {
                stored: 2,
                computed: 1
            }
        );
    }

    /// FORMAT.md §3.7 steps 4–5: a wrong signature and a bad checksum both make
    /// `nd_pfn_validate` return -ENODEV; the signature case means "no info-block here".
    #[test]
    fn parse_error_class() {
        let [len, sig, btt, csum] = parse_errors();
        assert_eq!(len.class(), ErrorClass::NotAnInfoBlock);
        assert_eq!(sig.class(), ErrorClass::NotAnInfoBlock);
        assert_eq!(btt.class(), ErrorClass::NotAnInfoBlock);
        assert_eq!(csum.class(), ErrorClass::Corrupt);
        // Both -ENODEV outcomes fall back to the raw namespace.
        assert!(sig.class().kernel_uses_raw());
        assert!(csum.class().kernel_uses_raw());
    }

    #[test]
    fn emit_error_display_debug_eq_hash_class() {
        let e = EmitError::MinVersionNeedsMinor3 { minor: 4 };
        assert_eq!(
            e.to_string(),
            "min_version exists only in the 2019 proposal's v1.3, not in minor version 4"
        );
        assert_eq!(format!("{e:?}"), "MinVersionNeedsMinor3 { minor: 4 }");
        assert_eq!(e, EmitError::MinVersionNeedsMinor3 { minor: 4 });
        assert_ne!(e, EmitError::MinVersionNeedsMinor3 { minor: 2 });
        assert_eq!(
            hash_of(&e),
            hash_of(&EmitError::MinVersionNeedsMinor3 { minor: 4 })
        );
        assert_eq!(e.class(), ErrorClass::Unsupported);
    }

    /// FORMAT.md §3: -ENODEV (no block, bad checksum) falls back to raw; since v5.4/5.7
    /// -EOPNOTSUPP leaves the namespace disabled.
    #[test]
    fn error_class_display_and_raw_fallback() {
        assert_eq!(ErrorClass::NotAnInfoBlock.to_string(), "not an info-block");
        assert_eq!(ErrorClass::Corrupt.to_string(), "corrupt info-block");
        assert_eq!(
            ErrorClass::Unsupported.to_string(),
            "unsupported info-block"
        );
        assert!(ErrorClass::NotAnInfoBlock.kernel_uses_raw());
        assert!(ErrorClass::Corrupt.kernel_uses_raw());
        assert!(!ErrorClass::Unsupported.kernel_uses_raw());
        let set: HashSet<ErrorClass> = [
            ErrorClass::NotAnInfoBlock,
            ErrorClass::Corrupt,
            ErrorClass::Unsupported,
        ]
        .into_iter()
        .collect();
        assert_eq!(set.len(), 3);
    }
}

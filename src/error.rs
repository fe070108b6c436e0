//! Error types of the format layer and their coarse classes.

use core::fmt;

use crate::raw::Signature;

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

//! Why the solver refuses a request.

use core::fmt;

use crate::pfn::validate::{Errno, Reason, Stage};
use crate::pfn::version::Version;

/// A field a block version cannot hold (see [`LayoutError::VersionCannotExpress`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `start_pad` (v1.1+).
    StartPad,
    /// `end_trunc` (v1.1+).
    EndTrunc,
    /// `align` (v1.2+); below v1.2 a reader derives the alignment from `dataoff`.
    Align,
    /// `page_struct_size` (v1.4+); below v1.4 a reader assumes 64.
    PageStructSize,
}

impl Field {
    /// The kernel's field name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::StartPad => "start_pad",
            Self::EndTrunc => "end_trunc",
            Self::Align => "align",
            Self::PageStructSize => "page_struct_size",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why [`solve`](crate::pfn::layout::solve) (or the inverse search) gives no layout: the request
/// is malformed, or the kernel of the profile would refuse the result, or it would leave no
/// data pages. Every variant carries the numbers that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LayoutError {
    /// `mode` is neither RAM (1) nor PMEM (2); the kernel returns `-ENXIO`.
    InvalidMode {
        /// The mode requested.
        mode: u32,
    },
    /// PMEM mode (memmap on the device) does not exist in this era (4.3 returns `-ENOTTY`).
    PmemModeUnsupported,
    /// Device-dax does not exist in this era (before 4.7).
    DevdaxUnsupported,
    /// The alignment is not a power of two.
    AlignNotPowerOfTwo {
        /// The alignment requested.
        align: u64,
    },
    /// The alignment is below the page size.
    AlignBelowPageSize {
        /// The alignment requested.
        align: u64,
        /// The profile's page size.
        page_size: u64,
    },
    /// The alignment does not fit the 32-bit `align` field (4 GiB or more); ndctl stores
    /// such values cut to 32 bits, which no kernel reads back as intended.
    AlignTooLarge {
        /// The alignment requested.
        align: u64,
    },
    /// This era has no `align` attribute (4.3): only its implicit PMD alignment is possible.
    AlignNotSettable {
        /// The alignment requested.
        align: u64,
        /// The only alignment the era uses.
        implicit: u64,
    },
    /// Device-dax alignment not in the platform's supported set (5.4+ validate returns
    /// `-EOPNOTSUPP`, "alignment mismatch").
    DaxAlignUnsupported {
        /// The alignment requested.
        align: u64,
    },
    /// The namespace is smaller than this era can host (4.3: one memory section).
    NamespaceTooSmall {
        /// The namespace size.
        size: u64,
        /// The minimum.
        minimum: u64,
    },
    /// The namespace start (plus `start_pad`) is not aligned as the era requires: a memory
    /// section in 4.3, `memremap_compat_align()` in 5.7+ (init returns `-EINVAL`, validate
    /// "resource start misaligned").
    StartMisaligned {
        /// The address checked (`ns_start + start_pad`).
        start: u64,
        /// The alignment it needs.
        required: u64,
    },
    /// `start_pad` or `end_trunc` does not fit its 32-bit field.
    PaddingTooLarge {
        /// The start padding.
        start_pad: u64,
        /// The end truncation.
        end_trunc: u64,
    },
    /// The era cannot store the padding (v1.0 writers have no `start_pad`/`end_trunc`).
    PaddingUnsupported {
        /// The start padding.
        start_pad: u64,
        /// The end truncation.
        end_trunc: u64,
    },
    /// `dataoff + start_pad + end_trunc` reaches the end of the namespace: no data byte is
    /// left (init: "unable to satisfy requested alignment", `-ENXIO`; 6.5+ validate: "bad
    /// offset with small namespace").
    NoRoomForData {
        /// The data offset.
        dataoff: u64,
        /// The start padding.
        start_pad: u64,
        /// The end truncation.
        end_trunc: u64,
        /// The namespace size.
        size: u64,
    },
    /// Fewer data bytes than one page are left, so `npfns` would be 0 (ndctl writes such
    /// blocks; 6.1 enables a 0-byte device, 6.5+ refuses it).
    NoDataPages {
        /// Data bytes left.
        data_bytes: u64,
        /// The page size.
        page_size: u64,
    },
    /// The kernel of the profile would not enable the block its own writer produces: the
    /// validator ([`validate::check`](crate::pfn::validate::check), probe path) ignores it (the
    /// namespace is then used raw), refuses it, or enabling fails. For example a 4.7–4.14
    /// "bad offset" against the default alignment, a 5.7+ end off `memremap_compat_align`, a
    /// devdax range off its alignment (`-ENOMEM`), a PMEM-mode memmap that does not fit
    /// before `dataoff` (`-ENOMEM`), or a 5.3–5.6 altmap base off the sub-section grid.
    KernelRefuses {
        /// Where the kernel stops: [`Stage::Validate`] (the block is ignored or refused) or
        /// [`Stage::Enable`].
        stage: Stage,
        /// The validator's reason, with the numbers that failed.
        reason: Reason,
        /// What the failing kernel function returns.
        errno: Errno,
    },
    /// An address or size computation exceeds `u64` (namespace too close to the top of the
    /// address space).
    Overflow {
        /// The namespace start.
        ns_start: u64,
        /// The namespace size.
        ns_size: u64,
    },
    /// The version asked for is newer than the profile's kernel writes, or older than 1.0.
    VersionUnsupported {
        /// The version asked for.
        version: Version,
        /// The newest version the profile writes.
        newest: Version,
    },
    /// The version asked for cannot hold a field of this layout (a reader of that version
    /// would see the default instead and compute something else).
    VersionCannotExpress {
        /// The version asked for.
        version: Version,
        /// The field it lacks.
        field: Field,
    },
    /// The inverse search needs a power-of-two granule and a namespace start that is a
    /// multiple of it, and the era's padding policy (not explicit padding).
    SearchUnsupported {
        /// The granule given.
        granule: u64,
        /// The namespace start.
        ns_start: u64,
    },
    /// No namespace size up to the search bound gives the requested usable bytes.
    NoSizeFound {
        /// The usable bytes asked for.
        usable: u64,
    },
}

impl LayoutError {
    /// The errno the kernel returns for this refusal, negative as the kernel returns it:
    /// `-ENXIO` from `nd_pfn_init` (bad mode, no room for data), `-EINVAL` for a misaligned
    /// start (5.7+ init), `-EOPNOTSUPP` for a devdax alignment the kernel refuses, `-ENOTTY`
    /// for 4.3's PMEM mode, and for [`LayoutError::KernelRefuses`] the validator's errno for
    /// the profile. `None` where the request is malformed rather than refused.
    #[must_use]
    pub fn kernel_errno(&self) -> Option<i32> {
        const EINVAL: i32 = -22;
        const ENXIO: i32 = -6;
        const ENOTTY: i32 = -25;
        const EOPNOTSUPP: i32 = -95;
        match self {
            Self::InvalidMode { .. } | Self::NoRoomForData { .. } => Some(ENXIO),
            Self::PmemModeUnsupported => Some(ENOTTY),
            Self::DaxAlignUnsupported { .. } => Some(EOPNOTSUPP),
            Self::StartMisaligned { .. } => Some(EINVAL),
            Self::KernelRefuses { errno, .. } => Some(errno.code()),
            _ => None,
        }
    }
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidMode { mode } => {
                write!(f, "mode {mode} is neither 1 (ram, map=mem) nor 2 (pmem, map=dev)")
            }
            Self::PmemModeUnsupported => {
                f.write_str("this kernel cannot store the memmap on the device (map=dev)")
            }
            Self::DevdaxUnsupported => f.write_str("this kernel has no device-dax (before 4.7)"),
            Self::AlignNotPowerOfTwo { align } => {
                write!(f, "alignment {align:#x} is not a power of two")
            }
            Self::AlignBelowPageSize { align, page_size } => {
                write!(f, "alignment {align:#x} is below the page size {page_size:#x}")
            }
            Self::AlignTooLarge { align } => write!(
                f,
                "alignment {align:#x} does not fit the 32-bit align field (must be below 4 GiB)"
            ),
            Self::AlignNotSettable { align, implicit } => write!(
                f,
                "this kernel has no align attribute: alignment {align:#x} cannot be set (it \
                 always uses {implicit:#x})"
            ),
            Self::DaxAlignUnsupported { align } => write!(
                f,
                "device-dax alignment {align:#x} is not supported by this kernel and platform"
            ),
            Self::NamespaceTooSmall { size, minimum } => {
                write!(f, "namespace size {size:#x} is below the minimum {minimum:#x}")
            }
            Self::StartMisaligned { start, required } => {
                write!(f, "start {start:#x} is not aligned to {required:#x}")
            }
            Self::PaddingTooLarge {
                start_pad,
                end_trunc,
            } => write!(
                f,
                "start_pad {start_pad:#x} or end_trunc {end_trunc:#x} does not fit 32 bits"
            ),
            Self::PaddingUnsupported {
                start_pad,
                end_trunc,
            } => write!(
                f,
                "this kernel writes no start_pad/end_trunc (asked for {start_pad:#x}/{end_trunc:#x})"
            ),
            Self::NoRoomForData {
                dataoff,
                start_pad,
                end_trunc,
                size,
            } => write!(
                f,
                "no room for data: dataoff {dataoff:#x} + start_pad {start_pad:#x} + end_trunc \
                 {end_trunc:#x} reaches the namespace size {size:#x}"
            ),
            Self::NoDataPages {
                data_bytes,
                page_size,
            } => write!(
                f,
                "no data pages: {data_bytes:#x} data bytes is less than one page of {page_size:#x}"
            ),
            Self::KernelRefuses {
                stage,
                reason,
                errno,
            } => write!(
                f,
                "the kernel would not enable the block it writes ({stage}, {errno}): {reason}"
            ),
            Self::Overflow { ns_start, ns_size } => write!(
                f,
                "address arithmetic overflows for a namespace of {ns_size:#x} bytes at {ns_start:#x}"
            ),
            Self::VersionUnsupported { version, newest } => write!(
                f,
                "version {version} cannot be written for this kernel (it writes up to {newest})"
            ),
            Self::VersionCannotExpress { version, field } => write!(
                f,
                "version {version} has no {field} field, so a reader would not see this layout"
            ),
            Self::SearchUnsupported { granule, ns_start } => write!(
                f,
                "cannot search sizes: granule {granule:#x} must be a power of two dividing the \
                 start {ns_start:#x}, with the era's padding policy"
            ),
            Self::NoSizeFound { usable } => {
                write!(f, "no namespace size gives {usable:#x} usable bytes")
            }
        }
    }
}

impl core::error::Error for LayoutError {}

//! Why a kernel ignores or refuses a block ([`Reason`]), and the line it logs for it
//! ([`KernelMessage`]).

use core::fmt;

use crate::pfn::error::ErrorClass;
use crate::pfn::profile::{AlignSet, EraRules, ErrnoStyle};
use crate::pfn::raw::{Mode, Signature};
use crate::uuid::Uuid;

use super::{Errno, Stage};

/// Why a kernel ignores or refuses a block. Every variant carries the numbers that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// 4.3 only: the namespace is smaller than one memory section (§3.1 step 3).
    NamespaceBelowSection {
        /// Namespace size.
        size: u64,
        /// Section size.
        section: u64,
    },
    /// The signature is neither PFN nor DAX (§3.7 step 4, `-ENODEV`).
    BadSignature {
        /// The 16 bytes found.
        found: Signature,
    },
    /// The checksum does not match (§3.7 step 5, `-ENODEV`).
    ChecksumMismatch {
        /// Stored value.
        stored: u64,
        /// `nd_sb_checksum` of the block.
        computed: u64,
    },
    /// `parent_uuid` differs from the namespace uuid (§3.7 step 6, `-ENODEV`).
    ParentUuidMismatch {
        /// The block's `parent_uuid`.
        found: Uuid,
        /// The namespace uuid (nil for label-less namespaces).
        expected: Uuid,
    },
    /// `mode` is neither RAM nor PMEM (§3.7 step 8, `-ENXIO`).
    UnknownMode {
        /// The stored mode.
        mode: Mode,
    },
    /// 4.3 only: PMEM mode was not implemented yet (§3.1 step 7, `-ENOTTY`).
    PmemModeUnsupported,
    /// PMEM mode and the block's page size is larger than the kernel's (§3.7 step 10).
    PageSizeMismatch {
        /// The block's `page_size`.
        page_size: u32,
        /// The kernel's `PAGE_SIZE`.
        kernel_page_size: u64,
    },
    /// PMEM mode and the block reserves less than `sizeof(struct page)` per page (§3.7 step 11).
    StructPageSizeMismatch {
        /// The block's `page_struct_size`.
        page_struct_size: u16,
        /// The kernel's `sizeof(struct page)`.
        struct_page_size: u16,
    },
    /// A DAX block whose alignment the platform does not support (§3.7 step 12).
    DaxAlignUnsupported {
        /// The device's live align (on probe: the default, `PMD_SIZE`), printed first.
        live_align: u64,
        /// The block's (or derived) align.
        align: u64,
        /// The supported alignments.
        supported: AlignSet,
    },
    /// Init path: the block's uuid is not the configured one (§3.7 step 13, `-ENODEV`).
    UuidMismatch {
        /// The block's uuid.
        found: Uuid,
        /// The configured uuid.
        expected: Uuid,
    },
    /// Init path: the block's align or mode differ from the configured ones (§3.7 step 13).
    SettingsMismatch {
        /// The block's (or derived) align.
        align: u64,
        /// The configured align.
        live_align: u64,
        /// The block's mode.
        mode: Mode,
        /// The configured mode.
        live_mode: Mode,
    },
    /// The alignment is larger than the namespace (§3.7 step 14).
    AlignExceedsCapacity {
        /// The block's (or derived) align.
        align: u64,
        /// The namespace capacity.
        capacity: u64,
    },
    /// `dataoff >= res_size` (§3.7 step 15, "pfn array size exceeds capacity of namespace").
    DataoffExceedsCapacity {
        /// The block's dataoff.
        dataoff: u64,
        /// The namespace size.
        size: u64,
    },
    /// 4.6: dataoff is not a power of two of at least a page (§3.2).
    DataoffNotPowerOfTwo {
        /// The block's dataoff.
        dataoff: u64,
        /// The kernel's `PAGE_SIZE`.
        page_size: u64,
    },
    /// `res.start + dataoff + start_pad` is not aligned to `align`, or dataoff is not a
    /// multiple of the page size (§3.7 step 16, "bad offset").
    BadOffset {
        /// The block's dataoff.
        dataoff: u64,
        /// The alignment checked (0: only the page-size test applies).
        align: u64,
        /// The address tested against `align`: `res.start + dataoff + start_pad` (wrapping).
        address: u64,
        /// The kernel's `PAGE_SIZE`.
        page_size: u64,
    },
    /// 4.3: the namespace start is not section aligned (§3.1 step 9).
    StartNotSectionAligned {
        /// `res.start`.
        start: u64,
        /// Section size.
        section: u64,
    },
    /// `res.start + start_pad` is not a multiple of `memremap_compat_align()` (§3.7 step 17).
    ResourceStartMisaligned {
        /// `res.start + start_pad` (wrapping).
        address: u64,
        /// `memremap_compat_align()`.
        compat_align: u64,
    },
    /// `res.end + 1 - end_trunc` is not a multiple of `memremap_compat_align()` (step 18).
    ResourceEndMisaligned {
        /// `res.end + 1 - end_trunc` (wrapping).
        address: u64,
        /// `memremap_compat_align()`.
        compat_align: u64,
    },
    /// 6.5+: `dataoff >= res_size - start_pad - end_trunc` (§3.7 step 19).
    SmallNamespace {
        /// The block's dataoff.
        dataoff: u64,
        /// `res_size - start_pad - end_trunc` (wrapping, as the kernel computes it).
        usable: u64,
    },
    /// Enable, PMEM mode, 5.5+: dataoff is 0, so re-enabling the namespace for its first
    /// `dataoff` bytes (to clear memmap badblocks) cannot reserve a 0-byte region
    /// ("could not reserve region", `-EBUSY`).
    MemmapRegionEmpty {
        /// `res.start`.
        start: u64,
        /// `res.end` (inclusive).
        end: u64,
    },
    /// Enable, RAM mode: dataoff is below the info-block reserve (§5.1, `-EINVAL`).
    RamDataoffBelowReserve {
        /// The block's dataoff.
        dataoff: u64,
        /// The info-block reserve in bytes.
        reserve: u64,
    },
    /// Enable: `res.start + start_pad` or `res.end - end_trunc` wrapped around the 64-bit
    /// address space, so the pfn range covers nearly all of it, System RAM included
    /// (`memremap_pages` -> `region_intersects`: "attempted on mixed region", `-ENXIO`).
    RangeOverlapsRam {
        /// `res.start + start_pad` (wrapping).
        start: u64,
        /// `res.end - end_trunc` (wrapping).
        end: u64,
    },
    /// Enable: the paddings exceed the namespace, so the pfn range `[res.start + start_pad,
    /// res.end - end_trunc]` ends before it starts (`memremap_pages` fails, `-EINVAL`, with no
    /// log line of its own).
    RangeInverted {
        /// `res.start + start_pad` (wrapping).
        start: u64,
        /// `res.end - end_trunc` (wrapping).
        end: u64,
    },
    /// Enable, PMEM mode: the altmap does not fit the range (`__add_pages`: "memory add fail,
    /// invalid altmap", `-EINVAL`): its base is not the range's first pfn, or its reserve plus
    /// free pages exceed the range.
    InvalidAltmap {
        /// Reserved plus free altmap pages (`vmem_altmap_offset`).
        offset_pages: u64,
        /// Pages of the pfn range.
        range_pages: u64,
        /// Whether the altmap base differs from the first pfn of the range.
        base_mismatch: bool,
    },
    /// Enable, 5.3+ (sub-section hotplug): the pfn range does not start or end on the
    /// sub-section grid (`__add_pages` -> `check_pfn_span`: "Misaligned __add_pages start",
    /// `-EINVAL`), in either mode. From 5.7 the validator's `memremap_compat_align` checks
    /// refuse such blocks first, so only 5.3–5.6 reach it.
    HotplugMisaligned {
        /// First pfn of the range (`PHYS_PFN(res.start + start_pad)`).
        pfn: u64,
        /// Pages of the range.
        pages: u64,
        /// `PAGES_PER_SUBSECTION`.
        granule_pages: u64,
    },
    /// Enable, PMEM mode: the memmap of the range does not fit between the info-block reserve
    /// and dataoff (vmemmap population fails, `-ENOMEM`).
    MemmapDoesNotFit {
        /// Pages the memmap needs from the altmap, alignment padding included.
        needed_pages: u64,
        /// Pages the altmap offers: `PHYS_PFN(dataoff - reserve)`.
        free_pages: u64,
    },
    /// Enable, devdax: the data range is not aligned to the block's align (`alloc_dax_region`
    /// fails, `-ENOMEM`).
    DaxRangeMisaligned {
        /// First data byte.
        start: u64,
        /// Data bytes.
        len: u64,
        /// The block's stored align after defaulting (0 fails).
        align: u64,
    },
}

impl Reason {
    /// A stable snake_case token, e.g. `"bad_offset"`.
    #[must_use]
    pub const fn token(&self) -> &'static str {
        match self {
            Self::NamespaceBelowSection { .. } => "namespace_below_section",
            Self::BadSignature { .. } => "bad_signature",
            Self::ChecksumMismatch { .. } => "checksum_mismatch",
            Self::ParentUuidMismatch { .. } => "parent_uuid_mismatch",
            Self::UnknownMode { .. } => "unknown_mode",
            Self::PmemModeUnsupported => "pmem_mode_unsupported",
            Self::PageSizeMismatch { .. } => "page_size_mismatch",
            Self::StructPageSizeMismatch { .. } => "struct_page_size_mismatch",
            Self::DaxAlignUnsupported { .. } => "dax_align_unsupported",
            Self::UuidMismatch { .. } => "uuid_mismatch",
            Self::SettingsMismatch { .. } => "settings_mismatch",
            Self::AlignExceedsCapacity { .. } => "align_exceeds_capacity",
            Self::DataoffExceedsCapacity { .. } => "dataoff_exceeds_capacity",
            Self::DataoffNotPowerOfTwo { .. } => "dataoff_not_power_of_two",
            Self::BadOffset { .. } => "bad_offset",
            Self::StartNotSectionAligned { .. } => "start_not_section_aligned",
            Self::ResourceStartMisaligned { .. } => "resource_start_misaligned",
            Self::ResourceEndMisaligned { .. } => "resource_end_misaligned",
            Self::SmallNamespace { .. } => "small_namespace",
            Self::MemmapRegionEmpty { .. } => "memmap_region_empty",
            Self::RamDataoffBelowReserve { .. } => "ram_dataoff_below_reserve",
            Self::RangeOverlapsRam { .. } => "range_overlaps_ram",
            Self::RangeInverted { .. } => "range_inverted",
            Self::InvalidAltmap { .. } => "invalid_altmap",
            Self::HotplugMisaligned { .. } => "hotplug_misaligned",
            Self::MemmapDoesNotFit { .. } => "memmap_does_not_fit",
            Self::DaxRangeMisaligned { .. } => "dax_range_misaligned",
        }
    }

    /// The stage at which the kernel meets this reason.
    #[must_use]
    pub const fn stage(&self) -> Stage {
        match self {
            Self::MemmapRegionEmpty { .. }
            | Self::RamDataoffBelowReserve { .. }
            | Self::RangeOverlapsRam { .. }
            | Self::RangeInverted { .. }
            | Self::InvalidAltmap { .. }
            | Self::HotplugMisaligned { .. }
            | Self::MemmapDoesNotFit { .. }
            | Self::DaxRangeMisaligned { .. } => Stage::Enable,
            _ => Stage::Validate,
        }
    }

    /// The errno the kernel returns for this reason under `rules`.
    #[must_use]
    pub const fn errno(&self, rules: &EraRules) -> Errno {
        let legacy = matches!(rules.errno_style, ErrnoStyle::Legacy);
        match self {
            Self::NamespaceBelowSection { .. }
            | Self::BadSignature { .. }
            | Self::ChecksumMismatch { .. }
            | Self::ParentUuidMismatch { .. } => Errno::ENODEV,
            Self::UnknownMode { .. }
            | Self::DataoffNotPowerOfTwo { .. }
            | Self::RangeOverlapsRam { .. } => Errno::ENXIO,
            Self::PmemModeUnsupported => Errno::ENOTTY,
            Self::PageSizeMismatch { .. }
            | Self::StructPageSizeMismatch { .. }
            | Self::DaxAlignUnsupported { .. }
            | Self::ResourceStartMisaligned { .. }
            | Self::ResourceEndMisaligned { .. }
            | Self::SmallNamespace { .. } => Errno::EOPNOTSUPP,
            // 4.3 compared uuids with -EINVAL; later kernels answer -ENODEV (init rewrites).
            Self::UuidMismatch { .. } => {
                if rules.checks_parent_uuid {
                    Errno::ENODEV
                } else {
                    Errno::EINVAL
                }
            }
            Self::SettingsMismatch { .. } | Self::AlignExceedsCapacity { .. } => {
                if legacy {
                    Errno::EINVAL
                } else {
                    Errno::EOPNOTSUPP
                }
            }
            Self::DataoffExceedsCapacity { .. } | Self::StartNotSectionAligned { .. } => {
                if legacy {
                    Errno::EBUSY
                } else {
                    Errno::EOPNOTSUPP
                }
            }
            Self::BadOffset { .. } => {
                if legacy {
                    Errno::ENXIO
                } else {
                    Errno::EOPNOTSUPP
                }
            }
            Self::MemmapRegionEmpty { .. } => Errno::EBUSY,
            Self::RamDataoffBelowReserve { .. }
            | Self::RangeInverted { .. }
            | Self::InvalidAltmap { .. }
            | Self::HotplugMisaligned { .. } => Errno::EINVAL,
            Self::MemmapDoesNotFit { .. } | Self::DaxRangeMisaligned { .. } => Errno::ENOMEM,
        }
    }

    /// The coarse class: whether the block is absent, damaged or unusable by this kernel.
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        match self {
            Self::BadSignature { .. } | Self::NamespaceBelowSection { .. } => {
                ErrorClass::NotAnInfoBlock
            }
            Self::ChecksumMismatch { .. }
            | Self::ParentUuidMismatch { .. }
            | Self::UnknownMode { .. }
            | Self::UuidMismatch { .. } => ErrorClass::Corrupt,
            _ => ErrorClass::Unsupported,
        }
    }

    /// The line the kernel logs for this reason (without the device prefix), as an adapter
    /// implementing `Display`. Reasons the kernel does not log show what `nd_pmem` (or
    /// `dax_pmem`) logs when the probe fails, e.g. `"probe failed with error -12"`; ignored
    /// blocks (the kernel logs nothing) show a description.
    #[must_use]
    pub const fn message(&self) -> KernelMessage {
        KernelMessage(*self)
    }
}

/// C's `%#llx`: `0x`-prefixed hex, except that zero prints as a bare `0`.
struct CHex(u64);

impl fmt::Display for CHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("0")
        } else {
            write!(f, "{:#x}", self.0)
        }
    }
}

/// The kernel's log line for a [`Reason`] (see [`Reason::message`]).
#[derive(Clone, Copy, Debug)]
pub struct KernelMessage(Reason);

impl fmt::Display for KernelMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Reason::NamespaceBelowSection { .. } => f.write_str("namespace below one section"),
            Reason::BadSignature { .. } => f.write_str("no info-block signature"),
            Reason::ChecksumMismatch { .. } => f.write_str("info-block checksum mismatch"),
            Reason::ParentUuidMismatch { .. } => f.write_str("parent uuid mismatch"),
            Reason::UnknownMode { .. } => f.write_str("unknown mode"),
            Reason::PmemModeUnsupported => f.write_str("TODO: allocate from PMEM"),
            Reason::PageSizeMismatch { page_size, .. } => {
                write!(f, "init failed, page size mismatch {page_size}")
            }
            Reason::StructPageSizeMismatch {
                page_struct_size, ..
            } => write!(
                f,
                "init failed, struct page size mismatch {page_struct_size}"
            ),
            Reason::DaxAlignUnsupported {
                live_align, align, ..
            } => write!(f, "init failed, alignment mismatch: {live_align}:{align}"),
            Reason::UuidMismatch { .. } => f.write_str("uuid mismatch"),
            Reason::SettingsMismatch { .. } => f.write_str("init failed, settings mismatch"),
            Reason::AlignExceedsCapacity { align, capacity } => {
                write!(f, "alignment: {align:x} exceeds capacity {capacity:x}")
            }
            Reason::DataoffExceedsCapacity { .. } => {
                f.write_str("pfn array size exceeds capacity of namespace")
            }
            Reason::DataoffNotPowerOfTwo { dataoff, .. } => {
                write!(f, "bad offset: {} dax disabled", CHex(dataoff))
            }
            Reason::BadOffset { dataoff, align, .. } => write!(
                f,
                "bad offset: {} dax disabled align: {}",
                CHex(dataoff),
                CHex(align)
            ),
            Reason::StartNotSectionAligned { .. } => f.write_str("not section aligned"),
            Reason::ResourceStartMisaligned { .. } => f.write_str("resource start misaligned"),
            Reason::ResourceEndMisaligned { .. } => f.write_str("resource end misaligned"),
            Reason::SmallNamespace { .. } => f.write_str("bad offset with small namespace"),
            // %pR of the namespace resource: "[mem 0x%08llx-0x%08llx]".
            Reason::MemmapRegionEmpty { start, end } => write!(
                f,
                "could not reserve region [mem {start:#010x}-{end:#010x}]"
            ),
            Reason::InvalidAltmap { .. } => f.write_str("memory add fail, invalid altmap"),
            // pagemap_range's WARN_ONCE: "attempted on %s region %#llx-%#llx"; a range over
            // nearly the whole address space meets RAM and other resources: "mixed".
            Reason::RangeOverlapsRam { start, end } => {
                write!(f, "attempted on mixed region {}-{}", CHex(start), CHex(end))
            }
            // The WARN in check_pfn_span: "Misaligned __%s_pages start: %#lx end: #%lx" (the
            // second format really is "#%lx"); `pfn + nr_pages - 1` in unsigned long, which
            // wraps in C, hence wrapping_* here.
            Reason::HotplugMisaligned { pfn, pages, .. } => write!(
                f,
                "Misaligned __add_pages start: {} end: #{:x}",
                CHex(pfn),
                pfn.wrapping_add(pages).wrapping_sub(1)
            ),
            Reason::RamDataoffBelowReserve { .. }
            | Reason::RangeInverted { .. }
            | Reason::MemmapDoesNotFit { .. }
            | Reason::DaxRangeMisaligned { .. } => {
                let errno = if matches!(
                    self.0,
                    Reason::RamDataoffBelowReserve { .. } | Reason::RangeInverted { .. }
                ) {
                    Errno::EINVAL
                } else {
                    Errno::ENOMEM
                };
                write!(f, "probe failed with error {}", errno.code())
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NamespaceBelowSection { size, section } => write!(
                f,
                "namespace of {size:#x} bytes is smaller than one section ({section:#x})"
            ),
            Self::BadSignature { found } => write!(
                f,
                "signature \"{found}\" is neither NVDIMM_PFN_INFO nor NVDIMM_DAX_INFO"
            ),
            Self::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#018x}, computed {computed:#018x}"
            ),
            Self::ParentUuidMismatch { found, expected } => write!(
                f,
                "parent uuid {found} is not the namespace uuid {expected}"
            ),
            Self::UnknownMode { mode } => {
                write!(f, "mode {} is neither ram (1) nor pmem (2)", mode.0)
            }
            Self::PmemModeUnsupported => {
                f.write_str("pmem mode (memmap on the device) is not supported by this kernel")
            }
            Self::PageSizeMismatch {
                page_size,
                kernel_page_size,
            } => write!(
                f,
                "page size {page_size} of the block is larger than the kernel's {kernel_page_size}"
            ),
            Self::StructPageSizeMismatch {
                page_struct_size,
                struct_page_size,
            } => write!(
                f,
                "struct page size {page_struct_size} of the block is smaller than the kernel's \
                 {struct_page_size}"
            ),
            Self::DaxAlignUnsupported { align, .. } => {
                write!(
                    f,
                    "devdax alignment {align:#x} is not supported by the platform"
                )
            }
            Self::UuidMismatch { found, expected } => {
                write!(f, "uuid {found} is not the configured uuid {expected}")
            }
            Self::SettingsMismatch {
                align,
                live_align,
                mode,
                live_mode,
            } => write!(
                f,
                "block align {align:#x} / mode {} differ from the configured align \
                 {live_align:#x} / mode {}",
                mode.0, live_mode.0
            ),
            Self::AlignExceedsCapacity { align, capacity } => write!(
                f,
                "alignment {align:#x} exceeds the namespace capacity {capacity:#x}"
            ),
            Self::DataoffExceedsCapacity { dataoff, size } => write!(
                f,
                "dataoff {dataoff:#x} is not below the namespace size {size:#x}"
            ),
            Self::DataoffNotPowerOfTwo { dataoff, page_size } => write!(
                f,
                "dataoff {dataoff:#x} is not a power of two of at least {page_size:#x}"
            ),
            Self::BadOffset {
                dataoff,
                align,
                address,
                page_size,
            } => write!(
                f,
                "bad offset: data start {address:#x} is not aligned to {align:#x}, or dataoff \
                 {dataoff:#x} is not a multiple of {page_size:#x}"
            ),
            Self::StartNotSectionAligned { start, section } => write!(
                f,
                "namespace start {start:#x} is not aligned to the section size {section:#x}"
            ),
            Self::ResourceStartMisaligned {
                address,
                compat_align,
            } => write!(
                f,
                "resource start {address:#x} (start + start_pad) is not aligned to \
                 {compat_align:#x}"
            ),
            Self::ResourceEndMisaligned {
                address,
                compat_align,
            } => write!(
                f,
                "resource end {address:#x} (end - end_trunc) is not aligned to {compat_align:#x}"
            ),
            Self::SmallNamespace { dataoff, usable } => write!(
                f,
                "dataoff {dataoff:#x} leaves no data in the {usable:#x} bytes after padding"
            ),
            Self::MemmapRegionEmpty { start, end } => write!(
                f,
                "pmem mode dataoff 0 leaves no memmap region to reserve in {start:#x}..={end:#x}"
            ),
            Self::RamDataoffBelowReserve { dataoff, reserve } => write!(
                f,
                "ram mode dataoff {dataoff:#x} is below the info-block reserve {reserve:#x}"
            ),
            Self::RangeOverlapsRam { start, end } => write!(
                f,
                "pfn range {start:#x}..={end:#x} wraps around the address space (paddings \
                 past its ends) and covers system memory"
            ),
            Self::RangeInverted { start, end } => write!(
                f,
                "pfn range {start:#x}..={end:#x} ends before it starts (paddings exceed the \
                 namespace)"
            ),
            Self::InvalidAltmap {
                offset_pages,
                range_pages,
                base_mismatch,
            } => {
                if base_mismatch {
                    f.write_str("altmap base is not the first pfn of the range")
                } else {
                    write!(
                        f,
                        "altmap of {offset_pages} pages exceeds the {range_pages} pages of the range"
                    )
                }
            }
            Self::HotplugMisaligned {
                pfn,
                pages,
                granule_pages,
            } => write!(
                f,
                "pfn range of {pages:#x} pages at pfn {pfn:#x} is not on the {granule_pages}-page \
                 sub-section grid"
            ),
            Self::MemmapDoesNotFit {
                needed_pages,
                free_pages,
            } => write!(
                f,
                "memmap needs {needed_pages} pages before dataoff, only {free_pages} are free"
            ),
            Self::DaxRangeMisaligned { start, len, align } => write!(
                f,
                "devdax range {start:#x}+{len:#x} is not aligned to {align:#x}"
            ),
        }
    }
}

impl core::error::Error for Reason {}

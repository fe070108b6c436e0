//! The validator: what a kernel of a given [`Profile`] does with a namespace whose info-block
//! is `block` (FORMAT.md §3 `nd_pfn_validate`, then §5.1 `__nvdimm_setup_pfn` and the memmap
//! hotplug that enabling performs).
//!
//! [`check`] applies every check of the profile's `nd_pfn_validate` in the kernel's order,
//! after [`PfnInfo::parse`]'s defaulting by minor version, and then the checks that make
//! enabling fail after validation passed. The answer is an [`Outcome`]:
//!
//! | outcome | kernel | when |
//! |---|---|---|
//! | [`Outcome::Enabled`] | `/dev/pmemN` (fsdax) or `/dev/daxN.M` (devdax) | every check passed |
//! | [`Outcome::Raw`] | the namespace is used raw, the block is ignored | validate failed with an errno other than `-EOPNOTSUPP` (bad signature, checksum, parent uuid, mode; before 5.4/5.7 every validate failure) |
//! | [`Outcome::Rejected`] at [`Stage::Validate`] | no device at all | validate failed with `-EOPNOTSUPP` (5.4+) |
//! | [`Outcome::Rejected`] at [`Stage::Enable`] | the pfn/dax device claims the namespace, then its probe fails | `-EINVAL`, `-EBUSY` or `-ENOMEM` from setting up the mapping |
//!
//! # Example
//! ```
//! use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath, Stage};
//! use nvdimm_infoblock::{DeviceKind, Mode, PfnInfo, Profile, Uuid, Version};
//!
//! // The block a 5.7+ kernel writes for 256 MiB, map=dev, align 2 MiB: dataoff 6 MiB.
//! let info = PfnInfo {
//!     kind: DeviceKind::Fsdax, uuid: Uuid([7; 16]), parent_uuid: Uuid::NIL, flags: 0,
//!     version: Version::V1_4, dataoff: 6 << 20, npfns: 64_000, mode: Mode::PMEM,
//!     start_pad: 0, end_trunc: 0, align: 2 << 20, page_size: 4096, page_struct_size: 64,
//!     min_version: None,
//! };
//! let block = info.to_block()?;
//! let ns = Namespace::labelless(0x1_0000_0000, 256 << 20);
//! let outcome = check(&block, &ns, &ProbePath::Probe, &Profile::NEWEST_X86_64)?;
//! let dev = outcome.enabled().expect("enabled");
//! assert_eq!((dev.dev_size, dev.dev_resource), (250 << 20, 0x1_0060_0000));
//!
//! // 2 MiB less dataoff: the memmap of the two 128 MiB sections no longer fits.
//! let small = PfnInfo { dataoff: 4 << 20, ..info }.to_block()?;
//! let outcome = check(&small, &ns, &ProbePath::Probe, &Profile::NEWEST_X86_64)?;
//! assert_eq!(outcome.stage(), Some(Stage::Enable));
//! assert_eq!(outcome.errno().map(|e| e.code()), Some(-12));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Kernel arithmetic
//! The kernel computes several values in unsigned 64-bit C arithmetic that can wrap
//! (`res.start + start_pad + dataoff`, `res_size - start_pad - end_trunc`, `dataoff - reserve`).
//! Those are mirrored with explicit `wrapping_*` calls, each commented with the kernel rule it
//! follows, so that the validator predicts what the kernel really does with hostile blocks.
//! Every other computation is checked.
//!
//! # Choices for facts FORMAT.md marks UNCONFIRMED
//! * **dataoff 0 with a derived alignment** (§7.7): `1 << ilog2(0)` is undefined in C. On
//!   x86_64 `ilog2(0)` is `fls64(0) - 1 = -1` and the shift count is masked to 6 bits, so the
//!   kernel computes `1 << 63`. The validator uses [`DERIVED_ALIGN_OF_ZERO`] = `1 << 63`, which
//!   a PFN block then fails as "alignment exceeds capacity" and a DAX block as "alignment
//!   mismatch". Linux 6.1 and 6.12 log exactly "alignment: 8000000000000000 exceeds capacity
//!   10000000" for such a block on 256 MiB.
//! * **The memmap of a PMEM-mode block** (§5.1): modelled on x86_64's vmemmap (5.3+): the
//!   `struct page`s of every *whole* memory section of the pfn range are allocated from the
//!   altmap in `PMD_SIZE` blocks, each aligned to its own size in physical pages; partial
//!   sections take their memmap from system RAM. Linux 6.1 and 6.12 agree on every map=dev
//!   case of the kernel suite (tests/kernel_replay.rs). The same model is applied to the
//!   other platforms and to older eras, where it is not confirmed.
//! * **devdax with a stored align of 0** (or minor < 2): validation checks the derived align,
//!   but `dax_pmem` builds the dax region with the stored 0, and `IS_ALIGNED(x, 0)` fails, so
//!   enabling fails with `-ENOMEM` (confirmed on 6.1 and 6.12).
//! * Pre-5.3 eras align the altmap base down to a whole section (the rule that also rounds
//!   their runtime `npfns` up to whole sections, [`EraRules::runtime_npfns_section_aligned`]).

use core::fmt;

use crate::arith;
use crate::pfn::error::{ErrorClass, ParseError};
use crate::pfn::model::{DeviceKind, DialectChoice, ParseOptions, PfnInfo};
use crate::pfn::profile::{
    AlignSet, EraRules, ErrnoStyle, OffsetCheck, Platform, Profile, SUBSECTION_SIZE,
};
use crate::pfn::raw::{InfoBlock, Mode, Signature};
use crate::uuid::Uuid;

/// The alignment the validator derives for `dataoff == 0` when the block's align is 0:
/// `1 << ilog2(0)` as an x86_64 kernel computes it (`ilog2(0) = -1`, shift count masked to 63).
pub const DERIVED_ALIGN_OF_ZERO: u64 = 1 << 63;

/// A Linux errno value (positive, as in `errno.h`); the kernel returns its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub u16);

impl Errno {
    /// `ENXIO` (6): "no such device or address".
    pub const ENXIO: Self = Self(6);
    /// `ENOMEM` (12): out of memory (the memmap does not fit, a dax region cannot be set up).
    pub const ENOMEM: Self = Self(12);
    /// `EBUSY` (16).
    pub const EBUSY: Self = Self(16);
    /// `ENODEV` (19): "no info-block here"; probe uses the namespace raw.
    pub const ENODEV: Self = Self(19);
    /// `EINVAL` (22).
    pub const EINVAL: Self = Self(22);
    /// `ENOTTY` (25): Linux 4.3's answer to a PMEM-mode block.
    pub const ENOTTY: Self = Self(25);
    /// `EOPNOTSUPP` (95): a valid block this kernel cannot enable; no raw fallback (5.4+).
    pub const EOPNOTSUPP: Self = Self(95);

    /// The value the kernel function returns: `-errno`.
    #[must_use]
    pub fn code(self) -> i32 {
        i32::from(self.0).wrapping_neg()
    }

    /// The symbolic name, e.g. `"EOPNOTSUPP"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self.0 {
            6 => "ENXIO",
            12 => "ENOMEM",
            16 => "EBUSY",
            19 => "ENODEV",
            22 => "EINVAL",
            25 => "ENOTTY",
            95 => "EOPNOTSUPP",
            _ => "E?",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

/// The namespace that holds the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// Physical start address (`res.start`).
    pub start: u64,
    /// Size in bytes (`resource_size(res)`).
    pub size: u64,
    /// The namespace uuid, [`Uuid::NIL`] for label-less (io, e820, QEMU) namespaces.
    pub uuid: Uuid,
}

impl Namespace {
    /// A label-less namespace (uuid nil) at `start` of `size` bytes.
    #[must_use]
    pub const fn labelless(start: u64, size: u64) -> Self {
        Self {
            start,
            size,
            uuid: Uuid::NIL,
        }
    }
}

/// The settings userspace configured on a pfn/dax device before enabling it (the init path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiveSettings {
    /// The device uuid written to the `uuid` attribute.
    pub uuid: Uuid,
    /// The `align` attribute in bytes.
    pub align: u64,
    /// The `mode` attribute (RAM or PMEM).
    pub mode: Mode,
}

/// How `nd_pfn_validate` is reached (FORMAT.md §3, "Callers").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ProbePath {
    /// Namespace probe (boot, `ndctl enable-namespace`): uuid, align and mode are adopted from
    /// the block.
    #[default]
    Probe,
    /// `nd_pfn_init` of a device userspace configured: the block's uuid, align and mode must
    /// equal these. An [`Outcome::Raw`] answer on this path means validate returned
    /// `-ENODEV` ("no usable block"): init writes a new one. Every other validate failure
    /// fails init, reported as [`Outcome::Rejected`] at [`Stage::Validate`].
    Init(LiveSettings),
}

/// Where a refusal happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// In `nd_pfn_validate` (the harness's `stage=validate`).
    Validate,
    /// While enabling after validation passed (`nd_pmem`/`dax_pmem` probe of the device).
    Enable,
}

impl Stage {
    /// `"validate"` or `"enable"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Enable => "enable",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

/// A device the kernel enables, with the values it reports in sysfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Enabled {
    /// fsdax (`pfnX.Y`, `/dev/pmemN`) or devdax (`daxX.Y`, `/dev/daxN.M`).
    pub kind: DeviceKind,
    /// RAM (memmap in DRAM, `map=mem`) or PMEM (memmap on the device, `map=dev`).
    pub mode: Mode,
    /// sysfs `size`: `res_size - start_pad - end_trunc - dataoff`.
    pub dev_size: u64,
    /// sysfs `resource`: `res.start + start_pad + dataoff`, the first data byte.
    pub dev_resource: u64,
    /// sysfs `align`: the block's align, or the derived one when it is 0.
    pub dev_align: u64,
    /// The kernel's runtime `npfns`: the stored value in RAM mode, recomputed in PMEM mode.
    pub npfns: u64,
    /// Whether the stored `npfns` is larger than the runtime value (the kernel logs "number
    /// of pfns truncated").
    pub npfns_truncated: bool,
    /// The block's dataoff.
    pub dataoff: u64,
    /// The start padding honoured.
    pub start_pad: u32,
    /// The end truncation honoured.
    pub end_trunc: u32,
}

impl Enabled {
    /// The map name: `"dev"` (PMEM) or `"mem"` (RAM).
    #[must_use]
    pub fn map(&self) -> &'static str {
        self.mode.map_name().unwrap_or("?")
    }
}

/// What the kernel does with the namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The block is accepted and the device enabled.
    Enabled(Enabled),
    /// The block is ignored and the namespace is used raw (full size, no `struct page`).
    Raw {
        /// Why the block was ignored.
        reason: Reason,
        /// What `nd_pfn_validate` returned.
        errno: Errno,
    },
    /// The block is recognised but the namespace ends up with no usable device.
    Rejected {
        /// Where it failed.
        stage: Stage,
        /// Why.
        reason: Reason,
        /// What the failing kernel function returned.
        errno: Errno,
    },
}

impl Outcome {
    /// `"fsdax"`, `"devdax"`, `"raw"` or `"rejected"`.
    #[must_use]
    pub const fn verdict(&self) -> &'static str {
        match self {
            Self::Enabled(e) => e.kind.name(),
            Self::Raw { .. } => "raw",
            Self::Rejected { .. } => "rejected",
        }
    }

    /// The stage of a rejection, `None` otherwise.
    #[must_use]
    pub const fn stage(&self) -> Option<Stage> {
        match self {
            Self::Rejected { stage, .. } => Some(*stage),
            _ => None,
        }
    }

    /// The reason of a raw or rejected outcome.
    #[must_use]
    pub const fn reason(&self) -> Option<Reason> {
        match self {
            Self::Enabled(_) => None,
            Self::Raw { reason, .. } | Self::Rejected { reason, .. } => Some(*reason),
        }
    }

    /// The errno of a raw or rejected outcome.
    #[must_use]
    pub const fn errno(&self) -> Option<Errno> {
        match self {
            Self::Enabled(_) => None,
            Self::Raw { errno, .. } | Self::Rejected { errno, .. } => Some(*errno),
        }
    }

    /// The enabled device, if any.
    #[must_use]
    pub const fn enabled(&self) -> Option<&Enabled> {
        match self {
            Self::Enabled(e) => Some(e),
            _ => None,
        }
    }
}

/// The namespace given to [`check`] cannot exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NamespaceError {
    /// The namespace has no bytes.
    Empty {
        /// Its start.
        start: u64,
    },
    /// `start + size - 1` does not fit in 64 bits.
    EndOverflow {
        /// Its start.
        start: u64,
        /// Its size.
        size: u64,
    },
}

impl NamespaceError {
    /// The coarse class (an impossible input is not a block the kernel could meet).
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        ErrorClass::Unsupported
    }
}

impl fmt::Display for NamespaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { start } => write!(f, "namespace at {start:#x} has size 0"),
            Self::EndOverflow { start, size } => write!(
                f,
                "namespace at {start:#x} of {size:#x} bytes ends beyond the 64-bit address space"
            ),
        }
    }
}

impl core::error::Error for NamespaceError {}

/// `IS_ALIGNED(x, a)` as the kernel's macro computes it: `x & (a - 1) == 0`, in u64, so a
/// non-power-of-two `a` tests a bit mask (not a remainder) and `a == 0` fails every `x != 0`.
#[must_use]
const fn is_aligned(x: u64, a: u64) -> bool {
    // IS_ALIGNED: `(a - 1)` wraps to all ones for a == 0, exactly as in C.
    x & a.wrapping_sub(1) == 0
}

/// `1 << ilog2(x)`: the largest power of two not above `x`; [`DERIVED_ALIGN_OF_ZERO`] for 0.
#[must_use]
pub const fn derived_align(dataoff: u64) -> u64 {
    match dataoff.checked_ilog2() {
        Some(log) => match 1u64.checked_shl(log) {
            Some(v) => v,
            None => DERIVED_ALIGN_OF_ZERO,
        },
        None => DERIVED_ALIGN_OF_ZERO,
    }
}

/// Predicts what a kernel of `profile` does with the namespace `ns` whose info-block is
/// `block`, reached through `path` (FORMAT.md §3, §5.1).
///
/// The block is parsed with [`PfnInfo::parse`] (upstream dialect, the profile's page size for
/// the minor-version defaulting, checksum verified), then every check of the profile's
/// `nd_pfn_validate` runs in the kernel's order, then the enable-stage checks.
///
/// # Errors
/// [`NamespaceError`] when `ns` cannot exist (size 0, or an end beyond `u64::MAX`). Every
/// block, however hostile, gives an [`Outcome`].
pub fn check(
    block: &InfoBlock,
    ns: &Namespace,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Outcome, NamespaceError> {
    let res = Res::of(ns)?;
    if let Err(reason) = section_rule(&res, profile) {
        return Ok(refusal(reason, path, profile));
    }
    // Matched by reference, and `checked` builds the `Result` itself: the parsed value and
    // the outcome are not copied again on the way (measured: 15% of the call).
    match &PfnInfo::parse(block, &kernel_parse_options(profile)) {
        Err(e) => Ok(refusal(parse_reason(e, block), path, profile)),
        Ok(info) => checked(info, ns, &res, path, profile),
    }
}

/// [`check`] of a block already read as the kernel reads it: `info` must be what
/// [`PfnInfo::parse`] returns for the block with the upstream dialect and the profile's page
/// size (signature and checksum are then known good). The layout solver runs the validator
/// on the block it writes through this, without emitting 4 KiB on the stack.
pub(crate) fn check_info(
    info: &PfnInfo,
    ns: &Namespace,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Outcome, NamespaceError> {
    let res = Res::of(ns)?;
    match section_rule(&res, profile) {
        Err(reason) => Ok(refusal(reason, path, profile)),
        Ok(()) => checked(info, ns, &res, path, profile),
    }
}

/// Validation after the block was read, then enabling. Always `Ok`: the namespace was
/// checked by the caller; the `Result` is built here so that it is not copied again.
///
/// Always inlined, and so are `validate`, `enable` and `check_altmap`: [`check`] and
/// [`check_info`] (the solver's and `compat`'s way in) each become one function whose
/// enabled path calls nothing but the checksum loop. With the preset table of [`Pages`],
/// 485 -> 418 executed instructions beyond the checksum (either change alone: 451 and 479);
/// the library's footprint grows by about 600 bytes (BENCHMARKS.md "One block").
#[inline(always)]
fn checked(
    info: &PfnInfo,
    ns: &Namespace,
    res: &Res,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Outcome, NamespaceError> {
    // One refusal call, out of line: the enabled outcome is then stored field by field
    // instead of through the store sequence LLVM merged for every variant (9 fewer executed
    // instructions, BENCHMARKS.md "One block").
    match validate(info, ns, res, path, profile).and_then(|v| enable(&v, res, profile)) {
        Ok(enabled) => Ok(Outcome::Enabled(enabled)),
        Err(reason) => Ok(refusal(reason, path, profile)),
    }
}

/// What a refusal means on `path`: a raw namespace or a rejection, with the errno.
#[cold]
#[inline(never)]
fn refusal(reason: Reason, path: &ProbePath, profile: &Profile) -> Outcome {
    let errno = reason.errno(&profile.rules);
    match reason.stage() {
        Stage::Enable => Outcome::Rejected {
            stage: Stage::Enable,
            reason,
            errno,
        },
        // nd_pmem_probe: -EOPNOTSUPP keeps the namespace disabled (5.4+); every other
        // validate failure falls back to the raw namespace. nd_pfn_init treats only
        // -ENODEV as "no block" and fails with every other errno.
        Stage::Validate
            if errno == Errno::EOPNOTSUPP
                || (matches!(path, ProbePath::Init(_)) && errno != Errno::ENODEV) =>
        {
            Outcome::Rejected {
                stage: Stage::Validate,
                reason,
                errno,
            }
        }
        Stage::Validate => Outcome::Raw { reason, errno },
    }
}

/// The namespace resource: `res.start`, `res.end` (inclusive), `resource_size(res)`.
#[derive(Clone, Copy, Debug)]
struct Res {
    start: u64,
    end: u64,
    size: u64,
}

impl Res {
    fn of(ns: &Namespace) -> Result<Self, NamespaceError> {
        let last = ns
            .size
            .checked_sub(1)
            .ok_or(NamespaceError::Empty { start: ns.start })?;
        let end = ns
            .start
            .checked_add(last)
            .ok_or(NamespaceError::EndOverflow {
                start: ns.start,
                size: ns.size,
            })?;
        Ok(Self {
            start: ns.start,
            end,
            size: ns.size,
        })
    }
}

/// What validation established.
#[derive(Clone, Copy, Debug)]
struct Validated<'a> {
    info: &'a PfnInfo,
    align: u64,
}

fn u64_of(v: u32) -> u64 {
    u64::from(v)
}

/// §3.1 step 3 (4.3): the namespace must hold at least one section. The first check of
/// `nd_pfn_validate` in that era, before the block is read.
fn section_rule(res: &Res, profile: &Profile) -> Result<(), Reason> {
    let section = profile.platform.section_size;
    if profile.rules.requires_section_aligned_start && res.size < section {
        return Err(Reason::NamespaceBelowSection {
            size: res.size,
            section,
        });
    }
    Ok(())
}

/// How `nd_pfn_validate` reads the block (FORMAT.md §3.7 steps 4, 5 and 7): signature,
/// checksum, then the defaulting by minor version with the kernel's page size. Upstream
/// kernels never read `min_version`, so the dialect is always upstream.
pub(crate) fn kernel_parse_options(profile: &Profile) -> ParseOptions {
    ParseOptions {
        page_size: u32::try_from(profile.platform.page_size).unwrap_or(u32::MAX),
        dialect: DialectChoice::Upstream,
        verify_checksum: true,
    }
}

/// The validator's reason for a block [`PfnInfo::parse`] refused.
fn parse_reason(e: &ParseError, block: &InfoBlock) -> Reason {
    match *e {
        ParseError::ChecksumMismatch { stored, computed } => {
            Reason::ChecksumMismatch { stored, computed }
        }
        ParseError::BadSignature { found } => Reason::BadSignature { found },
        // A borrowed InfoBlock always has the right length; map defensively.
        _ => Reason::BadSignature {
            found: block.signature,
        },
    }
}

/// `nd_pfn_validate` after the block was read, in the kernel's order (FORMAT.md §3.1–§3.7).
/// Always inlined (see [`checked`]).
#[inline(always)]
fn validate<'a>(
    info: &'a PfnInfo,
    ns: &Namespace,
    res: &Res,
    path: &ProbePath,
    profile: &Profile,
) -> Result<Validated<'a>, Reason> {
    let rules = &profile.rules;
    let platform = &profile.platform;
    let page_size = platform.page_size;

    // Before device-dax (4.3–4.6) nothing probes for the DAX signature.
    if info.kind == DeviceKind::Devdax && !rules.devdax_supported {
        return Err(Reason::BadSignature {
            found: info.kind.signature(),
        });
    }

    // §3.7 step 6 (4.5+): parent uuid.
    if rules.checks_parent_uuid && info.parent_uuid != ns.uuid {
        return Err(Reason::ParentUuidMismatch {
            found: info.parent_uuid,
            expected: ns.uuid,
        });
    }

    // §3.7 step 8 / §3.1 step 7: mode.
    if !info.mode.is_known() {
        return Err(Reason::UnknownMode { mode: info.mode });
    }
    if info.mode == Mode::PMEM && !rules.pmem_mode_supported {
        return Err(Reason::PmemModeUnsupported);
    }

    let live = match path {
        ProbePath::Probe => None,
        ProbePath::Init(s) => Some(*s),
    };
    // The live align before adoption: on probe, nd_pfn_devinit pre-set the default.
    let live_align = live.map_or(profile.default_align(), |s| s.align);

    // §3.7 step 9: the alignment used by the checks.
    let align = match rules.offset_check {
        // 4.3 had no alignment; report the derived one (what sysfs would have shown later).
        OffsetCheck::SizeOnly | OffsetCheck::PowerOfTwo | OffsetCheck::Absolute => {
            if info.align == 0 {
                derived_align(info.dataoff)
            } else {
                u64_of(info.align)
            }
        }
        // §3.3: the live align (pre-set to the default on probe) wins over the stored one.
        OffsetCheck::LiveAlign => live_align,
    };
    // 4.6 derived align from dataoff whatever the block said (it had no align field).
    let align = if matches!(rules.offset_check, OffsetCheck::PowerOfTwo) {
        derived_align(info.dataoff)
    } else {
        align
    };

    // §3.7 steps 10–12 (5.4+).
    if rules.checks_page_sizes && info.mode == Mode::PMEM {
        if u64_of(info.page_size) > page_size {
            return Err(Reason::PageSizeMismatch {
                page_size: info.page_size,
                kernel_page_size: page_size,
            });
        }
        if info.page_struct_size < platform.struct_page_size {
            return Err(Reason::StructPageSizeMismatch {
                page_struct_size: info.page_struct_size,
                struct_page_size: platform.struct_page_size,
            });
        }
    }
    if rules.checks_dax_align
        && info.kind == DeviceKind::Devdax
        && !platform.dax_aligns.contains(align)
    {
        return Err(Reason::DaxAlignUnsupported {
            live_align,
            align,
            supported: platform.dax_aligns,
        });
    }

    // §3.7 step 13: adopt (probe) or compare (init).
    if let Some(s) = live {
        if s.uuid != info.uuid {
            return Err(Reason::UuidMismatch {
                found: info.uuid,
                expected: s.uuid,
            });
        }
        if align != s.align || info.mode != s.mode {
            return Err(Reason::SettingsMismatch {
                align,
                live_align: s.align,
                mode: info.mode,
                live_mode: s.mode,
            });
        }
    }

    match rules.offset_check {
        OffsetCheck::SizeOnly => {
            // §3.1 step 9.
            if !is_aligned(res.start, platform.section_size) {
                return Err(Reason::StartNotSectionAligned {
                    start: res.start,
                    section: platform.section_size,
                });
            }
            if info.dataoff >= res.size {
                return Err(Reason::DataoffExceedsCapacity {
                    dataoff: info.dataoff,
                    size: res.size,
                });
            }
        }
        OffsetCheck::PowerOfTwo => {
            // §3.2: the live (default) align against the capacity, then dataoff.
            if live_align > res.size {
                return Err(Reason::AlignExceedsCapacity {
                    align: live_align,
                    capacity: res.size,
                });
            }
            if info.dataoff >= res.size {
                return Err(Reason::DataoffExceedsCapacity {
                    dataoff: info.dataoff,
                    size: res.size,
                });
            }
            if !info.dataoff.is_power_of_two() || info.dataoff < page_size {
                return Err(Reason::DataoffNotPowerOfTwo {
                    dataoff: info.dataoff,
                    page_size,
                });
            }
        }
        OffsetCheck::LiveAlign | OffsetCheck::Absolute => {
            // §3.7 step 14.
            if align > res.size {
                return Err(Reason::AlignExceedsCapacity {
                    align,
                    capacity: res.size,
                });
            }
            // §3.7 step 15.
            if info.dataoff >= res.size {
                return Err(Reason::DataoffExceedsCapacity {
                    dataoff: info.dataoff,
                    size: res.size,
                });
            }
            // §3.7 step 16. 4.7–4.14 tested dataoff alone; 4.15+ the absolute address.
            let address = if matches!(rules.offset_check, OffsetCheck::LiveAlign) {
                info.dataoff
            } else {
                // nd_pfn_validate "bad offset": `res.start + offset + start_pad` in u64 C
                // arithmetic, which wraps.
                res.start
                    .wrapping_add(info.dataoff)
                    .wrapping_add(u64_of(info.start_pad))
            };
            if (align != 0 && !is_aligned(address, align)) || !is_aligned(info.dataoff, page_size) {
                return Err(Reason::BadOffset {
                    dataoff: info.dataoff,
                    align,
                    address,
                    page_size,
                });
            }
        }
    }

    // §3.7 steps 17–18 (5.7+).
    if rules.checks_compat_align {
        let compat_align = platform.compat_align;
        // nd_pfn_validate "resource start misaligned": `res.start + start_pad`, u64, wraps.
        let start = res.start.wrapping_add(u64_of(info.start_pad));
        if !is_aligned(start, compat_align) {
            return Err(Reason::ResourceStartMisaligned {
                address: start,
                compat_align,
            });
        }
        // nd_pfn_validate "resource end misaligned": `res.end + 1 - end_trunc`, u64, wraps.
        let end = res.end.wrapping_add(1).wrapping_sub(u64_of(info.end_trunc));
        if !is_aligned(end, compat_align) {
            return Err(Reason::ResourceEndMisaligned {
                address: end,
                compat_align,
            });
        }
    }

    // §3.7 step 19 (6.5+).
    if rules.checks_small_namespace {
        let usable = usable_size(res, info);
        if info.dataoff >= usable {
            return Err(Reason::SmallNamespace {
                dataoff: info.dataoff,
                usable,
            });
        }
    }

    Ok(Validated { info, align })
}

/// `resource_size(res) - start_pad - end_trunc`, the pfn range length.
fn usable_size(res: &Res, info: &PfnInfo) -> u64 {
    // nd_pfn_validate "bad offset with small namespace" and __nvdimm_setup_pfn's range:
    // `resource_size(res) - start_pad - end_trunc` in u64 C arithmetic, which wraps when the
    // paddings exceed the namespace.
    res.size
        .wrapping_sub(u64_of(info.start_pad))
        .wrapping_sub(u64_of(info.end_trunc))
}

/// What the enable stage derives from the platform alone: `PHYS_PFN`, the page counts the
/// memmap rules divide by, and the blocks `vmemmap_populate` maps the memmap in. Worked out at
/// compile time for every preset ([`PRESET_PAGES`]) and per call for any other platform. The
/// lookup saves little by itself (it costs about 20 of the 26 instructions it saves); with the
/// rules inlined (see [`checked`]) the two changes together save 67 (BENCHMARKS.md "One
/// block").
#[derive(Clone, Copy)]
struct Pages {
    /// `PAGE_SHIFT`: the trailing zeros of the page size (64 for a page size of 0).
    shift: u32,
    /// All ones, or 0 when the page size is 0: every pfn is then 0 (a shift by 64 would
    /// otherwise wrap to a shift by 0).
    mask: u64,
    /// Pages per memory section, at least 1.
    per_section: u64,
    /// Pages per sub-section (`PAGES_PER_SUBSECTION`), at least 1.
    per_subsection: u64,
    /// Bytes of memmap per section (`PAGES_PER_SECTION * sizeof(struct page)`), saturating.
    section_memmap: u64,
    /// Bytes of the block the memmap is mapped in (see [`check_altmap`]): a section's memmap
    /// rounded up to a page (`u64::MAX` if that overflows), then at most `PMD_SIZE`, then at
    /// least a page (1 byte for a page size of 0): the page wins over a smaller `PMD_SIZE`.
    block_bytes: u64,
    /// [`Pages::block_bytes`] in pages, at least 1.
    block_pages: u64,
}

/// The platform fields [`Pages`] depends on: page, section and PMD sizes, `struct page` size.
type PagesKey = (u64, u64, u64, u16);

/// [`Pages`] of every preset of [`Platform::ALL`], worked out at compile time. A platform
/// with the same [`PagesKey`] as a preset gets its row, whatever its other fields. arm64-4k
/// has x86_64's key, so it has no row of its own (a unit test checks that every preset finds
/// one, with values worked out by hand).
static PRESET_PAGES: [(PagesKey, Pages); 4] = [
    Pages::entry(&Platform::X86_64),
    Pages::entry(&Platform::PPC64_HASH),
    Pages::entry(&Platform::PPC64_RADIX),
    Pages::entry(&Platform::ARM64_64K),
];

impl Pages {
    /// The precomputed value when `platform` has a preset's [`PagesKey`]; `None` otherwise
    /// (then [`Pages::of_platform`] works it out).
    fn preset(platform: &Platform) -> Option<&'static Self> {
        let key = Self::key(platform);
        PRESET_PAGES
            .iter()
            .find_map(|(preset, pages)| (*preset == key).then_some(pages))
    }

    /// A row of [`PRESET_PAGES`].
    const fn entry(platform: &Platform) -> (PagesKey, Self) {
        (Self::key(platform), Self::of_platform(platform))
    }

    /// The fields [`Pages::of_platform`] reads, and nothing else.
    const fn key(platform: &Platform) -> PagesKey {
        (
            platform.page_size,
            platform.section_size,
            platform.pmd_size,
            platform.struct_page_size,
        )
    }

    /// Worked out from the [`PagesKey`] fields of `platform`, for any values (0 included).
    /// `const` so that [`PRESET_PAGES`] is computed by the compiler.
    const fn of_platform(platform: &Platform) -> Self {
        let page_size = platform.page_size;
        let shift = page_size.trailing_zeros();
        let mask = if page_size == 0 { 0 } else { u64::MAX };
        let per_section = match arith::div(platform.section_size, page_size) {
            Some(0) | None => 1,
            Some(v) => v,
        };
        let per_subsection = match phys_pfn(shift, mask, SUBSECTION_SIZE) {
            0 => 1,
            v => v,
        };
        // `u64::from(u16)` is not callable in a `const fn`; widen through the bytes.
        let [lo, hi] = platform.struct_page_size.to_le_bytes();
        let struct_page_size = u64::from_le_bytes([lo, hi, 0, 0, 0, 0, 0, 0]);
        let section_memmap = per_section.saturating_mul(struct_page_size);
        let page = if page_size == 0 { 1 } else { page_size };
        let mut block_bytes = match align_up(section_memmap, page) {
            Some(v) => v,
            None => u64::MAX,
        };
        if block_bytes > platform.pmd_size {
            block_bytes = platform.pmd_size;
        }
        if block_bytes < page {
            block_bytes = page;
        }
        let block_pages = match phys_pfn(shift, mask, block_bytes) {
            0 => 1,
            v => v,
        };
        Self {
            shift,
            mask,
            per_section,
            per_subsection,
            section_memmap,
            block_bytes,
            block_pages,
        }
    }

    /// `PHYS_PFN(x)`: `x >> PAGE_SHIFT`.
    fn pfn(&self, x: u64) -> u64 {
        phys_pfn(self.shift, self.mask, x)
    }
}

/// `PHYS_PFN(x)` for a `PAGE_SHIFT` of `shift`: `(x >> shift) & mask`. [`Pages`] keeps
/// `shift` below 64 with `mask` all ones, or `shift` 64 (page size 0) with `mask` 0.
const fn phys_pfn(shift: u32, mask: u64, x: u64) -> u64 {
    x.wrapping_shr(shift) & mask
}

/// `__nvdimm_setup_pfn` and the mapping it sets up (FORMAT.md §5.1). Always inlined (see
/// [`checked`]).
#[inline(always)]
fn enable(v: &Validated<'_>, res: &Res, profile: &Profile) -> Result<Enabled, Reason> {
    let info = v.info;
    // A preset's page arithmetic comes from the table; any other platform's is worked out
    // here, into `computed`.
    let computed;
    let pages = match Pages::preset(&profile.platform) {
        Some(pages) => pages,
        None => {
            computed = Pages::of_platform(&profile.platform);
            &computed
        }
    };
    let reserve = profile.info_block_reserve();
    let range_len = usable_size(res, info);
    // __nvdimm_setup_pfn: range.start = res.start + start_pad (u64, wraps).
    let base = res.start.wrapping_add(u64_of(info.start_pad));

    // nd_pfn_init -> nd_pfn_clear_memmap_errors (5.5+, PMEM mode): re-enables the namespace
    // for `dataoff` bytes; a 0-byte devm_request_mem_region fails.
    if profile.rules.enable_claims_memmap_region && info.mode == Mode::PMEM && info.dataoff == 0 {
        return Err(Reason::MemmapRegionEmpty {
            start: res.start,
            end: res.end,
        });
    }

    let npfns = if info.mode == Mode::RAM {
        // __nvdimm_setup_pfn: RAM mode needs dataoff past the info-block reserve.
        if info.dataoff < reserve {
            return Err(Reason::RamDataoffBelowReserve {
                dataoff: info.dataoff,
                reserve,
            });
        }
        info.npfns
    } else {
        // __nvdimm_setup_pfn: `range_len(range) - offset`, u64, wraps on 6.1 when the
        // paddings leave less than dataoff.
        let count = pages.pfn(range_len.wrapping_sub(info.dataoff));
        if profile.rules.runtime_npfns_section_aligned {
            align_up(count, pages.per_section).unwrap_or(count)
        } else {
            count
        }
    };

    if info.kind == DeviceKind::Devdax {
        // dax_pmem: alloc_dax_region(range.start + dataoff, range_len - dataoff,
        // align = the block's stored align after defaulting), IS_ALIGNED on both.
        let start = base.wrapping_add(info.dataoff);
        let len = range_len.wrapping_sub(info.dataoff);
        let align = u64_of(info.align);
        if !is_aligned(start, align) || !is_aligned(len, align) {
            return Err(Reason::DaxRangeMisaligned { start, len, align });
        }
    }

    // memremap_pages (pagemap_range): `xa_store_range(PHYS_PFN(range.start),
    // PHYS_PFN(range.end))` refuses last < first with -EINVAL and no log line. range.end is
    // `res.end - end_trunc` in u64, which wraps like range.start does.
    let range_end = res.end.wrapping_sub(u64_of(info.end_trunc));
    // Before that, region_intersects(range.start, range_len, System RAM): when either end
    // wrapped (start_pad past 2^64, end_trunc past res.end), the range spans almost the whole
    // physical address space, RAM included: -ENXIO. An inverted range inside the address
    // space meets no resource (the harness kernels answer -EINVAL, below).
    let start_wrapped = res.start.checked_add(u64_of(info.start_pad)).is_none();
    let end_wrapped = res.end.checked_sub(u64_of(info.end_trunc)).is_none();
    if start_wrapped || end_wrapped {
        return Err(Reason::RangeOverlapsRam {
            start: base,
            end: range_end,
        });
    }
    let first_pfn = pages.pfn(base);
    if pages.pfn(range_end) < first_pfn {
        return Err(Reason::RangeInverted {
            start: base,
            end: range_end,
        });
    }

    let range_pages = pages.pfn(range_len);
    if info.mode == Mode::PMEM {
        check_altmap(info.dataoff, first_pfn, range_pages, pages, profile)?;
    } else {
        check_pfn_span(first_pfn, range_pages, pages, profile)?;
    }

    Ok(Enabled {
        kind: info.kind,
        mode: info.mode,
        // size_show: `resource_size(res) - start_pad - end_trunc - offset`, u64, wraps.
        dev_size: range_len.wrapping_sub(info.dataoff),
        // resource_show: `res.start + start_pad + offset`, u64, wraps.
        dev_resource: base.wrapping_add(info.dataoff),
        dev_align: v.align,
        npfns,
        npfns_truncated: info.mode == Mode::PMEM && info.npfns > npfns,
        dataoff: info.dataoff,
        start_pad: info.start_pad,
        end_trunc: info.end_trunc,
    })
}

const fn align_up(x: u64, a: u64) -> Option<u64> {
    match a.checked_sub(1) {
        Some(mask) => match x.checked_add(mask) {
            Some(v) => Some(v & !mask),
            None => None,
        },
        None => None,
    }
}

fn align_down(x: u64, a: u64) -> u64 {
    x & !a.wrapping_sub(1)
}

/// `check_pfn_span` in `__add_pages` (5.3+, sub-section hotplug with SPARSEMEM_VMEMMAP): the
/// hot-added range (`pfn`, `count` pages) must start and end on the sub-section grid. Before
/// 5.3 `memremap_pages` hot-added whole sections around the range, which are aligned by
/// construction.
fn check_pfn_span(pfn: u64, count: u64, pages: &Pages, profile: &Profile) -> Result<(), Reason> {
    if profile.rules.runtime_npfns_section_aligned {
        return Ok(());
    }
    let granule_pages = pages.per_subsection;
    if !is_aligned(pfn, granule_pages) || !is_aligned(count, granule_pages) {
        return Err(Reason::HotplugMisaligned {
            pfn,
            pages: count,
            granule_pages,
        });
    }
    Ok(())
}

/// The PMEM-mode altmap and the memmap it must hold (FORMAT.md §5.1; x86_64 vmemmap model,
/// see the module docs), for the pfn range of `range_pages` pages from `first_pfn`. Always
/// inlined (see [`checked`]).
#[inline(always)]
fn check_altmap(
    dataoff: u64,
    first_pfn: u64,
    range_pages: u64,
    pages: &Pages,
    profile: &Profile,
) -> Result<(), Reason> {
    let platform = &profile.platform;
    let reserve = profile.info_block_reserve();
    let pps = pages.per_section;
    // init_altmap_base: the altmap starts at the sub-section (5.3+) or section (older) below
    // the range. The pages memremap_pages hot-adds, and whose memmap vmemmap_populate maps:
    // before 5.3 whole sections from the section below the range start up to the section
    // above its end (so the altmap base, also rounded down to a section, always matches);
    // from 5.3 exactly the range.
    // (base, first hot-added pfn, hot-added pages): one branch per era family, so that the
    // sub-section path does not compute the whole-section one too (24 fewer executed
    // instructions).
    let whole_sections = profile.rules.runtime_npfns_section_aligned;
    let (base_pfn, hot_start, hot_pages) = if whole_sections {
        let base_pfn = align_down(first_pfn, pps);
        let end_pfn = first_pfn.saturating_add(range_pages);
        let hot_end = align_up(end_pfn, pps).unwrap_or(u64::MAX);
        (base_pfn, base_pfn, hot_end.saturating_sub(base_pfn))
    } else {
        let base_pfn = align_down(first_pfn, pages.per_subsection);
        (base_pfn, first_pfn, range_pages)
    };
    // init_altmap_reserve: reserve pages plus the distance from the altmap base.
    let altmap_reserve = pages
        .pfn(reserve)
        .saturating_add(first_pfn.saturating_sub(base_pfn));
    // __nvdimm_setup_pfn: `altmap->free = PHYS_PFN(offset - reserve)`, u64, wraps when
    // dataoff is below the reserve (then __add_pages refuses the altmap).
    let free = pages.pfn(dataoff.wrapping_sub(reserve));
    // __add_pages: "memory add fail, invalid altmap".
    let offset_pages = altmap_reserve.saturating_add(free);
    let base_mismatch = base_pfn != hot_start;
    if base_mismatch || offset_pages > hot_pages {
        return Err(Reason::InvalidAltmap {
            offset_pages,
            range_pages: hot_pages,
            base_mismatch,
        });
    }
    // __add_pages checks the span after the altmap.
    check_pfn_span(first_pfn, range_pages, pages, profile)?;
    // ppc64's vmemmap_populate takes a block from system RAM when the altmap cannot supply
    // it ("altmap block allocation failed, falling back to system memory"): the memmap
    // always fits.
    if platform.memmap_ram_fallback {
        return Ok(());
    }
    // vmemmap_populate: the memmap of whole sections comes from the altmap; from 5.3 a
    // partial section (a sub-section range) takes its memmap from RAM (x86_64 maps less than
    // a section's memmap with base pages and no altmap), before 5.3 only whole sections are
    // hot-added, so every one of them takes its memmap from the altmap. It is mapped in
    // blocks: a PMD_SIZE block when one section's memmap fills one (x86_64 and arm64 with
    // 4 KiB pages: 32768 pages x 64 B = 2 MiB, the rule the harness kernels confirm),
    // otherwise base pages shared by the contiguous memmap of neighbouring sections (arm64
    // with 64 KiB pages: 512 KiB of memmap per section; UNCONFIRMED). Each block is aligned
    // to its own size in pfns.
    let first_full = align_up(hot_start, pps).unwrap_or(u64::MAX);
    let last_full = align_down(hot_start.saturating_add(hot_pages), pps);
    let full_sections = arith::div(last_full.saturating_sub(first_full), pps).unwrap_or(0);
    if full_sections == 0 {
        return Ok(());
    }
    let block_bytes = pages.block_bytes;
    // `u64::div_ceil` panics on a zero divisor; the no-panic link proof (tests/no-panic/)
    // rejects that path, so round up by hand.
    let memmap_bytes = full_sections.saturating_mul(pages.section_memmap);
    let blocks = arith::div(memmap_bytes, block_bytes).map_or(1, |q| {
        q.saturating_add(u64::from(arith::rem(memmap_bytes, block_bytes) != Some(0)))
    });
    let block_pages = pages.block_pages;
    let next = base_pfn.saturating_add(altmap_reserve);
    let pad = align_up(next, block_pages)
        .unwrap_or(u64::MAX)
        .saturating_sub(next);
    let needed = blocks.saturating_mul(block_pages).saturating_add(pad);
    if needed > free {
        return Err(Reason::MemmapDoesNotFit {
            needed_pages: needed,
            free_pages: free,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::Pages;
    use crate::pfn::profile::{AlignSet, Platform};

    /// (shift, per_section, per_subsection, section_memmap, block_bytes, block_pages).
    fn fields(p: &Pages) -> (u32, u64, u64, u64, u64, u64) {
        (
            p.shift,
            p.per_section,
            p.per_subsection,
            p.section_memmap,
            p.block_bytes,
            p.block_pages,
        )
    }

    const K: u64 = 1024;
    const M: u64 = 1024 * K;

    #[test]
    fn preset_geometry_by_hand() {
        // Worked out by hand from each preset's PAGE_SIZE, section size, PMD_SIZE and
        // sizeof(struct page) = 64: pages per section, per 2 MiB sub-section, memmap bytes
        // per section, and the block (that memmap rounded up to a page, at most PMD_SIZE).
        let expected = [
            // x86_64: 4 KiB pages, 128 MiB sections: 32768 pages, 2 MiB of memmap, one PMD.
            (&Platform::X86_64, (12, 32_768, 512, 2 * M, 2 * M, 512)),
            // ppc64: 64 KiB pages, 16 MiB sections: 256 pages, 16 KiB of memmap, one page.
            (&Platform::PPC64_HASH, (16, 256, 32, 16 * K, 64 * K, 1)),
            (&Platform::PPC64_RADIX, (16, 256, 32, 16 * K, 64 * K, 1)),
            (&Platform::ARM64_4K, (12, 32_768, 512, 2 * M, 2 * M, 512)),
            // arm64 64 KiB pages, 512 MiB sections: 8192 pages, 512 KiB of memmap, 8 pages.
            (&Platform::ARM64_64K, (16, 8192, 32, 512 * K, 512 * K, 8)),
        ];
        assert_eq!(expected.len(), Platform::ALL.len());
        for (platform, want) in expected {
            let pages = Pages::preset(platform).unwrap();
            assert_eq!(fields(pages), want, "{}", platform.name);
            assert_eq!(pages.mask, u64::MAX);
            assert_eq!(
                fields(&Pages::of_platform(platform)),
                want,
                "{}",
                platform.name
            );
        }
    }

    #[test]
    fn only_the_key_fields_select_a_preset() {
        for preset in Platform::ALL {
            // Other fields do not change the page arithmetic: still the preset's row.
            let other = Platform {
                name: "custom",
                compat_align: 1,
                dax_aligns: AlignSet::EMPTY,
                memmap_ram_fallback: !preset.memmap_ram_fallback,
                ..preset
            };
            let row = Pages::preset(&other).unwrap();
            assert_eq!(
                fields(row),
                fields(&Pages::of_platform(&other)),
                "{}",
                preset.name
            );
            // A key field that differs from every preset: worked out, not looked up.
            let struct_page = Platform {
                struct_page_size: 80,
                ..preset
            };
            assert!(Pages::preset(&struct_page).is_none(), "{}", preset.name);
        }
        // The table never answers differently from working it out, for any key field changed.
        let sizes = [
            0,
            1,
            3,
            4 * K,
            16 * K,
            64 * K,
            2 * M,
            16 * M,
            128 * M,
            512 * M,
            u64::MAX,
        ];
        for preset in Platform::ALL {
            for v in sizes {
                for p in [
                    Platform {
                        page_size: v,
                        ..preset
                    },
                    Platform {
                        section_size: v,
                        ..preset
                    },
                    Platform {
                        pmd_size: v,
                        ..preset
                    },
                ] {
                    if let Some(row) = Pages::preset(&p) {
                        assert_eq!(fields(row), fields(&Pages::of_platform(&p)));
                        assert_eq!(row.mask, Pages::of_platform(&p).mask);
                    }
                }
            }
        }
        // x86_64 with 16 KiB pages, by hand: 8192 pages per 128 MiB section, 128 per
        // sub-section, 512 KiB of memmap per section, a 512 KiB block of 32 pages.
        let p16k = Platform {
            page_size: 16 * K,
            ..Platform::X86_64
        };
        assert!(Pages::preset(&p16k).is_none());
        assert_eq!(
            fields(&Pages::of_platform(&p16k)),
            (14, 8192, 128, 512 * K, 512 * K, 32)
        );
        // struct page of 56 bytes (some configs): 32768 x 56 = 1.75 MiB of memmap per
        // section, rounded to pages it stays 1.75 MiB (under the 2 MiB PMD): 448 pages.
        let sp56 = Platform {
            struct_page_size: 56,
            ..Platform::X86_64
        };
        assert_eq!(
            fields(&Pages::of_platform(&sp56)),
            (12, 32_768, 512, 1792 * K, 1792 * K, 448)
        );
        // Hand-made platforms the kernel cannot have, worked out by hand; each value is what
        // the clamps give in their order (round up to a page, at most PMD_SIZE, at least a
        // page). A PMD below the page: the page wins (64 KiB block, not 4 KiB).
        let small_pmd = Platform {
            pmd_size: 4 * K,
            ..Platform::PPC64_HASH
        };
        assert_eq!(
            fields(&Pages::of_platform(&small_pmd)),
            (16, 256, 32, 16 * K, 64 * K, 1)
        );
        // 1-byte pages and a section of u64::MAX bytes: the memmap per section saturates,
        // so the block is the PMD, 2 Mi pages of one byte.
        let huge = Platform {
            page_size: 1,
            section_size: u64::MAX,
            ..Platform::X86_64
        };
        assert_eq!(
            fields(&Pages::of_platform(&huge)),
            (0, u64::MAX, 2 * M, u64::MAX, 2 * M, 2 * M)
        );
        // A struct page of 0 bytes: no memmap, the block is one page.
        let no_memmap = Platform {
            struct_page_size: 0,
            ..Platform::X86_64
        };
        assert_eq!(
            fields(&Pages::of_platform(&no_memmap)),
            (12, 32_768, 512, 0, 4 * K, 1)
        );
        // A page of 3 bytes: PAGE_SHIFT is its trailing zeros (0), the counts divide exactly
        // (128 MiB / 3 = 44 739 242 pages, x 64 = 2 863 311 488 bytes), and the round-up is the
        // kernel's ALIGN mask, which leaves that value; the PMD then caps the block.
        let three = Platform {
            page_size: 3,
            ..Platform::X86_64
        };
        assert_eq!(
            fields(&Pages::of_platform(&three)),
            (0, 44_739_242, 2 * M, 2_863_311_488, 2 * M, 2 * M)
        );
        // A page size of 0: every pfn is 0, every count at least 1.
        let zero = Platform {
            page_size: 0,
            ..Platform::X86_64
        };
        let z = Pages::of_platform(&zero);
        assert_eq!((z.mask, z.pfn(u64::MAX)), (0, 0));
        assert_eq!((z.per_section, z.per_subsection, z.block_pages), (1, 1, 1));
    }
}

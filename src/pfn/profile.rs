//! Kernel profiles: everything the layout and validation rules depend on, as data.
//!
//! A [`Profile`] is an [`Era`] (which rules a kernel release range applies, FORMAT.md §3–§5)
//! combined with a [`Platform`] (page size, section size, huge page sizes and the other
//! architecture constants, FORMAT.md §4.1). Presets cover x86_64 from Linux 4.3 to today,
//! ppc64 (hash and radix MMU, 64 KiB pages) and arm64 (4 KiB and 64 KiB pages). The solver
//! and the validator read only these values; no rule branches on a kernel version number.

use core::fmt;

use crate::pfn::version::Version;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// A set of power-of-two byte sizes, as a bit mask (bit k set: 2^k is in the set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AlignSet(pub u64);

impl AlignSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// The set of the given sizes; sizes that are not powers of two are left out.
    #[must_use]
    pub const fn of(sizes: &[u64]) -> Self {
        let mut bits = 0u64;
        let mut rest = sizes;
        while let [s, tail @ ..] = rest {
            if s.is_power_of_two() {
                bits |= *s;
            }
            rest = tail;
        }
        Self(bits)
    }

    /// Whether `size` is in the set (0 never is).
    #[must_use]
    pub const fn contains(self, size: u64) -> bool {
        size.is_power_of_two() && self.0 & size != 0
    }

    /// The sizes in the set, smallest first.
    pub fn iter(self) -> impl Iterator<Item = u64> {
        (0..64u32).filter_map(move |k| {
            let size = 1u64.checked_shl(k)?;
            (self.0 & size != 0).then_some(size)
        })
    }
}

/// Architecture constants (FORMAT.md §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Platform {
    /// Stable name, e.g. `"x86_64"`, `"ppc64-hash"`, `"arm64-64k"`.
    pub name: &'static str,
    /// `PAGE_SIZE` in bytes.
    pub page_size: u64,
    /// Memory section size (`1 << SECTION_SIZE_BITS`) in bytes.
    pub section_size: u64,
    /// `HPAGE_PMD_SIZE` (`PMD_SIZE`) in bytes: the default alignment when THP is available.
    pub pmd_size: u64,
    /// `memremap_compat_align()` in bytes (Linux 5.7+).
    pub compat_align: u64,
    /// `sizeof(struct page)` in bytes on a normal (non-debug) build.
    pub struct_page_size: u16,
    /// Device-dax alignments the platform supports (`nd_pfn_supported_alignments`, 5.4+):
    /// `PAGE_SIZE`, plus the PMD and PUD sizes where transparent huge pages support them.
    pub dax_aligns: AlignSet,
    /// `vmemmap_populate` takes a memmap block from system RAM when the altmap (the memmap area
    /// before `dataoff`) cannot supply it, so a PMEM-mode memmap always fits: ppc64 ("altmap
    /// block allocation failed, falling back to system memory", Linux 4.17+). Elsewhere
    /// (x86_64, arm64) enabling then fails with `-ENOMEM`.
    pub memmap_ram_fallback: bool,
}

impl Platform {
    /// x86_64, 4 KiB pages, 128 MiB sections, 2 MiB PMD, 1 GiB PUD (the harness kernels).
    pub const X86_64: Self = Self {
        name: "x86_64",
        page_size: 4 * KIB,
        section_size: 128 * MIB,
        pmd_size: 2 * MIB,
        compat_align: 2 * MIB,
        struct_page_size: 64,
        dax_aligns: AlignSet::of(&[4 * KIB, 2 * MIB, GIB]),
        memmap_ram_fallback: false,
    };
    /// ppc64 with the hash MMU: 64 KiB pages, 16 MiB sections, 16 MiB PMD and compat align.
    pub const PPC64_HASH: Self = Self {
        name: "ppc64-hash",
        page_size: 64 * KIB,
        section_size: 16 * MIB,
        pmd_size: 16 * MIB,
        compat_align: 16 * MIB,
        struct_page_size: 64,
        dax_aligns: AlignSet::of(&[64 * KIB, 16 * MIB]),
        memmap_ram_fallback: true,
    };
    /// ppc64 with the radix MMU: 64 KiB pages, 16 MiB sections, 2 MiB PMD, 1 GiB PUD.
    pub const PPC64_RADIX: Self = Self {
        name: "ppc64-radix",
        page_size: 64 * KIB,
        section_size: 16 * MIB,
        pmd_size: 2 * MIB,
        compat_align: 2 * MIB,
        struct_page_size: 64,
        dax_aligns: AlignSet::of(&[64 * KIB, 2 * MIB, GIB]),
        memmap_ram_fallback: true,
    };
    /// arm64 with 4 KiB pages: 128 MiB sections (1 GiB before about 5.12), 2 MiB PMD, 1 GiB PUD.
    pub const ARM64_4K: Self = Self {
        name: "arm64-4k",
        page_size: 4 * KIB,
        section_size: 128 * MIB,
        pmd_size: 2 * MIB,
        compat_align: 2 * MIB,
        struct_page_size: 64,
        dax_aligns: AlignSet::of(&[4 * KIB, 2 * MIB, GIB]),
        memmap_ram_fallback: false,
    };
    /// arm64 with 64 KiB pages: 512 MiB sections, 512 MiB PMD, no PUD-level huge pages.
    pub const ARM64_64K: Self = Self {
        name: "arm64-64k",
        page_size: 64 * KIB,
        section_size: 512 * MIB,
        pmd_size: 512 * MIB,
        compat_align: 2 * MIB,
        struct_page_size: 64,
        dax_aligns: AlignSet::of(&[64 * KIB, 512 * MIB]),
        memmap_ram_fallback: false,
    };

    /// Every platform preset.
    pub const ALL: [Self; 5] = [
        Self::X86_64,
        Self::PPC64_HASH,
        Self::PPC64_RADIX,
        Self::ARM64_4K,
        Self::ARM64_64K,
    ];
}

/// A range of kernel releases that read and write info-blocks the same way.
///
/// Ordered oldest first. The release bounds of several eras are approximate where FORMAT.md
/// marks them UNCONFIRMED; each variant says which choice this crate made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Era {
    /// 4.3–4.5: v1.0 writer; RAM mode only; namespace start must be section aligned.
    V4_3,
    /// 4.6: v1.1 writer (`start_pad`, `end_trunc`); dataoff must be a power of two.
    V4_6,
    /// 4.7–4.14: v1.2 writer (`align`), 128 KiB `dax_label_reserve` for devdax.
    V4_7,
    /// 4.15–5.0: `trim_pfn_device`, absolute offset check, PMD floor on the alignment.
    V4_15,
    /// 5.1–5.2: info-block reserve `ALIGN_UP(8K, PAGE_SIZE)`, no `dax_label_reserve`.
    V5_1,
    /// 5.3: v1.3 writer, sub-section hotplug, no start padding, npfns in pages.
    V5_3,
    /// 5.4–5.6: v1.4 (`page_size`, `page_struct_size`), `-EOPNOTSUPP` for page/align mismatch.
    V5_4,
    /// 5.7–6.0: `memremap_compat_align()` checks; every validate failure after the checksum is
    /// `-EOPNOTSUPP`.
    V5_7,
    /// 6.1–6.2: `MAX_STRUCT_PAGE_SIZE` 128 (KMSAN), so new map=dev blocks reserve 128 B/page.
    V6_1,
    /// 6.3–6.4: `MAX_STRUCT_PAGE_SIZE` back to 64.
    V6_3,
    /// 6.5 to today: "bad offset with small namespace" (refuses layouts with no data pages).
    V6_5,
}

impl Era {
    /// Every era, oldest first.
    pub const ALL: [Self; 11] = [
        Self::V4_3,
        Self::V4_6,
        Self::V4_7,
        Self::V4_15,
        Self::V5_1,
        Self::V5_3,
        Self::V5_4,
        Self::V5_7,
        Self::V6_1,
        Self::V6_3,
        Self::V6_5,
    ];

    /// Position in [`Era::ALL`] (0 = oldest).
    #[must_use]
    pub const fn ordinal(self) -> u8 {
        match self {
            Self::V4_3 => 0,
            Self::V4_6 => 1,
            Self::V4_7 => 2,
            Self::V4_15 => 3,
            Self::V5_1 => 4,
            Self::V5_3 => 5,
            Self::V5_4 => 6,
            Self::V5_7 => 7,
            Self::V6_1 => 8,
            Self::V6_3 => 9,
            Self::V6_5 => 10,
        }
    }

    /// Whether this era is `other` or newer (usable in `const` contexts, unlike `>=`).
    #[must_use]
    pub const fn is_at_least(self, other: Self) -> bool {
        self.ordinal() >= other.ordinal()
    }

    /// The first release of the era as (major, minor).
    #[must_use]
    pub const fn first_release(self) -> (u16, u16) {
        match self {
            Self::V4_3 => (4, 3),
            Self::V4_6 => (4, 6),
            Self::V4_7 => (4, 7),
            Self::V4_15 => (4, 15),
            Self::V5_1 => (5, 1),
            Self::V5_3 => (5, 3),
            Self::V5_4 => (5, 4),
            Self::V5_7 => (5, 7),
            Self::V6_1 => (6, 1),
            Self::V6_3 => (6, 3),
            Self::V6_5 => (6, 5),
        }
    }

    /// A stable name of the era, `"linux-X.Y"` after its first release.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::V4_3 => "linux-4.3",
            Self::V4_6 => "linux-4.6",
            Self::V4_7 => "linux-4.7",
            Self::V4_15 => "linux-4.15",
            Self::V5_1 => "linux-5.1",
            Self::V5_3 => "linux-5.3",
            Self::V5_4 => "linux-5.4",
            Self::V5_7 => "linux-5.7",
            Self::V6_1 => "linux-6.1",
            Self::V6_3 => "linux-6.3",
            Self::V6_5 => "linux-6.5",
        }
    }

    /// The era a kernel release belongs to, or `None` before 4.3 (no info-blocks).
    #[must_use]
    pub fn for_release(major: u16, minor: u16) -> Option<Self> {
        Self::ALL
            .iter()
            .rev()
            .find(|era| era.first_release() <= (major, minor))
            .copied()
    }

    /// The rules of this era.
    #[must_use]
    pub const fn rules(self) -> EraRules {
        EraRules::for_era(self)
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How `nd_pfn_init` lays a new block out (FORMAT.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriterRule {
    /// 4.3 (§4.2): start must be section aligned; PMEM dataoff aligned up to the PMD size.
    V1_0,
    /// 4.6–4.14 (§4.3, §4.4): section-collision start_pad/end_trunc, `ALIGN_UP(.., align)`.
    SectionPadding,
    /// 4.15–5.2 (§4.5): `trim_pfn_device`, npfns0 rounded up to a section, PMD floor.
    Trim,
    /// 5.3–today (§4.6): no start padding, end_trunc to the alignment, sub-section floor
    /// (5.3–5.6) or `memremap_compat_align()` floor and start check (5.7+).
    Subsection,
}

/// The info-block reserve at the start of the namespace (FORMAT.md §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReserveRule {
    /// 8 KiB, counted as `PFN_UP(SZ_8K)` pages (before 5.1).
    Fixed8K,
    /// `ALIGN_UP(SZ_8K, PAGE_SIZE)` (5.1+): 64 KiB on 64 KiB-page kernels.
    AlignUp8KToPage,
}

/// Unit of the stored `npfns` (FORMAT.md §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NpfnsUnit {
    /// 4 KiB, whatever the page size (before 5.3).
    Fixed4K,
    /// `PAGE_SIZE` (5.3+).
    Page,
}

/// What the alignment a writer uses is raised to (FORMAT.md §4.3–§4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlignFloor {
    /// The requested alignment as is (4.5–4.14).
    None,
    /// `max(align, PMD_SIZE)` for the memmap (4.15–5.2).
    Pmd,
    /// `max(align, SUBSECTION_SIZE)` = 2 MiB (5.3–5.6).
    Subsection,
    /// `max(align, memremap_compat_align())` (5.7+).
    CompatAlign,
}

/// How `nd_pfn_validate` checks dataoff against the alignment (FORMAT.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OffsetCheck {
    /// 4.3: only `dataoff < size` (and a section-aligned start).
    SizeOnly,
    /// 4.6: dataoff must be a power of two and at least `PAGE_SIZE`.
    PowerOfTwo,
    /// 4.7–4.14: `dataoff % align` with the live align, which probe pre-set to the default
    /// (PMD) size, ignoring the stored align; and `dataoff % PAGE_SIZE`.
    LiveAlign,
    /// 4.15+: `(start + dataoff + start_pad) % align` with the stored (or derived) align, and
    /// `dataoff % PAGE_SIZE`.
    Absolute,
}

/// The errno family a validate failure after the checksum returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrnoStyle {
    /// Before 5.7: `-EINVAL` (align > capacity), `-EBUSY` (dataoff >= size), `-ENXIO` (bad
    /// offset); all make probe fall back to the raw namespace... except where noted.
    Legacy,
    /// 5.7+: `-EOPNOTSUPP` for every rule after mode, which keeps the namespace disabled.
    OpNotSupp,
}

/// The rules of one [`Era`]: a table, looked up by [`Era::rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EraRules {
    /// The version new blocks are written with.
    pub writes_version: Version,
    /// How new blocks are laid out.
    pub writer: WriterRule,
    /// The info-block reserve.
    pub reserve: ReserveRule,
    /// The unit of the stored `npfns`.
    pub npfns_unit: NpfnsUnit,
    /// Extra bytes folded into devdax dataoff (`dax_label_reserve`, 128 KiB in 4.7–5.0).
    ///
    /// FORMAT.md §4.1 marks its first release UNCONFIRMED (about 4.10): this crate chooses
    /// 4.7, the release that introduced device-dax, for the whole 4.7–4.14 era.
    pub dax_label_reserve: u64,
    /// `MAX_STRUCT_PAGE_SIZE`: bytes reserved per page for a new PMEM-mode memmap.
    pub max_struct_page_size: u16,
    /// The alignment floor of the writer.
    pub align_floor: AlignFloor,
    /// Validate compares `parent_uuid` with the namespace uuid (from about 4.5).
    pub checks_parent_uuid: bool,
    /// PMEM mode (memmap on the device) is usable (4.3 returned `-ENOTTY`).
    pub pmem_mode_supported: bool,
    /// Validate requires a section-aligned namespace start (4.3 only).
    pub requires_section_aligned_start: bool,
    /// The dataoff/alignment check.
    pub offset_check: OffsetCheck,
    /// v1.4 page size / struct page size checks (5.4+).
    pub checks_page_sizes: bool,
    /// Devdax alignment must be in the platform's supported set (5.4+).
    pub checks_dax_align: bool,
    /// `memremap_compat_align()` start/end checks (5.7+).
    pub checks_compat_align: bool,
    /// "bad offset with small namespace" (6.5+).
    pub checks_small_namespace: bool,
    /// The errno family of validate failures after the mode check.
    pub errno_style: ErrnoStyle,
    /// Memory is hot-added in whole sections (before 5.3, no sub-section hotplug): the
    /// PMEM-mode runtime npfns is rounded up to whole sections, the altmap base is the section
    /// below the range, every touched section's memmap comes from the altmap, and there is no
    /// `check_pfn_span` sub-section rule.
    pub runtime_npfns_section_aligned: bool,
    /// Device-dax (`nd_dax`, `NVDIMM_DAX_INFO`) exists (4.7+).
    pub devdax_supported: bool,
    /// The writer pads the PMEM-mode memmap to a whole `HPAGE_SIZE` (the PMD size) before
    /// adding it to the offset (bfb34527a3 "fix memmap reservation size versus 4K alignment",
    /// about 4.10, Cc: stable; FORMAT.md §4.4). FORMAT.md marks UNCONFIRMED which 4.7–4.14
    /// releases used which variant: this crate chooses the padded (fixed) form for the whole
    /// 4.7–4.14 era, because the fix was sent to stable; set it to `false` to model 4.7–4.9.
    pub memmap_pad_to_pmd: bool,
    /// Enabling a PMEM-mode device first re-enables the namespace for its first `dataoff`
    /// bytes to clear memmap badblocks (`nd_pfn_clear_memmap_errors` in `nd_pfn_init`, 5.5+),
    /// which fails with `-EBUSY` ("could not reserve region") when dataoff is 0. Release 5.5
    /// falls inside the 5.4–5.6 era: this crate sets it from 5.7 on, so that era follows the
    /// 5.4 LTS kernel.
    pub enable_claims_memmap_region: bool,
}

impl EraRules {
    /// The table row of `era`.
    #[must_use]
    pub const fn for_era(era: Era) -> Self {
        use Era as E;
        let writes_version = match era {
            E::V4_3 => Version::V1_0,
            E::V4_6 => Version::V1_1,
            E::V4_7 | E::V4_15 | E::V5_1 => Version::V1_2,
            E::V5_3 => Version::V1_3,
            _ => Version::V1_4,
        };
        let writer = match era {
            E::V4_3 => WriterRule::V1_0,
            E::V4_6 | E::V4_7 => WriterRule::SectionPadding,
            E::V4_15 | E::V5_1 => WriterRule::Trim,
            _ => WriterRule::Subsection,
        };
        let align_floor = match era {
            E::V4_3 | E::V4_6 | E::V4_7 => AlignFloor::None,
            E::V4_15 | E::V5_1 => AlignFloor::Pmd,
            E::V5_3 | E::V5_4 => AlignFloor::Subsection,
            _ => AlignFloor::CompatAlign,
        };
        let offset_check = match era {
            E::V4_3 => OffsetCheck::SizeOnly,
            E::V4_6 => OffsetCheck::PowerOfTwo,
            E::V4_7 => OffsetCheck::LiveAlign,
            _ => OffsetCheck::Absolute,
        };
        Self {
            writes_version,
            writer,
            reserve: if era.is_at_least(E::V5_1) {
                ReserveRule::AlignUp8KToPage
            } else {
                ReserveRule::Fixed8K
            },
            npfns_unit: if era.is_at_least(E::V5_3) {
                NpfnsUnit::Page
            } else {
                NpfnsUnit::Fixed4K
            },
            dax_label_reserve: if matches!(era, E::V4_7 | E::V4_15) {
                128 * KIB
            } else {
                0
            },
            max_struct_page_size: if matches!(era, E::V6_1) { 128 } else { 64 },
            align_floor,
            checks_parent_uuid: era.is_at_least(E::V4_6),
            pmem_mode_supported: era.is_at_least(E::V4_6),
            requires_section_aligned_start: matches!(era, E::V4_3),
            offset_check,
            checks_page_sizes: era.is_at_least(E::V5_4),
            checks_dax_align: era.is_at_least(E::V5_4),
            checks_compat_align: era.is_at_least(E::V5_7),
            checks_small_namespace: era.is_at_least(E::V6_5),
            errno_style: if era.is_at_least(E::V5_7) {
                ErrnoStyle::OpNotSupp
            } else {
                ErrnoStyle::Legacy
            },
            runtime_npfns_section_aligned: !era.is_at_least(E::V5_3),
            devdax_supported: era.is_at_least(E::V4_7),
            memmap_pad_to_pmd: matches!(era, E::V4_7),
            enable_claims_memmap_region: era.is_at_least(E::V5_7),
        }
    }
}

/// Everything the rules depend on: an era's rules on a platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    /// The kernel era.
    pub era: Era,
    /// The architecture constants.
    pub platform: Platform,
    /// The era's rules (normally `era.rules()`; a field so that callers can model a
    /// patched kernel).
    pub rules: EraRules,
}

/// Sub-section size (`SUBSECTION_SIZE`, 2 MiB on every architecture since 5.3).
pub const SUBSECTION_SIZE: u64 = 2 * MIB;
/// The info-block reserve before rounding to the page size (`SZ_8K`).
pub const INFO_BLOCK_RESERVE: u64 = 8 * KIB;
/// Smallest namespace pfn/dax/btt can claim in current kernels: claim.c's `SZ_16M`
/// (`nd_namespace_store`). Not `ND_MIN_NAMESPACE_SIZE`, the smallest namespace the kernel
/// probes at all ([`Profile::nd_min_namespace_size`]).
pub const MIN_NAMESPACE_SIZE: u64 = 16 * MIB;
/// `ND_MIN_NAMESPACE_SIZE` before Linux 4.15: `0x00400000` (4 MiB) in
/// `include/uapi/linux/ndctl.h`. Commit f2ba5a5baecf ("make min namespace size 4K", Linux
/// 4.15; 4.14 still needed it as a patch) made it `PAGE_SIZE`, now in
/// `include/linux/ndctl.h`.
pub const ND_MIN_NAMESPACE_SIZE_4MIB: u64 = 4 * MIB;

impl Profile {
    /// `era` on `platform`.
    #[must_use]
    pub const fn new(era: Era, platform: Platform) -> Self {
        Self {
            era,
            platform,
            rules: era.rules(),
        }
    }

    /// The newest x86_64 profile (6.5 to today), the default of the tools.
    pub const NEWEST_X86_64: Self = Self::new(Era::V6_5, Platform::X86_64);

    /// The x86_64 profile for a release string such as `"6.12"`, `"6.1"` or `"4.19.37"`.
    #[must_use]
    pub fn x86_64_for_release(release: &str) -> Option<Self> {
        let (major, rest) = split_at_dot(release);
        let minor = rest.map_or("0", |rest| split_at_dot(rest).0);
        let major = major.parse().ok()?;
        let minor = minor.parse().ok()?;
        Era::for_release(major, minor).map(|era| Self::new(era, Platform::X86_64))
    }

    /// The info-block reserve in bytes (8 KiB, or `ALIGN_UP(8K, PAGE_SIZE)` from 5.1).
    #[must_use]
    pub const fn info_block_reserve(&self) -> u64 {
        match self.rules.reserve {
            ReserveRule::Fixed8K => INFO_BLOCK_RESERVE,
            ReserveRule::AlignUp8KToPage => {
                if self.platform.page_size > INFO_BLOCK_RESERVE {
                    self.platform.page_size
                } else {
                    INFO_BLOCK_RESERVE
                }
            }
        }
    }

    /// The smallest namespace a kernel of this profile creates a pfn/dax device on: one
    /// memory section in 4.3 (`ND_PFN_ALIGN`), else claim.c's 16 MiB ([`MIN_NAMESPACE_SIZE`]).
    #[must_use]
    pub const fn min_namespace_size(&self) -> u64 {
        if self.rules.requires_section_aligned_start
            && self.platform.section_size > MIN_NAMESPACE_SIZE
        {
            self.platform.section_size
        } else {
            MIN_NAMESPACE_SIZE
        }
    }

    /// `ND_MIN_NAMESPACE_SIZE`: `nvdimm_namespace_common_probe` refuses a smaller namespace
    /// (`-ENODEV`) before any driver, raw included, sees it. `PAGE_SIZE` from Linux 4.15
    /// (4096 on x86_64, 65536 with 64 KiB pages), 4 MiB before
    /// ([`ND_MIN_NAMESPACE_SIZE_4MIB`]).
    #[must_use]
    pub const fn nd_min_namespace_size(&self) -> u64 {
        if self.era.is_at_least(Era::V4_15) {
            self.platform.page_size
        } else {
            ND_MIN_NAMESPACE_SIZE_4MIB
        }
    }

    /// The default alignment of a new device (`nd_pfn_default_alignment`: the PMD size).
    #[must_use]
    pub const fn default_align(&self) -> u64 {
        self.platform.pmd_size
    }

    /// The stable name: the era's name, with the platform appended unless it is x86_64,
    /// e.g. `"linux-6.5"` or `"linux-6.5-ppc64-hash"`.
    #[must_use]
    pub fn name(&self) -> ProfileName {
        ProfileName(*self)
    }
}

/// `text` up to its first `.`, and the rest after that `.` if there is one.
///
/// Written by hand: `str::split` keeps a panic path in core that survives optimisation, which
/// the link-time no-panic proof (`tests/no-panic/`) rejects.
fn split_at_dot(text: &str) -> (&str, Option<&str>) {
    match text.bytes().position(|b| b == b'.') {
        Some(dot) => (
            text.get(..dot).unwrap_or(""),
            dot.checked_add(1).and_then(|after| text.get(after..)),
        ),
        None => (text, None),
    }
}

/// Display adapter for [`Profile::name`].
#[derive(Clone, Copy, Debug)]
pub struct ProfileName(Profile);

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.era.name())?;
        if self.0.platform.name != Platform::X86_64.name {
            write!(f, "-{}", self.0.platform.name)?;
        }
        Ok(())
    }
}

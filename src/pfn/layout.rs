//! The layout solver: what `nd_pfn_init` of a given kernel era writes for a namespace, and what
//! the kernel then exposes (FORMAT.md §4–§5).
//!
//! [`solve`] is a pure, total function from a [`LayoutRequest`] to a [`Layout`] or a
//! [`LayoutError`]. It applies the era's writer algorithm (FORMAT.md §4.2–§4.6), refuses a
//! result with no data page, then runs the same era's validator
//! ([`validate::check`]: `nd_pfn_validate` and the enable path, §3,
//! §5.1) on the block it would write, so that a returned layout is one the kernel writes *and*
//! accepts with at least one data page, by the very rules `check` applies to blocks found on
//! media. A refusal comes back as [`LayoutError::KernelRefuses`] with the validator's reason.
//! Every step uses checked arithmetic: any input, up to `u64::MAX`, gives a layout or a typed
//! error, never a wrap or a panic.
//!
//! [`min_size_for_usable`] answers the inverse question (NDCTL.md §7): the smallest namespace
//! size that gives at least N usable bytes.
//!
//! # Example
//! ```
//! use nvdimm_infoblock::layout::{min_size_for_usable, solve, LayoutError, LayoutRequest};
//! use nvdimm_infoblock::{DeviceKind, Mode, Profile, Uuid};
//!
//! // FORMAT.md §4.6: 1 GiB at 0x240000000, align 2 MiB, map=dev, newest x86_64 kernel.
//! let req = LayoutRequest::new(Profile::NEWEST_X86_64, 1 << 30, DeviceKind::Fsdax, Mode::PMEM)
//!     .with_start(0x2_4000_0000)
//!     .with_align(Some(2 << 20));
//! let layout = solve(&req)?;
//! assert_eq!((layout.dataoff, layout.npfns), (0x120_0000, 0x3_ee00));
//! assert_eq!(layout.dev_size, (1 << 30) - 0x120_0000);
//! let block = layout.to_info(Uuid([0x11; 16]), Uuid::NIL).to_block()?;
//! assert!(block.verify_checksum().is_ok());
//!
//! // 1 GiB usable needs 1 GiB + 18 MiB.
//! let need = min_size_for_usable(&req, 1 << 30, 4096)?;
//! assert_eq!(need.request.ns_size, (1 << 30) + (18 << 20));
//!
//! // A layout with no data page is an error, not a block.
//! let tiny = req.with_size((2 << 30) - (12 << 10)).with_align(Some(1 << 30));
//! assert!(matches!(solve(&tiny), Err(LayoutError::NoRoomForData { .. })));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # The two readings of `dataoff` (FORMAT.md §5.2–§5.3)
//! With `start_pad != 0` (blocks written by 4.6–5.2 after a section collision), the kernel's
//! block-I/O path reads `dataoff` relative to `ns_start + start_pad` (the pfn.h comment), but the
//! fsdax DAX path computes the pfn from the raw `ns_start`, `start_pad` bytes too low. The
//! unmerged 2019 series (`struct pfn_map_info`) redefined v1.3 `dataoff` relative to the raw
//! base, with `map_base = ns_start + start_pad` and `map_offset = dataoff - start_pad`.
//! [`Layout::legacy`] and [`Layout::v2019`] report both readings.

mod error;
mod inverse;

pub use error::{Field, LayoutError};
pub use inverse::{min_size_for_usable, usable_bytes};

use crate::arith;
use crate::pfn::model::{DeviceKind, PfnInfo};
use crate::pfn::profile::{
    AlignFloor, NpfnsUnit, Profile, WriterRule, INFO_BLOCK_RESERVE, SUBSECTION_SIZE,
};
use crate::pfn::raw::Mode;
use crate::pfn::validate::{self, Namespace, Outcome, ProbePath, Stage};
use crate::pfn::version::Version;
use crate::uuid::Uuid;

/// The 4 KiB unit of `npfns` before 5.3, and of the v1.0–v1.1 memmap estimate.
const SZ_4K: u64 = 4096;
/// Block-device sector size.
const SECTOR: u64 = 512;
/// `PFN_MODE_PMEM` page struct size assumed by readers of blocks older than v1.4.
const DEFAULT_PAGE_STRUCT_SIZE: u16 = PfnInfo::DEFAULT_PAGE_STRUCT_SIZE;

/// Whether the namespace's first and last memory sections collide with System RAM or another
/// region: the inputs of the 4.6–5.2 padding policy (`region_intersects(..) == REGION_MIXED`,
/// and from 5.0 `nd_region_conflict`), which cannot be recomputed offline (FORMAT.md §7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Collisions {
    /// The section holding the namespace start is shared with System RAM or another region
    /// (4.6–5.2 then pad the start up to the next section boundary).
    pub start: bool,
    /// The section holding the namespace end is shared (4.6–5.2 then truncate the end down to
    /// a section boundary, 4.15–5.2 to the smaller of that and the alignment boundary).
    pub end: bool,
}

/// Where `start_pad` and `end_trunc` come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// Computed by the era's policy from the collision inputs (5.3+ ignore them: no start
    /// padding, `end_trunc` to the alignment).
    Policy(Collisions),
    /// Given, e.g. to reproduce a block an old kernel wrote. `dataoff` is then computed
    /// relative to `ns_start + start_pad`, as every upstream kernel reads it.
    Explicit {
        /// Bytes skipped at the start.
        start_pad: u64,
        /// Bytes dropped at the end.
        end_trunc: u64,
    },
}

impl Default for Padding {
    fn default() -> Self {
        Self::Policy(Collisions::default())
    }
}

/// What to lay out: a namespace, a device kind and mode, an alignment and a kernel profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayoutRequest {
    /// Physical address of the namespace (`res.start`).
    pub ns_start: u64,
    /// Size of the namespace in bytes (`resource_size(res)`).
    pub ns_size: u64,
    /// Where the memmap lives: [`Mode::PMEM`] (map=dev) or [`Mode::RAM`] (map=mem).
    pub mode: Mode,
    /// fsdax or devdax.
    pub kind: DeviceKind,
    /// The requested alignment (`nd_pfn->align`); `None` = the profile's default (the PMD size).
    pub align: Option<u64>,
    /// The kernel and platform.
    pub profile: Profile,
    /// The padding policy or explicit values.
    pub padding: Padding,
}

impl LayoutRequest {
    /// A request for a namespace of `ns_size` bytes at address 0, default alignment, no
    /// collisions.
    #[must_use]
    pub const fn new(profile: Profile, ns_size: u64, kind: DeviceKind, mode: Mode) -> Self {
        Self {
            ns_start: 0,
            ns_size,
            mode,
            kind,
            align: None,
            profile,
            padding: Padding::Policy(Collisions {
                start: false,
                end: false,
            }),
        }
    }

    /// The same request with the namespace at `ns_start`.
    #[must_use]
    pub const fn with_start(mut self, ns_start: u64) -> Self {
        self.ns_start = ns_start;
        self
    }

    /// The same request with alignment `align` (`None` = default).
    #[must_use]
    pub const fn with_align(mut self, align: Option<u64>) -> Self {
        self.align = align;
        self
    }

    /// The same request with `padding`.
    #[must_use]
    pub const fn with_padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// The same request with size `ns_size`.
    #[must_use]
    pub const fn with_size(mut self, ns_size: u64) -> Self {
        self.ns_size = ns_size;
        self
    }
}

/// A half-open range of physical addresses `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl AddrRange {
    /// Length in bytes (0 if `end <= start`).
    #[must_use]
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the range holds no byte.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One reading of the stored `dataoff` (FORMAT.md §5.2–§5.3), with the 2019 series'
/// `map_base` / `map_offset` (`struct pfn_map_info`): the mapping starts at physical
/// `map_base`, and data byte 0 is `map_offset` bytes into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DataoffReading {
    /// The address `dataoff` is counted from.
    pub dataoff_base: u64,
    /// Physical address of data byte 0 (`dataoff_base + dataoff`).
    pub data_start: u64,
    /// `map_base`: physical address of the mapping (`ns_start + start_pad`, the
    /// section-aligned base used for the memremap).
    pub map_base: u64,
    /// `map_offset`: `data_start - map_base`; `None` when the data would start before the
    /// mapping (a 2019 reading of a `dataoff` smaller than `start_pad`).
    pub map_offset: Option<u64>,
    /// Physical address the DAX path maps for data page 0 under this reading. The legacy
    /// fsdax path uses `ns_start + dataoff` (its `phys_addr` is the raw start), which is
    /// `start_pad` bytes below `data_start`; devdax and the 2019 reading agree with
    /// `data_start`.
    pub dax_start: Option<u64>,
}

impl DataoffReading {
    /// Whether the DAX path's first page lies before `map_base`, outside the memory that has a
    /// `struct page`: the kernel's `__bdev_dax_supported` then disables DAX (FORMAT.md §5.2;
    /// legacy fsdax with `dataoff < start_pad`, typically map=mem).
    #[must_use]
    pub const fn dax_outside_map(&self) -> bool {
        match self.dax_start {
            Some(dax) => dax < self.map_base,
            None => true,
        }
    }

    /// Bytes by which the DAX path maps below the block-I/O data (0 when they agree).
    #[must_use]
    pub const fn dax_misdirect(&self) -> Option<u64> {
        match self.dax_start {
            Some(dax) => Some(self.data_start.saturating_sub(dax)),
            None => None,
        }
    }
}

/// What the solver computed: the block's fields and what the kernel will expose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// The request this layout answers.
    pub request: LayoutRequest,
    /// `dataoff`: bytes from `ns_start + start_pad` to data byte 0.
    pub dataoff: u64,
    /// `npfns` as stored, in the era's unit ([`Layout::npfns_unit`]).
    pub npfns: u64,
    /// `start_pad` as stored.
    pub start_pad: u32,
    /// `end_trunc` as stored.
    pub end_trunc: u32,
    /// `align` as stored: the *requested* alignment, not the floor the writer raised it to;
    /// 0 for versions without the field.
    pub align: u32,
    /// The alignment the writer actually aligned `dataoff` and the end to (e.g.
    /// `max(align, memremap_compat_align())` in 5.7+).
    pub effective_align: u64,
    /// The version the era writes.
    pub version: Version,
    /// The writer's page size (`page_size` of v1.4).
    pub page_size: u32,
    /// `MAX_STRUCT_PAGE_SIZE` of the era: bytes reserved per page for a PMEM-mode memmap (128 in
    /// 6.1–6.2, else 64); stored as `page_struct_size` in v1.4.
    pub page_struct_size: u16,
    /// The area the PMEM-mode memmap (vmem_altmap) uses: `[base + reserve, base + dataoff)`
    /// with `base = ns_start + start_pad`; `None` in RAM mode.
    pub memmap: Option<AddrRange>,
    /// Bytes of memmap for the data pages at `page_struct_size` each; 0 in RAM mode. With
    /// 4 KiB pages it always fits in [`Layout::memmap`]. With 64 KiB pages it can exceed the
    /// area in a layout the kernel still enables: from 5.3 the memmap of partial memory
    /// sections comes from system RAM (up to two sections' memmap), and ppc64 takes from RAM
    /// whatever block the area cannot hold ([`Platform::memmap_ram_fallback`]).
    ///
    /// [`Platform::memmap_ram_fallback`]: crate::Platform::memmap_ram_fallback
    pub memmap_bytes: u64,
    /// The data, `[ns_start + start_pad + dataoff, ns_start + ns_size - end_trunc)`.
    pub data: AddrRange,
    /// The pfn/dax device `size` (sysfs): `ns_size - start_pad - end_trunc - dataoff`.
    pub dev_size: u64,
    /// The pfn/dax device `resource` (sysfs): `ns_start + start_pad + dataoff`.
    pub dev_resource: u64,
    /// Bytes of the fsdax block device (`/dev/pmemN`, whole 512-byte sectors); `None` for
    /// devdax, which has no block device.
    pub blk_bytes: Option<u64>,
    /// The upstream reading: `dataoff` relative to `ns_start + start_pad` (block I/O path).
    pub legacy: DataoffReading,
    /// The 2019 v1.3 reading: `dataoff` relative to the raw `ns_start`.
    pub v2019: DataoffReading,
    /// The namespace is smaller than the kernel lets one create a pfn/dax device on
    /// (claim.c's 16 MiB, `nd_namespace_store`). The kernel still reads such a block (ndctl and
    /// image builders write them).
    pub below_claim_minimum: bool,
}

impl Layout {
    /// The unit of [`Layout::npfns`] in bytes: 4096 before 5.3, the page size from 5.3.
    #[must_use]
    pub const fn npfns_unit(&self) -> u64 {
        match self.request.profile.rules.npfns_unit {
            NpfnsUnit::Fixed4K => SZ_4K,
            NpfnsUnit::Page => self.request.profile.platform.page_size,
        }
    }

    /// The block for this layout, with the era's version.
    #[must_use]
    pub fn to_info(&self, uuid: Uuid, parent_uuid: Uuid) -> PfnInfo {
        self.info_for(uuid, parent_uuid, self.version)
    }

    /// The block for this layout with another version, which must be at most the one the
    /// era writes and able to express this layout to a reader of the same profile.
    ///
    /// # Errors
    /// [`LayoutError::VersionUnsupported`] for a major other than 1 or a minor above the
    /// era's; [`LayoutError::VersionCannotExpress`] when the version lacks a field whose
    /// value matters: non-zero `start_pad`/`end_trunc` below v1.1; below v1.2, a layout the
    /// profile's validator does not enable once `align` reads as 0 (the offset checks then
    /// use `1 << ilog2(dataoff)`, and a devdax block with align 0 fails at enable); below
    /// v1.4, a PMEM-mode `page_struct_size` other than 64.
    pub fn to_info_with_version(
        &self,
        uuid: Uuid,
        parent_uuid: Uuid,
        version: Version,
    ) -> Result<PfnInfo, LayoutError> {
        let newest = self.version;
        if version.major != 1 || version.minor > newest.minor {
            return Err(LayoutError::VersionUnsupported { version, newest });
        }
        let cannot = |field| LayoutError::VersionCannotExpress { version, field };
        if !version.has_padding_fields() {
            if self.start_pad != 0 {
                return Err(cannot(Field::StartPad));
            }
            if self.end_trunc != 0 {
                return Err(cannot(Field::EndTrunc));
            }
        }
        if !version.has_align() && newest.has_align() && !self.enabled_as(version) {
            return Err(cannot(Field::Align));
        }
        if !version.has_page_sizes()
            && self.request.mode == Mode::PMEM
            && self.page_struct_size != DEFAULT_PAGE_STRUCT_SIZE
        {
            return Err(cannot(Field::PageStructSize));
        }
        Ok(self.info_for(uuid, parent_uuid, version))
    }

    /// Whether the kernel of this profile enables the block written as `version`: the
    /// validator's own answer, so a version without `align` is judged by the alignment a
    /// reader derives from `dataoff` exactly as `check` judges it.
    fn enabled_as(&self, version: Version) -> bool {
        let info = self.info_for(Uuid::NIL, Uuid::NIL, version);
        let ns = Namespace::labelless(self.request.ns_start, self.request.ns_size);
        matches!(
            validate::check_info(&info, &ns, &ProbePath::Probe, &self.request.profile),
            Ok(Outcome::Enabled(_))
        )
    }

    fn info_for(&self, uuid: Uuid, parent_uuid: Uuid, version: Version) -> PfnInfo {
        let has_pads = version.has_padding_fields();
        let has_pages = version.has_page_sizes();
        PfnInfo {
            kind: self.request.kind,
            uuid,
            parent_uuid,
            flags: 0,
            version,
            dataoff: self.dataoff,
            npfns: self.npfns,
            mode: self.request.mode,
            start_pad: if has_pads { self.start_pad } else { 0 },
            end_trunc: if has_pads { self.end_trunc } else { 0 },
            align: if version.has_align() { self.align } else { 0 },
            page_size: self.page_size,
            page_struct_size: if has_pages {
                self.page_struct_size
            } else {
                DEFAULT_PAGE_STRUCT_SIZE
            },
            min_version: None,
        }
    }
}

/// Checked arithmetic that reports the namespace on overflow.
#[derive(Clone, Copy)]
struct Calc {
    ns_start: u64,
    ns_size: u64,
}

impl Calc {
    const fn overflow(self) -> LayoutError {
        LayoutError::Overflow {
            ns_start: self.ns_start,
            ns_size: self.ns_size,
        }
    }

    fn add(self, a: u64, b: u64) -> Result<u64, LayoutError> {
        a.checked_add(b).ok_or(self.overflow())
    }

    fn sub(self, a: u64, b: u64) -> Result<u64, LayoutError> {
        a.checked_sub(b).ok_or(self.overflow())
    }

    fn mul(self, a: u64, b: u64) -> Result<u64, LayoutError> {
        a.checked_mul(b).ok_or(self.overflow())
    }

    fn div(self, a: u64, b: u64) -> Result<u64, LayoutError> {
        arith::div(a, b).ok_or(self.overflow())
    }

    /// `ALIGN_UP(x, a)` for a power of two `a`.
    fn align_up(self, x: u64, a: u64) -> Result<u64, LayoutError> {
        let mask = a.checked_sub(1).ok_or(self.overflow())?;
        Ok(self.add(x, mask)? & !mask)
    }
}

/// `ALIGN_DOWN(x, a)` for a power of two `a` (0 for `a == 0`).
const fn align_down(x: u64, a: u64) -> u64 {
    match a.checked_sub(1) {
        Some(mask) => x & !mask,
        None => 0,
    }
}

/// What the writer computed, before the kernel's checks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub(crate) start_pad: u64,
    pub(crate) end_trunc: u64,
    pub(crate) dataoff: u64,
    pub(crate) requested_align: u64,
    pub(crate) effective_align: u64,
}

/// The requested alignment, checked against the era and platform.
pub(crate) fn requested_align(req: &LayoutRequest) -> Result<u64, LayoutError> {
    let profile = &req.profile;
    let platform = &profile.platform;
    if profile.rules.writer == WriterRule::V1_0 {
        // 4.3 had no align attribute; the PMEM memmap was aligned to PMD_SIZE (§4.2).
        return match req.align {
            Some(align) if align != platform.pmd_size => Err(LayoutError::AlignNotSettable {
                align,
                implicit: platform.pmd_size,
            }),
            _ => Ok(platform.pmd_size),
        };
    }
    let align = req.align.unwrap_or(profile.default_align());
    if !align.is_power_of_two() {
        return Err(LayoutError::AlignNotPowerOfTwo { align });
    }
    if align < platform.page_size {
        return Err(LayoutError::AlignBelowPageSize {
            align,
            page_size: platform.page_size,
        });
    }
    if u32::try_from(align).is_err() {
        return Err(LayoutError::AlignTooLarge { align });
    }
    // §3.6: 5.4+ validate refuses a DAX block whose align is not a supported mapping size.
    if req.kind == DeviceKind::Devdax
        && profile.rules.checks_dax_align
        && !platform.dax_aligns.contains(align)
    {
        return Err(LayoutError::DaxAlignUnsupported { align });
    }
    Ok(align)
}

/// The alignment the writer aligns `dataoff` (and in 5.3+ the end) to.
pub(crate) fn effective_align(req: &LayoutRequest, align: u64) -> u64 {
    let platform = &req.profile.platform;
    match req.profile.rules.align_floor {
        AlignFloor::None => align,
        // 4.15–5.2: the PMD floor applies to the PMEM memmap only (§4.5 step 4).
        AlignFloor::Pmd if req.mode == Mode::PMEM => align.max(platform.pmd_size),
        AlignFloor::Pmd => align,
        AlignFloor::Subsection => align.max(SUBSECTION_SIZE),
        AlignFloor::CompatAlign => align.max(platform.compat_align),
    }
}

/// The padding: the era's policy, or the explicit values.
fn padding(
    req: &LayoutRequest,
    calc: Calc,
    align: u64,
    effective: u64,
) -> Result<(u64, u64), LayoutError> {
    let Padding::Policy(collide) = req.padding else {
        let Padding::Explicit {
            start_pad,
            end_trunc,
        } = req.padding
        else {
            return Ok((0, 0));
        };
        return Ok((start_pad, end_trunc));
    };
    let start = req.ns_start;
    let end = calc.add(start, req.ns_size)?;
    let section = req.profile.platform.section_size;
    let section_up_pad = || calc.sub(calc.align_up(start, section)?, start);
    Ok(match req.profile.rules.writer {
        WriterRule::V1_0 => (0, 0),
        // §4.3: pad to section boundaries only where the sections are shared.
        WriterRule::SectionPadding => (
            if collide.start { section_up_pad()? } else { 0 },
            if collide.end {
                calc.sub(end, align_down(end, section))?
            } else {
                0
            },
        ),
        // §4.5 trim_pfn_device: the end is also trimmed when it is not align-aligned, to the
        // lower of the section and the alignment boundary.
        WriterRule::Trim => (
            if collide.start { section_up_pad()? } else { 0 },
            if collide.end || arith::rem(end, align) != Some(0) {
                calc.sub(end, align_down(end, section).min(align_down(end, align)))?
            } else {
                0
            },
        ),
        // §4.6: never start padding; the end is trimmed to the effective alignment.
        WriterRule::Subsection => (0, calc.sub(end, align_down(end, effective))?),
    })
}

/// The writer's algorithm of the era (FORMAT.md §4.2–§4.6), before the kernel's checks.
pub(crate) fn geometry(req: &LayoutRequest) -> Result<Geometry, LayoutError> {
    let calc = Calc {
        ns_start: req.ns_start,
        ns_size: req.ns_size,
    };
    let profile = &req.profile;
    let rules = &profile.rules;
    let platform = &profile.platform;
    if req.mode != Mode::RAM && req.mode != Mode::PMEM {
        return Err(LayoutError::InvalidMode { mode: req.mode.0 });
    }
    if req.kind == DeviceKind::Devdax && !rules.devdax_supported {
        return Err(LayoutError::DevdaxUnsupported);
    }
    if req.mode == Mode::PMEM && !rules.pmem_mode_supported {
        return Err(LayoutError::PmemModeUnsupported);
    }
    let align = requested_align(req)?;
    let start = req.ns_start;
    let size = req.ns_size;
    calc.add(start, size)?;
    let page = platform.page_size;
    let psz = u64::from(rules.max_struct_page_size);
    let pmem = req.mode == Mode::PMEM;
    let dax_rsv = if req.kind == DeviceKind::Devdax {
        rules.dax_label_reserve
    } else {
        0
    };
    let effective = effective_align(req, align);

    if rules.writer == WriterRule::V1_0 {
        // §4.2 / §3.1: one whole section at a section-aligned start.
        let section = platform.section_size;
        if size < section {
            return Err(LayoutError::NamespaceTooSmall {
                size,
                minimum: section,
            });
        }
        if arith::rem(start, section) != Some(0) {
            return Err(LayoutError::StartMisaligned {
                start,
                required: section,
            });
        }
    }
    if rules.writer == WriterRule::Subsection
        && rules.align_floor == AlignFloor::CompatAlign
        && matches!(req.padding, Padding::Policy(_))
        && arith::rem(start, platform.compat_align) != Some(0)
    {
        // §4.6 step 3 (5.7+): init refuses a misaligned start with -EINVAL.
        return Err(LayoutError::StartMisaligned {
            start,
            required: platform.compat_align,
        });
    }

    let (start_pad, end_trunc) = padding(req, calc, align, effective)?;
    if u32::try_from(start_pad).is_err() || u32::try_from(end_trunc).is_err() {
        return Err(LayoutError::PaddingTooLarge {
            start_pad,
            end_trunc,
        });
    }
    if rules.writer == WriterRule::V1_0 && (start_pad != 0 || end_trunc != 0) {
        return Err(LayoutError::PaddingUnsupported {
            start_pad,
            end_trunc,
        });
    }
    let pads = calc.add(start_pad, end_trunc)?;
    let no_room = |dataoff| LayoutError::NoRoomForData {
        dataoff,
        start_pad,
        end_trunc,
        size,
    };
    let avail = size.checked_sub(pads).ok_or(no_room(0))?;
    let base = calc.add(start, start_pad)?;

    let dataoff = match rules.writer {
        // §4.2: RAM mode only (PMEM was refused above); the data starts after the 8 KiB
        // reserve. UNCONFIRMED (FORMAT.md §8): an earlier posting aligned it to PMD_SIZE; this
        // crate follows the later posting, 8 KiB.
        WriterRule::V1_0 => INFO_BLOCK_RESERVE,
        // §4.3/§4.4: npfns0 in 4 KiB units, 64 bytes each, optionally padded to HPAGE_SIZE.
        WriterRule::SectionPadding => {
            let npfns0 = calc.div(avail.saturating_sub(INFO_BLOCK_RESERVE), SZ_4K)?;
            let mut memmap = if pmem { calc.mul(psz, npfns0)? } else { 0 };
            if pmem && rules.memmap_pad_to_pmd {
                memmap = calc.align_up(memmap, platform.pmd_size)?;
            }
            let top = calc.add(
                calc.add(base, INFO_BLOCK_RESERVE)?,
                calc.add(memmap, dax_rsv)?,
            )?;
            calc.sub(calc.align_up(top, effective)?, base)?
        }
        // §4.5: npfns0 rounded up to whole sections; reserve 8 KiB or ALIGN_UP(8K, PAGE_SIZE).
        WriterRule::Trim => {
            let reserve = profile.info_block_reserve();
            let pages = calc.div(avail.saturating_sub(reserve), page)?;
            let per_section = calc.div(platform.section_size, page)?;
            let npfns0 = calc.align_up(pages, per_section.max(1))?;
            let memmap = if pmem { calc.mul(psz, npfns0)? } else { 0 };
            let top = calc.add(calc.add(base, reserve)?, calc.add(memmap, dax_rsv)?)?;
            calc.sub(calc.align_up(top, effective)?, base)?
        }
        // §4.6: npfns0 = PHYS_PFN(size - 8K); the literal 8 KiB, whatever the page size.
        WriterRule::Subsection => {
            let npfns0 = calc.div(size.saturating_sub(INFO_BLOCK_RESERVE), page)?;
            let memmap = if pmem { calc.mul(psz, npfns0)? } else { 0 };
            let top = calc.add(calc.add(base, INFO_BLOCK_RESERVE)?, memmap)?;
            calc.sub(calc.align_up(top, effective)?, base)?
        }
    };
    Ok(Geometry {
        start_pad,
        end_trunc,
        dataoff,
        requested_align: align,
        effective_align: effective,
    })
}

/// Lays out a block as the profile's kernel writes it, and checks that the same kernel
/// accepts it and exposes at least one data page.
///
/// # Errors
/// Every [`LayoutError`] variant except the version and search ones: a malformed request
/// (mode, alignment, padding, overflow), a layout the kernel's writer refuses (misaligned
/// start, no room for data), one with no data page, or one the same kernel's validator or
/// enable path would not accept ([`LayoutError::KernelRefuses`]: bad offset, misaligned end,
/// memmap that does not fit, devdax range off its alignment...).
pub fn solve(req: &LayoutRequest) -> Result<Layout, LayoutError> {
    let geo = geometry(req)?;
    accept(req, &geo)
}

/// The crate's own refusals (no data page), then the profile's validator and enable path on
/// the block the writer produced ([`validate::check`], probe path,
/// label-less namespace), then the derived values.
fn accept(req: &LayoutRequest, geo: &Geometry) -> Result<Layout, LayoutError> {
    let calc = Calc {
        ns_start: req.ns_start,
        ns_size: req.ns_size,
    };
    let profile = &req.profile;
    let rules = &profile.rules;
    let platform = &profile.platform;
    let page = platform.page_size;
    let (start, size) = (req.ns_start, req.ns_size);
    let Geometry {
        start_pad,
        end_trunc,
        dataoff,
        requested_align,
        effective_align,
    } = *geo;
    let no_room = LayoutError::NoRoomForData {
        dataoff,
        start_pad,
        end_trunc,
        size,
    };
    let used = calc.add(calc.add(start_pad, end_trunc)?, dataoff)?;
    // §4.3–§4.6 init ("unable to satisfy requested alignment") and 6.5+ validate ("bad offset
    // with small namespace"); earlier kernels accepted dataoff < size with no data left, which
    // this crate refuses in every era.
    let data_bytes = size.checked_sub(used).filter(|&d| d > 0).ok_or(no_room)?;
    if data_bytes < page {
        return Err(LayoutError::NoDataPages {
            data_bytes,
            page_size: page,
        });
    }
    let version = rules.writes_version;
    let stored_align = if version.has_align() {
        u32::try_from(requested_align).map_err(|_| LayoutError::AlignTooLarge {
            align: requested_align,
        })?
    } else {
        0
    };
    let padding_too_large = LayoutError::PaddingTooLarge {
        start_pad,
        end_trunc,
    };
    let base = calc.add(start, start_pad)?;
    let data_start = calc.add(base, dataoff)?;
    let end = calc.add(start, size)?;
    let data_end = calc.sub(end, end_trunc)?;
    let reserve = profile.info_block_reserve();
    let psz = rules.max_struct_page_size;
    let pmem = req.mode == Mode::PMEM;
    let (memmap, memmap_bytes) = if pmem {
        let range = AddrRange {
            start: calc.add(base, reserve)?,
            end: data_start,
        };
        (
            Some(range),
            calc.mul(u64::from(psz), calc.div(data_bytes, page)?)?,
        )
    } else {
        (None, 0)
    };
    let unit = match rules.npfns_unit {
        NpfnsUnit::Fixed4K => SZ_4K,
        NpfnsUnit::Page => page,
    };
    let fsdax = req.kind == DeviceKind::Fsdax;
    let legacy = DataoffReading {
        dataoff_base: base,
        data_start,
        map_base: base,
        map_offset: Some(dataoff),
        // §5.2: the fsdax pfn uses phys_addr = res.start; devdax uses the padded base (§6.1).
        dax_start: Some(if fsdax {
            calc.add(start, dataoff)?
        } else {
            data_start
        }),
    };
    let v2019_start = calc.add(start, dataoff)?;
    let v2019_offset = dataoff.checked_sub(start_pad);
    let v2019 = DataoffReading {
        dataoff_base: start,
        data_start: v2019_start,
        map_base: base,
        map_offset: v2019_offset,
        dax_start: v2019_offset.map(|_| v2019_start),
    };
    let layout = Layout {
        request: *req,
        dataoff,
        npfns: calc.div(data_bytes, unit)?,
        start_pad: u32::try_from(start_pad).map_err(|_| padding_too_large)?,
        end_trunc: u32::try_from(end_trunc).map_err(|_| padding_too_large)?,
        align: stored_align,
        effective_align,
        version,
        page_size: u32::try_from(page).map_err(|_| calc.overflow())?,
        page_struct_size: psz,
        memmap,
        memmap_bytes,
        data: AddrRange {
            start: data_start,
            end: data_end,
        },
        dev_size: data_bytes,
        dev_resource: data_start,
        blk_bytes: fsdax.then_some(align_down(data_bytes, SECTOR)),
        legacy,
        v2019,
        below_claim_minimum: size < profile.min_namespace_size(),
    };
    // The era's nd_pfn_validate (§3) and enable path (§5.1, §6.1) on the block just written,
    // as the next probe reads it: one rule set for the validator and the solver.
    let info = layout.to_info(Uuid::NIL, Uuid::NIL);
    let ns = Namespace::labelless(start, size);
    // A namespace error cannot happen: size > 0 (data_bytes > 0) and start + size was
    // checked above. Should one appear, it is an address-space overflow.
    let outcome = validate::check_info(&info, &ns, &ProbePath::Probe, profile)
        .map_err(|_| calc.overflow())?;
    match outcome {
        Outcome::Enabled(dev) if dev.dev_size == data_bytes && dev.dev_resource == data_start => {
            Ok(layout)
        }
        // The validator computes the sysfs values in wrapping C arithmetic; a difference from
        // the checked values above would mean a wrap, which the checks above exclude.
        Outcome::Enabled(_) => Err(calc.overflow()),
        Outcome::Raw { reason, errno } => Err(LayoutError::KernelRefuses {
            stage: Stage::Validate,
            reason,
            errno,
        }),
        Outcome::Rejected {
            stage,
            reason,
            errno,
        } => Err(LayoutError::KernelRefuses {
            stage,
            reason,
            errno,
        }),
    }
}

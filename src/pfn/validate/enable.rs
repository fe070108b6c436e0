//! The enable stage: what `__nvdimm_setup_pfn` and the memmap hotplug check after
//! `nd_pfn_validate` passed (FORMAT.md §5.1), with the platform's page arithmetic.

use crate::arith;
use crate::pfn::model::DeviceKind;
use crate::pfn::profile::{Platform, Profile, SUBSECTION_SIZE};
use crate::pfn::raw::Mode;

use super::{is_aligned, u64_of, usable_size, Enabled, Reason, Res, Validated};

/// What the enable stage derives from the platform alone: `PHYS_PFN`, the page counts the
/// memmap rules divide by, and the blocks `vmemmap_populate` maps the memmap in. Worked out at
/// compile time for every preset ([`PRESET_PAGES`]) and per call for any other platform. The
/// lookup saves little by itself (it costs about 20 of the 26 instructions it saves); with the
/// rules inlined (see [`checked`]) the two changes together save 67 (BENCHMARKS.md "One
/// block").
#[derive(Clone, Copy)]
pub(super) struct Pages {
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
pub(super) static PRESET_PAGES: [(PagesKey, Pages); 4] = [
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
pub(super) const fn phys_pfn(shift: u32, mask: u64, x: u64) -> u64 {
    x.wrapping_shr(shift) & mask
}

/// `__nvdimm_setup_pfn` and the mapping it sets up (FORMAT.md §5.1). Always inlined (see
/// [`checked`]).
#[inline(always)]
pub(super) fn enable(v: &Validated<'_>, res: &Res, profile: &Profile) -> Result<Enabled, Reason> {
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

pub(super) const fn align_up(x: u64, a: u64) -> Option<u64> {
    match a.checked_sub(1) {
        Some(mask) => match x.checked_add(mask) {
            Some(v) => Some(v & !mask),
            None => None,
        },
        None => None,
    }
}

pub(super) fn align_down(x: u64, a: u64) -> u64 {
    x & !a.wrapping_sub(1)
}

/// `check_pfn_span` in `__add_pages` (5.3+, sub-section hotplug with SPARSEMEM_VMEMMAP): the
/// hot-added range (`pfn`, `count` pages) must start and end on the sub-section grid. Before
/// 5.3 `memremap_pages` hot-added whole sections around the range, which are aligned by
/// construction.
pub(super) fn check_pfn_span(
    pfn: u64,
    count: u64,
    pages: &Pages,
    profile: &Profile,
) -> Result<(), Reason> {
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
pub(super) fn check_altmap(
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
mod tests;

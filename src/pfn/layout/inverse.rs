//! The inverse question (NDCTL.md §7): which namespace size gives at least N usable bytes.
//!
//! # Why the search is exact
//! Write `E(S)` for the effective end of a namespace of size `S` (`start + S - end_trunc`) and
//! `D(S)` for its `dataoff`; the usable bytes are `E(S) - (start + start_pad) - D(S)`.
//! * Truncation only ever moves the end down to an aligned point `e` at which a namespace of
//!   size `e - start` needs no truncation, and `D` of that smaller namespace is not larger. So
//!   some minimal answer has an end aligned to the era's end unit `T` (the effective alignment
//!   in 5.3+, the requested alignment in 4.15–5.2, a section where the end collides, else one
//!   granule), and only sizes with such ends need to be tried.
//! * Along those sizes `D` never decreases. Starting from the smallest candidate `e0`, the
//!   iteration `e' = ALIGN_UP(start + start_pad + N + D(e), U)` (`U = max(T, granule)`) never
//!   passes a valid answer: if `e* >= e` is valid then `e* >= start + start_pad + N + D(e*) >=
//!   start + start_pad + N + D(e)`, so `e* >= e'`. When it stops moving, `e` itself is valid,
//!   hence minimal.
//! * If the kernel's checks still refuse that size (e.g. 4.6's power-of-two offset rule, or a
//!   memmap that does not fit after a 64 KiB reserve), the search continues upwards one unit at
//!   a time to the first accepted size, then checks every granule between the fixed point and
//!   that size (up to 2^18 of them), because acceptance is not monotone in the size. Beyond
//!   that bound the answer is the smallest accepted size with an aligned end.
//!
//! The search starts at the smallest namespace the kernel creates a pfn/dax device on
//! ([`Profile::min_namespace_size`](crate::Profile::min_namespace_size), 16 MiB).

use super::{
    effective_align, geometry, requested_align, solve, Calc, Layout, LayoutError, LayoutRequest,
    Padding,
};
use crate::pfn::profile::WriterRule;
use crate::pfn::raw::Mode;
use crate::pfn::validate::Reason;

/// How many candidate sizes the search tries at most before giving up.
const MAX_STEPS: u32 = 1 << 14;
/// How many sizes below the first accepted one the search checks one granule at a time.
const MAX_SCAN: u32 = 1 << 18;

/// The bytes the kernel exposes (pfn/dax `size`) for the request's namespace size.
///
/// # Errors
/// As [`solve`].
pub fn usable_bytes(req: &LayoutRequest) -> Result<u64, LayoutError> {
    solve(req).map(|layout| layout.dev_size)
}

/// The layout of the smallest namespace, a multiple of `granule` bytes, that gives at least
/// `usable` bytes (the pfn/dax `size`) for the request's start, mode, kind, alignment,
/// collisions and profile; `template.ns_size` is ignored.
///
/// `granule` is the size step namespaces are created in: the page size for label-less or
/// emulated namespaces, the region alignment (16 MiB by default since 5.7) for `ndctl
/// create-namespace`. Sizes below the kernel's minimum
/// ([`Profile::min_namespace_size`](crate::Profile::min_namespace_size)) are not considered.
///
/// # Errors
/// [`LayoutError::SearchUnsupported`] for explicit padding, a granule that is not a power of
/// two, or a start that is not a multiple of it; the size-independent errors of [`solve`]
/// (mode, alignment, misaligned start); [`LayoutError::Overflow`] or
/// [`LayoutError::NoSizeFound`] when no size up to `u64::MAX` (or the step bound) works.
pub fn min_size_for_usable(
    template: &LayoutRequest,
    usable: u64,
    granule: u64,
) -> Result<Layout, LayoutError> {
    let start = template.ns_start;
    let unsupported = LayoutError::SearchUnsupported {
        granule,
        ns_start: start,
    };
    let Padding::Policy(collide) = template.padding else {
        return Err(unsupported);
    };
    if !granule.is_power_of_two() || start.checked_rem(granule) != Some(0) {
        return Err(unsupported);
    }
    let calc = Calc {
        ns_start: start,
        ns_size: 0,
    };
    let profile = &template.profile;
    let section = profile.platform.section_size;
    let align = requested_align(template)?;
    let unit = match profile.rules.writer {
        WriterRule::V1_0 => 1,
        WriterRule::SectionPadding if collide.end => section,
        WriterRule::SectionPadding => 1,
        WriterRule::Trim if collide.end => section.max(align),
        WriterRule::Trim => align,
        WriterRule::Subsection => effective_align(template, align),
    };
    let step = unit.max(granule);
    let start_pad = match profile.rules.writer {
        WriterRule::SectionPadding | WriterRule::Trim if collide.start => {
            calc.sub(calc.align_up(start, section)?, start)?
        }
        _ => 0,
    };
    let data_base = calc.add(start, start_pad)?;
    let need = usable.max(1);
    let lowest = calc.align_up(calc.add(start, profile.min_namespace_size())?, step)?;
    // Ends between `start + floor` and `lowest` all truncate to the same aligned end (the
    // kernel's end_trunc), and a smaller size never needs a larger memmap, so when the
    // kernel's minimum size does not end on a step, that minimum itself is the best size in
    // the gap: try it first.
    let floor = profile.min_namespace_size();
    if calc.add(start, floor)? < lowest && floor.checked_rem(granule) == Some(0) {
        if let Ok(layout) = solve(&template.with_size(floor)) {
            if layout.dev_size >= usable {
                return Ok(layout);
            }
        }
    }
    let mut end = lowest.max(calc.align_up(calc.add(data_base, need)?, step)?);
    // The fixed point below every valid answer (the first value the iteration settles on).
    let mut bound: Option<u64> = None;
    for _ in 0..MAX_STEPS {
        let req = template.with_size(calc.sub(end, start)?);
        let dataoff = match geometry(&req) {
            Ok(geo) => geo.dataoff,
            Err(LayoutError::NoRoomForData { .. }) => {
                end = calc.add(end, step)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let target = calc.align_up(calc.add(calc.add(data_base, need)?, dataoff)?, step)?;
        if target > end {
            end = target;
            continue;
        }
        let lower = *bound.get_or_insert(end);
        match solve(&req) {
            Ok(layout) if layout.dev_size >= usable => {
                return refine(template, usable, granule, calc.sub(lower, start)?, layout);
            }
            Ok(_) => {}
            Err(e) if !size_dependent(&e, template.mode) => return Err(e),
            Err(_) => {}
        }
        end = calc.add(end, step)?;
    }
    Err(LayoutError::NoSizeFound { usable })
}

/// The fixed point is a lower bound for every size with enough usable bytes; when the kernel's
/// checks refused sizes there (e.g. a memmap that does not fit after a 64 KiB reserve), a size
/// between that bound and `found` with an unaligned end may still be accepted. Scan that gap,
/// granule by granule (at most [`MAX_SCAN`] sizes), for the first accepted one.
fn refine(
    template: &LayoutRequest,
    usable: u64,
    granule: u64,
    lower: u64,
    found: Layout,
) -> Result<Layout, LayoutError> {
    let mut size = lower;
    for _ in 0..MAX_SCAN {
        if size >= found.request.ns_size {
            break;
        }
        if let Ok(layout) = solve(&template.with_size(size)) {
            if layout.dev_size >= usable {
                return Ok(layout);
            }
        }
        let Some(next) = size.checked_add(granule) else {
            break;
        };
        size = next;
    }
    Ok(found)
}

/// Whether a refusal may go away for another namespace size.
const fn size_dependent(error: &LayoutError, mode: Mode) -> bool {
    match error {
        LayoutError::NoRoomForData { .. }
        | LayoutError::NoDataPages { .. }
        | LayoutError::NamespaceTooSmall { .. }
        | LayoutError::PaddingTooLarge { .. } => true,
        LayoutError::KernelRefuses { reason, .. } => reason_size_dependent(reason, mode),
        _ => false,
    }
}

/// Whether the validator's reason for refusing a solved layout depends on the namespace size.
/// Every reason is listed, so that a new one needs a decision here.
const fn reason_size_dependent(reason: &Reason, mode: Mode) -> bool {
    match reason {
        // The writers' map=mem dataoff is `ALIGN(base + reserve, align) - base` whatever the
        // size; in map=dev it grows with the memmap, so the offset checks may pass at
        // another size.
        Reason::DataoffNotPowerOfTwo { .. }
        | Reason::BadOffset { .. }
        | Reason::RamDataoffBelowReserve { .. } => mode.0 == Mode::PMEM.0,
        // Capacities, end alignment, memmap room and dax range move with the size.
        Reason::NamespaceBelowSection { .. }
        | Reason::AlignExceedsCapacity { .. }
        | Reason::DataoffExceedsCapacity { .. }
        | Reason::ResourceEndMisaligned { .. }
        | Reason::SmallNamespace { .. }
        | Reason::MemmapRegionEmpty { .. }
        | Reason::RangeOverlapsRam { .. }
        | Reason::RangeInverted { .. }
        | Reason::MemmapDoesNotFit { .. }
        | Reason::DaxRangeMisaligned { .. } => true,
        Reason::InvalidAltmap { base_mismatch, .. } => !*base_mismatch,
        // A misaligned first pfn stays misaligned; a misaligned length may not.
        Reason::HotplugMisaligned {
            pfn, granule_pages, ..
        } => *pfn & granule_pages.wrapping_sub(1) == 0,
        // The start, the mode, the alignment and the block's identity do not.
        Reason::BadSignature { .. }
        | Reason::ChecksumMismatch { .. }
        | Reason::ParentUuidMismatch { .. }
        | Reason::UnknownMode { .. }
        | Reason::PmemModeUnsupported
        | Reason::PageSizeMismatch { .. }
        | Reason::StructPageSizeMismatch { .. }
        | Reason::DaxAlignUnsupported { .. }
        | Reason::UuidMismatch { .. }
        | Reason::SettingsMismatch { .. }
        | Reason::StartNotSectionAligned { .. }
        | Reason::ResourceStartMisaligned { .. } => false,
    }
}

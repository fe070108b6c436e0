//! What the kernel makes of the labels: the namespaces `scan_labels` and
//! `create_namespace_pmem` (`drivers/nvdimm/namespace_devs.c`) create for a region of one
//! DIMM, and what is unusual on the way.

use core::fmt;

use crate::label::index::{Label, LabelArea, SlotError};
use crate::label::raw::{ClaimClass, Guid, NSLABEL_FLAG_UPDATING};
use crate::uuid::Uuid;

/// What the caller knows about the region the DIMM belongs to. The enumeration models a
/// region of one DIMM (`ndr_mappings == 1`, the QEMU rig and any non-interleaved region), so a
/// label must have `nlabel == 1` and `position == 0` to make a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Region {
    /// The region's interleave-set cookie (`region0/set_cookie`: `cookie1` for a v1.1 index,
    /// `cookie2` for v1.2, as `nd_region_interleave_set_cookie` picks). `None` accepts every
    /// label's cookie (the kernel always checks; this is for areas whose region is unknown).
    /// With the kernel-harness rig, kernel-written labels hold `0x00ba90120012b4dc`.
    pub isetcookie: Option<u64>,
    /// The region's alternate cookie (`nd_region_interleave_set_altcookie`), tried when the
    /// first does not match; `None` tries none.
    pub altcookie: Option<u64>,
    /// The region's NFIT range type (`nd_set->type_guid`), which v1.2 labels must carry
    /// (`nsl_validate_type_guid`); `None` accepts any.
    pub type_guid: Option<Guid>,
    /// The DIMM's range in the region, `(start, size)` in DPA (`nd_mapping->start`,
    /// `nd_mapping->size`); `None` skips the range checks.
    pub dpa_range: Option<(u64, u64)>,
}

/// A namespace the kernel creates from the labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// `uuid`.
    pub uuid: Uuid,
    /// Name bytes (`alt_name`), NUL-padded.
    pub name: [u8; 64],
    /// Start on the DIMM.
    pub dpa: u64,
    /// Size (`rawsize` of the label; one DIMM).
    pub rawsize: u64,
    /// `lbasize` (sector size of a BTT namespace, 0 otherwise).
    pub lbasize: u64,
    /// Claim class (v1.2; `None` for v1.1).
    pub claim_class: ClaimClass,
    /// Slot of the label the namespace was built from.
    pub slot: u32,
    /// Flags of that label (`NSLABEL_FLAG_UPDATING` left by an interrupted update is
    /// ignored by the kernel).
    pub flags: u32,
}

impl Namespace {
    /// An empty entry, to size output arrays: `[Namespace::EMPTY; 16]`.
    pub const EMPTY: Self = Self {
        uuid: Uuid::NIL,
        name: [0; 64],
        dpa: 0,
        rawsize: 0,
        lbasize: 0,
        claim_class: ClaimClass::None,
        slot: 0,
        flags: 0,
    };

    /// The name up to its first NUL, if UTF-8 (what sysfs `alt_name` shows).
    #[must_use]
    pub fn name_str(&self) -> Option<&str> {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(64);
        core::str::from_utf8(self.name.get(..end)?).ok()
    }
}

impl From<&Label> for Namespace {
    fn from(l: &Label) -> Self {
        Self {
            uuid: l.uuid,
            name: l.name,
            dpa: l.dpa,
            rawsize: l.rawsize,
            lbasize: l.lbasize,
            claim_class: l.claim_class,
            slot: l.slot,
            flags: l.flags,
        }
    }
}

/// Why the kernel creates no namespace at all in the region (the whole scan fails), with
/// the label or uuid that caused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegionFailure {
    /// Two active labels' DPA ranges overlap, or one is empty or wraps:
    /// `nd_label_reserve_dpa` fails with `-EBUSY` and the DIMM is not enabled.
    DpaConflict {
        /// Slot of the label that could not be reserved.
        slot: u32,
    },
    /// The region's cookie is 0 (`create_namespace_pmem`: "invalid interleave-set-cookie").
    NoCookie,
    /// A uuid has two labels that match the region, or none at position 0 with
    /// `nlabel == 1` (`has_uuid_at_pos` fails: "missing label", `-EINVAL`).
    MissingLabel {
        /// The namespace uuid.
        uuid: Uuid,
    },
    /// A label's range is not inside the DIMM's range (`select_pmem_id`: `-EINVAL`).
    InvalidRange {
        /// The namespace uuid.
        uuid: Uuid,
    },
    /// A second label with the uuid of a namespace already created ("conflicting extents",
    /// `add_namespace_resource`: `-ENXIO`).
    ConflictingExtents {
        /// The namespace uuid.
        uuid: Uuid,
    },
    /// The label picked for the namespace is not at position 0, so no name is set
    /// (`create_namespace_pmem` fails with `-ENOMEM`).
    NoPositionZero {
        /// The namespace uuid.
        uuid: Uuid,
    },
    /// The caller's output array is full (not a kernel outcome).
    OutputFull {
        /// Its length.
        capacity: usize,
    },
}

impl fmt::Display for RegionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::DpaConflict { slot } => write!(
                f,
                "the DPA range of the label in slot {slot} is empty, wraps or overlaps another"
            ),
            Self::NoCookie => f.write_str("the region's interleave-set cookie is 0"),
            Self::MissingLabel { uuid } => {
                write!(f, "no single matching label at position 0 for {uuid}")
            }
            Self::InvalidRange { uuid } => {
                write!(f, "the label of {uuid} is not inside the DIMM's range")
            }
            Self::ConflictingExtents { uuid } => write!(f, "conflicting extents for {uuid}"),
            Self::NoPositionZero { uuid } => {
                write!(f, "the label picked for {uuid} is not at position 0")
            }
            Self::OutputFull { capacity } => {
                write!(f, "more namespaces than the {capacity} output entries")
            }
        }
    }
}

impl core::error::Error for RegionFailure {}

/// What the scan met that a well-kept area does not have. Counts of labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Findings {
    /// Index that failed validation while the other was used (`None`: both valid).
    pub bad_index: Option<(u8, crate::label::IndexError)>,
    /// In-use slots whose label names another slot.
    pub slot_mismatch: u32,
    /// In-use v1.2 slots whose checksum does not match.
    pub bad_checksum: u32,
    /// Labels whose cookie is not the region's (skipped).
    pub cookie_mismatch: u32,
    /// Labels whose `dpa` is outside the DIMM's range (skipped).
    pub outside_dimm: u32,
    /// Active labels with `NSLABEL_FLAG_UPDATING` (an interrupted kernel update; the kernel
    /// reads them like any other).
    pub updating: u32,
    /// Active labels sharing a uuid with an earlier active label.
    pub duplicate_uuid: u32,
    /// Active labels with `nlabel != 1` or `position != 0` (interleaved over DIMMs).
    pub interleaved: u32,
}

/// The result of [`LabelArea::namespaces`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scan {
    /// Namespaces written to the output, in slot order (the kernel numbers them after
    /// sorting by start address).
    pub count: usize,
    /// Why the kernel creates none, if it does not.
    pub failure: Option<RegionFailure>,
    /// What was unusual.
    pub findings: Findings,
}

fn cookie_matches(cookie: Option<u64>, label: &Label) -> bool {
    cookie.map_or(true, |c| c == label.isetcookie)
}

/// `nsl_validate_type_guid`: only v1.2 labels carry one.
fn type_matches(region: &Region, label: &Label) -> bool {
    match (region.type_guid, label.type_guid) {
        (Some(want), Some(have)) => want == have,
        _ => true,
    }
}

/// Slots below this many have their `slot_valid` verdict computed once per scan (a 512-byte
/// bitmap on the stack); slots past it (areas over about 1 MiB) are checked at every visit.
const MEMO_SLOTS: u32 = 4096;

/// The `slot_valid` verdicts of a scan, so that the pairwise rules of the kernel (duplicate
/// uuids, DPA overlaps, the per-uuid searches) compare labels without re-checksumming them.
struct Active {
    bits: [u64; 64],
    covered: u32,
}

impl Active {
    fn get(&self, slot: u32) -> bool {
        let word = usize::try_from(slot / 64)
            .ok()
            .and_then(|w| self.bits.get(w));
        word.is_some_and(|w| w & (1u64 << (slot % 64)) != 0)
    }
}

impl<'a> LabelArea<'a> {
    /// One pass over the in-use slots: the `slot_valid` verdicts, and the counts of the
    /// labels the kernel ignores.
    fn memo(&self, findings: &mut Findings) -> Active {
        let mut memo = Active {
            bits: [0; 64],
            covered: self.current_info().nslot.min(MEMO_SLOTS),
        };
        for (slot, label) in self.slots() {
            match label {
                Err(SlotError::Checksum { .. }) => {
                    findings.bad_checksum = findings.bad_checksum.saturating_add(1);
                }
                Err(_) => findings.slot_mismatch = findings.slot_mismatch.saturating_add(1),
                Ok(_) if slot < memo.covered => {
                    let word = usize::try_from(slot / 64).ok();
                    if let Some(w) = word.and_then(|w| memo.bits.get_mut(w)) {
                        *w |= 1u64 << (slot % 64);
                    }
                }
                Ok(_) => {}
            }
        }
        memo
    }

    /// The active slots, in slot order, from the verdicts of `memo` (word by word) and past
    /// it from the free bitmap.
    fn active_slots<'m>(&self, memo: &'m Active) -> impl Iterator<Item = u32> + 'm
    where
        'a: 'm,
    {
        let area = *self;
        let memoized = memo
            .bits
            .iter()
            .zip(0u32..)
            .flat_map(|(&word, w)| {
                let mut bits = word;
                core::iter::from_fn(move || {
                    if bits == 0 {
                        return None;
                    }
                    let bit = bits.trailing_zeros();
                    bits &= bits.wrapping_sub(1);
                    w.checked_mul(64)?.checked_add(bit)
                })
            })
            .take_while(move |&slot| slot < memo.covered);
        let rest = self
            .used_slots(memo.covered)
            .filter(move |&slot| area.read_slot(slot).is_ok());
        memoized.chain(rest)
    }

    /// The active labels, in slot order, with the verdicts of `memo`.
    fn active<'m>(&self, memo: &'m Active) -> impl Iterator<Item = Label> + 'm
    where
        'a: 'm,
    {
        let area = *self;
        self.active_slots(memo)
            .filter_map(move |slot| Label::read(area.slot_bytes(slot)?, area.version()).ok())
    }
}

/// Active labels a scan sorts (by uuid, and by DPA for the overlap check) in a 2 KiB array on
/// the stack: every label of a 128 KiB area fits. Past this many (or past the memo) the scan
/// compares pairs instead, with the same answers.
const SORT_MAX: usize = 1024;

/// Active slots sorted by a key, then by slot.
struct Sorted {
    slots: [u16; SORT_MAX],
    len: usize,
}

impl Sorted {
    fn as_slice(&self) -> &[u16] {
        self.slots.get(..self.len).unwrap_or(&[])
    }
}

/// Positions in a [`Sorted`] array (the first label of each uuid's run) whose uuid already
/// made a namespace.
struct RunSet([u64; SORT_MAX / 64]);

impl RunSet {
    fn get(&self, pos: u32) -> bool {
        let word = usize::try_from(pos / 64).ok().and_then(|w| self.0.get(w));
        word.is_some_and(|w| w & (1u64 << (pos % 64)) != 0)
    }

    fn set(&mut self, pos: u32) {
        if let Some(w) = usize::try_from(pos / 64)
            .ok()
            .and_then(|w| self.0.get_mut(w))
        {
            *w |= 1u64 << (pos % 64);
        }
    }
}

/// Heap sort of `v` by `key` (no allocation, no panic path).
fn heapsort<K: Ord>(v: &mut [u16], key: impl Fn(u16) -> K) {
    let less = |v: &[u16], i: usize, j: usize| match (v.get(i), v.get(j)) {
        (Some(&a), Some(&b)) => key(a) < key(b),
        _ => false,
    };
    let swap = |v: &mut [u16], i: usize, j: usize| {
        if let (Some(&a), Some(&b)) = (v.get(i), v.get(j)) {
            if let Some(x) = v.get_mut(i) {
                *x = b;
            }
            if let Some(x) = v.get_mut(j) {
                *x = a;
            }
        }
    };
    let sift = |v: &mut [u16], mut root: usize, end: usize| loop {
        let Some(child) = root.checked_mul(2).and_then(|c| c.checked_add(1)) else {
            return;
        };
        if child >= end {
            return;
        }
        let right = child.saturating_add(1);
        let big = if right < end && less(v, child, right) {
            right
        } else {
            child
        };
        if !less(v, root, big) {
            return;
        }
        swap(v, root, big);
        root = big;
    };
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift(v, i, n);
    }
    for end in (1..n).rev() {
        swap(v, 0, end);
        sift(v, 0, end);
    }
}

/// The labels of one uuid, in slot order: from the sorted array, or by a scan of the area.
struct UuidRun<'s, 'a> {
    area: LabelArea<'a>,
    memo: &'s Active,
    sorted: Option<&'s Sorted>,
    uuid: Uuid,
    pos: u32,
}

impl Iterator for UuidRun<'_, '_> {
    type Item = Label;

    fn next(&mut self) -> Option<Label> {
        if let Some(sorted) = self.sorted {
            let slot = *sorted.as_slice().get(usize::try_from(self.pos).ok()?)?;
            if self.area.raw_uuid(u32::from(slot))? != self.uuid {
                return None;
            }
            self.pos = self.pos.saturating_add(1);
            return Label::read(self.area.slot_bytes(u32::from(slot))?, self.area.version()).ok();
        }
        for slot in self.area.used_slots(self.pos) {
            self.pos = slot.saturating_add(1);
            if self.area.raw_uuid(slot) != Some(self.uuid) {
                continue;
            }
            if let Some(l) = self.area.active_label(self.memo, slot) {
                return Some(l);
            }
        }
        self.pos = self.area.current_info().nslot;
        None
    }
}

impl<'a> LabelArea<'a> {
    /// The uuid bytes stored in `slot` (no check).
    fn raw_uuid(&self, slot: u32) -> Option<Uuid> {
        let bytes = self.slot_bytes(slot)?.get(..16)?;
        Some(Uuid(<[u8; 16]>::try_from(bytes).ok()?))
    }

    /// `[dpa, dpa + rawsize - 1]` stored in `slot`, `None` inside when the kernel's
    /// `__request_region` refuses it (inclusive end below the start), `None` outside when the
    /// slot is not readable.
    fn raw_span(&self, slot: u32) -> Option<Option<(u64, u64)>> {
        let b = self.slot_bytes(slot)?;
        let word = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(
                b.get(at..at.checked_add(8)?)?.try_into().ok()?,
            ))
        };
        let dpa = word(crate::label::raw::label_offset::DPA)?;
        let rawsize = word(crate::label::raw::label_offset::RAWSIZE)?;
        let end = dpa.wrapping_add(rawsize).wrapping_sub(1);
        Some((end >= dpa).then_some((dpa, end)))
    }

    /// The label in `slot` if it is active.
    fn active_label(&self, memo: &Active, slot: u32) -> Option<Label> {
        if slot < memo.covered {
            if !memo.get(slot) {
                return None;
            }
            Label::read(self.slot_bytes(slot)?, self.version()).ok()
        } else if self.is_free(slot) {
            None
        } else {
            self.read_slot(slot).ok()
        }
    }

    /// The active slots sorted by `key` then slot, when they all fit.
    /// Fills `buf` with the active slots sorted by `key` then slot; `false` when they do not
    /// all fit (then `buf` is not sorted and must not be used).
    fn sort_into<K: Ord>(&self, memo: &Active, buf: &mut Sorted, key: impl Fn(u32) -> K) -> bool {
        buf.len = 0;
        if self.current_info().nslot > memo.covered {
            return false;
        }
        for slot in self.active_slots(memo) {
            let (Some(dst), Ok(value)) = (buf.slots.get_mut(buf.len), u16::try_from(slot)) else {
                return false;
            };
            *dst = value;
            buf.len = buf.len.saturating_add(1);
        }
        let Some(v) = buf.slots.get_mut(..buf.len) else {
            return false;
        };
        heapsort(v, |s| (key(u32::from(s)), s));
        true
    }

    fn uuid_run<'s>(
        &self,
        memo: &'s Active,
        sorted: Option<&'s Sorted>,
        uuid: Uuid,
    ) -> UuidRun<'s, 'a> {
        let pos = sorted.map_or(0, |s| {
            // First position whose uuid is not below `uuid` (binary search).
            let v = s.as_slice();
            let (mut lo, mut hi) = (0usize, v.len());
            while lo < hi {
                let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
                let below = v
                    .get(mid)
                    .and_then(|&slot| self.raw_uuid(u32::from(slot)))
                    .is_some_and(|u| u < uuid);
                if below {
                    lo = mid.saturating_add(1);
                } else {
                    hi = mid;
                }
            }
            u32::try_from(lo).unwrap_or(u32::MAX)
        });
        UuidRun {
            area: *self,
            memo,
            sorted,
            uuid,
            pos,
        }
    }

    /// `has_uuid_at_pos` for a region of one DIMM and position 0.
    fn has_uuid_at_pos0(
        &self,
        memo: &Active,
        sorted: Option<&Sorted>,
        region: &Region,
        uuid: Uuid,
        cookie: Option<u64>,
    ) -> bool {
        let mut found_uuid = false;
        for l in self.uuid_run(memo, sorted, uuid) {
            if !cookie_matches(cookie, &l) || !type_matches(region, &l) {
                continue;
            }
            if found_uuid {
                return false;
            }
            found_uuid = true;
            if l.nlabel != 1 || l.position != 0 {
                continue;
            }
            return true;
        }
        false
    }

    /// `nd_label_reserve_dpa`: every active label's range is requested with
    /// `__request_region(start = dpa, n = rawsize)`, whose inclusive end `dpa + rawsize - 1`
    /// is computed in u64 and refused when it is below the start (an empty range at a
    /// non-zero `dpa`, or a wrapping one); a busy overlap with an earlier label is refused too.
    /// Either fails the DIMM, at the first label in slot order that is refused.
    ///
    /// With the labels sorted by start, a sweep finds whether anything is refused; only then
    /// are pairs compared to name the label the kernel stops at.
    fn dpa_conflict(&self, memo: &Active, buf: &mut Sorted) -> Option<u32> {
        let start_of = |slot: u32| self.raw_span(slot).flatten().map_or(0, |(s, _)| s);
        if self.sort_into(memo, buf, start_of) {
            let sorted = &*buf;
            let mut max_end: Option<u64> = None;
            let mut trouble = false;
            for &slot in sorted.as_slice() {
                match self.raw_span(u32::from(slot)).flatten() {
                    None => trouble = true,
                    Some((start, end)) => {
                        if max_end.is_some_and(|m| start <= m) {
                            trouble = true;
                        }
                        max_end = Some(max_end.map_or(end, |m| m.max(end)));
                    }
                }
                if trouble {
                    break;
                }
            }
            if !trouble {
                return None;
            }
        }
        for (i, a) in self.active_slots(memo).enumerate() {
            let Some((a_start, a_end)) = self.raw_span(a).flatten() else {
                return Some(a);
            };
            let overlaps = self.active_slots(memo).take(i).any(|b| {
                self.raw_span(b)
                    .flatten()
                    .is_some_and(|(b_start, b_end)| a_start <= b_end && b_start <= a_end)
            });
            if overlaps {
                return Some(a);
            }
        }
        None
    }

    /// The namespaces the kernel creates from this area for `region`, written to `out` in
    /// slot order, as `scan_labels` and `create_namespace_pmem` decide them; or, in
    /// [`Scan::failure`], why it creates none.
    ///
    /// Cost: one pass over the in-use slots checks each label once (checksums included); the
    /// kernel's pairwise rules (duplicate uuids, DPA overlaps) then compare the active labels'
    /// fields, and each label that makes a namespace takes one more pass.
    pub fn namespaces(&self, region: &Region, out: &mut [Namespace]) -> Scan {
        let mut findings = Findings {
            bad_index: [0u8, 1]
                .into_iter()
                .find_map(|p| self.index_status(p).err().map(|e| (p, e))),
            ..Findings::default()
        };
        let memo = self.memo(&mut findings);
        // One 2 KiB array serves both sorts: by DPA for the reservation check, then by uuid.
        let mut buf = Sorted {
            slots: [0; SORT_MAX],
            len: 0,
        };
        let dpa_conflict = self.dpa_conflict(&memo, &mut buf);
        let by_uuid = self
            .sort_into(&memo, &mut buf, |slot| self.raw_uuid(slot))
            .then_some(&buf);
        for (i, l) in self.active(&memo).enumerate() {
            if l.flags & NSLABEL_FLAG_UPDATING != 0 {
                findings.updating = findings.updating.saturating_add(1);
            }
            if l.nlabel != 1 || l.position != 0 {
                findings.interleaved = findings.interleaved.saturating_add(1);
            }
            if by_uuid.is_none() && self.active(&memo).take(i).any(|e| e.uuid == l.uuid) {
                findings.duplicate_uuid = findings.duplicate_uuid.saturating_add(1);
            }
        }
        if let Some(sorted) = by_uuid {
            // Labels sharing a uuid with an earlier one: all but the first of each run.
            let v = sorted.as_slice();
            for pair in v.windows(2) {
                if let [a, b] = pair {
                    if self.raw_uuid(u32::from(*a)) == self.raw_uuid(u32::from(*b)) {
                        findings.duplicate_uuid = findings.duplicate_uuid.saturating_add(1);
                    }
                }
            }
        }
        let mut scan = Scan {
            count: 0,
            failure: None,
            findings,
        };
        if let Some(slot) = dpa_conflict {
            scan.failure = Some(RegionFailure::DpaConflict { slot });
            return scan;
        }
        let fail = |mut scan: Scan, f: RegionFailure| {
            scan.count = 0;
            scan.failure = Some(f);
            scan
        };
        let mut made_runs = RunSet([0; SORT_MAX / 64]);
        for l in self.active(&memo) {
            if let Some((start, size)) = region.dpa_range {
                // scan_labels: map_end = start + size - 1, in the kernel's u64 arithmetic.
                let map_end = start.wrapping_add(size).wrapping_sub(1);
                if l.dpa < start || l.dpa > map_end {
                    scan.findings.outside_dimm = scan.findings.outside_dimm.saturating_add(1);
                    continue;
                }
            }
            // add_namespace_resource: a namespace of this uuid exists already. With the labels
            // sorted, the uuid's run remembers it; otherwise the output is searched.
            let run = self.uuid_run(&memo, by_uuid, l.uuid).pos;
            let exists = match &by_uuid {
                Some(_) => made_runs.get(run),
                None => out
                    .get(..scan.count)
                    .unwrap_or(&[])
                    .iter()
                    .any(|n| n.uuid == l.uuid),
            };
            if exists {
                return fail(scan, RegionFailure::ConflictingExtents { uuid: l.uuid });
            }
            if region.isetcookie == Some(0) {
                return fail(scan, RegionFailure::NoCookie);
            }
            if !cookie_matches(region.isetcookie, &l) && region.altcookie != Some(l.isetcookie) {
                scan.findings.cookie_mismatch = scan.findings.cookie_mismatch.saturating_add(1);
                continue;
            }
            let sorted = by_uuid;
            let at_pos = self.has_uuid_at_pos0(&memo, sorted, region, l.uuid, region.isetcookie)
                || region
                    .altcookie
                    .is_some_and(|a| self.has_uuid_at_pos0(&memo, sorted, region, l.uuid, Some(a)));
            if !at_pos {
                return fail(scan, RegionFailure::MissingLabel { uuid: l.uuid });
            }
            // select_pmem_id: the first active label with the uuid, whatever its cookie.
            let Some(label0) = self.uuid_run(&memo, sorted, l.uuid).next() else {
                return fail(scan, RegionFailure::MissingLabel { uuid: l.uuid });
            };
            if let Some((hw_start, size)) = region.dpa_range {
                // select_pmem_id computes both ends in u64 and lets them wrap.
                let hw_end = hw_start.wrapping_add(size);
                let start = label0.dpa;
                let end = label0.dpa.wrapping_add(label0.rawsize);
                let inside = start >= hw_start && start < hw_end && end <= hw_end && end > hw_start;
                if !inside {
                    return fail(scan, RegionFailure::InvalidRange { uuid: l.uuid });
                }
            }
            if label0.position != 0 {
                return fail(scan, RegionFailure::NoPositionZero { uuid: l.uuid });
            }
            let Some(slot) = out.get_mut(scan.count) else {
                return fail(
                    scan,
                    RegionFailure::OutputFull {
                        capacity: out.len(),
                    },
                );
            };
            *slot = Namespace::from(&label0);
            scan.count = scan.count.saturating_add(1);
            made_runs.set(run);
        }
        scan
    }
}

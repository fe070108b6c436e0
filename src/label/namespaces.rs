//! What the kernel makes of the labels: the namespaces `scan_labels` and
//! `create_namespace_pmem` (`drivers/nvdimm/namespace_devs.c`) create for a region of one
//! DIMM, and what is unusual on the way.

use core::fmt;

use crate::label::index::{Label, LabelArea, LabelVersion, SlotError};
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
    type_matches_keys(region, label.type_guid)
}

/// [`type_matches`] of a label's type GUID (`None` for v1.1).
fn type_matches_keys(region: &Region, type_guid: Option<Guid>) -> bool {
    match (region.type_guid, type_guid) {
        (Some(want), Some(have)) => want == have,
        _ => true,
    }
}

/// Slots below this many have their `slot_valid` verdict computed once per scan (a 512-byte
/// bitmap on the stack); slots past it (areas over about 1 MiB) are checked at every visit.
/// Used only by the pairwise scan of areas with more than [`MAX_ACTIVE`] active labels.
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

/// Active labels the fast scan keeps track of: every label of a 128 KiB area (1020 v1.1
/// slots, 510 v1.2 slots) fits. An area with more active labels is scanned pairwise.
const MAX_ACTIVE: usize = 1024;
/// log2 of the uuid table's size.
const TABLE_BITS: u32 = 11;
/// Buckets of the uuid table: twice [`MAX_ACTIVE`], so that it is at most half full.
const TABLE_LEN: usize = 1 << TABLE_BITS;

// What the fast scan keeps about each active label (`Actives::bits`).
/// `nlabel == 1 && position == 0` (`nsl_validate_nlabel` and the position test of
/// `has_uuid_at_pos` for a region of one DIMM).
const POS0: u16 = 1 << 0;
/// The cookie test of `create_namespace_pmem`: the region's cookie or its alternate.
const COOKIE_OK: u16 = 1 << 1;
/// Taken by `has_uuid_at_pos(isetcookie)`: cookie and type GUID match.
const AT_COOKIE: u16 = 1 << 2;
/// Taken by `has_uuid_at_pos(altcookie)`: the alternate cookie and the type GUID match.
const AT_ALT: u16 = 1 << 3;
// Kept on the first active label of each uuid, for the whole uuid:
/// The first label `has_uuid_at_pos(isetcookie)` takes has been met...
const SEEN_COOKIE: u16 = 1 << 4;
/// ... and it has [`POS0`]: `has_uuid_at_pos(isetcookie)` is true.
const OK_COOKIE: u16 = 1 << 5;
/// Likewise for `has_uuid_at_pos(altcookie)`.
const SEEN_ALT: u16 = 1 << 6;
/// `has_uuid_at_pos(altcookie)` is true.
const OK_ALT: u16 = 1 << 7;

/// The active labels of an area, read and checked once each, in slot order, and a table of
/// their uuids (open addressing, linear probing) pointing at the first label of each uuid.
///
/// 12 KiB on the stack: 4 KiB of slots, 2 KiB of flags, 2 KiB of first labels, 4 KiB of
/// table.
struct Actives {
    /// Slot of each active label, in slot order.
    slots: [u32; MAX_ACTIVE],
    /// What is known of each (`POS0` ... `OK_ALT`).
    bits: [u16; MAX_ACTIVE],
    /// Index of the first active label with the same uuid.
    first: [u16; MAX_ACTIVE],
    len: usize,
    /// 0: empty; `i + 1`: the first active label of a uuid is `slots[i]`.
    table: [u16; TABLE_LEN],
}

/// The uuid stored in `bytes` (a slot).
fn uuid_of(bytes: &[u8]) -> Option<[u8; 16]> {
    <[u8; 16]>::try_from(bytes.get(..16)?).ok()
}

/// A little-endian u16 of a label at a fixed offset (0 past its end).
#[inline(always)]
fn le16<const L: usize>(b: &[u8; L], at: usize) -> u16 {
    b.get(at..at.saturating_add(2))
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_le_bytes)
}

/// A little-endian u32 of a label at a fixed offset (0 past its end).
#[inline(always)]
fn le32<const L: usize>(b: &[u8; L], at: usize) -> u32 {
    b.get(at..at.saturating_add(4))
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// A little-endian u64 of a label at a fixed offset (0 past its end).
#[inline(always)]
fn le64<const L: usize>(b: &[u8; L], at: usize) -> u64 {
    b.get(at..at.saturating_add(8))
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// Sixteen bytes of a label at a fixed offset (zeros past its end).
#[inline(always)]
fn bytes16<const L: usize>(b: &[u8; L], at: usize) -> [u8; 16] {
    b.get(at..at.saturating_add(16))
        .and_then(|s| s.try_into().ok())
        .unwrap_or([0; 16])
}

/// A little-endian u64 of `bytes` at `at`.
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// A multiplicative hash of both halves of a uuid.
fn uuid_hash(uuid: &[u8; 16]) -> u64 {
    let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = *uuid;
    let lo = u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]);
    let hi = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
    uuid_hash_words([lo, hi])
}

/// [`uuid_hash`] of a uuid read as two little-endian words.
#[inline(always)]
fn uuid_hash_words([lo, hi]: [u64; 2]) -> u64 {
    (lo ^ hi.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The bucket of a uuid table a hash starts probing at (its top bits).
fn bucket_of(h: u64) -> usize {
    usize::try_from(h >> (64 - TABLE_BITS)).unwrap_or(0)
}

/// The bucket a uuid starts probing at. The tables are never more than half full, so
/// probes are short for any uuids but deliberately colliding ones, where they are bounded
/// by the table's length.
fn bucket(uuid: &[u8; 16]) -> usize {
    bucket_of(uuid_hash(uuid))
}

impl Actives {
    fn slot(&self, i: usize) -> Option<u32> {
        self.slots.get(..self.len)?.get(i).copied()
    }

    fn bits(&self, i: usize) -> u16 {
        self.bits.get(i).copied().unwrap_or(0)
    }

    fn set(&mut self, i: usize, bits: u16) {
        if let Some(b) = self.bits.get_mut(i) {
            *b |= bits;
        }
    }

    /// Looks `uuid` up: `Ok(i)` when the first active label with it is `slots[i]`,
    /// `Err(b)` when it is absent and bucket `b` is where it goes. Bounded by the table's
    /// length; `None` only if the table were full (it is at most half full).
    /// Always inlined: called once per label in the first pass (a call measured 5 % of the
    /// scan of a full area).
    #[inline(always)]
    fn probe(&self, area: &LabelArea<'_>, uuid: &[u8; 16]) -> Option<Result<usize, usize>> {
        let mut b = bucket(uuid);
        for _ in 0..TABLE_LEN {
            let Some(first) = usize::from(*self.table.get(b)?).checked_sub(1) else {
                return Some(Err(b));
            };
            let slot = self.slots.get(first).copied()?;
            if area.slot_bytes(slot).and_then(uuid_of).as_ref() == Some(uuid) {
                return Some(Ok(first));
            }
            b = b.wrapping_add(1) & (TABLE_LEN - 1);
        }
        None
    }
}

/// The fields of an active label the first pass of the scan decides on, read in place.
struct Keys {
    uuid: [u8; 16],
    flags: u32,
    nlabel: u16,
    position: u16,
    isetcookie: u64,
    dpa: u64,
    rawsize: u64,
    type_guid: Option<Guid>,
}

impl LabelArea<'_> {
    /// [`LabelArea::read_slot`]'s verdict (`slot_valid`: the stored slot, then a v1.2 label's
    /// checksum), with only the fields the scan needs read from the slot's bytes.
    fn slot_keys(&self, slot: u32) -> Result<Keys, SlotError> {
        use crate::label::raw::label_offset as at;
        let b = self.slot_bytes(slot).ok_or(SlotError::OutsideArea)?;
        let u16_at = |o: usize| -> Option<u16> {
            Some(u16::from_le_bytes(
                b.get(o..o.checked_add(2)?)?.try_into().ok()?,
            ))
        };
        let u32_at = |o: usize| -> Option<u32> {
            Some(u32::from_le_bytes(
                b.get(o..o.checked_add(4)?)?.try_into().ok()?,
            ))
        };
        let stored = u32_at(at::SLOT).ok_or(SlotError::OutsideArea)?;
        if stored != slot {
            return Err(SlotError::Slot { stored });
        }
        let type_guid = match self.version() {
            LabelVersion::V1_1 => None,
            LabelVersion::V1_2 => {
                let stored = u64_at(b, at::CHECKSUM).ok_or(SlotError::OutsideArea)?;
                let computed = crate::checksum::nd_fletcher64_zeroed(b, at::CHECKSUM)
                    .ok_or(SlotError::OutsideArea)?;
                if stored != computed {
                    return Err(SlotError::Checksum { stored, computed });
                }
                let guid = b.get(at::TYPE_GUID..at::ABSTRACTION_GUID);
                Some(Guid(
                    guid.and_then(|g| g.try_into().ok())
                        .ok_or(SlotError::OutsideArea)?,
                ))
            }
        };
        let keys = (|| {
            Some(Keys {
                uuid: uuid_of(b)?,
                flags: u32_at(at::FLAGS)?,
                nlabel: u16_at(at::NLABEL)?,
                position: u16_at(at::POSITION)?,
                isetcookie: u64_at(b, at::ISETCOOKIE)?,
                dpa: u64_at(b, at::DPA)?,
                rawsize: u64_at(b, at::RAWSIZE)?,
                type_guid,
            })
        })();
        keys.ok_or(SlotError::OutsideArea)
    }
}

impl LabelArea<'_> {
    /// Writes the namespace the label in `bytes` (a slot) describes into `dst`, read in
    /// place and field by field (what [`Namespace::from`] takes of [`Label::read`]).
    fn fill_namespace(&self, bytes: &[u8], dst: &mut Namespace) -> Option<()> {
        use crate::label::raw::{NdNamespaceLabel, NdNamespaceLabelV11};
        use zerocopy::FromBytes;
        match self.version() {
            LabelVersion::V1_1 => {
                let (l, _) = NdNamespaceLabelV11::ref_from_prefix(bytes).ok()?;
                dst.uuid = l.uuid;
                dst.name = l.name;
                dst.dpa = l.dpa.get();
                dst.rawsize = l.rawsize.get();
                dst.lbasize = l.lbasize.get();
                dst.claim_class = ClaimClass::None;
                dst.slot = l.slot.get();
                dst.flags = l.flags.get();
            }
            LabelVersion::V1_2 => {
                let (l, _) = NdNamespaceLabel::ref_from_prefix(bytes).ok()?;
                dst.uuid = l.uuid;
                dst.name = l.name;
                dst.dpa = l.dpa.get();
                dst.rawsize = l.rawsize.get();
                dst.lbasize = l.lbasize.get();
                dst.claim_class = ClaimClass::from_guid(l.abstraction_guid);
                dst.slot = l.slot.get();
                dst.flags = l.flags.get();
            }
        }
        Some(())
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
    fn active_slots<'m>(&self, memo: &'m Active) -> impl Iterator<Item = u32> + Clone + 'm
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

/// The labels of one uuid, in slot order, by a scan of the area (pairwise scan).
struct UuidRun<'s, 'a> {
    area: LabelArea<'a>,
    memo: &'s Active,
    uuid: Uuid,
    pos: u32,
}

impl Iterator for UuidRun<'_, '_> {
    type Item = Label;

    fn next(&mut self) -> Option<Label> {
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

/// `__request_region(start = dpa, n = rawsize)` of `nd_label_reserve_dpa`: the inclusive
/// range `[dpa, dpa + rawsize - 1]`, whose end is computed in u64 (wrapping as in the
/// kernel), or `None` when the end is below the start (an empty range at a non-zero `dpa`,
/// or a wrapping one) and the request is refused.
fn request_span(dpa: u64, rawsize: u64) -> Option<(u64, u64)> {
    let end = dpa.wrapping_add(rawsize).wrapping_sub(1);
    (end >= dpa).then_some((dpa, end))
}

/// The indices `0..n` into `starts` in ascending order of their start (stable): an LSD radix
/// sort, a byte at a time, of the indices (`order`, with `spare` as the other buffer),
/// skipping the bytes in which all starts agree. Returns the sorted indices.
fn radix_order<'o>(
    starts: &[u64],
    order: &'o mut [u16; MAX_ACTIVE],
    spare: &'o mut [u16; MAX_ACTIVE],
) -> &'o [u16] {
    let n = starts.len().min(MAX_ACTIVE);
    for (i, o) in (0u16..).zip(order.iter_mut().take(n)) {
        *o = i;
    }
    let first = starts.first().copied().unwrap_or(0);
    let differ = starts.iter().fold(0u64, |d, &s| d | (s ^ first));
    let digit =
        |start: u64, byte: usize| usize::from(start.to_le_bytes().get(byte).copied().unwrap_or(0));
    let (mut src, mut dst) = (order, spare);
    for (byte, &varies) in differ.to_le_bytes().iter().enumerate() {
        if varies == 0 {
            continue;
        }
        let start_of = |i: u16| starts.get(usize::from(i)).copied().unwrap_or(0);
        // Where each digit's run begins in `dst`.
        let mut at = [0u16; 257];
        for &i in src.iter().take(n) {
            if let Some(c) = at.get_mut(digit(start_of(i), byte).saturating_add(1)) {
                *c = c.saturating_add(1);
            }
        }
        let mut sum = 0u16;
        for c in &mut at {
            sum = sum.saturating_add(*c);
            *c = sum;
        }
        for &i in src.iter().take(n) {
            if let Some(c) = at.get_mut(digit(start_of(i), byte)) {
                if let Some(d) = dst.get_mut(usize::from(*c)) {
                    *d = i;
                }
                *c = c.saturating_add(1);
            }
        }
        core::mem::swap(&mut src, &mut dst);
    }
    src.get(..n).unwrap_or(&[])
}

impl<'a> LabelArea<'a> {
    /// The uuid bytes stored in `slot` (no check).
    fn raw_uuid(&self, slot: u32) -> Option<Uuid> {
        Some(Uuid(uuid_of(self.slot_bytes(slot)?)?))
    }

    /// [`request_span`] of the label in `slot`, `None` outside when the slot is not
    /// readable.
    fn raw_span(&self, slot: u32) -> Option<Option<(u64, u64)>> {
        let b = self.slot_bytes(slot)?;
        let dpa = u64_at(b, crate::label::raw::label_offset::DPA)?;
        let rawsize = u64_at(b, crate::label::raw::label_offset::RAWSIZE)?;
        Some(request_span(dpa, rawsize))
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

    fn uuid_run<'s>(&self, memo: &'s Active, uuid: Uuid) -> UuidRun<'s, 'a> {
        UuidRun {
            area: *self,
            memo,
            uuid,
            pos: 0,
        }
    }

    /// `has_uuid_at_pos` for a region of one DIMM and position 0: the first active label of
    /// `uuid` (in slot order) whose cookie and type match decides; a second one that matches
    /// ("duplicate entry for uuid") is only reached when the first is not at position 0.
    fn has_uuid_at_pos0(
        &self,
        memo: &Active,
        region: &Region,
        uuid: Uuid,
        cookie: Option<u64>,
    ) -> bool {
        let mut found_uuid = false;
        for l in self.uuid_run(memo, uuid) {
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

    /// `nd_label_reserve_dpa`, pairwise: every active label's range is requested in slot
    /// order ([`request_span`]), and a request is refused when its range is invalid or
    /// overlaps (busy) an earlier label's. Either fails the DIMM, at the first label in slot
    /// order that is refused. `slots` yields the active slots in slot order.
    fn first_refused(&self, slots: impl Iterator<Item = u32> + Clone) -> Option<u32> {
        for (i, a) in slots.clone().enumerate() {
            let Some((a_start, a_end)) = self.raw_span(a).flatten() else {
                return Some(a);
            };
            let overlaps = slots.clone().take(i).any(|b| {
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

    /// Whether any request of `nd_label_reserve_dpa` is refused, for active labels whose
    /// ranges are not in ascending order in slot order: the ranges' starts and ends in slot
    /// order, their indices sorted by start ([`radix_order`]), then swept. 20 KiB on the
    /// stack (only this function's frame); never inlined, so that the well-ordered case does
    /// not pay for the arrays.
    #[inline(never)]
    fn any_refused(&self, act: &Actives) -> bool {
        let mut starts = [0u64; MAX_ACTIVE];
        let mut ends = [0u64; MAX_ACTIVE];
        let mut n = 0usize;
        let slots = act.slots.get(..act.len).unwrap_or(&[]);
        for ((s, e), &slot) in starts.iter_mut().zip(ends.iter_mut()).zip(slots) {
            match self.raw_span(slot).flatten() {
                Some((start, end)) => (*s, *e) = (start, end),
                None => return true,
            }
            n = n.saturating_add(1);
        }
        let mut order = [0u16; MAX_ACTIVE];
        let mut spare = [0u16; MAX_ACTIVE];
        let starts = starts.get(..n).unwrap_or(&[]);
        let mut max_end: Option<u64> = None;
        for &i in radix_order(starts, &mut order, &mut spare) {
            let i = usize::from(i);
            let (Some(&start), Some(&end)) = (starts.get(i), ends.get(i)) else {
                return true;
            };
            if max_end.is_some_and(|m| start <= m) {
                return true;
            }
            max_end = Some(max_end.map_or(end, |m| m.max(end)));
        }
        false
    }

    /// The namespaces the kernel creates from this area for `region`, written to `out` in
    /// slot order, as `scan_labels` and `create_namespace_pmem` decide them; or, in
    /// [`Scan::failure`], why it creates none.
    ///
    /// Cost: an area whose active labels each name their own uuid, at position 0, with DPA
    /// ranges ascending in slot order (what `add` and the kernel write) is decided in one
    /// pass: each in-use label read and checked once and its namespace written out (a uuid
    /// table of 4 or 8 KiB on the stack finds repeated uuids). Any other area is scanned by
    /// the general rules, from the start: one pass over the in-use slots reads and checks
    /// each label once (checksums included) and groups the labels by uuid in a hash table; a
    /// second pass over the active labels decides each one, reading only its uuid (and `dpa`
    /// when the region's range is known), and the whole label of each namespace created. The DPA ranges are checked
    /// in the first pass when they ascend in slot order (as `add` and the kernel lay them
    /// out), otherwise sorted. Only when a DPA request is refused are pairs of labels
    /// compared, to name the label the kernel stops at. Stack: about 14 KiB (12 KiB of
    /// tables, x86_64 release build), and 20 KiB more while the ranges are sorted. Areas with
    /// more than 1024 active labels (over 128 KiB) are scanned pairwise instead (quadratic in
    /// the active labels, same answers).
    pub fn namespaces(&self, region: &Region, out: &mut [Namespace]) -> Scan {
        let findings = Findings {
            bad_index: [0u8, 1]
                .into_iter()
                .find_map(|p| self.index_status(p).err().map(|e| (p, e))),
            ..Findings::default()
        };
        // The common case in one pass; anything it does not decide alone goes to the
        // general scan below, from the start.
        if let Some(scan) = self.single_pass(region, findings, out) {
            return scan;
        }
        let mut act = Actives {
            slots: [0; MAX_ACTIVE],
            bits: [0; MAX_ACTIVE],
            first: [0; MAX_ACTIVE],
            len: 0,
            table: [0; TABLE_LEN],
        };
        match self.gather(region, findings, &mut act) {
            Some((findings, ordered)) => self.decide(region, findings, &act, ordered, out),
            None => self.namespaces_pairwise(region, findings, out),
        }
    }

    /// [`LabelArea::namespaces`] in one pass for an area whose active labels each make a
    /// namespace or are skipped on their own: every uuid once, every label at position 0 of
    /// one (`nlabel == 1`), the DPA ranges ascending in slot order, and no label that fails the
    /// region (a cookie 0, a type GUID or range `create_namespace_pmem` refuses, a full
    /// output). The kernel's rules then reduce to per-label tests: labels outside the DIMM or
    /// of another cookie are skipped, every other one is a namespace. `None` as soon as
    /// something else is met (the general scan then decides from the start).
    fn single_pass(
        &self,
        region: &Region,
        findings: Findings,
        out: &mut [Namespace],
    ) -> Option<Scan> {
        if region.isetcookie == Some(0) {
            return None;
        }
        match self.version() {
            // Tables of twice the labels of a 128 KiB area (1020 or 510 slots).
            LabelVersion::V1_1 => self.single_pass_sized::<128, 2048>(region, findings, out),
            LabelVersion::V1_2 => self.single_pass_sized::<256, 1024>(region, findings, out),
        }
    }

    /// [`LabelArea::single_pass`] for labels of `L` bytes, with a uuid table of `T` buckets
    /// (a power of two; at most `T / 2` labels, more go to the general scan): the free
    /// bitmap read 64 slots at a time, each in-use label taken as a `[u8; L]` so that its
    /// fields are read at fixed offsets.
    fn single_pass_sized<const L: usize, const T: usize>(
        &self,
        region: &Region,
        mut findings: Findings,
        out: &mut [Namespace],
    ) -> Option<Scan> {
        use crate::label::raw::label_offset as at;
        let nslot = self.current_info().nslot;
        let index = self.index_bytes(self.current());
        let free = index.get(crate::label::raw::index_offset::FREE..)?;
        let labeloff = usize::try_from(self.geometry().labeloff()).ok()?;
        let labels = self.bytes().get(labeloff..).unwrap_or(&[]);
        // Uuid table: `(slot + 1) | tag << 16` for the label of each uuid met, with 16 more
        // bits of its hash as the tag so that most probes compare no uuid bytes. At most
        // T / 2 entries: never more than half full.
        let mut table = [0u32; T];
        // What depends only on the region, decided once: `None` in `isetcookie` accepts every
        // cookie, as does a `type_guid` of `None`.
        let any_cookie = region.isetcookie.is_none();
        let cookie = region.isetcookie.unwrap_or(0);
        let check_type = region.type_guid.is_some() && L >= 256;
        let mut n: usize = 0;
        let mut count: usize = 0;
        let mut prev_end: Option<u64> = None;
        for (word, base) in free.chunks(8).zip((0u32..).step_by(64)) {
            if base >= nslot {
                break;
            }
            // In use: bit clear. Bytes past the bitmap and slots from nslot on read as free.
            let bytes = <[u8; 8]>::try_from(word).unwrap_or_else(|_| {
                let mut bytes = [0xffu8; 8];
                for (d, s) in bytes.iter_mut().zip(word) {
                    *d = *s;
                }
                bytes
            });
            let mut used = !u64::from_le_bytes(bytes);
            if let Some(valid) = 1u64.checked_shl(nslot.saturating_sub(base)) {
                used &= valid.wrapping_sub(1);
            }
            while used != 0 {
                let slot = base.saturating_add(used.trailing_zeros());
                used &= used.wrapping_sub(1);
                let b: Option<&[u8; L]> = usize::try_from(slot)
                    .ok()
                    .and_then(|s| s.checked_mul(L))
                    .and_then(|o| labels.get(o..o.checked_add(L)?))
                    .and_then(|b| b.try_into().ok());
                // slot_valid: the label names its slot, and a v1.2 label's sum matches.
                let Some(b) = b.filter(|b| le32(b, at::SLOT) == slot) else {
                    findings.slot_mismatch = findings.slot_mismatch.saturating_add(1);
                    continue;
                };
                let type_guid = if L >= 256 {
                    if !crate::checksum::nd_fletcher64_field_matches(b, at::CHECKSUM)? {
                        findings.bad_checksum = findings.bad_checksum.saturating_add(1);
                        continue;
                    }
                    Some(Guid(bytes16(b, at::TYPE_GUID)))
                } else {
                    None
                };
                // The uuid as two words (no copy through the stack).
                let uuid = [le64(b, at::UUID), le64(b, at::UUID.saturating_add(8))];
                // A second label of a uuid: the per-uuid rules decide.
                let h = uuid_hash_words(uuid);
                let tag = u32::try_from(h >> 16 & 0xffff).unwrap_or(0);
                let mask = T.wrapping_sub(1);
                let mut k = usize::try_from(h >> 32).unwrap_or(0) & mask;
                let mut empty = None;
                for _ in 0..T {
                    let e = *table.get(k)?;
                    if e == 0 {
                        empty = Some(k);
                        break;
                    }
                    if e >> 16 == tag {
                        let other = usize::try_from(e & 0xffff).ok()?.checked_sub(1)?;
                        let other = other.checked_mul(L)?;
                        let other = labels.get(other..other.checked_add(16)?)?;
                        if [u64_at(other, 0), u64_at(other, 8)] == [Some(uuid[0]), Some(uuid[1])] {
                            return None;
                        }
                    }
                    k = k.wrapping_add(1) & mask;
                }
                // Slots past 16 bits (areas of 8 MiB and more) go to the general scan.
                let entry = slot.checked_add(1).filter(|&e| e <= 0xffff)?;
                *table.get_mut(empty?)? = entry | tag << 16;
                n = n.checked_add(1).filter(|&n| n <= T / 2)?;
                if le32(b, at::FLAGS) & NSLABEL_FLAG_UPDATING != 0 {
                    findings.updating = findings.updating.saturating_add(1);
                }
                if le16(b, at::NLABEL) != 1 || le16(b, at::POSITION) != 0 {
                    return None;
                }
                let (dpa, rawsize) = (le64(b, at::DPA), le64(b, at::RAWSIZE));
                // nd_label_reserve_dpa: ranges ascending in slot order cannot overlap.
                match request_span(dpa, rawsize) {
                    Some((start, end)) if prev_end.map_or(true, |p| start > p) => {
                        prev_end = Some(end);
                    }
                    _ => return None,
                }
                if let Some((start, size)) = region.dpa_range {
                    // scan_labels: map_end = start + size - 1, in the kernel's u64 arithmetic.
                    let map_end = start.wrapping_add(size).wrapping_sub(1);
                    if dpa < start || dpa > map_end {
                        findings.outside_dimm = findings.outside_dimm.saturating_add(1);
                        continue;
                    }
                }
                let isetcookie = le64(b, at::ISETCOOKIE);
                if isetcookie != cookie && !any_cookie && region.altcookie != Some(isetcookie) {
                    findings.cookie_mismatch = findings.cookie_mismatch.saturating_add(1);
                    continue;
                }
                // has_uuid_at_pos with either cookie: this label alone, at position 0; it
                // fails (missing label) when the type GUID does not match.
                if check_type && !type_matches_keys(region, type_guid) {
                    return None;
                }
                if let Some((hw_start, size)) = region.dpa_range {
                    // select_pmem_id computes both ends in u64 and lets them wrap.
                    let hw_end = hw_start.wrapping_add(size);
                    let end = dpa.wrapping_add(rawsize);
                    let inside = dpa >= hw_start && dpa < hw_end && end <= hw_end && end > hw_start;
                    if !inside {
                        return None;
                    }
                }
                let dst = out.get_mut(count)?;
                self.fill_namespace(b, dst)?;
                count = count.checked_add(1)?;
            }
        }
        Some(Scan {
            count,
            failure: None,
            findings,
        })
    }

    /// First pass of [`LabelArea::namespaces`]: every in-use slot read once (`slot_valid`);
    /// the active labels entered in `act` with what the kernel's rules need of them; the
    /// findings counted. Also tells whether the DPA ranges ascend in slot order without
    /// overlap and none is refused (then `nd_label_reserve_dpa` succeeds). `None` when
    /// there are more than [`MAX_ACTIVE`] active labels.
    fn gather(
        &self,
        region: &Region,
        mut findings: Findings,
        act: &mut Actives,
    ) -> Option<(Findings, bool)> {
        let mut ordered = true;
        let mut prev_end: Option<u64> = None;
        for slot in self.used_slots(0) {
            let l = match self.slot_keys(slot) {
                Ok(l) => l,
                Err(SlotError::Checksum { .. }) => {
                    findings.bad_checksum = findings.bad_checksum.saturating_add(1);
                    continue;
                }
                Err(_) => {
                    findings.slot_mismatch = findings.slot_mismatch.saturating_add(1);
                    continue;
                }
            };
            let i = act.len;
            *act.slots.get_mut(i)? = slot;
            act.len = i.checked_add(1)?;
            if l.flags & NSLABEL_FLAG_UPDATING != 0 {
                findings.updating = findings.updating.saturating_add(1);
            }
            let mut bits = 0;
            if l.nlabel == 1 && l.position == 0 {
                bits |= POS0;
            } else {
                findings.interleaved = findings.interleaved.saturating_add(1);
            }
            let cookie = region.isetcookie.map_or(true, |c| c == l.isetcookie);
            if cookie || region.altcookie == Some(l.isetcookie) {
                bits |= COOKIE_OK;
            }
            // nsl_validate_type_guid: only v1.2 labels carry one.
            let typed = match (region.type_guid, l.type_guid) {
                (Some(want), Some(have)) => want == have,
                _ => true,
            };
            if typed && cookie {
                bits |= AT_COOKIE;
            }
            if typed && region.altcookie == Some(l.isetcookie) {
                bits |= AT_ALT;
            }
            act.set(i, bits);
            let first = match act.probe(self, &l.uuid)? {
                Ok(first) => {
                    findings.duplicate_uuid = findings.duplicate_uuid.saturating_add(1);
                    first
                }
                Err(b) => {
                    *act.table.get_mut(b)? = u16::try_from(i.checked_add(1)?).ok()?;
                    i
                }
            };
            *act.first.get_mut(i)? = u16::try_from(first).ok()?;
            // has_uuid_at_pos: the first label of the uuid that the cookie and type let
            // through decides.
            let group = act.bits(first);
            if bits & AT_COOKIE != 0 && group & SEEN_COOKIE == 0 {
                act.set(
                    first,
                    SEEN_COOKIE | if bits & POS0 != 0 { OK_COOKIE } else { 0 },
                );
            }
            if bits & AT_ALT != 0 && group & SEEN_ALT == 0 {
                act.set(first, SEEN_ALT | if bits & POS0 != 0 { OK_ALT } else { 0 });
            }
            // nd_label_reserve_dpa, when the ranges come in ascending order: each is valid
            // and starts after the end of the one before, so none overlaps any earlier one.
            match request_span(l.dpa, l.rawsize) {
                Some((start, end)) if prev_end.map_or(true, |p| start > p) => {
                    prev_end = Some(end);
                }
                _ => ordered = false,
            }
        }
        Some((findings, ordered))
    }

    /// Second pass of [`LabelArea::namespaces`] over the labels of `act`, in slot order:
    /// `scan_labels` and `create_namespace_pmem`.
    fn decide(
        &self,
        region: &Region,
        findings: Findings,
        act: &Actives,
        ordered: bool,
        out: &mut [Namespace],
    ) -> Scan {
        use crate::label::raw::label_offset as at;
        let mut scan = Scan {
            count: 0,
            failure: None,
            findings,
        };
        if !ordered && self.any_refused(act) {
            let slots = act.slots.get(..act.len).unwrap_or(&[]).iter().copied();
            if let Some(slot) = self.first_refused(slots) {
                scan.failure = Some(RegionFailure::DpaConflict { slot });
                return scan;
            }
        }
        let fail = |mut scan: Scan, f: RegionFailure| {
            scan.count = 0;
            scan.failure = Some(f);
            scan
        };
        // add_namespace_resource's search of the namespaces made: one bit per uuid, at the
        // index of its first label.
        let mut made = [0u64; MAX_ACTIVE / 64];
        for i in 0..act.len {
            let Some(bytes) = act.slot(i).and_then(|s| self.slot_bytes(s)) else {
                continue;
            };
            if let Some((start, size)) = region.dpa_range {
                let Some(dpa) = u64_at(bytes, at::DPA) else {
                    continue;
                };
                // scan_labels: map_end = start + size - 1, in the kernel's u64 arithmetic.
                let map_end = start.wrapping_add(size).wrapping_sub(1);
                if dpa < start || dpa > map_end {
                    scan.findings.outside_dimm = scan.findings.outside_dimm.saturating_add(1);
                    continue;
                }
            }
            let Some(uuid) = uuid_of(bytes).map(Uuid) else {
                continue;
            };
            // Every active label's uuid is in the table (entered by `gather`).
            let first = act.first.get(i).map_or(i, |&f| usize::from(f));
            let word = made.get(first / 64).copied().unwrap_or(0);
            let bit = 1u64 << (first % 64);
            // add_namespace_resource: a namespace of this uuid exists already.
            if word & bit != 0 {
                return fail(scan, RegionFailure::ConflictingExtents { uuid });
            }
            if region.isetcookie == Some(0) {
                return fail(scan, RegionFailure::NoCookie);
            }
            if act.bits(i) & COOKIE_OK == 0 {
                scan.findings.cookie_mismatch = scan.findings.cookie_mismatch.saturating_add(1);
                continue;
            }
            if act.bits(first) & (OK_COOKIE | OK_ALT) == 0 {
                return fail(scan, RegionFailure::MissingLabel { uuid });
            }
            // select_pmem_id: the first active label with the uuid, whatever its cookie.
            let label0 = if first == i {
                Some(bytes)
            } else {
                act.slot(first).and_then(|s| self.slot_bytes(s))
            };
            let Some((b0, dpa0, rawsize0, position)) = label0.and_then(|b| {
                let p = b.get(at::POSITION..at::ISETCOOKIE)?;
                let position = u16::from_le_bytes(p.try_into().ok()?);
                Some((b, u64_at(b, at::DPA)?, u64_at(b, at::RAWSIZE)?, position))
            }) else {
                return fail(scan, RegionFailure::MissingLabel { uuid });
            };
            if let Some((hw_start, size)) = region.dpa_range {
                // select_pmem_id computes both ends in u64 and lets them wrap.
                let hw_end = hw_start.wrapping_add(size);
                let start = dpa0;
                let end = dpa0.wrapping_add(rawsize0);
                let inside = start >= hw_start && start < hw_end && end <= hw_end && end > hw_start;
                if !inside {
                    return fail(scan, RegionFailure::InvalidRange { uuid });
                }
            }
            if position != 0 {
                return fail(scan, RegionFailure::NoPositionZero { uuid });
            }
            let Some(dst) = out.get_mut(scan.count) else {
                return fail(
                    scan,
                    RegionFailure::OutputFull {
                        capacity: out.len(),
                    },
                );
            };
            if self.fill_namespace(b0, dst).is_none() {
                return fail(scan, RegionFailure::MissingLabel { uuid });
            }
            scan.count = scan.count.saturating_add(1);
            if let Some(w) = made.get_mut(first / 64) {
                *w |= bit;
            }
        }
        scan
    }

    /// [`LabelArea::namespaces`] for areas with more than [`MAX_ACTIVE`] active labels: the
    /// kernel's rules followed literally, comparing pairs of labels (the `slot_valid`
    /// verdicts of slots below 4096 computed once).
    fn namespaces_pairwise(
        &self,
        region: &Region,
        mut findings: Findings,
        out: &mut [Namespace],
    ) -> Scan {
        let memo = self.memo(&mut findings);
        for (i, l) in self.active(&memo).enumerate() {
            if l.flags & NSLABEL_FLAG_UPDATING != 0 {
                findings.updating = findings.updating.saturating_add(1);
            }
            if l.nlabel != 1 || l.position != 0 {
                findings.interleaved = findings.interleaved.saturating_add(1);
            }
            if self.active(&memo).take(i).any(|e| e.uuid == l.uuid) {
                findings.duplicate_uuid = findings.duplicate_uuid.saturating_add(1);
            }
        }
        let mut scan = Scan {
            count: 0,
            failure: None,
            findings,
        };
        if let Some(slot) = self.first_refused(self.active_slots(&memo)) {
            scan.failure = Some(RegionFailure::DpaConflict { slot });
            return scan;
        }
        let fail = |mut scan: Scan, f: RegionFailure| {
            scan.count = 0;
            scan.failure = Some(f);
            scan
        };
        for l in self.active(&memo) {
            if let Some((start, size)) = region.dpa_range {
                // scan_labels: map_end = start + size - 1, in the kernel's u64 arithmetic.
                let map_end = start.wrapping_add(size).wrapping_sub(1);
                if l.dpa < start || l.dpa > map_end {
                    scan.findings.outside_dimm = scan.findings.outside_dimm.saturating_add(1);
                    continue;
                }
            }
            // add_namespace_resource: a namespace of this uuid exists already.
            let exists = out
                .get(..scan.count)
                .unwrap_or(&[])
                .iter()
                .any(|n| n.uuid == l.uuid);
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
            let at_pos = self.has_uuid_at_pos0(&memo, region, l.uuid, region.isetcookie)
                || region
                    .altcookie
                    .is_some_and(|a| self.has_uuid_at_pos0(&memo, region, l.uuid, Some(a)));
            if !at_pos {
                return fail(scan, RegionFailure::MissingLabel { uuid: l.uuid });
            }
            // select_pmem_id: the first active label with the uuid, whatever its cookie.
            let Some(label0) = self.uuid_run(&memo, l.uuid).next() else {
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
        }
        scan
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::as_conversions,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::{radix_order, MAX_ACTIVE};

    /// The order is a permutation of the indices, ascending by start, equal starts in index
    /// order: for random starts, few distinct starts, descending starts and starts near the
    /// top of the u64 range.
    #[test]
    fn radix_order_sorts_stably() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for n in [0usize, 1, 2, 17, 509, 1024] {
            for shape in 0..4 {
                let mut starts = [0u64; MAX_ACTIVE];
                for (i, s) in starts[..n].iter_mut().enumerate() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *s = match shape {
                        0 => x,
                        1 => (x % 8) << 21,
                        2 => ((n - i) as u64) << 24,
                        _ => u64::MAX - (x % 3),
                    };
                }
                let mut order = [0u16; MAX_ACTIVE];
                let mut spare = [0u16; MAX_ACTIVE];
                let got = radix_order(&starts[..n], &mut order, &mut spare);
                assert_eq!(got.len(), n);
                for w in got.windows(2) {
                    let (a, b) = (usize::from(w[0]), usize::from(w[1]));
                    assert!(starts[a] < starts[b] || (starts[a] == starts[b] && a < b));
                }
                let mut seen = [false; MAX_ACTIVE];
                for &i in got {
                    assert!(!seen[usize::from(i)]);
                    seen[usize::from(i)] = true;
                }
            }
        }
    }
}

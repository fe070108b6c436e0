//! Writing labels the way the kernel does (`init_labels`, `__pmem_label_update`,
//! `del_labels`, `nd_label_write_index` in `drivers/nvdimm/label.c`).
//!
//! Nothing is updated in place. A change writes a new label into a slot the current index
//! marks free, then writes the *other* index block with the next sequence number and the
//! new free bitmap. Until that index is complete it fails its checksum and readers keep the
//! old current index, which still marks the new label's slot free: a power cut at any byte
//! leaves the old state or the new one.
//!
//! Every function here returns a [`Plan`] first (nothing written): [`Plan::writes`] lists
//! every byte range, [`Plan::apply`] writes exactly those through [`WriteAt`], and
//! [`Plan::apply_in_place`] does it on an area held in memory.

use core::fmt;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromZeros, IntoBytes};

use crate::checksum::{nd_fletcher64, nd_fletcher64_zeroed};
use crate::io::WriteAt;
use crate::label::error::{ApplyError, UpdateError};
use crate::label::index::{fingerprint, nd_inc_seq, Geometry, Label, LabelArea, LabelVersion};
use crate::label::raw::{
    index_offset, label_offset, ClaimClass, Guid, NdNamespaceLabel, NdNamespaceLabelV11,
    NSINDEX_SIGNATURE, NSLABEL_FLAG_UPDATING, PMEM_TYPE_GUID,
};
use crate::uuid::Uuid;

/// Bytes of the index written per `write_at` call (index blocks are multiples of 256).
const CHUNK: usize = 256;
/// Bitmap bytes one plan may change.
const MAX_PATCHES: usize = 16;

/// A namespace label to write, as the kernel fills one in `__pmem_label_update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NewLabel {
    /// Namespace uuid.
    pub uuid: Uuid,
    /// Name, NUL-padded (at most 63 bytes of text, as sysfs `alt_name` allows).
    pub name: [u8; 64],
    /// Start on the DIMM.
    pub dpa: u64,
    /// Bytes on the DIMM (the namespace size on a one-DIMM region).
    pub rawsize: u64,
    /// Sector size of a BTT namespace, 0 otherwise.
    pub lbasize: u64,
    /// Claim class (written to v1.2 labels only).
    pub claim_class: ClaimClass,
    /// The region's interleave-set cookie.
    pub isetcookie: u64,
    /// The region's range type (v1.2 only); [`PMEM_TYPE_GUID`] for NFIT persistent memory.
    pub type_guid: Guid,
    /// Labels per namespace: the region's DIMM count (1).
    pub nlabel: u16,
    /// Position in the interleave set (0).
    pub position: u16,
}

impl NewLabel {
    /// A label for a namespace of `rawsize` bytes at `dpa` on a one-DIMM region, with no
    /// claim, no sector size and the NFIT persistent-memory type.
    ///
    /// # Errors
    /// [`UpdateError::NameTooLong`] for a name over 63 bytes or with a NUL.
    pub fn new(
        uuid: Uuid,
        name: &str,
        dpa: u64,
        rawsize: u64,
        isetcookie: u64,
    ) -> Result<Self, UpdateError> {
        let text = name.as_bytes();
        let too_long = UpdateError::NameTooLong { len: text.len() };
        if text.len() > 63 || text.contains(&0) {
            return Err(too_long);
        }
        let mut buf = [0u8; 64];
        buf.get_mut(..text.len())
            .ok_or(too_long)?
            .copy_from_slice(text);
        Ok(Self {
            uuid,
            name: buf,
            dpa,
            rawsize,
            lbasize: 0,
            claim_class: ClaimClass::None,
            isetcookie,
            type_guid: PMEM_TYPE_GUID,
            nlabel: 1,
            position: 0,
        })
    }

    /// The bytes of this label in `slot` with `flags`, as `__pmem_label_update` writes them
    /// (zeroed, fields set, v1.2 checksum last). Only the first `label_size` bytes count.
    #[must_use]
    pub fn to_bytes(&self, version: LabelVersion, slot: u32, flags: u32) -> [u8; 256] {
        let mut out = [0u8; 256];
        match version {
            LabelVersion::V1_1 => {
                let mut l = NdNamespaceLabelV11::new_zeroed();
                l.uuid = self.uuid;
                l.name = self.name;
                l.flags = U32::new(flags);
                l.nlabel = U16::new(self.nlabel);
                l.position = U16::new(self.position);
                l.isetcookie = U64::new(self.isetcookie);
                l.lbasize = U64::new(self.lbasize);
                l.dpa = U64::new(self.dpa);
                l.rawsize = U64::new(self.rawsize);
                l.slot = U32::new(slot);
                if let Some(dst) = out.get_mut(..128) {
                    dst.copy_from_slice(l.as_bytes());
                }
            }
            LabelVersion::V1_2 => {
                let mut l = NdNamespaceLabel::new_zeroed();
                l.uuid = self.uuid;
                l.name = self.name;
                l.flags = U32::new(flags);
                l.nlabel = U16::new(self.nlabel);
                l.position = U16::new(self.position);
                l.isetcookie = U64::new(self.isetcookie);
                l.lbasize = U64::new(self.lbasize);
                l.dpa = U64::new(self.dpa);
                l.rawsize = U64::new(self.rawsize);
                l.slot = U32::new(slot);
                l.type_guid = self.type_guid;
                l.abstraction_guid = self.claim_class.guid();
                let sum = nd_fletcher64_zeroed(l.as_bytes(), label_offset::CHECKSUM).unwrap_or(0);
                l.checksum = U64::new(sum);
                out.copy_from_slice(l.as_bytes());
            }
        }
        out
    }

    fn check_range(&self) -> Result<u64, UpdateError> {
        let bad = UpdateError::BadRange {
            dpa: self.dpa,
            rawsize: self.rawsize,
        };
        if self.rawsize == 0 {
            return Err(bad);
        }
        self.dpa.checked_add(self.rawsize).ok_or(bad)
    }
}

/// How `init` fills the bits of the last bitmap word past `nslot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum InitStyle {
    /// The kernel's `init_labels` (`nd_label_write_index` with `ND_NSINDEX_INIT`): bits
    /// past `nslot` cleared.
    #[default]
    Kernel,
    /// ndctl's `init-labels` (`write_label_index` in ndctl/lib/dimm.c): `0xff` up to the next
    /// multiple of 64 slots, bits past `nslot` left set.
    Ndctl,
}

/// What one write of a plan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteKind {
    /// A label into `slot`.
    Label {
        /// The slot.
        slot: u32,
    },
    /// Index block `position` (0 or 1) with sequence number `seq`.
    Index {
        /// 0 or 1.
        position: u8,
        /// The new `seq`.
        seq: u32,
    },
}

/// One byte range a plan writes, in the order it writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Write {
    /// Offset in the area.
    pub offset: u64,
    /// Bytes.
    pub len: u64,
    /// What is written there.
    pub what: WriteKind,
}

impl fmt::Display for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.offset.saturating_add(self.len);
        match self.what {
            WriteKind::Label { slot } => {
                write!(f, "{:#07x}..{end:#07x} label slot {slot}", self.offset)
            }
            WriteKind::Index { position, seq } => write!(
                f,
                "{:#07x}..{end:#07x} index {position} (seq {seq})",
                self.offset
            ),
        }
    }
}

/// Changed bytes of a free bitmap (byte offset in the index block, new value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Patches {
    at: [u32; MAX_PATCHES],
    value: [u8; MAX_PATCHES],
    len: usize,
}

impl Patches {
    const NONE: Self = Self {
        at: [0; MAX_PATCHES],
        value: [0; MAX_PATCHES],
        len: 0,
    };

    fn get(&self, at: u32) -> Option<u8> {
        self.at
            .iter()
            .zip(self.value.iter())
            .take(self.len)
            .find(|(a, _)| **a == at)
            .map(|(_, v)| *v)
    }

    fn set(&mut self, at: u32, value: u8) -> Result<(), UpdateError> {
        let n = self.len.min(MAX_PATCHES);
        if let Some(i) = self
            .at
            .get(..n)
            .and_then(|a| a.iter().position(|x| *x == at))
        {
            if let Some(v) = self.value.get_mut(i) {
                *v = value;
            }
            return Ok(());
        }
        let (Some(a), Some(v)) = (self.at.get_mut(n), self.value.get_mut(n)) else {
            return Err(UpdateError::TooManyChanges);
        };
        *a = at;
        *v = value;
        self.len = n.saturating_add(1);
        Ok(())
    }
}

/// Where the bytes after an index header come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Body {
    /// A fresh bitmap: the first `set_bits` bits set, everything else zero.
    Init { set_bits: u32 },
    /// The index block at `source` in the area the plan was made from, with patches.
    Copy { source: u64, patches: Patches },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Step {
    Label {
        slot: u32,
        offset: u64,
        bytes: [u8; 256],
        len: usize,
    },
    Index {
        position: u8,
        seq: u32,
        offset: u64,
        size: u32,
        header: [u8; 72],
        body: Body,
    },
}

impl Step {
    fn write(&self) -> Write {
        match *self {
            Self::Label {
                slot, offset, len, ..
            } => Write {
                offset,
                len: u64::try_from(len).unwrap_or(u64::MAX),
                what: WriteKind::Label { slot },
            },
            Self::Index {
                position,
                seq,
                offset,
                size,
                ..
            } => Write {
                offset,
                len: u64::from(size),
                what: WriteKind::Index { position, seq },
            },
        }
    }
}

/// Byte `at` of a new index block.
fn index_byte(header: &[u8; 72], body: &Body, source: &[u8], at: u32) -> Option<u8> {
    let i = usize::try_from(at).ok()?;
    if let Some(b) = header.get(i) {
        return Some(*b);
    }
    match body {
        Body::Init { set_bits } => {
            let bit0 = at.checked_sub(72)?.checked_mul(8)?;
            Some(match set_bits.checked_sub(bit0) {
                None | Some(0) => 0,
                Some(n) if n >= 8 => 0xff,
                Some(n) => (1u8 << n).wrapping_sub(1),
            })
        }
        Body::Copy {
            source: off,
            patches,
        } => {
            if let Some(v) = patches.get(at) {
                return Some(v);
            }
            let pos = usize::try_from(off.checked_add(u64::from(at))?).ok()?;
            source.get(pos).copied()
        }
    }
}

/// Fills `buf` with bytes `at..` of a new index block.
fn fill(header: &[u8; 72], body: &Body, source: &[u8], at: u32, buf: &mut [u8]) -> Option<()> {
    let mut pos = at;
    for b in buf.iter_mut() {
        *b = index_byte(header, body, source, pos)?;
        pos = pos.checked_add(1)?;
    }
    Some(())
}

/// `nd_fletcher64` of a new index block, streamed over 256-byte chunks (the header's
/// checksum field must be zero).
fn index_checksum(header: &[u8; 72], body: &Body, source: &[u8], size: u32) -> Option<u64> {
    let (mut lo, mut hi) = (0u32, 0u32);
    let mut at = 0u32;
    let mut buf = [0u8; CHUNK];
    while at < size {
        fill(header, body, source, at, &mut buf)?;
        let sum = nd_fletcher64(&buf);
        let [l0, l1, l2, l3, h0, h1, h2, h3] = sum.to_le_bytes();
        let (lo_c, hi_c) = (
            u32::from_le_bytes([l0, l1, l2, l3]),
            u32::from_le_bytes([h0, h1, h2, h3]),
        );
        // Continuing the kernel's running sums over one more chunk of n words:
        // lo += Σw, hi += n·lo_before + (the chunk's own hi).
        let n = u32::try_from(CHUNK / 4).ok()?;
        hi = hi.wrapping_add(n.wrapping_mul(lo)).wrapping_add(hi_c);
        lo = lo.wrapping_add(lo_c);
        at = at.checked_add(u32::try_from(CHUNK).ok()?)?;
    }
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// The 72-byte header `nd_label_write_index` writes for index `position`.
fn index_header(g: &Geometry, position: u8, seq: u32, nslot: u32) -> [u8; 72] {
    let mut h = [0u8; 72];
    let fields: [(usize, &[u8]); 11] = [
        (index_offset::SIG, &NSINDEX_SIGNATURE),
        (
            index_offset::LABELSIZE,
            &[u8::try_from(g.version.label_size() >> 8).unwrap_or(0)],
        ),
        (index_offset::SEQ, &seq.to_le_bytes()),
        (index_offset::MYOFF, &g.index_offset(position).to_le_bytes()),
        (index_offset::MYSIZE, &u64::from(g.index_size).to_le_bytes()),
        (
            index_offset::OTHEROFF,
            &g.index_offset(1u8.saturating_sub(position)).to_le_bytes(),
        ),
        (index_offset::LABELOFF, &g.labeloff().to_le_bytes()),
        (index_offset::NSLOT, &nslot.to_le_bytes()),
        (index_offset::MAJOR, &1u16.to_le_bytes()),
        (index_offset::MINOR, &g.version.minor().to_le_bytes()),
        (index_offset::CHECKSUM, &0u64.to_le_bytes()),
    ];
    for (at, bytes) in fields {
        if let Some(dst) = at
            .checked_add(bytes.len())
            .and_then(|end| h.get_mut(at..end))
        {
            dst.copy_from_slice(bytes);
        }
    }
    h
}

/// Writes of one change, made before anything is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Plan {
    steps: [Option<Step>; 4],
    /// Length of the area and fingerprint of the index the plan copies from.
    guard: Option<(usize, u64, u32, u64)>,
}

impl Plan {
    fn push(&mut self, step: Step) -> Result<(), UpdateError> {
        let slot = self
            .steps
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(UpdateError::TooManyChanges)?;
        *slot = Some(step);
        Ok(())
    }

    /// Every byte range the plan writes, in order.
    pub fn writes(&self) -> impl Iterator<Item = Write> + '_ {
        self.steps.iter().flatten().map(Step::write)
    }

    fn check_source(&self, source: &[u8]) -> Result<(), UpdateError> {
        if let Some((len, off, size, print)) = self.guard {
            let bytes = usize::try_from(off)
                .ok()
                .zip(usize::try_from(size).ok())
                .and_then(|(s, n)| source.get(s..s.checked_add(n)?));
            if source.len() != len || bytes.map(fingerprint) != Some(print) {
                return Err(UpdateError::SourceChanged);
            }
        }
        Ok(())
    }

    /// Writes the plan through `w`, in the order of [`Plan::writes`]: labels before the index
    /// that makes them current, each index block in 256-byte writes. `source` is the area the
    /// plan was made from (index blocks are copied from it; unused by `init` plans).
    ///
    /// # Errors
    /// [`ApplyError::Plan`] before any write when `source` is not the area the plan was made
    /// from; [`ApplyError::Io`] when a write fails (what was written until then leaves the
    /// old state or the new one).
    pub fn apply<W: WriteAt + ?Sized>(
        &self,
        source: &[u8],
        w: &mut W,
    ) -> Result<(), ApplyError<W::Error>> {
        self.check_source(source).map_err(ApplyError::Plan)?;
        for step in self.steps.iter().flatten() {
            match step {
                Step::Label {
                    offset, bytes, len, ..
                } => {
                    let data = bytes.get(..*len).unwrap_or(&[]);
                    w.write_at(*offset, data).map_err(ApplyError::Io)?;
                }
                Step::Index {
                    offset,
                    size,
                    header,
                    body,
                    ..
                } => {
                    let mut at = 0u32;
                    let mut buf = [0u8; CHUNK];
                    while at < *size {
                        fill(header, body, source, at, &mut buf)
                            .ok_or(ApplyError::Plan(UpdateError::SourceChanged))?;
                        let dst = offset.saturating_add(u64::from(at));
                        w.write_at(dst, &buf).map_err(ApplyError::Io)?;
                        at = at.saturating_add(256);
                    }
                }
            }
        }
        Ok(())
    }

    /// [`Plan::apply`] on the area held in `area` (its own bytes are the source).
    ///
    /// # Errors
    /// [`UpdateError::SourceChanged`] before any write when `area` is not the area the plan
    /// was made from.
    pub fn apply_in_place(&self, area: &mut [u8]) -> Result<(), UpdateError> {
        self.check_source(area)?;
        for step in self.steps.iter().flatten() {
            match step {
                Step::Label {
                    offset, bytes, len, ..
                } => {
                    let data = bytes.get(..*len).ok_or(UpdateError::SourceChanged)?;
                    let start = usize::try_from(*offset).map_err(|_| UpdateError::SourceChanged)?;
                    start
                        .checked_add(data.len())
                        .and_then(|end| area.get_mut(start..end))
                        .ok_or(UpdateError::SourceChanged)?
                        .copy_from_slice(data);
                }
                Step::Index {
                    offset,
                    size,
                    header,
                    body,
                    ..
                } => {
                    let mut at = 0u32;
                    let mut buf = [0u8; CHUNK];
                    while at < *size {
                        // Each chunk reads only its own bytes of the source index before the
                        // chunk at the same place is written, so copying an index onto its
                        // own place is safe too.
                        fill(header, body, area, at, &mut buf).ok_or(UpdateError::SourceChanged)?;
                        let start = usize::try_from(offset.saturating_add(u64::from(at)))
                            .map_err(|_| UpdateError::SourceChanged)?;
                        start
                            .checked_add(CHUNK)
                            .and_then(|end| area.get_mut(start..end))
                            .ok_or(UpdateError::SourceChanged)?
                            .copy_from_slice(&buf);
                        at = at.saturating_add(256);
                    }
                }
            }
        }
        Ok(())
    }
}

/// An empty index pair for a `config_size`-byte area, as the kernel's `init_labels` and
/// ndctl's `init-labels` write it: index 0 with `seq` 3 and index 1 with `seq` 2 (index 0 is
/// current), every slot free. Only the two index blocks are written; the slots keep their
/// bytes (they are free).
///
/// # Errors
/// [`UpdateError::BadAreaSize`] when the kernel would find no room for the index pair.
pub fn init(
    config_size: usize,
    version: LabelVersion,
    style: InitStyle,
) -> Result<Plan, UpdateError> {
    let bad = UpdateError::BadAreaSize {
        len: u64::try_from(config_size).unwrap_or(u64::MAX),
    };
    let size32 = u32::try_from(config_size).map_err(|_| bad)?;
    let g = Geometry::new(size32, version).map_err(|_| bad)?;
    // The kernel's arithmetic wraps for areas under two index blocks (see
    // `nvdimm_num_label_slots`); write only a pair whose slots really fit.
    let used = u64::from(g.nslot)
        .checked_mul(u64::from(version.label_size()))
        .and_then(|s| s.checked_add(g.labeloff()));
    if used.map_or(true, |u| u > u64::from(size32)) {
        return Err(bad);
    }
    let set_bits = match style {
        InitStyle::Kernel => g.nslot,
        // ndctl: memset(free, 0xff, ALIGN(nslot, BITS_PER_LONG) / 8).
        InitStyle::Ndctl => g.nslot.checked_add(63).ok_or(bad)? & !63,
    };
    let body = Body::Init { set_bits };
    let mut plan = Plan {
        steps: [None; 4],
        guard: None,
    };
    for (position, seq) in [(0u8, 3u32), (1, 2)] {
        let mut header = index_header(&g, position, seq, g.nslot);
        let sum = index_checksum(&header, &body, &[], g.index_size).ok_or(bad)?;
        write_checksum(&mut header, sum);
        plan.push(Step::Index {
            position,
            seq,
            offset: g.index_offset(position),
            size: g.index_size,
            header,
            body,
        })?;
    }
    Ok(plan)
}

fn write_checksum(header: &mut [u8; 72], sum: u64) {
    if let Some(dst) = header.get_mut(index_offset::CHECKSUM..) {
        dst.copy_from_slice(&sum.to_le_bytes());
    }
}

/// The free bitmap of the index being built: the current one plus changes.
struct Builder<'a, 'b> {
    area: &'b LabelArea<'a>,
    patches: Patches,
    seq: u32,
    /// Position of the index the next pass writes.
    next: u8,
    plan: Plan,
}

impl<'a, 'b> Builder<'a, 'b> {
    fn new(area: &'b LabelArea<'a>) -> Self {
        let g = area.geometry();
        let current = area.current();
        let source = g.index_offset(current);
        Self {
            area,
            patches: Patches::NONE,
            seq: area.current_info().seq,
            next: 1u8.saturating_sub(current),
            plan: Plan {
                steps: [None; 4],
                guard: Some((
                    area.bytes().len(),
                    source,
                    g.index_size,
                    fingerprint(area.index_bytes(current)),
                )),
            },
        }
    }

    fn byte_at(&self, slot: u32) -> Option<(u32, u8)> {
        let at = u32::try_from(index_offset::FREE)
            .ok()?
            .checked_add(slot / 8)?;
        let current = self.area.index_bytes(self.area.current());
        let base = current.get(usize::try_from(at).ok()?).copied()?;
        Some((at, self.patches.get(at).unwrap_or(base)))
    }

    fn is_free(&self, slot: u32) -> bool {
        slot >= self.area.current_info().nslot
            || self
                .byte_at(slot)
                .map_or(true, |(_, b)| b & (1u8 << (slot % 8)) != 0)
    }

    fn mark(&mut self, slot: u32, free: bool) -> Result<(), UpdateError> {
        let (at, b) = self.byte_at(slot).ok_or(UpdateError::TooManyChanges)?;
        let bit = 1u8 << (slot % 8);
        self.patches.set(at, if free { b | bit } else { b & !bit })
    }

    /// `nd_label_alloc_slot`: the lowest free slot.
    fn alloc(&mut self) -> Result<u32, UpdateError> {
        let nslot = self.area.current_info().nslot;
        let slot = (0..nslot)
            .find(|&s| self.is_free(s))
            .ok_or(UpdateError::NoFreeSlot { nslot })?;
        self.mark(slot, false)?;
        Ok(slot)
    }

    /// `nd_label_write_index(ndd, ns_next, nd_inc_seq(seq), 0)`.
    fn write_index(&mut self) -> Result<(), UpdateError> {
        let g = self.area.geometry();
        let seq = nd_inc_seq(self.seq);
        let mut header = index_header(&g, self.next, seq, self.area.current_info().nslot);
        let body = Body::Copy {
            source: g.index_offset(self.area.current()),
            patches: self.patches,
        };
        let sum = index_checksum(&header, &body, self.area.bytes(), g.index_size)
            .ok_or(UpdateError::SourceChanged)?;
        write_checksum(&mut header, sum);
        self.plan.push(Step::Index {
            position: self.next,
            seq,
            offset: g.index_offset(self.next),
            size: g.index_size,
            header,
            body,
        })?;
        self.seq = seq;
        self.next = 1u8.saturating_sub(self.next);
        Ok(())
    }

    /// `__pmem_label_update`: the label into the lowest free slot, the slots in `reap`
    /// freed, then the next index.
    fn pass(&mut self, new: &NewLabel, flags: u32, reap: &[u32]) -> Result<u32, UpdateError> {
        let g = self.area.geometry();
        let slot = self.alloc()?;
        let bytes = new.to_bytes(g.version, slot, flags);
        self.plan.push(Step::Label {
            slot,
            offset: g.slot_offset(slot),
            bytes,
            len: usize::try_from(g.version.label_size()).unwrap_or(256),
        })?;
        for &r in reap {
            self.mark(r, true)?;
        }
        self.write_index()?;
        Ok(slot)
    }
}

/// Slots of the active labels with `uuid` (at most 16).
fn slots_of(area: &LabelArea<'_>, uuid: Uuid) -> Result<([u32; MAX_PATCHES], usize), UpdateError> {
    let mut out = [0u32; MAX_PATCHES];
    let mut n = 0usize;
    for l in area.active_labels().filter(|l| l.uuid == uuid) {
        *out.get_mut(n).ok_or(UpdateError::TooManyChanges)? = l.slot;
        n = n.saturating_add(1);
    }
    Ok((out, n))
}

/// Refuses a range the kernel's `nd_label_reserve_dpa` would not reserve beside the other
/// namespaces' active labels.
fn check_dpa(area: &LabelArea<'_>, new: &NewLabel) -> Result<(), UpdateError> {
    let end = new.check_range()?;
    let clash =
        |l: &Label| l.uuid != new.uuid && l.dpa_end().map_or(true, |e| l.dpa < end && new.dpa < e);
    match area.active_labels().find(clash) {
        Some(l) => Err(UpdateError::DpaOverlap {
            slot: l.slot,
            uuid: l.uuid,
        }),
        None => Ok(()),
    }
}

/// One `__pmem_label_update`: `new` with `flags` into the lowest free slot, any active label
/// with the same uuid freed, then the other index with the next sequence number.
///
/// # Errors
/// [`UpdateError`] when the label cannot be written; nothing is planned then.
pub fn write_label(area: &LabelArea<'_>, new: &NewLabel, flags: u32) -> Result<Plan, UpdateError> {
    check_dpa(area, new)?;
    let (old, n) = slots_of(area, new.uuid)?;
    let mut b = Builder::new(area);
    b.pass(new, flags, old.get(..n).unwrap_or(&[]))?;
    Ok(b.plan)
}

/// Both passes of `nd_pmem_namespace_label_update` for one DIMM: the label with
/// `NSLABEL_FLAG_UPDATING` and an index, then the label without it (the first one freed) and
/// the other index: four writes, each state between them readable.
fn two_passes(area: &LabelArea<'_>, new: &NewLabel, old: &[u32]) -> Result<Plan, UpdateError> {
    check_dpa(area, new)?;
    let mut b = Builder::new(area);
    let first = b.pass(new, NSLABEL_FLAG_UPDATING, old)?;
    b.pass(new, 0, &[first])?;
    Ok(b.plan)
}

/// Adds a namespace label as the kernel does when a namespace is created: the two passes of
/// `nd_pmem_namespace_label_update` (label with `UPDATING`, index; final label, index).
///
/// # Errors
/// [`UpdateError::AlreadyExists`] when the uuid has an active label; range, overlap and
/// space errors. Nothing is planned then.
pub fn add(area: &LabelArea<'_>, new: &NewLabel) -> Result<Plan, UpdateError> {
    if area.active_labels().any(|l| l.uuid == new.uuid) {
        return Err(UpdateError::AlreadyExists { uuid: new.uuid });
    }
    two_passes(area, new, &[])
}

/// Replaces the labels of an existing namespace (a resize, rename or claim change), with the
/// same two passes; the old labels are freed by the first index write.
///
/// # Errors
/// [`UpdateError::NotFound`] when the uuid has no active label; as [`add`] otherwise.
pub fn update(area: &LabelArea<'_>, new: &NewLabel) -> Result<Plan, UpdateError> {
    let (old, n) = slots_of(area, new.uuid)?;
    if n == 0 {
        return Err(UpdateError::NotFound { uuid: new.uuid });
    }
    two_passes(area, new, old.get(..n).unwrap_or(&[]))
}

/// Deletes a namespace's labels as `del_labels` does: their slots freed in the other index,
/// written with the next sequence number (the labels' bytes stay).
///
/// # Errors
/// [`UpdateError::NotFound`] when the uuid has no active label.
pub fn remove(area: &LabelArea<'_>, uuid: Uuid) -> Result<Plan, UpdateError> {
    let (old, n) = slots_of(area, uuid)?;
    if n == 0 {
        return Err(UpdateError::NotFound { uuid });
    }
    let mut b = Builder::new(area);
    for &s in old.get(..n).unwrap_or(&[]) {
        b.mark(s, true)?;
    }
    b.write_index()?;
    Ok(b.plan)
}

/// Writes the next index unchanged but for its sequence number, as the kernel's `del_labels`
/// does when it has nothing to free: each write of `uuid` or `alt_name` to a namespace seed
/// of size 0 in sysfs does this (`nd_namespace_label_update`), so a namespace created
/// through sysfs is preceded by such writes. Useful to reproduce the kernel's bytes exactly.
///
/// # Errors
/// Only [`UpdateError::SourceChanged`] on an inconsistent area (never after `parse`).
pub fn touch(area: &LabelArea<'_>) -> Result<Plan, UpdateError> {
    let mut b = Builder::new(area);
    b.write_index()?;
    Ok(b.plan)
}

//! The index blocks: the kernel's geometry arithmetic, the validation of one index
//! (`__nd_label_validate`), the label-size probe (`nd_label_validate`), the choice of the
//! current index (`best_seq`), and the free bitmap (`nd_label_active`).

use zerocopy::FromBytes;

use crate::checksum::{nd_fletcher64, nd_fletcher64_zeroed};
use crate::label::error::{AreaError, IndexError};
use crate::label::raw::{
    index_offset, label_offset, ClaimClass, Guid, NdNamespaceIndex, NdNamespaceLabel,
    NdNamespaceLabelV11, NSINDEX_ALIGN, NSINDEX_SEQ_MASK, NSINDEX_SIGNATURE,
};
use crate::uuid::Uuid;

/// The label format, chosen by the label size: v1.1 (128-byte labels) or v1.2 (256-byte
/// labels with type and claim GUIDs and a checksum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelVersion {
    /// 128-byte labels, index minor 1.
    V1_1,
    /// 256-byte labels, index minor 2.
    V1_2,
}

impl LabelVersion {
    /// Bytes per label slot.
    #[must_use]
    pub const fn label_size(self) -> u32 {
        match self {
            Self::V1_1 => 128,
            Self::V1_2 => 256,
        }
    }

    /// The index `minor` the kernel writes (`nd_label_write_index`).
    #[must_use]
    pub const fn minor(self) -> u16 {
        match self {
            Self::V1_1 => 1,
            Self::V1_2 => 2,
        }
    }
}

/// Low 32 bits of `v`, as C's conversion of a 64-bit value to `int` or `u32` keeps them.
fn low32(v: u64) -> u32 {
    let [a, b, c, d, ..] = v.to_le_bytes();
    u32::from_le_bytes([a, b, c, d])
}

/// `ALIGN(72 + DIV_ROUND_UP(nslot, 8), NSINDEX_ALIGN)` (`__sizeof_namespace_index`), in the
/// kernel's types: `DIV_ROUND_UP` on the u32 `nslot` (wrapping), the rest in 64 bits.
fn index_size_for(nslot: u32) -> u64 {
    let bytes = u64::from(nslot.wrapping_add(7) / 8);
    let raw = bytes.wrapping_add(72);
    let mask = u64::from(NSINDEX_ALIGN.wrapping_sub(1));
    raw.wrapping_add(mask) & !mask
}

/// The number of label slots the kernel gives an area (`nvdimm_num_label_slots`, Linux
/// 4.13+): `(config_size - 2 * index_size) / label_size`, where the index size is the one for
/// `config_size / label_size` slots.
///
/// Reproduces the kernel's types on purpose: the subtraction is done in 64 bits and wraps for
/// areas smaller than two index blocks, and the quotient is truncated to 32 bits (the C
/// function returns `int`). Such areas are refused by [`sizeof_namespace_index`] anyway.
///
/// 128 KiB: 1020 slots of 128 bytes, 510 of 256 bytes.
#[must_use]
pub fn nvdimm_num_label_slots(config_size: u32, label_size: u32) -> u32 {
    let Some(tmp_nslot) = config_size.checked_div(label_size) else {
        return 0;
    };
    let index_size = index_size_for(tmp_nslot);
    let space = u64::from(config_size).wrapping_sub(index_size.wrapping_mul(2));
    low32(space.checked_div(u64::from(label_size)).unwrap_or(0))
}

/// The kernel's index block size for an area and label size (`sizeof_namespace_index`):
/// `ALIGN(72 + ceil(nslot / 8), 256)` for the slots of [`nvdimm_num_label_slots`], or `None`
/// where the kernel returns 0 ("label area too small"): when two index blocks do not fit
/// beside the slots, or there are fewer than two slots.
///
/// Reproduces the kernel's 32-bit `space` and `size` on purpose.
#[must_use]
pub fn sizeof_namespace_index(config_size: u32, label_size: u32) -> Option<u32> {
    let nslot = nvdimm_num_label_slots(config_size, label_size);
    let space = config_size.wrapping_sub(nslot.wrapping_mul(label_size));
    let size = low32(index_size_for(nslot).wrapping_mul(2));
    if size <= space && nslot >= 2 {
        Some(size / 2)
    } else {
        None
    }
}

/// `nd_inc_seq`: the next sequence number (1 → 2 → 3 → 1; 0 stays 0).
#[must_use]
pub const fn nd_inc_seq(seq: u32) -> u32 {
    match seq & NSINDEX_SEQ_MASK {
        1 => 2,
        2 => 3,
        3 => 1,
        _ => 0,
    }
}

/// `best_seq`: the newer of two sequence numbers, compared on their low two bits.
#[must_use]
pub const fn best_seq(a: u32, b: u32) -> u32 {
    let a = a & NSINDEX_SEQ_MASK;
    let b = b & NSINDEX_SEQ_MASK;
    if a == 0 || a == b {
        b
    } else if b == 0 {
        a
    } else if nd_inc_seq(a) == b {
        b
    } else {
        a
    }
}

/// Where everything is in an area, for one label size: the kernel's arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Bytes of the area (`nsarea.config_size`).
    pub config_size: u32,
    /// The label format.
    pub version: LabelVersion,
    /// Bytes of one index block ([`sizeof_namespace_index`]); index 1 starts here and slot 0
    /// at twice this.
    pub index_size: u32,
    /// Slots the kernel gives the area ([`nvdimm_num_label_slots`]); what `init` writes.
    pub nslot: u32,
}

impl Geometry {
    /// The geometry of a `config_size`-byte area with `version` labels, or why the kernel
    /// has none.
    ///
    /// # Errors
    /// [`IndexError::AreaTooSmall`] where `sizeof_namespace_index` is 0.
    pub fn new(config_size: u32, version: LabelVersion) -> Result<Self, IndexError> {
        let label_size = version.label_size();
        let index_size =
            sizeof_namespace_index(config_size, label_size).ok_or(IndexError::AreaTooSmall {
                config_size,
                label_size,
            })?;
        Ok(Self {
            config_size,
            version,
            index_size,
            nslot: nvdimm_num_label_slots(config_size, label_size),
        })
    }

    /// Byte offset of slot 0 (`2 * index_size`).
    #[must_use]
    pub fn labeloff(&self) -> u64 {
        u64::from(self.index_size).saturating_mul(2)
    }

    /// Byte offset of index `position` (0 or 1).
    #[must_use]
    pub fn index_offset(&self, position: u8) -> u64 {
        u64::from(self.index_size).saturating_mul(u64::from(position))
    }

    /// Byte offset of `slot`.
    #[must_use]
    pub fn slot_offset(&self, slot: u32) -> u64 {
        self.labeloff()
            .saturating_add(u64::from(slot).saturating_mul(u64::from(self.version.label_size())))
    }

    /// The largest `nslot` an index may claim: `(config_size - 2 * index_size) / label_size`.
    #[must_use]
    pub fn max_nslot(&self) -> u32 {
        let space = u64::from(self.config_size).saturating_sub(self.labeloff());
        low32(
            space
                .checked_div(u64::from(self.version.label_size()))
                .unwrap_or(0),
        )
    }
}

/// The facts of one valid index block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndexInfo {
    /// `seq`.
    pub seq: u32,
    /// `nslot`.
    pub nslot: u32,
    /// `mysize`.
    pub mysize: u64,
    /// `checksum`.
    pub checksum: u64,
}

/// Validates index `position` (0 or 1) of `area` for `geometry`'s label size, check by check
/// as `__nd_label_validate` does.
///
/// # Errors
/// The first check that fails.
pub fn validate_index(
    area: &[u8],
    geometry: &Geometry,
    position: u8,
) -> Result<IndexInfo, IndexError> {
    let size = u64::from(geometry.index_size);
    let start = geometry.index_offset(position);
    let too_small = IndexError::AreaTooSmall {
        config_size: geometry.config_size,
        label_size: geometry.version.label_size(),
    };
    let bytes = usize::try_from(start)
        .ok()
        .zip(usize::try_from(size).ok())
        .and_then(|(s, n)| area.get(s..s.checked_add(n)?))
        .ok_or(too_small)?;
    let index = NdNamespaceIndex::ref_from_block(bytes).ok_or(too_small)?;
    if index.sig != NSINDEX_SIGNATURE {
        return Err(IndexError::Signature { found: index.sig });
    }
    let version = index.version();
    // __nd_label_validate: `1 << (7 + labelsize)` on an int; a shift count of 32 or more is
    // undefined in C and x86 masks it to 5 bits, which `wrapping_shl` reproduces.
    let claimed = if version >= 102 {
        1u32.wrapping_shl(7u32.wrapping_add(u32::from(index.labelsize)))
    } else {
        128
    };
    let probed = geometry.version.label_size();
    if claimed != probed {
        return Err(IndexError::LabelSize {
            version,
            labelsize: index.labelsize,
            claimed,
            probed,
        });
    }
    let stored = index.checksum.get();
    let computed = nd_fletcher64_zeroed(bytes, index_offset::CHECKSUM).ok_or(too_small)?;
    if stored != computed {
        return Err(IndexError::Checksum { stored, computed });
    }
    let seq = index.seq.get();
    if seq & NSINDEX_SEQ_MASK == 0 {
        return Err(IndexError::Sequence { seq });
    }
    let myoff = index.myoff.get();
    if myoff != start {
        return Err(IndexError::Myoff {
            found: myoff,
            expected: start,
        });
    }
    let other = geometry.index_offset(1u8.saturating_sub(position));
    let otheroff = index.otheroff.get();
    if otheroff != other {
        return Err(IndexError::Otheroff {
            found: otheroff,
            expected: other,
        });
    }
    let labeloff = index.labeloff.get();
    if labeloff != geometry.labeloff() {
        return Err(IndexError::Labeloff {
            found: labeloff,
            expected: geometry.labeloff(),
        });
    }
    let mysize = index.mysize.get();
    if mysize > size || mysize < 72 {
        return Err(IndexError::Mysize {
            found: mysize,
            max: size,
        });
    }
    let nslot = index.nslot.get();
    let max = geometry.max_nslot();
    if nslot > max {
        // __nd_label_validate: `nslot * sizeof_namespace_label(ndd)` is a 32-bit product that
        // wraps before the 64-bit sum with the index blocks is compared with config_size.
        let kernel_sum = u64::from(nslot.wrapping_mul(probed)).wrapping_add(size.wrapping_mul(2));
        return Err(if kernel_sum > u64::from(geometry.config_size) {
            IndexError::Nslot { nslot, max }
        } else {
            IndexError::NslotWraps { nslot, max }
        });
    }
    Ok(IndexInfo {
        seq,
        nslot,
        mysize,
        checksum: stored,
    })
}

/// A label storage area as the kernel reads it: the label size found by the probe, both
/// indexes' verdicts, and the current index. Borrowed from the area's bytes.
#[derive(Clone, Copy, Debug)]
pub struct LabelArea<'a> {
    bytes: &'a [u8],
    geometry: Geometry,
    indexes: [Result<IndexInfo, IndexError>; 2],
    current: u8,
}

impl<'a> LabelArea<'a> {
    /// Reads an area the way `nd_label_data_init` does: probe with 128-byte labels, then with
    /// 256-byte labels (`nd_label_validate`); for the first size with a valid index, pick the
    /// current index (the only valid one, or by [`best_seq`] when both are valid).
    ///
    /// # Errors
    /// [`AreaError::NoValidIndex`] when the kernel would treat the DIMM as label-less;
    /// [`AreaError::TooLarge`] for an area over 4 GiB.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, AreaError> {
        let config_size =
            u32::try_from(bytes.len()).map_err(|_| AreaError::TooLarge { len: bytes.len() })?;
        let mut errors = [[IndexError::Sequence { seq: 0 }; 2]; 2];
        for (version, errs) in [LabelVersion::V1_1, LabelVersion::V1_2]
            .into_iter()
            .zip(errors.iter_mut())
        {
            let geometry = match Geometry::new(config_size, version) {
                Ok(g) => g,
                Err(e) => {
                    *errs = [e, e];
                    continue;
                }
            };
            let indexes = [
                validate_index(bytes, &geometry, 0),
                validate_index(bytes, &geometry, 1),
            ];
            let current = match indexes {
                [Ok(a), Ok(b)] => {
                    if best_seq(a.seq, b.seq) == b.seq & NSINDEX_SEQ_MASK {
                        1
                    } else {
                        0
                    }
                }
                [Ok(_), Err(_)] => 0,
                [Err(_), Ok(_)] => 1,
                [Err(a), Err(b)] => {
                    *errs = [a, b];
                    continue;
                }
            };
            return Ok(Self {
                bytes,
                geometry,
                indexes,
                current,
            });
        }
        let [v1_1, v1_2] = errors;
        Err(AreaError::NoValidIndex { v1_1, v1_2 })
    }

    /// The area's bytes.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Geometry for the label size found.
    #[must_use]
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Label format of the area.
    #[must_use]
    pub fn version(&self) -> LabelVersion {
        self.geometry.version
    }

    /// Which index is current (0 or 1).
    #[must_use]
    pub fn current(&self) -> u8 {
        self.current
    }

    /// The verdict on index `position` (0 or 1; anything else is read as 1).
    pub fn index_status(&self, position: u8) -> Result<IndexInfo, IndexError> {
        let [a, b] = self.indexes;
        if position == 0 {
            a
        } else {
            b
        }
    }

    /// The facts of the current index.
    #[must_use]
    pub fn current_info(&self) -> IndexInfo {
        // The current index is valid by construction; the fallback is never taken.
        self.index_status(self.current).unwrap_or(IndexInfo {
            seq: 0,
            nslot: 0,
            mysize: 0,
            checksum: 0,
        })
    }

    /// The bytes of index `position`.
    #[must_use]
    pub fn index_bytes(&self, position: u8) -> &'a [u8] {
        let start = self.geometry.index_offset(position);
        usize::try_from(start)
            .ok()
            .zip(usize::try_from(self.geometry.index_size).ok())
            .and_then(|(s, n)| self.bytes.get(s..s.checked_add(n)?))
            .unwrap_or(&[])
    }

    /// The current index block, zero-copy.
    #[must_use]
    pub fn current_index(&self) -> Option<&'a NdNamespaceIndex> {
        NdNamespaceIndex::ref_from_block(self.index_bytes(self.current))
    }

    /// Whether `slot` is free in the current index (bit set); `true` past `nslot`.
    #[must_use]
    pub fn is_free(&self, slot: u32) -> bool {
        is_free_in(
            self.index_bytes(self.current),
            slot,
            self.current_info().nslot,
        )
    }

    /// The number of free slots in the current index (`nd_label_nfree`).
    #[must_use]
    pub fn nfree(&self) -> u32 {
        let used = self.used_slots(0).fold(0u32, |n, _| n.saturating_add(1));
        self.current_info().nslot.saturating_sub(used)
    }

    /// The bytes of `slot` (128 or 256), if inside the area.
    #[must_use]
    pub fn slot_bytes(&self, slot: u32) -> Option<&'a [u8]> {
        let start = usize::try_from(self.geometry.slot_offset(slot)).ok()?;
        let len = usize::try_from(self.geometry.version.label_size()).ok()?;
        self.bytes.get(start..start.checked_add(len)?)
    }

    /// Every slot the current index marks in use, in slot order, with the label read from it
    /// or why the kernel ignores it (`slot_valid`). The loop is bounded by `nslot`, which
    /// validation keeps inside the area.
    pub fn slots(&self) -> impl Iterator<Item = (u32, Result<Label, SlotError>)> + 'a {
        let area = *self;
        self.used_slots(0)
            .map(move |slot| (slot, area.read_slot(slot)))
    }

    /// The slots from `from` on that the current index marks in use (bit clear), in order;
    /// whole bytes of free slots are skipped at once.
    pub(crate) fn used_slots(&self, from: u32) -> UsedSlots<'a> {
        let index = self.index_bytes(self.current);
        UsedSlots {
            bitmap: index.get(index_offset::FREE..).unwrap_or(&[]),
            nslot: self.current_info().nslot,
            next: from,
        }
    }

    /// Every slot that fits in the area whose label names its own slot, in use or free, as
    /// `ndctl read-labels` lists them (it does not look at the free bitmap, so stale labels of
    /// deleted namespaces appear too). Bounded by the area's size.
    pub fn raw_slots(&self) -> impl Iterator<Item = (u32, Label)> + 'a {
        let area = *self;
        (0..self.geometry.max_nslot()).filter_map(move |slot| {
            let bytes = area.slot_bytes(slot)?;
            let label = Label::read(bytes, area.geometry.version).ok()?;
            (label.slot == slot).then_some((slot, label))
        })
    }

    /// The labels the kernel takes (`nd_label_active`): in use and `slot_valid`.
    pub fn active_labels(&self) -> impl Iterator<Item = Label> + 'a {
        self.slots().filter_map(|(_, l)| l.ok())
    }

    /// Reads `slot` as the kernel's `slot_valid` does in Linux 6.1–6.12: the stored `slot`
    /// must be this one and a v1.2 label's checksum must match. (The 4.x–5.x `slot_valid`
    /// also required `dpa` and `rawsize` to be 4 KiB aligned; 6.x does not.)
    ///
    /// # Errors
    /// [`SlotError`] when the kernel ignores the label.
    pub fn read_slot(&self, slot: u32) -> Result<Label, SlotError> {
        let bytes = self.slot_bytes(slot).ok_or(SlotError::OutsideArea)?;
        let label = Label::read(bytes, self.geometry.version)?;
        if label.slot != slot {
            return Err(SlotError::Slot { stored: label.slot });
        }
        if let Some(stored) = label.checksum {
            let computed = nd_fletcher64_zeroed(bytes, label_offset::CHECKSUM)
                .ok_or(SlotError::OutsideArea)?;
            if stored != computed {
                return Err(SlotError::Checksum { stored, computed });
            }
        }
        Ok(label)
    }
}

/// Iterator over the in-use slots of a free bitmap (see [`LabelArea::used_slots`]).
#[derive(Clone, Debug)]
pub(crate) struct UsedSlots<'a> {
    bitmap: &'a [u8],
    nslot: u32,
    next: u32,
}

impl Iterator for UsedSlots<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        while self.next < self.nslot {
            let slot = self.next;
            let byte = usize::try_from(slot / 8)
                .ok()
                .and_then(|b| self.bitmap.get(b));
            // Bits past the bitmap read as free (never after validation).
            let used = byte.map_or(0, |b| !*b) >> (slot % 8);
            if used == 0 {
                // No used slot left in this byte: go to the next byte.
                self.next = (slot | 7).saturating_add(1);
                continue;
            }
            let found = slot.saturating_add(used.trailing_zeros());
            if found >= self.nslot {
                self.next = self.nslot;
                return None;
            }
            self.next = found.saturating_add(1);
            return Some(found);
        }
        None
    }
}

/// Whether bit `slot` of the free bitmap of the index in `index` is set; `true` past `nslot`
/// or past the bitmap.
pub(crate) fn is_free_in(index: &[u8], slot: u32, nslot: u32) -> bool {
    if slot >= nslot {
        return true;
    }
    let byte = usize::try_from(slot / 8)
        .ok()
        .and_then(|b| b.checked_add(index_offset::FREE))
        .and_then(|b| index.get(b));
    byte.map_or(true, |b| b & (1u8 << (slot % 8)) != 0)
}

/// Why the kernel ignores a label in a slot its index marks in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlotError {
    /// The slot is outside the area (never after validation).
    OutsideArea,
    /// The label's `slot` field names another slot.
    Slot {
        /// The stored `slot`.
        stored: u32,
    },
    /// A v1.2 label's checksum does not match.
    Checksum {
        /// Stored.
        stored: u64,
        /// Computed.
        computed: u64,
    },
}

impl core::fmt::Display for SlotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::OutsideArea => f.write_str("slot is outside the label area"),
            Self::Slot { stored } => write!(f, "label names slot {stored}"),
            Self::Checksum { stored, computed } => write!(
                f,
                "label checksum mismatch: stored {stored:#018x}, computed {computed:#018x}"
            ),
        }
    }
}

impl core::error::Error for SlotError {}

/// One namespace label, read from a v1.1 or v1.2 slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    /// The label's `slot` field (the slot it claims to be written in).
    pub slot: u32,
    /// Namespace uuid.
    pub uuid: Uuid,
    /// Name bytes, NUL-padded.
    pub name: [u8; 64],
    /// `NSLABEL_FLAG_*`.
    pub flags: u32,
    /// Labels per namespace (interleave ways).
    pub nlabel: u16,
    /// Position in the interleave set.
    pub position: u16,
    /// Interleave-set cookie.
    pub isetcookie: u64,
    /// Sector size or 0.
    pub lbasize: u64,
    /// Start on the DIMM.
    pub dpa: u64,
    /// Bytes on the DIMM.
    pub rawsize: u64,
    /// `align` (v1.2; 0 for v1.1).
    pub align: u8,
    /// `type_guid` (v1.2 only).
    pub type_guid: Option<Guid>,
    /// Claim class from `abstraction_guid` (v1.2; [`ClaimClass::None`] for v1.1).
    pub claim_class: ClaimClass,
    /// Stored checksum (v1.2 only).
    pub checksum: Option<u64>,
}

impl Label {
    /// Reads the fields of a label from its slot bytes (no check).
    ///
    /// # Errors
    /// [`SlotError::OutsideArea`] when `bytes` is shorter than the label size.
    pub fn read(bytes: &[u8], version: LabelVersion) -> Result<Self, SlotError> {
        match version {
            LabelVersion::V1_1 => {
                let (l, _) = NdNamespaceLabelV11::ref_from_prefix(bytes)
                    .map_err(|_| SlotError::OutsideArea)?;
                Ok(Self {
                    slot: l.slot.get(),
                    uuid: l.uuid,
                    name: l.name,
                    flags: l.flags.get(),
                    nlabel: l.nlabel.get(),
                    position: l.position.get(),
                    isetcookie: l.isetcookie.get(),
                    lbasize: l.lbasize.get(),
                    dpa: l.dpa.get(),
                    rawsize: l.rawsize.get(),
                    align: 0,
                    type_guid: None,
                    claim_class: ClaimClass::None,
                    checksum: None,
                })
            }
            LabelVersion::V1_2 => {
                let (l, _) =
                    NdNamespaceLabel::ref_from_prefix(bytes).map_err(|_| SlotError::OutsideArea)?;
                Ok(Self {
                    slot: l.slot.get(),
                    uuid: l.uuid,
                    name: l.name,
                    flags: l.flags.get(),
                    nlabel: l.nlabel.get(),
                    position: l.position.get(),
                    isetcookie: l.isetcookie.get(),
                    lbasize: l.lbasize.get(),
                    dpa: l.dpa.get(),
                    rawsize: l.rawsize.get(),
                    align: l.align,
                    type_guid: Some(l.type_guid),
                    claim_class: ClaimClass::from_guid(l.abstraction_guid),
                    checksum: Some(l.checksum.get()),
                })
            }
        }
    }

    /// The name up to its first NUL, if UTF-8.
    #[must_use]
    pub fn name_str(&self) -> Option<&str> {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(64);
        core::str::from_utf8(self.name.get(..end)?).ok()
    }

    /// `dpa + rawsize`, or `None` when it wraps.
    #[must_use]
    pub fn dpa_end(&self) -> Option<u64> {
        self.dpa.checked_add(self.rawsize)
    }
}

/// `nd_fletcher64` of `bytes` (no field zeroed): used to tell whether an area changed.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    nd_fletcher64(bytes)
}

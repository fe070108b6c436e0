//! The raw layer of the BTT: the exact bytes of the info block (`struct btt_sb`), of a map
//! entry and of a flog group, as `drivers/nvdimm/btt.h` lays them out. Every multi-byte field
//! is little-endian, whatever the host. Nothing here reads a namespace: [`super::arena`] does.

use core::fmt;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::checksum::nd_fletcher64_zeroed;
use crate::uuid::Uuid;

/// Byte offsets of the fields of [`BttSb`] (FORMAT.md §6.2), checked against the struct at
/// compile time.
pub mod offset {
    /// `signature`, 16 bytes.
    pub const SIGNATURE: usize = 0;
    /// `uuid`, 16 bytes.
    pub const UUID: usize = 16;
    /// `parent_uuid`, 16 bytes.
    pub const PARENT_UUID: usize = 32;
    /// `flags`, le32.
    pub const FLAGS: usize = 48;
    /// `version_major`, le16.
    pub const VERSION_MAJOR: usize = 52;
    /// `version_minor`, le16.
    pub const VERSION_MINOR: usize = 54;
    /// `external_lbasize`, le32.
    pub const EXTERNAL_LBASIZE: usize = 56;
    /// `external_nlba`, le32.
    pub const EXTERNAL_NLBA: usize = 60;
    /// `internal_lbasize`, le32.
    pub const INTERNAL_LBASIZE: usize = 64;
    /// `internal_nlba`, le32.
    pub const INTERNAL_NLBA: usize = 68;
    /// `nfree`, le32.
    pub const NFREE: usize = 72;
    /// `infosize`, le32.
    pub const INFOSIZE: usize = 76;
    /// `nextoff`, le64.
    pub const NEXTOFF: usize = 80;
    /// `dataoff`, le64.
    pub const DATAOFF: usize = 88;
    /// `mapoff`, le64.
    pub const MAPOFF: usize = 96;
    /// `logoff`, le64.
    pub const LOGOFF: usize = 104;
    /// `info2off`, le64.
    pub const INFO2OFF: usize = 112;
    /// `padding`, 3968 bytes.
    pub const PADDING: usize = 120;
    /// `checksum`, le64.
    pub const CHECKSUM: usize = 4088;
}

/// `BTT_SIG`: the 14 ASCII bytes `BTT_ARENA_INFO` and two NULs, compared over all 16 bytes.
pub const SIGNATURE: [u8; 16] = *b"BTT_ARENA_INFO\0\0";

/// `IB_FLAG_ERROR` (bit 0 of `flags`): the arena is in an error state. The kernel only logs
/// "Found arena with an error flag" when it sees it (`nd_btt_arena_is_valid`), then refuses
/// writes to the arena (`btt_write_pg` returns `-EIO`); reads still work.
pub const IB_FLAG_ERROR: u32 = 0x0000_0001;

/// `BTT_PG_SIZE`: the page every metadata area is rounded to.
pub const BTT_PG_SIZE: u64 = 4096;
/// `ARENA_MIN_SIZE`: 16 MiB; the namespace's minimum too (`__nd_btt_probe`).
pub const ARENA_MIN_SIZE: u64 = 1 << 24;
/// `ARENA_MAX_SIZE`: 512 GiB.
pub const ARENA_MAX_SIZE: u64 = 1 << 39;
/// `BTT_DEFAULT_NFREE` (= `ND_MAX_LANES`): free blocks, and flog lanes, of a new arena.
pub const BTT_DEFAULT_NFREE: u32 = 256;
/// `INT_LBASIZE_ALIGNMENT`: the internal block size is the external one rounded up to this.
pub const INT_LBASIZE_ALIGNMENT: u32 = 64;
/// `MAP_ENT_SIZE`: bytes per map entry.
pub const MAP_ENT_SIZE: u64 = 4;
/// `LOG_GRP_SIZE`: bytes per flog group (one lane).
pub const LOG_GRP_SIZE: u64 = 64;
/// `LOG_ENT_SIZE`: bytes per flog entry.
pub const LOG_ENT_SIZE: u64 = 16;
/// The external block sizes the kernel's `sector_size` attribute accepts
/// (`btt_lbasize_supported` in `btt_devs.c`).
pub const SUPPORTED_LBASIZES: [u32; 7] = [512, 520, 528, 4096, 4104, 4160, 4224];

/// `struct btt_sb`: one arena's 4096-byte info block, byte for byte (FORMAT.md §6.2).
///
/// Every bit pattern is a valid `BttSb`; meaning and checks are in [`super::arena`]. Offsets
/// (`nextoff` to `info2off`) are relative to the start of the arena, that is to this block.
#[derive(Clone, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BttSb {
    /// [`SIGNATURE`].
    pub signature: [u8; 16],
    /// Uuid of the BTT (the `uuid` attribute of the `btt` device).
    pub uuid: Uuid,
    /// Uuid of the namespace; all zero for a label-less one, and then not compared.
    pub parent_uuid: Uuid,
    /// Bit 0: [`IB_FLAG_ERROR`]. Written as 0.
    pub flags: U32,
    /// 1 for a v1.1 BTT (info block at byte 4096), 2 for v2.0 (at byte 0).
    pub version_major: U16,
    /// 1 for v1.1, 0 for v2.0.
    pub version_minor: U16,
    /// Bytes per block as the block device sees it: the sector size plus integrity metadata.
    pub external_lbasize: U32,
    /// Blocks this arena adds to the device (`internal_nlba - nfree`).
    pub external_nlba: U32,
    /// Bytes per block in the data area: `external_lbasize` rounded up to 64.
    pub internal_lbasize: U32,
    /// Blocks in the data area, the free ones included.
    pub internal_nlba: U32,
    /// Free blocks, one per flog lane (256).
    pub nfree: U32,
    /// Size of this block (4096); never read by the kernel.
    pub infosize: U32,
    /// Bytes from this arena to the next one's info block; 0 in the last arena.
    pub nextoff: U64,
    /// Bytes from the arena start to the data area (4096).
    pub dataoff: U64,
    /// Bytes from the arena start to the map.
    pub mapoff: U64,
    /// Bytes from the arena start to the flog.
    pub logoff: U64,
    /// Bytes from the arena start to the backup info block (the arena's last page).
    pub info2off: U64,
    /// Zero.
    pub padding: [u8; 3968],
    /// `nd_fletcher64` of the block with this field taken as zero (`nd_sb_checksum`).
    pub checksum: U64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<BttSb>() == BttSb::SIZE);
    assert!(offset_of!(BttSb, signature) == offset::SIGNATURE);
    assert!(offset_of!(BttSb, uuid) == offset::UUID);
    assert!(offset_of!(BttSb, parent_uuid) == offset::PARENT_UUID);
    assert!(offset_of!(BttSb, flags) == offset::FLAGS);
    assert!(offset_of!(BttSb, version_major) == offset::VERSION_MAJOR);
    assert!(offset_of!(BttSb, version_minor) == offset::VERSION_MINOR);
    assert!(offset_of!(BttSb, external_lbasize) == offset::EXTERNAL_LBASIZE);
    assert!(offset_of!(BttSb, external_nlba) == offset::EXTERNAL_NLBA);
    assert!(offset_of!(BttSb, internal_lbasize) == offset::INTERNAL_LBASIZE);
    assert!(offset_of!(BttSb, internal_nlba) == offset::INTERNAL_NLBA);
    assert!(offset_of!(BttSb, nfree) == offset::NFREE);
    assert!(offset_of!(BttSb, infosize) == offset::INFOSIZE);
    assert!(offset_of!(BttSb, nextoff) == offset::NEXTOFF);
    assert!(offset_of!(BttSb, dataoff) == offset::DATAOFF);
    assert!(offset_of!(BttSb, mapoff) == offset::MAPOFF);
    assert!(offset_of!(BttSb, logoff) == offset::LOGOFF);
    assert!(offset_of!(BttSb, info2off) == offset::INFO2OFF);
    assert!(offset_of!(BttSb, padding) == offset::PADDING);
    assert!(offset_of!(BttSb, checksum) == offset::CHECKSUM);
    assert!(size_of::<LogEntry>() == 16);
    assert!(size_of::<LogGroup>() == 64);
    assert!(size_of::<MapEntry>() == 4);
};

impl BttSb {
    /// Size of the block in bytes.
    pub const SIZE: usize = 4096;

    /// A block of all zero bytes.
    #[must_use]
    pub fn zeroed() -> Self {
        <Self as zerocopy::FromZeros>::new_zeroed()
    }

    /// Copies a block out of exactly 4096 bytes; `None` for any other length.
    #[must_use]
    pub fn read_from(bytes: &[u8]) -> Option<Self> {
        Self::read_from_bytes(bytes).ok()
    }

    /// Whether the 16-byte signature is [`SIGNATURE`].
    #[must_use]
    pub fn has_signature(&self) -> bool {
        self.signature == SIGNATURE
    }

    /// Whether `flags` has [`IB_FLAG_ERROR`].
    #[must_use]
    pub fn has_error_flag(&self) -> bool {
        self.flags.get() & IB_FLAG_ERROR != 0
    }

    /// `nd_sb_checksum`: `nd_fletcher64` of the block with `checksum` taken as zero.
    #[must_use]
    pub fn compute_checksum(&self) -> u64 {
        nd_fletcher64_zeroed(self.as_bytes(), offset::CHECKSUM).unwrap_or(0)
    }

    /// Stores [`BttSb::compute_checksum`] in `checksum`.
    pub fn update_checksum(&mut self) {
        let sum = self.compute_checksum();
        self.checksum.set(sum);
    }

    /// Checks the stored checksum as `nd_btt_arena_is_valid` does.
    ///
    /// # Errors
    /// [`ChecksumMismatch`] with the stored and the computed values when they differ.
    pub fn verify_checksum(&self) -> Result<(), ChecksumMismatch> {
        let stored = self.checksum.get();
        let computed = self.compute_checksum();
        if stored == computed {
            Ok(())
        } else {
            Err(ChecksumMismatch { stored, computed })
        }
    }
}

/// A [`BttSb`] whose stored checksum is not `nd_sb_checksum` of the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChecksumMismatch {
    /// The value stored at bytes 4088..4096.
    pub stored: u64,
    /// The value computed with the checksum field taken as zero.
    pub computed: u64,
}

impl fmt::Display for ChecksumMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BTT info block checksum mismatch: stored {:#018x}, computed {:#018x}",
            self.stored, self.computed
        )
    }
}

impl core::error::Error for ChecksumMismatch {}

impl fmt::Debug for BttSb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BttSb")
            .field(
                "signature",
                &format_args!("\"{}\"", self.signature.escape_ascii()),
            )
            .field("uuid", &self.uuid)
            .field("parent_uuid", &self.parent_uuid)
            .field("flags", &self.flags.get())
            .field("version_major", &self.version_major.get())
            .field("version_minor", &self.version_minor.get())
            .field("external_lbasize", &self.external_lbasize.get())
            .field("external_nlba", &self.external_nlba.get())
            .field("internal_lbasize", &self.internal_lbasize.get())
            .field("internal_nlba", &self.internal_nlba.get())
            .field("nfree", &self.nfree.get())
            .field("infosize", &self.infosize.get())
            .field("nextoff", &self.nextoff.get())
            .field("dataoff", &self.dataoff.get())
            .field("mapoff", &self.mapoff.get())
            .field("logoff", &self.logoff.get())
            .field("info2off", &self.info2off.get())
            .field("padding_nonzero", &self.padding.iter().any(|&b| b != 0))
            .field("checksum", &format_args!("{:#018x}", self.checksum.get()))
            .finish()
    }
}

/// What a map entry says about its block (`btt_map_read`'s `ze` cases).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapState {
    /// Both flag bits clear: the initial state. The block maps to itself (post-map = pre-map)
    /// and the low 30 bits are ignored. A new arena's map is all zero, so every entry starts
    /// here.
    Identity,
    /// Both flag bits set (`MAP_ENT_NORMAL`): the low 30 bits are the post-map block.
    Normal,
    /// Only bit 31 (`MAP_TRIM`): the block reads as zeros.
    Zero,
    /// Only bit 30 (`MAP_ERR`): the block has a media error; the kernel fails the read
    /// with `-EIO`.
    Error,
}

/// One 4-byte map entry (little-endian): bit 31 = zero/trim flag (`ent_z_flag`), bit 30 =
/// error flag (`ent_e_flag`), low 30 bits = post-map block (`ent_lba`).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(transparent)]
pub struct MapEntry(pub U32);

impl MapEntry {
    /// `MAP_TRIM_MASK`, bit 31.
    pub const Z_FLAG: u32 = 1 << 31;
    /// `MAP_ERR_MASK`, bit 30.
    pub const E_FLAG: u32 = 1 << 30;
    /// `MAP_LBA_MASK`, the low 30 bits.
    pub const LBA_MASK: u32 = !(Self::Z_FLAG | Self::E_FLAG);
    /// `MAP_ENT_NORMAL`: both flags.
    pub const NORMAL: u32 = Self::Z_FLAG | Self::E_FLAG;
    /// The entry of a never-written block (all zero).
    pub const IDENTITY: Self = Self(U32::ZERO);

    /// The entry with this raw value.
    #[must_use]
    pub const fn new(raw: u32) -> Self {
        Self(U32::new(raw))
    }

    /// A normal entry for `postmap` (flag bits of `postmap` are dropped, as `btt_map_write`
    /// does).
    #[must_use]
    pub const fn normal(postmap: u32) -> Self {
        Self::new((postmap & Self::LBA_MASK) | Self::NORMAL)
    }

    /// A zero (trimmed) entry for `postmap`.
    #[must_use]
    pub const fn zero(postmap: u32) -> Self {
        Self::new((postmap & Self::LBA_MASK) | Self::Z_FLAG)
    }

    /// An error entry for `postmap`.
    #[must_use]
    pub const fn error(postmap: u32) -> Self {
        Self::new((postmap & Self::LBA_MASK) | Self::E_FLAG)
    }

    /// The raw 32-bit value.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0.get()
    }

    /// `ent_lba`: the low 30 bits.
    #[must_use]
    pub const fn lba(self) -> u32 {
        self.raw() & Self::LBA_MASK
    }

    /// `ent_z_flag`.
    #[must_use]
    pub const fn z_flag(self) -> bool {
        self.raw() & Self::Z_FLAG != 0
    }

    /// `ent_e_flag`.
    #[must_use]
    pub const fn e_flag(self) -> bool {
        self.raw() & Self::E_FLAG != 0
    }

    /// Which of the four cases of `btt_map_read` the entry is.
    #[must_use]
    pub const fn state(self) -> MapState {
        match (self.z_flag(), self.e_flag()) {
            (false, false) => MapState::Identity,
            (true, true) => MapState::Normal,
            (true, false) => MapState::Zero,
            (false, true) => MapState::Error,
        }
    }

    /// `btt_map_read`'s `mapping` for the entry of block `premap`: `premap` itself in the
    /// identity state, the low 30 bits otherwise.
    #[must_use]
    pub const fn postmap(self, premap: u32) -> u32 {
        match self.state() {
            MapState::Identity => premap,
            _ => self.lba(),
        }
    }
}

impl fmt::Debug for MapEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MapEntry({:#010x}: {:?} {})",
            self.raw(),
            self.state(),
            self.lba()
        )
    }
}

/// `struct log_entry`: one 16-byte flog entry, a record of one block write.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Debug,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct LogEntry {
    /// The pre-map (external, arena-relative) block written.
    pub lba: U32,
    /// The map entry before the write: the block that became free (flags may be set).
    pub old_map: U32,
    /// The map entry after the write: the block that now holds the data.
    pub new_map: U32,
    /// Sequence number 1, 2 or 3 (1 → 2 → 3 → 1); 0 is an unused slot.
    pub seq: U32,
}

impl LogEntry {
    /// `ent_is_padding`: every field zero.
    #[must_use]
    pub fn is_padding(&self) -> bool {
        self.lba.get() == 0
            && self.old_map.get() == 0
            && self.new_map.get() == 0
            && self.seq.get() == 0
    }

    /// `ent_lba(old_map)`.
    #[must_use]
    pub fn old_postmap(&self) -> u32 {
        self.old_map.get() & MapEntry::LBA_MASK
    }

    /// `ent_lba(new_map)`.
    #[must_use]
    pub fn new_postmap(&self) -> u32 {
        self.new_map.get() & MapEntry::LBA_MASK
    }
}

/// The two slot pairs of a flog group the kernel accepts (`log_set_indices`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogLayout {
    /// Entries in slots 0 and 1, padding in 2 and 3: kernels from 4.15 on, and what the
    /// kernel assumes when every lane is still in its initial state.
    Slots01,
    /// Entries in slots 0 and 2, padding in 1 and 3: the layout of kernels before 4.15.
    Slots02,
}

impl LogLayout {
    /// `arena->log_index`: the slots of the two entries (sub-slot 0 and 1).
    #[must_use]
    pub const fn slots(self) -> [usize; 2] {
        match self {
            Self::Slots01 => [0, 1],
            Self::Slots02 => [0, 2],
        }
    }
}

/// Why `btt_log_get_old` cannot tell which of a lane's two entries is the older.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogSeqError {
    /// `seq` of sub-slot 0.
    pub seq0: u32,
    /// `seq` of sub-slot 1.
    pub seq1: u32,
}

/// `struct log_group`: one lane of the flog, four 16-byte slots of which two hold entries.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Debug,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct LogGroup {
    /// The four slots.
    pub ent: [LogEntry; 4],
}

impl LogGroup {
    /// The entry in sub-slot `sub` (0 or 1) for `layout`.
    #[must_use]
    pub fn entry(&self, layout: LogLayout, sub: usize) -> Option<&LogEntry> {
        let slot = *layout.slots().get(sub)?;
        self.ent.get(slot)
    }

    /// `btt_log_get_old`: the sub-slot (0 or 1) of the older entry.
    ///
    /// The kernel's rule, including its corner cases: a sub-slot 0 with `seq` 0 makes it the
    /// older (the lane was never used); equal sequence numbers, or numbers whose 32-bit
    /// (wrapping) sum exceeds 5, are corruption; otherwise, of two numbers that differ by one
    /// the smaller is the older, and of two that differ by more (3 and 1, a wrap of the
    /// 1 → 2 → 3 → 1 cycle) the larger is.
    ///
    /// # Errors
    /// [`LogSeqError`] with both numbers where the kernel returns `-EINVAL` (and then fails
    /// the arena with `-EIO`, "log corruption").
    pub fn older(&self, layout: LogLayout) -> Result<usize, LogSeqError> {
        let [i0, i1] = layout.slots();
        let seq0 = self.ent.get(i0).map_or(0, |e| e.seq.get());
        let seq1 = self.ent.get(i1).map_or(0, |e| e.seq.get());
        if seq0 == 0 {
            return Ok(0);
        }
        // btt_log_get_old: the C sum of two u32 wraps.
        if seq0 == seq1 || seq0.wrapping_add(seq1) > 5 {
            return Err(LogSeqError { seq0, seq1 });
        }
        Ok(if seq0 < seq1 {
            if seq1.wrapping_sub(seq0) == 1 {
                0
            } else {
                1
            }
        } else if seq0.wrapping_sub(seq1) == 1 {
            1
        } else {
            0
        })
    }

    /// The newer entry of the lane and its sub-slot, as `btt_log_read(..., LOG_NEW_ENT)`
    /// returns it.
    ///
    /// # Errors
    /// As [`LogGroup::older`].
    pub fn newer(&self, layout: LogLayout) -> Result<(usize, LogEntry), LogSeqError> {
        let sub = if self.older(layout)? == 0 { 1 } else { 0 };
        Ok((sub, self.entry(layout, sub).copied().unwrap_or_default()))
    }
}

/// `nd_inc_seq`: the next sequence number of the 1 → 2 → 3 → 1 cycle (0 stays 0).
#[must_use]
pub const fn next_seq(seq: u32) -> u32 {
    match seq & 3 {
        1 => 2,
        2 => 3,
        3 => 1,
        _ => 0,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn group(seq0: u32, seq1: u32) -> LogGroup {
        let mut g = LogGroup::default();
        g.ent[0].seq.set(seq0);
        g.ent[1].seq.set(seq1);
        g
    }

    /// The kernel's rule, case by case from `btt_log_get_old` (older sub-slot).
    #[test]
    fn older_follows_btt_log_get_old() {
        let l = LogLayout::Slots01;
        // seq0 == 0: sub-slot 0 is the older whatever seq1 is.
        assert_eq!(group(0, 0).older(l), Ok(0));
        assert_eq!(group(0, 7).older(l), Ok(0));
        // Initial flog: slot 0 seq 1, slot 1 empty: 1 - 0 == 1, so slot 1 is the older.
        assert_eq!(group(1, 0).older(l), Ok(1));
        assert_eq!(group(1, 2).older(l), Ok(0));
        assert_eq!(group(2, 3).older(l), Ok(0));
        assert_eq!(group(3, 1).older(l), Ok(0)); // 3 - 1 = 2: the wrap, 1 is newer
        assert_eq!(group(1, 3).older(l), Ok(1));
        assert_eq!(group(2, 1).older(l), Ok(1));
        assert_eq!(group(2, 2).older(l), Err(LogSeqError { seq0: 2, seq1: 2 }));
        assert_eq!(group(3, 3).older(l), Err(LogSeqError { seq0: 3, seq1: 3 }));
        // 3 + 3 > 5 is caught by equality; 4 + 2 = 6 > 5 by the sum.
        assert_eq!(group(4, 2).older(l), Err(LogSeqError { seq0: 4, seq1: 2 }));
        // 4 + 1 = 5 passes: 4 - 1 = 3 != 1, so sub-slot 0 is the older.
        assert_eq!(group(4, 1).older(l), Ok(0));
        // u32 wrap of the sum: 0xffff_ffff + 2 = 1 <= 5.
        assert_eq!(group(u32::MAX, 2).older(l), Ok(0));
        // The old layout reads slot 2, not slot 1.
        let mut g = group(1, 0);
        g.ent[2].seq.set(2);
        assert_eq!(g.older(LogLayout::Slots02), Ok(0));
        assert_eq!(g.newer(LogLayout::Slots02).unwrap().0, 1);
    }

    #[test]
    fn map_entry_states() {
        assert_eq!(MapEntry::IDENTITY.state(), MapState::Identity);
        assert_eq!(MapEntry::IDENTITY.postmap(17), 17);
        // Both flags clear: identity even with low bits set (btt_map_read case 0).
        assert_eq!(MapEntry::new(5).postmap(17), 17);
        assert_eq!(MapEntry::new(0xC000_0005).state(), MapState::Normal);
        assert_eq!(MapEntry::new(0xC000_0005).postmap(17), 5);
        assert_eq!(MapEntry::new(0x8000_0005).state(), MapState::Zero);
        assert_eq!(MapEntry::new(0x4000_0005).state(), MapState::Error);
        assert_eq!(MapEntry::normal(0xFFFF_FFFF).raw(), 0xFFFF_FFFF);
        assert_eq!(MapEntry::zero(3).raw(), 0x8000_0003);
        assert_eq!(MapEntry::error(3).raw(), 0x4000_0003);
        assert_eq!(next_seq(1), 2);
        assert_eq!(next_seq(3), 1);
        assert_eq!(next_seq(0), 0);
    }
}

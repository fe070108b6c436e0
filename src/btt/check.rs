//! The deep check of a BTT: what `ndctl check-namespace` checks (`btt_info_verify`,
//! `btt_check_arenas`: the flog's entries, the map's entries, the flog against the map, the
//! backup info block, and the bitmap of internal blocks), and more, with every problem
//! reported as a typed [`Finding`] naming the arena, the lane and the LBA.
//!
//! # What is checked, per arena
//!
//! * **Info blocks.** The primary (at the arena's start) and the backup (at `info2off`, the
//!   arena's last page) are each checked as `nd_btt_arena_is_valid` checks a block
//!   (signature, `parent_uuid`, checksum; and, for the first arena, the version of its
//!   placement), and compared byte for byte: the kernel writes the same block to both places
//!   (`btt_arena_write_layout` → `btt_info_write`, backup first). When the primary is bad the
//!   backup is looked for where the kernel puts it (`alloc_arena`: the last 4096-byte page of
//!   an arena of `min(remaining, 512 GiB)` bytes, rounded down to a page) and where the bad
//!   primary's `info2off` points; a candidate counts only if it is valid and its own
//!   `info2off` points back at it. With neither copy valid the chain cannot be followed:
//!   [`Finding::InfoUnrecoverable`], and the check stops there.
//! * **Flog, per lane.** The slot layout (`log_set_indices`; a failure is reported as the
//!   kernel's [`Invalid`] reason), each lane's padding slots all zero and its first entry
//!   slot used, the two sequence numbers (valid: `(1, 0)`, the initial state, or two
//!   different numbers of 1..=3; [`Finding::LogSeq`] says whether the kernel's own rule,
//!   `btt_log_get_old`, still orders them), and in each live entry `lba < external_nlba`,
//!   `old_map`/`new_map` (flags stripped, as the kernel does) `< internal_nlba`.
//! * **Map.** Every entry's post-map block `< internal_nlba` (the identity state maps a block
//!   to itself); entries with only the error flag are reported as notes (the kernel fails
//!   their reads with `-EIO`).
//! * **Every internal block used exactly once.** Each of the `internal_nlba` blocks must be
//!   the post-map block of exactly one map entry or the free block of exactly one lane. The
//!   free block of a lane is what `btt_freelist_init` makes it: the **newer** entry's
//!   `old_map`. When that entry records a write whose map update did not happen (the map
//!   entry still holds `old_map` and not `new_map`), the kernel completes the update when it
//!   attaches the BTT; the check does the same in its accounting (the lane's `new_map` is
//!   counted as mapped and `old_map` as free: the same set of blocks) and reports
//!   [`Finding::PendingMapUpdate`] as a note. A block named twice is
//!   [`Finding::BlockReferencedTwice`] (with both referrers when they can be found, see
//!   below), a block named by nothing [`Finding::BlockUnreferenced`].
//!
//! # Memory and passes
//!
//! Nothing is allocated. The caller passes a [`Scratch`]: a bitmap of one bit per internal
//! block and an I/O buffer through which the map and the flog are read in chunks. A bitmap of
//! `ceil(internal_nlba / 8)` bytes for the largest arena ([`Sizes::bitmap_single_pass`])
//! checks each arena in one pass over its map; a smaller one (at least
//! [`MIN_BITMAP_BYTES`], or the single-pass size when that is smaller) checks the blocks in
//! windows of `8 * bitmap.len()` blocks, one pass over the map and the flog per window (two
//! for a window that needs the exact pass, below). A
//! 1 TiB namespace of 4 KiB sectors (two arenas of ~134 M blocks) needs 16.8 MB for one pass,
//! and can be checked with 1 MiB in 16 passes per arena.
//!
//! Each window is first checked by parity: the references that are not identity ones (the
//! lanes' blocks and the non-zero map entries' blocks) and the blocks that identity
//! references leave out (the non-zero entries' premaps and `[external_nlba,
//! internal_nlba)`) each flip a bit, and both are counted. Every block of the window is
//! referenced exactly once if and only if no bit is left set and the counts agree, so a
//! healthy map costs one OR per 512 bytes and two bit flips per written entry, whatever its
//! size. A window that fails (or holds a lane whose entries the kernel cannot order) is
//! passed over again, exactly: a bit set per reference, so that each block referenced twice
//! or not at all is named. That pass is counted in [`Summary::passes`] and adds its bytes to
//! [`Progress::total`].
//!
//! Findings are computed in the first window only when they do not depend on the bitmap
//! (map, flog and info-block findings), so each is reported once.
//!
//! When a block is referenced twice, the later referrer (in the order flog lanes, then map
//! entries) is known at once; the earlier one is found by one extra pass over the flog and,
//! if needed, the map, for up to [`CONFLICT_TABLE`] blocks per window. Beyond that, the
//! finding's `first` is `None`.

use core::fmt;

use zerocopy::{FromBytes, IntoBytes};

use crate::btt::arena::{check_info, Arena, BttVersion, Namespace};
use crate::btt::error::Invalid;
use crate::btt::raw::{
    BttSb, LogEntry, LogGroup, LogLayout, MapEntry, ARENA_MAX_SIZE, BTT_PG_SIZE, LOG_GRP_SIZE,
    MAP_ENT_SIZE,
};
use crate::io::ReadAt;

/// The smallest bitmap accepted (unless the largest arena needs less): 4096 bytes, a window
/// of 32 768 blocks per pass.
pub const MIN_BITMAP_BYTES: usize = 4096;
/// The smallest I/O buffer accepted: one 4096-byte page (64 flog lanes, 1024 map entries).
pub const MIN_IO_BYTES: usize = 4096;
/// The I/O buffer size that reaches the read throughput of large reads on common storage:
/// 64 KiB.
pub const RECOMMENDED_IO_BYTES: usize = 64 * 1024;
/// Blocks referenced twice whose first referrer is looked up, per window.
pub const CONFLICT_TABLE: usize = 32;

/// Which of an arena's two info blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InfoCopy {
    /// The block at the arena's start (the one the kernel reads).
    Primary,
    /// The block at `info2off` (written by the kernel, never read by it).
    Backup,
}

impl fmt::Display for InfoCopy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Primary => "primary info block",
            Self::Backup => "backup info block",
        })
    }
}

/// A field of a flog entry, for [`Finding::LogMapOutOfRange`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogField {
    /// `old_map`.
    OldMap,
    /// `new_map`.
    NewMap,
}

impl fmt::Display for LogField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OldMap => "old_map",
            Self::NewMap => "new_map",
        })
    }
}

/// What references an internal block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Referrer {
    /// The map entry of pre-map block `lba` (arena-relative).
    Map {
        /// Pre-map block.
        lba: u32,
    },
    /// Flog lane `lane`: the block is its free block.
    Lane {
        /// Lane.
        lane: u32,
    },
}

impl fmt::Display for Referrer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Map { lba } => write!(f, "map entry {lba}"),
            Self::Lane { lane } => write!(f, "flog lane {lane} (free block)"),
        }
    }
}

/// How serious a [`Finding`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// A state the kernel reaches and handles itself; nothing is wrong.
    Note,
    /// Redundancy is lost (the backup info block, the arena's error flag); the data is intact.
    Warning,
    /// The kernel refuses the BTT, or the metadata is inconsistent.
    Error,
}

/// Whether a flog slot should hold an entry or padding, for [`Finding::LogSlot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotContent {
    /// An entry (the slot of sub-slot 0, used in every lane since the flog was written).
    Entry,
    /// Padding: all 16 bytes zero.
    Padding,
}

/// One problem (or note) found by [`check`]. `arena` is the arena's index in the chain;
/// `lba` values are arena-relative pre-map blocks, `block` values post-map (internal) blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Finding {
    /// A structural reason of the crate's BTT reader (the namespace's size, an arena's
    /// geometry, the flog's slot layout, ...); [`Invalid::kernel_refuses`] says whether the
    /// kernel refuses the device for it.
    Invalid(Invalid),
    /// One info block fails `nd_btt_arena_is_valid` (or, in the first arena, its version is
    /// not the one of its placement). Repairable from the other copy when that one is valid
    /// ([`crate::btt::repair`]).
    InfoInvalid {
        /// Arena index.
        arena: u32,
        /// Which copy.
        copy: InfoCopy,
        /// Namespace offset of the block.
        offset: u64,
        /// Why it is refused.
        reason: Invalid,
    },
    /// Both info blocks are valid but differ (the kernel writes the same bytes to both).
    InfoMismatch {
        /// Arena index.
        arena: u32,
        /// Namespace offset of the primary.
        primary: u64,
        /// Namespace offset of the backup.
        backup: u64,
        /// First byte (0..4096) that differs.
        first_difference: u32,
    },
    /// Neither info block of the arena is valid (or no backup could be found): not repairable,
    /// and the arenas after it cannot be found.
    InfoUnrecoverable {
        /// Arena index.
        arena: u32,
        /// Namespace offset of the primary.
        primary: u64,
        /// Namespace offset where the backup was looked for first (`None` when the arena
        /// leaves no room for one).
        backup: Option<u64>,
    },
    /// The arena has `IB_FLAG_ERROR`: the kernel refuses writes to it.
    ErrorFlag {
        /// Arena index.
        arena: u32,
    },
    /// A map entry points past the arena's blocks.
    MapOutOfRange {
        /// Arena index.
        arena: u32,
        /// Pre-map block.
        lba: u32,
        /// The raw 32-bit entry.
        entry: u32,
        /// Its post-map block.
        postmap: u32,
        /// `internal_nlba`.
        internal_nlba: u32,
    },
    /// A map entry has only the error flag: the block had a media error and reads fail with
    /// `-EIO` until it is written again (a note).
    MapMediaError {
        /// Arena index.
        arena: u32,
        /// Pre-map block.
        lba: u32,
        /// Post-map block.
        postmap: u32,
    },
    /// A flog slot holds padding where an entry must be, or an entry where padding must be.
    LogSlot {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// Slot 0..4.
        slot: u32,
        /// What the slot should hold.
        expected: SlotContent,
    },
    /// The lane's sequence numbers are not a valid pair (`(1, 0)` or two different values of
    /// 1..=3).
    LogSeq {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// `seq` of sub-slot 0.
        seq0: u32,
        /// `seq` of sub-slot 1.
        seq1: u32,
        /// Whether the kernel's `btt_log_get_old` fails on them (the kernel then refuses the
        /// arena, "log corruption"); when false, the kernel picks a newer entry anyway.
        kernel_refuses: bool,
    },
    /// A live flog entry names a pre-map block outside the map.
    LogLbaOutOfRange {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// Sub-slot (0 or 1).
        sub: u32,
        /// `lba` of the entry.
        lba: u32,
        /// `external_nlba`.
        external_nlba: u32,
    },
    /// A live flog entry's `old_map` or `new_map` (flags stripped) is past the arena's blocks.
    LogMapOutOfRange {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// Sub-slot (0 or 1).
        sub: u32,
        /// Which field.
        field: LogField,
        /// Its block (flags stripped).
        value: u32,
        /// `internal_nlba`.
        internal_nlba: u32,
    },
    /// The lane's newer entry records a write whose map update did not reach the media (the
    /// map entry still holds `old_map`); the kernel completes it when it attaches the BTT
    /// (`btt_freelist_init`). A note.
    PendingMapUpdate {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// Pre-map block.
        lba: u32,
        /// The block the map entry holds (`old_map`).
        old_postmap: u32,
        /// The block the kernel will write there (`new_map`).
        new_postmap: u32,
    },
    /// An internal block is referenced twice: by two map entries, by a map entry and a lane's
    /// free block, or by two lanes. `second` is the later referrer (lanes come before map
    /// entries; each in index order); `first` the earlier one, `None` when it was not looked
    /// up (more than [`CONFLICT_TABLE`] such blocks in one pass).
    BlockReferencedTwice {
        /// Arena index.
        arena: u32,
        /// Post-map block.
        block: u32,
        /// Earlier referrer.
        first: Option<Referrer>,
        /// Later referrer.
        second: Referrer,
    },
    /// An internal block is neither the post-map block of a map entry nor a lane's free
    /// block (lost).
    BlockUnreferenced {
        /// Arena index.
        arena: u32,
        /// Post-map block.
        block: u32,
    },
}

impl Finding {
    /// How serious the finding is.
    #[must_use]
    pub const fn severity(&self) -> Severity {
        match self {
            Self::PendingMapUpdate { .. } | Self::MapMediaError { .. } => Severity::Note,
            Self::InfoInvalid {
                copy: InfoCopy::Backup,
                ..
            }
            | Self::InfoMismatch { .. }
            | Self::ErrorFlag { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The arena the finding is about (`None` for a namespace-wide reason).
    #[must_use]
    pub const fn arena(&self) -> Option<u32> {
        match *self {
            Self::Invalid(i) => invalid_arena(&i),
            Self::InfoInvalid { arena, .. }
            | Self::InfoMismatch { arena, .. }
            | Self::InfoUnrecoverable { arena, .. }
            | Self::ErrorFlag { arena }
            | Self::MapOutOfRange { arena, .. }
            | Self::MapMediaError { arena, .. }
            | Self::LogSlot { arena, .. }
            | Self::LogSeq { arena, .. }
            | Self::LogLbaOutOfRange { arena, .. }
            | Self::LogMapOutOfRange { arena, .. }
            | Self::PendingMapUpdate { arena, .. }
            | Self::BlockReferencedTwice { arena, .. }
            | Self::BlockUnreferenced { arena, .. } => Some(arena),
        }
    }

    /// Whether [`crate::btt::repair::plan_repair`] repairs it (a bad or differing info block
    /// whose other copy is valid).
    #[must_use]
    pub const fn repairable(&self) -> bool {
        matches!(self, Self::InfoInvalid { .. } | Self::InfoMismatch { .. })
    }
}

const fn invalid_arena(i: &Invalid) -> Option<u32> {
    match *i {
        Invalid::BadSignature { arena, .. }
        | Invalid::ParentUuidMismatch { arena, .. }
        | Invalid::ChecksumMismatch { arena, .. }
        | Invalid::ZeroLbasize { arena }
        | Invalid::LbasizeMismatch { arena, .. }
        | Invalid::InternalLbasizeTooSmall { arena, .. }
        | Invalid::NoFreeBlocks { arena }
        | Invalid::NlbaMismatch { arena, .. }
        | Invalid::AreaOverlap { arena, .. }
        | Invalid::ArenaPastEnd { arena, .. }
        | Invalid::LogLayoutMismatch { arena, .. }
        | Invalid::UnknownLogLayout { arena, .. }
        | Invalid::LogSeq { arena, .. }
        | Invalid::FlogLbaOutOfRange { arena, .. } => Some(arena),
        Invalid::VersionMismatch { .. } => Some(0),
        _ => None,
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Invalid(i) => fmt::Display::fmt(&i, f),
            Self::InfoInvalid {
                arena,
                copy,
                offset,
                reason,
            } => write!(
                f,
                "arena {arena}: {copy} at {offset:#x} is invalid: {reason}"
            ),
            Self::InfoMismatch {
                arena,
                primary,
                backup,
                first_difference,
            } => write!(
                f,
                "arena {arena}: info blocks at {primary:#x} and {backup:#x} are both valid but \
                 differ (first at byte {first_difference})"
            ),
            Self::InfoUnrecoverable {
                arena,
                primary,
                backup,
            } => match backup {
                Some(b) => write!(
                    f,
                    "arena {arena}: neither the info block at {primary:#x} nor a backup (looked \
                     for at {b:#x}) is valid"
                ),
                None => write!(
                    f,
                    "arena {arena}: the info block at {primary:#x} is invalid and there is no \
                     room for a backup"
                ),
            },
            Self::ErrorFlag { arena } => {
                write!(
                    f,
                    "arena {arena}: IB_FLAG_ERROR is set (writes are refused)"
                )
            }
            Self::MapOutOfRange {
                arena,
                lba,
                entry,
                postmap,
                internal_nlba,
            } => write!(
                f,
                "arena {arena}: map[{lba}] = {entry:#010x} points at block {postmap}, past \
                 internal_nlba {internal_nlba}"
            ),
            Self::MapMediaError {
                arena,
                lba,
                postmap,
            } => write!(
                f,
                "arena {arena}: map[{lba}] (block {postmap}) has the error flag (reads fail)"
            ),
            Self::LogSlot {
                arena,
                lane,
                slot,
                expected,
            } => match expected {
                SlotContent::Entry => write!(
                    f,
                    "arena {arena}: flog lane {lane} slot {slot} is padding where an entry must be"
                ),
                SlotContent::Padding => write!(
                    f,
                    "arena {arena}: flog lane {lane} slot {slot} is not padding"
                ),
            },
            Self::LogSeq {
                arena,
                lane,
                seq0,
                seq1,
                kernel_refuses,
            } => write!(
                f,
                "arena {arena}: flog lane {lane}: sequence numbers ({seq0}, {seq1}) are not a \
                 valid pair{}",
                if kernel_refuses {
                    " (the kernel refuses the arena)"
                } else {
                    ""
                }
            ),
            Self::LogLbaOutOfRange {
                arena,
                lane,
                sub,
                lba,
                external_nlba,
            } => write!(
                f,
                "arena {arena}: flog lane {lane} entry {sub}: lba {lba} is past external_nlba \
                 {external_nlba}"
            ),
            Self::LogMapOutOfRange {
                arena,
                lane,
                sub,
                field,
                value,
                internal_nlba,
            } => write!(
                f,
                "arena {arena}: flog lane {lane} entry {sub}: {field} {value} is past \
                 internal_nlba {internal_nlba}"
            ),
            Self::PendingMapUpdate {
                arena,
                lane,
                lba,
                old_postmap,
                new_postmap,
            } => write!(
                f,
                "arena {arena}: flog lane {lane}: map[{lba}] still holds {old_postmap}; the \
                 kernel will set it to {new_postmap} when it attaches the BTT"
            ),
            Self::BlockReferencedTwice {
                arena,
                block,
                first,
                second,
            } => match first {
                Some(first) => write!(
                    f,
                    "arena {arena}: block {block} is referenced by {first} and by {second}"
                ),
                None => write!(
                    f,
                    "arena {arena}: block {block} is referenced by {second} and by an earlier \
                     referrer"
                ),
            },
            Self::BlockUnreferenced { arena, block } => {
                write!(f, "arena {arena}: block {block} is neither mapped nor free")
            }
        }
    }
}

/// Progress of [`check`]: bytes of map and flog read so far, of the total the check will read
/// (one pass per window, known after the arenas are found, and one more pass for each window
/// that needs the exact pass, added when it starts; the look-ups of [`CONFLICT_TABLE`] and of
/// the lanes' map entries are not counted, so `done` never exceeds `total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Progress {
    /// Bytes read.
    pub done: u64,
    /// Bytes to read; it grows by one pass over the arena's map and flog when a window
    /// needs the exact pass.
    pub total: u64,
}

/// The caller's memory for [`check`].
#[derive(Debug)]
pub struct Scratch<'a> {
    /// One bit per internal block of a window (see the module documentation).
    pub bitmap: &'a mut [u8],
    /// Buffer for the chunked reads of the map and the flog; at least [`MIN_IO_BYTES`],
    /// ideally [`RECOMMENDED_IO_BYTES`] or more.
    pub io: &'a mut [u8],
}

/// Why [`check`] could not run to its end. Problems of the image are [`Finding`]s, never
/// errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckError<E> {
    /// The read of `len` bytes at namespace offset `offset` failed.
    Io {
        /// Namespace offset.
        offset: u64,
        /// Bytes.
        len: usize,
        /// The caller's error.
        source: E,
    },
    /// The bitmap is smaller than the check needs.
    BitmapTooSmall {
        /// Bytes given.
        len: usize,
        /// Bytes needed at least (multi-pass).
        min: usize,
        /// Bytes for one pass per arena.
        single_pass: usize,
    },
    /// The I/O buffer is smaller than [`MIN_IO_BYTES`].
    IoBufferTooSmall {
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        min: usize,
    },
}

impl<E: fmt::Display> fmt::Display for CheckError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                offset,
                len,
                source,
            } => write!(
                f,
                "read of {len} bytes at offset {offset:#x} failed: {source}"
            ),
            Self::BitmapTooSmall {
                len,
                min,
                single_pass,
            } => write!(
                f,
                "bitmap of {len} bytes is too small: at least {min} bytes are needed \
                 ({single_pass} for one pass per arena)"
            ),
            Self::IoBufferTooSmall { len, min } => {
                write!(
                    f,
                    "I/O buffer of {len} bytes is too small: {min} bytes are needed"
                )
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for CheckError<E> {}

/// What [`check`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Summary {
    /// Arenas checked (found through a valid info block).
    pub arenas: u32,
    /// Findings of [`Severity::Error`].
    pub errors: u64,
    /// Findings of [`Severity::Warning`].
    pub warnings: u64,
    /// Findings of [`Severity::Note`].
    pub notes: u64,
    /// Passes over the maps: one per window per arena, and one more for each window whose
    /// parity pass did not prove every block referenced exactly once (a block referenced
    /// twice or not at all, or a lane whose entries the kernel cannot order).
    pub passes: u64,
}

impl Summary {
    /// Whether nothing but notes was found.
    #[must_use]
    pub const fn is_clean(&self) -> bool {
        self.errors == 0 && self.warnings == 0
    }
}

/// What [`sizes`] finds: the memory and reads [`check`] needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sizes {
    /// Arenas found.
    pub arenas: u32,
    /// Bitmap bytes for one pass per arena: `ceil(internal_nlba / 8)` of the largest arena.
    pub bitmap_single_pass: usize,
    /// Bytes of map and flog over all arenas (one pass each).
    pub metadata_bytes: u64,
}

impl Sizes {
    /// The smallest bitmap [`check`] accepts.
    #[must_use]
    pub fn bitmap_min(&self) -> usize {
        self.bitmap_single_pass.min(MIN_BITMAP_BYTES)
    }
}

// ---------------------------------------------------------------------------------------
// I/O helpers

fn read<R: ReadAt + ?Sized>(
    ns: &mut R,
    offset: u64,
    buf: &mut [u8],
) -> Result<(), CheckError<R::Error>> {
    ns.read_at(offset, buf).map_err(|source| CheckError::Io {
        offset,
        len: buf.len(),
        source,
    })
}

fn read_sb<R: ReadAt + ?Sized>(ns: &mut R, offset: u64) -> Result<BttSb, CheckError<R::Error>> {
    let mut sb = BttSb::zeroed();
    read(ns, offset, sb.as_mut_bytes())?;
    Ok(sb)
}

// ---------------------------------------------------------------------------------------
// The arena walk, tolerant of a bad primary info block.

/// What the walk decided about one arena's pair of info blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfoVerdict {
    /// Both valid and identical.
    Good,
    /// The primary is bad; the valid backup at this offset is the arena's info block (the
    /// arena was read from it).
    RestorePrimary {
        /// Namespace offset of the valid backup.
        from: u64,
    },
    /// The primary is valid; the backup (at the primary's `info2off`) is bad or differs.
    RestoreBackup,
}

/// One arena found by [`InfoWalk`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Found {
    /// The arena, read from the info block the verdict names (the primary unless
    /// [`InfoVerdict::RestorePrimary`]).
    pub arena: Arena,
    /// What the walk decided about the arena's two info blocks.
    pub verdict: InfoVerdict,
}

/// Namespace offsets where the backup info block of the arena whose primary is at `infooff`
/// is looked for when that primary is bad, in this order: where the kernel puts it
/// (`alloc_arena`: the last whole 4096-byte page of an arena of `min(remaining, 512 GiB)`
/// bytes) and where the bad primary's stored `info2off` points (`stored_info2off`, relative
/// to `infooff`). `remaining` is the namespace's room from `infooff` on (for the first
/// arena, [`Namespace::check_size`]). A candidate must lie past the primary and end inside
/// `remaining`; the second is `None` when it is the first again or out of range, the first
/// when out of range. A candidate is only a place to look: the block found there counts when
/// it is valid and its own `info2off` points back at it (what [`InfoWalk`] checks).
#[must_use]
pub fn backup_candidates(infooff: u64, remaining: u64, stored_info2off: u64) -> [Option<u64>; 2] {
    let page = BTT_PG_SIZE;
    let size = remaining.min(ARENA_MAX_SIZE);
    let geometric = size.saturating_sub(size % page).checked_sub(page);
    let place = |rel: Option<u64>| {
        let rel = rel?;
        let end = rel.checked_add(page)?;
        if rel < page || end > remaining {
            return None;
        }
        infooff.checked_add(rel)
    };
    let first = place(geometric);
    let second = place(Some(stored_info2off)).filter(|&off| Some(off) != first);
    [first, second]
}

/// The kernel's arena walk (`discover_arenas`), falling back to the backup info block
/// (ndctl's `btt_discover_arenas`) and reporting what it sees. [`check`], [`sizes`] and
/// [`crate::btt::repair::plan_repair`] walk with it; a reader that wants every arena of a
/// BTT whose first primary is bad (`infoblock inspect`) can too.
///
/// Each block is checked as `nd_btt_arena_is_valid` checks it against the namespace's uuid
/// ([`Namespace::uuid`]) and, in the first arena, against the version of its placement.
#[derive(Clone, Copy, Debug)]
pub struct InfoWalk {
    namespace: Namespace,
    cur_off: u64,
    remaining: u64,
    nlba: u64,
    index: u32,
    first_lbasize: Option<u32>,
    done: bool,
    max: u32,
}

fn version_ok(sb: &BttSb, version: BttVersion) -> Result<(), Invalid> {
    if sb.version_major.get() != version.major() || sb.version_minor.get() != version.minor() {
        return Err(Invalid::VersionMismatch {
            major: sb.version_major.get(),
            minor: sb.version_minor.get(),
            expected: version,
        });
    }
    Ok(())
}

fn first_difference(a: &BttSb, b: &BttSb) -> Option<u32> {
    let pos = a
        .as_bytes()
        .iter()
        .zip(b.as_bytes())
        .position(|(x, y)| x != y)?;
    u32::try_from(pos).ok()
}

impl InfoWalk {
    /// A walk from the first arena of `namespace`; `report` hears
    /// [`Finding::Invalid`] when the namespace is too small for a BTT (the walk then finds
    /// nothing).
    pub fn new<F: FnMut(Finding)>(namespace: &Namespace, report: &mut F) -> Self {
        let (remaining, done) = match namespace.check_size() {
            Ok(raw) => (raw, false),
            Err(inv) => {
                report(Finding::Invalid(inv));
                (0, true)
            }
        };
        Self {
            namespace: *namespace,
            cur_off: 0,
            remaining,
            nlba: 0,
            index: 0,
            first_lbasize: None,
            done,
            max: u32::try_from(namespace.size / (2 * BTT_PG_SIZE)).unwrap_or(u32::MAX),
        }
    }

    /// The block's validity as the kernel sees it (plus the first arena's version).
    fn valid(&self, sb: &BttSb) -> Result<(), Invalid> {
        check_info(sb, self.index, &self.namespace.uuid)?;
        if self.index == 0 {
            version_ok(sb, self.namespace.version)?;
        }
        Ok(())
    }

    fn arena_from(&self, sb: &BttSb, infooff: u64) -> Result<Arena, Invalid> {
        Arena::from_info(
            sb,
            self.index,
            infooff,
            self.nlba,
            self.remaining,
            self.first_lbasize,
        )
    }

    /// The next arena, or `None` at the end of the chain (or when it cannot be followed; a
    /// finding says why). `report` hears each bad or differing info block
    /// ([`Finding::InfoInvalid`], [`Finding::InfoMismatch`]) before the arena is returned,
    /// and why the walk stops ([`Finding::InfoUnrecoverable`], [`Finding::Invalid`]).
    ///
    /// # Errors
    /// [`CheckError::Io`] when a read fails.
    pub fn next<R: ReadAt + ?Sized, F: FnMut(Finding)>(
        &mut self,
        ns: &mut R,
        report: &mut F,
    ) -> Result<Option<Found>, CheckError<R::Error>> {
        if self.done || self.remaining == 0 {
            return Ok(None);
        }
        self.done = true; // set again below when the walk goes on
        let arena = self.index;
        let infooff = self
            .namespace
            .version
            .info_offset()
            .saturating_add(self.cur_off);
        let page = BTT_PG_SIZE;
        if self.remaining < page.saturating_mul(2) || self.index >= self.max {
            report(Finding::Invalid(Invalid::ArenaPastEnd {
                arena,
                infooff,
                size: page.saturating_mul(2),
                namespace_size: self.namespace.size,
            }));
            return Ok(None);
        }
        let primary = read_sb(ns, infooff)?;
        let found = match self.valid(&primary) {
            Ok(()) => {
                let a = match self.arena_from(&primary, infooff) {
                    Ok(a) => a,
                    Err(inv) => {
                        report(Finding::Invalid(inv));
                        return Ok(None);
                    }
                };
                let backup = read_sb(ns, a.info2off)?;
                let verdict = match self.valid(&backup) {
                    Err(reason) => {
                        report(Finding::InfoInvalid {
                            arena,
                            copy: InfoCopy::Backup,
                            offset: a.info2off,
                            reason,
                        });
                        InfoVerdict::RestoreBackup
                    }
                    Ok(()) => match first_difference(&primary, &backup) {
                        None => InfoVerdict::Good,
                        Some(first_difference) => {
                            report(Finding::InfoMismatch {
                                arena,
                                primary: infooff,
                                backup: a.info2off,
                                first_difference,
                            });
                            InfoVerdict::RestoreBackup
                        }
                    },
                };
                Found { arena: a, verdict }
            }
            Err(reason) => {
                report(Finding::InfoInvalid {
                    arena,
                    copy: InfoCopy::Primary,
                    offset: infooff,
                    reason,
                });
                let candidates = backup_candidates(infooff, self.remaining, primary.info2off.get());
                let first_candidate = candidates[0].or(candidates[1]);
                let mut chosen = None;
                for off in candidates.into_iter().flatten() {
                    let rel = off.saturating_sub(infooff);
                    let backup = read_sb(ns, off)?;
                    // A candidate must be valid and say it is where it was found.
                    if self.valid(&backup).is_err() || backup.info2off.get() != rel {
                        continue;
                    }
                    if let Ok(a) = self.arena_from(&backup, infooff) {
                        chosen = Some(Found {
                            arena: a,
                            verdict: InfoVerdict::RestorePrimary { from: off },
                        });
                        break;
                    }
                }
                match chosen {
                    Some(found) => found,
                    None => {
                        report(Finding::InfoUnrecoverable {
                            arena,
                            primary: infooff,
                            backup: first_candidate,
                        });
                        return Ok(None);
                    }
                }
            }
        };
        let a = found.arena;
        // Arena::from_info checked size <= remaining.
        self.remaining = self.remaining.saturating_sub(a.size);
        self.cur_off = self.cur_off.saturating_add(a.size);
        self.nlba = self.nlba.saturating_add(u64::from(a.external_nlba));
        self.first_lbasize.get_or_insert(a.external_lbasize);
        self.done = a.nextoff == 0;
        self.index = self.index.saturating_add(1);
        Ok(Some(found))
    }
}

// ---------------------------------------------------------------------------------------
// Sizes

fn map_bytes(a: &Arena) -> u64 {
    u64::from(a.external_nlba).saturating_mul(MAP_ENT_SIZE)
}

fn log_bytes(a: &Arena) -> u64 {
    u64::from(a.nfree).saturating_mul(LOG_GRP_SIZE)
}

fn bitmap_bytes(a: &Arena) -> usize {
    usize::try_from(a.internal_nlba.div_ceil(8)).unwrap_or(usize::MAX)
}

fn passes(a: &Arena, bitmap_len: usize) -> u64 {
    let bits = u64::try_from(bitmap_len)
        .unwrap_or(u64::MAX)
        .saturating_mul(8);
    if bits == 0 {
        return 0;
    }
    u64::from(a.internal_nlba).div_ceil(bits).max(1)
}

/// Walks the arenas (reading only their info blocks) and says how much memory [`check`]
/// needs and how many bytes it reads.
///
/// # Errors
/// [`CheckError::Io`] when a read fails.
pub fn sizes<R: ReadAt + ?Sized>(
    ns: &mut R,
    namespace: &Namespace,
) -> Result<Sizes, CheckError<R::Error>> {
    let mut ignore = |_: Finding| {};
    let mut walk = InfoWalk::new(namespace, &mut ignore);
    let mut s = Sizes::default();
    while let Some(found) = walk.next(ns, &mut ignore)? {
        let a = &found.arena;
        s.arenas = s.arenas.saturating_add(1);
        s.bitmap_single_pass = s.bitmap_single_pass.max(bitmap_bytes(a));
        s.metadata_bytes = s
            .metadata_bytes
            .saturating_add(map_bytes(a))
            .saturating_add(log_bytes(a));
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// The deep check

/// Runs the deep check of the BTT on `ns` (the namespace, as [`Namespace`] describes it):
/// every finding goes to `report` as it is found, `progress` is called after each chunk read
/// of map or flog. Nothing is written.
///
/// # Errors
/// [`CheckError::Io`] when a read fails, [`CheckError::BitmapTooSmall`] /
/// [`CheckError::IoBufferTooSmall`] when the scratch is too small (before any map is read).
pub fn check<R, F, P>(
    ns: &mut R,
    namespace: &Namespace,
    scratch: Scratch<'_>,
    mut report: F,
    mut progress: P,
) -> Result<Summary, CheckError<R::Error>>
where
    R: ReadAt + ?Sized,
    F: FnMut(Finding),
    P: FnMut(Progress),
{
    let Scratch { bitmap, io } = scratch;
    if io.len() < MIN_IO_BYTES {
        return Err(CheckError::IoBufferTooSmall {
            len: io.len(),
            min: MIN_IO_BYTES,
        });
    }
    // A whole number of pages: every chunk holds whole map entries and flog groups.
    let io_len = io.len().saturating_sub(io.len() % MIN_IO_BYTES);
    let io = io.get_mut(..io_len).unwrap_or_default();

    // Pass 0: the arenas' geometry (info blocks only), for the sizes and the progress total.
    let s = sizes(ns, namespace)?;
    if bitmap.len() < s.bitmap_min() {
        return Err(CheckError::BitmapTooSmall {
            len: bitmap.len(),
            min: s.bitmap_min(),
            single_pass: s.bitmap_single_pass,
        });
    }

    let mut summary = Summary::default();
    let mut sink = |f: Finding| {
        match f.severity() {
            Severity::Error => summary.errors = summary.errors.saturating_add(1),
            Severity::Warning => summary.warnings = summary.warnings.saturating_add(1),
            Severity::Note => summary.notes = summary.notes.saturating_add(1),
        }
        report(f);
    };

    // The total is computed on the same walk the check repeats below.
    let mut total: u64 = 0;
    {
        let mut ignore = |_: Finding| {};
        let mut walk = InfoWalk::new(namespace, &mut ignore);
        while let Some(found) = walk.next(ns, &mut ignore)? {
            let a = &found.arena;
            let per_pass = map_bytes(a).saturating_add(log_bytes(a));
            total = total.saturating_add(per_pass.saturating_mul(passes(a, bitmap.len())));
        }
    }
    let mut meter = Meter {
        done: 0,
        total,
        progress: &mut progress,
    };

    let mut walk = InfoWalk::new(namespace, &mut sink);
    let mut arenas: u32 = 0;
    let mut passes_run: u64 = 0;
    while let Some(found) = walk.next(ns, &mut sink)? {
        arenas = arenas.saturating_add(1);
        let mut ctx = ArenaCheck {
            arena: found.arena,
            io: &mut *io,
            bitmap: &mut *bitmap,
            layout: LogLayout::Slots01,
        };
        passes_run = passes_run.saturating_add(ctx.run(ns, &mut sink, &mut meter)?);
    }
    summary.arenas = arenas;
    summary.passes = passes_run;
    Ok(summary)
}

struct Meter<'p, P: FnMut(Progress)> {
    done: u64,
    total: u64,
    progress: &'p mut P,
}

impl<P: FnMut(Progress)> Meter<'_, P> {
    fn add(&mut self, bytes: usize) {
        self.done = self
            .done
            .saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX))
            .min(self.total);
        (self.progress)(Progress {
            done: self.done,
            total: self.total,
        });
    }
}

/// What a lane contributes to the block accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LaneBlock {
    /// The lane owns this block (its free block, or `new_map` of a pending update).
    Owns(u32),
    /// Nothing in range (reported already).
    Nothing,
    /// The kernel cannot order the lane's entries: its blocks are unknown; the candidates are
    /// credited after the map pass so that they are not reported as lost.
    Unknown,
}

/// A block referenced twice, waiting for its first referrer.
#[derive(Clone, Copy, Debug)]
struct Conflict {
    block: u32,
    second: Referrer,
    first: Option<Referrer>,
}

/// The sorted conflicts of one window.
struct Conflicts {
    items: [Conflict; CONFLICT_TABLE],
    len: usize,
}

impl Conflicts {
    const EMPTY: Conflict = Conflict {
        block: 0,
        second: Referrer::Map { lba: 0 },
        first: None,
    };

    fn new() -> Self {
        Self {
            items: [Self::EMPTY; CONFLICT_TABLE],
            len: 0,
        }
    }

    fn slice(&self) -> &[Conflict] {
        self.items.get(..self.len).unwrap_or_default()
    }

    fn slice_mut(&mut self) -> &mut [Conflict] {
        self.items.get_mut(..self.len).unwrap_or_default()
    }

    /// Adds a conflict, keeping the table sorted by block (insertion order among equal
    /// blocks); false when the table is full.
    fn push(&mut self, c: Conflict) -> bool {
        if self.len >= CONFLICT_TABLE {
            return false;
        }
        let pos = self.slice().partition_point(|x| x.block <= c.block);
        // Shift the entries from `pos` on one slot right, `c` into `pos`.
        let mut cur = c;
        let end = self.len.saturating_add(1);
        for slot in self.items.iter_mut().take(end).skip(pos) {
            core::mem::swap(slot, &mut cur);
        }
        self.len = end;
        true
    }

    /// The index range of the conflicts on `block` (the table is sorted by block).
    fn on_block(&self, block: u32) -> core::ops::Range<usize> {
        let s = self.slice();
        let lo = s.partition_point(|c| c.block < block);
        let hi = s.partition_point(|c| c.block <= block);
        lo..hi
    }
}

struct ArenaCheck<'a> {
    arena: Arena,
    io: &'a mut [u8],
    bitmap: &'a mut [u8],
    layout: LogLayout,
}

/// Tests and sets bit `rel` of the bitmap; true when it was set already. `rel` is in range
/// by the caller's window check.
fn test_and_set(bitmap: &mut [u8], rel: u64) -> bool {
    let byte = usize::try_from(rel / 8).unwrap_or(usize::MAX);
    let mask = 1u8 << (rel % 8);
    match bitmap.get_mut(byte) {
        Some(b) => {
            let was = *b & mask != 0;
            *b |= mask;
            was
        }
        None => false,
    }
}

/// Whether the sequence pair is one the kernel writes: `(1, 0)` (a lane never written since
/// `btt_log_init`), or two different values of 1..=3.
fn seq_pair_valid(seq0: u32, seq1: u32) -> bool {
    let live = |s: u32| (1..=3).contains(&s);
    (seq0 == 1 && seq1 == 0) || (live(seq0) && live(seq1) && seq0 != seq1)
}

impl ArenaCheck<'_> {
    /// Checks the arena; returns the number of passes over its map.
    fn run<R, F, P>(
        &mut self,
        ns: &mut R,
        report: &mut F,
        meter: &mut Meter<'_, P>,
    ) -> Result<u64, CheckError<R::Error>>
    where
        R: ReadAt + ?Sized,
        F: FnMut(Finding),
        P: FnMut(Progress),
    {
        let a = self.arena;
        if a.has_error_flag() {
            report(Finding::ErrorFlag { arena: a.index });
        }
        self.layout = match a.log_layout(ns) {
            Ok(layout) => layout,
            Err(crate::btt::error::Error::Invalid(inv)) => {
                report(Finding::Invalid(inv));
                self.guess_layout(ns)?
            }
            Err(crate::btt::error::Error::Io {
                offset,
                len,
                source,
            }) => {
                return Err(CheckError::Io {
                    offset,
                    len,
                    source,
                })
            }
        };
        let bits = u64::try_from(self.bitmap.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(8);
        let n = passes(&a, self.bitmap.len());
        let mut lo: u64 = 0;
        let mut made: u64 = 0;
        for pass in 0..n {
            let hi = lo.saturating_add(bits).min(u64::from(a.internal_nlba));
            made = made.saturating_add(self.window(ns, report, meter, pass == 0, lo, hi)?);
            lo = hi;
        }
        Ok(made)
    }

    /// One window `[lo, hi)` of blocks: the parity pass, and when it cannot prove every block
    /// of the window referenced exactly once, the exact pass that names the blocks. Returns
    /// the passes made over the map (1 or 2).
    fn window<R, F, P>(
        &mut self,
        ns: &mut R,
        report: &mut F,
        meter: &mut Meter<'_, P>,
        first_window: bool,
        lo: u64,
        hi: u64,
    ) -> Result<u64, CheckError<R::Error>>
    where
        R: ReadAt + ?Sized,
        F: FnMut(Finding),
        P: FnMut(Progress),
    {
        if self.parity_window(ns, report, meter, first_window, lo, hi)? {
            return Ok(1);
        }
        // The exact pass reads the map and the flog once more; what does not depend on the
        // bitmap was reported by the parity pass.
        let a = &self.arena;
        meter.total = meter
            .total
            .saturating_add(map_bytes(a))
            .saturating_add(log_bytes(a));
        self.exact_window(ns, report, meter, false, lo, hi)?;
        Ok(2)
    }

    /// Reads the flog lanes, runs each lane's checks (reported in the first window) and hands
    /// its block to `f(bitmap, report, lane, block)`.
    fn each_lane<R, F, P>(
        &mut self,
        ns: &mut R,
        report: &mut F,
        meter: &mut Meter<'_, P>,
        first_window: bool,
        mut f: impl FnMut(&mut [u8], &mut F, u32, LaneBlock),
    ) -> Result<(), CheckError<R::Error>>
    where
        R: ReadAt + ?Sized,
        F: FnMut(Finding),
        P: FnMut(Progress),
    {
        let mut lane: u32 = 0;
        while lane < self.arena.nfree {
            let chunk = self.read_lanes(ns, lane)?;
            meter.add(chunk.len);
            let mut l = lane;
            for i in 0..chunk.lanes {
                let g = chunk.group(self.io, i);
                let block = self.lane(ns, report, first_window, l, &g)?;
                f(self.bitmap, report, l, block);
                l = l.saturating_add(1);
            }
            lane = lane.saturating_add(chunk.lanes);
        }
        Ok(())
    }

    /// Reads the map entries from `first` on (as many as the I/O buffer holds, none past
    /// `end`) into the I/O buffer; returns how many.
    fn read_map<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
        first: u32,
        end: u32,
    ) -> Result<u32, CheckError<R::Error>> {
        let per = u32::try_from(self.io.len() / 4).unwrap_or(u32::MAX);
        let count = end.saturating_sub(first).min(per);
        let len = usize::try_from(count).unwrap_or(0).saturating_mul(4);
        let offset = self
            .arena
            .mapoff
            .saturating_add(u64::from(first).saturating_mul(MAP_ENT_SIZE));
        read(ns, offset, self.io.get_mut(..len).unwrap_or_default())?;
        Ok(count)
    }

    /// The parity pass over the window `[lo, hi)`: reports the lanes' and map entries'
    /// findings (in the first window) and returns whether every block of the window is
    /// referenced exactly once, without setting a bit for any identity reference.
    ///
    /// The references are the identity ones (block = premap) of the map entries that are 0,
    /// and the multiset `T` of the others: each lane's block and each non-zero entry's
    /// post-map block. The identity ones are every block below `external_nlba` except the
    /// set `N` of non-zero entries' premaps, so every block of the window is referenced
    /// exactly once if and only if `T` equals, in the window, the set `S = N ∪
    /// [external_nlba, internal_nlba)`. Each element of `S` and of `T` in the window flips
    /// its bit (in a bitmap cleared by granules, see [`Parity`]), and both are counted: when no bit is left set, every
    /// element of `S` is in `T` an odd number of times and every other block an even number,
    /// and with as many elements in `T` as in `S`, each element of `S` is in `T` once and
    /// nothing else is. Anything else (including a lane whose entries the kernel cannot
    /// order) is left to the exact pass.
    fn parity_window<R, F, P>(
        &mut self,
        ns: &mut R,
        report: &mut F,
        meter: &mut Meter<'_, P>,
        first_window: bool,
        lo: u64,
        hi: u64,
    ) -> Result<bool, CheckError<R::Error>>
    where
        R: ReadAt + ?Sized,
        F: FnMut(Finding),
        P: FnMut(Progress),
    {
        let a = self.arena;
        let mut parity = Parity::new(lo, hi);
        // [external_nlba, internal_nlba): the blocks no identity reference can name.
        parity.add_s_range(
            self.bitmap,
            u64::from(a.external_nlba),
            u64::from(a.internal_nlba),
        );
        let mut any_unknown = false;

        // 1. The lanes' blocks.
        self.each_lane(
            ns,
            report,
            meter,
            first_window,
            |bitmap, _, _, block| match block {
                LaneBlock::Owns(b) => parity.add_t(bitmap, b),
                LaneBlock::Unknown => any_unknown = true,
                LaneBlock::Nothing => {}
            },
        )?;

        // 2. The map: only the non-zero entries do anything.
        let mut first: u32 = 0;
        while first < a.external_nlba {
            let count = self.read_map(ns, first, a.external_nlba)?;
            meter.add(usize::try_from(count).unwrap_or(0).saturating_mul(4));
            let entries = entries_of(self.io, count);
            let bitmap = &mut *self.bitmap;
            for_each_nonzero(entries, first, |premap, e| {
                parity.add_s(bitmap, premap);
                if let Some(b) = entry_block(&a, report, first_window, premap, e.raw()) {
                    parity.add_t(bitmap, b);
                }
            });
            first = first.saturating_add(count);
        }
        Ok(!any_unknown && parity.exactly_once())
    }

    /// `log_set_indices` failed: the layout most lanes use (slot 2 used more often than slot 1
    /// means the pre-4.15 layout), so that the lanes can still be checked one by one.
    fn guess_layout<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
    ) -> Result<LogLayout, CheckError<R::Error>> {
        let mut slot1: u64 = 0;
        let mut slot2: u64 = 0;
        let mut lane: u32 = 0;
        while lane < self.arena.nfree {
            let chunk = self.read_lanes(ns, lane)?;
            for g in chunk.groups(self.io) {
                let used = |i: usize| g.ent.get(i).is_some_and(|e| !e.is_padding());
                slot1 = slot1.saturating_add(u64::from(used(1)));
                slot2 = slot2.saturating_add(u64::from(used(2)));
            }
            lane = lane.saturating_add(chunk.lanes);
        }
        Ok(if slot2 > slot1 {
            LogLayout::Slots02
        } else {
            LogLayout::Slots01
        })
    }

    /// Reads the flog lanes from `first` on into the I/O buffer (as many as fit).
    fn read_lanes<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
        first: u32,
    ) -> Result<LaneChunk, CheckError<R::Error>> {
        let per = u32::try_from(self.io.len() / 64).unwrap_or(u32::MAX).max(1);
        let lanes = self.arena.nfree.saturating_sub(first).min(per);
        let len = usize::try_from(u64::from(lanes).saturating_mul(LOG_GRP_SIZE)).unwrap_or(0);
        let offset = self
            .arena
            .logoff
            .saturating_add(u64::from(first).saturating_mul(LOG_GRP_SIZE));
        let buf = self.io.get_mut(..len).unwrap_or_default();
        read(ns, offset, buf)?;
        Ok(LaneChunk { lanes, len })
    }

    /// The lane's checks (reported in the first window only) and its block.
    fn lane<R, F>(
        &self,
        ns: &mut R,
        report: &mut F,
        first_window: bool,
        lane: u32,
        g: &LogGroup,
    ) -> Result<LaneBlock, CheckError<R::Error>>
    where
        R: ReadAt + ?Sized,
        F: FnMut(Finding),
    {
        let a = &self.arena;
        let arena = a.index;
        let mut emit = |f: Finding| {
            if first_window {
                report(f);
            }
        };
        let [s0, s1] = self.layout.slots();
        for (slot, ent) in (0u32..).zip(g.ent.iter()) {
            let Ok(i) = usize::try_from(slot) else {
                continue;
            };
            if i == s0 && ent.is_padding() {
                emit(Finding::LogSlot {
                    arena,
                    lane,
                    slot,
                    expected: SlotContent::Entry,
                });
            } else if i != s0 && i != s1 && !ent.is_padding() {
                emit(Finding::LogSlot {
                    arena,
                    lane,
                    slot,
                    expected: SlotContent::Padding,
                });
            }
        }
        let e0 = g.entry(self.layout, 0).copied().unwrap_or_default();
        let e1 = g.entry(self.layout, 1).copied().unwrap_or_default();
        let (seq0, seq1) = (e0.seq.get(), e1.seq.get());
        let order = g.older(self.layout);
        if !seq_pair_valid(seq0, seq1) {
            emit(Finding::LogSeq {
                arena,
                lane,
                seq0,
                seq1,
                kernel_refuses: order.is_err(),
            });
        }
        let mut in_range = [true, true];
        for (sub, (e, ok)) in (0u32..).zip([e0, e1].iter().zip(in_range.iter_mut())) {
            if e.is_padding() {
                continue;
            }
            if e.lba.get() >= a.external_nlba {
                *ok = false;
                emit(Finding::LogLbaOutOfRange {
                    arena,
                    lane,
                    sub,
                    lba: e.lba.get(),
                    external_nlba: a.external_nlba,
                });
            }
            for (field, value) in [
                (LogField::OldMap, e.old_postmap()),
                (LogField::NewMap, e.new_postmap()),
            ] {
                if value >= a.internal_nlba {
                    *ok = false;
                    emit(Finding::LogMapOutOfRange {
                        arena,
                        lane,
                        sub,
                        field,
                        value,
                        internal_nlba: a.internal_nlba,
                    });
                }
            }
        }
        let Ok(older) = order else {
            return Ok(LaneBlock::Unknown);
        };
        let newer_sub = if older == 0 { 1 } else { 0 };
        let newer: LogEntry = if newer_sub == 0 { e0 } else { e1 };
        let newer_ok = in_range.get(newer_sub).copied().unwrap_or(false);
        let (old, new) = (newer.old_postmap(), newer.new_postmap());
        if !newer_ok {
            // A padding newer entry (a lane that was never initialised) names block 0.
            return Ok(if newer.is_padding() && old < a.internal_nlba {
                LaneBlock::Owns(old)
            } else {
                LaneBlock::Nothing
            });
        }
        if old == new {
            return Ok(LaneBlock::Owns(old));
        }
        // btt_freelist_init: the map update of the newer entry may be missing.
        let lba = newer.lba.get();
        let mut raw = MapEntry::IDENTITY;
        let off = a
            .mapoff
            .saturating_add(u64::from(lba).saturating_mul(MAP_ENT_SIZE));
        read(ns, off, raw.as_mut_bytes())?;
        let mapped = raw.postmap(lba);
        if mapped != new && mapped == old {
            emit(Finding::PendingMapUpdate {
                arena,
                lane,
                lba,
                old_postmap: old,
                new_postmap: new,
            });
            // After the kernel's fix the map holds `new` and the lane's free block is `old`;
            // counting the lane for `new` and the map entry (still `old`) is the same set.
            return Ok(LaneBlock::Owns(new));
        }
        Ok(LaneBlock::Owns(old))
    }

    /// The exact pass over the window `[lo, hi)`: sets a bit per reference, so that it can
    /// name each block referenced twice (and both referrers) or not at all.
    fn exact_window<R, F, P>(
        &mut self,
        ns: &mut R,
        report: &mut F,
        meter: &mut Meter<'_, P>,
        first_window: bool,
        lo: u64,
        hi: u64,
    ) -> Result<(), CheckError<R::Error>>
    where
        R: ReadAt + ?Sized,
        F: FnMut(Finding),
        P: FnMut(Progress),
    {
        let a = self.arena;
        let arena = a.index;
        let span = hi.saturating_sub(lo);
        let used_bytes = usize::try_from(span.div_ceil(8)).unwrap_or(usize::MAX);
        if let Some(b) = self.bitmap.get_mut(..used_bytes) {
            b.fill(0);
        }
        let mut conflicts = Conflicts::new();
        let mut any_unknown = false;
        // Bits of the window set so far: when it reaches `span`, no block is unreferenced.
        let mut referenced: u64 = 0;
        // Records a second reference: into the table, or at once without the first.
        let conflict = |conflicts: &mut Conflicts, report: &mut F, block: u32, second: Referrer| {
            let c = Conflict {
                block,
                second,
                first: None,
            };
            if !conflicts.push(c) {
                report(Finding::BlockReferencedTwice {
                    arena,
                    block,
                    first: None,
                    second,
                });
            }
        };

        // 1. The lanes' free blocks.
        self.each_lane(
            ns,
            report,
            meter,
            first_window,
            |bitmap, report, l, block| match block {
                LaneBlock::Owns(b) => {
                    let rel = u64::from(b).wrapping_sub(lo);
                    if rel < span {
                        if test_and_set(bitmap, rel) {
                            conflict(&mut conflicts, report, b, Referrer::Lane { lane: l });
                        } else {
                            referenced = referenced.saturating_add(1);
                        }
                    }
                }
                LaneBlock::Unknown => any_unknown = true,
                LaneBlock::Nothing => {}
            },
        )?;

        // 2. The map.
        let mut first: u32 = 0;
        while first < a.external_nlba {
            let count = self.read_map(ns, first, a.external_nlba)?;
            meter.add(usize::try_from(count).unwrap_or(0).saturating_mul(4));
            let entries = entries_of(self.io, count);
            // Runs of identity entries (all zero: the never-written blocks, most of a map)
            // set their bits at once; anything else goes entry by entry.
            let bitmap = &mut *self.bitmap;
            let set = scan_map(bitmap, entries, first, lo, span, |bitmap, premap, e| {
                let Some(postmap) = entry_block(&a, report, first_window, premap, e.raw()) else {
                    return false;
                };
                let rel = u64::from(postmap).wrapping_sub(lo);
                if rel >= span {
                    return false;
                }
                if test_and_set(bitmap, rel) {
                    conflict(
                        &mut conflicts,
                        report,
                        postmap,
                        Referrer::Map { lba: premap },
                    );
                    return false;
                }
                true
            });
            referenced = referenced.saturating_add(set);
            first = first.saturating_add(count);
        }

        // 3. The first referrers of the blocks referenced twice.
        if conflicts.len > 0 {
            self.resolve(ns, &mut conflicts)?;
            for c in conflicts.slice() {
                report(Finding::BlockReferencedTwice {
                    arena,
                    block: c.block,
                    first: c.first,
                    second: c.second,
                });
            }
        }

        // 4. Lanes the kernel cannot read: their candidate blocks are not reported as lost.
        if any_unknown {
            self.credit_unknown_lanes(ns, lo, span)?;
        }

        // 5. Blocks nobody references (256 bytes at a time while all are set); none when
        // every bit of the window was set by a counted reference.
        if !any_unknown && referenced >= span {
            return Ok(());
        }
        let used = self.bitmap.get(..used_bytes).unwrap_or_default();
        let mut base: u64 = 0;
        for chunk in used.chunks(ONES.len()) {
            // Whole runs of set bits, compared with memcmp.
            if ONES.get(..chunk.len()) != Some(chunk) {
                for (byte, r0) in chunk.iter().zip((0u64..).step_by(8)) {
                    if *byte == 0xff {
                        continue;
                    }
                    for bit in 0..8u8 {
                        let r = base.saturating_add(r0).saturating_add(u64::from(bit));
                        if r < span && byte.checked_shr(u32::from(bit)).unwrap_or(0) & 1 == 0 {
                            if let Ok(block) = u32::try_from(lo.saturating_add(r)) {
                                report(Finding::BlockUnreferenced { arena, block });
                            }
                        }
                    }
                }
            }
            base = base.saturating_add(u64::try_from(chunk.len()).unwrap_or(0).saturating_mul(8));
        }
        Ok(())
    }

    /// Finds the first referrer of each conflict: a lane (read again, cheap), else an
    /// earlier map entry (one more pass over the map, only when a map entry is the answer).
    fn resolve<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
        conflicts: &mut Conflicts,
    ) -> Result<(), CheckError<R::Error>> {
        let a = self.arena;
        let mut ignore = |_: Finding| {};
        let mut lane: u32 = 0;
        while lane < a.nfree {
            let chunk = self.read_lanes(ns, lane)?;
            for i in 0..chunk.lanes {
                let l = lane.saturating_add(i);
                let g = chunk.group(self.io, i);
                if let LaneBlock::Owns(b) = self.lane(ns, &mut ignore, false, l, &g)? {
                    let range = conflicts.on_block(b);
                    for c in conflicts.slice_mut().get_mut(range).unwrap_or_default() {
                        let earlier = match c.second {
                            Referrer::Lane { lane } => l < lane,
                            Referrer::Map { .. } => true,
                        };
                        if c.first.is_none() && earlier {
                            c.first = Some(Referrer::Lane { lane: l });
                        }
                    }
                }
            }
            lane = lane.saturating_add(chunk.lanes);
        }
        let Some(last) = conflicts
            .slice()
            .iter()
            .filter(|c| c.first.is_none())
            .filter_map(|c| match c.second {
                Referrer::Map { lba } => Some(lba),
                Referrer::Lane { .. } => None,
            })
            .max()
        else {
            return Ok(());
        };
        // Map entries before the last unresolved one.
        let mut first: u32 = 0;
        while first < last {
            let count = self.read_map(ns, first, last)?;
            let entries = entries_of(self.io, count);
            for (premap, e) in (first..).zip(entries) {
                let b = e.postmap(premap);
                let range = conflicts.on_block(b);
                for c in conflicts.slice_mut().get_mut(range).unwrap_or_default() {
                    if let (None, Referrer::Map { lba }) = (c.first, c.second) {
                        if premap < lba {
                            c.first = Some(Referrer::Map { lba: premap });
                        }
                    }
                }
            }
            first = first.saturating_add(count);
        }
        Ok(())
    }

    /// Sets the bits of every block a lane with unorderable entries may own.
    fn credit_unknown_lanes<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
        lo: u64,
        span: u64,
    ) -> Result<(), CheckError<R::Error>> {
        let mut lane: u32 = 0;
        while lane < self.arena.nfree {
            let chunk = self.read_lanes(ns, lane)?;
            for i in 0..chunk.lanes {
                let g = chunk.group(self.io, i);
                if g.older(self.layout).is_ok() {
                    continue;
                }
                for sub in 0..2 {
                    let Some(e) = g.entry(self.layout, sub) else {
                        continue;
                    };
                    for b in [e.old_postmap(), e.new_postmap()] {
                        let rel = u64::from(b).wrapping_sub(lo);
                        if rel < span {
                            test_and_set(self.bitmap, rel);
                        }
                    }
                }
            }
            lane = lane.saturating_add(chunk.lanes);
        }
        Ok(())
    }
}

/// A chunk of flog lanes in the I/O buffer.
#[derive(Clone, Copy, Debug)]
struct LaneChunk {
    lanes: u32,
    len: usize,
}

impl LaneChunk {
    fn groups<'b>(&self, io: &'b [u8]) -> &'b [LogGroup] {
        <[LogGroup]>::ref_from_bytes(io.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }

    fn group(&self, io: &[u8], i: u32) -> LogGroup {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.groups(io).get(i))
            .copied()
            .unwrap_or_default()
    }
}

/// 256 bytes of set bits: 2048 blocks referenced.
static ONES: [u8; 256] = [0xff; 256];

/// The first `count` map entries of the I/O buffer (read by `ArenaCheck::read_map`).
fn entries_of(io: &[u8], count: u32) -> &[MapEntry] {
    let len = usize::try_from(count).unwrap_or(0).saturating_mul(4);
    <[MapEntry]>::ref_from_bytes(io.get(..len).unwrap_or_default()).unwrap_or_default()
}

/// The block the map entry `raw` of `premap` references (`btt_map_read`: the identity when
/// neither flag is set), after reporting, in the first window, an error flag
/// ([`Finding::MapMediaError`]) or a block past `internal_nlba` ([`Finding::MapOutOfRange`]:
/// then no block).
fn entry_block<F: FnMut(Finding)>(
    a: &Arena,
    report: &mut F,
    first_window: bool,
    premap: u32,
    raw: u32,
) -> Option<u32> {
    let postmap = if raw & MapEntry::NORMAL == 0 {
        premap
    } else {
        raw & MapEntry::LBA_MASK
    };
    if postmap >= a.internal_nlba {
        if first_window {
            report(Finding::MapOutOfRange {
                arena: a.index,
                lba: premap,
                entry: raw,
                postmap,
                internal_nlba: a.internal_nlba,
            });
        }
        return None;
    }
    if first_window && raw & MapEntry::NORMAL == MapEntry::E_FLAG {
        report(Finding::MapMediaError {
            arena: a.index,
            lba: premap,
            postmap,
        });
    }
    Some(postmap)
}

/// Granules of the parity pass's bitmap, each cleared when first touched.
const GRANULES: usize = 4096;

/// The parity pass's accounting of one window (see `ArenaCheck::parity_window`): the bitmap
/// holds one bit per block of the window, flipped by each element of `S` and of `T`. It is
/// cleared by granules of at least 256 bytes, each when a flip first lands in it, so that a
/// map with few written entries costs no pass over the bitmap, and the bytes of a granule
/// are in the cache when they are flipped; a granule never touched counts as clear.
struct Parity {
    lo: u64,
    span: u64,
    /// Bytes of the window's bitmap (`ceil(span / 8)`).
    used: usize,
    /// Bytes per granule.
    granule: usize,
    /// One bit per granule: cleared already.
    cleared: [u64; GRANULES / 64],
    /// Bytes of the cleared granules that are not 0.
    nonzero: u64,
    /// Elements of `S` in the window.
    s: u64,
    /// Elements of `T` in the window.
    t: u64,
    /// A block of the window fell outside the bitmap: nothing is proved.
    short: bool,
}

impl Parity {
    /// The window `[lo, hi)`; nothing of the bitmap is cleared yet.
    fn new(lo: u64, hi: u64) -> Self {
        let span = hi.saturating_sub(lo);
        let used = usize::try_from(span.div_ceil(8)).unwrap_or(usize::MAX);
        Self {
            lo,
            span,
            used,
            granule: used.div_ceil(GRANULES).max(256),
            cleared: [0; GRANULES / 64],
            nonzero: 0,
            s: 0,
            t: 0,
            short: false,
        }
    }

    /// Byte `i` of the window's bitmap, its granule cleared first if it was not yet.
    fn byte<'b>(&mut self, bitmap: &'b mut [u8], i: usize) -> Option<&'b mut u8> {
        let g = i.checked_div(self.granule)?;
        let word = self.cleared.get_mut(g / 64)?;
        let bit = 1u64 << (g % 64);
        if *word & bit == 0 {
            let start = g.checked_mul(self.granule)?;
            let end = start.saturating_add(self.granule).min(self.used);
            bitmap.get_mut(start..end)?.fill(0);
            *word |= bit;
        }
        bitmap.get_mut(i)
    }

    /// Flips the bit of `block`; false (and nothing changed) outside the window.
    fn flip(&mut self, bitmap: &mut [u8], block: u64) -> bool {
        let rel = block.wrapping_sub(self.lo);
        if rel >= self.span {
            return false;
        }
        let Some(b) = usize::try_from(rel / 8)
            .ok()
            .and_then(|i| self.byte(bitmap, i))
        else {
            // Not reachable (the window fits in the bitmap); if it were, the window would go
            // to the exact pass rather than be proved with an element left out.
            self.short = true;
            return false;
        };
        let was = *b != 0;
        *b ^= 1u8 << (rel % 8);
        let now = *b != 0;
        self.nonzero = self
            .nonzero
            .saturating_add(u64::from(now))
            .saturating_sub(u64::from(was));
        true
    }

    /// An element of `S`: the premap of a non-zero map entry.
    fn add_s(&mut self, bitmap: &mut [u8], block: u32) {
        if self.flip(bitmap, u64::from(block)) {
            self.s = self.s.saturating_add(1);
        }
    }

    /// The blocks `[start, end)`, all elements of `S`: the part in the window, bit by bit
    /// (it is `nfree` blocks long in a well-formed arena; at most the window in any).
    fn add_s_range(&mut self, bitmap: &mut [u8], start: u64, end: u64) {
        let s = start.max(self.lo);
        let e = end.min(self.lo.saturating_add(self.span));
        for block in s..e {
            if self.flip(bitmap, block) {
                self.s = self.s.saturating_add(1);
            }
        }
    }

    /// An element of `T`: a lane's block or a non-zero map entry's post-map block.
    fn add_t(&mut self, bitmap: &mut [u8], block: u32) {
        if self.flip(bitmap, u64::from(block)) {
            self.t = self.t.saturating_add(1);
        }
    }

    /// Whether `T` equals `S` in the window: no bit left set, and as many of each.
    fn exactly_once(&self) -> bool {
        !self.short && self.nonzero == 0 && self.s == self.t
    }
}

/// Sets bits `[s, e)` of the bitmap when all of them are clear and returns true; otherwise
/// (or when the bitmap is too short) changes nothing and returns false.
fn set_run(bitmap: &mut [u8], s: u64, e: u64) -> bool {
    let Some(last) = e.checked_sub(1).filter(|&l| l >= s) else {
        return true;
    };
    let head = 0xffu8
        .checked_shl(u32::try_from(s & 7).unwrap_or(0))
        .unwrap_or(0);
    let tail = 0xffu8
        .checked_shr(7u32.saturating_sub(u32::try_from(last & 7).unwrap_or(0)))
        .unwrap_or(0);
    let (Ok(sb), Ok(eb)) = (usize::try_from(s / 8), usize::try_from(last / 8)) else {
        return false;
    };
    match bitmap.get_mut(sb..=eb) {
        Some([one]) => {
            let m = head & tail;
            if *one & m != 0 {
                return false;
            }
            *one |= m;
        }
        Some([first, mid @ .., end]) => {
            if *first & head != 0 || *end & tail != 0 || mid.iter().fold(0u8, |a, &b| a | b) != 0 {
                return false;
            }
            *first |= head;
            mid.fill(0xff);
            *end |= tail;
        }
        _ => return false,
    }
    true
}

/// Bitwise OR of all entries of a fixed-size group (the compiler unrolls it into vector ORs).
#[inline(always)]
fn or_all<const N: usize>(group: &[MapEntry; N]) -> u8 {
    group.as_bytes().iter().fold(0u8, |acc, &x| acc | x)
}

/// Walks map entries `first..first + entries.len()` and returns how many window bits it set.
/// A run of 0 entries (the identity state: never-written blocks, most of a map) whose
/// window bits are all clear has them set at once; every other entry goes to
/// `slow(bitmap, premap, entry)`, which returns whether it set a bit that was clear.
/// The runs lie between the entries [`for_each_nonzero`] finds.
fn scan_map(
    bitmap: &mut [u8],
    entries: &[MapEntry],
    first: u32,
    lo: u64,
    span: u64,
    mut slow: impl FnMut(&mut [u8], u32, MapEntry) -> bool,
) -> u64 {
    let mut set: u64 = 0;
    // The current run of 0 entries starts at `run`.
    let mut run = first;
    for_each_nonzero(entries, first, |premap, e| {
        set = set.saturating_add(flush_run(bitmap, &mut slow, lo, span, run, premap));
        set = set.saturating_add(u64::from(slow(bitmap, premap, e)));
        run = premap.saturating_add(1);
    });
    let end = u32::try_from(entries.len()).map_or(u32::MAX, |n| first.saturating_add(n));
    set.saturating_add(flush_run(bitmap, &mut slow, lo, span, run, end))
}

/// Calls `f(premap, entry)` for each non-zero entry of `entries` (entry `i` has premap
/// `first + i`), in order. Zero entries are skipped 512 bytes at a time (one OR over the
/// block), then by 64-byte line, then by entry: a map of 4 KiB pages with one written entry
/// each costs little more than an all-zero one.
fn for_each_nonzero(entries: &[MapEntry], first: u32, mut f: impl FnMut(u32, MapEntry)) {
    let mut premap = first;
    let mut each = |p: u32, e: MapEntry| {
        if e.raw() != 0 {
            f(p, e);
        }
    };
    let tail = entries.chunks_exact(128).remainder();
    for block in groups::<128>(entries) {
        if or_all(block) != 0 {
            for line in groups::<16>(block) {
                if or_all(line) != 0 {
                    for (p, &e) in (premap..).zip(line) {
                        each(p, e);
                    }
                }
                premap = premap.saturating_add(16);
            }
        } else {
            premap = premap.saturating_add(128);
        }
    }
    for (p, &e) in (premap..).zip(tail) {
        each(p, e);
    }
}

/// The whole `N`-entry groups of `entries` as arrays (`<[T]>::as_chunks` of Rust 1.88,
/// within the crate's MSRV).
fn groups<const N: usize>(entries: &[MapEntry]) -> impl Iterator<Item = &[MapEntry; N]> {
    entries.chunks_exact(N).filter_map(|c| c.try_into().ok())
}

/// The run of 0 (identity) entries `run..end`: sets the window's part of its bits at once
/// when they are all clear, else hands each entry to `slow`. Returns the bits it set.
fn flush_run(
    bitmap: &mut [u8],
    slow: &mut impl FnMut(&mut [u8], u32, MapEntry) -> bool,
    lo: u64,
    span: u64,
    run: u32,
    end: u32,
) -> u64 {
    // Postmap = premap for these: the window's part of run..end.
    let s = u64::from(run).max(lo);
    let e = u64::from(end).min(lo.saturating_add(span));
    if e <= s {
        // Empty, or outside the window: identity entries have nothing else to check.
        return 0;
    }
    if set_run(bitmap, s.wrapping_sub(lo), e.wrapping_sub(lo)) {
        return e.saturating_sub(s);
    }
    let mut set: u64 = 0;
    for p in run..end {
        set = set.saturating_add(u64::from(slow(bitmap, p, MapEntry::IDENTITY)));
    }
    set
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    clippy::as_conversions
)]
mod tests {
    use super::{scan_map, set_run, test_and_set, MapEntry};
    use proptest::prelude::*;
    use std::vec::Vec;
    use zerocopy::little_endian::U32;

    /// What the check does with one entry (as `window` does): the postmap's window bit is
    /// set; a bit already set is a conflict, recorded with the entry's premap.
    fn one(
        bitmap: &mut [u8],
        conflicts: &mut Vec<u32>,
        lo: u64,
        span: u64,
        premap: u32,
        e: MapEntry,
    ) -> bool {
        let raw = e.raw();
        let postmap = if raw & MapEntry::NORMAL == 0 {
            premap
        } else {
            raw & MapEntry::LBA_MASK
        };
        let rel = u64::from(postmap).wrapping_sub(lo);
        if rel >= span {
            return false;
        }
        if test_and_set(bitmap, rel) {
            conflicts.push(premap);
            return false;
        }
        true
    }

    proptest! {
        /// The run-at-once scan leaves the same bitmap, counts the same bits and records the
        /// same conflicts, in the same order, as handing every entry to the per-entry rule.
        #[test]
        fn scan_map_is_the_per_entry_rule(
            raw in proptest::collection::vec(
                prop_oneof![
                    40 => Just(0u32),
                    1 => (0u32..3000).prop_map(|p| p | 0xC000_0000),
                    1 => any::<u32>(),
                ],
                0..1500,
            ),
            first in 0u32..70,
            lo in 0u64..900,
            span in 0u64..2600,
            preset in proptest::collection::vec(0u64..2600, 0..6),
        ) {
            let entries: Vec<MapEntry> =
                raw.iter().map(|&r| MapEntry(U32::new(r))).collect();
            let mut bitmap = std::vec![0u8; span.div_ceil(8) as usize];
            for p in preset.iter().filter(|&&p| p < span) {
                test_and_set(&mut bitmap, *p);
            }
            let mut model = bitmap.clone();
            let (mut found, mut expected) = (Vec::new(), Vec::new());
            let set = scan_map(&mut bitmap, &entries, first, lo, span, |b, p, e| {
                one(b, &mut found, lo, span, p, e)
            });
            let mut model_set = 0u64;
            for (p, &e) in (first..).zip(&entries) {
                model_set += u64::from(one(&mut model, &mut expected, lo, span, p, e));
            }
            prop_assert_eq!(&bitmap, &model);
            prop_assert_eq!(set, model_set);
            prop_assert_eq!(found, expected);
        }

        /// `set_run` sets exactly bits `[s, e)` when all are clear, else changes nothing.
        #[test]
        fn set_run_sets_the_range_or_nothing(
            s in 0u64..100,
            len in 0u64..100,
            preset in proptest::option::of(0u64..200),
        ) {
            let e = s + len;
            let mut bitmap = [0u8; 25];
            if let Some(p) = preset {
                test_and_set(&mut bitmap, p);
            }
            let before = bitmap;
            let bit = |b: &[u8; 25], i: u64| b[(i / 8) as usize] >> (i % 8) & 1 == 1;
            let clear = (s..e).all(|i| !bit(&before, i));
            prop_assert_eq!(set_run(&mut bitmap, s, e), clear);
            for i in 0..200 {
                let want = bit(&before, i) || (clear && (s..e).contains(&i));
                prop_assert_eq!(bit(&bitmap, i), want, "bit {}", i);
            }
        }
    }
}

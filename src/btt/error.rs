//! Errors of the BTT: [`Invalid`] says what is wrong with the bytes or the request (with the
//! numbers), [`Error`] adds the failed read or write of the caller's [`ReadAt`]/[`WriteAt`].
//!
//! [`ReadAt`]: crate::io::ReadAt
//! [`WriteAt`]: crate::io::WriteAt

use core::fmt;

use crate::btt::arena::BttVersion;
use crate::uuid::Uuid;

/// What is wrong with a BTT, a request, or an LBA. `arena` is the arena's index in the
/// chain (0 = the first).
///
/// [`Invalid::kernel_refuses`] tells the checks the kernel makes (the device is not created)
/// from the structure it assumes without checking, which this crate checks as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Invalid {
    /// The namespace is below the kernel's minimum: `__nd_btt_probe` refuses a capacity
    /// under 16 MiB (`-ENXIO`), and `nvdimm_namespace_attach_btt` a size less the info-block
    /// offset under 16 MiB (`ARENA_MIN_SIZE`, `-ENXIO`).
    NamespaceTooSmall {
        /// Bytes of the namespace.
        size: u64,
        /// Bytes needed.
        min: u64,
    },
    /// The 16 bytes at the arena's start are not `BTT_ARENA_INFO\0\0`.
    BadSignature {
        /// Arena index.
        arena: u32,
        /// The bytes found.
        found: [u8; 16],
    },
    /// `parent_uuid` is not zero and differs from the namespace's uuid.
    ParentUuidMismatch {
        /// Arena index.
        arena: u32,
        /// `parent_uuid` in the block.
        found: Uuid,
        /// The namespace's uuid.
        expected: Uuid,
    },
    /// The stored checksum is not `nd_sb_checksum` of the block.
    ChecksumMismatch {
        /// Arena index.
        arena: u32,
        /// Stored value.
        stored: u64,
        /// Computed value.
        computed: u64,
    },
    /// The first arena's version is not the one its placement implies (`nd_btt_version`:
    /// 1.1 at byte 4096, 2.0 at byte 0; `-ENODEV`).
    VersionMismatch {
        /// `version_major` found.
        major: u16,
        /// `version_minor` found.
        minor: u16,
        /// The version of the placement.
        expected: BttVersion,
    },
    /// `external_lbasize` is 0. In the first arena the kernel refuses the device
    /// (`nvdimm_namespace_attach_btt`: "incomplete btt configuration", `-ENODEV`); in a later
    /// one it is structure the kernel assumes.
    ZeroLbasize {
        /// Arena index.
        arena: u32,
    },
    /// An arena's `external_lbasize` differs from the first arena's (the kernel uses the
    /// first for the whole device).
    LbasizeMismatch {
        /// Arena index.
        arena: u32,
        /// This arena's `external_lbasize`.
        found: u32,
        /// The first arena's.
        first: u32,
    },
    /// `internal_lbasize` is smaller than `external_lbasize`: blocks would overlap.
    InternalLbasizeTooSmall {
        /// Arena index.
        arena: u32,
        /// `internal_lbasize`.
        internal_lbasize: u32,
        /// `external_lbasize`.
        external_lbasize: u32,
    },
    /// `nfree` is 0 (the kernel indexes its per-lane tables by `nfree`).
    NoFreeBlocks {
        /// Arena index.
        arena: u32,
    },
    /// `internal_nlba` is not `external_nlba + nfree`.
    NlbaMismatch {
        /// Arena index.
        arena: u32,
        /// `internal_nlba`.
        internal_nlba: u32,
        /// `external_nlba`.
        external_nlba: u32,
        /// `nfree`.
        nfree: u32,
    },
    /// An area of the arena does not fit before the next one: the areas are, in order, the
    /// info block (4096 bytes at 0), the data (`internal_nlba * internal_lbasize` bytes at
    /// `dataoff`), the map (`external_nlba * 4` at `mapoff`), the flog (`nfree * 64` at
    /// `logoff`), the backup info block (4096 at `info2off`), and the arena ends at `size`
    /// (`nextoff`, or `info2off + 4096` in the last arena). Offsets are arena-relative.
    AreaOverlap {
        /// Arena index.
        arena: u32,
        /// Which area does not fit.
        area: Area,
        /// Where the area starts.
        start: u64,
        /// Bytes it needs.
        len: u64,
        /// Where the next area (or the arena's end) starts.
        limit: u64,
    },
    /// The arena runs past the end of the namespace, or its offsets overflow 64 bits. When
    /// `nextoff` leads past the end the kernel refuses the device (its next info-block read
    /// fails); when the last arena's own areas do, it is structure the kernel assumes.
    ArenaPastEnd {
        /// Arena index.
        arena: u32,
        /// Namespace offset of the arena's info block.
        infooff: u64,
        /// Bytes the arena claims (`nextoff`, or through its backup info block).
        size: u64,
        /// Bytes of the namespace.
        namespace_size: u64,
    },
    /// More arenas than the namespace can hold (a defensive bound; unreachable when every
    /// arena passes the other checks).
    TooManyArenas {
        /// The bound.
        max: u32,
    },
    /// `log_set_indices` (`-ENXIO`, "Unable to deduce log/padding indices"): lane `lane`
    /// does not follow the slot layout found so far (a third entry, or padding where an
    /// entry must be, or an entry where padding must be).
    LogLayoutMismatch {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// Slot 0..4 at fault.
        slot: u32,
    },
    /// `log_set_indices`: some lane is past its initial state, yet no two entry slots were
    /// found (`-ENXIO`), or the slots found are not (0, 1) or (0, 2) ("Found an unknown
    /// padding scheme").
    UnknownLogLayout {
        /// Arena index.
        arena: u32,
        /// First entry slot found (-1 for none).
        index0: i32,
        /// Second entry slot found (-1 for none).
        index1: i32,
    },
    /// `btt_log_get_old` cannot order the lane's two sequence numbers ("log corruption",
    /// `-EIO` from `btt_freelist_init`).
    LogSeq {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// `seq` of sub-slot 0.
        seq0: u32,
        /// `seq` of sub-slot 1.
        seq1: u32,
    },
    /// A lane's newer flog entry records an unfinished write of a block outside the map
    /// (`lba >= external_nlba`); the kernel's recovery would read and rewrite 4 bytes
    /// outside the arena's map.
    FlogLbaOutOfRange {
        /// Arena index.
        arena: u32,
        /// Lane.
        lane: u32,
        /// `lba` of the entry.
        lba: u32,
        /// `external_nlba` of the arena.
        external_nlba: u32,
    },
    /// More flog repairs in one arena than a [`Reader`](crate::btt::read::Reader) holds
    /// (one per lane of a kernel arena: 256); only an arena with more lanes can need more.
    TooManyRepairs {
        /// Arena index.
        arena: u32,
        /// Repairs held.
        max: u32,
    },
    /// The LBA is past the end of the device (`lba_to_arena`: `-EIO`).
    LbaOutOfRange {
        /// The LBA asked for.
        lba: u64,
        /// Blocks of the device.
        nlba: u64,
    },
    /// The block's map entry has the error flag (`btt_read_pg`: `-EIO`).
    MediaError {
        /// The LBA asked for.
        lba: u64,
        /// Arena index.
        arena: u32,
        /// Post-map block.
        postmap: u32,
    },
    /// A map entry points past the arena's data blocks (`postmap >= internal_nlba`). The
    /// kernel's read path does not check this and reads whatever lies there (its write path
    /// refuses such an entry with `-EIO`); this crate refuses the read.
    PostmapOutOfRange {
        /// The LBA asked for.
        lba: u64,
        /// Arena index.
        arena: u32,
        /// Post-map block.
        postmap: u32,
        /// `internal_nlba` of the arena.
        internal_nlba: u32,
    },
    /// The caller's buffer is not one sector (or one external block) long.
    BufferSize {
        /// Length given.
        len: usize,
        /// The lengths accepted.
        expected: u32,
    },
    /// The sector size asked for is not one the kernel accepts (512, 520, 528, 4096, 4104,
    /// 4160, 4224: `btt_lbasize_supported`).
    UnsupportedLbasize {
        /// The size asked for.
        lbasize: u32,
    },
}

/// An area of an arena, for [`Invalid::AreaOverlap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    /// The info block.
    Info,
    /// The data blocks.
    Data,
    /// The map.
    Map,
    /// The flog.
    Log,
    /// The backup info block.
    Info2,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info block",
            Self::Data => "data area",
            Self::Map => "map",
            Self::Log => "flog",
            Self::Info2 => "backup info block",
        })
    }
}

impl Invalid {
    /// Whether the kernel itself refuses the device for this reason (true), or whether it is
    /// structure the kernel assumes without checking, or a request/LBA error (false).
    ///
    /// A refusal in the first arena's info block (signature, parent uuid, checksum, version)
    /// means the kernel finds no BTT on the namespace (`nd_btt_probe` fails and the namespace
    /// is probed for pfn/dax or used raw); any later refusal fails the `btt` device
    /// ("Found corrupted metadata!", "Unable to deduce log/padding indices", "log
    /// corruption").
    #[must_use]
    pub const fn kernel_refuses(&self) -> bool {
        matches!(
            self,
            Self::NamespaceTooSmall { .. }
                | Self::BadSignature { .. }
                | Self::ParentUuidMismatch { .. }
                | Self::ChecksumMismatch { .. }
                | Self::VersionMismatch { .. }
                | Self::ZeroLbasize { arena: 0 }
                | Self::LogLayoutMismatch { .. }
                | Self::UnknownLogLayout { .. }
                | Self::LogSeq { .. }
        )
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NamespaceTooSmall { size, min } => {
                write!(
                    f,
                    "namespace of {size} bytes is below the BTT minimum of {min} bytes"
                )
            }
            Self::BadSignature { arena, found } => write!(
                f,
                "arena {arena}: signature \"{}\" is not BTT_ARENA_INFO",
                found.escape_ascii()
            ),
            Self::ParentUuidMismatch {
                arena,
                found,
                expected,
            } => write!(
                f,
                "arena {arena}: parent_uuid {found} is not the namespace's uuid {expected}"
            ),
            Self::ChecksumMismatch {
                arena,
                stored,
                computed,
            } => write!(
                f,
                "arena {arena}: checksum mismatch: stored {stored:#018x}, computed {computed:#018x}"
            ),
            Self::VersionMismatch {
                major,
                minor,
                expected,
            } => write!(
                f,
                "info block version {major}.{minor} is not {expected}, the version of its placement"
            ),
            Self::ZeroLbasize { arena } => write!(f, "arena {arena}: external_lbasize is 0"),
            Self::LbasizeMismatch {
                arena,
                found,
                first,
            } => write!(
                f,
                "arena {arena}: external_lbasize {found} differs from the first arena's {first}"
            ),
            Self::InternalLbasizeTooSmall {
                arena,
                internal_lbasize,
                external_lbasize,
            } => write!(
                f,
                "arena {arena}: internal_lbasize {internal_lbasize} is smaller than \
                 external_lbasize {external_lbasize}"
            ),
            Self::NoFreeBlocks { arena } => write!(f, "arena {arena}: nfree is 0"),
            Self::NlbaMismatch {
                arena,
                internal_nlba,
                external_nlba,
                nfree,
            } => write!(
                f,
                "arena {arena}: internal_nlba {internal_nlba} is not external_nlba \
                 {external_nlba} + nfree {nfree}"
            ),
            Self::AreaOverlap {
                arena,
                area,
                start,
                len,
                limit,
            } => write!(
                f,
                "arena {arena}: the {area} ({len} bytes at {start:#x}) runs past {limit:#x}"
            ),
            Self::ArenaPastEnd {
                arena,
                infooff,
                size,
                namespace_size,
            } => write!(
                f,
                "arena {arena}: {size} bytes at {infooff:#x} run past the end of the \
                 {namespace_size}-byte namespace"
            ),
            Self::TooManyArenas { max } => write!(f, "more than {max} arenas"),
            Self::LogLayoutMismatch { arena, lane, slot } => write!(
                f,
                "arena {arena}: flog lane {lane} slot {slot} breaks the entry/padding layout"
            ),
            Self::UnknownLogLayout {
                arena,
                index0,
                index1,
            } => write!(
                f,
                "arena {arena}: unknown flog padding scheme (entry slots {index0}, {index1})"
            ),
            Self::LogSeq {
                arena,
                lane,
                seq0,
                seq1,
            } => write!(
                f,
                "arena {arena}: flog lane {lane}: sequence numbers {seq0} and {seq1} cannot be \
                 ordered"
            ),
            Self::FlogLbaOutOfRange {
                arena,
                lane,
                lba,
                external_nlba,
            } => write!(
                f,
                "arena {arena}: flog lane {lane} names block {lba}, outside the map of \
                 {external_nlba} entries"
            ),
            Self::TooManyRepairs { arena, max } => write!(
                f,
                "arena {arena}: more than {max} map entries need the flog's repair"
            ),
            Self::LbaOutOfRange { lba, nlba } => {
                write!(f, "LBA {lba} is past the end of the {nlba}-block device")
            }
            Self::MediaError {
                lba,
                arena,
                postmap,
            } => write!(
                f,
                "LBA {lba} (arena {arena}, block {postmap}) has the map's error flag"
            ),
            Self::PostmapOutOfRange {
                lba,
                arena,
                postmap,
                internal_nlba,
            } => write!(
                f,
                "LBA {lba}: arena {arena} maps it to block {postmap}, past its {internal_nlba} \
                 blocks"
            ),
            Self::BufferSize { len, expected } => {
                write!(f, "buffer of {len} bytes; {expected} expected")
            }
            Self::UnsupportedLbasize { lbasize } => write!(
                f,
                "sector size {lbasize} is not one of 512, 520, 528, 4096, 4104, 4160, 4224"
            ),
        }
    }
}

impl core::error::Error for Invalid {}

/// A BTT operation's failure: the caller's I/O, or [`Invalid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error<E> {
    /// The read or write of `len` bytes at namespace offset `offset` failed.
    Io {
        /// Namespace offset.
        offset: u64,
        /// Bytes.
        len: usize,
        /// The caller's error.
        source: E,
    },
    /// The bytes or the request are not a usable BTT.
    Invalid(Invalid),
}

impl<E> From<Invalid> for Error<E> {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid)
    }
}

impl<E> Error<E> {
    /// The [`Invalid`] reason, if it is one.
    #[must_use]
    pub const fn invalid(&self) -> Option<&Invalid> {
        match self {
            Self::Invalid(i) => Some(i),
            Self::Io { .. } => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                offset,
                len,
                source,
            } => {
                write!(
                    f,
                    "I/O of {len} bytes at offset {offset:#x} failed: {source}"
                )
            }
            Self::Invalid(i) => fmt::Display::fmt(i, f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for Error<E> {}

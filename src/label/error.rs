//! Error types of the label storage area.

use core::fmt;

use crate::uuid::Uuid;

/// Why one index block is not valid, in the order `__nd_label_validate` checks
/// (`drivers/nvdimm/label.c`). The kernel skips such an index; with both invalid for both
/// label sizes it treats the DIMM as label-less.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IndexError {
    /// The area cannot hold two index blocks and two labels of this size
    /// (`sizeof_namespace_index` returns 0).
    AreaTooSmall {
        /// Bytes of the area.
        config_size: u32,
        /// Label size tried.
        label_size: u32,
    },
    /// `sig` is not `"NAMESPACE_INDEX\0"`.
    Signature {
        /// The 16 bytes found.
        found: [u8; 16],
    },
    /// The label size the index claims (128 below v1.2, `1 << (7 + labelsize)` from v1.2)
    /// is not the size being probed.
    LabelSize {
        /// `major * 100 + minor`.
        version: u32,
        /// The `labelsize` byte.
        labelsize: u8,
        /// The size it claims, as the kernel computes it on x86 (shift count modulo 32).
        claimed: u32,
        /// The size probed.
        probed: u32,
    },
    /// The stored checksum is not `nd_fletcher64` of the index with the field taken as zero.
    Checksum {
        /// Stored value.
        stored: u64,
        /// Computed value.
        computed: u64,
    },
    /// `seq & 3 == 0`.
    Sequence {
        /// The stored `seq`.
        seq: u32,
    },
    /// `myoff` is not this index's offset.
    Myoff {
        /// Stored.
        found: u64,
        /// Expected (0 or the index size).
        expected: u64,
    },
    /// `otheroff` is not the other index's offset.
    Otheroff {
        /// Stored.
        found: u64,
        /// Expected.
        expected: u64,
    },
    /// `labeloff` is not twice the index size.
    Labeloff {
        /// Stored.
        found: u64,
        /// Expected.
        expected: u64,
    },
    /// `mysize` is below 72 or above the index size.
    Mysize {
        /// Stored.
        found: u64,
        /// The kernel's index size.
        max: u64,
    },
    /// `nslot` label slots and the two index blocks do not fit in the area.
    Nslot {
        /// Stored.
        nslot: u32,
        /// The most that fit.
        max: u32,
    },
    /// `nslot` does not fit, but the kernel's 32-bit product `nslot * label size` wraps and
    /// the kernel accepts the index (and then reads past its buffer). Refused here.
    NslotWraps {
        /// Stored.
        nslot: u32,
        /// The most that fit.
        max: u32,
    },
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::AreaTooSmall {
                config_size,
                label_size,
            } => write!(
                f,
                "a {config_size}-byte label area is too small for two index blocks and two \
                 {label_size}-byte labels"
            ),
            Self::Signature { found } => {
                write!(
                    f,
                    "signature \"{}\" is not NAMESPACE_INDEX",
                    found.escape_ascii()
                )
            }
            Self::LabelSize {
                version,
                labelsize,
                claimed,
                probed,
            } => write!(
                f,
                "index v{}.{} (labelsize byte {labelsize}) claims {claimed}-byte labels, not \
                 {probed}",
                version / 100,
                version % 100
            ),
            Self::Checksum { stored, computed } => write!(
                f,
                "index checksum mismatch: stored {stored:#018x}, computed {computed:#018x}"
            ),
            Self::Sequence { seq } => write!(f, "sequence number {seq:#x} has no low bits set"),
            Self::Myoff { found, expected } => {
                write!(f, "myoff {found:#x} is not {expected:#x}")
            }
            Self::Otheroff { found, expected } => {
                write!(f, "otheroff {found:#x} is not {expected:#x}")
            }
            Self::Labeloff { found, expected } => {
                write!(f, "labeloff {found:#x} is not {expected:#x}")
            }
            Self::Mysize { found, max } => {
                write!(f, "mysize {found:#x} is outside 0x48..={max:#x}")
            }
            Self::Nslot { nslot, max } => {
                write!(
                    f,
                    "{nslot} label slots do not fit in the area (at most {max})"
                )
            }
            Self::NslotWraps { nslot, max } => write!(
                f,
                "{nslot} label slots do not fit in the area (at most {max}); the kernel's \
                 32-bit size check wraps and accepts them"
            ),
        }
    }
}

impl core::error::Error for IndexError {}

/// Why a label storage area holds no usable index block (the kernel treats the DIMM as
/// label-less), or cannot be looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AreaError {
    /// The area is larger than the kernel's 32-bit `config_size`.
    TooLarge {
        /// Bytes given.
        len: usize,
    },
    /// Neither index is valid, probed with 128-byte labels then with 256-byte labels
    /// (`nd_label_validate`). The errors are per label size, per index.
    NoValidIndex {
        /// Why index 0 and index 1 failed with 128-byte labels.
        v1_1: [IndexError; 2],
        /// Why index 0 and index 1 failed with 256-byte labels.
        v1_2: [IndexError; 2],
    },
}

impl fmt::Display for AreaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => {
                write!(
                    f,
                    "a {len}-byte label area is larger than the kernel's 32-bit size"
                )
            }
            Self::NoValidIndex { v1_1, v1_2 } => write!(
                f,
                "no valid index block (the kernel treats the DIMM as label-less): with \
                 128-byte labels index 0: {}, index 1: {}; with 256-byte labels index 0: {}, \
                 index 1: {}",
                v1_1[0], v1_1[1], v1_2[0], v1_2[1]
            ),
        }
    }
}

impl core::error::Error for AreaError {}

/// Why a planned change cannot be made (nothing was written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateError {
    /// The name is longer than 63 bytes (the kernel's `alt_name` limit) or holds a NUL.
    NameTooLong {
        /// Bytes given.
        len: usize,
    },
    /// The label's range is empty or wraps past 2^64.
    BadRange {
        /// `dpa`.
        dpa: u64,
        /// `rawsize`.
        rawsize: u64,
    },
    /// The range overlaps an active label of another namespace; the kernel's
    /// `nd_label_reserve_dpa` would fail and the region would lose every namespace.
    DpaOverlap {
        /// Slot of the active label in the way.
        slot: u32,
        /// Its uuid.
        uuid: Uuid,
    },
    /// `add` of a uuid that already has an active label.
    AlreadyExists {
        /// The uuid.
        uuid: Uuid,
    },
    /// `update` or `remove` of a uuid with no active label.
    NotFound {
        /// The uuid.
        uuid: Uuid,
    },
    /// No free slot is left in the current index.
    NoFreeSlot {
        /// `nslot`.
        nslot: u32,
    },
    /// The change touches more bitmap bytes than a plan holds (16).
    TooManyChanges,
    /// The area size does not fit the kernel's 32-bit `config_size`, or is too small for two
    /// index blocks and two labels (for `init`).
    BadAreaSize {
        /// Bytes of the area.
        len: u64,
    },
    /// The source bytes given to `apply` are not the ones the plan was made from.
    SourceChanged,
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NameTooLong { len } => write!(
                f,
                "a namespace name holds at most 63 bytes and no NUL (got {len} bytes)"
            ),
            Self::BadRange { dpa, rawsize } => {
                write!(f, "range {dpa:#x} + {rawsize:#x} is empty or wraps")
            }
            Self::DpaOverlap { slot, uuid } => write!(
                f,
                "the range overlaps the label in slot {slot} (namespace {uuid})"
            ),
            Self::AlreadyExists { uuid } => write!(f, "namespace {uuid} already has a label"),
            Self::NotFound { uuid } => write!(f, "namespace {uuid} has no active label"),
            Self::NoFreeSlot { nslot } => write!(f, "all {nslot} label slots are in use"),
            Self::TooManyChanges => f.write_str("the change touches too many label slots"),
            Self::BadAreaSize { len } => write!(
                f,
                "a {len}-byte label area cannot hold two index blocks and two labels"
            ),
            Self::SourceChanged => f.write_str("the area is not the one the plan was made from"),
        }
    }
}

impl core::error::Error for UpdateError {}

/// Why `Plan::apply` stopped: a write failed (the area is the old or the new state, see
/// `update`), or the plan was refused before any write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApplyError<E> {
    /// Refused before writing anything.
    Plan(UpdateError),
    /// The writer failed.
    Io(E),
}

impl<E: fmt::Display> fmt::Display for ApplyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plan(e) => write!(f, "{e}"),
            Self::Io(e) => write!(f, "label area write failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for ApplyError<E> {}

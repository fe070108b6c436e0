//! Safe repair of a BTT's info blocks: a damaged primary is rebuilt from its intact backup,
//! a damaged (or differing) backup from the primary. Nothing else is ever written: no map or
//! flog entry, no data block.
//!
//! The kernel writes the same 4096 bytes to both places (`btt_arena_write_layout` builds one
//! `struct btt_sb` and `btt_info_write` writes it at `info2off`, then at `infooff`), so the
//! repair is a byte copy of the valid block; the copy passes `nd_btt_arena_is_valid`
//! (signature, `parent_uuid`, checksum) because its source did (the walk of
//! [`crate::btt::check`] accepts a source only if it does, and, in the first arena, if its
//! version is the one of its placement).
//!
//! Two steps, as every write of the crate:
//!
//! 1. [`plan_repair`] reads and lists every write ([`PlannedWrite`]: the byte range, the copy
//!    it comes from, the finding it answers). It only reads: this is the dry run.
//! 2. [`apply`] checks that every source and target still holds the bytes the plan saw (by
//!    their `nd_fletcher64` digests) before it writes anything, then writes each range, and
//!    only those bytes.
//!
//! With neither copy valid the arena is not repaired ([`RepairPlan::unrecoverable`]); the
//! arenas after it cannot be found.

use core::fmt;

use zerocopy::IntoBytes;

use crate::btt::arena::Namespace;
use crate::btt::check::{CheckError, Finding, InfoCopy, InfoVerdict, InfoWalk};
use crate::btt::raw::BttSb;
use crate::checksum::nd_fletcher64;
use crate::io::{ReadAt, WriteAt};

/// One 4096-byte write of a [`RepairPlan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlannedWrite {
    /// Arena index.
    pub arena: u32,
    /// Which copy is rewritten.
    pub target: InfoCopy,
    /// Namespace offset written.
    pub offset: u64,
    /// Bytes written (4096).
    pub len: u32,
    /// Namespace offset of the valid copy whose bytes are written.
    pub source: u64,
    /// The finding the write answers ([`Finding::InfoInvalid`] or [`Finding::InfoMismatch`]).
    pub reason: Finding,
    /// `nd_fletcher64` of the source's 4096 bytes when planned.
    pub source_digest: u64,
    /// `nd_fletcher64` of the target's 4096 bytes when planned.
    pub target_digest: u64,
    /// Namespace range of the arena's data, map and flog (`dataoff..info2off`), which the
    /// write must not touch.
    pub protected: (u64, u64),
}

impl PlannedWrite {
    /// Whether the write stays clear of [`PlannedWrite::protected`] and is one whole block.
    #[must_use]
    pub fn is_safe(&self) -> bool {
        let (start, end) = self.protected;
        let Some(w_end) = self.offset.checked_add(u64::from(self.len)) else {
            return false;
        };
        self.len == 4096 && (w_end <= start || self.offset >= end)
    }
}

impl fmt::Display for PlannedWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arena {}: write {} bytes at {:#x} ({}) from the copy at {:#x}: {}",
            self.arena, self.len, self.offset, self.target, self.source, self.reason
        )
    }
}

/// Writes a plan holds at most (one per arena: 32 arenas of 512 GiB, a 16 TiB namespace).
pub const PLAN_CAPACITY: usize = 32;

/// What [`plan_repair`] would write; [`apply`] writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RepairPlan {
    writes: [Option<PlannedWrite>; PLAN_CAPACITY],
    len: usize,
    /// The arena whose two info blocks are both bad ([`Finding::InfoUnrecoverable`]), or the
    /// structural reason that stopped the walk; its arena and the ones after it are not
    /// repaired.
    pub unrecoverable: Option<Finding>,
}

impl RepairPlan {
    const EMPTY: Self = Self {
        writes: [None; PLAN_CAPACITY],
        len: 0,
        unrecoverable: None,
    };

    /// The planned writes, in arena order.
    pub fn writes(&self) -> impl Iterator<Item = &PlannedWrite> {
        self.writes.iter().flatten()
    }

    /// Number of writes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is to be written.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, w: PlannedWrite) -> bool {
        match self.writes.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(w);
                self.len = self.len.saturating_add(1);
                true
            }
            None => false,
        }
    }
}

/// Why a repair could not be planned or applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RepairError<E> {
    /// A read or write of `len` bytes at namespace offset `offset` failed. A failed write
    /// leaves the earlier writes of the plan done and the later ones undone; each write is a
    /// whole copy of a valid block, and the other copy stays valid.
    Io {
        /// Namespace offset.
        offset: u64,
        /// Bytes.
        len: usize,
        /// The caller's error.
        source: E,
    },
    /// More writes than [`PLAN_CAPACITY`] would be needed.
    PlanFull {
        /// The capacity.
        capacity: usize,
    },
    /// [`apply`]: a source or target no longer holds the bytes the plan saw (nothing written).
    Changed {
        /// Arena index.
        arena: u32,
        /// Namespace offset of the block that changed.
        offset: u64,
        /// Digest seen by the plan.
        planned: u64,
        /// Digest now.
        found: u64,
    },
    /// A planned range would touch the arena's data, map or flog (never produced by
    /// [`plan_repair`]; checked again by [`apply`]).
    UnsafeRange {
        /// Arena index.
        arena: u32,
        /// Namespace offset.
        offset: u64,
    },
}

impl<E> From<CheckError<E>> for RepairError<E> {
    fn from(e: CheckError<E>) -> Self {
        match e {
            CheckError::Io {
                offset,
                len,
                source,
            } => Self::Io {
                offset,
                len,
                source,
            },
            // The walk reads info blocks only: it has no scratch to be too small.
            CheckError::BitmapTooSmall { .. } | CheckError::IoBufferTooSmall { .. } => {
                Self::PlanFull { capacity: 0 }
            }
        }
    }
}

impl<E: fmt::Display> fmt::Display for RepairError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                offset,
                len,
                source,
            } => write!(
                f,
                "I/O of {len} bytes at offset {offset:#x} failed: {source}"
            ),
            Self::PlanFull { capacity } => {
                write!(f, "the repair needs more than {capacity} writes")
            }
            Self::Changed {
                arena,
                offset,
                planned,
                found,
            } => write!(
                f,
                "arena {arena}: the block at {offset:#x} changed since the plan (digest \
                 {planned:#018x}, now {found:#018x}); nothing written"
            ),
            Self::UnsafeRange { arena, offset } => write!(
                f,
                "arena {arena}: the write at {offset:#x} would touch data, map or flog"
            ),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for RepairError<E> {}

fn read_block<R: ReadAt + ?Sized>(
    ns: &mut R,
    offset: u64,
    sb: &mut BttSb,
) -> Result<(), RepairError<R::Error>> {
    ns.read_at(offset, sb.as_mut_bytes())
        .map_err(|source| RepairError::Io {
            offset,
            len: BttSb::SIZE,
            source,
        })
}

/// The dry run: walks the arenas as [`crate::btt::check::check`] does (info blocks only) and
/// lists the writes that restore every damaged or differing info block from its valid copy.
/// Reads only.
///
/// # Errors
/// [`RepairError::Io`] when a read fails, [`RepairError::PlanFull`] past [`PLAN_CAPACITY`]
/// writes.
pub fn plan_repair<R: ReadAt + ?Sized>(
    ns: &mut R,
    namespace: &Namespace,
) -> Result<RepairPlan, RepairError<R::Error>> {
    let mut plan = RepairPlan::EMPTY;
    // The walk reports at most one finding per arena before it decides (the reason of a
    // restore, or why it stopped); keep the last one.
    let mut last: Option<Finding> = None;
    let mut walk = InfoWalk::new(namespace, &mut |f: Finding| last = Some(f));
    let mut sb = BttSb::zeroed();
    let mut first = true;
    loop {
        if !first {
            last = None;
        }
        first = false;
        let found = {
            let mut remember = |f: Finding| last = Some(f);
            walk.next(ns, &mut remember)?
        };
        let Some(found) = found else {
            plan.unrecoverable = last;
            break;
        };
        let a = found.arena;
        let (target, offset, source) = match found.verdict {
            InfoVerdict::Good => continue,
            InfoVerdict::RestorePrimary { from } => (InfoCopy::Primary, a.infooff, from),
            InfoVerdict::RestoreBackup => (InfoCopy::Backup, a.info2off, a.infooff),
        };
        let Some(reason) = last else { continue };
        read_block(ns, source, &mut sb)?;
        let source_digest = nd_fletcher64(sb.as_bytes());
        read_block(ns, offset, &mut sb)?;
        let target_digest = nd_fletcher64(sb.as_bytes());
        let w = PlannedWrite {
            arena: a.index,
            target,
            offset,
            len: 4096,
            source,
            reason,
            source_digest,
            target_digest,
            protected: (a.dataoff, a.info2off),
        };
        if !w.is_safe() {
            return Err(RepairError::UnsafeRange {
                arena: a.index,
                offset,
            });
        }
        if !plan.push(w) {
            return Err(RepairError::PlanFull {
                capacity: PLAN_CAPACITY,
            });
        }
    }
    Ok(plan)
}

/// Writes the plan: first checks every source and target against the digests of the plan
/// (nothing is written if one changed), then copies each source block over its target.
///
/// # Errors
/// [`RepairError::Changed`] (nothing written), [`RepairError::UnsafeRange`] (nothing
/// written), [`RepairError::Io`].
pub fn apply<W: WriteAt + ?Sized>(
    plan: &RepairPlan,
    ns: &mut W,
) -> Result<(), RepairError<W::Error>> {
    let mut sb = BttSb::zeroed();
    for w in plan.writes() {
        if !w.is_safe() {
            return Err(RepairError::UnsafeRange {
                arena: w.arena,
                offset: w.offset,
            });
        }
        for (offset, planned) in [(w.source, w.source_digest), (w.offset, w.target_digest)] {
            read_block(ns, offset, &mut sb)?;
            let found = nd_fletcher64(sb.as_bytes());
            if found != planned {
                return Err(RepairError::Changed {
                    arena: w.arena,
                    offset,
                    planned,
                    found,
                });
            }
        }
    }
    for w in plan.writes() {
        read_block(ns, w.source, &mut sb)?;
        ns.write_at(w.offset, sb.as_bytes())
            .map_err(|source| RepairError::Io {
                offset: w.offset,
                len: BttSb::SIZE,
                source,
            })?;
    }
    Ok(())
}

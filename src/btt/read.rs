//! Reading a BTT as the kernel's block device does (`btt_read_pg`): external LBA → arena
//! (`lba_to_arena`) → pre-map block → map entry (`btt_map_read`) → post-map block → bytes at
//! `dataoff + postmap * internal_lbasize` (`to_namespace_offset`).
//!
//! * A map entry with both flag bits clear (a never-written block; a new map is all zero)
//!   maps the block to itself.
//! * The zero (trim) flag reads zeros; the error flag fails the read (`-EIO`).
//! * The read tracking table (`rtt`) only orders a live kernel's concurrent reads and writes;
//!   offline, the map is the truth, with one exception the kernel applies when it attaches
//!   the BTT: `btt_freelist_init` finds, lane by lane in order, a newer flog entry whose write
//!   reached the flog but not the map (`old_map != new_map`, the map still holds `old_map`
//!   and not `new_map`, flags stripped) and rewrites that map entry as a normal entry for
//!   `new_map`. A [`Reader`] computes the same repairs, per arena, without writing, and reads
//!   what the kernel would read after them ([`Translation::repaired_by_lane`]).
//!
//! LBAs count blocks of the device's sector size (512 or 4096 bytes, [`Btt::sector_size`]).

use crate::btt::arena::{Arena, Btt, Namespace};
use crate::btt::error::{Error, Invalid};
use crate::btt::raw::{MapEntry, MapState};
use crate::io::ReadAt;

/// Repairs a [`Reader`] can hold for one arena: a kernel arena has 256 lanes, and each lane
/// repairs at most one entry. [`Reader::open`] keeps the repairs of every arena in a table of
/// the same size.
const MAX_REPAIRS: usize = 256;

/// Arenas whose geometry [`Reader::open`] keeps in memory: 4 TiB of 512 GiB arenas. A bigger
/// BTT, or one whose arenas need more than [`MAX_REPAIRS`] repairs in all, is read through the
/// one-arena cache, which walks the chain and replays the arena's flog when the arena changes.
const MAX_ARENAS: usize = 8;

/// Where an LBA's data is, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Translation {
    /// The external LBA.
    pub lba: u64,
    /// Arena index.
    pub arena: u32,
    /// The pre-map block in the arena.
    pub premap: u32,
    /// The map entry as stored.
    pub stored: MapEntry,
    /// The entry the kernel uses: `stored`, or the repair of a lane's unfinished write.
    pub entry: MapEntry,
    /// The flog lane whose repair replaced the stored entry, if any.
    pub repaired_by_lane: Option<u32>,
    /// The entry's state.
    pub state: MapState,
    /// The post-map (data) block.
    pub postmap: u32,
    /// Namespace offset of the data block, when `postmap < internal_nlba`.
    pub data_offset: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
struct Repair {
    premap: u32,
    postmap: u32,
    lane: u32,
}

/// The arena last used, with its repairs.
#[derive(Clone, Copy, Debug)]
struct Cache {
    arena: Arena,
    repairs: [Repair; MAX_REPAIRS],
    len: usize,
}

impl Cache {
    fn repair(&self, premap: u32) -> Option<Repair> {
        self.repairs
            .get(..self.len)?
            .iter()
            .find(|r| r.premap == premap)
            .copied()
    }

    /// `btt_freelist_init`'s map recovery, simulated in memory.
    fn build<R: ReadAt + ?Sized>(ns: &mut R, arena: Arena) -> Result<Self, Error<R::Error>> {
        let mut cache = Self {
            arena,
            repairs: [Repair::default(); MAX_REPAIRS],
            len: 0,
        };
        let layout = arena.log_layout(ns)?;
        for lane in 0..arena.nfree {
            let (_, ent) = arena.newer_log_entry(ns, layout, lane)?;
            let (old, new) = (ent.old_postmap(), ent.new_postmap());
            if old == new {
                continue;
            }
            // newer_log_entry checked lba < external_nlba.
            let premap = ent.lba.get();
            let current = match cache.repair(premap) {
                Some(r) => r.postmap,
                None => arena.read_map_entry(ns, premap)?.postmap(premap),
            };
            if new != current && old == current {
                let repair = Repair {
                    premap,
                    postmap: new,
                    lane,
                };
                let len = cache.len;
                let slot = cache
                    .repairs
                    .iter_mut()
                    .take(len)
                    .find(|r| r.premap == premap);
                match slot {
                    Some(r) => *r = repair,
                    None => {
                        let free = cache.repairs.get_mut(len).ok_or(Invalid::TooManyRepairs {
                            arena: arena.index,
                            max: 256,
                        })?;
                        *free = repair;
                        cache.len = len.saturating_add(1);
                    }
                }
            }
        }
        Ok(cache)
    }
}

/// A repair of [`Table`], with its arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
struct TaggedRepair {
    arena: u32,
    repair: Repair,
}

/// Every arena of a BTT and every repair the kernel's flog replay would make in them, read
/// once by [`Reader::open`], so that a lookup reads nothing but its map entry whatever arena it
/// falls in.
#[derive(Clone, Copy, Debug)]
struct Table {
    arenas: [Option<Arena>; MAX_ARENAS],
    repairs: [TaggedRepair; MAX_REPAIRS],
    nrepairs: usize,
}

impl Table {
    /// The table of `btt`'s arenas, or `None` when they do not fit ([`MAX_ARENAS`] arenas,
    /// [`MAX_REPAIRS`] repairs).
    fn build<R: ReadAt + ?Sized>(ns: &mut R, btt: &Btt) -> Result<Option<Self>, Error<R::Error>> {
        if usize::try_from(btt.arena_count).map_or(true, |n| n > MAX_ARENAS) {
            return Ok(None);
        }
        let mut table = Self {
            arenas: [None; MAX_ARENAS],
            repairs: [TaggedRepair::default(); MAX_REPAIRS],
            nrepairs: 0,
        };
        for (slot, arena) in table.arenas.iter_mut().zip(btt.arenas(ns)) {
            *slot = Some(arena?);
        }
        for arena in table.arenas.into_iter().flatten() {
            let cache = Cache::build(ns, arena)?;
            for repair in cache.repairs.get(..cache.len).unwrap_or(&[]) {
                let Some(free) = table.repairs.get_mut(table.nrepairs) else {
                    return Ok(None);
                };
                *free = TaggedRepair {
                    arena: arena.index,
                    repair: *repair,
                };
                table.nrepairs = table.nrepairs.saturating_add(1);
            }
        }
        Ok(Some(table))
    }

    /// The arena holding `lba` and the pre-map block in it.
    fn find(&self, lba: u64) -> Option<(&Arena, u32)> {
        self.arenas.iter().flatten().find_map(|a| {
            let premap = u32::try_from(lba.checked_sub(a.external_lba_start)?).ok()?;
            (premap < a.external_nlba).then_some((a, premap))
        })
    }

    /// The repair of `premap` in arena `arena`, if any.
    fn repair(&self, arena: u32, premap: u32) -> Option<Repair> {
        self.repairs
            .get(..self.nrepairs)?
            .iter()
            .find(|t| t.arena == arena && t.repair.premap == premap)
            .map(|t| t.repair)
    }
}

/// Reads blocks of a BTT; holds the [`Btt`] and, after [`Reader::open`], every arena's
/// geometry and the flog repairs the kernel would make in them (up to 8 arenas, 4 TiB), or
/// else the arena last used with its repairs. It assumes the namespace does not change while
/// it is used, as the kernel's in-memory state does. About 5 KiB: keep it off a small stack.
#[derive(Clone, Debug)]
pub struct Reader {
    btt: Btt,
    table: Option<Table>,
    cache: Option<Cache>,
}

impl Reader {
    /// A reader for a BTT found by [`Btt::open`] that reads arenas as it meets them: each
    /// change of arena walks the chain and replays the arena's flog ([`Reader::open`] reads
    /// them all once instead).
    #[must_use]
    pub const fn new(btt: Btt) -> Self {
        Self {
            btt,
            table: None,
            cache: None,
        }
    }

    /// [`Btt::open`], then the geometry and flog repairs of every arena (when they fit in
    /// the reader; otherwise it works as [`Reader::new`]'s).
    ///
    /// # Errors
    /// As [`Btt::open`], and the reads of the flogs.
    pub fn open<R: ReadAt + ?Sized>(
        ns: &mut R,
        namespace: &Namespace,
    ) -> Result<Self, Error<R::Error>> {
        let btt = Btt::open(ns, namespace)?;
        let table = Table::build(ns, &btt)?;
        Ok(Self {
            btt,
            table,
            cache: None,
        })
    }

    /// The BTT read.
    #[must_use]
    pub const fn btt(&self) -> &Btt {
        &self.btt
    }

    /// Where LBA `lba` is: its arena, its map entry (after the kernel's flog repair), and
    /// the namespace offset of its data block.
    ///
    /// # Errors
    /// [`Invalid::LbaOutOfRange`], the errors of the arena walk and of the flog
    /// ([`Btt::open`]), [`Error::Io`]. A media-error or zero entry is not an error here.
    pub fn translate<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
        lba: u64,
    ) -> Result<Translation, Error<R::Error>> {
        Ok(self.locate(ns, lba)?.0)
    }

    /// [`Reader::translate`], and the arena's `internal_nlba`.
    fn locate<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
        lba: u64,
    ) -> Result<(Translation, u32), Error<R::Error>> {
        let btt = self.btt;
        if lba >= btt.nlba {
            return Err(Invalid::LbaOutOfRange {
                lba,
                nlba: btt.nlba,
            }
            .into());
        }
        if let Some((arena, premap)) = self.table.as_ref().and_then(|t| t.find(lba)) {
            let arena = *arena;
            let stored = arena.read_map_entry(ns, premap)?;
            let repair = self
                .table
                .as_ref()
                .and_then(|t| t.repair(arena.index, premap));
            return Ok((
                translation(lba, &arena, premap, stored, repair),
                arena.internal_nlba,
            ));
        }
        let btt = self.btt;
        let cached = self.cache.as_ref().and_then(|c| {
            let premap = lba.checked_sub(c.arena.external_lba_start)?;
            let premap = u32::try_from(premap).ok()?;
            (premap < c.arena.external_nlba).then_some(premap)
        });
        let (cache, premap) = match (cached, self.cache.as_ref()) {
            (Some(premap), Some(cache)) => (cache, premap),
            _ => {
                let (arena, premap) = btt.arena_for_lba(ns, lba)?;
                (&*self.cache.insert(Cache::build(ns, arena)?), premap)
            }
        };
        let arena = cache.arena;
        let stored = arena.read_map_entry(ns, premap)?;
        let repair = cache.repair(premap);
        Ok((
            translation(lba, &arena, premap, stored, repair),
            arena.internal_nlba,
        ))
    }

    /// `btt_read_pg` for one block: fills `buf` with LBA `lba`'s bytes. `buf` is one sector
    /// ([`Btt::sector_size`]), or one external block ([`Btt::external_lbasize`]: the sector
    /// and its integrity metadata, which follow it in the data block).
    ///
    /// # Errors
    /// [`Invalid::BufferSize`], [`Invalid::MediaError`] (error flag),
    /// [`Invalid::PostmapOutOfRange`], and the errors of [`Reader::translate`].
    pub fn read_lba<R: ReadAt + ?Sized>(
        &mut self,
        ns: &mut R,
        lba: u64,
        buf: &mut [u8],
    ) -> Result<Translation, Error<R::Error>> {
        let btt = self.btt;
        let len_ok = u32::try_from(buf.len())
            .is_ok_and(|len| len == btt.sector_size || len == btt.external_lbasize);
        if !len_ok {
            return Err(Invalid::BufferSize {
                len: buf.len(),
                expected: btt.sector_size,
            }
            .into());
        }
        let (t, internal_nlba) = self.locate(ns, lba)?;
        match t.state {
            MapState::Zero => {
                buf.fill(0);
                Ok(t)
            }
            MapState::Error => Err(Invalid::MediaError {
                lba,
                arena: t.arena,
                postmap: t.postmap,
            }
            .into()),
            MapState::Identity | MapState::Normal => {
                let offset = t.data_offset.ok_or(Invalid::PostmapOutOfRange {
                    lba,
                    arena: t.arena,
                    postmap: t.postmap,
                    internal_nlba,
                })?;
                crate::btt::arena::read_exact(ns, offset, buf)?;
                Ok(t)
            }
        }
    }
}

/// The [`Translation`] of `lba` (pre-map block `premap` of `arena`) whose map entry is
/// `stored`, with the flog replay's `repair` if it has one.
fn translation(
    lba: u64,
    arena: &Arena,
    premap: u32,
    stored: MapEntry,
    repair: Option<Repair>,
) -> Translation {
    let (entry, repaired_by_lane) = match repair {
        Some(r) => (MapEntry::normal(r.postmap), Some(r.lane)),
        None => (stored, None),
    };
    let postmap = entry.postmap(premap);
    Translation {
        lba,
        arena: arena.index,
        premap,
        stored,
        entry,
        repaired_by_lane,
        state: entry.state(),
        postmap,
        data_offset: arena.data_offset(postmap),
    }
}

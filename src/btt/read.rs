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
//! One more thing `btt_freelist_init` does is not modelled, because no read can see it: for a
//! lane whose newer entry's `old_map` has only the error flag, it writes zeros over that free
//! block (`arena_clear_freelist_error`). A free block is mapped by no LBA unless the map and
//! the flog disagree, which is a checker's finding.
//!
//! LBAs count blocks of the device's sector size (512 or 4096 bytes, [`Btt::sector_size`]).

use crate::btt::arena::{Arena, Btt, Namespace};
use crate::btt::error::{Error, Invalid};
use crate::btt::raw::{MapEntry, MapState};
use crate::io::ReadAt;

/// Repairs a [`Reader`] can hold for one arena: a kernel arena has 256 lanes, and each lane
/// repairs at most one entry.
const MAX_REPAIRS: usize = 256;

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

/// Reads blocks of a BTT; holds the [`Btt`] and the arena last used (with the flog repairs
/// the kernel would make in it). It assumes the namespace does not change while it is used,
/// as the kernel's in-memory state does.
#[derive(Clone, Debug)]
pub struct Reader {
    btt: Btt,
    cache: Option<Cache>,
}

impl Reader {
    /// A reader for a BTT found by [`Btt::open`].
    #[must_use]
    pub const fn new(btt: Btt) -> Self {
        Self { btt, cache: None }
    }

    /// [`Btt::open`], then [`Reader::new`].
    ///
    /// # Errors
    /// As [`Btt::open`].
    pub fn open<R: ReadAt + ?Sized>(
        ns: &mut R,
        namespace: &Namespace,
    ) -> Result<Self, Error<R::Error>> {
        Ok(Self::new(Btt::open(ns, namespace)?))
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
        let btt = self.btt;
        if lba >= btt.nlba {
            return Err(Invalid::LbaOutOfRange {
                lba,
                nlba: btt.nlba,
            }
            .into());
        }
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
        let (entry, repaired_by_lane) = match cache.repair(premap) {
            Some(r) => (MapEntry::normal(r.postmap), Some(r.lane)),
            None => (stored, None),
        };
        let postmap = entry.postmap(premap);
        Ok(Translation {
            lba,
            arena: arena.index,
            premap,
            stored,
            entry,
            repaired_by_lane,
            state: entry.state(),
            postmap,
            data_offset: arena.data_offset(postmap),
        })
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
        let t = self.translate(ns, lba)?;
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
                let internal_nlba = self.cache.as_ref().map_or(0, |c| c.arena.internal_nlba);
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

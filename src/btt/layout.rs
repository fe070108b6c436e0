//! The kernel's layout of a new BTT (`create_arenas`, `alloc_arena`) and the metadata it
//! writes (`btt_arena_write_layout`: `btt_map_init`, `btt_log_init`, `btt_info_write`), and
//! [`create`], which writes the same bytes through [`WriteAt`] after a dry run ([`Layout::plan`]).
//!
//! The kernel lays out a BTT when a `btt` device is bound to a namespace that holds none:
//! `rawsize` is the namespace less the info-block offset (4096 for 1.1, 0 for 2.0), cut into
//! arenas of 512 GiB (the last one smaller; a last piece under 16 MiB is left unused). In each
//! arena of `size` bytes (rounded down to 4096):
//!
//! ```text
//! available     = size - 2 * 4096 (info blocks) - logsize
//! logsize       = roundup(nfree * 64, 4096)                       nfree = 256
//! internal_nlba = (available - 4096) / (internal_lbasize + 4)     internal_lbasize = roundup(lbasize, 64)
//! external_nlba = internal_nlba - nfree
//! mapsize       = roundup(external_nlba * 4, 4096)
//! dataoff = 4096, mapoff = dataoff + (available - mapsize), logoff = mapoff + mapsize,
//! info2off = logoff + logsize (the arena's last used page)
//! ```
//!
//! Data blocks are not written: the map is all zero (identity), so block `n` of the arena
//! reads data block `n`, whatever it holds. The flog is zeroed, then lane `i` gets one entry
//! in slot 0: `{lba: i, old_map: external_nlba + i, new_map: external_nlba + i, seq: 1}` (the
//! free blocks are the last `nfree` data blocks). The info block is written twice, backup
//! first, with `flags` 0 and `infosize` 4096.

use zerocopy::IntoBytes;

use crate::btt::arena::{read_exact, BttVersion};
use crate::btt::error::{Area, Error, Invalid};
use crate::btt::raw::{
    BttSb, LogEntry, LogGroup, ARENA_MAX_SIZE, ARENA_MIN_SIZE, BTT_DEFAULT_NFREE, BTT_PG_SIZE,
    INT_LBASIZE_ALIGNMENT, LOG_GRP_SIZE, MAP_ENT_SIZE, SIGNATURE, SUPPORTED_LBASIZES,
};
use crate::io::WriteAt;
use crate::uuid::Uuid;

/// What the kernel needs to lay out a BTT: the namespace, and the `btt` device's attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayoutRequest {
    /// Bytes of the namespace.
    pub namespace_size: u64,
    /// The `sector_size` attribute: the external block size (512, 520, 528, 4096, 4104,
    /// 4160 or 4224).
    pub lbasize: u32,
    /// The placement (1.1 at byte 4096, 2.0 at byte 0).
    pub version: BttVersion,
    /// The `uuid` attribute of the `btt` device.
    pub uuid: Uuid,
    /// The namespace's uuid (`nd_dev_to_uuid`): all zero for a label-less namespace.
    pub parent_uuid: Uuid,
}

/// One arena of a [`Layout`], as `alloc_arena` computes it. Offsets are namespace offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArenaLayout {
    /// Position in the chain.
    pub index: u32,
    /// Namespace offset of the info block.
    pub infooff: u64,
    /// Bytes given to the arena by `create_arenas` (512 GiB, or the rest).
    pub size: u64,
    /// First external LBA.
    pub external_lba_start: u64,
    /// `external_lbasize`.
    pub external_lbasize: u32,
    /// `internal_lbasize`.
    pub internal_lbasize: u32,
    /// `external_nlba`.
    pub external_nlba: u32,
    /// `internal_nlba`.
    pub internal_nlba: u32,
    /// `nfree`.
    pub nfree: u32,
    /// `nextoff` as stored: `size`, or 0 in the last arena.
    pub nextoff: u64,
    /// Namespace offset of the data area.
    pub dataoff: u64,
    /// Namespace offset of the map.
    pub mapoff: u64,
    /// Namespace offset of the flog.
    pub logoff: u64,
    /// Namespace offset of the backup info block.
    pub info2off: u64,
}

/// `roundup(x, to)` for a power of two `to`, checked.
fn round_up(x: u64, to: u64) -> Option<u64> {
    let mask = to.checked_sub(1)?;
    Some(x.checked_add(mask)? & !mask)
}

impl ArenaLayout {
    /// `alloc_arena` for an arena of `size` bytes at offset `arena_off` of the raw space.
    fn alloc(
        request: &LayoutRequest,
        index: u32,
        size: u64,
        arena_off: u64,
        external_lba_start: u64,
        nextoff: u64,
    ) -> Option<Self> {
        let lbasize = request.lbasize;
        let internal_lbasize = u32::try_from(round_up(
            u64::from(lbasize),
            u64::from(INT_LBASIZE_ALIGNMENT),
        )?)
        .ok()?;
        let nfree = BTT_DEFAULT_NFREE;
        let available = size.checked_sub(size % BTT_PG_SIZE)?;
        let available = available.checked_sub(2 * BTT_PG_SIZE)?;
        let logsize = round_up(u64::from(nfree).checked_mul(LOG_GRP_SIZE)?, BTT_PG_SIZE)?;
        let available = available.checked_sub(logsize)?;
        let internal_nlba = available
            .checked_sub(BTT_PG_SIZE)?
            .checked_div(u64::from(internal_lbasize).checked_add(MAP_ENT_SIZE)?)?;
        let internal_nlba = u32::try_from(internal_nlba).ok()?;
        let external_nlba = internal_nlba.checked_sub(nfree)?;
        let mapsize = round_up(
            u64::from(external_nlba).checked_mul(MAP_ENT_SIZE)?,
            BTT_PG_SIZE,
        )?;
        let datasize = available.checked_sub(mapsize)?;
        let infooff = request.version.info_offset().checked_add(arena_off)?;
        let dataoff = infooff.checked_add(BTT_PG_SIZE)?;
        let mapoff = dataoff.checked_add(datasize)?;
        let logoff = mapoff.checked_add(mapsize)?;
        let info2off = logoff.checked_add(logsize)?;
        Some(Self {
            index,
            infooff,
            size,
            external_lba_start,
            external_lbasize: lbasize,
            internal_lbasize,
            external_nlba,
            internal_nlba,
            nfree,
            nextoff,
            dataoff,
            mapoff,
            logoff,
            info2off,
        })
    }

    /// The info block `btt_arena_write_layout` writes for this arena (both copies).
    #[must_use]
    pub fn info_block(&self, request: &LayoutRequest) -> BttSb {
        let mut sb = BttSb::zeroed();
        sb.signature = SIGNATURE;
        sb.uuid = request.uuid;
        sb.parent_uuid = request.parent_uuid;
        sb.flags.set(0);
        sb.version_major.set(request.version.major());
        sb.version_minor.set(request.version.minor());
        sb.external_lbasize.set(self.external_lbasize);
        sb.external_nlba.set(self.external_nlba);
        sb.internal_lbasize.set(self.internal_lbasize);
        sb.internal_nlba.set(self.internal_nlba);
        sb.nfree.set(self.nfree);
        sb.infosize.set(4096);
        sb.nextoff.set(self.nextoff);
        // Relative to the arena; the offsets are built upwards from infooff.
        sb.dataoff.set(self.dataoff.saturating_sub(self.infooff));
        sb.mapoff.set(self.mapoff.saturating_sub(self.infooff));
        sb.logoff.set(self.logoff.saturating_sub(self.infooff));
        sb.info2off.set(self.info2off.saturating_sub(self.infooff));
        sb.update_checksum();
        sb
    }

    /// The flog group `btt_log_init` writes for lane `lane`: slot 0 holds `{lba: lane,
    /// old_map = new_map = external_nlba + lane, seq: 1}`, the other slots are zero; lanes
    /// at or past `nfree` are all zero.
    #[must_use]
    pub fn initial_log_group(&self, lane: u32) -> LogGroup {
        let mut group = LogGroup::default();
        if lane < self.nfree {
            let block = self.external_nlba.saturating_add(lane);
            let mut ent = LogEntry::default();
            ent.lba.set(lane);
            ent.old_map.set(block);
            ent.new_map.set(block);
            ent.seq.set(1);
            group.ent = [
                ent,
                LogEntry::default(),
                LogEntry::default(),
                LogEntry::default(),
            ];
        }
        group
    }
}

/// A solved layout ([`solve`]): the arenas `create_arenas` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    request: LayoutRequest,
    rawsize: u64,
    arena_count: u32,
    nlba: u64,
    full: Option<ArenaLayout>,
    last: ArenaLayout,
}

/// `create_arenas` and `alloc_arena` for a request.
///
/// # Errors
/// [`Invalid::UnsupportedLbasize`] for a sector size the kernel does not accept,
/// [`Invalid::NamespaceTooSmall`] when `rawsize` is under 16 MiB.
pub fn solve(request: &LayoutRequest) -> Result<Layout, Invalid> {
    if !SUPPORTED_LBASIZES.contains(&request.lbasize) {
        return Err(Invalid::UnsupportedLbasize {
            lbasize: request.lbasize,
        });
    }
    let too_small = Invalid::NamespaceTooSmall {
        size: request.namespace_size,
        min: ARENA_MIN_SIZE.saturating_add(request.version.info_offset()),
    };
    let rawsize = request
        .namespace_size
        .checked_sub(request.version.info_offset())
        .filter(|&raw| raw >= ARENA_MIN_SIZE)
        .ok_or(too_small)?;
    // Every arena but the last is ARENA_MAX_SIZE; the rest makes one more arena when it
    // reaches ARENA_MIN_SIZE.
    let full_count = rawsize / ARENA_MAX_SIZE;
    let rest = rawsize % ARENA_MAX_SIZE;
    let (count, last_size) = if rest >= ARENA_MIN_SIZE {
        (full_count.checked_add(1).ok_or(too_small)?, rest)
    } else {
        (full_count, ARENA_MAX_SIZE)
    };
    let arena_count = u32::try_from(count).map_err(|_| too_small)?;
    let last_index = arena_count.checked_sub(1).ok_or(too_small)?;
    let full = if last_index > 0 {
        Some(
            ArenaLayout::alloc(request, 0, ARENA_MAX_SIZE, 0, 0, ARENA_MAX_SIZE)
                .ok_or(too_small)?,
        )
    } else {
        None
    };
    let full_nlba = full.map_or(0, |a| u64::from(a.external_nlba));
    let last_start = full_nlba
        .checked_mul(u64::from(last_index))
        .ok_or(too_small)?;
    let last_off = ARENA_MAX_SIZE
        .checked_mul(u64::from(last_index))
        .ok_or(too_small)?;
    let last = ArenaLayout::alloc(request, last_index, last_size, last_off, last_start, 0)
        .ok_or(too_small)?;
    let nlba = last_start
        .checked_add(u64::from(last.external_nlba))
        .ok_or(too_small)?;
    Ok(Layout {
        request: *request,
        rawsize,
        arena_count,
        nlba,
        full,
        last,
    })
}

impl Layout {
    /// The request solved.
    #[must_use]
    pub const fn request(&self) -> &LayoutRequest {
        &self.request
    }

    /// `rawsize`: the namespace less the info-block offset.
    #[must_use]
    pub const fn rawsize(&self) -> u64 {
        self.rawsize
    }

    /// Number of arenas.
    #[must_use]
    pub const fn arena_count(&self) -> u32 {
        self.arena_count
    }

    /// `btt->nlba`: blocks of the device.
    #[must_use]
    pub const fn nlba(&self) -> u64 {
        self.nlba
    }

    /// `btt->sector_size`: 4096 for a `lbasize` of 4096 or more, else 512.
    #[must_use]
    pub const fn sector_size(&self) -> u32 {
        if self.request.lbasize >= 4096 {
            4096
        } else {
            512
        }
    }

    /// Bytes of the block device: `nlba * sector_size`.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.nlba.saturating_mul(u64::from(self.sector_size()))
    }

    /// Arena `index`, `None` past the last.
    #[must_use]
    pub fn arena(&self, index: u32) -> Option<ArenaLayout> {
        let last_index = self.arena_count.checked_sub(1)?;
        if index == last_index {
            return Some(self.last);
        }
        if index > last_index {
            return None;
        }
        let full = self.full?;
        let shift = |x: u64| x.checked_add(ARENA_MAX_SIZE.checked_mul(u64::from(index))?);
        Some(ArenaLayout {
            index,
            infooff: shift(full.infooff)?,
            external_lba_start: u64::from(full.external_nlba).checked_mul(u64::from(index))?,
            dataoff: shift(full.dataoff)?,
            mapoff: shift(full.mapoff)?,
            logoff: shift(full.logoff)?,
            info2off: shift(full.info2off)?,
            ..full
        })
    }

    /// The arenas in order.
    pub fn arenas(&self) -> impl Iterator<Item = ArenaLayout> + '_ {
        (0..self.arena_count).map_while(|i| self.arena(i))
    }

    /// The dry run of [`create`]: every byte range it writes, in the kernel's order (per
    /// arena: map, flog, backup info block, info block). Nothing else is written.
    #[must_use]
    pub fn plan(&self) -> Plan<'_> {
        Plan {
            layout: self,
            arena: 0,
            step: 0,
        }
    }

    /// One past the last byte [`create`] writes (the last arena's backup info block end).
    #[must_use]
    pub fn end(&self) -> u64 {
        self.last.info2off.saturating_add(BTT_PG_SIZE)
    }
}

/// One byte range of a [`Plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WriteRange {
    /// Arena index.
    pub arena: u32,
    /// What the range holds.
    pub area: Area,
    /// Namespace offset.
    pub offset: u64,
    /// Bytes.
    pub len: u64,
}

/// The ranges [`create`] writes ([`Layout::plan`]).
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    layout: &'a Layout,
    arena: u32,
    step: u8,
}

impl Iterator for Plan<'_> {
    type Item = WriteRange;

    fn next(&mut self) -> Option<WriteRange> {
        if self.step > 3 {
            return None;
        }
        let a = self.layout.arena(self.arena)?;
        let (area, offset, end) = match self.step {
            0 => (Area::Map, a.mapoff, a.logoff),
            1 => (Area::Log, a.logoff, a.info2off),
            2 => (
                Area::Info2,
                a.info2off,
                a.info2off.saturating_add(BTT_PG_SIZE),
            ),
            _ => (Area::Info, a.infooff, a.infooff.saturating_add(BTT_PG_SIZE)),
        };
        if self.step == 3 {
            match self.arena.checked_add(1) {
                Some(next) => {
                    self.arena = next;
                    self.step = 0;
                }
                None => self.step = 4,
            }
        } else {
            self.step = self.step.saturating_add(1);
        }
        Some(WriteRange {
            arena: a.index,
            area,
            offset,
            len: end.saturating_sub(offset),
        })
    }
}

/// Lays out a BTT as the kernel does ([`solve`]) and writes its metadata: per arena, the
/// zeroed map, the initial flog, the backup info block, then the info block; exactly the
/// ranges of [`Layout::plan`], in that order. Data blocks are not touched.
///
/// Before writing anything it solves the request and reads the last byte the plan covers,
/// so a bad request or a namespace too small for its stated size writes nothing.
///
/// # Errors
/// [`Invalid`] from [`solve`], [`Error::Io`] from the probe read (nothing written) or from a
/// write (the ranges before it are written; the first arena's info block, which makes the BTT
/// visible, is among the last bytes written in its arena).
pub fn create<W: WriteAt + ?Sized>(
    ns: &mut W,
    request: &LayoutRequest,
) -> Result<Layout, Error<W::Error>> {
    let layout = solve(request)?;
    let mut probe = [0u8; 1];
    read_exact(ns, layout.end().saturating_sub(1), &mut probe)?;
    for range in layout.plan() {
        let Some(arena) = layout.arena(range.arena) else {
            break;
        };
        match range.area {
            Area::Info | Area::Info2 => {
                let sb = arena.info_block(request);
                write_all(ns, range.offset, sb.as_bytes())?;
            }
            Area::Map | Area::Data => write_chunks(ns, range, |_, _| {})?,
            Area::Log => write_chunks(ns, range, |at, buf| {
                // The lanes whose groups fall in this chunk (64 per 4096 bytes).
                for (i, group) in buf.chunks_exact_mut(64).enumerate() {
                    let lane = at
                        .checked_div(LOG_GRP_SIZE)
                        .and_then(|first| first.checked_add(u64::try_from(i).ok()?))
                        .and_then(|l| u32::try_from(l).ok());
                    if let Some(lane) = lane {
                        group.copy_from_slice(arena.initial_log_group(lane).as_bytes());
                    }
                }
            })?,
        }
    }
    Ok(layout)
}

fn write_all<W: WriteAt + ?Sized>(
    ns: &mut W,
    offset: u64,
    buf: &[u8],
) -> Result<(), Error<W::Error>> {
    ns.write_at(offset, buf).map_err(|source| Error::Io {
        offset,
        len: buf.len(),
        source,
    })
}

/// Writes `range` in chunks of up to 4096 bytes, each zeroed and then prepared by
/// `fill(offset_in_range, chunk)`.
fn write_chunks<W: WriteAt + ?Sized>(
    ns: &mut W,
    range: WriteRange,
    mut fill: impl FnMut(u64, &mut [u8]),
) -> Result<(), Error<W::Error>> {
    let mut buf = [0u8; 4096];
    let mut done: u64 = 0;
    while done < range.len {
        let left = range.len.saturating_sub(done);
        let n = usize::try_from(left.min(4096)).unwrap_or(4096);
        let Some(part) = buf.get_mut(..n) else {
            break;
        };
        part.fill(0);
        fill(done, part);
        write_all(ns, range.offset.saturating_add(done), part)?;
        done = done.saturating_add(u64::try_from(n).unwrap_or(4096));
    }
    Ok(())
}

//! Finding and checking the arenas of a BTT, as the kernel does when it probes a namespace
//! (`__nd_btt_probe`, `nd_btt_version`, `nd_btt_arena_is_valid` in `btt_devs.c`) and when it
//! attaches the BTT (`discover_arenas`, `parse_arena_meta`, `log_set_indices`,
//! `btt_freelist_init` in `btt.c`).
//!
//! Every offset this module returns is a byte offset **in the namespace** (the kernel's arena
//! offsets plus the info block's placement, `initial_offset`).

use core::fmt;

use zerocopy::IntoBytes;

use crate::btt::error::{Area, Error, Invalid};
use crate::btt::raw::{
    BttSb, LogGroup, LogLayout, MapEntry, ARENA_MIN_SIZE, BTT_PG_SIZE, LOG_GRP_SIZE, MAP_ENT_SIZE,
};
use crate::io::ReadAt;
use crate::uuid::Uuid;

/// The two BTT versions and where each puts its first info block (`nd_btt_version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BttVersion {
    /// BTT 1.1 (Linux's own): first info block at byte 4096 of the namespace. Used on
    /// label-less namespaces and under v1.1 labels (claim class none or BTT).
    V1_1,
    /// BTT 2.0 (UEFI 2.7): first info block at byte 0. Used when the namespace's v1.2 label
    /// has the BTT2 claim class (abstraction GUID).
    V2_0,
}

impl BttVersion {
    /// `nd_btt->initial_offset`: 4096 for 1.1, 0 for 2.0.
    #[must_use]
    pub const fn info_offset(self) -> u64 {
        match self {
            Self::V1_1 => 4096,
            Self::V2_0 => 0,
        }
    }

    /// `version_major` written and expected.
    #[must_use]
    pub const fn major(self) -> u16 {
        match self {
            Self::V1_1 => 1,
            Self::V2_0 => 2,
        }
    }

    /// `version_minor` written and expected.
    #[must_use]
    pub const fn minor(self) -> u16 {
        match self {
            Self::V1_1 => 1,
            Self::V2_0 => 0,
        }
    }
}

impl fmt::Display for BttVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major(), self.minor())
    }
}

/// What the kernel knows about the namespace under the BTT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// Bytes of the namespace (`nvdimm_namespace_capacity`).
    pub size: u64,
    /// `nd_dev_to_uuid` of the namespace: its label's uuid, or all zero for a label-less
    /// (`nd_namespace_io`) namespace. A block's non-zero `parent_uuid` must equal it.
    pub uuid: Uuid,
    /// The placement, from the claim class (BTT2 → 2.0, otherwise 1.1).
    pub version: BttVersion,
}

impl Namespace {
    /// A label-less namespace of `size` bytes: uuid all zero, BTT 1.1.
    #[must_use]
    pub const fn labelless(size: u64) -> Self {
        Self {
            size,
            uuid: Uuid::NIL,
            version: BttVersion::V1_1,
        }
    }

    /// `rawsize`: the bytes the arenas share, the namespace less the info-block offset.
    #[must_use]
    pub const fn rawsize(&self) -> Option<u64> {
        self.size.checked_sub(self.version.info_offset())
    }

    /// The kernel's size checks: `__nd_btt_probe` wants a capacity of at least 16 MiB, and
    /// `nvdimm_namespace_attach_btt` a `rawsize` of at least 16 MiB (`-ENXIO` for both).
    ///
    /// # Errors
    /// [`Invalid::NamespaceTooSmall`] with the size and the minimum.
    pub fn check_size(&self) -> Result<u64, Invalid> {
        let min = ARENA_MIN_SIZE.saturating_add(self.version.info_offset());
        match self.rawsize() {
            Some(raw) if raw >= ARENA_MIN_SIZE && self.size >= ARENA_MIN_SIZE => Ok(raw),
            _ => Err(Invalid::NamespaceTooSmall {
                size: self.size,
                min,
            }),
        }
    }
}

/// Reads exactly `buf.len()` bytes at `offset`, naming the range in the error.
pub(crate) fn read_exact<R: ReadAt + ?Sized>(
    ns: &mut R,
    offset: u64,
    buf: &mut [u8],
) -> Result<(), Error<R::Error>> {
    ns.read_at(offset, buf).map_err(|source| Error::Io {
        offset,
        len: buf.len(),
        source,
    })
}

/// Reads the 4096-byte info block at namespace offset `offset`.
///
/// # Errors
/// [`Error::Io`] when the read fails.
pub fn read_info<R: ReadAt + ?Sized>(ns: &mut R, offset: u64) -> Result<BttSb, Error<R::Error>> {
    let mut sb = BttSb::zeroed();
    read_exact(ns, offset, sb.as_mut_bytes())?;
    Ok(sb)
}

/// `nd_btt_arena_is_valid`: the signature (all 16 bytes), the `parent_uuid` when it is not
/// zero, and the checksum. [`IB_FLAG_ERROR`](crate::btt::raw::IB_FLAG_ERROR) is not a
/// failure (the kernel only logs it); see [`BttSb::has_error_flag`].
///
/// # Errors
/// The first failing check, with `arena` as the arena index.
pub fn check_info(sb: &BttSb, arena: u32, namespace_uuid: &Uuid) -> Result<(), Invalid> {
    if !sb.has_signature() {
        return Err(Invalid::BadSignature {
            arena,
            found: sb.signature,
        });
    }
    if !sb.parent_uuid.is_nil() && sb.parent_uuid != *namespace_uuid {
        return Err(Invalid::ParentUuidMismatch {
            arena,
            found: sb.parent_uuid,
            expected: *namespace_uuid,
        });
    }
    sb.verify_checksum().map_err(|e| Invalid::ChecksumMismatch {
        arena,
        stored: e.stored,
        computed: e.computed,
    })
}

/// One arena as `parse_arena_meta` reads it, with every offset made a namespace offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arena {
    /// Position in the chain (0 = first).
    pub index: u32,
    /// Namespace offset of the info block (the arena's start).
    pub infooff: u64,
    /// Bytes of the arena: `nextoff`, or through the backup info block in the last arena.
    pub size: u64,
    /// First external LBA of the arena (the sum of the earlier arenas' `external_nlba`).
    pub external_lba_start: u64,
    /// `external_nlba`.
    pub external_nlba: u32,
    /// `internal_nlba`.
    pub internal_nlba: u32,
    /// `external_lbasize`.
    pub external_lbasize: u32,
    /// `internal_lbasize`.
    pub internal_lbasize: u32,
    /// `nfree`: flog lanes and free blocks.
    pub nfree: u32,
    /// `version_major`.
    pub version_major: u16,
    /// `version_minor`.
    pub version_minor: u16,
    /// `flags` ([`IB_FLAG_ERROR`](crate::btt::raw::IB_FLAG_ERROR)).
    pub flags: u32,
    /// `uuid`.
    pub uuid: Uuid,
    /// `parent_uuid`.
    pub parent_uuid: Uuid,
    /// `nextoff` as stored (relative to this arena; 0 in the last arena).
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

/// Whether `start + len <= limit`, without overflow.
fn fits(start: u64, len: u64, limit: u64) -> bool {
    start.checked_add(len).is_some_and(|end| end <= limit)
}

impl Arena {
    /// `parse_arena_meta` plus the structure the kernel assumes: the checks of
    /// [`Invalid::ZeroLbasize`], [`Invalid::LbasizeMismatch`] (against `first_lbasize`, the
    /// first arena's, when given), [`Invalid::InternalLbasizeTooSmall`],
    /// [`Invalid::NoFreeBlocks`], [`Invalid::NlbaMismatch`], [`Invalid::AreaOverlap`] and,
    /// with `remaining` the bytes of the namespace from `infooff` on,
    /// [`Invalid::ArenaPastEnd`]. The info block itself is checked by [`check_info`].
    ///
    /// # Errors
    /// The first failing check.
    pub fn from_info(
        sb: &BttSb,
        index: u32,
        infooff: u64,
        external_lba_start: u64,
        remaining: u64,
        first_lbasize: Option<u32>,
    ) -> Result<Self, Invalid> {
        let arena = index;
        let external_lbasize = sb.external_lbasize.get();
        let internal_lbasize = sb.internal_lbasize.get();
        let external_nlba = sb.external_nlba.get();
        let internal_nlba = sb.internal_nlba.get();
        let nfree = sb.nfree.get();
        if external_lbasize == 0 {
            return Err(Invalid::ZeroLbasize { arena });
        }
        if let Some(first) = first_lbasize {
            if first != external_lbasize {
                return Err(Invalid::LbasizeMismatch {
                    arena,
                    found: external_lbasize,
                    first,
                });
            }
        }
        if internal_lbasize < external_lbasize {
            return Err(Invalid::InternalLbasizeTooSmall {
                arena,
                internal_lbasize,
                external_lbasize,
            });
        }
        if nfree == 0 {
            return Err(Invalid::NoFreeBlocks { arena });
        }
        if external_nlba.checked_add(nfree) != Some(internal_nlba) {
            return Err(Invalid::NlbaMismatch {
                arena,
                internal_nlba,
                external_nlba,
                nfree,
            });
        }
        let nextoff = sb.nextoff.get();
        let dataoff = sb.dataoff.get();
        let mapoff = sb.mapoff.get();
        let logoff = sb.logoff.get();
        let info2off = sb.info2off.get();
        let info_size = BTT_PG_SIZE;
        // parse_arena_meta: the size is nextoff, or through the backup info block.
        let size = if nextoff != 0 {
            nextoff
        } else {
            info2off.saturating_add(info_size)
        };
        let areas = [
            (Area::Info, 0, info_size, dataoff),
            (
                Area::Data,
                dataoff,
                u64::from(internal_nlba).saturating_mul(u64::from(internal_lbasize)),
                mapoff,
            ),
            (
                Area::Map,
                mapoff,
                u64::from(external_nlba).saturating_mul(MAP_ENT_SIZE),
                logoff,
            ),
            (
                Area::Log,
                logoff,
                u64::from(nfree).saturating_mul(LOG_GRP_SIZE),
                info2off,
            ),
            (Area::Info2, info2off, info_size, size),
        ];
        for (area, start, len, limit) in areas {
            if !fits(start, len, limit) {
                return Err(Invalid::AreaOverlap {
                    arena,
                    area,
                    start,
                    len,
                    limit,
                });
            }
        }
        let past_end = Invalid::ArenaPastEnd {
            arena,
            infooff,
            size,
            namespace_size: infooff.saturating_add(remaining),
        };
        if size > remaining {
            return Err(past_end);
        }
        // Every area ends inside `size <= remaining`, so none of these can overflow.
        let abs = |rel: u64| infooff.checked_add(rel).ok_or(past_end);
        Ok(Self {
            index,
            infooff,
            size,
            external_lba_start,
            external_nlba,
            internal_nlba,
            external_lbasize,
            internal_lbasize,
            nfree,
            version_major: sb.version_major.get(),
            version_minor: sb.version_minor.get(),
            flags: sb.flags.get(),
            uuid: sb.uuid,
            parent_uuid: sb.parent_uuid,
            nextoff,
            dataoff: abs(dataoff)?,
            mapoff: abs(mapoff)?,
            logoff: abs(logoff)?,
            info2off: abs(info2off)?,
        })
    }

    /// Whether `flags` has `IB_FLAG_ERROR` (the kernel refuses writes to the arena).
    #[must_use]
    pub const fn has_error_flag(&self) -> bool {
        self.flags & crate::btt::raw::IB_FLAG_ERROR != 0
    }

    /// Namespace offset of the next arena's info block, `None` in the last arena.
    #[must_use]
    pub const fn next_infooff(&self) -> Option<u64> {
        if self.nextoff == 0 {
            None
        } else {
            self.infooff.checked_add(self.nextoff)
        }
    }

    /// `to_namespace_offset`: namespace offset of data block `postmap`, if it is one of
    /// the arena's `internal_nlba` blocks.
    #[must_use]
    pub fn data_offset(&self, postmap: u32) -> Option<u64> {
        if postmap >= self.internal_nlba {
            return None;
        }
        u64::from(postmap)
            .checked_mul(u64::from(self.internal_lbasize))
            .and_then(|rel| self.dataoff.checked_add(rel))
    }

    /// Namespace offset of the map entry of pre-map block `premap` (< `external_nlba`).
    #[must_use]
    pub fn map_entry_offset(&self, premap: u32) -> Option<u64> {
        if premap >= self.external_nlba {
            return None;
        }
        self.mapoff
            .checked_add(u64::from(premap).checked_mul(MAP_ENT_SIZE)?)
    }

    /// Namespace offset of flog lane `lane` (< `nfree`).
    #[must_use]
    pub fn log_group_offset(&self, lane: u32) -> Option<u64> {
        if lane >= self.nfree {
            return None;
        }
        self.logoff
            .checked_add(u64::from(lane).checked_mul(LOG_GRP_SIZE)?)
    }

    /// Reads the map entries of pre-map blocks `first..first + out.len()` into `out` (one
    /// read), for walking the map in chunks.
    ///
    /// # Errors
    /// [`Invalid::LbaOutOfRange`] when the range leaves the map (`lba`/`nlba` are then
    /// arena-relative), [`Error::Io`] when the read fails.
    pub fn read_map<R: ReadAt + ?Sized>(
        &self,
        ns: &mut R,
        first: u32,
        out: &mut [MapEntry],
    ) -> Result<(), Error<R::Error>> {
        let end = u64::from(first).saturating_add(u64::try_from(out.len()).unwrap_or(u64::MAX));
        let out_of_range = Invalid::LbaOutOfRange {
            lba: end.saturating_sub(1),
            nlba: u64::from(self.external_nlba),
        };
        if end > u64::from(self.external_nlba) {
            return Err(out_of_range.into());
        }
        if out.is_empty() {
            return Ok(());
        }
        let offset = self.map_entry_offset(first).ok_or(out_of_range)?;
        read_exact(ns, offset, out.as_mut_bytes())
    }

    /// Reads the map entry of pre-map block `premap`.
    ///
    /// # Errors
    /// As [`Arena::read_map`].
    pub fn read_map_entry<R: ReadAt + ?Sized>(
        &self,
        ns: &mut R,
        premap: u32,
    ) -> Result<MapEntry, Error<R::Error>> {
        let mut entry = [MapEntry::IDENTITY];
        self.read_map(ns, premap, &mut entry)?;
        let [e] = entry;
        Ok(e)
    }

    /// Reads flog lane `lane` (`btt_log_group_read`).
    ///
    /// # Errors
    /// [`Invalid::LbaOutOfRange`] when `lane >= nfree`
    /// (with `lba` = lane, `nlba` = nfree); [`Error::Io`] when the read fails.
    pub fn read_log_group<R: ReadAt + ?Sized>(
        &self,
        ns: &mut R,
        lane: u32,
    ) -> Result<LogGroup, Error<R::Error>> {
        let offset = self.log_group_offset(lane).ok_or(Invalid::LbaOutOfRange {
            lba: u64::from(lane),
            nlba: u64::from(self.nfree),
        })?;
        let mut group = LogGroup::default();
        read_exact(ns, offset, group.as_mut_bytes())?;
        Ok(group)
    }

    /// Reads the backup info block (which the kernel writes but never reads).
    ///
    /// # Errors
    /// [`Error::Io`] when the read fails.
    pub fn read_info2<R: ReadAt + ?Sized>(&self, ns: &mut R) -> Result<BttSb, Error<R::Error>> {
        read_info(ns, self.info2off)
    }

    /// `log_set_indices`: which slots of a flog group hold the two entries, found from the
    /// first lanes that are past their initial state, and checked over every lane.
    ///
    /// # Errors
    /// [`Invalid::LogLayoutMismatch`] or [`Invalid::UnknownLogLayout`] where the kernel
    /// fails (`-ENXIO`; an all-zero flog is one), [`Error::Io`] when a read fails.
    pub fn log_layout<R: ReadAt + ?Sized>(&self, ns: &mut R) -> Result<LogLayout, Error<R::Error>> {
        let arena = self.index;
        let mut idx_set = false;
        let mut initial_state = true;
        let mut log_index: [i32; 2] = [-1, -1];
        let mut next_idx: usize = 0;
        for lane in 0..self.nfree {
            let group = self.read_log_group(ns, lane)?;
            let mut pad_count: u32 = 0;
            for (j, ent) in (0i32..).zip(group.ent.iter()) {
                let mismatch = Invalid::LogLayoutMismatch {
                    arena,
                    lane,
                    slot: j.unsigned_abs(),
                };
                if !idx_set {
                    if ent.is_padding() {
                        pad_count = pad_count.saturating_add(1);
                        continue;
                    }
                    if next_idx == 1 && Some(&j) == log_index.first() {
                        continue;
                    }
                    match log_index.get_mut(next_idx) {
                        Some(slot) => *slot = j,
                        None => return Err(mismatch.into()),
                    }
                    next_idx = next_idx.saturating_add(1);
                    if next_idx == 2 {
                        idx_set = true;
                    }
                } else if Some(&j) == log_index.first() {
                    if ent.is_padding() {
                        return Err(mismatch.into());
                    }
                } else if Some(&j) == log_index.get(1) {
                    // May be padding: a lane still in its initial state.
                } else if !ent.is_padding() {
                    return Err(mismatch.into());
                }
            }
            if pad_count < 3 {
                initial_state = false;
            }
        }
        let [index0, index1] = log_index;
        let unknown = Invalid::UnknownLogLayout {
            arena,
            index0,
            index1,
        };
        if !initial_state && !idx_set {
            return Err(unknown.into());
        }
        let index1 = if initial_state { 1 } else { index1 };
        match (index0, index1) {
            (0, 1) => Ok(LogLayout::Slots01),
            (0, 2) => Ok(LogLayout::Slots02),
            _ => Err(Invalid::UnknownLogLayout {
                arena,
                index0,
                index1,
            }
            .into()),
        }
    }

    /// The part of `btt_freelist_init` that can fail: every lane's newer entry must be
    /// found (`btt_log_get_old`), and a lane that records an unfinished write must name a
    /// block of the map.
    ///
    /// # Errors
    /// [`Invalid::LogSeq`], [`Invalid::FlogLbaOutOfRange`], [`Error::Io`].
    pub fn check_flog<R: ReadAt + ?Sized>(
        &self,
        ns: &mut R,
        layout: LogLayout,
    ) -> Result<(), Error<R::Error>> {
        for lane in 0..self.nfree {
            self.newer_log_entry(ns, layout, lane)?;
        }
        Ok(())
    }

    /// The newer entry of lane `lane` (`btt_log_read(..., LOG_NEW_ENT)`), checked as
    /// [`Arena::check_flog`] does; returns its sub-slot and the entry.
    ///
    /// # Errors
    /// [`Invalid::LogSeq`], [`Invalid::FlogLbaOutOfRange`], [`Error::Io`].
    pub fn newer_log_entry<R: ReadAt + ?Sized>(
        &self,
        ns: &mut R,
        layout: LogLayout,
        lane: u32,
    ) -> Result<(usize, crate::btt::raw::LogEntry), Error<R::Error>> {
        let group = self.read_log_group(ns, lane)?;
        let (sub, ent) = group.newer(layout).map_err(|e| Invalid::LogSeq {
            arena: self.index,
            lane,
            seq0: e.seq0,
            seq1: e.seq1,
        })?;
        if ent.old_postmap() != ent.new_postmap() && ent.lba.get() >= self.external_nlba {
            return Err(Invalid::FlogLbaOutOfRange {
                arena: self.index,
                lane,
                lba: ent.lba.get(),
                external_nlba: self.external_nlba,
            }
            .into());
        }
        Ok((sub, ent))
    }
}

/// The kernel's walk of the arena chain (`discover_arenas`): one arena per step, each info
/// block checked by [`check_info`] (and, for the first, the version of its placement), each
/// arena by [`Arena::from_info`]; it follows `nextoff` until an arena's is 0 or the namespace
/// is used up, and stops at the first error (a bad later arena makes the kernel refuse the
/// whole device: "Found corrupted metadata!", `-ENODEV`).
#[derive(Clone, Copy, Debug)]
struct Walk {
    namespace: Namespace,
    /// Offset of the next info block, relative to the placement (`cur_off`).
    cur_off: u64,
    /// `remaining`: bytes of `rawsize` from `cur_off` on.
    remaining: u64,
    /// `cur_nlba`.
    nlba: u64,
    index: u32,
    first_lbasize: Option<u32>,
    done: bool,
}

impl Walk {
    fn new(namespace: Namespace) -> Result<Self, Invalid> {
        let rawsize = namespace.check_size()?;
        Ok(Self {
            namespace,
            cur_off: 0,
            remaining: rawsize,
            nlba: 0,
            index: 0,
            first_lbasize: None,
            done: false,
        })
    }

    fn step<R: ReadAt + ?Sized>(&mut self, ns: &mut R) -> Option<Result<Arena, Error<R::Error>>> {
        if self.done || self.remaining == 0 {
            return None;
        }
        let result = self.arena(ns);
        match &result {
            Ok(arena) => {
                // Arena::from_info checked size <= remaining.
                self.remaining = self.remaining.saturating_sub(arena.size);
                self.cur_off = self.cur_off.saturating_add(arena.size);
                self.nlba = self.nlba.saturating_add(u64::from(arena.external_nlba));
                self.first_lbasize.get_or_insert(arena.external_lbasize);
                self.done = arena.nextoff == 0;
                match self.index.checked_add(1) {
                    Some(i) => self.index = i,
                    None => self.done = true,
                }
            }
            Err(_) => self.done = true,
        }
        Some(result)
    }

    fn arena<R: ReadAt + ?Sized>(&self, ns: &mut R) -> Result<Arena, Error<R::Error>> {
        let version = self.namespace.version;
        let infooff = version
            .info_offset()
            .checked_add(self.cur_off)
            .ok_or(Invalid::TooManyArenas { max: self.index })?;
        let sb = read_info(ns, infooff)?;
        check_info(&sb, self.index, &self.namespace.uuid)?;
        if self.index == 0
            && (sb.version_major.get() != version.major()
                || sb.version_minor.get() != version.minor())
        {
            return Err(Invalid::VersionMismatch {
                major: sb.version_major.get(),
                minor: sb.version_minor.get(),
                expected: version,
            }
            .into());
        }
        Ok(Arena::from_info(
            &sb,
            self.index,
            infooff,
            self.nlba,
            self.remaining,
            self.first_lbasize,
        )?)
    }
}

/// The arenas of a BTT, read again from the namespace one by one ([`Btt::arenas`]).
#[derive(Debug)]
pub struct Arenas<'a, R: ReadAt + ?Sized> {
    ns: &'a mut R,
    walk: Walk,
}

impl<R: ReadAt + ?Sized> Iterator for Arenas<'_, R> {
    type Item = Result<Arena, Error<R::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.walk.step(self.ns)
    }
}

/// The arena chain of a namespace, walked as [`Btt::open`] walks it but without the flog
/// checks, so that a checker can look at every arena up to the first one that fails (that
/// one is yielded as the error, and the walk ends).
///
/// # Errors
/// [`Invalid::NamespaceTooSmall`] (nothing to walk).
pub fn walk<'a, R: ReadAt + ?Sized>(
    ns: &'a mut R,
    namespace: &Namespace,
) -> Result<Arenas<'a, R>, Invalid> {
    Ok(Arenas {
        ns,
        walk: Walk::new(*namespace)?,
    })
}

/// A BTT the kernel would attach: what `discover_arenas` and `btt_blk_init` leave behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Btt {
    /// The namespace it was found on.
    pub namespace: Namespace,
    /// `uuid` of the first arena (the BTT's uuid attribute).
    pub uuid: Uuid,
    /// Number of arenas.
    pub arena_count: u32,
    /// `btt->nlba`: the sum of the arenas' `external_nlba`.
    pub nlba: u64,
    /// `btt->lbasize`: the first arena's `external_lbasize`.
    pub external_lbasize: u32,
    /// `btt->sector_size`: 4096 when `external_lbasize >= 4096`, else 512.
    pub sector_size: u32,
    /// Whether any arena has `IB_FLAG_ERROR` (the kernel logs it and refuses writes there).
    pub error_flag: bool,
}

impl Btt {
    /// Does what the kernel does before `/dev/pmemNs` appears: the size checks of
    /// [`Namespace::check_size`], then every arena of the chain ([`check_info`], the first
    /// arena's version, [`Arena::from_info`]), and in each arena the flog
    /// ([`Arena::log_layout`], [`Arena::check_flog`]). Nothing is written (the kernel's
    /// `btt_freelist_init` may repair a map entry here; [`crate::btt::read::Reader`] reads
    /// the repaired value).
    ///
    /// # Errors
    /// The first failure, as the kernel meets it.
    pub fn open<R: ReadAt + ?Sized>(
        ns: &mut R,
        namespace: &Namespace,
    ) -> Result<Self, Error<R::Error>> {
        let mut walk = Walk::new(*namespace)?;
        // Each arena takes at least 8192 bytes (its info blocks), so this bounds the loop
        // even if a later check were lost.
        let max = u32::try_from(namespace.size / (2 * BTT_PG_SIZE)).unwrap_or(u32::MAX);
        let mut first: Option<Arena> = None;
        let mut count: u32 = 0;
        let mut error_flag = false;
        while let Some(arena) = walk.step(ns) {
            let arena = arena?;
            let layout = arena.log_layout(ns)?;
            arena.check_flog(ns, layout)?;
            error_flag |= arena.has_error_flag();
            first.get_or_insert(arena);
            count = count.saturating_add(1);
            if count > max {
                return Err(Invalid::TooManyArenas { max }.into());
            }
        }
        // The walk yields at least the first arena or an error, since rawsize >= 16 MiB.
        let first = first.ok_or(Invalid::TooManyArenas { max: 0 })?;
        let sector_size = if first.external_lbasize >= 4096 {
            4096
        } else {
            512
        };
        Ok(Self {
            namespace: *namespace,
            uuid: first.uuid,
            arena_count: count,
            nlba: walk.nlba,
            external_lbasize: first.external_lbasize,
            sector_size,
            error_flag,
        })
    }

    /// Bytes of the block device: `nlba * sector_size` (`set_capacity(nlba * sector_size >>
    /// 9)` sectors of 512; the sysfs `size` of the btt device).
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.nlba.saturating_mul(u64::from(self.sector_size))
    }

    /// Bytes of integrity metadata per block (`btt_meta_size`: `lbasize - sector_size`).
    #[must_use]
    pub const fn metadata_size(&self) -> u32 {
        self.external_lbasize.saturating_sub(self.sector_size)
    }

    /// The arenas, read again from `ns` and checked as [`Btt::open`] checks them (the flog
    /// excepted); for a checker walking them one at a time.
    #[must_use]
    pub fn arenas<'a, R: ReadAt + ?Sized>(&self, ns: &'a mut R) -> Arenas<'a, R> {
        let walk = Walk::new(self.namespace).unwrap_or(Walk {
            namespace: self.namespace,
            cur_off: 0,
            remaining: 0,
            nlba: 0,
            index: 0,
            first_lbasize: None,
            done: true,
        });
        Arenas { ns, walk }
    }

    /// `lba_to_arena`: the arena holding external LBA `lba` and the pre-map block in it.
    ///
    /// # Errors
    /// [`Invalid::LbaOutOfRange`], or the arena walk's errors.
    pub fn arena_for_lba<R: ReadAt + ?Sized>(
        &self,
        ns: &mut R,
        lba: u64,
    ) -> Result<(Arena, u32), Error<R::Error>> {
        let out_of_range = Invalid::LbaOutOfRange {
            lba,
            nlba: self.nlba,
        };
        if lba >= self.nlba {
            return Err(out_of_range.into());
        }
        for arena in self.arenas(ns) {
            let arena = arena?;
            let Some(premap) = lba.checked_sub(arena.external_lba_start) else {
                break;
            };
            if premap < u64::from(arena.external_nlba) {
                let premap = u32::try_from(premap).map_err(|_| out_of_range)?;
                return Ok((arena, premap));
            }
        }
        Err(out_of_range.into())
    }
}

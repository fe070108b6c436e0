//! The BTT (src/btt/): layouts worked out by hand from the kernel's `create_arenas` /
//! `alloc_arena` (drivers/nvdimm/btt.c), images built by `create` and read back, a tiny
//! in-test copy of the kernel's write path (`btt_write_pg`) to make map and flog updates,
//! and bad input of every kind (typed errors, no panic, no hang).

use nvdimm_infoblock::btt::arena::{walk, Btt, BttVersion, Namespace};
use nvdimm_infoblock::btt::error::{Area, Error, Invalid};
use nvdimm_infoblock::btt::layout::{create, solve, LayoutRequest, WriteRange};
use nvdimm_infoblock::btt::raw::{
    next_seq, BttSb, LogGroup, LogLayout, MapEntry, MapState, IB_FLAG_ERROR,
};
use nvdimm_infoblock::btt::read::Reader;
use nvdimm_infoblock::io::{ReadAt, SliceError, WriteAt};
use nvdimm_infoblock::Uuid;
use proptest::prelude::*;
use zerocopy::{FromBytes, IntoBytes};

#[path = "support/ndsparse.rs"]
mod ndsparse;
use ndsparse::Sparse;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const UUID: Uuid = Uuid([0x6b; 16]);

fn request(size: u64, lbasize: u32, version: BttVersion) -> LayoutRequest {
    LayoutRequest {
        namespace_size: size,
        lbasize,
        version,
        uuid: UUID,
        parent_uuid: Uuid::NIL,
    }
}

fn image(size: u64, lbasize: u32, version: BttVersion) -> Vec<u8> {
    let mut img = vec![0u8; size as usize];
    create(&mut img.as_mut_slice(), &request(size, lbasize, version)).unwrap();
    img
}

fn ns(size: u64) -> Namespace {
    Namespace::labelless(size)
}

fn invalid<E: std::fmt::Debug>(r: Result<impl std::fmt::Debug, Error<E>>) -> Invalid {
    match r {
        Err(Error::Invalid(i)) => i,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Layout, worked out by hand from alloc_arena.

/// The kernel rig's 256 MiB label-less namespace with 4096-byte sectors gave ONE arena with
/// external_nlba 65208, internal_nlba 65464, nfree 256 (kernel-harness README).
///
/// rawsize   = 268435456 - 4096 (v1.1 placement)       = 268431360 (a multiple of 4096)
/// available = 268431360 - 2*4096 - logsize 16384       = 268406784  (logsize = 256*64)
/// internal_nlba = (268406784 - 4096) / (4096 + 4)       = 268402688 / 4100 = 65464 (r 88)
/// external_nlba = 65464 - 256                           = 65208
/// mapsize   = roundup(65208 * 4 = 260832, 4096)         = 262144 (64 pages)
/// datasize  = 268406784 - 262144                        = 268144640
/// dataoff = 4096, mapoff = 4096 + 268144640 = 268148736, logoff = +262144 = 268410880,
/// info2off = +16384 = 268427264 (all arena-relative; +4096 in the namespace); and
/// info2off + 4096 = 268431360 = rawsize.
#[test]
fn layout_256mib_4096_matches_the_kernel_rig() {
    let layout = solve(&request(256 * MIB, 4096, BttVersion::V1_1)).unwrap();
    assert_eq!(layout.arena_count(), 1);
    assert_eq!(layout.rawsize(), 268_431_360);
    let a = layout.arena(0).unwrap();
    assert_eq!(
        (a.external_nlba, a.internal_nlba, a.nfree),
        (65208, 65464, 256)
    );
    assert_eq!(a.internal_lbasize, 4096);
    assert_eq!(a.infooff, 4096);
    assert_eq!(a.dataoff, 4096 + 4096);
    assert_eq!(a.mapoff, 4096 + 268_148_736);
    assert_eq!(a.logoff, 4096 + 268_410_880);
    assert_eq!(a.info2off, 4096 + 268_427_264);
    assert_eq!(a.nextoff, 0);
    // The block device: 65208 * 4096 = 267091968 bytes (the rig's sysfs btt size).
    assert_eq!(layout.capacity(), 267_091_968);
    let sb = a.info_block(layout.request());
    assert_eq!(sb.mapoff.get(), 268_148_736);
    assert_eq!(sb.info2off.get(), 268_427_264);
    assert_eq!(sb.infosize.get(), 4096);
    assert_eq!((sb.version_major.get(), sb.version_minor.get()), (1, 1));
    assert_eq!(sb.verify_checksum(), Ok(()));
}

/// 512 and 520-byte sectors in the same 256 MiB namespace (available = 268406784 as above).
/// 512: internal 512; internal_nlba = 268402688 / 516 = 520160 (r 128); external 519904;
///      mapsize = roundup(2079616, 4096) = 2080768; mapoff = 4096 + 268406784 - 2080768
///      = 266330112.
/// 520: internal roundup(520, 64) = 576; internal_nlba = 268402688 / 580 = 462763 (r 148);
///      external 462507; mapsize = roundup(1850028, 4096) = 1851392; mapoff = 266559488.
#[test]
fn layout_256mib_512_and_520() {
    let a = solve(&request(256 * MIB, 512, BttVersion::V1_1)).unwrap();
    let a0 = a.arena(0).unwrap();
    assert_eq!(
        (a0.internal_lbasize, a0.internal_nlba, a0.external_nlba),
        (512, 520_160, 519_904)
    );
    assert_eq!(a0.mapoff - a0.infooff, 266_330_112);
    // 519904 * 512 = 266190848, the rig's btt size for 512.
    assert_eq!(a.capacity(), 266_190_848);
    assert_eq!(a.sector_size(), 512);
    let b = solve(&request(256 * MIB, 520, BttVersion::V1_1)).unwrap();
    let b0 = b.arena(0).unwrap();
    assert_eq!(
        (b0.internal_lbasize, b0.internal_nlba, b0.external_nlba),
        (576, 462_763, 462_507)
    );
    assert_eq!(b0.mapoff - b0.infooff, 266_559_488);
    // The block device counts 512-byte sectors: 462507 * 512 = 236803584.
    assert_eq!(b.capacity(), 236_803_584);
}

/// 1 TiB + 20 MiB, v2.0 (rawsize = the whole namespace), 4096-byte sectors: arenas of 512 GiB,
/// 512 GiB and 20 MiB (the rest is at least 16 MiB).
/// Full arena: available = 2^39 - 8192 - 16384 = 549755789312; internal_nlba =
/// (549755789312 - 4096) / 4100 = 134086776 (r 1616); external 134086520; mapsize =
/// roundup(536346080, 4096) = 536346624; mapoff = 4096 + 549755789312 - 536346624 =
/// 549219446784.
/// Last arena (20971520 bytes at 2^40): available = 20971520 - 24576 = 20946944; internal =
/// 20942848 / 4100 = 5108; external 4852; nextoff 0; the second arena's nextoff is 2^39.
/// nlba = 2 * 134086520 + 4852 = 268177892.
/// With 1 TiB + 16 MiB - 1 the rest is under 16 MiB: two arenas, and the second is last.
#[test]
fn layout_several_arenas() {
    let l = solve(&request(GIB * 1024 + 20 * MIB, 4096, BttVersion::V2_0)).unwrap();
    assert_eq!(l.arena_count(), 3);
    let a: Vec<_> = l.arenas().collect();
    assert_eq!(a.len(), 3);
    assert_eq!(
        (a[0].internal_nlba, a[0].external_nlba),
        (134_086_776, 134_086_520)
    );
    assert_eq!(a[0].mapoff, 549_219_446_784);
    assert_eq!(a[0].nextoff, 1 << 39);
    assert_eq!(a[1].infooff, 1 << 39);
    assert_eq!(a[1].mapoff, (1 << 39) + 549_219_446_784);
    assert_eq!(a[1].nextoff, 1 << 39);
    assert_eq!(a[1].external_lba_start, 134_086_520);
    assert_eq!((a[2].infooff, a[2].size), (1 << 40, 20 * MIB));
    assert_eq!(
        (a[2].internal_nlba, a[2].external_nlba, a[2].nextoff),
        (5108, 4852, 0)
    );
    assert_eq!(a[2].external_lba_start, 2 * 134_086_520);
    assert_eq!(l.nlba(), 268_177_892);

    let l = solve(&request(GIB * 1024 + 16 * MIB - 1, 4096, BttVersion::V2_0)).unwrap();
    assert_eq!(l.arena_count(), 2);
    assert_eq!(l.arena(1).unwrap().nextoff, 0);
    assert_eq!(l.arena(2), None);
}

/// `nvdimm_namespace_attach_btt`: rawsize = size - 4096 must be >= 16 MiB for v1.1, so a
/// 16 MiB namespace is too small for 1.1 (16 MiB + 4 KiB is the smallest) but enough for 2.0.
/// Unsupported sector sizes are refused (btt_lbasize_supported).
#[test]
fn layout_minimum_and_sector_sizes() {
    assert_eq!(
        solve(&request(16 * MIB, 512, BttVersion::V1_1)),
        Err(Invalid::NamespaceTooSmall {
            size: 16 * MIB,
            min: 16 * MIB + 4096
        })
    );
    assert!(solve(&request(16 * MIB + 4096, 512, BttVersion::V1_1)).is_ok());
    assert!(solve(&request(16 * MIB, 512, BttVersion::V2_0)).is_ok());
    for bad in [0, 1, 511, 1024, 2048, 4097, 8192] {
        assert_eq!(
            solve(&request(GIB, bad, BttVersion::V1_1)),
            Err(Invalid::UnsupportedLbasize { lbasize: bad })
        );
    }
    // Internal sizes: roundup to 64 (INT_LBASIZE_ALIGNMENT).
    for (ext, int) in [
        (512, 512),
        (520, 576),
        (528, 576),
        (4096, 4096),
        (4104, 4160),
        (4160, 4160),
        (4224, 4224),
    ] {
        let l = solve(&request(GIB, ext, BttVersion::V1_1)).unwrap();
        assert_eq!(l.arena(0).unwrap().internal_lbasize, int, "{ext}");
    }
}

// ---------------------------------------------------------------------------------------
// create: the plan, the bytes, nothing written on error.

/// 64 MiB, v1.1, 512: rawsize 67104768; available = 67104768 - 24576 = 67080192; internal =
/// 67076096 / 516 = 129992 (r 224); external 129736; mapsize = roundup(518944, 4096) =
/// 520192; datasize = 66560000; mapoff = 4096 + 4096 + 66560000 = 66568192 (namespace),
/// logoff = 67088384, info2off = 67104768 (the namespace's last page).
#[test]
fn create_plan_and_bytes() {
    let size = 64 * MIB;
    let req = request(size, 512, BttVersion::V1_1);
    let layout = solve(&req).unwrap();
    let plan: Vec<WriteRange> = layout.plan().collect();
    let r = |area, offset, len| WriteRange {
        arena: 0,
        area,
        offset,
        len,
    };
    assert_eq!(
        plan,
        [
            r(Area::Map, 66_568_192, 520_192),
            r(Area::Log, 67_088_384, 16384),
            r(Area::Info2, 67_104_768, 4096),
            r(Area::Info, 4096, 4096),
        ]
    );
    // Bytes outside the plan are left alone: start from 0xa5 everywhere.
    let mut img = vec![0xa5u8; size as usize];
    create(&mut img.as_mut_slice(), &req).unwrap();
    let mut covered = vec![false; size as usize];
    for w in &plan {
        covered[w.offset as usize..(w.offset + w.len) as usize].fill(true);
    }
    assert!(img.iter().zip(&covered).all(|(&b, &c)| c || b == 0xa5));
    // The map is zero; info2 equals info.
    assert!(img[66_568_192..67_088_384].iter().all(|&b| b == 0));
    assert_eq!(img[4096..8192], img[67_104_768..]);
    let sb = BttSb::read_from_bytes(&img[4096..8192]).unwrap();
    assert!(sb.has_signature());
    assert_eq!(sb.external_nlba.get(), 129_736);
    // btt_log_init: lane i, slot 0 = {i, 129736 + i, 129736 + i, 1}; slots 1..3 zero.
    for lane in [0u32, 1, 255] {
        let at = 67_088_384 + lane as usize * 64;
        let g = LogGroup::read_from_bytes(&img[at..at + 64]).unwrap();
        let e = g.ent[0];
        assert_eq!(
            (e.lba.get(), e.old_map.get(), e.new_map.get(), e.seq.get()),
            (lane, 129_736 + lane, 129_736 + lane, 1)
        );
        assert!(g.ent[1..].iter().all(|e| e.is_padding()));
    }
    // The log area past lane 255 (exactly 256*64 = 16384 bytes: none) and the info block
    // padding are zero.
    assert!(sb.padding.iter().all(|&b| b == 0));
}

#[test]
fn create_writes_nothing_on_error() {
    // The request says 64 MiB, the buffer holds 32: the probe read fails first.
    let mut img = vec![0xa5u8; 32 * MIB as usize];
    let r = create(
        &mut img.as_mut_slice(),
        &request(64 * MIB, 512, BttVersion::V1_1),
    );
    assert!(matches!(r, Err(Error::Io { .. })), "{r:?}");
    assert!(img.iter().all(|&b| b == 0xa5));
    let r = create(
        &mut img.as_mut_slice(),
        &request(8 * MIB, 512, BttVersion::V1_1),
    );
    assert!(matches!(
        r,
        Err(Error::Invalid(Invalid::NamespaceTooSmall { .. }))
    ));
    assert!(img.iter().all(|&b| b == 0xa5));
}

// ---------------------------------------------------------------------------------------
// Opening and reading.

#[test]
fn open_a_created_btt_and_read_identity_blocks() {
    let size = 64 * MIB;
    let mut img = image(size, 512, BttVersion::V1_1);
    let btt = Btt::open(&mut img.as_slice(), &ns(size)).unwrap();
    assert_eq!(btt.arena_count, 1);
    assert_eq!(btt.nlba, 129_736);
    assert_eq!((btt.sector_size, btt.external_lbasize), (512, 512));
    assert_eq!(btt.capacity(), 129_736 * 512);
    assert_eq!(btt.uuid, UUID);
    assert!(!btt.error_flag);
    // A new map is identity: LBA 5 is data block 5 at dataoff + 5 * 512 = 8192 + 2560.
    img[10752..11264].fill(0x5a);
    let mut reader = Reader::open(&mut img.as_slice(), &ns(size)).unwrap();
    let mut buf = [0u8; 512];
    let t = reader.read_lba(&mut img.as_slice(), 5, &mut buf).unwrap();
    assert_eq!(
        (t.state, t.postmap, t.data_offset),
        (MapState::Identity, 5, Some(10752))
    );
    assert_eq!(buf, [0x5a; 512]);
    reader.read_lba(&mut img.as_slice(), 4, &mut buf).unwrap();
    assert_eq!(buf, [0; 512]);
    // The last LBA, and one past it.
    let t = reader.translate(&mut img.as_slice(), 129_735).unwrap();
    assert_eq!(t.data_offset, Some(8192 + 129_735 * 512));
    assert_eq!(
        invalid(reader.translate(&mut img.as_slice(), 129_736)),
        Invalid::LbaOutOfRange {
            lba: 129_736,
            nlba: 129_736
        }
    );
    assert_eq!(
        invalid(reader.read_lba(&mut img.as_slice(), 0, &mut [0u8; 4096])),
        Invalid::BufferSize {
            len: 4096,
            expected: 512
        }
    );
}

/// The kernel's write path (`btt_write_pg`), for one block, without the rtt and locks:
/// take the lane's free block (the newer flog entry's `old_map`), write the data there,
/// write the flog entry `{premap, old, new, next seq}` into the other sub-slot, then the map
/// entry (unless `crash_before_map`). Returns the block written.
fn kernel_write(
    img: &mut [u8],
    ns: &Namespace,
    lane: u32,
    lba: u64,
    data: &[u8],
    crash_before_map: bool,
) -> u32 {
    let btt = Btt::open(&mut &*img, ns).unwrap();
    let (arena, premap) = btt.arena_for_lba(&mut &*img, lba).unwrap();
    let layout = arena.log_layout(&mut &*img).unwrap();
    let (sub, newer) = arena.newer_log_entry(&mut &*img, layout, lane).unwrap();
    let free = newer.old_postmap();
    let data_at = arena.data_offset(free).unwrap() as usize;
    img[data_at..data_at + data.len()].copy_from_slice(data);
    let old = arena
        .read_map_entry(&mut &*img, premap)
        .unwrap()
        .postmap(premap);
    let slot = layout.slots()[1 - sub];
    let at = arena.log_group_offset(lane).unwrap() as usize + slot * 16;
    let mut ent = newer;
    ent.lba.set(premap);
    ent.old_map.set(old);
    ent.new_map.set(free);
    ent.seq.set(next_seq(newer.seq.get()));
    img[at..at + 16].copy_from_slice(ent.as_bytes());
    if !crash_before_map {
        let m = arena.map_entry_offset(premap).unwrap() as usize;
        img[m..m + 4].copy_from_slice(MapEntry::normal(free).as_bytes());
    }
    free
}

#[test]
fn writes_through_the_map_and_the_flog_repair() {
    let size = 64 * MIB;
    let n = ns(size);
    let mut img = image(size, 512, BttVersion::V1_1);
    // Lane 3's free block is 129736 + 3 = 129739 (btt_log_init).
    let b = kernel_write(&mut img, &n, 3, 10, &[0x11; 512], false);
    assert_eq!(b, 129_739);
    let mut reader = Reader::open(&mut img.as_slice(), &n).unwrap();
    let mut buf = [0u8; 512];
    let t = reader.read_lba(&mut img.as_slice(), 10, &mut buf).unwrap();
    assert_eq!(
        (t.state, t.postmap, t.repaired_by_lane),
        (MapState::Normal, 129_739, None)
    );
    assert_eq!(buf, [0x11; 512]);
    // The lane's next free block is the one LBA 10 had: block 10 (identity).
    let b = kernel_write(&mut img, &n, 3, 20, &[0x22; 512], false);
    assert_eq!(b, 10);
    // The third write of lane 3 crashes between the flog and the map: the map of LBA 10
    // still says 129739, the flog says 129739 -> 20. btt_freelist_init repairs it, so the
    // kernel reads the new data.
    let b = kernel_write(&mut img, &n, 3, 10, &[0x33; 512], true);
    assert_eq!(b, 20);
    let mut reader = Reader::open(&mut img.as_slice(), &n).unwrap();
    let t = reader.read_lba(&mut img.as_slice(), 10, &mut buf).unwrap();
    assert_eq!(t.stored, MapEntry::normal(129_739));
    assert_eq!(
        (t.entry, t.postmap, t.repaired_by_lane),
        (MapEntry::normal(20), 20, Some(3))
    );
    assert_eq!(buf, [0x33; 512]);
    // LBA 20 is untouched by the repair.
    let t = reader.read_lba(&mut img.as_slice(), 20, &mut buf).unwrap();
    assert_eq!((t.postmap, t.repaired_by_lane), (10, None));
    assert_eq!(buf, [0x22; 512]);
    // Seq went 1 (init) -> 2 -> 3 -> 1 in lane 3; the newer entry is the seq-1 one.
    let arena = Btt::open(&mut img.as_slice(), &n)
        .unwrap()
        .arenas(&mut img.as_slice())
        .next()
        .unwrap()
        .unwrap();
    let (_, newer) = arena
        .newer_log_entry(&mut img.as_slice(), LogLayout::Slots01, 3)
        .unwrap();
    assert_eq!(
        (newer.seq.get(), newer.lba.get(), newer.new_map.get()),
        (1, 10, 20)
    );
}

#[test]
fn zero_and_error_flags() {
    let size = 64 * MIB;
    let n = ns(size);
    let mut img = image(size, 512, BttVersion::V1_1);
    let map = 66_568_192usize;
    img[8192 + 7 * 512..8192 + 8 * 512].fill(0x77);
    img[map + 7 * 4..map + 8 * 4].copy_from_slice(MapEntry::zero(7).as_bytes());
    img[map + 8 * 4..map + 9 * 4].copy_from_slice(MapEntry::error(8).as_bytes());
    // A normal entry past internal_nlba (129992).
    img[map + 9 * 4..map + 10 * 4].copy_from_slice(MapEntry::normal(200_000).as_bytes());
    let mut reader = Reader::open(&mut img.as_slice(), &n).unwrap();
    let mut buf = [0xffu8; 512];
    let t = reader.read_lba(&mut img.as_slice(), 7, &mut buf).unwrap();
    assert_eq!(t.state, MapState::Zero);
    assert_eq!(buf, [0; 512]);
    assert_eq!(
        invalid(reader.read_lba(&mut img.as_slice(), 8, &mut buf)),
        Invalid::MediaError {
            lba: 8,
            arena: 0,
            postmap: 8
        }
    );
    assert_eq!(
        invalid(reader.read_lba(&mut img.as_slice(), 9, &mut buf)),
        Invalid::PostmapOutOfRange {
            lba: 9,
            arena: 0,
            postmap: 200_000,
            internal_nlba: 129_992
        }
    );
}

/// Before 4.15 the kernel wrote a lane's second entry to slot 2 (padding at 1 and 3):
/// log_set_indices finds (0, 2) from the first lane past its initial state.
#[test]
fn old_log_layout_is_detected() {
    let size = 64 * MIB;
    let n = ns(size);
    let mut img = image(size, 512, BttVersion::V1_1);
    let log = 67_088_384usize;
    let btt = Btt::open(&mut img.as_slice(), &n).unwrap();
    let arena = btt.arenas(&mut img.as_slice()).next().unwrap().unwrap();
    assert_eq!(
        arena.log_layout(&mut img.as_slice()),
        Ok(LogLayout::Slots01)
    );
    // Lane 1: slot 2 = {lba 4, old 4, new 129737, seq 2}, with the map updated.
    let mut g = LogGroup::read_from_bytes(&img[log + 64..log + 128]).unwrap();
    g.ent[2].lba.set(4);
    g.ent[2].old_map.set(4);
    g.ent[2].new_map.set(129_737);
    g.ent[2].seq.set(2);
    img[log + 64..log + 128].copy_from_slice(g.as_bytes());
    let map = 66_568_192usize;
    img[map + 16..map + 20].copy_from_slice(MapEntry::normal(129_737).as_bytes());
    assert_eq!(
        arena.log_layout(&mut img.as_slice()),
        Ok(LogLayout::Slots02)
    );
    let mut reader = Reader::open(&mut img.as_slice(), &n).unwrap();
    assert_eq!(
        reader.translate(&mut img.as_slice(), 4).unwrap().postmap,
        129_737
    );
    // A later lane that uses slot 1 breaks the layout: lane 2, slot 1 must be padding.
    let mut g2 = LogGroup::read_from_bytes(&img[log + 128..log + 192]).unwrap();
    g2.ent[1] = g.ent[2];
    img[log + 128..log + 192].copy_from_slice(g2.as_bytes());
    assert_eq!(
        invalid(Btt::open(&mut img.as_slice(), &n)),
        Invalid::LogLayoutMismatch {
            arena: 0,
            lane: 2,
            slot: 1
        }
    );
}

/// An all-zero flog: every lane is "initial" but no entry slot is found, so log_index is
/// (-1, 1): "Found an unknown padding scheme".
#[test]
fn all_zero_flog_is_refused() {
    let size = 64 * MIB;
    let mut img = image(size, 512, BttVersion::V1_1);
    img[67_088_384..67_104_768].fill(0);
    assert_eq!(
        invalid(Btt::open(&mut img.as_slice(), &ns(size))),
        Invalid::UnknownLogLayout {
            arena: 0,
            index0: -1,
            index1: 1
        }
    );
}

/// Equal sequence numbers in a lane: btt_log_get_old's -EINVAL ("log corruption").
#[test]
fn equal_seq_is_log_corruption() {
    let size = 64 * MIB;
    let mut img = image(size, 512, BttVersion::V1_1);
    let at = 67_088_384 + 5 * 64;
    let mut g = LogGroup::read_from_bytes(&img[at..at + 64]).unwrap();
    g.ent[1] = g.ent[0];
    img[at..at + 64].copy_from_slice(g.as_bytes());
    assert_eq!(
        invalid(Btt::open(&mut img.as_slice(), &ns(size))),
        Invalid::LogSeq {
            arena: 0,
            lane: 5,
            seq0: 1,
            seq1: 1
        }
    );
}

fn edit_info(img: &mut [u8], at: usize, f: impl FnOnce(&mut BttSb)) {
    let sb = BttSb::mut_from_bytes(&mut img[at..at + 4096]).unwrap();
    f(sb);
    sb.update_checksum();
}

#[test]
fn info_block_checks() {
    let size = 64 * MIB;
    let clean = image(size, 512, BttVersion::V1_1);
    let open = |img: &Vec<u8>, n: &Namespace| Btt::open(&mut img.as_slice(), n);

    // Checksum: one flipped bit.
    let mut img = clean.clone();
    img[4096 + 60] ^= 1;
    assert!(matches!(
        invalid(open(&img, &ns(size))),
        Invalid::ChecksumMismatch { arena: 0, .. }
    ));

    // parent_uuid: zero is never compared; non-zero must be the namespace's.
    let labelled = Namespace {
        size,
        uuid: Uuid([9; 16]),
        version: BttVersion::V1_1,
    };
    assert!(open(&clean, &labelled).is_ok());
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.parent_uuid = Uuid([9; 16]));
    assert!(open(&img, &labelled).is_ok());
    assert_eq!(
        invalid(open(&img, &ns(size))),
        Invalid::ParentUuidMismatch {
            arena: 0,
            found: Uuid([9; 16]),
            expected: Uuid::NIL
        }
    );

    // The version must be the placement's (nd_btt_version).
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.version_minor.set(0));
    assert_eq!(
        invalid(open(&img, &ns(size))),
        Invalid::VersionMismatch {
            major: 1,
            minor: 0,
            expected: BttVersion::V1_1
        }
    );
    // A v1.1 BTT read as v2.0 has no info block at byte 0.
    let v2 = Namespace {
        version: BttVersion::V2_0,
        ..ns(size)
    };
    assert!(matches!(
        invalid(open(&clean, &v2)),
        Invalid::BadSignature { arena: 0, .. }
    ));

    // IB_FLAG_ERROR is reported, not refused.
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.flags.set(IB_FLAG_ERROR));
    assert!(open(&img, &ns(size)).unwrap().error_flag);

    // Structure: nlba overflow, areas out of order, nextoff past the end or inside.
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.external_nlba.set(u32::MAX));
    assert!(matches!(
        invalid(open(&img, &ns(size))),
        Invalid::NlbaMismatch { .. }
    ));
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.mapoff.set(4096));
    assert!(matches!(
        invalid(open(&img, &ns(size))),
        Invalid::AreaOverlap {
            area: Area::Data,
            ..
        }
    ));
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.nextoff.set(u64::MAX));
    assert!(matches!(
        invalid(open(&img, &ns(size))),
        Invalid::ArenaPastEnd { .. }
    ));
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.nextoff.set(4096));
    assert!(matches!(
        invalid(open(&img, &ns(size))),
        Invalid::AreaOverlap {
            area: Area::Info2,
            ..
        }
    ));
    let mut img = clean.clone();
    edit_info(&mut img, 4096, |sb| sb.external_lbasize.set(0));
    assert_eq!(
        invalid(open(&img, &ns(size))),
        Invalid::ZeroLbasize { arena: 0 }
    );

    // The namespace minimum (__nd_btt_probe / attach), and a truncated image.
    assert!(matches!(
        invalid(open(&clean, &ns(16 * MIB))),
        Invalid::NamespaceTooSmall { .. }
    ));
    let short = &clean[..32 * MIB as usize];
    let r = Btt::open(&mut &short[..], &ns(size));
    assert!(matches!(r, Err(Error::Io { .. })), "{r:?}");
}

/// Three arenas (v2.0, 1 TiB + 20 MiB, sparse): LBAs cross arenas at 134086520 and
/// 268173040; a bad later arena makes the whole device fail (discover_arenas: -ENODEV).
#[test]
fn several_arenas_read_and_a_bad_later_arena() {
    let size = GIB * 1024 + 20 * MIB;
    let req = request(size, 4096, BttVersion::V2_0);
    let mut img = Sparse::new(size);
    let layout = create(&mut img, &req).unwrap();
    let n = Namespace {
        size,
        uuid: Uuid::NIL,
        version: BttVersion::V2_0,
    };
    let btt = Btt::open(&mut img, &n).unwrap();
    assert_eq!((btt.arena_count, btt.nlba), (3, 268_177_892));
    let arenas: Vec<_> = btt.arenas(&mut img).map(Result::unwrap).collect();
    for (a, l) in arenas.iter().zip(layout.arenas()) {
        assert_eq!(
            (a.infooff, a.dataoff, a.mapoff, a.logoff, a.info2off),
            (l.infooff, l.dataoff, l.mapoff, l.logoff, l.info2off)
        );
        assert_eq!(a.external_lba_start, l.external_lba_start);
    }
    let mut reader = Reader::new(btt);
    for (lba, arena, premap) in [
        (0u64, 0u32, 0u32),
        (134_086_519, 0, 134_086_519),
        (134_086_520, 1, 0),
        (268_173_040, 2, 0),
        (268_177_891, 2, 4851),
    ] {
        let t = reader.translate(&mut img, lba).unwrap();
        assert_eq!((t.arena, t.premap), (arena, premap), "{lba}");
        // Identity: data block premap of its arena, at dataoff = infooff + 4096.
        let base = arenas[arena as usize].infooff + 4096;
        assert_eq!(t.data_offset, Some(base + u64::from(premap) * 4096));
    }
    // Corrupt the third arena's signature.
    img.write_at(1 << 40, b"XTT").unwrap();
    assert!(matches!(
        invalid(Btt::open(&mut img, &n)),
        Invalid::BadSignature { arena: 2, .. }
    ));
    // A nextoff in arena 1 that wraps the kernel's u64 sum back to arena 0 (2^39 + x = 0 mod
    // 2^64; discover_arenas would read arena 0 again, forever) is refused.
    let mut sb = [0u8; 4096];
    img.read_at(1 << 39, &mut sb).unwrap();
    let info = BttSb::mut_from_bytes(&mut sb).unwrap();
    info.nextoff.set(0u64.wrapping_sub(1 << 39));
    info.update_checksum();
    let mut looped = Sparse::new(size);
    looped.pages = img.pages.clone();
    looped.write_at(1 << 39, &sb).unwrap();
    assert!(matches!(
        invalid(Btt::open(&mut looped, &n)),
        Invalid::ArenaPastEnd { arena: 1, .. }
    ));
    // A checker can still walk the arenas before it: two good ones, then the error, then end.
    let walked: Vec<_> = walk(&mut img, &n).unwrap().collect();
    assert_eq!(walked.len(), 3);
    assert!(walked[0].is_ok() && walked[1].is_ok());
    assert!(matches!(
        walked[2],
        Err(Error::Invalid(Invalid::BadSignature { arena: 2, .. }))
    ));
}

// ---------------------------------------------------------------------------------------
// Fuzz-style properties: any bytes, any request, never a panic or a hang.

fn small_image() -> &'static [u8] {
    use std::sync::OnceLock;
    static IMG: OnceLock<Vec<u8>> = OnceLock::new();
    IMG.get_or_init(|| image(17 * MIB, 512, BttVersion::V1_1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random info-block fields (checksum fixed so the structure checks run) and random
    /// bytes anywhere in the metadata: open and read return, with a typed error or data.
    #[test]
    fn any_metadata_is_a_typed_error_or_reads(
        fields in proptest::collection::vec((0usize..120, any::<u8>()), 0..8),
        bytes in proptest::collection::vec((0usize..(17 << 20), any::<u8>()), 0..16),
        lba in any::<u64>(),
        cut in proptest::option::of(0usize..(17 << 20)),
    ) {
        let mut img = small_image().to_vec();
        edit_info(&mut img, 4096, |sb| {
            let raw = sb.as_mut_bytes();
            for (at, b) in &fields {
                raw[*at] = *b;
            }
        });
        for (at, b) in &bytes {
            img[*at] = *b;
        }
        if let Some(cut) = cut {
            img.truncate(cut);
        }
        let n = ns(17 << 20);
        if let Ok(mut reader) = Reader::open(&mut img.as_slice(), &n) {
            let nlba = reader.btt().nlba;
            let mut buf = [0u8; 512];
            let _ = reader.read_lba(&mut img.as_slice(), lba % (nlba + 2), &mut buf);
            let _ = reader.read_lba(&mut img.as_slice(), lba, &mut buf);
        }
        let _ = Btt::open(&mut img.as_slice(), &Namespace { version: BttVersion::V2_0, ..n });
    }

    /// Whatever create makes, open finds: one arena per the solver, its nlba and capacity.
    #[test]
    fn create_then_open(mib in 16u64..40, extra in 0u64..4096, pick in 0usize..7, v2 in any::<bool>()) {
        let lbasize = [512, 520, 528, 4096, 4104, 4160, 4224][pick];
        let version = if v2 { BttVersion::V2_0 } else { BttVersion::V1_1 };
        let size = (mib << 20) + extra * 4096;
        let req = request(size, lbasize, version);
        let mut img = vec![0u8; size as usize];
        match create(&mut img.as_mut_slice(), &req) {
            Ok(layout) => {
                let n = Namespace { size, uuid: Uuid::NIL, version };
                let btt = Btt::open(&mut img.as_slice(), &n).unwrap();
                prop_assert_eq!(btt.nlba, layout.nlba());
                prop_assert_eq!(btt.capacity(), layout.capacity());
                prop_assert_eq!(btt.external_lbasize, lbasize);
                prop_assert_eq!(btt.arena_count, 1);
            }
            Err(e) => {
                // Only v1.1 in exactly 16 MiB is too small.
                prop_assert!(!v2 && size < (16 << 20) + 4096, "{e:?}");
                prop_assert!(img.iter().all(|&b| b == 0));
            }
        }
    }

    /// Chains of arenas with arbitrary nextoff values terminate.
    #[test]
    fn any_nextoff_terminates(nextoff in any::<u64>(), size_extra in 0u64..(1 << 26)) {
        let mut img = small_image().to_vec();
        edit_info(&mut img, 4096, |sb| sb.nextoff.set(nextoff));
        let n = ns((17 << 20) + size_extra);
        let _ = Btt::open(&mut img.as_slice(), &n);
    }

    /// The solver on any request: an error, or arenas whose areas are in order inside
    /// the arena and the namespace, with internal_nlba = external_nlba + nfree and the
    /// data, map and flog fitting their areas.
    #[test]
    fn solve_any_request(size in any::<u64>(), pick in 0usize..9, v2 in any::<bool>()) {
        let lbasize = [512, 520, 528, 4096, 4104, 4160, 4224, 0, 1000][pick];
        let version = if v2 { BttVersion::V2_0 } else { BttVersion::V1_1 };
        if let Ok(l) = solve(&request(size, lbasize, version)) {
            let mut nlba = 0u64;
            for a in l.arenas().take(4) {
                prop_assert_eq!(a.internal_nlba, a.external_nlba + a.nfree);
                prop_assert!(a.dataoff - a.infooff == 4096);
                prop_assert!(a.dataoff + u64::from(a.internal_nlba) * u64::from(a.internal_lbasize) <= a.mapoff);
                prop_assert!(a.mapoff + u64::from(a.external_nlba) * 4 <= a.logoff);
                prop_assert!(a.logoff + 256 * 64 <= a.info2off);
                prop_assert!(a.info2off + 4096 <= a.infooff + a.size);
                prop_assert!(a.infooff + a.size <= size);
                prop_assert!(a.size >= 16 << 20 && a.size <= 1 << 39);
                prop_assert_eq!(a.external_lba_start, nlba);
                nlba += u64::from(a.external_nlba);
            }
            if l.arena_count() <= 4 {
                prop_assert_eq!(nlba, l.nlba());
            }
        }
    }
}

/// Every reason: Display names its numbers; `kernel_refuses` says which ones the kernel
/// checks itself (btt_devs.c nd_btt_arena_is_valid / nd_btt_version / __nd_btt_probe, btt.c
/// log_set_indices / btt_log_get_old / nvdimm_namespace_attach_btt) and which are structure
/// it assumes or request errors; the types are Copy + Eq + Hash.
#[test]
fn every_reason_displays_its_numbers() {
    use std::collections::HashSet;
    let cases: Vec<(Invalid, bool, &[&str])> = vec![
        (
            Invalid::NamespaceTooSmall {
                size: 16777216,
                min: 16781312,
            },
            true,
            &["16777216", "16781312"],
        ),
        (
            Invalid::BadSignature {
                arena: 2,
                found: *b"XTT_ARENA_INFO\0\0",
            },
            true,
            &["arena 2", "XTT_ARENA_INFO"],
        ),
        (
            Invalid::ParentUuidMismatch {
                arena: 0,
                found: Uuid([0x11; 16]),
                expected: Uuid::NIL,
            },
            true,
            &["11111111-1111", "00000000-0000"],
        ),
        (
            Invalid::ChecksumMismatch {
                arena: 1,
                stored: 0xab,
                computed: 0xcd,
            },
            true,
            &["0x00000000000000ab", "0x00000000000000cd"],
        ),
        (
            Invalid::VersionMismatch {
                major: 1,
                minor: 0,
                expected: BttVersion::V2_0,
            },
            true,
            &["1.0", "2.0"],
        ),
        (Invalid::ZeroLbasize { arena: 0 }, true, &["arena 0"]),
        (Invalid::ZeroLbasize { arena: 3 }, false, &["arena 3"]),
        (
            Invalid::LbasizeMismatch {
                arena: 1,
                found: 520,
                first: 512,
            },
            false,
            &["520", "512"],
        ),
        (
            Invalid::InternalLbasizeTooSmall {
                arena: 0,
                internal_lbasize: 512,
                external_lbasize: 520,
            },
            false,
            &["512", "520"],
        ),
        (
            Invalid::NoFreeBlocks { arena: 4 },
            false,
            &["arena 4", "nfree"],
        ),
        (
            Invalid::NlbaMismatch {
                arena: 0,
                internal_nlba: 10,
                external_nlba: 7,
                nfree: 256,
            },
            false,
            &["10", "7", "256"],
        ),
        (
            Invalid::AreaOverlap {
                arena: 0,
                area: Area::Map,
                start: 0x1000,
                len: 64,
                limit: 0x1010,
            },
            false,
            &["map", "0x1000", "64", "0x1010"],
        ),
        (
            Invalid::ArenaPastEnd {
                arena: 1,
                infooff: 0x2000,
                size: 99,
                namespace_size: 100,
            },
            false,
            &["0x2000", "99", "100"],
        ),
        (Invalid::TooManyArenas { max: 7 }, false, &["7"]),
        (
            Invalid::LogLayoutMismatch {
                arena: 0,
                lane: 9,
                slot: 3,
            },
            true,
            &["lane 9", "slot 3"],
        ),
        (
            Invalid::UnknownLogLayout {
                arena: 0,
                index0: -1,
                index1: 1,
            },
            true,
            &["-1", "1"],
        ),
        (
            Invalid::LogSeq {
                arena: 0,
                lane: 5,
                seq0: 2,
                seq1: 2,
            },
            true,
            &["lane 5", "2 and 2"],
        ),
        (
            Invalid::FlogLbaOutOfRange {
                arena: 0,
                lane: 1,
                lba: 900,
                external_nlba: 800,
            },
            false,
            &["900", "800"],
        ),
        (
            Invalid::TooManyRepairs { arena: 0, max: 256 },
            false,
            &["256"],
        ),
        (
            Invalid::LbaOutOfRange { lba: 70, nlba: 69 },
            false,
            &["70", "69"],
        ),
        (
            Invalid::MediaError {
                lba: 8,
                arena: 0,
                postmap: 12,
            },
            false,
            &["LBA 8", "block 12"],
        ),
        (
            Invalid::PostmapOutOfRange {
                lba: 9,
                arena: 0,
                postmap: 200000,
                internal_nlba: 129992,
            },
            false,
            &["200000", "129992"],
        ),
        (
            Invalid::BufferSize {
                len: 4096,
                expected: 512,
            },
            false,
            &["4096", "512"],
        ),
        (
            Invalid::UnsupportedLbasize { lbasize: 1000 },
            false,
            &["1000"],
        ),
    ];
    let mut seen = HashSet::new();
    for (reason, refuses, words) in &cases {
        let text = reason.to_string();
        for w in *words {
            assert!(text.contains(w), "{text:?} lacks {w:?}");
        }
        assert_eq!(reason.kernel_refuses(), *refuses, "{text}");
        let copy = *reason;
        assert!(seen.insert(copy), "duplicate case {text}");
        let err: Error<SliceError> = Error::from(*reason);
        assert_eq!(err.to_string(), text);
        assert_eq!(err.invalid(), Some(reason));
    }
    let io: Error<SliceError> = Error::Io {
        offset: 0x1000,
        len: 8,
        source: SliceError {
            offset: 0x1000,
            len: 8,
            size: 16,
        },
    };
    assert!(io.to_string().contains("0x1000"));
    assert_eq!(io.invalid(), None);
    let _: &dyn std::error::Error = &io;
}

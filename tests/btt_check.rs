//! The BTT deep check and the info-block repair, against hand-worked images and the
//! kernel-written fixtures of `tests/data/kernel/btt/`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

#[path = "support/ndsparse.rs"]
mod ndsparse;
use ndsparse::Sparse;

use std::path::Path;

use nvdimm_infoblock::btt::arena::{Btt, BttVersion, Namespace};
use nvdimm_infoblock::btt::check::{
    backup_candidates, check, sizes, CheckError, Finding, InfoCopy, Progress, Referrer, Scratch,
    Summary,
};
use nvdimm_infoblock::btt::error::Invalid;
use nvdimm_infoblock::btt::layout::{create, LayoutRequest};
use nvdimm_infoblock::btt::repair::{apply, plan_repair, RepairError};
use nvdimm_infoblock::io::{ReadAt, SliceError, WriteAt};
use nvdimm_infoblock::Uuid;
use proptest::prelude::*;

// The small image: a label-less namespace of 16 MiB + 4096 bytes, BTT 1.1, 4096-byte sectors.
// rawsize = 16 MiB (the namespace less the info block's offset 4096): one arena of 16 MiB.
// alloc_arena (btt.c), by hand:
//   logsize       = roundup(256 * 64, 4096)            = 16384
//   available     = 16777216 - 2 * 4096 - 16384         = 16752640
//   internal_nlba = (16752640 - 4096) / (4096 + 4)      = 16748544 / 4100 = 4085 (rest 44)
//   external_nlba = 4085 - 256                          = 3829
//   mapsize       = roundup(3829 * 4 = 15316, 4096)     = 16384
//   datasize      = 16752640 - 16384                    = 16736256
//   dataoff 4096, mapoff 4096 + 16736256 = 16740352, logoff 16740352 + 16384 = 16756736,
//   info2off 16756736 + 16384 = 16773120 (= 16 MiB - 4096, the arena's last page).
// Namespace offsets add 4096.
const NS_SIZE: u64 = (16 << 20) + 4096;
const INTERNAL_NLBA: u32 = 4085;
const EXTERNAL_NLBA: u32 = 3829;
const INFO: u64 = 4096;
const MAP: u64 = 4096 + 16_740_352;
const LOG: u64 = 4096 + 16_756_736;
const INFO2: u64 = 4096 + 16_773_120;
const NFREE: u32 = 256;

fn namespace(size: u64) -> Namespace {
    Namespace::labelless(size)
}

fn fresh(size: u64, lbasize: u32) -> Vec<u8> {
    let mut img = vec![0u8; usize::try_from(size).unwrap()];
    let request = LayoutRequest {
        namespace_size: size,
        lbasize,
        version: BttVersion::V1_1,
        uuid: Uuid([0x5a; 16]),
        parent_uuid: Uuid::NIL,
    };
    create(&mut &mut img[..], &request).unwrap();
    img
}

fn small() -> Vec<u8> {
    let img = fresh(NS_SIZE, 4096);
    // The created geometry is the one worked out above.
    let le32 = |at: u64| u32::from_le_bytes(img[at as usize..at as usize + 4].try_into().unwrap());
    let le64 = |at: u64| u64::from_le_bytes(img[at as usize..at as usize + 8].try_into().unwrap());
    assert_eq!(le32(INFO + 60), EXTERNAL_NLBA);
    assert_eq!(le32(INFO + 68), INTERNAL_NLBA);
    assert_eq!(le64(INFO + 96) + 4096, MAP);
    assert_eq!(le64(INFO + 104) + 4096, LOG);
    assert_eq!(le64(INFO + 112) + 4096, INFO2);
    img
}

fn get32(img: &[u8], at: u64) -> u32 {
    u32::from_le_bytes(img[at as usize..at as usize + 4].try_into().unwrap())
}

fn put32(img: &mut [u8], at: u64, v: u32) {
    img[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
}

/// Where an arena's map and flog are in the namespace.
#[derive(Clone, Copy, Debug)]
struct Geo {
    map: u64,
    log: u64,
}

/// The small image's.
const SMALL: Geo = Geo { map: MAP, log: LOG };

impl Geo {
    fn map_at(&self, premap: u32) -> u64 {
        self.map + u64::from(premap) * 4
    }

    /// Flog slot `slot` (0..4) of lane `lane`: 16 bytes lba, old_map, new_map, seq.
    fn slot_at(&self, lane: u32, slot: u32) -> u64 {
        self.log + u64::from(lane) * 64 + u64::from(slot) * 16
    }
}

fn map_at(premap: u32) -> u64 {
    SMALL.map_at(premap)
}

fn slot_at(lane: u32, slot: u32) -> u64 {
    SMALL.slot_at(lane, slot)
}

/// A normal map entry (both flag bits set, btt_map_write's case 0).
fn normal(postmap: u32) -> u32 {
    postmap | 0xC000_0000
}

/// The kernel's write of one block (btt_write_pg after btt_freelist_init), for the slot
/// layout (0, 1): the lane's free block is its newer entry's old_map; the new entry goes to
/// the other sub-slot with the next sequence number (1 -> 2 -> 3 -> 1); then the map.
/// With `torn`, the map write is lost (a crash between the flog and the map update).
fn kernel_write(img: &mut [u8], lane: u32, premap: u32, torn: bool) {
    kernel_write_at(img, &SMALL, lane, premap, torn);
}

/// [`kernel_write`] on the arena at `geo`.
fn kernel_write_at(img: &mut [u8], geo: &Geo, lane: u32, premap: u32, torn: bool) {
    let (slot_at, map_at) = (|l, s| geo.slot_at(l, s), |p| geo.map_at(p));
    let seq0 = get32(img, slot_at(lane, 0) + 12);
    let seq1 = get32(img, slot_at(lane, 1) + 12);
    // btt_log_get_old: which sub-slot is older.
    let older = if seq0 == 0 {
        0
    } else if seq0 < seq1 {
        if seq1 - seq0 == 1 {
            0
        } else {
            1
        }
    } else if seq0 - seq1 == 1 {
        1
    } else {
        0
    };
    let newer = 1 - older;
    let newer_at = slot_at(lane, newer);
    let free = get32(img, newer_at + 4) & 0x3FFF_FFFF;
    let seq = match get32(img, newer_at + 12) {
        1 => 2,
        2 => 3,
        _ => 1,
    };
    let raw = get32(img, map_at(premap));
    let old = if raw & 0xC000_0000 == 0 {
        premap
    } else {
        raw & 0x3FFF_FFFF
    };
    let at = slot_at(lane, older);
    put32(img, at, premap);
    put32(img, at + 4, old);
    put32(img, at + 8, free);
    put32(img, at + 12, seq);
    if !torn {
        put32(img, map_at(premap), normal(free));
    }
}

/// A written image: many writes rotating over lanes 0..8 (every lane's flog turns over
/// several times).
fn written() -> Vec<u8> {
    let mut img = small();
    for n in 0..200u32 {
        kernel_write(&mut img, n % 8, (n * 37) % EXTERNAL_NLBA, false);
    }
    img
}

fn run_with(
    img: &[u8],
    ns: &Namespace,
    bitmap_len: usize,
    io_len: usize,
) -> (Vec<Finding>, Summary) {
    // The check owes nothing to the scratch's contents: start from garbage.
    let mut bitmap = vec![0xa5u8; bitmap_len];
    let mut io = vec![0x5au8; io_len];
    let mut found = Vec::new();
    let summary = check(
        &mut &img[..],
        ns,
        Scratch {
            bitmap: &mut bitmap,
            io: &mut io,
        },
        |f| found.push(f),
        |_| {},
    )
    .unwrap();
    (found, summary)
}

fn run(img: &[u8]) -> Vec<Finding> {
    // One pass: ceil(4085 / 8) = 511 bytes of bitmap.
    run_with(img, &namespace(NS_SIZE), 511, 64 * 1024).0
}

#[test]
fn clean_images_have_no_findings() {
    assert_eq!(run(&small()), vec![]);
    assert_eq!(run(&written()), vec![]);
    let (found, summary) = run_with(&written(), &namespace(NS_SIZE), 511, 4096);
    assert_eq!(found, vec![]);
    assert_eq!(summary.arenas, 1);
    assert_eq!(summary.passes, 1);
    assert!(summary.is_clean());
}

#[test]
fn torn_write_is_a_note_and_the_accounting_follows_the_kernel() {
    let mut img = written();
    // Lane 3's next write of premap 100 reaches the flog but not the map.
    let raw_before = get32(&img, map_at(100));
    kernel_write(&mut img, 3, 100, true);
    assert_eq!(get32(&img, map_at(100)), raw_before);
    let found = run(&img);
    assert_eq!(found.len(), 1, "{found:?}");
    match found[0] {
        Finding::PendingMapUpdate {
            arena: 0,
            lane: 3,
            lba: 100,
            old_postmap,
            new_postmap,
        } => {
            // premap 100 was never written: identity, block 100.
            assert_eq!(old_postmap, 100);
            assert_ne!(new_postmap, 100);
        }
        f => panic!("{f:?}"),
    }
}

#[test]
fn map_entry_out_of_range() {
    let mut img = small();
    // map[7] -> block 4090 >= internal_nlba 4085. Block 7 (its identity block) is then
    // referenced by nobody: with every referrer in range, a lost block goes with a doubly
    // referenced one, so a lost block alone needs a referrer out of range.
    put32(&mut img, map_at(7), normal(4090));
    assert_eq!(
        run(&img),
        vec![
            Finding::MapOutOfRange {
                arena: 0,
                lba: 7,
                entry: 0xC000_0FFA,
                postmap: 4090,
                internal_nlba: INTERNAL_NLBA
            },
            Finding::BlockUnreferenced { arena: 0, block: 7 },
        ]
    );
}

#[test]
fn two_map_entries_on_one_block() {
    let mut img = small();
    // map[3] -> 9, and map[9] is identity (block 9): block 9 twice, block 3 lost.
    put32(&mut img, map_at(3), normal(9));
    assert_eq!(
        run(&img),
        vec![
            Finding::BlockReferencedTwice {
                arena: 0,
                block: 9,
                first: Some(Referrer::Map { lba: 3 }),
                second: Referrer::Map { lba: 9 },
            },
            Finding::BlockUnreferenced { arena: 0, block: 3 },
        ]
    );
}

#[test]
fn free_block_also_mapped() {
    let mut img = small();
    // Lane 2's free block is external_nlba + 2 = 3831 (btt_log_init). map[5] -> 3831.
    put32(&mut img, map_at(5), normal(EXTERNAL_NLBA + 2));
    assert_eq!(
        run(&img),
        vec![
            Finding::BlockReferencedTwice {
                arena: 0,
                block: 3831,
                first: Some(Referrer::Lane { lane: 2 }),
                second: Referrer::Map { lba: 5 },
            },
            Finding::BlockUnreferenced { arena: 0, block: 5 },
        ]
    );
}

#[test]
fn two_lanes_share_a_free_block() {
    let mut img = small();
    // Lane 9's initial entry (slot 0) says its free block is lane 8's, 3829 + 8 = 3837.
    put32(&mut img, slot_at(9, 0) + 4, EXTERNAL_NLBA + 8);
    put32(&mut img, slot_at(9, 0) + 8, EXTERNAL_NLBA + 8);
    assert_eq!(
        run(&img),
        vec![
            Finding::BlockReferencedTwice {
                arena: 0,
                block: 3837,
                first: Some(Referrer::Lane { lane: 8 }),
                second: Referrer::Lane { lane: 9 },
            },
            Finding::BlockUnreferenced {
                arena: 0,
                block: 3838
            },
        ]
    );
}

#[test]
fn bad_seq_the_kernel_refuses() {
    let mut img = written();
    // Lane 6 has been written (sequence numbers of two live entries); make them equal.
    let s0 = get32(&img, slot_at(6, 0) + 12);
    assert!(get32(&img, slot_at(6, 1) + 12) != 0);
    put32(&mut img, slot_at(6, 1) + 12, s0);
    // btt_log_get_old: equal numbers are -EINVAL. The lane's blocks are unknown; its candidate
    // blocks are not reported as lost, so the finding is alone.
    assert_eq!(
        run(&img),
        vec![Finding::LogSeq {
            arena: 0,
            lane: 6,
            seq0: s0,
            seq1: s0,
            kernel_refuses: true
        }]
    );
}

#[test]
fn bad_seq_the_kernel_accepts() {
    let mut img = small();
    // Lane 6 in its initial state has seq (1, 0). Make it (2, 0): btt_log_get_old finds
    // 2 != 0, 2 + 0 <= 5, 2 - 0 = 2 != 1, so sub-slot 0 is the older and the newer is the
    // padding of sub-slot 1 (old_map 0): the kernel takes block 0 as the lane's free block,
    // which map[0] (identity) holds; the lane's real free block 3829 + 6 = 3835 is lost.
    put32(&mut img, slot_at(6, 0) + 12, 2);
    assert_eq!(
        run(&img),
        vec![
            Finding::LogSeq {
                arena: 0,
                lane: 6,
                seq0: 2,
                seq1: 0,
                kernel_refuses: false
            },
            Finding::BlockReferencedTwice {
                arena: 0,
                block: 0,
                first: Some(Referrer::Lane { lane: 6 }),
                second: Referrer::Map { lba: 0 },
            },
            Finding::BlockUnreferenced {
                arena: 0,
                block: 3835
            },
        ]
    );
}

#[test]
fn flog_entry_out_of_range() {
    let mut img = small();
    // Lane 4's initial entry: lba 4 -> 5000 (>= external_nlba 3829): the entry is not used
    // for the accounting (old_map == new_map, so no map recovery either), only reported.
    put32(&mut img, slot_at(4, 0), 5000);
    assert_eq!(
        run(&img),
        vec![
            Finding::LogLbaOutOfRange {
                arena: 0,
                lane: 4,
                sub: 0,
                lba: 5000,
                external_nlba: EXTERNAL_NLBA
            },
            Finding::BlockUnreferenced {
                arena: 0,
                block: 3833
            }
        ]
    );
}

#[test]
fn padding_slot_used() {
    let mut img = written();
    // Layout (0, 1): slots 2 and 3 are padding in every lane. Lane 10 (never written) gets a
    // stray non-zero byte in slot 3. log_set_indices refuses (-ENXIO) too.
    img[slot_at(10, 3) as usize] = 1;
    assert_eq!(
        run(&img),
        vec![
            Finding::Invalid(Invalid::LogLayoutMismatch {
                arena: 0,
                lane: 10,
                slot: 3
            }),
            Finding::LogSlot {
                arena: 0,
                lane: 10,
                slot: 3,
                expected: nvdimm_infoblock::btt::check::SlotContent::Padding
            },
        ]
    );
}

fn checksum_mismatch(img: &[u8], at: u64) -> Invalid {
    let stored = u64::from_le_bytes(
        img[at as usize + 4088..at as usize + 4096]
            .try_into()
            .unwrap(),
    );
    let mut block = img[at as usize..at as usize + 4096].to_vec();
    block[4088..].fill(0);
    let computed = nvdimm_infoblock::nd_fletcher64(&block);
    Invalid::ChecksumMismatch {
        arena: 0,
        stored,
        computed,
    }
}

#[test]
fn primary_checksum_flipped() {
    let mut img = written();
    img[(INFO + 4088) as usize] ^= 1;
    let reason = checksum_mismatch(&img, INFO);
    assert_eq!(
        run(&img),
        vec![Finding::InfoInvalid {
            arena: 0,
            copy: InfoCopy::Primary,
            offset: INFO,
            reason
        }]
    );
}

#[test]
fn backup_corrupted() {
    let mut img = written();
    img[(INFO2 + 200) as usize] ^= 0x80;
    let reason = checksum_mismatch(&img, INFO2);
    assert_eq!(
        run(&img),
        vec![Finding::InfoInvalid {
            arena: 0,
            copy: InfoCopy::Backup,
            offset: INFO2,
            reason
        }]
    );
}

#[test]
fn both_info_blocks_bad() {
    let mut img = written();
    img[(INFO + 4088) as usize] ^= 1;
    img[(INFO2 + 200) as usize] ^= 0x80;
    let reason = checksum_mismatch(&img, INFO);
    let (found, summary) = run_with(&img, &namespace(NS_SIZE), 511, 4096);
    assert_eq!(
        found,
        vec![
            Finding::InfoInvalid {
                arena: 0,
                copy: InfoCopy::Primary,
                offset: INFO,
                reason
            },
            Finding::InfoUnrecoverable {
                arena: 0,
                primary: INFO,
                backup: Some(INFO2)
            },
        ]
    );
    assert_eq!(summary.arenas, 0);
    let plan = plan_repair(&mut &img[..], &namespace(NS_SIZE)).unwrap();
    assert!(plan.is_empty());
    assert_eq!(
        plan.unrecoverable,
        Some(Finding::InfoUnrecoverable {
            arena: 0,
            primary: INFO,
            backup: Some(INFO2)
        })
    );
}

#[test]
fn both_valid_but_different() {
    let mut img = small();
    // The backup gets another uuid (byte 16) and a checksum that matches it.
    img[(INFO2 + 16) as usize] ^= 0xff;
    let mut block = img[INFO2 as usize..INFO2 as usize + 4096].to_vec();
    block[4088..].fill(0);
    let sum = nvdimm_infoblock::nd_fletcher64(&block);
    img[(INFO2 + 4088) as usize..(INFO2 + 4096) as usize].copy_from_slice(&sum.to_le_bytes());
    assert_eq!(
        run(&img),
        vec![Finding::InfoMismatch {
            arena: 0,
            primary: INFO,
            backup: INFO2,
            first_difference: 16
        }]
    );
}

/// A WriteAt over an image that records its writes, or refuses them.
struct Recorder<'a> {
    img: &'a mut [u8],
    writes: Vec<(u64, usize)>,
    refuse: bool,
}

impl ReadAt for Recorder<'_> {
    type Error = SliceError;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        (&self.img[..]).read_at(offset, buf)
    }
}

impl WriteAt for Recorder<'_> {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), SliceError> {
        if self.refuse {
            return Err(SliceError {
                offset,
                len: buf.len(),
                size: 0,
            });
        }
        self.writes.push((offset, buf.len()));
        (&mut self.img[..]).write_at(offset, buf)
    }
}

fn repair_case(damage: u64, target: InfoCopy) {
    let good = written();
    let mut img = good.clone();
    img[damage as usize] ^= 0x10;
    let ns = namespace(NS_SIZE);
    // The dry run writes nothing (every write would fail).
    let plan = {
        let mut rec = Recorder {
            img: &mut img,
            writes: vec![],
            refuse: true,
        };
        plan_repair(&mut rec, &ns).unwrap()
    };
    let writes: Vec<_> = plan.writes().copied().collect();
    assert_eq!(writes.len(), 1);
    let w = writes[0];
    let (offset, source) = match target {
        InfoCopy::Primary => (INFO, INFO2),
        InfoCopy::Backup => (INFO2, INFO),
    };
    assert_eq!(
        (w.arena, w.target, w.offset, w.len, w.source),
        (0, target, offset, 4096, source)
    );
    assert!(matches!(w.reason, Finding::InfoInvalid { copy, .. } if copy == target));
    let before = img.clone();
    let mut rec = Recorder {
        img: &mut img,
        writes: vec![],
        refuse: false,
    };
    apply(&plan, &mut rec).unwrap();
    // Only the planned range was written, and everything outside it is unchanged.
    assert_eq!(rec.writes, vec![(offset, 4096)]);
    let (o, e) = (offset as usize, offset as usize + 4096);
    assert_eq!(img[..o], before[..o]);
    assert_eq!(img[e..], before[e..]);
    // The repaired copy is byte-identical to the one the kernel wrote, the whole image is the
    // undamaged one again, the kernel's checks accept it and the deep check is clean.
    assert_eq!(img, good);
    Btt::open(&mut &img[..], &ns).unwrap();
    assert_eq!(run(&img), vec![]);
    assert!(plan_repair(&mut &img[..], &ns).unwrap().is_empty());
}

#[test]
fn repair_restores_the_primary() {
    repair_case(INFO + 60, InfoCopy::Primary);
}

#[test]
fn repair_restores_the_backup() {
    repair_case(INFO2 + 3000, InfoCopy::Backup);
}

#[test]
fn repair_refuses_when_the_source_changed() {
    let mut img = written();
    img[(INFO + 60) as usize] ^= 0x10;
    let ns = namespace(NS_SIZE);
    let plan = plan_repair(&mut &img[..], &ns).unwrap();
    img[(INFO2 + 100) as usize] ^= 1;
    let before = img.clone();
    let mut rec = Recorder {
        img: &mut img,
        writes: vec![],
        refuse: false,
    };
    assert!(matches!(
        apply(&plan, &mut rec),
        Err(RepairError::Changed { offset: INFO2, .. })
    ));
    assert!(rec.writes.is_empty());
    assert_eq!(img, before);
}

#[test]
fn scratch_too_small_names_the_size() {
    let img = small();
    let mut bitmap = vec![0u8; 510];
    let mut io = vec![0u8; 4096];
    let r = check(
        &mut &img[..],
        &namespace(NS_SIZE),
        Scratch {
            bitmap: &mut bitmap,
            io: &mut io,
        },
        |_| {},
        |_| {},
    );
    // ceil(4085 / 8) = 511 bytes for one pass, and 511 < 4096 so no multi-pass below it.
    assert_eq!(
        r,
        Err(CheckError::BitmapTooSmall {
            len: 510,
            min: 511,
            single_pass: 511
        })
    );
    let s = sizes(&mut &img[..], &namespace(NS_SIZE)).unwrap();
    assert_eq!(s.bitmap_single_pass, 511);
    // map 3829 * 4 = 15316 bytes, flog 256 * 64 = 16384.
    assert_eq!(s.metadata_bytes, 15316 + 16384);
}

#[test]
fn multi_pass_finds_the_same() {
    // 64 MiB + 4096, 512-byte sectors: rawsize 64 MiB, available = 67108864 - 8192 - 16384
    // = 67084288, internal_nlba = (67084288 - 4096) / 516 = 130000 (67080192 / 516 =
    // 130000.37), external_nlba = 129744. One pass needs ceil(130000 / 8) = 16250 bytes;
    // 4096 bytes make windows of 32768 blocks: 4 passes.
    let size = (64 << 20) + 4096;
    let mut img = fresh(size, 512);
    let ns = namespace(size);
    let s = sizes(&mut &img[..], &ns).unwrap();
    assert_eq!(s.bitmap_single_pass, 16250);
    // Damage in two windows: map[40000] -> block 100000 (twice), map[5] out of range.
    let map = {
        let le64 = u64::from_le_bytes(img[4096 + 96..4096 + 104].try_into().unwrap());
        4096 + le64
    };
    put32(&mut img, map + 40000 * 4, normal(100_000));
    put32(&mut img, map + 5 * 4, normal(200_000));
    let (one, s1) = run_with(&img, &ns, 16250, 64 * 1024);
    let (four, s4) = run_with(&img, &ns, 4096, 4096);
    // A window whose parity pass finds something is passed over again, exactly: the one
    // window of s1; of the four, window 0 (block 5 has no reference: map[5] is out of
    // range), window 1 (block 40000: map[40000] names another block) and window 3 (block
    // 100000, named by map[40000] and map[100000]). Window 2 (65536..98304) is untouched.
    assert_eq!(s1.passes, 2);
    assert_eq!(s4.passes, 4 + 3);
    let mut a = one.clone();
    let mut b = four.clone();
    let key = |f: &Finding| format!("{f:?}");
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a, b);
    assert_eq!(
        one,
        vec![
            Finding::MapOutOfRange {
                arena: 0,
                lba: 5,
                entry: normal(200_000),
                postmap: 200_000,
                internal_nlba: 130_000
            },
            Finding::BlockReferencedTwice {
                arena: 0,
                block: 100_000,
                first: Some(Referrer::Map { lba: 40000 }),
                second: Referrer::Map { lba: 100_000 },
            },
            Finding::BlockUnreferenced { arena: 0, block: 5 },
            Finding::BlockUnreferenced {
                arena: 0,
                block: 40000
            },
        ]
    );
}

#[test]
fn progress_reaches_the_total() {
    let img = small();
    let mut bitmap = vec![0u8; 511];
    let mut io = vec![0u8; 4096];
    let mut last = Progress { done: 0, total: 0 };
    let mut calls = 0;
    check(
        &mut &img[..],
        &namespace(NS_SIZE),
        Scratch {
            bitmap: &mut bitmap,
            io: &mut io,
        },
        |_| {},
        |p| {
            assert!(p.done >= last.done && p.done <= p.total);
            last = p;
            calls += 1;
        },
    )
    .unwrap();
    // flog 16384 bytes in 4 chunks of 4096, map 15316 bytes in 4 chunks (3 x 4096 + 3028).
    assert_eq!(
        last,
        Progress {
            done: 15316 + 16384,
            total: 15316 + 16384
        }
    );
    assert_eq!(calls, 8);
}

/// A damaged window is read twice (the parity pass, then the exact one): the total grows by
/// one pass when the second starts, and the reads reach it.
#[test]
fn progress_grows_with_the_exact_pass() {
    let mut img = small();
    put32(&mut img, map_at(3), normal(9));
    let mut bitmap = vec![0u8; 511];
    let mut io = vec![0u8; 4096];
    let mut seen = Vec::new();
    let summary = check(
        &mut &img[..],
        &namespace(NS_SIZE),
        Scratch {
            bitmap: &mut bitmap,
            io: &mut io,
        },
        |_| {},
        |p| seen.push(p),
    )
    .unwrap();
    let pass = 15316 + 16384;
    assert_eq!(summary.passes, 2);
    assert!(seen
        .windows(2)
        .all(|w| w[0].done <= w[1].done && w[1].done <= w[1].total));
    // 8 chunks per pass (see progress_reaches_the_total).
    assert_eq!(seen.len(), 16);
    assert_eq!(
        seen[7],
        Progress {
            done: pass,
            total: pass
        }
    );
    assert_eq!(
        seen[15],
        Progress {
            done: 2 * pass,
            total: 2 * pass
        }
    );
}

// ---------------------------------------------------------------------------------------
// Kernel-written images

fn kernel_fixtures() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kernel/btt");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "ndsparse"));
    v.sort();
    v
}

/// The fixture's namespace: the JSON's `image_size` (the whole image is the namespace),
/// label-less (`parent_uuid` zero in every fixture), BTT 1.1 (its info block at 4096).
fn fixture_namespace(img: &Sparse) -> Namespace {
    namespace(img.size)
}

#[test]
fn kernel_written_images_are_clean() {
    let fixtures = kernel_fixtures();
    assert!(!fixtures.is_empty(), "no fixtures in tests/data/kernel/btt");
    for path in fixtures {
        let mut img = Sparse::load(&path);
        let ns = fixture_namespace(&img);
        let s = sizes(&mut img, &ns).unwrap();
        assert!(s.arenas >= 1, "{}", path.display());
        // The kernel's own discovery agrees on the arenas.
        let btt = Btt::open(&mut img, &ns).unwrap();
        assert_eq!(btt.arena_count, s.arenas, "{}", path.display());
        // One pass, and four windows per arena (more would re-read a 512 GiB arena's 512 MiB
        // map too often for a test).
        let quarter = s.bitmap_single_pass.div_ceil(4).max(s.bitmap_min());
        for (bitmap_len, io_len) in [(s.bitmap_single_pass, 64 * 1024), (quarter, 4096)] {
            let mut bitmap = vec![0u8; bitmap_len];
            let mut io = vec![0u8; io_len];
            let mut found = Vec::new();
            let summary = check(
                &mut img,
                &ns,
                Scratch {
                    bitmap: &mut bitmap,
                    io: &mut io,
                },
                |f| found.push(f),
                |_| {},
            )
            .unwrap();
            assert_eq!(found, vec![], "{}", path.display());
            assert_eq!(summary.arenas, s.arenas);
        }
        assert!(plan_repair(&mut img, &ns).unwrap().is_empty());
    }
}

#[test]
fn kernel_written_image_primary_repair() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kernel/btt/256M-4096.ndsparse");
    let good = ndsparse::load(&path);
    let ns = namespace(good.len() as u64);
    let mut img = good.clone();
    img[4096 + 70] ^= 4; // internal_nlba of the primary
    let plan = plan_repair(&mut &img[..], &ns).unwrap();
    assert_eq!(plan.len(), 1);
    apply(&plan, &mut &mut img[..]).unwrap();
    assert!(img == good);
}

// ---------------------------------------------------------------------------------------
// Random damage never panics and always ends.

fn base_images() -> &'static [Vec<u8>; 2] {
    static IMAGES: std::sync::OnceLock<[Vec<u8>; 2]> = std::sync::OnceLock::new();
    IMAGES.get_or_init(|| [small(), written()])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn random_damage_never_panics(
        which in 0usize..2,
        edits in proptest::collection::vec((0u8..5, any::<u32>(), any::<u32>()), 1..12),
        bitmap_len in prop_oneof![Just(511usize), Just(4096usize)],
    ) {
        let mut img = base_images()[which].clone();
        for (area, pos, value) in edits {
            // Aim at the metadata: info block, map, flog, backup, or anywhere.
            let at = match area {
                0 => INFO + u64::from(pos % 128),
                1 => MAP + u64::from(pos % (EXTERNAL_NLBA * 4)),
                2 => LOG + u64::from(pos % (NFREE * 64)),
                3 => INFO2 + u64::from(pos % 128),
                _ => u64::from(pos) % NS_SIZE,
            } & !3;
            if at + 4 <= NS_SIZE {
                put32(&mut img, at, value);
            }
        }
        let ns = namespace(NS_SIZE);
        let mut bitmap = vec![0u8; bitmap_len];
        let mut io = vec![0u8; 4096];
        let mut n = 0u64;
        let r = check(&mut &img[..], &ns, Scratch { bitmap: &mut bitmap, io: &mut io }, |_| n += 1, |_| {});
        match r {
            Ok(_) | Err(CheckError::BitmapTooSmall { .. }) | Err(CheckError::Io { .. }) => {}
            Err(e) => prop_assert!(false, "{e:?}"),
        }
        let plan = plan_repair(&mut &img[..], &ns);
        if let Ok(plan) = plan {
            let mut copy = img.clone();
            let _ = apply(&plan, &mut &mut copy[..]);
        }
    }
}

/// The BTTs the kernel made on labelled namespaces (`tests/data/kernel/labels/s7-btt2.*`,
/// the truth branch's label chain, Linux 6.1; see `tests/btt_kernel.rs`): `gamma` (64 MiB at
/// image offset 0x6000000) holds a v1.1 BTT whose parent_uuid is gamma's uuid; `epsilon`
/// (64 MiB at 0xc000000, claim class BTT2) a v2.0 BTT at byte 0 with epsilon's uuid.
#[test]
fn kernel_written_labelled_btts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kernel/labels");
    let mut image = Sparse::load(dir.join("s7-btt2.ndsparse"));
    let mib64 = 64usize << 20;
    let window = |image: &mut Sparse, base: u64| {
        let mut v = vec![0u8; mib64];
        image.read_at(base, &mut v).unwrap();
        v
    };
    let gamma_uuid: Uuid = "33333333-4444-4555-8666-777777777777".parse().unwrap();
    let epsilon_uuid: Uuid = "55555555-6666-4777-8888-999999999999".parse().unwrap();
    let gamma = window(&mut image, 0x600_0000);
    let epsilon = window(&mut image, 0xc00_0000);
    let ns_gamma = Namespace {
        size: mib64 as u64,
        uuid: gamma_uuid,
        version: BttVersion::V1_1,
    };
    let ns_eps = Namespace {
        size: mib64 as u64,
        uuid: epsilon_uuid,
        version: BttVersion::V2_0,
    };
    for (img, ns) in [(&gamma, &ns_gamma), (&epsilon, &ns_eps)] {
        let s = sizes(&mut &img[..], ns).unwrap();
        assert_eq!(s.arenas, 1);
        assert_eq!(run_with(img, ns, s.bitmap_single_pass, 64 * 1024).0, vec![]);
    }
    // Checked as a label-less namespace, gamma's parent_uuid matches neither copy: both
    // refused (nd_btt_arena_is_valid), nothing to repair from. The backup was looked for at
    // the arena's last page: rawsize 64 MiB - 4096, so 4096 + 67104768 - 4096 = 67104768.
    let (found, _) = run_with(&gamma, &Namespace::labelless(mib64 as u64), 4096, 4096);
    let mismatch = Invalid::ParentUuidMismatch {
        arena: 0,
        found: gamma_uuid,
        expected: Uuid::NIL,
    };
    assert_eq!(
        found,
        vec![
            Finding::InfoInvalid {
                arena: 0,
                copy: InfoCopy::Primary,
                offset: 4096,
                reason: mismatch
            },
            Finding::InfoUnrecoverable {
                arena: 0,
                primary: 4096,
                backup: Some(67_104_768)
            },
        ]
    );
    // epsilon's v2.0 primary at byte 0 damaged: restored from its backup at 67104768 (the last
    // page of the 64 MiB arena; btt_kernel.rs confirms info2off), byte for byte.
    let mut img = epsilon.clone();
    img[0] ^= 0x20; // the signature
    let plan = plan_repair(&mut &img[..], &ns_eps).unwrap();
    let w: Vec<_> = plan
        .writes()
        .map(|w| (w.target, w.offset, w.source))
        .collect();
    assert_eq!(w, vec![(InfoCopy::Primary, 0, 67_104_768)]);
    apply(&plan, &mut &mut img[..]).unwrap();
    assert!(img == epsilon);
}

/// Where a bad primary's backup is looked for, worked out from the kernel's `alloc_arena`
/// (an arena of min(remaining, ARENA_MAX_SIZE = 512 GiB) bytes, backup on its last page):
/// * 520 GiB label-less namespace, BTT 1.1: info at 4096, remaining 520 GiB - 4096; arena 0
///   is 512 GiB, backup at 4096 + 0x80_0000_0000 - 4096 = 0x80_0000_0000 (the kernel's
///   520G-4096 fixture has it there); a stored info2off equal to 0x7f_ffff_f000 names the
///   same place, so there is one candidate.
/// * 17 MiB - 100 bytes of room from 0: rounded down to a page, 17 MiB - 4096, backup at
///   17 MiB - 8192 = 0x10fe000; a stored info2off of 0x5000 is a second candidate at 0x5000;
///   one of 0x10ff000 would end at 0x10ff000 + 4096 = 17 MiB, past the room of 17 MiB - 100:
///   none; one below a page (0x800) overlaps the primary: none.
#[test]
fn backup_candidates_follow_alloc_arena() {
    let gib = 1u64 << 30;
    assert_eq!(
        backup_candidates(4096, 520 * gib - 4096, 0x7f_ffff_f000),
        [Some(0x80_0000_0000), None]
    );
    let room = (17 << 20) - 100;
    assert_eq!(
        backup_candidates(0, room, 0x5000),
        [Some(0x10f_e000), Some(0x5000)]
    );
    assert_eq!(
        backup_candidates(0, room, 0x10f_f000),
        [Some(0x10f_e000), None]
    );
    assert_eq!(backup_candidates(0, room, 0x800), [Some(0x10f_e000), None]);
    // No room for a primary and a backup page.
    assert_eq!(backup_candidates(0, 4096, 0), [None, None]);
}

// ---------------------------------------------------------------------------------------
// The block accounting against a model of the kernel's rules

/// The big image: 64 MiB + 4096 bytes, 512-byte sectors (worked out in
/// `multi_pass_finds_the_same`): internal_nlba 130000, external_nlba 129744; one pass needs
/// 16250 bytes of bitmap, 4096 bytes make four windows. Its map and flog offsets are read
/// from the info block (mapoff at byte 96, logoff at 104, arena-relative).
fn big() -> &'static (Vec<u8>, Geo) {
    static BIG: std::sync::OnceLock<(Vec<u8>, Geo)> = std::sync::OnceLock::new();
    BIG.get_or_init(|| {
        let img = fresh((64 << 20) + 4096, 512);
        let le64 = |at: usize| u64::from_le_bytes(img[at..at + 8].try_into().unwrap());
        let geo = Geo {
            map: INFO + le64(4096 + 96),
            log: INFO + le64(4096 + 104),
        };
        (img, geo)
    })
}

/// An arena's counts: (geometry, external_nlba, internal_nlba, nfree).
type Shape = (Geo, u32, u32, u32);

/// The post-map block of map entry `premap` by `btt_map_read`'s rule: the premap when
/// neither flag bit is set, else the low 30 bits.
fn postmap_of(img: &[u8], geo: &Geo, premap: u32) -> u32 {
    let raw = get32(img, geo.map_at(premap));
    if raw & 0xC000_0000 == 0 {
        premap
    } else {
        raw & 0x3FFF_FFFF
    }
}

/// The blocks referenced more than once (once per extra reference) and those referenced by
/// nothing, counted from the kernel's rules without the check: every map entry names its
/// post-map block (nothing when it is past internal_nlba); every lane names the `old_map`
/// of its newer entry (the one whose seq follows the other's, 1 -> 2 -> 3 -> 1; slot 0 when
/// slot 1 is unused), or its `new_map` when the map entry of its `lba` still names `old_map`
/// (btt_freelist_init completes that update, and the map entry keeps the old block).
fn model(img: &[u8], shape: &Shape) -> (Vec<u32>, Vec<u32>) {
    let (geo, external, internal, nfree) = *shape;
    let mut count = vec![0u32; internal as usize];
    for premap in 0..external {
        let b = postmap_of(img, &geo, premap);
        if b < internal {
            count[b as usize] += 1;
        }
    }
    for lane in 0..nfree {
        let seq = |slot| get32(img, geo.slot_at(lane, slot) + 12);
        let (s0, s1) = (seq(0), seq(1));
        let follows = |a: u32, b: u32| b == a % 3 + 1;
        let newer = if s1 == 0 || follows(s1, s0) {
            0
        } else {
            assert!(follows(s0, s1), "the generator keeps seq pairs valid");
            1
        };
        let at = geo.slot_at(lane, newer);
        let lba = get32(img, at);
        let old = get32(img, at + 4) & 0x3FFF_FFFF;
        let new = get32(img, at + 8) & 0x3FFF_FFFF;
        let owned = if old != new && postmap_of(img, &geo, lba) == old {
            new
        } else {
            old
        };
        count[owned as usize] += 1;
    }
    let mut twice = Vec::new();
    let mut lost = Vec::new();
    for (block, &c) in (0u32..).zip(&count) {
        if c == 0 {
            lost.push(block);
        }
        for _ in 1..c {
            twice.push(block);
        }
    }
    (twice, lost)
}

/// The check's accounting findings, in the model's form.
fn accounting(found: &[Finding]) -> (Vec<u32>, Vec<u32>) {
    let mut twice = Vec::new();
    let mut lost = Vec::new();
    for f in found {
        match *f {
            Finding::BlockReferencedTwice { block, .. } => twice.push(block),
            Finding::BlockUnreferenced { block, .. } => lost.push(block),
            _ => {}
        }
    }
    twice.sort_unstable();
    lost.sort_unstable();
    (twice, lost)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Kernel writes, then damage that keeps every flog lane readable (map entries pointed at
    /// other blocks, swapped, given flag bits or any value; a lane's free block moved): the
    /// blocks the check reports referenced twice or by nothing are the model's, in one pass
    /// and in windows (where a window can hold every bit clear and still see a block three
    /// times), through a 4 KiB and a 64 KiB I/O buffer.
    #[test]
    fn accounting_matches_the_model(
        which_big in any::<bool>(),
        writes in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..48),
        damage in proptest::collection::vec((0u8..7, any::<u32>(), any::<u32>()), 0..4),
        io_len in prop_oneof![Just(4096usize), Just(64 * 1024)],
    ) {
        let (mut img, shape, ns_size) = if which_big {
            let (img, geo) = big();
            (img.clone(), (*geo, 129_744, 130_000, NFREE), (64 << 20) + 4096)
        } else {
            (small(), (SMALL, EXTERNAL_NLBA, INTERNAL_NLBA, NFREE), NS_SIZE)
        };
        let (geo, external, internal, nfree) = shape;
        for (lane, premap) in writes {
            kernel_write_at(&mut img, &geo, lane % nfree, premap % external, false);
        }
        for (kind, a, b) in damage {
            let (pa, pb) = (a % external, b % external);
            match kind {
                // Another entry's block: that block twice, this entry's block lost.
                0 => {
                    let to = postmap_of(&img, &geo, pb);
                    put32(&mut img, geo.map_at(pa), normal(to));
                }
                // Two entries swap blocks: still every block once.
                1 => {
                    let (ba, bb) = (postmap_of(&img, &geo, pa), postmap_of(&img, &geo, pb));
                    put32(&mut img, geo.map_at(pa), normal(bb));
                    put32(&mut img, geo.map_at(pb), normal(ba));
                }
                // Any block in range.
                2 => put32(&mut img, geo.map_at(pa), normal(b % internal)),
                // Any value at all (out of range, no flag: identity, ...).
                3 => put32(&mut img, geo.map_at(pa), b),
                // The same block with the error or the zero flag alone.
                4 => {
                    let flag = if b % 2 == 0 { 0x4000_0000 } else { 0x8000_0000 };
                    let to = postmap_of(&img, &geo, pa);
                    put32(&mut img, geo.map_at(pa), to | flag);
                }
                // A lane's newer entry gets another free block.
                5 => {
                    let lane = a % nfree;
                    let (s0, s1) = (
                        get32(&img, geo.slot_at(lane, 0) + 12),
                        get32(&img, geo.slot_at(lane, 1) + 12),
                    );
                    let newer = u32::from(s1 != 0 && s1 == s0 % 3 + 1);
                    let at = geo.slot_at(lane, newer);
                    put32(&mut img, at + 4, b % internal);
                    put32(&mut img, at + 8, b % internal);
                }
                // Two entries on one never-written block (premap b): it is named three
                // times; in windows, by two entries of another window.
                _ => {
                    let x = pb;
                    put32(&mut img, geo.map_at(x), 0);
                    for p in [pa, (pa + 1) % external] {
                        if p != x {
                            put32(&mut img, geo.map_at(p), normal(x));
                        }
                    }
                }
            }
        }
        let want = model(&img, &shape);
        let ns = namespace(ns_size);
        let single = usize::try_from(internal.div_ceil(8)).unwrap();
        let mut bitmaps = vec![single];
        if single > 4096 {
            bitmaps.push(4096);
        }
        for bitmap_len in bitmaps {
            let (found, _) = run_with(&img, &ns, bitmap_len, io_len);
            prop_assert_eq!(accounting(&found), want.clone(), "bitmap {} bytes", bitmap_len);
        }
    }
}

/// In windows, two entries of window 0 on a never-written block of window 3 leave window 3
/// with every bit clear (the block flipped twice by them), but with two more references
/// than blocks: only the count tells. The block is then reported twice in one pass and in
/// four.
#[test]
fn a_block_named_three_times_from_another_window() {
    let (img, geo) = big();
    let mut img = img.clone();
    let ns = namespace((64 << 20) + 4096);
    put32(&mut img, geo.map_at(10), normal(100_000));
    put32(&mut img, geo.map_at(11), normal(100_000));
    let expect = (vec![100_000, 100_000], vec![10, 11]);
    let (one, s1) = run_with(&img, &ns, 16250, 64 * 1024);
    let (four, s4) = run_with(&img, &ns, 4096, 64 * 1024);
    assert_eq!(accounting(&one), expect);
    assert_eq!(accounting(&four), expect);
    // Window 0 (blocks 10, 11 lost) and window 3 go to the exact pass; 1 and 2 do not.
    assert_eq!((s1.passes, s4.passes), (2, 4 + 2));
}

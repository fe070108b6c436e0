//! The namespace label area against facts worked out by hand from the kernel source
//! (drivers/nvdimm/label.c, label.h, namespace_devs.c of Linux 6.1/6.12) and against what the
//! kernel-harness README reports the real kernel doing.

use nvdimm_infoblock::io::{ReadAt, WriteAt};
use nvdimm_infoblock::label::raw::{ClaimClass, Guid, NSLABEL_FLAG_UPDATING, PMEM_TYPE_GUID};
use nvdimm_infoblock::label::{
    self, best_seq, nd_inc_seq, nvdimm_num_label_slots, sizeof_namespace_index, AreaError,
    Geometry, IndexError, InitStyle, LabelArea, LabelVersion, Namespace, NewLabel, Plan, Region,
    RegionFailure, SlotError, UpdateError, WriteKind,
};
use nvdimm_infoblock::{nd_fletcher64, Uuid};

const K128: usize = 128 << 10;
/// The cookie the kernel-harness rig's kernel writes into labels (README, "Letting the
/// kernel write").
const RIG_COOKIE: u64 = 0x00ba_9012_0012_b4dc;

fn uuid(n: u8) -> Uuid {
    Uuid([n; 16])
}

fn fresh(version: LabelVersion, style: InitStyle) -> Vec<u8> {
    let mut area = vec![0u8; K128];
    label::init(area.len(), version, style)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    area
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Recomputes the checksum of the index at `off` (`size` bytes) with the public checksum:
/// the field at 64 taken as zero.
fn fix_index(area: &mut [u8], off: usize, size: usize) {
    area[off + 64..off + 72].fill(0);
    let sum = nd_fletcher64(&area[off..off + size]);
    area[off + 64..off + 72].copy_from_slice(&sum.to_le_bytes());
}

/// Puts `bytes` into `slot` and marks it used in both index blocks (a hand-made area).
fn plant(area: &mut [u8], version: LabelVersion, slot: u32, bytes: &[u8]) {
    let ls = version.label_size() as usize;
    let off = 512 + slot as usize * ls;
    area[off..off + ls].copy_from_slice(&bytes[..ls]);
    for idx in [0usize, 256] {
        area[idx + 72 + slot as usize / 8] &= !(1 << (slot % 8));
        fix_index(area, idx, 256);
    }
}

fn scan(area: &[u8], region: &Region) -> (Vec<Namespace>, label::Scan) {
    let parsed = LabelArea::parse(area).unwrap();
    let mut out = [Namespace::EMPTY; 32];
    let s = parsed.namespaces(region, &mut out);
    (out[..s.count].to_vec(), s)
}

fn rig() -> Region {
    Region {
        isetcookie: Some(RIG_COOKIE),
        ..Region::default()
    }
}

// ---------------------------------------------------------------------------------------
// Geometry: nvdimm_num_label_slots / sizeof_namespace_index worked out by hand.

/// 128 KiB = 131072 bytes.
/// 128-byte labels: tmp = 131072 / 128 = 1024 slots; index = ALIGN(72 + 1024/8, 256) =
/// ALIGN(200, 256) = 256; nslot = (131072 - 2*256) / 128 = 130560 / 128 = 1020.
/// space = 131072 - 1020*128 = 512 >= 2*ALIGN(72 + 128, 256) = 512: index size 256.
/// 256-byte labels: tmp = 512; index = ALIGN(72 + 64, 256) = 256; nslot = 130560 / 256 = 510.
/// These are the README's facts: "510 slots in 128 KiB" (v1.2) and "1020 slots" (v1.1).
#[test]
fn geometry_of_128k_matches_the_kernel_counts() {
    assert_eq!(nvdimm_num_label_slots(131_072, 128), 1020);
    assert_eq!(nvdimm_num_label_slots(131_072, 256), 510);
    assert_eq!(sizeof_namespace_index(131_072, 128), Some(256));
    assert_eq!(sizeof_namespace_index(131_072, 256), Some(256));
    let g = Geometry::new(131_072, LabelVersion::V1_2).unwrap();
    assert_eq!((g.index_size, g.nslot, g.labeloff()), (256, 510, 512));
    // Slot 509 ends at 512 + 510*256 = 131072: the area is full to the byte.
    assert_eq!(g.slot_offset(509) + 256, 131_072);
}

/// 256 KiB = 262144. 128-byte: tmp = 2048; index = ALIGN(72 + 256, 256) = 512;
/// nslot = (262144 - 1024) / 128 = 2040; space = 262144 - 261120 = 1024 >=
/// 2*ALIGN(72 + 255, 256) = 1024 -> 512. 256-byte: tmp = 1024; index = ALIGN(200, 256) = 256;
/// nslot = (262144 - 512) / 256 = 1022 -> 256.
/// 1024 bytes (ND_LABEL_MIN_SIZE): 128-byte: tmp = 8, index 256, nslot = 512/128 = 4;
/// 256-byte: nslot = 512/256 = 2 (>= 2, accepted).
/// 767 bytes: 128-byte: tmp = 5, index 256, nslot = (767-512)/128 = 1 < 2: too small.
#[test]
fn geometry_of_other_sizes() {
    assert_eq!(nvdimm_num_label_slots(262_144, 128), 2040);
    assert_eq!(sizeof_namespace_index(262_144, 128), Some(512));
    assert_eq!(nvdimm_num_label_slots(262_144, 256), 1022);
    assert_eq!(sizeof_namespace_index(262_144, 256), Some(256));
    assert_eq!(nvdimm_num_label_slots(1024, 128), 4);
    assert_eq!(nvdimm_num_label_slots(1024, 256), 2);
    assert_eq!(sizeof_namespace_index(1024, 256), Some(256));
    assert_eq!(nvdimm_num_label_slots(767, 128), 1);
    assert_eq!(sizeof_namespace_index(767, 128), None);
}

/// The kernel's arithmetic wraps for a 300-byte area, reproduced on purpose:
/// nvdimm_num_label_slots: 300 - 2*256 in u64 = 2^64 - 212; / 128 = 2^57 - 2 (floor);
/// truncated to 32 bits = 0xfffffffe. sizeof_namespace_index: DIV_ROUND_UP(0xfffffffe, 8)
/// wraps in u32 to (0xfffffffe + 7) mod 2^32 / 8 = 5 / 8 = 0 -> ALIGN(72, 256) = 256; space =
/// 300 - 0xfffffffe*128 (mod 2^32) = 300 - (2^32 - 256) = 556 >= 512: index size 256, which
/// does not fit in 300 bytes. The reader then finds no index (nothing to read there).
#[test]
fn tiny_area_reproduces_the_kernel_wrap_and_is_label_less() {
    assert_eq!(nvdimm_num_label_slots(300, 128), 0xffff_fffe);
    assert_eq!(sizeof_namespace_index(300, 128), Some(256));
    let area = [0u8; 300];
    let err = LabelArea::parse(&area).unwrap_err();
    let AreaError::NoValidIndex { v1_1, .. } = err else {
        panic!("{err:?}")
    };
    // Index 0 (bytes 0..256) is there and all zero; index 1 (256..512) is past the end.
    assert_eq!(v1_1[0], IndexError::Signature { found: [0; 16] });
    assert!(matches!(
        v1_1[1],
        IndexError::AreaTooSmall {
            config_size: 300,
            ..
        }
    ));
    assert!(label::init(300, LabelVersion::V1_1, InitStyle::Kernel).is_err());
}

/// nd_inc_seq: { 0, 2, 3, 1 }[seq & 3]. best_seq(a, b) by the rules of label.c:
/// a = 0 or a == b -> b; b = 0 -> a; inc(a) == b -> b; else a.
#[test]
fn sequence_rules() {
    assert_eq!([0, 1, 2, 3].map(nd_inc_seq), [0, 2, 3, 1]);
    assert_eq!(nd_inc_seq(7), 1); // 7 & 3 = 3
    let table = [
        ((3, 2), 3), // the init pair: index 0 is current
        ((3, 3), 3),
        ((1, 3), 1), // 3 -> 1 wraps: 1 is newer
        ((3, 1), 1),
        ((1, 2), 2),
        ((2, 1), 2), // inc(2) = 3 != 1: a
        ((0, 2), 2),
        ((2, 0), 2),
        ((4, 5), 1), // only the low bits: 0 and 1
    ];
    for ((a, b), want) in table {
        assert_eq!(best_seq(a, b), want, "best_seq({a}, {b})");
    }
}

// ---------------------------------------------------------------------------------------
// init: the bytes, field by field.

/// The kernel's init pair for 128 KiB of v1.2 labels (nd_label_write_index with
/// ND_NSINDEX_INIT; ndctl writes the same apart from the bitmap tail):
/// index i at 256*i: "NAMESPACE_INDEX\0", flags 0, labelsize 256>>8 = 1, seq 3 - i,
/// myoff 256*i, mysize 256, otheroff 256*(1-i), labeloff 512, nslot 510, major 1, minor 2;
/// free: 510 bits set = 63 bytes of 0xff (504 bits) then 0x3f (6 bits) at byte 72+63 = 135.
/// ndctl sets ALIGN(510, 64) = 512 bits: 64 bytes of 0xff (72..136).
#[test]
fn init_writes_the_kernel_and_ndctl_index_pair() {
    for style in [InitStyle::Kernel, InitStyle::Ndctl] {
        let area = fresh(LabelVersion::V1_2, style);
        for i in 0..2usize {
            let b = &area[256 * i..256 * (i + 1)];
            let mut want = vec![0u8; 256];
            want[..16].copy_from_slice(b"NAMESPACE_INDEX\0");
            want[19] = 1;
            want[20..24].copy_from_slice(&(3 - i as u32).to_le_bytes());
            want[24..32].copy_from_slice(&(256 * i as u64).to_le_bytes());
            want[32..40].copy_from_slice(&256u64.to_le_bytes());
            want[40..48].copy_from_slice(&(256 * (1 - i) as u64).to_le_bytes());
            want[48..56].copy_from_slice(&512u64.to_le_bytes());
            want[56..60].copy_from_slice(&510u32.to_le_bytes());
            want[60..62].copy_from_slice(&1u16.to_le_bytes());
            want[62..64].copy_from_slice(&2u16.to_le_bytes());
            want[72..135].fill(0xff);
            want[135] = match style {
                InitStyle::Kernel => 0x3f,
                InitStyle::Ndctl => 0xff,
            };
            let sum = nd_fletcher64(&want);
            want[64..72].copy_from_slice(&sum.to_le_bytes());
            assert_eq!(b, &want[..], "index {i} {style:?}");
        }
        // Only the two index blocks are written.
        assert!(area[512..].iter().all(|&x| x == 0));
        let parsed = LabelArea::parse(&area).unwrap();
        assert_eq!(parsed.current(), 0);
        assert_eq!(parsed.version(), LabelVersion::V1_2);
        assert_eq!(parsed.nfree(), 510);
        assert_eq!(parsed.slots().count(), 0);
    }
}

/// v1.1, 128 KiB: nslot 1020 = 127 bytes 0xff (1016 bits) + 0x0f (4 bits) at byte 199;
/// labelsize byte 128>>8 = 0; minor 1. ndctl: ALIGN(1020, 64) = 1024 bits = 128 bytes 0xff.
#[test]
fn init_v1_1_bitmap_and_version() {
    let k = fresh(LabelVersion::V1_1, InitStyle::Kernel);
    let n = fresh(LabelVersion::V1_1, InitStyle::Ndctl);
    assert_eq!(k[19], 0);
    assert_eq!(le32(&k, 56), 1020);
    assert_eq!(u16::from_le_bytes([k[62], k[63]]), 1);
    assert!(k[72..199].iter().all(|&x| x == 0xff));
    assert_eq!((k[199], n[199]), (0x0f, 0xff));
    assert_eq!(k[200..256], [0u8; 56]);
    let parsed = LabelArea::parse(&k).unwrap();
    assert_eq!(parsed.version(), LabelVersion::V1_1);
    assert_eq!(parsed.nfree(), 1020);
    // ndctl's extra bits past nslot are not slots: still 1020 free.
    assert_eq!(LabelArea::parse(&n).unwrap().nfree(), 1020);
}

// ---------------------------------------------------------------------------------------
// Reading: the kernel's probe and validation.

/// README: "with 128-byte labels in 128 KiB the kernel counts 1020 slots, and an index that
/// claims 1022 makes it treat the DIMM as label-less". 1022*128 + 2*256 = 131328 > 131072.
/// With 256-byte labels the v1.1 index fails on its version instead (v1.1 means 128).
#[test]
fn index_claiming_1022_slots_of_128_bytes_is_label_less() {
    let mut area = fresh(LabelVersion::V1_1, InitStyle::Ndctl);
    for idx in [0usize, 256] {
        area[idx + 56..idx + 60].copy_from_slice(&1022u32.to_le_bytes());
        fix_index(&mut area, idx, 256);
    }
    let err = LabelArea::parse(&area).unwrap_err();
    assert_eq!(
        err,
        AreaError::NoValidIndex {
            v1_1: [IndexError::Nslot {
                nslot: 1022,
                max: 1020
            }; 2],
            v1_2: [IndexError::LabelSize {
                version: 101,
                labelsize: 0,
                claimed: 128,
                probed: 256
            }; 2],
        }
    );
    // 1020 itself is accepted.
    for idx in [0usize, 256] {
        area[idx + 56..idx + 60].copy_from_slice(&1020u32.to_le_bytes());
        fix_index(&mut area, idx, 256);
    }
    assert!(LabelArea::parse(&area).is_ok());
}

/// __nd_label_validate's checks, one at a time, on index 0 of a v1.2 init area (index 1
/// stays valid, so the area is read through index 1 and the failure is reported).
#[test]
fn each_index_check_in_kernel_order() {
    let base = fresh(LabelVersion::V1_2, InitStyle::Kernel);
    type Edit = fn(&mut [u8]);
    let cases: [(Edit, IndexError); 9] = [
        (
            |b| b[15] = b'X',
            IndexError::Signature {
                found: *b"NAMESPACE_INDEXX",
            },
        ),
        (
            |b| b[19] = 2, // 1 << (7 + 2) = 512
            IndexError::LabelSize {
                version: 102,
                labelsize: 2,
                claimed: 512,
                probed: 256,
            },
        ),
        (
            |b| b[20..24].copy_from_slice(&4u32.to_le_bytes()),
            IndexError::Sequence { seq: 4 },
        ),
        (
            |b| b[24] = 8,
            IndexError::Myoff {
                found: 8,
                expected: 0,
            },
        ),
        (
            |b| b[40..48].copy_from_slice(&0u64.to_le_bytes()),
            IndexError::Otheroff {
                found: 0,
                expected: 256,
            },
        ),
        (
            |b| b[48..50].copy_from_slice(&0x201u16.to_le_bytes()),
            IndexError::Labeloff {
                found: 0x201,
                expected: 512,
            },
        ),
        (
            |b| b[32..40].copy_from_slice(&71u64.to_le_bytes()),
            IndexError::Mysize {
                found: 71,
                max: 256,
            },
        ),
        (
            |b| b[32..40].copy_from_slice(&257u64.to_le_bytes()),
            IndexError::Mysize {
                found: 257,
                max: 256,
            },
        ),
        (
            |b| b[56..60].copy_from_slice(&511u32.to_le_bytes()),
            IndexError::Nslot {
                nslot: 511,
                max: 510,
            },
        ),
    ];
    for (edit, want) in cases {
        let mut area = base.clone();
        edit(&mut area[..256]);
        fix_index(&mut area, 0, 256);
        let parsed = LabelArea::parse(&area).unwrap();
        assert_eq!(parsed.current(), 1);
        assert_eq!(parsed.index_status(0), Err(want));
        let (_, s) = scan(&area, &rig());
        assert_eq!(s.findings.bad_index, Some((0, want)));
    }
    // A checksum that is off by one.
    let mut area = base.clone();
    area[64] ^= 1;
    let stored = le64(&area, 64);
    let parsed = LabelArea::parse(&area).unwrap();
    assert_eq!(
        parsed.index_status(0),
        Err(IndexError::Checksum {
            stored,
            computed: stored ^ 1
        })
    );
}

/// The kernel's `1 << (7 + labelsize)` is an int shift; x86 masks the count to 5 bits, so
/// labelsize 33 gives 1 << (40 & 31) = 1 << 8 = 256 and the index passes as v1.2.
/// And nslot * 256 is a u32 product: nslot = 0x0100_0000 gives 2^32 -> 0, so the kernel
/// accepts the index; this reader refuses it with its own error.
#[test]
fn kernel_wraps_in_label_size_and_nslot() {
    let mut area = fresh(LabelVersion::V1_2, InitStyle::Kernel);
    area[19] = 33;
    fix_index(&mut area, 0, 256);
    assert!(LabelArea::parse(&area).unwrap().index_status(0).is_ok());

    let mut area = fresh(LabelVersion::V1_2, InitStyle::Kernel);
    area[56..60].copy_from_slice(&0x0100_0000u32.to_le_bytes());
    fix_index(&mut area, 0, 256);
    assert_eq!(
        LabelArea::parse(&area).unwrap().index_status(0),
        Err(IndexError::NslotWraps {
            nslot: 0x0100_0000,
            max: 510
        })
    );
}

/// Both indexes valid: the one best_seq picks. Index 0 seq 1, index 1 seq 3: best_seq(1, 3)
/// = 1 (inc(1) = 2 != 3) -> index 0. Index 0 seq 2, index 1 seq 3: inc(2) = 3 -> index 1.
#[test]
fn current_index_follows_best_seq() {
    for ((s0, s1), want) in [((1u32, 3u32), 0u8), ((2, 3), 1), ((3, 3), 1), ((3, 2), 0)] {
        let mut area = fresh(LabelVersion::V1_2, InitStyle::Kernel);
        area[20..24].copy_from_slice(&s0.to_le_bytes());
        area[256 + 20..256 + 24].copy_from_slice(&s1.to_le_bytes());
        fix_index(&mut area, 0, 256);
        fix_index(&mut area, 256, 256);
        assert_eq!(
            LabelArea::parse(&area).unwrap().current(),
            want,
            "{s0} {s1}"
        );
    }
}

#[test]
fn zeroed_and_truncated_areas_are_label_less() {
    assert!(matches!(
        LabelArea::parse(&vec![0u8; K128]),
        Err(AreaError::NoValidIndex { .. })
    ));
    let area = fresh(LabelVersion::V1_2, InitStyle::Kernel);
    // A truncated dump: the geometry of 100 KiB puts index 1 elsewhere, nothing validates.
    assert!(LabelArea::parse(&area[..100 << 10]).is_err());
    assert!(LabelArea::parse(&area[..100]).is_err());
    assert!(LabelArea::parse(&[]).is_err());
}

// ---------------------------------------------------------------------------------------
// Labels: layout, slot_valid, what the kernel enumerates.

/// A v1.2 label as __pmem_label_update fills it, checked at the offsets of label.h:
/// uuid 0, name 16, flags 80, nlabel 84, position 86, isetcookie 88, lbasize 96, dpa 104,
/// rawsize 112, slot 120, type_guid 128, abstraction_guid 144, checksum 248.
#[test]
fn label_bytes_at_the_kernel_offsets() {
    let mut new = NewLabel::new(uuid(0x42), "ns-a", 0x100_0000, 0x4000_0000, RIG_COOKIE).unwrap();
    new.claim_class = ClaimClass::Pfn;
    new.lbasize = 4096;
    let b = new.to_bytes(LabelVersion::V1_2, 7, NSLABEL_FLAG_UPDATING);
    assert_eq!(b[..16], [0x42; 16]);
    assert_eq!(&b[16..21], b"ns-a\0");
    assert_eq!(le32(&b, 80), 8);
    assert_eq!(u16::from_le_bytes([b[84], b[85]]), 1);
    assert_eq!(u16::from_le_bytes([b[86], b[87]]), 0);
    assert_eq!(le64(&b, 88), RIG_COOKIE);
    assert_eq!(le64(&b, 96), 4096);
    assert_eq!(le64(&b, 104), 0x100_0000);
    assert_eq!(le64(&b, 112), 0x4000_0000);
    assert_eq!(le32(&b, 120), 7);
    // type_guid: 66f0d379-b4f3-4074-ac43-0d3318b78cdb in guid_t order (first three groups
    // little-endian): 79 d3 f0 66, f3 b4, 74 40, then ac 43 0d 33 18 b7 8c db.
    assert_eq!(
        b[128..144],
        [
            0x79, 0xd3, 0xf0, 0x66, 0xf3, 0xb4, 0x74, 0x40, 0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7,
            0x8c, 0xdb
        ]
    );
    // abstraction_guid: NVDIMM_PFN_GUID 266400ba-fb9f-4677-bcb0-968f11d0d225 -> ba 00 64 26,
    // 9f fb, 77 46, b0 bc... no: bytes 8.. are in string order: bc b0 96 8f 11 d0 d2 25.
    assert_eq!(
        b[144..160],
        [
            0xba, 0x00, 0x64, 0x26, 0x9f, 0xfb, 0x77, 0x46, 0xbc, 0xb0, 0x96, 0x8f, 0x11, 0xd0,
            0xd2, 0x25
        ]
    );
    assert!(b[124..128].iter().chain(&b[160..248]).all(|&x| x == 0));
    let mut z = b;
    z[248..].fill(0);
    assert_eq!(le64(&b, 248), nd_fletcher64(&z));
    // v1.1: the first 128 bytes only, no GUIDs or checksum.
    let v11 = new.to_bytes(LabelVersion::V1_1, 7, 0);
    assert_eq!(
        v11[..120],
        {
            let mut w = b;
            w[80..84].fill(0);
            w
        }[..120]
    );
    assert!(v11[124..].iter().all(|&x| x == 0));
}

/// The claim-class GUIDs of label.h, each turned to guid_t byte order by hand (first group
/// 4 bytes reversed, next two groups 2 bytes reversed, the rest as written).
#[test]
fn claim_class_guids_in_guid_t_order() {
    let cases = [
        (
            "8aed63a2-29a2-4c66-8b12-f05d15d3922a",
            [0xa2, 0x63, 0xed, 0x8a, 0xa2, 0x29, 0x66, 0x4c],
            ClaimClass::Btt,
        ),
        (
            "18633bfc-1735-4217-8ac9-17239282d3f8",
            [0xfc, 0x3b, 0x63, 0x18, 0x35, 0x17, 0x17, 0x42],
            ClaimClass::Btt2,
        ),
        (
            "266400ba-fb9f-4677-bcb0-968f11d0d225",
            [0xba, 0x00, 0x64, 0x26, 0x9f, 0xfb, 0x77, 0x46],
            ClaimClass::Pfn,
        ),
        (
            "97a86d9c-3cdd-4eda-986f-5068b4f80088",
            [0x9c, 0x6d, 0xa8, 0x97, 0xdd, 0x3c, 0xda, 0x4e],
            ClaimClass::Dax,
        ),
    ];
    for (text, head, class) in cases {
        let g = class.guid();
        assert_eq!(g.0[..8], head, "{text}");
        assert_eq!(g.to_string(), text);
        assert_eq!(Guid::from_string_order(text.parse().unwrap()), g);
        assert_eq!(ClaimClass::from_guid(g), class);
    }
    assert_eq!(ClaimClass::from_guid(Guid::NULL), ClaimClass::None);
    let other = Guid([1; 16]);
    assert_eq!(ClaimClass::from_guid(other), ClaimClass::Unknown(other));
    assert_eq!(
        PMEM_TYPE_GUID.to_string(),
        "66f0d379-b4f3-4074-ac43-0d3318b78cdb"
    );
}

/// The kernel's namespace creation on an initialised area it read at boot, traced through
/// label.c (nd_label_data_init, nd_pmem_namespace_label_update, __pmem_label_update,
/// nd_label_write_index):
/// read: index 0 seq 3 and index 1 seq 2; best_seq(3, 2) = 3 (inc(3) = 1 != 2), so index 0
///   is current and the in-memory next index (1) is a copy of it (seq 3, all free).
/// pass 1 (flags UPDATING): nd_label_alloc_slot takes the lowest free bit, slot 0; the label
///   is written, then index 1 with seq nd_inc_seq(3) = 1 and slot 0 used. best_seq(3, 1):
///   inc(3) = 1 -> index 1 is current; index 0's memory becomes a copy of index 1.
/// pass 2 (flags 0): slot 1 (slot 0 is used in the copy); the pass-1 label (same uuid) is
///   reaped (slot 0 freed); index 0 is written with seq inc(1) = 2 and only slot 1 used.
///   best_seq(2, 1): inc(2) = 3 != 1 -> index 0 current.
/// (When the kernel itself initialises a label-less DIMM, init_labels leaves index 1's
/// memory at seq 2, so the same two passes write seq 3 and then 1.)
#[test]
fn add_follows_the_kernels_two_passes() {
    let mut area = fresh(LabelVersion::V1_2, InitStyle::Kernel);
    let new = NewLabel::new(uuid(1), "first", 0, 1 << 30, RIG_COOKIE).unwrap();
    let plan = label::add(&LabelArea::parse(&area).unwrap(), &new).unwrap();
    let writes: Vec<_> = plan.writes().map(|w| (w.offset, w.len, w.what)).collect();
    assert_eq!(
        writes,
        [
            (512, 256, WriteKind::Label { slot: 0 }),
            (
                256,
                256,
                WriteKind::Index {
                    position: 1,
                    seq: 1
                }
            ),
            (768, 256, WriteKind::Label { slot: 1 }),
            (
                0,
                256,
                WriteKind::Index {
                    position: 0,
                    seq: 2
                }
            ),
        ]
    );
    plan.apply_in_place(&mut area).unwrap();
    assert_eq!(le32(&area, 20), 2);
    assert_eq!(le32(&area, 256 + 20), 1);
    // Free bitmaps: index 0 has slot 1 used (byte 72 = 0xfd), index 1 slot 0 (0xfe).
    assert_eq!((area[72], area[256 + 72]), (0xfd, 0xfe));
    assert_eq!(le32(&area, 512 + 80), NSLABEL_FLAG_UPDATING);
    assert_eq!(le32(&area, 768 + 80), 0);
    let parsed = LabelArea::parse(&area).unwrap();
    assert_eq!(parsed.current(), 0);
    let (ns, s) = scan(&area, &rig());
    assert_eq!(s.failure, None);
    assert_eq!(ns.len(), 1);
    assert_eq!(
        (ns[0].slot, ns[0].uuid, ns[0].name_str(), ns[0].rawsize),
        (1, uuid(1), Some("first"), 1 << 30)
    );
    assert_eq!(ns[0].claim_class, ClaimClass::None);
    assert_eq!(s.findings, label::Findings::default());

    // A second namespace goes to slots 0 (UPDATING, reusing the freed slot) then 2.
    let second = NewLabel::new(uuid(2), "second", 1 << 30, 1 << 30, RIG_COOKIE).unwrap();
    let plan = label::add(&LabelArea::parse(&area).unwrap(), &second).unwrap();
    let slots: Vec<_> = plan
        .writes()
        .filter_map(|w| match w.what {
            WriteKind::Label { slot } => Some(slot),
            WriteKind::Index { .. } => None,
        })
        .collect();
    assert_eq!(slots, [0, 2]);
    plan.apply_in_place(&mut area).unwrap();
    let (ns, _) = scan(&area, &rig());
    let got: Vec<_> = ns.iter().map(|n| (n.slot, n.uuid)).collect();
    assert_eq!(got, [(1, uuid(1)), (2, uuid(2))]);
    // Overlapping the first namespace is refused (nd_label_reserve_dpa would fail).
    let clash = NewLabel::new(uuid(3), "", (1 << 30) - 4096, 8192, RIG_COOKIE).unwrap();
    assert_eq!(
        label::add(&LabelArea::parse(&area).unwrap(), &clash).unwrap_err(),
        UpdateError::DpaOverlap {
            slot: 1,
            uuid: uuid(1)
        }
    );
    assert_eq!(
        label::add(&LabelArea::parse(&area).unwrap(), &second).unwrap_err(),
        UpdateError::AlreadyExists { uuid: uuid(2) }
    );
}

#[test]
fn update_and_remove() {
    let mut area = fresh(LabelVersion::V1_1, InitStyle::Ndctl);
    let mut new = NewLabel::new(uuid(9), "old", 0, 1 << 24, RIG_COOKIE).unwrap();
    label::add(&LabelArea::parse(&area).unwrap(), &new)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    new.name = *b"renamed\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    new.rawsize = 1 << 25;
    label::update(&LabelArea::parse(&area).unwrap(), &new)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    let (ns, s) = scan(&area, &rig());
    assert_eq!(s.failure, None);
    assert_eq!(ns.len(), 1);
    assert_eq!(
        (ns[0].name_str(), ns[0].rawsize),
        (Some("renamed"), 1 << 25)
    );
    assert_eq!(LabelArea::parse(&area).unwrap().slots().count(), 1);

    // ndctl read-labels lists every slot whose label names it, free or not. By hand: the
    // add wrote slot 0 (UPDATING) and slot 1 (final, slot 0 freed); the update's first pass
    // takes the lowest free slot, 0 again (UPDATING, slot 1 freed), its second pass slot 1
    // (final, slot 0 freed). Slots 0 and 1 hold labels; only slot 1 is in use.
    let parsed = LabelArea::parse(&area).unwrap();
    let raw: Vec<(u32, u32)> = parsed.raw_slots().map(|(s, l)| (s, l.flags)).collect();
    assert_eq!(raw, [(0, NSLABEL_FLAG_UPDATING), (1, 0)]);
    assert_eq!(parsed.slots().map(|(s, _)| s).collect::<Vec<_>>(), [1]);
    let before = LabelArea::parse(&area).unwrap().current_info().seq;
    let plan = label::remove(&LabelArea::parse(&area).unwrap(), uuid(9)).unwrap();
    assert_eq!(plan.writes().count(), 1);
    plan.apply_in_place(&mut area).unwrap();
    let parsed = LabelArea::parse(&area).unwrap();
    assert_eq!(parsed.current_info().seq, nd_inc_seq(before));
    assert_eq!(parsed.nfree(), 1020);
    assert_eq!(scan(&area, &rig()).0.len(), 0);
    assert_eq!(
        label::remove(&parsed, uuid(9)).unwrap_err(),
        UpdateError::NotFound { uuid: uuid(9) }
    );
}

#[test]
fn enumeration_rules() {
    let v = LabelVersion::V1_2;
    let lab = |n: u8, slot: u32, dpa: u64, cookie: u64| {
        NewLabel::new(uuid(n), "x", dpa, 1 << 20, cookie)
            .unwrap()
            .to_bytes(v, slot, 0)
    };
    // Cookie: a label with another cookie is skipped (-EAGAIN); None accepts any.
    let mut area = fresh(v, InitStyle::Kernel);
    plant(&mut area, v, 0, &lab(1, 0, 0, RIG_COOKIE));
    plant(&mut area, v, 1, &lab(2, 1, 1 << 20, 0x1234));
    let (ns, s) = scan(&area, &rig());
    assert_eq!(ns.iter().map(|n| n.uuid).collect::<Vec<_>>(), [uuid(1)]);
    assert_eq!(s.findings.cookie_mismatch, 1);
    assert_eq!(scan(&area, &Region::default()).0.len(), 2);
    // ... unless it matches the altcookie.
    let alt = Region {
        altcookie: Some(0x1234),
        ..rig()
    };
    assert_eq!(scan(&area, &alt).0.len(), 2);
    // A zero region cookie fails the region.
    let zero = Region {
        isetcookie: Some(0),
        ..Region::default()
    };
    assert_eq!(scan(&area, &zero).1.failure, Some(RegionFailure::NoCookie));

    // A bad label checksum: skipped by slot_valid, counted.
    let mut bad = lab(3, 2, 2 << 20, RIG_COOKIE);
    bad[100] ^= 0xff;
    plant(&mut area, v, 2, &bad);
    // A label naming another slot: skipped.
    plant(&mut area, v, 3, &lab(4, 9, 3 << 20, RIG_COOKIE));
    let (ns, s) = scan(&area, &rig());
    assert_eq!(ns.len(), 1);
    assert_eq!((s.findings.bad_checksum, s.findings.slot_mismatch), (1, 1));
    let parsed = LabelArea::parse(&area).unwrap();
    assert!(matches!(
        parsed.read_slot(2),
        Err(SlotError::Checksum { .. })
    ));
    assert_eq!(parsed.read_slot(3), Err(SlotError::Slot { stored: 9 }));

    // Duplicate uuid with the region's cookie: has_uuid_at_pos stops at the first good
    // label, the namespace is made, then the second label's uuid is already taken
    // (add_namespace_resource: "conflicting extents") and the whole region fails.
    let mut area = fresh(v, InitStyle::Kernel);
    plant(&mut area, v, 0, &lab(1, 0, 0, RIG_COOKIE));
    plant(&mut area, v, 1, &lab(1, 1, 1 << 20, RIG_COOKIE));
    let (ns, s) = scan(&area, &rig());
    assert!(ns.is_empty());
    assert_eq!(
        s.failure,
        Some(RegionFailure::ConflictingExtents { uuid: uuid(1) })
    );
    assert_eq!(s.findings.duplicate_uuid, 1);
    // When the first label of the uuid is not usable (nlabel 2), has_uuid_at_pos has
    // already counted it when it meets the second: "duplicate entry", missing label.
    let mut area = fresh(v, InitStyle::Kernel);
    let mut first = NewLabel::new(uuid(1), "x", 0, 1 << 20, RIG_COOKIE).unwrap();
    first.nlabel = 2;
    plant(&mut area, v, 0, &first.to_bytes(v, 0, 0));
    plant(&mut area, v, 1, &lab(1, 1, 1 << 20, RIG_COOKIE));
    let (ns, s) = scan(&area, &rig());
    assert!(ns.is_empty());
    assert_eq!(
        s.failure,
        Some(RegionFailure::MissingLabel { uuid: uuid(1) })
    );

    // Overlapping DPA ranges: nd_label_reserve_dpa fails the DIMM.
    let mut area = fresh(v, InitStyle::Kernel);
    plant(&mut area, v, 0, &lab(1, 0, 0, RIG_COOKIE));
    plant(&mut area, v, 1, &lab(2, 1, 1 << 19, RIG_COOKIE));
    assert_eq!(
        scan(&area, &rig()).1.failure,
        Some(RegionFailure::DpaConflict { slot: 1 })
    );

    // DIMM range (start 0, 2 MiB): dpa 3 MiB is outside (skipped); a label starting inside
    // and ending past the end fails select_pmem_id.
    let dimm = Region {
        dpa_range: Some((0, 2 << 20)),
        ..rig()
    };
    let mut area = fresh(v, InitStyle::Kernel);
    plant(&mut area, v, 0, &lab(1, 0, 0, RIG_COOKIE));
    plant(&mut area, v, 1, &lab(2, 1, 3 << 20, RIG_COOKIE));
    let (ns, s) = scan(&area, &dimm);
    assert_eq!((ns.len(), s.findings.outside_dimm), (1, 1));
    plant(&mut area, v, 2, &lab(3, 2, (2 << 20) - 4096, RIG_COOKIE));
    assert_eq!(
        scan(&area, &dimm).1.failure,
        Some(RegionFailure::InvalidRange { uuid: uuid(3) })
    );

    // Interleaved label (nlabel 2) on a one-DIMM region: missing label.
    let mut area = fresh(v, InitStyle::Kernel);
    let mut two = NewLabel::new(uuid(5), "", 0, 1 << 20, RIG_COOKIE).unwrap();
    two.nlabel = 2;
    plant(&mut area, v, 0, &two.to_bytes(v, 0, 0));
    let (_, s) = scan(&area, &rig());
    assert_eq!(
        s.failure,
        Some(RegionFailure::MissingLabel { uuid: uuid(5) })
    );
    assert_eq!(s.findings.interleaved, 1);

    // type_guid must be the region's for v1.2 labels.
    let mut area = fresh(v, InitStyle::Kernel);
    plant(&mut area, v, 0, &lab(1, 0, 0, RIG_COOKIE));
    let other = Region {
        type_guid: Some(Guid([7; 16])),
        ..rig()
    };
    assert_eq!(
        scan(&area, &other).1.failure,
        Some(RegionFailure::MissingLabel { uuid: uuid(1) })
    );
    let pmem = Region {
        type_guid: Some(PMEM_TYPE_GUID),
        ..rig()
    };
    assert_eq!(scan(&area, &pmem).0.len(), 1);

    // Output full.
    let parsed = LabelArea::parse(&area).unwrap();
    assert_eq!(
        parsed.namespaces(&rig(), &mut []).failure,
        Some(RegionFailure::OutputFull { capacity: 0 })
    );
}

// ---------------------------------------------------------------------------------------
// Crash safety: cut the power after every 8-byte store of a plan.

/// A device that stores 8 bytes at a time and loses power after `budget` stores.
struct Torn<'a> {
    mem: &'a mut [u8],
    budget: usize,
}

#[derive(Debug)]
struct PowerCut;

impl ReadAt for Torn<'_> {
    type Error = PowerCut;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), PowerCut> {
        let o = offset as usize;
        buf.copy_from_slice(&self.mem[o..o + buf.len()]);
        Ok(())
    }
}

impl WriteAt for Torn<'_> {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), PowerCut> {
        for (i, chunk) in buf.chunks(8).enumerate() {
            if self.budget == 0 {
                return Err(PowerCut);
            }
            self.budget -= 1;
            let o = offset as usize + i * 8;
            self.mem[o..o + chunk.len()].copy_from_slice(chunk);
        }
        Ok(())
    }
}

/// What a reader sees: the namespaces (without the flags, which UPDATING changes between
/// the two passes of one update and the kernel does not read).
fn view(area: &[u8]) -> Vec<(Uuid, [u8; 64], u64, u64, u64, ClaimClass)> {
    let (ns, s) = scan(area, &rig());
    assert_eq!(s.failure, None);
    let mut v: Vec<_> = ns
        .iter()
        .map(|n| (n.uuid, n.name, n.dpa, n.rawsize, n.lbasize, n.claim_class))
        .collect();
    // The kernel numbers namespaces by address, not by slot.
    v.sort_by_key(|n| n.2);
    v
}

fn every_cut_is_old_or_new(old: &[u8], plan: &Plan) {
    let stores: usize = plan.writes().map(|w| (w.len as usize).div_ceil(8)).sum();
    let mut new = old.to_vec();
    plan.apply_in_place(&mut new).unwrap();
    let (before, after) = (view(old), view(&new));
    assert_ne!(before, after);
    for budget in 0..=stores {
        let mut mem = old.to_vec();
        let result = plan.apply(
            old,
            &mut Torn {
                mem: &mut mem,
                budget,
            },
        );
        assert_eq!(result.is_ok(), budget == stores);
        let seen = view(&mem);
        assert!(
            seen == before || seen == after,
            "cut after {budget} stores: {seen:?}"
        );
    }
    let mut mem = old.to_vec();
    plan.apply(
        old,
        &mut Torn {
            mem: &mut mem,
            budget: stores,
        },
    )
    .unwrap();
    assert_eq!(mem, new);
}

#[test]
fn power_cuts_leave_the_old_or_the_new_state() {
    for v in [LabelVersion::V1_1, LabelVersion::V1_2] {
        let mut area = fresh(v, InitStyle::Kernel);
        let a = NewLabel::new(uuid(1), "a", 0, 1 << 21, RIG_COOKIE).unwrap();
        let plan = label::add(&LabelArea::parse(&area).unwrap(), &a).unwrap();
        every_cut_is_old_or_new(&area, &plan);
        plan.apply_in_place(&mut area).unwrap();

        let b = NewLabel::new(uuid(2), "b", 1 << 21, 1 << 21, RIG_COOKIE).unwrap();
        let plan = label::add(&LabelArea::parse(&area).unwrap(), &b).unwrap();
        every_cut_is_old_or_new(&area, &plan);
        plan.apply_in_place(&mut area).unwrap();

        let mut a2 = a;
        a2.rawsize = 1 << 20;
        let plan = label::update(&LabelArea::parse(&area).unwrap(), &a2).unwrap();
        every_cut_is_old_or_new(&area, &plan);
        plan.apply_in_place(&mut area).unwrap();

        let plan = label::remove(&LabelArea::parse(&area).unwrap(), uuid(2)).unwrap();
        every_cut_is_old_or_new(&area, &plan);
    }
}

#[test]
fn apply_refuses_another_source_and_writes_nothing() {
    let area = fresh(LabelVersion::V1_2, InitStyle::Kernel);
    let new = NewLabel::new(uuid(1), "a", 0, 1 << 21, RIG_COOKIE).unwrap();
    let plan = label::add(&LabelArea::parse(&area).unwrap(), &new).unwrap();
    let mut other = area.clone();
    other[100] ^= 1;
    let before = other.clone();
    assert_eq!(
        plan.apply_in_place(&mut other),
        Err(UpdateError::SourceChanged)
    );
    assert_eq!(other, before);
    let mut mem = area.clone();
    assert!(plan
        .apply(
            &before,
            &mut Torn {
                mem: &mut mem,
                budget: usize::MAX
            }
        )
        .is_err());
    assert_eq!(mem, area);
}

#[test]
fn full_area_has_no_free_slot() {
    // 1024-byte area of v1.2 labels: 2 slots (geometry test). One namespace takes both
    // passes' slots... the first pass takes slot 0, the second slot 1, freeing slot 0.
    let mut area = vec![0u8; 1024];
    label::init(1024, LabelVersion::V1_2, InitStyle::Kernel)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    let a = NewLabel::new(uuid(1), "", 0, 4096, 1).unwrap();
    label::add(&LabelArea::parse(&area).unwrap(), &a)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    // Now one slot is free: a second add needs two (one per pass).
    let b = NewLabel::new(uuid(2), "", 4096, 4096, 1).unwrap();
    assert_eq!(
        label::add(&LabelArea::parse(&area).unwrap(), &b).unwrap_err(),
        UpdateError::NoFreeSlot { nslot: 2 }
    );
}

#[test]
fn new_label_name_limits() {
    assert!(NewLabel::new(uuid(1), &"x".repeat(63), 0, 4096, 0).is_ok());
    assert_eq!(
        NewLabel::new(uuid(1), &"x".repeat(64), 0, 4096, 0).unwrap_err(),
        UpdateError::NameTooLong { len: 64 }
    );
    assert!(NewLabel::new(uuid(1), "a\0b", 0, 4096, 0).is_err());
    let area = fresh(LabelVersion::V1_2, InitStyle::Kernel);
    let zero = NewLabel::new(uuid(1), "", 0, 0, 0).unwrap();
    assert_eq!(
        label::add(&LabelArea::parse(&area).unwrap(), &zero).unwrap_err(),
        UpdateError::BadRange { dpa: 0, rawsize: 0 }
    );
}

#[test]
fn errors_display() {
    let e = IndexError::Nslot {
        nslot: 1022,
        max: 1020,
    };
    assert_eq!(
        e.to_string(),
        "1022 label slots do not fit in the area (at most 1020)"
    );
    let u = UpdateError::NoFreeSlot { nslot: 2 };
    assert_eq!(u.to_string(), "all 2 label slots are in use");
    let f = RegionFailure::MissingLabel { uuid: uuid(1) };
    assert!(f
        .to_string()
        .contains("01010101-0101-0101-0101-010101010101"));
    fn is_error<E: core::error::Error + Copy + Eq + core::hash::Hash>(_: E) {}
    is_error(e);
    is_error(u);
    is_error(f);
    is_error(SlotError::Slot { stored: 1 });
}

/// nd_label_reserve_dpa through __request_region(dpa, rawsize): the inclusive end is
/// dpa + rawsize - 1 in u64. rawsize 0 at dpa 4096: end 4095 < 4096, refused. rawsize 0 at
/// dpa 0: end 2^64 - 1, the whole DPA space reserved, so a second label anywhere conflicts.
/// dpa 2^64 - 4096 with rawsize 4096: end 2^64 - 1, accepted (the sum is 2^64, not past it).
#[test]
fn dpa_reservation_follows_request_region() {
    let v = LabelVersion::V1_2;
    let raw = |n: u8, slot: u32, dpa: u64, size: u64| {
        let mut l = NewLabel::new(uuid(n), "r", 0, 4096, RIG_COOKIE).unwrap();
        l.dpa = dpa;
        l.rawsize = size;
        l.to_bytes(v, slot, 0)
    };
    let failure = |labels: &[(u8, u64, u64)]| {
        let mut area = fresh(v, InitStyle::Kernel);
        for (slot, &(n, dpa, size)) in labels.iter().enumerate() {
            plant(&mut area, v, slot as u32, &raw(n, slot as u32, dpa, size));
        }
        scan(&area, &rig()).1.failure
    };
    assert_eq!(
        failure(&[(1, 4096, 0)]),
        Some(RegionFailure::DpaConflict { slot: 0 })
    );
    assert_eq!(failure(&[(1, 0, 0)]), None);
    assert_eq!(
        failure(&[(1, 0, 0), (2, 1 << 40, 4096)]),
        Some(RegionFailure::DpaConflict { slot: 1 })
    );
    assert_eq!(failure(&[(1, u64::MAX - 4095, 4096)]), None);
    assert_eq!(
        failure(&[(1, u64::MAX - 4095, 8192)]),
        Some(RegionFailure::DpaConflict { slot: 0 })
    );
    // Touching ranges do not overlap: [0, 4095] and [4096, 8191].
    assert_eq!(failure(&[(1, 0, 4096), (2, 4096, 4096)]), None);
    assert_eq!(
        failure(&[(1, 0, 4097), (2, 4096, 4096)]),
        Some(RegionFailure::DpaConflict { slot: 1 })
    );
}

/// A 1 MiB area of 128-byte labels, by hand: n = 1048576 / 128 = 8192; index =
/// ALIGN(72 + 1024, 256) = 1280; nslot = (1048576 - 2560) / 128 = 8172; slot 0 at 2560.
/// Labels past slot 4096 are read on every visit instead of once (the scan's memo covers
/// 4096 slots); the kernel's rules give the same answers there.
#[test]
fn large_area_beyond_the_scan_memo() {
    let v = LabelVersion::V1_1;
    let mut area = vec![0u8; 1 << 20];
    label::init(area.len(), v, InitStyle::Kernel)
        .unwrap()
        .apply_in_place(&mut area)
        .unwrap();
    let g = LabelArea::parse(&area).unwrap().geometry();
    assert_eq!((g.index_size, g.nslot, g.labeloff()), (1280, 8172, 2560));
    let put = |area: &mut Vec<u8>, slot: u32, n: u8, dpa: u64| {
        let l = NewLabel::new(uuid(n), "big", dpa, 1 << 20, RIG_COOKIE).unwrap();
        let off = 2560 + slot as usize * 128;
        area[off..off + 128].copy_from_slice(&l.to_bytes(v, slot, 0)[..128]);
        for idx in [0usize, 1280] {
            area[idx + 72 + slot as usize / 8] &= !(1 << (slot % 8));
            fix_index(area, idx, 1280);
        }
    };
    put(&mut area, 10, 1, 0);
    put(&mut area, 5000, 2, 1 << 20);
    put(&mut area, 8171, 3, 2 << 20);
    let (ns, s) = scan(&area, &rig());
    assert_eq!(s.failure, None);
    assert_eq!(
        ns.iter().map(|n| n.slot).collect::<Vec<_>>(),
        [10, 5000, 8171]
    );
    // A duplicate uuid past the memo still fails the region ("conflicting extents").
    put(&mut area, 6000, 2, 3 << 20);
    assert_eq!(
        scan(&area, &rig()).1.failure,
        Some(RegionFailure::ConflictingExtents { uuid: uuid(2) })
    );
    // An overlap past the memo fails the DIMM.
    put(&mut area, 6000, 4, (2 << 20) + 4096);
    assert_eq!(
        scan(&area, &rig()).1.failure,
        Some(RegionFailure::DpaConflict { slot: 8171 })
    );
}

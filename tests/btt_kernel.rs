//! The BTT against kernel-written images: `tests/data/kernel/btt/<case>.{json,ndsparse}`,
//! made by booting Linux 6.1 under qemu (the kernel-harness, `run.sh -w -a GUEST.sh`): the
//! guest binds a `btt` device with a sector size to a label-less namespace (the kernel lays
//! out the BTT: `create_arenas`, `btt_arena_write_layout`), writes sectors through
//! `/dev/pmem0s` (the BTT write path: map and flog updates), reads some back and prints
//! their sha256. The JSON records the sizes the kernel reported (sysfs), the LBAs written
//! with their generation (each sector holds the 16-byte line `L%07dG%06d\n` repeated), and
//! the image after the guest's writes as NDSPARSE (magic, u64 size, then records
//! `{u64 offset, u64 length, bytes}` of non-zero 4 KiB runs; zero elsewhere).
//!
//! Checked for every case:
//! * `Btt::open` finds the device the kernel made: nlba and capacity = sysfs size;
//! * `create` with the same inputs writes the kernel's metadata byte for byte: both info
//!   blocks exactly, and the map and flog wherever the guest's writes did not change them
//!   (map entries of LBAs never written, flog lanes of CPUs that did not write);
//! * `read_lba` returns what the guest read (the sector of the recorded generation; zeros
//!   for the LBAs never written);
//! * a case the kernel refused (a 16 MiB namespace: `-ENXIO`) is refused by `solve`;
//! * on labelled namespaces (`tests/data/kernel/labels/s7-btt2.*`, the truth branch's label
//!   chain): a v1.1 BTT whose parent_uuid is the namespace's, and a v2.0 BTT at byte 0.
//!
//! Fixture provenance: `tests/data/kernel/README.md` of the truth branch (copied here
//! unchanged from its commit 0a525d9).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use nvdimm_infoblock::btt::arena::{Btt, BttVersion, Namespace};
use nvdimm_infoblock::btt::error::Invalid;
use nvdimm_infoblock::btt::layout::{create, solve, LayoutRequest};
use nvdimm_infoblock::btt::raw::MapEntry;
use nvdimm_infoblock::btt::read::Reader;
use nvdimm_infoblock::io::{ReadAt, SliceError};
use nvdimm_infoblock::Uuid;
use serde_json::Value;

#[path = "support/ndsparse.rs"]
mod ndsparse;
use ndsparse::Sparse;

fn cases() -> Vec<PathBuf> {
    // NVDIMM_BTT_FIXTURES: another directory of the same files (cases not yet committed).
    let dir = std::env::var_os("NVDIMM_BTT_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kernel/btt"),
        PathBuf::from,
    );
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

/// The guest's sector content: `L%07dG%06d\n` repeated (generation 0: never written, zero).
fn sector(lba: u64, generation: u64, len: usize) -> Vec<u8> {
    if generation == 0 {
        return vec![0; len];
    }
    let line = format!("L{lba:07}G{generation:06}\n");
    line.as_bytes().iter().copied().cycle().take(len).collect()
}

fn num(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other}"),
    }
}

#[test]
fn kernel_written_btts() {
    let mut checked = 0;
    for json in cases() {
        let case: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
        if case["what"] != "btt-kernel-created" {
            continue;
        }
        let name = case["case"].as_str().unwrap().to_owned();
        let size = num(&case["image_size"]);
        let lbasize = num(&case["sector_size"]) as u32;
        let uuid: Uuid = case["uuid"].as_str().unwrap().parse().unwrap();
        let request = LayoutRequest {
            namespace_size: size,
            lbasize,
            version: BttVersion::V1_1,
            uuid,
            parent_uuid: Uuid::NIL,
        };
        let verdict = case["create_verdict"][0].as_str().unwrap();
        if verdict.contains("verdict=rejected") {
            // The kernel refused to attach (nd_pmem probe of the btt: -6, ENXIO).
            assert!(verdict.contains("=-6"), "{name}: {verdict}");
            assert!(
                matches!(solve(&request), Err(Invalid::NamespaceTooSmall { .. })),
                "{name}"
            );
            eprintln!("{name}: refused, as by the kernel");
            checked += 1;
            continue;
        }
        assert!(verdict.contains("verdict=sector"), "{name}: {verdict}");
        let mut kernel = Sparse::load(json.with_extension("ndsparse"));
        assert_eq!(kernel.size, size);
        let ns = Namespace::labelless(size);

        // The device the kernel made.
        let btt = Btt::open(&mut kernel, &ns).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(btt.nlba, num(&case["guest"]["nlba"]), "{name}");
        assert_eq!(
            btt.capacity(),
            num(&case["create_json"][0]["dev_size"]),
            "{name}"
        );
        assert_eq!(btt.uuid, uuid);

        // The metadata create writes for the same inputs.
        let mut ours = Sparse::new(size);
        let layout = create(&mut ours, &request).unwrap();
        assert_eq!(layout.nlba(), btt.nlba, "{name}");
        let written: BTreeSet<u64> = case["guest"]["lbas"]
            .as_array()
            .unwrap()
            .iter()
            .chain(case["guest"]["once"].as_array().unwrap())
            .map(num)
            .collect();
        let cpus = num(&case["guest"]["ncpu"]) as u32;
        let arenas: Vec<_> = btt.arenas(&mut kernel).map(Result::unwrap).collect();
        assert_eq!(arenas.len(), layout.arena_count() as usize);
        for (a, l) in arenas.iter().zip(layout.arenas()) {
            for at in [l.infooff, l.info2off] {
                let (mut k, mut o) = ([0u8; 4096], [0u8; 4096]);
                kernel.read_at(at, &mut k).unwrap();
                ours.read_at(at, &mut o).unwrap();
                assert_eq!(k, o, "{name}: info block at {at:#x}");
            }
            assert_eq!(
                (a.mapoff, a.logoff, a.info2off),
                (l.mapoff, l.logoff, l.info2off)
            );
            // Map: identical except at the LBAs the guest wrote.
            let mut km = vec![MapEntry::IDENTITY; 4096];
            let mut om = vec![MapEntry::IDENTITY; 4096];
            let mut differ = BTreeSet::new();
            let mut first = 0u32;
            while first < a.external_nlba {
                let n = 4096.min(a.external_nlba - first) as usize;
                a.read_map(&mut kernel, first, &mut km[..n]).unwrap();
                a.read_map(&mut ours, first, &mut om[..n]).unwrap();
                for i in 0..n {
                    if km[i] != om[i] {
                        differ.insert(a.external_lba_start + u64::from(first) + i as u64);
                    }
                }
                first += n as u32;
            }
            assert!(
                differ.is_subset(&written),
                "{name}: map differs at {differ:?}"
            );
            assert!(
                !differ.is_empty(),
                "{name}: the guest's writes changed no map entry"
            );
            // Flog: identical except in the lanes of the CPUs that wrote.
            let mut lanes = BTreeSet::new();
            for lane in 0..a.nfree {
                let k = a.read_log_group(&mut kernel, lane).unwrap();
                let o = a.read_log_group(&mut ours, lane).unwrap();
                if k != o {
                    lanes.insert(lane);
                }
            }
            assert!(
                lanes.iter().all(|&l| l < cpus),
                "{name}: lanes {lanes:?} differ"
            );
            assert!(!lanes.is_empty(), "{name}");
            eprintln!(
                "{name}: arena {}: map differs at {differ:?}, flog lanes {lanes:?}",
                a.index
            );
        }

        // What the guest read back.
        let mut reader = Reader::new(btt);
        let mut buf = vec![0u8; btt.sector_size as usize];
        for r in case["readback"].as_array().unwrap() {
            assert_eq!(r["match"], true, "{name}: the fixture's own check");
            let lba = num(&r["lba"]);
            let generation = num(&r["generation"]);
            reader.read_lba(&mut kernel, lba, &mut buf).unwrap();
            assert!(
                buf == sector(lba, generation, buf.len()),
                "{name}: LBA {lba} is not generation {generation}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} kernel cases");
}

/// One namespace of a labelled region: bytes `base..base + size` of the image.
struct Window<'a> {
    image: &'a mut Sparse,
    base: u64,
    size: u64,
}

impl ReadAt for Window<'_> {
    type Error = SliceError;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        if offset
            .checked_add(buf.len() as u64)
            .map_or(true, |e| e > self.size)
        {
            return Err(SliceError {
                offset,
                len: buf.len(),
                size: self.size as usize,
            });
        }
        self.image.read_at(self.base + offset, buf)
    }
}

/// BTTs on labelled namespaces (the truth branch's label chain, step s7-btt2, Linux 6.1; both
/// 6.1 and 6.12 showed them again on reboot): `gamma` (64 MiB at region offset 0x6000000,
/// label abstraction GUID zero, so claim class none) holds a **v1.1** BTT at namespace byte
/// 4096 whose parent_uuid is gamma's uuid, 4096-byte sectors, btt size 65961984 = 16104 *
/// 4096; `epsilon` (64 MiB at 0xc000000, holder_class=btt, so the BTT2 abstraction GUID)
/// holds a **v2.0** BTT at byte 0, parent_uuid epsilon's uuid, 512-byte sectors, btt size
/// 66428928 = 129744 * 512 (v2.0: rawsize = 67108864; available = 67108864 - 24576 =
/// 67084288; internal_nlba = 67080192 / 516 = 130000; external 129744).
#[test]
fn kernel_written_btts_on_labelled_namespaces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kernel/labels");
    let case: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("s7-btt2.json")).unwrap()).unwrap();
    let mut image = Sparse::load(dir.join("s7-btt2.ndsparse"));
    let mib64 = 64u64 << 20;
    let gamma_uuid: Uuid = "33333333-4444-4555-8666-777777777777".parse().unwrap();
    let epsilon_uuid: Uuid = "55555555-6666-4777-8888-999999999999".parse().unwrap();
    let nd = case["create_nd"].as_array().unwrap();
    assert!(nd.iter().any(|l| l.as_str().unwrap().contains(
        "size=65961984 uuid=3b773b77-0000-4000-8000-000000000bb2 namespace=namespace0.1"
    )));
    assert!(nd.iter().any(|l| l.as_str().unwrap().contains(
        "size=66428928 uuid=3b773b77-0000-4000-8000-0000000000e5 namespace=namespace0.3"
    )));

    // gamma: v1.1 with the namespace's uuid as parent.
    let mut gamma = Window {
        image: &mut image,
        base: 0x600_0000,
        size: mib64,
    };
    let ns = Namespace {
        size: mib64,
        uuid: gamma_uuid,
        version: BttVersion::V1_1,
    };
    let btt = Btt::open(&mut gamma, &ns).unwrap();
    assert_eq!((btt.nlba, btt.capacity()), (16104, 65_961_984));
    assert_eq!(
        Btt::open(&mut gamma, &Namespace::labelless(mib64))
            .unwrap_err()
            .invalid(),
        Some(&Invalid::ParentUuidMismatch {
            arena: 0,
            found: gamma_uuid,
            expected: Uuid::NIL
        })
    );

    // epsilon: v2.0 at byte 0.
    let mut epsilon = Window {
        image: &mut image,
        base: 0xc00_0000,
        size: mib64,
    };
    let ns = Namespace {
        size: mib64,
        uuid: epsilon_uuid,
        version: BttVersion::V2_0,
    };
    let btt = Btt::open(&mut epsilon, &ns).unwrap();
    assert_eq!((btt.nlba, btt.capacity()), (129_744, 66_428_928));
    assert!(Btt::open(
        &mut epsilon,
        &Namespace {
            version: BttVersion::V1_1,
            ..ns
        }
    )
    .is_err());
    // create with the same inputs: the kernel's info blocks, and its map and flog except
    // where the guest wrote (LBAs 0, 5, 129743; lane 0 on one CPU).
    let request = LayoutRequest {
        namespace_size: mib64,
        lbasize: 512,
        version: BttVersion::V2_0,
        uuid: btt.uuid,
        parent_uuid: epsilon_uuid,
    };
    let mut ours = Sparse::new(mib64);
    let layout = create(&mut ours, &request).unwrap();
    let l = layout.arena(0).unwrap();
    assert_eq!(
        (l.infooff, l.mapoff, l.info2off),
        (0, 66_568_192, 67_104_768)
    );
    for at in [l.infooff, l.info2off] {
        let (mut k, mut o) = ([0u8; 4096], [0u8; 4096]);
        epsilon.read_at(at, &mut k).unwrap();
        ours.read_at(at, &mut o).unwrap();
        assert_eq!(k, o, "info block at {at:#x}");
    }
    let a = btt.arenas(&mut epsilon).next().unwrap().unwrap();
    for lane in 1..a.nfree {
        assert_eq!(
            a.read_log_group(&mut epsilon, lane).unwrap(),
            a.read_log_group(&mut ours, lane).unwrap(),
            "lane {lane}"
        );
    }
    let mut km = vec![MapEntry::IDENTITY; a.external_nlba as usize];
    let mut om = km.clone();
    a.read_map(&mut epsilon, 0, &mut km).unwrap();
    a.read_map(&mut ours, 0, &mut om).unwrap();
    let differ: Vec<usize> = (0..km.len()).filter(|&i| km[i] != om[i]).collect();
    assert_eq!(differ, [0, 5, 129_743]);

    // The guest's last write of each LBA on pmem0.3s is what read_lba returns.
    let mut last = HashMap::new();
    for line in case["guest_output"].as_array().unwrap() {
        let line = line.as_str().unwrap();
        if let Some(rest) = line.strip_prefix("wsect pmem0.3s lba=") {
            let (lba, rest) = rest.split_once(" gen=").unwrap();
            let gen = rest.split_once(' ').unwrap().0;
            last.insert(lba.parse::<u64>().unwrap(), gen.parse::<u64>().unwrap());
        }
    }
    assert_eq!(last.len(), 3);
    let mut reader = Reader::new(btt);
    let mut buf = [0u8; 512];
    for (&lba, &generation) in &last {
        reader.read_lba(&mut epsilon, lba, &mut buf).unwrap();
        assert!(buf[..] == sector(lba, generation, 512)[..], "LBA {lba}");
    }
    // Never written: zeros (data blocks of a new namespace).
    reader.read_lba(&mut epsilon, 1000, &mut buf).unwrap();
    assert_eq!(buf, [0; 512]);
}

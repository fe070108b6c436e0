//! `infoblock btt read|check|create` and `infoblock check` on BTTs, against images a real
//! Linux kernel wrote (tests/data/kernel/btt/, README there): what the guest read back
//! (`readback[].guest_sha256`), the btt device's sysfs `size`, and the kernel's metadata bytes.

// Shared with the library's tests (MSRV 1.81, where `is_none_or` is not available).
#[allow(clippy::unnecessary_map_or)]
#[path = "../../tests/support/ndsparse.rs"]
mod ndsparse;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use sha2::{Digest as _, Sha256};
use support::TempFile;

mod common;
#[allow(unused_imports)]
use common::*;

/// Every kernel-written BTT fixture with an image (min-16M and min-16M-k612 have none: the
/// kernel refused to create a BTT there).
const FIXTURES: [&str; 12] = [
    "min-16M4K",
    "256M-512",
    "256M-512-k612",
    "256M-520",
    "256M-528",
    "256M-4096",
    "256M-4096-k612",
    "256M-4104",
    "256M-4160",
    "256M-4224",
    "2G-512",
    "520G-4096",
];

/// The 520 GiB fixture is sparse: reading its 512 GiB arena's map (512 MiB) or writing it is
/// too slow for a unit test; it takes part in `read`, `check` and `probe`, which read the info
/// blocks, the flog and single map entries only.
const BIG: &str = "520G-4096";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/kernel/btt")
}

fn meta(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The fixture unpacked to a sparse temporary file (the kernel's image byte for byte).
fn unpack(name: &str) -> TempFile {
    let file = TempFile::new(&format!("infoblock-btt-{name}.img"), &[]);
    ndsparse::unpack(dir().join(format!("{name}.ndsparse")), &file.0).unwrap();
    file
}

/// Exactly one `infoblock: ` line on stderr.
fn one_line(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("infoblock: "), "{err}");
    err
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn num(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other}"),
    }
}

fn read_bytes(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    File::open(path)
        .unwrap()
        .read_exact_at(&mut buf, offset)
        .unwrap();
    buf
}

/// The arena fields of the kernel's `struct btt_sb` (drivers/nvdimm/btt.h: external_nlba
/// at byte 60, internal_nlba 68, nfree 72, nextoff 80, dataoff 88, mapoff 96, logoff 104,
/// info2off 112; little-endian; offsets relative to the arena's info block), read from the
/// kernel's image, with the offsets made absolute.
struct KernelArena {
    info: u64,
    external_nlba: u64,
    mapoff: u64,
    logoff: u64,
    info2off: u64,
}

fn kernel_arenas(image: &Path) -> Vec<KernelArena> {
    let mut out = Vec::new();
    let mut info = 4096u64; // BTT 1.1: the first info block at byte 4096
    loop {
        let sb = read_bytes(image, info, 4096);
        assert_eq!(&sb[..16], b"BTT_ARENA_INFO\0\0");
        let u32_at = |o: usize| u64::from(u32::from_le_bytes(sb[o..o + 4].try_into().unwrap()));
        let u64_at = |o: usize| u64::from_le_bytes(sb[o..o + 8].try_into().unwrap());
        out.push(KernelArena {
            info,
            external_nlba: u32_at(60),
            mapoff: info + u64_at(96),
            logoff: info + u64_at(104),
            info2off: info + u64_at(112),
        });
        let nextoff = u64_at(80);
        if nextoff == 0 {
            return out;
        }
        info += nextoff;
    }
}

/// `btt read` of every LBA the guest read back gives bytes with the sha256 the guest computed
/// on /dev/pmem0s (written LBAs: the "L%07dG%06d\n" pattern of their last generation; the
/// others: what the never-written block holds).
#[test]
fn read_gives_what_the_guest_read() {
    for name in FIXTURES {
        let m = meta(name);
        let img = unpack(name);
        let lbs = num(&m["guest"]["logical_block_size"]) as usize;
        let readback = m["readback"].as_array().unwrap();
        assert!(!readback.is_empty(), "{name}");
        for r in readback {
            let lba = num(&r["lba"]).to_string();
            let o = run(&["btt", "read", img.path(), "--lba", &lba]);
            assert_eq!(o.status.code(), Some(0), "{name} {lba}: {}", stderr(&o));
            assert!(o.stderr.is_empty(), "{name}");
            assert_eq!(o.stdout.len(), lbs, "{name} LBA {lba}");
            assert_eq!(
                sha256_hex(&o.stdout),
                r["guest_sha256"].as_str().unwrap(),
                "{name} LBA {lba}"
            );
            // The content itself, for the written LBAs: the guest's pattern.
            let generation = num(&r["generation"]);
            if generation > 0 {
                let line = format!("L{lba:0>7}G{generation:06}\n");
                let expected: Vec<u8> = line.bytes().cycle().take(lbs).collect();
                assert_eq!(o.stdout, expected, "{name} LBA {lba}");
            }
        }
        // --count: consecutive blocks, in order (LBAs 0 and 1 were both written).
        let two = run(&["btt", "read", img.path(), "--lba", "0", "--count", "2"]);
        assert_eq!(two.status.code(), Some(0), "{name}");
        let one = run(&["btt", "read", img.path(), "--lba", "1"]);
        assert_eq!(&two.stdout[lbs..], &one.stdout[..], "{name}");
    }
}

/// The last LBA is nlba - 1 (the guest's N); N is past the end: exit 2, one line, nothing on
/// stdout.
#[test]
fn read_past_the_end_is_a_usage_error() {
    let name = "min-16M4K";
    let m = meta(name);
    let nlba = num(&m["guest"]["nlba"]);
    let img = unpack(name);
    let last = run(&["btt", "read", img.path(), "--lba", &(nlba - 1).to_string()]);
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    for args in [
        vec!["--lba", &*nlba.to_string()],
        vec!["--lba", &*(nlba - 1).to_string(), "--count", "2"],
    ] {
        let mut all = vec!["btt", "read", img.path()];
        all.extend(args);
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        assert!(o.stdout.is_empty());
        assert!(one_line(&o).contains("past the end"), "{}", stderr(&o));
    }
}

/// A map entry with only the error flag (bit 30; btt.h MAP_ERR_MASK) fails the read (the
/// kernel's btt_read_pg returns -EIO): exit 1, one line naming the LBA. The map entry of
/// LBA 2 (never written) is at mapoff + 4 * 2.
#[test]
fn read_of_an_error_block_fails_naming_the_lba() {
    let name = "256M-4096";
    let img = unpack(name);
    let a = &kernel_arenas(&img.0)[0];
    let entry: u32 = (1 << 30) | 2;
    let f = OpenOptions::new().write(true).open(&img.0).unwrap();
    f.write_all_at(&entry.to_le_bytes(), a.mapoff + 8).unwrap();
    let o = run(&["btt", "read", img.path(), "--lba", "2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line(&o).contains("LBA 2"), "{}", stderr(&o));
    // Its neighbours still read.
    let o = run(&["btt", "read", img.path(), "--lba", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The kernel's BTTs are consistent: `btt check` exits 0 with no findings at all.
#[test]
fn check_of_kernel_images_is_clean() {
    for name in FIXTURES.into_iter().filter(|n| *n != BIG) {
        let img = unpack(name);
        let o = run(&["btt", "check", img.path(), "--json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert!(o.stderr.is_empty(), "{name}");
        let v = json(&o);
        assert_eq!(v["findings"], Value::Array(vec![]), "{name}: {v}");
        assert_eq!(v["clean"], true, "{name}");
        assert_eq!(v["repair"]["planned"], Value::Array(vec![]), "{name}");
    }
}

/// `check --ns-start 0x100000000` (the harness's namespace start, `ns.resource` in the
/// JSON) says sector with the btt device's sysfs size; `probe` agrees and says where the
/// data is (through the BTT, with the guest's logical block size).
#[test]
fn check_and_probe_predict_the_btt_device() {
    for name in FIXTURES {
        let m = meta(name);
        assert_eq!(m["sysfs"]["ns.resource"], "0x100000000", "{name}");
        let size = num(&m["sysfs"]["btt.size"]);
        let img = unpack(name);
        let o = run(&["check", img.path(), "--ns-start", "0x100000000", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let v = json(&o);
        assert_eq!(v["verdict"], "sector", "{name}: {v}");
        assert_eq!(num(&v["dev_size"]), size, "{name}");
        // The reboot on both kernels agreed (NDH-JSON dev_size).
        for k in m["reboot"]["json"].as_array().unwrap() {
            assert_eq!(k["verdict"], "sector", "{name}");
            assert_eq!(num(&k["dev_size"]), size, "{name}");
        }
        let o = run(&["probe", img.path(), "--ns-start", "0x100000000", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let p = json(&o);
        assert_eq!(p["verdict"], "sector", "{name}");
        assert_eq!(num(&p["dev_size"]), size, "{name}");
        assert_eq!(
            num(&p["sector_size"]),
            num(&m["guest"]["logical_block_size"]),
            "{name}"
        );
        assert_eq!(num(&p["btt"]["nlba"]), num(&m["guest"]["nlba"]), "{name}");
        assert_eq!(p["btt"]["uuid"], m["sysfs"]["btt.uuid"], "{name}");
        assert_eq!(p["data"], Value::Null, "{name}");
        assert_eq!(p["drivers"]["btt"]["result"], "claimed", "{name}");
        assert_eq!(p["drivers"]["pfn"]["result"], "passed", "{name}");
        assert_eq!(p["drivers"]["dax"]["result"], "passed", "{name}");
    }
}

/// `btt create` on an all-zero file of the fixture's size, with its uuid and sector size,
/// writes the kernel's metadata: both info blocks of every arena byte for byte, and the map
/// and the flog byte for byte except what the guest's writes changed afterwards: the map
/// entries of the LBAs it wrote (`guest.lbas`, `guest.once`) and the flog groups (64 bytes
/// each) of the lanes its CPUs used (lane 0, and lane 1 with 2 CPUs).
#[test]
fn create_writes_the_kernels_metadata() {
    for name in FIXTURES.into_iter().filter(|n| *n != BIG) {
        let m = meta(name);
        let kernel = unpack(name);
        let size = num(&m["image_size"]);
        let ours = TempFile::new(&format!("infoblock-btt-create-{name}.img"), &[]);
        File::options()
            .write(true)
            .open(&ours.0)
            .unwrap()
            .set_len(size)
            .unwrap();
        let ss = num(&m["sector_size"]).to_string();
        let uuid = m["uuid"].as_str().unwrap();
        // The dry run writes nothing.
        let o = run(&[
            "btt",
            "create",
            ours.path(),
            "--sector-size",
            &ss,
            "--uuid",
            uuid,
            "--dry-run",
        ]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert!(
            read_bytes(&ours.0, 0, 8192).iter().all(|&b| b == 0),
            "{name}"
        );
        let o = run(&[
            "btt",
            "create",
            ours.path(),
            "--sector-size",
            &ss,
            "--uuid",
            uuid,
        ]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        // Written LBAs, as arena-0 pre-map blocks (the fixtures that were written have one
        // arena).
        let guest = &m["guest"];
        let mut written: Vec<u64> = guest["lbas"]
            .as_array()
            .unwrap()
            .iter()
            .chain(guest["once"].as_array().unwrap())
            .map(num)
            .collect();
        written.sort();
        let lanes = num(&m["smp"]).max(1);
        let arenas = kernel_arenas(&kernel.0);
        assert_eq!(arenas.len(), 1, "{name}");
        for a in &arenas {
            for off in [a.info, a.info2off] {
                assert_eq!(
                    read_bytes(&ours.0, off, 4096),
                    read_bytes(&kernel.0, off, 4096),
                    "{name}: info block at {off:#x}"
                );
            }
            let map_len = (a.logoff - a.mapoff) as usize;
            let (km, om) = (
                read_bytes(&kernel.0, a.mapoff, map_len),
                read_bytes(&ours.0, a.mapoff, map_len),
            );
            for (i, (k, o)) in km.chunks(4).zip(om.chunks(4)).enumerate() {
                let lba = i as u64;
                if written.binary_search(&lba).is_err() {
                    assert_eq!(k, o, "{name}: map entry {lba}");
                } else {
                    assert_eq!(o, [0, 0, 0, 0], "{name}: a new map is all zero");
                    assert!(lba < a.external_nlba);
                }
            }
            let log_len = (a.info2off - a.logoff) as usize;
            let (kl, ol) = (
                read_bytes(&kernel.0, a.logoff, log_len),
                read_bytes(&ours.0, a.logoff, log_len),
            );
            for (lane, (k, o)) in kl.chunks(64).zip(ol.chunks(64)).enumerate() {
                if lane as u64 >= lanes {
                    assert_eq!(k, o, "{name}: flog lane {lane}");
                }
            }
            // Nothing before the first info block.
            assert!(read_bytes(&ours.0, 0, 4096).iter().all(|&b| b == 0));
        }
        // A second create without --force is refused: the BTT is there.
        let o = run(&["btt", "create", ours.path(), "--sector-size", &ss]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        one_line(&o);
    }
}

/// The kernel refuses a 16 MiB namespace and asks for 16781312 bytes (16 MiB + 4 KiB,
/// `min-16M.json` dmesg); `btt create` refuses the same image, exit 2, one line, and writes
/// nothing.
#[test]
fn create_refuses_an_image_too_small() {
    let m = meta("min-16M");
    let dmesg = m["create_dmesg"].to_string();
    assert!(dmesg.contains("must be at least 16781312 bytes"), "{dmesg}");
    let img = TempFile::new("infoblock-btt-small.img", &vec![0u8; 16 << 20]);
    let o = run(&["btt", "create", img.path(), "--sector-size", "4096"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("16781312"), "{}", stderr(&o));
    assert!(std::fs::read(&img.0).unwrap().iter().all(|&b| b == 0));
    // 16 MiB + 4 KiB is enough (min-16M4K: the kernel made one arena there).
    let img = TempFile::new("infoblock-btt-small.img", &vec![0u8; (16 << 20) + 4096]);
    let o = run(&[
        "btt",
        "create",
        img.path(),
        "--sector-size",
        "4096",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let uuid = v["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36, "a random uuid is printed: {v}");
    assert_eq!(num(&v["nlba"]), 3829, "min-16M4K's guest nlba");
}

/// One flipped byte in the primary info block (the checksum fails): the kernel ignores the
/// BTT (nd_btt_probe finds no valid info block), so the namespace is raw; `btt check` names
/// the primary, its dry run writes nothing, `--repair` restores the kernel's bytes from the
/// backup, and the check is clean again.
#[test]
fn flipped_primary_is_raw_and_repaired() {
    let name = "256M-4096";
    let img = unpack(name);
    let original = read_bytes(&img.0, 4096, 4096);
    let f = OpenOptions::new().write(true).open(&img.0).unwrap();
    // external_nlba's low byte (byte 60 of the block).
    f.write_all_at(&[original[60] ^ 0x01], 4096 + 60).unwrap();
    drop(f);

    let o = run(&["check", img.path(), "--ns-start", "0x100000000", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    one_line(&o);
    let v = json(&o);
    assert_eq!(v["verdict"], "raw", "{v}");
    assert_eq!(v["btt_reason"], "checksum_mismatch", "{v}");
    let o = run(&["probe", img.path(), "--ns-start", "0x100000000", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let p = json(&o);
    assert_eq!(p["verdict"], "raw");
    assert_eq!(p["drivers"]["btt"]["result"], "passed");
    assert_eq!(num(&p["data"]["end"]), num(&meta(name)["image_size"]));

    let before = std::fs::read(&img.0).unwrap();
    let o = run(&["btt", "check", img.path(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        one_line(&o).contains("primary info block"),
        "{}",
        stderr(&o)
    );
    let v = json(&o);
    let f0 = &v["findings"][0];
    assert_eq!(f0["kind"], "info_invalid", "{v}");
    assert_eq!(f0["arena"], 0);
    assert_eq!(f0["values"]["copy"], "primary");
    assert_eq!(f0["values"]["offset"], 4096);
    assert_eq!(v["repair"]["planned"][0]["offset"], 4096, "{v}");
    assert_eq!(v["repair"]["written"], false);
    assert!(
        std::fs::read(&img.0).unwrap() == before,
        "the dry run wrote"
    );

    let o = run(&["btt", "check", img.path(), "--repair"]);
    assert_eq!(o.status.code(), Some(1), "findings, also after a repair");
    one_line(&o);
    assert_eq!(read_bytes(&img.0, 4096, 4096), original);
    let o = run(&["btt", "check", img.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["check", img.path(), "--ns-start", "0x100000000", "--json"]);
    assert_eq!(json(&o)["verdict"], "sector");
}

/// `--help` of each subcommand.
#[test]
fn subcommand_help() {
    for sub in ["read", "check", "create"] {
        let o = run(&["btt", sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!("Usage: infoblock btt {sub}")),
            "{text}"
        );
        assert!(text.to_lowercase().contains("exit codes"), "{text}");
        assert!(o.stderr.is_empty());
    }
}

/// `inspect` recognises the kernel's BTT 1.1 (info block at 4096) and walks its arenas: the
/// external_nlba of the arenas add up to the guest's N, both info blocks are equal (the
/// kernel writes the same block twice), no error flag; the 520 GiB image has two arenas
/// (512 GiB + 8 GiB, nextoff 0x8000000000 in the README).
#[test]
fn inspect_walks_the_arenas() {
    for name in FIXTURES {
        let m = meta(name);
        let img = unpack(name);
        let o = run(&["inspect", "--json", img.path()]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let v = &json(&o)[0];
        assert_eq!(v["btt_version"], "1.1", "{name}");
        assert_eq!(v["info_offset"], 4096, "{name}");
        assert_eq!(v["info"]["uuid"], m["uuid"], "{name}");
        let arenas = v["arenas"].as_array().unwrap();
        let nlba: u64 = arenas.iter().map(|a| num(&a["external_nlba"])).sum();
        assert_eq!(nlba, num(&m["guest"]["nlba"]), "{name}");
        for a in arenas {
            assert_eq!(a["info2_equal"], true, "{name}");
            assert_eq!(a["error_flag"], false, "{name}");
        }
        let expected_arenas = if name == BIG { 2 } else { 1 };
        assert_eq!(arenas.len(), expected_arenas, "{name}");
        if name == BIG {
            assert_eq!(num(&arenas[0]["nextoff"]), 0x80_0000_0000);
        }
    }
    // A flipped byte in the primary: unusable, exit 1, one line.
    let img = unpack("256M-512");
    let f = OpenOptions::new().write(true).open(&img.0).unwrap();
    f.write_all_at(&[0xff], 4096 + 61).unwrap();
    let o = run(&["inspect", img.path()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line(&o).contains("checksum"), "{}", stderr(&o));
}

/// The arenas of `inspect --json` without the two keys that say which copy of the info
/// block was read (`info2_equal`, `from_backup`): the geometry.
fn arena_geometry(v: &Value) -> Vec<Value> {
    v["arenas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.clone();
            let o = a.as_object_mut().unwrap();
            o.remove("info2_equal");
            o.remove("from_backup");
            a
        })
        .collect()
}

/// `inspect` of a BTT whose first primary info block is bad (a byte of its checksum, of its
/// signature, of its parent_uuid flipped) still lists every arena, from the first arena's
/// backup: the same arenas as on the kernel's intact image, arena 0 marked as read from the
/// backup, and the BTT still unusable (exit 1, one line: the kernel ignores a BTT whose first
/// info block fails nd_btt_arena_is_valid). Where the backup is, is the kernel's fact: for
/// 520G-4096 the README gives arena 0's nextoff 0x8000000000 (512 GiB), and alloc_arena puts
/// the backup on the arena's last page: 4096 (info offset) + 0x8000000000 - 4096 =
/// 0x8000000000; the kernel wrote the same 4096 bytes there as at 4096 (btt_info_write).
#[test]
fn inspect_walks_from_the_backup() {
    for (name, at) in [
        // Block bytes (struct btt_sb): 0 signature, 32 parent_uuid, 60 external_nlba; a
        // changed field breaks the stored checksum.
        ("520G-4096", 4096 + 60),
        ("256M-512", 4096),
        ("256M-4096-k612", 4096 + 32),
    ] {
        let img = unpack(name);
        let intact = run(&["inspect", "--json", img.path()]);
        assert_eq!(intact.status.code(), Some(0), "{name}");
        let intact = json(&intact)[0].clone();
        assert_eq!(intact["primary_invalid"], Value::Null, "{name}");
        let primary = read_bytes(&img.0, 4096, 4096);

        let f = OpenOptions::new().write(true).open(&img.0).unwrap();
        f.write_all_at(&[primary[at - 4096] ^ 0x01], at as u64)
            .unwrap();

        let o = run(&["inspect", "--json", img.path()]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        one_line(&o);
        let v = &json(&o)[0];
        assert_eq!(v["btt_version"], "1.1", "{name}");
        assert_eq!(v["usable"], false, "{name}");
        let p = &v["primary_invalid"];
        let expected_reason = if at == 4096 {
            "bad_signature"
        } else {
            "checksum_mismatch"
        };
        assert_eq!(p["reason"], expected_reason, "{name}");
        let backup = num(&p["backup_offset"]);
        assert_eq!(read_bytes(&img.0, backup, 4096), primary, "{name}");
        assert_eq!(p["backup_info"], intact["info"], "{name}");
        if name == BIG {
            assert_eq!(backup, 0x80_0000_0000);
        }
        assert_eq!(arena_geometry(v), arena_geometry(&intact), "{name}");
        let arenas = v["arenas"].as_array().unwrap();
        let nlba: u64 = arenas.iter().map(|a| num(&a["external_nlba"])).sum();
        assert_eq!(nlba, num(&meta(name)["guest"]["nlba"]), "{name}");
        assert_eq!(num(&arenas[0]["from_backup"]), backup, "{name}");
        assert_eq!(arenas[0]["info2_equal"], false, "{name}");
        for a in &arenas[1..] {
            assert_eq!(
                a["from_backup"],
                Value::Null,
                "{name}: its own primary is intact"
            );
            assert_eq!(a["info2_equal"], true, "{name}");
        }

        let o = run(&["inspect", img.path()]);
        assert_eq!(o.status.code(), Some(1));
        let text = stdout(&o);
        assert!(
            text.contains(&format!("primary info block INVALID: {expected_reason}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("arena 0 (FROM THE BACKUP at {backup:#x}")),
            "{text}"
        );
        assert_eq!(text.matches("  arena ").count(), arenas.len(), "{text}");
        assert!(text.contains("result: unusable"), "{text}");

        // A pfn block written over the primary (a namespace reconfigured to fsdax keeps a
        // stale BTT backup): the kernel's probe goes on to nd_pfn_probe, and inspect reports
        // the pfn/dax block, not a BTT.
        if name == "256M-512" {
            let mut pfn = primary.clone();
            pfn[..16].copy_from_slice(b"NVDIMM_PFN_INFO\0");
            f.write_all_at(&pfn, 4096).unwrap();
            let o = run(&["inspect", "--json", img.path()]);
            let v = &json(&o)[0];
            assert_eq!(v["signature"], "NVDIMM_PFN_INFO", "{v}");
            assert!(v.get("btt_version").is_none(), "{v}");
            // Back to the primary with the flipped byte.
            let mut broken = primary.clone();
            broken[at - 4096] ^= 0x01;
            f.write_all_at(&broken, 4096).unwrap();
        }

        // The backup broken too: nothing to walk from, no arena, still exit 1.
        f.write_all_at(&[primary[at - 4096] ^ 0x01], backup + (at as u64 - 4096))
            .unwrap();
        let o = run(&["inspect", "--json", img.path()]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        one_line(&o);
        let v = &json(&o)[0];
        if at == 4096 {
            // Neither copy has the signature: not recognised as a BTT at all.
            assert!(v.get("btt_version").is_none(), "{name}: {v}");
        } else {
            assert_eq!(v["primary_invalid"]["backup_offset"], Value::Null, "{name}");
            assert_eq!(v["arenas"].as_array().unwrap().len(), 0, "{name}");
        }
    }
}

/// The same for the kernel's BTT 2.0 (info block at byte 0, labelled namespace `epsilon` of
/// s7-btt2, 64 MiB, parent_uuid its namespace's uuid): its primary's external_nlba byte
/// flipped, inspect finds the backup on the arena's last page and lists the same arena.
/// The one arena is the namespace: 64 MiB from byte 0, so alloc_arena's backup is at
/// 64 MiB - 4096 = 0x3fff000.
#[test]
fn inspect_walks_a_btt2_from_the_backup() {
    let eps = label_namespace(0xc00_0000, 64 << 20, "epsilon-backup");
    let intact = run(&["inspect", "--json", eps.path()]);
    assert_eq!(intact.status.code(), Some(0), "{}", stderr(&intact));
    let intact = json(&intact)[0].clone();
    assert_eq!(intact["btt_version"], "2.0");
    let primary = read_bytes(&eps.0, 0, 4096);
    let f = OpenOptions::new().write(true).open(&eps.0).unwrap();
    f.write_all_at(&[primary[60] ^ 0x01], 60).unwrap();
    let o = run(&["inspect", "--json", eps.path()]);
    assert_eq!(o.status.code(), Some(1));
    one_line(&o);
    let v = &json(&o)[0];
    assert_eq!(v["btt_version"], "2.0");
    assert_eq!(v["primary_invalid"]["reason"], "checksum_mismatch");
    assert_eq!(num(&v["primary_invalid"]["backup_offset"]), 0x3ff_f000);
    assert_eq!(read_bytes(&eps.0, 0x3ff_f000, 4096), primary);
    assert_eq!(arena_geometry(v), arena_geometry(&intact));
    assert_eq!(num(&v["arenas"][0]["from_backup"]), 0x3ff_f000);
}

/// One namespace of the kernel's label image `tests/data/kernel/labels/s7-btt2` (README
/// there: `epsilon` at DPA 0xc000000 holds a BTT 2.0 at byte 0, `gamma` at DPA 0x6000000 a
/// BTT 1.1 at byte 4096, both 64 MiB, each with its namespace's uuid as parent_uuid), cut
/// out to a temporary file.
fn label_namespace(dpa: u64, size: u64, tag: &str) -> TempFile {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/kernel/labels/s7-btt2.ndsparse");
    let file = TempFile::new(&format!("infoblock-btt-{tag}.img"), &[]);
    let f = OpenOptions::new().write(true).open(&file.0).unwrap();
    f.set_len(size).unwrap();
    for run in ndsparse::runs(path).unwrap() {
        let (offset, bytes) = run.unwrap();
        let end = offset + bytes.len() as u64;
        let (lo, hi) = (offset.max(dpa), end.min(dpa + size));
        if lo < hi {
            let part = &bytes[(lo - offset) as usize..(hi - offset) as usize];
            f.write_all_at(part, lo - dpa).unwrap();
        }
    }
    file
}

/// The sysfs `size` of the btt device on `namespace`, from the NDH-ND lines of both
/// kernels' re-boot (they agree).
fn nd_btt_size(m: &Value, namespace: &str) -> u64 {
    let mut sizes = Vec::new();
    for k in m["reboot"]["kernels"].as_array().unwrap() {
        for line in k["nd"].as_array().unwrap() {
            let line = line.as_str().unwrap();
            if line.contains("devtype=nd_btt") && line.contains(&format!("namespace={namespace} "))
            {
                let size = line
                    .split(' ')
                    .find_map(|w| w.strip_prefix("size="))
                    .unwrap();
                sizes.push(size.parse::<u64>().unwrap());
            }
        }
    }
    assert_eq!(sizes.len(), 2, "{namespace}: one btt per kernel");
    assert_eq!(sizes[0], sizes[1]);
    sizes[0]
}

/// The guest's last `wsect` sha256 of each LBA of `blk` (it read the block back after
/// writing it).
fn wsect(m: &Value, blk: &str) -> Vec<(u64, String)> {
    let mut last: Vec<(u64, String)> = Vec::new();
    for line in m["guest_output"].as_array().unwrap() {
        let line = line.as_str().unwrap();
        let Some(rest) = line.strip_prefix(&format!("wsect {blk} ")) else {
            continue;
        };
        let field = |k: &str| {
            rest.split(' ')
                .find_map(|w| w.strip_prefix(k))
                .unwrap()
                .to_owned()
        };
        let lba: u64 = field("lba=").parse().unwrap();
        last.retain(|(l, _)| *l != lba);
        last.push((lba, field("sha256=")));
    }
    last
}

/// A BTT 2.0 written by the kernel under a v1.2 label with the BTT2 claim class (its
/// `holder_class` read `btt`, as for 1.1): found at byte 0 with `--claim btt2` and the
/// namespace's uuid (the block's parent_uuid must equal it: without it the kernel ignores the
/// BTT), the device size is the kernel's, `btt read` gives what the guest read back, `btt
/// check` is clean, `inspect` says 2.0, and `btt create --version 2.0` writes the kernel's two
/// info blocks. `gamma`, a labelled BTT 1.1, is a sector device with its uuid and no claim.
#[test]
fn kernel_btt2_under_a_label() {
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/kernel/labels/s7-btt2.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(m["guest_output"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "holder_class=btt"));
    let eps = label_namespace(0xc00_0000, 64 << 20, "epsilon");
    let uuid = "55555555-6666-4777-8888-999999999999";
    let size = nd_btt_size(&m, "namespace0.3");
    let ns = [
        "--ns-start",
        "0x10c000000",
        "--claim",
        "btt2",
        "--parent-uuid",
        uuid,
        "--json",
    ];
    for cmd in ["probe", "check"] {
        let mut args = vec![cmd, eps.path()];
        args.extend(ns);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stderr(&o));
        let v = json(&o);
        assert_eq!(v["verdict"], "sector", "{cmd}: {v}");
        assert_eq!(num(&v["dev_size"]), size, "{cmd}");
        assert_eq!(num(&v["sector_size"]), 512, "{cmd}");
        // Without the namespace's uuid: parent_uuid mismatch, the kernel ignores the BTT.
        let o = run(&[
            cmd,
            eps.path(),
            "--ns-start",
            "0x10c000000",
            "--claim",
            "btt2",
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        assert_eq!(json(&o)["verdict"], "raw", "{cmd}");
    }
    let at = ["--claim", "btt2", "--parent-uuid", uuid];
    let written = wsect(&m, "pmem0.3s");
    assert_eq!(written.len(), 3, "{written:?}");
    for (lba, sha) in &written {
        let lba = lba.to_string();
        let mut args = vec!["btt", "read", eps.path(), "--lba", &lba];
        args.extend(at);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(&sha256_hex(&o.stdout), sha, "LBA {lba}");
    }
    let mut args = vec!["btt", "check", eps.path()];
    args.extend(at);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&run(&["inspect", "--json", eps.path()]));
    assert_eq!(v[0]["btt_version"], "2.0", "{v}");
    assert_eq!(v[0]["info_offset"], 0);
    assert_eq!(v[0]["info"]["parent_uuid"], uuid);

    let ours = TempFile::new("infoblock-btt-create-epsilon.img", &[]);
    File::options()
        .write(true)
        .open(&ours.0)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let btt_uuid = v[0]["info"]["uuid"].as_str().unwrap().to_owned();
    let o = run(&[
        "btt",
        "create",
        ours.path(),
        "--version",
        "2.0",
        "--sector-size",
        "512",
        "--uuid",
        &btt_uuid,
        "--parent-uuid",
        uuid,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let info2off = num(&v[0]["info"]["info2off"]);
    for off in [0, info2off] {
        assert_eq!(
            read_bytes(&ours.0, off, 4096),
            read_bytes(&eps.0, off, 4096),
            "info block at {off:#x}"
        );
    }

    let gamma = label_namespace(0x600_0000, 64 << 20, "gamma");
    let o = run(&[
        "probe",
        gamma.path(),
        "--ns-start",
        "0x106000000",
        "--parent-uuid",
        "33333333-4444-4555-8666-777777777777",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p = json(&o);
    assert_eq!(p["verdict"], "sector");
    assert_eq!(num(&p["dev_size"]), nd_btt_size(&m, "namespace0.1"));
    assert_eq!(p["btt"]["version"], "1.1");
}

/// A create never overwrites another valid format without `--force`, in a dry run too: a BTT
/// over an fsdax block (ndctl's), a pfn block over a BTT, a BTT over a BTT whose parent uuid
/// differs from the new one. Each refusal is exit 2 with one stderr line, and the file is
/// unchanged.
#[test]
fn create_refuses_to_overwrite_any_valid_metadata() {
    let size: u64 = 64 << 20;
    let make = |name: &str| {
        let file = TempFile::new(&format!("infoblock-guard-{name}.img"), &[]);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file.0)
            .unwrap()
            .set_len(size)
            .unwrap();
        file
    };
    let refused = |args: &[&str], file: &TempFile, what: &str| {
        let before = std::fs::read(&file.0).unwrap();
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        let err = stderr_line(&o);
        assert!(err.contains("--force"), "{what}: {err}");
        assert!(
            std::fs::read(&file.0).unwrap() == before,
            "{what}: file changed"
        );
    };
    // ndctl's fsdax head (tests/data/ndctl, provenance in its README) at the start of 64 MiB.
    let pfn = make("pfn");
    let head = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/ndctl/fsdax-1G-default.bin"),
    )
    .unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pfn.0)
        .unwrap()
        .write_all_at(&head, 0)
        .unwrap();
    let p = pfn.0.to_str().unwrap();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["btt", "create", p, "--sector-size", "512"];
        args.extend_from_slice(extra);
        refused(&args, &pfn, "btt create over fsdax");
    }
    // A BTT made by the crate, then pfn create and another btt create over it.
    let btt = make("btt");
    let b = btt.0.to_str().unwrap();
    let parent = "11111111-2222-4333-8444-555555555555";
    let o = run(&[
        "btt",
        "create",
        b,
        "--sector-size",
        "4096",
        "--parent-uuid",
        parent,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    refused(
        &["btt", "create", b, "--sector-size", "512"],
        &btt,
        "btt over btt",
    );
    refused(
        &["btt", "create", b, "--sector-size", "512", "--dry-run"],
        &btt,
        "btt over btt, dry run",
    );
    refused(
        &[
            "create", b, "--size", "64M", "--mode", "fsdax", "--align", "2M",
        ],
        &btt,
        "pfn over btt",
    );
    // --force is the way through.
    let o = run(&["btt", "create", b, "--sector-size", "512", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// sysfs shows `holder_class` `btt` for both BTT classes (the kernel's s7 guest output above
/// says so for epsilon's BTT2). With `--namespace` on a labelled namespace and no `--claim`,
/// the kernel-written BTT 2.0 at byte 0 is found (the class is made BTT2 because a valid 2.0
/// block is there) and `probe`, `check` and `btt read` agree with `--claim btt2`.
#[test]
fn sysfs_btt_class_finds_a_labelled_btt2() {
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/kernel/labels/s7-btt2.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let eps = label_namespace(0xc00_0000, 64 << 20, "epsilon-sysfs");
    let root = std::env::temp_dir().join(format!("infoblock-sysfs-btt2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sysfs/labelled");
    assert!(std::process::Command::new("cp")
        .arg("-a")
        .arg(&src)
        .arg(&root)
        .status()
        .unwrap()
        .success());
    let dir = root.join("bus/nd/devices/namespace0.0");
    for (attr, value) in [
        ("uuid", "55555555-6666-4777-8888-999999999999"),
        ("resource", "0x10c000000"),
        ("size", "67108864"),
        ("holder_class", "btt"),
    ] {
        std::fs::write(dir.join(attr), format!("{value}\n")).unwrap();
    }
    let root_s = root.display().to_string();
    let at = ["--namespace", "namespace0.0", "--sysfs-root", &root_s];
    for cmd in ["probe", "check"] {
        let mut args = vec![cmd, eps.path()];
        args.extend(at);
        args.push("--json");
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stderr(&o));
        let v = json(&o);
        assert_eq!(v["verdict"], "sector", "{cmd}: {v}");
        assert_eq!(
            num(&v["dev_size"]),
            nd_btt_size(&m, "namespace0.3"),
            "{cmd}"
        );
    }
    let (lba, sha) = wsect(&m, "pmem0.3s").into_iter().next().unwrap();
    let lba = lba.to_string();
    let mut args = vec!["btt", "read", eps.path(), "--lba", &lba];
    args.extend(at);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sha256_hex(&o.stdout), sha);
    std::fs::remove_dir_all(&root).unwrap();
}

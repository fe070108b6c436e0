//! The kernel-written fixtures in `tests/data/kernel/` load, and hold what their JSON says:
//! checks of the NDSPARSE files (and of the loader in `tests/support/ndsparse.rs`) against the
//! format's own rules and the facts recorded from the guest, not against any crate code.

#[path = "support/ndsparse.rs"]
mod ndsparse;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/kernel")
        .join(sub)
}

fn files(sub: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir(sub))
        .unwrap_or_else(|e| panic!("{sub}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every run is a whole number of 4 KiB blocks at a 4 KiB offset, in increasing order, never
/// touching the previous run (adjacent blocks are merged), and no 4 KiB block of it is all zero.
#[test]
fn ndsparse_runs_follow_the_format() {
    let mut n = 0;
    for p in files("btt", "ndsparse")
        .into_iter()
        .chain(files("labels", "ndsparse"))
        .chain(files("labels-v11", "ndsparse"))
    {
        let r = ndsparse::runs(&p).expect("header");
        let size = r.size;
        assert_eq!(size % 4096, 0, "{}", p.display());
        let mut end = None::<u64>;
        for item in r {
            let (off, data) = item.expect("record");
            assert_eq!(off % 4096, 0, "{}: run at {off:#x}", p.display());
            assert!(
                !data.is_empty() && data.len() % 4096 == 0,
                "{}: run at {off:#x}",
                p.display()
            );
            if let Some(e) = end {
                assert!(
                    off > e,
                    "{}: run at {off:#x} overlaps or touches the one ending at {e:#x}",
                    p.display()
                );
            }
            for (i, blk) in data.chunks(4096).enumerate() {
                assert!(
                    blk.iter().any(|&b| b != 0),
                    "{}: zero block at {:#x}",
                    p.display(),
                    off + 4096 * i as u64
                );
            }
            end = Some(off + data.len() as u64);
            n += 1;
        }
    }
    assert!(n > 0, "no NDSPARSE runs found");
}

/// The BTT fixtures: the image size is the one the guest used, the v1.1 info block
/// (signature `BTT_ARENA_INFO\0\0`) is at byte 4096 and its copy (info2) ends the arena,
/// and external_lbasize is the sector size written to sysfs.
#[test]
fn btt_fixtures_match_their_json() {
    let mut n = 0;
    for p in files("btt", "ndsparse") {
        let meta = json(&p.with_extension("json"));
        let size = meta["image_size"].as_u64().expect("image_size");
        let ss = meta["sector_size"].as_u64().expect("sector_size");
        let r = ndsparse::runs(&p).expect("header");
        assert_eq!(r.size, size, "{}", p.display());
        if size > ndsparse::LOAD_LIMIT {
            continue;
        }
        let img = ndsparse::load(&p);
        assert_eq!(&img[4096..4112], b"BTT_ARENA_INFO\0\0", "{}", p.display());
        // struct btt_sb: external_lbasize is the le32 at 56, info2off the le64 at 112,
        // both relative to the arena (the info block).
        let ext = u32::from_le_bytes(img[4096 + 56..4096 + 60].try_into().unwrap());
        assert_eq!(u64::from(ext), ss, "{}", p.display());
        let info2off = u64::from_le_bytes(img[4096 + 112..4096 + 120].try_into().unwrap());
        let i2 = usize::try_from(4096 + info2off).unwrap();
        assert_eq!(
            img[4096..8192],
            img[i2..i2 + 4096],
            "{}: info2 differs from info",
            p.display()
        );
        // what the guest read back equals the sector pattern the guest script wrote
        for r in meta["readback"].as_array().expect("readback") {
            assert_eq!(
                r["guest_sha256"],
                r["expected_sha256"],
                "{}: lba {}",
                p.display(),
                r["lba"]
            );
        }
        n += 1;
    }
    assert!(n >= 3, "expected several BTT fixtures, found {n}");
}

/// The label-area dumps are the whole 128 KiB area and start with the index signature
/// `NAMESPACE_INDEX\0` (offset 0), except where the fixture flipped bytes on purpose.
#[test]
fn lsa_dumps_are_whole_areas() {
    let mut n = 0;
    for p in files("labels", "lsa")
        .into_iter()
        .chain(files("labels-v11", "lsa"))
    {
        let b = fs::read(&p).expect("read");
        assert_eq!(b.len(), 131072, "{}", p.display());
        assert_eq!(&b[..16], b"NAMESPACE_INDEX\0", "{}", p.display());
        assert_eq!(&b[256..272], b"NAMESPACE_INDEX\0", "{}", p.display());
        n += 1;
    }
    assert!(n >= 3, "expected several LSA dumps, found {n}");
}

/// A hand-made NDSPARSE file: two runs, loaded back byte for byte; a run past the image end
/// is an error.
#[test]
fn loader_reads_hand_made_file() {
    let dir = std::env::temp_dir().join(format!("ndsparse-test-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let p = dir.join("a.ndsparse");
    let mut f = b"NDSPARSE".to_vec();
    f.extend_from_slice(&16384u64.to_le_bytes());
    f.extend_from_slice(&4096u64.to_le_bytes());
    f.extend_from_slice(&4096u64.to_le_bytes());
    f.extend(std::iter::repeat(0xabu8).take(4096));
    f.extend_from_slice(&12288u64.to_le_bytes());
    f.extend_from_slice(&4096u64.to_le_bytes());
    f.extend(std::iter::repeat(0x01u8).take(4096));
    fs::write(&p, &f).unwrap();
    let img = ndsparse::load(&p);
    assert_eq!(img.len(), 16384);
    assert!(img[..4096].iter().all(|&b| b == 0));
    assert!(img[4096..8192].iter().all(|&b| b == 0xab));
    assert!(img[8192..12288].iter().all(|&b| b == 0));
    assert!(img[12288..].iter().all(|&b| b == 1));
    // same header, one run that ends past the 16 KiB image
    let mut g = f[..16].to_vec();
    g.extend_from_slice(&12288u64.to_le_bytes());
    g.extend_from_slice(&8192u64.to_le_bytes());
    g.extend(std::iter::repeat(0x01u8).take(8192));
    fs::write(&p, &g).unwrap();
    let r: Vec<_> = ndsparse::runs(&p).unwrap().collect();
    assert!(r.len() == 1 && r[0].is_err());
    fs::remove_dir_all(&dir).unwrap();
}

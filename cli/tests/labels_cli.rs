//! `infoblock labels list|init|add|rm` against what real kernels did.
//!
//! The facts (tests/data/kernel/README.md, `labels/`): Linux 6.1 wrote the label areas
//! `s1`..`s5` of a 128 KiB QEMU label area (`label-size=128K`) while creating, resizing and
//! deleting namespaces through sysfs, and after every step both 6.1 and 6.12 were booted on
//! the image and printed every namespace (`NDH-ND` lines: uuid, alt_name, size, resource,
//! mode). The region starts at physical 0x100000000 (`region0 resource=`), so a namespace's
//! DPA is `resource - 0x100000000`. `s0-init.lsa` was written by this project's `lsa.py init`
//! (not by a kernel); both kernels booted on it and showed no namespace.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

// Written for the root crate's MSRV (1.81, no `Option::is_none_or`); the CLI's is 1.85.
#[path = "../../tests/support/ndsparse.rs"]
#[allow(clippy::unnecessary_map_or)]
mod ndsparse;
#[path = "../../tests/support/mod.rs"]
mod support;
use support::TempFile;

mod common;
#[allow(unused_imports)]
use common::*;

/// The region's interleave-set cookie on the kernel rig (every kernel-written label holds it).
const COOKIE: &str = "0x00ba90120012b4dc";
const STEPS: [&str; 8] = [
    "s0-init",
    "s1-create-a",
    "s2-create-b",
    "s3-resize-a",
    "s4-delete-b",
    "s5-btt",
    "s6-pfn",
    "s7-btt2",
];
const GAMMA: &str = "33333333-4444-4555-8666-777777777777";
const BETA: &str = "22222222-3333-4444-8555-666666666666";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/kernel/labels")
        .join(name)
}

fn lsa(step: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("{step}.lsa"))).unwrap()
}

/// Exit 0, nothing on stderr.
fn ok(args: &[&str]) -> Output {
    let o = run(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    assert!(o.stderr.is_empty(), "{args:?}: {}", stderr(&o));
    o
}

/// Exit `code` with exactly one `infoblock: ` line on stderr.
fn fails(args: &[&str], code: i32) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    assert!(err.starts_with("infoblock: "), "{args:?}: {err}");
    err
}

fn list_json(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["labels", "list", "--json"];
    all.extend_from_slice(args);
    let o = run(&all);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{all:?}: {e}: {}", stderr(&o)));
    (o.status.code(), v)
}

/// One namespace: (uuid, name, dpa, size).
type Ns = (String, String, u64, u64);

/// The namespaces of a `labels list --json` report, sorted by DPA.
fn listed(v: &Value) -> Vec<Ns> {
    let mut out: Vec<Ns> = v["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["uuid"].as_str().unwrap().to_owned(),
                n["name"].as_str().unwrap().to_owned(),
                n["dpa"].as_u64().unwrap(),
                n["size"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort_by_key(|n| n.2);
    out
}

/// `key=value` pairs of an `NDH-ND` line (values without spaces; `""` is empty).
fn fields(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

fn get<'a>(f: &'a [(String, String)], key: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// What one kernel showed after re-booting on step `step`: every namespace of size > 0 as
/// (uuid, alt_name, resource - region start, size), with its sysfs `mode`, sorted by DPA.
fn kernel_showed(step: &str) -> Vec<(String, Vec<(Ns, String)>)> {
    let text = std::fs::read_to_string(fixture(&format!("{step}.json"))).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let kernels = v["reboot"]["kernels"].as_array().unwrap();
    assert_eq!(kernels.len(), 2, "{step}: 6.1 and 6.12");
    kernels
        .iter()
        .map(|k| {
            let lines: Vec<Vec<(String, String)>> = k["nd"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| fields(l.as_str().unwrap()))
                .collect();
            let region = lines
                .iter()
                .find(|f| get(f, "dev") == Some("region0"))
                .expect("region0 line");
            let start = hex(get(region, "resource").unwrap());
            assert_eq!(start, 0x1_0000_0000, "{step}: the rig's region start");
            let mut ns: Vec<(Ns, String)> = lines
                .iter()
                .filter(|f| get(f, "devtype") == Some("nd_namespace_pmem"))
                .filter(|f| get(f, "size").is_some_and(|s| s != "0"))
                .map(|f| {
                    let size: u64 = get(f, "size").unwrap().parse().unwrap();
                    let dpa = hex(get(f, "resource").unwrap()) - start;
                    let ns = (
                        get(f, "uuid").unwrap().to_owned(),
                        get(f, "alt_name").unwrap().to_owned(),
                        dpa,
                        size,
                    );
                    (ns, get(f, "mode").unwrap().to_owned())
                })
                .collect();
            ns.sort_by_key(|n| n.0 .2);
            (k["kernel"].as_str().unwrap().to_owned(), ns)
        })
        .collect()
}

/// The namespaces both kernels showed (they agree on every step), without modes.
fn kernel_namespaces(step: &str) -> Vec<Ns> {
    let all = kernel_showed(step);
    let first: Vec<Ns> = all[0].1.iter().map(|(n, _)| n.clone()).collect();
    for (kernel, ns) in &all {
        let these: Vec<Ns> = ns.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(these, first, "{step}: {kernel} disagrees");
    }
    first
}

/// The kernel's sysfs `mode` in ndctl's words (ndctl list: safe is "sector", memory is
/// "fsdax", dax is "devdax").
fn ndctl_mode(sysfs: &str) -> &str {
    match sysfs {
        "safe" => "sector",
        "memory" => "fsdax",
        "dax" => "devdax",
        other => other,
    }
}

/// `labels list --json` of every kernel-written area gives the namespaces 6.1 and 6.12
/// created from it: uuid, name, size, and DPA = resource - region start.
#[test]
fn list_equals_what_the_kernel_showed() {
    for step in STEPS {
        let path = fixture(&format!("{step}.lsa"));
        let (code, v) = list_json(&["--isetcookie", COOKIE, path.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{step}");
        assert_eq!(listed(&v), kernel_namespaces(step), "{step}");
        assert_eq!(v["label_less"], false, "{step}");
        assert_eq!(v["failure"], Value::Null, "{step}");
        // Without the data, the mode is what the label alone asks for. Where the label has a
        // claim class (s7: epsilon, BTT2) that is the kernel's mode; the others have none and
        // read raw here, whatever info-block their data holds.
        let kernel = &kernel_showed(step)[0].1;
        for n in v["namespaces"].as_array().unwrap() {
            assert_eq!(n["mode_from"], "label", "{step}");
            let (_, mode) = kernel.iter().find(|(k, _)| k.0 == n["uuid"]).unwrap();
            match n["claim_class"].as_str().unwrap() {
                "none" => assert_eq!(n["mode"], "raw", "{step}"),
                claim => assert_eq!(n["mode"], ndctl_mode(mode), "{step}: {claim}"),
            }
        }
    }
    let (_, v) = list_json(&[fixture("s7-btt2.lsa").to_str().unwrap()]);
    let epsilon = v["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "epsilon");
    assert_eq!(epsilon.unwrap()["claim_class"], "btt2");
}

/// The kernel's own corruption cases (c1, c2: the s6 image with index bytes flipped, booted on
/// 6.1 and 6.12): with the current index bad the kernel showed s6's namespaces (through
/// index 0); with both bad it made the region label-less (one `nd_namespace_io` of the whole
/// region), which `list` reports with exit 1.
#[test]
fn the_kernels_corrupted_areas() {
    let c1 = fixture("c1-corrupt-current-index.lsa");
    let (code, v) = list_json(&["--isetcookie", COOKIE, c1.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(listed(&v), kernel_namespaces("c1-corrupt-current-index"));
    assert_eq!(listed(&v), kernel_namespaces("s6-pfn"));
    assert_eq!(v["findings"]["bad_index"], 1);
    assert_eq!(v["current"], 0);

    let c2 = fixture("c2-corrupt-both-indexes.lsa");
    let text = std::fs::read_to_string(fixture("c2-corrupt-both-indexes.json")).unwrap();
    let truth: Value = serde_json::from_str(&text).unwrap();
    for k in truth["reboot"]["kernels"].as_array().unwrap() {
        let io: Vec<&Value> = k["nd"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l.as_str().unwrap().contains("devtype=nd_namespace_io"))
            .collect();
        assert_eq!(io.len(), 1, "{}: one label-less namespace", k["kernel"]);
    }
    let (code, v) = list_json(&[c2.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert_eq!(v["label_less"], true);
    assert_eq!(v["namespaces"], Value::Array(vec![]));
    let err = fails(&["labels", "list", c2.to_str().unwrap()], 1);
    assert!(err.contains("label-less"), "{err}");
}

/// The whole images of s5, s6 and s7 (512 MiB region + 128 KiB label area, as the kernel left
/// them), read with `--tail 128K --region-start 0x100000000`: the namespaces and their modes
/// are what both kernels showed: gamma in sector mode (sysfs `safe`) and delta fsdax (sysfs
/// `memory`) because their data holds the BTT and the pfn block the kernel wrote, although
/// their labels have no claim class; epsilon (claim class BTT2) in sector mode.
#[test]
fn tail_image_with_modes_equals_the_kernel() {
    for step in ["s5-btt", "s6-pfn", "s7-btt2"] {
        tail_image_modes(step);
    }
}

fn tail_image_modes(step: &str) {
    let runs = ndsparse::runs(fixture(&format!("{step}.ndsparse"))).unwrap();
    let tmp = TempFile::new("labels-s5.img", &[]);
    let file = File::options().write(true).open(&tmp.0).unwrap();
    file.set_len(runs.size).unwrap();
    for r in runs {
        let (off, data) = r.unwrap();
        file.write_all_at(&data, off).unwrap();
    }
    drop(file);
    let (code, v) = list_json(&[
        "--tail",
        "128K",
        "--region-start",
        "0x100000000",
        "--isetcookie",
        COOKIE,
        tmp.path(),
    ]);
    assert_eq!(code, Some(0));
    // The README: label area = the last 128 KiB, at image offset 0x20000000.
    assert_eq!(v["offset"], 0x2000_0000u64);
    for (kernel, ns) in kernel_showed(step) {
        let mut got: Vec<(Ns, String)> = v["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                assert_eq!(n["mode_from"], "probe");
                (
                    (
                        n["uuid"].as_str().unwrap().to_owned(),
                        n["name"].as_str().unwrap().to_owned(),
                        n["dpa"].as_u64().unwrap(),
                        n["size"].as_u64().unwrap(),
                    ),
                    n["mode"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort_by_key(|n| n.0 .2);
        let want: Vec<(Ns, String)> = ns
            .into_iter()
            .map(|(n, m)| (n, ndctl_mode(&m).to_owned()))
            .collect();
        assert_eq!(got, want, "{step}: {kernel}");
    }
    assert_eq!(listed(&v), kernel_namespaces(step));
    // The tail is the step's label area.
    let (_, dump) = list_json(&[fixture(&format!("{step}.lsa")).to_str().unwrap()]);
    assert_eq!(v["label"], dump["label"]);
}

/// One bit of the current index's free bitmap flipped (byte 80: its checksum fails): the
/// kernel uses the other index. Creating and resizing write two indexes (the label with
/// UPDATING, then the final one), so the older index already holds the new namespace: the
/// same namespaces. Deleting writes one index, so after s4 the older index is s3's.
#[test]
fn one_index_corrupted_gives_the_other_one() {
    for step in &STEPS[1..] {
        let bytes = lsa(step);
        let (_, v) = list_json(&[fixture(&format!("{step}.lsa")).to_str().unwrap()]);
        let current = v["current"].as_u64().unwrap() as usize;
        let mut bad = bytes.clone();
        bad[current * 256 + 80] ^= 1;
        let tmp = TempFile::new("labels-bad1.lsa", &bad);
        let (code, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
        assert_eq!(code, Some(0), "{step}");
        let want = if *step == "s4-delete-b" {
            "s3-resize-a"
        } else {
            step
        };
        assert_eq!(listed(&v), kernel_namespaces(want), "{step}");
        assert_eq!(v["current"].as_u64(), Some(1 - current as u64), "{step}");
        assert_eq!(v["findings"]["bad_index"].as_u64(), Some(current as u64));
        let index = &v["index"][current];
        assert_eq!(index["valid"], false, "{step}");
        assert!(
            index["error"].as_str().unwrap().contains("checksum"),
            "{step}"
        );
        let text = stdout(&ok(&["labels", "list", tmp.path()]));
        assert!(text.contains(&format!("index {current} is bad")), "{text}");
    }
}

/// Both indexes corrupted: no valid index, the kernel treats the DIMM as label-less (the
/// harness README: both index blocks invalid, no namespace from labels). Exit 1 with the
/// report on stdout and one line on stderr.
#[test]
fn both_indexes_corrupted_is_label_less() {
    let mut bad = lsa("s5-btt");
    bad[80] ^= 1;
    bad[256 + 80] ^= 1;
    let tmp = TempFile::new("labels-bad2.lsa", &bad);
    let (code, v) = list_json(&[tmp.path()]);
    assert_eq!(code, Some(1));
    assert_eq!(v["label_less"], true);
    assert_eq!(v["namespaces"], Value::Array(vec![]));
    for i in 0..2 {
        assert_eq!(v["index"][i]["valid"], false);
        assert!(v["index"][i]["error"]
            .as_str()
            .unwrap()
            .contains("checksum"));
    }
    let err = fails(&["labels", "list", tmp.path()], 1);
    assert!(err.contains("label-less"), "{err}");
}

/// `nd_fletcher64` of `bytes` with the 8-byte checksum field at `at` read as zero, stored.
fn reseal(bytes: &mut [u8], at: usize) {
    bytes[at..at + 8].fill(0);
    let sum = nvdimm_infoblock::nd_fletcher64(bytes);
    bytes[at..at + 8].copy_from_slice(&sum.to_le_bytes());
}

/// A bad label checksum and a duplicate uuid, made by hand from the kernel's s2 area (index 0
/// current, alpha in slot 1 at byte 512 + 256 = 768, beta in slot 2; 256-byte v1.2 labels with
/// the checksum at 248; index blocks of 256 bytes with the checksum at 64 and the free bitmap
/// at 72). What the kernel does, from label.c and namespace_devs.c (docs/labels.md, "How the
/// kernel reads the area"):
/// * a v1.2 label whose checksum fails is not active (`slot_valid`): alpha disappears, beta
///   stays;
/// * a second active label of alpha (slot 3, at DPA 256 MiB so that the DPA reservation
///   passes) makes `has_uuid_at_pos` find the uuid twice: "missing label", the region gets no
///   namespace at all (exit 1).
#[test]
fn bad_label_checksum_and_duplicate_uuid() {
    let s2 = lsa("s2-create-b");
    let mut bad = s2.clone();
    bad[768 + 20] ^= 0x20; // "alpha" -> "alphA": the stored checksum no longer matches
    let tmp = TempFile::new("labels-badsum.lsa", &bad);
    let (code, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
    assert_eq!(code, Some(0));
    let beta: Vec<Ns> = kernel_namespaces("s2-create-b")
        .into_iter()
        .filter(|n| n.0 == BETA)
        .collect();
    assert_eq!(listed(&v), beta);
    assert_eq!(v["findings"]["bad_checksum"], 1);
    let alpha = v["label"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["slot"] == 1)
        .unwrap()
        .clone();
    assert_eq!(
        (
            alpha["in_use"].as_bool(),
            alpha["active"].as_bool(),
            alpha["checksum_ok"].as_bool()
        ),
        (Some(true), Some(false), Some(false))
    );
    let text = stdout(&ok(&["labels", "list", tmp.path()]));
    assert!(text.contains("bad checksum"), "{text}");

    let mut dup = s2.clone();
    let (from, to) = (512 + 256, 512 + 3 * 256);
    let label: Vec<u8> = dup[from..from + 256].to_vec();
    dup[to..to + 256].copy_from_slice(&label);
    dup[to + 120..to + 124].copy_from_slice(&3u32.to_le_bytes()); // slot
    dup[to + 104..to + 112].copy_from_slice(&(256u64 << 20).to_le_bytes()); // dpa
    reseal(&mut dup[to..to + 256], 248);
    dup[72] &= !(1 << 3); // slot 3 in use in index 0
    reseal(&mut dup[..256], 64);
    let tmp = TempFile::new("labels-dup.lsa", &dup);
    let (code, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
    assert_eq!(code, Some(1));
    assert_eq!(v["findings"]["duplicate_uuid"], 1);
    assert_eq!(v["namespaces"], Value::Array(vec![]));
    assert!(v["failure"]
        .as_str()
        .unwrap()
        .contains("11111111-2222-4333-8444-555555555555"));
    let err = fails(&["labels", "list", tmp.path()], 1);
    assert!(err.contains("the kernel creates no namespace"), "{err}");
}

/// `labels init` on a zeroed 128 KiB file writes the index pair `s0-init.lsa` holds
/// (lsa.py's rendering of the kernel's init_labels; tool-made, see the README) and the
/// numbers worked out by hand: 256-byte labels, n = 131072 / 256 = 512, index size
/// ALIGN(72 + 512/8, 256) = 256, nslot = (131072 - 2·256) / 256 = 510; index 0 seq 3
/// (current), index 1 seq 2; every slot free. v1.1: nslot = (131072 - 512) / 128 = 1020.
/// Both kernels booted on s0-init and showed no namespace, i.e. read it as a valid empty
/// area (a label-less DIMM would show one label-less namespace instead of an empty seed).
#[test]
fn init_writes_an_empty_index_pair() {
    let tmp = TempFile::new("labels-init.lsa", &[0u8; 128 << 10]);
    let o = ok(&["labels", "init", tmp.path()]);
    assert!(stdout(&o).contains("510 slots"), "{}", stdout(&o));
    assert_eq!(std::fs::read(&tmp.0).unwrap(), lsa("s0-init"));
    let (code, v) = list_json(&[tmp.path()]);
    assert_eq!(code, Some(0));
    assert_eq!(v["version"], "1.2");
    assert_eq!(v["current"], 0);
    for (i, seq) in [(0, 3), (1, 2)] {
        let x = &v["index"][i];
        assert_eq!(
            (x["seq"].as_u64(), x["nslot"].as_u64()),
            (Some(seq), Some(510))
        );
        assert_eq!(
            (x["free"].as_u64(), x["valid"].as_bool()),
            (Some(510), Some(true))
        );
        assert_eq!(
            (x["major"].as_u64(), x["minor"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(x["labelsize"], 256);
    }
    assert!(kernel_namespaces("s0-init").is_empty());
    assert_eq!(listed(&v), kernel_namespaces("s0-init"));

    // A valid area is not overwritten without --force (exit 2, bytes unchanged).
    let before = std::fs::read(&tmp.0).unwrap();
    let err = fails(&["labels", "init", "--version", "1.1", tmp.path()], 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&tmp.0).unwrap(), before);
    ok(&["labels", "init", "--version", "1.1", "--force", tmp.path()]);
    let (_, v) = list_json(&[tmp.path()]);
    assert_eq!(v["version"], "1.1");
    assert_eq!(v["index"][0]["nslot"], 1020);
    assert_eq!(v["index"][0]["labelsize"], 128);
    assert_eq!(v["index"][0]["minor"], 1);

    // --force on a kernel-written area with namespaces: only the two index blocks change.
    let s5 = lsa("s5-btt");
    let tmp = TempFile::new("labels-init5.lsa", &s5);
    ok(&["labels", "init", "--force", tmp.path()]);
    let after = std::fs::read(&tmp.0).unwrap();
    assert_eq!(after[512..], s5[512..]);
    assert_eq!(after[..512], lsa("s0-init")[..512]);
    let (_, v) = list_json(&[tmp.path()]);
    assert!(listed(&v).is_empty());
}

/// A v1.1 area (128-byte labels): add and list work; the label has no GUIDs, so ndctl prints
/// neither `type_guid` nor `abstraction_guid` (`dump_label_json` stops before them for labels
/// under 256 bytes) and there is no checksum; a claim class cannot be stored (exit 2).
#[test]
fn v1_1_area() {
    let tmp = TempFile::new("labels-v11.lsa", &[0u8; 128 << 10]);
    ok(&["labels", "init", "--version", "1.1", tmp.path()]);
    let err = fails(
        &[
            "labels",
            "add",
            tmp.path(),
            "--uuid",
            GAMMA,
            "--size",
            "16M",
            "--isetcookie",
            COOKIE,
            "--claim",
            "pfn",
        ],
        2,
    );
    assert!(err.contains("v1.1"), "{err}");
    ok(&[
        "labels",
        "add",
        tmp.path(),
        "--uuid",
        GAMMA,
        "--name",
        "old",
        "--size",
        "16M",
        "--isetcookie",
        COOKIE,
    ]);
    let (code, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
    assert_eq!(code, Some(0));
    assert_eq!(v["version"], "1.1");
    assert_eq!(
        listed(&v),
        vec![(GAMMA.to_owned(), "old".to_owned(), 0, 16 << 20)]
    );
    let active = v["label"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["active"] == true)
        .unwrap()
        .clone();
    assert!(active.get("type_guid").is_none() && active.get("abstraction_guid").is_none());
    assert_eq!(active["checksum_ok"], Value::Null);
    // init, then the two passes of add: index 0 seq 3 → index 1 seq 1 → index 0 seq 2.
    assert_eq!(v["current"], 0);
    assert_eq!(v["index"][0]["seq"], 2);
}

/// `labels rm` of beta on the kernel's s3 area writes exactly the bytes the kernel wrote when
/// it deleted beta (s4): one index block, the next one with seq 2.
#[test]
fn rm_writes_the_kernels_bytes() {
    let tmp = TempFile::new("labels-rm.lsa", &lsa("s3-resize-a"));
    let o = ok(&["labels", "rm", tmp.path(), "--uuid", BETA]);
    assert!(stdout(&o).contains("index 1 (seq 2)"), "{}", stdout(&o));
    assert_eq!(std::fs::read(&tmp.0).unwrap(), lsa("s4-delete-b"));
    let (_, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
    assert_eq!(listed(&v), kernel_namespaces("s4-delete-b"));
    // Gone: a second rm is refused (exit 1) and writes nothing.
    let err = fails(&["labels", "rm", tmp.path(), "--uuid", BETA], 1);
    assert!(err.contains("no active label"), "{err}");
    assert_eq!(std::fs::read(&tmp.0).unwrap(), lsa("s4-delete-b"));
}

/// `labels add` of gamma (64 MiB) on the kernel's s4 area, without --dpa, picks the DPA the
/// kernel picked (resource 0x106000000: DPA 0x6000000, right after alpha's 96 MiB), and the
/// area then holds the namespaces both kernels showed after s5. The cookie is taken from the
/// area's labels.
#[test]
fn add_then_list_shows_it_where_the_kernel_put_it() {
    let tmp = TempFile::new("labels-add.lsa", &lsa("s4-delete-b"));
    let o = ok(&[
        "labels",
        "add",
        tmp.path(),
        "--uuid",
        GAMMA,
        "--name",
        "gamma",
        "--size",
        "64M",
    ]);
    let text = stdout(&o);
    assert!(text.contains("at DPA 0x6000000 (chosen"), "{text}");
    let (_, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
    assert_eq!(listed(&v), kernel_namespaces("s5-btt"));
    // The kernel's two-phase write: the UPDATING label in a free slot (0), then the final
    // label (2): one active label, the other stale with flag 8.
    let labels = v["label"].as_array().unwrap();
    let gamma: Vec<&Value> = labels.iter().filter(|l| l["uuid"] == GAMMA).collect();
    assert_eq!(gamma.len(), 2);
    assert!(gamma.iter().any(|l| l["active"] == true && l["flags"] == 0));
    assert!(gamma
        .iter()
        .any(|l| l["active"] == false && l["flags"] == 8));

    // Refusals, exit 1 and nothing written: the uuid again, a range over alpha's.
    let before = std::fs::read(&tmp.0).unwrap();
    let err = fails(
        &[
            "labels",
            "add",
            tmp.path(),
            "--uuid",
            GAMMA,
            "--size",
            "16M",
        ],
        1,
    );
    assert!(err.contains("already"), "{err}");
    let other = "44444444-5555-4666-8777-888888888888";
    let err = fails(
        &[
            "labels",
            "add",
            tmp.path(),
            "--uuid",
            other,
            "--size",
            "16M",
            "--dpa",
            "0x1000000",
        ],
        1,
    );
    assert!(err.contains("overlaps"), "{err}");
    assert_eq!(std::fs::read(&tmp.0).unwrap(), before);

    // An explicit --dpa and a claim class.
    ok(&[
        "labels",
        "add",
        tmp.path(),
        "--uuid",
        other,
        "--name",
        "delta",
        "--size",
        "32M",
        "--dpa",
        "0xa000000",
        "--claim",
        "pfn",
    ]);
    let (_, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
    let delta = v["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["uuid"] == other)
        .unwrap()
        .clone();
    assert_eq!(delta["dpa"], 0xa00_0000u64);
    assert_eq!(delta["size"], 32u64 << 20);
    assert_eq!(delta["claim_class"], "pfn");
    assert_eq!(delta["mode"], "fsdax");
    // ndctl prints the abstraction GUID with uuid_unparse of the stored bytes.
    let label = v["label"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["uuid"] == other && l["active"] == true)
        .unwrap()
        .clone();
    assert_eq!(
        label["abstraction_guid"],
        "ba006426-9ffb-7746-bcb0-968f11d0d225"
    );
    assert_eq!(label["type_guid"], "79d3f066-f3b4-7440-ac43-0d3318b78cdb");
    assert_eq!(label["isetcookie"], 0x00ba_9012_0012_b4dcu64);

    // --align: alpha 0..96 MiB, gamma 96..160 MiB, delta 0xa000000 = 160 MiB ..192 MiB; the
    // lowest start aligned to 256 MiB past them is ALIGN(192 MiB, 256 MiB) = 256 MiB (the
    // size a multiple of the align, as __size_store wants it).
    let eps = "55555555-6666-4777-8888-999999999999";
    let o = ok(&[
        "labels",
        "add",
        tmp.path(),
        "--uuid",
        eps,
        "--size",
        "256M",
        "--align",
        "256M",
        "--dry-run",
    ]);
    assert!(
        stdout(&o).contains("at DPA 0x10000000 (chosen"),
        "{}",
        stdout(&o)
    );

    // rm then gone.
    ok(&["labels", "rm", tmp.path(), "--uuid", other]);
    let (_, v) = list_json(&["--isetcookie", COOKIE, tmp.path()]);
    assert_eq!(listed(&v), kernel_namespaces("s5-btt"));
}

/// `--dry-run` of init, add and rm: the file's bytes do not change, and the ranges printed
/// are the ones the real run then changes (every changed byte lies inside one).
#[test]
fn dry_run_writes_nothing_and_names_the_ranges() {
    let cases: [(&str, Vec<&str>); 3] = [
        ("s4-delete-b", vec!["init", "--force"]),
        (
            "s4-delete-b",
            vec!["add", "--uuid", GAMMA, "--name", "gamma", "--size", "64M"],
        ),
        ("s3-resize-a", vec!["rm", "--uuid", BETA]),
    ];
    for (step, args) in cases {
        let original = lsa(step);
        let tmp = TempFile::new("labels-dry.lsa", &original);
        let mut dry = vec!["labels"];
        dry.extend(&args);
        dry.extend(["--dry-run", "--json", tmp.path()]);
        let o = ok(&dry);
        assert_eq!(std::fs::read(&tmp.0).unwrap(), original, "{args:?}");
        let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            (plan["dry_run"].as_bool(), plan["written"].as_bool()),
            (Some(true), Some(false))
        );
        let ranges: Vec<(u64, u64)> = plan["writes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let off = w["offset"].as_u64().unwrap();
                (off, off + w["len"].as_u64().unwrap())
            })
            .collect();
        assert!(!ranges.is_empty());
        let mut real = vec!["labels"];
        real.extend(&args);
        real.push(tmp.path());
        ok(&real);
        let after = std::fs::read(&tmp.0).unwrap();
        assert_ne!(after, original, "{args:?}");
        for (i, (a, b)) in original.iter().zip(&after).enumerate() {
            if a != b {
                let i = i as u64;
                assert!(
                    ranges.iter().any(|&(s, e)| s <= i && i < e),
                    "{args:?}: byte {i:#x}"
                );
            }
        }
    }
}

/// The write order of `add` and `rm` keeps every crash point readable: the area after the
/// first k writes of the plan (and with the (k+1)-th torn after 8 or 128 bytes) lists the
/// namespaces the kernel showed before the change or those it showed after it.
#[test]
fn a_crash_between_writes_leaves_the_old_or_the_new_namespaces() {
    let cases = [
        (
            "s4-delete-b",
            "s5-btt",
            vec!["add", "--uuid", GAMMA, "--name", "gamma", "--size", "64M"],
        ),
        ("s3-resize-a", "s4-delete-b", vec!["rm", "--uuid", BETA]),
    ];
    for (before, after, args) in cases {
        let original = lsa(before);
        let tmp = TempFile::new("labels-crash.lsa", &original);
        let mut dry = vec!["labels"];
        dry.extend(&args);
        dry.extend(["--dry-run", "--json", tmp.path()]);
        let plan: Value = serde_json::from_slice(&ok(&dry).stdout).unwrap();
        let writes: Vec<(usize, usize)> = plan["writes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let off = w["offset"].as_u64().unwrap() as usize;
                (off, off + w["len"].as_u64().unwrap() as usize)
            })
            .collect();
        let mut real = vec!["labels"];
        real.extend(&args);
        real.push(tmp.path());
        ok(&real);
        let done = std::fs::read(&tmp.0).unwrap();
        let (old, new) = (kernel_namespaces(before), kernel_namespaces(after));
        assert_ne!(old, new);
        for k in 0..=writes.len() {
            for torn in [0usize, 8, 128] {
                if torn > 0 && k == writes.len() {
                    continue;
                }
                let mut area = original.clone();
                for &(s, e) in &writes[..k] {
                    area[s..e].copy_from_slice(&done[s..e]);
                }
                if torn > 0 {
                    let (s, _) = writes[k];
                    area[s..s + torn].copy_from_slice(&done[s..s + torn]);
                }
                let cut = TempFile::new("labels-cut.lsa", &area);
                let (code, v) = list_json(&["--isetcookie", COOKIE, cut.path()]);
                assert_eq!(code, Some(0), "{args:?} after {k} writes (+{torn})");
                let got = listed(&v);
                assert!(
                    got == old || got == new,
                    "{args:?} after {k} writes (+{torn}): {got:?}"
                );
            }
        }
    }
}

/// `--tail 128K` on a 4 MiB image: the label area is the last 128 KiB; init, add, list and
/// rm work there, give the same area bytes as on a separate dump, and never touch a byte
/// before the tail.
#[test]
fn tail_of_an_image() {
    let size = 4usize << 20;
    let tail = 128usize << 10;
    let head: Vec<u8> = (0..size - tail).map(|i| (i * 7 % 251) as u8).collect();
    let mut image = head.clone();
    image.resize(size, 0);
    let img = TempFile::new("labels-tail.img", &image);
    let dump = TempFile::new("labels-tail.lsa", &[0u8; 128 << 10]);
    let add = [
        "--uuid",
        GAMMA,
        "--name",
        "t",
        "--size",
        "1M",
        "--isetcookie",
        COOKIE,
    ];
    for (cmd, extra) in [("init", &[][..]), ("add", &add[..]), ("rm", &add[..2])] {
        let mut a = vec!["labels", cmd, "--tail", "128K", img.path()];
        a.extend_from_slice(extra);
        ok(&a);
        let mut b = vec!["labels", cmd, dump.path()];
        b.extend_from_slice(extra);
        if cmd == "add" {
            // The tail's DIMM (4 MiB - 128 KiB) is under 16 MiB: the kernel's default align is
            // a page there; a bare dump has no DIMM size, so it is given.
            b.extend_from_slice(&["--align", "4K"]);
        }
        ok(&b);
        let now = std::fs::read(&img.0).unwrap();
        assert_eq!(now.len(), size, "{cmd}");
        assert!(
            now[..size - tail] == head[..],
            "{cmd}: a byte before the tail changed"
        );
        assert_eq!(
            now[size - tail..],
            std::fs::read(&dump.0).unwrap()[..],
            "{cmd}"
        );
        if cmd == "add" {
            let (code, v) = list_json(&["--tail", "131072", img.path()]);
            assert_eq!(code, Some(0));
            assert_eq!(
                listed(&v),
                vec![(GAMMA.to_owned(), "t".to_owned(), 0, 1 << 20)]
            );
            // The data is the pattern: no info-block, the kernel would use it raw.
            assert_eq!(v["namespaces"][0]["mode"], "raw");
            assert_eq!(v["namespaces"][0]["mode_from"], "probe");
        }
    }
    // The DIMM is the 4 MiB - 128 KiB before the tail: 4 MiB does not fit.
    let err = fails(
        &[
            "labels",
            "add",
            "--tail",
            "128K",
            img.path(),
            "--uuid",
            GAMMA,
            "--size",
            "4M",
            "--isetcookie",
            COOKIE,
        ],
        1,
    );
    assert!(err.contains("no free range"), "{err}");
    let err = fails(&["labels", "list", "--tail", "8M", img.path()], 2);
    assert!(err.contains("shorter than --tail"), "{err}");
}

/// The JSON keys ndctl's `read-labels -j` prints (ndctl/dimm.c `dump_index_json`,
/// `dump_label_json`), in its order, come first in each object; then this tool's own.
#[test]
fn json_keys_follow_ndctl() {
    let path = fixture("s2-create-b.lsa");
    let text = stdout(&ok(&["labels", "list", "--json", path.to_str().unwrap()]));
    // The first object after `after`: its keys in the order printed.
    let keys = |after: &str| -> Vec<String> {
        let start = text.find(after).unwrap() + after.len();
        let body = &text[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
        body.lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .map(|l| l[..l.find('"').unwrap()].to_owned())
            .collect()
    };
    assert_eq!(
        keys("\"index\": [")[..6],
        ["signature", "major", "minor", "labelsize", "seq", "nslot"]
    );
    assert_eq!(
        keys("\"label\": [")[..12],
        [
            "uuid",
            "name",
            "slot",
            "position",
            "nlabel",
            "flags",
            "isetcookie",
            "lbasize",
            "dpa",
            "rawsize",
            "type_guid",
            "abstraction_guid"
        ]
    );
    assert_eq!(
        keys("\"namespaces\": [")[..4],
        ["uuid", "name", "size", "dpa"]
    );
}

/// Every failure: exactly one stderr line, the right exit code.
#[test]
fn every_failure_is_one_stderr_line() {
    let missing = "/nonexistent/labels.lsa";
    let zero = TempFile::new("labels-zero.lsa", &[0u8; 128 << 10]);
    let tiny = TempFile::new("labels-tiny.lsa", &[0u8; 100]);
    let s4 = TempFile::new("labels-fail.lsa", &lsa("s4-delete-b"));
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["labels"], 2),
        (vec!["labels", "frob"], 2),
        (vec!["labels", "list"], 2),
        (vec!["labels", "list", missing], 2),
        (vec!["labels", "list", zero.path()], 1),
        (vec!["labels", "list", "--json", zero.path()], 1),
        (vec!["labels", "list", "--tail", "0", zero.path()], 2),
        (vec!["labels", "list", "--tail", "1Q", zero.path()], 2),
        (vec!["labels", "init", missing], 2),
        (vec!["labels", "init", tiny.path()], 1),
        (vec!["labels", "init", "--version", "1.3", zero.path()], 2),
        (
            vec![
                "labels",
                "add",
                zero.path(),
                "--uuid",
                GAMMA,
                "--size",
                "1M",
            ],
            2,
        ),
        (vec!["labels", "add", s4.path(), "--size", "1M"], 2),
        (
            vec!["labels", "add", s4.path(), "--uuid", "nope", "--size", "1M"],
            2,
        ),
        (
            vec!["labels", "add", s4.path(), "--uuid", GAMMA, "--size", "0"],
            1,
        ),
        (
            vec![
                "labels",
                "add",
                s4.path(),
                "--uuid",
                GAMMA,
                "--size",
                "1M",
                "--name",
                "0123456789012345678901234567890123456789012345678901234567890123",
            ],
            2,
        ),
        (vec!["labels", "rm", s4.path(), "--uuid", BETA], 1),
        (vec!["labels", "rm", zero.path(), "--uuid", BETA], 2),
        (vec!["labels", "rm", s4.path(), "--bogus"], 2),
    ];
    for (args, code) in cases {
        fails(&args, code);
    }
    assert_eq!(std::fs::read(&s4.0).unwrap(), lsa("s4-delete-b"));
    assert_eq!(std::fs::read(&zero.0).unwrap(), vec![0u8; 128 << 10]);
}

/// `--help` of the group and of each subcommand: exit 0 on stdout, the exit codes named.
#[test]
fn help() {
    for args in [
        vec!["labels", "--help"],
        vec!["help", "labels"],
        vec!["labels", "list", "--help"],
        vec!["labels", "init", "-h"],
        vec!["labels", "add", "--help"],
        vec!["labels", "rm", "--help"],
        vec!["labels", "help", "add"],
    ] {
        let o = ok(&args);
        let text = stdout(&o);
        assert!(text.contains("Usage: infoblock labels"), "{args:?}: {text}");
        assert!(text.contains("Exit codes"), "{args:?}: {text}");
    }
    let text = stdout(&ok(&["labels", "add", "--help"]));
    for flag in [
        "--uuid",
        "--name",
        "--size",
        "--dpa",
        "--claim",
        "--tail",
        "--dry-run",
    ] {
        assert!(text.contains(flag), "{flag}: {text}");
    }
}

/// The kernel writes only sizes that are multiples of the region's alignment, which is a
/// power of two of at least a page (namespace_devs.c `__size_store`: `val % nd_region->align`
/// → -EINVAL), and allocates DPAs on that grid: `add` refuses a size off the alignment (here
/// `--align 4K`, the smallest) or a DPA off the 4 KiB grid as a bad value (exit 2, one line)
/// and leaves the area as it was.
#[test]
fn add_refuses_sizes_the_kernel_never_writes() {
    let tmp = TempFile::new("labels-grid.lsa", &[0u8; 128 << 10]);
    ok(&["labels", "init", tmp.path()]);
    let before = std::fs::read(&tmp.0).unwrap();
    for (extra, says) in [
        (&["--size", "1", "--align", "4K"][..], "alignment 0x1000"),
        (&["--size", "0x1001", "--align", "4K"], "alignment 0x1000"),
        (&["--size", "16M", "--dpa", "0x123"], "4 KiB"),
    ] {
        let mut args = vec![
            "labels",
            "add",
            tmp.path(),
            "--uuid",
            GAMMA,
            "--isetcookie",
            COOKIE,
        ];
        args.extend_from_slice(extra);
        let err = fails(&args, 2);
        assert!(err.contains(says), "{err}");
        assert!(
            std::fs::read(&tmp.0).unwrap() == before,
            "{extra:?} changed the area"
        );
    }
}

/// The region's alignment. Linux 6.x region_devs.c `default_align`: MEMREMAP_COMPAT_ALIGN_MAX
/// = SZ_16M for a pmem region, PAGE_SIZE when the region is under 16 MiB, and multiplied by
/// the number of mappings only when 16 MiB is not a multiple of it (one DIMM: 16 MiB % 1 = 0,
/// so 16 MiB). The kernel rig's README records the region align of 16 MiB. So with no
/// `--align` and no DIMM size: 0x1001000 (16 MiB + 4 KiB, on the page grid) is refused by
/// `__size_store` (0x1001000 % 0x1000000 = 0x1000), 0x2000000 (32 MiB = 2 x 16 MiB) is
/// accepted; `--align 4K` accepts 0x1001000 (= 4097 x 4 KiB) as before `--align` checked
/// sizes; an align that is not a power of two of at least 4 KiB is a bad value
/// (`align_store` refuses it too).
#[test]
fn add_checks_the_size_against_the_region_alignment() {
    let tmp = TempFile::new("labels-align.lsa", &[0u8; 128 << 10]);
    ok(&["labels", "init", tmp.path()]);
    let before = std::fs::read(&tmp.0).unwrap();
    let base = [
        "labels",
        "add",
        tmp.path(),
        "--uuid",
        GAMMA,
        "--isetcookie",
        COOKIE,
        "--json",
    ];
    let with = |extra: &[&'static str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    };
    let err = fails(&with(&["--size", "0x1001000"]), 2);
    assert!(err.contains("--size 0x1001000"), "{err}");
    assert!(err.contains("alignment 0x1000000"), "{err}");
    assert!(std::fs::read(&tmp.0).unwrap() == before);
    for bad in ["0", "3K", "6K", "2K"] {
        fails(&with(&["--size", "16M", "--align", bad]), 2);
    }
    assert!(std::fs::read(&tmp.0).unwrap() == before);

    let o = ok(&with(&["--size", "32M", "--dry-run"]));
    assert_eq!(json(&o)["namespace"]["size"], 0x200_0000);
    let o = ok(&with(&["--size", "0x1001000", "--align", "4K"]));
    let v = json(&o);
    assert_eq!(v["namespace"]["size"], 0x100_1000);
    assert_eq!(v["namespace"]["dpa"], 0);

    let o = ok(&["labels", "add", "--help"]);
    let help = stdout(&o);
    let at = help.find("--align").unwrap();
    let text = &help[at..];
    for needle in ["power of two", "16M", "4K", "__size_store"] {
        assert!(text.contains(needle), "{needle}: {help}");
    }
}

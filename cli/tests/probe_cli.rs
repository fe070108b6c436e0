//! `infoblock probe`: the kernel's probe order (btt, pfn, dax, raw), what each driver did,
//! and where the data is. pfn/dax answers are compared with `check` (which the kernel suite,
//! tests/kernel/run-suite.sh, compares with Linux 6.1 and 6.12); BTT answers with the
//! kernel-written fixtures (tests/data/kernel/btt/); namespaces by name with the recorded
//! sysfs trees (cli/tests/data/sysfs/).

// Shared with the library's tests (MSRV 1.81, where `is_none_or` is not available).
#[allow(clippy::unnecessary_map_or)]
#[path = "../../tests/support/ndsparse.rs"]
mod ndsparse;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::TempFile;

mod common;
#[allow(unused_imports)]
use common::*;

fn one_line(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("infoblock: "), "{err}");
    err
}

fn ndctl(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/ndctl")
        .join(rel)
        .display()
        .to_string()
}

fn tree(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sysfs")
        .join(name)
        .display()
        .to_string()
}

fn btt_fixture(name: &str) -> TempFile {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/kernel/btt");
    let file = TempFile::new(&format!("infoblock-probe-{name}.img"), &[]);
    ndsparse::unpack(dir.join(format!("{name}.ndsparse")), &file.0).unwrap();
    file
}

/// fsdax and devdax heads written by ndctl: probe says what `check` says (verdict, size),
/// and the data range is `data_start - ns_start` .. `+ dev_size`; the BTT passed on the
/// pfn/dax signature and the other of pfn/dax passed too.
#[test]
fn pfn_and_dax_agree_with_check() {
    for (file, kind) in [
        ("fsdax-1G-default.bin", "fsdax"),
        ("devdax-1G-a2M-parent.bin", "devdax"),
    ] {
        let path = ndctl(file);
        let ns = ["--ns-start", "0x100000000", "--ns-size", "1G"];
        let mut args = vec!["check", &path, "--json"];
        args.extend(ns);
        if file.contains("parent") {
            args.extend(["--parent-uuid", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"]);
        }
        let c = json(&run(&args));
        args[0] = "probe";
        let o = run(&args);
        let p = json(&o);
        assert_eq!(c["verdict"], kind, "{file}: {c}");
        assert_eq!(p["verdict"], kind, "{file}: {p}");
        assert_eq!(o.status.code(), Some(0), "{file}: {}", stderr(&o));
        assert_eq!(p["dev_size"], c["dev_size"], "{file}");
        let start = c["data_start"].as_u64().unwrap() - 0x1_0000_0000;
        assert_eq!(p["data"]["start"].as_u64(), Some(start), "{file}");
        assert_eq!(
            p["data"]["end"].as_u64(),
            Some(start + c["dev_size"].as_u64().unwrap()),
            "{file}"
        );
        assert_eq!(p["sector_size"], Value::Null);
        assert_eq!(p["drivers"]["btt"]["result"], "passed", "{file}");
        let (mine, other) = if kind == "fsdax" {
            ("pfn", "dax")
        } else {
            ("dax", "pfn")
        };
        assert_eq!(p["drivers"][mine]["result"], "claimed", "{file}: {p}");
        assert_eq!(p["drivers"][other]["result"], "passed", "{file}: {p}");
    }
}

/// A block no driver recognises: raw, the whole namespace is the data, exit 1 with one line.
#[test]
fn raw_namespace_is_all_data() {
    let path = ndctl("bad/sig-wrong.bin");
    let o = run(&[
        "probe",
        &path,
        "--ns-start",
        "0x100000000",
        "--ns-size",
        "64M",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    one_line(&o);
    let p = json(&o);
    assert_eq!(p["verdict"], "raw");
    assert_eq!(p["data"]["start"], 0);
    assert_eq!(p["data"]["end"], 64 << 20);
    for d in ["btt", "pfn", "dax"] {
        assert_eq!(p["drivers"][d]["result"], "passed", "{d}: {p}");
    }
}

/// The claim class decides who is asked (`nd_btt_probe`, `nd_pfn_probe`, `nd_dax_probe`
/// return -ENODEV for another class): a kernel-written BTT 1.1 under the pfn class is not
/// looked at by the BTT driver, and under btt2 the BTT driver looks at byte 0, where the
/// 1.1 layout has nothing; both leave the namespace raw. `check --claim` says the same.
#[test]
fn claim_class_decides_who_looks() {
    let img = btt_fixture("256M-4096");
    for claim in ["pfn", "dax", "btt2"] {
        let o = run(&[
            "probe",
            img.path(),
            "--ns-start",
            "0x100000000",
            "--claim",
            claim,
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{claim}");
        let p = json(&o);
        assert_eq!(p["verdict"], "raw", "{claim}: {p}");
        assert_eq!(p["claim"], claim);
        assert_eq!(p["drivers"]["btt"]["result"], "passed", "{claim}");
        let c = json(&run(&[
            "check",
            img.path(),
            "--ns-start",
            "0x100000000",
            "--claim",
            claim,
            "--json",
        ]));
        assert_eq!(c["verdict"], "raw", "{claim}: {c}");
    }
    let p = json(&run(&["probe", img.path(), "--claim", "btt", "--json"]));
    assert_eq!(p["verdict"], "sector");
}

/// BTT 2.0 (info block at byte 0, `nd_btt_version` for the BTT2 claim class): created with
/// `btt create --version 2.0`, it is found with `--claim btt2` and read with `--version 2.0`;
/// without the class the kernel looks at byte 4096, which is the first data block: raw.
#[test]
fn btt2_placement() {
    let img = TempFile::new("infoblock-probe-btt2.img", &[]);
    OpenOptions::new()
        .write(true)
        .open(&img.0)
        .unwrap()
        .set_len(32 << 20)
        .unwrap();
    let o = run(&[
        "btt",
        "create",
        img.path(),
        "--sector-size",
        "512",
        "--version",
        "2.0",
        "--uuid",
        "11111111-2222-4333-8444-555555555555",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let block0 = std::fs::read(&img.0).unwrap();
    assert_eq!(&block0[..16], b"BTT_ARENA_INFO\0\0");
    assert_eq!(
        &block0[52..56],
        &[2, 0, 0, 0],
        "version_major 2, version_minor 0"
    );
    let p = json(&run(&["probe", img.path(), "--claim", "btt2", "--json"]));
    assert_eq!(p["verdict"], "sector", "{p}");
    assert_eq!(p["btt"]["version"], "2.0");
    let p = json(&run(&["probe", img.path(), "--json"]));
    assert_eq!(p["verdict"], "raw", "{p}");
    let o = run(&["btt", "check", img.path(), "--claim", "btt2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["btt", "read", img.path(), "--version", "2.0", "--lba", "5"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout, vec![0u8; 512]);
}

/// Namespaces by name (recorded sysfs trees of the harness): a claimed namespace shows no
/// node with its own bytes, so `probe namespace0.0` says what to pass instead (exit 2, one
/// line); a raw one is read through its /dev/pmemN (`block/pmem0/device` →
/// `namespace0.0`), which does not exist on this machine. With `--namespace` an image is
/// probed against the recorded namespace: a kernel-written BTT is a sector device there.
#[test]
fn namespaces_by_name() {
    let o = run(&["probe", "namespace0.0", "--sysfs-root", &tree("fsdax")]);
    assert_eq!(o.status.code(), Some(2));
    let err = one_line(&o);
    assert!(err.contains("claimed by pfn0.0"), "{err}");
    assert!(err.contains("--namespace namespace0.0"), "{err}");
    let o = run(&["probe", "namespace0.0", "--sysfs-root", &tree("raw")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("/dev/pmem0"), "{}", stderr(&o));

    let img = btt_fixture("256M-512");
    let o = run(&[
        "probe",
        img.path(),
        "--namespace",
        "namespace0.0",
        "--sysfs-root",
        &tree("raw"),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p = json(&o);
    assert_eq!(p["verdict"], "sector");
    assert_eq!(p["ns_start"], 0x1_0000_0000_u64);
    assert_eq!(p["ns_size"], 256 << 20);
    // btt.size of the fixture's sysfs.
    assert_eq!(p["dev_size"], 266_190_848);
}

/// A copy of a recorded sysfs tree (symlinks kept) in a fresh temporary directory.
fn tree_copy(name: &str, tag: &str) -> std::path::PathBuf {
    let dst = std::env::temp_dir().join(format!("infoblock-sysfs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    let ok = Command::new("cp")
        .arg("-a")
        .arg(tree(name))
        .arg(&dst)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    dst
}

/// The claim class from sysfs: `holder_class` holds what `holder_class_show` prints (`pfn`,
/// `btt` for both BTT classes, an empty line for none). Written into a copy of the recorded
/// raw tree, it is the default of `probe --namespace` and `check --namespace`: under `pfn`
/// the BTT driver is not asked (raw), under `btt` the BTT is a sector device; `--claim`
/// overrides it.
#[test]
fn claim_class_from_sysfs_holder_class() {
    let img = btt_fixture("256M-512");
    for (class, verdict) in [("pfn", "raw"), ("btt", "sector"), ("", "sector")] {
        let root = tree_copy("raw", &format!("hc{class}"));
        std::fs::write(
            root.join("bus/nd/devices/namespace0.0/holder_class"),
            format!("{class}\n"),
        )
        .unwrap();
        let root_s = root.display().to_string();
        let base = [
            img.path(),
            "--namespace",
            "namespace0.0",
            "--sysfs-root",
            &root_s,
            "--json",
        ];
        let mut args = vec!["probe"];
        args.extend(base);
        let p = json(&run(&args));
        assert_eq!(p["verdict"], verdict, "{class:?}: {p}");
        let expected_claim = if class.is_empty() { "none" } else { class };
        assert_eq!(p["claim"], expected_claim, "{class:?}");
        args[0] = "check";
        let c = json(&run(&args));
        assert_eq!(c["verdict"], verdict, "{class:?}: {c}");
        // --claim wins over sysfs.
        args[0] = "probe";
        args.extend(["--claim", "none"]);
        assert_eq!(json(&run(&args))["verdict"], "sector", "{class:?}");
        // `btt read` under the sysfs namespace (its size and uuid).
        let o = run(&[
            "btt",
            "read",
            img.path(),
            "--lba",
            "0",
            "--namespace",
            "namespace0.0",
            "--sysfs-root",
            &root_s,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(&o.stdout[..16], b"L0000000G000060\n");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

/// A valid info block with an all-zero flog: the BTT driver claims the namespace
/// (`nd_btt_probe` checks the info block only), then attaching it fails: `log_set_indices`
/// sees every lane as padding, finds no entry slot and returns -ENXIO, so no /dev/pmemNs
/// appears: rejected at enable, and nothing else is asked.
#[test]
fn btt_that_fails_to_attach_is_rejected() {
    let img = btt_fixture("256M-4096");
    let sb = std::fs::read(&img.0).unwrap()[4096..8192].to_vec();
    let logoff = 4096 + u64::from_le_bytes(sb[104..112].try_into().unwrap());
    let info2off = 4096 + u64::from_le_bytes(sb[112..120].try_into().unwrap());
    let f = OpenOptions::new().write(true).open(&img.0).unwrap();
    f.write_all_at(&vec![0u8; (info2off - logoff) as usize], logoff)
        .unwrap();
    let o = run(&["probe", img.path(), "--ns-start", "0x100000000", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    one_line(&o);
    let p = json(&o);
    assert_eq!(p["verdict"], "rejected", "{p}");
    assert_eq!(p["drivers"]["btt"]["result"], "claimed");
    assert_eq!(p["data"], Value::Null);
    let o = run(&["check", img.path(), "--ns-start", "0x100000000", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    one_line(&o);
    let c = json(&o);
    assert_eq!(c["verdict"], "rejected", "{c}");
    assert_eq!(c["stage"], "enable");
    assert_eq!(c["reason"], "unknown_log_layout");
    // btt check reports it (the flog's first slots hold padding) and cannot repair it.
    let o = run(&["btt", "check", img.path(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert!(v["errors"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["repair"]["planned"], Value::Array(vec![]));
}

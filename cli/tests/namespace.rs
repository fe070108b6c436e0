//! `infoblock check --namespace NAME --sysfs-root DIR` and device-node paths, on the recorded
//! sysfs trees of tests/data/sysfs (see its README for where every value comes from).

use std::path::PathBuf;
use std::process::Command;

use nvdimm_infoblock::{DeviceKind, Mode, PfnInfo, Uuid, Version};
use zerocopy::IntoBytes;

#[path = "../../tests/support/mod.rs"]
mod support;
use support::TempFile;

mod common;
#[allow(unused_imports)]
use common::*;

const M: u64 = 1 << 20;

fn tree(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sysfs")
        .join(name)
        .display()
        .to_string()
}

/// The kernel's own 256 MiB map=dev fsdax layout (dataoff 6 MiB, FORMAT.md §4.6), the
/// harness README's example image, with `parent` as parent uuid, in a sparse image of `size`.
fn image(parent: Uuid, size: u64) -> TempFile {
    let info = PfnInfo {
        kind: DeviceKind::Fsdax,
        uuid: Uuid([0x11; 16]),
        parent_uuid: parent,
        flags: 0,
        version: Version::V1_4,
        dataoff: 6 * M,
        npfns: 0,
        mode: Mode::PMEM,
        start_pad: 0,
        end_trunc: 0,
        align: 0x20_0000,
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    };
    let mut head = vec![0u8; 8192];
    head[4096..].copy_from_slice(info.to_block().unwrap().as_bytes());
    let file = TempFile::new("infoblock-namespace.img", &head);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap()
        .set_len(size)
        .unwrap();
    file
}

/// `--namespace namespace0.0` on the harness tree gives exactly the answer of `--ns-start
/// 0x100000000` (the namespace's recorded `resource`) for an image of the namespace's size,
/// and that answer is the kernel's: pfn0.0 of the same tree has size 262144000, resource
/// 0x100600000 and align 2097152 (the harness README's NDH-VERDICT line).
#[test]
fn namespace_by_name_equals_ns_start() {
    let img = image(Uuid::NIL, 256 * M);
    let root = tree("fsdax");
    let by_name = run(&[
        "check",
        img.path(),
        "--namespace",
        "namespace0.0",
        "--sysfs-root",
        &root,
        "--json",
    ]);
    let by_hand = run(&["check", img.path(), "--ns-start", "0x100000000", "--json"]);
    assert_eq!(by_name.status.code(), Some(0), "{by_name:?}");
    assert_eq!(by_hand.status.code(), Some(0));
    let (a, b) = (json(&by_name), json(&by_hand));
    assert_eq!(a, b);
    assert_eq!(a["verdict"], "fsdax");
    assert_eq!(a["dev_size"], 262_144_000);
    assert_eq!(a["dev_resource"], 0x1_0060_0000u64);
    assert_eq!(a["dev_align"], 2_097_152);
    // The text report too (same stdout byte for byte).
    let by_name = run(&[
        "check",
        img.path(),
        "--namespace=namespace0.0",
        "--sysfs-root",
        &root,
    ]);
    let by_hand = run(&["check", img.path(), "--ns-start", "0x100000000"]);
    assert_eq!(by_name.stdout, by_hand.stdout);
}

/// The size comes from sysfs too: an 8 KiB head stands for the 256 MiB namespace (without
/// it, the 8 KiB file is the namespace and dataoff 6 MiB leaves no room: rejected).
#[test]
fn namespace_size_from_sysfs() {
    let img = image(Uuid::NIL, 8192);
    let o = run(&[
        "check",
        img.path(),
        "--namespace",
        "namespace0.0",
        "--sysfs-root",
        &tree("fsdax"),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json(&o)["ns_size"], 256 * M);
    let o = run(&["check", img.path(), "--ns-start", "0x100000000", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["verdict"], "rejected");
    stderr_line(&o);
}

/// A labelled namespace's `uuid` is the parent uuid the block must carry: the kernel
/// ignores a block whose parent_uuid differs (raw, parent_uuid_mismatch, -19).
#[test]
fn labelled_namespace_uuid_is_the_parent() {
    let root = tree("labelled");
    let parent: Uuid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee".parse().unwrap();
    let good = image(parent, 256 * M);
    let o = run(&[
        "check",
        good.path(),
        "--namespace",
        "namespace0.0",
        "--sysfs-root",
        &root,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        json(&o)["parent_uuid"],
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    );
    let nil = image(Uuid::NIL, 256 * M);
    let o = run(&[
        "check",
        nil.path(),
        "--namespace",
        "namespace0.0",
        "--sysfs-root",
        &root,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["verdict"], "raw");
    assert_eq!(v["raw_reason"], "parent_uuid_mismatch");
    assert_eq!(v["errno"], -19);
    assert!(stderr_line(&o).contains("parent_uuid_mismatch"));
}

/// Device nodes that show a claiming device's data are refused with one line that names the
/// device, the namespace and what to pass instead (exit 2); nothing is read.
#[test]
fn claimed_device_nodes_are_refused() {
    for (t, node, device) in [
        ("fsdax", "/dev/pmem0", "pfn0.0"),
        ("devdax", "/dev/dax0.0", "dax0.0"),
    ] {
        let o = run(&["check", node, "--sysfs-root", &tree(t)]);
        assert_eq!(o.status.code(), Some(2), "{t}");
        let line = stderr_line(&o);
        assert!(line.contains(device), "{line}");
        assert!(line.contains("--namespace namespace0.0"), "{line}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn namespace_errors() {
    let img = image(Uuid::NIL, 256 * M);
    let root = tree("fsdax");
    for (args, needle) in [
        (
            vec!["--namespace", "namespace9.9", "--sysfs-root", &root],
            "namespace9.9",
        ),
        (
            vec!["--namespace", "pfn0.0", "--sysfs-root", &root],
            "not a namespace",
        ),
        (
            vec!["--namespace", "namespace0.0", "--ns-start", "0"],
            "cannot be used with",
        ),
        (vec![], "--ns-start"),
    ] {
        let o = Command::new(BIN)
            .arg("check")
            .arg(img.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr_line(&o).contains(needle), "{args:?}");
    }
}

//! `infoblock check`: JSON keys, verdicts, exit codes and kernel selection, on images built
//! here (block at byte 4096 of a sparse file).

use std::process::Command;

use nvdimm_infoblock::{DeviceKind, Mode, PfnInfo, Uuid, Version};
use serde_json::Value;
use zerocopy::IntoBytes;

#[path = "../../tests/support/mod.rs"]
mod support;

use support::TempFile;

const M: u64 = 1 << 20;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_infoblock"))
}

fn info(kind: DeviceKind, mode: Mode, dataoff: u64, align: u32) -> PfnInfo {
    PfnInfo {
        kind,
        uuid: Uuid([0x11; 16]),
        parent_uuid: Uuid::NIL,
        flags: 0,
        version: Version::V1_4,
        dataoff,
        npfns: 0,
        mode,
        start_pad: 0,
        end_trunc: 0,
        align,
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    }
}

/// A sparse image of `size` bytes with `i` at byte 4096, removed when dropped.
fn image(name: &str, i: &PfnInfo, size: u64) -> TempFile {
    let mut head = vec![0u8; 8192];
    head[4096..].copy_from_slice(i.to_block().unwrap().as_bytes());
    let file = TempFile::new(name, &head);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap();
    f.set_len(size).unwrap();
    file
}

fn run_json(args: &[&str]) -> (i32, Value) {
    let out = bin().args(args).arg("--json").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text:?} {:?}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

/// FORMAT.md §4.6: the kernel's own 256 MiB map=dev layout (dataoff 6 MiB) is enabled with
/// size 250 MiB at 4 GiB + 6 MiB; every documented key is present; exit 0.
#[test]
fn fsdax_enabled_json() {
    let p = image(
        "fsdax.img",
        &info(DeviceKind::Fsdax, Mode::PMEM, 6 * M, 0x20_0000),
        256 * M,
    );
    let (code, v) = run_json(&["check", p.path(), "--ns-start", "0x100000000"]);
    assert_eq!(code, 0);
    assert_eq!(v["verdict"], "fsdax");
    assert_eq!(v["stage"], Value::Null);
    assert_eq!(v["reason"], Value::Null);
    assert_eq!(v["raw_reason"], Value::Null);
    assert_eq!(v["errno"], Value::Null);
    assert_eq!(v["dev_size"], 250 * M);
    assert_eq!(v["dev_resource"], 0x1_0060_0000u64);
    assert_eq!(v["data_start"], 0x1_0060_0000u64);
    assert_eq!(v["dev_align"], 2 * M);
    assert_eq!(v["npfns"], 64_000);
    assert_eq!(v["map"], "dev");
    assert_eq!(v["ns_size"], 256 * M, "ns-size defaults to the file size");
    assert_eq!(v["profile"], "linux-6.5");
}

/// Harness: devdax map=mem, align 2M.
#[test]
fn devdax_enabled() {
    let p = image(
        "devdax.img",
        &info(DeviceKind::Devdax, Mode::RAM, 2 * M, 0x20_0000),
        256 * M,
    );
    let (code, v) = run_json(&["check", p.path(), "--ns-start", "4G", "--kernel", "6.1"]);
    assert_eq!(code, 0);
    assert_eq!(v["verdict"], "devdax");
    assert_eq!(v["map"], "mem");
    assert_eq!(v["profile"], "linux-6.1");
}

/// Harness: a non-nil parent uuid on a label-less namespace is ignored → raw, exit 1;
/// `--parent-uuid` with the same uuid makes it valid.
#[test]
fn parent_uuid_raw_and_matching() {
    let mut i = info(DeviceKind::Fsdax, Mode::RAM, 2 * M, 0x20_0000);
    i.parent_uuid = Uuid([0x22; 16]);
    let p = image("parent.img", &i, 256 * M);
    let path = p.path();
    let (code, v) = run_json(&["check", path, "--ns-start", "0x100000000"]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "raw");
    assert_eq!(v["reason"], Value::Null);
    assert_eq!(v["raw_reason"], "parent_uuid_mismatch");
    assert_eq!(v["errno"], -19);
    assert_eq!(v["dev_size"], Value::Null);
    let uuid = "22222222-2222-2222-2222-222222222222";
    let (code, v) = run_json(&[
        "check",
        path,
        "--ns-start",
        "0x100000000",
        "--parent-uuid",
        uuid,
    ]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("fsdax")));
}

/// Harness "6.1 vs 6.12": 16 MiB, start_pad 2M, end_trunc 2M, dataoff 12M, map=mem: 6.1
/// enables a 0-byte device, 6.12 refuses "bad offset with small namespace" (-95).
#[test]
fn kernel_selection_small_namespace() {
    let mut i = info(DeviceKind::Fsdax, Mode::RAM, 12 * M, 0x20_0000);
    i.start_pad = 0x20_0000;
    i.end_trunc = 0x20_0000;
    let p = image("small.img", &i, 16 * M);
    let path = p.path();
    let (code, v) = run_json(&[
        "check",
        path,
        "--ns-start",
        "0x100000000",
        "--kernel",
        "6.1",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["dev_size"], 0);
    let (code, v) = run_json(&[
        "check",
        path,
        "--ns-start",
        "0x100000000",
        "--kernel",
        "6.12",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "rejected");
    assert_eq!(v["stage"], "validate");
    assert_eq!(v["reason"], "small_namespace");
    assert_eq!(v["errno"], -95);
    assert_eq!(v["message"], "bad offset with small namespace");
    assert_eq!(v["profile"], "linux-6.5");
}

/// Harness "probe_failed_-12": map=dev with a memmap that does not fit → stage enable.
#[test]
fn enable_stage_rejection() {
    let p = image(
        "memmap.img",
        &info(DeviceKind::Fsdax, Mode::PMEM, 2 * M, 0x20_0000),
        256 * M,
    );
    let (code, v) = run_json(&["check", p.path(), "--ns-start", "0x100000000"]);
    assert_eq!(code, 1);
    assert_eq!(v["stage"], "enable");
    assert_eq!(v["reason"], "memmap_does_not_fit");
    assert_eq!(v["errno"], -12);
}

/// `--ns-size` overrides the file size (a head-only file stands for a larger namespace).
#[test]
fn ns_size_override_and_human_output() {
    let p = image(
        "head.img",
        &info(DeviceKind::Fsdax, Mode::PMEM, 6 * M, 0x20_0000),
        8192,
    );
    let path = p.path();
    let out = bin()
        .args([
            "check",
            path,
            "--ns-start",
            "0x100000000",
            "--ns-size",
            "256M",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("verdict: fsdax"), "{text}");
    assert!(text.contains("262144000"), "{text}");
    // Without --ns-size the 8 KiB file is the namespace: dataoff 6M ≥ 8K → rejected.
    let (code, v) = run_json(&["check", path, "--ns-start", "0x100000000"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("rejected")));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let p = image(
        "u.img",
        &info(DeviceKind::Fsdax, Mode::PMEM, 6 * M, 0x20_0000),
        256 * M,
    );
    let path = p.path();
    for args in [
        vec!["check", path],                                          // no --ns-start
        vec!["check", "--ns-start", "0"],                             // no PATH
        vec!["check", path, "--ns-start", "zz"],                      // bad address
        vec!["check", path, "--ns-start", "0", "--kernel", "3.10"],   // no such era
        vec!["check", path, "--ns-start", "0", "--parent-uuid", "x"], // bad uuid
        vec!["check", path, "--ns-start", "0", "--bogus"],            // unknown option
        vec!["check", "/nonexistent/x.img", "--ns-start", "0"],       // I/O
        vec!["check", path, "--ns-start", "0", "--ns-size", "0"],     // empty namespace
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    let short = TempFile::new("infoblock-short", &[0u8; 100]);
    let out = bin()
        .args(["check", short.path(), "--ns-start", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

//! `infoblock compat` and `infoblock upgrade`, run as a program: the JSON keys the issue fixes,
//! exit codes, and that an upgrade rewrites only bytes 4096..8192.

use std::path::{Path, PathBuf};

use nvdimm_infoblock::{DeviceKind, InfoBlock, Mode, PfnInfo, Uuid, Version};
use serde_json::Value;

#[path = "../../tests/support/mod.rs"]
mod support;
use support::TempFile;

mod common;
#[allow(unused_imports)]
use common::*;

/// The legacy namespace of tests/compat.rs: 64 MiB into a 128 MiB section.
const LEGACY_START: &str = "0x103c000000";

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/ndctl")
        .join(rel)
}

/// FORMAT.md §2.3 vector D (v1.2, start_pad 64 MiB, dataoff 18 MiB), in a namespace head
/// whose first 4 KiB and tail hold a pattern that an upgrade must not touch.
fn legacy_image() -> Vec<u8> {
    let info = PfnInfo {
        kind: DeviceKind::Fsdax,
        uuid: Uuid([0x11; 16]),
        parent_uuid: Uuid::NIL,
        flags: 0,
        version: Version::V1_2,
        dataoff: 0x120_0000,
        npfns: 0x3_ae00,
        mode: Mode::PMEM,
        start_pad: 0x400_0000,
        end_trunc: 0,
        align: 0x20_0000,
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    };
    let block = info.to_block().unwrap();
    let mut bytes: Vec<u8> = (0..16384u32).map(|i| (i * 7 + 3) as u8).collect();
    bytes[4096..8192].copy_from_slice(zerocopy::IntoBytes::as_bytes(&block));
    bytes
}

#[test]
fn compat_json_has_the_issue_keys() {
    let path = data("fsdax-1G-default.bin");
    let o = run(&[
        "compat",
        path.to_str().unwrap(),
        "--ns-size",
        "1G",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    // align 2M differs from the 16M derived from dataoff 18M: needs 1.2 (FORMAT.md §1.3).
    assert_eq!(v["required_version"], "1.2");
    assert_eq!(v["features"], serde_json::json!(["align"]));
    assert_eq!(v["min_version"], Value::Null);
    let readers = v["readers"].as_array().unwrap();
    assert_eq!(readers.len(), 16);
    for r in readers {
        for key in ["reader", "verdict", "reason", "data_start", "data_size"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        let verdict = r["verdict"].as_str().unwrap();
        assert!(["loads", "degraded", "ignored", "refused"].contains(&verdict));
        assert_eq!(r["reason"].is_null(), r["data_start"].is_u64(), "{r}");
    }
    let newest = readers.iter().find(|r| r["reader"] == "linux-6.5").unwrap();
    assert_eq!(newest["verdict"], "loads");
    // §4.6 worked example: data at ns_start + 18 MiB, 1 GiB - 18 MiB long.
    assert_eq!(newest["data_start"], 0x1_0000_0000u64 + (18 << 20));
    assert_eq!(newest["data_size"], (1u64 << 30) - (18 << 20));
    let old = readers.iter().find(|r| r["reader"] == "linux-4.6").unwrap();
    assert_eq!(old["verdict"], "ignored");
    assert_eq!(old["reason"], "dataoff_not_power_of_two");
    let mv = readers
        .iter()
        .find(|r| r["reader"] == "min-version-3")
        .unwrap();
    assert_eq!(mv["reason"], "min_version");
}

#[test]
fn compat_text_lists_every_reader() {
    let path = data("fsdax-1G-default.bin");
    let o = run(&["compat", path.to_str().unwrap(), "--ns-size", "1G"]);
    let text = String::from_utf8(o.stdout).unwrap();
    for name in [
        "linux-4.3",
        "linux-6.5",
        "ndctl",
        "dataoff-only",
        "min-version-2",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(
        text.contains("required version: 1.2: align needs 1.2"),
        "{text}"
    );
}

#[test]
fn upgrade_to_2019_rewrites_only_the_block() {
    let before = legacy_image();
    let file = TempFile::new("infoblock-compat.img", &before);
    let o = run(&[
        "upgrade",
        file.path(),
        "--to",
        "2019-1.3",
        "--ns-start",
        LEGACY_START,
        "--ns-size",
        "1G",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["written"], true);
    assert_eq!(v["before"]["version"], "1.2");
    assert_eq!(v["after"]["version"], "2019-1.3");
    // dataoff moves by start_pad, the first data byte does not (FORMAT.md §5.2, §5.3).
    assert_eq!(v["before"]["dataoff"], 0x120_0000);
    assert_eq!(v["after"]["dataoff"], 0x520_0000);
    assert_eq!(v["before"]["data_start"], v["after"]["data_start"]);
    assert_eq!(v["before"]["data_size"], v["after"]["data_size"]);
    assert_eq!(
        v["before"]["data_start"],
        0x10_3c00_0000u64 + 0x400_0000 + 0x120_0000
    );
    let loses: Vec<&str> = v["loses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        loses.contains(&"linux-6.5") && loses.contains(&"min-version-2"),
        "{loses:?}"
    );
    for r in v["readers"].as_array().unwrap() {
        for key in ["reader", "gains", "loses"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
    }
    let after = std::fs::read(file.path()).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after[..4096], before[..4096]);
    assert_eq!(after[8192..], before[8192..]);
    let block = InfoBlock::locate(&after).unwrap();
    assert!(block.verify_checksum().is_ok());
    assert_eq!(block.dataoff.get(), 0x520_0000);
    assert_eq!(block.raw_min_version(), 3);
    // And the rewritten file checks as a 2019 block.
    let o = run(&[
        "compat",
        file.path(),
        "--ns-start",
        LEGACY_START,
        "--ns-size",
        "1G",
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["required_version"], "2019-1.3");
    assert_eq!(v["min_version"], 3);
}

#[test]
fn dry_run_and_refusals_leave_the_file_alone() {
    let before = legacy_image();
    let file = TempFile::new("infoblock-compat.img", &before);
    let o = run(&[
        "upgrade",
        file.path(),
        "--to",
        "2019-1.3",
        "--ns-start",
        LEGACY_START,
        "--ns-size",
        "1G",
        "--dry-run",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8(o.stdout).unwrap().contains("(dry run)"));
    assert_eq!(std::fs::read(file.path()).unwrap(), before);
    // v1.2 -> v1.0 would drop start_pad: the data would move, so it is refused (exit 1).
    let o = run(&[
        "upgrade",
        file.path(),
        "--to",
        "1.0",
        "--ns-start",
        LEGACY_START,
        "--ns-size",
        "1G",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(json(&o)["refused"].as_str().unwrap().contains("other data"));
    assert_eq!(std::fs::read(file.path()).unwrap(), before);
}

#[test]
fn usage_errors_exit_2() {
    let path = data("fsdax-1G-default.bin");
    let p = path.to_str().unwrap();
    assert_eq!(run(&["upgrade", p]).status.code(), Some(2));
    assert_eq!(run(&["upgrade", p, "--to", "1.5"]).status.code(), Some(2));
    assert_eq!(run(&["compat"]).status.code(), Some(2));
    assert_eq!(run(&["compat", "/nonexistent/x"]).status.code(), Some(2));
}

//! `infoblock plan` and `infoblock create`, run as a user would.

use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

mod common;
#[allow(unused_imports)]
use common::*;

const U: &str = "11111111-2222-4333-8444-555555555555";
const P: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

fn json(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A scratch file of `len` bytes (sparse), bytes 0..8192+ filled with a pattern so that any
/// stray write shows.
fn scratch(len: u64) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "infoblock-plan-{}-{}.img",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let f = fs::File::create(&path).unwrap();
    f.set_len(len).unwrap();
    let pattern: Vec<u8> = (0..12288u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    use std::os::unix::fs::FileExt;
    f.write_all_at(&pattern[..usize::try_from(len.min(12288)).unwrap()], 0)
        .unwrap();
    path
}

/// The first 12288 bytes (the pattern area), the last 4096 bytes and the length of a file:
/// everything `create` could have touched by mistake, without reading a sparse GiB.
fn snapshot(path: &PathBuf) -> (Vec<u8>, Vec<u8>, u64) {
    use std::os::unix::fs::FileExt;
    let f = fs::File::open(path).unwrap();
    let len = f.metadata().unwrap().len();
    let mut head = vec![0u8; 12288];
    f.read_exact_at(&mut head, 0).unwrap();
    let mut tail = vec![0u8; 4096];
    f.read_exact_at(&mut tail, len - 4096).unwrap();
    (head, tail, len)
}

fn corpus_block(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/ndctl")
        .join(format!("{name}.bin"));
    fs::read(path).unwrap()[4096..].to_vec()
}

// FORMAT.md §4.6 worked example (start 0 here: the offsets are relative).
#[test]
fn plan_json_worked_example() {
    let j = json(&run(&[
        "plan", "--size", "1G", "--align", "2M", "--mode", "fsdax", "--json",
    ]));
    assert_eq!(j["dataoff"], 0x120_0000);
    assert_eq!(j["npfns"], 0x3_EE00);
    assert_eq!(j["version"], "1.4");
    assert_eq!(j["align"], 0x20_0000);
    assert_eq!(j["page_struct_size"], 64);
    assert_eq!(j["dev_size"], (1u64 << 30) - 0x120_0000);
    assert_eq!(j["memmap_start"], 0x2000);
    assert_eq!(j["memmap_end"], 0x120_0000);
    let j = json(&run(&[
        "plan",
        "--size",
        "1G",
        "--map",
        "mem",
        "--ns-start",
        "0x240000000",
        "--json",
    ]));
    assert_eq!(j["dataoff"], 0x20_0000);
    assert_eq!(j["npfns"], 0x3_FE00);
    assert_eq!(j["dev_resource"], 0x2_4020_0000_u64);
    assert_eq!(j["memmap_start"], serde_json::Value::Null);
}

// §7.5: 6.1 reserves 128 bytes per page (dataoff 34 MiB for 1 GiB, computed in tests/layout.rs).
#[test]
fn plan_kernel_profiles() {
    let j = json(&run(&["plan", "--size", "1G", "--kernel", "6.1", "--json"]));
    assert_eq!(j["dataoff"], 0x220_0000);
    assert_eq!(j["page_struct_size"], 128);
    assert_eq!(j["profile"], "linux-6.1");
    let j = json(&run(&[
        "plan", "--size", "1G", "--kernel", "6.12", "--json",
    ]));
    assert_eq!(j["dataoff"], 0x120_0000);
    let j = json(&run(&[
        "plan", "--size", "1G", "--kernel", "4.19", "--json",
    ]));
    assert_eq!(j["version"], "1.2");
    let j = json(&run(&[
        "plan",
        "--size",
        "1G",
        "--kernel",
        "5.7",
        "--platform",
        "ppc64-hash",
        "--align",
        "64K",
        "--json",
    ]));
    assert_eq!(j["dataoff"], 0x100_0000);
    assert_eq!(j["npfns"], 0x3F00);
}

// The inverse question: 1 GiB usable needs 1 GiB + 18 MiB (hand computation in tests/layout.rs).
#[test]
fn plan_usable() {
    let j = json(&run(&["plan", "--usable", "1G", "--json"]));
    assert_eq!(j["ns_size"], (1u64 << 30) + (18 << 20));
    assert_eq!(j["dev_size"], 1u64 << 30);
    assert_eq!(j["usable_requested"], 1u64 << 30);
    let j = json(&run(&[
        "plan",
        "--usable",
        "1G",
        "--granule",
        "16M",
        "--json",
    ]));
    assert_eq!(j["ns_size"], (1u64 << 30) + (32 << 20));
    let out = run(&["plan", "--usable", "1G"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ns_size needed    0x41200000"), "{text}");
}

#[test]
fn plan_start_pad_readings_text() {
    let out = run(&[
        "plan",
        "--size",
        "1G",
        "--kernel",
        "4.6",
        "--ns-start",
        "0x244000000",
        "--start-collides",
        "--map",
        "mem",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("start_pad         0x4000000"), "{text}");
    assert!(
        text.contains("legacy fsdax DAX path maps 0x4000000 (67108864 bytes) below"),
        "{text}"
    );
    assert!(text.contains("the kernel disables DAX"), "{text}");
    let j = json(&run(&[
        "plan",
        "--size",
        "1G",
        "--kernel",
        "4.6",
        "--ns-start",
        "0x244000000",
        "--start-collides",
        "--map",
        "mem",
        "--json",
    ]));
    assert_eq!(j["legacy_map_base"], 0x2_4800_0000_u64);
    assert_eq!(j["legacy_map_offset"], 0x20_0000);
    assert_eq!(j["legacy_dax_misdirect"], 0x400_0000);
    // map=mem: the DAX pfn falls before map_base (no struct page there, §5.2).
    assert_eq!(j["legacy_dax_outside_map"], true);
    assert_eq!(j["v2019_data_start"], 0x2_4420_0000_u64);
    assert_eq!(j["v2019_map_offset"], serde_json::Value::Null);
}

#[test]
fn plan_refusals_and_usage_errors() {
    // No data pages (ndctl writes npfns 0 here): exit 1, one line.
    let out = run(&["plan", "--size", "2147471360", "--align", "1G"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("no room for data"));
    // Alignment that cannot be stored.
    let out = run(&["plan", "--size", "16G", "--align", "8G"]);
    assert_eq!(out.status.code(), Some(1));
    stderr_line(&out);
    // devdax 64K on 5.4+.
    let out = run(&["plan", "--size", "1G", "--align", "64K", "--mode", "devdax"]);
    assert_eq!(out.status.code(), Some(1));
    // Usage errors: exit 2.
    for args in [
        &["plan", "--align", "2M"][..],
        &["plan", "--size", "1Q"],
        &["plan", "--size", "1G", "--mode", "sector"],
        &["plan", "--size", "1G", "--bogus"],
        &["plan", "--size", "1G", "--usable", "1G"],
        &["plan", "--size", "1G", "--kernel", "3.10"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

// create writes ndctl's exact block (corpus fsdax-1G-default: 1 GiB, default align 2M, map=dev)
// at 4096 and no other byte (unlike ndctl, bytes 0..4096 are kept).
#[test]
fn create_matches_ndctl_and_touches_nothing_else() {
    let path = scratch(1 << 30);
    let before = snapshot(&path);
    let out = run(&["create", path.to_str().unwrap(), "--uuid", U]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = snapshot(&path);
    assert_eq!(after.2, before.2);
    assert_eq!(
        &after.0[4096..8192],
        corpus_block("fsdax-1G-default").as_slice()
    );
    assert_eq!(&after.0[..4096], &before.0[..4096]);
    assert_eq!(&after.0[8192..], &before.0[8192..]);
    assert_eq!(after.1, before.1);
    // A valid block is there now: refused without --force (exit 2), file unchanged.
    let out = run(&[
        "create",
        path.to_str().unwrap(),
        "--uuid",
        U,
        "--mode",
        "devdax",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("--force"));
    assert_eq!(snapshot(&path), after);
    // With --force: devdax with a parent uuid (corpus devdax-1G-a2M-parent).
    let out = run(&[
        "create",
        path.to_str().unwrap(),
        "--uuid",
        U,
        "--parent-uuid",
        P,
        "--mode",
        "devdax",
        "--align",
        "2M",
        "--force",
        "--json",
    ]);
    let j = json(&out);
    assert_eq!(j["uuid"], U);
    let after2 = snapshot(&path);
    assert_eq!(
        &after2.0[4096..8192],
        corpus_block("devdax-1G-a2M-parent").as_slice()
    );
    assert_eq!(&after2.0[..4096], &before.0[..4096]);
    fs::remove_file(&path).unwrap();
}

#[test]
fn create_size_option_and_map_mem() {
    // A 2 GiB file with --size 1G: the namespace is the first 1 GiB (corpus fsdax-1G-mapmem).
    let path = scratch(2 << 30);
    let out = run(&[
        "create",
        path.to_str().unwrap(),
        "--size",
        "1G",
        "--map",
        "mem",
        "--uuid",
        U,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let after = snapshot(&path);
    assert_eq!(
        &after.0[4096..8192],
        corpus_block("fsdax-1G-mapmem").as_slice()
    );
    fs::remove_file(&path).unwrap();
}

#[test]
fn create_refusals() {
    let path = scratch(64 << 20);
    let p = path.to_str().unwrap();
    let before = snapshot(&path);
    // File shorter than the namespace size given: exit 2.
    let out = run(&["create", p, "--size", "1G"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("shorter"));
    // Invalid layout: exit 1 (align 1G on 64 MiB leaves no data).
    let out = run(&["create", p, "--align", "1G"]);
    assert_eq!(out.status.code(), Some(1));
    stderr_line(&out);
    // A version the kernel profile does not write, and one that cannot hold the layout.
    let out = run(&["create", p, "--version", "1.5"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["create", p, "--kernel", "6.1", "--version", "1.3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("page_struct_size"));
    // Missing file: exit 2.
    let out = run(&["create", "/nonexistent/x.img"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(snapshot(&path), before);
    fs::remove_file(&path).unwrap();
}

// --version picks an older version that can express the layout: v1.2 of the 64 MiB layout
// (no page_size/page_struct_size fields; a v1.2 reader assumes this page size and 64).
#[test]
fn create_older_version() {
    let path = scratch(64 << 20);
    let p = path.to_str().unwrap();
    let out = run(&["create", p, "--version", "1.2", "--uuid", U, "--json"]);
    let j = json(&out);
    assert_eq!(j["version"], "1.2");
    // Each key once (a JSON object with a duplicate key would be ambiguous).
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("\"version\"").count(), 1, "{text}");
    let bytes = snapshot(&path).0;
    // version_minor at 4096 + 54; page_size (bytes 88..) left zero below v1.4.
    assert_eq!(&bytes[4096 + 52..4096 + 56], &[1, 0, 2, 0]);
    assert_eq!(&bytes[4096 + 88..4096 + 94], &[0; 6]);
    // v1.0 cannot hold end_trunc: 64M + 4K needs end_trunc 4K.
    let path2 = scratch((64 << 20) + 4096);
    let out = run(&["create", path2.to_str().unwrap(), "--version", "1.0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("end_trunc"));
    fs::remove_file(&path).unwrap();
    fs::remove_file(&path2).unwrap();
}

#[test]
fn create_random_uuid_is_v4() {
    let path = scratch(64 << 20);
    let j = json(&run(&["create", path.to_str().unwrap(), "--json"]));
    let uuid = j["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4");
    assert!("89ab".contains(&uuid[19..20]));
    fs::remove_file(&path).unwrap();
}

// The JSON keys are the ones docs/cli.md documents, each once.
#[test]
fn plan_json_keys() {
    let out = run(&["plan", "--size", "1G", "--json"]);
    let j = json(&out);
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "profile",
        "platform",
        "ns_start",
        "ns_size",
        "kind",
        "map",
        "mode",
        "requested_align",
        "align",
        "effective_align",
        "version",
        "dataoff",
        "npfns",
        "npfns_unit",
        "start_pad",
        "end_trunc",
        "page_size",
        "page_struct_size",
        "memmap_start",
        "memmap_end",
        "memmap_bytes",
        "data_start",
        "data_end",
        "dev_size",
        "dev_resource",
        "blk_bytes",
        "below_claim_minimum",
    ];
    for prefix in ["legacy", "v2019"] {
        for suffix in [
            "dataoff_base",
            "data_start",
            "map_base",
            "map_offset",
            "dax_start",
            "dax_misdirect",
            "dax_outside_map",
        ] {
            want.push(Box::leak(format!("{prefix}_{suffix}").into_boxed_str()));
        }
    }
    let mut got = keys.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    let text = String::from_utf8_lossy(&out.stdout);
    let docs = fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md"))
        .unwrap();
    for key in keys {
        let short = key
            .strip_prefix("legacy")
            .or_else(|| key.strip_prefix("v2019"))
            .unwrap_or(key);
        assert!(docs.contains(short), "docs/cli.md does not mention {key}");
        assert_eq!(text.matches(&format!("\"{key}\"")).count(), 1, "{key}");
    }
}

//! `infoblock inspect`, run as a program: the embedded sample, every exit code, the JSON shape
//! (keys and types of `ndctl read-infoblock -j`, recorded in tests/data/ndctl/manifest.json).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

#[path = "../../tests/support/mod.rs"]
mod support;
use support::TempFile;

mod common;
#[allow(unused_imports)]
use common::*;

/// The name of this test's temporary files ([`TempFile::new`] adds the pid and a counter).
const TMP: &str = "infoblock-inspect-test";

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/ndctl")
        .join(rel)
}

fn run_path(args: &[&str], path: &Path) -> Output {
    Command::new(BIN).args(args).arg(path).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

/// ndctl's `read-infoblock -j` object for a corpus file.
fn ndctl_json(file: &str) -> Value {
    let text = std::fs::read_to_string(data("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    manifest
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"] == file)
        .unwrap()["read_json"]["json"][0]
        .clone()
}

const NDCTL_KEYS: [&str; 14] = [
    "file",
    "signature",
    "uuid",
    "parent_uuid",
    "flags",
    "version",
    "dataoff",
    "npfns",
    "mode",
    "start_pad",
    "end_trunc",
    "align",
    "page_size",
    "page_struct_size",
];

/// The keys of each object in a pretty-printed array, in output order.
fn key_order(text: &str) -> Vec<Vec<String>> {
    let mut objects = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t == "{" {
            objects.push(Vec::new());
        } else if let Some(rest) = t.strip_prefix('"') {
            let key = &rest[..rest.find('"').unwrap()];
            objects.last_mut().unwrap().push(key.to_owned());
        }
    }
    objects
}

fn parse_json(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_str(&stdout(o)).unwrap();
    v.as_array().unwrap().clone()
}

#[test]
fn no_arguments_inspects_the_sample() {
    let o = run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for needle in [
        "fsdax-1G-a2M-parent.bin",
        "NVDIMM_PFN_INFO",
        "11111111-2222-4333-8444-555555555555",
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        "18874368 bytes (18 MiB)",
        "257536 pages",
        "2097152 bytes (2 MiB)",
        "1.4",
        "upstream dialect",
        "checksum",
        ": ok",
        "usable",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // `inspect` without PATH is the same run.
    assert_eq!(run(&["inspect"]).stdout, o.stdout);
}

/// The sample's JSON equals ndctl's `read-infoblock -j` of the same bytes on every key but
/// "file", in ndctl's key order, followed by checksum_ok.
#[test]
fn sample_json_equals_ndctl() {
    let o = run(&["inspect", "--json"]);
    assert_eq!(code(&o), 0);
    let ours = parse_json(&o);
    assert_eq!(ours.len(), 1);
    let ndctl = ndctl_json("fsdax-1G-a2M-parent.bin");
    for key in &NDCTL_KEYS[1..] {
        assert_eq!(ours[0][key], ndctl[key], "{key}");
    }
    assert_eq!(ours[0]["checksum_ok"], Value::Bool(true));
    let mut want: Vec<String> = NDCTL_KEYS.iter().map(|k| (*k).to_owned()).collect();
    want.push("checksum_ok".to_owned());
    assert_eq!(key_order(&stdout(&o)), vec![want]);
}

/// Every good corpus block: value equality with ndctl on all of ndctl's keys ("file" as given),
/// value types as ndctl's (strings, unsigned numbers, signed mode).
#[test]
fn corpus_json_equals_ndctl_for_every_key() {
    let text = std::fs::read_to_string(data("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let mut paths = Vec::new();
    let mut expected = Vec::new();
    for case in manifest.as_array().unwrap() {
        if case["write_rc"] != 0 {
            continue;
        }
        let path = data(case["file"].as_str().unwrap());
        let mut o = case["read_json"]["json"][0].clone();
        o["file"] = Value::from(path.to_str().unwrap());
        paths.push(path);
        expected.push(o);
    }
    let o = Command::new(BIN)
        .arg("inspect")
        .arg("--json")
        .args(&paths)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ours = parse_json(&o);
    assert_eq!(ours.len(), expected.len());
    for (got, want) in ours.iter().zip(&expected) {
        for key in NDCTL_KEYS {
            assert_eq!(got[key], want[key], "{}: {key}", want["file"]);
        }
        assert_eq!(got["checksum_ok"], Value::Bool(true));
        assert!(got.get("min_version").is_none());
        for key in ["file", "signature", "uuid", "parent_uuid", "version"] {
            assert!(got[key].is_string(), "{key}");
        }
        for key in &NDCTL_KEYS[6..] {
            if *key != "mode" {
                assert!(got[key].is_u64(), "{key}");
            }
        }
        assert!(got["mode"].is_i64());
    }
}

#[test]
fn bad_blocks_are_shown_and_flagged() {
    // A stale checksum: exit 1, the block is still in the array with checksum_ok false.
    let o = run_path(&["inspect", "--json"], &data("bad/csum-flip-lsb.bin"));
    assert_eq!(code(&o), 1);
    let v = parse_json(&o);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["checksum_ok"], Value::Bool(false));
    assert_eq!(v[0]["npfns"], 257_536);
    let o = run_path(&["inspect"], &data("bad/csum-flip-lsb.bin"));
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(
        text.contains("stored 0x0a6fbb54286e365f, computed 0x0a6fbb54286e365e: MISMATCH"),
        "{text}"
    );
    assert!(text.contains("UNUSABLE"), "{text}");

    // An unknown signature: exit 1 with a clear reason.
    let o = run_path(&["inspect"], &data("bad/sig-wrong.bin"));
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("not an info-block"), "{}", stdout(&o));
    let o = run_path(&["inspect", "--json"], &data("bad/sig-btt.bin"));
    assert_eq!(code(&o), 1);
    let v = parse_json(&o);
    assert_eq!(v[0]["signature"], "BTT_ARENA_INFO");
    assert!(v[0]["error"].as_str().unwrap().contains("BTT"));

    // mode 0xffffffff prints as -1, as ndctl does.
    let o = run_path(&["inspect", "--json"], &data("bad/mode-ffffffff.bin"));
    assert_eq!(code(&o), 0);
    assert_eq!(parse_json(&o)[0]["mode"], -1);

    // One bad block among good ones: exit 1, all blocks shown.
    let o = Command::new(BIN)
        .args(["inspect", "--json"])
        .arg(data("fsdax-16M-a2M.bin"))
        .arg(data("bad/payload-flip-npfns.bin"))
        .arg(data("devdax-16M-a2M.bin"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let v = parse_json(&o);
    let ok: Vec<&Value> = v.iter().map(|x| &x["checksum_ok"]).collect();
    assert_eq!(
        ok,
        [&Value::Bool(true), &Value::Bool(false), &Value::Bool(true)]
    );
}

#[test]
fn min_version_key_only_in_the_2019_dialect() {
    // bad/v1.3.bin: minor 3 with page_size 4096 left at bytes 88..92 (non-zero 88..90).
    let path = data("bad/v1.3.bin");
    let o = run_path(&["inspect", "--json"], &path);
    assert_eq!(code(&o), 0);
    assert_eq!(parse_json(&o)[0]["min_version"], 4096);
    let keys = key_order(&stdout(&o));
    assert_eq!(keys[0].last().map(String::as_str), Some("min_version"));
    let o = run_path(&["inspect", "--json", "--dialect", "upstream"], &path);
    assert!(parse_json(&o)[0].get("min_version").is_none());
    let o = run_path(&["inspect", "--dialect=upstream"], &path);
    assert!(stdout(&o).contains("upstream dialect"));
    // A v1.2 block never has one, even when forced.
    let o = run_path(
        &["inspect", "--json", "--dialect", "2019"],
        &data("bad/v1.2.bin"),
    );
    assert!(parse_json(&o)[0].get("min_version").is_none());
}

#[test]
fn human_report_explains_defaulting() {
    let path = data("bad/v1.0-legacy-fields.bin");
    let o = run_path(&["inspect"], &path);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(text.contains("minor 0 < 1"), "{text}");
    assert!(text.contains("stored bytes hold 4096, ignored"), "{text}");
    assert!(text.contains("stored bytes hold 8192, ignored"), "{text}");
    assert!(text.contains("stored bytes hold 3, ignored"), "{text}");
    assert!(text.contains("minor 0 < 4"), "{text}");
    // The reader's page size fills page_size.
    let o = run_path(&["inspect", "--page-size", "64K"], &path);
    assert!(
        stdout(&o).contains("65536 bytes (64 KiB)"),
        "{}",
        stdout(&o)
    );
    // JSON keeps ndctl's raw stored values.
    let o = run_path(&["inspect", "--json"], &path);
    let v = &parse_json(&o)[0];
    assert_eq!(
        (
            &v["start_pad"],
            &v["end_trunc"],
            &v["align"],
            &v["page_size"],
            &v["page_struct_size"]
        ),
        (
            &Value::from(4096),
            &Value::from(8192),
            &Value::from(3),
            &Value::from(0),
            &Value::from(0)
        )
    );
    // Non-zero padding and flags are noted.
    let o = run_path(&["inspect"], &data("bad/padding-nonzero-fixed.bin"));
    assert!(stdout(&o).contains("1 non-zero byte "), "{}", stdout(&o));
    assert!(stdout(&o).contains("first at byte 200"), "{}", stdout(&o));
    let o = run_path(&["inspect"], &data("bad/flags-1.bin"));
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("0x00000001"), "{}", stdout(&o));
    assert!(stdout(&o).contains("NON-ZERO"), "{}", stdout(&o));
    // Version notes: major never checked, future minors read as 4, the dialect and its source.
    let o = run_path(&["inspect"], &data("bad/v0.0.bin"));
    assert!(
        stdout(&o).contains("major 0 (never checked"),
        "{}",
        stdout(&o)
    );
    let o = run_path(&["inspect"], &data("bad/v1.5.bin"));
    assert!(
        stdout(&o).contains("minor 5 is newer than any known"),
        "{}",
        stdout(&o)
    );
    let o = run_path(&["inspect"], &data("bad/v1.3.bin"));
    assert!(
        stdout(&o).contains("2019 min_version dialect (detected"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("min_version       4096"),
        "{}",
        stdout(&o)
    );
    let o = run_path(&["inspect", "--dialect", "2019"], &data("bad/v1.3.bin"));
    assert!(
        stdout(&o).contains("2019 min_version dialect (forced"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn accepted_input_sizes() {
    let head = std::fs::read(data("fsdax-16M-a2M.bin")).unwrap();
    // A bare 4096-byte block.
    let bare = TempFile::new(TMP, &head[4096..]);
    let o = run_path(&["inspect"], &bare.0);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("bare 4096-byte info-block"));
    // A whole image: only the first 8 KiB matter, whatever follows.
    let mut image = head.clone();
    image.extend(std::iter::repeat_n(0xee, 3 << 20));
    let big = TempFile::new(TMP, &image);
    let o = run_path(&["inspect", "--json"], &big.0);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(parse_json(&o)[0]["npfns"], 3584);
    // Standard input.
    let mut child = Command::new(BIN)
        .args(["inspect", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&image[..8192])
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0);
    assert_eq!(parse_json(&o)[0]["file"], "<stdin>");
}

/// A block written at byte 0 of an 8 KiB file is not found, and the report says where it is.
#[test]
fn block_at_offset_0_is_hinted() {
    let head = std::fs::read(data("fsdax-16M-a2M.bin")).unwrap();
    let mut moved = head[4096..].to_vec();
    moved.extend(vec![0u8; 4096]);
    let f = TempFile::new(TMP, &moved);
    let o = run_path(&["inspect"], &f.0);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("found at byte 0"), "{}", stdout(&o));
}

/// Exit 2 with exactly one error line, and never a panic.
#[test]
fn usage_and_io_errors() {
    let head = std::fs::read(data("fsdax-16M-a2M.bin")).unwrap();
    let empty = TempFile::new(TMP, &[]);
    let short = TempFile::new(TMP, &head[..4095]);
    let between = TempFile::new(TMP, &head[..4097]);
    let almost = TempFile::new(TMP, &head[..8191]);
    let missing = std::env::temp_dir().join("infoblock-inspect-test-does-not-exist");
    let dir = std::env::temp_dir();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![missing.display().to_string()],
            "No such file or directory",
        ),
        (vec![dir.display().to_string()], "is a directory"),
        (vec![empty.0.display().to_string()], "only 0 bytes"),
        (vec![short.0.display().to_string()], "only 4095 bytes"),
        (
            vec![between.0.display().to_string()],
            "4097 bytes is neither",
        ),
        (
            vec![almost.0.display().to_string()],
            "8191 bytes is neither",
        ),
        (vec!["--bogus".to_owned()], "unknown option --bogus"),
        (vec!["-x".to_owned()], "unknown option -x"),
        (
            vec!["--dialect".to_owned(), "1999".to_owned()],
            "unknown dialect",
        ),
        (vec!["--dialect".to_owned()], "--dialect needs a value"),
        (
            vec!["--page-size".to_owned(), "3000".to_owned()],
            "--page-size",
        ),
    ];
    for (args, needle) in cases {
        let o = Command::new(BIN)
            .arg("inspect")
            .args(&args)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("infoblock: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // An I/O error among good files: the good ones are still reported, exit 2.
    let o = Command::new(BIN)
        .args(["inspect", "--json"])
        .arg(data("fsdax-16M-a2M.bin"))
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert_eq!(parse_json(&o).len(), 1);
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn help() {
    let o = run(&["inspect", "--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("exit codes"));
    assert!(stdout(&o).contains("fsdax-1G-a2M-parent.bin"));
    let o = run(&["--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("inspect"));
}

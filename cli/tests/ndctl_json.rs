//! `infoblock inspect --json` against `ndctl read-infoblock -j` (issue #2 item 9b, last part).
//! Runs when `ndctl` is on PATH; otherwise it prints a loud skip message and passes (CI
//! installs ndctl, so it runs there).
//!
//! For at least 200 random `ndctl write-infoblock -c` heads from a seeded PRNG (printed; set
//! `NDCTL_JSON_SEED` to replay), every key ndctl prints has the same value in our object after
//! JSON parsing ("file" included: ndctl escapes '/' as "\/", which parses to the same string),
//! and our object adds only `checksum_ok` (true). Each batch of heads goes through one
//! `inspect --json` run with several PATHs, so the array order is checked too.

use std::process::Command;

use serde_json::Value;

#[path = "../../tests/support/mod.rs"]
mod support;
use support::{ndctl_or_skip, ndctl_read_json, seed_from_env, Rng, TempFile};

mod common;
#[allow(unused_imports)]
use common::*;

const DEFAULT_SEED: u64 = 0x696e_7370_6563_7421; // "inspect!"
const WANTED_CASES: usize = 220;
const BATCH: usize = 20;

fn random_args(rng: &mut Rng) -> Vec<String> {
    let exp = rng.range(24, 41);
    let mut size = rng.range(1 << exp, (2 << exp) - 1) & !0xfff;
    if rng.next() % 8 == 0 {
        size += rng.range(1, 4095);
    }
    let mut a: Vec<String> = [
        "write-infoblock",
        "-c",
        "-s",
        &size.to_string(),
        "-a",
        &(1u64 << rng.range(12, 30)).to_string(),
        "-m",
        if rng.next() % 2 == 0 {
            "devdax"
        } else {
            "fsdax"
        },
        "-M",
        if rng.next() % 3 == 0 { "mem" } else { "dev" },
        "-u",
        &rng.uuid_string(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if rng.next() % 2 == 0 {
        a.push("-p".to_owned());
        a.push(rng.uuid_string());
    }
    a
}

#[test]
fn inspect_json_equals_ndctl_json() {
    let Some(ndctl) = ndctl_or_skip("ndctl_json") else {
        return;
    };
    let seed = seed_from_env("NDCTL_JSON_SEED", DEFAULT_SEED);
    eprintln!("ndctl_json: seed {seed:#x} (replay with NDCTL_JSON_SEED={seed:#x})");
    let mut rng = Rng(seed);
    let (mut compared, mut refused, mut attempts) = (0usize, 0usize, 0usize);
    while compared < WANTED_CASES {
        let mut files = Vec::new();
        let mut expected = Vec::new();
        let mut commands = Vec::new();
        while files.len() < BATCH {
            attempts += 1;
            assert!(attempts < 4 * WANTED_CASES, "too many refused cases");
            let args = random_args(&mut rng);
            let out = Command::new(&ndctl).args(&args).output().unwrap();
            match out.status.code() {
                Some(0) => {}
                Some(250) => {
                    refused += 1;
                    continue;
                }
                other => panic!("ndctl {args:?} exited {other:?}"),
            }
            assert_eq!(out.stdout.len(), 8192, "{args:?}");
            let file = TempFile::new("infoblock-ndctl-json.bin", &out.stdout);
            expected.push(ndctl_read_json(&ndctl, &file.0));
            files.push(file);
            commands.push(args);
        }
        let out = Command::new(BIN)
            .args(["inspect", "--json"])
            .args(files.iter().map(|f| &f.0))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = ours.as_array().unwrap();
        assert_eq!(ours.len(), files.len());
        for ((got, want), args) in ours.iter().zip(&expected).zip(&commands) {
            let want = want.as_object().unwrap();
            assert_eq!(want.len(), 14, "ndctl printed {want:?}");
            for (key, value) in want {
                assert_eq!(&got[key], value, "ndctl {args:?}: key {key}");
            }
            let got = got.as_object().unwrap();
            let mut extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
            extra.sort();
            assert_eq!(extra, ["checksum_ok"], "ndctl {args:?}");
            assert_eq!(got["checksum_ok"], Value::Bool(true));
            compared += 1;
        }
    }
    eprintln!(
        "ndctl_json: {compared} cases compared, {refused} refused by ndctl (exit 250), seed {seed:#x}"
    );
}

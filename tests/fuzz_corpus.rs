//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same bodies
//! the libFuzzer targets run (`fuzz/src/bodies.rs`), on stable, as part of `cargo test`.
//!
//! The bodies assert format properties (FORMAT.md §1.2, §2, §3.7); see fuzz/README.md.

#[path = "../fuzz/src/bodies.rs"]
#[allow(dead_code)]
mod bodies;

use std::fs;
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no corpus file", dir.display());
    files
}

fn replay(target: &str, body: fn(&[u8])) {
    for path in corpus(target) {
        let data = fs::read(&path).unwrap();
        eprintln!("{target}: {} ({} bytes)", path.display(), data.len());
        body(&data);
    }
}

#[test]
fn replay_parse() {
    replay("parse", bodies::parse);
}

#[test]
fn replay_roundtrip() {
    replay("roundtrip", bodies::roundtrip);
}

#[test]
fn replay_solve() {
    replay("solve", bodies::solve);
}

#[test]
fn replay_check() {
    replay("check", bodies::check);
}

#[test]
fn replay_upgrade() {
    replay("upgrade", bodies::upgrade);
}

/// The parse body on edge lengths it must classify by length alone: 0..=8 bytes, one short of
/// a block, one past a block, one short of a namespace head (FORMAT.md §1: a block is 4096 bytes
/// at byte 4096 of the namespace).
#[test]
fn parse_edge_lengths() {
    for len in [0, 1, 3, 4, 5, 8, 4095, 4097, 8191, 8192, 8193] {
        bodies::parse(&vec![0xa5; len]);
        bodies::parse(&vec![0; len]);
    }
}

//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same bodies
//! the libFuzzer targets run (`fuzz/src/bodies.rs`), on stable, as part of `cargo test`.
//!
//! The bodies assert format properties (FORMAT.md §1.2, §2, §3.7); see fuzz/README.md.

#[path = "../fuzz/src/bodies.rs"]
#[allow(dead_code)]
mod bodies;

#[path = "../fuzz/src/btt_check.rs"]
#[allow(dead_code, clippy::all)]
mod btt_bodies;

use std::fs;
use std::path::{Path, PathBuf};

use nvdimm_infoblock::layout::{solve, LayoutError};
use nvdimm_infoblock::validate::{Errno, Reason, Stage};
use nvdimm_infoblock::{Era, Mode};

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

#[test]
fn replay_btt_parse() {
    replay("btt_parse", bodies::btt_parse);
}

#[test]
fn replay_btt_translate() {
    replay("btt_translate", bodies::btt_translate);
}

fn regression(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn body_for(name: &str) -> fn(&[u8]) {
    match name.split('-').next().unwrap() {
        "parse" => bodies::parse,
        "roundtrip" => bodies::roundtrip,
        "solve" => bodies::solve,
        "check" => bodies::check,
        "upgrade" => bodies::upgrade,
        "btt_parse" => bodies::btt_parse,
        "btt_translate" => bodies::btt_translate,
        other => panic!("regression file for unknown target {other:?}"),
    }
}

/// Every regression input (fuzz/regressions/, named after its target) passes the bodies as
/// the fuzzers run them, with the open findings stepped over.
#[test]
fn replay_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        eprintln!("regression {name}");
        body_for(&name)(&fs::read(&path).unwrap());
    }
}

// The findings (fuzz/README.md), each asserted in full on its reproducer as a regression
// test. F1, F3, F4 and F5 were bugs, fixed in the validator and the solver. F2 turned out to be
// kernel behaviour (kernels before 6.5 enable a device with a wrapped size; recorded on real
// Linux 6.1, tests/kernel case small-ns-over-mem), and the property now says so.

/// F1: the solver's 5.3 ppc64-hash PMEM layout of 1 TiB reserves 64 B per page of memmap
/// (FORMAT.md §4), the validator asks for a 16 MiB block per 16 MiB section.
#[test]
fn finding_f1_solver_vs_validator_ppc64_memmap() {
    bodies::solve(&regression("solve-f1-ppc64-hash-memmap"));
}

/// F1b and F3b have one cause: a 5.3-5.6 namespace in map=dev whose start is off the 2 MiB
/// sub-section grid. The altmap base is the sub-section below the start, `__add_pages` is
/// asked for the first pfn of the range: "memory add fail, invalid altmap", -EINVAL at enable
/// (5.7 refuses such starts at init and validate). The solver refuses what that writer wrote.
fn assert_5_3_start_off_grid_refused(name: &str) {
    let data = regression(name);
    bodies::solve(&data);
    let req = bodies::solve_request(&data);
    assert!(
        req.profile.era == Era::V5_3 || req.profile.era == Era::V5_4,
        "{name}"
    );
    assert_eq!(req.mode, Mode::PMEM, "{name}");
    assert_ne!(req.ns_start % (2 << 20), 0, "{name}");
    match solve(&req) {
        Err(LayoutError::KernelRefuses {
            stage: Stage::Enable,
            reason:
                Reason::InvalidAltmap {
                    base_mismatch: true,
                    ..
                },
            errno: Errno::EINVAL,
        }) => {}
        other => panic!("{name}: {other:?}"),
    }
}

/// F1, last form (ppc64-hash, 5.3, a start 64 KiB off the 2 MiB grid): first seen as a
/// one-page memmap difference between the solver and the validator; the block the 5.3 writer
/// produces is refused at enable for its start.
#[test]
fn finding_f1b_solver_vs_validator_64k_reserve() {
    assert_5_3_start_off_grid_refused("solve-f1b-64k-memmap-off-by-a-page");
}

/// F2: a v1.4 RAM-mode block whose start_pad + end_trunc + dataoff exceed the 1 GiB
/// namespace is enabled by the 4.15 validator with a wrapped size.
#[test]
fn finding_f2_validator_enables_wrapped_size() {
    bodies::check(&regression("check-f2-validator-enables-wrapped-size"));
}

/// F2, the part still open: a 4.6 x86_64 RAM-mode block in a 1 GiB namespace with
/// `start_pad` 1008 MiB and `end_trunc` 15.7 MiB (the pfn range is 0.3 MiB, not inverted) and
/// `dataoff` 2 MiB, past the range's end: enabled with a wrapped size.
#[test]
fn finding_f2b_validator_enables_wrapped_range() {
    bodies::check(&regression("check-f2b-validator-enables-wrapped-range"));
}

/// F6: a 6.5 RAM-mode block in a 1 GiB namespace at address 0 with end_trunc 1360 MiB: the
/// pfn range end wraps below zero, so the range covers System RAM and the kernel refuses it
/// at enable (-ENXIO); the validator enabled a device outside its namespace.
#[test]
fn finding_f6_range_wraps_below_zero() {
    bodies::check(&regression("check-f6-range-wraps-below-zero"));
}

/// F3: a 4.15 PMEM layout at a start that is not section aligned (no collision declared):
/// the solver returns it, the validator refuses the altmap base.
#[test]
fn finding_f3_solver_vs_validator_altmap_base() {
    bodies::solve(&regression("solve-f3-pre-5.3-altmap-base"));
}

/// F3, 5.3–5.6 form (x86_64): a start off the 2 MiB sub-section grid, which the writer of
/// those eras accepts and enabling refuses; the solver refuses it too.
#[test]
fn finding_f3b_solver_vs_validator_subsection_start() {
    assert_5_3_start_off_grid_refused("solve-f3b-5.3-start-off-subsection-grid");
}

/// F4: a 4.7-4.14 devdax layout whose device range the enable stage finds misaligned.
#[test]
fn finding_f4_solver_vs_validator_devdax_range() {
    bodies::solve(&regression("solve-f4-4.7-devdax-range-misaligned"));
}

/// F5: a 4.6 layout of a namespace smaller than the alignment a 4.6 reader derives.
#[test]
fn finding_f5_solver_vs_validator_small_4_6() {
    bodies::solve(&regression("solve-f5-4.6-align-exceeds-capacity"));
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

#[test]
fn replay_label_parse() {
    replay("label_parse", bodies::label_parse);
}

#[test]
fn replay_label_update() {
    replay("label_update", bodies::label_update);
}

#[test]
fn replay_btt_check() {
    replay("btt_check", btt_bodies::btt_check);
}

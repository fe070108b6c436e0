//! A loop for instruction counts (not timing): `validate::check` or `compute_checksum` of the
//! bench block, N times, from a 64-byte aligned buffer. Run it under callgrind to see how many
//! instructions each function executes per call:
//!
//! ```sh
//! cargo bench --bench instructions --no-run
//! valgrind --tool=callgrind --callgrind-out-file=cg.out \
//!     $(ls target/release/deps/instructions-* | grep -v '\.d$') check 20000
//! callgrind_annotate cg.out | grep nvdimm
//! ```
//!
//! Arguments: `check` (default) or `checksum`, then the number of calls (default 20 000).
//! Figures in BENCHMARKS.md.

use std::hint::black_box;

use nvdimm_infoblock::validate::{check, Namespace, ProbePath};
use nvdimm_infoblock::{InfoBlock, Profile};

/// The block of `benches/block.rs` (ndctl 76, 1 GiB fsdax, align 2 MiB).
const HEAD: &[u8] = include_bytes!("../tests/data/ndctl/fsdax-1G-default.bin");

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let what = args.next().unwrap_or_else(|| "check".to_owned());
    let calls: u64 = args
        .next()
        .map_or(20_000, |n| n.parse().expect("a number of calls"));
    // Copy the head to a 64-byte aligned place, as a reader's page buffer would hold it.
    let mut buf = vec![0u8; HEAD.len() + 64];
    let off = buf.as_ptr().align_offset(64);
    buf[off..off + HEAD.len()].copy_from_slice(HEAD);
    let block = InfoBlock::from_namespace_head(&buf[off..off + HEAD.len()]).unwrap();
    let ns = Namespace::labelless(1 << 32, 1 << 30);
    let profile = Profile::NEWEST_X86_64;
    let mut digest = 0u64;
    for _ in 0..calls {
        digest ^= match what.as_str() {
            "checksum" => black_box(block).compute_checksum(),
            _ => {
                let outcome = check(
                    black_box(block),
                    black_box(&ns),
                    &ProbePath::Probe,
                    &profile,
                );
                outcome.unwrap().enabled().map_or(0, |e| e.dev_size)
            }
        };
    }
    println!("{what} x {calls}: digest {digest:#x}");
}

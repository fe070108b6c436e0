//! `nd_fletcher64` over one 4096-byte block against the plain reference loop and against a
//! plain wrapping sum of the same 1024 words (the memory-read floor), in the same run.
//!
//! `cargo bench --bench checksum`; figures and machine in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nvdimm_infoblock::nd_fletcher64;

/// The kernel's loop written the obvious way (FORMAT.md §2.1): two dependent additions per
/// word.
fn reference(bytes: &[u8]) -> u64 {
    let mut lo: u32 = 0;
    let mut hi: u64 = 0;
    for w in bytes.chunks_exact(4) {
        lo = lo.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        hi = hi.wrapping_add(u64::from(lo));
    }
    (hi << 32) | u64::from(lo)
}

/// A plain wrapping sum of the little-endian words: every word read once, one addition each,
/// which LLVM vectorises. No checksum can read the block faster.
fn plain_sum(bytes: &[u8]) -> u32 {
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .fold(0u32, u32::wrapping_add)
}

fn block() -> Vec<u8> {
    // Deterministic non-trivial content (an LCG), so no value is a constant.
    let mut x: u32 = 0x1234_5678;
    (0..4096)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            x.to_le_bytes()[3]
        })
        .collect()
}

fn checksum(c: &mut Criterion) {
    let data = block();
    assert_eq!(nd_fletcher64(&data), reference(&data));
    let mut g = c.benchmark_group("checksum-4096");
    g.throughput(Throughput::Bytes(4096));
    g.bench_function("nd_fletcher64", |b| {
        b.iter(|| nd_fletcher64(black_box(&data)))
    });
    g.bench_function("reference-loop", |b| b.iter(|| reference(black_box(&data))));
    g.bench_function("plain-sum-floor", |b| {
        b.iter(|| plain_sum(black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, checksum);
criterion_main!(benches);

//! `nd_fletcher64` over one 4096-byte block against the plain reference loop and against a
//! plain wrapping sum of the same 1024 words (the memory-read floor), in the same run.
//!
//! `cargo bench --bench checksum`; figures and machine in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, Criterion, Throughput};
use nvdimm_infoblock::nd_fletcher64;
use zerocopy::little_endian::U32;
use zerocopy::FromBytes;

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

/// A plain wrapping sum of the little-endian words: every word read once and one addition
/// each, in 16 independent lanes that LLVM keeps in SSE2 registers (the same in-place view of
/// the bytes as rows of words that the library uses). No checksum can read the block faster.
fn plain_sum(bytes: &[u8]) -> u32 {
    let rows = bytes.len() / 64;
    let (rows, _) = <[[U32; 16]]>::ref_from_prefix_with_elems(bytes, rows).unwrap();
    let mut acc = [0u32; 16];
    for row in rows {
        for (s, w) in acc.iter_mut().zip(row) {
            *s = s.wrapping_add(w.get());
        }
    }
    acc.iter().fold(0u32, |x, y| x.wrapping_add(*y))
}

/// The same sum written the obvious way (one lane, bytes decoded per word), for comparison.
fn plain_sum_naive(bytes: &[u8]) -> u32 {
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
    assert_eq!(plain_sum(&data), plain_sum_naive(&data));
    let mut g = c.benchmark_group("checksum-4096");
    g.throughput(Throughput::Bytes(4096));
    g.bench_function("nd_fletcher64", |b| {
        b.iter(|| nd_fletcher64(black_box(&data)))
    });
    g.bench_function("reference-loop", |b| b.iter(|| reference(black_box(&data))));
    g.bench_function("plain-sum-floor", |b| {
        b.iter(|| plain_sum(black_box(&data)))
    });
    g.bench_function("plain-sum-naive", |b| {
        b.iter(|| plain_sum_naive(black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, checksum);

/// Interleaved minimum-of-rounds timing of the same functions (`cargo bench --bench checksum
/// -- --min-ratio`): each round times 64 calls of each function back to back, and the
/// minimum over 3000 rounds filters out the time a shared machine takes away, so the ratios
/// are stable where criterion's means are not.
fn min_ratio() {
    use std::time::Instant;
    let data = block();
    type F = fn(&[u8]) -> u64;
    let fns: [(&str, F); 4] = [
        ("nd_fletcher64", nd_fletcher64),
        ("reference-loop", reference),
        ("plain-sum-floor", |b| u64::from(plain_sum(b))),
        ("plain-sum-naive", |b| u64::from(plain_sum_naive(b))),
    ];
    let mut best = [f64::MAX; 4];
    for _ in 0..3000 {
        for (k, (_, f)) in fns.iter().enumerate() {
            let t = Instant::now();
            for _ in 0..64 {
                black_box(f(black_box(&data)));
            }
            let ns = t.elapsed().as_secs_f64() * 1e9 / 64.0;
            best[k] = best[k].min(ns);
        }
    }
    for (k, (name, _)) in fns.iter().enumerate() {
        println!(
            "{name:16} min {:8.1} ns   x reference {:5.2}   x floor {:5.2}",
            best[k],
            best[1] / best[k],
            best[k] / best[2]
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--min-ratio") {
        min_ratio();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

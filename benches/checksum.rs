//! `nd_fletcher64` over one 4096-byte block against the plain reference loop and against a
//! plain wrapping sum of the same 1024 words (the memory-read floor), in the same run.
//!
//! The block is measured 16-byte-aligned (as a page read into memory is), and also starting
//! 4 bytes (word-aligned) and 1 byte (unaligned) after such a boundary, since the library
//! reads aligned and unaligned buffers differently.
//!
//! `cargo bench --bench checksum`; figures and machine in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, Criterion, Throughput};

mod min_time;
use nvdimm_infoblock::nd_fletcher64;
use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, KnownLayout};

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
/// the bytes as rows of words that the library uses for unaligned buffers).
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

/// Four words at a 16-byte-aligned address, read as one value.
#[derive(Clone, Copy, FromBytes, KnownLayout, Immutable)]
#[repr(C, align(16))]
struct Quad([u32; 4]);

/// The same plain sum reading 16-byte-aligned groups of four words, which LLVM turns into one
/// `paddd xmm, m128` per group: the floor for an aligned buffer (as the library reads one).
fn plain_sum_aligned(bytes: &[u8]) -> u32 {
    let rows = bytes.len() / 64;
    let (rows, _) = <[[Quad; 4]]>::ref_from_prefix_with_elems(bytes, rows).unwrap();
    let mut acc = [[0u32; 4]; 4];
    for row in rows {
        for (s, q) in acc.iter_mut().zip(row) {
            let Quad([w0, w1, w2, w3]) = *q;
            for (x, w) in s.iter_mut().zip([w0, w1, w2, w3]) {
                *x = x.wrapping_add(u32::from_le(w));
            }
        }
    }
    acc.iter().flatten().fold(0u32, |x, y| x.wrapping_add(*y))
}

/// The same sum written the obvious way (one lane, bytes decoded per word), for comparison.
fn plain_sum_naive(bytes: &[u8]) -> u32 {
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .fold(0u32, u32::wrapping_add)
}

/// A 64-byte-aligned buffer holding the 4096 bench bytes `offset` bytes after its start.
#[repr(C, align(64))]
struct Page([u8; 4096 + 64]);

/// The bench block: deterministic non-trivial content (an LCG, so no value is a constant),
/// starting `offset` bytes after a 64-byte boundary.
fn block(offset: usize) -> Box<Page> {
    let mut page = Box::new(Page([0; 4096 + 64]));
    let mut x: u32 = 0x1234_5678;
    for b in &mut page.0[offset..offset + 4096] {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = x.to_le_bytes()[3];
    }
    page
}

/// The 4096 bench bytes of a page built by [`block`] with the same `offset`.
fn bytes(page: &Page, offset: usize) -> &[u8] {
    &page.0[offset..offset + 4096]
}

/// Every function measured gives the same answer on the three placements of the block.
fn assert_agree(aligned: &[u8], word: &[u8], unaligned: &[u8]) {
    assert_eq!(aligned, word);
    assert_eq!(aligned, unaligned);
    for data in [aligned, word, unaligned] {
        assert_eq!(nd_fletcher64(data), reference(data));
        assert_eq!(plain_sum(data), plain_sum_naive(data));
    }
    assert_eq!(plain_sum_aligned(aligned), plain_sum(aligned));
}

/// Where a case reads the bench block.
#[derive(Clone, Copy)]
enum Place {
    /// At a 16-byte boundary.
    Aligned,
    /// 4 bytes past one.
    Word,
    /// 1 byte past one.
    Unaligned,
}

/// The label of the reference loop, the base of the "x reference" column.
const REFERENCE: &str = "reference loop";
/// The label of the aligned plain sum, the base of the "x floor" column.
const FLOOR: &str = "plain sum (floor)";

/// A case: criterion's name, the `--min-ratio` label, the placement and the function.
type Case = (&'static str, &'static str, Place, fn(&[u8]) -> u64);

/// Every function measured, in the order `--min-ratio` prints them: criterion's name, the
/// label `--min-ratio` prints, the placement of the block and the function. Both harnesses
/// call each function through its pointer, so every one is measured out of line alike.
const CASES: [Case; 7] = [
    (
        "nd_fletcher64",
        "nd_fletcher64",
        Place::Aligned,
        nd_fletcher64,
    ),
    ("reference-loop", REFERENCE, Place::Aligned, reference),
    ("plain-sum-floor", FLOOR, Place::Aligned, |b| {
        u64::from(plain_sum_aligned(b))
    }),
    (
        "nd_fletcher64-word-aligned",
        "nd_fletcher64",
        Place::Word,
        nd_fletcher64,
    ),
    (
        "nd_fletcher64-unaligned",
        "nd_fletcher64",
        Place::Unaligned,
        nd_fletcher64,
    ),
    (
        "plain-sum-floor-unaligned",
        "plain sum, unaligned rows",
        Place::Unaligned,
        |b| u64::from(plain_sum(b)),
    ),
    ("plain-sum-naive", "plain sum, naive", Place::Aligned, |b| {
        u64::from(plain_sum_naive(b))
    }),
];

/// The three placements of the bench block (their pages must outlive the slices).
struct Blocks {
    pages: [Box<Page>; 3],
}

impl Blocks {
    fn new() -> Self {
        let blocks = Self {
            pages: [block(0), block(4), block(1)],
        };
        let [aligned, word, unaligned] =
            [Place::Aligned, Place::Word, Place::Unaligned].map(|place| blocks.at(place));
        assert_agree(aligned, word, unaligned);
        blocks
    }

    fn at(&self, place: Place) -> &[u8] {
        match place {
            Place::Aligned => bytes(&self.pages[0], 0),
            Place::Word => bytes(&self.pages[1], 4),
            Place::Unaligned => bytes(&self.pages[2], 1),
        }
    }
}

fn checksum(c: &mut Criterion) {
    let blocks = Blocks::new();
    let mut g = c.benchmark_group("checksum-4096");
    g.throughput(Throughput::Bytes(4096));
    for (id, _, place, f) in CASES {
        let data = blocks.at(place);
        g.bench_function(id, |b| b.iter(|| f(black_box(data))));
    }
    g.finish();
}

criterion_group!(benches, checksum);

/// Interleaved minimum-of-rounds timing of the same functions (`cargo bench --bench checksum
/// -- --min-ratio`): each round times 64 calls of each function back to back, and the
/// minimum over 3000 rounds filters out the time a shared machine takes away, so the ratios
/// are stable where criterion's means are not. Ratios are to the reference loop and to the
/// aligned plain sum (the floor), both on the aligned block.
fn min_ratio() {
    let blocks = Blocks::new();
    // One closure type for every case: `f` and `data` are its captured values.
    let mut calls: Vec<_> = CASES
        .iter()
        .map(|&(_, _, place, f)| {
            let data = blocks.at(place);
            move || f(black_box(data))
        })
        .collect();
    let mut timed: Vec<(&str, &mut dyn FnMut() -> u64)> = CASES
        .iter()
        .zip(calls.iter_mut())
        .map(|((_, label, _, _), f)| (*label, f as &mut dyn FnMut() -> u64))
        .collect();
    let best = min_time::min_ns(&mut timed, 3000, 64);
    let index = |label: &str| CASES.iter().position(|c| c.1 == label).unwrap();
    let (reference_at, floor_at) = (index(REFERENCE), index(FLOOR));
    for (k, (_, label, place, _)) in CASES.iter().enumerate() {
        let at = blocks.at(*place).as_ptr() as usize % 16;
        println!(
            "{label:26} at 16·k+{at:<2} min {:7.1} ns   x reference {:5.2}   x floor {:5.2}",
            best[k],
            best[reference_at] / best[k],
            best[k] / best[floor_at]
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

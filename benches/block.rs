//! One block through the library: the checksum alone, parse + verify, emit.
//!
//! `cargo bench --bench block`; figures and machine in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use nvdimm_infoblock::{parse, InfoBlock, ParseOptions, PfnInfo};

/// A real block: `ndctl write-infoblock -m fsdax -a 2M` of a 1 GiB namespace with a 1 MiB
/// offset (the committed fuzz seed, bytes 4096..8192 of the namespace head).
const HEAD: &[u8] = include_bytes!("../fuzz/corpus/parse/fsdax-1G-a2M-off1M.head");

fn one_block(c: &mut Criterion) {
    let block = InfoBlock::from_namespace_head(HEAD).unwrap();
    let info = PfnInfo::parse(block, &ParseOptions::DEFAULT).unwrap();
    let mut g = c.benchmark_group("block");
    g.bench_function("checksum-alone", |b| {
        b.iter(|| black_box(block).compute_checksum())
    });
    g.bench_function("parse+verify", |b| {
        b.iter(|| parse(black_box(HEAD), &ParseOptions::DEFAULT).map(|p| p.info))
    });
    let mut out = InfoBlock::zeroed();
    g.bench_function("emit", |b| {
        b.iter(|| black_box(&info).emit(black_box(&mut out)))
    });
    g.finish();
}

criterion_group!(benches, one_block);
criterion_main!(benches);

//! One block through the library: the checksum alone, parse + verify, parse + verify +
//! validate (`validate::check`), emit, solve, and the compatibility check of every reader.
//!
//! `cargo bench --bench block`; figures and machine in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use nvdimm_infoblock::compat::{self, Reader};
use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath};
use nvdimm_infoblock::{
    parse, solve, DeviceKind, InfoBlock, LayoutRequest, Mode, ParseOptions, PfnInfo, Profile,
};

/// A real block: `ndctl write-infoblock -m fsdax -a 2M` of a 1 GiB namespace (ndctl 76;
/// tests/data/ndctl/fsdax-1G-default.bin, bytes 0..8192 of the image).
const HEAD: &[u8] = include_bytes!("../tests/data/ndctl/fsdax-1G-default.bin");

/// A block in a 16-byte-aligned buffer.
#[repr(C, align(16))]
struct Aligned(InfoBlock);

fn one_block(c: &mut Criterion) {
    let block = InfoBlock::from_namespace_head(HEAD).unwrap();
    let info = PfnInfo::parse(block, &ParseOptions::DEFAULT).unwrap();
    let profile = Profile::NEWEST_X86_64;
    let ns = Namespace::labelless(1 << 32, 1 << 30);
    let outcome = check(block, &ns, &ProbePath::Probe, &profile).unwrap();
    assert!(matches!(outcome, Outcome::Enabled(_)), "{outcome:?}");
    let request = LayoutRequest::new(profile, 1 << 30, DeviceKind::Fsdax, Mode::PMEM)
        .with_start(1 << 32)
        .with_align(Some(2 << 20));
    assert!(solve(&request).is_ok());

    let mut g = c.benchmark_group("block");
    g.bench_function("checksum-alone", |b| {
        b.iter(|| black_box(block).compute_checksum())
    });
    g.bench_function("parse+verify", |b| {
        b.iter(|| parse(black_box(HEAD), &ParseOptions::DEFAULT).map(|p| p.info))
    });
    g.bench_function("parse+verify+validate", |b| {
        b.iter(|| {
            let parsed = parse(black_box(HEAD), &ParseOptions::DEFAULT).unwrap();
            check(parsed.block, black_box(&ns), &ProbePath::Probe, &profile)
        })
    });
    g.bench_function("check", |b| {
        b.iter(|| {
            check(
                black_box(block),
                black_box(&ns),
                &ProbePath::Probe,
                &profile,
            )
        })
    });
    let mut out = InfoBlock::zeroed();
    g.bench_function("emit", |b| {
        b.iter(|| black_box(&info).emit(black_box(&mut out)))
    });
    g.bench_function("solve", |b| b.iter(|| solve(black_box(&request))));
    g.bench_function("compat-check-16-readers", |b| {
        b.iter(|| {
            Reader::KNOWN
                .iter()
                .map(|r| compat::check(black_box(block), &ns, r).loads())
                .filter(|l| *l)
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, one_block);

mod min_time;

/// `cargo bench --bench block -- --min-ratio`: the same calls, interleaved, minimum of rounds.
fn min_ratio() {
    let block = InfoBlock::from_namespace_head(HEAD).unwrap();
    let info = PfnInfo::parse(block, &ParseOptions::DEFAULT).unwrap();
    let profile = Profile::NEWEST_X86_64;
    let ns = Namespace::labelless(1 << 32, 1 << 30);
    let request = LayoutRequest::new(profile, 1 << 30, DeviceKind::Fsdax, Mode::PMEM)
        .with_start(1 << 32)
        .with_align(Some(2 << 20));
    let mut out = InfoBlock::zeroed();
    let mut checksum = || black_box(block).compute_checksum();
    let mut parse_verify = || {
        let p = parse(black_box(HEAD), &ParseOptions::DEFAULT).unwrap();
        p.info.npfns
    };
    let mut parse_verify_validate = || {
        let p = parse(black_box(HEAD), &ParseOptions::DEFAULT).unwrap();
        let o = check(p.block, black_box(&ns), &ProbePath::Probe, &profile).unwrap();
        u64::from(matches!(o, Outcome::Enabled(_)))
    };
    let mut check_only = || {
        let o = check(
            black_box(block),
            black_box(&ns),
            &ProbePath::Probe,
            &profile,
        )
        .unwrap();
        u64::from(matches!(o, Outcome::Enabled(_)))
    };
    let mut emit = || {
        black_box(&info).emit(black_box(&mut out)).unwrap();
        out.checksum.get()
    };
    let mut solve_one = || solve(black_box(&request)).unwrap().dataoff;
    let bytes = zerocopy::IntoBytes::as_bytes(block);
    let mut fletcher = || nvdimm_infoblock::nd_fletcher64(black_box(bytes));
    // The same block in a 16-byte-aligned buffer, as a block read into a page buffer is (the
    // static above lands wherever the linker puts it; its address is printed).
    let aligned: Box<Aligned> = Box::new(Aligned(block.clone()));
    let aligned = &aligned.0;
    let mut checksum_aligned = || black_box(aligned).compute_checksum();
    let mut check_aligned = || {
        let o = check(
            black_box(aligned),
            black_box(&ns),
            &ProbePath::Probe,
            &profile,
        )
        .unwrap();
        u64::from(matches!(o, Outcome::Enabled(_)))
    };
    let mut fns: [(&str, &mut dyn FnMut() -> u64); 9] = [
        ("checksum-alone", &mut checksum),
        ("nd_fletcher64-4096", &mut fletcher),
        ("parse+verify", &mut parse_verify),
        ("parse+verify+validate", &mut parse_verify_validate),
        ("check", &mut check_only),
        ("emit", &mut emit),
        ("solve", &mut solve_one),
        ("checksum-alone, aligned", &mut checksum_aligned),
        ("check, aligned", &mut check_aligned),
    ];
    println!(
        "block at address 16·k+{} (static), aligned copy at 16·k+{}",
        std::ptr::from_ref(block) as usize % 16,
        std::ptr::from_ref(aligned) as usize % 16
    );
    let best = min_time::min_ns(&mut fns, 3000, 16);
    for (k, (name, _)) in fns.iter().enumerate() {
        // The aligned rows are compared with the checksum of the same aligned block.
        let base = if k >= 7 { best[7] } else { best[0] };
        println!(
            "{name:24} min {:8.1} ns   x its checksum-alone {:5.2}",
            best[k],
            best[k] / base
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

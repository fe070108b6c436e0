//! One block through the library: the checksum alone, parse + verify, parse + verify +
//! validate (`validate::check`), emit, solve, and the compatibility check of every reader.
//!
//! `cargo bench --bench block`; figures and machine in BENCHMARKS.md.

use std::cell::RefCell;
use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use nvdimm_infoblock::compat::{self, Reader};
use nvdimm_infoblock::validate::{check, Namespace, Outcome, ProbePath};
use nvdimm_infoblock::{
    parse, solve, DeviceKind, InfoBlock, LayoutRequest, Mode, ParseOptions, PfnInfo, Profile,
};

/// A real block: `ndctl write-infoblock -m fsdax -a 2M` of a 1 GiB namespace (ndctl 76;
/// tests/data/ndctl/fsdax-1G-default.bin, bytes 0..8192 of the image: the namespace head).
const HEAD: &[u8] = include_bytes!("../tests/data/ndctl/fsdax-1G-default.bin");

/// A 64-byte-aligned buffer for a copy of [`HEAD`] at a chosen offset.
#[repr(C, align(64))]
struct Page([u8; 8192 + 64]);

/// A copy of the namespace head whose block (at byte 4096) starts `offset` bytes after a
/// 64-byte boundary.
struct Head {
    page: Box<Page>,
    offset: usize,
}

impl Head {
    fn at(offset: usize) -> Self {
        let mut page = Box::new(Page([0; 8192 + 64]));
        page.0[offset..offset + HEAD.len()].copy_from_slice(HEAD);
        Self { page, offset }
    }

    fn bytes(&self) -> &[u8] {
        &self.page.0[self.offset..self.offset + HEAD.len()]
    }

    fn block(&self) -> &InfoBlock {
        InfoBlock::from_namespace_head(self.bytes()).unwrap()
    }
}

/// Everything the cases read: the head at two placements, and the call arguments.
struct Fixture {
    /// The block 1 byte past a 16-byte boundary: the checksum's unaligned path.
    unaligned: Head,
    /// The block at a 16-byte boundary, as a block read into a page buffer is.
    aligned: Head,
    info: PfnInfo,
    profile: Profile,
    ns: Namespace,
    request: LayoutRequest,
    /// Where `emit` writes (the only case that writes): the block of an aligned head.
    out: RefCell<Head>,
}

impl Fixture {
    fn new() -> Self {
        let unaligned = Head::at(1);
        let info = PfnInfo::parse(unaligned.block(), &ParseOptions::DEFAULT).unwrap();
        let profile = Profile::NEWEST_X86_64;
        let fixture = Self {
            unaligned,
            aligned: Head::at(0),
            info,
            profile,
            ns: Namespace::labelless(1 << 32, 1 << 30),
            request: LayoutRequest::new(profile, 1 << 30, DeviceKind::Fsdax, Mode::PMEM)
                .with_start(1 << 32)
                .with_align(Some(2 << 20)),
            out: RefCell::new(Head::at(0)),
        };
        for head in [&fixture.unaligned, &fixture.aligned] {
            assert_eq!(check_enabled(&fixture, head.block()), 1);
        }
        assert!(solve(&fixture.request).is_ok());
        fixture
    }
}

/// `validate::check` of `block` in the fixture's namespace: 1 when it is enabled.
fn check_enabled(f: &Fixture, block: &InfoBlock) -> u64 {
    let o = check(
        black_box(block),
        black_box(&f.ns),
        &ProbePath::Probe,
        &f.profile,
    )
    .unwrap();
    u64::from(matches!(o, Outcome::Enabled(_)))
}

/// `compute_checksum` of the block of `head`.
fn checksum_alone(head: &Head) -> u64 {
    black_box(head.block()).compute_checksum()
}

/// A case: criterion's name, the `--min-ratio` label, and the call.
type Case = (&'static str, &'static str, fn(&Fixture) -> u64);

/// Every case both harnesses time, in the order `--min-ratio` prints them: first on the
/// unaligned copy, then (from [`FIRST_ALIGNED`]) on the aligned one.
const CASES: [Case; 10] = [
    ("checksum-alone", "checksum-alone", |f| {
        checksum_alone(&f.unaligned)
    }),
    ("nd_fletcher64-4096", "nd_fletcher64-4096", |f| {
        let bytes = zerocopy::IntoBytes::as_bytes(f.unaligned.block());
        nvdimm_infoblock::nd_fletcher64(black_box(bytes))
    }),
    ("parse+verify", "parse+verify", |f| {
        let parsed = parse(black_box(f.unaligned.bytes()), &ParseOptions::DEFAULT);
        parsed.unwrap().info.npfns
    }),
    ("parse+verify+validate", "parse+verify+validate", |f| {
        let parsed = parse(black_box(f.unaligned.bytes()), &ParseOptions::DEFAULT);
        check_enabled(f, parsed.unwrap().block)
    }),
    ("check", "check", |f| check_enabled(f, f.unaligned.block())),
    ("emit", "emit", |f| {
        let mut out = f.out.borrow_mut();
        let block = InfoBlock::from_bytes_mut(&mut out.page.0[4096..8192]).unwrap();
        black_box(&f.info).emit(black_box(block)).unwrap();
        block.checksum.get()
    }),
    ("solve", "solve", |f| {
        solve(black_box(&f.request)).unwrap().dataoff
    }),
    ("checksum-alone-aligned", "checksum-alone, aligned", |f| {
        checksum_alone(&f.aligned)
    }),
    ("parse+verify-aligned", "parse+verify, aligned", |f| {
        let parsed = parse(black_box(f.aligned.bytes()), &ParseOptions::DEFAULT);
        parsed.unwrap().info.npfns
    }),
    ("check-aligned", "check, aligned", |f| {
        check_enabled(f, f.aligned.block())
    }),
];

/// The first case that reads the aligned copy.
const FIRST_ALIGNED: usize = 7;

fn one_block(c: &mut Criterion) {
    let fixture = Fixture::new();
    let mut g = c.benchmark_group("block");
    for (id, _, call) in CASES {
        g.bench_function(id, |b| b.iter(|| call(&fixture)));
    }
    g.bench_function("compat-check-16-readers", |b| {
        b.iter(|| {
            Reader::KNOWN
                .iter()
                .map(|r| compat::check(black_box(fixture.aligned.block()), &fixture.ns, r).loads())
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
    let fixture = Fixture::new();
    println!(
        "block at 16·k+{} (unaligned copy), 16·k+{} (aligned copy)",
        std::ptr::from_ref(fixture.unaligned.block()) as usize % 16,
        std::ptr::from_ref(fixture.aligned.block()) as usize % 16
    );
    // One closure type for every case: `call` is its captured value.
    let mut calls: Vec<_> = CASES
        .iter()
        .map(|&(_, _, call)| {
            let fixture = &fixture;
            move || call(fixture)
        })
        .collect();
    let mut timed: Vec<(&str, &mut dyn FnMut() -> u64)> = CASES
        .iter()
        .zip(calls.iter_mut())
        .map(|((_, label, _), f)| (*label, f as &mut dyn FnMut() -> u64))
        .collect();
    let best = min_time::min_ns(&mut timed, 3000, 16);
    for (k, (_, label, _)) in CASES.iter().enumerate() {
        // The aligned rows are compared with the checksum of the same aligned block.
        let base = if k >= FIRST_ALIGNED {
            best[FIRST_ALIGNED]
        } else {
            best[0]
        };
        println!(
            "{label:24} min {:8.1} ns   x its checksum-alone {:5.2}",
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

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

/// A copy of the namespace head `offset` bytes after a 64-byte boundary, so that its block (at
/// byte 4096) starts `offset` bytes after one too.
fn head_at(offset: usize) -> Box<Page> {
    let mut page = Box::new(Page([0; 8192 + 64]));
    page.0[offset..offset + HEAD.len()].copy_from_slice(HEAD);
    page
}

/// The buffers the cases read and write: the head 1 byte past and at a 16-byte boundary, and
/// an aligned page for `emit`.
struct Pages {
    unaligned: Box<Page>,
    aligned: Box<Page>,
    out: Box<Page>,
}

impl Pages {
    fn new() -> Self {
        Self {
            unaligned: head_at(1),
            aligned: head_at(0),
            out: head_at(0),
        }
    }
}

/// Everything the cases read, located once outside the timed calls.
struct Fixture<'a> {
    /// The namespace head whose block lies 1 byte past a 16-byte boundary (the checksum's
    /// unaligned path), and that block.
    unaligned_head: &'a [u8],
    unaligned: &'a InfoBlock,
    /// The same at a 16-byte boundary, as a block read into a page buffer is.
    aligned_head: &'a [u8],
    aligned: &'a InfoBlock,
    info: PfnInfo,
    profile: Profile,
    ns: Namespace,
    request: LayoutRequest,
    /// Where `emit` writes (the only case that writes): a block at a 16-byte boundary.
    out: RefCell<&'a mut InfoBlock>,
}

impl<'a> Fixture<'a> {
    fn new(pages: &'a mut Pages) -> Self {
        let unaligned_head = &pages.unaligned.0[1..1 + HEAD.len()];
        let aligned_head = &pages.aligned.0[..HEAD.len()];
        let unaligned = InfoBlock::from_namespace_head(unaligned_head).unwrap();
        let aligned = InfoBlock::from_namespace_head(aligned_head).unwrap();
        let profile = Profile::NEWEST_X86_64;
        let fixture = Self {
            unaligned_head,
            unaligned,
            aligned_head,
            aligned,
            info: PfnInfo::parse(unaligned, &ParseOptions::DEFAULT).unwrap(),
            profile,
            ns: Namespace::labelless(1 << 32, 1 << 30),
            request: LayoutRequest::new(profile, 1 << 30, DeviceKind::Fsdax, Mode::PMEM)
                .with_start(1 << 32)
                .with_align(Some(2 << 20)),
            out: RefCell::new(InfoBlock::from_bytes_mut(&mut pages.out.0[4096..8192]).unwrap()),
        };
        for block in [unaligned, aligned] {
            assert_eq!(check_enabled(&fixture, block), 1);
        }
        assert!(solve(&fixture.request).is_ok());
        fixture
    }
}

/// `validate::check` of `block` in the fixture's namespace: 1 when it is enabled.
fn check_enabled(f: &Fixture<'_>, block: &InfoBlock) -> u64 {
    let o = check(
        black_box(block),
        black_box(&f.ns),
        &ProbePath::Probe,
        &f.profile,
    )
    .unwrap();
    u64::from(matches!(o, Outcome::Enabled(_)))
}

/// A case: criterion's name, the `--min-ratio` label, and the call.
type Case = (&'static str, &'static str, fn(&Fixture<'_>) -> u64);

/// Every case both harnesses time, in the order `--min-ratio` prints them: first on the
/// unaligned copy, then (from [`CHECKSUM_ALONE_ALIGNED`]) on the aligned one.
const CASES: [Case; 10] = [
    (CHECKSUM_ALONE, CHECKSUM_ALONE, |f| {
        black_box(f.unaligned).compute_checksum()
    }),
    ("nd_fletcher64-4096", "nd_fletcher64-4096", |f| {
        let bytes = zerocopy::IntoBytes::as_bytes(f.unaligned);
        nvdimm_infoblock::nd_fletcher64(black_box(bytes))
    }),
    ("parse+verify", "parse+verify", |f| {
        let parsed = parse(black_box(f.unaligned_head), &ParseOptions::DEFAULT);
        parsed.unwrap().info.npfns
    }),
    ("parse+verify+validate", "parse+verify+validate", |f| {
        let parsed = parse(black_box(f.unaligned_head), &ParseOptions::DEFAULT);
        check_enabled(f, parsed.unwrap().block)
    }),
    ("check", "check", |f| check_enabled(f, f.unaligned)),
    ("emit", "emit", |f| {
        let mut out = f.out.borrow_mut();
        black_box(&f.info).emit(black_box(&mut out)).unwrap();
        out.checksum.get()
    }),
    ("solve", "solve", |f| {
        solve(black_box(&f.request)).unwrap().dataoff
    }),
    ("checksum-alone-aligned", CHECKSUM_ALONE_ALIGNED, |f| {
        black_box(f.aligned).compute_checksum()
    }),
    ("parse+verify-aligned", "parse+verify, aligned", |f| {
        let parsed = parse(black_box(f.aligned_head), &ParseOptions::DEFAULT);
        parsed.unwrap().info.npfns
    }),
    ("check-aligned", "check, aligned", |f| {
        check_enabled(f, f.aligned)
    }),
];

/// The label of the first case, the base of the ratios of the unaligned rows.
const CHECKSUM_ALONE: &str = "checksum-alone";
/// The label of the first case that reads the aligned copy, the base of the aligned rows.
const CHECKSUM_ALONE_ALIGNED: &str = "checksum-alone, aligned";

fn one_block(c: &mut Criterion) {
    let mut pages = Pages::new();
    let fixture = Fixture::new(&mut pages);
    let mut g = c.benchmark_group("block");
    for (id, _, call) in CASES {
        g.bench_function(id, |b| b.iter(|| call(&fixture)));
    }
    g.bench_function("compat-check-16-readers", |b| {
        b.iter(|| {
            Reader::KNOWN
                .iter()
                .map(|r| compat::check(black_box(fixture.aligned), &fixture.ns, r).loads())
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
    let mut pages = Pages::new();
    let fixture = Fixture::new(&mut pages);
    println!(
        "block at 16·k+{} (unaligned copy), 16·k+{} (aligned copy)",
        std::ptr::from_ref(fixture.unaligned) as usize % 16,
        std::ptr::from_ref(fixture.aligned) as usize % 16
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
    let index = |label: &str| CASES.iter().position(|c| c.1 == label).unwrap();
    let (unaligned_base, aligned_base) = (index(CHECKSUM_ALONE), index(CHECKSUM_ALONE_ALIGNED));
    for (k, (_, label, _)) in CASES.iter().enumerate() {
        // The rows after the aligned checksum read the aligned block and are compared with it.
        let base = if k >= aligned_base {
            best[aligned_base]
        } else {
            best[unaligned_base]
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

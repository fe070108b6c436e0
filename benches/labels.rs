//! Parsing and enumerating a 128 KiB label storage area against reading it (goal: ≤ 2x).
//!
//! "Reading it" is what any reader of an area does first: `pread` of the 128 KiB from a file
//! in the page cache into a buffer. "Parsing and enumerating" is `LabelArea::parse` (both
//! index blocks validated, the current one chosen) then `LabelArea::namespaces` (every active
//! label checked and the namespaces the kernel creates listed). Areas: the one Linux 6.1
//! wrote after creating two namespaces (tests/data/kernel/labels/s2-create-b.lsa), and areas
//! filled by this crate's `add` with 1, 64, 255 and 509 namespaces (a 128 KiB v1.2 area has
//! 510 slots; an update needs one free slot beside the labels it keeps, so 509 is the most).
//!
//! `cargo bench --bench labels` (criterion) or `cargo bench --bench labels -- --min-ratio`
//! (`-- --loop N`: the 509-namespace case N times, for callgrind);
//! figures and machine in BENCHMARKS.md.

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::os::unix::fs::FileExt;

use criterion::Criterion;
use nvdimm_infoblock::label::{self, InitStyle, LabelArea, LabelVersion, NewLabel, Region};
use nvdimm_infoblock::Uuid;

#[path = "min_time.rs"]
mod min_time;

const AREA: usize = 128 << 10;
const COOKIE: u64 = 0x00ba_9012_0012_b4dc;

/// An area with `n` namespaces of 16 MiB each, one after the other, added by `label::add`.
fn filled(n: usize) -> Vec<u8> {
    let mut area = vec![0u8; AREA];
    label::init(AREA, LabelVersion::V1_2, InitStyle::Kernel)
        .expect("init")
        .apply_in_place(&mut area)
        .expect("apply init");
    for i in 0..n {
        let mut uuid = [0u8; 16];
        uuid[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        uuid[8] = 0x42;
        let new = NewLabel::new(
            Uuid(uuid),
            &format!("ns{i}"),
            (i as u64) << 24,
            16 << 20,
            COOKIE,
        )
        .expect("label");
        let snapshot = area.clone();
        let parsed = LabelArea::parse(&snapshot).expect("parse");
        label::add(&parsed, &new)
            .expect("add")
            .apply_in_place(&mut area)
            .expect("apply add");
    }
    area
}

struct Case {
    name: String,
    file: File,
    buf: Vec<u8>,
    out: Vec<label::Namespace>,
}

impl Case {
    fn new(name: String, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "nvdimm-labels-bench-{}-{}",
            std::process::id(),
            name.replace(' ', "_")
        ));
        let mut file = File::create(&path).expect("temp file");
        file.write_all(bytes).expect("write");
        drop(file);
        let file = File::open(&path).expect("open");
        let _ = std::fs::remove_file(&path);
        let mut case = Self {
            name,
            file,
            buf: vec![0u8; AREA],
            out: vec![label::Namespace::EMPTY; 1024],
        };
        case.read();
        let (count, failure) = case.enumerate();
        println!("{}: {count} namespaces, failure {failure:?}", case.name);
        case
    }

    fn read(&mut self) -> u64 {
        self.file.read_exact_at(&mut self.buf, 0).expect("pread");
        u64::from(self.buf[100])
    }

    fn enumerate(&mut self) -> (usize, Option<label::RegionFailure>) {
        let region = Region {
            isetcookie: Some(COOKIE),
            altcookie: None,
            type_guid: None,
            dpa_range: None,
        };
        match LabelArea::parse(black_box(&self.buf)) {
            Ok(area) => {
                let scan = area.namespaces(&region, &mut self.out);
                (scan.count, scan.failure)
            }
            Err(_) => (0, None),
        }
    }

    fn parse_and_enumerate(&mut self) -> u64 {
        self.enumerate().0 as u64
    }
}

fn cases() -> Vec<Case> {
    let kernel = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/kernel/labels/s2-create-b.lsa"
    ))
    .expect("kernel area");
    let mut cases = vec![Case::new("kernel s2 (2 namespaces)".into(), &kernel)];
    for n in [1, 64, 255, 509] {
        cases.push(Case::new(format!("{n} namespaces"), &filled(n)));
    }
    cases
}

fn min_ratio() {
    for mut case in cases() {
        case.read();
        let name = case.name.clone();
        let c = std::cell::RefCell::new(case);
        let mut read = || c.borrow_mut().read();
        let mut parse = || c.borrow_mut().parse_and_enumerate();
        let mut fns: Vec<(&str, &mut dyn FnMut() -> u64)> = vec![
            ("pread 128 KiB", &mut read),
            ("parse + namespaces", &mut parse),
        ];
        let best = min_time::min_ns(&mut fns, 300, 8);
        println!(
            "{name:<28} read {:9.0} ns   parse+enumerate {:9.0} ns   ratio {:.2}",
            best[0],
            best[1],
            best[1] / best[0]
        );
    }
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    for mut case in cases() {
        let name = case.name.clone();
        c.bench_function(&format!("labels pread 128 KiB, {name}"), |b| {
            b.iter(|| case.read())
        });
        c.bench_function(&format!("labels parse + namespaces, {name}"), |b| {
            b.iter(|| case.parse_and_enumerate())
        });
    }
    c.final_summary();
}

/// `--loop N`: parse and enumerate the 509-namespace area N times (for instruction counts
/// under callgrind, not timing).
fn repeat(n: u64) {
    let mut case = Case::new("509 namespaces".into(), &filled(509));
    let mut total = 0u64;
    for _ in 0..n {
        total = total.wrapping_add(black_box(case.parse_and_enumerate()));
    }
    println!("{total}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args.iter().position(|a| a == "--loop") {
        repeat(args.get(n + 1).and_then(|v| v.parse().ok()).unwrap_or(1000));
        return;
    }
    if std::env::args().any(|a| a == "--min-ratio") {
        min_ratio();
        return;
    }
    benches();
}

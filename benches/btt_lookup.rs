//! One BTT LBA lookup with the metadata in memory (goal: ≤ 100 ns): `Reader::translate` of
//! random LBAs (external LBA → arena → map entry → data offset), on a one-arena 64 GiB BTT and
//! on a two-arena 513 GiB one (random LBAs in both arenas), and `Reader::read_lba` of a 4 KiB
//! sector (translation + copying the block).
//!
//! The namespaces are laid out by `btt::layout::create` as the kernel lays them out, in a
//! sparse in-memory image that holds only the ranges the layout writes (map, flog, info
//! blocks); every other byte reads as zero, as the data blocks of a new BTT do.
//!
//! `cargo bench --bench btt_lookup` (criterion) or `cargo bench --bench btt_lookup --
//! --min-ratio` (interleaved minimum of rounds); figures and machine in BENCHMARKS.md.

use std::hint::black_box;

use criterion::Criterion;
use nvdimm_infoblock::btt::arena::{BttVersion, Namespace};
use nvdimm_infoblock::btt::layout::{create, solve, LayoutRequest};
use nvdimm_infoblock::btt::read::Reader;
use nvdimm_infoblock::io::{ReadAt, WriteAt};
use nvdimm_infoblock::Uuid;

#[path = "min_time.rs"]
mod min_time;

/// A sparse image: the byte ranges a BTT layout writes, each in its own buffer; everything
/// else reads as zero and cannot be written.
struct Sparse {
    size: u64,
    segments: Vec<(u64, Vec<u8>)>,
}

#[derive(Debug)]
struct OutOfRange;

impl Sparse {
    fn segment(&self, offset: u64, len: usize) -> Option<(usize, usize)> {
        let end = offset.checked_add(len as u64)?;
        self.segments
            .iter()
            .enumerate()
            .find_map(|(i, (start, bytes))| {
                (offset >= *start && end <= start + bytes.len() as u64)
                    .then(|| (i, (offset - start) as usize))
            })
    }
}

impl ReadAt for Sparse {
    type Error = OutOfRange;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfRange> {
        match self.segment(offset, buf.len()) {
            Some((i, at)) => buf.copy_from_slice(&self.segments[i].1[at..at + buf.len()]),
            None if offset + buf.len() as u64 <= self.size => buf.fill(0),
            None => return Err(OutOfRange),
        }
        Ok(())
    }
}

impl WriteAt for Sparse {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), OutOfRange> {
        let (i, at) = self.segment(offset, buf.len()).ok_or(OutOfRange)?;
        self.segments[i].1[at..at + buf.len()].copy_from_slice(buf);
        Ok(())
    }
}

/// A label-less namespace of `size` bytes with a BTT of 4096-byte sectors, as the kernel
/// creates it, and a reader for it.
fn btt(size: u64) -> (Sparse, Reader) {
    let request = LayoutRequest {
        namespace_size: size,
        lbasize: 4096,
        version: BttVersion::V1_1,
        uuid: Uuid([0x5a; 16]),
        parent_uuid: Uuid::NIL,
    };
    let layout = solve(&request).expect("layout");
    let mut segments: Vec<(u64, Vec<u8>)> = layout
        .plan()
        .map(|r| (r.offset, vec![0u8; r.len as usize]))
        .collect();
    // create() reads the last byte of the layout first; give it a segment too.
    segments.push((layout.end() - 1, vec![0u8; 1]));
    let mut image = Sparse { size, segments };
    create(&mut image, &request).expect("create");
    let reader = Reader::open(&mut image, &Namespace::labelless(size)).expect("open");
    (image, reader)
}

/// `n` LBAs spread over `0..nlba` by a fixed-seed splitmix64.
fn lbas(nlba: u64, n: usize) -> Vec<u64> {
    let mut s = 0x1234_5678_u64;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % nlba
        })
        .collect()
}

struct Case {
    name: &'static str,
    image: Sparse,
    reader: Reader,
    lbas: Vec<u64>,
    next: usize,
}

impl Case {
    fn new(name: &'static str, size: u64) -> Self {
        let (image, reader) = btt(size);
        let lbas = lbas(reader.btt().nlba, 4096);
        Self {
            name,
            image,
            reader,
            lbas,
            next: 0,
        }
    }

    /// LBAs that alternate between the first and the last arena (the arena changes on
    /// every call).
    fn alternating(name: &'static str, size: u64) -> Self {
        let (image, reader) = btt(size);
        let nlba = reader.btt().nlba;
        let last = nlba - 1000;
        let lbas = lbas(1000, 4096)
            .iter()
            .enumerate()
            .map(|(i, l)| if i % 2 == 0 { *l } else { last + l })
            .collect();
        Self {
            name,
            image,
            reader,
            lbas,
            next: 0,
        }
    }

    fn lba(&mut self) -> u64 {
        self.next = (self.next + 1) % self.lbas.len();
        self.lbas[self.next]
    }

    fn translate(&mut self) -> u64 {
        let lba = self.lba();
        let t = self.reader.translate(&mut self.image, black_box(lba));
        t.map_or(0, |t| t.data_offset.unwrap_or(0))
    }

    fn read(&mut self, buf: &mut [u8; 4096]) -> u64 {
        let lba = self.lba();
        let t = self.reader.read_lba(&mut self.image, black_box(lba), buf);
        t.map_or(0, |t| u64::from(t.postmap)) + u64::from(buf[17])
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case::new("64 GiB, 1 arena", 64 << 30),
        Case::new("513 GiB, 2 arenas", (513 << 30) + 4096),
        Case::alternating("513 GiB, 2 arenas, alternating", (513 << 30) + 4096),
    ]
}

/// A fresh random LBA in `0..nlba` on every call (splitmix64), so that the map entry is
/// almost never in the CPU's caches: the lookup as a cold read of memory.
struct Cold {
    state: u64,
}

impl Cold {
    fn next(&mut self, nlba: u64) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % nlba
    }
}

/// Times one function alone (so that no other case evicts its cache lines) and prints it.
fn time_alone(name: &str, f: &mut dyn FnMut() -> u64) {
    let mut fns: Vec<(&str, &mut dyn FnMut() -> u64)> = vec![(name, f)];
    let best = min_time::min_ns(&mut fns, 2000, 64);
    println!("{name:<56} {:8.1} ns", best[0]);
}

fn min_ratio() {
    let mut cases = cases();
    for case in &cases {
        println!(
            "{}: {} arenas, nlba {}",
            case.name,
            case.reader.btt().arena_count,
            case.reader.btt().nlba
        );
    }
    let mut buf = Box::new([0u8; 4096]);
    let mut cold = Cold { state: 99 };
    for case in &mut cases {
        let hot = format!("translate, {}, 4096 LBAs cycled (hot)", case.name);
        time_alone(&hot, &mut || case.translate());
        if case.name.contains("alternating") {
            continue;
        }
        let nlba = case.reader.btt().nlba;
        let name = format!("translate, {}, new random LBA (cold)", case.name);
        time_alone(&name, &mut || {
            let lba = cold.next(nlba);
            let t = case.reader.translate(&mut case.image, black_box(lba));
            t.map_or(0, |t| t.data_offset.unwrap_or(0))
        });
    }
    // The floor of a cold lookup: one random 4-byte read of the largest map buffer itself,
    // with the same LBA source (no arena search, no map entry decoding).
    let (map_start, map) = cases[1]
        .image
        .segments
        .iter()
        .max_by_key(|(_, b)| b.len())
        .map(|(o, b)| (*o, b.clone()))
        .expect("segments");
    let entries = (map.len() / 4) as u64;
    time_alone(
        &format!(
            "floor: random u32 read of a {} MiB map (cold)",
            map.len() >> 20
        ),
        &mut || {
            let i = cold.next(entries) as usize * 4;
            u64::from(u32::from_le_bytes(map[i..i + 4].try_into().unwrap())) + map_start
        },
    );
    let one = &mut cases[0];
    time_alone(
        "read_lba 4 KiB, 64 GiB (1 arena), 4096 LBAs cycled",
        &mut || one.read(&mut buf),
    );
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    let mut buf = Box::new([0u8; 4096]);
    for mut case in cases() {
        c.bench_function(&format!("btt translate, {}", case.name), |b| {
            b.iter(|| case.translate())
        });
        c.bench_function(&format!("btt read_lba 4 KiB, {}", case.name), |b| {
            b.iter(|| case.read(&mut buf))
        });
    }
    c.final_summary();
}

fn main() {
    if std::env::args().any(|a| a == "--min-ratio") {
        min_ratio();
        return;
    }
    benches();
}

//! The BTT deep check against the time to just read what it reads (the maps and flogs), on
//! BTT metadata of a 64 GiB and a 1 TiB namespace (4096-byte sectors; one arena, and two of
//! 512 GiB). Only the info blocks, maps and flogs exist: the data area is never read.
//!
//! The metadata is laid out by `btt::layout::create`, then one block in 1024 is written the
//! kernel's way (`btt_write_pg`: the lane's free block takes the data, the flog records it,
//! the map points at it), rotating over the 256 lanes, so the maps are mostly identity with
//! scattered normal entries and every flog lane has turned over.
//!
//! Two backends, each used for both sides of a ratio:
//! * `file`: a sparse temporary file (`pread` through `std::os::unix::fs::FileExt`), as the
//!   CLI reads a namespace image; holes read as zeros.
//! * `mem`: the metadata regions in memory (`memcpy`), the fastest reader there is.
//!
//! `cargo bench --bench btt_check` (criterion), or `cargo bench --bench btt_check -- --ratio [NAME...]`
//! for the ratio table (only the cases whose name contains a NAME, when given): both sides interleaved, 7 rounds each, minimum per side.

use std::fs::File;
use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use criterion::Criterion;
use nvdimm_infoblock::btt::arena::{BttVersion, Namespace};
use nvdimm_infoblock::btt::check::{check, sizes, Scratch};
use nvdimm_infoblock::btt::layout::{create, Layout, LayoutRequest};
use nvdimm_infoblock::io::{ReadAt, WriteAt};
use nvdimm_infoblock::Uuid;

/// The I/O buffer of both sides: 64 KiB, or `BTT_CHECK_IO` bytes.
fn io_bytes() -> usize {
    std::env::var("BTT_CHECK_IO")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64 * 1024)
}

/// A sparse temporary file; writes of all-zero buffers are skipped (the file reads zero
/// there already).
struct SparseFile(File);

impl ReadAt for SparseFile {
    type Error = std::io::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.0.read_exact_at(buf, offset)
    }
}

impl WriteAt for SparseFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> std::io::Result<()> {
        if buf.iter().all(|&b| b == 0) {
            return Ok(());
        }
        self.0.write_all_at(buf, offset)
    }
}

/// The metadata regions of each arena in memory (info block; map + flog + backup info
/// block); everything else reads as zeros and may not be written.
struct Meta {
    size: u64,
    regions: Vec<(u64, Vec<u8>)>,
}

impl Meta {
    fn new(layout: &Layout, size: u64) -> Self {
        let mut regions = Vec::new();
        for a in layout.arenas() {
            regions.push((a.infooff, vec![0u8; 4096]));
            let len = (a.info2off + 4096 - a.mapoff) as usize;
            regions.push((a.mapoff, vec![0u8; len]));
        }
        Self { size, regions }
    }

    fn region(&mut self, offset: u64, len: usize) -> Option<&mut [u8]> {
        self.regions.iter_mut().find_map(|(start, bytes)| {
            let rel = offset.checked_sub(*start)? as usize;
            bytes.get_mut(rel..rel + len)
        })
    }
}

impl ReadAt for Meta {
    type Error = std::io::Error;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if offset + buf.len() as u64 > self.size {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        match self.region(offset, buf.len()) {
            Some(src) => buf.copy_from_slice(src),
            None => buf.fill(0),
        }
        Ok(())
    }
}

impl WriteAt for Meta {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> std::io::Result<()> {
        match self.region(offset, buf.len()) {
            Some(dst) => dst.copy_from_slice(buf),
            None if buf.iter().all(|&b| b == 0) => {}
            None => return Err(std::io::ErrorKind::InvalidInput.into()),
        }
        Ok(())
    }
}

fn get32<W: ReadAt<Error = std::io::Error>>(w: &mut W, at: u64) -> u32 {
    let mut b = [0u8; 4];
    w.read_at(at, &mut b).unwrap();
    u32::from_le_bytes(b)
}

fn put32<W: WriteAt<Error = std::io::Error>>(w: &mut W, at: u64, v: u32) {
    w.write_at(at, &v.to_le_bytes()).unwrap();
}

/// `btt_write_pg` of pre-map block `premap` through lane `lane` (flog slots 0 and 1).
fn kernel_write<W: WriteAt<Error = std::io::Error>>(
    w: &mut W,
    mapoff: u64,
    logoff: u64,
    lane: u32,
    premap: u32,
) {
    let slot = |s: u64| logoff + u64::from(lane) * 64 + s * 16;
    let (seq0, seq1) = (get32(w, slot(0) + 12), get32(w, slot(1) + 12));
    let older = if seq0 == 0 {
        0
    } else if seq0 < seq1 {
        u64::from(seq1 - seq0 != 1)
    } else {
        u64::from(seq0 - seq1 == 1)
    };
    let newer = 1 - older;
    let free = get32(w, slot(newer) + 4) & 0x3FFF_FFFF;
    let seq = match get32(w, slot(newer) + 12) {
        1 => 2,
        2 => 3,
        _ => 1,
    };
    let map = mapoff + u64::from(premap) * 4;
    let raw = get32(w, map);
    let old = if raw & 0xC000_0000 == 0 {
        premap
    } else {
        raw & 0x3FFF_FFFF
    };
    for (i, v) in [premap, old, free, seq].into_iter().enumerate() {
        put32(w, slot(older) + i as u64 * 4, v);
    }
    put32(w, map, free | 0xC000_0000);
}

fn build<W: WriteAt<Error = std::io::Error>>(w: &mut W, request: &LayoutRequest) {
    let layout = create(w, request).unwrap();
    for a in layout.arenas() {
        let mut n: u32 = 0;
        let mut premap: u32 = 7;
        while premap < a.external_nlba {
            kernel_write(w, a.mapoff, a.logoff, n % a.nfree, premap);
            n += 1;
            premap += 1021 + (n % 7);
        }
    }
}

fn request(size: u64) -> LayoutRequest {
    LayoutRequest {
        namespace_size: size,
        lbasize: 4096,
        version: BttVersion::V1_1,
        uuid: Uuid([0x42; 16]),
        parent_uuid: Uuid::NIL,
    }
}

/// (a): every arena's map and flog, read in 64 KiB chunks through the same reader.
fn read_only<R: ReadAt>(r: &mut R, layout: &Layout, io: &mut [u8]) -> u64 {
    let mut acc = 0u64;
    for a in layout.arenas() {
        for (start, len) in [
            (a.mapoff, u64::from(a.external_nlba) * 4),
            (a.logoff, u64::from(a.nfree) * 64),
        ] {
            let mut off = 0;
            while off < len {
                let n = (len - off).min(io.len() as u64) as usize;
                r.read_at(start + off, &mut io[..n]).unwrap();
                acc = acc.wrapping_add(u64::from(io[n - 1]));
                off += n as u64;
            }
        }
    }
    acc
}

/// (b): the deep check, one pass per arena.
fn deep_check<R: ReadAt>(r: &mut R, ns: &Namespace, bitmap: &mut [u8], io: &mut [u8]) -> u64 {
    let mut findings = 0u64;
    let s = check(r, ns, Scratch { bitmap, io }, |_| findings += 1, |_| {}).unwrap();
    assert_eq!(findings, 0);
    s.passes
}

struct Case<R> {
    name: &'static str,
    reader: R,
    layout: Layout,
    ns: Namespace,
    bitmap: Vec<u8>,
    io: Vec<u8>,
}

impl<R: ReadAt> Case<R> {
    fn new(name: &'static str, mut reader: R, layout: Layout, ns: Namespace) -> Self {
        let s = sizes(&mut reader, &ns).unwrap();
        Self {
            name,
            reader,
            layout,
            ns,
            bitmap: vec![0; s.bitmap_single_pass],
            io: vec![0; io_bytes()],
        }
    }
    fn read(&mut self) -> u64 {
        read_only(&mut self.reader, &self.layout, &mut self.io)
    }
    fn check(&mut self) -> u64 {
        deep_check(&mut self.reader, &self.ns, &mut self.bitmap, &mut self.io)
    }
}

fn file_case(name: &'static str, size: u64) -> (Case<SparseFile>, tempfile_path::Guard) {
    let guard = tempfile_path::Guard::new(name);
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&guard.0)
        .unwrap();
    file.set_len(size).unwrap();
    let mut w = SparseFile(file);
    let req = request(size);
    build(&mut w, &req);
    let layout = nvdimm_infoblock::btt::layout::solve(&req).unwrap();
    (
        Case::new(name, w, layout, Namespace::labelless(size)),
        guard,
    )
}

fn mem_case(name: &'static str, size: u64) -> Case<Meta> {
    let req = request(size);
    let layout = nvdimm_infoblock::btt::layout::solve(&req).unwrap();
    let mut m = Meta::new(&layout, size);
    build(&mut m, &req);
    Case::new(name, m, layout, Namespace::labelless(size))
}

/// A temporary file path removed on drop (no extra dependency).
mod tempfile_path {
    pub struct Guard(pub std::path::PathBuf);
    impl Guard {
        pub fn new(name: &str) -> Self {
            let p =
                std::env::temp_dir().join(format!("btt-check-bench-{}-{name}", std::process::id()));
            Self(p)
        }
    }
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

const GIB: u64 = 1 << 30;

/// Time this thread has spent on a CPU (`/proc/thread-self/schedstat`, first field, ns):
/// on a shared machine the wall clock also counts the time other processes run.
fn on_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

fn ratio<R: ReadAt>(case: &mut Case<R>) {
    // [wall, on-CPU] x [read, check]
    let mut best = [[Duration::MAX; 2]; 2];
    // Written once, then read before each side: reading leaves no dirty lines whose write
    // back the timed side would pay for.
    let evict = cold().then(|| vec![1u64; EVICT / 8]);
    for _ in 0..rounds() {
        for side in [0, 1] {
            if let Some(buf) = evict.as_ref() {
                // Cold caches: the map and flog come from memory, not from the last round.
                black_box(buf.iter().fold(0u64, |a, &w| a.wrapping_add(w)));
            }
            let (t, c) = (Instant::now(), on_cpu());
            if side == 0 {
                black_box(case.read());
            } else {
                black_box(case.check());
            }
            let (wall, cpu) = (t.elapsed(), on_cpu().saturating_sub(c));
            best[0][side] = best[0][side].min(wall);
            best[1][side] = best[1][side].min(cpu);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{:<10} wall: read map+flog {:>9.2} ms, deep check {:>9.2} ms, ratio {:.3} | on-CPU: {:>9.2} ms, {:>9.2} ms, ratio {:.3}",
        case.name,
        ms(best[0][0]),
        ms(best[0][1]),
        best[0][1].as_secs_f64() / best[0][0].as_secs_f64(),
        ms(best[1][0]),
        ms(best[1][1]),
        best[1][1].as_secs_f64() / best[1][0].as_secs_f64(),
    );
}

fn main() {
    let ratio_mode = std::env::args().any(|a| a == "--ratio");
    if ratio_mode {
        // `--ratio [NAME...]`: only the cases whose name contains one of the NAMEs.
        let names: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        let wanted =
            |case: &str| names.is_empty() || names.iter().any(|n| case.contains(n.as_str()));
        for (name, size) in [("file-64G", 64 * GIB), ("file-1T", 1024 * GIB)] {
            if wanted(name) {
                let (mut case, _guard) = file_case(name, size);
                ratio(&mut case);
            }
        }
        for (name, size) in [("mem-64G", 64 * GIB), ("mem-1T", 1024 * GIB)] {
            if wanted(name) {
                ratio(&mut mem_case(name, size));
            }
        }
        return;
    }
    let (mut f64g, _g1) = file_case("file-64G", 64 * GIB);
    let (mut f1t, _g2) = file_case("file-1T", 1024 * GIB);
    let mut m64g = mem_case("mem-64G", 64 * GIB);
    let mut m1t = mem_case("mem-1T", 1024 * GIB);
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let mut g = c.benchmark_group("btt_check");
    g.bench_function("file-64G/read", |b| b.iter(|| f64g.read()));
    g.bench_function("file-64G/check", |b| b.iter(|| f64g.check()));
    g.bench_function("file-1T/read", |b| b.iter(|| f1t.read()));
    g.bench_function("file-1T/check", |b| b.iter(|| f1t.check()));
    g.bench_function("mem-64G/read", |b| b.iter(|| m64g.read()));
    g.bench_function("mem-64G/check", |b| b.iter(|| m64g.check()));
    g.bench_function("mem-1T/read", |b| b.iter(|| m1t.read()));
    g.bench_function("mem-1T/check", |b| b.iter(|| m1t.check()));
    g.finish();
    c.final_summary();
}

/// Bytes read between two timed sides in cold mode: several times any L3.
const EVICT: usize = 1 << 30;

/// `BTT_CHECK_COLD=1`: before each timed side, read a 1 GiB buffer, so that neither side
/// finds the map and flog in the CPU caches (as a check run once on an image does).
fn cold() -> bool {
    std::env::var_os("BTT_CHECK_COLD").is_some_and(|v| v == "1")
}

/// Rounds per side in `--ratio` mode: 9, or `BTT_CHECK_ROUNDS`.
fn rounds() -> u32 {
    std::env::var("BTT_CHECK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9)
}

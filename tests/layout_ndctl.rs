//! The solver against ndctl's `write-infoblock` (NDCTL.md §2, §8), byte for byte.
//!
//! ndctl mimics the newest kernel's `nd_pfn_init` for a namespace whose start it assumes
//! aligned (start 0 here), x86_64, 4 KiB pages, 64-byte struct page, version 1.4, stored align =
//! the requested one. So the solver with [`Profile::NEWEST_X86_64`] at start 0, emitted with the
//! same uuids, must give ndctl's exact 4096 bytes, except where ndctl writes something the
//! kernel refuses or that wraps; there the crate refuses, and these tests check ndctl's bytes
//! as the evidence of each divergence:
//! * `npfns` 0 (dataoff + end_trunc = size): [`LayoutError::NoRoomForData`] / `NoDataPages`;
//! * align >= 4 GiB, stored cut to 32 bits: [`LayoutError::AlignTooLarge`];
//! * a devdax align outside the kernel's supported list (4K/2M/1G): the 5.4+ validate refuses
//!   it, [`LayoutError::DaxAlignUnsupported`];
//! * `-O` (a start offset): ndctl writes `start_pad` with `dataoff` measured from the raw
//!   start; 5.7+ init refuses a misaligned start, [`LayoutError::StartMisaligned`].
//!
//! The corpus cases run from the stored blocks (tests/data/ndctl, copied from
//! shared/corpus/ndctl); the live cases run when `ndctl` is on PATH.

use std::path::PathBuf;
use std::process::Command;

use nvdimm_infoblock::layout::{solve, LayoutError, LayoutRequest};
use nvdimm_infoblock::{DeviceKind, InfoBlock, Mode, Profile, Uuid};
use zerocopy::IntoBytes;

#[path = "support/mod.rs"]
mod support;
use support::{ndctl_available, Rng};

const U: &str = "11111111-2222-4333-8444-555555555555";
const P: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

/// One `ndctl write-infoblock` invocation's inputs.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    size: u64,
    kind: DeviceKind,
    mode: Mode,
    align: u64,
    offset: u64,
    parent: Option<String>,
}

impl Case {
    fn request(&self) -> LayoutRequest {
        LayoutRequest::new(Profile::NEWEST_X86_64, self.size, self.kind, self.mode)
            .with_start(self.offset)
            .with_align(Some(self.align))
    }

    fn parent_uuid(&self) -> Uuid {
        self.parent
            .as_deref()
            .map_or(Uuid::NIL, |p| p.parse().unwrap())
    }

    fn ndctl_args(&self) -> Vec<String> {
        let mut a = vec![
            "write-infoblock".to_owned(),
            "-c".to_owned(),
            "-s".to_owned(),
            self.size.to_string(),
            "-m".to_owned(),
            self.kind.name().to_owned(),
            "-a".to_owned(),
            format!("{}K", self.align / 1024),
            "-M".to_owned(),
            if self.mode == Mode::RAM { "mem" } else { "dev" }.to_owned(),
            "-u".to_owned(),
            U.to_owned(),
        ];
        if let Some(p) = &self.parent {
            a.push("-p".to_owned());
            a.push(p.clone());
        }
        if self.offset != 0 {
            a.push("-O".to_owned());
            a.push(self.offset.to_string());
        }
        a
    }
}

fn parse_size(t: &str) -> u64 {
    let (n, shift) = match t.as_bytes().last() {
        Some(b'K') => (&t[..t.len() - 1], 10),
        Some(b'M') => (&t[..t.len() - 1], 20),
        Some(b'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    n.parse::<u64>().unwrap() << shift
}

/// The corpus cases, from the manifest's commands: (case, ndctl rc, stored 8 KiB head).
fn corpus() -> Vec<(Case, i64, Option<Vec<u8>>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ndctl");
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for entry in manifest.as_array().unwrap() {
        let command = entry["command"].as_str().unwrap();
        let args: Vec<&str> = command
            .split("write-infoblock")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect();
        let mut case = Case {
            name: entry["name"].as_str().unwrap().to_owned(),
            size: entry["size"].as_u64().unwrap(),
            kind: DeviceKind::Fsdax,
            mode: Mode::PMEM,
            align: 2 << 20,
            offset: 0,
            parent: None,
        };
        let mut it = args.iter();
        while let Some(&flag) = it.next() {
            match flag {
                "-o" | "-u" => {
                    it.next();
                }
                "-m" => {
                    case.kind = match *it.next().unwrap() {
                        "devdax" => DeviceKind::Devdax,
                        _ => DeviceKind::Fsdax,
                    }
                }
                "-a" => case.align = parse_size(it.next().unwrap()),
                "-M" => {
                    case.mode = if *it.next().unwrap() == "mem" {
                        Mode::RAM
                    } else {
                        Mode::PMEM
                    }
                }
                "-O" => case.offset = parse_size(it.next().unwrap()),
                "-p" => case.parent = Some((*it.next().unwrap()).to_owned()),
                other => panic!("unexpected ndctl argument {other} in {command}"),
            }
        }
        let rc = entry["write_rc"].as_i64().unwrap();
        let bin = entry["file"]
            .as_str()
            .and_then(|f| std::fs::read(dir.join(f)).ok());
        out.push((case, rc, bin));
    }
    out
}

fn le_u64(head: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(head[off..off + 8].try_into().unwrap())
}

fn le_u32(head: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(head[off..off + 4].try_into().unwrap())
}

/// How the crate and ndctl compare on one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Both wrote the same 4096 bytes.
    Same,
    /// Both refused.
    BothRefused,
    /// ndctl wrote a block the crate refuses, for this (checked) reason.
    Diverged(&'static str),
}

/// Compares the crate with one ndctl result (`rc`, 8 KiB head).
fn compare(case: &Case, rc: i64, head: Option<&[u8]>) -> Outcome {
    let result = solve(&case.request());
    match (result, rc) {
        (Ok(layout), 0) => {
            let head = head.expect("ndctl wrote a block");
            assert_eq!(head.len(), 8192, "{}", case.name);
            assert!(head[..4096].iter().all(|&b| b == 0), "{}", case.name);
            let uuid: Uuid = U.parse().unwrap();
            let block = layout.to_info(uuid, case.parent_uuid()).to_block().unwrap();
            assert_eq!(
                block.as_bytes(),
                &head[4096..],
                "{}: crate {:?} vs ndctl {:?}",
                case.name,
                layout.to_info(uuid, case.parent_uuid()),
                InfoBlock::from_namespace_head(head)
            );
            Outcome::Same
        }
        (Ok(layout), rc) => panic!(
            "{}: ndctl refused (rc {rc}) but the crate gives {layout:?}",
            case.name
        ),
        // ndctl also refused (dataoff >= size): agreement.
        (Err(_), rc) if rc != 0 => Outcome::BothRefused,
        (Err(e), _) => Outcome::Diverged({
            let head = head.expect("ndctl wrote a block");
            let npfns = le_u64(head, 4096 + 64);
            let stored_align = le_u32(head, 4096 + 84);
            let start_pad = le_u32(head, 4096 + 76);
            match e {
                LayoutError::NoRoomForData { .. } | LayoutError::NoDataPages { .. } => {
                    // ndctl wrote npfns 0 (or, with -O, a wrapped count).
                    assert!(
                        npfns == 0 || case.offset != 0,
                        "{}: {e} but ndctl npfns {npfns}",
                        case.name
                    );
                    "npfns-0"
                }
                LayoutError::AlignTooLarge { align } => {
                    assert!(align >= 1 << 32);
                    assert_eq!(
                        u64::from(stored_align),
                        align & 0xFFFF_FFFF,
                        "{}",
                        case.name
                    );
                    "align-cut-to-u32"
                }
                LayoutError::DaxAlignUnsupported { align } => {
                    assert_eq!(case.kind, DeviceKind::Devdax);
                    assert!(![4096, 2 << 20, 1 << 30].contains(&align));
                    assert_eq!(u64::from(stored_align), align, "{}", case.name);
                    assert_eq!(&head[4096..4096 + 16], b"NVDIMM_DAX_INFO\0");
                    "dax-align-unsupported"
                }
                LayoutError::StartMisaligned { start, required } => {
                    assert_eq!(start, case.offset);
                    assert_ne!(start % required, 0);
                    // ndctl pads the start instead (and measures dataoff from the raw start).
                    assert_ne!(start_pad, 0, "{}", case.name);
                    "start-offset"
                }
                other => panic!("{}: unexpected divergence {other}", case.name),
            }
        }),
    }
}

#[test]
fn corpus_blocks_without_offset_match_byte_for_byte() {
    let mut matched = 0;
    let mut refused = Vec::new();
    let mut diverged = Vec::new();
    for (case, rc, bin) in corpus() {
        if case.offset != 0 {
            continue;
        }
        match compare(&case, rc, bin.as_deref()) {
            Outcome::Same => matched += 1,
            Outcome::BothRefused => refused.push(case.name.clone()),
            Outcome::Diverged(kind) => diverged.push((case.name.clone(), kind)),
        }
    }
    diverged.sort();
    refused.sort();
    assert_eq!(refused, ["devdax-1G-a1G", "fsdax-1G-a1G", "fsdax-2M-a2M"]);
    // Each divergence is pinned with its reason (NDCTL.md §2 table).
    assert_eq!(
        diverged,
        vec![
            ("devdax-2G-12K-a1G".to_owned(), "npfns-0"),
            ("fsdax-12G-a8G".to_owned(), "align-cut-to-u32"),
            ("fsdax-16G-a8G".to_owned(), "align-cut-to-u32"),
            ("fsdax-2G-12K-a1G".to_owned(), "npfns-0"),
        ]
    );
    assert_eq!(matched, 24);
}

#[test]
fn corpus_blocks_with_offset_diverge_as_pinned() {
    let mut seen = Vec::new();
    for (case, rc, bin) in corpus() {
        if case.offset == 0 {
            continue;
        }
        let kind = compare(&case, rc, bin.as_deref());
        seen.push((case.name.clone(), kind));
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                "devdax-1G-a2M-off1M".to_owned(),
                Outcome::Diverged("start-offset")
            ),
            (
                "devdax-1G-a4K-off8K".to_owned(),
                Outcome::Diverged("start-offset")
            ),
            // 512M is 2M-aligned, so the start passes; with align 1G the kernel's layout is
            // dataoff 512M + end_trunc 512M = the whole namespace: refused, where ndctl wrote
            // a wrapped npfns.
            (
                "fsdax-1G-a1G-off512M".to_owned(),
                Outcome::Diverged("npfns-0")
            ),
            (
                "fsdax-1G-a2M-off1M".to_owned(),
                Outcome::Diverged("start-offset")
            ),
            (
                "fsdax-1G-a2M-off1M-mapmem".to_owned(),
                Outcome::Diverged("start-offset")
            ),
            // -O 2M is an aligned start: the same block as without -O.
            ("fsdax-1G-a2M-off2M".to_owned(), Outcome::Same),
            (
                "fsdax-1G-a2M-off4K".to_owned(),
                Outcome::Diverged("start-offset")
            ),
            (
                "fsdax-1G-a4K-off8K".to_owned(),
                Outcome::Diverged("start-offset")
            ),
        ]
    );
    // The wrapped npfns of -O 512M -a 1G (NDCTL.md §2 step 5), as ndctl stored it.
    let (_, _, bin) = corpus()
        .into_iter()
        .find(|(c, _, _)| c.name == "fsdax-1G-a1G-off512M")
        .unwrap();
    assert_eq!(le_u64(&bin.unwrap(), 4096 + 64), 4_503_599_627_239_424);
}

fn run_ndctl(case: &Case) -> (i64, Vec<u8>) {
    let out = Command::new("ndctl")
        .args(case.ndctl_args())
        .output()
        .expect("run ndctl");
    (i64::from(out.status.code().unwrap_or(-1)), out.stdout)
}

#[test]
fn live_corpus_commands_reproduce() {
    if !ndctl_available("layout_ndctl::live_corpus_commands_reproduce") {
        return;
    }
    for (case, rc, bin) in corpus() {
        let (live_rc, live) = run_ndctl(&case);
        assert_eq!(live_rc, rc, "{}", case.name);
        if let Some(bin) = bin {
            assert_eq!(
                live, bin,
                "{}: live ndctl differs from the corpus",
                case.name
            );
        }
    }
}

fn random_case(rng: &mut Rng, i: usize) -> Case {
    let kind = if rng.below(2) == 0 {
        DeviceKind::Fsdax
    } else {
        DeviceKind::Devdax
    };
    // Every align ndctl accepts: powers of two from 4K up to 1G, and beyond (2G..8G) now and
    // then. devdax mostly uses the kernel's supported sizes (4K, 2M, 1G), so that most cases
    // compare bytes rather than pin the known divergence.
    let shift = match rng.below(16) {
        0 => 31 + rng.below(3),
        1..=9 if kind == DeviceKind::Devdax => [12, 21, 30][usize::try_from(rng.below(3)).unwrap()],
        _ => 12 + rng.below(19),
    };
    let align = 1u64 << shift;
    let page = 4096;
    let floor = align.max(2 << 20);
    let size = match rng.below(4) {
        // k * align +- a few pages (alignment edges).
        0 => {
            let k = 1 + rng.below(8);
            let delta = rng.below(5) * page;
            let base = k * floor;
            if rng.below(2) == 0 {
                base.saturating_sub(delta).max(page)
            } else {
                base + delta
            }
        }
        // small namespaces: 2 MiB .. 64 MiB above the alignment floor.
        1 => floor + (512 + rng.below(16 * 1024 - 512)) * page,
        // up to 16 GiB above it.
        2 => floor + (1 + rng.below(4 << 20)) * page,
        // up to 6 TiB.
        _ => (1 + rng.below(6 << 28)) * page,
    };
    Case {
        name: format!("random-{i} ({size:#x}, align {align:#x}, {kind})"),
        size,
        kind,
        mode: if rng.below(3) == 0 {
            Mode::RAM
        } else {
            Mode::PMEM
        },
        align,
        offset: 0,
        parent: (rng.below(2) == 0).then(|| P.to_owned()),
    }
}

#[test]
fn live_random_cases_match_byte_for_byte() {
    if !ndctl_available("layout_ndctl::live_random_cases_match_byte_for_byte") {
        return;
    }
    let mut rng = Rng(0x5EED_1AB0_0C0F_FEE5);
    let mut matched = 0;
    let mut both_refused = 0;
    let mut diverged = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..450 {
        let case = random_case(&mut rng, i);
        let (rc, out) = run_ndctl(&case);
        let head = (rc == 0).then_some(out.as_slice());
        match compare(&case, rc, head) {
            Outcome::Same => matched += 1,
            Outcome::BothRefused => both_refused += 1,
            Outcome::Diverged(kind) => *diverged.entry(kind).or_default() += 1,
        }
    }
    eprintln!("matched {matched}, both refused {both_refused}, diverged {diverged:?}");
    assert!(matched >= 300, "only {matched} byte-for-byte matches");
    // Every kind of divergence shows up, each checked against ndctl's bytes in `compare`.
    assert!(diverged.contains_key("align-cut-to-u32"), "{diverged:?}");
    assert!(
        diverged.contains_key("dax-align-unsupported"),
        "{diverged:?}"
    );
}

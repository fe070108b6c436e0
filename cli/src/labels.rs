//! `infoblock labels list|init|add|rm`: the namespace label storage area (LSA) of an NVDIMM,
//! read and written as the kernel does (`nvdimm_infoblock::label`).
//!
//! The area is a file of its own (`ndctl read-labels -o` writes one) or, with `--tail SIZE`,
//! the last SIZE bytes of an image (QEMU's `label-size`: the kernel rig keeps the region in
//! the first bytes of the image and the label area after it). Writes are planned first by the
//! library; only the plan's byte ranges are written, in its order (labels before the index
//! that makes them current), so a crash leaves the old state or the new one.

use std::fs::{File, OpenOptions};
use std::io::{Seek as _, SeekFrom};
use std::os::unix::fs::FileExt as _;

use nvdimm_infoblock::io::{ReadAt, WriteAt};
use nvdimm_infoblock::label::{
    self, AreaError, ClaimClass, Geometry, IndexError, InitStyle, LabelArea, LabelVersion,
    Namespace, NdNamespaceIndex, NewLabel, Plan, Region, SlotError, WriteKind,
};
use nvdimm_infoblock::probe::{self, probe};
use nvdimm_infoblock::{Profile, Uuid};
use serde::Serialize;

use crate::args::{parse_kernel, parse_size, parse_uuid};
use crate::image::io_text;
use crate::{output, Ctx, Failure};

const AFTER_HELP: &str = "\
LSA is a label-area dump (what `ndctl read-labels -o` writes); with --tail SIZE, the path is
an image whose last SIZE bytes are the label area (QEMU's label-size, e.g. 128K) and whose
first bytes are the DIMM's capacity (DPA 0 = byte 0).
Exit codes: 0 success; 1 a negative answer (list: the kernel treats the area as label-less or
its namespaces fail (conflicting labels); init/add/rm: the change is refused); 2 a usage or I/O error,
or a valid area where init is asked without --force. One line on stderr for every non-zero
exit.";

/// Arguments of `infoblock labels`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP, subcommand_required = true)]
pub struct LabelsArgs {
    /// What to do.
    #[command(subcommand)]
    cmd: LabelsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum LabelsCommand {
    /// The index blocks, the labels, and the namespaces the kernel creates from them.
    #[command(after_help = AFTER_HELP)]
    List(ListArgs),
    /// Write an empty index pair, as the kernel's init_labels / `ndctl init-labels` do.
    #[command(after_help = AFTER_HELP)]
    Init(InitArgs),
    /// Add a namespace label, two-phase as the kernel does.
    #[command(after_help = AFTER_HELP)]
    Add(AddArgs),
    /// Delete a namespace's labels, as the kernel's del_labels does.
    #[command(after_help = AFTER_HELP)]
    Rm(RmArgs),
}

/// Where the label area is.
#[derive(Debug, clap::Args)]
struct Target {
    /// The label area file, or with --tail the image holding it in its last SIZE bytes.
    #[arg(value_name = "LSA")]
    path: String,
    /// The label area is the last SIZE bytes of the file (128K, 131072, 1M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    tail: Option<u64>,
    /// The region's interleave-set cookie (sysfs regionN/set_cookie; the kernel rig's is
    /// 0x00ba90120012b4dc). list: labels with another cookie are skipped, as the kernel
    /// does (default: accept every cookie); add: the cookie written (default: the one the
    /// area's labels carry).
    #[arg(long, value_name = "C", value_parser = parse_size)]
    isetcookie: Option<u64>,
    /// The DIMM's capacity in the region (bytes from DPA 0). Default with --tail: the bytes
    /// before the label area; else unknown (no range check).
    #[arg(long, value_name = "S", value_parser = parse_size)]
    dimm_size: Option<u64>,
    /// Print JSON (keys in docs/cli.md).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    target: Target,
    /// With --tail: the physical address of DPA 0 (sysfs regionN/resource), used to probe
    /// each namespace's data for a BTT, pfn or dax info-block (its mode).
    #[arg(long, value_name = "ADDR", value_parser = parse_size, default_value = "0")]
    region_start: u64,
    /// With --tail: the kernel whose probe rules decide the mode (default newest).
    #[arg(long, value_name = "PROFILE", value_parser = parse_kernel)]
    kernel: Option<Profile>,
}

/// `--version` of `labels init`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum VersionArg {
    /// 128-byte labels (index minor 1).
    #[value(name = "1.1")]
    V1_1,
    /// 256-byte labels with type and claim GUIDs and a checksum (index minor 2).
    #[default]
    #[value(name = "1.2")]
    V1_2,
}

/// `--style` of `labels init`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum StyleArg {
    /// The kernel's init_labels: bitmap bits past nslot cleared.
    #[default]
    Kernel,
    /// ndctl init-labels: the last 64-bit bitmap word's bits past nslot left set.
    Ndctl,
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    #[command(flatten)]
    target: Target,
    /// The label format: 1.1 (128-byte labels) or 1.2 (256-byte labels).
    #[arg(long, value_name = "V", value_enum, default_value_t)]
    version: VersionArg,
    /// Whose bitmap to write: kernel or ndctl.
    #[arg(long, value_name = "STYLE", value_enum, default_value_t)]
    style: StyleArg,
    /// Overwrite an area that already has a valid index block.
    #[arg(long)]
    force: bool,
    /// Print the plan (byte ranges) and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// `--claim` of `labels add`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum ClaimArg {
    /// No claim: raw, or whatever info-block the namespace holds.
    #[default]
    None,
    /// BTT v1.1 (sector mode).
    Btt,
    /// BTT v2.0.
    Btt2,
    /// fsdax.
    Pfn,
    /// devdax.
    Dax,
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    #[command(flatten)]
    target: Target,
    /// The namespace uuid.
    #[arg(long, value_name = "U", value_parser = parse_uuid)]
    uuid: Uuid,
    /// The namespace name (alt_name, at most 63 bytes).
    #[arg(long, value_name = "N", default_value = "")]
    name: String,
    /// The namespace size (rawsize).
    #[arg(long, value_name = "S", value_parser = parse_size)]
    size: u64,
    /// Its start on the DIMM (default: the lowest free range that fits, aligned to --align).
    #[arg(long, value_name = "D", value_parser = parse_size)]
    dpa: Option<u64>,
    /// The region's alignment (sysfs regionN/align): --size must be a multiple of it (the
    /// kernel's __size_store refuses other sizes, -EINVAL) and a chosen start is aligned to
    /// it. A power of two, at least 4K. Default: the kernel's default_align for a one-DIMM
    /// pmem region (labels add writes non-interleaved labels): 16M, or 4K when the DIMM's
    /// capacity (--dimm-size, --tail) is under 16 MiB. --align 4K accepts any size on the
    /// 4 KiB grid.
    #[arg(long, value_name = "A", value_parser = parse_align)]
    align: Option<u64>,
    /// The claim class (v1.2 labels only).
    #[arg(long, value_name = "CLASS", value_enum, default_value_t)]
    claim: ClaimArg,
    /// The sector size stored in the label (lbasize; 0 for none).
    #[arg(long, value_name = "N", value_parser = parse_size, default_value = "0")]
    lbasize: u64,
    /// Print the plan (byte ranges) and write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, clap::Args)]
struct RmArgs {
    #[command(flatten)]
    target: Target,
    /// The namespace uuid.
    #[arg(long, value_name = "U", value_parser = parse_uuid)]
    uuid: Uuid,
    /// Print the plan (byte ranges) and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `labels SUBCOMMAND`.
pub fn run(args: LabelsArgs, _ctx: &Ctx) -> Result<(), Failure> {
    match args.cmd {
        LabelsCommand::List(a) => list(&a),
        LabelsCommand::Init(a) => init(&a),
        LabelsCommand::Add(a) => add(&a),
        LabelsCommand::Rm(a) => rm(&a),
    }
}

// ---------------------------------------------------------------------------------------
// The file

/// The opened label area: the file, where the area starts in it, and its bytes.
struct AreaFile {
    path: String,
    file: File,
    /// File offset of the area's first byte (0, or file length - SIZE with --tail).
    base: u64,
    /// The area's bytes as read.
    bytes: Vec<u8>,
    /// Bytes before the area with --tail (the DIMM's capacity on the kernel rig).
    head: Option<u64>,
}

impl AreaFile {
    fn open(cmd: &str, target: &Target, write: bool) -> Result<Self, Failure> {
        let path = &target.path;
        let file = OpenOptions::new()
            .read(true)
            .write(write)
            .open(path)
            .map_err(|e| Failure::usage(format!("labels {cmd}: {path}: {}", io_text(&e))))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(Failure::usage(format!(
                "labels {cmd}: {path}: is a directory"
            )));
        }
        let file_len = (&file).seek(SeekFrom::End(0)).map_err(|e| {
            Failure::usage(format!(
                "labels {cmd}: {path}: cannot find the size: {}",
                io_text(&e)
            ))
        })?;
        let (base, len, head) = match target.tail {
            None => (0, file_len, None),
            Some(0) => return Err(Failure::usage(format!("labels {cmd}: --tail 0: empty"))),
            Some(size) if size > file_len => {
                return Err(Failure::usage(format!(
                    "labels {cmd}: {path}: {file_len} bytes, shorter than --tail {size}"
                )))
            }
            Some(size) => (file_len - size, size, Some(file_len - size)),
        };
        if u32::try_from(len).is_err() {
            return Err(Failure::usage(format!(
                "labels {cmd}: {path}: a {len}-byte label area is larger than the kernel's \
                 32-bit size (use --tail SIZE for an image)"
            )));
        }
        let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(0)];
        file.read_exact_at(&mut bytes, base).map_err(|e| {
            Failure::usage(format!("labels {cmd}: cannot read {path}: {}", io_text(&e)))
        })?;
        Ok(Self {
            path: path.clone(),
            file,
            base,
            bytes,
            head,
        })
    }

    /// The DIMM's range `(0, size)`: `--dimm-size`, else the bytes before a tail area.
    fn dpa_range(&self, target: &Target) -> Option<(u64, u64)> {
        target.dimm_size.or(self.head).map(|s| (0, s))
    }

    /// Writes `plan` (made from `self.bytes`) at the area's place in the file, in its order,
    /// then syncs. Nothing is written when the plan refuses the source.
    fn apply(&self, cmd: &str, plan: &Plan) -> Result<(), Failure> {
        let mut w = Pwrite {
            file: &self.file,
            base: self.base,
        };
        plan.apply(&self.bytes, &mut w)
            .map_err(|e| Failure::usage(format!("labels {cmd}: {}: {e}", self.path)))?;
        self.file.sync_data().map_err(|e| {
            Failure::usage(format!(
                "labels {cmd}: cannot sync {}: {}",
                self.path,
                io_text(&e)
            ))
        })
    }
}

/// The area's bytes in the file, at `base`: reads and writes with pread/pwrite.
struct Pwrite<'a> {
    file: &'a File,
    base: u64,
}

impl Pwrite<'_> {
    fn at(&self, offset: u64) -> std::io::Result<u64> {
        self.base.checked_add(offset).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "offset past 2^64")
        })
    }
}

impl ReadAt for Pwrite<'_> {
    type Error = IoText;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoText> {
        let at = self.at(offset).map_err(IoText::from)?;
        self.file.read_exact_at(buf, at).map_err(IoText::from)
    }
}

impl WriteAt for Pwrite<'_> {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), IoText> {
        let at = self.at(offset).map_err(IoText::from)?;
        self.file.write_all_at(buf, at).map_err(IoText::from)
    }
}

/// An `io::Error` as its text (without "(os error N)"), for the library's error types.
#[derive(Debug)]
struct IoText(String);

impl From<std::io::Error> for IoText {
    fn from(e: std::io::Error) -> Self {
        Self(io_text(&e))
    }
}

impl std::fmt::Display for IoText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One namespace's bytes of an image: DPA `dpa` is file byte `dpa`; reads past the
/// namespace's end fail.
struct NsReader<'a> {
    file: &'a File,
    start: u64,
    size: u64,
}

impl ReadAt for NsReader<'_> {
    type Error = IoText;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoText> {
        let len = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        let inside = offset.checked_add(len).is_some_and(|end| end <= self.size);
        let at = self.start.checked_add(offset).filter(|_| inside);
        let Some(at) = at else {
            return Err(IoText(format!(
                "{len} bytes at {offset:#x} are past the namespace's {} bytes",
                self.size
            )));
        };
        self.file.read_exact_at(buf, at).map_err(IoText::from)
    }
}

// ---------------------------------------------------------------------------------------
// list

/// `labels list --json`.
#[derive(Debug, Serialize)]
struct ListJson {
    /// The file (ndctl's `dev` is the nmem device).
    dev: String,
    /// File offset of the area.
    offset: u64,
    /// Bytes of the area (the kernel's config_size).
    config_size: u64,
    /// "1.1" or "1.2" (null when label-less).
    version: Option<String>,
    /// The current index (0 or 1; null when label-less).
    current: Option<u8>,
    /// Both index blocks, as ndctl read-labels -j prints them, with the verdict.
    index: Vec<IndexJson>,
    /// Every slot whose label names its own slot (ndctl read-labels -j `label`).
    label: Vec<LabelJson>,
    /// The namespaces the kernel creates, in slot order.
    namespaces: Vec<NamespaceJson>,
    /// No valid index block: the kernel treats the DIMM as label-less.
    label_less: bool,
    /// Why the kernel creates no namespace at all (label-less, or a region failure).
    failure: Option<String>,
    /// What is unusual.
    findings: FindingsJson,
}

#[derive(Debug, Serialize)]
struct IndexJson {
    signature: String,
    major: u16,
    minor: u16,
    labelsize: Option<u32>,
    seq: u32,
    nslot: u32,
    /// 0 or 1.
    position: u8,
    /// Offset in the area.
    offset: u64,
    valid: bool,
    current: bool,
    /// Free slots in its bitmap (valid blocks only).
    free: Option<u32>,
    /// Why the kernel skips it.
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct LabelJson {
    uuid: String,
    name: String,
    slot: u32,
    position: u16,
    nlabel: u16,
    flags: u32,
    isetcookie: u64,
    lbasize: u64,
    dpa: u64,
    rawsize: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_guid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    abstraction_guid: Option<String>,
    claim_class: &'static str,
    /// Marked in use by the current index's bitmap.
    in_use: bool,
    /// In use and valid (its checksum): a label the kernel reads (`nd_label_active`).
    active: bool,
    /// v1.2: whether the checksum matches (null for v1.1).
    checksum_ok: Option<bool>,
}

#[derive(Debug, Serialize)]
struct NamespaceJson {
    uuid: String,
    name: String,
    size: u64,
    dpa: u64,
    lbasize: u64,
    claim_class: &'static str,
    /// sector, fsdax, devdax, raw (ndctl list's words) or rejected; see docs/cli.md.
    mode: &'static str,
    /// Where `mode` comes from: "probe" (the namespace's data was read) or "label".
    mode_from: &'static str,
    slot: u32,
    flags: u32,
}

#[derive(Debug, Default, Serialize)]
struct FindingsJson {
    bad_index: Option<u8>,
    slot_mismatch: u32,
    bad_checksum: u32,
    cookie_mismatch: u32,
    outside_dimm: u32,
    updating: u32,
    duplicate_uuid: u32,
    interleaved: u32,
}

fn version_name(v: LabelVersion) -> &'static str {
    match v {
        LabelVersion::V1_1 => "1.1",
        LabelVersion::V1_2 => "1.2",
    }
}

/// Free bits among the first `nslot` of an index block's bitmap.
fn count_free(index: &[u8], nslot: u32) -> u32 {
    let bitmap = index.get(NdNamespaceIndex::HEADER_SIZE..).unwrap_or(&[]);
    (0..nslot)
        .filter(|&s| {
            bitmap
                .get(usize::try_from(s / 8).unwrap_or(usize::MAX))
                .is_some_and(|b| b & (1 << (s % 8)) != 0)
        })
        .count()
        .try_into()
        .unwrap_or(u32::MAX)
}

/// The raw header fields of the index block at `offset`, as ndctl prints them.
fn index_json(bytes: &[u8], position: u8, offset: u64, size: u32) -> IndexJson {
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let end = start.saturating_add(usize::try_from(size).unwrap_or(0));
    let block = bytes.get(start..end).unwrap_or(&[]);
    let raw = NdNamespaceIndex::ref_from_block(block);
    let sig = raw.map(|r| {
        let end = r.sig.iter().position(|&b| b == 0).unwrap_or(16);
        String::from_utf8_lossy(&r.sig[..end]).into_owned()
    });
    IndexJson {
        signature: sig.unwrap_or_default(),
        major: raw.map_or(0, |r| r.major.get()),
        minor: raw.map_or(0, |r| r.minor.get()),
        labelsize: raw.and_then(|r| 1u32.checked_shl(7 + u32::from(r.labelsize))),
        seq: raw.map_or(0, |r| r.seq.get()),
        nslot: raw.map_or(0, |r| r.nslot.get()),
        position,
        offset,
        valid: false,
        current: false,
        free: None,
        error: None,
    }
}

/// Why the kernel skips an index block, shortly: an all-zero signature is "no signature".
fn index_error_text(e: &IndexError) -> String {
    match e {
        IndexError::Signature { found } if found.iter().all(|&b| b == 0) => {
            "no NAMESPACE_INDEX signature (zeros)".to_owned()
        }
        e => e.to_string(),
    }
}

/// Why index `i` is invalid for both label sizes (once when the reasons are the same).
fn both_probes(v1_1: &[IndexError; 2], v1_2: &[IndexError; 2], i: usize) -> String {
    let (a, b) = (&v1_1[i], &v1_2[i]);
    let (ta, tb) = (index_error_text(a), index_error_text(b));
    if ta == tb {
        ta
    } else {
        format!("with 128-byte labels: {ta}; with 256-byte labels: {tb}")
    }
}

/// A label-less area's one-line reason.
fn area_error_text(e: &AreaError) -> String {
    match e {
        AreaError::NoValidIndex { v1_1, v1_2 } => format!(
            "no valid index block, the kernel treats the DIMM as label-less (index 0: {}; \
             index 1: {})",
            both_probes(v1_1, v1_2, 0),
            both_probes(v1_1, v1_2, 1)
        ),
        e => e.to_string(),
    }
}

fn mode_from_claim(c: ClaimClass) -> &'static str {
    match c {
        ClaimClass::None => "raw",
        ClaimClass::Btt | ClaimClass::Btt2 => "sector",
        ClaimClass::Pfn => "fsdax",
        ClaimClass::Dax => "devdax",
        // No driver claims an unknown class: nd_pmem_probe's three probes all pass.
        ClaimClass::Unknown(_) => "raw",
    }
}

fn list(args: &ListArgs) -> Result<(), Failure> {
    let t = &args.target;
    let f = AreaFile::open("list", t, false)?;
    let config_size = u64::try_from(f.bytes.len()).unwrap_or(u64::MAX);
    let mut report = ListJson {
        dev: f.path.clone(),
        offset: f.base,
        config_size,
        version: None,
        current: None,
        index: Vec::new(),
        label: Vec::new(),
        namespaces: Vec::new(),
        label_less: false,
        failure: None,
        findings: FindingsJson::default(),
    };
    let size32 = u32::try_from(f.bytes.len()).unwrap_or(u32::MAX);
    match LabelArea::parse(&f.bytes) {
        Err(e) => {
            report.label_less = true;
            report.failure = Some(area_error_text(&e));
            // Show the blocks where a 128-byte-label area puts them (the kernel's first probe).
            if let Ok(g) = Geometry::new(size32, LabelVersion::V1_1)
                .or_else(|_| Geometry::new(size32, LabelVersion::V1_2))
            {
                for p in [0u8, 1] {
                    let mut j = index_json(&f.bytes, p, g.index_offset(p), g.index_size);
                    if let AreaError::NoValidIndex { v1_1, v1_2 } = e {
                        let i = usize::from(p);
                        j.error = Some(both_probes(&v1_1, &v1_2, i));
                    }
                    report.index.push(j);
                }
            }
        }
        Ok(area) => {
            let g = area.geometry();
            report.version = Some(version_name(area.version()).to_owned());
            report.current = Some(area.current());
            for p in [0u8, 1] {
                let mut j = index_json(&f.bytes, p, g.index_offset(p), g.index_size);
                match area.index_status(p) {
                    Ok(info) => {
                        j.valid = true;
                        j.current = p == area.current();
                        j.free = Some(count_free(area.index_bytes(p), info.nslot));
                    }
                    Err(e) => j.error = Some(index_error_text(&e)),
                }
                report.index.push(j);
            }
            for (slot, l) in area.raw_slots() {
                let checksum_ok = l
                    .checksum
                    .map(|_| !matches!(area.read_slot(slot), Err(SlotError::Checksum { .. })));
                report.label.push(LabelJson {
                    uuid: l.uuid.to_string(),
                    name: String::from_utf8_lossy(
                        &l.name[..l.name.iter().position(|&b| b == 0).unwrap_or(64)],
                    )
                    .into_owned(),
                    slot,
                    position: l.position,
                    nlabel: l.nlabel,
                    flags: l.flags,
                    isetcookie: l.isetcookie,
                    lbasize: l.lbasize,
                    dpa: l.dpa,
                    rawsize: l.rawsize,
                    // ndctl prints both GUIDs with uuid_unparse of the stored bytes.
                    type_guid: l.type_guid.map(|g| Uuid(g.0).to_string()),
                    abstraction_guid: l
                        .type_guid
                        .map(|_| Uuid(l.claim_class.guid().0).to_string()),
                    claim_class: l.claim_class.name(),
                    in_use: !area.is_free(slot),
                    active: !area.is_free(slot) && area.read_slot(slot).is_ok(),
                    checksum_ok,
                });
            }
            let region = Region {
                isetcookie: t.isetcookie,
                dpa_range: f.dpa_range(t),
                ..Region::default()
            };
            let cap = usize::try_from(g.nslot).unwrap_or(0).max(1);
            let mut out = vec![Namespace::EMPTY; cap];
            let scan = area.namespaces(&region, &mut out);
            let fd = scan.findings;
            report.findings = FindingsJson {
                bad_index: fd.bad_index.map(|(p, _)| p),
                slot_mismatch: fd.slot_mismatch,
                bad_checksum: fd.bad_checksum,
                cookie_mismatch: fd.cookie_mismatch,
                outside_dimm: fd.outside_dimm,
                updating: fd.updating,
                duplicate_uuid: fd.duplicate_uuid,
                interleaved: fd.interleaved,
            };
            report.failure = scan.failure.map(|e| e.to_string());
            let profile = args.kernel.unwrap_or(Profile::NEWEST_X86_64);
            for ns in out.iter().take(scan.count) {
                let (mode, mode_from) = match f.head {
                    Some(head) => (
                        probe_mode(&f, head, ns, args.region_start, &profile)?,
                        "probe",
                    ),
                    None => (mode_from_claim(ns.claim_class), "label"),
                };
                report.namespaces.push(NamespaceJson {
                    uuid: ns.uuid.to_string(),
                    name: ns.name_str().unwrap_or("").to_owned(),
                    size: ns.rawsize,
                    dpa: ns.dpa,
                    lbasize: ns.lbasize,
                    claim_class: ns.claim_class.name(),
                    mode,
                    mode_from,
                    slot: ns.slot,
                    flags: ns.flags,
                });
            }
        }
    }
    if t.json {
        output::json(&report)?;
    } else {
        output::text(&list_text(&report));
    }
    match &report.failure {
        Some(why) if report.label_less => Err(Failure::negative(format!(
            "labels list: {}: {why}",
            report.dev
        ))),
        Some(why) => Err(Failure::negative(format!(
            "labels list: {}: the kernel creates no namespace: {why}",
            report.dev
        ))),
        None => Ok(()),
    }
}

/// The mode the kernel gives namespace `ns` of the image, from its data (DPA d = file byte
/// d, before the label area at `head`).
fn probe_mode(
    f: &AreaFile,
    head: u64,
    ns: &Namespace,
    region_start: u64,
    profile: &Profile,
) -> Result<&'static str, Failure> {
    let inside = ns.dpa.checked_add(ns.rawsize).is_some_and(|e| e <= head);
    if !inside {
        return Err(Failure::usage(format!(
            "labels list: {}: namespace {} ({:#x} bytes at DPA {:#x}) is not inside the {head} \
             bytes before the label area",
            f.path, ns.uuid, ns.rawsize, ns.dpa
        )));
    }
    let start = region_start.checked_add(ns.dpa).ok_or_else(|| {
        Failure::usage(format!(
            "labels list: --region-start {region_start:#x} + DPA wraps"
        ))
    })?;
    let pns = probe::Namespace {
        start,
        size: ns.rawsize,
        uuid: ns.uuid,
        claim: ns.claim_class,
        force_raw: false,
    };
    let mut reader = NsReader {
        file: &f.file,
        start: ns.dpa,
        size: ns.rawsize,
    };
    let answer = probe(&mut reader, &pns, profile).map_err(|e| {
        Failure::usage(format!(
            "labels list: {}: probing namespace {}: {e}",
            f.path, ns.uuid
        ))
    })?;
    Ok(answer.verdict.name())
}

fn list_text(r: &ListJson) -> String {
    let mut s = String::new();
    let at = if r.offset == 0 {
        String::new()
    } else {
        format!(" at byte {:#x}", r.offset)
    };
    match &r.version {
        Some(v) => {
            let nslot = r.index.iter().find(|i| i.current).map_or(0, |i| i.nslot);
            s += &format!(
                "{}: label area of {} bytes{at}, v{v}, {nslot} slots\n",
                r.dev, r.config_size
            );
        }
        None => s += &format!("{}: label area of {} bytes{at}\n", r.dev, r.config_size),
    }
    for i in &r.index {
        let state = if i.current {
            "current"
        } else if i.valid {
            "valid"
        } else {
            "BAD"
        };
        s += &format!(
            "  index {} at {:#06x}  {state:<8} seq {}  nslot {}",
            i.position, i.offset, i.seq, i.nslot
        );
        if let Some(free) = i.free {
            s += &format!("  free {free}");
        }
        if let Some(e) = &i.error {
            s += &format!("  ({e})");
        }
        s += "\n";
    }
    if r.label_less {
        s += "no valid index block: the kernel treats the DIMM as label-less\n";
        return s;
    }
    let active = r.label.iter().filter(|l| l.active).count();
    // A zeroed slot 0 names itself too (ndctl read-labels lists it): not counted as stale.
    let nil = Uuid::NIL.to_string();
    let stale = r
        .label
        .iter()
        .filter(|l| !l.active && l.uuid != nil)
        .count();
    s += &format!("labels: {active} in use, {stale} stale (in free slots, kept by the kernel)\n");
    s += &format!("namespaces the kernel creates: {}\n", r.namespaces.len());
    if !r.namespaces.is_empty() {
        s += &format!(
            "  {:<36}  {:<12}  {:>14}  {:>14}  {:>7}  {:<7}  {:<8}  {:>4}  {}\n",
            "uuid", "name", "dpa", "size", "lbasize", "claim", "mode", "slot", "flags"
        );
    }
    for n in &r.namespaces {
        s += &format!(
            "  {:<36}  {:<12}  {:>#14x}  {:>#14x}  {:>7}  {:<7}  {:<8}  {:>4}  {:#x}\n",
            n.uuid, n.name, n.dpa, n.size, n.lbasize, n.claim_class, n.mode, n.slot, n.flags
        );
    }
    if let Some(f) = &r.failure {
        s += &format!("the kernel creates no namespace: {f}\n");
    }
    let fd = &r.findings;
    let mut notes = Vec::new();
    if let Some(p) = fd.bad_index {
        notes.push(format!("index {p} is bad, the other one is used"));
    }
    for (n, what) in [
        (
            fd.bad_checksum,
            "in-use label(s) with a bad checksum (ignored)",
        ),
        (
            fd.slot_mismatch,
            "in-use slot(s) whose label names another slot (ignored)",
        ),
        (
            fd.cookie_mismatch,
            "label(s) with another interleave-set cookie (skipped)",
        ),
        (fd.outside_dimm, "label(s) outside the DIMM (skipped)"),
        (
            fd.updating,
            "label(s) with UPDATING set (an interrupted update)",
        ),
        (
            fd.duplicate_uuid,
            "label(s) repeating an earlier label's uuid",
        ),
        (
            fd.interleaved,
            "interleaved label(s) (nlabel != 1 or position != 0)",
        ),
    ] {
        if n > 0 {
            notes.push(format!("{n} {what}"));
        }
    }
    for n in notes {
        s += &format!("note: {n}\n");
    }
    s
}

// ---------------------------------------------------------------------------------------
// init, add, rm

/// `--json` of init, add and rm.
#[derive(Debug, Serialize)]
struct WriteJson {
    dev: String,
    /// File offset of the area.
    offset: u64,
    command: &'static str,
    dry_run: bool,
    written: bool,
    /// add: the namespace written.
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<AddedJson>,
    /// rm: the uuid removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    /// Every byte range, in the order written.
    writes: Vec<WriteRange>,
}

#[derive(Debug, Serialize)]
struct AddedJson {
    uuid: String,
    name: String,
    dpa: u64,
    /// Whether `dpa` was chosen (no --dpa).
    dpa_chosen: bool,
    size: u64,
    lbasize: u64,
    claim_class: &'static str,
    isetcookie: u64,
}

#[derive(Debug, Serialize)]
struct WriteRange {
    /// File offset.
    offset: u64,
    /// Offset in the label area.
    area_offset: u64,
    len: u64,
    /// "label" or "index".
    what: &'static str,
    /// The slot (labels) or the index's position (0 or 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    slot: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u32>,
}

fn ranges(f: &AreaFile, plan: &Plan) -> Vec<WriteRange> {
    plan.writes()
        .map(|w| {
            let (what, slot, position, seq) = match w.what {
                WriteKind::Label { slot } => ("label", Some(slot), None, None),
                WriteKind::Index { position, seq } => ("index", None, Some(position), Some(seq)),
            };
            WriteRange {
                offset: f.base.saturating_add(w.offset),
                area_offset: w.offset,
                len: w.len,
                what,
                slot,
                position,
                seq,
            }
        })
        .collect()
}

/// Prints the plan (dry run) or writes it, then reports.
fn finish(
    cmd: &'static str,
    f: &AreaFile,
    t: &Target,
    plan: &Plan,
    dry_run: bool,
    mut report: WriteJson,
    summary: String,
) -> Result<(), Failure> {
    report.writes = ranges(f, plan);
    if !dry_run {
        f.apply(cmd, plan)?;
        report.written = true;
    }
    if t.json {
        return output::json(&report);
    }
    let mut s = summary;
    s += if dry_run {
        "dry run: would write (file offsets)\n"
    } else {
        "wrote (file offsets)\n"
    };
    for w in plan.writes() {
        let start = f.base.saturating_add(w.offset);
        let end = start.saturating_add(w.len);
        let what = match w.what {
            WriteKind::Label { slot } => format!("label slot {slot}"),
            WriteKind::Index { position, seq } => format!("index {position} (seq {seq})"),
        };
        s += &format!("  {start:#x}..{end:#x}  {} bytes  {what}\n", w.len);
    }
    output::text(&s);
    Ok(())
}

fn new_report(cmd: &'static str, f: &AreaFile, dry_run: bool) -> WriteJson {
    WriteJson {
        dev: f.path.clone(),
        offset: f.base,
        command: cmd,
        dry_run,
        written: false,
        namespace: None,
        uuid: None,
        writes: Vec::new(),
    }
}

fn init(args: &InitArgs) -> Result<(), Failure> {
    let t = &args.target;
    let f = AreaFile::open("init", t, !args.dry_run)?;
    if let Ok(area) = LabelArea::parse(&f.bytes) {
        if !args.force {
            return Err(Failure::usage(format!(
                "labels init: {} already holds a valid v{} label area (index {} current, {} \
                 namespace label(s) in use); use --force to overwrite",
                f.path,
                version_name(area.version()),
                area.current(),
                area.active_labels().count()
            )));
        }
    }
    let version = match args.version {
        VersionArg::V1_1 => LabelVersion::V1_1,
        VersionArg::V1_2 => LabelVersion::V1_2,
    };
    let style = match args.style {
        StyleArg::Kernel => InitStyle::Kernel,
        StyleArg::Ndctl => InitStyle::Ndctl,
    };
    let plan = label::init(f.bytes.len(), version, style)
        .map_err(|e| Failure::negative(format!("labels init: {}: {e}", f.path)))?;
    let g = Geometry::new(u32::try_from(f.bytes.len()).unwrap_or(0), version)
        .map_err(|e| Failure::negative(format!("labels init: {}: {e}", f.path)))?;
    let summary = format!(
        "{}: empty v{} index pair: {} slots of {} bytes, index blocks of {} bytes, index 0 \
         current (seq 3), index 1 seq 2\n",
        f.path,
        version_name(version),
        g.nslot,
        version.label_size(),
        g.index_size
    );
    let report = new_report("init", &f, args.dry_run);
    finish("init", &f, t, &plan, args.dry_run, report, summary)
}

/// Parses the area for add/rm: a label-less area cannot be changed (exit 2).
fn parse_for<'a>(cmd: &str, f: &'a AreaFile) -> Result<LabelArea<'a>, Failure> {
    LabelArea::parse(&f.bytes).map_err(|e| {
        Failure::usage(format!(
            "labels {cmd}: {}: {}; run `infoblock labels init` first",
            f.path,
            area_error_text(&e)
        ))
    })
}

/// region_devs.c `default_align` (Linux 5.18+) for a pmem region of one DIMM:
/// `MEMREMAP_COMPAT_ALIGN_MAX` (16 MiB), or `PAGE_SIZE` when the region is smaller than that
/// (the DIMM's capacity, when known); with one mapping, 16 MiB divides evenly and is not
/// multiplied by the interleave ways.
fn default_align(dimm_capacity: Option<u64>) -> u64 {
    match dimm_capacity {
        Some(l) if l < 16 << 20 => 4096,
        _ => 16 << 20,
    }
}

/// `--align`: as the kernel's `align_store` accepts it for one mapping, a power of two of at
/// least a page (4 KiB).
fn parse_align(text: &str) -> Result<u64, String> {
    let n = parse_size(text)?;
    if n.is_power_of_two() && n >= 4096 {
        Ok(n)
    } else {
        Err("must be a power of two of at least 4K".to_owned())
    }
}

/// The lowest start, aligned to `align`, of a free range of `size` bytes beside the active
/// labels' ranges (and inside `limit` when known), as the kernel's allocator picks the first
/// free space of a region.
fn first_fit(area: &LabelArea<'_>, size: u64, align: u64, limit: Option<u64>) -> Option<u64> {
    let mut used: Vec<(u64, u64)> = area
        .active_labels()
        .map(|l| (l.dpa, l.dpa.saturating_add(l.rawsize)))
        .collect();
    used.sort_unstable();
    let align_up = |v: u64| -> Option<u64> {
        let a = align.max(1);
        v.checked_add(a - 1).map(|x| x / a * a)
    };
    let mut cand = align_up(0)?;
    for (start, end) in used {
        if cand.checked_add(size)? <= start {
            break;
        }
        if end > cand {
            cand = align_up(end)?;
        }
    }
    let end = cand.checked_add(size)?;
    match limit {
        Some(l) if end > l => None,
        _ => Some(cand),
    }
}

fn add(args: &AddArgs) -> Result<(), Failure> {
    let t = &args.target;
    let f = AreaFile::open("add", t, !args.dry_run)?;
    let area = parse_for("add", &f)?;
    let claim = match args.claim {
        ClaimArg::None => ClaimClass::None,
        ClaimArg::Btt => ClaimClass::Btt,
        ClaimArg::Btt2 => ClaimClass::Btt2,
        ClaimArg::Pfn => ClaimClass::Pfn,
        ClaimArg::Dax => ClaimClass::Dax,
    };
    if claim != ClaimClass::None && area.version() == LabelVersion::V1_1 {
        return Err(Failure::usage(format!(
            "labels add: {}: v1.1 labels carry no claim class (--claim {})",
            f.path,
            claim.name()
        )));
    }
    let cookie = match t.isetcookie {
        Some(c) => c,
        None => {
            let mut cookies: Vec<u64> = area.active_labels().map(|l| l.isetcookie).collect();
            cookies.sort_unstable();
            cookies.dedup();
            match cookies.as_slice() {
                [c] => *c,
                [] => {
                    return Err(Failure::usage(
                        "labels add: --isetcookie is required for an area without labels (the \
                         region's set_cookie; the kernel rig's is 0x00ba90120012b4dc)",
                    ))
                }
                _ => {
                    return Err(Failure::usage(
                        "labels add: the area's labels carry different cookies; give \
                         --isetcookie",
                    ))
                }
            }
        }
    };
    let limit = f.dpa_range(t).map(|(_, s)| s);
    let align = args.align.unwrap_or_else(|| default_align(limit));
    // namespace_devs.c __size_store (v5.7+): a size that is not a multiple of the region's
    // align is refused (-EINVAL, "%llu is not %ldK aligned"). The align is a power of two of
    // at least a page, so a size off the 4 KiB grid is refused here too.
    if args.size % align != 0 {
        let which = if args.align.is_some() {
            "--align"
        } else {
            "the kernel's default for a one-DIMM region; --align gives the region's"
        };
        return Err(Failure::usage(format!(
            "labels add: --size {:#x} is not a multiple of the region's alignment {align:#x} \
             ({which}): the kernel's __size_store refuses it (-EINVAL)",
            args.size
        )));
    }
    // The kernel only allocates DPAs on its alignment grid (space_valid), at least a page.
    if let Some(d) = args.dpa.filter(|d| d % 4096 != 0) {
        return Err(Failure::usage(format!(
            "labels add: --dpa {d:#x} is not a multiple of 4 KiB (the kernel allocates DPAs on \
             the region's alignment, at least a page)"
        )));
    }
    let (dpa, chosen) = match args.dpa {
        Some(d) => (d, false),
        None => {
            let d = first_fit(&area, args.size, align, limit).ok_or_else(|| {
                let room = limit.map_or(String::new(), |l| format!(" in the DIMM's {l} bytes"));
                Failure::negative(format!(
                    "labels add: {}: no free range of {} bytes{room}",
                    f.path, args.size
                ))
            })?;
            (d, true)
        }
    };
    if let (Some(l), Some(end)) = (limit, dpa.checked_add(args.size)) {
        if end > l {
            return Err(Failure::negative(format!(
                "labels add: {}: {:#x} + {:#x} ends past the DIMM's {l:#x} bytes",
                f.path, dpa, args.size
            )));
        }
    }
    let mut new = NewLabel::new(args.uuid, &args.name, dpa, args.size, cookie)
        .map_err(|e| Failure::usage(format!("labels add: --name: {e}")))?;
    new.claim_class = claim;
    new.lbasize = args.lbasize;
    let plan = label::add(&area, &new)
        .map_err(|e| Failure::negative(format!("labels add: {}: {e}", f.path)))?;
    let how = if chosen {
        format!("chosen: the lowest free range, aligned to {align:#x}")
    } else {
        "from --dpa".to_owned()
    };
    let summary = format!(
        "{}: add namespace {} {:?}: {:#x} bytes at DPA {dpa:#x} ({how}), claim {}, \
         isetcookie {cookie:#018x}\n",
        f.path,
        args.uuid,
        args.name,
        args.size,
        claim.name()
    );
    let mut report = new_report("add", &f, args.dry_run);
    report.namespace = Some(AddedJson {
        uuid: args.uuid.to_string(),
        name: args.name.clone(),
        dpa,
        dpa_chosen: chosen,
        size: args.size,
        lbasize: args.lbasize,
        claim_class: claim.name(),
        isetcookie: cookie,
    });
    finish("add", &f, t, &plan, args.dry_run, report, summary)
}

fn rm(args: &RmArgs) -> Result<(), Failure> {
    let t = &args.target;
    let f = AreaFile::open("rm", t, !args.dry_run)?;
    let area = parse_for("rm", &f)?;
    let plan = label::remove(&area, args.uuid)
        .map_err(|e| Failure::negative(format!("labels rm: {}: {e}", f.path)))?;
    let summary = format!("{}: delete namespace {}\n", f.path, args.uuid);
    let mut report = new_report("rm", &f, args.dry_run);
    report.uuid = Some(args.uuid.to_string());
    finish("rm", &f, t, &plan, args.dry_run, report, summary)
}

//! `infoblock btt read|check|create`: the BTT (sector mode) of a namespace image.
//!
//! * `read` writes logical blocks to stdout, read through the map as the kernel's
//!   `/dev/pmemNs` reads them ([`nvdimm_infoblock::btt::read::Reader`]).
//! * `check` runs the deep check ([`nvdimm_infoblock::btt::check::check`]) with a scratch
//!   bitmap allocated here, and with `--repair` writes the info-block restorations of
//!   [`nvdimm_infoblock::btt::repair`] (dry run otherwise).
//! * `create` writes the metadata the kernel writes for a new BTT
//!   ([`nvdimm_infoblock::btt::layout::create`]) after printing the plan.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;

use nvdimm_infoblock::btt::arena::{BttVersion, Namespace};
use nvdimm_infoblock::btt::check::{self, Finding, Referrer, Scratch, Severity};
use nvdimm_infoblock::btt::error::{Error as BttError, Invalid};
use nvdimm_infoblock::btt::layout::{self, LayoutRequest};
use nvdimm_infoblock::btt::read::Reader;
use nvdimm_infoblock::btt::repair::{self, RepairPlan};
use nvdimm_infoblock::io::{ReadAt, WriteAt};
use nvdimm_infoblock::Uuid;
use serde::Serialize;
use serde_json::{json, Value};

use crate::args::parse_uuid;
use crate::image::{io_text, Image};
use crate::nsarg::{self, parse_btt_version, ClaimArg};
use crate::progress::Progress;
use crate::{output, Ctx, Failure};

const AFTER_HELP: &str = "\
The namespace image holds a BTT 1.1 (info block at byte 4096, label-less namespaces and
v1.1 labels) or 2.0 (at byte 0, v1.2 labels with the BTT2 claim class: --claim btt2 or
--version 2.0).

Exit codes: 0 success (read: the blocks were written; check: no error or warning; create:
written); 1 a negative answer (read: an LBA with the error flag, or no BTT the kernel would
attach; check: findings, also after --repair); 2 a usage or I/O error (an LBA past the end,
a file too small, a missing file). One line on stderr.";

/// Arguments of `infoblock btt`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct BttArgs {
    /// The subcommand.
    #[command(subcommand)]
    pub cmd: BttCommand,
}

/// `btt read|check|create`.
#[derive(Debug, clap::Subcommand)]
pub enum BttCommand {
    /// Write logical blocks of the BTT to stdout (raw bytes), as /dev/pmemNs reads them.
    #[command(after_help = AFTER_HELP)]
    Read(ReadArgs),
    /// Deep check of the BTT's metadata (exit 1 on findings); --repair restores info blocks.
    #[command(after_help = AFTER_HELP)]
    Check(CheckArgs),
    /// Write the metadata the kernel writes for a new BTT (after printing the plan).
    #[command(after_help = AFTER_HELP)]
    Create(CreateArgs),
}

/// Where the BTT is: the image and the namespace (flags or sysfs).
#[derive(Debug, clap::Args)]
pub struct Where {
    /// The namespace image (or a raw namespace's /dev/pmemN).
    #[arg(value_name = "IMG")]
    pub path: String,
    /// Read size, uuid and claim class of this namespace (e.g. namespace0.0) from sysfs.
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// The sysfs root to read namespaces from (a recorded tree).
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    pub sysfs_root: PathBuf,
    /// The claim class of the namespace's label; btt2 places the info block at byte 0.
    #[arg(long, value_name = "CLASS", value_enum)]
    pub claim: Option<ClaimArg>,
    /// The BTT version: 1.1 (info block at 4096, the default) or 2.0 (at 0).
    #[arg(long, value_name = "V", value_parser = parse_btt_version)]
    pub version: Option<BttVersion>,
    /// The namespace uuid a non-zero parent_uuid must equal (default: sysfs, else nil).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    pub parent_uuid: Option<Uuid>,
}

/// Arguments of `btt read`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// The image and namespace.
    #[command(flatten)]
    pub at: Where,
    /// The first logical block (in units of the device's sector size, 512 or 4096).
    #[arg(long, value_name = "N")]
    pub lba: u64,
    /// Blocks to read.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub count: u64,
}

/// Arguments of `btt check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The image and namespace.
    #[command(flatten)]
    pub at: Where,
    /// Write the repair plan (info blocks restored from their valid copy); without it,
    /// print what would be written and write nothing.
    #[arg(long)]
    pub repair: bool,
    /// Print a JSON object (keys in docs/cli.md).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `btt create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The namespace image to write (its size is the namespace size).
    #[arg(value_name = "IMG")]
    pub path: String,
    /// The btt device's sector_size: 512, 520, 528, 4096, 4104, 4160 or 4224.
    #[arg(long, value_name = "S")]
    pub sector_size: u32,
    /// The BTT uuid (default: random, printed).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    pub uuid: Option<Uuid>,
    /// The namespace's uuid (default nil: a label-less namespace).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    pub parent_uuid: Option<Uuid>,
    /// 1.1 (info block at 4096, the default) or 2.0 (at 0).
    #[arg(long, value_name = "V", value_parser = parse_btt_version)]
    pub version: Option<BttVersion>,
    /// Print the plan and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite valid metadata already there (a BTT at byte 0 or 4096, a pfn/dax block).
    #[arg(long)]
    pub force: bool,
    /// Print a JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `btt`.
pub fn run(args: BttArgs, ctx: &Ctx) -> Result<(), Failure> {
    match args.cmd {
        BttCommand::Read(a) => read(a, ctx),
        BttCommand::Check(a) => check_cmd(a, ctx),
        BttCommand::Create(a) => create(a, ctx),
    }
}

/// A file opened for reading and writing.
struct RwFile(File);

impl ReadAt for RwFile {
    type Error = std::io::Error;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), std::io::Error> {
        self.0.read_exact_at(buf, offset)
    }
}

impl WriteAt for RwFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), std::io::Error> {
        self.0.write_all_at(buf, offset)
    }
}

fn open_rw(cmd: &str, path: &str) -> Result<(RwFile, u64), Failure> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Failure::usage(format!("{cmd}: cannot open {path}: {}", io_text(&e))))?;
    let len = (&file).seek(SeekFrom::End(0)).map_err(|e| {
        Failure::usage(format!(
            "{cmd}: cannot find the size of {path}: {}",
            io_text(&e)
        ))
    })?;
    Ok((RwFile(file), len))
}

/// The opened image and the BTT namespace it holds.
struct Opened {
    image: Image,
    ns: Namespace,
}

fn open(cmd: &str, at: &Where) -> Result<Opened, Failure> {
    let target = nsarg::target(cmd, &at.path, at.namespace.as_deref(), &at.sysfs_root)?;
    let mut image =
        Image::open(&target.path).map_err(|f| Failure::usage(format!("{cmd}: {}", f.message)))?;
    let sys = target.sys.as_ref();
    let claim = match at.claim {
        Some(c) => Some(c.class()),
        None => sys
            .and_then(|s| s.claim)
            .map(|c| nsarg::refine_btt(c, &mut image, nsarg::parent_uuid(at.parent_uuid, sys))),
    };
    let version = at
        .version
        .or_else(|| claim.map(nsarg::version_of))
        .unwrap_or(BttVersion::V1_1);
    let size = sys.map_or(image.len, |s| s.info.size);
    let ns = Namespace {
        size,
        uuid: nsarg::parent_uuid(at.parent_uuid, sys),
        version,
    };
    Ok(Opened { image, ns })
}

/// A one-line name of a BTT reason, for JSON.
pub fn invalid_token(i: &Invalid) -> &'static str {
    match i {
        Invalid::NamespaceTooSmall { .. } => "namespace_too_small",
        Invalid::BadSignature { .. } => "bad_signature",
        Invalid::ParentUuidMismatch { .. } => "parent_uuid_mismatch",
        Invalid::ChecksumMismatch { .. } => "checksum_mismatch",
        Invalid::VersionMismatch { .. } => "version_mismatch",
        Invalid::ZeroLbasize { .. } => "zero_lbasize",
        Invalid::LbasizeMismatch { .. } => "lbasize_mismatch",
        Invalid::InternalLbasizeTooSmall { .. } => "internal_lbasize_too_small",
        Invalid::NoFreeBlocks { .. } => "no_free_blocks",
        Invalid::NlbaMismatch { .. } => "nlba_mismatch",
        Invalid::AreaOverlap { .. } => "area_overlap",
        Invalid::ArenaPastEnd { .. } => "arena_past_end",
        Invalid::TooManyArenas { .. } => "too_many_arenas",
        Invalid::LogLayoutMismatch { .. } => "log_layout_mismatch",
        Invalid::UnknownLogLayout { .. } => "unknown_log_layout",
        Invalid::LogSeq { .. } => "log_seq",
        Invalid::FlogLbaOutOfRange { .. } => "flog_lba_out_of_range",
        Invalid::TooManyRepairs { .. } => "too_many_repairs",
        Invalid::LbaOutOfRange { .. } => "lba_out_of_range",
        Invalid::MediaError { .. } => "media_error",
        Invalid::PostmapOutOfRange { .. } => "postmap_out_of_range",
        Invalid::BufferSize { .. } => "buffer_size",
        Invalid::UnsupportedLbasize { .. } => "unsupported_lbasize",
        _ => "invalid",
    }
}

fn btt_error(cmd: &str, path: &str, e: BttError<std::io::Error>) -> Failure {
    match e {
        BttError::Io {
            offset,
            len,
            source,
        } => Failure::usage(format!(
            "{cmd}: {path}: cannot read {len} bytes at {offset:#x}: {}",
            io_text(&source)
        )),
        BttError::Invalid(i) if i.kernel_refuses() => Failure::negative(format!(
            "{cmd}: {path}: the kernel would not attach this BTT: {i}"
        )),
        BttError::Invalid(i) => Failure::negative(format!(
            "{cmd}: {path}: the BTT breaks a rule the kernel does not check, so its blocks \
             cannot be located safely: {i}"
        )),
        other => Failure::usage(format!("{cmd}: {path}: {other}")),
    }
}

// ---------------------------------------------------------------------------------------
// read

fn read(args: ReadArgs, _ctx: &Ctx) -> Result<(), Failure> {
    let cmd = "btt read";
    let Opened { mut image, ns } = open(cmd, &args.at)?;
    let path = image.path.clone();
    let mut reader = Reader::open(&mut image, &ns).map_err(|e| btt_error(cmd, &path, e))?;
    let btt = *reader.btt();
    let end = args.lba.checked_add(args.count);
    if args.count == 0 {
        return Err(Failure::usage(format!("{cmd}: --count must be at least 1")));
    }
    if end.is_none_or(|end| end > btt.nlba) {
        return Err(Failure::usage(format!(
            "{cmd}: {path}: LBAs {}..+{} are past the end: the BTT has {} blocks of {} bytes \
             (LBAs 0..{})",
            args.lba, args.count, btt.nlba, btt.sector_size, btt.nlba
        )));
    }
    let sector = usize::try_from(btt.sector_size).unwrap_or(4096);
    let mut buf = vec![0u8; sector];
    let mut stdout = std::io::stdout().lock();
    for lba in args.lba..end.unwrap_or(args.lba) {
        match reader.read_lba(&mut image, lba, &mut buf) {
            Ok(_) => {
                if stdout.write_all(&buf).is_err() {
                    // A closed stdout ends the output quietly.
                    return Ok(());
                }
            }
            Err(BttError::Invalid(Invalid::MediaError {
                lba,
                arena,
                postmap,
            })) => {
                let _ = stdout.flush();
                return Err(Failure::negative(format!(
                    "{cmd}: {path}: LBA {lba}: the map entry has the error flag (arena {arena}, \
                     block {postmap}): the kernel fails this read with -EIO"
                )));
            }
            Err(e) => {
                let _ = stdout.flush();
                return Err(btt_error(cmd, &path, e));
            }
        }
    }
    let _ = stdout.flush();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// check

/// The JSON object of a finding: `kind`, `severity`, `arena`, `lane`, `lba` (null when the
/// finding has none), `message`, and `values` (every field of the finding).
pub fn finding_json(f: &Finding) -> FindingJson {
    let (kind, lane, lba, values): (&str, Option<u32>, Option<u32>, Value) = match *f {
        Finding::Invalid(i) => (
            "invalid",
            None,
            None,
            json!({"reason": invalid_token(&i), "kernel_refuses": i.kernel_refuses()}),
        ),
        Finding::InfoInvalid {
            copy,
            offset,
            reason,
            ..
        } => (
            "info_invalid",
            None,
            None,
            json!({"copy": copy_name(copy), "offset": offset, "reason": invalid_token(&reason)}),
        ),
        Finding::InfoMismatch {
            primary,
            backup,
            first_difference,
            ..
        } => (
            "info_mismatch",
            None,
            None,
            json!({"primary": primary, "backup": backup, "first_difference": first_difference}),
        ),
        Finding::InfoUnrecoverable {
            primary, backup, ..
        } => (
            "info_unrecoverable",
            None,
            None,
            json!({"primary": primary, "backup": backup}),
        ),
        Finding::ErrorFlag { .. } => ("error_flag", None, None, json!({})),
        Finding::MapOutOfRange {
            lba,
            entry,
            postmap,
            internal_nlba,
            ..
        } => (
            "map_out_of_range",
            None,
            Some(lba),
            json!({"entry": entry, "postmap": postmap, "internal_nlba": internal_nlba}),
        ),
        Finding::MapMediaError { lba, postmap, .. } => (
            "map_media_error",
            None,
            Some(lba),
            json!({"postmap": postmap}),
        ),
        Finding::LogSlot {
            lane,
            slot,
            expected,
            ..
        } => (
            "log_slot",
            Some(lane),
            None,
            json!({"slot": slot, "expected": format!("{expected:?}").to_lowercase()}),
        ),
        Finding::LogSeq {
            lane,
            seq0,
            seq1,
            kernel_refuses,
            ..
        } => (
            "log_seq",
            Some(lane),
            None,
            json!({"seq0": seq0, "seq1": seq1, "kernel_refuses": kernel_refuses}),
        ),
        Finding::LogLbaOutOfRange {
            lane,
            sub,
            lba,
            external_nlba,
            ..
        } => (
            "log_lba_out_of_range",
            Some(lane),
            Some(lba),
            json!({"sub": sub, "external_nlba": external_nlba}),
        ),
        Finding::LogMapOutOfRange {
            lane,
            sub,
            field,
            value,
            internal_nlba,
            ..
        } => (
            "log_map_out_of_range",
            Some(lane),
            None,
            json!({"sub": sub, "field": field.to_string(), "value": value, "internal_nlba": internal_nlba}),
        ),
        Finding::PendingMapUpdate {
            lane,
            lba,
            old_postmap,
            new_postmap,
            ..
        } => (
            "pending_map_update",
            Some(lane),
            Some(lba),
            json!({"old_postmap": old_postmap, "new_postmap": new_postmap}),
        ),
        Finding::BlockReferencedTwice {
            block,
            first,
            second,
            ..
        } => (
            "block_referenced_twice",
            match second {
                Referrer::Lane { lane } => Some(lane),
                Referrer::Map { .. } => None,
            },
            match second {
                Referrer::Map { lba } => Some(lba),
                Referrer::Lane { .. } => None,
            },
            json!({"block": block, "first": first.map(referrer_json), "second": referrer_json(second)}),
        ),
        Finding::BlockUnreferenced { block, .. } => {
            ("block_unreferenced", None, None, json!({"block": block}))
        }
        _ => ("other", None, None, json!({})),
    };
    FindingJson {
        kind,
        severity: severity_name(f.severity()),
        arena: f.arena(),
        lane,
        lba,
        message: f.to_string(),
        values,
    }
}

/// A finding in `btt check --json`.
#[derive(Debug, Serialize)]
pub struct FindingJson {
    kind: &'static str,
    severity: &'static str,
    arena: Option<u32>,
    lane: Option<u32>,
    lba: Option<u32>,
    message: String,
    values: Value,
}

/// `btt check --json`.
#[derive(Debug, Serialize)]
struct CheckJson {
    file: String,
    version: String,
    namespace_size: u64,
    parent_uuid: String,
    arenas: u32,
    clean: bool,
    errors: u64,
    warnings: u64,
    notes: u64,
    passes: u64,
    findings: Vec<FindingJson>,
    repair: RepairJson,
}

/// The repair part of [`CheckJson`].
#[derive(Debug, Serialize)]
struct RepairJson {
    planned: Vec<WriteJson>,
    unrecoverable: Option<String>,
    written: bool,
}

/// One byte range of `btt create`.
#[derive(Debug, Serialize)]
struct RangeJson {
    arena: u32,
    area: String,
    offset: u64,
    len: u64,
}

/// `btt create --json`.
#[derive(Debug, Serialize)]
struct CreateJson {
    file: String,
    version: String,
    uuid: String,
    parent_uuid: String,
    sector_size: u32,
    namespace_size: u64,
    arenas: u32,
    nlba: u64,
    logical_block_size: u32,
    dev_size: u64,
    written: bool,
    plan: Vec<RangeJson>,
}

/// A referrer of a block: `{"map_lba": N}` (a map entry) or `{"lane": N}` (a free block).
fn referrer_json(r: Referrer) -> Value {
    match r {
        Referrer::Map { lba } => json!({ "map_lba": lba }),
        Referrer::Lane { lane } => json!({ "lane": lane }),
    }
}

fn copy_name(c: check::InfoCopy) -> &'static str {
    match c {
        check::InfoCopy::Primary => "primary",
        check::InfoCopy::Backup => "backup",
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Note => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// One planned write of a repair, for JSON.
#[derive(Debug, Serialize)]
struct WriteJson {
    arena: u32,
    target: &'static str,
    offset: u64,
    len: u32,
    source: u64,
    reason: String,
}

fn plan_json(plan: &RepairPlan) -> Vec<WriteJson> {
    plan.writes()
        .map(|w| WriteJson {
            arena: w.arena,
            target: copy_name(w.target),
            offset: w.offset,
            len: w.len,
            source: w.source,
            reason: w.reason.to_string(),
        })
        .collect()
}

fn check_cmd(args: CheckArgs, ctx: &Ctx) -> Result<(), Failure> {
    let cmd = "btt check";
    let Opened { mut image, ns } = open(cmd, &args.at)?;
    let path = image.path.clone();
    let io_fail = |e: check::CheckError<std::io::Error>| match e {
        check::CheckError::Io {
            offset,
            len,
            source,
        } => Failure::usage(format!(
            "{cmd}: {path}: cannot read {len} bytes at {offset:#x}: {}",
            io_text(&source)
        )),
        other => Failure::usage(format!("{cmd}: {path}: {other}")),
    };
    let sizes = check::sizes(&mut image, &ns).map_err(io_fail)?;
    // One pass per arena: one bit per internal block of the largest arena.
    let mut bitmap = vec![0u8; sizes.bitmap_single_pass.max(1)];
    let mut io = vec![0u8; check::RECOMMENDED_IO_BYTES];
    let mut findings: Vec<Finding> = Vec::new();
    let summary = {
        let progress = Progress::bytes(ctx, sizes.metadata_bytes, format!("checking {path}"));
        let mut last = 0u64;
        let result = check::check(
            &mut image,
            &ns,
            Scratch {
                bitmap: &mut bitmap,
                io: &mut io,
            },
            |f| findings.push(f),
            |p| {
                // The total grows when a window needs its exact pass.
                progress.grow_to(p.total);
                progress.inc(p.done.saturating_sub(last));
                last = p.done;
            },
        );
        progress.finish();
        result.map_err(io_fail)?
    };
    let plan = repair::plan_repair(&mut image, &ns).map_err(|e| match e {
        repair::RepairError::Io {
            offset,
            len,
            source,
        } => Failure::usage(format!(
            "{cmd}: {path}: cannot read {len} bytes at {offset:#x}: {}",
            io_text(&source)
        )),
        other => Failure::usage(format!("{cmd}: {path}: cannot plan the repair: {other}")),
    })?;
    let clean = summary.is_clean();
    let will_write = args.repair && !plan.is_empty();
    if !args.json {
        // The report and the plan first; the write follows.
        output::text(&check_text(
            &path, &ns, &summary, &findings, &plan, will_write,
        ));
    }
    let mut written = false;
    if will_write {
        drop(image);
        let (mut file, _) = open_rw(cmd, &path)?;
        repair::apply(&plan, &mut file)
            .map_err(|e| Failure::usage(format!("{cmd}: {path}: repair not written: {e}")))?;
        file.0
            .sync_data()
            .map_err(|e| Failure::usage(format!("{cmd}: {path}: {}", io_text(&e))))?;
        written = true;
        if !args.json {
            output::line(&format!(
                "wrote {} info block(s) ({} bytes); run btt check again to see the result",
                plan.len(),
                plan.writes().map(|w| u64::from(w.len)).sum::<u64>()
            ));
        }
    }
    if args.json {
        output::json(&CheckJson {
            file: path.clone(),
            version: ns.version.to_string(),
            namespace_size: ns.size,
            parent_uuid: ns.uuid.to_string(),
            arenas: summary.arenas,
            clean,
            errors: summary.errors,
            warnings: summary.warnings,
            notes: summary.notes,
            passes: summary.passes,
            findings: findings.iter().map(finding_json).collect(),
            repair: RepairJson {
                planned: plan_json(&plan),
                unrecoverable: plan.unrecoverable.map(|f| f.to_string()),
                written,
            },
        })?;
    }
    if clean {
        return Ok(());
    }
    let first = findings
        .iter()
        .find(|f| f.severity() != Severity::Note)
        .map(ToString::to_string)
        .unwrap_or_default();
    let count = summary.errors.saturating_add(summary.warnings);
    let tail = if written {
        format!("; repaired {} info block(s)", plan.len())
    } else {
        String::new()
    };
    Err(Failure::negative(format!(
        "{cmd}: {path}: {count} finding(s): {first}{tail}"
    )))
}

/// The text report of `btt check`: the summary, every finding, and the repair plan.
fn check_text(
    path: &str,
    ns: &Namespace,
    summary: &check::Summary,
    findings: &[Finding],
    plan: &RepairPlan,
    will_write: bool,
) -> String {
    let mut out = format!(
        "{path}: BTT {} ({} arena{}), {} error(s), {} warning(s), {} note(s)\n",
        ns.version,
        summary.arenas,
        if summary.arenas == 1 { "" } else { "s" },
        summary.errors,
        summary.warnings,
        summary.notes
    );
    for f in findings {
        out += &format!("  {}: {f}\n", severity_name(f.severity()));
    }
    if !plan.is_empty() {
        out += if will_write {
            "repair (writing these bytes, and only these):\n"
        } else {
            "repair (dry run, nothing written; --repair writes it):\n"
        };
        for w in plan.writes() {
            out += &format!("  {w}\n");
        }
    }
    if let Some(u) = plan.unrecoverable {
        out += &format!("  not repairable: {u}\n");
    }
    out
}

// ---------------------------------------------------------------------------------------
// create

fn random_uuid() -> Result<Uuid, Failure> {
    let mut b = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Failure::usage(format!("cannot read /dev/urandom: {}", io_text(&e))))?;
    // RFC 4122 version 4, variant 1.
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(Uuid(b))
}

fn create(args: CreateArgs, _ctx: &Ctx) -> Result<(), Failure> {
    let cmd = "btt create";
    let path = &args.path;
    let (mut file, len) = open_rw(cmd, path)?;
    let version = args.version.unwrap_or(BttVersion::V1_1);
    let parent = args.parent_uuid.unwrap_or(Uuid::NIL);
    let uuid = match args.uuid {
        Some(u) => u,
        None => random_uuid()?,
    };
    let request = LayoutRequest {
        namespace_size: len,
        lbasize: args.sector_size,
        version,
        uuid,
        parent_uuid: parent,
    };
    let plan =
        layout::solve(&request).map_err(|e| Failure::usage(format!("{cmd}: {path}: {e}")))?;
    // Any format's valid metadata (a BTT at either placement, whatever its parent uuid, or a
    // pfn/dax block) is refused without --force, in a dry run too: it says what the real run
    // would do.
    if !args.force {
        if let Some(what) = crate::image::existing_metadata(&file.0) {
            return Err(Failure::usage(format!(
                "{cmd}: {path} already holds {what} (use --force to overwrite)"
            )));
        }
    }
    let ranges: Vec<_> = plan.plan().collect();
    if !args.json {
        // The plan first; the write follows.
        let mut out = format!(
            "{} BTT {version} on {path} ({len} bytes): the kernel's layout and these byte ranges\n",
            if args.dry_run {
                "plan (dry run, nothing written):"
            } else {
                "writing"
            }
        );
        out += &format!("  uuid            {uuid}\n");
        out += &format!("  parent_uuid     {parent}\n");
        out += &format!(
            "  sector_size     {} (logical blocks of {})\n",
            args.sector_size,
            plan.sector_size()
        );
        out += &format!("  arenas          {}\n", plan.arena_count());
        out += &format!("  nlba            {}\n", plan.nlba());
        out += &format!(
            "  dev_size        {} (the btt device's size)\n",
            plan.capacity()
        );
        for r in &ranges {
            out += &format!(
                "  arena {:<3} {:<18} {:#014x} +{:#x}\n",
                r.arena,
                r.area.to_string(),
                r.offset,
                r.len
            );
        }
        output::text(&out);
    }
    if !args.dry_run {
        layout::create(&mut file, &request)
            .map_err(|e| Failure::usage(format!("{cmd}: {path}: {e}")))?;
        file.0
            .sync_data()
            .map_err(|e| Failure::usage(format!("{cmd}: {path}: {}", io_text(&e))))?;
        if !args.json {
            output::line(&format!(
                "wrote {} bytes in {} ranges",
                ranges.iter().map(|r| r.len).sum::<u64>(),
                ranges.len()
            ));
        }
    }
    if args.json {
        output::json(&CreateJson {
            file: path.clone(),
            version: version.to_string(),
            uuid: uuid.to_string(),
            parent_uuid: parent.to_string(),
            sector_size: args.sector_size,
            namespace_size: len,
            arenas: plan.arena_count(),
            nlba: plan.nlba(),
            logical_block_size: plan.sector_size(),
            dev_size: plan.capacity(),
            written: !args.dry_run,
            plan: ranges
                .iter()
                .map(|r| RangeJson {
                    arena: r.arena,
                    area: r.area.to_string(),
                    offset: r.offset,
                    len: r.len,
                })
                .collect(),
        })?;
    }
    Ok(())
}

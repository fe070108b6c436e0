//! `infoblock compat` (the reader matrix) and `infoblock upgrade` (version changes that never
//! move data).

use std::fs;
use std::io::{Seek, SeekFrom, Write as _};

use nvdimm_infoblock::compat::{
    self, format_version, ClaimedView, FormatVersion, Namespace, Reader, RequiredVersion, Summary,
    UpgradePlan, Verdict,
};
use nvdimm_infoblock::{InfoBlock, Uuid};
use serde::Serialize;

use crate::args::{parse_size, parse_uuid};
use crate::image::{io_text, Image};
use crate::{output, Ctx, Failure};

/// `println!` that stops quietly when stdout is closed (e.g. piped into `head`).
macro_rules! out {
    () => {
        output::line("")
    };
    ($($arg:tt)*) => {
        output::line(&format!($($arg)*))
    };
}

const COMPAT_AFTER_HELP: &str = "\
Exit codes: 0 at least one upstream kernel loads the block; 1 none does (one line on
stderr); 2 a usage or I/O error.";

const UPGRADE_AFTER_HELP: &str = "\
VERSION: 1.0 .. 1.4 (upstream) or 2019-1.3 (the 2019 proposal's v1.3).
Exit codes: 0 the plan holds (and, without --dry-run, was written); 1 it is refused (the
reason on stderr; with --json also in the JSON); 2 a usage or I/O error.";

/// The namespace options of `compat` and `upgrade`.
#[derive(Debug, clap::Args)]
pub struct NamespaceOpts {
    /// A namespace image, a namespace head of at least 8 KiB, or a bare 4096-byte block.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The namespace's physical start (default 4 GiB, where QEMU places the first NVDIMM, as
    /// in the kernel harness).
    #[arg(long, value_name = "ADDR", value_parser = parse_size, default_value = "0x100000000")]
    pub ns_start: u64,
    /// The namespace size (default: the size of PATH).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub ns_size: Option<u64>,
    /// The namespace uuid (default: the block's own parent_uuid).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    pub parent_uuid: Option<Uuid>,
    /// Print a JSON object (keys in docs/cli.md).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `infoblock compat`.
#[derive(Debug, clap::Args)]
#[command(after_help = COMPAT_AFTER_HELP)]
pub struct CompatArgs {
    /// The block and its namespace.
    #[command(flatten)]
    pub ns: NamespaceOpts,
}

/// Arguments of `infoblock upgrade`.
#[derive(Debug, clap::Args)]
#[command(after_help = UPGRADE_AFTER_HELP)]
pub struct UpgradeArgs {
    /// The block and its namespace.
    #[command(flatten)]
    pub ns: NamespaceOpts,
    /// The target format version: 1.0, 1.1, 1.2, 1.3, 1.4 or 2019-1.3.
    #[arg(long, value_name = "VERSION", value_parser = parse_format_version)]
    pub to: FormatVersion,
    /// Show the plan, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_format_version(text: &str) -> Result<FormatVersion, String> {
    FormatVersion::from_name(text).ok_or_else(|| {
        format!("unknown version {text:?} (expected 1.0, 1.1, 1.2, 1.3, 1.4 or 2019-1.3)")
    })
}

struct Input {
    path: String,
    /// Length of the file (a bare 4096-byte block or a namespace image/head).
    len: u64,
    block: InfoBlock,
    ns: Namespace,
}

fn load(opts: &NamespaceOpts, command: &str, ctx: &Ctx) -> Result<Input, Failure> {
    let path = &opts.path;
    let fail = |m: String| Failure::usage(format!("{command}: {m}"));
    let mut image = Image::open(path).map_err(|f| fail(f.message))?;
    // Only the head is needed: the block is at 0 (bare block) or 4096.
    let bytes = image.read_prefix(InfoBlock::HEAD_SIZE as u64, ctx)?;
    let block = InfoBlock::locate(&bytes)
        .map_err(|e| fail(format!("{path}: {e}")))?
        .clone();
    let ns_size = opts.ns_size.unwrap_or(image.len);
    // The namespace the block was written for: its parent uuid, unless --parent-uuid says otherwise.
    let ns_uuid: Uuid = opts.parent_uuid.unwrap_or(block.parent_uuid);
    Ok(Input {
        path: path.clone(),
        ns: Namespace {
            start: opts.ns_start,
            size: ns_size,
            uuid: ns_uuid,
        },
        len: image.len,
        block,
    })
}

/// One `{caveat, detail}` of a reader.
#[derive(Debug, Serialize)]
struct CaveatJson {
    caveat: String,
    detail: String,
}

/// One reader's verdict in `compat --json`.
#[derive(Debug, Serialize)]
struct ReaderJson {
    reader: String,
    verdict: String,
    reason: Option<String>,
    errno: Option<i32>,
    detail: Option<String>,
    data_start: Option<u64>,
    data_size: Option<u64>,
    align: Option<u64>,
    caveats: Vec<CaveatJson>,
}

impl ReaderJson {
    fn new(reader: &Reader, verdict: &Verdict) -> Self {
        Self {
            reader: reader.name().to_string(),
            verdict: verdict.token().to_string(),
            reason: verdict.reason().map(|r| r.token().to_string()),
            errno: verdict.reason().and_then(|r| r.errno()).map(|e| e.code()),
            detail: verdict.reason().map(|r| r.to_string()),
            data_start: verdict.view().map(|v| v.data_start),
            data_size: verdict.view().map(|v| v.data_size),
            align: verdict.view().map(|v| v.align),
            caveats: verdict
                .caveats()
                .iter()
                .map(|c| CaveatJson {
                    caveat: c.token().to_string(),
                    detail: c.to_string(),
                })
                .collect(),
        }
    }
}

/// `{feature, needs}`.
#[derive(Debug, Serialize)]
struct NeedsJson {
    feature: String,
    needs: String,
}

/// `compat --json`.
#[derive(Debug, Serialize)]
struct CompatJson {
    file: String,
    ns_start: u64,
    ns_size: u64,
    version: String,
    format: String,
    required_version: Option<String>,
    features: Vec<String>,
    required_because: Vec<NeedsJson>,
    claimed_faithful: bool,
    claimed_view: String,
    min_version: Option<u16>,
    readers: Vec<ReaderJson>,
}

/// `infoblock compat PATH [--ns-start ADDR] [--ns-size SIZE] [--parent-uuid UUID] [--json]`.
///
/// Exit code 0 when at least one kernel reader loads the block, 1 otherwise.
pub fn run_compat(args: CompatArgs, ctx: &Ctx) -> Result<(), Failure> {
    let input = load(&args.ns, "compat", ctx)?;
    let block = &input.block;
    let required = RequiredVersion::of_block(block);
    let claimed = ClaimedView::of_block(block);
    let intent = compat::Intent::of(block);
    let verdicts: Vec<(Reader, Verdict)> = Reader::KNOWN
        .iter()
        .map(|r| (*r, compat::check(block, &input.ns, r)))
        .collect();
    let any_kernel_loads = verdicts
        .iter()
        .any(|(r, v)| matches!(r, Reader::Kernel(_)) && v.loads());
    if args.ns.json {
        output::json(&CompatJson {
            file: input.path.clone(),
            ns_start: input.ns.start,
            ns_size: input.ns.size,
            version: block.version().to_string(),
            format: format_version(block).name().to_owned(),
            required_version: required.version.map(|v| v.name().to_owned()),
            features: required
                .features
                .iter()
                .map(|f| f.name().to_owned())
                .collect(),
            required_because: required
                .reasons()
                .map(|(f, v)| NeedsJson {
                    feature: f.name().to_owned(),
                    needs: v.name().to_owned(),
                })
                .collect(),
            claimed_faithful: claimed.is_faithful(),
            claimed_view: claimed.to_string(),
            min_version: intent.min_version,
            readers: verdicts
                .iter()
                .map(|(r, v)| ReaderJson::new(r, v))
                .collect(),
        })?;
    } else {
        out!(
            "{}: v{} ({})",
            input.path,
            block.version(),
            format_version(block)
        );
        out!(
            "namespace: start {:#x} size {:#x}",
            input.ns.start,
            input.ns.size
        );
        let names: Vec<&str> = required.features.iter().map(|f| f.name()).collect();
        out!(
            "features: {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
        out!("required version: {required}");
        out!("claimed version: {claimed}");
        if let Some(m) = intent.min_version {
            out!("min_version: {m}");
        }
        out!();
        out!(
            "{:<16} {:<9} {:<18} {:<18} detail",
            "reader",
            "verdict",
            "data_start",
            "data_size"
        );
        for (reader, verdict) in &verdicts {
            let (start, size) = verdict.view().map_or(("-".into(), "-".into()), |v| {
                (
                    format!("{:#x}", v.data_start),
                    format!("{:#x}", v.data_size),
                )
            });
            let mut detail: Vec<String> = verdict
                .reason()
                .map(|r| r.to_string())
                .into_iter()
                .collect();
            detail.extend(verdict.caveats().iter().map(ToString::to_string));
            let line = format!(
                "{:<16} {:<9} {:<18} {:<18} {}",
                reader.name().to_string(),
                verdict.token(),
                start,
                size,
                detail.join("; ")
            );
            out!("{}", line.trim_end());
        }
    }
    if any_kernel_loads {
        Ok(())
    } else {
        Err(Failure::negative(format!(
            "compat: {}: no upstream kernel loads the block",
            input.path
        )))
    }
}

/// `before`/`after` of `upgrade --json`.
#[derive(Debug, Serialize)]
struct SummaryJson {
    version: String,
    reader: String,
    dataoff: u64,
    data_start: Option<u64>,
    data_size: Option<u64>,
}

impl SummaryJson {
    fn new(s: &Summary) -> Self {
        Self {
            version: s.version.name().to_owned(),
            reader: s.reader.name().to_string(),
            dataoff: s.dataoff,
            data_start: s.data_start,
            data_size: s.data_size,
        }
    }
}

/// One reader of `upgrade --json`.
#[derive(Debug, Serialize)]
struct ChangeJson {
    reader: String,
    verdict: String,
    before: String,
    after: String,
    reason: Option<String>,
    data_start: Option<u64>,
    data_size: Option<u64>,
    gains: bool,
    loses: bool,
    fixed: bool,
}

/// `upgrade --json`.
#[derive(Debug, Serialize)]
struct UpgradeJson {
    file: String,
    target: String,
    written: bool,
    before: SummaryJson,
    after: SummaryJson,
    gains: Vec<String>,
    loses: Vec<String>,
    fixed: Vec<String>,
    readers: Vec<ChangeJson>,
}

/// `upgrade --json` when the plan is refused.
#[derive(Debug, Serialize)]
struct RefusedJson {
    file: String,
    target: String,
    refused: String,
}

fn plan_json(input: &Input, plan: &UpgradePlan, written: bool) -> UpgradeJson {
    let names = |pred: fn(&compat::ReaderChange) -> bool| -> Vec<String> {
        plan.readers
            .iter()
            .filter(|c| pred(c))
            .map(|c| c.reader.name().to_string())
            .collect()
    };
    UpgradeJson {
        file: input.path.clone(),
        target: plan.target.name().to_owned(),
        written,
        before: SummaryJson::new(&plan.before),
        after: SummaryJson::new(&plan.after),
        gains: names(compat::ReaderChange::gains),
        loses: names(compat::ReaderChange::loses),
        fixed: names(compat::ReaderChange::fixed),
        readers: plan
            .readers
            .iter()
            .map(|c| ChangeJson {
                reader: c.reader.name().to_string(),
                verdict: c.after.token().to_string(),
                before: c.before.token().to_string(),
                after: c.after.token().to_string(),
                reason: c.after.reason().map(|r| r.token().to_string()),
                data_start: c.after.view().map(|v| v.data_start),
                data_size: c.after.view().map(|v| v.data_size),
                gains: c.gains(),
                loses: c.loses(),
                fixed: c.fixed(),
            })
            .collect(),
    }
}

/// `infoblock upgrade PATH --to VERSION [--ns-start ADDR] [--ns-size SIZE] [--dry-run]
/// [--json]`.
///
/// Exit code 0 when the plan holds (and, without `--dry-run`, was written), 1 when it is
/// refused, 2 on usage or I/O errors.
pub fn run_upgrade(args: UpgradeArgs, ctx: &Ctx) -> Result<(), Failure> {
    let input = load(&args.ns, "upgrade", ctx)?;
    let target = args.to;
    let block = &input.block;
    let plan = match compat::plan_upgrade(block, &input.ns, target) {
        Ok(plan) => plan,
        Err(e) => {
            if args.ns.json {
                output::json(&RefusedJson {
                    file: input.path.clone(),
                    target: target.name().to_owned(),
                    refused: e.to_string(),
                })?;
            }
            return Err(Failure::negative(format!(
                "{}: upgrade to {target} refused: {e}",
                input.path
            )));
        }
    };
    let written = if args.dry_run {
        false
    } else {
        write_block(&input, &plan.block)?;
        true
    };
    if args.ns.json {
        output::json(&plan_json(&input, &plan, written))?;
    } else {
        print_plan(&input, &plan, written);
    }
    Ok(())
}

fn write_block(input: &Input, new_block: &InfoBlock) -> Result<(), Failure> {
    let fail = |e: String| Failure::usage(format!("upgrade: {}: {e}", input.path));
    // Check again that the new block parses in its own dialect before touching the file.
    let bytes = zerocopy::IntoBytes::as_bytes(new_block);
    let parsed = InfoBlock::from_bytes(bytes)
        .map_err(|e| fail(format!("internal: new block does not parse: {e}")))?;
    let options = compat::dialect_options(parsed, 4096, true);
    nvdimm_infoblock::PfnInfo::parse(parsed, &options)
        .map_err(|e| fail(format!("internal: new block does not parse: {e}")))?;
    let offset = if input.len == InfoBlock::SIZE as u64 {
        0
    } else {
        InfoBlock::NAMESPACE_OFFSET
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .open(&input.path)
        .map_err(|e| fail(io_text(&e)))?;
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(io_text(&e)))
}

fn fmt_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:#x}"))
}

fn print_plan(input: &Input, plan: &UpgradePlan, written: bool) {
    let b = &plan.before;
    let a = &plan.after;
    out!(
        "{}: {} -> {}{}",
        input.path,
        b.version,
        a.version,
        if written { " (written)" } else { " (dry run)" }
    );
    out!(
        "before ({}): dataoff {:#x}, data start {}, size {}",
        b.reader.name(),
        b.dataoff,
        fmt_opt(b.data_start),
        fmt_opt(b.data_size)
    );
    out!(
        "after  ({}): dataoff {:#x}, data start {}, size {}",
        a.reader.name(),
        a.dataoff,
        fmt_opt(a.data_start),
        fmt_opt(a.data_size)
    );
    out!();
    out!(
        "{:<16} {:<9} {:<9} {:<7} detail",
        "reader",
        "before",
        "after",
        "change"
    );
    for c in &plan.readers {
        let change = if c.gains() {
            "gains"
        } else if c.loses() {
            "loses"
        } else if c.fixed() {
            "fixed"
        } else {
            "-"
        };
        let why = c.after.reason().map(|r| r.to_string()).unwrap_or_default();
        let line = format!(
            "{:<16} {:<9} {:<9} {change:<7} {why}",
            c.reader.name().to_string(),
            c.before.token(),
            c.after.token()
        );
        out!("{}", line.trim_end());
    }
}

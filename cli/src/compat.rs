//! `infoblock compat` (the reader matrix) and `infoblock upgrade` (version changes that never
//! move data).

use std::fs;
use std::io::{Seek, SeekFrom, Write as _};
use std::process::ExitCode;

use nvdimm_infoblock::compat::{
    self, format_version, ClaimedView, Features, FormatVersion, Namespace, Reader, RequiredVersion,
    Summary, UpgradePlan, Verdict,
};
use nvdimm_infoblock::{InfoBlock, Uuid};

use crate::args::{parse_size, Args, UsageError};

/// `println!` that stops quietly when stdout is closed (e.g. piped into `head`), instead of
/// panicking on the broken pipe.
macro_rules! out {
    () => {
        out_line(String::new())
    };
    ($($arg:tt)*) => {
        out_line(format!($($arg)*))
    };
}

fn out_line(mut line: String) {
    use std::io::Write as _;
    line.push('\n');
    // A closed stdout is not an error of the command; the exit code still says the verdict.
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}
use crate::json::Json;
use crate::CmdResult;

/// Where the namespace is assumed to be when `--ns-start` is not given: 0x100000000 (4 GiB,
/// where QEMU places the first NVDIMM, as in the kernel harness).
pub const DEFAULT_NS_START: u64 = 0x1_0000_0000;

struct Input {
    path: String,
    /// Length of the file (a bare 4096-byte block or a namespace image/head).
    len: usize,
    block: InfoBlock,
    ns: Namespace,
}

fn load(args: &mut Args, command: &str) -> Result<(Input, Vec<String>), UsageError> {
    let start = args
        .value("--ns-start")?
        .map(|s| parse_size(&s))
        .transpose()?
        .unwrap_or(DEFAULT_NS_START);
    let size = args
        .value("--ns-size")?
        .map(|s| parse_size(&s))
        .transpose()?;
    let uuid = args
        .value("--parent-uuid")?
        .map(|s| crate::args::parse_uuid(&s))
        .transpose()?;
    let rest = std::mem::take(args).finish()?;
    let Some((path, rest)) = rest.split_first() else {
        return Err(UsageError(format!("{command} needs a PATH")));
    };
    let bytes = fs::read(path).map_err(|e| UsageError(format!("{path}: {e}")))?;
    let block = InfoBlock::locate(&bytes)
        .map_err(|e| UsageError(format!("{path}: {e}")))?
        .clone();
    let ns_size = match size {
        Some(s) => s,
        None => u64::try_from(bytes.len()).unwrap_or(u64::MAX),
    };
    // The namespace the block was written for: its parent uuid, unless --parent-uuid says otherwise.
    let ns_uuid: Uuid = uuid.unwrap_or(block.parent_uuid);
    Ok((
        Input {
            path: path.clone(),
            ns: Namespace {
                start,
                size: ns_size,
                uuid: ns_uuid,
            },
            len: bytes.len(),
            block,
        },
        rest.to_vec(),
    ))
}

fn features_json(features: Features) -> Json {
    Json::Arr(features.iter().map(|f| Json::from(f.name())).collect())
}

fn reader_json(reader: &Reader, verdict: &Verdict) -> Json {
    let mut o = Json::obj()
        .with("reader", reader.name().to_string())
        .with("verdict", verdict.token())
        .with("reason", verdict.reason().map(|r| r.token()))
        .with(
            "errno",
            verdict.reason().and_then(|r| r.errno()).map(|e| e.code()),
        )
        .with("detail", verdict.reason().map(|r| r.to_string()))
        .with("data_start", verdict.view().map(|v| v.data_start))
        .with("data_size", verdict.view().map(|v| v.data_size))
        .with("align", verdict.view().map(|v| v.align));
    let caveats: Vec<Json> = verdict
        .caveats()
        .iter()
        .map(|c| {
            Json::obj()
                .with("caveat", c.token())
                .with("detail", c.to_string())
        })
        .collect();
    o.set("caveats", Json::Arr(caveats));
    o
}

fn required_name(required: &RequiredVersion) -> Option<&'static str> {
    required.version.map(FormatVersion::name)
}

/// `infoblock compat PATH [--ns-start ADDR] [--ns-size SIZE] [--parent-uuid UUID] [--json]`.
///
/// Exit code 0 when at least one kernel reader loads the block, 1 otherwise.
pub fn run_compat(argv: Vec<String>) -> CmdResult {
    let mut args = Args::new(argv);
    let json = args.flag("--json");
    let (input, rest) = load(&mut args, "compat")?;
    if !rest.is_empty() {
        return Err(UsageError(format!("compat takes one PATH, got {rest:?}")));
    }
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
    if json {
        let out = Json::obj()
            .with("file", input.path.as_str())
            .with("ns_start", input.ns.start)
            .with("ns_size", input.ns.size)
            .with("version", block.version().to_string())
            .with("format", format_version(block).name())
            .with("required_version", required_name(&required))
            .with("features", features_json(required.features))
            .with(
                "required_because",
                Json::Arr(
                    required
                        .reasons()
                        .map(|(f, v)| {
                            Json::obj()
                                .with("feature", f.name())
                                .with("needs", v.name())
                        })
                        .collect(),
                ),
            )
            .with("claimed_faithful", claimed.is_faithful())
            .with("claimed_view", claimed.to_string())
            .with("min_version", intent.min_version)
            .with(
                "readers",
                Json::Arr(verdicts.iter().map(|(r, v)| reader_json(r, v)).collect()),
            );
        out!("{}", out.pretty());
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
    Ok(if any_kernel_loads {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn summary_json(s: &Summary) -> Json {
    Json::obj()
        .with("version", s.version.name())
        .with("reader", s.reader.name().to_string())
        .with("dataoff", s.dataoff)
        .with("data_start", s.data_start)
        .with("data_size", s.data_size)
}

fn plan_json(input: &Input, plan: &UpgradePlan, written: bool) -> Json {
    let readers: Vec<Json> = plan
        .readers
        .iter()
        .map(|c| {
            let name = c.reader.name().to_string();
            Json::obj()
                .with("reader", name)
                .with("verdict", c.after.token())
                .with("before", c.before.token())
                .with("after", c.after.token())
                .with("reason", c.after.reason().map(|r| r.token()))
                .with("data_start", c.after.view().map(|v| v.data_start))
                .with("data_size", c.after.view().map(|v| v.data_size))
                .with("gains", c.gains())
                .with("loses", c.loses())
                .with("fixed", c.fixed())
        })
        .collect();
    let names = |pred: fn(&compat::ReaderChange) -> bool| -> Json {
        Json::Arr(
            plan.readers
                .iter()
                .filter(|c| pred(c))
                .map(|c| Json::from(c.reader.name().to_string()))
                .collect(),
        )
    };
    Json::obj()
        .with("file", input.path.as_str())
        .with("target", plan.target.name())
        .with("written", written)
        .with("before", summary_json(&plan.before))
        .with("after", summary_json(&plan.after))
        .with("gains", names(compat::ReaderChange::gains))
        .with("loses", names(compat::ReaderChange::loses))
        .with("fixed", names(compat::ReaderChange::fixed))
        .with("readers", Json::Arr(readers))
}

/// `infoblock upgrade PATH --to VERSION [--ns-start ADDR] [--ns-size SIZE] [--dry-run]
/// [--json]`.
///
/// Exit code 0 when the plan holds (and, without `--dry-run`, was written), 1 when it is
/// refused, 2 on usage or I/O errors.
pub fn run_upgrade(argv: Vec<String>) -> CmdResult {
    let mut args = Args::new(argv);
    let json = args.flag("--json");
    let dry_run = args.flag("--dry-run");
    let to = args
        .value("--to")?
        .ok_or_else(|| UsageError("upgrade needs --to VERSION (1.0..1.4 or 2019-1.3)".into()))?;
    let target = FormatVersion::from_name(&to).ok_or_else(|| {
        UsageError(format!(
            "unknown version {to:?} (expected 1.0, 1.1, 1.2, 1.3, 1.4 or 2019-1.3)"
        ))
    })?;
    let (input, rest) = load(&mut args, "upgrade")?;
    if !rest.is_empty() {
        return Err(UsageError(format!("upgrade takes one PATH, got {rest:?}")));
    }
    let block = &input.block;
    let plan = match compat::plan_upgrade(block, &input.ns, target) {
        Ok(plan) => plan,
        Err(e) => {
            if json {
                let out = Json::obj()
                    .with("file", input.path.as_str())
                    .with("target", target.name())
                    .with("refused", e.to_string());
                out!("{}", out.pretty());
            } else {
                out!("{}: upgrade to {target} refused: {e}", input.path);
            }
            return Ok(ExitCode::from(1));
        }
    };
    let written = if dry_run {
        false
    } else {
        write_block(&input, &plan.block)?;
        true
    };
    if json {
        out!("{}", plan_json(&input, &plan, written).pretty());
    } else {
        print_plan(&input, &plan, written);
    }
    Ok(ExitCode::SUCCESS)
}

fn write_block(input: &Input, new_block: &InfoBlock) -> Result<(), UsageError> {
    // Check again that the new block parses in its own dialect before touching the file.
    let bytes = zerocopy::IntoBytes::as_bytes(new_block);
    let parsed = InfoBlock::from_bytes(bytes)
        .map_err(|e| UsageError(format!("internal: new block does not parse: {e}")))?;
    let options = compat::dialect_options(parsed, 4096, true);
    nvdimm_infoblock::PfnInfo::parse(parsed, &options)
        .map_err(|e| UsageError(format!("internal: new block does not parse: {e}")))?;
    let offset = if input.len == InfoBlock::SIZE {
        0
    } else {
        InfoBlock::NAMESPACE_OFFSET
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .open(&input.path)
        .map_err(|e| UsageError(format!("{}: {e}", input.path)))?;
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(|e| UsageError(format!("{}: {e}", input.path)))
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
